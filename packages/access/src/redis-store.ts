/**
 * AccessStore shared by many sqlwarden instances through Redis.
 *
 * Keys (all under `prefix`):
 *   cred:<user>        JSON credential record, PX = ttl (Redis' TTL is the expiry)
 *   rl:user:<user>     failed logins in the current window, PX = window
 *   rl:addr:<address>  idem per client address
 * Channels: <prefix>revoke {user, origin}, <prefix>cancel {pid, secret, origin},
 * <prefix>mysql-kill {type: request, connectionId, mode, agent, requestId | type: answer, requestId, stage, origin},
 * read by a second (subscriber) connection. Pub/sub is at-most-once: an
 * instance that is disconnected when a revocation is published misses it, so
 * callers should also re-check sessions with alive() periodically.
 *
 * Failure policy: every command has a timeout, and once connected commands are
 * not queued while Redis is away, so callers get StoreUnavailableError fast and
 * can fail closed. ioredis keeps reconnecting on its own.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { assertCancelMessage, assertMysqlKillSignal, isCancelMessage, isMysqlKillSignal } from './cancel-message.js';
import { Listeners } from './listeners.js';
import { isCredentialUser, mintCredential } from './mint.js';
import { overBudget, rateLimitSubject } from './rate-limit.js';
import { decodeRecord, encodeRecord } from './record-codec.js';
import { resolveStoreOptions, toError, type ResolvedStoreOptions, type StoreOptions } from './store-options.js';
import { StoreUnavailableError, type AccessStore, type CancelMessage, type CredentialRecord, type MysqlKillSignal, type MintRequest, type MintedCredential } from './types.js';

export interface RedisStoreOptions extends StoreOptions {
  /** redis://[user:pass@]host:port[/db] or rediss:// for TLS */
  url: string;
  /** Key and channel prefix (default 'sqlwarden:'); instances sharing a prefix share credentials and signals. */
  prefix?: string;
  /** Longest wait for any command (default 1500 ms). */
  commandTimeoutMs?: number;
  /** Longest wait for the TCP connect, and for RedisStore.connect() as a whole (default 2000 ms). */
  connectTimeoutMs?: number;
}

export const DEFAULT_REDIS_PREFIX = 'sqlwarden:';
const DEFAULT_COMMAND_TIMEOUT_MS = 1500;
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
const MAX_RECONNECT_DELAY_MS = 1000;
const MINT_ATTEMPTS = 3;
const DISCONNECT_TIMEOUT_MS = 100;

/** Deletes the record and announces it in one atomic step, only when it existed. */
const REVOKE_SCRIPT = `if redis.call('DEL', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) return 1 end return 0`;

type PipelineResult = [Error | null, unknown][] | null;

function results(res: PipelineResult): unknown[] {
  if (res === null) throw new Error('transaction aborted');
  return res.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function parseCount(value: unknown): number {
  const n = typeof value === 'string' ? Number.parseInt(value, 10) : 0;
  return Number.isFinite(n) ? n : 0;
}

export class RedisStore implements AccessStore {
  readonly kind = 'redis' as const;
  readonly prefix: string;
  private readonly opts: ResolvedStoreOptions;
  private readonly connectTimeoutMs: number;
  private readonly redis: Redis;
  private readonly sub: Redis;
  /** Tags our own publications so the echo is not delivered twice. */
  private readonly origin = randomUUID();
  private readonly revokeChannel: string;
  private readonly cancelChannel: string;
  private readonly killChannel: string;
  private readonly revokeListeners: Listeners<string>;
  private readonly cancelListeners: Listeners<CancelMessage>;
  private readonly killListeners: Listeners<MysqlKillSignal>;
  private readonly firstSubscription: Promise<void>;
  private subscribed = false;
  private closed = false;

  /** Starts connecting at once; prefer RedisStore.connect(), which also proves Redis is reachable. */
  constructor(options: RedisStoreOptions) {
    this.opts = resolveStoreOptions(options);
    // ioredis would silently fall back to localhost:6379 without a url
    if (typeof options.url !== 'string' || options.url.length === 0) throw new RangeError('url is required');
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    if (typeof prefix !== 'string' || prefix.length > 256) throw new RangeError('prefix must be a string of at most 256 characters');
    this.prefix = prefix;
    this.revokeChannel = `${prefix}revoke`;
    this.cancelChannel = `${prefix}cancel`;
    this.killChannel = `${prefix}mysql-kill`;
    this.connectTimeoutMs = positiveInt('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    const commandTimeout = positiveInt('commandTimeoutMs', options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    const report = (err: unknown): void => this.opts.onError(toError(err));
    this.revokeListeners = new Listeners(report);
    this.cancelListeners = new Listeners(report);
    this.killListeners = new Listeners(report);

    const redisOptions: RedisOptions = {
      connectTimeout: this.connectTimeoutMs,
      commandTimeout,
      maxRetriesPerRequest: 1,
      // queue only until the first connection; afterwards an outage fails commands at once
      enableOfflineQueue: true,
      autoResubscribe: false,
      retryStrategy: (times: number) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
      // ioredis waits this long (on a timer that holds the process open) for a
      // socket to close after disconnect(); QUIT has already been answered by then
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    };
    this.redis = new Redis(options.url, redisOptions);
    this.sub = this.redis.duplicate();
    this.watchErrors(this.redis, 'redis');
    this.watchErrors(this.sub, 'redis subscriber');
    this.redis.on('ready', () => {
      this.redis.options.enableOfflineQueue = false;
    });

    this.sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.sub.on('close', () => {
      this.subscribed = false;
    });
    this.firstSubscription = new Promise<void>((resolve) => {
      // subscribe on every (re)connect: explicit rather than ioredis' autoResubscribe,
      // which forgets channels whose first SUBSCRIBE never reached the server
      this.sub.on('ready', () => {
        this.sub.subscribe(this.revokeChannel, this.cancelChannel, this.killChannel).then(
          () => {
            this.subscribed = true;
            resolve();
          },
          (err: unknown) => {
            if (!this.closed) report(err);
          },
        );
      });
    });
  }

  /** Connects both connections and subscribes, or rejects with StoreUnavailableError within connectTimeoutMs. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options);
    try {
      await withTimeout(Promise.all([store.redis.ping(), store.firstSubscription]), store.connectTimeoutMs, 'redis connect');
    } catch (err) {
      await store.close();
      throw new StoreUnavailableError(err);
    }
    return store;
  }

  async mint(req: MintRequest): Promise<MintedCredential> {
    this.assertOpen();
    for (let attempt = 0; attempt < MINT_ATTEMPTS; attempt++) {
      const minted = mintCredential(req, { iterations: this.opts.iterations, maxTtlMs: this.opts.maxTtlMs });
      const { record } = minted;
      const ttlMs = record.expiresAt - record.createdAt;
      const ok = await this.run((r) => r.set(this.credKey(record.user), encodeRecord(record), 'PX', ttlMs, 'NX'));
      if (ok === 'OK') return minted;
    }
    throw new Error('could not allocate a unique credential id');
  }

  async lookup(user: string): Promise<CredentialRecord | null> {
    this.assertOpen();
    if (!isCredentialUser(user)) return null;
    const text = await this.run((r) => r.get(this.credKey(user)));
    if (text === null) return null;
    const record = decodeRecord(text);
    if (record === null || record.user !== user) {
      this.opts.onError(new Error('ignoring a malformed credential record in redis'));
      return null;
    }
    return record.expiresAt > Date.now() ? record : null;
  }

  async alive(users: readonly string[]): Promise<boolean[]> {
    this.assertOpen();
    const checked = users.filter((u) => isCredentialUser(u));
    if (checked.length === 0) return users.map(() => false);
    const found = await this.run(async (r) => {
      const pipeline = r.pipeline();
      for (const u of checked) pipeline.exists(this.credKey(u));
      return results(await pipeline.exec());
    });
    const live = new Set(checked.filter((_, i) => found[i] === 1));
    return users.map((u) => live.has(u));
  }

  async revoke(user: string): Promise<boolean> {
    this.assertOpen();
    if (!isCredentialUser(user)) return false;
    const payload = JSON.stringify({ user, origin: this.origin });
    const deleted = await this.run((r) => r.eval(REVOKE_SCRIPT, 1, this.credKey(user), this.revokeChannel, payload));
    if (deleted !== 1) return false;
    this.revokeListeners.emit(user);
    return true;
  }

  onRevoke(listener: (user: string) => void): () => void {
    return this.revokeListeners.add(listener);
  }

  async isRateLimited(user: string, address: string): Promise<boolean> {
    this.assertOpen();
    const [u, a] = await this.run((r) => r.mget(this.rlKey('user', user), this.rlKey('addr', address)));
    const { perUser, perAddress } = this.opts.rateLimit;
    return overBudget(parseCount(u), perUser) || overBudget(parseCount(a), perAddress);
  }

  async recordAuthFailure(user: string, address: string): Promise<void> {
    this.assertOpen();
    const { windowMs } = this.opts.rateLimit;
    const userKey = this.rlKey('user', user);
    const addrKey = this.rlKey('addr', address);
    await this.run(async (r) => {
      // a fixed window: the first failure creates the counter with its expiry, later ones only count
      const tx = r.multi().set(userKey, '0', 'PX', windowMs, 'NX').incr(userKey).set(addrKey, '0', 'PX', windowMs, 'NX').incr(addrKey);
      results(await tx.exec());
    });
  }

  async publishCancel(msg: CancelMessage): Promise<void> {
    this.assertOpen();
    const { pid, secret } = assertCancelMessage(msg);
    this.cancelListeners.emit({ pid, secret });
    await this.run((r) => r.publish(this.cancelChannel, JSON.stringify({ pid, secret, origin: this.origin })));
  }

  onCancel(listener: (msg: CancelMessage) => void): () => void {
    return this.cancelListeners.add(listener);
  }

  async publishMysqlKill(msg: MysqlKillSignal): Promise<void> {
    this.assertOpen();
    const m = assertMysqlKillSignal(msg);
    this.killListeners.emit(m);
    await this.run((r) => r.publish(this.killChannel, JSON.stringify({ ...m, origin: this.origin })));
  }

  onMysqlKill(listener: (msg: MysqlKillSignal) => void): () => void {
    return this.killListeners.add(listener);
  }

  /** True when Redis answers PING and the subscriber connection is subscribed (revocations are being heard). */
  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      return (await this.redis.ping()) === 'PONG' && this.subscribed;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscribed = false;
    this.revokeListeners.clear();
    this.cancelListeners.clear();
    this.killListeners.clear();
    await Promise.all([shutdown(this.redis), shutdown(this.sub)]);
  }

  private credKey(user: string): string {
    return `${this.prefix}cred:${user}`;
  }

  private rlKey(kind: 'user' | 'addr', value: string): string {
    return `${this.prefix}rl:${rateLimitSubject(kind, value)}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('store closed');
  }

  private async run<T>(op: (r: Redis) => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await op(this.redis);
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
  }

  /** Reports connection errors once per outage rather than on every reconnect attempt. */
  private watchErrors(conn: Redis, name: string): void {
    let reported = false;
    conn.on('ready', () => {
      reported = false;
    });
    conn.on('error', (err: unknown) => {
      if (reported || this.closed) return;
      reported = true;
      this.opts.onError(new Error(`${name}: ${toError(err).message}`));
    });
  }

  private onMessage(channel: string, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      msg = null;
    }
    if (typeof msg !== 'object' || msg === null) {
      this.opts.onError(new Error(`ignoring a malformed message on ${channel}`));
      return;
    }
    const m = msg as Record<string, unknown>;
    if (m.origin === this.origin) return;
    if (channel === this.revokeChannel && typeof m.user === 'string' && isCredentialUser(m.user)) {
      this.revokeListeners.emit(m.user);
    } else if (channel === this.cancelChannel && isCancelMessage(m)) {
      this.cancelListeners.emit({ pid: m.pid, secret: m.secret });
    } else if (channel === this.killChannel && isMysqlKillSignal(m)) {
      this.killListeners.emit(assertMysqlKillSignal(m));
    } else {
      this.opts.onError(new Error(`ignoring a malformed message on ${channel}`));
    }
  }
}

/** QUIT when connected (bounded by the command timeout), otherwise just stop reconnecting. */
async function shutdown(conn: Redis): Promise<void> {
  if (conn.status === 'ready') {
    try {
      await conn.quit();
    } catch {
      // fall through to disconnect
    }
  }
  conn.disconnect();
}
