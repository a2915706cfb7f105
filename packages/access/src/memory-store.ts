/**
 * AccessStore for a single sqlwarden instance (the embedded demo, tests).
 * Nothing survives a restart; revocations and cancels reach only this process.
 */
import { assertCancelMessage, assertMysqlKillSignal } from './cancel-message.js';
import { Listeners } from './listeners.js';
import { mintCredential } from './mint.js';
import { overBudget, rateLimitSubject } from './rate-limit.js';
import { resolveStoreOptions, toError, type ResolvedStoreOptions, type StoreOptions } from './store-options.js';
import { StoreUnavailableError, type AccessStore, type CancelMessage, type CredentialRecord, type MysqlKillSignal, type MintRequest, type MintedCredential } from './types.js';

/** setTimeout's longest delay; longer expiries re-arm. */
const MAX_TIMER_MS = 0x7fff_ffff;
/** Bounds the failure counters a flood of made-up user names can create. */
const MAX_COUNTERS = 100_000;

interface Entry {
  record: CredentialRecord;
  timer: NodeJS.Timeout;
}

interface Counter {
  count: number;
  resetAt: number;
}

export class MemoryStore implements AccessStore {
  readonly kind = 'memory' as const;
  private readonly opts: ResolvedStoreOptions;
  private readonly records = new Map<string, Entry>();
  private readonly counters = new Map<string, Counter>();
  private readonly revokeListeners: Listeners<string>;
  private readonly cancelListeners: Listeners<CancelMessage>;
  private readonly killListeners: Listeners<MysqlKillSignal>;
  private closed = false;

  constructor(opts: StoreOptions = {}) {
    this.opts = resolveStoreOptions(opts);
    const report = (err: unknown): void => this.opts.onError(toError(err));
    this.revokeListeners = new Listeners(report);
    this.cancelListeners = new Listeners(report);
    this.killListeners = new Listeners(report);
  }

  async mint(req: MintRequest): Promise<MintedCredential> {
    this.assertOpen();
    let minted = mintCredential(req, { iterations: this.opts.iterations, maxTtlMs: this.opts.maxTtlMs });
    while (this.records.has(minted.record.user)) {
      minted = mintCredential(req, { iterations: this.opts.iterations, maxTtlMs: this.opts.maxTtlMs });
    }
    const record = structuredClone(minted.record);
    this.records.set(record.user, { record, timer: this.armExpiry(record.user, record.expiresAt) });
    return minted;
  }

  async lookup(user: string): Promise<CredentialRecord | null> {
    this.assertOpen();
    const entry = this.live(user);
    return entry ? structuredClone(entry.record) : null;
  }

  async alive(users: readonly string[]): Promise<boolean[]> {
    this.assertOpen();
    return users.map((u) => this.live(u) !== null);
  }

  async revoke(user: string): Promise<boolean> {
    this.assertOpen();
    const existed = this.live(user) !== null;
    if (existed) {
      this.remove(user);
      this.revokeListeners.emit(user);
    }
    return existed;
  }

  onRevoke(listener: (user: string) => void): () => void {
    return this.revokeListeners.add(listener);
  }

  async isRateLimited(user: string, address: string): Promise<boolean> {
    this.assertOpen();
    const { perUser, perAddress } = this.opts.rateLimit;
    return overBudget(this.count(rateLimitSubject('user', user)), perUser) || overBudget(this.count(rateLimitSubject('addr', address)), perAddress);
  }

  async recordAuthFailure(user: string, address: string): Promise<void> {
    this.assertOpen();
    this.bump(rateLimitSubject('user', user));
    this.bump(rateLimitSubject('addr', address));
  }

  async publishCancel(msg: CancelMessage): Promise<void> {
    this.assertOpen();
    this.cancelListeners.emit(assertCancelMessage(msg));
  }

  onCancel(listener: (msg: CancelMessage) => void): () => void {
    return this.cancelListeners.add(listener);
  }

  async publishMysqlKill(msg: MysqlKillSignal): Promise<void> {
    this.assertOpen();
    this.killListeners.emit(assertMysqlKillSignal(msg));
  }

  onMysqlKill(listener: (msg: MysqlKillSignal) => void): () => void {
    return this.killListeners.add(listener);
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.records.values()) clearTimeout(entry.timer);
    this.records.clear();
    this.counters.clear();
    this.revokeListeners.clear();
    this.cancelListeners.clear();
    this.killListeners.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('store closed');
  }

  /** The entry when present and unexpired; drops it when expired. */
  private live(user: string): Entry | null {
    const entry = this.records.get(user);
    if (!entry) return null;
    if (entry.record.expiresAt <= Date.now()) {
      this.remove(user);
      return null;
    }
    return entry;
  }

  private remove(user: string): void {
    const entry = this.records.get(user);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.records.delete(user);
  }

  private armExpiry(user: string, expiresAt: number): NodeJS.Timeout {
    const delay = Math.min(Math.max(expiresAt - Date.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      const entry = this.records.get(user);
      if (!entry || entry.timer !== timer) return;
      if (entry.record.expiresAt <= Date.now()) this.records.delete(user);
      else entry.timer = this.armExpiry(user, entry.record.expiresAt);
    }, delay);
    timer.unref();
    return timer;
  }

  private count(subject: string): number {
    const c = this.counters.get(subject);
    if (!c) return 0;
    if (c.resetAt <= Date.now()) {
      this.counters.delete(subject);
      return 0;
    }
    return c.count;
  }

  private bump(subject: string): void {
    const now = Date.now();
    const c = this.counters.get(subject);
    if (c && c.resetAt > now) {
      c.count++;
      return;
    }
    this.counters.delete(subject);
    if (this.counters.size >= MAX_COUNTERS) this.evictCounters(now);
    this.counters.set(subject, { count: 1, resetAt: now + this.opts.rateLimit.windowMs });
  }

  /**
   * Windows all have the same length and a renewed window is re-inserted, so
   * the map iterates in resetAt order: expired windows sit at the front, and
   * when none has expired the oldest window makes room.
   */
  private evictCounters(now: number): void {
    for (const [key, c] of this.counters) {
      if (c.resetAt > now) break;
      this.counters.delete(key);
    }
    if (this.counters.size < MAX_COUNTERS) return;
    const oldest = this.counters.keys().next();
    if (!oldest.done) this.counters.delete(oldest.value);
  }
}
