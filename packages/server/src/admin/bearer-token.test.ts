import { makeBearerCheck } from './bearer-token.js';

describe('makeBearerCheck', () => {
  const check = makeBearerCheck('0123456789abcdef-token');
  it.each([
    ['Bearer 0123456789abcdef-token', true],
    ['bearer 0123456789abcdef-token', true],
    ['Bearer  0123456789abcdef-token ', true],
    ['Bearer 0123456789abcdef-toke', false],
    ['Bearer 0123456789abcdef-token2', false],
    ['Basic 0123456789abcdef-token', false],
    ['0123456789abcdef-token', false],
    ['Bearer ', false],
    ['', false],
    [undefined, false],
  ])('%p → %p', (header, ok) => expect(check(header)).toBe(ok));
});
