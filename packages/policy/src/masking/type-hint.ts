/**
 * What a masked value has to look like afterwards so the client driver still decodes it: one hint
 * per wire type family, from a Postgres type OID or a MySQL column type (`mysqlColumnHint`,
 * mysql-column.ts).
 *
 * Text values of every hint are the Postgres text output format (DateStyle ISO, bytea_output hex)
 * or the MySQL text protocol; {@link compilePgBinaryMask} covers the Postgres binary format.
 */
export const enum TypeHint {
  /** text, varchar, bpchar, name, "char", xml, citext, enums; MySQL strings, blobs, ENUM, SET */
  Text = 0,
  /** MySQL TINYINT: -128..127 (hash output 0..127, valid signed and unsigned) */
  Int1 = 1,
  Int2 = 2,
  /** MySQL MEDIUMINT */
  Int3 = 3,
  Int4 = 4,
  Int8 = 5,
  /** oid, xid, cid, regproc-like numbers: 0..2^32-1 */
  Oid = 6,
  Numeric = 7,
  Float4 = 8,
  Float8 = 9,
  /** Postgres boolean: `t` / `f` */
  Bool = 10,
  Date = 11,
  Timestamp = 12,
  TimestampTz = 13,
  Time = 14,
  TimeTz = 15,
  Interval = 16,
  Uuid = 17,
  Json = 18,
  Jsonb = 19,
  /** Postgres bytea, hex output: `\x0a1b…` */
  Bytea = 20,
  Inet = 21,
  Cidr = 22,
  MacAddr = 23,
  MacAddr8 = 24,
  /** Postgres bit / varbit: a string of `0` and `1` */
  BitString = 25,
  /** MySQL BIT: raw bytes */
  BitBytes = 26,
  /** MySQL YEAR */
  Year = 27,
  /** Postgres arrays of any element type: `{…}` */
  Array = 28,
  /** anything else (geometric, ranges, tsvector, money, user-defined base types): only SQL NULL is surely valid */
  Unknown = 29,
}

/** The hint's name, for messages and test titles. */
export const TYPE_HINT_NAMES: readonly string[] = [
  'text', 'int1', 'int2', 'int3', 'int4', 'int8', 'oid', 'numeric', 'float4', 'float8', 'bool', 'date', 'timestamp',
  'timestamptz', 'time', 'timetz', 'interval', 'uuid', 'json', 'jsonb', 'bytea', 'inet', 'cidr', 'macaddr', 'macaddr8',
  'bitstring', 'bitbytes', 'year', 'array', 'unknown',
];

/** Every hint, in order. */
export const ALL_TYPE_HINTS: readonly TypeHint[] = TYPE_HINT_NAMES.map((_, i) => i as TypeHint);

// Built-in Postgres type OIDs (pg_type.dat). User-defined types have OIDs >= 16384 and are not known here.
const PG_OIDS: ReadonlyArray<readonly [number, TypeHint]> = [
  [16, TypeHint.Bool],
  [17, TypeHint.Bytea],
  [18, TypeHint.Text], // "char"
  [19, TypeHint.Text], // name
  [20, TypeHint.Int8],
  [21, TypeHint.Int2],
  [23, TypeHint.Int4],
  [24, TypeHint.Text], // regproc (text output is a name)
  [25, TypeHint.Text],
  [26, TypeHint.Oid],
  [28, TypeHint.Oid], // xid
  [29, TypeHint.Oid], // cid
  [114, TypeHint.Json],
  [142, TypeHint.Text], // xml: a text node is valid content
  [650, TypeHint.Cidr],
  [700, TypeHint.Float4],
  [701, TypeHint.Float8],
  [705, TypeHint.Text], // unknown (untyped literals)
  [774, TypeHint.MacAddr8],
  [829, TypeHint.MacAddr],
  [869, TypeHint.Inet],
  [1042, TypeHint.Text], // bpchar
  [1043, TypeHint.Text], // varchar
  [1082, TypeHint.Date],
  [1083, TypeHint.Time],
  [1114, TypeHint.Timestamp],
  [1184, TypeHint.TimestampTz],
  [1186, TypeHint.Interval],
  [1266, TypeHint.TimeTz],
  [1560, TypeHint.BitString],
  [1562, TypeHint.BitString], // varbit
  [1700, TypeHint.Numeric],
  [1790, TypeHint.Text], // refcursor
  [2205, TypeHint.Text], // regclass
  [2950, TypeHint.Uuid],
  [3802, TypeHint.Jsonb],
  [4072, TypeHint.Text], // jsonpath
  [5069, TypeHint.Int8], // xid8 (0..2^64-1 in principle; hash output stays below 2^63)
];
// Array types of the built-ins (and a few more): every one decodes `{}`.
const PG_ARRAY_OIDS = [
  143, 199, 629, 651, 719, 775, 791, 1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
  1015, 1016, 1017, 1018, 1019, 1020, 1021, 1022, 1027, 1028, 1034, 1040, 1041, 1115, 1182, 1183, 1185, 1187, 1231, 1263,
  1270, 1561, 1563, 2201, 2207, 2208, 2209, 2210, 2211, 2287, 2949, 2951, 3221, 3643, 3644, 3645, 3735, 3770, 3807,
  3905, 3907, 3909, 3911, 3913, 3927, 4073, 4192, 6150, 6151, 6152, 6153, 6155, 6157, 271,
];

const pgHints = new Map<number, TypeHint>(PG_OIDS);
for (const oid of PG_ARRAY_OIDS) pgHints.set(oid, TypeHint.Array);

/**
 * The hint for a built-in Postgres type OID from RowDescription. Unknown OIDs (user-defined types,
 * enums, citext, extension types, arrays of them) give `Unknown`, which masks to NULL; the engine
 * resolves them through the catalog with {@link resolvePgTypeHint}. (RowDescription reports a domain
 * column as its base type already.)
 */
export function pgTypeHint(oid: number): TypeHint {
  return pgHints.get(oid) ?? TypeHint.Unknown;
}

/** Postgres' first OID for objects created after initdb (FirstNormalObjectId): user and extension types. */
export const PG_FIRST_USER_OID = 16384;

/** What the catalog says of a Postgres type (`pg_type`), for {@link resolvePgTypeHint}. */
export interface PgTypeInfo {
  /** typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange */
  type: string;
  /** typcategory: A array, S string, N numeric, E enum, U user-defined, ... */
  category: string;
  /** typbasetype: the type a domain is over (0 for anything else) */
  baseType: number;
  /** typelem: an array type's element type (0 for anything else) */
  elem: number;
  /** the name of the type's binary output (typsend) function, e.g. `textsend`; null when it has none */
  send: string | null;
}

/** Binary output functions that send a value as its text, in the client encoding (as `text` does). */
const TEXT_SEND = new Set(['textsend', 'varcharsend', 'bpcharsend', 'namesend', 'citextsend', 'enum_send']);

/** Domains over domains are followed this deep (Postgres allows any depth; deeper → Unknown). */
const MAX_DOMAIN_DEPTH = 32;

/**
 * The hint for a Postgres type OID in a format (0 text, 1 binary), with what the catalog says of types
 * the built-in table does not know (`lookup`: the type's pg_type entry; null or undefined when it is
 * not known). Built-in OIDs keep their own hint. Of user and extension types:
 * - a domain is its base type (followed through domains over domains);
 * - an enum is Text: its text and its binary form are both the label, so a token decodes as a string;
 * - an array type is Array (`{}` in text; binary arrays are not rewritten and mask to NULL);
 * - a string-category type (citext, ...) is Text in text format, and in binary only when its send
 *   function sends the text as it is (citext does);
 * - a numeric-category type is Numeric in text format (`0`, digits of the same shape);
 * - anything else stays Unknown, which masks to NULL (fail closed).
 */
export function resolvePgTypeHint(oid: number, format: number, lookup: (oid: number) => PgTypeInfo | null | undefined): TypeHint {
  for (let depth = 0; depth <= MAX_DOMAIN_DEPTH; depth++) {
    const builtin = pgTypeHint(oid);
    if (builtin !== TypeHint.Unknown || oid < PG_FIRST_USER_OID) return builtin;
    const t = lookup(oid);
    if (!t) return TypeHint.Unknown;
    if (t.type === 'd') {
      if (t.baseType === 0) return TypeHint.Unknown;
      oid = t.baseType;
      continue;
    }
    if (t.type === 'e') return TypeHint.Text;
    if (t.type !== 'b') return TypeHint.Unknown;
    if (t.category === 'A' && t.elem !== 0) return TypeHint.Array;
    if (t.category === 'S') return format === 0 || (t.send !== null && TEXT_SEND.has(t.send)) ? TypeHint.Text : TypeHint.Unknown;
    if (t.category === 'N') return format === 0 ? TypeHint.Numeric : TypeHint.Unknown;
    return TypeHint.Unknown;
  }
  return TypeHint.Unknown;
}
