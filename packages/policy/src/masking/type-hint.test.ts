import { MysqlType, TypeHint, mysqlTypeHint, pgTypeHint } from './type-hint.js';

describe('type hints', () => {
  it.each([
    [25, TypeHint.Text],
    [1043, TypeHint.Text],
    [1042, TypeHint.Text],
    [19, TypeHint.Text],
    [21, TypeHint.Int2],
    [23, TypeHint.Int4],
    [20, TypeHint.Int8],
    [26, TypeHint.Oid],
    [1700, TypeHint.Numeric],
    [700, TypeHint.Float4],
    [701, TypeHint.Float8],
    [16, TypeHint.Bool],
    [1082, TypeHint.Date],
    [1114, TypeHint.Timestamp],
    [1184, TypeHint.TimestampTz],
    [1083, TypeHint.Time],
    [1266, TypeHint.TimeTz],
    [1186, TypeHint.Interval],
    [2950, TypeHint.Uuid],
    [114, TypeHint.Json],
    [3802, TypeHint.Jsonb],
    [17, TypeHint.Bytea],
    [869, TypeHint.Inet],
    [650, TypeHint.Cidr],
    [829, TypeHint.MacAddr],
    [1560, TypeHint.BitString],
    [1009, TypeHint.Array],
    [1007, TypeHint.Array],
    [3807, TypeHint.Array],
    [600, TypeHint.Unknown], // point
    [790, TypeHint.Unknown], // money: locale-dependent text
    [16384, TypeHint.Unknown], // user-defined
  ])('pg oid %i', (oid, hint) => expect(pgTypeHint(oid)).toBe(hint));

  it.each([
    [MysqlType.VarString, TypeHint.Text],
    [MysqlType.String, TypeHint.Text],
    [MysqlType.Blob, TypeHint.Text],
    [MysqlType.Enum, TypeHint.Text],
    [MysqlType.Tiny, TypeHint.Int1],
    [MysqlType.Short, TypeHint.Int2],
    [MysqlType.Int24, TypeHint.Int3],
    [MysqlType.Long, TypeHint.Int4],
    [MysqlType.LongLong, TypeHint.Int8],
    [MysqlType.NewDecimal, TypeHint.Numeric],
    [MysqlType.Float, TypeHint.Float4],
    [MysqlType.Double, TypeHint.Float8],
    [MysqlType.Date, TypeHint.Date],
    [MysqlType.DateTime, TypeHint.Timestamp],
    [MysqlType.Timestamp, TypeHint.Timestamp],
    [MysqlType.Time, TypeHint.Time],
    [MysqlType.Year, TypeHint.Year],
    [MysqlType.Bit, TypeHint.BitBytes],
    [MysqlType.Json, TypeHint.Json],
    [MysqlType.Geometry, TypeHint.Unknown],
    [MysqlType.Null, TypeHint.Unknown],
  ])('mysql type %i', (t, hint) => expect(mysqlTypeHint(t)).toBe(hint));
});
