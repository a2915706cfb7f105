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
  /** SET LOCAL / SET SESSION / set_config(..., is_local) */
  scope: 'session' | 'local';
  /** MySQL: SET GLOBAL / PERSIST / PERSIST_ONLY / @@global.x: server-wide, seen by other sessions */
  global?: boolean;
  /** MySQL: SET PERSIST / PERSIST_ONLY: survives a server restart */
  persist?: boolean;
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
  copy?: { direction: 'from' | 'to'; program: boolean; file: boolean; stdio: boolean };
  /** SELECT ... INTO OUTFILE/DUMPFILE (MySQL) and other statements that write server-side files */
  writesFile?: boolean;
  /** LOAD DATA INFILE without LOCAL (MySQL): reads a file on the database server */
  readsFile?: boolean;
  /** statements this one will run: data-modifying CTEs, EXPLAIN ANALYZE, PREPARE, CREATE RULE actions, function and DO bodies */
  nested: StatementFacts[];
  /** bodies that could not be analysed (e.g. a function in a language sqlwarden does not parse) */
  opaqueBodies: string[];
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

/** Why a statement string could not be analysed; each is denied by default with its own message. */
export type AnalysisFailure =
  | { kind: 'parse_error'; message: string; position?: number }
  | { kind: 'nul_byte' }
  | { kind: 'too_large'; bytes: number; limit: number }
  | { kind: 'too_complex'; message: string }
  | { kind: 'parser_failure'; message: string }
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
