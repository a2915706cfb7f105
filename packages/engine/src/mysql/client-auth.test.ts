import { generateKeyPairSync } from 'node:crypto';
import { makeMysqlVerifiers } from '@sqlwarden/access';
import { decodeAuthSwitchRequest, encryptPasswordRsa, scrambleCachingSha2Password, scrambleFromPluginData, scrambleNativePassword } from '@sqlwarden/wire-mysql';
import { ClientAuthExchange, fakeMysqlVerifiers, newScramble, type AuthStep, type RsaKeyPair } from './client-auth.js';

const PASSWORD = 'correct horse battery staple';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa: RsaKeyPair = { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };

function exchange(opts: { tls?: boolean; cleartextOverTls?: boolean; verifiers?: ReturnType<typeof makeMysqlVerifiers> } = {}) {
  const scramble = newScramble();
  const ex = new ClientAuthExchange(
    { verifiers: opts.verifiers ?? makeMysqlVerifiers(PASSWORD), tls: opts.tls ?? false, cleartextOverTls: opts.cleartextOverTls ?? false, rsaKey: () => rsa },
    scramble,
  );
  return { ex, scramble };
}

function sent(step: AuthStep): Buffer {
  if (step.kind !== 'send') throw new Error(`expected send, got ${step.kind}`);
  return step.payload;
}

describe('ClientAuthExchange', () => {
  it('scrambles have 20 bytes and no NUL', () => {
    for (let i = 0; i < 200; i++) {
      const s = newScramble();
      expect(s).toHaveLength(20);
      expect(s.includes(0)).toBe(false);
    }
  });

  it('caching_sha2 fast path: fast-auth-success before the OK', () => {
    const { ex, scramble } = exchange();
    expect(ex.start('caching_sha2_password', scrambleCachingSha2Password(PASSWORD, scramble))).toEqual({ kind: 'ok', before: [Buffer.from([1, 3])] });
  });

  it('mysql_native_password, with and without CLIENT_PLUGIN_AUTH', () => {
    for (const plugin of ['mysql_native_password', null]) {
      const { ex, scramble } = exchange();
      expect(ex.start(plugin, scrambleNativePassword(PASSWORD, scramble))).toEqual({ kind: 'ok', before: [] });
    }
    const { ex, scramble } = exchange();
    expect(ex.start('mysql_native_password', scrambleNativePassword('wrong', scramble))).toEqual({ kind: 'fail', why: 'bad_password' });
  });

  it('an empty answer for a supported plugin asks for a switch to it', () => {
    const { ex } = exchange();
    const sw = decodeAuthSwitchRequest(sent(ex.start('mysql_native_password', Buffer.alloc(0))));
    expect(sw.authPluginName).toBe('mysql_native_password');
    expect(ex.next(scrambleNativePassword(PASSWORD, scrambleFromPluginData(sw.authPluginData)))).toEqual({ kind: 'ok', before: [] });
  });

  it('switches an unknown plugin to caching_sha2_password with a fresh scramble', () => {
    const { ex, scramble } = exchange();
    const sw = decodeAuthSwitchRequest(sent(ex.start('client_ed25519', Buffer.alloc(64))));
    expect(sw.authPluginName).toBe('caching_sha2_password');
    const fresh = scrambleFromPluginData(sw.authPluginData);
    expect(fresh.equals(scramble)).toBe(false);
    // the answer must use the new scramble
    expect(ex.next(scrambleCachingSha2Password(PASSWORD, fresh))).toMatchObject({ kind: 'ok' });
  });

  it('full authentication with RSA after a fast-path miss', () => {
    const { ex, scramble } = exchange();
    expect([...sent(ex.start('caching_sha2_password', Buffer.alloc(32, 9)))]).toEqual([1, 4]);
    const key = sent(ex.next(Buffer.from([2])));
    expect(key[0]).toBe(1);
    expect(key.subarray(1).toString()).toBe(rsa.publicKeyPem);
    expect(ex.next(encryptPasswordRsa(PASSWORD, scramble, rsa.publicKeyPem))).toEqual({ kind: 'ok', before: [] });
  });

  it('full authentication refuses a wrong password, garbage, and cleartext without TLS', () => {
    const answers: ((scramble: Buffer) => Buffer)[] = [
      (scramble) => encryptPasswordRsa('nope', scramble, rsa.publicKeyPem),
      () => Buffer.alloc(256, 3),
      () => Buffer.from(`${PASSWORD}\0`),
    ];
    for (const answer of answers) {
      const { ex, scramble } = exchange();
      sent(ex.start('caching_sha2_password', Buffer.alloc(32, 9)));
      expect(ex.next(answer(scramble))).toEqual({ kind: 'fail', why: 'bad_password' });
    }
  });

  it('full authentication over TLS takes the password in clear', () => {
    const { ex } = exchange({ tls: true });
    sent(ex.start('caching_sha2_password', Buffer.alloc(32, 9)));
    expect(ex.next(Buffer.from(`${PASSWORD}\0`))).toEqual({ kind: 'ok', before: [] });
  });

  it('mysql_clear_password only over TLS with cleartextOverTls; otherwise a switch', () => {
    expect(exchange({ tls: true, cleartextOverTls: true }).ex.start('mysql_clear_password', Buffer.from(`${PASSWORD}\0`))).toEqual({ kind: 'ok', before: [] });
    for (const o of [{ tls: false, cleartextOverTls: true }, { tls: true, cleartextOverTls: false }]) {
      const step = exchange(o).ex.start('mysql_clear_password', Buffer.from(`${PASSWORD}\0`));
      expect(decodeAuthSwitchRequest(sent(step)).authPluginName).toBe('caching_sha2_password');
    }
  });

  it('a fake verifier (unknown user) walks the same steps and never matches', () => {
    const key = Buffer.alloc(32, 5);
    const fake = fakeMysqlVerifiers('sw_0123456789abcdef', key);
    expect(fake).toEqual(fakeMysqlVerifiers('sw_0123456789abcdef', key));
    expect(fake).not.toEqual(fakeMysqlVerifiers('sw_0123456789abcdee', key));
    const { ex, scramble } = exchange({ verifiers: fake });
    expect([...sent(ex.start('caching_sha2_password', scrambleCachingSha2Password(PASSWORD, scramble)))]).toEqual([1, 4]);
    sent(ex.next(Buffer.from([2])));
    expect(ex.next(encryptPasswordRsa(PASSWORD, scramble, rsa.publicKeyPem))).toEqual({ kind: 'fail', why: 'bad_password' });
  });

  it('a packet after the end is a protocol failure', () => {
    const { ex, scramble } = exchange();
    ex.start('caching_sha2_password', scrambleCachingSha2Password(PASSWORD, scramble));
    expect(ex.next(Buffer.alloc(1))).toEqual({ kind: 'fail', why: 'protocol' });
  });
});
