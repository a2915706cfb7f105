/**
 * Session-level commands through sqlwarden's MySQL listener with mysql2 against the local MariaDB:
 * sql_mode = CONCAT(@@sql_mode, ...) judged against the session's known mode (Rails' connect statement),
 * COM_CHANGE_USER re-authenticated against minted credentials, LOAD DATA LOCAL INFILE under a policy
 * allowance, and revocation of idle sessions.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type mysql from 'mysql2/promise';
import { createMysqlTestTarget, MYSQL, startMysqlTestProxy, type MintedMysql, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';
import { pollUntil } from '../helpers/poll.js';

const RAILS_CONNECT =
  "SET @@SESSION.sql_mode = CONCAT(CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), ',NO_AUTO_VALUE_ON_ZERO'), @@SESSION.sql_auto_is_null = 0, @@SESSION.wait_timeout = 2147483";

describe('MySQL session commands through sqlwarden', () => {
  let target: MysqlTestTarget;
  let tp: MysqlTestProxy;

  beforeAll(async () => {
    target = await createMysqlTestTarget();
    tp = await startMysqlTestProxy({ target });
  });
  afterAll(async () => {
    await tp?.close();
    await target?.drop();
  });

  describe('sql_mode = CONCAT(@@sql_mode, ...)', () => {
    it("allows Rails' connect statement, evaluated against the session's sql_mode", async () => {
      const c = await tp.connect(await tp.mint('rails-agent'));
      try {
        const [[before]] = (await c.query('SELECT @@session.sql_mode AS m')) as unknown as [{ m: string }[]];
        await c.query(RAILS_CONNECT);
        const [[after]] = (await c.query('SELECT @@session.sql_mode AS m, @@session.sql_auto_is_null AS a')) as unknown as [{ m: string; a: number }[]];
        expect(after!.m.split(',')).toEqual(expect.arrayContaining([...before!.m.split(',').filter(Boolean), 'STRICT_ALL_TABLES', 'NO_AUTO_VALUE_ON_ZERO']));
        expect(after!.a).toBe(0);
        // the mode is followed: a second CONCAT builds on the new one
        await c.query("SET sql_mode = CONCAT(@@sql_mode, ',ONLY_FULL_GROUP_BY')");
        const [[again]] = (await c.query('SELECT @@session.sql_mode AS m')) as unknown as [{ m: string }[]];
        expect(again!.m).toContain('ONLY_FULL_GROUP_BY');
        expect(again!.m).toContain('NO_AUTO_VALUE_ON_ZERO');
      } finally {
        await c.end();
      }
    });

    it('denies a CONCAT that adds a mode changing how SQL is read, naming the rule', async () => {
      const c = await tp.connect(await tp.mint('rails-agent'));
      try {
        await expect(c.query("SET @@SESSION.sql_mode = CONCAT(CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), ',ANSI_QUOTES')")).rejects.toMatchObject({
          errno: 1227,
          message: expect.stringContaining('no-unsafe-sql-mode'),
        });
        // anything else than CONCAT of @@sql_mode and literals stays non-constant: denied
        await expect(c.query("SET sql_mode = CONCAT(@@global.sql_mode, ',STRICT_ALL_TABLES')")).rejects.toMatchObject({ errno: 1227, message: expect.stringContaining('no-unsafe-sql-mode') });
        await expect(c.query("SET sql_mode = REPLACE(@@sql_mode, 'STRICT_TRANS_TABLES', 'ANSI_QUOTES')")).rejects.toMatchObject({ errno: 1227 });
        const [[m]] = (await c.query('SELECT @@session.sql_mode AS m')) as unknown as [{ m: string }[]];
        expect(m!.m).not.toContain('ANSI_QUOTES');
      } finally {
        await c.end();
      }
    });

    it('after COM_RESET_CONNECTION the mode is read again', async () => {
      const c = await tp.connect(await tp.mint('rails-agent'));
      try {
        await c.query("SET sql_mode = 'STRICT_ALL_TABLES'");
        const base = (c as unknown as { connection: { reset(cb: (e: unknown) => void): void } }).connection;
        await new Promise<void>((res, rej) => base.reset((e) => (e ? rej(e) : res())));
        await c.query(RAILS_CONNECT);
        const [[m]] = (await c.query('SELECT @@session.sql_mode AS m')) as unknown as [{ m: string }[]];
        expect(m!.m).toContain('NO_AUTO_VALUE_ON_ZERO');
      } finally {
        await c.end();
      }
    });
  });

  describe('with a policy that allows LOCAL INFILE to etl-* agents and masks emails for pii=masked', () => {
    const POLICY = `version: 1
mysql:
  local_infile:
    - agents: ["etl-*"]
masks:
  - id: pii-emails
    columns: ["*.people.email"]
    function: email
    labels: { pii: masked }
`;
    let dir: string;
    let tp2: MysqlTestProxy;
    let relay: RewritingRelay;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sw-mysql-policy-'));
      copyFileSync(join(process.cwd(), 'policies', 'default.yaml'), join(dir, 'default.yaml'));
      writeFileSync(join(dir, 'session.yaml'), POLICY);
      // a database in the middle that asks the client for another file than the statement names
      relay = await startRewritingRelay({ host: MYSQL.host, port: MYSQL.port }, Buffer.from('\xfb/tmp/asked', 'latin1'), Buffer.from('\xfb/etc/hosts', 'latin1'));
      tp2 = await startMysqlTestProxy({
        target,
        tweak: (cfg) => {
          cfg.policies = dir;
          const app = cfg.targets[0]!;
          cfg.targets.push({ ...app, name: 'other' }, { ...app, name: 'evil', host: '127.0.0.1', port: relay.port });
        },
      });
    });
    afterAll(async () => {
      await tp2?.close();
      await relay?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function mintFor(agent: string, targetName = 'app', labels?: Record<string, string>): Promise<MintedMysql> {
      const m = await tp2.store.mint({ agent, target: targetName, ttlMs: 10 * 60_000, labels });
      return { user: m.record.user, password: m.password, credentialId: m.record.id, agent };
    }

    function stream(text: string): { factory: (path: string) => Readable; asked: string[] } {
      const asked: string[] = [];
      return {
        asked,
        factory: (path: string) => {
          asked.push(path);
          return Readable.from([Buffer.from(text)]);
        },
      };
    }

    describe('LOAD DATA LOCAL INFILE', () => {
      it('relays the named file for an allowed agent, streamed in packets', async () => {
        const c = await tp2.connect(await mintFor('etl-loader'));
        try {
          await c.query('CREATE TABLE li (id INT, name VARCHAR(20))');
          const lines = Array.from({ length: 20000 }, (_, i) => `${i},name${i}`).join('\n') + '\n';
          const chunks: Buffer[] = [];
          for (let i = 0; i < lines.length; i += 7000) chunks.push(Buffer.from(lines.slice(i, i + 7000)));
          const asked: string[] = [];
          const [res] = await c.query({
            sql: "LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE li FIELDS TERMINATED BY ','",
            infileStreamFactory: (path: string) => {
              asked.push(path);
              return Readable.from(chunks);
            },
          } as mysql.QueryOptions);
          expect(asked).toEqual(['rows.csv']);
          expect((res as mysql.ResultSetHeader).affectedRows).toBe(20000);
          const [rows] = await c.query('SELECT COUNT(*) AS n, MAX(id) AS m FROM li');
          expect(rows).toEqual([{ n: 20000, m: 19999 }]);
          // the connection goes on after the file
          const [[one]] = (await c.query('SELECT 1 AS x')) as unknown as [{ x: number }[]];
          expect(one!.x).toBe(1);
        } finally {
          await c.end();
        }
      });

      it('refuses it for an agent mysql.local_infile does not list, before anything reaches the database', async () => {
        const c = await tp2.connect(await mintFor('app-agent'));
        try {
          await c.query('CREATE TABLE li2 (id INT)');
          const s = stream('1\n2\n');
          await expect(c.query({ sql: "LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE li2", infileStreamFactory: s.factory } as mysql.QueryOptions)).rejects.toMatchObject({
            errno: 1227,
            message: expect.stringMatching(/denied by rule "mysql-local-infile".*mysql\.local_infile/),
          });
          expect(s.asked).toEqual([]);
          const [rows] = await c.query('SELECT COUNT(*) AS n FROM li2');
          expect(rows).toEqual([{ n: 0 }]);
        } finally {
          await c.end();
        }
      });

      it('ends the session when the database asks for a file the statement did not name; the client sends nothing', async () => {
        const c = await tp2.connect(await mintFor('etl-evil', 'evil'));
        c.on('error', () => {});
        await c.query('CREATE TABLE IF NOT EXISTS li3 (id INT)');
        const s = stream('1\n');
        await expect(c.query({ sql: "LOAD DATA LOCAL INFILE '/tmp/asked' INTO TABLE li3", infileStreamFactory: s.factory } as mysql.QueryOptions)).rejects.toMatchObject({
          message: expect.stringContaining('did not name'),
        });
        expect(relay.rewrites()).toBe(1);
        expect(s.asked).toEqual([]);
        await expect(c.query('SELECT 1')).rejects.toThrow();
      });
    });

    describe('COM_CHANGE_USER', () => {
      it('re-authenticates another credential of the same target and continues as the new agent', async () => {
        const a = await mintFor('cu-a');
        const b = await mintFor('cu-b');
        const c = await tp2.connect(a);
        try {
          await c.query('SET @x = 42');
          const [[before]] = (await c.query('SELECT @sqlwarden_identity AS i')) as unknown as [{ i: string }[]];
          expect(before!.i).toMatch(/^sqlwarden:cu-a:/);
          await c.changeUser({ user: b.user, password: b.password });
          const [[after]] = (await c.query('SELECT @sqlwarden_identity AS i, @x AS x')) as unknown as [{ i: string; x: unknown }[]];
          expect(after!.i).toMatch(/^sqlwarden:cu-b:/);
          // the upstream session was reset: user variables are gone
          expect(after!.x).toBeNull();
          const text = await tp2.metrics.registry.metrics();
          expect(text).toMatch(/sqlwarden_statements_total\{protocol="mysql",agent="cu-b",decision="allow"\} [1-9]/);
          // the session belongs to the new credential: revoking the old one leaves it, revoking the new one ends it
          await tp2.store.revoke(a.user);
          await c.query('SELECT 1');
          await tp2.store.revoke(b.user);
          const err = await pollUntil('the session to end', async () => c.query('SELECT 1').then(() => false, (e: unknown) => e as { errno?: number }));
          expect(err).toMatchObject({ errno: 1927 });
        } finally {
          c.destroy();
        }
      });

      it('a wrong password is 1045 and the connection closes', async () => {
        const a = await mintFor('cu-a');
        const b = await mintFor('cu-b');
        const c = await tp2.connect(a);
        c.on('error', () => {});
        await expect(c.changeUser({ user: b.user, password: 'wrong-password' })).rejects.toMatchObject({ errno: 1045 });
        await expect(c.query('SELECT 1')).rejects.toThrow();
      });

      it('a credential of another target is 1045', async () => {
        const a = await mintFor('cu-a');
        const o = await mintFor('cu-other', 'other');
        const c = await tp2.connect(a);
        c.on('error', () => {});
        await expect(c.changeUser({ user: o.user, password: o.password })).rejects.toMatchObject({ errno: 1045 });
        await expect(c.query('SELECT 1')).rejects.toThrow();
      });

      it('a credential with other masks is refused, naming why', async () => {
        const a = await mintFor('cu-a');
        const m = await mintFor('cu-masked', 'app', { pii: 'masked' });
        const c = await tp2.connect(a);
        c.on('error', () => {});
        await expect(c.changeUser({ user: m.user, password: m.password })).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('other masks') });
      });
    });
  });
});

interface RewritingRelay {
  port: number;
  /** how many times the pattern was replaced */
  rewrites(): number;
  close(): Promise<void>;
}

/** A TCP relay to a real server that replaces `from` with `to` (same length) in what the server sends. */
async function startRewritingRelay(dest: { host: string; port: number }, from: Buffer, to: Buffer): Promise<RewritingRelay> {
  if (from.length !== to.length) throw new Error('same length only');
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const up = net.connect(dest);
    sockets.add(client).add(up);
    client.on('close', () => sockets.delete(client));
    up.on('close', () => sockets.delete(up));
    client.pipe(up);
    up.on('data', (chunk: Buffer) => {
      const i = chunk.indexOf(from);
      if (i >= 0) {
        chunk = Buffer.from(chunk);
        to.copy(chunk, i);
        n++;
      }
      client.write(chunk);
    });
    up.on('end', () => client.end());
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    rewrites: () => n,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
