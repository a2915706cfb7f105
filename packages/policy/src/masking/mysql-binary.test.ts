import fc from 'fast-check';
import { encodeLenencString as lenencString } from '@sqlwarden/wire-mysql';
import type { MaskFunction } from '../model.js';
import {
  compileMysqlBinaryMask,
  mysqlBinaryFieldEnd,
  mysqlBinaryIsString,
  mysqlBinaryToText,
  mysqlTextToBinary,
  rewriteMysqlBinaryRow,
} from './mysql-binary.js';
import { MysqlColumnFlag, MysqlType, mysqlValueKind, MysqlValueKind, type MysqlColumnType } from './mysql-column.js';
import { compileMysqlTextMask } from './mysql-text.js';
import { MYSQL_COLUMNS, mysql2Binary, mysql2Text, mysqlTextProblem } from './mysql-test-support.js';

const opts = { hashKey: 'mysql-binary-test-key-01' };
const FUNCTIONS: MaskFunction[] = ['redact', 'partial', 'email', 'hash', 'null'];
const RUNS = { seed: 13, numRuns: 200 };
const C = (name: string): MysqlColumnType => MYSQL_COLUMNS[name]!.col;
const hex = (b: Buffer | null | undefined): string => (b ? b.toString('hex') : String(b));
const text = (s: string): Buffer => Buffer.from(s, 'latin1');
const noTrailingZeros = (s: string): string => s.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
const opaque = (col: MysqlColumnType): boolean => [MysqlValueKind.Opaque, MysqlValueKind.Null].includes(mysqlValueKind(col));

describe('MySQL binary codecs', () => {
  it.each<[string, string, string]>([
    ['tinyint', '-1', 'ff'],
    ['tinyint unsigned', '255', 'ff'],
    ['smallint', '-2', 'feff'],
    ['smallint unsigned', '65535', 'ffff'],
    ['mediumint', '-8388608', '000080ff'], // INT24 travels in 4 bytes
    ['int', '42', '2a000000'],
    ['int unsigned', '4294967295', 'ffffffff'],
    ['bigint', '-1', 'ffffffffffffffff'],
    ['bigint unsigned', '18446744073709551615', 'ffffffffffffffff'],
    ['year', '2024', 'e807'],
    ['year', '0000', '0000'],
    ['float', '1.5', '0000c03f'],
    ['double', '1.5', '000000000000f83f'],
    ['date', '2024-02-29', '04e807021d'],
    ['datetime', '2024-02-29 00:00:00', '04e807021d'],
    ['datetime', '2024-02-29 12:34:56', '07e807021d0c2238'],
    ['datetime(6)', '2024-02-29 12:34:56.000001', '0be807021d0c223801000000'],
    ['datetime(3)', '2024-02-29 12:34:56.500', '0be807021d0c223820a10700'],
    ['timestamp', '1970-01-02 00:00:00', '04b2070102'],
    ['time', '00:00:00', '00'],
    ['time', '-838:59:59', '080122000000163b3b'],
    ['time(2)', '25:00:00.50', '0c000100000001000020a10700'],
    ['decimal(10,2)', '-12.50', '062d31322e3530'],
    ['varchar(255)', 'ab', '026162'],
    ['int(6) zerofill', '000042', '2a000000'],
    ['bit(3)', '\u0005', '0105'],
  ])('%s %s ⇄ %s', (name, t, bin) => {
    const col = C(name);
    expect(hex(mysqlTextToBinary(col, text(t)))).toBe(bin);
    expect(mysqlBinaryToText(col, Buffer.from(bin, 'hex'))?.toString('latin1')).toBe(t);
    expect(mysqlBinaryFieldEnd(col.type, Buffer.from(bin + 'ffff', 'hex'), 0)).toBe(bin.length / 2);
  });

  it('decodes zero dates and times of every length as the text protocol sends them', () => {
    expect(mysqlBinaryToText(C('date'), Buffer.from('00', 'hex'))?.toString()).toBe('0000-00-00');
    expect(mysqlBinaryToText(C('datetime(3)'), Buffer.from('00', 'hex'))?.toString()).toBe('0000-00-00 00:00:00.000');
    expect(mysqlBinaryToText(C('time(2)'), Buffer.from('00', 'hex'))?.toString()).toBe('00:00:00.00');
    expect(mysqlBinaryToText({ type: MysqlType.DateTime, decimals: 0x27 }, Buffer.from('0be807021d0c223820a10700', 'hex'))?.toString()).toBe('2024-02-29 12:34:56.5');
  });

  it('refuses fields that are not the type', () => {
    expect(mysqlBinaryToText(C('int'), Buffer.alloc(3))).toBeUndefined();
    expect(mysqlBinaryToText(C('datetime'), Buffer.from('05e807021d00', 'hex'))).toBeUndefined();
    expect(mysqlBinaryToText(C('time'), Buffer.from('0802000000000000000000', 'hex').subarray(0, 9))).toBeUndefined(); // is_negative = 2
    expect(mysqlBinaryToText(C('varchar(255)'), Buffer.from('0561', 'hex'))).toBeUndefined();
    expect(mysqlBinaryToText({ type: MysqlType.Null }, Buffer.alloc(0))).toBeUndefined();
    expect(mysqlTextToBinary(C('tinyint'), text('128'))).toBeUndefined();
    expect(mysqlTextToBinary(C('tinyint unsigned'), text('-1'))).toBeUndefined();
    expect(mysqlTextToBinary(C('bigint unsigned'), text('18446744073709551616'))).toBeUndefined();
    expect(mysqlTextToBinary(C('time'), text('839:00:00'))).toBeUndefined();
    expect(mysqlTextToBinary(C('datetime'), text('2024-02-29T12:34:56'))).toBeUndefined();
    expect(mysqlTextToBinary(C('datetime'), text('2024-02-29 12:34:56+00'))).toBeUndefined();
    expect(mysqlBinaryFieldEnd(MysqlType.Long, Buffer.alloc(3), 0)).toBe(-1);
    expect(mysqlBinaryFieldEnd(MysqlType.VarString, Buffer.from('fc0001', 'hex'), 0)).toBe(-1);
  });

  for (const [name, t] of Object.entries(MYSQL_COLUMNS)) {
    if (opaque(t.col)) continue;
    it(`${name}: text → binary → text keeps the value, and mysql2 reads our binary as it reads the text`, () => {
      fc.assert(
        fc.property(t.values, (v) => {
          const bin = mysqlTextToBinary(t.col, v);
          expect(bin).toBeDefined();
          expect(mysqlBinaryFieldEnd(t.col.type, bin!, 0)).toBe(bin!.length);
          const back = mysqlBinaryToText(t.col, bin!);
          if (t.col.type === MysqlType.Double || t.col.type === MysqlType.Float) expect(Number(back!.toString())).toBe(Number(v.toString()));
          else expect(hex(back)).toBe(hex(v));
          if (mysqlBinaryIsString(t.col.type)) return;
          // numbers and dates: mysql2's execute() and query() parsers see the same value
          const fromBinary = mysql2Binary(t.col, bin!, { dateStrings: true });
          const fromText = mysql2Text(t.col, v, { dateStrings: true });
          if (t.col.type === MysqlType.Float) expect(Math.fround(fromBinary as number)).toBe(Math.fround(fromText as number));
          else if (t.col.type === MysqlType.Year) expect(Number(fromBinary)).toBe(Number(fromText));
          // mysql2 prints the fraction the server sent (none when the microseconds are 0), the text protocol the column's digits
          else if (typeof fromBinary === 'string' && /:/.test(fromBinary)) expect(noTrailingZeros(fromBinary)).toBe(noTrailingZeros(String(fromText)));
          else expect(String(fromBinary)).toBe(String(fromText));
        }),
        RUNS,
      );
    });
  }
});

describe('MySQL binary-protocol masking', () => {
  for (const [name, t] of Object.entries(MYSQL_COLUMNS)) {
    it(`${name}: masked fields decode, are valid values, and equal the text protocol's mask`, () => {
      fc.assert(
        fc.property(t.values, fc.constantFrom(...FUNCTIONS), fc.integer({ min: 0, max: 6 }), (v, fn, keep) => {
          const o = { ...opts, keepLast: keep };
          const field = opaque(t.col) ? lenencString(v) : mysqlTextToBinary(t.col, v)!;
          const out = compileMysqlBinaryMask(fn, t.col, o)(field);
          if (fn === 'null' || opaque(t.col)) {
            expect(out).toBeNull();
            return;
          }
          expect(out).not.toBeNull();
          expect(mysqlBinaryFieldEnd(t.col.type, out!, 0)).toBe(out!.length);
          const back = mysqlBinaryToText(t.col, out!);
          expect(back).toBeDefined();
          const problem = mysqlTextProblem(t.col, back!, v);
          if (problem) throw new Error(`${name} ${fn}: ${hex(field)} → ${hex(out)}: ${problem}`);
          // the same as masking the text value (hash joins across protocols); floats print differently
          const viaText = compileMysqlTextMask(fn, t.col, o)(v);
          if (mysqlValueKind(t.col) === MysqlValueKind.Integer) expect(BigInt(back!.toString())).toBe(BigInt(viaText!.toString())); // no digit shape in binary
          else if (t.col.type !== MysqlType.Float && t.col.type !== MysqlType.Double) expect(hex(back)).toBe(hex(viaText));
          // mysql2's binary parser decodes the field
          const decoded = mysql2Binary(t.col, out!);
          if (decoded instanceof Date) expect(Number.isNaN(decoded.getTime())).toBe(false);
          if (typeof decoded === 'number') expect(Number.isFinite(decoded)).toBe(true);
        }),
        RUNS,
      );
    });
  }

  it('integers keep their width and signedness', () => {
    const col = C('tinyint unsigned');
    const out = compileMysqlBinaryMask('partial', col, { keepLast: 1 })(Buffer.from([255]));
    expect(hex(out)).toBe('05'); // 255 → 005
    expect(hex(compileMysqlBinaryMask('redact', C('bigint'))(Buffer.alloc(8, 0xff)))).toBe('0000000000000000');
    expect(hex(compileMysqlBinaryMask('redact', C('mediumint'))(Buffer.alloc(4, 0xff)))).toBe('00000000');
    const h = compileMysqlBinaryMask('hash', C('bigint unsigned'), opts)(Buffer.alloc(8, 0xff))!;
    expect(h.length).toBe(8);
    expect(h.readBigUInt64LE(0) < 2n ** 63n).toBe(true);
  });

  it('a field that does not decode masks to NULL (fail closed)', () => {
    expect(compileMysqlBinaryMask('hash', C('int'), opts)(Buffer.alloc(3))).toBeNull();
    expect(compileMysqlBinaryMask('redact', C('int'))(Buffer.alloc(3))).toBeNull();
    expect(compileMysqlBinaryMask('partial', C('varchar(255)'))(Buffer.from('0561', 'hex'))).toBeNull();
  });

  it('redact of fixed-size types is a constant; of strings, a length-encoded string', () => {
    const a = compileMysqlBinaryMask('redact', C('datetime(3)'));
    expect(hex(a(Buffer.from('07e807021d0c2238', 'hex')))).toBe(hex(mysqlTextToBinary(C('datetime(3)'), text('1970-01-01 00:00:00.000'))));
    expect(hex(compileMysqlBinaryMask('redact', C('timestamp'))(Buffer.from('04e807021d', 'hex')))).toBe('04b2070102');
    expect(compileMysqlBinaryMask('redact', C('varchar(255)'))(lenencString(text('x')))?.toString('latin1')).toBe('\u000a[redacted]');
  });
});

describe('rewriteMysqlBinaryRow', () => {
  const cols = [C('int'), C('varchar(255)'), C('datetime'), C('bigint unsigned')];
  const row = (bitmap: number, ...fields: Buffer[]): Buffer => Buffer.concat([Buffer.from([0x00, bitmap]), ...fields]);
  const f = {
    int: mysqlTextToBinary(cols[0]!, text('7'))!,
    str: lenencString(text('alice@example.com')),
    dt: mysqlTextToBinary(cols[2]!, text('2024-02-29 12:34:56'))!,
    big: mysqlTextToBinary(cols[3]!, text('18446744073709551615'))!,
  };

  it('rewrites masked fields, sets the NULL bit (offset 2) for NULL results, keeps NULL columns', () => {
    const email = compileMysqlBinaryMask('email', cols[1]!);
    const nul = compileMysqlBinaryMask('null', cols[0]!);
    // column 2 (datetime) is NULL: bit 4
    const out = rewriteMysqlBinaryRow(row(0x10, f.int, f.str, f.big), cols, [nul, email, email, undefined])!;
    expect(out[1]).toBe(0x10 | 0x04);
    expect(out.subarray(2)).toEqual(Buffer.concat([lenencString(text('****@example.com')), f.big]));
    // and mysql2 reads the row
    expect(rewriteMysqlBinaryRow(out, cols, [])).toBe(out);
  });

  it('returns the same payload when nothing changed', () => {
    const r = row(0, f.int, f.str, f.dt, f.big);
    expect(rewriteMysqlBinaryRow(r, cols, [undefined, (v) => v])).toBe(r);
  });

  it('null bitmaps of many columns', () => {
    const many = new Array<MysqlColumnType>(20).fill(C('tinyint'));
    const bitmap = Buffer.alloc(3);
    const values = Buffer.from(Array.from({ length: 20 }, (_, i) => i));
    const r = Buffer.concat([Buffer.from([0]), bitmap, values]);
    const nul = compileMysqlBinaryMask('null', C('tinyint'));
    const out = rewriteMysqlBinaryRow(r, many, Object.assign(new Array(20).fill(undefined), { 19: nul, 5: nul }))!;
    // column 5 → bit 7 of byte 0; column 19 → bit 21 → byte 2, bit 5
    expect([...out.subarray(1, 4)]).toEqual([0x80, 0x00, 0x20]);
    expect(out.length).toBe(r.length - 2);
  });

  it('refuses payloads that are not such a row', () => {
    expect(rewriteMysqlBinaryRow(row(0, f.int), cols, [])).toBeNull();
    expect(rewriteMysqlBinaryRow(Buffer.concat([row(0, f.int, f.str, f.dt, f.big), Buffer.from([0])]), cols, [])).toBeNull();
    expect(rewriteMysqlBinaryRow(Buffer.from([0xfe, 0]), [C('int')], [])).toBeNull();
    expect(rewriteMysqlBinaryRow(Buffer.from([0, 0, 1, 2, 3, 4]), [{ type: MysqlType.Null }], [])).toBeNull();
  });

  it('never throws on random bytes', () => {
    const types = Object.values(MYSQL_COLUMNS).map((t) => t.col);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.constantFrom(...types), { maxLength: 6 }), fc.constantFrom(...FUNCTIONS), (u, cs, fn) => {
        const r = rewriteMysqlBinaryRow(Buffer.from([0, ...u]), cs, cs.map((c) => compileMysqlBinaryMask(fn, c, opts)));
        expect(r === null || Buffer.isBuffer(r)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a row mysql2 decodes after masking', () => {
    const unsignedBig = { ...cols[3]!, flags: MysqlColumnFlag.Unsigned };
    const out = rewriteMysqlBinaryRow(row(0, f.int, f.str, f.dt, f.big), [cols[0]!, cols[1]!, cols[2]!, unsignedBig], [
      compileMysqlBinaryMask('hash', cols[0]!, opts),
      compileMysqlBinaryMask('email', cols[1]!),
      compileMysqlBinaryMask('redact', cols[2]!),
      compileMysqlBinaryMask('partial', unsignedBig),
    ])!;
    // decode the whole row with the helper's single-column reader, field by field
    let o = 2;
    const values: unknown[] = [];
    for (const c of [cols[0]!, cols[1]!, cols[2]!, unsignedBig]) {
      const end = mysqlBinaryFieldEnd(c.type, out, o);
      values.push(mysql2Binary(c, out.subarray(o, end), { dateStrings: true, bigNumberStrings: true }));
      o = end;
    }
    expect(typeof values[0]).toBe('number');
    expect(values[1]).toBe('****@example.com');
    expect(values[2]).toBe('1970-01-01 00:00:00');
    expect(values[3]).toBe('1615');
  });
});
