/** Helpers for the MySQL masking tests: column types, values a server sends for them, and what a driver accepts. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { encodeLenencString as lenencString } from '@sqlwarden/wire-mysql';
import { MYSQL_BINARY_CHARSET, MysqlColumnFlag, MysqlType, mysqlValueKind, MysqlValueKind, type MysqlColumnType } from './mysql-column.js';
import { MYSQL_TIMESTAMP_MAX_DAY, MYSQL_TIMESTAMP_MIN_DAY } from './mysql-text.js';
import { parseIsoDate } from './temporal.js';
import { anyText } from './test-support.js';
import { isWellFormedUtf8 } from './utf8.js';

const U = MysqlColumnFlag.Unsigned;
const UTF8MB4 = 224;
const BIN = MYSQL_BINARY_CHARSET;

export interface MysqlTestColumn {
  /** the SQL type, for the live test's CREATE TABLE */
  sql: string;
  col: MysqlColumnType;
  /** text values a server sends for the type */
  values: fc.Arbitrary<Buffer>;
  /** the column as MySQL 8 describes it, not MariaDB (whose JSON is a LONGTEXT) */
  mysqlOnly?: boolean;
}

const pad = (n: number | bigint, w = 2): string => String(n).padStart(w, '0');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const intArb = (lo: bigint, hi: bigint): fc.Arbitrary<Buffer> => fc.bigInt({ min: lo, max: hi }).map((x) => ascii(String(x)));
const ymd = (lo: number, hi: number): fc.Arbitrary<string> =>
  fc.integer({ min: lo, max: hi }).map((d) => new Date(d * 86400000).toISOString().slice(0, 10));
const hms = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 })).map(([h, m, s]) => `${pad(h)}:${pad(m)}:${pad(s)}`);
const frac = (d: number): fc.Arbitrary<string> => (d === 0 ? fc.constant('') : fc.integer({ min: 0, max: 10 ** d - 1 }).map((f) => `.${pad(f, d)}`));
/** days from 1970-01-01 of 1000-01-01 and 9999-12-31 */
const DAY_1000 = -354285;
const DAY_9999 = 2932896;

function datetime(d: number, lo = DAY_1000, hi = DAY_9999): fc.Arbitrary<Buffer> {
  return fc.tuple(ymd(lo, hi), hms, frac(d)).map(([a, b, c]) => ascii(`${a} ${b}${c}`));
}

function time(d: number): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.boolean(), fc.integer({ min: 0, max: 838 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), frac(d))
    .map(([neg, h, m, s, f]) => ascii(`${neg && (h || m || s) ? '-' : ''}${pad(h)}:${pad(m)}:${pad(s)}${f}`));
}

function decimal(p: number, s: number, unsigned = false): fc.Arbitrary<Buffer> {
  const max = 10n ** BigInt(p) - 1n;
  return fc.bigInt({ min: unsigned ? 0n : -max, max }).map((v) => {
    const neg = v < 0n;
    const digits = (neg ? -v : v).toString().padStart(s + 1, '0');
    const t = s === 0 ? digits : `${digits.slice(0, -s)}.${digits.slice(-s)}`;
    return ascii(neg ? `-${t}` : t);
  });
}

function bits(n: number): fc.Arbitrary<Buffer> {
  const bytes = (n + 7) >>> 3;
  return fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((u) => {
    const b = Buffer.from(u);
    if (n % 8) b[0]! &= (1 << n % 8) - 1;
    return b;
  });
}

/** shortest float32 text, as the binary decoder prints it */
function float4(x: number): string {
  for (let p = 1; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s)).replace('e+', 'e');
  }
  return String(x).replace('e+', 'e');
}

const bytes = (max: number, min = 0): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u));
const utf8 = anyText.map((s) => Buffer.from(s, 'utf8'));

/** One column of each kind, with the flags and lengths a server reports for it. */
export const MYSQL_COLUMNS: Record<string, MysqlTestColumn> = {
  tinyint: { sql: 'TINYINT', col: { type: MysqlType.Tiny, columnLength: 4 }, values: intArb(-128n, 127n) },
  'tinyint unsigned': { sql: 'TINYINT UNSIGNED', col: { type: MysqlType.Tiny, flags: U, columnLength: 3 }, values: intArb(0n, 255n) },
  'tinyint(1)': { sql: 'TINYINT(1)', col: { type: MysqlType.Tiny, columnLength: 1 }, values: intArb(-128n, 127n) },
  smallint: { sql: 'SMALLINT', col: { type: MysqlType.Short, columnLength: 6 }, values: intArb(-32768n, 32767n) },
  'smallint unsigned': { sql: 'SMALLINT UNSIGNED', col: { type: MysqlType.Short, flags: U, columnLength: 5 }, values: intArb(0n, 65535n) },
  mediumint: { sql: 'MEDIUMINT', col: { type: MysqlType.Int24, columnLength: 9 }, values: intArb(-8388608n, 8388607n) },
  'mediumint unsigned': { sql: 'MEDIUMINT UNSIGNED', col: { type: MysqlType.Int24, flags: U, columnLength: 8 }, values: intArb(0n, 16777215n) },
  int: { sql: 'INT', col: { type: MysqlType.Long, columnLength: 11 }, values: intArb(-2147483648n, 2147483647n) },
  'int unsigned': { sql: 'INT UNSIGNED', col: { type: MysqlType.Long, flags: U, columnLength: 10 }, values: intArb(0n, 4294967295n) },
  'int(6) zerofill': {
    sql: 'INT(6) ZEROFILL',
    col: { type: MysqlType.Long, flags: U | MysqlColumnFlag.Zerofill, columnLength: 6 },
    values: fc.integer({ min: 0, max: 4294967295 }).map((x) => ascii(pad(x, 6))),
  },
  bigint: { sql: 'BIGINT', col: { type: MysqlType.LongLong, columnLength: 20 }, values: intArb(-(2n ** 63n), 2n ** 63n - 1n) },
  'bigint unsigned': { sql: 'BIGINT UNSIGNED', col: { type: MysqlType.LongLong, flags: U, columnLength: 20 }, values: intArb(0n, 2n ** 64n - 1n) },
  year: {
    sql: 'YEAR',
    col: { type: MysqlType.Year, flags: U | MysqlColumnFlag.Zerofill, columnLength: 4 },
    values: fc.oneof(fc.constant(0), fc.integer({ min: 1901, max: 2155 })).map((y) => ascii(pad(y, 4))),
  },
  'decimal(10,2)': { sql: 'DECIMAL(10,2)', col: { type: MysqlType.NewDecimal, columnLength: 12, decimals: 2 }, values: decimal(10, 2) },
  'decimal(65,30)': { sql: 'DECIMAL(65,30)', col: { type: MysqlType.NewDecimal, columnLength: 67, decimals: 30 }, values: decimal(65, 30) },
  'decimal(5,0) unsigned': { sql: 'DECIMAL(5,0) UNSIGNED', col: { type: MysqlType.NewDecimal, flags: U, columnLength: 5, decimals: 0 }, values: decimal(5, 0, true) },
  float: {
    sql: 'FLOAT',
    col: { type: MysqlType.Float, columnLength: 12, decimals: 31 },
    values: fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-3.4e38), max: Math.fround(3.4e38) }).map((x) => ascii(float4(Object.is(x, -0) ? 0 : x))),
  },
  double: {
    sql: 'DOUBLE',
    col: { type: MysqlType.Double, columnLength: 22, decimals: 31 },
    values: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => ascii(String(Object.is(x, -0) ? 0 : x).replace('e+', 'e'))),
  },
  date: { sql: 'DATE', col: { type: MysqlType.Date, columnLength: 10, flags: MysqlColumnFlag.Binary }, values: ymd(DAY_1000, DAY_9999).map(ascii) },
  datetime: { sql: 'DATETIME', col: { type: MysqlType.DateTime, columnLength: 19 }, values: datetime(0) },
  'datetime(3)': { sql: 'DATETIME(3)', col: { type: MysqlType.DateTime, columnLength: 23, decimals: 3 }, values: datetime(3) },
  'datetime(6)': { sql: 'DATETIME(6)', col: { type: MysqlType.DateTime, columnLength: 26, decimals: 6 }, values: datetime(6) },
  timestamp: { sql: 'TIMESTAMP NULL', col: { type: MysqlType.Timestamp, flags: U, columnLength: 19 }, values: datetime(0, 1, 24853) },
  'timestamp(6)': { sql: 'TIMESTAMP(6) NULL', col: { type: MysqlType.Timestamp, flags: U, columnLength: 26, decimals: 6 }, values: datetime(6, 1, 24853) },
  time: { sql: 'TIME', col: { type: MysqlType.Time, columnLength: 10 }, values: time(0) },
  'time(2)': { sql: 'TIME(2)', col: { type: MysqlType.Time, columnLength: 13, decimals: 2 }, values: time(2) },
  'bit(1)': { sql: 'BIT(1)', col: { type: MysqlType.Bit, flags: U, columnLength: 1, characterSet: BIN }, values: bits(1) },
  'bit(3)': { sql: 'BIT(3)', col: { type: MysqlType.Bit, flags: U, columnLength: 3, characterSet: BIN }, values: bits(3) },
  'bit(64)': { sql: 'BIT(64)', col: { type: MysqlType.Bit, flags: U, columnLength: 64, characterSet: BIN }, values: bits(64) },
  json: { sql: 'JSON', col: { type: MysqlType.Json, characterSet: BIN, columnLength: 4294967295 }, values: fc.json().map((j) => Buffer.from(j, 'utf8')), mysqlOnly: true },
  'json (MariaDB extended metadata)': {
    sql: 'JSON',
    col: { type: MysqlType.Blob, characterSet: UTF8MB4, columnLength: 4294967295, flags: MysqlColumnFlag.Blob | MysqlColumnFlag.Binary, extendedFormat: 'json' },
    values: fc.json().map((j) => Buffer.from(j, 'utf8')),
  },
  'varchar(255)': { sql: 'VARCHAR(255)', col: { type: MysqlType.VarString, characterSet: UTF8MB4, columnLength: 1020 }, values: utf8 },
  text: { sql: 'TEXT', col: { type: MysqlType.Blob, characterSet: UTF8MB4, columnLength: 262140, flags: MysqlColumnFlag.Blob }, values: utf8 },
  "enum('a','b')": { sql: "ENUM('a','b')", col: { type: MysqlType.String, characterSet: UTF8MB4, columnLength: 4, flags: MysqlColumnFlag.Enum }, values: fc.constantFrom('a', 'b').map(ascii) },
  "set('x','y')": { sql: "SET('x','y')", col: { type: MysqlType.String, characterSet: UTF8MB4, columnLength: 12, flags: MysqlColumnFlag.Set }, values: fc.constantFrom('', 'x', 'y', 'x,y').map(ascii) },
  'varbinary(16)': { sql: 'VARBINARY(16)', col: { type: MysqlType.VarString, characterSet: BIN, columnLength: 16, flags: MysqlColumnFlag.Binary }, values: bytes(16) },
  'binary(4)': { sql: 'BINARY(4)', col: { type: MysqlType.String, characterSet: BIN, columnLength: 4, flags: MysqlColumnFlag.Binary }, values: bytes(4, 4) },
  blob: { sql: 'BLOB', col: { type: MysqlType.Blob, characterSet: BIN, columnLength: 65535, flags: MysqlColumnFlag.Blob | MysqlColumnFlag.Binary }, values: bytes(64) },
  geometry: { sql: 'GEOMETRY', col: { type: MysqlType.Geometry, characterSet: BIN, columnLength: 4294967295, flags: MysqlColumnFlag.Blob | MysqlColumnFlag.Binary }, values: bytes(40, 25) },
  'uuid (MariaDB)': { sql: 'UUID', col: { type: MysqlType.String, flags: U, characterSet: UTF8MB4, columnLength: 144, extendedTypeName: 'uuid' }, values: fc.uuid().map(ascii) },
};

const INT_LIMITS: Partial<Record<number, [bigint, bigint, bigint]>> = {
  [MysqlType.Tiny]: [-128n, 127n, 255n],
  [MysqlType.Short]: [-32768n, 32767n, 65535n],
  [MysqlType.Int24]: [-8388608n, 8388607n, 16777215n],
  [MysqlType.Long]: [-2147483648n, 2147483647n, 4294967295n],
  [MysqlType.LongLong]: [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 64n - 1n],
};

const TIME = /^(-?)(\d{2,3}):([0-5]\d):([0-5]\d)(?:\.(\d{1,6}))?$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2}) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.(\d{1,6}))?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Why `out` (a masked text value; null = NULL) is not a value MySQL would send for the column, or
 * undefined when it is one. `input` is the value masked.
 */
export function mysqlTextProblem(col: MysqlColumnType, out: Buffer | null, input: Buffer): string | undefined {
  const kind = mysqlValueKind(col);
  if (kind === MysqlValueKind.Opaque || kind === MysqlValueKind.Null) return out === null ? undefined : 'not NULL';
  if (out === null) return 'NULL';
  const s = out.toString('latin1');
  const fixed = col.decimals !== undefined && col.decimals <= 6 ? col.decimals : undefined;
  const unsigned = ((col.flags ?? 0) & MysqlColumnFlag.Unsigned) !== 0;
  switch (kind) {
    case MysqlValueKind.Integer: {
      if (!/^-?\d+$/.test(s) || /^-0+$/.test(s)) return 'not an integer';
      const [lo, hi, uhi] = INT_LIMITS[col.type]!;
      const x = BigInt(s);
      if (x < (unsigned ? 0n : lo) || x > (unsigned ? uhi : hi)) return 'out of range';
      if ((col.flags ?? 0) & MysqlColumnFlag.Zerofill && s.length < (col.columnLength ?? 0)) return 'not zero-filled';
      return undefined;
    }
    case MysqlValueKind.Boolean:
      return s === '0' || s === '1' ? undefined : 'not 0/1';
    case MysqlValueKind.Year:
      return /^\d{4}$/.test(s) && (s === '0000' || (Number(s) >= 1901 && Number(s) <= 2155)) ? undefined : 'not a year';
    case MysqlValueKind.Decimal: {
      if (!/^-?\d+(\.\d+)?$/.test(s) || /^-[0.]+$/.test(s)) return 'not a decimal';
      const intDigits = (t: string): number => t.replace('-', '').split('.')[0]!.replace(/^0+(?=\d)/, '').length;
      const f = s.split('.')[1] ?? '';
      if (f.length > (col.decimals ?? 0) || intDigits(s) > Math.max(1, intDigits(input.toString('latin1')))) return 'does not fit';
      if (unsigned && s.startsWith('-')) return 'negative';
      return undefined;
    }
    case MysqlValueKind.Float:
    case MysqlValueKind.Double: {
      if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) return 'not a number';
      const x = Number(s);
      if (!Number.isFinite(x) || (kind === MysqlValueKind.Float && Math.abs(x) > 3.4028234663852886e38)) return 'out of range';
      return undefined;
    }
    case MysqlValueKind.Date:
      return s.length === 10 && parseIsoDate(s) !== undefined ? undefined : 'not a date';
    case MysqlValueKind.DateTime:
    case MysqlValueKind.Timestamp: {
      const m = DATETIME.exec(s);
      const day = m ? parseIsoDate(m[1]!) : undefined;
      if (!m || day === undefined) return 'not a datetime';
      if ((m[3]?.length ?? 0) !== (fixed ?? 0)) return 'wrong fraction';
      if (kind === MysqlValueKind.Timestamp && (day < MYSQL_TIMESTAMP_MIN_DAY || day > MYSQL_TIMESTAMP_MAX_DAY)) return 'out of TIMESTAMP range';
      return undefined;
    }
    case MysqlValueKind.Time: {
      const m = TIME.exec(s);
      if (!m || Number(m[2]) > 838) return 'not a time';
      if ((m[5]?.length ?? 0) !== (fixed ?? 0)) return 'wrong fraction';
      return undefined;
    }
    case MysqlValueKind.Bit: {
      if (out.length !== input.length) return 'length changed';
      const n = col.columnLength ?? 0;
      if (n % 8 && out[0]! >>> n % 8) return 'bits above the width';
      return undefined;
    }
    case MysqlValueKind.Json:
      try {
        JSON.parse(out.toString('utf8'));
        return isWellFormedUtf8(out) ? undefined : 'not UTF-8';
      } catch {
        return 'not JSON';
      }
    case MysqlValueKind.Uuid:
      return UUID.test(s) ? undefined : 'not a UUID';
    case MysqlValueKind.Text:
      return isWellFormedUtf8(input) && !isWellFormedUtf8(out) ? 'not UTF-8' : undefined;
    case MysqlValueKind.Bytes:
      return col.columnLength && out.length > col.columnLength ? 'too long' : undefined;
  }
}

// ─── mysql2's own row parsers ───

const require = createRequire(import.meta.url);
const mysql2Lib = join(dirname(require.resolve('mysql2')), 'lib');
type Mysql2Parser = { next(packet: unknown, fields: unknown[], options: unknown): unknown[] };
const Packet = require(join(mysql2Lib, 'packets/packet.js')) as new (id: number, b: Buffer, start: number, end: number) => unknown;
const ConnectionConfig = require(join(mysql2Lib, 'connection_config.js')) as new (o: object) => object;
const staticText = require(join(mysql2Lib, 'parsers/static_text_parser.js')) as (f: unknown[], o: object, c: object) => Mysql2Parser;
const staticBinary = require(join(mysql2Lib, 'parsers/static_binary_parser.js')) as (f: unknown[], o: object, c: object) => new () => Mysql2Parser;

/** mysql2's view of a column definition. */
export function mysql2Field(col: MysqlColumnType, name = 'c'): Record<string, unknown> {
  const cs = col.characterSet ?? 63;
  return {
    columnType: col.type,
    flags: col.flags ?? 0,
    characterSet: cs,
    encoding: cs === 63 ? 'binary' : 'utf8',
    columnLength: col.columnLength ?? 0,
    decimals: col.decimals ?? 0,
    name,
    table: 't',
    schema: 'db',
    extendedTypeName: col.extendedTypeName,
    extendedFormat: col.extendedFormat,
  };
}

/** mysql2 decodes one text-protocol value (null = NULL) as its `query()` would; throws where mysql2 throws. */
export function mysql2Text(col: MysqlColumnType, value: Buffer | null, options: object = {}): unknown {
  const fields = [mysql2Field(col)];
  const body = value === null ? Buffer.from([0xfb]) : lenencString(value);
  const packet = new Packet(0, Buffer.concat([Buffer.alloc(4), body]), 0, body.length + 4);
  const config = new ConnectionConfig({ supportBigNumbers: true, ...options });
  return staticText(fields, {}, config).next(packet, fields, { rowsAsArray: true })[0];
}

/** mysql2 decodes one binary-protocol field (the whole encoded field; null = NULL) as its `execute()` would. */
export function mysql2Binary(col: MysqlColumnType, field: Buffer | null, options: object = {}): unknown {
  const fields = [mysql2Field(col)];
  const row = Buffer.concat([Buffer.alloc(4), Buffer.from([0x00, field === null ? 0x04 : 0x00]), field ?? Buffer.alloc(0)]);
  const packet = new Packet(0, row, 0, row.length);
  const config = new ConnectionConfig({ supportBigNumbers: true, ...options });
  const P = staticBinary(fields, {}, config);
  return new P().next(packet, fields, { rowsAsArray: true })[0];
}

export const UTF8MB4_GENERAL = UTF8MB4;
