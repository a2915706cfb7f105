/**
 * Every statement of the shared MySQL corpus (../shared/corpus/mysql-benign.mjs) either gets lineage or
 * fails closed (both fields absent) without throwing; every SELECT gets output columns.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StatementFacts } from '../facts.js';
import { analyzeMysql, initMysqlAnalyzer } from './analyze.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const corpusFile = join(repoRoot, '..', 'shared', 'corpus', 'mysql-benign.mjs');
const PATIENT = { parseTimeoutMs: 60_000, totalTimeoutMs: 60_000 };

const flatten = (ss: StatementFacts[]): StatementFacts[] => ss.flatMap((s) => [s, ...flatten(s.nested)]);

(existsSync(corpusFile) ? describe : describe.skip)('lineage over the MySQL corpus', () => {
  let corpus: [string, string][] = [];
  beforeAll(async () => {
    await initMysqlAnalyzer();
    const mod = (await import(pathToFileURL(corpusFile).href)) as { mysqlCorpus: [string, string][]; mysqlLong: string };
    corpus = [...mod.mysqlCorpus, ['long', mod.mysqlLong]];
  });

  test('every SELECT returning rows gets output columns; every statement gets predicate columns', () => {
    let selects = 0;
    const missing: string[] = [];
    for (const [, sql] of corpus) {
      const a = analyzeMysql(sql, PATIENT);
      if (!a.ok) continue;
      for (const s of flatten(a.statements)) {
        // a routine's loose expressions (RETURN, IF conditions) are a synthetic statement without
        // lineage: their predicates fall back to every column of the tables they read (fail closed)
        if (s.predicateColumns === undefined && s.nodeType !== 'routineExpressions') missing.push(`predicates: ${sql.slice(0, 100)}`);
        if (s.kind === 'select' && s.nodeType === 'selectStatement' && !/\bINTO\b/i.test(sql)) {
          selects++;
          if (!s.outputColumns?.length) missing.push(`outputs: ${sql.slice(0, 100)}`);
        }
      }
    }
    expect(selects).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });

  test('uncertain outputs are ambiguous ones, user variables, or the grammar reading X\'..\' as a column', () => {
    const uncertain: string[] = [];
    for (const [, sql] of corpus) {
      const a = analyzeMysql(sql, PATIENT);
      if (!a.ok) continue;
      for (const s of a.statements) {
        for (const c of s.outputColumns ?? []) {
          if (c.certain || c.ambiguous) continue;
          const why = c.uncertain ?? [];
          if (why.every((w) => w.startsWith('user variable') || w === 'column "X" not found in any table in scope')) continue;
          uncertain.push(`${c.name} in ${sql.slice(0, 100)}: ${why.join('; ')}`);
        }
      }
    }
    expect(uncertain).toEqual([]);
  });
});
