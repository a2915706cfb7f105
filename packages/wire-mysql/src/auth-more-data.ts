import { CachingSha2, ResponseHeader } from './codes.js';
import { ProtocolError } from './protocol-error.js';

/** Decodes Protocol::AuthMoreData (0x01): returns the plugin's data (a view). */
export function decodeAuthMoreData(payload: Buffer): Buffer {
  if (payload.length < 1 || payload[0] !== ResponseHeader.AuthMoreData) throw new ProtocolError('not an AuthMoreData packet');
  return payload.subarray(1);
}

/** Encodes Protocol::AuthMoreData. */
export function encodeAuthMoreData(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(data.length + 1);
  out[0] = ResponseHeader.AuthMoreData;
  out.set(data, 1);
  return out;
}

/** caching_sha2_password: the scramble matched the server's cache; an OK packet follows. */
export const CACHING_SHA2_FAST_AUTH_SUCCESS: Buffer = Buffer.from([ResponseHeader.AuthMoreData, CachingSha2.FastAuthSuccess]);
/** caching_sha2_password: the client must send the password (over TLS) or RSA-encrypt it. */
export const CACHING_SHA2_PERFORM_FULL_AUTH: Buffer = Buffer.from([ResponseHeader.AuthMoreData, CachingSha2.PerformFullAuthentication]);
/** caching_sha2_password: the client's request for the server's RSA public key (an AuthSwitchResponse payload). */
export const CACHING_SHA2_REQUEST_PUBLIC_KEY: Buffer = Buffer.from([CachingSha2.RequestPublicKey]);

/** The caching_sha2_password status byte of an AuthMoreData (3 or 4), or −1 when it carries other data (a PEM key). */
export function cachingSha2Status(payload: Buffer): number {
  if (payload.length === 2 && payload[0] === ResponseHeader.AuthMoreData) {
    const b = payload[1];
    if (b === CachingSha2.FastAuthSuccess || b === CachingSha2.PerformFullAuthentication) return b;
  }
  return -1;
}
