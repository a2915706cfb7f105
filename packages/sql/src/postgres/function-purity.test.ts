import { readsOnlyItsArguments } from './function-purity.js';

describe('readsOnlyItsArguments', () => {
  it.each([
    ['lower', true],
    ['pg_catalog.lower', true],
    ['to_date', true],
    ['jsonb_build_object', true],
    ['public.lower', false],
    ['my_function', false],
    ['crm.lookup_ssn', false],
    ['a.b.c', false],
    ['query_to_xml', false],
    ['pg_catalog.table_to_xml', false],
    ['ts_stat', false],
  ])('%s → %s', (name, expected) => {
    expect(readsOnlyItsArguments(name)).toBe(expected);
  });
});
