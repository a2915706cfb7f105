import { localInfileNames, parseKill, useDatabases, writesIdentityVariable } from './statement-guards.js';

describe('parseKill', () => {
  it.each([
    ['KILL 42', { kind: 'kill', mode: 'connection', id: 42 }],
    ['kill query 7', { kind: 'kill', mode: 'query', id: 7 }],
    ['KILL CONNECTION 9;', { kind: 'kill', mode: 'connection', id: 9 }],
    ['KILL HARD QUERY 3', { kind: 'kill', mode: 'query', id: 3 }],
    ['/* hi */ KILL /* there */ QUERY 11 -- bye', { kind: 'kill', mode: 'query', id: 11 }],
    ['/*!50000 KILL QUERY 12 */', { kind: 'kill', mode: 'query', id: 12 }],
    ['KILL QUERY ID 5', { kind: 'unsupported' }],
    ['KILL USER bob', { kind: 'unsupported' }],
    ['KILL CONNECTION_ID()', { kind: 'unsupported' }],
    ['KILL 1+1', { kind: 'unsupported' }],
    ['KILL 99999999999', { kind: 'unsupported' }],
    ['SELECT 1; KILL 5', { kind: 'not_alone' }],
    ['KILL 5; SELECT 1', { kind: 'not_alone' }],
  ])('%s', (sql, expected) => {
    expect(parseKill(sql)).toMatchObject(expected);
  });

  it.each(["SELECT 'KILL 5'", 'SELECT kill FROM t', 'SELECT 1 -- KILL 5', 'SELECT `kill`'])('is not a KILL: %s', (sql) => {
    expect(parseKill(sql)).toBeNull();
  });
});

describe('useDatabases', () => {
  it.each([
    ['USE app', ['app']],
    ['use `my``db`', ['my`db']],
    ['USE a; SELECT 1; USE b', ['a', 'b']],
    ['/*!40000 USE other */', ['other']],
    ['SELECT 1', []],
    ["SELECT 'use x'", []],
    ['USE', ['']],
  ])('%s', (sql, expected) => {
    expect(useDatabases(sql)).toEqual(expected);
  });
});

describe('writesIdentityVariable', () => {
  it.each([
    "SET @sqlwarden_identity = 'x'",
    "SET @SQLWARDEN_IDENTITY='x'",
    "SET @`sqlwarden_identity` := 'x'",
    "SET @'sqlwarden_identity' = 'x'",
    'SET @"sqlwarden_identity" = 1',
    "SET @'sqlwarden_\\identity' = 1",
    "SET @a = 1, @sqlwarden_identity = 2",
    "SELECT @sqlwarden_identity := 'x'",
    "SELECT 'x' INTO @sqlwarden_identity",
    'SELECT 1, 2 INTO @a, @sqlwarden_identity FROM dual',
    "PREPARE s FROM 'SET @sqlwarden_identity = 1'",
    "PREPARE s FROM 'SELECT 1 INTO @sqlwarden_identity'",
    "CREATE PROCEDURE p() BEGIN SET @sqlwarden_identity = 'x'; END",
    "LOAD DATA INFILE 'f' INTO TABLE t (c, @sqlwarden_identity)",
    "/*!50000 SET @sqlwarden_identity = 'x' */",
  ])('writes: %s', (sql) => {
    expect(writesIdentityVariable(sql)).toBe(true);
  });

  it.each([
    'SELECT @sqlwarden_identity',
    "SELECT @sqlwarden_identity = 'sqlwarden:x'",
    "SET @x = 'sqlwarden_identity'",
    'SET @x = @sqlwarden_identity',
    "SET @sqlwarden_identity2 = 'x'",
    'SELECT @@sqlwarden_identity',
    "SELECT '@sqlwarden_identity := 1'",
    'SELECT 1',
  ])('does not write: %s', (sql) => {
    expect(writesIdentityVariable(sql)).toBe(false);
  });
});

describe('localInfileNames', () => {
  it.each([
    ["LOAD DATA LOCAL INFILE '/tmp/a.csv' INTO TABLE t", ['/tmp/a.csv']],
    ["load data low_priority local infile \"b.csv\" into table t; SELECT 1; LOAD XML CONCURRENT LOCAL INFILE 'c\\'.xml' INTO TABLE u", ['b.csv', "c'.xml"]],
    ["LOAD DATA INFILE '/etc/passwd' INTO TABLE t", []],
    ['SELECT 1', []],
    ["/*!50000 LOAD DATA LOCAL INFILE 'v.csv' INTO TABLE t */", ['v.csv']],
  ])('%s', (sql, names) => expect(localInfileNames(sql)).toEqual(names));
  it.each([["LOAD DATA LOCAL INFILE 'a' 'b' INTO TABLE t"], ["LOAD DATA LOCAL INFILE _latin1'a' INTO TABLE t"], ['LOAD DATA LOCAL INFILE @f INTO TABLE t']])('refuses %s', (sql) =>
    expect(localInfileNames(sql)).toBeNull(),
  );
});
