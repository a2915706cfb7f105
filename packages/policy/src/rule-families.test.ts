/**
 * Table tests for every rule family of the shipped policies/default.yaml, over both dialects, with the
 * real analyzers (libpg-query for Postgres, the Workbench grammar for MySQL) and the real policy file;
 * then table tests for each match feature of the policy language on small inline policies.
 *
 * A row is [sql, dialect, expected, principal?]; expected is "allow", "deny:<rule>" or "review:<rule>".
 * Rows in a KNOWN BUG table are `it.failing`: they state what the policy promises and fail today
 * (they expect any deny, so a fix under another rule id still flips them). Remove `.failing` when fixed.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze, AnalysisCache, initAnalyzers, stopPostgresAnalyzer, type Dialect } from '@sqlwarden/sql';
import type { Principal } from './decision.js';
import { formatPolicyIssue, loadPolicyDir, loadPolicySources } from './load-policies.js';
import type { PolicySet } from './model.js';
import { patternFingerprint } from './pattern-fingerprint.js';
import { PolicyDecider, type JudgedMessage } from './policy-decider.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fingerprint = (d: Dialect, sql: string): string | null => patternFingerprint(d, sql, analyze);

type Who = Partial<Pick<Principal, 'agent' | 'labels' | 'target'>>;
type Row = [sql: string, dialect: Dialect, expected: string, who?: Who];

const pg = (sql: string, expected: string, who?: Who): Row => (who ? [sql, 'postgres', expected, who] : [sql, 'postgres', expected]);
const my = (sql: string, expected: string, who?: Who): Row => (who ? [sql, 'mysql', expected, who] : [sql, 'mysql', expected]);
/** the same text in both dialects */
const both = (sql: string, expected: string, who?: Who): Row[] => [pg(sql, expected, who), my(sql, expected, who)];

function principal(who: Who = {}): Principal {
  // a fresh object per case: PolicyDecider caches the rules per principal object
  return { agent: who.agent ?? 'agent-1', labels: who.labels ?? {}, target: who.target ?? 'app', credentialId: 'cred', user: 'sw_test', sessionId: 'sess' };
}

function verdict(j: JudgedMessage): string {
  const d = j.decision;
  return d.kind === 'allow' ? 'allow' : `${d.kind}:${d.ruleId}`;
}

/** Judges the statement twice (fresh, then from the analysis cache): both answers must agree. */
function judgeTwice(decider: PolicyDecider, sql: string, dialect: Dialect, who?: Who): JudgedMessage {
  const first = decider.judgeMessage({ dialect, carrier: 'query', sql }, principal(who));
  const second = decider.judgeMessage({ dialect, carrier: 'query', sql }, principal(who));
  expect(verdict(second)).toBe(verdict(first));
  return first;
}

/** Checks one row: the statement analysed (unless a parse error is expected), then the decision. */
function check(decider: PolicyDecider, [sql, dialect, expected, who]: Row): JudgedMessage {
  const j = judgeTwice(decider, sql, dialect, who);
  if (expected !== 'deny:parse-error') expect(j.analysis.ok ? 'analysed' : j.analysis.failure).toBe('analysed');
  expect(verdict(j)).toBe(expected);
  return j;
}

/** A KNOWN BUG row: the statement must be denied (by any rule); today it is not. */
function checkDenied(decider: PolicyDecider, [sql, dialect, , who]: Row): void {
  const j = judgeTwice(decider, sql, dialect, who);
  expect(j.decision.kind).toBe('deny');
}

let defaultPolicy: PolicySet;
let decider: PolicyDecider;

beforeAll(async () => {
  await initAnalyzers();
  const r = loadPolicyDir(join(repo, 'policies'), { fingerprint });
  if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
  defaultPolicy = r.policy;
  decider = new PolicyDecider(defaultPolicy, new AnalysisCache(analyze));
});

// the worker that analyses large statements must not outlive the suite
afterAll(() => stopPostgresAnalyzer());

const title = '%s [%s] → %s';

describe('default policy: no-drop-or-truncate', () => {
  const D = 'deny:no-drop-or-truncate';
  it.each<Row>([
    ...both('DROP TABLE t', D),
    ...both('drop table if exists a, b cascade', D),
    ...both('DROP/**/TABLE t', D),
    ...both('DrOp TaBlE t', D),
    ...both('drop view v', D),
    ...both('drop database olddb', D),
    ...both('drop schema s', D),
    ...both('drop function f', D),
    ...both('truncate t', D),
    ...both('TRUNCATE TABLE sessions', D),
    ...both('select 1; drop table t', D),
    pg('drop /* outer /* nested */ still comment */ table t', D),
    pg('DROP TABLE "public"."T"', D),
    pg('drop table U&"\\0074"', D),
    pg('drop index concurrently if exists public.idx', D),
    pg('drop materialized view mv', D),
    pg('drop sequence s', D),
    pg('drop type mood', D),
    pg('drop extension pgcrypto', D),
    pg('drop trigger trg on t', D),
    pg('drop owned by someone', D),
    pg('drop role r', D), // also a privilege change: the first deny rule in the file names it
    pg('truncate only t restart identity cascade', D),
    pg('select $a$ ; $a$; drop table t', D),
    pg("select 'it''s'; drop table t", D),
    pg('begin; drop table t; commit', D),
    pg('create procedure p() language sql as $$ truncate t $$', D),
    pg('create function f() returns void language plpgsql as $$ begin drop table t; end $$', D),
    pg('do $$ begin drop table t; end $$', D),
    pg('create schema s create table a (id int) ; drop schema s', D),
    my('DROP TABLE `t`', D),
    my('DROP TEMPORARY TABLE t', D),
    my('drop index i on t', D),
    my('drop procedure p', D),
    my('drop trigger tr', D),
    my('drop event e', D),
    my('drop user u', D),
    my('/*!40000 DROP TABLE t */', D), // versioned comments are code in MySQL
    my('/*M! DROP TABLE t */', D),
    my("select '/*'; drop table t; -- */'", D),
    my("prepare s from 'drop table t'", D),
    my('create procedure p() begin drop table t; end', D),
    // keywords split by a comment are not keywords: the text does not parse, so it does not run
    pg('DR/**/OP TABLE t', 'deny:parse-error'),
    my('DR/**/OP TABLE t', 'deny:parse-error'),
    my('SELECT 1 /*!; DROP TABLE t */', 'deny:parse-error'),
    // not drops
    ...both('create table t (id int)', 'allow'),
    ...both('alter table t add column c int', 'allow'),
    ...both('select * from drop_log', 'allow'),
    ...both("select 'drop table t'", 'allow'),
    pg('select $$; drop table t; $$', 'allow'),
    my('select 1 # ; drop table t', 'allow'),
  ])(title, (...row) => {
    check(decider, row);
  });
});

describe('default policy: no-unbounded-writes', () => {
  const D = 'deny:no-unbounded-writes';
  it.each<Row>([
    ...both('delete from t', D),
    ...both('update t set a = 1', D),
    // always-true disguises both analyzers see through
    ...both('delete from t where 1=1', D),
    ...both("delete from t where 'a'='a'", D),
    ...both('delete from t where id = id', D),
    ...both('delete from t where true', D),
    ...both('delete from t where not false', D),
    ...both('delete from t where x = 1 or true', D),
    ...both('delete from t where 1 in (1)', D),
    ...both('delete from t where (1=1)', D),
    ...both('delete from t where 1 = 1 and 2 = 2', D),
    ...both('delete from t where 2 > 1', D),
    ...both('delete from t where 1 <> 2', D),
    ...both('delete from t where true is true', D),
    ...both('delete from t where 1 between 0 and 2', D),
    ...both("delete from t where x like '%'", D),
    ...both('delete from t where exists (select 1)', D),
    ...both('delete from t where id = id and id = id', D),
    ...both('update t set a = 1 where 1=1', D),
    ...both('update t set a = 1 where x = 1 or 1 = 1', D),
    ...both('DELETE/**/FROM/**/t', D),
    ...both('select 1; delete from t', D),
    pg('delete from t where t.id = t.id', D),
    pg('delete from t as x where x.id = x.id', D),
    pg('delete from t where not not true', D),
    pg('delete from t where true = true', D),
    pg("delete from t where 't'", D),
    pg("delete from t where 'true'::boolean", D),
    pg("delete from t where 'a' like 'a'", D),
    pg("delete from t where 'x' = E'x'", D),
    pg("delete from t where $$a$$ = 'a'", D),
    pg('delete from t where 1::int = 1', D),
    pg('delete from t where cast(1 as int) = 1', D),
    pg('delete from t where 2+2 = 4', D),
    pg("delete from t where 'a' || 'b' = 'ab'", D),
    pg('delete from t where null is null', D),
    pg('delete from t where 1 is distinct from 2', D),
    pg('delete from t where 1 not in (2)', D),
    pg('delete from t where 1 = any(array[1])', D),
    pg('delete from t where row(1,2) = row(1,2)', D),
    pg('delete from t where case when true then true end', D),
    pg('delete from t where id is null or id is not null', D),
    pg('delete from t where id <> -1 or id = -1', D),
    pg('delete from t where id is not distinct from id', D),
    pg('delete from t where ctid = ctid', D),
    pg('delete from t where current_user = current_user', D),
    pg('delete from t where $1 = $1', D),
    pg("delete from t where x ilike '%'", D),
    pg('delete from t where (select true)', D),
    pg('delete from t where id in (select id from t)', D),
    pg('delete from t where id = any(select id from t)', D),
    pg('delete from t where exists (select 1 from t)', D),
    pg('delete from only t', D),
    pg('update only t set a = 1', D),
    pg('update t set a = 1 from u where true', D),
    pg('delete from t using u where true', D),
    pg('delete from t where 1 = 1 -- trailing comment', D),
    pg('merge into t using u on true when matched then delete', D),
    pg('update t set (a, b) = (select x, y from s where s.id = t.id)', D),
    // nested statements are judged as what they will do
    pg('with x as (delete from t returning *) select * from x', D),
    pg('with x as (update t set a = 1 where true returning 1) select 1', D),
    pg('explain analyze delete from t', D),
    pg('explain delete from t', D),
    pg('prepare p as delete from t', D),
    pg('create rule r as on insert to t do instead delete from u', D),
    pg('create rule r as on update to t do also delete from t where true', D),
    pg('create function f() returns void language sql as $$ delete from t $$', D),
    pg("create function f() returns void language sql as 'delete from t'", D),
    pg('create function f() returns void language sql begin atomic delete from t; end', D),
    pg('create function f() returns void language plpgsql as $$ begin update t set a = 1; end $$', D),
    pg('do $$ begin delete from t where 1 = 1; end $$', D),
    my('delete from t where 1', D),
    my('delete from t where !0', D),
    my('delete from t where not 0', D),
    my('delete from t where 1 xor 0', D),
    my('delete from t where 1 && 1', D),
    my('delete from t where 1 || 0', D),
    my("delete from t where 'a' = 'A'", D),
    my('delete from t where x <=> x', D),
    my('DELETE FROM `t` WHERE `id` = `id`', D),
    my('delete from t where 1 = 1 #', D),
    my('delete from t where 1 = 1 limit 10', D),
    my('delete from t limit 10', D),
    my('delete low_priority quick ignore from t where 1=1', D),
    my('update low_priority t set a = 1', D),
    my('delete from db1.t where 1=1', D),
    my('delete from t where ?', D),
    my('delete from t where ? = ?', D),
    my("delete from t where length('abc') = 3", D),
    my('update t join u on 1 = 1 set t.a = 1', D),
    my('delete t from t join u on true', D),
    my('with x as (select 1) delete from t', D),
    my('explain analyze delete t from t join u on 1=1', D),
    my("prepare s from 'delete from t'", D),
    my('create trigger tr before insert on t for each row delete from u', D),
    my('create procedure p() begin delete from t; end', D),
    my('create event e on schedule every 1 hour do delete from t', D),
    // bounded writes
    ...both('delete from t where id = 1', 'allow'),
    ...both('update t set a = 1 where id = 7', 'allow'),
    ...both('delete from t where id in (1, 2, 3)', 'allow'),
    ...both('insert into t values (1)', 'allow'),
    pg('update t set a = $1 where id = $2', 'allow'),
    pg('delete from t where id <> $1', 'allow'),
    pg('update t set x = 1 from u where t.id = u.id', 'allow'),
    pg('delete from t using u where t.id = u.id', 'allow'),
    pg('merge into t using u on t.id = u.id when matched then delete', 'allow'),
    pg('with x as (delete from t where id = 1 returning *) select * from x', 'allow'),
    pg('explain select * from t', 'allow'),
    my('update t set a = 1 where id = ?', 'allow'),
    my('update t, u set t.a = 1 where t.id = u.id', 'allow'),
    my('delete t from t join u on t.id = u.id where u.x = 1', 'allow'),
    my('delete from t where id > 5 order by id limit 10', 'allow'),
    my('replace into t values (1)', 'allow'),
    my('explain delete from t', 'allow'), // plain EXPLAIN does not run the statement in MySQL
  ])(title, (...row) => {
    check(decider, row);
  });

  // Fixed (Postgres): a WHERE that refers to no column of the row is the same for every row (all rows
  // or none), so it does not bound the write. With the extended protocol the value arrives in Bind,
  // after the decision at Parse: `DELETE FROM t WHERE $1` with $1 = true deletes every row. Same for a
  // disjunct that refers to no column (`id = $1 OR $2`), for function parameters and PL/pgSQL variables
  // used as the whole condition, and for PREPARE ... WHERE $1.
  it.each<Row>([
    pg('delete from t where $1', D),
    pg('delete from t where $1 = $2', D),
    pg('delete from t where $1::int = 1', D),
    pg('delete from t where id = $1 or $2', D),
    pg("delete from t where length('abc') = 3", D),
    pg('delete from t where now() is not null', D),
    pg('prepare p(bool) as delete from t where $1', D),
    pg('create function f(b bool) returns void language sql as $$ delete from t where b $$', D),
    pg('do $$ declare b bool := true; begin delete from t where b; end $$', D),
  ])('row-independent WHERE (Postgres): %s [%s] → %s', (...row) => {
    checkDenied(decider, row);
  });

  // MySQL: a disjunct that refers to no column (`id = ? OR ?`) does not bound the write either.
  it.each<Row>([my('delete from t where id = ? or ?', D)])('row-independent WHERE (MySQL): %s [%s] → %s', (...row) => {
    checkDenied(decider, row);
  });

  // Fixed: `id IN (SELECT id FROM t)` is recognised as always true also when one side names the table
  // with `public.` and when the subquery has an always-true WHERE.
  it.each<Row>([
    pg('delete from public.t where id in (select id from t)', D),
    pg('delete from t where id in (select id from public.t)', D),
    pg('delete from t where exists (select 1 from public.t)', D),
    pg('delete from t where id in (select id from t where true)', D),
  ])('self-reference through a subquery: %s [%s] → %s', (...row) => {
    checkDenied(decider, row);
  });

  // fixed: a MySQL multi-table UPDATE/DELETE bounded by its INNER JOIN condition is allowed, like the
  // Postgres spelling with USING/FROM ... WHERE. An always-true join condition (`ON 1 = 1`, rows above)
  // stays unbounded.
  it.each<Row>([
    my('update t join u on t.id = u.id set t.a = 1', 'allow'),
    my('delete t from t join u on t.id = u.id', 'allow'),
    my('DELETE FROM t1 USING t1 INNER JOIN t2 ON t1.id = t2.ref', 'allow'),
  ])('join-bounded MySQL write: %s [%s] → %s', (...row) => {
    check(decider, row);
  });

  // fixed: the MySQL analyzer sees `x IS NULL OR x IS NOT NULL` (a predicate OR its complement) as
  // unbounded, as the Postgres analyzer does (row above).
  it.each<Row>([my('delete from t where x is null or x is not null', D), my('update t set a = 1 where id = 1 or id <> 1', D)])(
    'complement disjunction, MySQL: %s [%s] → %s',
    (...row) => {
      checkDenied(decider, row);
    },
  );
});

describe('default policy: no-server-admin-functions', () => {
  const D = 'deny:no-server-admin-functions';
  it.each<Row>([
    pg('select pg_terminate_backend(1)', D),
    pg('select pg_catalog.pg_terminate_backend(1)', D),
    pg('SELECT PG_TERMINATE_BACKEND(1)', D),
    pg('select pg_cancel_backend(1)', D),
    pg('select pg_reload_conf()', D),
    pg('select pg_catalog.pg_reload_conf()', D),
    pg('select pg_rotate_logfile()', D),
    pg('select pg_promote()', D),
    pg('select pg_switch_wal()', D),
    pg("select pg_create_restore_point('x')", D),
    pg("select pg_read_file('/etc/passwd')", D),
    pg("select pg_catalog.pg_read_file('/etc/passwd')", D),
    pg('select "pg_catalog"."pg_read_file"($$/etc/passwd$$)', D),
    pg('select "pg_read_file"(E\'/etc/passwd\')', D),
    pg("select pg_read_binary_file('/etc/passwd')", D),
    pg("select * from pg_read_file('/etc/passwd')", D),
    pg("select pg_ls_dir('.')", D),
    pg('select "pg_catalog".pg_ls_dir(\'.\')', D),
    pg('select pg_ls_waldir()', D),
    pg("select pg_stat_file('postgresql.conf')", D),
    pg("select pg_file_write('x', 'y', false)", D),
    pg("select lo_import('/etc/passwd')", D),
    pg("select pg_catalog.lo_export(1, '/tmp/x')", D),
    pg("select dblink('dbname=x', 'select 1')", D),
    pg("select public.dblink_exec('dbname=x', 'drop table t')", D),
    pg("select x from t where pg_read_file('/etc/passwd') is not null", D),
    pg("select * from (select pg_read_file('/etc/passwd')) s", D),
    pg("with x as (select pg_ls_dir('/')) select * from x", D),
    pg("values (pg_read_file('/etc/passwd'))", D),
    pg("insert into t select pg_read_file('/etc/passwd')", D),
    pg("create table x as select pg_read_file('/etc/passwd')", D),
    pg("create view v as select pg_read_file('x')", D),
    pg('create table x (id int default pg_terminate_backend(1))', D),
    pg("alter table t alter column c set default pg_read_file('/etc/passwd')", D),
    pg('do $$ begin perform pg_terminate_backend(1); end $$', D),
    pg("select 1; select pg_terminate_backend(pid) from pg_stat_activity where datname = 'app'", D),
    my("select load_file('/etc/passwd')", D),
    my("select LOAD_FILE('/etc/passwd')", D),
    my("select `load_file`('/etc/passwd')", D),
    my("select sys_exec('id')", D),
    my("select sys_eval('id')", D),
    my("do load_file('/x')", D),
    my("create table t2 select load_file('/etc/passwd')", D),
    my("SELECT * FROM t WHERE 1 /*!UNION SELECT load_file('/etc/passwd') */", D),
    // harmless functions
    pg('select pg_backend_pid()', 'allow'),
    pg('select pg_sleep(0)', 'allow'),
    pg("select current_setting('work_mem')", 'allow'),
    pg("select pg_size_pretty(pg_total_relation_size('t'))", 'allow'),
    my('select sleep(0)', 'allow'),
    my('select connection_id()', 'allow'),
    ...both('select now()', 'allow'),
  ])(title, (...row) => {
    check(decider, row);
  });

  // KNOWN BUG: MySQL's server-administration statements are not functions, get kind `other`, and no
  // default rule stops them: SHUTDOWN stops the server, RESTART restarts it, KILL ends another
  // session (what pg_terminate_backend does on Postgres, which the default policy denies).
  it.each<Row>([my('shutdown', 'deny'), my('restart', 'deny'), my('kill 1', 'deny'), my('kill query 1', 'deny')])(
    'KNOWN BUG (MySQL admin statements): %s [%s] → %s',
    (...row) => {
      checkDenied(decider, row);
    },
  );
});

describe('default policy: no-copy-program', () => {
  const D = 'deny:no-copy-program';
  it.each<Row>([
    pg("copy t to program 'id'", D),
    pg("COPY t FROM PROGRAM 'curl -s https://example.com/u.csv' WITH (FORMAT csv)", D),
    pg("copy (select 1) to program 'cat > /dev/null'", D),
    pg('copy "t" to program $$id$$', D),
    pg("copy t to program E'i\\x64'", D),
    pg("select 1; copy t to program 'id'", D),
    // COPY through the client (psql's \copy) is fine
    pg('copy t to stdout', 'allow'),
    pg('copy t from stdin', 'allow'),
    pg('copy (select 1) to stdout with csv', 'allow'),
  ])(title, (...row) => {
    check(decider, row);
  });
});

describe('default policy: no-server-file-copy', () => {
  const D = 'deny:no-server-file-copy';
  it.each<Row>([
    pg("copy t from '/etc/passwd'", D),
    pg("copy t to '/tmp/t.csv'", D),
    pg("COPY (SELECT * FROM users WHERE active) TO '/tmp/users.csv' WITH CSV HEADER", D),
    pg("copy t from E'/etc/passwd'", D),
    pg('copy t from $$/etc/passwd$$', D),
    // MySQL's server-file reads and writes carry the same COPY facts; the first deny rule in the file names them
    my("load data infile '/etc/passwd' into table t", 'deny:no-server-file-reads-or-writes'),
    my("load xml infile '/x.xml' into table t", 'deny:no-server-file-reads-or-writes'),
  ])(title, (...row) => {
    check(decider, row);
  });
});

describe('mysql.local_infile: LOAD DATA LOCAL INFILE for the principals listed', () => {
  let granted: PolicyDecider;
  beforeAll(() => {
    const r = loadPolicySources([{ file: 'local.yaml', text: 'mysql:\n  local_infile:\n    - agents: ["etl-*"]\n    - labels: { team: data }\n' }], { fingerprint });
    if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
    granted = new PolicyDecider({ ...defaultPolicy, localInfile: r.policy.localInfile }, new AnalysisCache(analyze));
  });
  it.each<Row>([
    my("LOAD DATA LOCAL INFILE '/tmp/u.csv' INTO TABLE users", 'allow', { agent: 'etl-nightly' }),
    my("LOAD XML LOCAL INFILE '/tmp/u.xml' INTO TABLE users", 'allow', { agent: 'x', labels: { team: 'data' } }),
    my("LOAD DATA LOCAL INFILE '/tmp/u.csv' INTO TABLE users", 'deny:mysql-local-infile', { agent: 'web' }),
    // the grant is about client files: server files stay denied
    my("LOAD DATA INFILE '/etc/passwd' INTO TABLE users", 'deny:no-server-file-reads-or-writes', { agent: 'etl-nightly' }),
  ])(title, (...row) => {
    check(granted, row);
  });
});

describe('default policy: server file reads and writes (LOAD DATA, SELECT ... INTO OUTFILE/DUMPFILE)', () => {
  it.each<Row>([
    // LOCAL (a client file): refused to every principal mysql.local_infile does not list (the default lists none)
    my("load data local infile '/tmp/users.csv' into table users", 'deny:mysql-local-infile'),
    my("LOAD DATA LOCAL INFILE '/tmp/u.csv' INTO TABLE users FIELDS TERMINATED BY ','", 'deny:mysql-local-infile'),
  ])(title, (...row) => {
    check(decider, row);
  });

  // SELECT ... INTO OUTFILE matches both no-server-file-copy (its COPY facts) and no-select-into-file;
  // either may decide, and no-select-into-file must be among the rules that matched.
  it.each<Row>([
    my("select * from t into outfile '/tmp/x'", ''),
    my("SELECT id, email FROM users INTO OUTFILE '/tmp/out2.csv'", ''),
    my("select * into dumpfile '/tmp/x' from t", ''),
    my("SELECT * INTO OUTFILE '/tmp/out.csv' FIELDS TERMINATED BY ',' FROM users", ''),
    my("select 1 /*!50000 into outfile '/tmp/x' */", ''),
    my("select 1; select 2 into outfile '/tmp/x'", ''),
    my("load data infile '/etc/passwd' into table t", ''), // reads a server file
    pg("select lo_export(1, '/tmp/x')", ''), // a server-file write through a function
    pg("select pg_file_write('x', 'y', false)", ''),
  ])('%s [%s] writes or reads a server file', (sql, dialect) => {
    const j = judgeTwice(decider, sql, dialect);
    expect(j.decision.kind).toBe('deny');
    const matched = j.statements.flatMap((s) => s.matched);
    expect(matched.some((m) => m === 'no-select-into-file' || m === 'no-server-file-reads-or-writes' || m === 'no-server-file-copy')).toBe(true);
    if (/into (out|dump)file|lo_export|pg_file_write/i.test(sql)) expect(matched).toContain('no-select-into-file');
  });

  it.each<Row>([my('select * from t into @x', 'allow'), my('select 1 into @a', 'allow'), pg('select 1 into temp tmp_x', 'allow')])(title, (...row) => {
    check(decider, row);
  });
});

describe('default policy: no-alter-system', () => {
  const D = 'deny:no-alter-system';
  it.each<Row>([
    pg("alter system set work_mem = '64MB'", D),
    pg('ALTER SYSTEM SET work_mem = 1', D),
    pg('alter system reset all', D),
    pg("ALTER /**/ SYSTEM SET shared_preload_libraries = 'x'", D),
    pg("select 1; alter system set log_statement = 'none'", D),
    pg("do $$ begin alter system set work_mem = '1MB'; end $$", 'deny:no-server-wide-settings'),
    pg('show work_mem', 'allow'),
    pg('alter table t set (fillfactor = 70)', 'allow'),
    // MySQL has no ALTER SYSTEM: the text does not parse and is not run
    my('alter system set x = 1', 'deny:parse-error'),
  ])(title, (...row) => {
    check(decider, row);
  });

  // KNOWN BUG: MySQL's ALTER SYSTEM is SET PERSIST (written to mysqld-auto.cnf) and SET GLOBAL (changes
  // the running server for every session). The facts say global/persist, but no kind or match key
  // lets a policy name them, and the default policy allows them (unless the variable is a lexer one).
  it.each<Row>([my('set persist max_connections = 1', 'deny'), my('set global read_only = 1', 'deny'), my('SET @@global.max_connections = 1', 'deny')])(
    'KNOWN BUG (MySQL SET GLOBAL/PERSIST): %s [%s] → %s',
    (...row) => {
      checkDenied(decider, row);
    },
  );
});

describe('default policy: no-privilege-changes', () => {
  const D = 'deny:no-privilege-changes';
  it.each<Row>([
    pg('grant select on t to someone', D),
    pg('GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO app_rw', D),
    pg('grant all on t to public', D),
    pg('grant app_rw to alice', D),
    pg('revoke insert on users from app_ro cascade', D),
    pg('REVOKE ALL PRIVILEGES ON DATABASE appdb FROM PUBLIC', D),
    pg('alter default privileges in schema public grant select on tables to readonly', D),
    pg("create role readonly with login password 'secret'", D),
    pg('create user x', D),
    pg('alter user x with superuser', D),
    pg("alter role x password 'y'", D),
    pg('alter role current_user set search_path = x', 'deny:no-server-wide-settings'),
    pg("do $$ begin grant all on t to public; end $$", D),
    my("grant select, insert on appdb.* to 'app'@'%'", D),
    my('grant all on *.* to x', D),
    my('grant r to u', D),
    my('revoke select on db.* from x', D),
    my("REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'app'@'%'", D),
    my("create user 'app'@'%' identified by 'secret'", D),
    my('create role r', D),
    my("alter user 'root'@'localhost' identified with mysql_native_password by 'pw'", D),
    my('rename user x to y', D),
    ...both('select * from information_schema.table_privileges', 'allow'),
  ])(title, (...row) => {
    check(decider, row);
  });

  // KNOWN BUG: MySQL SET PASSWORD [FOR user] changes a user's credentials (kind `set`, setting
  // "password") and is allowed by the default policy.
  it.each<Row>([my("set password for 'app'@'%' = 'y'", 'deny'), my("set password = 'y'", 'deny')])('KNOWN BUG (MySQL SET PASSWORD): %s [%s] → %s', (...row) => {
    checkDenied(decider, row);
  });
});

describe('default policy: no-extensions-or-libraries', () => {
  const D = 'deny:no-extensions-or-libraries';
  it.each<Row>([
    pg('create extension plpython3u', D),
    pg('CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public', D),
    pg("load 'auto_explain'", D),
    pg("load '$libdir/plugins/auto_explain'", D),
    pg('select 1; create extension dblink', D),
    pg("do $$ begin load 'x'; end $$", D),
    pg('select * from pg_extension', 'allow'),
    // a function in C is a shared library: sqlwarden cannot read it (fail closed)
    pg("create function f() returns void as 'x.so', 'f' language c", 'deny:opaque-body'),
  ])(title, (...row) => {
    check(decider, row);
  });

  // KNOWN BUG: MySQL loads server code with INSTALL PLUGIN / INSTALL COMPONENT and with
  // CREATE FUNCTION ... SONAME (a UDF in a shared library: how sys_exec gets installed). They get
  // kinds `other` and `create_function`, and the default policy allows them.
  it.each<Row>([my("install plugin x soname 'x.so'", 'deny'), my("install component 'file://component_x'", 'deny')])('MySQL plugins: %s [%s] → %s', (...row) => {
    checkDenied(decider, row);
  });
  it.each<Row>([my('create function sys_exec returns integer soname "lib_mysqludf_sys.so"', 'deny')])('MySQL UDFs (opaque shared library): %s [%s] → %s', (...row) => {
    checkDenied(decider, row);
  });
});

describe('default policy: settings (identity, search_path, string escapes, encodings, sql_mode)', () => {
  const ID = 'deny:no-session-identity-changes';
  const SP = 'deny:no-search-path-changes';
  const ESC = 'deny:no-string-escape-changes';
  const ENC = 'deny:no-unsafe-client-encoding';
  const CS = 'deny:no-unsafe-mysql-charset';
  const MODE = 'deny:no-unsafe-sql-mode';
  it.each<Row>([
    // who the session is: any value
    pg("set application_name = 'someone-else'", ID),
    pg('set role postgres', ID),
    pg('SET ROLE x', ID),
    pg('reset role', ID),
    pg("set session authorization 'x'", ID),
    pg('set session authorization default', ID),
    pg('set session_replication_role = replica', ID),
    pg("select set_config('role', 'postgres', false)", ID),
    my('set role r', ID),
    my('set default role all to u', ID),
    // settings whose names cannot be told match every settings rule; the first one in the file decides
    pg('reset all', ID),
    pg("select set_config(lower('ROLE'), 'postgres', false)", ID),
    pg("select set_config(lower('SEARCH_PATH'), 'public', false)", ID),
    // search_path: only public, "$user" and pg_catalog
    pg('set search_path to myschema, public', SP),
    pg('SET search_path TO secret, public', SP),
    pg('set local search_path = x', SP),
    pg("SET search_path TO 'Public'", SP), // a quoted name keeps its case: another schema
    pg('SET search_path TO "Public"', SP),
    pg("SET search_path = 'public, secret'", SP), // one schema named "public, secret"
    pg("select * from set_config('search_path', 'x', false)", SP),
    pg("select set_config('search_path', 'public, evil', false)", SP),
    pg("select set_config('search_path', '\"Public\"', false)", SP),
    pg("select set_config('search_path', 'default', false)", SP), // a schema named default, not a reset
    pg("select set_config('search_path', current_setting('my.path'), false)", SP),
    pg("select set_config('search_path', 'pub' || 'lic', false)", SP), // not literals: not a constant
    pg("select set_config('search_' || 'path', 'public', false)", SP),
    pg('set search_path from current', SP),
    pg("do $$ begin set search_path = evil; end $$", SP),
    pg("do $$ begin perform set_config('search_path', 'evil', false); end $$", SP),
    pg('SET search_path TO "$user", public', 'allow'),
    pg("SET search_path = public", 'allow'),
    pg("SET search_path TO 'public', '$user'", 'allow'),
    pg('set search_path = pg_catalog, public', 'allow'),
    pg('set search_path = default', 'allow'),
    pg('reset search_path', 'allow'),
    pg("select set_config('search_path', 'Public, \"$user\"', false)", 'allow'), // unquoted names fold to lower case
    pg("SELECT pg_catalog.set_config('search_path', '', false)", 'allow'), // pg_dump: only pg_catalog is searched
    pg("create function f() returns int language sql set search_path = public as 'select 1'", 'allow'),
    // string escapes
    pg('set standard_conforming_strings = off', ESC),
    pg("set standard_conforming_strings = 'false'", ESC),
    pg('set standard_conforming_strings = 0', ESC),
    pg("select set_config('standard_conforming_strings', 'off', false)", ESC),
    pg("select pg_catalog.set_config('standard_conforming_strings', 'off', false)", ESC),
    pg("create function f() returns void language sql set standard_conforming_strings = off as 'select 1'", ESC),
    pg('set backslash_quote = on', ESC),
    pg("set backslash_quote = 'true'", ESC),
    pg('SET standard_conforming_strings = on', 'allow'),
    pg('SET standard_conforming_strings TO true', 'allow'),
    pg('reset standard_conforming_strings', 'allow'),
    pg('set backslash_quote = safe_encoding', 'allow'),
    pg('set backslash_quote = off', 'allow'),
    pg('set escape_string_warning = off', 'allow'), // only a warning, and only when standard_conforming_strings is off
    // client encodings
    pg("set client_encoding = 'SJIS'", ENC),
    pg("SET client_encoding TO 'SJIS'", ENC),
    pg("set session client_encoding = 'SJIS'", ENC),
    pg("SET CLIENT_ENCODING TO 'x'", ENC),
    pg('set "client_encoding" to \'x\'', ENC),
    pg("set names 'SJIS'", ENC),
    pg("set client_encoding = 'shift_jis_2004'", ENC),
    pg("set client_encoding = 'BIG5'", ENC),
    pg("set client_encoding = 'gbk'", ENC),
    pg("set client_encoding = 'UHC'", ENC),
    pg("set client_encoding = 'GB18030'", ENC),
    pg("set client_encoding = 'JOHAB'", ENC),
    pg("set client_encoding = 'WIN932'", ENC),
    pg("select set_config('client_encoding', 'SJIS', true)", ENC),
    pg("SET client_encoding TO 'UTF8'", 'allow'),
    pg("set names 'utf-8'", 'allow'),
    pg("set client_encoding = 'unicode'", 'allow'),
    pg("set client_encoding = 'LATIN1'", 'allow'),
    pg("set client_encoding = 'WIN1252'", 'allow'),
    pg("set client_encoding = 'EUC_JP'", 'allow'),
    pg("set client_encoding = 'ISO_8859_5'", 'allow'),
    pg('set client_encoding = default', 'allow'),
    pg('reset client_encoding', 'allow'),
    pg("alter database d set client_encoding = 'SJIS'", 'deny:no-server-wide-settings'),
    pg('alter database d set search_path = x', 'deny:no-server-wide-settings'),
    // MySQL character sets
    my('SET NAMES gbk', CS),
    my("set names 'gbk'", CS),
    my('SET NAMES sjis', CS),
    my('SET NAMES big5 COLLATE big5_chinese_ci', CS),
    my('set @@names = 1', CS),
    my('SET character_set_client = gbk', CS),
    my('SET @@character_set_client = gbk', CS),
    my("set session character_set_client = 'gbk'", CS),
    my("set @@session.character_set_connection = 'gbk'", CS),
    my('SET character_set_client = @saved_cs_client', CS), // not a constant
    my('SET collation_connection = cp932_japanese_ci', CS),
    my('SET CHARACTER SET gbk', CS),
    my('SET CHARSET gbk', CS),
    my('SET CHARACTER SET utf8mb4', CS), // also sets character_set_connection to @@character_set_database
    my('SET NAMES utf8mb4', 'allow'),
    my("SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci'", 'allow'),
    my('SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci', 'allow'),
    my('/*!40101 SET NAMES utf8mb4 */', 'allow'),
    my('SET NAMES latin1', 'allow'),
    my('SET NAMES DEFAULT', 'allow'),
    my('SET character_set_results = NULL', 'allow'),
    my('SET character_set_client = utf8mb4', 'allow'),
    my('SET collation_connection = utf8mb4_general_ci', 'allow'),
    // MySQL sql_mode
    my("SET sql_mode='ANSI_QUOTES'", MODE),
    my("SET @@session.sql_mode = 'NO_BACKSLASH_ESCAPES'", MODE),
    my("SET SESSION sql_mode = 'ANSI_QUOTES'", MODE),
    my("set @@sql_mode := 'ANSI'", MODE),
    my("SET sql_mode = 'STRICT_TRANS_TABLES,PIPES_AS_CONCAT'", MODE),
    my("SET sql_mode = 'traditional, ignore_space'", MODE),
    my("SET sql_mode = 'HIGH_NOT_PRECEDENCE'", MODE),
    my("SET sql_mode = 'EMPTY_STRING_IS_NULL'", MODE),
    my("SET sql_mode = 'ORACLE'", MODE),
    my('SET sql_mode = 4', MODE), // a bit mask (4 is ANSI_QUOTES)
    my("set sql_mode = (select 'ANSI')", MODE),
    my('SET SESSION sql_mode = @x', MODE),
    my("SET sql_mode = CONCAT(@@sql_mode, ',STRICT_TRANS_TABLES')", MODE),
    my("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')", MODE),
    my("SET @@session.sql_mode = 'NO_BACKSLASH_ESCAPES'; select 1", MODE),
    my("SELECT /*+ SET_VAR(sql_mode='ANSI_QUOTES') */ 1", MODE),
    my("SET GLOBAL sql_mode = ''", 'deny:no-server-wide-settings'),
    my("set persist sql_mode = ''", 'deny:no-server-wide-settings'),
    my("SET sql_mode = ''", 'allow'),
    my("set session autocommit = 1, sql_mode = ''", 'allow'),
    my('SET sql_mode = DEFAULT', 'allow'),
    my("SET SESSION sql_mode='STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'", 'allow'),
    my("SET @@SESSION.sql_mode = 'TRADITIONAL,ONLY_FULL_GROUP_BY'", 'allow'),
    my("SELECT /*+ SET_VAR(sql_mode='STRICT_ALL_TABLES') */ 1", 'allow'),
    // settings that do not change how statements are read or who runs them
    pg("set work_mem = '64MB'", 'allow'),
    pg("set timezone = 'UTC'", 'allow'),
    pg("SET SESSION timezone TO 'UTC'", 'allow'),
    pg("SET client_min_messages TO 'warning'", 'allow'),
    pg('SET intervalstyle = iso_8601', 'allow'),
    pg('set statement_timeout = 0', 'allow'),
    pg("set local lock_timeout = '1s'", 'allow'),
    pg('reset work_mem', 'allow'),
    pg("select set_config('work_mem', '1MB', false)", 'allow'),
    pg("select current_setting('search_path')", 'allow'),
    pg('show search_path', 'allow'),
    pg('discard all', 'allow'),
    my('SET @x = 1', 'allow'),
    my('SET autocommit = 0', 'allow'),
    my('set session wait_timeout = 100', 'allow'),
    my('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', 'allow'),
    my('select @@sql_mode', 'allow'),
  ])(title, (...row) => {
    check(decider, row);
  });

  it('the settings rules of the shipped policy', () => {
    const ids = defaultPolicy.rules.filter((r) => r.match.settings).map((r) => r.id);
    expect(ids).toEqual(['no-session-identity-changes', 'no-search-path-changes', 'no-string-escape-changes', 'no-unsafe-client-encoding', 'no-unsafe-mysql-charset', 'no-unsafe-sql-mode']);
  });

  // UPDATE pg_settings SET setting = ... WHERE name = ... is SET spelled as DML (pg_settings has an
  // ON UPDATE rule calling set_config): no-catalog-writes refuses it
  it.each<Row>([
    pg("update pg_settings set setting = 'off' where name = 'standard_conforming_strings'", 'deny:no-catalog-writes'),
    pg("update pg_catalog.pg_settings set setting = 'evil' where name = 'search_path'", 'deny:no-catalog-writes'),
  ])('UPDATE pg_settings: %s [%s] → %s', (...row) => {
    check(decider, row);
  });
});

describe('default policy: what cannot be read is not run', () => {
  it.each<Row>([
    pg('selec 1', 'deny:parse-error'),
    my('selec 1', 'deny:parse-error'),
    pg("do $$ begin execute 'drop table t'; end $$", 'deny:opaque-body'),
    pg("create function f() returns void language plpgsql as $$ begin execute format('drop table %I', 't'); end $$", 'deny:opaque-body'),
    pg("do language plpython3u $$ plpy.execute('drop table t') $$", 'deny:opaque-body'),
    my('prepare s from @q', 'deny:opaque-body'),
    pg('select 1\u0000; drop table t', 'deny:parse-error'),
    my('select 1\u0000; drop table t', 'deny:parse-error'),
    my("select '\\'; drop table t; -- '", 'deny:parse-error'), // means two statements under NO_BACKSLASH_ESCAPES
  ])(title, (...row) => {
    check(decider, row);
  });

  it('an empty string runs nothing and is allowed', () => {
    for (const dialect of ['postgres', 'mysql'] as const) {
      const j = judgeTwice(decider, ' ;  ', dialect);
      expect(j.analysis.ok ? 'analysed' : j.analysis.failure.kind).toBe('empty');
      expect(verdict(j)).toBe('allow');
    }
  });

  it('a statement over the analysis cap is denied in both dialects', () => {
    const huge = 'select ' + '1,'.repeat(600_000) + '1';
    for (const dialect of ['postgres', 'mysql'] as const) {
      const j = judgeTwice(decider, huge, dialect);
      expect(j.analysis.ok ? 'analysed' : j.analysis.failure.kind).toBe('too_large');
      expect(verdict(j)).toBe('deny:parse-error');
    }
  });

  it('100k nested parentheses are denied in both dialects', () => {
    const deep = 'select ' + '('.repeat(100_000) + '1' + ')'.repeat(100_000);
    for (const dialect of ['postgres', 'mysql'] as const) expect(verdict(judgeTwice(decider, deep, dialect))).toBe('deny:parse-error');
  });

  it('a FunctionCall message is denied unless a rule allows kind function_call', () => {
    const d = decider.decide({ dialect: 'postgres', carrier: 'function_call', sql: 'function call oid 2096' }, principal());
    expect(d).toMatchObject({ kind: 'deny', ruleId: 'function-call' });
  });
});

// ---- the match features of the policy language, on small inline policies ----------------------

function inlinePolicy(text: string): PolicyDecider {
  const r = loadPolicySources([{ file: 'inline.yaml', text }], { fingerprint });
  if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
  return new PolicyDecider(r.policy, new AnalysisCache(analyze));
}

const FEATURES = `
version: 1
defaults: { action: allow, review_timeout: 10m }
rules:
  - id: bots-no-delete
    match: { kinds: [delete], agents: ["bot-*"] }
    action: deny
    message: bots do not delete
  - id: payments-prod-review
    match: { kinds: [update], labels: { team: payments, env: "prod*" } }
    action: review
    timeout: 90s
  - id: migrations-review
    match: { kinds: [alter_table, create_index], agents: ["migrator-*"] }
    action: review
  - id: replica-writes
    match: { access: write, targets: ["*-replica"] }
    action: deny
  - id: vault
    match: { tables: [vault.secrets] }
    action: deny
  - id: audit-append-only
    match: { tables_written: ["audit.log"], kinds: [update, delete] }
    action: deny
  - id: internal-schema
    match: { schemas: [internal], agents: ["contractor-*"] }
    action: deny
  - id: no-sleep
    match: { functions: [pg_sleep, sleep] }
    action: deny
  - id: catalog-fn
    match: { functions: [pg_catalog.pg_stat_reset] }
    action: deny
  - id: session-shape
    match: { fingerprints: ["DELETE FROM sessions WHERE user_id = ?"] }
    action: deny
  - id: big-unlimited
    match: { tables: ["big.events"], limit: absent, access: read }
    action: deny
  - id: returning-on-users
    match: { tables: [public.users], returning: true }
    action: review
  - id: copy-in
    match: { copy: { direction: from } }
    action: review
  - id: mysql-only
    match: { dialect: mysql, kinds: [handler] }
    action: deny
  - id: dba-dynamic-sql
    match: { opaque: true, agents: ["dba-*"] }
    action: allow
`;

const STRICT = `
version: 1
defaults: { action: deny, message: not on the allow list }
rules:
  - id: reads-public
    match: { access: read, tables: ["public.*"] }
    action: allow
  - id: order-status
    match: { fingerprints: ["UPDATE orders SET status = ? WHERE id = ?"] }
    action: allow
  - id: transactions
    match: { kinds: [transaction] }
    action: allow
  - id: fastpath
    match: { kinds: [function_call], agents: ["legacy-*"] }
    action: allow
`;

describe('policy language: match features (defaults: allow)', () => {
  let features: PolicyDecider;
  beforeAll(() => {
    features = inlinePolicy(FEATURES);
  });

  it.each<Row>([
    // agents (globs, case-insensitive)
    ...both('delete from t where id = 1', 'deny:bots-no-delete', { agent: 'bot-7' }),
    pg('delete from t where id = 1', 'deny:bots-no-delete', { agent: 'BOT-7' }),
    ...both('delete from t where id = 1', 'allow', { agent: 'robot-7' }),
    // labels: every label given must match (values are globs)
    ...both('update t set a = 1 where id = 1', 'review:payments-prod-review', { labels: { team: 'payments', env: 'production' } }),
    pg('update t set a = 1 where id = 1', 'allow', { labels: { team: 'payments', env: 'staging' } }),
    pg('update t set a = 1 where id = 1', 'allow', { labels: { team: 'payments' } }),
    pg('update t set a = 1 where id = 1', 'allow', { labels: { env: 'prod', team: 'billing' } }),
    // targets
    ...both('insert into t values (1)', 'deny:replica-writes', { target: 'app-replica' }),
    ...both('select * from t', 'allow', { target: 'app-replica' }),
    pg('insert into t values (1)', 'allow', { target: 'app-primary' }),
    // tables: an unqualified name may resolve to any schema, so a deny rule matches it
    ...both('select * from secrets', 'deny:vault'),
    ...both('select * from vault.secrets', 'deny:vault'),
    pg('select * from VAULT.SECRETS', 'deny:vault'),
    pg('select * from public.secrets', 'allow'),
    my('select * from `vault`.`secrets`', 'deny:vault'),
    pg('with s as (select * from vault.secrets) select * from s', 'deny:vault'),
    // tables_written
    ...both('update audit.log set x = 1 where id = 1', 'deny:audit-append-only'),
    ...both('insert into audit.log values (1)', 'allow'),
    pg('delete from log where id = 1', 'deny:audit-append-only'), // unqualified: a restriction over-matches
    pg('select * from audit.log', 'allow'),
    // schemas
    ...both('select * from internal.flags', 'deny:internal-schema', { agent: 'contractor-1' }),
    pg('select * from flags', 'deny:internal-schema', { agent: 'contractor-1' }), // unqualified: a restriction over-matches
    pg('select * from public.flags', 'allow', { agent: 'contractor-1' }),
    pg('select * from internal.flags', 'allow', { agent: 'employee-1' }),
    // functions: a pattern without a schema matches the function in any schema
    pg('select pg_sleep(1)', 'deny:no-sleep'),
    pg('select pg_catalog.pg_sleep(1)', 'deny:no-sleep'),
    pg('select "pg_catalog"."pg_sleep"(1)', 'deny:no-sleep'),
    my('select sleep(1)', 'deny:no-sleep'),
    my('select SLEEP(1)', 'deny:no-sleep'),
    // a pattern with a schema: an unqualified call may resolve to it (restriction), another schema does not
    pg('select pg_stat_reset()', 'deny:catalog-fn'),
    pg('select pg_catalog.pg_stat_reset()', 'deny:catalog-fn'),
    pg('select myschema.pg_stat_reset()', 'allow'),
    // fingerprints: `?` stands for any literal; case, spacing and comments do not matter
    pg('delete from sessions where user_id = 42', 'deny:session-shape'),
    pg("DELETE FROM sessions WHERE user_id='x' -- note", 'deny:session-shape'),
    pg('DELETE FROM sessions WHERE user_id = $1', 'deny:session-shape'),
    pg('delete from sessions where user_id = 42 and x = 1', 'allow'),
    pg('delete from sessions where session_id = 42', 'allow'),
    my('DELETE FROM sessions WHERE user_id = 42', 'deny:session-shape'),
    my("DELETE FROM sessions WHERE user_id = 'abc'", 'deny:session-shape'),
    my('DELETE FROM sessions WHERE user_id = ?', 'deny:session-shape'),
    my('DELETE FROM sessions WHERE user_id = 42 AND x = 1', 'allow'),
    // limit
    ...both('select * from big.events', 'deny:big-unlimited'),
    ...both('select * from big.events limit 10', 'allow'),
    pg('select * from big.events fetch first 5 rows only', 'allow'),
    // returning
    pg('delete from public.users where id = 1 returning *', 'review:returning-on-users'),
    pg('delete from public.users where id = 1', 'allow'),
    // copy direction
    pg('copy t from stdin', 'review:copy-in'),
    pg('copy t to stdout', 'allow'),
    // dialect
    my('handler t open', 'deny:mysql-only'),
    // review with the default timeout
    ...both('alter table t add column c int', 'review:migrations-review', { agent: 'migrator-1' }),
    ...both('create index i on t (c)', 'review:migrations-review', { agent: 'migrator-1' }),
    pg('alter table t add column c int', 'allow', { agent: 'bot-1' }),
    // opaque code: denied unless a rule allows `opaque: true`
    pg("do $$ begin execute 'select 1'; end $$", 'allow', { agent: 'dba-1' }),
    pg("do $$ begin execute 'select 1'; end $$", 'deny:opaque-body', { agent: 'bot-1' }),
    pg("do $$ begin execute 'select 1'; end $$", 'deny:opaque-body'),
    my('prepare s from @q', 'allow', { agent: 'dba-1' }),
    my('prepare s from @q', 'deny:opaque-body'),
    // most restrictive wins: a deny beats the dba's allow
    pg("do $$ begin execute 'select 1'; perform pg_sleep(1); end $$", 'deny:no-sleep', { agent: 'dba-1' }),
    // deny beats review
    pg('update t set a = 1 where id = 1', 'deny:replica-writes', { labels: { team: 'payments', env: 'prod' }, target: 'x-replica' }),
  ])(title, (...row) => {
    check(features, row);
  });

  it('a review carries the rule timeout, or the default review_timeout', () => {
    const r = features.decide({ dialect: 'postgres', carrier: 'query', sql: 'update t set a = 1 where id = 1' }, principal({ labels: { team: 'payments', env: 'prod-eu' } }));
    expect(r).toMatchObject({ kind: 'review', ruleId: 'payments-prod-review', timeoutMs: 90_000 });
    const m = features.decide({ dialect: 'mysql', carrier: 'query', sql: 'alter table t add column c int' }, principal({ agent: 'migrator-2' }));
    expect(m).toMatchObject({ kind: 'review', ruleId: 'migrations-review', timeoutMs: 600_000 });
  });

  it('a deny carries the rule message, and names the statement of a multi-statement string', () => {
    const d = features.decide({ dialect: 'postgres', carrier: 'query', sql: 'select 1; delete from t where id = 1' }, principal({ agent: 'bot-1' }));
    expect(d).toEqual({ kind: 'deny', ruleId: 'bots-no-delete', reason: 'bots do not delete (statement 2: delete)' });
  });

  // MySQL fingerprints ignore keyword case and backticks around plain names, so a deny rule written as
  // `DELETE FROM sessions WHERE user_id = ?` matches every spelling (as Postgres fingerprints do).
  it.each<Row>([
    my('delete from sessions where user_id = 42', 'deny:session-shape'),
    my('DELETE FROM `sessions` WHERE `user_id` = 42', 'deny:session-shape'),
    my('Delete From sessions Where user_id=42', 'deny:session-shape'),
  ])('MySQL fingerprint case: %s [%s] → %s', (...row) => {
    check(features, row);
  });
});

describe('policy language: defaults: deny (only what an allow rule matches gets through)', () => {
  let strict: PolicyDecider;
  beforeAll(() => {
    strict = inlinePolicy(STRICT);
  });

  it.each<Row>([
    pg('select * from public.orders', 'allow'),
    pg('select * from orders', 'allow'), // unqualified resolves to public for an allow rule on Postgres
    my('select * from public.orders', 'allow'),
    my('select * from orders', 'deny:default'), // MySQL has no default schema sqlwarden can assume
    ...both('select * from vault.keys', 'deny:default'),
    ...both('select * from public.orders join vault.keys on true', 'allow'), // any matching table suffices for `tables`
    ...both('select 1', 'deny:default'), // no table, so `tables` does not match
    ...both('insert into orders values (1)', 'deny:default'),
    pg('with d as (delete from orders where id = 1 returning *) select * from d', 'deny:default'), // a nested write is not a read
    pg("select * from orders; set work_mem = '1MB'", 'deny:default'),
    ...both('begin', 'allow'),
    ...both('commit', 'allow'),
    pg("update orders set status = 'shipped' where id = 5", 'allow'),
    pg('UPDATE orders SET status = $1 WHERE id = $2', 'allow'),
    pg("update orders set status = 'shipped'", 'deny:default'),
    my("UPDATE orders SET status = 'shipped' WHERE id = 5", 'allow'),
    pg("do $$ begin execute 'select 1'; end $$", 'deny:opaque-body'),
  ])(title, (...row) => {
    check(strict, row);
  });

  it('uses the defaults message, and allows the fastpath only for the agents a rule names', () => {
    expect(strict.decide({ dialect: 'postgres', carrier: 'query', sql: 'select 1' }, principal())).toEqual({ kind: 'deny', ruleId: 'default', reason: 'not on the allow list' });
    const fc = { dialect: 'postgres' as const, carrier: 'function_call' as const, sql: 'function call oid 1' };
    expect(strict.decide(fc, principal({ agent: 'legacy-app' }))).toEqual({ kind: 'allow' });
    expect(strict.decide(fc, principal({ agent: 'bot' }))).toMatchObject({ kind: 'deny', ruleId: 'function-call' });
  });

  it('a reload swaps the whole policy for the next statement of the same principal', () => {
    const d = inlinePolicy(STRICT);
    const who = principal();
    const msg = { dialect: 'postgres' as const, carrier: 'query' as const, sql: 'select 1' };
    expect(d.decide(msg, who).kind).toBe('deny');
    const next = loadPolicySources([{ file: 'p.yaml', text: 'defaults: { action: allow }\n' }], { fingerprint, version: d.current.version + 1 });
    if (!next.ok) throw new Error('unreachable');
    d.setPolicy(next.policy);
    expect(d.decide(msg, who).kind).toBe('allow');
  });
});
