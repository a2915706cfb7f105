import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort } from './free-port.js';
import { makeTestCerts, type TestCerts } from './test-certs.js';

const run = promisify(execFile);

/** Where Debian puts the binaries (override with MARIADB_INSTALL_DB / MARIADBD). */
const INSTALL_DB = process.env.MARIADB_INSTALL_DB ?? '/usr/bin/mariadb-install-db';
const MARIADBD = process.env.MARIADBD ?? '/usr/sbin/mariadbd';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Why a private MariaDB cannot be started here (binaries missing), or null when it can. */
export function privateMariadbUnavailable(): string | null {
  for (const bin of [INSTALL_DB, MARIADBD]) if (!existsSync(bin)) return `${bin} is missing (set MARIADB_INSTALL_DB / MARIADBD)`;
  return null;
}

export interface PrivateMariadb {
  host: string;
  port: number;
  /** the temp dir holding data, socket, log and certificates */
  dir: string;
  certs: TestCerts;
  /** SQL as root (no password, over 127.0.0.1; multi-statements on) */
  query<T = unknown>(sql: string): Promise<T>;
  /** the server's error log so far (for failure messages) */
  log(): string;
  /** SIGKILL, then removes the temp dir; safe to call twice */
  stop(): Promise<void>;
}

/** Every server this process started and has not stopped: killed on exit whatever happens. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Starts a throwaway MariaDB (mariadb-install-db + mariadbd) on a free port of 127.0.0.1 with TLS on:
 * a fresh test CA and a server certificate for localhost/127.0.0.1 (makeTestCerts). The caller must
 * stop() it in afterAll; a process exit hook kills it too. If starting fails half way, what was
 * started is killed and removed before the throw.
 */
export async function startPrivateMariadb(): Promise<PrivateMariadb> {
  const missing = privateMariadbUnavailable();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'swmaria-'));
  const data = join(dir, 'data');
  const errLog = join(dir, 'server.err');
  let child: ChildProcess | null = null;
  let stopped = false;
  const log = (): string => (existsSync(errLog) ? readFileSync(errLog, 'utf8') : '');

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGKILL');
      await exited;
    }
    if (c) live.delete(c);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const certs = makeTestCerts(dir);
    const userArg = asRoot ? ['--user=root'] : [];
    await run(INSTALL_DB, ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...userArg], { timeout: 120_000 }).catch(
      (err: { message: string; stderr?: string; stdout?: string }) => {
        throw new Error(`mariadb-install-db failed: ${err.message}\n${err.stderr ?? ''}${err.stdout ?? ''}`);
      },
    );
    const port = await freePort();
    installExitHook();
    child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        ...userArg,
        `--datadir=${data}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(dir, 'mysqld.sock')}`,
        `--pid-file=${join(dir, 'mysqld.pid')}`,
        `--log-error=${errLog}`,
        '--skip-name-resolve',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
        '--max-connections=100',
        `--ssl-ca=${certs.caCert}`,
        `--ssl-cert=${certs.serverCert}`,
        `--ssl-key=${certs.serverKey}`,
      ],
      { stdio: 'ignore' },
    );
    live.add(child);
    const c = child;
    let exited = false;
    c.once('exit', () => {
      exited = true;
      live.delete(c);
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited) throw new Error('mariadbd exited during start');
      try {
        const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '' });
        await conn.end();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`mariadbd did not answer within 60 s (${err instanceof Error ? err.message : String(err)})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return {
      host: '127.0.0.1',
      port,
      dir,
      certs,
      async query<T = unknown>(sql: string): Promise<T> {
        const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '', multipleStatements: true });
        try {
          const [rows] = await conn.query(sql);
          return rows as T;
        } finally {
          await conn.end();
        }
      },
      log,
      stop,
    };
  } catch (err) {
    const text = log();
    await stop().catch(() => {});
    throw new Error(`${err instanceof Error ? err.message : String(err)}${text ? `\nserver log:\n${text}` : ''}`);
  }
}
