import { Command } from './codes.js';
import { ProtocolError } from './protocol-error.js';

/** The command byte of a command-phase packet. */
export function commandOf(payload: Buffer): number {
  if (payload.length === 0) throw new ProtocolError('empty command packet');
  return payload[0];
}

/** A command without arguments (COM_PING, COM_QUIT, COM_STATISTICS, COM_RESET_CONNECTION, COM_DEBUG, COM_PROCESS_INFO). */
export function encodeSimpleCommand(command: Command): Buffer {
  return Buffer.from([command]);
}

const NAMES: Record<number, string> = {
  [Command.Sleep]: 'COM_SLEEP',
  [Command.Quit]: 'COM_QUIT',
  [Command.InitDb]: 'COM_INIT_DB',
  [Command.Query]: 'COM_QUERY',
  [Command.FieldList]: 'COM_FIELD_LIST',
  [Command.CreateDb]: 'COM_CREATE_DB',
  [Command.DropDb]: 'COM_DROP_DB',
  [Command.Refresh]: 'COM_REFRESH',
  [Command.Shutdown]: 'COM_SHUTDOWN',
  [Command.Statistics]: 'COM_STATISTICS',
  [Command.ProcessInfo]: 'COM_PROCESS_INFO',
  [Command.Connect]: 'COM_CONNECT',
  [Command.ProcessKill]: 'COM_PROCESS_KILL',
  [Command.Debug]: 'COM_DEBUG',
  [Command.Ping]: 'COM_PING',
  [Command.Time]: 'COM_TIME',
  [Command.DelayedInsert]: 'COM_DELAYED_INSERT',
  [Command.ChangeUser]: 'COM_CHANGE_USER',
  [Command.BinlogDump]: 'COM_BINLOG_DUMP',
  [Command.TableDump]: 'COM_TABLE_DUMP',
  [Command.ConnectOut]: 'COM_CONNECT_OUT',
  [Command.RegisterSlave]: 'COM_REGISTER_SLAVE',
  [Command.StmtPrepare]: 'COM_STMT_PREPARE',
  [Command.StmtExecute]: 'COM_STMT_EXECUTE',
  [Command.StmtSendLongData]: 'COM_STMT_SEND_LONG_DATA',
  [Command.StmtClose]: 'COM_STMT_CLOSE',
  [Command.StmtReset]: 'COM_STMT_RESET',
  [Command.SetOption]: 'COM_SET_OPTION',
  [Command.StmtFetch]: 'COM_STMT_FETCH',
  [Command.Daemon]: 'COM_DAEMON',
  [Command.BinlogDumpGtid]: 'COM_BINLOG_DUMP_GTID',
  [Command.ResetConnection]: 'COM_RESET_CONNECTION',
  [Command.Clone]: 'COM_CLONE',
  [Command.SubscribeGroupReplicationStream]: 'COM_SUBSCRIBE_GROUP_REPLICATION_STREAM',
  [Command.StmtBulkExecute]: 'COM_STMT_BULK_EXECUTE',
  [Command.Multi]: 'COM_MULTI',
};

/** The spec's name of a command byte (for logs, audit and metrics labels); 'COM_UNKNOWN_0x..' otherwise. */
export function commandName(command: number): string {
  return NAMES[command] ?? `COM_UNKNOWN_0x${command.toString(16).padStart(2, '0')}`;
}

/** True for commands the server never answers (COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA). */
export function commandHasResponse(command: number): boolean {
  return command !== Command.Quit && command !== Command.StmtClose && command !== Command.StmtSendLongData;
}
