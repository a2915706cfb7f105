import type { Decider, Decision, Principal, SqlMessage } from './decision.js';
import { ALLOW } from './decision.js';

/**
 * The decider used when no policy engine is configured: SQL passes, and a Postgres
 * FunctionCall (which carries no SQL to judge) is denied, as the design requires.
 */
export class BasicDecider implements Decider {
  decide(msg: SqlMessage, _who: Principal): Decision {
    if (msg.carrier === 'function_call') {
      return { kind: 'deny', ruleId: 'function-call', reason: 'the fastpath FunctionCall message carries no SQL to judge and is not allowed' };
    }
    return ALLOW;
  }
}
