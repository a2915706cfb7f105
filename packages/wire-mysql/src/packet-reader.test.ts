import fc from 'fast-check';
import { MAX_PACKET_PAYLOAD, encodePacket, encodePackets, nextSeq, packetHeader, physicalPacketCount, setSequenceId } from './packet.js';
import { PacketReader, type Packet, type RawPacket } from './packet-reader.js';
import { PacketTooLargeError, ProtocolError } from './protocol-error.js';

function drain(r: PacketReader): Packet[] {
  const out: Packet[] = [];
  for (let p = r.next(); p; p = r.next()) out.push(p);
  return out;
}

function drainRaw(r: PacketReader): RawPacket[] {
  const out: RawPacket[] = [];
  for (let p = r.nextRaw(); p; p = r.nextRaw()) out.push(p);
  return out;
}

describe('encodePacket', () => {
  it('frames a short payload with a 3-byte length and the sequence id', () => {
    expect(encodePacket(Buffer.from('abc'), 7)).toEqual(Buffer.from([3, 0, 0, 7, 0x61, 0x62, 0x63]));
    expect(encodePacket(Buffer.alloc(0), 255)).toEqual(Buffer.from([0, 0, 0, 255]));
    expect(packetHeader(0x123456 - 0x100000, 9)).toEqual(Buffer.from([0x56, 0x34, 0x02, 9]));
  });

  it('splits 16 MiB payloads into continuations with incrementing (wrapping) sequence ids', () => {
    const exact = Buffer.alloc(MAX_PACKET_PAYLOAD, 1);
    const framed = encodePacket(exact, 255);
    expect(physicalPacketCount(exact.length)).toBe(2);
    expect(framed.length).toBe(MAX_PACKET_PAYLOAD + 8);
    expect(framed.subarray(0, 4)).toEqual(Buffer.from([0xff, 0xff, 0xff, 255]));
    expect(framed.subarray(MAX_PACKET_PAYLOAD + 4)).toEqual(Buffer.from([0, 0, 0, 0]));

    const big = Buffer.alloc(2 * MAX_PACKET_PAYLOAD + 5, 2);
    const f2 = encodePacket(big, 10);
    expect(f2.length).toBe(big.length + 12);
    expect(f2[3]).toBe(10);
    expect(f2[MAX_PACKET_PAYLOAD + 4 + 3]).toBe(11);
    const last = 2 * (MAX_PACKET_PAYLOAD + 4);
    expect(f2.subarray(last, last + 4)).toEqual(Buffer.from([5, 0, 0, 12]));
  });

  it('frames several payloads with consecutive ids; setSequenceId rewrites one', () => {
    const { bytes, nextSeq: n } = encodePackets([Buffer.from('a'), Buffer.from('bc')], 254);
    expect(bytes).toEqual(Buffer.from([1, 0, 0, 254, 0x61, 2, 0, 0, 255, 0x62, 0x63]));
    expect(n).toBe(0);
    setSequenceId(bytes, 9);
    expect(bytes[3]).toBe(9);
    expect(nextSeq(255)).toBe(0);
  });

  it('refuses a header for a payload that needs continuations', () => {
    expect(() => packetHeader(MAX_PACKET_PAYLOAD, 0)).toThrow(RangeError);
  });
});

describe('PacketReader', () => {
  const stream = Buffer.concat([encodePacket(Buffer.from('hello'), 0), encodePacket(Buffer.alloc(0), 1), encodePacket(Buffer.alloc(300, 7), 2)]);

  it('yields whole packets at every split offset, views when a packet sits in one chunk', () => {
    for (let i = 0; i <= stream.length; i++) {
      const r = new PacketReader();
      r.push(stream.subarray(0, i));
      const got = drain(r);
      r.push(stream.subarray(i));
      got.push(...drain(r));
      expect(got.map((p) => [p.seq, p.lastSeq, p.payload.length])).toEqual([
        [0, 0, 5],
        [1, 1, 0],
        [2, 2, 300],
      ]);
      expect(got[0].payload.toString()).toBe('hello');
      expect(r.atBoundary).toBe(true);
      expect(r.buffered).toBe(0);
    }
    const r = new PacketReader();
    r.push(stream);
    const [a] = drain(r);
    expect(a.payload.buffer).toBe(stream.buffer);
  });

  it('handles byte-at-a-time delivery', () => {
    const r = new PacketReader();
    const got: Packet[] = [];
    for (const b of stream) {
      r.push(Buffer.from([b]));
      got.push(...drain(r));
    }
    expect(got.map((p) => p.payload.length)).toEqual([5, 0, 300]);
  });

  it('joins continuation packets, including the empty one after exactly 0xFFFFFF bytes', () => {
    for (const size of [MAX_PACKET_PAYLOAD - 1, MAX_PACKET_PAYLOAD, 2 * MAX_PACKET_PAYLOAD + 3]) {
      const payload = Buffer.alloc(size);
      payload.writeUInt32LE(size, 0);
      payload.writeUInt32LE(0xdeadbeef, size - 4);
      const framed = Buffer.concat([encodePacket(payload, 254), encodePacket(Buffer.from('x'), 0)]);
      for (const cut of [3, MAX_PACKET_PAYLOAD + 5, MAX_PACKET_PAYLOAD + 6, framed.length - 6]) {
        const r = new PacketReader({ maxPacketSize: 1 << 26 });
        r.push(framed.subarray(0, cut));
        const got = drain(r);
        r.push(framed.subarray(cut));
        got.push(...drain(r));
        expect(got.length).toBe(2);
        expect(got[0].payload.length).toBe(size);
        expect(got[0].payload.equals(payload)).toBe(true);
        expect(got[0].seq).toBe(254);
        expect(got[0].lastSeq).toBe((254 + physicalPacketCount(size) - 1) & 0xff);
        expect(got[1].payload.toString()).toBe('x');
      }
    }
  });

  it('in raw mode yields each physical packet untouched, flagging continuations', () => {
    const payload = Buffer.alloc(MAX_PACKET_PAYLOAD + 2, 3);
    const framed = Buffer.concat([encodePacket(Buffer.from('ab'), 0), encodePacket(payload, 1), encodePacket(Buffer.from('c'), 3)]);
    const r = new PacketReader({ maxPacketSize: 1 << 26 });
    r.push(framed.subarray(0, 100));
    r.push(framed.subarray(100, MAX_PACKET_PAYLOAD));
    r.push(framed.subarray(MAX_PACKET_PAYLOAD));
    const raw = drainRaw(r);
    expect(raw.map((p) => [p.length, p.seq, p.continued, p.more])).toEqual([
      [2, 0, false, false],
      [MAX_PACKET_PAYLOAD, 1, false, true],
      [2, 2, true, false],
      [1, 3, false, false],
    ]);
    expect(Buffer.concat(raw.map((p) => p.bytes)).equals(framed)).toBe(true);
    expect(raw[0].payload.toString()).toBe('ab');
  });

  it('mixes next() and nextRaw() at packet boundaries, and refuses next() inside a raw continuation', () => {
    const payload = Buffer.alloc(MAX_PACKET_PAYLOAD, 1);
    const framed = Buffer.concat([encodePacket(Buffer.from('q'), 0), encodePacket(payload, 0), encodePacket(Buffer.from('z'), 5)]);
    const r = new PacketReader({ maxPacketSize: 1 << 26 });
    r.push(framed);
    expect(r.next()!.payload.toString()).toBe('q');
    const first = r.nextRaw()!;
    expect(first.more).toBe(true);
    expect(() => r.next()).toThrow(Error);
    const second = r.nextRaw()!;
    expect([second.continued, second.length]).toEqual([true, 0]);
    expect(r.next()!.payload.toString()).toBe('z');
  });

  it('throws PacketTooLargeError from the header alone, before the payload arrives', () => {
    const r = new PacketReader({ maxPacketSize: 1000 });
    r.push(Buffer.from([0xe9, 0x03, 0, 0])); // 1001 bytes announced
    expect(() => r.next()).toThrow(PacketTooLargeError);
    const r2 = new PacketReader({ maxPacketSize: 1000 });
    r2.push(Buffer.from([0xe9, 0x03, 0, 0]));
    expect(() => r2.nextRaw()).toThrow(PacketTooLargeError);
    const ok = new PacketReader({ maxPacketSize: 1000 });
    ok.push(encodePacket(Buffer.alloc(1000), 0));
    expect(ok.next()!.payload.length).toBe(1000);
  });

  it('counts continuations against the limit', () => {
    const r = new PacketReader({ maxPacketSize: MAX_PACKET_PAYLOAD + 10 });
    const framed = encodePacket(Buffer.alloc(MAX_PACKET_PAYLOAD + 11), 0);
    r.push(framed.subarray(0, MAX_PACKET_PAYLOAD + 8));
    expect(() => r.next()).toThrow(PacketTooLargeError);
  });

  it('rejects continuation packets out of sequence', () => {
    const framed = encodePacket(Buffer.alloc(MAX_PACKET_PAYLOAD + 1), 0);
    framed[MAX_PACKET_PAYLOAD + 4 + 3] = 7;
    const r = new PacketReader({ maxPacketSize: 1 << 26 });
    r.push(framed);
    expect(() => r.next()).toThrow(ProtocolError);
  });

  it('hands back unframed bytes for a TLS upgrade', () => {
    const r = new PacketReader();
    r.push(Buffer.concat([encodePacket(Buffer.from('ssl'), 1), Buffer.from([0x16, 0x03, 0x01])]));
    expect(r.next()!.payload.toString()).toBe('ssl');
    expect(r.next()).toBeNull();
    expect(r.takeBuffered()).toEqual(Buffer.from([0x16, 0x03, 0x01]));
    expect(r.atBoundary).toBe(true);
  });

  it('property: any payloads in any chunking come out as they went in', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 }), fc.nat(255), (payloads, rawCuts, seq) => {
        const { bytes } = encodePackets(payloads, seq);
        const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const r = new PacketReader();
        const got: Buffer[] = [];
        let prev = 0;
        for (const c of [...cuts, bytes.length]) {
          r.push(bytes.subarray(prev, c));
          prev = c;
          for (let p = r.next(); p; p = r.next()) got.push(Buffer.from(p.payload));
        }
        expect(got.map((b) => b.toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
        expect(r.atBoundary).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('property: random bytes give packets or ProtocolErrors only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = new PacketReader({ maxPacketSize: 64 });
        r.push(Buffer.from(bytes));
        try {
          drain(r);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }),
    );
  });
});
