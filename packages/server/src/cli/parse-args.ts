import { parseArgs } from 'node:util';
import { parseDuration } from '@sqlwarden/yaml';
import { COMMANDS, type CommandName } from './usage.js';

/** Bad command-line usage: exit code 2, with the command's usage shown. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULT_CONFIG_FILE = 'sqlwarden.yaml';

export type Command =
  | { kind: 'help'; topic?: CommandName }
  | { kind: 'version' }
  | { kind: 'start'; config: string }
  | { kind: 'mint'; config: string; agent: string; target: string; ttl?: string; labels: Record<string, string>; json: boolean }
  | { kind: 'revoke'; config: string; user: string }
  | { kind: 'policy'; action: 'lint'; policies: PolicySource }
  | { kind: 'policy'; action: 'explain'; policies: PolicySource; sql: string; dialect: 'postgres' | 'mysql'; agent: string; labels: Record<string, string>; target: string; json: boolean }
  | { kind: 'policy'; action: 'test'; policies: PolicySource; file: string; json: boolean }
  | { kind: 'demo'; port?: number };

/** Where `policy` subcommands find the policies. */
export type PolicySource = { dir: string } | { config: string } | { default: true };

const CONFIG = { config: { type: 'string', short: 'c' } } as const;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** Turns argv (without node and the script) into a command, or throws UsageError. */
export function parseCommand(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') return { kind: 'help' };
  if (first === '-v' || first === '--version') return { kind: 'version' };
  if (first.startsWith('-')) throw new UsageError(`expected a command before ${first}`);
  if (!(COMMANDS as readonly string[]).includes(first)) throw new UsageError(`unknown command "${first}"; commands: ${COMMANDS.join(', ')}`);
  const name = first as CommandName;
  try {
    return parseCommandArgs(name, rest);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // node:util parseArgs errors (unknown option, missing value) are usage errors too
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), name);
  }
}

function parseCommandArgs(name: CommandName, args: string[]): Command {
  switch (name) {
    case 'help': {
      const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
      const topic = positionals[0];
      if (positionals.length > 1) throw new UsageError('help takes at most one command', name);
      if (topic === undefined) return { kind: 'help' };
      if (!(COMMANDS as readonly string[]).includes(topic)) throw new UsageError(`unknown command "${topic}"; commands: ${COMMANDS.join(', ')}`);
      return { kind: 'help', topic: topic as CommandName };
    }
    case 'start': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...CONFIG, ...HELP } });
      if (values.help) return { kind: 'help', topic: name };
      noPositionals(name, positionals);
      return { kind: 'start', config: values.config ?? DEFAULT_CONFIG_FILE };
    }
    case 'mint': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          ...CONFIG,
          ...HELP,
          agent: { type: 'string' },
          target: { type: 'string' },
          ttl: { type: 'string' },
          label: { type: 'string', multiple: true },
          json: { type: 'boolean' },
        },
      });
      if (values.help) return { kind: 'help', topic: name };
      noPositionals(name, positionals);
      if (!values.agent) throw new UsageError('--agent NAME is required', name);
      if (!values.target) throw new UsageError('--target TARGET is required', name);
      if (values.ttl !== undefined) {
        try {
          parseDuration(values.ttl);
        } catch (err) {
          throw new UsageError(`--ttl: ${(err as Error).message}`, name);
        }
      }
      return {
        kind: 'mint',
        config: values.config ?? DEFAULT_CONFIG_FILE,
        agent: values.agent,
        target: values.target,
        ...(values.ttl !== undefined && { ttl: values.ttl }),
        labels: parseLabels(values.label ?? []),
        json: values.json ?? false,
      };
    }
    case 'revoke': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...CONFIG, ...HELP } });
      if (values.help) return { kind: 'help', topic: name };
      if (positionals.length !== 1) throw new UsageError(positionals.length ? 'revoke takes exactly one USER' : 'USER is required (the user name printed by mint)', name);
      return { kind: 'revoke', config: values.config ?? DEFAULT_CONFIG_FILE, user: positionals[0] };
    }
    case 'policy':
      return parsePolicyArgs(args);
    case 'demo': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...HELP, port: { type: 'string', short: 'p' } } });
      if (values.help) return { kind: 'help', topic: name };
      noPositionals(name, positionals);
      if (values.port === undefined) return { kind: 'demo' };
      const port = /^\d+$/.test(values.port) ? Number(values.port) : NaN;
      if (!(port >= 1 && port <= 65535)) throw new UsageError(`--port must be an integer from 1 to 65535, not "${values.port}"`, name);
      return { kind: 'demo', port };
    }
  }
}

function parsePolicyArgs(args: string[]): Command {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CONFIG,
      ...HELP,
      policies: { type: 'string' },
      dialect: { type: 'string' },
      agent: { type: 'string' },
      label: { type: 'string', multiple: true },
      target: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (values.help) return { kind: 'help', topic: 'policy' };
  const [action, ...rest] = positionals;
  if (values.config !== undefined && values.policies !== undefined) throw new UsageError('give -c FILE or --policies DIR, not both', 'policy');
  const source = (dir?: string): PolicySource =>
    dir !== undefined ? { dir } : values.policies !== undefined ? { dir: values.policies } : values.config !== undefined ? { config: values.config } : { default: true };
  switch (action) {
    case 'lint':
      if (rest.length > 1) throw new UsageError('lint takes at most one DIR', 'policy');
      if (rest.length === 1 && (values.policies !== undefined || values.config !== undefined)) throw new UsageError('give DIR or -c/--policies, not both', 'policy');
      return { kind: 'policy', action: 'lint', policies: source(rest[0]) };
    case 'explain': {
      if (rest.length !== 1) throw new UsageError('explain takes exactly one SQL string (quote it)', 'policy');
      const dialect = values.dialect ?? 'postgres';
      if (dialect !== 'postgres' && dialect !== 'mysql') throw new UsageError(`--dialect must be postgres or mysql, not "${dialect}"`, 'policy');
      return {
        kind: 'policy',
        action: 'explain',
        policies: source(),
        sql: rest[0],
        dialect,
        agent: values.agent ?? 'explain-agent',
        labels: parseLabels(values.label ?? [], 'policy'),
        target: values.target ?? 'app',
        json: values.json ?? false,
      };
    }
    case 'test':
      if (rest.length !== 1) throw new UsageError('test takes exactly one FILE', 'policy');
      return { kind: 'policy', action: 'test', policies: source(), file: rest[0], json: values.json ?? false };
    default:
      throw new UsageError(action === undefined ? 'policy needs a subcommand: lint, explain or test' : `unknown policy subcommand "${action}" (lint, explain, test)`, 'policy');
  }
}

function noPositionals(name: CommandName, positionals: string[]): void {
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`, name);
}

function parseLabels(pairs: string[], command: CommandName = 'mint'): Record<string, string> {
  const labels = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label must be key=value, not "${pair}"`, command);
    const key = pair.slice(0, eq);
    if (labels.has(key)) throw new UsageError(`--label ${key} is given twice`, command);
    labels.set(key, pair.slice(eq + 1));
  }
  // fromEntries defines own properties, so "__proto__" stays a plain label
  return Object.fromEntries(labels);
}
