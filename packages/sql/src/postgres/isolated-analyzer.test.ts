import { analyzePostgres, initPostgresAnalyzer, postgresAnalyzerStats, stopPostgresAnalyzer } from './analyze-postgres.js';
import { factsOf, failureOf } from './analysis.test.helpers.js';

afterAll(() => stopPostgresAnalyzer());

/** About 1 MB of ANDed comparisons: parses, but slowly (~1 s). */
const SLOW = 'select 1 where ' + Array(120_000).fill('a=1').join(' and ');

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('large statements run in an isolated worker', () => {
  test('a statement over the time limit is too_complex; the worker is replaced and small ones never stop working', async () => {
    await initPostgresAnalyzer({ isolatedTimeoutMs: 150 });
    expect(postgresAnalyzerStats().isolated.ready).toBe(true);
    const a = analyzePostgres(SLOW);
    expect(a).toMatchObject({ ok: false, failure: { kind: 'too_complex', message: 'analysis took longer than 150 ms' } });
    expect(postgresAnalyzerStats().isolated.timeouts).toBe(1);
    expect(factsOf('DELETE FROM t').unboundedWrite).toBe(true);
    // a large statement while the worker restarts is analysed in-thread
    const big = `DELETE FROM t WHERE id IN (${Array(3000).fill('1').join(',')})`;
    expect(factsOf(big)).toMatchObject({ kind: 'delete', unboundedWrite: false });
    await until(() => postgresAnalyzerStats().isolated.ready);
    expect(factsOf(big)).toMatchObject({ kind: 'delete', unboundedWrite: false });
  });

  test('with a generous limit the same statement is analysed', async () => {
    await initPostgresAnalyzer({ isolatedTimeoutMs: 30_000 });
    expect(analyzePostgres(SLOW)).toMatchObject({ ok: true, statements: [{ kind: 'select' }] });
  });

  test('the worker survives expressions that would overflow the main thread stack', async () => {
    await initPostgresAnalyzer({ isolatedTimeoutMs: 30_000 });
    const before = postgresAnalyzerStats();
    expect(failureOf(analyzePostgres('select ' + Array(100_000).fill('1').join('+')))).toBe('too_complex');
    expect(postgresAnalyzerStats().inThread.crashes).toBe(before.inThread.crashes);
    expect(factsOf(`UPDATE t SET a = 1 WHERE b IN (${Array(3000).fill("'x'").join(',')})`).unboundedWrite).toBe(false);
  });

  test('without the worker (isolateAboveBytes: Infinity) everything runs in-thread and still fails closed', async () => {
    await stopPostgresAnalyzer();
    await initPostgresAnalyzer({ isolateAboveBytes: Infinity });
    expect(failureOf(analyzePostgres('select ' + Array(60_000).fill('1').join('+')))).toBe('too_complex');
    expect(factsOf('DROP TABLE x').kind).toBe('drop_table');
    await initPostgresAnalyzer({ isolateAboveBytes: 8 * 1024 });
  });
});
