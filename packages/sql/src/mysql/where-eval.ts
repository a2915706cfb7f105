/**
 * Decides whether a WHERE condition bounds a write: a condition is unbounded when it is always true
 * (`1=1`, `TRUE`, `'a'='a'`, `id = id`, `NOT 0`, `x OR 1`, `1 IN (1)`, ...) or when it refers to no
 * column at all (then it is the same for every row: all rows or none).
 */
import type { PNode } from './grammar-parser.js';
import { COMPARISON_COMPLEMENTS } from '../comparison-complements.js';
import { altOf, findFirst, kids, nameParts, ruleName, terminals } from './tree.js';

type V = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'null' } | { t: 'col'; key: string } | { t: 'unk' };
type Truth = 'T' | 'F' | 'U';

const UNK: V = { t: 'unk' };

export interface WhereVerdict {
  alwaysTrue: boolean;
  noColumns: boolean;
  /**
   * the condition does not bound the write: always true, entirely row-independent, an OR with a
   * row-independent disjunct (`id = ? OR ?`) or with a predicate and its complement
   * (`x IS NULL OR x IS NOT NULL`, `id = 1 OR id <> 1`), or an AND of such conditions
   */
  unbounded: boolean;
}

/** `opts.reducedLists`: literal lists were shortened before parsing, so IN lists are not exact */
export function judgeWhere(expr: PNode, opts: { reducedLists: boolean }): WhereVerdict {
  const noColumns = findFirst(expr, 'columnRef') === undefined;
  let alwaysTrue = false;
  try {
    alwaysTrue = truthOf(evalExpr(expr, opts)) === 'T';
  } catch {
    alwaysTrue = false; // RangeError on absurd depth: the caller already bounds depth; stay conservative below
  }
  let unbounded = alwaysTrue || noColumns;
  if (!unbounded) {
    try {
      unbounded = unboundedCond(expr, opts);
    } catch {
      unbounded = true; // absurd depth: fail closed
    }
  }
  return { alwaysTrue, noColumns, unbounded };
}

/** strips `(expr)` and single-child wrappers (expr → boolPri → predicate → bitExpr), down to a simpleExpr */
function unwrap(n: PNode): PNode {
  for (;;) {
    const c = kids(n);
    const alt = altOf(n);
    if (alt === 'SimpleExprListContext') {
      const list = c.find((k) => ruleName(k) === 'exprList');
      const items = list ? kids(list).filter((k) => ruleName(k) === 'expr') : [];
      if (items.length !== 1 || c.some((k) => k.getText().toUpperCase() === 'ROW')) return n;
      n = items[0]!;
      continue;
    }
    if (c.length === 1 && !c[0]!.symbol && (ruleName(n) === 'expr' || ruleName(n) === 'boolPri' || ruleName(n) === 'predicate' || ruleName(n) === 'bitExpr')) {
      n = c[0]!;
      continue;
    }
    return n;
  }
}

function flatten(n: PNode, alt: string, out: PNode[] = []): PNode[] {
  const u = unwrap(n);
  if (altOf(u) === alt) {
    const c = kids(u);
    flatten(c[0]!, alt, out);
    flatten(c[2]!, alt, out);
  } else out.push(u);
  return out;
}

/** a condition that does not bound the rows it is applied to (see WhereVerdict.unbounded) */
export function unboundedCond(expr: PNode, opts: { reducedLists: boolean }): boolean {
  const e = unwrap(expr);
  const alt = altOf(e);
  if (alt === 'ExprOrContext') {
    const ds = flatten(e, 'ExprOrContext');
    if (ds.some((d) => unboundedCond(d, opts))) return true;
    const keys = ds.map(complementKey).filter((k): k is { key: string; neg: boolean } => k !== undefined);
    for (let i = 0; i < keys.length; i++) for (let j = i + 1; j < keys.length; j++) if (keys[i]!.key === keys[j]!.key && keys[i]!.neg !== keys[j]!.neg) return true;
    return false;
  }
  if (alt === 'ExprAndContext') return flatten(e, 'ExprAndContext').every((d) => unboundedCond(d, opts));
  if (findFirst(e, 'columnRef') === undefined) {
    // row-independent: the same for every row (all rows or none) unless provably false
    return truthOf(evalExpr(e, opts)) !== 'F';
  }
  return truthOf(evalExpr(e, opts)) === 'T';
}

const CMP_COMPLEMENT = COMPARISON_COMPLEMENTS;

const txt = (n: PNode): string => n.getText().toLowerCase();

/** a predicate and whether it is negated, so that `p` and `NOT p` (in any spelling) share the key */
function complementKey(n: PNode): { key: string; neg: boolean } | undefined {
  const u = unwrap(n);
  const c = kids(u);
  switch (altOf(u)) {
    case 'ExprNotContext':
    case 'SimpleExprNotContext': {
      const k = complementKey(c[1]!);
      return k && { key: k.key, neg: !k.neg };
    }
    case 'PrimaryExprCompareContext': {
      const m = CMP_COMPLEMENT[c[1]!.getText().toUpperCase()];
      if (!m) return undefined;
      return { key: `cmp ${txt(c[0]!)} ${m[0]} ${txt(c[2]!)}`, neg: m[1] };
    }
    case 'PrimaryExprIsNullContext': {
      const neg = c.some((k) => k.getText().toUpperCase() === 'NOT' || ruleName(k) === 'notRule');
      return { key: `isnull ${txt(c[0]!)}`, neg };
    }
    case 'ExprIsContext': {
      if (c.length === 1) return undefined;
      const words = c.slice(1).map((k) => k.getText().toUpperCase());
      return { key: `is ${txt(c[0]!)} ${words[words.length - 1]}`, neg: words.includes('NOT') };
    }
    default:
      break;
  }
  if (ruleName(u) === 'predicate') {
    const ops = c.find((k) => ruleName(k) === 'predicateOperations');
    if (!ops || (altOf(ops) !== 'PredicateExprInContext' && altOf(ops) !== 'PredicateExprBetweenContext' && altOf(ops) !== 'PredicateExprLikeContext')) return undefined;
    const neg = c.some((k) => ruleName(k) === 'notRule' || (k.symbol !== undefined && k.symbol.text.toUpperCase() === 'NOT'));
    return { key: `pred ${txt(c[0]!)} ${txt(ops)}`, neg };
  }
  return undefined;
}

function truthOf(v: V | Truth): Truth {
  if (typeof v === 'string') return v;
  switch (v.t) {
    case 'num':
      return v.v !== 0 ? 'T' : 'F';
    case 'str':
      return toNum(v.v) !== 0 ? 'T' : 'F';
    case 'null':
      return 'U';
    default:
      return 'U';
  }
}

/** MySQL's string → number conversion: the longest numeric prefix, else 0 */
function toNum(s: string): number {
  const m = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(s);
  return m ? Number(m[0]) : 0;
}

function fromTruth(t: Truth): V {
  return t === 'T' ? { t: 'num', v: 1 } : t === 'F' ? { t: 'num', v: 0 } : UNK;
}

interface Opts {
  reducedLists: boolean;
}

function evalExpr(n: PNode, o: Opts): V {
  const alt = altOf(n);
  const c = kids(n);
  switch (alt) {
    case 'ExprOrContext': {
      const a = truthOf(evalExpr(c[0]!, o));
      const b = truthOf(evalExpr(c[2]!, o));
      return fromTruth(a === 'T' || b === 'T' ? 'T' : a === 'F' && b === 'F' ? 'F' : 'U');
    }
    case 'ExprAndContext': {
      const a = truthOf(evalExpr(c[0]!, o));
      const b = truthOf(evalExpr(c[2]!, o));
      return fromTruth(a === 'T' && b === 'T' ? 'T' : a === 'F' || b === 'F' ? 'F' : 'U');
    }
    case 'ExprXorContext': {
      const a = truthOf(evalExpr(c[0]!, o));
      const b = truthOf(evalExpr(c[2]!, o));
      return fromTruth(a === 'U' || b === 'U' ? 'U' : a !== b ? 'T' : 'F');
    }
    case 'ExprNotContext':
      return fromTruth(not(truthOf(evalExpr(c[1]!, o))));
    case 'ExprIsContext': {
      const v = evalExpr(c[0]!, o);
      if (c.length === 1) return v;
      const words = c.slice(1).map((k) => k.getText().toUpperCase());
      const neg = words.includes('NOT');
      const what = words[words.length - 1];
      const t = truthOf(v);
      let r: Truth = 'U';
      if (what === 'TRUE') r = t === 'U' ? (v.t === 'null' ? 'F' : 'U') : t === 'T' ? 'T' : 'F';
      else if (what === 'FALSE') r = t === 'U' ? (v.t === 'null' ? 'F' : 'U') : t === 'F' ? 'T' : 'F';
      else if (what === 'UNKNOWN') r = v.t === 'null' ? 'T' : t === 'U' ? 'U' : 'F';
      return fromTruth(neg ? not(r) : r);
    }
    case 'PrimaryExprPredicateContext':
      return evalPredicate(c[0]!, o);
    case 'PrimaryExprCompareContext':
      return fromTruth(compare(evalExpr(c[0]!, o), c[1]!.getText().toUpperCase(), evalPredicate(c[2]!, o)));
    case 'PrimaryExprIsNullContext': {
      const v = evalExpr(c[0]!, o);
      const neg = c.some((k) => k.getText().toUpperCase() === 'NOT' || ruleName(k) === 'notRule');
      if (v.t === 'col' || v.t === 'unk') return UNK;
      const isNull = v.t === 'null';
      return fromTruth(isNull !== neg ? 'T' : 'F');
    }
    default:
      break;
  }
  switch (ruleName(n)) {
    case 'expr':
    case 'boolPri':
      return c.length === 1 ? evalExpr(c[0]!, o) : UNK;
    case 'predicate':
      return evalPredicate(n, o);
    case 'bitExpr':
      return evalBit(n, o);
    case 'simpleExpr':
      return evalSimple(n, o);
    default:
      return UNK;
  }
}

function not(t: Truth): Truth {
  return t === 'T' ? 'F' : t === 'F' ? 'T' : 'U';
}

function sameValue(a: V, b: V): Truth {
  if (a.t === 'col' && b.t === 'col') return a.key === b.key ? 'T' : 'U';
  if (a.t === 'null' || b.t === 'null') return 'U';
  if (a.t === 'unk' || b.t === 'unk' || a.t === 'col' || b.t === 'col') return 'U';
  if (a.t === 'str' && b.t === 'str') return a.v.toLowerCase().trimEnd() === b.v.toLowerCase().trimEnd() ? 'T' : 'F';
  const x = a.t === 'num' ? a.v : toNum(a.v);
  const y = b.t === 'num' ? b.v : toNum(b.v);
  return x === y ? 'T' : 'F';
}

function order(a: V, b: V): number | undefined {
  if (a.t === 'str' && b.t === 'str') return a.v.toLowerCase() < b.v.toLowerCase() ? -1 : a.v.toLowerCase() > b.v.toLowerCase() ? 1 : 0;
  if ((a.t === 'num' || a.t === 'str') && (b.t === 'num' || b.t === 'str')) {
    const x = a.t === 'num' ? a.v : toNum(a.v);
    const y = b.t === 'num' ? b.v : toNum(b.v);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return undefined;
}

function compare(a: V, op: string, b: V): Truth {
  if (op === '<=>') {
    if (a.t === 'null' && b.t === 'null') return 'T';
    if (a.t === 'col' && b.t === 'col' && a.key === b.key) return 'T';
    if (a.t === 'null' || b.t === 'null') return a.t === 'col' || b.t === 'col' || a.t === 'unk' || b.t === 'unk' ? 'U' : 'F';
    return sameValue(a, b);
  }
  if (a.t === 'col' && b.t === 'col' && a.key === b.key) {
    // id = id is true for every row where id is not NULL: treat as unbounded
    return op === '=' || op === '>=' || op === '<=' ? 'T' : 'F';
  }
  const eq = sameValue(a, b);
  if (op === '=') return eq;
  if (op === '<>' || op === '!=') return not(eq);
  const ord = order(a, b);
  if (ord === undefined) return 'U';
  switch (op) {
    case '<':
      return ord < 0 ? 'T' : 'F';
    case '<=':
      return ord <= 0 ? 'T' : 'F';
    case '>':
      return ord > 0 ? 'T' : 'F';
    case '>=':
      return ord >= 0 ? 'T' : 'F';
    default:
      return 'U';
  }
}

function evalPredicate(n: PNode, o: Opts): V {
  const c = kids(n);
  if (ruleName(n) !== 'predicate') return evalExpr(n, o);
  const lhs = evalBit(c[0]!, o);
  if (c.length === 1) return lhs;
  const neg = c.some((k) => ruleName(k) === 'notRule' || (k.symbol !== undefined && k.symbol.text.toUpperCase() === 'NOT'));
  const ops = c.find((k) => ruleName(k) === 'predicateOperations');
  if (!ops) return UNK;
  const oc = kids(ops);
  let r: Truth = 'U';
  switch (altOf(ops)) {
    case 'PredicateExprInContext': {
      const list = oc.find((k) => ruleName(k) === 'exprList');
      if (!list) break;
      const items = kids(list).filter((k) => ruleName(k) === 'expr');
      const vals = items.map((e) => evalExpr(e, o));
      if (vals.some((v) => sameValue(lhs, v) === 'T')) r = 'T';
      else if (o.reducedLists && lhs.t !== 'col') r = 'T'; // the list was shortened: assume the worst
      else if (lhs.t !== 'col' && lhs.t !== 'unk' && vals.every((v) => sameValue(lhs, v) === 'F')) r = 'F';
      break;
    }
    case 'PredicateExprBetweenContext': {
      const lo = evalBit(oc[1]!, o);
      const hi = evalPredicate(oc[3]!, o);
      if (lhs.t === 'col' && lo.t === 'col' && hi.t === 'col' && lhs.key === lo.key && lhs.key === hi.key) r = 'T';
      else {
        const a = order(lhs, lo);
        const b = order(lhs, hi);
        if (a !== undefined && b !== undefined) r = a >= 0 && b <= 0 ? 'T' : 'F';
      }
      break;
    }
    case 'PredicateExprLikeContext': {
      const pat = evalSimple(oc[1]!, o);
      if (pat.t === 'str' && /^%+$/.test(pat.v) && lhs.t !== 'null') r = 'T';
      else if (pat.t === 'str' && (lhs.t === 'str' || lhs.t === 'num')) r = likeMatch(lhs.t === 'str' ? lhs.v : String(lhs.v), pat.v) ? 'T' : 'F';
      else if (pat.t === 'col' && lhs.t === 'col' && pat.key === lhs.key) r = 'T';
      break;
    }
    default:
      break;
  }
  return fromTruth(neg ? not(r) : r);
}

function likeMatch(s: string, pat: string): boolean {
  let re = '^';
  for (let i = 0; i < pat.length; i++) {
    const ch = pat[i]!;
    if (ch === '\\' && i + 1 < pat.length) re += pat[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$', 'i').test(s);
}

function num(v: V): number | undefined {
  if (v.t === 'num') return v.v;
  if (v.t === 'str') return toNum(v.v);
  return undefined;
}

function evalBit(n: PNode, o: Opts): V {
  const c = kids(n);
  if (ruleName(n) !== 'bitExpr') return evalSimple(n, o);
  if (c.length === 1) return evalSimple(c[0]!, o);
  if (c.length !== 3) return UNK;
  const a = evalBit(c[0]!, o);
  const b = evalBit(c[2]!, o);
  if (a.t === 'null' || b.t === 'null') return { t: 'null' };
  const x = num(a);
  const y = num(b);
  if (x === undefined || y === undefined) return UNK;
  switch (c[1]!.getText().toUpperCase()) {
    case '+':
      return { t: 'num', v: x + y };
    case '-':
      return { t: 'num', v: x - y };
    case '*':
      return { t: 'num', v: x * y };
    case '/':
      return y === 0 ? { t: 'null' } : { t: 'num', v: x / y };
    case 'DIV':
      return y === 0 ? { t: 'null' } : { t: 'num', v: Math.trunc(x / y) };
    case '%':
    case 'MOD':
      return y === 0 ? { t: 'null' } : { t: 'num', v: x % y };
    default:
      return UNK;
  }
}

function evalSimple(n: PNode, o: Opts): V {
  const c = kids(n);
  switch (altOf(n)) {
    case 'SimpleExprLiteralContext':
      return evalLiteral(c[0]!);
    case 'SimpleExprColumnRefContext':
      return { t: 'col', key: nameParts(c[0]!).join('.').toLowerCase() };
    case 'SimpleExprListContext': {
      const list = c.find((k) => ruleName(k) === 'exprList');
      const items = list ? kids(list).filter((k) => ruleName(k) === 'expr') : [];
      return items.length === 1 && !c.some((k) => k.getText().toUpperCase() === 'ROW') ? evalExpr(items[0]!, o) : UNK;
    }
    case 'SimpleExprNotContext':
      return fromTruth(not(truthOf(evalSimple(c[1]!, o))));
    case 'SimpleExprUnaryContext': {
      const v = evalSimple(c[1]!, o);
      const x = num(v);
      if (v.t === 'null') return v;
      if (x === undefined) return UNK;
      const op = c[0]!.getText();
      return op === '-' ? { t: 'num', v: -x } : op === '+' ? { t: 'num', v: x } : UNK;
    }
    case 'SimpleExprCollateContext':
    case 'SimpleExprBinaryContext':
      return evalSimple(c[c.length === 2 ? 1 : 0]!, o);
    default:
      if (ruleName(n) === 'bitExpr') return evalBit(n, o);
      if (ruleName(n) === 'expr' || ruleName(n) === 'boolPri' || ruleName(n) === 'predicate') return evalExpr(n, o);
      return UNK;
  }
}

function evalLiteral(n: PNode): V {
  const r = ruleName(n);
  const text = n.getText();
  switch (r) {
    case 'nullLiteral':
      return { t: 'null' };
    case 'boolLiteral':
      return { t: 'num', v: text.toUpperCase() === 'TRUE' ? 1 : 0 };
    case 'numLiteral': {
      const v = Number(text);
      return Number.isFinite(v) ? { t: 'num', v } : UNK;
    }
    case 'textLiteral': {
      const parts = terminals(n)
        .map((t) => t.symbol!.text)
        .filter((t) => t.startsWith("'") || t.startsWith('"'));
      if (parts.length === 0) return UNK;
      return { t: 'str', v: parts.map(unq).join('') };
    }
    case 'literal':
      return kids(n).length === 1 ? evalLiteral(kids(n)[0]!) : UNK;
    default:
      return UNK;
  }
}

function unq(s: string): string {
  // string literal with backslash escapes (MySQL default)
  const q = s[0];
  if (q !== "'" && q !== '"') return s;
  let out = '';
  const body = s.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === q && body[i + 1] === q) {
      out += q;
      i++;
    } else if (ch === '\\' && i + 1 < body.length) out += body[++i]!;
    else out += ch;
  }
  return out;
}
