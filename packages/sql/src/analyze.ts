import type { Analysis, Dialect } from './facts.js';
import { analyzeMysql, initMysqlAnalyzer } from './mysql/index.js';
import { analyzePostgres, initPostgresAnalyzer } from './postgres/index.js';

let ready: Promise<void> | null = null;

/** Loads both dialects' parsers once (WASM for Postgres, the generated grammar for MySQL). */
export function initAnalyzers(): Promise<void> {
  ready ??= Promise.all([initPostgresAnalyzer(), initMysqlAnalyzer()]).then(() => undefined);
  return ready;
}

/** Analyses a SQL string in a dialect. Synchronous, never throws: failures come back as `ok: false`. */
export function analyze(dialect: Dialect, sql: string): Analysis {
  return dialect === 'postgres' ? analyzePostgres(sql) : analyzeMysql(sql);
}
