/**
 * UNION / INTERSECT / EXCEPT through the proxy. When every branch gives a column's own value (the same
 * column or different ones, or a constant), masks that keep part of a value (email, partial) still
 * apply; columns with different masks give redact (null if one of them is null); a computed branch
 * makes the whole output computed (redact for email/partial). Text and binary results, with ORDER BY /
 * LIMIT, nesting and CTEs.
 */
import pg from 'pg';
import type { MintedForTest } from '../helpers/proxy.js';
import {
  arrayQuery,
  CUSTOMER_SECRETS,
  CUSTOMERS_SQL,
  directClient,
  flatten,
  leakedForms,
  masked,
  policyWithMasks,
  proxiedClient,
  RAW_TYPES,
  startMaskingEnv,
  type MaskingEnv,
} from './support.js';

const SETUP = `${CUSTOMERS_SQL}
create table customers2 (id int primary key, email text, ssn text);
insert into customers2 values (1, 'carol.private@example.net', '345-67-8901'), (2, 'dave.private@corp.example.com', '456-78-9012');
create table leads (id int primary key, contact text, note text);
insert into leads values (1, 'erin.lead.private@example.org', 'call back');
`;

const SECRETS = [...CUSTOMER_SECRETS, 'carol.private', 'dave.private', 'erin.lead.private', '345-67-8901', '456-78-9012'];

const MASKS = `  - id: so-email
    columns: ["customers.email"]
    function: email
  - id: so-email-2
    columns: ["customers2.email"]
    function: email
  - id: so-contact
    columns: ["leads.contact"]
    function: partial
    keep_last: 4
  - id: so-ssn
    columns: ["customers.ssn", "customers2.ssn"]
    function: hash
`;

type Fn = 'email' | 'hash' | 'redact' | 'partial';

const CASES: [string, string, Fn][] = [
  ['UNION of two columns with the same mask', 'select email from customers union select email from customers2 order by 1', 'email'],
  ['UNION ALL, an unmasked and a masked column', 'select name from customers union all select email from customers order by 1', 'email'],
  ['INTERSECT', 'select email from customers intersect select email from customers order by 1', 'email'],
  ['EXCEPT with a constant', "select email from customers2 except select 'nobody@example.net' order by 1", 'email'],
  ['nested set operations', '(select email from customers union select email from customers2) except (select email from customers2 where id = 2) order by 1', 'email'],
  ['ORDER BY and LIMIT on the union', 'select email from customers union all select email from customers2 order by email desc limit 3 offset 1', 'email'],
  ['wrapped in a CTE', 'with u as (select email from customers union all select email from customers2) select email from u order by email', 'email'],
  ['in a subquery, renamed', 'select x from (select email as x from customers union select email from customers2) s order by x', 'email'],
  ['hashed columns of two tables', 'select ssn from customers union all select ssn from customers2 order by 1', 'hash'],
  ['an unmasked and a hashed column', 'select name from customers union select ssn from customers2 order by 1', 'hash'],
  // different masks on the branches: redact
  ['email and partial columns', 'select email from customers union select contact from leads order by 1', 'redact'],
  ['email and hash columns', 'select email from customers union all select ssn from customers2 order by 1', 'redact'],
  // a computed branch: the output is computed
  ['a computed branch', 'select email from customers union select lower(email) from customers2 order by 1', 'redact'],
];

describe('masking through set operations', () => {
  let env: MaskingEnv;
  let m: MintedForTest;

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmasksetop', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-setop-agent');
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  }, 60_000);

  async function rows(client: Promise<pg.Client>, sql: string, extended = false): Promise<pg.QueryArrayResult> {
    const c = await client;
    try {
      return await c.query(arrayQuery(sql, { extended }));
    } finally {
      await c.end().catch(() => {});
    }
  }

  it.each(CASES)('text results: %s', async (_name, sql, fn) => {
    const direct = await rows(directClient(env.db.name, { types: RAW_TYPES }), sql);
    const via = await rows(proxiedClient(env.tp, m, { types: RAW_TYPES }), sql);
    // the attempt is real: directly, it shows a secret
    expect(leakedForms(flatten(direct.rows), SECRETS).length).toBeGreaterThan(0);
    expect(leakedForms(flatten(via.rows), SECRETS)).toEqual([]);
    const oid = direct.fields[0]!.dataTypeID;
    const want = direct.rows.map((r) => [masked(fn, r[0] as string | null, oid, fn === 'partial' ? { keepLast: 4 } : {})]);
    expect(via.rows).toEqual(want);
  });

  it.each(CASES)('binary results: %s', async (_name, sql) => {
    const direct = await rows(directClient(env.db.name, { binary: true }), sql, true);
    const via = await rows(proxiedClient(env.tp, m, { binary: true }), sql, true);
    expect(via.fields.map((f) => f.format)).toEqual(['binary']);
    expect(leakedForms(flatten(via.rows), SECRETS)).toEqual([]);
    expect(via.rows).toHaveLength(direct.rows.length);
    // text and binary give the same masked values (text columns)
    const text = await rows(proxiedClient(env.tp, m, { types: RAW_TYPES }), sql);
    expect(via.rows.map((r) => String(r[0]))).toEqual(text.rows.map((r) => String(r[0])));
  });

  it('email keeps the domain through a UNION (it was redacted before set operations were followed)', async () => {
    const sql = 'select email from customers union select email from customers2 order by 1';
    const direct = await rows(directClient(env.db.name, { types: RAW_TYPES }), sql);
    const via = await rows(proxiedClient(env.tp, m, { types: RAW_TYPES }), sql);
    const domain = (v: unknown): string => String(v).slice(String(v).indexOf('@'));
    expect(via.rows).toHaveLength(4);
    for (const r of via.rows) expect(String(r[0])).toMatch(/^\*+@[a-z.]+$/);
    expect(via.rows.map((r) => domain(r[0]))).toEqual(direct.rows.map((r) => domain(r[0])));
  });
});
