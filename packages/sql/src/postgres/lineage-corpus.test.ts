import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyzePostgres, initPostgresAnalyzer, stopPostgresAnalyzer } from './analyze-postgres.js';
import { flatten, repoRoot } from './analysis.test.helpers.js';

const corpusFile = join(repoRoot(), '..', 'shared', 'corpus', 'pg-benign.mjs');
const present = existsSync(corpusFile);

let corpus: [string, string][] = [];

beforeAll(async () => {
  await initPostgresAnalyzer();
  if (present) corpus = ((await import(pathToFileURL(corpusFile).href)) as { pgCorpus: [string, string][] }).pgCorpus;
});
afterAll(() => stopPostgresAnalyzer());

(present ? describe : describe.skip)('lineage over the benign Postgres corpus', () => {
  test('every SELECT (and VALUES, TABLE) gets output columns', () => {
    let selects = 0;
    const missing: string[] = [];
    for (const [, sql] of corpus) {
      const a = analyzePostgres(sql);
      if (!a.ok) continue;
      for (const s of a.statements) {
        if (s.nodeType !== 'SelectStmt' || s.kind !== 'select') continue;
        selects++;
        if (!s.outputColumns?.length) missing.push(sql.slice(0, 120));
      }
    }
    expect(selects).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });

  test('every statement, nested ones included, has predicate columns; RETURNING has output columns', () => {
    for (const [, sql] of corpus) {
      const a = analyzePostgres(sql);
      if (!a.ok) continue;
      for (const s of flatten(a.statements)) {
        expect([sql, s.predicateColumns !== undefined]).toEqual([sql, true]);
        if (s.hasReturning && s.nodeType.endsWith('Stmt')) expect([sql, !!s.outputColumns?.length]).toEqual([sql, true]);
      }
    }
  });

  test('few corpus outputs are uncertain, and only for ambiguity (no catalog)', () => {
    const uncertain: string[] = [];
    for (const [, sql] of corpus) {
      const a = analyzePostgres(sql);
      if (!a.ok) continue;
      for (const s of a.statements) for (const c of s.outputColumns ?? []) if (!c.certain && !c.ambiguous) uncertain.push(`${c.name} in ${sql.slice(0, 100)}: ${c.uncertain?.join('; ')}`);
    }
    expect(uncertain).toEqual([]);
  });
});
