import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';
import { makeTestCerts, type TestCerts } from './test-certs.js';

const run = promisify(execFile);

/** Where Debian puts the server binaries (override with PG_BINDIR). */
export const PG_BINDIR = process.env.PG_BINDIR ?? '/usr/lib/postgresql/15/bin';
/** The OS user that owns the cluster when the tests run as root (postgres refuses to run as root). */
const CLUSTER_OS_USER = 'postgres';

export interface PrivateClusterOptions {
  /** pg_hba.conf lines after the superuser lines this helper always puts first */
  hba: string[];
  /** turn ssl on with a freshly generated test CA and server certificate */
  ssl?: boolean;
}

export interface PrivateCluster {
  host: string;
  port: number;
  /** the temp dir holding data, socket, log and certificates */
  dir: string;
  certs?: TestCerts;
  /** SQL as the cluster's superuser (trust over 127.0.0.1) */
  query(sql: string, database?: string): Promise<pg.QueryResult>;
  /** the server log so far (for failure messages) */
  log(): string;
  /** pg_ctl stop -m immediate, then removes the temp dir; safe to call twice */
  stop(): Promise<void>;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as the postgres OS user when we are root (initdb and postgres refuse root). */
async function pgBin(bin: string, args: string[]): Promise<string> {
  const exe = join(PG_BINDIR, bin);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', CLUSTER_OS_USER, '--', exe, ...args]] : [exe, args];
  try {
    const { stdout } = await run(cmd, argv, { timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), uid, gid);
}

function osUserIds(name: string): { uid: number; gid: number } {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(`no OS user "${name}" to run the private PostgreSQL cluster as`);
}

/**
 * Starts a throwaway PostgreSQL cluster (initdb + pg_ctl) on a free port of 127.0.0.1, its unix
 * socket in a private temp dir, with the given pg_hba.conf lines. The caller must stop() it in
 * afterAll; if starting fails half way, what was started is stopped and removed before the throw.
 */
export async function startPrivateCluster(opts: PrivateClusterOptions): Promise<PrivateCluster> {
  if (!existsSync(join(PG_BINDIR, 'initdb'))) throw new Error(`no initdb in ${PG_BINDIR} (set PG_BINDIR)`);
  const dir = mkdtempSync(join(tmpdir(), 'swpg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  let started = false;
  let stopped = false;
  const port = await freePort();

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      if (started) await pgBin('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  let certs: TestCerts | undefined;
  try {
    if (opts.ssl) certs = makeTestCerts(dir);
    if (asRoot) {
      const { uid, gid } = osUserIds(CLUSTER_OS_USER);
      chownTree(dir, uid, gid);
    }
    chmodSync(dir, 0o700);
    if (certs) chmodSync(certs.serverKey, 0o600);

    await pgBin('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '--locale=C', '-E', 'UTF8']);
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        '',
        '# sqlwarden private test cluster',
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'max_connections = 50',
        'log_connections = on',
        ...(certs ? ['ssl = on', `ssl_cert_file = '${certs.serverCert}'`, `ssl_key_file = '${certs.serverKey}'`] : ['ssl = off']),
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(data, 'pg_hba.conf'),
      ['# TYPE DATABASE USER ADDRESS METHOD', 'local all postgres trust', 'host all postgres 127.0.0.1/32 trust', ...opts.hba, ''].join('\n'),
    );
    if (asRoot) {
      const { uid, gid } = osUserIds(CLUSTER_OS_USER);
      chownTree(data, uid, gid);
    }
    started = true;
    await pgBin('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
  } catch (err) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    await stop().catch(() => {});
    throw new Error(`${err instanceof Error ? err.message : String(err)}${log ? `\nserver log:\n${log}` : ''}`);
  }

  return {
    host: '127.0.0.1',
    port,
    dir,
    certs,
    async query(sql, database = 'postgres') {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database });
      await c.connect();
      try {
        return await c.query(sql);
      } finally {
        await c.end();
      }
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    stop,
  };
}
