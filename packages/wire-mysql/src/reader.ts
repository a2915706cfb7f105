import { ProtocolError } from './protocol-error.js';

const TWO_32 = 0x1_0000_0000;

/**
 * Bounds-checked reads of the protocol's primitive types over a packet payload: fixed-width
 * little-endian integers, length-encoded integers and strings, NUL-terminated and rest-of-packet
 * strings. Every overrun is a ProtocolError. Byte results are views into the payload.
 */
export class PayloadReader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new ProtocolError('packet truncated');
  }

  /** int<1> */
  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  /** The next byte without consuming it; -1 at the end. */
  peek(): number {
    return this.pos < this.end ? this.buf[this.pos] : -1;
  }

  /** int<2> */
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  /** int<3> */
  u24(): number {
    this.need(3);
    const v = this.buf.readUIntLE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  /** int<4> */
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** int<8> as an exact bigint */
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** int<8> as a number; a ProtocolError when it is past Number.MAX_SAFE_INTEGER */
  u64Number(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    if (hi > 0x1fffff) throw new ProtocolError('integer too large');
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  /** int<lenenc>; 0xFB (NULL) and 0xFF are ProtocolErrors here */
  lenencInt(): number {
    const v = this.lenencIntOrNull();
    if (v === null) throw new ProtocolError('unexpected NULL length-encoded integer');
    return v;
  }

  /** int<lenenc>, where 0xFB means NULL */
  lenencIntOrNull(): number | null {
    this.need(1);
    const first = this.buf[this.pos++];
    if (first < 0xfb) return first;
    switch (first) {
      case 0xfb:
        return null;
      case 0xfc:
        return this.u16();
      case 0xfd:
        return this.u24();
      case 0xfe:
        return this.u64Number();
      default:
        throw new ProtocolError('invalid length-encoded integer 0xff');
    }
  }

  /** int<lenenc> as an exact bigint (affected rows, insert ids) */
  lenencBigInt(): bigint {
    this.need(1);
    const first = this.buf[this.pos];
    if (first === 0xfe) {
      this.pos++;
      return this.u64();
    }
    return BigInt(this.lenencInt());
  }

  /** string<lenenc> as bytes (a view) */
  lenencBytes(): Buffer {
    return this.bytes(this.lenencInt());
  }

  /** string<lenenc> as bytes, or null for the 0xFB NULL marker */
  lenencBytesOrNull(): Buffer | null {
    const n = this.lenencIntOrNull();
    return n === null ? null : this.bytes(n);
  }

  /** string<lenenc> decoded as UTF-8 */
  lenencString(): string {
    const n = this.lenencInt();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** string<NUL> as bytes (a view, without the NUL) */
  nulBytes(): Buffer {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) throw new ProtocolError('unterminated string');
    const b = this.buf.subarray(this.pos, nul);
    this.pos = nul + 1;
    return b;
  }

  /** string<NUL> decoded as UTF-8 */
  nulString(): string {
    return this.nulBytes().toString('utf8');
  }

  /** string<NUL>, or the rest of the packet when no NUL follows (lenient for old servers) */
  nulStringOrRest(): string {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) return this.rest().toString('utf8');
    return this.nulString();
  }

  /** string[n] / binary<n> (a view) */
  bytes(n: number): Buffer {
    if (n < 0) throw new ProtocolError('negative length');
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** string<EOF> as bytes (a view) */
  rest(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }

  /** string<EOF> decoded as UTF-8 */
  restString(): string {
    return this.rest().toString('utf8');
  }

  /** ProtocolError unless every byte was read */
  expectEnd(what: string): void {
    if (this.pos !== this.end) throw new ProtocolError(`${what}: ${this.end - this.pos} unexpected trailing bytes`);
  }
}

/** Bytes taken by a length-encoded integer whose first byte is `first` (1 for 0xFB NULL). */
export function lenencPrefixLength(first: number): number {
  return first < 0xfc ? 1 : first === 0xfc ? 3 : first === 0xfd ? 4 : 9;
}

/**
 * Reads a length-encoded integer at `pos` without allocating: the value, or −1 for the 0xFB NULL
 * marker. Its size is lenencPrefixLength(buf[pos]). For scanners on hot paths.
 * ProtocolError on truncation, on 0xFF, and on values past 2^53.
 */
export function readLenencAt(buf: Buffer, pos: number, end: number): number {
  if (pos >= end) throw new ProtocolError('packet truncated');
  const first = buf[pos];
  if (first < 0xfb) return first;
  switch (first) {
    case 0xfb:
      return -1;
    case 0xfc:
      if (pos + 3 > end) throw new ProtocolError('packet truncated');
      return buf[pos + 1] | (buf[pos + 2] << 8);
    case 0xfd:
      if (pos + 4 > end) throw new ProtocolError('packet truncated');
      return buf[pos + 1] | (buf[pos + 2] << 8) | (buf[pos + 3] << 16);
    case 0xfe: {
      if (pos + 9 > end) throw new ProtocolError('packet truncated');
      const lo = buf.readUInt32LE(pos + 1);
      const hi = buf.readUInt32LE(pos + 5);
      if (hi > 0x1fffff) throw new ProtocolError('integer too large');
      return hi * TWO_32 + lo;
    }
    default:
      throw new ProtocolError('invalid length-encoded integer 0xff');
  }
}
