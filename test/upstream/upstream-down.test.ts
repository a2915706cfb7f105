import net from 'node:net';
import pg from 'pg';
import { PG, adminQuery, createTestDatabase, uniqueName } from '../helpers/servers.js';
import { startTestProxy, targetYaml, type TestProxy } from '../helpers/proxy.js';
import { freePort } from '../helpers/free-port.js';
import { pollUntil, within } from '../helpers/poll.js';
import { AGENT_BACKENDS_SQL, watchClient } from '../helpers/client-watch.js';
import { startGatedRelay, type GatedRelay } from '../helpers/gated-relay.js';

type PgError = Error & { code?: string; severity?: string };

function yamlTarget(name: string, port: number, extra = ''): string {
  return `  - name: ${name}
    protocol: postgres
    host: 127.0.0.1
    port: ${port}
    database: nowhere
    user: postgres
${extra}`;
}

describe('upstream down or lost', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  let closedPort: number;
  /** accepts TCP connections and never answers */
  let silent: net.Server;
  /** accepts TCP connections and closes them at once */
  let slammer: net.Server;
  const silentSockets = new Set<net.Socket>();
  /** the real server behind a relay that holds connections until released */
  let relay: GatedRelay;

  beforeAll(async () => {
    db = await createTestDatabase('swdown');
    closedPort = await freePort();
    silent = net.createServer((s) => {
      silentSockets.add(s);
      s.on('close', () => silentSockets.delete(s));
      s.on('error', () => {});
      // read (and ignore) the startup packet, so the peer's FIN is seen and 'close' follows
      s.resume();
    });
    slammer = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => slammer.listen(0, '127.0.0.1', r));
    relay = await startGatedRelay(PG);
    tp = await startTestProxy({
      database: db.name,
      targetsYaml: [
        targetYaml('up', db.name),
        // a long connect timeout: a refusal must come from ECONNREFUSED, not from waiting it out
        yamlTarget('down', closedPort, '    connectTimeout: 20s\n'),
        yamlTarget('silent', (silent.address() as net.AddressInfo).port, '    connectTimeout: 1s\n'),
        yamlTarget('slammer', (slammer.address() as net.AddressInfo).port),
        `  - name: gated\n    protocol: postgres\n    host: 127.0.0.1\n    port: ${relay.port}\n    database: ${db.name}\n    user: ${PG.user}\n`,
      ].join(''),
    });
  });
  afterAll(async () => {
    await tp?.close();
    for (const s of silentSockets) s.destroy();
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
    await new Promise<void>((r) => (slammer ? slammer.close(() => r()) : r()));
    await relay?.close();
    await db?.drop();
  });

  async function refused(target: string): Promise<PgError> {
    const m = await tp.mint(uniqueName(`down_${target}`), { target });
    const c = new pg.Client({ connectionString: m.url });
    c.on('error', () => {});
    try {
      await c.connect();
    } catch (err) {
      return err as PgError;
    }
    await c.end();
    throw new Error(`expected the login to target ${target} to fail, but it succeeded`);
  }

  async function working(agent = uniqueName('down_up')): Promise<pg.Client> {
    const m = await tp.mint(agent, { target: 'up' });
    const c = new pg.Client({ connectionString: m.url });
    await c.connect();
    return c;
  }

  it('a target on a closed port: 08006 saying it could not connect and naming the target, at once (ECONNREFUSED, not a timeout)', async () => {
    const open = await working();
    try {
      const e = await refused('down');
      expect(e).toMatchObject({ severity: 'FATAL', code: '08006' });
      expect(e.message).toMatch(/could not connect/);
      expect(e.message).toContain('"down"');
      expect(e.message).toMatch(/ECONNREFUSED/);
      // the session that was already open is unharmed
      expect((await open.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await open.end();
    }
    // and the working target keeps serving new sessions, again and again
    for (let i = 0; i < 3; i++) {
      expect((await refused('down')).code).toBe('08006');
      const c = await working();
      try {
        expect((await c.query('select current_database() as db')).rows).toEqual([{ db: db.name }]);
      } finally {
        await c.end();
      }
    }
    const errs = await tp.metrics.upstreamErrors.get();
    expect(errs.values.find((v) => v.labels.target === 'down')?.value).toBeGreaterThanOrEqual(4);
    expect(errs.values.find((v) => v.labels.target === 'up')?.value ?? 0).toBe(0);
  });

  it('an upstream that accepts but never answers fails after the target connectTimeout with 08006 naming it', async () => {
    const e = await refused('silent');
    expect(e.code).toBe('08006');
    expect(e.message).toContain('"silent"');
    expect(e.message).toMatch(/within 1000 ms/);
    // the half-open upstream connection was not left behind
    await pollUntil('the proxy to drop its connection to the silent upstream', () => silentSockets.size === 0);
  });

  it('an upstream that closes the connection during login gives 08006 naming it', async () => {
    const e = await refused('slammer');
    expect(e.code).toBe('08006');
    expect(e.message).toContain('"slammer"');
    const c = await working();
    await c.end();
  });

  it('upstream backend terminated mid-session (idle): the client gets an error, other sessions and new ones are fine', async () => {
    const agent = uniqueName('down_kill');
    const victim = await working(agent);
    const watch = watchClient(victim);
    const neighbour = await working();
    try {
      const pid = (await victim.query('select pg_backend_pid() as pid')).rows[0].pid as number;
      const killed = await adminQuery(`select pg_terminate_backend(${pid}) as ok`);
      expect(killed.rows[0].ok).toBe(true);
      await pollUntil('the idle client to learn its connection is gone', () => watch.errors.length > 0 && watch.ended);
      // the upstream's own FATAL (57P01 admin shutdown) is relayed, or sqlwarden's 08006
      expect(['57P01', '08006']).toContain(watch.errors[0].code);
      await expect(victim.query('select 1')).rejects.toThrow();
      expect((await neighbour.query('select 2 as n')).rows).toEqual([{ n: 2 }]);
      const fresh = await working();
      try {
        expect((await fresh.query('select 3 as n')).rows).toEqual([{ n: 3 }]);
      } finally {
        await fresh.end();
      }
      expect((await adminQuery(AGENT_BACKENDS_SQL(agent), db.name)).rowCount).toBe(0);
    } finally {
      await victim.end().catch(() => {});
      await neighbour.end();
    }
  });

  it('upstream backend terminated in the middle of a query: the query fails, the proxy stays healthy', async () => {
    const agent = uniqueName('down_killq');
    const victim = await working(agent);
    const watch = watchClient(victim);
    try {
      const running = victim.query('select pg_sleep(20)').then(
        () => null,
        (err: PgError) => err,
      );
      const pid = await pollUntil('the query to run upstream', async () => {
        const r = await adminQuery(AGENT_BACKENDS_SQL(agent), db.name);
        return r.rows.find((x: { state: string; query: string }) => x.state === 'active' && x.query.includes('pg_sleep'))?.pid as number | undefined;
      });
      await adminQuery(`select pg_terminate_backend(${pid})`);
      const err = await within(running, 5000);
      expect(err).not.toBe('timeout');
      expect(err).toBeInstanceOf(Error);
      expect(['57P01', '08006']).toContain((err as PgError).code);
      await pollUntil('the client connection to end', () => watch.ended);
      const fresh = await working();
      try {
        expect((await fresh.query('select 4 as n')).rows).toEqual([{ n: 4 }]);
      } finally {
        await fresh.end();
      }
      // no session is left registered on the proxy
      await pollUntil('the proxy to have no live sessions', () => tp.proxy.registry.size === 0);
      // the admin listener still says healthy
      const health = await fetch(`http://127.0.0.1:${tp.adminPort}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await victim.end().catch(() => {});
    }
  });

  it('a client that gives up while sqlwarden is still logging in upstream leaves no upstream backend behind', async () => {
    const agent = uniqueName('down_giveup');
    const m = await tp.mint(agent, { target: 'gated' });
    const c = new pg.Client({ connectionString: m.url });
    c.on('error', () => {});
    const held = relay.nextConnection();
    const connecting = c.connect().then(
      () => null,
      (err: PgError) => err,
    );
    await held;
    // the client hangs up mid-login
    (c as unknown as { connection: { stream: net.Socket } }).connection.stream.destroy();
    expect(await within(connecting, 5000)).toBeInstanceOf(Error);
    const before = relay.stats().relayed;
    relay.release();
    try {
      // the held connection goes through to the server, and sqlwarden closes it
      await pollUntil('the held upstream connection to be relayed and then closed', () => relay.stats().relayed > before && relay.stats().open === 0);
      await pollUntil('no upstream backend of the departed client', async () => {
        const r = await adminQuery(AGENT_BACKENDS_SQL(agent), db.name);
        return r.rowCount === 0 ? true : undefined;
      });
      // and a later login through the same target works
      const m2 = await tp.mint(uniqueName('down_after'), { target: 'gated' });
      const c2 = new pg.Client({ connectionString: m2.url });
      await c2.connect();
      try {
        expect((await c2.query('select 5 as n')).rows).toEqual([{ n: 5 }]);
      } finally {
        await c2.end();
      }
    } finally {
      relay.hold();
    }
  });
});
