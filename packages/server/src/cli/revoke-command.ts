import { loadConfig } from '../config/load.js';
import { openCredentialBackend } from './credential-backend.js';
import type { CliIo } from './io.js';

export async function revokeCommand(args: { config: string; user: string }, io: CliIo): Promise<number> {
  const config = loadConfig(args.config, io.env);
  const backend = await openCredentialBackend(config);
  try {
    if (await backend.revoke(args.user)) {
      io.stdout.write(`revoked ${args.user}\n`);
      return 0;
    }
    io.stderr.write(`sqlwarden: no live credential for user "${args.user}" (unknown, expired or already revoked)\n`);
    return 1;
  } finally {
    await backend.close();
  }
}
