import { createHash } from 'node:crypto';
import { readFile, rename, mkdir, writeFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import { errorResponse, negotiateProtocolVersion, Reader, SSL_NO, StartupCode, type ErrorFields } from '@sqlwarden/wire-pg';
import { BatchScheduler } from './batch-scheduler.js';

/**
 * One PGlite served over TCP to several connections: pglite-socket's `PGLiteSocketHandler` per
 * connection, our `BatchScheduler` behind all of them (see there for why not pglite-socket's own
 * `PGLiteSocketServer`), and a small front that does what the handler does not:
 * - answers SSLRequest and GSSENCRequest with 'N' (the handler misframes GSSENCRequest and hangs);
 * - closes a CancelRequest's connection (PGlite cannot interrupt a running statement);
 * - refuses protocol 2 and unknown versions with an ErrorResponse, and answers 3.x (x > 0) and
 *   `_pq_.` options with NegotiateProtocolVersion 3.0;
 * - over `maxConnections`, answers FATAL 53300 instead of the bare TCP reset of net.Server's
 *   own `maxConnections` (which is what `PGLiteSocketServer` does);
 * - when PGlite dies (its wasm exits), ends every connection with FATAL 57P01 and starts a fresh
 *   instance with the seed, so the demo keeps working.
 * Any user name, password and database name are accepted (PGlite does no authentication; the
 * session is always user `postgres`, database `postgres`).
 */

export interface EmbeddedPgServerOptions {
  host?: string;
  /** 0 = an ephemeral port */
  port?: number;
  maxConnections?: number;
  busyTimeoutMs?: number;
  /** SQL run once after start (and after a restart); false for an empty database */
  seedSql?: string | false;
  /**
   * A directory to keep a snapshot of the seeded data directory in. The first start writes it
   * (initdb + seed, about 5 s, ~750 MB peak RSS); later starts load it (about 2 s, ~360 MB).
   * Keyed by the PGlite version and the seed, so a change of either starts fresh.
   */
  dataDirCache?: string;
  log?: (message: string) => void;
}

const MAX_STARTUP_PACKET = 10_000;
const STARTUP_TIMEOUT_MS = 15_000;

interface Live {
  db: PGlite;
  scheduler: BatchScheduler;
}

interface Attached {
  handler: PGLiteSocketHandler;
  socket: Socket;
}

export class EmbeddedPgServer {
  readonly host: string;
  readonly maxConnections: number;
  readonly busyTimeoutMs: number;
  #port: number;
  readonly #seedSql: string | false;
  readonly #dataDirCache: string | undefined;
  readonly #log: (message: string) => void;
  #server: Server | undefined;
  #live: Promise<Live>;
  readonly #sockets = new Set<Socket>();
  readonly #attached = new Map<number, Attached>();
  #stopping = false;
  #restarts = 0;

  private constructor(opts: EmbeddedPgServerOptions, live: Live) {
    this.host = opts.host ?? '127.0.0.1';
    this.#port = opts.port ?? 0;
    this.maxConnections = opts.maxConnections ?? 16;
    this.busyTimeoutMs = opts.busyTimeoutMs ?? 30_000;
    this.#seedSql = opts.seedSql ?? false;
    this.#dataDirCache = opts.dataDirCache;
    this.#log = opts.log ?? (() => {});
    this.#live = Promise.resolve(live);
  }

  static async start(opts: EmbeddedPgServerOptions = {}): Promise<EmbeddedPgServer> {
    let server: EmbeddedPgServer | undefined;
    const live = await createLive(opts, {
      onFatal: (e) => server?.onFatal(e),
      onTerminate: (id) => server?.endConnection(id),
    });
    server = new EmbeddedPgServer(opts, live);
    try {
      await server.#listen();
    } catch (e) {
      live.scheduler.shutdown('start failed');
      await live.db.close().catch(() => {});
      throw e;
    }
    return server;
  }

  get port(): number {
    return this.#port;
  }

  get stats(): { connections: number; restarts: number } {
    return { connections: this.#attached.size, restarts: this.#restarts };
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const live = await this.#live.catch(() => undefined);
    live?.scheduler.shutdown('the embedded database is stopping');
    const closed = new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    for (const { handler } of this.#attached.values()) await handler.detach(true).catch(() => {});
    this.#attached.clear();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
    await live?.db.close().catch(() => {});
  }

  /** The scheduler saw a message that ends the connection (after its FATAL ErrorResponse). */
  endConnection(handlerId: number): void {
    this.#attached.get(handlerId)?.socket.end();
  }

  onFatal(e: unknown): void {
    if (this.#stopping) return;
    this.#restarts++;
    this.#log(`embedded postgres stopped unexpectedly (${String((e as { message?: unknown }).message ?? e)}); restarting it with fresh demo data`);
    const bye = errorResponse({
      severity: 'FATAL',
      code: '57P01',
      message: 'terminating connection because the embedded demo database stopped',
      detail: 'It is restarting with fresh demo data; reconnect in a few seconds.',
    });
    for (const { socket } of this.#attached.values()) socket.end(bye);
    const old = this.#live;
    this.#live = (async () => {
      const prev = await old.catch(() => undefined);
      // an exited wasm instance may never settle its close: do not wait for it
      void prev?.db.close().catch(() => {});
      return createLive({ seedSql: this.#seedSql, busyTimeoutMs: this.busyTimeoutMs, log: this.#log, ...(this.#dataDirCache ? { dataDirCache: this.#dataDirCache } : {}) }, {
        onFatal: (err) => this.onFatal(err),
        onTerminate: (id) => this.endConnection(id),
      });
    })();
    this.#live.catch((err: unknown) => this.#log(`embedded postgres could not restart: ${String(err)}`));
  }

  #listen(): Promise<void> {
    const server = createServer((socket) => this.#onConnection(socket));
    this.#server = server;
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.#log(`embedded postgres listener error: ${e.message}`));
        const addr = server.address();
        if (addr && typeof addr === 'object') this.#port = addr.port;
        resolve();
      });
    });
  }

  #onConnection(socket: Socket): void {
    if (this.#stopping) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.once('close', () => this.#sockets.delete(socket));
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), STARTUP_TIMEOUT_MS);
    timer.unref();
    const refuse = (e: ErrorFields): void => {
      done();
      socket.end(errorResponse(e));
    };
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 8) {
        const len = buf.readInt32BE(0);
        const code = buf.readInt32BE(4);
        if (len < 8 || len > MAX_STARTUP_PACKET) return refuse({ severity: 'FATAL', code: '08P01', message: 'invalid length of startup packet' });
        if (buf.length < len) return;
        if (len === 8 && (code === StartupCode.SSLRequest || code === StartupCode.GSSENCRequest)) {
          socket.write(SSL_NO);
          buf = buf.subarray(8);
          continue;
        }
        if (len === 16 && code === StartupCode.CancelRequest) {
          // nothing to cancel with: PGlite runs a statement to its end
          done();
          socket.end();
          return;
        }
        const major = code >>> 16;
        const minor = code & 0xffff;
        if (major !== 3) {
          return refuse({ severity: 'FATAL', code: '0A000', message: `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0` });
        }
        done();
        const startup = Buffer.from(buf.subarray(0, len));
        const rest = buf.subarray(len);
        const unknownOptions = startupParams(startup).filter((k) => k.startsWith('_pq_.'));
        if (minor !== 0 || unknownOptions.length > 0) {
          socket.write(demoNegotiateProtocolVersion(unknownOptions));
          startup.writeInt32BE(StartupCode.Protocol3, 4);
        }
        void this.#admit(socket, Buffer.concat([startup, rest]));
        return;
      }
    };
    socket.on('data', onData);
  }

  async #admit(socket: Socket, initial: Buffer): Promise<void> {
    socket.pause();
    let live: Live;
    try {
      live = await this.#live;
    } catch {
      socket.end(errorResponse({ severity: 'FATAL', code: '57P03', message: 'the embedded demo database is not available' }));
      return;
    }
    if (this.#stopping || socket.destroyed) {
      socket.destroy();
      return;
    }
    if (this.#attached.size >= this.maxConnections) {
      socket.end(errorResponse({
        severity: 'FATAL',
        code: '53300',
        message: 'sorry, too many clients already',
        detail: `The embedded demo database accepts ${this.maxConnections} connections.`,
      }));
      return;
    }
    // The handler's option is typed as pglite-socket's (unexported) QueryQueueManager class; it calls
    // only these public methods. Checked structurally here, so a change in pglite-socket fails the build.
    const queue: Pick<PGLiteSocketHandlerOptions['queryQueue'], 'enqueue' | 'clearQueueForHandler' | 'clearTransactionIfNeeded' | 'getQueueLength'> = live.scheduler;
    const handler = new PGLiteSocketHandler({
      queryQueue: queue as PGLiteSocketHandlerOptions['queryQueue'],
      closeOnDetach: true,
    });
    const id = handler.handlerId;
    this.#attached.set(id, { handler, socket });
    const forget = (): void => {
      this.#attached.delete(id);
    };
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    socket.unshift(initial);
    await handler.attach(socket);
    socket.resume();
  }
}

async function createLive(
  opts: EmbeddedPgServerOptions,
  hooks: { onFatal: (e: unknown) => void; onTerminate: (id: number) => void },
): Promise<Live> {
  const db = await openSeeded(opts);
  try {
    const scheduler = await BatchScheduler.create(db, {
      ...(opts.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: opts.busyTimeoutMs }),
      onFatal: hooks.onFatal,
      onTerminate: hooks.onTerminate,
      ...(opts.log ? { log: opts.log } : {}),
    });
    return { db, scheduler };
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
}

async function openSeeded(opts: EmbeddedPgServerOptions): Promise<PGlite> {
  const log = opts.log ?? (() => {});
  const file = opts.dataDirCache ? join(opts.dataDirCache, `pglite-${await pgliteVersion()}-${createHash('sha256').update(opts.seedSql || '').digest('hex').slice(0, 16)}.tar.gz`) : undefined;
  if (file) {
    const snapshot = await readFile(file).catch(() => undefined);
    if (snapshot) {
      try {
        return await PGlite.create({ loadDataDir: new Blob([snapshot]) });
      } catch (e) {
        log(`embedded postgres: ignoring unusable data directory snapshot ${file} (${String(e)})`);
        await rm(file, { force: true }).catch(() => {});
      }
    }
  }
  const db = await PGlite.create();
  try {
    if (opts.seedSql) await db.exec(opts.seedSql);
    if (file) {
      try {
        const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
        await mkdir(opts.dataDirCache!, { recursive: true });
        const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
        await writeFile(tmp, dump);
        await rename(tmp, file);
      } catch (e) {
        log(`embedded postgres: could not write data directory snapshot ${file} (${String(e)})`);
      }
    }
    return db;
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
}

async function pgliteVersion(): Promise<string> {
  try {
    const pkg = new URL('../package.json', import.meta.resolve('@electric-sql/pglite'));
    return (JSON.parse(await readFile(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** NegotiateProtocolVersion down to 3.0, in the form the Postgres server sends (major << 16 | minor). */
function demoNegotiateProtocolVersion(unrecognized: readonly string[]): Buffer {
  return negotiateProtocolVersion(0, unrecognized);
}

/**
 * Parameter names of a StartupMessage, read leniently (unlike wire-pg's decodeStartupPacket):
 * the names before the first malformed or unterminated one; duplicates and trailing bytes pass.
 */
function startupParams(packet: Buffer): string[] {
  const names: string[] = [];
  const r = new Reader(packet, 8);
  try {
    for (let name = r.cstring(); name !== ''; name = r.cstring()) {
      r.cstring(); // the value
      names.push(name);
    }
  } catch {
    // an unterminated name or value (ProtocolError): keep the names read so far
  }
  return names;
}
