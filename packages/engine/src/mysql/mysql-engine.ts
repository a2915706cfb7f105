import { generateKeyPair, generateKeyPairSync, randomInt } from 'node:crypto';
import type net from 'node:net';
import type { HandshakeV10 } from '@sqlwarden/wire-mysql';
import type { RsaKeyPair } from './client-auth.js';
import { MysqlCatalog } from './mysql-catalog.js';
import { MysqlSession, type MysqlEngineDeps } from './mysql-session.js';
import type { MysqlTarget } from './mysql-target.js';
import { probeMysqlUpstream } from './upstream-connect.js';

export type MysqlEngineOptions = Omit<
  MysqlEngineDeps,
  'overConnectionLimit' | 'rsaKey' | 'upstreamHandshake' | 'noteUpstream' | 'issueConnectionId' | 'sessionByConnectionId' | 'target' | 'catalog'
> & {
  maxConnections: number;
  /** the mysql targets, in config order (the first one's version is what clients are shown) */
  targets: readonly MysqlTarget[];
};

const RSA_BITS = 2048;

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
      catalog: (t) => {
        let c = this.catalogs.get(t.name);
        if (!c) {
          c = new MysqlCatalog(t, rest.log);
          this.catalogs.set(t.name, c);
        }
        return c;
      },
    };
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
  }
}
