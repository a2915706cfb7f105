/**
 * Minting, shared by every store: validates the request, draws the secret and
 * derives the verifiers. The password is returned once and never kept.
 */
import { randomBytes } from 'node:crypto';
import { InvalidMintRequestError } from './errors.js';
import { makeMysqlVerifiers } from './mysql-auth.js';
import { DEFAULT_SCRAM_ITERATIONS, makeScramVerifier } from './scram.js';
import type { CredentialRecord, MintRequest, MintedCredential } from './types.js';

export const MIN_TTL_MS = 1000;
export const DEFAULT_MAX_TTL_MS = 24 * 60 * 60 * 1000;
export const MAX_LABELS = 32;
export const MAX_LABEL_VALUE_LENGTH = 256;

const USER_PREFIX = 'sw_';
const ID_BYTES = 8;
const PASSWORD_BYTES = 32;
const NAME = /^[A-Za-z0-9._:@/-]{1,128}$/;
const LABEL_KEY = /^[a-zA-Z_][a-zA-Z0-9_.-]{0,62}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const CREDENTIAL_USER = /^sw_[0-9a-f]{16}$/;
const CREDENTIAL_ID = /^[0-9a-f]{16}$/;

export interface MintOptions {
  /** SCRAM iteration count (default 4096). */
  iterations?: number;
  /** Longest ttl accepted (default 24h). */
  maxTtlMs?: number;
  /** Creation time, epoch ms (default Date.now()). */
  now?: number;
}

/** True when `user` has the shape of a minted user name (`sw_` + 16 hex). */
export function isCredentialUser(user: string): boolean {
  return CREDENTIAL_USER.test(user);
}

export function isCredentialId(id: string): boolean {
  return CREDENTIAL_ID.test(id);
}

export function userForCredentialId(id: string): string {
  return USER_PREFIX + id;
}

function validateName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidMintRequestError(field, 'must be 1-128 characters of A-Z a-z 0-9 . _ : @ / -');
  }
  return value;
}

function validateLabels(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidMintRequestError('labels', 'must be an object of string values');
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_LABELS) throw new InvalidMintRequestError('labels', `at most ${MAX_LABELS} labels`);
  for (const [key, v] of entries) {
    if (!LABEL_KEY.test(key)) throw new InvalidMintRequestError('labels', 'keys must match ^[a-zA-Z_][a-zA-Z0-9_.-]{0,62}$');
    if (typeof v !== 'string' || v.length > MAX_LABEL_VALUE_LENGTH || CONTROL.test(v)) {
      throw new InvalidMintRequestError('labels', `values must be strings of at most ${MAX_LABEL_VALUE_LENGTH} characters without control characters`);
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays a plain label
  return Object.fromEntries(entries) as Record<string, string>;
}

export function assertMaxTtl(maxTtlMs: number): void {
  if (!Number.isSafeInteger(maxTtlMs) || maxTtlMs < MIN_TTL_MS) throw new RangeError(`maxTtlMs must be an integer >= ${MIN_TTL_MS}`);
}

/** Validates an untrusted request (e.g. from the admin API) and returns a normalised copy. */
export function validateMintRequest(req: unknown, maxTtlMs: number = DEFAULT_MAX_TTL_MS): MintRequest {
  assertMaxTtl(maxTtlMs);
  if (typeof req !== 'object' || req === null) throw new InvalidMintRequestError('request', 'must be an object');
  const r = req as Record<string, unknown>;
  const agent = validateName('agent', r.agent);
  const target = validateName('target', r.target);
  const ttlMs = r.ttlMs;
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < MIN_TTL_MS || ttlMs > maxTtlMs) {
    throw new InvalidMintRequestError('ttlMs', `must be an integer between ${MIN_TTL_MS} and ${maxTtlMs}`);
  }
  return { agent, target, ttlMs, labels: validateLabels(r.labels) };
}

/** Validates `req` and mints a credential: random id and password, verifiers, times. */
export function mintCredential(req: MintRequest, opts: MintOptions = {}): MintedCredential {
  const valid = validateMintRequest(req, opts.maxTtlMs ?? DEFAULT_MAX_TTL_MS);
  const id = randomBytes(ID_BYTES).toString('hex');
  const password = randomBytes(PASSWORD_BYTES).toString('base64url');
  const createdAt = opts.now ?? Date.now();
  const record: CredentialRecord = {
    id,
    user: userForCredentialId(id),
    agent: valid.agent,
    labels: valid.labels ?? {},
    target: valid.target,
    createdAt,
    expiresAt: createdAt + valid.ttlMs,
    scram: makeScramVerifier(password, opts.iterations ?? DEFAULT_SCRAM_ITERATIONS),
    mysql: makeMysqlVerifiers(password),
  };
  return { record, password };
}
