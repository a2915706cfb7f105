/** Shared helpers for the package's tests (not shipped: excluded with the *.test.* files). */
import fc from 'fast-check';
import { encodePacket } from './packet.js';
import { PacketReader } from './packet-reader.js';
import { ProtocolError } from './protocol-error.js';

/**
 * Decodes `payload`, then frames it and feeds it to a PacketReader split in two at every byte
 * offset, decoding what the reader yields each time: every result must equal the first.
 */
export function decodeSplitEverywhere<T>(payload: Buffer, decode: (p: Buffer) => T, seq = 3): T {
  const expected = decode(payload);
  const framed = encodePacket(payload, seq);
  for (let i = 0; i <= framed.length; i++) {
    const reader = new PacketReader();
    reader.push(framed.subarray(0, i));
    let pkt = reader.next();
    if (i < framed.length) {
      expect(pkt).toBeNull();
      reader.push(framed.subarray(i));
      pkt = reader.next();
    }
    expect(pkt).not.toBeNull();
    expect(pkt!.seq).toBe(seq);
    expect(pkt!.payload.equals(payload)).toBe(true);
    expect(decode(pkt!.payload)).toEqual(expected);
    expect(reader.atBoundary).toBe(true);
  }
  return expected;
}

/** Property: on random bytes (optionally after a fixed prefix) `decode` returns or throws a ProtocolError, nothing else. */
export function expectOnlyProtocolErrors(decode: (p: Buffer) => unknown, prefix: number[] = [], numRuns = 2000): void {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      try {
        decode(Buffer.concat([Buffer.from(prefix), Buffer.from(bytes)]));
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns },
  );
}

/** Concatenates hex strings (spaces allowed) into a Buffer. */
export function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
}
