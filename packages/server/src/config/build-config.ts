import { isIP } from 'node:net';
import { formatDuration } from '@sqlwarden/yaml';
import { isLoopbackHost, formatHostPort } from '@sqlwarden/yaml';
import type { AuthConfig, ClientTlsConfig, SqlwardenConfig, TargetConfig } from './types.js';
import { DEFAULTS } from './defaults.js';
import type { PathResolver } from './path-resolver.js';
import { readTarget } from './read-target.js';
import type { Field } from '@sqlwarden/yaml';

const TOP_KEYS = ['listen', 'redis', 'redisPrefix', 'targets', 'policies', 'audit', 'tls', 'auth', 'admin', 'publicHost', 'limits', 'masking', 'log'] as const;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * Reads the whole document into a SqlwardenConfig. Problems are recorded on
 * the reader (the caller throws them together); the returned object is only
 * meaningful when none were recorded.
 */
export function buildConfig(root: Field, paths: PathResolver, file: string | undefined): SqlwardenConfig {
  if (!root.present) root.fail('the file is empty; it needs at least a targets list');
  const m = root.map(TOP_KEYS);
  if (!m) {
    return emptyConfig(paths);
  }
  const redis = readRedisUrl(m.get('redis'));
  const listenRead = readListen(m.get('listen'));
  const listen = listenRead.listen;
  const admin = readAdmin(m.get('admin'), listenRead);
  const targets = readTargets(m.get('targets'), paths, listen);
  return {
    ...(file !== undefined && { file }),
    listen,
    ...(redis !== undefined && { redis }),
    redisPrefix: readRedisPrefix(m.get('redisPrefix')),
    targets,
    policies: paths.dir(m.get('policies')) ?? paths.resolve(DEFAULTS.policies),
    audit: readAudit(m.get('audit'), paths, redis),
    ...optional('tls', readClientTls(m.get('tls'), paths)),
    auth: readAuth(m.get('auth')),
    admin,
    ...optional('publicHost', readPublicHost(m.get('publicHost'))),
    limits: readLimits(m.get('limits')),
    masking: readMasking(m.get('masking')),
    log: { level: m.get('log').map(['level'])?.get('level').oneOf(LOG_LEVELS) ?? DEFAULTS.logLevel },
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

interface ListenRead {
  listen: SqlwardenConfig['listen'];
  /** where listen.admin is written, for errors about it */
  adminField?: Field;
}

function readListen(field: Field): ListenRead {
  if (!field.present) return { listen: { postgres: { ...DEFAULTS.postgresListen } } };
  const m = field.map(['postgres', 'mysql', 'admin']);
  if (!m) return { listen: {} };
  const postgres = m.get('postgres').hostPort();
  const mysql = m.get('mysql').hostPort();
  const admin = m.get('admin').hostPort();
  if (!m.has('postgres') && !m.has('mysql')) field.fail('needs at least one of postgres or mysql (e.g. postgres: 127.0.0.1:6432)');
  const seen = new Map<string, string>();
  for (const [name, hp] of [['postgres', postgres], ['mysql', mysql], ['admin', admin]] as const) {
    if (!hp) continue;
    const key = formatHostPort(hp);
    const other = seen.get(key);
    if (other) m.get(name).fail(`${key} is already used by listen.${other}`);
    seen.set(key, name);
  }
  return {
    listen: { ...optional('postgres', postgres), ...optional('mysql', mysql), ...optional('admin', admin) },
    adminField: m.get('admin'),
  };
}

function readAdmin(field: Field, listen: ListenRead): SqlwardenConfig['admin'] {
  const tokenField = field.map(['token'])?.get('token');
  const token = tokenField?.string();
  if (tokenField && token !== undefined && token.length < DEFAULTS.minAdminTokenLength) {
    tokenField.fail(`must be at least ${DEFAULTS.minAdminTokenLength} characters (e.g. from \`openssl rand -hex 32\`)`);
  }
  const adminListen = listen.listen.admin;
  if (adminListen && listen.adminField && token === undefined && !isLoopbackHost(adminListen.host)) {
    listen.adminField.fail(`${formatHostPort(adminListen)} is not a loopback address, so admin.token is required`);
  }
  return token === undefined ? {} : { token };
}

function readRedisUrl(field: Field): string | undefined {
  const raw = field.string();
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return field.fail('must be a URL like redis://127.0.0.1:6379 or rediss://user:password@host:6380/0');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return field.fail(`must be a redis:// or rediss:// URL, not ${url.protocol}//`);
  if (!url.hostname) return field.fail('has no host');
  return raw;
}

function readRedisPrefix(field: Field): string {
  const prefix = field.string();
  if (prefix !== undefined && /\s/.test(prefix)) field.fail('must not contain whitespace');
  return prefix ?? DEFAULTS.redisPrefix;
}

function readTargets(field: Field, paths: PathResolver, listen: SqlwardenConfig['listen']): TargetConfig[] {
  const items = field.present ? field.list() : field.fail('is required: list the databases agents may reach');
  if (!items) return [];
  if (items.length === 0) field.fail('must list at least one target');
  const targets: TargetConfig[] = [];
  const names = new Map<string, number>();
  items.forEach((item, i) => {
    const t = readTarget(item, paths);
    if (!t) return;
    const prev = names.get(t.name);
    if (prev !== undefined) {
      item.reader.report(item.line, `${item.path}.name`, `duplicate target name "${t.name}" (also used by targets[${prev}])`);
      return;
    }
    names.set(t.name, i);
    if (!listen[t.protocol] && (listen.postgres || listen.mysql)) {
      item.fail(`protocol ${t.protocol} needs listen.${t.protocol}, or agents cannot reach this target`);
    }
    targets.push(t);
  });
  return targets;
}

function readAudit(field: Field, paths: PathResolver, redis: string | undefined): SqlwardenConfig['audit'] {
  const m = field.map(['file', 'redisStream', 'failClosed']);
  if (!m) return { failClosed: DEFAULTS.auditFailClosed };
  const file = paths.output(m.get('file'));
  const redisStream = m.get('redisStream').string();
  if (redisStream !== undefined && redis === undefined) m.get('redisStream').fail('needs redis to be configured');
  return {
    ...optional('file', file),
    ...optional('redisStream', redisStream),
    failClosed: m.get('failClosed').bool() ?? DEFAULTS.auditFailClosed,
  };
}

function readClientTls(field: Field, paths: PathResolver): ClientTlsConfig | undefined {
  const m = field.map(['cert', 'key', 'ca', 'required']);
  if (!m) return undefined;
  const cert = paths.file(m.required('cert'));
  const key = paths.file(m.required('key'));
  const ca = paths.file(m.get('ca'));
  const required = m.get('required').bool() ?? false;
  if (!cert || !key) return undefined;
  return { cert, key, ...optional('ca', ca), required };
}

function readAuth(field: Field): AuthConfig {
  const m = field.map(['cleartextOverTls', 'rateLimit', 'defaultTtl', 'defaultTtlMs', 'maxTtl', 'maxTtlMs']);
  const rl = m?.get('rateLimit').map(['perUser', 'perAddress', 'window', 'windowMs']);
  const defaultTtlField = m?.durationKey('defaultTtl');
  const maxTtlField = m?.durationKey('maxTtl');
  const defaultTtlMs = defaultTtlField?.duration(1000) ?? DEFAULTS.defaultTtlMs;
  const maxTtlMs = maxTtlField?.duration(1000) ?? DEFAULTS.maxTtlMs;
  if (defaultTtlMs > maxTtlMs) {
    const blame = defaultTtlField?.present ? defaultTtlField : maxTtlField;
    blame?.fail(`the default ttl (${formatDuration(defaultTtlMs)}) must not exceed the maximum ttl (${formatDuration(maxTtlMs)})`);
  }
  return {
    cleartextOverTls: m?.get('cleartextOverTls').bool() ?? DEFAULTS.cleartextOverTls,
    rateLimit: {
      perUser: rl?.get('perUser').int(1, 1_000_000) ?? DEFAULTS.rateLimit.perUser,
      perAddress: rl?.get('perAddress').int(1, 1_000_000) ?? DEFAULTS.rateLimit.perAddress,
      windowMs: rl?.durationKey('window').duration(1000) ?? DEFAULTS.rateLimit.windowMs,
    },
    defaultTtlMs,
    maxTtlMs,
  };
}

function readPublicHost(field: Field): string | undefined {
  const host = field.string();
  if (host === undefined) return undefined;
  if (isIP(host) === 0 && !HOSTNAME.test(host)) return field.fail('must be a host name or IP address (no scheme, no port)');
  return host;
}

function readLimits(field: Field): SqlwardenConfig['limits'] {
  const m = field.map(['maxMessageBytes', 'handshakeTimeout', 'handshakeTimeoutMs', 'maxConnections']);
  return {
    maxMessageBytes: m?.get('maxMessageBytes').byteSize(1024, 1024 ** 3) ?? DEFAULTS.maxMessageBytes,
    handshakeTimeoutMs: m?.durationKey('handshakeTimeout').duration(100) ?? DEFAULTS.handshakeTimeoutMs,
    maxConnections: m?.get('maxConnections').int(1, 1_000_000) ?? DEFAULTS.maxConnections,
  };
}

function readMasking(field: Field): SqlwardenConfig['masking'] {
  const m = field.map(['hashKey', 'catalogTtl']);
  const hashKey = m?.get('hashKey').string();
  const longEnough = hashKey !== undefined && Buffer.byteLength(hashKey, 'utf8') >= 16;
  if (hashKey !== undefined && !longEnough) m?.get('hashKey').fail('must be at least 16 bytes (use a long random secret, e.g. from ${ENV})');
  return {
    ...(longEnough && { hashKey }),
    catalogTtlMs: m?.durationKey('catalogTtl').duration(0) ?? DEFAULTS.catalogTtlMs,
  };
}

function emptyConfig(paths: PathResolver): SqlwardenConfig {
  return {
    listen: {},
    redisPrefix: DEFAULTS.redisPrefix,
    targets: [],
    policies: paths.resolve(DEFAULTS.policies),
    audit: { failClosed: DEFAULTS.auditFailClosed },
    auth: { cleartextOverTls: false, rateLimit: { ...DEFAULTS.rateLimit }, defaultTtlMs: DEFAULTS.defaultTtlMs, maxTtlMs: DEFAULTS.maxTtlMs },
    admin: {},
    limits: { maxMessageBytes: DEFAULTS.maxMessageBytes, handshakeTimeoutMs: DEFAULTS.handshakeTimeoutMs, maxConnections: DEFAULTS.maxConnections },
    masking: { catalogTtlMs: DEFAULTS.catalogTtlMs },
    log: { level: DEFAULTS.logLevel },
  };
}
