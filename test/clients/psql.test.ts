import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminQuery, createTestDatabase } from '../helpers/servers.js';
import { startTestProxy, type MintedForTest, type TestProxy } from '../helpers/proxy.js';
import { MarkerDenyDecider } from '../helpers/deny-decider.js';
import { killAllCli, PSQL, runCli, type CliResult } from '../helpers/run-cli.js';
import { makeSelfSignedCert } from '../helpers/self-signed.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const LONG = 60_000;

function psql(url: string, args: string[], input?: string, onSpawn?: (c: ChildProcess) => void): Promise<CliResult> {
  return runCli(PSQL, ['-X', '-d', url, ...args], { input, timeoutMs: 45_000, onSpawn });
}

function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

describe('psql through the proxy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  let m: MintedForTest;
  let dir: string;
  const decider = new MarkerDenyDecider();

  beforeAll(async () => {
    db = await createTestDatabase('swpsql');
    tp = await startTestProxy({ database: db.name, decider });
    m = await tp.mint('psql-agent');
    dir = mkdtempSync(join(tmpdir(), 'sqlwarden-psql-'));
    const r = await psql(m.url, ['-v', 'ON_ERROR_STOP=1', '-c', "create table gadgets (id int primary key, name text not null, price numeric(8,2) default 0, tags text[]); comment on table gadgets is 'gadgets for psql tests'"]);
    if (r.code !== 0) throw new Error(`setup failed: ${r.stderr}`);
  });
  afterAll(async () => {
    killAllCli();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await tp?.close();
    await db?.drop();
  }, LONG);

  it('connects with the minted URL as given and runs a query', async () => {
    const r = await psql(m.url, ['-At', '-v', 'ON_ERROR_STOP=1', '-c', 'select current_database(), 40 + 2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${db.name}|42`);
  }, LONG);

  it('describes tables with \\d and \\dt', async () => {
    const dt = await psql(m.url, ['-v', 'ON_ERROR_STOP=1', '-c', '\\dt']);
    expect(dt.code).toBe(0);
    expect(dt.stdout).toMatch(/List of relations/);
    expect(dt.stdout).toMatch(/public\s*\|\s*gadgets\s*\|\s*table\s*\|\s*postgres/);

    const d = await psql(m.url, ['-v', 'ON_ERROR_STOP=1', '-c', '\\d gadgets']);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/Table "public\.gadgets"/);
    expect(d.stdout).toMatch(/id\s*\|\s*integer\s*\|\s*\|\s*not null/);
    expect(d.stdout).toMatch(/name\s*\|\s*text\s*\|\s*\|\s*not null/);
    expect(d.stdout).toMatch(/price\s*\|\s*numeric\(8,2\)\s*\|\s*\|\s*\|\s*0/);
    expect(d.stdout).toMatch(/tags\s*\|\s*text\[\]/);
    expect(d.stdout).toMatch(/"gadgets_pkey" PRIMARY KEY, btree \(id\)/);

    const dplus = await psql(m.url, ['-v', 'ON_ERROR_STOP=1', '-c', '\\dt+ gadgets']);
    expect(dplus.stdout).toMatch(/gadgets for psql tests/);
    const missing = await psql(m.url, ['-v', 'ON_ERROR_STOP=1', '-c', '\\d no_such_table']);
    expect(missing.stderr).toMatch(/Did not find any relation named "no_such_table"/);
  }, LONG);

  it('round-trips rows with \\copy from stdin and \\copy to stdout', async () => {
    const lines: string[] = [];
    for (let i = 1; i <= 10_000; i++) lines.push(`${i}\tgadget ${i} \\\\ tab\\there\t${(i / 4).toFixed(2)}\t{a,b${i % 7}}`);
    const input = lines.join('\n') + '\n';
    const load = await psql(m.url, ['-v', 'ON_ERROR_STOP=1', '-c', '\\copy gadgets (id, name, price, tags) from stdin'], input);
    expect(load.stderr).toBe('');
    expect(load.code).toBe(0);
    expect(load.stdout.trim()).toBe('COPY 10000');

    const count = await adminQuery("select count(*)::int as n, sum(price)::text as s, max(name) filter (where id = 5) as five from gadgets", db.name);
    expect(count.rows[0]).toEqual({ n: 10_000, s: ((10_000 * 10_001) / 8).toFixed(2), five: 'gadget 5 \\ tab\there' });

    const dump = await psql(m.url, ['-v', 'ON_ERROR_STOP=1', '-c', '\\copy (select id, name, price, tags from gadgets order by id) to stdout']);
    expect(dump.code).toBe(0);
    expect(createHash('sha256').update(dump.stdout).digest('hex')).toBe(createHash('sha256').update(input).digest('hex'));

    const csv = await psql(m.url, ['-v', 'ON_ERROR_STOP=1', '-c', "\\copy (select id, name from gadgets where id <= 2 order by id) to stdout with (format csv, header)"]);
    expect(csv.stdout).toBe('id,name\n1,gadget 1 \\ tab\there\n2,gadget 2 \\ tab\there\n');
    await adminQuery('truncate gadgets', db.name);
  }, LONG);

  it('runs a -f script with \\set variables and several commands', async () => {
    const file = join(dir, 'script.sql');
    writeFileSync(
      file,
      [
        '\\set n 6',
        "\\set who 'O''Brien'",
        'create temp table people (id int, name text);',
        "insert into people values (:n, :'who'), (:n + 1, 'second');",
        'select count(*) as c, count(*) > 1 as many from people \\gset',
        "\\echo rows=:c",
        'select name from people where id = :n;',
        "select :'who' = 'O''Brien' as quoted_ok; select 1 as a, 2 as b;",
        '\\if :many',
        '  \\echo branch-taken',
        '\\endif',
      ].join('\n') + '\n',
    );
    const r = await psql(m.url, ['-At', '-v', 'ON_ERROR_STOP=1', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['CREATE TABLE', 'INSERT 0 2', 'rows=2', "O'Brien", 't', '1|2', 'branch-taken']);

    // several commands in one -c go to the server as one simple Query
    const multi = await psql(m.url, ['-At', '-v', 'ON_ERROR_STOP=1', '-c', 'select 1; select 2; select 3']);
    expect(multi.code).toBe(0);
    expect(multi.stdout.split('\n').filter(Boolean)).toEqual(['1', '2', '3']);
    expect(decider.seen.filter((x) => x.msg.sql === 'select 1; select 2; select 3').map((x) => x.msg.carrier)).toEqual(['query']);
  }, LONG);

  it('shows a denial with the rule name on stderr, and the exit status reflects it', async () => {
    const c = await psql(m.url, ['-At', '-v', 'ON_ERROR_STOP=1', '-c', 'select 1 as forbidden_marker']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/ERROR: {2}sqlwarden: statement denied by rule "test-deny-marker"/);
    expect(c.stdout).toBe('');

    const file = join(dir, 'denied.sql');
    writeFileSync(file, 'create temp table d (x int);\ninsert into d values (1);\nselect 1 as forbidden_marker;\nselect 999 as never_reached;\n');
    const f = await psql(m.url, ['-At', '-v', 'ON_ERROR_STOP=1', '-f', file]);
    // psql exits 3 when a script stops on an error
    expect(f.code).toBe(3);
    expect(f.stderr).toMatch(/denied\.sql:3: ERROR: {2}sqlwarden: statement denied by rule "test-deny-marker"/);
    expect(f.stdout).not.toMatch(/999/);

    // without ON_ERROR_STOP the session goes on after the denial
    const go = await psql(m.url, ['-At', '-f', file]);
    expect(go.code).toBe(0);
    expect(go.stderr).toMatch(/test-deny-marker/);
    expect(go.stdout).toMatch(/^999$/m);
  }, LONG);

  it('cancels a running statement on Ctrl-C (SIGINT → CancelRequest)', async () => {
    let child: ChildProcess | undefined;
    const run = psql(m.url, ['-At', '-c', 'select pg_sleep(25) /* psql-cancel */'], undefined, (c) => (child = c));
    await waitFor(
      async () => (await adminQuery(`select count(*)::int as n from pg_stat_activity where datname = '${db.name}' and state = 'active' and query like '%psql-cancel%' and pid <> pg_backend_pid()`)).rows[0].n === 1,
      'psql query to run upstream',
      10_000,
    );
    child?.kill('SIGINT');
    const r = await withTimeout(run, 15_000, 'psql to end after cancel');
    expect(r.stderr).toMatch(/canceling statement due to user request/);
    expect(r.code).toBe(1);
  }, LONG);

  it('refuses a wrong password with 28P01 and a clear message', async () => {
    const u = new URL(m.url);
    u.password = 'wrong-password';
    const r = await psql(u.toString(), ['-At', '-c', 'select 1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/password authentication failed/);
  });
});

describe('psql over TLS', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let cert: Awaited<ReturnType<typeof makeSelfSignedCert>>;
  let optional: TestProxy;
  let required: TestProxy;

  beforeAll(async () => {
    db = await createTestDatabase('swpsqltls');
    cert = await makeSelfSignedCert();
    const tlsYaml = (req: boolean): string => `tls:\n  cert: ${cert.cert}\n  key: ${cert.key}\n  required: ${req}\n`;
    optional = await startTestProxy({ database: db.name, extraYaml: tlsYaml(false) });
    required = await startTestProxy({ database: db.name, extraYaml: tlsYaml(true) });
  });
  afterAll(async () => {
    killAllCli();
    await optional?.close();
    await required?.close();
    await db?.drop();
    cert?.remove();
  }, LONG);

  it('negotiates TLS with sslmode=require (psql reports an SSL connection)', async () => {
    const m = await optional.mint('tls-agent');
    const r = await psql(withParams(m.url, { sslmode: 'require' }), ['-v', 'ON_ERROR_STOP=1', '-c', '\\conninfo', '-c', 'select 6 * 7 as answer']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SSL connection \(protocol: TLSv1\.[23]/);
    expect(r.stdout).toMatch(/\b42\b/);
  }, LONG);

  it('verifies the proxy certificate with sslmode=verify-full', async () => {
    const m = await optional.mint('tls-verify-agent');
    const r = await psql(withParams(m.url, { sslmode: 'verify-full', sslrootcert: cert.cert }), ['-At', '-v', 'ON_ERROR_STOP=1', '-c', '\\conninfo', '-c', 'select 1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SSL connection/);
    // a CA that did not sign the proxy's certificate is refused by the client
    const other = await makeSelfSignedCert();
    try {
      const bad = await psql(withParams(m.url, { sslmode: 'verify-full', sslrootcert: other.cert }), ['-At', '-c', 'select 1']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/certificate verify failed/);
    } finally {
      other.remove();
    }
  }, LONG);

  it('still serves plaintext clients when TLS is optional', async () => {
    const m = await optional.mint('plain-agent');
    const r = await psql(withParams(m.url, { sslmode: 'disable' }), ['-v', 'ON_ERROR_STOP=1', '-c', '\\conninfo', '-c', 'select 1']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/SSL connection/);
  }, LONG);

  it('with required: true, refuses sslmode=disable with a message about TLS and accepts sslmode=require', async () => {
    const m = await required.mint('tls-required-agent');
    const plain = await psql(withParams(m.url, { sslmode: 'disable' }), ['-At', '-c', 'select 1']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/requires TLS/);
    expect(plain.stdout).toBe('');

    const secure = await psql(withParams(m.url, { sslmode: 'require' }), ['-v', 'ON_ERROR_STOP=1', '-c', '\\conninfo', '-c', 'select 1 as one']);
    expect(secure.stderr).toBe('');
    expect(secure.code).toBe(0);
    expect(secure.stdout).toMatch(/SSL connection/);
  }, LONG);

  it('cancels over a TLS session on the TLS-required listener (CancelRequest arrives in plaintext)', async () => {
    const m = await required.mint('tls-cancel-agent');
    let child: ChildProcess | undefined;
    const run = psql(withParams(m.url, { sslmode: 'require' }), ['-At', '-c', 'select pg_sleep(25) /* tls-cancel */'], undefined, (c) => (child = c));
    await waitFor(
      async () => (await adminQuery(`select count(*)::int as n from pg_stat_activity where datname = '${db.name}' and state = 'active' and query like '%tls-cancel%' and pid <> pg_backend_pid()`)).rows[0].n === 1,
      'psql query to run upstream',
      10_000,
    );
    child?.kill('SIGINT');
    const r = await withTimeout(run, 15_000, 'psql to end after cancel');
    expect(r.stderr).toMatch(/canceling statement due to user request/);
    expect(r.code).toBe(1);
  }, LONG);

  it('carries COPY and a denial-free workload over TLS', async () => {
    const m = await optional.mint('tls-copy-agent');
    const url = withParams(m.url, { sslmode: 'require' });
    const input = Array.from({ length: 5000 }, (_, i) => `${i}\trow ${i}`).join('\n') + '\n';
    const r = await psql(url, ['-v', 'ON_ERROR_STOP=1', '-c', 'create table tls_t (id int, v text)', '-c', '\\copy tls_t from stdin'], input);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = await psql(url, ['-v', 'ON_ERROR_STOP=1', '-c', '\\copy (select * from tls_t order by id) to stdout']);
    expect(out.stdout).toBe(input);
  });
});
