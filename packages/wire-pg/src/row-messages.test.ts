import fc from 'fast-check';
import { serialize } from 'pg-protocol';
import { decodeBind, decodeExecute, decodeRowDescription, decodeTargetMessage, resultFormatOf, rewriteDataRow } from './row-messages.js';
import { ProtocolError } from './protocol-error.js';
import { FrameAction, FrameScanner } from './frame-scanner.js';

function rowDescription(fields: { name: string; table: number; attnum: number; type: number; format: number }[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const name = Buffer.from(f.name + '\0');
    const b = Buffer.alloc(18);
    b.writeUInt32BE(f.table, 0);
    b.writeInt16BE(f.attnum, 4);
    b.writeUInt32BE(f.type, 6);
    b.writeInt16BE(-1, 10);
    b.writeInt32BE(-1, 12);
    b.writeInt16BE(f.format, 16);
    parts.push(name, b);
  }
  const body = Buffer.concat([Buffer.from([0, fields.length]), ...parts]);
  const head = Buffer.alloc(5);
  head[0] = 0x54;
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function dataRow(values: (string | null)[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    const len = Buffer.alloc(4);
    if (v === null) {
      len.writeInt32BE(-1);
      parts.push(len);
    } else {
      const b = Buffer.from(v);
      len.writeInt32BE(b.length);
      parts.push(len, b);
    }
  }
  const body = Buffer.concat([Buffer.alloc(2), ...parts]);
  body.writeInt16BE(values.length, 0);
  const head = Buffer.alloc(5);
  head[0] = 0x44;
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

describe('row messages', () => {
  it('decodes a RowDescription, also when the frame arrives split at any offset', () => {
    const rd = rowDescription([
      { name: 'id', table: 16384, attnum: 1, type: 23, format: 0 },
      { name: 'email', table: 16384, attnum: 3, type: 25, format: 1 },
      { name: 'lower', table: 0, attnum: 0, type: 25, format: 0 },
    ]);
    const expected = decodeRowDescription(rd);
    expect(expected.map((f) => [f.name, f.tableOid, f.attnum, f.typeOid, f.format])).toEqual([
      ['id', 16384, 1, 23, 0],
      ['email', 16384, 3, 25, 1],
      ['lower', 0, 0, 25, 0],
    ]);
    for (let cut = 0; cut <= rd.length; cut++) {
      const seen: Buffer[] = [];
      const s = new FrameScanner({ onFrame: (_t, f) => (seen.push(Buffer.from(f)), FrameAction.Drop), onPass: () => {} }, 1 << 20);
      s.wantWhole[0x54] = 1;
      s.push(rd.subarray(0, cut));
      s.push(rd.subarray(cut));
      expect(decodeRowDescription(seen[0])).toEqual(expected);
    }
  });

  it('rewrites only the fields asked for and keeps the others byte for byte', () => {
    const row = dataRow(['1', 'alice@example.com', null, 'x']);
    expect(rewriteDataRow(row, () => undefined)).toBe(row);
    const out = rewriteDataRow(row, (i) => (i === 1 ? Buffer.from('****@example.com') : i === 3 ? null : undefined));
    expect(out.equals(dataRow(['1', '****@example.com', null, null]))).toBe(true);
  });

  it('property: rewriting with random replacements equals building the row from scratch', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string(), { nil: null }), { maxLength: 20 }), fc.array(fc.option(fc.option(fc.string(), { nil: null }), { nil: undefined }), { maxLength: 20 }), (values, repl) => {
        const row = dataRow(values);
        const out = rewriteDataRow(row, (i) => {
          const r = repl[i];
          return r === undefined ? undefined : r === null ? null : Buffer.from(r);
        });
        const expected = values.map((v, i) => (repl[i] === undefined ? v : repl[i]));
        expect(out.equals(dataRow(expected as (string | null)[]))).toBe(true);
      }),
    );
  });

  it('decodes Bind result formats (pg-protocol built), Execute, Describe and Close', () => {
    const bind = serialize.bind({ portal: 'p1', statement: 's1', values: ['a', null, Buffer.from([1, 2])], binary: true });
    expect(decodeBind(bind)).toEqual({ portal: 'p1', statement: 's1', resultFormats: [1] });
    expect(decodeBind(serialize.bind({}))).toEqual({ portal: '', statement: '', resultFormats: [0] });
    expect(resultFormatOf([], 3)).toBe(0);
    expect(resultFormatOf([1], 3)).toBe(1);
    expect(resultFormatOf([0, 1], 1)).toBe(1);
    expect(decodeExecute(serialize.execute({ portal: 'p1', rows: 10 }))).toEqual({ portal: 'p1', maxRows: 10 });
    expect(decodeTargetMessage(serialize.describe({ type: 'S', name: 's1' }))).toEqual({ target: 'S', name: 's1' });
    expect(decodeTargetMessage(serialize.close({ type: 'P', name: '' }))).toEqual({ target: 'P', name: '' });
  });

  it('property: decoders only ever throw ProtocolError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const frame = Buffer.concat([Buffer.from([0x54, 0, 0, 0, 4 + bytes.length]), Buffer.from(bytes)]);
        for (const decode of [decodeRowDescription, decodeBind, decodeExecute, decodeTargetMessage, (f: Buffer) => rewriteDataRow(f, () => null)]) {
          try {
            decode(frame);
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
          }
        }
      }),
    );
  });
});
