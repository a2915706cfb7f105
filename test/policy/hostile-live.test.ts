/**
 * Hostile statements through the LIVE proxy with the shipped default policy, over every way a Postgres
 * client can carry SQL: the simple protocol (pg `c.query(text)`, `psql -c`, `psql -f`), the extended
 * protocol (unnamed and named prepared statements, pipelined), and raw frames. For each: the client
 * gets SQLSTATE 42501 naming the rule, the connection stays usable, and — checked directly against the
 * database — nothing happened.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { adminQuery, createTestDatabase, PG, uniqueName } from '../helpers/servers.js';
import { startTestProxy, type MintedForTest, type TestProxy } from '../helpers/proxy.js';
import { killAllCli, PSQL, runCli, type CliResult } from '../helpers/run-cli.js';
import { watchClient } from '../helpers/client-watch.js';
import { withTimeout } from '../helpers/wait.js';

interface Hostile {
  /** what the disguise is */
  name: string;
  sql: string;
  /** the rule the denial must name */
  rule: string;
}

const MARK = uniqueName('sw_hostile');
const MARKER_FILE = `/tmp/${MARK}_program`;
const MARKER_COPY = `/tmp/${MARK}_copy`;
const ALTER_SYSTEM_VALUE = '77kB';

const DROP = 'no-drop-or-truncate';
const UNBOUNDED = 'no-unbounded-writes';
const ADMIN = 'no-server-admin-functions';
const IDENTITY = 'no-session-identity-changes';
const SEARCH_PATH = 'no-search-path-changes';
const ESCAPES = 'no-string-escape-changes';
const ENCODING = 'no-unsafe-client-encoding';
const PARSE = 'parse-error';
const OPAQUE = 'opaque-body';

const CASES: Hostile[] = [
  // drops and truncates in disguise
  { name: 'a comment splitting the keyword', sql: 'DR/**/OP TABLE victims', rule: PARSE },
  { name: 'a comment between keywords', sql: 'DROP/**/TABLE victims', rule: DROP },
  { name: 'nested block comments', sql: 'drop /* a /* nested */ still a comment */ table victims', rule: DROP },
  { name: 'case games and a quoted identifier', sql: 'DrOp TaBlE "victims"', rule: DROP },
  { name: 'a U&"" identifier', sql: 'drop table U&"\\0076ictims"', rule: DROP },
  { name: 'a U&"" identifier with a custom escape', sql: "drop table U&\"!0076ictims\" UESCAPE '!'", rule: DROP },
  { name: 'schema-qualified and quoted', sql: 'drop table "public"."victims" cascade', rule: DROP },
  { name: 'truncate', sql: 'TrUnCaTe/**/"public".victims', rule: DROP },
  { name: 'truncate only', sql: 'truncate only victims restart identity', rule: DROP },
  { name: 'a harmless statement first', sql: 'select 1; drop table victims', rule: DROP },
  { name: 'after a dollar quote that looks like it ends', sql: 'select $a$ $b$ ; $a$; drop table victims', rule: DROP },
  { name: 'after a nested comment that looks like it ends', sql: 'select /* /* */ */ 1; drop table victims', rule: DROP },
  { name: "after an E'' string ending in an escaped backslash", sql: "select E'\\\\'; drop table victims", rule: DROP },
  { name: "after an E'' string with an escaped quote", sql: "select E'\\''; truncate victims", rule: DROP },
  { name: 'after a doubled quote', sql: "select 'it''s'; drop table victims", rule: DROP },
  { name: 'after a line comment', sql: 'select 1 -- looks like the end\n; drop table victims', rule: DROP },
  { name: 'inside a transaction block', sql: 'begin; drop table victims; commit', rule: DROP },
  { name: 'in a DO block', sql: 'do $$ begin drop table victims; end $$', rule: DROP },
  { name: 'in a function body', sql: 'create function sw_drop() returns void language plpgsql as $$ begin drop table victims; end $$', rule: DROP },
  { name: 'in a dollar-quoted DO block with a tag', sql: 'do $x$ begin truncate victims; end $x$', rule: DROP },
  // unbounded writes
  { name: 'DELETE without WHERE', sql: 'delete from victims', rule: UNBOUNDED },
  { name: 'WHERE 1=1', sql: 'delete from victims where 1=1', rule: UNBOUNDED },
  { name: "WHERE 'a'='a'", sql: "delete from victims where 'a'='a'", rule: UNBOUNDED },
  { name: 'WHERE id=id', sql: 'delete from victims where id=id', rule: UNBOUNDED },
  { name: 'WHERE true', sql: 'delete from victims where true', rule: UNBOUNDED },
  { name: 'WHERE NOT false', sql: 'delete from victims where not false', rule: UNBOUNDED },
  { name: 'WHERE x OR true', sql: "update victims set v = 'pwned' where v = 'x' or true", rule: UNBOUNDED },
  { name: 'WHERE 1 IN (1)', sql: 'delete from victims where 1 in (1)', rule: UNBOUNDED },
  { name: 'WHERE x IS NULL OR x IS NOT NULL', sql: 'delete from victims where v is null or v is not null', rule: UNBOUNDED },
  { name: 'UPDATE without WHERE', sql: "update victims set v = 'pwned'", rule: UNBOUNDED },
  { name: 'a CTE-wrapped DELETE', sql: 'with x as (delete from victims returning *) select count(*) from x', rule: UNBOUNDED },
  { name: 'a CTE-wrapped UPDATE', sql: "with x as (update victims set v = 'pwned' where true returning 1) select count(*) from x", rule: UNBOUNDED },
  { name: 'EXPLAIN ANALYZE DELETE', sql: 'explain analyze delete from victims', rule: UNBOUNDED },
  { name: 'EXPLAIN (ANALYZE, FORMAT JSON) UPDATE', sql: "explain (analyze true, format json) update victims set v = 'pwned'", rule: UNBOUNDED },
  { name: 'WHERE id IN (SELECT id FROM the same table)', sql: 'delete from victims where id in (select id from victims)', rule: UNBOUNDED },
  { name: 'a harmless locking SELECT first', sql: 'select * from victims where id = 1 for update; delete from victims', rule: UNBOUNDED },
  { name: 'a procedure with a DELETE body', sql: 'create procedure sw_proc() language sql as $$ delete from victims $$', rule: UNBOUNDED },
  { name: 'PREPARE of an unbounded DELETE', sql: 'prepare sw_wipe as delete from victims', rule: UNBOUNDED },
  { name: 'CREATE RULE ... DO INSTEAD DELETE', sql: 'create rule sw_rule as on insert to bystanders do instead delete from victims', rule: UNBOUNDED },
  { name: 'a SQL function with a DELETE body', sql: 'create function sw_wipe() returns void language sql as $$ delete from victims $$', rule: UNBOUNDED },
  { name: 'a SQL function with a quoted body', sql: "create function sw_wipe2() returns void language sql as 'delete from victims'", rule: UNBOUNDED },
  { name: 'a BEGIN ATOMIC function', sql: 'create function sw_wipe3() returns void language sql begin atomic delete from victims; end', rule: UNBOUNDED },
  { name: 'MERGE ... ON true WHEN MATCHED THEN DELETE', sql: 'merge into victims using bystanders on true when matched then delete', rule: UNBOUNDED },
  { name: 'a DELETE hidden in a DO block', sql: 'do $$ begin delete from victims where 1 = 1; end $$', rule: UNBOUNDED },
  // code sqlwarden cannot read
  { name: 'dynamic EXECUTE in a DO block', sql: "do $$ begin execute 'drop table victims'; end $$", rule: OPAQUE },
  { name: 'dynamic EXECUTE of a concatenation', sql: "do $$ begin execute 'dr' || 'op table victims'; end $$", rule: OPAQUE },
  { name: 'a function with dynamic SQL', sql: "create function sw_dyn() returns void language plpgsql as $$ begin execute format('drop table %I', 'victims'); end $$", rule: OPAQUE },
  // server administration and server files
  { name: 'schema-qualified pg_read_file', sql: "select pg_catalog.pg_read_file('/etc/passwd')", rule: ADMIN },
  { name: 'quoted schema-qualified pg_read_file', sql: 'select "pg_catalog"."pg_read_file"($$/etc/passwd$$)', rule: ADMIN },
  { name: "pg_read_file with an E'' string", sql: "select pg_read_file(E'/etc/passwd')", rule: ADMIN },
  { name: 'pg_read_file spelled as a U&"" identifier', sql: 'select U&"pg\\005fread\\005ffile"(\'/etc/passwd\')', rule: ADMIN },
  { name: 'pg_read_file with comments around the schema dot', sql: "select pg_catalog/**/./**/pg_read_file('/etc/passwd')", rule: ADMIN },
  { name: 'pg_read_file in a view', sql: "create view sw_view as select pg_read_file('/etc/passwd') as x", rule: ADMIN },
  { name: 'pg_terminate_backend as a column default', sql: 'create table sw_trap (id int default pg_terminate_backend(pg_backend_pid()))', rule: ADMIN },
  { name: 'pg_read_file into a new table', sql: "create table sw_loot as select pg_read_file('/etc/passwd') as x", rule: ADMIN },
  { name: 'pg_terminate_backend of itself', sql: 'select pg_catalog.pg_terminate_backend(pg_backend_pid())', rule: ADMIN },
  { name: 'pg_ls_dir', sql: "select * from pg_ls_dir('.')", rule: ADMIN },
  { name: 'pg_reload_conf in a subquery', sql: 'select (select pg_reload_conf())', rule: ADMIN },
  { name: 'COPY ... TO PROGRAM', sql: `copy victims to program 'touch ${MARKER_FILE}'`, rule: 'no-copy-program' },
  { name: 'COPY (query) TO PROGRAM', sql: `copy (select 1) to program 'touch ${MARKER_FILE}'`, rule: 'no-copy-program' },
  { name: 'COPY ... FROM PROGRAM', sql: "copy victims from program 'echo 99,pwned' with (format csv)", rule: 'no-copy-program' },
  { name: "COPY ... FROM '/etc/passwd'", sql: "copy victims from '/etc/passwd'", rule: 'no-server-file-copy' },
  { name: 'COPY ... TO a server file', sql: `copy victims to '${MARKER_COPY}'`, rule: 'no-server-file-copy' },
  { name: 'ALTER SYSTEM', sql: `alter system set work_mem = '${ALTER_SYSTEM_VALUE}'`, rule: 'no-alter-system' },
  // privileges and extensions
  { name: 'GRANT to PUBLIC', sql: 'grant all on victims to public', rule: 'no-privilege-changes' },
  { name: 'CREATE ROLE superuser', sql: `create role ${MARK}_evil superuser login`, rule: 'no-privilege-changes' },
  { name: 'CREATE EXTENSION', sql: 'create extension if not exists plpgsql', rule: 'no-extensions-or-libraries' },
  { name: 'LOAD', sql: "load 'auto_explain'", rule: 'no-extensions-or-libraries' },
  // settings that change lexing or identity (a setting whose name cannot be told matches every settings rule: the first decides)
  { name: 'set_config(standard_conforming_strings, off)', sql: "select set_config('standard_conforming_strings','off',false)", rule: ESCAPES },
  { name: 'schema-qualified set_config of search_path', sql: "select pg_catalog.set_config('search_path', 'evil', false)", rule: SEARCH_PATH },
  { name: 'set_config with a computed name', sql: "select set_config(lower('SEARCH_PATH'), 'evil', false)", rule: IDENTITY },
  { name: "set_config with a U&'' name", sql: "select set_config(U&'search\\005fpath', 'evil', false)", rule: SEARCH_PATH },
  { name: 'set_config with a concatenated name', sql: "select set_config('search_' || 'path', 'evil', false)", rule: SEARCH_PATH },
  { name: 'set_config in a scalar subquery', sql: "select (select set_config('search_path', 'evil', false) from victims limit 1)", rule: SEARCH_PATH },
  { name: 'SET client_encoding', sql: "set client_encoding = 'SJIS'", rule: ENCODING },
  { name: 'SET NAMES', sql: "SET NAMES 'SJIS'", rule: ENCODING },
  { name: 'SET standard_conforming_strings', sql: 'set standard_conforming_strings = off', rule: ESCAPES },
  { name: 'SET search_path', sql: 'set search_path = evil, public', rule: SEARCH_PATH },
  { name: 'SET application_name', sql: "set application_name = 'someone-else'", rule: IDENTITY },
  { name: 'SET ROLE', sql: 'set role postgres', rule: IDENTITY },
  { name: 'SET SESSION AUTHORIZATION', sql: 'set session authorization default', rule: IDENTITY },
];

/**
 * psql itself: on Debian /usr/bin/psql is a Perl wrapper that costs ~100 ms per start; the suite starts
 * psql about ninety times, so it calls the newest installed binary directly when there is one.
 */
function psqlBinary(): string {
  if (process.env.PSQL_BIN) return process.env.PSQL_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(`${root}/${v}/bin/psql`)) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? `${root}/${versions[0]}/bin/psql` : PSQL;
}
const PSQL_BINARY = psqlBinary();

const SEED = `
drop schema if exists public cascade;
create schema public;
create table victims (id int primary key, v text not null);
insert into victims values (1, 'one'), (2, 'two'), (3, 'three');
create table bystanders (id int primary key);
insert into bystanders values (1), (2), (3);
`;

/** Everything an allowed hostile statement could have changed, read directly from the database. */
const STATE_SQL = `
select
  (select string_agg(id || ':' || v, ',' order by id) from victims) as victims,
  (select count(*) from bystanders)::int as bystanders,
  (select string_agg(tablename, ',' order by tablename) from pg_tables where schemaname = 'public') as tables,
  (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public')::int as functions,
  (select count(*) from pg_rules where schemaname = 'public')::int as rules,
  (select count(*) from pg_views where schemaname = 'public')::int as views,
  (select coalesce(relacl::text, 'default') from pg_class where oid = 'public.victims'::regclass) as acl,
  (select count(*) from pg_roles where rolname = '${MARK}_evil')::int as roles,
  (select count(*) from pg_file_settings where name = 'work_mem' and setting = '${ALTER_SYSTEM_VALUE}')::int as alter_system,
  (pg_stat_file('${MARKER_FILE}', true)).size is not null as program_ran,
  (pg_stat_file('${MARKER_COPY}', true)).size is not null as copy_file_written
`;

type State = Record<string, unknown>;

const SESSION_SQL =
  "select current_setting('standard_conforming_strings') as scs, current_setting('client_encoding') as enc, current_setting('search_path') as path, current_setting('application_name') as app, current_user as who";

describe('hostile statements through the live proxy (default policy)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  let m: MintedForTest;
  let c: pg.Client;
  let baseline: State;
  const sessions = new Map<pg.Client, State>();
  let dir: string;

  /** a direct connection to the database (not through sqlwarden), for the checks after every case */
  let direct: pg.Client;
  /** set by a case that ended with the database as it was; anything else reseeds it */
  let intact = false;
  const state = async (): Promise<State> => (await direct.query(STATE_SQL)).rows[0] as State;
  async function nothingHappened(): Promise<void> {
    expect(await state()).toEqual(baseline);
    intact = true;
  }

  async function client(extra: Record<string, unknown> = {}): Promise<pg.Client> {
    const cl = new pg.Client(tp.pgOptions(m, extra));
    watchClient(cl);
    await cl.connect();
    sessions.set(cl, (await cl.query(SESSION_SQL)).rows[0] as State);
    return cl;
  }

  /** The connection answers, and its session settings are what they were at connect. */
  async function usable(cl: pg.Client): Promise<void> {
    const r = await cl.query('select count(*)::int as n from victims');
    expect(r.rows[0]).toEqual({ n: 3 });
    const s = await cl.query(SESSION_SQL);
    expect(s.rows[0]).toEqual(sessions.get(cl));
  }

  function psql(args: string[]): Promise<CliResult> {
    return runCli(PSQL_BINARY, ['-X', '-q', '-d', m.url, '-v', 'VERBOSITY=verbose', ...args], { timeoutMs: 20_000 });
  }

  const denied = (rule: string) => ({ code: '42501', message: expect.stringContaining(`denied by rule "${rule}"`) });

  beforeAll(async () => {
    db = await createTestDatabase('swhostile');
    await adminQuery(SEED, db.name);
    direct = new pg.Client({ ...PG, database: db.name });
    await direct.connect();
    baseline = await state();
    expect(baseline).toMatchObject({ victims: '1:one,2:two,3:three', bystanders: 3, functions: 0, rules: 0, views: 0, roles: 0, alter_system: 0, program_ran: false, copy_file_written: false });
    tp = await startTestProxy({ database: db.name });
    m = await tp.mint('hostile-agent');
    c = await client();
    dir = mkdtempSync(join(tmpdir(), 'sqlwarden-hostile-'));
  });

  afterEach(async () => {
    // a case that did not end with the database intact (failed, or a KNOWN BUG) must not leak into the
    // next: put the database back and start a fresh session
    if (!intact) {
      await adminQuery(SEED, db.name);
      await c.end().catch(() => {});
      c = await client();
    }
    intact = false;
  });

  afterAll(async () => {
    killAllCli();
    await c?.end().catch(() => {});
    await direct?.end().catch(() => {});
    await tp?.close();
    // clean up what escaped the database if a case ever failed (cluster-wide objects and files)
    await adminQuery(`drop role if exists ${MARK}_evil`).catch(() => {});
    const leaked = await adminQuery(`select count(*)::int as n from pg_file_settings where name = 'work_mem' and setting = '${ALTER_SYSTEM_VALUE}'`).catch(() => undefined);
    if (leaked?.rows[0]?.n) await adminQuery('alter system reset work_mem').catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  describe.each(CASES.map((h) => [h.name, h] as const))('%s', (_name, h) => {
    it(`is denied by ${h.rule} over the simple protocol (pg), and nothing happened`, async () => {
      await expect(c.query(h.sql)).rejects.toMatchObject(denied(h.rule));
      await usable(c);
      await nothingHappened();
    });

    it('is denied over the extended protocol (unnamed and named prepared statements), and nothing happened', async () => {
      await expect(c.query(extended(h.sql))).rejects.toMatchObject(denied(h.rule));
      await usable(c);
      const name = `${MARK}_${CASES.indexOf(h)}`;
      await expect(c.query({ name, text: h.sql, values: [] })).rejects.toMatchObject(denied(h.rule));
      // the name was never created upstream: using it again is judged again, and denied again
      await expect(c.query({ name, text: h.sql, values: [] })).rejects.toMatchObject(denied(h.rule));
      await usable(c);
      await nothingHappened();
    });
  });

  it('psql -c: the multi-statement cases and one case per rule are denied naming their rule, and nothing happened', async () => {
    // psql -c sends its string as one simple Query (psql -f, below, splits a script into statements), so
    // every case holding a ";" goes through psql -c, plus the first case of every rule; one psql process
    // per case, a few at a time (the pg driver above already sends every case over the simple protocol)
    const firstOfRule = new Set(CASES.filter((h, i) => CASES.findIndex((x) => x.rule === h.rule) === i));
    const wrong: string[] = [];
    const queue = CASES.filter((h) => h.sql.includes(';') || firstOfRule.has(h));
    expect(queue.length).toBeGreaterThan(25);
    const worker = async (): Promise<void> => {
      for (let h = queue.shift(); h; h = queue.shift()) {
        const r = await psql(['-v', 'ON_ERROR_STOP=1', '-c', h.sql]);
        const want = `ERROR:  42501: sqlwarden: statement denied by rule "${h.rule}"`;
        if (r.code === 0 || !r.stderr.includes(want)) wrong.push(`${h.name}: exit ${r.code}, stderr ${r.stderr.trim()}`);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    expect(wrong).toEqual([]);
    await nothingHappened();
  });

  it('what a denied statement would have created does not exist: EXECUTE, the function call and the rule find nothing', async () => {
    await expect(c.query('prepare sw_wipe as delete from victims')).rejects.toMatchObject(denied(UNBOUNDED));
    await expect(c.query('execute sw_wipe')).rejects.toMatchObject({ code: '26000' }); // prepared statement does not exist
    await expect(c.query('create function sw_wipe() returns void language sql as $$ delete from victims $$')).rejects.toMatchObject(denied(UNBOUNDED));
    await expect(c.query('select sw_wipe()')).rejects.toMatchObject({ code: '42883' }); // function does not exist
    await expect(c.query('create rule sw_rule as on insert to bystanders do instead delete from victims')).rejects.toMatchObject(denied(UNBOUNDED));
    await c.query('insert into bystanders values (4)');
    await c.query('delete from bystanders where id = 4');
    await usable(c);
    await nothingHappened();
  });

  it('psql -f: every hostile statement of a script is denied, and the script runs to its end', async () => {
    // psql splits a script into statements itself; each one that is a single statement goes in its own Query
    const singles = CASES.filter((h) => !h.sql.includes(';') || /^(do|create function)/i.test(h.sql));
    const file = join(dir, 'hostile.sql');
    writeFileSync(file, singles.map((h) => `${h.sql};\n`).join('\n') + "select 'script reached its end' as done;\n");
    const r = await psql(['-At', '-f', file]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('script reached its end');
    const denials = r.stderr.match(/ERROR: {2}42501: sqlwarden: statement denied by rule "[^"]+"/g) ?? [];
    expect(denials).toEqual(singles.map((h) => `ERROR:  42501: sqlwarden: statement denied by rule "${h.rule}"`));
    await nothingHappened();
  });

  it('psql -f with ON_ERROR_STOP: the script stops at the first denial', async () => {
    const file = join(dir, 'stop.sql');
    writeFileSync(file, 'select 1;\ndelete from victims where 1 = 1;\ndrop table victims;\n');
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-f', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('denied by rule "no-unbounded-writes"');
    expect(r.stderr).not.toContain('no-drop-or-truncate');
    await nothingHappened();
  });

  it('pipelined extended-protocol queries: the denied one fails alone, the others run', async () => {
    const p = await client({ pipeline: true });
    try {
      const results = await Promise.allSettled([
        p.query('select count(*)::int as n from victims where id = $1', [1]),
        p.query('delete from victims where id = id or $1', [true]),
        p.query(extended('drop table victims')),
        p.query('select count(*)::int as n from victims'),
      ]);
      expect(results[0]).toMatchObject({ status: 'fulfilled', value: { rows: [{ n: 1 }] } });
      expect(results[1]).toMatchObject({ status: 'rejected', reason: denied(UNBOUNDED) });
      expect(results[2]).toMatchObject({ status: 'rejected', reason: denied(DROP) });
      expect(results[3]).toMatchObject({ status: 'fulfilled', value: { rows: [{ n: 3 }] } });
    } finally {
      await p.end();
    }
    await nothingHappened();
  });

  it('a denial inside a transaction aborts it, and the transaction writes nothing', async () => {
    const t = await client();
    try {
      await t.query('begin');
      await t.query("update victims set v = 'changed' where id = 1");
      await expect(t.query('truncate victims')).rejects.toMatchObject(denied(DROP));
      await expect(t.query('commit')).resolves.toMatchObject({ command: 'ROLLBACK' });
      await usable(t);
    } finally {
      await t.end();
    }
    await nothingHappened();
  });

  it('bounded, parameterised writes still run (the policy is not a blanket ban)', async () => {
    const r = await c.query({ text: 'update victims set v = v where id = $1', values: [2] });
    expect(r.rowCount).toBe(1);
    const n = await c.query({ name: `${MARK}_ok`, text: 'select v from victims where id = $1', values: [3] });
    expect(n.rows).toEqual([{ v: 'three' }]);
    await nothingHappened();
  });

  describe('inputs that cannot be analysed', () => {
    it('a statement over the 1 MiB analysis cap is denied (simple and extended), and the connection stays usable', async () => {
      const pad = 'x'.repeat(1100 * 1024);
      const huge = `delete from victims where id = 1 /* ${pad} */`;
      await expect(c.query(huge)).rejects.toMatchObject(denied(PARSE));
      await expect(c.query(extended(huge))).rejects.toMatchObject({ ...denied(PARSE), message: expect.stringContaining('over the') });
      await usable(c);
      await nothingHappened();
    });

    it('a large statement under the cap is analysed and runs', async () => {
      const ids = Array.from({ length: 40_000 }, (_, i) => i + 1).join(',');
      const r = await c.query(`select count(*)::int as n from victims where id in (${ids})`);
      expect(r.rows[0]).toEqual({ n: 3 });
    });

    it('100k nested parentheses are denied (simple and extended), and the connection stays usable', async () => {
      const deep = 'delete from victims where id = ' + '('.repeat(100_000) + '1' + ')'.repeat(100_000);
      await expect(c.query(deep)).rejects.toMatchObject(denied(PARSE));
      await expect(c.query(extended(deep))).rejects.toMatchObject(denied(PARSE));
      await usable(c);
      await nothingHappened();
    });

    // A Postgres message carries SQL as a NUL-terminated string, so a NUL inside the text ends the string
    // and leaves trailing bytes: the frame is malformed. sqlwarden refuses it as a protocol violation
    // (08P01) and ends that session — fail closed, unlike a denial. Nothing runs and the proxy keeps serving.
    /** today a protocol violation (08P01, session ended); a denial by the parse-error rule would do as well */
    const refusedNul = expect.objectContaining({
      code: expect.stringMatching(/^(08P01|42501)$/),
      message: expect.stringMatching(/^(protocol violation: |sqlwarden: statement denied by rule "parse-error")/),
    });

    it('a NUL byte inside the text (extended protocol, via pg) is refused, nothing runs, and the proxy keeps serving', async () => {
      const n = await client();
      await expect(n.query(extended('select 1\u0000; drop table victims'))).rejects.toMatchObject(refusedNul);
      await n.end().catch(() => {});
      await nothingHappened();
      await usable(c);
      const fresh = await client();
      await usable(fresh);
      await fresh.end();
    });

    it.each([
      ['Query', frame('Q', Buffer.from('select 1\u0000drop table victims\u0000'))],
      ['Parse + Sync', Buffer.concat([frame('P', Buffer.concat([Buffer.from('\u0000select 1\u0000truncate victims\u0000'), Buffer.from([0, 0])])), frame('S', Buffer.alloc(0))])],
      ['Query whose text hides a statement after the NUL', frame('Q', Buffer.from('select 1 /* \u0000 */; delete from victims\u0000'))],
    ])('a raw %s frame with a NUL byte is refused, nothing runs, and the proxy keeps serving', async (_kind, bytes) => {
      const n = await client();
      const raw = new RawFrames(bytes);
      n.query(raw);
      const outcome = await withTimeout(raw.done, 10_000, 'the reply to a raw frame');
      expect(outcome.commands).toEqual([]);
      expect(outcome.errors).toEqual([refusedNul]);
      await n.end().catch(() => {});
      await nothingHappened();
      const fresh = await client();
      await usable(fresh);
      await fresh.end();
    });
  });

  describe('row-independent WHERE conditions are judged unbounded on Postgres', () => {
    // Fixed: a WHERE that refers to no column (or only to a parameter, a function argument or a
    // PL/pgSQL variable) selects every row or none; the value arrives after the decision (Bind,
    // EXECUTE's arguments, a function call), so it must be judged unbounded.
    it('DELETE ... WHERE $1 with $1 = true over the extended protocol', async () => {
      await expect(c.query({ text: 'delete from victims where $1', values: [true] })).rejects.toMatchObject(denied(UNBOUNDED));
      await nothingHappened();
    });

    it('DELETE ... WHERE $1 = $2 as a named prepared statement', async () => {
      await expect(c.query({ name: `${MARK}_k2`, text: 'delete from victims where $1 = $2', values: [1, 1] })).rejects.toMatchObject(denied(UNBOUNDED));
      await nothingHappened();
    });

    it('PREPARE p(bool) AS DELETE ... WHERE $1; EXECUTE p(true) over the simple protocol', async () => {
      const k = await client();
      try {
        await expect(k.query(`prepare ${MARK}_k3(bool) as delete from victims where $1; execute ${MARK}_k3(true)`)).rejects.toMatchObject(denied(UNBOUNDED));
      } finally {
        await k.end();
      }
      await nothingHappened();
    });

    it('a SQL function whose DELETE is bounded only by its argument, then called', async () => {
      const k = await client();
      try {
        await expect(k.query(`create function ${MARK}_k4(b bool) returns void language sql as $$ delete from victims where b $$`)).rejects.toMatchObject(denied(UNBOUNDED));
        await expect(k.query(`select ${MARK}_k4(true)`)).rejects.toMatchObject({ code: expect.stringMatching(/^(42501|42883)$/) });
      } finally {
        await k.end();
      }
      await nothingHappened();
    });
  });

  // Fixed: `id IN (SELECT id FROM <the target>)` is caught also when one side is schema-qualified with
  // `public.` and when the subquery has `WHERE true`.
  it.each([
    ['delete from victims where id in (select id from public.victims)'],
    ['delete from public.victims where id in (select id from victims)'],
    ['delete from victims where id in (select id from victims where true)'],
  ])('%s deletes every row: denied', async (sql) => {
    await expect(c.query(sql)).rejects.toMatchObject(denied(UNBOUNDED));
    await nothingHappened();
  });

  // UPDATE pg_settings is SET spelled as DML (pg_settings has an ON UPDATE rule that calls set_config):
  // the default policy refuses writes to system catalogs, so search_path cannot be changed this way.
  it('UPDATE pg_settings cannot change search_path through the proxy', async () => {
    const k = await client();
    try {
      await expect(k.query("update pg_settings set setting = 'evil' where name = 'search_path'")).rejects.toMatchObject(denied('no-catalog-writes'));
      expect((await k.query('show search_path')).rows[0].search_path).not.toContain('evil');
      await usable(k);
    } finally {
      await k.end();
    }
  });
});

/** Unnamed Parse/Bind/Execute/Sync even without parameters (pg's types do not know queryMode). */
function extended(text: string): pg.QueryConfig {
  return { text, values: [], queryMode: 'extended' } as pg.QueryConfig;
}

function frame(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

interface PgErrorLike {
  code?: string;
  message: string;
}

/**
 * A pg Submittable that writes raw protocol bytes and collects what comes back until ReadyForQuery,
 * or until the session ends.
 */
class RawFrames {
  readonly errors: PgErrorLike[] = [];
  readonly commands: string[] = [];
  readonly done: Promise<{ errors: PgErrorLike[]; commands: string[] }>;
  private finish!: () => void;

  constructor(private readonly bytes: Buffer) {
    this.done = new Promise((resolve) => {
      this.finish = () => resolve({ errors: this.errors, commands: this.commands });
    });
  }

  submit(connection: { stream: { write(b: Buffer): void; once(e: string, f: () => void): void } }): void {
    connection.stream.once('close', () => this.finish());
    connection.stream.write(this.bytes);
  }

  handleError(err: PgErrorLike): void {
    // pg reports the end of the connection as one more error without a code: keep the server's
    if (err.code !== undefined || this.errors.length === 0) this.errors.push(err);
    if (err.code === undefined) this.finish();
  }

  handleReadyForQuery(): void {
    this.finish();
  }

  handleCommandComplete(msg: { text: string }): void {
    this.commands.push(msg.text);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: { sendCopyFail(msg: string): void }): void {
    connection.sendCopyFail('not in this test');
  }
  handleCopyData(): void {}
}
