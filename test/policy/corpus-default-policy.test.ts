/**
 * Every statement of the shared benign corpora (../shared/corpus/pg-benign.mjs and mysql-benign.mjs,
 * cloned beside main in CI) is analysed and ALLOWED by the shipped policies/default.yaml, except the
 * statements listed below, each denied by the rule named beside it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatPolicyIssue, loadPolicyDir, patternFingerprint, PolicyDecider, type JudgedMessage, type Principal } from '@sqlwarden/policy';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const corpusDir = join(repoRoot, '..', 'shared', 'corpus');

// @sqlwarden/sql is not a dependency of the test project: load the very module the server uses.
type AnalyzeFn = Parameters<typeof patternFingerprint>[2];
type Dialect = Parameters<AnalyzeFn>[0];
interface SqlModule {
  analyze: AnalyzeFn;
  analyzeMysql(text: string, opts: { parseTimeoutMs: number; totalTimeoutMs: number }): ReturnType<AnalyzeFn>;
  initAnalyzers(): Promise<void>;
  stopPostgresAnalyzer(): Promise<void>;
  AnalysisCache: new (analyze: AnalyzeFn) => ConstructorParameters<typeof PolicyDecider>[1];
}
const sqlEntry = createRequire(join(repoRoot, 'packages', 'server', 'package.json')).resolve('@sqlwarden/sql');
const sql = (await import(pathToFileURL(sqlEntry).href)) as SqlModule;

type Entry = [category: string, sql: string];
const pgFile = join(corpusDir, 'pg-benign.mjs');
const myFile = join(corpusDir, 'mysql-benign.mjs');
const present = existsSync(pgFile) && existsSync(myFile);
const pgMod = present ? ((await import(pathToFileURL(pgFile).href)) as { pgCorpus: Entry[]; pgLong: string }) : { pgCorpus: [], pgLong: '' };
const myMod = present ? ((await import(pathToFileURL(myFile).href)) as { mysqlCorpus: Entry[]; mysqlLong: string }) : { mysqlCorpus: [], mysqlLong: '' };
const pgCorpus: Entry[] = [...pgMod.pgCorpus, ...(pgMod.pgLong ? [['long', pgMod.pgLong] as Entry] : [])];
const mysqlCorpus: Entry[] = [...myMod.mysqlCorpus, ...(myMod.mysqlLong ? [['long', myMod.mysqlLong] as Entry] : [])];

/**
 * The corpus statements the default policy denies, and the rule that must deny each (a list when
 * more than one rule matches and either may decide).
 */
const PG_DENIED = new Map<string, string | string[]>([
  // really destructive: drops and truncates
  ['drop table if exists pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers', 'no-drop-or-truncate'],
  ['truncate table pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers', 'no-drop-or-truncate'],
  ['DROP INDEX IF EXISTS idx_orders_user_id', 'no-drop-or-truncate'],
  ['DROP INDEX CONCURRENTLY IF EXISTS public.idx_orders_user_id', 'no-drop-or-truncate'],
  ['DROP TABLE IF EXISTS "public"."_prisma_migrations" CASCADE', 'no-drop-or-truncate'],
  ['TRUNCATE TABLE sessions RESTART IDENTITY CASCADE', 'no-drop-or-truncate'],
  ['DROP MATERIALIZED VIEW IF EXISTS mv_sales', 'no-drop-or-truncate'],
  ['DROP SCHEMA analytics CASCADE', 'no-drop-or-truncate'],
  ['DROP TRIGGER IF EXISTS trg_users_updated ON users', 'no-drop-or-truncate'],
  ['DROP DATABASE IF EXISTS olddb WITH (FORCE)', 'no-drop-or-truncate'],
  ['DROP FUNCTION IF EXISTS set_updated_at() CASCADE', 'no-drop-or-truncate'],
  ['DROP ROLE IF EXISTS readonly', 'no-drop-or-truncate'],
  // really destructive: an UPDATE without WHERE rewrites every row of t
  ['UPDATE t SET (a, b) = (SELECT x, y FROM s WHERE s.id = t.id)', 'no-unbounded-writes'],
  // really destructive: a DO block that drops every table through dynamic SQL (opaque to sqlwarden)
  [
    "DO LANGUAGE plpgsql $body$ DECLARE r record; BEGIN FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(r.tablename) || ' CASCADE'; END LOOP; END $body$",
    'opaque-body',
  ],
  // ends other sessions
  ["SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()", 'no-server-admin-functions'],
  // runs a shell command on the server / reads or writes server files
  ["COPY users FROM PROGRAM 'curl -s https://example.com/u.csv' WITH (FORMAT csv)", 'no-copy-program'],
  ["COPY (SELECT * FROM users WHERE active) TO '/tmp/users.csv' WITH CSV HEADER", 'no-server-file-copy'],
  // rewrites the server configuration
  ["ALTER SYSTEM SET work_mem = '64MB'", 'no-alter-system'],
  // by policy: extensions and libraries run code inside the server
  ['CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public', 'no-extensions-or-libraries'],
  ['CREATE EXTENSION IF NOT EXISTS pgcrypto', 'no-extensions-or-libraries'],
  ["LOAD 'auto_explain'", 'no-extensions-or-libraries'],
  // by policy: roles and privileges are managed by people
  ['GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO app_rw', 'no-privilege-changes'],
  ['REVOKE ALL PRIVILEGES ON DATABASE appdb FROM PUBLIC', 'no-privilege-changes'],
  ['ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO readonly', 'no-privilege-changes'],
  ['GRANT USAGE ON SCHEMA analytics TO analyst WITH GRANT OPTION', 'no-privilege-changes'],
  ['GRANT app_rw TO alice', 'no-privilege-changes'],
  ['REVOKE INSERT ON users FROM app_ro CASCADE', 'no-privilege-changes'],
  ["CREATE ROLE readonly WITH LOGIN PASSWORD 'secret' VALID UNTIL '2030-01-01'", 'no-privilege-changes'],
  ['ALTER ROLE app SET search_path TO app, public', 'no-privilege-changes'],
  // by policy: settings that change where names resolve or who the session is (an empty search_path,
  // as pg_dump sets it, and a function's SET search_path = public are allowed)
  ['SET search_path TO myschema, public', 'no-search-path-changes'],
  ['RESET ALL', 'no-session-identity-changes'], // resets search_path, application_name, ... (names unknown: the first settings rule decides)
  ['SET ROLE app_admin', 'no-session-identity-changes'],
  ['RESET ROLE', 'no-session-identity-changes'],
  ['SET SESSION AUTHORIZATION DEFAULT', 'no-session-identity-changes'],
  ["SET application_name = 'PostgreSQL JDBC Driver'", 'no-session-identity-changes'],
  // by policy: a role's default settings are changed by people, not agents
  ['ALTER ROLE app SET search_path TO app, public', 'no-server-wide-settings'],
]);

const MYSQL_DENIED = new Map<string, string | string[]>([
  // really destructive
  ['DROP TABLE IF EXISTS `users`;', 'no-drop-or-truncate'],
  ['TRUNCATE TABLE sessions', 'no-drop-or-truncate'],
  ['DROP INDEX idx_email ON users', 'no-drop-or-truncate'],
  ['DROP DATABASE IF EXISTS olddb', 'no-drop-or-truncate'],
  ["DROP USER IF EXISTS 'app'@'%'", 'no-drop-or-truncate'],
  ['UPDATE LOW_PRIORITY t SET a = 1', 'no-unbounded-writes'],
  // by policy: server-wide settings and server administration are not for agents
  ["SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5';", 'no-server-wide-settings'],
  ['SET GLOBAL max_connections = 500', 'no-server-wide-settings'],
  ['SET PERSIST innodb_buffer_pool_size = 1073741824', 'no-server-wide-settings'],
  ['KILL 12345', 'no-unclassified-statements'],
  ['KILL QUERY 12345', 'no-unclassified-statements'],
  ['FLUSH PRIVILEGES', 'no-unclassified-statements'],

  // reads or writes files on the database server
  ["SELECT LOAD_FILE('/etc/passwd')", 'no-server-admin-functions'],
  ["SELECT * INTO OUTFILE '/tmp/out.csv' FIELDS TERMINATED BY ',' FROM users", ['no-server-file-copy', 'no-select-into-file']],
  ["SELECT id, email FROM users INTO OUTFILE '/tmp/out2.csv'", ['no-server-file-copy', 'no-select-into-file']],
  // by policy: a client file is loaded only for agents `mysql.local_infile` lists (the shipped policy lists none)
  [
    "LOAD DATA LOCAL INFILE '/tmp/users.csv' INTO TABLE users FIELDS TERMINATED BY ',' ENCLOSED BY '\"' LINES TERMINATED BY '\\n' IGNORE 1 LINES (id, email, name)",
    'mysql-local-infile',
  ],
  // by policy: roles and privileges are managed by people
  ["CREATE USER 'app'@'%' IDENTIFIED BY 'secret'", 'no-privilege-changes'],
  ["GRANT SELECT, INSERT ON appdb.* TO 'app'@'%'", 'no-privilege-changes'],
  ["REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'app'@'%'", 'no-privilege-changes'],
  ["ALTER USER 'root'@'localhost' IDENTIFIED WITH mysql_native_password BY 'pw'", 'no-privilege-changes'],
  // by policy: a character set or SQL mode sqlwarden cannot see (a variable, an expression) could be one
  // that changes how the server reads statements (SET NAMES utf8mb4, constant safe sql_mode lists and
  // character_set_results = NULL are allowed)
  ["SET sql_mode = CONCAT(@@sql_mode, ',STRICT_TRANS_TABLES')", 'no-unsafe-sql-mode'],
  ['/*!40101 SET character_set_client = @saved_cs_client */;', 'no-unsafe-mysql-charset'],
  [
    "SET  @@SESSION.sql_mode = CONCAT(CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), ',NO_AUTO_VALUE_ON_ZERO'),  @@SESSION.sql_auto_is_null = 0, @@SESSION.wait_timeout = 2147483",
    'no-unsafe-sql-mode',
  ],
]);

/**
 * KNOWN BUG: benign corpus statements that are denied today (each test is `it.failing`; remove the entry
 * when fixed). See the report of the policy suites for the reproduction.
 */
const MYSQL_KNOWN_BUGS = new Map<string, string>([]);

const who: Principal = Object.freeze({ agent: 'corpus-agent', labels: {}, target: 'app', credentialId: 'c', user: 'u', sessionId: 's' });
let decider: PolicyDecider;

beforeAll(async () => {
  await sql.initAnalyzers();
  const r = loadPolicyDir(join(repoRoot, 'policies'), { fingerprint: (d, text) => patternFingerprint(d, text, sql.analyze) });
  if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
  // generous parse time limits: under a loaded CI machine the long corpus statements must not time out (coverage, not speed, is tested here)
  const patient: AnalyzeFn = (d, text) => (d === 'mysql' ? sql.analyzeMysql(text, { parseTimeoutMs: 60_000, totalTimeoutMs: 60_000 }) : sql.analyze(d, text));
  decider = new PolicyDecider(r.policy, new sql.AnalysisCache(patient));
});

// the worker that analyses large statements must not outlive the suite
afterAll(() => sql.stopPostgresAnalyzer());

function judge(dialect: Dialect, text: string): JudgedMessage {
  return decider.judgeMessage({ dialect, carrier: 'query', sql: text }, who);
}

function describeDecision(j: JudgedMessage): string {
  if (!j.analysis.ok) return `not analysed: ${JSON.stringify(j.analysis.failure)}`;
  return j.decision.kind === 'allow' ? 'allow' : `${j.decision.kind}:${j.decision.ruleId} (${j.decision.reason})`;
}

function checkEntry(dialect: Dialect, text: string, denied: Map<string, string | string[]>): void {
  const j = judge(dialect, text);
  expect(j.analysis.ok ? 'analysed' : describeDecision(j)).toBe('analysed');
  const rule = denied.get(text);
  if (rule === undefined) {
    expect(describeDecision(j)).toBe('allow');
    return;
  }
  expect(j.decision.kind).toBe('deny');
  const ruleId = j.decision.kind === 'deny' ? j.decision.ruleId : '';
  expect(Array.isArray(rule) ? rule : [rule]).toContain(ruleId);
}

const label = (entries: Entry[]): [string, string, string][] =>
  entries.map(([category, text], i) => [`#${i} ${category}`, text.replace(/\s+/g, ' ').slice(0, 90), text]);

describe('the shared corpora', () => {
  it('are present beside the clone (CI clones shared/ next to main)', () => {
    expect({ pg: existsSync(pgFile), mysql: existsSync(myFile), dir: corpusDir }).toEqual({ pg: true, mysql: true, dir: corpusDir });
    expect(pgCorpus.length).toBeGreaterThan(300);
    expect(mysqlCorpus.length).toBeGreaterThan(200);
  });

  it('every statement named in the denied lists is in the corpus (the lists stay honest)', () => {
    const pgTexts = new Set(pgCorpus.map((e) => e[1]));
    const myTexts = new Set(mysqlCorpus.map((e) => e[1]));
    expect([...PG_DENIED.keys()].filter((k) => !pgTexts.has(k))).toEqual([]);
    expect([...MYSQL_DENIED.keys(), ...MYSQL_KNOWN_BUGS.keys()].filter((k) => !myTexts.has(k))).toEqual([]);
  });
});

describe('the Postgres corpus under policies/default.yaml', () => {
  it.each(label(pgCorpus))('%s: %s', (_n, _short, text) => {
    checkEntry('postgres', text, PG_DENIED);
  });
});

describe('the MySQL corpus under policies/default.yaml', () => {
  it.each(label(mysqlCorpus).filter(([, , text]) => !MYSQL_KNOWN_BUGS.has(text)))('%s: %s', (_n, _short, text) => {
    checkEntry('mysql', text, MYSQL_DENIED);
  });

  // KNOWN BUG: see MYSQL_KNOWN_BUGS
  it.failing.each([...MYSQL_KNOWN_BUGS].map(([text, why]) => [why, text]))('KNOWN BUG (%s): %s', (_why, text) => {
    checkEntry('mysql', text, MYSQL_DENIED);
  });
});
