/**
 * The PostgreSQL parser (libpg_query compiled to WASM), held as a small pool of instances so that
 * the proxy survives any input.
 *
 * What was measured on libpg-query 18.1.5 (see the tests in pg-wasm.test.ts):
 * - syntax errors, "memory exhausted" (bison stack) and plpgsql compile errors come back as values
 *   through libpg_query's own error path; they leak nothing and leave the instance healthy;
 * - deep left-recursive expressions (`1+1+...` ×10k, `x::int` ×10k, 10k-term UNION chains) overflow
 *   the native stack inside the WASM code and throw a RangeError; the trap unwinds past libpg_query's
 *   cleanup, leaking the parse's memory context (25–100 MB each), and after ~45 such traps the
 *   instance is corrupt for good ("null function or function signature mismatch", then "memory
 *   access out of bounds" on every call, including `SELECT 1`).
 *
 * Hence the rule here: any exception thrown while WASM code runs retires that instance at once (no
 * further call is made on it, not even to free memory), and a pre-warmed spare takes over
 * synchronously; a new spare is built in the background (≈10 ms from the compiled module). An
 * instance whose linear memory has grown past `maxHeapBytes` (after a legitimately huge statement)
 * is retired the same way, so memory is returned to the OS. When no instance is ready (two crashes
 * within ~10 ms) calls fail with ParserUnavailable, which the analyzer turns into a `parser_failure`
 * (denied): fail closed, never wait.
 *
 * We drive the emscripten module directly (the factory in libpg-query/wasm/libpg-query.js, the same
 * exports and struct layout its own wrapper uses) because the package's wrapper keeps a single
 * module-private instance that can never be replaced.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

interface EmscriptenModule {
  _malloc(n: number): number;
  _free(p: number): void;
  _wasm_parse_query_raw(p: number): number;
  _wasm_free_parse_result(p: number): void;
  _wasm_parse_plpgsql(p: number): number;
  _wasm_fingerprint(p: number): number;
  _wasm_normalize_query(p: number): number;
  _wasm_scan(p: number): number;
  _wasm_free_string(p: number): void;
  lengthBytesUTF8(s: string): number;
  stringToUTF8(s: string, p: number, max: number): void;
  UTF8ToString(p: number): string;
  getValue(p: number, type: 'i32'): number;
  HEAPU8: Uint8Array;
}

type Factory = (moduleArg: Record<string, unknown>) => Promise<EmscriptenModule>;

/** The slice of the WebAssembly global used here (the project's lib settings do not declare it). */
type WasmModule = object;
type WasmInstance = object;
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Instance: new (module: WasmModule, imports: object) => WasmInstance;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The WASM code threw (a trap, a stack overflow, an abort): the instance that ran it is gone. */
export class ParserCrash extends Error {
  constructor(
    message: string,
    /** the trap was a native stack overflow: the input nests too deeply for the parser */
    readonly stackOverflow: boolean,
  ) {
    super(message);
    this.name = 'ParserCrash';
  }
}

/** No parser instance is ready (still loading, or replacing crashed ones). */
export class ParserUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParserUnavailable';
  }
}

export type RawParse = { ok: true; json: string } | { ok: false; message: string; /** 1-based character position, 0 when unknown */ cursorpos: number };

export type RawText = { ok: true; text: string } | { ok: false; message: string };

export interface PgParserStats {
  /** an instance is ready to serve a call */
  ready: boolean;
  instancesCreated: number;
  /** instances retired because WASM code threw */
  crashes: number;
  /** instances retired because their memory grew past maxHeapBytes */
  recycledForMemory: number;
  /** calls refused because no instance was ready */
  unavailable: number;
  lastCrash?: string;
}

export interface PgParserPoolOptions {
  /** warm instances kept besides the active one (default 1) */
  spares?: number;
  /** retire an instance whose WASM memory grew past this (default 256 MiB; instances start at 128 MiB) */
  maxHeapBytes?: number;
}

interface Instance {
  readonly m: EmscriptenModule;
  readonly id: number;
}

const silent = (): void => {};

function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    const name = 'name' in e && typeof e.name === 'string' ? e.name : 'Error';
    return `${name}: ${String(e.message)}`;
  }
  return String(e);
}

function isStackOverflow(e: unknown): boolean {
  // compare by name, not instanceof: jest runs tests in another realm
  return !!e && typeof e === 'object' && 'name' in e && e.name === 'RangeError' && /call stack/i.test(String((e as Error).message));
}

export class PgParserPool {
  private readonly spares: number;
  private readonly maxHeapBytes: number;
  private compiled: WasmModule | undefined;
  private factory: Factory | undefined;
  private active: Instance | undefined;
  private readonly warm: Instance[] = [];
  private refilling = 0;
  private initPromise: Promise<void> | undefined;
  private nextId = 1;
  private readonly counters = { instancesCreated: 0, crashes: 0, recycledForMemory: 0, unavailable: 0 };
  private lastCrash: string | undefined;
  private waiters: (() => void)[] = [];

  constructor(opts: PgParserPoolOptions = {}) {
    this.spares = Math.max(0, opts.spares ?? 1);
    this.maxHeapBytes = opts.maxHeapBytes ?? 256 * 1024 * 1024;
  }

  /** Compiles the WASM once and builds the active instance and its spares. Idempotent. */
  init(): Promise<void> {
    if (!this.initPromise) {
      this.initPromise = (async () => {
        const require = createRequire(import.meta.url);
        this.factory = require('libpg-query/wasm/libpg-query.js') as Factory;
        this.compiled = await WA.compile(readFileSync(require.resolve('libpg-query/wasm/libpg-query.wasm')));
        const made = await Promise.all(Array.from({ length: 1 + this.spares }, () => this.create()));
        for (const inst of made) if (!this.active || this.warm.length < this.spares) this.added(inst);
        this.refill();
      })();
      // a failed load may be retried by calling init() again
      this.initPromise.catch(() => {
        this.initPromise = undefined;
      });
    }
    return this.initPromise;
  }

  /** Resolves once an instance is ready (after init, or after replacing crashed ones). */
  async ready(): Promise<void> {
    await this.init();
    if (this.active || this.warm.length > 0) return;
    this.refill();
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private added(inst: Instance): void {
    if (!this.active) this.active = inst;
    else this.warm.push(inst);
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  stats(): PgParserStats {
    return { ready: this.active !== undefined || this.warm.length > 0, ...this.counters, ...(this.lastCrash ? { lastCrash: this.lastCrash } : {}) };
  }

  /** Runs `fn` on a healthy instance. Throws ParserUnavailable, or ParserCrash after retiring the instance. */
  run<T>(fn: (m: EmscriptenModule) => T): T {
    let inst = this.active;
    if (!inst) {
      inst = this.warm.shift();
      this.active = inst;
      this.refill();
      if (!inst) {
        this.counters.unavailable++;
        if (!this.initPromise) void this.init().catch(silent);
        throw new ParserUnavailable(this.initPromise && this.counters.instancesCreated === 0 ? 'the parser is still loading' : 'the parser is restarting after a failure');
      }
    }
    let out: T;
    try {
      out = fn(inst.m);
    } catch (e) {
      this.retire(inst);
      this.counters.crashes++;
      this.lastCrash = describe(e);
      throw new ParserCrash(this.lastCrash, isStackOverflow(e));
    }
    if (inst.m.HEAPU8.length > this.maxHeapBytes) {
      this.retire(inst);
      this.counters.recycledForMemory++;
    }
    return out;
  }

  private retire(inst: Instance): void {
    if (this.active === inst) this.active = this.warm.shift();
    this.refill();
  }

  private refill(): void {
    if (!this.compiled) return;
    const want = (this.active ? 0 : 1) + this.spares - this.warm.length - this.refilling;
    for (let i = 0; i < want; i++) {
      this.refilling++;
      this.create().then(
        (inst) => {
          this.refilling--;
          this.added(inst);
        },
        () => {
          this.refilling--;
          // try again later rather than spin
          setTimeout(() => this.refill(), 1000).unref();
        },
      );
    }
  }

  private async create(): Promise<Instance> {
    const compiled = this.compiled;
    const factory = this.factory;
    if (!compiled || !factory) throw new Error('parser not compiled');
    const m = await factory({
      print: silent,
      printErr: silent,
      instantiateWasm(imports: object, receive: (i: WasmInstance, m: WasmModule) => void) {
        receive(new WA.Instance(compiled, imports), compiled);
        return {};
      },
    });
    const inst = { m, id: this.nextId++ };
    // canary: a fresh instance must parse a known statement to the known tree
    const r = parseRaw(m, 'SELECT 1');
    if (!r.ok || !r.json.includes('"SelectStmt"')) throw new Error('parser canary failed');
    this.counters.instancesCreated++;
    return inst;
  }
}

function allocString(m: EmscriptenModule, s: string): number {
  const len = m.lengthBytesUTF8(s) + 1;
  const p = m._malloc(len);
  if (!p) throw new Error('WASM malloc failed');
  m.stringToUTF8(s, p, len);
  return p;
}

/** raw_parser() → JSON parse tree text, or the parser's error. Frees everything on the normal paths. */
export function parseRaw(m: EmscriptenModule, sql: string): RawParse {
  const p = allocString(m, sql);
  const res = m._wasm_parse_query_raw(p);
  m._free(p);
  if (!res) throw new Error('libpg_query returned no result (out of memory)');
  const tree = m.getValue(res, 'i32');
  const err = m.getValue(res + 8, 'i32');
  let out: RawParse;
  if (err) {
    const msgPtr = m.getValue(err, 'i32');
    out = { ok: false, message: msgPtr ? m.UTF8ToString(msgPtr) : 'unknown parser error', cursorpos: m.getValue(err + 16, 'i32') };
  } else if (!tree) {
    out = { ok: false, message: 'no parse tree', cursorpos: 0 };
  } else {
    out = { ok: true, json: m.UTF8ToString(tree) };
  }
  m._wasm_free_parse_result(res);
  return out;
}

function stringCall(m: EmscriptenModule, fn: (p: number) => number, s: string): string {
  const p = allocString(m, s);
  const res = fn(p);
  m._free(p);
  if (!res) throw new Error('libpg_query returned no result (out of memory)');
  const text = m.UTF8ToString(res);
  m._wasm_free_string(res);
  return text;
}

/** PL/pgSQL compile of a CREATE FUNCTION / DO statement → JSON, or the compiler's error message. */
export function parsePlpgsqlRaw(m: EmscriptenModule, sql: string): RawText {
  const text = stringCall(m, (p) => m._wasm_parse_plpgsql(p), sql);
  return text.startsWith('{') ? { ok: true, text } : { ok: false, message: text };
}

/** libpg_query fingerprint (16 hex digits), or the error. */
export function fingerprintRaw(m: EmscriptenModule, sql: string): RawText {
  const text = stringCall(m, (p) => m._wasm_fingerprint(p), sql);
  return /^[0-9a-f]{16}$/.test(text) ? { ok: true, text } : { ok: false, message: text };
}

/** libpg_query normalize (constants → $n). Only called on text that parsed, so errors are not expected. */
export function normalizeRaw(m: EmscriptenModule, sql: string): RawText {
  const text = stringCall(m, (p) => m._wasm_normalize_query(p), sql);
  return /^(syntax error|memory exhausted|ERROR|deparse error|unterminated|invalid)/.test(text) ? { ok: false, message: text } : { ok: true, text };
}

/** The scanner's tokens → JSON ({version, tokens:[{start,end,text,tokenType,tokenName,...}]}). */
export function scanRaw(m: EmscriptenModule, sql: string): RawText {
  const text = stringCall(m, (p) => m._wasm_scan(p), sql);
  return text.startsWith('{') ? { ok: true, text } : { ok: false, message: text };
}
