import type pg from 'pg';

/** What happened to a pg client outside of a query: async errors and the end of the connection. */
export interface ClientWatch {
  errors: (Error & { code?: string; severity?: string })[];
  ended: boolean;
}

/**
 * Listens for 'error' (without a listener pg would throw on an async FATAL) and 'end'.
 * Call right after creating the client, before connect().
 */
export function watchClient(c: pg.Client): ClientWatch {
  const w: ClientWatch = { errors: [], ended: false };
  c.on('error', (err) => w.errors.push(err));
  c.on('end', () => {
    w.ended = true;
  });
  return w;
}

/** The backends of a given sqlwarden agent on a server, found by the application_name sqlwarden sets. */
export const AGENT_BACKENDS_SQL = (agent: string): string =>
  `select pid, state, query from pg_stat_activity where application_name like 'sqlwarden:${agent.replace(/'/g, "''").replace(/[\\%_]/g, (c) => `\\${c}`)}:%'`;
