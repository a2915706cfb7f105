import { mintCredential } from './mint.js';
import { decodeRecord, encodeRecord } from './record-codec.js';

const { record } = mintCredential({ agent: 'agent', target: 'main', ttlMs: 60_000, labels: { team: 'x' } });
const json = JSON.parse(encodeRecord(record)) as Record<string, unknown>;
const variant = (patch: Record<string, unknown>): string => JSON.stringify({ ...json, ...patch });

describe('record codec', () => {
  it('round-trips a record', () => {
    expect(decodeRecord(encodeRecord(record))).toEqual(record);
  });

  it.each([
    ['not json', '{'],
    ['not an object', '[]'],
    ['unknown version', variant({ v: 2 })],
    ['bad id', variant({ id: 'XYZ' })],
    ['user not matching id', variant({ user: 'sw_ffffffffffffffff' })],
    ['agent missing', variant({ agent: undefined })],
    ['labels not strings', variant({ labels: { a: 1 } })],
    ['expiry before creation', variant({ expiresAt: record.createdAt - 1 })],
    ['expiry not a number', variant({ expiresAt: '1' })],
    ['scram iterations', variant({ scram: { ...record.scram, iterations: 1e9 } })],
    ['scram storedKey', variant({ scram: { ...record.scram, storedKey: 'AAAA' } })],
    ['scram missing', variant({ scram: null })],
    ['mysql sha1', variant({ mysql: { ...record.mysql, nativeSha1Sha1: 'ab' } })],
    ['mysql sha256', variant({ mysql: { ...record.mysql, sha256Sha256: 'G'.repeat(64) } })],
  ])('treats a record with %s as absent', (_what, text) => {
    expect(decodeRecord(text)).toBeNull();
  });
});
