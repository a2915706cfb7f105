/**
 * Leaks through the catalog and through formats the masker did not read, through the proxy:
 *
 * - planner statistics (pg_stats, pg_stats_ext, pg_stats_ext_exprs, pg_statistic,
 *   pg_statistic_ext_data, pg_mcv_list_items) hold sample values of masked columns: refused while masks
 *   apply; a view over them is masked; ordinary catalog queries (psql \d) still work;
 * - partitions, partitions of partitions, inheritance children and a table attached as a partition
 *   are masked like their ancestors (rows, COPY, predicates, errors);
 * - binary arrays of text-like elements are scanned by detectors; json[] elements with a finding stay
 *   JSON in text format;
 * - a COPY that cannot be masked is refused before its request is sent: a later statement of the same
 *   simple query does not run; refusals are counted as blocked.
 */
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { decodePgBinaryArray } from '@sqlwarden/policy';
import type { MintedForTest } from '../helpers/proxy.js';
import { killAllCli, PSQL, runCli } from '../helpers/run-cli.js';
import { withTimeout } from '../helpers/wait.js';
import { directClient, errorText, extended, flatten, leakedForms, policyWithMasks, proxiedClient, RAW_TYPES, rejection, startMaskingEnv, type ClientExtra, type MaskingEnv } from './support.js';

const EMAIL = 'zoe.private@example.com';
const SSN = '321-54-9876';
const CODE = 'QX7-ZEBRA-991';

/** secrets of the partitioned and inherited tables, per table (each its own so a leak names its path) */
const ROW_SECRETS: Record<string, string[]> = {
  customers_2024: ['p24.mail@example.com', '111-22-3333', 'CODE-P24-AAA'],
  customers_2025_eu: ['p25eu.mail@example.com', '222-33-4444', 'CODE-P25-BBB'],
  people_vip: ['vip.mail@example.com', '333-44-5555', 'CODE-VIP-CCC'],
  staging: ['staged.mail@example.com', '444-55-6666', 'CODE-STG-DDD'],
};

const MASKS = `  - id: cat-email
    columns: ["contacts.email", "customers.email", "people.email"]
    function: redact
  - id: cat-ssn
    columns: ["contacts.ssn", "customers.ssn", "people.ssn"]
    function: redact
    deny_in_predicates: true
  - id: cat-code
    columns: ["contacts.code", "customers.code", "people.code"]
    function: redact
  - id: cat-pii
    detectors: [email, us_ssn, credit_card]
    function: redact
`;

const row = (id: number, s: string[], region = 'eu'): string => `(${id}, '${s[0]}', '${s[1]}', '${s[2]}', '${region}')`;

const SETUP = `
create table contacts (id int, email text, ssn text, code text);
insert into contacts select g, '${EMAIL}', '${SSN}', '${CODE}' from generate_series(1, 200) g;
insert into contacts select g, 'other' || g || '@example.org', '555-0' || g, 'C' || g from generate_series(201, 230) g;
create statistics contacts_stx (mcv) on email, code from contacts;
create statistics contacts_expr on (lower(email)) from contacts;
analyze contacts;
create view stats_view as select tablename, attname, most_common_vals::text as mcv from pg_stats;

create table customers (id int, email text, ssn text, code text, region text) partition by range (id);
create table customers_2024 partition of customers for values from (1) to (100);
create table customers_2025 partition of customers for values from (100) to (200) partition by list (region);
create table customers_2025_eu partition of customers_2025 for values in ('eu');
insert into customers values ${row(1, ROW_SECRETS.customers_2024!)}, ${row(150, ROW_SECRETS.customers_2025_eu!)};
create table staging (id int, email text, ssn text, code text, region text);
insert into staging values ${row(300, ROW_SECRETS.staging!)};

create table people (id int, email text, ssn text, code text, region text);
create table people_vip (level int) inherits (people);
insert into people_vip values ${row(1, ROW_SECRETS.people_vip!).slice(0, -1)}, 1);

create table arrs (id int, t text[], v varchar[], j json[], jb jsonb[], n int[]);
insert into arrs values (1,
  array['mail ${EMAIL} now', 'plain'], array['${SSN}']::varchar[],
  array['4539578763621486'::json, '"${EMAIL}"'::json, '{"a": "${SSN}"}'::json],
  array['{"to": "${EMAIL}"}'::jsonb, '4539578763621486'::jsonb], array[1, 2]);

create table victims (id int);
insert into victims select generate_series(1, 3);
`;

interface CopyOutcome {
  data: Buffer;
  error?: Error & { code?: string };
}

async function copyOut(c: pg.Client, sql: string): Promise<CopyOutcome> {
  const chunks: Buffer[] = [];
  try {
    await withTimeout(
      pipeline(c.query(copyTo(sql)), async function (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) chunks.push(chunk);
      }),
      30_000,
      sql,
    );
    return { data: Buffer.concat(chunks) };
  } catch (err) {
    return { data: Buffer.concat(chunks), error: err as Error & { code?: string } };
  }
}

describe('catalog and format leaks through the proxy', () => {
  let env: MaskingEnv;
  let m: MintedForTest;
  let direct: pg.Client;
  const closers: (() => Promise<unknown>)[] = [];
  const ALL_SECRETS = [EMAIL, SSN, CODE, '4539578763621486', ...Object.values(ROW_SECRETS).flat()];

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskcat', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-catalog-agent');
    direct = await directClient(env.db.name);
  }, 60_000);
  afterAll(async () => {
    killAllCli();
    for (const c of closers) await c().catch(() => {});
    await direct?.end().catch(() => {});
    await env?.close();
  }, 60_000);

  async function client(extra: ClientExtra = {}): Promise<pg.Client> {
    const c = await proxiedClient(env.tp, m, extra);
    closers.push(() => c.end());
    return c;
  }

  // ---- 1. planner statistics ------------------------------------------------------------------

  const STATS_QUERIES = [
    "select histogram_bounds, most_common_vals from pg_stats where tablename = 'contacts'",
    'select * from pg_catalog.pg_stats',
    "select attname from pg_stats where tablename = 'contacts' and most_common_vals::text like '%zoe%'",
    'select most_common_vals from pg_stats_ext',
    'select * from pg_stats_ext_exprs',
    'select stavalues1 from pg_statistic',
    'select stxdmcv from pg_catalog.pg_statistic_ext_data',
    'select * from pg_mcv_list_items(null::pg_mcv_list)',
    "select id from contacts where exists (select 1 from pg_stats where most_common_vals::text like '%321-54%') limit 1",
    'with s as (select * from pg_stats) select count(*) from s',
  ];

  it('directly, the statistics show the masked values', async () => {
    const r = await direct.query("select most_common_vals::text as v from pg_stats where tablename = 'contacts'");
    expect(leakedForms(flatten(r.rows), [EMAIL, SSN, CODE]).length).toBeGreaterThan(0);
    const x = await direct.query('select most_common_vals::text as v from pg_stats_ext');
    expect(flatten(x.rows)).toContain(CODE.toLowerCase());
  });

  it.each(STATS_QUERIES)('%s is refused (text and binary), naming the masking, and nothing leaks', async (sql) => {
    for (const [extra, q] of [
      [{}, sql],
      [{ binary: true }, extended(sql)],
    ] as const) {
      const c = await client(extra);
      const err = await rejection(c.query(q as string));
      expect(err).toMatchObject({ code: '42501' });
      expect(err.message).toMatch(/planner statistics.*masks apply/);
      expect(leakedForms(errorText(err), ALL_SECRETS)).toEqual([]);
      expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    }
  });

  it('a view over pg_stats is masked, not shown', async () => {
    const c = await client();
    const r = await c.query("select attname, mcv from stats_view where tablename = 'contacts'");
    expect(r.rows.length).toBeGreaterThan(0);
    expect(leakedForms(flatten(r.rows), [EMAIL, SSN, CODE])).toEqual([]);
  });

  it('ordinary catalog queries still work: pg_attribute, pg_statistic_ext (definitions), psql \\d and \\d+', async () => {
    const c = await client();
    const a = await c.query("select attname from pg_attribute where attrelid = 'contacts'::regclass and attnum > 0 order by attnum");
    expect(a.rows.map((x: { attname: string }) => x.attname)).toEqual(['id', 'email', 'ssn', 'code']);
    const s = await c.query('select stxname from pg_statistic_ext order by stxname');
    expect(s.rows.map((x: { stxname: string }) => x.stxname)).toEqual(['contacts_expr', 'contacts_stx']);
    for (const meta of ['\\d contacts', '\\d+ contacts', '\\d+ customers']) {
      const r = await runCli(PSQL, ['-X', '-d', m.url, '-c', meta], { timeoutMs: 30_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/email/);
    }
  }, 60_000);

  it('psql: pg_stats is refused', async () => {
    const r = await runCli(PSQL, ['-X', '-A', '-t', '-d', m.url, '-c', "select most_common_vals from pg_stats where tablename = 'contacts'"], { timeoutMs: 30_000 });
    expect(r.stderr).toMatch(/planner statistics/);
    expect(leakedForms((r.stdout + r.stderr).toLowerCase(), [EMAIL, SSN, CODE])).toEqual([]);
  }, 60_000);

  // ---- 2. partitions and inheritance ----------------------------------------------------------

  const CHILDREN = ['customers_2024', 'customers_2025', 'customers_2025_eu', 'people_vip', 'only customers_2024', 'customers'];

  it('directly, the children show their values', async () => {
    const r = await direct.query('select email, ssn, code from customers_2025_eu union all select email, ssn, code from people_vip');
    expect(leakedForms(flatten(r.rows), ALL_SECRETS).length).toBeGreaterThan(0);
  });

  it.each(CHILDREN)('select from %s: masked like its ancestors (text and binary, plain and computed columns)', async (rel) => {
    for (const [extra, wrap] of [
      [{}, (s: string) => s],
      [{ binary: true, types: RAW_TYPES }, (s: string) => extended(s)],
    ] as const) {
      const c = await client(extra as ClientExtra);
      for (const sql of [`select * from ${rel}`, `select id, lower(email) as e, ssn || '' as s, upper(code) as k from ${rel}`, `select row_to_json(x) as j from ${rel} x`]) {
        const r = await c.query(wrap(sql) as string);
        expect(r.rows.length).toBeGreaterThan(0);
        expect(leakedForms(flatten(r.rows), ALL_SECRETS)).toEqual([]);
      }
    }
  });

  it.each(['customers_2024', 'customers_2025_eu', 'people_vip'])('COPY %s TO STDOUT is masked like its ancestors', async (rel) => {
    const c = await client();
    for (const sql of [`COPY ${rel} TO STDOUT`, `COPY (select email, ssn, code from ${rel}) TO STDOUT (FORMAT csv)`, `COPY ${rel} TO STDOUT (FORMAT binary)`]) {
      const got = await copyOut(c, sql);
      expect(got.error).toBeUndefined();
      expect(got.data.length).toBeGreaterThan(0);
      expect(leakedForms(got.data.toString('latin1').toLowerCase(), ALL_SECRETS)).toEqual([]);
    }
  });

  it.each(['customers_2024', 'customers_2025_eu', 'people_vip'])('a predicate on %s.ssn is refused (deny_in_predicates of the ancestor)', async (rel) => {
    const c = await client();
    const err = await rejection(c.query(`select id from ${rel} where ssn like '1%'`));
    expect(err).toMatchObject({ code: '42501' });
    expect(err.message).toMatch(/cat-ssn/);
  });

  it.each(['customers_2024', 'people_vip'])('an error echoing a value of %s is cleaned', async (rel) => {
    const c = await client();
    const err = await rejection(c.query(`select code::int from ${rel}`));
    expect(err).toMatchObject({ code: '22P02' });
    expect(leakedForms(errorText(err), ALL_SECRETS)).toEqual([]);
  });

  it('a table attached as a partition of a masked table is masked from then on', async () => {
    const c = await client();
    // before: an ordinary table, shown as it is (and its columns cached)
    const before = await c.query('select code from staging');
    expect(before.rows).toEqual([{ code: ROW_SECRETS.staging![2] }]);
    await c.query("alter table customers attach partition staging for values from (300) to (400)");
    try {
      for (const sql of ['select * from staging', 'select lower(email) as e from staging']) {
        const r = await c.query(sql);
        expect(leakedForms(flatten(r.rows), ALL_SECRETS)).toEqual([]);
      }
      const got = await copyOut(c, 'COPY staging TO STDOUT');
      expect(got.error).toBeUndefined();
      expect(leakedForms(got.data.toString('latin1').toLowerCase(), ALL_SECRETS)).toEqual([]);
      await expect(c.query("select id from staging where ssn like '4%'")).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.query('alter table customers detach partition staging');
    }
  });

  // ---- 3. arrays ----------------------------------------------------------------------------

  it('binary arrays of text, varchar, json and jsonb are scanned by detectors and still decode; int[] passes', async () => {
    const d = await directClient(env.db.name, { binary: true, types: RAW_TYPES });
    closers.push(() => d.end());
    const raw = await d.query(extended('select t, v, j, jb, n from arrs'));
    expect(leakedForms(flatten(raw.rows), [EMAIL, SSN, '4539578763621486']).length).toBeGreaterThan(0);

    const c = await client({ binary: true, types: RAW_TYPES });
    const r = await c.query(extended('select t, v, j, jb, n from arrs'));
    expect(leakedForms(flatten(r.rows), [EMAIL, SSN, '4539578763621486'])).toEqual([]);
    const row0 = r.rows[0] as Record<string, Buffer>;
    const els = (k: string): (string | null)[] => decodePgBinaryArray(row0[k]!).elements.map((e) => (e === null ? null : e.toString('utf8')));
    expect(els('t')).toEqual(['mail [redacted] now', 'plain']);
    expect(els('v')).toEqual(['[redacted]']);
    expect(els('j').map((e) => JSON.parse(e!) as unknown)).toEqual(['[redacted]', '[redacted]', { a: '[redacted]' }]);
    // node-postgres reads binary fields through UTF-8 first, which breaks jsonb[]'s element type OID (0x0eda): its elements by their text
    expect(row0.jb!.toString('utf8')).toContain('\x01{"to": "[redacted]"}');
    expect(row0.jb!.toString('utf8')).toContain('\x01"[redacted]"');
    expect(row0.n!.equals((raw.rows[0] as Record<string, Buffer>).n!)).toBe(true);
  });

  it('json[] and jsonb[] in text format: an element with a finding stays JSON (the driver parses it)', async () => {
    const c = await client();
    const r = await c.query('select j, jb from arrs');
    expect(r.rows[0]).toEqual({ j: ['[redacted]', '[redacted]', { a: '[redacted]' }], jb: [{ to: '[redacted]' }, '[redacted]'] });
    // and Postgres parses it back
    const t = await client({ types: RAW_TYPES });
    const text = await t.query('select j, jb from arrs');
    const back = await direct.query('select $1::json[] as j, $2::jsonb[] as jb', [(text.rows[0] as { j: string }).j, (text.rows[0] as { jb: string }).jb]);
    expect(back.rows[0]).toEqual(r.rows[0]);
  });

  // ---- 4. COPY refused before its request runs ------------------------------------------------

  it('a COPY that cannot be masked is refused before the request is sent: a later DELETE of the same query does not run', async () => {
    const blocked = async (): Promise<number> => (await env.tp.metrics.blocked.get()).values.reduce((n, v) => n + v.value, 0);
    const before = await blocked();
    const c = await client();
    for (const sql of ["COPY contacts TO STDOUT (ENCODING 'LATIN1'); DELETE FROM victims", "COPY contacts TO STDOUT (NULL ''); DELETE FROM victims"]) {
      const err = await rejection(c.query(sql));
      expect(err).toMatchObject({ code: '42501' });
      expect(err.message).toMatch(/COPY refused/);
      expect((await direct.query('select count(*)::int as n from victims')).rows[0].n).toBe(3);
    }
    expect(await blocked()).toBeGreaterThanOrEqual(before + 2);
    // psql's simple query with a temporary table the catalog cannot see
    const r = await runCli(PSQL, ['-X', '-d', m.url, '-c', 'create temp table tt as select * from contacts; copy tt to stdout; delete from victims'], { timeoutMs: 30_000 });
    expect(r.stderr).toMatch(/COPY refused/);
    expect(leakedForms((r.stdout + r.stderr).toLowerCase(), [EMAIL, SSN, CODE])).toEqual([]);
    expect((await direct.query('select count(*)::int as n from victims')).rows[0].n).toBe(3);
    // a COPY that can be masked runs with the rest of its query
    const ok = await runCli(PSQL, ['-X', '-A', '-t', '-d', m.url, '-c', 'copy (select email from contacts limit 1) to stdout; select 7'], { timeoutMs: 30_000 });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('[redacted]\n7\n');
  }, 60_000);
});
