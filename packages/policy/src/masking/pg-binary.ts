import type { MaskFunction } from '../model.js';
import { compileMask, redactText, type MaskOptions, type ValueMasker } from './mask-functions.js';
import { formatDate, formatTimeOfDay, formatTimestamp, parseIsoDate, parseIsoTimestamp, parseTimeOfDay } from './temporal.js';
import { TypeHint } from './type-hint.js';

/**
 * Masking for Postgres binary-format fields (server-side prepared statements whose Bind asked for
 * binary results). A field is decoded to the text form Postgres would have sent, masked exactly like
 * text (so `hash` gives the same result in both formats, and the same value for joins), and encoded
 * back: int2/4/8, oid, float4/8, numeric, bool, date, time, timestamp(tz), uuid, bytea, json and jsonb
 * in their binary encodings, text types as UTF-8. A type without a binary codec here, or a field that
 * does not decode, masks to SQL NULL (fail closed).
 *
 * Two text forms differ from the server's, so `hash` over them differs between the formats: floats
 * (JavaScript's shortest round-trip digits against Postgres' exponent rules, e.g. 1e+16 vs 1e16 is the
 * same; 1e-05 vs 1e-5 is not) and timestamptz (binary is UTC; text is in the session's TimeZone).
 */

/** Microseconds and days from 1970-01-01 to the Postgres epoch 2000-01-01. */
const PG_EPOCH_DAYS = 10957;
const DAY_MICROS = 86_400_000_000n;
const PG_EPOCH_MICROS = BigInt(PG_EPOCH_DAYS) * DAY_MICROS;
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/** True when the hint has a binary codec here. */
export function pgBinarySupported(hint: TypeHint): boolean {
  switch (hint) {
    case TypeHint.Text:
    case TypeHint.Json:
    case TypeHint.Jsonb:
    case TypeHint.Bytea:
    case TypeHint.Int2:
    case TypeHint.Int4:
    case TypeHint.Int8:
    case TypeHint.Oid:
    case TypeHint.Float4:
    case TypeHint.Float8:
    case TypeHint.Numeric:
    case TypeHint.Bool:
    case TypeHint.Date:
    case TypeHint.Time:
    case TypeHint.Timestamp:
    case TypeHint.TimestampTz:
    case TypeHint.Uuid:
      return true;
    default:
      return false;
  }
}

/** The text form of a binary field, or undefined when it does not decode (or the hint has no codec). */
export function decodePgBinary(hint: TypeHint, v: Buffer): string | undefined {
  const n = v.length;
  switch (hint) {
    case TypeHint.Text:
    case TypeHint.Json:
      return v.toString('utf8');
    case TypeHint.Jsonb:
      return n >= 1 && v[0] === 1 ? v.toString('utf8', 1) : undefined;
    case TypeHint.Bytea:
      return `\\x${v.toString('hex')}`;
    case TypeHint.Int2:
      return n === 2 ? String(v.readInt16BE(0)) : undefined;
    case TypeHint.Int4:
      return n === 4 ? String(v.readInt32BE(0)) : undefined;
    case TypeHint.Oid:
      return n === 4 ? String(v.readUInt32BE(0)) : undefined;
    case TypeHint.Int8:
      return n === 8 ? v.readBigInt64BE(0).toString() : undefined;
    case TypeHint.Float4:
      return n === 4 ? float4Text(v.readFloatBE(0)) : undefined;
    case TypeHint.Float8:
      return n === 8 ? floatText(v.readDoubleBE(0)) : undefined;
    case TypeHint.Numeric:
      return decodeNumeric(v);
    case TypeHint.Bool:
      return n === 1 && v[0] <= 1 ? (v[0] === 1 ? 't' : 'f') : undefined;
    case TypeHint.Date: {
      if (n !== 4) return undefined;
      const d = v.readInt32BE(0);
      if (d === 0x7fffffff) return 'infinity';
      if (d === -0x80000000) return '-infinity';
      return formatDate(d + PG_EPOCH_DAYS);
    }
    case TypeHint.Time: {
      if (n !== 8) return undefined;
      const us = v.readBigInt64BE(0);
      return us < 0n || us > DAY_MICROS ? undefined : formatTimeOfDay(Number(us));
    }
    case TypeHint.Timestamp:
    case TypeHint.TimestampTz: {
      if (n !== 8) return undefined;
      const raw = v.readBigInt64BE(0);
      if (raw === INT64_MAX) return 'infinity';
      if (raw === INT64_MIN) return '-infinity';
      const us = raw + PG_EPOCH_MICROS;
      let days = us / DAY_MICROS;
      let rem = us % DAY_MICROS;
      if (rem < 0n) {
        rem += DAY_MICROS;
        days -= 1n;
      }
      const t = formatTimestamp(Number(days), Number(rem));
      return hint === TypeHint.TimestampTz ? tzText(t) : t;
    }
    case TypeHint.Uuid: {
      if (n !== 16) return undefined;
      const h = v.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    default:
      return undefined;
  }
}

/** `+00` after the time, before a ` BC`. */
function tzText(t: string): string {
  return t.endsWith(' BC') ? `${t.slice(0, -3)}+00 BC` : `${t}+00`;
}

function floatText(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return Object.is(x, -0) ? '-0' : String(x);
}

/** The shortest decimal that reads back as the same float4. */
function float4Text(x: number): string {
  if (!Number.isFinite(x) || x === 0) return floatText(x);
  for (let p = 1; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return floatText(Number(s));
  }
  return floatText(x);
}

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;

/** numeric_send: ndigits, weight, sign, dscale, then base-10000 digits, all int16. */
function decodeNumeric(v: Buffer): string | undefined {
  if (v.length < 8) return undefined;
  const ndigits = v.readInt16BE(0);
  const weight = v.readInt16BE(2);
  const sign = v.readUInt16BE(4);
  const dscale = v.readInt16BE(6);
  if (ndigits < 0 || dscale < 0 || v.length !== 8 + ndigits * 2) return undefined;
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  if (sign !== NUMERIC_POS && sign !== NUMERIC_NEG) return undefined;
  const digit = (i: number): number => (i >= 0 && i < ndigits ? v.readInt16BE(8 + i * 2) : 0);
  for (let i = 0; i < ndigits; i++) if (digit(i) < 0 || digit(i) > 9999) return undefined;
  let s = '';
  if (weight < 0) s = '0';
  else {
    for (let i = 0; i <= weight; i++) {
      const d = digit(i);
      s += i === 0 ? String(d) : String(d).padStart(4, '0');
    }
  }
  if (dscale > 0) {
    let f = '';
    for (let i = weight + 1; f.length < dscale; i++) f += String(digit(i)).padStart(4, '0');
    s += `.${f.slice(0, dscale)}`;
  }
  return sign === NUMERIC_NEG && NONZERO.test(s) ? `-${s}` : s;
}

function encodeNumeric(t: string): Buffer | undefined {
  if (t === 'NaN' || t === 'Infinity' || t === '-Infinity') {
    const out = Buffer.alloc(8);
    out.writeUInt16BE(t === 'NaN' ? NUMERIC_NAN : t === 'Infinity' ? NUMERIC_PINF : NUMERIC_NINF, 4);
    return out;
  }
  const neg = t.charCodeAt(0) === 0x2d;
  const body = neg ? t.slice(1) : t;
  const dot = body.indexOf('.');
  const intPart = dot < 0 ? body : body.slice(0, dot);
  const fracPart = dot < 0 ? '' : body.slice(dot + 1);
  if (intPart.length === 0 || !allDigits(intPart) || !allDigits(fracPart) || (dot >= 0 && fracPart.length === 0)) return undefined;
  const dscale = fracPart.length;
  const ip = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fp = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < ip.length; i += 4) groups.push(Number(ip.slice(i, i + 4)));
  for (let i = 0; i < fp.length; i += 4) groups.push(Number(fp.slice(i, i + 4)));
  let weight = ip.length / 4 - 1;
  let first = 0;
  while (first < groups.length && groups[first] === 0) {
    first++;
    weight--;
  }
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const digits = groups.slice(first, last);
  if (digits.length === 0) weight = 0;
  const out = Buffer.alloc(8 + digits.length * 2);
  out.writeInt16BE(digits.length, 0);
  out.writeInt16BE(weight, 2);
  out.writeUInt16BE(neg && digits.length > 0 ? NUMERIC_NEG : NUMERIC_POS, 4);
  out.writeInt16BE(dscale, 6);
  digits.forEach((d, i) => out.writeInt16BE(d, 8 + i * 2));
  return out;
}

function allDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function isIntegerText(t: string): boolean {
  return t.length > 0 && allDigits(t.charCodeAt(0) === 0x2d ? t.slice(1) : t) && t !== '-';
}

/** The binary encoding of a text form (as masking produces it), or undefined when it does not encode. */
export function encodePgBinary(hint: TypeHint, t: string): Buffer | undefined {
  switch (hint) {
    case TypeHint.Text:
    case TypeHint.Json:
      return Buffer.from(t, 'utf8');
    case TypeHint.Jsonb: {
      const body = Buffer.from(t, 'utf8');
      const out = Buffer.allocUnsafe(body.length + 1);
      out[0] = 1;
      body.copy(out, 1);
      return out;
    }
    case TypeHint.Bytea:
      return t.startsWith('\\x') && t.length % 2 === 0 && HEX_TEXT.test(t.slice(2)) ? Buffer.from(t.slice(2), 'hex') : undefined;
    case TypeHint.Int2:
    case TypeHint.Int4:
    case TypeHint.Oid: {
      if (!isIntegerText(t)) return undefined;
      const x = Number(t);
      const out = Buffer.allocUnsafe(hint === TypeHint.Int2 ? 2 : 4);
      if (hint === TypeHint.Int2) {
        if (x < -32768 || x > 32767) return undefined;
        out.writeInt16BE(x, 0);
      } else if (hint === TypeHint.Int4) {
        if (x < -2147483648 || x > 2147483647) return undefined;
        out.writeInt32BE(x, 0);
      } else {
        if (x < 0 || x > 0xffffffff) return undefined;
        out.writeUInt32BE(x, 0);
      }
      return out;
    }
    case TypeHint.Int8: {
      if (!isIntegerText(t)) return undefined;
      const x = BigInt(t);
      if (x < INT64_MIN || x > INT64_MAX) return undefined;
      const out = Buffer.allocUnsafe(8);
      out.writeBigInt64BE(x, 0);
      return out;
    }
    case TypeHint.Float4:
    case TypeHint.Float8: {
      const x = Number(t);
      if (Number.isNaN(x) && t !== 'NaN') return undefined;
      const out = Buffer.allocUnsafe(hint === TypeHint.Float4 ? 4 : 8);
      if (hint === TypeHint.Float4) out.writeFloatBE(x, 0);
      else out.writeDoubleBE(x, 0);
      return out;
    }
    case TypeHint.Numeric:
      return encodeNumeric(t);
    case TypeHint.Bool:
      return t === 't' || t === 'f' ? Buffer.from([t === 't' ? 1 : 0]) : undefined;
    case TypeHint.Date: {
      const days = t.length === 10 ? parseIsoDate(t) : undefined;
      if (days === undefined) return undefined;
      const out = Buffer.allocUnsafe(4);
      out.writeInt32BE(days - PG_EPOCH_DAYS, 0);
      return out;
    }
    case TypeHint.Time: {
      const p = parseTimeOfDay(t, 0, true);
      if (!p || p.end !== t.length) return undefined;
      const out = Buffer.allocUnsafe(8);
      out.writeBigInt64BE(BigInt(p.micros), 0);
      return out;
    }
    case TypeHint.Timestamp:
    case TypeHint.TimestampTz: {
      const p = parseIsoTimestamp(t, hint === TypeHint.Timestamp ? 'none' : 'optional');
      if (!p) return undefined;
      const out = Buffer.allocUnsafe(8);
      out.writeBigInt64BE(BigInt(p.days) * DAY_MICROS + BigInt(p.micros) - BigInt(p.offset) * 1_000_000n - PG_EPOCH_MICROS, 0);
      return out;
    }
    case TypeHint.Uuid: {
      if (t.length !== 36) return undefined;
      const hex = t.slice(0, 8) + t.slice(9, 13) + t.slice(14, 18) + t.slice(19, 23) + t.slice(24);
      return UUID_HEX.test(hex) && t[8] === '-' && t[13] === '-' && t[18] === '-' && t[23] === '-' ? Buffer.from(hex, 'hex') : undefined;
    }
    default:
      return undefined;
  }
}

const HEX_TEXT = /^[0-9a-fA-F]*$/;
const UUID_HEX = /^[0-9a-fA-F]{32}$/;
const NONZERO = /[1-9]/;

const toNull: ValueMasker = () => null;

/**
 * One binary-format column's masking, compiled: binary field in, binary masked field (or SQL NULL)
 * out. `redact` is a precomputed constant; the other functions go through the text form.
 */
export function compilePgBinaryMask(fn: MaskFunction, hint: TypeHint, opts: MaskOptions = {}): ValueMasker {
  if (fn === 'null' || !pgBinarySupported(hint)) return toNull;
  if (fn === 'redact') {
    const t = redactText(hint, opts.replacement);
    const constant = typeof t === 'string' ? (encodePgBinary(hint, t) ?? null) : null;
    return () => constant;
  }
  const text = compileMask(fn, hint, opts);
  if (hint === TypeHint.Text || hint === TypeHint.Json) return text;
  return (v) => {
    const t = decodePgBinary(hint, v);
    if (t === undefined) return null;
    const masked = text(Buffer.from(t, 'utf8'));
    return masked === null ? null : (encodePgBinary(hint, masked.toString('utf8')) ?? null);
  };
}
