/**
 * MySQL result masking end to end: mysql2 (text rows with `query`, binary rows with `execute`), the
 * mariadb connector and CLI through sqlwarden against the local MariaDB, with a policy that masks
 * columns of several types and runs detectors; leak attempts through aliases, expressions, UNION,
 * derived tables, CTEs, views, JSON and aggregates, errors, SHOW WARNINGS, CALL, multi-statements;
 * unmasked sessions see the database's own values.
 */
import mysql from 'mysql2/promise';
import * as mariadb from 'mariadb';
import { maskValue, TypeHint } from '@sqlwarden/policy';
import { createMysqlTestTarget, startMysqlTestProxy, adminMysqlQuery, adminMysql, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';
import { runCli } from '../helpers/run-cli.js';
import { RawMysqlClient, RAW_CLIENT_FLAGS } from '../helpers/raw-mysql.js';
import { Collation, ColumnType, CursorType, decodeComStmtPrepareOk, encodeComStmtExecute, encodeComStmtFetch, encodeComStmtPrepare, scanBinaryRow, type Packet } from '@sqlwarden/wire-mysql';

const HASH_KEY = 'sqlwarden-mysql-masking-e2e-key-0123456789';
const SECRET_EMAIL = 'alice.secret@example.com';
const SECRET_SSN = '123-45-6789';
const SECRET_NOTE = 'contact bob.hidden@corp.example now';

const POLICY = `version: 1
defaults:
  action: allow
  on_parse_error: deny
masks:
  - id: emails
    columns: ["*.customers.email", "*.big.email"]
    function: email
  - id: ssn
    columns: ["*.customers.ssn"]
    function: partial
    keep_last: 4
  - id: salary
    columns: ["*.customers.salary"]
    function: hash
  - id: birth
    columns: ["*.customers.birth", "*.customers.seen", "*.customers.age"]
    function: redact
  - id: profile
    columns: ["*.customers.profile"]
    function: "null"
  - id: pii-text
    detectors: [email]
    function: redact
    labels: { detect: "yes" }
`;

const SETUP = `
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(80) UNIQUE, ssn VARCHAR(20), salary DECIMAL(10,2),
  birth DATE, seen DATETIME, age INT, profile JSON, note TEXT);
INSERT INTO customers VALUES
  (1, 'Alice', '${SECRET_EMAIL}', '${SECRET_SSN}', 123456.78, '1985-04-12', '2024-01-02 03:04:05', 39, '{"phone": "555-0100"}', '${SECRET_NOTE}'),
  (2, 'Bob', 'bob@example.org', '987-65-4321', 5000.00, '1990-01-01', '2023-05-06 07:08:09', 34, '{"k": 1}', 'plain');
CREATE TABLE plain (id INT PRIMARY KEY, label VARCHAR(40));
INSERT INTO plain VALUES (1, 'one'), (2, 'two');
CREATE VIEW customer_view AS SELECT id, email AS contact FROM customers;
CREATE PROCEDURE leak() SELECT email FROM customers;
CREATE TABLE big (id INT PRIMARY KEY, email VARCHAR(80));
`;

function flat(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)).toLowerCase();
}

function expectNoSecret(v: unknown): void {
  const s = flat(v);
  expect(s).not.toContain(SECRET_EMAIL);
  expect(s).not.toContain('alice.secret');
  expect(s).not.toContain(SECRET_SSN);
  expect(s).not.toContain('123456.78');
}

describe('MySQL result masking (MariaDB)', () => {
  let target: MysqlTestTarget;
  let tp: MysqlTestProxy;

  beforeAll(async () => {
    target = await createMysqlTestTarget('swmask');
    await adminMysqlQuery(SETUP, target.database);
    const big = await adminMysql(target.database);
    try {
      await big.query("INSERT INTO big SELECT seq, CONCAT('user', seq, '@example.com') FROM seq_1_to_100000");
    } finally {
      await big.end();
    }
    tp = await startMysqlTestProxy({ target, masks: { yaml: POLICY, hashKey: HASH_KEY } });
  });
  afterAll(async () => {
    await tp?.close();
    await target?.drop();
  });

  async function connect(extra: mysql.ConnectionOptions = {}, labels?: Record<string, string>): Promise<mysql.Connection> {
    return tp.connect(await tp.mint(undefined, { labels }), { multipleStatements: true, ...extra });
  }

  const expectedEmail = maskValue('email', SECRET_EMAIL, TypeHint.Text, { hashKey: HASH_KEY });
  const expectedSsn = maskValue('partial', SECRET_SSN, TypeHint.Text, { hashKey: HASH_KEY, keepLast: 4 });

  it('masks text rows (query) type-preserving', async () => {
    const c = await connect();
    try {
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT id, name, email, ssn, salary, birth, seen, age, profile FROM customers ORDER BY id');
      const r = rows[0]!;
      expect(r.id).toBe(1);
      expect(r.name).toBe('Alice');
      expect(r.email).toBe(expectedEmail);
      expect(r.email).toMatch(/@example\.com$/);
      expect(r.ssn).toBe(expectedSsn);
      expect(r.ssn).toMatch(/6789$/);
      expect(typeof r.salary).toBe('string');
      expect(r.salary).not.toBe('123456.78');
      expect(r.salary).toMatch(/^-?\d+(\.\d+)?$/);
      expect(r.birth).toBeInstanceOf(Date);
      expect(r.seen).toBeInstanceOf(Date);
      expect(typeof r.age).toBe('number');
      expect(r.age).not.toBe(39);
      expect(r.profile).toBeNull();
      expectNoSecret(rows);
    } finally {
      await c.end();
    }
  });

  it('masks binary rows (execute) type-preserving', async () => {
    const c = await connect();
    try {
      const [rows] = await c.execute<mysql.RowDataPacket[]>('SELECT id, email, ssn, salary, birth, seen, age, profile FROM customers WHERE id = ?', [1]);
      const r = rows[0]!;
      expect(r.id).toBe(1);
      expect(r.email).toBe(expectedEmail);
      expect(r.ssn).toBe(expectedSsn);
      expect(r.salary).not.toBe('123456.78');
      expect(r.birth).toBeInstanceOf(Date);
      expect(r.seen).toBeInstanceOf(Date);
      expect(typeof r.age).toBe('number');
      expect(r.age).not.toBe(39);
      expect(r.profile).toBeNull();
      expectNoSecret(rows);
      // hash is deterministic: the same value masks alike in text and binary
      const [text] = await c.query<mysql.RowDataPacket[]>('SELECT salary FROM customers WHERE id = 1');
      expect(String(text[0]!.salary)).toBe(String(r.salary));
    } finally {
      await c.end();
    }
  });

  it('masks through aliases, expressions, UNION, derived tables, CTEs, views, JSON and aggregates', async () => {
    const c = await connect();
    try {
      const attempts = [
        'SELECT email AS x FROM customers',
        'SELECT c.email FROM customers AS c',
        'SELECT CONCAT(email, \'\') AS e FROM customers',
        'SELECT LOWER(email) FROM customers',
        'SELECT SUBSTRING(email, 1, 12) FROM customers',
        'SELECT REVERSE(email) FROM customers',
        'SELECT label FROM plain UNION SELECT email FROM customers',
        'SELECT t.name FROM (SELECT email AS name FROM customers) t',
        'SELECT t.email FROM (SELECT email FROM customers) AS t',
        'WITH x AS (SELECT email AS name FROM customers) SELECT name FROM x',
        'WITH plain AS (SELECT email AS label FROM customers) SELECT label FROM plain',
        'SELECT contact FROM customer_view',
        'SELECT v.contact FROM customer_view AS v',
        'SELECT * FROM customer_view',
        'SELECT JSON_OBJECT(\'e\', email) FROM customers',
        'SELECT JSON_ARRAYAGG(email) FROM customers',
        'SELECT GROUP_CONCAT(email) FROM customers',
        'SELECT GROUP_CONCAT(ssn) FROM customers',
        'SELECT (SELECT email FROM customers WHERE id = 1) AS s',
        'SELECT CASE WHEN id = 1 THEN email END FROM customers',
        'SELECT HEX(email) FROM customers',
        'SELECT salary + 0 FROM customers',
        'SELECT email FROM customers WHERE id = 1; SELECT ssn FROM customers',
        'SELECT * FROM customers',
      ];
      for (const sql of attempts) {
        const [rows] = await c.query(sql);
        try {
          expectNoSecret(rows);
          expect(flat(rows)).not.toContain('616c6963652e736563726574'); // hex of "alice.secret"
          expect(flat(rows)).not.toContain('moc.elpmaxe@terces.ecila');
        } catch (err) {
          throw new Error(`leak through: ${sql}: ${flat(rows)}`, { cause: err });
        }
      }
    } finally {
      await c.end();
    }
  });

  it('leaves columns no mask names as they are, and an unmasked query equal to the direct one', async () => {
    const c = await connect();
    const d = await adminMysql(target.database);
    try {
      const sql = 'SELECT id, name, note, label FROM customers JOIN plain USING (id) ORDER BY id';
      const [viaProxy] = await c.query(sql);
      const [direct] = await d.query(sql);
      expect(viaProxy).toEqual(direct);
      const [bin] = await c.execute('SELECT id, name FROM customers WHERE id > ? ORDER BY id', [0]);
      expect(bin).toEqual([
        { id: 1, name: 'Alice' },
        { id: 2, name: 'Bob' },
      ]);
    } finally {
      await c.end();
      await d.end();
    }
  });

  it('masks what a CALL returns (its origin is unknown)', async () => {
    const c = await connect();
    try {
      const [res] = await c.query('CALL leak()');
      expectNoSecret(res);
      expect(flat(res)).not.toContain('bob@example.org');
    } finally {
      await c.end();
    }
  });

  it('cleans values echoed in errors and in SHOW WARNINGS', async () => {
    const c = await connect();
    try {
      const dup = await c.query(`INSERT INTO customers (id, email) VALUES (9, '${SECRET_EMAIL}')`).then(
        () => null,
        (e: Error) => e,
      );
      expect(dup).not.toBeNull();
      expect(dup!.message).toMatch(/Duplicate entry/);
      expect(dup!.message.toLowerCase()).not.toContain('alice.secret');
      const cast = await c.query("SET STATEMENT sql_mode='STRICT_ALL_TABLES' FOR UPDATE plain SET id = id + CAST((SELECT email FROM customers WHERE id = 1) AS DOUBLE) WHERE id = 0").then(
        () => null,
        (e: Error) => e,
      );
      if (cast) expect(cast.message.toLowerCase()).not.toContain('alice.secret');
      // a warning echoing the value
      await c.query('SELECT CAST(email AS SIGNED) FROM customers');
      const [warnings] = await c.query('SHOW WARNINGS');
      expect((warnings as unknown[]).length).toBeGreaterThan(0);
      expect(flat(warnings)).not.toContain('alice.secret');
      // errors of statements over unmasked tables keep their text
      const plainDup = await c.query("INSERT INTO plain VALUES (1, 'x')").then(
        () => null,
        (e: Error) => e,
      );
      expect(plainDup!.message).toContain("Duplicate entry '1'");
    } finally {
      await c.end();
    }
  });

  it('runs detectors on text columns of any name for principals they apply to', async () => {
    const c = await connect({}, { detect: 'yes' });
    try {
      const [rows] = await c.query<mysql.RowDataPacket[]>("SELECT note AS whatever, 'write to carol@example.net' AS lit FROM customers WHERE id = 1");
      expect(rows[0]!.whatever).not.toContain('bob.hidden@corp.example');
      expect(rows[0]!.whatever).toContain('[redacted]');
      // an expression has no origin: masked whole while column rules apply
      expect(rows[0]!.lit).not.toContain('carol@example.net');
      expect(rows[0]!.whatever).toBe('contact [redacted] now');
      const [bin] = await c.execute<mysql.RowDataPacket[]>('SELECT note FROM customers WHERE id = ?', [1]);
      expect(bin[0]!.note).toBe('contact [redacted] now');
    } finally {
      await c.end();
    }
  });

  it('masks for the mariadb connector (text and binary)', async () => {
    const m = await tp.mint();
    const c = await mariadb.createConnection({ host: tp.host, port: tp.port, user: m.user, password: m.password, database: tp.database });
    try {
      const q = await c.query('SELECT email, ssn, birth, age FROM customers WHERE id = 1');
      expect(q[0].email).toBe(expectedEmail);
      expect(q[0].ssn).toBe(expectedSsn);
      expect(q[0].birth).toBeInstanceOf(Date);
      const e = await c.execute('SELECT email, age FROM customers WHERE id = ?', [1]);
      expect(e[0].email).toBe(expectedEmail);
      expect(typeof e[0].age).toBe('number');
      expectNoSecret([q, e]);
    } finally {
      await c.end();
    }
  });

  it('masks for the mariadb CLI', async () => {
    const m = await tp.mint();
    const r = await runCli('mariadb', ['-h', tp.host, '-P', String(tp.port), '-u', m.user, `-p${m.password}`, '--batch', tp.database, '-e', 'SELECT email, ssn FROM customers WHERE id = 1']);
    expect(r.stdout).toContain(expectedEmail);
    expect(r.stdout).not.toContain('alice.secret');
  });

  it('streams a large masked result to the end', async () => {
    const c = await connect();
    try {
      let n = 0;
      let leaked = 0;
      await new Promise<void>((resolve, reject) => {
        const s = (c as unknown as { connection: { query(sql: string): { stream(): NodeJS.ReadableStream } } }).connection.query('SELECT id, email FROM big').stream();
        s.on('data', (row: { email: string }) => {
          n++;
          if (!/^[^@]*@example\.com$/.test(row.email) || /^user\d+@/.test(row.email)) leaked++;
        });
        s.on('end', () => resolve());
        s.on('error', reject);
      });
      expect(n).toBe(100000);
      expect(leaked).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('masks binary rows of a cursor, which arrive on COM_STMT_FETCH', async () => {
    const m = await tp.mint();
    const c = await RawMysqlClient.connect(tp.host, tp.port);
    try {
      const login = await c.login(m.user, m.password, tp.database);
      expect(login.at(-1)!.payload[0]).toBe(0x00);
      const readUntilEof = async (): Promise<Packet[]> => {
        const out: Packet[] = [];
        for (;;) {
          const p = (await c.read())!;
          out.push(p);
          if (p.payload[0] === 0xff) throw new Error(p.payload.subarray(9).toString());
          if (p.payload[0] === 0xfe && p.payload.length < 0xffffff) return out;
        }
      };
      c.write(encodeComStmtPrepare('SELECT id, email FROM customers ORDER BY id'), 0);
      const ok = decodeComStmtPrepareOk((await c.read())!.payload, RAW_CLIENT_FLAGS);
      // two column definitions (CLIENT_DEPRECATE_EOF: no EOF after them)
      await c.read();
      await c.read();
      c.write(encodeComStmtExecute({ statementId: ok.statementId, flags: CursorType.ReadOnly, parameters: [] }, RAW_CLIENT_FLAGS), 0);
      // column count, two definitions, then the OK/EOF that says a cursor exists
      const meta = await readUntilEof();
      expect(meta.length).toBe(4);
      c.write(encodeComStmtFetch({ statementId: ok.statementId, numRows: 10 }), 0);
      const fetched = await readUntilEof();
      const rows = fetched.slice(0, -1);
      expect(rows).toHaveLength(2);
      const cols = [{ type: ColumnType.Long }, { type: ColumnType.VarString, characterSet: Collation.Utf8mb4GeneralCi }];
      const emails = rows.map((r) => {
        const f = scanBinaryRow(r.payload, cols);
        const v = f.fieldOf(r.payload, 1);
        // a lenenc string (short): skip its one-byte length
        return v.subarray(1).toString('utf8');
      });
      expect(emails[0]).toBe(expectedEmail);
      expect(emails.join(' ')).not.toContain('alice.secret');
      expect(emails[1]).not.toBe('bob@example.org');
    } finally {
      c.end();
    }
  });

  it('refuses MariaDB column statistics while masks apply', async () => {
    const c = await connect();
    try {
      const e = await c.query('SELECT * FROM mysql.column_stats').then(
        () => null,
        (err: Error) => err,
      );
      expect(e?.message).toMatch(/sqlwarden: statement denied/);
    } finally {
      await c.end();
    }
  });
});
