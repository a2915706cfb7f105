import pg from 'pg';
import { silentLogger } from '@sqlwarden/telemetry';
import { PgCatalog } from './catalog-cache.js';

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };

describe('PgCatalog against the local Postgres', () => {
  const db = `swcat_${process.pid}_${Date.now().toString(36)}`;
  let admin: pg.Client;
  let catalog: PgCatalog;
  let oids: { customers: number; v: number };

  beforeAll(async () => {
    admin = new pg.Client({ ...PG, database: 'postgres' });
    await admin.connect();
    await admin.query(`create database ${db}`);
    const c = new pg.Client({ ...PG, database: db });
    await c.connect();
    await c.query('create schema crm; create table crm.customers (id int, "Email" text, dropped int, phone text); alter table crm.customers drop column dropped; create view crm.v as select id, lower("Email") as e from crm.customers');
    const r = await c.query<{ c: number; v: number }>(`select 'crm.customers'::regclass::oid::int as c, 'crm.v'::regclass::oid::int as v`);
    oids = { customers: r.rows[0].c, v: r.rows[0].v };
    await c.end();
    catalog = new PgCatalog({ name: 't', host: PG.host, port: PG.port, user: PG.user, database: db, connectTimeoutMs: 5000 }, silentLogger);
  });
  afterAll(async () => {
    await catalog?.close();
    await admin.query(`drop database if exists ${db} with (force)`);
    await admin.end();
  });

  it('names tables and columns by OID and attnum, skipping dropped columns, with view definitions', async () => {
    expect(catalog.peek(oids.customers)).toBeUndefined();
    await catalog.load([oids.customers, oids.v, 424242]);
    const rel = catalog.peek(oids.customers);
    expect(rel).toMatchObject({ schema: 'crm', name: 'customers', relkind: 'r' });
    expect([...(rel?.columns ?? new Map()).entries()]).toEqual([
      [1, 'id'],
      [2, 'Email'],
      [4, 'phone'],
    ]);
    expect(catalog.peek(oids.v)).toMatchObject({ relkind: 'v', viewDefinition: expect.stringContaining('lower') });
    expect(catalog.peek(424242)).toBeNull();
    await catalog.load([oids.customers]);
    expect(catalog.lookups).toBe(1);
    catalog.invalidate();
    expect(catalog.peek(oids.customers)).toBeUndefined();
  });

  it('view definitions name every table with its schema, and names resolve with the user\'s search_path', async () => {
    const c = new pg.Client({ ...PG, database: db });
    await c.connect();
    await c.query('create table public.plain (id int, secret text); create view public.pv as select secret from plain');
    await c.end();
    await catalog.loadNames([{ table: 'pv' }, { schema: 'crm', table: 'customers' }, { table: 'nope' }, { schema: 'Weird"', table: 'x' }]);
    const pv = catalog.peekByName(undefined, 'pv');
    expect(pv).toMatchObject({ schema: 'public', name: 'pv', relkind: 'v' });
    expect(pv?.viewDefinition).toContain('public.plain');
    expect(catalog.peekByName('crm', 'customers')).toMatchObject({ oid: oids.customers });
    expect(catalog.peekName(undefined, 'nope')).toBeNull();
    expect(catalog.peekName('Weird"', 'x')).toBeNull();
    // the side connection is still usable after all that
    await catalog.load([oids.v]);
    expect(catalog.peek(oids.v)).toMatchObject({ relkind: 'v' });
  });

  it('types: domains (over domains) with their base types, enums, citext, arrays, send functions', async () => {
    const c = new pg.Client({ ...PG, database: db });
    await c.connect();
    await c.query(`create extension if not exists citext;
      create domain crm.dtext as text; create domain crm.ddom as crm.dtext; create type crm.mood as enum ('ok', 'sad');
      create table crm.typed (a crm.ddom, b crm.mood, c citext, d crm.dtext[])`);
    const r = await c.query<{ b: number; c: number; d: number; dtext: number; ddom: number }>(
      `select 'crm.mood'::regtype::oid::int as b, 'citext'::regtype::oid::int as c, 'crm.dtext[]'::regtype::oid::int as d,
              'crm.dtext'::regtype::oid::int as dtext, 'crm.ddom'::regtype::oid::int as ddom`,
    );
    await c.end();
    const t = r.rows[0];
    const before = catalog.lookups;
    await catalog.loadTypes([t.ddom, t.b, t.c, t.d, 4242424]);
    expect(catalog.lookups).toBe(before + 1);
    expect(catalog.peekType(t.ddom)).toEqual({ type: 'd', category: 'S', baseType: t.dtext, elem: 0, send: 'textsend' });
    // the domain under it came along in the same round trip
    expect(catalog.peekType(t.dtext)).toEqual({ type: 'd', category: 'S', baseType: 25, elem: 0, send: 'textsend' });
    expect(catalog.peekType(t.b)).toMatchObject({ type: 'e', category: 'E', send: 'enum_send' });
    expect(catalog.peekType(t.c)).toMatchObject({ type: 'b', category: 'S', baseType: 0, send: 'citextsend' });
    expect(catalog.peekType(t.d)).toMatchObject({ type: 'b', category: 'A', elem: t.dtext, send: 'array_send' });
    expect(catalog.peekType(4242424)).toBeNull();
    await catalog.loadTypes([t.ddom, t.dtext]);
    expect(catalog.lookups).toBe(before + 1);
    catalog.invalidate();
    expect(catalog.peekType(t.b)).toBeUndefined();
  });

  it('a target it cannot reach leaves columns unknown and never throws', async () => {
    const dead = new PgCatalog({ name: 'dead', host: '127.0.0.1', port: 1, user: 'x', database: 'x', connectTimeoutMs: 1000 }, silentLogger);
    await dead.load([1]);
    expect(dead.peek(1)).toBeUndefined();
    expect(dead.failures).toBe(1);
    await dead.loadTypes([16400]);
    expect(dead.peekType(16400)).toBeUndefined();
    expect(dead.failures).toBe(2);
    await dead.close();
  });
});
