import { findCopyFromStdin } from './copy-from-stdin.js';

describe('findCopyFromStdin', () => {
  test.each([
    ['COPY t FROM STDIN', [{ binary: false }]],
    ['copy public.t (a, b) from stdin with (format csv)', [{ binary: false }]],
    ['  /* lead */ COPY t FROM\n  STDIN;', [{ binary: false }]],
    ['COPY t FROM STDIN WITH (FORMAT binary)', [{ binary: true }]],
    ['COPY BINARY t FROM STDIN', [{ binary: true }]],
    ['COPY t FROM STDIN WITH BINARY', [{ binary: true }]],
    ['BEGIN; COPY t FROM STDIN; COMMIT', [{ binary: false }]],
    ['COPY a FROM STDIN; COPY b FROM STDIN', [{ binary: false }, { binary: false }]],
    ['COPY "weird ""name""" FROM STDIN', [{ binary: false }]],
  ])('%s', (sql, expected) => {
    expect(findCopyFromStdin(sql)).toEqual(expected);
  });

  test.each([
    'COPY t TO STDOUT',
    'COPY (SELECT * FROM stdin) TO STDOUT',
    "SELECT 'copy t from stdin'",
    "SELECT E'it\\'s copy t from stdin'",
    'SELECT $$copy t from stdin$$',
    'SELECT $body$ copy t from stdin $body$',
    '-- COPY t FROM STDIN\nSELECT 1',
    '/* COPY t FROM /* nested */ STDIN */ SELECT 1',
    'SELECT * FROM "copy" WHERE x = 1 -- stdin',
    "COPY t FROM '/tmp/stdin'",
    'SELECT $1::text AS stdin_copy',
  ])('not: %s', (sql) => {
    expect(findCopyFromStdin(sql)).toEqual([]);
  });
});
