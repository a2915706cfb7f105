import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { HmacSha256 } from './hmac-sha256.js';

describe('HmacSha256', () => {
  it('matches RFC 4231 test case 2', () => {
    expect(new HmacSha256('Jefe').digest('what do ya want for nothing?').toString('hex')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it.each([0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000])('matches node:crypto for a %i-byte message', (n) => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const msg = Buffer.alloc(n, 0x61 + (n % 26));
    expect(new HmacSha256(key).digest(msg).equals(createHmac('sha256', key).update(msg).digest())).toBe(true);
  });

  it('matches node:crypto for any key (incl. longer than a block) and message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), (key, msg) => {
        const ours = new HmacSha256(key).digest(msg);
        const theirs = createHmac('sha256', key).update(msg).digest();
        return ours.equals(theirs);
      }),
      { seed: 1, numRuns: 500 },
    );
  });

  it('digests a sub-range of a buffer into a caller buffer', () => {
    const key = 'k'.repeat(32);
    const big = Buffer.from('xxhello worldyy');
    const out = Buffer.alloc(32);
    new HmacSha256(key).digestInto(big, 2, 13, out);
    expect(out.equals(createHmac('sha256', key).update('hello world').digest())).toBe(true);
  });
});
