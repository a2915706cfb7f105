/* eslint-disable @typescript-eslint/no-explicit-any -- walks libpg_query's JSON parse tree */
/**
 * Column lineage over libpg_query's raw parse tree, without a catalog: for each output column of a
 * row-returning statement, the base-table columns it derives from (`outputColumns`), and every
 * column used to filter or order rows (`predicateColumns`). See README.md, "Column lineage".
 *
 * Without a catalog a table's column list is unknown, so an unqualified column is matched to every
 * table in scope that might have it (innermost query level first, outer levels too: a column the
 * inner tables lack is an outer reference), and the result is marked ambiguous when there is more
 * than one candidate. Columns of subqueries, CTEs, VALUES and functions with known column names are
 * known exactly and win over tables (the query would be ambiguous otherwise).
 */
import type { ColumnRef, LineageTable, OutputColumn } from '../facts.js';
import { colOf, colRef, combine, compact, dedupe, finish, isSpread, keyOf, knownNames, signature, starAsWhole, type Col as BaseCol, type Lin } from '../lineage-common.js';
import { BUILTIN_FUNCTIONS, FUNCTION_OUT_COLUMNS } from './builtin-functions.js';

/** Built-in functions whose result is read from tables (or queries) named by their arguments. */
export const READS_DATA: ReadonlySet<string> = new Set([
  'table_to_xml',
  'table_to_xmlschema',
  'table_to_xml_and_xmlschema',
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'schema_to_xml',
  'schema_to_xmlschema',
  'schema_to_xml_and_xmlschema',
  'database_to_xml',
  'database_to_xmlschema',
  'database_to_xml_and_xmlschema',
  'ts_stat',
]);

/** Built-in functions returning a record whose columns come from a column definition list or a type argument. */
const RECORD_FUNCTIONS = new Set([
  'json_populate_record',
  'jsonb_populate_record',
  'json_populate_recordset',
  'jsonb_populate_recordset',
  'json_to_record',
  'jsonb_to_record',
  'json_to_recordset',
  'jsonb_to_recordset',
  'populate_record',
  'record_in',
]);

/** Postgres refuses more output columns than this (MaxTupleAttributeNumber); beyond it lineage is not kept. */
const MAX_OUTPUT_COLUMNS = 1664;
/** More distinct predicate columns than this collapse to `table.*` entries. */
const MAX_PREDICATES = 1024;
/** JSON levels walked recursively (the statement walker already refused deeper trees) */
const MAX_DEPTH = 4000;

class LineageTooComplex extends Error {}


// ---------------------------------------------------------------------------------------------
// lineage values

interface Col extends BaseCol {
  /** alias names (`AS s(a, b)`) that fell on this spread entry's columns: which ones is unknown */
  renamed?: string[];
}

/**
 * Lineage values share their arrays freely and never change them, except accumulators made by
 * `lin()` / `incomplete()`, which own theirs once something is added (copy on first write: most
 * values stay empty, and the shared empty array is frozen so that a mistake throws, which
 * traceLineage turns into "lineage unknown").
 */
const NONE: never[] = Object.freeze([]) as unknown as never[];

function lin(): Lin {
  return { src: NONE, whole: NONE, direct: false, inc: false, amb: false, why: NONE };
}

function incomplete(why: string): Lin {
  return { src: NONE, whole: NONE, direct: false, inc: true, amb: false, why: [why] };
}

function append<T>(into: T[], from: readonly T[]): T[] {
  if (into === NONE) return from.slice();
  if (from.length < 4096) into.push(...from);
  else for (const v of from) into.push(v);
  return into;
}

/** Adds `b` into the accumulator `a` (which stops being direct). */
function merge(a: Lin, b: Lin): void {
  if (b.src.length) a.src = append(a.src, b.src);
  if (b.whole.length) a.whole = append(a.whole, b.whole);
  if (b.inc) a.inc = true;
  if (b.amb) a.amb = true;
  if (b.why.length) a.why = append(a.why, b.why);
  a.direct = false;
}

function addWhy(a: Lin, why: string): void {
  a.why = append(a.why, [why]);
}

function addWhole(a: Lin, t: LineageTable): void {
  a.whole = append(a.whole, [t]);
}

/** Adds an output column into an accumulator: a star entry contributes its whole table. */
function mergeCol(a: Lin, c: Col): void {
  merge(a, c);
  if (c.star) addWhole(a, c.star);
}

/** Several candidates for one reference: all listed, ambiguous when more than one. */
function candidates(list: Lin[], why: string): Lin {
  if (list.length === 1) return list[0];
  const r = lin();
  for (const c of list) merge(r, c);
  r.direct = list.every((c) => c.direct);
  if (list.length > 1) {
    r.amb = true;
    addWhy(r, why);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// scopes

/** Values written into a DML target, for RETURNING (and ON CONFLICT's `excluded`). */
interface Assign {
  byCol: Map<string, Lin>;
  /** values whose target column is unknown (INSERT without a column list) */
  any?: Lin;
}

/** One relation of a FROM list, by the name it is referenced with. */
interface Rel {
  name: string;
  /** schema as written, only when unaliased (for `s.t.col`) */
  schema?: string;
  table?: LineageTable;
  colAliases?: string[];
  /** known columns (subquery, CTE, VALUES, function with known names, aliased join) */
  cols?: Col[];
  /** unknown columns: every column derives from this */
  opaque?: Lin;
  assign?: Assign;
  /** reachable only qualified (RETURNING old/new, ON CONFLICT excluded) */
  qualifiedOnly?: boolean;
}

type Item = { rel: Rel; join?: undefined } | { rel?: undefined; join: JoinItem };

interface JoinItem {
  left: Item;
  right: Item;
  merged: Col[];
  /** NATURAL join whose merged columns are unknown */
  naturalUnknown: boolean;
  alias?: Rel;
}

interface CteScope {
  map: Map<string, { cols?: Col[] }>;
  parent?: CteScope;
}

interface Level {
  parent?: Level;
  ctes?: CteScope;
  rels: Rel[];
  items: Item[];
  /** USING / resolved NATURAL merged columns: what an unqualified name means first */
  merged: Col[];
  outputs?: Col[];
  windows?: Map<string, Lin>;
}

function level(parent: Level | undefined, ctes: CteScope | undefined): Level {
  return { parent, ctes, rels: [], items: [], merged: [] };
}

// ---------------------------------------------------------------------------------------------
// parse tree helpers

function unwrap(n: any): [string, any] {
  if (!n || typeof n !== 'object' || Array.isArray(n)) return ['', n];
  let key: string | undefined;
  for (const k in n) {
    if (key !== undefined) return ['', n];
    key = k;
  }
  return key !== undefined && isNodeName(key) ? [key, n[key]] : ['', n];
}

function isNodeName(k: string): boolean {
  const c = k.charCodeAt(0);
  return c >= 65 && c <= 90;
}

function strs(list: any[] | undefined): string[] {
  return (list ?? []).map((x) => String(unwrap(x)[1]?.sval ?? ''));
}

/** ColumnRef fields: names, with '*' for A_Star. */
function fieldsOf(x: any): string[] {
  return (x?.fields ?? []).map((f: any) => {
    const [t, v] = unwrap(f);
    return t === 'A_Star' ? '*' : String(v?.sval ?? '');
  });
}

const LEAVES = new Set(['String', 'Integer', 'Float', 'Boolean', 'BitString', 'A_Const', 'ParamRef', 'A_Star', 'TypeName', 'SQLValueFunction', 'CurrentOfExpr', 'SetToDefault', 'MergeSupportFunc']);

const SQL_VALUE_NAMES: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  SVFOP_CURRENT_ROLE: 'current_role',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_catalog',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

const XML_NAMES: Record<string, string> = {
  IS_XMLCONCAT: 'xmlconcat',
  IS_XMLELEMENT: 'xmlelement',
  IS_XMLFOREST: 'xmlforest',
  IS_XMLPARSE: 'xmlparse',
  IS_XMLPI: 'xmlpi',
  IS_XMLROOT: 'xmlroot',
  IS_XMLSERIALIZE: 'xmlserialize',
};

const JSON_FUNC_NAMES: Record<string, string> = { JSON_EXISTS_OP: 'json_exists', JSON_QUERY_OP: 'json_query', JSON_VALUE_OP: 'json_value' };

/**
 * The column name Postgres gives an unnamed target (FigureColname in parse_target.c): strength 2 for
 * a real name, 1 for a fallback that a cast's type name overrides, 0 for none.
 */
function figure(node: any): [string, number] {
  const [t, x] = unwrap(node);
  switch (t) {
    case 'ColumnRef': {
      const f = fieldsOf(x).filter((s) => s !== '*');
      return f.length ? [f[f.length - 1], 2] : ['?column?', 0];
    }
    case 'A_Indirection': {
      const ind: any[] = x.indirection ?? [];
      for (let i = ind.length - 1; i >= 0; i--) {
        const [it, iv] = unwrap(ind[i]);
        if (it === 'String') return [iv.sval, 2];
      }
      return figure(x.arg);
    }
    case 'FuncCall': {
      const n = strs(x.funcname);
      return [n[n.length - 1] ?? '?column?', 2];
    }
    case 'A_Expr':
      return x.kind === 'AEXPR_NULLIF' ? ['nullif', 2] : ['?column?', 0];
    case 'TypeCast': {
      const [n, s] = figure(x.arg);
      if (s <= 1) {
        const tn = strs(x.typeName?.names);
        if (tn.length) return [tn[tn.length - 1], 1];
      }
      return [n, s];
    }
    case 'CollateClause':
      return figure(x.arg);
    case 'GroupingFunc':
      return ['grouping', 2];
    case 'MergeSupportFunc':
      return ['merge_action', 2];
    case 'SubLink':
      switch (x.subLinkType) {
        case 'EXISTS_SUBLINK':
          return ['exists', 2];
        case 'ARRAY_SUBLINK':
          return ['array', 2];
        case 'EXPR_SUBLINK': {
          const [st, sx] = unwrap(x.subselect);
          const first = st === 'SelectStmt' ? (sx.targetList?.[0] ?? firstTarget(sx)) : undefined;
          const [, rt] = unwrap(first);
          if (rt?.name) return [rt.name, 2];
          if (rt?.val) return [figure(rt.val)[0], 2];
          return ['?column?', 2];
        }
        default:
          return ['?column?', 0];
      }
    case 'CaseExpr':
      return ['case', 1];
    case 'A_ArrayExpr':
      return ['array', 2];
    case 'RowExpr':
      return ['row', 2];
    case 'CoalesceExpr':
      return ['coalesce', 2];
    case 'MinMaxExpr':
      return [x.op === 'IS_LEAST' ? 'least' : 'greatest', 2];
    case 'SQLValueFunction':
      return [SQL_VALUE_NAMES[x.op] ?? '?column?', 2];
    case 'XmlExpr':
      return XML_NAMES[x.op] ? [XML_NAMES[x.op], 2] : ['?column?', 0];
    case 'XmlSerialize':
      return ['xmlserialize', 2];
    case 'JsonParseExpr':
      return ['json', 2];
    case 'JsonScalarExpr':
      return ['json_scalar', 2];
    case 'JsonSerializeExpr':
      return ['json_serialize', 2];
    case 'JsonObjectConstructor':
      return ['json_object', 2];
    case 'JsonArrayConstructor':
    case 'JsonArrayQueryConstructor':
      return ['json_array', 2];
    case 'JsonObjectAgg':
      return ['json_objectagg', 2];
    case 'JsonArrayAgg':
      return ['json_arrayagg', 2];
    case 'JsonFuncExpr':
      return JSON_FUNC_NAMES[x.op] ? [JSON_FUNC_NAMES[x.op], 2] : ['?column?', 0];
    default:
      return ['?column?', 0];
  }
}

/** The first target of a (possibly set-operation) SELECT body. */
function firstTarget(x: any): any {
  for (let s = x, i = 0; s && i < 10_000; s = s.larg, i++) if (s.targetList?.length) return s.targetList[0];
  return undefined;
}

function tableOf(rv: any): LineageTable {
  const t: LineageTable = { table: rv.relname };
  if (rv.schemaname !== undefined) t.schema = rv.schemaname;
  return t;
}

function rename(cols: Col[], names: string[] | undefined): Col[] {
  if (!names || names.length === 0) return cols;
  const out = cols.slice();
  for (let i = 0; i < names.length && i < out.length; i++) {
    if (isSpread(out[i])) {
      // the remaining names rename columns of this `*`: which ones needs the catalog
      out[i] = { ...out[i], renamed: [...(out[i].renamed ?? []), ...names.slice(i)] };
      break;
    }
    out[i] = { ...out[i], name: names[i] };
  }
  return out;
}

/** A name given by an alias list to some column of a spread entry: any of its columns, incomplete. */
function renamedColumn(c: Col, x: string): Lin {
  const l = lin();
  mergeCol(l, c);
  l.inc = true;
  addWhy(l, `"${x}" renames a column of ${c.star ? c.star.table + '.*' : '*'} that is unknown without the catalog`);
  return l;
}

// ---------------------------------------------------------------------------------------------

export interface Lineage {
  outputColumns?: OutputColumn[];
  predicateColumns: ColumnRef[];
}

/**
 * Statement node types not searched for queries: the walker analyses their subtrees as nested
 * statements (whose predicates arrive through `absorb`), or Postgres allows no subquery in them.
 */
const NO_QUERY_SCAN = new Set([
  'ExplainStmt', 'PrepareStmt', 'RuleStmt', 'CreateFunctionStmt', 'DoStmt', 'CreateSchemaStmt',
  'CreateStmt', 'AlterTableStmt', 'IndexStmt', 'DropStmt', 'TruncateStmt', 'VariableSetStmt', 'VariableShowStmt',
  'TransactionStmt', 'GrantStmt', 'GrantRoleStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'DropRoleStmt', 'CommentStmt',
  'VacuumStmt', 'LockStmt', 'CreateSeqStmt', 'AlterSeqStmt', 'CreateExtensionStmt', 'ListenStmt', 'UnlistenStmt',
  'NotifyStmt', 'DeallocateStmt', 'DiscardStmt', 'FetchStmt', 'ClosePortalStmt', 'CheckPointStmt', 'ReindexStmt',
  'ClusterStmt', 'RefreshMatViewStmt', 'RenameStmt', 'AlterOwnerStmt', 'CreatedbStmt', 'DropdbStmt', 'CreateEnumStmt',
  'CompositeTypeStmt', 'CreateTrigStmt', 'CreateEventTrigStmt', 'AlterSystemStmt', 'CopyStmt', 'LoadStmt',
]);

/**
 * Lineage of one statement node: output columns (when it returns rows) and predicate columns.
 * Undefined when the statement is too complex to trace (the caller leaves both fields absent: fail closed).
 */
export function traceLineage(type: string, x: any): Lineage | undefined {
  try {
    const t = new Tracer();
    const outputs = t.statement(type, x ?? {});
    const r: Lineage = { predicateColumns: t.predicates() };
    // more output columns than Postgres allows: the statement fails anyway, lineage left unknown
    if (outputs && outputs.length <= MAX_OUTPUT_COLUMNS) r.outputColumns = outputs.map(finish);
    return r;
  } catch {
    // too deep (LineageTooComplex, a stack overflow) or a tree shape not foreseen: lineage unknown,
    // never an analysis failure
    return undefined;
  }
}

class Tracer {
  private preds: Map<string, ColumnRef> | undefined;

  predicates(): ColumnRef[] {
    if (!this.preds) return [];
    const all = [...this.preds.values()];
    if (all.length <= MAX_PREDICATES) return all;
    return dedupe(all.map((c) => ({ ...c, column: '*' })));
  }

  private addPred(l: Lin): void {
    if (!l.src.length && !l.whole.length) return;
    this.preds ??= new Map();
    for (const s of l.src) {
      const k = keyOf(s);
      if (!this.preds.has(k)) this.preds.set(k, s);
    }
    for (const w of l.whole) {
      const c = colRef(w, '*');
      const k = keyOf(c);
      if (!this.preds.has(k)) this.preds.set(k, c);
    }
  }

  private pred(node: any, L: Level, d: number): void {
    if (node === undefined || node === null) return;
    this.addPred(this.expr(node, L, d));
  }

  /** Output columns when the statement returns rows; predicates are collected as a side effect. */
  statement(type: string, x: any): Col[] | undefined {
    switch (type) {
      case 'SelectStmt': {
        const cols = this.select(x, undefined, undefined, 0);
        return x.intoClause ? undefined : cols;
      }
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt': {
        const r = x.returningClause ?? (x.returningList ? { exprs: x.returningList } : undefined);
        const cols = this.dml(type, x, undefined, undefined, 0);
        return r && (r.exprs?.length ?? 0) > 0 ? cols : undefined;
      }
      case 'CopyStmt':
        return this.copy(x);
      case 'DeclareCursorStmt':
        return x.query ? this.query(x.query, undefined, undefined, 0) : undefined;
      case 'CreateTableAsStmt':
        if (x.query) this.query(x.query, undefined, undefined, 0);
        return undefined;
      default:
        if (!NO_QUERY_SCAN.has(type)) this.scanQueries(x, 0);
        return undefined;
    }
  }

  /** Queries found anywhere in another statement (CALL arguments, view bodies, ...): their predicates. */
  private scanQueries(v: any, d: number): void {
    if (v === null || typeof v !== 'object') return;
    if (d > MAX_DEPTH) throw new LineageTooComplex();
    if (Array.isArray(v)) {
      for (const e of v) this.scanQueries(e, d + 1);
      return;
    }
    const [t, x] = unwrap(v);
    if (t === 'SelectStmt' || t === 'InsertStmt' || t === 'UpdateStmt' || t === 'DeleteStmt' || t === 'MergeStmt') {
      this.query(v, undefined, undefined, d + 1);
      return;
    }
    const o = t ? x : v;
    if (!o || typeof o !== 'object') return;
    for (const k of Object.keys(o)) {
      const c = o[k];
      if (c !== null && typeof c === 'object') this.scanQueries(c, d + 1);
    }
  }

  private copy(x: any): Col[] | undefined {
    if (x.is_from === true) return undefined;
    if (x.query) return this.query(x.query, undefined, undefined, 0);
    if (!x.relation) return undefined;
    const t = tableOf(x.relation);
    const att = strs(x.attlist);
    if (att.length) return att.map((a) => ({ src: [colRef(t, a)], whole: NONE, direct: true, inc: false, amb: false, why: NONE, name: a }));
    return [{ src: NONE, whole: NONE, direct: true, inc: false, amb: false, why: NONE, name: '*', star: t }];
  }

  /** Any statement that can feed rows: SELECT (wrapped or a bare set-operation branch) or DML with RETURNING. */
  private query(node: any, outer: Level | undefined, ctes: CteScope | undefined, d: number): Col[] {
    if (d > MAX_DEPTH) throw new LineageTooComplex();
    const [t, x] = unwrap(node);
    switch (t) {
      case 'SelectStmt':
        return this.select(x, outer, ctes, d + 1);
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        return this.dml(t, x, outer, ctes, d + 1);
      case '':
        if (x && typeof x === 'object' && ('targetList' in x || 'op' in x || 'valuesLists' in x)) return this.select(x, outer, ctes, d + 1);
        return [{ ...incomplete('a query that could not be followed'), name: '*', expands: true }];
      default:
        return [{ ...incomplete(`a ${t} that could not be followed`), name: '*', expands: true }];
    }
  }

  // ------------------------------------------------------------------ WITH

  private withClause(w: any, outer: Level | undefined, ctes: CteScope | undefined, d: number): CteScope | undefined {
    if (!w) return ctes;
    const list: any[] = (w.ctes ?? []).map((c: any) => unwrap(c)[1]).filter(Boolean);
    const scope: CteScope = { map: new Map(), parent: ctes };
    if (!w.recursive) {
      for (const c of list) {
        const cols = rename(this.query(c.ctequery, outer, scope, d + 1), strs(c.aliascolnames));
        scope.map.set(c.ctename, { cols });
      }
      return scope;
    }
    for (const c of list) scope.map.set(c.ctename, {});
    for (const c of list) {
      const entry = scope.map.get(c.ctename)!;
      const names = strs(c.aliascolnames);
      const [qt, q] = unwrap(c.ctequery);
      if (qt === 'SelectStmt' && q.op === 'SETOP_UNION' && q.larg) {
        // the non-recursive term first, then the whole query until the lineage stops growing
        entry.cols = rename(this.select(q.larg, outer, scope, d + 1), names).map(compact);
        let stable = false;
        for (let i = 0; i < 6 && !stable; i++) {
          const next = rename(this.select(q, outer, scope, d + 1), names).map(compact);
          stable = signature(next) === signature(entry.cols);
          entry.cols = next;
        }
        if (!stable) entry.cols = entry.cols.map((col) => ({ ...col, inc: true, why: [...col.why, `recursive CTE ${c.ctename} could not be followed`] }));
      } else {
        entry.cols = rename(this.query(c.ctequery, outer, scope, d + 1), names);
      }
    }
    return scope;
  }

  private cte(ctes: CteScope | undefined, name: string): { cols?: Col[] } | undefined {
    for (let s = ctes; s; s = s.parent) {
      const e = s.map.get(name);
      if (e) return e;
    }
    return undefined;
  }

  // ------------------------------------------------------------------ SELECT

  private select(x: any, outer: Level | undefined, ctes0: CteScope | undefined, d: number): Col[] {
    if (d > MAX_DEPTH) throw new LineageTooComplex();
    const ctes = this.withClause(x.withClause, outer, ctes0, d);
    let cols: Col[];
    let L: Level;
    if (x.op && x.op !== 'SETOP_NONE') {
      const l = this.select(x.larg ?? {}, outer, ctes, d + 1);
      const r = this.select(x.rarg ?? {}, outer, ctes, d + 1);
      if (x.op === 'SETOP_INTERSECT' || x.op === 'SETOP_EXCEPT') for (const c of [...l, ...r]) this.addPred(starAsWhole(c));
      cols = combine([l, r]);
      L = level(outer, ctes);
      L.rels.push({ name: '', cols });
    } else if (x.valuesLists) {
      L = level(outer, ctes);
      const rows: Col[][] = (x.valuesLists as any[]).map((row) => {
        const items: any[] = unwrap(row)[1]?.items ?? [];
        return items.map((e, i) => colOf(this.expr(e, L, d + 1), `column${i + 1}`));
      });
      cols = combine(rows);
      L.rels.push({ name: '', cols });
    } else {
      L = level(outer, ctes);
      for (const f of x.fromClause ?? []) L.items.push(this.fromItem(f, L, d + 1));
      for (const w of x.windowClause ?? []) {
        const [, wd] = unwrap(w);
        const wl = this.windowDef(wd, L, d + 1);
        if (wd?.name) (L.windows ??= new Map()).set(wd.name, wl);
      }
      cols = this.targets(x.targetList ?? [], L, d + 1);
      L.outputs = cols;
      this.pred(x.whereClause, L, d + 1);
      this.pred(x.havingClause, L, d + 1);
      for (const g of x.groupClause ?? []) this.groupItem(g, L, d + 1);
      for (const e of x.distinctClause ?? []) if (e && Object.keys(e).length) this.sortItem(e, L, d + 1);
    }
    L.outputs = cols;
    for (const s of x.sortClause ?? []) this.sortItem(unwrap(s)[1]?.node, L, d + 1);
    this.pred(x.limitCount, L, d + 1);
    this.pred(x.limitOffset, L, d + 1);
    return cols;
  }

  private windowDef(wd: any, L: Level, d: number): Lin {
    const acc = lin();
    if (!wd) return acc;
    // OVER w names a window; OVER (w ORDER BY x) and WINDOW w2 AS (w ...) copy one
    const ref: string | undefined = wd.refname ?? wd.name;
    const named = ref !== undefined ? L.windows?.get(ref) : undefined;
    if (named) merge(acc, named);
    for (const p of wd.partitionClause ?? []) merge(acc, this.expr(p, L, d + 1));
    for (const s of wd.orderClause ?? []) merge(acc, this.expr(unwrap(s)[1]?.node, L, d + 1));
    merge(acc, this.expr(wd.startOffset, L, d + 1));
    merge(acc, this.expr(wd.endOffset, L, d + 1));
    this.addPred(acc);
    return acc;
  }

  /** ORDER BY / DISTINCT ON item: an output column name or ordinal first, else an expression over the input. */
  private sortItem(node: any, L: Level, d: number): void {
    const out = this.outputRef(node, L);
    if (out) {
      this.addPred(out);
      return;
    }
    this.pred(node, L, d);
  }

  /** GROUP BY item: an input column first (unknown without a catalog: both), an output name or ordinal. */
  private groupItem(node: any, L: Level, d: number): void {
    const [t, x] = unwrap(node);
    if (t === 'GroupingSet') {
      for (const c of x.content ?? []) this.groupItem(c, L, d + 1);
      return;
    }
    const out = this.outputRef(node, L);
    if (out) this.addPred(out);
    const [ct] = unwrap(node);
    if (ct !== 'A_Const') this.pred(node, L, d);
  }

  /** `ORDER BY 2` or `ORDER BY alias`: the lineage of that output column. */
  private outputRef(node: any, L: Level): Lin | undefined {
    const outs = L.outputs;
    if (!outs) return undefined;
    const [t, x] = unwrap(node);
    if (t === 'A_Const' && x.ival !== undefined) {
      const n = Number(x.ival.ival ?? 0);
      if (outs.some(isSpread)) {
        const acc = lin();
        for (const c of outs) mergeCol(acc, c);
        return acc;
      }
      const c = outs[n - 1];
      return c ? starAsWhole(c) : undefined;
    }
    if (t === 'ColumnRef') {
      const f = fieldsOf(x);
      if (f.length !== 1 || f[0] === '*') return undefined;
      const m = outs.filter((c) => !isSpread(c) && c.name === f[0]);
      if (m.length) return candidates(m, `several output columns are named "${f[0]}"`);
    }
    return undefined;
  }

  private targets(list: any[], L: Level, d: number): Col[] {
    const out: Col[] = [];
    for (const t of list) {
      const [, rt] = unwrap(t);
      if (!rt) continue;
      const [vt, v] = unwrap(rt.val);
      if (vt === 'ColumnRef') {
        const f = fieldsOf(v);
        if (f.length && f[f.length - 1] === '*') {
          out.push(...this.expandStar(f.slice(0, -1), L));
          continue;
        }
      }
      const l = this.expr(rt.val, L, d + 1);
      out.push(colOf(l, rt.name ?? figure(rt.val)[0]));
    }
    return out;
  }

  /** `*` (qualifier empty) or `t.*` in a target list. */
  private expandStar(qual: string[], L: Level): Col[] {
    if (qual.length === 0) {
      const out: Col[] = [];
      for (const item of L.items) out.push(...this.expandItem(item));
      return out;
    }
    const rel = this.findRel(qual, L);
    if (!rel) return [{ ...incomplete(`${qual.join('.')}.* does not name a table in scope`), name: '*', expands: true }];
    return this.expandRel(rel);
  }

  private expandItem(item: Item): Col[] {
    if (item.rel) return this.expandRel(item.rel);
    const j = item.join;
    if (j.alias) return this.expandRel(j.alias);
    const names = new Set(j.merged.map((c) => c.name));
    const side = (i: Item): Col[] => this.expandItem(i).filter((c) => isSpread(c) || !names.has(c.name));
    const all = [...j.merged, ...side(j.left), ...side(j.right)];
    if (!j.naturalUnknown) return all;
    return all.map((c) => ({ ...c, inc: true, why: [...c.why, 'NATURAL JOIN merges columns that are unknown without the catalog'] }));
  }

  private expandRel(r: Rel): Col[] {
    if (r.cols) {
      if (!r.opaque) return r.cols;
      return [...r.cols, { ...colOf(r.opaque, '*'), direct: false, expands: true }];
    }
    if (r.table) {
      const c: Col = { src: NONE, whole: NONE, direct: true, inc: false, amb: false, why: NONE, name: '*', star: r.table };
      const extra = assigned(r.assign);
      if (extra) {
        merge(c, extra);
        if (extra.src.length || extra.whole.length) {
          c.amb = true;
          addWhy(c, `values written to ${r.table.table} by this statement`);
        } else c.direct = true;
      }
      return [c];
    }
    return [{ ...colOf(r.opaque ?? incomplete('unknown relation'), '*'), direct: false, expands: true }];
  }

  // ------------------------------------------------------------------ FROM

  private fromItem(node: any, L: Level, d: number): Item {
    if (d > MAX_DEPTH) throw new LineageTooComplex();
    const [t, x] = unwrap(node);
    switch (t) {
      case 'RangeVar': {
        const rel = this.rangeVar(x, L);
        L.rels.push(rel);
        return { rel };
      }
      case 'RangeSubselect': {
        // a LATERAL subquery sees the FROM items before it; any other only the outer query levels
        const outer = x.lateral ? L : L.parent;
        const cols = rename(this.query(x.subquery, outer, L.ctes, d + 1), strs(x.alias?.colnames));
        const rel: Rel = { name: x.alias?.aliasname ?? '', cols };
        L.rels.push(rel);
        return { rel };
      }
      case 'RangeFunction': {
        const rel = this.rangeFunction(x, L, d + 1);
        L.rels.push(rel);
        return { rel };
      }
      case 'RangeTableSample':
        return this.fromItem(x.relation, L, d + 1);
      case 'JoinExpr':
        return this.join(x, L, d + 1);
      case 'RangeTableFunc':
      case 'JsonTable': {
        const acc = lin();
        this.collect({ ...x, alias: undefined, columns: undefined }, L, acc, d + 1);
        for (const c of tableFuncColumns(x.columns)) this.collect(c.expr, L, acc, d + 1);
        const names = tableFuncColumns(x.columns).map((c) => c.name);
        const rel: Rel = names.length ? { name: x.alias?.aliasname ?? '', cols: rename(names.map((n) => colOf(acc, n)), strs(x.alias?.colnames)) } : { name: x.alias?.aliasname ?? '', opaque: acc };
        L.rels.push(rel);
        return { rel };
      }
      default: {
        const rel: Rel = { name: '', opaque: incomplete(`a ${t || 'FROM item'} that could not be followed`) };
        L.rels.push(rel);
        return { rel };
      }
    }
  }

  private rangeVar(rv: any, L: Level): Rel {
    const alias: string | undefined = rv.alias?.aliasname;
    const name = alias ?? rv.relname;
    const colnames = strs(rv.alias?.colnames);
    if (rv.schemaname === undefined) {
      const cte = this.cte(L.ctes, rv.relname);
      if (cte) {
        const cols = cte.cols ? rename(cte.cols, colnames) : [{ ...incomplete(`recursive reference to ${rv.relname}`), name: '*', expands: true }];
        return { name, cols };
      }
    }
    const rel: Rel = { name, table: tableOf(rv) };
    if (!alias && rv.schemaname !== undefined) rel.schema = rv.schemaname;
    if (colnames.length) rel.colAliases = colnames;
    return rel;
  }

  private rangeFunction(x: any, L: Level, d: number): Rel {
    const alias: string | undefined = x.alias?.aliasname;
    const colnames = strs(x.alias?.colnames);
    const all = lin();
    const cols: Col[] = [];
    let known = true;
    let scalarName: string | undefined;
    const fns: any[] = x.functions ?? [];
    for (const f of fns) {
      const items: any[] = unwrap(f)[1]?.items ?? [];
      const call = items[0];
      const l = this.expr(call, L, d + 1);
      merge(all, l);
      const [, fc] = unwrap(call);
      const fname = strs(fc?.funcname);
      const base = fname[fname.length - 1] ?? '';
      const deflist: any[] | undefined = (items[1] && unwrap(items[1])[1]?.items) ?? (fns.length === 1 ? x.coldeflist : undefined);
      let names: string[] | undefined;
      if (deflist?.length) names = deflist.map((c: any) => String(unwrap(c)[1]?.colname ?? ''));
      else if (fname.length <= 2 && (fname.length === 1 || fname[0] === 'pg_catalog') && BUILTIN_FUNCTIONS.has(base)) {
        if (base === 'unnest') {
          const n: string[] = (fc?.args ?? [null]).map(() => 'unnest');
          names = n;
          if (fns.length === 1 && n.length === 1) scalarName = base;
        } else if (FUNCTION_OUT_COLUMNS[base]) names = [...FUNCTION_OUT_COLUMNS[base]];
        else if (!RECORD_FUNCTIONS.has(base)) {
          names = [base];
          if (fns.length === 1) scalarName = base;
        }
      }
      if (names) for (const n of names) cols.push(colOf(l, n));
      else known = false;
    }
    if (scalarName !== undefined && alias !== undefined && colnames.length === 0 && cols.length === 1) cols[0] = { ...cols[0], name: alias };
    if (x.ordinality) cols.push(colOf(lin(), 'ordinality'));
    const firstName = strs(unwrap(unwrap(fns[0])[1]?.items?.[0])[1]?.funcname);
    const name = alias ?? (fns.length === 1 ? (firstName[firstName.length - 1] ?? '') : '');
    if (known) return { name, cols: rename(cols, colnames) };
    // unknown columns: the alias list names some of them; every column derives from the calls
    const rel: Rel = { name, opaque: { ...all, direct: false } };
    if (colnames.length) rel.cols = colnames.map((n) => ({ ...colOf(all, n), direct: false }));
    return rel;
  }

  private join(x: any, L: Level, d: number): Item {
    const rels0 = L.rels.length;
    const merged0 = L.merged.length;
    const left = this.fromItem(x.larg, L, d + 1);
    const right = this.fromItem(x.rarg, L, d + 1);
    const j: JoinItem = { left, right, merged: [], naturalUnknown: false };
    let using = strs(x.usingClause);
    if (x.isNatural) {
      const ln = knownNames(this.expandItem(left));
      const rn = knownNames(this.expandItem(right));
      if (ln && rn) using = ln.filter((n) => rn.includes(n));
      else {
        j.naturalUnknown = true;
        this.addPred(this.wholeOfItem(left));
        this.addPred(this.wholeOfItem(right));
      }
    }
    for (const name of using) {
      const l = this.columnInItem(left, name);
      const r = this.columnInItem(right, name);
      this.addPred(l);
      this.addPred(r);
      let m: Lin;
      if (x.jointype === 'JOIN_FULL') {
        m = lin();
        merge(m, l);
        merge(m, r);
      } else m = x.jointype === 'JOIN_RIGHT' ? r : l;
      j.merged.push(colOf(m, name));
    }
    L.merged.push(...j.merged);
    this.pred(x.quals, L, d + 1);
    if (x.join_using_alias?.aliasname) L.rels.push({ name: x.join_using_alias.aliasname, cols: j.merged });
    if (x.alias?.aliasname) {
      const cols = rename(this.expandItem({ join: j }), strs(x.alias.colnames));
      L.rels.splice(rels0);
      L.merged.splice(merged0);
      j.alias = { name: x.alias.aliasname, cols };
      L.rels.push(j.alias);
    }
    return { join: j };
  }

  private itemRels(item: Item, out: Rel[] = []): Rel[] {
    if (item.rel) out.push(item.rel);
    else if (item.join.alias) out.push(item.join.alias);
    else {
      this.itemRels(item.join.left, out);
      this.itemRels(item.join.right, out);
    }
    return out;
  }

  private columnInItem(item: Item, name: string): Lin {
    if (item.join && !item.join.alias) {
      const m = item.join.merged.find((c) => c.name === name);
      if (m) return m;
    }
    const definite: Lin[] = [];
    const maybe: { rel: Rel; l: Lin }[] = [];
    for (const r of this.itemRels(item)) this.relHas(r, name, definite, maybe);
    if (definite.length) return candidates(definite, `several columns named "${name}"`);
    if (maybe.length) return candidates(maybe.map((m) => m.l), `"${name}" could come from several tables`);
    return incomplete(`column "${name}" not found`);
  }

  private wholeOfItem(item: Item): Lin {
    const acc = lin();
    for (const r of this.itemRels(item)) merge(acc, this.wholeOf(r));
    return acc;
  }

  // ------------------------------------------------------------------ DML

  private dml(type: string, x: any, outer: Level | undefined, ctes0: CteScope | undefined, d: number): Col[] {
    const ctes = this.withClause(x.withClause, outer, ctes0, d);
    const L = level(outer, ctes);
    if (!x.relation) return [];
    const table = tableOf(x.relation);
    const target: Rel = { name: x.relation.alias?.aliasname ?? x.relation.relname, table };
    if (!x.relation.alias && x.relation.schemaname !== undefined) target.schema = x.relation.schemaname;
    const assign: Assign = { byCol: new Map() };
    const set = (col: string, l: Lin): void => {
      const prev = assign.byCol.get(col);
      if (!prev) {
        assign.byCol.set(col, l);
        return;
      }
      const u = lin();
      merge(u, prev);
      merge(u, l);
      assign.byCol.set(col, u);
    };
    const setAny = (l: Lin): void => {
      if (!assign.any) assign.any = lin();
      merge(assign.any, l);
    };
    // INSERT's source cannot see its target
    if (type !== 'InsertStmt') {
      L.rels.push(target);
      L.items.push({ rel: target });
    }
    switch (type) {
      case 'InsertStmt': {
        const src = x.selectStmt ? this.query(x.selectStmt, outer, ctes, d + 1) : [];
        const names = (x.cols ?? []).map((c: any) => String(unwrap(c)[1]?.name ?? ''));
        const spreadAt = src.findIndex(isSpread);
        src.forEach((c, i) => {
          if (names.length && (spreadAt < 0 || i < spreadAt) && names[i] !== undefined) set(names[i], starAsWhole(c));
          else setAny(starAsWhole(c));
        });
        L.rels.push(target);
        L.items.push({ rel: target });
        const oc = x.onConflictClause;
        if (oc) {
          const excluded: Rel = { name: 'excluded', table, assign, qualifiedOnly: true };
          L.rels.push(excluded);
          for (const t of oc.targetList ?? []) this.assignment(t, L, d, set);
          this.pred(oc.whereClause, L, d + 1);
          L.rels.pop();
        }
        break;
      }
      case 'UpdateStmt':
        for (const f of x.fromClause ?? []) L.items.push(this.fromItem(f, L, d + 1));
        for (const t of x.targetList ?? []) this.assignment(t, L, d, set);
        this.pred(x.whereClause, L, d + 1);
        break;
      case 'DeleteStmt':
        for (const f of x.usingClause ?? []) L.items.push(this.fromItem(f, L, d + 1));
        this.pred(x.whereClause, L, d + 1);
        break;
      case 'MergeStmt': {
        if (x.sourceRelation) L.items.push(this.fromItem(x.sourceRelation, L, d + 1));
        this.pred(x.joinCondition, L, d + 1);
        for (const w of x.mergeWhenClauses ?? []) {
          const [, mw] = unwrap(w);
          if (!mw) continue;
          this.pred(mw.condition, L, d + 1);
          if (mw.commandType === 'CMD_UPDATE') for (const t of mw.targetList ?? []) this.assignment(t, L, d, set);
          else if (mw.commandType === 'CMD_INSERT') {
            const names = (mw.targetList ?? []).map((c: any) => String(unwrap(c)[1]?.name ?? ''));
            (mw.values ?? []).forEach((v: any, i: number) => {
              const l = this.expr(v, L, d + 1);
              if (names[i] !== undefined) set(names[i], l);
              else setAny(l);
            });
          }
        }
        break;
      }
    }
    target.assign = assign;
    const r = x.returningClause ?? (x.returningList ? { exprs: x.returningList } : undefined);
    if (!r?.exprs?.length) return [];
    // RETURNING old.* / new.* (PostgreSQL 18), renamable with WITH (OLD AS o, NEW AS n)
    let oldName = 'old';
    let newName = 'new';
    for (const o of r.options ?? []) {
      const [, ro] = unwrap(o);
      if (ro?.option === 'RETURNING_OPTION_OLD' && ro.value) oldName = ro.value;
      if (ro?.option === 'RETURNING_OPTION_NEW' && ro.value) newName = ro.value;
    }
    L.rels.push({ name: oldName, table, qualifiedOnly: true }, { name: newName, table, assign, qualifiedOnly: true });
    return this.targets(r.exprs, L, d + 1);
  }

  /** One SET target (UPDATE, ON CONFLICT DO UPDATE, MERGE UPDATE). */
  private assignment(t: any, L: Level, d: number, set: (col: string, l: Lin) => void): void {
    const [, rt] = unwrap(t);
    if (!rt?.name) return;
    const [vt, v] = unwrap(rt.val);
    let l: Lin;
    if (vt === 'MultiAssignRef') {
      const [st, sl] = unwrap(v.source);
      if (st === 'SubLink') {
        const cols = this.query(sl.subselect, L, L.ctes, d + 1);
        const c = cols.some(isSpread) ? undefined : cols[(v.colno ?? 1) - 1];
        if (c) l = c;
        else {
          l = lin();
          for (const col of cols) mergeCol(l, col);
        }
      } else l = this.expr(v.source, L, d + 1);
    } else l = this.expr(rt.val, L, d + 1);
    if (rt.indirection?.length) {
      // SET a[1] = x, SET c.f = x: the rest of the column stays
      const u = lin();
      merge(u, l);
      for (const i of rt.indirection) this.collect(i, L, u, d + 1);
      l = u;
    }
    set(rt.name, l);
  }

  // ------------------------------------------------------------------ expressions

  /** The lineage of one expression; direct only for a bare column reference. */
  private expr(node: any, L: Level, d: number): Lin {
    if (node === undefined || node === null) return lin();
    const [t, x] = unwrap(node);
    if (t === 'ColumnRef') return this.columnRef(x, L);
    const acc = lin();
    this.collect(node, L, acc, d);
    acc.direct = false;
    return acc;
  }

  private collect(v: any, L: Level, acc: Lin, d: number): void {
    if (v === null || typeof v !== 'object') return;
    if (d > MAX_DEPTH) throw new LineageTooComplex();
    if (Array.isArray(v)) {
      for (const e of v) this.collect(e, L, acc, d + 1);
      return;
    }
    const [t, x] = unwrap(v);
    if (t) this.node(t, x, L, acc, d + 1);
    else this.fields(v, L, acc, d);
  }

  private fields(x: any, L: Level, acc: Lin, d: number, skip?: string): void {
    for (const k in x) {
      const c = x[k];
      if (c === null || typeof c !== 'object' || k === skip) continue;
      if (k === 'agg_filter' || k === 'agg_order') {
        // aggregate FILTER (WHERE ...) and ORDER BY: part of the value, and they filter or order rows
        const l = lin();
        this.collect(c, L, l, d + 1);
        this.addPred(l);
        merge(acc, l);
      } else if (k === 'over') {
        merge(acc, this.windowDef(c, L, d + 1));
      } else this.collect(c, L, acc, d + 1);
    }
  }

  private node(t: string, x: any, L: Level, acc: Lin, d: number): void {
    if (LEAVES.has(t)) return;
    switch (t) {
      case 'ColumnRef':
        merge(acc, this.columnRef(x, L));
        return;
      case 'FuncCall': {
        const n = strs(x.funcname);
        const base = n[n.length - 1] ?? '';
        const builtin = (n.length === 1 || (n.length === 2 && n[0] === 'pg_catalog')) && BUILTIN_FUNCTIONS.has(base);
        if (!builtin) {
          acc.inc = true;
          addWhy(acc, `${n.join('.')}() is not a built-in function: its result may come from other data`);
        } else if (READS_DATA.has(base)) {
          acc.inc = true;
          addWhy(acc, `${base}() reads the data it is given by name`);
        }
        this.fields(x, L, acc, d, 'funcname');
        return;
      }
      case 'SubLink': {
        if (x.testexpr) this.collect(x.testexpr, L, acc, d + 1);
        const cols = this.query(x.subselect, L, L.ctes, d + 1);
        if (x.subLinkType !== 'EXISTS_SUBLINK') for (const c of cols) mergeCol(acc, c);
        return;
      }
      case 'A_Indirection': {
        // (c).email, (c.*).email: the column of a whole-row reference
        const [at, a] = unwrap(x.arg);
        const [it, iv] = unwrap(x.indirection?.[0]);
        if (at === 'ColumnRef' && it === 'String') {
          const f = fieldsOf(a);
          const relName = f.length === 1 ? f[0] : f.length === 2 && f[1] === '*' ? f[0] : undefined;
          const rel = relName !== undefined && !this.isColumnName(relName, L) ? this.findRel([relName], L) : undefined;
          if (rel) {
            merge(acc, this.relColumn(rel, iv.sval));
            this.collect(x.indirection.slice(1), L, acc, d + 1);
            return;
          }
        }
        this.fields(x, L, acc, d);
        return;
      }
      case 'SelectStmt': {
        for (const c of this.select(x, L, L.ctes, d + 1)) mergeCol(acc, c);
        return;
      }
      default:
        this.fields(x, L, acc, d);
    }
  }

  /** True when `name` is a known (definite) column at the innermost levels, so `(name).f` is a composite column. */
  private isColumnName(name: string, L: Level): boolean {
    for (let lv: Level | undefined = L; lv; lv = lv.parent) {
      if (lv.merged.some((c) => c.name === name)) return true;
      if (lv.rels.some((r) => r.cols?.some((c) => !isSpread(c) && c.name === name))) return true;
      if (lv.rels.some((r) => r.name === name)) return false;
    }
    return false;
  }

  private columnRef(x: any, L: Level): Lin {
    const f = fieldsOf(x);
    if (f.length === 0) return incomplete('empty column reference');
    const last = f[f.length - 1];
    if (f.length === 1) {
      if (last === '*') {
        // a bare * inside an expression: every relation of the innermost level that has any
        for (let lv: Level | undefined = L; lv; lv = lv.parent) {
          if (!lv.rels.length) continue;
          const acc = lin();
          for (const r of lv.rels) merge(acc, this.wholeOf(r));
          return acc;
        }
        return lin();
      }
      return this.name(last, L);
    }
    const rel = this.findRel(f.slice(0, -1), L);
    if (rel) return last === '*' ? this.wholeOf(rel) : this.relColumn(rel, last);
    // not a relation: `col.field` of a composite column (or a PL/pgSQL record variable)
    const base = this.name(f[0], L);
    return { ...base, direct: false };
  }

  /** A relation by qualifier: [alias], [schema, table] or [catalog, schema, table], innermost level first. */
  private findRel(qual: string[], L: Level): Rel | undefined {
    const name = qual[qual.length - 1];
    const schema = qual.length >= 2 ? qual[qual.length - 2] : undefined;
    for (let lv: Level | undefined = L; lv; lv = lv.parent) {
      for (let i = lv.rels.length - 1; i >= 0; i--) {
        const r = lv.rels[i];
        if (r.name !== name || r.name === '') continue;
        if (schema !== undefined && r.schema !== schema) continue;
        return r;
      }
    }
    return undefined;
  }

  /** An unqualified column name. */
  private name(x: string, L: Level): Lin {
    const maybe: { rel: Rel; l: Lin }[] = [];
    let wholeRel: Rel | undefined;
    for (let lv: Level | undefined = L; lv; lv = lv.parent) {
      const definite: Lin[] = [];
      const here: { rel: Rel; l: Lin }[] = [];
      for (const m of lv.merged) if (m.name === x) definite.push(m);
      if (!definite.length) for (const r of lv.rels) this.relHas(r, x, definite, here);
      // a known column wins over tables of the same level that might have one (or the query is ambiguous)
      if (!definite.length) maybe.push(...here);
      if (definite.length) {
        const found = definite.length === 1 ? definite[0] : candidates(definite, `several columns named "${x}"`);
        if (!maybe.length) return found;
        return candidates([...maybe.map((m) => m.l), found], `"${x}" could come from several tables`);
      }
      wholeRel ??= lv.rels.find((r) => r.name === x);
    }
    if (wholeRel) {
      // a relation's name as a value: its whole row (unless another table has a column of that name)
      const others = maybe.filter((m) => m.rel !== wholeRel).map((m) => m.l);
      const w = this.wholeOf(wholeRel);
      return others.length ? candidates([w, ...others], `"${x}" is a table in scope and maybe a column of another`) : w;
    }
    if (maybe.length) return candidates(maybe.map((m) => m.l), `"${x}" could come from several tables`);
    return incomplete(`column "${x}" not found in any table in scope`);
  }

  /** Sorts what `r` says about column `x` into definite matches and possible ones. */
  private relHas(r: Rel, x: string, definite: Lin[], maybe: { rel: Rel; l: Lin }[]): void {
    if (r.qualifiedOnly) return;
    if (r.cols) {
      let hit = false;
      for (const c of r.cols) {
        if (c.renamed?.includes(x)) {
          definite.push(renamedColumn(c, x));
          hit = true;
        } else if (c.star) maybe.push({ rel: r, l: this.starColumn(c, x) });
        else if (c.expands) maybe.push({ rel: r, l: c });
        else if (c.name === x) {
          definite.push(c);
          hit = true;
        }
      }
      if (!hit && r.opaque) maybe.push({ rel: r, l: r.opaque });
      return;
    }
    if (r.table) {
      if (r.colAliases?.includes(x)) definite.push(this.relColumn(r, x));
      else maybe.push({ rel: r, l: this.relColumn(r, x) });
      return;
    }
    if (r.opaque) maybe.push({ rel: r, l: r.opaque });
  }

  /** Column `x` of a star entry: that table's column (plus what the entry adds). */
  private starColumn(c: Col, x: string): Lin {
    const l: Lin = { src: [colRef(c.star!, x), ...c.src], whole: c.whole, direct: c.src.length === 0 && c.whole.length === 0, inc: c.inc, amb: c.amb, why: c.why };
    return l;
  }

  /** Column `x` of a relation referenced by name. */
  private relColumn(r: Rel, x: string): Lin {
    if (r.cols) {
      const m: Lin[] = r.cols.filter((c) => !isSpread(c) && c.name === x);
      for (const c of r.cols) if (c.renamed?.includes(x)) m.push(renamedColumn(c, x));
      if (m.length) return candidates(m, `several columns named "${x}" in ${r.name}`);
      const spread = r.cols.filter(isSpread).map((c) => (c.star ? this.starColumn(c, x) : c));
      if (r.opaque) spread.push(r.opaque);
      if (spread.length) return candidates(spread, `"${x}" could come from several tables`);
      return incomplete(`column "${x}" not found in ${r.name}`);
    }
    if (r.table) {
      if (r.colAliases?.includes(x)) {
        return { src: [], whole: [r.table], direct: false, inc: true, amb: false, why: [`${r.name}.${x} renames a column of ${r.table.table} that is unknown without the catalog`] };
      }
      const base: Lin = { src: [colRef(r.table, x)], whole: NONE, direct: true, inc: false, amb: false, why: NONE };
      // a DML target's column in RETURNING / excluded: also the value written to it
      const a = r.assign;
      const by = a?.byCol.get(x);
      const any = a?.any && (a.any.src.length || a.any.whole.length || a.any.inc) ? a.any : undefined;
      const adds = (l: Lin | undefined): boolean => !!l && (l.src.length > 0 || l.whole.length > 0 || l.inc || l.amb);
      if (!adds(by) && !any) return base;
      const u = lin();
      merge(u, base);
      if (by) merge(u, by);
      if (any) {
        merge(u, any);
        u.amb = true;
        addWhy(u, `values inserted into ${r.table.table} without a column list`);
      }
      return u;
    }
    return r.opaque ?? incomplete(`column "${x}" of ${r.name}`);
  }

  /** The whole row of a relation: every column it has. */
  private wholeOf(r: Rel): Lin {
    const acc = lin();
    if (r.cols) for (const c of r.cols) mergeCol(acc, c);
    if (r.table) {
      addWhole(acc, r.table);
      const extra = assigned(r.assign);
      if (extra) merge(acc, extra);
    }
    if (r.opaque) merge(acc, r.opaque);
    acc.direct = false;
    return acc;
  }
}

/** Everything written into a DML target, or undefined. */
function assigned(a: Assign | undefined): Lin | undefined {
  if (!a || (a.byCol.size === 0 && !a.any)) return undefined;
  const acc = lin();
  for (const l of a.byCol.values()) merge(acc, l);
  if (a.any) merge(acc, a.any);
  return acc;
}

/** XMLTABLE / JSON_TABLE column definitions (nested JSON_TABLE columns flattened). */
function tableFuncColumns(list: any[] | undefined, out: { name: string; expr: any }[] = []): { name: string; expr: any }[] {
  for (const c of list ?? []) {
    const [t, x] = unwrap(c);
    if (t === 'RangeTableFuncCol' && x.colname) out.push({ name: x.colname, expr: [x.colexpr, x.coldefexpr] });
    else if (t === 'JsonTableColumn') {
      if (x.coltype === 'JTC_NESTED') tableFuncColumns(x.columns, out);
      else if (x.name) out.push({ name: x.name, expr: x.on_empty ?? x.on_error });
    }
  }
  return out;
}
