import { initPostgresAnalyzer, stopPostgresAnalyzer } from './analyze-postgres.js';
import { factsOf } from './analysis.test.helpers.js';

beforeAll(() => initPostgresAnalyzer());
afterAll(() => stopPostgresAnalyzer());

/** [WHERE clause, always true?] — judged through DELETE FROM t WHERE <clause> */
const cases: [string, boolean][] = [
  // the spec's list
  ['1=1', true],
  ['true', true],
  ["'a'='a'", true],
  ['id = id', true],
  ['NOT false', true],
  ['x OR true', true],
  ['1 IN (1, 2)', true],
  ['2 > 1', true],
  ["'a' LIKE '%'", true],
  ['true AND 1=1', true],
  ['(1=1)::bool', true],
  ['coalesce(true, x)', true],
  ['x IS NULL OR x IS NOT NULL', true],
  ['NOT (1=0)', true],
  ['1 BETWEEN 0 AND 2', true],
  ['EXISTS (SELECT 1)', true],
  // more disguises
  ["'t'", true],
  ["'yes'", true],
  ["'on'::boolean", true],
  ['1::bool', true],
  ["'1' = 1", true],
  ['1 = 1.0', true],
  ['2 >= 2', true],
  ['1 <> 2', true],
  ['1 != 2', true],
  ['1 + 1 = 2', true],
  ['7 / 2 = 3', true],
  ['-1 < 0', true],
  ["'a' || 'b' = 'ab'", true],
  ["'abc' LIKE 'a_c'", true],
  ["'ABC' ILIKE 'abc'", true],
  ["'abc' NOT LIKE 'x%'", true],
  ['name LIKE \'%\'', true],
  ["name ~ ''", true],
  ['t.id = t.id', true],
  ['t.id = id', true],
  ['x.id = x.id', true],
  ['(a, b) = (a, b)', true],
  ['a IS NOT DISTINCT FROM a', true],
  ['1 IS DISTINCT FROM 2', true],
  ['NULL IS NULL', true],
  ['1 IS NOT NULL', true],
  ['true IS TRUE', true],
  ['NULL IS UNKNOWN', true],
  ['false IS NOT TRUE', true],
  ['b OR NOT b', true],
  ['NOT b OR b', true],
  ['x = 1 OR x <> 1', true],
  ['x < 5 OR x >= 5', true],
  ['1 = ANY (ARRAY[1, 2])', true],
  ['2 = ALL (ARRAY[2, 2])', true],
  ['x IN (x)', true],
  ['3 NOT IN (1, 2)', true],
  ['x BETWEEN x AND x', true],
  ['5 BETWEEN SYMMETRIC 10 AND 1', true],
  ['2 NOT BETWEEN 3 AND 4', true],
  ['coalesce(NULL, 1) = 1', true],
  ['nullif(1, 2) = 1', true],
  ['greatest(1, 3) = 3', true],
  ['CASE WHEN true THEN true END', true],
  ['CASE 1 WHEN 1 THEN true ELSE false END', true],
  ['(SELECT true)', true],
  ['1 IN (SELECT 1)', true],
  ['EXISTS (SELECT 1 WHERE true)', true],
  ['EXISTS (VALUES (1))', true],
  ['EXISTS (SELECT 1 FROM t)', true],
  ['id IN (SELECT id FROM t)', true],
  ['true AND (false OR 1=1)', true],
  ['NOT NOT true', true],
  ["'a'::text = 'a'", true],
  ['0x10 = 16', true],
  ['1_000 = 1000', true],
  // bounded (not provably true)
  ['id = 1', false],
  ['id = $1', false],
  ['$1', false],
  ['false', false],
  ['1=0', false],
  ['NULL', false],
  ['NULL = NULL', false],
  ['x AND true', false],
  ['x OR false', false],
  ['NOT true', false],
  ["'a' = 'b'", false],
  ["'b' > 'a'", false],
  ['1 IN (2, 3)', false],
  ['1 IN (2, NULL)', false],
  ['1 NOT IN (2, NULL)', false],
  ['x IS NULL', false],
  ['x IS NULL AND x IS NOT NULL', false],
  ['coalesce(x, true)', false],
  ['id <> id', false],
  ['id < id', false],
  ['random() = random()', false],
  ['now() = now()', false],
  ['EXISTS (SELECT 1 FROM u)', false],
  ['EXISTS (SELECT 1 LIMIT 0)', false],
  ['EXISTS (SELECT 1 WHERE false)', false],
  ['id IN (SELECT id FROM u)', false],
  ['id IN (SELECT id FROM t WHERE flag)', false],
  ["name LIKE 'a%'", false],
  ["'1.5' = 1", false],
  ['1 = true', false],
  ['1 / 0 = 1', false],
  ["x SIMILAR TO '%'", false],
  ["u.id = u.id", true],
  ["'a'::citext = 'A'", false],
  ['CASE WHEN x THEN true END', false],
  ['id > 0', false],
];

describe('always-true WHERE detection', () => {
  test.each(cases)('DELETE FROM t WHERE %s → unbounded %s', (where, unbounded) => {
    expect(factsOf(`DELETE FROM t WHERE ${where}`).unboundedWrite).toBe(unbounded);
  });

  test.each(cases)('UPDATE t SET a = 1 WHERE %s → unbounded %s', (where, unbounded) => {
    expect(factsOf(`UPDATE t SET a = 1 WHERE ${where}`).unboundedWrite).toBe(unbounded);
  });

  test('no WHERE at all is unbounded; WHERE CURRENT OF is bounded', () => {
    expect(factsOf('DELETE FROM t').unboundedWrite).toBe(true);
    expect(factsOf('UPDATE t SET a = 1').unboundedWrite).toBe(true);
    expect(factsOf('DELETE FROM t WHERE CURRENT OF c').unboundedWrite).toBe(false);
    expect(factsOf('UPDATE t SET a = 1 WHERE CURRENT OF c').unboundedWrite).toBe(false);
  });

  test('the target alias counts as the table: DELETE FROM t AS x WHERE x.id = id', () => {
    expect(factsOf('DELETE FROM t AS x WHERE x.id = id').unboundedWrite).toBe(true);
    expect(factsOf('DELETE FROM s.t WHERE s.t.id = id').unboundedWrite).toBe(true);
  });

  test('a deeply nested constant does not blow the evaluator', () => {
    const where = 'NOT '.repeat(150) + 'false';
    expect(factsOf(`DELETE FROM t WHERE ${where}`).unboundedWrite).toBe(false);
    expect(factsOf(`DELETE FROM t WHERE ${'('.repeat(500)}1=1${')'.repeat(500)}`).unboundedWrite).toBe(true);
  });
});
