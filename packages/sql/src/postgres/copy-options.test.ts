import { initPostgresAnalyzer, stopPostgresAnalyzer } from './analyze-postgres.js';
import { factsOf, statementsOf } from './analysis.test.helpers.js';

beforeAll(() => initPostgresAnalyzer());
afterAll(() => stopPostgresAnalyzer());

describe('COPY facts: what the rows look like', () => {
  test.each([
    ['COPY t TO STDOUT', {}],
    ['COPY t TO STDOUT (FORMAT csv, HEADER)', { format: 'csv', header: true }],
    ["COPY t TO STDOUT WITH CSV HEADER DELIMITER ';' QUOTE '''' ESCAPE '\\' NULL 'NIL' FORCE QUOTE *", { format: 'csv', header: true, delimiter: ';', quote: "'", escape: '\\', null: 'NIL', forceQuote: '*' }],
    ['COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (a, "B"))', { format: 'csv', forceQuote: ['a', 'B'] }],
    ['COPY t TO STDOUT BINARY', { format: 'binary' }],
    ["COPY t TO STDOUT (FORMAT binary, ENCODING 'latin1')", { format: 'binary', encoding: 'latin1' }],
    ["COPY t TO STDOUT (HEADER off, DELIMITER '|')", { header: false, delimiter: '|' }],
    ["COPY t TO STDOUT (HEADER 'match')", { header: 'match' }],
    ['COPY t TO STDOUT (HEADER 1)', { header: true }],
    ['COPY t TO STDOUT (HEADER 0)', { header: false }],
    ['COPY t TO STDOUT (HEADER 2)', { unreadable: ['header'] }],
    ["COPY t TO STDOUT (FORMAT 'json')", { format: 'json' }],
  ])('%s', (sql, options) => {
    expect(factsOf(sql).copy?.options).toEqual(options);
  });

  test('COPY t [(cols)] names the table and the columns as written', () => {
    expect(factsOf('COPY crm.t (a, "B") TO STDOUT').copy).toMatchObject({ relation: { schema: 'crm', name: 't' }, columns: ['a', 'B'] });
    const f = factsOf('copy t to stdout');
    expect(f.copy?.relation).toEqual({ name: 't' });
    expect(f.copy?.columns).toBeUndefined();
    expect(f.copy?.query).toBeUndefined();
  });

  test.each([
    ['COPY (select 1) TO STDOUT', 'select 1'],
    // parentheses inside strings, dollar quotes, quoted identifiers and comments do not end the query
    ["copy ( select ')' as \"x)\", $$)$$ /* ) */ from (select 1) s -- )\n ) to stdout with csv", "select ')' as \"x)\", $$)$$ /* ) */ from (select 1) s -- )"],
    ['/* lead */ COPY /* c */ ((select 1) union (select 2)) TO STDOUT', '(select 1) union (select 2)'],
    ["COPY (select 'é', 'ü)') TO STDOUT", "select 'é', 'ü)'"],
    ['COPY (DELETE FROM t RETURNING *) TO STDOUT', 'DELETE FROM t RETURNING *'],
  ])('COPY (query): the query text of %s', (sql, query) => {
    expect(factsOf(sql).copy?.query).toBe(query);
  });

  test('each statement of a multi-statement string gets its own query text', () => {
    const s = statementsOf('select 1; COPY (select 2 as b) TO STDOUT; COPY (select 3 as c) TO STDOUT (FORMAT binary)');
    expect(s.map((x) => x.copy?.query)).toEqual([undefined, 'select 2 as b', 'select 3 as c']);
    expect(s[2]?.copy?.options).toEqual({ format: 'binary' });
  });
});
