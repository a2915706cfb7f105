/**
 * MySQL statement analysis: MySQL-exact lexer (split + code view) → grammar parser per statement →
 * StatementFacts. Synchronous and never throws; anything not understood fails closed.
 */
import { createHash } from 'node:crypto';
import type { Analysis, AnalysisFailure, StatementFacts } from '../facts.js';
import { GrammarSqlMode, parseOneStatement, type GrammarParse, type PNode } from './grammar-parser.js';
import { lexMysql, type LexedStatement } from './lexer.js';
import { reduceStatement } from './literal-lists.js';
import { buildStatementFacts, NestedFailure, type FactsContext } from './statement-facts.js';
import { rewriteValuesStatement } from './values-statement.js';

export interface MysqlAnalyzeOptions {
  /** UTF-8 bytes of the whole string; default 1 MiB */
  maxBytes?: number;
  /** parenthesis nesting; default 64 */
  maxDepth?: number;
  /** grammar tokens per statement after literal lists are cut; default 20 000 */
  maxTokens?: number;
  /** statements per string; default 1000 */
  maxStatements?: number;
  /** parse time per statement, ms; default 2000 (a cold cache makes a 2 KB ORM query take ~0.5 s once) */
  parseTimeoutMs?: number;
  /** parse time for the whole string, ms; default 5000 */
  totalTimeoutMs?: number;
}

export const MYSQL_DEFAULTS = {
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxTokens: 20_000,
  maxStatements: 1000,
  parseTimeoutMs: 2000,
  totalTimeoutMs: 5000,
} as const;

/** PREPARE 'text' nesting: PREPARE of a PREPARE of ... */
const MAX_NESTING = 4;

type Limits = Required<MysqlAnalyzeOptions>;

class Failure extends Error {
  constructor(readonly failure: AnalysisFailure) {
    super(failure.kind);
  }
}

let initialized = false;

/** Loads the grammar and warms the parser's prediction caches (the first parses are the slowest). */
export async function initMysqlAnalyzer(): Promise<void> {
  if (initialized) return;
  for (const sql of WARMUP) analyzeMysql(sql);
  initialized = true;
}

const WARMUP = [
  "SELECT a.id, COUNT(*) FROM t AS a JOIN u ON u.id = a.uid WHERE a.x = 1 AND (b IN (1, 2) OR c LIKE 'x%') GROUP BY a.id ORDER BY 2 DESC LIMIT 10",
  "INSERT INTO t (a, b) VALUES (1, 'x') ON DUPLICATE KEY UPDATE b = VALUES(b)",
  'UPDATE t SET a = a + 1 WHERE id = ?',
  'DELETE FROM t WHERE id = 1',
  "SET NAMES utf8mb4; SET SESSION sql_mode = 'STRICT_ALL_TABLES'",
  'CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(10) DEFAULT NULL) ENGINE=InnoDB',
  'SHOW TABLES',
  "SELECT `u`.`id`, (SELECT COUNT(*) FROM `c` WHERE `c`.`a` = `u`.`id` AND `c`.`d` IS NULL) AS `n`, CASE WHEN `u`.`r` = 'x' THEN 1 ELSE 0 END AS `f`, DATE_FORMAT(`u`.`t`, '%Y') AS `y` FROM `users` AS `u` INNER JOIN `o` ON `o`.`id` = `u`.`o` LEFT JOIN `s` ON `s`.`o` = `o`.`id` AND `s`.`a` = 1 WHERE (`u`.`e` LIKE ? OR `u`.`n` LIKE ?) AND `u`.`s` IN (?, ?) AND `u`.`c` BETWEEN ? AND ? AND NOT EXISTS (SELECT 1 FROM `b` WHERE `b`.`u` = `u`.`id` AND (`b`.`x` IS NULL OR `b`.`x` > NOW())) AND `u`.`id` NOT IN (SELECT `m`.`u` FROM `m` WHERE `m`.`o` = ?) AND COALESCE(`u`.`v`, 0) = ? ORDER BY `u`.`c` DESC, `u`.`id` ASC LIMIT ?, ?",
];

export function analyzeMysql(sql: string, opts: MysqlAnalyzeOptions = {}): Analysis {
  const limits: Limits = { ...MYSQL_DEFAULTS, ...stripUndefined(opts) };
  try {
    const r = analyzeText(sql, limits, 0, performance.now() + limits.totalTimeoutMs);
    return { ok: true, dialect: 'mysql', ...r };
  } catch (e) {
    if (e instanceof Failure) return { ok: false, dialect: 'mysql', failure: e.failure };
    return { ok: false, dialect: 'mysql', failure: { kind: 'parser_failure', message: `MySQL analyzer failure: ${(e as Error)?.message ?? String(e)}` } };
  }
}

function stripUndefined(o: MysqlAnalyzeOptions): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v)) (out as Record<string, number>)[k] = v;
  return out;
}

function analyzeText(sql: string, limits: Limits, level: number, deadline: number): { statements: StatementFacts[]; normalized: string; fingerprint: string } {
  if (typeof sql !== 'string') throw new Failure({ kind: 'parse_error', message: 'statement text is not a string' });
  if (sql.includes('\0')) throw new Failure({ kind: 'nul_byte' });
  const bytes = Buffer.byteLength(sql, 'utf8');
  if (bytes > limits.maxBytes) throw new Failure({ kind: 'too_large', bytes, limit: limits.maxBytes });
  const lexed = lexMysql(sql);
  if (!lexed.ok) throw new Failure({ kind: 'parse_error', message: lexed.message, position: lexed.position });
  if (lexed.statements.length === 0) throw new Failure({ kind: 'empty' });
  if (lexed.statements.length > limits.maxStatements) {
    throw new Failure({ kind: 'too_complex', message: `${lexed.statements.length} statements in one string (limit ${limits.maxStatements})` });
  }
  for (const s of lexed.statements) {
    // long runs of prefix operators (NOT NOT NOT ..., - - - ...) recurse like parentheses in the parser
    let run = 0;
    for (const t of s.tokens) {
      const w = sql.slice(t.start, t.end).toUpperCase();
      run = w === 'NOT' || w === '!' || w === '-' || w === '+' || w === '~' || w === 'BINARY' ? run + 1 : 0;
      if (run > limits.maxDepth) throw new Failure({ kind: 'too_complex', message: `${run} prefix operators in a row (limit ${limits.maxDepth})` });
    }
    if (s.maxDepth > limits.maxDepth) {
      throw new Failure({ kind: 'too_complex', message: `parentheses nested ${s.maxDepth} deep (limit ${limits.maxDepth})`, });
    }
  }
  if (lexed.statements.some((s) => s.backslashInQuotes)) checkSqlModeAmbiguity(sql, lexed.statements, limits, deadline);

  const facts: StatementFacts[] = [];
  const normalized: string[] = [];
  /** the fingerprint's text: keywords case-folded, plain `backtick` identifiers unquoted (see ReducedStatement.canonical) */
  const canonical: string[] = [];
  const factsContext = (code: string, reducedLists: boolean, hints: string[]) => ({
    code,
    reducedLists,
    hints,
    analyzeText: (text: string): { ok: true; statements: StatementFacts[] } | { ok: false; message: string } => {
      if (level + 1 > MAX_NESTING) return { ok: false, message: `PREPARE nested more than ${MAX_NESTING} deep` };
      try {
        return { ok: true, statements: analyzeText(text, limits, level + 1, deadline).statements };
      } catch (e) {
        if (e instanceof Failure) return { ok: false, message: describe(e.failure) };
        throw e;
      }
    },
  });
  const timeLeft = (): number => {
    const left = deadline - performance.now();
    if (left <= 0) throw new Failure({ kind: 'too_complex', message: 'statement string exceeded the total parse time limit' });
    return Math.min(limits.parseTimeoutMs, left);
  };
  const stmts = lexed.statements;
  for (let i = 0; i < stmts.length; i++) {
    const stmt = stmts[i]!;
    if (mayBeCompound(sql, stmt)) {
      // CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT: `;` inside BEGIN ... END belong to the statement. The
      // grammar says where it ends; every `;` it consumed must be one the MySQL lexer saw, and the
      // statement must end at one of the lexer's separators (or the end), else fail closed.
      const parsed = parseOneStatement(lexed.code.slice(stmt.start), { timeoutMs: timeLeft(), compound: true });
      if (!parsed.ok) throw parseFailure(parsed, stmt.start, false);
      const endAbs = stmt.start + parsed.end;
      let j = i;
      while (j < stmts.length - 1 && stmts[j]!.end < endAbs) j++;
      const expected = lexed.separators.filter((o) => o >= stmt.start && o <= endAbs);
      const got = parsed.semicolons.map((o) => stmt.start + o);
      if (stmts[j]!.end !== endAbs || expected.join(',') !== got.join(',')) {
        throw new Failure({ kind: 'parse_error', message: 'statement split disagrees with the parser (compound statement boundaries)', position: stmt.start });
      }
      const simple = parsed.tree.children?.[0];
      if (!simple) throw new Failure({ kind: 'parse_error', message: 'empty statement' });
      const hints = stmts.slice(i, j + 1).flatMap((s) => s.hints);
      facts.push(buildFacts(simple, factsContext(lexed.code.slice(stmt.start), false, hints)));
      const parts = stmts.slice(i, j + 1).map((s) => reduceStatement(s, { keepStrings: true }));
      normalized.push(parts.map((p) => p.normalized).join('; '));
      canonical.push(parts.map((p) => p.canonical).join('; '));
      i = j;
      continue;
    }
    const firstWord = sql.slice(stmt.tokens[0]!.start, stmt.tokens[0]!.end).toUpperCase();
    const reduced = reduceStatement(stmt, { keepStrings: firstWord === 'PREPARE' });
    if (reduced.tokenCount > limits.maxTokens) {
      throw new Failure({ kind: 'too_complex', message: `${reduced.tokenCount} tokens in one statement (limit ${limits.maxTokens})` });
    }
    const code = firstWord === 'VALUES' ? rewriteValuesStatement(reduced.code) : synonyms(reduced.code);
    const parsed = parseOneStatement(code, { timeoutMs: timeLeft() });
    if (!parsed.ok) throw parseFailure(parsed, stmt.start, reduced.reducedLists || code !== reduced.code);
    const simple = parsed.tree.children?.[0];
    if (!simple) throw new Failure({ kind: 'parse_error', message: 'empty statement' });
    facts.push(buildFacts(simple, factsContext(code, reduced.reducedLists, stmt.hints)));
    normalized.push(reduced.normalized);
    canonical.push(reduced.canonical);
  }
  const norm = normalized.join('; ');
  return { statements: facts, normalized: norm, fingerprint: createHash('sha256').update(canonical.join('; ')).digest('hex').slice(0, 16) };
}

/**
 * The server reads strings differently under sql_mode NO_BACKSLASH_ESCAPES (and "..." under ANSI_QUOTES):
 * `'a\'; DROP TABLE t; -- '` is one string by default and three pieces there. When the other reading
 * splits the text differently and any of its statements is valid SQL that the default reading does not
 * contain, the meaning depends on a server setting sqlwarden cannot see: refuse.
 */
function checkSqlModeAmbiguity(sql: string, statements: LexedStatement[], limits: Limits, deadline: number): void {
  const alt = lexMysql(sql, { backslashEscapes: false });
  if (!alt.ok) return; // the other reading does not even lex: a server in that mode rejects the string
  const shape = (ss: LexedStatement[]): string => ss.map((s) => s.tokens.map((t) => `${t.start}:${t.end}`).join(',')).join(';');
  if (shape(alt.statements) === shape(statements)) return;
  const known = new Set(statements.map((s) => s.code.trim()));
  for (const s of alt.statements) {
    if (known.has(s.code.trim())) continue;
    if (s.maxDepth > limits.maxDepth) continue;
    const reduced = reduceStatement(s, { keepStrings: false });
    if (reduced.tokenCount > limits.maxTokens) continue;
    const left = deadline - performance.now();
    if (left <= 0) throw new Failure({ kind: 'too_complex', message: 'statement string exceeded the total parse time limit' });
    const p = parseOneStatement(reduced.code, {
      timeoutMs: Math.min(limits.parseTimeoutMs, left),
      sqlMode: GrammarSqlMode.NoBackslashEscapes | GrammarSqlMode.AnsiQuotes,
    });
    if (p.ok) {
      throw new Failure({
        kind: 'parse_error',
        message: 'ambiguous: a backslash in a quoted string makes this text mean different statements under sql_mode NO_BACKSLASH_ESCAPES / ANSI_QUOTES',
        position: s.start,
      });
    }
  }
}

/**
 * MySQL 8.0.19+ statements the grammar predates, rewritten to their documented exact equivalents at the
 * start of the statement only: `TABLE t ...` is `SELECT * FROM t ...`; REPLICA is the new name of SLAVE.
 * Lengths may change, so positions reported for these statements are approximate.
 */
function synonyms(code: string): string {
  return code
    .replace(/^(\s*)TABLE(?=\s|`)/i, '$1SELECT * FROM')
    .replace(/^(\s*)SHOW(\s+)REPLICA(\s+)STATUS\b/i, '$1SHOW$2SLAVE$3STATUS')
    .replace(/^(\s*)SHOW(\s+)REPLICAS\b/i, '$1SHOW$2SLAVE HOSTS')
    .replace(/^(\s*)(START|STOP)(\s+)REPLICA\b/i, '$1$2$3SLAVE');
}

const ROUTINE_WORDS = new Set(['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT']);

function mayBeCompound(sql: string, s: LexedStatement): boolean {
  const first = s.tokens[0];
  if (!first) return false;
  const w = sql.slice(first.start, first.end).toUpperCase();
  if (w !== 'CREATE' && w !== 'ALTER') return false;
  return s.tokens.some((t) => t.kind === 'word' && ROUTINE_WORDS.has(sql.slice(t.start, t.end).toUpperCase()));
}

function parseFailure(parsed: Exclude<GrammarParse, { ok: true }>, offset: number, reducedLists: boolean): Failure {
  const position = parsed.position !== undefined && !reducedLists ? offset + parsed.position : undefined;
  if (parsed.kind === 'parse_error') {
    return new Failure(position !== undefined ? { kind: 'parse_error', message: parsed.message, position } : { kind: 'parse_error', message: parsed.message });
  }
  return new Failure(parsed.kind === 'too_complex' ? { kind: 'too_complex', message: parsed.message } : { kind: 'parser_failure', message: parsed.message });
}

function buildFacts(simple: PNode, ctx: FactsContext): StatementFacts {
  try {
    return buildStatementFacts(simple, ctx);
  } catch (e) {
    if (e instanceof NestedFailure) throw new Failure({ kind: 'parse_error', message: e.message });
    if (e instanceof RangeError) throw new Failure({ kind: 'too_complex', message: 'statement too deeply nested to analyse' });
    throw e;
  }
}

export function describe(f: AnalysisFailure): string {
  switch (f.kind) {
    case 'parse_error':
      return f.message;
    case 'nul_byte':
      return 'NUL byte in statement text';
    case 'too_large':
      return `statement text is ${f.bytes} bytes (limit ${f.limit})`;
    case 'too_complex':
      return f.message;
    case 'parser_failure':
      return f.message;
    case 'empty':
      return 'empty statement';
  }
}
