/** Command bytes: the first byte of every command-phase packet a client sends. */
export const enum Command {
  Sleep = 0x00, // COM_SLEEP (internal)
  Quit = 0x01, // COM_QUIT: no response, the server closes
  InitDb = 0x02, // COM_INIT_DB
  Query = 0x03, // COM_QUERY
  FieldList = 0x04, // COM_FIELD_LIST (deprecated)
  CreateDb = 0x05, // COM_CREATE_DB (removed)
  DropDb = 0x06, // COM_DROP_DB (removed)
  Refresh = 0x07, // COM_REFRESH (deprecated)
  Shutdown = 0x08, // COM_SHUTDOWN
  Statistics = 0x09, // COM_STATISTICS: response is one string packet
  ProcessInfo = 0x0a, // COM_PROCESS_INFO (deprecated): a text resultset
  Connect = 0x0b, // COM_CONNECT (internal)
  ProcessKill = 0x0c, // COM_PROCESS_KILL
  Debug = 0x0d, // COM_DEBUG: EOF or ERR
  Ping = 0x0e, // COM_PING
  Time = 0x0f, // COM_TIME (internal)
  DelayedInsert = 0x10, // COM_DELAYED_INSERT (internal)
  ChangeUser = 0x11, // COM_CHANGE_USER: re-authentication
  BinlogDump = 0x12, // COM_BINLOG_DUMP
  TableDump = 0x13, // COM_TABLE_DUMP
  ConnectOut = 0x14, // COM_CONNECT_OUT (internal)
  RegisterSlave = 0x15, // COM_REGISTER_SLAVE
  StmtPrepare = 0x16, // COM_STMT_PREPARE
  StmtExecute = 0x17, // COM_STMT_EXECUTE
  StmtSendLongData = 0x18, // COM_STMT_SEND_LONG_DATA: no response
  StmtClose = 0x19, // COM_STMT_CLOSE: no response
  StmtReset = 0x1a, // COM_STMT_RESET
  SetOption = 0x1b, // COM_SET_OPTION: EOF or ERR
  StmtFetch = 0x1c, // COM_STMT_FETCH
  Daemon = 0x1d, // COM_DAEMON (internal)
  BinlogDumpGtid = 0x1e, // COM_BINLOG_DUMP_GTID
  ResetConnection = 0x1f, // COM_RESET_CONNECTION
  Clone = 0x20, // COM_CLONE (MySQL 8)
  SubscribeGroupReplicationStream = 0x21, // COM_SUBSCRIBE_GROUP_REPLICATION_STREAM (MySQL 8)
  StmtBulkExecute = 0xfa, // COM_STMT_BULK_EXECUTE (MariaDB)
  Multi = 0xfe, // COM_MULTI (MariaDB, deprecated)
}

/** First byte of the generic response packets. */
export const enum ResponseHeader {
  Ok = 0x00, // OK_Packet
  AuthMoreData = 0x01, // AuthMoreData (connection phase)
  LocalInfile = 0xfb, // LOCAL INFILE request (also the NULL marker in text rows)
  Eof = 0xfe, // EOF_Packet, OK_Packet with DEPRECATE_EOF, AuthSwitchRequest
  Err = 0xff, // ERR_Packet
}

/** Status flags (SERVER_STATUS_*) carried by OK and EOF packets and HandshakeV10. */
export const enum ServerStatus {
  InTrans = 0x1, // SERVER_STATUS_IN_TRANS
  Autocommit = 0x2, // SERVER_STATUS_AUTOCOMMIT
  MoreResultsExists = 0x8, // SERVER_MORE_RESULTS_EXISTS: another result of this command follows
  QueryNoGoodIndexUsed = 0x10, // SERVER_QUERY_NO_GOOD_INDEX_USED
  QueryNoIndexUsed = 0x20, // SERVER_QUERY_NO_INDEX_USED
  CursorExists = 0x40, // SERVER_STATUS_CURSOR_EXISTS: rows come through COM_STMT_FETCH
  LastRowSent = 0x80, // SERVER_STATUS_LAST_ROW_SENT: the cursor is exhausted
  DbDropped = 0x100, // SERVER_STATUS_DB_DROPPED
  NoBackslashEscapes = 0x200, // SERVER_STATUS_NO_BACKSLASH_ESCAPES
  MetadataChanged = 0x400, // SERVER_STATUS_METADATA_CHANGED
  QueryWasSlow = 0x800, // SERVER_QUERY_WAS_SLOW
  PsOutParams = 0x1000, // SERVER_PS_OUT_PARAMS: this resultset holds OUT parameters
  InTransReadonly = 0x2000, // SERVER_STATUS_IN_TRANS_READONLY
  SessionStateChanged = 0x4000, // SERVER_SESSION_STATE_CHANGED: the OK packet carries session state info
  AnsiQuotes = 0x8000, // SERVER_STATUS_ANSI_QUOTES (MariaDB)
}

/** COM_STMT_EXECUTE flags (enum_cursor_type and friends). */
export const enum CursorType {
  NoCursor = 0x0, // CURSOR_TYPE_NO_CURSOR
  ReadOnly = 0x1, // CURSOR_TYPE_READ_ONLY
  ForUpdate = 0x2, // CURSOR_TYPE_FOR_UPDATE
  Scrollable = 0x4, // CURSOR_TYPE_SCROLLABLE
  ParameterCountAvailable = 0x8, // PARAMETER_COUNT_AVAILABLE (MySQL, with CLIENT_QUERY_ATTRIBUTES)
  ReturnAllInsertIds = 0x80, // STMT_RETURN_ALL_INSERT_IDS (old MariaDB)
}

/** Session state change types in an OK packet's session state info (SESSION_TRACK_*). */
export const enum SessionTrack {
  SystemVariables = 0x00, // SESSION_TRACK_SYSTEM_VARIABLES: name, value
  Schema = 0x01, // SESSION_TRACK_SCHEMA: new default schema
  StateChange = 0x02, // SESSION_TRACK_STATE_CHANGE: '1' when the session state changed
  Gtids = 0x03, // SESSION_TRACK_GTIDS
  TransactionCharacteristics = 0x04, // SESSION_TRACK_TRANSACTION_CHARACTERISTICS
  TransactionState = 0x05, // SESSION_TRACK_TRANSACTION_STATE
}

/** caching_sha2_password exchange bytes (inside AuthMoreData, and the client's key request). */
export const enum CachingSha2 {
  RequestPublicKey = 0x02, // client → server: send me your RSA public key
  FastAuthSuccess = 0x03, // server → client: scramble matched the cache, an OK follows
  PerformFullAuthentication = 0x04, // server → client: send the password (TLS) or RSA-encrypt it
}

/** COM_SET_OPTION values. */
export const enum SetOption {
  MultiStatementsOn = 0, // MYSQL_OPTION_MULTI_STATEMENTS_ON
  MultiStatementsOff = 1, // MYSQL_OPTION_MULTI_STATEMENTS_OFF
}

/** MariaDB COM_STMT_BULK_EXECUTE flags. */
export const enum BulkFlag {
  SendUnitResults = 64, // SEND_UNIT_RESULTS
  SendTypesToServer = 128, // SEND_TYPES_TO_SERVER
}

/** MariaDB COM_STMT_BULK_EXECUTE per-value indicators. */
export const enum BulkIndicator {
  None = 0, // a value follows
  Null = 1, // NULL
  Default = 2, // DEFAULT
  Ignore = 3, // IGNORE
}

/** MariaDB: statement id -1 in COM_STMT_EXECUTE means "the statement prepared last". */
export const MARIADB_LAST_STATEMENT_ID = 0xffffffff;

/**
 * Server error codes the proxy sends itself (SQLSTATE in the comment). Codes > 2000 are
 * server-specific; the proxy keeps to codes both MySQL and MariaDB know.
 */
export const enum ErrorCode {
  ConCountError = 1040, // ER_CON_COUNT_ERROR 08004 too many connections
  OutOfResources = 1041, // ER_OUT_OF_RESOURCES HY000
  HandshakeError = 1043, // ER_HANDSHAKE_ERROR 08S01 bad handshake
  DbAccessDenied = 1044, // ER_DBACCESS_DENIED_ERROR 42000
  AccessDenied = 1045, // ER_ACCESS_DENIED_ERROR 28000 bad credentials
  NoDb = 1046, // ER_NO_DB_ERROR 3D000
  UnknownCom = 1047, // ER_UNKNOWN_COM_ERROR 08S01 unknown command
  ServerShutdown = 1053, // ER_SERVER_SHUTDOWN 08S01
  ParseError = 1064, // ER_PARSE_ERROR 42000
  TableAccessDenied = 1142, // ER_TABLEACCESS_DENIED_ERROR 42000
  ColumnAccessDenied = 1143, // ER_COLUMNACCESS_DENIED_ERROR 42000
  NotAllowedCommand = 1148, // ER_NOT_ALLOWED_COMMAND 42000 (LOAD DATA LOCAL refused)
  NetPacketTooLarge = 1153, // ER_NET_PACKET_TOO_LARGE 08S01
  NetReadError = 1158, // ER_NET_READ_ERROR 08S01
  NetPacketsOutOfOrder = 1156, // ER_NET_PACKETS_OUT_OF_ORDER 08S01
  SpecificAccessDenied = 1227, // ER_SPECIFIC_ACCESS_DENIED_ERROR 42000 (policy denials)
  NotSupportedYet = 1235, // ER_NOT_SUPPORTED_YET 42000
  UnknownStmtHandler = 1243, // ER_UNKNOWN_STMT_HANDLER HY000
  NotSupportedAuthMode = 1251, // ER_NOT_SUPPORTED_AUTH_MODE 08004
  OptionPreventsStatement = 1290, // ER_OPTION_PREVENTS_STATEMENT HY000
  QueryInterrupted = 1317, // ER_QUERY_INTERRUPTED 70100
  MustChangePassword = 1820, // ER_MUST_CHANGE_PASSWORD HY000
  MalformedPacket = 1835, // ER_MALFORMED_PACKET HY000
  /** MariaDB progress report: an ERR packet with this code is not an error */
  Progress = 0xffff,
}
