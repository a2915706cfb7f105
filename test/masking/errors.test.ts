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
`;

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
  async function failsClean(sql: string | pg.QueryConfig, code: RegExp): Promise<Error & Record<string, unknown>> {
    // directly, the same error shows a secret (in a transaction rolled back, in case it would succeed)
    const d = await directClient(env.db.name);
    try {
      await d.query('begin');
      const raw = await rejection(d.query(sql));
      expect(raw.code).toMatch(code);
      expect(leakedForms(errorText(raw), CUSTOMER_SECRETS).length).toBeGreaterThan(0);
    } finally {
      await d.query('rollback').catch(() => {});
      await d.end();
    }
    const err = await rejection(c.query(sql));
    expect(err.code).toMatch(code);
    expect(leakedForms(errorText(err), CUSTOMER_SECRETS)).toEqual([]);
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

  // the contract scopes the redaction to statements touching masked columns: others keep their text
  // KNOWN BUG: in a session with column masks, data-exception messages and integrity details are cleaned
  // whatever statement failed (fail closed); they should keep their text when no masked column is involved.
  it.failing('KNOWN BUG (errors cleaned in every statement of a masked session): errors of statements that touch no masked column keep their text', async () => {
    await expect(c.query('select label::int from products where id = 1')).rejects.toMatchObject({
      code: '22P02',
      message: 'invalid input syntax for type integer: "Blue Widget"',
    });
    await expect(c.query("insert into products values (3, 'Red Widget')")).rejects.toMatchObject({
      code: '23505',
      detail: 'Key (label)=(Red Widget) already exists.',
    });
  });
});
