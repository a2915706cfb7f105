/** Largest payload of one physical packet; a payload of exactly this size is continued by another packet. */
export const MAX_PACKET_PAYLOAD = 0xffffff;
/** Bytes of a packet header: int<3> payload length, int<1> sequence id. */
export const PACKET_HEADER_LENGTH = 4;

/** The sequence id after `seq` (wraps at 256). */
export function nextSeq(seq: number): number {
  return (seq + 1) & 0xff;
}

/** Physical packets a logical payload of `length` bytes takes (a final empty one when length is a multiple of 0xFFFFFF). */
export function physicalPacketCount(length: number): number {
  return Math.floor(length / MAX_PACKET_PAYLOAD) + 1;
}

/** A packet header, for writing a payload after it without copying the payload. Only for payloads < 0xFFFFFF. */
export function packetHeader(payloadLength: number, seq: number): Buffer {
  if (payloadLength < 0 || payloadLength >= MAX_PACKET_PAYLOAD) throw new RangeError(`payload length ${payloadLength} needs continuation packets`);
  const h = Buffer.allocUnsafe(4);
  h.writeUIntLE(payloadLength, 0, 3);
  h[3] = seq & 0xff;
  return h;
}

/**
 * Frames a logical payload as packets: one packet when shorter than 0xFFFFFF bytes, otherwise
 * 0xFFFFFF-byte packets with incrementing sequence ids and a final shorter (possibly empty) one.
 * The sequence id to use next is `(seq + physicalPacketCount(payload.length)) & 0xff`.
 */
export function encodePacket(payload: Uint8Array, seq: number): Buffer {
  const len = payload.length;
  const count = physicalPacketCount(len);
  const out = Buffer.allocUnsafe(len + 4 * count);
  let src = 0;
  let dst = 0;
  for (let i = 0; i < count; i++) {
    const n = Math.min(MAX_PACKET_PAYLOAD, len - src);
    out.writeUIntLE(n, dst, 3);
    out[dst + 3] = (seq + i) & 0xff;
    out.set(payload.subarray(src, src + n), dst + 4);
    src += n;
    dst += 4 + n;
  }
  return out;
}

/** Frames several payloads back to back with consecutive sequence ids. */
export function encodePackets(payloads: readonly Uint8Array[], seq: number): { bytes: Buffer; nextSeq: number } {
  const parts: Buffer[] = [];
  let s = seq;
  for (const p of payloads) {
    parts.push(encodePacket(p, s));
    s = (s + physicalPacketCount(p.length)) & 0xff;
  }
  return { bytes: parts.length === 1 ? parts[0] : Buffer.concat(parts), nextSeq: s };
}

/** Rewrites the sequence id of a framed physical packet in place (the proxy renumbers forwarded packets). */
export function setSequenceId(packet: Buffer, seq: number): void {
  packet[3] = seq & 0xff;
}
