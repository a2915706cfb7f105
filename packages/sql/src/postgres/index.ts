export {
  analyzePostgres,
  initPostgresAnalyzer,
  stopPostgresAnalyzer,
  postgresAnalyzerStats,
  DEFAULT_MAX_BYTES,
  DEFAULT_ISOLATE_ABOVE_BYTES,
  FINGERPRINT_UNAVAILABLE,
  type AnalyzePostgresOptions,
  type PostgresAnalyzerConfig,
  type PostgresAnalyzerStats,
} from './analyze-postgres.js';
export type { PgParserStats } from './pg-wasm.js';
export type { IsolatedStats } from './isolated-analyzer.js';
export { readsOnlyItsArguments } from './function-purity.js';
