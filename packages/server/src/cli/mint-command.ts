import { parseMintRequest, type MintInput } from '../admin/mint-request.js';
import { loadConfig } from '../config/load.js';
import { openCredentialBackend } from './credential-backend.js';
import type { CliIo } from './io.js';
import { credentialJson, credentialText } from './print-credential.js';

export interface MintArgs {
  config: string;
  agent: string;
  target: string;
  ttl?: string;
  labels: Record<string, string>;
  json: boolean;
}

export async function mintCommand(args: MintArgs, io: CliIo): Promise<number> {
  const config = loadConfig(args.config, io.env);
  const input: MintInput = { agent: args.agent, target: args.target, labels: args.labels, ...(args.ttl !== undefined && { ttl: args.ttl }) };
  // validate here first, so both paths (redis, admin API) fail the same way before any I/O
  parseMintRequest(input, { targets: config.targets, defaultTtlMs: config.auth.defaultTtlMs, maxTtlMs: config.auth.maxTtlMs });
  const backend = await openCredentialBackend(config);
  try {
    const cred = await backend.mint(input);
    io.stdout.write(args.json ? credentialJson(cred) : credentialText(cred));
    return 0;
  } finally {
    await backend.close();
  }
}
