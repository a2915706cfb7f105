import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, RedisStore } from '@sqlwarden/access';
import { Metrics, silentLogger } from '@sqlwarden/telemetry';
import { startAdminServer, type AdminServer } from '../admin/http.js';
import type { CliIo } from './io.js';
import { main } from './main.js';

const REDIS_URL = process.env.SQLWARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = 'cli-test-token-0123456789abcdef';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
    exit: (code) => {
      throw new Error(`unexpected exit(${code})`);
    },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const TARGETS = `targets:
  - name: app
    protocol: postgres
    host: 127.0.0.1
    database: appdb
    user: app
  - name: reports
    protocol: postgres
    host: 127.0.0.1
    database: reports
    user: app
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqlwarden-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('sqlwarden: help, version and errors', () => {
  it('prints usage for help, --help and no arguments', async () => {
    for (const argv of [[], ['help'], ['--help']]) {
      const r = await cli(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: sqlwarden COMMAND');
      for (const cmd of ['start', 'mint', 'revoke', 'demo']) expect(r.stdout).toContain(`  ${cmd} `);
    }
  });

  it('prints the version', async () => {
    const r = await cli(['--version']);
    expect(r).toEqual({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+.*\n$/), stderr: '' });
  });

  it('exits 2 on usage errors, naming the problem and the usage', async () => {
    const r = await cli(['mint', '--agent', 'a']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sqlwarden: --target TARGET is required\nUsage: sqlwarden mint/);
  });

  it('exits 1 with every config problem on its own line', async () => {
    const file = writeConfig('bad.yaml', `log: { level: loud }\ntargets:\n  - name: app\n    protocol: postgres\n    host: h\n    port: 0\n    database: d\n    user: u\n`);
    const r = await cli(['mint', '-c', file, '--agent', 'a', '--target', 'app']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `sqlwarden: ${file}:1: log.level: must be one of debug, info, warn, error; got "loud"\n` + `sqlwarden: ${file}:6: targets[0].port: must be an integer from 1 to 65535\n`,
    );
  });

  it('names the known targets for an unknown one', async () => {
    const file = writeConfig('targets.yaml', `listen: { postgres: 127.0.0.1:6432, admin: 127.0.0.1:1 }\n${TARGETS}`);
    const r = await cli(['mint', '-c', file, '--agent', 'a', '--target', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sqlwarden: unknown target "nope"; known targets: app, reports\n');
  });

  it('explains that a config without redis needs listen.admin to mint', async () => {
    const file = writeConfig('noadmin.yaml', TARGETS);
    const r = await cli(['mint', '-c', file, '--agent', 'a', '--target', 'app']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has neither redis nor listen.admin');
  });

  it('reports an unreachable admin API', async () => {
    const file = writeConfig('deadadmin.yaml', `listen: { postgres: 127.0.0.1:6432, admin: 127.0.0.1:1 }\n${TARGETS}`);
    const r = await cli(['revoke', '-c', file, 'sw_0000000000000000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the sqlwarden admin API at http://127.0.0.1:1');
  });
});

describe('sqlwarden mint / revoke through the admin API (no redis)', () => {
  let admin: AdminServer;
  let store: MemoryStore;
  let file: string;
  beforeAll(async () => {
    store = new MemoryStore();
    admin = await startAdminServer({
      listen: { host: '127.0.0.1', port: 0 },
      token: TOKEN,
      store,
      metrics: new Metrics(),
      targets: [
        { name: 'app', protocol: 'postgres', host: '127.0.0.1', port: 5432, database: 'appdb', user: 'app', tls: { mode: 'disable' }, connectTimeoutMs: 5000 },
        { name: 'reports', protocol: 'postgres', host: '127.0.0.1', port: 5432, database: 'reports', user: 'app', tls: { mode: 'disable' }, connectTimeoutMs: 5000 },
      ],
      pgListen: { host: '127.0.0.1', port: 6432 },
      defaultTtlMs: 900_000,
      maxTtlMs: 86_400_000,
      ready: async () => ({}),
      log: silentLogger,
    });
    file = writeConfig('admin.yaml', `listen:\n  postgres: 127.0.0.1:6432\n  admin: 127.0.0.1:${admin.address.port}\nadmin:\n  token: \${TOKEN}\n${TARGETS}`);
  });
  afterAll(async () => {
    await admin.close();
    await store.close();
  });

  it('mints (--json), revokes, and exits 1 for a credential that is gone', async () => {
    const r = await cli(['mint', '-c', file, '--agent', 'cli-bot', '--target', 'reports', '--ttl', '10m', '--label', 'run=9', '--json'], { TOKEN });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.endsWith('\n') && r.stdout.trim().split('\n')).toHaveLength(1);
    const cred = JSON.parse(r.stdout) as Record<string, string>;
    expect(cred).toEqual({
      user: expect.stringMatching(/^sw_/),
      password: expect.any(String),
      expiresAt: expect.any(String),
      target: 'reports',
      url: `postgresql://${cred.user}:${encodeURIComponent(cred.password)}@127.0.0.1:6432/reports`,
      agent: 'cli-bot',
      credentialId: expect.any(String),
    });
    expect(await store.lookup(cred.user)).toMatchObject({ agent: 'cli-bot', labels: { run: '9' } });

    expect(await cli(['revoke', '-c', file, cred.user], { TOKEN })).toEqual({ code: 0, stdout: `revoked ${cred.user}\n`, stderr: '' });
    expect(await store.lookup(cred.user)).toBeNull();
    const again = await cli(['revoke', '-c', file, cred.user], { TOKEN });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no live credential for user "${cred.user}"`);
  });

  it('prints a human-readable block without --json', async () => {
    const r = await cli(['mint', '-c', file, '--agent', 'cli-bot', '--target', 'app'], { TOKEN });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Credential for agent "cli-bot" on target "app", expires .+ \(in 15m\)\.\n {2}user: {5}sw_/);
    expect(r.stdout).toContain('psql "postgresql://');
  });

  it('reports a wrong admin token', async () => {
    const r = await cli(['mint', '-c', file, '--agent', 'a', '--target', 'app'], { TOKEN: 'wrong-token-wrong-token' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused the request: missing or wrong admin token');
  });
});

describe('sqlwarden mint / revoke directly in Redis', () => {
  const prefix = `sqlwarden-test-${randomBytes(6).toString('hex')}:`;
  let file: string;
  let store: RedisStore;
  beforeAll(async () => {
    file = writeConfig('redis.yaml', `redis: \${REDIS_URL}\nredisPrefix: "${prefix}"\npublicHost: db-proxy.internal\n${TARGETS}`);
    store = await RedisStore.connect({ url: REDIS_URL, prefix });
  });
  afterAll(async () => {
    await store.close();
  });

  it('mints into Redis with the shared code path and revokes it', async () => {
    const r = await cli(['mint', '-c', file, '--agent', 'redis-bot', '--target', 'app', '--ttl', '1m', '--label', 'team=data', '--json'], { REDIS_URL });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const cred = JSON.parse(r.stdout) as Record<string, string>;
    expect(cred.url).toBe(`postgresql://${cred.user}:${encodeURIComponent(cred.password)}@db-proxy.internal:6432/appdb`);
    expect(Date.parse(cred.expiresAt) - Date.now()).toBeGreaterThan(50_000);
    const record = await store.lookup(cred.user);
    expect(record).toMatchObject({ id: cred.credentialId, agent: 'redis-bot', target: 'app', labels: { team: 'data' } });

    const revoked = await cli(['revoke', '-c', file, cred.user], { REDIS_URL });
    expect(revoked).toEqual({ code: 0, stdout: `revoked ${cred.user}\n`, stderr: '' });
    expect(await store.lookup(cred.user)).toBeNull();
  });

  it('exits 1 when revoking a user that does not exist', async () => {
    const r = await cli(['revoke', '-c', file, 'sw_00000000deadbeef'], { REDIS_URL });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sqlwarden: no live credential for user "sw_00000000deadbeef" (unknown, expired or already revoked)\n');
  });

  it('fails cleanly when Redis is unreachable', async () => {
    const dead = writeConfig('deadredis.yaml', `redis: redis://127.0.0.1:1\n${TARGETS}`);
    const r = await cli(['mint', '-c', dead, '--agent', 'a', '--target', 'app']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sqlwarden: cannot connect to redis at redis:\/\/127\.0\.0\.1:1: credential store unavailable: /);
  });
});
