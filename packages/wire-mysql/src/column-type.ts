/** Column and parameter types (enum_field_types). */
export const enum ColumnType {
  Decimal = 0x00, // MYSQL_TYPE_DECIMAL: lenenc string
  Tiny = 0x01, // MYSQL_TYPE_TINY: int<1>
  Short = 0x02, // MYSQL_TYPE_SHORT: int<2>
  Long = 0x03, // MYSQL_TYPE_LONG: int<4>
  Float = 0x04, // MYSQL_TYPE_FLOAT: 4-byte IEEE
  Double = 0x05, // MYSQL_TYPE_DOUBLE: 8-byte IEEE
  Null = 0x06, // MYSQL_TYPE_NULL: no bytes, NULL bitmap only
  Timestamp = 0x07, // MYSQL_TYPE_TIMESTAMP: length byte 0/4/7/11 + date/time
  LongLong = 0x08, // MYSQL_TYPE_LONGLONG: int<8>
  Int24 = 0x09, // MYSQL_TYPE_INT24: int<4> on the wire
  Date = 0x0a, // MYSQL_TYPE_DATE: length byte 0/4/7/11 + date
  Time = 0x0b, // MYSQL_TYPE_TIME: length byte 0/8/12 + time
  DateTime = 0x0c, // MYSQL_TYPE_DATETIME: length byte 0/4/7/11 + date/time
  Year = 0x0d, // MYSQL_TYPE_YEAR: int<2>
  NewDate = 0x0e, // MYSQL_TYPE_NEWDATE (internal): like DATE
  VarChar = 0x0f, // MYSQL_TYPE_VARCHAR: lenenc string
  Bit = 0x10, // MYSQL_TYPE_BIT: lenenc string
  Timestamp2 = 0x11, // MYSQL_TYPE_TIMESTAMP2 (replication only)
  DateTime2 = 0x12, // MYSQL_TYPE_DATETIME2 (replication only)
  Time2 = 0x13, // MYSQL_TYPE_TIME2 (replication only)
  TypedArray = 0x14, // MYSQL_TYPE_TYPED_ARRAY (replication only)
  Vector = 0xf2, // MYSQL_TYPE_VECTOR (MySQL 9): lenenc string
  Invalid = 0xf3, // MYSQL_TYPE_INVALID
  Bool = 0xf4, // MYSQL_TYPE_BOOL (placeholder)
  Json = 0xf5, // MYSQL_TYPE_JSON (MySQL; MariaDB sends STRING): lenenc string
  NewDecimal = 0xf6, // MYSQL_TYPE_NEWDECIMAL: lenenc string
  Enum = 0xf7, // MYSQL_TYPE_ENUM: lenenc string
  Set = 0xf8, // MYSQL_TYPE_SET: lenenc string
  TinyBlob = 0xf9, // MYSQL_TYPE_TINY_BLOB: lenenc string
  MediumBlob = 0xfa, // MYSQL_TYPE_MEDIUM_BLOB: lenenc string
  LongBlob = 0xfb, // MYSQL_TYPE_LONG_BLOB: lenenc string
  Blob = 0xfc, // MYSQL_TYPE_BLOB: lenenc string
  VarString = 0xfd, // MYSQL_TYPE_VAR_STRING: lenenc string
  String = 0xfe, // MYSQL_TYPE_STRING: lenenc string
  Geometry = 0xff, // MYSQL_TYPE_GEOMETRY: lenenc string
}

/** Column definition flags (*_FLAG). */
export const enum ColumnFlag {
  NotNull = 0x1, // NOT_NULL_FLAG
  PrimaryKey = 0x2, // PRI_KEY_FLAG
  UniqueKey = 0x4, // UNIQUE_KEY_FLAG
  MultipleKey = 0x8, // MULTIPLE_KEY_FLAG
  Blob = 0x10, // BLOB_FLAG
  Unsigned = 0x20, // UNSIGNED_FLAG
  Zerofill = 0x40, // ZEROFILL_FLAG
  Binary = 0x80, // BINARY_FLAG
  Enum = 0x100, // ENUM_FLAG
  AutoIncrement = 0x200, // AUTO_INCREMENT_FLAG
  Timestamp = 0x400, // TIMESTAMP_FLAG
  Set = 0x800, // SET_FLAG
  NoDefaultValue = 0x1000, // NO_DEFAULT_VALUE_FLAG
  OnUpdateNow = 0x2000, // ON_UPDATE_NOW_FLAG
  PartKey = 0x4000, // PART_KEY_FLAG
  Num = 0x8000, // NUM_FLAG
}

/** Flag byte of a COM_STMT_EXECUTE parameter type (the second byte of int<2> parameter_type). */
export const PARAM_UNSIGNED = 0x80;

/** Collation ids the proxy meets most (the character_set byte in handshakes and column definitions). */
export const enum Collation {
  Latin1SwedishCi = 8, // latin1_swedish_ci
  Utf8GeneralCi = 33, // utf8(mb3)_general_ci
  Utf8mb4GeneralCi = 45, // utf8mb4_general_ci
  Binary = 63, // binary: byte strings
  Utf8mb4UnicodeCi = 224, // utf8mb4_unicode_ci
  Utf8mb4_0900AiCi = 255, // utf8mb4_0900_ai_ci (MySQL 8 default)
}

/** How a value of this type is laid out in a binary row or COM_STMT_EXECUTE. */
export const enum BinaryLayout {
  /** length-encoded string */
  Lenenc = 0,
  /** fixed-width little-endian value; width from binaryFixedWidth() */
  Fixed = 1,
  /** one length byte then that many bytes (DATE/DATETIME/TIMESTAMP/TIME) */
  Temporal = 2,
  /** no bytes at all (MYSQL_TYPE_NULL) */
  Empty = 3,
}

/** Layout of `type` in the binary protocol. */
export function binaryLayout(type: number): BinaryLayout {
  switch (type) {
    case ColumnType.Tiny:
    case ColumnType.Short:
    case ColumnType.Year:
    case ColumnType.Long:
    case ColumnType.Int24:
    case ColumnType.Float:
    case ColumnType.LongLong:
    case ColumnType.Double:
      return BinaryLayout.Fixed;
    case ColumnType.Date:
    case ColumnType.NewDate:
    case ColumnType.DateTime:
    case ColumnType.Timestamp:
    case ColumnType.Time:
      return BinaryLayout.Temporal;
    case ColumnType.Null:
      return BinaryLayout.Empty;
    default:
      return BinaryLayout.Lenenc;
  }
}

/** Width in bytes of a fixed-width binary value; 0 for other layouts. */
export function binaryFixedWidth(type: number): number {
  switch (type) {
    case ColumnType.Tiny:
      return 1;
    case ColumnType.Short:
    case ColumnType.Year:
      return 2;
    case ColumnType.Long:
    case ColumnType.Int24:
    case ColumnType.Float:
      return 4;
    case ColumnType.LongLong:
    case ColumnType.Double:
      return 8;
    default:
      return 0;
  }
}

/** True for the types a proxy may treat as text or bytes (strings, blobs, decimals, JSON, enum/set, bit, geometry). */
export function isStringType(type: number): boolean {
  return binaryLayout(type) === BinaryLayout.Lenenc;
}
