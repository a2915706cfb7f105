import type { AnalysisFailure, ColumnRef, OutputColumn, SettingFact, StatementFacts, StatementKind, TableRef } from '../facts.js';

/** Thrown inside an analysis run; analyzePostgres turns it into `{ ok: false, failure }`. */
export class AnalysisError extends Error {
  constructor(readonly failure: AnalysisFailure) {
    super('message' in failure ? failure.message : failure.kind);
    this.name = 'AnalysisError';
  }
}

export function tooComplex(message: string): AnalysisError {
  return new AnalysisError({ kind: 'too_complex', message });
}

function tableKey(t: TableRef): string {
  return `${t.catalog ?? ''}\u0000${t.schema ?? ''}\u0000${t.name}`;
}

/** Opaque bodies are kept short: they are for explain output; the policy only needs to know they exist. */
export function snippet(what: string, body: string, max = 200): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return `${what}: ${flat.length > max ? flat.slice(0, max) + '…' : flat}`;
}

/** Accumulates the facts of one statement; nested statements are absorbed into their parent. */
export class FactsBuilder {
  private readonly read = new Map<string, TableRef>();
  private readonly written = new Map<string, TableRef>();
  private readonly functions = new Set<string>();
  private readonly settings = new Map<string, SettingFact>();
  readonly nested: StatementFacts[] = [];
  private readonly opaque = new Set<string>();
  unboundedWrite = false;
  hasWhere = false;
  hasLimit = false;
  hasReturning = false;
  writesFile = false;
  readsFile = false;
  copy: StatementFacts['copy'];
  outputColumns: OutputColumn[] | undefined;
  /** predicate columns by key (made on first use); `unknown` once any part of the statement could not be traced */
  private predicates: Map<string, ColumnRef> | undefined;
  private predicatesUnknown = false;

  constructor(
    readonly kind: StatementKind,
    readonly nodeType: string,
  ) {}

  addRead(t: TableRef): void {
    this.read.set(tableKey(t), t);
  }

  addWritten(t: TableRef): void {
    this.written.set(tableKey(t), t);
  }

  addFunction(name: string): void {
    this.functions.add(name);
  }

  addSetting(s: SettingFact): void {
    this.settings.set(`${s.name}\u0000${s.value ?? '\u0001'}\u0000${s.constant ?? '\u0001'}\u0000${s.reset ?? ''}\u0000${s.scope}\u0000${s.global ?? ''}\u0000${s.persist ?? ''}`, s);
  }

  addOpaque(body: string): void {
    this.opaque.add(body);
  }

  addPredicates(cols: ColumnRef[] | undefined): void {
    if (!cols) {
      this.predicatesUnknown = true;
      return;
    }
    if (this.predicatesUnknown || cols.length === 0) return;
    const p = (this.predicates ??= new Map());
    for (const c of cols) {
      const k = `${c.schema ?? ''}\u0000${c.table}\u0000${c.column}`;
      if (!p.has(k)) p.set(k, c);
    }
  }

  /** A statement this one runs: listed in `nested`, and its effects counted as this statement's own. */
  addNested(child: StatementFacts): void {
    this.nested.push(child);
    this.absorb(child);
  }

  /** Counts a child's effects as this statement's own without listing it (expression-only children). */
  absorb(child: StatementFacts): void {
    for (const t of child.tablesRead) this.addRead(t);
    for (const t of child.tablesWritten) this.addWritten(t);
    for (const f of child.functions) this.functions.add(f);
    for (const s of child.settings) this.addSetting(s);
    for (const o of child.opaqueBodies) this.opaque.add(o);
    if (child.unboundedWrite) this.unboundedWrite = true;
    if (child.writesFile) this.writesFile = true;
    if (child.readsFile) this.readsFile = true;
    this.addPredicates(child.predicateColumns);
  }

  build(): StatementFacts {
    const f: StatementFacts = {
      kind: this.kind,
      nodeType: this.nodeType,
      tablesRead: [...this.read.values()],
      tablesWritten: [...this.written.values()],
      functions: [...this.functions],
      unboundedWrite: this.unboundedWrite,
      hasWhere: this.hasWhere,
      hasLimit: this.hasLimit,
      hasReturning: this.hasReturning,
      settings: [...this.settings.values()],
      writesFile: this.writesFile,
      readsFile: this.readsFile,
      nested: this.nested,
      opaqueBodies: [...this.opaque],
    };
    if (this.copy) f.copy = this.copy;
    if (this.outputColumns) f.outputColumns = this.outputColumns;
    if (!this.predicatesUnknown) f.predicateColumns = this.predicates ? [...this.predicates.values()] : [];
    return f;
  }
}
