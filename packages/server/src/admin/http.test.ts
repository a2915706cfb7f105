import { networkInterfaces } from 'node:os';
import { MemoryStore, StoreUnavailableError, type AccessStore } from '@sqlwarden/access';
import { createLogger, Metrics } from '@sqlwarden/telemetry';
import type { TargetConfig } from '../config/types.js';
import { startAdminServer, type AdminServer, type AdminServerOptions } from './http.js';

const TOKEN = 'test-admin-token-0123456789';
const targets: TargetConfig[] = [
  { name: 'app', protocol: 'postgres', host: 'db', port: 5432, database: 'appdb', user: 'u', password: 'upstream-secret', tls: { mode: 'disable' }, connectTimeoutMs: 5000 },
  { name: 'shop', protocol: 'mysql', host: 'my', port: 3306, database: 'shop', user: 'u', tls: { mode: 'disable' }, connectTimeoutMs: 5000 },
];

interface Harness {
  admin: AdminServer;
  base: string;
  store: AccessStore;
  metrics: Metrics;
  logs: string[];
  readiness: Record<string, boolean>;
}

const running: Array<{ admin: AdminServer; store: AccessStore }> = [];

async function start(overrides: Partial<AdminServerOptions> = {}): Promise<Harness> {
  const store = overrides.store ?? new MemoryStore();
  const metrics = new Metrics();
  const logs: string[] = [];
  const readiness: Record<string, boolean> = { store: true, upstream_app: true };
  const admin = await startAdminServer({
    listen: { host: '127.0.0.1', port: 0 },
    token: TOKEN,
    store,
    metrics,
    targets,
    pgListen: { host: '0.0.0.0', port: 6432 },
    mysqlListen: { host: '127.0.0.1', port: 6033 },
    defaultTtlMs: 15 * 60_000,
    maxTtlMs: 24 * 3_600_000,
    ready: async () => readiness,
    log: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
    ...overrides,
  });
  running.push({ admin, store });
  return { admin, base: `http://127.0.0.1:${admin.address.port}`, store, metrics, logs, readiness };
}

afterEach(async () => {
  for (const { admin, store } of running.splice(0)) {
    await admin.close();
    await store.close();
  }
});

const auth = { authorization: `Bearer ${TOKEN}` };
const json = { 'content-type': 'application/json' };

function mint(h: Harness, body: unknown, headers: Record<string, string> = { ...auth, ...json }) {
  return fetch(`${h.base}/v1/credentials`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('admin HTTP: operations endpoints', () => {
  it('GET /healthz answers ok without a token', async () => {
    const h = await start();
    const res = await fetch(`${h.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('GET /readyz is 200 when every check passes and 503 when one fails', async () => {
    const h = await start();
    let res = await fetch(`${h.base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, checks: { store: true, upstream_app: true } });
    h.readiness.upstream_app = false;
    res = await fetch(`${h.base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { store: true, upstream_app: false } });
  });

  it('GET /readyz is 503 when the check itself throws', async () => {
    const h = await start({ ready: async () => Promise.reject(new Error('boom')) });
    const res = await fetch(`${h.base}/readyz`);
    expect(res.status).toBe(503);
  });

  it('GET /metrics serves the Prometheus text format', async () => {
    const h = await start();
    const res = await fetch(`${h.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(h.metrics.registry.contentType);
    const text = await res.text();
    expect(text).toContain('# TYPE sqlwarden_credentials_minted_total counter');
    expect(text).toContain('sqlwarden_process_');
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    const h = await start();
    expect((await fetch(`${h.base}/nope`)).status).toBe(404);
    const res = await fetch(`${h.base}/healthz`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });
});

describe('admin HTTP: credentials API', () => {
  it('requires the bearer token', async () => {
    const h = await start();
    const none = await mint(h, { agent: 'a', target: 'app' }, json);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(await none.json()).toEqual({ error: expect.stringContaining('admin token') });
    const wrong = await mint(h, { agent: 'a', target: 'app' }, { authorization: 'Bearer not-the-token', ...json });
    expect(wrong.status).toBe(401);
    const revoke = await fetch(`${h.base}/v1/credentials/sw_0000000000000000`, { method: 'DELETE' });
    expect(revoke.status).toBe(401);
    // unknown /v1 paths do not reveal themselves before auth
    expect((await fetch(`${h.base}/v1/other`)).status).toBe(401);
  });

  it('mints a credential that the store knows, with a working URL', async () => {
    const h = await start();
    const before = Date.now();
    const res = await mint(h, { agent: 'report-bot', target: 'app', ttl: '30m', labels: { run: '42' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['agent', 'credentialId', 'expiresAt', 'password', 'target', 'url', 'user']);
    expect(body.agent).toBe('report-bot');
    expect(body.target).toBe('app');
    expect(body.password.length).toBeGreaterThanOrEqual(22);
    expect(body.url).toBe(`postgresql://${encodeURIComponent(body.user)}:${encodeURIComponent(body.password)}@127.0.0.1:6432/appdb`);
    const expires = Date.parse(body.expiresAt);
    expect(new Date(expires).toISOString()).toBe(body.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 30 * 60_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 30 * 60_000 + 1000);
    const record = await h.store.lookup(body.user);
    expect(record).toMatchObject({ id: body.credentialId, agent: 'report-bot', target: 'app', labels: { run: '42' } });
    expect(await h.metrics.registry.getSingleMetricAsString('sqlwarden_credentials_minted_total')).toContain('sqlwarden_credentials_minted_total 1');
    // never log the password, the token or the upstream password
    const logs = h.logs.join('');
    expect(logs).toContain('credential minted');
    expect(logs).not.toContain(body.password);
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain('upstream-secret');
  });

  it('mints mysql credentials on the mysql listener, in milliseconds of ttl', async () => {
    const h = await start({ publicHost: 'proxy.example.com' });
    const res = await mint(h, { agent: 'a', target: 'shop', ttl: 60_000 });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, string>;
    expect(body.url).toMatch(/^mysql:\/\/sw_[0-9a-f]+:[^@]+@proxy\.example\.com:6033\/shop$/);
  });

  it('revokes a credential, and 404s when it is gone', async () => {
    const h = await start();
    const body = (await (await mint(h, { agent: 'a', target: 'app' })).json()) as Record<string, string>;
    const res = await fetch(`${h.base}/v1/credentials/${encodeURIComponent(body.user)}`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ revoked: true });
    expect(await h.store.lookup(body.user)).toBeNull();
    const again = await fetch(`${h.base}/v1/credentials/${encodeURIComponent(body.user)}`, { method: 'DELETE', headers: auth });
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ error: expect.stringContaining('no live credential') });
    expect(await h.metrics.registry.getSingleMetricAsString('sqlwarden_credentials_revoked_total')).toContain('sqlwarden_credentials_revoked_total 1');
  });

  it.each<[string, unknown, number, string]>([
    ['unknown target', { agent: 'a', target: 'nope' }, 400, 'unknown target "nope"; known targets: app, shop'],
    ['ttl above the maximum', { agent: 'a', target: 'app', ttl: '2d' }, 400, 'exceeds the maximum of 1d'],
    ['bad agent', { agent: '', target: 'app' }, 400, 'agent must be'],
    ['unknown field', { agent: 'a', target: 'app', tll: '1m' }, 400, 'unknown field "tll"'],
    ['not an object', [1, 2], 400, 'must be a JSON object'],
    ['malformed JSON', '{"agent":', 400, 'not valid JSON'],
    ['too large', JSON.stringify({ agent: 'a', target: 'app', labels: { x: 'y'.repeat(70_000) } }), 413, 'exceeds 65536 bytes'],
  ])('refuses %s', async (_name, body, status, message) => {
    const h = await start();
    const res = await mint(h, body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toContain(message);
  });

  it('refuses a body that is not declared as JSON (415)', async () => {
    const h = await start();
    const res = await mint(h, { agent: 'a', target: 'app' }, { ...auth, 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
  });

  it('answers 503 when the store is unavailable', async () => {
    const inner = new MemoryStore();
    const broken: AccessStore = Object.assign(Object.create(inner) as AccessStore, {
      mint: async () => Promise.reject(new StoreUnavailableError(new Error('connection refused'))),
      close: () => inner.close(),
    });
    const h = await start({ store: broken });
    const res = await mint(h, { agent: 'a', target: 'app' });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'credential store unavailable: connection refused' });
  });

  it('without a token serves /v1 to loopback peers', async () => {
    const h = await start({ token: undefined });
    expect((await mint(h, { agent: 'a', target: 'app' }, json)).status).toBe(201);
  });

  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  (external ? it : it.skip)('without a token refuses /v1 to non-loopback peers', async () => {
    const h = await start({ token: undefined, listen: { host: '0.0.0.0', port: 0 } });
    const base = `http://${external}:${h.admin.address.port}`;
    const res = await fetch(`${base}/v1/credentials`, { method: 'POST', headers: json, body: JSON.stringify({ agent: 'a', target: 'app' }) });
    expect(res.status).toBe(401);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
