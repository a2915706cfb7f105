/* eslint-disable @typescript-eslint/no-explicit-any -- walks libpg_query's JSON parse tree */
import type { StatementFacts, TableRef } from '../facts.js';
import { AnalysisError, FactsBuilder, snippet, tooComplex } from './facts-builder.js';
import type { RawParse, RawText } from './pg-wasm.js';
import { traceLineage } from './lineage.js';
import { analyzePlpgsqlTree } from './plpgsql-body.js';
import { copyOptions, copyQueryText } from './copy-options.js';
import { RELATION_OBJECTS, statementKind } from './statement-kind.js';
import { constantBool, constantText, isAlwaysTrue, isUnboundedCondition, sameTableName, type WriteTarget } from './where-eval.js';

/** The parser entry points a run needs; each throws AnalysisError when the parser itself fails. */
export interface ParserAccess {
  parse(sql: string): RawParse;
  plpgsql(sql: string): RawText;
  scan(sql: string): RawText;
}

export interface RunLimits {
  /** statements nested inside statements (CTEs, EXPLAIN, PREPARE, bodies, ...) */
  maxStatementDepth: number;
  /** JSON levels of one parse tree walked recursively */
  maxTreeDepth: number;
  /** parser calls for one analysis (top level, bodies, PL/pgSQL expressions) */
  maxParserCalls: number;
  /** total bytes handed to the parser for one analysis */
  maxParsedBytes: number;
}

export const DEFAULT_LIMITS: RunLimits = {
  maxStatementDepth: 32,
  maxTreeDepth: 3000,
  maxParserCalls: 20_000,
  maxParsedBytes: 8 * 1024 * 1024,
};

/** Functions whose SQL-text argument is executed; a constant text is analysed as nested SQL, anything else is opaque. */
const EXECUTES_SQL_ARG: Record<string, 'first' | 'dblink'> = {
  query_to_xml: 'first',
  query_to_xmlschema: 'first',
  query_to_xml_and_xmlschema: 'first',
  ts_stat: 'first',
  dblink: 'dblink',
  dblink_exec: 'dblink',
};

/** Functions that write server-side files. */
const WRITES_FILE = new Set(['lo_export', 'pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_file_sync']);

/** Functions that read server-side files. */
const READS_FILE = new Set(['pg_read_file', 'pg_read_binary_file', 'lo_import']);

/** Leaf or name-only nodes that can hold neither tables, functions nor statements. */
const LEAVES = new Set(['String', 'Integer', 'Float', 'Boolean', 'BitString', 'A_Const', 'ColumnRef', 'ParamRef', 'A_Star', 'TypeName', 'SQLValueFunction', 'CurrentOfExpr', 'SetToDefault', 'MergeSupportFunc']);

class Scope {
  constructor(
    private readonly names: ReadonlySet<string>,
    private readonly parent: Scope | undefined,
  ) {}
  has(name: string): boolean {
    for (let s: Scope | undefined = this; s; s = s.parent) if (s.names.has(name)) return true;
    return false;
  }
}

interface Ctx {
  b: FactsBuilder;
  access: 'read' | 'write';
  scope: Scope | undefined;
  /** statement nesting depth */
  depth: number;
  /** settings made by ALTER SYSTEM / ALTER ROLE / ALTER DATABASE: server-wide and persistent */
  persistentSettings?: boolean;
  /** names that are variables or parameters here, not columns (function parameters, PL/pgSQL variables) */
  vars?: ReadonlySet<string>;
}

function unwrap(n: any): [string, any] {
  if (!n || typeof n !== 'object' || Array.isArray(n)) return ['', n];
  const k = Object.keys(n);
  if (k.length === 1 && isNodeName(k[0])) return [k[0], n[k[0]]];
  return ['', n];
}

function isNodeName(k: string): boolean {
  const c = k.charCodeAt(0);
  return c >= 65 && c <= 90;
}

function isRangeVarShape(o: any): boolean {
  return typeof o.relname === 'string' && ('relpersistence' in o || 'inh' in o || 'location' in o);
}

function tableOf(rv: any): TableRef {
  const t: TableRef = { name: rv.relname };
  if (rv.schemaname !== undefined) t.schema = rv.schemaname;
  if (rv.catalogname !== undefined) t.catalog = rv.catalogname;
  return t;
}

/** ["s", "t"] name lists (DROP TABLE s.t) → a table reference. */
function tableFromNames(list: any): TableRef | undefined {
  const items: any[] = unwrap(list)[1]?.items ?? (Array.isArray(list) ? list : undefined);
  if (!items) return undefined;
  const parts = items.map((i) => unwrap(i)[1]?.sval);
  if (parts.length === 0 || parts.some((p) => typeof p !== 'string')) return undefined;
  const name = parts[parts.length - 1] as string;
  const t: TableRef = { name };
  if (parts.length >= 2) t.schema = parts[parts.length - 2];
  if (parts.length >= 3) t.catalog = parts[parts.length - 3];
  return t;
}

function names(list: any[] | undefined): string[] {
  return (list ?? []).map((x) => String(unwrap(x)[1]?.sval ?? ''));
}

function targetOf(rv: any): WriteTarget {
  const t: WriteTarget = { name: rv.relname };
  if (rv.schemaname !== undefined) t.schema = rv.schemaname;
  if (rv.alias?.aliasname !== undefined) t.alias = rv.alias.aliasname;
  return t;
}

function utf8Slice(text: string, start: number, len: number | undefined): string {
  // stmt_location/stmt_len are byte offsets into the UTF-8 text
  if (Buffer.byteLength(text) === text.length) return len ? text.slice(start, start + len) : text.slice(start);
  const buf = Buffer.from(text, 'utf8');
  return buf.subarray(start, len ? start + len : buf.length).toString('utf8');
}

function dollarQuote(body: string): string {
  let tag = 'sqlwarden';
  for (let i = 0; body.includes(`$${tag}$`); i++) tag = `sqlwarden${i}`;
  return `$${tag}$${body}$${tag}$`;
}

/** One analysis of one SQL string: statement facts for everything it (and what it nests) will run. */
export class PgAnalysisRun {
  private parserCalls = 0;
  private parsedBytes = 0;

  constructor(
    private readonly parser: ParserAccess,
    private readonly limits: RunLimits = DEFAULT_LIMITS,
  ) {}

  /** Parses `sql` and analyses each statement; a parse error throws (the caller decides fail or opaque). */
  analyzeText(sql: string, depth: number, scope?: Scope, vars?: ReadonlySet<string>): StatementFacts[] {
    const tree = this.parseTree(sql);
    return (tree.stmts ?? []).map((raw: any) => {
      const [type, x] = unwrap(raw.stmt);
      // only a PL/pgSQL function needs its own source text (the PL/pgSQL compiler takes the whole CREATE FUNCTION),
      // and COPY (query), whose query's text is cut out of it
      const text = type === 'CreateFunctionStmt' || (type === 'CopyStmt' && x?.query) ? utf8Slice(sql, raw.stmt_location ?? 0, raw.stmt_len) : undefined;
      return this.statement(type, x, depth, scope, text, vars);
    });
  }

  /** Nested SQL text (function bodies, PL/pgSQL statements): statements, or undefined when it does not parse. */
  tryAnalyzeText(sql: string, depth: number, vars?: ReadonlySet<string>): StatementFacts[] | undefined {
    try {
      return this.analyzeText(sql, depth, undefined, vars);
    } catch (e) {
      if (e instanceof AnalysisError && e.failure.kind === 'parse_error') return undefined;
      throw e;
    }
  }

  /** The value of `exprText` when it is a constant text expression; undefined otherwise. */
  constantText(exprText: string): string | undefined {
    let tree: any;
    try {
      tree = this.parseTree(`SELECT ${exprText}`);
    } catch (e) {
      if (e instanceof AnalysisError && e.failure.kind === 'parse_error') return undefined;
      throw e;
    }
    const stmts: any[] = tree.stmts ?? [];
    if (stmts.length !== 1) return undefined;
    const [t, sel] = unwrap(stmts[0].stmt);
    if (t !== 'SelectStmt' || sel.fromClause || sel.whereClause || sel.targetList?.length !== 1) return undefined;
    return constantText(unwrap(sel.targetList[0])[1]?.val);
  }

  scan(sql: string): RawText {
    this.charge(sql);
    return this.parser.scan(sql);
  }

  plpgsql(sql: string): RawText {
    this.charge(sql);
    return this.parser.plpgsql(sql);
  }

  private charge(sql: string): void {
    this.parserCalls++;
    this.parsedBytes += sql.length;
    if (this.parserCalls > this.limits.maxParserCalls) throw tooComplex(`more than ${this.limits.maxParserCalls} nested statements and expressions`);
    if (this.parsedBytes > this.limits.maxParsedBytes) throw tooComplex(`nested bodies add up to more than ${this.limits.maxParsedBytes} bytes`);
  }

  private parseTree(sql: string): any {
    this.charge(sql);
    const r = this.parser.parse(sql);
    if (!r.ok) {
      if (/memory exhausted|stack depth limit exceeded|out of memory/i.test(r.message)) throw tooComplex(r.message);
      throw new AnalysisError({ kind: 'parse_error', message: r.message, ...(r.cursorpos > 0 ? { position: r.cursorpos } : {}) });
    }
    try {
      return JSON.parse(r.json);
    } catch (e) {
      throw new AnalysisError({ kind: 'parser_failure', message: `unreadable parse tree: ${(e as Error).message}` });
    }
  }

  /** Facts of one statement node. `text` is its source when known (needed for PL/pgSQL function bodies). */
  statement(type: string, x: any, depth: number, scope: Scope | undefined, text?: string, vars?: ReadonlySet<string>): StatementFacts {
    if (depth > this.limits.maxStatementDepth) throw tooComplex(`statements nested more than ${this.limits.maxStatementDepth} levels deep`);
    const b = new FactsBuilder(statementKind(type, x), type);
    const ctx: Ctx = { b, access: 'read', scope, depth, ...(vars && vars.size > 0 ? { vars } : {}) };
    x = x ?? {};
    switch (type) {
      case 'SelectStmt':
        this.select(x, ctx, 0);
        b.hasLimit = hasLimit(x);
        b.hasWhere = !!x.whereClause;
        break;
      case 'InsertStmt':
        this.insert(x, ctx);
        break;
      case 'UpdateStmt':
        this.update(x, ctx);
        break;
      case 'DeleteStmt':
        this.delete(x, ctx);
        break;
      case 'MergeStmt':
        this.merge(x, ctx);
        break;
      case 'TruncateStmt':
        b.unboundedWrite = true;
        this.fields(x, { ...ctx, access: 'write' }, 0);
        break;
      case 'CopyStmt':
        this.copy(x, ctx, text);
        break;
      case 'ExplainStmt':
      case 'PrepareStmt':
        this.nestedStatement(x.query, ctx);
        break;
      case 'DeclareCursorStmt':
      case 'ReturnStmt':
        this.fields(x, ctx, 0);
        break;
      case 'CreateTableAsStmt':
        if (x.into?.rel) b.addWritten(tableOf(x.into.rel));
        this.value(x.query, ctx, 0);
        break;
      case 'ViewStmt':
        if (x.view) b.addWritten(tableOf(x.view));
        this.value(x.query, ctx, 0);
        break;
      case 'RuleStmt':
        if (x.relation) b.addWritten(tableOf(x.relation));
        this.value(x.whereClause, ctx, 0);
        for (const a of x.actions ?? []) this.nestedStatement(a, ctx);
        break;
      case 'CreateFunctionStmt':
        this.createFunction(x, ctx, text);
        break;
      case 'DoStmt':
        this.doBlock(x, ctx);
        break;
      case 'CreateTrigStmt':
      case 'CreateEventTrigStmt':
        b.addFunction(names(x.funcname).join('.').toLowerCase());
        this.fields({ ...x, funcname: undefined }, { ...ctx, access: 'write' }, 0);
        break;
      case 'VariableSetStmt':
        this.setting(x, ctx);
        break;
      case 'AlterSystemStmt':
      case 'AlterRoleSetStmt':
      case 'AlterDatabaseSetStmt':
        this.fields(x, { ...ctx, access: 'write', persistentSettings: true }, 0);
        break;
      case 'DropStmt':
        this.drop(x, ctx);
        break;
      case 'CommentStmt':
        this.comment(x, ctx);
        break;
      case 'CreateSchemaStmt':
        for (const e of x.schemaElts ?? []) this.nestedStatement(e, ctx);
        break;
      case 'CallStmt':
      case 'ExecuteStmt':
      case 'VariableShowStmt':
      case 'TransactionStmt':
      case 'ListenStmt':
      case 'UnlistenStmt':
      case 'NotifyStmt':
      case 'DeallocateStmt':
      case 'FetchStmt':
      case 'ClosePortalStmt':
      case 'DiscardStmt':
      case 'CheckPointStmt':
      case 'LoadStmt':
        this.fields(x, ctx, 0);
        break;
      default:
        // DDL and maintenance: every relation named is one being changed
        this.fields(x, { ...ctx, access: 'write' }, 0);
    }
    // output-column lineage and predicate columns (a separate pass; absent when it cannot be traced)
    const lineage = traceLineage(type, x);
    b.addPredicates(lineage?.predicateColumns);
    if (lineage?.outputColumns) b.outputColumns = lineage.outputColumns;
    return b.build();
  }

  /** A statement node found inside another: listed in `nested` and counted as the parent's own. */
  private nestedStatement(node: any, ctx: Ctx, text?: string): void {
    const [type, x] = unwrap(node);
    if (!type) return;
    ctx.b.addNested(this.statement(type, x, ctx.depth + 1, ctx.scope, text, ctx.vars));
  }

  private tooDeep(): AnalysisError {
    return tooComplex(`expression nested more than ${this.limits.maxTreeDepth} levels deep`);
  }

  /** Walks any JSON value of the tree. */
  private value(v: any, ctx: Ctx, d: number): void {
    if (v === null || typeof v !== 'object') return;
    if (d > this.limits.maxTreeDepth) throw this.tooDeep();
    if (Array.isArray(v)) {
      for (const e of v) this.value(e, ctx, d + 1);
      return;
    }
    const keys = Object.keys(v);
    if (keys.length === 1 && isNodeName(keys[0])) {
      this.node(keys[0], v[keys[0]], ctx, d + 1);
      return;
    }
    // struct-typed fields (RangeVar *, FuncCall *, VariableSetStmt *) come without their node name
    if (isRangeVarShape(v)) {
      this.rangeVar(v, ctx, d);
      return;
    }
    if (Array.isArray(v.funcname) && typeof v.funcformat === 'string') {
      this.funcCall(v, ctx, d);
      return;
    }
    if (typeof v.kind === 'string' && v.kind.startsWith('VAR_')) {
      this.setting(v, ctx);
      return;
    }
    for (const k of keys) {
      const c = v[k];
      if (c !== null && typeof c === 'object') this.value(c, ctx, d + 1);
    }
  }

  /** Walks the fields of a node body. */
  private fields(x: any, ctx: Ctx, d: number): void {
    if (!x || typeof x !== 'object') return;
    for (const k of Object.keys(x)) {
      const c = x[k];
      if (c !== null && typeof c === 'object') this.value(c, ctx, d + 1);
    }
  }

  private node(type: string, x: any, ctx: Ctx, d: number): void {
    if (LEAVES.has(type)) return;
    switch (type) {
      case 'RangeVar':
        this.rangeVar(x, ctx, d);
        return;
      case 'FuncCall':
        this.funcCall(x, ctx, d);
        return;
      case 'SelectStmt':
        this.select(x, ctx, d);
        return;
      case 'VariableSetStmt':
        // SET clauses of ALTER SYSTEM / ALTER ROLE / ALTER DATABASE / CREATE FUNCTION
        this.setting(x, ctx);
        return;
      case 'Constraint': {
        // a foreign key reads the table it references
        if (x.pktable) this.rangeVar(x.pktable, { ...ctx, access: 'read' }, d);
        this.fields({ ...x, pktable: undefined }, ctx, d);
        return;
      }
      case 'TableLikeClause':
        this.fields(x, { ...ctx, access: 'read' }, d);
        return;
      default:
        if (type.endsWith('Stmt')) {
          this.nestedStatement({ [type]: x }, ctx);
          return;
        }
        this.fields(x, ctx, d);
    }
  }

  private rangeVar(rv: any, ctx: Ctx, _d: number): void {
    if (typeof rv?.relname !== 'string') return;
    const t = tableOf(rv);
    if (ctx.access === 'write') ctx.b.addWritten(t);
    else if (t.schema !== undefined || t.catalog !== undefined || !ctx.scope?.has(t.name)) ctx.b.addRead(t);
  }

  private funcCall(x: any, ctx: Ctx, d: number): void {
    const parts = names(x.funcname).map((p) => p.toLowerCase());
    const name = parts.join('.');
    const base = parts[parts.length - 1] ?? '';
    ctx.b.addFunction(name);
    const args: any[] = x.args ?? [];
    if (base === 'set_config' && (parts.length === 1 || parts[0] === 'pg_catalog')) {
      const n = args[0] !== undefined ? constantText(args[0]) : undefined;
      const value = args[1] !== undefined ? constantText(args[1]) : undefined;
      const local = args[2] !== undefined ? constantBool(args[2]) : false;
      // a constant only when both the name and the value are written as literals (the value is the
      // setting's text as the server will parse it: a list such as search_path is split there)
      const literalName = args[0] !== undefined ? literalArg(args[0]) : undefined;
      const literalValue = args[1] !== undefined ? literalArg(args[1]) : undefined;
      const constant = literalName?.string && literalValue !== undefined ? { constant: literalValue.text } : {};
      ctx.b.addSetting({ name: n === undefined ? '*' : n.toLowerCase(), ...(value !== undefined ? { value } : {}), ...constant, scope: local === true ? 'local' : 'session' });
    }
    if (WRITES_FILE.has(base)) ctx.b.writesFile = true;
    if (READS_FILE.has(base)) ctx.b.readsFile = true;
    const exec = EXECUTES_SQL_ARG[base];
    if (exec) {
      let sqlArg = args[0];
      if (exec === 'dblink' && args.length >= 2 && constantText(args[1]) !== undefined && constantBool(args[1]) === undefined) sqlArg = args[1];
      const text = sqlArg !== undefined ? constantText(sqlArg) : undefined;
      const nested = text !== undefined ? this.tryAnalyzeText(text, ctx.depth + 1) : undefined;
      if (nested) for (const s of nested) ctx.b.addNested(s);
      else ctx.b.addOpaque(snippet(`${name}() runs SQL given as ${text === undefined ? 'a computed value' : 'text that does not parse'}`, text ?? ''));
    }
    this.fields({ ...x, funcname: undefined }, { ...ctx, access: 'read' }, d);
  }

  private withScope(w: any, ctx: Ctx, d: number): Scope | undefined {
    if (!w) return ctx.scope;
    const ctes: any[] = (w.ctes ?? []).map((c: any) => unwrap(c)[1]).filter(Boolean);
    if (w.recursive) {
      const s = new Scope(new Set(ctes.map((c) => c.ctename)), ctx.scope);
      for (const c of ctes) this.cteBody(c, { ...ctx, scope: s }, d);
      return s;
    }
    let s = ctx.scope;
    for (const c of ctes) {
      this.cteBody(c, { ...ctx, scope: s }, d);
      s = new Scope(new Set([c.ctename]), s);
    }
    return s;
  }

  private cteBody(cte: any, ctx: Ctx, d: number): void {
    const [type, x] = unwrap(cte.ctequery);
    if (type === 'SelectStmt') this.select(x, { ...ctx, access: 'read' }, d + 1);
    else if (type) this.nestedStatement(cte.ctequery, ctx);
  }

  private select(x: any, ctx: Ctx, d: number): void {
    const scope = this.withScope(x.withClause, ctx, d);
    const c: Ctx = { ...ctx, access: 'read', scope };
    for (const k of Object.keys(x)) {
      if (k === 'withClause' || k === 'intoClause') continue;
      const v = x[k];
      if (v !== null && typeof v === 'object') this.value(v, c, d + 1);
    }
    if (x.intoClause?.rel) ctx.b.addWritten(tableOf(x.intoClause.rel));
  }

  private returning(x: any, ctx: Ctx): void {
    const r = x.returningClause ?? (x.returningList ? { exprs: x.returningList } : undefined);
    if (r && (r.exprs?.length ?? 0) > 0) ctx.b.hasReturning = true;
    if (r) this.value(r, ctx, 0);
  }

  private insert(x: any, ctx0: Ctx): void {
    const ctx: Ctx = { ...ctx0, scope: this.withScope(x.withClause, ctx0, 0) };
    if (x.relation) ctx.b.addWritten(tableOf(x.relation));
    this.value(x.selectStmt, ctx, 0);
    this.value(x.cols, ctx, 0);
    const oc = x.onConflictClause;
    if (oc) {
      this.value(oc.infer, ctx, 0);
      if (oc.action === 'ONCONFLICT_UPDATE' && x.relation) {
        // INSERT ... ON CONFLICT DO UPDATE updates the conflicting rows
        const u = new FactsBuilder('update', 'OnConflictClause');
        u.addWritten(tableOf(x.relation));
        u.hasWhere = !!oc.whereClause;
        const uc: Ctx = { ...ctx, b: u, depth: ctx.depth + 1 };
        this.value(oc.targetList, uc, 0);
        this.value(oc.whereClause, uc, 0);
        ctx.b.addNested(u.build());
      }
    }
    this.returning(x, ctx);
  }

  private update(x: any, ctx0: Ctx): void {
    const ctx: Ctx = { ...ctx0, scope: this.withScope(x.withClause, ctx0, 0) };
    const b = ctx.b;
    if (x.relation) b.addWritten(tableOf(x.relation));
    this.value(x.targetList, ctx, 0);
    this.value(x.fromClause, ctx, 0);
    this.where(x, ctx);
    this.returning(x, ctx);
  }

  private delete(x: any, ctx0: Ctx): void {
    const ctx: Ctx = { ...ctx0, scope: this.withScope(x.withClause, ctx0, 0) };
    if (x.relation) ctx.b.addWritten(tableOf(x.relation));
    this.value(x.usingClause, ctx, 0);
    this.where(x, ctx);
    this.returning(x, ctx);
  }

  private where(x: any, ctx: Ctx): void {
    const b = ctx.b;
    b.hasWhere = !!x.whereClause;
    this.value(x.whereClause, ctx, 0);
    // unbounded: no WHERE, an always-true one, or one that does not depend on the written row
    if (!x.whereClause || isUnboundedCondition(x.whereClause, x.relation ? targetOf(x.relation) : undefined, ctx.vars)) b.unboundedWrite = true;
  }

  private merge(x: any, ctx0: Ctx): void {
    const ctx: Ctx = { ...ctx0, scope: this.withScope(x.withClause, ctx0, 0) };
    const b = ctx.b;
    const target = x.relation ? targetOf(x.relation) : undefined;
    if (x.relation) b.addWritten(tableOf(x.relation));
    this.value(x.sourceRelation, ctx, 0);
    this.value(x.joinCondition, ctx, 0);
    b.hasWhere = true;
    // every target row matches when the join condition is always true, or when the source is the
    // target itself joined on one of its columns
    const [st, src] = unwrap(x.sourceRelation);
    const selfJoin = st === 'RangeVar' && target !== undefined && sameTableName(src.relname, src.schemaname, target.name, target.schema) && sameColumnEquality(x.joinCondition);
    const allMatch = isUnboundedCondition(x.joinCondition, target, ctx.vars) || selfJoin;
    for (const w of x.mergeWhenClauses ?? []) {
      const [, mw] = unwrap(w);
      if (!mw) continue;
      const kind = mw.commandType === 'CMD_UPDATE' ? 'update' : mw.commandType === 'CMD_DELETE' ? 'delete' : mw.commandType === 'CMD_INSERT' ? 'insert' : undefined;
      if (!kind) {
        this.value(mw.condition, ctx, 0);
        continue;
      }
      const a = new FactsBuilder(kind, 'MergeWhenClause');
      if (x.relation) a.addWritten(tableOf(x.relation));
      a.hasWhere = !!mw.condition;
      const ac: Ctx = { ...ctx, b: a, depth: ctx.depth + 1 };
      this.value(mw.condition, ac, 0);
      this.value(mw.targetList, ac, 0);
      this.value(mw.values, ac, 0);
      if (kind !== 'insert') {
        const unconditional = !mw.condition || isAlwaysTrue(mw.condition, target);
        if (unconditional && (mw.matchKind === 'MERGE_WHEN_NOT_MATCHED_BY_SOURCE' || allMatch)) a.unboundedWrite = true;
      }
      b.addNested(a.build());
    }
    this.returning(x, ctx);
  }

  private copy(x: any, ctx: Ctx, text: string | undefined): void {
    const b = ctx.b;
    const from = x.is_from === true;
    const program = x.is_program === true;
    const hasFile = typeof x.filename === 'string';
    b.copy = { direction: from ? 'from' : 'to', program, file: hasFile && !program, stdio: !hasFile, options: copyOptions(x.options) };
    if (x.relation) {
      b.copy.relation = tableOf(x.relation);
      if (x.attlist) b.copy.columns = names(x.attlist);
    }
    if (x.query && text !== undefined) {
      const q = copyQueryText(text, (sql) => this.scan(sql));
      if (q !== undefined) b.copy.query = q;
    }
    if (!from && hasFile) b.writesFile = true;
    if (from && hasFile && !program) b.readsFile = true;
    if (x.relation) {
      if (from) b.addWritten(tableOf(x.relation));
      else b.addRead(tableOf(x.relation));
    }
    this.value(x.query, ctx, 0);
    this.value(x.whereClause, ctx, 0);
  }

  private setting(x: any, ctx: Ctx): void {
    const base = { scope: x.is_local ? ('local' as const) : ('session' as const), ...(ctx.persistentSettings ? { global: true, persist: true } : {}) };
    switch (x.kind) {
      case 'VAR_SET_VALUE': {
        const name = String(x.name ?? '*').toLowerCase();
        const args: any[] = x.args ?? [];
        const vals = args.map((a: any) => constantText(a) ?? settingArgText(a));
        const constant = setArgsConstant(name, args);
        ctx.b.addSetting({ name, value: vals.join(', '), ...(constant !== undefined ? { constant } : {}), ...base });
        break;
      }
      case 'VAR_SET_MULTI':
        // SET TRANSACTION ... / SET SESSION CHARACTERISTICS AS TRANSACTION ...
        for (const a of x.args ?? []) {
          const [, de] = unwrap(a);
          if (!de?.defname) continue;
          const name = String(de.defname).toLowerCase();
          const constant = setArgsConstant(name, [de.arg]);
          ctx.b.addSetting({ name, value: constantText(de.arg) ?? settingArgText(de.arg), ...(constant !== undefined ? { constant } : {}), ...base });
        }
        break;
      case 'VAR_RESET_ALL':
        ctx.b.addSetting({ name: '*', reset: true, ...base });
        break;
      case 'VAR_SET_DEFAULT':
      case 'VAR_RESET':
        // SET x TO DEFAULT, SET TIME ZONE LOCAL, RESET x: back to the session's starting value
        ctx.b.addSetting({ name: String(x.name ?? '*').toLowerCase(), reset: true, ...base });
        break;
      default:
        // SET x FROM CURRENT (a function's SET clause captures the creating session's value): not a constant
        ctx.b.addSetting({ name: String(x.name ?? '*').toLowerCase(), ...base });
    }
    this.value(x.args, ctx, 0);
  }

  private drop(x: any, ctx: Ctx): void {
    const objs: any[] = x.objects ?? [];
    const type: string = x.removeType;
    for (const o of objs) {
      if (RELATION_OBJECTS.has(type)) {
        const t = tableFromNames(o);
        if (t) ctx.b.addWritten(t);
      } else if (type === 'OBJECT_TRIGGER' || type === 'OBJECT_RULE' || type === 'OBJECT_POLICY') {
        // DROP TRIGGER trg ON s.t: the names are [s, t, trg]
        const items: any[] = unwrap(o)[1]?.items ?? [];
        const t = tableFromNames(items.slice(0, -1));
        if (t) ctx.b.addWritten(t);
      }
    }
    this.fields({ ...x, objects: undefined }, { ...ctx, access: 'write' }, 0);
  }

  private comment(x: any, ctx: Ctx): void {
    const type: string = x.objtype;
    if (RELATION_OBJECTS.has(type)) {
      const t = tableFromNames(x.object);
      if (t) ctx.b.addWritten(t);
    } else if (type === 'OBJECT_COLUMN' || type === 'OBJECT_TRIGGER' || type === 'OBJECT_RULE' || type === 'OBJECT_POLICY' || type === 'OBJECT_TABCONSTRAINT') {
      const items: any[] = unwrap(x.object)[1]?.items ?? [];
      const t = tableFromNames(items.slice(0, -1));
      if (t) ctx.b.addWritten(t);
    }
  }

  private createFunction(x: any, ctx: Ctx, text: string | undefined): void {
    const b = ctx.b;
    let language: string | undefined;
    let body: any[] | undefined;
    for (const o of x.options ?? []) {
      const [, de] = unwrap(o);
      if (de?.defname === 'language') language = String(unwrap(de.arg)[1]?.sval ?? '').toLowerCase();
      else if (de?.defname === 'as') body = unwrap(de.arg)[1]?.items ?? [];
      else this.value(de?.arg, ctx, 0);
    }
    // parameter DEFAULT expressions run at call time
    this.value(x.parameters, ctx, 0);
    // in the body, a parameter's name is a value that is the same for every row
    const params = functionParameterNames(x.parameters);
    if (x.sql_body) {
      this.sqlBody(x.sql_body, { ...ctx, vars: params });
      return;
    }
    const src = body && body.length > 0 ? String(unwrap(body[0])[1]?.sval ?? '') : undefined;
    const lang = language ?? 'sql';
    if (src === undefined) {
      b.addOpaque(snippet(`function in language ${lang} without a body`, ''));
      return;
    }
    if (lang === 'sql' && body!.length === 1) {
      const nested = this.tryAnalyzeText(src, ctx.depth + 1, params);
      if (nested) for (const s of nested) b.addNested(s);
      else b.addOpaque(snippet('SQL function body that does not parse', src));
    } else if (lang === 'plpgsql' && text !== undefined) {
      this.plpgsqlBody(text, src, ctx);
    } else {
      b.addOpaque(snippet(`function in language ${lang}`, body!.map((i) => String(unwrap(i)[1]?.sval ?? '')).join(', ')));
    }
  }

  /** BEGIN ATOMIC ... END and RETURN expr bodies: already parsed, statement by statement. */
  private sqlBody(body: any, ctx: Ctx): void {
    const visit = (n: any, d: number): void => {
      if (d > 8 || !n || typeof n !== 'object') return;
      const [type, x] = unwrap(n);
      if (type === 'List') for (const i of x.items ?? []) visit(i, d + 1);
      else if (type) this.nestedStatement(n, ctx);
    };
    visit(body, 0);
  }

  private doBlock(x: any, ctx: Ctx): void {
    let language = 'plpgsql';
    let src = '';
    for (const a of x.args ?? []) {
      const [, de] = unwrap(a);
      if (de?.defname === 'language') language = String(unwrap(de.arg)[1]?.sval ?? '').toLowerCase();
      else if (de?.defname === 'as') src = String(unwrap(de.arg)[1]?.sval ?? '');
    }
    if (language !== 'plpgsql') {
      ctx.b.addOpaque(snippet(`DO block in language ${language}`, src));
      return;
    }
    this.plpgsqlBody(`DO ${dollarQuote(src)}`, src, ctx);
  }

  private plpgsqlBody(statementText: string, src: string, ctx: Ctx): void {
    const r = this.plpgsql(statementText);
    if (!r.ok) {
      ctx.b.addOpaque(snippet(`PL/pgSQL body that does not compile (${r.message})`, src));
      return;
    }
    let tree: any;
    try {
      tree = JSON.parse(r.text);
    } catch {
      ctx.b.addOpaque(snippet('PL/pgSQL body with an unreadable tree', src));
      return;
    }
    // the block's variables and the function's parameters are values, not columns
    const vars = plpgsqlVariableNames(tree, this.limits.maxTreeDepth);
    analyzePlpgsqlTree(tree, {
      depth: ctx.depth,
      maxTreeDepth: this.limits.maxTreeDepth,
      builder: ctx.b,
      analyzeSql: (sql, depth) => this.tryAnalyzeText(sql, depth, vars),
      scan: (sql) => this.scan(sql),
      constantText: (expr) => this.constantText(expr),
    });
  }
}

function hasLimit(x: any): boolean {
  const l = x.limitCount;
  if (!l) return false;
  const [t, c] = unwrap(l);
  return !(t === 'A_Const' && c?.isnull);
}

/** A literal written as a SET or set_config() argument, with the text the server gives it; undefined for anything else. */
function literalArg(a: any): { text: string; string: boolean } | undefined {
  const [t, x] = unwrap(a);
  if (t !== 'A_Const' || !x || x.isnull) return undefined;
  if (x.sval !== undefined) return { text: String(x.sval.sval ?? ''), string: true };
  if (x.ival !== undefined) return { text: String(x.ival.ival ?? 0), string: false };
  if (x.fval !== undefined) return { text: String(x.fval.fval ?? '0'), string: false };
  if (x.boolval !== undefined) return { text: x.boolval.boolval === true ? 'true' : 'false', string: false };
  return undefined;
}

/**
 * Settings whose list elements the server double-quotes when flattening SET arguments (GUC_LIST_QUOTE):
 * `SET search_path = "MySchema", public` becomes `"MySchema", public`, and `SET search_path = 'a, b'`
 * one schema named `a, b`.
 */
const LIST_QUOTE_SETTINGS: ReadonlySet<string> = new Set(['search_path', 'temp_tablespaces', 'local_preload_libraries', 'session_preload_libraries', 'shared_preload_libraries']);

/**
 * The constant of SET arguments, as the server flattens them (flatten_set_variable_args): every
 * argument must be a literal; they are joined with ", "; strings of a GUC_LIST_QUOTE setting are
 * double-quoted unless a plain lower-case name (the server also quotes keywords: no difference to a
 * case-insensitive match). Undefined when an argument is not a literal (SET TIME ZONE INTERVAL ...).
 */
function setArgsConstant(name: string, args: any[]): string | undefined {
  if (args.length === 0) return undefined;
  const quote = LIST_QUOTE_SETTINGS.has(name);
  const out: string[] = [];
  for (const a of args) {
    const lit = literalArg(a);
    if (lit === undefined) return undefined;
    out.push(quote && lit.string && !/^[a-z_][a-z0-9_$]*$/.test(lit.text) ? `"${lit.text.replace(/"/g, '""')}"` : lit.text);
  }
  return out.join(', ');
}

function settingArgText(a: any): string {
  const [t, x] = unwrap(a);
  if (t === 'TypeCast') return settingArgText(x.arg);
  if (t === 'A_Const') return constantText(a) ?? '';
  return '?';
}

/** `a.col = b.col`: the same column name on both sides. */
function sameColumnEquality(cond: any): boolean {
  const [t, x] = unwrap(cond);
  if (t !== 'A_Expr' || x.kind !== 'AEXPR_OP') return false;
  const op = names(x.name);
  if (op[op.length - 1] !== '=') return false;
  const last = (n: any): string | undefined => {
    const [ct, c] = unwrap(n);
    if (ct !== 'ColumnRef') return undefined;
    const f = c.fields ?? [];
    return unwrap(f[f.length - 1])[1]?.sval;
  };
  const l = last(x.lexpr);
  return l !== undefined && l === last(x.rexpr);
}

/** Named parameters of CREATE FUNCTION / PROCEDURE (any mode: IN, OUT, INOUT, VARIADIC, TABLE). */
function functionParameterNames(params: any[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const p of params ?? []) {
    const [, fp] = unwrap(p);
    if (typeof fp?.name === 'string' && fp.name !== '') out.add(fp.name);
  }
  return out;
}

/** Names of a PL/pgSQL body's variables (its datums: DECLAREd variables, parameters, FOUND, loop variables). */
function plpgsqlVariableNames(tree: any, maxDepth: number): Set<string> {
  const out = new Set<string>();
  const visit = (v: any, d: number): void => {
    if (v === null || typeof v !== 'object' || d > maxDepth) return;
    if (Array.isArray(v)) {
      for (const e of v) visit(e, d + 1);
      return;
    }
    for (const k of Object.keys(v)) {
      const c = v[k];
      if ((k === 'PLpgSQL_var' || k === 'PLpgSQL_rec') && c && typeof c.refname === 'string') out.add(c.refname);
      if (c !== null && typeof c === 'object') visit(c, d + 1);
    }
  };
  visit(tree, 0);
  return out;
}
