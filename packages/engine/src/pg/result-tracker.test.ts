import type { FieldDescription } from '@sqlwarden/wire-pg';
import { ResultTracker } from './result-tracker.js';

const f = (name: string, format = 0): FieldDescription => ({ name, tableOid: 1, attnum: 1, typeOid: 25, typeLen: -1, typeMod: -1, format });

describe('ResultTracker', () => {
  it('simple Query with several statements: each RowDescription belongs to the statement that produced it', () => {
    const t = new ResultTracker<string>();
    t.query('insert; select; select');
    t.resultEnd(); // INSERT's CommandComplete
    expect(t.rowDescription([f('a')])).toMatchObject({ statement: 'insert; select; select', statementIndex: 1 });
    expect(t.rowColumns()?.fields[0].name).toBe('a');
    t.resultEnd();
    expect(t.rowDescription([f('b')])?.statementIndex).toBe(2);
    t.resultEnd();
    t.readyForQuery();
    expect(t.inFlight).toBe(0);
  });

  it('node-postgres style: Parse/Bind/Describe portal/Execute/Sync, binary result formats', () => {
    const t = new ResultTracker<string>();
    t.parse('', 'q1');
    t.bind('', '', [1]);
    t.describe('P', '');
    t.execute('');
    t.sync();
    expect(t.rowDescription([f('x'), f('y')])).toBeNull();
    expect(t.rowColumns()).toMatchObject({ formats: [1, 1], statement: 'q1' });
    t.resultEnd();
    t.readyForQuery();
    expect(t.inFlight).toBe(0);
  });

  it('postgres.js style: Describe statement first, then Bind/Execute in a later pipeline', () => {
    const t = new ResultTracker<string>();
    t.parse('s1', 'q1');
    t.describe('S', 's1');
    t.sync();
    t.rowDescription([f('x'), f('y')]);
    t.readyForQuery();
    t.bind('', 's1', [0, 1]);
    t.execute('');
    t.sync();
    t.bind('', 's1', []);
    t.execute('');
    t.sync();
    expect(t.rowColumns()).toMatchObject({ formats: [0, 1], statement: 'q1' });
    t.resultEnd();
    t.readyForQuery();
    expect(t.rowColumns()).toMatchObject({ formats: [0, 0] });
    t.resultEnd();
    t.readyForQuery();
    expect(t.inFlight).toBe(0);
  });

  it('an error skips the rest of its batch but not the next one', () => {
    const t = new ResultTracker<string>();
    t.parse('', 'bad');
    t.bind('', '', []);
    t.describe('P', '');
    t.execute('');
    t.sync();
    t.parse('', 'good');
    t.bind('', '', []);
    t.describe('P', '');
    t.execute('');
    t.sync();
    t.error(); // Parse failed: Describe and Execute of the first batch never answer
    t.readyForQuery();
    expect(t.rowDescription([f('g')])).toBeNull();
    expect(t.rowColumns()).toMatchObject({ statement: 'good' });
    t.resultEnd();
    t.readyForQuery();
    expect(t.inFlight).toBe(0);
  });

  it('an error inside a simple Query ends it at ReadyForQuery', () => {
    const t = new ResultTracker<string>();
    t.query('a; b');
    t.error();
    t.readyForQuery();
    expect(t.inFlight).toBe(0);
    expect(t.rowColumns()).toBeNull();
  });

  it('NoData and unknown portals give no columns (the caller fails closed)', () => {
    const t = new ResultTracker<string>();
    t.describe('P', 'nope');
    t.execute('nope');
    t.sync();
    t.noData();
    expect(t.rowColumns()).toBeNull();
  });

  it('a Query replaces the unnamed statement and portal', () => {
    const t = new ResultTracker<string>();
    t.parse('', 'old');
    t.bind('', '', []);
    t.query('q');
    t.readyForQuery();
    t.execute('');
    expect(t.rowColumns()).toBeNull();
  });
});
