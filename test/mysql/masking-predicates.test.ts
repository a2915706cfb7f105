/**
 * MySQL deny_in_predicates through views, end to end (mysql2 through sqlwarden against the local
 * MariaDB): a predicate (WHERE, ORDER BY, JOIN) on a view column whose value comes from a
 * deny_in_predicates column is refused before anything is sent upstream (1227/42000 naming the mask),
 * views of views too; a view column over unmasked data passes; a direct table column is refused by
 * the policy; a relation the catalog cannot see (a temporary table) is refused while deny rules apply.
 */
import mysql from 'mysql2/promise';
import { adminMysqlQuery, createMysqlTestTarget, startMysqlTestProxy, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';

const HASH_KEY = 'sqlwarden-mysql-masking-predicates-key-0123456789';

const POLICY = `version: 1
defaults:
  action: allow
  on_parse_error: deny
masks:
  - id: ssn-strict
    columns: ["*.customers.ssn"]
    function: partial
    keep_last: 4
    deny_in_predicates: true
  - id: emails
    columns: ["*.customers.email"]
    function: email
`;

const SETUP = `
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(80), ssn VARCHAR(20));
INSERT INTO customers VALUES (1, 'Alice', 'alice@example.com', '123-45-6789'), (2, 'Bob', 'bob@example.org', '987-65-4321');
CREATE VIEW v_ssn AS SELECT id, name, ssn AS code FROM customers;
CREATE VIEW v_over AS SELECT id, UPPER(code) AS c2, name FROM v_ssn;
CREATE VIEW v_plain AS SELECT id, name, email FROM customers;
`;

function denied(rule: string, detail = ''): object {
  return { errno: 1227, sqlState: '42000', message: expect.stringMatching(new RegExp(`"${rule}".*${detail}`)) };
}

describe('MySQL deny_in_predicates through views (MariaDB)', () => {
  let target: MysqlTestTarget;
  let tp: MysqlTestProxy;

  beforeAll(async () => {
    target = await createMysqlTestTarget('swmpred');
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

  it('refuses WHERE on a view column over a deny_in_predicates column (text and prepared)', async () => {
    const c = await connect();
    try {
      await expect(c.query(`SELECT id FROM v_ssn WHERE code LIKE '123%'`)).rejects.toMatchObject(denied('ssn-strict', 'v_ssn\\.code comes from a column masked by "ssn-strict"'));
      await expect(c.execute(`SELECT id FROM v_ssn WHERE code = ?`, ['123-45-6789'])).rejects.toMatchObject(denied('ssn-strict'));
      // qualified through an alias, and in a join condition
      await expect(c.query(`SELECT x.id FROM v_ssn AS x WHERE x.code LIKE '9%'`)).rejects.toMatchObject(denied('ssn-strict'));
      await expect(c.query(`SELECT a.id FROM customers a JOIN v_ssn b ON b.code = a.name`)).rejects.toMatchObject(denied('ssn-strict'));
      // the session goes on
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT id, name FROM v_ssn WHERE id = 1');
      expect(rows.map((r) => [r.id, r.name])).toEqual([[1, 'Alice']]);
    } finally {
      await c.end();
    }
  });

  it('refuses a view over a view', async () => {
    const c = await connect();
    try {
      await expect(c.query(`SELECT id FROM v_over WHERE c2 LIKE '123%'`)).rejects.toMatchObject(denied('ssn-strict', 'v_over\\.c2 comes from'));
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT id, name FROM v_over WHERE name = ? ORDER BY id', ['Bob']);
      expect(rows.map((r) => r.id)).toEqual([2]);
    } finally {
      await c.end();
    }
  });

  it('refuses ORDER BY and GROUP BY on a view column over a deny_in_predicates column', async () => {
    const c = await connect();
    try {
      await expect(c.query('SELECT id FROM v_ssn ORDER BY code')).rejects.toMatchObject(denied('ssn-strict', 'v_ssn\\.code comes from'));
      await expect(c.query('SELECT COUNT(*) FROM v_over GROUP BY c2')).rejects.toMatchObject(denied('ssn-strict'));
    } finally {
      await c.end();
    }
  });

  it('sends nothing upstream when refusing', async () => {
    const c = await connect();
    try {
      await expect(c.query(`UPDATE v_ssn SET name = 'Mallory' WHERE code LIKE '123%'`)).rejects.toMatchObject(denied('ssn-strict'));
      const rows = await adminMysqlQuery<{ name: string }[]>('SELECT name FROM customers WHERE id = 1', target.database);
      expect(rows.map((r) => r.name)).toEqual(['Alice']);
    } finally {
      await c.end();
    }
  });

  it('passes a view column not over masked data (a mask without deny_in_predicates too)', async () => {
    const c = await connect();
    try {
      const [rows] = await c.query<mysql.RowDataPacket[]>(`SELECT id, name FROM v_plain WHERE name LIKE 'A%' AND email LIKE '%@%' ORDER BY id`);
      expect(rows.map((r) => [r.id, r.name])).toEqual([[1, 'Alice']]);
      const [r2] = await c.query<mysql.RowDataPacket[]>('SELECT id FROM v_ssn WHERE name = ? ORDER BY id', ['Bob']);
      expect(r2.map((r) => r.id)).toEqual([2]);
    } finally {
      await c.end();
    }
  });

  it('refuses a direct table column (the policy)', async () => {
    const c = await connect();
    try {
      await expect(c.query(`SELECT id FROM customers WHERE ssn LIKE '123%'`)).rejects.toMatchObject(denied('ssn-strict', 'customers\\.ssn is masked'));
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT id FROM customers WHERE name = ?', ['Alice']);
      expect(rows.map((r) => r.id)).toEqual([1]);
    } finally {
      await c.end();
    }
  });

  it('refuses predicates on a temporary table of the session (not visible to the catalog)', async () => {
    const c = await connect();
    try {
      await c.query('CREATE TEMPORARY TABLE tmp_codes (id INT, code VARCHAR(20))');
      await expect(c.query(`SELECT id FROM tmp_codes WHERE code = 'x'`)).rejects.toMatchObject({
        errno: 1227,
        message: expect.stringContaining('temporary table'),
      });
    } finally {
      await c.end();
    }
  });
});
