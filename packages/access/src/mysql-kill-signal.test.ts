/** The MySQL KILL relay messages: only well-formed requests (with the asking agent) and answers pass. */
import { assertMysqlKillSignal, isMysqlKillSignal } from './cancel-message.js';
import { MemoryStore } from './memory-store.js';
import type { MysqlKillSignal } from './types.js';

describe('MySQL kill signals', () => {
  const request = { type: 'request', connectionId: 123456, mode: 'query', agent: 'agent-a', requestId: 'r1' };

  it('accepts a request and an answer, dropping unknown fields', () => {
    expect(isMysqlKillSignal(request)).toBe(true);
    expect(isMysqlKillSignal({ type: 'answer', requestId: 'r1', stage: 'done' })).toBe(true);
    expect(assertMysqlKillSignal({ ...request, origin: 'x' } as MysqlKillSignal)).toEqual(request);
  });

  it.each([
    ['no agent', { ...request, agent: undefined }],
    ['an empty agent', { ...request, agent: '' }],
    ['a huge agent', { ...request, agent: 'a'.repeat(257) }],
    ['id 0', { ...request, connectionId: 0 }],
    ['an id beyond 32 bits', { ...request, connectionId: 2 ** 32 }],
    ['a fractional id', { ...request, connectionId: 1.5 }],
    ['another mode', { ...request, mode: 'all' }],
    ['no request id', { ...request, requestId: '' }],
    ['an answer of another stage', { type: 'answer', requestId: 'r1', stage: 'maybe' }],
    ['another type', { ...request, type: 'cancel' }],
  ])('refuses %s', (_name, msg) => {
    expect(isMysqlKillSignal(msg)).toBe(false);
    expect(() => assertMysqlKillSignal(msg as MysqlKillSignal)).toThrow(RangeError);
  });

  it('MemoryStore delivers them to its own listeners', async () => {
    const store = new MemoryStore();
    const seen: MysqlKillSignal[] = [];
    store.onMysqlKill((m) => seen.push(m));
    await store.publishMysqlKill(request as MysqlKillSignal);
    expect(seen).toEqual([request]);
    await store.close();
  });
});
