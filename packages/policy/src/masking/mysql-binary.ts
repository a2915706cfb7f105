/**
 * Masking for MySQL binary-protocol values: the rows of a COM_STMT_EXECUTE result set
 * (ProtocolBinary::ResultsetRow: a 0x00 header, a NULL bitmap with an offset of 2 bits, then the
 * non-NULL values one after the other, each in its type's binary form):
 * - TINY 1 byte, SHORT and YEAR 2, LONG and INT24 4, LONGLONG 8, FLOAT 4, DOUBLE 8, little-endian,
 *   signed or unsigned by the column's UNSIGNED flag;
 * - DATE, DATETIME, TIMESTAMP: a length byte (0, 4, 7 or 11), then year (2), month, day, hour, minute,
 *   second, microseconds (4);
 * - TIME: a length byte (0, 8 or 12), then is-negative, days (4), hour, minute, second, microseconds (4);
 * - everything else (DECIMAL, strings, ENUM, SET, BLOBs, BIT, JSON, GEOMETRY): a length-encoded string.
 *
 * A field is decoded to the text the text protocol would carry for it, masked by
 * {@link compileMysqlTextMask} (so `hash` gives the same output in both protocols for everything but
 * floats, whose text is JavaScript's shortest round-trip form, not necessarily the server's), and
 * encoded back in the same type and width: a masked integer stays an integer of the column's width and
 * signedness, a masked date a valid date.
 *
 * THE MASKER CONTRACT: a binary masker takes the whole encoded field as it sits in the row — the
 * length prefix of a length-encoded string, the length byte of a temporal value, the fixed bytes of a
 * number — and returns the whole encoded field that replaces it, or `null`: the column becomes NULL,
 * so the row rebuilder sets the column's bit in the NULL bitmap (bit i + 2) and writes no value for it.
 * A field that does not decode masks to `null` (fail closed). {@link rewriteMysqlBinaryRow} does all of
 * that for a whole row.
 *
 * The layouts, the byte codecs and the row scan and rebuild are wire-mysql's (`binaryValueEnd`,
 * `decodeBinaryValue`, `encodeBinaryValue`, `scanBinaryRow`, `spliceBinaryRow`); what is masking's own
 * is the text each value has in the text protocol (ZEROFILL, fraction digits, float forms), and what
 * counts as a valid value of the column (integer ranges of its width and sign, YEAR, TIME's range).
 */
import type { MaskFunction } from '../model.js';
import {
  BinaryLayout,
  binaryLayout,
  binaryValueEnd,
  decodeBinaryValue,
  encodeBinaryValue,
  encodeLenencString,
  RowFields,
  scanBinaryRow,
  spliceBinaryRow,
  type MysqlDateTime,
  type MysqlTime,
} from '@sqlwarden/wire-mysql';
import type { MaskOptions, ValueMasker } from './mask-functions.js';
import { fixedDecimals, MysqlColumnFlag, MysqlType, mysqlValueKind, MysqlValueKind, type MysqlColumnType } from './mysql-column.js';
import { compileMysqlTextMask, tryMysqlScan } from './mysql-text.js';

/**
 * The end of the binary-protocol value of a column of type `type` that starts at `offset` in `row`,
 * or -1 when it runs past the row or is not a value of the type (wire-mysql's `binaryValueEnd`: a
 * temporal length byte other than 0/4/7/11, or 0/8/12 for TIME; a NULL length prefix). The NULL
 * type's value takes no bytes.
 */
export function mysqlBinaryFieldEnd(type: number, row: Uint8Array, offset: number): number {
  const b = Buffer.isBuffer(row) ? row : Buffer.from(row.buffer, row.byteOffset, row.byteLength);
  return tryMysqlScan(() => binaryValueEnd(b, offset, b.length, type)) ?? -1;
}

/** True when the column's binary value is a length-encoded string (the same bytes as its text value). */
export function mysqlBinaryIsString(type: number): boolean {
  return binaryLayout(type) === BinaryLayout.Lenenc;
}

/** The bytes of the length-encoded string that is exactly `field` (prefix and all), or undefined. */
function lenencPayload(field: Buffer): Buffer | undefined {
  return mysqlBinaryFieldEnd(MysqlType.VarString, field, 0) === field.length ? (decodeBinaryValue(field, MysqlType.VarString) as Buffer) : undefined;
}

/**
 * A masker of whole length-encoded fields from a masker of their bytes: a field that is not exactly
 * one length-encoded string masks to null; an unchanged value keeps the field.
 */
export function mysqlLenencMasker(inner: ValueMasker): ValueMasker {
  return (field) => {
    const v = lenencPayload(field);
    if (v === undefined) return null;
    const out = inner(v);
    return out === null ? null : out === v ? field : encodeLenencString(out);
  };
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

function unsigned(col: MysqlColumnType): boolean {
  return ((col.flags ?? 0) & MysqlColumnFlag.Unsigned) !== 0;
}

/** `.ffffff` for microseconds: the column's fixed digits, or (not fixed) six without trailing zeros. */
function fraction(micros: number, digits: number | undefined): string {
  if (digits === 0) return '';
  if (digits === undefined) return micros === 0 ? '' : `.${pad(micros, 6).replace(/0+$/, '')}`;
  return `.${pad(micros, 6).slice(0, digits)}`;
}

/** The shortest decimal that reads back as the same float32. */
function float4Text(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  for (let p = 1; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return floatText(Number(s));
  }
  return floatText(x);
}

/** JavaScript's number text with MySQL's exponent (`1e21`, not `1e+21`). */
function floatText(x: number): string {
  return String(x).replace('e+', 'e');
}

/**
 * The text-protocol value of a binary field (the whole encoded field, see the masker contract), or
 * undefined when it does not decode as the column's type.
 */
export function mysqlBinaryToText(col: MysqlColumnType, field: Buffer): Buffer | undefined {
  const t = col.type;
  if (mysqlBinaryIsString(t)) return lenencPayload(field);
  if (t === MysqlType.Null || mysqlBinaryFieldEnd(t, field, 0) !== field.length) return undefined;
  // TIME's is_negative is 0 or 1 (decodeBinaryValue reads any other byte as positive)
  if (t === MysqlType.Time && field[0]! >= 8 && field[1]! > 1) return undefined;
  const v = decodeBinaryValue(field, t, unsigned(col));
  const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (t === MysqlType.Year) return ascii(pad(Number(v), 4));
    if (t === MysqlType.Float || t === MysqlType.Double) {
      const x = Number(v);
      return Number.isFinite(x) ? ascii(t === MysqlType.Float ? float4Text(x) : floatText(x)) : undefined;
    }
    // ZEROFILL: the text protocol pads to the display width
    const width = ((col.flags ?? 0) & MysqlColumnFlag.Zerofill) !== 0 ? (col.columnLength ?? 0) : 0;
    return ascii(width > 0 ? String(v).padStart(width, '0') : String(v));
  }
  if (t === MysqlType.Time) {
    const tm = v as MysqlTime;
    if (tm.minutes > 59 || tm.seconds > 59 || tm.microseconds > 999999) return undefined;
    const hours = tm.days * 24 + tm.hours;
    return ascii(`${tm.negative ? '-' : ''}${pad(hours, 2)}:${pad(tm.minutes, 2)}:${pad(tm.seconds, 2)}${fraction(tm.microseconds, fixedDecimals(col, 6))}`);
  }
  // DATE, DATETIME, TIMESTAMP
  const d = v as MysqlDateTime;
  const date = `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}`;
  if (t === MysqlType.Date || t === MysqlType.NewDate) return ascii(date);
  if (d.microsecond > 999999) return undefined;
  return ascii(`${date} ${pad(d.hour, 2)}:${pad(d.minute, 2)}:${pad(d.second, 2)}${fraction(d.microsecond, fixedDecimals(col, 6))}`);
}

function digitsAt(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** `.f{1,6}` at `i` to the end of `s`: microseconds, or -1. */
function microsAt(s: string, i: number): number {
  if (i === s.length) return 0;
  const n = s.length - i - 1;
  if (s.charCodeAt(i) !== 0x2e || n < 1 || n > 6) return -1;
  const f = digitsAt(s, i + 1, n);
  return f < 0 ? -1 : f * 10 ** (6 - n);
}

const INT_RANGE: Partial<Record<number, readonly [bigint, bigint, bigint]>> = {
  // type: [signed min, signed max, unsigned max]
  [MysqlType.Tiny]: [-128n, 127n, 255n],
  [MysqlType.Short]: [-32768n, 32767n, 65535n],
  [MysqlType.Int24]: [-8388608n, 8388607n, 16777215n],
  [MysqlType.Long]: [-2147483648n, 2147483647n, 4294967295n],
  [MysqlType.LongLong]: [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 64n - 1n],
};

function integerText(s: string): bigint | undefined {
  const neg = s.charCodeAt(0) === 0x2d;
  if (s.length === (neg ? 1 : 0)) return undefined;
  for (let i = neg ? 1 : 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return BigInt(s);
}

/** The binary field (whole, see the masker contract) of a text value, or undefined when it is not a valid value of the column's type. */
/** The binary field (whole, see the masker contract) of a text value, or undefined when it is not a valid value of the column's type. */
export function mysqlTextToBinary(col: MysqlColumnType, text: Buffer): Buffer | undefined {
  const t = col.type;
  if (mysqlBinaryIsString(t)) return encodeLenencString(text);
  const s = text.toString('latin1');
  switch (t) {
    case MysqlType.Tiny:
    case MysqlType.Short:
    case MysqlType.Long:
    case MysqlType.Int24:
    case MysqlType.LongLong: {
      const x = integerText(s);
      const r = INT_RANGE[t]!;
      const u = unsigned(col);
      if (x === undefined || x < (u ? 0n : r[0]) || x > (u ? r[2] : r[1])) return undefined;
      return encodeBinaryValue(t, x, u);
    }
    case MysqlType.Year: {
      const x = integerText(s);
      if (x === undefined || (x !== 0n && (x < 1901n || x > 2155n))) return undefined;
      return encodeBinaryValue(t, Number(x));
    }
    case MysqlType.Float:
    case MysqlType.Double: {
      const x = Number(s);
      if (s.length === 0 || !Number.isFinite(x) || (t === MysqlType.Float && !Number.isFinite(Math.fround(x)))) return undefined;
      return encodeBinaryValue(t, x);
    }
    case MysqlType.Time: {
      const neg = s.charCodeAt(0) === 0x2d ? 1 : 0;
      const colon = s.indexOf(':');
      const hl = colon - neg;
      if (hl < 2 || hl > 3 || s.charCodeAt(colon + 3) !== 0x3a) return undefined;
      const h = digitsAt(s, neg, hl);
      const mi = digitsAt(s, colon + 1, 2);
      const se = digitsAt(s, colon + 4, 2);
      const us = microsAt(s, colon + 6);
      if (h < 0 || h > 838 || mi < 0 || mi > 59 || se < 0 || se > 59 || us < 0) return undefined;
      // a zero time is sent as zero bytes, its sign dropped
      const negative = neg === 1 && (h !== 0 || mi !== 0 || se !== 0 || us !== 0);
      return encodeBinaryValue(t, { negative, days: Math.floor(h / 24), hours: h % 24, minutes: mi, seconds: se, microseconds: us });
    }
    default: {
      // DATE, DATETIME, TIMESTAMP: `YYYY-MM-DD[ HH:MM:SS[.f]]`
      const dateOnly = t === MysqlType.Date || t === MysqlType.NewDate;
      if (s.length < 10 || s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d) return undefined;
      const y = digitsAt(s, 0, 4);
      const m = digitsAt(s, 5, 2);
      const d = digitsAt(s, 8, 2);
      if (y < 0 || m < 0 || m > 12 || d < 0 || d > 31) return undefined;
      let h = 0;
      let mi = 0;
      let se = 0;
      let us = 0;
      if (dateOnly) {
        if (s.length !== 10) return undefined;
      } else if (s.length > 10) {
        if (s.length < 19 || s.charCodeAt(10) !== 0x20 || s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return undefined;
        h = digitsAt(s, 11, 2);
        mi = digitsAt(s, 14, 2);
        se = digitsAt(s, 17, 2);
        us = microsAt(s, 19);
        if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 || us < 0) return undefined;
      }
      return encodeBinaryValue(t, { year: y, month: m, day: d, hour: h, minute: mi, second: se, microsecond: us });
    }
  }
}

const toNull: ValueMasker = () => null;

/**
 * One binary-protocol column's masking, compiled once per column (see the masker contract above):
 * the whole encoded field in, the whole encoded masked field out, or `null` (set the NULL bit).
 * Returned Buffers may be shared constants: copy them, never write into them.
 */
export function compileMysqlBinaryMask(fn: MaskFunction, col: MysqlColumnType, opts: MaskOptions = {}): ValueMasker {
  const kind = mysqlValueKind(col);
  if (fn === 'null' || kind === MysqlValueKind.Null || kind === MysqlValueKind.Opaque) return toNull;
  const text = compileMysqlTextMask(fn, col, opts);
  if (mysqlBinaryIsString(col.type)) return mysqlLenencMasker(text);
  if (fn === 'redact' && kind !== MysqlValueKind.Bit) {
    // the same value whatever the input: encoded once
    const masked = text(mysqlDefaultText(col));
    const constant = masked ? (mysqlTextToBinary(col, masked) ?? null) : null;
    return (field) => (mysqlBinaryFieldEnd(col.type, field, 0) === field.length ? constant : null);
  }
  return (field) => {
    const v = mysqlBinaryToText(col, field);
    if (v === undefined) return null;
    const out = text(v);
    return out === null ? null : (mysqlTextToBinary(col, out) ?? null);
  };
}

/** Some valid text value of a fixed-size or temporal column (an input for constant maskers). */
function mysqlDefaultText(col: MysqlColumnType): Buffer {
  switch (col.type) {
    case MysqlType.Date:
    case MysqlType.NewDate:
      return Buffer.from('2000-01-01', 'latin1');
    case MysqlType.DateTime:
    case MysqlType.Timestamp:
      return Buffer.from('2000-01-01 00:00:00', 'latin1');
    case MysqlType.Time:
      return Buffer.from('00:00:00', 'latin1');
    case MysqlType.Year:
      return Buffer.from('2000', 'latin1');
    default:
      return Buffer.from('0', 'latin1');
  }
}

/**
 * A binary-protocol row (the packet's payload: 0x00, the NULL bitmap, the values) with the masked
 * columns rewritten: `columns[i]` is column i's type (from the result set's column definitions),
 * `maskers[i]` its binary masker (absent or null: passed as it is). A masker returning `null` sets the
 * column's NULL bit. Returns `payload` itself when nothing changed, a new payload otherwise, or `null`
 * when the payload is not such a row (the engine must then fail closed: not forward it). The new
 * payload can be longer than the old one: the engine frames it (16 MiB continuation packets).
 */
export function rewriteMysqlBinaryRow(payload: Buffer, columns: readonly MysqlColumnType[], maskers: readonly (ValueMasker | null | undefined)[]): Buffer | null {
  const fields = tryMysqlScan(() => scanBinaryRow(payload, columns, scratch));
  if (!fields) return null;
  let changed: (Buffer | null)[] | undefined;
  for (let i = 0; i < columns.length; i++) {
    const m = maskers[i];
    if (!m || fields.isNull(i)) continue;
    const field = fields.fieldOf(payload, i);
    const out = m(field);
    if (out !== field) (changed ??= [])[i] = out;
  }
  return changed ? spliceBinaryRow(payload, fields, changed) : payload;
}

/** The rows' offsets, reused from row to row (rewriting is synchronous and maskers never rewrite rows). */
const scratch = new RowFields();
