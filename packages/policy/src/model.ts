import type { Dialect, StatementKind } from '@sqlwarden/sql';
import type { Glob } from './glob.js';

export type RuleAction = 'allow' | 'deny' | 'review';

/** A table pattern split into its dotted parts: [schema, table] or [table]. */
export interface TablePattern {
  source: string;
  schema?: Glob;
  table: Glob;
}

/** One value pattern of a `settings` entry (a glob; `DEFAULT` alone stands for a reset). */
export interface ValuePattern {
  source: string;
  /** case-insensitive */
  glob: Glob;
  /** as written, for double-quoted list items (Postgres quoted identifiers keep their case) */
  exact: Glob;
  /** the pattern is the word DEFAULT: it matches a reset (RESET x, SET x TO DEFAULT), never a value */
  reset: boolean;
}

/**
 * One entry of `match.settings`: a setting-name glob, alone (any value) or with conditions on the
 * value's constant (see setting-patterns.ts for the semantics).
 */
export interface SettingPattern {
  names: Glob[];
  values?: ValuePattern[];
  exceptValues?: ValuePattern[];
  /** the value is a comma-separated list (sql_mode, search_path): its items are matched one by one */
  list: boolean;
}

/** Conditions on who is asking; every present condition must hold. */
export interface WhoMatch {
  agents?: Glob[];
  labels?: [string, Glob][];
  targets?: Glob[];
}

/** Conditions on what a statement does; every present condition must hold (lists are "any of"). */
export interface FactsMatch {
  dialect?: Dialect;
  kinds?: Glob[];
  tables?: TablePattern[];
  tablesRead?: TablePattern[];
  tablesWritten?: TablePattern[];
  schemas?: Glob[];
  functions?: Glob[];
  settings?: SettingPattern[];
  /** a setting changed for the whole server (MySQL SET GLOBAL / PERSIST, ALTER SYSTEM/ROLE/DATABASE ... SET) */
  globalSettings?: boolean;
  /** `where: unbounded` */
  unboundedWrite?: true;
  access?: 'read' | 'write';
  copy?: { program?: boolean; file?: boolean; direction?: 'from' | 'to' };
  opaque?: boolean;
  /** SELECT ... INTO OUTFILE/DUMPFILE and the like */
  writesFile?: boolean;
  /** MySQL LOAD DATA|XML INFILE of a file on the database server (LOCAL, a client file, is false) */
  readsFile?: boolean;
  limit?: 'present' | 'absent';
  returning?: boolean;
  /** fingerprints of the SQL patterns given (computed by the dialect's analyzer) */
  fingerprints?: { dialect: Dialect; fingerprint: string; source: string }[];
}

export interface Rule {
  id: string;
  description?: string;
  file: string;
  line: number;
  who: WhoMatch;
  match: FactsMatch;
  action: RuleAction;
  /** shown to the agent on deny/review */
  message?: string;
  /** review: how long a human has to answer */
  timeoutMs?: number;
  /** review: who may approve (names or globs); empty → any approver */
  approvers?: string[];
}

export type MaskFunction = 'redact' | 'partial' | 'email' | 'hash' | 'null';

export const DETECTORS = [
  'email',
  'credit_card',
  'us_ssn',
  'iban',
  'phone',
  'jwt',
  'aws_key',
  'gcp_key',
  'github_token',
  'slack_token',
  'stripe_key',
  'private_key',
  'url_password',
] as const;
export type Detector = (typeof DETECTORS)[number];

export interface MaskRule {
  id: string;
  description?: string;
  file: string;
  line: number;
  who: WhoMatch;
  /** schema.table.column patterns (or table.column, or column) */
  columns: string[];
  detectors: Detector[];
  function: MaskFunction;
  keepFirst?: number;
  keepLast?: number;
  replacement?: string;
  /** refuse statements that use a masked column in WHERE/JOIN/ORDER BY */
  denyInPredicates: boolean;
}

export interface PolicyDefaults {
  action: 'allow' | 'deny';
  onParseError: 'deny';
  reviewTimeoutMs: number;
  /** message for statements denied by the default */
  message: string;
}

/**
 * `mysql.local_infile`: a principal an entry matches may run LOAD DATA LOCAL INFILE (the client sends
 * one of its files, the one the statement names). Refused for everyone else.
 */
export interface LocalInfileGrant {
  file: string;
  line: number;
  who: WhoMatch;
  description?: string;
}

/** Every policy file of a directory, validated and merged. Immutable; replaced whole on reload. */
export interface PolicySet {
  version: number;
  loadedAt: Date;
  files: string[];
  defaults: PolicyDefaults;
  rules: Rule[];
  masks: MaskRule[];
  /** `mysql.local_infile` of every file; absent or empty: LOAD DATA LOCAL INFILE is refused to all */
  localInfile?: LocalInfileGrant[];
}

/** The statement kinds that only read. */
export const READ_ONLY_KINDS: ReadonlySet<StatementKind> = new Set<StatementKind>(['select', 'show', 'explain', 'declare_cursor', 'fetch', 'close_cursor']);
