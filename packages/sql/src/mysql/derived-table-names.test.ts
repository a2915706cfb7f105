import type { StatementFacts } from '../facts.js';
import { analyzeMysql, initMysqlAnalyzer } from './analyze.js';

beforeAll(async () => {
  await initMysqlAnalyzer();
});

function one(sql: string): StatementFacts {
  const r = analyzeMysql(sql);
  if (!r.ok) throw new Error(`${sql}: ${JSON.stringify(r.failure)}`);
  expect(r.statements).toHaveLength(1);
  return r.statements[0]!;
}

// The server reports a CTE's or derived table's name as a column's org_table, like a base table's:
// masking must know which names the statement gave (StatementFacts.derivedTableNames).
describe('derivedTableNames (MySQL)', () => {
  it.each<[string, string[]]>([
    ['SELECT email FROM t', []],
    ['SELECT x.e FROM (SELECT email e FROM t) AS x', ['x']],
    ['SELECT t.name FROM (SELECT secret AS name FROM u) t JOIN t z ON 1', ['t']],
    ['WITH C AS (SELECT 1 a) SELECT a FROM C', ['c']],
    ['WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r', ['r']],
    ["SELECT jt.x FROM t, JSON_TABLE(t.j, '$[*]' COLUMNS (x INT PATH '$')) jt", ['jt']],
    ['SELECT * FROM t WHERE id IN (SELECT id FROM (SELECT id FROM u) AS inner_u)', ['inner_u']],
    ['SELECT (SELECT max(a) FROM (SELECT 1 a) d1) FROM (SELECT 2 b) d2', ['d1', 'd2']],
  ])('%s → %j', (sql, names) => {
    expect(one(sql).derivedTableNames?.sort()).toEqual(names.sort());
  });

  it('is set on every statement kind the analyzer traces', () => {
    expect(one('UPDATE t SET a = 1 WHERE id IN (SELECT id FROM (SELECT id FROM u) x)').derivedTableNames).toEqual(['x']);
    expect(one('INSERT INTO t SELECT * FROM (SELECT 1) AS s').derivedTableNames).toEqual(['s']);
  });
});
