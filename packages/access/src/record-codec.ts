/**
 * Serialises credential records for a shared store, and parses them back
 * defensively: a record that does not have exactly the expected shape is
 * treated as absent (fail closed), never half-trusted.
 */
import { decodeBase64Strict, decodeHexStrict } from './encoding.js';
import { isCredentialId, userForCredentialId } from './mint.js';
import { MAX_SCRAM_ITERATIONS } from './scram.js';
import type { CredentialRecord, MysqlVerifiers, ScramVerifier } from './types.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isBase64Of(v: unknown, bytes: number | 'any'): v is string {
  if (typeof v !== 'string') return false;
  const b = decodeBase64Strict(v);
  return b !== null && (bytes === 'any' ? b.length > 0 : b.length === bytes);
}

function parseScram(v: unknown): ScramVerifier | null {
  if (!isObj(v)) return null;
  const { iterations, salt, storedKey, serverKey } = v;
  if (typeof iterations !== 'number' || !Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS) return null;
  if (!isBase64Of(salt, 'any') || !isBase64Of(storedKey, 32) || !isBase64Of(serverKey, 32)) return null;
  return { iterations, salt, storedKey, serverKey };
}

function parseMysql(v: unknown): MysqlVerifiers | null {
  if (!isObj(v)) return null;
  const { nativeSha1Sha1, sha256Sha256 } = v;
  if (typeof nativeSha1Sha1 !== 'string' || decodeHexStrict(nativeSha1Sha1, 20) === null) return null;
  if (typeof sha256Sha256 !== 'string' || decodeHexStrict(sha256Sha256, 32) === null) return null;
  return { nativeSha1Sha1, sha256Sha256 };
}

function parseLabels(v: unknown): Record<string, string> | null {
  if (!isObj(v)) return null;
  const entries = Object.entries(v);
  for (const [, value] of entries) if (typeof value !== 'string') return null;
  return Object.fromEntries(entries) as Record<string, string>;
}

export function encodeRecord(record: CredentialRecord): string {
  const { id, user, agent, labels, target, createdAt, expiresAt, scram, mysql } = record;
  return JSON.stringify({ v: 1, id, user, agent, labels, target, createdAt, expiresAt, scram, mysql });
}

export function decodeRecord(text: string): CredentialRecord | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(raw) || raw.v !== 1) return null;
  const { id, user, agent, target, createdAt, expiresAt } = raw;
  if (typeof id !== 'string' || !isCredentialId(id) || user !== userForCredentialId(id)) return null;
  if (typeof agent !== 'string' || typeof target !== 'string') return null;
  if (!isTime(createdAt) || !isTime(expiresAt) || expiresAt < createdAt) return null;
  const labels = parseLabels(raw.labels);
  const scram = parseScram(raw.scram);
  const mysql = parseMysql(raw.mysql);
  if (labels === null || scram === null || mysql === null) return null;
  return { id, user, agent, labels, target, createdAt, expiresAt, scram, mysql };
}
