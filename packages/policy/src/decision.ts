import type { Analysis } from '@sqlwarden/sql';
import type { MaskSet } from './masking/planner.js';

/** What the single decision point decides for one SQL-carrying message. */
export type Decision =
  | { kind: 'allow' }
  | { kind: 'deny'; ruleId: string; reason: string }
  | { kind: 'review'; ruleId: string; reason: string; timeoutMs: number };

/** Who is asking: the identity carried by the minted credential. */
export interface Principal {
  agent: string;
  labels: Readonly<Record<string, string>>;
  credentialId: string;
  user: string;
  target: string;
  sessionId: string;
}

/** Which protocol message carried the SQL. */
export type SqlCarrier = 'query' | 'parse' | 'function_call' | 'com_query' | 'com_stmt_prepare';

export interface SqlMessage {
  dialect: 'postgres' | 'mysql';
  carrier: SqlCarrier;
  /** SQL text, or for a FunctionCall the function OID as text. */
  sql: string;
}

/** The one decision point. Synchronous: no I/O on the statement path. */
export interface Decider {
  decide(msg: SqlMessage, who: Principal): Decision;
  /** The decision with the analysis it was made on (result masking follows the statement's lineage). */
  judgeMessage?(msg: SqlMessage, who: Principal): { decision: Decision; analysis: Analysis };
  /**
   * Judges a message whose analysis was already computed (off the event loop: the MySQL engine
   * awaits its analysis pool, then asks here). `analysis` must be the analysis of `msg.sql` in
   * `msg.dialect`; the decision is the one judgeMessage would make.
   */
  judgeAnalysis?(msg: SqlMessage, analysis: Analysis, who: Principal): { decision: Decision; analysis: Analysis };
  /** The masks that apply to this principal under the policy in force; null when none do. */
  masksFor?(who: Principal): MaskSet | null;
  /** May this principal run MySQL LOAD DATA LOCAL INFILE (policy `mysql.local_infile`)? Absent: no. */
  localInfileAllowed?(who: Principal): boolean;
}

export const ALLOW: Decision = Object.freeze({ kind: 'allow' });
