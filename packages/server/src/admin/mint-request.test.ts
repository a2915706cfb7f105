import type { TargetConfig } from '../config/types.js';
import { MintRequestError, parseMintRequest, type MintInput } from './mint-request.js';

const target: TargetConfig = { name: 'app', protocol: 'postgres', host: 'db', port: 5432, database: 'app', user: 'u', tls: { mode: 'disable' }, connectTimeoutMs: 5000 };
const limits = { targets: [target, { ...target, name: 'analytics' }], defaultTtlMs: 900_000, maxTtlMs: 3_600_000 };

describe('parseMintRequest', () => {
  it('applies the default ttl and empty labels', () => {
    expect(parseMintRequest({ agent: 'bot-1', target: 'app' }, limits).request).toEqual({ agent: 'bot-1', target: 'app', ttlMs: 900_000, labels: {} });
  });

  it.each([
    ['30m', 1_800_000],
    [60_000, 60_000],
    ['1h', 3_600_000],
  ])('ttl %p → %p ms', (ttl, ms) => {
    expect(parseMintRequest({ agent: 'a', target: 'app', ttl }, limits).request.ttlMs).toBe(ms);
  });

  it.each<[string, MintInput, string]>([
    ['missing agent', { target: 'app' }, 'agent must be'],
    ['agent with spaces', { agent: 'my bot', target: 'app' }, 'agent must be'],
    ['agent with a colon', { agent: 'a:b', target: 'app' }, 'agent must be'],
    ['missing target', { agent: 'a' }, 'target is required; known targets: app, analytics'],
    ['unknown target', { agent: 'a', target: 'nope' }, 'unknown target "nope"; known targets: app, analytics'],
    ['ttl too long', { agent: 'a', target: 'app', ttl: '2h' }, 'ttl 2h exceeds the maximum of 1h'],
    ['ttl too short', { agent: 'a', target: 'app', ttl: 10 }, 'ttl must be at least 1s'],
    ['ttl not a duration', { agent: 'a', target: 'app', ttl: 'soon' }, 'ttl: "soon" is not a duration'],
    ['ttl of the wrong type', { agent: 'a', target: 'app', ttl: true }, 'ttl must be a duration'],
    ['labels as a list', { agent: 'a', target: 'app', labels: ['x'] }, 'labels must be an object'],
    ['label with a number value', { agent: 'a', target: 'app', labels: { run: 5 } }, 'label "run" must have a string value'],
    ['bad label name', { agent: 'a', target: 'app', labels: { 'bad key': 'x' } }, 'label name "bad key"'],
  ])('%s', (_name, input, message) => {
    expect(() => parseMintRequest(input, limits)).toThrow(MintRequestError);
    expect(() => parseMintRequest(input, limits)).toThrow(message);
  });
});
