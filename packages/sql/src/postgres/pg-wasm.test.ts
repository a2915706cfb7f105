import { analyzeCore, parserAccess } from './analysis-core.js';
import { ParserCrash, ParserUnavailable, PgParserPool, parseRaw } from './pg-wasm.js';

const REF_SQL = 'SELECT a FROM t WHERE id = 1 AND x IN (SELECT y FROM u)';
/** A left-deep chain that overflows the native stack when parsed in the main thread. */
const CRASHER = 'SELECT ' + Array(60_000).fill('1').join('+');

describe('PgParserPool', () => {
  test('fails closed before init, then serves', async () => {
    const pool = new PgParserPool();
    expect(() => pool.run((m) => parseRaw(m, 'select 1'))).toThrow(ParserUnavailable);
    await pool.ready();
    expect(pool.run((m) => parseRaw(m, 'select 1')).ok).toBe(true);
    expect(pool.stats()).toMatchObject({ ready: true, crashes: 0 });
  });

  test('an exception in WASM retires the instance and the spare takes over at once', async () => {
    const pool = new PgParserPool({ spares: 1 });
    await pool.init();
    const ref = pool.run((m) => parseRaw(m, REF_SQL));
    expect(() =>
      pool.run(() => {
        throw new RangeError('Maximum call stack size exceeded');
      }),
    ).toThrow(ParserCrash);
    // synchronously, without waiting for a replacement
    expect(pool.run((m) => parseRaw(m, REF_SQL))).toEqual(ref);
    expect(pool.stats()).toMatchObject({ crashes: 1 });
  });

  test('a real stack overflow in the parser is a ParserCrash flagged as such', async () => {
    const pool = new PgParserPool();
    await pool.init();
    let err: unknown;
    try {
      pool.run((m) => parseRaw(m, CRASHER));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParserCrash);
    expect((err as ParserCrash).stackOverflow).toBe(true);
  });

  test('survives many crashes in a row (an instance alone is corrupt after ~45) and still parses correctly', async () => {
    const pool = new PgParserPool({ spares: 1 });
    await pool.init();
    const ref = pool.run((m) => parseRaw(m, REF_SQL));
    for (let i = 0; i < 60; i++) {
      expect(() => pool.run((m) => parseRaw(m, CRASHER))).toThrow(ParserCrash);
      await pool.ready();
      expect(pool.run((m) => parseRaw(m, REF_SQL))).toEqual(ref);
    }
    expect(pool.stats().crashes).toBe(60);
  }, 60_000);

  test('with no instance left, calls fail closed until a replacement is ready', async () => {
    const pool = new PgParserPool({ spares: 0 });
    await pool.init();
    expect(() => pool.run((m) => parseRaw(m, CRASHER))).toThrow(ParserCrash);
    expect(() => pool.run((m) => parseRaw(m, 'select 1'))).toThrow(ParserUnavailable);
    await pool.ready();
    expect(pool.run((m) => parseRaw(m, 'select 1')).ok).toBe(true);
  });

  test('an instance whose memory grew past the limit is replaced', async () => {
    // instances start with 128 MiB of linear memory, so a 64 MiB limit retires each after one call
    const pool = new PgParserPool({ maxHeapBytes: 64 * 1024 * 1024 });
    await pool.init();
    expect(pool.run((m) => parseRaw(m, 'select 1')).ok).toBe(true);
    expect(pool.stats()).toMatchObject({ recycledForMemory: 1, crashes: 0 });
    await pool.ready();
    expect(pool.run((m) => parseRaw(m, 'select 2')).ok).toBe(true);
    expect(pool.stats().recycledForMemory).toBe(2);
  });

  test('the in-thread analysis maps a parser crash to too_complex and keeps working', async () => {
    const pool = new PgParserPool();
    await pool.init();
    const access = parserAccess(pool);
    expect(analyzeCore(CRASHER, access, 1 << 20)).toMatchObject({ ok: false, failure: { kind: 'too_complex' } });
    expect(analyzeCore('DELETE FROM t', access, 1 << 20)).toMatchObject({ ok: true, statements: [{ kind: 'delete', unboundedWrite: true }] });
  });

  test('syntax errors and "memory exhausted" come back as values and leave the instance healthy', async () => {
    const pool = new PgParserPool();
    await pool.init();
    for (let i = 0; i < 200; i++) {
      expect(pool.run((m) => parseRaw(m, 'select from where ((')).ok).toBe(false);
      expect(pool.run((m) => parseRaw(m, 'select ' + '('.repeat(20_000) + '1')).ok).toBe(false);
    }
    expect(pool.stats().crashes).toBe(0);
    expect(pool.run((m) => parseRaw(m, REF_SQL)).ok).toBe(true);
  });
});
