/**
 * Worker-thread entry of MysqlAnalysisPool (analysis-pool.ts): loads the MySQL grammar, warms its
 * prediction caches, says `ready`, then analyses one statement string per message. The main thread
 * sends at most one request at a time to a worker and terminates it when it overruns the deadline.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Analysis } from '../facts.js';
import { analyzeMysql, initMysqlAnalyzer, type MysqlAnalyzeOptions } from './analyze.js';

/** Faults a test can ask a worker to commit (only when the pool was created with `faultInjection`). */
export type MysqlWorkerFault = 'exit' | 'throw' | 'hang' | 'oom';

export type MysqlWorkerRequest = { id: number; sql: string } | { id: number; fault: MysqlWorkerFault };

export type MysqlWorkerMessage = { type: 'ready' } | { type: 'result'; id: number; analysis: Analysis };

export interface MysqlWorkerData {
  options: MysqlAnalyzeOptions;
  faultInjection: boolean;
}

if (!parentPort) throw new Error('mysql-analysis-worker must run in a worker thread');
const port = parentPort;
const { options, faultInjection } = workerData as MysqlWorkerData;

function commit(fault: MysqlWorkerFault): void {
  switch (fault) {
    case 'exit':
      process.exit(70);
      break;
    case 'throw':
      throw new Error('injected analysis worker fault');
    case 'hang':
      for (;;) {
        // spin until the main thread terminates this worker
      }
    case 'oom': {
      const hoard: unknown[] = [];
      for (;;) hoard.push(new Array(1 << 16).fill({ x: hoard.length }));
    }
  }
}

port.on('message', (req: MysqlWorkerRequest) => {
  let analysis: Analysis;
  if ('fault' in req) {
    if (faultInjection) commit(req.fault);
    analysis = { ok: false, dialect: 'mysql', failure: { kind: 'parser_failure', message: 'fault injection is disabled' } };
  } else {
    analysis = analyzeMysql(req.sql, options);
  }
  try {
    port.postMessage({ type: 'result', id: req.id, analysis } satisfies MysqlWorkerMessage);
  } catch (e) {
    // never expected (facts are plain data), but an answer that cannot cross threads must still fail closed
    const failure = { kind: 'parser_failure' as const, message: `MySQL analysis result could not be sent to the main thread: ${(e as Error)?.message ?? String(e)}` };
    port.postMessage({ type: 'result', id: req.id, analysis: { ok: false, dialect: 'mysql', failure } } satisfies MysqlWorkerMessage);
  }
});

await initMysqlAnalyzer();
port.postMessage({ type: 'ready' } satisfies MysqlWorkerMessage);
