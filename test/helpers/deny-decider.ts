import type { Decider, Decision, Principal, SqlMessage } from '@sqlwarden/policy';

/** A test decider: denies SQL containing a marker word, allows the rest; records what it saw. */
export class MarkerDenyDecider implements Decider {
  readonly seen: { msg: SqlMessage; who: Principal }[] = [];
  constructor(
    private readonly marker = 'forbidden_marker',
    private readonly ruleId = 'test-deny-marker',
  ) {}
  decide(msg: SqlMessage, who: Principal): Decision {
    this.seen.push({ msg, who });
    if (msg.carrier === 'function_call') return { kind: 'deny', ruleId: 'function-call', reason: 'no fastpath calls' };
    if (msg.sql.toLowerCase().includes(this.marker)) return { kind: 'deny', ruleId: this.ruleId, reason: 'the test policy forbids this' };
    return { kind: 'allow' };
  }
}
