/** Helpers for the masking tests: what a valid text value of each type hint looks like to a driver. */
import fc from 'fast-check';
import { isValidTime, parseIsoDate, parseIsoTimestamp } from './temporal.js';
import { TypeHint } from './type-hint.js';
import { isWellFormedUtf8 } from './utf8.js';

const INT = /^-?\d+$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;
const FLOAT = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const BYTEA = /^\\x([0-9a-fA-F]{2})*$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/(\d{1,2}))?$/;
const MAC6 = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
const MAC8 = /^([0-9a-f]{2}:){7}[0-9a-f]{2}$/;

function intIn(s: string, lo: bigint, hi: bigint): boolean {
  if (!INT.test(s)) return false;
  const v = BigInt(s);
  return v >= lo && v <= hi;
}

/**
 * Whether `out` (a masked value; null = SQL NULL) is something a driver decodes for the hint.
 * `input` is the value masked, for the hints whose output keeps its length.
 */
export function validFor(hint: TypeHint, out: Buffer | null, input?: Buffer): boolean {
  if (out === null) return hint === TypeHint.Unknown;
  if (!isWellFormedUtf8(out) && hint !== TypeHint.BitBytes) return false;
  const s = out.toString('utf8');
  switch (hint) {
    case TypeHint.Text:
      return true;
    case TypeHint.Int1:
      return intIn(s, -128n, 127n);
    case TypeHint.Int2:
      return intIn(s, -32768n, 32767n);
    case TypeHint.Int3:
      return intIn(s, -8388608n, 8388607n);
    case TypeHint.Int4:
      return intIn(s, -2147483648n, 2147483647n);
    case TypeHint.Int8:
      return intIn(s, -(2n ** 63n), 2n ** 63n - 1n);
    case TypeHint.Oid:
      return intIn(s, 0n, 2n ** 32n - 1n);
    case TypeHint.Numeric:
      return NUMERIC.test(s);
    case TypeHint.Float4:
      return FLOAT.test(s) && Math.abs(Number(s)) <= 3.4028235e38;
    case TypeHint.Float8:
      return FLOAT.test(s) && Number.isFinite(Number(s));
    case TypeHint.Bool:
      return s === 't' || s === 'f';
    case TypeHint.Date:
      return s.length === 10 && parseIsoDate(s) !== undefined;
    case TypeHint.Timestamp:
      return parseIsoTimestamp(s, 'none') !== undefined;
    case TypeHint.TimestampTz:
      return parseIsoTimestamp(s, 'optional') !== undefined;
    case TypeHint.Time:
    case TypeHint.Interval:
      return isValidTime(s, false);
    case TypeHint.TimeTz:
      return isValidTime(s, true);
    case TypeHint.Uuid:
      return UUID.test(s);
    case TypeHint.Json:
    case TypeHint.Jsonb:
      try {
        JSON.parse(s);
        return true;
      } catch {
        return false;
      }
    case TypeHint.Bytea:
      return BYTEA.test(s);
    case TypeHint.Inet:
    case TypeHint.Cidr: {
      const m = IPV4.exec(s);
      if (!m || (hint === TypeHint.Cidr) !== (m[5] !== undefined)) return false;
      return [m[1], m[2], m[3], m[4]].every((o) => Number(o) <= 255) && (m[6] === undefined || Number(m[6]) <= 32);
    }
    case TypeHint.MacAddr:
      return MAC6.test(s);
    case TypeHint.MacAddr8:
      return MAC8.test(s);
    case TypeHint.BitString:
      return /^[01]*$/.test(s) && (input === undefined || out.length === input.length);
    case TypeHint.BitBytes:
      return input === undefined || out.length === input.length;
    case TypeHint.Year:
      return /^\d{4}$/.test(s) && Number(s) >= 1901 && Number(s) <= 2155;
    case TypeHint.Array:
      return s.startsWith('{') && s.endsWith('}');
    case TypeHint.Unknown:
      return false;
  }
}

// ─── fast-check arbitraries ───

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const dateArb = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
const isoDate = (d: Date) => d.toISOString().slice(0, 10);
const timeArb = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), fc.option(fc.integer({ min: 0, max: 999999 })))
  .map(([h, m, s, f]) => `${pad(h)}:${pad(m)}:${pad(s)}${f === null ? '' : `.${pad(f, 6).replace(/0+$/, '') || '0'}`}`);
const tzArb = fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 14 }), fc.option(fc.constantFrom(0, 30, 45))).map(([s, h, m]) => `${s}${pad(h)}${m === null ? '' : `:${pad(m)}`}`);
const hexBytes = fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u).toString('hex'));
/** Any text at all: code points of every plane, lone surrogates, combining marks. */
export const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme-composite', maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
);

/** Values a server would send for the hint, in its text format. */
export const VALID: Record<TypeHint, fc.Arbitrary<string>> = {
  [TypeHint.Text]: anyText,
  [TypeHint.Int1]: fc.integer({ min: -128, max: 127 }).map(String),
  [TypeHint.Int2]: fc.integer({ min: -32768, max: 32767 }).map(String),
  [TypeHint.Int3]: fc.integer({ min: -8388608, max: 8388607 }).map(String),
  [TypeHint.Int4]: fc.integer({ min: -2147483648, max: 2147483647 }).map(String),
  [TypeHint.Int8]: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  [TypeHint.Oid]: fc.integer({ min: 0, max: 0xffffffff }).map(String),
  [TypeHint.Numeric]: fc
    .tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 8 }))
    .map(([v, scale]) => {
      const neg = v < 0n;
      const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
      const s = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
      return neg ? `-${s}` : s;
    }),
  [TypeHint.Float4]: fc.float({ noDefaultInfinity: false }).map((x) => (Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : String(x))),
  [TypeHint.Float8]: fc.double().map((x) => (Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : String(x))),
  [TypeHint.Bool]: fc.constantFrom('t', 'f'),
  [TypeHint.Date]: fc.oneof(dateArb.map(isoDate), fc.constantFrom('infinity', '-infinity')),
  [TypeHint.Timestamp]: fc.tuple(dateArb, timeArb).map(([d, t]) => `${isoDate(d)} ${t}`),
  [TypeHint.TimestampTz]: fc.tuple(dateArb, timeArb, tzArb).map(([d, t, z]) => `${isoDate(d)} ${t}${z}`),
  [TypeHint.Time]: timeArb,
  [TypeHint.TimeTz]: fc.tuple(timeArb, tzArb).map(([t, z]) => t + z),
  [TypeHint.Interval]: fc.constantFrom('1 day 02:03:04', '-00:00:01', '3 mons', '1 year 2 mons 3 days', '00:00:00'),
  [TypeHint.Uuid]: fc.uuid(),
  [TypeHint.Json]: fc.json(),
  [TypeHint.Jsonb]: fc.json(),
  [TypeHint.Bytea]: hexBytes.map((h) => `\\x${h}`),
  [TypeHint.Inet]: fc.ipV4(),
  [TypeHint.Cidr]: fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([ip, n]) => `${ip}/${n}`),
  [TypeHint.MacAddr]: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((u) => [...u].map((x) => x.toString(16).padStart(2, "0")).join(':')),
  [TypeHint.MacAddr8]: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((u) => [...u].map((x) => x.toString(16).padStart(2, "0")).join(':')),
  [TypeHint.BitString]: fc.string({ unit: fc.constantFrom('0', '1'), maxLength: 64 }),
  [TypeHint.BitBytes]: fc.uint8Array({ maxLength: 8 }).map((u) => Buffer.from(u).toString('latin1')),
  [TypeHint.Year]: fc.integer({ min: 1901, max: 2155 }).map(String),
  [TypeHint.Array]: fc.array(fc.integer(), { maxLength: 5 }).map((a) => `{${a.join(',')}}`),
  [TypeHint.Unknown]: anyText,
};

export const inputBytes = (hint: TypeHint, s: string) => Buffer.from(s, hint === TypeHint.BitBytes ? 'latin1' : 'utf8');
