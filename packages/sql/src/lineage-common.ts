/**
 * Dialect-independent parts of the column lineage (postgres/lineage.ts, mysql/lineage.ts): the
 * per-output-column lineage values, their keys and de-duplication, set-operation branch merging and
 * the conversion into `OutputColumn`. How a dialect accumulates values (`lin()`, `merge`, ...) stays
 * with the dialect.
 */
import type { ColumnRef, LineageTable, OutputColumn } from './facts.js';

/** An output column with more distinct sources than this keeps whole-row markers for their tables instead. */
export const MAX_SOURCES = 256;

/** The lineage of one value. */
export interface Lin {
  src: ColumnRef[];
  whole: LineageTable[];
  /** a bare column reference */
  direct: boolean;
  /** lineage is incomplete (unknown function, unfollowed reference, ...) */
  inc: boolean;
  /** several candidates, all listed */
  amb: boolean;
  why: string[];
}

/** The lineage of one output column. */
export interface Col extends Lin {
  name: string;
  star?: LineageTable;
  expands?: boolean;
}

type TableKey = { schema?: string; table: string; column?: string };

export function colOf(l: Lin, name: string): Col {
  return { src: l.src, whole: l.whole, direct: l.direct, inc: l.inc, amb: l.amb, why: l.why, name };
}

export function isSpread(c: Col): boolean {
  return c.star !== undefined || c.expands === true;
}

/** An output column as a plain lineage value (a star entry becomes its whole table). */
export function starAsWhole(c: Col): Lin {
  if (!c.star) return c;
  return { src: c.src, whole: [...c.whole, c.star], direct: false, inc: c.inc, amb: c.amb, why: c.why };
}

/** Names of a FROM item's columns, when all are known. */
export function knownNames(cols: Col[]): string[] | undefined {
  if (cols.some(isSpread)) return undefined;
  return cols.map((c) => c.name);
}

export function colRef(t: LineageTable, column: string): ColumnRef {
  return t.schema !== undefined ? { schema: t.schema, table: t.table, column } : { table: t.table, column };
}

export function keyOf(c: TableKey): string {
  return `${c.schema ?? ''}\u0000${c.table}\u0000${c.column ?? ''}`;
}

/** The same key as `keyOf` (an absent schema or column is the empty one), without building it. */
function same(a: TableKey, b: TableKey): boolean {
  return a.table === b.table && (a.column ?? '') === (b.column ?? '') && (a.schema ?? '') === (b.schema ?? '');
}

/** The list without repeated entries (by `keyOf`), first occurrences in order; always a new array. */
export function dedupe<T extends TableKey>(list: T[]): T[] {
  if (list.length <= 1) return list.slice();
  if (list.length <= 16) {
    const out: T[] = [];
    for (const c of list) if (!out.some((o) => same(o, c))) out.push(c);
    return out;
  }
  const m = new Map<string, T>();
  for (const c of list) {
    const k = keyOf(c);
    if (!m.has(k)) m.set(k, c);
  }
  return [...m.values()];
}

export function signature(cols: Col[]): string {
  const set = (l: string[]): string[] => [...new Set(l)].sort();
  return JSON.stringify(cols.map((c) => [c.name, set(c.src.map(keyOf)), set(c.whole.map((w) => keyOf(w))), c.direct, c.inc, c.amb, c.star ? keyOf(c.star) : '', !!c.expands]));
}

/** The same column with duplicate sources, tables and reasons dropped (keeps recursive CTE iterations small). */
export function compact<C extends Col>(c: C): C {
  return { ...c, src: dedupe(c.src), whole: dedupe(c.whole), why: [...new Set(c.why)] };
}

/** A bare column reference (or an ambiguous one, every candidate listed). */
export function isColumnValue(c: Col): boolean {
  return c.direct && c.src.length > 0 && c.whole.length === 0 && !isSpread(c);
}

/** A value that derives from no column, fully traced: a constant, a parameter, `now()`. */
export function isDataFree(c: Col): boolean {
  return !c.direct && c.src.length === 0 && c.whole.length === 0 && !c.inc && !c.amb && !isSpread(c);
}

/** A fresh accumulator owning its arrays (used only here: the dialects keep their own). */
function accumulator(): Lin {
  return { src: [], whole: [], direct: false, inc: false, amb: false, why: [] };
}

/** Adds `b` into the accumulator `a` (which stops being direct); a star entry contributes its whole table. */
function add(a: Lin, b: Col): void {
  for (const s of b.src) a.src.push(s);
  for (const w of b.whole) a.whole.push(w);
  if (b.inc) a.inc = true;
  if (b.amb) a.amb = true;
  for (const w of b.why) a.why.push(w);
  a.direct = false;
  if (b.star) a.whole.push(b.star);
}

/**
 * Set operations and VALUES rows: the i-th output column derives from the i-th column of every
 * branch. Positions stay aligned until the first `*` of any branch; from there on, everything left
 * becomes one entry that expands to the remaining columns.
 */
export function combine(branches: Col[][]): Col[] {
  if (branches.length === 1) return branches[0]!;
  const first = branches[0]!;
  const out: Col[] = [];
  const width = Math.max(...branches.map((b) => b.length));
  const sameWidth = branches.every((b) => b.length === width);
  let i = 0;
  for (; i < width; i++) {
    const at = branches.map((b) => b[i]);
    if (at.some((c) => c === undefined || isSpread(c))) break;
    const cols = at as Col[];
    const acc = accumulator();
    // aligned entries are no spreads: no star to add
    for (const c of cols) add(acc, c);
    // each row's value is one branch's value as it is: a column's own value when every branch is a
    // bare column reference (the same column or not), or a value that derives from no column at all
    // (a constant, a parameter); at least one branch must be a column
    acc.direct = cols.every((c) => isColumnValue(c) || isDataFree(c)) && cols.some(isColumnValue);
    out.push(colOf(acc, first[i]!.name));
  }
  if (i < width) {
    const acc = accumulator();
    for (const b of branches) for (const c of b.slice(i)) add(acc, c);
    if (!sameWidth && !branches.some((b) => b.some(isSpread))) {
      acc.inc = true;
      acc.why.push('set operation branches of different widths');
    }
    out.push({ ...colOf(acc, '*'), expands: true });
  }
  return out;
}

/** The output column as reported: sources and whole-row tables de-duplicated, capped at MAX_SOURCES. */
export function finish(c: Col): OutputColumn {
  let sources = dedupe(c.src);
  let whole = dedupe(c.whole);
  if (sources.length > MAX_SOURCES) {
    whole = dedupe([...whole, ...sources.map((s): LineageTable => (s.schema !== undefined ? { schema: s.schema, table: s.table } : { table: s.table }))]);
    sources = [];
  }
  const certain = !c.inc && !c.amb;
  const o: OutputColumn = { name: c.name, sources, direct: c.direct, certain };
  if (c.star) o.star = c.star;
  if (c.expands) o.expands = true;
  if (whole.length) o.wholeRow = whole;
  if (!certain) {
    if (!c.inc) o.ambiguous = true;
    o.uncertain = [...new Set(c.why)];
  }
  return o;
}
