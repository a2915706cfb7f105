import type { AccessStore } from '@sqlwarden/access';
import type { Metrics } from '@sqlwarden/telemetry';
import { connectionUrlFor, type ProxyEndpoints } from './connection-url.js';
import { parseMintRequest, type MintInput, type MintLimits } from './mint-request.js';

/** Everything needed to mint: the one code path behind the admin API and `sqlwarden mint`. */
export interface CredentialService extends MintLimits {
  store: AccessStore;
  endpoints: ProxyEndpoints;
  metrics?: Metrics;
}

/** What a caller gets back for a minted credential; the password is shown once and never stored. */
export interface IssuedCredential {
  user: string;
  password: string;
  /** ISO 8601 */
  expiresAt: string;
  target: string;
  url: string;
  credentialId: string;
  agent: string;
}

/** Validates the request, mints in the store and builds the connection URL. */
export async function mintCredential(svc: CredentialService, input: MintInput): Promise<IssuedCredential> {
  const { request, target } = parseMintRequest(input, svc);
  const { record, password } = await svc.store.mint(request);
  svc.metrics?.credentialsMinted.inc();
  return {
    user: record.user,
    password,
    expiresAt: new Date(record.expiresAt).toISOString(),
    target: record.target,
    url: connectionUrlFor(target, record.user, password, svc.endpoints),
    credentialId: record.id,
    agent: record.agent,
  };
}

/** Revokes a credential on every instance; false when it did not exist (or already expired). */
export async function revokeCredential(svc: Pick<CredentialService, 'store' | 'metrics'>, user: string): Promise<boolean> {
  const revoked = await svc.store.revoke(user);
  if (revoked) svc.metrics?.credentialsRevoked.inc();
  return revoked;
}
