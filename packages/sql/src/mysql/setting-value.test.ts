import { evalSqlModeConcat } from './setting-value.js';

describe('evalSqlModeConcat', () => {
  const cur = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';
  it('evaluates the Rails form against the current sql_mode', () => {
    expect(evalSqlModeConcat("CONCAT(CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), ',NO_AUTO_VALUE_ON_ZERO')", cur)).toBe(`${cur},STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO`);
    expect(evalSqlModeConcat("concat(@@SESSION.sql_mode, \",ANSI_QUOTES\")", cur)).toBe(`${cur},ANSI_QUOTES`);
    expect(evalSqlModeConcat("CONCAT(@@local.SQL_MODE, ',a' ',b')", '')).toBe(',a,b');
  });
  it('leaves everything else non-constant', () => {
    for (const v of [
      "CONCAT(@@global.sql_mode, ',X')",
      "CONCAT(@sql_mode, ',X')",
      "CONCAT(@@sql_mode, REPEAT('x', 2))",
      "CONCAT (@@sql_mode, ',X')",
      "CONCAT(@ @sql_mode, ',X')",
      "CONCAT(@@sql_mode, _latin1',X')",
      "CONCAT(@@sql_mode, X'41')",
      "CONCAT(@@sql_mode, NULL)",
      "CONCAT(@@sql_mode, ',X'",
      "CONCAT(@@sql_mode, ',X') || 'y'",
      "CONCAT(@@sql_mode, ',X'), 1",
      "REPLACE(@@sql_mode, 'A', 'B')",
      '@@sql_mode',
    ]) {
      expect([v, evalSqlModeConcat(v, cur)]).toEqual([v, v === '@@sql_mode' ? cur : undefined]);
    }
  });
});
