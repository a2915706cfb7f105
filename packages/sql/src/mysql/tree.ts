/** Small helpers over the ANTLR parse tree of the MySQL grammar. */
import { altOf, ruleNames, type PNode } from './grammar-parser.js';
import { unquoteMysql } from './lexer.js';

export function ruleName(n: PNode): string {
  return n.symbol ? '' : (ruleNames[n.ruleIndex] ?? '');
}

export function isTerminal(n: PNode): boolean {
  return n.symbol !== undefined;
}

export function kids(n: PNode): PNode[] {
  return n.children ?? [];
}

/** direct child with the given rule name */
export function child(n: PNode, name: string): PNode | undefined {
  for (const c of kids(n)) if (ruleName(c) === name) return c;
  return undefined;
}

export function childrenNamed(n: PNode, name: string): PNode[] {
  return kids(n).filter((c) => ruleName(c) === name);
}

/** first terminal child's upper-cased text, for keyword dispatch */
export function firstWord(n: PNode): string {
  for (const c of kids(n)) {
    if (c.symbol) return c.symbol.text.toUpperCase();
    return firstWord(c);
  }
  return '';
}

export function hasTerminal(n: PNode, upper: string): boolean {
  for (const c of kids(n)) if (c.symbol && c.symbol.text.toUpperCase() === upper) return true;
  return false;
}

/** depth-first search for descendants with one of the rule names; `stop` rules are not entered */
export function findAll(n: PNode, names: ReadonlySet<string>, stop?: ReadonlySet<string>, out: PNode[] = []): PNode[] {
  for (const c of kids(n)) {
    if (c.symbol) continue;
    const r = ruleName(c);
    if (names.has(r)) out.push(c);
    if (stop?.has(r)) continue;
    findAll(c, names, stop, out);
  }
  return out;
}

export function findFirst(n: PNode, name: string, stop?: ReadonlySet<string>): PNode | undefined {
  for (const c of kids(n)) {
    if (c.symbol) continue;
    const r = ruleName(c);
    if (r === name) return c;
    if (stop?.has(r)) continue;
    const f = findFirst(c, name, stop);
    if (f) return f;
  }
  return undefined;
}

export function terminals(n: PNode, out: PNode[] = []): PNode[] {
  if (n.symbol) {
    out.push(n);
    return out;
  }
  for (const c of kids(n)) terminals(c, out);
  return out;
}

/** identifier text as MySQL reads it: backticks (and ANSI double quotes) removed, case as written */
export function identText(text: string): string {
  if (text.startsWith('`') || text.startsWith('"')) return unquoteMysql(text, false);
  return text;
}

/** parts of a dotted name (qualifiedIdentifier, tableRef, tableName, ...), unquoted */
export function nameParts(n: PNode): string[] {
  return terminals(n)
    .map((t) => t.symbol!.text)
    .filter((t) => t !== '.')
    .map(identText);
}

/** the source text of a node in the parsed code */
export function sourceText(code: string, n: PNode): string {
  const start = n.symbol ? n.symbol.start : n.start?.start;
  const stop = n.symbol ? n.symbol.stop : n.stop?.stop;
  if (start === undefined || stop === undefined || start < 0 || stop < start) return n.getText();
  return code.slice(start, stop + 1);
}

export { altOf };
