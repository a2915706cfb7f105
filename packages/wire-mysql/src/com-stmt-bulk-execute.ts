import { BulkFlag, BulkIndicator, Command } from './codes.js';
import { PARAM_UNSIGNED } from './column-type.js';
import { binaryValueEnd } from './binary-value.js';
import type { ParamType } from './com-stmt-execute.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** One value of a bulk row: an indicator and, for BulkIndicator.None, the encoded value bytes (a view). */
export interface BulkValue {
  indicator: number;
  value: Buffer | null;
}

/** MariaDB COM_STMT_BULK_EXECUTE: many parameter rows for one prepared statement. */
export interface ComStmtBulkExecute {
  statementId: number;
  /** BulkFlag bits */
  flags: number;
  /** the types in force: sent in this packet with SEND_TYPES_TO_SERVER, else the previous ones */
  types: ParamType[];
  rows: BulkValue[][];
}

/** Decodes COM_STMT_BULK_EXECUTE; `paramCount` is the statement's num_params. */
export function decodeComStmtBulkExecute(payload: Buffer, paramCount: number, previousTypes?: readonly ParamType[]): ComStmtBulkExecute {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.StmtBulkExecute) throw new ProtocolError('not COM_STMT_BULK_EXECUTE');
  const statementId = r.u32();
  const flags = r.u16();
  let types: ParamType[];
  if ((flags & BulkFlag.SendTypesToServer) !== 0) {
    types = [];
    for (let i = 0; i < paramCount; i++) {
      const type = r.u8();
      types.push({ type, unsigned: (r.u8() & PARAM_UNSIGNED) !== 0 });
    }
  } else {
    if (!previousTypes || previousTypes.length < paramCount) throw new ProtocolError('parameter types were never sent');
    types = previousTypes.slice(0, paramCount);
  }
  const rows: BulkValue[][] = [];
  if (paramCount === 0 && !r.atEnd) throw new ProtocolError('bulk rows for a statement without parameters');
  while (!r.atEnd) {
    const row: BulkValue[] = [];
    for (let i = 0; i < paramCount; i++) {
      const indicator = r.u8();
      if (indicator > BulkIndicator.Ignore) throw new ProtocolError(`invalid bulk indicator ${indicator}`);
      let value: Buffer | null = null;
      if (indicator === BulkIndicator.None) {
        const end = binaryValueEnd(r.buf, r.pos, r.end, types[i].type);
        value = r.bytes(end - r.pos);
      }
      row.push({ indicator, value });
    }
    rows.push(row);
  }
  return { statementId, flags, types, rows };
}

export function encodeComStmtBulkExecute(b: ComStmtBulkExecute): Buffer {
  const w = new PayloadWriter(64);
  w.u8(Command.StmtBulkExecute).u32(b.statementId).u16(b.flags);
  if ((b.flags & BulkFlag.SendTypesToServer) !== 0) for (const t of b.types) w.u8(t.type).u8(t.unsigned ? PARAM_UNSIGNED : 0);
  for (const row of b.rows) {
    for (const v of row) {
      w.u8(v.indicator);
      if (v.indicator === BulkIndicator.None) {
        if (v.value === null) throw new RangeError('bulk value with indicator NONE needs bytes');
        w.bytes(v.value);
      }
    }
  }
  return w.finish();
}
