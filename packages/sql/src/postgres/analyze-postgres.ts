import type { Analysis, AnalysisFailure, StatementFacts } from '../facts.js';
import { analyzeCore, fingerprintCore, normalizeCore, parserAccess, type CoreResult, type DerivedText } from './analysis-core.js';
import { IsolatedAnalyzer, IsolatedTimeout, type IsolatedStats } from './isolated-analyzer.js';
import { PgParserPool, type PgParserStats } from './pg-wasm.js';

export interface AnalyzePostgresOptions {
  /** statements longer than this many UTF-8 bytes are refused (`too_large`); default 1 MiB */
  maxBytes?: number;
}

export interface PostgresAnalyzerConfig {
  /** statements above this many bytes are analysed in the isolated worker (default 8 KiB); Infinity disables the worker */
  isolateAboveBytes?: number;
  /** the worker's time limit per statement, after which it is killed and the statement is `too_complex` (default 2000 ms) */
  isolatedTimeoutMs?: number;
}

export interface PostgresAnalyzerStats {
  /** the in-thread parser pool (statements up to isolateAboveBytes) */
  inThread: PgParserStats;
  /** the worker for large statements */
  isolated: IsolatedStats;
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_ISOLATE_ABOVE_BYTES = 8 * 1024;

/** Returned by the lazy `fingerprint` / `normalized` getters when the parser could not compute them. */
export const FINGERPRINT_UNAVAILABLE = '';

const pool = new PgParserPool();
const access = parserAccess(pool);
let isolated: IsolatedAnalyzer | undefined;
let isolateAboveBytes = DEFAULT_ISOLATE_ABOVE_BYTES;

/**
 * Loads and compiles the PostgreSQL parser (WASM) and starts the worker for large statements.
 * Idempotent. Until it has resolved, analyzePostgres fails closed (`parser_failure`).
 */
export async function initPostgresAnalyzer(config: PostgresAnalyzerConfig = {}): Promise<void> {
  isolateAboveBytes = config.isolateAboveBytes ?? isolateAboveBytes;
  if (config.isolatedTimeoutMs !== undefined && isolated && isolated.timeoutMs !== config.isolatedTimeoutMs) {
    await isolated.stop();
    isolated = undefined;
  }
  const starts: Promise<void>[] = [pool.init()];
  if (Number.isFinite(isolateAboveBytes)) {
    isolated ??= new IsolatedAnalyzer({ timeoutMs: config.isolatedTimeoutMs });
    // without a worker, large statements are analysed in-thread (still crash-safe, not time-capped)
    starts.push(isolated.start().catch(() => undefined));
  }
  await Promise.all(starts);
}

/** Stops the worker (for tests and shutdown); the in-thread parser keeps working. */
export async function stopPostgresAnalyzer(): Promise<void> {
  const w = isolated;
  isolated = undefined;
  if (w) await w.stop();
}

/** Health of the parsers, for /readyz and metrics. */
export function postgresAnalyzerStats(): PostgresAnalyzerStats {
  return { inThread: pool.stats(), isolated: isolated?.stats() ?? { ready: false, starts: 0, timeouts: 0, exits: 0 } };
}

function fail(failure: AnalysisFailure): Analysis {
  return { ok: false, dialect: 'postgres', failure };
}

function viaWorker(bytes: number): IsolatedAnalyzer | undefined {
  return bytes > isolateAboveBytes ? isolated : undefined;
}

function derived(op: 'fingerprint' | 'normalize', sql: string, bytes: number): DerivedText {
  const w = viaWorker(bytes);
  if (w) {
    try {
      const r = w.call(op, sql, bytes);
      if (r !== undefined) return typeof r === 'string' ? r : undefined;
    } catch {
      return undefined;
    }
  }
  return op === 'fingerprint' ? fingerprintCore(pool, sql) : normalizeCore(pool, sql);
}

/**
 * `fingerprint` and `normalized` cost about 60 µs together (two more passes of the parser) and most
 * policies never read them, so they are computed on first read and then memoised on the object.
 * They stay ordinary enumerable properties: spreading or JSON.stringify reads them (computing them
 * once). If the parser cannot compute one (it failed, or is restarting) the getter returns
 * FINGERPRINT_UNAVAILABLE (''), which equals no real fingerprint, and does not memoise, so a later
 * read retries.
 */
function lazyResult(sql: string, bytes: number, statements: StatementFacts[]): Analysis {
  const result = { ok: true as const, dialect: 'postgres' as const, statements } as Extract<Analysis, { ok: true }>;
  for (const [key, op] of [
    ['fingerprint', 'fingerprint'],
    ['normalized', 'normalize'],
  ] as const) {
    Object.defineProperty(result, key, {
      enumerable: true,
      configurable: true,
      get(): string {
        const v = derived(op, sql, bytes);
        if (v === undefined) return FINGERPRINT_UNAVAILABLE;
        Object.defineProperty(result, key, { value: v, enumerable: true, configurable: true, writable: false });
        return v;
      },
    });
  }
  return result;
}

/**
 * Analyses a Postgres SQL string (one or more statements). Synchronous and total: it never throws;
 * anything it cannot fully understand comes back as `{ ok: false, failure }`.
 */
export function analyzePostgres(sql: string, opts: AnalyzePostgresOptions = {}): Analysis {
  try {
    if (typeof sql !== 'string') return fail({ kind: 'parser_failure', message: 'the statement is not text' });
    if (sql.includes('\u0000')) return fail({ kind: 'nul_byte' });
    const limit = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes > limit) return fail({ kind: 'too_large', bytes, limit });
    let r: CoreResult | undefined;
    const w = viaWorker(bytes);
    if (w) {
      try {
        r = w.call('analyze', sql, limit) as CoreResult | undefined;
      } catch (e) {
        if (e instanceof IsolatedTimeout) return fail({ kind: 'too_complex', message: e.message });
        r = undefined;
      }
    }
    r ??= analyzeCore(sql, access, limit);
    return r.ok ? lazyResult(sql, bytes, r.statements) : fail(r.failure);
  } catch (e) {
    return fail({ kind: 'parser_failure', message: `analysis failed: ${e instanceof Error ? e.message : String(e)}` });
  }
}
