export { analyzeMysql, initMysqlAnalyzer, MYSQL_DEFAULTS, type MysqlAnalyzeOptions } from './analyze.js';
export { lexMysql, unquoteMysql, type LexedStatement, type LexOptions, type LexResult, type MysqlToken, type TokenKind } from './lexer.js';
export { evalSqlModeConcat } from './setting-value.js';
export { MysqlAnalysisPool, type MysqlAnalysisPoolOptions, type MysqlAnalysisPoolStats } from './analysis-pool.js';
export type { MysqlWorkerFault } from './mysql-analysis-worker.js';
