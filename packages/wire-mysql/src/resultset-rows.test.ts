import fc from 'fast-check';
import { Capability, MariadbCapability } from './capabilities.js';
import { BinaryLayout, ColumnFlag, ColumnType, binaryLayout } from './column-type.js';
import { binaryValueEnd, binaryValueToText, decodeBinaryValue, encodeBinaryValue, type BinaryValue } from './binary-value.js';
import { binaryRowValue, encodeBinaryRow, rebuildBinaryRow, scanBinaryRow, type BinaryColumn } from './binary-resultset-row.js';
import { decodeColumnCount, encodeColumnCount } from './column-count.js';
import { decodeColumnDefinition41, encodeColumnDefinition41, type ColumnDefinition41 } from './column-definition41.js';
import { decodeLocalInfileRequest, encodeLocalInfileRequest } from './local-infile-request.js';
import { ProtocolError } from './protocol-error.js';
import { RowFields } from './row-fields.js';
import { encodeTextRow, rebuildTextRow, scanTextRow } from './text-resultset-row.js';
import { decodeSplitEverywhere, expectOnlyProtocolErrors, hex } from './framing.test-util.js';
import { m2Packet, m2Packets, m2Payload } from './mysql2.test-util.js';

const PLAIN = { capabilities: Capability.Protocol41, mariadbCapabilities: 0 };

const col: ColumnDefinition41 = {
  catalog: 'def',
  schema: 'shop',
  table: 'c',
  orgTable: 'customers',
  name: 'mail',
  orgName: 'email',
  characterSet: 45,
  columnLength: 1020,
  type: ColumnType.VarString,
  flags: ColumnFlag.NotNull | ColumnFlag.UniqueKey,
  decimals: 0,
};

describe('column count', () => {
  it('is a length-encoded count, with a metadata-follows byte when negotiated', () => {
    expect(decodeSplitEverywhere(encodeColumnCount({ count: 300 }, PLAIN), (p) => decodeColumnCount(p, PLAIN))).toEqual({ count: 300, metadataFollows: true });
    const cache = { capabilities: Capability.Protocol41, mariadbCapabilities: MariadbCapability.CacheMetadata };
    expect(encodeColumnCount({ count: 2, metadataFollows: false }, cache)).toEqual(hex('02 00'));
    expect(decodeColumnCount(hex('02 00'), cache)).toEqual({ count: 2, metadataFollows: false });
    const opt = { capabilities: Capability.Protocol41 | Capability.OptionalResultsetMetadata, mariadbCapabilities: 0 };
    expect(decodeColumnCount(hex('02 01'), opt)).toEqual({ count: 2, metadataFollows: true });
    expect(() => decodeColumnCount(hex('02 01'), PLAIN)).toThrow(ProtocolError);
    expect(() => decodeColumnCount(hex('00'), PLAIN)).toThrow(ProtocolError);
  });

  it('property: random bytes throw only ProtocolError', () => expectOnlyProtocolErrors((p) => decodeColumnCount(p, { capabilities: Capability.OptionalResultsetMetadata, mariadbCapabilities: 0 })));
});

describe('ColumnDefinition41', () => {
  it('encodes and decodes, at every split offset', () => {
    expect(decodeSplitEverywhere(encodeColumnDefinition41(col), (p) => decodeColumnDefinition41(p))).toEqual(col);
  });

  it('matches mysql2 both ways', () => {
    const theirs = new m2Packets.ColumnDefinition(m2Packet(encodeColumnDefinition41(col)), 'utf8');
    expect([theirs.schema, theirs.table, theirs.orgTable, theirs.name, theirs.orgName, theirs.characterSet, theirs.columnLength, theirs.columnType, theirs.flags]).toEqual([
      'shop',
      'c',
      'customers',
      'mail',
      'email',
      45,
      1020,
      ColumnType.VarString,
      col.flags,
    ]);
    const payload = m2Payload(m2Packets.ColumnDefinition.toPacket({ catalog: 'def', schema: 's', table: 't', orgTable: 'ot', name: 'n', orgName: 'on', characterSet: 63, columnLength: 11, columnType: ColumnType.Long, flags: ColumnFlag.Unsigned, decimals: 0 }, 2));
    expect(decodeColumnDefinition41(payload)).toMatchObject({ schema: 's', orgTable: 'ot', name: 'n', orgName: 'on', characterSet: 63, type: ColumnType.Long, flags: ColumnFlag.Unsigned });
  });

  it("reads MariaDB's extended metadata and COM_FIELD_LIST default values", () => {
    const ext = { ...col, extendedTypeName: 'json', extendedFormat: 'uuid' };
    expect(decodeSplitEverywhere(encodeColumnDefinition41(ext, { extendedMetadata: true }), (p) => decodeColumnDefinition41(p, { extendedMetadata: true }))).toEqual(ext);
    const none = decodeColumnDefinition41(encodeColumnDefinition41(col, { extendedMetadata: true }), { extendedMetadata: true });
    expect([none.extendedTypeName, none.extendedFormat]).toEqual([null, null]);
    const theirs = new m2Packets.ColumnDefinition(m2Packet(encodeColumnDefinition41(ext, { extendedMetadata: true })), 'utf8', true);
    expect(theirs.name).toBe('mail');
    expect(theirs.columnType).toBe(ColumnType.VarString);
    const fl = { ...col, defaultValue: Buffer.from('x') };
    expect(decodeColumnDefinition41(encodeColumnDefinition41(fl, { fieldList: true }), { fieldList: true })).toEqual(fl);
    expect(decodeColumnDefinition41(encodeColumnDefinition41({ ...col, defaultValue: null }, { fieldList: true }), { fieldList: true }).defaultValue).toBeNull();
  });

  it('property: round-trips and random bytes throw only ProtocolError', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.nat(0xffff), fc.nat(0xffffffff), fc.nat(255), fc.nat(0xffff), fc.nat(255), (schema, name, orgName, characterSet, columnLength, type, flags, decimals) => {
        const c = { ...col, schema, name, orgName, characterSet, columnLength, type, flags, decimals };
        expect(decodeColumnDefinition41(encodeColumnDefinition41(c))).toEqual(c);
      }),
    );
    expectOnlyProtocolErrors((p) => decodeColumnDefinition41(p));
    expectOnlyProtocolErrors((p) => decodeColumnDefinition41(p, { extendedMetadata: true, fieldList: true }), [3, 0x64, 0x65, 0x66]);
  });
});

describe('text rows', () => {
  const values = ['1', null, 'ä'.repeat(200), '', 'x'];
  const payload = encodeTextRow(values);

  it('scans field offsets without copying, at every split offset', () => {
    const seen = decodeSplitEverywhere(payload, (p) => {
      const f = scanTextRow(p, values.length);
      return Array.from({ length: f.count }, (_, i) => f.valueOf(p, i)?.toString() ?? null);
    });
    expect(seen).toEqual(values);
    const f = scanTextRow(payload, 5);
    expect(f.isNull(1)).toBe(true);
    expect(f.fieldOf(payload, 1)).toEqual(Buffer.from([0xfb]));
    expect(f.valueOf(payload, 2)!.buffer).toBe(payload.buffer);
    expect(f.end[2] - f.value[2]).toBe(400);
    expect(f.value[2] - f.start[2]).toBe(3);
  });

  it('matches mysql2 text rows', () => {
    const row = m2Packets.TextRow.toPacket(['a', null, 'ccc'], 'utf8');
    const p = m2Payload(row);
    const f = scanTextRow(p, 3);
    expect([f.valueOf(p, 0)!.toString(), f.valueOf(p, 1), f.valueOf(p, 2)!.toString()]).toEqual(['a', null, 'ccc']);
  });

  it('rebuilds with selected fields replaced, unchanged bytes copied', () => {
    const f = scanTextRow(payload, 5);
    const out = rebuildTextRow(payload, f, [undefined, 'now set', null, undefined, Buffer.alloc(70000, 0x61)]);
    expect(out).toEqual(encodeTextRow(['1', 'now set', null, '', 'a'.repeat(70000)]));
    expect(rebuildTextRow(payload, f, [])).toEqual(payload);
  });

  it('refuses rows that do not match the column count', () => {
    expect(() => scanTextRow(payload, 4)).toThrow(ProtocolError);
    expect(() => scanTextRow(payload, 6)).toThrow(ProtocolError);
    expect(() => scanTextRow(hex('05 61'), 1)).toThrow(ProtocolError);
  });

  it('property: scan then rebuild equals encoding the replaced values', () => {
    const value = fc.option(fc.string(), { nil: null });
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 20 }), fc.array(fc.option(value, { nil: undefined }), { maxLength: 20 }), (vals, repl) => {
        const p = encodeTextRow(vals);
        const f = scanTextRow(p, vals.length, new RowFields(2));
        expect(Array.from({ length: vals.length }, (_, i) => f.valueOf(p, i)?.toString() ?? null)).toEqual(vals);
        const expected = vals.map((v, i) => (i < repl.length && repl[i] !== undefined ? repl[i]! : v));
        expect(rebuildTextRow(p, f, repl)).toEqual(encodeTextRow(expected));
      }),
    );
  });

  it('property: random bytes throw only ProtocolError', () => {
    for (const n of [1, 2, 5]) expectOnlyProtocolErrors((p) => scanTextRow(p, n));
  });
});

const dt = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0, microsecond = 0) => ({ year, month, day, hour, minute, second, microsecond });
const tm = (negative: boolean, days: number, hours: number, minutes: number, seconds: number, microseconds = 0) => ({ negative, days, hours, minutes, seconds, microseconds });

describe('binary values', () => {
  const cases: [number, boolean, BinaryValue, string][] = [
    [ColumnType.Tiny, false, -1, 'ff'],
    [ColumnType.Tiny, true, 255, 'ff'],
    [ColumnType.Short, false, -2, 'feff'],
    [ColumnType.Year, false, 2024, 'e807'],
    [ColumnType.Long, false, -3, 'fdffffff'],
    [ColumnType.Int24, true, 0xffffff, 'ffffff00'],
    [ColumnType.LongLong, false, -4n, 'fcffffffffffffff'],
    [ColumnType.LongLong, true, 18446744073709551615n, 'ffffffffffffffff'],
    [ColumnType.Float, false, 1.5, '0000c03f'],
    [ColumnType.Double, false, -0.25, '000000000000d0bf'],
    [ColumnType.Date, false, dt(2024, 2, 29), '04e807021d'],
    [ColumnType.Date, false, dt(0, 0, 0), '00'],
    [ColumnType.DateTime, false, dt(2024, 2, 29, 13, 4, 5), '07e807021d0d0405'],
    [ColumnType.Timestamp, false, dt(2024, 2, 29, 13, 4, 5, 6), '0be807021d0d040506000000'],
    [ColumnType.Time, false, tm(false, 0, 0, 0, 0), '00'],
    [ColumnType.Time, false, tm(true, 1, 2, 3, 4), '080101000000020304'],
    [ColumnType.Time, false, tm(false, 0, 23, 59, 59, 999999), '0c000000000017 3b3b 3f420f00'],
    [ColumnType.NewDecimal, false, Buffer.from('-1.50'), '052d312e3530'],
    [ColumnType.Json, false, Buffer.from('{}'), '027b7d'],
    [ColumnType.Geometry, false, Buffer.alloc(0), '00'],
  ];

  it.each(cases)('type %i (unsigned %s) %p is %s', (type, unsigned, value, h) => {
    const enc = encodeBinaryValue(type, value, unsigned);
    expect(enc.toString('hex')).toBe(h.replace(/\s/g, ''));
    expect(binaryValueEnd(enc, 0, enc.length, type)).toBe(enc.length);
    expect(decodeBinaryValue(enc, type, unsigned)).toEqual(value);
  });

  it('encoders check kinds and ranges', () => {
    expect(() => encodeBinaryValue(ColumnType.Tiny, 128)).toThrow(RangeError);
    expect(() => encodeBinaryValue(ColumnType.Tiny, 255, true)).not.toThrow();
    expect(() => encodeBinaryValue(ColumnType.Long, 1.5)).toThrow(RangeError);
    expect(() => encodeBinaryValue(ColumnType.Long, 'x')).toThrow(TypeError);
    expect(() => encodeBinaryValue(ColumnType.Date, 1)).toThrow(TypeError);
    expect(() => encodeBinaryValue(ColumnType.Blob, 1)).toThrow(TypeError);
    expect(encodeBinaryValue(ColumnType.VarString, 'é')).toEqual(hex('02c3a9'));
  });

  it('temporal lengths other than the defined ones are ProtocolErrors', () => {
    expect(() => binaryValueEnd(hex('05 0000000000'), 0, 6, ColumnType.Date)).toThrow(ProtocolError);
    expect(() => binaryValueEnd(hex('07 00000000000000'), 0, 8, ColumnType.Time)).toThrow(ProtocolError);
    expect(() => binaryValueEnd(hex('04 e807'), 0, 3, ColumnType.Date)).toThrow(ProtocolError);
  });

  it('formats as the text protocol shows', () => {
    expect(binaryValueToText(ColumnType.DateTime, dt(2024, 2, 9, 3, 4, 5, 120000), 3)).toBe('2024-02-09 03:04:05.120');
    expect(binaryValueToText(ColumnType.DateTime, dt(2024, 2, 9, 3, 4, 5, 120000), 0)).toBe('2024-02-09 03:04:05');
    expect(binaryValueToText(ColumnType.Date, dt(999, 1, 2))).toBe('0999-01-02');
    expect(binaryValueToText(ColumnType.Time, tm(true, 2, 1, 0, 9, 5), 6)).toBe('-49:00:09.000005');
    expect(binaryValueToText(ColumnType.Year, 5)).toBe('0005');
    expect(binaryValueToText(ColumnType.LongLong, 12n)).toBe('12');
    expect(binaryValueToText(ColumnType.VarString, Buffer.from('ü'))).toBe('ü');
  });
});

describe('binary rows', () => {
  const columns: BinaryColumn[] = [
    { type: ColumnType.Long, flags: 0 },
    { type: ColumnType.VarString, flags: 0 },
    { type: ColumnType.Null, flags: 0 },
    { type: ColumnType.DateTime, flags: 0 },
    { type: ColumnType.LongLong, flags: ColumnFlag.Unsigned },
    { type: ColumnType.Double, flags: 0 },
    { type: ColumnType.Time, flags: 0 },
    { type: ColumnType.Blob, flags: ColumnFlag.Binary },
    { type: ColumnType.Tiny, flags: 0 },
  ];
  const values: (BinaryValue | string | null)[] = [7, 'alice@example.com', null, dt(2020, 1, 2, 3, 4, 5), 2n ** 64n - 1n, 0.5, null, Buffer.from([0, 1, 2]), -1];

  it('scans the NULL bitmap (offset 2) and each value, at every split offset', () => {
    const payload = encodeBinaryRow(columns, values);
    expect(payload[0]).toBe(0);
    expect(payload.subarray(1, 3)).toEqual(Buffer.from([0b0001_0000, 0b0000_0001])); // columns 2 and 6 → bits 4 and 8
    const got = decodeSplitEverywhere(payload, (p) => {
      const f = scanBinaryRow(p, columns);
      return columns.map((_, i) => binaryRowValue(p, f, columns, i));
    });
    expect(got).toEqual(values.map((v) => (typeof v === 'string' ? Buffer.from(v) : v)));
  });

  it('rebuilds with replacements encoded by type, NULLs through the bitmap', () => {
    const payload = encodeBinaryRow(columns, values);
    const f = scanBinaryRow(payload, columns);
    const out = rebuildBinaryRow(payload, f, columns, [undefined, 'a***@example.com', null, null, undefined, undefined, tm(false, 0, 1, 2, 3), undefined, null]);
    expect(out).toEqual(encodeBinaryRow(columns, [7, 'a***@example.com', null, null, 2n ** 64n - 1n, 0.5, tm(false, 0, 1, 2, 3), Buffer.from([0, 1, 2]), null]));
    // a MYSQL_TYPE_NULL column holds nothing but NULL
    expect(() => rebuildBinaryRow(payload, f, columns, [undefined, undefined, 5])).toThrow(TypeError);
    expect(rebuildBinaryRow(payload, f, columns, [])).toEqual(payload);
  });

  it('decodes what mysql2 would read (cross-check via its BinaryRow parser)', () => {
    const cols = [
      { type: ColumnType.Long, flags: 0 },
      { type: ColumnType.VarString, flags: 0 },
    ];
    const payload = encodeBinaryRow(cols, [-12, 'hey']);
    const f = scanBinaryRow(payload, cols);
    expect(binaryRowValue(payload, f, cols, 0)).toBe(-12);
    // mysql2's Packet reads our layout the same way
    const p = m2Packet(payload);
    p.readInt8();
    p.skip(1);
    expect(p.readSInt32()).toBe(-12);
    expect(p.readLengthCodedString('utf8')).toBe('hey');
  });

  it('refuses a wrong header, short bitmap and trailing bytes', () => {
    const payload = encodeBinaryRow(columns, values);
    const bad = Buffer.from(payload);
    bad[0] = 1;
    expect(() => scanBinaryRow(bad, columns)).toThrow(ProtocolError);
    expect(() => scanBinaryRow(Buffer.concat([payload, Buffer.from([0])]), columns)).toThrow(ProtocolError);
    expect(() => scanBinaryRow(payload.subarray(0, 2), columns)).toThrow(ProtocolError);
  });

  const typed = fc.oneof(
    fc.integer({ min: -128, max: 127 }).map((v) => [{ type: ColumnType.Tiny, flags: 0 }, v] as const),
    fc.integer({ min: 0, max: 65535 }).map((v) => [{ type: ColumnType.Short, flags: ColumnFlag.Unsigned }, v] as const),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => [{ type: ColumnType.Long, flags: 0 }, v] as const),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((v) => [{ type: ColumnType.LongLong, flags: 0 }, v] as const),
    fc.double({ noNaN: true }).map((v) => [{ type: ColumnType.Double, flags: 0 }, v] as const),
    fc.string().map((v) => [{ type: ColumnType.VarString, flags: 0 }, Buffer.from(v)] as const),
    fc.record({ year: fc.nat(9999), month: fc.nat(12), day: fc.nat(31), hour: fc.nat(23), minute: fc.nat(59), second: fc.nat(59), microsecond: fc.nat(999999) }).map((v) => [{ type: ColumnType.DateTime, flags: 0 }, v] as const),
    fc.record({ negative: fc.boolean(), days: fc.nat(34), hours: fc.nat(23), minutes: fc.nat(59), seconds: fc.nat(59), microseconds: fc.nat(999999) }).map((v) => [{ type: ColumnType.Time, flags: 0 }, v] as const),
    fc.constant([{ type: ColumnType.Blob, flags: 0 }, null] as const),
  );

  it('property: encode → scan → decode round-trips, and rebuild equals re-encoding', () => {
    fc.assert(
      fc.property(fc.array(typed, { minLength: 1, maxLength: 20 }), fc.array(fc.boolean(), { maxLength: 20 }), (cells, nullify) => {
        const cols = cells.map(([c]) => c);
        const vals = cells.map(([, v]) => v as BinaryValue | null);
        const p = encodeBinaryRow(cols, vals);
        const f = scanBinaryRow(p, cols);
        expect(cols.map((_, i) => binaryRowValue(p, f, cols, i))).toEqual(vals);
        const repl = nullify.slice(0, cols.length).map((n) => (n ? null : undefined));
        const expected = vals.map((v, i) => (repl[i] === null ? null : v));
        expect(rebuildBinaryRow(p, f, cols, repl)).toEqual(encodeBinaryRow(cols, expected));
      }),
    );
  });

  it('property: random bytes throw only ProtocolError', () => {
    for (const cols of [columns, columns.slice(0, 2), [{ type: ColumnType.Time, flags: 0 }]]) {
      expectOnlyProtocolErrors((p) => scanBinaryRow(p, cols), [0]);
    }
    for (const t of [ColumnType.Date, ColumnType.Time, ColumnType.Long, ColumnType.Blob]) {
      expectOnlyProtocolErrors((p) => binaryValueEnd(p, 0, p.length, t), [], 500);
    }
  });

  it('every MYSQL_TYPE has a binary layout', () => {
    for (let t = 0; t < 256; t++) expect([BinaryLayout.Lenenc, BinaryLayout.Fixed, BinaryLayout.Temporal, BinaryLayout.Empty]).toContain(binaryLayout(t));
  });
});

describe('LOCAL INFILE request', () => {
  it('is 0xFB and the file name', () => {
    expect(decodeSplitEverywhere(encodeLocalInfileRequest('/tmp/x.csv'), decodeLocalInfileRequest).toString()).toBe('/tmp/x.csv');
    expectOnlyProtocolErrors(decodeLocalInfileRequest);
  });
});
