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
  // row-independent: the same for every row (all rows or none), so not a bound
  ['$1', true],
  ['$1 = $2', true],
  ['$1::int = 1', true],
  ['$1 IS NOT NULL', true],
  ['NOT $1', true],
  ['id = $1 OR $2', true],
  ['id = 1 OR $1 = $2', true],
  ['(id = 1 OR $1) AND (id = 2 OR $2)', true],
  ["length('abc') = 3", true],
  ['now() IS NOT NULL', true],
  ['now() = now()', true],
  ['random() = random()', true],
  ["'b' > 'a'", true],
  ["'a'::citext = 'A'", true],
  ['EXISTS (SELECT 1 FROM u)', true],
  ['(SELECT count(*) FROM u) > 0', true],
  ['EXISTS (SELECT 1 FROM u WHERE u.x = 1)', true],
  ['u.flag', true],
  // row-independent and ill-typed / erroring at run time (no row is written either way)
  ["'1.5' = 1", true],
  ['1 = true', true],
  ['1 / 0 = 1', true],
  // self-reference through a subquery, the table written differently
  ['id IN (SELECT id FROM public.t)', true],
  ['EXISTS (SELECT 1 FROM public.t)', true],
  ['id IN (SELECT id FROM t WHERE true)', true],
  ['id IN (SELECT id FROM t WHERE 1 = 1)', true],
  // bounded (not provably true)
  ['id = 1', false],
  ['id = $1', false],
  ['false', false],
  ['1=0', false],
  ['NULL', false],
  ['NULL = NULL', false],
  ['x AND true', false],
  ['x OR false', false],
  ['NOT true', false],
  ["'a' = 'b'", false],
  ['1 IN (2, 3)', false],
  ['1 IN (2, NULL)', false],
  ['1 NOT IN (2, NULL)', false],
  ['x IS NULL', false],
  ['x IS NULL AND x IS NOT NULL', false],
  ['coalesce(x, true)', false],
  ['id <> id', false],
  ['id < id', false],
  ['EXISTS (SELECT 1 LIMIT 0)', false],
  ['EXISTS (SELECT 1 WHERE false)', false],
  ['id IN (SELECT id FROM u)', false],
  ['id IN (SELECT id FROM t WHERE flag)', false],
  ["name LIKE 'a%'", false],
  ["x SIMILAR TO '%'", false],
  ["u.id = u.id", true],
  ['CASE WHEN x THEN true END', false],
  ['id > 0', false],
  // bounded: depends on the row
  ['id = $1 AND $2', false],
  ['id = 1 AND (id = 2 OR $1)', false],
  ['NOT (id = 1 OR $1)', false],
  ['$1 = id', false],
  ['t.id = $1', false],
  ['EXISTS (SELECT 1 FROM u WHERE u.tid = t.id)', false],
  ['EXISTS (SELECT 1 FROM u WHERE tid = id)', false],
  ['id IN (SELECT id FROM public.t WHERE flag)', false],
  ['id IN (SELECT id FROM other.t)', false],
  // provably false or NULL, row-independent: no row is written
  ['$1 AND false', false],
  ['id = 1 OR false', false],
  ['id = 1 OR NULL', false],
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

  test('a target named with public. on one side only is the same table', () => {
    expect(factsOf('DELETE FROM public.t WHERE id IN (SELECT id FROM t)').unboundedWrite).toBe(true);
    expect(factsOf('DELETE FROM public.t WHERE EXISTS (SELECT 1 FROM t)').unboundedWrite).toBe(true);
    expect(factsOf('DELETE FROM s.t WHERE id IN (SELECT id FROM t)').unboundedWrite).toBe(false);
    expect(factsOf('DELETE FROM public.t WHERE id = $1').unboundedWrite).toBe(false);
  });

  test('a condition on another FROM/USING table only is the same for every written row', () => {
    expect(factsOf('DELETE FROM t USING u WHERE u.x = 1').unboundedWrite).toBe(true);
    expect(factsOf('UPDATE t SET a = 1 FROM u WHERE u.x = $1').unboundedWrite).toBe(true);
    expect(factsOf('DELETE FROM t USING u WHERE t.id = u.id').unboundedWrite).toBe(false);
    expect(factsOf('DELETE FROM t AS x USING u WHERE x.id = u.id').unboundedWrite).toBe(false);
  });

  test('PREPARE, SQL function parameters and PL/pgSQL variables are values, not columns', () => {
    const cases: [string, boolean][] = [
      ['PREPARE p(bool) AS DELETE FROM t WHERE $1', true],
      ['PREPARE p(int) AS DELETE FROM t WHERE id = $1', false],
      ['CREATE FUNCTION f(b bool) RETURNS void LANGUAGE sql AS $$ DELETE FROM t WHERE b $$', true],
      ['CREATE FUNCTION f(b bool) RETURNS void LANGUAGE sql AS $$ DELETE FROM t WHERE id = 1 OR b $$', true],
      ['CREATE FUNCTION f(k int) RETURNS void LANGUAGE sql AS $$ DELETE FROM t WHERE id = k $$', false],
      ['CREATE FUNCTION f(b bool) RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM t WHERE b; END', true],
      ['CREATE FUNCTION f(k int) RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM t WHERE id = k; END', false],
      ['CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DELETE FROM t WHERE b $$', false],
      ['DO $$ DECLARE b bool := true; BEGIN DELETE FROM t WHERE b; END $$', true],
      ['DO $$ DECLARE k int := 1; BEGIN DELETE FROM t WHERE id = k; END $$', false],
      ['DO $$ DECLARE k int := 1; BEGIN UPDATE t SET a = 1 WHERE k = 1; END $$', true],
      ['DO $$ BEGIN DELETE FROM t WHERE b; END $$', false],
      ['DO $$ DECLARE r record; BEGIN FOR r IN SELECT * FROM u LOOP DELETE FROM t WHERE id = r.id; END LOOP; END $$', false],
      ['DO $$ DECLARE r record; BEGIN FOR r IN SELECT * FROM u LOOP DELETE FROM t WHERE r.flag; END LOOP; END $$', true],
      ['CREATE FUNCTION f(b bool) RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t WHERE b; END $$', true],
      ['CREATE FUNCTION f(k int) RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t WHERE id = k; END $$', false],
    ];
    for (const [sql, unbounded] of cases) expect([sql, factsOf(sql).unboundedWrite]).toEqual([sql, unbounded]);
  });

  test('MERGE whose ON condition does not depend on the target matches every row', () => {
    expect(factsOf('MERGE INTO t USING u ON $1 WHEN MATCHED THEN DELETE').unboundedWrite).toBe(true);
    expect(factsOf('MERGE INTO t USING u ON u.x = 1 WHEN MATCHED THEN DELETE').unboundedWrite).toBe(true);
    expect(factsOf('MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE').unboundedWrite).toBe(false);
    expect(factsOf('MERGE INTO public.t USING t AS s ON t.id = s.id WHEN MATCHED THEN DELETE').unboundedWrite).toBe(true);
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
