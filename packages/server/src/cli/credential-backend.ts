import { RedisStore } from '@sqlwarden/access';
import { endpointsFromConfig } from '../admin/connection-url.js';
import { mintCredential, revokeCredential, type CredentialService, type IssuedCredential } from '../admin/mint-credential.js';
import type { MintInput } from '../admin/mint-request.js';
import type { SqlwardenConfig } from '../config/types.js';
import { redactUrl } from '../util/redact-url.js';
import { AdminClient } from './admin-client.js';

/** Where `mint` and `revoke` take effect for a config. */
export interface CredentialBackend {
  /** for messages: "redis" or the admin API URL */
  readonly describe: string;
  mint(input: MintInput): Promise<IssuedCredential>;
  revoke(user: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * With redis, credentials live in Redis and every instance reads them there:
 * write directly, through the same code the admin API uses. Without redis,
 * credentials live in the memory of the one running proxy: ask its admin API.
 */
export async function openCredentialBackend(config: SqlwardenConfig): Promise<CredentialBackend> {
  if (config.redis) {
    const url = config.redis;
    const store = await RedisStore.connect({ url, prefix: config.redisPrefix, rateLimit: config.auth.rateLimit, maxTtlMs: config.auth.maxTtlMs }).catch((err: unknown) => {
      throw new Error(`cannot connect to redis at ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`);
    });
    const svc: CredentialService = {
      store,
      targets: config.targets,
      defaultTtlMs: config.auth.defaultTtlMs,
      maxTtlMs: config.auth.maxTtlMs,
      endpoints: endpointsFromConfig(config),
    };
    return {
      describe: 'redis',
      mint: (input) => mintCredential(svc, input),
      revoke: (user) => revokeCredential(svc, user),
      close: () => store.close(),
    };
  }
  if (!config.listen.admin) {
    throw new Error(
      `${config.file ?? 'the config'} has neither redis nor listen.admin: credentials live inside the running proxy, so set listen.admin (and admin.token) to mint and revoke from the command line`,
    );
  }
  const client = new AdminClient(config.listen.admin, config.admin.token);
  return {
    describe: client.base,
    mint: (input) => client.mint(input),
    revoke: (user) => client.revoke(user),
    close: async () => {},
  };
}
