import net from 'node:net';
import tls from 'node:tls';
import {
  Capability,
  Command,
  PacketKind,
  PacketReader,
  ResultsetTracker,
  PayloadReader,
  ProtocolError,
  scanTextRow,
  CachingSha2,
  cleartextPassword,
  decodeAuthSwitchRequest,
  decodeErrPacket,
  decodeHandshakeV10,
  decodeOkPacket,
  encodeComQuery,
  encodeHandshakeResponse41,
  encodePacket,
  encodeSimpleCommand,
  encodeSslRequest,
  encryptPasswordRsa,
  scrambleCachingSha2Password,
  scrambleFromPluginData,
  scrambleNativePassword,
  type HandshakeV10,
  type Packet,
} from '@sqlwarden/wire-mysql';
import { UpstreamError } from '../pg/upstream-error.js';
import type { MysqlTarget } from './mysql-target.js';
import { upstreamCapabilities } from './negotiation.js';

/** utf8mb4_general_ci: the character set of sqlwarden's own side connections. */
const UTF8MB4_GENERAL_CI = 45;
const LOGIN_PACKET_LIMIT = 1 << 24;

export interface MysqlUpstreamOptions {
  /** the flags negotiated with the client (its wire flags are passed on) */
  capabilities: number;
  /** the client's collation id */
  characterSet: number;
  maxPacketSize: number;
  /** connection attributes (CLIENT_CONNECT_ATTRS) */
  attributes: Record<string, string>;
  /** CLIENT_LOCAL_FILES upstream (when the client negotiated it): only for principals allowed LOAD DATA LOCAL INFILE */
  localFiles?: boolean;
  /** after login: `SET @<variable> = '<value>'` (the session's identity tag) */
  identity?: { variable: string; value: string };
}

export interface MysqlUpstream {
  socket: net.Socket;
  handshake: HandshakeV10;
  /** the flags sqlwarden sent (the upstream's own are in handshake.capabilities) */
  capabilities: number;
  /** the session's @@sql_mode, when an identity was set */
  sqlMode: string | null;
  /** status flags of the last OK */
  statusFlags: number;
  /** bytes received after the login (normally none) */
  leftover: Buffer;
}

/** Opens a TCP connection to the target (TLS, if any, is negotiated inside the MySQL handshake). */
function openSocket(target: MysqlTarget): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new UpstreamError(`upstream "${target.name}" did not accept a connection within ${target.connectTimeoutMs} ms`));
    }, target.connectTimeoutMs);
    const onErr = (err: Error) => {
      clearTimeout(timer);
      reject(new UpstreamError(`upstream "${target.name}" is unreachable (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    };
    s.once('error', onErr);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onErr);
      s.setNoDelay(true);
      resolve(s);
    });
  });
}

/** Whole packets from a socket, awaited one at a time (login and side connections only). */
class PacketChannel {
  readonly reader = new PacketReader({ maxPacketSize: LOGIN_PACKET_LIMIT });
  private waiter: { resolve: (p: Packet) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  socket: net.Socket;

  constructor(
    socket: net.Socket,
    private readonly target: MysqlTarget,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    this.pump();
  };
  private readonly onError = (err: Error): void => this.fail(new UpstreamError(`upstream "${this.target.name}" connection failed during login (${err.message})`));
  private readonly onClose = (): void => this.fail(new UpstreamError(`upstream "${this.target.name}" closed the connection during login`));

  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
  }

  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
  }

  private pump(): void {
    const w = this.waiter;
    if (!w) return;
    let p: Packet | null;
    try {
      p = this.reader.next();
    } catch (err) {
      this.fail(new UpstreamError(`upstream "${this.target.name}" broke the protocol: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    if (!p) return;
    this.waiter = null;
    w.resolve(p);
  }

  read(): Promise<Packet> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Packet>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.pump();
    });
  }

  write(payload: Buffer, seq: number): void {
    this.socket.write(encodePacket(payload, seq));
  }
}

function refused(target: MysqlTarget, payload: Buffer): UpstreamError {
  let code = 'unknown';
  let detail: string | undefined;
  try {
    const e = decodeErrPacket(payload);
    code = String(e.errorCode);
    detail = e.message;
  } catch {
    // keep the generic message
  }
  return new UpstreamError(`the database of target "${target.name}" refused sqlwarden's login (error ${code}); the sqlwarden log has the details`, code, detail);
}

/** The answer to a plugin's scramble with the target's password. */
function authResponse(target: MysqlTarget, plugin: string, scramble: Buffer, secure: boolean): { plugin: string; data: Buffer } {
  const pw = target.password ?? '';
  switch (plugin) {
    case 'caching_sha2_password':
      return { plugin, data: scrambleCachingSha2Password(pw, scramble) };
    case 'mysql_clear_password':
      if (!secure) throw new UpstreamError(`upstream "${target.name}" asks for the password in clear over an unencrypted connection; configure tls for the target`);
      return { plugin, data: cleartextPassword(pw) };
    case 'mysql_native_password':
      return { plugin, data: scrambleNativePassword(pw, scramble) };
    default:
      // answer for mysql_native_password; the server switches us to the user's plugin if it must
      return { plugin: 'mysql_native_password', data: scrambleNativePassword(pw, scramble) };
  }
}

async function startTls(ch: PacketChannel, target: MysqlTarget): Promise<void> {
  const mode = target.tls?.mode ?? 'disable';
  const raw = ch.socket;
  ch.detach();
  const verify = mode === 'verify-ca' || mode === 'verify-full';
  const servername = target.tls?.servername ?? (net.isIP(target.host) ? undefined : target.host);
  const secure = tls.connect({
    socket: raw,
    ca: target.tls?.ca,
    cert: target.tls?.cert,
    key: target.tls?.key,
    servername,
    rejectUnauthorized: verify,
    checkServerIdentity: mode === 'verify-full' ? (_host, cert) => tls.checkServerIdentity(target.tls?.servername ?? target.host, cert) : () => undefined,
  });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve();
    });
    secure.once('error', (err) => reject(new UpstreamError(`TLS to upstream "${target.name}" failed: ${err.message}`)));
  });
  secure.setNoDelay(true);
  ch.attach(secure);
}

/** Runs the login exchange on an open channel; returns the flags sent. */
async function login(ch: PacketChannel, target: MysqlTarget, hs: HandshakeV10, wanted: number, opts: Pick<MysqlUpstreamOptions, 'characterSet' | 'maxPacketSize' | 'attributes'>): Promise<{ capabilities: number; statusFlags: number }> {
  const mode = target.tls?.mode ?? 'disable';
  let caps = wanted;
  let seq = 1;
  if (mode !== 'disable') {
    if ((hs.capabilities & Capability.Ssl) !== 0) {
      caps = (caps | Capability.Ssl) >>> 0;
      ch.write(encodeSslRequest({ capabilities: caps, maxPacketSize: opts.maxPacketSize, characterSet: opts.characterSet, mariadbCapabilities: 0 }), seq++);
      await startTls(ch, target);
    } else if (mode !== 'prefer') {
      throw new UpstreamError(`upstream "${target.name}" does not support TLS, but tls.mode is ${mode}`);
    }
  }
  const secure = ch.socket instanceof tls.TLSSocket;
  if (target.database && (hs.capabilities & Capability.ConnectWithDb) !== 0) caps = (caps | Capability.ConnectWithDb) >>> 0;
  else caps = (caps & ~Capability.ConnectWithDb) >>> 0;
  let scramble = hs.authPluginData;
  let first = authResponse(target, hs.authPluginName || 'mysql_native_password', scramble, secure);
  let plugin = first.plugin;
  ch.write(
    encodeHandshakeResponse41({
      capabilities: caps,
      maxPacketSize: opts.maxPacketSize,
      characterSet: opts.characterSet,
      username: target.user,
      authResponse: first.data,
      database: target.database,
      authPluginName: plugin,
      connectAttributes: opts.attributes,
    }),
    seq,
  );
  let awaitingKey = false;
  for (;;) {
    const p = await ch.read();
    const b = p.payload;
    const next = (p.lastSeq + 1) & 0xff;
    switch (b[0]) {
      case 0x00:
        return { capabilities: caps, statusFlags: decodeOkPacket(b, caps).statusFlags };
      case 0xff:
        throw refused(target, b);
      case 0xfe: {
        const sw = decodeAuthSwitchRequest(b);
        scramble = scrambleFromPluginData(sw.authPluginData);
        first = authResponse(target, sw.authPluginName, scramble, secure);
        if (first.plugin !== sw.authPluginName) throw new UpstreamError(`upstream "${target.name}" asks for the unsupported authentication plugin ${sw.authPluginName}`);
        plugin = first.plugin;
        ch.write(first.data, next);
        break;
      }
      case 0x01: {
        const data = b.subarray(1);
        if (plugin !== 'caching_sha2_password') throw new UpstreamError(`upstream "${target.name}" sent unexpected authentication data for ${plugin}`);
        if (awaitingKey) {
          ch.write(encryptPasswordRsa(target.password ?? '', scramble, data), next);
          awaitingKey = false;
        } else if (data.length === 1 && data[0] === CachingSha2.FastAuthSuccess) {
          // an OK follows
        } else if (data.length === 1 && data[0] === CachingSha2.PerformFullAuthentication) {
          if (secure) ch.write(cleartextPassword(target.password ?? ''), next);
          else {
            awaitingKey = true;
            ch.write(Buffer.from([CachingSha2.RequestPublicKey]), next);
          }
        } else throw new UpstreamError(`upstream "${target.name}" sent unexpected caching_sha2_password data`);
        break;
      }
      default:
        throw new UpstreamError(`upstream "${target.name}" sent an unexpected packet during login`);
    }
  }
}

async function readHandshake(ch: PacketChannel, target: MysqlTarget): Promise<HandshakeV10> {
  const p = await ch.read();
  if (p.payload[0] === 0xff) throw refused(target, p.payload);
  try {
    return decodeHandshakeV10(p.payload);
  } catch (err) {
    throw new UpstreamError(`upstream "${target.name}" is not a MySQL server (${err instanceof ProtocolError ? err.message : 'bad handshake'})`);
  }
}

/** Reads one command's whole response; the row payloads of its first resultset are returned. */
async function readResponse(ch: PacketChannel, capabilities: number): Promise<{ ok: boolean; rows: Buffer[]; statusFlags: number; error?: string }> {
  const tracker = new ResultsetTracker({ capabilities, mariadbCapabilities: 0 });
  tracker.begin(Command.Query);
  const rows: Buffer[] = [];
  let ok = true;
  let error: string | undefined;
  while (!tracker.done) {
    const p = await ch.read();
    const k = tracker.next(p.payload);
    if (k === PacketKind.Row) rows.push(p.payload);
    else if (k === PacketKind.Err) {
      ok = false;
      error = decodeErrPacket(p.payload).message;
    } else if (k === PacketKind.LocalInfileRequest) throw new UpstreamError('unexpected LOCAL INFILE request');
  }
  return { ok, rows, statusFlags: tracker.statusFlags, error };
}

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** `SET @var = '<value>'`: the statement that sets the identity variable. */
export function identityStatement(variable: string, value: string): string {
  return `SET @${variable} = ${sqlString(value)}`;
}

/**
 * Connects and logs in to the upstream with the target's own credentials (mysql_native_password,
 * caching_sha2_password with its full authentication over TLS or RSA, auth switch), then sets the
 * identity variable and reads the session's sql_mode (one round trip).
 */
export async function connectMysqlUpstream(target: MysqlTarget, opts: MysqlUpstreamOptions): Promise<MysqlUpstream> {
  const socket = await openSocket(target);
  const ch = new PacketChannel(socket, target);
  const timer = setTimeout(() => ch.fail(new UpstreamError(`upstream "${target.name}" did not complete login within ${target.connectTimeoutMs} ms`)), target.connectTimeoutMs);
  try {
    const hs = await readHandshake(ch, target);
    const flags = upstreamCapabilities(opts.capabilities, hs.capabilities, opts.localFiles === true);
    if (!flags.ok) {
      throw new UpstreamError(`the database of target "${target.name}" does not support ${flags.missing.join(', ')}, which this client negotiated; connect with a client that does not ask for it`);
    }
    const sent = await login(ch, target, hs, flags.capabilities, opts);
    let sqlMode: string | null = null;
    let statusFlags = sent.statusFlags;
    if (opts.identity) {
      ch.socket.cork();
      ch.write(encodeComQuery(identityStatement(opts.identity.variable, opts.identity.value), sent.capabilities), 0);
      ch.write(encodeComQuery('SELECT @@session.sql_mode', sent.capabilities), 0);
      ch.socket.uncork();
      const set = await readResponse(ch, sent.capabilities);
      if (!set.ok) throw new UpstreamError(`the database of target "${target.name}" refused sqlwarden's identity variable`, undefined, set.error);
      const mode = await readResponse(ch, sent.capabilities);
      if (!mode.ok || mode.rows.length !== 1) throw new UpstreamError(`the database of target "${target.name}" did not report its sql_mode`, undefined, mode.error);
      sqlMode = new PayloadReader(mode.rows[0]!).lenencBytesOrNull()?.toString('utf8') ?? '';
      statusFlags = mode.statusFlags;
    }
    ch.detach();
    return { socket: ch.socket, handshake: hs, capabilities: sent.capabilities, sqlMode, statusFlags, leftover: ch.reader.takeBuffered() };
  } catch (err) {
    ch.detach();
    ch.socket.destroy();
    if (err instanceof UpstreamError) throw err;
    throw new UpstreamError(`login to upstream "${target.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the target's HandshakeV10 (version, capabilities) and hangs up. */
export async function probeMysqlUpstream(target: MysqlTarget): Promise<HandshakeV10> {
  const socket = await openSocket(target);
  const ch = new PacketChannel(socket, target);
  const timer = setTimeout(() => ch.fail(new UpstreamError(`upstream "${target.name}" did not send its handshake within ${target.connectTimeoutMs} ms`)), target.connectTimeoutMs);
  try {
    return await readHandshake(ch, target);
  } finally {
    clearTimeout(timer);
    ch.detach();
    socket.destroy();
  }
}

/** Side-connection capabilities: what any 4.1+ server offers. */
const SIDE_FLAGS = (Capability.LongPassword | Capability.LongFlag | Capability.Protocol41 | Capability.Transactions | Capability.SecureConnection | Capability.PluginAuth) >>> 0;

/**
 * KILL [QUERY] of an upstream thread, on a side connection with the target's credentials. Resolves
 * when the upstream has answered (the statement was interrupted, or the thread was gone).
 */
export async function killUpstream(target: MysqlTarget, threadId: number, mode: 'query' | 'connection'): Promise<void> {
  const socket = await openSocket(target);
  const ch = new PacketChannel(socket, target);
  const timer = setTimeout(() => ch.fail(new UpstreamError(`upstream "${target.name}" did not answer a KILL within ${target.connectTimeoutMs} ms`)), target.connectTimeoutMs);
  try {
    const hs = await readHandshake(ch, target);
    const sent = await login(ch, target, hs, (SIDE_FLAGS & hs.capabilities) >>> 0 | Capability.Protocol41, {
      characterSet: UTF8MB4_GENERAL_CI,
      maxPacketSize: 1 << 24,
      attributes: { program_name: 'sqlwarden', sqlwarden_purpose: 'kill' },
    });
    ch.write(encodeComQuery(`KILL ${mode === 'query' ? 'QUERY ' : ''}${threadId >>> 0}`, sent.capabilities), 0);
    await readResponse(ch, sent.capabilities);
    ch.write(encodeSimpleCommand(Command.Quit), 0);
  } finally {
    clearTimeout(timer);
    ch.detach();
    ch.socket.end();
    setTimeout(() => ch.socket.destroy(), 1000).unref();
  }
}

/**
 * A side connection to the target with the target's own credentials, for sqlwarden's catalog
 * lookups (masking). Queries run one at a time; text rows come back decoded as strings.
 */
export class MysqlSideConnection {
  private queue: Promise<unknown> = Promise.resolve();
  private broken = false;

  private constructor(
    private readonly ch: PacketChannel,
    private readonly capabilities: number,
    private readonly target: MysqlTarget,
  ) {
    ch.socket.on('close', () => {
      this.broken = true;
    });
  }

  static async open(target: MysqlTarget): Promise<MysqlSideConnection> {
    const socket = await openSocket(target);
    const ch = new PacketChannel(socket, target);
    const timer = setTimeout(() => ch.fail(new UpstreamError(`upstream "${target.name}" did not complete a login within ${target.connectTimeoutMs} ms`)), target.connectTimeoutMs);
    try {
      const hs = await readHandshake(ch, target);
      const sent = await login(ch, target, hs, ((SIDE_FLAGS & hs.capabilities) >>> 0) | Capability.Protocol41, {
        characterSet: UTF8MB4_GENERAL_CI,
        maxPacketSize: 1 << 24,
        attributes: { program_name: 'sqlwarden', sqlwarden_purpose: 'catalog' },
      });
      return new MysqlSideConnection(ch, sent.capabilities, target);
    } catch (err) {
      ch.detach();
      ch.socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  get usable(): boolean {
    return !this.broken;
  }

  /** Runs one statement; its first resultset's rows as strings (NULL → null). Rejects on an ERR or a timeout. */
  query(sql: string): Promise<(string | null)[][]> {
    const run = async (): Promise<(string | null)[][]> => {
      if (this.broken) throw new UpstreamError(`the catalog connection to "${this.target.name}" is closed`);
      const timer = setTimeout(() => {
        this.broken = true;
        this.ch.fail(new UpstreamError(`upstream "${this.target.name}" did not answer a catalog query within ${this.target.connectTimeoutMs} ms`));
        this.ch.socket.destroy();
      }, Math.max(this.target.connectTimeoutMs, 5000));
      try {
        this.ch.write(encodeComQuery(sql, this.capabilities), 0);
        const tracker = new ResultsetTracker({ capabilities: this.capabilities, mariadbCapabilities: 0 });
        tracker.begin(Command.Query);
        const rows: (string | null)[][] = [];
        let error: string | undefined;
        while (!tracker.done) {
          const p = await this.ch.read();
          const k = tracker.next(p.payload);
          if (k === PacketKind.Row && tracker.resultIndex === 0) {
            const f = scanTextRow(p.payload, tracker.columnCount);
            const row: (string | null)[] = [];
            for (let i = 0; i < tracker.columnCount; i++) row.push(f.valueOf(p.payload, i)?.toString('utf8') ?? null);
            rows.push(row);
          } else if (k === PacketKind.Err) error = decodeErrPacket(p.payload).message;
          else if (k === PacketKind.LocalInfileRequest) throw new UpstreamError('unexpected LOCAL INFILE request');
        }
        if (error !== undefined) throw new UpstreamError(`catalog query failed: ${error}`);
        return rows;
      } catch (err) {
        this.broken = true;
        throw err;
      } finally {
        clearTimeout(timer);
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.broken = true;
    this.ch.detach();
    this.ch.socket.on('error', () => {});
    this.ch.socket.end(encodePacket(encodeSimpleCommand(Command.Quit), 0));
    setTimeout(() => this.ch.socket.destroy(), 1000).unref();
  }
}
