/**
 * Comparison operators by canonical form: `a <> b` is NOT (`a = b`), `a >= b` is NOT (`a < b`), ...
 * Used by both dialects' WHERE evaluators to spot a predicate ORed with its own opposite.
 */
export const COMPARISON_COMPLEMENTS: Readonly<Record<string, readonly [canonical: string, negated: boolean]>> = {
  '=': ['=', false],
  '<>': ['=', true],
  '!=': ['=', true],
  '<': ['<', false],
  '>=': ['<', true],
  '>': ['>', false],
  '<=': ['>', true],
};
