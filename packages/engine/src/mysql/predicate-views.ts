/**
 * MySQL deny_in_predicates through views, before a statement is sent upstream.
 *
 * The policy refuses a statement that filters, joins, groups or orders on a masked column as the
 * statement names it (`MaskSet.refusal` / `predicateViolation`). A view's column names only the view:
 * `CREATE VIEW v AS SELECT ssn AS s FROM customers` makes `SELECT id FROM v WHERE s LIKE '1%'` a search
 * over ssn. So, once the catalog was asked about the relations the statement names (mysql-masking.ts
 * `beforeStatement`), every relation the statement's predicates use is looked up: a view's column is
 * followed through the view's analysed definition (views of views too, `MysqlCatalog.viewColumn`) to
 * the columns its value comes from, and the statement is refused when one of them (or the view column
 * itself) is a deny_in_predicates column.
 *
 * Only the agent's predicates count: a view's own WHERE was written by whoever created the view.
 * Whatever cannot be resolved is refused (fail closed), naming why: a relation the catalog could not
 * be asked about, one it does not list (a temporary table, one created in an open transaction, a name
 * that does not exist), a name this session may have shadowed (its own temporary tables, code it ran
 * that sqlwarden has not seen), a view column whose definition could not be traced, a predicate column
 * with no database to resolve it in.
 *
 * Pure over the catalog's answers ({@link PredicateCatalog}); nothing is asked here.
 */
import type { ColumnOrigin, MaskRule, MaskSet, MysqlRelationKind } from '@sqlwarden/policy';
import type { ColumnRef, StatementFacts } from '@sqlwarden/sql';
import type { MysqlTableName } from './mysql-catalog.js';

/** What the check needs to know of a relation and its view columns (MysqlCatalog, as the session sees it). */
export interface PredicateCatalog {
  /** The relation; null when the catalog does not list it; undefined when it is not known (not cached, lookup failed). */
  relation(schema: string, table: string): { kind: MysqlRelationKind; columns: readonly string[] } | null | undefined;
  /** A view column's origin (views of views followed); undefined (or null) when it cannot be traced. */
  viewColumn(schema: string, view: string, column: string): ColumnOrigin | undefined;
  /** Why this session's name may not mean what the catalog says (its own temporary table, code sqlwarden has not seen); undefined when it does. */
  shadowed?(schema: string, table: string): string | undefined;
}

export interface PredicateRefusal {
  ruleId: string;
  reason: string;
}

const lower = (s: string): string => s.toLowerCase();

function display(...parts: (string | undefined)[]): string {
  return parts.filter((x) => x !== undefined && x !== '').join('.');
}

/** Every column the statements (nested ones too) use to filter, join, group or order rows; a statement without traced predicates counts with all columns of every relation it names. */
export function predicateColumns(statements: readonly StatementFacts[], out: ColumnRef[] = [], depth = 0): ColumnRef[] {
  for (const s of statements) {
    if (s.predicateColumns) out.push(...s.predicateColumns);
    else for (const t of [...s.tablesRead, ...s.tablesWritten]) out.push({ schema: t.schema, table: t.name, column: '*' });
    if (depth < 8) predicateColumns(s.nested, out, depth + 1);
  }
  return out;
}

/** The relations the statements' predicates use, schemas resolved (what the catalog should know before {@link predicateRefusal}). */
export function predicateRelations(statements: readonly StatementFacts[], database: string): MysqlTableName[] {
  const out = new Map<string, MysqlTableName>();
  for (const c of predicateColumns(statements)) {
    const schema = c.schema ?? database;
    if (schema !== '') out.set(`${lower(schema)}\u0000${lower(c.table)}`, { schema, table: c.table });
  }
  return [...out.values()];
}

/**
 * The refusal for statements whose predicates use a view column derived from a deny_in_predicates
 * column, or a relation that cannot be resolved; undefined when the statements may run (or the masks
 * have no deny_in_predicates rule). Direct base-table columns are the policy's (`MaskSet.refusal`).
 */
export function predicateRefusal(statements: readonly StatementFacts[], masks: MaskSet, database: string, catalog: PredicateCatalog): PredicateRefusal | undefined {
  const rules = masks.predicateRules;
  if (rules.length === 0) return undefined;
  const failClosed = (why: string): PredicateRefusal => ({
    ruleId: rules[0]!.id,
    reason: `${why}, so sqlwarden cannot tell whether it filters, joins or orders rows by a masked column (refused)`,
  });

  // the columns each relation is used by in predicates ('*' = all of them)
  const used = new Map<string, { schema: string | undefined; table: string; columns: Set<string> }>();
  for (const c of predicateColumns(statements)) {
    const schema = c.schema ?? (database !== '' ? database : undefined);
    const k = `${lower(schema ?? '')}\u0000${lower(c.table)}`;
    let e = used.get(k);
    if (!e) {
      e = { schema, table: c.table, columns: new Set() };
      used.set(k, e);
    }
    e.columns.add(c.column);
  }

  let unresolved: string | undefined;
  for (const { schema, table, columns } of used.values()) {
    if (schema === undefined) {
      unresolved ??= `${table} is used in a predicate with no database selected`;
      continue;
    }
    const shadow = catalog.shadowed?.(schema, table);
    if (shadow !== undefined) {
      unresolved ??= `${display(schema, table)} ${shadow}`;
      continue;
    }
    const rel = catalog.relation(schema, table);
    if (rel === undefined) {
      unresolved ??= `the catalog could not be asked about ${display(schema, table)}`;
      continue;
    }
    if (rel === null) {
      unresolved ??= `${display(schema, table)} is not a table or view sqlwarden's catalog connection can see (a temporary table, one created in an open transaction, or no such relation)`;
      continue;
    }
    if (rel.kind !== 'view') continue;
    const names = columns.has('*') ? [...rel.columns] : [...columns];
    for (const column of names) {
      // an unqualified column matched to every relation in scope that might have it: not this view's
      if (!rel.columns.some((c) => lower(c) === lower(column))) continue;
      const origin = catalog.viewColumn(schema, table, column);
      const self: ColumnRef = { schema, table, column };
      if (!origin) {
        // a rule naming the view column itself still names its own rule
        const rule = masks.predicateRuleForOrigin({ columns: [self], wholeRow: [] });
        if (rule) return deny(rule, display(schema, table, column));
        unresolved ??= `the view column ${display(schema, table, column)} could not be traced to the columns it comes from`;
        continue;
      }
      const rule = masks.predicateRuleForOrigin({ columns: [self, ...origin.columns], wholeRow: origin.wholeRow });
      if (rule) return deny(rule, display(schema, table, column));
    }
  }
  return unresolved === undefined ? undefined : failClosed(unresolved);
}

function deny(rule: MaskRule, column: string): PredicateRefusal {
  return {
    ruleId: rule.id,
    reason: `${column} comes from a column masked by "${rule.id}" and may not be used to filter, join or order rows`,
  };
}
