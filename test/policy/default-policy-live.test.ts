import pg from 'pg';
import { createTestDatabase } from '../helpers/servers.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

/** The shipped default policy, enforced by the live proxy on both Postgres protocols. */
describe('the default policy through the live proxy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  let c: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    tp = await startTestProxy({ database: db.name });
    const m = await tp.mint('default-policy-agent');
    c = new pg.Client(tp.pgOptions(m));
    await c.connect();
    await c.query('create table orders (id int primary key, status text); insert into orders values (1, $$new$$), (2, $$new$$)');
  });
  afterAll(async () => {
    await c?.end();
    await tp?.close();
    await db?.drop();
  });

  it.each([
    ["set client_encoding = 'SJIS'", 'no-unsafe-client-encoding'],
    ['set standard_conforming_strings = off', 'no-string-escape-changes'],
    ["set application_name = 'someone-else'", 'no-session-identity-changes'],
    ['set search_path = secret, public', 'no-search-path-changes'],
    ['update orders set status = $$x$$', 'no-unbounded-writes'],
    ['drop table orders', 'no-drop-or-truncate'],
  ])('simple protocol: %s is denied by %s and nothing changes', async (sql, rule) => {
    await expect(c.query(sql)).rejects.toMatchObject({ code: '42501', message: expect.stringContaining(`"${rule}"`) });
    const r = await c.query('select count(*)::int as n, count(*) filter (where status = $$new$$)::int as fresh from orders');
    expect(r.rows[0]).toEqual({ n: 2, fresh: 2 });
  });

  it('extended protocol: a parameterised unbounded write is denied at Parse', async () => {
    await expect(c.query('update orders set status = $1', ['x'])).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('no-unbounded-writes') });
    const r = await c.query('update orders set status = $1 where id = $2 returning id', ['done', 1]);
    expect(r.rows).toEqual([{ id: 1 }]);
  });

  it('the settings drivers and ORMs send on connect are allowed, and the session stays usable', async () => {
    for (const sql of [
      "SET client_encoding TO 'UTF8'",
      'SET standard_conforming_strings = on',
      "SET client_min_messages TO 'warning'",
      'SET intervalstyle = iso_8601',
      "SET SESSION timezone TO 'UTC'",
      'SET extra_float_digits = 3',
      'SET search_path TO "$user", public',
      "SELECT pg_catalog.set_config('search_path', 'public', false)",
    ]) {
      await expect(c.query(sql)).resolves.toBeDefined();
    }
    const r = await c.query('select current_setting($1) as tz, current_setting($2) as style, count(*)::int as n from orders', ['timezone', 'intervalstyle']);
    expect(r.rows[0]).toEqual({ tz: 'UTC', style: 'iso_8601', n: 2 });
  });

  it('a statement that does not parse is denied by sqlwarden, never sent', async () => {
    await expect(c.query('selec 1')).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('parse-error') });
  });
});
