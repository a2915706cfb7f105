import type { MintRequest } from '@sqlwarden/access';
import type { TargetConfig } from '../config/types.js';
import { formatDuration, parseDuration } from '@sqlwarden/yaml';

/** A mint request that cannot be served as asked (HTTP 400, CLI exit 1). */
export class MintRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MintRequestError';
  }
}

/** What a caller asks for, straight from JSON or the command line. */
export interface MintInput {
  agent?: unknown;
  target?: unknown;
  /** "15m" or milliseconds; default auth.defaultTtl */
  ttl?: unknown;
  labels?: unknown;
}

export interface MintLimits {
  targets: readonly TargetConfig[];
  defaultTtlMs: number;
  maxTtlMs: number;
}

/** agent names travel into application_name, audit records and metrics labels */
const AGENT = /^[A-Za-z0-9][A-Za-z0-9_.@/-]{0,63}$/;
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
const MAX_LABELS = 32;
const MAX_LABEL_VALUE = 256;
const MIN_TTL_MS = 1000;

/** Validates a mint request against the configured targets and ttl bounds. */
export function parseMintRequest(input: MintInput, limits: MintLimits): { request: MintRequest; target: TargetConfig } {
  const { agent, target: targetName, ttl, labels } = input;
  if (typeof agent !== 'string' || !AGENT.test(agent)) {
    throw new MintRequestError('agent must be a name of 1 to 64 letters, digits, "_", ".", "@", "/" or "-", starting with a letter or digit');
  }
  if (typeof targetName !== 'string' || targetName === '') throw new MintRequestError(`target is required; known targets: ${knownTargets(limits)}`);
  const target = limits.targets.find((t) => t.name === targetName);
  if (!target) throw new MintRequestError(`unknown target "${targetName}"; known targets: ${knownTargets(limits)}`);
  const ttlMs = parseTtl(ttl, limits);
  return { request: { agent, target: target.name, ttlMs, labels: parseLabels(labels) }, target };
}

function knownTargets(limits: MintLimits): string {
  return limits.targets.length ? limits.targets.map((t) => t.name).join(', ') : '(none configured)';
}

function parseTtl(ttl: unknown, limits: MintLimits): number {
  if (ttl === undefined || ttl === null) return limits.defaultTtlMs;
  if (typeof ttl !== 'string' && typeof ttl !== 'number') throw new MintRequestError('ttl must be a duration like "15m" or a number of milliseconds');
  let ms: number;
  try {
    ms = parseDuration(ttl);
  } catch (err) {
    throw new MintRequestError(`ttl: ${(err as Error).message}`);
  }
  if (ms < MIN_TTL_MS) throw new MintRequestError(`ttl must be at least ${formatDuration(MIN_TTL_MS)}`);
  if (ms > limits.maxTtlMs) throw new MintRequestError(`ttl ${formatDuration(ms)} exceeds the maximum of ${formatDuration(limits.maxTtlMs)} (auth.maxTtl)`);
  return ms;
}

function parseLabels(labels: unknown): Record<string, string> {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== 'object' || Array.isArray(labels)) throw new MintRequestError('labels must be an object of string values');
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > MAX_LABELS) throw new MintRequestError(`at most ${MAX_LABELS} labels are allowed`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!LABEL_KEY.test(k)) throw new MintRequestError(`label name "${k}" must be 1 to 63 letters, digits, "_", "." or "-", starting with a letter or "_"`);
    if (typeof v !== 'string') throw new MintRequestError(`label "${k}" must have a string value`);
    // eslint-disable-next-line no-control-regex
    if (v.length > MAX_LABEL_VALUE || /[\u0000-\u001f\u007f]/.test(v)) throw new MintRequestError(`label "${k}" must be at most ${MAX_LABEL_VALUE} printable characters`);
    out[k] = v;
  }
  return out;
}
