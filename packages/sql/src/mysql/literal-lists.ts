/**
 * Literal lists (`IN (1, 2, ...)`, `VALUES (...), (...), ...`) dominate the size of big statements but
 * carry no tables, functions or statements. Before the grammar parser sees a statement, lists longer than
 * LIST_KEEP are cut to their first element (and row lists to their first row), so a 1 MB bulk INSERT
 * parses like a short one. Only literals and commas are removed, never a keyword, so the statement's
 * kind, tables and functions stay the same; the WHERE judge is told lists were cut (and then assumes
 * the worst for constant IN lists). The same pass produces the normalized text (literals → `?`).
 */
import { createHash } from 'node:crypto';
import { symbolicNames } from './grammar-parser.js';
import { unquoteMysql, type LexedStatement, type MysqlToken } from './lexer.js';

/** the grammar's keywords (`SELECT_SYMBOL` → SELECT), for the case-insensitive fingerprint text */
const KEYWORDS: ReadonlySet<string> = new Set(
  symbolicNames.filter((n): n is string => typeof n === 'string' && n.endsWith('_SYMBOL')).map((n) => n.slice(0, -'_SYMBOL'.length)),
);

export const LIST_KEEP = 8;
const SPACED_KEYWORDS = /^(IN|VALUES?|AS|ON|USING|AND|OR|XOR|NOT|EXISTS|FROM|JOIN|WHERE|SELECT|INTO|TABLE|KEY|BY|ALL|ANY|SOME|SET|WHEN|THEN|ELSE|LIKE|BETWEEN|UNION|RETURNS|DO|CALL|TABLES)$/i;
/** string literals longer than this are replaced by a digest of their text before parsing */
export const LONG_STRING = 512;

interface Group {
  open: number; // token index of `(`
  close: number; // token index of `)`
  /** token index just after the first element */
  firstEnd: number;
  count: number;
}

function isCharsetIntroducer(code: string, t: MysqlToken, next: MysqlToken | undefined): boolean {
  if (t.kind !== 'word' || !next || next.kind !== 'string' || next.start !== t.end) return false;
  const w = code.slice(t.start, t.end);
  return w.startsWith('_') || /^[xXbBnN]$/.test(w);
}

/** end index (exclusive) of a literal element starting at token i, or -1 */
function literalElement(code: string, toks: MysqlToken[], i: number): number {
  let j = i;
  let t = toks[j];
  if (!t) return -1;
  if (t.kind === 'punct' && (code[t.start] === '-' || code[t.start] === '+')) {
    const nx = toks[j + 1];
    if (!nx || nx.kind !== 'number') return -1;
    return j + 2;
  }
  if (isCharsetIntroducer(code, t, toks[j + 1])) {
    j++;
    t = toks[j]!;
  }
  if (t.kind === 'string') {
    j++;
    while (toks[j]?.kind === 'string') j++; // 'a' 'b' concatenates
    return j;
  }
  if (t.kind === 'number' || t.kind === 'param') return j + 1;
  if (t.kind === 'word') {
    const w = code.slice(t.start, t.end).toUpperCase();
    if (w === 'NULL' || w === 'TRUE' || w === 'FALSE' || w === 'DEFAULT') return j + 1;
  }
  return -1;
}

function punctIs(code: string, t: MysqlToken | undefined, ch: string): boolean {
  return t !== undefined && t.kind === 'punct' && code[t.start] === ch && t.end === t.start + 1;
}

/** all parenthesized lists made only of literals */
function literalGroups(code: string, toks: MysqlToken[]): Map<number, Group> {
  const groups = new Map<number, Group>();
  for (let i = 0; i < toks.length; i++) {
    if (!punctIs(code, toks[i], '(')) continue;
    let j = i + 1;
    let count = 0;
    let firstEnd = -1;
    for (;;) {
      const e = literalElement(code, toks, j);
      if (e < 0) break;
      count++;
      if (firstEnd < 0) firstEnd = e;
      if (punctIs(code, toks[e], ',')) {
        j = e + 1;
        continue;
      }
      if (punctIs(code, toks[e], ')')) {
        groups.set(i, { open: i, close: e, firstEnd, count });
      }
      break;
    }
  }
  return groups;
}

interface Edit {
  from: number; // offset in code
  to: number;
  text: string;
}

export interface ReducedStatement {
  /** what the grammar parser gets */
  code: string;
  /** tokens left after reduction (for the complexity cap) */
  tokenCount: number;
  reducedLists: boolean;
  /** literals replaced by `?`, whitespace collapsed, cut lists shown as `...` */
  normalized: string;
  /**
   * the normalized text as MySQL reads it, for the fingerprint: keywords upper-cased (MySQL keywords are
   * case-insensitive), `backtick` identifiers unquoted when they are plain names that are not keywords,
   * other identifiers kept as written (table and schema names are case-sensitive on a server with
   * lower_case_table_names=0, the Linux default; a name spelled with different case is another table)
   */
  canonical: string;
}

/**
 * `stmt.code` is the statement's code view; its tokens carry offsets into the whole input starting at
 * `stmt.start`.
 */
export function reduceStatement(stmt: LexedStatement, opts: { keepStrings: boolean }): ReducedStatement {
  const base = stmt.start;
  const code = stmt.code;
  const toks = stmt.tokens.map((t) => ({ kind: t.kind, start: t.start - base, end: t.end - base }));
  const groups = literalGroups(code, toks);

  // token ranges [from, to) to drop, as token indices
  const drops: [number, number][] = [];
  for (const g of groups.values()) {
    if (g.count > LIST_KEEP) drops.push([g.firstEnd, g.close]);
  }
  // row lists: (..), (..), (..)
  const inRun = new Set<number>();
  for (const g of groups.values()) {
    if (inRun.has(g.open)) continue;
    let last = g;
    let rows = 1;
    for (;;) {
      const comma = last.close + 1;
      const next = punctIs(code, toks[comma], ',') ? groups.get(comma + 1) : undefined;
      if (!next) break;
      inRun.add(next.open);
      last = next;
      rows++;
    }
    if (rows > LIST_KEEP) drops.push([g.close + 1, last.close + 1]);
  }
  drops.sort((a, b) => a[0] - b[0]);
  // merge overlapping drops (a long row inside a dropped run of rows)
  const merged: [number, number][] = [];
  for (const d of drops) {
    const prev = merged[merged.length - 1];
    if (prev && d[0] < prev[1]) prev[1] = Math.max(prev[1], d[1]);
    else merged.push([d[0], d[1]]);
  }

  const edits: Edit[] = [];
  let dropped = 0;
  for (const [a, b] of merged) {
    if (b <= a) continue;
    edits.push({ from: toks[a]!.start, to: toks[b - 1]!.end, text: ' ' });
    dropped += b - a;
  }
  const droppedTok = new Uint8Array(toks.length);
  for (const [a, b] of merged) for (let k = a; k < b; k++) droppedTok[k] = 1;
  if (!opts.keepStrings) {
    for (let k = 0; k < toks.length; k++) {
      const t = toks[k]!;
      if (droppedTok[k] || t.kind !== 'string' || t.end - t.start <= LONG_STRING) continue;
      const digest = createHash('sha256').update(code.slice(t.start, t.end)).digest('hex').slice(0, 32);
      edits.push({ from: t.start, to: t.end, text: `'~${digest}'` });
    }
    edits.sort((a, b) => a.from - b.from);
  }
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += code.slice(at, e.from) + e.text;
    at = e.to;
  }
  out += code.slice(at);

  // normalized text (words) and the fingerprint text (canon), token for token
  const words: string[] = [];
  const canon: string[] = [];
  for (let k = 0; k < toks.length; k++) {
    if (droppedTok[k]) {
      if (words[words.length - 1] !== '...') {
        words.push(',', '...');
        canon.push(',', '...');
      }
      continue;
    }
    const t = toks[k]!;
    if (t.kind === 'string') {
      const before = toks[k - 1];
      if (before && before.kind === 'string' && !droppedTok[k - 1]) continue; // 'a' 'b' is one literal
      words.push('?');
      canon.push('?');
    } else if (t.kind === 'number' || t.kind === 'param') {
      const sign = words[words.length - 1];
      const beforeSign = words[words.length - 2];
      if ((sign === '-' || sign === '+') && (beforeSign === undefined || /^[(,=<>!]+$/.test(beforeSign))) {
        words.pop();
        canon.pop();
      }
      words.push('?');
      canon.push('?');
    } else if (t.kind === 'word' && isCharsetIntroducer(code, t, toks[k + 1])) {
      continue;
    } else {
      const text = code.slice(t.start, t.end);
      words.push(text);
      canon.push(canonicalWord(t.kind, text));
    }
  }
  const normalized = joinWords(words);
  const canonical = joinWords(canon);
  return { code: out, tokenCount: toks.length - dropped, reducedLists: merged.length > 0, normalized, canonical };
}

function joinWords(words: string[]): string {
  let norm = '';
  let prev = '';
  for (const w of words) {
    const tight = norm === '' || w === ',' || w === ')' || w === '.' || prev === '(' || prev === '.' || prev === '@' || (w === '(' && /^[A-Za-z_][\w$]*$/.test(prev) && !SPACED_KEYWORDS.test(prev));
    norm += (tight ? '' : ' ') + w;
    prev = w;
  }
  return norm.replace(/\s+/g, ' ').trim();
}

function canonicalWord(kind: MysqlToken['kind'], text: string): string {
  if (kind === 'word') {
    const up = text.toUpperCase();
    return KEYWORDS.has(up) ? up : text;
  }
  if (kind === 'quoted_ident' && text.startsWith('`')) {
    const name = unquoteMysql(text, false);
    // a plain name that is not a keyword reads the same without backticks
    if (/^[A-Za-z_$][\w$]*$/.test(name) && !KEYWORDS.has(name.toUpperCase())) return name;
    return text;
  }
  return text;
}
