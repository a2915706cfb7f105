/**
 * Every statement of the shared MySQL corpus (../shared/corpus/mysql-benign.mjs, beside the clone) is
 * analysed; the coverage and each statement that fails (with its reason) are reported.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { analyzeMysql, initMysqlAnalyzer } from './analyze.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const corpusFile = join(repoRoot, '..', 'shared', 'corpus', 'mysql-benign.mjs');

/** statements the grammar (MySQL Workbench, 8.0.18 era) does not know: they fail closed */
const KNOWN_UNSUPPORTED = new Set<string>([]);
/** coverage is tested here, not speed: a loaded CI machine must not turn slow parses into failures */
const PATIENT = { parseTimeoutMs: 60_000, totalTimeoutMs: 60_000 };

(existsSync(corpusFile) ? describe : describe.skip)('MySQL corpus coverage', () => {
  let corpus: [string, string][] = [];
  beforeAll(async () => {
    await initMysqlAnalyzer();
    const mod = (await import(pathToFileURL(corpusFile).href)) as { mysqlCorpus: [string, string][]; mysqlLong: string };
    corpus = [...mod.mysqlCorpus, ['long', mod.mysqlLong]];
  });

  test('coverage', () => {
    const failures: string[] = [];
    for (const [tag, sql] of corpus) {
      const r = analyzeMysql(sql, PATIENT);
      if (!r.ok) failures.push(`[${tag}] ${sql.slice(0, 80)} → ${r.failure.kind}: ${'message' in r.failure ? r.failure.message.slice(0, 120) : ''}`);
    }
    const ok = corpus.length - failures.length;
    process.stdout.write(`MySQL corpus: ${ok}/${corpus.length} analysed (${((100 * ok) / corpus.length).toFixed(1)}%)\n${failures.map((f) => `  fails closed: ${f}\n`).join('')}`);
    const unexpected = failures.filter((f) => ![...KNOWN_UNSUPPORTED].some((k) => f.includes(k)));
    expect(unexpected).toEqual([]);
  });

  test('destructive corpus statements are recognised as such', () => {
    const kinds = new Map(corpus.map(([, sql]) => [sql, analyzeMysql(sql, PATIENT)]));
    const kindOf = (sql: string): string | undefined => {
      const r = kinds.get(sql);
      return r?.ok ? r.statements[0]!.kind : undefined;
    };
    expect(kindOf('TRUNCATE TABLE sessions')).toBe('truncate');
    expect(kindOf('DROP DATABASE IF EXISTS olddb')).toBe('drop_database');
    const r = kinds.get('UPDATE LOW_PRIORITY t SET a = 1');
    expect(r?.ok && r.statements[0]!.unboundedWrite).toBe(true);
    const outfile = kinds.get("SELECT id, email FROM users INTO OUTFILE '/tmp/out2.csv'");
    expect(outfile?.ok && outfile.statements[0]!.writesFile).toBe(true);
  });
});
