/**
 * deny_in_predicates: a masked column a query filters, joins, sorts or groups on lets an agent find
 * the hidden value by search, so statements that do are refused (42501 naming the mask) before they
 * run; selecting the column (masked) without filtering on it works, and masks without the flag do
 * not refuse anything. Views are followed (through the catalog) to the columns their columns come
 * from; what cannot be followed is refused.
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
create view v_codes as select id, ssn as code, name as label from customers;
create view v_v_codes as select id, code as c2, label from v_codes;
create view v_expr as select id, upper(substr(ssn, 1, 3)) as prefix, length(name) as name_len from customers;
create view v_filtered as select id, name from customers where ssn like '123%';
create view v_rows as select id, row_to_json(c) as doc from customers c;
create materialized view mv_codes as select id, ssn as code from customers;
create function fn_label(int) returns text language sql as $$ select 'label ' || $1 $$;
create view v_fn as select id, fn_label(id) as lbl from customers;
create table notes (id int primary key, body text);
insert into notes values (1, 'first'), (2, 'second');
create view v_notes as select id, body from notes;
`;

/** Predicates over view columns whose data comes from the deny_in_predicates column (customers.ssn). */
const REFUSED_THROUGH_VIEWS: [string, string][] = [
  ['WHERE on a view column', `select id from v_customers where ssn = '${ALICE.ssn}'`],
  ['WHERE on a renamed view column', "select id from v_codes where code like '123%'"],
  ['WHERE on a schema-qualified view', "select id from public.v_codes where code like '123%'"],
  ['a view over a view', "select id from v_v_codes where c2 like '123%'"],
  ['a view column that is an expression of the masked column', "select id from v_expr where prefix = '123'"],
  ['a whole-row view column', "select id from v_rows where doc::text like '%123-45%'"],
  ['a materialized view', "select id from mv_codes where code like '123%'"],
  ['JOIN ... ON a view column', "select o.id from orders o join v_codes v on v.code = o.id::text"],
  ['ORDER BY a view column', 'select id from v_codes order by code'],
  ['GROUP BY a view column', 'select count(*) from v_codes group by code'],
  ['NATURAL JOIN of a view (every column compared)', 'select id from v_codes natural join v_filtered'],
  ['a whole-row comparison of a view', 'select id from v_codes v where v = v'],
  ['a view column in a subquery', `select id from customers where id in (select id from v_codes where code = '${ALICE.ssn}')`],
  ['a view column through a CTE', `with t as (select id, code from v_codes) select id from t where code = '${ALICE.ssn}'`],
  ['UPDATE through a view, WHERE on its masked column', `update v_codes set label = 'changed' where code = '${ALICE.ssn}'`],
];

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

  it('refuses WHERE through a view', async () => {
    await expect(c.query(`select id from v_customers where ssn = '${ALICE.ssn}'`)).rejects.toMatchObject({ code: '42501' });
  });

  it.each(REFUSED_THROUGH_VIEWS)('follows views: refuses %s (simple protocol), and nothing runs', async (_label, sql) => {
    const err = await rejection(c.query(sql));
    expect(err).toMatchObject({ code: '42501' });
    expect(err.message).toContain('pred-ssn');
    await unchanged();
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it.each(REFUSED_THROUGH_VIEWS)('follows views: refuses %s (extended protocol)', async (_label, sql) => {
    const err = await rejection(c.query(extended(sql)));
    expect(err).toMatchObject({ code: '42501' });
    expect(err.message).toContain('pred-ssn');
    await unchanged();
  });

  it('views: columns that do not come from the masked column can be filtered, joined and sorted on', async () => {
    expect((await c.query(`select id, label from v_codes where label = '${ALICE.name}'`)).rows).toEqual([{ id: 1, label: ALICE.name }]);
    expect((await c.query("select id from v_v_codes where label like 'B%' order by label, id")).rows).toEqual([{ id: 2 }]);
    expect((await c.query('select id, name_len from v_expr where name_len > 3 order by name_len')).rows).toEqual([{ id: 1, name_len: 5 }]);
    expect((await c.query(extended('select v.id from v_codes v join orders o on o.id = v.id where v.label = $1', [BOB.name]))).rows).toEqual([{ id: 2 }]);
    expect((await c.query('select id from v_fn where id = 1')).rows).toEqual([{ id: 1 }]);
    expect((await c.query("select id from v_notes where body = 'second'")).rows).toEqual([{ id: 2 }]);
    // a masked view column may be selected (masked), just not used to filter
    expect((await c.query('select id, code from v_codes order by id')).rows).toEqual([
      { id: 1, code: masked('hash', ALICE.ssn, OID.text) },
      { id: 2, code: masked('hash', BOB.ssn, OID.text) },
    ]);
  });

  it("views: the view's own WHERE on a masked column is the view author's, not the agent's", async () => {
    // v_filtered keeps rows whose ssn starts with 123 (Alice's): filtering on its name column is allowed
    expect((await c.query('select id, name from v_filtered where id > 0 order by name')).rows).toEqual([{ id: 1, name: ALICE.name }]);
  });

  it('views: a view column that cannot be traced is refused (fail closed), its other columns are not', async () => {
    const err = await rejection(c.query("select id from v_fn where lbl = 'label 1'"));
    expect(err).toMatchObject({ code: '42501' });
    expect(err.message).toMatch(/v_fn\.lbl could not be traced/);
    expect((await c.query("select id from v_fn where id = 1")).rows).toEqual([{ id: 1 }]);
  });

  it('views: a relation the catalog cannot see is refused (fail closed)', async () => {
    const err = await rejection(c.query("select id from no_such_relation where code like '123%'"));
    expect(err).toMatchObject({ code: '42501', message: expect.stringContaining("is not a relation sqlwarden's catalog connection can see") });
    const s = await proxiedClient(env.tp, m);
    try {
      await s.query('create temp view tmp_codes as select id, ssn as code from customers');
      const e2 = await rejection(s.query("select id from tmp_codes where code like '123%'"));
      expect(e2).toMatchObject({ code: '42501', message: expect.stringContaining('pred-ssn') });
    } finally {
      await s.end();
    }
  });

  it('views: a temporary view that shadows a table cannot hide a masked column behind the table\'s name', async () => {
    const s = await proxiedClient(env.tp, m);
    try {
      // the catalog connection sees public.notes (a table); this session sees its own temporary view
      await s.query('create temp view notes as select id, ssn as body from customers');
      const err = await rejection(s.query("select id from notes where body like '123%'"));
      expect(err).toMatchObject({ code: '42501', message: expect.stringContaining('created or redefined in this session') });
    } finally {
      await s.end();
    }
    // other sessions are not affected
    expect((await c.query("select id from notes where body = 'first'")).rows).toEqual([{ id: 1 }]);
  });

  it('views: a view redefined in an open transaction is not judged by its committed definition', async () => {
    const s = await proxiedClient(env.tp, m);
    try {
      await s.query('begin');
      await s.query('create or replace view v_notes as select id, ssn as body from customers');
      const err = await rejection(s.query("select id from v_notes where body like '123%'"));
      expect(err).toMatchObject({ code: '42501', message: expect.stringContaining('pred-ssn') });
    } finally {
      await s.query('rollback').catch(() => {});
      await s.end();
    }
  });

  it('views: a view created and used in one message is refused, and nothing runs', async () => {
    const err = await rejection(c.query("create view v_same as select id, ssn as s from customers; select id from v_same where s like '123%'"));
    expect(err).toMatchObject({ code: '42501', message: expect.stringContaining('pred-ssn') });
    expect((await adminQuery("select to_regclass('public.v_same') is null as gone", env.db.name)).rows).toEqual([{ gone: true }]);
  });

  it("views: an agent's own view is judged through its definition from the next session on", async () => {
    const a = await proxiedClient(env.tp, m);
    try {
      await a.query('create view v_agent as select id, ssn as s, name from customers');
      // in the session that created it: not trusted (it could still differ from what the catalog sees)
      await expect(a.query(`select id from v_agent where name = '${ALICE.name}'`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await a.end();
    }
    const b = await proxiedClient(env.tp, m);
    try {
      expect((await b.query(`select id from v_agent where name = '${ALICE.name}'`)).rows).toEqual([{ id: 1 }]);
      await expect(b.query("select id from v_agent where s like '123%'")).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('pred-ssn') });
    } finally {
      await b.end();
    }
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
