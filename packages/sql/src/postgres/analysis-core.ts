import type { AnalysisFailure, StatementFacts } from '../facts.js';
import { AnalysisError } from './facts-builder.js';
import { ParserCrash, ParserUnavailable, fingerprintRaw, normalizeRaw, parsePlpgsqlRaw, parseRaw, scanRaw, type PgParserPool } from './pg-wasm.js';
import { DEFAULT_LIMITS, PgAnalysisRun, type ParserAccess } from './statement-walker.js';

/** What one analysis produced, without the lazily computed parts (plain data: crosses thread boundaries). */
export type CoreResult = { ok: true; statements: StatementFacts[] } | { ok: false; failure: AnalysisFailure };

/** A derived text (fingerprint, normalized form), or undefined when the parser could not produce it. */
export type DerivedText = string | undefined;

export function crashFailure(e: unknown): AnalysisFailure {
  if (e instanceof ParserCrash) {
    return e.stackOverflow
      ? { kind: 'too_complex', message: 'the statement nests too deeply for the parser' }
      : { kind: 'parser_failure', message: `the parser failed (${e.message}); it has been restarted` };
  }
  if (e instanceof ParserUnavailable) return { kind: 'parser_failure', message: e.message };
  return { kind: 'parser_failure', message: e instanceof Error ? e.message : String(e) };
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new AnalysisError(crashFailure(e));
  }
}

export function parserAccess(pool: PgParserPool): ParserAccess {
  return {
    parse: (sql) => guarded(() => pool.run((m) => parseRaw(m, sql))),
    plpgsql: (sql) => guarded(() => pool.run((m) => parsePlpgsqlRaw(m, sql))),
    scan: (sql) => guarded(() => pool.run((m) => scanRaw(m, sql))),
  };
}

function isStackOverflow(e: unknown): boolean {
  return !!e && typeof e === 'object' && (e as Error).name === 'RangeError' && /call stack/i.test(String((e as Error).message));
}

/** Parses and analyses `sql` (already checked for NUL bytes and size). Never throws. */
export function analyzeCore(sql: string, access: ParserAccess, maxBytes: number): CoreResult {
  try {
    const run = new PgAnalysisRun(access, { ...DEFAULT_LIMITS, maxParsedBytes: Math.max(DEFAULT_LIMITS.maxParsedBytes, 4 * maxBytes) });
    const statements = run.analyzeText(sql, 0);
    if (statements.length === 0) return { ok: false, failure: { kind: 'empty' } };
    return { ok: true, statements };
  } catch (e) {
    if (e instanceof AnalysisError) return { ok: false, failure: e.failure };
    if (isStackOverflow(e)) return { ok: false, failure: { kind: 'too_complex', message: 'the statement nests too deeply to analyse' } };
    return { ok: false, failure: { kind: 'parser_failure', message: `analysis failed: ${e instanceof Error ? e.message : String(e)}` } };
  }
}

export function fingerprintCore(pool: PgParserPool, sql: string): DerivedText {
  try {
    const r = pool.run((m) => fingerprintRaw(m, sql));
    return r.ok ? r.text : undefined;
  } catch {
    return undefined;
  }
}

export function normalizeCore(pool: PgParserPool, sql: string): DerivedText {
  try {
    const r = pool.run((m) => normalizeRaw(m, sql));
    return r.ok ? r.text : undefined;
  } catch {
    return undefined;
  }
}
