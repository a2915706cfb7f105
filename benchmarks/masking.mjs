#!/usr/bin/env node
// Result masking on a large result: one `SELECT * FROM big` (a view over generate_series, 10M rows
// by default) read by node-postgres row by row, through: direct PostgreSQL, sqlwarden with the
// shipped policies (nothing to mask), and sqlwarden with column masks (email, hash, redact) plus a
// detectors mask. Routes alternate; medians of rows/s, and the proxy's RSS sampled during each run
// (before, peak, VmHWM) to show that the result streams through rather than being held whole.
//
//   node benchmarks/masking.mjs [--rows 10000000] [--reps 3] [--binary-reps 1] [--out benchmarks/RESULTS.md]
//
// Needs: the local PostgreSQL at 127.0.0.1:5432 (user postgres, trust), psql, a built sqlwarden
// (packages/server/dist), pg from the repo's devDependencies.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, chmodSync, copyFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { Children, sh, waitPort, writeResultsSection } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    reps: { type: 'string', default: '3' },
    'binary-reps': { type: 'string', default: '1' },
    out: { type: 'string', default: join(root, 'benchmarks', 'RESULTS.md') },
  },
});
const ROWS = Number(a.rows);
const REPS = Number(a.reps);
const BIN_REPS = Number(a['binary-reps']);
if (!Number.isInteger(ROWS) || ROWS < 1 || !Number.isInteger(REPS) || REPS < 1 || !Number.isInteger(BIN_REPS) || BIN_REPS < 0) {
  throw new Error('--rows and --reps must be positive integers, --binary-reps a non-negative one');
}
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const DB = 'sqlwarden_bench_mask';
const INSTANCES = {
  unmasked: { pg: 16441, admin: 18098 },
  masked: { pg: 16442, admin: 18099 },
};
const work = mkdtempSync(join(tmpdir(), 'sqlwarden-bench-mask-'));
chmodSync(work, 0o755);
const children = new Children();

let sampler;
function cleanup() {
  children.stopAll();
  sampler?.terminate();
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

// ---- database: a view that produces the rows without storing them ---------------------------
const psql = (sql, db = 'postgres') => sh('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', db, '-c', sql]);
psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
psql(`CREATE DATABASE ${DB}`);
psql(
  `CREATE VIEW big AS SELECT g AS id, 'user' || g || '@example.com' AS email, lpad((g % 1000000000)::text, 9, '0') AS ssn, ` +
    `'note ' || g AS note, (g % 100000)::int AS salary FROM generate_series(1, ${ROWS}) g`,
  DB,
);

// ---- two sqlwarden instances ----------------------------------------------------------------
const maskPolicies = join(work, 'policies-masked');
mkdirSync(maskPolicies);
copyFileSync(join(root, 'policies', 'default.yaml'), join(maskPolicies, 'default.yaml'));
writeFileSync(
  join(maskPolicies, 'bench-masks.yaml'),
  `version: 1\n\nmasks:\n` +
    `  - id: bench-email\n    columns: ["*.big.email"]\n    function: email\n` +
    `  - id: bench-ssn\n    columns: ["*.big.ssn"]\n    function: hash\n` +
    `  - id: bench-salary\n    columns: ["*.big.salary"]\n    function: redact\n` +
    `  - id: bench-free-text\n    detectors: [email, us_ssn, credit_card]\n    function: redact\n`,
);
const sqlwardenConfig = (name, policies, extra = '') =>
  `listen:\n  postgres: 127.0.0.1:${INSTANCES[name].pg}\n  admin: 127.0.0.1:${INSTANCES[name].admin}\npolicies: ${policies}\n` +
  `targets:\n  - name: bench\n    protocol: postgres\n    host: ${PG.host}\n    port: ${PG.port}\n    database: ${DB}\n    user: ${PG.user}\n` +
  `log:\n  level: warn\n${extra}`;
writeFileSync(join(work, 'unmasked.yaml'), sqlwardenConfig('unmasked', join(root, 'policies')));
writeFileSync(join(work, 'masked.yaml'), sqlwardenConfig('masked', maskPolicies, `masking:\n  hashKey: "${randomBytes(16).toString('hex')}"\n`));
const procs = {};
for (const name of Object.keys(INSTANCES)) {
  procs[name] = children.start(`sqlwarden-${name}`, process.execPath, [join(root, 'packages/server/bin/sqlwarden.js'), 'start', '-c', join(work, `${name}.yaml`)]);
}
await Promise.all(Object.entries(INSTANCES).flatMap(([n, p]) => [waitPort(p.pg, `sqlwarden ${n}`), waitPort(p.admin, `sqlwarden ${n} admin`)]));
async function mint(name) {
  const res = await fetch(`http://127.0.0.1:${INSTANCES[name].admin}/v1/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agent: 'mask-bench', target: 'bench', ttl: '2h' }),
  });
  const m = await res.json();
  if (!m.password) throw new Error(`mint on ${name} failed: ${JSON.stringify(m)}`);
  return m;
}
const creds = { unmasked: await mint('unmasked'), masked: await mint('masked') };

const routes = {
  direct: { host: PG.host, port: PG.port, user: PG.user, database: DB },
  'sqlwarden-unmasked': { host: '127.0.0.1', port: INSTANCES.unmasked.pg, user: creds.unmasked.user, password: creds.unmasked.password, database: DB },
  'sqlwarden-masked': { host: '127.0.0.1', port: INSTANCES.masked.pg, user: creds.masked.user, password: creds.masked.password, database: DB },
};
const proxyOf = { direct: null, 'sqlwarden-unmasked': procs.unmasked, 'sqlwarden-masked': procs.masked };

// ---- RSS sampling in a worker thread (independent of the main thread's row handling) ---------
// shared[0]: 0 idle, 1 sampling, 2 quit; [1]: pid; [2]: max VmRSS kB; [3]: samples
const shared = new Int32Array(new SharedArrayBuffer(16));
sampler = new Worker(
  `const { workerData } = require('node:worker_threads');
   const { readFileSync } = require('node:fs');
   const s = workerData;
   for (;;) {
     const st = Atomics.load(s, 0);
     if (st === 2) break;
     if (st === 1) {
       try {
         const kb = Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/' + Atomics.load(s, 1) + '/status', 'utf8'))[1]);
         if (kb > Atomics.load(s, 2)) Atomics.store(s, 2, kb);
         Atomics.add(s, 3, 1);
       } catch {}
     }
     Atomics.wait(s, 0, st, 25);
   }`,
  { eval: true, workerData: shared },
);
const SAMPLE_MS = 25;
const status = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8');
const kbOf = (txt, key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(txt)?.[1]);
// CPU seconds (user + system) the process has used: /proc/<pid>/stat fields 14 and 15, in clock ticks
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function cpuSecs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}
let hwmReset = true;
function resetHwm(pid) {
  // "5" resets the process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0, needs permission)
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    hwmReset = false;
  }
}

// ---- one run: connect, stream every row, count, check samples --------------------------------
const RAW = (g) => ({ email: `user${g}@example.com`, ssn: String(g % 1000000000).padStart(9, '0'), note: `note ${g}`, salary: g % 100000 });
function checkRow(route, row, binary) {
  const g = Number(row.id);
  const raw = RAW(g);
  const salary = Number(row.salary);
  if (row.note !== raw.note) return `note ${JSON.stringify(row.note)} != ${raw.note}`;
  if (route === 'sqlwarden-masked') {
    // the view computes email ('user' || g || '@example.com'), and email/partial keep part of a value only
    // for a column's own value: a computed one is redacted
    if (row.email !== '[redacted]') return `email not masked: ${JSON.stringify(row.email)}`;
    if (row.ssn === raw.ssn || typeof row.ssn !== 'string' || row.ssn.length === 0) return `ssn not hashed: ${JSON.stringify(row.ssn)}`;
    if (salary !== 0) return `salary not redacted: ${JSON.stringify(row.salary)}`;
  } else {
    if (row.email !== raw.email) return `email ${JSON.stringify(row.email)} != ${raw.email}`;
    if (row.ssn !== raw.ssn) return `ssn ${JSON.stringify(row.ssn)} != ${raw.ssn}`;
    if (salary !== raw.salary) return `salary ${row.salary} != ${raw.salary}${binary ? ' (binary)' : ''}`;
  }
  return null;
}
const CHECK_EVERY = 100000;
let firstSample = {};

async function run(route, binary) {
  const client = new pg.Client(routes[route]);
  await client.connect();
  const proxy = proxyOf[route];
  let before = null;
  let cpu0 = 0;
  if (proxy) {
    resetHwm(proxy.pid);
    before = kbOf(status(proxy.pid), 'VmRSS');
    cpu0 = cpuSecs(proxy.pid);
    Atomics.store(shared, 1, proxy.pid);
    Atomics.store(shared, 2, before);
    Atomics.store(shared, 3, 0);
    Atomics.store(shared, 0, 1);
    Atomics.notify(shared, 0);
  }
  const progress = []; // proxy RSS (MiB) every 10% of the rows, read from the main thread
  const step = Math.max(1, Math.floor(ROWS / 10));
  let n = 0;
  let bad = null;
  const t0 = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    const q = new pg.Query({ text: 'SELECT * FROM big', ...(binary && { binary: true }) });
    q.on('row', (row) => {
      n++;
      if (n % CHECK_EVERY === 1) {
        const err = checkRow(route, row, binary);
        if (err && !bad) bad = `row ${n}: ${err}`;
        if (n === 1) firstSample[`${route}${binary ? '/binary' : ''}`] = row;
      }
      if (proxy && n % step === 0) progress.push(Math.round(kbOf(status(proxy.pid), 'VmRSS') / 1024));
    });
    q.on('error', reject);
    q.on('end', resolve);
    client.query(q);
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  let peak = null;
  let hwm = null;
  let samples = 0;
  let cpu = null;
  if (proxy) {
    cpu = cpuSecs(proxy.pid) - cpu0;
    Atomics.store(shared, 0, 0);
    peak = Atomics.load(shared, 2);
    samples = Atomics.load(shared, 3);
    hwm = kbOf(status(proxy.pid), 'VmHWM');
  }
  await client.end();
  if (n !== ROWS) throw new Error(`${route}: ${n} rows, expected ${ROWS}`);
  if (bad) throw new Error(`${route}${binary ? ' (binary)' : ''}: ${bad}`);
  return { secs, rps: n / secs, cpuUs: cpu == null ? null : (cpu * 1e6) / n, before, peak, hwm, samples, progress };
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const mib = (kb) => (kb == null ? '–' : (kb / 1024).toFixed(0));
const results = {};
const plan = [
  { binary: false, reps: REPS },
  { binary: true, reps: BIN_REPS },
];
for (const { binary, reps } of plan) {
  const fmt = binary ? 'binary' : 'text';
  for (const r of Object.keys(routes)) if (reps > 0) results[`${fmt}/${r}`] = [];
  for (let rep = 0; rep < reps; rep++) {
    // alternate the order each repetition so no route always runs on a warmer machine
    const order = Object.keys(routes);
    if (rep % 2 === 1) order.reverse();
    for (const r of order) {
      const res = await run(r, binary);
      results[`${fmt}/${r}`].push(res);
      console.error(
        `${fmt.padEnd(6)} ${r.padEnd(18)} rep ${rep + 1}: ${res.secs.toFixed(1)} s, ${res.rps.toFixed(0)} rows/s` +
          (res.before != null ? `, proxy CPU ${res.cpuUs.toFixed(2)} µs/row, proxy RSS ${mib(res.before)} → peak ${mib(res.peak)} MiB (${res.samples} samples), VmHWM ${mib(res.hwm)} MiB, every 10%: ${res.progress.join(' ')}` : ''),
      );
    }
  }
}
Atomics.store(shared, 0, 2);
Atomics.notify(shared, 0);
console.error('first rows:', JSON.stringify(firstSample));

// ---- report ----------------------------------------------------------------------------------
const fmtRows = (n) => (n % 1e6 === 0 ? `${n / 1e6}M` : n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
const cmd = `node benchmarks/masking.mjs --rows ${ROWS} --reps ${REPS} --binary-reps ${BIN_REPS}`;
const pgver = sh('psql', ['-X', '-At', '-h', PG.host, '-U', PG.user, '-d', 'postgres', '-c', 'show server_version']).trim();
const med = (key) => {
  const xs = results[key];
  return {
    secs: median(xs.map((x) => x.secs)),
    rps: median(xs.map((x) => x.rps)),
    cpuUs: xs[0].cpuUs == null ? null : median(xs.map((x) => x.cpuUs)),
    before: xs[0].before == null ? null : median(xs.map((x) => x.before)),
    peak: xs[0].peak == null ? null : Math.max(...xs.map((x) => x.peak)),
    growth: xs[0].peak == null ? null : Math.max(...xs.map((x) => x.peak - x.before)),
    hwm: xs[0].hwm == null ? null : Math.max(...xs.map((x) => x.hwm)),
  };
};
const usPerRow = (m) => 1e6 / m.rps;
const lines = [];
lines.push(`## Masking: a ${fmtRows(ROWS)}-row result, masked vs unmasked vs direct`, '');
lines.push(`Command: \`${cmd}\`  `);
lines.push(
  `Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, PostgreSQL ${pgver}, node-postgres ${JSON.parse(readFileSync(join(root, 'node_modules', 'pg', 'package.json'), 'utf8')).version}.  `,
);
lines.push(
  `One \`SELECT * FROM big\` per run: a view over \`generate_series(1, ${ROWS})\` with columns id, email, ssn (9 digits), note, salary — ` +
    `nothing stored, so the rows are made as they are sent. The client is node-postgres with a row listener and no callback ` +
    `(rows are not accumulated), simple query protocol, text format` +
    (BIN_REPS > 0 ? `; the binary rows use the extended protocol with binary results` : '') +
    `. Routes: direct to PostgreSQL; sqlwarden-unmasked (shipped policies/, nothing to mask: rows pass as their own bytes); ` +
    `sqlwarden-masked (policies/default.yaml plus masks \`*.big.email\` → email (redacted here: the view computes the value, and email keeps a domain only of a column's own value), \`*.big.ssn\` → hash (keyed HMAC), \`*.big.salary\` → redact, ` +
    `and detectors [email, us_ssn, credit_card] → redact on every text column). Both sqlwarden instances use SCRAM logins and judge the statement against their policies. ` +
    `Each cell: median of ${REPS} alternating runs (text) / ${BIN_REPS} (binary). Proxy CPU: user + system time of the sqlwarden process during the run (/proc/<pid>/stat) per row, median — less sensitive to the noisy neighbours than wall time. Proxy RSS: VmRSS of the sqlwarden process just before the query (median), ` +
    `the highest VmRSS sampled every ${SAMPLE_MS} ms during the run (max over runs), growth = peak − before (max over runs), ` +
    `and VmHWM read after the run (${hwmReset ? 'reset to the current RSS before each run via /proc/<pid>/clear_refs' : 'lifetime peak: clear_refs was not writable'}). ` +
    `The machine is shared and noisy (see the top of this file): compare routes within this table, not with other runs.`,
  '',
);
lines.push('| format | route | seconds | rows/s | µs/row | µs/row added vs direct | proxy CPU µs/row | proxy RSS before MiB | proxy peak RSS MiB | growth MiB | VmHWM MiB |');
lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const summary = [];
for (const { binary, reps } of plan) {
  if (reps === 0) continue;
  const fmt = binary ? 'binary' : 'text';
  const d = med(`${fmt}/direct`);
  for (const r of Object.keys(routes)) {
    const m = med(`${fmt}/${r}`);
    const added = r === 'direct' ? '–' : (usPerRow(m) - usPerRow(d)).toFixed(2);
    lines.push(
      `| ${fmt} | ${r} | ${m.secs.toFixed(1)} | ${m.rps.toFixed(0)} | ${usPerRow(m).toFixed(2)} | ${added} | ${m.cpuUs == null ? '–' : m.cpuUs.toFixed(2)} | ${mib(m.before)} | ${mib(m.peak)} | ${m.growth == null ? '–' : (m.growth / 1024).toFixed(0)} | ${mib(m.hwm)} |`,
    );
  }
  const u = med(`${fmt}/sqlwarden-unmasked`);
  const k = med(`${fmt}/sqlwarden-masked`);
  summary.push(
    `${fmt}: masking adds ${(usPerRow(k) - usPerRow(u)).toFixed(2)} µs per row over sqlwarden-unmasked ` +
      `and the proxy's own CPU goes from ${u.cpuUs.toFixed(2)} to ${k.cpuUs.toFixed(2)} µs per row ` +
      `(${(k.rps / u.rps).toFixed(2)}× its rows/s; ${(k.rps / d.rps).toFixed(2)}× direct, unmasked ${(u.rps / d.rps).toFixed(2)}× direct)`,
  );
}
lines.push('', `Per-row cost of masking — ${summary.join('; ')}.`);
// bytes of DataRow messages in the text result: type + length + field count + 5 × (length + value)
const digits = (x) => (x === 0 ? 1 : Math.floor(Math.log10(x)) + 1);
let wireBytes = 0;
for (let g = 1; g <= ROWS; g++) wireBytes += 27 + 3 * digits(g) + 30 + digits(g % 100000);
const maxGrowth = Math.max(...Object.values(results).flat().filter((x) => x.peak != null).map((x) => x.peak - x.before));
const flat = maxGrowth * 1024 < wireBytes / 10;
lines.push(
  '',
  `What it shows: the proxy's RSS grows by at most ${(maxGrowth / 1024).toFixed(0)} MiB during a ${fmtRows(ROWS)}-row result ` +
    `(${(wireBytes / 2 ** 20).toFixed(0)} MiB of DataRow messages in text format)` +
    (wireBytes < 256 * 2 ** 20
      ? ` — too small a result to tell streaming from buffering (a Node process's heap moves by tens of MiB anyway); run with the default --rows; `
      : flat
        ? `, so results stream through sqlwarden, masked or not, rather than being held whole; `
        : ` — more than a tenth of the result, so something in the proxy holds rows (a bug to look into); `) +
    `the time columns give what the proxy and the masking cost per row. On this 2-core machine the client, the proxy and the PostgreSQL backend share the cores, ` +
    `so the proxy's cost shows up as lower rows/s for the whole pipeline.`,
);
writeResultsSection(a.out, '## Masking:', lines.join('\n') + '\n');
psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
process.exit(0);
