import { Capability } from '@sqlwarden/wire-mysql';

/**
 * Capability negotiation on both sides of a MySQL session.
 *
 * sqlwarden advertises only what it handles. Flags that change what travels on the wire after login
 * (`WIRE_FLAGS`: EOF packets, multi-results, session tracking, query attributes, ...) are passed to the
 * upstream as the client negotiated them, so upstream bytes can be forwarded untouched; a flag the
 * client negotiated that the upstream does not offer fails the login with a message naming it
 * (nothing is translated). Login-only flags (`LOGIN_FLAGS`) are sqlwarden's own business on each side.
 * CLIENT_LOCAL_FILES is advertised to clients (which file a client sends is decided per statement by
 * sqlwarden: see the session) but negotiated with the upstream only for sessions whose principal the
 * policy allows LOAD DATA LOCAL INFILE (`localFiles` of upstreamCapabilities).
 * Never advertised: CLIENT_COMPRESS,
 * CLIENT_IGNORE_SPACE (it switches the server's parser to IGNORE_SPACE), CLIENT_NO_SCHEMA, CLIENT_ODBC,
 * CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS, CLIENT_OPTIONAL_RESULTSET_METADATA (result masking needs the
 * column definitions), zstd, multi-factor auth, and MariaDB's extended capabilities (CLIENT_MYSQL stays
 * set, so none are exchanged).
 */
export const WIRE_FLAGS =
  (Capability.FoundRows |
    Capability.LongFlag |
    Capability.Protocol41 |
    Capability.Interactive |
    Capability.Transactions |
    Capability.MultiStatements |
    Capability.MultiResults |
    Capability.PsMultiResults |
    Capability.DeprecateEof |
    Capability.SessionTrack |
    Capability.QueryAttributes) >>>
  0;

export const LOGIN_FLAGS =
  (Capability.LongPassword |
    Capability.ConnectWithDb |
    Capability.SecureConnection |
    Capability.PluginAuth |
    Capability.PluginAuthLenencClientData |
    Capability.ConnectAttrs) >>>
  0;

/** Wire flags that sqlwarden offers only when the upstream is known to offer them too. */
const OPTIONAL_WIRE_FLAGS = (Capability.SessionTrack | Capability.QueryAttributes) >>> 0;

/**
 * The capabilities of sqlwarden's HandshakeV10. `upstream`: the flags the target's own handshake
 * offered (probed), or null when not known yet (then the optional wire flags are left out).
 */
export function advertisedCapabilities(upstream: number | null, tls: boolean): number {
  let caps = (WIRE_FLAGS | LOGIN_FLAGS | Capability.LocalFiles) >>> 0;
  if (upstream === null) caps = (caps & ~OPTIONAL_WIRE_FLAGS) >>> 0;
  else caps = (caps & (upstream | LOGIN_FLAGS)) >>> 0;
  if (tls) caps = (caps | Capability.Ssl) >>> 0;
  return caps >>> 0;
}

/** What is in force with the client: its flags AND ours. */
export function clientNegotiated(clientCaps: number, advertised: number): number {
  return (clientCaps & advertised) >>> 0;
}

const FLAG_NAMES: [number, string][] = [
  [Capability.FoundRows, 'CLIENT_FOUND_ROWS'],
  [Capability.LongFlag, 'CLIENT_LONG_FLAG'],
  [Capability.Protocol41, 'CLIENT_PROTOCOL_41'],
  [Capability.Interactive, 'CLIENT_INTERACTIVE'],
  [Capability.Transactions, 'CLIENT_TRANSACTIONS'],
  [Capability.MultiStatements, 'CLIENT_MULTI_STATEMENTS'],
  [Capability.MultiResults, 'CLIENT_MULTI_RESULTS'],
  [Capability.PsMultiResults, 'CLIENT_PS_MULTI_RESULTS'],
  [Capability.DeprecateEof, 'CLIENT_DEPRECATE_EOF'],
  [Capability.SessionTrack, 'CLIENT_SESSION_TRACK'],
  [Capability.QueryAttributes, 'CLIENT_QUERY_ATTRIBUTES'],
  [Capability.SecureConnection, 'CLIENT_SECURE_CONNECTION'],
  [Capability.PluginAuth, 'CLIENT_PLUGIN_AUTH'],
];

export function capabilityNames(flags: number): string[] {
  return FLAG_NAMES.filter(([f]) => (flags & f) !== 0).map(([, n]) => n);
}

export type UpstreamFlags = { ok: true; capabilities: number } | { ok: false; missing: string[] };

/**
 * The flags sqlwarden sends in its HandshakeResponse41 to the upstream: the client's wire flags as
 * negotiated, plus the login flags the upstream offers (CLIENT_SSL is added by the TLS upgrade).
 * Fails, naming the flags, when the upstream lacks a wire flag the client negotiated.
 */
export function upstreamCapabilities(negotiatedWithClient: number, upstreamOffered: number, localFiles = false): UpstreamFlags {
  const wire = (negotiatedWithClient & WIRE_FLAGS) >>> 0;
  const missing = (wire & ~upstreamOffered) >>> 0;
  if (missing !== 0) return { ok: false, missing: capabilityNames(missing) };
  if ((upstreamOffered & Capability.Protocol41) === 0) return { ok: false, missing: ['CLIENT_PROTOCOL_41'] };
  // CLIENT_LONG_PASSWORD is also MariaDB's CLIENT_MYSQL: set, so no MariaDB extended capabilities are exchanged
  const login = ((upstreamOffered & LOGIN_FLAGS) | Capability.LongPassword) >>> 0;
  // LOCAL INFILE: only when the session asks for it (an allowed principal) and the upstream offers it
  const local = localFiles ? (negotiatedWithClient & upstreamOffered & Capability.LocalFiles) >>> 0 : 0;
  return { ok: true, capabilities: (wire | login | local) >>> 0 };
}

/**
 * Collation ids (the one-byte character set of a handshake) whose character set can hide a quote or
 * backslash byte inside a multibyte character (big5, sjis, gbk, cp932, gb18030): sqlwarden would read
 * a statement differently from the server. The policy refuses switching to them with SET NAMES; a
 * client that asks for one at login is refused.
 */
const UNSAFE_COLLATIONS = new Map<number, string>([
  [1, 'big5'],
  [84, 'big5'],
  [13, 'sjis'],
  [88, 'sjis'],
  [28, 'gbk'],
  [87, 'gbk'],
  [95, 'cp932'],
  [96, 'cp932'],
  [248, 'gb18030'],
  [249, 'gb18030'],
  [250, 'gb18030'],
]);

/** The character set's name when a handshake collation id is unsafe for analysis; null when it is fine. */
export function unsafeCollation(id: number): string | null {
  return UNSAFE_COLLATIONS.get(id) ?? null;
}

/** sql_mode items under which sqlwarden would read statements differently from the server. */
const UNSAFE_SQL_MODES = [
  'ANSI_QUOTES',
  'NO_BACKSLASH_ESCAPES',
  'PIPES_AS_CONCAT',
  'IGNORE_SPACE',
  'HIGH_NOT_PRECEDENCE',
  'EMPTY_STRING_IS_NULL',
  'ORACLE',
  'MSSQL',
  'DB2',
  'POSTGRESQL',
  'MAXDB',
  'MYSQL323',
  'MYSQL40',
  'ANSI',
];

/** The unsafe items of an sql_mode value (as @@sql_mode reports it); empty when it is safe. */
export function unsafeSqlModes(sqlMode: string): string[] {
  const items = sqlMode.split(',').map((s) => s.trim().toUpperCase());
  return UNSAFE_SQL_MODES.filter((m) => items.includes(m));
}

/**
 * The server version sqlwarden shows clients: the upstream's own (drivers read the MySQL/MariaDB
 * version from it, and MariaDB's "5.5.5-" prefix) with "-sqlwarden" appended; a neutral 8.0 version
 * until the upstream has been seen.
 */
export function clientServerVersion(upstreamVersion: string | null): string {
  if (!upstreamVersion) return '8.0.0-sqlwarden';
  const v = upstreamVersion.replace(/[^\x20-\x7e]/g, '').slice(0, 200);
  return `${v}-sqlwarden`;
}
