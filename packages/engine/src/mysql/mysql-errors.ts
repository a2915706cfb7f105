import { encodeErrPacket, encodePacket, ErrorCode } from '@sqlwarden/wire-mysql';

/**
 * Every error sqlwarden itself tells a MySQL client, in one place, with stable codes:
 *  - policy denials and refused commands: ER_SPECIFIC_ACCESS_DENIED_ERROR 1227, SQLSTATE 42000
 *    (a statement error: drivers keep the connection), the message naming the rule and the reason;
 *  - bad credentials of every kind: ER_ACCESS_DENIED_ERROR 1045, SQLSTATE 28000, one message;
 *  - another database than the credential's: ER_DBACCESS_DENIED_ERROR 1044, 42000;
 *  - KILL of a connection id that is not this agent's: ER_NO_SUCH_THREAD 1094, HY000;
 *  - sessions ended by sqlwarden (revoked, expired): ER_CONNECTION_KILLED 1927, 70100;
 *  - LOAD DATA LOCAL INFILE refused by sqlwarden: ER_NOT_ALLOWED_COMMAND 1148 (42000), and 08S01 when a
 *    database asked for a file the statement did not name (the session ends);
 *  - COM_CHANGE_USER refused after authentication (other masks, another character set): 1235.
 */
export type MysqlSessionError =
  | { kind: 'auth_failed'; user: string }
  | { kind: 'rate_limited'; user: string }
  | { kind: 'tls_required' }
  | { kind: 'store_unavailable' }
  | { kind: 'bad_handshake'; detail: string }
  | { kind: 'protocol_violation'; detail: string }
  | { kind: 'packet_too_large'; limit: number }
  | { kind: 'unsafe_charset'; charset: string }
  | { kind: 'upstream_unavailable'; detail: string }
  | { kind: 'upstream_lost' }
  | { kind: 'denied'; ruleId: string; reason: string }
  | { kind: 'review_unavailable'; ruleId: string; reason: string }
  | { kind: 'command_refused'; command: string; reason: string }
  | { kind: 'unknown_command'; command: number }
  | { kind: 'change_user_refused'; reason: string }
  | { kind: 'local_infile_refused'; reason: string }
  | { kind: 'infile_violation' }
  | { kind: 'database_refused'; user: string; database: string; allowed: string }
  | { kind: 'unknown_statement'; id: number; command: string }
  | { kind: 'unknown_thread'; id: number | string }
  | { kind: 'kill_unsupported'; detail: string }
  | { kind: 'killed' }
  | { kind: 'revoked' }
  | { kind: 'expired' }
  | { kind: 'shutdown' }
  | { kind: 'too_many_connections' }
  | { kind: 'handshake_timeout' }
  | { kind: 'unsafe_setting'; setting: string }
  | { kind: 'masking_changed' }
  | { kind: 'masking_violation'; detail: string };

export interface MysqlErrorFields {
  errorCode: number;
  sqlState: string;
  message: string;
}

/** ER_NO_SUCH_THREAD */
const NO_SUCH_THREAD = 1094;
/** ER_CONNECTION_KILLED (MariaDB; MySQL clients show the message) */
const CONNECTION_KILLED = 1927;
/** CR_CONN_HOST_ERROR / CR_SERVER_LOST: what a client would report had it connected itself */
const CONN_HOST_ERROR = 2003;
const SERVER_LOST = 2013;
/** ER_UNKNOWN_CHARACTER_SET */
const UNKNOWN_CHARACTER_SET = 1115;

/** One generic message for every credential problem: a probe learns nothing from it. */
export function accessDeniedMessage(user: string): string {
  return `Access denied for user '${printable(user)}' (sqlwarden: the credential is invalid, expired or revoked)`;
}

/** User-supplied text echoed in an error: printable ASCII only, bounded. */
function printable(s: string): string {
  const t = s.replace(/[^\x20-\x7e]/g, '?');
  return t.length > 64 ? t.slice(0, 64) + '…' : t;
}

export function toMysqlErrorFields(e: MysqlSessionError): MysqlErrorFields {
  switch (e.kind) {
    case 'auth_failed':
      return { errorCode: ErrorCode.AccessDenied, sqlState: '28000', message: accessDeniedMessage(e.user) };
    case 'rate_limited':
      return { errorCode: ErrorCode.AccessDenied, sqlState: '28000', message: `Access denied for user '${printable(e.user)}' (sqlwarden: too many failed authentication attempts; try again later)` };
    case 'tls_required':
      return { errorCode: ErrorCode.AccessDenied, sqlState: '28000', message: 'Access denied: sqlwarden requires TLS (connect with --ssl / ssl-mode=REQUIRED)' };
    case 'store_unavailable':
      return { errorCode: ErrorCode.OutOfResources, sqlState: 'HY000', message: 'sqlwarden cannot verify credentials right now: the credential store is unreachable' };
    case 'bad_handshake':
      return { errorCode: ErrorCode.HandshakeError, sqlState: '08S01', message: `Bad handshake: ${e.detail}` };
    case 'protocol_violation':
      return { errorCode: ErrorCode.MalformedPacket, sqlState: 'HY000', message: `sqlwarden: malformed packet: ${e.detail}` };
    case 'packet_too_large':
      return { errorCode: ErrorCode.NetPacketTooLarge, sqlState: '08S01', message: `Got a packet bigger than 'max_allowed_packet' bytes (sqlwarden limits.maxMessageBytes is ${e.limit})` };
    case 'unsafe_charset':
      return {
        errorCode: UNKNOWN_CHARACTER_SET,
        sqlState: '42000',
        message: `sqlwarden: the character set ${e.charset} is refused (a multibyte character could hide a quote or backslash byte); use utf8mb4`,
      };
    case 'upstream_unavailable':
      return { errorCode: CONN_HOST_ERROR, sqlState: 'HY000', message: `sqlwarden could not connect to the database: ${e.detail}` };
    case 'upstream_lost':
      return { errorCode: SERVER_LOST, sqlState: 'HY000', message: 'sqlwarden lost the connection to the database' };
    case 'denied':
      return { errorCode: ErrorCode.SpecificAccessDenied, sqlState: '42000', message: `sqlwarden: statement denied by rule "${e.ruleId}": ${e.reason}` };
    case 'review_unavailable':
      return {
        errorCode: ErrorCode.SpecificAccessDenied,
        sqlState: '42000',
        message: `sqlwarden: statement requires human review by rule "${e.ruleId}": ${e.reason} (approvals are not enabled on this sqlwarden instance, so the statement was not run)`,
      };
    case 'command_refused':
      return { errorCode: ErrorCode.SpecificAccessDenied, sqlState: '42000', message: `sqlwarden: ${e.command} is not allowed through sqlwarden: ${e.reason}` };
    case 'unknown_command':
      return { errorCode: ErrorCode.UnknownCom, sqlState: '08S01', message: `Unknown command 0x${e.command.toString(16).padStart(2, '0')}` };
    case 'change_user_refused':
      return {
        errorCode: ErrorCode.NotSupportedYet,
        sqlState: '42000',
        message: `sqlwarden: COM_CHANGE_USER refused: ${e.reason}; open a new connection with the other credential`,
      };
    case 'local_infile_refused':
      return {
        errorCode: ErrorCode.NotAllowedCommand,
        sqlState: '42000',
        message: `sqlwarden: LOAD DATA LOCAL INFILE refused: ${e.reason}`,
      };
    case 'infile_violation':
      return {
        errorCode: ErrorCode.NotAllowedCommand,
        sqlState: '08S01',
        message: 'sqlwarden: the database asked for a client file the statement did not name; nothing was sent and the session was ended',
      };
    case 'database_refused':
      return {
        errorCode: ErrorCode.DbAccessDenied,
        sqlState: '42000',
        message: `Access denied for user '${printable(e.user)}' to database '${printable(e.database)}' (sqlwarden: this credential works only for database '${printable(e.allowed)}')`,
      };
    case 'unknown_statement':
      return { errorCode: ErrorCode.UnknownStmtHandler, sqlState: 'HY000', message: `Unknown prepared statement handler (${e.id}) given to ${e.command}` };
    case 'unknown_thread':
      return { errorCode: NO_SUCH_THREAD, sqlState: 'HY000', message: `Unknown thread id: ${typeof e.id === 'number' ? e.id : printable(e.id)}` };
    case 'kill_unsupported':
      return { errorCode: ErrorCode.NotSupportedYet, sqlState: '42000', message: `sqlwarden: ${e.detail}` };
    case 'killed':
      return { errorCode: CONNECTION_KILLED, sqlState: '70100', message: 'Connection was killed' };
    case 'revoked':
      return { errorCode: CONNECTION_KILLED, sqlState: '70100', message: 'sqlwarden: the credential of this session was revoked; session ended' };
    case 'expired':
      return { errorCode: CONNECTION_KILLED, sqlState: '70100', message: 'sqlwarden: the credential of this session expired; session ended' };
    case 'shutdown':
      return { errorCode: ErrorCode.ServerShutdown, sqlState: '08S01', message: 'sqlwarden is shutting down' };
    case 'too_many_connections':
      return { errorCode: ErrorCode.ConCountError, sqlState: '08004', message: 'Too many connections (sqlwarden limits.maxConnections)' };
    case 'handshake_timeout':
      return { errorCode: ErrorCode.HandshakeError, sqlState: '08S01', message: 'Bad handshake: sqlwarden: the connection did not complete its login in time' };
    case 'unsafe_setting':
      return {
        errorCode: ErrorCode.SpecificAccessDenied,
        sqlState: '42000',
        message: `sqlwarden: session ended because ${e.setting}, under which statements cannot be analysed safely`,
      };
    case 'masking_changed':
      return {
        errorCode: CONNECTION_KILLED,
        sqlState: '70100',
        message: 'sqlwarden: the policy now masks data for this agent; session ended so that masking applies from the start of a new one (reconnect)',
      };
    case 'masking_violation':
      return { errorCode: ErrorCode.SpecificAccessDenied, sqlState: '42000', message: `sqlwarden: session ended: ${e.detail}` };
  }
}

/** The ERR packet for `e`, framed with sequence id `seq`. */
export function toMysqlErrPacket(e: MysqlSessionError, seq: number): Buffer {
  return encodePacket(encodeErrPacket(toMysqlErrorFields(e)), seq);
}
