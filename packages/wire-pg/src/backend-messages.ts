import { AuthCode, Backend } from './codes.js';

/** Builders for the backend messages sqlwarden itself sends to clients. */

function frame(type: number, bodyLen: number): Buffer {
  const b = Buffer.allocUnsafe(1 + 4 + bodyLen);
  b[0] = type;
  b.writeInt32BE(4 + bodyLen, 1);
  return b;
}

export interface ErrorFields {
  /** ERROR, FATAL, PANIC (errors) or WARNING, NOTICE, INFO, LOG, DEBUG (notices) */
  severity: string;
  /** SQLSTATE */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

function fieldsMessage(type: number, f: ErrorFields): Buffer {
  const parts: [string, string][] = [
    ['S', f.severity],
    ['V', f.severity],
    ['C', f.code],
    ['M', f.message],
  ];
  if (f.detail) parts.push(['D', f.detail]);
  if (f.hint) parts.push(['H', f.hint]);
  return encodeFieldsMessage(type, parts);
}

/** An ErrorResponse / NoticeResponse (`type`) from one-letter field codes and values, in order. */
export function encodeFieldsMessage(type: number, fields: Iterable<readonly [string, string]>): Buffer {
  let len = 1; // trailing terminator
  const enc: [number, Buffer][] = [];
  for (const [k, v] of fields) {
    const vb = Buffer.from(v.replace(/\0/g, ''), 'utf8');
    len += 1 + vb.length + 1;
    enc.push([k.charCodeAt(0), vb]);
  }
  const b = frame(type, len);
  let o = 5;
  for (const [k, vb] of enc) {
    b[o++] = k;
    vb.copy(b, o);
    o += vb.length;
    b[o++] = 0;
  }
  b[o] = 0;
  return b;
}

export function errorResponse(f: ErrorFields): Buffer {
  return fieldsMessage(Backend.ErrorResponse, f);
}

export function noticeResponse(f: ErrorFields): Buffer {
  return fieldsMessage(Backend.NoticeResponse, f);
}

const RFQ = {
  I: Buffer.from([Backend.ReadyForQuery, 0, 0, 0, 5, 0x49]),
  T: Buffer.from([Backend.ReadyForQuery, 0, 0, 0, 5, 0x54]),
  E: Buffer.from([Backend.ReadyForQuery, 0, 0, 0, 5, 0x45]),
};

export function readyForQuery(status: 'I' | 'T' | 'E' = 'I'): Buffer {
  return RFQ[status];
}

function auth(code: number, data?: Buffer): Buffer {
  const b = frame(Backend.Authentication, 4 + (data ? data.length : 0));
  b.writeInt32BE(code, 5);
  if (data) data.copy(b, 9);
  return b;
}

export const AUTH_OK: Buffer = auth(AuthCode.Ok);
export const AUTH_CLEARTEXT: Buffer = auth(AuthCode.CleartextPassword);

export function authenticationSASL(mechanisms: readonly string[]): Buffer {
  return auth(AuthCode.SASL, Buffer.from(mechanisms.map((m) => m + '\0').join('') + '\0', 'utf8'));
}

export function authenticationSASLContinue(data: string): Buffer {
  return auth(AuthCode.SASLContinue, Buffer.from(data, 'utf8'));
}

export function authenticationSASLFinal(data: string): Buffer {
  return auth(AuthCode.SASLFinal, Buffer.from(data, 'utf8'));
}

export function backendKeyData(pid: number, secret: number): Buffer {
  const b = frame(Backend.BackendKeyData, 8);
  b.writeInt32BE(pid | 0, 5);
  b.writeInt32BE(secret | 0, 9);
  return b;
}

export function parameterStatus(name: string, value: string): Buffer {
  const n = Buffer.from(name + '\0' + value + '\0', 'utf8');
  const b = frame(Backend.ParameterStatus, n.length);
  n.copy(b, 5);
  return b;
}

/** NegotiateProtocolVersion: the newest minor version we support and the options we did not recognise. */
export function negotiateProtocolVersion(newestMinor: number, unrecognized: readonly string[]): Buffer {
  const names = Buffer.from(unrecognized.map((o) => o + '\0').join(''), 'utf8');
  const b = frame(Backend.NegotiateProtocolVersion, 8 + names.length);
  b.writeInt32BE((3 << 16) | newestMinor, 5);
  b.writeInt32BE(unrecognized.length, 9);
  names.copy(b, 13);
  return b;
}

/**
 * CopyInResponse: the overall format (text or binary) and, for `columnCount` columns, the same
 * format per column, as Postgres sends it. Clients read only the overall format, so a server that
 * does not know the column count yet may send 0 columns.
 */
export function copyInResponse(binary: boolean, columnCount = 0): Buffer {
  const format = binary ? 1 : 0;
  const b = frame(Backend.CopyInResponse, 3 + 2 * columnCount);
  b[5] = format;
  b.writeInt16BE(columnCount, 6);
  for (let i = 0; i < columnCount; i++) b.writeInt16BE(format, 8 + 2 * i);
  return b;
}

/** The single-byte answers to SSLRequest / GSSENCRequest. */
export const SSL_YES: Buffer = Buffer.from('S');
export const SSL_NO: Buffer = Buffer.from('N');
