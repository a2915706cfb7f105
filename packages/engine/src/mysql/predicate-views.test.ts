import { MaskSet, type ColumnOrigin, type MaskRule, type MysqlRelationKind } from '@sqlwarden/policy';
import { emptyFacts, type ColumnRef, type StatementFacts } from '@sqlwarden/sql';
import { predicateRefusal, predicateRelations, type PredicateCatalog } from './predicate-views.js';

function mask(id: string, columns: string[], denyInPredicates: boolean): MaskRule {
  return { id, file: 'p.yaml', line: 1, who: {}, columns, detectors: [], function: 'hash', denyInPredicates };
}

const KEY = { hashKey: 'mysql-predicate-views-test-key-0123' };
const MASKS = new MaskSet([mask('ssn', ['*.customers.ssn'], true), mask('email', ['*.customers.email'], false)], KEY);
const NO_PREDICATE_RULES = new MaskSet([mask('email', ['*.customers.email'], false)], KEY);

type Rel = { kind: MysqlRelationKind; columns: string[] };
const base = (column: string): ColumnRef => ({ schema: 'app', table: 'customers', column });

class FakeCatalog implements PredicateCatalog {
  readonly rels = new Map<string, Rel | null>([
    ['customers', { kind: 'base', columns: ['id', 'name', 'email', 'ssn'] }],
    ['v_codes', { kind: 'view', columns: ['id', 'code', 'label'] }],
    ['v_over', { kind: 'view', columns: ['id', 'c'] }],
    ['v_opaque', { kind: 'view', columns: ['id', 'x'] }],
    ['nowhere', null],
  ]);
  readonly origins = new Map<string, ColumnOrigin | undefined>([
    ['v_codes.id', { columns: [base('id')], wholeRow: [], direct: true }],
    ['v_codes.code', { columns: [base('ssn')], wholeRow: [], direct: true }],
    ['v_codes.label', { columns: [base('name'), base('email')], wholeRow: [], direct: false }],
    // a view over v_codes: the origin lists the intermediate view column and the base column
    ['v_over.c', { columns: [{ schema: 'app', table: 'v_codes', column: 'code' }, base('ssn')], wholeRow: [], direct: true }],
    ['v_over.id', { columns: [{ schema: 'app', table: 'v_codes', column: 'id' }, base('id')], wholeRow: [], direct: true }],
    ['v_opaque.id', { columns: [base('id')], wholeRow: [], direct: true }],
    ['v_opaque.x', undefined],
  ]);
  readonly shadows = new Map<string, string>();
  relation(schema: string, table: string): Rel | null | undefined {
    expect(schema).toBe('app');
    return this.rels.get(table.toLowerCase());
  }
  viewColumn(_schema: string, view: string, column: string): ColumnOrigin | undefined {
    return this.origins.get(`${view.toLowerCase()}.${column.toLowerCase()}`);
  }
  shadowed(_schema: string, table: string): string | undefined {
    return this.shadows.get(table);
  }
}

function where(...cols: [string, string][]): StatementFacts {
  const f = emptyFacts('select', 'selectStatement');
  f.tablesRead = [...new Set(cols.map(([t]) => t))].map((name) => ({ name }));
  f.predicateColumns = cols.map(([table, column]) => ({ table, column }));
  return f;
}

describe('MySQL predicateRefusal: deny_in_predicates through views', () => {
  let cat: FakeCatalog;
  beforeEach(() => {
    cat = new FakeCatalog();
  });
  const judge = (ss: StatementFacts[], masks = MASKS, db = 'app') => predicateRefusal(ss, masks, db, cat);

  it('a view column from the masked column is refused, naming the rule', () => {
    expect(judge([where(['v_codes', 'code'])])).toEqual({ ruleId: 'ssn', reason: expect.stringContaining('app.v_codes.code comes from a column masked by "ssn"') });
  });

  it('a view over a view is followed', () => {
    expect(judge([where(['v_over', 'c'])])).toMatchObject({ ruleId: 'ssn' });
    expect(judge([where(['v_over', 'id'])])).toBeUndefined();
  });

  it('view columns from other columns (a mask without deny_in_predicates too) pass', () => {
    expect(judge([where(['v_codes', 'id'], ['v_codes', 'label'])])).toBeUndefined();
  });

  it('a base table is left to the policy', () => {
    expect(judge([where(['customers', 'ssn'])])).toBeUndefined();
  });

  it('names are matched case-insensitively', () => {
    expect(judge([where(['V_CODES', 'Code'])])).toMatchObject({ ruleId: 'ssn' });
  });

  it("'*' and untraced statements use every column of the view", () => {
    expect(judge([where(['v_codes', '*'])])).toMatchObject({ ruleId: 'ssn' });
    const untraced = emptyFacts('select', 'selectStatement');
    untraced.tablesRead = [{ name: 'v_codes' }];
    expect(judge([untraced])).toMatchObject({ ruleId: 'ssn' });
  });

  it('a column the view does not have (an unqualified name matched to every relation in scope) is not the view’s', () => {
    expect(judge([where(['v_codes', 'ssn'])])).toBeUndefined();
  });

  it('nested statements count (PREPARE text)', () => {
    const prepare = emptyFacts('prepare', 'preparedStatement');
    prepare.predicateColumns = [];
    prepare.nested = [where(['v_codes', 'code'])];
    expect(judge([prepare])).toMatchObject({ ruleId: 'ssn' });
  });

  it('fails closed on a view column that cannot be traced', () => {
    expect(judge([where(['v_opaque', 'x'])])).toEqual({ ruleId: 'ssn', reason: expect.stringContaining('app.v_opaque.x could not be traced') });
    // other columns of the same view pass
    expect(judge([where(['v_opaque', 'id'])])).toBeUndefined();
  });

  it('fails closed on a relation the catalog does not list or could not be asked about', () => {
    expect(judge([where(['nowhere', 'a'])])).toMatchObject({ ruleId: 'ssn', reason: expect.stringContaining('app.nowhere is not a table or view') });
    expect(judge([where(['never_loaded', 'a'])])).toMatchObject({ ruleId: 'ssn', reason: expect.stringContaining('could not be asked about app.never_loaded') });
  });

  it('fails closed on a name the session may have shadowed, and with no database selected', () => {
    cat.shadows.set('customers', 'is a temporary table of this session');
    expect(judge([where(['customers', 'name'])])).toMatchObject({ ruleId: 'ssn', reason: expect.stringContaining('app.customers is a temporary table of this session') });
    expect(judge([where(['v_codes', 'id'])], MASKS, '')).toMatchObject({ ruleId: 'ssn', reason: expect.stringContaining('no database selected') });
  });

  it('a masked view column is refused even when another relation is unresolved', () => {
    expect(judge([where(['nowhere', 'a'], ['v_codes', 'code'])])).toMatchObject({ ruleId: 'ssn', reason: expect.stringContaining('masked by "ssn"') });
  });

  it('does nothing without deny_in_predicates rules', () => {
    expect(judge([where(['v_codes', 'code'], ['nowhere', 'a'])], NO_PREDICATE_RULES)).toBeUndefined();
  });

  it('statements without predicates pass', () => {
    const f = emptyFacts('select', 'selectStatement');
    f.tablesRead = [{ name: 'nowhere' }];
    f.predicateColumns = [];
    expect(judge([f])).toBeUndefined();
  });

  it('predicateRelations lists the relations to load, schemas resolved', () => {
    const f = where(['v_codes', 'code'], ['v_codes', 'id']);
    f.predicateColumns!.push({ schema: 'other', table: 't', column: 'a' });
    expect(predicateRelations([f], 'app')).toEqual([
      { schema: 'app', table: 'v_codes' },
      { schema: 'other', table: 't' },
    ]);
    expect(predicateRelations([where(['v_codes', 'code'])], '')).toEqual([]);
  });
});
