/**
 * Finds `COPY ... FROM STDIN` statements in a query string.
 *
 * PGlite executes one buffer of protocol messages synchronously and cannot wait for the client:
 * a COPY FROM STDIN that runs out of input ends the embedded backend for good ("unexpected EOF
 * on client connection", then exit(1)), which would take the whole demo database down. So the
 * scheduler must know before it runs a statement that it will read COPY data, and hand PGlite
 * the statement together with all its data. A light lexer is enough: it skips strings, quoted
 * identifiers, dollar quotes and comments, splits at top-level semicolons, and looks for a
 * statement that starts with COPY and has FROM STDIN outside parentheses.
 */

export interface CopyFromStdin {
  /** BINARY format (COPY BINARY ..., WITH BINARY, (FORMAT binary)) */
  binary: boolean;
}

interface Word {
  text: string;
  depth: number;
}

const isWordStart = (c: string): boolean => /[A-Za-z_\u0080-\uffff]/.test(c);
const isWordChar = (c: string): boolean => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/** Unquoted words of each statement, lower-cased, with their parenthesis depth. */
function statements(sql: string): Word[][] {
  const out: Word[][] = [[]];
  let depth = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      let nest = 1;
      i += 2;
      while (i < n && nest > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') { nest++; i += 2; }
        else if (sql[i] === '*' && sql[i + 1] === '/') { nest--; i += 2; }
        else i++;
      }
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]!) && (i < 2 || !isWordChar(sql[i - 2]!));
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') { i += 2; continue; }
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") { i += 2; continue; }
          break;
        }
        i++;
      }
      i++;
    } else if (c === '"') {
      i++;
      while (i < n) {
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') { i += 2; continue; }
          break;
        }
        i++;
      }
      i++;
      out[out.length - 1]!.push({ text: '"', depth });
    } else if (c === '$') {
      const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 256));
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length);
        i = end === -1 ? n : end + m[0].length;
      } else {
        i++;
        while (i < n && /[0-9]/.test(sql[i]!)) i++;
      }
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
      i++;
    } else if (c === ';') {
      out.push([]);
      depth = 0;
      i++;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql[j]!)) j++;
      out[out.length - 1]!.push({ text: sql.slice(i, j).toLowerCase(), depth });
      i = j;
    } else {
      i++;
    }
  }
  return out.filter((s) => s.length > 0);
}

/** Every COPY ... FROM STDIN statement in `sql`, in order. */
export function findCopyFromStdin(sql: string): CopyFromStdin[] {
  if (!/copy/i.test(sql) || !/stdin/i.test(sql)) return [];
  const found: CopyFromStdin[] = [];
  for (const words of statements(sql)) {
    if (words[0]?.text !== 'copy') continue;
    let stdinAt = -1;
    for (let k = 1; k + 1 < words.length; k++) {
      if (words[k]!.depth === 0 && words[k]!.text === 'from' && words[k + 1]!.text === 'stdin' && words[k + 1]!.depth === 0) {
        stdinAt = k + 1;
        break;
      }
    }
    if (stdinAt === -1) continue;
    const binary = words[1]?.text === 'binary' || words.slice(stdinAt + 1).some((w) => w.text === 'binary');
    found.push({ binary });
  }
  return found;
}
