/**
 * KILL across sqlwarden instances: two MySQL listeners sharing one Redis store. A KILL for a
 * connection id the instance does not have is relayed with the asking agent; only a session of that
 * agent on the owning instance acts, and its answer decides between OK and 1094.
 */
import type mysql from 'mysql2/promise';
import { adminMysqlQuery, createMysqlTestTarget, startMysqlTestProxy, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';
import { pollUntil } from '../helpers/poll.js';
import { cleanRedisPrefix } from '../helpers/proxy.js';
import { REDIS_URL, uniqueName } from '../helpers/servers.js';

describe('KILL across sqlwarden instances (shared Redis)', () => {
  const prefix = `${uniqueName('swtest_mykill')}:`;
  let target: MysqlTestTarget;
  let one: MysqlTestProxy;
  let two: MysqlTestProxy;
  const open: mysql.Connection[] = [];

  beforeAll(async () => {
    target = await createMysqlTestTarget('swkill');
    const extraYaml = `redis: ${REDIS_URL}\nredisPrefix: "${prefix}"\n`;
    one = await startMysqlTestProxy({ target, extraYaml });
    two = await startMysqlTestProxy({ target, extraYaml });
  }, 60_000);

  afterAll(async () => {
    for (const c of open) c.destroy();
    await one?.close();
    await two?.close();
    await target?.drop();
    await cleanRedisPrefix(prefix);
  });

  async function connect(tp: MysqlTestProxy, agent: string): Promise<mysql.Connection> {
    const c = await tp.connect(await one.mint(agent));
    c.on('error', () => {});
    open.push(c);
    return c;
  }

  const SLEEP = 'SELECT SLEEP(30) AS s';
  async function sleepsUpstream(): Promise<number> {
    const rows = await adminMysqlQuery<{ n: number }[]>(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO = '${SLEEP}' AND DB = '${target.database}'`);
    return Number(rows[0]!.n);
  }

  function outcomeOf(p: Promise<unknown>): Promise<{ rows: unknown } | { errno: number | undefined }> {
    return p.then(
      (r) => ({ rows: (r as [unknown])[0] }),
      (err: { errno?: number }) => ({ errno: err.errno }),
    );
  }

  it('KILL QUERY from the same agent on another instance interrupts the statement; another agent gets 1094', async () => {
    const a = await connect(one, 'kill-agent-a');
    const sameAgentElsewhere = await connect(two, 'kill-agent-a');
    const stranger = await connect(two, 'kill-agent-b');
    const strangerHere = await connect(one, 'kill-agent-b');
    const running = outcomeOf(a.query(SLEEP));
    await pollUntil('the sleep to start', async () => (await sleepsUpstream()) > 0);

    // another agent, on either instance: Unknown thread id, and the statement goes on
    await expect(stranger.query(`KILL QUERY ${a.threadId}`)).rejects.toMatchObject({ errno: 1094, message: `Unknown thread id: ${a.threadId}` });
    await expect(stranger.query(`KILL ${a.threadId}`)).rejects.toMatchObject({ errno: 1094 });
    await expect(strangerHere.query(`KILL QUERY ${a.threadId}`)).rejects.toMatchObject({ errno: 1094 });
    expect(await sleepsUpstream()).toBe(1);
    // an id no instance has
    const unknown = a.threadId === 1 ? 2 : 1;
    await expect(sameAgentElsewhere.query(`KILL QUERY ${unknown}`)).rejects.toMatchObject({ errno: 1094 });

    // the same agent on the other instance: OK once the owner killed the statement
    await sameAgentElsewhere.query(`KILL QUERY ${a.threadId}`);
    const outcome = await running;
    // MariaDB answers an interrupted SLEEP with 1 (or ER_QUERY_INTERRUPTED)
    if ('errno' in outcome) expect(outcome.errno).toBe(1317);
    else expect(outcome.rows).toEqual([{ s: 1 }]);
    // KILL QUERY leaves the session usable
    const [rows] = await a.query('SELECT 7 AS seven');
    expect(rows).toEqual([{ seven: 7 }]);
    const [still] = await stranger.query('SELECT 1 AS one');
    expect(still).toEqual([{ one: 1 }]);
  }, 60_000);

  it('KILL CONNECTION from the same agent on another instance ends the session and its upstream thread', async () => {
    const a = await connect(one, 'kill-agent-c');
    const elsewhere = await connect(two, 'kill-agent-c');
    const [idRows] = await a.query<mysql.RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
    const upstreamThread = Number(idRows[0]!.id);
    const ended = new Promise<void>((resolve) => a.once('end', () => resolve()));
    const running = outcomeOf(a.query(SLEEP));
    await pollUntil('the sleep to start', async () => (await sleepsUpstream()) > 0);

    // another agent cannot
    const stranger = await connect(two, 'kill-agent-d');
    await expect(stranger.query(`KILL CONNECTION ${a.threadId}`)).rejects.toMatchObject({ errno: 1094 });
    expect(await sleepsUpstream()).toBe(1);

    await elsewhere.query(`KILL CONNECTION ${a.threadId}`);
    const outcome = await running;
    // "Connection was killed" (the database's or sqlwarden's), or "lost the connection" when the killed
    // upstream connection's close is seen before the KILL's answer
    expect([1927, 2013]).toContain('errno' in outcome ? outcome.errno : outcome);
    await ended;
    await expect(a.query('SELECT 1')).rejects.toBeDefined();
    // the upstream thread is gone too
    await pollUntil('the upstream thread to go', async () => {
      const rows = await adminMysqlQuery<unknown[]>(`SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ${upstreamThread}`);
      return rows.length === 0;
    });
    const [rows] = await elsewhere.query('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
  }, 60_000);

  it('connection ids are random per session, non-zero 32-bit values', async () => {
    const ids = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const c = await connect(i % 2 ? one : two, 'kill-agent-ids');
      expect(c.threadId).toBeGreaterThan(0);
      expect(c.threadId).toBeLessThan(2 ** 31);
      ids.add(c.threadId!);
      await c.end();
    }
    expect(ids.size).toBe(6);
  });
});
