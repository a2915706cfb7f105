import pg from 'pg';
import { EmbeddedPgServer } from './embedded-pg-server.js';

// PGlite on the test's own thread (the in-process mode), and the recovery path after PGlite dies
const START_TIMEOUT = 120_000;
const SEED = "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'seeded');";

let server: EmbeddedPgServer;
const logs: string[] = [];

beforeAll(async () => {
  server = await EmbeddedPgServer.start({ port: 0, seedSql: SEED, log: (m) => logs.push(m) });
}, START_TIMEOUT);

afterAll(async () => {
  await server?.stop();
});

async function connectWhenUp(deadlineMs: number): Promise<pg.Client> {
  for (;;) {
    const c = new pg.Client({ host: server.host, port: server.port, user: 'x' });
    c.on('error', () => {});
    try {
      await c.connect();
      return c;
    } catch (e) {
      await c.end().catch(() => {});
      if (Date.now() > deadlineMs) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test('when PGlite dies, connections end with 57P01 and a fresh seeded instance takes over', async () => {
  const c = new pg.Client({ host: server.host, port: server.port, user: 'x' });
  const errors: Array<{ code?: string }> = [];
  c.on('error', (e: Error & { code?: string }) => errors.push(e));
  await c.connect();
  await c.query("UPDATE notes SET body = 'changed' WHERE id = 1");
  expect((await c.query('SELECT body FROM notes')).rows).toEqual([{ body: 'changed' }]);

  server.onFatal(new Error('simulated exit(1)'));
  for (const end = Date.now() + 30_000; errors.length === 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 25));
  expect(errors.map((e) => e.code)).toContain('57P01');
  await c.end().catch(() => {});
  expect(server.stats.restarts).toBe(1);
  expect(logs.join('\n')).toMatch(/restarting it with fresh demo data/);

  // new connections wait for the new instance, then see the seed again
  const d = await connectWhenUp(Date.now() + 90_000);
  expect((await d.query('SELECT body FROM notes WHERE id = $1', [1])).rows).toEqual([{ body: 'seeded' }]);
  await d.end();
}, START_TIMEOUT);
