import { Command } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';

/** COM_STMT_FETCH: rows from a statement's open cursor. */
export interface ComStmtFetch {
  statementId: number;
  numRows: number;
}

export function decodeComStmtFetch(payload: Buffer): ComStmtFetch {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.StmtFetch) throw new ProtocolError('not COM_STMT_FETCH');
  const statementId = r.u32();
  const numRows = r.u32();
  r.expectEnd('COM_STMT_FETCH');
  return { statementId, numRows };
}

export function encodeComStmtFetch(f: ComStmtFetch): Buffer {
  const b = Buffer.allocUnsafe(9);
  b[0] = Command.StmtFetch;
  b.writeUInt32LE(f.statementId, 1);
  b.writeUInt32LE(f.numRows, 5);
  return b;
}
