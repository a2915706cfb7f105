import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StatementKind } from '../facts.js';
import { analyzePostgres, initPostgresAnalyzer, stopPostgresAnalyzer } from './analyze-postgres.js';
import { flatten, repoRoot } from './analysis.test.helpers.js';

const corpusFile = join(repoRoot(), '..', 'shared', 'corpus', 'pg-benign.mjs');
const present = existsSync(corpusFile);
if (!present) console.warn(`pg corpus not found at ${corpusFile}: corpus tests skipped (CI clones shared/ beside main)`);

let corpus: [string, string][] = [];

beforeAll(async () => {
  await initPostgresAnalyzer();
  if (present) corpus = ((await import(pathToFileURL(corpusFile).href)) as { pgCorpus: [string, string][] }).pgCorpus;
});
afterAll(() => stopPostgresAnalyzer());

(present ? describe : describe.skip)('the benign Postgres corpus', () => {
  test('every statement analyses', () => {
    expect(corpus.length).toBeGreaterThan(300);
    const failures = corpus
      .map(([category, sql]) => ({ category, sql, a: analyzePostgres(sql) }))
      .filter((x) => !x.a.ok)
      .map((x) => `${x.category}: ${x.sql.slice(0, 120)} → ${JSON.stringify(!x.a.ok && x.a.failure)}`);
    if (failures.length) console.warn(`corpus failures:\n${failures.join('\n')}`);
    expect(failures).toEqual([]);
  });

  test('no statement is "other", every fingerprint computes', () => {
    for (const [, sql] of corpus) {
      const a = analyzePostgres(sql);
      if (!a.ok) continue;
      for (const s of flatten(a.statements)) expect([sql, s.kind]).not.toEqual([sql, 'other']);
      expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  test('what is flagged destructive is really destructive', () => {
    const destructive = new Set<StatementKind>(['drop_table', 'drop_index', 'drop_view', 'drop_schema', 'drop_database', 'drop_function', 'drop_role', 'drop_other', 'truncate']);
    const flagged: string[] = [];
    for (const [, sql] of corpus) {
      const a = analyzePostgres(sql);
      if (!a.ok) continue;
      const all = flatten(a.statements);
      if (all.some((s) => s.unboundedWrite || s.opaqueBodies.length > 0 || destructive.has(s.kind))) flagged.push(sql);
    }
    // unbounded writes in the corpus are the truncates, the DO block that drops tables, and one UPDATE without WHERE
    for (const sql of flagged) expect(sql).toMatch(/^(truncate|drop|DROP|TRUNCATE|DO |UPDATE t SET \(a, b\))/i);
  });
});
