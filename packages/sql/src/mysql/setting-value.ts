/**
 * The constant behind a MySQL SET value, for policies that match on setting values.
 */
import type { SettingFact } from '../facts.js';
import { lexMysql, unquoteMysql } from './lexer.js';

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const WORD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `constant` / `reset` for a value as written (source text of a SET value, or of a SET_VAR hint):
 *  - one or more adjacent '...' / "..." literals → their text, unquoted (backslash escapes and doubled
 *    quotes resolved as the analyzer reads them: MySQL's default sql_mode); a charset introducer
 *    (_utf8mb4'x'), N'x', X'41' or b'1' is not a plain constant
 *  - a decimal number, optionally signed → as written (hex 0x41 is a string in MySQL: not a constant)
 *  - a bare word → as written (ON, OFF, utf8mb4, NULL, TRUE); the keyword DEFAULT is a reset
 *  - anything else (expressions, @x, @@x, function calls, subqueries, `quoted` identifiers) → nothing
 */
export function mysqlSettingConstant(text: string | undefined): Pick<SettingFact, 'constant' | 'reset'> {
  if (text === undefined) return {};
  const r = lexMysql(text);
  if (!r.ok || r.statements.length !== 1) return {};
  const toks = r.statements[0]!.tokens;
  const at = (i: number): string => r.code.slice(toks[i]!.start, toks[i]!.end);
  if (toks.length === 0) return {};
  if (toks.every((t) => t.kind === 'string')) {
    let out = '';
    for (let i = 0; i < toks.length; i++) {
      const s = at(i);
      if (s[0] !== "'" && s[0] !== '"') return {};
      out += unquoteMysql(s);
    }
    return { constant: out };
  }
  if (toks.length === 1 && toks[0]!.kind === 'number' && DECIMAL.test(at(0))) return { constant: at(0) };
  if (toks.length === 2 && toks[0]!.kind === 'punct' && (at(0) === '-' || at(0) === '+') && toks[1]!.kind === 'number' && DECIMAL.test(at(1))) {
    return { constant: at(0) + at(1) };
  }
  if (toks.length === 1 && toks[0]!.kind === 'word' && WORD.test(at(0))) {
    return at(0).toUpperCase() === 'DEFAULT' ? { reset: true } : { constant: at(0) };
  }
  return {};
}

/**
 * `CONCAT(@@sql_mode, ',FLAG', ...)` — what ORMs send on connect (Rails: `CONCAT(CONCAT(@@sql_mode,
 * ',STRICT_ALL_TABLES'), ',NO_AUTO_VALUE_ON_ZERO')`) — evaluated against the session's current
 * sql_mode: the value the setting would get, as a constant. Only CONCAT (nested, written `CONCAT(`
 * with no space) of `@@sql_mode` / `@@session.sql_mode` / `@@local.sql_mode` and plain '...' / "..."
 * literals is understood; anything else (another function, another variable, @@global.sql_mode, a
 * charset introducer, NULL) → undefined, and the value stays what it was: not a constant.
 */
export function evalSqlModeConcat(text: string, current: string): string | undefined {
  const r = lexMysql(text);
  if (!r.ok || r.statements.length !== 1) return undefined;
  const toks = r.statements[0]!.tokens;
  const src = (i: number): string => (i < toks.length ? r.code.slice(toks[i]!.start, toks[i]!.end) : '');
  const adjacent = (i: number): boolean => i + 1 < toks.length && toks[i]!.end === toks[i + 1]!.start;
  let i = 0;
  const expr = (depth: number): string | undefined => {
    if (depth > 16 || i >= toks.length) return undefined;
    const t = toks[i]!;
    if (t.kind === 'string') {
      let out = '';
      while (i < toks.length && toks[i]!.kind === 'string') {
        const s = src(i);
        if (s[0] !== "'" && s[0] !== '"') return undefined;
        out += unquoteMysql(s);
        i++;
      }
      return out;
    }
    if (t.kind === 'punct' && src(i) === '@') {
      // @@sql_mode, @@session.sql_mode, @@local.sql_mode: written without spaces
      if (!adjacent(i) || src(i + 1) !== '@' || !adjacent(i + 1)) return undefined;
      let j = i + 2;
      const first = src(j).toLowerCase();
      if (toks[j]?.kind !== 'word') return undefined;
      if (first === 'session' || first === 'local') {
        if (!adjacent(j) || src(j + 1) !== '.' || !adjacent(j + 1) || toks[j + 2]?.kind !== 'word') return undefined;
        j += 2;
      }
      if (src(j).toLowerCase() !== 'sql_mode') return undefined;
      i = j + 1;
      return current;
    }
    if (t.kind === 'word' && src(i).toUpperCase() === 'CONCAT' && adjacent(i) && src(i + 1) === '(') {
      i += 2;
      let out = '';
      for (;;) {
        const v = expr(depth + 1);
        if (v === undefined) return undefined;
        out += v;
        const sep = src(i);
        i++;
        if (sep === ')') return out;
        if (sep !== ',') return undefined;
      }
    }
    return undefined;
  };
  const v = expr(0);
  return v !== undefined && i === toks.length ? v : undefined;
}
