/**
 * Hostile clients on the MySQL listener, at the byte level: garbage and lying lengths in the login,
 * huge declared lengths, byte-by-byte delivery, commands before authentication, unknown statement
 * ids, invalid UTF-8 and NUL bytes in statements, empty commands, sequence-id errors, and clients
 * that vanish mid-result or during the upstream login.
 *
 * Every case must get a defined answer (an ERR packet and/or the connection closed, never silence),
 * and after every case the proxy must be healthy: a fresh mysql2 connection works, and no upstream
 * connection of the target user is left open on the database (information_schema.PROCESSLIST).
 */
import mysql from 'mysql2/promise';
import {
  Capability,
  Command,
  decodeErrPacket,
  decodeHandshakeResponse41,
  encodeComQuery,
  encodeComStmtClose,
  encodeComStmtExecute,
  encodeHandshakeResponse41,
  encodeSimpleCommand,
  scrambleCachingSha2Password,
  type Packet,
} from '@sqlwarden/wire-mysql';
import type { Logger } from '@sqlwarden/telemetry';
import { adminMysqlQuery, createMysqlTestTarget, MYSQL, startMysqlTestProxy, type MintedMysql, type MysqlTestProxy, type MysqlTestTarget } from '../helpers/mysql.js';
import { RAW_CLIENT_FLAGS, RawMysqlClient } from '../helpers/raw-mysql.js';
import { startGatedRelay, type GatedRelay } from '../helpers/gated-relay.js';
import { pollUntil, sleep, within } from '../helpers/poll.js';

/** Longest a defined answer may take before the case counts as a hang (the handshake timeout is 3 s here). */
const ANSWER_MS = 8000;

/** Collects what the proxy logs at error level: an internal fault is a bug even when the client got an ERR. */
class RecordingLogger implements Logger {
  readonly errors: { msg: string; fields?: Record<string, unknown> }[] = [];
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(msg: string, fields?: Record<string, unknown>): void {
    this.errors.push({ msg, fields });
  }
  child(): Logger {
    return this;
  }
}

function isErr(p: Packet | null | undefined): boolean {
  return !!p && p.payload[0] === 0xff;
}

function errOf(p: Packet | null | undefined): { errorCode: number; sqlState: string | null; message: string } {
  if (!p || p.payload[0] !== 0xff) throw new Error(`expected an ERR packet, got ${p ? `0x${p.payload[0]!.toString(16)}` : 'a closed connection'}`);
  return decodeErrPacket(p.payload);
}

/** One packet, or a failure naming the hang. */
async function readOrHang(c: RawMysqlClient, what: string): Promise<Packet | null> {
  const p = await within(c.read(), ANSWER_MS);
  if (p === 'timeout') throw new Error(`HANG: no answer and no close within ${ANSWER_MS} ms after ${what}`);
  return p;
}

/** Every packet until the proxy closes the connection; a failure naming the hang if it does not. */
async function untilClosed(c: RawMysqlClient, what: string): Promise<Packet[]> {
  const out: Packet[] = [];
  for (;;) {
    const p = await readOrHang(c, what);
    if (!p) return out;
    out.push(p);
    if (out.length > 10_000) throw new Error(`endless answer after ${what}`);
  }
}

/** The proxy answered with one ERR packet (at `seq` when given) and closed. */
async function expectErrAndClose(c: RawMysqlClient, what: string, seq?: number): Promise<{ errorCode: number; message: string }> {
  const packets = await untilClosed(c, what);
  expect(packets.map((p) => (isErr(p) ? 'ERR' : `0x${p.payload[0]?.toString(16)}`))).toEqual(['ERR']);
  if (seq !== undefined) expect(packets[0]!.seq).toBe(seq);
  await c.closed;
  return errOf(packets[0]);
}

function packet(payload: Buffer, seq: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(payload.length, 0, 3);
  h[3] = seq;
  return Buffer.concat([h, payload]);
}

function lenenc(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  const b = Buffer.alloc(4);
  b[0] = 0xfd;
  b.writeUIntLE(n, 1, 3);
  return b;
}

const ATTR_FLAGS = (RAW_CLIENT_FLAGS | Capability.ConnectAttrs) >>> 0;

/** A HandshakeResponse41 built field by field, so a test can lie in any one of them. */
function handshakeResponse(f: {
  flags?: number;
  user: string;
  auth: Buffer;
  authLen?: number;
  database?: string;
  plugin?: string;
  attrs?: [string, string][];
  attrsTotal?: number;
  attrKeyLen?: number;
  noUserNul?: boolean;
}): Buffer {
  const prefix = Buffer.alloc(32);
  prefix.writeUInt32LE(f.flags ?? ATTR_FLAGS, 0);
  prefix.writeUInt32LE(1 << 24, 4);
  prefix[8] = 45;
  const parts: Buffer[] = [prefix, Buffer.from(f.user), f.noUserNul ? Buffer.alloc(0) : Buffer.from([0])];
  if (f.noUserNul) return Buffer.concat(parts);
  parts.push(lenenc(f.authLen ?? f.auth.length), f.auth);
  parts.push(Buffer.from(`${f.database ?? ''}\0`), Buffer.from(`${f.plugin ?? 'caching_sha2_password'}\0`));
  const attrs = f.attrs ?? [['_client_name', 'hostile']];
  const body = Buffer.concat(attrs.flatMap(([k, v], i) => [i === 0 && f.attrKeyLen !== undefined ? lenenc(f.attrKeyLen) : lenenc(Buffer.byteLength(k)), Buffer.from(k), lenenc(Buffer.byteLength(v)), Buffer.from(v)]));
  parts.push(lenenc(f.attrsTotal ?? body.length), body);
  return Buffer.concat(parts);
}

describe('MySQL listener against hostile clients', () => {
  let target: MysqlTestTarget;
  let tp: MysqlTestProxy;
  let relay: GatedRelay;
  let gated: MysqlTestProxy;
  const log = new RecordingLogger();

  beforeAll(async () => {
    target = await createMysqlTestTarget('swho');
    await adminMysqlQuery('CREATE TABLE keep_me (id INT PRIMARY KEY); INSERT INTO keep_me VALUES (1)', target.database);
    tp = await startMysqlTestProxy({
      target,
      log,
      tweak: (cfg) => {
        cfg.limits.handshakeTimeoutMs = 3000;
        // the cases below fail hundreds of logins from 127.0.0.1 on purpose: the address budget would
        // otherwise refuse the health checks between them
        cfg.auth.rateLimit = { ...cfg.auth.rateLimit, perAddress: 1_000_000, perUser: 1_000_000 };
      },
    });
    relay = await startGatedRelay({ host: MYSQL.host, port: MYSQL.port });
    gated = await startMysqlTestProxy({
      target,
      log,
      tweak: (cfg) => {
        cfg.targets[0]!.host = '127.0.0.1';
        cfg.targets[0]!.port = relay.port;
      },
    });
  });
  afterAll(async () => {
    await tp?.close();
    await gated?.close();
    await relay?.close();
    await target?.drop();
  });

  /** Upstream connections of the target user open on the database right now. */
  async function upstreamCount(): Promise<number> {
    const rows = await adminMysqlQuery<{ n: number }[]>(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = '${target.user}'`);
    return Number(rows[0]!.n);
  }

  async function noUpstreamLeft(what: string): Promise<void> {
    await pollUntil(`the upstream connections of the target user to close (${what})`, async () => (await upstreamCount()) === 0, { timeoutMs: 10_000 });
  }

  /** A fresh mysql2 connection through the proxy works. */
  async function healthy(p: MysqlTestProxy = tp): Promise<void> {
    const m = await p.mint('health-check');
    const c = await p.connect(m);
    try {
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT 1 AS one, COUNT(*) AS kept FROM keep_me');
      expect(rows).toEqual([{ one: 1, kept: 1 }]);
    } finally {
      await c.end();
    }
  }

  afterEach(async () => {
    relay.release();
    await healthy();
    await healthy(gated);
    await noUpstreamLeft('after the test');
    // handled faults are protocol errors; an internal error is a bug even when the client got an ERR
    expect(log.errors.filter((e) => e.msg !== 'upstream protocol error')).toEqual([]);
    log.errors.length = 0;
    relay.hold();
  }, 30_000);

  async function session(p: MysqlTestProxy = tp, flags = RAW_CLIENT_FLAGS): Promise<{ c: RawMysqlClient; m: MintedMysql }> {
    const m = await p.mint('hostile-agent');
    const c = await RawMysqlClient.connect(p.host, p.port);
    c.sendLogin(m.user, 'caching_sha2_password', scrambleCachingSha2Password(m.password, c.handshake.authPluginData), { database: p.database, flags });
    for (;;) {
      const r = await readOrHang(c, 'login');
      if (!r) throw new Error('closed during login');
      if (r.payload[0] === 0xff) throw new Error(`login refused: ${errOf(r).message}`);
      if (r.payload[0] === 0x00) return { c, m };
    }
  }

  async function ping(c: RawMysqlClient): Promise<void> {
    c.write(encodeSimpleCommand(Command.Ping), 0);
    const p = await readOrHang(c, 'COM_PING');
    expect(p?.payload[0]).toBe(0x00);
    expect(p?.seq).toBe(1);
  }

  // ---- before and during the login -----------------------------------------------------------

  it.each([
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: sqlwarden\r\n\r\n')],
    ['a TLS ClientHello without SSLRequest', Buffer.from('16030100c8010000c40303' + '00'.repeat(40), 'hex')],
    ['a Postgres startup message', Buffer.from('0000000804d2162f', 'hex')],
    ['a small packet of garbage', packet(Buffer.from('\x85\xa6\x3f\x20\x00\x00\x00\x01garbage'), 1)],
    ['an empty packet', packet(Buffer.alloc(0), 1)],
    ['32 zero bytes (no CLIENT_PROTOCOL_41)', packet(Buffer.alloc(40), 1)],
    ['a packet with sequence id 0', packet(Buffer.alloc(40, 0xff), 0)],
  ])('garbage before the handshake response (%s): ERR and close', async (_what, bytes) => {
    const c = await RawMysqlClient.connect(tp.host, tp.port);
    c.writeRaw(bytes);
    const err = await expectErrAndClose(c, 'garbage');
    expect(err.errorCode).toEqual(expect.any(Number));
  });

  it('bytes that never form a packet get the handshake timeout, not silence', async () => {
    const c = await RawMysqlClient.connect(tp.host, tp.port);
    c.writeRaw(Buffer.from([0x40, 0x00]));
    const err = await expectErrAndClose(c, 'half a header');
    expect(err.message).toMatch(/time|handshake/i);
  });

  it('a handshake response with lying lengths: ERR and close, for every lie', async () => {
    const m = await tp.mint('liar');
    const lies: [string, (auth: Buffer) => Buffer][] = [
      ['auth response longer than the packet', (auth) => handshakeResponse({ user: m.user, auth, authLen: 0xfff0 })],
      ['auth response length of 2^24', (auth) => handshakeResponse({ user: m.user, auth, authLen: 0xffffff })],
      ['attributes total past the end', (auth) => handshakeResponse({ user: m.user, auth, database: tp.database, attrsTotal: 5000 })],
      ['attribute key longer than the block', (auth) => handshakeResponse({ user: m.user, auth, database: tp.database, attrKeyLen: 200 })],
      ['user name without its NUL', (auth) => handshakeResponse({ user: m.user + 'x'.repeat(100), auth, noUserNul: true })],
      ['only the fixed prefix', () => Buffer.concat([handshakeResponse({ user: '', auth: Buffer.alloc(0) }).subarray(0, 32)])],
    ];
    for (const [what, build] of lies) {
      const c = await RawMysqlClient.connect(tp.host, tp.port);
      c.write(build(scrambleCachingSha2Password(m.password, c.handshake.authPluginData)), 1);
      const err = await expectErrAndClose(c, what, 2).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
      expect(err.errorCode).toEqual(expect.any(Number));
    }
  }, 60_000);

  it('a handshake response cut at every length: ERR and close whenever it cannot be read', async () => {
    const m = await tp.mint('cutter');
    const probe = handshakeResponse({ user: m.user, auth: Buffer.alloc(32), database: tp.database });
    for (let cut = 0; cut < probe.length; cut++) {
      const c = await RawMysqlClient.connect(tp.host, tp.port);
      const full = handshakeResponse({ user: m.user, auth: scrambleCachingSha2Password(m.password, c.handshake.authPluginData), database: tp.database });
      const payload = full.subarray(0, cut);
      let readable = true;
      try {
        decodeHandshakeResponse41(payload);
      } catch {
        readable = false;
      }
      c.write(payload, 1);
      if (!readable) await expectErrAndClose(c, `a response cut at ${cut} bytes`);
      else {
        // what can be read is a login like any other: refused (ERR) or an auth exchange, never silence
        const p = await readOrHang(c, `a response cut at ${cut} bytes`);
        expect(p).not.toBeNull();
        c.end();
      }
    }
  }, 120_000);

  it('a huge declared packet length during the login is refused before its bytes are read', async () => {
    for (const len of [0xffffff, 0x10001, 0xfffffe]) {
      const c = await RawMysqlClient.connect(tp.host, tp.port);
      const h = Buffer.alloc(4);
      h.writeUIntLE(len, 0, 3);
      h[3] = 1;
      c.writeRaw(Buffer.concat([h, Buffer.alloc(100)]));
      const err = await expectErrAndClose(c, `a declared length of ${len}`);
      expect(err.errorCode).toBe(1153);
    }
  });

  it('a login and commands delivered one byte at a time work', async () => {
    const m = await tp.mint('trickle');
    const c = await RawMysqlClient.connect(tp.host, tp.port);
    c.socket.setNoDelay(true);
    const trickle = async (bytes: Buffer): Promise<void> => {
      for (const b of bytes) {
        await new Promise<void>((r) => c.socket.write(Buffer.from([b]), () => r()));
        await sleep(1);
      }
    };
    await trickle(
      packet(
        encodeHandshakeResponse41({
          capabilities: RAW_CLIENT_FLAGS,
          maxPacketSize: 1 << 24,
          characterSet: 45,
          username: m.user,
          authResponse: scrambleCachingSha2Password(m.password, c.handshake.authPluginData),
          database: tp.database,
          authPluginName: 'caching_sha2_password',
        }),
        1,
      ),
    );
    let p: Packet | null;
    do p = await readOrHang(c, 'a trickled login');
    while (p && p.payload[0] !== 0x00 && p.payload[0] !== 0xff);
    expect(p?.payload[0]).toBe(0x00);
    await trickle(packet(encodeComQuery('SELECT 40 + 2 AS n', RAW_CLIENT_FLAGS), 0));
    const count = await readOrHang(c, 'a trickled query');
    expect(count?.payload[0]).toBe(1);
    await readOrHang(c, 'column definition');
    const row = await readOrHang(c, 'row');
    expect(row?.payload.subarray(1).toString()).toBe('42');
    expect((await readOrHang(c, 'end of result'))?.payload[0]).toBe(0xfe);
    c.end();
  });

  it.each([
    ['COM_QUERY as the first packet (sequence 0)', packet(encodeComQuery('SELECT 1', RAW_CLIENT_FLAGS), 0)],
    ['COM_QUERY as the first packet (sequence 1)', packet(encodeComQuery('SELECT 1', RAW_CLIENT_FLAGS), 1)],
    ['COM_PING as the first packet', packet(encodeSimpleCommand(Command.Ping), 1)],
    ['COM_QUIT as the first packet', packet(encodeSimpleCommand(Command.Quit), 0)],
    ['COM_STMT_EXECUTE as the first packet', packet(encodeComStmtExecute({ statementId: 1, parameters: [] }, RAW_CLIENT_FLAGS), 1)],
  ])('commands before authentication (%s): ERR and close', async (_what, bytes) => {
    const c = await RawMysqlClient.connect(tp.host, tp.port);
    c.writeRaw(bytes);
    const packets = await untilClosed(c, 'a command before the login');
    // a defined answer: an ERR (or, for COM_QUIT, just the close); never a result
    expect(packets.every(isErr)).toBe(true);
    expect(packets.length).toBeLessThanOrEqual(1);
  });

  it('a command instead of the next auth step (full authentication asked for): ERR and close', async () => {
    const m = await tp.mint('skipper');
    const c = await RawMysqlClient.connect(tp.host, tp.port);
    // a wrong scramble: the fast path fails and the proxy asks for full authentication (0x01 0x04)
    c.sendLogin(m.user, 'caching_sha2_password', Buffer.alloc(32, 7), { database: tp.database });
    const more = await readOrHang(c, 'a wrong scramble');
    expect([...more!.payload]).toEqual([0x01, 0x04]);
    c.write(encodeComQuery('SELECT 1', RAW_CLIENT_FLAGS), 3);
    await expectErrAndClose(c, 'a command in place of the auth data');
  });

  it('a command pipelined behind the handshake response gets a defined answer', async () => {
    // MariaDB itself answers OK and then the query (the bytes wait in its socket); sqlwarden may answer
    // in order or refuse with ERR and close, but never stay silent or run the query unjudged
    const m = await tp.mint('pipeliner');
    const c = await RawMysqlClient.connect(tp.host, tp.port);
    c.writeRaw(
      Buffer.concat([
        packet(
          encodeHandshakeResponse41({
            capabilities: RAW_CLIENT_FLAGS,
            maxPacketSize: 1 << 24,
            characterSet: 45,
            username: m.user,
            authResponse: scrambleCachingSha2Password(m.password, c.handshake.authPluginData),
            database: tp.database,
            authPluginName: 'caching_sha2_password',
          }),
          1,
        ),
        packet(encodeComQuery('DROP TABLE keep_me', RAW_CLIENT_FLAGS), 0),
      ]),
    );
    const first = await readOrHang(c, 'a pipelined login');
    expect(first).not.toBeNull();
    if (isErr(first)) {
      expect(await readOrHang(c, 'after the ERR')).toBeNull();
    } else {
      expect(first!.payload[0]).toBe(0x00);
      expect(errOf(await readOrHang(c, 'the pipelined DROP'))).toMatchObject({ errorCode: 1227, message: expect.stringContaining('no-drop-or-truncate') });
      c.end();
    }
  });

  // ---- the command phase ---------------------------------------------------------------------

  it('a huge declared command length: partial bytes then a disconnect, and a continuation out of sequence', async () => {
    {
      const { c } = await session();
      const h = Buffer.alloc(4);
      h.writeUIntLE(0xfffffe, 0, 3);
      c.writeRaw(Buffer.concat([h, Buffer.from([Command.Query]), Buffer.from('SELECT ')]));
      await sleep(50);
      c.end();
      await c.closed;
    }
    {
      const { c } = await session();
      // a full 16 MiB first part, then a continuation with the wrong sequence id
      const first = Buffer.alloc(0xffffff, 0x20);
      first[0] = Command.Query;
      first.write('SELECT 1 ', 1);
      c.writeRaw(packet(first, 0));
      c.writeRaw(packet(Buffer.from(' '), 5));
      const err = await expectErrAndClose(c, 'a continuation out of sequence');
      expect(err.errorCode).toEqual(expect.any(Number));
    }
  }, 30_000);

  it('COM_STMT_EXECUTE / FETCH / RESET for unknown statement ids: ERR 1243, and the connection stays usable', async () => {
    const { c } = await session();
    const other = await session();
    try {
      // a statement prepared on another session is unknown here
      other.c.write(Buffer.concat([Buffer.from([Command.StmtPrepare]), Buffer.from('SELECT ? AS v')]), 0);
      const ok = await readOrHang(other.c, 'prepare');
      expect(ok?.payload[0]).toBe(0x00);
      const otherId = ok!.payload.readUInt32LE(1);
      // parameter and column definitions follow (no EOFs: CLIENT_DEPRECATE_EOF)
      const defs = ok!.payload.readUInt16LE(5) + ok!.payload.readUInt16LE(7);
      for (let i = 0; i < defs; i++) await readOrHang(other.c, 'a definition');
      for (const id of [0, 4242, otherId, 0xffffffff]) {
        c.write(encodeComStmtExecute({ statementId: id, parameters: [] }, RAW_CLIENT_FLAGS), 0);
        const p = await readOrHang(c, `COM_STMT_EXECUTE ${id}`);
        expect(p?.seq).toBe(1);
        expect(errOf(p).errorCode).toBe(1243);
      }
      const fetch = Buffer.alloc(9);
      fetch[0] = Command.StmtFetch;
      fetch.writeUInt32LE(77, 1);
      fetch.writeUInt32LE(10, 5);
      c.write(fetch, 0);
      expect(errOf(await readOrHang(c, 'COM_STMT_FETCH')).errorCode).toBe(1243);
      c.write(Buffer.from([Command.StmtReset, 77, 0, 0, 0]), 0);
      expect(errOf(await readOrHang(c, 'COM_STMT_RESET')).errorCode).toBe(1243);
      // no answer is defined for these two: nothing is sent, and the next command is answered
      c.write(encodeComStmtClose(77), 0);
      c.write(Buffer.from([Command.StmtSendLongData, 77, 0, 0, 0, 0, 0, 0x41]), 0);
      await ping(c);
      // a known id with a parameter block that lies (2 parameters declared by a statement of 1)
      other.c.write(Buffer.from([Command.StmtExecute, ...Buffer.from(new Uint32Array([otherId]).buffer), 0, 1, 0, 0, 0, 0, 1, 0xfd, 0, 0xfd, 0]), 0);
      const lied = await readOrHang(other.c, 'a lying parameter block');
      expect(lied).not.toBeNull();
      if (!isErr(lied)) {
        for (;;) {
          const p = await readOrHang(other.c, 'the result');
          if (!p || (p.payload[0] === 0xfe && p.payload.length < 9) || isErr(p)) break;
        }
      }
      await ping(other.c);
    } finally {
      c.end();
      other.c.end();
    }
  });

  it('invalid UTF-8 in statements: answered, judged on what the database will run, the connection stays usable', async () => {
    const { c } = await session();
    try {
      const q = (bytes: Buffer) => c.write(Buffer.concat([Buffer.from([Command.Query]), bytes]), 0);
      for (const bytes of [
        Buffer.concat([Buffer.from("SELECT '"), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from("' AS x")]),
        Buffer.concat([Buffer.from('SELECT 1 /* '), Buffer.from([0xf0, 0x9f, 0x27]), Buffer.from(' */ AS x')]),
        Buffer.concat([Buffer.from('SELECT `'), Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from('` FROM keep_me')]),
      ]) {
        q(bytes);
        const first = await readOrHang(c, `a query with invalid UTF-8 (${bytes.toString('hex')})`);
        expect(first).not.toBeNull();
        if (!isErr(first)) {
          // a result: read to its end
          for (;;) {
            const p = await readOrHang(c, 'the result');
            if (p && p.payload[0] === 0xfe && p.payload.length < 9) break;
          }
        }
        await ping(c);
      }
      // an invalid byte next to a quote must not hide a second statement
      for (const bytes of [
        Buffer.concat([Buffer.from("SELECT '"), Buffer.from([0xf0]), Buffer.from("'; DROP TABLE keep_me")]),
        Buffer.concat([Buffer.from("SELECT '"), Buffer.from([0xc0]), Buffer.from("\\'; DROP TABLE keep_me; SELECT '")]),
        Buffer.concat([Buffer.from('DROP'), Buffer.from([0xa0]), Buffer.from(' TABLE keep_me')]),
      ]) {
        q(bytes);
        const packets: Packet[] = [];
        for (;;) {
          const p = await readOrHang(c, `a hidden DROP (${bytes.toString('hex')})`);
          if (!p) throw new Error('closed');
          packets.push(p);
          if (isErr(p)) break;
          if (p.payload[0] === 0xfe && p.payload.length < 9 && (p.payload.readUInt16LE(3) & 0x08) === 0) break;
          if (p.payload[0] === 0x00 && packets.length === 1 && (p.payload.at(-2)! & 0x08) === 0) break;
        }
        await ping(c);
        expect(await adminMysqlQuery<unknown[]>("SHOW TABLES LIKE 'keep_me'", target.database)).toHaveLength(1);
      }
    } finally {
      c.end();
    }
  });

  it('a NUL byte in a statement is refused (never truncated), in COM_QUERY and COM_STMT_PREPARE', async () => {
    const { c } = await session();
    try {
      for (const [cmd, sql] of [
        [Command.Query, 'SELECT 1 /* \0 */; DROP TABLE keep_me'],
        [Command.Query, "SELECT 'a\0b' AS x"],
        [Command.Query, 'SELECT 1\0'],
        [Command.StmtPrepare, 'SELECT ? /* \0 */ AS x'],
        [Command.StmtPrepare, 'DROP TABLE keep_me \0'],
      ] as const) {
        c.write(Buffer.concat([Buffer.from([cmd]), Buffer.from(sql)]), 0);
        const p = await readOrHang(c, `a NUL byte in ${JSON.stringify(sql)}`);
        expect(p?.seq).toBe(1);
        expect(errOf(p)).toMatchObject({ sqlState: '42000' });
        await ping(c);
      }
      expect(await adminMysqlQuery<unknown[]>("SHOW TABLES LIKE 'keep_me'", target.database)).toHaveLength(1);
    } finally {
      c.end();
    }
  });

  it('empty commands: an empty COM_QUERY is answered; a packet with no command byte is ERR and close', async () => {
    const { c } = await session();
    for (const sql of ['', ' ', ';', '/* */', '-- x\n']) {
      c.write(encodeComQuery(sql, RAW_CLIENT_FLAGS), 0);
      const p = await readOrHang(c, `COM_QUERY ${JSON.stringify(sql)}`);
      expect(p?.seq).toBe(1);
      // the database says "Query was empty" (1065), or sqlwarden refuses it: either is an ERR here
      expect(isErr(p) || p?.payload[0] === 0x00).toBe(true);
      await ping(c);
    }
    c.write(Buffer.alloc(0), 0);
    await expectErrAndClose(c, 'an empty packet', 1);
  });

  it('sequence-id errors: in the login, in the auth switch, in commands and continuations', async () => {
    const m = await tp.mint('seq-agent');
    for (const seq of [0, 2, 255]) {
      const c = await RawMysqlClient.connect(tp.host, tp.port);
      c.sendLogin(m.user, 'caching_sha2_password', scrambleCachingSha2Password(m.password, c.handshake.authPluginData), { database: tp.database, seq });
      await expectErrAndClose(c, `a handshake response with sequence ${seq}`);
    }
    {
      // an auth switch (the client asks for an unknown plugin), answered out of sequence
      const c = await RawMysqlClient.connect(tp.host, tp.port);
      c.sendLogin(m.user, 'dialog', Buffer.from('x'), { database: tp.database });
      const sw = await readOrHang(c, 'a login with an unknown plugin');
      expect(sw?.payload[0]).toBe(0xfe);
      c.write(scrambleCachingSha2Password(m.password, sw!.payload.subarray(sw!.payload.indexOf(0, 1) + 1, sw!.payload.indexOf(0, 1) + 21)), 7);
      await expectErrAndClose(c, 'an auth switch answered out of sequence');
    }
    for (const seq of [1, 255]) {
      const { c } = await session();
      c.write(encodeComQuery('SELECT 1', RAW_CLIENT_FLAGS), seq);
      await expectErrAndClose(c, `a command with sequence ${seq}`);
    }
  });

  // ---- vanishing clients ---------------------------------------------------------------------

  it('a client that disconnects mid-result: the upstream connection is closed', async () => {
    for (const stop of ['destroy', 'end'] as const) {
      const { c } = await session();
      c.write(encodeComQuery("SELECT REPEAT('x', 1000) AS s FROM seq_1_to_2000000", RAW_CLIENT_FLAGS), 0);
      for (let i = 0; i < 50; i++) expect(await readOrHang(c, 'a large result')).not.toBeNull();
      expect(await upstreamCount()).toBe(1);
      if (stop === 'destroy') c.end();
      else c.socket.end();
      await c.closed;
      await noUpstreamLeft(`a client that ${stop === 'destroy' ? 'reset' : 'half-closed'} mid-result`);
    }
  }, 30_000);

  it('a client that stops reading and piles up commands, then vanishes: the upstream connection is closed', async () => {
    const { c } = await session();
    const q = packet(encodeComQuery("SELECT REPEAT('y', 60000) AS s FROM seq_1_to_20", RAW_CLIENT_FLAGS), 0);
    c.socket.pause();
    for (let i = 0; i < 2000; i++) c.writeRaw(q);
    await sleep(200);
    c.end();
    await noUpstreamLeft('a client that never read its answers');
  }, 30_000);

  // A client that vanishes while its statement runs: the statement must not run on. MariaDB checks a
  // long-running statement's client by peeking its socket and counts unread COM_QUIT bytes as a live
  // client, so the session kills the query and drops the upstream socket without COM_QUIT.
  it('a client that disconnects during a long statement: the upstream connection is closed', async () => {
    const { c } = await session();
    try {
      c.write(encodeComQuery('SELECT SLEEP(15) AS s', RAW_CLIENT_FLAGS), 0);
      await pollUntil('the statement to run upstream', async () => {
        const rows = await adminMysqlQuery<unknown[]>(`SELECT 1 FROM information_schema.PROCESSLIST WHERE USER = '${target.user}' AND INFO LIKE 'SELECT SLEEP%'`);
        return rows.length === 1;
      });
      c.end();
      await c.closed;
      await noUpstreamLeft('a client gone during SELECT SLEEP(15)');
    } finally {
      // whatever the outcome, the next test starts with no upstream thread of the target user
      const rows = await adminMysqlQuery<{ id: number }[]>(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = '${target.user}'`);
      for (const r of rows) await adminMysqlQuery(`KILL ${Number(r.id)}`).catch(() => {});
    }
  }, 30_000);

  it('a client that disconnects during the upstream login: the upstream login is abandoned and closed', async () => {
    relay.hold();
    const m = await gated.mint('impatient');
    const c = await RawMysqlClient.connect(gated.host, gated.port);
    const arrived = relay.nextConnection();
    c.sendLogin(m.user, 'caching_sha2_password', scrambleCachingSha2Password(m.password, c.handshake.authPluginData), { database: gated.database });
    await arrived;
    c.end();
    await c.closed;
    await sleep(50);
    relay.release();
    await pollUntil('the relayed upstream connection to close', () => relay.stats().open === 0, { timeoutMs: 10_000 });
    await noUpstreamLeft('a client gone during the upstream login');
    const text = await gated.metrics.registry.metrics();
    expect(text).toMatch(/sqlwarden_active_sessions\{protocol="mysql"\} 0/);
  }, 30_000);
});
