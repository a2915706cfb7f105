#!/usr/bin/env node
// Cost of judging one statement: analysis uncached, analysis cached, and the whole decision
// (cache + rules of policies/default.yaml), over the shared corpora of both dialects.
//
//   node benchmarks/analysis.mjs [--rounds 5]
//
// Writes the "Statement analysis" section of benchmarks/RESULTS.md.
import { writeResultsSection } from './lib.mjs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, out: { type: 'string', default: join(root, 'benchmarks', 'RESULTS.md') } } });
const imp = (p) => import(pathToFileURL(join(root, p)).href);
const { analyze, initAnalyzers, AnalysisCache } = await imp('packages/sql/dist/index.js');
const { loadPolicyDir, patternFingerprint, PolicyDecider } = await imp('packages/policy/dist/index.js');
const corpusDir = join(root, '..', 'shared', 'corpus');
const { pgCorpus } = await import(pathToFileURL(join(corpusDir, 'pg-benign.mjs')).href);
const mysqlModule = await import(pathToFileURL(join(corpusDir, 'mysql-benign.mjs')).href);
const mysqlCorpus = Object.values(mysqlModule).find((v) => Array.isArray(v));

await initAnalyzers();
const loaded = loadPolicyDir(join(root, 'policies'), { fingerprint: (d, s) => patternFingerprint(d, s, analyze) });
if (!loaded.ok) throw new Error('policies do not load');
const who = Object.freeze({ agent: 'bench', labels: {}, target: 'app', credentialId: 'c', user: 'u', sessionId: 's' });

const rounds = Number(a.rounds);
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function measure(label, sqls, fn) {
  // warm-up round, then `rounds` timed rounds; per-statement times in µs
  for (const s of sqls) fn(s);
  const times = [];
  for (let r = 0; r < rounds; r++) {
    for (const s of sqls) {
      const t0 = process.hrtime.bigint();
      fn(s);
      times.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
  times.sort((x, y) => x - y);
  const mean = times.reduce((x, y) => x + y, 0) / times.length;
  return { label, n: sqls.length, mean, p50: pct(times, 50), p99: pct(times, 99) };
}

const rows = [];
for (const [dialect, corpus] of [['postgres', pgCorpus], ['mysql', mysqlCorpus]]) {
  const sqls = corpus.map((e) => (Array.isArray(e) ? e[e.length - 1] : typeof e === 'string' ? e : e.sql)).filter((s) => typeof s === 'string');
  rows.push({ dialect, ...measure('analysis, uncached', sqls, (s) => analyze(dialect, s)) });
  const cache = new AnalysisCache((d, s) => analyze(d, s));
  rows.push({ dialect, ...measure('analysis, cached (hit)', sqls, (s) => cache.get(dialect, s)) });
  const decider = new PolicyDecider(loaded.policy, new AnalysisCache((d, s) => analyze(d, s)));
  rows.push({ dialect, ...measure('whole decision, cached (default policy)', sqls, (s) => decider.decide({ dialect, carrier: 'query', sql: s }, who)) });
}

const lines = ['## Statement analysis: cost per statement', ''];
lines.push(`Command: \`node benchmarks/analysis.mjs --rounds ${rounds}\`  `);
lines.push(`Run: ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}. Corpora: \`../shared/corpus/pg-benign.mjs\` and \`mysql-benign.mjs\`, one warm-up round then ${rounds} timed rounds, times per statement.`, '');
lines.push('| dialect | what | statements | mean µs | p50 µs | p99 µs |', '|---|---|---:|---:|---:|---:|');
for (const r of rows) lines.push(`| ${r.dialect} | ${r.label} | ${r.n} | ${r.mean.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`);
writeResultsSection(a.out, '## Statement analysis:', lines.join('\n') + '\n');
process.exit(0);
