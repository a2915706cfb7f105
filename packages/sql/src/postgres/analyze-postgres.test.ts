import { analyzePostgres, initPostgresAnalyzer, postgresAnalyzerStats, stopPostgresAnalyzer, FINGERPRINT_UNAVAILABLE } from './analyze-postgres.js';
import { factsOf, failureOf } from './analysis.test.helpers.js';

beforeAll(() => initPostgresAnalyzer());
afterAll(() => stopPostgresAnalyzer());

/** The analyzer still answers correctly (run after every hostile input). */
function stillHealthy(): void {
  expect(factsOf('DELETE FROM t WHERE id = 1')).toMatchObject({ kind: 'delete', unboundedWrite: false, tablesWritten: [{ name: 't' }] });
  expect(factsOf('DROP TABLE x').kind).toBe('drop_table');
}

describe('fail-closed inputs', () => {
  test('a NUL byte', () => {
    expect(analyzePostgres('select 1\u0000; drop table x')).toEqual({ ok: false, dialect: 'postgres', failure: { kind: 'nul_byte' } });
    stillHealthy();
  });

  test('over the size cap (default 1 MiB, and a custom one)', () => {
    const big = `select '${'x'.repeat(1024 * 1024)}'`;
    expect(analyzePostgres(big)).toMatchObject({ ok: false, failure: { kind: 'too_large', bytes: 1024 * 1024 + 9, limit: 1024 * 1024 } });
    expect(analyzePostgres('select 1', { maxBytes: 4 })).toMatchObject({ ok: false, failure: { kind: 'too_large', bytes: 8, limit: 4 } });
    // the cap counts UTF-8 bytes, not UTF-16 units
    expect(analyzePostgres("select 'éé'", { maxBytes: 11 })).toMatchObject({ ok: false, failure: { kind: 'too_large', bytes: 13 } });
  });

  test('a 5 MB input', () => {
    const five = `select '${'a'.repeat(5 * 1024 * 1024)}'`;
    expect(failureOf(analyzePostgres(five))).toBe('too_large');
    // and when a caller allows it, it is analysed (in the isolated worker)
    expect(analyzePostgres(five, { maxBytes: 6 * 1024 * 1024 })).toMatchObject({ ok: true, statements: [{ kind: 'select' }] });
    stillHealthy();
  });

  test.each([[''], ['   \n\t'], ['-- only a comment'], ['/* only a comment */'], [';'], [';;  ;']])('empty: %j', (sql) => {
    expect(failureOf(analyzePostgres(sql))).toBe('empty');
  });

  test('a syntax error carries the message and the 1-based character position', () => {
    expect(analyzePostgres('SELEC 1')).toEqual({ ok: false, dialect: 'postgres', failure: { kind: 'parse_error', message: 'syntax error at or near "SELEC"', position: 1 } });
    // positions count characters, as Postgres reports them, not bytes
    expect(analyzePostgres("select 'é€' frm t")).toMatchObject({ failure: { kind: 'parse_error', position: 17 } });
  });

  test('an unterminated dollar quote', () => {
    expect(analyzePostgres('select $body$ never closed; drop table x')).toMatchObject({ ok: false, failure: { kind: 'parse_error', message: expect.stringContaining('unterminated dollar-quoted string') } });
    stillHealthy();
  });

  test('100 000-deep parentheses', () => {
    const deep = '('.repeat(100_000) + '1' + ')'.repeat(100_000);
    expect(failureOf(analyzePostgres(deep))).toBe('too_complex');
    expect(failureOf(analyzePostgres(`select ${deep}`))).toBe('too_complex');
    stillHealthy();
  });

  test('long left-deep expression chains (which overflow the parser stack in-thread)', () => {
    for (const sql of ['select ' + Array(50_000).fill('1').join('+'), 'select 1' + '::int'.repeat(20_000), Array(10_000).fill('select 1').join(' union all ')]) {
      expect([sql.slice(0, 20), failureOf(analyzePostgres(sql))]).toEqual([sql.slice(0, 20), 'too_complex']);
      stillHealthy();
    }
  });

  test('garbage bytes', () => {
    let seed = 42;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 50; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 3000) }, () => 1 + Math.floor(rnd() * 255)));
      for (const text of [bytes.toString('latin1'), bytes.toString('utf8')]) {
        const a = analyzePostgres(text);
        expect(typeof a.ok).toBe('boolean');
      }
    }
    expect(failureOf(analyzePostgres(Buffer.from([0xff, 0x00, 0x41]).toString('latin1')))).toBe('nul_byte');
    stillHealthy();
  });

  test('lone surrogates and odd Unicode', () => {
    expect(typeof analyzePostgres("select '\ud800'").ok).toBe('boolean');
    expect(failureOf(analyzePostgres('select \u2028 1'))).toBe('parse_error');
    expect(factsOf("select '😀' as \"😀\" from \"😀\"").tablesRead).toEqual([{ name: '😀' }]);
  });

  test('not text at all', () => {
    expect(failureOf(analyzePostgres(42 as unknown as string))).toBe('parser_failure');
    expect(failureOf(analyzePostgres(undefined as unknown as string))).toBe('parser_failure');
  });

  test('the process is alive and the parsers healthy after all of it', () => {
    stillHealthy();
    expect(postgresAnalyzerStats().inThread.ready).toBe(true);
  });
});

describe('fingerprint and normalized are lazy', () => {
  test('computed on first read, then memoised as plain values', () => {
    const a = analyzePostgres('SELECT * FROM t WHERE id = 42');
    if (!a.ok) throw new Error('expected ok');
    expect(typeof Object.getOwnPropertyDescriptor(a, 'fingerprint')?.get).toBe('function');
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.getOwnPropertyDescriptor(a, 'fingerprint')).toMatchObject({ value: a.fingerprint, enumerable: true });
    expect(a.normalized).toBe('SELECT * FROM t WHERE id = $1');
  });

  test('the same shape gives the same fingerprint; another shape another one', () => {
    const fp = (sql: string): string => {
      const a = analyzePostgres(sql);
      return a.ok ? a.fingerprint : 'failed';
    };
    expect(fp('SELECT * FROM t WHERE id = 1')).toBe(fp('select *  from t where id = 99'));
    expect(fp('SELECT * FROM t WHERE id = 1')).not.toBe(fp('SELECT * FROM u WHERE id = 1'));
    expect(fp('SELECT 1')).not.toBe(FINGERPRINT_UNAVAILABLE);
  });

  test('spread and JSON.stringify see them', () => {
    const a = analyzePostgres('select 1');
    expect(JSON.parse(JSON.stringify(a))).toMatchObject({ ok: true, normalized: 'select $1', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect({ ...a }).toHaveProperty('fingerprint');
  });

  test('large statements get theirs from the isolated worker', () => {
    const big = `SELECT * FROM t WHERE id IN (${Array(5000).fill('12345').join(', ')})`;
    const a = analyzePostgres(big);
    if (!a.ok) throw new Error('expected ok');
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(a.normalized.startsWith('SELECT * FROM t WHERE id IN ($1, $2')).toBe(true);
  });
});
