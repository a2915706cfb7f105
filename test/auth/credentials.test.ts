import pg from 'pg';
import { AUTH_FAILED_MESSAGE } from '@sqlwarden/engine';
import { createLogger } from '@sqlwarden/telemetry';
import { createTestDatabase, uniqueName } from '../helpers/servers.js';
import { cleanRedisPrefix, startTestProxy, targetYaml, type MintedForTest, type TestProxy } from '../helpers/proxy.js';
import { pollUntil } from '../helpers/poll.js';
import { scramFirstLook } from '../helpers/raw-scram-probe.js';

type PgError = Error & { code?: string; severity?: string; detail?: string; hint?: string };

/** Connects with pg; resolves to the error it was refused with (fails the test if it connects). */
async function refusal(opts: pg.ClientConfig): Promise<PgError> {
  const c = new pg.Client(opts);
  c.on('error', () => {});
  try {
    await c.connect();
  } catch (err) {
    return err as PgError;
  }
  await c.end();
  throw new Error(`expected the login as ${String(opts.user)} to be refused, but it succeeded`);
}

/** The error fields a client can see, for comparing two refusals. */
function visible(e: PgError): Record<string, unknown> {
  return { severity: e.severity, code: e.code, message: e.message, detail: e.detail, hint: e.hint };
}

async function authFailures(tp: TestProxy): Promise<Record<string, number>> {
  const m = await tp.metrics.authFailures.get();
  const out: Record<string, number> = {};
  for (const v of m.values) if (v.labels.protocol === 'postgres') out[String(v.labels.reason)] = v.value;
  return out;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe.each([
  ['in-memory store', false],
  ['Redis store', true],
] as const)('client credentials through the proxy (pg driver, %s)', (_label, useRedis) => {
  let dbA: Awaited<ReturnType<typeof createTestDatabase>>;
  let dbB: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  const prefix = useRedis ? `${uniqueName('swtest_cred')}:` : undefined;
  const logLines: string[] = [];
  /** every secret handed out or tried in this suite; none may ever be logged */
  const secrets: string[] = [];

  beforeAll(async () => {
    dbA = await createTestDatabase('swcred_a');
    dbB = await createTestDatabase('swcred_b');
    tp = await startTestProxy({
      database: dbA.name,
      targetsYaml: targetYaml('a', dbA.name) + targetYaml('b', dbB.name),
      redisPrefix: prefix,
      extraYaml: 'auth:\n  rateLimit:\n    perUser: 3\n    perAddress: 100\n    windowMs: 60000\n',
      log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    });
  });
  afterAll(async () => {
    await tp?.close();
    await dbA?.drop();
    await dbB?.drop();
    if (prefix) await cleanRedisPrefix(prefix);
  });

  async function mint(agent = uniqueName('cred'), o: { ttlMs?: number; target?: string } = {}): Promise<MintedForTest> {
    const m = await tp.mint(agent, o);
    secrets.push(m.password);
    return m;
  }

  function opts(m: { user: string; password: string }, database = dbA.name): pg.ClientConfig {
    return { host: tp.host, port: tp.port, user: m.user, password: m.password, database };
  }

  it('a minted credential logs in and runs a query', async () => {
    const m = await mint('cred-ok');
    const c = new pg.Client(opts(m));
    await c.connect();
    try {
      const r = await c.query('select current_database() as db, 41 + 1 as n');
      expect(r.rows).toEqual([{ db: dbA.name, n: 42 }]);
    } finally {
      await c.end();
    }
    // the connection URL the harness builds (as `sqlwarden mint --json` prints it) works as given
    const c2 = new pg.Client({ connectionString: m.url });
    await c2.connect();
    try {
      expect((await c2.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await c2.end();
    }
  });

  it('an unknown user gets the same SCRAM challenge shape as a real one: mechanisms, iterations, and a stable salt', async () => {
    const m = await mint();
    const real1 = await scramFirstLook(tp.host, tp.port, m.user, dbA.name);
    const real2 = await scramFirstLook(tp.host, tp.port, m.user, dbA.name);
    const ghost = 'sw_fedcba9876543210';
    const fake1 = await scramFirstLook(tp.host, tp.port, ghost, dbA.name);
    const fake2 = await scramFirstLook(tp.host, tp.port, ghost, dbA.name);
    expect(real1.mechanisms).toEqual(['SCRAM-SHA-256']);
    expect(fake1.mechanisms).toEqual(real1.mechanisms);
    expect(fake1.iterations).toBe(real1.iterations);
    expect(real2.salt).toBe(real1.salt);
    // a salt that changed on every attempt would tell a prober the user does not exist
    expect(fake2.salt).toBe(fake1.salt);
    expect(Buffer.from(fake1.salt, 'base64').length).toBe(Buffer.from(real1.salt, 'base64').length);
    expect(fake1.salt).not.toBe(real1.salt);
  });

  it('a wrong password is refused with 28P01 and the generic message, and counted as bad_password', async () => {
    const m = await mint();
    const before = await authFailures(tp);
    const wrong = `${m.password.slice(0, -2)}xx`;
    secrets.push(wrong);
    const e = await refusal(opts({ user: m.user, password: wrong }));
    expect(visible(e)).toEqual({ severity: 'FATAL', code: '28P01', message: AUTH_FAILED_MESSAGE, detail: undefined, hint: undefined });
    const after = await authFailures(tp);
    expect((after.bad_password ?? 0) - (before.bad_password ?? 0)).toBe(1);
  });

  it('an unknown user is refused exactly like a wrong password (indistinguishable), counted as unknown_user', async () => {
    const m = await mint();
    const before = await authFailures(tp);
    const wrongPw = await refusal(opts({ user: m.user, password: 'not-the-password' }));
    // same shape as a minted user name, and one that could never be minted
    const unknown1 = await refusal(opts({ user: 'sw_0123456789abcdef', password: 'not-the-password' }));
    const unknown2 = await refusal(opts({ user: 'nobody_here', password: m.password }));
    expect(visible(unknown1)).toEqual(visible(wrongPw));
    expect(visible(unknown2)).toEqual(visible(wrongPw));
    expect(unknown1.code).toBe('28P01');
    expect(unknown1.message).toBe(AUTH_FAILED_MESSAGE);
    const after = await authFailures(tp);
    expect((after.unknown_user ?? 0) - (before.unknown_user ?? 0)).toBe(2);
    expect((after.bad_password ?? 0) - (before.bad_password ?? 0)).toBe(1);
  });

  it('an expired credential is refused with 28P01 and the generic message', async () => {
    const m = await mint(uniqueName('cred_exp'), { ttlMs: 1500 });
    const c = new pg.Client(opts(m));
    await c.connect(); // valid while it lives
    await c.end();
    const rec = await tp.store.lookup(m.user);
    const expiresAt = rec?.expiresAt ?? Date.now() + 1500;
    // wait (bounded) until the store itself no longer knows the credential, then past the expiry
    await pollUntil('the credential to expire', async () => Date.now() > expiresAt + 100 && (await tp.store.lookup(m.user)) === null, { timeoutMs: 10_000 });
    const before = total(await authFailures(tp));
    const e = await refusal(opts(m));
    expect(visible(e)).toEqual({ severity: 'FATAL', code: '28P01', message: AUTH_FAILED_MESSAGE, detail: undefined, hint: undefined });
    expect(total(await authFailures(tp)) - before).toBe(1);
  });

  it('a revoked credential is refused with 28P01 and the generic message', async () => {
    const m = await mint();
    const c = new pg.Client(opts(m));
    await c.connect();
    await c.end();
    expect(await tp.store.revoke(m.user)).toBe(true);
    const before = total(await authFailures(tp));
    const e = await refusal(opts(m));
    expect(visible(e)).toEqual({ severity: 'FATAL', code: '28P01', message: AUTH_FAILED_MESSAGE, detail: undefined, hint: undefined });
    expect(total(await authFailures(tp)) - before).toBe(1);
    // revoking twice reports that nothing was there
    expect(await tp.store.revoke(m.user)).toBe(false);
  });

  it("a credential for target a cannot open target b's database (28P01, counted as wrong_target)", async () => {
    const m = await mint(uniqueName('cred_tgt'), { target: 'a' });
    const before = await authFailures(tp);
    const byDatabase = await refusal(opts(m, dbB.name));
    expect(visible(byDatabase)).toEqual({ severity: 'FATAL', code: '28P01', message: AUTH_FAILED_MESSAGE, detail: undefined, hint: undefined });
    const byTargetName = await refusal(opts(m, 'b'));
    expect(byTargetName.code).toBe('28P01');
    expect(byTargetName.message).toBe(AUTH_FAILED_MESSAGE);
    const after = await authFailures(tp);
    expect((after.wrong_target ?? 0) - (before.wrong_target ?? 0)).toBe(2);

    // the same credential opens its own target, by database name or by target name
    for (const database of [dbA.name, 'a']) {
      const c = new pg.Client(opts(m, database));
      await c.connect();
      try {
        expect((await c.query('select current_database() as db')).rows).toEqual([{ db: dbA.name }]);
      } finally {
        await c.end();
      }
    }
    // and a credential minted for b lands in b's database
    const mb = await mint(uniqueName('cred_tgt_b'), { target: 'b' });
    const cb = new pg.Client(opts(mb, dbB.name));
    await cb.connect();
    try {
      expect((await cb.query('select current_database() as db')).rows).toEqual([{ db: dbB.name }]);
    } finally {
      await cb.end();
    }
  });

  it('after 3 failed logins for a user, even the right password is refused with a "too many" message', async () => {
    const m = await mint(uniqueName('cred_rl'));
    const before = await authFailures(tp);
    for (let i = 0; i < 3; i++) {
      const wrong = `wrong-${i}-${m.password.slice(0, 4)}`;
      secrets.push(wrong);
      const e = await refusal(opts({ user: m.user, password: wrong }));
      expect(e.code).toBe('28P01');
      expect(e.message).toBe(AUTH_FAILED_MESSAGE);
    }
    const limited = await refusal(opts(m));
    expect(limited.code).toBe('28P01');
    expect(limited.message).toMatch(/too many/i);
    const after = await authFailures(tp);
    expect((after.bad_password ?? 0) - (before.bad_password ?? 0)).toBe(3);
    expect((after.rate_limited ?? 0) - (before.rate_limited ?? 0)).toBe(1);

    // the limit is per user: another credential from the same address still logs in (perAddress is 100)
    const other = await mint();
    const c = new pg.Client(opts(other));
    await c.connect();
    try {
      expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });

  describe('per source address', () => {
    let tpAddr: TestProxy;
    const addrPrefix = useRedis ? `${uniqueName('swtest_cred_addr')}:` : undefined;
    beforeAll(async () => {
      tpAddr = await startTestProxy({
        database: dbA.name,
        redisPrefix: addrPrefix,
        extraYaml: 'auth:\n  rateLimit:\n    perUser: 100\n    perAddress: 3\n    window: 1m\n',
      });
    });
    afterAll(async () => {
      await tpAddr?.close();
      if (addrPrefix) await cleanRedisPrefix(addrPrefix);
    });

    it('after 3 failed logins from one address (different user names), a valid credential from it is refused with "too many"', async () => {
      const good = await tpAddr.mint(uniqueName('cred_addr'));
      for (let i = 0; i < 3; i++) {
        const e = await refusal({ host: tpAddr.host, port: tpAddr.port, user: `sw_${'0'.repeat(15)}${i}`, password: 'guess', database: dbA.name });
        expect(e.message).toBe(AUTH_FAILED_MESSAGE);
      }
      const limited = await refusal({ host: tpAddr.host, port: tpAddr.port, user: good.user, password: good.password, database: dbA.name });
      expect(limited.code).toBe('28P01');
      expect(limited.message).toMatch(/too many/i);
    });
  });

  it('counts every kind of failure under sqlwarden_auth_failures_total by reason', async () => {
    const text = await tp.metrics.registry.getSingleMetricAsString('sqlwarden_auth_failures_total');
    for (const reason of ['bad_password', 'unknown_user', 'wrong_target', 'rate_limited']) {
      expect(text).toMatch(new RegExp(`sqlwarden_auth_failures_total\\{[^}]*reason="${reason}"[^}]*\\} [1-9]`));
    }
  });

  it('never logs a password (minted or tried), at debug level, nor exposes one in metrics', async () => {
    expect(secrets.length).toBeGreaterThan(5);
    expect(logLines.length).toBeGreaterThan(0);
    // the capturing logger did see the logins it should describe
    expect(logLines.some((l) => l.includes('login refused'))).toBe(true);
    const logged = logLines.join('\n');
    const exposed = logged + (await tp.metrics.registry.metrics());
    for (const s of secrets) expect(exposed.includes(s)).toBe(false);
  });
});
