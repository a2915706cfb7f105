/**
 * MySQL result masking through views, end to end (mysql2 through sqlwarden against the local
 * MariaDB): a view's column is resolved through its definition (information_schema.VIEWS analysed
 * with the MySQL lineage, views of views followed), so a view that exposes a masked column gets that
 * column's own mask (email keeps the domain) instead of the unknown-origin redact; a computed view
 * column gets redact; a view column from unmasked columns passes; a view whose definition cannot be
 * traced (a stored function) stays masked; DDL through sqlwarden makes the new definition count.
 */
import mysql from 'mysql2/promise';
import { maskValue, TypeHint } from '@sqlwarden/policy';
import { adminMysql, adminMysqlQuery, createMysqlTestTarget, startMysqlTestProxy, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';

const HASH_KEY = 'sqlwarden-mysql-masking-views-key-0123456789';
const SECRET_EMAIL = 'alice.secret@example.com';
const SECRET_SSN = '123-45-6789';

const POLICY = `version: 1
defaults:
  action: allow
  on_parse_error: deny
masks:
  - id: emails
    columns: ["*.customers.email"]
    function: email
  - id: ssn
    columns: ["*.customers.ssn"]
    function: partial
    keep_last: 4
`;

const SETUP = `
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(80), ssn VARCHAR(20));
INSERT INTO customers VALUES (1, 'Alice', '${SECRET_EMAIL}', '${SECRET_SSN}'), (2, 'Bob', 'bob@example.org', '987-65-4321');
CREATE VIEW v_email AS SELECT id, email, name, ssn FROM customers;
CREATE VIEW v_lower AS SELECT id, LOWER(email) AS e, CONCAT(name, '!') AS n FROM customers;
CREATE VIEW v_cols (a, b, c) AS SELECT email, name, id FROM customers;
CREATE VIEW v_over AS SELECT id, email AS contact, name FROM v_email;
CREATE VIEW v_over_upper AS SELECT id, UPPER(contact) AS u FROM v_over;
CREATE VIEW v_over_lower AS SELECT id, e FROM v_lower;
CREATE VIEW v_plain AS SELECT c.id, c.name, UPPER(c.name) AS shout FROM customers c WHERE c.email LIKE '%@%';
CREATE FUNCTION same_text(x VARCHAR(80)) RETURNS VARCHAR(80) DETERMINISTIC RETURN x;
CREATE VIEW v_fn AS SELECT id, same_text(name) AS n, name FROM customers;
CREATE VIEW v_swap AS SELECT id, email AS x FROM customers;
`;

const REDACTED = maskValue('redact', SECRET_EMAIL, TypeHint.Text, { hashKey: HASH_KEY });

describe('MySQL result masking through views (MariaDB)', () => {
  let target: MysqlTestTarget;
  let tp: MysqlTestProxy;

  beforeAll(async () => {
    target = await createMysqlTestTarget('swmview');
    await adminMysqlQuery(SETUP, target.database);
    tp = await startMysqlTestProxy({ target, masks: { yaml: POLICY, hashKey: HASH_KEY } });
  });
  afterAll(async () => {
    await tp?.close();
    await target?.drop();
  });

  async function connect(): Promise<mysql.Connection> {
    return tp.connect(await tp.mint(), { multipleStatements: true });
  }

  const expectedEmail = maskValue('email', SECRET_EMAIL, TypeHint.Text, { hashKey: HASH_KEY });
  const expectedSsn = maskValue('partial', SECRET_SSN, TypeHint.Text, { hashKey: HASH_KEY, keepLast: 4 });

  async function first(c: mysql.Connection, sql: string, binary = false): Promise<mysql.RowDataPacket> {
    const [rows] = binary ? await c.execute<mysql.RowDataPacket[]>(sql, []) : await c.query<mysql.RowDataPacket[]>(sql);
    expect(rows.length).toBeGreaterThan(0);
    return rows[0]!;
  }

  it('gives a view column that exposes a masked column that column’s own mask (text and binary)', async () => {
    expect(expectedEmail).toMatch(/@example\.com$/);
    expect(expectedEmail).not.toBe(REDACTED);
    const c = await connect();
    try {
      for (const binary of [false, true]) {
        const r = await first(c, 'SELECT id, email, name, ssn FROM v_email WHERE id = 1', binary);
        expect([binary, r.id, r.email, r.name, r.ssn]).toEqual([binary, 1, expectedEmail, 'Alice', expectedSsn]);
      }
      // the view read through an alias (MariaDB reports org_table as the alias: the lineage resolves it)
      const a = await first(c, 'SELECT x.email AS m, x.name FROM v_email AS x WHERE x.id = 1');
      expect([a.m, a.name]).toEqual([expectedEmail, 'Alice']);
      // a view with a column list: columns aligned by position, not by the definition's names
      const l = await first(c, 'SELECT a, b, c FROM v_cols WHERE c = 1');
      expect([l.a, l.b, l.c]).toEqual([expectedEmail, 'Alice', 1]);
      const star = await first(c, 'SELECT * FROM v_cols WHERE c = 1');
      expect([star.a, star.b, star.c]).toEqual([expectedEmail, 'Alice', 1]);
    } finally {
      await c.end();
    }
  });

  it('redacts a view column computed from a masked column', async () => {
    const c = await connect();
    try {
      const r = await first(c, 'SELECT id, e, n FROM v_lower WHERE id = 1');
      expect(r.e).toBe(REDACTED);
      expect(r.e).not.toContain('example.com');
      // computed from an unmasked column only: passes
      expect(r.n).toBe('Alice!');
    } finally {
      await c.end();
    }
  });

  it('follows views of views', async () => {
    const c = await connect();
    try {
      const r = await first(c, 'SELECT id, contact, name FROM v_over WHERE id = 1');
      expect([r.id, r.contact, r.name]).toEqual([1, expectedEmail, 'Alice']);
      const u = await first(c, 'SELECT u FROM v_over_upper WHERE id = 1');
      expect(u.u).toBe(REDACTED);
      // a plain reference to a computed column of the view below: still computed → redact
      const lo = await first(c, 'SELECT e FROM v_over_lower WHERE id = 1');
      expect(lo.e).toBe(REDACTED);
      // a view of a view in an expression of the query itself: computed → redact
      const e = await first(c, 'SELECT CONCAT(contact, \'\') AS z FROM v_over WHERE id = 1');
      expect(e.z).toBe(REDACTED);
    } finally {
      await c.end();
    }
  });

  it('passes view columns not derived from masked columns, as the database returns them', async () => {
    const c = await connect();
    const d = await adminMysql(target.database);
    try {
      const sql = 'SELECT id, name, shout FROM v_plain ORDER BY id';
      const [viaProxy] = await c.query(sql);
      const [direct] = await d.query(sql);
      expect(viaProxy).toEqual(direct);
      expect(viaProxy).toEqual([
        { id: 1, name: 'Alice', shout: 'ALICE' },
        { id: 2, name: 'Bob', shout: 'BOB' },
      ]);
      const [bin] = await c.execute('SELECT id, name FROM v_over ORDER BY id', []);
      expect(bin).toEqual([
        { id: 1, name: 'Alice' },
        { id: 2, name: 'Bob' },
      ]);
    } finally {
      await c.end();
      await d.end();
    }
  });

  it('keeps a view column whose definition cannot be traced masked', async () => {
    const c = await connect();
    try {
      // a stored function's result may come from any data: the lineage is uncertain
      const r = await first(c, 'SELECT id, n, name FROM v_fn WHERE id = 1');
      expect(r.n).toBe(maskValue('redact', 'Alice', TypeHint.Text, { hashKey: HASH_KEY }));
      expect(r.n).not.toBe('Alice');
      // a traceable column of the same view passes
      expect(r.name).toBe('Alice');
    } finally {
      await c.end();
    }
  });

  it('sees a view redefined through sqlwarden (the catalog is dropped on DDL)', async () => {
    const c = await connect();
    try {
      expect((await first(c, 'SELECT x FROM v_swap WHERE id = 1')).x).toBe(expectedEmail);
      await c.query("CREATE OR REPLACE VIEW v_swap AS SELECT id, REVERSE(email) AS x FROM customers");
      const r = await first(c, 'SELECT x FROM v_swap WHERE id = 1');
      expect(r.x).toBe(REDACTED);
      expect(r.x).not.toContain('moc.elpmaxe');
      await c.query('CREATE OR REPLACE VIEW v_swap AS SELECT id, name AS x FROM customers');
      expect((await first(c, 'SELECT x FROM v_swap WHERE id = 1')).x).toBe('Alice');
    } finally {
      await c.end();
    }
  });
});
