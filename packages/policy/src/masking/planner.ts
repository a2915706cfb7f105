/**
 * Which output columns of a result get masked, and how.
 *
 * The engine works out where each output column's data comes from (a {@link ColumnOrigin}: base
 * columns and whole rows, from the protocol's column metadata, the catalog and AST lineage, or
 * `null` when it cannot tell); the {@link MaskSet} of the session's principal turns origins into
 * compiled per-column maskers. Unknown origins are masked whenever a column rule applies to the
 * session (fail closed); detectors scan every text column, whatever its origin.
 */
import type { ColumnRef, Dialect, LineageTable, StatementFacts } from '@sqlwarden/sql';
import type { Principal } from '../decision.js';
import { whoMatches } from '../evaluate.js';
import { compileGlob, type Glob } from '../glob.js';
import type { MaskFunction, MaskRule } from '../model.js';
import { DetectorSet, redactSpansBuffer, redactSpansJson, redactSpansPgArray, type SpanReplacement } from './detectors.js';
import { HmacSha256 } from './hmac-sha256.js';
import { compileMask, DEFAULT_REPLACEMENT, maskValue, type MaskOptions, type ValueMasker } from './mask-functions.js';
import { compilePgBinaryMask } from './pg-binary.js';
import { binaryArrayDetector } from './pg-binary-array.js';
import { wireFormatKey, type WireFormat } from './column-codec.js';
import { TypeHint } from './type-hint.js';

/**
 * Relations that hold sample values of other tables' columns: the planner statistics (ANALYZE's most
 * common values, histogram bounds, extended statistics' MCV lists, expression statistics). Their rows
 * name a column (`attname`) but carry its values in `anyarray` columns that no mask can be traced to,
 * and filtering on them would bypass deny_in_predicates; while masks apply, statements reading them are
 * refused (see {@link MaskSet.refusal}). `pg_statistic_ext` (the statistics' definitions, which `\d`
 * reads) holds no values and stays available.
 */
export const PG_STATISTICS_RELATIONS: ReadonlySet<string> = new Set(['pg_stats', 'pg_stats_ext', 'pg_stats_ext_exprs', 'pg_statistic', 'pg_statistic_ext_data']);
/** Functions that print statistics' values (`pg_mcv_list_items(stxdmcv)`). */
const PG_STATISTICS_FUNCTIONS: ReadonlySet<string> = new Set(['pg_mcv_list_items']);
/** MySQL 8's histograms (`information_schema.COLUMN_STATISTICS`) hold sample values the same way. */
const MYSQL_STATISTICS_RELATIONS: ReadonlySet<string> = new Set(['column_statistics']);
/**
 * MariaDB's engine-independent statistics: `mysql.column_stats` holds each column's min_value,
 * max_value and a histogram (values of the column, as text). `table_stats` and `index_stats` hold
 * counts only.
 */
const MARIADB_STATISTICS_RELATIONS: ReadonlySet<string> = new Set(['column_stats']);

/** true when a relation name (as written, or as the catalog qualifies it) is one of the statistics relations of that dialect. */
export function isStatisticsRelation(schema: string | undefined, name: string, dialect: Dialect = 'postgres'): boolean {
  if (dialect === 'mysql') {
    const parts = name.toLowerCase().split('.');
    const table = parts[parts.length - 1]!;
    const db = (schema ?? (parts.length > 1 ? parts[parts.length - 2] : undefined))?.toLowerCase();
    if (MARIADB_STATISTICS_RELATIONS.has(table) && (db === undefined || db === 'mysql')) return true;
    return MYSQL_STATISTICS_RELATIONS.has(table) && (db === undefined || db === 'information_schema');
  }
  // an unqualified name resolves to pg_catalog first unless the search_path says otherwise: refused either way
  return PG_STATISTICS_RELATIONS.has(name) && (schema === undefined || schema === 'pg_catalog');
}

/** The rule id used when a column is masked because its origin could not be determined. */
export const UNCERTAIN_RULE = 'uncertain-origin';

/** Where one output column's data comes from; `null` = not known (masked when column rules apply). */
export type ColumnOrigin = null | {
  /** base columns (or view columns) the value is computed from; an absent schema could be any schema */
  columns: readonly ColumnRef[];
  /**
   * the value IS a column's value (a plain reference, through aliases and views); false for anything
   * computed. `email` and `partial` keep part of the value, which is only safe on the value itself:
   * `'a@' || split_part(email, '@', 1)` would move the secret into the part they keep. Computed values
   * get `redact` instead (`hash`, `redact` and `null` are safe on anything).
   */
  direct?: boolean;
  /** whole rows of these tables (`row_to_json(t)`, `t.*` as a value): every column of each */
  wholeRow: readonly LineageTable[];
};

/** How one output column is masked. */
export type ColumnMask =
  /** the whole value is replaced (column rules and unknown origins) */
  | { kind: 'whole'; rule: string; mask: ValueMasker }
  /** findings of detectors inside the value are replaced (text columns only) */
  | { kind: 'detect'; rule: string; mask: ValueMasker };

export interface ResultPlan {
  /** per output column: how it is masked, or null (passed as it is) */
  columns: (ColumnMask | null)[];
  /** true when any column is masked */
  any: boolean;
  /** columns masked because their origin was not known */
  uncertain: number;
}

interface ColumnPattern {
  schema?: Glob;
  table?: Glob;
  column: Glob;
}

function splitDotted(s: string): string[] {
  // policy patterns are plain dotted names (quoted identifiers are not supported in mask columns)
  return s.split('.');
}

function compilePattern(p: string): ColumnPattern {
  const parts = splitDotted(p);
  if (parts.length === 1) return { column: compileGlob(parts[0]!) };
  if (parts.length === 2) return { table: compileGlob(parts[0]!), column: compileGlob(parts[1]!) };
  return { schema: compileGlob(parts[0]!), table: compileGlob(parts[1]!), column: compileGlob(parts[2]!) };
}

/** An unqualified reference could resolve to any schema: a restriction matches it. */
function tablePartMatches(p: ColumnPattern, t: LineageTable): boolean {
  if (p.table && !p.table.test(t.table)) return false;
  if (p.schema && t.schema !== undefined && !p.schema.test(t.schema)) return false;
  return true;
}

function columnMatches(p: ColumnPattern, c: ColumnRef): boolean {
  return (c.column === '*' || p.column.test(c.column)) && tablePartMatches(p, { schema: c.schema, table: c.table });
}

interface CompiledRule {
  rule: MaskRule;
  patterns: ColumnPattern[];
  options: MaskOptions;
}

interface DetectorRule extends CompiledRule {
  detectors: DetectorSet;
}

/** Postgres types whose text is scanned by detectors (text-like and JSON). */
const DETECTABLE: ReadonlySet<TypeHint> = new Set([TypeHint.Text, TypeHint.Json, TypeHint.Jsonb, TypeHint.Array]);

export interface MaskSetOptions {
  /** HMAC key of the `hash` function (at least 16 bytes) */
  hashKey?: Uint8Array | string;
}

/** What a detector finding becomes under each mask function (the span only; `null` nulls the value). */
function spanReplacement(fn: MaskFunction, opts: MaskOptions): SpanReplacement | null {
  switch (fn) {
    case 'redact':
      return opts.replacement ?? DEFAULT_REPLACEMENT;
    case 'null':
      return null;
    case 'hash':
    case 'partial':
    case 'email':
      return (detector, found) => {
        if (fn === 'email' && detector !== 'email') return opts.replacement ?? DEFAULT_REPLACEMENT;
        return maskValue(fn, found, TypeHint.Text, opts) ?? (opts.replacement ?? DEFAULT_REPLACEMENT);
      };
  }
}

/**
 * The masks that apply to one principal, compiled once per session and policy version.
 * Column rules are tried in policy order; the first that matches a source decides its function.
 */
export class MaskSet {
  private readonly columnRules: CompiledRule[] = [];
  private readonly detectorRules: DetectorRule[] = [];
  private readonly masks = new Map<string, ValueMasker>();
  private readonly hashKey: HmacSha256 | undefined;

  constructor(
    /** the policy's mask rules this set applies, in policy order */
    readonly rules: readonly MaskRule[],
    opts: MaskSetOptions = {},
  ) {
    if (opts.hashKey !== undefined && opts.hashKey.length < 16) throw new Error('masking.hashKey must be at least 16 bytes');
    this.hashKey = opts.hashKey !== undefined ? new HmacSha256(opts.hashKey) : undefined;
    for (const rule of rules) {
      if (rule.function === 'hash' && !this.hashKey) throw new Error(`mask "${rule.id}" uses hash, which needs masking.hashKey in the configuration`);
      const options: MaskOptions = { replacement: rule.replacement, keepFirst: rule.keepFirst, keepLast: rule.keepLast, hashKey: this.hashKey };
      const patterns = rule.columns.map(compilePattern);
      if (rule.detectors.length > 0) this.detectorRules.push({ rule, patterns, options, detectors: new DetectorSet(rule.detectors) });
      else this.columnRules.push({ rule, patterns, options });
    }
  }

  /** The masks of a policy that apply to this principal; null when none do. */
  static forPrincipal(rules: readonly MaskRule[], who: Principal, opts: MaskSetOptions = {}): MaskSet | null {
    const mine = rules.filter((r) => whoMatches(r.who, who));
    return mine.length === 0 ? null : new MaskSet(mine, opts);
  }

  /** Do two mask sets (null: none) apply the same rules of the same policy? */
  static sameRules(a: MaskSet | null, b: MaskSet | null): boolean {
    const x = a?.rules ?? [];
    const y = b?.rules ?? [];
    return x.length === y.length && x.every((r, i) => r === y[i]);
  }

  get isEmpty(): boolean {
    return this.columnRules.length === 0 && this.detectorRules.length === 0;
  }

  /** true when some rule masks columns by name (so unknown origins must be masked) */
  get hasColumnRules(): boolean {
    return this.columnRules.length > 0;
  }

  get hasDetectors(): boolean {
    return this.detectorRules.length > 0;
  }

  /** The column rule whose columns an origin derives from, if any. */
  ruleForOrigin(o: NonNullable<ColumnOrigin>): MaskRule | undefined {
    return this.columnRules.find((r) => originMatches(r.patterns, o))?.rule;
  }

  /**
   * The column rules with deny_in_predicates. When there are any, the engine also follows predicate
   * columns of views to the columns they come from ({@link predicateRuleForOrigin}).
   */
  get predicateRules(): MaskRule[] {
    return this.columnRules.filter((r) => r.rule.denyInPredicates).map((r) => r.rule);
  }

  /** The deny_in_predicates rule whose columns an origin (a view column followed to its sources) derives from, if any. */
  predicateRuleForOrigin(o: NonNullable<ColumnOrigin>): MaskRule | undefined {
    return this.columnRules.find((r) => r.rule.denyInPredicates && originMatches(r.patterns, o))?.rule;
  }

  /** The first masked column used to filter, join or order rows, for rules with deny_in_predicates. */
  predicateViolation(statements: readonly StatementFacts[]): { rule: MaskRule; column: ColumnRef } | undefined {
    const strict = this.columnRules.filter((r) => r.rule.denyInPredicates);
    if (strict.length === 0) return undefined;
    const visit = (ss: readonly StatementFacts[]): { rule: MaskRule; column: ColumnRef } | undefined => {
      for (const s of ss) {
        // a statement whose predicates could not be traced: refuse rather than guess
        const cols: ColumnRef[] = s.predicateColumns ?? [...s.tablesRead, ...s.tablesWritten].map((t) => ({ schema: t.schema, table: t.name, column: '*' }));
        for (const c of cols) for (const r of strict) if (r.patterns.some((p) => columnMatches(p, c))) return { rule: r.rule, column: c };
        const nested = visit(s.nested);
        if (nested) return nested;
      }
      return undefined;
    };
    return visit(statements);
  }

  /**
   * Statements that masking refuses even when the rules allow them: a masked column used to filter,
   * join or order rows (rules with deny_in_predicates), and COPY ... TO a server file or program of
   * table data, whose rows never pass the masker (COPY ... TO STDOUT is masked in the stream).
   */
  refusal(statements: readonly StatementFacts[], dialect: Dialect = 'postgres'): { ruleId: string; reason: string } | undefined {
    const stats = statisticsRead(statements, dialect);
    const anyRule = this.columnRules[0]?.rule ?? this.detectorRules[0]?.rule;
    if (stats !== undefined && anyRule) {
      return {
        ruleId: anyRule.id,
        reason: `${stats} holds sample values of table columns (planner statistics) that masking cannot trace to their columns, so it is not available while masks apply to this session`,
      };
    }
    const p = this.predicateViolation(statements);
    if (p) {
      const name = [p.column.schema, p.column.table, p.column.column].filter((x) => x !== undefined).join('.');
      return { ruleId: p.rule.id, reason: `${name} is masked and may not be used to filter, join or order rows` };
    }
    const first = this.columnRules[0]?.rule ?? this.detectorRules[0]?.rule;
    if (!first) return undefined;
    const copyOut = (ss: readonly StatementFacts[]): boolean =>
      ss.some((s) => (s.kind === 'copy' && s.copy?.direction === 'to' && !s.copy.stdio && (s.tablesRead.length > 0 || s.outputColumns === undefined || s.outputColumns.some((c) => c.sources.length > 0 || c.wholeRow?.length || c.star))) || copyOut(s.nested));
    if (copyOut(statements)) {
      // name the mask of a column the COPY would carry out, when the lineage shows one
      const outputs = statements.flatMap((s) => s.outputColumns ?? []);
      const named =
        outputs.map((c) => this.ruleForOrigin({ columns: c.sources, wholeRow: [...(c.wholeRow ?? []), ...(c.star ? [c.star] : [])] })).find((r) => r !== undefined) ?? first;
      return { ruleId: named.id, reason: 'COPY ... TO a file or program cannot be masked, so it is not available while masking applies; use COPY ... TO STDOUT' };
    }
    return undefined;
  }

  /** The compiled masker of a rule for a type and format (cached). */
  private masker(r: CompiledRule, hint: TypeHint, format: WireFormat, kind: 'whole' | 'detect'): ValueMasker {
    return this.cached(`${r.rule.id}\u0000${hint}\u0000${wireFormatKey(format)}\u0000${kind}`, () => {
      if (kind === 'whole') return compileFor(r.rule.function, hint, format, r.options);
      // a codec's detection: the text detection over the value's text bytes, in the codec's wire form
      if (typeof format === 'object') return format.detect!(this.masker(r, hint, 0, 'detect'));
      const detectors = (r as DetectorRule).detectors;
      const repl = spanReplacement(r.rule.function, r.options);
      if (hint === TypeHint.Array && format === 1) {
        // binary arrays: decoded, each element scanned by its type (text, json, jsonb), encoded again
        const element = (redact: typeof redactSpansBuffer) => (e: Buffer): Buffer | null => {
          const out = redact(e, detectors, repl ?? '');
          return out === e ? e : repl === null ? null : out;
        };
        return binaryArrayDetector(element(redactSpansBuffer), element(redactSpansJson));
      }
      const jsonb = hint === TypeHint.Jsonb && format === 1;
      // JSON and arrays: strings, numbers and elements are scanned as the values they stand for, and
      // replacements are written quoted and escaped, so they cannot break the value or add to it
      const redact = hint === TypeHint.Json || hint === TypeHint.Jsonb ? redactSpansJson : hint === TypeHint.Array ? redactSpansPgArray : redactSpansBuffer;
      return (v) => {
        // binary jsonb carries a version byte before the JSON text
        const body = jsonb ? v.subarray(1) : v;
        const out = redact(body, detectors, repl ?? '');
        if (out === body) return v;
        if (repl === null) return null;
        return jsonb ? Buffer.concat([v.subarray(0, 1), out]) : out;
      };
    });
  }

  /** `redact` with the rule's replacement, for computed values under a function that keeps part of the value. */
  private redactMasker(r: CompiledRule, hint: TypeHint, format: WireFormat): ValueMasker {
    return this.cached(`\u0003${r.rule.id}\u0000${hint}\u0000${wireFormatKey(format)}`, () => compileFor('redact', hint, format, r.options));
  }

  private uncertainMasker(hint: TypeHint, format: WireFormat): ValueMasker {
    return this.cached(`\u0001${hint}\u0000${wireFormatKey(format)}`, () => compileFor('redact', hint, format, {}));
  }

  private cached(key: string, make: () => ValueMasker): ValueMasker {
    let m = this.masks.get(key);
    if (!m) {
      m = make();
      this.masks.set(key, m);
    }
    return m;
  }

  /**
   * One output column's masking. `hint` is the column type's hint, `format` Postgres' 0 (text) or 1
   * (binary), or a codec for another wire (MySQL: `mysqlColumnCodec`, or `planMysqlResult` for a whole result).
   */
  planColumn(origin: ColumnOrigin, hint: TypeHint, format: WireFormat): ColumnMask | null {
    if (origin === null) {
      if (this.columnRules.length > 0) return { kind: 'whole', rule: UNCERTAIN_RULE, mask: this.uncertainMasker(hint, format) };
    } else {
      const matched = this.columnRules.filter((x) => originMatches(x.patterns, origin));
      if (matched.length > 0) return this.wholeMask(matched, origin.direct === true, hint, format);
    }
    if (typeof format === 'object' ? format.detect === null : !DETECTABLE.has(hint)) return null;
    // detectors limited to some columns also scan a column of unknown origin: it could be one of them
    const applicable = this.detectorRules.filter((r) => r.patterns.length === 0 || origin === null || originMatches(r.patterns, origin));
    if (applicable.length === 0) return null;
    return { kind: 'detect', rule: applicable[0]!.rule.id, mask: this.combinedDetectors(applicable, hint, format) };
  }

  /**
   * The whole-value mask of an output column whose sources match these column rules (policy order).
   *
   * One rule, or several that mask alike: that function — except that `email` and `partial`, which keep
   * part of the value, apply to a column's own value only (`direct`); a computed value gets `redact`.
   *
   * Rules that differ: the value may be any of the sources' values (a UNION of two masked columns, an
   * ambiguous reference, a view column and its base column with rules of their own) or computed from
   * several of them, so it is hidden as the strictest of them hides it: `null` when one of them is
   * `null` (it hides even whether there is a value), otherwise `redact` (hash shows which values are
   * equal, partial and email show parts: none of them is safe in place of another). A source that no
   * rule matches changes nothing: its values get the mask of the others (a UNION of an unmasked and a
   * masked column is masked as a whole).
   */
  private wholeMask(rules: CompiledRule[], direct: boolean, hint: TypeHint, format: WireFormat): ColumnMask {
    const first = rules[0]!;
    const alike = rules.every((r) => maskEffect(r) === maskEffect(first));
    if (alike) {
      const keepsPart = first.rule.function === 'email' || first.rule.function === 'partial';
      if (keepsPart && !direct) return { kind: 'whole', rule: first.rule.id, mask: this.redactMasker(first, hint, format) };
      return { kind: 'whole', rule: first.rule.id, mask: this.masker(first, hint, format, 'whole') };
    }
    const nulls = rules.find((r) => r.rule.function === 'null');
    if (nulls) return { kind: 'whole', rule: nulls.rule.id, mask: this.masker(nulls, hint, format, 'whole') };
    const redacts = rules.find((r) => r.rule.function === 'redact') ?? first;
    return { kind: 'whole', rule: redacts.rule.id, mask: this.redactMasker(redacts, hint, format) };
  }

  /** Detector rules applied in turn (each with its own function). */
  private combinedDetectors(rules: DetectorRule[], hint: TypeHint, format: WireFormat): ValueMasker {
    return this.cached(`\u0002${hint}\u0000${wireFormatKey(format)}\u0000${rules.map((r) => r.rule.id).join('\u0000')}`, () => {
      const parts = rules.map((r) => this.masker(r, hint, format, 'detect'));
      if (parts.length === 1) return parts[0]!;
      return (v) => {
        let cur: Buffer | null = v;
        for (const p of parts) {
          if (cur === null) return null;
          cur = p(cur);
        }
        return cur;
      };
    });
  }


  /** Plans a whole result. */
  plan(origins: readonly ColumnOrigin[], hints: readonly TypeHint[], formats: readonly WireFormat[]): ResultPlan {
    const columns: (ColumnMask | null)[] = [];
    let any = false;
    let uncertain = 0;
    for (let i = 0; i < origins.length; i++) {
      const c = this.planColumn(origins[i]!, hints[i]!, formats[i] ?? 0);
      if (c) {
        any = true;
        if (c.rule === UNCERTAIN_RULE) uncertain++;
      }
      columns.push(c);
    }
    return { columns, any, uncertain };
  }
}

/** A mask function compiled for a column's type, in its wire format (Postgres 0 text, 1 binary; or a codec). */
function compileFor(fn: MaskFunction, hint: TypeHint, format: WireFormat, opts: MaskOptions): ValueMasker {
  if (typeof format === 'object') return format.compile(fn, opts);
  return format === 1 ? compilePgBinaryMask(fn, hint, opts) : compileMask(fn, hint, opts);
}

/** What a column rule does to a value: rules with the same effect mask alike. */
function maskEffect(r: CompiledRule): string {
  const o = r.options;
  switch (r.rule.function) {
    case 'redact':
      return `redact\u0000${o.replacement ?? DEFAULT_REPLACEMENT}`;
    case 'partial':
      return `partial\u0000${o.keepFirst ?? ''}\u0000${o.keepLast ?? ''}`;
    case 'null':
    case 'hash':
    case 'email':
      return r.rule.function;
  }
}

/** The first statistics relation or function a statement (or one nested in it) reads, as it is written. */
function statisticsRead(statements: readonly StatementFacts[], dialect: Dialect): string | undefined {
  for (const s of statements) {
    for (const t of [...s.tablesRead, ...s.tablesWritten]) if (isStatisticsRelation(t.schema, t.name, dialect)) return [t.schema, t.name].filter((x) => x !== undefined).join('.');
    if (dialect === 'postgres') {
      for (const f of s.functions) {
        const name = f.startsWith('pg_catalog.') ? f.slice('pg_catalog.'.length) : f;
        if (PG_STATISTICS_FUNCTIONS.has(name)) return `${f}()`;
      }
    }
    const nested = statisticsRead(s.nested, dialect);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

function originMatches(patterns: readonly ColumnPattern[], o: NonNullable<ColumnOrigin>): boolean {
  for (const c of o.columns) for (const p of patterns) if (columnMatches(p, c)) return true;
  for (const t of o.wholeRow) for (const p of patterns) if (tablePartMatches(p, t)) return true;
  return false;
}
