/**
 * The rows inside COPY data (COPY ... TO STDOUT): text, CSV and binary formats, read incrementally.
 *
 * CopyData messages are not aligned to rows: a row can span messages and a message can hold many
 * rows. {@link CopyRowReader} takes the payloads in order and hands over each complete row with
 * its field spans; only the unfinished row at the end of a payload is carried (copied) to the next,
 * and never more than `maxRowBytes` of it. The field helpers decode a field to the value the
 * server's output function produced and encode a value back exactly as the server writes it
 * (CopyAttributeOutText / CopyAttributeOutCSV / the binary send format), so a rewritten field
 * reads back as the replacement in any COPY FROM or CSV reader.
 *
 * Everything here assumes a client encoding in which ASCII bytes never occur inside multi-byte
 * characters (UTF-8 and the other server encodings); the caller refuses the others.
 */
import { ProtocolError } from './protocol-error.js';

/** COPY data that does not follow its format (or exceeds the row limit). */
export class CopyFormatError extends ProtocolError {
  constructor(message: string) {
    super(message);
    this.name = 'CopyFormatError';
  }
}

/** How the rows of one COPY are written (the bytes of DELIMITER, QUOTE, ESCAPE and NULL as the client receives them). */
export type CopyFormat =
  | { kind: 'text'; delimiter: number; null: Buffer; header: boolean }
  | {
      kind: 'csv';
      delimiter: number;
      quote: number;
      escape: number;
      null: Buffer;
      header: boolean;
      /** FORCE_QUOTE per column (1: always quoted); null when not known, then a new value is quoted where the old one was */
      forceQuote: Uint8Array | null;
    }
  | { kind: 'binary' };

export const enum CopyRowKind {
  /** the header line of text/CSV, or the binary file header */
  Header = 0,
  Tuple = 1,
  /** the binary trailer (field count -1) */
  Trailer = 2,
}

/**
 * One complete row, valid only during the callback (the arrays are reused for the next row).
 * Field spans are absolute offsets into `buf`; a binary NULL has start and end -1.
 */
export interface CopyRow {
  kind: CopyRowKind;
  buf: Buffer;
  /** the row's bytes, terminator included: buf[start, end) */
  start: number;
  end: number;
  /** number of fields (tuples and text/CSV headers) */
  count: number;
  fieldStart: Int32Array;
  fieldEnd: Int32Array;
  /** CSV: 1 when the field contains a quote character (a quoted field) */
  quoted: Uint8Array;
}

/** Signature of the binary format's header. */
export const COPY_BINARY_SIGNATURE: Buffer = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

const BACKSLASH = 0x5c;
const NL = 0x0a;
const CR = 0x0d;

const enum Bin {
  Signature,
  Flags,
  ExtensionLength,
  Extension,
  Count,
  FieldLength,
  FieldData,
  Done,
}

const enum Csv {
  Plain = 0,
  Quoted = 1,
  /** in quotes, after a quote when QUOTE = ESCAPE: a doubled quote or the closing one */
  QuotedAfterQuote = 2,
  /** in quotes, after ESCAPE (≠ QUOTE): the next byte is data */
  QuotedAfterEscape = 3,
}

/**
 * Splits COPY data into rows, incrementally. `columns` is the number of fields every row must have
 * (the CopyOutResponse's column count); rows with another count are a CopyFormatError.
 */
export class CopyRowReader {
  private readonly row: CopyRow;
  private readonly maxFields: number;
  /** the unfinished row's bytes from earlier payloads (copies) */
  private carry: Buffer[] = [];
  private carryLen = 0;
  /** index in the current payload of the row's first byte; before dataStart when the row began in the carry */
  private base = 0;
  /** where the current payload's COPY data starts in its buffer */
  private dataStart = 0;
  /** fields completed in the current row */
  private n = 0;
  /** text/CSV: row-relative start of the current field */
  private fieldFrom = 0;
  private rows = 0;
  // text
  private escaped = false;
  // CSV
  private csv = Csv.Plain;
  private sawQuote = false;
  // binary
  private bin = Bin.Signature;
  /** bytes still needed by the current binary item */
  private need = 11;
  private acc = 0;
  private fieldCount = 0;

  constructor(
    readonly format: CopyFormat,
    readonly columns: number,
    readonly maxRowBytes: number,
  ) {
    this.maxFields = Math.max(columns, 1);
    this.row = {
      kind: CopyRowKind.Tuple,
      buf: Buffer.alloc(0),
      start: 0,
      end: 0,
      count: 0,
      fieldStart: new Int32Array(this.maxFields),
      fieldEnd: new Int32Array(this.maxFields),
      quoted: new Uint8Array(this.maxFields),
    };
  }

  /** Bytes of an unfinished row held for the next payload. */
  get pending(): number {
    return this.carryLen;
  }

  /** True when the data so far ends on a row boundary (and, for binary, after the trailer or between tuples). */
  get atRowBoundary(): boolean {
    if (this.format.kind === 'binary') return this.carryLen === 0 && (this.bin === Bin.Done || (this.bin === Bin.Count && this.need === 2));
    return this.carryLen === 0;
  }

  /**
   * Feeds one CopyData payload, data[from..] (from = 5 to read a whole CopyData message in place);
   * `onRow` is called for every row it completes.
   */
  push(data: Buffer, onRow: (row: CopyRow) => void, from = 0): void {
    let pos = from;
    this.dataStart = from;
    this.base = from - this.carryLen;
    while (pos < data.length) {
      const end = this.scan(data, pos);
      if (end < 0) {
        // the row goes on in the next payload: keep what we have of it (the payload is not ours to keep)
        const keep = Math.max(this.base, from);
        const rest = data.length - keep;
        if (this.carryLen + rest > this.maxRowBytes) throw new CopyFormatError(`a COPY row is larger than ${this.maxRowBytes} bytes`);
        if (rest > 0) {
          this.carry.push(Buffer.from(data.subarray(keep)));
          this.carryLen += rest;
        }
        return;
      }
      this.emit(data, end, onRow);
      this.base = end;
      pos = end;
    }
  }

  /** The data is complete: throws when it stopped inside a row. */
  finish(): void {
    if (!this.atRowBoundary) throw new CopyFormatError('the COPY data ended inside a row');
  }

  private emit(data: Buffer, end: number, onRow: (row: CopyRow) => void): void {
    const r = this.row;
    let start: number;
    if (this.base >= this.dataStart) {
      r.buf = data;
      start = this.base;
    } else {
      this.carry.push(data.subarray(this.dataStart, end));
      r.buf = Buffer.concat(this.carry, this.carryLen + end - this.dataStart);
      start = 0;
      this.carry = [];
      this.carryLen = 0;
    }
    r.start = start;
    r.end = start + (end - this.base);
    if (end - this.base > this.maxRowBytes) throw new CopyFormatError(`a COPY row is larger than ${this.maxRowBytes} bytes`);
    r.count = this.n;
    if (start !== 0) {
      for (let i = 0; i < this.n; i++) {
        if (r.fieldStart[i]! >= 0) {
          r.fieldStart[i]! += start;
          r.fieldEnd[i]! += start;
        }
      }
    }
    const f = this.format;
    if (f.kind === 'binary') {
      // kind was set by the scanner
    } else {
      r.kind = this.rows === 0 && f.header ? CopyRowKind.Header : CopyRowKind.Tuple;
      if (r.count !== this.columns) throw new CopyFormatError(`a COPY row has ${r.count} fields, expected ${this.columns}`);
    }
    this.rows++;
    this.n = 0;
    this.fieldFrom = 0;
    onRow(r);
  }

  /** Scans from `pos`; returns the index just after the row's end, or −1 when the payload ends first. */
  private scan(data: Buffer, pos: number): number {
    const f = this.format;
    if (f.kind === 'text') return this.scanText(data, pos, f.delimiter);
    if (f.kind === 'csv') return this.scanCsv(data, pos, f.delimiter, f.quote, f.escape);
    return this.scanBinary(data, pos);
  }

  private endField(relEnd: number): void {
    const i = this.n;
    if (i >= this.maxFields) throw new CopyFormatError(`a COPY row has more than ${this.columns} fields`);
    this.row.fieldStart[i] = this.fieldFrom;
    this.row.fieldEnd[i] = relEnd;
    this.row.quoted[i] = this.sawQuote ? 1 : 0;
    this.sawQuote = false;
    this.n = i + 1;
    this.fieldFrom = relEnd + 1;
  }

  /** The row ended with an empty line and no columns are expected: zero fields. */
  private endRow(relEnd: number): void {
    if (this.columns === 0 && this.n === 0 && relEnd === 0) return;
    this.endField(relEnd);
  }

  private scanText(data: Buffer, pos: number, delimiter: number): number {
    const base = this.base;
    let escaped = this.escaped;
    for (let i = pos; i < data.length; i++) {
      const c = data[i]!;
      if (escaped) {
        escaped = false;
      } else if (c === BACKSLASH) {
        escaped = true;
      } else if (c === delimiter) {
        this.endField(i - base);
      } else if (c === NL) {
        this.escaped = false;
        this.endRow(i - base);
        return i + 1;
      }
    }
    this.escaped = escaped;
    return -1;
  }

  private scanCsv(data: Buffer, pos: number, delimiter: number, quote: number, escape: number): number {
    const base = this.base;
    let st = this.csv;
    for (let i = pos; i < data.length; i++) {
      const c = data[i]!;
      switch (st) {
        case Csv.QuotedAfterEscape:
          st = Csv.Quoted;
          continue;
        case Csv.QuotedAfterQuote:
          if (c === quote) {
            st = Csv.Quoted;
            continue;
          }
          st = Csv.Plain;
          break; // the quote closed the quoted part: c is read as unquoted
        case Csv.Quoted:
          if (c === escape && escape !== quote) st = Csv.QuotedAfterEscape;
          else if (c === quote) st = escape === quote ? Csv.QuotedAfterQuote : Csv.Plain;
          continue;
        case Csv.Plain:
          break;
      }
      if (c === quote) {
        st = Csv.Quoted;
        this.sawQuote = true;
      } else if (c === delimiter) {
        this.endField(i - base);
      } else if (c === NL) {
        this.csv = Csv.Plain;
        this.endRow(i - base);
        return i + 1;
      }
    }
    this.csv = st;
    return -1;
  }

  private scanBinary(data: Buffer, pos: number): number {
    const base = this.base;
    const r = this.row;
    let i = pos;
    while (i < data.length) {
      switch (this.bin) {
        case Bin.Signature: {
          const at = i - base; // bytes of the signature seen so far
          if (data[i] !== COPY_BINARY_SIGNATURE[at]) throw new CopyFormatError('the binary COPY signature is wrong');
          i++;
          if (--this.need === 0) this.next(Bin.Flags, 4);
          break;
        }
        case Bin.Flags:
        case Bin.ExtensionLength:
        case Bin.Count:
        case Bin.FieldLength: {
          this.acc = ((this.acc << 8) | data[i]!) >>> 0;
          i++;
          if (--this.need > 0) break;
          const state = this.bin;
          if (state === Bin.Count) {
            const count = (this.acc << 16) >> 16; // int16
            if (count === -1) {
              r.kind = CopyRowKind.Trailer;
              this.bin = Bin.Done;
              return i;
            }
            if (count !== this.columns) throw new CopyFormatError(`a binary COPY tuple has ${count} fields, expected ${this.columns}`);
            r.kind = CopyRowKind.Tuple;
            this.fieldCount = count;
            if (count === 0) {
              this.next(Bin.Count, 2);
              return i;
            }
            this.next(Bin.FieldLength, 4);
          } else if (state === Bin.FieldLength) {
            const len = this.acc | 0;
            const k = this.n;
            if (len === -1) {
              r.fieldStart[k] = -1;
              r.fieldEnd[k] = -1;
              this.n = k + 1;
              if (this.n === this.fieldCount) {
                this.next(Bin.Count, 2);
                return i;
              }
              this.next(Bin.FieldLength, 4);
            } else {
              if (len < -1 || len > this.maxRowBytes) throw new CopyFormatError(`a binary COPY field has an invalid length ${len}`);
              r.fieldStart[k] = i - base;
              r.fieldEnd[k] = i - base + len;
              if (len === 0) {
                this.n = k + 1;
                if (this.n === this.fieldCount) {
                  this.next(Bin.Count, 2);
                  return i;
                }
                this.next(Bin.FieldLength, 4);
              } else this.next(Bin.FieldData, len);
            }
          } else if (state === Bin.Flags) {
            // bit 16: OIDs included (servers before 12); bits 16-31 are critical: an unknown one must stop the reader
            if ((this.acc & 0xffff0000) !== 0) throw new CopyFormatError('the binary COPY header has flags this reader does not know');
            this.next(Bin.ExtensionLength, 4);
          } else {
            const len = this.acc | 0;
            if (len < 0 || len > this.maxRowBytes) throw new CopyFormatError(`the binary COPY header extension has an invalid length ${len}`);
            if (len === 0) {
              r.kind = CopyRowKind.Header;
              this.next(Bin.Count, 2);
              return i;
            }
            this.next(Bin.Extension, len);
          }
          break;
        }
        case Bin.Extension:
        case Bin.FieldData: {
          const take = Math.min(this.need, data.length - i);
          i += take;
          this.need -= take;
          if (this.need > 0) break;
          if (this.bin === Bin.Extension) {
            r.kind = CopyRowKind.Header;
            this.next(Bin.Count, 2);
            return i;
          }
          this.n++;
          if (this.n === this.fieldCount) {
            this.next(Bin.Count, 2);
            return i;
          }
          this.next(Bin.FieldLength, 4);
          break;
        }
        case Bin.Done:
          throw new CopyFormatError('binary COPY data after the trailer');
      }
    }
    return -1;
  }

  private next(state: Bin, need: number): void {
    this.bin = state;
    this.need = need;
    this.acc = 0;
  }
}

// ---- fields ------------------------------------------------------------------------------------

function bytesEqual(buf: Buffer, start: number, end: number, other: Buffer): boolean {
  if (end - start !== other.length) return false;
  for (let i = 0; i < other.length; i++) if (buf[start + i] !== other[i]) return false;
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** A text-format field's value (backslash escapes undone, as COPY FROM reads them); a view when it has none. */
export function decodeTextField(buf: Buffer, start: number, end: number): Buffer {
  const first = buf.indexOf(BACKSLASH, start);
  if (first < 0 || first >= end) return buf.subarray(start, end);
  const out = Buffer.allocUnsafe(end - start);
  let o = buf.copy(out, 0, start, first);
  let i = first;
  while (i < end) {
    const c = buf[i]!;
    if (c !== BACKSLASH || i + 1 >= end) {
      out[o++] = c;
      i++;
      continue;
    }
    const e = buf[i + 1]!;
    i += 2;
    switch (e) {
      case 0x62: // b
        out[o++] = 0x08;
        break;
      case 0x66: // f
        out[o++] = 0x0c;
        break;
      case 0x6e: // n
        out[o++] = NL;
        break;
      case 0x72: // r
        out[o++] = CR;
        break;
      case 0x74: // t
        out[o++] = 0x09;
        break;
      case 0x76: // v
        out[o++] = 0x0b;
        break;
      case 0x78: {
        // x: one or two hex digits
        const h1 = i < end ? hexValue(buf[i]!) : -1;
        if (h1 < 0) {
          out[o++] = e;
          break;
        }
        i++;
        let v = h1;
        const h2 = i < end ? hexValue(buf[i]!) : -1;
        if (h2 >= 0) {
          v = (v << 4) | h2;
          i++;
        }
        out[o++] = v;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) {
          // one to three octal digits
          let v = e - 0x30;
          for (let k = 0; k < 2 && i < end && buf[i]! >= 0x30 && buf[i]! <= 0x37; k++) v = (v << 3) | (buf[i++]! - 0x30);
          out[o++] = v & 0xff;
        } else out[o++] = e;
    }
  }
  return out.subarray(0, o);
}

/** A value written as a text-format field (CopyAttributeOutText). */
export function encodeTextField(value: Buffer, delimiter: number): Buffer {
  let extra = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === BACKSLASH || c === delimiter || (c < 0x20 && (c === 0x08 || c === 0x0c || c === NL || c === CR || c === 0x09 || c === 0x0b))) extra++;
  }
  if (extra === 0) return value;
  const out = Buffer.allocUnsafe(value.length + extra);
  let o = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    let esc = -1;
    switch (c) {
      case 0x08:
        esc = 0x62;
        break;
      case 0x0c:
        esc = 0x66;
        break;
      case NL:
        esc = 0x6e;
        break;
      case CR:
        esc = 0x72;
        break;
      case 0x09:
        esc = 0x74;
        break;
      case 0x0b:
        esc = 0x76;
        break;
    }
    if (esc >= 0) {
      out[o++] = BACKSLASH;
      out[o++] = esc;
    } else if (c === BACKSLASH || c === delimiter) {
      out[o++] = BACKSLASH;
      out[o++] = c;
    } else out[o++] = c;
  }
  return out;
}

/** A CSV field's value (quotes and escapes undone, as COPY FROM reads them); a view when nothing was undone. */
export function decodeCsvField(buf: Buffer, start: number, end: number, quoted: boolean, quote: number, escape: number): Buffer {
  if (!quoted) return buf.subarray(start, end);
  // the common shape: "..." with no quote or escape inside
  if (end - start >= 2 && buf[start] === quote && buf[end - 1] === quote) {
    let plain = true;
    for (let i = start + 1; i < end - 1; i++) {
      const c = buf[i];
      if (c === quote || c === escape) {
        plain = false;
        break;
      }
    }
    if (plain) return buf.subarray(start + 1, end - 1);
  }
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  let inQuote = false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (inQuote) {
      if (c === escape && i + 1 < end && (buf[i + 1] === quote || buf[i + 1] === escape)) {
        out[o++] = buf[++i]!;
      } else if (c === quote) {
        inQuote = false;
      } else out[o++] = c;
    } else if (c === quote) {
      inQuote = true;
    } else out[o++] = c;
  }
  return out.subarray(0, o);
}

export interface CsvFieldOptions {
  delimiter: number;
  quote: number;
  escape: number;
  null: Buffer;
}

const END_OF_DATA = Buffer.from('\\.');

/**
 * A value written as a CSV field (CopyAttributeOutCSV): quoted when `forceQuote`, when it equals the
 * NULL string, when it is `\.` alone on a line, or when it holds the delimiter, the quote or a line break.
 */
export function encodeCsvField(value: Buffer, opts: CsvFieldOptions, forceQuote: boolean, singleColumn: boolean): Buffer {
  let useQuote = forceQuote || value.equals(opts.null) || (singleColumn && value.equals(END_OF_DATA));
  let escapes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === opts.delimiter || c === opts.quote || c === NL || c === CR) useQuote = true;
    if (c === opts.quote || c === opts.escape) escapes++;
  }
  if (!useQuote) return value;
  const out = Buffer.allocUnsafe(value.length + escapes + 2);
  let o = 0;
  out[o++] = opts.quote;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === opts.quote || c === opts.escape) out[o++] = opts.escape;
    out[o++] = c;
  }
  out[o++] = opts.quote;
  return out;
}

/** Field i of a tuple: its value, or null for SQL NULL. */
export function copyFieldValue(format: CopyFormat, row: CopyRow, i: number): Buffer | null {
  const s = row.fieldStart[i]!;
  const e = row.fieldEnd[i]!;
  switch (format.kind) {
    case 'binary':
      return s < 0 ? null : row.buf.subarray(s, e);
    case 'text':
      return bytesEqual(row.buf, s, e, format.null) ? null : decodeTextField(row.buf, s, e);
    case 'csv':
      // a NULL is the NULL string unquoted; the same text quoted is a value
      if (row.quoted[i] === 0 && bytesEqual(row.buf, s, e, format.null)) return null;
      return decodeCsvField(row.buf, s, e, row.quoted[i] === 1, format.quote, format.escape);
  }
}

/**
 * Field i's bytes for a new value (null: SQL NULL), in the row's format: escaped text, CSV (quoted
 * like the field it replaces when that was quoted), or binary with its length prefix.
 */
export function encodeCopyField(format: CopyFormat, row: CopyRow, i: number, value: Buffer | null): Buffer {
  switch (format.kind) {
    case 'binary': {
      const out = Buffer.allocUnsafe(4 + (value?.length ?? 0));
      out.writeInt32BE(value === null ? -1 : value.length, 0);
      value?.copy(out, 4);
      return out;
    }
    case 'text':
      return value === null ? format.null : encodeTextField(value, format.delimiter);
    case 'csv':
      return value === null ? format.null : encodeCsvField(value, format, format.forceQuote ? format.forceQuote[i] === 1 : row.quoted[i] === 1, row.count === 1);
  }
}

/**
 * The row with some fields replaced: `fields[i]` is the new encoding of field i (from
 * encodeCopyField), undefined to keep it. Binary fields are replaced with their length prefix.
 * `headroom` bytes are left free at the front of the result (for a message header).
 */
export function rewriteCopyRow(format: CopyFormat, row: CopyRow, fields: readonly (Buffer | undefined)[], headroom = 0): Buffer {
  const binary = format.kind === 'binary';
  let total = row.end - row.start;
  for (let i = 0; i < row.count; i++) {
    const f = fields[i];
    if (f === undefined) continue;
    const s = row.fieldStart[i]!;
    if (binary && s < 0) throw new CopyFormatError('cannot rewrite a NULL binary field in place');
    total += f.length - (row.fieldEnd[i]! - s + (binary ? 4 : 0));
  }
  const out = Buffer.allocUnsafe(headroom + total);
  let o = headroom;
  let at = row.start;
  const buf = row.buf;
  for (let i = 0; i < row.count; i++) {
    const f = fields[i];
    if (f === undefined) continue;
    const s = row.fieldStart[i]! - (binary ? 4 : 0);
    o += buf.copy(out, o, at, s);
    o += f.copy(out, o);
    at = row.fieldEnd[i]!;
  }
  buf.copy(out, o, at, row.end);
  return out;
}

/** CopyOutResponse / CopyInResponse / CopyBothResponse: the overall format (0 text, 1 binary) and per-column formats. */
export function decodeCopyResponse(frame: Buffer): { format: number; columnFormats: number[] } {
  if (frame.length < 8) throw new ProtocolError('COPY response too short');
  const format = frame[5]!;
  const n = frame.readInt16BE(6);
  if (n < 0 || frame.length < 8 + 2 * n) throw new ProtocolError('COPY response column count is invalid');
  const columnFormats: number[] = [];
  for (let i = 0; i < n; i++) columnFormats.push(frame.readInt16BE(8 + 2 * i));
  return { format, columnFormats };
}

/** A CopyData message ('d') around a payload. */
export function copyDataMessage(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = 0x64;
  out.writeInt32BE(4 + payload.length, 1);
  payload.copy(out, 5);
  return out;
}
