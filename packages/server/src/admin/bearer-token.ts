import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks an Authorization header against the admin token in constant time.
 * Both sides are hashed first so neither the token's length nor its prefix
 * leaks through timing.
 */
export function makeBearerCheck(token: string): (authorization: string | undefined) => boolean {
  const want = sha256(token);
  return (authorization) => {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    // still hash something on a malformed header so it costs the same
    const got = sha256(m?.[1] ?? '');
    return timingSafeEqual(got, want) && m !== null;
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
