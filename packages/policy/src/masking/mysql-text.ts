/**
 * Masking for MySQL text-protocol values (COM_QUERY result rows): each field is a length-encoded
 * string holding the value's text in the column's character set, or 0xfb for NULL.
 *
 * The mask functions of {@link compileMask} already speak the MySQL text forms of most types
 * (integers, DECIMAL, FLOAT/DOUBLE, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, `HH:MM:SS`, YEAR, BIT bytes,
 * JSON, strings); this adapter fixes what differs, per column (see {@link MysqlColumnType}):
 * - TINYINT(1), which drivers may read as a boolean: `0` / `1` (Postgres' `f` / `t` otherwise);
 * - integers never become `-0`; ZEROFILL columns keep their width; every masked integer is in the
 *   column's range, signed or UNSIGNED (hash gives 0..the signed maximum, partial zeroes digits);
 * - DECIMAL(p,s): `redact` keeps the scale (`0.00`);
 * - DATETIME(n)/TIMESTAMP(n)/TIME(n): exactly n fractional digits, as the server sends them;
 * - TIMESTAMP: a masked value stays inside TIMESTAMP's range in any session time zone
 *   (1970-01-02 .. 2038-01-16; redact gives 1970-01-02 00:00:00, hash folds its dates into the range);
 * - BIT(n): masked bits above n are cleared, so the value fits the column;
 * - binary strings (character set 63: BINARY, VARBINARY, BLOB): bytes, never read as UTF-8; partial
 *   keeps bytes (not characters), and an output never exceeds the column's length;
 * - JSON (and MariaDB columns whose extended metadata says json): always a JSON value;
 * - GEOMETRY, VECTOR and unknown types: SQL NULL whatever the function (fail closed).
 * ENUM and SET columns are text to every driver (they arrive as strings, flagged ENUM/SET): a masked
 * value is the function's text output, which is not a member of the ENUM (nothing masked looks like a
 * real member); drivers still decode it as the string it is.
 *
 * A masker takes the field's bytes without their length prefix and returns the masked bytes, or
 * `null` for SQL NULL (the row rebuilder writes 0xfb): see {@link rewriteMysqlTextRow}. Text columns
 * are not cut to the column's length: drivers read strings of any length.
 */
import type { MaskFunction } from '../model.js';
import { compileMask, DEFAULT_REPLACEMENT, maskEmail, maskHash, maskNull, redactText, type MaskOptions, type ValueMasker } from './mask-functions.js';
import { ProtocolError, rebuildTextRow, RowFields, scanTextRow } from '@sqlwarden/wire-mysql';
import { fixedDecimals, MysqlColumnFlag, mysqlColumnHint, mysqlValueKind, MysqlValueKind, type MysqlColumnType } from './mysql-column.js';
import { HmacSha256 } from './hmac-sha256.js';
import { formatDate, parseIsoDate } from './temporal.js';
import { TypeHint } from './type-hint.js';

const toNull: ValueMasker = () => null;
const ZERO = Buffer.from('0', 'latin1');
const ONE = Buffer.from('1', 'latin1');
const ZERO_TIME = Buffer.from('00:00:00', 'latin1');

/** TIMESTAMP's safe range in days from 1970-01-01: 1970-01-02 .. 2038-01-16 (the type's is 1970-01-01 00:00:01 .. 2038-01-19 03:14:07 UTC). */
export const MYSQL_TIMESTAMP_MIN_DAY = 1;
export const MYSQL_TIMESTAMP_MAX_DAY = 24852;

/** `-0`, `-000`, `-0.00`, `-0e0`: the sign dropped (drivers would read -0). */
function dropNegativeZero(v: Buffer): Buffer {
  if (v.length < 2 || v[0] !== 0x2d) return v;
  for (let i = 1; i < v.length; i++) {
    const c = v[i]!;
    if (c >= 0x31 && c <= 0x39) return v;
    if (c === 0x65 || c === 0x45) break; // the exponent's digits do not make it non-zero
  }
  return v.subarray(1);
}

/** ZEROFILL: left-padded with zeros to the display width. */
function zeroFill(v: Buffer, width: number): Buffer {
  if (v.length >= width) return v;
  const out = Buffer.alloc(width, 0x30);
  v.copy(out, width - v.length);
  return out;
}

/** A temporal text with exactly `d` fractional-second digits (undefined: as it is). */
function withFraction(v: Buffer, d: number | undefined): Buffer {
  if (d === undefined) return v;
  let dot = -1;
  for (let i = v.length - 1; i >= 0 && i >= v.length - 8; i--) {
    if (v[i] === 0x2e) {
      dot = i;
      break;
    }
  }
  const base = dot < 0 ? v.length : dot;
  const have = dot < 0 ? 0 : v.length - dot - 1;
  if (have === d) return v;
  if (d === 0) return v.subarray(0, base);
  const out = Buffer.alloc(base + 1 + d, 0x30);
  v.copy(out, 0, 0, base);
  out[base] = 0x2e;
  if (dot >= 0) v.copy(out, base + 1, dot + 1, dot + 1 + Math.min(have, d));
  return out;
}

/** A DATETIME text moved into TIMESTAMP's safe range: earlier days become the first, later ones fold in. */
function intoTimestampRange(v: Buffer): Buffer {
  const s = v.toString('latin1');
  const days = parseIsoDate(s);
  if (days === undefined) return v;
  if (days >= MYSQL_TIMESTAMP_MIN_DAY && days <= MYSQL_TIMESTAMP_MAX_DAY) return v;
  const fixed = days < MYSQL_TIMESTAMP_MIN_DAY ? MYSQL_TIMESTAMP_MIN_DAY : MYSQL_TIMESTAMP_MIN_DAY + (days % MYSQL_TIMESTAMP_MAX_DAY);
  return Buffer.from(formatDate(fixed) + s.slice(10), 'latin1');
}

function cap(v: Buffer | null, max: number): Buffer | null {
  return v !== null && max > 0 && v.length > max ? v.subarray(0, max) : v;
}

/** Binary strings: keeps the first and last bytes, `*` for the others; everything when they are more than half. */
function partialBytes(v: Buffer, keepFirst: number, keepLast: number): Buffer {
  const n = v.length;
  if (keepFirst + keepLast > n >>> 1) keepFirst = keepLast = 0;
  const out = Buffer.alloc(n, 0x2a);
  v.copy(out, 0, 0, keepFirst);
  v.copy(out, n - keepLast, n - keepLast);
  return out;
}

function count(n: number | undefined): number {
  return n === undefined || !Number.isFinite(n) || n < 0 ? 0 : Math.floor(n);
}

function hmacOf(k: MaskOptions['hashKey']): HmacSha256 {
  if (k instanceof HmacSha256) return k;
  if (k === undefined || k.length < 16) throw new Error(k === undefined ? 'the hash mask needs a key (hashKey)' : 'the hash mask key must be at least 16 bytes');
  return new HmacSha256(k);
}

/** Bytes columns (character set 63). */
function compileBytes(fn: MaskFunction, col: MysqlColumnType, opts: MaskOptions): ValueMasker {
  const max = col.columnLength ?? 0;
  switch (fn) {
    case 'null':
      return maskNull;
    case 'redact': {
      const c = cap(Buffer.from(opts.replacement ?? DEFAULT_REPLACEMENT, 'utf8'), max);
      return () => c;
    }
    case 'partial': {
      const none = opts.keepFirst === undefined && opts.keepLast === undefined;
      const first = count(opts.keepFirst);
      const last = none ? 4 : count(opts.keepLast);
      return (v) => partialBytes(v, first, last);
    }
    case 'email':
      return (v) => cap(maskEmail(v, TypeHint.Text), max);
    case 'hash': {
      const key = hmacOf(opts.hashKey);
      return (v) => cap(maskHash(v, TypeHint.Text, key), max);
    }
  }
}

/**
 * One MySQL text-protocol column's masking, compiled once per column: the field's bytes (no length
 * prefix) in, the masked bytes or `null` (SQL NULL) out. Returned Buffers may be shared constants:
 * copy them, never write into them. Throws for `hash` without a key of at least 16 bytes.
 */
export function compileMysqlTextMask(fn: MaskFunction, col: MysqlColumnType, opts: MaskOptions = {}): ValueMasker {
  const kind = mysqlValueKind(col);
  if (fn === 'null') return maskNull;
  switch (kind) {
    case MysqlValueKind.Null:
    case MysqlValueKind.Opaque:
      return toNull;
    case MysqlValueKind.Boolean: {
      const m = compileMask(fn, TypeHint.Bool, opts);
      return (v) => (m(v)?.[0] === 0x74 ? ONE : ZERO);
    }
    case MysqlValueKind.Integer: {
      const m = compileMask(fn, mysqlColumnHint(col), opts);
      const width = ((col.flags ?? 0) & MysqlColumnFlag.Zerofill) !== 0 ? (col.columnLength ?? 0) : 0;
      if (width > 1) return (v) => zeroFill(dropNegativeZero(m(v) ?? ZERO), width);
      return (v) => dropNegativeZero(m(v) ?? ZERO);
    }
    case MysqlValueKind.Year:
      return compileMask(fn, TypeHint.Year, opts);
    case MysqlValueKind.Decimal: {
      const scale = fixedDecimals(col, 30);
      if (fn === 'redact') {
        const c = Buffer.from(scale ? `0.${'0'.repeat(scale)}` : '0', 'latin1');
        return () => c;
      }
      const m = compileMask(fn, TypeHint.Numeric, opts);
      return (v) => dropNegativeZero(m(v) ?? ZERO);
    }
    case MysqlValueKind.Float:
    case MysqlValueKind.Double: {
      const m = compileMask(fn, kind === MysqlValueKind.Float ? TypeHint.Float4 : TypeHint.Float8, opts);
      return (v) => dropNegativeZero(m(v) ?? ZERO);
    }
    case MysqlValueKind.Date:
      return compileMask(fn, TypeHint.Date, opts);
    case MysqlValueKind.DateTime:
    case MysqlValueKind.Timestamp: {
      const m = compileMask(fn, TypeHint.Timestamp, opts);
      const d = fixedDecimals(col, 6);
      const fallback = Buffer.from(redactText(TypeHint.Timestamp) as string, 'latin1');
      if (kind === MysqlValueKind.DateTime) return (v) => withFraction(m(v) ?? fallback, d);
      return (v) => withFraction(intoTimestampRange(m(v) ?? fallback), d);
    }
    case MysqlValueKind.Time: {
      const m = compileMask(fn, TypeHint.Time, opts);
      const d = fixedDecimals(col, 6);
      return (v) => withFraction(m(v) ?? ZERO_TIME, d);
    }
    case MysqlValueKind.Bit: {
      const m = compileMask(fn, TypeHint.BitBytes, opts);
      const bits = col.columnLength ?? 0;
      const top = bits > 0 && bits % 8 !== 0 ? (1 << bits % 8) - 1 : 0xff;
      const bytes = bits > 0 ? (bits + 7) >>> 3 : 0;
      return (v) => {
        const out = m(v);
        if (out === null) return null;
        // the maskers of BitBytes return a new buffer of the value's length
        if (bytes > 0 && out.length === bytes) out[0]! &= top;
        return out;
      };
    }
    case MysqlValueKind.Json:
      return compileMask(fn, TypeHint.Json, opts);
    case MysqlValueKind.Uuid:
      return compileMask(fn, TypeHint.Uuid, opts);
    case MysqlValueKind.Text:
      return compileMask(fn, TypeHint.Text, opts);
    case MysqlValueKind.Bytes:
      return compileBytes(fn, col, opts);
  }
}

/**
 * A text-protocol row (ProtocolText::ResultsetRow: one length-encoded string or 0xfb per column)
 * with the masked columns rewritten. `maskers[i]` masks column i (absent or null: passed as it is).
 * Returns `payload` itself when nothing changed, a new payload otherwise, or `null` when the payload
 * is not a row of `columnCount` fields (the engine must then fail closed: not forward it). The new
 * payload can be longer than the old one: the engine frames it (16 MiB continuation packets).
 */
export function rewriteMysqlTextRow(payload: Buffer, columnCount: number, maskers: readonly (ValueMasker | null | undefined)[]): Buffer | null {
  const fields = tryMysqlScan(() => scanTextRow(payload, columnCount, scratch));
  if (!fields) return null;
  let changed: (Buffer | null)[] | undefined;
  for (let i = 0; i < columnCount; i++) {
    const m = maskers[i];
    const value = m ? fields.valueOf(payload, i) : null;
    if (!m || value === null) continue;
    const out = m(value);
    if (out !== value) (changed ??= [])[i] = out;
  }
  return changed ? rebuildTextRow(payload, fields, changed) : payload;
}

/** The rows' offsets, reused from row to row (rewriting is synchronous and maskers never rewrite rows). */
const scratch = new RowFields();

/** What a wire-mysql scan returns, or undefined when it finds the bytes malformed (ProtocolError). */
export function tryMysqlScan<T>(scan: () => T): T | undefined {
  try {
    return scan();
  } catch (e) {
    if (e instanceof ProtocolError) return undefined;
    throw e;
  }
}
