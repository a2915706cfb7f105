/**
 * Credentials minted for agents. A record never holds the secret itself, only
 * verifiers from which the secret cannot be recovered:
 *  - SCRAM-SHA-256 (RFC 5802/7677) StoredKey/ServerKey for Postgres clients;
 *  - SHA1(SHA1(pw)) for MySQL mysql_native_password;
 *  - SHA256(SHA256(pw)) for MySQL caching_sha2_password (fast path; full auth
 *    checks SHA256(SHA256(cleartext)) against the same value).
 */
export interface ScramVerifier {
  iterations: number;
  /** base64 */
  salt: string;
  /** base64 */
  storedKey: string;
  /** base64 */
  serverKey: string;
}

export interface MysqlVerifiers {
  /** hex SHA1(SHA1(password)) */
  nativeSha1Sha1: string;
  /** hex SHA256(SHA256(password)) */
  sha256Sha256: string;
}

export interface CredentialRecord {
  /** public credential id (random, appears in audit and metrics) */
  id: string;
  /** the user name the agent logs in with */
  user: string;
  agent: string;
  labels: Record<string, string>;
  target: string;
  /** epoch milliseconds */
  createdAt: number;
  /** epoch milliseconds */
  expiresAt: number;
  scram: ScramVerifier;
  mysql: MysqlVerifiers;
}

export interface MintRequest {
  agent: string;
  target: string;
  ttlMs: number;
  labels?: Record<string, string>;
}

export interface MintedCredential {
  record: CredentialRecord;
  /** the secret; returned once, never stored */
  password: string;
}

/** Why a credential cannot be used; reported to metrics, never to the client. */
export type AuthFailureReason = 'unknown_user' | 'bad_password' | 'expired' | 'revoked' | 'rate_limited' | 'wrong_target' | 'protocol' | 'store_unavailable';

export interface RateLimitConfig {
  /** failures allowed per window per user name */
  perUser: number;
  /** failures allowed per window per client address */
  perAddress: number;
  windowMs: number;
}

export interface CancelMessage {
  /** sqlwarden's own BackendKeyData process id */
  pid: number;
  /** sqlwarden's own BackendKeyData secret */
  secret: number;
}

/**
 * A MySQL KILL for a connection id this instance does not have, relayed to every instance. Only a
 * session with that id *of the asking agent* may act on it (the id alone is never enough).
 */
export interface MysqlKillRequest {
  type: 'request';
  /** the connection id sqlwarden showed the client (handshake, CONNECTION_ID as the client knows it) */
  connectionId: number;
  mode: 'query' | 'connection';
  /** the agent of the session that sent the KILL */
  agent: string;
  /** random; the owner's answers carry it */
  requestId: string;
}

/** The owning instance's answers: `accepted` at once when the session matched, `done` when the kill finished. */
export interface MysqlKillAnswer {
  type: 'answer';
  requestId: string;
  stage: 'accepted' | 'done';
}

export type MysqlKillSignal = MysqlKillRequest | MysqlKillAnswer;

/**
 * The store behind credentials, rate limits and cross-instance signals.
 * Implementations: RedisStore (shared by many instances) and MemoryStore
 * (single instance, the embedded demo). Every method rejects with
 * StoreUnavailableError when the backing store cannot be reached, so callers
 * can fail closed.
 */
export interface AccessStore {
  readonly kind: 'redis' | 'memory';
  mint(req: MintRequest): Promise<MintedCredential>;
  /** The live record, or null when unknown, expired or revoked. */
  lookup(user: string): Promise<CredentialRecord | null>;
  /** Which of these users still have a live credential (same order). */
  alive(users: readonly string[]): Promise<boolean[]>;
  /** Deletes the credential and tells every instance. Returns false when it did not exist. */
  revoke(user: string): Promise<boolean>;
  /** Called on every instance (including this one) when a credential is revoked. */
  onRevoke(listener: (user: string) => void): () => void;

  /** True when either key has exceeded its failure budget in the current window. */
  isRateLimited(user: string, address: string): Promise<boolean>;
  recordAuthFailure(user: string, address: string): Promise<void>;

  /** Relays a CancelRequest to whichever instance owns the session. */
  publishCancel(msg: CancelMessage): Promise<void>;
  onCancel(listener: (msg: CancelMessage) => void): () => void;

  /** Relays a MySQL KILL request or its answer to every instance (this one included). */
  publishMysqlKill(msg: MysqlKillSignal): Promise<void>;
  onMysqlKill(listener: (msg: MysqlKillSignal) => void): () => void;

  /** Liveness of the backing store (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`credential store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreUnavailableError';
  }
}
