/**
 * COPY ... TO STDOUT cannot be masked row by row, so a COPY whose output includes a masked column is
 * refused (42501, naming the mask); COPY of unmasked tables and columns works and is unchanged.
 */
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { MintedForTest } from '../helpers/proxy.js';
import { killAllCli, PSQL, runCli } from '../helpers/run-cli.js';
import { withTimeout } from '../helpers/wait.js';
import { CUSTOMER_SECRETS, CUSTOMERS_SQL, directClient, errorText, leakedForms, policyWithMasks, proxiedClient, startMaskingEnv, type MaskingEnv } from './support.js';

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
`;

const SETUP = `${CUSTOMERS_SQL}
create view v_customers as select id, ssn from customers;
create table products (id int primary key, label text, price numeric(8,2));
insert into products select g, 'product ' || g || ' contact sales@example.com', g * 1.5 from generate_series(1, 2000) g;
`;

interface CopyOutcome {
  data: string;
  error?: Error & { code?: string };
}

/** COPY ... TO STDOUT on a client: what arrived, and the error if it failed. */
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
    return { data: Buffer.concat(chunks).toString('utf8') };
  } catch (err) {
    return { data: Buffer.concat(chunks).toString('utf8'), error: err as Error & { code?: string } };
  }
}

describe('COPY and masked columns', () => {
  let env: MaskingEnv;
  let m: MintedForTest;
  let c: pg.Client;
  let direct: pg.Client;

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

  it.each([
    ['COPY customers TO STDOUT', /copy-(email|ssn|card)/],
    ['COPY customers (id, ssn) TO STDOUT', /copy-ssn/],
    ['COPY (select email from customers) TO STDOUT', /copy-email/],
    ['COPY (select id, lower(email) from customers order by id) TO STDOUT (FORMAT csv, HEADER)', /copy-email/],
    ['COPY (TABLE customers) TO STDOUT', /copy-(email|ssn|card)/],
    // a view's columns are only known from the catalog, which the decision point (no I/O) does not ask: some mask is named
    ['COPY (select * from v_customers) TO STDOUT', /copy-(email|ssn|card)/],
    ['COPY (select row_to_json(c) from customers c) TO STDOUT', /copy-(email|ssn|card)/],
    ['COPY (with t as (select card_number from customers) select * from t) TO STDOUT', /copy-card/],
    ['COPY customers TO STDOUT (FORMAT binary)', /copy-(email|ssn|card)/],
  ])('%s is refused with 42501 naming the mask, and nothing leaks', async (sql, mask) => {
    // directly, it would show the secrets
    expect(leakedForms((await copyOut(direct, sql)).data.toLowerCase(), CUSTOMER_SECRETS).length).toBeGreaterThan(0);
    const r = await copyOut(c, sql);
    expect(r.error).toBeDefined();
    expect(r.error).toMatchObject({ code: '42501' });
    expect(r.error?.message).toMatch(mask);
    expect(leakedForms(r.data.toLowerCase(), CUSTOMER_SECRETS)).toEqual([]);
    expect(leakedForms(errorText(r.error), CUSTOMER_SECRETS)).toEqual([]);
    // the session goes on
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  // KNOWN BUG: while any mask applies to the agent, every COPY ... TO of table data is refused (its rows
  // are not masked in the stream yet), so COPY of unmasked data is refused too. Flip to `it.each` when
  // COPY text/csv/binary rows are masked in the stream.
  it.failing.each([
    'COPY products TO STDOUT',
    'COPY (select * from products order by id) TO STDOUT (FORMAT csv, HEADER)',
    'COPY customers (id, name, salary) TO STDOUT',
    'COPY (select id, name, birth_date from customers order by id) TO STDOUT',
    'COPY products TO STDOUT (FORMAT binary)',
  ])('KNOWN BUG (COPY refused whole while masking applies): %s works and equals a direct COPY', async (sql) => {
    const want = await copyOut(direct, sql);
    expect(want.error).toBeUndefined();
    const got = await copyOut(c, sql);
    expect(got.error).toBeUndefined();
    expect(got.data.length).toBeGreaterThan(10);
    expect(got.data).toBe(want.data);
  });

  it('psql \\copy of a masked column is refused on stderr, with nothing on stdout', async () => {
    const r = await runCli(PSQL, ['-X', '-d', m.url, '-v', 'ON_ERROR_STOP=1', '-c', '\\copy (select id, ssn from customers) to stdout'], { timeoutMs: 45_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/copy-ssn/);
    expect(leakedForms(`${r.stdout}${r.stderr}`.toLowerCase(), CUSTOMER_SECRETS)).toEqual([]);
  }, 60_000);

  // KNOWN BUG: see above (COPY of unmasked columns is refused too while masking applies)
  it.failing('KNOWN BUG (COPY refused whole while masking applies): psql \\copy of unmasked columns works', async () => {
    const ok = await runCli(PSQL, ['-X', '-d', m.url, '-v', 'ON_ERROR_STOP=1', '-c', '\\copy (select id, name from customers order by id) to stdout'], { timeoutMs: 45_000 });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('1\tAlice\n2\tBob\n');
  }, 60_000);
});
