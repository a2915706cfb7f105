/**
 * deny_in_predicates: a masked column a query filters, joins, sorts or groups on lets an agent find
 * the hidden value by search, so statements that do are refused (42501 naming the mask) before they
 * run; selecting the column (masked) without filtering on it works, and masks without the flag do
 * not refuse anything.
 */
import pg from 'pg';
import type { MintedForTest } from '../helpers/proxy.js';
import { adminQuery } from '../helpers/servers.js';
import { ALICE, BOB, CUSTOMERS_SQL, errorText, extended, masked, OID, policyWithMasks, proxiedClient, rejection, startMaskingEnv, type MaskingEnv } from './support.js';

const MASKS = `  - id: pred-ssn
    columns: ["customers.ssn", "orders.customer_ssn"]
    function: hash
    deny_in_predicates: true
  - id: pred-email
    columns: ["customers.email"]
    function: email
`;

const SETUP = `${CUSTOMERS_SQL}
create table orders (id int primary key, customer_ssn text, amount int);
insert into orders values (1, '${ALICE.ssn}', 10), (2, '${BOB.ssn}', 20);
create view v_customers as select id, name, ssn from customers;
`;

const REFUSED: [string, string][] = [
  ['WHERE =', `select id from customers where ssn = '${ALICE.ssn}'`],
  ['WHERE LIKE', "select id from customers where ssn like '123%'"],
  ['WHERE on an expression of the column', "select id from customers where substr(ssn, 1, 3) = '123'"],
  ['WHERE IS NULL', 'select id from customers where ssn is null'],
  ['JOIN ... ON', 'select c.id, o.amount from customers c join orders o on o.customer_ssn = c.ssn'],
  ['JOIN ... USING-like equality in WHERE', 'select c.id from customers c, orders o where o.customer_ssn = c.ssn'],
  ['ORDER BY', 'select id from customers order by ssn'],
  ['ORDER BY an output alias', 'select id, ssn as s from customers order by s'],
  ['GROUP BY', 'select count(*) from customers group by ssn'],
  ['HAVING', "select id from customers group by id having max(ssn) > '2'"],
  ['WHERE in a subquery', `select id from customers where id in (select id from customers where ssn = '${ALICE.ssn}')`],
  ['correlated EXISTS', 'select id from customers c where exists (select 1 from orders o where o.customer_ssn = c.ssn)'],
  ['WHERE on a CTE column', `with t as (select id, ssn from customers) select id from t where ssn = '${ALICE.ssn}'`],
  ['window ORDER BY', 'select id, row_number() over (order by ssn) from customers'],
  ['UPDATE ... WHERE', `update customers set name = 'changed' where ssn = '${ALICE.ssn}'`],
  ['DELETE ... WHERE', `delete from customers where ssn = '${ALICE.ssn}'`],
  ['DECLARE CURSOR with a WHERE', `declare pred_cur cursor with hold for select id from customers where ssn = '${ALICE.ssn}'`],
];

describe('deny_in_predicates', () => {
  let env: MaskingEnv;
  let m: MintedForTest;
  let c: pg.Client;

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskpred', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-predicate-agent');
    c = await proxiedClient(env.tp, m);
  }, 60_000);
  afterAll(async () => {
    await c?.end().catch(() => {});
    await env?.close();
  }, 60_000);

  async function unchanged(): Promise<void> {
    const r = await adminQuery('select id, name from customers order by id', env.db.name);
    expect(r.rows).toEqual([
      { id: 1, name: ALICE.name },
      { id: 2, name: BOB.name },
    ]);
  }

  it.each(REFUSED)('refuses %s (simple protocol), and nothing runs', async (_label, sql) => {
    const err = await rejection(c.query(sql));
    expect(err).toMatchObject({ code: '42501' });
    expect(err.message).toContain('pred-ssn');
    expect(errorText(err)).not.toContain(masked('hash', ALICE.ssn, OID.text) as string);
    await unchanged();
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it.each(REFUSED.filter(([label]) => !label.startsWith('DECLARE')))('refuses %s (extended protocol)', async (_label, sql) => {
    const err = await rejection(c.query(extended(sql)));
    expect(err).toMatchObject({ code: '42501' });
    expect(err.message).toContain('pred-ssn');
    await unchanged();
  });

  // KNOWN BUG: a predicate on a view's column is matched against the view's name only; following the view
  // to its base columns needs the catalog, which the decision point (no I/O) does not ask yet.
  it.failing('KNOWN BUG (deny_in_predicates does not follow views): refuses WHERE through a view', async () => {
    await expect(c.query(`select id from v_customers where ssn = '${ALICE.ssn}'`)).rejects.toMatchObject({ code: '42501' });
  });

  it('refuses a parameterised predicate, and a PREPAREd one', async () => {
    const e1 = await rejection(c.query('select id from customers where ssn = $1', [ALICE.ssn]));
    expect(e1).toMatchObject({ code: '42501', message: expect.stringContaining('pred-ssn') });
    const e2 = await rejection(c.query('prepare pred_p(text) as select id from customers where ssn = $1'));
    expect(e2).toMatchObject({ code: '42501', message: expect.stringContaining('pred-ssn') });
    // whether refused at PREPARE or EXECUTE, it never returns a row
    const e3 = await c.query('execute pred_p($$123-45-6789$$)').catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(Error);
  });

  it('selecting the column without filtering on it works, masked', async () => {
    const r = await c.query('select id, ssn from customers order by id');
    expect(r.rows).toEqual([
      { id: 1, ssn: masked('hash', ALICE.ssn, OID.text) },
      { id: 2, ssn: masked('hash', BOB.ssn, OID.text) },
    ]);
    const one = await c.query('select ssn, customer_ssn from customers join orders using (id) where id = $1', [2]);
    expect(one.rows).toEqual([{ ssn: masked('hash', BOB.ssn, OID.text), customer_ssn: masked('hash', BOB.ssn, OID.text) }]);
    expect((await c.query('select count(*)::int as n from customers')).rows).toEqual([{ n: 2 }]);
  });

  it('a mask without deny_in_predicates can be filtered and sorted on (its values stay masked)', async () => {
    const r = await c.query("select id, email from customers where email like 'alice%' order by email");
    expect(r.rows).toEqual([{ id: 1, email: masked('email', ALICE.email, OID.text) }]);
    const g = await c.query('select count(*)::int as n from customers group by email order by email');
    expect(g.rows).toHaveLength(2);
  });
});
