/**
 * The leak suite: every way SQL can carry a masked column's data into a result — aliases, `*`, views,
 * subqueries, CTEs, UNION branches, expressions, casts, aggregates, JSON, whole rows, RETURNING,
 * cursors, prepared statements — and the secret must appear in none of them.
 *
 * Each attempt runs twice, in a transaction that is rolled back: once directly (which must show a
 * secret, or the attempt proves nothing) and once through the proxy. Text results are held to an
 * oracle: the proxied value of each masked output column is the column's mask function applied to the
 * direct value (the whole value, type kept) — except that functions which keep part of a value (email,
 * partial) apply only to a column's own value; anything computed from it is redacted, since a query can
 * move the secret into the part they keep. Binary results must leak nothing and differ from the direct
 * ones where masked.
 */
import pg from 'pg';
import type { MintedForTest } from '../helpers/proxy.js';
import {
  CUSTOMER_SECRETS,
  CUSTOMERS_SQL,
  detected,
  directClient,
  errorText,
  arrayQuery,
  flatten,
  leakedForms,
  masked,
  policyWithMasks,
  proxiedClient,
  RAW_TYPES,
  startMaskingEnv,
  ALICE,
  type ClientExtra,
  type MaskingEnv,
} from './support.js';

const BADGE_ID = 987654321;
const SECRETS = [...CUSTOMER_SECRETS, String(BADGE_ID)];
const NOTE_DETECTORS = ['email', 'us_ssn', 'credit_card'] as const;

const MASKS = `  - id: leak-email
    columns: ["public.customers.email"]
    function: email
  - id: leak-ssn
    columns: ["customers.ssn"]
    function: hash
  - id: leak-card
    columns: ["*.customers.card_number"]
    function: partial
    keep_last: 4
  - id: leak-notes
    columns: ["customers.notes"]
    detectors: [email, us_ssn, credit_card]
    function: redact
  - id: leak-badge-id
    columns: ["badges.id"]
    function: hash
`;

const SETUP = `${CUSTOMERS_SQL}
create table badges (id int primary key, label text);
insert into badges values (${BADGE_ID}, 'gold');
create view v_customers as select id, email as mail, ssn, card_number as card from customers;
create view v_v_customers as select id, mail as m2, upper(ssn) as s2 from v_customers;
create materialized view mv_customers as select id, email from customers;
create function secret_email(i int) returns text language sql stable as $$ select email from customers where id = i $$;
create function secret_rows() returns setof customers language sql stable as $$ select * from customers order by id $$;
`;

/**
 * How one output column must come back:
 * - a mask function: the function applied to the direct value (whole value, the output column's type);
 * - `detect`: the notes detectors applied to the direct value;
 * - `clear`: unchanged;
 * - `masked`: anything but the direct value (where the direct value is not NULL);
 * - `any`: not checked beyond the leak search.
 */
type Expect = 'email' | 'hash' | 'partial' | 'redact' | 'detect' | 'clear' | 'masked' | 'any';

interface Attempt {
  name: string;
  /** statements run first in the same transaction (their results are not checked) */
  steps?: string[];
  sql: string;
  expect: Expect[];
  /** a refusal (42501) is also acceptable; when it comes, it must not carry the secret either */
  orDeny?: boolean;
  /** run as a named extended-protocol statement, twice (Parse once, then Bind/Execute only) */
  named?: boolean;
  /** more values this attempt must not show (parts of a secret it selects) */
  secrets?: string[];
  /** false: not run with binary results (node-postgres cannot decode this type from binary) */
  binary?: false;
}

const ALL: Expect[] = ['clear', 'clear', 'email', 'hash', 'partial', 'clear', 'clear', 'detect'];

const ATTEMPTS: Attempt[] = [
  // references and names
  { name: 'direct column references', sql: 'select id, name, email, ssn, card_number from customers order by id', expect: ['clear', 'clear', 'email', 'hash', 'partial'] },
  { name: 'column aliases', sql: 'select email as contact, ssn as tax_id, card_number as pan from customers order by id', expect: ['email', 'hash', 'partial'] },
  { name: 'table alias, qualified columns', sql: 'select c.email, c.ssn from customers as c where c.id = 1', expect: ['email', 'hash'] },
  { name: 'schema-qualified table', sql: 'select email, card_number from public.customers order by id', expect: ['email', 'partial'] },
  { name: 'quoted identifiers', sql: 'select "EMAIL_X" from (select email as "EMAIL_X" from "customers") q order by 1', expect: ['email'] },
  { name: 'select *', sql: 'select * from customers order by id', expect: ALL },
  { name: 'alias.*', sql: 'select c.* from customers c order by id', expect: ALL },
  { name: 'TABLE customers', sql: 'table customers', expect: ALL },
  { name: '* over a join (duplicate column names)', sql: 'select * from badges b cross join customers c order by c.id', expect: ['hash', 'clear', ...ALL] },
  // views
  { name: 'view', sql: 'select * from v_customers order by id', expect: ['clear', 'email', 'hash', 'partial'] },
  { name: 'view over a view', sql: 'select * from v_v_customers order by id', expect: ['clear', 'email', 'hash'] },
  { name: 'materialized view of a masked column', sql: 'select email from mv_customers order by id', expect: ['masked'], orDeny: true },
  // subqueries, CTEs, set operations
  { name: 'subquery in FROM', sql: 'select x from (select email as x from customers) s order by x', expect: ['email'] },
  { name: 'scalar subquery', sql: 'select (select ssn from customers where id = 1) as s', expect: ['hash'] },
  { name: 'LATERAL subquery', sql: 'select x.e from customers c cross join lateral (select c.email as e) x order by c.id', expect: ['email'] },
  { name: 'VALUES with a subquery', sql: 'values ((select email from customers where id = 1))', expect: ['redact'] },
  { name: 'CTE', sql: 'with t as (select email, ssn from customers) select * from t order by email', expect: ['email', 'hash'] },
  { name: 'CTE with a column list', sql: 'with t(a, b) as (select email, ssn from customers) select b, a from t order by a', expect: ['hash', 'email'] },
  {
    name: 'recursive CTE',
    sql: 'with recursive r(e, n) as (select email, 1 from customers where id = 1 union all select e, n + 1 from r where n < 3) select e, n from r order by n',
    expect: ['email', 'any'],
  },
  // every branch a bare column: each value is a column's own value, so email keeps the domain (of the masked and the unmasked branch alike)
  { name: 'UNION ALL: unmasked first branch, masked second', sql: 'select name as v from customers union all select email from customers order by 1', expect: ['email'] },
  { name: 'UNION: a constant branch and a masked one', sql: "select 'none'::text as v union select ssn from customers order by 1", expect: ['hash'] },
  { name: 'EXCEPT', sql: "select email from customers except select 'nobody@example.net' order by 1", expect: ['email'] },
  { name: 'UNION of a column and a computed branch', sql: "select email from customers union select 'a@' || split_part(email, '@', 1) from customers order by 1", expect: ['redact'] },
  // expressions and casts
  { name: 'lower(email)', sql: 'select lower(email) as e from customers order by id', expect: ['redact'] },
  { name: 'upper(email)', sql: 'select upper(email) as e from customers order by id', expect: ['redact'] },
  { name: "email || ''", sql: "select email || '' as e from customers order by id", expect: ['redact'] },
  { name: 'concatenation with another column', sql: "select name || ' <' || email || '>' as e from customers order by id", expect: ['email'] },
  { name: 'substr(ssn, 1, 6)', sql: 'select substr(ssn, 1, 6) as s from customers order by id', expect: ['hash'], secrets: ['123-45', '234-56'] },
  { name: "replace(ssn, '-', '')", sql: "select replace(ssn, '-', '') as s from customers order by id", expect: ['hash'] },
  { name: 'format()', sql: "select format('%s', ssn) as s from customers order by id", expect: ['hash'] },
  { name: 'CASE', sql: "select case when id = 1 then email else 'n/a' end as e from customers order by id", expect: ['redact'] },
  { name: 'coalesce', sql: "select coalesce(email, 'none') as e from customers order by id", expect: ['redact'] },
  { name: 'greatest', sql: "select greatest(ssn, '') as s from customers order by id", expect: ['hash'] },
  { name: 'ssn::varchar(20)', sql: 'select ssn::varchar(20) as s from customers order by id', expect: ['hash'] },
  { name: 'cast to bytea (convert_to)', sql: "select convert_to(ssn, 'UTF8') as b from customers order by id", expect: ['hash'] },
  { name: 'base64 of the value', sql: "select encode(convert_to(ssn, 'UTF8'), 'base64') as b from customers order by id", expect: ['hash'] },
  { name: 'md5 of the value', sql: 'select md5(ssn) as h from customers order by id', expect: ['hash'] },
  { name: 'COLLATE', sql: 'select email collate "C" as e from customers order by id', expect: ['redact'] },
  { name: 'masked id as int', sql: 'select id from badges', expect: ['hash'] },
  { name: 'id::text when the rule targets id', sql: 'select id::text as i from badges', expect: ['hash'] },
  // node-postgres' binary int8 parser fails on the field (pg decodes binary fields through UTF-8 first)
  { name: 'id::bigint arithmetic', sql: 'select id::bigint * 1 as i from badges', expect: ['hash'], binary: false },
  // aggregates and windows
  { name: "string_agg(email, ',')", sql: "select string_agg(email, ',' order by id) as e from customers", expect: ['email'] },
  { name: 'array_agg(email)', sql: 'select array_agg(email order by id) as e from customers', expect: ['email'] },
  { name: 'min(email)', sql: 'select min(email) as e from customers', expect: ['redact'] },
  { name: 'max(ssn)', sql: 'select max(ssn) as s from customers', expect: ['hash'] },
  { name: 'array subscript of array_agg', sql: 'select (array_agg(ssn order by id))[1] as s from customers', expect: ['hash'] },
  { name: 'GROUP BY output', sql: 'select email, count(*)::int as n from customers group by email order by 1', expect: ['email', 'clear'] },
  { name: 'DISTINCT', sql: 'select distinct ssn from customers order by 1', expect: ['hash'] },
  { name: 'window function', sql: 'select first_value(ssn) over (order by id) as s from customers order by id', expect: ['hash'] },
  { name: 'array constructor', sql: 'select array[email, name] as a from customers order by id', expect: ['masked'] },
  // JSON and whole rows
  { name: 'row_to_json(c)', sql: 'select row_to_json(c) as j from customers c order by id', expect: ['masked'] },
  { name: 'to_jsonb(c)', sql: 'select to_jsonb(c) as j from customers c order by id', expect: ['masked'] },
  { name: "json_build_object('e', email)", sql: "select json_build_object('e', email) as j from customers order by id", expect: ['email'] },
  { name: "jsonb_build_object('s', ssn)", sql: "select jsonb_build_object('s', ssn) as j from customers order by id", expect: ['hash'] },
  { name: 'to_json(email)', sql: 'select to_json(email) as j from customers order by id', expect: ['redact'] },
  { name: 'json_agg(c)', sql: 'select json_agg(c order by id) as j from customers c', expect: ['masked'] },
  { name: 'jsonb_path_query over to_jsonb(c)', sql: "select jsonb_path_query(to_jsonb(c), '$.email') as j from customers c order by id", expect: ['masked'] },
  { name: 'whole-row reference', sql: 'select c from customers c order by id', expect: ['masked'] },
  { name: 'whole row as text', sql: 'select c::text as t from customers c order by id', expect: ['masked'] },
  { name: 'field of a whole row', sql: 'select (c).email from customers c order by id', expect: ['email'] },
  { name: 'ROW(email, ssn)', sql: 'select row(email, ssn) as r from customers order by id', expect: ['masked'] },
  // writes that return rows
  { name: 'UPDATE ... RETURNING', sql: 'update customers set name = name where id = 1 returning email, ssn, card_number', expect: ['email', 'hash', 'partial'] },
  {
    name: 'INSERT ... SELECT ... RETURNING',
    sql: "insert into customers (id, name, email, ssn, card_number) select 10, 'Copy', 'copy.' || email, ssn, card_number from customers where id = 1 returning id, email, ssn, card_number",
    expect: ['clear', 'email', 'hash', 'partial'],
  },
  { name: 'DELETE ... RETURNING *', sql: 'delete from customers where id = 1 returning *', expect: ALL },
  { name: 'data-modifying CTE', sql: 'with d as (delete from customers where id = 1 returning email, ssn) select * from d', expect: ['email', 'hash'] },
  // cursors and prepared statements
  { name: 'DECLARE CURSOR + FETCH ALL', steps: ['declare leak_cur cursor for select email, ssn from customers order by id'], sql: 'fetch all from leak_cur', expect: ['email', 'hash'] },
  {
    name: 'DECLARE CURSOR + MOVE + FETCH',
    steps: ['declare leak_cur2 scroll cursor for select card_number, ssn from customers order by id', 'move forward 2 in leak_cur2'],
    sql: 'fetch prior from leak_cur2',
    expect: ['partial', 'hash'],
  },
  { name: 'BINARY CURSOR + FETCH', steps: ['declare leak_bcur binary cursor for select email, ssn from customers order by id'], sql: 'fetch all from leak_bcur', expect: ['email', 'hash'] },
  { name: 'PREPARE + EXECUTE', steps: ['prepare leak_p as select email, ssn from customers order by id'], sql: 'execute leak_p', expect: ['email', 'hash'] },
  { name: 'PREPARE with a parameter + EXECUTE', steps: ['prepare leak_q(int) as select card_number, email from customers where id = $1'], sql: 'execute leak_q(1)', expect: ['partial', 'email'] },
  { name: 'extended protocol: named statement, executed twice', sql: 'select email, ssn, card_number from customers order by id', expect: ['email', 'hash', 'partial'], named: true },
  // origins the engine cannot see through: masked (redact) or refused, never passed
  { name: 'SQL function returning a masked column', sql: 'select secret_email(1) as e', expect: ['masked'], orDeny: true },
  { name: 'set-returning function over the masked table', sql: 'select email, ssn, card_number from secret_rows()', expect: ['masked', 'masked', 'masked'], orDeny: true },
];

const OPTS = { partial: { keepLast: 4 } } as const;

interface Outcome {
  ok: boolean;
  result?: pg.QueryResult;
  /** every result of the attempt (the named variant runs twice) */
  results: pg.QueryResult[];
  error?: Error & Record<string, unknown>;
}

/** Runs one attempt in a transaction on a fresh client, then rolls back. */
async function run(c: pg.Client, a: Attempt, mode: 'text' | 'binary'): Promise<Outcome> {
  const q = (text: string): pg.QueryArrayConfig => arrayQuery(text, { extended: mode === 'binary' });
  try {
    await c.query('begin');
    for (const s of a.steps ?? []) await c.query(q(s));
    const results: pg.QueryResult[] = [];
    if (a.named) {
      for (let i = 0; i < 2; i++) results.push(await c.query(arrayQuery(a.sql, { name: 'leak_named' })));
    } else results.push(await c.query(q(a.sql)));
    return { ok: true, result: results[0], results };
  } catch (err) {
    return { ok: false, results: [], error: err as Error & Record<string, unknown> };
  } finally {
    await c.query('rollback').catch(() => {});
  }
}

/** A raw value as text (binary cursors hand Buffers even in text mode). */
function asText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

function expectedText(e: Expect, direct: string | null, oid: number): string | null | undefined {
  switch (e) {
    case 'email':
    case 'hash':
    case 'redact':
      return masked(e, direct, oid);
    case 'partial':
      return masked('partial', direct, oid, OPTS.partial);
    case 'detect':
      return direct === null ? null : detected(direct, NOTE_DETECTORS);
    case 'clear':
      return direct;
    default:
      return undefined;
  }
}

describe('masking leak suite', () => {
  let env: MaskingEnv;
  let m: MintedForTest;

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskleak', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-leak-agent');
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  }, 60_000);

  async function runOn(client: Promise<pg.Client>, a: Attempt, mode: 'text' | 'binary'): Promise<Outcome> {
    const c = await client;
    try {
      return await run(c, a, mode);
    } finally {
      await c.end().catch(() => {});
    }
  }

  /**
   * The attempt directly and through the proxy. `guard` is the direct run with text results: it must
   * show a secret (node-postgres decodes binary fields through UTF-8, so binary ints and arrays do not
   * always decode to what was sent, for the direct run as much as for the proxied one).
   */
  async function both(a: Attempt, mode: 'text' | 'binary'): Promise<{ guard: Outcome; direct: Outcome; via: Outcome }> {
    const extra: ClientExtra = mode === 'text' ? { types: RAW_TYPES } : { binary: true };
    const direct = await runOn(directClient(env.db.name, extra), a, mode);
    const via = await runOn(proxiedClient(env.tp, m, extra), a, mode);
    const guard = mode === 'text' ? direct : await runOn(directClient(env.db.name, { types: RAW_TYPES }), a, 'text');
    return { guard, direct, via };
  }

  /** Checks what every attempt must satisfy; returns false when it was (acceptably) refused. */
  function common(a: Attempt, guard: Outcome, direct: Outcome, via: Outcome): boolean {
    const secrets = [...SECRETS, ...(a.secrets ?? [])];
    for (const o of [guard, direct]) if (!o.ok) throw new Error(`the attempt fails even directly: ${o.error?.message}`);
    const directRows = direct.result!.rows;
    expect(directRows.length).toBeGreaterThan(0);
    // the attempt is a real one: directly, it shows a secret
    expect(leakedForms(flatten(guard.result!.rows), secrets).length).toBeGreaterThan(0);
    if (!via.ok) {
      if (a.orDeny && via.error?.code === '42501') {
        expect(leakedForms(errorText(via.error), secrets)).toEqual([]);
        return false;
      }
      throw new Error(`the attempt failed through the proxy: ${via.error?.code} ${via.error?.message}`);
    }
    for (const r of via.results) {
      expect(leakedForms(flatten(r.rows), secrets)).toEqual([]);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual(direct.result!.fields.map((f) => f.dataTypeID));
      expect(r.rows).toHaveLength(directRows.length);
    }
    return true;
  }

  it.each(ATTEMPTS.map((a) => [a.name, a] as const))('text results: %s', async (_name, a) => {
    const { guard, direct, via } = await both(a, 'text');
    if (!common(a, guard, direct, via)) return;
    const fields = direct.result!.fields;
    expect(fields).toHaveLength(a.expect.length);
    for (const r of via.results) {
      direct.result!.rows.forEach((drow: unknown[], i: number) => {
        const vrow = r.rows[i] as unknown[];
        a.expect.forEach((e, col) => {
          const dv = asText(drow[col]);
          const vv = asText(vrow[col]);
          const want = expectedText(e, dv, fields[col].dataTypeID);
          const where = `row ${i}, column ${fields[col].name} (${e})`;
          if (want !== undefined) expect({ where, value: vv }).toEqual({ where, value: want });
          else if (e === 'masked' && dv !== null) expect({ where, value: vv }).not.toEqual({ where, value: dv });
        });
      });
    }
  });

  it.each(ATTEMPTS.filter((a) => a.binary !== false).map((a) => [a.name, a] as const))('binary results: %s', async (_name, a) => {
    const { guard, direct, via } = await both(a, 'binary');
    if (!common(a, guard, direct, via)) return;
    for (const r of via.results) {
      if (!a.named) expect(r.fields.map((f) => f.format)).toEqual(direct.result!.fields.map((f) => f.format));
      direct.result!.rows.forEach((drow: unknown[], i: number) => {
        const vrow = r.rows[i] as unknown[];
        a.expect.forEach((e, col) => {
          const where = `row ${i}, column ${col} (${e})`;
          if (e === 'clear') expect({ where, value: vrow[col] }).toEqual({ where, value: drow[col] });
          else if (e !== 'detect' && e !== 'any' && drow[col] !== null) expect({ where, value: vrow[col] }).not.toEqual({ where, value: drow[col] });
        });
      });
    }
  });

  it('the same session keeps masking after a rolled-back write and a failed statement', async () => {
    const c = await proxiedClient(env.tp, m, { types: RAW_TYPES });
    try {
      await c.query('begin');
      await expect(c.query('select 1/0')).rejects.toMatchObject({ code: '22012' });
      await c.query('rollback');
      const r = await c.query('select email, ssn from customers where id = 1');
      expect(r.rows).toEqual([{ email: masked('email', ALICE.email, 25), ssn: masked('hash', ALICE.ssn, 25) }]);
    } finally {
      await c.end();
    }
  });
});

/**
 * email keeps an address's domain and partial keeps the last characters. Applied to a value computed
 * from a masked column, what they keep is whatever the query moved there — so a derived value must not
 * get back what the plain column hides.
 */
describe('masking leak suite: derived values do not reveal what the column mask hides', () => {
  let env: MaskingEnv;
  let m: MintedForTest;

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskderiv', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-derive-agent');
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  }, 60_000);

  it.each([
    // the local part moved into the "domain" the email function keeps
    ["'a@' || translate(email, '@', '.')", "select 'a@' || translate(email, '@', '.') as v from customers where id = 1", 'alice.secret'],
    ["'a@' || split_part(email, '@', 1) || '.com'", "select 'a@' || split_part(email, '@', 1) || '.com' as v from customers where id = 1", 'alice.secret'],
    // digits 9-12 of the card moved to the end partial keeps
    ['substr(card_number, 1, 12)', 'select substr(card_number, 1, 12) as v from customers where id = 1', ALICE.card_number.slice(8, 12)],
    // the first four digits moved to the end
    ['reverse(card_number)', 'select reverse(card_number) as v from customers where id = 1', [...ALICE.card_number.slice(0, 4)].reverse().join('')],
  ])('%s', async (_label, sql, hidden) => {
    // what the plain column shows does not contain the hidden part
    const c = await proxiedClient(env.tp, m, { types: RAW_TYPES });
    try {
      const plain = await c.query('select email, card_number from customers where id = 1');
      expect(flatten(plain.rows)).not.toContain(hidden.toLowerCase());
      const d = await directClient(env.db.name, { types: RAW_TYPES });
      const direct = await d.query(sql).finally(() => d.end());
      expect(flatten(direct.rows)).toContain(hidden.toLowerCase());
      const r = await c.query(sql).catch((e: Error & { code?: string }) => e);
      if (r instanceof Error) {
        expect((r as { code?: string }).code).toBe('42501');
        expect(errorText(r)).not.toContain(hidden.toLowerCase());
        return;
      }
      expect(r.rows).toHaveLength(1);
      expect(flatten(r.rows)).not.toContain(hidden.toLowerCase());
    } finally {
      await c.end();
    }
  });
});
