/**
 * sysbench's OLTP workloads through sqlwarden's MySQL listener against the local MariaDB, in both
 * --db-ps-mode settings (auto: server-side prepared statements, COM_STMT_PREPARE/EXECUTE with binary
 * rows; disable: every statement as COM_QUERY text). The tables are prepared directly against the
 * database; sysbench's cleanup (DROP TABLE) through sqlwarden is refused by the default policy.
 * Only completion, errors and counts are asserted, never timings or throughput.
 */
import { existsSync } from 'node:fs';
import { adminMysqlQuery, createMysqlTestTarget, MYSQL, startMysqlTestProxy, type MintedMysql, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';
import { killAllCli, runCli, type CliResult } from '../helpers/run-cli.js';

const SYSBENCH = process.env.SYSBENCH_BIN ?? '/usr/bin/sysbench';
const HAVE_SYSBENCH = existsSync(SYSBENCH);
const LONG = 90_000;
const TABLES = 2;
const TABLE_SIZE = 1000;

if (!HAVE_SYSBENCH) {
  // eslint-disable-next-line no-console
  console.warn(`sysbench tests skipped: ${SYSBENCH} is missing (install sysbench, or set SYSBENCH_BIN)`);
}

interface SysbenchSummary {
  transactions: number;
  queries: number;
  errors: number;
}

/** Reads sysbench's closing report; throws when it is missing. */
function summary(r: CliResult): SysbenchSummary {
  const tx = /transactions:\s+(\d+)/.exec(r.stdout);
  const q = /queries:\s+(\d+)/.exec(r.stdout);
  const errors = /ignored errors:\s+(\d+)/.exec(r.stdout);
  if (!tx || !q || !errors) throw new Error(`no summary in sysbench output (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return { transactions: Number(tx[1]), queries: Number(q[1]), errors: Number(errors[1]) };
}

/**
 * The summary of a run that exited 0 with no errors (sysbench's output in the failure message otherwise).
 * `deadlocks`: InnoDB deadlocks and lock wait timeouts (1213, 1205), which sysbench ignores and retries
 * by default, are allowed when each one is in the run's debug log (--verbosity=5): two read-write
 * threads on 1000 rows hit them directly against MariaDB too. Any other error fails.
 */
function clean(r: CliResult, deadlocks = false): SysbenchSummary {
  const s = /transactions:/.test(r.stdout) ? summary(r) : null;
  const retried = deadlocks ? (r.stdout.match(/Ignoring error (1213|1205) /g) ?? []).length : 0;
  if (r.code !== 0 || /FATAL|error/i.test(r.stderr) || !s || s.errors !== retried) {
    throw new Error(`sysbench failed (exit ${r.code}, ${s ? s.errors : '?'} ignored errors):\n${r.stdout}\n${r.stderr}`);
  }
  return s;
}

/** The value of sqlwarden_statements_total for a mysql agent and decision (0 when absent). */
async function statements(tp: MysqlTestProxy, agent: string, decision: 'allow' | 'deny'): Promise<number> {
  const text = await tp.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`sqlwarden_statements_total{protocol="mysql",agent="${agent}",decision="${decision}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const describeIf = HAVE_SYSBENCH ? describe : describe.skip;

describeIf('sysbench through sqlwarden (MySQL)', () => {
  let target: MysqlTestTarget;
  let tp: MysqlTestProxy;

  beforeAll(async () => {
    target = await createMysqlTestTarget('swsb');
    tp = await startMysqlTestProxy({ target });
    // prepared directly: sysbench's prepare is DDL + bulk INSERT, not what this test is about
    const r = await sysbench('oltp_read_only', 'prepare', { host: MYSQL.host, port: MYSQL.port, user: target.user, password: target.password });
    if (r.code !== 0) throw new Error(`sysbench prepare failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }, LONG);
  afterAll(async () => {
    killAllCli();
    await tp?.close();
    await target?.drop();
  });

  function sysbench(test: string, command: string, to: { host: string; port: number; user: string; password: string }, extra: string[] = []): Promise<CliResult> {
    return runCli(
      SYSBENCH,
      [
        test,
        `--mysql-host=${to.host}`,
        `--mysql-port=${to.port}`,
        `--mysql-user=${to.user}`,
        `--mysql-password=${to.password}`,
        `--mysql-db=${target.database}`,
        '--mysql-ssl=off',
        `--tables=${TABLES}`,
        `--table-size=${TABLE_SIZE}`,
        ...extra,
        command,
      ],
      { timeoutMs: 75_000 },
    );
  }

  function viaProxy(m: MintedMysql): { host: string; port: number; user: string; password: string } {
    return { host: tp.host, port: tp.port, user: m.user, password: m.password };
  }

  async function rowCount(): Promise<number> {
    const rows = await adminMysqlQuery<{ n: number }[]>(`SELECT (SELECT COUNT(*) FROM sbtest1) + (SELECT COUNT(*) FROM sbtest2) AS n`, target.database);
    return Number(rows[0]!.n);
  }

  it('the tables are in place (prepared directly)', async () => {
    expect(await rowCount()).toBe(TABLES * TABLE_SIZE);
  });

  it.each(['auto', 'disable'])(
    'runs oltp_read_only --db-ps-mode=%s with no errors, its statements judged',
    async (mode) => {
      const agent = `sysbench-ro-${mode}`;
      const m = await tp.mint(agent);
      const before = await statements(tp, agent, 'allow');
      const r = await sysbench('oltp_read_only', 'run', viaProxy(m), ['--threads=2', '--events=200', '--time=0', `--db-ps-mode=${mode}`]);
      const s = clean(r);
      expect(s.transactions).toBeGreaterThan(0);
      const judged = (await statements(tp, agent, 'allow')) - before;
      if (mode === 'disable') {
        // every query sysbench counted is COM_QUERY text through the decision point (BEGIN/COMMIT included)
        expect(judged).toBeGreaterThanOrEqual(s.queries);
      } else {
        // server-side prepared statements are judged once, at COM_STMT_PREPARE (each thread prepares its
        // own: 10 point selects share one text, + simple/sum/order/distinct ranges, BEGIN, COMMIT);
        // COM_STMT_EXECUTE runs what was judged then
        expect(judged).toBeGreaterThan(0);
        expect(judged).toBeLessThan(s.queries);
      }
      expect(await statements(tp, agent, 'deny')).toBe(0);
    },
    LONG,
  );

  it.each(['auto', 'disable'])(
    'runs oltp_read_write --db-ps-mode=%s: its UPDATE/DELETE/INSERT by id are allowed by the default policy',
    async (mode) => {
      const agent = `sysbench-rw-${mode}`;
      const m = await tp.mint(agent);
      const before = await statements(tp, agent, 'allow');
      const r = await sysbench('oltp_read_write', 'run', viaProxy(m), ['--threads=2', '--events=200', '--time=0', `--db-ps-mode=${mode}`, '--verbosity=5']);
      const s = clean(r, true);
      expect(s.transactions).toBeGreaterThan(0);
      expect(/write:\s+(\d+)/.exec(r.stdout)?.[1]).not.toBe('0');
      const judged = (await statements(tp, agent, 'allow')) - before;
      // text: every query judged; prepared: judged at COM_STMT_PREPARE (see above)
      if (mode === 'disable') expect(judged).toBeGreaterThanOrEqual(s.queries);
      else expect(judged).toBeGreaterThan(0);
      expect(await statements(tp, agent, 'deny')).toBe(0);
      // each DELETE is followed by an INSERT of the same id: the row count is unchanged
      expect(await rowCount()).toBe(TABLES * TABLE_SIZE);
    },
    LONG,
  );

  it(
    "sysbench cleanup through sqlwarden fails on its DROP TABLE, naming the rule, and the tables stay",
    async () => {
      const agent = 'sysbench-cleanup';
      const m = await tp.mint(agent);
      const r = await sysbench('oltp_read_only', 'cleanup', viaProxy(m));
      expect(r.code).not.toBe(0);
      expect(`${r.stdout}\n${r.stderr}`).toMatch(/1227.*no-drop-or-truncate|no-drop-or-truncate[\s\S]*DROP TABLE/);
      expect(await statements(tp, agent, 'deny')).toBeGreaterThan(0);
      const tables = await adminMysqlQuery<unknown[]>("SHOW TABLES LIKE 'sbtest%'", target.database);
      expect(tables).toHaveLength(TABLES);
      expect(await rowCount()).toBe(TABLES * TABLE_SIZE);
    },
    LONG,
  );
});
