/**
 * sqlwarden's upstream TLS against a real server: a private MariaDB started for this suite with TLS on
 * (the machine's own MariaDB has TLS disabled). verify-full with the right CA, a wrong CA (refused,
 * nothing of the login in clear), `require` without verification, a REQUIRE SSL user behind a target
 * without TLS, a user of a plugin sqlwarden does not speak, and KILL's side connection over TLS.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type mysql from 'mysql2/promise';
import { startMysqlTestProxy, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';
import { pollUntil } from '../helpers/poll.js';
import { privateMariadbUnavailable, startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb.js';

const missing = privateMariadbUnavailable();
if (missing) console.warn(`upstream TLS tests skipped: ${missing}`);
const suite = missing ? describe.skip : describe;

/** A TCP relay that records what sqlwarden sends towards the server. */
interface RecordingRelay {
  port: number;
  sent(): Buffer;
  close(): Promise<void>;
}

async function startRecordingRelay(to: { host: string; port: number }): Promise<RecordingRelay> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const up = net.connect(to);
    for (const s of [client, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (b: Buffer) => chunks.push(Buffer.from(b)));
    client.pipe(up);
    up.pipe(client);
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => Buffer.concat(chunks),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

suite(`upstream TLS against a private MariaDB with TLS${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let db: PrivateMariadb;
  /** a user that must use TLS */
  let sslUser: MysqlTestTarget;
  const proxies: MysqlTestProxy[] = [];

  beforeAll(async () => {
    db = await startPrivateMariadb();
    const s = randomBytes(4).toString('hex');
    const database = `swtls_${s}`;
    const user = `swtls_${s}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await db.query(
      `CREATE DATABASE \`${database}\`; CREATE USER '${user}'@'%' IDENTIFIED BY '${password}' REQUIRE SSL; GRANT ALL ON \`${database}\`.* TO '${user}'@'%'`,
    );
    sslUser = { host: db.host, port: db.port, database, user, password, drop: async () => {} };
  }, 120_000);

  afterAll(async () => {
    for (const p of proxies) await p.close().catch(() => {});
    await db?.stop();
  });

  async function proxyFor(target: MysqlTestTarget, tlsYaml: string): Promise<MysqlTestProxy> {
    const tp = await startMysqlTestProxy({ target, targetExtraYaml: tlsYaml });
    proxies.push(tp);
    return tp;
  }

  async function sslCipher(c: mysql.Connection): Promise<string> {
    const [rows] = await c.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    return String(rows[0]?.Value ?? '');
  }

  it('the private server has TLS on (sanity)', async () => {
    const rows = await db.query<{ Value: string }[]>("SHOW VARIABLES LIKE 'have_ssl'");
    expect(rows[0]?.Value).toBe('YES');
  });

  it('verify-full with the right CA: logs in over TLS and runs queries; nothing of the login in clear', async () => {
    const relay = await startRecordingRelay(db);
    try {
      const tp = await proxyFor({ ...sslUser, port: relay.port }, `    tls:\n      mode: verify-full\n      ca: ${db.certs.caCert}\n`);
      const c = await tp.connect(await tp.mint('tls-agent'));
      try {
        expect(await sslCipher(c)).not.toBe('');
        const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT 1 + 1 AS two, @sqlwarden_identity AS who');
        expect(rows).toEqual([{ two: 2, who: expect.stringMatching(/^sqlwarden:tls-agent:/) }]);
        // prepared statements, a larger result: the TLS stream carries the whole protocol
        const [big] = await c.execute<mysql.RowDataPacket[]>('SELECT REPEAT(?, 100000) AS r', ['x']);
        expect(String(big[0]!.r)).toHaveLength(100000);
      } finally {
        await c.end();
      }
      // the user name, the identity tag and the statements never crossed the wire in clear
      const sent = relay.sent();
      expect(sent.includes(Buffer.from(sslUser.user))).toBe(false);
      expect(sent.includes(Buffer.from('sqlwarden:tls-agent'))).toBe(false);
      expect(sent.includes(Buffer.from('SELECT 1 + 1'))).toBe(false);
    } finally {
      await relay.close();
    }
  });

  it('verify-full with another CA: the agent gets a clear error and no login was sent', async () => {
    const relay = await startRecordingRelay(db);
    try {
      const tp = await proxyFor({ ...sslUser, port: relay.port }, `    tls:\n      mode: verify-full\n      ca: ${db.certs.otherCaCert}\n`);
      const m = await tp.mint('tls-agent');
      await expect(tp.connect(m)).rejects.toMatchObject({
        errno: 2003,
        message: expect.stringMatching(/^sqlwarden could not connect to the database: TLS to upstream "app" failed: .*certificate/),
      });
      const sent = relay.sent();
      // sqlwarden sent an SSLRequest, then a TLS ClientHello, and nothing else (no HandshakeResponse41)
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.includes(Buffer.from(sslUser.user))).toBe(false);
      // SSLRequest: 32-byte payload with sequence id 1, then a TLS handshake record (0x16 0x03)
      expect(sent.readUIntLE(0, 3)).toBe(32);
      expect(sent[3]).toBe(1);
      expect(sent[36]).toBe(0x16);
      expect(sent[37]).toBe(0x03);
    } finally {
      await relay.close();
    }
  });

  it('verify-full refuses a certificate for another name', async () => {
    const tp = await proxyFor(sslUser, `    tls:\n      mode: verify-full\n      ca: ${db.certs.caCert}\n      servername: db.example.com\n`);
    await expect(tp.connect(await tp.mint('tls-agent'))).rejects.toMatchObject({
      errno: 2003,
      message: expect.stringMatching(/TLS to upstream "app" failed: .*db\.example\.com/),
    });
  });

  it('verify-ca accepts the right CA whatever the name', async () => {
    const tp = await proxyFor(sslUser, `    tls:\n      mode: verify-ca\n      ca: ${db.certs.caCert}\n      servername: db.example.com\n`);
    const c = await tp.connect(await tp.mint('tls-agent'));
    try {
      expect(await sslCipher(c)).not.toBe('');
    } finally {
      await c.end();
    }
  });

  it('require: TLS without verification (a CA it does not know) works', async () => {
    const tp = await proxyFor(sslUser, `    tls:\n      mode: require\n`);
    const c = await tp.connect(await tp.mint('tls-agent'));
    try {
      expect(await sslCipher(c)).not.toBe('');
      const [rows] = await c.query('SELECT 3 AS three');
      expect(rows).toEqual([{ three: 3 }]);
    } finally {
      await c.end();
    }
  });

  it('a REQUIRE SSL user behind a target without TLS fails cleanly', async () => {
    const tp = await proxyFor(sslUser, '');
    const m = await tp.mint('tls-agent');
    await expect(tp.connect(m)).rejects.toMatchObject({
      errno: 2003,
      message: `sqlwarden could not connect to the database: the database of target "app" refused sqlwarden's login (error 1045); the sqlwarden log has the details`,
    });
    // the listener is fine afterwards
    const tls = await proxyFor(sslUser, `    tls:\n      mode: require\n`);
    const c = await tls.connect(await tls.mint('tls-agent'));
    await c.end();
  });

  it('a user of an authentication plugin sqlwarden does not speak (ed25519) fails naming it', async () => {
    await db.query("INSTALL SONAME 'auth_ed25519'");
    const user = `swed_${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await db.query(`CREATE USER '${user}'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('${password}'); GRANT ALL ON \`${sslUser.database}\`.* TO '${user}'@'%'`);
    const tp = await proxyFor({ ...sslUser, user, password }, `    tls:\n      mode: verify-full\n      ca: ${db.certs.caCert}\n`);
    await expect(tp.connect(await tp.mint('tls-agent'))).rejects.toMatchObject({
      errno: 2003,
      message: expect.stringContaining('asks for the unsupported authentication plugin client_ed25519'),
    });
  });

  it('KILL QUERY reaches the upstream over TLS too (the side connection verifies the same way)', async () => {
    const tp = await proxyFor(sslUser, `    tls:\n      mode: verify-full\n      ca: ${db.certs.caCert}\n`);
    const a = await tp.connect(await tp.mint('tls-killer'));
    const b = await tp.connect(await tp.mint('tls-killer'));
    try {
      const running = a.query('SELECT SLEEP(60) AS s').then(
        ([rows]) => ({ rows }),
        (err: { errno?: number }) => ({ errno: err.errno }),
      );
      await pollUntil('the sleep to start', async () => {
        const rows = await db.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(60)%'");
        return Number(rows[0]!.n) > 0;
      });
      await b.query(`KILL QUERY ${a.threadId}`);
      const outcome = await running;
      if ('errno' in outcome) expect(outcome.errno).toBe(1317);
      else expect(outcome.rows).toEqual([{ s: 1 }]);
    } finally {
      await a.end().catch(() => {});
      await b.end().catch(() => {});
    }
  }, 60_000);
});
