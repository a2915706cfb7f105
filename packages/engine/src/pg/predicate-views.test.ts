import { MaskSet, type ColumnOrigin, type MaskRule } from '@sqlwarden/policy';
import { emptyFacts, type ColumnRef, type LineageTable, type StatementFacts } from '@sqlwarden/sql';
import type { Relation } from './catalog-cache.js';
import { PredicateViews, type PredicateCatalog, type CatalogVerdict, type ViewLineage } from './predicate-views.js';

function mask(id: string, columns: string[], denyInPredicates: boolean): MaskRule {
  return { id, file: 'p.yaml', line: 1, who: {}, columns, detectors: [], function: 'hash', denyInPredicates };
}

const MASKS = new MaskSet([mask('ssn', ['customers.ssn'], true), mask('email', ['customers.email'], false)], { hashKey: 'predicate-views-test-key-0123' });
const NO_PREDICATE_RULES = new MaskSet([mask('email', ['customers.email'], false)], { hashKey: 'predicate-views-test-key-0123' });

let oid = 1;
function rel(name: string, columns: string[], view = false): Relation {
  return { oid: oid++, schema: 'public', name, relkind: view ? 'v' : 'r', columns: new Map(columns.map((c, i) => [i + 1, c])), ...(view && { viewDefinition: `SELECT ... (${name})` }) };
}

const customers = rel('customers', ['id', 'name', 'email', 'ssn']);
const vCodes = rel('v_codes', ['id', 'code', 'label'], true);
const vOpaque = rel('v_opaque', ['id', 'x'], true);
const DB = new Map<string, Relation | null>([
  ['customers', customers],
  ['v_codes', vCodes],
  ['v_opaque', vOpaque],
  ['nowhere', null],
]);

const base = (column: string): ColumnRef => ({ schema: 'public', table: 'customers', column });
/** view column → origin (what PgMasking.viewColumnOrigin would say once the catalog knows the view's sources) */
const ORIGINS = new Map<string, ColumnOrigin>([
  ['v_codes.id', { columns: [base('id')], wholeRow: [], direct: true }],
  ['v_codes.code', { columns: [base('ssn')], wholeRow: [], direct: true }],
  ['v_codes.label', { columns: [base('name'), base('email')], wholeRow: [], direct: false }],
  ['v_opaque.id', { columns: [base('id')], wholeRow: [], direct: true }],
  ['v_opaque.x', null],
]);

class Fakes implements PredicateCatalog, ViewLineage {
  readonly known = new Map<string, Relation | null>();
  /** the view sources are known (else a view column cannot be traced yet) */
  sourcesKnown = false;
  failing = false;
  loads = 0;
  peekByName(_schema: string | undefined, table: string): Relation | null | undefined {
    return this.known.get(table);
  }
  viewColumnOrigin(r: Relation, column: string): ColumnOrigin {
    if (!this.sourcesKnown) return null;
    return ORIGINS.get(`${r.name}.${column}`) ?? null;
  }
  load(_oids: number[], names: LineageTable[]): Promise<void> {
    this.loads++;
    if (!this.failing) {
      for (const n of names) this.known.set(n.table, DB.get(n.table) ?? null);
      this.sourcesKnown = true;
    }
    return Promise.resolve();
  }
}

function where(...cols: [string, string][]): StatementFacts {
  const f = emptyFacts('select', 'SelectStmt');
  f.tablesRead = [...new Set(cols.map(([t]) => t))].map((name) => ({ name }));
  f.predicateColumns = cols.map(([table, column]) => ({ table, column }));
  return f;
}

/** The verdict once the catalog has been asked (as the session does: load, then judge again without loading). */
async function judged(pv: PredicateViews, statements: StatementFacts[], masks = MASKS): Promise<CatalogVerdict> {
  const v = pv.check(statements, masks, true);
  if (v.kind !== 'load') return v;
  await v.done;
  return pv.check(statements, masks, false);
}

describe('PredicateViews: deny_in_predicates through views', () => {
  let fakes: Fakes;
  let pv: PredicateViews;
  beforeEach(() => {
    fakes = new Fakes();
    pv = new PredicateViews(fakes, fakes);
  });

  it('a view column from the masked column is refused, naming the rule', async () => {
    const v = await judged(pv, [where(['v_codes', 'code'])]);
    expect(v).toMatchObject({ kind: 'deny', ruleId: 'ssn', reason: expect.stringContaining('v_codes.code comes from a column masked by "ssn"') });
  });

  it('view columns from other columns (a mask without deny_in_predicates too) pass', async () => {
    expect(await judged(pv, [where(['v_codes', 'id'], ['v_codes', 'label'])])).toEqual({ kind: 'ok' });
  });

  it('a table (not a view) is left to the policy, which matched its columns by name', async () => {
    expect(await judged(pv, [where(['customers', 'name'])])).toEqual({ kind: 'ok' });
  });

  it("'*' (NATURAL JOIN, whole-row comparison) and untraced statements use every column of the view", async () => {
    expect(await judged(pv, [where(['v_codes', '*'])])).toMatchObject({ kind: 'deny', ruleId: 'ssn' });
    const untraced = emptyFacts('select', 'SelectStmt');
    untraced.tablesRead = [{ name: 'v_codes' }];
    expect(await judged(pv, [untraced])).toMatchObject({ kind: 'deny', ruleId: 'ssn' });
  });

  it('nested statements count (PREPARE, EXPLAIN, data-modifying CTEs)', async () => {
    const prepare = emptyFacts('prepare', 'PrepareStmt');
    prepare.predicateColumns = [];
    prepare.nested = [where(['v_codes', 'code'])];
    expect(await judged(pv, [prepare])).toMatchObject({ kind: 'deny', ruleId: 'ssn' });
  });

  it('fail closed: a view column that cannot be traced', async () => {
    const v = await judged(pv, [where(['v_opaque', 'x'])]);
    expect(v).toMatchObject({ kind: 'deny', ruleId: 'ssn', reason: expect.stringContaining('public.v_opaque.x could not be traced') });
    expect(await judged(pv, [where(['v_opaque', 'id'])])).toEqual({ kind: 'ok' });
  });

  it('fail closed: a relation the catalog connection cannot see', async () => {
    expect(await judged(pv, [where(['nowhere', 'x'])])).toMatchObject({ kind: 'deny', reason: expect.stringContaining('nowhere is not a relation') });
  });

  it('fail closed: a catalog that does not answer', async () => {
    fakes.failing = true;
    expect(await judged(pv, [where(['v_codes', 'id'])])).toMatchObject({ kind: 'deny', reason: expect.stringContaining('the catalog could not be asked about v_codes') });
  });

  it('asks the catalog once, then judges from the cache without asking', async () => {
    expect(pv.check([where(['v_codes', 'id'])], MASKS, true).kind).toBe('load');
    await judged(pv, [where(['v_codes', 'id'])]);
    const loads = fakes.loads;
    expect(pv.check([where(['v_codes', 'id'])], MASKS, true)).toEqual({ kind: 'ok' });
    expect(fakes.loads).toBe(loads);
  });

  it("fail closed: relations this session defined itself (a temporary view may shadow a table's name)", async () => {
    const create = emptyFacts('create_view', 'ViewStmt');
    create.tablesWritten = [{ name: 'customers' }];
    expect(await judged(pv, [create, where(['customers', 'name'])])).toMatchObject({ kind: 'deny', reason: expect.stringContaining('created or redefined in this session') });
    // and from then on in this session
    expect(await judged(pv, [where(['customers', 'id'])])).toMatchObject({ kind: 'deny' });
    expect(await judged(pv, [where(['v_codes', 'id'])])).toEqual({ kind: 'ok' });
  });

  it('fail closed: after a rename, no name can be trusted', async () => {
    const rename = emptyFacts('alter_other', 'RenameStmt');
    rename.tablesWritten = [{ name: 'something' }];
    rename.predicateColumns = [];
    expect(pv.check([rename], MASKS, true)).toEqual({ kind: 'ok' });
    expect(await judged(pv, [where(['v_codes', 'id'])])).toMatchObject({ kind: 'deny', reason: expect.stringContaining('renamed or moved a relation') });
  });

  it('without deny_in_predicates rules nothing is looked up', () => {
    expect(pv.check([where(['v_codes', 'code'])], NO_PREDICATE_RULES, true)).toEqual({ kind: 'ok' });
    expect(fakes.loads).toBe(0);
  });
});
