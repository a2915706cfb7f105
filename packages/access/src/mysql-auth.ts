/**
 * MySQL password verifiers and checks. The store keeps only
 *  - SHA1(SHA1(pw))      for mysql_native_password, and
 *  - SHA256(SHA256(pw))  for caching_sha2_password,
 * from which the password cannot be recovered. Every comparison is constant-time.
 */
import { createHash } from 'node:crypto';
import { decodeHexStrict } from './encoding.js';
import { safeEqual } from './safe-equal.js';
import type { MysqlVerifiers } from './types.js';

/** Length of the scramble (auth-plugin-data) both plugins use. */
export const MYSQL_SCRAMBLE_LENGTH = 20;
const SHA1_BYTES = 20;
const SHA256_BYTES = 32;

function sha1(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

function checkScramble(scramble: Buffer): void {
  if (scramble.length !== MYSQL_SCRAMBLE_LENGTH) throw new RangeError(`MySQL scramble must be ${MYSQL_SCRAMBLE_LENGTH} bytes`);
}

export function makeMysqlVerifiers(password: string): MysqlVerifiers {
  const pw = Buffer.from(password, 'utf8');
  return {
    nativeSha1Sha1: sha1(sha1(pw)).toString('hex'),
    sha256Sha256: sha256(sha256(pw)).toString('hex'),
  };
}

/**
 * mysql_native_password: the client sends SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
 * Recovers SHA1(pw) and checks that its SHA1 is the stored value.
 * Throws RangeError when `scramble20` (ours) is not 20 bytes; false for any bad client response.
 */
export function verifyNativePassword(scramble20: Buffer, clientResponse: Buffer, v: MysqlVerifiers): boolean {
  checkScramble(scramble20);
  const stored = decodeHexStrict(v.nativeSha1Sha1, SHA1_BYTES);
  if (stored === null || clientResponse.length !== SHA1_BYTES) return false;
  const stage1 = xor(clientResponse, sha1(scramble20, stored));
  return safeEqual(sha1(stage1), stored);
}

/**
 * caching_sha2_password fast path: the client sends SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce).
 * Recovers SHA256(pw) and checks that its SHA256 is the stored value.
 * Throws RangeError when `nonce20` (ours) is not 20 bytes; false for any bad client response.
 */
export function verifyCachingSha2Fast(nonce20: Buffer, clientResponse: Buffer, v: MysqlVerifiers): boolean {
  checkScramble(nonce20);
  const stored = decodeHexStrict(v.sha256Sha256, SHA256_BYTES);
  if (stored === null || clientResponse.length !== SHA256_BYTES) return false;
  const stage1 = xor(clientResponse, sha256(stored, nonce20));
  return safeEqual(sha256(stage1), stored);
}

/** caching_sha2_password full authentication (cleartext over TLS, or RSA-decrypted): SHA256(SHA256(pw)) == stored. */
export function verifyCleartextMysql(password: string, v: MysqlVerifiers): boolean {
  const stored = decodeHexStrict(v.sha256Sha256, SHA256_BYTES);
  if (stored === null) return false;
  return safeEqual(sha256(sha256(Buffer.from(password, 'utf8'))), stored);
}
