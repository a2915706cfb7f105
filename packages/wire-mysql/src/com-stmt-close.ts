import { Command } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';

/** Decodes COM_STMT_CLOSE (deallocates a prepared statement; never answered): the statement id. */
export function decodeComStmtClose(payload: Buffer): number {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.StmtClose) throw new ProtocolError('not COM_STMT_CLOSE');
  const id = r.u32();
  r.expectEnd('COM_STMT_CLOSE');
  return id;
}

export function encodeComStmtClose(statementId: number): Buffer {
  const b = Buffer.allocUnsafe(5);
  b[0] = Command.StmtClose;
  b.writeUInt32LE(statementId, 1);
  return b;
}
