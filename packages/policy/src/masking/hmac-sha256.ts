import { createHash } from 'node:crypto';

/**
 * HMAC-SHA-256 (RFC 2104) with the key's inner and outer states computed once. For the short values
 * the hash mask sees this is about 6× faster than `crypto.createHmac` (0.75 µs against 4.4 µs per
 * value on Node 20), whose per-call setup in OpenSSL 3 costs more than the hashing. Exact: tested
 * against node:crypto on random keys and messages. Not constant-time; the values it hashes are not
 * secrets the timing could reveal to anyone but the database itself.
 */
export class HmacSha256 {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);

  constructor(key: Uint8Array | string) {
    let k: Uint8Array = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (k.length > 64) k = createHash('sha256').update(k).digest();
    const pad = new Uint8Array(64);
    pad.fill(0x36);
    for (let i = 0; i < k.length; i++) pad[i] ^= k[i];
    this.inner.set(IV);
    compress(this.inner, pad, 0);
    pad.fill(0x5c);
    for (let i = 0; i < k.length; i++) pad[i] ^= k[i];
    this.outer.set(IV);
    compress(this.outer, pad, 0);
  }

  /** Writes the 32-byte MAC of `msg[start, end)` into `out` (at offset 0) and returns `out`. */
  digestInto<T extends Uint8Array>(msg: Uint8Array, start: number, end: number, out: T): T {
    const h = STATE;
    h.set(this.inner);
    const blk = BLOCK;
    // every block goes through BLOCK, so compress() only ever sees one array type (Buffer is another)
    let off = start;
    while (end - off >= 64) {
      for (let i = 0; i < 64; i++) blk[i] = msg[off + i];
      compress(h, blk, 0);
      off += 64;
    }
    const rem = end - off;
    for (let i = 0; i < rem; i++) blk[i] = msg[off + i];
    blk[rem] = 0x80;
    for (let i = rem + 1; i < 64; i++) blk[i] = 0;
    if (rem >= 56) {
      compress(h, blk, 0);
      blk.fill(0);
    }
    // message length in bits, after the 64-byte key block
    const bits = (end - start + 64) * 8;
    const hi = Math.floor(bits / 0x100000000);
    blk[56] = hi >>> 24;
    blk[57] = hi >>> 16;
    blk[58] = hi >>> 8;
    blk[59] = hi;
    blk[60] = bits >>> 24;
    blk[61] = bits >>> 16;
    blk[62] = bits >>> 8;
    blk[63] = bits;
    compress(h, blk, 0);
    // outer: H(K ^ opad || inner digest), one block of 32 + padding + length (96 bytes = 768 bits)
    blk.fill(0);
    writeState(h, blk);
    blk[32] = 0x80;
    blk[62] = 0x03;
    h.set(this.outer);
    compress(h, blk, 0);
    writeState(h, out);
    return out;
  }

  /** The MAC as a new 32-byte Buffer. */
  digest(msg: Uint8Array | string): Buffer {
    const m = typeof msg === 'string' ? Buffer.from(msg, 'utf8') : msg;
    return this.digestInto(m, 0, m.length, Buffer.allocUnsafe(32));
  }
}

const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// Scratch space shared by every instance: everything here is synchronous.
const W = new Int32Array(64);
const STATE = new Int32Array(8);
const BLOCK = new Uint8Array(64);

function writeState(h: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const v = h[i];
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = v >>> 16;
    out[i * 4 + 2] = v >>> 8;
    out[i * 4 + 3] = v;
  }
}

/** The SHA-256 compression function over the 64 bytes of `b` at `off`. */
function compress(h: Int32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + i * 4;
    W[i] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15];
    const y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = h[0];
  let b1 = h[1];
  let c = h[2];
  let d = h[3];
  let e = h[4];
  let f = h[5];
  let g = h[6];
  let hh = h[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b1) ^ (a & c) ^ (b1 & c))) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b1;
    b1 = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b1) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
  h[5] = (h[5] + f) | 0;
  h[6] = (h[6] + g) | 0;
  h[7] = (h[7] + hh) | 0;
}
