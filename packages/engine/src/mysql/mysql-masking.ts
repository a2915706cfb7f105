/**
 * Result masking for one MySQL session whose principal has masks.
 *
 * Each resultset's column definitions are collected; after the last one the result is planned
 * (policy `planMysqlResult`, origins by its contract: org_table/org_name trusted only for base tables
 * the statement names, never for CTE/derived-table names, expressions unknown; a view's column
 * resolved through the view's analysed definition, see mysql-catalog.ts, else unknown). The
 * catalog (information_schema, see mysql-catalog.ts) is asked for what it has not cached, and the
 * upstream waits meanwhile, so rows never overtake their plan. Text rows (COM_QUERY) and binary rows
 * (COM_STMT_EXECUTE / FETCH) are rewritten field by field; a row with nothing to mask passes as its
 * own bytes. A cursor's plan is kept by statement id for its COM_STMT_FETCH rows.
 *
 * Other channels: ERR text of a statement that could carry a masked value (it reads or writes a
 * relation with a masked column, a view, something the catalog does not list, or runs code whose
 * text sqlwarden has not seen) has its quoted values removed; detectors run over every error text.
 * SHOW WARNINGS is a result like any other: its columns have no origin, so they are masked whenever
 * column rules apply (a warning echoes values: `Truncated incorrect INTEGER value: '...'`).
 */
import {
  ALL_DETECTORS,
  MaskSet,
  mysqlColumnCodec,
  mysqlColumnHint,
  planMysqlResult,
  redactSpans,
  rewriteMysqlBinaryRow,
  rewriteMysqlTextRow,
  type ColumnOrigin,
  type MysqlColumnDefinition,
  type MysqlOriginContext,
  type MysqlRelationKind,
  type ResultPlan,
  type ValueMasker,
} from '@sqlwarden/policy';
import type { StatementFacts } from '@sqlwarden/sql';
import { decodeColumnDefinition41, decodeErrPacket, encodeErrPacket } from '@sqlwarden/wire-mysql';
import type { MysqlCatalog, MysqlTableName } from './mysql-catalog.js';
import { predicateRefusal, predicateRelations, type PredicateCatalog, type PredicateRefusal } from './predicate-views.js';

export interface MysqlMaskingCounters {
  /** values rewritten, by rule id */
  masked(ruleId: string, n: number): void;
  /** columns masked because their origin was not known */
  uncertain(n: number): void;
}

/** How one resultset's rows are rewritten. */
export interface RowPlan {
  binary: boolean;
  columns: MysqlColumnDefinition[];
  maskers: (ValueMasker | null)[];
  rules: (string | null)[];
  any: boolean;
}

const REDACTED = '[redacted]';
const NO_MASKS = new MaskSet([]);

/**
 * Statement kinds whose errors can only come from the tables their facts show. Anything else (CALL,
 * EXECUTE, a statement with a routine body, ...) runs what its text does not show: its errors are cleaned.
 */
const TRANSPARENT = new Set<string>([
  'select',
  'insert',
  'update',
  'delete',
  'replace',
  'truncate',
  'set',
  'show',
  'explain',
  'use',
  'create_table',
  'create_view',
  'create_index',
  'alter_table',
  'drop_table',
  'drop_view',
  'drop_index',
]);

/**
 * SHOW statements whose rows are the catalog's and the server's own facts (names, definitions,
 * settings), never table data: their columns get the detectors only. Every other SHOW (WARNINGS and
 * ERRORS echo values; PROCESSLIST shows other sessions' statements; BINLOG EVENTS shows written rows)
 * is a result of unknown origin.
 */
const METADATA_SHOW =
  /^\s*SHOW\s+(?:FULL\s+|EXTENDED\s+|GLOBAL\s+|SESSION\s+|LOCAL\s+)*(?:TABLES|COLUMNS|FIELDS|DATABASES|SCHEMAS|CREATE\s+(?:TABLE|VIEW|DATABASE|SCHEMA|SEQUENCE)|INDEX|INDEXES|KEYS|TABLE\s+STATUS|VARIABLES|STATUS|ENGINES|CHARACTER\s+SET|CHARSET|COLLATION|PLUGINS|PRIVILEGES)\b/i;

const lower = (s: string): string => s.toLowerCase();

export class MysqlMasking {
  masks: MaskSet;
  /** definitions of the resultset being described */
  private columns: MysqlColumnDefinition[] = [];
  /** the plan rows are rewritten by now */
  current: RowPlan | null = null;
  /** cursors: the plan of a statement whose rows come by COM_STMT_FETCH */
  private readonly cursors = new Map<number, RowPlan>();
  /** names of temporary tables this session created (they shadow base tables of the same name) */
  private readonly temporary = new Set<string>();
  /** the session ran code sqlwarden has not seen (CALL, EXECUTE): it may have created temporary tables */
  private opaque = false;
  private readonly maskedSince = new Map<string, number>();

  constructor(
    masks: MaskSet,
    private readonly catalog: MysqlCatalog,
    private readonly counters: MysqlMaskingCounters,
    private readonly database: () => string,
  ) {
    this.masks = masks;
  }

  setMasks(masks: MaskSet | null): void {
    this.masks = masks ?? NO_MASKS;
    this.cursors.clear();
  }

  // ---- before a statement runs ----------------------------------------------------------------

  /** Every relation the statements name, schema resolved. */
  private names(statements: readonly StatementFacts[], out: MysqlTableName[] = [], depth = 0): MysqlTableName[] {
    const db = this.database();
    for (const s of statements) {
      for (const t of [...s.tablesRead, ...s.tablesWritten]) {
        const schema = t.schema ?? db;
        if (schema !== '') out.push({ schema, table: t.name });
      }
      if (depth < 8) this.names(s.nested, out, depth + 1);
    }
    return out;
  }

  /**
   * A statement is about to be sent: the session's own facts are updated, and the catalog is asked
   * for what the statement names and is not cached (a promise: send the statement when it settles).
   */
  beforeStatement(statements: readonly StatementFacts[] | undefined, sql: string): Promise<void> | null {
    if (!statements) return null;
    for (const s of statements) {
      if (s.kind === 'create_table' && /\btemporary\b/i.test(sql)) for (const t of s.tablesWritten) this.temporary.add(lower(t.name));
      if (s.kind === 'call' || s.kind === 'execute' || s.opaqueBodies.length > 0) this.opaque = true;
    }
    const names = this.names(statements);
    if (this.masks.predicateRules.length > 0) names.push(...predicateRelations(statements, this.database()));
    const missing = this.catalog.missing(names);
    return missing.length > 0 ? this.catalog.load(missing) : null;
  }

  /**
   * After {@link beforeStatement}'s catalog load, before the statement is sent: the refusal when its
   * predicates use a view column derived from a deny_in_predicates column, or a relation that cannot be
   * resolved (see predicate-views.ts). undefined: it may be sent.
   */
  predicateRefusal(statements: readonly StatementFacts[] | undefined): PredicateRefusal | undefined {
    if (!statements || this.masks.predicateRules.length === 0) return undefined;
    const catalog: PredicateCatalog = {
      relation: (schema, table) => this.catalog.peek(schema, table),
      viewColumn: (schema, view, column) => this.context().viewColumn!(schema, view, column),
      shadowed: (_schema, table) => {
        if (this.opaque) return 'may be shadowed by a temporary table: this session ran code sqlwarden has not seen (CALL, EXECUTE, a routine body)';
        if (this.temporary.has(lower(table))) return 'is (or is shadowed by) a temporary table this session created, which sqlwarden\'s catalog does not see';
        return undefined;
      },
    };
    return predicateRefusal(statements, this.masks, this.database(), catalog);
  }

  /** After a statement's OK: DDL changes what the catalog says. */
  afterStatements(statements: readonly StatementFacts[] | undefined): void {
    if (!statements) return;
    if (statements.some((s) => /^(create|alter|drop|rename)/.test(s.kind) || /^(create|alter|drop|rename)/i.test(s.nodeType))) this.catalog.invalidate();
  }

  // ---- results ------------------------------------------------------------------------------

  resultStart(): void {
    this.columns = [];
    this.current = null;
  }

  columnDefinition(payload: Buffer): void {
    const d = decodeColumnDefinition41(payload);
    this.columns.push({
      schema: d.schema,
      table: d.table,
      orgTable: d.orgTable,
      name: d.name,
      orgName: d.orgName,
      type: d.type,
      flags: d.flags,
      characterSet: d.characterSet,
      columnLength: d.columnLength,
      decimals: d.decimals,
    });
  }

  /**
   * The last column definition arrived. A promise when the catalog must be asked first (the caller
   * pauses the upstream and calls `plan` when it settles); otherwise the plan is made now.
   */
  columnsDone(statement: StatementFacts | undefined): Promise<void> | null {
    if (!statement) return null;
    const db = this.database();
    const missing: MysqlTableName[] = [];
    for (const c of this.columns) {
      if (c.orgTable === '') continue;
      const schema = c.schema !== '' ? c.schema : db;
      if (schema !== '') missing.push({ schema, table: c.orgTable });
    }
    return this.catalog.missing(missing).length > 0 ? this.catalog.load(missing) : null;
  }

  /** Plans the described resultset; `sql` is the statement's text when it is alone in its command. */
  plan(statement: StatementFacts | undefined, binary: boolean, sql: string | undefined): RowPlan {
    const columns = this.columns;
    let result: ResultPlan;
    if (statement?.kind === 'show' && sql !== undefined && METADATA_SHOW.test(sql)) result = planDetectorsOnly(this.masks, columns, binary);
    else result = planMysqlResult(this.masks, columns, binary ? 'binary' : 'text', statement, this.context());
    if (result.uncertain > 0) this.counters.uncertain(result.uncertain);
    const plan: RowPlan = {
      binary,
      columns,
      maskers: result.columns.map((c) => c?.mask ?? null),
      rules: result.columns.map((c) => c?.rule ?? null),
      any: result.any,
    };
    this.current = plan;
    return plan;
  }

  private context(): MysqlOriginContext {
    return {
      database: this.database(),
      relationKind: (schema: string, table: string): MysqlRelationKind | null | undefined => {
        if (this.opaque) return undefined;
        if (this.temporary.has(lower(table))) return undefined;
        const rel = this.catalog.peek(schema, table);
        if (rel === undefined) return undefined;
        return rel === null ? null : rel.kind;
      },
      viewColumn: (schema: string, view: string, column: string): ColumnOrigin | undefined => {
        if (this.opaque) return undefined;
        const origin = this.catalog.viewColumn(schema, view, column);
        if (!origin) return undefined;
        // a temporary table of this session shadowing a relation the view reads: not what was traced
        if (this.temporary.size > 0 && [...origin.columns, ...origin.wholeRow].some((t) => this.temporary.has(lower(t.table)))) return undefined;
        return origin;
      },
    };
  }

  /** The plan kept for a cursor opened by COM_STMT_EXECUTE. */
  keepCursor(statementId: number, plan: RowPlan): void {
    this.cursors.set(statementId, plan);
  }

  cursor(statementId: number): RowPlan | undefined {
    return this.cursors.get(statementId);
  }

  forgetCursor(statementId: number): void {
    this.cursors.delete(statementId);
  }

  /** The row's payload, masked by the plan; null when it could not be read (the caller ends the session). */
  rewriteRow(plan: RowPlan, payload: Buffer): Buffer | null {
    const out = plan.binary ? rewriteMysqlBinaryRow(payload, plan.columns, plan.maskers) : rewriteMysqlTextRow(payload, plan.columns.length, plan.maskers);
    if (out === null || out === payload) return out;
    // counted per column whose value changed (bulk, flushed at the end of the response)
    for (let i = 0; i < plan.rules.length; i++) {
      const r = plan.rules[i];
      if (r) this.maskedSince.set(r, (this.maskedSince.get(r) ?? 0) + 1);
    }
    return out;
  }

  flushCounts(): void {
    if (this.maskedSince.size === 0) return;
    for (const [rule, n] of this.maskedSince) this.counters.masked(rule, n);
    this.maskedSince.clear();
  }

  // ---- errors -------------------------------------------------------------------------------

  /**
   * An ERR packet's payload, cleaned: quoted values removed when the failing command could have
   * carried a masked value, detectors over the whole message. null when nothing changed.
   */
  cleanError(payload: Buffer, statements: readonly StatementFacts[] | undefined, capabilities: number): Buffer | null {
    let e;
    try {
      e = decodeErrPacket(payload);
    } catch {
      return null;
    }
    let message = e.message;
    if (this.masks.hasColumnRules && this.mayCarryMasked(statements)) message = redactQuoted(message);
    message = redactSpans(message, ALL_DETECTORS, REDACTED);
    if (message === e.message) return null;
    return encodeErrPacket({ errorCode: e.errorCode, sqlState: e.sqlState, message }, capabilities);
  }

  /** Could an error of these statements quote a masked value? Unknown → yes. */
  mayCarryMasked(statements: readonly StatementFacts[] | undefined, depth = 0): boolean {
    if (!statements || this.opaque) return true;
    const db = this.database();
    for (const s of statements) {
      if (!TRANSPARENT.has(s.kind) || s.opaqueBodies.length > 0) return true;
      // a stored function's body can read (and SIGNAL) anything
      if (s.functions.some((f) => f.includes('.'))) return true;
      for (const t of [...s.tablesRead, ...s.tablesWritten]) {
        const schema = t.schema ?? db;
        if (this.temporary.has(lower(t.name))) return true;
        const rel = schema === '' ? undefined : this.catalog.peek(schema, t.name);
        if (!rel || rel.kind === 'view') return true;
        const columns = rel.columns.map((column) => ({ schema: rel.schema, table: rel.name, column }));
        if (this.masks.ruleForOrigin({ columns, wholeRow: [] })) return true;
      }
      if (depth < 8 && this.mayCarryMasked(s.nested, depth + 1)) return true;
    }
    return false;
  }
}

/** Every column as if from no table (not unknown): column rules match nothing, detectors apply. */
function planDetectorsOnly(masks: MaskSet, columns: MysqlColumnDefinition[], binary: boolean): ResultPlan {
  return masks.plan(
    columns.map(() => ({ columns: [], wholeRow: [], direct: true })),
    columns.map((c) => mysqlColumnHint(c)),
    columns.map((c) => mysqlColumnCodec(c, binary ? 'binary' : 'text')),
  );
}

/** Every 'single-quoted' and "double-quoted" stretch of a message replaced. */
export function redactQuoted(s: string): string {
  return s.replace(/'(?:[^'\\]|\\.|'')*'/g, `'${REDACTED}'`).replace(/"(?:[^"\\]|\\.|"")*"/g, `"${REDACTED}"`);
}

/** The session must end: something would pass that cannot be masked. */
export class MaskingViolation extends Error {}
