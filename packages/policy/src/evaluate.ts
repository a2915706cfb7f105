import type { Analysis, AnalysisFailure, Dialect, StatementFacts, TableRef } from '@sqlwarden/sql';
import type { Decision, Principal } from './decision.js';
import { anyGlob, type Glob } from './glob.js';
import { READ_ONLY_KINDS, type FactsMatch, type PolicySet, type Rule, type RuleAction, type TablePattern, type WhoMatch } from './model.js';
import { settingsMatch } from './setting-patterns.js';

/** Where a statement sits in the analysed string: "1", "2", "1.1" (first nested statement of the first), ... */
export interface JudgedStatement {
  path: string;
  facts: StatementFacts;
  outcome: RuleAction;
  /** the rule that decided, or a built-in reason ("default", "function-call", "opaque-body") */
  decidedBy: string;
  /** every rule that matched this statement */
  matched: string[];
}

export interface Judgement {
  decision: Decision;
  statements: JudgedStatement[];
}

const PARSE_ERROR_RULE = 'parse-error';
const DEFAULT_RULE = 'default';

/** Postgres resolves an unqualified name through search_path; `public` is where it lands by default. */
function defaultSchema(dialect: Dialect): string {
  return dialect === 'postgres' ? 'public' : '';
}

export function whoMatches(who: WhoMatch, p: Principal): boolean {
  if (who.agents && !anyGlob(who.agents, p.agent)) return false;
  if (who.targets && !anyGlob(who.targets, p.target)) return false;
  if (who.labels) {
    for (const [k, g] of who.labels) {
      const v = p.labels[k];
      if (v === undefined || !g.test(v)) return false;
    }
  }
  return true;
}

/**
 * Does a table reference match a pattern? An unqualified reference could resolve to any schema:
 * deny and review rules treat it as matching any schema (over-matching a restriction is safe),
 * allow rules only as the dialect's default schema (over-matching a permission is not).
 */
function tableMatches(p: TablePattern, t: TableRef, action: RuleAction, dialect: Dialect): boolean {
  if (!p.table.test(t.name)) return false;
  if (!p.schema) return true;
  if (t.schema !== undefined) return p.schema.test(t.schema);
  return action === 'allow' ? p.schema.test(defaultSchema(dialect)) : true;
}

function anyTable(patterns: readonly TablePattern[], tables: readonly TableRef[], action: RuleAction, dialect: Dialect): boolean {
  for (const t of tables) for (const p of patterns) if (tableMatches(p, t, action, dialect)) return true;
  return false;
}

function functionMatches(g: Glob, fn: string, action: RuleAction): boolean {
  if (g.test(fn)) return true;
  const dot = fn.lastIndexOf('.');
  const base = dot >= 0 ? fn.slice(dot + 1) : fn;
  // a pattern without a schema names the function wherever it lives: pg_read_file also catches pg_catalog.pg_read_file
  if (!g.source.includes('.')) return g.test(base);
  // an unqualified call may resolve to the schema a restriction names
  return action !== 'allow' && dot < 0 && g.test(`pg_catalog.${fn}`);
}

export function isReadOnly(f: StatementFacts): boolean {
  return READ_ONLY_KINDS.has(f.kind) && f.tablesWritten.length === 0 && !f.writesFile;
}

export function factsMatch(m: FactsMatch, f: StatementFacts, action: RuleAction, dialect: Dialect, fingerprint: () => string | undefined): boolean {
  if (m.dialect && m.dialect !== dialect) return false;
  if (m.kinds && !anyGlob(m.kinds, f.kind)) return false;
  if (m.unboundedWrite && !f.unboundedWrite) return false;
  if (m.access && (m.access === 'read') !== isReadOnly(f)) return false;
  if (m.opaque !== undefined && m.opaque !== f.opaqueBodies.length > 0) return false;
  if (m.writesFile !== undefined && m.writesFile !== (f.writesFile === true)) return false;
  if (m.readsFile !== undefined && m.readsFile !== (f.readsFile === true)) return false;
  if (m.limit && (m.limit === 'present') !== f.hasLimit) return false;
  if (m.returning !== undefined && m.returning !== f.hasReturning) return false;
  if (m.copy) {
    const c = f.copy;
    if (!c) return false;
    if (m.copy.program !== undefined && m.copy.program !== c.program) return false;
    if (m.copy.file !== undefined && m.copy.file !== c.file) return false;
    if (m.copy.direction !== undefined && m.copy.direction !== c.direction) return false;
  }
  if (m.tables && !anyTable(m.tables, f.tablesRead, action, dialect) && !anyTable(m.tables, f.tablesWritten, action, dialect)) return false;
  if (m.tablesRead && !anyTable(m.tablesRead, f.tablesRead, action, dialect)) return false;
  if (m.tablesWritten && !anyTable(m.tablesWritten, f.tablesWritten, action, dialect)) return false;
  if (m.schemas) {
    const schemas = m.schemas;
    const hit = [...f.tablesRead, ...f.tablesWritten].some((t) =>
      t.schema !== undefined ? anyGlob(schemas, t.schema) : action === 'allow' ? anyGlob(schemas, defaultSchema(dialect)) : true,
    );
    if (!hit) return false;
  }
  if (m.functions) {
    const fns = m.functions;
    if (!f.functions.some((fn) => fns.some((g) => functionMatches(g, fn, action)))) return false;
  }
  // names and values (see setting-patterns.ts); "*" (a setting whose name is unknown) matches every restriction
  if (m.settings && !settingsMatch(m.settings, f.settings, action)) return false;
  if (m.globalSettings !== undefined && m.globalSettings !== f.settings.some((s) => s.global === true || s.persist === true)) return false;
  if (m.fingerprints) {
    const fp = fingerprint();
    if (fp === undefined || !m.fingerprints.some((x) => x.dialect === dialect && x.fingerprint === fp)) return false;
  }
  return true;
}

const STRENGTH: Record<RuleAction, number> = { allow: 0, review: 1, deny: 2 };

function judgeStatement(policy: PolicySet, rules: readonly Rule[], f: StatementFacts, path: string, dialect: Dialect, fingerprint: () => string | undefined): JudgedStatement {
  let best: Rule | undefined;
  const matched: string[] = [];
  for (const r of rules) {
    if (!factsMatch(r.match, f, r.action, dialect, fingerprint)) continue;
    matched.push(r.id);
    if (!best || STRENGTH[r.action] > STRENGTH[best.action]) best = r;
  }
  // fail closed on what carries no SQL or could not be read, unless a rule allows exactly that
  if (f.kind === 'function_call' && (!best || best.action === 'allow') && !(best && best.match.kinds)) {
    return { path, facts: f, outcome: 'deny', decidedBy: 'function-call', matched };
  }
  if (f.opaqueBodies.length > 0 && (!best || best.action === 'allow') && !(best && best.match.opaque === true)) {
    return { path, facts: f, outcome: 'deny', decidedBy: 'opaque-body', matched };
  }
  if (best) return { path, facts: f, outcome: best.action, decidedBy: best.id, matched };
  return { path, facts: f, outcome: policy.defaults.action, decidedBy: DEFAULT_RULE, matched };
}

function flatten(statements: readonly StatementFacts[], prefix: string, out: { path: string; facts: StatementFacts }[], depth = 0): void {
  statements.forEach((s, i) => {
    const path = prefix ? `${prefix}.${i + 1}` : String(i + 1);
    out.push({ path, facts: s });
    if (depth < 64) flatten(s.nested, path, out, depth + 1);
  });
}

export function failureReason(f: AnalysisFailure): string {
  switch (f.kind) {
    case 'parse_error':
      return `the statement could not be parsed (${f.message}), so it was not run`;
    case 'nul_byte':
      return 'the statement contains a NUL byte, so it was not run';
    case 'too_large':
      return `the statement is ${f.bytes} bytes, over the ${f.limit}-byte limit for analysis, so it was not run`;
    case 'too_complex':
      return `the statement is too complex to analyse (${f.message}), so it was not run`;
    case 'parser_failure':
      return `the statement could not be analysed (${f.message}), so it was not run`;
    case 'empty':
      return 'the statement is empty';
  }
}

const BUILTIN_REASONS: Record<string, string> = {
  'function-call': 'the fastpath FunctionCall message carries no SQL to judge; no rule allows it',
  'opaque-body': 'the statement runs code sqlwarden cannot read (dynamic SQL or a function body in an unparsed language); no rule allows it',
};

/** Judges every statement (nested ones too); the most restrictive outcome decides. */
export function judge(policy: PolicySet, rules: readonly Rule[], analysis: Analysis, fingerprint: () => string | undefined): Judgement {
  if (!analysis.ok) {
    if (analysis.failure.kind === 'empty') return { decision: { kind: 'allow' }, statements: [] };
    return { decision: { kind: 'deny', ruleId: PARSE_ERROR_RULE, reason: failureReason(analysis.failure) }, statements: [] };
  }
  const flat: { path: string; facts: StatementFacts }[] = [];
  flatten(analysis.statements, '', flat);
  const statements = flat.map((s) => judgeStatement(policy, rules, s.facts, s.path, analysis.dialect, fingerprint));
  let worst: JudgedStatement | undefined;
  for (const s of statements) if (!worst || STRENGTH[s.outcome] > STRENGTH[worst.outcome]) worst = s;
  if (!worst || worst.outcome === 'allow') return { decision: { kind: 'allow' }, statements };
  const rule = rules.find((r) => r.id === worst.decidedBy);
  const reason =
    rule?.message ??
    rule?.description ??
    BUILTIN_REASONS[worst.decidedBy] ??
    (worst.decidedBy === DEFAULT_RULE ? policy.defaults.message : `matched rule "${worst.decidedBy}"`);
  const where = statements.length > 1 ? ` (statement ${worst.path}: ${worst.facts.kind})` : '';
  if (worst.outcome === 'review') {
    return { decision: { kind: 'review', ruleId: worst.decidedBy, reason: reason + where, timeoutMs: rule?.timeoutMs ?? policy.defaults.reviewTimeoutMs }, statements };
  }
  return { decision: { kind: 'deny', ruleId: worst.decidedBy, reason: reason + where }, statements };
}
