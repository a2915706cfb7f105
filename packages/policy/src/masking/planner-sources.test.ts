/**
 * Output columns whose value may come from several columns (a UNION/INTERSECT/EXCEPT of bare column
 * references, an ambiguous reference, a view column and its base column) or is computed from several:
 * the column is masked as every matching rule requires, never as the first one alone.
 */
import type { MaskRule } from '../model.js';
import { MaskSet, type ColumnOrigin } from './planner.js';
import { maskValue } from './mask-functions.js';
import { TypeHint } from './type-hint.js';

const KEY = 'planner-sources-key-0123456789';

function mask(id: string, over: Partial<MaskRule>): MaskRule {
  return { id, file: 'p.yaml', line: 1, who: {}, columns: [], detectors: [], function: 'redact', denyInPredicates: false, ...over };
}

const RULES: MaskRule[] = [
  mask('emails', { columns: ['public.customers.email'], function: 'email' }),
  mask('emails-2', { columns: ['public.customers2.email'], function: 'email' }),
  mask('contacts', { columns: ['public.leads.contact'], function: 'partial', keepLast: 4 }),
  mask('phones', { columns: ['public.leads.phone'], function: 'partial', keepLast: 2 }),
  mask('tax-ids', { columns: ['public.customers.ssn'], function: 'hash' }),
  mask('gone', { columns: ['public.customers.secret'], function: 'null' }),
  mask('salary', { columns: ['public.staff.salary'], function: 'redact', replacement: '<salary>' }),
];

const set = new MaskSet(RULES, { hashKey: KEY });

const c = (table: string, column: string) => ({ schema: 'public', table, column });
/** A set operation whose branches are these columns (direct, as the lineage reports it). */
const union = (...cols: [string, string][]): ColumnOrigin => ({ columns: cols.map(([t, k]) => c(t, k)), wholeRow: [], direct: true });
const computed = (...cols: [string, string][]): ColumnOrigin => ({ columns: cols.map(([t, k]) => c(t, k)), wholeRow: [], direct: false });

function apply(origin: ColumnOrigin, value: string, hint = TypeHint.Text): { rule: string | undefined; out: string | null | undefined } {
  const p = set.planColumn(origin, hint, 0);
  if (!p) return { rule: undefined, out: undefined };
  const out = p.mask(Buffer.from(value, 'utf8'));
  return { rule: p.rule, out: out === null ? null : out.toString('utf8') };
}

const VALUE = 'alice.secret@example.com';
const email = maskValue('email', VALUE, TypeHint.Text);
const partial4 = maskValue('partial', VALUE, TypeHint.Text, { keepLast: 4 });
const hashed = maskValue('hash', VALUE, TypeHint.Text, { hashKey: KEY });

describe('an output column over several sources', () => {
  test.each<[string, ColumnOrigin, string | undefined, string | null | undefined]>([
    // the same column in every branch, or masked alike: that rule's function, kept-part functions included
    ['UNION of the same column', union(['customers', 'email'], ['customers', 'email']), 'emails', email],
    ['UNION of two columns with the same function', union(['customers', 'email'], ['customers2', 'email']), 'emails', email],
    // an unmasked branch changes nothing: its values are masked like the masked branch's
    ['UNION of a masked and an unmasked column', union(['customers', 'name'], ['customers', 'email']), 'emails', email],
    ['UNION of an unmasked and a partial column', union(['leads', 'name'], ['leads', 'contact']), 'contacts', partial4],
    ['UNION of an unmasked and a hashed column', union(['customers', 'name'], ['customers', 'ssn']), 'tax-ids', hashed],
    ['UNION of unmasked columns', union(['customers', 'name'], ['leads', 'name']), undefined, undefined],
    // rules that differ: redact (hash shows equality, partial and email show parts)
    ['UNION of email and partial columns', union(['customers', 'email'], ['leads', 'contact']), 'emails', '[redacted]'],
    ['UNION of partial columns keeping different parts', union(['leads', 'contact'], ['leads', 'phone']), 'contacts', '[redacted]'],
    ['UNION of email and hash columns', union(['customers', 'email'], ['customers', 'ssn']), 'emails', '[redacted]'],
    ['UNION of hash and redact columns: the redact rule (its replacement)', union(['customers', 'ssn'], ['staff', 'salary']), 'salary', '<salary>'],
    // null hides even whether there is a value: it wins over everything
    ['UNION of null and email columns', union(['customers', 'email'], ['customers', 'secret']), 'gone', null],
    // computed values: email and partial never keep a part; differing rules as above
    ['an expression over an email column', computed(['customers', 'email']), 'emails', '[redacted]'],
    ['an expression over a hashed column and an unmasked one', computed(['customers', 'ssn'], ['customers', 'name']), 'tax-ids', hashed],
    ['an expression over hashed and redacted columns', computed(['customers', 'ssn'], ['staff', 'salary']), 'salary', '<salary>'],
  ])('%s', (_name, origin, rule, out) => {
    expect(apply(origin, VALUE)).toEqual({ rule, out });
  });

  test('the order of the branches does not change the mask', () => {
    const pairs: [string, string][][] = [
      [['customers', 'email'], ['leads', 'contact']],
      [['customers', 'ssn'], ['staff', 'salary']],
      [['customers', 'email'], ['customers', 'secret']],
      [['customers', 'name'], ['customers', 'email']],
    ];
    for (const p of pairs) expect(apply(union(...p.slice().reverse()), VALUE).out).toEqual(apply(union(...p), VALUE).out);
  });

  test('differing rules keep the column type: a masked integer stays an integer, in text and binary', () => {
    const o = union(['customers', 'ssn'], ['staff', 'salary']);
    expect(apply(o, '120000', TypeHint.Int4).out).toBe('0');
    const bin = set.planColumn(o, TypeHint.Int4, 1);
    expect(bin?.mask(Buffer.from([0, 1, 0xd4, 0xc0]))).toEqual(Buffer.from([0, 0, 0, 0]));
  });

  test('a view column and its base column with rules of their own (a direct origin naming both)', () => {
    const viewRules = new MaskSet([
      mask('view-col', { columns: ['public.v_customers.mail'], function: 'partial', keepLast: 4 }),
      mask('base-col', { columns: ['public.customers.email'], function: 'email' }),
    ]);
    const o: ColumnOrigin = { columns: [c('v_customers', 'mail'), c('customers', 'email')], wholeRow: [], direct: true };
    const p = viewRules.planColumn(o, TypeHint.Text, 0);
    expect(p?.mask(Buffer.from(VALUE))?.toString()).toBe('[redacted]');
  });
});
