import { Command } from './codes.js';
import { ProtocolError } from './protocol-error.js';

/** Decodes COM_INIT_DB: the schema name (UTF-8). */
export function decodeComInitDb(payload: Buffer): string {
  if (payload.length === 0 || payload[0] !== Command.InitDb) throw new ProtocolError('not COM_INIT_DB');
  return payload.toString('utf8', 1);
}

export function encodeComInitDb(schema: string): Buffer {
  return Buffer.concat([Buffer.from([Command.InitDb]), Buffer.from(schema, 'utf8')]);
}
