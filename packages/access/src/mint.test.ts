import { InvalidMintRequestError } from './errors.js';
import { DEFAULT_MAX_TTL_MS, isCredentialUser, mintCredential, validateMintRequest } from './mint.js';
import { verifyCleartextMysql } from './mysql-auth.js';
import { verifyCleartextAgainstScram } from './scram.js';
import type { MintRequest } from './types.js';

const base: MintRequest = { agent: 'claude@ci/run-42', target: 'main', ttlMs: 60_000, labels: { team: 'data', 'run.id': '42' } };

describe('mintCredential', () => {
  const now = 1_700_000_000_000;
  const { record, password } = mintCredential(base, { now });

  it('draws a 16-hex id, a sw_ user and a 256-bit base64url password', () => {
    expect(record.id).toMatch(/^[0-9a-f]{16}$/);
    expect(record.user).toBe(`sw_${record.id}`);
    expect(isCredentialUser(record.user)).toBe(true);
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(password, 'base64url')).toHaveLength(32);
  });

  it('fills the record from the request and the clock', () => {
    expect(record).toMatchObject({ agent: base.agent, target: 'main', labels: base.labels, createdAt: now, expiresAt: now + 60_000 });
  });

  it('keeps verifiers that accept the password, never the password', () => {
    expect(JSON.stringify(record)).not.toContain(password);
    expect(verifyCleartextAgainstScram(password, record.scram)).toBe(true);
    expect(verifyCleartextMysql(password, record.mysql)).toBe(true);
  });

  it('uses the requested SCRAM iteration count', () => {
    expect(mintCredential(base, { iterations: 8192 }).record.scram.iterations).toBe(8192);
  });

  it('never repeats ids or passwords', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const m = mintCredential(base);
      seen.add(m.record.id).add(m.password);
    }
    expect(seen.size).toBe(100);
  });

  it('keeps a "__proto__" label as a plain own property', () => {
    const labels = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const m = mintCredential({ ...base, labels });
    expect(Object.getPrototypeOf(m.record.labels)).toBe(Object.prototype);
    expect(Object.entries(m.record.labels)).toEqual([['__proto__', 'x']]);
  });
});

describe('validateMintRequest', () => {
  const bad: [string, unknown][] = [
    ['request', null],
    ['request', 'agent'],
    ['agent', { ...base, agent: '' }],
    ['agent', { ...base, agent: 'a'.repeat(129) }],
    ['agent', { ...base, agent: 'has space' }],
    ['agent', { ...base, agent: 'semi;colon' }],
    ['agent', { ...base, agent: 42 }],
    ['target', { ...base, target: undefined }],
    ['target', { ...base, target: 'x\n' }],
    ['ttlMs', { ...base, ttlMs: 999 }],
    ['ttlMs', { ...base, ttlMs: DEFAULT_MAX_TTL_MS + 1 }],
    ['ttlMs', { ...base, ttlMs: 1500.5 }],
    ['ttlMs', { ...base, ttlMs: Number.NaN }],
    ['ttlMs', { ...base, ttlMs: '60000' }],
    ['labels', { ...base, labels: [] }],
    ['labels', { ...base, labels: null }],
    ['labels', { ...base, labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }],
    ['labels', { ...base, labels: { '1abc': 'v' } }],
    ['labels', { ...base, labels: { ['a'.repeat(64)]: 'v' } }],
    ['labels', { ...base, labels: { 'a-b': 'v', 'x y': 'v' } }],
    ['labels', { ...base, labels: { k: 'v'.repeat(257) } }],
    ['labels', { ...base, labels: { k: 1 } }],
    ['labels', { ...base, labels: { k: 'line\nbreak' } }],
  ];
  it.each(bad)('rejects bad %s (%#)', (field, req) => {
    let thrown: unknown;
    try {
      validateMintRequest(req);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidMintRequestError);
    expect((thrown as InvalidMintRequestError).field).toBe(field);
  });

  it('accepts the edges', () => {
    const labels = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v'.repeat(256)]));
    expect(() => validateMintRequest({ ...base, agent: 'a'.repeat(128), ttlMs: 1000, labels })).not.toThrow();
    expect(() => validateMintRequest({ ...base, ttlMs: DEFAULT_MAX_TTL_MS, labels: { _: '', ['a'.repeat(63)]: 'é' } })).not.toThrow();
    expect(validateMintRequest({ agent: 'a', target: 't', ttlMs: 1000 }).labels).toEqual({});
  });

  it('honours a custom maximum ttl', () => {
    expect(() => validateMintRequest({ ...base, ttlMs: 120_000 }, 60_000)).toThrow(InvalidMintRequestError);
    expect(() => validateMintRequest({ ...base, ttlMs: 48 * 3600_000 }, 72 * 3600_000)).not.toThrow();
    expect(() => mintCredential({ ...base, ttlMs: 120_000 }, { maxTtlMs: 60_000 })).toThrow(InvalidMintRequestError);
  });

  it('does not copy unknown fields', () => {
    const req = validateMintRequest({ ...base, password: 'x', extra: 1 });
    expect(Object.keys(req).sort()).toEqual(['agent', 'labels', 'target', 'ttlMs']);
  });
});

describe('isCredentialUser', () => {
  it.each([
    ['sw_0123456789abcdef', true],
    ['sw_0123456789ABCDEF', false],
    ['sw_0123456789abcde', false],
    ['sw_0123456789abcdef0', false],
    ['postgres', false],
    ['', false],
  ])('%j -> %s', (user, expected) => {
    expect(isCredentialUser(user)).toBe(expected);
  });
});
