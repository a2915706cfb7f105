import pg from 'pg';
import { silentLogger } from '@sqlwarden/telemetry';
import { PgCatalog } from './catalog-cache.js';

const PG = { host: '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres' };

describe('PgCatalog.describe and column types (for COPY)', () => {
  const db = `swcatdesc_${process.pid}_${Date.now().toString(36)}`;
  let admin: pg.Client;
  let direct: pg.Client;
  let catalog: PgCatalog;
  let customers: number;

  beforeAll(async () => {
    admin = new pg.Client({ ...PG, database: 'postgres' });
    await admin.connect();
    await admin.query(`create database ${db}`);
    direct = new pg.Client({ ...PG, database: db });
    await direct.connect();
    await direct.query(`create schema crm;
      create table crm.customers (id int, "Email" text, dropped int, born date);
      alter table crm.customers drop column dropped;
      create sequence crm.s;`);
    customers = (await direct.query<{ c: number }>(`select 'crm.customers'::regclass::oid::int as c`)).rows[0]!.c;
    catalog = new PgCatalog({ name: 't', host: PG.host, port: PG.port, user: PG.user, database: db, connectTimeoutMs: 5000 }, silentLogger);
  });
  afterAll(async () => {
    await catalog?.close();
    await direct?.end();
    await admin.query(`drop database if exists ${db} with (force)`);
    await admin.end();
  });

  it('gives each column of a query: table OID and attribute number for plain columns, 0 for expressions, and the type', async () => {
    const fields = await catalog.describe('select id, lower("Email") as e, born from crm.customers');
    expect(fields.map((f) => [f.name, f.tableOid, f.attnum, f.typeOid])).toEqual([
      ['id', customers, 1, 23],
      ['e', 0, 0, 25],
      ['born', customers, 4, 1082],
    ]);
  });

  it('runs nothing: a data-modifying query changes no row and a sequence does not move', async () => {
    const fields = await catalog.describe("insert into crm.customers (id, \"Email\") select nextval('crm.s'), 'x' returning id, \"Email\"");
    expect(fields.map((f) => f.name)).toEqual(['id', 'Email']);
    expect((await direct.query('select count(*)::int as n from crm.customers')).rows[0].n).toBe(0);
    expect((await direct.query('select last_value::int as v, is_called from crm.s')).rows[0]).toEqual({ v: 1, is_called: false });
  });

  it('rejects a query that does not analyse there, and keeps working afterwards', async () => {
    await expect(catalog.describe('select * from no_such_table')).rejects.toThrow(/does not exist/);
    await expect(catalog.describe('select 1 as one')).resolves.toMatchObject([{ name: 'one', tableOid: 0, typeOid: 23 }]);
    // a statement without rows describes to no columns
    await expect(catalog.describe('set work_mem = 1000')).resolves.toEqual([]);
  });

  it('loads column types with the columns, dropped columns left out', async () => {
    await catalog.load([customers]);
    const rel = catalog.peek(customers);
    expect([...(rel?.columnTypes ?? new Map()).entries()]).toEqual([
      [1, 23],
      [2, 25],
      [4, 1082],
    ]);
  });
});
