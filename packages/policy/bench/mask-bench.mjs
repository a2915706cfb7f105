// Masking hot-path benchmark: masked values per second for each mask function (text and typed
// columns, Postgres binary format), and detector scan throughput in MB/s on mixed values.
//
//   npx tsc -b packages/policy && node packages/policy/bench/mask-bench.mjs [--seconds 1]
//
// Values come from the seeded precision corpus (25 categories of ordinary data) with 5% PII mixed in,
// as UTF-8 Buffers the way DataRow fields arrive.
import { createHmac } from 'node:crypto';
import { DETECTORS } from '../dist/model.js';
import {
  ALL_DETECTORS,
  HmacSha256,
  compileMask,
  compilePgBinaryMask,
  containsPII,
  detectorSet,
  encodePgBinary,
  redactSpansBuffer,
} from '../dist/masking/index.js';
import { nonPiiSample, piiSample } from '../dist/masking/precision-corpus.js';

const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 1;
const KEY = 'bench-key-0123456789abcdef0123';

// TypeHint values (a const enum in TypeScript, so not present at runtime)
const H = { Text: 0, Int4: 4, Int8: 5, Numeric: 7, Float8: 9, Date: 11, Timestamp: 12, TimestampTz: 13, Uuid: 17, Jsonb: 19 };

const ordinary = nonPiiSample(19000).map((v) => v.value);
const pii = piiSample(77).map((v) => v.value); // 13 × 77 ≈ 1000 values, ~5%
const mixed = [];
for (let i = 0, p = 0; i < ordinary.length; i++) {
  mixed.push(ordinary[i]);
  if (i % 19 === 0 && p < pii.length) mixed.push(pii[p++]);
}
const mixedBuffers = mixed.map((s) => Buffer.from(s, 'utf8'));
const mixedBytes = mixedBuffers.reduce((n, b) => n + b.length, 0);
const avgBytes = mixedBytes / mixedBuffers.length;

/** Runs `fn(i)` over and over for ~SECONDS; returns calls per second. */
function rate(fn, n) {
  for (let i = 0; i < Math.min(n, 20000); i++) fn(i % n); // warm up
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(SECONDS * 1e9));
  let elapsed = 0n;
  let sink = 0;
  while (elapsed < budget) {
    for (let i = 0; i < n; i++) {
      const r = fn(i);
      if (r !== null && r !== false) sink++;
    }
    calls += n;
    elapsed = process.hrtime.bigint() - start;
  }
  if (sink < 0) console.log(sink);
  return calls / (Number(elapsed) / 1e9);
}

const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);
const rows = [];
function report(name, perSec, bytesPerCall) {
  const mbs = bytesPerCall ? ((perSec * bytesPerCall) / 1e6).toFixed(0) : '';
  rows.push([name, `${fmt(perSec)}/s`, mbs ? `${mbs} MB/s` : '']);
}

// ─── mask functions, text format ───
const textValues = mixedBuffers;
for (const fn of ['redact', 'partial', 'email', 'hash', 'null']) {
  const m = compileMask(fn, H.Text, { hashKey: KEY, keepLast: 4 });
  report(`text ${fn}`, rate((i) => m(textValues[i]), textValues.length));
}

// typed columns
const typed = {
  Int4: ordinary.map((_, i) => String((i * 2654435761) % 2147483647)),
  Int8: ordinary.map((_, i) => String(BigInt(i) * 9007199254740993n)),
  Numeric: ordinary.map((_, i) => `${i * 37}.${String(i % 100).padStart(2, '0')}`),
  Date: ordinary.map((_, i) => new Date(Date.UTC(1950, 0, 1) + i * 86400000 * 3).toISOString().slice(0, 10)),
  TimestampTz: ordinary.map((_, i) => `${new Date(Date.UTC(2020, 0, 1) + i * 3723000).toISOString().replace('T', ' ').slice(0, 23)}+00`),
  Uuid: ordinary.map((_, i) => `${i.toString(16).padStart(8, '0')}-e29b-41d4-a716-446655440000`),
};
for (const [hintName, values] of Object.entries(typed)) {
  const bufs = values.map((s) => Buffer.from(s));
  for (const fn of ['partial', 'hash']) {
    const m = compileMask(fn, H[hintName], { hashKey: KEY, keepFirst: 4 });
    report(`${hintName.toLowerCase()} ${fn}`, rate((i) => m(bufs[i]), bufs.length));
  }
}

// Postgres binary format
for (const [hintName, values] of Object.entries({ Int4: typed.Int4, Date: typed.Date, Uuid: typed.Uuid })) {
  const bins = values.map((s) => encodePgBinary(H[hintName], s));
  for (const fn of ['redact', 'hash']) {
    const m = compilePgBinaryMask(fn, H[hintName], { hashKey: KEY });
    report(`binary ${hintName.toLowerCase()} ${fn}`, rate((i) => m(bins[i]), bins.length));
  }
}

// the HMAC choice: ours against node:crypto on the same values
const ours = new HmacSha256(KEY);
const out = Buffer.alloc(32);
report('hmac (ours, JS, precomputed key)', rate((i) => ours.digestInto(textValues[i], 0, textValues[i].length, out), textValues.length), avgBytes);
report('hmac (node:crypto createHmac)', rate((i) => createHmac('sha256', KEY).update(textValues[i]).digest(), textValues.length), avgBytes);

// ─── detectors ───
report('containsPII, all detectors (Buffer)', rate((i) => containsPII(mixedBuffers[i], ALL_DETECTORS), mixedBuffers.length), avgBytes);
report('containsPII, all detectors (string)', rate((i) => containsPII(mixed[i], ALL_DETECTORS), mixed.length), avgBytes);
report('redactSpansBuffer, all detectors', rate((i) => redactSpansBuffer(mixedBuffers[i], ALL_DETECTORS), mixedBuffers.length), avgBytes);
const ordinaryBuffers = ordinary.map((s) => Buffer.from(s));
const ordinaryAvg = ordinaryBuffers.reduce((n, b) => n + b.length, 0) / ordinaryBuffers.length;
report('containsPII, all detectors, no PII at all', rate((i) => containsPII(ordinaryBuffers[i], ALL_DETECTORS), ordinaryBuffers.length), ordinaryAvg);
const sets = Object.fromEntries(DETECTORS.map((d) => [d, detectorSet([d])]));
for (const d of DETECTORS) report(`  containsPII [${d}]`, rate((i) => containsPII(mixedBuffers[i], sets[d]), mixedBuffers.length), avgBytes);
// long values: a 64 KiB text made of the corpus
const long = Buffer.from(mixed.slice(0, 2000).join(' ').slice(0, 65536));
report('containsPII, 64 KiB value (one hit early)', rate(() => containsPII(long, ALL_DETECTORS), 1), long.length);
const longClean = Buffer.from(ordinary.slice(0, 2000).join(' ').slice(0, 65536));
const cleanHits = containsPII(longClean, ALL_DETECTORS);
report(`redactSpansBuffer, 64 KiB ordinary text (${cleanHits ? 'has findings' : 'clean'})`, rate(() => redactSpansBuffer(longClean, ALL_DETECTORS), 1), longClean.length);

console.log(`node ${process.version}, ${mixedBuffers.length} mixed values (${(pii.length / mixedBuffers.length * 100).toFixed(1)}% PII), avg ${avgBytes.toFixed(1)} bytes, ${SECONDS}s per case\n`);
const w0 = Math.max(...rows.map((r) => r[0].length));
for (const [n, r, m] of rows) console.log(`${n.padEnd(w0)}  ${r.padStart(10)}  ${m.padStart(10)}`);
