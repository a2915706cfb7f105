import fc from 'fast-check';
import { binaryArrayDetector, decodePgBinaryArray, encodePgBinaryArray, PgBinaryArrayError, type PgBinaryArray } from './pg-binary-array.js';
import { MaskSet } from './planner.js';
import { TypeHint } from './type-hint.js';

/** An array value as Postgres' array_send writes it: dims whose sizes multiply to the element count. */
const arrayArb: fc.Arbitrary<PgBinaryArray> = fc
  .record({
    sizes: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 4 }),
    lowerBounds: fc.array(fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }), { minLength: 4, maxLength: 4 }),
    elementType: fc.integer({ min: 0, max: 0xffffffff }),
    flags: fc.constantFrom(0, 1),
    seed: fc.array(fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null }), { minLength: 81, maxLength: 81 }),
  })
  .map(({ sizes, lowerBounds, elementType, flags, seed }) => {
    const count = sizes.length === 0 ? 0 : sizes.reduce((a, b) => a * b, 1);
    return {
      flags,
      elementType,
      dims: sizes.map((size, i) => ({ size, lowerBound: lowerBounds[i]! })),
      elements: seed.slice(0, count).map((e) => (e === null ? null : Buffer.from(e))),
    };
  });

/** A text[] in binary format. */
function textArray(values: (string | null)[], elementType = 25): Buffer {
  return encodePgBinaryArray({
    flags: values.includes(null) ? 1 : 0,
    elementType,
    dims: values.length === 0 ? [] : [{ size: values.length, lowerBound: 1 }],
    elements: values.map((v) => (v === null ? null : Buffer.from(v, 'utf8'))),
  });
}

const DETECT = new MaskSet([{ id: 'pii', columns: [], detectors: ['email', 'us_ssn'], function: 'redact', who: {} } as never]);
const detect = (v: Buffer): Buffer | null => DETECT.planColumn({ columns: [], wholeRow: [] }, TypeHint.Array, 1)!.mask(v);

describe('Postgres binary arrays', () => {
  it('decode ∘ encode is the identity (and encode ∘ decode gives the same bytes)', () => {
    fc.assert(
      fc.property(arrayArb, (a) => {
        const bytes = encodePgBinaryArray(a);
        const back = decodePgBinaryArray(bytes);
        expect(back).toEqual(a);
        expect(encodePgBinaryArray(back).equals(bytes)).toBe(true);
      }),
    );
  });

  it('random bytes decode or throw PgBinaryArrayError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        try {
          decodePgBinaryArray(Buffer.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(PgBinaryArrayError);
        }
      }),
    );
    // and headers that claim huge counts fail fast
    const huge = Buffer.alloc(28);
    huge.writeInt32BE(2, 0);
    huge.writeInt32BE(0x7fffffff, 12);
    huge.writeInt32BE(0x7fffffff, 20);
    expect(() => decodePgBinaryArray(huge)).toThrow(PgBinaryArrayError);
  });

  it('every split point of a valid array: a truncated array is refused', () => {
    const v = textArray(['a', null, 'bob@example.com']);
    for (let i = 0; i < v.length; i++) expect(() => decodePgBinaryArray(v.subarray(0, i))).toThrow(PgBinaryArrayError);
    expect(() => decodePgBinaryArray(Buffer.concat([v, Buffer.from([0])]))).toThrow(PgBinaryArrayError);
  });

  it('detectors scan text-like elements and re-encode; nothing found → the same Buffer', () => {
    const v = textArray(['write bob@example.com', null, 'ssn 123-45-6789', 'plain']);
    const out = detect(v)!;
    expect(decodePgBinaryArray(out).elements.map((e) => (e === null ? null : e.toString()))).toEqual(['write [redacted]', null, 'ssn [redacted]', 'plain']);
    const clean = textArray(['plain', 'words']);
    expect(detect(clean)).toBe(clean);
    // varchar and name too
    expect(decodePgBinaryArray(detect(textArray(['bob@example.com'], 1043))!).elements[0]!.toString()).toBe('[redacted]');
  });

  it('json and jsonb elements stay JSON; types that cannot hold text pass; unknown element types and malformed arrays are NULL', () => {
    const j = detect(textArray(['{"to": "bob@example.com"}', '4111111111111111'], 114))!;
    expect(decodePgBinaryArray(j).elements.map((e) => JSON.parse(e!.toString()) as unknown)).toEqual([{ to: '[redacted]' }, 4111111111111111]);
    const jb = encodePgBinaryArray({ flags: 0, elementType: 3802, dims: [{ size: 1, lowerBound: 1 }], elements: [Buffer.from('\x01"bob@example.com"', 'latin1')] });
    expect(decodePgBinaryArray(detect(jb)!).elements[0]!.toString()).toBe('\x01"[redacted]"');
    const ints = encodePgBinaryArray({ flags: 0, elementType: 23, dims: [{ size: 1, lowerBound: 1 }], elements: [Buffer.from([0, 0, 0, 7])] });
    expect(detect(ints)).toBe(ints);
    expect(detect(textArray(['bob@example.com'], 987654))).toBeNull();
    expect(detect(Buffer.from([0, 0, 0, 1]))).toBeNull();
  });

  it('a rule whose function cannot keep the rest of an element makes the array NULL', () => {
    const nulls = binaryArrayDetector(
      (e) => (e.includes('@') ? null : e),
      (e) => e,
    );
    expect(nulls(textArray(['a@b']))).toBeNull();
  });
});
