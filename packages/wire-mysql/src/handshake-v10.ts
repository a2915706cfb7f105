import { Capability } from './capabilities.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** Protocol::HandshakeV10, the server's first packet. */
export interface HandshakeV10 {
  /** always 10 */
  protocolVersion: number;
  /** e.g. "8.0.36" or MariaDB's "5.5.5-10.11.6-MariaDB" */
  serverVersion: string;
  connectionId: number;
  /** the whole auth-plugin-data (scramble), parts 1 and 2 joined, without the terminating NUL */
  authPluginData: Buffer;
  /** lower 32 capability bits (Capability) */
  capabilities: number;
  /** MariaDB extended capabilities, read from the reserved bytes when CLIENT_MYSQL is clear; else 0 */
  mariadbCapabilities: number;
  characterSet: number;
  statusFlags: number;
  /** name of the plugin the scramble is for; '' without CLIENT_PLUGIN_AUTH */
  authPluginName: string;
}

/** MariaDB announces itself with this prefix on its version string (for old replication clients). */
const MARIADB_RPL_PREFIX = '5.5.5-';

/** True when a HandshakeV10 server version is MariaDB's. */
export function isMariaDbVersion(serverVersion: string): boolean {
  return serverVersion.includes('MariaDB');
}

/** The version string without MariaDB's "5.5.5-" replication prefix. */
export function displayServerVersion(serverVersion: string): string {
  return serverVersion.startsWith(MARIADB_RPL_PREFIX) && isMariaDbVersion(serverVersion) ? serverVersion.slice(MARIADB_RPL_PREFIX.length) : serverVersion;
}

/** Decodes the upstream's HandshakeV10 (we are its client). */
export function decodeHandshakeV10(payload: Buffer): HandshakeV10 {
  const r = new PayloadReader(payload);
  const protocolVersion = r.u8();
  if (protocolVersion === 0xff) throw new ProtocolError('server refused the connection with an error packet');
  if (protocolVersion !== 10) throw new ProtocolError(`unsupported handshake protocol version ${protocolVersion}`);
  const serverVersion = r.nulString();
  const connectionId = r.u32();
  const part1 = r.bytes(8);
  r.skip(1); // filler
  let capabilities = r.u16();
  let characterSet = 0;
  let statusFlags = 0;
  let mariadbCapabilities = 0;
  let authPluginName = '';
  let authPluginData: Buffer = Buffer.from(part1);
  if (!r.atEnd) {
    characterSet = r.u8();
    statusFlags = r.u16();
    capabilities = (capabilities | (r.u16() << 16)) >>> 0;
    const authDataLen = r.u8();
    r.skip(6);
    const ext = r.u32();
    if ((capabilities & Capability.ClientMysql) === 0) mariadbCapabilities = ext;
    if ((capabilities & Capability.SecureConnection) !== 0) {
      const part2Len = Math.max(13, authDataLen - 8);
      // older servers may omit the padding: take what is there up to part2Len
      const part2 = r.bytes(Math.min(part2Len, r.remaining));
      let data = Buffer.concat([part1, part2]);
      // auth_plugin_data_len counts the terminating NUL; padding past it is not scramble
      if (authDataLen > 8 && data.length > authDataLen) data = data.subarray(0, authDataLen);
      if (data.length > 8 && data[data.length - 1] === 0) data = data.subarray(0, data.length - 1);
      authPluginData = data;
    }
    if ((capabilities & Capability.PluginAuth) !== 0) authPluginName = r.nulStringOrRest();
  }
  return { protocolVersion, serverVersion, connectionId, authPluginData, capabilities, mariadbCapabilities, characterSet, statusFlags, authPluginName };
}

export interface HandshakeV10Init {
  serverVersion: string;
  connectionId: number;
  /** the scramble, usually 20 bytes (at least 8); sent NUL-terminated */
  authPluginData: Uint8Array;
  capabilities: number;
  /** sent in the reserved bytes when CLIENT_MYSQL is clear in `capabilities` */
  mariadbCapabilities?: number;
  characterSet: number;
  statusFlags: number;
  authPluginName: string;
}

/** Encodes our HandshakeV10 (we are the server to clients). */
export function encodeHandshakeV10(h: HandshakeV10Init): Buffer {
  if (h.authPluginData.length < 8) throw new RangeError('auth-plugin-data needs at least 8 bytes');
  const caps = h.capabilities >>> 0;
  const w = new PayloadWriter(128);
  w.u8(10).nulString(h.serverVersion).u32(h.connectionId);
  w.bytes(h.authPluginData.subarray(0, 8)).u8(0);
  w.u16(caps & 0xffff).u8(h.characterSet).u16(h.statusFlags).u16(caps >>> 16);
  const rest = h.authPluginData.subarray(8);
  w.u8((caps & Capability.PluginAuth) !== 0 ? h.authPluginData.length + 1 : 0);
  w.zeros(6);
  w.u32((caps & Capability.ClientMysql) === 0 ? (h.mariadbCapabilities ?? 0) >>> 0 : 0);
  if ((caps & Capability.SecureConnection) !== 0) {
    w.bytes(rest).u8(0);
    if (rest.length + 1 < 13) w.zeros(13 - rest.length - 1);
  }
  if ((caps & Capability.PluginAuth) !== 0) w.nulString(h.authPluginName);
  return w.finish();
}
