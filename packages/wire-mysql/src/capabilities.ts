/**
 * Capability flags (the lower 32 bits, negotiated in HandshakeV10 / HandshakeResponse41).
 * Values are kept unsigned: combine with `|` then `>>> 0`, test with `(caps & Capability.X) !== 0`.
 */
export const enum Capability {
  /** CLIENT_LONG_PASSWORD; MariaDB reads it as CLIENT_MYSQL: clear = MariaDB extended capabilities are exchanged */
  LongPassword = 0x1,
  /** CLIENT_MYSQL (MariaDB's name for bit 0) */
  ClientMysql = 0x1,
  /** CLIENT_FOUND_ROWS */
  FoundRows = 0x2,
  /** CLIENT_LONG_FLAG */
  LongFlag = 0x4,
  /** CLIENT_CONNECT_WITH_DB */
  ConnectWithDb = 0x8,
  /** CLIENT_NO_SCHEMA */
  NoSchema = 0x10,
  /** CLIENT_COMPRESS */
  Compress = 0x20,
  /** CLIENT_ODBC */
  Odbc = 0x40,
  /** CLIENT_LOCAL_FILES */
  LocalFiles = 0x80,
  /** CLIENT_IGNORE_SPACE */
  IgnoreSpace = 0x100,
  /** CLIENT_PROTOCOL_41 */
  Protocol41 = 0x200,
  /** CLIENT_INTERACTIVE */
  Interactive = 0x400,
  /** CLIENT_SSL */
  Ssl = 0x800,
  /** CLIENT_IGNORE_SIGPIPE */
  IgnoreSigpipe = 0x1000,
  /** CLIENT_TRANSACTIONS */
  Transactions = 0x2000,
  /** CLIENT_RESERVED (old 4.1 protocol flag) */
  Reserved = 0x4000,
  /** CLIENT_SECURE_CONNECTION (CLIENT_RESERVED2) */
  SecureConnection = 0x8000,
  /** CLIENT_MULTI_STATEMENTS */
  MultiStatements = 0x10000,
  /** CLIENT_MULTI_RESULTS */
  MultiResults = 0x20000,
  /** CLIENT_PS_MULTI_RESULTS */
  PsMultiResults = 0x40000,
  /** CLIENT_PLUGIN_AUTH */
  PluginAuth = 0x80000,
  /** CLIENT_CONNECT_ATTRS */
  ConnectAttrs = 0x100000,
  /** CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA */
  PluginAuthLenencClientData = 0x200000,
  /** CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS */
  CanHandleExpiredPasswords = 0x400000,
  /** CLIENT_SESSION_TRACK */
  SessionTrack = 0x800000,
  /** CLIENT_DEPRECATE_EOF */
  DeprecateEof = 0x1000000,
  /** CLIENT_OPTIONAL_RESULTSET_METADATA (MySQL 8) */
  OptionalResultsetMetadata = 0x2000000,
  /** CLIENT_ZSTD_COMPRESSION_ALGORITHM (MySQL 8) */
  ZstdCompressionAlgorithm = 0x4000000,
  /** CLIENT_QUERY_ATTRIBUTES (MySQL 8.0.23+) */
  QueryAttributes = 0x8000000,
  /** MULTI_FACTOR_AUTHENTICATION (MySQL 8.0.27+) */
  MultiFactorAuthentication = 0x10000000,
  /** CLIENT_CAPABILITY_EXTENSION; MariaDB: CLIENT_PROGRESS_OBSOLETE */
  CapabilityExtension = 0x20000000,
  /** CLIENT_SSL_VERIFY_SERVER_CERT */
  SslVerifyServerCert = 0x40000000,
  /** CLIENT_REMEMBER_OPTIONS */
  RememberOptions = 0x80000000,
}

/**
 * MariaDB's extended capabilities: bits 32..63 of MariaDB's 64-bit capability word, stored here
 * shifted down by 32 (MARIADB_CLIENT_PROGRESS = 1 << 32 is `Progress = 1`). Exchanged in the
 * reserved bytes of HandshakeV10 and HandshakeResponse41 when CLIENT_MYSQL is clear.
 */
export const enum MariadbCapability {
  /** MARIADB_CLIENT_PROGRESS: progress reports (ERR packets with code 0xFFFF) */
  Progress = 0x1,
  /** MARIADB_CLIENT_COM_MULTI (deprecated) */
  ComMulti = 0x2,
  /** MARIADB_CLIENT_STMT_BULK_OPERATIONS: COM_STMT_BULK_EXECUTE */
  StmtBulkOperations = 0x4,
  /** MARIADB_CLIENT_EXTENDED_METADATA (was EXTENDED_TYPE_INFO): type name/format in column definitions */
  ExtendedMetadata = 0x8,
  /** MARIADB_CLIENT_CACHE_METADATA: a resultset may skip column definitions */
  CacheMetadata = 0x10,
  /** MARIADB_CLIENT_BULK_UNIT_RESULTS */
  BulkUnitResults = 0x20,
}

/** The capabilities in force on a connection: the client's flags AND the server's. */
export interface Negotiated {
  /** lower 32 capability bits (Capability) */
  capabilities: number;
  /** MariaDB extended capabilities (MariadbCapability); 0 when not a MariaDB extended exchange */
  mariadbCapabilities: number;
}

/** True when `caps` has every bit of `flag`. */
export function hasCapability(caps: number, flag: Capability | number): boolean {
  return ((caps & flag) >>> 0) === flag >>> 0;
}

/** Intersection of both sides' flags, as the server computes it. */
export function negotiate(server: Negotiated, client: Negotiated): Negotiated {
  const extended = (server.capabilities & Capability.ClientMysql) === 0 && (client.capabilities & Capability.ClientMysql) === 0;
  return {
    capabilities: (server.capabilities & client.capabilities) >>> 0,
    mariadbCapabilities: extended ? (server.mariadbCapabilities & client.mariadbCapabilities) >>> 0 : 0,
  };
}
