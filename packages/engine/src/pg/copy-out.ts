/**
 * COPY ... TO STDOUT while masks apply: the rows are masked in the stream.
 *
 * A COPY's answer has no RowDescription, so its columns are worked out when the CopyOutResponse
 * arrives (the upstream waits meanwhile): `COPY t [(cols)]` from the catalog (the table's columns in
 * attribute-number order, or the listed ones, with their types), `COPY (query)` by describing the
 * query on the catalog's side connection (Parse + Describe: table OID, attribute number and type of
 * each column, nothing executed). From there the origins are resolved exactly as for a SELECT
 * (catalog, views, AST lineage) and the principal's MaskSet plans each column. The CopyOutResponse's
 * column count must match the plan.
 *
 * CopyData is then split into rows incrementally (CopyRowReader: text, CSV with the statement's
 * DELIMITER/QUOTE/ESCAPE/NULL/HEADER, binary) and only masked fields are rewritten, re-encoded in
 * the same format; a message whose rows all pass unchanged is forwarded as its own bytes, and a
 * COPY with nothing to mask is not parsed at all.
 *
 * The planning is done first at the decision point, before the statement is sent (`prepare` and
 * `precheck`, the client's stream paused meanwhile): a COPY whose columns cannot be found or described,
 * or whose format or options the masker cannot honour, is denied there like any policy denial, so
 * nothing of its request runs (a `COPY ...; DELETE ...` batch does not run the DELETE). The columns
 * found are kept for the CopyOutResponse.
 *
 * What can only be seen in the answer (a column count that does not match the plan, a catalog entry
 * that expired, malformed data) refuses the COPY in-band: the client gets an ErrorResponse (42501) in
 * place of the CopyOutResponse (or of the rest of the data), and everything the upstream still sends
 * for that request is dropped up to its ReadyForQuery. If other statements of the same request would
 * still run after it (a later statement of a simple query, a later Execute before Sync), the client
 * would be told the request failed while they commit: the session ends instead. Nothing unmasked is
 * passed.
 */
import type { ColumnRef, CopyFacts, OutputColumn, StatementFacts } from '@sqlwarden/sql';
import { UNCERTAIN_RULE, type ColumnOrigin, type MaskSet, type ResultPlan, type TypeHint } from '@sqlwarden/policy';
import {
  Backend,
  copyFieldValue,
  CopyFormatError,
  CopyRowKind,
  CopyRowReader,
  decodeCopyResponse,
  decodeTextField,
  encodeCopyField,
  encodeTextField,
  errorResponse,
  FrameAction,
  ProtocolError,
  rewriteCopyRow,
  type CopyFormat,
  type CopyRow,
  type FieldDescription,
} from '@sqlwarden/wire-pg';
import type { PgCatalog } from './catalog-cache.js';
import { toErrorFields } from './pg-errors.js';

/** What COPY masking needs of the session's masking (PgMasking). */
export interface CopyHost {
  /** the masks now in force */
  masks(): MaskSet;
  readonly catalog: PgCatalog;
  /** loads what planning these fields needs (relations, views, types); never rejects */
  load(fields: readonly FieldDescription[], statement: StatementFacts): Promise<void>;
  /** each field's origin, as for a RowDescription: catalog for table columns, lineage for the rest */
  origins(fields: readonly FieldDescription[], statement: StatementFacts): ColumnOrigin[];
  typeHint(typeOid: number, format: number): TypeHint;
  /** the statement's AST lineage aligned with the fields (undefined where it does not say) */
  lineage(fields: readonly FieldDescription[], statement: StatementFacts): (OutputColumn | undefined)[];
  /** pauses the upstream until the promise settles, then offers the paused frame again */
  waitFor(p: Promise<void>): void;
  /** the request the COPY answers failed: skip to its Sync (ResultTracker.error) */
  failed(): void;
  /** one value was masked under this rule */
  masked(rule: string): void;
  uncertain(n: number): void;
  /** ends the session (MaskingViolation) */
  violation(message: string): never;
  /** a COPY was refused in-band (counted and logged like a policy denial) */
  refused(ruleId: string, reason: string): void;
  /** whether more of the COPY's request may still run on the upstream after it (later statements or Executes before Sync) */
  moreAfter(): boolean;
}

/** Why a COPY is refused. */
export interface CopyRefusal {
  ruleId: string;
  reason: string;
}

type CopyPlan =
  | { ok: false; ruleId: string; reason: string }
  /** format null: nothing to mask, the data passes as it is */
  | { ok: true; fields: FieldDescription[]; plan: ResultPlan; known: boolean; formatName: string; format: CopyFormat | null };

type Described = { ok: true; fields: FieldDescription[] } | { ok: false; ruleId: string; reason: string };

const enum State {
  Idle,
  /** the CopyOutResponse waits for the columns */
  Planning,
  /** nothing to mask: CopyData passes as it is */
  Pass,
  Mask,
  /** refused: the upstream's answer is dropped up to ReadyForQuery */
  Discard,
}

const EMPTY = Buffer.alloc(0);

export class PgCopyOut {
  private state = State.Idle;
  private described: Described | undefined;
  private reader: CopyRowReader | null = null;
  private format: CopyFormat = { kind: 'binary' };
  private plan: ResultPlan | null = null;
  /** per column: the new encoding of a field of the row being rewritten */
  private fieldsOut: (Buffer | undefined)[] = [];
  // the CopyData message being processed: what goes out, as pieces (buffer, start, end) copied once at the end
  private frame: Buffer = EMPTY;
  private readonly pieceBuf: Buffer[] = [];
  private readonly pieceStart: number[] = [];
  private readonly pieceEnd: number[] = [];
  private runStart = -1;
  private runEnd = -1;
  /** the message's only row, rewritten into a whole CopyData message */
  private whole: Buffer | null = null;
  /** columns worked out at the decision point, for the CopyOutResponse of the same statement */
  private readonly prepared = new WeakMap<StatementFacts, Described>();

  constructor(
    private readonly host: CopyHost,
    private readonly maxRowBytes: number,
  ) {}

  get discarding(): boolean {
    return this.state === State.Discard;
  }

  /** CopyOutResponse of `statement` (undefined when the proxy does not know which statement it answers). */
  onCopyOutResponse(frame: Buffer, statement: StatementFacts | undefined): FrameAction | Buffer {
    if (this.state === State.Planning) {
      // offered again: the columns are known (or known to be unknown)
      const d = this.described ?? { ok: false, ruleId: UNCERTAIN_RULE, reason: 'its columns could not be determined' };
      this.described = undefined;
      return this.start(frame, statement, d);
    }
    this.reset();
    const masks = this.host.masks();
    if (!masks.hasColumnRules && !masks.hasDetectors) {
      this.state = State.Pass;
      return FrameAction.Forward;
    }
    const copy = statement?.kind === 'copy' ? statement.copy : undefined;
    if (!statement || !copy || copy.direction !== 'to') return this.refuse(UNCERTAIN_RULE, 'sqlwarden could not tell which statement this COPY answers, so its rows cannot be masked');
    const prepared = this.prepared.get(statement);
    if (prepared) {
      // planned at the decision point: the catalog was asked then
      this.prepared.delete(statement);
      return this.start(frame, statement, prepared);
    }
    this.state = State.Planning;
    this.host.waitFor(
      this.describe(statement, copy).then(
        (d) => {
          this.described = d;
        },
        (err: unknown) => {
          this.described = { ok: false, ruleId: UNCERTAIN_RULE, reason: `its columns could not be determined (${errorMessage(err)})` };
        },
      ),
    );
    return FrameAction.Pause;
  }

  /** CopyData from the upstream. */
  onCopyData(frame: Buffer): FrameAction | Buffer {
    switch (this.state) {
      case State.Pass:
        return FrameAction.Forward;
      case State.Mask:
        return this.maskData(frame);
      case State.Discard:
        return FrameAction.Drop;
      default:
        throw new ProtocolError('CopyData without a CopyOutResponse');
    }
  }

  /** CopyDone from the upstream: the data must have ended on a row boundary. */
  onCopyDone(): FrameAction | Buffer {
    if (this.state === State.Discard) return FrameAction.Drop;
    if (this.state === State.Mask && this.reader && !this.reader.atRowBoundary) {
      return this.refuse(this.firstRule(), 'the COPY data ended inside a row, which cannot be masked');
    }
    this.reset();
    return FrameAction.Forward;
  }

  /**
   * While a refused COPY's answer is being dropped: what to do with an upstream frame (undefined:
   * handle it as usual). ReadyForQuery ends the refusal.
   */
  discard(type: number): FrameAction | undefined {
    switch (type) {
      case Backend.ReadyForQuery:
        this.reset();
        return undefined;
      case Backend.NoticeResponse:
      case Backend.NotificationResponse:
      case Backend.ParameterStatus:
        return undefined;
      case Backend.CopyInResponse:
      case Backend.CopyBothResponse:
        // the client, told the request failed, will not answer: the upstream would wait for ever
        return this.host.violation('a refused COPY was followed by a COPY that waits for the client');
      default:
        return FrameAction.Drop;
    }
  }

  /** The COPY (if any) is over: an ErrorResponse or ReadyForQuery from the upstream. */
  reset(): void {
    this.state = State.Idle;
    this.reader = null;
    this.plan = null;
    this.described = undefined;
  }

  // ---- planning -----------------------------------------------------------------------------

  /** The COPY ... TO STDOUT statements among these whose rows masking must plan (none when nothing is masked). */
  copiesToPlan(statements: readonly StatementFacts[]): StatementFacts[] {
    const masks = this.host.masks();
    if (!masks.hasColumnRules && !masks.hasDetectors) return [];
    return statements.filter((s) => s.kind === 'copy' && s.copy?.direction === 'to' && s.copy.stdio);
  }

  /** At the decision point: works out these COPYs' columns (kept for their CopyOutResponse); never rejects. */
  async prepare(statements: readonly StatementFacts[]): Promise<void> {
    for (const s of statements) {
      let d: Described;
      try {
        d = await this.describe(s, s.copy!);
      } catch (err) {
        d = { ok: false, ruleId: UNCERTAIN_RULE, reason: `its columns could not be determined (${errorMessage(err)})` };
      }
      this.prepared.set(s, d);
    }
  }

  /**
   * At the decision point, after `prepare`: why this COPY would be refused (undefined: it can be
   * masked, or passes; 'unprepared': its columns were not worked out).
   */
  precheck(statement: StatementFacts): CopyRefusal | undefined | 'unprepared' {
    const d = this.prepared.get(statement);
    const copy = statement.copy;
    if (!d || !copy) return 'unprepared';
    const p = this.planCopy(statement, copy, d, (copy.options?.format ?? 'text') === 'binary', false);
    if (p.ok) return undefined;
    this.prepared.delete(statement);
    return { ruleId: p.ruleId, reason: `COPY refused: ${p.reason}` };
  }

  /** The plan of a COPY whose columns are `d`, in binary or text/CSV, or why it cannot be masked. */
  private planCopy(statement: StatementFacts, copy: CopyFacts, d: Described, binary: boolean, count: boolean): CopyPlan {
    if (!d.ok) return d;
    const opts = copy.options ?? {};
    const formatName = opts.format ?? 'text';
    const known = formatName === 'text' || formatName === 'csv' || formatName === 'binary';
    const code = binary ? 1 : 0;
    const fields = d.fields;
    const origins = this.origins(fields, statement);
    const plan = this.host.masks().plan(
      origins,
      fields.map((f) => this.host.typeHint(f.typeOid, code)),
      fields.map(() => code),
    );
    if (count && plan.uncertain > 0) this.host.uncertain(plan.uncertain);
    if (!known) {
      if (plan.any) return { ok: false, ruleId: this.firstRule(plan), reason: `COPY ... (FORMAT ${formatName}) cannot be masked; use text, csv or binary` };
      return { ok: true, fields, plan, known, formatName, format: null };
    }
    if (!plan.any) return { ok: true, fields, plan, known, formatName, format: null };
    const format = copyFormat(formatName, opts, fields, plan);
    if (typeof format === 'string') return { ok: false, ruleId: this.firstRule(plan), reason: format };
    return { ok: true, fields, plan, known, formatName, format };
  }

  /** The COPY's columns: from the catalog for a table, by describing the query for COPY (query). */
  private async describe(statement: StatementFacts, copy: CopyFacts): Promise<Described> {
    const catalog = this.host.catalog;
    if (copy.query !== undefined) {
      let fields: FieldDescription[];
      try {
        fields = await catalog.describe(copy.query);
      } catch (err) {
        return { ok: false, ruleId: UNCERTAIN_RULE, reason: `its columns could not be determined (${errorMessage(err)})` };
      }
      if (fields.length === 0) return { ok: false, ruleId: UNCERTAIN_RULE, reason: 'its query returns no columns sqlwarden could describe' };
      await this.host.load(fields, statement);
      return { ok: true, fields };
    }
    const t = copy.relation;
    if (!t) return { ok: false, ruleId: UNCERTAIN_RULE, reason: 'its source could not be determined' };
    await catalog.loadNames([{ schema: t.schema, table: t.name }]);
    const rel = catalog.peekByName(t.schema, t.name);
    const name = [t.schema, t.name].filter((x) => x !== undefined).join('.');
    if (!rel) return { ok: false, ruleId: UNCERTAIN_RULE, reason: `the columns of ${name} could not be found in the catalog` };
    let attnums: number[];
    if (copy.columns) {
      attnums = [];
      for (const c of copy.columns) {
        const a = [...rel.columns].find(([, n]) => n === c)?.[0];
        if (a === undefined) return { ok: false, ruleId: UNCERTAIN_RULE, reason: `column ${c} of ${name} could not be found in the catalog` };
        attnums.push(a);
      }
    } else attnums = [...rel.columns.keys()].sort((a, b) => a - b);
    const fields: FieldDescription[] = [];
    for (const a of attnums) {
      const typeOid = rel.columnTypes?.get(a);
      if (typeOid === undefined) return { ok: false, ruleId: UNCERTAIN_RULE, reason: `the column types of ${name} could not be found in the catalog` };
      fields.push({ name: rel.columns.get(a)!, tableOid: rel.oid, attnum: a, typeOid, typeLen: -1, typeMod: -1, format: 0 });
    }
    await this.host.load(fields, statement);
    return { ok: true, fields };
  }

  /**
   * Each field's origin as for a SELECT, plus the names the statement itself gives it. The columns
   * were found on another connection, whose search_path may place an unqualified name in another
   * schema than the session does: a column of a relation named N also counts as N's column as the
   * statement writes N (an unqualified name matches a rule of any schema), and the lineage's own
   * sources count too.
   */
  private origins(fields: readonly FieldDescription[], statement: StatementFacts): ColumnOrigin[] {
    const catalog = this.host.catalog;
    const written = [...statement.tablesRead, ...statement.tablesWritten];
    const lineage = this.host.lineage(fields, statement);
    return this.host.origins(fields, statement).map((o, i): ColumnOrigin => {
      if (!o) return o;
      const f = fields[i]!;
      const extra: ColumnRef[] = [...(lineage[i]?.sources ?? [])];
      const rel = f.tableOid !== 0 ? catalog.peek(f.tableOid) : undefined;
      const column = rel?.columns.get(f.attnum);
      if (rel && column !== undefined) for (const t of written) if (t.name === rel.name) extra.push({ schema: t.schema, table: t.name, column });
      const wholeRow = lineage[i]?.wholeRow ?? [];
      if (extra.length === 0 && wholeRow.length === 0) return o;
      return { ...o, columns: [...o.columns, ...extra], wholeRow: [...o.wholeRow, ...wholeRow] };
    });
  }

  private start(frame: Buffer, statement: StatementFacts | undefined, d: Described): FrameAction | Buffer {
    if (!d.ok) return this.refuse(d.ruleId, d.reason);
    const copy = statement?.copy;
    if (!statement || !copy) return this.refuse(UNCERTAIN_RULE, 'sqlwarden could not tell which statement this COPY answers');
    const response = decodeCopyResponse(frame);
    const binary = response.format === 1;
    const p = this.planCopy(statement, copy, d, binary, true);
    if (!p.ok) return this.refuse(p.ruleId, p.reason);
    if (p.known && ((p.formatName === 'binary') !== binary || response.columnFormats.length !== p.fields.length)) {
      // the catalog may be stale (the table changed): ask again next time
      this.host.catalog.invalidate();
      return this.refuse(UNCERTAIN_RULE, `its ${response.columnFormats.length} columns do not match the ${p.fields.length} sqlwarden found, so they cannot be masked`);
    }
    if (!p.format) {
      this.state = State.Pass;
      return FrameAction.Forward;
    }
    this.plan = p.plan;
    this.format = p.format;
    this.fieldsOut = new Array<Buffer | undefined>(p.fields.length).fill(undefined);
    this.reader = new CopyRowReader(p.format, p.fields.length, this.maxRowBytes);
    this.state = State.Mask;
    return FrameAction.Forward;
  }

  private firstRule(plan: ResultPlan | null = this.plan): string {
    return plan?.columns.find((c) => c !== null)?.rule ?? UNCERTAIN_RULE;
  }

  /** The request fails: an ErrorResponse now, and the rest of the upstream's answer is dropped. */
  private refuse(ruleId: string, reason: string): Buffer {
    // later statements of the request would run (and commit) while the client hears it failed
    if (this.host.moreAfter()) this.host.violation(`a COPY could not be masked (${reason}) while later statements of its request still run`);
    this.host.refused(ruleId, `COPY refused: ${reason}`);
    this.reset();
    this.state = State.Discard;
    this.host.failed();
    return errorResponse(toErrorFields({ kind: 'denied', ruleId, reason: `COPY refused: ${reason}` }));
  }

  // ---- rows ---------------------------------------------------------------------------------

  private maskData(frame: Buffer): FrameAction | Buffer {
    const reader = this.reader!;
    this.frame = frame;
    this.pieceBuf.length = 0;
    this.pieceStart.length = 0;
    this.pieceEnd.length = 0;
    this.runStart = -1;
    this.runEnd = -1;
    this.whole = null;
    try {
      reader.push(frame, this.onRow, 5);
    } catch (err) {
      if (err instanceof CopyFormatError) return this.refuse(this.firstRule(), `its data could not be read for masking (${err.message})`);
      throw err;
    } finally {
      this.frame = EMPTY;
    }
    if (this.whole) {
      const out = this.whole;
      this.whole = null;
      return out;
    }
    if (this.pieceBuf.length === 0) {
      if (this.runStart === 5 && this.runEnd === frame.length) return FrameAction.Forward;
      if (this.runStart < 0) return FrameAction.Drop; // all of it is carried into the next message
    }
    this.flushRun(frame);
    let total = 5;
    const n = this.pieceBuf.length;
    for (let i = 0; i < n; i++) total += this.pieceEnd[i]! - this.pieceStart[i]!;
    const out = Buffer.allocUnsafe(total);
    out[0] = Backend.CopyData;
    out.writeInt32BE(total - 1, 1);
    let o = 5;
    for (let i = 0; i < n; i++) o += this.pieceBuf[i]!.copy(out, o, this.pieceStart[i], this.pieceEnd[i]);
    this.pieceBuf.length = 0;
    return out;
  }

  private readonly onRow = (row: CopyRow): void => {
    let changed = false;
    if (row.kind === CopyRowKind.Tuple) {
      const columns = this.plan!.columns;
      const format = this.format;
      const fieldsOut = this.fieldsOut;
      for (let i = 0; i < row.count; i++) {
        fieldsOut[i] = undefined;
        const c = columns[i];
        if (!c) continue;
        const v = copyFieldValue(format, row, i);
        if (v === null) continue;
        const m = c.mask(v);
        if (m === v) continue;
        fieldsOut[i] = encodeCopyField(format, row, i, m);
        changed = true;
        this.host.masked(c.rule);
      }
    }
    const frame = this.frame;
    if (!changed) {
      if (row.buf === frame) {
        // unchanged and inside this message: part of a run passed as it is
        if (this.runEnd === row.start) this.runEnd = row.end;
        else {
          this.flushRun(frame);
          this.runStart = row.start;
          this.runEnd = row.end;
        }
      } else {
        // a row assembled from several messages is a fresh buffer: it can be kept as it is
        this.flushRun(frame);
        this.piece(row.buf, row.start, row.end);
      }
      return;
    }
    if (row.buf === frame && row.start === 5 && row.end === frame.length) {
      // the usual case (the server sends a row per message): the new message in one allocation
      const out = rewriteCopyRow(this.format, row, this.fieldsOut, 5);
      out[0] = Backend.CopyData;
      out.writeInt32BE(out.length - 1, 1);
      this.whole = out;
      return;
    }
    this.flushRun(frame);
    const out = rewriteCopyRow(this.format, row, this.fieldsOut);
    this.piece(out, 0, out.length);
  };

  private piece(buf: Buffer, start: number, end: number): void {
    this.pieceBuf.push(buf);
    this.pieceStart.push(start);
    this.pieceEnd.push(end);
  }

  private flushRun(frame: Buffer): void {
    if (this.runStart < 0) return;
    this.piece(frame, this.runStart, this.runEnd);
    this.runStart = -1;
    this.runEnd = -1;
  }
}


function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One byte of a COPY option (a single one-byte character), or undefined. */
function oneByte(s: string): number | undefined {
  const b = Buffer.from(s, 'utf8');
  return b.length === 1 ? b[0] : undefined;
}

/**
 * The statement's COPY format for the row reader, or why it cannot be masked: unreadable options,
 * an ENCODING other than UTF8, or (text format) a NULL string that a value could also print as
 * while a column is masked whole (a value equal to it would pass as "NULL").
 */
function copyFormat(name: string, opts: NonNullable<CopyFacts['options']>, fields: readonly FieldDescription[], plan: ResultPlan): CopyFormat | string {
  if (opts.unreadable?.length) return `its options ${opts.unreadable.join(', ')} could not be read`;
  if (opts.encoding !== undefined && !/^(utf-?8|unicode)$/i.test(opts.encoding.replace(/_/g, '')))
    return `COPY ... ENCODING '${opts.encoding}' cannot be masked; leave ENCODING out or use UTF8`;
  const header = opts.header === true;
  if (name === 'binary') return { kind: 'binary' };
  if (name === 'text') {
    const delimiter = oneByte(opts.delimiter ?? '\t');
    if (delimiter === undefined) return 'its DELIMITER is not a single one-byte character';
    const nul = Buffer.from(opts.null ?? '\\N', 'utf8');
    const ambiguous = encodeTextField(decodeTextField(nul, 0, nul.length), delimiter).equals(nul);
    if (ambiguous && plan.columns.some((c) => c?.kind === 'whole')) {
      return `in text format its NULL string '${opts.null ?? ''}' is also how a value prints, so a masked value equal to it could not be told apart; use the default NULL or CSV`;
    }
    return { kind: 'text', delimiter, null: nul, header };
  }
  const delimiter = oneByte(opts.delimiter ?? ',');
  const quote = oneByte(opts.quote ?? '"');
  const escape = opts.escape !== undefined ? oneByte(opts.escape) : quote;
  if (delimiter === undefined || quote === undefined || escape === undefined) return 'its DELIMITER, QUOTE or ESCAPE is not a single one-byte character';
  let forceQuote: Uint8Array | null = new Uint8Array(fields.length);
  if (opts.forceQuote === '*') forceQuote.fill(1);
  else if (opts.forceQuote) {
    for (const c of opts.forceQuote) {
      const i = fields.findIndex((f) => f.name === c);
      if (i < 0) {
        // not placed: a new value is quoted where the old one was
        forceQuote = null;
        break;
      }
      forceQuote[i] = 1;
    }
  }
  return { kind: 'csv', delimiter, quote, escape, null: Buffer.from(opts.null ?? '', 'utf8'), header, forceQuote };
}
