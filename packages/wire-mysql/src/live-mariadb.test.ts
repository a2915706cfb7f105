/**
 * The codecs on real bytes: a raw socket client built only from this package logs into the local
 * MariaDB (SQLWARDEN_TEST_MYSQL_URL, default mysql://root@127.0.0.1:3306), runs queries,
 * prepared statements, cursors, multi-statements, LOCAL INFILE and 16 MiB packets, and checks
 * what the decoders make of the server's answers. It creates one database and one user, and
 * drops both.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Capability, MariadbCapability, negotiate, type Negotiated } from './capabilities.js';
import { Command, CursorType, ErrorCode, ResponseHeader, ServerStatus, SessionTrack, SetOption } from './codes.js';
import { BinaryLayout, ColumnFlag, ColumnType, binaryLayout } from './column-type.js';
import { decodeAuthSwitchRequest, scrambleFromPluginData } from './auth-switch-request.js';
import { binaryValueToText, type BinaryValue } from './binary-value.js';
import { binaryRowValue, rebuildBinaryRow, scanBinaryRow } from './binary-resultset-row.js';
import { encodeSimpleCommand } from './command.js';
import { decodeColumnCount } from './column-count.js';
import { decodeColumnDefinition41, type ColumnDefinition41 } from './column-definition41.js';
import { encodeComFieldList } from './com-field-list.js';
import { encodeComInitDb } from './com-init-db.js';
import { encodeComQuery } from './com-query.js';
import { encodeComSetOption } from './com-set-option.js';
import { encodeComStmtClose } from './com-stmt-close.js';
import { encodeComStmtExecute } from './com-stmt-execute.js';
import { encodeComStmtFetch } from './com-stmt-fetch.js';
import { encodeComStmtPrepare } from './com-stmt-prepare.js';
import { encodeComStmtReset } from './com-stmt-reset.js';
import { encodeComStmtSendLongData } from './com-stmt-send-long-data.js';
import { decodeEofPacket } from './eof-packet.js';
import { decodeErrPacket } from './err-packet.js';
import { decodeHandshakeV10, displayServerVersion, isMariaDbVersion, type HandshakeV10 } from './handshake-v10.js';
import { encodeHandshakeResponse41 } from './handshake-response41.js';
import { decodeLocalInfileRequest } from './local-infile-request.js';
import { decodeOkPacket, decodeSessionState, type OkPacket } from './ok-packet.js';
import { MAX_PACKET_PAYLOAD, encodePacket, nextSeq, physicalPacketCount } from './packet.js';
import { PacketReader, type Packet, type RawPacket } from './packet-reader.js';
import { scrambleNativePassword } from './password-scramble.js';
import { PacketKind, ResultsetTracker } from './resultset-tracker.js';
import { RowFields } from './row-fields.js';
import { rebuildTextRow, scanTextRow } from './text-resultset-row.js';
import { decodeSplitEverywhere } from './framing.test-util.js';

const url = new URL(process.env.SQLWARDEN_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
const HOST = url.hostname;
const PORT = Number(url.port || 3306);
const ROOT_USER = decodeURIComponent(url.username || 'root');
const ROOT_PASSWORD = decodeURIComponent(url.password);
const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
const DB = `wire_mysql_${suffix}`;
const USER = `wire_mysql_${suffix}`;
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;

const WANTED =
  (Capability.LongPassword |
    Capability.FoundRows |
    Capability.LongFlag |
    Capability.ConnectWithDb |
    Capability.LocalFiles |
    Capability.Protocol41 |
    Capability.Transactions |
    Capability.SecureConnection |
    Capability.MultiStatements |
    Capability.MultiResults |
    Capability.PsMultiResults |
    Capability.PluginAuth |
    Capability.ConnectAttrs |
    Capability.PluginAuthLenencClientData |
    Capability.SessionTrack) >>>
  0;

/** A client made of this package's codecs over a plain socket. */
class WireClient {
  private readonly reader = new PacketReader({ maxPacketSize: 1 << 26 });
  private readonly queue: (Packet | RawPacket)[] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  handshakeBytes: Buffer = Buffer.alloc(0);
  handshake!: HandshakeV10;
  negotiated!: Negotiated;

  private constructor(
    private readonly socket: net.Socket,
    /** deliver physical packets (nextRaw) instead of logical ones */
    public raw = false,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      this.pump();
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  private pump(): void {
    try {
      for (;;) {
        const p = this.raw ? this.reader.nextRaw() : this.reader.next();
        if (!p) break;
        this.queue.push(p);
      }
    } catch (e) {
      this.fail(e as Error);
    }
    this.wake?.();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake?.();
  }

  static async connect(): Promise<WireClient> {
    const socket = net.connect(PORT, HOST);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new WireClient(socket);
  }

  async read(): Promise<Packet> {
    const p = await this.readAny();
    return p as Packet;
  }

  async readAny(): Promise<Packet | RawPacket> {
    const deadline = Date.now() + 10_000;
    while (this.queue.length === 0) {
      if (this.failure) throw this.failure;
      if (Date.now() > deadline) throw new Error('timed out waiting for a packet');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
    return this.queue.shift()!;
  }

  write(payload: Buffer, seq: number): void {
    this.socket.write(encodePacket(payload, seq));
  }

  async close(): Promise<void> {
    if (!this.socket.destroyed) {
      this.write(encodeSimpleCommand(Command.Quit), 0);
      this.socket.end();
      await new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    }
  }
}

interface LoginOptions {
  user: string;
  password: string;
  capabilities?: number;
  mariadbCapabilities?: number;
  database?: string | null;
  /** the plugin named in the response; anything but the user's makes the server switch */
  claimPlugin?: string;
}

class LoginError extends Error {
  constructor(readonly err: ReturnType<typeof decodeErrPacket>) {
    super(err.message);
  }
}

async function login(o: LoginOptions): Promise<WireClient> {
  const c = await WireClient.connect();
  const first = await c.read();
  expect(first.seq).toBe(0);
  c.handshakeBytes = Buffer.from(first.payload);
  const hs = decodeHandshakeV10(first.payload);
  c.handshake = hs;
  let caps = (o.capabilities ?? WANTED) >>> 0;
  if (o.database) caps |= Capability.ConnectWithDb;
  // a MariaDB server clears CLIENT_MYSQL: so does the intersection, which turns on the extended exchange
  const client = { capabilities: (caps & hs.capabilities) >>> 0, mariadbCapabilities: (o.mariadbCapabilities ?? 0) & hs.mariadbCapabilities };
  c.negotiated = negotiate({ capabilities: hs.capabilities, mariadbCapabilities: hs.mariadbCapabilities }, client);
  const plugin = o.claimPlugin ?? hs.authPluginName;
  const authResponse = plugin === 'mysql_native_password' ? scrambleNativePassword(o.password, hs.authPluginData) : randomBytes(32);
  c.write(
    encodeHandshakeResponse41({
      capabilities: client.capabilities,
      mariadbCapabilities: client.mariadbCapabilities,
      maxPacketSize: 1 << 24,
      characterSet: 45,
      username: o.user,
      authResponse,
      database: o.database ?? null,
      authPluginName: plugin,
      connectAttributes: { _client_name: 'sqlwarden-wire-mysql-test', program_name: 'sqlwarden' },
    }),
    1,
  );
  for (;;) {
    const p = await c.read();
    switch (p.payload[0]) {
      case ResponseHeader.Ok:
        decodeOkPacket(p.payload, c.negotiated.capabilities);
        return c;
      case ResponseHeader.Err:
        await c.close().catch(() => undefined);
        throw new LoginError(decodeErrPacket(p.payload));
      case ResponseHeader.Eof: {
        const sw = decodeAuthSwitchRequest(p.payload);
        expect(sw.authPluginName).toBe('mysql_native_password');
        c.write(scrambleNativePassword(o.password, scrambleFromPluginData(sw.authPluginData)), nextSeq(p.lastSeq));
        break;
      }
      default:
        throw new Error(`unexpected packet 0x${p.payload[0].toString(16)} during login`);
    }
  }
}

interface Response {
  packets: Buffer[];
  kinds: PacketKind[];
  tracker: ResultsetTracker;
}

/** Sends one command and reads its whole response, classified by the tracker; checks sequence ids. */
async function command(c: WireClient, payload: Buffer, onLocalInfile?: (seq: number) => void): Promise<Response> {
  c.write(payload, 0);
  const tracker = new ResultsetTracker(c.negotiated);
  tracker.begin(payload[0]);
  const packets: Buffer[] = [];
  const kinds: PacketKind[] = [];
  // the response continues the command's sequence: after a split command it starts past 1
  let seq = physicalPacketCount(payload.length) & 0xff;
  while (!tracker.done) {
    const p = await c.readAny();
    if ('continued' in p) {
      // raw mode: classify first pieces only
      expect(p.seq).toBe(seq);
      seq = nextSeq(seq);
      if (p.continued) {
        packets[packets.length - 1] = Buffer.concat([packets[packets.length - 1], p.payload]);
        continue;
      }
      packets.push(Buffer.from(p.payload));
      kinds.push(tracker.next(p.payload));
      continue;
    }
    expect(p.seq).toBe(seq);
    seq = nextSeq(p.lastSeq);
    packets.push(Buffer.from(p.payload));
    const kind = tracker.next(p.payload);
    kinds.push(kind);
    if (kind === PacketKind.LocalInfileRequest) {
      onLocalInfile?.(seq);
      seq = nextSeq(seq);
    }
  }
  return { packets, kinds, tracker };
}

interface Result {
  columns: ColumnDefinition41[];
  rows: Buffer[];
  ok?: OkPacket;
  end?: number;
}

/** Groups a response into results: column definitions and row payloads, or the OK. */
function results(c: WireClient, r: Response): Result[] {
  const out: Result[] = [];
  const extended = (c.negotiated.mariadbCapabilities & MariadbCapability.ExtendedMetadata) !== 0;
  const deprecate = (c.negotiated.capabilities & Capability.DeprecateEof) !== 0;
  let cur: Result | null = null;
  r.kinds.forEach((k, i) => {
    const p = r.packets[i];
    switch (k) {
      case PacketKind.ColumnCount:
        cur = { columns: [], rows: [] };
        out.push(cur);
        expect(decodeColumnCount(p, c.negotiated).count).toBeGreaterThan(0);
        break;
      case PacketKind.ColumnDefinition:
        cur!.columns.push(decodeColumnDefinition41(p, { extendedMetadata: extended }));
        break;
      case PacketKind.Row:
        cur!.rows.push(p);
        break;
      case PacketKind.Eof:
        cur!.end = deprecate ? decodeOkPacket(p, c.negotiated.capabilities).statusFlags : decodeEofPacket(p).statusFlags;
        break;
      case PacketKind.Ok:
        out.push({ columns: [], rows: [], ok: decodeOkPacket(p, c.negotiated.capabilities) });
        break;
      case PacketKind.Err:
        throw new Error(`server error: ${decodeErrPacket(p).message}`);
      default:
        break;
    }
  });
  return out;
}

function textRows(res: Result): (string | null)[][] {
  const fields = new RowFields();
  return res.rows.map((p) => {
    scanTextRow(p, res.columns.length, fields);
    return res.columns.map((_, i) => fields.valueOf(p, i)?.toString('utf8') ?? null);
  });
}

async function sql(c: WireClient, text: string): Promise<Result[]> {
  return results(c, await command(c, encodeComQuery(text, c.negotiated.capabilities)));
}

let root: WireClient;

beforeAll(async () => {
  root = await login({ user: ROOT_USER, password: ROOT_PASSWORD });
  await sql(root, `CREATE DATABASE ${DB}`);
  await sql(root, `CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'`);
  await sql(root, `GRANT ALL ON ${DB}.* TO '${USER}'@'%'`);
  await sql(
    root,
    `CREATE TABLE ${DB}.people (
      id INT NOT NULL PRIMARY KEY, email VARCHAR(64), born DATE, seen DATETIME(3), dur TIME(2), score DOUBLE,
      amount DECIMAL(10,2), big BIGINT UNSIGNED, tiny TINYINT DEFAULT 42, yr YEAR, doc JSON, flag BIT(8),
      kind ENUM('a','b'), pic BLOB, note TEXT DEFAULT 'n/a')`,
  );
  await sql(
    root,
    `INSERT INTO ${DB}.people VALUES
      (1, 'alice@example.com', '1990-02-28', '2024-02-29 13:04:05.123', '-49:00:09.50', 1.5, -12.50, 18446744073709551615, -7, 2024, '{"a":1}', b'10100101', 'b', x'00ff10', 'first'),
      (2, 'bob@example.com', '2000-01-01', '2000-01-01 00:00:00.000', '00:00:00', 0.25, 0.00, 0, 127, 1999, '[]', b'00000000', 'a', '', NULL),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  );
});

afterAll(async () => {
  if (root) {
    await sql(root, `DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
    await sql(root, `DROP USER IF EXISTS '${USER}'@'%'`).catch(() => undefined);
    await root.close();
  }
});

describe('against the local MariaDB', () => {
  it("decodes the server's HandshakeV10, also split at every offset", () => {
    const hs = decodeSplitEverywhere(root.handshakeBytes, decodeHandshakeV10, 0);
    expect(hs.protocolVersion).toBe(10);
    expect(isMariaDbVersion(hs.serverVersion)).toBe(true);
    expect(displayServerVersion(hs.serverVersion)).toMatch(/^\d+\.\d+\.\d+-MariaDB/);
    expect(hs.authPluginData.length).toBe(20);
    expect(hs.authPluginName).toBe('mysql_native_password');
    for (const cap of [Capability.Protocol41, Capability.SecureConnection, Capability.PluginAuth, Capability.DeprecateEof, Capability.MultiResults, Capability.SessionTrack, Capability.ConnectAttrs]) {
      expect(hs.capabilities & cap).toBe(cap);
    }
    // MariaDB clears CLIENT_MYSQL and sends its extended capabilities in the reserved bytes
    expect(hs.capabilities & Capability.ClientMysql).toBe(0);
    expect(hs.mariadbCapabilities & MariadbCapability.Progress).toBe(MariadbCapability.Progress);
    expect(hs.mariadbCapabilities & MariadbCapability.StmtBulkOperations).toBe(MariadbCapability.StmtBulkOperations);
  });

  it('logs in with mysql_native_password through an AuthSwitchRequest, and reads the ERR for a wrong password', async () => {
    const c = await login({ user: USER, password: PASSWORD, claimPlugin: 'caching_sha2_password', database: DB });
    const [r] = await sql(c, 'SELECT CURRENT_USER(), DATABASE()');
    expect(textRows(r)).toEqual([[`${USER}@%`, DB]]);
    await c.close();
    const direct = await login({ user: USER, password: PASSWORD });
    await direct.close();
    const e = await login({ user: USER, password: 'wrong' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LoginError);
    expect((e as LoginError).err).toMatchObject({ errorCode: ErrorCode.AccessDenied, sqlState: '28000' });
  });

  for (const [label, extra] of [
    ['classic EOF', 0],
    ['CLIENT_DEPRECATE_EOF', Capability.DeprecateEof],
  ] as const) {
    describe(label, () => {
      let c: WireClient;
      beforeAll(async () => {
        c = await login({ user: USER, password: PASSWORD, database: DB, capabilities: (WANTED | extra) >>> 0, mariadbCapabilities: MariadbCapability.ExtendedMetadata });
        expect(c.negotiated.capabilities & Capability.DeprecateEof).toBe(extra);
      });
      afterAll(async () => c.close());

      it('a text resultset: column definitions and row values', async () => {
        const [r] = await sql(c, 'SELECT * FROM people ORDER BY id');
        expect(r.columns.map((d) => d.name)).toEqual(['id', 'email', 'born', 'seen', 'dur', 'score', 'amount', 'big', 'tiny', 'yr', 'doc', 'flag', 'kind', 'pic', 'note']);
        const byName = Object.fromEntries(r.columns.map((d) => [d.name, d]));
        expect(byName.id).toMatchObject({ catalog: 'def', schema: DB, table: 'people', orgTable: 'people', orgName: 'id', type: ColumnType.Long, characterSet: 63 });
        expect(byName.id.flags & (ColumnFlag.NotNull | ColumnFlag.PrimaryKey)).toBe(ColumnFlag.NotNull | ColumnFlag.PrimaryKey);
        expect(byName.email).toMatchObject({ type: ColumnType.VarString, columnLength: 64 * 4, characterSet: 45 });
        expect(byName.seen).toMatchObject({ type: ColumnType.DateTime, decimals: 3 });
        expect(byName.dur).toMatchObject({ type: ColumnType.Time, decimals: 2 });
        expect(byName.amount).toMatchObject({ type: ColumnType.NewDecimal, decimals: 2 });
        expect(byName.big.flags & ColumnFlag.Unsigned).toBe(ColumnFlag.Unsigned);
        expect(byName.doc).toMatchObject({ type: ColumnType.Blob, extendedFormat: 'json' });
        expect(byName.pic.flags & ColumnFlag.Binary).toBe(ColumnFlag.Binary);
        const rows = textRows(r);
        expect(rows[0]).toEqual(['1', 'alice@example.com', '1990-02-28', '2024-02-29 13:04:05.123', '-49:00:09.50', '1.5', '-12.50', '18446744073709551615', '-7', '2024', '{"a":1}', Buffer.from([0xa5]).toString('utf8'), 'b', Buffer.from([0, 0xff, 0x10]).toString('utf8'), 'first']);
        expect(rows[2]).toEqual(['3', ...Array(14).fill(null)]);
        expect(r.end! & ServerStatus.MoreResultsExists).toBe(0);
      });

      it('aliases: name/table vs org_name/org_table, and expressions without origin', async () => {
        const [r] = await sql(c, 'SELECT p.email AS mail, UPPER(p.email) AS shout FROM people AS p WHERE p.id = 1');
        expect(r.columns[0]).toMatchObject({ name: 'mail', orgName: 'email', table: 'p', orgTable: 'people', schema: DB });
        expect(r.columns[1]).toMatchObject({ name: 'shout', orgName: '', table: '', orgTable: '' });
      });

      it('rebuilds a real text row with a field replaced', async () => {
        const [r] = await sql(c, 'SELECT id, email, note FROM people ORDER BY id');
        const f = scanTextRow(r.rows[0], 3);
        const masked = rebuildTextRow(r.rows[0], f, [undefined, 'a***@example.com']);
        const g = scanTextRow(masked, 3);
        expect([0, 1, 2].map((i) => g.valueOf(masked, i)?.toString())).toEqual(['1', 'a***@example.com', 'first']);
      });

      it('multi-statements: results chained by SERVER_MORE_RESULTS_EXISTS', async () => {
        const res = await command(c, encodeComQuery(`SELECT 1 AS one; SELECT id FROM people WHERE id < 0; UPDATE people SET note = note WHERE id = 2; SELECT 'x'`, c.negotiated.capabilities));
        expect(res.tracker.resultIndex).toBe(3);
        const rs = results(c, res);
        expect(rs.map((x) => (x.ok ? 'ok' : `rs${x.rows.length}`))).toEqual(['rs1', 'rs0', 'ok', 'rs1']);
        expect(rs[0].end! & ServerStatus.MoreResultsExists).toBe(ServerStatus.MoreResultsExists);
        expect(rs[2].ok!.statusFlags & ServerStatus.MoreResultsExists).toBe(ServerStatus.MoreResultsExists);
        expect(rs[3].end! & ServerStatus.MoreResultsExists).toBe(0);
        // an error stops the chain
        const bad = await command(c, encodeComQuery('SELECT 1; SELECT * FROM nope; SELECT 2', c.negotiated.capabilities));
        expect(bad.kinds[bad.kinds.length - 1]).toBe(PacketKind.Err);
        expect(decodeErrPacket(bad.packets[bad.packets.length - 1])).toMatchObject({ errorCode: 1146, sqlState: '42S02' });
      });

      it('prepared statement: binary rows agree with the text protocol, value by value', async () => {
        const [text] = await sql(c, 'SELECT * FROM people WHERE id >= 1 ORDER BY id');
        const expected = textRows(text);
        const prep = await command(c, encodeComStmtPrepare('SELECT * FROM people WHERE id >= ? ORDER BY id'));
        const ok = prep.tracker.prepareOk!;
        expect(ok).toMatchObject({ numParams: 1, numColumns: 15 });
        expect(prep.kinds.filter((k) => k === PacketKind.ParamDefinition).length).toBe(1);
        expect(prep.kinds.filter((k) => k === PacketKind.ColumnDefinition).length).toBe(15);

        const exec = await command(c, encodeComStmtExecute({ statementId: ok.statementId, parameters: [{ type: ColumnType.Long, value: 1 }] }, c.negotiated.capabilities));
        expect(exec.tracker.binaryRows).toBe(true);
        const [bin] = results(c, exec);
        expect(bin.rows.length).toBe(3);
        const fields = new RowFields();
        bin.rows.forEach((row, ri) => {
          scanBinaryRow(row, bin.columns, fields);
          bin.columns.forEach((col, i) => {
            const v = binaryRowValue(row, fields, bin.columns, i);
            const want = expected[ri][i];
            if (v === null) return expect(want).toBeNull();
            if (binaryLayout(col.type) === BinaryLayout.Lenenc) expect((v as Buffer).toString('utf8')).toBe(want);
            else expect(binaryValueToText(col.type, v, col.decimals)).toBe(want);
          });
        });
        scanBinaryRow(bin.rows[0], bin.columns, fields);
        expect(binaryRowValue(bin.rows[0], fields, bin.columns, 7)).toBe(18446744073709551615n);
        expect(binaryRowValue(bin.rows[0], fields, bin.columns, 4)).toEqual({ negative: true, days: 2, hours: 1, minutes: 0, seconds: 9, microseconds: 500000 } satisfies BinaryValue);
        // rebuild on real bytes: mask the email, null the date
        const masked = rebuildBinaryRow(bin.rows[0], fields, bin.columns, [undefined, 'a***@example.com', null]);
        const g = scanBinaryRow(masked, bin.columns);
        expect(binaryRowValue(masked, g, bin.columns, 1)).toEqual(Buffer.from('a***@example.com'));
        expect(binaryRowValue(masked, g, bin.columns, 2)).toBeNull();
        expect(binaryRowValue(masked, g, bin.columns, 3)).toEqual(binaryRowValue(bin.rows[0], fields, bin.columns, 3));

        // re-execute without rebinding types, then reset and close
        const again = await command(c, encodeComStmtExecute({ statementId: ok.statementId, parameters: [{ type: ColumnType.Long, value: 3 }], newParamsBound: false }, c.negotiated.capabilities));
        expect(results(c, again)[0].rows.length).toBe(1);
        expect((await command(c, encodeComStmtReset(ok.statementId))).kinds).toEqual([PacketKind.Ok]);
        expect((await command(c, encodeComStmtClose(ok.statementId))).kinds).toEqual([]);
        expect((await command(c, encodeSimpleCommand(Command.Ping))).kinds).toEqual([PacketKind.Ok]);
      });

      it('parameters of every kind reach the server as sent', async () => {
        const prep = await command(c, encodeComStmtPrepare('SELECT ?, ?, ?, ?, ?, ?, ?, ?'));
        const ok = prep.tracker.prepareOk!;
        const exec = await command(
          c,
          encodeComStmtExecute(
            {
              statementId: ok.statementId,
              parameters: [
                { type: ColumnType.LongLong, value: -9007199254740993n },
                { type: ColumnType.Tiny, unsigned: true, value: 250 },
                { type: ColumnType.Double, value: 0.125 },
                { type: ColumnType.VarString, value: 'héllo' },
                { type: ColumnType.Null, value: null },
                { type: ColumnType.Date, value: { year: 2024, month: 12, day: 31, hour: 0, minute: 0, second: 0, microsecond: 0 } },
                { type: ColumnType.DateTime, value: { year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5, microsecond: 600000 } },
                { type: ColumnType.Time, value: { negative: true, days: 0, hours: 1, minutes: 2, seconds: 3, microseconds: 0 } },
              ],
            },
            c.negotiated.capabilities,
          ),
        );
        const [r] = results(c, exec);
        const f = scanBinaryRow(r.rows[0], r.columns);
        const vals = r.columns.map((col, i) => {
          const v = binaryRowValue(r.rows[0], f, r.columns, i);
          return v === null ? null : Buffer.isBuffer(v) ? v.toString() : binaryValueToText(col.type, v, col.decimals);
        });
        expect(vals).toEqual(['-9007199254740993', '250', '0.125', 'héllo', null, '2024-12-31', '2024-01-02 03:04:05.600000', '-01:02:03']);
        await command(c, encodeComStmtClose(ok.statementId));
      });

      it('long data: COM_STMT_SEND_LONG_DATA chunks make up the parameter', async () => {
        const prep = await command(c, encodeComStmtPrepare('SELECT LENGTH(?), ?'));
        const id = prep.tracker.prepareOk!.statementId;
        for (const part of ['abc', 'def']) expect((await command(c, encodeComStmtSendLongData({ statementId: id, paramId: 0, data: Buffer.from(part) }))).kinds).toEqual([]);
        const exec = await command(
          c,
          encodeComStmtExecute(
            {
              statementId: id,
              parameters: [
                { type: ColumnType.Blob, value: null, longData: true },
                { type: ColumnType.Long, value: 5 },
              ],
            },
            c.negotiated.capabilities,
          ),
        );
        const [r] = results(c, exec);
        const f = scanBinaryRow(r.rows[0], r.columns);
        expect(Number(binaryRowValue(r.rows[0], f, r.columns, 0))).toBe(6);
        await command(c, encodeComStmtClose(id));
      });

      it('a read-only cursor: metadata only, then rows through COM_STMT_FETCH', async () => {
        const prep = await command(c, encodeComStmtPrepare('SELECT id, email FROM people ORDER BY id'));
        const id = prep.tracker.prepareOk!.statementId;
        const open = await command(c, encodeComStmtExecute({ statementId: id, flags: CursorType.ReadOnly, parameters: [] }, c.negotiated.capabilities));
        expect(open.kinds.includes(PacketKind.Row)).toBe(false);
        expect(open.tracker.endedResultset).toBe(true);
        expect(open.tracker.statusFlags & ServerStatus.CursorExists).toBe(ServerStatus.CursorExists);
        const cols = results(c, open)[0].columns;
        const f1 = await command(c, encodeComStmtFetch({ statementId: id, numRows: 2 }));
        expect(f1.kinds).toEqual([PacketKind.Row, PacketKind.Row, PacketKind.Eof]);
        const f2 = await command(c, encodeComStmtFetch({ statementId: id, numRows: 2 }));
        expect(f2.kinds).toEqual([PacketKind.Row, PacketKind.Eof]);
        expect(f2.tracker.statusFlags & ServerStatus.LastRowSent).toBe(ServerStatus.LastRowSent);
        const row = f1.packets[1];
        const f = scanBinaryRow(row, cols);
        expect(binaryRowValue(row, f, cols, 1)).toEqual(Buffer.from('bob@example.com'));
        await command(c, encodeComStmtClose(id));
      });

      it('one-packet commands and their answers', async () => {
        const init = await command(c, encodeComInitDb(DB));
        expect(init.kinds).toEqual([PacketKind.Ok]);
        const ok = decodeOkPacket(init.packets[0], c.negotiated.capabilities);
        expect(decodeSessionState(ok.sessionState!)).toContainEqual({ type: SessionTrack.Schema, schema: DB });
        const set = await command(c, encodeComQuery('SET autocommit = 0', c.negotiated.capabilities));
        const changes = decodeSessionState(decodeOkPacket(set.packets[0], c.negotiated.capabilities).sessionState!);
        expect(changes).toContainEqual({ type: SessionTrack.SystemVariables, name: 'autocommit', value: 'OFF' });
        await command(c, encodeComQuery('SET autocommit = 1', c.negotiated.capabilities));

        const stats = await command(c, encodeSimpleCommand(Command.Statistics));
        expect(stats.kinds).toEqual([PacketKind.Statistics]);
        expect(stats.packets[0].toString()).toMatch(/^Uptime: \d+/);
        expect((await command(c, encodeComSetOption(SetOption.MultiStatementsOn))).kinds).toEqual([PacketKind.Eof]);

        const fl = await command(c, encodeComFieldList({ table: 'people', wildcard: 't%' }));
        expect(fl.kinds).toEqual([PacketKind.ColumnDefinition, PacketKind.Eof]);
        const tiny = decodeColumnDefinition41(fl.packets[0], { fieldList: true, extendedMetadata: true });
        expect(tiny).toMatchObject({ name: 'tiny', orgTable: 'people', type: ColumnType.Tiny });
        expect(tiny.defaultValue?.toString()).toBe('42');

        const err = await command(c, encodeComQuery('SELECT * FROM nope', c.negotiated.capabilities));
        expect(err.kinds).toEqual([PacketKind.Err]);
        expect(decodeErrPacket(err.packets[0])).toMatchObject({ errorCode: 1146, sqlState: '42S02' });
        expect((await command(c, encodeSimpleCommand(Command.ResetConnection))).kinds).toEqual([PacketKind.Ok]);
      });

      it('LOAD DATA LOCAL INFILE: the request, the client’s (empty) file, the OK', async () => {
        const res = await command(c, encodeComQuery(`LOAD DATA LOCAL INFILE '/nonexistent/people.csv' INTO TABLE people`, c.negotiated.capabilities), (seq) => c.write(Buffer.alloc(0), seq));
        expect(res.kinds).toEqual([PacketKind.LocalInfileRequest, PacketKind.Ok]);
        expect(decodeLocalInfileRequest(res.packets[0]).toString()).toBe('/nonexistent/people.csv');
        expect(decodeOkPacket(res.packets[1], c.negotiated.capabilities).affectedRows).toBe(0n);
      });
    });
  }

  describe('16 MiB packets both ways', () => {
    let c: WireClient;
    beforeAll(async () => {
      c = await login({ user: USER, password: PASSWORD, database: DB, capabilities: (WANTED | Capability.DeprecateEof) >>> 0 });
    });
    afterAll(async () => c.close());

    it('a row larger than one packet arrives as continuations and is joined', async () => {
      const [r] = await sql(c, `SELECT REPEAT('a', ${MAX_PACKET_PAYLOAD}) AS big, 'tail' AS t`);
      const f = scanTextRow(r.rows[0], 2);
      expect(f.valueOf(r.rows[0], 0)!.length).toBe(MAX_PACKET_PAYLOAD);
      expect(f.valueOf(r.rows[0], 1)!.toString()).toBe('tail');
    });

    it('in raw mode the tracker classifies first pieces and skips continuations', async () => {
      c.raw = true;
      try {
        const res = await command(c, encodeComQuery(`SELECT REPEAT('b', ${MAX_PACKET_PAYLOAD}) AS big UNION ALL SELECT 'small'`, c.negotiated.capabilities));
        expect(res.kinds).toEqual([PacketKind.ColumnCount, PacketKind.ColumnDefinition, PacketKind.Row, PacketKind.Row, PacketKind.Eof]);
        expect(res.packets[2].length).toBe(MAX_PACKET_PAYLOAD + 4);
      } finally {
        c.raw = false;
      }
    });

    // (a payload of 0xFFFFFF bytes is the largest the default max_allowed_packet of 16 MiB lets through)
    it('a query of exactly 0xFFFFFF bytes, sent with its empty continuation packet, reaches the server whole', async () => {
      for (const payloadLength of [MAX_PACKET_PAYLOAD - 1, MAX_PACKET_PAYLOAD]) {
        const head = "SELECT LENGTH('";
        const tail = "')";
        const fill = payloadLength - 1 - head.length - tail.length;
        const payload = encodeComQuery(head + 'z'.repeat(fill) + tail, c.negotiated.capabilities);
        expect(payload.length).toBe(payloadLength);
        const [r] = await sql(c, head + 'z'.repeat(fill) + tail);
        expect(textRows(r)).toEqual([[String(fill)]]);
      }
    });
  });
});
