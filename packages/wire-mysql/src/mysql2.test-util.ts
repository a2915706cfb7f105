/**
 * mysql2's packet classes, loaded from its files (its package exports hide them), so tests can
 * cross-check our codecs against an independent implementation. Test-only.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { encodePacket } from './packet.js';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('mysql2'));

/* eslint-disable @typescript-eslint/no-explicit-any */
export const m2Packets: any = require(join(root, 'lib/packets/index.js'));
export const m2Client: Record<string, number> = require(join(root, 'lib/constants/client.js'));
export const m2Auth41: any = require(join(root, 'lib/auth_41.js'));

/** A mysql2 Packet reading our payload. */
export function m2Packet(payload: Buffer, seq = 0): any {
  const framed = encodePacket(payload, seq);
  return new m2Packets.Packet(seq, framed, 0, framed.length);
}

/** The payload of a packet mysql2 built. */
export function m2Payload(packet: any): Buffer {
  const buf: Buffer = packet.buffer;
  return Buffer.from(buf.subarray((packet.start as number) + 4, packet.end as number));
}
