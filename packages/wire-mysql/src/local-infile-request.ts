import { ResponseHeader } from './codes.js';
import { ProtocolError } from './protocol-error.js';

/**
 * LOCAL INFILE request (0xFB + file name): the server asks the client to send a local file's
 * contents, then an empty packet. Returns the file name (a view).
 */
export function decodeLocalInfileRequest(payload: Buffer): Buffer {
  if (payload.length === 0 || payload[0] !== ResponseHeader.LocalInfile) throw new ProtocolError('not a LOCAL INFILE request');
  return payload.subarray(1);
}

export function encodeLocalInfileRequest(filename: string): Buffer {
  return Buffer.concat([Buffer.from([ResponseHeader.LocalInfile]), Buffer.from(filename, 'utf8')]);
}
