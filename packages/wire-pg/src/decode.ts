import { AuthCode, Frontend, StartupCode } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import { Reader } from './reader.js';

/** Decoders for the messages sqlwarden must read. Each takes a whole frame (header included). */

export type StartupPacket =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; pid: number; secret: number }
  | { kind: 'startup'; major: number; minor: number; params: Map<string, string> };

/** Reads the length of an untyped startup-phase packet, or -1 when fewer than 4 bytes are present. */
export function startupPacketLength(buf: Buffer, pos = 0): number {
  if (buf.length - pos < 4) return -1;
  return buf.readInt32BE(pos);
}

export function decodeStartupPacket(packet: Buffer): StartupPacket {
  const r = new Reader(packet);
  const len = r.int32();
  if (len !== packet.length || len < 8) throw new ProtocolError('invalid startup packet length');
  const code = r.int32();
  switch (code) {
    case StartupCode.SSLRequest:
      if (len !== 8) throw new ProtocolError('invalid SSLRequest');
      return { kind: 'ssl' };
    case StartupCode.GSSENCRequest:
      if (len !== 8) throw new ProtocolError('invalid GSSENCRequest');
      return { kind: 'gssenc' };
    case StartupCode.CancelRequest: {
      if (len !== 16) throw new ProtocolError('invalid CancelRequest');
      const pid = r.int32();
      const secret = r.int32();
      return { kind: 'cancel', pid, secret };
    }
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  const params = new Map<string, string>();
  for (;;) {
    const name = r.cstring();
    if (name === '') break;
    const value = r.cstring();
    if (params.has(name)) throw new ProtocolError(`duplicate startup parameter "${name}"`);
    params.set(name, value);
  }
  if (r.remaining !== 0) throw new ProtocolError('trailing bytes in startup packet');
  return { kind: 'startup', major, minor, params };
}

/** Query ('Q'): the SQL text. */
export function decodeQuery(frame: Buffer): string {
  const r = new Reader(frame, 5);
  const sql = r.cstring();
  if (r.remaining !== 0) throw new ProtocolError('trailing bytes in Query');
  return sql;
}

/**
 * The SQL text of a Query ('Q') or of a Parse ('P') frame, undefined for any other frame.
 * Lenient where decodeQuery / decodeParse are strict: nothing after the text is checked, and an
 * unterminated text runs to the end of the frame (a Parse with an unterminated name has none).
 */
export function sqlOf(frame: Uint8Array): string | undefined {
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (buf.length < 5) return undefined;
  let start: number;
  if (buf[0] === Frontend.Query) start = 5;
  else if (buf[0] === Frontend.Parse) {
    const nameEnd = buf.indexOf(0, 5);
    if (nameEnd === -1) return undefined;
    start = nameEnd + 1;
  } else return undefined;
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 ? buf.length : end);
}

/** Parse ('P'): statement name, SQL text and parameter type OIDs. */
export function decodeParse(frame: Buffer): { name: string; sql: string; paramTypes: number[] } {
  const r = new Reader(frame, 5);
  const name = r.cstring();
  const sql = r.cstring();
  const n = r.int16();
  if (n < 0) throw new ProtocolError('negative parameter count');
  const paramTypes: number[] = [];
  for (let i = 0; i < n; i++) paramTypes.push(r.int32() >>> 0);
  if (r.remaining !== 0) throw new ProtocolError('trailing bytes in Parse');
  return { name, sql, paramTypes };
}

/** FunctionCall ('F'): the function OID. */
export function decodeFunctionCall(frame: Buffer): { oid: number } {
  const r = new Reader(frame, 5);
  return { oid: r.int32() >>> 0 };
}

/** SASLInitialResponse ('p' in SASL state): mechanism and client-first-message. */
export function decodeSASLInitialResponse(frame: Buffer): { mechanism: string; data: Buffer | null } {
  const r = new Reader(frame, 5);
  const mechanism = r.cstring();
  const n = r.int32();
  const data = n === -1 ? null : r.bytes(n);
  if (r.remaining !== 0) throw new ProtocolError('trailing bytes in SASLInitialResponse');
  return { mechanism, data };
}

/** SASLResponse ('p' in SASL-continue state): the raw data. */
export function decodeSASLResponse(frame: Buffer): Buffer {
  return frame.subarray(5);
}

/** PasswordMessage ('p' in cleartext state). */
export function decodePasswordMessage(frame: Buffer): string {
  const r = new Reader(frame, 5);
  const pw = r.cstring();
  if (r.remaining !== 0) throw new ProtocolError('trailing bytes in PasswordMessage');
  return pw;
}

/** ErrorResponse / NoticeResponse fields keyed by their one-letter codes. */
export function decodeFields(frame: Buffer): Map<string, string> {
  const r = new Reader(frame, 5);
  const out = new Map<string, string>();
  for (;;) {
    const t = r.byte();
    if (t === 0) break;
    out.set(String.fromCharCode(t), r.cstring());
  }
  return out;
}

export type AuthRequest =
  | { code: AuthCode.Ok }
  | { code: AuthCode.CleartextPassword }
  | { code: AuthCode.MD5Password; salt: Buffer }
  | { code: AuthCode.SASL; mechanisms: string[] }
  | { code: AuthCode.SASLContinue; data: string }
  | { code: AuthCode.SASLFinal; data: string }
  | { code: number; unsupported: true };

/** Authentication ('R') from an upstream. */
export function decodeAuthentication(frame: Buffer): AuthRequest {
  const r = new Reader(frame, 5);
  const code = r.int32();
  switch (code) {
    case AuthCode.Ok:
      return { code };
    case AuthCode.CleartextPassword:
      return { code };
    case AuthCode.MD5Password:
      return { code, salt: Buffer.from(r.bytes(4)) };
    case AuthCode.SASL: {
      const mechanisms: string[] = [];
      for (;;) {
        const m = r.cstring();
        if (m === '') break;
        mechanisms.push(m);
      }
      return { code, mechanisms };
    }
    case AuthCode.SASLContinue:
      return { code, data: r.rest().toString('utf8') };
    case AuthCode.SASLFinal:
      return { code, data: r.rest().toString('utf8') };
    default:
      return { code, unsupported: true };
  }
}

/** BackendKeyData ('K'). */
export function decodeBackendKeyData(frame: Buffer): { pid: number; secret: number } {
  const r = new Reader(frame, 5);
  return { pid: r.int32(), secret: r.int32() };
}

/** ParameterStatus ('S' from a backend). */
export function decodeParameterStatus(frame: Buffer): { name: string; value: string } {
  const r = new Reader(frame, 5);
  return { name: r.cstring(), value: r.cstring() };
}
