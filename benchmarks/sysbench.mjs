#!/usr/bin/env node
// sysbench oltp_read_only through: direct MariaDB, HAProxy (TCP relay), sqlwarden's MySQL listener —
// alternating runs, same threads and duration, medians and ratios written to benchmarks/RESULTS.md.
//
//   node benchmarks/sysbench.mjs [--seconds 10] [--threads 8] [--reps 3] [--tables 4] [--table-size 10000] [--ps-modes auto,disable]
//
// Needs: sysbench, haproxy (Debian packages), the local MariaDB at 127.0.0.1:3306 (root, empty password).
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Children, sh, waitPort, writeResultsSection } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    threads: { type: 'string', default: '8' },
    reps: { type: 'string', default: '3' },
    tables: { type: 'string', default: '4' },
    'table-size': { type: 'string', default: '10000' },
    'ps-modes': { type: 'string', default: 'auto,disable' },
    out: { type: 'string', default: join(root, 'benchmarks', 'RESULTS.md') },
  },
});
const MY = { host: '127.0.0.1', port: 3306 };
const DB = 'sqlwarden_sysbench';
const USER = 'sqlwarden_sysbench';
const PASSWORD = randomBytes(12).toString('hex');
const PORTS = { haproxy: 16436, sqlwarden: 16435, admin: 18090 };
const work = mkdtempSync(join(tmpdir(), 'sqlwarden-sysbench-'));
chmodSync(work, 0o755);
const children = new Children();

const mariadb = (sql) => sh('mariadb', ['-h', MY.host, '-P', String(MY.port), '-u', 'root', '-N', '-B', '-e', sql]);
function cleanup() {
  children.stopAll();
  rmSync(work, { recursive: true, force: true });
  try {
    mariadb(`DROP DATABASE IF EXISTS ${DB}; DROP USER IF EXISTS '${USER}'@'%'`);
  } catch {
    // best effort on the way out
  }
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

// ---- database --------------------------------------------------------------------------------
mariadb(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; DROP USER IF EXISTS '${USER}'@'%'; CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'; GRANT ALL ON ${DB}.* TO '${USER}'@'%'`);
const common = (host, port, user, password) => [
  '--db-driver=mysql',
  `--mysql-host=${host}`,
  `--mysql-port=${port}`,
  `--mysql-user=${user}`,
  `--mysql-password=${password}`,
  `--mysql-db=${DB}`,
  `--tables=${a.tables}`,
  `--table-size=${a['table-size']}`,
];
sh('sysbench', ['oltp_read_only', ...common(MY.host, MY.port, USER, PASSWORD), 'prepare']);

// ---- HAProxy (plain TCP relay) ---------------------------------------------------------------
writeFileSync(
  join(work, 'haproxy.cfg'),
  `global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\nlisten my\n  bind 127.0.0.1:${PORTS.haproxy}\n  server my ${MY.host}:${MY.port}\n`,
);
children.start('haproxy', 'haproxy', ['-f', join(work, 'haproxy.cfg'), '-db']);

// ---- sqlwarden ---------------------------------------------------------------------------------
writeFileSync(
  join(work, 'sqlwarden.yaml'),
  `listen:\n  mysql: 127.0.0.1:${PORTS.sqlwarden}\n  admin: 127.0.0.1:${PORTS.admin}\npolicies: ${join(root, 'policies')}\ntargets:\n  - name: bench\n    protocol: mysql\n    host: ${MY.host}\n    port: ${MY.port}\n    database: ${DB}\n    user: ${USER}\n    password: ${PASSWORD}\nlog:\n  level: warn\n`,
);
children.start('sqlwarden', process.execPath, [join(root, 'packages/server/bin/sqlwarden.js'), 'start', '-c', join(work, 'sqlwarden.yaml')]);

await Promise.all([waitPort(PORTS.haproxy, 'haproxy'), waitPort(PORTS.sqlwarden, 'sqlwarden'), waitPort(PORTS.admin, 'sqlwarden admin')]);
const minted = await (
  await fetch(`http://127.0.0.1:${PORTS.admin}/v1/credentials`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'sysbench', target: 'bench', ttl: '2h' }) })
).json();
if (!minted.password) throw new Error(`mint failed: ${JSON.stringify(minted)}`);

const routes = {
  direct: common(MY.host, MY.port, USER, PASSWORD),
  haproxy: common('127.0.0.1', PORTS.haproxy, USER, PASSWORD),
  sqlwarden: common('127.0.0.1', PORTS.sqlwarden, minted.user, minted.password),
};

function sysbench(route, psMode) {
  const out = sh('sysbench', ['oltp_read_only', ...routes[route], `--threads=${a.threads}`, `--time=${a.seconds}`, `--db-ps-mode=${psMode}`, '--report-interval=0', 'run']);
  const tps = Number(/transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1]);
  const qps = Number(/queries:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1]);
  const lat = Number(/avg:\s+([\d.]+)/.exec(out)?.[1]);
  const errors = Number(/ignored errors:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (!Number.isFinite(tps) || !Number.isFinite(qps) || errors > 0) throw new Error(`sysbench via ${route} (${psMode}) failed: ${out}`);
  return { tps, qps, lat };
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const results = {};
const modes = a['ps-modes'].split(',');
for (const mode of modes) {
  for (const r of Object.keys(routes)) results[`${mode}/${r}`] = [];
  for (let rep = 0; rep < Number(a.reps); rep++) {
    // alternate the order each repetition so no route always runs on a warmer machine
    const order = Object.keys(routes);
    if (rep % 2 === 1) order.reverse();
    for (const r of order) {
      const res = sysbench(r, mode);
      results[`${mode}/${r}`].push(res);
      console.error(`ps-mode ${mode.padEnd(8)} ${r.padEnd(9)} rep ${rep + 1}: ${res.tps.toFixed(0)} tps, ${res.qps.toFixed(0)} qps, ${res.lat.toFixed(2)} ms`);
    }
  }
}

// ---- report ----------------------------------------------------------------------------------
const cmd = `node benchmarks/sysbench.mjs --seconds ${a.seconds} --threads ${a.threads} --reps ${a.reps} --tables ${a.tables} --table-size ${a['table-size']} --ps-modes ${a['ps-modes']}`;
const version = mariadb('SELECT VERSION()').trim();
const lines = [];
lines.push('## sysbench oltp_read_only: direct vs HAProxy vs sqlwarden (MySQL protocol)', '');
lines.push(`Command: \`${cmd}\`  `);
lines.push(`Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, MariaDB ${version}, ${sh('sysbench', ['--version']).trim()}, ${sh('haproxy', ['-v']).split('\n')[0]}.  `);
lines.push(
  `Each cell: median of ${a.reps} alternating runs of ${a.seconds}s, ${a.threads} threads, ${a.tables} tables of ${a['table-size']} rows. A transaction is 14 statements (10 point selects, 4 range selects) between BEGIN and COMMIT. sqlwarden with a minted caching_sha2_password login, every statement analysed (MySQL grammar, worker pool, exact-text cache) and judged against policies/default.yaml, metrics on. \`--db-ps-mode=auto\` uses server-side prepared statements (judged once at COM_STMT_PREPARE); \`disable\` sends every statement as text.`,
  '',
);
lines.push('| ps-mode | route | tps (median) | qps (median) | avg latency ms | tps vs direct | latency vs HAProxy |');
lines.push('|---|---|---:|---:|---:|---:|---:|');
for (const mode of modes) {
  const med = (r) => ({
    tps: median(results[`${mode}/${r}`].map((x) => x.tps)),
    qps: median(results[`${mode}/${r}`].map((x) => x.qps)),
    lat: median(results[`${mode}/${r}`].map((x) => x.lat)),
  });
  const d = med('direct');
  const h = med('haproxy');
  for (const r of Object.keys(routes)) {
    const m = med(r);
    lines.push(`| ${mode} | ${r} | ${m.tps.toFixed(0)} | ${m.qps.toFixed(0)} | ${m.lat.toFixed(2)} | ${(m.tps / d.tps).toFixed(2)} | ${(m.lat / h.lat).toFixed(2)} |`);
  }
}
writeResultsSection(a.out, '## sysbench oltp_read_only:', lines.join('\n') + '\n');
process.exit(0);
