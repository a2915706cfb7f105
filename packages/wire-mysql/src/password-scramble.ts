/**
 * Client-side answers to the server's scramble, for logging the proxy into the upstream with a
 * target's password. (Verifying clients' answers is the access package's job.)
 */
import { constants, createHash, publicEncrypt } from 'node:crypto';

function hash(alg: 'sha1' | 'sha256', ...parts: Uint8Array[]): Buffer {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
}

function bytesOf(password: string | Uint8Array): Buffer {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : Buffer.from(password);
}

/** mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))); empty for an empty password. */
export function scrambleNativePassword(password: string | Uint8Array, scramble: Uint8Array): Buffer {
  const pw = bytesOf(password);
  if (pw.length === 0) return Buffer.alloc(0);
  const stage1 = hash('sha1', pw);
  const stage2 = hash('sha1', stage1);
  const mix = hash('sha1', scramble, stage2);
  for (let i = 0; i < mix.length; i++) mix[i] ^= stage1[i];
  return mix;
}

/** caching_sha2_password fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble); empty for an empty password. */
export function scrambleCachingSha2Password(password: string | Uint8Array, scramble: Uint8Array): Buffer {
  const pw = bytesOf(password);
  if (pw.length === 0) return Buffer.alloc(0);
  const stage1 = hash('sha256', pw);
  const stage2 = hash('sha256', stage1);
  const mix = hash('sha256', stage2, scramble);
  for (let i = 0; i < mix.length; i++) mix[i] ^= stage1[i];
  return mix;
}

/** The password as sent in clear (over TLS, or to mysql_clear_password): its bytes and a NUL. */
export function cleartextPassword(password: string | Uint8Array): Buffer {
  const pw = bytesOf(password);
  const out = Buffer.alloc(pw.length + 1);
  pw.copy(out);
  return out;
}

/** (password + NUL) XOR the scramble repeated: what caching_sha2_password/sha256_password RSA-encrypt. */
export function xorPassword(password: string | Uint8Array, scramble: Uint8Array): Buffer {
  if (scramble.length === 0) throw new RangeError('empty scramble');
  const out = cleartextPassword(password);
  for (let i = 0; i < out.length; i++) out[i] ^= scramble[i % scramble.length];
  return out;
}

/**
 * caching_sha2_password full authentication without TLS: the XOR'd password encrypted with the
 * server's RSA public key (PEM, as sent in AuthMoreData) using OAEP padding.
 */
export function encryptPasswordRsa(password: string | Uint8Array, scramble: Uint8Array, publicKeyPem: string | Buffer): Buffer {
  return publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING }, xorPassword(password, scramble));
}
