/**
 * Masking seen through real drivers: node-postgres (text and binary results), postgres.js (named
 * prepared statements) and psql all get the same masked customers — each masked column keeps its type,
 * unmasked columns are unchanged — and rows with nothing to mask are identical to a direct connection.
 */
import pg from 'pg';
import postgres from 'postgres';
import { PG } from '../helpers/servers.js';
import type { MintedForTest } from '../helpers/proxy.js';
import { killAllCli, PSQL, runCli } from '../helpers/run-cli.js';
import {
  ALICE,
  BOB,
  CUSTOMER_SECRETS,
  CUSTOMERS,
  CUSTOMERS_SQL,
  detected,
  directClient,
  extended,
  flatten,
  leakedForms,
  masked,
  OID,
  policyWithMasks,
  proxiedClient,
  RAW_TYPES,
  startMaskingEnv,
  type ClientExtra,
  type Customer,
  type MaskingEnv,
} from './support.js';

const NOTE_DETECTORS = ['email', 'us_ssn', 'credit_card'] as const;

const MASKS = `  - id: drv-email
    columns: ["public.customers.email"]
    function: email
  - id: drv-ssn
    columns: ["customers.ssn"]
    function: hash
  - id: drv-card
    columns: ["customers.card_number"]
    function: partial
    keep_last: 4
  - id: drv-salary
    columns: ["customers.salary"]
    function: redact
  - id: drv-birth
    columns: ["customers.birth_date"]
    function: redact
  - id: drv-notes
    columns: ["customers.notes"]
    detectors: [email, us_ssn, credit_card]
    function: redact
`;

/** A table no mask names, with values of many types (and text that looks like PII, which no detector here scans). */
const PRODUCTS_SQL = `
create table products (
  id int primary key, label text, price numeric(10,2), made date, at timestamptz, flag bool, meta jsonb,
  blob bytea, u uuid, tags text[], f float8, big int8, iv interval, contact varchar(80)
);
insert into products values
  (1, 'Widget ✓ "quoted"', 12.50, '2021-02-03', '2021-02-03 04:05:06.789+00', true, '{"a": [1, 2, {"b": "c"}]}',
   '\\x00017f80fe', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{x,"y z",NULL}', 3.25, 9007199254740993, '1 day 02:03:04',
   'Contact sales@example.com or 555-123-4567'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, '', 0, '1999-12-31', '1999-12-31 23:59:59+00', false, '[]', '\\x', '00000000-0000-0000-0000-000000000000', '{}', -0.5, -1, '-1 mon',
   'card 4111 1111 1111 1111');
`;

/** The text form of each column of a customer as the agent must see it (columns in table order). */
function maskedText(c: Customer): string[] {
  return [
    String(c.id),
    c.name,
    masked('email', c.email, OID.text) as string,
    masked('hash', c.ssn, OID.text) as string,
    masked('partial', c.card_number, OID.text, { keepLast: 4 }) as string,
    masked('redact', String(c.salary), OID.int4) as string,
    masked('redact', c.birth_date, OID.date) as string,
    detected(c.notes, NOTE_DETECTORS),
  ];
}

/** The same text forms, typed as a query with these casts returns them (the expectation is decoded by the driver itself). */
const TYPED_SELECT = 'select $1::int as id, $2::text as name, $3::text as email, $4::text as ssn, $5::text as card_number, $6::int as salary, $7::date as birth_date, $8::text as notes';

const COLUMNS = ['id', 'name', 'email', 'ssn', 'card_number', 'salary', 'birth_date', 'notes'];

describe('masking through the drivers', () => {
  let env: MaskingEnv;
  let m: MintedForTest;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskdrv', policyYaml: policyWithMasks(MASKS), setupSql: CUSTOMERS_SQL + PRODUCTS_SQL });
    m = await env.tp.mint('masking-driver-agent');
  }, 60_000);
  afterAll(async () => {
    killAllCli();
    for (const c of closers) await c().catch(() => {});
    await env?.close();
  }, 60_000);

  async function pgProxied(extra: ClientExtra = {}): Promise<pg.Client> {
    const c = await proxiedClient(env.tp, m, extra);
    closers.push(() => c.end());
    return c;
  }
  async function pgDirect(extra: ClientExtra = {}): Promise<pg.Client> {
    const c = await directClient(env.db.name, extra);
    closers.push(() => c.end());
    return c;
  }
  function pgjs(url: string, opts: postgres.Options<Record<string, postgres.PostgresType>> = {}): postgres.Sql {
    const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, ...opts });
    closers.push(() => sql.end({ timeout: 2 }));
    return sql;
  }
  const directUrl = (): string => `postgresql://${encodeURIComponent(PG.user)}@${PG.host}:${PG.port}/${env.db.name}`;

  /** The masked customers, decoded by a direct node-postgres client configured like the one under test. */
  async function expectedPgRows(extra: ClientExtra): Promise<Record<string, unknown>[]> {
    const d = await pgDirect(extra);
    const rows: Record<string, unknown>[] = [];
    for (const c of CUSTOMERS) rows.push((await d.query(TYPED_SELECT, maskedText(c))).rows[0]);
    return rows;
  }

  it('the expectations differ from the stored values (the oracle masks something)', () => {
    for (const c of CUSTOMERS) {
      const t = maskedText(c);
      expect(t[2]).not.toBe(c.email);
      expect(t[3]).toMatch(/^h_[0-9a-f]{16}$/);
      expect(t[4]).toBe('*'.repeat(c.card_number.length - 4) + c.card_number.slice(-4));
      expect(t[5]).toBe('0');
      expect(t[6]).toBe('1970-01-01');
    }
    expect(maskedText(ALICE)[7]).not.toBe(ALICE.notes);
    expect(leakedForms(flatten(maskedText(ALICE)), CUSTOMER_SECRETS)).toEqual([]);
    // Bob's notes hold nothing the detectors find: unchanged
    expect(maskedText(BOB)[7]).toBe(BOB.notes);
  });

  it('pg, text results (simple protocol): select * is masked per column, types kept', async () => {
    const c = await pgProxied();
    const r = await c.query('select * from customers order by id');
    expect(r.fields.map((f) => f.name)).toEqual(COLUMNS);
    expect(r.fields.map((f) => f.dataTypeID)).toEqual([OID.int4, OID.text, OID.text, OID.text, OID.text, OID.int4, OID.date, OID.text]);
    expect(r.rows).toEqual(await expectedPgRows({}));
    expect(typeof r.rows[0].salary).toBe('number');
    expect(r.rows[0].birth_date).toBeInstanceOf(Date);
    expect(leakedForms(flatten(r.rows), CUSTOMER_SECRETS)).toEqual([]);
  });

  it('pg, text results (extended protocol with parameters): the same masked rows', async () => {
    const c = await pgProxied();
    const r = await c.query('select * from customers where id = any($1::int[]) order by id', [[1, 2]]);
    expect(r.rows).toEqual(await expectedPgRows({}));
    // a named statement, executed again without a new Parse
    for (let i = 0; i < 2; i++) {
      const n = await c.query({ name: 'drv_named', text: 'select email, ssn, salary from customers where id = $1', values: [1] });
      expect(n.rows).toEqual([{ email: maskedText(ALICE)[2], ssn: maskedText(ALICE)[3], salary: 0 }]);
    }
  });

  it('pg, binary results: every column arrives in binary and decodes to the masked value', async () => {
    const c = await pgProxied({ binary: true });
    const r = await c.query(extended('select * from customers order by id'));
    expect(r.fields.map((f) => f.format)).toEqual(COLUMNS.map(() => 'binary'));
    expect(r.fields.map((f) => f.dataTypeID)).toEqual([OID.int4, OID.text, OID.text, OID.text, OID.text, OID.int4, OID.date, OID.text]);
    const expected = await expectedPgRows({ binary: true });
    expect(r.rows).toEqual(expected);
    // the binary date is the masked one, not the stored one (pg has no binary date parser: compare as decoded)
    const d = await pgDirect({ binary: true });
    const real = await d.query(extended('select birth_date from customers where id = 1'));
    expect(r.rows[0].birth_date).not.toEqual(real.rows[0].birth_date);
    expect(r.rows[0].salary).toBe(0);
    expect(leakedForms(flatten(r.rows), CUSTOMER_SECRETS)).toEqual([]);
  });

  it('postgres.js (named prepared statements, reused): masked rows', async () => {
    const sql = pgjs(m.url);
    const direct = pgjs(directUrl());
    const expected = [];
    for (const c of CUSTOMERS) {
      const t = maskedText(c);
      expected.push(...(await direct.unsafe(TYPED_SELECT, t, { prepare: true })));
    }
    for (let i = 0; i < 3; i++) {
      const rows = await sql`select * from customers where id >= ${0} order by id`;
      expect(rows.columns.map((x) => x.name)).toEqual(COLUMNS);
      expect([...rows]).toEqual(expected.map((x) => ({ ...x })));
      expect(leakedForms(flatten([...rows]), CUSTOMER_SECRETS)).toEqual([]);
    }
    const ps = await sql`select count(*)::int as n from pg_prepared_statements where statement like ${'select * from customers where id >=%'}`;
    expect(ps[0].n).toBe(1);
    // a simple-protocol query on the same connection
    const simple = await sql.unsafe('select * from customers order by id');
    expect([...simple]).toEqual(expected.map((x) => ({ ...x })));
  });

  it('psql -Atc: masked text output, unmasked columns unchanged', async () => {
    const r = await runCli(PSQL, ['-X', '-d', m.url, '-v', 'ON_ERROR_STOP=1', '-Atc', 'select * from customers order by id'], { timeoutMs: 45_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(CUSTOMERS.map((c) => maskedText(c).join('|')));
    expect(leakedForms(r.stdout.toLowerCase(), CUSTOMER_SECRETS)).toEqual([]);
  }, 60_000);

  it('unmasked columns of a masked table pass unchanged (text and binary)', async () => {
    for (const extra of [{}, { binary: true }] as ClientExtra[]) {
      const via = await pgProxied({ ...extra, types: RAW_TYPES });
      const direct = await pgDirect({ ...extra, types: RAW_TYPES });
      const q = extended('select id, name, id * 2 as twice, upper(name) as shout from customers order by id');
      const a = await via.query(q);
      const b = await direct.query(q);
      expect(a.rows).toEqual(b.rows);
      expect(a.rows).toHaveLength(2);
    }
  });

  it.each([
    ['text, simple protocol', {}, false],
    ['text, extended protocol', {}, true],
    ['binary', { binary: true }, true],
  ] as const)('rows with nothing to mask are identical to a direct connection (%s)', async (_label, extra, useExtended) => {
    const via = await pgProxied({ ...extra, types: RAW_TYPES });
    const direct = await pgDirect({ ...extra, types: RAW_TYPES });
    const text = 'select * from products order by id';
    const q = useExtended ? extended(text) : text;
    const a = await via.query(q);
    const b = await direct.query(q);
    const meta = (f: pg.FieldDef) => [f.name, f.dataTypeID, f.dataTypeSize, f.dataTypeModifier, f.format];
    expect(a.fields.map(meta)).toEqual(b.fields.map(meta));
    expect(a.rows).toHaveLength(3);
    expect(a.rows).toEqual(b.rows);
    // the PII-looking text of a column no detector covers is not touched
    const contact = a.rows[0].contact as string | Buffer;
    expect(contact.toString()).toBe('Contact sales@example.com or 555-123-4567');
  });

  it('the same unmasked rows through psql and postgres.js equal a direct connection', async () => {
    const query = 'select * from products order by id';
    const via = await runCli(PSQL, ['-X', '-d', m.url, '-Atc', query], { timeoutMs: 45_000 });
    const direct = await runCli(PSQL, ['-X', '-d', directUrl(), '-Atc', query], { timeoutMs: 45_000 });
    expect(via.code).toBe(0);
    expect(direct.code).toBe(0);
    expect(via.stdout).toBe(direct.stdout);
    expect(via.stdout).toContain('card 4111 1111 1111 1111');

    const sql = pgjs(m.url);
    const d = pgjs(directUrl());
    expect([...(await sql`select * from products where id >= ${0} order by id`)]).toEqual([...(await d`select * from products where id >= ${0} order by id`)]);
  }, 60_000);
});
