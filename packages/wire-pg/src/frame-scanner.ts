import { ProtocolError } from './protocol-error.js';

/** What a consumer does with a whole frame handed to it. */
export const enum FrameAction {
  /** leave the frame's bytes in the pass-through run */
  Forward = 0,
  /** cut the frame out of the stream */
  Drop = 1,
  /** cut the frame out and stop scanning; the frame is re-offered on resume() */
  Pause = 2,
}

export interface FrameConsumer {
  /**
   * A whole frame of a type the consumer asked for (`type` byte + int32 length + body).
   * `frame` is a view into the socket chunk when the frame arrived in one piece, else a copy;
   * it is only valid during the call unless copied. Returning a Buffer replaces the frame
   * with those bytes, in order.
   */
  onFrame(type: number, frame: Buffer): FrameAction | Buffer;
  /** Raw bytes to forward as they are: runs of whole frames and pieces of streamed frames. */
  onPass(bytes: Buffer): void;
}

/**
 * Streaming framer for typed Postgres messages in either direction.
 *
 * Frames whose type is flagged in `wantWhole` are assembled (from views into the chunk
 * when possible) and offered to the consumer; all other frames stream through as raw
 * bytes, even when larger than a chunk, so memory stays flat. Consecutive forwarded
 * frames are emitted as one run, so an unmodified chunk is written on as a single view.
 */
export class FrameScanner {
  /** 256 flags: 1 = hand the frame whole to the consumer */
  readonly wantWhole = new Uint8Array(256);
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** bytes still to stream of a pass-through frame that spans chunks */
  private passRemaining = 0;
  /** a partial header (fewer than 5 bytes) carried to the next chunk */
  private header: Buffer | null = null;
  /** a whole-wanted frame being assembled across chunks */
  private partial: Buffer | null = null;
  private partialFill = 0;
  private paused = false;
  private pausedFrame: { type: number; frame: Buffer } | null = null;

  constructor(
    private readonly consumer: FrameConsumer,
    private maxWholeBytes: number,
  ) {}

  setMaxWholeBytes(n: number): void {
    this.maxWholeBytes = n;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** True when no frame is partly scanned: a synthesized frame may be inserted now. */
  get atBoundary(): boolean {
    return this.passRemaining === 0 && this.header === null && this.partial === null && this.pos >= this.chunk.length;
  }

  /** Bytes received but not yet scanned (while paused). */
  get buffered(): number {
    return this.chunk.length - this.pos + (this.pausedFrame ? this.pausedFrame.frame.length : 0);
  }

  push(chunk: Buffer): void {
    if (this.pos < this.chunk.length) {
      // still holding unscanned bytes (paused): append
      this.chunk = Buffer.concat([this.chunk.subarray(this.pos), chunk]);
    } else {
      this.chunk = chunk;
    }
    this.pos = 0;
    if (!this.paused) this.scan();
  }

  /** Continue after a Pause: the paused frame is offered again first. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.pausedFrame;
    this.pausedFrame = null;
    if (held) {
      if (!this.offer(held.type, held.frame, this.pos)) return;
    }
    this.scan();
  }

  private scan(): void {
    const buf = this.chunk;
    const end = buf.length;
    let pos = this.pos;
    let runStart = pos;

    if (this.passRemaining > 0) {
      const n = Math.min(this.passRemaining, end - pos);
      this.passRemaining -= n;
      pos += n;
    }

    if (this.partial !== null) {
      const need = this.partial.length - this.partialFill;
      const n = Math.min(need, end - pos);
      buf.copy(this.partial, this.partialFill, pos, pos + n);
      this.partialFill += n;
      pos += n;
      runStart = pos;
      if (this.partialFill < this.partial.length) {
        this.pos = pos;
        return;
      }
      const frame = this.partial;
      this.partial = null;
      if (!this.offer(frame[0], frame, pos)) return;
    }

    if (this.header !== null) {
      // complete a header split across chunks
      const need = 5 - this.header.length;
      const take = Math.min(need, end - pos);
      const hdr = Buffer.concat([this.header, buf.subarray(pos, pos + take)]);
      pos += take;
      if (hdr.length < 5) {
        this.header = hdr;
        this.pos = pos;
        return;
      }
      this.header = null;
      const type = hdr[0];
      const len = hdr.readInt32BE(1);
      if (len < 4) throw new ProtocolError(`invalid message length ${len}`);
      const total = len + 1;
      if (this.wantWhole[type] === 1) {
        if (total > this.maxWholeBytes) throw new ProtocolError(`message of ${total} bytes exceeds the limit of ${this.maxWholeBytes}`);
        const frame = Buffer.allocUnsafe(total);
        hdr.copy(frame, 0);
        const n = Math.min(total - 5, end - pos);
        buf.copy(frame, 5, pos, pos + n);
        pos += n;
        runStart = pos;
        if (5 + n < total) {
          this.partial = frame;
          this.partialFill = 5 + n;
          this.pos = pos;
          return;
        }
        if (!this.offer(type, frame, pos)) return;
      } else {
        // pass-through frame: emit the header bytes we held, then stream the body
        this.consumer.onPass(hdr);
        const n = Math.min(total - 5, end - pos);
        this.consumer.onPass(buf.subarray(pos, pos + n));
        pos += n;
        runStart = pos;
        this.passRemaining = total - 5 - n;
        if (this.passRemaining > 0) {
          this.pos = pos;
          return;
        }
      }
    }

    const want = this.wantWhole;
    while (pos < end) {
      if (end - pos < 5) {
        if (pos > runStart) this.consumer.onPass(buf.subarray(runStart, pos));
        this.header = Buffer.from(buf.subarray(pos, end));
        this.pos = end;
        return;
      }
      const type = buf[pos];
      const len = buf.readInt32BE(pos + 1);
      if (len < 4) throw new ProtocolError(`invalid message length ${len}`);
      const total = len + 1;
      if (want[type] !== 1) {
        if (pos + total <= end) {
          pos += total;
          continue;
        }
        // streamed frame spanning chunks: forward what we have
        this.passRemaining = pos + total - end;
        pos = end;
        break;
      }
      if (total > this.maxWholeBytes) throw new ProtocolError(`message of ${total} bytes exceeds the limit of ${this.maxWholeBytes}`);
      if (pos + total > end) {
        if (pos > runStart) this.consumer.onPass(buf.subarray(runStart, pos));
        const frame = Buffer.allocUnsafe(total);
        buf.copy(frame, 0, pos, end);
        this.partial = frame;
        this.partialFill = end - pos;
        this.pos = end;
        return;
      }
      const frame = buf.subarray(pos, pos + total);
      const action = this.consumer.onFrame(type, frame);
      if (action === FrameAction.Forward) {
        pos += total;
        continue;
      }
      if (pos > runStart) this.consumer.onPass(buf.subarray(runStart, pos));
      pos += total;
      runStart = pos;
      if (typeof action !== 'number') {
        if (action.length > 0) this.consumer.onPass(action);
      } else if (action === FrameAction.Pause) {
        this.paused = true;
        this.pausedFrame = { type, frame: Buffer.from(frame) };
        this.pos = pos;
        return;
      }
    }
    if (pos > runStart) this.consumer.onPass(buf.subarray(runStart, pos));
    this.pos = pos;
  }

  /** Offer an assembled frame; false when scanning must stop (paused). */
  private offer(type: number, frame: Buffer, pos: number): boolean {
    const action = this.consumer.onFrame(type, frame);
    if (action === FrameAction.Forward) this.consumer.onPass(frame);
    else if (typeof action !== 'number') {
      if (action.length > 0) this.consumer.onPass(action);
    } else if (action === FrameAction.Pause) {
      this.paused = true;
      this.pausedFrame = { type, frame };
      this.pos = pos;
      return false;
    }
    return true;
  }
}
