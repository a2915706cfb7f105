import type { MaskFunction } from '../model.js';
import { HmacSha256 } from './hmac-sha256.js';
import { formatDate, isValidTime, parseIsoDate, parseIsoTimestamp } from './temporal.js';
import { TypeHint } from './type-hint.js';
import { maskCodePoints } from './utf8.js';

/**
 * The five masking functions over one field value: the UTF-8 bytes of its text form (Postgres text
 * format, MySQL text protocol) in, the masked text form out, or `null` for SQL NULL (the engine writes
 * length -1). Output keeps the column's type, so the client's driver still decodes it: a masked int4
 * is an int4 literal in range, a masked date a valid date, and so on (see {@link TypeHint}).
 *
 * Hot path: compile once per column with {@link compileMask}; the returned function does no RegExp
 * work and allocates at most its output Buffer (redact allocates nothing). Returned Buffers may be
 * shared constants: copy them into the outgoing frame, never write into them.
 */

/** A masked field: its new bytes, or `null` for SQL NULL. */
export type MaskedValue = Buffer | null;

/** One column's masking, compiled: field bytes in, masked bytes (or SQL NULL) out. */
export type ValueMasker = (value: Buffer) => MaskedValue;

export interface MaskOptions {
  /** partial: characters kept at the start (default 0) */
  keepFirst?: number;
  /** partial: characters kept at the end (default 4 when neither is given, else 0) */
  keepLast?: number;
  /** redact: the token for text columns (default `[redacted]`); JSON columns get it as a JSON string */
  replacement?: string;
  /** hash: the HMAC key, required for `hash` */
  hashKey?: Uint8Array | string | HmacSha256;
}

export const DEFAULT_REPLACEMENT = '[redacted]';
export const DEFAULT_KEEP_LAST = 4;

const EPOCH_DATE = '1970-01-01';
const EPOCH_TIMESTAMP = '1970-01-01 00:00:00';
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** The type-valid constant `redact` gives a hint; `undefined` for the length-dependent bit types, `null` for Unknown. */
export function redactText(hint: TypeHint, replacement: string = DEFAULT_REPLACEMENT): string | null | undefined {
  switch (hint) {
    case TypeHint.Text:
      return replacement;
    case TypeHint.Int1:
    case TypeHint.Int2:
    case TypeHint.Int3:
    case TypeHint.Int4:
    case TypeHint.Int8:
    case TypeHint.Oid:
    case TypeHint.Numeric:
    case TypeHint.Float4:
    case TypeHint.Float8:
      return '0';
    case TypeHint.Bool:
      return 'f';
    case TypeHint.Date:
      return EPOCH_DATE;
    case TypeHint.Timestamp:
      return EPOCH_TIMESTAMP;
    case TypeHint.TimestampTz:
      return `${EPOCH_TIMESTAMP}+00`;
    case TypeHint.Time:
    case TypeHint.Interval:
      return '00:00:00';
    case TypeHint.TimeTz:
      return '00:00:00+00';
    case TypeHint.Uuid:
      return NIL_UUID;
    case TypeHint.Json:
    case TypeHint.Jsonb:
      return JSON.stringify(replacement);
    case TypeHint.Bytea:
      return `\\x${Buffer.from(replacement, 'utf8').toString('hex')}`;
    case TypeHint.Inet:
      return '0.0.0.0';
    case TypeHint.Cidr:
      return '0.0.0.0/0';
    case TypeHint.MacAddr:
      return '00:00:00:00:00:00';
    case TypeHint.MacAddr8:
      return '00:00:00:00:00:00:00:00';
    case TypeHint.Year:
      return '1970';
    case TypeHint.Array:
      return '{}';
    case TypeHint.BitString:
    case TypeHint.BitBytes:
      return undefined;
    case TypeHint.Unknown:
      return null;
  }
}

function redactBuffer(hint: TypeHint, replacement: string): Buffer | null | undefined {
  const t = redactText(hint, replacement);
  return typeof t === 'string' ? Buffer.from(t, 'utf8') : t;
}

const DEFAULT_REDACT: (Buffer | null | undefined)[] = [];
for (let h = TypeHint.Text; h <= TypeHint.Unknown; h++) DEFAULT_REDACT[h] = redactBuffer(h, DEFAULT_REPLACEMENT);

// ─── redact ────────────────────────────────────────────────────────────────────────────────────

/**
 * A fixed token: `replacement` (default `[redacted]`) for text, a type-valid constant for other
 * types (0, `f`, 1970-01-01, the epoch, the nil UUID, `"[redacted]"` for JSON, `{}` for arrays, zero
 * bits of the same length for bit strings), SQL NULL for types it cannot speak for.
 */
export function maskRedact(value: Buffer, hint: TypeHint, replacement?: string): MaskedValue {
  if (hint === TypeHint.BitString) return Buffer.alloc(value.length, 0x30);
  if (hint === TypeHint.BitBytes) return Buffer.alloc(value.length);
  if (replacement === undefined || replacement === DEFAULT_REPLACEMENT) return DEFAULT_REDACT[hint] as Buffer | null;
  return redactBuffer(hint, replacement) as Buffer | null;
}

// ─── partial ───────────────────────────────────────────────────────────────────────────────────

/**
 * Keeps the first `keepFirst` and last `keepLast` characters and masks the rest; never reveals more
 * than half: when keepFirst + keepLast exceeds half the length, everything is masked.
 * - text: characters are code points, each masked one becomes `*`;
 * - JSON: the string's content (or the JSON text) masked as text, as a JSON string;
 * - integers and decimals: the digits count, masked digits become `0` (`4111222233334444` → `0000000000004444`);
 * - dates, times, timestamps, UUIDs, bit strings: the ISO form's characters count, masked digits take
 *   the epoch's (`1987-06-15`, keep 4 → `1987-01-01`); a result that is not a valid value becomes the
 *   redact constant;
 * - anything else: the redact constant.
 */
export function maskPartial(value: Buffer, hint: TypeHint, keepFirst: number, keepLast: number): MaskedValue {
  switch (hint) {
    case TypeHint.Text:
      return maskCodePoints(value, keepFirst, keepLast);
    case TypeHint.Json:
    case TypeHint.Jsonb:
      return jsonString(value, (s) => maskCodePoints(Buffer.from(s, 'utf8'), keepFirst, keepLast).toString('utf8'));
    case TypeHint.Int1:
    case TypeHint.Int2:
    case TypeHint.Int3:
    case TypeHint.Int4:
    case TypeHint.Int8:
    case TypeHint.Oid:
    case TypeHint.Numeric:
    case TypeHint.Float4:
    case TypeHint.Float8: {
      const digits = numberShape(value, hint);
      if (digits < 0) return DEFAULT_REDACT[hint] as Buffer;
      if (keepFirst + keepLast > digits >>> 1) keepFirst = keepLast = 0;
      const out = Buffer.from(value);
      for (let i = 0, k = 0; i < out.length; i++) {
        if (isDigit(out[i])) {
          if (k >= keepFirst && k < digits - keepLast) out[i] = 0x30;
          k++;
        }
      }
      return out;
    }
    case TypeHint.Date:
    case TypeHint.Timestamp:
    case TypeHint.TimestampTz:
    case TypeHint.Time:
    case TypeHint.TimeTz:
    case TypeHint.Uuid:
    case TypeHint.BitString:
      return overlay(value, hint, keepFirst, keepLast);
    default:
      return maskRedact(value, hint);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The number of digits when `v` is a number literal of the hint's text form, else -1:
 * integers `-?\d+`, numeric `-?\d+(\.\d+)?`, floats that plus `e[+-]?\d+`.
 */
function numberShape(v: Uint8Array, hint: TypeHint): number {
  const n = v.length;
  let i = v[0] === 0x2d ? 1 : 0;
  let digits = 0;
  const start = i;
  while (i < n && isDigit(v[i])) i++;
  if (i === start) return -1;
  digits += i - start;
  if (i === n) return digits;
  if (hint !== TypeHint.Numeric && hint !== TypeHint.Float4 && hint !== TypeHint.Float8) return -1;
  if (v[i] === 0x2e) {
    const f = ++i;
    while (i < n && isDigit(v[i])) i++;
    if (i === f) return -1;
    digits += i - f;
    if (i === n) return digits;
  }
  if (hint === TypeHint.Numeric || (v[i] !== 0x65 && v[i] !== 0x45)) return -1;
  i++;
  if (v[i] === 0x2b || v[i] === 0x2d) i++;
  const e = i;
  while (i < n && isDigit(v[i])) i++;
  if (i === e || i !== n) return -1;
  return digits + (i - e);
}

/** Date and timestamp digits masked take the epoch's digit at the same place. */
const TS_TEMPLATE = Buffer.from(EPOCH_TIMESTAMP, 'latin1');

function overlay(value: Buffer, hint: TypeHint, keepFirst: number, keepLast: number): MaskedValue {
  const n = value.length;
  if (keepFirst + keepLast > n >>> 1) keepFirst = keepLast = 0;
  const out = Buffer.from(value);
  const temporal = hint === TypeHint.Date || hint === TypeHint.Timestamp || hint === TypeHint.TimestampTz;
  for (let i = keepFirst; i < n - keepLast; i++) {
    const c = out[i];
    if (hint === TypeHint.Uuid) {
      if (isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)) out[i] = 0x30;
    } else if (hint === TypeHint.BitString) {
      out[i] = 0x30;
    } else if (isDigit(c)) {
      out[i] = temporal && i < TS_TEMPLATE.length ? TS_TEMPLATE[i] : 0x30;
    }
  }
  return isValidText(out, hint) ? out : maskRedact(value, hint);
}

/** True when `v` is a valid text form of the hint's type (for the hints whose validity partial must check). */
function isValidText(v: Buffer, hint: TypeHint): boolean {
  switch (hint) {
    case TypeHint.Date:
      return v.length === 10 && parseIsoDate(v.toString('latin1')) !== undefined;
    case TypeHint.Timestamp:
      return parseIsoTimestamp(v.toString('latin1'), 'none') !== undefined;
    case TypeHint.TimestampTz:
      return parseIsoTimestamp(v.toString('latin1'), 'optional') !== undefined;
    case TypeHint.Time:
      return isValidTime(v.toString('latin1'), false);
    case TypeHint.TimeTz:
      return isValidTime(v.toString('latin1'), true);
    case TypeHint.Uuid:
      return isUuid(v);
    case TypeHint.BitString:
      for (let i = 0; i < v.length; i++) if (v[i] !== 0x30 && v[i] !== 0x31) return false;
      return true;
    default:
      return true;
  }
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isUuid(v: Uint8Array): boolean {
  if (v.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (v[i] !== 0x2d) return false;
    } else if (!isHex(v[i])) return false;
  }
  return true;
}

/**
 * For JSON columns: applies `f` to the JSON string's content (or, for any other JSON value, to its
 * text) and returns the result as a JSON string; `f` returning undefined gives the redact constant.
 */
function jsonString(value: Buffer, f: (s: string) => string | undefined): Buffer {
  let s = value.toString('utf8').trim();
  if (s.charCodeAt(0) === 0x22) {
    try {
      const parsed: unknown = JSON.parse(s);
      if (typeof parsed === 'string') s = parsed;
    } catch {
      // not JSON after all: masked as text
    }
  }
  const r = f(s);
  return r === undefined ? (DEFAULT_REDACT[TypeHint.Json] as Buffer) : Buffer.from(JSON.stringify(r), 'utf8');
}

// ─── email ─────────────────────────────────────────────────────────────────────────────────────

const EMAIL_MASK = Buffer.from('****@', 'latin1');

/** Bytes allowed in an email's local part (RFC 5322 atext and dots); bytes >= 0x80 (UTF-8) are allowed too. */
const LOCAL_OK = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+-/=?^_`{|}~") LOCAL_OK[c.charCodeAt(0)] = 1;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/**
 * Where the domain of an email address is in `v[start, end)` (surrounding blanks allowed, as in a
 * padded char(n)): the domain's byte range, or undefined when the value is not one email address.
 */
export function emailDomain(v: Uint8Array, start: number, end: number): [number, number] | undefined {
  while (start < end && isSpace(v[start])) start++;
  while (end > start && isSpace(v[end - 1])) end--;
  let at = -1;
  for (let i = end - 1; i >= start; i--) {
    if (v[i] === 0x40) {
      at = i;
      break;
    }
  }
  if (at <= start || at - start > 64 || end - at - 1 > 253) return undefined;
  for (let i = start; i < at; i++) {
    const c = v[i];
    if (c < 0x80 && LOCAL_OK[c] === 0) return undefined;
  }
  return validDomain(v, at + 1, end) ? [at + 1, end] : undefined;
}

/** A DNS name of at least two labels whose last label is letters (or an IDNA `xn--` label). */
export function validDomain(v: Uint8Array, start: number, end: number): boolean {
  let labels = 0;
  let labelStart = start;
  for (let i = start; i <= end; i++) {
    const c = i < end ? v[i] : 0x2e;
    if (c === 0x2e) {
      const len = i - labelStart;
      if (len < 1 || len > 63 || v[labelStart] === 0x2d || v[i - 1] === 0x2d) return false;
      labels++;
      if (i === end) {
        // the top-level label
        if (len >= 4 && v[labelStart] === 0x78 && v[labelStart + 1] === 0x6e && v[labelStart + 2] === 0x2d && v[labelStart + 3] === 0x2d) break;
        if (len < 2) return false;
        for (let k = labelStart; k < i; k++) if (!isAlpha(v[k])) return false;
      }
      labelStart = i + 1;
    } else if (!(isAlpha(c) || isDigit(c) || c === 0x2d)) return false;
  }
  return labels >= 2;
}

/**
 * Keeps an email's domain: `alice@example.com` → `****@example.com` (always four stars, so the local
 * part's length stays hidden). A value that is not an email address gets the redact constant. JSON
 * strings holding an address are masked inside the string.
 */
export function maskEmail(value: Buffer, hint: TypeHint): MaskedValue {
  if (hint === TypeHint.Text) {
    const d = emailDomain(value, 0, value.length);
    if (!d) return DEFAULT_REDACT[TypeHint.Text] as Buffer;
    const out = Buffer.allocUnsafe(5 + d[1] - d[0]);
    EMAIL_MASK.copy(out, 0);
    value.copy(out, 5, d[0], d[1]);
    return out;
  }
  if (hint === TypeHint.Json || hint === TypeHint.Jsonb) {
    return jsonString(value, (s) => {
      const b = Buffer.from(s, 'utf8');
      const d = emailDomain(b, 0, b.length);
      return d ? `****@${b.toString('latin1', d[0], d[1])}` : undefined;
    });
  }
  return maskRedact(value, hint);
}

// ─── hash ──────────────────────────────────────────────────────────────────────────────────────

const HEX = '0123456789abcdef';
const HEX_BYTES = Buffer.from(HEX, 'latin1');
/** The MAC of the value being hashed: one scratch buffer, everything here is synchronous. */
const MAC = Buffer.alloc(32);

function writeHex(src: Uint8Array, from: number, to: number, out: Uint8Array, o: number): number {
  for (let i = from; i < to; i++) {
    out[o++] = HEX_BYTES[src[i] >>> 4];
    out[o++] = HEX_BYTES[src[i] & 15];
  }
  return o;
}

function hexOf(src: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += HEX[src[i] >>> 4] + HEX[src[i] & 15];
  return s;
}

/** A 53-bit number from the MAC's first bytes. */
function macNumber(): number {
  return (MAC.readUInt32BE(0) & 0x1fffff) * 0x100000000 + MAC.readUInt32BE(4);
}

/** The i-th pseudo-random decimal digit of the MAC (as an ASCII code). */
function macDigit(i: number): number {
  return 0x30 + ((MAC[i & 31] + (i >>> 5) * 7) % 10);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function secondsOfDay(s: number): string {
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
}

/** 1970-01-01 .. 2069-12-31 */
const HASH_DAYS = 36524;

/**
 * Keyed HMAC-SHA-256 of the value's bytes, deterministic per key: equal values mask equally, so
 * joins, DISTINCT and GROUP BY still work on masked columns. Output by type:
 * - text: `h_` + 16 hex digits (64 bits of the MAC);
 * - integers: an integer from the MAC in 0..the type's signed maximum (so it suits unsigned columns too);
 * - numeric/float: the same digit shape with the digits from the MAC (a float loses its exponent);
 * - bool `t`/`f`; date 1970-01-01..2069-12-31; timestamp likewise with a time; time/interval `HH:MM:SS`;
 * - uuid: a version-8 UUID of MAC bits; inet `10.x.y.z`; macaddr locally administered; JSON `"h_…"`;
 * - bytea: 16 MAC bytes; bit strings: MAC bits of the same length; arrays `{}`; Unknown: NULL.
 */
export function maskHash(value: Buffer, hint: TypeHint, key: HmacSha256): MaskedValue {
  if (hint === TypeHint.Unknown) return null;
  if (hint === TypeHint.Array) return DEFAULT_REDACT[TypeHint.Array] as Buffer;
  key.digestInto(value, 0, value.length, MAC);
  switch (hint) {
    case TypeHint.Text: {
      const out = Buffer.allocUnsafe(18);
      out[0] = 0x68; // h
      out[1] = 0x5f; // _
      writeHex(MAC, 0, 8, out, 2);
      return out;
    }
    case TypeHint.Json:
    case TypeHint.Jsonb: {
      const out = Buffer.allocUnsafe(20);
      out[0] = 0x22;
      out[1] = 0x68;
      out[2] = 0x5f;
      writeHex(MAC, 0, 8, out, 3);
      out[19] = 0x22;
      return out;
    }
    case TypeHint.Int1:
      return ascii(String(MAC[0] & 0x7f));
    case TypeHint.Int2:
      return ascii(String(MAC.readUInt16BE(0) & 0x7fff));
    case TypeHint.Int3:
      return ascii(String(MAC.readUInt32BE(0) >>> 9));
    case TypeHint.Int4:
      return ascii(String(MAC.readUInt32BE(0) >>> 1));
    case TypeHint.Oid:
      return ascii(String(MAC.readUInt32BE(0)));
    case TypeHint.Int8:
      return ascii((MAC.readBigUInt64BE(0) >> 1n).toString());
    case TypeHint.Numeric:
    case TypeHint.Float4:
    case TypeHint.Float8:
      return hashDigits(value, hint);
    case TypeHint.Bool:
      return ascii((MAC[0] & 1) === 1 ? 't' : 'f');
    case TypeHint.Year:
      return ascii(String(1901 + (MAC.readUInt32BE(0) % 255)));
    case TypeHint.Date:
      return ascii(formatDate(macNumber() % HASH_DAYS));
    case TypeHint.Timestamp:
    case TypeHint.TimestampTz: {
      const t = `${formatDate(MAC.readUInt32BE(0) % HASH_DAYS)} ${secondsOfDay(MAC.readUInt32BE(4) % 86400)}`;
      return ascii(hint === TypeHint.TimestampTz ? `${t}+00` : t);
    }
    case TypeHint.Time:
    case TypeHint.Interval:
      return ascii(secondsOfDay(MAC.readUInt32BE(0) % 86400));
    case TypeHint.TimeTz:
      return ascii(`${secondsOfDay(MAC.readUInt32BE(0) % 86400)}+00`);
    case TypeHint.Uuid: {
      MAC[6] = (MAC[6] & 0x0f) | 0x80; // version 8: custom (RFC 9562)
      MAC[8] = (MAC[8] & 0x3f) | 0x80; // variant 10
      const out = Buffer.allocUnsafe(36);
      let o = writeHex(MAC, 0, 4, out, 0);
      out[o++] = 0x2d;
      o = writeHex(MAC, 4, 6, out, o);
      out[o++] = 0x2d;
      o = writeHex(MAC, 6, 8, out, o);
      out[o++] = 0x2d;
      o = writeHex(MAC, 8, 10, out, o);
      out[o++] = 0x2d;
      writeHex(MAC, 10, 16, out, o);
      return out;
    }
    case TypeHint.Bytea: {
      const out = Buffer.allocUnsafe(34);
      out[0] = 0x5c; // backslash
      out[1] = 0x78; // x
      writeHex(MAC, 0, 16, out, 2);
      return out;
    }
    case TypeHint.Inet:
    case TypeHint.Cidr: {
      const ip = `10.${MAC[0]}.${MAC[1]}.${MAC[2]}`;
      return ascii(hint === TypeHint.Cidr ? `${ip}/32` : ip);
    }
    case TypeHint.MacAddr:
    case TypeHint.MacAddr8: {
      MAC[0] = (MAC[0] & 0xfc) | 0x02; // locally administered, unicast
      const n = hint === TypeHint.MacAddr ? 6 : 8;
      let s = hexOf(MAC, 0, 1);
      for (let i = 1; i < n; i++) s += `:${hexOf(MAC, i, i + 1)}`;
      return ascii(s);
    }
    case TypeHint.BitString: {
      const out = Buffer.allocUnsafe(value.length);
      for (let i = 0; i < out.length; i++) out[i] = 0x30 + ((MAC[(i >>> 3) & 31] >>> (i & 7)) & 1);
      return out;
    }
    case TypeHint.BitBytes: {
      const out = Buffer.allocUnsafe(value.length);
      for (let i = 0; i < out.length; i++) out[i] = MAC[i & 31] ^ ((i >>> 5) * 0x9d);
      return out;
    }
  }
}

function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Numeric/float hash: the value's digit shape (sign, digits, point) with the MAC's digits. */
function hashDigits(value: Buffer, hint: TypeHint): Buffer {
  if (numberShape(value, hint) < 0) return Buffer.from([macDigit(0)]);
  let end = value.length;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === 0x65 || value[i] === 0x45) {
      end = i; // a float's exponent is dropped
      break;
    }
  }
  const out = Buffer.allocUnsafe(end);
  for (let i = 0, k = 0; i < end; i++) out[i] = isDigit(value[i]) ? macDigit(k++) : value[i];
  return out;
}

// ─── null ──────────────────────────────────────────────────────────────────────────────────────

/** The column becomes SQL NULL. */
export function maskNull(): null {
  return null;
}

// ─── compiled ──────────────────────────────────────────────────────────────────────────────────

function keyOf(k: MaskOptions['hashKey']): HmacSha256 {
  if (k === undefined || (typeof k !== 'object' && typeof k !== 'string')) throw new Error('the hash mask needs a key (hashKey)');
  if (k instanceof HmacSha256) return k;
  if (k.length < 16) throw new Error('the hash mask key must be at least 16 bytes');
  return new HmacSha256(k);
}

function count(n: number | undefined): number {
  return n === undefined || !Number.isFinite(n) || n < 0 ? 0 : Math.floor(n);
}

/**
 * One column's masking, compiled once for the column's type: the function to call per field. Throws
 * for `hash` without a key (at least 16 bytes).
 */
export function compileMask(fn: MaskFunction, hint: TypeHint, opts: MaskOptions = {}): ValueMasker {
  switch (fn) {
    case 'null':
      return maskNull;
    case 'redact': {
      if (hint === TypeHint.BitString || hint === TypeHint.BitBytes) return (v) => maskRedact(v, hint);
      const constant = redactBuffer(hint, opts.replacement ?? DEFAULT_REPLACEMENT) as Buffer | null;
      return () => constant;
    }
    case 'partial': {
      const noneGiven = opts.keepFirst === undefined && opts.keepLast === undefined;
      const first = count(opts.keepFirst);
      const last = noneGiven ? DEFAULT_KEEP_LAST : count(opts.keepLast);
      if (hint === TypeHint.Text) return (v) => maskCodePoints(v, first, last);
      return (v) => maskPartial(v, hint, first, last);
    }
    case 'email':
      return (v) => maskEmail(v, hint);
    case 'hash': {
      const key = keyOf(opts.hashKey);
      return (v) => maskHash(v, hint, key);
    }
  }
}

/** Convenience (not for the hot path): masks one value given as a string; `null` for SQL NULL. */
export function maskValue(fn: MaskFunction, value: string | Buffer, hint: TypeHint, opts: MaskOptions = {}): string | null {
  const r = compileMask(fn, hint, opts)(typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
  return r === null ? null : r.toString('utf8');
}
