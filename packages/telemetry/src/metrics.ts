import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * sqlwarden's Prometheus metrics. One instance per process, passed in through
 * constructors (never a module-level singleton). Label values are bounded:
 * agent names are capped by `agentLabel()`.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly agents = new Set<string>();
  constructor(private readonly maxAgentLabels = 200) {
    collectDefaultMetrics({ register: this.registry, prefix: 'sqlwarden_process_' });
  }

  readonly statements = new Counter({
    name: 'sqlwarden_statements_total',
    help: 'SQL-carrying messages judged, by protocol, agent and decision',
    labelNames: ['protocol', 'agent', 'decision'] as const,
    registers: [this.registry],
  });

  readonly blocked = new Counter({
    name: 'sqlwarden_blocked_statements_total',
    help: 'Statements denied, by rule and agent',
    labelNames: ['protocol', 'rule', 'agent'] as const,
    registers: [this.registry],
  });

  readonly authFailures = new Counter({
    name: 'sqlwarden_auth_failures_total',
    help: 'Failed client authentications, by protocol and reason',
    labelNames: ['protocol', 'reason'] as const,
    registers: [this.registry],
  });

  readonly sessions = new Gauge({
    name: 'sqlwarden_active_sessions',
    help: 'Authenticated client sessions currently open',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });

  readonly sessionsEnded = new Counter({
    name: 'sqlwarden_sessions_ended_total',
    help: 'Client sessions ended, by protocol and reason',
    labelNames: ['protocol', 'reason'] as const,
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'sqlwarden_upstream_connection_errors_total',
    help: 'Failures to connect or authenticate to an upstream database',
    labelNames: ['target'] as const,
    registers: [this.registry],
  });

  readonly credentialsMinted = new Counter({
    name: 'sqlwarden_credentials_minted_total',
    help: 'Credentials minted',
    registers: [this.registry],
  });

  readonly credentialsRevoked = new Counter({
    name: 'sqlwarden_credentials_revoked_total',
    help: 'Credentials revoked',
    registers: [this.registry],
  });

  readonly policyReloads = new Counter({
    name: 'sqlwarden_policy_reloads_total',
    help: 'Policy loads, by result (loaded or rejected; a rejected reload keeps the previous policy)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly policyVersion = new Gauge({
    name: 'sqlwarden_policy_version',
    help: 'Version number of the policy in force (increments on every successful load)',
    registers: [this.registry],
  });

  readonly parseFailures = new Counter({
    name: 'sqlwarden_parse_failures_total',
    help: 'Statements that could not be analysed (denied), by protocol and kind of failure',
    labelNames: ['protocol', 'kind'] as const,
    registers: [this.registry],
  });

  readonly maskedValues = new Counter({
    name: 'sqlwarden_masked_values_total',
    help: 'Result values masked, by protocol and mask rule (uncertain-origin: masked because the column origin was unknown)',
    labelNames: ['protocol', 'rule'] as const,
    registers: [this.registry],
  });

  readonly maskUncertain = new Counter({
    name: 'sqlwarden_mask_uncertain_columns_total',
    help: 'Result columns masked because where their data comes from could not be determined (fail closed)',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });

  readonly protocolErrors = new Counter({
    name: 'sqlwarden_client_protocol_errors_total',
    help: 'Client connections closed for a protocol violation',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });

  readonly connectSeconds = new Histogram({
    name: 'sqlwarden_session_setup_seconds',
    help: 'Time from client connect to ReadyForQuery (auth + upstream login)',
    labelNames: ['protocol'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** A bounded label value for an agent name. */
  agentLabel(agent: string): string {
    if (this.agents.has(agent)) return agent;
    if (this.agents.size >= this.maxAgentLabels) return '_other';
    this.agents.add(agent);
    return agent;
  }
}
