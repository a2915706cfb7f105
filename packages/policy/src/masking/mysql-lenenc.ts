/**
 * MySQL length-encoded integers and strings (Protocol::LengthEncodedInteger / LengthEncodedString),
 * as masking reads and writes them inside result rows. 0xfb is NULL in a text row; 0xff is not a
 * length (it starts an error packet).
 */

/** The NULL marker of a text-protocol row. */
export const LENENC_NULL = 0xfb;

/** Bytes the length prefix of a string of `n` bytes takes. */
export function lenencSize(n: number): number {
  return n < 0xfb ? 1 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 9;
}

/**
 * Reads a length-encoded integer at `o`: [value, offset after it], or undefined when it is truncated,
 * is 0xfb/0xff, or exceeds 2^53 (no packet is that long).
 */
export function readLenenc(b: Uint8Array, o: number): [number, number] | undefined {
  if (o >= b.length) return undefined;
  const c = b[o]!;
  if (c < 0xfb) return [c, o + 1];
  if (c === 0xfc) return o + 3 <= b.length ? [b[o + 1]! | (b[o + 2]! << 8), o + 3] : undefined;
  if (c === 0xfd) return o + 4 <= b.length ? [b[o + 1]! | (b[o + 2]! << 8) | (b[o + 3]! << 16), o + 4] : undefined;
  if (c === 0xfe) {
    if (o + 9 > b.length) return undefined;
    const lo = (b[o + 1]! | (b[o + 2]! << 8) | (b[o + 3]! << 16)) + b[o + 4]! * 0x1000000;
    const hi = (b[o + 5]! | (b[o + 6]! << 8) | (b[o + 7]! << 16)) + b[o + 8]! * 0x1000000;
    if (hi >= 0x200000) return undefined;
    return [hi * 0x100000000 + lo, o + 9];
  }
  return undefined;
}

/** Writes the length prefix of a string of `n` bytes at `o`; the offset after it. */
export function writeLenenc(out: Uint8Array, o: number, n: number): number {
  if (n < 0xfb) {
    out[o] = n;
    return o + 1;
  }
  if (n < 0x10000) {
    out[o] = 0xfc;
    out[o + 1] = n & 0xff;
    out[o + 2] = n >>> 8;
    return o + 3;
  }
  if (n < 0x1000000) {
    out[o] = 0xfd;
    out[o + 1] = n & 0xff;
    out[o + 2] = (n >>> 8) & 0xff;
    out[o + 3] = n >>> 16;
    return o + 4;
  }
  out[o] = 0xfe;
  let x = n;
  for (let i = 1; i <= 8; i++) {
    out[o + i] = x % 256;
    x = Math.floor(x / 256);
  }
  return o + 9;
}

/** A length-encoded string: the prefix and the bytes. */
export function lenencString(v: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(lenencSize(v.length) + v.length);
  const o = writeLenenc(out, 0, v.length);
  out.set(v, o);
  return out;
}

/** The bytes of the length-encoded string that is exactly `field` (prefix and all), or undefined. */
export function lenencPayload(field: Buffer): Buffer | undefined {
  const r = readLenenc(field, 0);
  if (!r || r[1] + r[0] !== field.length) return undefined;
  return field.subarray(r[1]);
}
