import { ProtocolError } from './protocol-error.js';

/** Bounds-checked reads over a message body; every overrun is a ProtocolError. */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  int32(): number {
    if (this.pos + 4 > this.end) throw new ProtocolError('message truncated');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int16(): number {
    if (this.pos + 2 > this.end) throw new ProtocolError('message truncated');
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  byte(): number {
    if (this.pos >= this.end) throw new ProtocolError('message truncated');
    return this.buf[this.pos++];
  }

  cstring(): string {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) throw new ProtocolError('unterminated string');
    const s = this.buf.toString('utf8', this.pos, nul);
    this.pos = nul + 1;
    return s;
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.end) throw new ProtocolError('message truncated');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  rest(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }

  get remaining(): number {
    return this.end - this.pos;
  }
}
