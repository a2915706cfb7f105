import { binaryValueEnd, decodeBinaryValue, encodeBinaryValue, type BinaryValue } from './binary-value.js';
import { ColumnFlag } from './column-type.js';
import { ProtocolError } from './protocol-error.js';
import { RowFields } from './row-fields.js';

/** The type facts a binary row scan needs per column (a ColumnDefinition41 fits). */
export interface BinaryColumn {
  type: number;
  flags: number;
}

/** Bytes of a binary row's NULL bitmap (it starts at bit 2). */
export function binaryRowBitmapLength(columnCount: number): number {
  return (columnCount + 9) >> 3;
}

/**
 * Scans a ProtocolBinary::ResultsetRow: a 0x00 header, the NULL bitmap (offset 2), then each
 * non-NULL value in its type's encoding. Fills `out` with each field's offsets (a NULL field is an
 * empty span). ProtocolError when the values do not fill the payload exactly.
 */
export function scanBinaryRow(payload: Buffer, columns: readonly Pick<BinaryColumn, 'type'>[], out: RowFields = new RowFields(columns.length)): RowFields {
  const n = columns.length;
  out.reset(n);
  const end = payload.length;
  const bitmapLen = binaryRowBitmapLength(n);
  if (end < 1 + bitmapLen) throw new ProtocolError('binary row truncated');
  if (payload[0] !== 0x00) throw new ProtocolError(`binary row header 0x${payload[0].toString(16)}`);
  let pos = 1 + bitmapLen;
  for (let i = 0; i < n; i++) {
    const bit = i + 2;
    out.start[i] = pos;
    if ((payload[1 + (bit >> 3)] & (1 << (bit & 7))) !== 0) {
      out.value[i] = -1;
      out.end[i] = pos;
      continue;
    }
    const next = binaryValueEnd(payload, pos, end, columns[i].type);
    out.value[i] = pos;
    out.end[i] = next;
    pos = next;
  }
  if (pos !== end) throw new ProtocolError(`binary row has ${end - pos} bytes after its ${n} values`);
  return out;
}

/** Decodes field i of a scanned binary row (null for NULL). */
export function binaryRowValue(payload: Buffer, fields: RowFields, columns: readonly BinaryColumn[], i: number): BinaryValue | null {
  const v = fields.valueOf(payload, i);
  if (v === null) return null;
  return decodeBinaryValue(v, columns[i].type, (columns[i].flags & ColumnFlag.Unsigned) !== 0);
}

/** A replacement for one binary field: a value encoded by the column's type, null for NULL; undefined keeps it. */
export type BinaryReplacement = BinaryValue | string | null | undefined;

/**
 * Rebuilds a binary row with some fields replaced: values are encoded for each column's type
 * (a string or Buffer for length-encoded types), NULLs set their bitmap bit.
 */
export function rebuildBinaryRow(payload: Buffer, fields: RowFields, columns: readonly BinaryColumn[], replacements: readonly BinaryReplacement[]): Buffer {
  const enc: (Buffer | null | undefined)[] = new Array(fields.count);
  for (let i = 0; i < fields.count; i++) {
    const r = replacements[i];
    if (r !== undefined) enc[i] = r === null ? null : encodeBinaryValue(columns[i].type, r, (columns[i].flags & ColumnFlag.Unsigned) !== 0);
  }
  return spliceBinaryRow(payload, fields, enc);
}

/**
 * Rebuilds a scanned binary row with some fields replaced by already encoded ones: `encoded[i]` is
 * field i's whole encoding in its column's type, null for NULL (its bitmap bit is set), undefined to
 * keep it. Unchanged runs are copied as they are.
 */
export function spliceBinaryRow(payload: Buffer, fields: RowFields, encoded: readonly (Buffer | null | undefined)[]): Buffer {
  const n = fields.count;
  const bitmapLen = binaryRowBitmapLength(n);
  let size = payload.length;
  for (let i = 0; i < n; i++) {
    const b = encoded[i];
    if (b !== undefined) size += (b === null ? 0 : b.length) - (fields.end[i] - fields.start[i]);
  }
  const out = Buffer.allocUnsafe(size);
  payload.copy(out, 0, 0, 1 + bitmapLen);
  let o = 1 + bitmapLen;
  let copyFrom = o;
  for (let i = 0; i < n; i++) {
    const b = encoded[i];
    if (b === undefined) continue;
    o += payload.copy(out, o, copyFrom, fields.start[i]);
    const bit = i + 2;
    if (b === null) out[1 + (bit >> 3)] |= 1 << (bit & 7);
    else {
      out[1 + (bit >> 3)] &= ~(1 << (bit & 7));
      o += b.copy(out, o);
    }
    copyFrom = fields.end[i];
  }
  payload.copy(out, o, copyFrom);
  return out;
}

/** Encodes a binary row from values (null = NULL), each encoded by its column's type. */
export function encodeBinaryRow(columns: readonly BinaryColumn[], values: readonly (BinaryValue | string | null)[]): Buffer {
  const n = columns.length;
  const bitmap = Buffer.alloc(binaryRowBitmapLength(n));
  const parts: Buffer[] = [Buffer.from([0]), bitmap];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const bit = i + 2;
    if (v === null || v === undefined) bitmap[bit >> 3] |= 1 << (bit & 7);
    else parts.push(encodeBinaryValue(columns[i].type, v, (columns[i].flags & ColumnFlag.Unsigned) !== 0));
  }
  return Buffer.concat(parts);
}
