import type { Analysis, AnalysisFailure, Dialect } from '../facts.js';
import { emptyFacts } from '../facts.js';
import { AnalysisCache } from './analysis-cache.js';
import { AsyncAnalysisCache } from './async-analysis-cache.js';

const ok = (dialect: Dialect, sql: string): Analysis => ({ ok: true, dialect, statements: [emptyFacts('select', sql)], normalized: sql, fingerprint: 'f' });
const failed = (failure: AnalysisFailure): Analysis => ({ ok: false, dialect: 'mysql', failure });

/** An analyzer whose answers the test releases by hand. */
function deferred(answer: (dialect: Dialect, sql: string) => Analysis = ok) {
  const waiting: { dialect: Dialect; sql: string; release: () => void; fail: (e: unknown) => void }[] = [];
  const analyzer = (dialect: Dialect, sql: string): Promise<Analysis> =>
    new Promise<Analysis>((resolve, reject) => {
      waiting.push({ dialect, sql, release: () => resolve(answer(dialect, sql)), fail: reject });
    });
  return { analyzer, waiting };
}

const noSync = (): Analysis => {
  throw new Error('the synchronous path must not run');
};

describe('AnalysisCache peek and put', () => {
  test('get still analyses once and caches; peek never analyses; put replaces without double counting', () => {
    let calls = 0;
    const cache = new AnalysisCache((d, s) => {
      calls++;
      return ok(d, s);
    });
    expect(cache.peek('mysql', 'SELECT 1')).toBeUndefined();
    const a = cache.get('mysql', 'SELECT 1');
    expect(cache.get('mysql', 'SELECT 1')).toBe(a);
    expect(cache.peek('mysql', 'SELECT 1')).toBe(a);
    expect(cache.peek('postgres', 'SELECT 1')).toBeUndefined();
    expect(calls).toBe(1);
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 2, misses: 3 });
    const bytes = cache.bytes;
    cache.put('mysql', 'SELECT 1', ok('mysql', 'SELECT 1'));
    expect(cache.bytes).toBe(bytes);
    expect(cache.size).toBe(1);
  });

  test('put keeps nothing passing or too long', () => {
    const cache = new AnalysisCache(noSync, 1 << 20, 100);
    cache.put('mysql', 'a', failed({ kind: 'parser_failure', message: 'x', cause: 'overloaded' }));
    cache.put('mysql', 'b', failed({ kind: 'too_complex', message: 'x', cause: 'timeout' }));
    cache.put('mysql', 'c', failed({ kind: 'parser_failure', message: 'x' }));
    cache.put('mysql', 'x'.repeat(101), ok('mysql', 'x'));
    expect(cache.size).toBe(0);
    cache.put('mysql', 'd', failed({ kind: 'parse_error', message: 'syntax error' }));
    expect(cache.peek('mysql', 'd')).toMatchObject({ ok: false, failure: { kind: 'parse_error' } });
  });
});

describe('AsyncAnalysisCache', () => {
  test('concurrent identical misses share one analysis; different texts and dialects do not', async () => {
    const { analyzer, waiting } = deferred();
    const front = new AsyncAnalysisCache(new AnalysisCache(noSync), analyzer);
    const same = Array.from({ length: 5 }, () => front.get('mysql', 'SELECT a FROM t'));
    const other = front.get('mysql', 'SELECT b FROM t');
    const pg = front.lookup('postgres', 'SELECT a FROM t');
    expect(waiting.map((w) => `${w.dialect}:${w.sql}`)).toEqual(['mysql:SELECT a FROM t', 'mysql:SELECT b FROM t', 'postgres:SELECT a FROM t']);
    expect(front.deduped).toBe(4);
    expect(front.pending).toBe(3);
    for (const w of waiting) w.release();
    const got = await Promise.all(same);
    for (const a of got) expect(a).toBe(got[0]);
    expect(await other).not.toBe(got[0]);
    expect(pg).toBeInstanceOf(Promise);
    expect(await pg).toMatchObject({ dialect: 'postgres' });
    expect(front.pending).toBe(0);
    // now cached: answered synchronously, nothing analysed
    expect(front.peek('mysql', 'SELECT a FROM t')).toBe(got[0]);
    expect(front.lookup('mysql', 'SELECT a FROM t')).toBe(got[0]);
    expect(await front.get('mysql', 'SELECT a FROM t')).toBe(got[0]);
    expect(waiting).toHaveLength(3);
  });

  test('passing failures (overloaded, timeout, crash) are shared by the callers waiting but not cached', async () => {
    for (const failure of [
      { kind: 'parser_failure', message: 'MySQL analysis is overloaded', cause: 'overloaded' },
      { kind: 'too_complex', message: 'MySQL analysis did not finish', cause: 'timeout' },
      { kind: 'parser_failure', message: 'the worker failed', cause: 'worker_exit' },
    ] as const) {
      const { analyzer, waiting } = deferred(() => failed(failure));
      const front = new AsyncAnalysisCache(new AnalysisCache(noSync), analyzer);
      const both = [front.get('mysql', 'SELECT 1'), front.get('mysql', 'SELECT 1')];
      waiting[0]!.release();
      const [a, b] = await Promise.all(both);
      expect(a).toBe(b);
      expect(a).toMatchObject({ ok: false, failure });
      expect(front.peek('mysql', 'SELECT 1')).toBeUndefined();
      const again = front.get('mysql', 'SELECT 1');
      expect(waiting).toHaveLength(2);
      waiting[1]!.release();
      await again;
    }
  });

  test('an analyzer that throws or rejects becomes a fail-closed analysis, and the next call tries again', async () => {
    const { analyzer, waiting } = deferred();
    let throwNow = true;
    const front = new AsyncAnalysisCache(new AnalysisCache(noSync), (d, s) => {
      if (throwNow) throw new Error('boom');
      return analyzer(d, s);
    });
    expect(await front.get('mysql', 'SELECT 1')).toEqual(failed({ kind: 'parser_failure', message: 'analysis failed: boom' }));
    throwNow = false;
    const p = front.get('mysql', 'SELECT 1');
    waiting[0]!.fail(new Error('worker gone'));
    expect(await p).toEqual(failed({ kind: 'parser_failure', message: 'analysis failed: worker gone' }));
    expect(front.pending).toBe(0);
    const q = front.get('mysql', 'SELECT 1');
    waiting[1]!.release();
    expect(await q).toMatchObject({ ok: true });
  });

  test('texts too long to cache are still deduplicated while in flight', async () => {
    const { analyzer, waiting } = deferred();
    const front = new AsyncAnalysisCache(new AnalysisCache(noSync, 1 << 20, 10), analyzer);
    const long = 'SELECT 1 FROM a_long_table_name';
    const both = [front.get('mysql', long), front.get('mysql', long)];
    expect(waiting).toHaveLength(1);
    waiting[0]!.release();
    await Promise.all(both);
    expect(front.peek('mysql', long)).toBeUndefined();
  });
});
