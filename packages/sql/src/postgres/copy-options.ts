/* eslint-disable @typescript-eslint/no-explicit-any -- reads libpg_query's JSON parse tree */
/**
 * What a COPY statement's parse tree says about the rows it moves: the options (format, delimiter,
 * quote, escape, NULL string, header, encoding, FORCE_QUOTE) as the server will read them, and for
 * `COPY (query)` the query's own text, cut out of the statement with the parser's scanner (the tree
 * has no end position for it).
 */
import type { CopyOptionFacts } from '../facts.js';
import type { RawText } from './pg-wasm.js';

function unwrap(n: any): [string, any] {
  if (!n || typeof n !== 'object' || Array.isArray(n)) return ['', n];
  const k = Object.keys(n);
  return k.length === 1 ? [k[0]!, n[k[0]!]] : ['', n];
}

/** The text the server's defGetString gives for an option value; undefined when there is none. */
function defString(arg: any): string | undefined {
  const [t, v] = unwrap(arg);
  switch (t) {
    case 'String':
      return typeof v?.sval === 'string' ? v.sval : '';
    case 'Integer':
      return String(v?.ival ?? 0);
    case 'Float':
      return typeof v?.fval === 'string' ? v.fval : undefined;
    case 'Boolean':
      return v?.boolval === true ? 'true' : 'false';
    case 'A_Star':
      return '*';
    default:
      return undefined;
  }
}

/** HEADER as the server reads it (defGetCopyHeaderChoice); undefined when it would not accept it. */
function headerChoice(arg: any): boolean | 'match' | undefined {
  if (arg === undefined || arg === null) return true;
  const [t, v] = unwrap(arg);
  if (t === 'Integer') {
    const n = v?.ival ?? 0;
    return n === 0 ? false : n === 1 ? true : undefined;
  }
  const s = defString(arg)?.toLowerCase();
  if (s === 'true' || s === 'on') return true;
  if (s === 'false' || s === 'off') return false;
  if (s === 'match') return 'match';
  return undefined;
}

/** The options of a CopyStmt (its `options` DefElem list). */
export function copyOptions(options: any[] | undefined): CopyOptionFacts {
  const out: CopyOptionFacts = {};
  const unreadable: string[] = [];
  for (const o of options ?? []) {
    const [, de] = unwrap(o);
    const name = typeof de?.defname === 'string' ? de.defname : '';
    const arg = de?.arg;
    const str = (): string | undefined => {
      const s = defString(arg);
      if (s === undefined) unreadable.push(name);
      return s;
    };
    switch (name) {
      case 'format': {
        const s = str();
        if (s !== undefined) out.format = s;
        break;
      }
      case 'delimiter': {
        const s = str();
        if (s !== undefined) out.delimiter = s;
        break;
      }
      case 'quote': {
        const s = str();
        if (s !== undefined) out.quote = s;
        break;
      }
      case 'escape': {
        const s = str();
        if (s !== undefined) out.escape = s;
        break;
      }
      case 'null': {
        const s = str();
        if (s !== undefined) out.null = s;
        break;
      }
      case 'encoding': {
        const s = str();
        if (s !== undefined) out.encoding = s;
        break;
      }
      case 'header': {
        const h = headerChoice(arg);
        if (h === undefined) unreadable.push(name);
        else out.header = h;
        break;
      }
      case 'force_quote': {
        const [t, v] = unwrap(arg);
        if (t === 'A_Star') out.forceQuote = '*';
        else if (t === 'List' || Array.isArray(arg)) {
          const items: any[] = (t === 'List' ? v?.items : arg) ?? [];
          out.forceQuote = items.map((i) => String(unwrap(i)[1]?.sval ?? ''));
        } else unreadable.push(name);
        break;
      }
      default:
        // options that do not change how COPY TO writes rows (FREEZE, FORCE_NOT_NULL, ...), or that the server refuses
        break;
    }
  }
  if (unreadable.length > 0) out.unreadable = unreadable;
  return out;
}

interface Token {
  start: number;
  end: number;
  tokenType: number;
  tokenName?: string;
}

const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;

/**
 * The text between the parentheses of `COPY ( query ) TO ...`, from the statement's own text (the
 * scanner skips strings, quoted identifiers, dollar quotes and comments); undefined when the
 * statement does not have that shape or cannot be scanned.
 */
export function copyQueryText(statementText: string, scan: (sql: string) => RawText): string | undefined {
  const r = scan(statementText);
  if (!r.ok) return undefined;
  let tokens: Token[];
  try {
    tokens = (JSON.parse(r.text) as { tokens?: Token[] }).tokens ?? [];
  } catch {
    return undefined;
  }
  const code = tokens.filter((t) => t.tokenName !== 'C_COMMENT' && t.tokenName !== 'SQL_COMMENT');
  const buf = Buffer.from(statementText, 'utf8');
  const first = code[0];
  if (!first || buf.toString('utf8', first.start, first.end).toLowerCase() !== 'copy') return undefined;
  const open = code[1];
  if (open?.tokenType !== OPEN_PAREN) return undefined;
  let depth = 0;
  for (let i = 1; i < code.length; i++) {
    const t = code[i]!;
    if (t.tokenType === OPEN_PAREN) depth++;
    else if (t.tokenType === CLOSE_PAREN && --depth === 0) return buf.toString('utf8', open.end, t.start).trim();
  }
  return undefined;
}
