import { emptyFacts, type StatementFacts } from '@sqlwarden/sql';
import type { Principal } from '../decision.js';
import type { MaskRule } from '../model.js';
import { compileGlob } from '../glob.js';
import { MaskSet, UNCERTAIN_RULE, type ColumnOrigin } from './planner.js';
import { maskValue } from './mask-functions.js';
import { TypeHint } from './type-hint.js';

const KEY = 'planner-test-key-0123456789';

function mask(id: string, over: Partial<MaskRule>): MaskRule {
  return { id, file: 'p.yaml', line: 1, who: {}, columns: [], detectors: [], function: 'redact', denyInPredicates: false, ...over };
}

const RULES: MaskRule[] = [
  mask('emails', { columns: ['*.customers.email'], function: 'email' }),
  mask('ssn', { columns: ['crm.customers.ssn'], function: 'hash', denyInPredicates: true }),
  mask('salaries', { columns: ['salary'], function: 'redact' }),
  mask('free-text', { detectors: ['email', 'us_ssn'], function: 'redact', replacement: '<pii>' }),
];

const col = (schema: string | undefined, table: string, column: string): ColumnOrigin => ({ columns: [{ schema, table, column }], wholeRow: [], direct: true });
const run = (set: MaskSet, origin: ColumnOrigin, hint: TypeHint, value: string, format = 0): string | null | undefined => {
  const plan = set.planColumn(origin, hint, format);
  if (!plan) return undefined;
  const out = plan.mask(Buffer.from(value, 'utf8'));
  return out === null ? null : out.toString('utf8');
};

describe('MaskSet.planColumn', () => {
  const set = new MaskSet(RULES, { hashKey: KEY });

  test('a column rule masks its column whole, with its function', () => {
    expect(run(set, col('public', 'customers', 'email'), TypeHint.Text, 'alice@example.com')).toBe('****@example.com');
    expect(run(set, col('crm', 'customers', 'ssn'), TypeHint.Text, '123-45-6789')).toBe(maskValue('hash', '123-45-6789', TypeHint.Text, { hashKey: KEY }));
    expect(set.planColumn(col('crm', 'customers', 'ssn'), TypeHint.Text, 0)?.rule).toBe('ssn');
  });

  test('functions that keep part of the value (email, partial) apply to the value itself only; computed values are redacted', () => {
    const computed: ColumnOrigin = { columns: [{ schema: 'p', table: 'customers', column: 'email' }], wholeRow: [], direct: false };
    // 'a@' || split_part(email, '@', 1) would otherwise keep the secret local part as the "domain"
    expect(run(set, computed, TypeHint.Text, 'a@alice.secret')).toBe('[redacted]');
    const hashed: ColumnOrigin = { columns: [{ schema: 'crm', table: 'customers', column: 'ssn' }], wholeRow: [], direct: false };
    expect(run(set, hashed, TypeHint.Text, '123-45-6789')).toBe(maskValue('hash', '123-45-6789', TypeHint.Text, { hashKey: KEY }));
  });

  test('the schema part is honoured, and an unqualified table matches any schema (fail closed)', () => {
    expect(set.planColumn(col('billing', 'customers', 'ssn'), TypeHint.Int4, 0)).toBeNull();
    expect(set.planColumn(col(undefined, 'customers', 'ssn'), TypeHint.Text, 0)?.rule).toBe('ssn');
  });

  test('type-preserving: a masked integer is still an integer, in text and binary', () => {
    expect(run(set, col('hr', 'staff', 'salary'), TypeHint.Int4, '120000')).toMatch(/^-?\d+$/);
    const bin = set.planColumn(col('hr', 'staff', 'salary'), TypeHint.Int4, 1);
    expect(bin?.mask(Buffer.from([0, 1, 0xd4, 0xc0]))?.length).toBe(4);
  });

  test('an expression over several columns is masked when any of them is', () => {
    const o: ColumnOrigin = { columns: [{ schema: 'x', table: 'orders', column: 'id' }, { schema: 'x', table: 'customers', column: 'email' }], wholeRow: [] };
    expect(set.planColumn(o, TypeHint.Text, 0)?.rule).toBe('emails');
  });

  test('whole-row references are masked when the table has a masked column', () => {
    expect(set.planColumn({ columns: [], wholeRow: [{ schema: 'crm', table: 'customers' }] }, TypeHint.Json, 0)?.kind).toBe('whole');
    // "salary" (no table part) could be a column of any table: without the table's columns, the whole row is masked
    expect(set.planColumn({ columns: [], wholeRow: [{ schema: 'crm', table: 'orders' }] }, TypeHint.Json, 0)?.rule).toBe('salaries');
    const tableRules = new MaskSet(RULES.filter((r) => r.id !== 'salaries'), { hashKey: KEY });
    expect(tableRules.planColumn({ columns: [], wholeRow: [{ schema: 'crm', table: 'orders' }] }, TypeHint.Json, 0)?.kind).toBe('detect');
  });

  test('an unknown origin is masked (redact) whenever column rules apply', () => {
    const p = set.planColumn(null, TypeHint.Int8, 0);
    expect(p?.rule).toBe(UNCERTAIN_RULE);
    expect(p?.mask(Buffer.from('42'))?.toString()).toBe('0');
  });

  test('detectors scan text columns of any origin and leave other values as they are', () => {
    expect(run(set, col('s', 'tickets', 'body'), TypeHint.Text, 'mail bob@x.org or 078-05-1120, thanks')).toBe('mail <pii> or <pii>, thanks');
    const plain = Buffer.from('nothing to see');
    expect(set.planColumn(col('s', 'tickets', 'body'), TypeHint.Text, 0)?.mask(plain)).toBe(plain);
    expect(set.planColumn(col('s', 'tickets', 'n'), TypeHint.Int4, 0)).toBeNull();
  });

  test('detectors limited to columns run only there (and on columns of unknown origin)', () => {
    const limited = new MaskSet([mask('notes', { columns: ['*.tickets.body'], detectors: ['email'] })]);
    expect(limited.planColumn(col('s', 'tickets', 'body'), TypeHint.Text, 0)?.kind).toBe('detect');
    expect(limited.planColumn(col('s', 'tickets', 'subject'), TypeHint.Text, 0)).toBeNull();
    expect(limited.planColumn(null, TypeHint.Text, 0)?.kind).toBe('detect');
  });

  test('a detector finding in binary jsonb keeps the version byte', () => {
    const p = set.planColumn(col('s', 'docs', 'doc'), TypeHint.Jsonb, 1);
    const out = p?.mask(Buffer.concat([Buffer.from([1]), Buffer.from('{"e":"bob@x.org"}')]));
    expect(out?.[0]).toBe(1);
    expect(out?.subarray(1).toString()).toBe('{"e":"<pii>"}');
  });

  test('hash without a key, or with a short one, is refused', () => {
    expect(() => new MaskSet(RULES)).toThrow(/hashKey/);
    expect(() => new MaskSet(RULES, { hashKey: 'short' })).toThrow(/16 bytes/);
  });
});

describe('MaskSet.plan and forPrincipal', () => {
  const who = (labels: Record<string, string>): Principal => ({ agent: 'a', labels, credentialId: 'c', user: 'u', target: 't', sessionId: 's' });

  test('masks apply only to the principals they name', () => {
    const rules = [mask('analytics', { columns: ['email'], who: { labels: [['role', compileGlob('analytics')]] } })];
    expect(MaskSet.forPrincipal(rules, who({ role: 'analytics' }))).not.toBeNull();
    expect(MaskSet.forPrincipal(rules, who({ role: 'ops' }))).toBeNull();
  });

  test('a result plan says which columns are masked and how many were uncertain', () => {
    const set = new MaskSet([mask('emails', { columns: ['email'] })]);
    const plan = set.plan([col('p', 't', 'id'), col('p', 't', 'email'), null], [TypeHint.Int4, TypeHint.Text, TypeHint.Text], [0, 0, 0]);
    expect(plan.columns.map((c) => c?.rule ?? null)).toEqual([null, 'emails', UNCERTAIN_RULE]);
    expect(plan).toMatchObject({ any: true, uncertain: 1 });
    expect(set.plan([col('p', 't', 'id')], [TypeHint.Int4], [0]).any).toBe(false);
  });
});

describe('MaskSet.refusal', () => {
  const set = new MaskSet(RULES, { hashKey: KEY });
  const facts = (over: Partial<StatementFacts>): StatementFacts => ({ ...emptyFacts('select', 'SelectStmt'), ...over });

  test('a masked column with deny_in_predicates may not filter, join or order rows', () => {
    const r = set.refusal([facts({ predicateColumns: [{ schema: 'crm', table: 'customers', column: 'ssn' }] })]);
    expect(r).toMatchObject({ ruleId: 'ssn', reason: expect.stringContaining('crm.customers.ssn') });
    // emails are masked but may be filtered on (no deny_in_predicates)
    expect(set.refusal([facts({ predicateColumns: [{ schema: 'crm', table: 'customers', column: 'email' }] })])).toBeUndefined();
  });

  test('predicates that could not be traced count as every column of the tables touched', () => {
    expect(set.refusal([facts({ tablesRead: [{ schema: 'crm', name: 'customers' }] })])?.ruleId).toBe('ssn');
    expect(set.refusal([facts({ tablesRead: [{ schema: 'crm', name: 'orders' }], predicateColumns: [] })])).toBeUndefined();
  });

  test('nested statements are checked too', () => {
    const inner = facts({ kind: 'update', predicateColumns: [{ table: 'customers', column: 'ssn' }] });
    expect(set.refusal([facts({ kind: 'explain', predicateColumns: [], nested: [inner] })])?.ruleId).toBe('ssn');
  });

  test('COPY ... TO a file or program of table data is refused while masks apply; TO STDOUT (masked in the stream), COPY FROM and constant COPY are not', () => {
    const copyToFile = facts({ kind: 'copy', copy: { direction: 'to', program: false, file: true, stdio: false }, tablesRead: [{ schema: 'crm', name: 'orders' }], predicateColumns: [] });
    expect(set.refusal([copyToFile])?.reason).toMatch(/COPY/);
    const copyToProgram = facts({ kind: 'copy', copy: { direction: 'to', program: true, file: false, stdio: false }, tablesRead: [{ schema: 'crm', name: 'customers' }], predicateColumns: [] });
    expect(set.refusal([copyToProgram])?.reason).toMatch(/COPY/);
    const copyToStdout = facts({ kind: 'copy', copy: { direction: 'to', program: false, file: false, stdio: true }, tablesRead: [{ schema: 'crm', name: 'customers' }], predicateColumns: [] });
    expect(set.refusal([copyToStdout])).toBeUndefined();
    // a masked column in the predicates of a COPY (query) TO STDOUT is still refused (deny_in_predicates)
    const strictCopy = facts({ kind: 'copy', copy: { direction: 'to', program: false, file: false, stdio: true }, tablesRead: [{ schema: 'crm', name: 'customers' }], predicateColumns: [{ schema: 'crm', table: 'customers', column: 'ssn' }] });
    expect(set.refusal([strictCopy])?.ruleId).toBe('ssn');
    const copyFrom = facts({ kind: 'copy', copy: { direction: 'from', program: false, file: false, stdio: true }, tablesWritten: [{ name: 'orders' }], predicateColumns: [] });
    expect(set.refusal([copyFrom])).toBeUndefined();
    const constant = facts({ kind: 'copy', copy: { direction: 'to', program: false, file: false, stdio: true }, outputColumns: [{ name: 'x', sources: [], direct: false, certain: true }], predicateColumns: [] });
    expect(set.refusal([constant])).toBeUndefined();
  });
});
