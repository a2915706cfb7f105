/* eslint-disable @typescript-eslint/no-explicit-any -- walks libpg_query's JSON parse tree */
import { COMPARISON_COMPLEMENTS } from '../comparison-complements.js';
/**
 * A small three-valued constant evaluator over raw parse-tree expressions, used to decide whether a
 * DELETE/UPDATE/MERGE condition is always true ("unbounded").
 *
 * It answers TRUE only when it can show the condition holds for every row; anything it does not
 * understand is UNKNOWN, and UNKNOWN counts as bounded. Two deliberate approximations treat
 * predicates that hold for every non-NULL value as true, because that is what the disguise intends:
 * comparing an expression with itself (`id = id`, `(a,b) = (a,b)`, `x BETWEEN x AND x`) and an OR of
 * a predicate with its complement (`x IS NULL OR x IS NOT NULL`, `b OR NOT b`, `x = 1 OR x <> 1`).
 * Likewise `col LIKE '%'`, `col ~ ''`, `EXISTS (SELECT 1 FROM <the target table>)` and
 * `id IN (SELECT id FROM <the target table>)` are treated as always true.
 */

type V =
  | { t: 'bool'; v: boolean }
  | { t: 'num'; v: number; int: boolean }
  /** lit: an untyped quoted literal, which Postgres coerces to the other operand's type */
  | { t: 'str'; v: string; lit: boolean }
  | { t: 'null' }
  | { t: 'unk' };

const UNK: V = { t: 'unk' };
const NULLV: V = { t: 'null' };
const TRUE: V = { t: 'bool', v: true };
const FALSE: V = { t: 'bool', v: false };
const bool = (b: boolean): V => (b ? TRUE : FALSE);

/** The table a DELETE/UPDATE/MERGE writes, as the condition may name it. */
export interface WriteTarget {
  schema?: string;
  name: string;
  alias?: string;
}

interface Ctx {
  target: WriteTarget | undefined;
  depth: number;
}

const MAX_DEPTH = 200;

function unwrap(n: any): [string, any] {
  if (!n || typeof n !== 'object') return ['', undefined];
  const k = Object.keys(n);
  if (k.length === 1 && /^[A-Z]/.test(k[0])) return [k[0], n[k[0]]];
  return ['', n];
}

/** The node when it is a constant condition that is always true for the rows it filters. */
export function isAlwaysTrue(expr: any, target?: WriteTarget): boolean {
  const v = toBool(ev(expr, { target, depth: 0 }));
  return v.t === 'bool' && v.v;
}

/** Evaluates a constant expression to its text (for set_config arguments); undefined when not constant. */
export function constantText(expr: any): string | undefined {
  const v = ev(expr, { target: undefined, depth: 0 });
  switch (v.t) {
    case 'str':
      return v.v;
    case 'num':
      return String(v.v);
    case 'bool':
      return v.v ? 'true' : 'false';
    default:
      return undefined;
  }
}

/** Evaluates a constant boolean (set_config's is_local); undefined when not constant. */
export function constantBool(expr: any): boolean | undefined {
  const v = toBool(ev(expr, { target: undefined, depth: 0 }));
  return v.t === 'bool' ? v.v : undefined;
}

function parseBoolText(s: string): boolean | undefined {
  const t = s.trim().toLowerCase();
  const n = t.length;
  if (n === 0) return undefined;
  switch (t[0]) {
    case 't':
      return 'true'.startsWith(t) ? true : undefined;
    case 'f':
      return 'false'.startsWith(t) ? false : undefined;
    case 'y':
      return 'yes'.startsWith(t) ? true : undefined;
    case 'n':
      return 'no'.startsWith(t) ? false : undefined;
    case 'o':
      if (n >= 2 && 'on'.startsWith(t)) return true;
      if (n >= 2 && 'off'.startsWith(t)) return false;
      return undefined;
    case '1':
      return n === 1 ? true : undefined;
    case '0':
      return n === 1 ? false : undefined;
    default:
      return undefined;
  }
}

function parseNum(s: string): { v: number; int: boolean } | undefined {
  const t = s.trim().replace(/_/g, '');
  if (/^[+-]?\d+$/.test(t)) {
    const v = Number(t);
    return Number.isSafeInteger(v) ? { v, int: true } : undefined;
  }
  if (/^[+-]?0[xob][0-9a-f]+$/i.test(t)) {
    const neg = t.startsWith('-');
    const v = Number(t.replace(/^[+-]/, ''));
    return Number.isSafeInteger(v) ? { v: neg ? -v : v, int: true } : undefined;
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) {
    const v = Number(t);
    return Number.isFinite(v) ? { v, int: false } : undefined;
  }
  return undefined;
}

function toBool(v: V): V {
  switch (v.t) {
    case 'bool':
    case 'null':
      return v;
    case 'str': {
      if (!v.lit) return UNK;
      const b = parseBoolText(v.v);
      return b === undefined ? UNK : bool(b);
    }
    default:
      return UNK;
  }
}

function typeNameOf(tn: any): string | undefined {
  const names: any[] = tn?.names ?? [];
  if (tn?.arrayBounds) return undefined;
  const parts = names.map((x) => unwrap(x)[1]?.sval as string | undefined);
  if (parts.some((p) => typeof p !== 'string')) return undefined;
  if (parts.length === 2 && parts[0] === 'pg_catalog') return parts[1];
  if (parts.length === 1) return parts[0];
  return undefined;
}

function cast(v: V, type: string | undefined): V {
  if (v.t === 'null') return NULLV;
  if (v.t === 'unk' || !type) return UNK;
  switch (type) {
    case 'bool':
    case 'boolean':
      if (v.t === 'num') return v.int ? bool(v.v !== 0) : UNK;
      if (v.t === 'str') return toBool({ t: 'str', v: v.v, lit: true });
      return v;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'int':
    case 'integer':
    case 'smallint':
    case 'bigint': {
      if (v.t === 'num') return { t: 'num', v: v.int ? v.v : Math.sign(v.v) * Math.round(Math.abs(v.v)), int: true };
      if (v.t === 'bool') return { t: 'num', v: v.v ? 1 : 0, int: true };
      const p = parseNum(v.v);
      return p && p.int ? { t: 'num', v: p.v, int: true } : UNK;
    }
    case 'numeric':
    case 'decimal':
    case 'float4':
    case 'float8':
    case 'real': {
      if (v.t === 'num') return { t: 'num', v: v.v, int: false };
      if (v.t === 'str') {
        const p = parseNum(v.v);
        return p ? { t: 'num', v: p.v, int: false } : UNK;
      }
      return UNK;
    }
    case 'text':
    case 'varchar':
    case 'name':
      if (v.t === 'str') return { t: 'str', v: v.v, lit: false };
      if (v.t === 'num' && v.int) return { t: 'str', v: String(v.v), lit: false };
      if (v.t === 'bool') return { t: 'str', v: v.v ? 'true' : 'false', lit: false };
      return UNK;
    default:
      return UNK;
  }
}

function constant(c: any): V {
  if (c.isnull) return NULLV;
  if (c.ival !== undefined) return { t: 'num', v: c.ival.ival ?? 0, int: true };
  if (c.fval !== undefined) {
    const p = parseNum(String(c.fval.fval ?? '0'));
    return p ? { t: 'num', v: p.v, int: p.int } : UNK;
  }
  if (c.sval !== undefined) return { t: 'str', v: c.sval.sval ?? '', lit: true };
  if (c.boolval !== undefined) return bool(c.boolval.boolval === true);
  return UNK;
}

/** -1/0/1, 'null' when either side is NULL, undefined when unknown. */
function compare(a: V, b: V, equalityOnly: boolean): number | 'null' | undefined {
  if (a.t === 'null' || b.t === 'null') return 'null';
  if (a.t === 'unk' || b.t === 'unk') return undefined;
  if (a.t === 'str' && b.t !== 'str' && a.lit) a = coerceLiteral(a, b);
  else if (b.t === 'str' && a.t !== 'str' && b.lit) b = coerceLiteral(b, a);
  if (a.t === 'unk' || b.t === 'unk') return undefined;
  if (a.t === 'num' && b.t === 'num') return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  if (a.t === 'bool' && b.t === 'bool') return Number(a.v) - Number(b.v);
  if (a.t === 'str' && b.t === 'str') {
    if (a.v === b.v) return 0;
    // ordering of different strings depends on the collation
    return equalityOnly ? 1 : undefined;
  }
  return undefined;
}

function coerceLiteral(lit: { t: 'str'; v: string }, other: V): V {
  if (other.t === 'num') {
    const p = parseNum(lit.v);
    if (!p || (other.int && !p.int)) return UNK;
    return { t: 'num', v: p.v, int: p.int };
  }
  if (other.t === 'bool') {
    const b = parseBoolText(lit.v);
    return b === undefined ? UNK : bool(b);
  }
  return UNK;
}

function opName(name: any[] | undefined): string | undefined {
  const parts = (name ?? []).map((x) => unwrap(x)[1]?.sval as string | undefined);
  if (parts.length === 1) return parts[0];
  if (parts.length === 2 && parts[0] === 'pg_catalog') return parts[1];
  return undefined;
}

function applyCmp(op: string, c: number | 'null' | undefined): V {
  if (c === 'null') return NULLV;
  if (c === undefined) return UNK;
  switch (op) {
    case '=':
      return bool(c === 0);
    case '<>':
    case '!=':
      return bool(c !== 0);
    case '<':
      return bool(c < 0);
    case '>':
      return bool(c > 0);
    case '<=':
      return bool(c <= 0);
    case '>=':
      return bool(c >= 0);
    default:
      return UNK;
  }
}

const CMP_OPS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

function arith(op: string, a: V, b: V): V {
  if (a.t === 'null' || b.t === 'null') return NULLV;
  if (a.t === 'str' && a.lit && b.t === 'num') a = coerceLiteral(a, b);
  if (b.t === 'str' && b.lit && a.t === 'num') b = coerceLiteral(b, a);
  if (op === '||') {
    if (a.t === 'str' && b.t === 'str') return { t: 'str', v: a.v + b.v, lit: false };
    return UNK;
  }
  if (a.t !== 'num' || b.t !== 'num') return UNK;
  const int = a.int && b.int;
  let v: number;
  switch (op) {
    case '+':
      v = a.v + b.v;
      break;
    case '-':
      v = a.v - b.v;
      break;
    case '*':
      v = a.v * b.v;
      break;
    case '/':
      if (b.v === 0) return UNK;
      v = int ? Math.trunc(a.v / b.v) : a.v / b.v;
      break;
    case '%':
      if (b.v === 0 || !int) return UNK;
      v = a.v % b.v;
      break;
    default:
      return UNK;
  }
  if (!Number.isFinite(v) || (int && !Number.isSafeInteger(v))) return UNK;
  return { t: 'num', v, int };
}

function likeToRegExp(pattern: string, insensitive: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, insensitive ? 'iu' : 'u');
}

const TRIVIAL_REGEX = new Set(['', '.*', '^', '$', '^.*', '.*$', '^.*$']);

const SKIP_KEYS = new Set(['location', 'stmt_location', 'stmt_len']);

/**
 * A canonical text for an expression, for "same expression on both sides" checks: locations dropped,
 * column qualifiers naming the written table dropped. Undefined when the expression calls a function
 * or holds a subquery (two evaluations might differ).
 */
function canon(n: any, ctx: Ctx, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (n === null || typeof n !== 'object') return JSON.stringify(n);
  if (Array.isArray(n)) {
    const parts: string[] = [];
    for (const x of n) {
      const c = canon(x, ctx, depth + 1);
      if (c === undefined) return undefined;
      parts.push(c);
    }
    return `[${parts.join(',')}]`;
  }
  const [type, x] = unwrap(n);
  if (type === 'FuncCall' || type === 'SubLink') return undefined;
  if (type === 'ColumnRef') {
    const fields: string[] = (x.fields ?? []).map((f: any) => {
      const [ft, fx] = unwrap(f);
      return ft === 'String' ? String(fx.sval) : '*';
    });
    const t = ctx.target;
    if (t && fields.length >= 2) {
      const qual = fields[fields.length - 2];
      const schemaOk = fields.length === 2 || fields[fields.length - 3] === t.schema;
      if (schemaOk && (qual === (t.alias ?? t.name))) return `col:${fields[fields.length - 1]}`;
    }
    return `col:${fields.join('.')}`;
  }
  const keys = Object.keys(n)
    .filter((k) => !SKIP_KEYS.has(k) && !k.endsWith('_start') && !k.endsWith('_end'))
    .sort();
  const parts: string[] = [];
  for (const k of keys) {
    const c = canon(n[k], ctx, depth + 1);
    if (c === undefined) return undefined;
    parts.push(`${k}:${c}`);
  }
  return `{${parts.join(',')}}`;
}

/** A predicate's identity regardless of polarity, for complement detection in OR. */
function polarKey(n: any, ctx: Ctx): { key: string; neg: boolean } | undefined {
  const [type, x] = unwrap(n);
  if (type === 'BoolExpr' && x.boolop === 'NOT_EXPR' && x.args?.length === 1) {
    const k = polarKey(x.args[0], ctx);
    return k && { key: k.key, neg: !k.neg };
  }
  if (type === 'NullTest') {
    const c = canon(x.arg, ctx);
    return c === undefined ? undefined : { key: `null:${c}`, neg: x.nulltesttype === 'IS_NOT_NULL' };
  }
  if (type === 'BooleanTest') {
    const c = canon(x.arg, ctx);
    if (c === undefined) return undefined;
    const t: string = x.booltesttype;
    const base = t.replace('IS_NOT_', 'IS_');
    return { key: `bt:${base}:${c}`, neg: t.startsWith('IS_NOT_') };
  }
  if (type === 'A_Expr' && (x.kind === 'AEXPR_OP' || x.kind === 'AEXPR_LIKE' || x.kind === 'AEXPR_ILIKE' || x.kind === 'AEXPR_IN') && x.lexpr) {
    const op = opName(x.name);
    const l = canon(x.lexpr, ctx);
    const r = canon(x.rexpr, ctx);
    if (!op || l === undefined || r === undefined) return undefined;
    const pairs: Record<string, readonly [string, boolean]> = {
      ...COMPARISON_COMPLEMENTS,
      '~~': ['~~', false],
      '!~~': ['~~', true],
      '~~*': ['~~*', false],
      '!~~*': ['~~*', true],
    };
    const p = pairs[op];
    if (!p) return undefined;
    return { key: `${x.kind}:${p[0]}:${l}:${r}`, neg: p[1] };
  }
  const c = canon(n, ctx);
  return c === undefined ? undefined : { key: `e:${c}`, neg: false };
}

function and(vals: V[]): V {
  let sawNull = false;
  let sawUnk = false;
  for (const v of vals) {
    if (v.t === 'bool' && !v.v) return FALSE;
    if (v.t === 'null') sawNull = true;
    else if (v.t !== 'bool') sawUnk = true;
  }
  return sawUnk ? UNK : sawNull ? NULLV : TRUE;
}

function or(vals: V[]): V {
  let sawNull = false;
  let sawUnk = false;
  for (const v of vals) {
    if (v.t === 'bool' && v.v) return TRUE;
    if (v.t === 'null') sawNull = true;
    else if (v.t !== 'bool') sawUnk = true;
  }
  return sawUnk ? UNK : sawNull ? NULLV : FALSE;
}

/** A schema as written, `public` counted as unqualified (the default search_path's schema). */
function schemaKey(schema: string | undefined): string | undefined {
  return schema === undefined || schema === 'public' ? undefined : schema;
}

/** The same table, as two names may write it: a `public.` schema on either side is ignored. */
export function sameTableName(aName: string | undefined, aSchema: string | undefined, bName: string | undefined, bSchema: string | undefined): boolean {
  return aName !== undefined && aName === bName && schemaKey(aSchema) === schemaKey(bSchema);
}

function isSameTable(rv: any, t: WriteTarget | undefined): boolean {
  return !!t && typeof rv?.relname === 'string' && sameTableName(rv.relname, rv.schemaname ?? undefined, t.name, t.schema);
}

/** A subquery with no FROM, WHERE, GROUP BY, HAVING, LIMIT/OFFSET or set operation. */
function bareSelect(sel: any): boolean {
  return (
    !!sel &&
    !sel.fromClause &&
    !sel.whereClause &&
    !sel.groupClause &&
    !sel.havingClause &&
    !sel.limitCount &&
    !sel.limitOffset &&
    (sel.op ?? 'SETOP_NONE') === 'SETOP_NONE' &&
    !sel.withClause
  );
}

/** A subquery reading exactly the written table, unfiltered. */
function selfTableSelect(sel: any, ctx: Ctx): boolean {
  if (sel?.whereClause) {
    // a WHERE that is always true restricts nothing
    const w = toBool(ev(sel.whereClause, { target: undefined, depth: ctx.depth + 1 }));
    if (!(w.t === 'bool' && w.v)) return false;
  }
  if (!sel || sel.groupClause || sel.havingClause || sel.limitCount || sel.limitOffset || (sel.op ?? 'SETOP_NONE') !== 'SETOP_NONE' || sel.withClause) return false;
  const from: any[] = sel.fromClause ?? [];
  if (from.length !== 1) return false;
  const [ft, rv] = unwrap(from[0]);
  return ft === 'RangeVar' && isSameTable(rv, ctx.target);
}

function lastField(n: any): string | undefined {
  const [t, x] = unwrap(n);
  if (t !== 'ColumnRef') return undefined;
  const f = x.fields ?? [];
  const [ft, fx] = unwrap(f[f.length - 1]);
  return ft === 'String' ? fx.sval : undefined;
}

function ev(n: any, ctx: Ctx): V {
  if (ctx.depth > MAX_DEPTH) return UNK;
  const sub: Ctx = { target: ctx.target, depth: ctx.depth + 1 };
  const [type, x] = unwrap(n);
  switch (type) {
    case 'A_Const':
      return constant(x);
    case 'TypeCast':
      return cast(ev(x.arg, sub), typeNameOf(x.typeName));
    case 'BoolExpr': {
      const args: any[] = x.args ?? [];
      if (x.boolop === 'NOT_EXPR') {
        const v = toBool(ev(args[0], sub));
        return v.t === 'bool' ? bool(!v.v) : v;
      }
      if (x.boolop === 'AND_EXPR') return and(args.map((a) => toBool(ev(a, sub))));
      if (x.boolop === 'OR_EXPR') {
        const r = or(args.map((a) => toBool(ev(a, sub))));
        if (r.t === 'bool' && r.v) return r;
        // a predicate ORed with its complement
        const seen = new Map<string, boolean>();
        for (const a of args) {
          const k = polarKey(a, sub);
          if (!k) continue;
          const prev = seen.get(k.key);
          if (prev !== undefined && prev !== k.neg) return TRUE;
          seen.set(k.key, k.neg);
        }
        return r;
      }
      return UNK;
    }
    case 'NullTest': {
      const v = ev(x.arg, sub);
      if (v.t === 'unk') return UNK;
      return bool((v.t === 'null') === (x.nulltesttype === 'IS_NULL'));
    }
    case 'BooleanTest': {
      const v = toBool(ev(x.arg, sub));
      if (v.t === 'unk') return UNK;
      const isT = v.t === 'bool' && v.v;
      const isF = v.t === 'bool' && !v.v;
      const isU = v.t === 'null';
      switch (x.booltesttype) {
        case 'IS_TRUE':
          return bool(isT);
        case 'IS_NOT_TRUE':
          return bool(!isT);
        case 'IS_FALSE':
          return bool(isF);
        case 'IS_NOT_FALSE':
          return bool(!isF);
        case 'IS_UNKNOWN':
          return bool(isU);
        case 'IS_NOT_UNKNOWN':
          return bool(!isU);
        default:
          return UNK;
      }
    }
    case 'CoalesceExpr': {
      for (const a of x.args ?? []) {
        const v = ev(a, sub);
        if (v.t === 'null') continue;
        return v;
      }
      return NULLV;
    }
    case 'MinMaxExpr': {
      const vals = (x.args ?? []).map((a: any) => ev(a, sub)).filter((v: V) => v.t !== 'null');
      if (vals.length === 0) return NULLV;
      if (!vals.every((v: V) => v.t === 'num')) return UNK;
      const nums = vals as Extract<V, { t: 'num' }>[];
      const pick = nums.reduce((m, v) => ((x.op === 'IS_GREATEST' ? v.v > m.v : v.v < m.v) ? v : m));
      return pick;
    }
    case 'CaseExpr': {
      const base = x.arg ? ev(x.arg, sub) : undefined;
      for (const w of x.args ?? []) {
        const [, cw] = unwrap(w);
        if (base) {
          const c = compare(base, ev(cw.expr, sub), true);
          if (c === undefined) return UNK;
          if (c === 0) return ev(cw.result, sub);
        } else {
          const c = toBool(ev(cw.expr, sub));
          if (c.t === 'unk') return UNK;
          if (c.t === 'bool' && c.v) return ev(cw.result, sub);
        }
      }
      return x.defresult ? ev(x.defresult, sub) : NULLV;
    }
    case 'SubLink':
      return subLink(x, sub);
    case 'A_Expr':
      return aExpr(x, sub);
    default:
      return UNK;
  }
}

function subLink(x: any, ctx: Ctx): V {
  const [st, sel] = unwrap(x.subselect);
  if (st !== 'SelectStmt') return UNK;
  switch (x.subLinkType) {
    case 'EXISTS_SUBLINK': {
      if (sel.valuesLists?.length) return TRUE;
      if (selfTableSelect(sel, ctx)) return TRUE;
      if (sel.limitCount) {
        const l = ev(sel.limitCount, ctx);
        if (!(l.t === 'num' && l.v > 0) && l.t !== 'null') return l.t === 'num' ? FALSE : UNK;
      }
      const rest = { ...sel, whereClause: undefined, limitCount: undefined };
      if (!bareSelect(rest)) return UNK;
      if (!sel.whereClause) return TRUE;
      const w = toBool(ev(sel.whereClause, ctx));
      return w.t === 'bool' ? w : w.t === 'null' ? FALSE : UNK;
    }
    case 'EXPR_SUBLINK': {
      if (!bareSelect(sel) || sel.targetList?.length !== 1) return UNK;
      return ev(unwrap(sel.targetList[0])[1]?.val, ctx);
    }
    case 'ANY_SUBLINK': {
      const op = x.operName ? opName(x.operName) : '=';
      if (op !== '=') return UNK;
      if (selfTableSelect(sel, ctx) && sel.targetList?.length === 1) {
        const inner = lastField(unwrap(sel.targetList[0])[1]?.val);
        if (inner !== undefined && inner === lastField(x.testexpr)) return TRUE;
      }
      if (!bareSelect(sel) || sel.targetList?.length !== 1) return UNK;
      return applyCmp('=', compare(ev(x.testexpr, ctx), ev(unwrap(sel.targetList[0])[1]?.val, ctx), true));
    }
    default:
      return UNK;
  }
}

function sameExpr(a: any, b: any, ctx: Ctx): boolean {
  const ca = canon(a, ctx);
  return ca !== undefined && ca === canon(b, ctx);
}

/** `l op r` for a comparison operator: constants are evaluated; an expression compared with itself is decided by the operator. */
function cmpExprs(op: string, l: any, r: any, ctx: Ctx): V {
  const a = ev(l, ctx);
  const b = ev(r, ctx);
  const equalityOnly = op === '=' || op === '<>' || op === '!=';
  if ((a.t === 'unk' || b.t === 'unk') && a.t !== 'null' && b.t !== 'null' && sameExpr(l, r, ctx)) return bool(op === '=' || op === '<=' || op === '>=');
  return applyCmp(op, compare(a, b, equalityOnly));
}

function aExpr(x: any, ctx: Ctx): V {
  const op = opName(x.name);
  switch (x.kind) {
    case 'AEXPR_OP': {
      if (!op) return UNK;
      if (!x.lexpr) {
        const r = ev(x.rexpr, ctx);
        if (r.t === 'null') return NULLV;
        if (op === '-' && r.t === 'num') return { t: 'num', v: -r.v, int: r.int };
        if (op === '+' && r.t === 'num') return r;
        return UNK;
      }
      if (CMP_OPS.has(op)) {
        return cmpExprs(op, x.lexpr, x.rexpr, ctx);
      }
      if (op === '~' || op === '~*' || op === '!~' || op === '!~*') {
        const p = ev(x.rexpr, ctx);
        if (p.t === 'str' && TRIVIAL_REGEX.has(p.v)) {
          const l = ev(x.lexpr, ctx);
          if (l.t === 'null') return NULLV;
          return bool(!op.startsWith('!'));
        }
        return UNK;
      }
      return arith(op, ev(x.lexpr, ctx), ev(x.rexpr, ctx));
    }
    case 'AEXPR_DISTINCT':
    case 'AEXPR_NOT_DISTINCT': {
      const notDistinct = x.kind === 'AEXPR_NOT_DISTINCT';
      const a = ev(x.lexpr, ctx);
      const b = ev(x.rexpr, ctx);
      if (a.t === 'unk' || b.t === 'unk') return sameExpr(x.lexpr, x.rexpr, ctx) ? bool(notDistinct) : UNK;
      let same: boolean;
      if (a.t === 'null' || b.t === 'null') same = a.t === b.t;
      else {
        const c = compare(a, b, true);
        if (c === undefined || c === 'null') return UNK;
        same = c === 0;
      }
      return bool(notDistinct ? same : !same);
    }
    case 'AEXPR_NULLIF': {
      const a = ev(x.lexpr, ctx);
      const c = compare(a, ev(x.rexpr, ctx), true);
      if (c === undefined) return UNK;
      return c === 0 ? NULLV : a;
    }
    case 'AEXPR_IN': {
      const items: any[] = unwrap(x.rexpr)[1]?.items ?? (Array.isArray(x.rexpr) ? x.rexpr : []);
      const notIn = op === '<>';
      const results = items.map((i) => cmpExprs(notIn ? '<>' : '=', x.lexpr, i, ctx));
      return notIn ? and(results) : or(results);
    }
    case 'AEXPR_OP_ANY':
    case 'AEXPR_OP_ALL': {
      const [at, arr] = unwrap(x.rexpr);
      if (at !== 'A_ArrayExpr' || !op || !CMP_OPS.has(op)) return UNK;
      const results = (arr.elements ?? []).map((e: any) => cmpExprs(op, x.lexpr, e, ctx));
      return x.kind === 'AEXPR_OP_ANY' ? or(results) : and(results);
    }
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE': {
      if (!op) return UNK;
      const negate = op.startsWith('!');
      const p = ev(x.rexpr, ctx);
      if (p.t === 'null') return NULLV;
      if (p.t !== 'str') return UNK;
      const l = ev(x.lexpr, ctx);
      if (l.t === 'null') return NULLV;
      if (/^%+$/.test(p.v)) return bool(!negate);
      if (l.t !== 'str') return UNK;
      const m = likeToRegExp(p.v, x.kind === 'AEXPR_ILIKE').test(l.v);
      return bool(negate ? !m : m);
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN':
    case 'AEXPR_BETWEEN_SYM':
    case 'AEXPR_NOT_BETWEEN_SYM': {
      const bounds: any[] = unwrap(x.rexpr)[1]?.items ?? [];
      if (bounds.length !== 2) return UNK;
      const ge = (lo: any): V => cmpExprs('>=', x.lexpr, lo, ctx);
      const le = (hi: any): V => cmpExprs('<=', x.lexpr, hi, ctx);
      let v = and([ge(bounds[0]), le(bounds[1])]);
      if (x.kind.endsWith('_SYM')) v = or([v, and([ge(bounds[1]), le(bounds[0])])]);
      if (x.kind.includes('NOT_')) return v.t === 'bool' ? bool(!v.v) : v;
      return v;
    }
    default:
      return UNK;
  }
}


/**
 * Whether a DELETE/UPDATE condition fails to restrict the written rows by their own values: it is
 * provably true, or it refers to no column of the written row (parameters, PL/pgSQL variables,
 * function arguments, constants and functions of those are the same for every row, so they select
 * every row or none) and is not provably false or NULL, or it is an OR with such a disjunct, or an
 * AND of such conjuncts.
 *
 * `vars` are names known to be variables or parameters (PL/pgSQL declarations, function parameters):
 * an unqualified name among them is not a column. Any other unqualified name counts as a column of
 * the row, as does a name qualified by the target (its alias or name) and `WHERE CURRENT OF`.
 */
export function isUnboundedCondition(expr: any, target: WriteTarget | undefined, vars?: ReadonlySet<string>): boolean {
  return unbounding(expr, target, vars, 0);
}

function unbounding(expr: any, target: WriteTarget | undefined, vars: ReadonlySet<string> | undefined, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (isAlwaysTrue(expr, target)) return true;
  if (!dependsOnRow(expr, target, vars, 0)) {
    // the same for every row: all rows, unless it is provably false or NULL (then none)
    const v = toBool(ev(expr, { target, depth: 0 }));
    return !((v.t === 'bool' && !v.v) || v.t === 'null');
  }
  const [type, x] = unwrap(expr);
  if (type === 'BoolExpr') {
    const args: any[] = x.args ?? [];
    if (x.boolop === 'OR_EXPR') return args.some((a) => unbounding(a, target, vars, depth + 1));
    if (x.boolop === 'AND_EXPR') return args.length > 0 && args.every((a) => unbounding(a, target, vars, depth + 1));
  }
  return false;
}

/** Whether an expression may refer to the written row (unknown shapes count as referring to it). */
function dependsOnRow(n: any, target: WriteTarget | undefined, vars: ReadonlySet<string> | undefined, depth: number): boolean {
  if (depth > MAX_DEPTH) return true;
  if (n === null || typeof n !== 'object') return false;
  if (Array.isArray(n)) return n.some((e) => dependsOnRow(e, target, vars, depth + 1));
  const [type, x] = unwrap(n);
  if (type === 'CurrentOfExpr') return true;
  if (type === 'ColumnRef') {
    const fields: any[] = x?.fields ?? [];
    const parts = fields.map((f) => {
      const [ft, fx] = unwrap(f);
      return ft === 'String' ? String(fx?.sval) : undefined;
    });
    if (parts.length === 1) return !(parts[0] !== undefined && vars?.has(parts[0]));
    if (parts.length < 2) return true;
    const qual = parts[parts.length - 2];
    if (qual === undefined) return true;
    // a name qualified by anything other than the written table (another FROM/USING table, a record
    // variable, the function's name) is not a column of the written row
    if (!target) return true;
    return qual === (target.alias ?? target.name);
  }
  const body = type ? x : n;
  if (!body || typeof body !== 'object') return false;
  for (const k of Object.keys(body)) {
    const c = body[k];
    if (c !== null && typeof c === 'object' && dependsOnRow(c, target, vars, depth + 1)) return true;
  }
  return false;
}
