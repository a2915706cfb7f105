import postgres from 'postgres';
import { adminQuery, createTestDatabase } from '../helpers/servers.js';
import { startTestProxy, type MintedForTest, type TestProxy } from '../helpers/proxy.js';
import { MarkerDenyDecider } from '../helpers/deny-decider.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

type Sql = ReturnType<typeof postgres>;

describe('postgres.js through the proxy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  let m: MintedForTest;
  const decider = new MarkerDenyDecider();
  const open: Sql[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('swpgjs');
    tp = await startTestProxy({ database: db.name, decider });
    m = await tp.mint('postgres-js-agent');
    const sql = connect();
    await sql`create table items (id int primary key, name text not null, qty int not null default 0)`;
    await sql.end();
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.end({ timeout: 2 }).catch(() => {})));
    await tp?.close();
    await db?.drop();
  });

  function connect(opts: postgres.Options<Record<string, postgres.PostgresType>> = {}): Sql {
    const sql = postgres(m.url, { max: 1, onnotice: () => {}, connect_timeout: 10, ...opts });
    open.push(sql);
    return sql;
  }

  it('runs tagged-template queries with parameters (named prepared statements)', async () => {
    const sql = connect();
    const r = await sql`select ${7}::int as n, ${'héllo ✓'}::text as t, ${null}::text as z, ${new Date('2024-01-02T03:04:05.678Z')}::timestamptz as ts /* pgjs-params */`;
    expect(r).toHaveLength(1);
    expect(r[0]).toEqual({ n: 7, t: 'héllo ✓', z: null, ts: new Date('2024-01-02T03:04:05.678Z') });
    expect(r.columns.map((c) => c.name)).toEqual(['n', 't', 'z', 'ts']);
    const before = decider.seen.filter((s) => s.msg.sql.includes('pgjs-reuse')).length;
    for (const i of [1, 2, 3, 4, 5]) {
      const rr = await sql`select ${i}::int * 3 as x /* pgjs-reuse */`;
      expect(rr[0].x).toBe(i * 3);
    }
    // prepared once, then executed by name
    const parses = decider.seen.filter((s) => s.msg.sql.includes('pgjs-reuse'));
    expect(parses.length - before).toBe(1);
    expect(parses[parses.length - 1].msg.carrier).toBe('parse');
    const ps = await sql`select name from pg_prepared_statements where statement like ${'%pgjs-reuse%'}`;
    expect(ps).toHaveLength(1);
    expect(ps[0].name).not.toBe('');
  });

  it('also works with unnamed statements (prepare: false)', async () => {
    const sql = connect({ prepare: false });
    const r = await sql`select ${41}::int + 1 as n`;
    expect(r[0].n).toBe(42);
    const ps = await sql`select count(*)::int as n from pg_prepared_statements`;
    expect(ps[0].n).toBe(0);
  });

  it('commits sql.begin transactions and rolls back on a thrown error', async () => {
    const sql = connect();
    const [first] = await sql.begin(async (tx) => {
      await tx`insert into items (id, name, qty) values (${1}, ${'apple'}, ${3})`;
      await tx`update items set qty = qty + ${2} where id = ${1}`;
      return tx`select qty from items where id = ${1}`;
    });
    expect(first.qty).toBe(5);
    await expect(
      sql.begin(async (tx) => {
        await tx`insert into items (id, name) values (${2}, ${'pear'})`;
        await tx.savepoint(async (sp) => {
          await sp`insert into items (id, name) values (${3}, ${'plum'})`;
          throw new Error('undo the savepoint');
        }).catch(() => {});
        await tx`insert into items (id, name) values (${1}, ${'duplicate'})`;
      }),
    ).rejects.toMatchObject({ code: '23505' });
    const rows = await sql`select id, name, qty from items order by id`;
    expect(rows.map((r) => ({ ...r }))).toEqual([{ id: 1, name: 'apple', qty: 5 }]);
    // savepoints work within a committed transaction too
    await sql.begin(async (tx) => {
      await tx`insert into items (id, name) values (${10}, ${'kept'})`;
      await tx.savepoint(async (sp) => {
        await sp`insert into items (id, name) values (${11}, ${'dropped'})`;
        throw new Error('roll back to savepoint');
      }).catch(() => {});
    });
    const after = await sql`select id from items where id >= 10 order by id`;
    expect(after.map((r) => r.id)).toEqual([10]);
  });

  it('pipelines many concurrent queries on one connection (max: 1)', async () => {
    const sql = connect();
    const n = 300;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => (i % 3 === 0 ? sql`select ${i}::int as i, pg_backend_pid() as pid` : sql`select ${i}::int as i, pg_backend_pid() as pid, ${'s' + i}::text as s`)));
    expect(results.map((r) => r[0].i)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(new Set(results.map((r) => r[0].pid)).size).toBe(1);
    results.forEach((r, i) => {
      if (i % 3 !== 0) expect(r[0].s).toBe('s' + i);
    });
  });

  it('runs multi-statement strings with sql.unsafe (simple protocol)', async () => {
    const sql = connect();
    const res = await sql.unsafe('create temp table u (a int); insert into u values (1), (2), (3); select sum(a)::int as s from u; select 2 as two');
    // postgres.js returns a result per statement that produced one (it folds the CREATE into the next; same as direct)
    const all = res as unknown as postgres.RowList<postgres.Row[]>[];
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all[all.length - 2][0]).toEqual({ s: 6 });
    expect(all[all.length - 1][0]).toEqual({ two: 2 });
    // every statement ran: the temp table exists with its rows on this connection
    expect((await sql`select count(*)::int as n from u`)[0].n).toBe(3);
    const p = await sql.unsafe('select $1::int * 2 as d', [21]);
    expect(p[0]).toEqual({ d: 42 });
  });

  it('fails a denied statement with 42501 while concurrent allowed queries on the same connection succeed', async () => {
    const sql = connect();
    const n = 120;
    const settled = await Promise.allSettled(
      Array.from({ length: n }, (_, i) => {
        if (i === 40) return sql`select ${i}::int as forbidden_marker`;
        if (i === 80) return sql.unsafe('select 1 as forbidden_marker');
        return sql`select ${i}::int as i`;
      }),
    );
    settled.forEach((s, i) => {
      if (i === 40 || i === 80) {
        expect(s).toMatchObject({ status: 'rejected', reason: { code: '42501', message: expect.stringContaining('test-deny-marker') } });
      } else {
        expect(s.status).toBe('fulfilled');
        if (s.status === 'fulfilled') expect(s.value[0].i).toBe(i);
      }
    });
    // the same denied text again (postgres.js must not have cached a statement for it), then normal work
    await expect(sql`select ${1}::int as forbidden_marker`).rejects.toMatchObject({ code: '42501' });
    const r = await sql`select ${5}::int as five`;
    expect(r[0].five).toBe(5);
  });

  it('a denial inside sql.begin rolls the transaction back', async () => {
    const sql = connect();
    await expect(
      sql.begin(async (tx) => {
        await tx`insert into items (id, name) values (${100}, ${'in tx'})`;
        await tx`select 1 as forbidden_marker`;
      }),
    ).rejects.toMatchObject({ code: '42501' });
    const r = await sql`select count(*)::int as n from items where id = ${100}`;
    expect(r[0].n).toBe(0);
  });

  it('streams rows with cursor() and forEach()', async () => {
    const sql = connect();
    let batches = 0;
    let seen = 0;
    let sum = 0;
    await withTimeout(
      sql`select g from generate_series(1, ${20_000}::int) g`.cursor(1000, (rows) => {
        batches++;
        seen += rows.length;
        for (const r of rows) sum += r.g as number;
      }),
      30_000,
      'cursor to finish',
    );
    expect(batches).toBe(20);
    expect(seen).toBe(20_000);
    expect(sum).toBe((20_000 * 20_001) / 2);

    // an async-iterated cursor abandoned early leaves the connection usable
    let got = 0;
    for await (const rows of sql`select g from generate_series(1, 100000) g`.cursor(500)) {
      got += rows.length;
      if (got >= 1500) break;
    }
    expect(got).toBe(1500);

    let count = 0;
    let last = 0;
    const res = await sql`select g from generate_series(1, 5000) g`.forEach((row) => {
      count++;
      last = row.g as number;
    });
    expect(count).toBe(5000);
    expect(last).toBe(5000);
    expect(res.count).toBe(5000);
    expect((await sql`select 1 as one`)[0].one).toBe(1);
  });

  it('receives notices and LISTEN/NOTIFY through the proxy', async () => {
    const notices: postgres.Notice[] = [];
    const sql = connect({ onnotice: (n) => notices.push(n), max: 2 });
    await sql`do $$ begin raise notice 'pgjs notice %', 7; end $$`;
    expect(notices.map((n) => n.message)).toEqual(['pgjs notice 7']);
    const payloads: string[] = [];
    const listening = await sql.listen('pgjs_channel', (p) => payloads.push(p));
    await sql.notify('pgjs_channel', 'one');
    await sql`select pg_notify('pgjs_channel', ${'two'})`;
    await waitFor(() => payloads.length >= 2, 'two notifications', 5000);
    expect(payloads).toEqual(['one', 'two']);
    await listening.unlisten();
  });

  it('relays upstream error fields to postgres.js', async () => {
    const sql = connect();
    await sql`insert into items (id, name) values (${500}, ${'x'})`;
    const err = await sql`insert into items (id, name) values (${500}, ${'y'})`.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(postgres.PostgresError);
    expect(err).toMatchObject({ code: '23505', constraint_name: 'items_pkey', table_name: 'items', detail: 'Key (id)=(500) already exists.' });
    const nn = await sql`insert into items (id, name) values (${501}, ${null})`.catch((e: unknown) => e);
    expect(nn).toMatchObject({ code: '23502', column_name: 'name' });
  });

  it('ends cleanly: the upstream session disappears', async () => {
    const sql = postgres(m.url, { max: 1, onnotice: () => {} });
    const [{ pid }] = await sql`select pg_backend_pid() as pid`;
    await sql.end({ timeout: 5 });
    await waitFor(async () => (await adminQuery(`select count(*)::int as n from pg_stat_activity where pid = ${Number(pid)}`)).rows[0].n === 0, 'upstream backend to exit', 10_000);
  });
});
