/**
 * The AccessStore contract, run against every implementation. A harness makes
 * stores and "peers": another instance sharing the same state (for Redis a
 * second RedisStore with the same prefix, i.e. another sqlwarden process; for
 * the single-instance MemoryStore, the store itself).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { InvalidMintRequestError } from './errors.js';
import { MemoryStore } from './memory-store.js';
import { verifyCleartextMysql } from './mysql-auth.js';
import { RedisStore } from './redis-store.js';
import { verifyCleartextAgainstScram } from './scram.js';
import type { StoreOptions } from './store-options.js';
import { StoreUnavailableError, type AccessStore, type CancelMessage, type MintRequest, type RateLimitConfig } from './types.js';

const REDIS_URL = process.env.SQLWARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RATE_LIMIT: RateLimitConfig = { perUser: 3, perAddress: 5, windowMs: 1000 };
const REQ: MintRequest = { agent: 'test-agent', target: 'main', ttlMs: 60_000, labels: { suite: 'contract' } };

interface Harness {
  name: string;
  open(opts?: StoreOptions): Promise<AccessStore>;
  peer(store: AccessStore): Promise<AccessStore>;
  /** Closes every store opened and removes any state left behind. */
  cleanup(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the first value a listener receives, or rejects after `ms`. */
function nextValue<T>(on: (listener: (value: T) => void) => () => void, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no event within ${ms} ms`));
    }, ms);
    const off = on((value) => {
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

const unique = (tag: string): string => `${tag}-${randomBytes(6).toString('hex')}`;

async function rejectsUnavailable(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(StoreUnavailableError);
}

function memoryHarness(): Harness {
  const stores: AccessStore[] = [];
  return {
    name: 'MemoryStore',
    async open(opts) {
      const store = new MemoryStore({ rateLimit: RATE_LIMIT, ...opts });
      stores.push(store);
      return store;
    },
    async peer(store) {
      return store;
    },
    async cleanup() {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    },
  };
}

function redisHarness(): Harness {
  const prefix = `sqlwarden-test:${randomBytes(6).toString('hex')}:`;
  const stores: AccessStore[] = [];
  const open = async (opts?: StoreOptions): Promise<AccessStore> => {
    // generous timeouts: the contract is not about outages, and CI machines can be loaded
    const store = await RedisStore.connect({ url: REDIS_URL, prefix, rateLimit: RATE_LIMIT, commandTimeoutMs: 5000, connectTimeoutMs: 5000, ...opts });
    stores.push(store);
    return store;
  };
  return {
    name: 'RedisStore',
    open,
    peer: () => open(),
    async cleanup() {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      const redis = new Redis(REDIS_URL);
      try {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  };
}

function accessStoreContract(makeHarness: () => Harness): void {
  const h = makeHarness();
  describe(`${h.name} (AccessStore contract)`, () => {
    afterEach(() => h.cleanup());

    it('mints a credential whose record holds verifiers for the password, never the password', async () => {
      const store = await h.open();
      const { record, password } = await store.mint(REQ);
      const found = await store.lookup(record.user);
      expect(found).toEqual(record);
      expect(JSON.stringify(found)).not.toContain(password);
      expect(verifyCleartextAgainstScram(password, found!.scram)).toBe(true);
      expect(verifyCleartextMysql(password, found!.mysql)).toBe(true);
      expect(found).toMatchObject({ agent: 'test-agent', target: 'main', labels: { suite: 'contract' } });
    });

    it('shares credentials with peers', async () => {
      const store = await h.open();
      const peer = await h.peer(store);
      const { record } = await store.mint(REQ);
      expect(await peer.lookup(record.user)).toEqual(record);
    });

    it('returns null for unknown users', async () => {
      const store = await h.open();
      expect(await store.lookup('sw_0123456789abcdef')).toBeNull();
      expect(await store.lookup('postgres')).toBeNull();
      expect(await store.lookup('')).toBeNull();
    });

    it('rejects invalid mint requests with InvalidMintRequestError', async () => {
      const store = await h.open();
      await expect(store.mint({ ...REQ, ttlMs: 10 })).rejects.toBeInstanceOf(InvalidMintRequestError);
      await expect(store.mint({ ...REQ, agent: 'bad agent' })).rejects.toBeInstanceOf(InvalidMintRequestError);
      await expect(store.mint({ ...REQ, ttlMs: 2 * 3600_000 })).resolves.toBeDefined();
      const strict = await h.open({ maxTtlMs: 3600_000 });
      await expect(strict.mint({ ...REQ, ttlMs: 2 * 3600_000 })).rejects.toBeInstanceOf(InvalidMintRequestError);
    });

    it('expires credentials at expiresAt', async () => {
      const store = await h.open();
      const { record } = await store.mint({ ...REQ, ttlMs: 1200 });
      expect(record.expiresAt - record.createdAt).toBe(1200);
      expect(await store.lookup(record.user)).not.toBeNull();
      expect(await store.alive([record.user])).toEqual([true]);
      await sleep(1400);
      expect(await store.lookup(record.user)).toBeNull();
      expect(await store.alive([record.user])).toEqual([false]);
      expect(await store.revoke(record.user)).toBe(false);
    });

    it('revokes: lookup fails, peers hear of it within 1s, this instance hears of it once', async () => {
      const store = await h.open();
      const peer = await h.peer(store);
      const { record } = await store.mint(REQ);
      const keep = await store.mint(REQ);
      const heardByPeer = nextValue<string>((l) => peer.onRevoke(l), 1000);
      const local: string[] = [];
      store.onRevoke((u) => local.push(u));
      expect(await store.revoke(record.user)).toBe(true);
      expect(await heardByPeer).toBe(record.user);
      expect(await store.lookup(record.user)).toBeNull();
      expect(await peer.lookup(record.user)).toBeNull();
      expect(await peer.lookup(keep.record.user)).not.toBeNull();
      expect(await store.revoke(record.user)).toBe(false);
      expect(await store.revoke('not-a-credential')).toBe(false);
      await sleep(200);
      expect(local).toEqual([record.user]);
    });

    it('stops calling a revoke listener once unsubscribed', async () => {
      const store = await h.open();
      const calls: string[] = [];
      const off = store.onRevoke((u) => calls.push(u));
      off();
      await store.revoke((await store.mint(REQ)).record.user);
      await sleep(100);
      expect(calls).toEqual([]);
    });

    it('keeps delivering to other listeners when one throws, and reports the error', async () => {
      const errors: Error[] = [];
      const store = await h.open({ onError: (e) => errors.push(e) });
      store.onRevoke(() => {
        throw new Error('listener failed');
      });
      const heard = nextValue<string>((l) => store.onRevoke(l), 1000);
      const { record } = await store.mint(REQ);
      await store.revoke(record.user);
      expect(await heard).toBe(record.user);
      expect(errors.map((e) => e.message)).toContain('listener failed');
    });

    it('reports which users are alive, in order', async () => {
      const store = await h.open();
      const peer = await h.peer(store);
      const a = (await store.mint(REQ)).record.user;
      const b = (await store.mint(REQ)).record.user;
      await store.revoke(b);
      const c = (await peer.mint(REQ)).record.user;
      expect(await peer.alive([a, 'sw_0123456789abcdef', b, 'garbage', c, a])).toEqual([true, false, false, false, true, true]);
      expect(await store.alive([])).toEqual([]);
    });

    it('rate-limits a user name after perUser failures from any address', async () => {
      const store = await h.open();
      const peer = await h.peer(store);
      const user = unique('user');
      const other = unique('user');
      await store.recordAuthFailure(user, unique('addr'));
      await peer.recordAuthFailure(user, unique('addr'));
      expect(await store.isRateLimited(user, unique('addr'))).toBe(false);
      await store.recordAuthFailure(user, unique('addr'));
      expect(await store.isRateLimited(user, unique('addr'))).toBe(true);
      expect(await peer.isRateLimited(user, unique('addr'))).toBe(true);
      expect(await store.isRateLimited(other, unique('addr'))).toBe(false);
    });

    it('rate-limits an address after perAddress failures for any user', async () => {
      const store = await h.open();
      const addr = unique('10.0.0.1');
      for (let i = 0; i < 4; i++) await store.recordAuthFailure(unique('user'), addr);
      expect(await store.isRateLimited(unique('user'), addr)).toBe(false);
      await store.recordAuthFailure(unique('user'), addr);
      expect(await store.isRateLimited(unique('user'), addr)).toBe(true);
      expect(await store.isRateLimited(unique('user'), unique('addr'))).toBe(false);
    });

    it('forgets failures when the window ends', async () => {
      const store = await h.open();
      const user = unique('user');
      for (let i = 0; i < 3; i++) await store.recordAuthFailure(user, unique('addr'));
      expect(await store.isRateLimited(user, 'x')).toBe(true);
      await sleep(RATE_LIMIT.windowMs + 200);
      expect(await store.isRateLimited(user, 'x')).toBe(false);
    });

    it('counts long and binary user names too', async () => {
      const store = await h.open();
      const user = `${unique('u')}\u0000${'x'.repeat(5000)}`;
      for (let i = 0; i < 3; i++) await store.recordAuthFailure(user, unique('addr'));
      expect(await store.isRateLimited(user, 'x')).toBe(true);
      expect(await store.isRateLimited(user.slice(0, -1), 'x')).toBe(false);
    });

    it('relays cancel requests to peers within 1s and to this instance once', async () => {
      const store = await h.open();
      const peer = await h.peer(store);
      const msg: CancelMessage = { pid: 12345, secret: -2_000_000_000 };
      const heardByPeer = nextValue<CancelMessage>((l) => peer.onCancel(l), 1000);
      const local: CancelMessage[] = [];
      store.onCancel((m) => local.push(m));
      await store.publishCancel(msg);
      expect(await heardByPeer).toEqual(msg);
      await sleep(200);
      expect(local).toEqual([msg]);
    });

    it('refuses cancel messages that are not 32-bit integers', async () => {
      const store = await h.open();
      await expect(store.publishCancel({ pid: 1.5, secret: 1 })).rejects.toThrow(RangeError);
      await expect(store.publishCancel({ pid: 1, secret: 2 ** 33 })).rejects.toThrow(RangeError);
    });

    it('answers ping, and after close pings false and rejects every call with StoreUnavailableError', async () => {
      const store = await h.open();
      expect(await store.ping()).toBe(true);
      const { record } = await store.mint(REQ);
      await store.close();
      await store.close();
      expect(await store.ping()).toBe(false);
      await rejectsUnavailable(store.mint(REQ));
      await rejectsUnavailable(store.lookup(record.user));
      await rejectsUnavailable(store.alive([record.user]));
      await rejectsUnavailable(store.revoke(record.user));
      await rejectsUnavailable(store.isRateLimited('u', 'a'));
      await rejectsUnavailable(store.recordAuthFailure('u', 'a'));
      await rejectsUnavailable(store.publishCancel({ pid: 1, secret: 1 }));
    });
  });
}

accessStoreContract(memoryHarness);
accessStoreContract(redisHarness);
