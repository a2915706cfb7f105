/** Errors of the access package (StoreUnavailableError lives in types.ts beside the interface). */

export type ScramErrorCode =
  | 'malformed_message'
  | 'unsupported_channel_binding'
  | 'unsupported_authzid'
  | 'unsupported_extension'
  | 'invalid_state'
  | 'invalid_verifier';

/**
 * A SCRAM exchange could not continue: the client sent something that is not
 * a valid SCRAM message, asked for something we do not offer, or the exchange
 * was driven out of order. The message never echoes client input or secrets.
 */
export class ScramError extends Error {
  readonly code: ScramErrorCode;
  constructor(code: ScramErrorCode, message: string) {
    super(message);
    this.name = 'ScramError';
    this.code = code;
  }
}

/** A mint request failed validation; `field` names the offending input. */
export class InvalidMintRequestError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`invalid mint request: ${field}: ${message}`);
    this.name = 'InvalidMintRequestError';
    this.field = field;
  }
}
