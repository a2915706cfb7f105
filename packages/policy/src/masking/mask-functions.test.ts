import fc from 'fast-check';
import type { MaskFunction } from '../model.js';
import { HmacSha256 } from './hmac-sha256.js';
import { compileMask, maskEmail, maskHash, maskPartial, maskRedact, maskValue, redactText, type MaskOptions } from './mask-functions.js';
import { VALID, anyText, inputBytes, validFor } from './test-support.js';
import { ALL_TYPE_HINTS, TYPE_HINT_NAMES, TypeHint } from './type-hint.js';
import { isWellFormedUtf8 } from './utf8.js';

const KEY = 'test-key-0123456789abcdef';
const hmac = new HmacSha256(KEY);
const opts: MaskOptions = { hashKey: KEY };
const mask = (fn: MaskFunction, v: string, hint: TypeHint, o: MaskOptions = {}) => maskValue(fn, v, hint, { ...opts, ...o });
const b = (s: string) => Buffer.from(s, 'utf8');
const RUNS = { seed: 42, numRuns: 300 };

describe('redact', () => {
  it.each([
    [TypeHint.Text, 'alice', '[redacted]'],
    [TypeHint.Int4, '42', '0'],
    [TypeHint.Int8, '-9223372036854775808', '0'],
    [TypeHint.Numeric, '1234.56', '0'],
    [TypeHint.Float8, '1.5e+20', '0'],
    [TypeHint.Bool, 't', 'f'],
    [TypeHint.Date, '1987-06-15', '1970-01-01'],
    [TypeHint.Timestamp, '2024-05-17 12:34:56', '1970-01-01 00:00:00'],
    [TypeHint.TimestampTz, '2024-05-17 12:34:56+02', '1970-01-01 00:00:00+00'],
    [TypeHint.Time, '12:34:56', '00:00:00'],
    [TypeHint.TimeTz, '12:34:56+05:30', '00:00:00+00'],
    [TypeHint.Interval, '1 day 02:03:04', '00:00:00'],
    [TypeHint.Uuid, '550e8400-e29b-41d4-a716-446655440000', '00000000-0000-0000-0000-000000000000'],
    [TypeHint.Json, '{"email":"a@b.c"}', '"[redacted]"'],
    [TypeHint.Jsonb, '[1,2]', '"[redacted]"'],
    [TypeHint.Bytea, '\\x0102', '\\x5b72656461637465645d'],
    [TypeHint.Inet, '192.168.1.7', '0.0.0.0'],
    [TypeHint.Cidr, '10.0.0.0/8', '0.0.0.0/0'],
    [TypeHint.MacAddr, '08:00:2b:01:02:03', '00:00:00:00:00:00'],
    [TypeHint.BitString, '10110', '00000'],
    [TypeHint.Year, '2024', '1970'],
    [TypeHint.Array, '{a@b.com,c@d.com}', '{}'],
  ])('%s: %s → %s', (hint, v, expected) => expect(mask('redact', v, hint)).toBe(expected));

  it('Unknown types become NULL', () => expect(mask('redact', '(1,2)', TypeHint.Unknown)).toBeNull());
  it('takes a replacement for text and JSON', () => {
    expect(mask('redact', 'x', TypeHint.Text, { replacement: '***' })).toBe('***');
    expect(mask('redact', 'x', TypeHint.Json, { replacement: 'gone "now"' })).toBe('"gone \\"now\\""');
    expect(mask('redact', '5', TypeHint.Int4, { replacement: '***' })).toBe('0');
  });
  it('compiled, returns one constant without allocating', () => {
    const f = compileMask('redact', TypeHint.Text);
    expect(f(b('a'))).toBe(f(b('b')));
  });
  it('MySQL BIT keeps its byte length', () => expect(maskRedact(Buffer.from([0xff, 0x01]), TypeHint.BitBytes)).toEqual(Buffer.from([0, 0])));
});

describe('partial', () => {
  it.each([
    ['4111111111111111', 0, 4, '************1111'],
    ['4111-1111-1111-1111', 0, 4, '***************1111'],
    ['alice', 1, 1, 'a***e'],
    ['Bob', 1, 0, 'B**'],
    ['Jo', 1, 1, '**'], // 2 kept of 2 would reveal everything
    ['abcd', 2, 1, '****'], // 3 kept of 4 is more than half
    ['abcd', 1, 1, 'a**d'],
    ['', 2, 2, ''],
    ['héllo wörld', 2, 2, 'hé*******ld'],
    ['😀😀😀😀😀😀', 1, 2, '😀***😀😀'],
    ['e\u0301e\u0301e\u0301', 1, 1, 'e****\u0301'], // combining marks are code points of their own
  ])('%j keep %i/%i → %j', (v, f, l, expected) => expect(mask('partial', v, TypeHint.Text, { keepFirst: f, keepLast: l })).toBe(expected));

  it('keeps the last 4 when no counts are given', () => expect(mask('partial', '5555444433332222', TypeHint.Text)).toBe('************2222'));

  it.each([
    [TypeHint.Int8, '4111111111111111', 0, 4, '0000000000001111'],
    [TypeHint.Int4, '-123456', 1, 0, '-100000'],
    [TypeHint.Numeric, '12345.678', 0, 3, '00000.678'],
    [TypeHint.Float8, '1.2345e+20', 2, 0, '1.2000e+00'],
    [TypeHint.Numeric, 'NaN', 0, 1, '0'],
    [TypeHint.Date, '1987-06-15', 4, 0, '1987-01-01'],
    [TypeHint.Date, '2024-02-29', 0, 5, '1970-01-01'], // 1970-02-29 is no date: the constant
    [TypeHint.Date, '1987-06-15', 0, 2, '1970-01-15'],
    [TypeHint.Timestamp, '2024-05-17 12:34:56.789', 4, 0, '2024-01-01 00:00:00.000'],
    [TypeHint.TimestampTz, '2024-05-17 12:34:56+02', 7, 0, '2024-05-01 00:00:00+00'],
    [TypeHint.Time, '12:34:56', 0, 2, '00:00:56'],
    [TypeHint.Uuid, '550e8400-e29b-41d4-a716-446655440000', 8, 0, '550e8400-0000-0000-0000-000000000000'],
    [TypeHint.BitString, '10110111', 2, 2, '10000011'],
    [TypeHint.Bool, 't', 0, 1, 'f'],
    [TypeHint.Inet, '192.168.1.7', 4, 0, '0.0.0.0'],
    [TypeHint.Json, '"alice@example.com"', 1, 0, '"a****************"'],
    [TypeHint.Json, '{"a":1}', 0, 0, '"*******"'],
  ])('%s %s keep %i/%i → %s', (hint, v, f, l, expected) => expect(mask('partial', v, hint, { keepFirst: f, keepLast: l })).toBe(expected));
});

describe('email', () => {
  it.each([
    ['alice@example.com', '****@example.com'],
    ['a@b.co', '****@b.co'],
    ['First.Last+tag@mail.example.co.uk', '****@mail.example.co.uk'],
    ['  padded@example.org   ', '****@example.org'],
    ['"quoted"@example.com', '[redacted]'],
    ['not an email', '[redacted]'],
    ['alice@localhost', '[redacted]'],
    ['alice@', '[redacted]'],
    ['@example.com', '[redacted]'],
    ['a@b@example.com', '[redacted]'],
    ['alice@exa mple.com', '[redacted]'],
    ['alice@xn--bcher-kva.example', '****@xn--bcher-kva.example'],
    ['josé@例え.jp', '[redacted]'],
  ])('%j → %j', (v, expected) => expect(mask('email', v, TypeHint.Text)).toBe(expected));

  it('JSON strings keep JSON', () => {
    expect(mask('email', '"bob@example.org"', TypeHint.Jsonb)).toBe('"****@example.org"');
    expect(mask('email', '{"e":"bob@example.org"}', TypeHint.Json)).toBe('"[redacted]"');
  });
  it('other types get their redact constant', () => expect(mask('email', '42', TypeHint.Int4)).toBe('0'));
});

describe('hash', () => {
  it('text: h_ and 16 hex digits, deterministic per key', () => {
    const a = mask('hash', 'alice@example.com', TypeHint.Text);
    expect(a).toMatch(/^h_[0-9a-f]{16}$/);
    expect(mask('hash', 'alice@example.com', TypeHint.Text)).toBe(a);
    expect(mask('hash', 'alice@example.com', TypeHint.Text, { hashKey: 'another-key-0123456789' })).not.toBe(a);
    expect(mask('hash', 'alice@example.co', TypeHint.Text)).not.toBe(a);
  });
  it.each([
    [TypeHint.Int1, /^\d{1,3}$/],
    [TypeHint.Int2, /^\d{1,5}$/],
    [TypeHint.Int4, /^\d{1,10}$/],
    [TypeHint.Int8, /^\d{1,19}$/],
    [TypeHint.Bool, /^[tf]$/],
    [TypeHint.Date, /^(19[7-9]\d|20[0-6]\d)-\d\d-\d\d$/],
    [TypeHint.Timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/],
    [TypeHint.TimestampTz, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00$/],
    [TypeHint.Uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/],
    [TypeHint.Json, /^"h_[0-9a-f]{16}"$/],
    [TypeHint.Bytea, /^\\x[0-9a-f]{32}$/],
    [TypeHint.Inet, /^10\.\d+\.\d+\.\d+$/],
    [TypeHint.MacAddr, /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/],
  ])('%s output shape', (hint, re) => expect(mask('hash', 'some value', hint)).toMatch(re));
  it('numeric keeps the digit shape', () => {
    expect(mask('hash', '1234.56', TypeHint.Numeric)).toMatch(/^\d{4}\.\d{2}$/);
    expect(mask('hash', '-0.5', TypeHint.Numeric)).toMatch(/^-\d\.\d$/);
    expect(mask('hash', '1.5e+20', TypeHint.Float8)).toMatch(/^\d\.\d$/);
  });
  it('needs a key of at least 16 bytes', () => {
    expect(() => compileMask('hash', TypeHint.Text)).toThrow(/key/);
    expect(() => compileMask('hash', TypeHint.Text, { hashKey: 'short' })).toThrow(/16 bytes/);
  });
  it('distinct values get distinct text hashes (no collisions among 20k)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20000; i++) seen.add(mask('hash', `user-${i}@example.com`, TypeHint.Text) as string);
    expect(seen.size).toBe(20000);
  });
});

describe('null', () => {
  it('is SQL NULL for every type', () => {
    for (const h of ALL_TYPE_HINTS) expect(compileMask('null', h)(b('x'))).toBeNull();
  });
});

// ─── properties ────────────────────────────────────────────────────────────────────────────────

const keepArb = fc.record({ keepFirst: fc.integer({ min: 0, max: 8 }), keepLast: fc.integer({ min: 0, max: 8 }) });
const FUNCTIONS: MaskFunction[] = ['redact', 'partial', 'email', 'hash', 'null'];

describe('property: output is valid for the column type', () => {
  for (const hint of ALL_TYPE_HINTS) {
    it(`${TYPE_HINT_NAMES[hint]}: server values and garbage alike`, () => {
      const input = fc.oneof({ weight: 4, arbitrary: VALID[hint].map((s) => inputBytes(hint, s)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)) });
      fc.assert(
        fc.property(input, fc.constantFrom(...FUNCTIONS), keepArb, (v, fn, keep) => {
          const out = compileMask(fn, hint, { ...opts, ...keep })(v);
          return fn === 'null' ? out === null : validFor(hint, out, v);
        }),
        RUNS,
      );
    });
  }
});

describe('property: hash', () => {
  it('is deterministic per key and differs between keys', () => {
    const other = new HmacSha256('other-key-0123456789abcdef');
    fc.assert(
      fc.property(fc.constantFrom(...ALL_TYPE_HINTS.filter((h) => h !== TypeHint.Unknown && h !== TypeHint.Array)), anyText, (hint, s) => {
        const v = b(s);
        const a = maskHash(v, hint, hmac) as Buffer;
        expect(maskHash(Buffer.from(v), hint, new HmacSha256(KEY))).toEqual(a);
        // a second key agrees only by chance on the small types
        if (hint === TypeHint.Text || hint === TypeHint.Uuid || hint === TypeHint.Bytea) expect(maskHash(v, hint, other)).not.toEqual(a);
      }),
      RUNS,
    );
  });
});

describe('property: the original never shows', () => {
  // values of 4+ characters; a value that is part of the fixed token (e.g. "dact") trivially shows
  const longText = anyText.filter((s) => [...s].length >= 4 && !'[redacted]'.includes(s) && !'"[redacted]"'.includes(s));
  for (const fn of ['redact', 'email', 'hash'] as const) {
    it(`${fn} over text and JSON`, () => {
      fc.assert(
        fc.property(longText, fc.constantFrom(TypeHint.Text, TypeHint.Json), (s, hint) => {
          const out = mask(fn, s, hint);
          return out === null || !out.includes(s);
        }),
        RUNS,
      );
    });
  }
  it('email keeps only the domain', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (e) => {
        const at = e.lastIndexOf('@');
        const local = e.slice(0, at);
        const out = mask('email', e, TypeHint.Text) as string;
        expect(out === '[redacted]' || out === `****@${e.slice(at + 1)}`).toBe(true);
        if (!/^\*+$/.test(local)) expect(out.includes(e)).toBe(false);
      }),
      RUNS,
    );
  });
  it('partial reveals at most the kept ends, never more than half', () => {
    const wellFormed = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme-composite', maxLength: 20 }));
    fc.assert(
      fc.property(wellFormed, keepArb, (s, { keepFirst, keepLast }) => {
        const cps = [...s];
        const out = [...(mask('partial', s, TypeHint.Text, { keepFirst, keepLast }) as string)];
        expect(out.length).toBe(cps.length);
        const shown = keepFirst + keepLast <= cps.length >>> 1 ? [keepFirst, keepLast] : [0, 0];
        expect(shown[0] + shown[1]).toBeLessThanOrEqual(cps.length >>> 1);
        expect(out.slice(0, shown[0])).toEqual(cps.slice(0, shown[0]));
        expect(out.slice(cps.length - shown[1])).toEqual(cps.slice(cps.length - shown[1]));
        expect(out.slice(shown[0], cps.length - shown[1]).every((c) => c === '*')).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('property: idempotence', () => {
  it('redact, email and partial applied twice change nothing more', () => {
    const hintAndValue = fc.constantFrom(...ALL_TYPE_HINTS).chain((h) => fc.tuple(fc.constant(h), VALID[h]));
    fc.assert(
      fc.property(hintAndValue, fc.constantFrom<MaskFunction>('redact', 'email', 'partial'), keepArb, fc.context(), ([hint, s], fn, keep, ctx) => {
        const once = compileMask(fn, hint, keep)(inputBytes(hint, s));
        if (once === null) return true;
        const twice = compileMask(fn, hint, keep)(once);
        ctx.log(`${TYPE_HINT_NAMES[hint]} ${fn} ${JSON.stringify(s)} → ${once.toString()} → ${twice?.toString()}`);
        // JSON partial masks the JSON text of a non-string once, then the string: stable from the second pass
        if (fn === 'partial' && (hint === TypeHint.Json || hint === TypeHint.Jsonb)) return true;
        return twice !== null && twice.equals(once);
      }),
      RUNS,
    );
  });
});

describe('property: code-point safety', () => {
  it('no function turns any input into malformed UTF-8 (text, JSON), and partial never splits a character', () => {
    const bytes = fc.oneof(anyText.map(b), fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)));
    fc.assert(
      fc.property(bytes, fc.constantFrom<MaskFunction>('redact', 'partial', 'email', 'hash'), fc.constantFrom(TypeHint.Text, TypeHint.Json, TypeHint.Jsonb), keepArb, (v, fn, hint, keep) => {
        const out = compileMask(fn, hint, { ...opts, ...keep })(v);
        return out !== null && isWellFormedUtf8(out);
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });
  it('partial over raw bytes: kept malformed bytes become *', () => {
    expect(maskPartial(Buffer.from([0xff, 0x61, 0x62, 0x63, 0x64, 0xc3]), TypeHint.Text, 1, 1)!.toString('latin1')).toBe('******');
    expect(maskPartial(Buffer.from([0xff, 0x61, 0x62, 0x63, 0x64, 0xc3]), TypeHint.Text, 2, 0)!.toString('latin1')).toBe('*a****');
    expect(maskEmail(Buffer.from([0xff, 0x40, 0x61, 0x2e, 0x63, 0x6f]), TypeHint.Text)?.toString()).toBe('****@a.co');
  });
});

describe('redactText', () => {
  it('has a constant (or NULL, or length-dependent) for every hint', () => {
    for (const h of ALL_TYPE_HINTS) {
      const t = redactText(h);
      if (typeof t === 'string') expect(validFor(h, Buffer.from(t))).toBe(true);
      else expect([TypeHint.Unknown, TypeHint.BitString, TypeHint.BitBytes]).toContain(h);
    }
  });
});
