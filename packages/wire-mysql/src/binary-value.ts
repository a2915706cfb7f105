import { BinaryLayout, ColumnType, binaryFixedWidth, binaryLayout } from './column-type.js';
import { ProtocolError } from './protocol-error.js';
import { lenencPrefixLength, readLenencAt } from './reader.js';
import { encodeLenencString } from './writer.js';

/** DATE / DATETIME / TIMESTAMP in the binary protocol. */
export interface MysqlDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
}

/** TIME in the binary protocol (a duration: days may be non-zero). */
export interface MysqlTime {
  negative: boolean;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
  microseconds: number;
}

/**
 * A binary-protocol value: integers as number (LONGLONG as bigint), FLOAT/DOUBLE as number,
 * temporal types as objects, everything length-encoded (strings, blobs, DECIMAL, JSON, BIT,
 * ENUM/SET, GEOMETRY) as the raw bytes.
 */
export type BinaryValue = number | bigint | Buffer | MysqlDateTime | MysqlTime;

/** Position after the binary value of `type` starting at `pos`; ProtocolError when it overruns `end`. */
export function binaryValueEnd(buf: Buffer, pos: number, end: number, type: number): number {
  let next: number;
  switch (binaryLayout(type)) {
    case BinaryLayout.Fixed:
      next = pos + binaryFixedWidth(type);
      break;
    case BinaryLayout.Temporal: {
      if (pos >= end) throw new ProtocolError('packet truncated');
      const n = buf[pos];
      const ok = type === ColumnType.Time ? n === 0 || n === 8 || n === 12 : n === 0 || n === 4 || n === 7 || n === 11;
      if (!ok) throw new ProtocolError(`invalid length ${n} for a temporal value`);
      next = pos + 1 + n;
      break;
    }
    case BinaryLayout.Empty:
      return pos;
    default: {
      const n = readLenencAt(buf, pos, end);
      if (n < 0) throw new ProtocolError('NULL length inside a binary value');
      next = pos + lenencPrefixLength(buf[pos]) + n;
    }
  }
  if (next > end) throw new ProtocolError('packet truncated');
  return next;
}

/** Decodes one binary value: `field` holds exactly its encoded bytes (as binaryValueEnd delimits them). */
export function decodeBinaryValue(field: Buffer, type: number, unsigned = false): BinaryValue {
  switch (type) {
    case ColumnType.Tiny:
      return unsigned ? field.readUInt8(0) : field.readInt8(0);
    case ColumnType.Short:
    case ColumnType.Year:
      return unsigned || type === ColumnType.Year ? field.readUInt16LE(0) : field.readInt16LE(0);
    case ColumnType.Long:
    case ColumnType.Int24:
      return unsigned ? field.readUInt32LE(0) : field.readInt32LE(0);
    case ColumnType.LongLong:
      return unsigned ? field.readBigUInt64LE(0) : field.readBigInt64LE(0);
    case ColumnType.Float:
      return field.readFloatLE(0);
    case ColumnType.Double:
      return field.readDoubleLE(0);
    case ColumnType.Time: {
      const n = field[0];
      const t: MysqlTime = { negative: false, days: 0, hours: 0, minutes: 0, seconds: 0, microseconds: 0 };
      if (n >= 8) {
        t.negative = field[1] === 1;
        t.days = field.readUInt32LE(2);
        t.hours = field[6];
        t.minutes = field[7];
        t.seconds = field[8];
      }
      if (n >= 12) t.microseconds = field.readUInt32LE(9);
      return t;
    }
    case ColumnType.Date:
    case ColumnType.NewDate:
    case ColumnType.DateTime:
    case ColumnType.Timestamp: {
      const n = field[0];
      const d: MysqlDateTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, microsecond: 0 };
      if (n >= 4) {
        d.year = field.readUInt16LE(1);
        d.month = field[3];
        d.day = field[4];
      }
      if (n >= 7) {
        d.hour = field[5];
        d.minute = field[6];
        d.second = field[7];
      }
      if (n >= 11) d.microsecond = field.readUInt32LE(8);
      return d;
    }
    case ColumnType.Null:
      return Buffer.alloc(0);
    default: {
      const n = readLenencAt(field, 0, field.length);
      const start = lenencPrefixLength(field[0]);
      return field.subarray(start, start + n);
    }
  }
}

function isDateTime(v: unknown): v is MysqlDateTime {
  return typeof v === 'object' && v !== null && 'year' in v;
}

function isTime(v: unknown): v is MysqlTime {
  return typeof v === 'object' && v !== null && 'days' in v;
}

function intRange(type: number, unsigned: boolean): [bigint, bigint] {
  const bits = type === ColumnType.Tiny ? 8 : type === ColumnType.Short || type === ColumnType.Year ? 16 : type === ColumnType.LongLong ? 64 : 32;
  return unsigned || type === ColumnType.Year ? [0n, (1n << BigInt(bits)) - 1n] : [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n];
}

/**
 * Encodes one binary value for a column or parameter of `type` (the inverse of decodeBinaryValue):
 * integers from number/bigint (range-checked), FLOAT/DOUBLE from number, temporal types from
 * their objects (shortest length that holds them), length-encoded types from Buffer or string
 * (UTF-8). A value of the wrong kind is a TypeError, out of range a RangeError.
 */
export function encodeBinaryValue(type: number, value: BinaryValue | string, unsigned = false): Buffer {
  switch (binaryLayout(type)) {
    case BinaryLayout.Fixed: {
      const width = binaryFixedWidth(type);
      const out = Buffer.alloc(width);
      if (type === ColumnType.Float || type === ColumnType.Double) {
        if (typeof value !== 'number') throw new TypeError('FLOAT/DOUBLE values are numbers');
        if (type === ColumnType.Float) out.writeFloatLE(value, 0);
        else out.writeDoubleLE(value, 0);
        return out;
      }
      if (typeof value !== 'number' && typeof value !== 'bigint') throw new TypeError('integer values are numbers or bigints');
      if (typeof value === 'number' && !Number.isInteger(value)) throw new RangeError(`not an integer: ${value}`);
      const b = BigInt(value);
      const [lo, hi] = intRange(type, unsigned);
      if (b < lo || b > hi) throw new RangeError(`${value} out of range for type ${type}`);
      const u = b < 0n ? b + (1n << BigInt(width * 8)) : b;
      if (width === 8) out.writeBigUInt64LE(u, 0);
      else out.writeUIntLE(Number(u), 0, width);
      return out;
    }
    case BinaryLayout.Temporal: {
      if (type === ColumnType.Time) {
        if (!isTime(value)) throw new TypeError('TIME values are MysqlTime objects');
        const zero = value.days === 0 && value.hours === 0 && value.minutes === 0 && value.seconds === 0 && value.microseconds === 0;
        const n = zero && !value.negative ? 0 : value.microseconds === 0 ? 8 : 12;
        const out = Buffer.alloc(1 + n);
        out[0] = n;
        if (n >= 8) {
          out[1] = value.negative ? 1 : 0;
          out.writeUInt32LE(value.days, 2);
          out[6] = value.hours;
          out[7] = value.minutes;
          out[8] = value.seconds;
        }
        if (n === 12) out.writeUInt32LE(value.microseconds, 9);
        return out;
      }
      if (!isDateTime(value)) throw new TypeError('DATE/DATETIME/TIMESTAMP values are MysqlDateTime objects');
      const v = value;
      const hasTime = v.hour !== 0 || v.minute !== 0 || v.second !== 0 || v.microsecond !== 0;
      const hasDate = v.year !== 0 || v.month !== 0 || v.day !== 0;
      const n = v.microsecond !== 0 ? 11 : hasTime ? 7 : hasDate ? 4 : 0;
      const out = Buffer.alloc(1 + n);
      out[0] = n;
      if (n >= 4) {
        out.writeUInt16LE(v.year, 1);
        out[3] = v.month;
        out[4] = v.day;
      }
      if (n >= 7) {
        out[5] = v.hour;
        out[6] = v.minute;
        out[7] = v.second;
      }
      if (n === 11) out.writeUInt32LE(v.microsecond, 8);
      return out;
    }
    case BinaryLayout.Empty:
      throw new TypeError('MYSQL_TYPE_NULL holds only NULL');
    default: {
      let bytes: Buffer;
      if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
      else if (Buffer.isBuffer(value)) bytes = value;
      else throw new TypeError('length-encoded values are Buffers or strings');
      return encodeLenencString(bytes);
    }
  }
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function fraction(micro: number, decimals: number): string {
  const d = decimals > 0 && decimals <= 6 ? decimals : 0;
  return d === 0 ? '' : '.' + pad(micro, 6).slice(0, d);
}

/**
 * A binary value as the text protocol would show it (for masking binary rows with the same
 * rules as text rows). `decimals` is the column definition's: it fixes the fractional seconds
 * shown. FLOAT/DOUBLE use JavaScript's shortest representation, which may differ from the
 * server's text formatting.
 */
export function binaryValueToText(type: number, value: BinaryValue, decimals = 0): string {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (type === ColumnType.Year) return pad(Number(value), 4);
    return String(value);
  }
  if (isTime(value)) {
    const hours = value.days * 24 + value.hours;
    return `${value.negative ? '-' : ''}${pad(hours)}:${pad(value.minutes)}:${pad(value.seconds)}${fraction(value.microseconds, decimals)}`;
  }
  const date = `${pad(value.year, 4)}-${pad(value.month)}-${pad(value.day)}`;
  if (type === ColumnType.Date || type === ColumnType.NewDate) return date;
  return `${date} ${pad(value.hour)}:${pad(value.minute)}:${pad(value.second)}${fraction(value.microsecond, decimals)}`;
}
