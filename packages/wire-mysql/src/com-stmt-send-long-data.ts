import { Command } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** COM_STMT_SEND_LONG_DATA: a chunk of one parameter's value, sent before the execute. No response. */
export interface ComStmtSendLongData {
  statementId: number;
  paramId: number;
  /** a view */
  data: Buffer;
}

export function decodeComStmtSendLongData(payload: Buffer): ComStmtSendLongData {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.StmtSendLongData) throw new ProtocolError('not COM_STMT_SEND_LONG_DATA');
  const statementId = r.u32();
  const paramId = r.u16();
  return { statementId, paramId, data: r.rest() };
}

export function encodeComStmtSendLongData(c: ComStmtSendLongData): Buffer {
  return new PayloadWriter(7 + c.data.length).u8(Command.StmtSendLongData).u32(c.statementId).u16(c.paramId).bytes(c.data).finish();
}
