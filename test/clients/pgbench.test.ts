import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminQuery, createTestDatabase } from '../helpers/servers.js';
import { startTestProxy, type MintedForTest, type TestProxy } from '../helpers/proxy.js';
import { MarkerDenyDecider } from '../helpers/deny-decider.js';
import { killAllCli, PGBENCH, runCli, type CliResult } from '../helpers/run-cli.js';

const LONG = 90_000;

interface BenchSummary {
  processed: number;
  failed: number | null;
  tps: number | null;
}

/** Reads pgbench's closing report; throws when the transaction count is missing. */
function summary(r: CliResult): BenchSummary {
  const processed = /number of transactions actually processed: (\d+)/.exec(r.stdout);
  if (!processed) throw new Error(`no transaction count in pgbench output:\n${r.stdout}\n${r.stderr}`);
  const failed = /number of failed transactions: (\d+)/.exec(r.stdout);
  const tps = /tps = ([\d.]+)/.exec(r.stdout);
  return { processed: Number(processed[1]), failed: failed ? Number(failed[1]) : null, tps: tps ? Number(tps[1]) : null };
}

describe('pgbench through the proxy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  let m: MintedForTest;
  let dir: string;
  const decider = new MarkerDenyDecider();

  beforeAll(async () => {
    db = await createTestDatabase('swpgbench');
    tp = await startTestProxy({ database: db.name, decider });
    m = await tp.mint('pgbench-agent', { ttlMs: 30 * 60_000 });
    dir = mkdtempSync(join(tmpdir(), 'sqlwarden-pgbench-'));
  });
  afterAll(async () => {
    killAllCli();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await tp?.close();
    await db?.drop();
  });

  function pgbench(args: string[]): Promise<CliResult> {
    return runCli(PGBENCH, args, {
      timeoutMs: 75_000,
      env: { PGHOST: tp.host, PGPORT: String(tp.port), PGUSER: m.user, PGPASSWORD: m.password, PGDATABASE: db.name, PGSSLMODE: 'disable' },
    });
  }

  it('initializes with pgbench -i -s 1 (DDL, COPY FROM STDIN, VACUUM, keys)', async () => {
    const r = await pgbench(['-i', '-s', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/done in/);
    expect(r.stderr).not.toMatch(/ERROR|FATAL/);
    // checked directly against the database, not through the proxy
    const counts = await adminQuery(
      `select (select count(*) from pgbench_accounts)::int as accounts, (select count(*) from pgbench_branches)::int as branches,
              (select count(*) from pgbench_tellers)::int as tellers, (select count(*) from pgbench_history)::int as history,
              (select sum(aid) from pgbench_accounts)::bigint as aidsum`,
      db.name,
    );
    expect(counts.rows[0]).toEqual({ accounts: 100_000, branches: 1, tellers: 10, history: 0, aidsum: String((100_000 * 100_001) / 2) });
    const pk = await adminQuery("select count(*)::int as n from pg_constraint where contype = 'p' and conrelid::regclass::text like 'pgbench_%'", db.name);
    expect(pk.rows[0].n).toBe(3);
    // the init went through the decision point, COPY included
    expect(decider.seen.some((s) => /copy pgbench_accounts/i.test(s.msg.sql))).toBe(true);
  }, LONG);

  it.each(['simple', 'extended', 'prepared'])('runs pgbench -S -T 3 -c 4 -j 2 --protocol=%s with no failures', async (protocol) => {
    const r = await pgbench(['-S', '-T', '3', '-c', '4', '-j', '2', `--protocol=${protocol}`, '-n']);
    expect(r.stderr).not.toMatch(/ERROR|FATAL|aborted/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`query mode: ${protocol}`));
    expect(r.stdout).toMatch(/number of clients: 4/);
    const s = summary(r);
    expect(s.processed).toBeGreaterThan(0);
    if (s.failed !== null) expect(s.failed).toBe(0);
    expect(s.tps).not.toBeNull();
  }, LONG);

  it('runs the default TPC-B-like read-write script briefly with no failures', async () => {
    const before = (await adminQuery('select count(*)::int as n from pgbench_history', db.name)).rows[0].n as number;
    const r = await pgbench(['-T', '2', '-c', '2', '-j', '2', '--protocol=prepared', '-n']);
    expect(r.stderr).not.toMatch(/ERROR|FATAL|aborted/);
    expect(r.code).toBe(0);
    const s = summary(r);
    expect(s.processed).toBeGreaterThan(0);
    if (s.failed !== null) expect(s.failed).toBe(0);
    // every transaction inserts one history row: the writes really happened upstream
    const after = (await adminQuery('select count(*)::int as n from pgbench_history', db.name)).rows[0].n as number;
    expect(after - before).toBe(s.processed);
  }, LONG);

  it('aborts a client whose script is denied, naming the rule, in every protocol', async () => {
    const file = join(dir, 'denied.sql');
    writeFileSync(file, '\\set aid random(1, 100000)\nselect abalance from pgbench_accounts where aid = :aid /* forbidden_marker */;\n');
    for (const protocol of ['simple', 'extended', 'prepared']) {
      const r = await pgbench(['-f', file, '-t', '3', '-c', '1', `--protocol=${protocol}`, '-n']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/test-deny-marker/);
    }
    // an allowed custom script with a variable works in prepared mode
    const ok = join(dir, 'ok.sql');
    writeFileSync(ok, '\\set aid random(1, 100000)\nselect abalance from pgbench_accounts where aid = :aid;\n');
    const r = await pgbench(['-f', ok, '-t', '50', '-c', '2', '--protocol=prepared', '-n']);
    expect(r.code).toBe(0);
    expect(summary(r).processed).toBe(100);
  }, LONG);
});
