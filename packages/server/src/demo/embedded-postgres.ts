import { Worker } from 'node:worker_threads';
import { DEMO_SCHEMA_SQL } from './demo-schema.js';
import { EmbeddedPgServer, type EmbeddedPgServerOptions } from './embedded-pg-server.js';
import type { WorkerReply, WorkerRequest } from './embedded-postgres-worker.js';

/**
 * The embedded Postgres of `sqlwarden demo`: an in-memory PGlite seeded with the demo schema
 * (demo-schema.ts), served over TCP through pglite-socket, by default in a worker thread.
 *
 * What a client (the proxy) should know:
 * - any user, password and database name are accepted (no authentication); the session is always
 *   user `postgres` in database `postgres`; SSLRequest is answered 'N' (no TLS);
 * - connections share ONE Postgres backend. Batches (up to Sync) and transactions never interleave,
 *   but while one connection is inside a transaction the others wait; after `busyTimeoutMs` a
 *   waiting statement fails with SQLSTATE 55P03 (the connection stays usable);
 * - session state is shared between concurrent connections: SET, prepared statement names (two
 *   connections preparing "s1" collide), temp tables, LISTEN (a notification is delivered to
 *   whichever connection runs the next statement). It is reset when the last connection closes;
 * - CancelRequest does nothing and statement_timeout is not enforced: a statement runs to its end;
 * - COPY FROM STDIN works over the simple query protocol (data is buffered, up to 64 MiB);
 * - at most `maxConnections` connections; the next gets FATAL 53300.
 */

export interface EmbeddedPostgresOptions {
  /** TCP port; 0 (the default) picks an ephemeral one */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** default 16 */
  maxConnections?: number;
  /** how long a statement waits while another connection holds a transaction (default 30 s) */
  busyTimeoutMs?: number;
  /** SQL to seed with; defaults to the demo schema, false for an empty database */
  seedSql?: string | false;
  /**
   * Keep a snapshot of the seeded data directory here (e.g. join(os.tmpdir(), 'sqlwarden-demo')):
   * later starts load it, about 2 s and ~360 MB instead of about 5 s and ~750 MB. Off by default.
   */
  dataDirCache?: string;
  /** run PGlite on the calling thread instead of a worker thread (it then blocks that event loop while a statement runs) */
  inProcess?: boolean;
  /** restarts and other notable events */
  log?: (message: string) => void;
}

export interface EmbeddedPostgres {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** accepted but not checked */
  readonly password: string;
  /** e.g. postgres://postgres:postgres@127.0.0.1:54321/postgres?sslmode=disable */
  readonly url: string;
  /** connections served at once; more are refused with 53300 */
  readonly maxConnections: number;
  /** a statement waiting for another connection's transaction fails with 55P03 after this long */
  readonly busyTimeoutMs: number;
  stop(): Promise<void>;
}

const DATABASE = 'postgres';
const USER = 'postgres';
const PASSWORD = 'postgres';

function handleFor(host: string, port: number, maxConnections: number, busyTimeoutMs: number, stop: () => Promise<void>): EmbeddedPostgres {
  let stopping: Promise<void> | undefined;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    database: DATABASE,
    user: USER,
    password: PASSWORD,
    url: `postgres://${USER}:${PASSWORD}@${urlHost}:${port}/${DATABASE}?sslmode=disable`,
    maxConnections,
    busyTimeoutMs,
    stop: () => (stopping ??= stop()),
  };
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const serverOpts: Omit<EmbeddedPgServerOptions, 'log'> = {
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    maxConnections: opts.maxConnections ?? 16,
    busyTimeoutMs: opts.busyTimeoutMs ?? 30_000,
    seedSql: opts.seedSql ?? DEMO_SCHEMA_SQL,
    ...(opts.dataDirCache ? { dataDirCache: opts.dataDirCache } : {}),
  };
  if (opts.inProcess) {
    const server = await EmbeddedPgServer.start({ ...serverOpts, ...(opts.log ? { log: opts.log } : {}) });
    return handleFor(server.host, server.port, server.maxConnections, server.busyTimeoutMs, () => server.stop());
  }
  return startInWorker(serverOpts, opts.log);
}

function startInWorker(serverOpts: Omit<EmbeddedPgServerOptions, 'log'>, log: ((message: string) => void) | undefined): Promise<EmbeddedPostgres> {
  const worker = new Worker(new URL('./embedded-postgres-worker.js', import.meta.url), { workerData: serverOpts });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return new Promise<EmbeddedPostgres>((resolve, reject) => {
    let ready = false;
    const fail = (message: string): void => {
      if (ready) return;
      reject(new Error(`embedded postgres did not start: ${message}`));
      void worker.terminate();
    };
    let stopping = false;
    worker.on('error', (e) => (ready ? log?.(`embedded postgres worker error: ${e.message}`) : fail(e.message)));
    void exited.then((code) => {
      if (ready && !stopping) log?.(`embedded postgres worker exited unexpectedly (code ${code}); the database is gone`);
      fail(`worker exited with code ${code}`);
    });
    worker.on('message', (m: WorkerReply) => {
      switch (m.type) {
        case 'log':
          log?.(m.message);
          break;
        case 'failed':
          fail(m.message);
          break;
        case 'stopped':
          break;
        case 'ready': {
          ready = true;
          resolve(handleFor(m.host, m.port, m.maxConnections, m.busyTimeoutMs, async () => {
            stopping = true;
            const stopped = new Promise<void>((r) => worker.on('message', (x: WorkerReply) => x.type === 'stopped' && r()));
            worker.postMessage({ type: 'stop' } satisfies WorkerRequest);
            const timeout = new Promise<void>((r) => setTimeout(r, 10_000).unref());
            await Promise.race([Promise.race([stopped, exited]).then(() => undefined), timeout]);
            // the worker ends by itself once its server is closed; make sure of it
            await Promise.race([exited, worker.terminate()]);
          }));
          break;
        }
      }
    });
  });
}
