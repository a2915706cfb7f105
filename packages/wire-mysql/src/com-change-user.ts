import { Capability } from './capabilities.js';
import { Command } from './codes.js';
import { readConnectAttributes, writeConnectAttributes } from './handshake-response41.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** COM_CHANGE_USER: log in again as another user on the same connection. */
export interface ComChangeUser {
  username: string;
  /** a view */
  authResponse: Buffer;
  database: string;
  /** absent in packets from very old clients */
  characterSet: number | null;
  authPluginName: string | null;
  connectAttributes: Map<string, string> | null;
}

/** Decodes COM_CHANGE_USER under the negotiated capabilities. */
export function decodeComChangeUser(payload: Buffer, capabilities: number): ComChangeUser {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.ChangeUser) throw new ProtocolError('not COM_CHANGE_USER');
  const username = r.nulString();
  // unlike HandshakeResponse41 the length is one byte even with PLUGIN_AUTH_LENENC_CLIENT_DATA
  const authResponse = (capabilities & Capability.SecureConnection) !== 0 ? r.bytes(r.u8()) : r.nulBytes();
  const database = r.nulString();
  let characterSet: number | null = null;
  let authPluginName: string | null = null;
  let connectAttributes: Map<string, string> | null = null;
  if (!r.atEnd) {
    characterSet = r.u16();
    if ((capabilities & Capability.PluginAuth) !== 0 && !r.atEnd) authPluginName = r.nulStringOrRest();
    if ((capabilities & Capability.ConnectAttrs) !== 0 && !r.atEnd) connectAttributes = readConnectAttributes(r);
  }
  return { username, authResponse, database, characterSet, authPluginName, connectAttributes };
}

export interface ComChangeUserInit {
  username: string;
  authResponse: Uint8Array;
  database?: string;
  characterSet: number;
  authPluginName?: string | null;
  connectAttributes?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | null;
}

export function encodeComChangeUser(c: ComChangeUserInit, capabilities: number): Buffer {
  const w = new PayloadWriter(128);
  w.u8(Command.ChangeUser).nulString(c.username);
  if ((capabilities & Capability.SecureConnection) !== 0) {
    if (c.authResponse.length > 255) throw new RangeError('auth response longer than 255 bytes');
    w.u8(c.authResponse.length).bytes(c.authResponse);
  } else {
    w.bytes(c.authResponse).u8(0);
  }
  w.nulString(c.database ?? '').u16(c.characterSet);
  if ((capabilities & Capability.PluginAuth) !== 0) w.nulString(c.authPluginName ?? '');
  if ((capabilities & Capability.ConnectAttrs) !== 0) writeConnectAttributes(w, c.connectAttributes ?? new Map());
  return w.finish();
}
