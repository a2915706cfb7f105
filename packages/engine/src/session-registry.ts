import { randomInt, timingSafeEqual } from 'node:crypto';
import type { AccessStore } from '@sqlwarden/access';
import type { Logger } from '@sqlwarden/telemetry';

export type EndReason = 'revoked' | 'expired' | 'shutdown' | 'admin';

/** What the registry needs of a live session, whatever its protocol. */
export interface LiveSession {
  readonly id: string;
  readonly user: string;
  readonly protocol: 'postgres' | 'mysql';
  readonly expiresAt: number;
  /** Ends the session with a message to the client that says why. */
  end(reason: EndReason): void;
  /** Cancels the statement running upstream (a CancelRequest / KILL QUERY arrived for it). */
  cancelUpstream(): void;
}

interface CancelKey {
  secret: number;
  session: LiveSession;
}

function secretEquals(a: number, b: number): boolean {
  const x = Buffer.alloc(4);
  const y = Buffer.alloc(4);
  x.writeInt32BE(a | 0);
  y.writeInt32BE(b | 0);
  return timingSafeEqual(x, y);
}

/**
 * The live sessions of this instance: ends them when their credential is revoked (pub/sub from
 * any instance, plus a sweep every second that also catches a missed message) or expires (a timer),
 * and maps sqlwarden's own cancel keys to sessions.
 */
export class SessionRegistry {
  private readonly byUser = new Map<string, Set<LiveSession>>();
  private readonly expiry = new Map<LiveSession, NodeJS.Timeout>();
  private readonly cancelKeys = new Map<number, CancelKey>();
  private readonly pidOf = new Map<LiveSession, number>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly offRevoke: () => void;
  private readonly offCancel: () => void;
  private sweeping = false;

  constructor(
    private readonly store: AccessStore,
    private readonly log: Logger,
    sweepMs = 1000,
  ) {
    this.offRevoke = store.onRevoke((user) => this.endUser(user, 'revoked'));
    this.offCancel = store.onCancel(({ pid, secret }) => this.cancelLocal(pid, secret));
    this.sweeper = setInterval(() => void this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  get size(): number {
    let n = 0;
    for (const s of this.byUser.values()) n += s.size;
    return n;
  }

  list(): LiveSession[] {
    return [...this.byUser.values()].flatMap((s) => [...s]);
  }

  add(session: LiveSession): void {
    let set = this.byUser.get(session.user);
    if (!set) this.byUser.set(session.user, (set = new Set()));
    set.add(session);
    const ms = session.expiresAt - Date.now();
    if (ms <= 0) {
      queueMicrotask(() => session.end('expired'));
      return;
    }
    // setTimeout holds at most ~24.8 days; credentials live far shorter
    const t = setTimeout(() => session.end('expired'), Math.min(ms, 2 ** 31 - 1));
    t.unref();
    this.expiry.set(session, t);
  }

  remove(session: LiveSession): void {
    const set = this.byUser.get(session.user);
    if (set) {
      set.delete(session);
      if (set.size === 0) this.byUser.delete(session.user);
    }
    const t = this.expiry.get(session);
    if (t) clearTimeout(t);
    this.expiry.delete(session);
    const pid = this.pidOf.get(session);
    if (pid !== undefined) this.cancelKeys.delete(pid);
    this.pidOf.delete(session);
  }

  endUser(user: string, reason: EndReason): number {
    const set = this.byUser.get(user);
    if (!set) return 0;
    const sessions = [...set];
    for (const s of sessions) s.end(reason);
    return sessions.length;
  }

  endAll(reason: EndReason): void {
    for (const s of this.list()) s.end(reason);
  }

  /** Issues a fresh cancel key (pid, secret) for a session; the pid is unique on this instance. */
  issueCancelKey(session: LiveSession): { pid: number; secret: number } {
    let pid: number;
    do pid = randomInt(1, 2 ** 31 - 1);
    while (this.cancelKeys.has(pid));
    const secret = randomInt(-(2 ** 31), 2 ** 31 - 1);
    this.cancelKeys.set(pid, { secret, session });
    this.pidOf.set(session, pid);
    return { pid, secret };
  }

  /**
   * Registers a key chosen by the caller (MySQL: the connection id shown in the handshake, with a
   * secret derived from the agent, so a KILL QUERY relayed from another instance reaches only the same
   * agent's session). False when the id is already taken on this instance (the key is then not kept).
   */
  addCancelKey(session: LiveSession, pid: number, secret: number): boolean {
    if (this.cancelKeys.has(pid) || this.pidOf.has(session)) return false;
    this.cancelKeys.set(pid, { secret, session });
    this.pidOf.set(session, pid);
    return true;
  }

  /** True when this instance has a cancel key with this id (for choosing a fresh MySQL connection id). */
  hasCancelKey(pid: number): boolean {
    return this.cancelKeys.has(pid);
  }

  /** Cancels locally when this instance owns the key; true when it did. */
  cancelLocal(pid: number, secret: number): boolean {
    const k = this.cancelKeys.get(pid);
    if (!k || !secretEquals(k.secret, secret)) return false;
    k.session.cancelUpstream();
    return true;
  }

  /** A CancelRequest arrived: handle it here, or relay it to the instance that owns the key. */
  async cancel(pid: number, secret: number): Promise<void> {
    if (this.cancelLocal(pid, secret)) return;
    if (this.store.kind === 'redis') await this.store.publishCancel({ pid, secret });
  }

  private async sweep(): Promise<void> {
    if (this.sweeping || this.byUser.size === 0) return;
    this.sweeping = true;
    try {
      const users = [...this.byUser.keys()];
      const alive = await this.store.alive(users);
      const now = Date.now();
      users.forEach((u, i) => {
        if (alive[i]) return;
        for (const session of [...(this.byUser.get(u) ?? [])]) session.end(session.expiresAt <= now ? 'expired' : 'revoked');
      });
    } catch (err) {
      // store unreachable: live sessions keep going; new sessions are refused at login
      this.log.warn('credential sweep failed', { err });
    } finally {
      this.sweeping = false;
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.offRevoke();
    this.offCancel();
    for (const t of this.expiry.values()) clearTimeout(t);
  }
}
