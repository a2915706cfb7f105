/**
 * What sqlwarden knows about one statement, in a vocabulary shared by both dialects.
 * Policies match on these facts, never on SQL text alone.
 */
export const STATEMENT_KINDS = [
  'select',
  'insert',
  'update',
  'delete',
  'merge',
  'truncate',
  'drop_table',
  'drop_index',
  'drop_view',
  'drop_schema',
  'drop_database',
  'drop_function',
  'drop_role',
  'drop_other',
  'alter_table',
  'alter_system',
  'alter_role',
  'alter_other',
  'create_table',
  'create_table_as',
  'create_index',
  'create_view',
  'create_function',
  'create_trigger',
  'create_rule',
  'create_schema',
  'create_database',
  'create_role',
  'create_extension',
  'create_other',
  'grant',
  'revoke',
  'copy',
  'call',
  'do',
  'set',
  'reset',
  'show',
  'transaction',
  'prepare',
  'execute',
  'deallocate',
  'explain',
  'declare_cursor',
  'fetch',
  'close_cursor',
  'listen',
  'notify',
  'lock',
  'vacuum',
  'analyze',
  'reindex',
  'cluster',
  'refresh_materialized_view',
  'comment',
  'discard',
  'load',
  'checkpoint',
  'use',
  'load_data',
  'handler',
  /** a Postgres fastpath FunctionCall message (no SQL; judged by kind only) */
  'function_call',
  'other',
] as const;

export type StatementKind = (typeof STATEMENT_KINDS)[number];

export type Dialect = 'postgres' | 'mysql';

/** A table as written, normalized by the dialect's identifier rules (unquoted folded, quoted kept). */
export interface TableRef {
  /** database (MySQL `db.t`) or catalog; rarely present */
  catalog?: string;
  /** schema (Postgres) or database (MySQL); absent when unqualified */
  schema?: string;
  name: string;
}

export interface SettingFact {
  name: string;
  /** the value as text; absent for RESET / SET ... TO DEFAULT */
  value?: string;
  /**
   * The value as a plain constant, when (and only when) it is one; policies match setting values on
   * this. MySQL: a string literal unquoted (adjacent literals joined; no charset introducer, no
   * X''/B''/N''), a decimal number, or a bare word (ON, OFF, utf8mb4, NULL, TRUE). Postgres: the
   * literal argument(s) of SET, joined with ", " as the server joins them (elements of search_path,
   * temp_tablespaces and the *_preload_libraries lists are double-quoted when not a plain lower-case
   * name, as the server stores them); set_config() only when both its name and its value are literals.
   * Absent for anything computed: expressions, variables (@@x, @x), function calls, subqueries,
   * concatenations, SET ... FROM CURRENT, and for resets (see `reset`).
   */
  constant?: string;
  /**
   * RESET x, RESET ALL, SET x TO DEFAULT, MySQL `SET x = DEFAULT` / `SET NAMES DEFAULT`: the setting
   * goes back to its default (Postgres: the session's starting value; MySQL: the global value).
   * A string that spells 'default' is a value, not a reset.
   */
  reset?: true;
  /** SET LOCAL / SET SESSION / set_config(..., is_local) */
  scope: 'session' | 'local';
  /** MySQL: SET GLOBAL / PERSIST / PERSIST_ONLY / @@global.x: server-wide, seen by other sessions */
  global?: boolean;
  /** MySQL: SET PERSIST / PERSIST_ONLY: survives a server restart */
  persist?: boolean;
}

/** A table or view as written in a query, with aliases, CTEs and subqueries resolved away (views are not expanded). */
export interface LineageTable {
  schema?: string;
  table: string;
}

/**
 * One column of a base table (or view) as written in the query. `column: '*'` (in `predicateColumns` only)
 * means every column of the table (a whole-row reference such as `WHERE t = ...`, or a NATURAL JOIN).
 */
export interface ColumnRef {
  schema?: string;
  table: string;
  column: string;
}

/**
 * Where one output column of a row-returning statement gets its data from (AST lineage, no catalog).
 * The proxy masks an output column when any of its sources or wholeRow tables is masked; when
 * `certain` is false and `ambiguous` is not set, the lineage is incomplete and the column is masked
 * whenever masking applies at all (fail closed).
 */
export interface OutputColumn {
  /** the column name the client will see ('*' for a star entry) */
  name: string;
  /** every base-table column the value is computed from (deduplicated, in first-seen order) */
  sources: ColumnRef[];
  /**
   * a bare column reference (possibly through aliases, CTEs and subqueries): the value IS a source's
   * value, unchanged. With several sources, each value is one of theirs: an ambiguous reference, or a
   * set operation whose branches are all bare column references (different columns, or constants)
   */
  direct: boolean;
  /** this entry is `*` or `t.*` over a table or view: it expands to all of that table's columns at runtime */
  star?: LineageTable;
  /**
   * this entry stands for an unknown number (zero or more) of output columns, each deriving from
   * `sources`/`wholeRow`: `*` over a function whose columns are unknown, or a set operation whose
   * branches expand `*`. Star entries expand too (to their table's columns).
   */
  expands?: boolean;
  /** whole-row references (`row_to_json(c)`, `c` as a value, `to_jsonb(c.*)`): derives from ALL columns of these tables */
  wholeRow?: LineageTable[];
  /** false when the lineage could not be determined fully (see `ambiguous` and `uncertain`) */
  certain: boolean;
  /**
   * certain is false only because a column reference could belong to several tables, or a value
   * could come from several places: sources/wholeRow list every candidate, so masking when any of
   * them is masked is enough
   */
  ambiguous?: boolean;
  /** why `certain` is false, for explain output and counting */
  uncertain?: string[];
}

/** What a COPY statement says about where its rows go and how they are written. */
export interface CopyFacts {
  direction: 'from' | 'to';
  program: boolean;
  file: boolean;
  stdio: boolean;
  /** `COPY t [(cols)]`: the table as written */
  relation?: TableRef;
  /** `COPY t (cols)`: the column list as written (absent: every column) */
  columns?: string[];
  /** `COPY (query)`: the query's own text (between the parentheses); absent when it could not be cut out */
  query?: string;
  /** Postgres: the options, from `WITH (...)` or the legacy syntax (`CSV HEADER`, `BINARY`, ...) */
  options?: CopyOptionFacts;
}

/** COPY options as written; absent = not given (the server's default applies). */
export interface CopyOptionFacts {
  /** `text`, `csv`, `binary`, or whatever else was written */
  format?: string;
  delimiter?: string;
  quote?: string;
  escape?: string;
  null?: string;
  /** HEADER: true, false, or `match` */
  header?: boolean | 'match';
  encoding?: string;
  /** FORCE_QUOTE: `*` or the columns */
  forceQuote?: '*' | string[];
  /** options whose value could not be read (not a constant of the expected kind), by name */
  unreadable?: string[];
}

export interface StatementFacts {
  kind: StatementKind;
  /** the parser's own node type, e.g. "DropStmt" (for explain output and rare matches) */
  nodeType: string;
  /** tables read anywhere in the statement (FROM, JOIN, subqueries, CTEs), CTE names excluded */
  tablesRead: TableRef[];
  /** tables inserted into, updated, deleted from, truncated, altered, dropped, created or copied into */
  tablesWritten: TableRef[];
  /** functions called anywhere, lower-cased, schema-qualified as written (e.g. "pg_catalog.pg_sleep") */
  functions: string[];
  /** UPDATE/DELETE (and MERGE) without a WHERE, or with a WHERE that is always true */
  unboundedWrite: boolean;
  hasWhere: boolean;
  hasLimit: boolean;
  hasReturning: boolean;
  /** SET / RESET / set_config() settings */
  settings: SettingFact[];
  /** COPY details */
  copy?: CopyFacts;
  /** SELECT ... INTO OUTFILE/DUMPFILE (MySQL) and other statements that write server-side files */
  writesFile?: boolean;
  /** LOAD DATA INFILE without LOCAL (MySQL): reads a file on the database server */
  readsFile?: boolean;
  /** statements this one will run: data-modifying CTEs, EXPLAIN ANALYZE, PREPARE, CREATE RULE actions, function and DO bodies */
  nested: StatementFacts[];
  /** bodies that could not be analysed (e.g. a function in a language sqlwarden does not parse) */
  opaqueBodies: string[];
  /**
   * Lineage of each output column, in output order, for statements that return rows: SELECT, VALUES,
   * TABLE, INSERT/UPDATE/DELETE/MERGE ... RETURNING, COPY (query | table) TO, and DECLARE CURSOR (the
   * rows its FETCHes will return). Absent for statements that return no rows, for EXPLAIN, and when
   * the lineage could not be traced (then every column without a table of origin is unknown: fail closed).
   */
  outputColumns?: OutputColumn[];
  /**
   * Every column referenced where it can filter or order rows (WHERE, JOIN ON/USING/NATURAL, GROUP BY,
   * HAVING, ORDER BY, DISTINCT ON, window PARTITION/ORDER, aggregate FILTER/ORDER, MERGE conditions,
   * ON CONFLICT WHERE), anywhere in the statement, subqueries, CTEs and nested statements included.
   * An ambiguous reference lists every candidate. Present on every statement the analyzer could trace
   * (empty when there are none); absent when it could not (fail closed).
   */
  predicateColumns?: ColumnRef[];
  /**
   * MySQL: every name the statement gives to a CTE, a derived table or a table function (JSON_TABLE),
   * anywhere in it, lower-cased. The server's column metadata reports such a name as a column's
   * org_table (and the base table's schema as its schema), exactly like a base table's, so a column
   * whose org_table is one of these is not known to be a base table column. Absent when the statement
   * was not traced (or a derived table has no name): then no org_table can be trusted.
   */
  derivedTableNames?: string[];
}

/** Facts for a statement of this kind that touches nothing yet; analyzers fill them in. */
export function emptyFacts(kind: StatementKind, nodeType: string): StatementFacts {
  return {
    kind,
    nodeType,
    tablesRead: [],
    tablesWritten: [],
    functions: [],
    unboundedWrite: false,
    hasWhere: false,
    hasLimit: false,
    hasReturning: false,
    settings: [],
    nested: [],
    opaqueBodies: [],
  };
}

/**
 * Set on failures that say nothing about the statement itself: the analysis service could not give an
 * answer in time (see MysqlAnalysisPool). Such failures are never cached; the same text may pass later.
 * - `overloaded`: the queue of statements waiting for an analysis worker was full, or one waited too long
 * - `timeout`: the worker took longer than the pool's deadline and was stopped (kind `too_complex`)
 * - `worker_exit`: the worker analysing it crashed or ran out of memory
 * - `closed`: the pool was closed (the proxy is shutting down)
 */
export type AnalysisFailureCause = 'overloaded' | 'timeout' | 'worker_exit' | 'closed';

/** Why a statement string could not be analysed; each is denied by default with its own message. */
export type AnalysisFailure =
  | { kind: 'parse_error'; message: string; position?: number }
  | { kind: 'nul_byte' }
  | { kind: 'too_large'; bytes: number; limit: number }
  | { kind: 'too_complex'; message: string; cause?: AnalysisFailureCause }
  | { kind: 'parser_failure'; message: string; cause?: AnalysisFailureCause }
  | { kind: 'empty' };

export type Analysis =
  | {
      ok: true;
      dialect: Dialect;
      /** one entry per statement in the string */
      statements: StatementFacts[];
      /** normalized text with literals replaced (libpg_query / dialect equivalent), for audit and fingerprint rules */
      normalized: string;
      /** stable fingerprint of the statement shape */
      fingerprint: string;
    }
  | { ok: false; dialect: Dialect; failure: AnalysisFailure };
