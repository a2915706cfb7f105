import { MaskSet, type MaskRule } from '@sqlwarden/policy';
import { analyze, initAnalyzers, stopPostgresAnalyzer, type LineageTable, type StatementFacts } from '@sqlwarden/sql';
import type { Relation } from './catalog-cache.js';
import { ErrorScope, type ErrorCatalog } from './error-scope.js';

function mask(id: string, columns: string[]): MaskRule {
  return { id, file: 'p.yaml', line: 1, who: {}, columns, detectors: [], function: 'redact', denyInPredicates: false };
}

const MASKS = new MaskSet([mask('ssn', ['customers.ssn'])]);

let oid = 1000;
function rel(schema: string, name: string, columns: string[], viewDefinition?: string): Relation {
  return { oid: oid++, schema, name, relkind: viewDefinition ? 'v' : 'r', columns: new Map(columns.map((c, i) => [i + 1, c])), ...(viewDefinition && { viewDefinition }) };
}

/** What the database has, by name as written (unqualified or schema-qualified). */
const DB = new Map<string, Relation | null>();
function add(r: Relation): void {
  DB.set(r.name, r);
  DB.set(`${r.schema}.${r.name}`, r);
}
add(rel('public', 'customers', ['id', 'name', 'ssn']));
add(rel('public', 'products', ['id', 'label']));
add(rel('public', 'v_codes', ['id', 'code'], 'SELECT customers.id, customers.ssn AS code FROM public.customers'));
add(rel('public', 'v_filtered', ['id', 'name'], "SELECT customers.id, customers.name FROM public.customers WHERE customers.ssn::integer > 0"));
add(rel('public', 'v_products', ['id', 'label'], 'SELECT products.id, products.label FROM public.products'));
add(rel('public', 'v_v_products', ['id', 'label'], 'SELECT v_products.id, v_products.label FROM public.v_products'));
add(rel('public', 'v_v_codes', ['code'], 'SELECT v_codes.code FROM public.v_codes'));
add(rel('public', 'v_broken', ['x'], 'SELECT FROM WHERE ((('));
DB.set('temp_only', null);

/** A catalog that learns names only when asked (loadNames), and can be made to fail. */
class FakeCatalog implements ErrorCatalog {
  readonly known = new Map<string, Relation | null>();
  loads = 0;
  failing = false;
  private key(schema: string | undefined, table: string): string {
    return schema !== undefined ? `${schema}.${table}` : table;
  }
  peekByName(schema: string | undefined, table: string): Relation | null | undefined {
    return this.known.get(this.key(schema, table));
  }
  loadNames(refs: readonly LineageTable[]): Promise<void> {
    this.loads++;
    if (!this.failing) for (const r of refs) this.known.set(this.key(r.schema, r.table), DB.get(this.key(r.schema, r.table)) ?? null);
    return Promise.resolve();
  }
}

function facts(sql: string): StatementFacts[] {
  const a = analyze('postgres', sql);
  if (!a.ok) throw new Error(`${sql}: ${a.failure.kind}`);
  return a.statements;
}

const NO_FIELDS = new Map<string, string>();

/** The verdict after any catalog loads (each load followed by offering the error again, as the session does). */
async function verdict(scope: ErrorScope, sql: string | undefined, fields: Map<string, string> = NO_FIELDS): Promise<boolean> {
  const statements = sql === undefined ? undefined : facts(sql);
  for (let i = 0; i < 3; i++) {
    const v = scope.mayCarryMasked(statements, fields, MASKS);
    if (typeof v === 'boolean') return v;
    await v;
  }
  throw new Error('the scope kept asking the catalog');
}

beforeAll(async () => {
  await initAnalyzers();
});
afterAll(() => stopPostgresAnalyzer());

describe('ErrorScope: which errors of a masked session are cleaned', () => {
  let catalog: FakeCatalog;
  let scope: ErrorScope;
  beforeEach(() => {
    catalog = new FakeCatalog();
    scope = new ErrorScope(catalog, (sql) => analyze('postgres', sql));
  });

  it.each([
    ['an unmasked table', 'select label::int from products', false],
    ['a built-in function over an unmasked table', 'select upper(label)::int from products where id = 1', false],
    ['a constant', "select 'x'::int", false],
    ['a view over an unmasked table', 'select label::int from v_products', false],
    ['a view over a view over an unmasked table', 'select label::int from v_v_products', false],
    ['an insert into an unmasked table', "insert into products values (3, 'x')", false],
    ['a table with a masked column', 'select name::int from customers', true],
    ['a write into a table with a masked column', "insert into customers (id, name) values (9, 'x')", true],
    ['a subquery over the masked table', 'select (select ssn from customers where id = 1)::int', true],
    ['INSERT ... SELECT from the masked table', 'insert into products select 100 + id, ssn from customers', true],
    ['a CTE over the masked table', 'with t as (select ssn from customers) select ssn::int from t', true],
    ['a view over the masked column', 'select code::int from v_codes', true],
    ["a view whose own WHERE reads the masked column", 'select name from v_filtered', true],
    ['a view over a view over the masked column', 'select code::int from v_v_codes', true],
    ['a view whose definition does not parse', 'select x from v_broken', true],
    ['a relation the catalog connection cannot see', 'select x from temp_only', true],
    ['a user function', 'select my_function(1)', true],
    ['a built-in that reads data by name', "select query_to_xml('select 1', true, true, '')", true],
    ['EXECUTE', 'execute p', true],
    ['FETCH', 'fetch c', true],
    ['CALL', 'call p()', true],
    ['COMMIT (deferred constraints)', 'commit', true],
    ['SET CONSTRAINTS ... IMMEDIATE', 'set constraints all immediate', true],
  ])('%s → %s', async (_label, sql, expected) => {
    expect(await verdict(scope, sql)).toBe(expected);
  });

  it('an unknown statement is cleaned', async () => {
    expect(await verdict(scope, undefined)).toBe(true);
  });

  it('an error raised inside function code (it has a context) is cleaned', async () => {
    expect(await verdict(scope, "insert into products values (3, 'x')", new Map([['W', 'PL/pgSQL function check_it() line 3 at PERFORM']]))).toBe(true);
  });

  it("an error whose fields name a masked column, or a table with one, is cleaned", async () => {
    expect(await verdict(scope, 'select 1', new Map([['s', 'public'], ['t', 'customers'], ['c', 'ssn']]))).toBe(true);
    expect(await verdict(scope, 'select 1', new Map([['t', 'customers'], ['c', 'name']]))).toBe(true);
    expect(await verdict(scope, 'select 1', new Map([['s', 'public'], ['t', 'products'], ['c', 'label']]))).toBe(false);
  });

  it('asks the catalog once per error, and not again for what it knows', async () => {
    const first = scope.mayCarryMasked(facts('select label::int from products'), NO_FIELDS, MASKS);
    expect(first).toBeInstanceOf(Promise);
    await first;
    expect(scope.mayCarryMasked(facts('select label::int from products'), NO_FIELDS, MASKS)).toBe(false);
    const loads = catalog.loads;
    expect(scope.mayCarryMasked(facts('select label::int from products'), NO_FIELDS, MASKS)).toBe(false);
    expect(catalog.loads).toBe(loads);
  });

  it('a catalog that does not answer: cleaned (fail closed)', async () => {
    catalog.failing = true;
    expect(await verdict(scope, 'select label::int from products')).toBe(true);
  });
});
