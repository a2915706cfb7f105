import { Capability } from './capabilities.js';
import { ResponseHeader } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** EOF_Packet. */
export interface EofPacket {
  warnings: number;
  statusFlags: number;
}

/** Decodes an EOF packet (5 bytes with CLIENT_PROTOCOL_41, 1 byte before). */
export function decodeEofPacket(payload: Buffer): EofPacket {
  if (payload.length === 0 || payload[0] !== ResponseHeader.Eof || payload.length >= 9) throw new ProtocolError('not an EOF packet');
  if (payload.length < 5) return { warnings: 0, statusFlags: 0 };
  const r = new PayloadReader(payload, 1);
  const warnings = r.u16();
  return { warnings, statusFlags: r.u16() };
}

/** Encodes an EOF packet. */
export function encodeEofPacket(eof: EofPacket, capabilities: number = Capability.Protocol41): Buffer {
  if ((capabilities & Capability.Protocol41) === 0) return Buffer.from([ResponseHeader.Eof]);
  return new PayloadWriter(5).u8(ResponseHeader.Eof).u16(eof.warnings).u16(eof.statusFlags).finish();
}
