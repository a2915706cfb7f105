import { lexMysql, unquoteMysql } from './lexer.js';

function split(sql: string, backslashEscapes = true): string[] | string {
  const r = lexMysql(sql, { backslashEscapes });
  return r.ok ? r.statements.map((s) => s.code.trim().replace(/\s+/g, ' ')) : `error: ${r.message}`;
}

describe('MySQL lexer: statement split and code view', () => {
  test.each<[string, string[] | string]>([
    ['SELECT 1; SELECT 2', ['SELECT 1', 'SELECT 2']],
    ['SELECT 1;', ['SELECT 1']],
    ['SELECT 1;;  ; -- c\n', ['SELECT 1']],
    ["SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", 'SELECT 2']],
    ['SELECT "a;b"', ['SELECT "a;b"']],
    ['SELECT `a;b` FROM t', ['SELECT `a;b` FROM t']],
    ['SELECT `a``;b` FROM t', ['SELECT `a``;b` FROM t']],
    ["SELECT 'it''s; x'", ["SELECT 'it''s; x'"]],
    // backslash escapes: the quote is escaped, the string goes on
    ["SELECT 'a\\'; DROP TABLE t; -- '", ["SELECT 'a\\'; DROP TABLE t; -- '"]],
    // `#` comments run to the end of the line
    ['SELECT 1 # ; DROP TABLE t\n', ['SELECT 1']],
    ['SELECT 1 # x\n; DROP TABLE t', ['SELECT 1', 'DROP TABLE t']],
    // `-- ` is a comment, `--x` is minus minus x
    ['SELECT 1 -- ; DROP TABLE t', ['SELECT 1']],
    ['SELECT 1 --\t; DROP TABLE t', ['SELECT 1']],
    ['SELECT 1 --x; DROP TABLE t', ['SELECT 1 --x', 'DROP TABLE t']],
    ['SELECT 1--', ['SELECT 1']],
    // C comments are separators and do not nest
    ['DR/**/OP TABLE t', ['DR OP TABLE t']],
    ['SELECT /* ; */ 1', ['SELECT 1']],
    ['SELECT /* /* */ 1', ['SELECT 1']],
    // versioned comments are code
    ['/*!DROP*/ TABLE t', ['DROP TABLE t']],
    ['SELECT 1 /*!50000 , 2 */', ['SELECT 1 , 2']],
    ['/*!50000DROP*/TABLE t', ['DROP TABLE t']],
    ['SELECT 1 /*!99999 , 2 */', ['SELECT 1 , 2']],
    ['SELECT 1 /*M!100100 , 2 */', ['SELECT 1 , 2']],
    ["/*!50000 SELECT '*/' */", ["SELECT '*/'"]],
    ['/*!50000 SELECT /* inner */ 1 */', ['SELECT 1']],
    ['SELECT /*+ SET_VAR(sort_buffer_size = 16M) */ 1', ['SELECT 1']],
  ])('%j', (sql, expected) => {
    expect(split(sql)).toEqual(expected);
  });

  test.each([
    ['SELECT 1 /*!50000 ; DROP TABLE t */', 'statement separator inside a versioned comment'],
    ['SELECT 1 /*!500001 , 2 */', 'versioned comment with a 6-digit version'],
    ['SELECT 1 /*!5000 , 2 */', 'versioned comment with a 4-digit version'],
    ['SELECT 1 /*!50000 , 2', 'unterminated versioned comment'],
    ['SELECT 1 /*!50000 /*!50000 2 */ */', 'nested versioned comment'],
    ['SELECT 1 /* x', 'unterminated comment'],
    ["SELECT 'abc", "unterminated '-quoted text"],
    ['SELECT `abc', 'unterminated `-quoted text'],
  ])('refuses %j', (sql, message) => {
    expect(split(sql)).toBe(`error: ${message}`);
  });

  test('NO_BACKSLASH_ESCAPES reading: a second statement appears', () => {
    expect(split("SELECT 'a\\'; DROP TABLE t; -- '", false)).toEqual(["SELECT 'a\\'", 'DROP TABLE t']);
  });

  test('code view keeps offsets', () => {
    const sql = 'SELECT /* c */ 1; /*!50000 DROP */ TABLE t';
    const r = lexMysql(sql);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.code.length).toBe(sql.length);
    expect(r.separators).toEqual([16]);
    expect(r.statements[1]!.versioned).toBe(true);
    expect(r.statements[0]!.maxDepth).toBe(0);
  });

  test('hints are collected, depth is measured', () => {
    const r = lexMysql('SELECT /*+ SET_VAR(foreign_key_checks=OFF) */ ((1))');
    expect(r.ok && r.statements[0]!.hints).toEqual([' SET_VAR(foreign_key_checks=OFF) ']);
    expect(r.ok && r.statements[0]!.maxDepth).toBe(2);
  });

  test('unquote', () => {
    expect(unquoteMysql("'it''s \\n'")).toBe("it's \n");
    expect(unquoteMysql('`a``b`')).toBe('a`b');
    expect(unquoteMysql("'a\\\\'", true)).toBe('a\\');
  });
});
