/* eslint-disable @typescript-eslint/no-explicit-any -- walks libpg_query's PL/pgSQL JSON */
/**
 * PL/pgSQL bodies (CREATE FUNCTION ... LANGUAGE plpgsql, DO blocks), compiled by libpg_query's copy
 * of the PL/pgSQL compiler. Every embedded SQL statement (plain statements, PERFORM, RETURN QUERY,
 * FOR ... IN query, OPEN ... FOR query, CALL) is analysed as SQL; every expression (assignments,
 * conditions, defaults, RAISE arguments, ...) is analysed as `SELECT <expr>`, the way PL/pgSQL runs
 * it; dynamic SQL (EXECUTE, FOR ... IN EXECUTE, OPEN ... FOR EXECUTE, RETURN QUERY EXECUTE) is
 * recorded as opaque, and when its text is a constant it is analysed as well.
 */
import type { StatementFacts } from '../facts.js';
import { snippet, tooComplex, type FactsBuilder } from './facts-builder.js';
import type { RawText } from './pg-wasm.js';

export interface PlpgsqlEnv {
  /** statement depth of the function / DO statement */
  depth: number;
  maxTreeDepth: number;
  /** facts of the CREATE FUNCTION / DO statement */
  builder: FactsBuilder;
  /** analyse SQL text at a nesting depth; undefined when it does not parse */
  analyzeSql(sql: string, depth: number): StatementFacts[] | undefined;
  scan(sql: string): RawText;
  /** the value of a constant text expression (`'drop table x'`, `'a' || 'b'`), else undefined */
  constantText(exprText: string): string | undefined;
}

/** PL/pgSQL's raw parse modes (RawParseMode) as they appear in PLpgSQL_expr.parseMode. */
const enum ParseMode {
  Default = 0,
  TypeName = 1,
  Expr = 2,
  Assign1 = 3,
  Assign2 = 4,
  Assign3 = 5,
}

const DYNAMIC_QUERY_STMTS = new Set(['PLpgSQL_stmt_dynexecute', 'PLpgSQL_stmt_dynfors']);

function informative(f: StatementFacts): boolean {
  return f.functions.length > 0 || f.tablesRead.length > 0 || f.tablesWritten.length > 0 || f.nested.length > 0 || f.opaqueBodies.length > 0 || f.settings.length > 0;
}

export function analyzePlpgsqlTree(tree: any, env: PlpgsqlEnv): void {
  const b = env.builder;
  const inner = env.depth + 1;

  const expression = (exprText: string, what: string): void => {
    const facts = env.analyzeSql(`SELECT ${exprText}`, inner);
    if (!facts) {
      b.addOpaque(snippet(`PL/pgSQL ${what} that does not parse`, exprText));
      return;
    }
    for (const f of facts) if (informative(f)) b.addNested({ ...f, nodeType: 'PLpgSQL_expr' });
  };

  const assignment = (q: string): void => {
    // "target := expr" / "target = expr": analyse the target's subscripts and the value as one SELECT list
    const r = env.scan(q);
    let split: string | undefined;
    if (r.ok) {
      try {
        const toks: { start: number; end: number; text: string }[] = JSON.parse(r.text).tokens ?? [];
        let depth = 0;
        for (const t of toks) {
          if (t.text === '[' || t.text === '(') depth++;
          else if (t.text === ']' || t.text === ')') depth--;
          else if (depth === 0 && (t.text === ':=' || t.text === '=')) {
            const buf = Buffer.from(q, 'utf8');
            split = `${buf.subarray(0, t.start).toString('utf8')}, ${buf.subarray(t.end).toString('utf8')}`;
            break;
          }
        }
      } catch {
        split = undefined;
      }
    }
    expression(split ?? q, 'assignment');
  };

  const expr = (e: any, dynamic: boolean): void => {
    const q = typeof e?.query === 'string' ? e.query : '';
    if (dynamic) {
      b.addOpaque(snippet('dynamic SQL (EXECUTE)', q));
      const facts = env.analyzeSql(`SELECT ${q}`, inner);
      if (facts) for (const f of facts) if (informative(f)) b.addNested({ ...f, nodeType: 'PLpgSQL_expr' });
      const text = env.constantText(q);
      const nested = text !== undefined ? env.analyzeSql(text, inner) : undefined;
      if (nested) for (const s of nested) b.addNested(s);
      return;
    }
    switch (e?.parseMode ?? ParseMode.Default) {
      case ParseMode.Default: {
        const facts = env.analyzeSql(q, inner);
        if (!facts) b.addOpaque(snippet('PL/pgSQL statement that does not parse', q));
        else for (const f of facts) b.addNested(f);
        return;
      }
      case ParseMode.TypeName:
        return;
      case ParseMode.Assign1:
      case ParseMode.Assign2:
      case ParseMode.Assign3:
        assignment(q);
        return;
      default:
        expression(q, 'expression');
    }
  };

  const walk = (v: any, stmtType: string, field: string, d: number): void => {
    if (v === null || typeof v !== 'object') return;
    if (d > env.maxTreeDepth) throw tooComplex(`PL/pgSQL body nested more than ${env.maxTreeDepth} levels deep`);
    if (Array.isArray(v)) {
      for (const x of v) walk(x, stmtType, field, d + 1);
      return;
    }
    for (const k of Object.keys(v)) {
      const c = v[k];
      if (c === null || typeof c !== 'object') continue;
      if (k === 'PLpgSQL_expr') {
        expr(c, field === 'dynquery' || (field === 'query' && DYNAMIC_QUERY_STMTS.has(stmtType)));
        continue;
      }
      if (k.startsWith('PLpgSQL_stmt_')) walk(c, k, '', d + 1);
      else if (k.startsWith('PLpgSQL_')) walk(c, stmtType, '', d + 1);
      else walk(c, stmtType, k, d + 1);
    }
  };

  walk(tree, '', '', 0);
}
