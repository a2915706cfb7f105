import { ConfigError } from '../config/config-error.js';
import { demoCommand } from './demo-command.js';
import { processIo, type CliIo } from './io.js';
import { mintCommand } from './mint-command.js';
import { parseCommand, UsageError, type Command } from './parse-args.js';
import { policyCommand } from './policy-command.js';
import { revokeCommand } from './revoke-command.js';
import { startCommand } from './start-command.js';
import { commandUsage, usage, version } from './usage.js';

/**
 * The `sqlwarden` command. Returns the exit code: 0 success, 1 failure,
 * 2 bad usage. Errors are printed as "sqlwarden: message" on stderr.
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const hint = err.command ? `${commandUsage(err.command).split('\n')[0]}\nRun "sqlwarden help ${err.command}" for details.` : 'Run "sqlwarden help" for the commands.';
    io.stderr.write(`sqlwarden: ${err.message}\n${hint}\n`);
    return 2;
  }
  try {
    return await run(command, io);
  } catch (err) {
    io.stderr.write(errorText(err));
    return 1;
  }
}

async function run(command: Command, io: CliIo): Promise<number> {
  switch (command.kind) {
    case 'help':
      io.stdout.write(command.topic ? commandUsage(command.topic) : usage());
      return 0;
    case 'version':
      io.stdout.write(`${version()}\n`);
      return 0;
    case 'start':
      return startCommand(command, io);
    case 'mint':
      return mintCommand(command, io);
    case 'revoke':
      return revokeCommand(command, io);
    case 'policy':
      return policyCommand(command, io);
    case 'demo':
      return demoCommand(command);
  }
}

/** Every line of the message gets the prefix, so each config problem is its own greppable line. */
function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = err instanceof ConfigError ? message.split('\n') : [message];
  return lines.map((l) => `sqlwarden: ${l}\n`).join('');
}
