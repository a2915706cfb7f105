/**
 * Checks on MySQL statement text that the MySQL engine makes itself, whatever the policy says, with
 * the same tokenizer the analyzer uses (versioned comments unwrapped, comments blanked):
 *  - KILL is never forwarded: the ids clients see are sqlwarden's (see MysqlSession.kill);
 *  - USE may name only the credential's database;
 *  - the session variable that carries the agent's identity upstream cannot be written.
 */
import { lexMysql, unquoteMysql, type LexedStatement, type MysqlToken } from '@sqlwarden/sql';

/** The user variable that carries `sqlwarden:<agent>:<session>` upstream. */
export const IDENTITY_VARIABLE = 'sqlwarden_identity';

export type KillRequest =
  | { kind: 'kill'; mode: 'query' | 'connection'; id: number }
  | { kind: 'unsupported'; detail: string }
  /** more than one statement, one of them a KILL */
  | { kind: 'not_alone' };

function word(code: string, t: MysqlToken | undefined): string {
  return t && t.kind === 'word' ? code.slice(t.start, t.end).toUpperCase() : '';
}

function firstWord(s: Stmt): string {
  return word(s.code, s.tokens[0]);
}

/** A lexed statement with the code view of the whole input (token offsets are into the whole input). */
interface Stmt {
  code: string;
  tokens: LexedStatement['tokens'];
}

/** The lexed statements of a string; null when the tokenizer refuses it (the analysis refuses it too). */
function lex(sql: string): Stmt[] | null {
  const r = lexMysql(sql);
  return r.ok ? r.statements.map((s) => ({ code: r.code, tokens: s.tokens })) : null;
}

/**
 * A KILL statement as sqlwarden handles it: `KILL [HARD|SOFT] [CONNECTION|QUERY] <number>`. Null when
 * no statement of the string is a KILL.
 */
export function parseKill(sql: string): KillRequest | null {
  const stmts = lex(sql);
  if (!stmts || !stmts.some((s) => firstWord(s) === 'KILL')) return null;
  if (stmts.length !== 1) return { kind: 'not_alone' };
  const s = stmts[0]!;
  const toks = s.tokens;
  let i = 1;
  if (word(s.code, toks[i]) === 'HARD' || word(s.code, toks[i]) === 'SOFT') i++;
  let mode: 'query' | 'connection' = 'connection';
  const w = word(s.code, toks[i]);
  if (w === 'QUERY') {
    mode = 'query';
    i++;
  } else if (w === 'CONNECTION') i++;
  const t = toks[i];
  if (word(s.code, t) === 'USER' || word(s.code, t) === 'ID') {
    return { kind: 'unsupported', detail: 'KILL ... USER and KILL QUERY ID are not supported through sqlwarden; use KILL [QUERY] <connection id>' };
  }
  const text = t ? s.code.slice(t.start, t.end) : '';
  if (!t || t.kind !== 'number' || !/^\d{1,10}$/.test(text) || i + 1 !== toks.length) {
    return { kind: 'unsupported', detail: 'KILL takes a connection id as a number through sqlwarden (the id your driver reports, e.g. mysql2 threadId)' };
  }
  const id = Number(text);
  if (id > 0xffffffff) return { kind: 'unsupported', detail: 'KILL: connection id out of range' };
  return { kind: 'kill', mode, id };
}

/** The databases named by USE statements in the string, unquoted, in order; null when it cannot be lexed. */
export function useDatabases(sql: string): string[] | null {
  const stmts = lex(sql);
  if (!stmts) return null;
  const out: string[] = [];
  for (const s of stmts) {
    if (firstWord(s) !== 'USE') continue;
    const t = s.tokens[1];
    if (!t || s.tokens.length !== 2 || (t.kind !== 'word' && t.kind !== 'quoted_ident')) {
      out.push('');
      continue;
    }
    const text = s.code.slice(t.start, t.end);
    out.push(t.kind === 'quoted_ident' ? unquoteMysql(text) : text);
  }
  return out;
}

function variableName(code: string, t: MysqlToken | undefined): string | null {
  if (!t) return null;
  const text = code.slice(t.start, t.end);
  switch (t.kind) {
    case 'word':
      return text.toLowerCase();
    case 'quoted_ident':
    case 'string':
      return unquoteMysql(text).toLowerCase();
    default:
      return null;
  }
}

/**
 * True when the string may write the identity variable: `@sqlwarden_identity` (any case or quoting)
 * followed by `:=`, followed by `=` in a statement that has a SET (SET statements, SET inside routine
 * bodies), after INTO (`SELECT ... INTO @v`), in a LOAD statement; and the same inside the text of
 * PREPARE ... FROM '<text>'. Reading it is fine. Strings the tokenizer refuses are not judged here
 * (their analysis fails and they are denied).
 */
export function writesIdentityVariable(sql: string, depth = 0): boolean {
  if (depth > 3) return true;
  if (!sql.includes('@') && !/prepare/i.test(sql)) return false;
  const stmts = lex(sql);
  if (!stmts) return false;
  for (const s of stmts) {
    const toks = s.tokens;
    const first = firstWord(s);
    let hasSet = false;
    let afterInto = false;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!;
      const w = word(s.code, t);
      if (w === 'SET') hasSet = true;
      if (w === 'INTO') afterInto = true;
      if (first === 'PREPARE' && t.kind === 'string' && writesIdentityVariable(unquoteMysql(s.code.slice(t.start, t.end)), depth + 1)) return true;
      if (t.kind !== 'punct' || s.code.slice(t.start, t.end) !== '@') continue;
      // @@system_variable: not a user variable
      const prev = toks[i - 1];
      const next = toks[i + 1];
      if ((prev && prev.kind === 'punct' && s.code.slice(prev.start, prev.end) === '@') || (next && next.kind === 'punct' && s.code.slice(next.start, next.end) === '@')) continue;
      if (variableName(s.code, next) !== IDENTITY_VARIABLE) continue;
      const after = toks[i + 2];
      const op = after && after.kind === 'punct' ? s.code.slice(after.start, after.end) : '';
      if (op === ':=' || (op === '=' && hasSet) || afterInto || first === 'LOAD') return true;
    }
  }
  return false;
}

/**
 * The file names of the `LOAD DATA|XML [LOW_PRIORITY|CONCURRENT] LOCAL INFILE '<name>'` statements of
 * a string, in order: the only files the upstream may ask the client for while it runs. Null when a
 * LOCAL INFILE statement's name is not one plain string literal (or the text does not tokenize).
 */
export function localInfileNames(sql: string): string[] | null {
  const stmts = lex(sql);
  if (!stmts) return null;
  const out: string[] = [];
  for (const s of stmts) {
    if (firstWord(s) !== 'LOAD') continue;
    const w = (k: number): string => word(s.code, s.tokens[k]);
    let i = 1;
    if (w(i) !== 'DATA' && w(i) !== 'XML') continue;
    i++;
    if (w(i) === 'LOW_PRIORITY' || w(i) === 'CONCURRENT') i++;
    if (w(i) !== 'LOCAL') continue;
    i++;
    if (w(i) !== 'INFILE') return null;
    const t = s.tokens[i + 1];
    if (!t || t.kind !== 'string' || s.tokens[i + 2]?.kind === 'string') return null;
    const text = s.code.slice(t.start, t.end);
    if (text[0] !== "'" && text[0] !== '"') return null;
    out.push(unquoteMysql(text));
  }
  return out;
}
