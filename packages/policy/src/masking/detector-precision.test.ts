import { DETECTORS, type Detector } from '../model.js';
import { detectedIn, findPII, redactSpans } from './detectors.js';
import { NON_PII_CATEGORIES, nonPiiSample, piiSample } from './precision-corpus.js';

/**
 * Detector precision on ordinary data and recall on generated PII, both from seeded generators
 * (precision-corpus.ts), so the numbers are reproducible. Bounds: at most 0.1% false positives per
 * detector, at least 99% recall.
 */

const PER_CATEGORY = 1000;
const PER_DETECTOR = 1000;
const MAX_FP_RATE = 0.001;
const MIN_RECALL = 0.99;

interface Row {
  detector: Detector;
  falsePositives: number;
  fpRate: number;
  fpByCategory: Record<string, number>;
  fpExamples: string[];
  found: number;
  recall: number;
  missed: string[];
}

function measure(): { rows: Row[]; negatives: number; anyFp: number } {
  const negatives = nonPiiSample(PER_CATEGORY * Object.keys(NON_PII_CATEGORIES).length);
  const positives = piiSample(PER_DETECTOR);
  const rows = new Map<Detector, Row>(
    DETECTORS.map((d) => [d, { detector: d, falsePositives: 0, fpRate: 0, fpByCategory: {}, fpExamples: [], found: 0, recall: 0, missed: [] }]),
  );
  let anyFp = 0;
  for (const { category, value } of negatives) {
    const hits = detectedIn(value);
    if (hits.length > 0) anyFp++;
    for (const d of hits) {
      const row = rows.get(d) as Row;
      row.falsePositives++;
      row.fpByCategory[category] = (row.fpByCategory[category] ?? 0) + 1;
      if (row.fpExamples.length < 3) row.fpExamples.push(findPII(value, [d]).map((s) => value.slice(s.start, s.end)).join(' | '));
    }
  }
  for (const { detector, item, value } of positives) {
    const row = rows.get(detector) as Row;
    // found = the item is gone once that detector's findings are masked
    if (!redactSpans(value, [detector], '\u0000').includes(item)) row.found++;
    else if (row.missed.length < 3) row.missed.push(value);
  }
  for (const row of rows.values()) {
    row.fpRate = row.falsePositives / negatives.length;
    row.recall = row.found / PER_DETECTOR;
  }
  return { rows: [...rows.values()], negatives: negatives.length, anyFp };
}

describe('detector precision and recall', () => {
  const { rows, negatives, anyFp } = measure();

  it('measures on a large enough sample', () => expect(negatives).toBeGreaterThanOrEqual(20000));

  it('prints the table', () => {
    const pct = (x: number, digits: number) => `${(x * 100).toFixed(digits)}%`;
    const lines = [
      `detector precision: ${negatives} non-PII values (${Object.keys(NON_PII_CATEGORIES).length} categories × ${PER_CATEGORY}), ${PER_DETECTOR} PII values per detector`,
      `${'detector'.padEnd(14)} ${'false pos.'.padStart(10)} ${'FP rate'.padStart(8)} ${'recall'.padStart(8)}  FP categories`,
      ...rows.map(
        (r) =>
          `${r.detector.padEnd(14)} ${String(r.falsePositives).padStart(10)} ${pct(r.fpRate, 3).padStart(8)} ${pct(r.recall, 1).padStart(8)}  ${Object.entries(r.fpByCategory)
            .map(([c, n]) => `${c}:${n}`)
            .join(' ')}${r.fpExamples.length ? ` e.g. ${JSON.stringify(r.fpExamples)}` : ''}${r.missed.length ? ` missed e.g. ${JSON.stringify(r.missed)}` : ''}`,
      ),
      `${'any detector'.padEnd(14)} ${String(anyFp).padStart(10)} ${pct(anyFp / negatives, 3).padStart(8)}`,
    ];
    console.log(lines.join('\n'));
  });

  it.each(DETECTORS.map((d) => [d]))(`%s: false-positive rate ≤ ${MAX_FP_RATE * 100}%`, (d) => {
    expect((rows.find((r) => r.detector === d) as Row).fpRate).toBeLessThanOrEqual(MAX_FP_RATE);
  });

  it.each(DETECTORS.map((d) => [d]))(`%s: recall ≥ ${MIN_RECALL * 100}%`, (d) => {
    expect((rows.find((r) => r.detector === d) as Row).recall).toBeGreaterThanOrEqual(MIN_RECALL);
  });
});
