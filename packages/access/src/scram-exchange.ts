/**
 * Server side of one SCRAM-SHA-256 exchange (RFC 5802 §5, RFC 7677), as
 * PostgreSQL runs it for SASL mechanism "SCRAM-SHA-256" (no channel binding):
 *
 *   client-first  "n,,n=<ignored>,r=<cnonce>"       -> clientFirst() -> "r=<cnonce><snonce>,s=<salt>,i=<n>"
 *   client-final  "c=biws,r=<cnonce><snonce>,p=<proof>" -> clientFinal() -> "v=<ServerSignature>"
 *
 * As in PostgreSQL the user name inside the message is ignored (the startup
 * message names the user), "y" is accepted (we never offer -PLUS), and an
 * authzid, "p=" channel binding or a mandatory extension ("m=") is refused.
 * Malformed input throws ScramError; a well-formed final message that does
 * not prove knowledge of the password returns { ok: false }.
 */
import { randomBytes } from 'node:crypto';
import { decodeBase64Strict } from './encoding.js';
import { ScramError } from './errors.js';
import { decodeScramVerifier, hmacSha256, isFakeScramVerifier, sha256, type DecodedScramVerifier } from './scram.js';
import { safeEqual } from './safe-equal.js';
import type { ScramVerifier } from './types.js';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
/** Longer than any real client message (node-postgres: ~40 and ~110 bytes). */
const MAX_MESSAGE_LENGTH = 4096;
const SERVER_NONCE_BYTES = 18;
const PROOF_BYTES = 32;
/** printable = %x21-2B / %x2D-7E (RFC 5802): printable ASCII except ','. */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
/** attr-val = ALPHA "=" value; value contains no ','. */
const ATTRIBUTE = /^[A-Za-z]=/;

export type ScramFailureReason = 'bad_proof' | 'nonce_mismatch' | 'channel_binding_mismatch';
export type ScramFinalResult = { ok: true; serverFinal: string } | { ok: false; reason: ScramFailureReason };

type State =
  | { step: 'initial' }
  | { step: 'sent-server-first'; gs2Header: string; clientFirstBare: string; serverFirst: string; nonce: string }
  | { step: 'done' };

function malformed(what: string): ScramError {
  return new ScramError('malformed_message', `malformed SCRAM ${what}`);
}

function checkMessage(message: unknown, what: string): string {
  if (typeof message !== 'string' || message.length === 0 || message.length > MAX_MESSAGE_LENGTH) throw malformed(what);
  return message;
}

/** Splits "k=v,k=v" after validating every attribute's syntax. */
function attributes(text: string, what: string): string[] {
  const parts = text.split(',');
  for (const part of parts) if (!ATTRIBUTE.test(part)) throw malformed(what);
  return parts;
}

export class ScramServerExchange {
  readonly mechanism = SCRAM_SHA_256;
  private readonly verifier: DecodedScramVerifier;
  private readonly fake: boolean;
  private state: State = { step: 'initial' };

  /** Throws ScramError('invalid_verifier') when the verifier is unusable. */
  constructor(verifier: ScramVerifier) {
    this.verifier = decodeScramVerifier(verifier);
    this.fake = isFakeScramVerifier(verifier);
  }

  /** Parses client-first-message and returns server-first-message. */
  clientFirst(message: string): string {
    if (this.state.step !== 'initial') throw new ScramError('invalid_state', 'SCRAM client-first-message out of order');
    this.state = { step: 'done' };
    const text = checkMessage(message, 'client-first-message');

    // gs2-header = gs2-cbind-flag "," [ authzid ] ","
    const flag = text[0];
    if (flag === 'p') throw new ScramError('unsupported_channel_binding', 'SCRAM channel binding is not offered');
    if ((flag !== 'n' && flag !== 'y') || text[1] !== ',') throw malformed('client-first-message');
    if (text[2] === 'a') throw new ScramError('unsupported_authzid', 'SCRAM authorization identity is not supported');
    if (text[2] !== ',') throw malformed('client-first-message');
    const gs2Header = text.slice(0, 3);
    const clientFirstBare = text.slice(3);

    // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
    const attrs = attributes(clientFirstBare, 'client-first-message');
    if (attrs[0].startsWith('m=')) throw new ScramError('unsupported_extension', 'SCRAM mandatory extensions are not supported');
    if (attrs.length < 2 || !attrs[0].startsWith('n=') || !attrs[1].startsWith('r=')) throw malformed('client-first-message');
    const clientNonce = attrs[1].slice(2);
    if (!PRINTABLE.test(clientNonce)) throw malformed('client-first-message');

    const nonce = clientNonce + randomBytes(SERVER_NONCE_BYTES).toString('base64');
    const serverFirst = `r=${nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    this.state = { step: 'sent-server-first', gs2Header, clientFirstBare, serverFirst, nonce };
    return serverFirst;
  }

  /** Verifies client-final-message; on success returns server-final-message "v=<ServerSignature>". */
  clientFinal(message: string): ScramFinalResult {
    const state = this.state;
    if (state.step !== 'sent-server-first') throw new ScramError('invalid_state', 'SCRAM client-final-message out of order');
    this.state = { step: 'done' };
    const text = checkMessage(message, 'client-final-message');

    // client-final-message = channel-binding "," nonce ["," extensions] "," proof
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) throw malformed('client-final-message');
    const withoutProof = text.slice(0, proofAt);
    const proof = decodeBase64Strict(text.slice(proofAt + 3));
    if (proof?.length !== PROOF_BYTES) throw malformed('client-final-message');
    const attrs = attributes(withoutProof, 'client-final-message');
    if (attrs.length < 2 || !attrs[0].startsWith('c=') || !attrs[1].startsWith('r=')) throw malformed('client-final-message');
    const binding = decodeBase64Strict(attrs[0].slice(2));
    if (binding === null) throw malformed('client-final-message');

    if (!binding.equals(Buffer.from(state.gs2Header, 'latin1'))) return { ok: false, reason: 'channel_binding_mismatch' };
    if (attrs[1].slice(2) !== state.nonce) return { ok: false, reason: 'nonce_mismatch' };

    const authMessage = `${state.clientFirstBare},${state.serverFirst},${withoutProof}`;
    const clientSignature = hmacSha256(this.verifier.storedKey, authMessage);
    const clientKey = Buffer.alloc(PROOF_BYTES);
    for (let i = 0; i < PROOF_BYTES; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    const proven = safeEqual(sha256(clientKey), this.verifier.storedKey);
    if (!proven || this.fake) return { ok: false, reason: 'bad_proof' };

    const serverSignature = hmacSha256(this.verifier.serverKey, authMessage);
    return { ok: true, serverFinal: `v=${serverSignature.toString('base64')}` };
  }
}
