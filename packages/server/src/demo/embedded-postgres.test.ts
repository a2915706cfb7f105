import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { DEMO_ROW_COUNTS } from './demo-schema.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

const START_TIMEOUT = 120_000;
const BUSY_TIMEOUT_MS = 1_500;
const MAX_CONNECTIONS = 6;

let db: EmbeddedPostgres;
const clients: pg.Client[] = [];

async function client(user = 'agent', password = 'anything'): Promise<pg.Client> {
  const c = new pg.Client({ host: db.host, port: db.port, user, password, database: 'whatever' });
  clients.push(c);
  await c.connect();
  return c;
}

beforeAll(async () => {
  db = await startEmbeddedPostgres({ port: 0, busyTimeoutMs: BUSY_TIMEOUT_MS, maxConnections: MAX_CONNECTIONS });
}, START_TIMEOUT);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
});

afterAll(async () => {
  await db?.stop();
});

// --- a raw protocol client, to drive messages one at a time ---
function frame(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);
const parse = (sql: string): Buffer => frame('P', Buffer.concat([cstr(''), cstr(sql), Buffer.from([0, 0])]));
const bind = (): Buffer => frame('B', Buffer.concat([cstr(''), cstr(''), Buffer.from([0, 0, 0, 0, 0, 0])]));
const execute = (): Buffer => frame('E', Buffer.concat([cstr(''), Buffer.from([0, 0, 0, 0])]));
const sync = (): Buffer => frame('S', Buffer.alloc(0));

class RawConn {
  #socket: Socket;
  #buf = Buffer.alloc(0);
  #waiters: Array<() => void> = [];
  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#waiters.splice(0).forEach((w) => w());
    });
  }
  static async open(port: number): Promise<RawConn> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new RawConn(socket);
    const params = Buffer.from('user\0raw\0database\0postgres\0\0');
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + params.length, 0);
    head.writeInt32BE(196608, 4);
    c.send(Buffer.concat([head, params]));
    await c.until('Z');
    return c;
  }
  send(b: Buffer): void {
    this.#socket.write(b);
  }
  /** messages received so far as 'T' / 'D:<first column>' / 'E:<sqlstate>' ..., consumed */
  take(): string[] {
    const out: string[] = [];
    let o = 0;
    while (o + 5 <= this.#buf.length) {
      const len = this.#buf.readInt32BE(o + 1);
      if (o + 1 + len > this.#buf.length) break;
      const t = String.fromCharCode(this.#buf[o]!);
      const body = this.#buf.subarray(o + 5, o + 1 + len);
      if (t === 'D') out.push(`D:${body.subarray(6, 6 + body.readInt32BE(2)).toString()}`);
      else if (t === 'E') out.push(`E:${body.toString().split('\0').find((f) => f.startsWith('C'))!.slice(1)}`);
      else if (t === 'Z') out.push(`Z:${String.fromCharCode(body[0]!)}`);
      else out.push(t);
      o += 1 + len;
    }
    this.#buf = this.#buf.subarray(o);
    return out;
  }
  /** waits until a message of this type has arrived, then returns (and consumes) everything so far */
  async until(type: string, timeoutMs = 10_000): Promise<string[]> {
    const seen: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      seen.push(...this.take());
      if (seen.some((m) => m === type || m.startsWith(`${type}:`))) return seen;
      if (Date.now() > deadline) throw new Error(`no ${type} within ${timeoutMs}ms, got ${seen.join(' ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  close(): void {
    this.#socket.destroy();
  }
}

describe('startEmbeddedPostgres', () => {
  test('serves the seeded demo schema on an ephemeral port, over the extended protocol', async () => {
    expect(db.host).toBe('127.0.0.1');
    expect(db.port).toBeGreaterThan(0);
    expect(db.url).toBe(`postgres://postgres:postgres@127.0.0.1:${db.port}/postgres?sslmode=disable`);
    expect(db.maxConnections).toBe(MAX_CONNECTIONS);

    const c = await client();
    const byEmail = await c.query<{ id: number; full_name: string }>('SELECT id, full_name FROM customers WHERE email = $1', ['maria.garcia@example.com']);
    expect(byEmail.rows).toEqual([{ id: 1, full_name: 'Maria Garcia' }]);
    const count = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    expect(count.rows[0]!.n).toBe(20);

    for (const [table, n] of Object.entries(DEMO_ROW_COUNTS)) {
      const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      expect([table, r.rows[0]!.n]).toEqual([table, n]);
    }
    // the sequences were moved past the seeded ids
    const ins = await c.query<{ id: number }>("INSERT INTO customers (full_name, email) VALUES ('New Person', 'new.person@example.com') RETURNING id");
    expect(ins.rows[0]!.id).toBe(21);
    await c.query('DELETE FROM customers WHERE id = 21');
  });

  test('accepts any user and password, answers SSLRequest with N, runs plpgsql', async () => {
    const c = await client('someone-else', 'wrong');
    const who = await c.query<{ u: string; d: string }>('SELECT current_user AS u, current_database() AS d');
    expect(who.rows[0]).toEqual({ u: 'postgres', d: 'postgres' });
    await expect(c.query("DO $$ BEGIN RAISE EXCEPTION 'boom' USING ERRCODE = 'P0001'; END $$")).rejects.toMatchObject({ code: 'P0001', message: 'boom' });

    const tls = new pg.Client({ host: db.host, port: db.port, user: 'x', ssl: true });
    await expect(tls.connect()).rejects.toThrow(/does not support SSL/);
    await tls.end().catch(() => {});
  });

  test('extended-protocol batches of two connections never interleave', async () => {
    const a = await RawConn.open(db.port);
    const b = await RawConn.open(db.port);
    try {
      // A's Parse sits unsynced while B runs a whole batch with its own unnamed statement
      a.send(parse("SELECT 'from A'"));
      b.send(Buffer.concat([parse("SELECT 'from B'"), bind(), execute(), sync()]));
      expect(await b.until('Z')).toEqual(['1', '2', 'D:from B', 'C', 'Z:I']);
      a.send(Buffer.concat([bind(), execute(), sync()]));
      expect(await a.until('Z')).toEqual(['1', '2', 'D:from A', 'C', 'Z:I']);
    } finally {
      a.close();
      b.close();
    }
  });

  test('an unknown message type ends that connection with 08P01 and never reaches PGlite (which would spin)', async () => {
    const raw = await RawConn.open(db.port);
    try {
      raw.send(frame('Y', Buffer.alloc(0)));
      expect(await raw.until('E')).toEqual(['E:08P01']);
    } finally {
      raw.close();
    }
    const c = await client();
    expect((await c.query('SELECT $1::int AS x', [1])).rows).toEqual([{ x: 1 }]);
  });

  test('a transaction holds the backend: others wait for its commit, see committed data only', async () => {
    const a = await client('a');
    const b = await client('b');
    await a.query('BEGIN');
    await a.query("UPDATE orders SET status = 'refunded' WHERE id = 1");
    let bDone = false;
    const bRead = b.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [1]).finally(() => (bDone = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(bDone).toBe(false);
    await a.query('COMMIT');
    expect((await bRead).rows[0]!.status).toBe('refunded');
  });

  test('a connection that leaves inside a transaction is rolled back, and the others go on', async () => {
    const a = await client('a');
    const b = await client('b');
    const before = (await b.query<{ body: string }>('SELECT body FROM support_tickets WHERE id = 1')).rows[0]!.body;
    await a.query('BEGIN');
    await a.query("UPDATE support_tickets SET body = 'lost' WHERE id = 1");
    const bRead = b.query<{ body: string }>('SELECT body FROM support_tickets WHERE id = $1', [1]);
    await new Promise((r) => setTimeout(r, 200));
    await a.end();
    expect((await bRead).rows[0]!.body).toBe(before);
  });

  test('a statement that waits too long for another transaction fails with 55P03, its connection stays usable', async () => {
    const a = await client('a');
    const b = await client('b');
    await a.query('BEGIN');
    const started = Date.now();
    await expect(b.query('SELECT 1 AS x')).rejects.toMatchObject({ code: '55P03' });
    await expect(b.query('SELECT $1::int AS x', [2])).rejects.toMatchObject({ code: '55P03' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * BUSY_TIMEOUT_MS - 100);
    await a.query('ROLLBACK');
    expect((await b.query('SELECT $1::int AS x', [3])).rows).toEqual([{ x: 3 }]);
  });

  test('COPY FROM STDIN and COPY TO STDOUT (simple protocol)', async () => {
    const c = await client();
    await c.query('CREATE TEMP TABLE copy_in (id int, note text)');
    await pipeline(Readable.from(['1\tone\n', '2\ttwo\n', '3\tthree\n']), c.query(copyFrom('COPY copy_in FROM STDIN')));
    expect((await c.query('SELECT count(*)::int AS n FROM copy_in')).rows).toEqual([{ n: 3 }]);

    // a bad row fails the COPY; the connection goes on
    await expect(pipeline(Readable.from(['4\tfour\n', 'x\tbad\n']), c.query(copyFrom('COPY copy_in FROM STDIN')))).rejects.toMatchObject({ code: '22P02' });
    expect((await c.query('SELECT count(*)::int AS n FROM copy_in')).rows).toEqual([{ n: 3 }]);

    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    await pipeline(c.query(copyTo('COPY (SELECT id, email FROM customers ORDER BY id LIMIT 2) TO STDOUT')), sink);
    expect(out).toBe('1\tmaria.garcia@example.com\n2\tjsmith@example.org\n');
    await c.query('DROP TABLE copy_in');
  });

  test('COPY FROM STDIN over the extended protocol is refused (PGlite would die), not run', async () => {
    const c = await client();
    await expect(c.query({ name: 'copy-orders', text: 'COPY orders FROM STDIN' })).rejects.toMatchObject({ code: '0A000' });
    expect((await c.query('SELECT $1::text AS ok', ['yes'])).rows).toEqual([{ ok: 'yes' }]);
  });

  test(`refuses connection ${MAX_CONNECTIONS + 1} with 53300 and takes one again when a slot frees`, async () => {
    // the connections of earlier tests are closed, but the server may not have seen every FIN yet
    await new Promise((r) => setTimeout(r, 300));
    const open: pg.Client[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) open.push(await client(`c${i}`));
    const extra = new pg.Client({ host: db.host, port: db.port, user: 'extra' });
    await expect(extra.connect()).rejects.toMatchObject({ code: '53300' });
    await extra.end().catch(() => {});
    await open[0]!.end();
    await new Promise((r) => setTimeout(r, 100));
    const again = await client('again');
    expect((await again.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
  });
});

describe('stop', () => {
  test('frees the port; stop is idempotent', async () => {
    const other = await startEmbeddedPostgres({ seedSql: false });
    const c = new pg.Client({ host: other.host, port: other.port, user: 'x' });
    c.on('error', () => {}); // stop() ends this connection
    await c.connect();
    expect((await c.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
    await Promise.all([other.stop(), other.stop()]);
    await c.end().catch(() => {});
    const late = new pg.Client({ host: other.host, port: other.port, user: 'x' });
    await expect(late.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await late.end().catch(() => {});
  }, START_TIMEOUT);
});

describe('dataDirCache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-embedded-pg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the first start writes a snapshot of the seeded data directory, the next starts from it', async () => {
    const seedSql = "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('seeded once');";
    for (const round of [1, 2]) {
      const pgs = await startEmbeddedPostgres({ seedSql, dataDirCache: dir });
      const c = new pg.Client({ connectionString: pgs.url });
      c.on('error', () => {});
      await c.connect();
      expect([round, (await c.query('SELECT v FROM marker')).rows]).toEqual([round, [{ v: 'seeded once' }]]);
      await c.end();
      await pgs.stop();
      expect(readdirSync(dir).filter((f) => f.endsWith('.tar.gz'))).toHaveLength(1);
    }
  }, START_TIMEOUT);
});
