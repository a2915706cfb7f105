import { Capability } from './capabilities.js';
import { ResponseHeader, ServerStatus, SessionTrack } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** OK_Packet (header 0x00, or 0xFE where it replaces EOF under CLIENT_DEPRECATE_EOF). */
export interface OkPacket {
  header: ResponseHeader.Ok | ResponseHeader.Eof;
  affectedRows: bigint;
  lastInsertId: bigint;
  statusFlags: number;
  warnings: number;
  info: string;
  /** raw session state info, when CLIENT_SESSION_TRACK and SERVER_SESSION_STATE_CHANGED; see decodeSessionState */
  sessionState: Buffer | null;
}

/** True when a 0xFE-headed packet of this length is an EOF/OK, not a text row starting with an 8-byte length. */
export function isEofLike(payload: Buffer, deprecateEof: boolean): boolean {
  return payload.length > 0 && payload[0] === ResponseHeader.Eof && (deprecateEof ? payload.length < 0xffffff : payload.length < 9);
}

/** Decodes an OK packet under the negotiated capabilities. */
export function decodeOkPacket(payload: Buffer, capabilities: number): OkPacket {
  const r = new PayloadReader(payload);
  const header = r.u8();
  if (header !== ResponseHeader.Ok && header !== ResponseHeader.Eof) throw new ProtocolError('not an OK packet');
  const affectedRows = r.lenencBigInt();
  const lastInsertId = r.lenencBigInt();
  let statusFlags = 0;
  let warnings = 0;
  if ((capabilities & Capability.Protocol41) !== 0) {
    statusFlags = r.u16();
    warnings = r.u16();
  } else if ((capabilities & Capability.Transactions) !== 0) {
    statusFlags = r.u16();
  }
  let info = '';
  let sessionState: Buffer | null = null;
  if ((capabilities & Capability.SessionTrack) !== 0) {
    // servers leave the info out entirely when it is empty and no state changed
    if (!r.atEnd) info = r.lenencString();
    if ((statusFlags & ServerStatus.SessionStateChanged) !== 0 && !r.atEnd) sessionState = r.lenencBytes();
  } else {
    info = r.restString();
  }
  return { header, affectedRows, lastInsertId, statusFlags, warnings, info, sessionState };
}

export interface OkPacketInit {
  header?: ResponseHeader.Ok | ResponseHeader.Eof;
  affectedRows?: number | bigint;
  lastInsertId?: number | bigint;
  statusFlags?: number;
  warnings?: number;
  info?: string;
  /** raw session state info (see encodeSessionState); sets SERVER_SESSION_STATE_CHANGED */
  sessionState?: Uint8Array | null;
}

/** Encodes an OK packet under the negotiated capabilities. */
export function encodeOkPacket(ok: OkPacketInit, capabilities: number): Buffer {
  const w = new PayloadWriter(32);
  let status = ok.statusFlags ?? ServerStatus.Autocommit;
  const track = (capabilities & Capability.SessionTrack) !== 0;
  if (track && ok.sessionState) status |= ServerStatus.SessionStateChanged;
  else status &= ~ServerStatus.SessionStateChanged;
  w.u8(ok.header ?? ResponseHeader.Ok).lenencInt(ok.affectedRows ?? 0).lenencInt(ok.lastInsertId ?? 0);
  if ((capabilities & Capability.Protocol41) !== 0) w.u16(status).u16(ok.warnings ?? 0);
  else if ((capabilities & Capability.Transactions) !== 0) w.u16(status);
  const info = ok.info ?? '';
  if (track) {
    if (info !== '' || ok.sessionState) w.lenencString(info);
    if (ok.sessionState) w.lenencBytes(ok.sessionState);
  } else {
    w.string(info);
  }
  return w.finish();
}

/** The status flags of an OK packet without decoding the rest (0 when the packet is too short). */
export function okStatusFlags(payload: Buffer, capabilities: number): number {
  if ((capabilities & (Capability.Protocol41 | Capability.Transactions)) === 0) return 0;
  const r = new PayloadReader(payload, 1);
  r.lenencIntOrNull();
  r.lenencIntOrNull();
  return r.u16();
}

/** One entry of session state info. */
export type SessionStateChange =
  | { type: SessionTrack.SystemVariables; name: string; value: string }
  | { type: SessionTrack.Schema; schema: string }
  | { type: SessionTrack.StateChange; changed: boolean }
  | { type: SessionTrack.Gtids | SessionTrack.TransactionCharacteristics | SessionTrack.TransactionState; data: Buffer }
  | { type: number; data: Buffer };

/** Decodes session state info (the raw `sessionState` of an OK packet). */
export function decodeSessionState(buf: Buffer): SessionStateChange[] {
  const r = new PayloadReader(buf);
  const out: SessionStateChange[] = [];
  while (!r.atEnd) {
    const type = r.u8();
    const data = r.lenencBytes();
    const d = new PayloadReader(data);
    switch (type) {
      case SessionTrack.SystemVariables: {
        const name = d.lenencString();
        out.push({ type, name, value: d.lenencString() });
        break;
      }
      case SessionTrack.Schema:
        out.push({ type, schema: d.lenencString() });
        break;
      case SessionTrack.StateChange:
        out.push({ type, changed: d.lenencString() === '1' });
        break;
      default:
        out.push({ type, data });
    }
  }
  return out;
}

/** Encodes session state info. */
export function encodeSessionState(changes: readonly SessionStateChange[]): Buffer {
  const w = new PayloadWriter(64);
  for (const c of changes) {
    const d = new PayloadWriter(32);
    if ('name' in c) d.lenencString(c.name).lenencString(c.value);
    else if ('schema' in c) d.lenencString(c.schema);
    else if ('changed' in c) d.lenencString(c.changed ? '1' : '0');
    else d.bytes(c.data);
    w.u8(c.type).lenencBytes(d.finish());
  }
  return w.finish();
}
