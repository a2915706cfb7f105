/** Strict decoders for the text encodings used in verifiers and SCRAM messages. */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-f]{2})*$/;

/**
 * Decodes canonical, padded base64; null for anything else. Buffer.from is too
 * lenient (skips junk, ignores non-zero padding bits), which would let two
 * different strings carry the same bytes.
 */
export function decodeBase64Strict(text: string): Buffer | null {
  if (!BASE64.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/** Decodes lower-case hex of exactly `bytes` bytes; null otherwise. */
export function decodeHexStrict(text: string, bytes: number): Buffer | null {
  if (text.length !== bytes * 2 || !HEX.test(text)) return null;
  return Buffer.from(text, 'hex');
}
