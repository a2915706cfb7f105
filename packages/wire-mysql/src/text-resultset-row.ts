import { ProtocolError } from './protocol-error.js';
import { lenencPrefixLength, readLenencAt } from './reader.js';
import { RowFields } from './row-fields.js';
import { lenencIntLength, writeLenencInt } from './writer.js';

const NULL_MARKER = 0xfb;

/**
 * Scans a ProtocolText::ResultsetRow: `columnCount` string<lenenc> fields, 0xFB for NULL.
 * Fills `out` (allocated when not given) with each field's offsets; ProtocolError when the
 * fields do not fill the payload exactly.
 */
export function scanTextRow(payload: Buffer, columnCount: number, out: RowFields = new RowFields(columnCount)): RowFields {
  out.reset(columnCount);
  const end = payload.length;
  let pos = 0;
  for (let i = 0; i < columnCount; i++) {
    out.start[i] = pos;
    if (pos >= end) throw new ProtocolError('text row truncated');
    if (payload[pos] === NULL_MARKER) {
      out.value[i] = -1;
      pos += 1;
    } else {
      const n = readLenencAt(payload, pos, end);
      const v = pos + lenencPrefixLength(payload[pos]);
      if (v + n > end) throw new ProtocolError('text row truncated');
      out.value[i] = v;
      pos = v + n;
    }
    out.end[i] = pos;
  }
  if (pos !== end) throw new ProtocolError(`text row has ${end - pos} bytes after its ${columnCount} fields`);
  return out;
}

/** A replacement for one field: bytes or a UTF-8 string, null for NULL; undefined keeps the field. */
export type TextReplacement = Buffer | string | null | undefined;

/**
 * Rebuilds a text row with some fields replaced; unchanged runs are copied as they are.
 * `replacements[i]` applies to field i (sparse arrays are fine).
 */
export function rebuildTextRow(payload: Buffer, fields: RowFields, replacements: readonly TextReplacement[]): Buffer {
  const n = fields.count;
  const enc: (Buffer | null | undefined)[] = new Array(n);
  let size = payload.length;
  for (let i = 0; i < n; i++) {
    const r = replacements[i];
    if (r === undefined) continue;
    const b = r === null ? null : typeof r === 'string' ? Buffer.from(r, 'utf8') : r;
    enc[i] = b;
    size += (b === null ? 1 : lenencIntLength(b.length) + b.length) - (fields.end[i] - fields.start[i]);
  }
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  let copyFrom = 0;
  for (let i = 0; i < n; i++) {
    const b = enc[i];
    if (b === undefined) continue;
    o += payload.copy(out, o, copyFrom, fields.start[i]);
    if (b === null) out[o++] = NULL_MARKER;
    else {
      o = writeLenencInt(out, o, b.length);
      o += b.copy(out, o);
    }
    copyFrom = fields.end[i];
  }
  payload.copy(out, o, copyFrom);
  return out;
}

/** Encodes a text row from values (null = NULL). */
export function encodeTextRow(values: readonly (Buffer | string | null)[]): Buffer {
  let size = 0;
  const bufs = values.map((v) => (v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : v));
  for (const b of bufs) size += b === null ? 1 : lenencIntLength(b.length) + b.length;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const b of bufs) {
    if (b === null) out[o++] = NULL_MARKER;
    else {
      o = writeLenencInt(out, o, b.length);
      o += b.copy(out, o);
    }
  }
  return out;
}
