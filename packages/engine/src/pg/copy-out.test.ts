import { MaskSet, TypeHint, type ColumnOrigin, type MaskRule } from '@sqlwarden/policy';
import { emptyFacts, type CopyOptionFacts, type StatementFacts } from '@sqlwarden/sql';
import { Backend, COPY_BINARY_SIGNATURE, copyFieldValue, CopyRowKind, CopyRowReader, encodeCsvField, encodeTextField, FrameAction, type CopyFormat, type FieldDescription } from '@sqlwarden/wire-pg';
import type { PgCatalog } from './catalog-cache.js';
import { PgCopyOut, type CopyHost } from './copy-out.js';

function rule(id: string, over: Partial<MaskRule>): MaskRule {
  return { id, file: 'p.yaml', line: 1, who: {}, columns: [], detectors: [], function: 'redact', denyInPredicates: false, ...over };
}

/** A replacement that needs escaping in every format. */
const REPLACEMENT = 'X\t"|;\n\\\'Y';
const MASKS = new MaskSet([
  rule('secret', { columns: ['t.secret'], replacement: REPLACEMENT }),
  rule('notes', { columns: ['t.note'], detectors: ['email'], replacement: '<email>' }),
]);

const FIELDS: FieldDescription[] = [
  { name: 'id', tableOid: 100, attnum: 1, typeOid: 23, typeLen: 4, typeMod: -1, format: 0 },
  { name: 'secret', tableOid: 100, attnum: 2, typeOid: 25, typeLen: -1, typeMod: -1, format: 0 },
  { name: 'note', tableOid: 100, attnum: 3, typeOid: 25, typeLen: -1, typeMod: -1, format: 0 },
];

type Row = [string, string | null, string | null];
const ROWS: Row[] = [
  ['1', 'top secret', 'nothing here'],
  ['2', null, 'mail alice@example.com now'],
  ['3', 'tab\there "q" \\ back;|', null],
  ['4', '', 'no email, just text'],
  ['5', 'multi\nline', 'a\tb "c" bob@corp.example.org'],
  ['6', 'x', 'plain'],
  // rows with nothing to mask, one after the other: passed as runs of their own bytes
  ['7', null, 'plain'],
  ['8', null, null],
  ['9', null, 'also plain'],
  ['10', 'last', 'end'],
];

interface Harness {
  host: CopyHost;
  failed: number;
  refused: number;
  /** what moreAfter answers */
  more: boolean;
  invalidated: number;
  masked: Map<string, number>;
  pending: Promise<void> | null;
}

function harness(describe: () => Promise<FieldDescription[]> = () => Promise.resolve(FIELDS)): Harness {
  const h: Harness = { failed: 0, refused: 0, more: false, invalidated: 0, masked: new Map(), pending: null, host: undefined as unknown as CopyHost };
  const catalog = {
    describe,
    peek: () => undefined,
    invalidate: () => {
      h.invalidated++;
    },
  } as unknown as PgCatalog;
  h.host = {
    masks: () => MASKS,
    catalog,
    load: () => Promise.resolve(),
    origins: (fields) => fields.map((f): ColumnOrigin => ({ columns: [{ table: 't', column: f.name }], wholeRow: [], direct: true })),
    typeHint: (oid) => (oid === 23 ? TypeHint.Int4 : TypeHint.Text),
    lineage: (fields) => fields.map(() => undefined),
    waitFor: (p) => {
      h.pending = p;
    },
    failed: () => {
      h.failed++;
    },
    masked: (r) => {
      h.masked.set(r, (h.masked.get(r) ?? 0) + 1);
    },
    uncertain: () => {},
    violation: (msg) => {
      throw new Error(msg);
    },
    refused: () => {
      h.refused++;
    },
    moreAfter: () => h.more,
  };
  return h;
}

function statement(options: CopyOptionFacts): StatementFacts {
  return { ...emptyFacts('copy', 'CopyStmt'), copy: { direction: 'to', program: false, file: false, stdio: true, query: 'select id, secret, note from t', options } };
}

function copyOutResponse(binary: boolean, columns: number): Buffer {
  const b = Buffer.alloc(8 + 2 * columns);
  b[0] = Backend.CopyOutResponse;
  b.writeInt32BE(b.length - 1, 1);
  b[5] = binary ? 1 : 0;
  b.writeInt16BE(columns, 6);
  for (let i = 0; i < columns; i++) b.writeInt16BE(binary ? 1 : 0, 8 + 2 * i);
  return b;
}

function copyData(payload: Buffer): Buffer {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = Backend.CopyData;
  b.writeInt32BE(4 + payload.length, 1);
  payload.copy(b, 5);
  return b;
}

function formatOf(options: CopyOptionFacts): CopyFormat {
  if (options.format === 'binary') return { kind: 'binary' };
  if (options.format === 'csv') {
    const quote = (options.quote ?? '"').charCodeAt(0);
    return { kind: 'csv', delimiter: (options.delimiter ?? ',').charCodeAt(0), quote, escape: options.escape?.charCodeAt(0) ?? quote, null: Buffer.from(options.null ?? ''), header: options.header === true, forceQuote: null };
  }
  return { kind: 'text', delimiter: (options.delimiter ?? '\t').charCodeAt(0), null: Buffer.from(options.null ?? '\\N'), header: options.header === true };
}

/** The rows of a COPY as the server writes them: one payload per row (header and trailer included). */
function encode(format: CopyFormat, rows: Row[]): Buffer[] {
  const out: Buffer[] = [];
  if (format.kind === 'binary') {
    out.push(Buffer.concat([COPY_BINARY_SIGNATURE, Buffer.alloc(8)]));
    for (const r of rows) {
      const parts = [Buffer.from([0, r.length])];
      r.forEach((v, i) => {
        const len = Buffer.alloc(4);
        if (v === null) len.writeInt32BE(-1);
        else {
          const b = i === 0 ? (() => { const x = Buffer.alloc(4); x.writeInt32BE(Number(v)); return x; })() : Buffer.from(v);
          len.writeInt32BE(b.length);
          parts.push(len, b);
          return;
        }
        parts.push(len);
      });
      out.push(Buffer.concat(parts));
    }
    out.push(Buffer.from([0xff, 0xff]));
    return out;
  }
  const field = (v: string | null): Buffer => {
    if (v === null) return format.null;
    const b = Buffer.from(v);
    return format.kind === 'text' ? encodeTextField(b, format.delimiter) : encodeCsvField(b, format, false, false);
  };
  if (format.header) out.push(Buffer.from(FIELDS.map((f) => f.name).join(String.fromCharCode(format.delimiter)) + '\n'));
  for (const r of rows) out.push(Buffer.concat([...r.flatMap((v, i) => (i === 0 ? [field(v)] : [Buffer.from([format.delimiter]), field(v)])), Buffer.from('\n')]));
  return out;
}

/** Starts a COPY on a fresh PgCopyOut (through the catalog wait), feeds the payloads, returns what the client gets. */
async function run(options: CopyOptionFacts, payloads: Buffer[], h = harness()): Promise<{ out: Buffer; actions: (FrameAction | 'rewritten')[]; copy: PgCopyOut }> {
  const copy = new PgCopyOut(h.host, 1 << 16);
  const resp = copyOutResponse(options.format === 'binary', FIELDS.length);
  expect(copy.onCopyOutResponse(resp, statement(options))).toBe(FrameAction.Pause);
  await h.pending;
  expect(copy.onCopyOutResponse(resp, statement(options))).toBe(FrameAction.Forward);
  const out: Buffer[] = [];
  const actions: (FrameAction | 'rewritten')[] = [];
  for (const p of payloads) {
    const frame = copyData(p);
    const r = copy.onCopyData(frame);
    if (r === FrameAction.Forward) out.push(p);
    else if (r === FrameAction.Drop) {
      // carried into the next message
    } else if (typeof r !== 'number') {
      expect(r[0]).toBe(Backend.CopyData);
      expect(r.readInt32BE(1)).toBe(r.length - 1);
      out.push(r.subarray(5));
    }
    actions.push(typeof r === 'number' ? r : 'rewritten');
    // the input frame is not the proxy's to keep: scribble over it
    frame.fill(0x21);
  }
  expect(copy.onCopyDone()).toBe(FrameAction.Forward);
  return { out: Buffer.concat(out), actions, copy };
}

function decodeAll(format: CopyFormat, data: Buffer): (string | null)[][] {
  const rows: (string | null)[][] = [];
  const reader = new CopyRowReader(format, FIELDS.length, 1 << 20);
  reader.push(data, (row) => {
    if (row.kind !== CopyRowKind.Tuple) return;
    const r: (string | null)[] = [];
    for (let i = 0; i < row.count; i++) {
      const v = copyFieldValue(format, row, i);
      r.push(v === null ? null : i === 0 && format.kind === 'binary' ? String(v.readInt32BE(0)) : v.toString());
    }
    rows.push(r);
  });
  reader.finish();
  return rows;
}

/** Cuts `data` into pieces with a small deterministic generator (sizes 1..span). */
function cutsOf(data: Buffer, seed: number, span: number): Buffer[] {
  const out: Buffer[] = [];
  let x = seed;
  for (let at = 0; at < data.length; ) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (x % span);
    out.push(data.subarray(at, Math.min(data.length, at + n)));
    at += n;
  }
  return out;
}

const OPTIONS: [string, CopyOptionFacts][] = [
  ['text', {}],
  ['text, custom delimiter and NULL', { delimiter: '|', null: '\\N' }],
  ['csv', { format: 'csv' }],
  ['csv with header and custom delimiter, quote, escape, NULL', { format: 'csv', header: true, delimiter: ';', quote: "'", escape: '\\', null: 'NIL' }],
  ['binary', { format: 'binary' }],
];

describe('PgCopyOut: masking COPY rows in the stream', () => {
  it.each(OPTIONS)('%s: masked fields are replaced, re-encoded in the format; everything else is kept', async (_name, options) => {
    const format = formatOf(options);
    const { out } = await run(options, encode(format, ROWS));
    const want = ROWS.map(([id, secret, note]) => [id, secret === null ? null : REPLACEMENT, note === null ? null : note.replace(/\S+@\S+\.(com|org)/g, '<email>')]);
    expect(decodeAll(format, out)).toEqual(want);
  });

  it.each(OPTIONS)('%s: the output is the same however the data is cut into CopyData messages', async (_name, options) => {
    const format = formatOf(options);
    const perRow = encode(format, ROWS);
    const { out: reference } = await run(options, perRow);
    const whole = Buffer.concat(perRow);
    // all in one message, at every single cut, in small random pieces, and byte by byte
    expect((await run(options, [whole])).out.equals(reference)).toBe(true);
    for (let cut = 1; cut < whole.length; cut++) expect((await run(options, [whole.subarray(0, cut), whole.subarray(cut)])).out.equals(reference)).toBe(true);
    for (let seed = 1; seed <= 20; seed++) expect((await run(options, cutsOf(whole, seed, 17))).out.equals(reference)).toBe(true);
    expect((await run(options, cutsOf(whole, 7, 1))).out.equals(reference)).toBe(true);
  });

  it('a message whose rows need no masking is forwarded as it is; one that ends inside a row is held back', async () => {
    const format = formatOf({});
    const rows = encode(format, [
      ['1', null, 'plain'],
      ['2', 'secret', 'plain'],
    ]);
    const { actions } = await run({}, [rows[0]!, rows[1]!.subarray(0, 3), rows[1]!.subarray(3)]);
    expect(actions).toEqual([FrameAction.Forward, FrameAction.Drop, 'rewritten']);
  });

  it('counts masked values by rule', async () => {
    const h = harness();
    await run({}, encode(formatOf({}), ROWS), h);
    expect(Object.fromEntries(h.masked)).toEqual({ secret: 6, notes: 2 });
  });

  it('a COPY with nothing masked is not parsed at all', async () => {
    const h = harness(() => Promise.resolve([FIELDS[0]!, { ...FIELDS[0]!, name: 'other', attnum: 4 }, { ...FIELDS[0]!, name: 'more', attnum: 5 }]));
    const copy = new PgCopyOut(h.host, 16);
    const resp = copyOutResponse(false, 3);
    expect(copy.onCopyOutResponse(resp, statement({}))).toBe(FrameAction.Pause);
    await h.pending;
    expect(copy.onCopyOutResponse(resp, statement({}))).toBe(FrameAction.Forward);
    // not even valid COPY text, and longer than the row limit: passed as it is
    expect(copy.onCopyData(copyData(Buffer.from('x'.repeat(100))))).toBe(FrameAction.Forward);
  });
});

describe('PgCopyOut: fail closed', () => {
  async function refusedAtStart(h: Harness, resp: Buffer, stmt: StatementFacts | undefined): Promise<{ copy: PgCopyOut; error: Buffer }> {
    const copy = new PgCopyOut(h.host, 1 << 16);
    let r = copy.onCopyOutResponse(resp, stmt);
    if (r === FrameAction.Pause) {
      await h.pending;
      r = copy.onCopyOutResponse(resp, stmt);
    }
    expect(typeof r).not.toBe('number');
    return { copy, error: r as Buffer };
  }

  function message(error: Buffer): string {
    expect(error[0]).toBe(Backend.ErrorResponse);
    return error.toString('utf8');
  }

  it('an unknown statement, a query that does not describe, and a column count that differs are refused with 42501', async () => {
    let h = harness();
    let r = await refusedAtStart(h, copyOutResponse(false, 3), undefined);
    expect(message(r.error)).toMatch(/42501[\s\S]*COPY refused/);
    expect(h.failed).toBe(1);

    h = harness(() => Promise.reject(new Error('relation "tt" does not exist')));
    r = await refusedAtStart(h, copyOutResponse(false, 3), statement({}));
    expect(message(r.error)).toMatch(/columns could not be determined \(relation "tt" does not exist\)/);

    h = harness();
    r = await refusedAtStart(h, copyOutResponse(false, 4), statement({}));
    expect(message(r.error)).toMatch(/4 columns do not match the 3/);
    expect(h.invalidated).toBe(1);

    h = harness();
    r = await refusedAtStart(h, copyOutResponse(true, 3), statement({ format: 'csv' }));
    expect(message(r.error)).toMatch(/do not match/);
  });

  it.each<[string, CopyOptionFacts, RegExp]>([
    ['an unknown format', { format: 'json' }, /FORMAT json/],
    ['an ENCODING other than UTF8', { encoding: 'SJIS' }, /ENCODING/],
    ['an ambiguous NULL string in text format', { null: '' }, /NULL string/],
    ['an unreadable option', { unreadable: ['delimiter'] }, /could not be read/],
  ])('%s is refused while a column is masked', async (_name, options, re) => {
    const h = harness();
    const { error } = await refusedAtStart(h, copyOutResponse(false, 3), statement(options));
    expect(message(error)).toMatch(re);
  });

  it('an in-band refusal is reported (counted as blocked); with more of its request still to run, the session ends instead', async () => {
    let h = harness();
    await refusedAtStart(h, copyOutResponse(false, 4), statement({}));
    expect(h.refused).toBe(1);
    h = harness();
    h.more = true;
    await expect(refusedAtStart(h, copyOutResponse(false, 4), statement({}))).rejects.toThrow(/later statements of its request still run/);
  });

  it('planned at the decision point: prepare + precheck refuse before sending, and the CopyOutResponse uses the columns found', async () => {
    let describes = 0;
    const h = harness(() => {
      describes++;
      return Promise.resolve(FIELDS);
    });
    const copy = new PgCopyOut(h.host, 1 << 16);
    const ok = statement({});
    const bad = statement({ encoding: 'LATIN1' });
    expect(copy.copiesToPlan([ok, bad, emptyFacts('select', 'SelectStmt')])).toEqual([ok, bad]);
    expect(copy.precheck(ok)).toBe('unprepared');
    await copy.prepare([ok, bad]);
    expect(copy.precheck(ok)).toBeUndefined();
    expect(copy.precheck(bad)).toMatchObject({ reason: expect.stringMatching(/^COPY refused: .*ENCODING/) as unknown });
    expect(describes).toBe(2);
    // the answer of the prepared COPY needs no second lookup
    expect(copy.onCopyOutResponse(copyOutResponse(false, 3), ok)).toBe(FrameAction.Forward);
    expect(describes).toBe(2);
  });

  it('after a refusal the rest of the answer is dropped up to ReadyForQuery; notices still pass', async () => {
    const h = harness();
    const { copy } = await refusedAtStart(h, copyOutResponse(false, 3), undefined);
    expect(copy.discarding).toBe(true);
    expect(copy.onCopyData(copyData(Buffer.from('1\tsecret\tx\n')))).toBe(FrameAction.Drop);
    expect(copy.onCopyDone()).toBe(FrameAction.Drop);
    expect(copy.discard(Backend.CommandComplete)).toBe(FrameAction.Drop);
    expect(copy.discard(Backend.DataRow)).toBe(FrameAction.Drop);
    expect(copy.discard(Backend.NoticeResponse)).toBeUndefined();
    expect(() => copy.discard(Backend.CopyInResponse)).toThrow(/waits for the client/);
    expect(copy.discard(Backend.ReadyForQuery)).toBeUndefined();
    expect(copy.discarding).toBe(false);
  });

  it('malformed data, a row over the limit, and data that ends inside a row end the COPY with an error', async () => {
    const format = formatOf({});
    const start = async (): Promise<{ copy: PgCopyOut; h: Harness }> => {
      const h = harness();
      const copy = new PgCopyOut(h.host, 64);
      const resp = copyOutResponse(false, 3);
      copy.onCopyOutResponse(resp, statement({}));
      await h.pending;
      expect(copy.onCopyOutResponse(resp, statement({}))).toBe(FrameAction.Forward);
      return { copy, h };
    };
    let { copy } = await start();
    let r = copy.onCopyData(copyData(Buffer.from('1\tonly two\n')));
    expect(message(r as Buffer)).toMatch(/could not be read for masking/);
    expect(copy.discarding).toBe(true);

    ({ copy } = await start());
    expect(copy.onCopyData(copyData(Buffer.from('1\t' + 'x'.repeat(40))))).toBe(FrameAction.Drop);
    r = copy.onCopyData(copyData(Buffer.from('y'.repeat(40))));
    expect(message(r as Buffer)).toMatch(/larger than 64 bytes/);

    ({ copy } = await start());
    expect(copy.onCopyData(copyData(encode(format, ROWS)[0]!.subarray(0, 5)))).toBe(FrameAction.Drop);
    expect(message(copy.onCopyDone() as Buffer)).toMatch(/ended inside a row/);
  });
});
