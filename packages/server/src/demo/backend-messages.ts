/**
 * The few backend messages the embedded Postgres front answers itself (without PGlite):
 * errors, ReadyForQuery, CopyInResponse, NegotiateProtocolVersion, BackendKeyData.
 * Kept local to the demo so it does not depend on wire-pg internals.
 */

export const enum BackendCode {
  /** 'E' */ ErrorResponse = 0x45,
  /** 'Z' */ ReadyForQuery = 0x5a,
  /** 'G' */ CopyInResponse = 0x47,
  /** 'v' */ NegotiateProtocolVersion = 0x76,
  /** 'K' */ BackendKeyData = 0x4b,
}

export const enum FrontendCode {
  /** 'Q' */ Query = 0x51,
  /** 'P' */ Parse = 0x50,
  /** 'B' */ Bind = 0x42,
  /** 'D' */ Describe = 0x44,
  /** 'E' */ Execute = 0x45,
  /** 'C' */ Close = 0x43,
  /** 'S' */ Sync = 0x53,
  /** 'H' */ Flush = 0x48,
  /** 'F' */ FunctionCall = 0x46,
  /** 'X' */ Terminate = 0x58,
  /** 'd' */ CopyData = 0x64,
  /** 'c' */ CopyDone = 0x63,
  /** 'f' */ CopyFail = 0x66,
}

/** Transaction status byte of ReadyForQuery. */
export type TxStatus = 'I' | 'T' | 'E';

function frame(code: number, body: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = code;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

export interface ErrorFields {
  severity: 'ERROR' | 'FATAL';
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

export function errorResponse(e: ErrorFields): Buffer {
  const parts: string[] = [`S${e.severity}`, `V${e.severity}`, `C${e.code}`, `M${e.message}`];
  if (e.detail !== undefined) parts.push(`D${e.detail}`);
  if (e.hint !== undefined) parts.push(`H${e.hint}`);
  return frame(BackendCode.ErrorResponse, Buffer.from(parts.map((p) => `${p}\0`).join('') + '\0', 'utf8'));
}

export function readyForQuery(status: TxStatus): Buffer {
  return frame(BackendCode.ReadyForQuery, Buffer.from(status, 'latin1'));
}

/** CopyInResponse with an overall format and no per-column formats (clients only read the overall one). */
export function copyInResponse(binary: boolean): Buffer {
  const body = Buffer.alloc(3);
  body[0] = binary ? 1 : 0;
  body.writeInt16BE(0, 1);
  return frame(BackendCode.CopyInResponse, body);
}

/** NegotiateProtocolVersion: we speak 3.0; list the `_pq_.` options we did not recognise. */
export function negotiateProtocolVersion(newestMinor: number, unrecognized: readonly string[]): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(newestMinor, 0);
  head.writeInt32BE(unrecognized.length, 4);
  return frame(BackendCode.NegotiateProtocolVersion, Buffer.concat([head, ...unrecognized.map((o) => Buffer.from(`${o}\0`, 'utf8'))]));
}

export function backendKeyData(pid: number, secret: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeInt32BE(pid, 0);
  body.writeInt32BE(secret | 0, 4);
  return frame(BackendCode.BackendKeyData, body);
}

/** The text of a Query message, or the query string of a Parse message. */
export function sqlOf(message: Uint8Array): string | undefined {
  const buf = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (buf.length < 5) return undefined;
  if (buf[0] === FrontendCode.Query) {
    const end = buf.indexOf(0, 5);
    return buf.toString('utf8', 5, end === -1 ? buf.length : end);
  }
  if (buf[0] === FrontendCode.Parse) {
    const nameEnd = buf.indexOf(0, 5);
    if (nameEnd === -1) return undefined;
    const end = buf.indexOf(0, nameEnd + 1);
    return buf.toString('utf8', nameEnd + 1, end === -1 ? buf.length : end);
  }
  return undefined;
}
