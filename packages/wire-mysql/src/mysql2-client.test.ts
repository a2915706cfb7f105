/**
 * Our encoders as a server, mysql2 as the client: a tiny server on a loopback port built from
 * this package's codecs answers a real mysql2 connection (handshake, native-password login,
 * text and binary resultsets, prepared statements, errors). mysql2 parsing our bytes proves the
 * encoders; our decoders reading mysql2's commands proves the decoders.
 */
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import mysql from 'mysql2/promise';
import { Capability } from './capabilities.js';
import { Command, ErrorCode, ServerStatus } from './codes.js';
import { ColumnFlag, ColumnType } from './column-type.js';
import { encodeBinaryRow } from './binary-resultset-row.js';
import { commandOf } from './command.js';
import { encodeColumnCount } from './column-count.js';
import { encodeColumnDefinition41, type ColumnDefinition41 } from './column-definition41.js';
import { decodeComQuery } from './com-query.js';
import { decodeComStmtClose } from './com-stmt-close.js';
import { decodeComStmtExecute, parameterValue, type BoundParameter } from './com-stmt-execute.js';
import { decodeComStmtPrepare, encodeComStmtPrepareOk } from './com-stmt-prepare.js';
import { encodeEofPacket } from './eof-packet.js';
import { encodeErrPacket } from './err-packet.js';
import { encodeHandshakeV10 } from './handshake-v10.js';
import { decodeHandshakeResponse41, type HandshakeResponse41 } from './handshake-response41.js';
import { encodeOkPacket } from './ok-packet.js';
import { encodePackets, nextSeq } from './packet.js';
import { PacketReader } from './packet-reader.js';
import { scrambleNativePassword } from './password-scramble.js';
import { encodeTextRow } from './text-resultset-row.js';

const SERVER_CAPS =
  (Capability.LongPassword |
    Capability.FoundRows |
    Capability.LongFlag |
    Capability.ConnectWithDb |
    Capability.Protocol41 |
    Capability.Transactions |
    Capability.SecureConnection |
    Capability.MultiResults |
    Capability.PsMultiResults |
    Capability.PluginAuth |
    Capability.ConnectAttrs |
    Capability.PluginAuthLenencClientData |
    Capability.SessionTrack |
    Capability.QueryAttributes) >>>
  0;

const column = (name: string, type: number, flags = 0, characterSet = 45): ColumnDefinition41 => ({
  catalog: 'def',
  schema: 'shop',
  table: 'people',
  orgTable: 'people',
  name,
  orgName: name,
  characterSet,
  columnLength: 64,
  type,
  flags,
  decimals: type === ColumnType.DateTime ? 3 : 0,
});
const COLUMNS = [column('id', ColumnType.LongLong, ColumnFlag.NotNull | ColumnFlag.PrimaryKey | ColumnFlag.Unsigned, 63), column('email', ColumnType.VarString), column('seen', ColumnType.DateTime, 0, 63)];

interface Seen {
  login?: HandshakeResponse41;
  queries: string[];
  executes: BoundParameter[][];
  closed: number[];
}

function startServer(seen: Seen): Promise<net.Server> {
  const server = net.createServer((sock) => {
    const reader = new PacketReader();
    const scramble = randomBytes(20).map((b) => b || 1);
    let caps = 0;
    const send = (payloads: Buffer[], seq: number) => sock.write(encodePackets(payloads, seq).bytes);
    const resultset = (rows: Buffer[]) => [encodeColumnCount({ count: COLUMNS.length }, { capabilities: caps, mariadbCapabilities: 0 }), ...COLUMNS.map((c) => encodeColumnDefinition41(c)), encodeEofPacket({ warnings: 0, statusFlags: ServerStatus.Autocommit }), ...rows, encodeEofPacket({ warnings: 0, statusFlags: ServerStatus.Autocommit })];
    send([encodeHandshakeV10({ serverVersion: '8.0.36-wire-test', connectionId: 9, authPluginData: scramble, capabilities: SERVER_CAPS, characterSet: 45, statusFlags: ServerStatus.Autocommit, authPluginName: 'mysql_native_password' })], 0);
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk) => {
      reader.push(chunk);
      for (let p = reader.next(); p; p = reader.next()) {
        const reply = nextSeq(p.lastSeq);
        if (!seen.login) {
          const login = decodeHandshakeResponse41(p.payload);
          seen.login = login;
          caps = (login.capabilities & SERVER_CAPS) >>> 0;
          const good = login.username === 'agent' && login.authResponse.equals(scrambleNativePassword('pw', scramble));
          send([good ? encodeOkPacket({}, caps) : encodeErrPacket({ errorCode: ErrorCode.AccessDenied, sqlState: '28000', message: `Access denied for user '${login.username}'` })], reply);
          if (!good) sock.end();
          continue;
        }
        switch (commandOf(p.payload)) {
          case Command.Query: {
            const q = decodeComQuery(p.payload, caps).query;
            seen.queries.push(q);
            if (q.includes('missing')) send([encodeErrPacket({ errorCode: 1146, sqlState: '42S02', message: "Table 'shop.missing' doesn't exist" })], reply);
            else if (q.startsWith('UPDATE')) send([encodeOkPacket({ affectedRows: 3, lastInsertId: 77, info: 'Rows matched: 3' }, caps)], reply);
            else send(resultset([encodeTextRow(['1', 'alice@example.com', '2024-02-29 13:04:05.123']), encodeTextRow(['18446744073709551615', null, null])]), reply);
            break;
          }
          case Command.StmtPrepare: {
            expect(decodeComStmtPrepare(p.payload).toString()).toContain('?');
            const param = column('?', ColumnType.LongLong, 0, 63);
            send(
              [encodeComStmtPrepareOk({ statementId: 5, numColumns: COLUMNS.length, numParams: 1, warnings: 0 }, caps), encodeColumnDefinition41(param), encodeEofPacket({ warnings: 0, statusFlags: 2 }), ...COLUMNS.map((c) => encodeColumnDefinition41(c)), encodeEofPacket({ warnings: 0, statusFlags: 2 })],
              reply,
            );
            break;
          }
          case Command.StmtExecute: {
            seen.executes.push(decodeComStmtExecute(p.payload, { paramCount: 1, capabilities: caps }).parameters);
            send(resultset([encodeBinaryRow(COLUMNS, [42n, 'bob@example.com', { year: 2020, month: 1, day: 2, hour: 3, minute: 4, second: 5, microsecond: 6000 }]), encodeBinaryRow(COLUMNS, [2n ** 64n - 1n, null, null])]), reply);
            break;
          }
          case Command.StmtClose:
            seen.closed.push(decodeComStmtClose(p.payload));
            break;
          case Command.Ping:
            send([encodeOkPacket({}, caps)], reply);
            break;
          case Command.Quit:
            sock.end();
            break;
          default:
            send([encodeErrPacket({ errorCode: ErrorCode.UnknownCom, sqlState: '08S01', message: 'Unknown command' })], reply);
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('mysql2 against a server made of our encoders', () => {
  let server: net.Server;
  let port: number;
  let seen: Seen;

  beforeEach(async () => {
    seen = { queries: [], executes: [], closed: [] };
    server = await startServer(seen);
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('logs in, runs text and binary resultsets, prepared statements and errors', async () => {
    const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'agent', password: 'pw', database: 'shop', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, connectAttributes: { purpose: 'wire-test' } });
    try {
      expect(seen.login).toMatchObject({ username: 'agent', database: 'shop', authPluginName: 'mysql_native_password' });
      expect(seen.login!.connectAttributes!.get('purpose')).toBe('wire-test');
      expect(seen.login!.capabilities & Capability.QueryAttributes).toBe(Capability.QueryAttributes);

      const [rows, fields] = await conn.query('SELECT id, email, seen FROM people');
      expect(rows).toEqual([
        { id: '1', email: 'alice@example.com', seen: '2024-02-29 13:04:05.123' },
        { id: '18446744073709551615', email: null, seen: null },
      ]);
      expect((fields as mysql.FieldPacket[]).map((f) => [f.name, f.orgTable, f.type])).toEqual([
        ['id', 'people', ColumnType.LongLong],
        ['email', 'people', ColumnType.VarString],
        ['seen', 'people', ColumnType.DateTime],
      ]);
      expect(seen.queries[0]).toBe('SELECT id, email, seen FROM people');

      const [res] = await conn.query('UPDATE people SET x = 1');
      expect(res).toMatchObject({ affectedRows: 3, insertId: 77, info: 'Rows matched: 3' });

      const [brows] = await conn.execute('SELECT id, email, seen FROM people WHERE id > ?', [7]);
      expect(brows).toEqual([
        { id: '42', email: 'bob@example.com', seen: '2020-01-02 03:04:05.006' },
        { id: '18446744073709551615', email: null, seen: null },
      ]);
      expect(seen.executes[0].map(parameterValue).map(Number)).toEqual([7]);

      await expect(conn.query('SELECT * FROM missing')).rejects.toMatchObject({ errno: 1146, sqlState: '42S02', message: "Table 'shop.missing' doesn't exist" });
      await conn.ping();
    } finally {
      await conn.end();
    }
  });

  it('gets the ERR for a wrong password', async () => {
    await expect(mysql.createConnection({ host: '127.0.0.1', port, user: 'agent', password: 'nope' })).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
  });
});
