/**
 * Planning the masking of a MySQL result set: where each column's data comes from (a
 * {@link ColumnOrigin} from the column definition, the statement's facts and what the engine knows of
 * the catalog) and the {@link ColumnCodec} that masks its values in the text or binary protocol.
 *
 * THE ORIGIN CONTRACT. A MySQL column definition names its source as schema / org_table / org_name,
 * but the server reports more than base tables there, so it is trusted only when all of these hold:
 * 1. org_table and org_name are set (an expression, a UNION column, a subquery in the select list,
 *    an aggregate: org_table is empty → unknown origin, masked whenever column rules apply);
 * 2. the statement's facts say which names it gives to CTEs, derived tables and JSON_TABLE
 *    (`StatementFacts.derivedTableNames`), and org_table is not one of them: the server reports
 *    `(SELECT secret AS name FROM u) AS t` as org_table `t`, org_name `name`, with t's schema — the
 *    same as the base table t's column name. Such a column is unknown;
 * 3. org_table is one of the tables the statement reads or writes (`tablesRead`/`tablesWritten`):
 *    MariaDB reports a view read through an alias under the alias (`FROM v AS vv` → org_table `vv`),
 *    and results of CALL come from statements sqlwarden has not seen. Otherwise unknown;
 * 4. the engine says what org_table is ({@link MysqlOriginContext.relationKind}, from
 *    information_schema.TABLES: `TABLE_TYPE` 'BASE TABLE' / 'SYSTEM VIEW' → base, 'VIEW' → view).
 *    A base table's column is a direct origin. A VIEW is reported under its own name (org_table =
 *    the view, org_name = the view's column), so its column is unknown unless the engine resolves it
 *    through the view's definition ({@link MysqlOriginContext.viewColumn}); the origin then lists the
 *    view's column and what the engine resolved. Not known to the engine → unknown.
 * Columns the definition cannot vouch for take their origin from the MySQL lineage
 * (`StatementFacts.outputColumns`, packages/sql/src/mysql/lineage.ts) when it has one plain entry
 * per column and the entry is certain or merely ambiguous, as for Postgres; otherwise unknown.
 * Nothing here does I/O: the engine loads the catalog facts before it plans (as the Postgres engine
 * loads its catalog cache) and answers from memory.
 */
import type { ColumnRef, LineageTable, OutputColumn, StatementFacts, TableRef } from '@sqlwarden/sql';
import type { ColumnCodec } from './column-codec.js';
import type { ValueMasker } from './mask-functions.js';
import { compileMysqlBinaryMask, mysqlLenencMasker } from './mysql-binary.js';
import { mysqlColumnHint, mysqlColumnKey, mysqlDetectable, type MysqlColumnType } from './mysql-column.js';
import { compileMysqlTextMask } from './mysql-text.js';
import type { ColumnOrigin, MaskSet, ResultPlan } from './planner.js';

/** MySQL's two row formats: text (COM_QUERY) and binary (COM_STMT_EXECUTE). */
export type MysqlProtocol = 'text' | 'binary';

/** The column definition fields masking reads (ColumnDefinition41), names as mysql2 spells them. */
export interface MysqlColumnDefinition extends MysqlColumnType {
  /** the schema of org_table ('' for expressions; the base table's for derived-table columns) */
  schema: string;
  /** the table alias as written ('' for expressions) */
  table: string;
  /** the table as the server resolved it: a base table, a view, or a CTE/derived-table name ('' for expressions) */
  orgTable: string;
  /** the column alias */
  name: string;
  /** the column's name in org_table ('' for expressions) */
  orgName: string;
}

export type MysqlRelationKind = 'base' | 'view';

/** What the engine knows of the catalog, answered from memory. */
export interface MysqlOriginContext {
  /** the session's current database, for tables the statement names without a schema */
  database?: string;
  /** base table or view; null when there is no such relation; undefined when not known (→ unknown origin) */
  relationKind?(schema: string, table: string): MysqlRelationKind | null | undefined;
  /**
   * the origin of a view's column, resolved through the view's definition (e.g. analysed from
   * information_schema.VIEWS.VIEW_DEFINITION, views of views followed); undefined when not resolved
   */
  viewColumn?(schema: string, view: string, column: string): ColumnOrigin | undefined;
}

const lower = (s: string): string => s.toLowerCase();

/** The statement's table that org_table names, if any (names compared without case). */
function statementTable(statement: StatementFacts, schema: string, orgTable: string): TableRef | undefined {
  const name = lower(orgTable);
  const db = lower(schema);
  const match = (t: TableRef): boolean => lower(t.name) === name && (t.schema === undefined || db === '' || lower(t.schema) === db);
  return statement.tablesRead.find(match) ?? statement.tablesWritten.find(match);
}

/**
 * One column's origin from its definition (see the origin contract above); `lineage` is the
 * statement's lineage entry aligned with this column, when there is one.
 */
export function mysqlColumnOrigin(col: MysqlColumnDefinition, statement: StatementFacts | undefined, ctx: MysqlOriginContext = {}, lineage?: OutputColumn): ColumnOrigin {
  const fromDefinition = definitionOrigin(col, statement, ctx);
  if (fromDefinition !== undefined) return fromDefinition;
  return lineage ? lineageOrigin(lineage, ctx) : null;
}

/** The origin the definition vouches for; undefined when it cannot (then lineage may tell). */
function definitionOrigin(col: MysqlColumnDefinition, statement: StatementFacts | undefined, ctx: MysqlOriginContext): ColumnOrigin | undefined {
  if (col.orgTable === '' || col.orgName === '' || !statement?.derivedTableNames) return undefined;
  if (statement.derivedTableNames.includes(lower(col.orgTable))) return undefined;
  const t = statementTable(statement, col.schema, col.orgTable);
  if (!t) return undefined;
  const schema = col.schema !== '' ? col.schema : (t.schema ?? ctx.database ?? '');
  if (schema === '') return undefined;
  const own: ColumnRef = { schema, table: col.orgTable, column: col.orgName };
  switch (ctx.relationKind?.(schema, col.orgTable)) {
    case 'base':
      return { columns: [own], wholeRow: [], direct: true };
    case 'view': {
      const sub = ctx.viewColumn?.(schema, col.orgTable, col.orgName);
      // an unresolved view column is unknown (null), not "ask the lineage": the view hides its sources
      if (!sub) return null;
      return { columns: [own, ...sub.columns], wholeRow: sub.wholeRow, direct: sub.direct === true };
    }
    default:
      return undefined;
  }
}

/** A lineage entry's origin, its views resolved by the engine; null when not certain enough. */
function lineageOrigin(oc: OutputColumn, ctx: MysqlOriginContext): ColumnOrigin {
  if ((!oc.certain && !oc.ambiguous) || oc.expands || oc.star) return null;
  const columns: ColumnRef[] = [];
  const wholeRow: LineageTable[] = [];
  let direct = oc.direct;
  for (const c of oc.sources) {
    const schema = c.schema ?? ctx.database;
    const kind = schema === undefined ? undefined : ctx.relationKind?.(schema, c.table);
    // written without a schema, the source matches rules of any schema; the resolved name is added
    if (kind === 'base') columns.push(c, ...(c.schema === undefined ? [{ schema, table: c.table, column: c.column }] : []));
    else if (kind === 'view') {
      const sub = ctx.viewColumn?.(schema!, c.table, c.column);
      if (!sub) return null;
      columns.push(c, ...sub.columns);
      wholeRow.push(...sub.wholeRow);
      if (sub.direct !== true) direct = false;
    } else return null;
  }
  for (const t of oc.wholeRow ?? []) {
    const schema = t.schema ?? ctx.database;
    if (schema === undefined || ctx.relationKind?.(schema, t.table) !== 'base') return null;
    wholeRow.push(t, { schema, table: t.table });
  }
  return { columns, wholeRow, direct: direct && wholeRow.length === 0 };
}

/**
 * The statement's lineage entries aligned with the result's columns: entry i for column i when the
 * lineage has exactly one plain entry per column; otherwise none (every column without a trusted
 * definition is then unknown).
 */
function alignMysqlLineage(columns: readonly MysqlColumnDefinition[], statement: StatementFacts | undefined): (OutputColumn | undefined)[] {
  const lineage = statement?.outputColumns;
  if (!lineage || lineage.length !== columns.length || lineage.some((oc) => oc.star || oc.expands)) return [];
  return lineage;
}

/** Every column's origin. */
export function mysqlOrigins(columns: readonly MysqlColumnDefinition[], statement: StatementFacts | undefined, ctx: MysqlOriginContext = {}): ColumnOrigin[] {
  const lineage = alignMysqlLineage(columns, statement);
  return columns.map((c, i) => mysqlColumnOrigin(c, statement, ctx, lineage[i]));
}

const sameBytes = (inner: ValueMasker): ValueMasker => inner;

/**
 * The codec of a MySQL column in a protocol, for `MaskSet.planColumn` / `plan` (in place of a
 * Postgres format code). Its maskers follow {@link compileMysqlTextMask} (text: the value without its
 * length prefix) and {@link compileMysqlBinaryMask} (binary: the whole encoded field); detectors scan
 * text columns in a text character set and JSON only ({@link mysqlDetectable}).
 */
export function mysqlColumnCodec(col: MysqlColumnType, protocol: MysqlProtocol): ColumnCodec {
  // a copy: the codec's maskers are cached by key, so what they see must not change afterwards
  const c: MysqlColumnType = { ...col };
  const detectable = mysqlDetectable(c);
  if (protocol === 'text') {
    return { key: `mysql-text:${mysqlColumnKey(c)}`, compile: (fn, opts) => compileMysqlTextMask(fn, c, opts), detect: detectable ? sameBytes : null };
  }
  return { key: `mysql-binary:${mysqlColumnKey(c)}`, compile: (fn, opts) => compileMysqlBinaryMask(fn, c, opts), detect: detectable ? mysqlLenencMasker : null };
}

/**
 * Plans a MySQL result set for a session's masks: origins by the contract above, a codec per column
 * in the result's protocol. The plan's maskers follow the protocol's masker contract; hand them to
 * `rewriteMysqlTextRow` / `rewriteMysqlBinaryRow` with the same columns.
 */
export function planMysqlResult(
  masks: MaskSet,
  columns: readonly MysqlColumnDefinition[],
  protocol: MysqlProtocol,
  statement: StatementFacts | undefined,
  ctx: MysqlOriginContext = {},
): ResultPlan {
  return masks.plan(
    mysqlOrigins(columns, statement, ctx),
    columns.map(mysqlColumnHint),
    columns.map((c) => mysqlColumnCodec(c, protocol)),
  );
}
