/**
 * Logging in to sqlwarden's MySQL listener with minted credentials: caching_sha2_password (fast path,
 * full authentication with RSA or over TLS), mysql_native_password, auth switch, and every way a
 * login is refused (wrong, unknown, expired, revoked, rate-limited, plaintext when TLS is required,
 * unsafe character set, too many connections, handshake timeout). Revocation ends live sessions.
 */
import mysql from 'mysql2/promise';
import { encryptPasswordRsa, scrambleCachingSha2Password, cleartextPassword, decodeAuthSwitchRequest, decodeErrPacket, scrambleFromPluginData } from '@sqlwarden/wire-mysql';
import { createMysqlTestTarget, startMysqlTestProxy, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';
import { RAW_CLIENT_FLAGS, RawMysqlClient } from '../helpers/raw-mysql.js';
import { makeSelfSignedCert } from '../helpers/self-signed.js';
import { pollUntil } from '../helpers/poll.js';

function errOf(p: { payload: Buffer } | null | undefined): { errorCode: number; sqlState: string | null; message: string } {
  if (!p || p.payload[0] !== 0xff) throw new Error(`expected an ERR packet, got ${p ? `0x${p.payload[0]!.toString(16)}` : 'a closed connection'}`);
  return decodeErrPacket(p.payload);
}

describe('MySQL authentication through sqlwarden', () => {
  let target: MysqlTestTarget;
  let tp: MysqlTestProxy;
  let cert: Awaited<ReturnType<typeof makeSelfSignedCert>>;

  beforeAll(async () => {
    target = await createMysqlTestTarget();
    cert = await makeSelfSignedCert();
    tp = await startMysqlTestProxy({
      target,
      extraYaml: `tls:\n  cert: ${cert.cert}\n  key: ${cert.key}\nauth:\n  rateLimit: { perUser: 3, perAddress: 1000, window: 1m }\nlimits:\n  handshakeTimeout: 1s\n`,
    });
  });
  afterAll(async () => {
    await tp?.close();
    await target?.drop();
    cert?.remove();
  });

  it('offers caching_sha2_password; mysql2 logs in on the fast path', async () => {
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    expect(raw.handshake.authPluginName).toBe('caching_sha2_password');
    expect(raw.handshake.authPluginData).toHaveLength(20);
    raw.end();
    const m = await tp.mint();
    const c = await tp.connect(m);
    const [rows] = await c.query('SELECT CURRENT_USER() AS u');
    expect((rows as { u: string }[])[0]!.u).toMatch(new RegExp(`^${target.user}@`));
    await c.end();
  });

  it('sends fast-auth-success then OK for a caching_sha2 scramble', async () => {
    const m = await tp.mint();
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    const packets = await raw.login(m.user, m.password, tp.database);
    expect(packets.map((p) => [...p.payload.subarray(0, 2)])).toEqual([[0x01, 0x03], expect.arrayContaining([0x00])]);
    expect(packets.map((p) => p.seq)).toEqual([2, 3]);
    raw.end();
  });

  it('accepts mysql_native_password', async () => {
    const m = await tp.mint();
    // a custom plugin for the offered method makes mysql2 answer with mysql_native_password
    const c = await tp.connect(m, { authPlugins: { caching_sha2_password: () => () => Buffer.alloc(0) } });
    const [rows] = await c.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    await c.end();
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    raw.sendLogin(m.user, 'mysql_native_password', raw.nativeScramble(m.password), { database: tp.database });
    const ok = await raw.read();
    expect(ok?.payload[0]).toBe(0x00);
    expect(ok?.seq).toBe(2);
    raw.end();
  });

  it('switches a client with another plugin to caching_sha2_password', async () => {
    const m = await tp.mint();
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    raw.sendLogin(m.user, 'client_ed25519', Buffer.alloc(64, 7), { database: tp.database });
    const sw = await raw.read();
    expect(sw?.payload[0]).toBe(0xfe);
    const req = decodeAuthSwitchRequest(sw!.payload);
    expect(req.authPluginName).toBe('caching_sha2_password');
    const scramble = scrambleFromPluginData(req.authPluginData);
    expect(scramble).toHaveLength(20);
    expect(scramble.equals(raw.handshake.authPluginData)).toBe(false);
    raw.write(scrambleCachingSha2Password(m.password, scramble), sw!.seq + 1);
    const fast = await raw.read();
    expect([...fast!.payload]).toEqual([0x01, 0x03]);
    const ok = await raw.read();
    expect(ok?.payload[0]).toBe(0x00);
    raw.end();
  });

  it('does full authentication with RSA when the fast path does not match; a wrong password still fails', async () => {
    const m = await tp.mint();
    for (const [password, expectOk] of [
      [m.password, true],
      ['not-the-password', false],
    ] as const) {
      const raw = await RawMysqlClient.connect(tp.host, tp.port);
      raw.sendLogin(m.user, 'caching_sha2_password', Buffer.alloc(32, 1), { database: tp.database });
      const full = await raw.read();
      expect([...full!.payload]).toEqual([0x01, 0x04]);
      raw.write(Buffer.from([0x02]), full!.seq + 1);
      const key = await raw.read();
      expect(key?.payload[0]).toBe(0x01);
      const pem = key!.payload.subarray(1).toString('ascii');
      expect(pem).toContain('BEGIN PUBLIC KEY');
      raw.write(encryptPasswordRsa(password, raw.handshake.authPluginData, pem), key!.seq + 1);
      const last = await raw.read();
      if (expectOk) expect(last?.payload[0]).toBe(0x00);
      else expect(errOf(last)).toMatchObject({ errorCode: 1045, sqlState: '28000' });
      raw.end();
    }
  });

  it('refuses a password in clear without TLS', async () => {
    const m = await tp.mint();
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    raw.sendLogin(m.user, 'caching_sha2_password', Buffer.alloc(32, 1), { database: tp.database });
    const full = await raw.read();
    raw.write(cleartextPassword(m.password), full!.seq + 1);
    expect(errOf(await raw.read())).toMatchObject({ errorCode: 1045 });
    await raw.closed;
  });

  it('does full authentication with the password in clear over TLS', async () => {
    const m = await tp.mint();
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    expect(raw.handshake.capabilities & 0x800).toBe(0x800);
    await raw.startTls();
    raw.sendLogin(m.user, 'caching_sha2_password', Buffer.alloc(32, 1), { database: tp.database, seq: 2, flags: (RAW_CLIENT_FLAGS | 0x800) >>> 0 });
    const full = await raw.read();
    expect([...full!.payload]).toEqual([0x01, 0x04]);
    raw.write(cleartextPassword(m.password), full!.seq + 1);
    expect((await raw.read())?.payload[0]).toBe(0x00);
    raw.end();
  });

  it('serves mysql2 over TLS', async () => {
    const m = await tp.mint();
    const c = await tp.connect(m, { ssl: { rejectUnauthorized: false } });
    const [rows] = await c.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'Ssl_cipher'");
    // the upstream connection is not TLS (the local MariaDB has it off); the client side is
    expect(rows).toBeDefined();
    const sock = (c as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream;
    expect(sock.encrypted).toBe(true);
    await c.end();
  });

  it('refuses wrong passwords and unknown users with the same error', async () => {
    const m = await tp.mint();
    const wrong = await tp.connect({ ...m, password: 'wrong' }).then(
      () => null,
      (e: { errno: number; sqlState: string; message: string }) => e,
    );
    const unknown = await tp.connect({ ...m, user: 'sw_0000000000000000', password: 'wrong' }).then(
      () => null,
      (e: { errno: number; sqlState: string; message: string }) => e,
    );
    expect(wrong).toMatchObject({ errno: 1045, sqlState: '28000' });
    expect(unknown).toMatchObject({ errno: 1045, sqlState: '28000' });
    expect(wrong!.message.replace(m.user, 'U')).toBe(unknown!.message.replace('sw_0000000000000000', 'U'));
    expect(wrong!.message).toContain('credential is invalid, expired or revoked');
    const text = await tp.metrics.registry.metrics();
    expect(text).toMatch(/sqlwarden_auth_failures_total\{protocol="mysql",reason="bad_password"\} [1-9]/);
    expect(text).toMatch(/sqlwarden_auth_failures_total\{protocol="mysql",reason="unknown_user"\} [1-9]/);
  });

  it('an unknown user takes the same steps as a known one (full authentication, then refusal)', async () => {
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    raw.sendLogin('sw_1111111111111111', 'caching_sha2_password', Buffer.alloc(32, 1), { database: tp.database });
    const full = await raw.read();
    expect([...full!.payload]).toEqual([0x01, 0x04]);
    raw.end();
  });

  it('rate-limits a user name after repeated failures, even with the right password', async () => {
    const m = await tp.mint();
    for (let i = 0; i < 3; i++) await expect(tp.connect({ ...m, password: `wrong-${i}` })).rejects.toMatchObject({ errno: 1045 });
    await expect(tp.connect(m)).rejects.toMatchObject({ errno: 1045, message: expect.stringContaining('too many failed') });
  });

  it('refuses an expired credential', async () => {
    const m = await tp.mint(undefined, { ttlMs: 1000 });
    const rec = await tp.store.lookup(m.user);
    const expiresAt = rec?.expiresAt ?? Date.now() + 1000;
    await pollUntil('the credential to expire', async () => Date.now() > expiresAt + 50 && (await tp.store.lookup(m.user)) === null, { timeoutMs: 10_000 });
    await expect(tp.connect(m)).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
  });

  it('refuses a revoked credential, and revocation ends its live sessions', async () => {
    const m = await tp.mint('revoked-agent');
    const c = await tp.connect(m);
    c.on('error', () => {});
    await c.query('SELECT 1');
    expect(await tp.store.revoke(m.user)).toBe(true);
    await pollUntil('the session to end', async () => {
      try {
        await c.query('SELECT 1');
        return false;
      } catch (e) {
        return e;
      }
    });
    await expect(tp.connect(m)).rejects.toMatchObject({ errno: 1045 });
    const text = await tp.metrics.registry.metrics();
    expect(text).toMatch(/sqlwarden_sessions_ended_total\{protocol="mysql",reason="revoked"\} [1-9]/);
  });

  it('ends an idle revoked session with an error that says why', async () => {
    const m = await tp.mint('revoked-agent-2');
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    await raw.login(m.user, m.password, tp.database);
    await tp.store.revoke(m.user);
    // nothing arrives unasked (a sequence-0 packet would be out of order for a driver sending a command);
    // the next command is answered with the reason, in sequence, and the connection closes
    let reply: Awaited<ReturnType<RawMysqlClient['read']>> = null;
    await pollUntil('the session to end', async () => {
      raw.write(Buffer.from([0x0e /* COM_PING */]), 0);
      reply = await raw.read();
      return reply !== null && reply.payload[0] === 0xff;
    });
    expect(reply!.seq).toBe(1);
    expect(errOf(reply)).toMatchObject({ errorCode: 1927, sqlState: '70100', message: expect.stringContaining('revoked') });
    await raw.closed;
  });

  it('mysql2 sees a clean error naming the revocation, with no packet out of order', async () => {
    const m = await tp.mint('revoked-agent-3');
    const c = await tp.connect(m);
    const warnings: unknown[] = [];
    (c as unknown as { connection: { on(ev: string, f: (e: unknown) => void): void } }).connection.on('warn', (e) => warnings.push(e));
    c.on('error', () => {});
    await c.query('SELECT 1');
    await tp.store.revoke(m.user);
    const err = await pollUntil('the session to end', async () => {
      try {
        await c.query('SELECT 1');
        return false;
      } catch (e) {
        return e as { errno?: number; message: string };
      }
    });
    expect(err).toMatchObject({ errno: 1927, message: expect.stringContaining('revoked') });
    expect(warnings).toEqual([]);
  });

  it('refuses a character set in which a multibyte character can hide a quote', async () => {
    const m = await tp.mint();
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    raw.sendLogin(m.user, 'caching_sha2_password', scrambleCachingSha2Password(m.password, raw.handshake.authPluginData), { database: tp.database, charset: 28 /* gbk */ });
    expect(errOf(await raw.read())).toMatchObject({ errorCode: 1115, message: expect.stringContaining('gbk') });
    await raw.closed;
  });

  it('ends a login that does not complete in time', async () => {
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    expect(errOf(await raw.read())).toMatchObject({ errorCode: 1043 });
    await raw.closed;
  });

  it('closes with an error on a malformed handshake response', async () => {
    const raw = await RawMysqlClient.connect(tp.host, tp.port);
    raw.write(Buffer.from([1, 2, 3]), 1);
    expect(errOf(await raw.read())).toMatchObject({ errorCode: 1043, sqlState: '08S01' });
    await raw.closed;
  });
});

describe('MySQL listener limits and required TLS', () => {
  let target: MysqlTestTarget;
  let tp: MysqlTestProxy;
  let cert: Awaited<ReturnType<typeof makeSelfSignedCert>>;

  beforeAll(async () => {
    target = await createMysqlTestTarget();
    cert = await makeSelfSignedCert();
    tp = await startMysqlTestProxy({
      target,
      extraYaml: `tls:\n  cert: ${cert.cert}\n  key: ${cert.key}\n  required: true\n`,
      tweak: (cfg) => {
        cfg.limits.maxConnections = 2;
      },
    });
  });
  afterAll(async () => {
    await tp?.close();
    await target?.drop();
    cert?.remove();
  });

  it('refuses plaintext logins when TLS is required, and serves TLS ones', async () => {
    const m = await tp.mint();
    await expect(tp.connect(m)).rejects.toMatchObject({ errno: 1045, message: expect.stringContaining('requires TLS') });
    const c = await tp.connect(m, { ssl: { rejectUnauthorized: false } });
    const [rows] = await c.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    await c.end();
  });

  it('refuses connections over limits.maxConnections with ER_CON_COUNT_ERROR', async () => {
    const m = await tp.mint();
    const a = await tp.connect(m, { ssl: { rejectUnauthorized: false } });
    const b = await tp.connect(m, { ssl: { rejectUnauthorized: false } });
    try {
      await expect(tp.connect(m, { ssl: { rejectUnauthorized: false } })).rejects.toMatchObject({ errno: 1040 });
    } finally {
      await a.end();
      await b.end();
    }
  });
});
