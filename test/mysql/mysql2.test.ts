/**
 * mysql2 through sqlwarden's MySQL listener against the local MariaDB: text and binary protocol,
 * multi-statements, a large streamed result, transactions, errors, policy denials (checked against
 * the database directly), the identity variable, KILL, USE, and refused commands.
 */
import mysql from 'mysql2/promise';
import { createMysqlTestTarget, startMysqlTestProxy, adminMysqlQuery, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';
import { pollUntil } from '../helpers/poll.js';

describe('mysql2 through sqlwarden (MariaDB)', () => {
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

  async function connect(agent = 'mysql2-agent', extra: mysql.ConnectionOptions = {}): Promise<mysql.Connection> {
    return tp.connect(await tp.mint(agent), extra);
  }

  it('runs queries and reports the upstream version with a -sqlwarden suffix', async () => {
    const c = await connect();
    try {
      const [rows] = await c.query('SELECT 1 + 1 AS two, VERSION() AS v');
      expect(rows).toEqual([{ two: 2, v: expect.stringContaining('MariaDB') }]);
      const info = (c as unknown as { connection: { _handshakePacket: { serverVersion: string } } }).connection._handshakePacket;
      expect(info.serverVersion).toMatch(/MariaDB.*-sqlwarden$/);
    } finally {
      await c.end();
    }
  });

  it('executes prepared statements with binary rows of many types', async () => {
    const c = await connect('mysql2-agent', { supportBigNumbers: true, bigNumberStrings: true });
    try {
      await c.query(
        'CREATE TABLE types_t (id INT PRIMARY KEY, big BIGINT, dec_v DECIMAL(10,3), dbl DOUBLE, dt DATETIME(3), d DATE, s VARCHAR(50), b BLOB, n INT NULL, j JSON)',
      );
      await c.execute('INSERT INTO types_t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        1,
        '9007199254740993',
        '1234.567',
        2.5,
        '2024-02-29 12:34:56.789',
        '2024-02-29',
        'héllo',
        Buffer.from([0, 1, 2, 255]),
        null,
        '{"a": [1, 2]}',
      ]);
      const [rows] = await c.execute<mysql.RowDataPacket[]>('SELECT * FROM types_t WHERE id = ?', [1]);
      expect(rows).toHaveLength(1);
      const r = rows[0]!;
      expect(r.id).toBe(1);
      expect(String(r.big)).toBe('9007199254740993');
      expect(r.dec_v).toBe('1234.567');
      expect(r.dbl).toBe(2.5);
      expect(r.s).toBe('héllo');
      expect(Buffer.from(r.b as Buffer)).toEqual(Buffer.from([0, 1, 2, 255]));
      expect(r.n).toBeNull();
      expect((r.dt as Date).getMilliseconds()).toBe(789);
      // the same statement again: mysql2 reuses its prepared statement (COM_STMT_EXECUTE only)
      const [again] = await c.execute<mysql.RowDataPacket[]>('SELECT * FROM types_t WHERE id = ?', [2]);
      expect(again).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('runs multi-statements and returns every result', async () => {
    const c = await connect('mysql2-agent', { multipleStatements: true });
    try {
      const [results] = await c.query<mysql.RowDataPacket[][]>('SELECT 1 AS a; SELECT 2 AS b, 3 AS c; DO 1; SELECT 4 AS d');
      expect(results[0]).toEqual([{ a: 1 }]);
      expect(results[1]).toEqual([{ b: 2, c: 3 }]);
      expect(results[3]).toEqual([{ d: 4 }]);
    } finally {
      await c.end();
    }
  });

  it('judges a multi-statement string as a whole: one denied statement stops all of them', async () => {
    const c = await connect('mysql2-agent', { multipleStatements: true });
    try {
      await c.query('CREATE TABLE multi_t (id INT)');
      await expect(c.query('INSERT INTO multi_t VALUES (1); DROP TABLE multi_t')).rejects.toMatchObject({
        errno: 1227,
        sqlState: '42000',
        message: expect.stringContaining('no-drop-or-truncate'),
      });
      const rows = await adminMysqlQuery<{ n: number }[]>('SELECT COUNT(*) AS n FROM multi_t', target.database);
      expect(Number(rows[0]!.n)).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('streams a large result (200k rows) with every row intact', async () => {
    const c = await connect();
    try {
      const raw = (c as unknown as { connection: { query(sql: string): { stream(o: object): NodeJS.ReadableStream } } }).connection;
      const stream = raw.query("SELECT seq AS n, CONCAT('row-', seq) AS label FROM seq_1_to_200000").stream({ highWaterMark: 100 });
      let count = 0;
      let sum = 0;
      let bad = 0;
      for await (const row of stream as AsyncIterable<{ n: number; label: string }>) {
        count++;
        sum += Number(row.n);
        if (row.label !== `row-${row.n}`) bad++;
      }
      expect(count).toBe(200_000);
      expect(sum).toBe((200_000 * 200_001) / 2);
      expect(bad).toBe(0);
      const [after] = await c.query('SELECT 42 AS x');
      expect(after).toEqual([{ x: 42 }]);
    } finally {
      await c.end();
    }
  });

  it('keeps transactions: rollback undoes, commit keeps', async () => {
    const c = await connect();
    try {
      await c.query('CREATE TABLE tx_t (id INT PRIMARY KEY) ENGINE=InnoDB');
      await c.beginTransaction();
      await c.query('INSERT INTO tx_t VALUES (1)');
      await c.rollback();
      await c.beginTransaction();
      await c.query('INSERT INTO tx_t VALUES (2)');
      // a denial inside a transaction is a statement error: the transaction goes on
      await expect(c.query('TRUNCATE tx_t')).rejects.toMatchObject({ errno: 1227 });
      await c.commit();
      const rows = await adminMysqlQuery<{ id: number }[]>('SELECT id FROM tx_t ORDER BY id', target.database);
      expect(rows.map((r) => r.id)).toEqual([2]);
    } finally {
      await c.end();
    }
  });

  it('keeps the connection usable after database errors', async () => {
    const c = await connect();
    try {
      await expect(c.query('SELEC oops')).rejects.toMatchObject({ errno: expect.any(Number) });
      await expect(c.query('SELECT * FROM no_such_table_here')).rejects.toMatchObject({ errno: 1146 });
      await expect(c.execute('SELECT * FROM no_such_table_here WHERE id = ?', [1])).rejects.toMatchObject({ errno: 1146 });
      const [rows] = await c.query('SELECT 7 AS ok');
      expect(rows).toEqual([{ ok: 7 }]);
    } finally {
      await c.end();
    }
  });

  it('denies DROP TABLE naming the rule; nothing reaches the database; the connection stays usable', async () => {
    const c = await connect();
    try {
      await c.query('CREATE TABLE keep_me (id INT)');
      await expect(c.query('DROP TABLE keep_me')).rejects.toMatchObject({
        errno: 1227,
        code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
        sqlState: '42000',
        message: expect.stringMatching(/sqlwarden: statement denied by rule "no-drop-or-truncate": agents may not drop/),
      });
      // a versioned comment is code: denied too
      await expect(c.query('/*!40000 DROP TABLE keep_me */')).rejects.toMatchObject({ errno: 1227 });
      // and through a prepared statement
      await expect(c.execute('DROP TABLE keep_me')).rejects.toMatchObject({ errno: 1227 });
      const rows = await adminMysqlQuery<unknown[]>(`SHOW TABLES LIKE 'keep_me'`, target.database);
      expect(rows).toHaveLength(1);
      const [ok] = await c.query('SELECT COUNT(*) AS n FROM keep_me');
      expect(ok).toEqual([{ n: 0 }]);
    } finally {
      await c.end();
    }
  });

  it('counts statements and denials in metrics with protocol mysql', async () => {
    const text = await tp.metrics.registry.metrics();
    expect(text).toMatch(/sqlwarden_statements_total\{protocol="mysql",agent="mysql2-agent",decision="allow"\} \d+/);
    expect(text).toMatch(/sqlwarden_blocked_statements_total\{protocol="mysql",rule="no-drop-or-truncate",agent="mysql2-agent"\} \d+/);
  });

  it('sets the identity variable upstream and refuses to let the agent change it', async () => {
    const c = await connect('identity-agent');
    try {
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT @sqlwarden_identity AS who');
      expect(rows[0]!.who).toMatch(/^sqlwarden:identity-agent:[0-9a-f]{16}$/);
      for (const sql of [
        "SET @sqlwarden_identity = 'someone-else'",
        "SET @a = 1, @`SQLWARDEN_IDENTITY` := 'x'",
        "SELECT @sqlwarden_identity := 'x'",
        "SELECT 'x' INTO @sqlwarden_identity",
        "PREPARE s FROM 'SELECT 1 INTO @sqlwarden_identity'",
      ]) {
        await expect(c.query(sql)).rejects.toMatchObject({ errno: 1227, message: expect.stringContaining('sqlwarden-identity') });
      }
      const [after] = await c.query<mysql.RowDataPacket[]>('SELECT @sqlwarden_identity AS who');
      expect(after[0]!.who).toBe(rows[0]!.who);
      // COM_RESET_CONNECTION clears user variables upstream: sqlwarden sets the identity again
      await c.query("SET @mine = 'x'");
      await c.reset();
      const [reset] = await c.query<mysql.RowDataPacket[]>('SELECT @sqlwarden_identity AS who, @mine AS mine');
      expect(reset[0]).toEqual({ who: rows[0]!.who, mine: null });
    } finally {
      await c.end();
    }
  });

  it('allows USE of the credential database only; COM_CHANGE_USER to another database is 1045', async () => {
    const c = await connect();
    try {
      await c.query(`USE \`${target.database}\``);
      await expect(c.query('USE mysql')).rejects.toMatchObject({ errno: 1227, message: expect.stringContaining('sqlwarden-database') });
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT DATABASE() AS db');
      expect(rows[0]!.db).toBe(target.database);
      // re-authenticated like a login: a database other than the credential's is refused
      await expect(c.changeUser({ database: 'mysql' })).rejects.toMatchObject({ errno: 1045 });
    } finally {
      c.destroy();
    }
  });

  it('refuses a database other than the target at login', async () => {
    const m = await tp.mint();
    await expect(tp.connect(m, { database: 'mysql' })).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
    const c = await tp.connect(m, { database: undefined });
    const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT DATABASE() AS db');
    expect(rows[0]!.db).toBe(target.database);
    await c.end();
  });

  it('KILL QUERY of its own other session interrupts the statement; another agent gets Unknown thread id', async () => {
    const agent = 'killer-agent';
    const a = await connect(agent);
    const b = await connect(agent);
    const stranger = await connect('other-agent');
    try {
      const running = a.query('SELECT SLEEP(120) AS s').then(
        ([rows]) => ({ rows }),
        (err: { errno?: number }) => ({ errno: err.errno }),
      );
      // wait until the statement runs upstream
      await pollUntil('the sleep to start', async () => {
        const rows = await adminMysqlQuery<{ n: number }[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(120)%'");
        return Number(rows[0]!.n) > 0;
      });
      // another agent cannot see a.threadId as a session of its own
      await expect(stranger.query(`KILL QUERY ${a.threadId}`)).rejects.toMatchObject({ errno: 1094, message: `Unknown thread id: ${a.threadId}` });
      await expect(stranger.query('KILL QUERY 1')).rejects.toMatchObject({ errno: 1094 });
      await b.query(`KILL QUERY ${a.threadId}`);
      const outcome = await running;
      // MariaDB answers an interrupted SLEEP with 1 (or ER_QUERY_INTERRUPTED)
      if ('errno' in outcome) expect(outcome.errno).toBe(1317);
      else expect(outcome.rows).toEqual([{ s: 1 }]);
      const [still] = await a.query('SELECT 5 AS five');
      expect(still).toEqual([{ five: 5 }]);
      // a raw KILL never reaches the database: KILL of an upstream thread id is unknown here
      const up = await adminMysqlQuery<{ id: number }[]>('SELECT CONNECTION_ID() AS id');
      await expect(b.query(`KILL ${up[0]!.id}`)).rejects.toMatchObject({ errno: 1094 });
      await expect(b.query('KILL CONNECTION_ID()')).rejects.toMatchObject({ errno: 1235 });
      // nor inside PREPARE text, whatever the policy
      await expect(b.query(`PREPARE k FROM 'KILL ${up[0]!.id}'`)).rejects.toMatchObject({ errno: 1227, message: expect.stringContaining('sqlwarden-kill') });
    } finally {
      await a.end().catch(() => {});
      await b.end().catch(() => {});
      await stranger.end().catch(() => {});
    }
  }, 60_000);

  it('KILL CONNECTION of its own other session ends it', async () => {
    const agent = 'killer-agent-2';
    const a = await connect(agent);
    const b = await connect(agent);
    try {
      const closed = new Promise<void>((resolve) => a.once('end', () => resolve()));
      a.on('error', () => {});
      await b.query(`KILL ${a.threadId}`);
      await expect(a.query('SELECT 1')).rejects.toBeDefined();
      await closed.catch(() => {});
      const [rows] = await b.query('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      a.destroy();
      await b.end();
    }
  });

  it('refuses LOAD DATA LOCAL INFILE with a clear error', async () => {
    const c = await connect();
    try {
      await c.query('CREATE TABLE load_t (v TEXT)');
      await expect(c.query("LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE load_t")).rejects.toMatchObject({ errno: expect.any(Number) });
      const rows = await adminMysqlQuery<unknown[]>('SELECT * FROM load_t', target.database);
      expect(rows).toHaveLength(0);
      const [ok] = await c.query('SELECT 1 AS one');
      expect(ok).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });

  it('pings, and answers COM_STATISTICS', async () => {
    const c = await connect();
    try {
      await c.ping();
      const [rows] = await c.query('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });
});
