/**
 * The MariaDB connector for Node (`mariadb`) and the `mariadb` command-line client through sqlwarden's
 * MySQL listener against the local MariaDB.
 */
import { Readable } from 'node:stream';
import * as mariadb from 'mariadb';
import { createMysqlTestTarget, startMysqlTestProxy, adminMysqlQuery, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';
import { runCli } from '../helpers/run-cli.js';

describe('mariadb connector and CLI through sqlwarden', () => {
  let target: MysqlTestTarget;
  let tp: MysqlTestProxy;

  beforeAll(async () => {
    target = await createMysqlTestTarget();
    tp = await startMysqlTestProxy({ target });
  });
  afterAll(async () => {
    await tp?.close();
    await target?.drop();
  });

  async function connect(extra: Partial<mariadb.ConnectionConfig> = {}): Promise<mariadb.Connection> {
    const m = await tp.mint('mariadb-agent');
    return mariadb.createConnection({ host: tp.host, port: tp.port, user: m.user, password: m.password, database: tp.database, ...extra });
  }

  it('queries, executes (pipelined prepare + execute) and batches', async () => {
    const c = await connect();
    try {
      expect(c.info?.isMariaDB()).toBe(true);
      await c.query('CREATE TABLE conn_t (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(8,2))');
      await c.query('INSERT INTO conn_t VALUES (?, ?, ?)', [1, 'one', '1.50']);
      // execute: COM_STMT_PREPARE and COM_STMT_EXECUTE (statement id -1, "the last prepared") sent together
      const rows = await c.execute('SELECT id, name, amount FROM conn_t WHERE id = ?', [1]);
      expect(rows).toEqual([{ id: 1, name: 'one', amount: '1.50' }]);
      const again = await c.execute('SELECT id, name FROM conn_t WHERE id > ?', [0]);
      expect(again).toEqual([{ id: 1, name: 'one' }]);
      await c.batch('INSERT INTO conn_t VALUES (?, ?, ?)', [
        [2, 'two', '2.00'],
        [3, 'three', '3.00'],
      ]);
      const n = await adminMysqlQuery<{ n: number }[]>('SELECT COUNT(*) AS n FROM conn_t', target.database);
      expect(Number(n[0]!.n)).toBe(3);
    } finally {
      await c.end();
    }
  });

  it('sends stream parameters with COM_STMT_SEND_LONG_DATA', async () => {
    const c = await connect();
    try {
      await c.query('CREATE TABLE conn_blob (id INT, body LONGBLOB)');
      const body = Buffer.alloc(300_000, 7);
      await c.execute('INSERT INTO conn_blob VALUES (?, ?)', [1, Readable.from([body.subarray(0, 100_000), body.subarray(100_000)])]);
      const rows = await adminMysqlQuery<{ n: number; same: number }[]>('SELECT LENGTH(body) AS n, body = REPEAT(CHAR(7), 300000) AS same FROM conn_blob', target.database);
      expect(rows.map((r) => [Number(r.n), Number(r.same)])).toEqual([[300_000, 1]]);
    } finally {
      await c.end();
    }
  });

  it('a denied prepare fails its pipelined execute too, and nothing runs', async () => {
    const c = await connect();
    try {
      await c.query('CREATE TABLE conn_keep (id INT)');
      await expect(c.execute('DROP TABLE conn_keep')).rejects.toMatchObject({ errno: 1227, sqlState: '42000', text: expect.stringContaining('no-drop-or-truncate') });
      const rows = await adminMysqlQuery<unknown[]>("SHOW TABLES LIKE 'conn_keep'", target.database);
      expect(rows).toHaveLength(1);
      expect(await c.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });

  it('runs multi-statements and transactions', async () => {
    const c = await connect({ multipleStatements: true });
    try {
      const res = (await c.query('SELECT 1 AS a; SELECT 2 AS b')) as unknown[];
      expect(res[0]).toEqual([{ a: 1 }]);
      expect(res[1]).toEqual([{ b: 2 }]);
      await c.query('CREATE TABLE conn_tx (id INT) ENGINE=InnoDB');
      await c.beginTransaction();
      await c.query('INSERT INTO conn_tx VALUES (1)');
      await c.rollback();
      expect(await c.query('SELECT COUNT(*) AS n FROM conn_tx')).toEqual([{ n: 0n }]);
    } finally {
      await c.end();
    }
  });

  it('pools with COM_RESET_CONNECTION between uses, keeping the identity', async () => {
    const m = await tp.mint('mariadb-pool-agent');
    const pool = mariadb.createPool({ host: tp.host, port: tp.port, user: m.user, password: m.password, database: tp.database, connectionLimit: 1, resetAfterUse: true });
    try {
      for (let i = 0; i < 3; i++) {
        const rows = (await pool.query('SELECT @sqlwarden_identity AS who')) as { who: string }[];
        expect(rows[0]!.who).toMatch(/^sqlwarden:mariadb-pool-agent:/);
      }
    } finally {
      await pool.end();
    }
  });

  it('the mariadb CLI runs statements in batch mode, and a denial exits non-zero naming the rule', async () => {
    const m = await tp.mint('cli-agent');
    const base = ['-h', tp.host, '-P', String(tp.port), '-u', m.user, `-p${m.password}`, '--batch', tp.database];
    const ok = await runCli('mariadb', [...base, '-e', "CREATE TABLE cli_t (id INT); INSERT INTO cli_t VALUES (1),(2); SELECT id, @sqlwarden_identity LIKE 'sqlwarden:cli-agent:%' AS tagged FROM cli_t ORDER BY id"]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n')).toEqual(['id\ttagged', '1\t1', '2\t1']);
    const denied = await runCli('mariadb', [...base, '-e', 'DROP TABLE cli_t']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/ERROR 1227 \(42000\).*no-drop-or-truncate/);
    const still = await adminMysqlQuery<unknown[]>('SELECT * FROM cli_t', target.database);
    expect(still).toHaveLength(2);
    const wrong = await runCli('mariadb', ['-h', tp.host, '-P', String(tp.port), '-u', m.user, '-pnope', '--batch', '-e', 'SELECT 1']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/ERROR 1045 \(28000\)/);
  });

  it('the mariadb CLI logs in with mysql_native_password and after an auth switch', async () => {
    const m = await tp.mint('cli-agent');
    for (const plugin of ['mysql_native_password', 'client_ed25519']) {
      const r = await runCli('mariadb', ['-h', tp.host, '-P', String(tp.port), '-u', m.user, `-p${m.password}`, `--default-auth=${plugin}`, '--batch', '-N', '-e', 'SELECT 40 + 2']);
      expect({ plugin, stderr: r.stderr, out: r.stdout.trim() }).toEqual({ plugin, stderr: '', out: '42' });
    }
  });
});
