import { Command } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** COM_FIELD_LIST (deprecated; answered with column definitions carrying default values). */
export interface ComFieldList {
  table: string;
  wildcard: string;
}

export function decodeComFieldList(payload: Buffer): ComFieldList {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.FieldList) throw new ProtocolError('not COM_FIELD_LIST');
  const table = r.nulString();
  return { table, wildcard: r.restString() };
}

export function encodeComFieldList(f: ComFieldList): Buffer {
  return new PayloadWriter(32).u8(Command.FieldList).nulString(f.table).string(f.wildcard).finish();
}
