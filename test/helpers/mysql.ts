import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { Decider } from '@sqlwarden/policy';
import { Metrics, silentLogger, type Logger } from '@sqlwarden/telemetry';
import { parseConfig, startProxy, type RunningProxy, type SqlwardenConfig } from '@sqlwarden/server';
import type { AccessStore } from '@sqlwarden/access';

/** The local MariaDB/MySQL, as CI has it (SQLWARDEN_TEST_MYSQL_URL, default mysql://root@127.0.0.1:3306). */
const url = new URL(process.env.SQLWARDEN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
export const MYSQL = {
  host: url.hostname,
  port: Number(url.port || 3306),
  user: decodeURIComponent(url.username || 'root'),
  password: decodeURIComponent(url.password),
};

function suffix(): string {
  return `${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A connection as root, straight to the server (not through sqlwarden). */
export async function adminMysql(database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({ ...MYSQL, database, multipleStatements: true });
}

export async function adminMysqlQuery<T = unknown>(sql: string, database?: string): Promise<T> {
  const c = await adminMysql(database);
  try {
    const [rows] = await c.query(sql);
    return rows as T;
  } finally {
    await c.end();
  }
}

/** A database and a user with a password that owns it: a target as an operator would configure one. */
export interface MysqlTestTarget {
  /** where the database runs (default: the local MariaDB, MYSQL) */
  host?: string;
  port?: number;
  database: string;
  user: string;
  password: string;
  drop(): Promise<void>;
}

export async function createMysqlTestTarget(prefix = 'swmy'): Promise<MysqlTestTarget> {
  const s = suffix();
  const database = `${prefix}_${s}`;
  const user = `${prefix}u_${s}`.slice(0, 32);
  const password = `pw-${randomBytes(8).toString('hex')}`;
  await adminMysqlQuery(
    `CREATE DATABASE \`${database}\`; ` +
      `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'; CREATE USER '${user}'@'localhost' IDENTIFIED BY '${password}'; ` +
      `GRANT ALL ON \`${database}\`.* TO '${user}'@'%'; GRANT ALL ON \`${database}\`.* TO '${user}'@'localhost'`,
  );
  return {
    database,
    user,
    password,
    async drop() {
      await adminMysqlQuery(`DROP DATABASE IF EXISTS \`${database}\`; DROP USER IF EXISTS '${user}'@'%'; DROP USER IF EXISTS '${user}'@'localhost'`);
    },
  };
}

export interface MysqlTestProxyOptions {
  target: MysqlTestTarget;
  extraYaml?: string;
  /** more lines of the target's own block (indented 4 spaces: `    tls:\n      mode: require`) */
  targetExtraYaml?: string;
  decider?: Decider;
  log?: Logger;
  tweak?: (cfg: SqlwardenConfig) => void;
  /** a policy directory of its own (one file with this YAML, removed on close), with the masking hash key */
  masks?: { yaml: string; hashKey: string };
}

export interface MintedMysql {
  user: string;
  password: string;
  credentialId: string;
  agent: string;
}

export interface MysqlTestProxy {
  proxy: RunningProxy;
  config: SqlwardenConfig;
  host: string;
  port: number;
  store: AccessStore;
  metrics: Metrics;
  database: string;
  mint(agent?: string, opts?: { ttlMs?: number; labels?: Record<string, string> }): Promise<MintedMysql>;
  /** mysql2 connection options for a minted credential */
  options(m: MintedMysql, extra?: mysql.ConnectionOptions): mysql.ConnectionOptions;
  connect(m: MintedMysql, extra?: mysql.ConnectionOptions): Promise<mysql.Connection>;
  close(): Promise<void>;
}

/** Starts sqlwarden with a MySQL listener on an ephemeral port in front of the local MariaDB. */
export async function startMysqlTestProxy(opts: MysqlTestProxyOptions): Promise<MysqlTestProxy> {
  const t = opts.target;
  const policyDir = opts.masks ? mkdtempSync(join(tmpdir(), 'sqlwarden-mysql-policies-')) : undefined;
  if (policyDir && opts.masks) writeFileSync(join(policyDir, 'masks.yaml'), opts.masks.yaml);
  const policyYaml = policyDir && opts.masks ? `policies: ${policyDir}\nmasking:\n  hashKey: "${opts.masks.hashKey}"\n` : '';
  const yaml = `listen:
  mysql: 127.0.0.1:6033
targets:
  - name: app
    protocol: mysql
    host: ${t.host ?? MYSQL.host}
    port: ${t.port ?? MYSQL.port}
    database: ${t.database}
    user: ${t.user}
    password: "${t.password}"
${opts.targetExtraYaml ?? ''}${policyYaml}${opts.extraYaml ?? ''}`;
  const config = parseConfig(yaml, { baseDir: process.cwd() });
  config.listen.mysql = { host: '127.0.0.1', port: 0 };
  opts.tweak?.(config);
  const metrics = new Metrics();
  const proxy = await startProxy(config, { log: opts.log ?? silentLogger, metrics, decider: opts.decider });
  const addr = proxy.addresses.mysql;
  if (!addr) throw new Error('no mysql listener');
  const tp: MysqlTestProxy = {
    proxy,
    config,
    host: addr.host,
    port: addr.port,
    store: proxy.store,
    metrics,
    database: t.database,
    async mint(agent = `agent_${randomBytes(3).toString('hex')}`, o = {}) {
      const m = await proxy.store.mint({ agent, target: 'app', ttlMs: o.ttlMs ?? 10 * 60_000, labels: o.labels });
      return { user: m.record.user, password: m.password, credentialId: m.record.id, agent };
    },
    options(m, extra = {}) {
      return { host: addr.host, port: addr.port, user: m.user, password: m.password, database: t.database, ...extra };
    },
    connect(m, extra = {}) {
      return mysql.createConnection(tp.options(m, extra));
    },
    async close() {
      await proxy.close();
      if (policyDir) rmSync(policyDir, { recursive: true, force: true });
    },
  };
  return tp;
}
