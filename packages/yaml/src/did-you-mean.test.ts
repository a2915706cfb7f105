import { didYouMean } from './did-you-mean.js';

describe('didYouMean', () => {
  const keys = ['targets', 'listen', 'host', 'port', 'redisPrefix'];
  it.each([
    ['tagets', 'targets'],
    ['hots', 'host'],
    ['Listen', 'listen'],
    ['redisprefix', 'redisPrefix'],
    ['prot', 'port'],
  ])('%p → %p', (word, hint) => expect(didYouMean(word, keys)).toBe(hint));
  it('stays quiet when nothing is close', () => expect(didYouMean('database', keys)).toBeUndefined());
});
