/**
 * Which errors of a masked session are cleaned of the values they echo.
 *
 * Postgres quotes values in error text: a data exception's message (`invalid input syntax for type
 * integer: "123-45-6789"`), an integrity violation's detail (`Key (email)=(…) already exists`,
 * `Failing row contains (…)`), what a function RAISEs, the context of an error inside a function. A
 * masked value can get there only from data the failing statement reads or writes, so the text is
 * cleaned when the statement could have carried one:
 *
 * - it reads or writes a relation with a masked column (by the catalog's columns; a view counts with
 *   everything its definition reads, WHERE included, followed through views of views; a partition or
 *   inheritance child with its ancestors' names; the planner statistics count as masked);
 * - the error names a masked column or a relation with one (its schema/table/column fields);
 * - the error arose inside function code (it has a context), or the statement calls a function that
 *   is not a built-in computing from its arguments alone (its body can read anything);
 * - or what the statement runs is not visible in its text: EXECUTE, FETCH, CALL, DO, COMMIT (deferred
 *   constraints), REFRESH, ... — and whenever the statement is not known, the catalog cannot answer or
 *   a relation is not visible to the catalog connection (fail closed).
 *
 * Anything else — a statement over unmasked tables only — keeps the server's text.
 */
import { isStatisticsRelation, type MaskSet } from '@sqlwarden/policy';
import { readsOnlyItsArguments, type Analysis, type ColumnRef, type LineageTable, type StatementFacts } from '@sqlwarden/sql';
import { relationNames, type Relation } from './catalog-cache.js';

/** What the error scope needs of the catalog (PgCatalog). */
export interface ErrorCatalog {
  peekByName(schema: string | undefined, table: string): Relation | null | undefined;
  loadNames(refs: readonly LineageTable[]): Promise<void>;
}

/**
 * Statement kinds whose errors can only come from what their facts show (tables, functions, nested
 * statements). Any other kind runs something its text does not show, or checks what earlier
 * statements wrote (COMMIT, SET CONSTRAINTS): its errors are cleaned.
 */
const TRANSPARENT = new Set<string>([
  'select',
  'insert',
  'update',
  'delete',
  'merge',
  'truncate',
  'copy',
  'set',
  'reset',
  'show',
  'prepare',
  'deallocate',
  'explain',
  'declare_cursor',
  'close_cursor',
  'listen',
  'notify',
  'lock',
  'comment',
  'discard',
  'create_table',
  'create_table_as',
  'create_view',
  'create_index',
  'alter_table',
  'drop_table',
  'drop_view',
  'drop_index',
]);

/** node types of otherwise transparent kinds that are not: SET CONSTRAINTS ... IMMEDIATE checks deferred constraints */
const OPAQUE_NODES = new Set(['ConstraintsSetStmt']);

/** views of views are followed this deep; deeper counts as masked */
const MAX_DEPTH = 8;
/** catalog round trips for one error (each follows one more level of views) */
const MAX_LOADS = MAX_DEPTH + 1;

interface Walk {
  masks: MaskSet;
  /** names the catalog has not resolved yet */
  missing: LineageTable[];
}

export class ErrorScope {
  /** each view's definition, analysed (null: it does not parse) */
  private readonly viewFacts = new WeakMap<Relation, readonly StatementFacts[] | null>();
  /** the error being offered again after its catalog load: what is still unknown is cleaned */
  private afterLoad = false;

  constructor(
    private readonly catalog: ErrorCatalog,
    private readonly analyzeSql: (sql: string) => Analysis,
  ) {}

  /**
   * true when the text of an error of these statements must be cleaned; a promise when the catalog
   * must be asked first (the caller pauses and offers the same error again when it settles).
   * `statements` undefined: the failing statement is not known.
   */
  mayCarryMasked(statements: readonly StatementFacts[] | undefined, fields: ReadonlyMap<string, string>, masks: MaskSet): boolean | Promise<void> {
    const retry = !this.afterLoad;
    this.afterLoad = false;
    const walk = (): Walk & { verdict: boolean } => {
      const w: Walk = { masks, missing: [] };
      return { ...w, verdict: this.decide(statements, fields, w) };
    };
    const first = walk();
    if (first.verdict || first.missing.length === 0) return first.verdict;
    if (!retry) return true; // asked already: still unknown → cleaned
    return this.load(first.missing, () => walk().missing).finally(() => {
      this.afterLoad = true;
    });
  }

  /** Loads names, then what the views among them lead to, until nothing is missing (bounded). */
  private async load(names: LineageTable[], again: () => LineageTable[]): Promise<void> {
    for (let i = 0; i < MAX_LOADS && names.length > 0; i++) {
      await this.catalog.loadNames(names);
      const next = again();
      // the catalog could not place these (it failed, or keeps failing): stop, they count as masked
      if (next.length === names.length && next.every((n, k) => n.schema === names[k]!.schema && n.table === names[k]!.table)) return;
      names = next;
    }
  }

  /** true: clean; false: keep, unless `w.missing` lists names still to look up. */
  private decide(statements: readonly StatementFacts[] | undefined, fields: ReadonlyMap<string, string>, w: Walk): boolean {
    // an error inside function code (a trigger, a function the statement calls, generated SQL)
    if (fields.get('W')) return true;
    if (statements === undefined) return true;
    const table = fields.get('t');
    if (table) {
      const schema = fields.get('s') || undefined;
      const column = fields.get('c');
      if (column && w.masks.ruleForOrigin({ columns: [{ schema, table, column }], wholeRow: [] })) return true;
      // 'Failing row contains (...)' shows every column of the table
      if (this.relationTouches(schema, table, w, 0)) return true;
    }
    return this.statementsTouch(statements, w, 0);
  }

  private statementsTouch(statements: readonly StatementFacts[], w: Walk, depth: number): boolean {
    for (const s of statements) {
      if (!TRANSPARENT.has(s.kind) || OPAQUE_NODES.has(s.nodeType)) return true;
      if (s.opaqueBodies.length > 0) return true;
      for (const f of s.functions) if (!readsOnlyItsArguments(f)) return true;
      for (const t of s.tablesRead) if (this.relationTouches(t.schema, t.name, w, depth)) return true;
      for (const t of s.tablesWritten) if (this.relationTouches(t.schema, t.name, w, depth)) return true;
      if (this.statementsTouch(s.nested, w, depth)) return true;
    }
    return false;
  }

  /** A relation with a masked column, or a view reading one; unknown names are noted in `w.missing`. */
  private relationTouches(schema: string | undefined, table: string, w: Walk, depth: number): boolean {
    if (depth > MAX_DEPTH) return true;
    const rel = this.catalog.peekByName(schema, table);
    if (rel === undefined) {
      w.missing.push({ schema, table });
      return false;
    }
    // not visible to the catalog connection: a temporary relation, or one created in an open transaction
    if (rel === null) return true;
    const columns: ColumnRef[] = [];
    // planner statistics carry sample values of any column
    if (rel.schema === 'pg_catalog' && isStatisticsRelation(rel.schema, rel.name)) return true;
    for (const column of rel.columns.values()) {
      // a partition or inheritance child: its ancestors' rules hold for its columns
      for (const r of relationNames(rel)) columns.push({ schema: r.schema, table: r.name, column });
      if (rel.schema !== schema || rel.name !== table) columns.push({ schema, table, column });
    }
    if (w.masks.ruleForOrigin({ columns, wholeRow: [] })) return true;
    if (!rel.viewDefinition) return false;
    const facts = this.definition(rel);
    return facts === null || this.statementsTouch(facts, w, depth + 1);
  }

  private definition(rel: Relation): readonly StatementFacts[] | null {
    let facts = this.viewFacts.get(rel);
    if (facts === undefined) {
      const a = rel.viewDefinition ? this.analyzeSql(rel.viewDefinition) : undefined;
      facts = a?.ok ? a.statements : null;
      this.viewFacts.set(rel, facts);
    }
    return facts;
  }
}
