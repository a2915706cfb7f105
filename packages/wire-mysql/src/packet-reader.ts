import { MAX_PACKET_PAYLOAD } from './packet.js';
import { PacketTooLargeError, ProtocolError } from './protocol-error.js';

/** A whole logical packet: continuation packets already joined. */
export interface Packet {
  /** the payload: a view into the socket chunk when it arrived in one piece, else a copy */
  payload: Buffer;
  /** sequence id of the first physical packet */
  seq: number;
  /** sequence id of the last physical packet; a reply uses lastSeq + 1 */
  lastSeq: number;
}

/** One physical packet as it came off the wire, for forwarding untouched. */
export interface RawPacket {
  /** header and payload: a view into the socket chunk when it arrived in one piece, else a copy */
  bytes: Buffer;
  /** the payload part of `bytes` */
  payload: Buffer;
  /** payload length from the header */
  length: number;
  seq: number;
  /** this packet continues the previous one (which had a 0xFFFFFF payload) */
  continued: boolean;
  /** the payload is exactly 0xFFFFFF bytes: another packet of the same logical packet follows */
  more: boolean;
}

export interface PacketReaderOptions {
  /** largest logical payload accepted (default 64 MiB); larger ones throw PacketTooLargeError before they are buffered */
  maxPacketSize?: number;
}

/**
 * Packet framer for either direction. `push` socket chunks, then pull with `next()` (whole logical
 * packets, 16 MiB continuations joined) or `nextRaw()` (each physical packet as it is, for
 * forwarding). Both may be mixed at logical-packet boundaries. A packet is copied only when it
 * spans chunks (and a continued logical packet, which is joined). Pulling is the backpressure: the
 * reader holds what was pushed and not yet pulled.
 */
export class PacketReader {
  maxPacketSize: number;
  private chunks: Buffer[] = [];
  private head = 0;
  private pos = 0;
  private avail = 0;
  /** logical-packet assembly (next) */
  private parts: Buffer[] = [];
  private firstSeq = 0;
  /** continuation state shared by next and nextRaw */
  private chainLen = 0;
  private chainSeq = -1;
  private inChain = false;

  constructor(options: PacketReaderOptions = {}) {
    this.maxPacketSize = options.maxPacketSize ?? 64 * 1024 * 1024;
  }

  /** Bytes pushed and not yet pulled (including a packet being joined). */
  get buffered(): number {
    let n = this.avail;
    for (const p of this.parts) n += p.length;
    return n;
  }

  /** True when nothing is buffered and no logical packet is half-read. */
  get atBoundary(): boolean {
    return this.avail === 0 && !this.inChain;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.avail === 0) {
      this.chunks.length = 0;
      this.head = 0;
      this.pos = 0;
    }
    this.chunks.push(chunk);
    this.avail += chunk.length;
  }

  /**
   * Drains the bytes not yet framed (e.g. what followed an SSLRequest before the TLS upgrade).
   * A logical packet half-joined by next() is dropped.
   */
  takeBuffered(): Buffer {
    const out = this.avail === 0 ? Buffer.alloc(0) : this.take(this.avail);
    this.parts = [];
    this.inChain = false;
    this.chainLen = 0;
    return out;
  }

  /** The next whole logical packet, or null when more bytes are needed. */
  next(): Packet | null {
    if (this.inChain && this.parts.length === 0) throw new Error('next() called inside a continued packet read with nextRaw()');
    for (;;) {
      const h = this.header();
      if (h === null) return null;
      const { len, seq } = h;
      if (this.avail < 4 + len) return null;
      this.skipBytes(4);
      const payload = this.take(len);
      if (len === MAX_PACKET_PAYLOAD) {
        if (this.parts.length === 0) this.firstSeq = seq;
        this.parts.push(payload);
        this.advanceChain(len, seq, true);
        continue;
      }
      this.advanceChain(len, seq, false);
      if (this.parts.length === 0) return { payload, seq, lastSeq: seq };
      this.parts.push(payload);
      const joined = Buffer.concat(this.parts);
      this.parts = [];
      return { payload: joined, seq: this.firstSeq, lastSeq: seq };
    }
  }

  /** The next physical packet, or null when more bytes are needed. */
  nextRaw(): RawPacket | null {
    if (this.parts.length > 0) throw new Error('nextRaw() called inside a continued packet read with next()');
    const h = this.header();
    if (h === null) return null;
    const { len, seq } = h;
    if (this.avail < 4 + len) return null;
    const continued = this.inChain;
    const bytes = this.take(4 + len);
    const more = len === MAX_PACKET_PAYLOAD;
    this.advanceChain(len, seq, more);
    return { bytes, payload: bytes.subarray(4), length: len, seq, continued, more };
  }

  /** Peeks and validates the next header; null when fewer than 4 bytes are buffered. */
  private header(): { len: number; seq: number } | null {
    if (this.avail < 4) return null;
    let len: number;
    let seq: number;
    const c = this.chunks[this.head];
    if (c.length - this.pos >= 4) {
      len = c[this.pos] | (c[this.pos + 1] << 8) | (c[this.pos + 2] << 16);
      seq = c[this.pos + 3];
    } else {
      const h = this.peek4();
      len = h[0] | (h[1] << 8) | (h[2] << 16);
      seq = h[3];
    }
    if (this.inChain && seq !== ((this.chainSeq + 1) & 0xff)) {
      throw new ProtocolError(`continuation packet out of order: sequence ${seq} after ${this.chainSeq}`);
    }
    const logical = (this.inChain ? this.chainLen : 0) + len;
    if (logical > this.maxPacketSize) throw new PacketTooLargeError(logical, this.maxPacketSize);
    return { len, seq };
  }

  private advanceChain(len: number, seq: number, more: boolean): void {
    if (more) {
      this.chainLen = (this.inChain ? this.chainLen : 0) + len;
      this.chainSeq = seq;
      this.inChain = true;
    } else {
      this.chainLen = 0;
      this.inChain = false;
    }
  }

  private peek4(): number[] {
    const out: number[] = [];
    let i = this.head;
    let p = this.pos;
    while (out.length < 4) {
      const c = this.chunks[i];
      if (p >= c.length) {
        i++;
        p = 0;
        continue;
      }
      out.push(c[p++]);
    }
    return out;
  }

  private skipBytes(n: number): void {
    this.avail -= n;
    while (n > 0) {
      const c = this.chunks[this.head];
      const here = c.length - this.pos;
      if (n < here) {
        this.pos += n;
        return;
      }
      n -= here;
      this.chunks[this.head] = EMPTY;
      this.head++;
      this.pos = 0;
    }
    this.compact();
  }

  /** n bytes from the front: a view when they sit in one chunk, else a copy. */
  private take(n: number): Buffer {
    const c = this.chunks[this.head];
    if (n === 0) return EMPTY;
    if (c.length - this.pos >= n) {
      const v = c.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.avail -= n;
      if (this.pos === c.length) {
        this.chunks[this.head] = EMPTY;
        this.head++;
        this.pos = 0;
        this.compact();
      }
      return v;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const cur = this.chunks[this.head];
      const k = Math.min(n - filled, cur.length - this.pos);
      cur.copy(out, filled, this.pos, this.pos + k);
      filled += k;
      this.pos += k;
      if (this.pos === cur.length) {
        this.chunks[this.head] = EMPTY;
        this.head++;
        this.pos = 0;
      }
    }
    this.avail -= n;
    this.compact();
    return out;
  }

  private compact(): void {
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
      this.pos = 0;
    } else if (this.head > 32 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
