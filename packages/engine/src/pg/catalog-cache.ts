import pg from 'pg';
import type { PgTypeInfo } from '@sqlwarden/policy';
import type { Logger } from '@sqlwarden/telemetry';
import type { PgTarget } from './pg-target.js';
import type { FieldDescription } from '@sqlwarden/wire-pg';
import { DescribeStatement } from './describe-statement.js';

/** A relation as the catalog names it, with its columns by attribute number. */
export interface Relation {
  oid: number;
  schema: string;
  name: string;
  /** r table, v view, m materialized view, p partitioned table, f foreign table, ... */
  relkind: string;
  columns: Map<number, string>;
  /** each column's type OID, by attribute number */
  columnTypes?: Map<number, number>;
  /** for views and materialized views: the definition (every name schema-qualified), to follow column lineage */
  viewDefinition?: string;
  /**
   * the tables it inherits from or is a partition of, nearest first, recursively (pg_inherits: a
   * partition of a partition has both). Mask rules name tables: a column of a relation is masked when
   * the same column of any ancestor is (see {@link relationNames}).
   */
  ancestors?: readonly { schema: string; name: string }[];
}

/** A relation's own name and its ancestors' names: every name a mask rule may give its columns. */
export function relationNames(rel: Relation): { schema: string; name: string }[] {
  return [{ schema: rel.schema, name: rel.name }, ...(rel.ancestors ?? [])];
}

/** A quoted, schema-qualified (when given) relation name for to_regclass. */
function regclassText(schema: string | undefined, table: string): string {
  const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  return schema !== undefined ? `${q(schema)}.${q(table)}` : q(table);
}

/**
 * Run with search_path empty (SET LOCAL in a transaction of its own), so that pg_get_viewdef
 * qualifies every name it prints: view lineage then names base tables exactly. OIDs are inlined
 * as integers.
 */
const catalogSql = (oids: readonly number[]): string => `BEGIN READ ONLY; SET LOCAL search_path TO ''; SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
       a.attnum::int AS attnum, a.attname AS column, a.atttypid::int8 AS typeoid,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS viewdef,
       anc.names AS ancestors
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN LATERAL (
    WITH RECURSIVE up(relid, depth) AS (
        SELECT i.inhparent, 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
      UNION
        SELECT i.inhparent, up.depth + 1 FROM up JOIN pg_catalog.pg_inherits i ON i.inhrelid = up.relid WHERE up.depth < 64
    )
    SELECT pg_catalog.json_agg(pg_catalog.json_build_array(pn.nspname, pc.relname) ORDER BY up.depth, pc.oid) AS names
      FROM up JOIN pg_catalog.pg_class pc ON pc.oid = up.relid JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
  ) anc ON true
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.oid = ANY('{${oids.map((o) => Math.trunc(o) >>> 0).join(',')}}'::pg_catalog.oid[]); COMMIT`;

/**
 * Types by OID, with the base types of domains (over domains, ...) in the same round trip. The send
 * function's bare name: what it sends is known by name only for built-in and well-known ones.
 */
const TYPES_SQL = `WITH RECURSIVE t(oid, depth) AS (
    SELECT o, 0 FROM pg_catalog.unnest($1::pg_catalog.oid[]) AS o
  UNION
    SELECT p.typbasetype, t.depth + 1 FROM t JOIN pg_catalog.pg_type p ON p.oid = t.oid
     WHERE p.typtype = 'd' AND p.typbasetype <> 0 AND t.depth < 32
)
SELECT p.oid::int8 AS oid, p.typtype::text AS type, p.typcategory::text AS category, p.typbasetype::int8 AS base,
       p.typelem::int8 AS elem, f.proname::text AS send
  FROM (SELECT DISTINCT oid FROM t) AS d
  JOIN pg_catalog.pg_type p ON p.oid = d.oid
  LEFT JOIN pg_catalog.pg_proc f ON f.oid = p.typsend`;

/** Names resolve with the target user's own search_path, as the agent's unqualified names do. */
const NAMES_SQL = `SELECT n AS name, pg_catalog.to_regclass(n)::pg_catalog.oid::int8 AS oid FROM pg_catalog.unnest($1::text[]) AS n`;

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
  /** relation name as to_regclass reads it → OID (null: no such relation) */
  private readonly names = new Map<string, { oid: number | null; at: number }>();
  /** type OID → its pg_type entry (null: no such type) */
  private readonly types = new Map<number, { type: PgTypeInfo | null; at: number }>();
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

  /** The cached OID of a relation by name: a number, null when there is none, undefined when unknown or stale. */
  peekName(schema: string | undefined, table: string): number | null | undefined {
    const e = this.names.get(regclassText(schema, table));
    if (!e || Date.now() - e.at > this.ttlMs) return undefined;
    return e.oid;
  }

  /** The cached relation of a name (see peek and peekName). */
  peekByName(schema: string | undefined, table: string): Relation | null | undefined {
    const oid = this.peekName(schema, table);
    return oid === null || oid === undefined ? oid : this.peek(oid);
  }

  /** The cached type: its pg_type entry, null when there is no such type, undefined when unknown or stale. */
  peekType(oid: number): PgTypeInfo | null | undefined {
    const e = this.types.get(oid);
    if (!e || Date.now() - e.at > this.ttlMs) return undefined;
    return e.type;
  }

  invalidate(): void {
    this.relations.clear();
    this.names.clear();
    this.types.clear();
  }

  /** Loads these type OIDs and the base types of domains among them (one round trip); never rejects. */
  loadTypes(oids: readonly number[]): Promise<void> {
    const wanted = [...new Set(oids)].filter((o) => o !== 0 && this.peekType(o) === undefined);
    if (wanted.length === 0) return Promise.resolve();
    const run = this.queue.then(() => this.fetchTypes(wanted));
    this.queue = run.catch(() => {});
    return run.catch((err: unknown) => {
      this.failures++;
      this.log.warn('catalog type lookup failed; values of these types are masked to NULL', { target: this.target.name, err });
    });
  }

  /** Resolves these names to relations and loads them (two round trips at most); never rejects. */
  async loadNames(refs: readonly { schema?: string; table: string }[]): Promise<void> {
    const wanted = [...new Set(refs.map((r) => regclassText(r.schema, r.table)))].filter((n) => {
      const e = this.names.get(n);
      return !e || Date.now() - e.at > this.ttlMs;
    });
    if (wanted.length > 0) {
      const run = this.queue.then(() => this.fetchNames(wanted));
      this.queue = run.catch(() => {});
      try {
        await run;
      } catch (err) {
        this.failures++;
        this.log.warn('catalog name lookup failed; the columns stay unknown and are masked', { target: this.target.name, err });
        return;
      }
    }
    const oids: number[] = [];
    for (const r of refs) {
      const oid = this.peekName(r.schema, r.table);
      if (typeof oid === 'number') oids.push(oid);
    }
    await this.load(oids);
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

  /**
   * The columns a query would return, from Parse + Describe on the side connection (nothing is
   * executed). Rejects when the query does not parse or analyse there (e.g. it names a temporary
   * table of the agent's session) or the side connection fails.
   */
  describe(sql: string): Promise<FieldDescription[]> {
    const run = this.queue.then(async () => {
      this.lookups++;
      const c = await this.connection();
      return new Promise<FieldDescription[]>((resolve, reject) => {
        c.query(new DescribeStatement(sql, (err, fields) => (err ? reject(err) : resolve(fields ?? []))) as unknown as pg.Submittable);
      });
    });
    this.queue = run.catch(() => {});
    return run;
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
        // a described query waits for no lock held by a session (that could be the one waiting for the answer)
        lock_timeout: Math.max(100, Math.floor(this.timeoutMs / 2)),
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

  private async fetchNames(names: string[]): Promise<void> {
    this.lookups++;
    const c = await this.connection();
    const res = await c.query<{ name: string; oid: string | null }>(NAMES_SQL, [names]);
    const now = Date.now();
    for (const row of res.rows) this.names.set(row.name, { oid: row.oid === null ? null : Number(row.oid), at: now });
  }

  private async fetchTypes(oids: number[]): Promise<void> {
    this.lookups++;
    const c = await this.connection();
    type Row = { oid: string; type: string; category: string; base: string; elem: string; send: string | null };
    const res = await c.query<Row>(TYPES_SQL, [oids.map((o) => Math.trunc(o) >>> 0)]);
    const now = Date.now();
    const seen = new Set<number>();
    for (const row of res.rows) {
      const oid = Number(row.oid);
      seen.add(oid);
      this.types.set(oid, { type: { type: row.type, category: row.category, baseType: Number(row.base), elem: Number(row.elem), send: row.send }, at: now });
    }
    for (const oid of oids) if (!seen.has(oid)) this.types.set(oid, { type: null, at: now });
  }

  private async fetch(oids: number[]): Promise<void> {
    this.lookups++;
    const c = await this.connection();
    type Row = { oid: string; schema: string; name: string; relkind: string; attnum: number; column: string; typeoid: string; viewdef: string | null; ancestors: unknown };
    let results: pg.QueryResult<Row>[];
    try {
      results = (await c.query(catalogSql(oids))) as unknown as pg.QueryResult<Row>[];
    } catch (err) {
      // an error inside the explicit transaction leaves it open and aborted
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    }
    const res = results.find((r) => r.command === 'SELECT');
    if (!res) throw new Error('catalog query returned no rows result');
    const now = Date.now();
    const found = new Map<number, Relation>();
    for (const row of res.rows) {
      const oid = Number(row.oid);
      let rel = found.get(oid);
      if (!rel) {
        rel = { oid, schema: row.schema, name: row.name, relkind: row.relkind, columns: new Map(), columnTypes: new Map() };
        if (row.viewdef !== null) rel.viewDefinition = row.viewdef;
        if (row.ancestors !== null) rel.ancestors = parseAncestors(row.ancestors);
        found.set(oid, rel);
      }
      rel.columns.set(row.attnum, row.column);
      rel.columnTypes?.set(row.attnum, Number(row.typeoid));
    }
    for (const oid of oids) this.relations.set(oid, { rel: found.get(oid) ?? null, at: now });
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }
}

/** The ancestors column: a JSON array of [schema, name] pairs (pg parses json); anything else is a broken catalog answer. */
function parseAncestors(v: unknown): { schema: string; name: string }[] {
  const list: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  if (!Array.isArray(list)) throw new Error('catalog returned unreadable ancestors');
  return list.map((p: unknown) => {
    if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'string') throw new Error('catalog returned unreadable ancestors');
    return { schema: p[0], name: p[1] };
  });
}
