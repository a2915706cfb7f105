/**
 * What MySQL result masking needs to know of a target's catalog, asked on a side connection with
 * the target's own credentials (one per target, shared by its sessions) and cached with a TTL.
 *
 * For each relation a column definition or a statement names: its kind from
 * information_schema.TABLES (`BASE TABLE`, `SYSTEM VIEW` and MariaDB's `SEQUENCE` → base; `VIEW` →
 * view) and its column names (information_schema.COLUMNS, for the error scope). A name that is not
 * listed — a temporary table (visible only to its own session), a table created in an open
 * transaction elsewhere, a name that does not exist — is `null`: unknown, so masked whenever column
 * rules apply. A lookup that failed leaves the name unresolved: unknown as well (fail closed).
 *
 * View columns are not resolved through their definitions: the MySQL analysis produces no column
 * lineage, so a view's column is unknown (masked whenever column rules apply). DDL through sqlwarden
 * drops the whole cache (`invalidate`); DDL elsewhere is seen when an entry's TTL runs out.
 */
import type { Logger } from '@sqlwarden/telemetry';
import type { MysqlRelationKind } from '@sqlwarden/policy';
import type { MysqlTarget } from './mysql-target.js';
import { MysqlSideConnection } from './upstream-connect.js';

export interface MysqlRelation {
  schema: string;
  name: string;
  kind: MysqlRelationKind;
  columns: readonly string[];
}

export interface MysqlTableName {
  schema: string;
  table: string;
}

interface Entry {
  rel: MysqlRelation | null;
  at: number;
}

const DEFAULT_TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;
/** names asked in one round trip */
const BATCH = 64;

const key = (schema: string, table: string): string => `${schema.toLowerCase()}\u0000${table.toLowerCase()}`;

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

export class MysqlCatalog {
  private readonly entries = new Map<string, Entry>();
  private conn: Promise<MysqlSideConnection> | null = null;
  /** bumped by invalidate: a load that started before it does not store what it read */
  private generation = 0;

  constructor(
    private readonly target: MysqlTarget,
    private readonly log: Logger,
    private readonly ttlMs = DEFAULT_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The relation; null when the catalog does not list it; undefined when not (or no longer) cached. */
  peek(schema: string, table: string): MysqlRelation | null | undefined {
    const e = this.entries.get(key(schema, table));
    if (!e) return undefined;
    if (this.now() - e.at > this.ttlMs) {
      this.entries.delete(key(schema, table));
      return undefined;
    }
    return e.rel;
  }

  /** DDL ran: everything is asked again. */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  /** Looks up the names not cached; never rejects (what could not be read stays unresolved). */
  async load(names: readonly MysqlTableName[]): Promise<void> {
    const wanted = new Map<string, MysqlTableName>();
    for (const n of names) if (this.peek(n.schema, n.table) === undefined) wanted.set(key(n.schema, n.table), n);
    if (wanted.size === 0) return;
    const list = [...wanted.values()];
    const gen = this.generation;
    try {
      for (let i = 0; i < list.length; i += BATCH) {
        const part = list.slice(i, i + BATCH);
        const conn = await this.connection();
        const cond = part.map((n) => `(t.TABLE_SCHEMA = ${sqlString(n.schema)} AND t.TABLE_NAME = ${sqlString(n.table)})`).join(' OR ');
        const rows = await conn.query(
          `SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.TABLE_TYPE, c.COLUMN_NAME FROM information_schema.TABLES t ` +
            `LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME WHERE ${cond}`,
        );
        if (gen !== this.generation) return;
        const found = new Map<string, MysqlRelation & { columns: string[] }>();
        for (const [schema, name, type, column] of rows) {
          if (schema == null || name == null) continue;
          const k = key(schema, name);
          let rel = found.get(k);
          if (!rel) {
            const kind = relationKind(type ?? '');
            if (!kind) continue;
            rel = { schema, name, kind, columns: [] };
            found.set(k, rel);
          }
          if (column != null) rel.columns.push(column);
        }
        const at = this.now();
        if (this.entries.size + part.length > MAX_ENTRIES) this.entries.clear();
        for (const n of part) {
          const k = key(n.schema, n.table);
          this.entries.set(k, { rel: found.get(k) ?? null, at });
        }
      }
    } catch (err) {
      this.log.warn('mysql catalog lookup failed; the columns concerned are masked as unknown', { target: this.target.name, err: err instanceof Error ? err.message : String(err) });
    }
  }

  private async connection(): Promise<MysqlSideConnection> {
    if (this.conn) {
      const c = await this.conn.catch(() => null);
      if (c?.usable) return c;
    }
    const p = MysqlSideConnection.open(this.target);
    this.conn = p;
    p.catch(() => {
      if (this.conn === p) this.conn = null;
    });
    return p;
  }

  close(): void {
    const c = this.conn;
    this.conn = null;
    void c?.then((x) => x.close(), () => undefined);
  }
}

function relationKind(tableType: string): MysqlRelationKind | null {
  switch (tableType.toUpperCase()) {
    case 'BASE TABLE':
    case 'SYSTEM VIEW':
    case 'SEQUENCE':
    case 'SYSTEM VERSIONED':
      return 'base';
    case 'VIEW':
      return 'view';
    default:
      // TEMPORARY (MariaDB lists a session's own temporary tables) and anything unknown
      return null;
  }
}
