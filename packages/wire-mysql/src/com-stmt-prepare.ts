import { Capability } from './capabilities.js';
import { Command, ResponseHeader } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** Decodes COM_STMT_PREPARE: the statement text (a view). */
export function decodeComStmtPrepare(payload: Buffer): Buffer {
  if (payload.length === 0 || payload[0] !== Command.StmtPrepare) throw new ProtocolError('not COM_STMT_PREPARE');
  return payload.subarray(1);
}

export function encodeComStmtPrepare(query: string | Uint8Array): Buffer {
  const text = typeof query === 'string' ? Buffer.from(query, 'utf8') : query;
  return new PayloadWriter(text.length + 1).u8(Command.StmtPrepare).bytes(text).finish();
}

/** COM_STMT_PREPARE_OK, the first packet of a successful prepare's response. */
export interface ComStmtPrepareOk {
  statementId: number;
  numColumns: number;
  numParams: number;
  warnings: number;
  /** CLIENT_OPTIONAL_RESULTSET_METADATA: false when the definitions are left out; true otherwise */
  metadataFollows: boolean;
}

export function decodeComStmtPrepareOk(payload: Buffer, capabilities: number): ComStmtPrepareOk {
  const r = new PayloadReader(payload);
  if (r.u8() !== ResponseHeader.Ok) throw new ProtocolError('not COM_STMT_PREPARE_OK');
  const statementId = r.u32();
  const numColumns = r.u16();
  const numParams = r.u16();
  r.skip(1); // reserved
  // the warning count is optional in the spec (servers always send it)
  const warnings = r.remaining >= 2 ? r.u16() : 0;
  let metadataFollows = true;
  if ((capabilities & Capability.OptionalResultsetMetadata) !== 0 && !r.atEnd) metadataFollows = r.u8() !== 0;
  return { statementId, numColumns, numParams, warnings, metadataFollows };
}

export function encodeComStmtPrepareOk(p: Omit<ComStmtPrepareOk, 'metadataFollows'> & { metadataFollows?: boolean }, capabilities: number): Buffer {
  const w = new PayloadWriter(13);
  w.u8(ResponseHeader.Ok).u32(p.statementId).u16(p.numColumns).u16(p.numParams).u8(0).u16(p.warnings);
  if ((capabilities & Capability.OptionalResultsetMetadata) !== 0) w.u8(p.metadataFollows === false ? 0 : 1);
  return w.finish();
}
