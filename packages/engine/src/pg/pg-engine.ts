import type net from 'node:net';
import { analyze } from '@sqlwarden/sql';
import { PgCatalog } from './catalog-cache.js';
import { PgSession, type PgEngineDeps } from './pg-session.js';
import type { PgTarget } from './pg-target.js';

export type PgEngineOptions = Omit<PgEngineDeps, 'overConnectionLimit' | 'catalog' | 'analyze'> & {
  maxConnections: number;
  /** how long catalog entries are trusted, ms (default 60 s); DDL through the proxy drops them at once */
  catalogTtlMs?: number;
};

/** The Postgres protocol engine: one PgSession per accepted client socket. */
export class PgEngine {
  private readonly sessions = new Set<PgSession>();
  private readonly deps: PgEngineDeps;
  /** one catalog (and side connection, opened on first use) per target */
  private readonly catalogs = new Map<string, PgCatalog>();

  constructor(opts: PgEngineOptions) {
    const { maxConnections, catalogTtlMs, ...rest } = opts;
    this.deps = {
      ...rest,
      overConnectionLimit: () => this.sessions.size > maxConnections,
      catalog: (t: PgTarget) => {
        let c = this.catalogs.get(t.name);
        if (!c) {
          c = new PgCatalog(t, rest.log, catalogTtlMs);
          this.catalogs.set(t.name, c);
        }
        return c;
      },
      analyze: (sql: string) => analyze('postgres', sql),
    };
  }

  get connections(): number {
    return this.sessions.size;
  }

  handle(socket: net.Socket): void {
    const session = new PgSession(socket, this.deps);
    this.sessions.add(session);
    socket.once('close', () => this.sessions.delete(session));
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
    await Promise.all([...this.catalogs.values()].map((c) => c.close()));
    this.catalogs.clear();
  }
}
