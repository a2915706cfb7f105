import { resultFormatOf, type FieldDescription } from '@sqlwarden/wire-pg';

/**
 * Which result a row belongs to. Postgres answers requests strictly in order, so the proxy keeps a
 * queue of the requests whose answers carry result metadata (Describe, Execute, Query) with the
 * Sync points between them; an error skips everything up to the next Sync, as the server does.
 *
 * `T` is what the caller attaches to a statement (its analysis, for expression lineage).
 */
export interface ResultColumns<T> {
  fields: FieldDescription[];
  /** per-column format actually used for the rows (Bind's result formats, or RowDescription's) */
  formats: number[];
  /** what the statement that produced the rows carries (e.g. its analysis), and which of its statements */
  statement: T | undefined;
  statementIndex: number;
}

/** Requests hold the statement/portal object as it was when sent: a later Bind or Parse of the same name must not change them. */
type Pending<T> =
  | { kind: 'describe'; of: Statement<T> | Portal<T> | undefined }
  | { kind: 'execute'; portal: Portal<T> | undefined }
  | { kind: 'query'; statement: T | undefined; index: number }
  | { kind: 'sync' };

interface Statement<T> {
  attached: T | undefined;
  fields?: FieldDescription[];
}

interface Portal<T> {
  statement: Statement<T> | undefined;
  resultFormats: number[];
  fields?: FieldDescription[];
}

export class ResultTracker<T> {
  private readonly statements = new Map<string, Statement<T>>();
  private readonly portals = new Map<string, Portal<T>>();
  private readonly pending: Pending<T>[] = [];
  private head = 0;
  /** the result rows are flowing for right now */
  current: ResultColumns<T> | null = null;

  // ---- client → upstream, in the order sent ----

  parse(name: string, attached: T | undefined): void {
    this.statements.set(name, { attached });
  }

  bind(portal: string, statement: string, resultFormats: number[]): void {
    this.portals.set(portal, { statement: this.statements.get(statement), resultFormats });
  }

  describe(target: 'S' | 'P', name: string): void {
    this.pending.push({ kind: 'describe', of: target === 'S' ? this.statements.get(name) : this.portals.get(name) });
  }

  execute(portal: string): void {
    this.pending.push({ kind: 'execute', portal: this.portals.get(portal) });
  }

  close(target: 'S' | 'P', name: string): void {
    if (target === 'S') this.statements.delete(name);
    else this.portals.delete(name);
  }

  /** Sync, and any message answered by ReadyForQuery alone (FunctionCall). */
  sync(): void {
    this.pending.push({ kind: 'sync' });
  }

  /** A simple Query: its results, then ReadyForQuery. The unnamed statement and portal are gone. */
  query(attached: T | undefined): void {
    this.statements.delete('');
    this.portals.delete('');
    this.pending.push({ kind: 'query', statement: attached, index: 0 });
  }

  // ---- upstream → client ----

  private peek(): Pending<T> | undefined {
    return this.pending[this.head];
  }

  /** What the next RowDescription will describe: the attached statement and which of its statements. */
  nextDescribed(): { statement: T | undefined; index: number } | undefined {
    const p = this.peek();
    if (p?.kind === 'query') return { statement: p.statement, index: p.index };
    if (p?.kind === 'describe') {
      const of = p.of;
      const attached = of && 'attached' in of ? of.attached : (of as Portal<T> | undefined)?.statement?.attached;
      return { statement: attached, index: 0 };
    }
    return undefined;
  }

  /** For rows of an Execute not yet started: the columns they will have (undefined when unknown). */
  nextExecute(): { fields: FieldDescription[]; statement: T | undefined } | undefined {
    if (this.current) return undefined;
    const p = this.peek();
    if (p?.kind !== 'execute' || !p.portal) return undefined;
    const fields = p.portal.fields ?? p.portal.statement?.fields;
    return fields ? { fields, statement: p.portal.statement?.attached } : undefined;
  }

  private shift(): void {
    this.head++;
    if (this.head > 64 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }

  /** RowDescription ('T'): returns the columns rows will carry, when rows follow (Query, Describe of a portal). */
  rowDescription(fields: FieldDescription[]): ResultColumns<T> | null {
    const p = this.peek();
    if (!p) return null;
    if (p.kind === 'query') {
      this.current = { fields, formats: fields.map((f) => f.format), statement: p.statement, statementIndex: p.index };
      return this.current;
    }
    if (p.kind === 'describe') {
      this.shift();
      if (p.of) p.of.fields = fields;
    }
    return null;
  }

  /** NoData ('n'): a Describe whose statement returns no rows. */
  noData(): void {
    if (this.peek()?.kind === 'describe') this.shift();
  }

  /**
   * The columns for a DataRow. For an Execute, resolved on its first row from the portal's
   * (or its statement's) RowDescription and Bind's formats; null when unknown.
   */
  rowColumns(): ResultColumns<T> | null {
    if (this.current) return this.current;
    const p = this.peek();
    if (p?.kind !== 'execute') return null;
    const portal = p.portal;
    const fields = portal?.fields ?? portal?.statement?.fields;
    if (!portal || !fields) return null;
    this.current = { fields, formats: fields.map((_, i) => resultFormatOf(portal.resultFormats, i)), statement: portal.statement?.attached, statementIndex: 0 };
    return this.current;
  }

  /** CommandComplete, EmptyQueryResponse or PortalSuspended: the current result ends. */
  resultEnd(): void {
    this.current = null;
    const p = this.peek();
    if (p?.kind === 'execute') this.shift();
    else if (p?.kind === 'query') p.index++;
  }

  /**
   * What the request an ErrorResponse answers now (call before error()) carries: a Query's whole
   * attachment, a Describe's or Execute's statement's. undefined when not known (a Parse or Bind
   * answered by its error before any tracked request, a FunctionCall, an untracked portal).
   */
  failing(): { statement: T | undefined } | undefined {
    const p = this.peek();
    switch (p?.kind) {
      case 'query':
        return { statement: p.statement };
      case 'describe': {
        const of = p.of;
        if (!of) return undefined;
        return { statement: 'attached' in of ? of.attached : of.statement?.attached };
      }
      case 'execute':
        return p.portal?.statement ? { statement: p.portal.statement.attached } : undefined;
      default:
        return undefined;
    }
  }

  /**
   * What a CopyOutResponse answers now: a Query's attachment and which of its statements runs, or
   * an Execute's statement. undefined when not known.
   */
  copying(): { statement: T | undefined; index: number } | undefined {
    const p = this.peek();
    if (p?.kind === 'query') return { statement: p.statement, index: p.index };
    if (p?.kind === 'execute' && p.portal) return { statement: p.portal.statement?.attached, index: 0 };
    return undefined;
  }

  /**
   * Whether the upstream may still run more of the current request after the result being answered:
   * a later statement of the simple Query (`count` of them), or another Execute before the next Sync.
   * Unknown counts as more.
   */
  moreAfter(count: (statement: T) => number): boolean {
    const p = this.peek();
    if (p?.kind === 'query') return p.statement === undefined || p.index < count(p.statement) - 1;
    for (let i = this.head + 1; i < this.pending.length; i++) {
      const q = this.pending[i]!;
      if (q.kind === 'sync' || q.kind === 'query') return false;
      if (q.kind === 'execute') return true;
    }
    return false;
  }

  /** ErrorResponse: the failed request and everything before the next Sync are skipped. */
  error(): void {
    this.current = null;
    for (let p = this.peek(); p && p.kind !== 'sync' && p.kind !== 'query'; p = this.peek()) this.shift();
  }

  /** ReadyForQuery: everything up to and including the first Sync or Query is answered. */
  readyForQuery(): void {
    this.current = null;
    for (let p = this.peek(); p; p = this.peek()) {
      this.shift();
      if (p.kind === 'sync' || p.kind === 'query') break;
    }
  }

  /** Requests still waiting for an answer (for tests and bounds). */
  get inFlight(): number {
    return this.pending.length - this.head;
  }
}
