/** Failed-login budgets: configuration and the subject keys both stores count under. */
import { createHash } from 'node:crypto';
import type { RateLimitConfig } from './types.js';

export const DEFAULT_RATE_LIMIT: Readonly<RateLimitConfig> = Object.freeze({ perUser: 10, perAddress: 50, windowMs: 60_000 });

/** Short printable values are kept as they are; anything else (long, binary, or starting with '#') is hashed. */
const PLAIN = /^[\x21\x22\x24-\x7e][\x21-\x7e]{0,127}$/;

export function validateRateLimitConfig(config: RateLimitConfig): RateLimitConfig {
  const { perUser, perAddress, windowMs } = config;
  for (const [name, value] of [['perUser', perUser], ['perAddress', perAddress], ['windowMs', windowMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`rateLimit.${name} must be a positive integer`);
  }
  return { perUser, perAddress, windowMs };
}

/**
 * The key a user name or address is counted under. Client-chosen user names
 * can be long or binary, so those are reduced to a hash: bounded key sizes,
 * and no collision with plain values (which never start with '#').
 */
export function rateLimitSubject(kind: 'user' | 'addr', value: string): string {
  const v = PLAIN.test(value) ? value : `#${createHash('sha256').update(value, 'utf8').digest('hex')}`;
  return `${kind}:${v}`;
}

/**
 * Budget semantics (fixed window): `perUser` failures are allowed per window;
 * once that many have been recorded the subject is limited until the window ends.
 */
export function overBudget(count: number, limit: number): boolean {
  return count >= limit;
}
