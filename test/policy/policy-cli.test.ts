/**
 * The built `sqlwarden policy` CLI, run as a DBA runs it (node packages/server/bin/sqlwarden.js from the
 * repository root): lint, explain (text and --json, both dialects), test (exit code for CI), and the
 * shipped case table policies/tests/default.test.yaml.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllCli, runCli, type CliResult } from '../helpers/run-cli.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(repoRoot, 'packages', 'server', 'bin', 'sqlwarden.js');

function sqlwarden(...args: string[]): Promise<CliResult> {
  return runCli(process.execPath, [BIN, ...args], { cwd: repoRoot, timeoutMs: 90_000 });
}

interface JsonStatement {
  path: string;
  outcome: string;
  decidedBy: string;
  matched: string[];
  facts: { kind: string; tablesWritten: { name: string; schema?: string }[]; unboundedWrite: boolean; settings: { name: string; value?: string }[] };
}
interface JsonExplain {
  decision: { kind: string; ruleId?: string; reason?: string; timeoutMs?: number };
  statements: JsonStatement[];
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Every CLI run of the suite. Each run loads both SQL parsers (a few seconds of CPU), so they are
 * started together in beforeAll, a few at a time, and the tests read their results.
 */
const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-policy-cli-'));
const BROKEN = join(dir, 'broken');
const FROM_CONFIG = join(dir, 'fromconfig');
const CONFIG = join(dir, 'sqlwarden.yaml');
const REVIEW = join(dir, 'review');
const STRICT = join(dir, 'strict');
const PASSING = join(dir, 'passing.yaml');
const FAILING = join(dir, 'failing.yaml');
const MALFORMED = join(dir, 'malformed.yaml');

function writeFixtures(): void {
  mkdirSync(BROKEN);
  writeFileSync(join(BROKEN, 'a.yaml'), 'version: 1\nrules:\n  - id: typo\n    match:\n      kinds: [drop_tabel]\n    action: deny\n');
  writeFileSync(join(BROKEN, 'b.yaml'), 'version: 1\nrules:\n  - id: loud\n    match: { kinds: [select] }\n    action: block\n  - id: typo\n    match: { tabels: [x] }\n    action: deny\n');
  mkdirSync(FROM_CONFIG);
  writeFileSync(join(FROM_CONFIG, 'p.yaml'), 'version: 1\nrules:\n  - id: x\n    match: { where: bounded }\n    action: deny\n');
  writeFileSync(CONFIG, `targets:\n  - name: app\n    protocol: postgres\n    host: 127.0.0.1\n    database: app\n    user: app\npolicies: ${FROM_CONFIG}\n`);
  mkdirSync(REVIEW);
  writeFileSync(
    join(REVIEW, 'p.yaml'),
    'version: 1\nrules:\n  - id: prod-migrations\n    match: { kinds: [alter_table], agents: ["migrator-*"], labels: { env: "prod*" }, targets: [app] }\n    action: review\n    timeout: 2m\n    message: a DBA approves schema changes in production\n',
  );
  mkdirSync(STRICT);
  writeFileSync(join(STRICT, 'p.yaml'), 'version: 1\ndefaults: { action: deny }\nrules:\n  - id: reads\n    match: { access: read }\n    action: allow\n');
  writeFileSync(PASSING, 'cases:\n  - sql: SELECT * FROM t\n    expect: allow\n  - sql: INSERT INTO t VALUES (1)\n    dialect: mysql\n    expect: deny\n    rule: default\n');
  writeFileSync(
    FAILING,
    'cases:\n  - sql: SELECT 1\n    expect: allow\n  - sql: DROP TABLE t\n    name: drops are fine (they are not)\n    expect: allow\n  - sql: DELETE FROM t\n    expect: deny\n    rule: no-drop-or-truncate\n',
  );
  writeFileSync(MALFORMED, 'cases:\n  - sql: select 1\n    expect: maybe\n');
}

const RUNS = {
  lintDefault: ['policy', 'lint'],
  lintBroken: ['policy', 'lint', BROKEN],
  lintConfig: ['policy', 'lint', '-c', CONFIG],
  explainPg: ['policy', 'explain', '--dialect', 'postgres', '--agent', 'bot-1', 'select lower(email) from users; DELETE FROM public.orders WHERE 1=1'],
  explainPgJson: ['policy', 'explain', '--json', '--dialect', 'postgres', 'with x as (delete from orders returning *) select * from x'],
  explainMysql: ['policy', 'explain', '--dialect', 'mysql', 'SET NAMES gbk'],
  explainMysqlJson: ['policy', 'explain', '--json', '--dialect', 'mysql', "SET @@session.sql_mode = 'ANSI_QUOTES'"],
  explainParseError: ['policy', 'explain', 'selec 1'],
  explainReview: ['policy', 'explain', '--policies', REVIEW, '--agent', 'migrator-1', '--label', 'env=production', '--target', 'app', 'ALTER TABLE orders ADD COLUMN note text'],
  explainUsage: ['policy', 'explain', '--dialect', 'oracle', 'select 1'],
  testDefault: ['policy', 'test', 'policies/tests/default.test.yaml'],
  testPassing: ['policy', 'test', '--policies', STRICT, PASSING],
  testFailing: ['policy', 'test', FAILING],
  testMalformed: ['policy', 'test', MALFORMED],
} as const;

const results = new Map<keyof typeof RUNS, CliResult>();
const run = (name: keyof typeof RUNS): CliResult => {
  const r = results.get(name);
  if (!r) throw new Error(`no result for ${name}`);
  return r;
};

describe('sqlwarden policy (the built CLI)', () => {
  beforeAll(async () => {
    writeFixtures();
    const queue = Object.keys(RUNS) as (keyof typeof RUNS)[];
    const worker = async (): Promise<void> => {
      for (let name = queue.shift(); name; name = queue.shift()) results.set(name, await sqlwarden(...RUNS[name]));
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  }, 180_000);

  afterAll(() => {
    killAllCli();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('lint', () => {
    it('passes on the shipped policies (the default ./policies) with exit 0', () => {
      const r = run('lintDefault');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^ok: \\d+ rules and \\d+ masks in 1 file\\(s\\) under ${esc(join(repoRoot, 'policies'))}; defaults: allow\\n$`));
    });

    it('fails with exit 1 and "file:line: key: message" for every problem of a broken directory', () => {
      const r = run('lintBroken');
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([
        `sqlwarden: ${join(BROKEN, 'a.yaml')}:5: rules[0].match.kinds: "drop_tabel" matches no statement kind; did you mean "drop_table"?`,
        expect.stringMatching(new RegExp(`^sqlwarden: ${esc(join(BROKEN, 'b.yaml'))}:5: rules\\[0\\]\\.action: must be one of allow, deny, review`)),
        // rule ids are unique across files
        `sqlwarden: ${join(BROKEN, 'b.yaml')}:6: rules[1]: duplicate rule id "typo" (also in a.yaml)`,
        expect.stringMatching(new RegExp(`^sqlwarden: ${esc(join(BROKEN, 'b.yaml'))}:7: rules\\[1\\]\\.match\\.tabels: unknown key; did you mean "tables"\\?`)),
      ]);
    });

    it('takes the directory from -c sqlwarden.yaml', () => {
      const r = run('lintConfig');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`sqlwarden: ${join(FROM_CONFIG, 'p.yaml')}:4: rules[0].match.where: must be one of unbounded`);
    });
  });

  describe('explain', () => {
    it('prints the decision, the rule and the facts of each statement (Postgres)', () => {
      const r = run('explainPg');
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n')[0]).toMatch(/^decision: deny by rule "no-unbounded-writes": UPDATE and DELETE need a WHERE clause .* \(statement 2: delete\)$/);
      expect(r.stdout).toContain('\nstatement 1: allow (default)\n  kind select (SelectStmt)\n  reads users\n  calls lower\n');
      expect(r.stdout).toContain('\nstatement 2: deny (no-unbounded-writes); matched no-unbounded-writes\n  kind delete (DeleteStmt)\n  writes public.orders\n  WHERE: unbounded\n');
    });

    it('prints MySQL facts (--dialect mysql)', () => {
      const r = run('explainMysql');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^decision: deny by rule "no-unsafe-mysql-charset": /);
      expect(r.stdout).toContain('\nstatement 1: deny (no-unsafe-mysql-charset); matched no-unsafe-mysql-charset\n  kind set (');
      expect(r.stdout).toContain('\n  sets names=gbk\n');
    });

    it('says why a statement was not analysed', () => {
      const r = run('explainParseError');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('decision: deny by rule "parse-error": the statement could not be parsed (syntax error at or near "selec"), so it was not run\nanalysis failed: parse_error\n');
    });

    it('--json parses as JSON with decision.kind and the facts, nested statements included (Postgres)', () => {
      const r = run('explainPgJson');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as JsonExplain;
      expect(j.decision).toMatchObject({ kind: 'deny', ruleId: 'no-unbounded-writes' });
      expect(j.statements.map((s) => [s.path, s.facts.kind, s.outcome, s.decidedBy])).toEqual([
        ['1', 'select', 'allow', 'default'],
        ['1.1', 'delete', 'deny', 'no-unbounded-writes'],
      ]);
      expect(j.statements[1]?.facts).toMatchObject({ unboundedWrite: true, tablesWritten: [{ name: 'orders' }] });
    });

    it('--json parses as JSON with decision.kind and the facts (MySQL)', () => {
      const r = run('explainMysqlJson');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as JsonExplain;
      expect(j.decision).toMatchObject({ kind: 'deny', ruleId: 'no-unsafe-sql-mode' });
      expect(j.statements.map((s) => s.facts.kind)).toEqual(['set']);
      expect(j.statements[0]?.facts.settings).toEqual([expect.objectContaining({ name: 'sql_mode', value: expect.stringContaining('ANSI_QUOTES'), constant: expect.stringContaining('ANSI_QUOTES') })]);
    });

    it('judges as the agent, labels and target given, against --policies DIR (a review with its timeout)', () => {
      const r = run('explainReview');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^decision: review by rule "prod-migrations": a DBA approves schema changes in production\nreview timeout: 120s\nstatement 1: review \(prod-migrations\)/);
    });

    it('refuses a usage error with exit 2', () => {
      const r = run('explainUsage');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--dialect must be postgres or mysql, not "oracle"');
    });
  });

  describe('test', () => {
    it('runs the shipped table policies/tests/default.test.yaml (both dialects) with exit 0', () => {
      const r = run('testDefault');
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toContain('FAIL');
      expect(r.code).toBe(0);
      const summary = /(\d+) passed, (\d+) failed\n$/.exec(r.stdout);
      expect(summary?.[2]).toBe('0');
      expect(Number(summary?.[1])).toBeGreaterThanOrEqual(40);
      expect(r.stdout).toContain('MySQL versioned comments are code');
    });

    it('a passing table exits 0 (here against --policies DIR)', () => {
      const r = run('testPassing');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`ok   ${PASSING}:2 SELECT * FROM t\nok   ${PASSING}:4 INSERT INTO t VALUES (1)\n2 passed, 0 failed\n`);
    });

    it('a failing table exits 1 naming file, line, expectation and decision', () => {
      const r = run('testFailing');
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(
        `ok   ${FAILING}:2 SELECT 1\n` +
          `FAIL ${FAILING}:4 drops are fine (they are not): expected allow, got deny (no-drop-or-truncate)\n` +
          `FAIL ${FAILING}:7 DELETE FROM t: expected deny (no-drop-or-truncate), got deny (no-unbounded-writes)\n` +
          '1 passed, 2 failed\n',
      );
    });

    it('a malformed case file exits 1 naming file, line and key', () => {
      const r = run('testMalformed');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`sqlwarden: ${MALFORMED}:3: cases[0].expect: must be one of allow, deny, review`);
    });
  });
});
