import { Capability } from './capabilities.js';
import { ErrorCode, ResponseHeader } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** ERR_Packet. */
export interface ErrPacket {
  errorCode: number;
  /** five characters after the '#' marker; null in the pre-4.1 form (and for errors sent before the handshake) */
  sqlState: string | null;
  message: string;
}

/** Decodes an ERR packet; the SQLSTATE is read when the '#' marker is there. */
export function decodeErrPacket(payload: Buffer): ErrPacket {
  const r = new PayloadReader(payload);
  if (r.u8() !== ResponseHeader.Err) throw new ProtocolError('not an ERR packet');
  const errorCode = r.u16();
  let sqlState: string | null = null;
  if (r.peek() === 0x23 /* '#' */) {
    r.skip(1);
    sqlState = r.bytes(5).toString('latin1');
  }
  return { errorCode, sqlState, message: r.restString() };
}

/**
 * Encodes an ERR packet. With CLIENT_PROTOCOL_41 (the default when `capabilities` is omitted)
 * the SQLSTATE goes after a '#' marker; `sqlState` must be five ASCII characters.
 */
export function encodeErrPacket(err: { errorCode: number; sqlState?: string | null; message: string }, capabilities: number = Capability.Protocol41): Buffer {
  const w = new PayloadWriter(err.message.length + 16);
  w.u8(ResponseHeader.Err).u16(err.errorCode);
  if ((capabilities & Capability.Protocol41) !== 0) {
    const state = err.sqlState ?? 'HY000';
    if (!/^[\x20-\x7e]{5}$/.test(state)) throw new RangeError(`SQLSTATE must be 5 ASCII characters: ${JSON.stringify(state)}`);
    w.u8(0x23).bytes(Buffer.from(state, 'latin1'));
  }
  return w.string(err.message).finish();
}

/** MariaDB progress report (an ERR packet with code 0xFFFF, sent when MARIADB_CLIENT_PROGRESS was negotiated). */
export interface ProgressReport {
  stage: number;
  maxStage: number;
  /** progress in thousandths of a percent (0..100000) */
  progress: number;
  info: string;
}

/** True for a MariaDB progress report, which is not an error and does not end a command. */
export function isProgressReport(payload: Buffer): boolean {
  return payload.length >= 3 && payload[0] === ResponseHeader.Err && payload.readUInt16LE(1) === ErrorCode.Progress;
}

export function decodeProgressReport(payload: Buffer): ProgressReport {
  if (!isProgressReport(payload)) throw new ProtocolError('not a progress report');
  const r = new PayloadReader(payload, 3);
  r.u8(); // number of strings, always 1
  const stage = r.u8();
  const maxStage = r.u8();
  const progress = r.u24();
  return { stage, maxStage, progress, info: r.lenencString() };
}

export function encodeProgressReport(p: ProgressReport): Buffer {
  return new PayloadWriter(32).u8(ResponseHeader.Err).u16(ErrorCode.Progress).u8(1).u8(p.stage).u8(p.maxStage).u24(p.progress).lenencString(p.info).finish();
}
