/**
 * MySQL 8.0.19's VALUES statement (`VALUES ROW(1, 'a'), ROW(2, 'b') [ORDER BY column_0] [LIMIT n]`)
 * and MariaDB's table value constructor (`VALUES (1, 'a'), (2, 'b')`, columns named after the first
 * row) postdate the grammar sqlwarden parses with. Each is exactly a UNION ALL of one-row SELECTs (whose
 * columns MySQL names column_0, column_1, ...), which the grammar does know; this rewrites the former into
 * the latter on the exact lexer's tokens, so that nothing the statement reads or calls is lost. Anything
 * that does not have that shape is returned unchanged (and then fails to parse: fail closed).
 */
import { lexMysql, type MysqlToken } from './lexer.js';

export function rewriteValuesStatement(code: string): string {
  const lexed = lexMysql(code);
  if (!lexed.ok || lexed.statements.length !== 1) return code;
  const toks = lexed.statements[0]!.tokens;
  const word = (t: MysqlToken | undefined): string => (t && t.kind === 'word' ? code.slice(t.start, t.end).toUpperCase() : '');
  const punct = (t: MysqlToken | undefined, p: string): boolean => t !== undefined && t.kind === 'punct' && code.slice(t.start, t.end) === p;
  if (word(toks[0]) !== 'VALUES') return code;
  const rows: string[][] = [];
  const rowWord = word(toks[1]) === 'ROW';
  let i = 1;
  for (;;) {
    if (rowWord) {
      if (word(toks[i]) !== 'ROW') return code;
      i++;
    }
    if (!punct(toks[i], '(')) return code;
    i++;
    const items: string[] = [];
    let depth = 0;
    let itemStart = toks[i]?.start ?? -1;
    for (; i < toks.length; i++) {
      const t = toks[i]!;
      if (punct(t, '(')) depth++;
      else if (punct(t, ')')) {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && punct(t, ',')) {
        items.push(code.slice(itemStart, t.start));
        itemStart = toks[i + 1]?.start ?? -1;
      }
    }
    const close = toks[i];
    if (!close || itemStart < 0) return code;
    items.push(code.slice(itemStart, close.start));
    if (items.some((x) => x.trim() === '')) return code;
    rows.push(items);
    i++;
    if (!punct(toks[i], ',')) break;
    i++;
  }
  const width = rows[0]!.length;
  if (rows.some((r) => r.length !== width)) return code; // the server rejects it too
  const tail = i < toks.length ? code.slice(toks[i]!.start) : '';
  const selects = rows.map((r, n) => `SELECT ${n === 0 && rowWord ? r.map((x, c) => `${x} AS column_${c}`).join(', ') : r.join(', ')}`);
  return `${selects.join(' UNION ALL ')} ${tail}`;
}
