/**
 * Error and notice text must not carry a masked value out: Postgres echoes values in messages
 * (`invalid input syntax for type integer: "…"`), details (`Key (email)=(…) already exists`,
 * `Failing row contains (…)`) and in whatever a function RAISEs. Errors about unmasked data keep
 * their text.
 */
import pg from 'pg';
import type { MintedForTest } from '../helpers/proxy.js';
import { ALICE, CUSTOMER_SECRETS, CUSTOMERS_SQL, directClient, errorText, extended, leakedForms, policyWithMasks, proxiedClient, rejection, startMaskingEnv, type MaskingEnv } from './support.js';

const MASKS = `  - id: err-email
    columns: ["customers.email"]
    function: email
  - id: err-ssn
    columns: ["customers.ssn"]
    function: hash
  - id: err-card
    columns: ["customers.card_number"]
    function: partial
    keep_last: 4
  - id: err-vault
    columns: ["vault.code"]
    function: redact
`;

/** vault.code: masked values no detector recognises, so only the error cleaning can keep them out */
const VAULT_SECRETS = ['zebra-quartz', 'amber-falcon'];

const SETUP = `${CUSTOMERS_SQL}
create table products (id int primary key, label text constraint products_label_key unique);
insert into products values (1, 'Blue Widget'), (2, 'Red Widget');
create function shout(v text) returns text language plpgsql as $$ begin raise notice 'value is %', v; return 'ok'; end $$;
create function shout_detail(v text) returns text language plpgsql as $$
begin
  raise warning 'look closer' using detail = 'got ' || v, hint = 'hint ' || v;
  return 'ok';
end $$;
create function boom(v text) returns text language plpgsql as $$ begin raise exception 'bad value %', v using detail = 'detail ' || v; end $$;
create table vault (id int primary key, code text, label text);
insert into vault values (1, '${VAULT_SECRETS[0]}', 'first'), (2, '${VAULT_SECRETS[1]}', 'second');
create table codes_seen (code text constraint codes_seen_code_key unique deferrable initially deferred);
create view v_vault as select id, code as secret, label from vault;
create view v_vault_where as select id, label from vault where code::int > 0;
create view v_products as select id, label from products;
create function first_code_int() returns int language sql as $$ select code::int from vault where id = 1 $$;
create table tickets (id int primary key, note text);
create function tickets_check() returns trigger language plpgsql as $$ begin perform (select code from vault where id = new.id)::int; return new; end $$;
create trigger tickets_check before insert on tickets for each row execute function tickets_check();
`;

describe('masked values never appear in errors or notices', () => {
  let env: MaskingEnv;
  let m: MintedForTest;
  let c: pg.Client;
  const notices: Record<string, unknown>[] = [];

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskerr', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-error-agent');
    c = await proxiedClient(env.tp, m);
    c.on('notice', (n) => notices.push(n as unknown as Record<string, unknown>));
  }, 60_000);
  afterAll(async () => {
    await c?.end().catch(() => {});
    await env?.close();
  }, 60_000);

  /** The statement fails with a code matching `code`, and its error shows no secret. */
  async function failsClean(sql: string | pg.QueryConfig, code: RegExp, secrets: readonly string[] = CUSTOMER_SECRETS): Promise<Error & Record<string, unknown>> {
    // directly, the same error shows a secret (in a transaction rolled back, in case it would succeed)
    const d = await directClient(env.db.name);
    try {
      await d.query('begin');
      const raw = await rejection(d.query(sql));
      expect(raw.code).toMatch(code);
      expect(leakedForms(errorText(raw), secrets).length).toBeGreaterThan(0);
    } finally {
      await d.query('rollback').catch(() => {});
      await d.end();
    }
    const err = await rejection(c.query(sql));
    expect(err.code).toMatch(code);
    expect(leakedForms(errorText(err), secrets)).toEqual([]);
    // and the session is still usable
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    return err;
  }

  it.each([
    ['ssn::int', 'select ssn::int from customers where id = 1', /^22P02$/],
    ['email::int', 'select email::int from customers where id = 1', /^22P02$/],
    ['card_number::smallint', 'select card_number::smallint from customers where id = 1', /^22003$/],
    ['ssn::date', 'select ssn::date from customers where id = 1', /^22/],
    ['ssn::uuid', 'select ssn::uuid from customers where id = 1', /^22P02$/],
    ['ssn::inet', 'select ssn::inet from customers where id = 1', /^22P02$/],
    ['ssn::interval', 'select ssn::interval from customers where id = 1', /^22/],
    ['a value cast inside an expression', "select (email || ' ')::numeric from customers where id = 1", /^22P02$/],
    ['a JSON field of the whole row', "select (to_jsonb(c) ->> 'ssn')::int from customers c where id = 1", /^22P02$/],
    ['a cast in WHERE', 'select id from customers where ssn::int > 0', /^22P02$/],
  ])('a cast error (%s) does not echo the value', async (_label, sql, code) => {
    await failsClean(sql, code);
  });

  it('a cast error through the extended protocol does not echo the value', async () => {
    await failsClean({ text: 'select ssn::int from customers where id = $1', values: [1] }, /^22P02$/);
    await failsClean(extended('select email::int from customers where id = 1'), /^22P02$/);
  });

  it('a unique violation on a masked column does not show the value in DETAIL', async () => {
    const e1 = await failsClean("insert into customers (id, name, email) select 100, 'Copy', email from customers where id = 1", /^23505$/);
    expect(e1.constraint).toBe('customers_email_key');
    await failsClean('update customers set email = (select email from customers where id = 1) where id = 2', /^23505$/);
    // the agent's own guess is not confirmed either
    await failsClean(`insert into customers (id, name, email) values (101, 'Guess', '${ALICE.email}')`, /^23505$/);
  });

  it('a check or not-null violation does not show the failing row', async () => {
    await failsClean('update customers set salary = -1 where id = 1', /^23514$/);
    await failsClean('update customers set name = null where id = 1', /^23502$/);
  });

  it.each([
    ['RAISE NOTICE with an email', 'select shout(email) from customers where id = 1'],
    ['RAISE NOTICE with an SSN', 'select shout(ssn) from customers where id = 1'],
    ['RAISE WARNING with a card number in DETAIL and HINT', 'select shout_detail(card_number) from customers where id = 1'],
    ['RAISE NOTICE with a value from a subquery', 'select shout((select email from customers where id = 1))'],
  ])('a notice raised with a masked value does not carry it (%s)', async (_label, sql) => {
    // directly, the notice shows the secret
    const d = await directClient(env.db.name);
    const seen: Record<string, unknown>[] = [];
    d.on('notice', (n) => seen.push(n as unknown as Record<string, unknown>));
    await d.query(sql).finally(() => d.end());
    expect(leakedForms(seen.map(errorText).join(' '), CUSTOMER_SECRETS).length).toBeGreaterThan(0);
    notices.length = 0;
    await c.query(sql);
    expect(leakedForms(notices.map(errorText).join(' '), CUSTOMER_SECRETS)).toEqual([]);
  });

  it('an exception raised with a masked value does not carry it', async () => {
    await failsClean('select boom(ssn) from customers where id = 1', /^P0001$/);
    await failsClean('select boom(email) from customers where id = 1', /^P0001$/);
  });

  it.each([
    ['a cast', 'select code::int from vault where id = 1', /^22P02$/],
    ['a cast of a value from a scalar subquery', 'select (select code from vault where id = 1)::int', /^22P02$/],
    ['a cast in WHERE', 'select id from vault where code::int > 0', /^22P02$/],
    ['a built-in function over the masked column, then a cast', 'select upper(code)::int from vault where id = 1', /^22P02$/],
    ['a cast to regclass (relation "…" does not exist)', 'select code::regclass from vault where id = 1', /^42P01$/],
    ['current_setting() of the value', 'select current_setting(code) from vault where id = 1', /^42704$/],
    ['a cast to regrole', 'select code::regrole from vault where id = 1', /^42704$/],
    ['to_tsquery() of the value', "select to_tsquery(code || ' &') from vault where id = 1", /^42601$/],
    ['a cast through a view over the masked table', 'select secret::int from v_vault where id = 1', /^22P02$/],
    ["a view whose own WHERE fails on the masked column (nothing masked is selected)", 'select label from v_vault_where', /^22P02$/],
    ['a cast through a CTE', 'with t as (select code as x from vault where id = 1) select x::int from t', /^22P02$/],
    ['a user function that reads the masked column', 'select first_code_int()', /^22P02$/],
    ['a trigger that reads the masked column (the statement names no masked table)', "insert into tickets values (1, 'hello')", /^22P02$/],
    [
      'INSERT ... SELECT of the masked column into an unmasked unique column',
      'insert into products (id, label) select 100 + id, code from vault union all select 200 + id, code from vault where id = 1',
      /^23505$/,
    ],
  ])('leak attempt stays clean: %s', async (_label, sql, code) => {
    await failsClean(sql, code, VAULT_SECRETS);
    await failsClean(extended(sql), code, VAULT_SECRETS);
  });

  /** Runs `setup` then `sql` directly (showing the leak) and through the proxy (clean); rolls back both. */
  async function sequenceFailsClean(setup: string[], sql: string, code: RegExp): Promise<void> {
    const d = await directClient(env.db.name);
    try {
      for (const q of setup) await d.query(q);
      const raw = await rejection(d.query(sql));
      expect(raw.code).toMatch(code);
      expect(leakedForms(errorText(raw), VAULT_SECRETS).length).toBeGreaterThan(0);
    } finally {
      await d.query('rollback').catch(() => {});
      await d.end();
    }
    const p = await proxiedClient(env.tp, m);
    try {
      for (const q of setup) await p.query(q);
      const err = await rejection(p.query(sql));
      expect(err.code).toMatch(code);
      expect(leakedForms(errorText(err), VAULT_SECRETS)).toEqual([]);
    } finally {
      await p.query('rollback').catch(() => {});
      await p.end();
    }
  }

  it('a deferred unique violation at COMMIT (of values copied from a masked column) stays clean', async () => {
    const copy = 'insert into codes_seen select code from vault where id = 1';
    await sequenceFailsClean(['begin', copy, copy], 'commit', /^23505$/);
  });

  it('EXECUTE of a prepared statement and FETCH from a cursor stay clean', async () => {
    await sequenceFailsClean(['prepare p_err as select code::int from vault where id = 1'], 'execute p_err', /^22P02$/);
    await sequenceFailsClean(['begin', 'declare cur_err cursor for select code::int from vault'], 'fetch cur_err', /^22P02$/);
  });

  it('the context of a JSON parse error does not show the start of the value', async () => {
    const d = await directClient(env.db.name);
    const raw = await rejection(d.query('select code::jsonb from vault where id = 1')).finally(() => d.end());
    expect(errorText(raw)).toContain('zebra');
    const err = await rejection(c.query('select code::jsonb from vault where id = 1'));
    expect(err.code).toBe('22P02');
    expect(errorText(err)).not.toContain('zebra');
  });

  // the contract scopes the redaction to statements touching masked columns: others keep their text
  it('errors of statements that touch no masked column keep their text', async () => {
    await expect(c.query('select label::int from products where id = 1')).rejects.toMatchObject({
      code: '22P02',
      message: 'invalid input syntax for type integer: "Blue Widget"',
    });
    await expect(c.query("insert into products values (3, 'Red Widget')")).rejects.toMatchObject({
      code: '23505',
      detail: 'Key (label)=(Red Widget) already exists.',
    });
  });

  it.each([
    ['through a view over an unmasked table', 'select label::int from v_products where id = 1', 'invalid input syntax for type integer: "Blue Widget"'],
    ['through a CTE', 'with t as (select label from products where id = 2) select label::int from t', 'invalid input syntax for type integer: "Red Widget"'],
    ['through a built-in function', 'select upper(label)::int from products where id = 1', 'invalid input syntax for type integer: "BLUE WIDGET"'],
    ['of a constant', "select 'not a number'::int", 'invalid input syntax for type integer: "not a number"'],
  ])('a data exception %s keeps its text', async (_label, sql, message) => {
    await expect(c.query(sql)).rejects.toMatchObject({ code: '22P02', message });
    await expect(c.query(extended(sql))).rejects.toMatchObject({ code: '22P02', message });
  });

  it('errors of unmasked tables keep their text through the extended protocol and in integrity details', async () => {
    await expect(c.query({ text: 'select label::int from products where id = $1', values: [1] })).rejects.toMatchObject({
      code: '22P02',
      message: 'invalid input syntax for type integer: "Blue Widget"',
    });
    await expect(c.query('update products set id = null where id = 1')).rejects.toMatchObject({
      code: '23502',
      detail: 'Failing row contains (null, Blue Widget).',
    });
  });

  it('an error about the statement\'s own text keeps it, even in a statement over a masked table', async () => {
    await expect(c.query('select nosuchcol from vault')).rejects.toMatchObject({ code: '42703', message: 'column "nosuchcol" does not exist' });
    await expect(c.query('select code from vault join nosuch on true')).rejects.toMatchObject({ code: '42P01', message: 'relation "nosuch" does not exist' });
  });

  it('an error of a statement that touches a masked table is cleaned even when it fails on an unmasked column', async () => {
    // the failing row of customers would show every column, masked ones included
    const err = await rejection(c.query('update customers set name = null where id = 2'));
    expect(err.code).toBe('23502');
    expect(err.detail).toBeUndefined();
  });
});
