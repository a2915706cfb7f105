const TWO_32 = 0x1_0000_0000;

/** Bytes a length-encoded integer of value `n` takes. */
export function lenencIntLength(n: number | bigint): number {
  if (n < 0xfb) return 1;
  if (n < 0x1_0000) return 3;
  if (n < 0x100_0000) return 4;
  return 9;
}

/** Writes int<lenenc> `n` at `pos`; returns the position after it. The caller sized `buf`. */
export function writeLenencInt(buf: Buffer, pos: number, n: number | bigint): number {
  if (typeof n === 'bigint') {
    if (n < 0n || n > 0xffff_ffff_ffff_ffffn) throw new RangeError(`length-encoded integer out of range: ${n}`);
    if (n >= 0x100_0000n) {
      buf[pos] = 0xfe;
      buf.writeBigUInt64LE(n, pos + 1);
      return pos + 9;
    }
    n = Number(n);
  }
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`length-encoded integer out of range: ${n}`);
  if (n < 0xfb) {
    buf[pos] = n;
    return pos + 1;
  }
  if (n < 0x1_0000) {
    buf[pos] = 0xfc;
    buf.writeUInt16LE(n, pos + 1);
    return pos + 3;
  }
  if (n < 0x100_0000) {
    buf[pos] = 0xfd;
    buf.writeUIntLE(n, pos + 1, 3);
    return pos + 4;
  }
  buf[pos] = 0xfe;
  buf.writeUInt32LE(n % TWO_32, pos + 1);
  buf.writeUInt32LE(Math.floor(n / TWO_32), pos + 5);
  return pos + 9;
}

/** string<lenenc>: `b` behind its length prefix, in a new Buffer. */
export function encodeLenencString(b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(lenencIntLength(b.length) + b.length);
  out.set(b, writeLenencInt(out, 0, b.length));
  return out;
}

/**
 * A growable payload builder for the protocol's primitive types. `finish()` returns a view of
 * exactly the bytes written. Values out of a field's range are RangeErrors (a bug of ours, not
 * the peer's).
 */
export class PayloadWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initialSize = 128) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.len;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** int<1> */
  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`int<1> out of range: ${v}`);
    this.ensure(1);
    this.buf[this.len++] = v;
    return this;
  }

  /** int<2> */
  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`int<2> out of range: ${v}`);
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.len);
    this.len += 2;
    return this;
  }

  /** int<3> */
  u24(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffff) throw new RangeError(`int<3> out of range: ${v}`);
    this.ensure(3);
    this.buf.writeUIntLE(v, this.len, 3);
    this.len += 3;
    return this;
  }

  /** int<4> */
  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`int<4> out of range: ${v}`);
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
    return this;
  }

  /** int<8> */
  u64(v: number | bigint): this {
    const b = BigInt(v);
    if (b < 0n || b > 0xffff_ffff_ffff_ffffn) throw new RangeError(`int<8> out of range: ${v}`);
    this.ensure(8);
    this.buf.writeBigUInt64LE(b, this.len);
    this.len += 8;
    return this;
  }

  /** int<lenenc> */
  lenencInt(v: number | bigint): this {
    this.ensure(9);
    this.len = writeLenencInt(this.buf, this.len, v);
    return this;
  }

  /** string<lenenc> */
  lenencBytes(b: Uint8Array): this {
    this.lenencInt(b.length);
    return this.bytes(b);
  }

  /** string<lenenc>, UTF-8 */
  lenencString(s: string): this {
    return this.lenencBytes(Buffer.from(s, 'utf8'));
  }

  /** string<NUL>, UTF-8; a RangeError when `s` holds a NUL */
  nulString(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.includes(0)) throw new RangeError('NUL inside a NUL-terminated string');
    this.bytes(b);
    return this.u8(0);
  }

  /** string[n] / string<EOF> */
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** string<EOF>, UTF-8 */
  string(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'));
  }

  /** n zero bytes (fillers, reserved) */
  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
    return this;
  }

  /** The payload: a view of the bytes written. */
  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
