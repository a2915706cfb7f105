/**
 * MysqlAnalysisPool: the same answers as analyzeMysql, off the event loop, and fail-closed answers for
 * every way the workers can let a statement down. No timing assertions: deadlines are generous and
 * only outcomes are checked (worker start-up takes seconds on a loaded 2-core machine).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AnalysisCache } from '../cache/analysis-cache.js';
import { AsyncAnalysisCache } from '../cache/async-analysis-cache.js';
import type { Analysis } from '../facts.js';
import { MysqlAnalysisPool, type MysqlAnalysisPoolOptions } from './analysis-pool.js';
import { analyzeMysql, initMysqlAnalyzer } from './analyze.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const corpusFile = join(repoRoot, '..', 'shared', 'corpus', 'mysql-benign.mjs');

/** outcomes, not speed: a loaded machine must not turn slow parses into different answers */
const PATIENT = { parseTimeoutMs: 60_000, totalTimeoutMs: 60_000 };
const STARTUP = 180_000;

/** Nested CASE expressions: each level multiplies the parser's look-ahead; 2000 levels run for many minutes. */
const PATHOLOGICAL = 'SELECT ' + 'CASE WHEN a THEN b ELSE '.repeat(2000) + '1' + ' END'.repeat(2000);

const pools: MysqlAnalysisPool[] = [];
let shared: Promise<MysqlAnalysisPool> | undefined;
/** one pool of two workers with lifted analyzer time limits, shared by the tests that do not break workers */
const patientPool = (): Promise<MysqlAnalysisPool> => (shared ??= startPool({ size: 2, analyzeOptions: PATIENT }));
let defaults: Promise<MysqlAnalysisPool> | undefined;
/** one worker with every default */
const defaultPool = (): Promise<MysqlAnalysisPool> => (defaults ??= startPool({ size: 1 }));
async function startPool(opts: MysqlAnalysisPoolOptions): Promise<MysqlAnalysisPool> {
  const pool = new MysqlAnalysisPool({ maxWaitMs: STARTUP, ...opts });
  pools.push(pool);
  await pool.ready();
  return pool;
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

async function until(cond: () => boolean, ms = STARTUP): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Counts turns of the event loop while `p` is pending: proof that the caller's thread was not blocked. */
async function ticksWhile<T>(p: Promise<T>): Promise<{ value: T; ticks: number }> {
  let ticks = 0;
  let done = false;
  const spin = (): void => {
    if (done) return;
    ticks++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const value = await p;
  done = true;
  return { value, ticks };
}

function failureOf(a: Analysis): { kind: string; cause?: string; message?: string } {
  if (a.ok) throw new Error(`expected a failure, got ${a.statements.map((s) => s.kind).join(', ')}`);
  return a.failure as { kind: string; cause?: string; message?: string };
}

const FAILING = [
  'SELEC 1',
  '',
  '   ',
  'SELECT 1\0',
  "SELECT 'a\\'; DROP TABLE t; -- '",
  'SELECT ' + '('.repeat(100) + '1' + ')'.repeat(100),
  'SELECT ' + 'x'.repeat(2 * 1024 * 1024),
];

describe('MysqlAnalysisPool answers as analyzeMysql does', () => {
  let corpus: string[] = [];
  beforeAll(async () => {
    await initMysqlAnalyzer();
    if (existsSync(corpusFile)) {
      const mod = (await import(pathToFileURL(corpusFile).href)) as { mysqlCorpus: [string, string][]; mysqlLong: string };
      // every third statement, and the 2 KB ORM query
      corpus = [...mod.mysqlCorpus.filter((_, i) => i % 3 === 0).map(([, s]) => s), mod.mysqlLong];
    }
  }, STARTUP);

  test(
    'a sample of the corpus and failing statements, concurrently, through the workers: equal to the synchronous analysis, structured-clone intact',
    async () => {
      const pool = await patientPool();
      const texts = [...corpus, ...FAILING, 'SELECT 1; DELETE FROM t', "CREATE PROCEDURE p() BEGIN SELECT 1; UPDATE t SET a = 1; END"];
      const completedBefore = pool.stats().completed;
      const got = await Promise.all(texts.map((s) => pool.analyze(s)));
      texts.forEach((s, i) => {
        // toStrictEqual: a class instance, a function or an undefined-valued key lost in the clone would differ
        expect({ sql: s.slice(0, 100), a: got[i] }).toStrictEqual({ sql: s.slice(0, 100), a: analyzeMysql(s, PATIENT) });
      });
      expect(got.filter((a) => a.ok).length).toBeGreaterThan(corpus.length * 0.9);
      const st = pool.stats();
      expect(st).toMatchObject({ size: 2, ready: 2, busy: 0, queued: 0, overloaded: 0, timeouts: 0, workerExits: 0, inline: 0 });
      // statements the analyzer refuses before lexing (NUL, over the size limit) never leave this thread
      expect(st.completed - completedBefore).toBe(texts.length - 2);
    },
    STARTUP,
  );

  test(
    'inline mode: short statements parsed on the caller thread within a budget, the rest (and any over budget) in a worker, same answers',
    async () => {
      const pool = await startPool({ size: 1, analyzeOptions: PATIENT, inlineMaxChars: 64, inlineBudgetMs: 50 });
      const texts = [...corpus.slice(0, 30), ...FAILING];
      for (const s of texts) expect(await pool.analyze(s)).toStrictEqual(analyzeMysql(s, PATIENT));
      const st = pool.stats();
      expect(st.inline).toBeGreaterThan(0);
      expect(st.completed).toBeGreaterThan(0);
      // a short statement that cannot finish inside the inline budget goes to the worker with the full limits
      // (a budget of 0 ms: no parse finishes inside it)
      const short = 'SELECT CASE WHEN a THEN b ELSE 1 END FROM t';
      const tight = await startPool({ size: 1, analyzeOptions: PATIENT, inlineMaxChars: 64, inlineBudgetMs: 0 });
      expect(await tight.analyze(short)).toStrictEqual(analyzeMysql(short, PATIENT));
      expect(tight.stats()).toMatchObject({ inline: 0, inlineFallbacks: 1, completed: 1 });
    },
    STARTUP,
  );
});

describe('MysqlAnalysisPool fails closed', () => {
  test(
    'a pathological statement times out at the deadline while the event loop keeps turning; the worker is replaced',
    async () => {
      // the analyzer's own (cooperative) limits are lifted: only the main thread's deadline can stop it
      const pool = await startPool({ size: 1, deadlineMs: 3000, analyzeOptions: { parseTimeoutMs: 1e9, totalTimeoutMs: 1e9, maxTokens: 1e9 } });
      const { value, ticks } = await ticksWhile(pool.analyze(PATHOLOGICAL));
      expect(failureOf(value)).toEqual({
        kind: 'too_complex',
        cause: 'timeout',
        message: 'MySQL analysis did not finish within 3000 ms; the analysis worker was stopped',
      });
      // a parse on this thread would have let the loop turn zero times before answering
      expect(ticks).toBeGreaterThan(100);
      expect(pool.stats()).toMatchObject({ timeouts: 1, starts: 2 });
      // the statement after it waits for the replacement worker and is analysed normally
      expect(await pool.analyze('DELETE FROM t')).toMatchObject({ ok: true, statements: [{ kind: 'delete', unboundedWrite: true }] });
      await until(() => pool.stats().threads === 1);
    },
    STARTUP,
  );

  test(
    'with the default limits the same statement is refused by the analyzer itself, and the worker stays',
    async () => {
      const pool = await defaultPool();
      const { value, ticks } = await ticksWhile(pool.analyze(PATHOLOGICAL));
      expect(failureOf(value).kind).toBe('too_complex');
      expect(failureOf(value).cause).toBeUndefined();
      expect(ticks).toBeGreaterThan(100);
      expect(pool.stats()).toMatchObject({ timeouts: 0, workerExits: 0, starts: 1 });
    },
    STARTUP,
  );

  test(
    'a worker that exits, throws or runs out of memory answers its statement with a failure and is replaced',
    async () => {
      const pool = await startPool({ size: 1, faultInjection: true, resourceLimits: { maxOldGenerationSizeMb: 128 } });
      expect(failureOf(await pool.injectFault('exit'))).toEqual({
        kind: 'parser_failure',
        cause: 'worker_exit',
        message: 'the MySQL analysis worker failed while analysing this statement (exit code 70)',
      });
      // queued behind the crash, served by the replacement
      const [thrown, after] = await Promise.all([pool.injectFault('throw'), pool.analyze('SELECT a FROM t')]);
      expect(failureOf(thrown)).toMatchObject({ kind: 'parser_failure', cause: 'worker_exit' });
      expect(failureOf(thrown).message).toContain('injected analysis worker fault');
      expect(after).toMatchObject({ ok: true, statements: [{ kind: 'select' }] });
      expect(failureOf(await pool.injectFault('oom'))).toEqual({
        kind: 'parser_failure',
        cause: 'worker_exit',
        message: 'the MySQL analysis worker failed while analysing this statement (it ran out of memory)',
      });
      expect(await pool.analyze('UPDATE t SET a = 1 WHERE id = 2')).toMatchObject({ ok: true, statements: [{ kind: 'update', unboundedWrite: false }] });
      expect(pool.stats()).toMatchObject({ workerExits: 3, starts: 4, timeouts: 0 });
    },
    STARTUP,
  );

  test(
    'fault injection is refused unless enabled',
    async () => {
      const pool = await defaultPool();
      expect(failureOf(await pool.injectFault('exit'))).toEqual({ kind: 'parser_failure', message: 'fault injection is disabled' });
      expect(pool.stats()).toMatchObject({ workerExits: 0, starts: 1 });
    },
    STARTUP,
  );

  test(
    'beyond the queue bound (count or bytes) the answer is an overloaded failure, not an exception; the queue drains after the deadline',
    async () => {
      const pool = await startPool({ size: 1, maxQueue: 2, maxQueueBytes: 1000, deadlineMs: 3000, faultInjection: true });
      const hung = pool.injectFault('hang'); // occupies the only worker until the deadline
      expect(pool.stats()).toMatchObject({ busy: 1, queued: 0 });
      const a = pool.analyze('SELECT 1 FROM a');
      const big = await pool.analyze(`SELECT ${'1,'.repeat(300)}1`); // 1216 more bytes would go over 1000
      expect(failureOf(big)).toMatchObject({ kind: 'parser_failure', cause: 'overloaded' });
      expect(failureOf(big).message).toMatch(/^MySQL analysis is overloaded: 30 bytes of statement text are already waiting/);
      const b = pool.analyze('SELECT 1 FROM b');
      expect(pool.stats().queued).toBe(2);
      expect(failureOf(await pool.analyze('SELECT 1 FROM c'))).toEqual({
        kind: 'parser_failure',
        cause: 'overloaded',
        message: 'MySQL analysis is overloaded: 2 statements are already waiting for an analysis worker (limit 2)',
      });
      expect(failureOf(await hung)).toMatchObject({ kind: 'too_complex', cause: 'timeout' });
      expect(await a).toMatchObject({ ok: true, statements: [{ tablesRead: [{ name: 'a' }] }] });
      expect(await b).toMatchObject({ ok: true, statements: [{ tablesRead: [{ name: 'b' }] }] });
      expect(pool.stats()).toMatchObject({ overloaded: 2, timeouts: 1, queued: 0, queuedBytes: 0 });
    },
    STARTUP,
  );

  test(
    'a statement that waits longer than maxWaitMs for a worker is answered overloaded',
    async () => {
      const impatient = await startPool({ size: 1, maxWaitMs: 200, deadlineMs: STARTUP, faultInjection: true });
      void impatient.injectFault('hang');
      expect(failureOf(await impatient.analyze('SELECT 1'))).toEqual({
        kind: 'parser_failure',
        cause: 'overloaded',
        message: 'MySQL analysis is overloaded: no analysis worker was free within 200 ms',
      });
      await impatient.close();
    },
    STARTUP,
  );

  test(
    'close() answers in-flight and waiting statements, terminates the workers, and later calls fail closed',
    async () => {
      const pool = await startPool({ size: 1, faultInjection: true, deadlineMs: STARTUP });
      expect(pool.stats().threads).toBe(1);
      const inFlight = [pool.injectFault('hang')];
      const waiting = pool.analyze('SELECT 1');
      expect(pool.stats()).toMatchObject({ busy: 1, queued: 1 });
      await pool.close();
      const closed = { kind: 'parser_failure', cause: 'closed', message: 'MySQL analysis is shut down (the proxy is stopping)' };
      for (const a of await Promise.all([...inFlight, waiting])) expect(failureOf(a)).toEqual(closed);
      await until(() => pool.stats().threads === 0);
      expect(pool.stats()).toMatchObject({ closed: true, ready: 0, busy: 0, queued: 0, threads: 0, workerExits: 0 });
      expect(failureOf(await pool.analyze('SELECT 1'))).toEqual(closed);
      expect(failureOf(await pool.injectFault('exit'))).toEqual(closed);
      await expect(pool.ready()).rejects.toThrow('closed');
      await pool.close(); // idempotent
    },
    STARTUP,
  );
});

describe('AsyncAnalysisCache over the pool', () => {
  test(
    'concurrent identical misses share one worker analysis; the answer is then cached and returned without a round trip',
    async () => {
      const pool = await patientPool();
      let calls = 0;
      const front = new AsyncAnalysisCache(new AnalysisCache(() => {
        throw new Error('the synchronous path must not be used');
      }), (_d, sql) => {
        calls++;
        return pool.analyze(sql);
      });
      const sql = 'SELECT id, email FROM users WHERE id = 42';
      const all = await Promise.all(Array.from({ length: 10 }, () => front.get('mysql', sql)));
      expect(calls).toBe(1);
      expect(front.deduped).toBe(9);
      for (const a of all) expect(a).toBe(all[0]);
      expect(all[0]).toMatchObject({ ok: true, statements: [{ kind: 'select' }] });
      const completed = pool.stats().completed;
      const hit = front.lookup('mysql', sql);
      expect(hit).not.toBeInstanceOf(Promise);
      expect(hit).toBe(all[0]);
      expect(await front.get('mysql', sql)).toBe(all[0]);
      expect(front.cache.get('mysql', sql)).toBe(all[0]); // the synchronous API sees it too
      expect(pool.stats().completed).toBe(completed);
      expect(calls).toBe(1);
      expect(front.pending).toBe(0);
    },
    STARTUP,
  );
});
