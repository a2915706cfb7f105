import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@sqlwarden/telemetry';
import { parseConfig } from '../config/load.js';
import { startProxy } from '../proxy.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export interface DemoOptions {
  /** the proxy's Postgres port (default 6432) */
  port?: number;
  /** the admin API port (default 8080) */
  adminPort?: number;
  /** print here (default stdout) */
  out?: (text: string) => void;
  /** resolves when the demo should stop (default: SIGINT or SIGTERM) */
  until?: Promise<void>;
}

/** The shipped policies: the repository's policies/ (or a copy shipped beside the package). */
function shippedPolicies(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', '..', '..', '..', 'policies'), join(here, '..', '..', 'policies')]) {
    if (existsSync(join(candidate, 'default.yaml'))) return candidate;
  }
  throw new Error('cannot find the shipped policies (policies/default.yaml) next to sqlwarden');
}

/**
 * The demo's policy directory: the shipped policies plus the demo database's masks
 * (policies/examples/demo-masks.yaml), in a temporary directory of its own.
 */
function demoPolicies(): string {
  const shipped = shippedPolicies();
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-demo-policies-'));
  for (const f of readdirSync(shipped)) if (f.endsWith('.yaml')) copyFileSync(join(shipped, f), join(dir, f));
  copyFileSync(join(shipped, 'examples', 'demo-masks.yaml'), join(dir, 'demo-masks.yaml'));
  return dir;
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/**
 * `sqlwarden demo`: an embedded Postgres seeded with demo data that has PII in it, the in-memory
 * credential store, the proxy on its default port with the shipped policies, a credential minted
 * and a ready psql command printed. Needs no database and no Redis.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<number> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  const log = createLogger({ level: 'warn' });
  const pgPort = opts.port ?? 6432;
  const adminPort = opts.adminPort ?? 8080;
  out('sqlwarden demo: starting an embedded Postgres (first start takes a few seconds)...\n');
  const db = await startEmbeddedPostgres({ dataDirCache: join(tmpdir(), 'sqlwarden-demo-pgdata'), log: (m) => log.debug(m) });
  let proxy;
  const policies = demoPolicies();
  try {
    const config = parseConfig(
      `listen:
  postgres: 127.0.0.1:${pgPort}
  admin: 127.0.0.1:${adminPort}
policies: ${JSON.stringify(policies)}
masking:
  hashKey: ${JSON.stringify(randomBytes(24).toString('hex'))}
targets:
  - name: demo
    protocol: postgres
    host: ${db.host}
    port: ${db.port}
    database: ${db.database}
    user: ${db.user}
    password: ${JSON.stringify(db.password)}
log:
  level: warn
`,
      { file: '<demo>', env: {} },
    );
    try {
      proxy = await startProxy(config, { log });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new Error(`port ${pgPort} or ${adminPort} is already in use; try: sqlwarden demo --port ${pgPort + 1000}`);
      }
      throw err;
    }
    const minted = await proxy.store.mint({ agent: 'demo-agent', target: 'demo', ttlMs: 8 * 3600_000, labels: { env: 'demo' } });
    const user = minted.record.user;
    const url = `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(minted.password)}@127.0.0.1:${pgPort}/${db.database}`;
    out(`
sqlwarden is running.

  Postgres listener  127.0.0.1:${pgPort}   (agents connect here, as if it were the database)
  Admin API          http://127.0.0.1:${adminPort}   (/metrics, /healthz, POST /v1/credentials)
  Policies           ${config.policies}

A credential was minted for agent "demo-agent" (expires ${new Date(minted.record.expiresAt).toISOString()}).
Connect with:

  psql "${url}"

Things to try:
  SELECT full_name, email, phone, ssn FROM customers LIMIT 5;   -- masked: PII never reaches the agent
  UPDATE orders SET status = 'refunded';                  -- denied: no WHERE clause
  DELETE FROM customers WHERE 1 = 1;                      -- denied: always-true WHERE
  DROP TABLE api_keys;                                    -- denied: no drops
  SELECT pg_read_file('/etc/passwd');                     -- denied: server files

Mint another credential:
  curl -s -X POST http://127.0.0.1:${adminPort}/v1/credentials -H 'content-type: application/json' \\
       -d '{"agent":"my-agent","target":"demo","ttl":"15m"}'

Press Ctrl-C to stop.
`);
    await (opts.until ?? signalled());
    out('\nsqlwarden demo: stopping...\n');
    return 0;
  } finally {
    await proxy?.close();
    await db.stop();
    rmSync(policies, { recursive: true, force: true });
  }
}
