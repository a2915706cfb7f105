import { ResponseHeader } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** Protocol::AuthSwitchRequest: the server asks the client to authenticate with another plugin. */
export interface AuthSwitchRequest {
  authPluginName: string;
  /** plugin data as sent (mysql_native_password / caching_sha2_password: 20-byte scramble + NUL); a view */
  authPluginData: Buffer;
}

/** Decodes an AuthSwitchRequest (0xFE). The one-byte pre-4.1 form means mysql_old_password. */
export function decodeAuthSwitchRequest(payload: Buffer): AuthSwitchRequest {
  const r = new PayloadReader(payload);
  if (r.u8() !== ResponseHeader.Eof) throw new ProtocolError('not an AuthSwitchRequest');
  if (r.atEnd) return { authPluginName: 'mysql_old_password', authPluginData: Buffer.alloc(0) };
  const authPluginName = r.nulString();
  return { authPluginName, authPluginData: r.rest() };
}

/** Encodes an AuthSwitchRequest. `authPluginData` goes as is: for the two SHA plugins pass scramble + NUL (see scramblePluginData). */
export function encodeAuthSwitchRequest(req: { authPluginName: string; authPluginData: Uint8Array }): Buffer {
  return new PayloadWriter(64).u8(ResponseHeader.Eof).nulString(req.authPluginName).bytes(req.authPluginData).finish();
}

/** A scramble as the plugin-data field carries it: the bytes and a terminating NUL. */
export function scramblePluginData(scramble: Uint8Array): Buffer {
  const out = Buffer.alloc(scramble.length + 1);
  out.set(scramble, 0);
  return out;
}

/** The scramble inside plugin data: without the terminating NUL, when there is one. */
export function scrambleFromPluginData(data: Buffer): Buffer {
  return data.length > 0 && data[data.length - 1] === 0 ? data.subarray(0, data.length - 1) : data;
}

/**
 * Protocol::AuthSwitchResponse: the client's answer is the plugin's raw bytes, the whole payload.
 * These are identities kept so the exchange reads as the spec names it.
 */
export function decodeAuthSwitchResponse(payload: Buffer): Buffer {
  return payload;
}

export function encodeAuthSwitchResponse(authData: Uint8Array): Buffer {
  return Buffer.from(authData.buffer, authData.byteOffset, authData.byteLength);
}
