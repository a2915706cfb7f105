import type { Analysis, StatementFacts, TableRef } from '../facts.js';
import { analyzeMysql, initMysqlAnalyzer } from './analyze.js';

beforeAll(async () => {
  await initMysqlAnalyzer();
});

function facts(sql: string): StatementFacts[] {
  const r = analyzeMysql(sql);
  if (!r.ok) throw new Error(`${sql}: ${JSON.stringify(r.failure)}`);
  return r.statements;
}
function one(sql: string): StatementFacts {
  const f = facts(sql);
  expect(f).toHaveLength(1);
  return f[0]!;
}
const names = (ts: TableRef[]): string[] => ts.map((t) => (t.schema !== undefined ? `${t.schema}.${t.name}` : t.name));
function failure(sql: string): Extract<Analysis, { ok: false }>['failure'] {
  const r = analyzeMysql(sql);
  if (r.ok) throw new Error(`${sql} was analysed: ${JSON.stringify(r.statements)}`);
  return r.failure;
}

describe('statement kinds', () => {
  test.each([
    ['SELECT 1', 'select'],
    ['INSERT INTO t VALUES (1)', 'insert'],
    ['REPLACE INTO t VALUES (1)', 'insert'],
    ['UPDATE t SET a = 1 WHERE id = 2', 'update'],
    ['DELETE FROM t WHERE id = 2', 'delete'],
    ['TRUNCATE TABLE t', 'truncate'],
    ['TRUNCATE t', 'truncate'],
    ['DROP TABLE t', 'drop_table'],
    ['DROP DATABASE d', 'drop_database'],
    ['DROP SCHEMA d', 'drop_database'],
    ['DROP INDEX i ON t', 'drop_index'],
    ['DROP VIEW v', 'drop_view'],
    ['DROP PROCEDURE p', 'drop_function'],
    ['DROP USER u', 'drop_role'],
    ['ALTER TABLE t ADD COLUMN c INT', 'alter_table'],
    ['RENAME TABLE a TO b', 'alter_table'],
    ['CREATE TABLE t (id INT)', 'create_table'],
    ['CREATE TABLE t AS SELECT * FROM u', 'create_table_as'],
    ['CREATE INDEX i ON t (a)', 'create_index'],
    ['CREATE VIEW v AS SELECT 1', 'create_view'],
    ['CREATE DATABASE d', 'create_database'],
    ["CREATE USER 'u'@'%'", 'create_role'],
    ["GRANT ALL ON *.* TO 'u'@'%'", 'grant'],
    ["REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'u'@'%'", 'revoke'],
    ['SET NAMES utf8mb4', 'set'],
    ['SET CHARACTER SET utf8mb4', 'set'],
    ['SET @@global.max_connections = 1', 'set'],
    ["SET SESSION sql_mode = 'ANSI'", 'set'],
    ['SHOW TABLES', 'show'],
    ['DESCRIBE t', 'show'],
    ['USE d', 'use'],
    ["LOAD DATA INFILE '/tmp/x' INTO TABLE t", 'load_data'],
    ['HANDLER t OPEN', 'handler'],
    ['CALL p()', 'call'],
    ["PREPARE s FROM 'SELECT 1'", 'prepare'],
    ['EXECUTE s', 'execute'],
    ['DEALLOCATE PREPARE s', 'deallocate'],
    ['DROP PREPARE s', 'deallocate'],
    ['BEGIN', 'transaction'],
    ['START TRANSACTION', 'transaction'],
    ['COMMIT', 'transaction'],
    ['ROLLBACK', 'transaction'],
    ['SAVEPOINT s', 'transaction'],
    ['LOCK TABLES t WRITE', 'lock'],
    ['UNLOCK TABLES', 'lock'],
    ['EXPLAIN SELECT 1', 'explain'],
    ['DO SLEEP(1)', 'do'],
    ['KILL 1', 'other'],
    ['TABLE t', 'select'],
    ['VALUES ROW(1, 2), ROW(3, 4)', 'select'],
    ['ALTER INSTANCE ROTATE INNODB MASTER KEY', 'alter_system'],
  ])('%s → %s', (sql, kind) => {
    expect(one(sql).kind).toBe(kind);
  });
});

describe('tables', () => {
  test.each<[string, string[], string[]]>([
    ['SELECT * FROM `db`.`my table` JOIN Users u ON u.id = 1', ['db.my table', 'Users'], []],
    ['SELECT * FROM a WHERE id IN (SELECT x FROM b.c)', ['a', 'b.c'], []],
    ['WITH x AS (SELECT * FROM real_t) SELECT * FROM x', ['real_t'], []],
    ['INSERT INTO db.t (a) SELECT a FROM u', ['u'], ['db.t']],
    ['UPDATE t SET a = (SELECT MAX(b) FROM u) WHERE id = 1', ['u'], ['t']],
    ['DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id WHERE t2.x = 1', ['t2'], ['t1']],
    ['DELETE a FROM db.t1 AS a JOIN t2 ON a.id = t2.id WHERE t2.x = 1', ['t2'], ['db.t1']],
    ['DROP TABLE IF EXISTS a, `b`.`c`', [], ['a', 'b.c']],
    ['DROP DATABASE shop', [], ['shop.*']],
    ['TRUNCATE TABLE shop.orders', [], ['shop.orders']],
    ['ALTER TABLE a RENAME TO b', [], ['a', 'b']],
    ['LOCK TABLES a READ, b WRITE', ['a'], ['b']],
    ["LOAD DATA LOCAL INFILE 'f' INTO TABLE x.y", [], ['x.y']],
    ['CREATE TABLE n AS SELECT * FROM o', ['o'], ['n']],
    ['EXPLAIN DELETE FROM t', ['t'], []],
  ])('%s', (sql, read, written) => {
    const f = one(sql);
    expect(names(f.tablesRead)).toEqual(read);
    expect(names(f.tablesWritten)).toEqual(written);
  });
});

describe('functions', () => {
  test('lower-cased, including dangerous ones', () => {
    expect(one("SELECT SLEEP(1), BENCHMARK(10, MD5('x')), LOAD_FILE('/etc/passwd'), COUNT(*), db.MyFn(1)").functions).toEqual(
      expect.arrayContaining(['sleep', 'benchmark', 'md5', 'load_file', 'count', 'db.myfn']),
    );
    expect(one('SELECT * FROM t WHERE a = (SELECT SLEEP(5))').functions).toContain('sleep');
    expect(one('CALL shop.cleanup()').functions).toEqual(['shop.cleanup']);
  });
});

describe('files', () => {
  test('SELECT INTO OUTFILE / DUMPFILE writes a server file', () => {
    expect(one("SELECT * FROM t INTO OUTFILE '/tmp/x'")).toMatchObject({ kind: 'select', writesFile: true, copy: { direction: 'to', file: true } });
    expect(one("SELECT a INTO DUMPFILE '/tmp/x' FROM t").writesFile).toBe(true);
    expect(one('SELECT a INTO @v FROM t').writesFile).toBeUndefined();
  });
  test('LOAD DATA INFILE reads a server file; LOCAL reads the client', () => {
    expect(one("LOAD DATA INFILE '/etc/passwd' INTO TABLE t")).toMatchObject({ readsFile: true, copy: { direction: 'from', file: true, stdio: false } });
    expect(one("LOAD DATA LOCAL INFILE 'x' INTO TABLE t")).toMatchObject({ readsFile: false, copy: { file: false, stdio: true } });
  });
});

describe('where, limit, unbounded writes', () => {
  test.each([
    ['DELETE FROM t', true],
    ['UPDATE t SET a = 1', true],
    ['DELETE FROM t WHERE 1=1', true],
    ['DELETE FROM t WHERE true', true],
    ["DELETE FROM t WHERE 'a'='a'", true],
    ['DELETE FROM t WHERE id = id', true],
    ['DELETE FROM t WHERE t.id = t.id', true],
    ['DELETE FROM t WHERE NOT 0', true],
    ['DELETE FROM t WHERE NOT FALSE', true],
    ['DELETE FROM t WHERE id = 5 OR 1', true],
    ['DELETE FROM t WHERE id = 5 OR TRUE', true],
    ['DELETE FROM t WHERE 1 IN (1)', true],
    ['DELETE FROM t WHERE 1', true],
    ["DELETE FROM t WHERE '1'", true],
    ['DELETE FROM t WHERE 2 > 1', true],
    ['DELETE FROM t WHERE 1 + 1 = 2', true],
    ['DELETE FROM t WHERE (1 = 1)', true],
    ['DELETE FROM t WHERE id IS NOT NULL OR 1 = 1', true],
    ["DELETE FROM t WHERE name LIKE '%'", true],
    ['DELETE FROM t WHERE id <=> id', true],
    ['DELETE FROM t WHERE 1 BETWEEN 0 AND 2', true],
    ['DELETE FROM t WHERE NOW() > 0', true], // no column: all rows or none
    ['DELETE FROM t WHERE ?', true],
    ['DELETE FROM t WHERE @x = 1', true],
    ['DELETE FROM t LIMIT 10', true],
    ['DELETE FROM t WHERE id = 1', false],
    ['DELETE FROM t WHERE id = 1 AND 1 = 1', false],
    ['UPDATE t SET a = 1 WHERE id IN (1, 2)', false],
    ['DELETE FROM t WHERE a = b', false],
    ["DELETE FROM t WHERE 'a' = 'b' OR id = 2", false],
    ['DELETE FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.uid)', false],
  ])('%s → unbounded %s', (sql, unbounded) => {
    expect(one(sql).unboundedWrite).toBe(unbounded);
  });
  test('a cut literal list with a constant on the left is assumed always true', () => {
    expect(one(`DELETE FROM t WHERE 5 IN (${Array.from({ length: 50 }, (_, i) => i + 100).join(',')}, 5)`).unboundedWrite).toBe(true);
    expect(one(`DELETE FROM t WHERE id IN (${Array.from({ length: 50 }, (_, i) => i).join(',')})`).unboundedWrite).toBe(false);
  });
  test('hasWhere / hasLimit belong to the statement, not its subqueries', () => {
    expect(one('SELECT * FROM t WHERE a = 1 LIMIT 1')).toMatchObject({ hasWhere: true, hasLimit: true, unboundedWrite: false });
    expect(one('SELECT * FROM (SELECT * FROM t WHERE a = 1 LIMIT 1) x')).toMatchObject({ hasWhere: false, hasLimit: false });
    expect(one('DELETE FROM t WHERE id = 1 LIMIT 5')).toMatchObject({ hasWhere: true, hasLimit: true });
  });
});

describe('settings', () => {
  test('SET forms', () => {
    expect(one('SET NAMES utf8mb4').settings).toEqual([{ name: 'names', value: 'utf8mb4', constant: 'utf8mb4', scope: 'session' }]);
    // SET CHARACTER SET x sets character_set_client and character_set_results to x, and
    // character_set_connection to @@character_set_database
    const charset = [
      { name: 'character_set_client', value: 'latin1', constant: 'latin1', scope: 'session' },
      { name: 'character_set_results', value: 'latin1', constant: 'latin1', scope: 'session' },
      { name: 'character_set_connection', value: '@@character_set_database', scope: 'session' },
    ];
    expect(one('SET CHARACTER SET latin1').settings).toEqual(charset);
    expect(one('SET CHARSET latin1').settings).toEqual(charset);
    expect(one('SET @@global.max_connections = 10').settings).toEqual([{ name: 'max_connections', value: '10', constant: '10', scope: 'session', global: true }]);
    expect(one("SET SESSION sql_mode = 'ANSI_QUOTES'").settings).toEqual([{ name: 'sql_mode', value: "'ANSI_QUOTES'", constant: 'ANSI_QUOTES', scope: 'session' }]);
    expect(one('SET GLOBAL a = 1, b = 2').settings.map((s) => s.global)).toEqual([true, true]);
    expect(one('SET PERSIST a = 1').settings[0]).toMatchObject({ global: true, persist: true });
    expect(one('SET @v := 5').settings).toEqual([{ name: '@v', value: '5', constant: '5', scope: 'session' }]);
    expect(one('SELECT /*+ SET_VAR(foreign_key_checks=OFF) */ 1').settings).toEqual([{ name: 'foreign_key_checks', value: 'OFF', constant: 'OFF', scope: 'local' }]);
  });
  test("SET PASSWORD never copies the password", () => {
    const f = one("SET PASSWORD = 'secret'");
    expect(JSON.stringify(f)).not.toContain('secret');
  });
});

describe('nested statements', () => {
  test("PREPARE FROM 'text' is analysed as what it will run", () => {
    const f = one("PREPARE s FROM 'DROP TABLE users'");
    expect(f.kind).toBe('prepare');
    expect(f.nested.map((n) => n.kind)).toEqual(['drop_table']);
    expect(names(f.nested[0]!.tablesWritten)).toEqual(['users']);
    expect(one("PREPARE s FROM 'DELETE FROM t WHERE 1=1'").nested[0]!.unboundedWrite).toBe(true);
    expect(one("PREPARE s FROM 'PREPARE t FROM ''DROP TABLE x'''").nested[0]!.nested[0]!.kind).toBe('drop_table');
  });
  test('PREPARE FROM @var is opaque', () => {
    expect(one('PREPARE s FROM @q').opaqueBodies).toEqual(['@q']);
  });
  test('PREPARE text that cannot be analysed fails closed', () => {
    expect(failure("PREPARE s FROM 'SELEC 1'").kind).toBe('parse_error');
  });
  test('routine, trigger and event bodies', () => {
    const [p, d] = facts('CREATE PROCEDURE p() BEGIN DELETE FROM a; SELECT SLEEP(1) FROM b; END; DROP TABLE c');
    expect(p!.kind).toBe('create_function');
    expect(p!.nested.map((n) => n.kind)).toEqual(['delete', 'select']);
    expect(p!.nested[0]!.unboundedWrite).toBe(true);
    expect(d!.kind).toBe('drop_table');
    expect(one('CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO TRUNCATE logs').nested[0]!.kind).toBe('truncate');
    expect(one('CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a > 0 THEN DELETE FROM audit; END IF; END').nested.map((n) => n.kind)).toContain('delete');
    expect(one("CREATE FUNCTION f() RETURNS INT RETURN (SELECT COUNT(*) FROM secrets)").nested[0]!.tablesRead).toEqual([{ name: 'secrets' }]);
  });
  test('EXPLAIN ANALYZE runs the statement', () => {
    expect(one('EXPLAIN ANALYZE SELECT * FROM t').nested.map((n) => n.kind)).toEqual(['select']);
    expect(one('EXPLAIN SELECT * FROM t').nested).toEqual([]);
  });
});

describe('hostile disguises', () => {
  const kindsOf = (sql: string): string[] | string => {
    const r = analyzeMysql(sql);
    return r.ok ? r.statements.map((s) => s.kind) : r.failure.kind;
  };
  test.each<[string, string[] | string]>([
    ['SELECT 1 /*!50000 ; DROP TABLE t */', 'parse_error'],
    ['/*!DROP*/ TABLE t', ['drop_table']],
    ['/*!50000 DROP */ TABLE t', ['drop_table']],
    ['/*!99999 DROP */ TABLE t', ['drop_table']],
    ['/*M!100000 DROP */ TABLE t', ['drop_table']],
    ['SELECT 1 /*!500001 , 2 */', 'parse_error'],
    ['SELECT 1 -- x\n; DROP TABLE t', ['select', 'drop_table']],
    ['SELECT 1 --x\n; DROP TABLE t', ['select', 'drop_table']],
    ['SELECT 1 # ; DROP TABLE t\n; DROP TABLE u', ['select', 'drop_table']],
    ["SELECT 'a\\'; DROP TABLE t; -- '", 'parse_error'], // two readings depending on NO_BACKSLASH_ESCAPES
    ["SELECT 'it\\'s'", ['select']], // the other reading does not lex: no ambiguity
    ["SELECT \"a\\\"; DROP TABLE t; -- \"", 'parse_error'],
    ['DR/**/OP TABLE t', 'parse_error'],
    ['SELECT 1; DROP TABLE t', ['select', 'drop_table']],
    ["PREPARE s FROM 'DROP TABLE t'; EXECUTE s", ['prepare', 'execute']],
    ['DELIMITER //\nDROP TABLE t//', 'parse_error'],
    ['SELECT 1 */ DROP TABLE t', 'parse_error'],
  ])('%j', (sql, expected) => {
    expect(kindsOf(sql)).toEqual(expected);
  });
  test('a DROP hidden in a versioned comment is seen with its table', () => {
    expect(names(facts('SELECT 1; /*!50000 DROP TABLE secret */')[1]!.tablesWritten)).toEqual(['secret']);
  });
});

describe('fail closed', () => {
  test('NUL byte', () => expect(failure('SELECT 1\0; DROP TABLE t')).toEqual({ kind: 'nul_byte' }));
  test('empty', () => {
    expect(failure('')).toEqual({ kind: 'empty' });
    expect(failure(' ; -- x\n /* y */ ;')).toEqual({ kind: 'empty' });
  });
  test('over the size cap', () => {
    expect(analyzeMysql('SELECT 1', { maxBytes: 4 })).toEqual({ ok: false, dialect: 'mysql', failure: { kind: 'too_large', bytes: 8, limit: 4 } });
  });
  test('garbage', () => {
    for (const g of ['SELEC 1', 'SELECT ))) FROM ((((', '\u00ff\u00fe', 'DROP', '"']) expect(analyzeMysql(g).ok).toBe(false);
  });
  test('deep nesting', () => {
    expect(failure(`SELECT ${'('.repeat(1000)}1${')'.repeat(1000)}`).kind).toBe('too_complex');
    expect(failure(`SELECT ${'(SELECT '.repeat(100)}1${')'.repeat(100)}`).kind).toBe('too_complex');
  });
  test('700 chained ORs parse in bounded time', () => {
    const sql = `SELECT * FROM t WHERE ${Array.from({ length: 700 }, (_, i) => `a = ${i}`).join(' OR ')}`;
    const t0 = performance.now();
    const r = analyzeMysql(sql);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(r.ok || r.failure.kind === 'too_complex').toBe(true);
  });
  test('long NOT chains do not crash', () => {
    const r = analyzeMysql(`SELECT ${'NOT '.repeat(3000)}1`);
    expect(r.ok || r.failure.kind === 'too_complex').toBe(true);
  });
  test('a 1 MB bulk INSERT is analysed through literal-list cutting', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `(${i},'name${i}','x@example.com',NULL,-1.5)`).join(',');
    const sql = `INSERT INTO t VALUES ${rows}`;
    // generous time limits: this checks what the cutting does, not how fast (benchmarks measure that)
    const r = analyzeMysql(sql, { maxBytes: 2 * 1024 * 1024, parseTimeoutMs: 60_000, totalTimeoutMs: 60_000 });
    expect(r.ok && r.statements[0]!.kind).toBe('insert');
    expect(r.ok && r.normalized).toBe('INSERT INTO t VALUES (?, ?, ?, NULL, ?), ...');
  });
  test('a list of literals mixed with a function is not cut', () => {
    const f = one(`SELECT * FROM t WHERE id IN (${Array.from({ length: 30 }, (_, i) => i).join(',')}, SLEEP(5))`);
    expect(f.functions).toContain('sleep');
  });
  test('too many tokens', () => {
    expect(analyzeMysql(`SELECT ${Array.from({ length: 200 }, (_, i) => `c${i}`).join(', ')} FROM t`, { maxTokens: 100 }).ok).toBe(false);
  });
});

describe('normalized and fingerprint', () => {
  test('literals become ?', () => {
    const a = analyzeMysql("SELECT * FROM t WHERE a = 1 AND b = 'x'");
    const b = analyzeMysql("select * from t where a = 2 and b = 'yy'");
    expect(a.ok && a.normalized).toBe('SELECT * FROM t WHERE a = ? AND b = ?');
    const c = analyzeMysql("SELECT * FROM t WHERE a = 3 AND b = 'z'");
    expect(a.ok && c.ok && a.fingerprint === c.fingerprint).toBe(true);
    expect(a.ok && b.ok && a.fingerprint === b.fingerprint).toBe(true); // keywords are case-insensitive
    expect(a.ok && a.normalized).not.toContain('x');
  });
  test('comments are not in the normalized text; versioned content is', () => {
    const r = analyzeMysql('SELECT /* secret */ 1 /*!50000 , 2 */');
    expect(r.ok && r.normalized).toBe('SELECT ?, ?');
  });
});

describe('fingerprint reads the statement as MySQL does', () => {
  const fp = (sql: string): string => {
    const r = analyzeMysql(sql);
    if (!r.ok) throw new Error(`${sql}: ${r.failure.kind}`);
    return r.fingerprint;
  };
  const base = fp('DELETE FROM sessions WHERE user_id = ?');
  test.each([
    'delete from sessions where user_id = 42',
    'DELETE FROM sessions WHERE user_id = 42',
    'DELETE FROM `sessions` WHERE `user_id` = 42',
    'Delete  From sessions\n where user_id=-7',
    "DELETE FROM sessions WHERE user_id = 'x'",
  ])('same as the pattern: %s', (sql) => {
    expect(fp(sql)).toBe(base);
  });
  test.each([
    'DELETE FROM Sessions WHERE user_id = 1', // table names are case-sensitive (lower_case_table_names=0)
    'DELETE FROM sessions WHERE user_id = 1 OR 1',
    'DELETE FROM other.sessions WHERE user_id = 1',
  ])('differs from the pattern: %s', (sql) => {
    expect(fp(sql)).not.toBe(base);
  });
  test('backticks around a plain name do not matter; around a keyword they stay', () => {
    expect(fp('SELECT `a`, `b`(1) FROM `db`.`t`')).toBe(fp('select a, b(2) from db.t'));
    expect(fp('SELECT `from` FROM t')).toBe(fp('select `from` from t'));
  });
});

describe('WHERE and join conditions that do not bound a write', () => {
  test.each<[string, boolean]>([
    // a predicate ORed with its complement
    ['delete from t where x is null or x is not null', true],
    ['update t set a = 1 where id = 1 or id <> 1', true],
    ['delete from t where id < 5 or id >= 5', true],
    ['delete from t where not (x > 1) or x > 1', true],
    ["delete from t where x like 'a%' or x not like 'a%'", true],
    ['delete from t where x in (1, 2) or x not in (1, 2)', true],
    ['delete from t where (x is true) or (x is not true)', true],
    ['delete from t where id = 1 or id = 2', false],
    ['delete from t where x is null or y is not null', false],
    // row-independent disjuncts and conditions
    ['delete from t where id = ? or ?', true],
    ['delete from t where id = 1 or @v', true],
    ['delete from t where id = 1 or length(?) = 3', true],
    ['delete from t where ?', true],
    ['delete from t where @v = 1', true],
    ['delete from t where id = 1 or 0', false],
    ['delete from t where (id = 1 or ?) and x = 2', false],
    ['delete from t where (id = 1 or ?) and (x = 2 or ?)', true],
    ['delete from t where id = ? and ?', false],
    // multi-table writes bounded by an inner join condition
    ['DELETE FROM t1 USING t1 INNER JOIN t2 ON t1.id = t2.ref', false],
    ['delete t from t join u on t.id = u.id', false],
    ['delete a from t as a join u on a.id = u.id', false],
    ['update t join u on t.id = u.id set t.a = 1', false],
    ['update t join u on t.id = u.id set a = 1', false],
    ['update t inner join u using (id) set t.a = 1', false],
    ['delete t from t join u using (id)', false],
    ['update t join u on t.id = u.id set u.a = 1, t.b = 2', false],
    ['delete t from t join u on 1 = 1', true],
    ['delete t from t join u on ?', true],
    ['delete t from t join u on t.id = t.id', true],
    ['delete t from t join u on t.id = u.id or 1', true],
    ['delete t from t join u on u.x = 1', true], // the ON does not refer to the target
    ['delete t from t left join u on t.id = u.id', true], // a LEFT JOIN keeps every row of t
    ['delete t, u from t join u on u.x = 1 join v on t.id = v.id', false], // u by u.x = 1, t by v
    ['delete t, u from t join u on ? join v on t.id = v.id', true], // u is not bounded
    ['update t join u on u.x = 1 set t.a = 1', true],
    ['delete t from t join u on t.id = u.id where 1 = 1', false],
  ])('%s → unbounded %s', (sql, unbounded) => {
    expect(one(sql).unboundedWrite).toBe(unbounded);
  });
});

describe('server-side code and administration', () => {
  test('a UDF from a shared library is opaque code', () => {
    const f = one('create function f returns string soname "x.so"');
    expect(f.kind).toBe('create_function');
    expect(f.opaqueBodies.length).toBeGreaterThan(0);
    expect(one("CREATE AGGREGATE FUNCTION sys_exec RETURNS INTEGER SONAME 'lib_mysqludf_sys.so'").opaqueBodies.length).toBeGreaterThan(0);
  });
  test.each([
    "install plugin x soname 'x.so'",
    "install component 'file://component_x'",
    'uninstall plugin x',
    "uninstall component 'file://component_x'",
    'shutdown',
    'restart',
    'kill 1',
    'kill query 1',
    'kill connection 1',
  ])('%s is kind other', (sql) => {
    expect(one(sql).kind).toBe('other');
  });
});

describe('table administration statements', () => {
  beforeAll(() => initMysqlAnalyzer());
  it.each([
    ['CHECK TABLE users', 'analyze'],
    ['CHECKSUM TABLE users', 'analyze'],
    ['ANALYZE TABLE users', 'analyze'],
    ['OPTIMIZE TABLE users', 'vacuum'],
    ['REPAIR TABLE users', 'other'],
  ])('%s is kind %s', (sql, kind) => {
    const a = analyzeMysql(sql);
    expect(a.ok && a.statements[0].kind).toBe(kind);
  });
});

describe('VALUES statement (MySQL 8.0.19+), read as the UNION ALL of SELECTs it is', () => {
  test('what its rows read and call is seen', () => {
    const f = one("VALUES ROW(1, (SELECT secret FROM vault.keys LIMIT 1)), ROW(SLEEP(1), 'a,b') ORDER BY column_1 LIMIT 1");
    expect(f.kind).toBe('select');
    expect(names(f.tablesRead)).toEqual(['vault.keys']);
    expect(f.functions).toContain('sleep');
    expect(f.hasLimit).toBe(true);
  });
  test("MariaDB's VALUES (...), (...) too", () => {
    const f = one('VALUES (1, 2), ((SELECT b FROM s.t LIMIT 1), 4)');
    expect(f.kind).toBe('select');
    expect(names(f.tablesRead)).toEqual(['s.t']);
  });
  test('a statement after it is still judged', () => {
    expect(facts('VALUES ROW(1); DROP TABLE t').map((s) => s.kind)).toEqual(['select', 'drop_table']);
  });
  test.each(['VALUES ROW(1, 2), ROW(3)', 'VALUES ROW()', 'VALUES (1, 2), ROW(3, 4)', 'VALUES ROW(1,) '])('malformed %s fails closed', (sql) => {
    expect(failure(sql).kind).toBe('parse_error');
  });
});
