import { Command } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';

/** Decodes COM_SET_OPTION: the SetOption value (multi-statements on/off). */
export function decodeComSetOption(payload: Buffer): number {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.SetOption) throw new ProtocolError('not COM_SET_OPTION');
  const option = r.u16();
  r.expectEnd('COM_SET_OPTION');
  return option;
}

export function encodeComSetOption(option: number): Buffer {
  const b = Buffer.allocUnsafe(3);
  b[0] = Command.SetOption;
  b.writeUInt16LE(option, 1);
  return b;
}
