#!/usr/bin/env node
// Micro-benchmark of Postgres statement analysis over the shared benign corpus, uncached.
// Usage: npx tsc -b packages/sql && node packages/sql/bench/analyze-bench.mjs [passes]
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyzePostgres, initPostgresAnalyzer, stopPostgresAnalyzer } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
let root = here;
while (!existsSync(join(root, 'pnpm-workspace.yaml'))) root = dirname(root);
const corpusFile = join(root, '..', 'shared', 'corpus', 'pg-benign.mjs');
if (!existsSync(corpusFile)) {
  console.error(`corpus not found at ${corpusFile}`);
  process.exit(1);
}
const { pgCorpus } = await import(pathToFileURL(corpusFile).href);
const statements = pgCorpus.map(([, sql]) => sql);
const passes = Number(process.argv[2] ?? 200);

await initPostgresAnalyzer();

function measure(label, fn) {
  for (let w = 0; w < 20; w++) for (const s of statements) fn(s);
  const per = statements.map(() => []);
  const t0 = performance.now();
  for (let p = 0; p < passes; p++) {
    statements.forEach((s, i) => {
      const a = performance.now();
      fn(s);
      per[i].push(performance.now() - a);
    });
  }
  const total = performance.now() - t0;
  const medians = per.map((xs) => xs.sort((x, y) => x - y)[xs.length >> 1] * 1000).sort((x, y) => x - y);
  const q = (f) => medians[Math.min(medians.length - 1, Math.floor(f * medians.length))];
  const mean = (total / (passes * statements.length)) * 1000;
  console.log(`${label.padEnd(34)} mean ${mean.toFixed(1).padStart(6)} µs/stmt   p50 ${q(0.5).toFixed(1).padStart(6)}   p90 ${q(0.9).toFixed(1).padStart(6)}   p99 ${q(0.99).toFixed(1).padStart(7)}   max ${medians[medians.length - 1].toFixed(1).padStart(7)}`);
  return per.map((xs, i) => [xs[xs.length >> 1] * 1000, statements[i]]);
}

console.log(`${statements.length} statements × ${passes} passes, Node ${process.version}`);
const facts = measure('analyze (facts only)', (s) => analyzePostgres(s));
measure('analyze + fingerprint', (s) => analyzePostgres(s).fingerprint);
measure('analyze + fingerprint + normalized', (s) => {
  const a = analyzePostgres(s);
  return a.ok && a.fingerprint + a.normalized;
});
console.log('\nslowest statements (facts only, median µs):');
for (const [us, sql] of facts.sort((a, b) => b[0] - a[0]).slice(0, 5)) console.log(`  ${us.toFixed(0).padStart(6)}  ${sql.replace(/\s+/g, ' ').slice(0, 100)}`);
await stopPostgresAnalyzer();
