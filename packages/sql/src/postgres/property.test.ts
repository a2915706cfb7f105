import fc from 'fast-check';
import { analyzePostgres, initPostgresAnalyzer, stopPostgresAnalyzer } from './analyze-postgres.js';
import { factsOf } from './analysis.test.helpers.js';

beforeAll(() => initPostgresAnalyzer());
afterAll(() => stopPostgresAnalyzer());

/** Fragments that exercise the lexer's corners: quotes, dollar tags, comments, escapes, operators. */
const fragment = fc.constantFrom(
  'select', 'SELECT', 'delete', 'from', 'where', 'drop', 'table', 'do', 'begin', 'end', 'with', 'as', 'create', 'function', 'language', 'plpgsql', 'sql',
  'returns', 'void', 'explain', 'analyze', 'prepare', 'execute', 'copy', 'to', 'program', 'set', 'union', 'values', 'into', 'on', 'conflict', 'update',
  ' ', '\n', '\t', ';', ',', '(', ')', '[', ']', '.', '*', '+', '-', '=', '<>', '::', ':=', '||', '~~', '$1', '$$', '$a$', '$A$', "'", "''", 'E\'', "\\'",
  '"', '""', 'U&"', 'U&\'', '\\', '/*', '*/', '--', '1', '1.5e3', 'x', 't', 'pg_read_file', 'set_config', "'off'", 'true', 'null', 'not', 'or', 'and',
  '\u00e9', '\ud83d\ude00', '\u0000',
);

const sqlish = fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join(''));

function checkShape(sql: string): void {
  const a = analyzePostgres(sql);
  expect(a.dialect).toBe('postgres');
  if (a.ok) {
    expect(a.statements.length).toBeGreaterThan(0);
    for (const s of a.statements) {
      expect(Array.isArray(s.tablesRead) && Array.isArray(s.tablesWritten) && Array.isArray(s.functions) && Array.isArray(s.nested)).toBe(true);
    }
  } else {
    expect(['parse_error', 'nul_byte', 'too_large', 'too_complex', 'parser_failure', 'empty']).toContain(a.failure.kind);
  }
}

describe('analyzePostgres never throws', () => {
  test('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (sql) => {
        checkShape(sql);
      }),
      { numRuns: 1500 },
    );
  });

  test('on SQL-looking token soup', () => {
    fc.assert(
      fc.property(sqlish, (sql) => {
        checkShape(sql);
      }),
      { numRuns: 3000 },
    );
  });

  test('on mutations of real statements', () => {
    const seeds = [
      'WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d',
      "DO $$ BEGIN EXECUTE 'drop table x'; PERFORM pg_sleep(1); END $$",
      "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $f$ DECLARE x int := g(1); BEGIN x := h(2); RETURN x; END $f$",
      "COPY (SELECT set_config('a', 'b', false)) TO PROGRAM 'cat'",
      'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES (1)',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.nat(), fc.nat(), fragment, (seed, a, b, frag) => {
        const i = a % (seed.length + 1);
        const j = Math.min(seed.length, i + (b % 8));
        checkShape(seed.slice(0, i) + frag + seed.slice(j));
      }),
      { numRuns: 3000 },
    );
  });

  test('on large inputs (analysed in the isolated worker)', () => {
    fc.assert(
      fc.property(fc.array(fragment, { minLength: 4000, maxLength: 8000 }), (parts) => {
        checkShape(parts.join(''));
      }),
      { numRuns: 40 },
    );
  });

  test('and still analyses correctly afterwards', () => {
    expect(factsOf('DELETE FROM t WHERE 1 = 1')).toMatchObject({ kind: 'delete', unboundedWrite: true });
  });
});
