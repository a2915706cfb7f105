/**
 * Drives the MySQL Workbench grammar (MySQLLexer.g4 / MySQLParser.g4, MySQL 8.0 era, generated for the
 * official `antlr4` JavaScript runtime and shipped by `@wsporto/ts-mysql-parser`). Only the generated
 * lexer and parser are used; this file does its own two-stage parse (SLL, then full LL on failure),
 * error collection, deadline and cache bounds.
 *
 * Both packages are CommonJS and are loaded through createRequire so that the generated classes and this
 * file share one instance of the antlr4 runtime.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/* eslint-disable @typescript-eslint/no-explicit-any */
const antlr4: any = require('antlr4');
const MySQLLexer: any = require('@wsporto/ts-mysql-parser/dist/grammar/MySQLLexer.js').default;
const MySQLParser: any = require('@wsporto/ts-mysql-parser/dist/grammar/MySQLParser.js').default;
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface GrammarToken {
  type: number;
  /** offsets into the parsed text, stop inclusive */
  start: number;
  stop: number;
  text: string;
  channel: number;
  tokenIndex: number;
}

/** A node of the ANTLR parse tree: a rule context (ruleIndex, children) or a terminal (symbol). */
export interface PNode {
  children: PNode[] | null;
  parentCtx: PNode | null;
  ruleIndex: number;
  symbol?: GrammarToken;
  start: GrammarToken;
  stop: GrammarToken | null;
  getText(): string;
}

export const ruleNames: readonly string[] = MySQLParser.ruleNames;
export const symbolicNames: readonly (string | null)[] = MySQLLexer.symbolicNames;
const RULE_INDEX: Record<string, number> = Object.fromEntries(ruleNames.map((n, i) => [n, i]));

/** the rule index of a rule name; throws at load time for a name the grammar lacks */
export function rule(name: string): number {
  const i = RULE_INDEX[name];
  if (i === undefined) throw new Error(`MySQL grammar has no rule ${name}`);
  return i;
}

export function tokenType(name: string): number {
  const t = MySQLLexer[name];
  if (typeof t !== 'number') throw new Error(`MySQL grammar has no token ${name}`);
  return t;
}

export const T_SEMICOLON = tokenType('SEMICOLON_SYMBOL');
export const T_EOF: number = antlr4.Token.EOF;

/** sql_mode bits the grammar understands (MySQLBaseLexer.SqlMode) */
export const enum GrammarSqlMode {
  None = 0,
  AnsiQuotes = 1,
  NoBackslashEscapes = 16,
}

/** Version the grammar checks `serverVersion >= N` predicates against: 8.0 syntax, MySQL 5.7-only syntax refused. */
export const GRAMMAR_SERVER_VERSION = 80040;

const CHARSETS = [
  'armscii8', 'ascii', 'big5', 'binary', 'cp1250', 'cp1251', 'cp1256', 'cp1257', 'cp850', 'cp852', 'cp866', 'cp932',
  'dec8', 'eucjpms', 'euckr', 'gb18030', 'gb2312', 'gbk', 'geostd8', 'greek', 'hebrew', 'hp8', 'keybcs2', 'koi8r',
  'koi8u', 'latin1', 'latin2', 'latin5', 'latin7', 'macce', 'macroman', 'sjis', 'swe7', 'tis620', 'ucs2', 'ujis',
  'utf16', 'utf16le', 'utf32', 'utf8', 'utf8mb3', 'utf8mb4',
].map((c) => `_${c}`);

export type GrammarParse =
  | {
      ok: true;
      tree: PNode;
      tokens: GrammarToken[];
      ms: number;
      /** offset where the statement ends: its terminating `;` or the end of the text */
      end: number;
      /** offsets of every `;` token the statement consumed (compound bodies and the terminator) */
      semicolons: number[];
    }
  | { ok: false; kind: 'parse_error' | 'too_complex' | 'parser_failure'; message: string; position?: number };

class DeadlineExceeded extends Error {}

/** Token stream that checks a deadline every few hundred look-aheads (prediction runs through LA). */
class DeadlineTokenStream extends antlr4.CommonTokenStream {
  deadline = Infinity;
  private ticks = 0;
  constructor(lexer: unknown) {
    super(lexer);
  }
  LA(i: number): number {
    if (++this.ticks >= 256) {
      this.ticks = 0;
      if (performance.now() > this.deadline) throw new DeadlineExceeded('parse time limit exceeded');
    }
    return super.LA(i);
  }
}

class CollectErrors extends antlr4.ErrorListener {
  first: { message: string; position?: number } | undefined;
  syntaxError(_r: unknown, sym: GrammarToken | null, _line: number, col: number, msg: string): void {
    if (!this.first) this.first = { message: msg, position: sym && sym.start >= 0 ? sym.start : col };
  }
}

let parsesSinceCheck = 0;

/**
 * Parse ONE statement (the text between two `;` as split by the MySQL lexer) with the grammar's `query`
 * rule, which must consume it entirely. Never throws.
 */
export function parseOneStatement(code: string, opts: { timeoutMs: number; sqlMode?: GrammarSqlMode; compound?: boolean }): GrammarParse {
  const t0 = performance.now();
  try {
    const lexer = new MySQLLexer(new antlr4.InputStream(code));
    lexer.serverVersion = GRAMMAR_SERVER_VERSION;
    lexer.sqlMode = opts.sqlMode ?? GrammarSqlMode.None;
    lexer.charsets = CHARSETS;
    const lexErrors = new CollectErrors();
    lexer.removeErrorListeners();
    lexer.addErrorListener(lexErrors);
    const tokens = new DeadlineTokenStream(lexer);
    tokens.deadline = t0 + opts.timeoutMs;
    const parser = new MySQLParser(tokens);
    parser.serverVersion = GRAMMAR_SERVER_VERSION;
    parser.sqlMode = opts.sqlMode ?? GrammarSqlMode.None;
    parser.removeErrorListeners();
    parser.buildParseTrees = true;

    let tree: PNode;
    const parseErrors = new CollectErrors();
    try {
      parser._interp.predictionMode = antlr4.PredictionMode.SLL;
      parser._errHandler = new antlr4.BailErrorStrategy();
      tree = parser.query();
    } catch (e) {
      if (e instanceof DeadlineExceeded || e instanceof RangeError) throw e;
      // SLL gave up (or the input is wrong): rerun with full LL and error reporting
      tokens.seek(0);
      parser.reset();
      parser.addErrorListener(parseErrors);
      parser._interp.predictionMode = antlr4.PredictionMode.LL;
      parser._errHandler = new antlr4.DefaultErrorStrategy();
      tree = parser.query();
    }
    maybeTrimCaches();
    if (lexErrors.first) return { ok: false, kind: 'parse_error', message: `syntax error: ${lexErrors.first.message}`, position: lexErrors.first.position };
    if (parseErrors.first) return { ok: false, kind: 'parse_error', message: `syntax error: ${parseErrors.first.message}`, position: parseErrors.first.position };
    const all = tokens.tokens as GrammarToken[];
    if (opts.compound) {
      // a routine/trigger/event definition: the grammar decides where it ends (`;` inside BEGIN ... END
      // belong to it); the caller checks those `;` against the MySQL lexer's separators
      const stopTok = (tree.stop ?? tree.start) as GrammarToken;
      const semicolons: number[] = [];
      for (const t of all) if (t.tokenIndex <= stopTok.tokenIndex && t.type === T_SEMICOLON && t.channel === 0) semicolons.push(t.start);
      const end = stopTok.type === T_SEMICOLON ? stopTok.start : code.length;
      if (stopTok.type !== T_SEMICOLON && tokens.LA(1) !== T_EOF) {
        const t = tokens.LT(1) as GrammarToken;
        return { ok: false, kind: 'parse_error', message: `syntax error: unexpected '${t.text}' after the statement`, position: t.start };
      }
      return { ok: true, tree, tokens: all, ms: performance.now() - t0, end, semicolons };
    }
    if (tokens.LA(1) !== T_EOF) {
      const t = tokens.LT(1) as GrammarToken;
      return { ok: false, kind: 'parse_error', message: `syntax error: unexpected '${t.text}' after the statement`, position: t.start };
    }
    for (const t of all) {
      if (t.type === T_SEMICOLON && t.channel === 0) {
        // the split by the MySQL lexer and the grammar's tokens disagree: never guess which is right
        return { ok: false, kind: 'parse_error', message: 'statement split disagrees with the parser (a `;` the MySQL lexer did not see)', position: t.start };
      }
    }
    return { ok: true, tree, tokens: all, ms: performance.now() - t0, end: code.length, semicolons: [] };
  } catch (e) {
    maybeTrimCaches(true);
    if (e instanceof DeadlineExceeded) return { ok: false, kind: 'too_complex', message: `statement too complex: parsing exceeded ${opts.timeoutMs} ms` };
    if (e instanceof RangeError) return { ok: false, kind: 'too_complex', message: 'statement too complex: nesting exhausted the parser stack' };
    return { ok: false, kind: 'parser_failure', message: `MySQL parser failure: ${(e as Error)?.message ?? String(e)}` };
  }
}

/** DFA states the runtime caches across parses; adversarial inputs can grow them without bound. */
const MAX_DFA_STATES = 400_000;

function dfaStates(dfas: { _states?: { itemCount?: number } }[]): number {
  let n = 0;
  for (const d of dfas) n += d._states?.itemCount ?? 0;
  return n;
}

function maybeTrimCaches(force = false): void {
  if (!force && ++parsesSinceCheck < 256) return;
  parsesSinceCheck = 0;
  if (dfaStates(MySQLParser.DecisionsToDFA) + dfaStates(MySQLLexer.DecisionsToDFA) > MAX_DFA_STATES) resetGrammarCaches();
}

/** Drop the runtime's shared prediction caches (they refill as statements are parsed). */
export function resetGrammarCaches(): void {
  MySQLParser.DecisionsToDFA = MySQLParser._ATN.decisionToState.map((ds: unknown, i: number) => new antlr4.DFA(ds, i));
  MySQLLexer.DecisionsToDFA = MySQLLexer._ATN.decisionToState.map((ds: unknown, i: number) => new antlr4.DFA(ds, i));
}

export function grammarCacheStates(): number {
  return dfaStates(MySQLParser.DecisionsToDFA) + dfaStates(MySQLLexer.DecisionsToDFA);
}

/** the rule name of a context, or the alternative's label class for labelled alternatives */
export function ruleOf(n: PNode): string {
  return n.symbol ? '' : (ruleNames[n.ruleIndex] ?? '');
}

export function altOf(n: PNode): string {
  return (n as unknown as { constructor: { name: string } }).constructor.name;
}
