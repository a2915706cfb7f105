import { Command } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';

/** Decodes COM_PROCESS_KILL: the connection id to kill. */
export function decodeComProcessKill(payload: Buffer): number {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.ProcessKill) throw new ProtocolError('not COM_PROCESS_KILL');
  const id = r.u32();
  r.expectEnd('COM_PROCESS_KILL');
  return id;
}

export function encodeComProcessKill(connectionId: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = Command.ProcessKill;
  b.writeUInt32LE(connectionId, 1);
  return b;
}
