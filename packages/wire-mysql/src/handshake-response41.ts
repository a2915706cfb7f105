import { Capability } from './capabilities.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** Protocol::HandshakeResponse41, the client's login packet. */
export interface HandshakeResponse41 {
  /** the client's capability flags (lower 32 bits) */
  capabilities: number;
  maxPacketSize: number;
  characterSet: number;
  /** MariaDB extended capabilities, from the last 4 reserved bytes when CLIENT_MYSQL is clear; else 0 */
  mariadbCapabilities: number;
  username: string;
  /** the auth plugin's answer to the scramble (a view) */
  authResponse: Buffer;
  /** initial schema, when CLIENT_CONNECT_WITH_DB */
  database: string | null;
  /** when CLIENT_PLUGIN_AUTH */
  authPluginName: string | null;
  /** connection attributes in order, when CLIENT_CONNECT_ATTRS */
  connectAttributes: Map<string, string> | null;
  /** when CLIENT_ZSTD_COMPRESSION_ALGORITHM */
  zstdCompressionLevel: number | null;
}

/** The fixed 32-byte prefix both SSLRequest and HandshakeResponse41 start with. */
export interface SslRequest {
  capabilities: number;
  maxPacketSize: number;
  characterSet: number;
  mariadbCapabilities: number;
}

const FIXED_PREFIX = 32;

function decodePrefix(r: PayloadReader): SslRequest {
  const capabilities = r.u32();
  if ((capabilities & Capability.Protocol41) === 0) throw new ProtocolError('pre-4.1 handshake responses are not supported');
  const maxPacketSize = r.u32();
  const characterSet = r.u8();
  r.skip(19);
  const ext = r.u32();
  return { capabilities, maxPacketSize, characterSet, mariadbCapabilities: (capabilities & Capability.ClientMysql) === 0 ? ext : 0 };
}

/** True when a client's first packet is an SSLRequest: the bare 32-byte prefix with CLIENT_SSL set. */
export function isSslRequest(payload: Buffer): boolean {
  return payload.length === FIXED_PREFIX && (payload.readUInt32LE(0) & Capability.Ssl) !== 0;
}

/** Decodes Protocol::SSLRequest: after it the client starts TLS and sends the full HandshakeResponse41. */
export function decodeSslRequest(payload: Buffer): SslRequest {
  const r = new PayloadReader(payload);
  const p = decodePrefix(r);
  r.expectEnd('SSLRequest');
  if ((p.capabilities & Capability.Ssl) === 0) throw new ProtocolError('SSLRequest without CLIENT_SSL');
  return p;
}

/** Encodes Protocol::SSLRequest (for upgrading our upstream connection). */
export function encodeSslRequest(p: SslRequest): Buffer {
  return encodePrefix(new PayloadWriter(32), { ...p, capabilities: (p.capabilities | Capability.Ssl) >>> 0 }).finish();
}

function encodePrefix(w: PayloadWriter, p: SslRequest): PayloadWriter {
  const caps = p.capabilities >>> 0;
  w.u32(caps).u32(p.maxPacketSize).u8(p.characterSet).zeros(19);
  return w.u32((caps & Capability.ClientMysql) === 0 ? p.mariadbCapabilities >>> 0 : 0);
}

/** Reads a connection-attributes block (int<lenenc> total length, then key/value string<lenenc> pairs). */
export function readConnectAttributes(r: PayloadReader): Map<string, string> {
  const total = r.lenencInt();
  const sub = new PayloadReader(r.buf, r.pos, r.pos + total);
  r.skip(total);
  const attrs = new Map<string, string>();
  while (!sub.atEnd) {
    const k = sub.lenencString();
    attrs.set(k, sub.lenencString());
  }
  return attrs;
}

/** Writes a connection-attributes block. */
export function writeConnectAttributes(w: PayloadWriter, attrs: ReadonlyMap<string, string> | Readonly<Record<string, string>>): void {
  const inner = new PayloadWriter(256);
  const entries = attrs instanceof Map ? [...attrs] : Object.entries(attrs);
  for (const [k, v] of entries) inner.lenencString(k).lenencString(v);
  w.lenencBytes(inner.finish());
}

/** Decodes a client's HandshakeResponse41 (we are the server). */
export function decodeHandshakeResponse41(payload: Buffer): HandshakeResponse41 {
  const r = new PayloadReader(payload);
  const p = decodePrefix(r);
  const caps = p.capabilities;
  const username = r.nulString();
  let authResponse: Buffer;
  if ((caps & Capability.PluginAuthLenencClientData) !== 0) authResponse = r.lenencBytes();
  else if ((caps & Capability.SecureConnection) !== 0) authResponse = r.bytes(r.u8());
  else authResponse = r.nulBytes();
  // clients may stop early: every optional field below is absent at the end of the packet
  const database = (caps & Capability.ConnectWithDb) !== 0 && !r.atEnd ? r.nulString() : null;
  const authPluginName = (caps & Capability.PluginAuth) !== 0 && !r.atEnd ? r.nulStringOrRest() : null;
  const connectAttributes = (caps & Capability.ConnectAttrs) !== 0 && !r.atEnd ? readConnectAttributes(r) : null;
  const zstdCompressionLevel = (caps & Capability.ZstdCompressionAlgorithm) !== 0 && !r.atEnd ? r.u8() : null;
  return { ...p, username, authResponse, database, authPluginName, connectAttributes, zstdCompressionLevel };
}

export interface HandshakeResponse41Init {
  capabilities: number;
  maxPacketSize: number;
  characterSet: number;
  mariadbCapabilities?: number;
  username: string;
  authResponse: Uint8Array;
  database?: string | null;
  authPluginName?: string | null;
  connectAttributes?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | null;
  zstdCompressionLevel?: number | null;
}

/**
 * Encodes HandshakeResponse41 (for logging into the upstream). Fields follow `capabilities`: a
 * database is sent only with CLIENT_CONNECT_WITH_DB, a plugin name only with CLIENT_PLUGIN_AUTH,
 * attributes only with CLIENT_CONNECT_ATTRS.
 */
export function encodeHandshakeResponse41(h: HandshakeResponse41Init): Buffer {
  const caps = h.capabilities >>> 0;
  const w = encodePrefix(new PayloadWriter(256), { capabilities: caps, maxPacketSize: h.maxPacketSize, characterSet: h.characterSet, mariadbCapabilities: h.mariadbCapabilities ?? 0 });
  w.nulString(h.username);
  if ((caps & Capability.PluginAuthLenencClientData) !== 0) w.lenencBytes(h.authResponse);
  else if ((caps & Capability.SecureConnection) !== 0) {
    if (h.authResponse.length > 255) throw new RangeError('auth response longer than 255 bytes needs CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA');
    w.u8(h.authResponse.length).bytes(h.authResponse);
  } else {
    if (h.authResponse.includes(0)) throw new RangeError('auth response with a NUL needs CLIENT_SECURE_CONNECTION');
    w.bytes(h.authResponse).u8(0);
  }
  if ((caps & Capability.ConnectWithDb) !== 0) w.nulString(h.database ?? '');
  if ((caps & Capability.PluginAuth) !== 0) w.nulString(h.authPluginName ?? '');
  if ((caps & Capability.ConnectAttrs) !== 0) writeConnectAttributes(w, h.connectAttributes ?? new Map());
  if ((caps & Capability.ZstdCompressionAlgorithm) !== 0) w.u8(h.zstdCompressionLevel ?? 3);
  return w.finish();
}
