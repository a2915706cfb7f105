/** The validated shape of sqlwarden.yaml. */
export interface HostPort {
  host: string;
  port: number;
}

export interface TlsFiles {
  /** PEM file paths */
  cert: string;
  key: string;
  ca?: string;
}

export interface TargetConfig {
  name: string;
  protocol: 'postgres' | 'mysql';
  host: string;
  port: number;
  database: string;
  user: string;
  /** never logged, never sent to agents */
  password?: string;
  tls?: {
    /** disable | prefer | require | verify-ca | verify-full (libpq's sslmode words) */
    mode: 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
    /** PEM file path of the CA that signs the upstream's certificate */
    ca?: string;
    /** client certificate for upstreams that require one */
    cert?: string;
    key?: string;
    /** expected host name when it differs from host */
    servername?: string;
  };
  /** connect timeout to the upstream, ms */
  connectTimeoutMs: number;
}

export interface ClientTlsConfig extends TlsFiles {
  /** refuse clients that do not negotiate TLS */
  required: boolean;
}

export interface AuthConfig {
  /** allow AuthenticationCleartextPassword, only ever offered over TLS */
  cleartextOverTls: boolean;
  rateLimit: { perUser: number; perAddress: number; windowMs: number };
  /** default ttl for minted credentials, ms */
  defaultTtlMs: number;
  /** longest ttl a mint may ask for, ms */
  maxTtlMs: number;
}

export interface AdminConfig {
  listen: HostPort;
  /** bearer token for the admin API; required when the admin listener is not loopback-only */
  token?: string;
}

export interface SqlwardenConfig {
  /** absolute path of the file it came from (undefined when built in memory) */
  file?: string;
  listen: {
    postgres?: HostPort;
    mysql?: HostPort;
    admin?: HostPort;
  };
  /** redis URL; absent → in-memory store (single instance) */
  redis?: string;
  /** key prefix in redis, default "sqlwarden:" */
  redisPrefix: string;
  targets: TargetConfig[];
  /** directory of policy files */
  policies: string;
  audit: { file?: string; redisStream?: string; failClosed: boolean };
  tls?: ClientTlsConfig;
  auth: AuthConfig;
  admin: { token?: string };
  /** public host name agents use to reach this instance (for printed URLs) */
  publicHost?: string;
  limits: {
    maxMessageBytes: number;
    handshakeTimeoutMs: number;
    maxConnections: number;
  };
  masking: {
    /** HMAC key of the `hash` mask function (never logged); masks using hash are refused without it */
    hashKey?: string;
    /** how long a table's catalog entry (OID → names, view definitions) is trusted, ms */
    catalogTtlMs: number;
  };
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
}
