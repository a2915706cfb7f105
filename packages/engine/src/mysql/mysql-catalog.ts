/**
 * What MySQL result masking needs to know of a target's catalog, asked on a side connection with
 * the target's own credentials (one per target, shared by its sessions) and cached with a TTL.
 *
 * For each relation a column definition or a statement names: its kind from
 * information_schema.TABLES (`BASE TABLE`, `SYSTEM VIEW` and MariaDB's `SEQUENCE` → base; `VIEW` →
 * view) and its column names in ORDINAL_POSITION order (information_schema.COLUMNS). A name that is
 * not listed — a temporary table (visible only to its own session), a table created in an open
 * transaction elsewhere, a name that does not exist — is `null`: unknown, so masked whenever column
 * rules apply. A lookup that failed leaves the name unresolved: unknown as well (fail closed).
 *
 * VIEWS. A view's definition (information_schema.VIEWS.VIEW_DEFINITION, which the server stores
 * fully qualified) is analysed as a SELECT with the MySQL analyzer, and the relations it reads are
 * loaded in turn (views of views, at most {@link MAX_VIEW_DEPTH} levels). {@link viewColumn} resolves
 * a view's column through the definition's column lineage: the view's columns (COLUMNS, by
 * ORDINAL_POSITION) are aligned by position with the definition's output columns, so `CREATE VIEW
 * v (a, b) AS ...` column lists need no name matching. A view column is unresolved (undefined →
 * unknown origin, masked whenever column rules apply) when the definition could not be read (no
 * SHOW VIEW privilege: the server shows it empty) or analysed, its lineage is absent, uncertain, a
 * star or does not have one entry per view column, a source is not known to the catalog, or the
 * views form a cycle or nest too deep.
 *
 * DDL through sqlwarden drops the whole cache (`invalidate`), definitions included; DDL elsewhere is
 * seen when an entry's TTL runs out (a view whose sources' entries expired is loaded again with them:
 * see {@link missing}).
 */
import type { Logger } from '@sqlwarden/telemetry';
import type { ColumnOrigin, MysqlRelationKind } from '@sqlwarden/policy';
import type { Analysis, ColumnRef, LineageTable, OutputColumn, StatementFacts } from '@sqlwarden/sql';
import type { MysqlTarget } from './mysql-target.js';
import { MysqlSideConnection } from './upstream-connect.js';

export interface MysqlRelation {
  schema: string;
  name: string;
  kind: MysqlRelationKind;
  /** column names in ORDINAL_POSITION order */
  columns: readonly string[];
  /** a view's definition as analysed (views only; absent until it was read) */
  view?: MysqlViewDefinition;
}

export interface MysqlViewDefinition {
  /** the definition's output columns, one per view column; null when the definition could not be traced */
  outputs: readonly OutputColumn[] | null;
  /** the relations the definition reads (schemas resolved to the view's own) */
  reads: readonly MysqlTableName[];
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
/** views of views followed at most this deep (deeper → unresolved, masked) */
export const MAX_VIEW_DEPTH = 16;

const key = (schema: string, table: string): string => `${schema.toLowerCase()}\u0000${table.toLowerCase()}`;
const lower = (s: string): string => s.toLowerCase();

type Analyze = (sql: string) => Analysis | Promise<Analysis>;

export interface MysqlCatalogOptions {
  /** the MySQL analyzer (the engine's cache and pool); without it view columns stay unresolved */
  analyze?: Analyze;
  ttlMs?: number;
  now?: () => number;
}

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

export class MysqlCatalog {
  private readonly entries = new Map<string, Entry>();
  private conn: Promise<MysqlSideConnection> | null = null;
  /** bumped by invalidate: a load that started before it does not store what it read */
  private generation = 0;

  private readonly analyze: Analyze | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly target: MysqlTarget,
    private readonly log: Logger,
    opts: MysqlCatalogOptions = {},
  ) {
    this.analyze = opts.analyze;
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

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

  /**
   * The names (and, for cached views, the relations their definitions read, views of views
   * followed) that are not cached: what {@link load} would ask.
   */
  missing(names: readonly MysqlTableName[]): MysqlTableName[] {
    const out = new Map<string, MysqlTableName>();
    const seen = new Set<string>();
    const walk = (n: MysqlTableName, depth: number): void => {
      const k = key(n.schema, n.table);
      if (seen.has(k)) return;
      seen.add(k);
      const rel = this.peek(n.schema, n.table);
      if (rel === undefined) out.set(k, n);
      else if (rel?.view && depth < MAX_VIEW_DEPTH) for (const r of rel.view.reads) walk(r, depth + 1);
    };
    for (const n of names) walk(n, 0);
    return [...out.values()];
  }

  /**
   * Looks up the names not cached, and what the definitions of the views among them read (views of
   * views, bounded); never rejects (what could not be read stays unresolved).
   */
  async load(names: readonly MysqlTableName[]): Promise<void> {
    const gen = this.generation;
    try {
      for (let round = 0; round <= MAX_VIEW_DEPTH; round++) {
        const wanted = this.missing(names);
        if (wanted.length === 0 || gen !== this.generation) return;
        await this.loadNames(wanted, gen);
      }
    } catch (err) {
      this.log.warn('mysql catalog lookup failed; the columns concerned are masked as unknown', { target: this.target.name, err: err instanceof Error ? err.message : String(err) });
    }
  }

  /** One round: the names' relations and columns, then the definitions of the views among them. */
  private async loadNames(list: readonly MysqlTableName[], gen: number): Promise<void> {
    for (let i = 0; i < list.length; i += BATCH) {
      const part = list.slice(i, i + BATCH);
      const conn = await this.connection();
      const cond = part.map((n) => `(t.TABLE_SCHEMA = ${sqlString(n.schema)} AND t.TABLE_NAME = ${sqlString(n.table)})`).join(' OR ');
      const rows = await conn.query(
        `SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.TABLE_TYPE, c.COLUMN_NAME FROM information_schema.TABLES t ` +
          `LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME WHERE ${cond} ` +
          `ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME, c.ORDINAL_POSITION`,
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
      const views = [...found.values()].filter((r) => r.kind === 'view');
      if (views.length > 0) {
        const vcond = views.map((v) => `(TABLE_SCHEMA = ${sqlString(v.schema)} AND TABLE_NAME = ${sqlString(v.name)})`).join(' OR ');
        const defs = await conn.query(`SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE ${vcond}`);
        if (gen !== this.generation) return;
        const text = new Map<string, string>();
        for (const [schema, name, def] of defs) if (schema != null && name != null && def != null) text.set(key(schema, name), def);
        for (const v of views) v.view = await this.traceView(v, text.get(key(v.schema, v.name)));
        if (gen !== this.generation) return;
      }
      const at = this.now();
      if (this.entries.size + part.length > MAX_ENTRIES) this.entries.clear();
      for (const n of part) {
        const k = key(n.schema, n.table);
        this.entries.set(k, { rel: found.get(k) ?? null, at });
      }
    }
  }

  /** A view's definition analysed; outputs null when it cannot be traced column by column. */
  private async traceView(view: MysqlRelation, definition: string | undefined): Promise<MysqlViewDefinition> {
    const untraced: MysqlViewDefinition = { outputs: null, reads: [] };
    if (!this.analyze || definition === undefined || definition.trim() === '') return untraced;
    let a: Analysis;
    try {
      a = await this.analyze(definition);
    } catch {
      return untraced;
    }
    if (!a.ok || a.statements.length !== 1) return untraced;
    const s = a.statements[0]!;
    const reads = new Map<string, MysqlTableName>();
    const add = (schema: string | undefined, table: string): void => {
      const n = { schema: schema ?? view.schema, table };
      reads.set(key(n.schema, n.table), n);
    };
    const walk = (f: StatementFacts, depth: number): void => {
      for (const t of [...f.tablesRead, ...f.tablesWritten]) add(t.schema, t.name);
      if (depth < 8) for (const x of f.nested) walk(x, depth + 1);
    };
    walk(s, 0);
    const outputs = s.outputColumns;
    for (const oc of outputs ?? []) {
      for (const c of oc.sources) add(c.schema, c.table);
      for (const t of oc.wholeRow ?? []) add(t.schema, t.table);
    }
    const traced =
      s.kind === 'select' &&
      s.opaqueBodies.length === 0 &&
      outputs !== undefined &&
      outputs.length === view.columns.length &&
      !outputs.some((oc) => oc.star || oc.expands);
    return { outputs: traced ? outputs : null, reads: [...reads.values()] };
  }

  /**
   * The origin of a view's column from the cached definitions (views of views followed): its sources
   * (view columns along the way included), direct when the value is a source's value unchanged.
   * undefined when not resolved (see the header); nothing is asked here.
   */
  viewColumn(schema: string, view: string, column: string): ColumnOrigin | undefined {
    return this.resolveViewColumn(schema, view, column, new Set());
  }

  private resolveViewColumn(schema: string, view: string, column: string, path: Set<string>): Exclude<ColumnOrigin, null> | undefined {
    const k = key(schema, view);
    if (path.has(k) || path.size >= MAX_VIEW_DEPTH) return undefined;
    const rel = this.peek(schema, view);
    if (!rel || rel.kind !== 'view' || !rel.view?.outputs) return undefined;
    const i = rel.columns.findIndex((c) => lower(c) === lower(column));
    const oc = i < 0 ? undefined : rel.view.outputs[i];
    if (!oc || (!oc.certain && !oc.ambiguous) || oc.star || oc.expands) return undefined;
    path.add(k);
    try {
      const columns: ColumnRef[] = [];
      const wholeRow: LineageTable[] = [];
      let direct = oc.direct;
      for (const c of oc.sources) {
        const s = c.schema ?? rel.schema;
        const src = this.peek(s, c.table);
        if (!src) return undefined;
        const ref: ColumnRef = { schema: s, table: c.table, column: c.column };
        if (src.kind === 'base') columns.push(ref);
        else {
          const sub = this.resolveViewColumn(s, c.table, c.column, path);
          if (!sub) return undefined;
          columns.push(ref, ...sub.columns);
          wholeRow.push(...sub.wholeRow);
          if (sub.direct !== true) direct = false;
        }
      }
      for (const t of oc.wholeRow ?? []) {
        const s = t.schema ?? rel.schema;
        if (this.peek(s, t.table)?.kind !== 'base') return undefined;
        wholeRow.push({ schema: s, table: t.table });
      }
      return { columns, wholeRow, direct: direct && wholeRow.length === 0 };
    } finally {
      path.delete(k);
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
