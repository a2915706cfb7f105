import fc from 'fast-check';
import { analyzeMysql } from './analyze.js';
import { lexMysql } from './lexer.js';

const pieces = [
  'SELECT', 'DROP', 'TABLE', 't', '1', "'", '"', '`', '\\', ';', '--', '-- ', '#', '\n', '/*', '*/', '/*!', '/*!50000', '/*M!',
  '/*+', '(', ')', ',', '=', 'WHERE', 'OR', 'NOT', 'DELETE', 'FROM', 'PREPARE s FROM', 'BEGIN', 'END', 'CREATE PROCEDURE p()', ' ', '@', '?', 'x',
];
const sqlish = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((a) => a.join(' '));
const sqlishTight = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((a) => a.join(''));

describe('property: never throws', () => {
  test('random strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = analyzeMysql(s);
        expect(typeof r.ok).toBe('boolean');
        lexMysql(s);
      }),
      { numRuns: 500 },
    );
  });
  test('SQL-like token soup', () => {
    fc.assert(
      fc.property(fc.oneof(sqlish, sqlishTight), (s) => {
        const r = analyzeMysql(s);
        expect(typeof r.ok).toBe('boolean');
        if (r.ok) expect(r.statements.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
  test('the code view has the input length and statements never overlap', () => {
    fc.assert(
      fc.property(fc.oneof(sqlish, fc.string({ maxLength: 100 })), (s) => {
        const r = lexMysql(s);
        if (!r.ok) return;
        expect(r.code.length).toBe(s.length);
        let last = -1;
        for (const st of r.statements) {
          expect(st.start).toBeGreaterThan(last);
          last = st.end;
        }
      }),
      { numRuns: 500 },
    );
  });
});
