import { MysqlType, mysqlTypeHint } from './mysql-column.js';
import { TypeHint, pgTypeHint, resolvePgTypeHint, type PgTypeInfo } from './type-hint.js';

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

describe('Postgres user and extension types through the catalog', () => {
  const info = (over: Partial<PgTypeInfo>): PgTypeInfo => ({ type: 'b', category: 'U', baseType: 0, elem: 0, send: null, ...over });
  const CATALOG = new Map<number, PgTypeInfo>([
    [16400, info({ type: 'd', category: 'S', baseType: 25, send: 'textsend' })], // domain over text
    [16401, info({ type: 'd', category: 'N', baseType: 23, send: 'int4send' })], // domain over int4
    [16402, info({ type: 'd', category: 'S', baseType: 16400, send: 'textsend' })], // domain over that domain
    [16403, info({ type: 'e', category: 'E', send: 'enum_send' })], // enum
    [16404, info({ category: 'S', send: 'citextsend' })], // citext
    [16405, info({ category: 'A', elem: 16400, send: 'array_send' })], // array of a domain
    [16406, info({ category: 'S', send: 'myext_send' })], // a string type whose binary form is its own
    [16407, info({ category: 'N', send: 'myint_send' })], // a numeric extension type
    [16408, info({ type: 'c', category: 'C', send: 'record_send' })], // composite
    [16409, info({ type: 'r', category: 'R', send: 'range_send' })], // range
    [16410, info({ category: 'U', send: 'hstore_send' })], // hstore-like
    [16411, info({ type: 'd', category: 'S', baseType: 16403 })], // domain over the enum
    [16412, info({ type: 'd', category: 'U', baseType: 600 })], // domain over point (built in, not understood)
    [16413, info({ type: 'd', category: 'S', baseType: 16413 })], // a loop (not possible in Postgres): gives up
    [16414, info({ type: 'd', category: 'S', baseType: 99999 })], // base type not in the catalog
  ]);
  const lookup = (oid: number): PgTypeInfo | undefined => CATALOG.get(oid);

  it.each([
    [16400, TypeHint.Text, TypeHint.Text],
    [16401, TypeHint.Int4, TypeHint.Int4],
    [16402, TypeHint.Text, TypeHint.Text],
    [16403, TypeHint.Text, TypeHint.Text],
    [16404, TypeHint.Text, TypeHint.Text],
    [16405, TypeHint.Array, TypeHint.Array],
    [16406, TypeHint.Text, TypeHint.Unknown],
    [16407, TypeHint.Numeric, TypeHint.Unknown],
    [16408, TypeHint.Unknown, TypeHint.Unknown],
    [16409, TypeHint.Unknown, TypeHint.Unknown],
    [16410, TypeHint.Unknown, TypeHint.Unknown],
    [16411, TypeHint.Text, TypeHint.Text],
    [16412, TypeHint.Unknown, TypeHint.Unknown],
    [16413, TypeHint.Unknown, TypeHint.Unknown],
    [16414, TypeHint.Unknown, TypeHint.Unknown],
    [16499, TypeHint.Unknown, TypeHint.Unknown], // not known to the catalog (not loaded, or the lookup failed)
    [25, TypeHint.Text, TypeHint.Text], // built in: the table, no lookup
    [790, TypeHint.Unknown, TypeHint.Unknown], // built-in money stays Unknown whatever the catalog says
  ])('oid %i: text %i, binary %i', (oid, text, binary) => {
    expect(resolvePgTypeHint(oid, 0, lookup)).toBe(text);
    expect(resolvePgTypeHint(oid, 1, lookup)).toBe(binary);
  });

  it('built-in OIDs never ask the catalog', () => {
    const asked: number[] = [];
    resolvePgTypeHint(790, 0, (o) => (asked.push(o), info({ category: 'N' })));
    resolvePgTypeHint(23, 0, (o) => (asked.push(o), undefined));
    expect(asked).toEqual([]);
  });
});
