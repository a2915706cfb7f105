import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { AccessStore, AuthFailureReason, CredentialRecord } from '@sqlwarden/access';
import type { Decider, Decision, MaskSet, Principal, SqlCarrier } from '@sqlwarden/policy';
import { evalSqlModeConcat, type Analysis, type StatementFacts } from '@sqlwarden/sql';
import type { Logger, Metrics } from '@sqlwarden/telemetry';
import {
  Capability,
  Command,
  MARIADB_LAST_STATEMENT_ID,
  PacketKind,
  PacketReader,
  PacketTooLargeError,
  PayloadReader,
  ProtocolError,
  ResultsetTracker,
  ServerStatus,
  commandName,
  decodeComChangeUser,
  decodeComFieldList,
  decodeComInitDb,
  decodeComProcessKill,
  decodeComQuery,
  decodeComSetOption,
  decodeComStmtClose,
  decodeComStmtFetch,
  decodeComStmtPrepare,
  decodeComStmtReset,
  decodeComStmtSendLongData,
  decodeHandshakeResponse41,
  decodeLocalInfileRequest,
  decodeSslRequest,
  encodeComQuery,
  encodeHandshakeV10,
  encodeOkPacket,
  encodePacket,
  isSslRequest,
  negotiate,
  physicalPacketCount,
  type ComChangeUser,
  type HandshakeResponse41,
  type HandshakeV10,
  type RawPacket,
} from '@sqlwarden/wire-mysql';
import type { EndReason, LiveSession, SessionRegistry } from '../session-registry.js';
import { UpstreamError } from '../pg/upstream-error.js';
import { CACHING_SHA2_PASSWORD, ClientAuthExchange, fakeMysqlVerifiers, newScramble, type AuthStep, type RsaKeyPair } from './client-auth.js';
import { toMysqlErrPacket, type MysqlSessionError } from './mysql-errors.js';
import type { MysqlCatalog } from './mysql-catalog.js';
import { MaskingViolation, MysqlMasking, type RowPlan } from './mysql-masking.js';
import type { MysqlTarget } from './mysql-target.js';
import { advertisedCapabilities, clientNegotiated, clientServerVersion, unsafeCollation, unsafeSqlModes } from './negotiation.js';
import { IDENTITY_VARIABLE, localInfileNames, parseKill, useDatabases, writesIdentityVariable, type KillRequest } from './statement-guards.js';
import { connectMysqlUpstream, identityStatement, killUpstream } from './upstream-connect.js';

export interface MysqlEngineDeps {
  store: AccessStore;
  registry: SessionRegistry;
  decider: Decider;
  metrics: Metrics;
  log: Logger;
  /** a mysql target by name (undefined for unknown names and for postgres targets) */
  target(name: string): MysqlTarget | undefined;
  /** TLS for clients; absent → CLIENT_SSL is not advertised */
  tls?: { secureContext: tls.SecureContext; required: boolean };
  cleartextOverTls: boolean;
  maxMessageBytes: number;
  handshakeTimeoutMs: number;
  /** true when this connection would exceed the configured maximum */
  overConnectionLimit(): boolean;
  /** per-instance key for fake verifiers of unknown users */
  fakeVerifierKey: Buffer;
  /** analysis of MySQL statement text: from the cache at once, else (a promise) from the analysis pool */
  analyze(sql: string): Analysis | Promise<Analysis>;
  /** this instance's RSA key pair (caching_sha2_password full authentication without TLS) */
  rsaKey(): RsaKeyPair;
  /** what the upstream's handshake said last (version and capabilities shown to clients), null before it was seen */
  upstreamHandshake(): HandshakeV10 | null;
  /** the upstream's handshake of a login, to show clients the version it reports */
  noteUpstream(target: MysqlTarget, hs: HandshakeV10): void;
  /** a connection id unique on this instance, for this session */
  issueConnectionId(session: MysqlSession): number;
  /** a session of this instance by its connection id */
  sessionByConnectionId(id: number): MysqlSession | undefined;
  /** KILL of a connection id on another instance (Redis): true when a session of `agent` there was killed */
  relayKill(id: number, mode: 'query' | 'connection', agent: string): Promise<boolean>;
  /** the catalog of a target (relation kinds and columns), for result masking */
  catalog(target: MysqlTarget): MysqlCatalog;
}

const enum Phase {
  /** HandshakeV10 sent; waiting for SSLRequest or HandshakeResponse41 */
  Handshake,
  /** an auth exchange is in progress; waiting for the client's next packet */
  Auth,
  /** waiting on the store or the upstream */
  Busy,
  Ready,
  /** ended while idle (revoked, expired): the upstream is gone; the client's next command gets the error */
  Ending,
  Closed,
}

/** A command as the client sent it. */
interface ClientCommand {
  /** the logical payload (continuations joined) */
  payload: Buffer;
  /** the physical packets as received, forwarded as they are */
  raw: Buffer[];
  lastSeq: number;
}

const enum Entry {
  /** forwarded: the upstream's response goes to the client */
  Upstream,
  /** sqlwarden's own command (identity variable): the response is consumed */
  Internal,
  /** sqlwarden answers: `bytes` (once set) go to the client in turn */
  Local,
}

/** A response the client is owed, in command order. */
interface InFlight {
  kind: Entry;
  command: number;
  bytes?: Buffer;
  /** the sequence id the response starts with */
  replySeq: number;
  /** the analysis the command was judged on (the hook for result masking) */
  analysis?: Analysis;
  /** the statement's text (COM_QUERY, or the prepared statement's) */
  sql?: string;
  /** COM_STMT_EXECUTE / FETCH: the statement id it runs (resolved from MariaDB's -1) */
  stmtId?: number;
  failed?: boolean;
  /** some of the response went to the client */
  sent?: boolean;
  /** COM_STMT_PREPARE: the id the upstream gave */
  statementId?: number;
  /** called when the response is complete (Upstream / Internal) */
  done?: (entry: InFlight) => void;
  /** Internal: each row of the response */
  onRow?: (payload: Buffer) => void;
  /** LOAD DATA LOCAL INFILE allowed: the file names the statement names, in order (the only files the upstream may ask for) */
  infile?: string[];
}

/** A prepared statement the upstream confirmed: the facts its results will be masked by. */
export interface PreparedStatement {
  analysis: Analysis | undefined;
  sql?: string;
  numParams: number;
  numColumns: number;
}

const AUTH_PACKET_LIMIT = 65536;
const END_GRACE_MS = 1000;
/** how long a session ended while idle waits for the client's next command before hanging up without a word */
const IDLE_END_WAIT_MS = 60_000;
const UTF8MB4_GENERAL_CI = 45;
/** MariaDB: SERVER_STATUS_ANSI_QUOTES (MySQL never sets this bit) */
const STATUS_ANSI_QUOTES = 0x8000;
const MAX_CLIENT_ATTR_BYTES = 4096;

function safeRuleId(id: string): string {
  return id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 100);
}

/** The upstream asked for a client file the judged statement did not name. */
class InfileViolation extends Error {
  constructor() {
    super('the database asked for a client file the statement did not name');
  }
}

function containsKill(statements: readonly StatementFacts[], depth = 0): boolean {
  for (const s of statements) {
    if (s.nodeType.endsWith(':KILL')) return true;
    if (depth < 8 && s.nested.length > 0 && containsKill(s.nested, depth + 1)) return true;
  }
  return false;
}

/** One client connection on the MySQL listener, from the first byte to close. */
export class MysqlSession implements LiveSession {
  readonly id = randomBytes(8).toString('hex');
  readonly protocol = 'mysql' as const;
  readonly connectionId: number;
  user = '';
  expiresAt = Number.POSITIVE_INFINITY;

  private phase = Phase.Handshake;
  private client: net.Socket;
  private readonly address: string;
  private readonly clientReader = new PacketReader({ maxPacketSize: AUTH_PACKET_LIMIT });
  private upstreamReader: PacketReader | null = null;
  private upstream: net.Socket | null = null;
  private tracker: ResultsetTracker | null = null;
  private target: MysqlTarget | null = null;
  private principalValue: Principal | null = null;
  private record: CredentialRecord | null = null;
  private failure: AuthFailureReason | null = null;
  private readonly scramble = newScramble();
  private auth: ClientAuthExchange | null = null;
  private response: HandshakeResponse41 | null = null;
  /** capabilities sqlwarden advertised, and those in force with the client */
  private readonly advertised: number;
  private caps = 0;
  /** sequence id of the last packet the client sent (replies use the next one) */
  private lastClientSeq = 0;
  private upstreamThreadId = 0;
  private readonly openedAt = process.hrtime.bigint();
  private handshakeTimer: NodeJS.Timeout | null;
  private endTimer: NodeJS.Timeout | null = null;
  private endReason: EndReason | 'killed' | null = null;
  private unsafeSetting: string | null = null;
  /** CLIENT_LOCAL_FILES is in force with the upstream (the principal was allowed LOCAL INFILE at login) */
  private upstreamLocalFiles = false;
  /** a LOCAL INFILE request went to the client: the sequence id of its next file packet; null otherwise */
  private infileSeq: number | null = null;
  private infileSavedLimit = 0;
  /** the session's sql_mode as sqlwarden last knew it (read after login, followed through SET); null when unknown */
  private sqlMode: string | null = null;
  private registered = false;
  private clientWaitingDrain = false;
  private upstreamWaitingDrain = false;
  private countAllow: { inc(): void } | null = null;
  private countDeny: { inc(): void } | null = null;
  /** responses owed to the client, oldest first; the head's response is the one arriving */
  private readonly queue: InFlight[] = [];
  /** the client said COM_QUIT (as opposed to vanishing) */
  private quitting = false;
  private headStarted = false;
  /** a command held until something settles (its analysis, a pipelined prepare) */
  private held: ClientCommand | null = null;
  private blocked = false;
  /** statement ids the upstream confirmed for this session */
  readonly statements = new Map<number, PreparedStatement>();
  /** the statement id a MariaDB "last prepared" (-1) execute means: a number, 'pending' while a prepare is answered, null when none */
  private lastPrepared: number | 'pending' | null = null;
  /** counts prepares, so only the latest one settles lastPrepared */
  private prepareCounter = 0;
  /** a command whose analysis is under way */
  private awaiting: ClientCommand | null = null;
  /** status flags of the last OK/EOF the upstream sent */
  private lastStatus: number = ServerStatus.Autocommit;
  /** contiguous upstream bytes not yet written to the client */
  private outRun: Buffer | null = null;
  /** result masking; null while no mask applies to this session's principal */
  private masking: MysqlMasking | null = null;
  /** set once the first statement has been judged: masking can no longer start cleanly */
  private maskingStarted = false;
  /** upstream packets wait (the catalog is being asked for a result's plan) */
  private upstreamPaused = false;
  /** a masked row changed how many physical packets it takes: later packets of the response are renumbered */
  private seqShift = 0;
  /** a row of 16 MiB or more being joined to be masked */
  private rowParts: Buffer[] | null = null;
  private rowSeq = 0;
  private rowPlan: RowPlan | null = null;

  constructor(
    socket: net.Socket,
    private readonly deps: MysqlEngineDeps,
  ) {
    this.client = socket;
    this.address = socket.remoteAddress ?? 'unknown';
    socket.setNoDelay(true);
    this.connectionId = deps.issueConnectionId(this);
    this.attachClient(socket);
    this.handshakeTimer = setTimeout(() => this.onHandshakeTimeout(), deps.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    const hs = deps.upstreamHandshake();
    this.advertised = advertisedCapabilities(hs ? hs.capabilities : null, deps.tls !== undefined);
    if (deps.overConnectionLimit()) {
      this.fatal({ kind: 'too_many_connections' }, 0);
      return;
    }
    socket.write(
      encodePacket(
        encodeHandshakeV10({
          serverVersion: clientServerVersion(hs ? hs.serverVersion : null),
          connectionId: this.connectionId,
          authPluginData: this.scramble,
          capabilities: this.advertised,
          characterSet: hs && hs.characterSet > 0 ? hs.characterSet : UTF8MB4_GENERAL_CI,
          statusFlags: ServerStatus.Autocommit,
          authPluginName: CACHING_SHA2_PASSWORD,
        }),
        0,
      ),
    );
  }

  /** The principal once logged in. */
  get principal(): Principal | null {
    return this.principalValue;
  }

  private attachClient(socket: net.Socket): void {
    socket.on('data', this.onClientData);
    socket.on('error', this.onClientError);
    socket.on('close', this.onClientClose);
    socket.on('drain', this.onClientDrain);
  }

  private detachClient(socket: net.Socket): void {
    socket.off('data', this.onClientData);
    socket.off('close', this.onClientClose);
    socket.off('drain', this.onClientDrain);
  }

  // ---- client input -------------------------------------------------------------------------

  private readonly onClientData = (chunk: Buffer): void => {
    if (this.phase === Phase.Closed) return;
    this.clientReader.push(chunk);
    try {
      if (this.phase === Phase.Ready) this.processCommands();
      else if (this.phase === Phase.Ending) this.answerEnding();
      else this.processLogin();
    } catch (err) {
      this.onClientFault(err);
    }
  };

  private onClientFault(err: unknown): void {
    const seq = (this.lastClientSeq + 1) & 0xff;
    if (err instanceof PacketTooLargeError) {
      this.deps.metrics.protocolErrors.labels('mysql').inc();
      this.fatal({ kind: 'packet_too_large', limit: this.clientReader.maxPacketSize }, seq);
    } else if (err instanceof ProtocolError) {
      this.deps.metrics.protocolErrors.labels('mysql').inc();
      this.fatal(this.phase === Phase.Ready ? { kind: 'protocol_violation', detail: err.message } : { kind: 'bad_handshake', detail: err.message }, seq);
    } else {
      this.deps.log.error('mysql session fault', { session: this.id, err });
      this.fatal({ kind: 'protocol_violation', detail: 'internal error' }, seq);
    }
  }

  private processLogin(): void {
    while (this.phase === Phase.Handshake || this.phase === Phase.Auth || this.phase === Phase.Busy) {
      const p = this.clientReader.next();
      if (!p) return;
      if (this.phase === Phase.Busy) throw new ProtocolError('unexpected packet during login');
      if (p.seq !== ((this.lastClientSeq + 1) & 0xff) && !(this.phase === Phase.Handshake && this.lastClientSeq === 0 && p.seq === 1)) {
        throw new ProtocolError(`packet out of order during login (sequence ${p.seq})`);
      }
      this.lastClientSeq = p.lastSeq;
      if (this.phase === Phase.Handshake) this.onHandshakePacket(p.payload);
      else this.onAuthPacket(p.payload);
    }
  }

  private onHandshakePacket(payload: Buffer): void {
    if (isSslRequest(payload)) {
      decodeSslRequest(payload);
      if (!this.deps.tls || (this.advertised & Capability.Ssl) === 0) throw new ProtocolError('SSLRequest, but TLS was not offered');
      if (this.client instanceof tls.TLSSocket) throw new ProtocolError('SSLRequest on an encrypted connection');
      // the client starts TLS right behind the SSLRequest (nothing answers it): what followed in the
      // same chunk is its ClientHello and goes to the TLS layer, never read as a MySQL packet
      this.startTls(this.clientReader.takeBuffered());
      return;
    }
    const resp = decodeHandshakeResponse41(payload);
    this.response = resp;
    this.user = resp.username;
    this.caps = clientNegotiated(resp.capabilities, this.advertised);
    if (this.deps.tls?.required && !(this.client instanceof tls.TLSSocket)) return this.fail('protocol', { kind: 'tls_required' });
    const charset = unsafeCollation(resp.characterSet);
    if (charset) {
      this.fatal({ kind: 'unsafe_charset', charset }, this.replySeq());
      return;
    }
    if (!resp.username) return this.fail('unknown_user', { kind: 'auth_failed', user: '' });
    this.phase = Phase.Busy;
    const plugin = (this.caps & Capability.PluginAuth) !== 0 ? resp.authPluginName : null;
    this.beginAuth(resp.username, plugin, resp.authResponse).catch((err: unknown) => this.onClientFault(err));
  }

  private startTls(head: Buffer): void {
    const ctx = this.deps.tls;
    if (!ctx) return;
    const raw = this.client;
    this.detachClient(raw);
    // buffered bytes are handed to the TLS socket when it starts reading (tls initRead)
    raw.pause();
    if (head.length > 0) raw.unshift(head);
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx.secureContext });
    secure.setNoDelay(true);
    this.client = secure;
    this.attachClient(secure);
  }

  /** Looks the user up and starts its auth exchange (login, or COM_CHANGE_USER with the login's scramble). */
  private async beginAuth(user: string, plugin: string | null, authResponse: Buffer): Promise<void> {
    let record: CredentialRecord | null;
    try {
      if (await this.deps.store.isRateLimited(user, this.address)) {
        this.fail('rate_limited', { kind: 'rate_limited', user });
        return;
      }
      record = await this.deps.store.lookup(user);
    } catch {
      this.deps.metrics.authFailures.labels('mysql', 'store_unavailable').inc();
      this.fatal({ kind: 'store_unavailable' }, this.replySeq());
      return;
    }
    if (this.phase === Phase.Closed) return;
    if (record && record.expiresAt <= Date.now()) {
      record = null;
      this.failure = 'expired';
    } else if (!record) {
      this.failure = 'unknown_user';
    }
    this.record = record;
    this.auth = new ClientAuthExchange(
      {
        verifiers: record ? record.mysql : fakeMysqlVerifiers(user, this.deps.fakeVerifierKey),
        tls: this.client instanceof tls.TLSSocket,
        cleartextOverTls: this.deps.cleartextOverTls,
        rsaKey: this.deps.rsaKey,
      },
      this.scramble,
    );
    this.deps.log.debug(this.changing ? 'mysql change user' : 'mysql login', { session: this.id, user, plugin, responseBytes: authResponse.length, tls: this.client instanceof tls.TLSSocket });
    this.onAuthStep(this.auth.start(plugin, authResponse));
  }

  private onAuthPacket(payload: Buffer): void {
    const auth = this.auth;
    if (!auth) throw new ProtocolError('no authentication in progress');
    this.onAuthStep(auth.next(payload));
  }

  private onAuthStep(step: AuthStep): void {
    switch (step.kind) {
      case 'send':
        this.phase = Phase.Auth;
        this.client.write(encodePacket(step.payload, this.replySeq()));
        // the next client packet answers this one
        this.lastClientSeq = (this.lastClientSeq + 1) & 0xff;
        return;
      case 'fail':
        return this.fail(step.why === 'protocol' ? 'protocol' : (this.failure ?? 'bad_password'), { kind: 'auth_failed', user: this.user });
      case 'ok':
        this.phase = Phase.Busy;
        this.auth = null;
        if (this.changing) this.afterChangeUser(this.changing, step.before);
        else this.afterAuth(step.before).catch((err: unknown) => this.onClientFault(err));
        return;
    }
  }

  /** The sequence id of sqlwarden's next packet in the login exchange. */
  private replySeq(): number {
    return (this.lastClientSeq + 1) & 0xff;
  }

  /** Records a failed login (counted, rate-limited) and closes with the generic error. */
  private fail(reason: AuthFailureReason, err: MysqlSessionError): void {
    this.deps.metrics.authFailures.labels('mysql', reason).inc();
    if (reason !== 'rate_limited' && this.user) {
      void this.deps.store.recordAuthFailure(this.user, this.address).catch(() => {});
    }
    this.deps.log.info('mysql login refused', { user: this.user, address: this.address, reason });
    this.fatal(err, this.replySeq());
  }

  private async afterAuth(before: Buffer[]): Promise<void> {
    const record = this.record;
    const resp = this.response;
    if (!record || !resp) return this.fail(this.failure ?? 'unknown_user', { kind: 'auth_failed', user: this.user });
    const target = this.deps.target(record.target);
    const db = (this.caps & Capability.ConnectWithDb) !== 0 ? resp.database : null;
    if (!target || (db && db !== target.database)) return this.fail('wrong_target', { kind: 'auth_failed', user: this.user });
    if (record.expiresAt <= Date.now()) return this.fail('expired', { kind: 'auth_failed', user: this.user });
    this.target = target;
    this.expiresAt = record.expiresAt;
    this.principalValue = Object.freeze({
      agent: record.agent,
      labels: Object.freeze({ ...record.labels }),
      credentialId: record.id,
      user: record.user,
      target: record.target,
      sessionId: this.id,
    });
    const agentLabel = this.deps.metrics.agentLabel(record.agent);
    this.countAllow = this.deps.metrics.statements.labels('mysql', agentLabel, 'allow');
    this.countDeny = this.deps.metrics.statements.labels('mysql', agentLabel, 'deny');
    // the client has done its part; the upstream login is bounded by the target's connect timeout
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    // registered before the upstream login, so a revocation during it is not missed
    this.deps.registry.add(this);
    this.registered = true;
    this.deps.metrics.sessions.labels('mysql').inc();

    const tag = `sqlwarden:${record.agent}:${this.id}`;
    let up;
    try {
      up = await connectMysqlUpstream(target, {
        capabilities: this.caps,
        characterSet: resp.characterSet,
        maxPacketSize: resp.maxPacketSize,
        attributes: this.upstreamAttributes(resp, tag),
        localFiles: (this.caps & Capability.LocalFiles) !== 0 && this.deps.decider.localInfileAllowed?.(this.principalValue) === true,
        identity: { variable: IDENTITY_VARIABLE, value: tag },
      });
    } catch (err) {
      this.deps.metrics.upstreamErrors.labels(target.name).inc();
      this.deps.log.warn('upstream connection failed', { session: this.id, target: target.name, err, detail: err instanceof UpstreamError ? err.detail : undefined });
      this.fatal({ kind: 'upstream_unavailable', detail: err instanceof Error ? err.message : String(err) }, this.replySeq());
      return;
    }
    if (this.phase === Phase.Closed) {
      up.socket.destroy();
      return;
    }
    this.deps.noteUpstream(target, up.handshake);
    this.upstream = up.socket;
    this.upstreamThreadId = up.handshake.connectionId;
    this.upstreamLocalFiles = (up.capabilities & Capability.LocalFiles) !== 0;
    this.sqlMode = up.sqlMode;
    const unsafe = unsafeSqlModes(up.sqlMode ?? '');
    if (unsafe.length > 0) {
      this.deps.log.warn('the database session runs with an sql_mode sqlwarden cannot analyse; refusing the session', { session: this.id, target: target.name, modes: unsafe });
      this.fatal({ kind: 'unsafe_setting', setting: `the database's sql_mode includes ${unsafe.join(', ')}` }, this.replySeq());
      return;
    }
    if (this.endReason) {
      // revoked or expired while we were logging in upstream: nothing may run
      this.finishEnd();
      return;
    }
    const negotiated = negotiate({ capabilities: up.handshake.capabilities, mariadbCapabilities: 0 }, { capabilities: up.capabilities, mariadbCapabilities: 0 });
    this.tracker = new ResultsetTracker(negotiated);
    this.upstreamReader = new PacketReader({ maxPacketSize: Number.MAX_SAFE_INTEGER });
    this.lastStatus = up.statusFlags;
    up.socket.on('data', this.onUpstreamData);
    up.socket.on('error', this.onUpstreamError);
    up.socket.on('close', this.onUpstreamClose);
    up.socket.on('drain', this.onUpstreamDrain);
    this.clientReader.maxPacketSize = this.deps.maxMessageBytes;

    let seq = this.replySeq();
    const packets = before.map((b) => encodePacket(b, seq++));
    packets.push(encodePacket(encodeOkPacket({ statusFlags: up.statusFlags & (ServerStatus.Autocommit | ServerStatus.InTrans) }, this.caps), seq));
    this.client.write(packets.length === 1 ? packets[0]! : Buffer.concat(packets));
    this.phase = Phase.Ready;
    this.deps.metrics.connectSeconds.labels('mysql').observe(Number(process.hrtime.bigint() - this.openedAt) / 1e9);
    this.deps.log.debug('mysql session started', { session: this.id, agent: record.agent, credential: record.id, target: target.name, address: this.address, connectionId: this.connectionId, upstreamThread: this.upstreamThreadId });
    if (up.leftover.length > 0) this.onUpstreamData(up.leftover);
    try {
      this.processCommands();
    } catch (err) {
      this.onClientFault(err);
    }
  }

  /** The client's connection attributes (bounded), with sqlwarden's identity added. */
  private upstreamAttributes(resp: HandshakeResponse41, tag: string): Record<string, string> {
    const out: Record<string, string> = {};
    let bytes = 0;
    for (const [k, v] of resp.connectAttributes ?? []) {
      if (k === 'program_name' || k.startsWith('sqlwarden')) continue;
      bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
      if (bytes > MAX_CLIENT_ATTR_BYTES) break;
      out[k] = v;
    }
    const program = resp.connectAttributes?.get('program_name');
    if (program) out.sqlwarden_client_program = program.slice(0, 256);
    out.program_name = tag;
    out.sqlwarden_identity = tag;
    return out;
  }

  // ---- the command phase --------------------------------------------------------------------

  private partRaw: Buffer[] = [];
  private partPayload: Buffer[] = [];

  /** The next whole command from the client, or null when more bytes are needed. */
  private readCommand(): ClientCommand | null {
    for (;;) {
      const r: RawPacket | null = this.clientReader.nextRaw();
      if (!r) return null;
      if (this.partRaw.length === 0 && r.seq !== 0) throw new ProtocolError(`command packet with sequence id ${r.seq} (expected 0)`);
      this.lastClientSeq = r.seq;
      this.partRaw.push(r.bytes);
      this.partPayload.push(r.payload);
      if (r.more) continue;
      const raw = this.partRaw;
      const payload = this.partPayload.length === 1 ? this.partPayload[0]! : Buffer.concat(this.partPayload);
      this.partRaw = [];
      this.partPayload = [];
      return { payload, raw, lastSeq: r.seq };
    }
  }

  private processCommands(): void {
    while (this.phase === Phase.Ready && !this.blocked && !this.endReason && !this.clientWaitingDrain && !this.upstreamWaitingDrain) {
      if (this.infileSeq !== null) {
        if (!this.relayInfile()) return;
        continue;
      }
      const cmd = this.held ?? this.readCommand();
      this.held = null;
      if (!cmd) return;
      if (cmd.payload.length === 0) throw new ProtocolError('empty command packet');
      this.onCommand(cmd);
    }
  }

  /**
   * LOAD DATA LOCAL INFILE: the client's file packets go upstream as they arrive (packet by packet,
   * with backpressure), up to and including the empty packet that ends the file. False when more
   * bytes are needed (or the upstream must drain first).
   */
  private relayInfile(): boolean {
    for (;;) {
      const r = this.clientReader.nextRaw();
      if (!r) return false;
      if (r.seq !== this.infileSeq) throw new ProtocolError(`LOCAL INFILE packet with sequence id ${r.seq} (expected ${this.infileSeq})`);
      this.writeUpstream(r.bytes);
      this.infileSeq = (r.seq + 1) & 0xff;
      if (r.payload.length === 0 && !r.continued) {
        this.infileSeq = null;
        this.clientReader.maxPacketSize = this.infileSavedLimit;
        return true;
      }
      if (this.upstreamWaitingDrain) return false;
    }
  }

  /** Why this principal may not run LOAD DATA LOCAL INFILE now; null when it may. */
  private localInfileRefusal(principal: Principal): string | null {
    if (this.deps.decider.localInfileAllowed?.(principal) !== true) return 'the policy does not allow client files for this agent (mysql.local_infile)';
    if ((this.caps & Capability.LocalFiles) === 0) return 'this client did not enable LOCAL INFILE';
    if (!this.upstreamLocalFiles) return 'this session was opened without LOCAL INFILE (it was allowed later, or the database does not offer it); reconnect';
    return null;
  }

  /** Stops reading client commands until `p` settles; `cmd` is offered again then. */
  private holdUntil(cmd: ClientCommand | null, p: Promise<unknown> | null): void {
    this.held = cmd;
    this.blocked = true;
    this.client.pause();
    if (p) void p.then(() => this.release(), () => this.release());
  }

  private release(): void {
    if (!this.blocked) return;
    this.blocked = false;
    if (this.phase !== Phase.Ready) return;
    if (this.endReason) {
      if (this.queue.length === 0) this.finishEnd();
      return;
    }
    this.resumeClient();
  }

  private onCommand(cmd: ClientCommand): void {
    const p = cmd.payload;
    const command = p[0]!;
    switch (command) {
      case Command.Query:
        return this.onSql(cmd, 'com_query', decodeComQuery(p, this.caps).query);
      case Command.StmtPrepare:
        return this.onSql(cmd, 'com_stmt_prepare', decodeComStmtPrepare(p).toString('utf8'));
      case Command.FieldList: {
        const { table } = decodeComFieldList(p);
        // judged like reading the table
        return this.onSql(cmd, 'com_query', `SELECT * FROM \`${table.replace(/`/g, '``')}\``, true);
      }
      case Command.InitDb: {
        const db = decodeComInitDb(p);
        const allowed = this.target?.database ?? '';
        if (db !== allowed) return this.local(cmd, { kind: 'database_refused', user: this.user, database: db, allowed });
        return this.forward(cmd);
      }
      case Command.Ping:
      case Command.Statistics:
        if (p.length !== 1) throw new ProtocolError(`${commandName(command)} with arguments`);
        return this.forward(cmd);
      case Command.SetOption:
        decodeComSetOption(p);
        return this.forward(cmd);
      case Command.ResetConnection:
        this.forward(cmd);
        // the upstream forgets every prepared statement and user variable: the identity is set again
        this.statements.clear();
        this.lastPrepared = null;
        this.sendInternal(identityStatement(IDENTITY_VARIABLE, `sqlwarden:${this.principalValue?.agent ?? ''}:${this.id}`));
        this.rereadSqlMode();
        return;
      case Command.Quit:
        // a goodbye: commands still in flight finish upstream before its COM_QUIT
        this.quitting = true;
        this.close();
        return;
      case Command.StmtExecute:
        if (p.length < 10) throw new ProtocolError('COM_STMT_EXECUTE truncated');
        return this.onStatementCommand(cmd, p.readUInt32LE(1), 'mysqld_stmt_execute');
      case Command.StmtFetch:
        return this.onStatementCommand(cmd, decodeComStmtFetch(p).statementId, 'mysqld_stmt_fetch');
      case Command.StmtReset:
        return this.onStatementCommand(cmd, decodeComStmtReset(p), 'mysqld_stmt_reset');
      case Command.StmtSendLongData:
        return this.onStatementCommand(cmd, decodeComStmtSendLongData(p).statementId, 'mysqld_stmt_send_long_data');
      case Command.StmtClose:
        return this.onStatementCommand(cmd, decodeComStmtClose(p), 'mysqld_stmt_close');
      case Command.ProcessKill:
        return this.onKill(cmd, { kind: 'kill', mode: 'connection', id: decodeComProcessKill(p) });
      case Command.ChangeUser:
        return this.onChangeUser(cmd);
      case Command.Sleep:
      case Command.Connect:
      case Command.Time:
      case Command.DelayedInsert:
      case Command.ConnectOut:
      case Command.Daemon:
        return this.local(cmd, { kind: 'unknown_command', command });
      default: {
        const name = commandName(command);
        if (name.startsWith('COM_UNKNOWN')) return this.local(cmd, { kind: 'unknown_command', command });
        this.deps.log.info('command refused', { session: this.id, agent: this.principalValue?.agent, command: name });
        return this.local(cmd, { kind: 'command_refused', command: name, reason: 'only statements and prepared statements are proxied' });
      }
    }
  }

  /**
   * Commands on a prepared statement: forwarded only for ids the upstream confirmed to this session.
   * MariaDB's "last prepared" id (-1, sent right behind the prepare by pipelining drivers) waits for
   * that prepare's answer.
   */
  private onStatementCommand(cmd: ClientCommand, id: number, what: string): void {
    const command = cmd.payload[0]!;
    const noResponse = command === Command.StmtClose || command === Command.StmtSendLongData;
    let known = this.statements.has(id);
    if (id === MARIADB_LAST_STATEMENT_ID) {
      if (this.lastPrepared === 'pending') {
        this.holdUntil(cmd, null);
        return;
      }
      known = this.lastPrepared !== null;
    }
    if (!known) {
      if (!noResponse) this.local(cmd, { kind: 'unknown_statement', id: id === MARIADB_LAST_STATEMENT_ID ? -1 : id, command: what });
      return;
    }
    const stmtId = id === MARIADB_LAST_STATEMENT_ID ? (this.lastPrepared as number) : id;
    const stmt = this.statements.get(stmtId);
    if (command === Command.StmtClose) {
      this.statements.delete(stmtId);
      this.masking?.forgetCursor(stmtId);
      if (id === MARIADB_LAST_STATEMENT_ID || this.lastPrepared === id) this.lastPrepared = null;
    }
    if (command === Command.StmtExecute) return this.forwardMasked(cmd, stmt?.analysis, undefined, { sql: stmt?.sql, stmtId });
    this.forward(cmd, stmt?.analysis, undefined, { sql: stmt?.sql, stmtId });
  }

  /** A SQL-carrying command: the engine's own checks, then the analysis, then the policy. */
  private onSql(cmd: ClientCommand, carrier: SqlCarrier, sql: string, synthetic = false): void {
    if (!this.principalValue) throw new ProtocolError('statement before login completed');
    if (!synthetic && carrier === 'com_query' && /kill/i.test(sql)) {
      const kill = parseKill(sql);
      if (kill) return this.onKill(cmd, kill);
    }
    let analysis: Analysis | Promise<Analysis>;
    try {
      analysis = this.deps.analyze(sql);
    } catch (err) {
      this.deps.log.error('analysis failed', { session: this.id, err });
      analysis = { ok: false, dialect: 'mysql', failure: { kind: 'parser_failure', message: 'internal error' } };
    }
    if (analysis instanceof Promise) {
      this.awaiting = cmd;
      const p = analysis.then((a) => {
        // the session ends: the command is answered by the end's error (see errorSeq)
        if (this.phase !== Phase.Ready || this.endReason) return;
        this.awaiting = null;
        this.decide(cmd, carrier, sql, a, synthetic);
      });
      this.holdUntil(null, p.catch((err: unknown) => this.onClientFault(err)));
      return;
    }
    this.decide(cmd, carrier, sql, analysis, synthetic);
  }

  private decide(cmd: ClientCommand, carrier: SqlCarrier, sql: string, analysis: Analysis, synthetic: boolean): void {
    const principal = this.principalValue!;
    if (!this.syncMasks(cmd)) return;
    let decision: Decision;
    // sql_mode = CONCAT(@@sql_mode, ',FLAG'): judged as the constant it evaluates to in this session
    const mode = !synthetic && carrier === 'com_query' && analysis.ok ? this.withSessionSqlMode(analysis) : null;
    try {
      decision = (!synthetic && this.engineRefusal(sql, analysis)) || this.judge(carrier, sql, mode?.analysis ?? analysis, principal);
    } catch (err) {
      this.deps.log.error('decision failed', { session: this.id, err });
      decision = { kind: 'deny', ruleId: 'internal-error', reason: 'the statement could not be judged, so it was not run' };
    }
    let infile: string[] | undefined;
    const localLoads = decision.kind === 'allow' && analysis.ok ? analysis.statements.filter((s) => s.kind === 'load_data' && !s.readsFile).length : 0;
    if (localLoads > 0) {
      const refused = synthetic || carrier !== 'com_query' ? 'not as a prepared statement' : this.localInfileRefusal(principal);
      const names = refused ? null : localInfileNames(sql);
      if (refused || names === null || names.length !== localLoads) {
        this.countDeny?.inc();
        if (carrier === 'com_stmt_prepare') this.noPrepare();
        return this.local(cmd, { kind: 'local_infile_refused', reason: refused ?? 'the file name must be one plain string literal' });
      }
      infile = names;
    }
    switch (decision.kind) {
      case 'allow':
        this.countAllow?.inc();
        if (carrier === 'com_stmt_prepare') {
          const n = ++this.prepareCounter;
          this.lastPrepared = 'pending';
          this.forwardMasked(
            cmd,
            analysis,
            (e) => {
              if (n !== this.prepareCounter) return;
              this.lastPrepared = e.failed ? null : (e.statementId ?? null);
              // a pipelined "last prepared" command waits for this
              if (this.blocked && this.held && !this.endReason) this.release();
            },
            { sql },
          );
        } else if (mode && mode.after !== undefined) {
          // pipelined statements are judged against the mode this one sets; if it fails, the mode is not known
          this.sqlMode = mode.after;
          this.forwardMasked(cmd, analysis, (e) => {
            if (e.failed) this.sqlMode = null;
          }, { sql, infile });
        } else this.forwardMasked(cmd, analysis, undefined, { sql, infile });
        return;
      case 'deny':
        this.noteDenial(decision.ruleId);
        if (carrier === 'com_stmt_prepare') this.noPrepare();
        return this.local(cmd, { kind: 'denied', ruleId: decision.ruleId, reason: decision.reason });
      case 'review':
        // inline approvals arrive with the approvals service; until then a review rule holds nothing and runs nothing
        this.noteDenial(decision.ruleId);
        if (carrier === 'com_stmt_prepare') this.noPrepare();
        return this.local(cmd, { kind: 'review_unavailable', ruleId: decision.ruleId, reason: decision.reason });
    }
  }

  /**
   * The statements' sql_mode settings as this session would evaluate them: `CONCAT(@@sql_mode, ...)`
   * (see evalSqlModeConcat) against the mode the session has at that point (after the settings before
   * it in the same string) becomes a constant the setting rules see; `after` is the mode once they ran
   * (null: not known; undefined: no sql_mode setting). Only top-level statements: a SET inside PREPARE
   * text or a routine body runs at a time sqlwarden cannot tell and stays non-constant. A stale mode
   * (changed where sqlwarden did not see it) does not weaken this: every change sqlwarden passes keeps
   * the mode within what the policy allows, and the computed list has the added flags in it.
   */
  private withSessionSqlMode(a: Analysis & { ok: true }): { analysis: Analysis; after?: string | null } {
    let mode = this.sqlMode;
    let touched = false;
    let changed = false;
    const statements = a.statements.map((st) => {
      if (st.settings.length === 0) return st;
      let here = false;
      const settings = st.settings.map((f) => {
        if (f.name.toLowerCase() !== 'sql_mode' || f.global) return f;
        touched = true;
        if (f.reset) {
          mode = null;
          return f;
        }
        if (f.constant !== undefined) {
          mode = f.constant;
          return f;
        }
        const v = mode !== null && f.value !== undefined ? evalSqlModeConcat(f.value, mode) : undefined;
        mode = v ?? null;
        if (v === undefined) return f;
        here = true;
        return { ...f, constant: v };
      });
      if (!here) return st;
      changed = true;
      return { ...st, settings };
    });
    return { analysis: changed ? { ...a, statements } : a, after: touched ? mode : undefined };
  }

  /** Reads the session's sql_mode again (after COM_RESET_CONNECTION / COM_CHANGE_USER put it back to the global one). */
  private rereadSqlMode(): void {
    this.sqlMode = null;
    let seen: string | null = null;
    this.sendInternal('SELECT @@session.sql_mode', {
      onRow: (row) => {
        seen = new PayloadReader(row).lenencBytesOrNull()?.toString('utf8') ?? null;
      },
      done: (e) => {
        if (!e.failed) this.sqlMode = seen;
      },
    });
  }

  /**
   * Follows the masks the policy in force gives this session. Masking that starts mid-session could
   * not know the prepared statements and cursors made before it, nor which answers are still on their
   * way: the session ends instead (false), and the agent reconnects under masking.
   */
  private syncMasks(cmd: ClientCommand): boolean {
    const principal = this.principalValue;
    const masks = principal ? (this.deps.decider.masksFor?.(principal) ?? null) : null;
    const current = this.masking;
    if (current) {
      if (current.masks !== masks && !(masks === null && current.masks.isEmpty)) current.setMasks(masks);
      return true;
    }
    if (masks === null || masks.isEmpty) {
      this.maskingStarted = true;
      return true;
    }
    if (this.maskingStarted) {
      this.deps.log.info('masks now apply to this session; ending it', { session: this.id, agent: principal?.agent });
      this.deps.metrics.sessionsEnded.labels('mysql', 'masking_changed').inc();
      this.fatal({ kind: 'masking_changed' }, (cmd.lastSeq + 1) & 0xff);
      return false;
    }
    this.startMasking(masks);
    return true;
  }

  private startMasking(masks: MaskSet): void {
    const target = this.target;
    if (!target) return;
    const metrics = this.deps.metrics;
    this.masking = new MysqlMasking(
      masks,
      this.deps.catalog(target),
      {
        masked: (rule, n) => metrics.maskedValues.labels('mysql', safeRuleId(rule)).inc(n),
        uncertain: (n) => metrics.maskUncertain.labels('mysql').inc(n),
      },
      () => target.database,
    );
  }

  /** a prepare answered by sqlwarden: the "last prepared" statement is none */
  private noPrepare(): void {
    this.prepareCounter++;
    this.lastPrepared = null;
  }

  private judge(carrier: SqlCarrier, sql: string, analysis: Analysis, principal: Principal): Decision {
    const d = this.deps.decider;
    const msg = { dialect: 'mysql' as const, carrier, sql };
    if (d.judgeAnalysis) return d.judgeAnalysis(msg, analysis, principal).decision;
    return d.decide(msg, principal);
  }

  /** What the MySQL engine refuses whatever the policy says (see statement-guards.ts); null when nothing. */
  private engineRefusal(sql: string, analysis: Analysis): Decision | null {
    if (writesIdentityVariable(sql)) {
      return {
        kind: 'deny',
        ruleId: 'sqlwarden-identity',
        reason: `@${IDENTITY_VARIABLE} carries the agent's identity to the database and cannot be changed through sqlwarden`,
      };
    }
    // KILL is answered by sqlwarden (onKill); one anywhere else (PREPARE text, a routine body) would kill
    // upstream threads by the upstream's ids, which other agents' sessions share
    if (analysis.ok && containsKill(analysis.statements)) {
      return { kind: 'deny', ruleId: 'sqlwarden-kill', reason: 'KILL is handled by sqlwarden and must be sent as a statement of its own' };
    }
    const uses = analysis.ok ? analysis.statements.filter((s) => s.kind === 'use').length : 0;
    if (uses > 0 || /\buse\b/i.test(sql)) {
      const dbs = useDatabases(sql);
      const allowed = this.target?.database ?? '';
      if (dbs === null || dbs.length < uses || dbs.some((d) => d !== allowed)) {
        return { kind: 'deny', ruleId: 'sqlwarden-database', reason: `this credential works only for database '${allowed}'` };
      }
    }
    return null;
  }

  private noteDenial(ruleId: string): void {
    this.countDeny?.inc();
    this.deps.metrics.blocked.labels('mysql', safeRuleId(ruleId), this.deps.metrics.agentLabel(this.principalValue?.agent ?? '')).inc();
    this.deps.log.info('statement denied', { session: this.id, agent: this.principalValue?.agent, rule: ruleId });
  }

  // ---- COM_CHANGE_USER ----------------------------------------------------------------------

  /** the COM_CHANGE_USER being authenticated */
  private changing: { cu: ComChangeUser; oldUser: string } | null = null;

  /**
   * COM_CHANGE_USER: the new user is authenticated like a login (minted credentials, the same plugins
   * and auth switch; the client computes its answer with the scramble of the initial handshake, as
   * MySQL clients do), and must be a credential of this session's target. A wrong password is 1045 and
   * the connection closes. Then the upstream session is reset (COM_RESET_CONNECTION, the identity
   * variable set again for the new agent, sql_mode read again) and the session continues as the new
   * principal. A principal with other masks than the current one is refused (1235): the masking
   * state of the old one cannot carry over cleanly.
   */
  private onChangeUser(cmd: ClientCommand): void {
    if (this.queue.length > 0 || this.awaiting) {
      // earlier commands are still answered: the exchange starts once they are done
      this.holdUntil(cmd, this.whenIdle());
      return;
    }
    const cu = decodeComChangeUser(cmd.payload, this.caps);
    const resp = this.response!;
    if (cu.characterSet !== null && cu.characterSet !== resp.characterSet) {
      return this.local(cmd, { kind: 'change_user_refused', reason: 'another character set than the connection\'s is not supported through sqlwarden' });
    }
    if (!cu.username) {
      this.lastClientSeq = cmd.lastSeq;
      return this.fail('unknown_user', { kind: 'auth_failed', user: '' });
    }
    this.changing = { cu, oldUser: this.user };
    // the old credential's registry entry goes now (it is keyed by user); the session is not usable until the exchange ends
    if (this.registered) {
      this.registered = false;
      this.deps.registry.remove(this);
      this.deps.metrics.sessions.labels('mysql').dec();
    }
    this.user = cu.username;
    this.record = null;
    this.failure = null;
    this.lastClientSeq = cmd.lastSeq;
    this.phase = Phase.Busy;
    this.client.pause();
    const plugin = (this.caps & Capability.PluginAuth) !== 0 ? cu.authPluginName : null;
    // the client reads no more commands until it has the answer; the auth exchange reads its packets
    this.beginAuth(cu.username, plugin, cu.authResponse)
      .then(() => {
        if (this.phase !== Phase.Closed) this.client.resume();
      })
      .catch((err: unknown) => this.onClientFault(err));
  }

  /** Resolves once no response is owed and no command is being judged. */
  private whenIdle(): Promise<void> {
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private idleWaiters: (() => void)[] = [];

  private afterChangeUser(change: { cu: ComChangeUser; oldUser: string }, before: Buffer[]): void {
    this.changing = null;
    const record = this.record;
    const old = this.principalValue!;
    const target = this.target!;
    if (!record) return this.fail(this.failure ?? 'unknown_user', { kind: 'auth_failed', user: this.user });
    const db = change.cu.database;
    if (record.target !== old.target || (db && db !== target.database)) return this.fail('wrong_target', { kind: 'auth_failed', user: this.user });
    if (record.expiresAt <= Date.now()) return this.fail('expired', { kind: 'auth_failed', user: this.user });
    const principal: Principal = Object.freeze({
      agent: record.agent,
      labels: Object.freeze({ ...record.labels }),
      credentialId: record.id,
      user: record.user,
      target: record.target,
      sessionId: this.id,
    });
    const masksOf = (p: Principal): readonly unknown[] => {
      const m = this.deps.decider.masksFor?.(p) ?? null;
      return m && !m.isEmpty ? m.rules : [];
    };
    const was = masksOf(old);
    const now = masksOf(principal);
    if (was.length !== now.length || was.some((r, i) => r !== now[i])) {
      this.deps.log.info('change user refused: other masks', { session: this.id, from: old.agent, to: record.agent });
      // authenticated, but the session cannot continue as either principal: the reason, then close
      this.fatal({ kind: 'change_user_refused', reason: 'the new credential has other masks than this session' }, this.replySeq());
      return;
    }
    this.principalValue = principal;
    this.expiresAt = record.expiresAt;
    const agentLabel = this.deps.metrics.agentLabel(record.agent);
    this.countAllow = this.deps.metrics.statements.labels('mysql', agentLabel, 'allow');
    this.countDeny = this.deps.metrics.statements.labels('mysql', agentLabel, 'deny');
    this.deps.registry.add(this);
    this.registered = true;
    this.deps.metrics.sessions.labels('mysql').inc();
    this.deps.log.info('mysql change user', { session: this.id, from: old.agent, to: record.agent, credential: record.id });
    // the upstream session starts over: prepared statements, user variables, temporary tables, settings
    for (const id of this.statements.keys()) this.masking?.forgetCursor(id);
    this.statements.clear();
    this.lastPrepared = null;
    this.prepareCounter++;
    let seq = this.replySeq();
    const reply = before.map((b) => encodePacket(b, seq++));
    this.phase = Phase.Ready;
    this.sendInternalCommand(Buffer.from([Command.ResetConnection]), Command.ResetConnection, {
      done: (e) => {
        if (e.failed) {
          this.deps.log.warn('the upstream session could not be reset after COM_CHANGE_USER; ending it', { session: this.id });
          this.fatal({ kind: 'upstream_lost' }, seq);
        }
      },
    });
    this.sendInternal(identityStatement(IDENTITY_VARIABLE, `sqlwarden:${record.agent}:${this.id}`));
    this.rereadSqlMode();
    // the OK goes out once the upstream session is reset (its status flags are those of the reset session)
    const ok = this.localLater({ payload: Buffer.from([Command.ChangeUser]), raw: [], lastSeq: seq - 1 });
    ok.bytes = Buffer.concat([...reply, encodePacket(encodeOkPacket({ statusFlags: ServerStatus.Autocommit }, this.caps), seq)]);
    this.advance();
  }

  // ---- KILL ---------------------------------------------------------------------------------

  /**
   * KILL [QUERY|CONNECTION] n, COM_PROCESS_KILL: n is a connection id sqlwarden issued. Only the same
   * agent's sessions can be killed; another id is "Unknown thread id". The upstream thread is killed on
   * a side connection; the KILL itself never reaches the upstream.
   */
  private onKill(cmd: ClientCommand, req: KillRequest): void {
    const me = this.principalValue!;
    if (req.kind === 'not_alone') {
      this.noteDenial('sqlwarden-kill');
      return this.local(cmd, { kind: 'denied', ruleId: 'sqlwarden-kill', reason: 'KILL must be sent as a statement of its own' });
    }
    if (req.kind === 'unsupported') return this.local(cmd, { kind: 'kill_unsupported', detail: req.detail });
    const other = this.deps.sessionByConnectionId(req.id);
    this.countAllow?.inc();
    if (!other || other.principal?.agent !== me.agent || other.isClosed) {
      if (this.deps.store.kind === 'redis') {
        // perhaps a session on another instance: relayed with the asking agent; only a session of that
        // agent there acts, and its answer decides between OK and "Unknown thread id"
        const entry = this.localLater(cmd);
        const settle = (found: boolean): void => {
          entry.bytes = found ? this.okPacket(cmd.lastSeq + 1) : toMysqlErrPacket({ kind: 'unknown_thread', id: req.id }, cmd.lastSeq + 1);
          this.advance();
        };
        const relayed = this.deps.relayKill(req.id, req.mode, me.agent).then(settle, (err: unknown) => {
          this.deps.log.warn('kill relay failed', { err });
          settle(false);
        });
        this.holdUntil(null, relayed);
        return;
      }
      return this.local(cmd, { kind: 'unknown_thread', id: req.id });
    }
    this.deps.log.info('kill', { session: this.id, agent: me.agent, target: other.id, mode: req.mode });
    if (other === this) {
      if (req.mode === 'query') return this.localOk(cmd);
      this.endReason = 'killed';
      this.local(cmd, { kind: 'killed' });
      return;
    }
    const entry = this.localLater(cmd);
    const settle = (): void => {
      entry.bytes = this.okPacket(cmd.lastSeq + 1);
      this.advance();
    };
    const p = req.mode === 'query' ? other.killQuery() : other.killConnection();
    // later commands wait: their answers may not overtake this one
    this.holdUntil(null, p.then(settle, settle));
  }

  /** KILL QUERY of what this session runs upstream (side connection). */
  killQuery(): Promise<void> {
    const target = this.target;
    if (!target || this.upstreamThreadId === 0) return Promise.resolve();
    return killUpstream(target, this.upstreamThreadId, 'query').catch((err: unknown) => this.deps.log.warn('upstream kill failed', { session: this.id, err }));
  }

  /** KILL CONNECTION from another session of the same agent: the upstream thread, then this session. */
  async killConnection(): Promise<void> {
    const target = this.target;
    if (target && this.upstreamThreadId !== 0) {
      await killUpstream(target, this.upstreamThreadId, 'connection').catch((err: unknown) => this.deps.log.warn('upstream kill failed', { session: this.id, err }));
    }
    this.deps.metrics.sessionsEnded.labels('mysql', 'killed').inc();
    // in place of the response owed (a KILL CONNECTION usually interrupts a running statement), else unsolicited
    const h = this.queue[0];
    this.fatal({ kind: 'killed' }, h && !h.sent ? h.replySeq : this.errorSeq());
  }

  // ---- responses in order -------------------------------------------------------------------

  /** Forwards a command as the client sent it; its response will stream back. */
  private forward(cmd: ClientCommand, analysis?: Analysis, done?: (e: InFlight) => void, extra: { sql?: string; stmtId?: number; infile?: string[] } = {}): void {
    const command = cmd.payload[0]!;
    for (const b of cmd.raw) this.writeUpstream(b);
    if (command === Command.StmtClose || command === Command.StmtSendLongData) return;
    this.queue.push({ kind: Entry.Upstream, command, replySeq: (cmd.lastSeq + 1) & 0xff, analysis, done, sql: extra.sql, stmtId: extra.stmtId, infile: extra.infile });
    this.advance();
  }

  /**
   * Forwards a statement-running command; under masking, the catalog is first asked for the
   * relations it names (later commands wait), so its results and errors are planned from memory.
   */
  private forwardMasked(cmd: ClientCommand, analysis: Analysis | undefined, done: ((e: InFlight) => void) | undefined, extra: { sql?: string; stmtId?: number; infile?: string[] }): void {
    const load = this.masking?.beforeStatement(analysis?.ok ? analysis.statements : undefined, extra.sql ?? '') ?? null;
    if (!load) return this.forwardChecked(cmd, analysis, done, extra);
    this.awaiting = cmd;
    const p = load.then(() => {
      if (this.phase !== Phase.Ready || this.endReason) return;
      this.awaiting = null;
      this.forwardChecked(cmd, analysis, done, extra);
    });
    this.holdUntil(null, p.catch((err: unknown) => this.onClientFault(err)));
  }

  /** Forwards unless masking refuses the statement's predicates now that the catalog knows its relations (views followed: predicate-views.ts). */
  private forwardChecked(cmd: ClientCommand, analysis: Analysis | undefined, done: ((e: InFlight) => void) | undefined, extra: { sql?: string; stmtId?: number; infile?: string[] }): void {
    const refusal = this.masking?.predicateRefusal(analysis?.ok ? analysis.statements : undefined);
    if (!refusal) return this.forward(cmd, analysis, done, extra);
    this.noteDenial(refusal.ruleId);
    if (cmd.payload[0] === Command.StmtPrepare) this.noPrepare();
    this.local(cmd, { kind: 'denied', ruleId: refusal.ruleId, reason: refusal.reason });
  }

  /** sqlwarden's own statement on the upstream session; its response is consumed (rows to `onRow`, the end to `done`). */
  private sendInternal(sql: string, opts?: { onRow?: (payload: Buffer) => void; done?: (e: InFlight) => void }): void {
    this.sendInternalCommand(encodeComQuery(sql, this.caps), Command.Query, opts);
  }

  private sendInternalCommand(payload: Buffer, command: number, opts?: { onRow?: (payload: Buffer) => void; done?: (e: InFlight) => void }): void {
    const up = this.upstream;
    if (!up) return;
    this.writeUpstream(encodePacket(payload, 0));
    this.queue.push({
      kind: Entry.Internal,
      command,
      replySeq: 1,
      onRow: opts?.onRow,
      done: opts?.done ?? ((e) => {
        if (e.failed) {
          this.deps.log.warn('the identity variable could not be set again; ending the session', { session: this.id });
          this.unsafeSetting = 'the identity variable could not be set again';
          this.endReason = 'shutdown';
        }
      }),
    });
    this.advance();
  }

  /** Answers a command with an error, in turn. */
  private local(cmd: ClientCommand, err: MysqlSessionError): void {
    this.queue.push({ kind: Entry.Local, command: cmd.payload[0]!, replySeq: cmd.lastSeq + 1, bytes: toMysqlErrPacket(err, cmd.lastSeq + 1) });
    this.advance();
  }

  private localOk(cmd: ClientCommand): void {
    this.queue.push({ kind: Entry.Local, command: cmd.payload[0]!, replySeq: cmd.lastSeq + 1, bytes: this.okPacket(cmd.lastSeq + 1) });
    this.advance();
  }

  /** A place in the response order whose bytes are set later. */
  private localLater(cmd: ClientCommand): InFlight {
    const e: InFlight = { kind: Entry.Local, command: cmd.payload[0]!, replySeq: cmd.lastSeq + 1 };
    this.queue.push(e);
    return e;
  }

  private okPacket(seq: number): Buffer {
    const status = this.lastStatus & (ServerStatus.Autocommit | ServerStatus.InTrans | ServerStatus.InTransReadonly);
    return encodePacket(encodeOkPacket({ statusFlags: status }, this.caps), seq);
  }

  /** Sends what is due at the head of the queue; starts tracking the next upstream response. */
  private advance(): void {
    while (this.queue.length > 0) {
      const h = this.queue[0]!;
      if (h.kind === Entry.Local) {
        if (!h.bytes) return;
        this.flushOut();
        this.writeClient(h.bytes);
        this.queue.shift();
        continue;
      }
      if (!this.headStarted) {
        this.tracker!.begin(h.command);
        this.headStarted = true;
        this.seqShift = 0;
        this.rowParts = null;
      }
      return;
    }
    if (this.idleWaiters.length > 0 && this.awaiting === null) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      queueMicrotask(() => waiters.forEach((w) => w()));
    }
    if (this.endReason && this.phase === Phase.Ready && (this.awaiting === null || this.endReason === 'killed')) this.finishEnd();
  }

  // ---- upstream input -----------------------------------------------------------------------

  private readonly onUpstreamData = (chunk: Buffer): void => {
    const reader = this.upstreamReader;
    if (!reader || this.phase === Phase.Closed) return;
    reader.push(chunk);
    this.client.cork();
    try {
      let raw: RawPacket | null;
      while (!this.upstreamPaused && (raw = reader.nextRaw()) !== null) this.onUpstreamPacket(raw);
      this.flushOut();
    } catch (err) {
      this.outRun = null;
      this.onUpstreamFault(err);
    } finally {
      this.client.uncork();
    }
  };

  private onUpstreamPacket(raw: RawPacket): void {
    const h = this.queue[0];
    if (!h || h.kind === Entry.Local || !this.headStarted) {
      // the upstream speaks unasked: an error before it hangs up (idle timeout, shutdown) is passed on
      if (!raw.continued && raw.payload[0] === 0xff) {
        this.out(raw.bytes);
        return;
      }
      throw new ProtocolError('unsolicited packet from the database');
    }
    const tracker = this.tracker!;
    const m = h.kind === Entry.Upstream ? this.masking : null;
    /** the packet went to the client (or is held) through masking */
    let handled = false;
    if (raw.continued) {
      if (this.rowParts) {
        // the next piece of a large row being masked
        this.rowParts.push(raw.payload);
        if (!raw.more) {
          const parts = this.rowParts;
          this.rowParts = null;
          this.emitRow(this.rowPlan!, Buffer.concat(parts), this.rowSeq, parts.length);
        }
        handled = true;
      }
    } else {
      const kind = tracker.next(raw.payload);
      switch (kind) {
        case PacketKind.Ok:
        case PacketKind.Eof:
          this.onStatus(tracker.statusFlags);
          break;
        case PacketKind.Err:
          h.failed = true;
          if (m && !raw.more) {
            const clean = m.cleanError(raw.payload, h.analysis?.ok ? h.analysis.statements : undefined, this.caps);
            if (clean) {
              this.out(encodePacket(clean, raw.seq + this.seqShift));
              handled = true;
            }
          }
          break;
        case PacketKind.PrepareOk: {
          const ok = tracker.prepareOk!;
          this.statements.set(ok.statementId, { analysis: h.analysis, sql: h.sql, numParams: ok.numParams, numColumns: ok.numColumns });
          h.statementId = ok.statementId;
          break;
        }
        case PacketKind.LocalInfileRequest: {
          // only the file the judged statement names, in order: a hostile or compromised upstream must
          // not make the client send any other file
          const want = h.kind === Entry.Upstream ? h.infile?.shift() : undefined;
          if (want === undefined || raw.more || !decodeLocalInfileRequest(raw.payload).equals(Buffer.from(want, 'utf8'))) {
            throw new InfileViolation();
          }
          // the client's file packets follow (relayInfile), then its empty packet; then the upstream answers
          this.infileSeq = (raw.seq + this.seqShift + 1) & 0xff;
          this.infileSavedLimit = this.clientReader.maxPacketSize;
          this.clientReader.maxPacketSize = Number.MAX_SAFE_INTEGER;
          break;
        }
        default:
          if (kind === PacketKind.Row && h.onRow && !raw.more) h.onRow(raw.payload);
          // ColumnCount / ColumnDefinition / Row: result masking
          if (m) handled = this.maskPacket(kind, raw, h, tracker, m);
          break;
      }
    }
    if (h.kind === Entry.Upstream) {
      h.sent = true;
      if (!handled) this.outUpstream(raw);
    }
    if (!raw.more && tracker.done) {
      this.queue.shift();
      this.headStarted = false;
      if (m) {
        if (!h.failed) m.afterStatements(h.analysis?.ok ? h.analysis.statements : undefined);
        m.flushCounts();
      }
      h.done?.(h);
      this.advance();
    }
  }

  /** The statement whose result is arriving; undefined when not known (its columns are then unknown). */
  private resultStatement(h: InFlight, tracker: ResultsetTracker): StatementFacts | undefined {
    const a = h.analysis;
    if (!a?.ok) return undefined;
    const ss = a.statements;
    if (h.command === Command.Query) {
      // a CALL returns results of statements sqlwarden has not seen; the results after it are shifted
      const i = tracker.resultIndex;
      for (let j = 0; j <= i && j < ss.length; j++) if (ss[j]!.kind === 'call') return undefined;
      return ss[i];
    }
    return ss.length === 1 && ss[0]!.kind !== 'call' ? ss[0] : undefined;
  }

  /** Column definitions and rows under masking; true when the packet was sent (or is held) here. */
  private maskPacket(kind: PacketKind, raw: RawPacket, h: InFlight, tracker: ResultsetTracker, m: MysqlMasking): boolean {
    const resultCommand = h.command === Command.Query || h.command === Command.StmtExecute;
    switch (kind) {
      case PacketKind.ColumnCount:
        if (!resultCommand) return false;
        m.resultStart();
        if (!tracker.metadataFollows) throw new MaskingViolation('the database sent rows without column definitions');
        return false;
      case PacketKind.ColumnDefinition: {
        if (!resultCommand) return false;
        if (raw.more) throw new MaskingViolation('a column definition of 16 MiB or more');
        m.columnDefinition(raw.payload);
        if (tracker.columnIndex !== tracker.columnCount - 1) return false;
        const statement = this.resultStatement(h, tracker);
        const binary = tracker.binaryRows;
        const a = h.analysis;
        const sql = a?.ok && a.statements.length === 1 ? h.sql : undefined;
        const plan = (): void => {
          const p = m.plan(statement, binary, sql);
          if (h.command === Command.StmtExecute && h.stmtId !== undefined) m.keepCursor(h.stmtId, p);
        };
        const load = m.columnsDone(statement);
        if (!load) {
          plan();
          return false;
        }
        // the last definition goes out; rows wait for their plan
        this.outUpstream(raw);
        this.pauseUpstream(load, plan);
        return true;
      }
      case PacketKind.Row: {
        const plan = h.command === Command.StmtFetch ? (h.stmtId !== undefined ? m.cursor(h.stmtId) : undefined) : m.current;
        if (!plan) throw new MaskingViolation('rows arrived whose columns sqlwarden has not seen');
        if (!plan.any) return false;
        if (raw.more) {
          // 16 MiB or more: joined, masked, framed again
          this.rowParts = [raw.payload];
          this.rowSeq = raw.seq;
          this.rowPlan = plan;
          return true;
        }
        this.emitRow(plan, raw.payload, raw.seq, 1, raw.bytes);
        return true;
      }
      default:
        return false;
    }
  }

  /** A row through its plan, framed with its sequence id (renumbering what follows if it grew or shrank). */
  private emitRow(plan: RowPlan, payload: Buffer, seq: number, physicalIn: number, rawBytes?: Buffer): void {
    const out = this.masking!.rewriteRow(plan, payload);
    if (out === null) throw new MaskingViolation('a row sqlwarden could not read');
    if (out === payload && rawBytes && this.seqShift === 0) {
      this.out(rawBytes);
      return;
    }
    this.out(encodePacket(out, seq + this.seqShift));
    this.seqShift += physicalPacketCount(out.length) - physicalIn;
  }

  /** A packet forwarded as the upstream sent it (renumbered when a masked row changed the count). */
  private outUpstream(raw: RawPacket): void {
    if (this.seqShift === 0) return this.out(raw.bytes);
    const b = Buffer.from(raw.bytes);
    b[3] = (raw.seq + this.seqShift) & 0xff;
    this.out(b);
  }

  /** Upstream packets wait until `p` settles (the catalog is asked); `then` runs before they go on. */
  private pauseUpstream(p: Promise<void>, then: () => void): void {
    this.upstreamPaused = true;
    this.upstream?.pause();
    const resume = (): void => {
      if (this.phase === Phase.Closed) return;
      this.upstreamPaused = false;
      try {
        then();
      } catch (err) {
        this.onUpstreamFault(err);
        return;
      }
      this.onUpstreamData(Buffer.alloc(0));
      if (!this.upstreamPaused && !this.clientWaitingDrain && !this.isClosed) this.upstream?.resume();
    };
    void p.then(resume, resume);
  }

  /**
   * The upstream reports settings that change how SQL is lexed (NO_BACKSLASH_ESCAPES, MariaDB's
   * ANSI_QUOTES): statements would no longer be read as sqlwarden reads them, so the session ends at
   * the end of this response (fail closed).
   */
  private onStatus(flags: number): void {
    this.lastStatus = flags;
    if ((flags & (ServerStatus.NoBackslashEscapes | STATUS_ANSI_QUOTES)) === 0 || this.unsafeSetting) return;
    const setting = (flags & ServerStatus.NoBackslashEscapes) !== 0 ? 'NO_BACKSLASH_ESCAPES' : 'ANSI_QUOTES';
    this.deps.log.warn('session switched to a setting sqlwarden cannot analyse; ending it', { session: this.id, setting });
    this.unsafeSetting = `the session switched to sql_mode ${setting}`;
    this.endReason = 'shutdown';
    this.client.pause();
  }

  private onUpstreamFault(err: unknown): void {
    if (err instanceof InfileViolation) {
      this.deps.log.warn('the database asked for a client file the statement did not name; ending the session', { session: this.id, agent: this.principalValue?.agent });
      const h = this.queue[0];
      this.fatal({ kind: 'infile_violation' }, h && !h.sent ? h.replySeq : this.errorSeq());
      return;
    }
    if (err instanceof MaskingViolation) {
      this.deps.log.warn('masking violation; ending the session', { session: this.id, detail: err.message });
      this.fatal({ kind: 'masking_violation', detail: err.message }, 0);
      return;
    }
    this.deps.log.error('upstream protocol error', { session: this.id, err });
    this.fatal({ kind: 'upstream_lost' }, this.errorSeq());
  }

  // ---- flow control -------------------------------------------------------------------------

  /** Upstream bytes to the client: contiguous views of one chunk are written as one slice. */
  private out(b: Buffer): void {
    const run = this.outRun;
    if (run && run.buffer === b.buffer && run.byteOffset + run.length === b.byteOffset) {
      this.outRun = Buffer.from(run.buffer, run.byteOffset, run.length + b.length);
      return;
    }
    if (run) this.writeClient(run);
    this.outRun = b;
  }

  private flushOut(): void {
    const run = this.outRun;
    this.outRun = null;
    if (run) this.writeClient(run);
  }

  private writeUpstream(b: Buffer): void {
    const up = this.upstream;
    if (!up) throw new ProtocolError('command before login completed');
    if (!up.write(b) && !this.upstreamWaitingDrain) {
      this.upstreamWaitingDrain = true;
      this.client.pause();
    }
  }

  private writeClient(b: Buffer): void {
    if (!this.client.write(b) && !this.clientWaitingDrain) {
      // the client does not read: neither upstream answers nor sqlwarden's own may pile up
      this.clientWaitingDrain = true;
      this.upstream?.pause();
      if (this.phase === Phase.Ready) this.client.pause();
    }
  }

  /** Reading client commands goes on when nothing holds it back. */
  private resumeClient(): void {
    if (this.phase !== Phase.Ready || this.blocked || this.endReason || this.upstreamWaitingDrain || this.clientWaitingDrain) return;
    this.client.resume();
    try {
      this.processCommands();
    } catch (err) {
      this.onClientFault(err);
    }
  }

  private readonly onUpstreamDrain = (): void => {
    if (!this.upstreamWaitingDrain) return;
    this.upstreamWaitingDrain = false;
    this.resumeClient();
  };

  private readonly onClientDrain = (): void => {
    if (!this.clientWaitingDrain) return;
    this.clientWaitingDrain = false;
    if (this.phase === Phase.Closed) return;
    if (!this.upstreamPaused) this.upstream?.resume();
    this.resumeClient();
  };

  // ---- ending -------------------------------------------------------------------------------

  /** Called by the registry: credential revoked or expired, or shutdown. */
  end(reason: EndReason): void {
    // already ended while idle, waiting for the client's next command: shutdown does not wait
    if (this.phase === Phase.Ending && reason === 'shutdown') return this.close();
    if (this.phase === Phase.Closed || this.endReason) return;
    this.endReason = reason;
    if (this.phase !== Phase.Ready) {
      // before the upstream login completes: afterAuth sees endReason; earlier phases end now
      if (this.phase !== Phase.Busy) this.finishEnd();
      return;
    }
    this.client.pause();
    if (this.queue.length === 0) {
      this.finishEnd();
      return;
    }
    // stop whatever the upstream is running for this session, then end at the response boundary
    this.cancelUpstream();
    this.endTimer = setTimeout(() => this.close(), END_GRACE_MS);
    this.endTimer.unref();
  }

  private finishEnd(): void {
    if (this.phase === Phase.Closed) return;
    const reason = this.endReason ?? 'shutdown';
    if (reason === 'killed') {
      // KILL CONNECTION of itself: its error was the reply; flush it and hang up
      this.client.end();
      this.close();
      return;
    }
    this.deps.metrics.sessionsEnded.labels('mysql', this.unsafeSetting ? 'unsafe_setting' : reason).inc();
    const seq = this.errorSeq();
    const err: MysqlSessionError = this.unsafeSetting
      ? { kind: 'unsafe_setting', setting: this.unsafeSetting }
      : reason === 'revoked' || reason === 'admin'
        ? { kind: 'revoked' }
        : reason === 'expired'
          ? { kind: 'expired' }
          : { kind: 'shutdown' };
    // nothing owed to the client: an error now would arrive unasked (sequence 0), which drivers take for
    // a packet out of order when it crosses a command they are sending. MySQL and MariaDB send nothing
    // when they kill an idle connection; sqlwarden ends the upstream session now and answers the
    // client's next command with the error (then hangs up), so the client learns why.
    if (seq === 0 && this.phase === Phase.Ready && reason !== 'shutdown') return this.endIdle(err);
    this.fatal(err, seq);
  }

  private idleEndError: MysqlSessionError | null = null;

  private endIdle(err: MysqlSessionError): void {
    this.phase = Phase.Ending;
    this.idleEndError = err;
    this.releaseUpstream();
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = setTimeout(() => this.close(), IDLE_END_WAIT_MS);
    this.endTimer.unref();
    this.clientWaitingDrain = false;
    this.client.resume();
    try {
      this.answerEnding();
    } catch (e) {
      this.onClientFault(e);
    }
  }

  /** Ended while idle: the next command from the client is answered with the reason, then the connection closes. */
  private answerEnding(): void {
    const cmd = this.readCommand();
    if (!cmd || this.phase !== Phase.Ending) return;
    if (cmd.payload[0] === Command.Quit) return this.close();
    this.fatal(this.idleEndError ?? { kind: 'shutdown' }, (cmd.lastSeq + 1) & 0xff);
  }

  /** The sequence id of an error sqlwarden sends now: the reply to a command it holds, else unsolicited (0). */
  private errorSeq(): number {
    const cmd = this.awaiting ?? this.held;
    if (cmd) return (cmd.lastSeq + 1) & 0xff;
    if (this.phase !== Phase.Ready) return this.replySeq();
    return 0;
  }

  cancelUpstream(): void {
    void this.killQuery();
  }

  /** Sends one ERR packet and closes both sides. */
  private fatal(err: MysqlSessionError, seq: number): void {
    if (this.phase === Phase.Closed) return;
    this.flushOut();
    const client = this.client;
    if (!client.destroyed && client.writable) client.end(toMysqlErrPacket(err, seq));
    this.close();
  }

  private readonly onHandshakeTimeout = (): void => {
    this.handshakeTimer = null;
    if (this.phase === Phase.Ready || this.phase === Phase.Closed) return;
    this.fatal({ kind: 'handshake_timeout' }, this.replySeq());
  };

  private readonly onClientError = (err: Error): void => {
    this.deps.log.debug('client socket error', { session: this.id, err });
    this.close();
  };

  private readonly onClientClose = (): void => this.close();

  private readonly onUpstreamError = (err: Error): void => {
    this.deps.log.warn('upstream socket error', { session: this.id, err });
    this.onUpstreamClose();
  };

  private readonly onUpstreamClose = (): void => {
    if (this.phase === Phase.Closed) return;
    if (this.endReason) {
      this.close();
      return;
    }
    // a response owed and not started gets the error in its place; mid-response the client sees the connection close
    const h = this.queue[0];
    if (!h) this.fatal({ kind: 'upstream_lost' }, this.errorSeq());
    else if (!h.sent) this.fatal({ kind: 'upstream_lost' }, h.replySeq);
    else this.close();
  };

  /** Idempotent teardown of both sides. */
  close(): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.endTimer) clearTimeout(this.endTimer);
    this.releaseUpstream();
    const client = this.client;
    if (!client.destroyed) {
      if (client.writableEnded) setTimeout(() => client.destroy(), END_GRACE_MS).unref();
      else client.destroy();
    }
  }

  /** Ends the upstream session (COM_QUIT) and leaves the registry: the session is over for the database. */
  private releaseUpstream(): void {
    const up = this.upstream;
    if (up) {
      up.off('data', this.onUpstreamData);
      up.off('close', this.onUpstreamClose);
      up.off('drain', this.onUpstreamDrain);
      up.off('error', this.onUpstreamError);
      up.on('error', () => {});
      this.upstreamReader = null;
      if (!up.destroyed) {
        if (this.queue.length > 0 && !this.quitting) {
          // the client vanished while a statement runs: MariaDB takes unread COM_QUIT bytes for a live
          // client and lets it run to the end, so stop it (KILL QUERY over a side connection) and drop the socket unsaid
          void this.killQuery();
          up.destroy();
        } else {
          up.end(encodePacket(Buffer.from([Command.Quit]), 0));
          setTimeout(() => up.destroy(), END_GRACE_MS).unref();
        }
      }
      this.upstream = null;
    }
    if (this.registered) {
      this.registered = false;
      this.deps.registry.remove(this);
      this.deps.metrics.sessions.labels('mysql').dec();
      this.deps.log.debug('mysql session ended', { session: this.id, reason: this.endReason ?? 'client' });
    }
  }

  get isClosed(): boolean {
    return this.phase === Phase.Closed || this.phase === Phase.Ending;
  }
}
