import type net from 'node:net';
import { PgSession, type PgEngineDeps } from './pg-session.js';

export type PgEngineOptions = Omit<PgEngineDeps, 'overConnectionLimit'> & { maxConnections: number };

/** The Postgres protocol engine: one PgSession per accepted client socket. */
export class PgEngine {
  private readonly sessions = new Set<PgSession>();
  private readonly deps: PgEngineDeps;

  constructor(opts: PgEngineOptions) {
    const { maxConnections, ...rest } = opts;
    this.deps = { ...rest, overConnectionLimit: () => this.sessions.size > maxConnections };
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
  }
}
