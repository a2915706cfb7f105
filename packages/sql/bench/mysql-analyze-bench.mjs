// µs per statement for analyzeMysql over the shared MySQL corpus (uncached: no analysis cache involved).
// Run after `npx tsc -b packages/sql`: node packages/sql/bench/mysql-analyze-bench.mjs
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyzeMysql, initMysqlAnalyzer } from '../dist/index.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { mysqlCorpus, mysqlLong } = await import(pathToFileURL(join(repoRoot, '..', 'shared', 'corpus', 'mysql-benign.mjs')).href);
const stmts = mysqlCorpus.map(([, s]) => s);
let t = performance.now();
await initMysqlAnalyzer();
console.log(`init (grammar load + warm-up): ${(performance.now() - t).toFixed(0)} ms`);
t = performance.now();
for (const s of stmts) analyzeMysql(s);
console.log(`first pass (cold prediction caches): ${(((performance.now() - t) * 1000) / stmts.length).toFixed(0)} µs/statement`);
const rounds = 5;
t = performance.now();
for (let r = 0; r < rounds; r++) for (const s of stmts) analyzeMysql(s);
console.log(`warm: ${(((performance.now() - t) * 1000) / (rounds * stmts.length)).toFixed(0)} µs/statement over ${stmts.length} corpus statements`);
const per = stmts.map((s) => { const t0 = performance.now(); analyzeMysql(s); return performance.now() - t0; }).sort((a, b) => a - b);
console.log(`median ${(per[per.length >> 1] * 1000).toFixed(0)} µs, p95 ${(per[Math.floor(per.length * 0.95)] * 1000).toFixed(0)} µs, max ${(per[per.length - 1] * 1000).toFixed(0)} µs`);
t = performance.now();
for (let r = 0; r < 20; r++) analyzeMysql(mysqlLong);
console.log(`2 KB ORM query (mysqlLong): ${((performance.now() - t) / 20).toFixed(1)} ms`);
const bulk = `INSERT INTO t VALUES ${Array.from({ length: 20000 }, (_, i) => `(${i},'name${i}','x@example.com',NULL)`).join(',')}`;
t = performance.now();
analyzeMysql(bulk, { maxBytes: 4 << 20 });
console.log(`1 MB bulk INSERT (${(bulk.length / 1e6).toFixed(2)} MB): ${(performance.now() - t).toFixed(0)} ms`);
