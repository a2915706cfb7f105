import fc from 'fast-check';
import { encodeLenencString as lenencString } from '@sqlwarden/wire-mysql';
import type { MaskFunction } from '../model.js';
import { MYSQL_BINARY_CHARSET, MysqlColumnFlag, MysqlType, mysqlDetectable, type MysqlColumnType } from './mysql-column.js';
import { compileMysqlTextMask, rewriteMysqlTextRow } from './mysql-text.js';
import { MYSQL_COLUMNS, mysql2Text, mysqlTextProblem } from './mysql-test-support.js';

const opts = { hashKey: 'mysql-text-test-key-0123' };
const FUNCTIONS: MaskFunction[] = ['redact', 'partial', 'email', 'hash', 'null'];
const RUNS = { seed: 11, numRuns: 200 };
const mask = (fn: MaskFunction, col: MysqlColumnType, v: string | Buffer, o: object = {}): string | null => {
  const out = compileMysqlTextMask(fn, col, { ...opts, ...o })(typeof v === 'string' ? Buffer.from(v, 'latin1') : v);
  return out === null ? null : out.toString('latin1');
};
const C = (name: string): MysqlColumnType => MYSQL_COLUMNS[name]!.col;

describe('MySQL text values: every masked value is one the server could send, and mysql2 decodes it', () => {
  for (const [name, t] of Object.entries(MYSQL_COLUMNS)) {
    it(name, () => {
      fc.assert(
        fc.property(t.values, fc.constantFrom(...FUNCTIONS), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), (v, fn, first, last) => {
          const out = compileMysqlTextMask(fn, t.col, { ...opts, keepFirst: first, keepLast: last })(v);
          if (fn === 'null') {
            expect(out).toBeNull();
            return;
          }
          const problem = mysqlTextProblem(t.col, out, v);
          if (problem) throw new Error(`${name} ${fn}(${JSON.stringify(v.toString('latin1'))}) = ${JSON.stringify(out?.toString('latin1'))}: ${problem}`);
          // mysql2 (query(), default options and dateStrings) decodes it, to something other than an invalid date
          for (const o of [{}, { dateStrings: true }]) {
            const decoded = mysql2Text(t.col, out, o);
            if (decoded instanceof Date) expect(Number.isNaN(decoded.getTime())).toBe(false);
            if (typeof decoded === 'number') expect(Number.isFinite(decoded)).toBe(true);
          }
        }),
        RUNS,
      );
    });
  }
});

describe('MySQL text values by type', () => {
  it.each<[string, MaskFunction, string, string | null, object?]>([
    // integers: range, sign, width
    ['tinyint', 'redact', '-5', '0'],
    ['tinyint', 'partial', '-5', '0'], // never "-0"
    ['int', 'partial', '-123456', '-000456', { keepLast: 3 }],
    ['int unsigned', 'partial', '4294967295', '0000007295'],
    ['bigint unsigned', 'partial', '18446744073709551615', '00000000000000001615'],
    ['int(6) zerofill', 'redact', '000042', '000000'],
    ['tinyint(1)', 'redact', '1', '0'],
    ['tinyint(1)', 'partial', '1', '0'],
    ['tinyint(1)', 'email', '1', '0'],
    ['year', 'redact', '2024', '1970'],
    ['year', 'partial', '2024', '1970'],
    // decimals keep the scale
    ['decimal(10,2)', 'redact', '-12.50', '0.00'],
    ['decimal(10,2)', 'partial', '-12.50', '00.00'], // the digits' shape, without the sign of zero
    ['decimal(10,2)', 'partial', '123456.78', '000056.78', { keepLast: 4 }],
    ['decimal(5,0) unsigned', 'redact', '5', '0'],
    ['float', 'redact', '3.14', '0'],
    ['double', 'partial', '-1.5e-7', '0.0e-0'],
    // temporal: MySQL's forms, the column's fraction digits, TIMESTAMP's range
    ['date', 'redact', '2024-02-29', '1970-01-01'],
    ['date', 'partial', '2024-02-29', '2024-01-01', { keepFirst: 4, keepLast: 0 }],
    ['datetime', 'redact', '2024-02-29 12:34:56', '1970-01-01 00:00:00'],
    ['datetime(3)', 'redact', '2024-02-29 12:34:56.789', '1970-01-01 00:00:00.000'],
    ['datetime(6)', 'partial', '2024-02-29 12:34:56.123456', '1970-01-01 00:00:00.003456', { keepLast: 4 }],
    ['timestamp', 'redact', '2024-02-29 12:34:56', '1970-01-02 00:00:00'],
    ['timestamp(6)', 'redact', '2024-02-29 12:34:56.000001', '1970-01-02 00:00:00.000000'],
    ['time', 'redact', '-838:59:59', '00:00:00'],
    ['time', 'partial', '-838:59:59', '00:00:00'],
    ['time(2)', 'redact', '12:34:56.78', '00:00:00.00'],
    ['time(2)', 'partial', '12:34:56.78', '00:00:06.78', { keepLast: 4 }],
    // BIT: the same number of bytes, no bits above the width
    ['bit(3)', 'redact', '\u0005', '\u0000'],
    ['bit(64)', 'redact', '\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008', '\u0000'.repeat(8)],
    // JSON and strings
    ['json', 'redact', '{"a": 1}', '"[redacted]"'],
    ['json (MariaDB extended metadata)', 'redact', '{"a": 1}', '"[redacted]"'],
    ['json', 'email', '"alice@example.com"', '"****@example.com"'],
    ['varchar(255)', 'email', 'alice@example.com', '****@example.com'],
    ['varchar(255)', 'partial', 'abcdefghij', '******ghij'],
    ["enum('a','b')", 'redact', 'a', '[redacted]'],
    ["set('x','y')", 'redact', 'x,y', '[redacted]'],
    // bytes: never longer than the column, partial counts bytes
    ['varbinary(16)', 'redact', '\u00ff\u00fe', '[redacted]'],
    ['binary(4)', 'redact', '\u00ff\u00fe\u00fd\u00fc', '[red'],
    ['binary(4)', 'hash', '\u00ff\u00fe\u00fd\u00fc', null],
    ['varbinary(16)', 'partial', '\u00ff\u00fe\u00fd\u00fc\u00fb\u00fa\u00f9\u00f8\u00f7\u00f6', '******\u00f9\u00f8\u00f7\u00f6'],
    // not text: NULL whatever the function
    ['geometry', 'redact', '\u0000\u0000\u0000\u0000\u0001\u0001\u0000\u0000\u0000', null],
    ['geometry', 'hash', '\u0000\u0000\u0000\u0000\u0001\u0001\u0000\u0000\u0000', null],
    ['uuid (MariaDB)', 'redact', '550e8400-e29b-41d4-a716-446655440000', '00000000-0000-0000-0000-000000000000'],
  ])('%s %s(%j) = %j', (name, fn, input, expected, o = {}) => {
    const out = mask(fn, C(name), input, o);
    if (name === 'binary(4)' && fn === 'hash') {
      expect(out).toMatch(/^h_[0-9a-f]{2}$/);
      return;
    }
    expect(out).toBe(expected);
  });

  it('hash: equal values mask alike, the output fits the column, signed and UNSIGNED alike', () => {
    for (const name of ['tinyint', 'tinyint unsigned', 'smallint', 'mediumint unsigned', 'int', 'bigint unsigned']) {
      const a = mask('hash', C(name), '42');
      expect(a).toBe(mask('hash', C(name), '42'));
      expect(mysqlTextProblem(C(name), Buffer.from(a!), Buffer.from('42'))).toBeUndefined();
      // the same value in a signed and an unsigned column of the same width hashes alike
      const other = name.endsWith('unsigned') ? name.replace(' unsigned', '') : `${name} unsigned`;
      if (MYSQL_COLUMNS[other]) expect(mask('hash', C(other), '42')).toBe(a);
    }
    // TINYINT(1): a boolean stays a boolean
    expect(['0', '1']).toContain(mask('hash', C('tinyint(1)'), '1'));
  });

  it('TIMESTAMP: hashed dates are folded into the range every session time zone accepts', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = mask('hash', C('timestamp'), s);
        expect(mysqlTextProblem(C('timestamp'), Buffer.from(out!, 'latin1'), Buffer.from(s))).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('NULL: the null function and the NULL type give NULL; so does every function on GEOMETRY and unknown types', () => {
    for (const t of Object.values(MYSQL_COLUMNS)) expect(mask('null', t.col, '1')).toBeNull();
    for (const fn of FUNCTIONS) {
      expect(mask(fn, { type: MysqlType.Null }, '')).toBeNull();
      expect(mask(fn, { type: MysqlType.Geometry, characterSet: 63 }, 'x')).toBeNull();
      expect(mask(fn, { type: MysqlType.Vector, characterSet: 63 }, 'x')).toBeNull();
      expect(mask(fn, { type: 0x77 }, 'x')).toBeNull();
    }
  });

  it('hash needs a key', () => {
    expect(() => compileMysqlTextMask('hash', C('int'), {})).toThrow(/key/);
    expect(() => compileMysqlTextMask('hash', C('varbinary(16)'), {})).toThrow(/key/);
  });
});

describe('which MySQL columns detectors scan', () => {
  it.each<[string, boolean]>([
    ['varchar(255)', true],
    ['text', true],
    ["enum('a','b')", true],
    ['json', true], // MySQL reports JSON as charset 63; it is utf8mb4 text
    ['json (MariaDB extended metadata)', true],
    ['varbinary(16)', false],
    ['binary(4)', false],
    ['blob', false],
    ['bit(3)', false],
    ['geometry', false],
    ['int', false],
    ['datetime', false],
  ])('%s: %s', (name, expected) => {
    expect(mysqlDetectable(C(name))).toBe(expected);
  });

  it('the same string type in the binary character set is not scanned', () => {
    expect(mysqlDetectable({ type: MysqlType.VarString, characterSet: 224 })).toBe(true);
    expect(mysqlDetectable({ type: MysqlType.VarString, characterSet: MYSQL_BINARY_CHARSET, flags: MysqlColumnFlag.Binary })).toBe(false);
    // MariaDB's BINARY_FLAG on a utf8mb4 column (JSON, _bin collations) does not make it bytes
    expect(mysqlDetectable({ type: MysqlType.Blob, characterSet: 224, flags: MysqlColumnFlag.Binary | MysqlColumnFlag.Blob })).toBe(true);
  });
});

describe('rewriteMysqlTextRow', () => {
  const row = (...vs: (string | null)[]): Buffer => Buffer.concat(vs.map((v) => (v === null ? Buffer.from([0xfb]) : lenencString(Buffer.from(v, 'utf8')))));
  const redact = compileMysqlTextMask('redact', C('varchar(255)'));
  const nul = compileMysqlTextMask('null', C('varchar(255)'));

  it('rewrites only the masked fields, writes 0xfb for NULL and keeps NULLs', () => {
    expect(rewriteMysqlTextRow(row('a', 'secret', null, 'b'), 4, [undefined, redact, redact, null])).toEqual(row('a', '[redacted]', null, 'b'));
    expect(rewriteMysqlTextRow(row('a', 'secret'), 2, [nul, undefined])).toEqual(row(null, 'secret'));
  });

  it('returns the same payload when nothing changed', () => {
    const r = row('a', 'b');
    expect(rewriteMysqlTextRow(r, 2, [])).toBe(r);
    expect(rewriteMysqlTextRow(r, 2, [(v) => v, undefined])).toBe(r);
  });

  it('handles every length prefix size', () => {
    for (const n of [0, 250, 251, 65535, 65536, 70000]) {
      const v = 'x'.repeat(n);
      const out = rewriteMysqlTextRow(row('a', v), 2, [redact, undefined]);
      expect(out).toEqual(row('[redacted]', v));
      const grown = rewriteMysqlTextRow(row(v), 1, [() => Buffer.alloc(n + 300, 0x79)]);
      expect(grown).toEqual(row('y'.repeat(n + 300)));
    }
  });

  it('refuses payloads that are not a row of that many fields', () => {
    expect(rewriteMysqlTextRow(row('a'), 2, [redact, redact])).toBeNull();
    expect(rewriteMysqlTextRow(Buffer.concat([row('a'), Buffer.from([1])]), 1, [redact])).toBeNull();
    expect(rewriteMysqlTextRow(Buffer.from([5, 0x61]), 1, [redact])).toBeNull();
    expect(rewriteMysqlTextRow(Buffer.from([0xff]), 1, [redact])).toBeNull();
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 5 }), (u, n) => {
        const r = rewriteMysqlTextRow(Buffer.from(u), n, new Array(n).fill(redact));
        expect(r === null || Buffer.isBuffer(r)).toBe(true);
      }),
      RUNS,
    );
  });
});
