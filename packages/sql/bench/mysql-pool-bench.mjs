// What a MysqlAnalysisPool round trip costs against a warm inline analyzeMysql, over the shared MySQL
// corpus (the numbers behind the pool's inline threshold; see the comment at the top of
// src/mysql/analysis-pool.ts). Not a test: run after `npx tsc -b packages/sql`:
//   node packages/sql/bench/mysql-pool-bench.mjs [passes]
import { join, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyzeMysql, initMysqlAnalyzer, MysqlAnalysisPool } from '../dist/index.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { mysqlCorpus, mysqlLong } = await import(pathToFileURL(join(repoRoot, '..', 'shared', 'corpus', 'mysql-benign.mjs')).href);
const all = [...mysqlCorpus.map(([, s]) => s), mysqlLong];
const passes = Number(process.argv[2] ?? 20);
const BUCKETS = [32, 64, 128, 256, Infinity];
const bucketOf = (s) => BUCKETS.find((b) => s.length <= b);
const label = (b, i) => (b === Infinity ? `> ${BUCKETS[i - 1]} chars` : `≤ ${b} chars`);

const q = (xs, f) => xs[Math.min(xs.length - 1, Math.floor(f * xs.length))];
const us = (ms) => `${(ms * 1000).toFixed(0).padStart(6)}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
/** per statement, the median over passes (ms) */
function perStatement(fn) {
  const per = new Map(all.map((s) => [s, []]));
  return (async () => {
    for (let p = 0; p < passes; p++) for (const s of all) per.get(s).push(await fn(s));
    return new Map([...per].map(([s, xs]) => [s, median(xs)]));
  })();
}

console.log(`${all.length} statements × ${passes} passes, Node ${process.version}, ${(await import('node:os')).availableParallelism()} CPUs, load ${(await import('node:os')).loadavg()[0].toFixed(1)}`);

// 1. inline on this thread: first parse of each statement after the warm-up (prediction caches cold
// for its shape), then warm
await initMysqlAnalyzer();
const first = new Map();
for (const s of all) {
  const t = performance.now();
  analyzeMysql(s);
  first.set(s, performance.now() - t);
}
for (let w = 0; w < 3; w++) for (const s of all) analyzeMysql(s);
const inline = await perStatement((s) => {
  const t = performance.now();
  analyzeMysql(s);
  return performance.now() - t;
});

// 2. the same through the pool, one statement at a time (latency), everything sent to a worker
const pool = new MysqlAnalysisPool({ inlineMaxChars: 0 });
await pool.ready();
for (let w = 0; w < 3; w++) for (const s of all) await pool.analyze(s);
const trip = await perStatement(async (s) => {
  const t = performance.now();
  await pool.analyze(s);
  return performance.now() - t;
});
// main-thread CPU of a worker trip: the synchronous post, plus receiving the result (bounded above
// by a structured clone of it, which serialises and deserialises)
const results = new Map();
for (const s of all) results.set(s, await pool.analyze(s));
const mainCost = await perStatement(async (s) => {
  let t = performance.now();
  const p = pool.analyze(s);
  let ms = performance.now() - t;
  await p;
  t = performance.now();
  structuredClone(results.get(s));
  ms += performance.now() - t;
  return ms;
});

console.log('\nµs, per statement the median of the passes; then median / p95 / max over the statements of the bucket');
console.log(`${'bucket'.padEnd(14)} ${'n'.padStart(4)} | ${'first parse'.padEnd(20)} | ${'warm inline'.padEnd(20)} | ${'worker round trip'.padEnd(20)} | ${'trip − inline'.padEnd(20)} | main-thread CPU of a trip`);
const fmt = (xs) => { const m = [...xs].sort((a, b) => a - b); return `${us(q(m, 0.5))} ${us(q(m, 0.95))} ${us(m[m.length - 1])}`.padEnd(20); };
BUCKETS.forEach((b, i) => {
  const ss = all.filter((s) => bucketOf(s) === b);
  if (ss.length === 0) return;
  const col = (m) => fmt(ss.map((s) => m.get(s)));
  console.log(`${label(b, i).padEnd(14)} ${String(ss.length).padStart(4)} | ${col(first)} | ${col(inline)} | ${col(trip)} | ${fmt(ss.map((s) => trip.get(s) - inline.get(s)))} | ${col(mainCost)}`);
});

// transport alone: a blank string is answered by the worker's lexer at once
const blank = [];
for (let i = 0; i < 2000; i++) {
  const t = performance.now();
  await pool.analyze(' ');
  blank.push(performance.now() - t);
}
console.log(`\nworker round trip of a blank string: median ${us(median(blank))} µs`);

// 3. throughput with many sessions at once (64 concurrent), pool (all to workers) vs inline
async function burst(label, analyzeOne) {
  const jobs = [];
  for (let p = 0; p < 5; p++) jobs.push(...all);
  let i = 0;
  const e0 = performance.eventLoopUtilization();
  const t = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (i < jobs.length) await analyzeOne(jobs[i++]);
    }),
  );
  const ms = performance.now() - t;
  const e = performance.eventLoopUtilization(e0);
  console.log(`${label.padEnd(52)} ${((jobs.length / ms) * 1000).toFixed(0).padStart(6)} statements/s, main thread busy ${(e.utilization * 100).toFixed(0)}%`);
}
await burst('64 concurrent, all through 2 workers', (s) => pool.analyze(s));
await pool.close();
const mixed = new MysqlAnalysisPool({ inlineMaxChars: 64 });
await mixed.ready();
// each worker has its own prediction caches: warm them as the first pool's were
for (let w = 0; w < 3; w++) await Promise.all(all.map((s) => mixed.analyze(s)));
await burst(`64 concurrent, inline ≤ 64 chars, the rest to workers`, (s) => mixed.analyze(s));
console.log('mixed pool:', JSON.stringify(mixed.stats()));
await mixed.close();
await burst('64 concurrent, all inline (no pool)', async (s) => analyzeMysql(s));
