import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { adminQuery, createTestDatabase } from '../helpers/servers.js';
import { startTestProxy, type MintedForTest, type TestProxy } from '../helpers/proxy.js';
import { MarkerDenyDecider } from '../helpers/deny-decider.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

/** node-postgres' canceller: `new Client(cfg).cancel(target, query)` opens a socket and sends CancelRequest. */
interface Canceller {
  cancel(client: pg.Client, query: pg.Query): void;
}

describe('node-postgres (pg) through the proxy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  let m: MintedForTest;
  const decider = new MarkerDenyDecider();
  const open: pg.Client[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('swpgdrv');
    tp = await startTestProxy({ database: db.name, decider });
    m = await tp.mint('pg-driver-agent');
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.end().catch(() => {})));
    await tp?.close();
    await db?.drop();
  });

  async function client(extra: Record<string, unknown> = {}): Promise<pg.Client> {
    const c = new pg.Client(tp.pgOptions(m, extra));
    c.on('error', () => {});
    await c.connect();
    open.push(c);
    return c;
  }

  /** Waits until the upstream runs `sql` as an active statement in this suite's database; returns its pid. */
  async function waitActive(sql: string): Promise<number> {
    return waitFor(async () => {
      const r = await adminQuery(`select pid from pg_stat_activity where datname = '${db.name}' and state = 'active' and query = '${sql.replace(/'/g, "''")}'`);
      return r.rows[0]?.pid as number | undefined;
    }, `upstream to run ${sql}`, 10_000);
  }

  /** Submits a query object so it can be cancelled; resolves with its error (or null when it completed). */
  function submit(c: pg.Client, text: string): { query: pg.Query; settled: Promise<(Error & { code?: string }) | null> } {
    const query = new pg.Query(text);
    const settled = new Promise<(Error & { code?: string }) | null>((resolve) => {
      query.on('error', (e: Error) => resolve(e));
      query.on('end', () => resolve(null));
    });
    c.query(query);
    return { query, settled };
  }

  it('runs a multi-statement simple Query and returns every result', async () => {
    const c = await client();
    const results = (await c.query(
      'create table simple_t (id int primary key, name text); insert into simple_t values (1, $$one$$), (2, $$two$$); select name from simple_t order by id',
    )) as unknown as pg.QueryResult[];
    expect(results).toHaveLength(3);
    expect(results[0].command).toBe('CREATE');
    expect(results[1]).toMatchObject({ command: 'INSERT', rowCount: 2 });
    expect(results[2].rows).toEqual([{ name: 'one' }, { name: 'two' }]);
  }, 60_000);

  it('carries parameters of many types through the extended protocol', async () => {
    const c = await client();
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const r = await c.query(
      'select $1::int as i, $2::text as t, $3::text as n, $4::bytea as b, $5::jsonb as j, $6::numeric as num, $7::timestamptz as ts, $8::bool as flag',
      [2147483647, 'héllo ✓ "quoted" \'single\'', null, bytes, { a: [1, 2, { b: 'c' }] }, '12345678901234567890.123', new Date('2024-02-29T12:34:56.789Z'), true],
    );
    expect(r.rows[0]).toEqual({
      i: 2147483647,
      t: 'héllo ✓ "quoted" \'single\'',
      n: null,
      b: bytes,
      j: { a: [1, 2, { b: 'c' }] },
      num: '12345678901234567890.123',
      ts: new Date('2024-02-29T12:34:56.789Z'),
      flag: true,
    });
    expect(r.fields.map((f) => f.name)).toEqual(['i', 't', 'n', 'b', 'j', 'num', 'ts', 'flag']);
  }, 60_000);

  it('prepares a named statement once and reuses it across calls', async () => {
    const c = await client();
    const text = 'select $1::int * 2 as doubled /* named-reuse */';
    const before = decider.seen.filter((s) => s.msg.sql === text).length;
    for (const n of [1, 2, 3, 21]) {
      const r = await c.query({ name: 'doubler', text, values: [n] });
      expect(r.rows).toEqual([{ doubled: n * 2 }]);
    }
    // pg sends Parse only the first time; later calls are Bind/Execute against the upstream's statement
    const parses = decider.seen.filter((s) => s.msg.sql === text);
    expect(parses.length - before).toBe(1);
    expect(parses[parses.length - 1].msg.carrier).toBe('parse');
    const ps = await c.query("select name, statement from pg_prepared_statements where name = 'doubler'");
    expect(ps.rows).toEqual([{ name: 'doubler', statement: text }]);
  }, 60_000);

  it('answers many queries issued at once on one client, in order', async () => {
    const c = await client();
    const n = 200;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => c.query(i % 2 ? 'select $1::int as i' : `select ${i} as i`, i % 2 ? [i] : undefined)));
    expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: n }, (_, i) => i));
  }, 60_000);

  it('pipelines queries (pg pipeline mode) with a denial and an error in the middle, the rest unaffected', async () => {
    const c = await client({ pipeline: true });
    const n = 150;
    const settled = await Promise.allSettled(
      Array.from({ length: n }, (_, i) => {
        if (i === 50) return c.query('select $1::int as forbidden_marker', [i]);
        if (i === 100) return c.query('select 1 / ($1::int - $1::int) as boom', [i]);
        return c.query('select $1::int as i', [i]);
      }),
    );
    settled.forEach((s, i) => {
      if (i === 50) expect(s).toMatchObject({ status: 'rejected', reason: { code: '42501', message: expect.stringContaining('test-deny-marker') } });
      else if (i === 100) expect(s).toMatchObject({ status: 'rejected', reason: { code: '22012' } });
      else expect(s).toMatchObject({ status: 'fulfilled', value: { rows: [{ i }] } });
    });
    const after = await c.query('select 7 as seven');
    expect(after.rows).toEqual([{ seven: 7 }]);
  }, 60_000);

  // more denials in flight than PgSession keeps rule details for: the evicted ones must still come back as 42501
  it('more than 1024 pipelined denials all fail with 42501, never leaking the marker', async () => {
    const c = await client({ pipeline: true });
    const settled = await Promise.allSettled(Array.from({ length: 1500 }, (_, i) => c.query(`select ${i} as forbidden_marker`)));
    const codes = settled.map((s) => (s.status === 'rejected' ? (s.reason as { code?: string }).code : 'ok'));
    expect(codes.filter((x) => x !== '42501')).toEqual([]);
    for (const s of settled) if (s.status === 'rejected') expect((s.reason as Error).message).not.toMatch(/sqlwarden_denied_/);
  }, 60_000);

  it('spreads a pg.Pool over several proxied connections', async () => {
    const pool = new pg.Pool({ ...tp.pgOptions(m), max: 4 });
    pool.on('error', () => {});
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.query('select pg_backend_pid() as pid, $1::int as i, pg_sleep(0.02)', [i])));
      expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      const pids = new Set(results.map((r) => r.rows[0].pid as number));
      expect(pids.size).toBe(4);
      expect(pool.totalCount).toBe(4);
      // each pooled connection is its own upstream session tagged with the agent
      const tags = await adminQuery(`select application_name from pg_stat_activity where pid in (${[...pids].join(',')})`);
      expect(tags.rows).toHaveLength(4);
      for (const row of tags.rows) expect(row.application_name).toMatch(/^sqlwarden:pg-driver-agent:[0-9a-f]{16}$/);
      // a transaction holds one pooled connection
      const pc = await pool.connect();
      try {
        await pc.query('begin');
        const a = await pc.query('select pg_backend_pid() as pid, txid_current() as x');
        const b = await pc.query('select pg_backend_pid() as pid, txid_current() as x');
        expect(b.rows[0]).toEqual(a.rows[0]);
        await pc.query('commit');
      } finally {
        pc.release();
      }
    } finally {
      await pool.end();
    }
  }, 60_000);

  it('round-trips 50k rows through COPY FROM STDIN and COPY TO STDOUT with equal checksums', async () => {
    const c = await client();
    await c.query('create table copy_t (id int primary key, label text, amount numeric(12,2))');
    const rows = 50_000;
    const sent = createHash('sha256');
    function* lines(): Generator<string> {
      // batches of lines, so chunks split rows and CopyData frames at arbitrary points
      let batch = '';
      for (let i = 1; i <= rows; i++) {
        const line = `${i}\tlabel-${i}-${'x'.repeat(i % 37)}\t${(i * 1.25).toFixed(2)}\n`;
        sent.update(line);
        batch += line;
        if (batch.length > 50_000) {
          yield batch;
          batch = '';
        }
      }
      if (batch) yield batch;
    }
    const ingest = c.query(copyFrom('COPY copy_t (id, label, amount) FROM STDIN'));
    await withTimeout(pipeline(Readable.from(lines()), ingest), 60_000, 'COPY FROM STDIN');
    expect(ingest.rowCount).toBe(rows);
    const expected = sent.digest('hex');

    const agg = await c.query('select count(*)::int as n, sum(id)::bigint as s, sum(amount)::text as a from copy_t');
    expect(agg.rows[0]).toEqual({ n: rows, s: String((rows * (rows + 1)) / 2), a: ((1.25 * rows * (rows + 1)) / 2).toFixed(2) });

    const got = createHash('sha256');
    let bytes = 0;
    const out = c.query(copyTo('COPY (select id, label, amount from copy_t order by id) TO STDOUT'));
    await withTimeout(
      pipeline(out, async function (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          got.update(chunk);
          bytes += chunk.length;
        }
      }),
      60_000,
      'COPY TO STDOUT',
    );
    expect(bytes).toBeGreaterThan(rows * 10);
    expect(got.digest('hex')).toBe(expected);
    // the connection is in a clean state after both COPYs
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  }, 60_000);

  it('reports a COPY that fails upstream with its SQLSTATE and stays usable', async () => {
    const c = await client();
    await c.query('create table copy_bad (id int primary key)');
    const ingest = c.query(copyFrom('COPY copy_bad FROM STDIN'));
    await expect(withTimeout(pipeline(Readable.from(['1\n2\n', '2\n3\n']), ingest), 30_000, 'failing COPY')).rejects.toMatchObject({ code: '23505' });
    expect((await c.query('select count(*)::int as n from copy_bad')).rows).toEqual([{ n: 0 }]);
  }, 60_000);

  it('denies COPY FROM STDIN and COPY TO STDOUT with 42501 and the connection stays usable', async () => {
    const c = await client();
    await c.query('create table copy_denied (id int)');
    const ingest = c.query(copyFrom('COPY copy_denied FROM STDIN /* forbidden_marker */'));
    await expect(withTimeout(pipeline(Readable.from(['1\n2\n']), ingest), 10_000, 'denied COPY FROM')).rejects.toMatchObject({
      code: '42501',
      message: expect.stringContaining('test-deny-marker'),
    });
    expect((await c.query('select count(*)::int as n from copy_denied')).rows).toEqual([{ n: 0 }]);
    const out = c.query(copyTo('COPY copy_denied TO STDOUT /* forbidden_marker */'));
    await expect(
      withTimeout(
        pipeline(out, async function (source: AsyncIterable<Buffer>) {
          for await (const _ of source);
        }),
        10_000,
        'denied COPY TO',
      ),
    ).rejects.toMatchObject({ code: '42501' });
    expect((await c.query('select 3 as three')).rows).toEqual([{ three: 3 }]);
  }, 60_000);

  it('keeps a COPY TO STDOUT intact when the client reads slowly (flow control)', async () => {
    const c = await client();
    const sqlText = "COPY (select g, repeat(chr(65 + g % 26), 200) from generate_series(1, 150000) g) TO STDOUT";
    const expected = createHash('sha256');
    for (let g = 1; g <= 150_000; g++) expected.update(`${g}\t${String.fromCharCode(65 + (g % 26)).repeat(200)}\n`);
    const got = createHash('sha256');
    let chunks = 0;
    const out = c.query(copyTo(sqlText));
    await withTimeout(
      pipeline(out, async function (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          got.update(chunk);
          // stall now and then so the proxy's buffers toward the client fill up
          if (++chunks % 200 === 1) await new Promise((r) => setTimeout(r, 100));
        }
      }),
      60_000,
      'slow COPY TO',
    );
    expect(got.digest('hex')).toBe(expected.digest('hex'));
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  }, 60_000);

  it('cancels a running query with a CancelRequest: 57014, and the connection stays usable', async () => {
    const c = await client();
    const { query, settled } = submit(c, 'select pg_sleep(25) /* cancel-me */');
    const upstreamPid = await waitActive('select pg_sleep(25) /* cancel-me */');
    // the key the client holds is sqlwarden's own, never the upstream backend's
    expect((c as unknown as { processID: number }).processID).not.toBe(upstreamPid);
    (new pg.Client(tp.pgOptions(m)) as unknown as Canceller).cancel(c, query);
    const err = await withTimeout(settled, 15_000, 'the cancelled query to end');
    expect(err).toMatchObject({ code: '57014', message: expect.stringContaining('canceling statement due to user request') });
    const r = await c.query('select pg_backend_pid() as pid, 1 as ok');
    expect(r.rows).toEqual([{ pid: upstreamPid, ok: 1 }]);
  }, 60_000);

  it('cancels only the session whose key is sent, and ignores a wrong secret', async () => {
    const a = await client();
    const b = await client();
    const qa = submit(a, 'select pg_sleep(25) /* cancel-a */');
    const qb = submit(b, 'select pg_sleep(1.5) /* keep-b */');
    await waitActive('select pg_sleep(25) /* cancel-a */');
    await waitActive('select pg_sleep(1.5) /* keep-b */');
    // a CancelRequest with the right pid but a wrong secret does nothing
    const forged = new pg.Client(tp.pgOptions(m)) as unknown as Canceller;
    const real = a as unknown as { processID: number; secretKey: number; activeQuery: unknown };
    forged.cancel({ processID: real.processID, secretKey: (real.secretKey ^ 0x5a5a5a5a) | 0, activeQuery: qa.query } as unknown as pg.Client, qa.query);
    (new pg.Client(tp.pgOptions(m)) as unknown as Canceller).cancel(a, qa.query);
    expect(await withTimeout(qa.settled, 15_000, 'query a to be cancelled')).toMatchObject({ code: '57014' });
    expect(await withTimeout(qb.settled, 15_000, 'query b to complete')).toBeNull();
    expect((await b.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  }, 60_000);

  it('ignores a forged cancel key entirely', async () => {
    const c = await client();
    const q = submit(c, 'select pg_sleep(1) /* forged-only */');
    await waitActive('select pg_sleep(1) /* forged-only */');
    const real = c as unknown as { processID: number; secretKey: number };
    const fake = { processID: real.processID, secretKey: (real.secretKey + 1) | 0, activeQuery: q.query } as unknown as pg.Client;
    (new pg.Client(tp.pgOptions(m)) as unknown as Canceller).cancel(fake, q.query);
    expect(await withTimeout(q.settled, 15_000, 'the query to complete')).toBeNull();
  }, 60_000);

  it('delivers LISTEN/NOTIFY notifications between two proxied connections', async () => {
    const listener = await client();
    const notifier = await client();
    const got: pg.Notification[] = [];
    listener.on('notification', (n) => got.push(n));
    await listener.query('LISTEN sw_channel');
    await notifier.query("NOTIFY sw_channel, 'first payload'");
    await notifier.query("select pg_notify('sw_channel', $1)", ['second ✓ payload']);
    // a notification inside a transaction arrives only at commit
    await notifier.query('begin');
    await notifier.query("NOTIFY sw_channel, 'after commit'");
    await notifier.query('commit');
    await waitFor(() => got.length >= 3, 'three notifications', 5000);
    expect(got.map((n) => [n.channel, n.payload])).toEqual([
      ['sw_channel', 'first payload'],
      ['sw_channel', 'second ✓ payload'],
      ['sw_channel', 'after commit'],
    ]);
    // an idle listener receives asynchronously, without issuing a query
    await notifier.query("NOTIFY sw_channel, 'while idle'");
    await waitFor(() => got.length >= 4, 'a notification on an idle connection', 5000);
    expect(got[3].payload).toBe('while idle');
    await listener.query('UNLISTEN sw_channel');
  }, 60_000);

  it('relays NoticeResponse messages to the client', async () => {
    const c = await client();
    const notices: unknown[] = [];
    c.on('notice', (n) => notices.push(n));
    await c.query("DO $$ BEGIN RAISE NOTICE 'hello from plpgsql %', 42; RAISE WARNING 'careful' USING HINT = 'a hint'; END $$");
    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatchObject({ severity: 'NOTICE', code: '00000', message: 'hello from plpgsql 42' });
    expect(notices[1]).toMatchObject({ severity: 'WARNING', code: '01000', message: 'careful', hint: 'a hint' });
  }, 60_000);

  it('relays upstream errors with their SQLSTATE and fields', async () => {
    const c = await client();
    await c.query('create table uniq_t (id int constraint uniq_t_pk primary key, v text)');
    await c.query('insert into uniq_t values (1, $1)', ['a']);
    const err = await c.query('insert into uniq_t values (1, $1)', ['b']).catch((e: unknown) => e);
    expect(err).toMatchObject({
      severity: 'ERROR',
      code: '23505',
      constraint: 'uniq_t_pk',
      table: 'uniq_t',
      schema: 'public',
      detail: 'Key (id)=(1) already exists.',
      message: 'duplicate key value violates unique constraint "uniq_t_pk"',
    });
    // a genuine syntax error (42601, the code sqlwarden's own denial marker produces upstream) passes unchanged, with its position
    await expect(c.query('select 1 as forbidden_marker')).rejects.toMatchObject({ code: '42501' });
    const syn = await c.query('select * fromm uniq_t').catch((e: unknown) => e);
    expect(syn).toMatchObject({ code: '42601', position: '10', message: 'syntax error at or near "fromm"' });
    const undef = await c.query('select nope from uniq_t').catch((e: unknown) => e);
    expect(undef).toMatchObject({ code: '42703', message: 'column "nope" does not exist' });
    expect((await c.query('select count(*)::int as n from uniq_t')).rows).toEqual([{ n: 1 }]);
  }, 60_000);

  it('delivers a large result complete (200k rows) and a 16 MiB value intact', async () => {
    const c = await client();
    const r = await c.query("select g as id, md5(g::text) as h from generate_series(1, 200000) g");
    expect(r.rowCount).toBe(200_000);
    expect(r.rows).toHaveLength(200_000);
    expect(r.rows[0]).toEqual({ id: 1, h: createHash('md5').update('1').digest('hex') });
    expect(r.rows[199_999]).toEqual({ id: 200_000, h: createHash('md5').update('200000').digest('hex') });
    let sum = 0;
    for (const row of r.rows as { id: number }[]) sum += row.id;
    expect(sum).toBe((200_000 * 200_001) / 2);

    const big = await c.query("select repeat('abcdefgh', 2 * 1024 * 1024) as v");
    const v = big.rows[0].v as string;
    expect(v.length).toBe(16 * 1024 * 1024);
    expect(createHash('sha256').update(v).digest('hex')).toBe(createHash('sha256').update('abcdefgh'.repeat(2 * 1024 * 1024)).digest('hex'));
  }, 60_000);

  it('carries a large Bind parameter and a large simple Query upstream intact', async () => {
    const c = await client();
    const param = 'p'.repeat(8 * 1024 * 1024) + '✓';
    const r1 = await c.query('select length($1::text) as n, md5($1::text) as h', [param]);
    expect(r1.rows[0]).toEqual({ n: param.length, h: createHash('md5').update(param).digest('hex') });
    const lit = 'q'.repeat(2 * 1024 * 1024);
    const r2 = await c.query(`select length('${lit}') as n`);
    expect(r2.rows).toEqual([{ n: lit.length }]);
  }, 60_000);

  it('closes cleanly on Terminate: the upstream backend goes away', async () => {
    const c = new pg.Client(tp.pgOptions(m));
    await c.connect();
    const { pid } = (await c.query('select pg_backend_pid() as pid')).rows[0] as { pid: number };
    expect((await adminQuery(`select count(*)::int as n from pg_stat_activity where pid = ${pid}`)).rows[0].n).toBe(1);
    const ended = new Promise<void>((resolve) => c.once('end', () => resolve()));
    await c.end();
    await withTimeout(ended, 5000, 'the client connection to end');
    await waitFor(async () => (await adminQuery(`select count(*)::int as n from pg_stat_activity where pid = ${pid}`)).rows[0].n === 0, 'the upstream backend to exit', 10_000);
  }, 60_000);
});

describe('lexer-changing settings end the session (fail closed), even where a policy let the SET through', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  beforeAll(async () => {
    db = await createTestDatabase();
    // a decider that allows the SET, to prove the engine's own guard behind the policy
    tp = await startTestProxy({ database: db.name, decider: new MarkerDenyDecider() });
  });
  afterAll(async () => {
    await tp?.close();
    await db?.drop();
  });

  it.each([
    ["set client_encoding = 'SJIS'", 'client_encoding'],
    ['set standard_conforming_strings = off', 'standard_conforming_strings'],
  ])('%s ends the session with a message naming the setting', async (sql, setting) => {
    const m = await tp.mint('encoding-agent');
    const c = new pg.Client(tp.pgOptions(m));
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    await c.query(sql).catch((e: Error) => errors.push(e));
    await waitFor(() => errors.length > 0, 'the session to end', 5000);
    expect(errors.map((e) => e.message).join(' ')).toContain(setting);
    await c.end().catch(() => {});
  });
});
