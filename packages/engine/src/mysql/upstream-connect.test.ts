/**
 * The upstream login against a scripted server built from the codecs: caching_sha2_password (fast
 * path, full authentication with the server's RSA key), an auth switch to mysql_native_password, a
 * refused login, a missing capability; then the identity variable and the sql_mode read.
 */
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import net from 'node:net';
import {
  Capability,
  PacketReader,
  ServerStatus,
  decodeComQuery,
  decodeHandshakeResponse41,
  encodeAuthSwitchRequest,
  encodeErrPacket,
  encodeHandshakeV10,
  encodeOkPacket,
  encodePacket,
  scrambleCachingSha2Password,
  scrambleNativePassword,
  scramblePluginData,
  type HandshakeResponse41,
  type Packet,
} from '@sqlwarden/wire-mysql';
import { newScramble } from './client-auth.js';
import type { MysqlTarget } from './mysql-target.js';
import { connectMysqlUpstream } from './upstream-connect.js';
import { UpstreamError } from '../pg/upstream-error.js';

const PASSWORD = 'upstream-secret';
const SERVER_CAPS =
  (Capability.LongPassword |
    Capability.LongFlag |
    Capability.ConnectWithDb |
    Capability.Protocol41 |
    Capability.Transactions |
    Capability.SecureConnection |
    Capability.MultiStatements |
    Capability.MultiResults |
    Capability.PsMultiResults |
    Capability.PluginAuth |
    Capability.ConnectAttrs |
    Capability.PluginAuthLenencClientData |
    Capability.SessionTrack |
    Capability.DeprecateEof) >>>
  0;
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();

type Mode = 'fast' | 'full' | 'switch' | 'refuse';

interface Seen {
  response?: HandshakeResponse41;
  queries: string[];
}

/** A scripted MySQL 8-like server for one connection at a time. */
async function fakeServer(mode: Mode, caps = SERVER_CAPS, sqlMode = 'STRICT_TRANS_TABLES'): Promise<{ port: number; seen: Seen; close(): Promise<void> }> {
  const seen: Seen = { queries: [] };
  const server = net.createServer((s) => {
    const reader = new PacketReader();
    const waiting: ((p: Packet) => void)[] = [];
    s.on('data', (c) => {
      reader.push(c);
      let p;
      while (waiting.length > 0 && (p = reader.next())) waiting.shift()!(p);
    });
    s.on('error', () => {});
    const read = () =>
      new Promise<Packet>((resolve) => {
        const p = reader.next();
        if (p) resolve(p);
        else waiting.push(resolve);
      });
    const send = (payload: Buffer, seq: number) => s.write(encodePacket(payload, seq));
    const ok = (seq: number) => send(encodeOkPacket({ statusFlags: ServerStatus.Autocommit }, caps), seq);
    void (async () => {
      let scramble = newScramble();
      send(
        encodeHandshakeV10({ serverVersion: '8.0.36', connectionId: 77, authPluginData: scramble, capabilities: caps, characterSet: 255, statusFlags: 2, authPluginName: 'caching_sha2_password' }),
        0,
      );
      const r = await read();
      const resp = decodeHandshakeResponse41(r.payload);
      seen.response = resp;
      let seq = r.seq + 1;
      if (mode === 'refuse') {
        send(encodeErrPacket({ errorCode: 1045, sqlState: '28000', message: "Access denied for user 'u'" }), seq);
        s.end();
        return;
      }
      if (mode === 'switch') {
        scramble = newScramble();
        send(encodeAuthSwitchRequest({ authPluginName: 'mysql_native_password', authPluginData: scramblePluginData(scramble) }), seq);
        const a = await read();
        if (!a.payload.equals(scrambleNativePassword(PASSWORD, scramble))) throw new Error('bad native answer');
        ok(a.seq + 1);
      } else if (mode === 'fast') {
        if (!resp.authResponse.equals(scrambleCachingSha2Password(PASSWORD, scramble))) throw new Error('bad fast answer');
        send(Buffer.from([1, 3]), seq++);
        ok(seq);
      } else {
        send(Buffer.from([1, 4]), seq);
        const req = await read();
        if (req.payload.length !== 1 || req.payload[0] !== 2) throw new Error('expected a public key request');
        send(Buffer.concat([Buffer.from([1]), Buffer.from(PEM)]), req.seq + 1);
        const enc = await read();
        const plain = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, enc.payload);
        for (let i = 0; i < plain.length; i++) plain[i] ^= scramble[i % scramble.length]!;
        if (plain.toString('utf8') !== `${PASSWORD}\0`) throw new Error('bad RSA password');
        ok(enc.seq + 1);
      }
      for (;;) {
        const q = await read();
        if (q.payload[0] === 0x01) {
          s.end();
          return;
        }
        const sql = decodeComQuery(q.payload, caps).query;
        seen.queries.push(sql);
        if (sql.startsWith('SET ')) ok(1);
        else {
          // one column, one row, DEPRECATE_EOF terminator
          send(Buffer.from([1]), 1);
          send(Buffer.from([3, 0x64, 0x65, 0x66, 0, 0, 0, 1, 0x78, 0, 0x0c, 0x21, 0, 0, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0]), 2);
          const v = Buffer.from(sqlMode);
          send(Buffer.concat([Buffer.from([v.length]), v]), 3);
          send(encodeOkPacket({ header: 0xfe, statusFlags: ServerStatus.Autocommit }, caps), 4);
        }
      }
    })().catch(() => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function target(port: number): MysqlTarget {
  return { name: 'fake', host: '127.0.0.1', port, database: 'appdb', user: 'app', password: PASSWORD, connectTimeoutMs: 3000 };
}

const CLIENT_CAPS = SERVER_CAPS;

async function login(mode: Mode, caps = SERVER_CAPS, clientCaps = CLIENT_CAPS, sqlMode?: string) {
  const srv = await fakeServer(mode, caps, sqlMode);
  try {
    const up = await connectMysqlUpstream(target(srv.port), {
      capabilities: clientCaps,
      characterSet: 45,
      maxPacketSize: 1 << 24,
      attributes: { program_name: 'sqlwarden:a:s', sqlwarden_identity: 'sqlwarden:a:s' },
      identity: { variable: 'sqlwarden_identity', value: "sqlwarden:a'b:s" },
    });
    up.socket.destroy();
    return { up, seen: srv.seen };
  } finally {
    await srv.close();
  }
}

describe('connectMysqlUpstream', () => {
  it.each(['fast', 'full', 'switch'] as const)('logs in with %s authentication, sets the identity and reads sql_mode', async (mode) => {
    const { up, seen } = await login(mode);
    expect(up.handshake.connectionId).toBe(77);
    expect(up.handshake.serverVersion).toBe('8.0.36');
    expect(up.sqlMode).toBe('STRICT_TRANS_TABLES');
    expect(seen.response).toMatchObject({ username: 'app', database: 'appdb', characterSet: 45 });
    expect(Object.fromEntries(seen.response!.connectAttributes!)).toEqual({ program_name: 'sqlwarden:a:s', sqlwarden_identity: 'sqlwarden:a:s' });
    expect(seen.response!.capabilities & (Capability.LocalFiles | Capability.Compress | Capability.Ssl)).toBe(0);
    expect(seen.queries).toEqual(["SET @sqlwarden_identity = 'sqlwarden:a''b:s'", 'SELECT @@session.sql_mode']);
  });

  it('reports a refused login without the upstream words in the message', async () => {
    const err = await login('refuse').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).message).toMatch(/refused sqlwarden's login \(error 1045\)/);
    expect((err as UpstreamError).message).not.toContain('Access denied');
    expect((err as UpstreamError).detail).toContain('Access denied');
  });

  it('fails naming a wire capability the client negotiated and the upstream lacks', async () => {
    const err = await login('fast', (SERVER_CAPS & ~Capability.DeprecateEof) >>> 0).catch((e: unknown) => e);
    expect((err as Error).message).toContain('does not support CLIENT_DEPRECATE_EOF');
  });

  it('reports the sql_mode the session runs with', async () => {
    const { up } = await login('fast', SERVER_CAPS, CLIENT_CAPS, 'ANSI_QUOTES,STRICT_ALL_TABLES');
    expect(up.sqlMode).toBe('ANSI_QUOTES,STRICT_ALL_TABLES');
  });
});
