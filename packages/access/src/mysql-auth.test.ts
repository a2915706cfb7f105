import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { makeMysqlVerifiers, verifyCachingSha2Fast, verifyCleartextMysql, verifyNativePassword } from './mysql-auth.js';

/** mysql2's own client-side scramble code. */
interface Auth41 {
  calculateToken(password: string, scramble1: Buffer, scramble2: Buffer): Buffer;
  doubleSha1(password: string): Buffer;
}
interface CachingSha2 {
  calculateToken(password: string, scramble: Buffer): Buffer;
}
const require = createRequire(import.meta.url);
const mysql2 = dirname(require.resolve('mysql2/package.json'));
const auth41 = require(join(mysql2, 'lib/auth_41.js')) as Auth41;
const cachingSha2 = require(join(mysql2, 'lib/auth_plugins/caching_sha2_password.js')) as CachingSha2;

const PASSWORD = 'Zm9vYmFyYmF6cXV4LXNlY3JldC1wYXNzd29yZA';
const v = makeMysqlVerifiers(PASSWORD);
const nativeToken = (password: string, scramble: Buffer): Buffer => auth41.calculateToken(password, scramble.subarray(0, 8), scramble.subarray(8, 20));

describe('makeMysqlVerifiers', () => {
  it('stores SHA1(SHA1(pw)) and SHA256(SHA256(pw)) as hex', () => {
    expect(v.nativeSha1Sha1).toBe(auth41.doubleSha1(PASSWORD).toString('hex'));
    const s1 = createHash('sha256').update(PASSWORD).digest();
    expect(v.sha256Sha256).toBe(createHash('sha256').update(s1).digest('hex'));
    expect(JSON.stringify(v)).not.toContain(PASSWORD);
  });
});

describe('verifyNativePassword against mysql2', () => {
  it('accepts the token for the right password', () => {
    for (let i = 0; i < 20; i++) {
      const scramble = randomBytes(20);
      expect(verifyNativePassword(scramble, nativeToken(PASSWORD, scramble), v)).toBe(true);
    }
  });

  it('rejects a wrong password, another scramble, truncated or empty responses', () => {
    const scramble = randomBytes(20);
    expect(verifyNativePassword(scramble, nativeToken('wrong', scramble), v)).toBe(false);
    expect(verifyNativePassword(randomBytes(20), nativeToken(PASSWORD, scramble), v)).toBe(false);
    expect(verifyNativePassword(scramble, nativeToken(PASSWORD, scramble).subarray(0, 19), v)).toBe(false);
    expect(verifyNativePassword(scramble, Buffer.alloc(0), v)).toBe(false);
  });

  it('rejects when the stored verifier is malformed', () => {
    const scramble = randomBytes(20);
    expect(verifyNativePassword(scramble, nativeToken(PASSWORD, scramble), { ...v, nativeSha1Sha1: 'zz' })).toBe(false);
  });

  it('insists on a 20-byte scramble', () => {
    expect(() => verifyNativePassword(randomBytes(21), Buffer.alloc(20), v)).toThrow(RangeError);
  });

  it('never accepts random responses', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ maxLength: 40 }), (s, r) => !verifyNativePassword(Buffer.from(s), Buffer.from(r), v)));
  });
});

describe('verifyCachingSha2Fast against mysql2', () => {
  it('accepts the token for the right password', () => {
    for (let i = 0; i < 20; i++) {
      const nonce = randomBytes(20);
      expect(verifyCachingSha2Fast(nonce, cachingSha2.calculateToken(PASSWORD, nonce), v)).toBe(true);
    }
  });

  it('rejects a wrong password, another nonce, truncated or empty responses', () => {
    const nonce = randomBytes(20);
    expect(verifyCachingSha2Fast(nonce, cachingSha2.calculateToken('wrong', nonce), v)).toBe(false);
    expect(verifyCachingSha2Fast(randomBytes(20), cachingSha2.calculateToken(PASSWORD, nonce), v)).toBe(false);
    expect(verifyCachingSha2Fast(nonce, cachingSha2.calculateToken(PASSWORD, nonce).subarray(1), v)).toBe(false);
    expect(verifyCachingSha2Fast(nonce, Buffer.alloc(0), v)).toBe(false);
  });

  it('does not accept a mysql_native_password token', () => {
    const nonce = randomBytes(20);
    expect(verifyCachingSha2Fast(nonce, nativeToken(PASSWORD, nonce), v)).toBe(false);
  });

  it('insists on a 20-byte nonce', () => {
    expect(() => verifyCachingSha2Fast(randomBytes(8), Buffer.alloc(32), v)).toThrow(RangeError);
  });

  it('never accepts random responses', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ maxLength: 40 }), (s, r) => !verifyCachingSha2Fast(Buffer.from(s), Buffer.from(r), v)));
  });
});

describe('verifyCleartextMysql', () => {
  it('accepts only the password', () => {
    expect(verifyCleartextMysql(PASSWORD, v)).toBe(true);
    expect(verifyCleartextMysql(PASSWORD + '\0', v)).toBe(false);
    expect(verifyCleartextMysql('', v)).toBe(false);
    expect(verifyCleartextMysql(PASSWORD, { ...v, sha256Sha256: v.sha256Sha256.toUpperCase() })).toBe(false);
  });
});
