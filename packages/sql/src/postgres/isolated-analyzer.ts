/**
 * Synchronous calls into a worker thread that analyses large statements.
 *
 * Why: in the main thread the WASM parser shares V8's ~1 MB stack, so a left-deep expression of a
 * few thousand terms (`1+1+…`, `x::int::int…`, long UNION chains; ≥ ~10 KB of text) overflows it, and
 * a pathological 1 MiB statement can take seconds. In the worker the parser gets a 256 MB stack
 * (200 000-term chains parse), the main thread can give up after `timeoutMs` and kill it, and a crash
 * or out-of-memory there cannot touch the main thread's parser.
 *
 * How: the main thread posts the request on a MessagePort, blocks in Atomics.wait on a shared
 * counter (with the timeout), then takes the reply with receiveMessageOnPort. Round trip ≈ 45 µs,
 * which is why only statements above `isolateAboveBytes` come here.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { WorkerReply, WorkerRequest } from './pg-analysis-worker.js';

export class IsolatedTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`analysis took longer than ${timeoutMs} ms`);
    this.name = 'IsolatedTimeout';
  }
}

export interface IsolatedAnalyzerOptions {
  /** how long the main thread waits for one answer before killing the worker (default 2000 ms) */
  timeoutMs?: number;
  /** native stack of the worker (default 256 MB, reserved, not committed) */
  stackSizeMb?: number;
  /** JS heap cap of the worker (default 1024 MB) */
  maxOldGenerationSizeMb?: number;
}

export interface IsolatedStats {
  ready: boolean;
  starts: number;
  timeouts: number;
  exits: number;
}

export class IsolatedAnalyzer {
  readonly timeoutMs: number;
  private readonly stackSizeMb: number;
  private readonly maxOldGenerationSizeMb: number;
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private flag: Int32Array | undefined;
  private ready = false;
  private starting: Promise<void> | undefined;
  private nextId = 1;
  private readonly counters = { starts: 0, timeouts: 0, exits: 0 };
  private restartDelayMs = 0;
  private stopped = false;

  constructor(opts: IsolatedAnalyzerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.stackSizeMb = opts.stackSizeMb ?? 256;
    this.maxOldGenerationSizeMb = opts.maxOldGenerationSizeMb ?? 1024;
  }

  stats(): IsolatedStats {
    return { ready: this.ready, ...this.counters };
  }

  /** Starts the worker (idempotent); resolves when it can serve calls. */
  start(): Promise<void> {
    this.stopped = false;
    if (this.ready) return Promise.resolve();
    if (!this.starting) {
      this.starting = this.spawn().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  /** Stops the worker; calls then return undefined (the caller analyses in-thread). */
  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    this.discard();
    if (w) await w.terminate();
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const signal = new SharedArrayBuffer(4);
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./pg-analysis-worker.js', import.meta.url), {
        workerData: { port: port2, signal },
        transferList: [port2],
        resourceLimits: { stackSizeMb: this.stackSizeMb, maxOldGenerationSizeMb: this.maxOldGenerationSizeMb },
      });
      worker.unref();
      port1.unref();
      this.counters.starts++;
      const onReady = (msg: unknown): void => {
        if (msg !== 'ready') return;
        worker.off('message', onReady);
        this.worker = worker;
        this.port = port1;
        this.flag = new Int32Array(signal);
        this.ready = true;
        this.restartDelayMs = 0;
        resolve();
      };
      worker.on('message', onReady);
      worker.once('error', (e) => {
        if (!this.ready || this.worker !== worker) reject(e);
      });
      worker.once('exit', () => {
        if (this.worker === worker) {
          this.counters.exits++;
          this.discard();
          this.scheduleRestart();
        } else if (!this.ready) {
          reject(new Error('analysis worker exited while starting'));
        }
      });
    });
  }

  private discard(): void {
    this.ready = false;
    this.worker = undefined;
    this.port?.close();
    this.port = undefined;
    this.flag = undefined;
  }

  private scheduleRestart(): void {
    if (this.stopped || this.starting) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(5000, Math.max(100, delay * 2));
    const t = setTimeout(() => {
      this.start().catch(() => this.scheduleRestart());
    }, delay);
    t.unref();
  }

  /**
   * Runs one request synchronously. Returns undefined when no worker is ready (the caller falls back
   * to the in-thread parser); throws IsolatedTimeout after killing a worker that took too long.
   */
  call(op: WorkerRequest['op'], sql: string, maxBytes: number): unknown {
    const port = this.port;
    const flag = this.flag;
    const worker = this.worker;
    if (!this.ready || !port || !flag || !worker) {
      if (!this.stopped) this.scheduleRestart();
      return undefined;
    }
    const id = this.nextId++;
    port.postMessage({ id, op, sql, maxBytes } satisfies WorkerRequest);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const seen = Atomics.load(flag, 0);
      // the worker posts its reply before bumping the counter: look after reading it, then wait for a change
      const got = this.take(port, id);
      if (got) return got.result;
      const left = deadline - Date.now();
      if (left <= 0) break;
      Atomics.wait(flag, 0, seen, left);
    }
    this.counters.timeouts++;
    this.discard();
    void worker.terminate();
    this.scheduleRestart();
    throw new IsolatedTimeout(this.timeoutMs);
  }

  private take(port: MessagePort, id: number): WorkerReply | undefined {
    for (;;) {
      const m = receiveMessageOnPort(port);
      if (!m) return undefined;
      const reply = m.message as WorkerReply;
      if (reply.id === id) return reply;
      // a reply to an earlier request is stale: drop it
    }
  }
}
