import net from 'node:net';
import tls from 'node:tls';
import {
  Capability,
  PacketReader,
  decodeHandshakeV10,
  encodeHandshakeResponse41,
  encodePacket,
  encodeSslRequest,
  scrambleCachingSha2Password,
  scrambleNativePassword,
  type HandshakeV10,
  type Packet,
} from '@sqlwarden/wire-mysql';

export const RAW_CLIENT_FLAGS =
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
    Capability.PluginAuthLenencClientData |
    Capability.DeprecateEof) >>>
  0;

/** A MySQL client built from the codecs, for protocol tests drivers cannot express. */
export class RawMysqlClient {
  private reader = new PacketReader({ maxPacketSize: 1 << 30 });
  private waiters: ((p: Packet | null) => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;
  handshake!: HandshakeV10;
  socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.attach(socket);
  }

  private attach(s: net.Socket): void {
    s.on('data', (c: Buffer) => {
      this.reader.push(c);
      this.pump();
    });
    s.on('error', () => {});
    s.on('close', () => {
      this.ended = true;
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiters.length > 0) {
      const p = this.reader.next();
      if (!p) {
        if (this.ended) this.waiters.shift()!(null);
        else return;
        continue;
      }
      this.waiters.shift()!(p);
    }
  }

  static async connect(host: string, port: number): Promise<RawMysqlClient> {
    const s = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    const c = new RawMysqlClient(s);
    const hs = await c.read();
    if (!hs) throw new Error('closed before the handshake');
    if (hs.payload[0] === 0xff) throw Object.assign(new Error('refused'), { packet: hs });
    c.handshake = decodeHandshakeV10(hs.payload);
    return c;
  }

  /** The next whole packet, or null once the connection is closed. */
  read(): Promise<Packet | null> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.pump();
    });
  }

  write(payload: Buffer, seq: number): void {
    this.socket.write(encodePacket(payload, seq));
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** SSLRequest and TLS upgrade (the next packet of the login then has sequence id 2). */
  async startTls(flags = RAW_CLIENT_FLAGS): Promise<void> {
    this.write(encodeSslRequest({ capabilities: flags, maxPacketSize: 1 << 24, characterSet: 45, mariadbCapabilities: 0 }), 1);
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  /** Sends a HandshakeResponse41 whose auth data is `authResponse` for `plugin`. */
  sendLogin(user: string, plugin: string, authResponse: Buffer, opts: { seq?: number; database?: string; flags?: number; charset?: number } = {}): void {
    this.write(
      encodeHandshakeResponse41({
        capabilities: opts.flags ?? RAW_CLIENT_FLAGS,
        maxPacketSize: 1 << 24,
        characterSet: opts.charset ?? 45,
        username: user,
        authResponse,
        database: opts.database ?? '',
        authPluginName: plugin,
      }),
      opts.seq ?? 1,
    );
  }

  /** A complete caching_sha2_password fast-path login; returns the packets after the response. */
  async login(user: string, password: string, database?: string): Promise<Packet[]> {
    this.sendLogin(user, 'caching_sha2_password', scrambleCachingSha2Password(password, this.handshake.authPluginData), { database });
    const out: Packet[] = [];
    for (;;) {
      const p = await this.read();
      if (!p) return out;
      out.push(p);
      if (p.payload[0] === 0x00 || p.payload[0] === 0xff) return out;
    }
  }

  nativeScramble(password: string): Buffer {
    return scrambleNativePassword(password, this.handshake.authPluginData);
  }

  end(): void {
    this.socket.destroy();
  }
}
