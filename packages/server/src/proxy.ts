import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { MemoryStore, RedisStore, type AccessStore } from '@sqlwarden/access';
import { MysqlEngine, PgEngine, SessionRegistry, type MysqlTarget, type PgTarget } from '@sqlwarden/engine';
import { formatPolicyIssue, PolicyDecider, PolicyStore, type Decider } from '@sqlwarden/policy';
import { analyze, AnalysisCache, AsyncAnalysisCache, initAnalyzers, MysqlAnalysisPool } from '@sqlwarden/sql';
import { Metrics, createLogger, type Logger } from '@sqlwarden/telemetry';
import { startAdminServer } from './admin/http.js';
import type { HostPort, SqlwardenConfig, TargetConfig } from './config/types.js';

export interface RunningProxy {
  close(): Promise<void>;
  addresses: { postgres?: HostPort; mysql?: HostPort; admin?: HostPort };
  store: AccessStore;
  metrics: Metrics;
  registry: SessionRegistry;
  /** reloads the policy directory now (SIGHUP); false when the new files were refused */
  reloadPolicies(): boolean;
}

export interface ProxyOptions {
  log?: Logger;
  metrics?: Metrics;
  /** replaces the policy engine at the decision point (tests) */
  decider?: Decider;
  /** an already-built store (tests, the embedded demo) */
  store?: AccessStore;
}

function readPem(path: string | undefined): Buffer | undefined {
  return path === undefined ? undefined : readFileSync(path);
}

export function toPgTarget(t: TargetConfig): PgTarget {
  return {
    name: t.name,
    host: t.host,
    port: t.port,
    database: t.database,
    user: t.user,
    password: t.password,
    connectTimeoutMs: t.connectTimeoutMs,
    tls: t.tls && {
      mode: t.tls.mode,
      ca: readPem(t.tls.ca),
      cert: readPem(t.tls.cert),
      key: readPem(t.tls.key),
      servername: t.tls.servername,
    },
  };
}

function listen(server: net.Server, at: HostPort): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      const a = server.address() as net.AddressInfo;
      resolve({ host: at.host, port: a.port });
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Loads the policy directory (a policy that cannot be loaded refuses the start: fail closed) and
 * watches it: a valid change takes effect at once, an invalid one is refused and the previous
 * policy stays in force.
 */
async function loadPolicies(config: SqlwardenConfig, log: Logger, metrics: Metrics): Promise<{ store: PolicyStore; decider: PolicyDecider }> {
  await initAnalyzers();
  const cache = new AnalysisCache(analyze);
  let decider: PolicyDecider | null = null;
  const hashKeyConfigured = config.masking.hashKey !== undefined;
  const store = new PolicyStore(config.policies, analyze, {
    onLoaded(policy) {
      metrics.policyReloads.labels('loaded').inc();
      metrics.policyVersion.set(policy.version);
      decider?.setPolicy(policy);
      log.info('policy loaded', { version: policy.version, files: policy.files.length, rules: policy.rules.length, masks: policy.masks.length });
    },
    onRejected(_issues, message) {
      metrics.policyReloads.labels('rejected').inc();
      log.error('policy refused; the previous policy stays in force', { errors: message });
    },
  }, hashKeyConfigured);
  const first = store.reload();
  if (!first.ok) throw new Error(`the policies cannot be loaded, so sqlwarden will not start:\n${first.issues.map(formatPolicyIssue).join('\n')}`);
  decider = new PolicyDecider(first.policy, cache, (dialect, kind) => metrics.parseFailures.labels(dialect, kind).inc(), {
    hashKey: config.masking.hashKey,
  });
  store.watch();
  return { store, decider };
}

/** Starts every listener named in the config. */
export async function startProxy(config: SqlwardenConfig, opts: ProxyOptions = {}): Promise<RunningProxy> {
  const log = opts.log ?? createLogger({ level: config.log.level });
  const metrics = opts.metrics ?? new Metrics();
  const store: AccessStore =
    opts.store ??
    (config.redis
      ? await RedisStore.connect({ url: config.redis, prefix: config.redisPrefix, rateLimit: config.auth.rateLimit, maxTtlMs: config.auth.maxTtlMs })
      : new MemoryStore({ rateLimit: config.auth.rateLimit, maxTtlMs: config.auth.maxTtlMs }));
  const policies = await loadPolicies(config, log, metrics);
  const registry = new SessionRegistry(store, log);
  const decider = opts.decider ?? policies.decider;
  const pgTargets = new Map<string, PgTarget>();
  for (const t of config.targets) if (t.protocol === 'postgres') pgTargets.set(t.name, toPgTarget(t));
  const mysqlTargets: MysqlTarget[] = config.targets.filter((t) => t.protocol === 'mysql').map(toPgTarget);
  const clientTls = config.tls
    ? { secureContext: tls.createSecureContext({ cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key), ca: readPem(config.tls.ca) }), required: config.tls.required }
    : undefined;

  const closers: (() => Promise<void>)[] = [];
  const addresses: RunningProxy['addresses'] = {};
  try {
    if (config.listen.postgres) {
      const engine = new PgEngine({
        store,
        registry,
        decider,
        metrics,
        log,
        target: (name) => pgTargets.get(name),
        tls: clientTls,
        cleartextOverTls: config.auth.cleartextOverTls,
        maxMessageBytes: config.limits.maxMessageBytes,
        handshakeTimeoutMs: config.limits.handshakeTimeoutMs,
        maxConnections: config.limits.maxConnections,
        fakeVerifierKey: randomBytes(32),
        catalogTtlMs: config.masking.catalogTtlMs,
      });
      const server = net.createServer({ noDelay: true }, (socket) => engine.handle(socket));
      server.on('error', (err) => log.error('postgres listener error', { err }));
      addresses.postgres = await listen(server, config.listen.postgres);
      closers.push(async () => {
        const closed = closeServer(server);
        await engine.close();
        await closed;
      });
      log.info('postgres listener ready', { address: `${addresses.postgres.host}:${addresses.postgres.port}` });
    }
    if (config.listen.mysql) {
      // MySQL statements are analysed off the event loop (worker threads), through the decider's cache
      const pool = new MysqlAnalysisPool();
      closers.push(() => pool.close());
      const analyses = new AsyncAnalysisCache(policies.decider.cache, (_dialect, sql) => pool.analyze(sql));
      const engine = new MysqlEngine({
        store,
        registry,
        decider,
        metrics,
        log,
        targets: mysqlTargets,
        tls: clientTls,
        cleartextOverTls: config.auth.cleartextOverTls,
        maxMessageBytes: config.limits.maxMessageBytes,
        handshakeTimeoutMs: config.limits.handshakeTimeoutMs,
        maxConnections: config.limits.maxConnections,
        fakeVerifierKey: randomBytes(32),
        analyze: (sql) => analyses.lookup('mysql', sql),
      });
      await Promise.all([
        engine.probe(),
        pool.ready().catch((err: unknown) => log.error('MySQL analysis workers failed to start; MySQL statements are refused until they do', { err })),
      ]);
      const server = net.createServer({ noDelay: true }, (socket) => engine.handle(socket));
      server.on('error', (err) => log.error('mysql listener error', { err }));
      addresses.mysql = await listen(server, config.listen.mysql);
      closers.push(async () => {
        const closed = closeServer(server);
        await engine.close();
        await closed;
      });
      log.info('mysql listener ready', { address: `${addresses.mysql.host}:${addresses.mysql.port}` });
    }
    if (config.listen.admin) {
      const admin = await startAdminServer({
        listen: config.listen.admin,
        token: config.admin.token,
        store,
        metrics,
        targets: config.targets,
        publicHost: config.publicHost,
        pgListen: addresses.postgres,
        mysqlListen: addresses.mysql,
        defaultTtlMs: config.auth.defaultTtlMs,
        maxTtlMs: config.auth.maxTtlMs,
        clientTlsRequired: config.tls?.required ?? false,
        ready: async () => ({ store: await store.ping().catch(() => false) }),
        log,
      });
      addresses.admin = admin.address;
      closers.push(() => admin.close());
      log.info('admin listener ready', { address: `${admin.address.host}:${admin.address.port}` });
    }
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => {});
    policies.store.close();
    registry.close();
    if (!opts.store) await store.close().catch(() => {});
    throw err;
  }

  let closing: Promise<void> | null = null;
  return {
    addresses,
    store,
    metrics,
    registry,
    reloadPolicies: () => policies.store.reload().ok,
    close() {
      closing ??= (async () => {
        for (const c of closers.reverse()) await c().catch((err: unknown) => log.warn('shutdown step failed', { err }));
        policies.store.close();
        registry.close();
        if (!opts.store) await store.close().catch(() => {});
      })();
      return closing;
    },
  };
}
