import type { Analysis, Dialect } from '../facts.js';
import type { AnalysisCache } from './analysis-cache.js';

/** Analyses one string in a dialect without blocking; must resolve (never reject) to an Analysis. */
export type AsyncAnalyzer = (dialect: Dialect, sql: string) => Promise<Analysis>;

/**
 * An asynchronous front for an AnalysisCache, for engines whose analysis runs off the event loop
 * (MysqlAnalysisPool): a cached text is answered at once, without a round trip (`peek`, or `lookup`
 * which returns the analysis itself rather than a promise); concurrent misses on the same text share
 * one analysis; finished analyses go into the same cache the synchronous API uses (the Postgres
 * engine, the policy store), under the same rules (bounded by bytes, passing failures not kept).
 */
export class AsyncAnalysisCache {
  private readonly inFlight = new Map<string, Promise<Analysis>>();
  /** misses that joined an analysis already under way instead of starting one */
  deduped = 0;

  constructor(
    readonly cache: AnalysisCache,
    private readonly analyzer: AsyncAnalyzer,
  ) {}

  /** statements being analysed now (distinct texts) */
  get pending(): number {
    return this.inFlight.size;
  }

  /** The cached analysis, or undefined. Never analyses. */
  peek(dialect: Dialect, sql: string): Analysis | undefined {
    return this.cache.peek(dialect, sql);
  }

  /** The cached analysis itself when there is one, else a promise of it (shared with concurrent callers). */
  lookup(dialect: Dialect, sql: string): Analysis | Promise<Analysis> {
    return this.cache.peek(dialect, sql) ?? this.analyze(dialect, sql);
  }

  /** As lookup, always as a promise. Never rejects. */
  get(dialect: Dialect, sql: string): Promise<Analysis> {
    const hit = this.cache.peek(dialect, sql);
    return hit ? Promise.resolve(hit) : this.analyze(dialect, sql);
  }

  private analyze(dialect: Dialect, sql: string): Promise<Analysis> {
    const key = dialect === 'postgres' ? 'p' + sql : 'm' + sql;
    const running = this.inFlight.get(key);
    if (running) {
      this.deduped++;
      return running;
    }
    let p: Promise<Analysis>;
    try {
      p = this.analyzer(dialect, sql);
    } catch (e) {
      p = Promise.reject(e as Error);
    }
    const shared = p
      .catch((e: unknown): Analysis => ({
        ok: false,
        dialect,
        failure: { kind: 'parser_failure', message: `analysis failed: ${e instanceof Error ? e.message : String(e)}` },
      }))
      .then((analysis) => {
        this.inFlight.delete(key);
        this.cache.put(dialect, sql, analysis);
        return analysis;
      });
    this.inFlight.set(key, shared);
    return shared;
  }
}
