import { spawn, type ChildProcess } from 'node:child_process';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** merged over a scrubbed copy of process.env (PG* variables removed so nothing leaks in) */
  env?: Record<string, string>;
  /** written to stdin, then stdin is closed */
  input?: string | Buffer;
  /** the process is killed (SIGKILL) after this long; default 60 s */
  timeoutMs?: number;
  cwd?: string;
  /** called with the child right after spawn (e.g. to signal it later) */
  onSpawn?: (child: ChildProcess) => void;
}

const live = new Set<ChildProcess>();

/** Runs a command to completion with a hard time limit; never throws on a non-zero exit. */
export function runCli(cmd: string, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PG')) env[k] = v;
  Object.assign(env, { PGCONNECT_TIMEOUT: '10', ...opts.env });
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    opts.onSpawn?.(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      const r = { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (timedOut) reject(new Error(`${cmd} ${args.join(' ')} killed after ${timeoutMs} ms\nstdout: ${r.stdout}\nstderr: ${r.stderr}`));
      else resolve(r);
    });
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Kills every process runCli started that is still running (for afterAll). */
export function killAllCli(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

export const PSQL = process.env.PSQL_BIN ?? '/usr/bin/psql';
export const PGBENCH = process.env.PGBENCH_BIN ?? '/usr/bin/pgbench';
