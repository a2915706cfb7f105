export { analyzeMysql, initMysqlAnalyzer, MYSQL_DEFAULTS, type MysqlAnalyzeOptions } from './analyze.js';
export { lexMysql, unquoteMysql, type LexedStatement, type LexOptions, type LexResult, type MysqlToken, type TokenKind } from './lexer.js';
