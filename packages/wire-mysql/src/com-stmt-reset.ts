import { Command } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';

/** Decodes COM_STMT_RESET (drops long data sent for a statement, closes its cursor; answered with OK or ERR): the statement id. */
export function decodeComStmtReset(payload: Buffer): number {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.StmtReset) throw new ProtocolError('not COM_STMT_RESET');
  const id = r.u32();
  r.expectEnd('COM_STMT_RESET');
  return id;
}

export function encodeComStmtReset(statementId: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = Command.StmtReset;
  b.writeUInt32LE(statementId, 1);
  return b;
}
