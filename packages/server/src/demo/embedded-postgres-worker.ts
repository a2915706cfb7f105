/**
 * Worker-thread entry of the embedded Postgres. PGlite runs every statement synchronously on the
 * thread that calls it (a 10M-row generate_series blocks for seconds), so it lives here, away from
 * the proxy's event loop: a slow demo query must not freeze the proxy, its admin API or its timers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddedPgServer, type EmbeddedPgServerOptions } from './embedded-pg-server.js';

export type WorkerRequest = { type: 'stop' };
export type WorkerReply =
  | { type: 'ready'; host: string; port: number; maxConnections: number; busyTimeoutMs: number }
  | { type: 'failed'; message: string }
  | { type: 'log'; message: string }
  | { type: 'stopped' };

const port = parentPort;
if (!port) throw new Error('embedded-postgres-worker must run in a worker thread');
const post = (m: WorkerReply): void => port.postMessage(m);

const opts = workerData as Omit<EmbeddedPgServerOptions, 'log'>;
const starting = EmbeddedPgServer.start({ ...opts, log: (message) => post({ type: 'log', message }) });

port.on('message', (m: WorkerRequest) => {
  if (m.type !== 'stop') return;
  void (async () => {
    // a stop that arrives while PGlite is still starting waits for it, so nothing is left running
    const server = await starting.catch(() => undefined);
    await server?.stop().catch((e: unknown) => post({ type: 'log', message: `embedded postgres stop: ${String(e)}` }));
    post({ type: 'stopped' });
    port.close();
  })();
});

try {
  const server = await starting;
  post({ type: 'ready', host: server.host, port: server.port, maxConnections: server.maxConnections, busyTimeoutMs: server.busyTimeoutMs });
} catch (e) {
  post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  port.close();
}
