/** MemoryStore behaviour beyond the shared contract. */
import { MemoryStore } from './memory-store.js';
import type { MintRequest } from './types.js';

const REQ: MintRequest = { agent: 'test-agent', target: 'main', ttlMs: 60_000 };

describe('MemoryStore', () => {
  let store: MemoryStore;
  beforeEach(() => {
    store = new MemoryStore();
  });
  afterEach(() => store.close());

  it('hands out copies, so callers cannot change stored records', async () => {
    const { record } = await store.mint(REQ);
    record.expiresAt = 0;
    const found = await store.lookup(record.user);
    found!.target = 'elsewhere';
    found!.labels.x = 'y';
    expect(await store.lookup(record.user)).toMatchObject({ target: 'main', labels: {} });
    expect((await store.lookup(record.user))!.expiresAt).toBeGreaterThan(Date.now());
  });

  it('handles ttls longer than a timer can wait', async () => {
    const long = new MemoryStore({ maxTtlMs: 40 * 24 * 3600_000 });
    try {
      const { record } = await long.mint({ ...REQ, ttlMs: 30 * 24 * 3600_000 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await long.lookup(record.user)).not.toBeNull();
    } finally {
      await long.close();
    }
  });

  it('is of kind memory', () => {
    expect(store.kind).toBe('memory');
  });

  it('validates its options', () => {
    expect(() => new MemoryStore({ rateLimit: { perUser: 1, perAddress: 1, windowMs: 0 } })).toThrow(RangeError);
    expect(() => new MemoryStore({ maxTtlMs: 10 })).toThrow(RangeError);
  });
});
