import { randomInt } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import {
  Backend,
  backendKeyData,
  copyFailMessage,
  copyInResponse,
  decodeBackendKeyData,
  errorResponse,
  Frontend,
  queryMessage,
  readyForQuery,
  sqlOf,
  startupMessage,
  SYNC,
  type ErrorFields,
} from '@sqlwarden/wire-pg';
import { BackendOutputScanner, dropFirstMessage, type TxStatus } from './backend-output-scanner.js';
import { findCopyFromStdin } from './copy-from-stdin.js';

/**
 * Shares one PGlite backend between several client connections, whole batches at a time.
 *
 * PGlite is a single Postgres backend. pglite-socket's own multiplexer (`QueryQueueManager`)
 * queues single protocol messages, so the Parse of one connection can land between the Parse and
 * the Bind of another, and a Bind then runs the other connection's statement (reproduced: two raw
 * connections, A: Parse 'A' | B: Parse 'B', Bind, Execute, Sync | A: Bind, Execute, Sync -> A gets
 * B's row). It also wedges for good when PGlite throws, and COPY FROM STDIN kills the backend.
 *
 * This scheduler keeps pglite-socket's `PGLiteSocketHandler` (framing, SSLRequest) and replaces
 * the queue behind it (same method names, which is all the handler calls):
 * - extended-protocol messages are buffered per connection and handed to PGlite as one buffer at
 *   Sync or Flush, so a batch is never interleaved with another connection's;
 * - a connection owns the backend from its first message until PGlite answers ReadyForQuery 'I':
 *   while it is inside a transaction (or between a Flush and its Sync) other connections wait;
 * - a connection that waits longer than `busyTimeoutMs` gets an ErrorResponse 55P03 (and its
 *   connection stays usable) instead of hanging;
 * - COPY FROM STDIN (simple Query) is answered with a CopyInResponse of our own; the data is
 *   collected to CopyDone/CopyFail and run together with the statement, the way PGlite needs it;
 *   over the extended protocol it is refused with 0A000;
 * - the startup reply is captured once and replayed, so connecting never waits for the backend;
 * - a connection that leaves while it owns the backend has its batch synced and its transaction
 *   rolled back; when the last connection leaves, the session is reset (DISCARD ALL).
 * Session state (SET, prepared statement names, temp tables, LISTEN) is still the one backend's
 * and so is shared by every connection: that is PGlite, and is documented for the demo.
 */

/** The part of pglite-socket's `QueryQueueManager` that `PGLiteSocketHandler` calls. */
export interface SocketHandlerQueue {
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
  clearQueueForHandler(handlerId: number): void;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
  getQueueLength(): number;
}

export interface BatchSchedulerOptions {
  /** how long a batch may wait while another connection holds the backend (default 30 s) */
  busyTimeoutMs?: number;
  /** cap on what is buffered per connection: one batch, or one COPY's data (default 64 MiB) */
  maxBufferedBytes?: number;
  /** PGlite ended (exit status): the backend is gone and every connection must go */
  onFatal?: (err: unknown) => void;
  /** the connection sent something that ends it (as Postgres would, after a FATAL) */
  onTerminate?: (handlerId: number) => void;
  log?: (message: string) => void;
}

interface ConnState {
  readonly id: number;
  batch: Uint8Array[];
  batchBytes: number;
  /** we answered this extended batch with an error ourselves: drop messages to Sync */
  skipUntilSync: boolean;
  copy: { query: Uint8Array; parts: Uint8Array[]; bytes: number; tooBig: boolean } | undefined;
  closed: boolean;
  /** messages of one connection are handled in order: a reply we write ourselves never overtakes a waiting batch */
  chain: Promise<unknown>;
}

type JobKind = 'run' | 'copy' | 'cleanup' | 'reset';

interface Job {
  kind: JobKind;
  conn: ConnState;
  bytes: Uint8Array;
  /** Flush ends the batch but not the backend's extended-query state */
  endsWithFlush: boolean;
  onData: (data: Uint8Array) => void;
  resolve: (n: number) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const STARTUP_PACKET = startupMessage({ user: 'postgres', database: 'postgres' });

function isExitStatus(e: unknown): boolean {
  return typeof e === 'object' && e !== null && ((e as { name?: unknown }).name === 'ExitStatus' || typeof (e as { status?: unknown }).status === 'number');
}

export class BatchScheduler implements SocketHandlerQueue {
  readonly #db: PGlite;
  readonly #busyTimeoutMs: number;
  readonly #maxBuffered: number;
  readonly #opts: BatchSchedulerOptions;
  readonly #conns = new Map<number, ConnState>();
  #jobs: Job[] = [];
  #running = false;
  #owner: number | undefined;
  /** transaction status of the last ReadyForQuery PGlite sent (it belongs to the owner, if any) */
  #lastStatus: TxStatus = 'I';
  #dead = false;
  /** startup reply split around BackendKeyData, which gets a secret per connection */
  #startupHead = Buffer.alloc(0);
  #startupTail = Buffer.alloc(0);
  #backendPid = 0;

  private constructor(db: PGlite, opts: BatchSchedulerOptions) {
    this.#db = db;
    this.#opts = opts;
    this.#busyTimeoutMs = opts.busyTimeoutMs ?? 30_000;
    this.#maxBuffered = opts.maxBufferedBytes ?? 64 * 1024 * 1024;
  }

  /** Captures the backend's startup reply once; every connection gets a copy of it. */
  static async create(db: PGlite, opts: BatchSchedulerOptions = {}): Promise<BatchScheduler> {
    const s = new BatchScheduler(db, opts);
    const reply = Buffer.from(await db.runExclusive(() => db.execProtocolRaw(STARTUP_PACKET, { syncToFs: false })));
    let o = 0;
    while (o + 5 <= reply.length) {
      const len = reply.readInt32BE(o + 1);
      if (reply[o] === Backend.BackendKeyData) {
        s.#backendPid = decodeBackendKeyData(reply.subarray(o, o + 1 + len)).pid;
        s.#startupHead = reply.subarray(0, o);
        s.#startupTail = reply.subarray(o + 1 + len);
        break;
      }
      o += 1 + len;
    }
    if (s.#startupHead.length === 0) throw new Error('PGlite startup reply has no BackendKeyData');
    return s;
  }

  get busyTimeoutMs(): number {
    return this.#busyTimeoutMs;
  }

  getQueueLength(): number {
    return this.#jobs.length;
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const conn = this.#conn(handlerId);
    const done = conn.chain.then(() => this.#handle(conn, message, onData));
    conn.chain = done.catch(() => undefined);
    return done;
  }

  async #handle(conn: ConnState, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    if (this.#dead) throw new Error('the embedded database has stopped');
    if (conn.closed) throw new Error('Handler disconnected');
    const type = message[0]!;

    if (type === 0) {
      // StartupMessage (pglite-socket forwards protocol 3.0 startups with the length's high byte 0)
      onData(Buffer.concat([this.#startupHead, backendKeyData(this.#backendPid, randomInt(2 ** 31)), this.#startupTail]));
      return 0;
    }
    if (conn.copy) return this.#copyMessage(conn, type, message, onData);
    if (conn.skipUntilSync) {
      if (type === Frontend.Sync) {
        conn.skipUntilSync = false;
        onData(readyForQuery(this.#statusOf(conn)));
      }
      return 0;
    }

    switch (type) {
      case Frontend.Parse:
        if (findCopyFromStdin(sqlOf(message) ?? '').length > 0) {
          this.#failBatch(conn, onData, {
            severity: 'ERROR',
            code: '0A000',
            message: 'COPY FROM STDIN over the extended query protocol is not supported by the embedded demo database',
            hint: 'Send the COPY as a simple query (psql \\copy, pg-copy-streams do).',
          });
          return 0;
        }
        return this.#buffer(conn, message, onData);
      case Frontend.Bind:
      case Frontend.Describe:
      case Frontend.Execute:
      case Frontend.Close:
        return this.#buffer(conn, message, onData);
      case Frontend.Sync:
      case Frontend.Flush:
        return this.#submit('run', conn, this.#takeBatch(conn, message), onData, type === Frontend.Flush);
      case Frontend.Query: {
        const copies = findCopyFromStdin(sqlOf(message) ?? '');
        if (copies.length > 1) {
          conn.batch = [];
          conn.batchBytes = 0;
          onData(Buffer.concat([
            errorResponse({ severity: 'ERROR', code: '0A000', message: 'the embedded demo database runs one COPY FROM STDIN per query string' }),
            readyForQuery(this.#statusOf(conn)),
          ]));
          return 0;
        }
        if (copies.length === 1) {
          conn.copy = { query: this.#takeBatch(conn, message), parts: [], bytes: 0, tooBig: false };
          onData(copyInResponse(copies[0]!.binary));
          return 0;
        }
        return this.#submit('run', conn, this.#takeBatch(conn, message), onData, false);
      }
      case Frontend.FunctionCall:
        return this.#submit('run', conn, this.#takeBatch(conn, message), onData, false);
      case Frontend.Terminate:
      case Frontend.CopyData:
      case Frontend.CopyDone:
      case Frontend.CopyFail:
        // Terminate: the socket closes next. Copy messages outside COPY: Postgres ignores them too.
        return 0;
      default:
        // Postgres ends the connection on an unknown message type (FATAL 08P01). PGlite 0.5.14
        // spins forever on one (measured: 100% CPU, never returns), so it never sees one.
        onData(errorResponse({ severity: 'FATAL', code: '08P01', message: `invalid frontend message type ${type}` }));
        this.#opts.onTerminate?.(conn.id);
        return 0;
    }
  }

  clearQueueForHandler(handlerId: number): void {
    const conn = this.#conns.get(handlerId);
    if (conn) {
      conn.batch = [];
      conn.batchBytes = 0;
      conn.copy = undefined;
    }
    const keep: Job[] = [];
    for (const job of this.#jobs) {
      if (job.conn.id === handlerId && (job.kind === 'run' || job.kind === 'copy')) {
        clearTimeout(job.timer);
        job.reject(new Error('Handler disconnected'));
      } else {
        keep.push(job);
      }
    }
    this.#jobs = keep;
  }

  /** Called by the handler when its socket goes; never rejects (the handler does not await it everywhere). */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    const conn = this.#conns.get(handlerId);
    if (!conn || conn.closed) return;
    conn.closed = true;
    this.#conns.delete(handlerId);
    if (this.#dead || this.#db.closed) return;
    try {
      if (this.#owner === handlerId) await this.#submitInternal('cleanup', conn);
      if (this.#conns.size === 0) await this.#submitInternal('reset', conn);
    } catch (e) {
      this.#opts.log?.(`embedded postgres: cleanup after connection #${handlerId} failed: ${String(e)}`);
    }
  }

  /** Rejects all waiting work; used when the database is stopped or has died. */
  shutdown(reason: string): void {
    this.#dead = true;
    for (const job of this.#jobs) {
      clearTimeout(job.timer);
      job.reject(new Error(reason));
    }
    this.#jobs = [];
  }

  #conn(id: number): ConnState {
    let conn = this.#conns.get(id);
    if (!conn) {
      conn = { id, batch: [], batchBytes: 0, skipUntilSync: false, copy: undefined, closed: false, chain: Promise.resolve() };
      this.#conns.set(id, conn);
    }
    return conn;
  }

  /** A connection that does not own the backend is idle; the owner is where PGlite last said. */
  #statusOf(conn: ConnState): TxStatus {
    return this.#owner === conn.id ? this.#lastStatus : 'I';
  }

  #buffer(conn: ConnState, message: Uint8Array, onData: (data: Uint8Array) => void): number {
    conn.batchBytes += message.length;
    if (conn.batchBytes > this.#maxBuffered) {
      this.#failBatch(conn, onData, {
        severity: 'ERROR',
        code: '54000',
        message: `extended-protocol batch larger than ${this.#maxBuffered} bytes before Sync`,
      });
      return 0;
    }
    conn.batch.push(message);
    return 0;
  }

  #takeBatch(conn: ConnState, last: Uint8Array): Uint8Array {
    const parts = [...conn.batch, last];
    conn.batch = [];
    conn.batchBytes = 0;
    return parts.length === 1 ? last : Buffer.concat(parts);
  }

  /** Answers an extended batch with an error of our own; everything up to Sync is dropped. */
  #failBatch(conn: ConnState, onData: (data: Uint8Array) => void, e: ErrorFields): void {
    conn.batch = [];
    conn.batchBytes = 0;
    conn.skipUntilSync = true;
    onData(errorResponse(e));
  }

  async #copyMessage(conn: ConnState, type: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const copy = conn.copy!;
    if (type === Frontend.CopyData) {
      if (!copy.tooBig) {
        copy.bytes += message.length;
        if (copy.bytes > this.#maxBuffered) {
          copy.tooBig = true;
          copy.parts = [];
        } else {
          copy.parts.push(message);
        }
      }
      return 0;
    }
    // Flush and Sync are ignored during COPY FROM STDIN, as Postgres does
    if (type === Frontend.Flush || type === Frontend.Sync) return 0;
    conn.copy = undefined;
    if (copy.tooBig) {
      // the statement never ran; the client gets the COPY's error and its ReadyForQuery
      if (type === Frontend.CopyDone || type === Frontend.CopyFail) {
        onData(Buffer.concat([
          errorResponse({ severity: 'ERROR', code: '54000', message: `COPY FROM STDIN data larger than ${this.#maxBuffered} bytes (embedded demo database)` }),
          readyForQuery(this.#statusOf(conn)),
        ]));
        return 0;
      }
    }
    if (type === Frontend.CopyDone || type === Frontend.CopyFail) {
      return this.#submit('copy', conn, Buffer.concat([copy.query, ...copy.parts, message]), onData, false);
    }
    // any other message ends the COPY as a failure (Postgres: "unexpected message type during COPY")
    const fail = copyFailMessage(`unexpected message type 0x${type.toString(16)} during COPY from stdin`);
    await this.#submit('copy', conn, Buffer.concat([copy.query, ...copy.parts, fail]), onData, false);
    return this.#handle(conn, message, onData);
  }

  #submit(kind: JobKind, conn: ConnState, bytes: Uint8Array, onData: (data: Uint8Array) => void, endsWithFlush: boolean): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const job: Job = { kind, conn, bytes, endsWithFlush, onData, resolve, reject, timer: undefined };
      job.timer = setTimeout(() => this.#timeOut(job), this.#busyTimeoutMs);
      job.timer.unref();
      this.#jobs.push(job);
      void this.#pump();
    });
  }

  /** Cleanup and reset run for a connection that is gone; they go first when they can. */
  #submitInternal(kind: 'cleanup' | 'reset', conn: ConnState): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const job: Job = { kind, conn, bytes: new Uint8Array(0), endsWithFlush: false, onData: () => {}, resolve, reject, timer: undefined };
      this.#jobs.unshift(job);
      void this.#pump();
    });
  }

  #timeOut(job: Job): void {
    const i = this.#jobs.indexOf(job);
    if (i === -1) return;
    this.#jobs.splice(i, 1);
    const seconds = Math.round(this.#busyTimeoutMs / 1000);
    const err = errorResponse({
      severity: 'ERROR',
      code: '55P03',
      message: `the embedded demo database is busy: another connection has held it for more than ${seconds}s`,
      detail: 'PGlite runs one transaction at a time; statements of other connections wait while a transaction is open.',
      hint: 'Commit or roll back the open transaction in the other session, then retry.',
    });
    if (job.endsWithFlush) {
      // the rest of this extended batch still comes, up to its Sync
      job.conn.skipUntilSync = true;
      job.onData(err);
    } else {
      job.onData(Buffer.concat([err, readyForQuery('I')]));
    }
    job.resolve(0);
  }

  #next(): Job | undefined {
    const owner = this.#owner;
    const i = owner === undefined ? 0 : this.#jobs.findIndex((j) => j.conn.id === owner);
    if (i === -1 || i >= this.#jobs.length) {
      // the owner is gone without cleanup (should not happen): do not starve everyone
      if (owner !== undefined && !this.#conns.has(owner) && this.#jobs.length > 0) {
        this.#owner = undefined;
        return this.#next();
      }
      return undefined;
    }
    const [job] = this.#jobs.splice(i, 1);
    return job;
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let job = this.#next(); job && !this.#dead; job = this.#next()) {
        clearTimeout(job.timer);
        await this.#run(job);
      }
    } finally {
      this.#running = false;
    }
  }

  async #run(job: Job): Promise<void> {
    const db = this.#db;
    if (job.kind === 'cleanup' || job.kind === 'reset') {
      try {
        await db.runExclusive(async () => {
          if (job.kind === 'cleanup') {
            // end a half-sent extended batch (and any error state it left), then the transaction
            await db.execProtocolRaw(SYNC, { syncToFs: false });
            if (db.isInTransaction()) await db.execProtocolRaw(queryMessage('ROLLBACK'), { syncToFs: false });
          } else if (this.#conns.size === 0 && !db.isInTransaction()) {
            await db.execProtocolRaw(queryMessage('DISCARD ALL'), { syncToFs: false });
          }
        });
        if (job.kind === 'cleanup' || this.#owner === job.conn.id) {
          this.#owner = undefined;
          this.#lastStatus = 'I';
        }
        job.resolve(0);
      } catch (e) {
        if (isExitStatus(e)) this.#fatal(e);
        else if (this.#owner === job.conn.id) this.#owner = undefined;
        job.reject(e instanceof Error ? e : new Error(String(e)));
      }
      return;
    }

    this.#owner = job.conn.id;
    const scanner = new BackendOutputScanner();
    const collected: Buffer[] = [];
    let bytes = 0;
    try {
      await db.runExclusive(() =>
        db.execProtocolRawStream(job.bytes, {
          onRawData: (data) => {
            scanner.push(data);
            bytes += data.length;
            if (job.kind === 'copy') collected.push(Buffer.from(data));
            else job.onData(data);
          },
        }),
      );
    } catch (e) {
      if (isExitStatus(e)) this.#fatal(e);
      else if (!db.isInTransaction()) this.#owner = undefined;
      job.reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (job.kind === 'copy') {
      // the client already had our CopyInResponse
      job.onData(dropFirstMessage(Buffer.concat(collected), Backend.CopyInResponse));
    }
    // the connection keeps the backend until PGlite says it is idle
    const status = scanner.lastReadyStatus;
    if (status !== undefined) this.#lastStatus = status;
    this.#owner = status === 'I' && !job.endsWithFlush ? undefined : job.conn.id;
    job.resolve(bytes);
  }

  #fatal(e: unknown): void {
    if (this.#dead) return;
    this.#opts.log?.(`embedded postgres: PGlite stopped (${String((e as { message?: unknown }).message ?? e)})`);
    this.shutdown('the embedded database has stopped');
    this.#opts.onFatal?.(e);
  }
}
