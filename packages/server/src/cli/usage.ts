import { readFileSync } from 'node:fs';

export type CommandName = 'start' | 'mint' | 'revoke' | 'policy' | 'demo' | 'help';
export const COMMANDS: readonly CommandName[] = ['start', 'mint', 'revoke', 'policy', 'demo', 'help'];

const COMMAND_USAGE: Record<CommandName, string> = {
  start: `Usage: sqlwarden start [-c FILE]

Runs the proxy: the listeners, the admin API and the credential store named in
the config file. Stops cleanly on SIGINT or SIGTERM.

Options:
  -c, --config FILE   config file (default: sqlwarden.yaml)
`,
  mint: `Usage: sqlwarden mint [-c FILE] --agent NAME --target TARGET [--ttl 15m] [--label k=v ...] [--json]

Mints a short-lived credential for an agent and prints it with a connection URL.
With redis in the config the credential is written to Redis directly; without it
the running proxy's admin API (listen.admin, admin.token) mints it.

Options:
  -c, --config FILE   config file (default: sqlwarden.yaml)
  --agent NAME        who the credential is for (shown in audit, metrics, database logs)
  --target TARGET     a target name from the config
  --ttl DURATION      lifetime, e.g. 30s, 15m, 1h (default: auth.defaultTtl)
  --label k=v         a label recorded with the credential (repeatable)
  --json              print exactly one JSON object: user, password, expiresAt, target, url, ...
`,
  revoke: `Usage: sqlwarden revoke [-c FILE] USER

Revokes a credential: it stops working and its live sessions end, on every
instance sharing the store. Exits 1 when no live credential has that user.

Options:
  -c, --config FILE   config file (default: sqlwarden.yaml)
`,
  policy: `Usage: sqlwarden policy lint [DIR] [-c FILE | --policies DIR]
       sqlwarden policy explain [--dialect postgres|mysql] [--agent NAME] [--label k=v ...] [--target T] [--json] "SQL"
       sqlwarden policy test FILE [-c FILE | --policies DIR]

Tools for policy authors. The policies come from DIR, --policies DIR, the config
file's "policies" (-c), or ./policies.

  lint      validate every policy file; each problem names the file, line and key
  explain   the decision for one SQL string, the rule that made it and the facts it saw
  test      run a table of cases (sql, agent, labels, target, dialect, expect, rule);
            exit 0 when every case holds, 1 otherwise

Options:
  -c, --config FILE   take "policies" from this config file
  --policies DIR      the policy directory
  --dialect D         postgres (default) or mysql
  --agent NAME        the agent asking (default: explain-agent)
  --label k=v         a credential label (repeatable)
  --target T          the target name (default: app)
  --json              machine-readable output
`,
  demo: `Usage: sqlwarden demo [--port N]

Runs a self-contained demo: an embedded Postgres with sample data, the proxy in
front of it, and a freshly minted credential with a ready psql command.

Options:
  --port N            the proxy's Postgres port (default: 6432)
`,
  help: `Usage: sqlwarden help [COMMAND]
`,
};

export function commandUsage(name: CommandName): string {
  return COMMAND_USAGE[name];
}

export function usage(): string {
  return `sqlwarden ${version()}: a database wire proxy for AI agents

Usage: sqlwarden COMMAND [options]

Commands:
  start    run the proxy                 sqlwarden start -c sqlwarden.yaml
  mint     mint an agent credential      sqlwarden mint -c sqlwarden.yaml --agent bot --target app
  revoke   revoke a credential           sqlwarden revoke -c sqlwarden.yaml USER
  policy   lint, explain, test policies  sqlwarden policy explain "DELETE FROM t"
  demo     run the embedded demo         sqlwarden demo
  help     show help for a command       sqlwarden help mint

Options:
  -h, --help     show help
  -v, --version  print the version
`;
}

let cachedVersion: string | undefined;
export function version(): string {
  if (cachedVersion === undefined) {
    try {
      // dist/cli/usage.js → the package's package.json
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cachedVersion = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}
