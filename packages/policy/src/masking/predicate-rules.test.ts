import type { MaskRule } from '../model.js';
import { MaskSet } from './planner.js';

function mask(id: string, over: Partial<MaskRule>): MaskRule {
  return { id, file: 'p.yaml', line: 1, who: {}, columns: [], detectors: [], function: 'redact', denyInPredicates: false, ...over };
}

describe('MaskSet: deny_in_predicates rules for origins (views followed by the engine)', () => {
  const set = new MaskSet([
    mask('emails', { columns: ['customers.email'] }),
    mask('ssn', { columns: ['crm.customers.ssn'], denyInPredicates: true }),
    mask('free-text', { detectors: ['email'], denyInPredicates: true }),
  ]);

  it('lists the column rules with deny_in_predicates (detector rules mask no column by name)', () => {
    expect(set.predicateRules.map((r) => r.id)).toEqual(['ssn']);
    expect(new MaskSet([mask('emails', { columns: ['customers.email'] })]).predicateRules).toEqual([]);
  });

  it('finds the rule of an origin column, of a whole row, and nothing for other columns', () => {
    const view = { schema: 'public', table: 'v', column: 's' };
    expect(set.predicateRuleForOrigin({ columns: [view, { schema: 'crm', table: 'customers', column: 'ssn' }], wholeRow: [] })?.id).toBe('ssn');
    expect(set.predicateRuleForOrigin({ columns: [view], wholeRow: [{ schema: 'crm', table: 'customers' }] })?.id).toBe('ssn');
    expect(set.predicateRuleForOrigin({ columns: [view, { schema: 'crm', table: 'customers', column: 'email' }], wholeRow: [] })).toBeUndefined();
    expect(set.predicateRuleForOrigin({ columns: [{ schema: 'other', table: 'customers', column: 'ssn' }], wholeRow: [] })).toBeUndefined();
  });
});
