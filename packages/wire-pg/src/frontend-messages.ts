import { Frontend, StartupCode } from './codes.js';

/** Builders for the few frontend messages sqlwarden writes itself (the rest are forwarded as sent). */

function withBody(type: number, body: Buffer): Buffer {
  const b = Buffer.allocUnsafe(5 + body.length);
  b[0] = type;
  b.writeInt32BE(4 + body.length, 1);
  body.copy(b, 5);
  return b;
}

export function queryMessage(sql: string): Buffer {
  return withBody(Frontend.Query, Buffer.from(sql + '\0', 'utf8'));
}

export function parseMessage(name: string, sql: string, paramTypes: readonly number[] = []): Buffer {
  const text = Buffer.from(name + '\0' + sql + '\0', 'utf8');
  const body = Buffer.allocUnsafe(text.length + 2 + 4 * paramTypes.length);
  text.copy(body, 0);
  body.writeInt16BE(paramTypes.length, text.length);
  paramTypes.forEach((t, i) => body.writeUInt32BE(t >>> 0, text.length + 2 + 4 * i));
  return withBody(Frontend.Parse, body);
}

export const TERMINATE: Buffer = Buffer.from([Frontend.Terminate, 0, 0, 0, 4]);

export const SYNC: Buffer = Buffer.from([Frontend.Sync, 0, 0, 0, 4]);

/** CopyFail ('f'): abort a COPY FROM STDIN with this reason. */
export function copyFailMessage(reason: string): Buffer {
  return withBody(Frontend.CopyFail, Buffer.from(reason + '\0', 'utf8'));
}

/** StartupMessage for protocol 3.0 with these parameters (user, database, ...), in order. */
export function startupMessage(params: Readonly<Record<string, string>>): Buffer {
  const pairs = Buffer.from(Object.entries(params).map(([k, v]) => k + '\0' + v + '\0').join('') + '\0', 'utf8');
  const b = Buffer.allocUnsafe(8 + pairs.length);
  b.writeInt32BE(8 + pairs.length, 0);
  b.writeInt32BE(StartupCode.Protocol3, 4);
  pairs.copy(b, 8);
  return b;
}
