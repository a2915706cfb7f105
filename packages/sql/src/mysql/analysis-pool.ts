/**
 * MySQL statement analysis off the event loop.
 *
 * Why: analyzeMysql (an ANTLR grammar parser) is synchronous and can take up to its parse timeout
 * (2 s per statement, 5 s per string by default) on a cold or pathological statement; on the proxy's
 * thread that would stall every session of the process. Here statements are analysed in a small pool
 * of worker threads, each with the grammar loaded and warmed up before it takes work, and the main
 * thread only waits for a message.
 *
 * Guarantees (every one fails closed: the answer is an `Analysis` with `ok: false`, never an exception):
 * - bounded queue: beyond `maxQueue` waiting statements (or `maxQueueBytes` of their text), or after
 *   `maxWaitMs` without a free worker, the answer is a `parser_failure` with `cause: 'overloaded'`;
 * - deadline enforced from the main thread: a worker still busy `deadlineMs` after it took a statement
 *   is terminated and replaced, and the statement is answered `too_complex` with `cause: 'timeout'`;
 * - a worker that crashes or runs out of memory answers its statement `parser_failure` with
 *   `cause: 'worker_exit'` and is replaced;
 * - after close(), every call answers `parser_failure` with `cause: 'closed'`.
 * Results cross threads by structured clone: StatementFacts are plain data (strings, numbers,
 * booleans, arrays, plain objects), which the tests check by comparing with toStrictEqual.
 *
 * Inline analysis (on the caller's thread) is off by default, because measurement says a worker round
 * trip costs the event loop less than parsing even the shortest statements. `node
 * packages/sql/bench/mysql-pool-bench.mjs` over the 210-statement corpus, on the 2-core machine this
 * was written on (Node 20, load average ~11 from other jobs, so absolute numbers are noisy; three runs
 * agreed within ~30%); µs, median over the statements of each one's median over 20 passes:
 *
 *   statements         warm inline   worker round   main-thread CPU   first parse of a shape
 *                      parse         trip           of the trip       (median, p95)
 *   ≤ 32 chars (74)         91           295              11             790,  24 000
 *   33–64 chars (72)       250           505              12           3 700,  91 000
 *   65–128 chars (44)      492           767              13          23 000, 216 000
 *   129–256 chars (17)   1 090         1 151              17          53 000, 297 000
 *   a blank string           —            57 (transport alone)
 *
 * So a worker costs the event loop 8–60× less than parsing here, for ~200–300 µs more latency on a
 * miss; a shape the parser has not seen yet (every worker and the main thread keep their own
 * prediction caches) can hold a thread for tens to hundreds of ms. 64 concurrent callers: through 2
 * workers ~600 statements/s with the main thread 21% busy; all inline ~900/s with it 100% busy (and
 * nothing left for sessions' I/O). `inlineMaxChars` > 0 trades that for latency: statements up to that
 * length are parsed here within `inlineBudgetMs`, and one that does not finish inside the budget (a
 * cold or pathological shape) goes to a worker with the full limits, so the caller's thread is never
 * held longer than the budget.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Analysis, AnalysisFailure } from '../facts.js';
import { analyzeMysql, initMysqlAnalyzer, MYSQL_DEFAULTS, type MysqlAnalyzeOptions } from './analyze.js';
import type { MysqlWorkerData, MysqlWorkerFault, MysqlWorkerMessage, MysqlWorkerRequest } from './mysql-analysis-worker.js';

export interface MysqlAnalysisPoolOptions {
  /** worker threads; default min(2, availableParallelism()) */
  size?: number;
  /** statements that may wait for a free worker; default 1024 */
  maxQueue?: number;
  /** UTF-16 bytes of statement text that may wait for a free worker; default 64 MiB (one statement is always let in) */
  maxQueueBytes?: number;
  /** how long a statement may wait for a free worker, ms; default 10 000 */
  maxWaitMs?: number;
  /** how long a worker may take for one statement before it is terminated, ms; default the analyzer's totalTimeoutMs + 1000 */
  deadlineMs?: number;
  /** limits for analyzeMysql (in the workers and inline); defaults MYSQL_DEFAULTS */
  analyzeOptions?: MysqlAnalyzeOptions;
  /** statements of at most this many characters are analysed on the caller's thread first; default 0 (never; see above) */
  inlineMaxChars?: number;
  /** parse time allowed inline before the statement goes to a worker, ms; default 10 */
  inlineBudgetMs?: number;
  /** per worker: JS heap cap (default 1024 MB) and native stack (default Node's 4 MB) */
  resourceLimits?: { maxOldGenerationSizeMb?: number; stackSizeMb?: number };
  /** lets injectFault() make workers misbehave (tests only); default false */
  faultInjection?: boolean;
}

export interface MysqlAnalysisPoolStats {
  size: number;
  /** workers ready to take a statement or busy with one */
  ready: number;
  busy: number;
  queued: number;
  queuedBytes: number;
  /** statements answered by a worker */
  completed: number;
  /** statements answered inline, and inline attempts over the budget that went to a worker */
  inline: number;
  inlineFallbacks: number;
  overloaded: number;
  timeouts: number;
  /** workers that exited on their own (crash, out of memory) */
  workerExits: number;
  /** workers started, replacements included */
  starts: number;
  /** worker threads that have started and not yet exited (ones being terminated included) */
  threads: number;
  closed: boolean;
}

interface Pending {
  id: number;
  sql: string;
  fault?: MysqlWorkerFault;
  bytes: number;
  enqueuedAt: number;
  resolve: (a: Analysis) => void;
}

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  ready: boolean;
  everReady: boolean;
  /** terminated on purpose (deadline, close) or already handled: its exit is expected */
  retired: boolean;
  current: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
  error: Error | undefined;
}

function fail(failure: AnalysisFailure): Analysis {
  return { ok: false, dialect: 'mysql', failure };
}

/** A bounded pool of worker threads running analyzeMysql; see the file comment. */
export class MysqlAnalysisPool {
  readonly size: number;
  readonly maxQueue: number;
  readonly maxQueueBytes: number;
  readonly maxWaitMs: number;
  readonly deadlineMs: number;
  readonly inlineMaxChars: number;
  readonly inlineBudgetMs: number;
  private readonly analyzeOptions: MysqlAnalyzeOptions;
  private readonly inlineOptions: MysqlAnalyzeOptions;
  private readonly maxBytes: number;
  private readonly workerData: MysqlWorkerData;
  private readonly resourceLimits: { maxOldGenerationSizeMb: number; stackSizeMb?: number };
  private readonly slots: (Slot | undefined)[];
  private readonly startFailures: number[];
  private readonly respawnTimers = new Set<NodeJS.Timeout>();
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private closed = false;
  private threads = 0;
  private readonly counters = { completed: 0, inline: 0, inlineFallbacks: 0, overloaded: 0, timeouts: 0, workerExits: 0, starts: 0 };
  private readonly readyPromise: Promise<void>;
  private readyIndexes = new Set<number>();
  private settleReady!: (e?: Error) => void;

  constructor(opts: MysqlAnalysisPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(opts.size ?? Math.min(2, availableParallelism())));
    this.maxQueue = Math.max(0, opts.maxQueue ?? 1024);
    this.maxQueueBytes = opts.maxQueueBytes ?? 64 * 1024 * 1024;
    this.maxWaitMs = opts.maxWaitMs ?? 10_000;
    this.analyzeOptions = { ...opts.analyzeOptions };
    this.maxBytes = this.analyzeOptions.maxBytes ?? MYSQL_DEFAULTS.maxBytes;
    this.deadlineMs = opts.deadlineMs ?? (this.analyzeOptions.totalTimeoutMs ?? MYSQL_DEFAULTS.totalTimeoutMs) + 1000;
    this.inlineMaxChars = Math.max(0, opts.inlineMaxChars ?? 0);
    this.inlineBudgetMs = opts.inlineBudgetMs ?? 10;
    const budget = this.inlineBudgetMs;
    this.inlineOptions = {
      ...this.analyzeOptions,
      parseTimeoutMs: Math.min(budget, this.analyzeOptions.parseTimeoutMs ?? MYSQL_DEFAULTS.parseTimeoutMs),
      totalTimeoutMs: Math.min(budget, this.analyzeOptions.totalTimeoutMs ?? MYSQL_DEFAULTS.totalTimeoutMs),
    };
    this.workerData = { options: this.analyzeOptions, faultInjection: opts.faultInjection === true };
    this.resourceLimits = { maxOldGenerationSizeMb: opts.resourceLimits?.maxOldGenerationSizeMb ?? 1024 };
    if (opts.resourceLimits?.stackSizeMb !== undefined) this.resourceLimits.stackSizeMb = opts.resourceLimits.stackSizeMb;
    this.slots = new Array<Slot | undefined>(this.size).fill(undefined);
    this.startFailures = new Array<number>(this.size).fill(0);
    this.readyPromise = new Promise<void>((resolve, reject) => {
      let settled = false;
      this.settleReady = (e) => {
        if (settled) return;
        settled = true;
        if (e) reject(e);
        else resolve();
      };
    });
    // a caller that never awaits ready() must not see an unhandled rejection
    this.readyPromise.catch(() => undefined);
    for (let i = 0; i < this.size; i++) this.spawn(i);
  }

  /**
   * Resolves when every worker has loaded and warmed the grammar (and, with inline analysis on, the
   * caller's thread has too: that warm-up runs here, synchronously, ~1 s). Rejects when a worker
   * fails to start or the pool is closed. analyze() works before this; statements wait.
   */
  async ready(): Promise<void> {
    if (this.closed) throw new Error('MySQL analysis pool is closed');
    if (this.inlineMaxChars > 0) await initMysqlAnalyzer();
    return this.readyPromise;
  }

  stats(): MysqlAnalysisPoolStats {
    let ready = 0;
    let busy = 0;
    for (const s of this.slots) {
      if (s?.ready && !s.retired) ready++;
      if (s?.current) busy++;
    }
    return { size: this.size, ready, busy, queued: this.queue.length, queuedBytes: this.queuedBytes, ...this.counters, threads: this.threads, closed: this.closed };
  }

  /** Analyses one statement string (as analyzeMysql does). Never rejects: failures are `ok: false`. */
  analyze(sql: string): Promise<Analysis> {
    if (this.closed) return Promise.resolve(this.closedFailure());
    // non-text, NUL bytes, over the size limit: analyzeMysql answers before lexing, in O(length)
    if (typeof sql !== 'string' || sql.length > this.maxBytes || Buffer.byteLength(sql, 'utf8') > this.maxBytes || sql.includes('\0')) {
      return Promise.resolve(analyzeMysql(sql, this.analyzeOptions));
    }
    if (this.inlineMaxChars > 0 && sql.length <= this.inlineMaxChars) {
      const a = analyzeMysql(sql, this.inlineOptions);
      // over the inline budget (or anything else passing): the worker tries again with the full limits
      if (a.ok || (a.failure.kind !== 'too_complex' && a.failure.kind !== 'parser_failure')) {
        this.counters.inline++;
        return Promise.resolve(a);
      }
      this.counters.inlineFallbacks++;
    }
    return this.submit(sql, undefined);
  }

  /**
   * Tests only (needs `faultInjection: true`): the next free worker commits the fault instead of
   * analysing, and the returned analysis is the failure the pool answers for it.
   */
  injectFault(fault: MysqlWorkerFault): Promise<Analysis> {
    if (this.closed) return Promise.resolve(this.closedFailure());
    return this.submit('', fault);
  }

  /** Terminates the workers; waiting and in-flight statements, and every later call, answer `closed`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settleReady(new Error('MySQL analysis pool closed before it was ready'));
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const t of this.respawnTimers) clearTimeout(t);
    this.respawnTimers.clear();
    for (const p of this.queue.splice(0)) p.resolve(this.closedFailure());
    this.queuedBytes = 0;
    const exits: Promise<number>[] = [];
    for (const s of this.slots) {
      if (!s) continue;
      s.retired = true;
      s.ready = false;
      if (s.timer) clearTimeout(s.timer);
      const p = s.current;
      s.current = undefined;
      p?.resolve(this.closedFailure());
      exits.push(s.worker.terminate());
    }
    this.slots.fill(undefined);
    await Promise.allSettled(exits);
  }

  private closedFailure(): Analysis {
    return fail({ kind: 'parser_failure', message: 'MySQL analysis is shut down (the proxy is stopping)', cause: 'closed' });
  }

  private overloaded(message: string): Analysis {
    this.counters.overloaded++;
    return fail({ kind: 'parser_failure', message: `MySQL analysis is overloaded: ${message}`, cause: 'overloaded' });
  }

  private submit(sql: string, fault: MysqlWorkerFault | undefined): Promise<Analysis> {
    return new Promise<Analysis>((resolve) => {
      const p: Pending = { id: this.nextId++, sql, bytes: 2 * sql.length, enqueuedAt: performance.now(), resolve };
      if (fault) p.fault = fault;
      const idle = this.idleSlot();
      if (idle && this.queue.length === 0) {
        this.dispatch(idle, p);
        return;
      }
      if (this.queue.length >= this.maxQueue) {
        resolve(this.overloaded(`${this.queue.length} statements are already waiting for an analysis worker (limit ${this.maxQueue})`));
        return;
      }
      if (this.queue.length > 0 && this.queuedBytes + p.bytes > this.maxQueueBytes) {
        resolve(this.overloaded(`${this.queuedBytes} bytes of statement text are already waiting for an analysis worker (limit ${this.maxQueueBytes})`));
        return;
      }
      this.queue.push(p);
      this.queuedBytes += p.bytes;
      this.armSweep();
      this.pump();
    });
  }

  private idleSlot(): Slot | undefined {
    for (const s of this.slots) if (s && s.ready && !s.retired && !s.current) return s;
    return undefined;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const s = this.idleSlot();
      if (!s) return;
      const p = this.queue.shift()!;
      this.queuedBytes -= p.bytes;
      this.dispatch(s, p);
    }
    if (this.sweepTimer) {
      clearTimeout(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  private dispatch(s: Slot, p: Pending): void {
    s.current = p;
    s.worker.ref();
    s.timer = setTimeout(() => this.onDeadline(s), this.deadlineMs);
    const req: MysqlWorkerRequest = p.fault ? { id: p.id, fault: p.fault } : { id: p.id, sql: p.sql };
    try {
      s.worker.postMessage(req);
    } catch (e) {
      this.finish(s, fail({ kind: 'parser_failure', message: `could not send the statement to a MySQL analysis worker: ${(e as Error)?.message ?? String(e)}` }));
    }
  }

  private finish(s: Slot, analysis: Analysis): void {
    const p = s.current;
    if (!p) return;
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    s.current = undefined;
    if (!s.retired) s.worker.unref();
    p.resolve(analysis);
  }

  /** Expires statements that waited longer than maxWaitMs (FIFO: the oldest is at the head). */
  private armSweep(): void {
    if (this.sweepTimer || this.queue.length === 0 || this.closed) return;
    const wait = Math.max(0, this.queue[0]!.enqueuedAt + this.maxWaitMs - performance.now());
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      const now = performance.now();
      while (this.queue.length > 0 && now - this.queue[0]!.enqueuedAt >= this.maxWaitMs) {
        const p = this.queue.shift()!;
        this.queuedBytes -= p.bytes;
        p.resolve(this.overloaded(`no analysis worker was free within ${this.maxWaitMs} ms`));
      }
      this.armSweep();
    }, wait);
    // what a waiting statement waits for (a busy or starting worker, a restart timer) keeps the process up
    this.sweepTimer.unref();
  }

  private onDeadline(s: Slot): void {
    if (!s.current || s.retired) return;
    this.counters.timeouts++;
    s.retired = true;
    s.ready = false;
    this.finish(
      s,
      fail({ kind: 'too_complex', message: `MySQL analysis did not finish within ${this.deadlineMs} ms; the analysis worker was stopped`, cause: 'timeout' }),
    );
    void s.worker.terminate();
    this.spawn(s.index);
    this.pump();
  }

  private spawn(index: number): void {
    if (this.closed) return;
    const worker = new Worker(new URL('./mysql-analysis-worker.js', import.meta.url), {
      workerData: this.workerData,
      resourceLimits: this.resourceLimits,
    });
    const s: Slot = { index, worker, ready: false, everReady: false, retired: false, current: undefined, timer: undefined, error: undefined };
    this.slots[index] = s;
    this.counters.starts++;
    this.threads++;
    worker.on('message', (m: MysqlWorkerMessage) => this.onMessage(s, m));
    worker.on('error', (e: Error) => {
      s.error = e;
    });
    // a reply that cannot be deserialised here: the worker has at most one statement, answer it
    worker.on('messageerror', (e: Error) => {
      if (s.retired) return;
      this.finish(s, fail({ kind: 'parser_failure', message: `the MySQL analysis result could not be received: ${e.message}` }));
      this.pump();
    });
    worker.on('exit', (code: number) => {
      this.threads--;
      this.onExit(s, code);
    });
  }

  private onMessage(s: Slot, m: MysqlWorkerMessage): void {
    if (s.retired) return;
    if (m.type === 'ready') {
      s.ready = true;
      s.everReady = true;
      this.startFailures[s.index] = 0;
      if (!s.current) s.worker.unref();
      this.readyIndexes.add(s.index);
      if (this.readyIndexes.size === this.size) this.settleReady();
      this.pump();
      return;
    }
    if (s.current?.id !== m.id) return; // an answer to a statement already given up on
    this.counters.completed++;
    this.finish(s, m.analysis);
    this.pump();
  }

  private onExit(s: Slot, code: number): void {
    if (s.retired || this.closed) return;
    s.retired = true;
    s.ready = false;
    this.counters.workerExits++;
    const e = s.error as (Error & { code?: string }) | undefined;
    const why = e?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'it ran out of memory' : `exit code ${code}${e ? `: ${e.message}` : ''}`;
    this.finish(s, fail({ kind: 'parser_failure', message: `the MySQL analysis worker failed while analysing this statement (${why})`, cause: 'worker_exit' }));
    if (s.everReady) {
      this.spawn(s.index);
    } else {
      // it died while loading the grammar: tell ready(), retry with backoff (100 ms doubling to 5 s)
      this.settleReady(new Error(`a MySQL analysis worker failed to start: ${why}`));
      const n = this.startFailures[s.index]!++;
      const t = setTimeout(() => {
        this.respawnTimers.delete(t);
        this.spawn(s.index);
      }, Math.min(5000, 100 * 2 ** n));
      this.respawnTimers.add(t);
    }
    this.pump();
  }
}
