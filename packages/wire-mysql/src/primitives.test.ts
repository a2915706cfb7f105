import fc from 'fast-check';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader, lenencPrefixLength, readLenencAt } from './reader.js';
import { PayloadWriter, lenencIntLength, writeLenencInt } from './writer.js';
import { hex } from './framing.test-util.js';

describe('length-encoded integers', () => {
  const cases: [number | bigint, string][] = [
    [0, '00'],
    [250, 'fa'],
    [251, 'fcfb00'],
    [0xffff, 'fcffff'],
    [0x10000, 'fd000001'],
    [0xffffff, 'fdffffff'],
    [0x1000000, 'fe0000000100000000'],
    [Number.MAX_SAFE_INTEGER, 'feffffffffffff1f00'],
    [0xffff_ffff_ffff_ffffn, 'feffffffffffffffff'],
  ];

  it.each(cases)('%s is %s', (n, h) => {
    const w = new PayloadWriter(1).lenencInt(n);
    expect(w.finish().toString('hex')).toBe(h);
    expect(lenencIntLength(n)).toBe(h.length / 2);
    expect(new PayloadReader(hex(h)).lenencBigInt()).toBe(BigInt(n));
    if (typeof n === 'number') {
      expect(new PayloadReader(hex(h)).lenencInt()).toBe(n);
      expect(readLenencAt(hex(h), 0, h.length / 2)).toBe(n);
      expect(lenencPrefixLength(hex(h)[0])).toBe(h.length / 2);
      const b = Buffer.alloc(9);
      expect(writeLenencInt(b, 0, n)).toBe(h.length / 2);
    }
  });

  it('0xFB is NULL, 0xFF is invalid, values past 2^53 need the bigint reader', () => {
    expect(new PayloadReader(hex('fb')).lenencIntOrNull()).toBeNull();
    expect(() => new PayloadReader(hex('fb')).lenencInt()).toThrow(ProtocolError);
    expect(readLenencAt(hex('fb'), 0, 1)).toBe(-1);
    expect(() => new PayloadReader(hex('ff')).lenencInt()).toThrow(ProtocolError);
    expect(() => readLenencAt(hex('ff'), 0, 1)).toThrow(ProtocolError);
    expect(() => new PayloadReader(hex('feffffffffffffffff')).lenencInt()).toThrow(ProtocolError);
    expect(() => new PayloadReader(hex('fc01')).lenencInt()).toThrow(ProtocolError);
    expect(() => readLenencAt(hex('fd0102'), 0, 3)).toThrow(ProtocolError);
  });

  it('writers refuse values they cannot encode', () => {
    expect(() => new PayloadWriter().lenencInt(-1)).toThrow(RangeError);
    expect(() => new PayloadWriter().lenencInt(1.5)).toThrow(RangeError);
    expect(() => new PayloadWriter().lenencInt(1n << 64n)).toThrow(RangeError);
    expect(() => new PayloadWriter().u8(256)).toThrow(RangeError);
    expect(() => new PayloadWriter().u16(-1)).toThrow(RangeError);
    expect(() => new PayloadWriter().nulString('a\0b')).toThrow(RangeError);
  });
});

describe('strings and fixed integers', () => {
  it('reads every type back as written', () => {
    const w = new PayloadWriter(2)
      .u8(0xab)
      .u16(0xbeef)
      .u24(0x123456)
      .u32(0xfedcba98)
      .u64(0x0123_4567_89ab_cdefn)
      .lenencString('héllo')
      .lenencBytes(Buffer.alloc(300, 1))
      .nulString('user')
      .zeros(3)
      .string('rest ✓');
    const r = new PayloadReader(w.finish());
    expect(r.u8()).toBe(0xab);
    expect(r.u16()).toBe(0xbeef);
    expect(r.u24()).toBe(0x123456);
    expect(r.u32()).toBe(0xfedcba98);
    expect(r.u64()).toBe(0x0123_4567_89ab_cdefn);
    expect(r.lenencString()).toBe('héllo');
    expect(r.lenencBytes().length).toBe(300);
    expect(r.nulString()).toBe('user');
    r.skip(3);
    expect(r.restString()).toBe('rest ✓');
    expect(r.atEnd).toBe(true);
  });

  it('reads NUL strings leniently only when asked, and views stay inside the reader bounds', () => {
    expect(() => new PayloadReader(Buffer.from('abc')).nulString()).toThrow(ProtocolError);
    expect(new PayloadReader(Buffer.from('abc')).nulStringOrRest()).toBe('abc');
    const b = Buffer.from('ab\0cd\0');
    expect(() => new PayloadReader(b, 3, 5).nulString()).toThrow(ProtocolError);
    expect(new PayloadReader(b, 0, 3).nulString()).toBe('ab');
    expect(() => new PayloadReader(b, 0, 2).bytes(3)).toThrow(ProtocolError);
    expect(() => new PayloadReader(b).u64Number()).toThrow(ProtocolError);
  });

  it('property: sequences of primitives round-trip', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('u8'), v: fc.integer({ min: 0, max: 0xff }) }),
      fc.record({ t: fc.constant('u16'), v: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ t: fc.constant('u24'), v: fc.integer({ min: 0, max: 0xffffff }) }),
      fc.record({ t: fc.constant('u32'), v: fc.integer({ min: 0, max: 0xffffffff }) }),
      fc.record({ t: fc.constant('u64'), v: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
      fc.record({ t: fc.constant('lenenc'), v: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
      fc.record({ t: fc.constant('str'), v: fc.string() }),
      fc.record({ t: fc.constant('nul'), v: fc.string().filter((s) => !s.includes('\0')) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        const w = new PayloadWriter(1);
        for (const o of ops) {
          if (o.t === 'u64') w.u64(o.v as bigint);
          else if (o.t === 'lenenc') w.lenencInt(o.v as bigint);
          else if (o.t === 'str') w.lenencString(o.v as string);
          else if (o.t === 'nul') w.nulString(o.v as string);
          else (w[o.t as 'u8'] as (v: number) => PayloadWriter).call(w, o.v as number);
        }
        const r = new PayloadReader(w.finish());
        for (const o of ops) {
          if (o.t === 'u64') expect(r.u64()).toBe(o.v);
          else if (o.t === 'lenenc') expect(r.lenencBigInt()).toBe(o.v);
          else if (o.t === 'str') expect(r.lenencString()).toBe(o.v);
          else if (o.t === 'nul') expect(r.nulString()).toBe(o.v);
          else expect((r[o.t as 'u8'] as () => number).call(r)).toBe(o.v);
        }
        expect(r.atEnd).toBe(true);
      }),
    );
  });

  it('property: reading random bytes throws only ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 10 }), (bytes, ops) => {
        const r = new PayloadReader(Buffer.from(bytes));
        try {
          for (const o of ops) [() => r.lenencInt(), () => r.lenencBytesOrNull(), () => r.nulString(), () => r.u32(), () => r.lenencBigInt(), () => r.u64Number(), () => r.lenencString()][o]();
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }),
    );
  });
});
