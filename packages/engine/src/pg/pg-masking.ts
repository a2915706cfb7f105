/**
 * Result masking for one Postgres session whose principal has masks.
 *
 * Client → upstream: every message that creates statements and portals or asks for rows is
 * followed (ResultTracker), so each DataRow is known to belong to a result with known columns,
 * formats and the analysed statement that produced it.
 *
 * Upstream → client: on RowDescription the columns' origins are worked out — a column the server
 * says comes straight from a table (table OID + attribute number) through the catalog, a view's
 * column through the view's own definition, an expression through the statement's AST lineage —
 * and turned into a plan by the principal's MaskSet. The catalog is asked (one side connection per
 * target) only for what it does not have cached; meanwhile the upstream stream is paused, so rows
 * never overtake their plan. DataRows are rewritten field by field; a row with nothing to mask
 * passes as its own bytes. Whatever cannot be traced is masked (fail closed) and counted.
 *
 * Other channels: error and notice text is cleaned of echoed values, NOTIFY payloads are redacted,
 * and COPY ... TO STDOUT rows are masked in the stream (see copy-out.ts).
 */
import {
  type Analysis,
  type ColumnRef,
  type LineageTable,
  type OutputColumn,
  type StatementFacts,
} from '@sqlwarden/sql';
import { isStatisticsRelation, pgTypeHint, redactSpans, resolvePgTypeHint, ALL_DETECTORS, MaskSet, TypeHint, UNCERTAIN_RULE, type ColumnOrigin, type ResultPlan } from '@sqlwarden/policy';
import {
  Backend,
  Frontend,
  decodeBind,
  decodeExecute,
  decodeFields,
  decodeRowDescription,
  decodeTargetMessage,
  encodeFieldsMessage,
  FrameAction,
  rewriteDataRow,
  type FieldDescription,
} from '@sqlwarden/wire-pg';
import { relationNames, type PgCatalog, type Relation } from './catalog-cache.js';
import { ErrorScope } from './error-scope.js';
import { ResultTracker, type ResultColumns } from './result-tracker.js';
import { PgCopyOut, type CopyHost } from './copy-out.js';
import type { CatalogVerdict } from './predicate-views.js';

/** What a statement carries into the tracker: the analysis of the SQL that produced it. */
export type Attached = readonly StatementFacts[];

export interface MaskingCounters {
  /** values rewritten, by rule id */
  masked(ruleId: string, n: number): void;
  /** columns masked because their origin was not known */
  uncertain(n: number): void;
  /** a COPY refused in-band, after its request was sent (counted and logged like a policy denial) */
  refused(ruleId: string, reason: string): void;
}

/** The decision point's verdict on a request's COPY ... TO STDOUT statements. */

/** view lineage and name expansion stop here (views of views of ...): deeper → unknown → masked */
const MAX_VIEW_DEPTH = 8;

/** Client messages the masking needs whole. */
export const MASKING_CLIENT_FRAMES = [Frontend.Bind, Frontend.Describe, Frontend.Execute, Frontend.Close, Frontend.Sync];
/** Upstream messages the masking needs whole (ErrorResponse: the session hands it over decoded, see onError). */
export const MASKING_UPSTREAM_FRAMES = [
  Backend.RowDescription,
  Backend.DataRow,
  Backend.NoData,
  Backend.CommandComplete,
  Backend.EmptyQueryResponse,
  Backend.PortalSuspended,
  Backend.ErrorResponse,
  Backend.NoticeResponse,
  Backend.ReadyForQuery,
  Backend.CopyOutResponse,
  Backend.CopyBothResponse,
  // COPY ... TO STDOUT rows are masked in the stream; a refused COPY's answer is dropped to ReadyForQuery
  Backend.CopyData,
  Backend.CopyDone,
  Backend.CopyInResponse,
  Backend.ParseComplete,
  Backend.BindComplete,
  Backend.CloseComplete,
  Backend.ParameterDescription,
  Backend.NotificationResponse,
  Backend.FunctionCallResponse,
];

const REDACTED = '[redacted]';
const NO_MASKS = new MaskSet([]);
const REDACTED_RAISE = '[redacted by sqlwarden: raised by a function while masking applies]';

export class PgMasking {
  readonly tracker = new ResultTracker<Attached>();
  /** COPY ... TO STDOUT masking */
  private readonly copyOut: PgCopyOut;
  /** which errors may carry a masked value (their text is cleaned) */
  private readonly errorScope: ErrorScope;
  private plans = new WeakMap<ResultColumns<Attached>, ResultPlan>();
  /** view analyses by relation (cached with the relation; dropped with it) */
  private readonly viewLineage = new WeakMap<Relation, OutputColumn[] | null>();
  /** the frame being re-offered after a catalog load: plan with what is there now */
  private afterLoad = false;
  /** values masked since the last ReadyForQuery, by rule (counted in bulk, off the per-row path) */
  private readonly maskedSince = new Map<string, number>();

  /** the masks now in force (a policy reload can change them; null → nothing is masked) */
  masks: MaskSet;

  constructor(
    masks: MaskSet,
    private readonly catalog: PgCatalog,
    private readonly analyzeSql: (sql: string) => Analysis,
    private readonly counters: MaskingCounters,
    /** pauses the upstream until the promise settles, then re-offers the paused frame */
    private readonly waitFor: (p: Promise<void>) => void,
    /** the largest COPY row carried between CopyData messages */
    maxCopyRowBytes = 64 * 1024 * 1024,
  ) {
    this.copyOut = new PgCopyOut(this.copyHost(), maxCopyRowBytes);
    this.masks = masks;
    this.errorScope = new ErrorScope(catalog, analyzeSql);
  }

  /** A reload changed this session's masks: results are planned again from now on. */
  setMasks(masks: MaskSet | null): void {
    this.masks = masks ?? NO_MASKS;
    this.plans = new WeakMap();
  }

  // ---- client → upstream --------------------------------------------------------------------

  query(statements: Attached | undefined): void {
    this.tracker.query(statements);
  }

  parse(name: string, statements: Attached | undefined): void {
    this.tracker.parse(name, statements);
  }

  /** A FunctionCall: answered by ReadyForQuery alone, like a Sync. */
  functionCall(): void {
    this.tracker.sync();
  }

  /** A client message in Ready phase (Query, Parse and FunctionCall are reported by the decision point). */
  onClientFrame(type: number, frame: Buffer): void {
    switch (type) {
      case Frontend.Bind: {
        const b = decodeBind(frame);
        this.tracker.bind(b.portal, b.statement, b.resultFormats);
        return;
      }
      case Frontend.Describe: {
        const d = decodeTargetMessage(frame);
        this.tracker.describe(d.target, d.name);
        return;
      }
      case Frontend.Execute:
        this.tracker.execute(decodeExecute(frame).portal);
        return;
      case Frontend.Close: {
        const c = decodeTargetMessage(frame);
        this.tracker.close(c.target, c.name);
        return;
      }
      case Frontend.Sync:
        this.tracker.sync();
        return;
    }
  }

  // ---- upstream → client --------------------------------------------------------------------

  /** Returns what to do with an upstream frame; throws MaskingViolation to end the session. */
  onUpstreamFrame(type: number, frame: Buffer): FrameAction | Buffer {
    if (this.copyOut.discarding) {
      const d = this.copyOut.discard(type);
      if (d !== undefined) return d;
    }
    switch (type) {
      case Backend.RowDescription: {
        const fields = decodeRowDescription(frame);
        // the catalog first: if it must be asked, the frame waits (and is offered again)
        const next = this.tracker.nextDescribed();
        if (this.needsLoad(fields, next?.statement?.[next.index])) return FrameAction.Pause;
        const cols = this.tracker.rowDescription(fields);
        if (cols) this.planFor(cols);
        return FrameAction.Forward;
      }
      case Backend.DataRow:
        return this.onDataRow(frame);
      case Backend.NoData:
        this.tracker.noData();
        return FrameAction.Forward;
      case Backend.CommandComplete:
        if (/^(CREATE|ALTER|DROP|COMMENT|GRANT|REVOKE|SECURITY)\b/.test(commandTag(frame))) this.catalog.invalidate();
        this.tracker.resultEnd();
        return FrameAction.Forward;
      case Backend.EmptyQueryResponse:
      case Backend.PortalSuspended:
        this.tracker.resultEnd();
        return FrameAction.Forward;
      case Backend.ErrorResponse:
        return this.onError(frame, decodeFields(frame));
      case Backend.NoticeResponse:
        return this.cleanFields(frame, decodeFields(frame));
      case Backend.ReadyForQuery:
        this.copyOut.reset();
        this.tracker.readyForQuery();
        this.flushCounts();
        return FrameAction.Forward;
      case Backend.NotificationResponse:
        return this.redactNotification(frame);
      case Backend.CopyOutResponse: {
        const at = this.tracker.copying();
        return this.copyOut.onCopyOutResponse(frame, at?.statement?.[at.index]);
      }
      case Backend.CopyData:
        return this.copyOut.onCopyData(frame);
      case Backend.CopyDone:
        return this.copyOut.onCopyDone();
      case Backend.CopyBothResponse:
        throw new MaskingViolation('the database started sending COPY data, which sqlwarden cannot mask');
      case Backend.FunctionCallResponse:
        // a fast-path function result has no column metadata at all
        return this.masks.hasColumnRules ? nullFunctionResult() : FrameAction.Forward;
      default:
        return FrameAction.Forward;
    }
  }

  private onDataRow(frame: Buffer): FrameAction | Buffer {
    let cols = this.tracker.current;
    if (!cols) {
      const next = this.tracker.nextExecute();
      if (next && this.needsLoad(next.fields, next.statement?.[0])) return FrameAction.Pause;
      cols = this.tracker.rowColumns();
    }
    if (!cols) {
      // rows whose columns were never described (no Describe before Execute): nothing is known
      if (!this.masks.hasColumnRules && !this.masks.hasDetectors) return FrameAction.Forward;
      let n = 0;
      const out = rewriteDataRow(frame, (_i, v) => {
        if (v === null) return undefined;
        n++;
        return null;
      });
      this.counters.uncertain(n);
      return out;
    }
    const plan = this.planFor(cols);
    if (!plan.any) return FrameAction.Forward;
    const columns = plan.columns;
    const counts = this.maskedSince;
    const out = rewriteDataRow(frame, (i, v) => {
      const c = columns[i];
      if (!c || v === null) return undefined;
      const m = c.mask(v);
      if (m === v) return undefined;
      counts.set(c.rule, (counts.get(c.rule) ?? 0) + 1);
      return m;
    });
    return out === frame ? FrameAction.Forward : out;
  }

  /** ErrorResponse, with the fields the caller has already decoded. */
  onError(frame: Buffer, fields: Map<string, string>): FrameAction | Buffer {
    // a refused COPY's request already failed; otherwise a COPY in progress ends here
    if (this.copyOut.discarding) return FrameAction.Drop;
    this.copyOut.reset();
    // is the failing statement one that could have carried a masked value into the text? (see ErrorScope)
    let carries: boolean | Promise<void> = false;
    if (this.masks.hasColumnRules) carries = this.errorScope.mayCarryMasked(this.tracker.failing()?.statement, fields, this.masks);
    if (typeof carries !== 'boolean') {
      this.waitFor(carries);
      return FrameAction.Pause;
    }
    this.tracker.error();
    return this.cleanFields(frame, fields, carries);
  }

  private flushCounts(): void {
    if (this.maskedSince.size === 0) return;
    for (const [rule, n] of this.maskedSince) this.counters.masked(rule, n);
    this.maskedSince.clear();
  }

  // ---- planning -----------------------------------------------------------------------------

  private planFor(cols: ResultColumns<Attached>): ResultPlan {
    let plan = this.plans.get(cols);
    if (plan) return plan;
    const origins = this.origins(cols.fields, cols.statement?.[cols.statementIndex]);
    plan = this.masks.plan(
      origins,
      cols.fields.map((f, i) => this.typeHint(f.typeOid, cols.formats[i] ?? 0)),
      cols.formats,
    );
    if (plan.uncertain > 0) this.counters.uncertain(plan.uncertain);
    this.plans.set(cols, plan);
    return plan;
  }

  /**
   * true when the catalog must be asked first (the caller pauses); starts the load. A frame
   * offered again after its load never asks twice: what is still unknown is masked.
   */
  private needsLoad(fields: readonly FieldDescription[], statement: StatementFacts | undefined): boolean {
    if (this.afterLoad) {
      this.afterLoad = false;
      return false;
    }
    const oids = fields.filter((f) => f.tableOid !== 0 && this.catalog.peek(f.tableOid) === undefined).map((f) => f.tableOid);
    const names = this.unresolvedNames(fields, statement);
    // user and extension types (enums, citext, arrays of domains, ...): what a masked value may look like
    const types = fields.filter((f) => pgTypeHint(f.typeOid) === TypeHint.Unknown && this.catalog.peekType(f.typeOid) === undefined).map((f) => f.typeOid);
    if (oids.length === 0 && names.length === 0 && types.length === 0) return false;
    this.waitFor(
      this.load(oids, names, types).finally(() => {
        this.afterLoad = true;
      }),
    );
    return true;
  }

  /** A column type's hint in a format, user and extension types through the catalog (not cached yet: Unknown, masked to NULL). */
  typeHint(typeOid: number, format: number): TypeHint {
    return resolvePgTypeHint(typeOid, format, (oid) => this.catalog.peekType(oid));
  }

  /** Loads types, OIDs and names, then whatever views they lead to, until nothing new is needed. */
  private async load(oids: number[], names: LineageTable[], types: number[] = []): Promise<void> {
    await this.catalog.loadTypes(types);
    await this.catalog.load(oids);
    await this.catalog.loadNames(names);
    for (let depth = 0; depth < MAX_VIEW_DEPTH; depth++) {
      const more: LineageTable[] = [];
      const rels = [...oids.map((o) => this.catalog.peek(o)), ...names.map((n) => this.catalog.peekByName(n.schema, n.table))];
      for (const rel of rels) if (rel?.viewDefinition) for (const t of this.viewSources(rel)) if (this.catalog.peekByName(t.schema, t.table) === undefined) more.push(t);
      if (more.length === 0) return;
      oids = [];
      names = more;
      await this.catalog.loadNames(more);
    }
  }

  /** Tables named by the lineage that the catalog has not resolved yet (they may be views). */
  private unresolvedNames(fields: readonly FieldDescription[], statement: StatementFacts | undefined): LineageTable[] {
    const out: LineageTable[] = [];
    const lineage = statement?.outputColumns;
    if (!lineage || fields.every((f) => f.tableOid !== 0)) return out;
    for (const oc of lineage) {
      for (const s of oc.sources) if (this.catalog.peekByName(s.schema, s.table) === undefined) out.push({ schema: s.schema, table: s.table });
      for (const t of oc.wholeRow ?? []) if (this.catalog.peekByName(t.schema, t.table) === undefined) out.push(t);
      if (oc.star && this.catalog.peekByName(oc.star.schema, oc.star.table) === undefined) out.push(oc.star);
    }
    return out;
  }

  private viewSources(rel: Relation): LineageTable[] {
    const lineage = this.lineageOfView(rel);
    if (!lineage) return [];
    const out: LineageTable[] = [];
    for (const oc of lineage) {
      for (const s of oc.sources) out.push({ schema: s.schema, table: s.table });
      for (const t of oc.wholeRow ?? []) out.push(t);
    }
    return out;
  }

  private lineageOfView(rel: Relation): OutputColumn[] | null {
    if (this.viewLineage.has(rel)) return this.viewLineage.get(rel) ?? null;
    let lineage: OutputColumn[] | null = null;
    const def = rel.viewDefinition;
    if (def) {
      const a = this.analyzeSql(def);
      if (a.ok && a.statements.length === 1) lineage = a.statements[0]!.outputColumns ?? null;
    }
    this.viewLineage.set(rel, lineage);
    return lineage;
  }

  /** Each output column's origin: catalog for direct columns, lineage for the rest. */
  private origins(fields: readonly FieldDescription[], statement: StatementFacts | undefined): ColumnOrigin[] {
    const lineage = alignLineage(fields, statement?.outputColumns, (oid) => this.catalog.peek(oid));
    return fields.map((f, i) => {
      const o = f.tableOid !== 0 ? this.directOrigin(f.tableOid, f.attnum) : this.fromLineage(lineage[i], 0);
      // planner statistics (through a view over them): sample values of any column, origin unknown
      if (o && (o.columns.some((c) => isStatisticsRelation(c.schema, c.table)) || o.wholeRow.some((t) => isStatisticsRelation(t.schema, t.table)))) return null;
      return o;
    });
  }

  /** A lineage entry's origin, views followed; null when the lineage is not certain enough to trust. */
  private fromLineage(oc: OutputColumn | undefined, depth: number): ColumnOrigin {
    if (!oc || (!oc.certain && !oc.ambiguous) || oc.expands || oc.star) return null;
    return this.expand({ columns: oc.sources, wholeRow: oc.wholeRow ?? [], direct: oc.direct }, depth);
  }

  private directOrigin(oid: number, attnum: number): ColumnOrigin {
    const rel = this.catalog.peek(oid);
    if (!rel) return null;
    const column = rel.columns.get(attnum);
    if (column === undefined) return null;
    // a partition's or inheritance child's column is also its ancestors' column of that name
    const own: ColumnRef[] = relationNames(rel).map((r) => ({ schema: r.schema, table: r.name, column }));
    if (!rel.viewDefinition) return { columns: own, wholeRow: [], direct: true };
    const sub = this.viewColumnOrigin(rel, column, 0);
    return sub && { columns: [...own, ...sub.columns], wholeRow: sub.wholeRow, direct: sub.direct === true };
  }

  /**
   * Follows every source that is a view into the view's definition (a rule may name the view's
   * column or the base table's); qualifies names the catalog resolved. Unknown → null.
   */
  private expand(o: NonNullable<ColumnOrigin>, depth: number): ColumnOrigin {
    if (depth > MAX_VIEW_DEPTH) return null;
    const columns: ColumnRef[] = [];
    const wholeRow: LineageTable[] = [];
    let direct = o.direct === true && o.wholeRow.length === 0;
    for (const c of o.columns) {
      const rel = this.catalog.peekByName(c.schema, c.table);
      if (rel === undefined) return null; // a name the catalog could not place: it could be a view
      columns.push(c);
      if (!rel) continue;
      if (rel.schema !== c.schema || rel.name !== c.table) columns.push({ schema: rel.schema, table: rel.name, column: c.column });
      for (const a of rel.ancestors ?? []) columns.push({ schema: a.schema, table: a.name, column: c.column });
      if (rel.viewDefinition) {
        const sub = this.viewColumnOrigin(rel, c.column, depth);
        if (!sub) return null;
        columns.push(...sub.columns);
        wholeRow.push(...sub.wholeRow);
        if (sub.direct !== true) direct = false;
      }
    }
    for (const t of o.wholeRow) {
      const rel = this.catalog.peekByName(t.schema, t.table);
      if (rel === undefined) return null;
      if (!rel) {
        wholeRow.push(t);
        continue;
      }
      // the catalog knows the table's columns: the whole row is exactly those (rules name columns)
      for (const name of rel.columns.values()) {
        for (const r of relationNames(rel)) columns.push({ schema: r.schema, table: r.name, column: name });
        if (t.schema !== rel.schema || t.table !== rel.name) columns.push({ schema: t.schema, table: t.table, column: name });
      }
      if (rel.viewDefinition) {
        // every column of the view, each through the view's definition
        for (const name of rel.columns.values()) {
          const sub = this.viewColumnOrigin(rel, name, depth);
          if (!sub) return null;
          columns.push(...sub.columns);
          wholeRow.push(...sub.wholeRow);
        }
      }
    }
    return { columns, wholeRow, direct };
  }

  /**
   * At the decision point, for statements about to be sent: each COPY ... TO STDOUT among them is
   * planned before it runs (see copy-out.ts), and one that could not be masked is denied there, so
   * nothing of its request runs. `mayLoad` false: the catalog was just asked, what is missing is denied.
   */
  checkCopies(statements: readonly StatementFacts[], mayLoad: boolean): CatalogVerdict {
    const copies = this.copyOut.copiesToPlan(statements);
    if (copies.length === 0) return { kind: 'ok' };
    if (mayLoad) return { kind: 'load', done: this.copyOut.prepare(copies) };
    for (const s of copies) {
      const r = this.copyOut.precheck(s);
      if (r === 'unprepared') return { kind: 'deny', ruleId: UNCERTAIN_RULE, reason: 'COPY refused: its columns could not be determined' };
      if (r) return { kind: 'deny', ruleId: r.ruleId, reason: r.reason };
    }
    return { kind: 'ok' };
  }

  /** Loads relations and whatever views they lead to (for the predicate check at the decision point). */
  loadRelations(oids: number[], names: LineageTable[]): Promise<void> {
    return this.load(oids, names);
  }

  /** The origin of a view's column through the view's definition (views of views followed); null when not traced. */
  viewColumnOrigin(rel: Relation, column: string, depth: number): ColumnOrigin {
    const lineage = this.lineageOfView(rel);
    if (!lineage) return null;
    let attnum = -1;
    for (const [n, name] of rel.columns) if (name === column) attnum = n;
    // view columns are numbered 1..n with no gaps (views cannot drop columns)
    return this.fromLineage(attnum > 0 ? lineage[attnum - 1] : undefined, depth + 1);
  }

  /** What COPY ... TO STDOUT masking needs from here (see copy-out.ts). */
  private copyHost(): CopyHost {
    return {
      masks: () => this.masks,
      catalog: this.catalog,
      load: (fields, statement) => {
        const oids = fields.filter((f) => f.tableOid !== 0 && this.catalog.peek(f.tableOid) === undefined).map((f) => f.tableOid);
        const types = fields.filter((f) => pgTypeHint(f.typeOid) === TypeHint.Unknown && this.catalog.peekType(f.typeOid) === undefined).map((f) => f.typeOid);
        return this.load(oids, this.unresolvedNames(fields, statement), types);
      },
      origins: (fields, statement) => this.origins(fields, statement),
      typeHint: (typeOid, format) => this.typeHint(typeOid, format),
      lineage: (fields, statement) => alignLineage(fields, statement.outputColumns, (oid) => this.catalog.peek(oid)),
      waitFor: (p) => this.waitFor(p),
      failed: () => this.tracker.error(),
      masked: (rule) => {
        this.maskedSince.set(rule, (this.maskedSince.get(rule) ?? 0) + 1);
      },
      uncertain: (n) => this.counters.uncertain(n),
      violation: (message) => {
        throw new MaskingViolation(message);
      },
      refused: (ruleId, reason) => this.counters.refused(ruleId, reason),
      moreAfter: () => this.tracker.moreAfter((statements) => statements.length),
    };
  }

  // ---- other channels -----------------------------------------------------------------------

  /**
   * ErrorResponse / NoticeResponse. Values can be echoed in the message of a data exception
   * (`invalid input syntax for type integer: "123-45-6789"`), in the detail of integrity errors
   * (`Key (email)=(…) already exists`, `Failing row contains (…)`), and anywhere in what a
   * function RAISEs. Those parts are removed; detectors run over every text field.
   * `mayCarryMasked` false (an error of a statement that touches no masked column, see ErrorScope):
   * the server's text is kept, and only the detectors run.
   */
  private cleanFields(frame: Buffer, fields: Map<string, string>, mayCarryMasked = true): FrameAction | Buffer {
    const code = fields.get('C') ?? '';
    const cls = code.slice(0, 2);
    let changed = false;
    const set = (k: string, v: string | undefined): void => {
      if (v === undefined) {
        if (fields.delete(k)) changed = true;
      } else if (fields.get(k) !== v) {
        fields.set(k, v);
        changed = true;
      }
    };
    if (this.masks.hasColumnRules && mayCarryMasked) {
      if (fields.get('R') === 'exec_stmt_raise') {
        set('M', REDACTED_RAISE);
        set('D', undefined);
        set('H', undefined);
      } else if (cls === '22' || cls === 'P0') {
        // data exceptions quote the offending value in the message
        const m = fields.get('M');
        if (m !== undefined) set('M', redactQuoted(m));
        set('D', undefined);
      } else if (cls === '23') {
        // integrity violations name the constraint in the message and show the values in the detail
        set('D', undefined);
      } else if (!fields.has('P') || fields.has('W')) {
        // errors raised while running (no position in the statement's text, or inside something the
        // statement ran) quote values too: `ssn::regclass` → relation "…" does not exist,
        // current_setting(ssn), `::regrole`, `::jsonpath`, to_tsquery(...), ...
        const m = fields.get('M');
        if (m !== undefined) set('M', redactQuoted(m));
        set('D', undefined);
      }
      // the context of an error inside a function can quote generated SQL and parameter values
      const w = fields.get('W');
      // JSON input errors show the text up to the bad token, unquoted: `JSON data, line 1: 123-45...`
      if (w !== undefined) set('W', redactQuoted(w).replace(/^(JSON data, line \d+: ).*$/gm, `$1${REDACTED}`));
    }
    for (const k of ['M', 'D', 'H', 'W', 'q']) {
      const v = fields.get(k);
      if (v !== undefined) set(k, redactSpans(v, ALL_DETECTORS, REDACTED));
    }
    return changed ? encodeFieldsMessage(frame[0]!, fields) : FrameAction.Forward;
  }

  private redactNotification(frame: Buffer): FrameAction | Buffer {
    // pid (4), channel, payload: the payload can carry anything a query computed
    const channelEnd = frame.indexOf(0, 9);
    if (channelEnd < 0) return FrameAction.Forward;
    const payloadEnd = frame.indexOf(0, channelEnd + 1);
    if (payloadEnd < 0) return FrameAction.Forward;
    const payload = frame.toString('utf8', channelEnd + 1, payloadEnd);
    const clean = this.masks.hasColumnRules ? (payload.length > 0 ? REDACTED : payload) : redactSpans(payload, ALL_DETECTORS, REDACTED);
    if (clean === payload) return FrameAction.Forward;
    const head = frame.subarray(5, channelEnd + 1);
    const body = Buffer.concat([head, Buffer.from(clean, 'utf8'), Buffer.from([0])]);
    const out = Buffer.allocUnsafe(5 + body.length);
    out[0] = Backend.NotificationResponse;
    out.writeInt32BE(4 + body.length, 1);
    body.copy(out, 5);
    return out;
  }
}

/** The session must end: something would pass that cannot be masked. */
export class MaskingViolation extends Error {}

function commandTag(frame: Buffer): string {
  const end = frame.indexOf(0, 5);
  return frame.toString('latin1', 5, end < 0 ? frame.length : end);
}

/** FunctionCallResponse with a NULL result. */
function nullFunctionResult(): Buffer {
  const b = Buffer.allocUnsafe(9);
  b[0] = Backend.FunctionCallResponse;
  b.writeInt32BE(8, 1);
  b.writeInt32BE(-1, 5);
  return b;
}

/** Every "double-quoted" and 'single-quoted' stretch of a message replaced. */
function redactQuoted(s: string): string {
  return s.replace(/"(?:[^"]|"")*"/g, `"${REDACTED}"`).replace(/'(?:[^']|'')*'/g, `'${REDACTED}'`).replace(/=\((?:[^()]|\([^()]*\))*\)/g, `=(${REDACTED})`);
}

/**
 * Lineage entries aligned with the RowDescription's fields. A star entry stands for all columns of
 * its relation: the fields it produced carry that relation's OID, so its width is the relation's
 * column count. Where alignment cannot be established, the remaining entries are unknown (masked).
 */
export function alignLineage(
  fields: readonly FieldDescription[],
  lineage: readonly OutputColumn[] | undefined,
  relation: (oid: number) => Relation | null | undefined,
): (OutputColumn | undefined)[] {
  const out: (OutputColumn | undefined)[] = new Array(fields.length).fill(undefined);
  if (!lineage) return out;
  let fi = 0;
  for (const oc of lineage) {
    if (fi >= fields.length) break;
    if (oc.expands) return out;
    if (oc.star) {
      const f = fields[fi]!;
      const rel = f.tableOid !== 0 ? relation(f.tableOid) : undefined;
      if (!rel) return out;
      const width = rel.columns.size;
      for (let k = 0; k < width; k++) if (fields[fi + k]?.tableOid !== f.tableOid) return out;
      fi += width;
      continue;
    }
    out[fi++] = oc;
  }
  // more fields than lineage entries (or fewer): the lineage does not describe this result
  if (fi !== fields.length) return new Array(fields.length).fill(undefined);
  return out;
}
