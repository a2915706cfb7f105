/**
 * What masking needs to know of a MySQL result column: the parts of the column definition packet
 * (Protocol::ColumnDefinition41) that decide what a valid value of the column looks like on the wire.
 */
import { ColumnFlag as MysqlColumnFlag, ColumnType as MysqlType, Collation } from '@sqlwarden/wire-mysql';
import { TypeHint } from './type-hint.js';

/**
 * The MySQL column types (`enum_field_types`, the column definition's type byte) and the column
 * definition flags (`flags` of ColumnDefinition41; BINARY_FLAG is set on binary strings but also on
 * temporal columns and on MariaDB's JSON: the charset decides): wire-mysql's `ColumnType` and
 * `ColumnFlag`, under the names masking has always given them.
 */
export { MysqlType, MysqlColumnFlag };

/** The `binary` character set (collation id 63): the column holds bytes, not text. */
export const MYSQL_BINARY_CHARSET: number = Collation.Binary;

/** The type of one MySQL result column, from its column definition. */
export interface MysqlColumnType {
  /** the type byte (`MysqlType`, enum_field_types) */
  type: number;
  /** the flags (`MysqlColumnFlag`); UNSIGNED, ZEROFILL, ENUM and SET matter here (default 0) */
  flags?: number;
  /** the character set (collation id); 63 = binary: the value is bytes (BLOB, BINARY, VARBINARY, BIT, GEOMETRY, numbers) */
  characterSet?: number;
  /**
   * column_length: the display width of numbers (TINYINT(1) → 1, ZEROFILL pads to it), the bits of a
   * BIT(n), the maximum length in bytes of a string (default 0: unknown)
   */
  columnLength?: number;
  /**
   * decimals: the scale of a DECIMAL, the fractional-second digits of DATETIME/TIMESTAMP/TIME (0..6);
   * 0x1f (MySQL) or 0x27 (MariaDB) = not fixed (default 0)
   */
  decimals?: number;
  /**
   * MariaDB extended type info (sent to clients that asked for MARIADB_CLIENT_EXTENDED_METADATA): the
   * data type name (`json`, `uuid`, `inet6`, ...) and format (`json`). A column the client's driver
   * will parse as JSON (the mariadb connector does) must get JSON: pass them when the client has them.
   */
  extendedTypeName?: string;
  extendedFormat?: string;
}

/** How masking treats the values of a MySQL column. */
export const enum MysqlValueKind {
  /** TINY/SHORT/INT24/LONG/LONGLONG */
  Integer,
  /** TINYINT(1): drivers may read it as a boolean; masked to 0 or 1 */
  Boolean,
  Year,
  /** DECIMAL/NEWDECIMAL */
  Decimal,
  Float,
  Double,
  Date,
  DateTime,
  /** TIMESTAMP: 1970-01-01 00:00:01 .. 2038-01-19 03:14:07 UTC */
  Timestamp,
  Time,
  Bit,
  Json,
  /** MariaDB UUID */
  Uuid,
  /** strings, TEXT, ENUM, SET in a text character set */
  Text,
  /** BINARY, VARBINARY, BLOB (character set 63): bytes */
  Bytes,
  /** GEOMETRY, VECTOR and types not known: only NULL is surely valid */
  Opaque,
  /** the NULL type (`SELECT NULL`): every value is NULL */
  Null,
}

/** The kind of a column's values. */
export function mysqlValueKind(col: MysqlColumnType): MysqlValueKind {
  if (col.extendedFormat === 'json' || col.extendedTypeName === 'json') return MysqlValueKind.Json;
  if (col.extendedTypeName === 'uuid') return MysqlValueKind.Uuid;
  switch (col.type) {
    case MysqlType.Tiny:
      return col.columnLength === 1 ? MysqlValueKind.Boolean : MysqlValueKind.Integer;
    case MysqlType.Bool:
      return MysqlValueKind.Boolean;
    case MysqlType.Short:
    case MysqlType.Int24:
    case MysqlType.Long:
    case MysqlType.LongLong:
      return MysqlValueKind.Integer;
    case MysqlType.Year:
      return MysqlValueKind.Year;
    case MysqlType.Decimal:
    case MysqlType.NewDecimal:
      return MysqlValueKind.Decimal;
    case MysqlType.Float:
      return MysqlValueKind.Float;
    case MysqlType.Double:
      return MysqlValueKind.Double;
    case MysqlType.Date:
    case MysqlType.NewDate:
      return MysqlValueKind.Date;
    case MysqlType.DateTime:
    case MysqlType.DateTime2:
      return MysqlValueKind.DateTime;
    case MysqlType.Timestamp:
    case MysqlType.Timestamp2:
      return MysqlValueKind.Timestamp;
    case MysqlType.Time:
    case MysqlType.Time2:
      return MysqlValueKind.Time;
    case MysqlType.Bit:
      return MysqlValueKind.Bit;
    case MysqlType.Json:
      return MysqlValueKind.Json;
    case MysqlType.VarChar:
    case MysqlType.VarString:
    case MysqlType.String:
    case MysqlType.Enum:
    case MysqlType.Set:
    case MysqlType.TinyBlob:
    case MysqlType.MediumBlob:
    case MysqlType.LongBlob:
    case MysqlType.Blob:
      return col.characterSet === MYSQL_BINARY_CHARSET ? MysqlValueKind.Bytes : MysqlValueKind.Text;
    case MysqlType.Null:
      return MysqlValueKind.Null;
    default:
      return MysqlValueKind.Opaque;
  }
}

/**
 * True when detectors scan the column's values: text in a text character set (strings, TEXT, ENUM,
 * SET) and JSON (utf8mb4 whatever charset MySQL reports for it). Never bytes (charset 63: BLOB,
 * BINARY, VARBINARY), numbers, temporal values, BIT or GEOMETRY: rewriting a span inside binary
 * data would corrupt it, and a finding there would not be text anyway.
 */
export function mysqlDetectable(col: MysqlColumnType): boolean {
  const k = mysqlValueKind(col);
  return k === MysqlValueKind.Text || k === MysqlValueKind.Json;
}

/** The hint of each kind of value; integers take theirs from the type's width. */
const KIND_HINTS: Record<MysqlValueKind, TypeHint> = {
  [MysqlValueKind.Integer]: TypeHint.Int8,
  [MysqlValueKind.Boolean]: TypeHint.Bool,
  [MysqlValueKind.Year]: TypeHint.Year,
  [MysqlValueKind.Decimal]: TypeHint.Numeric,
  [MysqlValueKind.Float]: TypeHint.Float4,
  [MysqlValueKind.Double]: TypeHint.Float8,
  [MysqlValueKind.Date]: TypeHint.Date,
  [MysqlValueKind.DateTime]: TypeHint.Timestamp,
  [MysqlValueKind.Timestamp]: TypeHint.Timestamp,
  [MysqlValueKind.Time]: TypeHint.Time,
  [MysqlValueKind.Bit]: TypeHint.BitBytes,
  [MysqlValueKind.Json]: TypeHint.Json,
  [MysqlValueKind.Uuid]: TypeHint.Uuid,
  [MysqlValueKind.Text]: TypeHint.Text,
  [MysqlValueKind.Bytes]: TypeHint.Text,
  [MysqlValueKind.Opaque]: TypeHint.Unknown,
  [MysqlValueKind.Null]: TypeHint.Unknown,
};

/** The integer hint of a MySQL integer type (TINY, SHORT, INT24, LONG, LONGLONG). */
const INTEGER_HINTS: Partial<Record<number, TypeHint>> = {
  [MysqlType.Tiny]: TypeHint.Int1,
  [MysqlType.Short]: TypeHint.Int2,
  [MysqlType.Int24]: TypeHint.Int3,
  [MysqlType.Long]: TypeHint.Int4,
};

/**
 * The type hint of a MySQL column as masking treats it: TINYINT(1) is Bool, MariaDB's json/uuid
 * columns are Json/Uuid, bytes are Text. Integer hints cover the signed and the unsigned column alike:
 * masked integers are never negative and stay below the signed maximum.
 */
export function mysqlColumnHint(col: MysqlColumnType): TypeHint {
  const kind = mysqlValueKind(col);
  return kind === MysqlValueKind.Integer ? (INTEGER_HINTS[col.type] ?? TypeHint.Int8) : KIND_HINTS[kind];
}

/**
 * The hint for a MySQL column type alone (no display width, character set or extended metadata):
 * {@link mysqlColumnHint} of a column of that type, except that MYSQL_TYPE_BOOL (a placeholder
 * servers do not send) counts as TINYINT.
 */
export function mysqlTypeHint(type: number): TypeHint {
  return mysqlColumnHint({ type: type === MysqlType.Bool ? MysqlType.Tiny : type });
}

/** The decimals of a column when it fixes them (0..30 for DECIMAL, 0..6 for temporal types), else undefined. */
export function fixedDecimals(col: MysqlColumnType, max: number): number | undefined {
  const d = col.decimals ?? 0;
  return d >= 0 && d <= max ? d : undefined;
}

/** A short, stable key of everything about a column that changes how its values are masked. */
export function mysqlColumnKey(col: MysqlColumnType): string {
  const kind = mysqlValueKind(col);
  const flags = (col.flags ?? 0) & (MysqlColumnFlag.Unsigned | MysqlColumnFlag.Zerofill);
  // the length matters for ZEROFILL numbers, BIT and bytes only
  const len = kind === MysqlValueKind.Bit || kind === MysqlValueKind.Bytes || (flags & MysqlColumnFlag.Zerofill) !== 0 ? (col.columnLength ?? 0) : 0;
  return `${kind}.${col.type}.${flags}.${len}.${col.decimals ?? 0}`;
}
