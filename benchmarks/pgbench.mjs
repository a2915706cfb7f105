#!/usr/bin/env node
// pgbench -S through: direct, HAProxy (TCP relay), PgBouncer, sqlwarden — alternating runs,
// same clients and duration, medians and ratios written to benchmarks/RESULTS.md.
//
//   node benchmarks/pgbench.mjs [--seconds 10] [--clients 8] [--threads 2] [--reps 3] [--scale 10] [--modes simple,prepared]
//
// Needs: pgbench, pgbouncer, haproxy (Debian packages), the local PostgreSQL at 127.0.0.1:5432.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync, chownSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Children, sh, waitPort, writeResultsSection } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    reps: { type: 'string', default: '3' },
    scale: { type: 'string', default: '10' },
    modes: { type: 'string', default: 'simple,prepared' },
    out: { type: 'string', default: join(root, 'benchmarks', 'RESULTS.md') },
  },
});
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const DB = 'sqlwarden_bench';
const PORTS = { haproxy: 16434, pgbouncer: 16433, sqlwarden: 16432, admin: 18089 };
const work = mkdtempSync(join(tmpdir(), 'sqlwarden-bench-'));
chmodSync(work, 0o755);
const children = new Children();

function cleanup() {
  children.stopAll();
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

// ---- database --------------------------------------------------------------------------------
const psql = (sql, db = 'postgres') => sh('psql', ['-X', '-q', '-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', db, '-c', sql]);
psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
psql(`CREATE DATABASE ${DB}`);
sh('pgbench', ['-i', '-q', '-s', a.scale, '-h', PG.host, '-p', String(PG.port), '-U', PG.user, DB]);

// ---- HAProxy (plain TCP relay) ---------------------------------------------------------------
writeFileSync(
  join(work, 'haproxy.cfg'),
  `global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\nlisten pg\n  bind 127.0.0.1:${PORTS.haproxy}\n  server pg ${PG.host}:${PG.port}\n`,
);
children.start('haproxy', 'haproxy', ['-f', join(work, 'haproxy.cfg'), '-db']);

// ---- PgBouncer (session pooling: prepared statements stay valid) -----------------------------
writeFileSync(join(work, 'userlist.txt'), `"${PG.user}" ""\n`);
writeFileSync(
  join(work, 'pgbouncer.ini'),
  `[databases]\n${DB} = host=${PG.host} port=${PG.port} dbname=${DB} user=${PG.user}\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = ${PORTS.pgbouncer}\nauth_type = trust\nauth_file = ${join(work, 'userlist.txt')}\npool_mode = session\nmax_client_conn = 1000\ndefault_pool_size = 64\nunix_socket_dir =\nlogfile =\n`,
);
const pgUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
for (const f of ['pgbouncer.ini', 'userlist.txt']) chownSync(join(work, f), pgUid, pgUid);
children.start('pgbouncer', 'runuser', ['-u', 'postgres', '--', 'pgbouncer', join(work, 'pgbouncer.ini')]);

// ---- sqlwarden ---------------------------------------------------------------------------------
writeFileSync(
  join(work, 'sqlwarden.yaml'),
  `listen:\n  postgres: 127.0.0.1:${PORTS.sqlwarden}\n  admin: 127.0.0.1:${PORTS.admin}\npolicies: ${join(root, "policies")}\ntargets:\n  - name: bench\n    protocol: postgres\n    host: ${PG.host}\n    port: ${PG.port}\n    database: ${DB}\n    user: ${PG.user}\nlog:\n  level: warn\n`,
);
children.start('sqlwarden', process.execPath, [join(root, 'packages/server/bin/sqlwarden.js'), 'start', '-c', join(work, 'sqlwarden.yaml')]);

await Promise.all([waitPort(PORTS.haproxy, 'haproxy'), waitPort(PORTS.pgbouncer, 'pgbouncer'), waitPort(PORTS.sqlwarden, 'sqlwarden'), waitPort(PORTS.admin, 'sqlwarden admin')]);
const minted = await (
  await fetch(`http://127.0.0.1:${PORTS.admin}/v1/credentials`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'pgbench', target: 'bench', ttl: '2h' }) })
).json();
if (!minted.password) throw new Error(`mint failed: ${JSON.stringify(minted)}`);

const routes = {
  direct: { PGHOST: PG.host, PGPORT: String(PG.port), PGUSER: PG.user },
  haproxy: { PGHOST: '127.0.0.1', PGPORT: String(PORTS.haproxy), PGUSER: PG.user },
  pgbouncer: { PGHOST: '127.0.0.1', PGPORT: String(PORTS.pgbouncer), PGUSER: PG.user },
  sqlwarden: { PGHOST: '127.0.0.1', PGPORT: String(PORTS.sqlwarden), PGUSER: minted.user, PGPASSWORD: minted.password },
};

function pgbench(route, mode) {
  const out = sh('pgbench', ['-n', '-S', '-M', mode, '-T', a.seconds, '-c', a.clients, '-j', a.threads, DB], { env: { ...process.env, ...routes[route], PGDATABASE: DB } });
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
  const lat = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
  const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
  if (!Number.isFinite(tps) || failed > 0) throw new Error(`pgbench via ${route} (${mode}) failed: ${out}`);
  return { tps, lat };
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const results = {};
const modes = a.modes.split(',');
for (const mode of modes) {
  for (const r of Object.keys(routes)) results[`${mode}/${r}`] = [];
  for (let rep = 0; rep < Number(a.reps); rep++) {
    // alternate the order each repetition so no route always runs on a warmer machine
    const order = Object.keys(routes);
    if (rep % 2 === 1) order.reverse();
    for (const r of order) {
      const res = pgbench(r, mode);
      results[`${mode}/${r}`].push(res);
      console.error(`${mode.padEnd(8)} ${r.padEnd(9)} rep ${rep + 1}: ${res.tps.toFixed(0)} tps, ${res.lat.toFixed(3)} ms`);
    }
  }
}

// ---- report ----------------------------------------------------------------------------------
const cmd = `node benchmarks/pgbench.mjs --seconds ${a.seconds} --clients ${a.clients} --threads ${a.threads} --reps ${a.reps} --scale ${a.scale} --modes ${a.modes}`;
const pgver = sh('psql', ['-X', '-At', '-h', PG.host, '-U', PG.user, '-d', 'postgres', '-c', 'show server_version']).trim();
const lines = [];
lines.push('## pgbench -S: direct vs HAProxy vs PgBouncer vs sqlwarden', '');
lines.push(`Command: \`${cmd}\`  `);
lines.push(`Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, PostgreSQL ${pgver}, pgbench ${sh('pgbench', ['--version']).trim()}, ${sh('pgbouncer', ['--version']).split('\n')[0]}, ${sh('haproxy', ['-v']).split('\n')[0]}.  `);
lines.push(`Each cell: median of ${a.reps} alternating runs of ${a.seconds}s, ${a.clients} clients, ${a.threads} threads, scale ${a.scale}. sqlwarden with SCRAM login, every statement parsed (libpg-query) and judged against policies/default.yaml, metrics on.`, '');
lines.push('| mode | route | tps (median) | avg latency ms | tps vs direct | tps vs PgBouncer | latency vs HAProxy |');
lines.push('|---|---|---:|---:|---:|---:|---:|');
for (const mode of modes) {
  const med = (r) => ({ tps: median(results[`${mode}/${r}`].map((x) => x.tps)), lat: median(results[`${mode}/${r}`].map((x) => x.lat)) });
  const d = med('direct');
  const b = med('pgbouncer');
  const h = med('haproxy');
  for (const r of Object.keys(routes)) {
    const m = med(r);
    lines.push(`| ${mode} | ${r} | ${m.tps.toFixed(0)} | ${m.lat.toFixed(3)} | ${(m.tps / d.tps).toFixed(2)} | ${(m.tps / b.tps).toFixed(2)} | ${(m.lat / h.lat).toFixed(2)} |`);
  }
}
writeResultsSection(a.out, '## pgbench -S:', lines.join('\n') + '\n');
psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
process.exit(0);
