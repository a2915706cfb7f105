import pg from 'pg';
import { PG, adminQuery, createTestDatabase, uniqueName } from '../helpers/servers.js';
import { cleanRedisPrefix, startTestProxy, type MintedForTest, type TestProxy } from '../helpers/proxy.js';
import { pollUntil, within } from '../helpers/poll.js';
import { sendCancelRequest } from '../helpers/raw-cancel.js';
import { AGENT_BACKENDS_SQL, watchClient, type ClientWatch } from '../helpers/client-watch.js';
import { startGatedRelay, type GatedRelay } from '../helpers/gated-relay.js';

type PgError = Error & { code?: string; severity?: string };

/** Generous bound for "within about a second": the wait is bounded, timing alone never fails a test. */
const END_BOUND_MS = 5000;

interface Live {
  client: pg.Client;
  watch: ClientWatch;
}

async function connect(tp: TestProxy, m: MintedForTest, database: string): Promise<Live> {
  const client = new pg.Client({ host: tp.host, port: tp.port, user: m.user, password: m.password, database });
  const watch = watchClient(client);
  await client.connect();
  return { client, watch };
}

/** Waits until the upstream shows the agent's statement running (so a cancel or revoke hits it mid-query). */
async function waitActive(agent: string, database: string, pattern: string): Promise<number> {
  return pollUntil(`a running "${pattern}" of ${agent}`, async () => {
    const r = await adminQuery(AGENT_BACKENDS_SQL(agent), database);
    const row = r.rows.find((x: { state: string; query: string }) => x.state === 'active' && x.query.includes(pattern));
    return row ? (row.pid as number) : undefined;
  });
}

/** Waits (bounded) until no upstream backend of this agent is left. */
async function waitBackendsGone(agent: string, database: string): Promise<void> {
  await pollUntil(`the upstream backends of ${agent} to go away`, async () => (await adminQuery(AGENT_BACKENDS_SQL(agent), database)).rowCount === 0, { timeoutMs: END_BOUND_MS });
}

/** Waits (bounded) until an idle client has been told it is over and its connection closed. */
async function waitEnded(l: Live, what: string): Promise<PgError> {
  await pollUntil(`${what}: the idle client to get an error and be closed`, () => l.watch.errors.length > 0 && l.watch.ended, { timeoutMs: END_BOUND_MS });
  return l.watch.errors[0];
}

async function endQuietly(l: Live): Promise<void> {
  await l.client.end().catch(() => {});
}

describe.each([
  ['in-memory store', false],
  ['Redis store', true],
] as const)('live sessions end when their credential goes (%s)', (_label, useRedis) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  const prefix = useRedis ? `${uniqueName('swtest_rev')}:` : undefined;

  beforeAll(async () => {
    db = await createTestDatabase('swrev');
    tp = await startTestProxy({ database: db.name, redisPrefix: prefix });
  });
  afterAll(async () => {
    await tp?.close();
    await db?.drop();
    if (prefix) await cleanRedisPrefix(prefix);
  });

  it('revoke ends an idle session and one in the middle of pg_sleep(20): FATAL 57P01 "revoked", upstream backends gone', async () => {
    const agent = uniqueName('rev');
    const m = await tp.mint(agent);
    const idle = await connect(tp, m, db.name);
    const busy = await connect(tp, m, db.name);
    // a third session of another credential must survive
    const bystanderAgent = uniqueName('bystander');
    const bystander = await connect(tp, await tp.mint(bystanderAgent), db.name);
    try {
      const sleeping = busy.client.query('select pg_sleep(20)').then(
        () => null,
        (err: PgError) => err,
      );
      await waitActive(agent, db.name, 'pg_sleep(20)');
      expect((await adminQuery(AGENT_BACKENDS_SQL(agent), db.name)).rowCount).toBe(2);

      const t0 = Date.now();
      expect(await tp.store.revoke(m.user)).toBe(true);

      const queryErr = await within(sleeping, END_BOUND_MS);
      expect(queryErr).not.toBe('timeout');
      expect(queryErr).toMatchObject({ code: '57P01', severity: 'FATAL', message: expect.stringMatching(/revoked/) });
      const idleErr = await waitEnded(idle, 'revoke');
      expect(idleErr).toMatchObject({ code: '57P01', message: expect.stringMatching(/revoked/) });
      const elapsed = Date.now() - t0;

      await waitBackendsGone(agent, db.name);
      // eslint-disable-next-line no-console
      console.log(`revocation (${_label}): both sessions ended ${elapsed} ms after revoke()`);

      expect((await bystander.client.query('select 1 as still_here')).rows).toEqual([{ still_here: 1 }]);
      expect(bystander.watch.errors).toEqual([]);
    } finally {
      await endQuietly(idle);
      await endQuietly(busy);
      await endQuietly(bystander);
    }
  });

  it('revoke ends a session while the upstream is streaming a large result (mid-frame), with a FATAL that says revoked', async () => {
    const agent = uniqueName('rev_stream');
    const m = await tp.mint(agent);
    const busy = await connect(tp, m, db.name);
    try {
      let rows = 0;
      let revokedAt = 0;
      const q = new pg.Query("select generate_series(1, 200000000) as g, repeat('x', 300) as pad");
      const outcome = new Promise<PgError | null>((resolve) => {
        q.on('error', (err: PgError) => resolve(err));
        q.on('end', () => resolve(null));
      });
      q.on('row', () => {
        rows++;
        if (rows === 1000) {
          revokedAt = Date.now();
          void tp.store.revoke(m.user);
        }
      });
      busy.client.query(q);
      const err = await within(outcome, END_BOUND_MS + 5000);
      expect(err).not.toBe('timeout');
      expect(err).toBeInstanceOf(Error);
      expect(revokedAt).toBeGreaterThan(0);
      await pollUntil('the streaming client to be closed', () => busy.watch.ended, { timeoutMs: END_BOUND_MS });
      // whatever came first (the upstream's cancel or sqlwarden's FATAL), the client is told the credential was revoked
      const told = [err as PgError, ...busy.watch.errors];
      expect(told.some((e) => e.code === '57P01' && /revoked/.test(e.message))).toBe(true);
      await waitBackendsGone(agent, db.name);
    } finally {
      await endQuietly(busy);
    }
  });

  it('credential expiry ends a live session (idle and busy) with a FATAL that says expired', async () => {
    const agent = uniqueName('exp');
    const m = await tp.mint(agent, { ttlMs: 2000 });
    const idle = await connect(tp, m, db.name);
    const busy = await connect(tp, m, db.name);
    try {
      const sleeping = busy.client.query('select pg_sleep(20)').then(
        () => null,
        (err: PgError) => err,
      );
      const queryErr = await within(sleeping, 2000 + END_BOUND_MS);
      expect(queryErr).not.toBe('timeout');
      expect(queryErr).toMatchObject({ code: '57P01', severity: 'FATAL', message: expect.stringMatching(/expired/) });
      const idleErr = await waitEnded(idle, 'expiry');
      expect(idleErr).toMatchObject({ code: '57P01', message: expect.stringMatching(/expired/) });
      await waitBackendsGone(agent, db.name);
      const ended = await tp.metrics.sessionsEnded.get();
      expect(ended.values.find((v) => v.labels.reason === 'expired')?.value ?? 0).toBeGreaterThanOrEqual(2);
    } finally {
      await endQuietly(idle);
      await endQuietly(busy);
    }
  });
});

describe('a revocation whose pub/sub message was missed', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  const prefix = `${uniqueName('swtest_sweep')}:`;

  beforeAll(async () => {
    db = await createTestDatabase('swsweep');
    tp = await startTestProxy({ database: db.name, redisPrefix: prefix });
  });
  afterAll(async () => {
    await tp?.close();
    await db?.drop();
    await cleanRedisPrefix(prefix);
  });

  it('still ends the live session (the periodic sweep): the credential key deleted in Redis without a publish', async () => {
    const agent = uniqueName('sweep');
    const m = await tp.mint(agent);
    const live = await connect(tp, m, db.name);
    try {
      // what an instance that was disconnected during the PUBLISH sees: the record is gone, no message came
      await cleanRedisPrefix(`${prefix}cred:${m.user}`);
      const err = await waitEnded(live, 'sweep');
      expect(err).toMatchObject({ code: '57P01', message: expect.stringMatching(/revoked/) });
      await waitBackendsGone(agent, db.name);
    } finally {
      await endQuietly(live);
    }
  });
});

describe('two sqlwarden instances sharing one Redis prefix', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tpA: TestProxy;
  let tpB: TestProxy;
  const prefix = `${uniqueName('swtest_two')}:`;

  beforeAll(async () => {
    db = await createTestDatabase('swtwo');
    tpA = await startTestProxy({ database: db.name, redisPrefix: prefix });
    tpB = await startTestProxy({ database: db.name, redisPrefix: prefix });
  });
  afterAll(async () => {
    await tpA?.close();
    await tpB?.close();
    await db?.drop();
    await cleanRedisPrefix(prefix);
  });

  it('a credential minted through instance A logs in through instance B (and the other way round)', async () => {
    const viaA = await tpA.mint(uniqueName('two'));
    const b = await connect(tpB, viaA, db.name);
    try {
      expect((await b.client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await endQuietly(b);
    }
    const viaB = await tpB.mint(uniqueName('two'));
    const a = await connect(tpA, viaB, db.name);
    try {
      expect((await a.client.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
    } finally {
      await endQuietly(a);
    }
  });

  it('revoking through A ends the live sessions on B (idle and busy) and on A', async () => {
    const agent = uniqueName('two_rev');
    const m = await tpA.mint(agent);
    const onB = await connect(tpB, m, db.name);
    const busyOnB = await connect(tpB, m, db.name);
    const onA = await connect(tpA, m, db.name);
    try {
      const sleeping = busyOnB.client.query('select pg_sleep(20)').then(
        () => null,
        (err: PgError) => err,
      );
      await waitActive(agent, db.name, 'pg_sleep(20)');
      const t0 = Date.now();
      expect(await tpA.store.revoke(m.user)).toBe(true);
      const queryErr = await within(sleeping, END_BOUND_MS);
      expect(queryErr).toMatchObject({ code: '57P01', message: expect.stringMatching(/revoked/) });
      expect(await waitEnded(onB, 'revoke via A, session on B')).toMatchObject({ code: '57P01', message: expect.stringMatching(/revoked/) });
      expect(await waitEnded(onA, 'revoke via A, session on A')).toMatchObject({ code: '57P01', message: expect.stringMatching(/revoked/) });
      const elapsed = Date.now() - t0;
      await waitBackendsGone(agent, db.name);
      // eslint-disable-next-line no-console
      console.log(`cross-instance revocation: sessions on B and A ended ${elapsed} ms after revoke() on A`);
      // and B refuses new logins with it
      await expect(connect(tpB, m, db.name)).rejects.toMatchObject({ code: '28P01' });
    } finally {
      await endQuietly(onB);
      await endQuietly(busyOnB);
      await endQuietly(onA);
    }
  });

  it("a CancelRequest sent to instance A cancels the query running on B's session (57014), and the session stays usable", async () => {
    const agent = uniqueName('two_cancel');
    const m = await tpA.mint(agent);
    const onB = await connect(tpB, m, db.name);
    try {
      const { processID, secretKey } = onB.client as unknown as { processID: number; secretKey: number };
      expect(typeof processID).toBe('number');
      const sleeping = onB.client.query('select pg_sleep(20)').then(
        () => null,
        (err: PgError) => err,
      );
      await waitActive(agent, db.name, 'pg_sleep(20)');
      await sendCancelRequest(tpA.host, tpA.port, processID, secretKey);
      const err = await within(sleeping, END_BOUND_MS);
      expect(err).toMatchObject({ code: '57014' });
      // a cancel ends the statement, not the session
      expect((await onB.client.query('select 3 as three')).rows).toEqual([{ three: 3 }]);
      expect(onB.watch.errors).toEqual([]);
    } finally {
      await endQuietly(onB);
    }
  });

  it('a CancelRequest sent to the owning instance itself cancels too (57014)', async () => {
    const agent = uniqueName('one_cancel');
    const m = await tpB.mint(agent);
    const onB = await connect(tpB, m, db.name);
    try {
      const { processID, secretKey } = onB.client as unknown as { processID: number; secretKey: number };
      const sleeping = onB.client.query('select pg_sleep(20)').then(
        () => null,
        (err: PgError) => err,
      );
      await waitActive(agent, db.name, 'pg_sleep(20)');
      await sendCancelRequest(tpB.host, tpB.port, processID, secretKey);
      const err = await within(sleeping, END_BOUND_MS);
      expect(err).toMatchObject({ code: '57014' });
    } finally {
      await endQuietly(onB);
    }
  });

  it('a CancelRequest with a wrong secret cancels nothing, on either instance', async () => {
    const agent = uniqueName('two_wrong');
    const m = await tpA.mint(agent);
    const target = await connect(tpB, m, db.name);
    // a second session whose (correct) cancel, sent after the wrong ones, proves they were all processed
    const sentinel = await connect(tpB, m, db.name);
    try {
      const { processID, secretKey } = target.client as unknown as { processID: number; secretKey: number };
      const s = sentinel.client as unknown as { processID: number; secretKey: number };
      const running = target.client.query('select pg_sleep(20) as target_sleep').then(
        () => null,
        (err: PgError) => err,
      );
      const sentinelRun = sentinel.client.query('select pg_sleep(20)').then(
        () => null,
        (err: PgError) => err,
      );
      await pollUntil('both statements running upstream', async () => {
        const r = await adminQuery(AGENT_BACKENDS_SQL(agent), db.name);
        return r.rows.filter((x: { state: string; query: string }) => x.state === 'active' && x.query.includes('pg_sleep')).length === 2;
      });
      const wrong = (secretKey ^ 0x5a5a5a5a) | 0;
      await sendCancelRequest(tpA.host, tpA.port, processID, wrong); // relayed through Redis
      await sendCancelRequest(tpB.host, tpB.port, processID, wrong); // owner itself
      await sendCancelRequest(tpB.host, tpB.port, processID + 1, secretKey); // wrong pid, right secret
      await sendCancelRequest(tpA.host, tpA.port, s.processID, s.secretKey);
      expect(await within(sentinelRun, END_BOUND_MS)).toMatchObject({ code: '57014' });
      // the sentinel's cancel went through A, Redis and B after the wrong ones; the target still runs
      const stillRunning = (await adminQuery(AGENT_BACKENDS_SQL(agent), db.name)).rows.filter(
        (x: { state: string; query: string }) => x.state === 'active' && x.query.includes('target_sleep'),
      );
      expect(stillRunning.length).toBe(1);
      // only now does the right secret end it
      await sendCancelRequest(tpA.host, tpA.port, processID, secretKey);
      expect(await within(running, END_BOUND_MS)).toMatchObject({ code: '57014' });
    } finally {
      await endQuietly(target);
      await endQuietly(sentinel);
    }
  });
});

describe('a revocation that lands while the session is still logging in upstream', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  let relay: GatedRelay;
  const prefix = `${uniqueName('swtest_race')}:`;

  beforeAll(async () => {
    db = await createTestDatabase('swrace');
    await adminQuery('create table side_effects (who text)', db.name);
    // the target's upstream sits behind a relay that holds each connection until the test releases it
    relay = await startGatedRelay(PG);
    tp = await startTestProxy({
      database: db.name,
      redisPrefix: prefix,
      targetsYaml: `  - name: gated\n    protocol: postgres\n    host: 127.0.0.1\n    port: ${relay.port}\n    database: ${db.name}\n    user: ${PG.user}\n`,
    });
  });
  afterAll(async () => {
    await tp?.close();
    await relay?.close();
    await db?.drop();
    await cleanRedisPrefix(prefix);
  });

  // A revocation published while the upstream login is still in flight must not be missed:
  // once revoke() has resolved true, nothing more of that credential runs upstream.
  it('no statement of the credential runs after revoke() resolved, even when the login was mid-way', async () => {
    const agent = uniqueName('race');
    const m = await tp.mint(agent, { target: 'gated' });
    const c = new pg.Client({ connectionString: m.url });
    watchClient(c);
    const held = relay.nextConnection();
    const connecting = c.connect().then(
      () => null,
      (err: PgError) => err,
    );
    // queued now, sent by pg the moment the login completes
    const inserted = c.query(`insert into side_effects values ('${agent}')`).then(
      () => null,
      (err: PgError) => err,
    );
    await held; // sqlwarden accepted the credential and is connecting upstream
    expect(await tp.store.revoke(m.user)).toBe(true);
    relay.release();
    await within(connecting, END_BOUND_MS);
    await within(inserted, END_BOUND_MS);
    const rows = (await adminQuery(`select count(*)::int as n from side_effects where who = '${agent}'`, db.name)).rows[0].n as number;
    await c.end().catch(() => {});
    expect(rows).toBe(0);
  });
});
