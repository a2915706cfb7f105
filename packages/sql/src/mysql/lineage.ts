/**
 * Column lineage over the MySQL grammar's parse tree, without a catalog: for each output column of a
 * SELECT, the base-table (or view) columns it derives from (`outputColumns`), and every column used to
 * filter, join, group or order rows (`predicateColumns`). Same meaning as the Postgres lineage
 * (../postgres/lineage.ts, README "Column lineage"): an unqualified column is matched to every table in
 * scope that might have it (outer query levels included) and is ambiguous with several candidates;
 * columns of derived tables, CTEs and JSON_TABLE are known exactly. Anything not understood → the
 * whole lineage is absent (fail closed), never an analysis failure.
 *
 * MySQL specifics: select-list aliases are visible in GROUP BY, HAVING and ORDER BY (also inside
 * expressions there), so an unqualified name in those clauses means both the input column and the
 * alias; user variables (`@x`) and stored functions make a value uncertain; `@@system` variables and
 * `?` parameters derive from no column.
 */
import type { ColumnRef, LineageTable, OutputColumn } from '../facts.js';
import type { PNode } from './grammar-parser.js';
import { colOf, colRef, combine, compact, dedupe, finish, isSpread, keyOf, knownNames, signature, starAsWhole, type Col, type Lin } from '../lineage-common.js';
import { child, childrenNamed, findAll, hasTerminal, identText, kids, nameParts, ruleName, sourceText } from './tree.js';

/** MySQL refuses more columns than this in a table / result; beyond it lineage is not kept. */
const MAX_OUTPUT_COLUMNS = 4096;
const MAX_PREDICATES = 1024;
const MAX_DEPTH = 6000;

class LineageTooComplex extends Error {}

/**
 * Built-in (native) functions called through the grammar's generic `functionCall` rule (name followed
 * by arguments); keyword functions (`runtimeFunctionCall`, aggregates, windows, JSON aggregates, TRIM,
 * SUBSTRING, geometry constructors) have rules of their own and are built in by construction. A name
 * not listed here is taken for a stored or loadable function: its result may come from any data.
 */
const BUILTIN = new Set(
  `abs acos aes_decrypt aes_encrypt any_value ascii asin atan atan2 benchmark bin bin_to_uuid bit_count bit_length ceil ceiling
  char_length character_length charset coercibility collation compress concat concat_ws connection_id conv convert_tz cos cot
  crc32 current_role date_add date_format date_sub datediff dayname dayofmonth dayofweek dayofyear degrees elt exp export_set
  extractvalue field find_in_set floor format format_bytes format_pico_time found_rows from_base64 from_days from_unixtime
  get_format get_lock greatest gtid_subset gtid_subtract hex icu_version ifnull inet_aton inet_ntoa inet6_aton inet6_ntoa instr
  is_free_lock is_ipv4 is_ipv4_compat is_ipv4_mapped is_ipv6 is_used_lock is_uuid isnull json_array json_array_append
  json_array_insert json_contains json_contains_path json_depth json_extract json_insert json_keys json_length json_merge
  json_merge_patch json_merge_preserve json_object json_overlaps json_pretty json_quote json_remove json_replace json_schema_valid
  json_schema_validation_report json_search json_set json_storage_free json_storage_size json_type json_unquote json_valid
  json_value last_day last_insert_id lcase least length ln load_file locate log log10 log2 lower lpad ltrim make_set makedate
  maketime master_pos_wait md5 member mbrcontains mbrcoveredby mbrcovers mbrdisjoint mbrequals mbrintersects mbroverlaps
  mbrtouches mbrwithin monthname name_const now nullif oct octet_length ord period_add period_diff pi pow power ps_current_thread_id
  ps_thread_id quote radians rand random_bytes regexp_instr regexp_like regexp_replace regexp_substr release_all_locks release_lock
  reverse roles_graphml round row_count rpad rtrim sec_to_time sha sha1 sha2 sign sin sleep soundex space sqrt statement_digest
  statement_digest_text std stddev str_to_date strcmp subdate substring_index subtime sysdate tan time_format time_to_sec timediff
  to_base64 to_days to_seconds uncompress uncompressed_length unhex unix_timestamp upper ucase uuid uuid_short uuid_to_bin
  validate_password_strength version wait_for_executed_gtid_set week weekday weekofyear yearweek st_area st_asbinary st_asgeojson
  st_astext st_aswkb st_aswkt st_buffer st_buffer_strategy st_centroid st_contains st_convexhull st_crosses st_difference
  st_dimension st_disjoint st_distance st_distance_sphere st_endpoint st_envelope st_equals st_exteriorring st_geohash
  st_geomcollfromtext st_geomcollfromwkb st_geometryn st_geometrytype st_geomfromgeojson st_geomfromtext st_geomfromwkb
  st_interiorringn st_intersection st_intersects st_isclosed st_isempty st_issimple st_isvalid st_latfromgeohash st_latitude
  st_length st_linefromtext st_linefromwkb st_longfromgeohash st_longitude st_makeenvelope st_mlinefromtext st_mpointfromtext
  st_mpolyfromtext st_numgeometries st_numinteriorring st_numpoints st_overlaps st_pointfromgeohash st_pointfromtext
  st_pointfromwkb st_pointn st_polyfromtext st_polyfromwkb st_simplify st_srid st_startpoint st_swapxy st_symdifference
  st_touches st_transform st_union st_validate st_within st_x st_y geomcollection geometrycollection linestring multilinestring
  multipoint multipolygon point polygon date time timestamp year month day hour minute second microsecond quarter
  current_date current_time current_timestamp utc_date utc_time utc_timestamp localtime localtimestamp curdate curtime
  adddate addtime convert cast if char insert left right replace repeat database schema user current_user session_user
  system_user password encode decode des_encrypt des_decrypt encrypt old_password weight_string format regexp_substr
  json_arrayagg json_objectagg grouping coalesce interval truncate mod substr substring trim position extract
  timestampdiff timestampadd mid format_bytes ifnull`.split(/\s+/).filter(Boolean),
);

// ---------------------------------------------------------------------------------------------
// lineage values (as in the Postgres lineage)

function lin(): Lin {
  return { src: [], whole: [], direct: false, inc: false, amb: false, why: [] };
}

function incomplete(why: string): Lin {
  return { src: [], whole: [], direct: false, inc: true, amb: false, why: [why] };
}

function merge(a: Lin, b: Lin): void {
  for (const s of b.src) a.src.push(s);
  for (const w of b.whole) a.whole.push(w);
  if (b.inc) a.inc = true;
  if (b.amb) a.amb = true;
  for (const w of b.why) a.why.push(w);
  a.direct = false;
}

function mergeCol(a: Lin, c: Col): void {
  merge(a, c);
  if (c.star) a.whole.push(c.star);
}

function copyLin(l: Lin): Lin {
  return { src: l.src.slice(), whole: l.whole.slice(), direct: l.direct, inc: l.inc, amb: l.amb, why: l.why.slice() };
}

function candidates(list: Lin[], why: string): Lin {
  if (list.length === 1) return list[0]!;
  const r = lin();
  for (const c of list) merge(r, c);
  r.direct = list.every((c) => c.direct);
  if (list.length > 1) {
    r.amb = true;
    r.why.push(why);
  }
  return r;
}

const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function rename(cols: Col[], names: string[] | undefined): Col[] {
  if (!names || names.length === 0) return cols;
  const out = cols.slice();
  for (let i = 0; i < names.length && i < out.length; i++) {
    const c = out[i]!;
    if (isSpread(c)) {
      // the remaining names rename columns of this `*`: which ones needs the catalog (whole row, incomplete)
      const l = lin();
      mergeCol(l, c);
      l.inc = true;
      l.why.push(`column names given to the columns of ${c.star ? c.star.table + '.*' : '*'}, unknown without the catalog`);
      out.splice(i, out.length - i, ...names.slice(i).map((n) => colOf(copyLin(l), n)));
      break;
    }
    out[i] = { ...c, name: names[i]! };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// scopes

interface Rel {
  /** the name it is referenced by: alias, else table name ('' when unnamed) */
  name: string;
  /** schema as written, only when unaliased (for `db.t.col`) */
  schema?: string;
  table?: LineageTable;
  /** known columns (derived table, CTE, JSON_TABLE) */
  cols?: Col[];
  opaque?: Lin;
}

type Item = { rel: Rel; join?: undefined } | { rel?: undefined; join: JoinItem };

interface JoinItem {
  left: Item;
  right: Item;
  merged: Col[];
  naturalUnknown: boolean;
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
  merged: Col[];
  outputs?: Col[];
  /** select-list aliases are visible (GROUP BY, HAVING, ORDER BY): names also mean the alias */
  aliases?: boolean;
  windows?: Map<string, Lin>;
}

function level(parent: Level | undefined, ctes: CteScope | undefined): Level {
  return { parent, ctes, rels: [], items: [], merged: [] };
}

/** rules of a subquery or a routine body: searched separately, not as part of an expression */
const SCAN_STOP = new Set(['subquery', 'compoundStatement']);

// ---------------------------------------------------------------------------------------------

export interface MysqlLineage {
  outputColumns?: OutputColumn[];
  predicateColumns: ColumnRef[];
}

/**
 * Lineage of one statement (the grammar's `simpleStatement` or its single child); undefined when it
 * could not be traced (both fields are then left absent: fail closed).
 */
export function traceMysqlLineage(stmt: PNode, code: string): MysqlLineage | undefined {
  try {
    const body = ruleName(stmt) === 'simpleStatement' ? kids(stmt)[0] : stmt;
    if (!body) return undefined;
    const t = new Tracer(code);
    const outputs = t.statement(body);
    const r: MysqlLineage = { predicateColumns: t.predicates() };
    if (outputs && outputs.length <= MAX_OUTPUT_COLUMNS) r.outputColumns = outputs.map(finish);
    return r;
  } catch {
    // too deep, or a tree shape not foreseen: lineage unknown, never an analysis failure
    return undefined;
  }
}

class Tracer {
  private readonly preds = new Map<string, ColumnRef>();

  constructor(private readonly code: string) {}

  predicates(): ColumnRef[] {
    const all = [...this.preds.values()];
    if (all.length <= MAX_PREDICATES) return all;
    return dedupe(all.map((c) => ({ ...c, column: '*' })));
  }

  private addPred(l: Lin): void {
    for (const s of l.src) if (!this.preds.has(keyOf(s))) this.preds.set(keyOf(s), s);
    for (const w of l.whole) {
      const c = colRef(w, '*');
      if (!this.preds.has(keyOf(c))) this.preds.set(keyOf(c), c);
    }
    // an incomplete value used as a predicate (a stored function, a user variable) adds nothing more
    // that can be named; its column references are already listed
  }

  private pred(n: PNode | undefined, L: Level, d: number): void {
    if (n) this.addPred(this.expr(n, L, d));
  }

  statement(b: PNode): Col[] | undefined {
    const r = ruleName(b);
    switch (r) {
      case 'selectStatement': {
        const cols = this.selectStatement(b, undefined, undefined, 0);
        // SELECT ... INTO: no rows to the client
        if (findAll(b, new Set(['intoClause']), SCAN_STOP).length > 0) return undefined;
        return cols;
      }
      case 'insertStatement':
      case 'replaceStatement':
        this.insert(b);
        return undefined;
      case 'updateStatement':
        this.update(b);
        return undefined;
      case 'deleteStatement':
        this.delete(b);
        return undefined;
      case 'utilityStatement': {
        const u = kids(b)[0];
        const ex = u ? child(u, 'explainableStatement') : undefined;
        const inner = ex ? kids(ex)[0] : undefined;
        // EXPLAIN <statement>: its predicates (the plan shows row estimates); no output lineage
        if (inner) this.statement(ruleName(inner) === 'simpleStatement' ? (kids(inner)[0] ?? inner) : inner);
        else if (u) this.scan(u, 0);
        return undefined;
      }
      default:
        this.scan(b, 0);
        return undefined;
    }
  }

  /** every query found in another statement (view bodies, CREATE TABLE ... AS, SET, CALL, DO): its predicates */
  private scan(n: PNode, d: number): void {
    if (d > MAX_DEPTH) throw new LineageTooComplex();
    for (const c of kids(n)) {
      if (c.symbol) continue;
      const r = ruleName(c);
      if (r === 'compoundStatement') continue; // routine bodies: nested statements have their own
      if (r === 'queryExpression' || r === 'queryExpressionParens' || r === 'queryExpressionOrParens' || r === 'selectStatement') {
        this.query(c, undefined, undefined, d + 1);
        continue;
      }
      if (r === 'subquery') {
        this.query(c, undefined, undefined, d + 1);
        continue;
      }
      if (r === 'insertStatement' || r === 'replaceStatement' || r === 'updateStatement' || r === 'deleteStatement') {
        this.statement(c);
        continue;
      }
      this.scan(c, d + 1);
    }
  }

  // ------------------------------------------------------------------ queries

  private selectStatement(b: PNode, outer: Level | undefined, ctes: CteScope | undefined, d: number): Col[] {
    const q = kids(b).find((k) => !k.symbol && ruleName(k) !== 'lockingClauseList');
    if (!q) throw new LineageTooComplex();
    if (ruleName(q) === 'selectStatementWithInto') return this.selectStatement(q, outer, ctes, d + 1);
    return this.query(q, outer, ctes, d + 1);
  }

  /** any node holding a query: subquery, queryExpressionParens, queryExpression, queryExpressionOrParens, ... */
  private query(n: PNode, outer: Level | undefined, ctes: CteScope | undefined, d: number): Col[] {
    if (d > MAX_DEPTH) throw new LineageTooComplex();
    const r = ruleName(n);
    switch (r) {
      case 'queryExpression':
        return this.queryExpression(n, outer, ctes, d + 1);
      case 'querySpecification':
        return this.spec(n, outer, ctes, d + 1).cols;
      case 'queryExpressionBody':
        return this.body(n, outer, ctes, d + 1).cols;
      case 'selectStatement':
      case 'selectStatementWithInto':
        return this.selectStatement(n, outer, ctes, d + 1);
      case 'subquery':
      case 'queryExpressionParens':
      case 'queryExpressionOrParens':
      case 'viewSelect':
      case 'duplicateAsQueryExpression':
      case 'insertQueryExpression': {
        const q = kids(n).find((k) => !k.symbol && ruleName(k) !== 'lockingClauseList' && ruleName(k) !== 'fields');
        if (!q) throw new LineageTooComplex();
        return this.query(q, outer, ctes, d + 1);
      }
      default:
        throw new LineageTooComplex();
    }
  }

  private queryExpression(n: PNode, outer: Level | undefined, ctes0: CteScope | undefined, d: number): Col[] {
    const ctes = this.withClause(child(n, 'withClause'), outer, ctes0, d + 1);
    let cols: Col[];
    let L: Level;
    const bodyNode = child(n, 'queryExpressionBody');
    const parens = child(n, 'queryExpressionParens');
    if (bodyNode) ({ cols, L } = this.body(bodyNode, outer, ctes, d + 1));
    else if (parens) {
      cols = this.query(parens, outer, ctes, d + 1);
      L = level(outer, ctes);
      L.rels.push({ name: '', cols });
    } else throw new LineageTooComplex();
    const order = child(n, 'orderClause');
    if (order) this.orderBy(order, L, cols, d + 1);
    // LIMIT takes literals and parameters only
    return cols;
  }

  /** UNION branches, or one query specification (whose level ORDER BY resolves in) */
  private body(n: PNode, outer: Level | undefined, ctes: CteScope | undefined, d: number): { cols: Col[]; L: Level } {
    const branches = this.branchNodes(n);
    if (branches.length === 1 && ruleName(branches[0]!) === 'querySpecification') return this.spec(branches[0]!, outer, ctes, d + 1);
    const cols = combine(branches.map((b) => this.query(b, outer, ctes, d + 1)));
    const L = level(outer, ctes);
    L.rels.push({ name: '', cols });
    return { cols, L };
  }

  private branchNodes(n: PNode, out: PNode[] = []): PNode[] {
    for (const k of kids(n)) {
      if (k.symbol) continue;
      const r = ruleName(k);
      if (r === 'queryExpressionBody') this.branchNodes(k, out);
      else if (r === 'querySpecification' || r === 'queryExpressionParens') out.push(k);
      else if (r !== 'unionOption') throw new LineageTooComplex();
    }
    return out;
  }

  private withClause(w: PNode | undefined, outer: Level | undefined, ctes: CteScope | undefined, d: number): CteScope | undefined {
    if (!w) return ctes;
    const recursive = hasTerminal(w, 'RECURSIVE');
    const scope: CteScope = { map: new Map(), parent: ctes };
    for (const c of childrenNamed(w, 'commonTableExpression')) {
      const id = child(c, 'identifier');
      const sub = child(c, 'subquery');
      if (!id || !sub) throw new LineageTooComplex();
      const name = (nameParts(id)[0] ?? '').toLowerCase();
      const names = this.columnList(child(c, 'columnInternalRefList'));
      if (!recursive) {
        scope.map.set(name, { cols: rename(this.query(sub, outer, scope, d + 1), names) });
        continue;
      }
      const entry: { cols?: Col[] } = {};
      scope.map.set(name, entry);
      // the non-recursive term first, then the whole query until the lineage stops growing
      const qe = this.innerQueryExpression(sub);
      const bodyNode = qe ? child(qe, 'queryExpressionBody') : undefined;
      const branches = bodyNode ? this.branchNodes(bodyNode) : [];
      if (branches.length > 1) {
        entry.cols = rename(this.query(branches[0]!, outer, scope, d + 1), names).map(compact);
        let stable = false;
        for (let i = 0; i < 6 && !stable; i++) {
          const next = rename(this.query(sub, outer, scope, d + 1), names).map(compact);
          stable = signature(next) === signature(entry.cols);
          entry.cols = next;
        }
        if (!stable) entry.cols = entry.cols.map((col) => ({ ...col, inc: true, why: [...col.why, `recursive CTE ${name} could not be followed`] }));
      } else entry.cols = rename(this.query(sub, outer, scope, d + 1), names);
    }
    return scope;
  }

  private innerQueryExpression(sub: PNode): PNode | undefined {
    let n: PNode | undefined = sub;
    for (let i = 0; n && i < 100; i++) {
      if (ruleName(n) === 'queryExpression') return n;
      n = kids(n).find((k) => !k.symbol);
    }
    return undefined;
  }

  private columnList(n: PNode | undefined): string[] | undefined {
    if (!n) return undefined;
    return childrenNamed(n, 'columnInternalRef').map((c) => nameParts(c).join('.'));
  }

  private cte(ctes: CteScope | undefined, name: string): { cols?: Col[] } | undefined {
    for (let s = ctes; s; s = s.parent) {
      const e = s.map.get(name.toLowerCase());
      if (e) return e;
    }
    return undefined;
  }

  private spec(n: PNode, outer: Level | undefined, ctes: CteScope | undefined, d: number): { cols: Col[]; L: Level } {
    const L = level(outer, ctes);
    const from = child(n, 'fromClause');
    const refs = from ? child(from, 'tableReferenceList') : undefined;
    if (refs) for (const t of childrenNamed(refs, 'tableReference')) L.items.push(this.tableReference(t, L, d + 1));
    const wc = child(n, 'windowClause');
    if (wc) {
      for (const wd of childrenNamed(wc, 'windowDefinition')) {
        const wn = child(wd, 'windowName');
        const spec = child(wd, 'windowSpec');
        const l = spec ? this.windowSpec(spec, L, d + 1) : lin();
        if (wn) (L.windows ??= new Map()).set(nameParts(wn).join('.').toLowerCase(), l);
      }
    }
    const list = child(n, 'selectItemList');
    if (!list) throw new LineageTooComplex();
    const cols = this.selectItems(list, L, d + 1);
    L.outputs = cols;
    const where = child(n, 'whereClause');
    if (where) this.pred(child(where, 'expr'), L, d + 1);
    L.aliases = true;
    const group = child(n, 'groupByClause');
    const gl = group ? child(group, 'orderList') : undefined;
    if (gl) for (const o of childrenNamed(gl, 'orderExpression')) this.groupItem(child(o, 'expr'), L, d + 1);
    const having = child(n, 'havingClause');
    if (having) this.pred(child(having, 'expr'), L, d + 1);
    return { cols, L };
  }

  private orderBy(order: PNode, L: Level, cols: Col[], d: number): void {
    L.outputs = cols;
    L.aliases = true;
    const list = child(order, 'orderList');
    for (const o of list ? childrenNamed(list, 'orderExpression') : []) {
      const e = child(o, 'expr');
      if (!e) continue;
      const out = this.outputRef(e, L);
      if (out) this.addPred(out);
      else this.pred(e, L, d + 1);
    }
  }

  private groupItem(e: PNode | undefined, L: Level, d: number): void {
    if (!e) return;
    const out = this.outputRef(e, L);
    if (out) this.addPred(out);
    this.pred(e, L, d + 1);
  }

  /** `ORDER BY 2` or `ORDER BY alias`: that output column's lineage */
  private outputRef(e: PNode, L: Level): Lin | undefined {
    const outs = L.outputs;
    if (!outs) return undefined;
    const leaf = bare(e);
    if (!leaf) return undefined;
    if (ruleName(leaf) === 'numLiteral' || ruleName(leaf) === 'literal') {
      const text = leaf.getText();
      if (!/^\d+$/.test(text)) return undefined;
      if (outs.some(isSpread)) {
        const acc = lin();
        for (const c of outs) mergeCol(acc, c);
        return acc;
      }
      const c = outs[Number(text) - 1];
      return c ? starAsWhole(c) : undefined;
    }
    if (ruleName(leaf) === 'columnRef') {
      const parts = nameParts(leaf);
      if (parts.length !== 1) return undefined;
      const m = outs.filter((c) => !isSpread(c) && eq(c.name, parts[0]!));
      if (m.length) return candidates(m, `several output columns are named "${parts[0]}"`);
    }
    return undefined;
  }

  private selectItems(list: PNode, L: Level, d: number): Col[] {
    const out: Col[] = [];
    for (const k of kids(list)) {
      if (k.symbol) {
        if (k.symbol.text === '*') out.push(...this.expandStar([], L));
        continue;
      }
      if (ruleName(k) !== 'selectItem') continue;
      const wild = child(k, 'tableWild');
      if (wild) {
        out.push(...this.expandStar(nameParts(wild).filter((p) => p !== '*'), L));
        continue;
      }
      const e = child(k, 'expr');
      if (!e) throw new LineageTooComplex();
      const l = this.expr(e, L, d + 1);
      const alias = child(k, 'selectAlias');
      out.push(colOf(l, alias ? aliasName(alias) : this.figure(e)));
    }
    return out;
  }

  /** the name MySQL gives an unaliased select item: a column's name, else the expression as written */
  private figure(e: PNode): string {
    const leaf = bare(e);
    if (leaf && ruleName(leaf) === 'columnRef') return nameParts(leaf).at(-1) ?? '';
    return sourceText(this.code, e);
  }

  private expandStar(qual: string[], L: Level): Col[] {
    if (qual.length === 0) {
      const out: Col[] = [];
      for (const item of L.items) out.push(...this.expandItem(item));
      if (!out.length) return [{ ...colOf(incomplete('* without a table'), '*'), expands: true }];
      return out;
    }
    const rel = this.findRel(qual, L);
    if (!rel) return [{ ...colOf(incomplete(`${qual.join('.')}.* does not name a table in scope`), '*'), expands: true }];
    return this.expandRel(rel);
  }

  private expandItem(item: Item): Col[] {
    if (item.rel) return this.expandRel(item.rel);
    const j = item.join;
    const names = new Set(j.merged.map((c) => c.name.toLowerCase()));
    const side = (i: Item): Col[] => this.expandItem(i).filter((c) => isSpread(c) || !names.has(c.name.toLowerCase()));
    const all = [...j.merged, ...side(j.left), ...side(j.right)];
    if (!j.naturalUnknown) return all;
    return all.map((c) => ({ ...c, inc: true, why: [...c.why, 'NATURAL JOIN merges columns that are unknown without the catalog'] }));
  }

  private expandRel(r: Rel): Col[] {
    if (r.cols) return r.opaque ? [...r.cols, { ...colOf(r.opaque, '*'), direct: false, expands: true }] : r.cols;
    if (r.table) return [{ src: [], whole: [], direct: true, inc: false, amb: false, why: [], name: '*', star: r.table }];
    return [{ ...colOf(r.opaque ?? incomplete('unknown relation'), '*'), direct: false, expands: true }];
  }

  // ------------------------------------------------------------------ FROM

  private tableReference(t: PNode, L: Level, d: number): Item {
    if (d > MAX_DEPTH) throw new LineageTooComplex();
    const factor = child(t, 'tableFactor');
    let item: Item;
    if (factor) item = this.tableFactor(factor, L, d + 1);
    else {
      // { OJ escapedTableReference }
      const esc = child(t, 'escapedTableReference');
      if (!esc) throw new LineageTooComplex();
      return this.tableReference(esc, L, d + 1);
    }
    for (const j of childrenNamed(t, 'joinedTable')) item = this.join(item, j, L, d + 1);
    return item;
  }

  private tableFactor(f: PNode, L: Level, d: number): Item {
    const k = kids(f).find((c) => !c.symbol);
    if (!k) throw new LineageTooComplex();
    switch (ruleName(k)) {
      case 'singleTable':
        return { rel: this.singleTable(k, L) };
      case 'singleTableParens': {
        let s: PNode | undefined = k;
        while (s && ruleName(s) === 'singleTableParens') s = kids(s).find((c) => !c.symbol);
        if (!s || ruleName(s) !== 'singleTable') throw new LineageTooComplex();
        return { rel: this.singleTable(s, L) };
      }
      case 'derivedTable': {
        const sub = child(k, 'subquery');
        if (!sub) throw new LineageTooComplex();
        const outer = hasTerminal(k, 'LATERAL') ? L : L.parent;
        const cols = rename(this.query(sub, outer, L.ctes, d + 1), this.columnList(child(k, 'columnInternalRefList')));
        const rel: Rel = { name: aliasOf(k) ?? '', cols };
        L.rels.push(rel);
        return { rel };
      }
      case 'tableReferenceListParens': {
        let s: PNode | undefined = k;
        while (s && ruleName(s) === 'tableReferenceListParens') s = kids(s).find((c) => !c.symbol);
        if (!s || ruleName(s) !== 'tableReferenceList') throw new LineageTooComplex();
        const items = childrenNamed(s, 'tableReference').map((t) => this.tableReference(t, L, d + 1));
        let item = items[0];
        if (!item) throw new LineageTooComplex();
        for (const next of items.slice(1)) item = { join: { left: item, right: next, merged: [], naturalUnknown: false } };
        return item;
      }
      case 'tableFunction':
        return { rel: this.jsonTable(k, L, d + 1) };
      default:
        throw new LineageTooComplex();
    }
  }

  private singleTable(s: PNode, L: Level): Rel {
    const ref = child(s, 'tableRef');
    if (!ref) throw new LineageTooComplex();
    const parts = nameParts(ref);
    const name = parts[parts.length - 1] ?? '';
    const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
    const alias = aliasOf(s);
    let rel: Rel | undefined;
    if (schema === undefined) {
      const cte = this.cte(L.ctes, name);
      if (cte) rel = { name: alias ?? name, cols: cte.cols ?? [{ ...colOf(incomplete(`recursive reference to ${name}`), '*'), expands: true }] };
    }
    if (!rel) {
      const table: LineageTable = schema !== undefined ? { schema, table: name } : { table: name };
      rel = { name: alias ?? name, table };
      if (!alias && schema !== undefined) rel.schema = schema;
    }
    L.rels.push(rel);
    return rel;
  }

  private jsonTable(f: PNode, L: Level, d: number): Rel {
    const acc = lin();
    const e = child(f, 'expr');
    if (e) merge(acc, this.expr(e, L, d + 1));
    const cols: Col[] = [];
    const visit = (cc: PNode | undefined): void => {
      if (!cc) return;
      for (const jc of childrenNamed(cc, 'jtColumn')) {
        const nested = child(jc, 'columnsClause');
        if (nested) {
          visit(nested);
          continue;
        }
        const id = child(jc, 'identifier');
        if (!id) throw new LineageTooComplex();
        const name = nameParts(id).join('.');
        if (hasTerminal(jc, 'ORDINALITY')) cols.push(colOf(lin(), name));
        else {
          const l = copyLin(acc);
          // DEFAULT values ON EMPTY / ON ERROR are literals
          l.direct = false;
          cols.push(colOf(l, name));
        }
      }
    };
    visit(child(f, 'columnsClause'));
    const rel: Rel = { name: aliasOf(f) ?? '', cols };
    L.rels.push(rel);
    return rel;
  }

  private join(left: Item, j: PNode, L: Level, d: number): Item {
    const rightNode = child(j, 'tableReference') ?? child(j, 'tableFactor');
    if (!rightNode) throw new LineageTooComplex();
    const right = ruleName(rightNode) === 'tableReference' ? this.tableReference(rightNode, L, d + 1) : this.tableFactor(rightNode, L, d + 1);
    const item: JoinItem = { left, right, merged: [], naturalUnknown: false };
    let using: string[] = [];
    const ul = child(j, 'identifierListWithParentheses');
    if (ul) {
      const il = child(ul, 'identifierList');
      using = il ? childrenNamed(il, 'identifier').map((i) => nameParts(i).join('.')) : [];
    }
    const natural = child(j, 'naturalJoinType');
    if (natural) {
      const ln = knownNames(this.expandItem(left));
      const rn = knownNames(this.expandItem(right));
      if (ln && rn) using = ln.filter((n) => rn.some((r) => eq(r, n)));
      else {
        item.naturalUnknown = true;
        this.addPred(this.wholeOfItem(left));
        this.addPred(this.wholeOfItem(right));
      }
    }
    const outer = child(j, 'outerJoinType') ?? natural;
    const rightJoin = !!outer && hasTerminal(outer, 'RIGHT');
    for (const name of using) {
      const l = this.columnInItem(left, name);
      const r = this.columnInItem(right, name);
      this.addPred(l);
      this.addPred(r);
      item.merged.push(colOf(rightJoin ? r : l, name));
    }
    L.merged.push(...item.merged);
    const on = child(j, 'expr');
    if (on) this.pred(on, L, d + 1);
    return { join: item };
  }

  private itemRels(item: Item, out: Rel[] = []): Rel[] {
    if (item.rel) out.push(item.rel);
    else {
      this.itemRels(item.join.left, out);
      this.itemRels(item.join.right, out);
    }
    return out;
  }

  private columnInItem(item: Item, name: string): Lin {
    if (item.join) {
      const m = item.join.merged.find((c) => eq(c.name, name));
      if (m) return m;
    }
    const definite: Lin[] = [];
    const maybe: Lin[] = [];
    for (const r of this.itemRels(item)) this.relHas(r, name, definite, maybe);
    if (definite.length) return candidates(definite, `several columns named "${name}"`);
    if (maybe.length) return candidates(maybe, `"${name}" could come from several tables`);
    return incomplete(`column "${name}" not found`);
  }

  private wholeOfItem(item: Item): Lin {
    const acc = lin();
    for (const r of this.itemRels(item)) merge(acc, this.wholeOf(r));
    return acc;
  }

  // ------------------------------------------------------------------ DML

  private insert(b: PNode): void {
    const L = level(undefined, undefined);
    const qe = child(b, 'insertQueryExpression');
    if (qe) {
      const q = kids(qe).find((k) => !k.symbol && ruleName(k) !== 'fields');
      if (q) this.query(q, undefined, undefined, 1);
    }
    // VALUES rows, SET assignments and ON DUPLICATE KEY UPDATE: only their subqueries' predicates
    for (const r of ['insertFromConstructor', 'updateList', 'insertUpdateList', 'valuesReference']) {
      const n = child(b, r);
      if (n) this.expr(n, L, 1);
    }
  }

  private update(b: PNode): void {
    const L = level(undefined, this.withClause(child(b, 'withClause'), undefined, undefined, 1));
    const refs = child(b, 'tableReferenceList');
    if (!refs) throw new LineageTooComplex();
    for (const t of childrenNamed(refs, 'tableReference')) L.items.push(this.tableReference(t, L, 1));
    const set = child(b, 'updateList');
    if (set) for (const el of childrenNamed(set, 'updateElement')) for (const e of childrenNamed(el, 'expr')) this.expr(e, L, 1);
    const where = child(b, 'whereClause');
    if (where) this.pred(child(where, 'expr'), L, 1);
    const order = child(b, 'orderClause');
    if (order) this.orderBy(order, L, [], 1);
  }

  private delete(b: PNode): void {
    const L = level(undefined, this.withClause(child(b, 'withClause'), undefined, undefined, 1));
    const single = child(b, 'tableRef');
    if (single) {
      const parts = nameParts(single);
      const name = parts[parts.length - 1] ?? '';
      const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
      const alias = aliasOf(b);
      const rel: Rel = { name: alias ?? name, table: schema !== undefined ? { schema, table: name } : { table: name } };
      if (!alias && schema !== undefined) rel.schema = schema;
      L.rels.push(rel);
      L.items.push({ rel });
    } else {
      const refs = child(b, 'tableReferenceList');
      if (!refs) throw new LineageTooComplex();
      for (const t of childrenNamed(refs, 'tableReference')) L.items.push(this.tableReference(t, L, 1));
    }
    const where = child(b, 'whereClause');
    if (where) this.pred(child(where, 'expr'), L, 1);
    const order = child(b, 'orderClause');
    if (order) this.orderBy(order, L, [], 1);
  }

  // ------------------------------------------------------------------ expressions

  private windowSpec(spec: PNode, L: Level, d: number): Lin {
    const acc = lin();
    const details = child(spec, 'windowSpecDetails');
    if (details) {
      const wn = child(details, 'windowName');
      if (wn) {
        const named = L.windows?.get(nameParts(wn).join('.').toLowerCase());
        if (named) merge(acc, named);
      }
      for (const k of kids(details)) if (!k.symbol && ruleName(k) !== 'windowName') this.collect(k, L, acc, d + 1);
    }
    this.addPred(acc);
    return acc;
  }

  /** the lineage of an expression; direct only for a bare column reference */
  private expr(n: PNode, L: Level, d: number): Lin {
    const leaf = bare(n);
    if (leaf && ruleName(leaf) === 'columnRef') return this.columnRef(leaf, L);
    const acc = lin();
    this.collect(n, L, acc, d);
    acc.direct = false;
    return acc;
  }

  private collect(n: PNode, L: Level, acc: Lin, d: number): void {
    if (d > MAX_DEPTH) throw new LineageTooComplex();
    for (const c of kids(n)) {
      if (c.symbol) continue;
      const r = ruleName(c);
      switch (r) {
        case 'columnRef':
          merge(acc, this.columnRef(c, L));
          continue;
        case 'simpleIdentifier': // MATCH (cols) AGAINST, DEFAULT(col)
          merge(acc, this.columnRef(c, L));
          continue;
        case 'subquery': {
          const cols = this.query(c, L, L.ctes, d + 1);
          // EXISTS (...) contributes nothing to the value (its WHERE is a predicate)
          if (!hasTerminal(n, 'EXISTS')) for (const col of cols) mergeCol(acc, col);
          continue;
        }
        case 'userVariable':
          acc.inc = true;
          acc.why.push(`user variable ${sourceText(this.code, c)} may hold any data`);
          continue;
        case 'systemVariable':
          continue;
        case 'functionCall': {
          const first = kids(c)[0];
          const q = first && ruleName(first) === 'qualifiedIdentifier';
          const fname = first ? nameParts(first).join('.') : '';
          if (q || !BUILTIN.has(fname.toLowerCase())) {
            acc.inc = true;
            acc.why.push(`${fname}() is not a built-in function: its result may come from other data`);
          }
          for (const k of kids(c).slice(1)) if (!k.symbol) this.collect(k, L, acc, d + 1);
          continue;
        }
        case 'windowingClause': {
          const wn = child(c, 'windowName');
          const spec = child(c, 'windowSpec');
          if (spec) merge(acc, this.windowSpec(spec, L, d + 1));
          else if (wn) {
            const named = L.windows?.get(nameParts(wn).join('.').toLowerCase());
            if (named) merge(acc, named);
            else {
              acc.inc = true;
              acc.why.push(`window ${nameParts(wn).join('.')} not found`);
            }
          }
          continue;
        }
        case 'orderClause': {
          // GROUP_CONCAT(... ORDER BY ...): part of the value, and it orders rows
          const l = lin();
          this.collect(c, L, l, d + 1);
          this.addPred(l);
          merge(acc, l);
          continue;
        }
        case 'querySpecification':
        case 'queryExpression':
        case 'queryExpressionParens':
          for (const col of this.query(c, L, L.ctes, d + 1)) mergeCol(acc, col);
          continue;
        default:
          this.collect(c, L, acc, d + 1);
      }
    }
  }

  private columnRef(n: PNode, L: Level): Lin {
    const parts = nameParts(n);
    if (parts.length === 0) return incomplete('empty column reference');
    const last = parts[parts.length - 1]!;
    if (parts.length === 1) return this.name(last, L);
    const rel = this.findRel(parts.slice(0, -1), L);
    if (rel) return this.relColumn(rel, last);
    return incomplete(`${parts.join('.')}: table not found in scope`);
  }

  private findRel(qual: string[], L: Level): Rel | undefined {
    const name = qual[qual.length - 1]!;
    const schema = qual.length >= 2 ? qual[qual.length - 2] : undefined;
    for (let lv: Level | undefined = L; lv; lv = lv.parent) {
      for (let i = lv.rels.length - 1; i >= 0; i--) {
        const r = lv.rels[i]!;
        if (r.name === '' || !eq(r.name, name)) continue;
        if (schema !== undefined && (r.schema === undefined || !eq(r.schema, schema))) continue;
        return r;
      }
    }
    return undefined;
  }

  /** an unqualified column name (in GROUP BY / HAVING / ORDER BY also a select-list alias) */
  private name(x: string, L: Level): Lin {
    const maybe: Lin[] = [];
    const aliasHits: Lin[] = [];
    for (let lv: Level | undefined = L; lv; lv = lv.parent) {
      if (lv.aliases && lv.outputs) for (const c of lv.outputs) if (!isSpread(c) && eq(c.name, x)) aliasHits.push(c);
      const definite: Lin[] = [];
      const here: Lin[] = [];
      for (const m of lv.merged) if (eq(m.name, x)) definite.push(m);
      if (!definite.length) for (const r of lv.rels) this.relHas(r, x, definite, here);
      if (!definite.length) maybe.push(...here);
      if (definite.length) {
        const found = definite.length === 1 ? definite[0]! : candidates(definite, `several columns named "${x}"`);
        if (!maybe.length && !aliasHits.length) return found;
        return candidates([...maybe, ...aliasHits, found], `"${x}" could come from several tables`);
      }
    }
    const all = [...maybe, ...aliasHits];
    if (all.length) return candidates(all, `"${x}" could come from several tables`);
    return incomplete(`column "${x}" not found in any table in scope`);
  }

  private relHas(r: Rel, x: string, definite: Lin[], maybe: Lin[]): void {
    if (r.cols) {
      let hit = false;
      for (const c of r.cols) {
        if (c.star) maybe.push(this.starColumn(c, x));
        else if (c.expands) maybe.push(c);
        else if (eq(c.name, x)) {
          definite.push(c);
          hit = true;
        }
      }
      if (!hit && r.opaque) maybe.push(r.opaque);
      return;
    }
    if (r.table) {
      maybe.push(this.relColumn(r, x));
      return;
    }
    if (r.opaque) maybe.push(r.opaque);
  }

  private starColumn(c: Col, x: string): Lin {
    return { src: [colRef(c.star!, x), ...c.src], whole: c.whole, direct: c.src.length === 0 && c.whole.length === 0, inc: c.inc, amb: c.amb, why: c.why };
  }

  private relColumn(r: Rel, x: string): Lin {
    if (r.cols) {
      const m: Lin[] = r.cols.filter((c) => !isSpread(c) && eq(c.name, x));
      if (m.length) return candidates(m, `several columns named "${x}" in ${r.name}`);
      const spread: Lin[] = r.cols.filter(isSpread).map((c) => (c.star ? this.starColumn(c, x) : c));
      if (r.opaque) spread.push(r.opaque);
      if (spread.length) return candidates(spread, `"${x}" could come from several tables`);
      return incomplete(`column "${x}" not found in ${r.name}`);
    }
    if (r.table) return { src: [colRef(r.table, x)], whole: [], direct: true, inc: false, amb: false, why: [] };
    return r.opaque ?? incomplete(`column "${x}" of ${r.name}`);
  }

  private wholeOf(r: Rel): Lin {
    const acc = lin();
    if (r.cols) for (const c of r.cols) mergeCol(acc, c);
    if (r.table) acc.whole.push(r.table);
    if (r.opaque) merge(acc, r.opaque);
    acc.direct = false;
    return acc;
  }
}

/** the innermost node of a chain of single-child rules (expr > boolPri > predicate > bitExpr > simpleExpr > columnRef) */
function bare(n: PNode): PNode | undefined {
  let c = n;
  for (let i = 0; i < 64; i++) {
    const ks = kids(c);
    if (ks.length !== 1 || ks[0]!.symbol) return c;
    c = ks[0]!;
    const r = ruleName(c);
    if (r === 'columnRef' || r === 'literal') return c;
  }
  return undefined;
}

function aliasOf(n: PNode): string | undefined {
  const a = child(n, 'tableAlias');
  const id = a ? kids(a).find((k) => !k.symbol) : undefined;
  return id ? nameParts(id).join('.') : undefined;
}

function aliasName(a: PNode): string {
  const k = kids(a).find((c) => !c.symbol || c.symbol.text.toUpperCase() !== 'AS');
  if (!k) return '';
  const text = k.symbol ? k.symbol.text : nameParts(k).join('.');
  if (text.startsWith("'") && text.endsWith("'")) return text.slice(1, -1).replace(/''/g, "'");
  return identText(text);
}
