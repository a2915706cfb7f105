import { errorResponse, type ErrorFields } from '@sqlwarden/wire-pg';

/** Every error sqlwarden itself tells a Postgres client, in one place, with stable SQLSTATEs. */
export type PgSessionError =
  | { kind: 'auth_failed' }
  | { kind: 'rate_limited' }
  | { kind: 'tls_required' }
  | { kind: 'cleartext_without_tls' }
  | { kind: 'store_unavailable' }
  | { kind: 'protocol_violation'; detail: string }
  | { kind: 'unsupported_protocol'; detail: string }
  | { kind: 'bad_startup_parameter'; detail: string }
  | { kind: 'upstream_unavailable'; detail: string }
  | { kind: 'upstream_lost' }
  | { kind: 'denied'; ruleId: string; reason: string }
  | { kind: 'review_unavailable'; ruleId: string; reason: string }
  | { kind: 'revoked' }
  | { kind: 'expired' }
  | { kind: 'shutdown' }
  | { kind: 'too_many_connections' }
  | { kind: 'handshake_timeout' }
  | { kind: 'unsafe_setting'; setting: string }
  | { kind: 'masking_changed' }
  | { kind: 'masking_violation'; detail: string };

/** One generic message for every credential problem: a probe learns nothing from it. */
export const AUTH_FAILED_MESSAGE = 'password authentication failed: the credential is invalid, expired or revoked';

export function toErrorFields(e: PgSessionError): ErrorFields {
  switch (e.kind) {
    case 'auth_failed':
      return { severity: 'FATAL', code: '28P01', message: AUTH_FAILED_MESSAGE };
    case 'rate_limited':
      return { severity: 'FATAL', code: '28P01', message: 'too many failed authentication attempts; try again later' };
    case 'tls_required':
      return { severity: 'FATAL', code: '28000', message: 'sqlwarden requires TLS: connect with sslmode=require or stronger' };
    case 'cleartext_without_tls':
      return { severity: 'FATAL', code: '28000', message: 'password authentication over an unencrypted connection is refused' };
    case 'store_unavailable':
      return { severity: 'FATAL', code: '08004', message: 'sqlwarden cannot verify credentials right now: the credential store is unreachable' };
    case 'protocol_violation':
      return { severity: 'FATAL', code: '08P01', message: `protocol violation: ${e.detail}` };
    case 'unsupported_protocol':
      return { severity: 'FATAL', code: '0A000', message: e.detail };
    case 'bad_startup_parameter':
      return { severity: 'FATAL', code: '22023', message: e.detail };
    case 'upstream_unavailable':
      return { severity: 'FATAL', code: '08006', message: `sqlwarden could not connect to the database: ${e.detail}` };
    case 'upstream_lost':
      return { severity: 'FATAL', code: '08006', message: 'sqlwarden lost the connection to the database' };
    case 'denied':
      return { severity: 'ERROR', code: '42501', message: `sqlwarden: statement denied by rule "${e.ruleId}": ${e.reason}` };
    case 'review_unavailable':
      return {
        severity: 'ERROR',
        code: '42501',
        message: `sqlwarden: statement requires human review by rule "${e.ruleId}": ${e.reason}`,
        hint: 'approvals are not enabled on this sqlwarden instance, so the statement was not run',
      };
    case 'revoked':
      return { severity: 'FATAL', code: '57P01', message: 'sqlwarden: the credential of this session was revoked; session ended' };
    case 'expired':
      return { severity: 'FATAL', code: '57P01', message: 'sqlwarden: the credential of this session expired; session ended' };
    case 'shutdown':
      return { severity: 'FATAL', code: '57P01', message: 'sqlwarden is shutting down' };
    case 'too_many_connections':
      return { severity: 'FATAL', code: '53300', message: 'sqlwarden: too many connections' };
    case 'unsafe_setting':
      return {
        severity: 'FATAL',
        code: '0A000',
        message: `sqlwarden: session ended because it switched to ${e.setting}, under which statements cannot be analysed safely`,
        hint: 'use client_encoding UTF8 and standard_conforming_strings on',
      };
    case 'masking_changed':
      return {
        severity: 'FATAL',
        code: '57P01',
        message: 'sqlwarden: the policy now masks data for this agent; session ended so that masking applies from the start of a new one',
        hint: 'reconnect',
      };
    case 'masking_violation':
      return { severity: 'FATAL', code: '42501', message: `sqlwarden: session ended: ${e.detail}` };
    case 'handshake_timeout':
      return { severity: 'FATAL', code: '08P01', message: 'sqlwarden: the connection did not complete its login in time' };
  }
}

export function toErrorResponse(e: PgSessionError): Buffer {
  return errorResponse(toErrorFields(e));
}
