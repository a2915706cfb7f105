/**
 * Length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7: no overlongs, no surrogates,
 * nothing past U+10FFFF), or 0 when the bytes there are not one.
 */
export function utf8SeqLen(b: Uint8Array, i: number, end: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  if (c < 0xc2) return 0;
  if (c < 0xe0) return i + 1 < end && (b[i + 1] & 0xc0) === 0x80 ? 2 : 0;
  if (c < 0xf0) {
    if (i + 2 >= end) return 0;
    const c1 = b[i + 1];
    if (c === 0xe0 ? c1 < 0xa0 || c1 > 0xbf : c === 0xed ? c1 < 0x80 || c1 > 0x9f : (c1 & 0xc0) !== 0x80) return 0;
    return (b[i + 2] & 0xc0) === 0x80 ? 3 : 0;
  }
  if (c < 0xf5) {
    if (i + 3 >= end) return 0;
    const c1 = b[i + 1];
    if (c === 0xf0 ? c1 < 0x90 || c1 > 0xbf : c === 0xf4 ? c1 < 0x80 || c1 > 0x8f : (c1 & 0xc0) !== 0x80) return 0;
    return (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80 ? 4 : 0;
  }
  return 0;
}

/** True when every byte of `b` belongs to a well-formed UTF-8 sequence. */
export function isWellFormedUtf8(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; ) {
    if (b[i] < 0x80) {
      i++;
      continue;
    }
    const n = utf8SeqLen(b, i, b.length);
    if (n === 0) return false;
    i += n;
  }
  return true;
}

const STAR = 0x2a;

/**
 * Keeps the first `keepFirst` and the last `keepLast` characters (code points; a byte that is not
 * part of well-formed UTF-8 counts as one character) and writes one `*` for every other character.
 * When the kept characters would be more than half of the value, everything is masked. Kept bytes
 * that are not well-formed UTF-8 become `*` too, so the output is always well-formed UTF-8.
 */
export function maskCodePoints(v: Uint8Array, keepFirst: number, keepLast: number): Buffer {
  const end = v.length;
  let count = 0;
  let ascii = true;
  for (let i = 0; i < end; count++) {
    if (v[i] < 0x80) i++;
    else {
      ascii = false;
      const n = utf8SeqLen(v, i, end);
      i += n === 0 ? 1 : n;
    }
  }
  if (keepFirst + keepLast > count >>> 1) {
    keepFirst = 0;
    keepLast = 0;
  }
  if (ascii) {
    const out = Buffer.allocUnsafe(end);
    for (let i = 0; i < keepFirst; i++) out[i] = v[i];
    out.fill(STAR, keepFirst, end - keepLast);
    for (let i = end - keepLast; i < end; i++) out[i] = v[i];
    return out;
  }
  // byte bounds of the kept prefix and suffix
  const suffixFrom = count - keepLast;
  let prefixEnd = 0;
  let suffixStart = end;
  for (let i = 0, k = 0; i < end; k++) {
    if (k === keepFirst) prefixEnd = i;
    if (k === suffixFrom) {
      suffixStart = i;
      break;
    }
    const n = v[i] < 0x80 ? 1 : utf8SeqLen(v, i, end);
    i += n === 0 ? 1 : n;
  }
  if (keepFirst === 0) prefixEnd = 0;
  const stars = count - keepFirst - keepLast;
  const out = Buffer.allocUnsafe(prefixEnd + stars + (end - suffixStart));
  let o = copyWellFormed(v, 0, prefixEnd, out, 0);
  out.fill(STAR, o, o + stars);
  o += stars;
  copyWellFormed(v, suffixStart, end, out, o);
  return out;
}

/** Copies `src[from, to)` to `out` at `o`, each byte outside a well-formed sequence replaced by `*`. */
function copyWellFormed(src: Uint8Array, from: number, to: number, out: Uint8Array, o: number): number {
  for (let i = from; i < to; ) {
    const c = src[i];
    if (c < 0x80) {
      out[o++] = c;
      i++;
      continue;
    }
    const n = utf8SeqLen(src, i, to);
    if (n === 0) {
      out[o++] = STAR;
      i++;
    } else {
      for (let k = 0; k < n; k++) out[o++] = src[i + k];
      i += n;
    }
  }
  return o;
}
