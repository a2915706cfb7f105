/**
 * deny_in_predicates through views, at the decision point.
 *
 * The policy refuses a statement that filters, joins, sorts or groups on a masked column as the
 * statement names it (`MaskSet.refusal`). A view's column names only the view: `CREATE VIEW v AS
 * SELECT ssn AS s FROM customers` makes `SELECT id FROM v WHERE s LIKE '1%'` a search over ssn. So for
 * every relation a statement's predicates use, the catalog says whether it is a view; a view's
 * column is followed through the view's definition (views of views too) to the columns its value
 * comes from, and the statement is refused when one of them is a deny_in_predicates column.
 *
 * A partition or inheritance child counts with its ancestors' names (a rule on `customers.ssn` holds
 * for `customers_2024.ssn`), by the catalog's pg_inherits.
 *
 * Only the agent's predicates count: a view's own WHERE was written by whoever created the view.
 * Whatever cannot be resolved — a catalog that does not answer, a relation the catalog connection
 * cannot see (temporary, or created in the session's open transaction), a view whose definition does
 * not parse or whose column cannot be traced, a relation this session created or redefined itself —
 * is refused (fail closed), naming why.
 */
import type { MaskRule, MaskSet } from '@sqlwarden/policy';
import type { ColumnOrigin } from '@sqlwarden/policy';
import type { LineageTable, StatementFacts } from '@sqlwarden/sql';
import { relationNames, type Relation } from './catalog-cache.js';

/** What the predicate check needs of the catalog (PgCatalog). */
export interface PredicateCatalog {
  peekByName(schema: string | undefined, table: string): Relation | null | undefined;
}

/** View lineage (PgMasking): a view column's origin, and loading relations with the views they lead to. */
export interface ViewLineage {
  viewColumnOrigin(rel: Relation, column: string, depth: number): ColumnOrigin;
  load(oids: number[], names: LineageTable[]): Promise<void>;
}

/** What a check at the decision point that may need the catalog says of a statement. */
export type CatalogVerdict =
  | { kind: 'ok' }
  | { kind: 'deny'; ruleId: string; reason: string }
  /** ask the catalog first, then judge the statement again (with `mayLoad` false) */
  | { kind: 'load'; done: Promise<void> };

const OK: CatalogVerdict = Object.freeze({ kind: 'ok' });

/** Statements that define a relation as a query over other data (its name may now mean something the catalog connection cannot see). */
const DEFINING = new Set(['create_view', 'create_table_as', 'create_rule']);
/** Statements that give relations names the facts do not show. */
const RENAMING = new Set(['RenameStmt', 'AlterObjectSchemaStmt']);

function display(schema: string | undefined, table: string, column?: string): string {
  return [schema, table, column].filter((x) => x !== undefined).join('.');
}

export class PredicateViews {
  /** relation names (any schema) that this session's own DDL defined as views, rules or CREATE ... AS */
  private readonly defined = new Set<string>();
  /** this session renamed or moved a relation: any name may now stand for something else */
  private renamed = false;

  constructor(
    private readonly catalog: PredicateCatalog,
    private readonly views: ViewLineage,
  ) {}

  /**
   * Judges the predicates of statements the policy allowed. Call it for every allowed statement of a
   * masked session (it also notes the session's own DDL). `mayLoad` false: the catalog was just asked
   * for this statement, and what is still unknown is refused.
   */
  check(statements: readonly StatementFacts[], masks: MaskSet, mayLoad: boolean): CatalogVerdict {
    this.noteDdl(statements);
    const rules = masks.predicateRules;
    if (rules.length === 0) return OK;
    const failClosed = (why: string): CatalogVerdict => ({
      kind: 'deny',
      ruleId: rules[0]!.id,
      reason: `${why}, so sqlwarden cannot tell whether it filters, joins or orders rows by a masked column (refused)`,
    });

    // the columns each relation is used by in predicates ('*' = all of them)
    const used = new Map<string, { schema?: string; table: string; columns: Set<string> }>();
    const collect = (ss: readonly StatementFacts[]): void => {
      for (const s of ss) {
        const cols = s.predicateColumns ?? [...s.tablesRead, ...s.tablesWritten].map((t) => ({ schema: t.schema, table: t.name, column: '*' }));
        for (const c of cols) {
          const key = `${c.schema ?? ''}\u0000${c.table}`;
          let e = used.get(key);
          if (!e) {
            e = { schema: c.schema, table: c.table, columns: new Set() };
            used.set(key, e);
          }
          e.columns.add(c.column);
        }
        collect(s.nested);
      }
    };
    collect(statements);
    if (used.size === 0) return OK;

    const missing: LineageTable[] = [];
    const untraced: number[] = [];
    let unresolved: string | undefined;
    for (const { schema, table, columns } of used.values()) {
      if (this.renamed) return failClosed(`this session renamed or moved a relation, so ${display(schema, table)} may not be what the catalog says it is`);
      if (this.defined.has(table)) return failClosed(`${display(schema, table)} was created or redefined in this session, where sqlwarden's catalog does not see it as the session does (reconnect to use it in predicates)`);
      const rel = this.catalog.peekByName(schema, table);
      if (rel === undefined) {
        missing.push({ schema, table });
        continue;
      }
      if (rel === null) {
        unresolved ??= `${display(schema, table)} is not a relation sqlwarden's catalog connection can see (a temporary one, or one created in an open transaction)`;
        continue;
      }
      const names = columns.has('*') ? [...rel.columns.values()] : [...columns];
      if (rel.ancestors?.length) {
        // a partition or inheritance child: its columns are its ancestors' columns of the same name
        for (const column of names) {
          const rule = masks.predicateRuleForOrigin({ columns: relationNames(rel).map((r) => ({ schema: r.schema, table: r.name, column })), wholeRow: [] });
          if (rule) return deny(rule, display(schema, table, column));
        }
      }
      if (!rel.viewDefinition) continue;
      for (const column of names) {
        const origin = this.views.viewColumnOrigin(rel, column, 0);
        if (!origin) {
          untraced.push(rel.oid);
          unresolved ??= `the view column ${display(rel.schema, rel.name, column)} could not be traced to the columns it comes from`;
          continue;
        }
        const rule = masks.predicateRuleForOrigin({ columns: [{ schema: rel.schema, table: rel.name, column }, ...origin.columns], wholeRow: origin.wholeRow });
        if (rule) return deny(rule, display(schema, table, column));
      }
    }
    if (mayLoad && (missing.length > 0 || untraced.length > 0)) return { kind: 'load', done: this.views.load(untraced, missing) };
    if (missing.length > 0) return failClosed(`the catalog could not be asked about ${missing.map((t) => display(t.schema, t.table)).join(', ')}`);
    if (unresolved !== undefined) return failClosed(unresolved);
    return OK;
  }

  /** Relations the session's own DDL (allowed, about to run) defines or renames. */
  private noteDdl(statements: readonly StatementFacts[]): void {
    for (const s of statements) {
      if (RENAMING.has(s.nodeType)) this.renamed = true;
      if (DEFINING.has(s.kind)) for (const t of s.tablesWritten) this.defined.add(t.name);
      if (s.nested.length > 0) this.noteDdl(s.nested);
    }
  }
}

function deny(rule: MaskRule, column: string): CatalogVerdict {
  return {
    kind: 'deny',
    ruleId: rule.id,
    reason: `${column} comes from a column masked by "${rule.id}" and may not be used to filter, join or order rows`,
  };
}
