/** Options every AccessStore implementation takes. */
import { assertMaxTtl, DEFAULT_MAX_TTL_MS } from './mint.js';
import { DEFAULT_RATE_LIMIT, validateRateLimitConfig } from './rate-limit.js';
import { assertScramIterations, DEFAULT_SCRAM_ITERATIONS } from './scram.js';
import type { RateLimitConfig } from './types.js';

export interface StoreOptions {
  /** Failed-login budgets (default DEFAULT_RATE_LIMIT). */
  rateLimit?: RateLimitConfig;
  /** SCRAM iteration count for minted credentials (default 4096). */
  iterations?: number;
  /** Longest ttl a mint request may ask for (default 24h). */
  maxTtlMs?: number;
  /**
   * Called with background failures that have no caller to reject: connection
   * errors, malformed pub/sub messages, listeners that throw. Never carries secrets.
   */
  onError?: (err: Error) => void;
}

export interface ResolvedStoreOptions {
  rateLimit: RateLimitConfig;
  iterations: number;
  maxTtlMs: number;
  onError: (err: Error) => void;
}

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export function resolveStoreOptions(opts: StoreOptions): ResolvedStoreOptions {
  const iterations = opts.iterations ?? DEFAULT_SCRAM_ITERATIONS;
  assertScramIterations(iterations);
  const maxTtlMs = opts.maxTtlMs ?? DEFAULT_MAX_TTL_MS;
  assertMaxTtl(maxTtlMs);
  const report = opts.onError;
  const onError = (err: Error): void => {
    try {
      report?.(err);
    } catch {
      // a failing error reporter must not take the store down
    }
  };
  return { rateLimit: validateRateLimitConfig(opts.rateLimit ?? DEFAULT_RATE_LIMIT), iterations, maxTtlMs, onError };
}
