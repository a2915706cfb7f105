/**
 * COPY ... TO STDOUT while masks apply: the rows are masked in the stream, in text, CSV (with its
 * options) and binary, through pg-copy-streams, psql's \copy and the extended protocol. The oracle
 * for a masked COPY is the server itself: the same query through the proxy as a SELECT (masked by
 * the DataRow path), its rows put into a temporary table directly, and that table COPYed directly
 * with the same options — so every byte of quoting and escaping must match what Postgres writes.
 * COPY of unmasked columns equals a direct COPY byte for byte. What cannot be planned is refused
 * (42501) and the session goes on; COPY to a server file or program stays refused.
 */
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { MintedForTest } from '../helpers/proxy.js';
import { killAllCli, PSQL, runCli } from '../helpers/run-cli.js';
import { adminQuery } from '../helpers/servers.js';
import { withTimeout } from '../helpers/wait.js';
import {
  CUSTOMER_SECRETS,
  CUSTOMERS_SQL,
  directClient,
  errorText,
  leakedForms,
  masked,
  OID,
  policyWithMasks,
  proxiedClient,
  RAW_TYPES,
  startMaskingEnv,
  type MaskingEnv,
} from './support.js';

const MASKS = `  - id: copy-email
    columns: ["customers.email"]
    function: email
  - id: copy-ssn
    columns: ["customers.ssn"]
    function: hash
  - id: copy-card
    columns: ["customers.card_number"]
    function: partial
    keep_last: 4
    deny_in_predicates: true
  - id: copy-secret
    columns: ["tricky.secret"]
    function: partial
    keep_first: 3
    keep_last: 3
  - id: copy-big
    columns: ["big.email"]
    function: email
  - id: copy-staff
    columns: ["hr.staff.email"]
    function: redact
  - id: copy-notes
    columns: ["customers.notes", "tricky.notes"]
    detectors: [email, us_ssn, credit_card]
    function: redact
`;

const BIG_ROWS = 200_000;

const SETUP = `${CUSTOMERS_SQL}
create view v_customers as select id, ssn from customers;
create table products (id int primary key, label text, price numeric(8,2));
insert into products select g, 'product ' || g || ' contact sales@example.com', g * 1.5 from generate_series(1, 2000) g;
create table tricky (id int primary key, secret text, notes text, plain text);
insert into tricky values
  (1, E'\\ttab;semi,comma|pipe\\t', E'write to alice.secret@example.com\\tnow', E'a\\tb'),
  (2, E'"q" ''s'' back\\\\slash\\\\', E'line1\\nline2 bob.hidden@corp.example.org', E'x\\\\y'),
  (3, E'\\n\\r\\\\N\\r\\n', NULL, 'NIL'),
  (4, '', '', NULL),
  (5, NULL, E'\\\\.', E'\\\\.'),
  (6, E'NIL;x''y', 'NIL', E'"; \\n'),
  (7, 'alice.secret@example.com', E'SSN 123-45-6789 \\\\ card 4539578763621486', 'é 😀');
create schema hr;
create table hr.staff (id int, email text);
insert into hr.staff values (1, 'carol.private@hr.example.com');
create table public.staff (id int, email text);
insert into public.staff values (1, 'nobody@example.com');
create table big as select g as id, 'user' || g || '@example.com' as email, repeat('x', 20) as pad from generate_series(1, ${BIG_ROWS}) g;
`;

/** Secrets of the tricky table, on top of the customers' ones. */
const SECRETS = [...CUSTOMER_SECRETS, 'tab;semi,comma|pipe', 'back\\slash', 'user12345@example.com', 'user199999', 'carol.private'];

interface CopyOutcome {
  data: Buffer;
  chunks: number;
  error?: Error & { code?: string };
}

/** COPY ... TO STDOUT on a client: what arrived, in how many chunks, and the error if it failed. */
async function copyOut(c: pg.Client, sql: string): Promise<CopyOutcome> {
  const chunks: Buffer[] = [];
  try {
    await withTimeout(
      pipeline(c.query(copyTo(sql)), async function (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) chunks.push(chunk);
      }),
      60_000,
      sql,
    );
    return { data: Buffer.concat(chunks), chunks: chunks.length };
  } catch (err) {
    return { data: Buffer.concat(chunks), chunks: chunks.length, error: err as Error & { code?: string } };
  }
}

/** COPY over the extended protocol (Parse/Bind/Execute/Sync), which pg-copy-streams does not use. */
class ExtendedCopy {
  private readonly chunks: Buffer[] = [];
  private failed: Error | undefined;
  constructor(
    readonly text: string,
    private readonly done: (err: Error | undefined, data: Buffer) => void,
  ) {}
  submit(con: { parse(m: object): void; bind(m: object): void; execute(m: object): void; sync(): void }): void {
    con.parse({ text: this.text, types: [] });
    con.bind({});
    con.execute({});
    con.sync();
  }
  handleCopyData(msg: { chunk: Buffer }): void {
    this.chunks.push(Buffer.from(msg.chunk));
  }
  handleError(err: Error): void {
    this.failed = err;
    this.done(err, Buffer.concat(this.chunks));
  }
  handleReadyForQuery(): void {
    if (!this.failed) this.done(undefined, Buffer.concat(this.chunks));
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}

function extendedCopy(c: pg.Client, sql: string): Promise<CopyOutcome> {
  return withTimeout(
    new Promise<CopyOutcome>((resolve) => {
      c.query(new ExtendedCopy(sql, (error, data) => resolve({ data, chunks: 1, ...(error && { error }) })) as unknown as pg.Submittable);
    }),
    30_000,
    sql,
  );
}

function leaks(data: Buffer | string): string[] {
  const s = typeof data === 'string' ? data : `${data.toString('utf8')} ${data.toString('latin1')}`;
  return leakedForms(s.toLowerCase(), SECRETS);
}

/** A COPY case: the source (`t`, `t (cols)` or `(query)`), the SELECT that gives the same rows, and the options. */
interface Case {
  from: string;
  select: string;
  options?: string;
}

const copySql = (k: Case): string => `COPY ${k.from} TO STDOUT${k.options ? ` ${k.options}` : ''}`;

const MASKED_CASES: Case[] = [
  { from: 'customers', select: 'select * from customers' },
  { from: 'customers', select: 'select * from customers', options: '(FORMAT csv, HEADER)' },
  { from: 'customers', select: 'select * from customers', options: '(FORMAT binary)' },
  { from: 'customers (id, ssn)', select: 'select id, ssn from customers' },
  { from: 'customers (card_number, email)', select: 'select card_number, email from customers', options: "(FORMAT csv, NULL 'x', FORCE_QUOTE (email))" },
  { from: '(select email from customers)', select: 'select email from customers' },
  { from: '(select id, lower(email) from customers order by id)', select: 'select id, lower(email) from customers order by id', options: '(FORMAT csv, HEADER)' },
  { from: '(TABLE customers)', select: 'TABLE customers' },
  { from: '(select * from v_customers)', select: 'select * from v_customers' },
  { from: '(select * from v_customers)', select: 'select * from v_customers', options: '(FORMAT binary)' },
  { from: '(select row_to_json(c) from customers c)', select: 'select row_to_json(c) from customers c' },
  { from: '(with t as (select card_number from customers) select * from t)', select: 'with t as (select card_number from customers) select * from t' },
  { from: "(select id, ssn || '!' as s, salary * 2 as twice from customers order by id)", select: "select id, ssn || '!' as s, salary * 2 as twice from customers order by id", options: '(FORMAT binary)' },
  { from: 'tricky', select: 'select * from tricky' },
  { from: 'tricky', select: 'select * from tricky', options: "(DELIMITER '|')" },
  { from: 'tricky', select: 'select * from tricky', options: '(FORMAT csv, HEADER)' },
  { from: 'tricky', select: 'select * from tricky', options: "(FORMAT csv, HEADER, DELIMITER ';', QUOTE '''', ESCAPE '\\', NULL 'NIL')" },
  { from: 'tricky', select: 'select * from tricky', options: '(FORMAT csv, FORCE_QUOTE *)' },
  { from: 'tricky', select: 'select * from tricky', options: "(FORMAT csv, QUOTE '|')" },
  { from: 'tricky', select: 'select * from tricky', options: '(HEADER)' },
  { from: 'tricky (secret)', select: 'select secret from tricky', options: '(FORMAT csv)' },
  { from: 'tricky', select: 'select * from tricky', options: 'WITH CSV HEADER' },
  { from: 'tricky', select: 'select * from tricky', options: '(FORMAT binary)' },
  { from: "(select id, secret || '' as s, upper(notes) from tricky order by id)", select: "select id, secret || '' as s, upper(notes) from tricky order by id", options: '(FORMAT csv)' },
];

const UNMASKED = [
  'COPY products TO STDOUT',
  'COPY (select * from products order by id) TO STDOUT (FORMAT csv, HEADER)',
  'COPY customers (id, name, salary) TO STDOUT',
  'COPY (select id, name, birth_date from customers order by id) TO STDOUT',
  'COPY products TO STDOUT (FORMAT binary)',
  // nothing is masked here, so a NULL string that a value could also print as does not matter
  "COPY products TO STDOUT (NULL '')",
  'COPY tricky (id, plain) TO STDOUT (FORMAT csv)',
];

describe('COPY ... TO STDOUT with masked columns', () => {
  let env: MaskingEnv;
  let m: MintedForTest;
  let c: pg.Client;
  let direct: pg.Client;

  /** What a masked COPY must be: the proxied SELECT's masked rows, COPYed directly from a temporary table. */
  async function oracle(k: Case): Promise<Buffer> {
    const rows = await c.query({ text: k.select, rowMode: 'array', types: RAW_TYPES } as pg.QueryArrayConfig);
    await direct.query('drop table if exists pg_temp.copy_oracle');
    await direct.query(`create temp table copy_oracle as ${k.select} with no data`);
    for (const r of rows.rows as unknown[][]) await direct.query(`insert into pg_temp.copy_oracle values (${r.map((_, i) => `$${i + 1}`).join(', ')})`, r);
    const want = await copyOut(direct, `COPY pg_temp.copy_oracle TO STDOUT${k.options ? ` ${k.options}` : ''}`);
    expect(want.error).toBeUndefined();
    return want.data;
  }

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskcopy', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-copy-agent');
    c = await proxiedClient(env.tp, m);
    direct = await directClient(env.db.name);
  }, 60_000);
  afterAll(async () => {
    killAllCli();
    await c?.end().catch(() => {});
    await direct?.end().catch(() => {});
    await env?.close();
  }, 60_000);

  it.each(MASKED_CASES.map((k) => [copySql(k), k] as const))('%s is masked in the stream, exactly as Postgres writes the masked rows', async (_sql, k) => {
    // directly, it would show the secrets
    const raw = await copyOut(direct, copySql(k));
    expect(raw.error).toBeUndefined();
    expect(leaks(raw.data).length).toBeGreaterThan(0);
    const got = await copyOut(c, copySql(k));
    expect(got.error).toBeUndefined();
    expect(leaks(got.data)).toEqual([]);
    const want = await oracle(k);
    expect(want.length).toBeGreaterThan(10);
    expect(got.data.toString('latin1')).toBe(want.toString('latin1'));
    // the session goes on
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('the masked values are the mask functions of the values (text format, read back)', async () => {
    const got = await copyOut(c, 'COPY (select id, email, ssn, card_number from customers order by id) TO STDOUT');
    expect(got.error).toBeUndefined();
    const rows = await direct.query<{ id: number; email: string; ssn: string; card_number: string }>('select id, email, ssn, card_number from customers order by id');
    const want = rows.rows.map((r) => [String(r.id), masked('email', r.email, OID.text), masked('hash', r.ssn, OID.text), masked('partial', r.card_number, OID.text, { keepLast: 4 })].join('\t') + '\n').join('');
    expect(got.data.toString()).toBe(want);
  });

  it.each(UNMASKED)('%s (nothing masked) equals a direct COPY byte for byte', async (sql) => {
    const want = await copyOut(direct, sql);
    expect(want.error).toBeUndefined();
    const got = await copyOut(c, sql);
    expect(got.error).toBeUndefined();
    expect(got.data.length).toBeGreaterThan(10);
    expect(got.data.equals(want.data)).toBe(true);
  });

  it('the extended protocol (Parse/Bind/Execute) gets the same masked COPY', async () => {
    const picks = MASKED_CASES.filter((k) => (k.from === 'customers' && (!k.options || k.options.includes('binary'))) || (k.from === 'tricky' && k.options?.includes('ESCAPE')));
    expect(picks.length).toBe(3);
    for (const k of picks) {
      const simple = await copyOut(c, copySql(k));
      const ext = await extendedCopy(c, copySql(k));
      expect(ext.error).toBeUndefined();
      expect(leaks(ext.data)).toEqual([]);
      expect(ext.data.equals(simple.data)).toBe(true);
    }
    expect((await c.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it(`a COPY of ${BIG_ROWS} rows streams through masked, row by row`, async () => {
    for (const options of ['', '(FORMAT csv)']) {
      const got = await copyOut(c, `COPY big TO STDOUT ${options}`);
      expect(got.error).toBeUndefined();
      // streamed: the client received it in many pieces, not as one buffered result
      expect(got.chunks).toBeGreaterThan(100);
      const lines = got.data.toString().split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.length).toBe(BIG_ROWS);
      const sep = options ? ',' : '\t';
      for (const i of [0, 1, 12344, BIG_ROWS - 1]) {
        const id = i + 1;
        expect(lines[i]).toBe([String(id), masked('email', `user${id}@example.com`, OID.text), 'x'.repeat(20)].join(sep));
      }
      expect(leaks(got.data)).toEqual([]);
    }
  }, 120_000);

  it('psql \\copy of masked columns prints the masked rows; \\copy of unmasked columns is unchanged', async () => {
    const k: Case = { from: '(select id, ssn, email from customers order by id)', select: 'select id, ssn, email from customers order by id' };
    const r = await runCli(PSQL, ['-X', '-d', m.url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${k.from} to stdout`], { timeoutMs: 45_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(leaks(r.stdout)).toEqual([]);
    expect(r.stdout).toBe((await oracle(k)).toString());
    const csv: Case = { from: 'tricky', select: 'select * from tricky', options: 'with (format csv, header)' };
    const r2 = await runCli(PSQL, ['-X', '-d', m.url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy tricky to stdout with (format csv, header)`], { timeoutMs: 45_000 });
    expect(r2.stderr).toBe('');
    expect(leaks(r2.stdout)).toEqual([]);
    expect(r2.stdout).toBe((await oracle({ ...csv, options: '(format csv, header)' })).toString());
    const ok = await runCli(PSQL, ['-X', '-d', m.url, '-v', 'ON_ERROR_STOP=1', '-c', '\\copy (select id, name from customers order by id) to stdout'], { timeoutMs: 45_000 });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('1\tAlice\n2\tBob\n');
  }, 60_000);

  it('a COPY after other statements in one simple query is masked as its own statement', async () => {
    const r = await runCli(PSQL, ['-X', '-A', '-t', '-d', m.url, '-v', 'ON_ERROR_STOP=1', '-c', "select 'first' as x; set application_name = 'copytest'; copy (select id, ssn from customers order by id) to stdout"], {
      timeoutMs: 45_000,
    });
    expect(r.stderr).toBe('');
    expect(leaks(r.stdout)).toEqual([]);
    const ssns = (await direct.query<{ ssn: string }>('select ssn from customers order by id')).rows.map((x) => masked('hash', x.ssn, OID.text));
    expect(r.stdout).toContain(`1\t${ssns[0]}\n2\t${ssns[1]}\n`);
  }, 60_000);

  it.each([
    // the side connection cannot see the session's temporary table: its columns cannot be known
    ['COPY tt TO STDOUT', /COPY refused.*could not be found/],
    ['COPY (select * from tt) TO STDOUT', /COPY refused.*columns could not be determined/],
    ['COPY (select * from tt) TO STDOUT (FORMAT binary)', /COPY refused.*columns could not be determined/],
    // text format: a value equal to the NULL string would pass as a NULL
    ["COPY customers TO STDOUT (NULL '')", /COPY refused.*NULL string/],
    ["COPY customers (id, email) TO STDOUT (NULL 'NIL')", /COPY refused.*NULL string/],
    ["COPY customers TO STDOUT (ENCODING 'LATIN1')", /COPY refused.*ENCODING/],
    // deny_in_predicates holds for COPY (query) too
    ["COPY (select id from customers where card_number like '4%') TO STDOUT", /copy-card/],
  ])('%s is refused with 42501, nothing leaks, and the session goes on', async (sql, message) => {
    await c.query('create temp table if not exists tt as select * from customers');
    const r = await copyOut(c, sql);
    expect(r.error).toMatchObject({ code: '42501' });
    expect(r.error?.message).toMatch(message);
    expect(leaks(r.data)).toEqual([]);
    expect(leaks(errorText(r.error))).toEqual([]);
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    // and through the extended protocol
    const e = await extendedCopy(c, sql);
    expect(e.error).toMatchObject({ code: '42501' });
    expect(leaks(e.data)).toEqual([]);
    expect((await c.query('select 3 as three')).rows).toEqual([{ three: 3 }]);
  });

  it("a session search_path other than the catalog connection's does not unmask a COPY (names as written count too)", async () => {
    const s = await proxiedClient(env.tp, m);
    try {
      await s.query('set search_path to hr, public');
      // the session's own answer knows which staff it is: masked
      expect((await s.query('select email from staff')).rows).toEqual([{ email: '[redacted]' }]);
      for (const sql of ['COPY (select email from staff) TO STDOUT', 'COPY staff TO STDOUT', 'COPY staff (email) TO STDOUT (FORMAT csv)', 'COPY (select * from staff) TO STDOUT (FORMAT binary)']) {
        const raw = await copyOut(direct, sql.replace(/\bstaff\b/, 'hr.staff'));
        expect(leaks(raw.data)).toEqual(['carol.private']);
        const got = await copyOut(s, sql);
        expect(got.error).toBeUndefined();
        expect(got.data.length).toBeGreaterThan(0);
        expect(leaks(got.data)).toEqual([]);
      }
    } finally {
      await s.end();
    }
  });

  it('COPY ... TO a server file or program is still refused while masks apply, and writes nothing', async () => {
    const path = `/tmp/swmaskcopy_${process.pid}_${Date.now().toString(36)}.txt`;
    const r = await copyOut(c, `COPY customers TO '${path}'`).catch((e: Error) => ({ data: Buffer.alloc(0), chunks: 0, error: e as Error & { code?: string } }));
    expect(r.error).toMatchObject({ code: '42501' });
    expect(r.error?.message).toMatch(/file or program/);
    const p = await c.query(`COPY (select email from customers) TO PROGRAM 'cat > ${path}'`).catch((e: Error & { code?: string }) => e);
    expect(p).toMatchObject({ code: '42501' });
    const stat = await adminQuery(`select pg_stat_file('${path}', true) as s`, env.db.name);
    expect(stat.rows[0].s).toBeNull();
  });
});
