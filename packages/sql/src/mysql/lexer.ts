/**
 * A MySQL-exact tokenizer for statement splitting and safety, independent of the grammar parser.
 *
 * It follows the server's own lexer (sql_lex.cc) where that decides what runs:
 * - '...' and "..." strings: backslash escapes and doubled quotes. The server's sql_mode may turn
 *   backslash escapes off (NO_BACKSLASH_ESCAPES) or make "..." an identifier (ANSI_QUOTES); the
 *   default is assumed, and `lexMysql(sql, { backslashEscapes: false })` gives the other reading so
 *   the analyzer can refuse strings whose meaning depends on the mode.
 * - `...` identifiers with doubled backticks (no backslash escapes).
 * - `#` comments to the end of the line; `-- ` only when the dashes are followed by whitespace, a
 *   control character or the end (`--x` is minus minus x); C comments, not nested.
 * - Versioned comments `/*!` (optionally with a 5-digit version) and MariaDB's `/*M!` (up to 6 digits)
 *   are CODE: the content is unwrapped into the code view whatever the version, because a server new
 *   enough runs it (the safe choice: treat all versioned content as code). A version followed by a
 *   further digit reads differently on MySQL (5 digits) and MariaDB (6) and is refused.
 * - Optimizer hints `/*+ ... *\/` are kept aside (they are not statements, but SET_VAR changes settings).
 * - `;` separates statements. DELIMITER is a client-side (mysql CLI) command, never sent to the server,
 *   so it is not special here: a `DELIMITER //` line reaches the parser and fails closed.
 *
 * The code view of the input has the same length as the input: every comment and every versioned-comment
 * marker is replaced by spaces (MySQL treats a comment as a token separator, so `DR/ ** /OP` is two words
 * there as here), newlines kept.
 */

export type TokenKind =
  | 'word' // keyword or unquoted identifier (also identifiers that start with digits)
  | 'number'
  | 'string' // '...' or "..." (unless ANSI_QUOTES), incl. X'..', B'..', N'..', _charset'..' prefixes as separate words
  | 'quoted_ident' // `...` (and "..." under ANSI_QUOTES)
  | 'param' // ?
  | 'punct'
  | 'semicolon';

export interface MysqlToken {
  kind: TokenKind;
  /** UTF-16 offsets into the input, end exclusive */
  start: number;
  end: number;
}

export interface LexedStatement {
  /** offsets of the statement in the input (the separating `;` excluded) */
  start: number;
  end: number;
  /** the code view of this statement: comments blanked, versioned comments unwrapped */
  code: string;
  tokens: MysqlToken[];
  /** deepest parenthesis nesting */
  maxDepth: number;
  /** optimizer hint bodies (`/*+ ... *\/`), as written */
  hints: string[];
  /** true when a quoted token contains a backslash (its extent may depend on sql_mode) */
  backslashInQuotes: boolean;
  /** true when some of the statement came from a versioned comment */
  versioned: boolean;
}

export type LexResult =
  | { ok: true; statements: LexedStatement[]; code: string; /** offsets of every statement-separating `;` */ separators: number[] }
  | { ok: false; message: string; position: number };

export interface LexOptions {
  /** default true (MySQL's default sql_mode); false reads as NO_BACKSLASH_ESCAPES / ANSI_QUOTES would */
  backslashEscapes?: boolean;
}

const enum Ch {
  Tab = 9,
  Newline = 10,
  Space = 32,
  Bang = 33, // !
  DoubleQuote = 34, // "
  Hash = 35, // #
  Dollar = 36, // $
  Quote = 39, // '
  OpenParen = 40, // (
  CloseParen = 41, // )
  Star = 42, // *
  Plus = 43, // +
  Minus = 45, // -
  Dot = 46, // .
  Slash = 47, // /
  Digit0 = 48,
  Digit9 = 57,
  Semicolon = 59, // ;
  Question = 63, // ?
  UpperM = 77, // M
  Backslash = 92, // \
  Underscore = 95, // _
  Backtick = 96, // `
  Del = 127,
}

const OPERATORS2 = new Set([':=', '<=', '>=', '<>', '!=', '&&', '||', '->', '<<', '>>']);

function isDigit(c: number): boolean {
  return c >= Ch.Digit0 && c <= Ch.Digit9;
}

/** MySQL identifier characters: [0-9a-zA-Z$_] and anything outside ASCII */
function isIdentChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === Ch.Underscore || c === Ch.Dollar || c >= 0x80
  );
}

/** my_isspace || my_iscntrl for the byte after `--` (ASCII only; end of input counts too) */
function endsDashDash(c: number): boolean {
  return Number.isNaN(c) || c <= Ch.Space || c === Ch.Del;
}

function isSpace(c: number): boolean {
  return c === Ch.Space || (c >= Ch.Tab && c <= 13);
}

class LexError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** Split `sql` into statements with their code views. Never throws. */
export function lexMysql(sql: string, opts: LexOptions = {}): LexResult {
  try {
    return lex(sql, opts.backslashEscapes !== false);
  } catch (e) {
    if (e instanceof LexError) return { ok: false, message: e.message, position: e.position };
    return { ok: false, message: `lexer failure: ${(e as Error)?.message ?? String(e)}`, position: 0 };
  }
}

function lex(sql: string, backslashEscapes: boolean): LexResult {
  const n = sql.length;
  // code view built as an array of chunks; blanked ranges become spaces (newlines kept)
  const out: string[] = [];
  let copied = 0;
  const blank = (from: number, to: number): void => {
    if (from > copied) out.push(sql.slice(copied, from));
    out.push(sql.slice(from, to).replace(/[^\n]/g, ' '));
    copied = to;
  };

  const statements: LexedStatement[] = [];
  const separators: number[] = [];
  let cur = newStatement(0);
  let depth = 0;
  let inVersioned = false;
  let versionedStart = -1;
  let i = 0;

  function newStatement(start: number): LexedStatement {
    return { start, end: start, code: '', tokens: [], maxDepth: 0, hints: [], backslashInQuotes: false, versioned: false };
  }

  const push = (kind: TokenKind, start: number, end: number): void => {
    cur.tokens.push({ kind, start, end });
  };

  const scanQuoted = (q: number, start: number, escapes: boolean): number => {
    let j = start + 1;
    for (;;) {
      if (j >= n) throw new LexError(`unterminated ${String.fromCharCode(q)}-quoted text`, start);
      const c = sql.charCodeAt(j);
      if (c === Ch.Backslash) {
        cur.backslashInQuotes = true;
        if (escapes) {
          j += 2;
          continue;
        }
      }
      if (c === q) {
        if (sql.charCodeAt(j + 1) === q) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
  };

  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // ---- comments and versioned comments
    if (c === Ch.Hash) {
      let j = sql.indexOf('\n', i);
      if (j < 0) j = n;
      blank(i, j);
      i = j;
      continue;
    }
    if (c === Ch.Minus && sql.charCodeAt(i + 1) === Ch.Minus && endsDashDash(sql.charCodeAt(i + 2))) {
      let j = sql.indexOf('\n', i);
      if (j < 0) j = n;
      blank(i, j);
      i = j;
      continue;
    }
    if (c === Ch.Slash && sql.charCodeAt(i + 1) === Ch.Star) {
      const c2 = sql.charCodeAt(i + 2);
      const maria = c2 === Ch.UpperM && sql.charCodeAt(i + 3) === Ch.Bang;
      if (c2 === Ch.Bang || maria) {
        if (inVersioned) throw new LexError('nested versioned comment', i);
        let j = i + (maria ? 4 : 3);
        let digits = 0;
        while (digits < 7 && isDigit(sql.charCodeAt(j + digits))) digits++;
        if (digits > 0) {
          // MySQL reads exactly 5 digits, MariaDB 5 or 6: any other count reads differently somewhere
          const allowed = maria ? digits === 5 || digits === 6 : digits === 5;
          if (!allowed) throw new LexError(`versioned comment with a ${digits}-digit version`, i);
          j += digits;
        }
        blank(i, j);
        inVersioned = true;
        versionedStart = i;
        cur.versioned = true;
        i = j;
        continue;
      }
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) throw new LexError('unterminated comment', i);
      if (c2 === Ch.Plus) cur.hints.push(sql.slice(i + 3, close));
      blank(i, close + 2);
      i = close + 2;
      continue;
    }
    if (c === Ch.Star && inVersioned && sql.charCodeAt(i + 1) === Ch.Slash) {
      blank(i, i + 2);
      inVersioned = false;
      i += 2;
      continue;
    }
    // ---- statement separator
    if (c === Ch.Semicolon) {
      if (inVersioned) throw new LexError('statement separator inside a versioned comment', i);
      finish(i);
      separators.push(i);
      cur = newStatement(i + 1);
      depth = 0;
      i++;
      continue;
    }
    // ---- quoted tokens
    if (c === Ch.Quote) {
      const e = scanQuoted(c, i, backslashEscapes);
      push('string', i, e);
      i = e;
      continue;
    }
    if (c === Ch.DoubleQuote) {
      const e = scanQuoted(c, i, backslashEscapes);
      push(backslashEscapes ? 'string' : 'quoted_ident', i, e);
      i = e;
      continue;
    }
    if (c === Ch.Backtick) {
      const e = scanQuoted(c, i, false);
      push('quoted_ident', i, e);
      i = e;
      continue;
    }
    // ---- numbers and words
    if (isDigit(c) || (c === Ch.Dot && isDigit(sql.charCodeAt(i + 1)))) {
      let j = i;
      if (c === Ch.Digit0 && (sql.charCodeAt(i + 1) | 0x20) === 120 /* x */) {
        j = i + 2;
        while (j < n && /[0-9a-fA-F]/.test(sql[j]!)) j++;
      } else if (c === Ch.Digit0 && (sql.charCodeAt(i + 1) | 0x20) === 98 /* b */) {
        j = i + 2;
        while (j < n && (sql[j] === '0' || sql[j] === '1')) j++;
      } else {
        while (isDigit(sql.charCodeAt(j))) j++;
        if (sql.charCodeAt(j) === Ch.Dot) {
          j++;
          while (isDigit(sql.charCodeAt(j))) j++;
        }
        const e = sql.charCodeAt(j) | 0x20;
        if (e === 101 /* e */) {
          let k = j + 1;
          const s = sql.charCodeAt(k);
          if (s === Ch.Plus || s === Ch.Minus) k++;
          if (isDigit(sql.charCodeAt(k))) {
            while (isDigit(sql.charCodeAt(k))) k++;
            j = k;
          }
        }
      }
      if (j < n && isIdentChar(sql.charCodeAt(j)) && sql.charCodeAt(i) !== Ch.Dot) {
        // identifiers may start with digits (`1abc`, `0xZZ`)
        while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
        push('word', i, j);
      } else {
        push('number', i, j);
      }
      i = j;
      continue;
    }
    if (isIdentChar(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
      push('word', i, j);
      i = j;
      continue;
    }
    if (c === Ch.Question) {
      push('param', i, i + 1);
      i++;
      continue;
    }
    if (c === Ch.OpenParen) {
      depth++;
      if (depth > cur.maxDepth) cur.maxDepth = depth;
    } else if (c === Ch.CloseParen) {
      depth--;
    }
    // multi-character operators stay one token (never `--`: that is minus minus unless a comment)
    const op3 = sql.slice(i, i + 3);
    const op2 = sql.slice(i, i + 2);
    // a surrogate pair stays one token
    const w = op3 === '<=>' || op3 === '->>' ? 3 : OPERATORS2.has(op2) ? 2 : c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
    push('punct', i, i + w);
    i += w;
  }
  if (inVersioned) throw new LexError('unterminated versioned comment', versionedStart);
  finish(n);
  if (copied < n) out.push(sql.slice(copied));
  const code = out.join('');
  for (const s of statements) s.code = code.slice(s.start, s.end);
  return { ok: true, statements, code, separators };

  function finish(end: number): void {
    cur.end = end;
    // empty statements (only whitespace and comments) are not sent as statements
    if (cur.tokens.length > 0) statements.push(cur);
  }
}

/** The text of a quoted token without its quotes, escapes resolved as MySQL does (backslash escapes on). */
export function unquoteMysql(text: string, backslashEscapes = true): string {
  const q = text[0];
  if (q !== "'" && q !== '"' && q !== '`') return text;
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === q && body[i + 1] === q) {
      out += q;
      i++;
      continue;
    }
    if (ch === '\\' && backslashEscapes && q !== '`' && i + 1 < body.length) {
      const nx = body[++i]!;
      switch (nx) {
        case '0':
          out += '\0';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'b':
          out += '\b';
          break;
        case 'Z':
          out += '\x1a';
          break;
        case '%':
        case '_':
          out += '\\' + nx; // kept for LIKE patterns, as MySQL does
          break;
        default:
          out += nx;
      }
      continue;
    }
    out += ch;
  }
  return out;
}

/** True for tokens whose value is a literal constant (for list reduction and normalization). */
export function isLiteralToken(sql: string, t: MysqlToken): boolean {
  if (t.kind === 'string' || t.kind === 'number' || t.kind === 'param') return true;
  if (t.kind !== 'word') return false;
  const w = sql.slice(t.start, t.end).toUpperCase();
  return w === 'NULL' || w === 'TRUE' || w === 'FALSE';
}
