import { timingSafeEqual } from 'node:crypto';

/**
 * Constant-time equality of two byte strings. Lengths are not secret (every
 * verifier and digest has a fixed, public length), so a length mismatch
 * returns false at once.
 */
export function safeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
