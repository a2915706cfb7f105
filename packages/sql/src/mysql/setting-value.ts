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
