import { RedisStore, type AccessStore } from '@sqlwarden/access';
import type { Decider } from '@sqlwarden/policy';
import { Metrics, silentLogger, type Logger } from '@sqlwarden/telemetry';
import { parseConfig, startProxy, type RunningProxy, type SqlwardenConfig } from '@sqlwarden/server';
import { PG, REDIS_URL, uniqueName } from './servers.js';

export interface TestProxyOptions {
  /** database the default target points at */
  database: string;
  /** extra YAML appended to the generated config (top-level keys) */
  extraYaml?: string;
  /** replaces the generated targets block */
  targetsYaml?: string;
  decider?: Decider;
  /** share a Redis store under this prefix (two instances = same prefix); default: in-memory */
  redisPrefix?: string;
  log?: Logger;
  /** mutate the parsed config before start */
  tweak?: (cfg: SqlwardenConfig) => void;
}

export interface MintedForTest {
  user: string;
  password: string;
  /** a libpq URL through the proxy */
  url: string;
  credentialId: string;
}

export interface TestProxy {
  proxy: RunningProxy;
  config: SqlwardenConfig;
  host: string;
  port: number;
  adminPort?: number;
  store: AccessStore;
  metrics: Metrics;
  mint(agent?: string, opts?: { ttlMs?: number; target?: string; labels?: Record<string, string> }): Promise<MintedForTest>;
  /** node-postgres connection options for a minted credential */
  pgOptions(m: MintedForTest, extra?: Record<string, unknown>): { host: string; port: number; user: string; password: string; database: string } & Record<string, unknown>;
  close(): Promise<void>;
}

export function targetYaml(name: string, database: string, extra = ''): string {
  return `  - name: ${name}
    protocol: postgres
    host: ${PG.host}
    port: ${PG.port}
    database: ${database}
    user: ${PG.user}
${extra}`;
}

/** Starts sqlwarden on ephemeral ports in front of the local Postgres. */
export async function startTestProxy(opts: TestProxyOptions): Promise<TestProxy> {
  const yaml = `listen:
  postgres: 127.0.0.1:6432
  admin: 127.0.0.1:8080
targets:
${opts.targetsYaml ?? targetYaml('app', opts.database)}
${opts.redisPrefix ? `redis: ${REDIS_URL}\nredisPrefix: "${opts.redisPrefix}"\n` : ''}${opts.extraYaml ?? ''}`;
  const config = parseConfig(yaml, { baseDir: process.cwd() });
  // ephemeral ports so suites can run side by side
  if (config.listen.postgres) config.listen.postgres = { host: '127.0.0.1', port: 0 };
  if (config.listen.admin) config.listen.admin = { host: '127.0.0.1', port: 0 };
  opts.tweak?.(config);
  const metrics = new Metrics();
  const proxy = await startProxy(config, { log: opts.log ?? silentLogger, metrics, decider: opts.decider });
  const pgAddr = proxy.addresses.postgres;
  if (!pgAddr) throw new Error('no postgres listener');
  const defaultTarget = config.targets[0]?.name ?? 'app';
  const t: TestProxy = {
    proxy,
    config,
    host: pgAddr.host,
    port: pgAddr.port,
    adminPort: proxy.addresses.admin?.port,
    store: proxy.store,
    metrics,
    async mint(agent = uniqueName('agent'), o = {}) {
      const m = await proxy.store.mint({ agent, target: o.target ?? defaultTarget, ttlMs: o.ttlMs ?? 10 * 60_000, labels: o.labels });
      const target = config.targets.find((x) => x.name === (o.target ?? defaultTarget));
      const db = target?.database ?? opts.database;
      return {
        user: m.record.user,
        password: m.password,
        credentialId: m.record.id,
        url: `postgresql://${encodeURIComponent(m.record.user)}:${encodeURIComponent(m.password)}@${pgAddr.host}:${pgAddr.port}/${encodeURIComponent(db)}`,
      };
    },
    pgOptions(m, extra = {}) {
      const target = config.targets[0];
      return { host: pgAddr.host, port: pgAddr.port, user: m.user, password: m.password, database: target?.database ?? opts.database, ...extra };
    },
    close: () => proxy.close(),
  };
  return t;
}

/** A second RedisStore on the same prefix, for cleanup and cross-instance checks. */
export async function redisStore(prefix: string): Promise<RedisStore> {
  return RedisStore.connect({ url: REDIS_URL, prefix });
}

/** Deletes every Redis key under a test prefix. */
export async function cleanRedisPrefix(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
