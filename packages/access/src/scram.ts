/**
 * SCRAM-SHA-256 verifiers (RFC 5802 / RFC 7677) as PostgreSQL stores them.
 * The server-side exchange lives in scram-exchange.ts.
 *
 * Passwords are used as their UTF-8 bytes without SASLprep. PostgreSQL applies
 * SASLprep when the password is valid for it and falls back to the raw bytes
 * otherwise; for the ASCII passwords sqlwarden mints both are identical.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { decodeBase64Strict } from './encoding.js';
import { ScramError } from './errors.js';
import { safeEqual } from './safe-equal.js';
import type { ScramVerifier } from './types.js';

export const DEFAULT_SCRAM_ITERATIONS = 4096;
/** RFC 7677 asks for at least 4096. */
export const MIN_SCRAM_ITERATIONS = 4096;
/** Bounds the work a (corrupted) record can make us do; note node-postgres refuses more than 100000 by default. */
export const MAX_SCRAM_ITERATIONS = 1_000_000;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/** A verifier with its fields decoded to bytes. */
export interface DecodedScramVerifier {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** Verifiers made by fakeScramVerifier: no password opens them. */
const fakeVerifiers = new WeakSet<ScramVerifier>();

export function hmacSha256(key: Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function assertScramIterations(iterations: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < MIN_SCRAM_ITERATIONS || iterations > MAX_SCRAM_ITERATIONS) {
    throw new RangeError(`SCRAM iterations must be an integer between ${MIN_SCRAM_ITERATIONS} and ${MAX_SCRAM_ITERATIONS}`);
  }
}

function saltedPassword(password: string, salt: Uint8Array, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, KEY_BYTES, 'sha256');
}

function verifierFromSaltedPassword(salted: Buffer, salt: Buffer, iterations: number): ScramVerifier {
  const clientKey = hmacSha256(salted, 'Client Key');
  return {
    iterations,
    salt: salt.toString('base64'),
    storedKey: sha256(clientKey).toString('base64'),
    serverKey: hmacSha256(salted, 'Server Key').toString('base64'),
  };
}

/** SaltedPassword = PBKDF2-SHA256(password, random 16-byte salt, iterations); keeps StoredKey and ServerKey. */
export function makeScramVerifier(password: string, iterations: number = DEFAULT_SCRAM_ITERATIONS): ScramVerifier {
  assertScramIterations(iterations);
  const salt = randomBytes(SALT_BYTES);
  return verifierFromSaltedPassword(saltedPassword(password, salt, iterations), salt, iterations);
}

/**
 * A stand-in verifier for a user that does not exist, so that the exchange
 * looks the same as for a real user with a wrong password. The salt is
 * HMAC(key, user): stable across attempts, unpredictable without `key`.
 * Pass the same iteration count real verifiers use. An exchange over it
 * always fails at the proof.
 */
export function fakeScramVerifier(user: string, key: Buffer, iterations: number = DEFAULT_SCRAM_ITERATIONS): ScramVerifier {
  if (key.length < 16) throw new RangeError('fake verifier key must be at least 16 bytes');
  assertScramIterations(iterations);
  const derive = (label: string): Buffer => hmacSha256(key, `sqlwarden-fake-scram:${label}:${user}`);
  const verifier: ScramVerifier = {
    iterations,
    salt: derive('salt').subarray(0, SALT_BYTES).toString('base64'),
    storedKey: derive('stored-key').toString('base64'),
    serverKey: derive('server-key').toString('base64'),
  };
  fakeVerifiers.add(verifier);
  return verifier;
}

export function isFakeScramVerifier(verifier: ScramVerifier): boolean {
  return fakeVerifiers.has(verifier);
}

/** Checks shape and bounds; throws ScramError('invalid_verifier') for anything unusable. */
export function decodeScramVerifier(verifier: ScramVerifier): DecodedScramVerifier {
  const { iterations } = verifier;
  const salt = typeof verifier.salt === 'string' ? decodeBase64Strict(verifier.salt) : null;
  const storedKey = typeof verifier.storedKey === 'string' ? decodeBase64Strict(verifier.storedKey) : null;
  const serverKey = typeof verifier.serverKey === 'string' ? decodeBase64Strict(verifier.serverKey) : null;
  if (
    !Number.isSafeInteger(iterations) ||
    iterations < 1 ||
    iterations > MAX_SCRAM_ITERATIONS ||
    salt === null ||
    salt.length === 0 ||
    storedKey?.length !== KEY_BYTES ||
    serverKey?.length !== KEY_BYTES
  ) {
    throw new ScramError('invalid_verifier', 'SCRAM verifier is malformed');
  }
  return { iterations, salt, storedKey, serverKey };
}

/** For cleartext password auth against a SCRAM verifier (constant-time; false for fake verifiers). */
export function verifyCleartextAgainstScram(password: string, verifier: ScramVerifier): boolean {
  const v = decodeScramVerifier(verifier);
  const salted = saltedPassword(password, v.salt, v.iterations);
  const storedKey = sha256(hmacSha256(salted, 'Client Key'));
  const match = safeEqual(storedKey, v.storedKey);
  return match && !isFakeScramVerifier(verifier);
}
