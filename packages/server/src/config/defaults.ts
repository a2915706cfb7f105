import type { HostPort } from './types.js';

/** Defaults applied to settings a config file leaves out. */
export const DEFAULTS = {
  /** used only when the file has no `listen` block at all */
  postgresListen: { host: '127.0.0.1', port: 6432 } satisfies HostPort,
  redisPrefix: 'sqlwarden:',
  policies: './policies',
  auditFailClosed: true,
  cleartextOverTls: false,
  rateLimit: { perUser: 10, perAddress: 50, windowMs: 60_000 },
  defaultTtlMs: 15 * 60_000,
  maxTtlMs: 24 * 3_600_000,
  maxMessageBytes: 64 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  maxConnections: 10_000,
  catalogTtlMs: 60_000,
  logLevel: 'info',
  connectTimeoutMs: 5_000,
  upstreamPort: { postgres: 5432, mysql: 3306 },
  /** an admin token must be at least this long */
  minAdminTokenLength: 16,
} as const;
