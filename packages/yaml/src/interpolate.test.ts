import { interpolate } from './interpolate.js';

describe('interpolate', () => {
  const env = { A: 'alpha', EMPTY: '' };
  it.each([
    ['plain', 'plain'],
    ['${A}', 'alpha'],
    ['x-${A}-${A}', 'x-alpha-alpha'],
    ['${B:-beta}', 'beta'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['${B:-}', ''],
    ['${B:-a:-b}', 'a:-b'],
    ['$${A}', '${A}'],
    ['cost $5 and $A', 'cost $5 and $A'],
  ])('%p → %p', (text, value) => {
    expect(interpolate(text, env)).toEqual({ ok: true, value, changed: text !== value || text.includes('${') });
  });

  it.each([
    ['${MISSING}', 'environment variable MISSING is not set'],
    ['${A', 'unterminated "${"'],
    ['${1A}', 'is not a valid variable reference'],
    ['${}', 'is not a valid variable reference'],
    ['${A B}', 'is not a valid variable reference'],
  ])('%p fails: %p', (text, error) => {
    const r = interpolate(text, env);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(error);
  });
});
