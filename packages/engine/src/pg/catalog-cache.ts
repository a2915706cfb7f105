import pg from 'pg';
import type { Logger } from '@sqlwarden/telemetry';
import type { PgTarget } from './pg-target.js';

/** A relation as the catalog names it, with its columns by attribute number. */
export interface Relation {
  oid: number;
  schema: string;
  name: string;
  /** r table, v view, m materialized view, p partitioned table, f foreign table, ... */
  relkind: string;
  columns: Map<number, string>;
  /** for views and materialized views: the definition, to follow column lineage */
  viewDefinition?: string;
}

const CATALOG_SQL = `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
       a.attnum::int AS attnum, a.attname AS column,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS viewdef
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.oid = ANY($1::oid[])`;

function sslOption(t: PgTarget): pg.ClientConfig['ssl'] {
  const tls = t.tls;
  if (!tls || tls.mode === 'disable' || tls.mode === 'prefer') return false;
  if (tls.mode === 'require') return { rejectUnauthorized: false };
  const servername = tls.servername ?? t.host;
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    servername,
    rejectUnauthorized: true,
    ...(tls.mode === 'verify-ca' && { checkServerIdentity: () => undefined }),
  };
}

/**
 * Table OID + attribute number → schema.table.column, per target, over one side connection
 * (logged in with the target's own credentials by `pg`). Entries expire after `ttlMs` and the
 * whole cache is dropped when a session runs DDL. A lookup that fails leaves the columns
 * unknown, and unknown columns are masked (fail closed).
 */
export class PgCatalog {
  private readonly relations = new Map<number, { rel: Relation | null; at: number }>();
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  lookups = 0;
  failures = 0;

  constructor(
    private readonly target: PgTarget,
    private readonly log: Logger,
    private readonly ttlMs = 60_000,
    private readonly timeoutMs = 5_000,
  ) {}

  /** The cached relation: a Relation, null when the OID is not a relation, undefined when unknown or stale. */
  peek(oid: number): Relation | null | undefined {
    const e = this.relations.get(oid);
    if (!e || Date.now() - e.at > this.ttlMs) return undefined;
    return e.rel;
  }

  invalidate(): void {
    this.relations.clear();
  }

  /** Loads these OIDs (one round trip); resolves when done, never rejects. */
  load(oids: readonly number[]): Promise<void> {
    const wanted = [...new Set(oids)].filter((o) => o !== 0 && this.peek(o) === undefined);
    if (wanted.length === 0) return Promise.resolve();
    const run = this.queue.then(() => this.fetch(wanted));
    this.queue = run.catch(() => {});
    return run.catch((err: unknown) => {
      this.failures++;
      this.log.warn('catalog lookup failed; the columns stay unknown and are masked', { target: this.target.name, err });
    });
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    this.connecting ??= (async () => {
      const t = this.target;
      const c = new pg.Client({
        host: t.host,
        port: t.port,
        user: t.user,
        password: t.password,
        database: t.database,
        ssl: sslOption(t),
        application_name: 'sqlwarden:catalog',
        connectionTimeoutMillis: t.connectTimeoutMs,
        query_timeout: this.timeoutMs,
      });
      c.on('error', (err) => {
        this.log.warn('catalog connection lost', { target: t.name, err });
        if (this.client === c) this.client = null;
      });
      c.on('end', () => {
        if (this.client === c) this.client = null;
      });
      await c.connect();
      this.client = c;
      return c;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async fetch(oids: number[]): Promise<void> {
    this.lookups++;
    const c = await this.connection();
    const res = await c.query<{ oid: string; schema: string; name: string; relkind: string; attnum: number; column: string; viewdef: string | null }>(CATALOG_SQL, [oids]);
    const now = Date.now();
    const found = new Map<number, Relation>();
    for (const row of res.rows) {
      const oid = Number(row.oid);
      let rel = found.get(oid);
      if (!rel) {
        rel = { oid, schema: row.schema, name: row.name, relkind: row.relkind, columns: new Map() };
        if (row.viewdef !== null) rel.viewDefinition = row.viewdef;
        found.set(oid, rel);
      }
      rel.columns.set(row.attnum, row.column);
    }
    for (const oid of oids) this.relations.set(oid, { rel: found.get(oid) ?? null, at: now });
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }
}
