/**
 * Builds StatementFacts from one parsed MySQL statement (the grammar's `simpleStatement`).
 */
import { emptyFacts, type SettingFact, type StatementFacts, type StatementKind, type TableRef } from '../facts.js';
import type { PNode } from './grammar-parser.js';
import { mysqlSettingConstant } from './setting-value.js';
import {
  child,
  childrenNamed,
  findAll,
  findFirst,
  firstWord,
  hasTerminal,
  kids,
  nameParts,
  ruleName,
  sourceText,
  terminals,
} from './tree.js';
import { traceMysqlLineage } from './lineage.js';
import { judgeWhere, unboundedCond } from './where-eval.js';

export interface FactsContext {
  /** the text the tree was parsed from (offsets of the tree's tokens) */
  code: string;
  /** literal lists were shortened before parsing */
  reducedLists: boolean;
  /** optimizer hint bodies of this statement */
  hints: string[];
  /**
   * analyse SQL text that this statement will run (PREPARE ... FROM 'text'); returns the facts of its
   * statements or a reason it could not be analysed
   */
  analyzeText(sql: string): { ok: true; statements: StatementFacts[] } | { ok: false; message: string };
}

/** a statement whose SQL text could not be analysed: the whole analysis fails closed */
export class NestedFailure extends Error {}

/** subtrees that are run later or elsewhere, not by this statement: their facts go to `nested` */
const BODY_RULES: ReadonlySet<string> = new Set(['compoundStatement']);
/** subtrees below which a WHERE or LIMIT is not the statement's own */
const SUBQUERY_RULES: ReadonlySet<string> = new Set(['subquery', 'derivedTable', 'compoundStatement', 'queryExpressionParens', 'tableFunction']);

const FUNCTION_RULES: ReadonlySet<string> = new Set([
  'functionCall',
  'runtimeFunctionCall',
  'sumExpr',
  'windowFunctionCall',
  'jsonFunction',
  'geometryFunction',
  'trimFunction',
  'substringFunction',
]);

const TABLE_RULES: ReadonlySet<string> = new Set(['tableRef', 'tableName', 'viewRef', 'viewName', 'filterTableRef']);

class Builder {
  readonly facts: StatementFacts;
  private readonly written = new Set<PNode>();
  private readonly cteNames = new Set<string>();

  constructor(
    readonly stmt: PNode,
    readonly ctx: FactsContext,
  ) {
    this.facts = emptyFacts('other', '');
  }

  table(n: PNode): TableRef {
    const parts = nameParts(n);
    const name = parts[parts.length - 1] ?? '';
    return parts.length >= 2 ? { schema: parts[parts.length - 2]!, name } : { name };
  }

  write(n: PNode | undefined): void {
    if (!n) return;
    this.written.add(n);
    this.facts.tablesWritten.push(this.table(n));
  }

  writeAll(root: PNode | undefined, stop: ReadonlySet<string> = SUBQUERY_RULES): void {
    if (!root) return;
    const found = TABLE_RULES.has(ruleName(root)) ? [root] : findAll(root, TABLE_RULES, stop);
    for (const t of found) this.write(t);
  }

  writeDatabase(n: PNode | undefined): void {
    if (!n) return;
    this.written.add(n);
    const parts = nameParts(n);
    this.facts.tablesWritten.push({ schema: parts[parts.length - 1] ?? '', name: '*' });
  }

  kind(k: StatementKind, nodeType: string): void {
    this.facts.kind = k;
    this.facts.nodeType = nodeType;
  }

  /** the statement's own WHERE (not a subquery's) and LIMIT; `targets`: names/aliases of the written tables */
  whereAndLimit(root: PNode, judge: boolean, targets?: string[]): void {
    const wheres = findAll(root, new Set(['whereClause']), SUBQUERY_RULES);
    const limits = findAll(root, new Set(['limitClause', 'simpleLimitClause']), SUBQUERY_RULES);
    this.facts.hasWhere = wheres.length > 0;
    this.facts.hasLimit = limits.length > 0;
    if (!judge) return;
    const where = wheres[0];
    const expr = where ? child(where, 'expr') : undefined;
    const whereUnbounded = expr ? judgeWhere(expr, { reducedLists: this.ctx.reducedLists }).unbounded : true;
    this.facts.unboundedWrite = whereUnbounded && !(targets && this.joinBounded(root, targets));
  }

  /**
   * Multi-table UPDATE/DELETE: every target is bounded by an inner-join condition that refers to it
   * (`t JOIN u ON t.id = u.id`, `t JOIN u USING (id)`) and does not itself leave the rows unbounded
   * (`ON 1 = 1`, `ON ?`, `ON t.id = t.id`, `ON t.a = 1 OR 1`). Outer and natural joins never bound
   * (a LEFT JOIN keeps every row of its left side).
   */
  private joinBounded(root: PNode, targets: string[]): boolean {
    const refs = child(root, 'tableReferenceList');
    if (!refs || targets.length === 0) return false;
    const bounded = new Set<string>();
    for (const j of findAll(refs, new Set(['joinedTable']), SUBQUERY_RULES)) {
      const type = child(j, 'innerJoinType');
      if (!type) continue;
      const on = child(j, 'expr');
      if (on) {
        if (unboundedCond(on, { reducedLists: this.ctx.reducedLists })) continue;
        for (const c of findAll(on, new Set(['columnRef']), SUBQUERY_RULES)) {
          const parts = nameParts(c);
          if (parts.length >= 2) bounded.add(parts[parts.length - 2]!.toLowerCase());
        }
        continue;
      }
      if (hasTerminal(j, 'USING') && child(j, 'identifierListWithParentheses')) {
        // USING (col): relates the joined table to the tables on its left
        for (const t of findAll(j, new Set(['singleTable']), SUBQUERY_RULES)) bounded.add(tableKey(t));
        const left = kids(j.parentCtx ?? j).slice(0, kids(j.parentCtx ?? j).indexOf(j));
        for (const l of left) for (const t of ruleName(l) === 'singleTable' ? [l] : findAll(l, new Set(['singleTable']), SUBQUERY_RULES)) bounded.add(tableKey(t));
      }
    }
    return targets.every((t) => bounded.has(t.toLowerCase()));
  }

  build(): StatementFacts {
    const s = this.stmt;
    const body = ruleName(s) === 'simpleStatement' ? kids(s)[0] : s;
    if (!body) return this.facts;
    this.dispatch(body);
    this.collectCommon(s);
    this.collectHints();
    // column lineage (lineage.ts): both fields absent when it could not be traced (fail closed)
    const lineage = traceMysqlLineage(body, this.ctx.code);
    if (lineage) {
      this.facts.predicateColumns = lineage.predicateColumns;
      if (lineage.outputColumns) this.facts.outputColumns = lineage.outputColumns;
    }
    return this.facts;
  }

  private dispatch(b: PNode): void {
    const r = ruleName(b);
    switch (r) {
      case 'selectStatement': {
        this.kind('select', r);
        const into = findFirst(b, 'intoClause', SUBQUERY_RULES);
        if (into && (hasTerminal(into, 'OUTFILE') || hasTerminal(into, 'DUMPFILE'))) {
          this.facts.writesFile = true;
          this.facts.copy = { direction: 'to', program: false, file: true, stdio: false };
        }
        this.whereAndLimit(b, false);
        return;
      }
      case 'insertStatement':
      case 'replaceStatement':
        this.kind('insert', r);
        this.write(child(b, 'tableRef'));
        return;
      case 'updateStatement': {
        this.kind('update', r);
        this.writeAll(child(b, 'tableReferenceList'));
        this.whereAndLimit(b, true, this.updateTargets(b));
        return;
      }
      case 'deleteStatement':
        this.kind('delete', r);
        this.whereAndLimit(b, true, this.deleteTargets(b));
        return;
      case 'truncateTableStatement':
        this.kind('truncate', r);
        this.write(child(b, 'tableRef'));
        return;
      case 'dropStatement':
        return this.drop(kids(b)[1] ?? b);
      case 'createStatement':
        return this.create(kids(b).find((k) => !k.symbol && ruleName(k) !== 'definerClause') ?? b, b);
      case 'alterStatement':
        return this.alter(b);
      case 'renameTableStatement':
        this.kind('alter_table', r);
        this.writeAll(b);
        return;
      case 'importStatement':
        this.kind('other', r);
        return;
      case 'callStatement': {
        this.kind('call', r);
        const p = child(b, 'procedureRef');
        if (p) this.facts.functions.push(nameParts(p).join('.').toLowerCase());
        return;
      }
      case 'doStatement':
        this.kind('do', r);
        return;
      case 'handlerStatement': {
        this.kind('handler', r);
        const t = child(b, 'tableRef');
        if (!t) {
          const id = child(b, 'identifier');
          if (id) this.facts.tablesRead.push({ name: nameParts(id).join('.') });
        }
        return;
      }
      case 'loadStatement': {
        this.kind('load_data', r);
        const local = hasTerminal(b, 'LOCAL');
        this.write(child(b, 'tableRef'));
        this.facts.readsFile = !local;
        this.facts.copy = { direction: 'from', program: false, file: !local, stdio: local };
        return;
      }
      case 'transactionOrLockingStatement':
        return this.transactionOrLock(kids(b)[0] ?? b);
      case 'beginWork':
        this.kind('transaction', r);
        return;
      case 'replicationStatement':
      case 'cloneStatement':
      case 'installUninstallStatment':
      case 'resourceGroupManagement':
      case 'getDiagnostics':
      case 'signalStatement':
      case 'resignalStatement':
        this.kind('other', r);
        return;
      case 'preparedStatement':
        return this.prepared(b);
      case 'accountManagementStatement':
        return this.account(kids(b)[0] ?? b);
      case 'tableAdministrationStatement': {
        const w = firstWord(b);
        const tables = child(b, 'tableRefList') ?? child(b, 'tableRef');
        if (w === 'ANALYZE') this.kind('analyze', r);
        else if (w === 'OPTIMIZE') this.kind('vacuum', r);
        // CHECK TABLE and CHECKSUM TABLE verify and read; they change nothing
        else if (w === 'CHECK' || w === 'CHECKSUM') this.kind('analyze', r);
        else this.kind('other', `${r}:${w}`);
        if (w === 'OPTIMIZE' || w === 'REPAIR') this.writeAll(tables);
        return;
      }
      case 'setStatement':
        this.kind('set', r);
        this.settings(b);
        return;
      case 'showStatement':
        this.kind('show', r);
        return;
      case 'otherAdministrativeStatement':
        this.kind('other', `${r}:${firstWord(b)}`);
        return;
      case 'utilityStatement':
        return this.utility(kids(b)[0] ?? b);
      default:
        this.kind('other', r);
    }
  }

  /** names (or aliases) of the tables a multi-table UPDATE assigns to; every table when a column is unqualified */
  private updateTargets(b: PNode): string[] {
    const refs = child(b, 'tableReferenceList');
    if (!refs) return [];
    const all = findAll(refs, new Set(['singleTable']), SUBQUERY_RULES).map(tableKey);
    const out = new Set<string>();
    for (const el of findAll(child(b, 'updateList') ?? b, new Set(['updateElement']), SUBQUERY_RULES)) {
      const col = child(el, 'columnRef');
      const parts = col ? nameParts(col) : [];
      if (parts.length < 2) return all;
      out.add(parts[parts.length - 2]!.toLowerCase());
    }
    return out.size > 0 ? [...out] : all;
  }

  /** records the written tables; returns the names/aliases the statement deletes through (multi-table form) */
  private deleteTargets(b: PNode): string[] {
    const direct = child(b, 'tableRef');
    if (direct) {
      this.write(direct);
      return [];
    }
    const targets: string[] = [];
    const aliasList = child(b, 'tableAliasRefList');
    const refs = child(b, 'tableReferenceList');
    // alias → table, from the FROM/USING list
    const aliases = new Map<string, PNode>();
    if (refs) {
      for (const st of findAll(refs, new Set(['singleTable']), SUBQUERY_RULES)) {
        const t = child(st, 'tableRef');
        const alias = child(st, 'tableAlias');
        if (!t) continue;
        const key = alias ? nameParts(kids(alias).find((k) => !k.symbol) ?? alias).join('.') : nameParts(t).join('.');
        aliases.set(key.toLowerCase(), t);
        if (!alias) aliases.set((nameParts(t).at(-1) ?? '').toLowerCase(), t);
      }
    }
    for (const w of aliasList ? childrenNamed(aliasList, 'tableRefWithWildcard') : []) {
      const parts = nameParts(w).filter((p) => p !== '*');
      targets.push((parts[parts.length - 1] ?? '').toLowerCase());
      const target = aliases.get(parts.join('.').toLowerCase());
      if (target) this.write(target);
      else this.facts.tablesWritten.push(parts.length >= 2 ? { schema: parts[parts.length - 2]!, name: parts[parts.length - 1]! } : { name: parts[0] ?? '' });
    }
    return targets;
  }

  private drop(d: PNode): void {
    const r = ruleName(d);
    switch (r) {
      case 'dropTable':
        this.kind('drop_table', r);
        this.writeAll(d);
        return;
      case 'dropDatabase':
        this.kind('drop_database', r);
        this.writeDatabase(child(d, 'schemaRef'));
        return;
      case 'dropIndex':
        this.kind('drop_index', r);
        this.write(child(d, 'tableRef'));
        return;
      case 'dropView':
        this.kind('drop_view', r);
        this.writeAll(d);
        return;
      case 'dropFunction':
      case 'dropProcedure':
        this.kind('drop_function', r);
        return;
      case 'dropRole':
        this.kind('drop_role', r);
        return;
      case 'dropTrigger':
        this.kind('drop_other', r);
        return;
      default:
        this.kind('drop_other', r);
    }
  }

  private create(c: PNode, whole: PNode): void {
    const r = ruleName(c);
    switch (r) {
      case 'createTable': {
        const asQuery = child(c, 'duplicateAsQueryExpression');
        this.kind(asQuery ? 'create_table_as' : 'create_table', r);
        this.write(child(c, 'tableName'));
        return;
      }
      case 'createIndex':
        this.kind('create_index', r);
        this.write(findFirst(c, 'tableRef'));
        return;
      case 'createView':
        this.kind('create_view', r);
        this.write(child(c, 'viewName'));
        return;
      case 'createDatabase':
        this.kind('create_database', r);
        this.writeDatabase(child(c, 'schemaName'));
        return;
      case 'createProcedure':
      case 'createFunction':
        this.kind('create_function', r);
        this.bodies(c);
        return;
      case 'createUdf': {
        // CREATE [AGGREGATE] FUNCTION f RETURNS type SONAME 'lib.so': code from a shared library, which
        // sqlwarden cannot read (opaque: fail closed)
        this.kind('create_function', r);
        const lib = child(c, 'textLiteral');
        this.facts.opaqueBodies.push(lib ? `SONAME ${sourceText(this.ctx.code, lib)}` : sourceText(this.ctx.code, c));
        return;
      }
      case 'createTrigger':
        this.kind('create_trigger', r);
        this.write(child(c, 'tableRef'));
        this.bodies(c);
        return;
      case 'createEvent':
        this.kind('create_other', r);
        this.bodies(c);
        return;
      case 'createRole':
        this.kind('create_role', r);
        return;
      default:
        this.kind('create_other', r || ruleName(whole));
        this.bodies(c);
    }
  }

  private alter(a: PNode): void {
    const sub = kids(a).find((k) => !k.symbol);
    const r = sub ? ruleName(sub) : '';
    if (r === 'alterTable') {
      this.kind('alter_table', r);
      this.write(child(sub!, 'tableRef'));
      for (const t of findAll(sub!, new Set(['tableName']), SUBQUERY_RULES)) this.write(t); // RENAME TO
      return;
    }
    if (hasTerminal(a, 'INSTANCE')) {
      this.kind('alter_system', 'alterInstance');
      return;
    }
    if (r === 'alterView') {
      this.kind('alter_other', r);
      this.write(child(sub!, 'viewRef'));
      return;
    }
    this.kind('alter_other', r || `alter:${firstWord(a)}`);
    if (sub) this.bodies(sub);
  }

  private transactionOrLock(t: PNode): void {
    const r = ruleName(t);
    if (r === 'lockStatement') {
      this.kind('lock', r);
      for (const item of findAll(t, new Set(['lockItem']))) {
        const ref = child(item, 'tableRef');
        const opt = child(item, 'lockOption');
        if (!ref) continue;
        if (opt && hasTerminal(opt, 'WRITE')) this.write(ref);
      }
      return;
    }
    this.kind('transaction', r);
  }

  private prepared(p: PNode): void {
    const w = firstWord(p);
    if (w === 'PREPARE') {
      this.kind('prepare', 'preparedStatement:PREPARE');
      const text = child(p, 'textLiteral');
      if (text) {
        const sql = stringValue(text);
        const res = this.ctx.analyzeText(sql);
        if (!res.ok) throw new NestedFailure(`PREPARE text cannot be analysed: ${res.message}`);
        this.facts.nested.push(...res.statements);
      } else {
        const v = child(p, 'userVariable');
        this.facts.opaqueBodies.push(v ? sourceText(this.ctx.code, v) : sourceText(this.ctx.code, p));
      }
      return;
    }
    if (w === 'EXECUTE') {
      this.kind('execute', 'preparedStatement:EXECUTE');
      return;
    }
    this.kind('deallocate', `preparedStatement:${w}`);
  }

  private account(a: PNode): void {
    const r = ruleName(a);
    switch (r) {
      case 'grant':
        this.kind('grant', r);
        return;
      case 'revoke':
        this.kind('revoke', r);
        return;
      case 'createUser':
        this.kind('create_role', r);
        return;
      case 'dropUser':
        this.kind('drop_role', r);
        return;
      case 'alterUser':
      case 'renameUser':
        this.kind('alter_role', r);
        return;
      case 'setRole': {
        this.kind('set', r);
        const value = sourceText(this.ctx.code, a).replace(/^SET\s+(DEFAULT\s+)?ROLE\s+/i, '');
        this.facts.settings.push({ name: 'role', value, ...mysqlSettingConstant(value), scope: 'session' });
        return;
      }
      default:
        this.kind('other', r);
    }
  }

  private utility(u: PNode): void {
    const r = ruleName(u);
    switch (r) {
      case 'describeCommand': {
        // DESCRIBE t [col] reads metadata; DESCRIBE <statement> is EXPLAIN
        const explainable = child(u, 'explainableStatement');
        if (explainable) return this.explain(u, explainable);
        this.kind('show', r);
        return;
      }
      case 'explainCommand': {
        const explainable = child(u, 'explainableStatement');
        return this.explain(u, explainable);
      }
      case 'useCommand':
        this.kind('use', r);
        return;
      default:
        this.kind('other', r);
    }
  }

  private explain(u: PNode, explainable: PNode | undefined): void {
    this.kind('explain', ruleName(u));
    if (!explainable) return;
    const inner = kids(explainable)[0];
    if (!inner) return;
    const innerFacts = new Builder(inner, this.ctx).build();
    // EXPLAIN ANALYZE runs the statement; a plain EXPLAIN only reads the tables' metadata
    if (hasTerminal(u, 'ANALYZE')) this.facts.nested.push(innerFacts);
    this.facts.tablesRead.push(...innerFacts.tablesRead, ...innerFacts.tablesWritten);
    this.facts.functions.push(...innerFacts.functions);
    for (const t of findAll(explainable, TABLE_RULES)) this.written.add(t); // already accounted for
  }

  /** routine, trigger and event bodies: every statement in them is judged as nested */
  private bodies(n: PNode): void {
    for (const body of findAll(n, BODY_RULES, BODY_RULES)) {
      const stmts = findAll(body, new Set(['simpleStatement']), new Set(['simpleStatement']));
      for (const st of stmts) this.facts.nested.push(new Builder(st, this.ctx).build());
      // expressions outside statements (RETURN, IF conditions, cursor SELECTs) as one synthetic select
      const cursors = findAll(body, new Set(['cursorDeclaration']), new Set(['simpleStatement']));
      const rest = new Builder(body, this.ctx);
      rest.kind('select', 'routineExpressions');
      rest.collectCommon(body, new Set(['simpleStatement']));
      for (const cur of cursors) {
        const sel = findFirst(cur, 'selectStatement');
        if (sel) this.facts.nested.push(new Builder(sel, this.ctx).build());
      }
      if (rest.facts.tablesRead.length > 0 || rest.facts.functions.length > 0) this.facts.nested.push(rest.facts);
    }
  }

  /** tables read and functions called anywhere in the statement (bodies excluded) */
  collectCommon(root: PNode, extraStop?: ReadonlySet<string>): void {
    const stop = extraStop ? new Set([...BODY_RULES, ...extraStop]) : BODY_RULES;
    // CTE names are not tables
    for (const cte of findAll(root, new Set(['commonTableExpression']), stop)) {
      const id = kids(cte).find((k) => ruleName(k) === 'identifier');
      if (id) this.cteNames.add(nameParts(id).join('.'));
    }
    this.derivedNames(root, stop);
    const seenRead = new Set(this.facts.tablesRead.map(key));
    const visit = (n: PNode): void => {
      for (const c of kids(n)) {
        if (c.symbol) continue;
        const r = ruleName(c);
        if (stop.has(r)) continue;
        if (TABLE_RULES.has(r)) {
          if (!this.written.has(c)) {
            const t = this.table(c);
            if (!(t.schema === undefined && this.cteNames.has(t.name)) && !seenRead.has(key(t))) {
              seenRead.add(key(t));
              this.facts.tablesRead.push(t);
            }
          }
          continue;
        }
        if (FUNCTION_RULES.has(r)) {
          const f = functionName(c);
          if (f && !this.facts.functions.includes(f)) this.facts.functions.push(f);
        }
        visit(c);
      }
    };
    visit(root);
    this.facts.tablesWritten = dedupe(this.facts.tablesWritten);
    this.facts.functions = [...new Set(this.facts.functions)];
  }

  /** names of CTEs, derived tables and JSON_TABLE in the statement (see StatementFacts.derivedTableNames) */
  private derivedNames(root: PNode, stop: ReadonlySet<string>): void {
    const names = new Set([...this.cteNames].map((n) => n.toLowerCase()));
    for (const d of findAll(root, new Set(['derivedTable', 'tableFunction']), stop)) {
      const alias = child(d, 'tableAlias');
      const id = alias ? kids(alias).find((k) => !k.symbol) : undefined;
      if (!id) {
        delete this.facts.derivedTableNames;
        return;
      }
      names.add((nameParts(id).at(-1) ?? '').toLowerCase());
    }
    this.facts.derivedTableNames = [...names];
  }

  private collectHints(): void {
    for (const h of this.ctx.hints) {
      for (const m of h.matchAll(/SET_VAR\s*\(\s*([A-Za-z0-9_$.]+)\s*=\s*([^)]*)\)/gi)) {
        const value = m[2]!.trim();
        this.facts.settings.push({ name: m[1]!.toLowerCase(), value, ...mysqlSettingConstant(value), scope: 'local' });
      }
    }
  }

  private settings(s: PNode): void {
    let global = false;
    let persist = false;
    let scoped = false;
    const push = (name: string, value: string | undefined, fact: { scope?: SettingFact['scope']; userVariable?: boolean } = {}): void => {
      const f: SettingFact = { name, scope: fact.scope ?? 'session' };
      if (value !== undefined) Object.assign(f, { value }, mysqlSettingConstant(value));
      if (!fact.userVariable) {
        if (global) f.global = true;
        if (persist) f.persist = true;
      }
      this.facts.settings.push(f);
    };
    const visit = (n: PNode): void => {
      for (const c of kids(n)) {
        if (c.symbol) {
          const w = c.symbol.text.toUpperCase();
          if (w === 'NAMES') {
            const cs = kids(n).find((k) => ruleName(k) === 'charsetName');
            push('names', cs ? sourceText(this.ctx.code, cs) : 'DEFAULT');
          } else if (w === 'PASSWORD') {
            push('password', undefined);
            return; // never copy a password into facts
          }
          continue;
        }
        const r = ruleName(c);
        switch (r) {
          case 'optionType': {
            const w = firstWord(c);
            scoped = true;
            global = w === 'GLOBAL' || w === 'PERSIST' || w === 'PERSIST_ONLY';
            persist = w === 'PERSIST' || w === 'PERSIST_ONLY';
            if (w === 'SESSION' || w === 'LOCAL') global = persist = false;
            if (hasTerminal(n, 'TRANSACTION')) {
              // SET GLOBAL|SESSION TRANSACTION ...
            }
            continue;
          }
          case 'transactionCharacteristics':
            // SET TRANSACTION without GLOBAL/SESSION applies to the next transaction only
            push('transaction', sourceText(this.ctx.code, c), { scope: scoped ? 'session' : 'local' });
            continue;
          case 'charsetClause': {
            // SET CHARACTER SET x / SET CHARSET x: the server sets character_set_client and
            // character_set_results to x and character_set_connection to @@character_set_database
            const cs = findFirst(c, 'charsetName');
            const value = cs ? sourceText(this.ctx.code, cs) : 'DEFAULT';
            push('character_set_client', value);
            push('character_set_results', value);
            push('character_set_connection', '@@character_set_database');
            continue;
          }
          case 'internalVariableName': {
            const name = nameParts(c).join('.').toLowerCase();
            // never copy a password into facts
            push(name, name.endsWith('password') ? undefined : valueAfter(n, c, this.ctx.code));
            continue;
          }
          case 'setSystemVariable': {
            const ident = child(c, 'setVarIdentType');
            const w = ident ? firstWord(ident) : '';
            const name = nameParts(child(c, 'internalVariableName') ?? c).join('.').toLowerCase();
            const value = valueAfter(n, c, this.ctx.code);
            const g = w === 'GLOBAL' || w === 'PERSIST' || w === 'PERSIST_ONLY';
            const p = w === 'PERSIST' || w === 'PERSIST_ONLY';
            const scoped = w !== '';
            if (scoped) {
              const f: SettingFact = { name, scope: 'session' };
              if (value !== undefined) Object.assign(f, { value }, mysqlSettingConstant(value));
              if (g) f.global = true;
              if (p) f.persist = true;
              this.facts.settings.push(f);
            } else push(name, value);
            continue;
          }
          case 'userVariable': {
            if (ruleName(n).startsWith('optionValue')) {
              push(sourceText(this.ctx.code, c), valueAfter(n, c, this.ctx.code), { userVariable: true });
              continue;
            }
            break;
          }
          default:
            break;
        }
        visit(c);
      }
    };
    visit(s);
  }
}

function valueAfter(parent: PNode, nameNode: PNode, code: string): string | undefined {
  const ks = kids(parent);
  const i = ks.indexOf(nameNode);
  for (let j = i + 1; j < ks.length; j++) {
    const k = ks[j]!;
    const r = ruleName(k);
    if (r === 'equal' || (k.symbol && (k.symbol.text === '=' || k.symbol.text === ':='))) continue;
    if (r === 'setExprOrDefault' || r === 'expr') return sourceText(code, k);
    break;
  }
  return undefined;
}

/** the name a singleTable is referred to by in column qualifiers: its alias, else its table name */
function tableKey(st: PNode): string {
  const alias = child(st, 'tableAlias');
  if (alias) return (nameParts(kids(alias).find((k) => !k.symbol) ?? alias).at(-1) ?? '').toLowerCase();
  const t = child(st, 'tableRef');
  return (nameParts(t ?? st).at(-1) ?? '').toLowerCase();
}

function key(t: TableRef): string {
  return `${t.schema ?? ''}\u0000${t.name}`;
}

function dedupe(ts: TableRef[]): TableRef[] {
  const seen = new Set<string>();
  return ts.filter((t) => (seen.has(key(t)) ? false : (seen.add(key(t)), true)));
}

function functionName(n: PNode): string | undefined {
  const r = ruleName(n);
  const ks = kids(n);
  const first = ks[0];
  if (!first) return undefined;
  if (r === 'functionCall') return nameParts(first).join('.').toLowerCase();
  // a runtime function whose first child is a rule (TRIM, SUBSTRING, geometry) is named by that rule's node
  if (!first.symbol) {
    if (FUNCTION_RULES.has(ruleName(first))) return undefined;
    return terminals(first)[0]?.symbol?.text.toLowerCase();
  }
  return first.symbol.text.toLowerCase();
}

/** the value of a textLiteral (adjacent strings concatenate), backslash escapes resolved */
function stringValue(n: PNode): string {
  let out = '';
  for (const t of terminals(n)) {
    const s = t.symbol!.text;
    const q = s[0];
    if (q !== "'" && q !== '"') continue;
    const body = s.slice(1, -1);
    for (let i = 0; i < body.length; i++) {
      const ch = body[i]!;
      if (ch === q && body[i + 1] === q) {
        out += q;
        i++;
      } else if (ch === '\\' && i + 1 < body.length) {
        const nx = body[++i]!;
        out += nx === 'n' ? '\n' : nx === 't' ? '\t' : nx === 'r' ? '\r' : nx === '0' ? '\0' : nx === 'Z' ? '\x1a' : nx === 'b' ? '\b' : nx === '%' || nx === '_' ? '\\' + nx : nx;
      } else out += ch;
    }
  }
  return out;
}

export function buildStatementFacts(stmt: PNode, ctx: FactsContext): StatementFacts {
  return new Builder(stmt, ctx).build();
}
