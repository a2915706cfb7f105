import fc from 'fast-check';
import {
  COPY_BINARY_SIGNATURE,
  copyFieldValue,
  CopyFormatError,
  CopyRowKind,
  CopyRowReader,
  decodeCopyResponse,
  encodeCopyField,
  encodeCsvField,
  encodeTextField,
  rewriteCopyRow,
  type CopyFormat,
} from './copy-data.js';

const TEXT: CopyFormat = { kind: 'text', delimiter: 0x09, null: Buffer.from('\\N'), header: false };
const CSV: CopyFormat = { kind: 'csv', delimiter: 0x2c, quote: 0x22, escape: 0x22, null: Buffer.alloc(0), header: false, forceQuote: null };
const BINARY: CopyFormat = { kind: 'binary' };

type Value = string | null;
interface Decoded {
  kind: CopyRowKind;
  values: Value[];
  raw: string;
}

/** Rows as the server writes them (header, if any, excluded), from values. */
function encodeRows(format: CopyFormat, rows: Value[][]): Buffer {
  const parts: Buffer[] = [];
  if (format.kind === 'binary') {
    const head = Buffer.alloc(19);
    COPY_BINARY_SIGNATURE.copy(head, 0);
    parts.push(head);
  }
  for (const row of rows) {
    if (format.kind === 'binary') {
      const n = Buffer.alloc(2);
      n.writeInt16BE(row.length);
      parts.push(n);
      for (const v of row) {
        const len = Buffer.alloc(4);
        len.writeInt32BE(v === null ? -1 : Buffer.byteLength(v));
        parts.push(len);
        if (v !== null) parts.push(Buffer.from(v));
      }
      continue;
    }
    const fields = row.map((v) => {
      if (v === null) return format.null;
      const b = Buffer.from(v);
      return format.kind === 'text' ? encodeTextField(b, format.delimiter) : encodeCsvField(b, format, false, row.length === 1);
    });
    parts.push(Buffer.concat(fields.flatMap((f, i) => (i === 0 ? [f] : [Buffer.from([format.delimiter]), f]))), Buffer.from('\n'));
  }
  if (format.kind === 'binary') parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

/** Feeds `data` cut at `cuts` (sorted offsets) and returns every row decoded. */
function readAll(format: CopyFormat, columns: number, data: Buffer, cuts: number[] = [], maxRowBytes = 1 << 20): Decoded[] {
  const reader = new CopyRowReader(format, columns, maxRowBytes);
  const out: Decoded[] = [];
  let at = 0;
  for (const cut of [...cuts, data.length]) {
    // each payload is a fresh copy: the reader must not keep views into it
    const payload = Buffer.from(data.subarray(at, cut));
    reader.push(payload, (row) => {
      const values: Value[] = [];
      if (row.kind === CopyRowKind.Tuple) for (let i = 0; i < row.count; i++) values.push(copyFieldValue(format, row, i)?.toString() ?? null);
      out.push({ kind: row.kind, values, raw: row.buf.toString('latin1', row.start, row.end) });
    });
    payload.fill(0x7e);
    at = cut;
  }
  reader.finish();
  return out;
}

function tuples(rows: Decoded[]): Value[][] {
  return rows.filter((r) => r.kind === CopyRowKind.Tuple).map((r) => r.values);
}

const AWKWARD: Value[][] = [
  ['1', 'plain', null],
  ['2', 'tab\there, newline\nthere, cr\rback\\slash', ''],
  ['3', 'comma, "quoted" and \\N', '\\.'],
  ['4', 'é ü 😀 — multibyte', 'a\bb\fc\vd'],
];

describe('COPY rows: text format', () => {
  const data = encodeRows(TEXT, AWKWARD);

  it('reads fields back exactly, NULL apart from the text \\N', () => {
    expect(tuples(readAll(TEXT, 3, data))).toEqual(AWKWARD);
    // the escaped forms the server writes
    expect(data.toString()).toContain('tab\\there, newline\\nthere, cr\\rback\\\\slash');
    expect(data.toString()).toContain('\\\\N');
  });

  it('gives the same rows when the data is split at every byte offset, and byte by byte', () => {
    for (let cut = 0; cut <= data.length; cut++) expect(tuples(readAll(TEXT, 3, data, [cut]))).toEqual(AWKWARD);
    expect(tuples(readAll(TEXT, 3, data, Array.from({ length: data.length }, (_, i) => i)))).toEqual(AWKWARD);
  });

  it('reads whole CopyData messages in place (payload from offset 5), rows spanning messages included', () => {
    for (let cut = 1; cut < data.length; cut++) {
      const reader = new CopyRowReader(TEXT, 3, 1 << 20);
      const got: Value[][] = [];
      for (const part of [data.subarray(0, cut), data.subarray(cut)]) {
        const msg = Buffer.concat([Buffer.from([0x64, 0, 0, 0, 0]), part]);
        msg.writeInt32BE(msg.length - 1, 1);
        reader.push(
          msg,
          (row) => {
            // rows inside the message are views into it, past its header
            if (row.buf === msg) expect(row.start).toBeGreaterThanOrEqual(5);
            got.push(Array.from({ length: row.count }, (_, i) => copyFieldValue(TEXT, row, i)?.toString() ?? null));
          },
          5,
        );
      }
      reader.finish();
      expect(got).toEqual(AWKWARD);
    }
  });

  it('reads octal and hex escapes as COPY FROM does', () => {
    const rows = readAll(TEXT, 2, Buffer.from('\\101\\x42\\x4\\7x\\q\t\\xz\n'));
    expect(tuples(rows)).toEqual([['AB\x04\x07xq', 'xz']]);
  });

  it('honours a custom delimiter and NULL string, and a header line', () => {
    const f: CopyFormat = { kind: 'text', delimiter: 0x7c, null: Buffer.from('NULL'), header: true };
    const rows = readAll(f, 2, Buffer.from('id|na\\|me\n1|a\\|b\n2|NULL\n'));
    expect(rows[0]).toMatchObject({ kind: CopyRowKind.Header, raw: 'id|na\\|me\n' });
    expect(tuples(rows)).toEqual([
      ['1', 'a|b'],
      ['2', null],
    ]);
  });

  it('refuses rows with the wrong field count, and rows over the limit', () => {
    expect(() => readAll(TEXT, 2, Buffer.from('1\t2\t3\n'))).toThrow(CopyFormatError);
    expect(() => readAll(TEXT, 2, Buffer.from('1\n'))).toThrow(CopyFormatError);
    expect(() => readAll(TEXT, 1, Buffer.from('x'.repeat(100) + '\n'), [10, 20, 30], 50)).toThrow(/larger than 50/);
    expect(() => readAll(TEXT, 1, Buffer.from('unfinished'))).toThrow(/ended inside a row/);
  });

  it('reads zero-column rows', () => {
    expect(tuples(readAll(TEXT, 0, Buffer.from('\n\n')))).toEqual([[], []]);
  });
});

describe('COPY rows: CSV format', () => {
  const data = encodeRows(CSV, AWKWARD);

  it('reads fields back exactly; an empty string is quoted, NULL is not', () => {
    expect(tuples(readAll(CSV, 3, data))).toEqual(AWKWARD);
    expect(data.toString()).toContain('1,plain,\n');
    expect(data.toString()).toContain('"comma, ""quoted"" and \\N"');
    expect(data.toString()).toMatch(/,""\n/);
  });

  it('gives the same rows when split at every byte offset, and byte by byte', () => {
    for (let cut = 0; cut <= data.length; cut++) expect(tuples(readAll(CSV, 3, data, [cut]))).toEqual(AWKWARD);
    expect(tuples(readAll(CSV, 3, data, Array.from({ length: data.length }, (_, i) => i)))).toEqual(AWKWARD);
  });

  it('custom DELIMITER, QUOTE, ESCAPE and NULL, with a header', () => {
    const f: CopyFormat = { kind: 'csv', delimiter: 0x3b, quote: 0x27, escape: 0x5c, null: Buffer.from('NIL'), header: true, forceQuote: null };
    const rows: Value[][] = [
      ['it\'s', 'semi;colon', null],
      ['back\\slash', 'NIL', 'multi\nline'],
    ];
    const body = encodeRows(f, rows);
    expect(body.toString()).toContain("'it\\'s';'semi;colon';NIL\n");
    // the escape character alone does not make a field quoted (as the server writes it)
    expect(body.toString()).toContain("\nback\\slash;'NIL';'multi\nline'\n");
    const all = Buffer.concat([Buffer.from("a;'b;c';d\n"), body]);
    for (let cut = 0; cut <= all.length; cut++) {
      const got = readAll(f, 3, all, [cut]);
      expect(got[0]).toMatchObject({ kind: CopyRowKind.Header, raw: "a;'b;c';d\n" });
      expect(tuples(got)).toEqual(rows);
    }
  });

  it('quotes \\. alone in a single-column row, and a value equal to the NULL string', () => {
    expect(encodeCsvField(Buffer.from('\\.'), CSV as never, false, true).toString()).toBe('"\\."');
    expect(encodeCsvField(Buffer.from('\\.'), CSV as never, false, false).toString()).toBe('\\.');
    expect(encodeCsvField(Buffer.alloc(0), CSV as never, false, false).toString()).toBe('""');
    expect(encodeCsvField(Buffer.from('x'), CSV as never, true, false).toString()).toBe('"x"');
  });
});

describe('COPY rows: binary format', () => {
  const rows: Value[][] = [
    ['1', 'one', null],
    ['', 'two\0with nul', 'x'.repeat(300)],
  ];
  const data = encodeRows(BINARY, rows);

  it('reads header, tuples (NULL apart from empty) and trailer', () => {
    const got = readAll(BINARY, 3, data);
    expect(got.map((r) => r.kind)).toEqual([CopyRowKind.Header, CopyRowKind.Tuple, CopyRowKind.Tuple, CopyRowKind.Trailer]);
    expect(tuples(got)).toEqual(rows);
  });

  it('gives the same rows when split at every byte offset', () => {
    for (let cut = 0; cut <= data.length; cut++) expect(tuples(readAll(BINARY, 3, data, [cut]))).toEqual(rows);
    expect(tuples(readAll(BINARY, 3, data, Array.from({ length: data.length }, (_, i) => i)))).toEqual(rows);
  });

  it('skips a header extension and refuses unknown critical flags, bad signatures, wrong counts and data after the trailer', () => {
    const ext = Buffer.concat([COPY_BINARY_SIGNATURE, Buffer.from([0, 0, 0, 0, 0, 0, 0, 3, 9, 9, 9]), data.subarray(19)]);
    expect(tuples(readAll(BINARY, 3, ext))).toEqual(rows);
    const oids = Buffer.from(data);
    oids.writeInt32BE(1 << 16, 11);
    expect(() => readAll(BINARY, 3, oids)).toThrow(CopyFormatError);
    const sig = Buffer.from(data);
    sig[3] = 0x41;
    expect(() => readAll(BINARY, 3, sig)).toThrow(CopyFormatError);
    expect(() => readAll(BINARY, 2, data)).toThrow(CopyFormatError);
    expect(() => readAll(BINARY, 3, Buffer.concat([data, Buffer.from([0])]))).toThrow(CopyFormatError);
    expect(() => readAll(BINARY, 3, data.subarray(0, data.length - 1))).toThrow(/ended inside a row/);
  });
});

describe('COPY rows: rewriting fields', () => {
  it.each([
    ['text', TEXT],
    ['csv', CSV],
    ['binary', BINARY],
  ] as const)('%s: replaced fields read back as the new values, the others unchanged', (_name, format) => {
    const data = encodeRows(format, AWKWARD);
    const rewritten: Buffer[] = [];
    const reader = new CopyRowReader(format, 3, 1 << 20);
    reader.push(data, (row) => {
      if (row.kind !== CopyRowKind.Tuple) {
        rewritten.push(Buffer.from(row.buf.subarray(row.start, row.end)));
        return;
      }
      const fields = [undefined, encodeCopyField(format, row, 1, Buffer.from('new\t"value",\n\\')), copyFieldValue(format, row, 2) === null ? undefined : encodeCopyField(format, row, 2, null)];
      rewritten.push(rewriteCopyRow(format, row, fields));
    });
    reader.finish();
    const want = AWKWARD.map((r) => [r[0]!, 'new\t"value",\n\\', null]);
    expect(tuples(readAll(format, 3, Buffer.concat(rewritten)))).toEqual(want);
  });
});

describe('COPY rows: properties', () => {
  const special = fc.constantFrom('\t', '\n', '\r', '\\', '"', "'", ',', ';', '|', '.', 'N', 'x', '0', '7', '\b', '\v', '\f', '\0', 'é', '😀');
  const value = fc.option(fc.string({ unit: fc.oneof(special, fc.string({ minLength: 1, maxLength: 1 })), maxLength: 40 }), { nil: null });
  const formats = fc.constantFrom<CopyFormat>(
    TEXT,
    CSV,
    BINARY,
    { kind: 'text', delimiter: 0x2c, null: Buffer.from('NULL'), header: false },
    { kind: 'csv', delimiter: 0x09, quote: 0x27, escape: 0x5c, null: Buffer.from('\\N'), header: false, forceQuote: null },
  );

  it('encode → split anywhere → read gives the values back', () => {
    fc.assert(
      fc.property(formats, fc.integer({ min: 1, max: 4 }), fc.array(fc.array(value, { minLength: 4, maxLength: 4 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (format, columns, rows4, rawCuts) => {
        let rows = rows4.map((r) => r.slice(0, columns));
        // text: a value equal to a custom NULL string is ambiguous in the format itself (the server writes both alike)
        if (format.kind === 'text') rows = rows.map((r) => r.map((v) => (v !== null && Buffer.from(v).equals(format.null) ? `${v}x` : v)));
        const data = encodeRows(format, rows);
        const cuts = [...new Set(rawCuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        expect(tuples(readAll(format, columns, data, cuts))).toEqual(rows);
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes: the reader throws nothing but CopyFormatError', () => {
    fc.assert(
      fc.property(formats, fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 4 }), (format, columns, bytes, rawCuts) => {
        const data = Buffer.from(bytes);
        // binary: start from a valid header so that the tuple reader is exercised too
        const input = format.kind === 'binary' && rawCuts.length % 2 === 0 ? Buffer.concat([COPY_BINARY_SIGNATURE, Buffer.alloc(8), data]) : data;
        const cuts = [...new Set(rawCuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
        try {
          readAll(format, columns, input, cuts, 64);
        } catch (e) {
          expect(e).toBeInstanceOf(CopyFormatError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('CopyOutResponse', () => {
  it('decodes the overall format and the column formats', () => {
    const f = Buffer.from([0x48, 0, 0, 0, 11, 1, 0, 2, 0, 1, 0, 1]);
    expect(decodeCopyResponse(f)).toEqual({ format: 1, columnFormats: [1, 1] });
  });
});
