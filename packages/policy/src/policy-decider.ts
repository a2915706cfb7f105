import { emptyFacts, type Analysis, type AnalysisCache, type Dialect, type StatementFacts } from '@sqlwarden/sql';
import type { Decider, Decision, Principal, SqlMessage } from './decision.js';
import { judge, whoMatches, type Judgement } from './evaluate.js';
import { MaskSet, type MaskSetOptions } from './masking/planner.js';
import type { PolicySet, Rule } from './model.js';

function functionCallAnalysis(dialect: Dialect): Analysis {
  return { ok: true, dialect, statements: [emptyFacts('function_call', 'FunctionCall')], normalized: '', fingerprint: '' };
}

/** The built-in rule id of a LOAD DATA LOCAL INFILE refused for want of a `mysql.local_infile` entry. */
export const LOCAL_INFILE_RULE = 'mysql-local-infile';

function loadsClientFile(s: StatementFacts, depth = 0): boolean {
  if (s.kind === 'load_data' && s.readsFile !== true) return true;
  return depth < 8 && s.nested.some((n) => loadsClientFile(n, depth + 1));
}

export interface JudgedMessage extends Judgement {
  analysis: Analysis;
}

/**
 * The policy engine behind the decision point: analysis (cached by exact text), then the rules
 * that apply to this principal (computed once per session and policy version), then the facts.
 * Synchronous and free of I/O; a reload swaps the whole PolicySet at once.
 */
export class PolicyDecider implements Decider {
  private policy: PolicySet;
  private readonly rulesByPrincipal = new WeakMap<Principal, { version: number; value: Rule[] }>();
  private readonly masksByPrincipal = new WeakMap<Principal, { version: number; value: MaskSet | null }>();

  constructor(
    policy: PolicySet,
    readonly cache: AnalysisCache,
    /** told about every statement that could not be analysed (it is denied) */
    private readonly onAnalysisFailure?: (dialect: Dialect, kind: string) => void,
    private readonly maskOptions: MaskSetOptions = {},
  ) {
    this.policy = policy;
  }

  /** The masks for this principal (computed once per session and policy version). */
  localInfileAllowed(who: Principal): boolean {
    return (this.policy.localInfile ?? []).some((g) => whoMatches(g.who, who));
  }

  masksFor(who: Principal): MaskSet | null {
    return this.perPrincipal(this.masksByPrincipal, who, (policy) => MaskSet.forPrincipal(policy.masks, who, this.maskOptions));
  }

  /** A value computed from the policy for one principal, kept until the policy changes. */
  private perPrincipal<T>(cache: WeakMap<Principal, { version: number; value: T }>, who: Principal, compute: (policy: PolicySet) => T): T {
    const policy = this.policy;
    const cached = cache.get(who);
    if (cached && cached.version === policy.version) return cached.value;
    const value = compute(policy);
    cache.set(who, { version: policy.version, value });
    return value;
  }

  get current(): PolicySet {
    return this.policy;
  }

  setPolicy(policy: PolicySet): void {
    this.policy = policy;
  }

  /** The rules whose agent/label/target conditions hold for this principal. */
  rulesFor(who: Principal): Rule[] {
    return this.perPrincipal(this.rulesByPrincipal, who, (policy) => policy.rules.filter((r) => whoMatches(r.who, who)));
  }

  judgeMessage(msg: SqlMessage, who: Principal): JudgedMessage {
    const analysis = msg.carrier === 'function_call' ? functionCallAnalysis(msg.dialect) : this.cache.get(msg.dialect, msg.sql);
    return this.judgeAnalysis(msg, analysis, who);
  }

  /** As judgeMessage, on an analysis already computed (e.g. by the MySQL analysis pool) for msg.sql. */
  judgeAnalysis(msg: SqlMessage, analysis: Analysis, who: Principal): JudgedMessage {
    const policy = this.policy;
    if (!analysis.ok && analysis.failure.kind !== 'empty') this.onAnalysisFailure?.(msg.dialect, analysis.failure.kind);
    const j = judge(policy, this.rulesFor(who), analysis, () => (analysis.ok ? analysis.fingerprint : undefined));
    if (j.decision.kind === 'allow' && analysis.ok && msg.dialect === 'mysql' && !this.localInfileAllowed(who) && analysis.statements.some(loadsClientFile)) {
      // a client file sent to the database: only for the principals `mysql.local_infile` lists
      return { ...j, decision: { kind: 'deny', ruleId: LOCAL_INFILE_RULE, reason: 'LOAD DATA LOCAL INFILE sends a client file to the database; the policy allows it only to the agents listed in mysql.local_infile' }, analysis };
    }
    if (j.decision.kind === 'allow' && analysis.ok && policy.masks.length > 0) {
      // masking can refuse what the rules allow: masked columns in predicates, COPY of masked data to a file or program,
      // planner statistics (sample values of columns)
      const refusal = this.masksFor(who)?.refusal(analysis.statements, msg.dialect);
      if (refusal) return { ...j, decision: { kind: 'deny', ruleId: refusal.ruleId, reason: refusal.reason }, analysis };
    }
    return { ...j, analysis };
  }

  decide(msg: SqlMessage, who: Principal): Decision {
    return this.judgeMessage(msg, who).decision;
  }
}
