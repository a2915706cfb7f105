/**
 * Detector findings inside JSON documents (json, jsonb) and Postgres arrays in text format: the
 * replacement is written as a JSON string or a quoted element (escaped), values are scanned as what
 * they stand for (escapes decoded), and the result is valid JSON / a valid array with the same
 * structure, whatever the value and whatever the replacement.
 */
import fc from 'fast-check';
import { findPII, redactSpansBuffer, redactSpansJson, redactSpansPgArray, type SpanReplacement } from './detectors.js';

// Built from parts so that secret scanners do not flag this file.
const j = (...parts: string[]) => parts.join('');
const PEM = j('-----BEGIN RSA ', 'PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF\n-----END RSA ', 'PRIVATE KEY-----');

/** Values each detector finds standalone (checked below), to plant in documents. */
const PII = ['alice.secret@example.com', '4111 1111 1111 1111', '078-05-1120', 'GB82WEST12345698765432', j('AKIA', 'IOSFODNN7EXAMPLE'), 'bob@corp.example.org'];

const mask = (doc: string, replacement: SpanReplacement = '[redacted]'): string => redactSpansJson(Buffer.from(doc, 'utf8'), undefined, replacement).toString('utf8');

/** Every string (keys too) and number of a parsed document, as text. */
function leaves(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number') out.push(String(v));
  else if (Array.isArray(v)) for (const x of v) leaves(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      leaves(x, out);
    }
  }
  return out;
}

describe('detector findings in JSON', () => {
  it('the planted values are found standalone (the properties below test something)', () => {
    for (const p of PII) expect(findPII(p).length).toBeGreaterThan(0);
    expect(findPII(PEM).length).toBeGreaterThan(0);
  });

  it.each([
    ['a quote', '"'],
    ['a backslash', '\\'],
    ['a trailing backslash', 'x\\'],
    ['a key injection', '", "admin": true, "x": "'],
    ['control characters', '\u0000\n\t\u001f'],
    ['a lone surrogate', '\ud800'],
    ['JSON structure', '}]{['],
  ])('a replacement holding %s is escaped: valid JSON, no new keys', (_name, replacement) => {
    const doc = '{"e": "mail alice.secret@example.com now", "n": 1}';
    const out = mask(doc, replacement);
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['e', 'n']);
    expect(parsed.e).toBe(`mail ${replacement} now`);
    expect(parsed.n).toBe(1);
  });

  it('a replacement function gets the value found, decoded, and its output is escaped', () => {
    const seen: string[] = [];
    const out = mask('["x bob\\u0040corp.example.org y"]', (d, found) => {
      seen.push(`${d}:${found}`);
      return '"\\';
    });
    expect(seen).toEqual(['email:bob@corp.example.org']);
    expect(JSON.parse(out)).toEqual(['x "\\ y']);
  });

  it('escapes are decoded before scanning: an address written with \\u escapes is found', () => {
    // json keeps the text as written; to_json / jsonb write the characters themselves
    for (const doc of ['{"e": "alice.secret\\u0040example.com"}', '{"e": "alice\\u002esecret@example\\u002ecom"}', '{"e": "alice.secret@\\u0065xample.com"}', '{"e": "alice.secret\\u0040example.com \\/ x"}']) {
      const out = mask(doc);
      expect((JSON.parse(out) as { e: string }).e).toMatch(/^\[redacted\]( \/ x)?$/);
    }
  });

  it('a finding that spans an escape sequence is replaced whole, leaving no dangling escape', () => {
    const out = mask('{"k": "line\\nalice.secret@example.com\\ttab", "q": "say \\"bob@corp.example.org\\""}');
    // the text scan reads `\nalice...` as one address: the newline it cut into goes with it
    expect(JSON.parse(out)).toEqual({ k: 'line[redacted]\ttab', q: 'say "[redacted]"' });
  });

  it('a private key block with \\n escapes is found in the decoded string', () => {
    const doc = JSON.stringify({ key: PEM, note: 'ok' });
    expect(doc).toContain('\\n');
    const out = JSON.parse(mask(doc)) as { key: string; note: string };
    expect(out).toEqual({ key: '[redacted]', note: 'ok' });
  });

  it('a finding in a key is replaced too; a finding in a number turns it into a string', () => {
    expect(JSON.parse(mask('{"alice.secret@example.com": 1}'))).toEqual({ '[redacted]': 1 });
    expect(JSON.parse(mask('{"card": 4111111111111111, "n": 42}'))).toEqual({ card: '[redacted]', n: 42 });
  });

  it('a finding of the text scan that crosses tokens replaces every token it touches', () => {
    // a key block split over array elements: each piece alone is not a key block
    const pieces = PEM.split('\n');
    const doc = `[${pieces.map((p) => JSON.stringify(p)).join(',')}, "after"]`;
    const out = JSON.parse(mask(doc)) as string[];
    expect(out[out.length - 1]).toBe('after');
    for (const p of pieces.slice(1, -1)) expect(out).not.toContain(p);
    expect(out.join('')).not.toContain('MIIE');
  });

  it('nothing found: the same Buffer back', () => {
    const b = Buffer.from('{"a": [1, 2.5e3, -4], "b": "plain \\"text\\" \\u00e9", "c": null, "d": true}');
    expect(redactSpansJson(b)).toBe(b);
  });

  it('text (not JSON) keeps its replacement as it is', () => {
    expect(redactSpansBuffer(Buffer.from('mail bob@corp.example.org'), undefined, '"').toString()).toBe('mail "');
  });
});

// ─── properties ──────────────────────────────────────────────────────────────────────────────

/** A tiny deterministic generator for the serializer's choices. */
function chooser(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** JSON text of a value with random escapes (`\uXXXX`, `\/`, short escapes) and random whitespace, as json keeps it. */
function serialize(v: unknown, rnd: () => number): string {
  const ws = (): string => (rnd() < 0.2 ? [' ', '\n', '\t', '  '][Math.floor(rnd() * 4)] : '');
  const str = (s: string): string => {
    let out = '"';
    for (const ch of s) {
      const c = ch.codePointAt(0)!;
      const r = rnd();
      if (ch === '"' || ch === '\\') out += `\\${ch}`;
      else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
      else if (ch === '/' && r < 0.5) out += '\\/';
      else if (r < 0.25) {
        for (let k = 0; k < ch.length; k++) out += `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`;
      } else out += ch;
    }
    return out + '"';
  };
  if (typeof v === 'string') return str(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${ws()}${v.map((x) => serialize(x, rnd)).join(`${ws()},${ws()}`)}${ws()}]`;
  const o = v as Record<string, unknown>;
  return `{${ws()}${Object.keys(o)
    .map((k) => `${str(k)}${ws()}:${ws()}${serialize(o[k], rnd)}`)
    .join(`${ws()},${ws()}`)}${ws()}}`;
}

const SAFE_WORDS = fc.string({ unit: fc.constantFrom(...'abcdefghij klmnop'), maxLength: 12 });
/** A string or key holding a planted value between plain words. */
const planted = fc.tuple(SAFE_WORDS, fc.constantFrom(...PII), SAFE_WORDS).map(([a, p, z]) => `${a} ${p} ${z}`);
/** Any JSON value, some of whose strings, keys and numbers hold planted values. */
const doc = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    planted,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.constant(4111111111111111),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string(), planted), tie('value'), { maxKeys: 5 }),
  ),
})).value;
/** Replacements that JSON must escape, and no digit or `@` (so none can be a finding itself). */
const replacement = fc.string({ unit: fc.constantFrom(...'"\\/{}[],:xy \n\t\u0000\u001f\u2028é😀\ud800'), maxLength: 10 });

describe('properties: masking JSON', () => {
  it('any document, any replacement: the result is valid JSON', () => {
    fc.assert(
      fc.property(doc, fc.integer(), replacement, (v, seed, repl) => {
        const text = serialize(v, chooser(seed));
        expect(() => JSON.parse(text)).not.toThrow();
        const out = mask(text, repl);
        expect(() => JSON.parse(out)).not.toThrow();
      }),
      { seed: 41, numRuns: 1500 },
    );
  });

  it('any document: no planted value survives, however it was escaped', () => {
    fc.assert(
      fc.property(doc, fc.integer(), replacement, (v, seed, repl) => {
        const out = JSON.parse(mask(serialize(v, chooser(seed)), repl)) as unknown;
        for (const leaf of leaves(out)) for (const p of PII) expect(leaf).not.toContain(p);
        expect(leaves(out).join('\n')).not.toContain('4111111111111111');
      }),
      { seed: 42, numRuns: 1500 },
    );
  });

  it('a replacement function with any output (hash, partial, ...) still gives valid JSON', () => {
    fc.assert(
      fc.property(doc, fc.integer(), fc.string(), (v, seed, any) => {
        const out = mask(serialize(v, chooser(seed)), (_d, found) => any + found.slice(-1));
        expect(() => JSON.parse(out)).not.toThrow();
      }),
      { seed: 43, numRuns: 800 },
    );
  });

  it('a document without findings comes back as the same bytes', () => {
    const plain = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        SAFE_WORDS,
        fc.integer({ min: -999, max: 999 }),
        fc.boolean(),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(SAFE_WORDS, tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(plain, fc.integer(), (v, seed) => {
        const b = Buffer.from(serialize(v, chooser(seed)), 'utf8');
        expect(redactSpansJson(b)).toBe(b);
      }),
      { seed: 44, numRuns: 500 },
    );
  });
});

// ─── Postgres arrays ─────────────────────────────────────────────────────────────────────────

type PgArray = (string | null | PgArray)[];

/** A strict parser of Postgres' array output (as a driver reads it); throws on anything malformed. */
function parseArray(text: string): PgArray {
  let i = 0;
  if (text[0] === '[') i = text.indexOf('=') + 1;
  const fail = (why: string): never => {
    throw new Error(`${why} at ${i} in ${JSON.stringify(text)}`);
  };
  const list = (): PgArray => {
    if (text[i] !== '{') fail('expected {');
    i++;
    const out: PgArray = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === '{') out.push(list());
      else if (text[i] === '"') {
        let v = '';
        for (i++; text[i] !== '"'; i++) {
          if (i >= text.length) fail('unterminated element');
          if (text[i] === '\\') i++;
          v += text[i];
        }
        i++;
        out.push(v);
      } else {
        const m = /^[^{}",\\\s]+/.exec(text.slice(i));
        if (!m) fail('expected an element');
        i += m![0].length;
        out.push(m![0] === 'NULL' ? null : m![0]);
      }
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return out;
      } else fail('expected , or }');
    }
  };
  const r = list();
  if (i !== text.length) fail('trailing text');
  return r;
}

/** Postgres' array output of a value: elements quoted when they need it, `"` and `\` escaped. */
function arrayText(a: PgArray): string {
  return `{${a
    .map((e) => {
      if (e === null) return 'NULL';
      if (Array.isArray(e)) return arrayText(e);
      return e === '' || /[{}",\\\s]/.test(e) || /^null$/i.test(e) ? `"${e.replace(/["\\]/g, '\\$&')}"` : e;
    })
    .join(',')}}`;
}

const shape = (a: PgArray): unknown => a.map((e) => (Array.isArray(e) ? shape(e) : e === null ? null : 's'));
const maskArray = (t: string, r: SpanReplacement = '[redacted]'): string => redactSpansPgArray(Buffer.from(t, 'utf8'), undefined, r).toString('utf8');

describe('detector findings in Postgres arrays (text format)', () => {
  it.each([
    ['a quote and a comma', '", x'],
    ['braces', '}{'],
    ['a backslash', '\\'],
    ['NULL', 'NULL'],
  ])('a replacement holding %s stays one element', (_name, replacement) => {
    const out = maskArray('{plain,"write to bob@corp.example.org",alice.secret@example.com,NULL}', replacement);
    expect(parseArray(out)).toEqual(['plain', `write to ${replacement}`, replacement, null]);
  });

  it('escapes are decoded before scanning; dimensions are kept', () => {
    expect(parseArray(maskArray('[0:1]={"say \\"alice.secret@example.com\\"","x\\\\y"}'))).toEqual(['say "[redacted]"', 'x\\y']);
    expect(maskArray('[0:1]={"say \\"alice.secret@example.com\\"","x\\\\y"}')).toMatch(/^\[0:1\]=\{/);
  });

  it('nothing found: the same Buffer back', () => {
    const b = Buffer.from('{a,"b c",{d,NULL},"e \\"q\\""}');
    expect(redactSpansPgArray(b)).toBe(b);
  });

  const words = fc.oneof(fc.string(), SAFE_WORDS, planted);
  const arr = fc.letrec<{ a: PgArray }>((tie) => ({
    a: fc.array(fc.oneof({ depthSize: 'small' }, words, fc.constant(null), tie('a')), { maxLength: 5 }),
  })).a;

  it('property: any array, any replacement: a valid array of the same shape, no planted value left', () => {
    fc.assert(
      fc.property(arr, replacement, (a, repl) => {
        const text = arrayText(a);
        expect(parseArray(text)).toEqual(a);
        const out = parseArray(maskArray(text, repl));
        expect(shape(out)).toEqual(shape(a));
        const flat = JSON.stringify(out);
        for (const p of PII) expect(flat).not.toContain(p);
      }),
      { seed: 45, numRuns: 1500 },
    );
  });
});
