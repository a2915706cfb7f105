import { generateKeyPair, generateKeyPairSync, randomInt, randomUUID } from 'node:crypto';
import type net from 'node:net';
import type { MysqlKillSignal } from '@sqlwarden/access';
import type { HandshakeV10 } from '@sqlwarden/wire-mysql';
import type { RsaKeyPair } from './client-auth.js';
import { MysqlCatalog } from './mysql-catalog.js';
import { MysqlSession, type MysqlEngineDeps } from './mysql-session.js';
import type { MysqlTarget } from './mysql-target.js';
import { probeMysqlUpstream } from './upstream-connect.js';

export type MysqlEngineOptions = Omit<
  MysqlEngineDeps,
  'overConnectionLimit' | 'rsaKey' | 'upstreamHandshake' | 'noteUpstream' | 'issueConnectionId' | 'sessionByConnectionId' | 'target' | 'catalog' | 'relayKill'
> & {
  maxConnections: number;
  /** the mysql targets, in config order (the first one's version is what clients are shown) */
  targets: readonly MysqlTarget[];
};

const RSA_BITS = 2048;
/** How long a relayed KILL waits for the owning instance to say the session is there (pub/sub round trip). */
const KILL_ACCEPT_MS = 2000;
/** How long it then waits for that instance to finish the kill (a side-connection login and KILL upstream). */
const KILL_DONE_MS = 15_000;

/** The MySQL protocol engine: one MysqlSession per accepted client socket. */
export class MysqlEngine {
  private readonly sessions = new Set<MysqlSession>();
  private readonly byConnectionId = new Map<number, MysqlSession>();
  private readonly handshakes = new Map<string, HandshakeV10>();
  private readonly targets: Map<string, MysqlTarget>;
  private readonly order: readonly MysqlTarget[];
  private readonly deps: MysqlEngineDeps;
  private rsa: RsaKeyPair | null = null;
  private readonly catalogs = new Map<string, MysqlCatalog>();
  /** relayed KILLs of this instance waiting for the owner's answers, by request id */
  private readonly pendingKills = new Map<string, { accepted(): void; done(): void }>();
  private readonly offKill: () => void;

  constructor(opts: MysqlEngineOptions) {
    const { maxConnections, targets, ...rest } = opts;
    this.order = targets;
    this.targets = new Map(targets.map((t) => [t.name, t]));
    // the key for caching_sha2_password full authentication: generated off the event loop at start
    generateKeyPair('rsa', { modulusLength: RSA_BITS }, (err, publicKey, privateKey) => {
      if (err || this.rsa) return;
      this.rsa = { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
    });
    this.deps = {
      ...rest,
      target: (name) => this.targets.get(name),
      // checked before the new session is counted
      overConnectionLimit: () => this.sessions.size >= maxConnections,
      rsaKey: () => this.rsaKey(),
      upstreamHandshake: () => {
        for (const t of this.order) {
          const hs = this.handshakes.get(t.name);
          if (hs) return hs;
        }
        return null;
      },
      noteUpstream: (t, hs) => this.handshakes.set(t.name, hs),
      issueConnectionId: (s) => {
        let id: number;
        do id = randomInt(1, 2 ** 31 - 1);
        while (this.byConnectionId.has(id) || rest.registry.hasCancelKey(id));
        this.byConnectionId.set(id, s);
        return id;
      },
      sessionByConnectionId: (id) => this.byConnectionId.get(id),
      relayKill: (id, mode, agent) => this.relayKill(id, mode, agent),
      catalog: (t) => {
        let c = this.catalogs.get(t.name);
        if (!c) {
          c = new MysqlCatalog(t, rest.log, { analyze: rest.analyze });
          this.catalogs.set(t.name, c);
        }
        return c;
      },
    };
    this.offKill = rest.store.onMysqlKill((m) => this.onKillSignal(m));
  }

  /**
   * A KILL for a connection id this instance does not have (or has for another agent): asks every
   * instance; true when one of them had a session with that id of this agent and killed it.
   */
  private async relayKill(connectionId: number, mode: 'query' | 'connection', agent: string): Promise<boolean> {
    const requestId = randomUUID();
    let accepted!: () => void;
    let done!: () => void;
    const wasAccepted = new Promise<void>((r) => (accepted = r));
    const wasDone = new Promise<void>((r) => (done = r));
    this.pendingKills.set(requestId, { accepted, done });
    const within = (p: Promise<void>, ms: number): Promise<boolean> =>
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        t.unref();
        void p.then(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    try {
      await this.deps.store.publishMysqlKill({ type: 'request', connectionId, mode, agent, requestId });
      if (!(await within(wasAccepted, KILL_ACCEPT_MS))) return false;
      // the owner has it; its "done" normally follows once the upstream answered the KILL
      if (!(await within(wasDone, KILL_DONE_MS))) this.deps.log.warn('relayed kill: no completion from the owning instance', { connectionId, mode });
      return true;
    } finally {
      this.pendingKills.delete(requestId);
    }
  }

  /** Another instance's KILL request (acted on only for a session of the same agent), or an answer to ours. */
  private onKillSignal(m: MysqlKillSignal): void {
    if (m.type === 'answer') {
      const p = this.pendingKills.get(m.requestId);
      if (p && m.stage === 'accepted') p.accepted();
      else if (p) p.done();
      return;
    }
    const s = this.byConnectionId.get(m.connectionId);
    if (!s || s.isClosed || s.principal?.agent !== m.agent) return;
    this.deps.log.info('kill (relayed from another instance)', { session: s.id, agent: m.agent, mode: m.mode });
    const answer = (stage: 'accepted' | 'done'): void => {
      void this.deps.store.publishMysqlKill({ type: 'answer', requestId: m.requestId, stage }).catch((err: unknown) => this.deps.log.warn('kill answer failed', { err }));
    };
    answer('accepted');
    const p = m.mode === 'query' ? s.killQuery() : s.killConnection();
    void p.then(
      () => answer('done'),
      () => answer('done'),
    );
  }

  /** The RSA key pair; generated here (blocking once) if a client asks before the background one is ready. */
  private rsaKey(): RsaKeyPair {
    if (!this.rsa) {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: RSA_BITS });
      this.rsa = { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
    }
    return this.rsa;
  }

  /**
   * Reads each target's handshake (version, capabilities), so the first clients already see the
   * upstream's version and flags. A target that does not answer is retried by the first login to it.
   */
  async probe(): Promise<void> {
    await Promise.all(
      this.order.map(async (t) => {
        try {
          this.handshakes.set(t.name, await probeMysqlUpstream(t));
        } catch (err) {
          this.deps.log.warn('mysql target did not answer the version probe', { target: t.name, err: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
  }

  get connections(): number {
    return this.sessions.size;
  }

  handle(socket: net.Socket): void {
    const session = new MysqlSession(socket, this.deps);
    this.sessions.add(session);
    socket.once('close', () => {
      this.sessions.delete(session);
      if (this.byConnectionId.get(session.connectionId) === session) this.byConnectionId.delete(session.connectionId);
    });
  }

  /** Ends every session with a shutdown message and waits (bounded) for them to close. */
  async close(timeoutMs = 5000): Promise<void> {
    for (const s of this.sessions) s.end('shutdown');
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      for (const s of this.sessions) if (s.isClosed) this.sessions.delete(s);
    }
    for (const s of this.sessions) s.close();
    this.sessions.clear();
    for (const c of this.catalogs.values()) c.close();
    this.catalogs.clear();
    this.byConnectionId.clear();
    this.offKill();
  }
}
