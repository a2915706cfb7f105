// Shared by the benchmark scripts: child processes, ports, and their section of RESULTS.md.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';

/** Runs a command to completion; its stdout, or an error with its output. */
export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Background processes of one benchmark run, stopped together. */
export class Children {
  list = [];

  /** Starts a long-running process; an unexpected exit is reported with the tail of its stderr. */
  start(name, cmd, args, opts = {}) {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
    let err = '';
    p.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    p.on('exit', (code) => code && code !== 0 && !p.killedByUs && console.error(`${name} exited ${code}: ${err.slice(-2000)}`));
    this.list.push(p);
    return p;
  }

  stopAll() {
    for (const c of this.list) {
      c.killedByUs = true;
      c.kill('SIGTERM');
    }
  }
}

/** Resolves once something accepts connections on 127.0.0.1:port (10 s at most). */
export async function waitPort(port, what) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((res) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), res(true)));
      s.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

/**
 * Replaces the section of `file` whose heading starts with `heading` (up to the next `## `) by
 * `section`, or appends it; creates the file when missing. Prints the section.
 */
export function writeResultsSection(file, heading, section) {
  let doc;
  try {
    doc = readFileSync(file, 'utf8');
  } catch {
    doc = '# sqlwarden benchmark results\n\nEvery section is written by the command it names; rerun the command to refresh it.\n';
  }
  const at = doc.indexOf(heading);
  if (at >= 0) {
    const next = doc.indexOf('\n## ', at + 1);
    doc = doc.slice(0, at) + section + (next >= 0 ? doc.slice(next + 1) : '');
  } else doc += '\n' + section;
  writeFileSync(file, doc);
  console.log(section);
}
