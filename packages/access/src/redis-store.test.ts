/** RedisStore behaviour beyond the shared contract: key layout, isolation, outages. */
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { RedisStore } from './redis-store.js';
import { StoreUnavailableError, type MintRequest } from './types.js';

const REDIS_URL = process.env.SQLWARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQ: MintRequest = { agent: 'test-agent', target: 'main', ttlMs: 60_000 };
const RATE_LIMIT = { perUser: 3, perAddress: 5, windowMs: 5000 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP forwarder to Redis that can be cut and restored on the same port. */
class RedisProxy {
  port = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  async start(): Promise<void> {
    const target = new URL(REDIS_URL);
    const server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Accepts TCP connections and never answers: a hung Redis. */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function elapsedRejection(p: Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await expect(p).rejects.toBeInstanceOf(StoreUnavailableError);
  return Date.now() - t0;
}

async function until(predicate: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await sleep(100);
  }
  throw new Error(`condition not met within ${ms} ms`);
}

describe('RedisStore', () => {
  const prefix = `sqlwarden-test:${randomBytes(6).toString('hex')}:`;
  const stores: RedisStore[] = [];
  let raw: Redis;

  const open = async (opts: Partial<Parameters<typeof RedisStore.connect>[0]> = {}): Promise<RedisStore> => {
    // generous timeouts unless a test is about them: CI machines can be loaded
    const store = await RedisStore.connect({ url: REDIS_URL, prefix, rateLimit: RATE_LIMIT, commandTimeoutMs: 5000, connectTimeoutMs: 5000, ...opts });
    stores.push(store);
    return store;
  };

  beforeAll(() => {
    raw = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  });

  describe('key layout', () => {
    it('keeps one JSON record per user with the ttl as Redis TTL, without the password', async () => {
      const store = await open();
      const { record, password } = await store.mint({ ...REQ, ttlMs: 30_000 });
      const key = `${prefix}cred:${record.user}`;
      const pttl = await raw.pttl(key);
      expect(pttl).toBeGreaterThan(28_000);
      expect(pttl).toBeLessThanOrEqual(30_000);
      const text = await raw.get(key);
      expect(text).not.toBeNull();
      expect(text).not.toContain(password);
      expect(JSON.parse(text!)).toMatchObject({ id: record.id, user: record.user });
    });

    it('counts failures under rl:user: and rl:addr: with the window as TTL', async () => {
      const store = await open();
      await store.recordAuthFailure('alice', '192.0.2.7');
      await store.recordAuthFailure('alice', '192.0.2.7');
      expect(await raw.get(`${prefix}rl:user:alice`)).toBe('2');
      expect(await raw.get(`${prefix}rl:addr:192.0.2.7`)).toBe('2');
      const pttl = await raw.pttl(`${prefix}rl:user:alice`);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(RATE_LIMIT.windowMs);
    });

    it('hashes long user names into bounded keys', async () => {
      const store = await open();
      await store.recordAuthFailure('x'.repeat(100_000), '192.0.2.8');
      const keys = await raw.keys(`${prefix}rl:user:#*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(k.length).toBeLessThan(prefix.length + 80);
    });
  });

  describe('isolation', () => {
    it('does not share credentials or revocations across prefixes', async () => {
      const store = await open();
      const other = await open({ prefix: `${prefix}other:` });
      const heard: string[] = [];
      other.onRevoke((u) => heard.push(u));
      const { record } = await store.mint(REQ);
      expect(await other.lookup(record.user)).toBeNull();
      expect(await other.revoke(record.user)).toBe(false);
      expect(await store.revoke(record.user)).toBe(true);
      await sleep(200);
      expect(heard).toEqual([]);
    });
  });

  describe('untrusted data in Redis', () => {
    it('treats a malformed record as absent and reports it', async () => {
      const errors: Error[] = [];
      const store = await open({ onError: (e) => errors.push(e) });
      const user = 'sw_00000000deadbeef';
      await raw.set(`${prefix}cred:${user}`, '{"v":1,"id":"00000000deadbeef"}', 'PX', 10_000);
      expect(await store.lookup(user)).toBeNull();
      expect(errors.map((e) => e.message)).toContain('ignoring a malformed credential record in redis');
    });

    it('treats a record past its expiresAt as absent even if Redis still holds it', async () => {
      const store = await open();
      const { record } = await store.mint(REQ);
      const key = `${prefix}cred:${record.user}`;
      const stale = { ...(JSON.parse((await raw.get(key))!) as Record<string, unknown>), expiresAt: Date.now() - 1 };
      await raw.set(key, JSON.stringify(stale), 'PX', 10_000);
      expect(await store.lookup(record.user)).toBeNull();
    });

    it('ignores malformed pub/sub messages and accepts well-formed ones from other instances', async () => {
      const errors: Error[] = [];
      const store = await open({ onError: (e) => errors.push(e) });
      const revoked: string[] = [];
      const cancels: unknown[] = [];
      store.onRevoke((u) => revoked.push(u));
      store.onCancel((m) => cancels.push(m));
      await raw.publish(`${prefix}revoke`, 'not json');
      await raw.publish(`${prefix}revoke`, JSON.stringify({ user: 'postgres', origin: 'x' }));
      await raw.publish(`${prefix}cancel`, JSON.stringify({ pid: 'a', secret: 1, origin: 'x' }));
      await raw.publish(`${prefix}revoke`, JSON.stringify({ user: 'sw_0123456789abcdef', origin: 'x' }));
      await raw.publish(`${prefix}cancel`, JSON.stringify({ pid: 7, secret: 8, origin: 'x' }));
      await until(async () => revoked.length > 0 && cancels.length > 0, 1000);
      expect(revoked).toEqual(['sw_0123456789abcdef']);
      expect(cancels).toEqual([{ pid: 7, secret: 8 }]);
      expect(errors.length).toBe(3);
    });
  });

  describe('when Redis is unreachable', () => {
    it('connect() rejects with StoreUnavailableError quickly on a closed port', async () => {
      expect(await elapsedRejection(RedisStore.connect({ url: 'redis://127.0.0.1:1', prefix }))).toBeLessThan(2500);
    });

    it('connect() rejects with StoreUnavailableError when Redis accepts but never answers', async () => {
      const hole = await blackHole();
      try {
        expect(await elapsedRejection(RedisStore.connect({ url: `redis://127.0.0.1:${hole.port}`, prefix }))).toBeLessThan(2500);
      } finally {
        await hole.close();
      }
    });

    it('every call rejects with StoreUnavailableError within ~2s, and ping is false', async () => {
      const hole = await blackHole();
      const store = new RedisStore({ url: `redis://127.0.0.1:${hole.port}`, prefix });
      try {
        const times = await Promise.all([
          elapsedRejection(store.lookup('sw_0123456789abcdef')),
          elapsedRejection(store.mint(REQ)),
          elapsedRejection(store.alive(['sw_0123456789abcdef'])),
          elapsedRejection(store.revoke('sw_0123456789abcdef')),
          elapsedRejection(store.isRateLimited('u', 'a')),
          elapsedRejection(store.recordAuthFailure('u', 'a')),
          elapsedRejection(store.publishCancel({ pid: 1, secret: 2 })),
        ]);
        for (const t of times) expect(t).toBeLessThan(2500);
        expect(await store.ping()).toBe(false);
      } finally {
        await store.close();
        await hole.close();
      }
    });

    it('fails fast during an outage and recovers on its own when Redis returns', async () => {
      const proxy = new RedisProxy();
      await proxy.start();
      try {
        const store = await open({ url: `redis://127.0.0.1:${proxy.port}`, commandTimeoutMs: 1500, connectTimeoutMs: 2000 });
        const direct = await open();
        const { record } = await direct.mint(REQ);
        expect(await store.lookup(record.user)).not.toBeNull();

        await proxy.stop();
        expect(await elapsedRejection(store.lookup(record.user))).toBeLessThan(2000);
        expect(await elapsedRejection(store.mint(REQ))).toBeLessThan(2000);
        expect(await store.ping()).toBe(false);

        await proxy.start();
        await until(() => store.ping(), 5000);
        expect(await store.lookup(record.user)).not.toBeNull();

        // the subscriber re-subscribed: revocations reach this instance again
        const heard = new Promise<string>((resolve) => store.onRevoke(resolve));
        expect(await direct.revoke(record.user)).toBe(true);
        const user = await Promise.race([heard, sleep(1000).then(() => 'timeout')]);
        expect(user).toBe(record.user);
      } finally {
        await proxy.stop();
      }
    });
  });

  it('validates its options', () => {
    expect(() => new RedisStore({ url: REDIS_URL, commandTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new RedisStore({ url: '' })).toThrow(RangeError);
    expect(() => new RedisStore({ url: REDIS_URL, rateLimit: { perUser: 0, perAddress: 1, windowMs: 1 } })).toThrow(RangeError);
    expect(() => new RedisStore({ url: REDIS_URL, iterations: 10 })).toThrow(RangeError);
  });
});
