import type { Analysis, Dialect, StatementFacts } from '../facts.js';

/** Rough retained size of an analysis, for the byte budget. */
function factsBytes(f: StatementFacts): number {
  let n = 200 + f.functions.length * 48 + (f.tablesRead.length + f.tablesWritten.length) * 96 + f.settings.length * 80;
  for (const b of f.opaqueBodies) n += 2 * b.length;
  // lineage: every output column and predicate column carries names
  for (const c of f.outputColumns ?? []) n += 120 + c.sources.length * 96 + (c.wholeRow?.length ?? 0) * 64;
  n += (f.predicateColumns?.length ?? 0) * 96;
  for (const s of f.nested) n += factsBytes(s);
  return n;
}

export function analysisBytes(a: Analysis): number {
  if (!a.ok) return 200;
  let n = 100;
  for (const s of a.statements) n += factsBytes(s);
  return n;
}

function cacheKey(dialect: Dialect, sql: string): string {
  return dialect === 'postgres' ? 'p' + sql : 'm' + sql;
}

/**
 * Whether an analysis is a lasting property of its text. A parser restarting, a timeout or an
 * overloaded analysis pool is a passing condition: judge the text again next time.
 */
export function isCacheable(analysis: Analysis): boolean {
  return analysis.ok || (analysis.failure.kind !== 'parser_failure' && analysis.failure.kind !== 'too_complex');
}

/**
 * Analyses by exact statement text, least recently used evicted first, bounded by bytes.
 * The key is the full text and the dialect, and an analysis is a pure function of both,
 * so a cached answer can never differ from a fresh one.
 */
export class AnalysisCache {
  private readonly map = new Map<string, { analysis: Analysis; bytes: number }>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly analyze: (dialect: Dialect, sql: string) => Analysis,
    readonly maxBytes = 64 * 1024 * 1024,
    /** texts longer than this are analysed every time rather than cached */
    readonly maxEntryChars = 64 * 1024,
  ) {}

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.map.size;
  }

  get(dialect: Dialect, sql: string): Analysis {
    const hit = this.peek(dialect, sql);
    if (hit) return hit;
    const analysis = this.analyze(dialect, sql);
    this.put(dialect, sql, analysis);
    return analysis;
  }

  /**
   * The cached analysis of this text, or undefined (counted as a miss) when there is none. Never
   * analyses: the async front (AsyncAnalysisCache) answers hits through this without a round trip.
   */
  peek(dialect: Dialect, sql: string): Analysis | undefined {
    if (sql.length > this.maxEntryChars) {
      this.misses++;
      return undefined;
    }
    const key = cacheKey(dialect, sql);
    const hit = this.map.get(key);
    if (!hit) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // refresh recency: Maps iterate in insertion order
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.analysis;
  }

  /** Stores an analysis of this text (computed elsewhere), unless it is too long or not cacheable. */
  put(dialect: Dialect, sql: string, analysis: Analysis): void {
    if (sql.length > this.maxEntryChars || !isCacheable(analysis)) return;
    const key = cacheKey(dialect, sql);
    const old = this.map.get(key);
    if (old) {
      this.used -= old.bytes;
      this.map.delete(key);
    }
    const bytes = 2 * key.length + analysisBytes(analysis) + 64;
    this.map.set(key, { analysis, bytes });
    this.used += bytes;
    while (this.used > this.maxBytes && this.map.size > 0) {
      const oldest = this.map.keys().next().value as string;
      this.used -= this.map.get(oldest)?.bytes ?? 0;
      this.map.delete(oldest);
    }
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}
