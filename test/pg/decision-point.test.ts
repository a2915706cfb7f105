import pg from 'pg';
import { createTestDatabase } from '../helpers/servers.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { MarkerDenyDecider } from '../helpers/deny-decider.js';

describe('decision point through the proxy (pg driver)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  const decider = new MarkerDenyDecider();

  beforeAll(async () => {
    db = await createTestDatabase();
    tp = await startTestProxy({ database: db.name, decider });
  });
  afterAll(async () => {
    await tp?.close();
    await db?.drop();
  });

  async function client(): Promise<pg.Client> {
    const m = await tp.mint('decision-agent', { labels: { team: 'qa' } });
    const c = new pg.Client(tp.pgOptions(m));
    await c.connect();
    return c;
  }

  it('denies a simple Query with 42501 naming the rule, and the connection stays usable', async () => {
    const c = await client();
    try {
      await expect(c.query('select 1 as forbidden_marker')).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('test-deny-marker') });
      const r = await c.query('select 2 as ok');
      expect(r.rows).toEqual([{ ok: 2 }]);
    } finally {
      await c.end();
    }
  });

  it('denies a Parse (extended protocol) and the connection stays usable', async () => {
    const c = await client();
    try {
      await expect(c.query('select $1::int as forbidden_marker', [1])).rejects.toMatchObject({ code: '42501' });
      await expect(c.query({ name: 'named1', text: 'select $1::int as forbidden_marker', values: [1] })).rejects.toMatchObject({ code: '42501' });
      const r = await c.query('select $1::int + 1 as n', [41]);
      expect(r.rows).toEqual([{ n: 42 }]);
    } finally {
      await c.end();
    }
  });

  it('a denial inside a transaction aborts it like any error would', async () => {
    const c = await client();
    try {
      await c.query('create table if not exists t_tx (id int)');
      await c.query('begin');
      await c.query('insert into t_tx values (1)');
      await expect(c.query('select 1 as forbidden_marker')).rejects.toMatchObject({ code: '42501' });
      // Postgres semantics: the transaction is now failed
      await expect(c.query('select 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('rollback');
      const r = await c.query('select count(*)::int as n from t_tx');
      expect(r.rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('passes the session identity to the decider', async () => {
    const c = await client();
    try {
      await c.query('select 42');
      const last = decider.seen[decider.seen.length - 1];
      expect(last.msg).toMatchObject({ dialect: 'postgres', carrier: 'query', sql: 'select 42' });
      expect(last.who).toMatchObject({ agent: 'decision-agent', labels: { team: 'qa' }, target: 'app' });
      expect(last.who.sessionId).toMatch(/^[0-9a-f]{16}$/);
    } finally {
      await c.end();
    }
  });

  it('tags the upstream session with the agent identity in application_name', async () => {
    const c = await client();
    try {
      const r = await c.query('select application_name from pg_stat_activity where pid = pg_backend_pid()');
      expect(r.rows[0].application_name).toMatch(/^sqlwarden:decision-agent:[0-9a-f]{16}$/);
    } finally {
      await c.end();
    }
  });
});
