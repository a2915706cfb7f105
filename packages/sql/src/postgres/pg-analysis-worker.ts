/**
 * Worker-thread entry for analysing large statements in isolation (see isolated-analyzer.ts): its own
 * parser pool, a large native stack, and a thread the main side can kill when a parse runs too long.
 * Requests arrive on the MessagePort handed over in workerData; each reply is posted back on it and
 * signalled through the shared Int32Array so the main thread can wait for it synchronously.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { analyzeCore, fingerprintCore, normalizeCore, parserAccess } from './analysis-core.js';
import { PgParserPool } from './pg-wasm.js';

export interface WorkerRequest {
  id: number;
  op: 'analyze' | 'fingerprint' | 'normalize';
  sql: string;
  maxBytes: number;
}

export interface WorkerReply {
  id: number;
  result: unknown;
}

if (!parentPort) throw new Error('pg-analysis-worker must run in a worker thread');

const { port, signal } = workerData as { port: MessagePort; signal: SharedArrayBuffer };
const flag = new Int32Array(signal);
const pool = new PgParserPool({ spares: 1 });
const access = parserAccess(pool);

async function handle(req: WorkerRequest): Promise<void> {
  let result: unknown;
  try {
    await pool.ready();
    switch (req.op) {
      case 'analyze':
        result = analyzeCore(req.sql, access, req.maxBytes);
        break;
      case 'fingerprint':
        result = fingerprintCore(pool, req.sql);
        break;
      case 'normalize':
        result = normalizeCore(pool, req.sql);
        break;
    }
  } catch (e) {
    result = req.op === 'analyze' ? { ok: false, failure: { kind: 'parser_failure', message: String(e) } } : undefined;
  }
  port.postMessage({ id: req.id, result } satisfies WorkerReply);
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  queue = queue.then(() => handle(req));
});

await pool.init();
parentPort.postMessage('ready');
