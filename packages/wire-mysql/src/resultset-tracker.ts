import { Capability, MariadbCapability, type Negotiated } from './capabilities.js';
import { Command, ResponseHeader, ServerStatus } from './codes.js';
import { commandHasResponse } from './command.js';
import { decodeColumnCount } from './column-count.js';
import { decodeComStmtPrepareOk, type ComStmtPrepareOk } from './com-stmt-prepare.js';
import { decodeEofPacket } from './eof-packet.js';
import { isProgressReport } from './err-packet.js';
import { isEofLike, okStatusFlags } from './ok-packet.js';
import { ProtocolError } from './protocol-error.js';

/** What an upstream packet is, in the response to the command being tracked. */
export const enum PacketKind {
  /** OK_Packet with a 0x00 header (a statement's result without rows, or a command's success) */
  Ok = 0,
  /** 0xFE terminator: EOF_Packet, or an OK_Packet with a 0xFE header under CLIENT_DEPRECATE_EOF */
  Eof = 1,
  Err = 2,
  /** MariaDB progress report (an ERR with code 0xFFFF): not an error, the command goes on */
  Progress = 3,
  ColumnCount = 4,
  ColumnDefinition = 5,
  /** a parameter's definition in a COM_STMT_PREPARE response */
  ParamDefinition = 6,
  /** a resultset row: text (COM_QUERY) or binary (COM_STMT_EXECUTE / FETCH); see `binaryRows` */
  Row = 7,
  /** 0xFB: the server asks the client for a local file (LOAD DATA LOCAL INFILE) */
  LocalInfileRequest = 8,
  /** COM_STMT_PREPARE_OK; see `prepareOk` */
  PrepareOk = 9,
  /** COM_STATISTICS' string */
  Statistics = 10,
  /** COM_CHANGE_USER exchange */
  AuthSwitchRequest = 11,
  AuthMoreData = 12,
}

const enum State {
  Done,
  /** first packet of a result (or of the next result of a multi-result response) */
  First,
  Columns,
  ColumnsEof,
  Rows,
  PrepareFirst,
  PrepareParams,
  PrepareParamsEof,
  PrepareColumns,
  PrepareColumnsEof,
  FieldList,
  /** one OK / ERR / EOF */
  Single,
  Statistics,
  Auth,
}

/**
 * Follows the upstream's response to one command and classifies each packet, so the engine
 * knows which packets are column definitions and rows (to mask) and when the response is over.
 * Handles multi-result responses (SERVER_MORE_RESULTS_EXISTS), CLIENT_DEPRECATE_EOF both ways,
 * cursors (COM_STMT_EXECUTE answered with metadata only, rows via COM_STMT_FETCH), skipped
 * metadata (CLIENT_OPTIONAL_RESULTSET_METADATA / MARIADB_CLIENT_CACHE_METADATA), LOCAL INFILE and
 * MariaDB progress reports.
 *
 * Feed it logical packets, or with raw forwarding the first physical packet of each logical
 * packet (skip `continued` ones): a 0xFFFFFF-byte first piece is classified correctly.
 * A packet that cannot occur where it arrives is a ProtocolError.
 */
export class ResultsetTracker {
  private state = State.Done;
  private command = -1;
  private remaining = 0;
  private deprecateEof: boolean;
  private progress: boolean;

  /** the response to the current command is complete */
  done = true;
  /** rows of the current command are binary (COM_STMT_EXECUTE, COM_STMT_FETCH) */
  binaryRows = false;
  /** columns of the current resultset */
  columnCount = 0;
  /** index of the last ColumnDefinition / ParamDefinition within its block */
  columnIndex = -1;
  /** 0-based index of the current result within a multi-result response */
  resultIndex = 0;
  /** status flags of the last OK / EOF */
  statusFlags = 0;
  /** the column definitions of the current resultset are being sent (false when the server skipped them) */
  metadataFollows = true;
  /** the last packet ended a resultset (the terminator after its rows, or the metadata of a cursor) */
  endedResultset = false;
  /** the COM_STMT_PREPARE_OK of the current prepare */
  prepareOk: ComStmtPrepareOk | null = null;

  constructor(private negotiated: Negotiated) {
    this.deprecateEof = (negotiated.capabilities & Capability.DeprecateEof) !== 0;
    this.progress = (negotiated.mariadbCapabilities & MariadbCapability.Progress) !== 0;
  }

  /** Starts tracking the response to `command` (its first byte). Commands never answered are done at once. */
  begin(command: number): void {
    this.command = command;
    this.done = false;
    this.binaryRows = false;
    this.columnCount = 0;
    this.columnIndex = -1;
    this.resultIndex = 0;
    this.statusFlags = 0;
    this.metadataFollows = true;
    this.endedResultset = false;
    this.prepareOk = null;
    if (!commandHasResponse(command)) {
      this.finish();
      return;
    }
    switch (command) {
      case Command.Query:
      case Command.ProcessInfo:
        this.state = State.First;
        break;
      case Command.StmtExecute:
      case Command.StmtBulkExecute:
        this.state = State.First;
        this.binaryRows = true;
        break;
      case Command.StmtFetch:
        this.state = State.Rows;
        this.binaryRows = true;
        break;
      case Command.StmtPrepare:
        this.state = State.PrepareFirst;
        break;
      case Command.FieldList:
        this.state = State.FieldList;
        break;
      case Command.Statistics:
        this.state = State.Statistics;
        break;
      case Command.ChangeUser:
        this.state = State.Auth;
        break;
      default:
        this.state = State.Single;
    }
  }

  /** Classifies the next upstream packet of the response and advances. */
  next(payload: Buffer): PacketKind {
    this.endedResultset = false;
    if (this.state === State.Done) throw new ProtocolError('packet after the response was complete');
    if (payload.length === 0) throw new ProtocolError('empty response packet');
    const first = payload[0];
    // 0xFF never starts a definition or a row (it is no valid length prefix): it is always an ERR
    if (first === ResponseHeader.Err) {
      if (this.progress && isProgressReport(payload)) return PacketKind.Progress;
      this.finish();
      return PacketKind.Err;
    }
    switch (this.state) {
      case State.First:
        return this.first(payload);
      case State.Columns:
        this.columnIndex++;
        if (--this.remaining === 0) this.afterColumns();
        return PacketKind.ColumnDefinition;
      case State.ColumnsEof:
        this.expectEof(payload);
        if (this.command === Command.StmtExecute && (this.statusFlags & ServerStatus.CursorExists) !== 0) {
          this.endedResultset = true;
          this.finish();
        } else {
          this.state = State.Rows;
        }
        return PacketKind.Eof;
      case State.Rows:
        if (isEofLike(payload, this.deprecateEof)) {
          this.statusFlags = this.terminatorStatus(payload);
          this.endedResultset = true;
          this.moreOrFinish();
          return PacketKind.Eof;
        }
        return PacketKind.Row;
      case State.PrepareFirst:
        return this.prepareFirst(payload);
      case State.PrepareParams:
        this.columnIndex++;
        if (--this.remaining === 0) {
          if (this.deprecateEof) this.prepareColumnsOrFinish();
          else this.state = State.PrepareParamsEof;
        }
        return PacketKind.ParamDefinition;
      case State.PrepareParamsEof:
        this.expectEof(payload);
        this.prepareColumnsOrFinish();
        return PacketKind.Eof;
      case State.PrepareColumns:
        this.columnIndex++;
        if (--this.remaining === 0) {
          if (this.deprecateEof) this.finish();
          else this.state = State.PrepareColumnsEof;
        }
        return PacketKind.ColumnDefinition;
      case State.PrepareColumnsEof:
        this.expectEof(payload);
        this.finish();
        return PacketKind.Eof;
      case State.FieldList:
        if (isEofLike(payload, this.deprecateEof)) {
          this.statusFlags = this.terminatorStatus(payload);
          this.finish();
          return PacketKind.Eof;
        }
        this.columnIndex++;
        return PacketKind.ColumnDefinition;
      case State.Single:
        if (first === ResponseHeader.Ok) {
          this.statusFlags = okStatusFlags(payload, this.negotiated.capabilities);
          this.finish();
          return PacketKind.Ok;
        }
        if (isEofLike(payload, true)) {
          this.statusFlags = this.terminatorStatus(payload);
          this.finish();
          return PacketKind.Eof;
        }
        throw new ProtocolError(`unexpected packet 0x${first.toString(16)} in a one-packet response`);
      case State.Statistics:
        this.finish();
        return PacketKind.Statistics;
      case State.Auth:
        if (first === ResponseHeader.Ok) {
          this.statusFlags = okStatusFlags(payload, this.negotiated.capabilities);
          this.finish();
          return PacketKind.Ok;
        }
        if (first === ResponseHeader.Eof) return PacketKind.AuthSwitchRequest;
        if (first === ResponseHeader.AuthMoreData) return PacketKind.AuthMoreData;
        throw new ProtocolError(`unexpected packet 0x${first.toString(16)} during COM_CHANGE_USER`);
      default:
        throw new ProtocolError('packet after the response was complete');
    }
  }

  private first(payload: Buffer): PacketKind {
    const first = payload[0];
    if (first === ResponseHeader.Ok) {
      this.statusFlags = okStatusFlags(payload, this.negotiated.capabilities);
      this.moreOrFinish();
      return PacketKind.Ok;
    }
    if (first === ResponseHeader.LocalInfile) return PacketKind.LocalInfileRequest;
    if (first === ResponseHeader.Eof && payload.length < 0xffffff) throw new ProtocolError('EOF where a result was expected');
    const cc = decodeColumnCount(payload, this.negotiated);
    this.columnCount = cc.count;
    this.metadataFollows = cc.metadataFollows;
    this.columnIndex = -1;
    if (cc.metadataFollows) {
      this.state = State.Columns;
      this.remaining = cc.count;
    } else {
      this.afterColumns();
    }
    return PacketKind.ColumnCount;
  }

  private afterColumns(): void {
    this.state = this.deprecateEof ? State.Rows : State.ColumnsEof;
  }

  private prepareFirst(payload: Buffer): PacketKind {
    if (payload[0] !== ResponseHeader.Ok) throw new ProtocolError(`unexpected packet 0x${payload[0].toString(16)} answering COM_STMT_PREPARE`);
    const ok = decodeComStmtPrepareOk(payload, this.negotiated.capabilities);
    this.prepareOk = ok;
    this.metadataFollows = ok.metadataFollows;
    this.columnIndex = -1;
    if (!ok.metadataFollows) this.finish();
    else if (ok.numParams > 0) {
      this.state = State.PrepareParams;
      this.remaining = ok.numParams;
    } else this.prepareColumnsOrFinish();
    return PacketKind.PrepareOk;
  }

  private prepareColumnsOrFinish(): void {
    const n = this.prepareOk?.numColumns ?? 0;
    this.columnIndex = -1;
    if (n > 0) {
      this.state = State.PrepareColumns;
      this.remaining = n;
      this.columnCount = n;
    } else this.finish();
  }

  private expectEof(payload: Buffer): void {
    if (!isEofLike(payload, false)) throw new ProtocolError('EOF expected after definitions');
    this.statusFlags = decodeEofPacket(payload).statusFlags;
  }

  private terminatorStatus(payload: Buffer): number {
    return this.deprecateEof ? okStatusFlags(payload, this.negotiated.capabilities) : decodeEofPacket(payload).statusFlags;
  }

  private moreOrFinish(): void {
    if ((this.statusFlags & ServerStatus.MoreResultsExists) !== 0) {
      this.state = State.First;
      this.resultIndex++;
    } else this.finish();
  }

  private finish(): void {
    this.state = State.Done;
    this.done = true;
  }
}

/**
 * Classifies a server packet of the connection phase (after HandshakeResponse41 or an
 * AuthSwitchResponse): OK, ERR, AuthSwitchRequest (0xFE) or AuthMoreData (0x01).
 */
export function classifyAuthPacket(payload: Buffer): PacketKind {
  switch (payload.length === 0 ? -1 : payload[0]) {
    case ResponseHeader.Ok:
      return PacketKind.Ok;
    case ResponseHeader.Err:
      return PacketKind.Err;
    case ResponseHeader.Eof:
      return PacketKind.AuthSwitchRequest;
    case ResponseHeader.AuthMoreData:
      return PacketKind.AuthMoreData;
    default:
      throw new ProtocolError('unexpected packet during authentication');
  }
}
