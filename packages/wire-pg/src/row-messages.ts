import { ProtocolError } from './protocol-error.js';
import { Reader } from './reader.js';

/** One column of a RowDescription ('T'). */
export interface FieldDescription {
  name: string;
  /** OID of the table the column comes from, 0 when it is an expression */
  tableOid: number;
  /** attribute number in that table, 0 when it is an expression */
  attnum: number;
  typeOid: number;
  typeLen: number;
  typeMod: number;
  /** 0 text, 1 binary (0 for Describe of a statement: the format is not known yet) */
  format: number;
}

export function decodeRowDescription(frame: Buffer): FieldDescription[] {
  const r = new Reader(frame, 5);
  const n = r.int16();
  if (n < 0) throw new ProtocolError('negative field count in RowDescription');
  const fields: FieldDescription[] = [];
  for (let i = 0; i < n; i++) {
    fields.push({
      name: r.cstring(),
      tableOid: r.int32() >>> 0,
      attnum: r.int16(),
      typeOid: r.int32() >>> 0,
      typeLen: r.int16(),
      typeMod: r.int32(),
      format: r.int16(),
    });
  }
  if (r.remaining !== 0) throw new ProtocolError('trailing bytes in RowDescription');
  return fields;
}

/**
 * Rewrites the fields of a DataRow ('D') for which `replace` returns something other than
 * `undefined`: a Buffer (the new value) or null (SQL NULL). Untouched fields are copied as bytes.
 * Returns the original frame when nothing changed.
 */
export function rewriteDataRow(frame: Buffer, replace: (index: number, value: Buffer | null) => Buffer | null | undefined): Buffer {
  if (frame.length < 7) throw new ProtocolError('DataRow truncated');
  const count = frame.readInt16BE(5);
  if (count < 0) throw new ProtocolError('negative column count in DataRow');
  let pos = 7;
  let changed = false;
  const out: { start: number; end: number; value?: Buffer | null }[] = [];
  for (let i = 0; i < count; i++) {
    if (pos + 4 > frame.length) throw new ProtocolError('DataRow truncated');
    const len = frame.readInt32BE(pos);
    const start = pos;
    const valueStart = pos + 4;
    const end = len < 0 ? valueStart : valueStart + len;
    if (len < -1 || end > frame.length) throw new ProtocolError('DataRow field length out of range');
    const value = len < 0 ? null : frame.subarray(valueStart, end);
    const repl = replace(i, value);
    if (repl !== undefined) {
      changed = true;
      out.push({ start, end, value: repl });
    } else out.push({ start, end });
    pos = end;
  }
  if (pos !== frame.length) throw new ProtocolError('trailing bytes in DataRow');
  if (!changed) return frame;
  let size = 7;
  for (const f of out) size += f.value === undefined ? f.end - f.start : 4 + (f.value === null ? 0 : f.value.length);
  const b = Buffer.allocUnsafe(size);
  b[0] = 0x44;
  b.writeInt32BE(size - 1, 1);
  b.writeInt16BE(count, 5);
  let o = 7;
  for (const f of out) {
    if (f.value === undefined) {
      o += frame.copy(b, o, f.start, f.end);
    } else if (f.value === null) {
      b.writeInt32BE(-1, o);
      o += 4;
    } else {
      b.writeInt32BE(f.value.length, o);
      o += 4;
      o += f.value.copy(b, o);
    }
  }
  return b;
}

/** Bind ('B'): which portal, from which statement, and the result-column format codes. */
export interface BindSummary {
  portal: string;
  statement: string;
  /** [] = all text; [f] = f for every column; else one code per column */
  resultFormats: number[];
}

export function decodeBind(frame: Buffer): BindSummary {
  const r = new Reader(frame, 5);
  const portal = r.cstring();
  const statement = r.cstring();
  const nfmt = r.int16();
  if (nfmt < 0) throw new ProtocolError('negative format count in Bind');
  for (let i = 0; i < nfmt; i++) r.int16();
  const nparams = r.int16();
  if (nparams < 0) throw new ProtocolError('negative parameter count in Bind');
  for (let i = 0; i < nparams; i++) {
    const len = r.int32();
    if (len > 0) r.bytes(len);
    else if (len < -1) throw new ProtocolError('invalid parameter length in Bind');
  }
  const nres = r.int16();
  if (nres < 0) throw new ProtocolError('negative result format count in Bind');
  const resultFormats: number[] = [];
  for (let i = 0; i < nres; i++) resultFormats.push(r.int16());
  if (r.remaining !== 0) throw new ProtocolError('trailing bytes in Bind');
  return { portal, statement, resultFormats };
}

/** The format of result column `i` under Bind's result format codes. */
export function resultFormatOf(formats: readonly number[], i: number): number {
  if (formats.length === 0) return 0;
  if (formats.length === 1) return formats[0];
  return formats[i] ?? 0;
}

/** Describe ('D') and Close ('C'): 'S' statement or 'P' portal, and its name. */
export function decodeTargetMessage(frame: Buffer): { target: 'S' | 'P'; name: string } {
  const r = new Reader(frame, 5);
  const t = r.byte();
  if (t !== 0x53 && t !== 0x50) throw new ProtocolError(`invalid Describe/Close target "${String.fromCharCode(t)}"`);
  const name = r.cstring();
  if (r.remaining !== 0) throw new ProtocolError('trailing bytes in Describe/Close');
  return { target: t === 0x53 ? 'S' : 'P', name };
}

/** Execute ('E'): the portal and the row limit (0 = all). */
export function decodeExecute(frame: Buffer): { portal: string; maxRows: number } {
  const r = new Reader(frame, 5);
  const portal = r.cstring();
  const maxRows = r.int32();
  if (r.remaining !== 0) throw new ProtocolError('trailing bytes in Execute');
  return { portal, maxRows };
}
