import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { AccessStore, AuthFailureReason, CredentialRecord } from '@sqlwarden/access';
import { ScramServerExchange, fakeScramVerifier, verifyCleartextAgainstScram } from '@sqlwarden/access';
import type { Decider, Decision, MaskSet, Principal, SqlCarrier } from '@sqlwarden/policy';
import type { Analysis } from '@sqlwarden/sql';
import type { Logger, Metrics } from '@sqlwarden/telemetry';
import {
  AUTH_CLEARTEXT,
  Backend,
  Frontend,
  AUTH_OK,
  FrameAction,
  FrameScanner,
  ProtocolError,
  SSL_NO,
  SSL_YES,
  TERMINATE,
  authenticationSASL,
  authenticationSASLContinue,
  authenticationSASLFinal,
  backendKeyData,
  decodeFields,
  decodeParameterStatus,
  decodeFunctionCall,
  decodeParse,
  decodePasswordMessage,
  decodeQuery,
  decodeSASLInitialResponse,
  decodeSASLResponse,
  decodeStartupPacket,
  errorResponse,
  negotiateProtocolVersion,
  parseMessage,
  queryMessage,
  readyForQuery,
  type ErrorFields,
} from '@sqlwarden/wire-pg';
import type { EndReason, LiveSession, SessionRegistry } from '../session-registry.js';
import type { PgCatalog } from './catalog-cache.js';
import { MASKING_CLIENT_FRAMES, MASKING_UPSTREAM_FRAMES, MaskingViolation, PgMasking, type MaskingCounters } from './pg-masking.js';
import type { PgTarget } from './pg-target.js';
import { PredicateViews, type CatalogVerdict } from './predicate-views.js';
import { toErrorFields, toErrorResponse, type PgSessionError } from './pg-errors.js';
import { filterStartupParams, isUnsafeClientEncoding, StartupParamError, type FilteredStartup } from './startup-params.js';
import { connectUpstream, sendUpstreamCancel } from './upstream-connect.js';
import { UpstreamError } from './upstream-error.js';

export interface PgEngineDeps {
  store: AccessStore;
  registry: SessionRegistry;
  decider: Decider;
  metrics: Metrics;
  log: Logger;
  target(name: string): PgTarget | undefined;
  /** TLS for clients; absent → SSLRequest is answered 'N' */
  tls?: { secureContext: tls.SecureContext; required: boolean };
  cleartextOverTls: boolean;
  maxMessageBytes: number;
  handshakeTimeoutMs: number;
  /** true when this connection would exceed the configured maximum */
  overConnectionLimit(): boolean;
  /** per-instance key for fake SCRAM verifiers of unknown users */
  fakeVerifierKey: Buffer;
  /** the catalog of a target (column names by OID, view definitions), for masking */
  catalog(target: PgTarget): PgCatalog;
  /** analysis of view definitions (Postgres dialect) */
  analyze(sql: string): Analysis;
}

const enum Phase {
  Startup,
  AuthSaslInitial,
  AuthSaslFinal,
  AuthCleartext,
  Busy,
  Ready,
  Closed,
}

/** Postgres' own limit on the startup packet. */
const MAX_STARTUP_PACKET = 10000;
const AUTH_FRAME_LIMIT = 16384;
const MAX_PENDING_DENIALS = 1024;
const END_GRACE_MS = 1000;

function identityTag(agent: string, sessionId: string): string {
  // NAMEDATALEN: application_name is truncated to 63 bytes upstream
  let tag = `sqlwarden:${agent}:${sessionId}`;
  while (Buffer.byteLength(tag) > 63) tag = `sqlwarden:${agent.slice(0, agent.length - 1 - (Buffer.byteLength(tag) - 64))}:${sessionId}`;
  return tag;
}

function safeRuleId(id: string): string {
  return id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 100);
}

/** One client connection on the Postgres listener, from the first byte to close. */
export class PgSession implements LiveSession {
  readonly id = randomBytes(8).toString('hex');
  readonly protocol = 'postgres' as const;
  user = '';
  expiresAt = Number.POSITIVE_INFINITY;

  private phase = Phase.Startup;
  private client: net.Socket;
  private readonly address: string;
  private startupBuf: Buffer = Buffer.alloc(0);
  private readonly clientScanner: FrameScanner;
  private upstreamScanner: FrameScanner | null = null;
  private upstream: net.Socket | null = null;
  private target: PgTarget | null = null;
  private upstreamKey = { pid: 0, secret: 0 };
  private principal: Principal | null = null;
  private record: CredentialRecord | null = null;
  private failure: AuthFailureReason | null = null;
  private scram: ScramServerExchange | null = null;
  private startup: FilteredStartup | null = null;
  private minorVersion = 0;
  private readonly openedAt = process.hrtime.bigint();
  private handshakeTimer: NodeJS.Timeout | null;
  /** denials in flight, by sequence number; an evicted one still matches the session's marker */
  private readonly pendingDenials = new Map<number, ErrorFields>();
  private denialSeq = 0;
  /** random per session: an agent cannot forge a marker that sqlwarden would rewrite */
  private readonly markerPrefix = `sqlwarden_denied_${randomBytes(6).toString('hex')}_`;
  private endReason: EndReason | null = null;
  private unsafeSetting: string | null = null;
  private endTimer: NodeJS.Timeout | null = null;
  private registered = false;
  private clientWaitingDrain = false;
  private upstreamWaitingDrain = false;
  private countAllow: { inc(): void } | null = null;
  private countDeny: { inc(): void } | null = null;
  /** result masking; null while no mask applies to this session's principal */
  private masking: PgMasking | null = null;
  /** set once the first statement has been judged: masking can no longer start cleanly */
  private maskingStarted = false;
  /** deny_in_predicates through views (with masking) */
  private predicateViews: PredicateViews | null = null;
  /** the client frame offered again after the catalog answered for its predicates: no second lookup */
  private predicatesLoaded = false;
  /** the same, after its COPY statements were planned */
  private copiesLoaded = false;
  txStatus = 0x49;

  constructor(
    socket: net.Socket,
    private readonly deps: PgEngineDeps,
  ) {
    this.client = socket;
    this.address = socket.remoteAddress ?? 'unknown';
    socket.setNoDelay(true);
    this.clientScanner = new FrameScanner(
      { onFrame: (t, f) => this.onClientFrame(t, f), onPass: (b) => this.writeUpstream(b) },
      AUTH_FRAME_LIMIT,
    );
    this.clientScanner.wantWhole.fill(1);
    this.attachClient(socket);
    this.handshakeTimer = setTimeout(() => this.onHandshakeTimeout(), deps.handshakeTimeoutMs);
    this.handshakeTimer.unref();
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
    try {
      if (this.phase === Phase.Startup) return this.onStartupData(chunk);
      if (this.phase === Phase.Closed) return;
      if (this.upstream !== null) {
        this.upstream.cork();
        this.clientScanner.push(chunk);
        this.upstream.uncork();
      } else {
        this.clientScanner.push(chunk);
      }
    } catch (err) {
      this.onClientFault(err);
    }
  };

  private onClientFault(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.deps.metrics.protocolErrors.labels('postgres').inc();
      this.fatal({ kind: 'protocol_violation', detail: err.message });
    } else {
      this.deps.log.error('postgres session fault', { session: this.id, err });
      this.fatal({ kind: 'protocol_violation', detail: 'internal error' });
    }
  }

  private onStartupData(chunk: Buffer): void {
    this.startupBuf = this.startupBuf.length ? Buffer.concat([this.startupBuf, chunk]) : chunk;
    while (this.phase === Phase.Startup && this.startupBuf.length >= 4) {
      const len = this.startupBuf.readInt32BE(0);
      if (len < 8 || len > MAX_STARTUP_PACKET) throw new ProtocolError(`invalid startup packet length ${len}`);
      if (this.startupBuf.length < len) return;
      const packet = this.startupBuf.subarray(0, len);
      const rest = this.startupBuf.subarray(len);
      this.startupBuf = Buffer.alloc(0);
      const msg = decodeStartupPacket(packet);
      switch (msg.kind) {
        case 'ssl':
          // bytes after SSLRequest would be plaintext injected ahead of the handshake (CVE-2021-23214)
          if (rest.length > 0) throw new ProtocolError('data received after SSLRequest');
          if (this.client instanceof tls.TLSSocket) throw new ProtocolError('SSLRequest on an encrypted connection');
          this.startTls();
          return;
        case 'gssenc':
          if (rest.length > 0) throw new ProtocolError('data received after GSSENCRequest');
          this.client.write(SSL_NO);
          continue;
        case 'cancel':
          this.phase = Phase.Closed;
          this.client.destroy();
          void this.deps.registry.cancel(msg.pid, msg.secret).catch((err: unknown) => this.deps.log.warn('cancel relay failed', { err }));
          return;
        case 'startup':
          this.onStartupMessage(msg.major, msg.minor, msg.params);
          if (rest.length > 0) this.clientScanner.push(rest);
          return;
      }
    }
  }

  private startTls(): void {
    const ctx = this.deps.tls;
    if (!ctx) {
      this.client.write(SSL_NO);
      return;
    }
    const raw = this.client;
    this.detachClient(raw);
    raw.write(SSL_YES);
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx.secureContext });
    this.client = secure;
    this.attachClient(secure);
  }

  private onStartupMessage(major: number, minor: number, params: Map<string, string>): void {
    if (major !== 3) {
      this.fatal({ kind: 'unsupported_protocol', detail: `unsupported frontend protocol ${major}.${minor}: sqlwarden supports 3.0` });
      return;
    }
    if (this.deps.overConnectionLimit()) {
      this.fatal({ kind: 'too_many_connections' });
      return;
    }
    if (this.deps.tls?.required && !(this.client instanceof tls.TLSSocket)) {
      this.fail('protocol', { kind: 'tls_required' });
      return;
    }
    try {
      this.startup = filterStartupParams(params);
    } catch (err) {
      if (err instanceof StartupParamError) {
        this.fatal({ kind: 'bad_startup_parameter', detail: err.message });
        return;
      }
      throw err;
    }
    this.minorVersion = minor;
    if (!this.startup.user) {
      this.fatal({ kind: 'bad_startup_parameter', detail: 'no user name in the startup packet' });
      return;
    }
    this.user = this.startup.user;
    this.phase = Phase.Busy;
    void this.beginAuth(this.startup.user);
  }

  private async beginAuth(user: string): Promise<void> {
    let record: CredentialRecord | null;
    try {
      if (await this.deps.store.isRateLimited(user, this.address)) {
        this.fail('rate_limited', { kind: 'rate_limited' });
        return;
      }
      record = await this.deps.store.lookup(user);
    } catch {
      this.deps.metrics.authFailures.labels('postgres', 'store_unavailable').inc();
      this.fatal({ kind: 'store_unavailable' });
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
    if (this.minorVersion > 0 || (this.startup?.unsupportedOptions.length ?? 0) > 0) {
      this.client.write(negotiateProtocolVersion(0, this.startup?.unsupportedOptions ?? []));
    }
    const verifier = record ? record.scram : fakeScramVerifier(user, this.deps.fakeVerifierKey);
    if (this.deps.cleartextOverTls && this.client instanceof tls.TLSSocket) {
      this.phase = Phase.AuthCleartext;
      this.client.write(AUTH_CLEARTEXT);
    } else {
      this.scram = new ScramServerExchange(verifier);
      this.phase = Phase.AuthSaslInitial;
      this.client.write(authenticationSASL(['SCRAM-SHA-256']));
    }
  }

  private onClientFrame(type: number, frame: Buffer): FrameAction | Buffer {
    switch (this.phase) {
      case Phase.Ready:
        return this.onReadyFrame(type, frame);
      case Phase.AuthSaslInitial:
      case Phase.AuthSaslFinal:
      case Phase.AuthCleartext:
        if (type !== 0x70 /* p */) throw new ProtocolError(`expected a password message, got "${String.fromCharCode(type)}"`);
        this.onAuthMessage(frame);
        return FrameAction.Drop;
      case Phase.Busy:
        // nothing may arrive while we wait on the store or the upstream
        if (type === Frontend.Terminate) {
          this.close();
          return FrameAction.Drop;
        }
        throw new ProtocolError(`unexpected message "${String.fromCharCode(type)}" during login`);
      default:
        return FrameAction.Drop;
    }
  }

  private onAuthMessage(frame: Buffer): void {
    if (this.phase === Phase.AuthCleartext) {
      const pw = decodePasswordMessage(frame);
      const ok = this.record !== null && verifyCleartextAgainstScram(pw, this.record.scram);
      if (!ok) return this.fail(this.failure ?? 'bad_password', { kind: 'auth_failed' });
      this.phase = Phase.Busy;
      void this.afterAuth(null);
      return;
    }
    const scram = this.scram;
    if (!scram) throw new ProtocolError('no SASL exchange in progress');
    if (this.phase === Phase.AuthSaslInitial) {
      const init = decodeSASLInitialResponse(frame);
      if (init.mechanism !== 'SCRAM-SHA-256' || init.data === null) {
        return this.fail('protocol', { kind: 'protocol_violation', detail: `unsupported SASL mechanism "${init.mechanism}"` });
      }
      let serverFirst: string;
      try {
        serverFirst = scram.clientFirst(init.data.toString('utf8'));
      } catch {
        return this.fail('protocol', { kind: 'protocol_violation', detail: 'malformed SCRAM client-first-message' });
      }
      this.phase = Phase.AuthSaslFinal;
      this.client.write(authenticationSASLContinue(serverFirst));
      return;
    }
    let result: ReturnType<ScramServerExchange['clientFinal']>;
    try {
      result = scram.clientFinal(decodeSASLResponse(frame).toString('utf8'));
    } catch {
      result = { ok: false, reason: 'bad_proof' };
    }
    this.scram = null;
    if (!result.ok || this.record === null) return this.fail(this.failure ?? 'bad_password', { kind: 'auth_failed' });
    this.phase = Phase.Busy;
    void this.afterAuth(result.serverFinal);
  }

  /** Records a failed login (counted, rate-limited) and closes with the generic error. */
  private fail(reason: AuthFailureReason, err: PgSessionError): void {
    this.deps.metrics.authFailures.labels('postgres', reason).inc();
    if (reason !== 'rate_limited' && this.user) {
      void this.deps.store.recordAuthFailure(this.user, this.address).catch(() => {});
    }
    this.deps.log.info('postgres login refused', { user: this.user, address: this.address, reason });
    this.fatal(err);
  }

  private async afterAuth(serverFinal: string | null): Promise<void> {
    const record = this.record;
    if (!record) return this.fail('unknown_user', { kind: 'auth_failed' });
    const target = this.deps.target(record.target);
    const db = this.startup?.database;
    if (!target || (db && db !== target.database && db !== target.name && db !== this.user)) {
      return this.fail('wrong_target', { kind: 'auth_failed' });
    }
    if (record.expiresAt <= Date.now()) return this.fail('expired', { kind: 'auth_failed' });
    this.target = target;
    this.expiresAt = record.expiresAt;
    this.principal = Object.freeze({
      agent: record.agent,
      labels: Object.freeze({ ...record.labels }),
      credentialId: record.id,
      user: record.user,
      target: record.target,
      sessionId: this.id,
    });
    const agentLabel = this.deps.metrics.agentLabel(record.agent);
    this.countAllow = this.deps.metrics.statements.labels('postgres', agentLabel, 'allow');
    this.countDeny = this.deps.metrics.statements.labels('postgres', agentLabel, 'deny');
    this.client.write(serverFinal !== null ? Buffer.concat([authenticationSASLFinal(serverFinal), AUTH_OK]) : AUTH_OK);
    // the client has done its part; the upstream login is bounded by the target's connect timeout
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    // registered before the upstream login, so a revocation during it is not missed
    this.deps.registry.add(this);
    this.registered = true;
    this.deps.metrics.sessions.labels('postgres').inc();

    let up;
    try {
      up = await connectUpstream(target, { ...this.startup?.forward, application_name: identityTag(record.agent, this.id) });
    } catch (err) {
      this.deps.metrics.upstreamErrors.labels(target.name).inc();
      this.deps.log.warn('upstream connection failed', { session: this.id, target: target.name, err, detail: err instanceof UpstreamError ? err.detail : undefined });
      this.fatal({ kind: 'upstream_unavailable', detail: err instanceof Error ? err.message : String(err) });
      return;
    }
    if (this.phase === Phase.Closed) {
      up.socket.end(TERMINATE);
      return;
    }
    this.upstream = up.socket;
    this.upstreamKey = { pid: up.pid, secret: up.secret };
    if (this.endReason) {
      // revoked or expired while we were logging in upstream: nothing may run
      this.finishEnd();
      return;
    }
    const key = this.deps.registry.issueCancelKey(this);

    const upScanner = new FrameScanner({ onFrame: (t, f) => this.onUpstreamFrame(t, f), onPass: (b) => this.writeClient(b) }, this.deps.maxMessageBytes);
    upScanner.wantWhole[Backend.ReadyForQuery] = 1;
    upScanner.wantWhole[Backend.ParameterStatus] = 1;
    this.upstreamScanner = upScanner;
    up.socket.on('data', this.onUpstreamData);
    up.socket.on('error', this.onUpstreamError);
    up.socket.on('close', this.onUpstreamClose);
    up.socket.on('drain', this.onUpstreamDrain);

    this.clientScanner.wantWhole.fill(0);
    this.clientScanner.wantWhole[Frontend.Query] = 1;
    this.clientScanner.wantWhole[Frontend.Parse] = 1;
    this.clientScanner.wantWhole[Frontend.FunctionCall] = 1;
    this.clientScanner.setMaxWholeBytes(this.deps.maxMessageBytes);
    this.phase = Phase.Ready;
    this.client.write(Buffer.concat([...up.parameterStatus, backendKeyData(key.pid, key.secret), readyForQuery('I')]));
    this.deps.metrics.connectSeconds.labels('postgres').observe(Number(process.hrtime.bigint() - this.openedAt) / 1e9);
    this.deps.log.debug('postgres session started', { session: this.id, agent: record.agent, credential: record.id, target: target.name, address: this.address });
  }

  // ---- the decision point -------------------------------------------------------------------

  private onReadyFrame(type: number, frame: Buffer): FrameAction | Buffer {
    if (this.endReason) return FrameAction.Drop;
    switch (type) {
      case Frontend.Query:
        return this.judge('query', decodeQuery(frame), null);
      case Frontend.Parse: {
        const p = decodeParse(frame);
        return this.judge('parse', p.sql, p.name);
      }
      case Frontend.FunctionCall:
        return this.judge('function_call', `function call oid ${decodeFunctionCall(frame).oid}`, null);
      default:
        this.masking?.onClientFrame(type, frame);
        return FrameAction.Forward;
    }
  }

  /**
   * Judges one SQL-carrying message. Allowed: forwarded as sent. Denied: replaced by a message the
   * upstream rejects at exactly this point in the stream, so the upstream itself keeps the protocol
   * right (discard until Sync, abort the open transaction, one ReadyForQuery); its error is then
   * swapped for ours on the way back.
   */
  private judge(carrier: SqlCarrier, sql: string, statementName: string | null): FrameAction | Buffer {
    const principal = this.principal;
    if (!principal) throw new ProtocolError('statement before login completed');
    const decider = this.deps.decider;
    // a frame offered again after a catalog load at the decision point: what is still unknown is refused
    const predicatesLoaded = this.predicatesLoaded;
    const copiesLoaded = this.copiesLoaded;
    let decision: Decision;
    let analysis: Analysis | undefined;
    try {
      if (!this.syncMasks(decider.masksFor?.(principal) ?? null)) {
        this.predicatesLoaded = this.copiesLoaded = false;
        return FrameAction.Drop;
      }
      if (decider.judgeMessage) {
        const j = decider.judgeMessage({ dialect: 'postgres', carrier, sql }, principal);
        decision = j.decision;
        analysis = j.analysis;
      } else decision = decider.decide({ dialect: 'postgres', carrier, sql }, principal);
      const active = this.masking;
      if (decision.kind === 'allow' && analysis?.ok && active) {
        const statements = analysis.statements;
        // predicates over view columns: followed to the masked columns they may come from (catalog);
        // then COPY ... TO STDOUT: planned before it is sent, refused here when it could not be masked
        const gated =
          (this.predicateViews && this.gate(this.predicateViews.check(statements, active.masks, !predicatesLoaded), () => (this.predicatesLoaded = true))) ||
          this.gate(active.checkCopies(statements, !copiesLoaded), () => (this.copiesLoaded = true));
        if (gated === FrameAction.Pause) return FrameAction.Pause;
        if (gated) decision = gated;
      }
    } catch (err) {
      this.deps.log.error('decision failed', { session: this.id, err });
      decision = { kind: 'deny' as const, ruleId: 'internal-error', reason: 'the statement could not be judged, so it was not run' };
    }
    this.predicatesLoaded = this.copiesLoaded = false;
    const masking = this.masking;
    if (masking) {
      const statements = decision.kind === 'allow' && analysis?.ok ? analysis.statements : undefined;
      if (carrier === 'query') masking.query(statements);
      else if (carrier === 'parse') masking.parse(statementName ?? '', statements);
      else masking.functionCall();
    }
    switch (decision.kind) {
      case 'allow':
        this.countAllow?.inc();
        return FrameAction.Forward;
      case 'deny':
        return this.deny(carrier, statementName, decision.ruleId, toErrorFields({ kind: 'denied', ruleId: decision.ruleId, reason: decision.reason }));
      case 'review':
        // inline approvals arrive with the approvals service; until then a review rule holds nothing and runs nothing
        return this.deny(carrier, statementName, decision.ruleId, toErrorFields({ kind: 'review_unavailable', ruleId: decision.ruleId, reason: decision.reason }));
    }
  }

  /**
   * Follows the masks the policy in force gives this session. Masking that starts mid-session
   * could not know the statements and portals created before it, nor which answers are still on
   * their way: the session ends instead (false), and the agent reconnects under masking.
   */
  private syncMasks(masks: MaskSet | null): boolean {
    const current = this.masking;
    if (current) {
      if (current.masks !== masks && !(masks === null && current.masks.isEmpty)) current.setMasks(masks);
      return true;
    }
    if (masks === null) {
      this.maskingStarted = true;
      return true;
    }
    if (this.maskingStarted) {
      this.deps.log.info('masks now apply to this session; ending it', { session: this.id, agent: this.principal?.agent });
      this.fatal({ kind: 'masking_changed' });
      return false;
    }
    this.startMasking(masks);
    return true;
  }

  private startMasking(masks: MaskSet): void {
    const target = this.target;
    const scanner = this.upstreamScanner;
    if (!target || !scanner) return;
    const metrics = this.deps.metrics;
    const counters: MaskingCounters = {
      masked: (rule, n) => metrics.maskedValues.labels('postgres', safeRuleId(rule)).inc(n),
      uncertain: (n) => metrics.maskUncertain.labels('postgres').inc(n),
      refused: (ruleId, reason) => {
        this.countDeny?.inc();
        metrics.blocked.labels('postgres', safeRuleId(ruleId), metrics.agentLabel(this.principal?.agent ?? '')).inc();
        this.deps.log.info('statement denied', { session: this.id, agent: this.principal?.agent, rule: ruleId, reason });
      },
    };
    const masking = new PgMasking(masks, this.deps.catalog(target), this.deps.analyze, counters, (p) => this.waitForCatalog(p), this.deps.maxMessageBytes);
    this.masking = masking;
    this.predicateViews = new PredicateViews(this.deps.catalog(target), {
      viewColumnOrigin: (rel, column, depth) => masking.viewColumnOrigin(rel, column, depth),
      load: (oids, names) => masking.loadRelations(oids, names),
    });
    for (const t of MASKING_CLIENT_FRAMES) this.clientScanner.wantWhole[t] = 1;
    for (const t of MASKING_UPSTREAM_FRAMES) scanner.wantWhole[t] = 1;
  }

  /** The upstream waits (its frame re-offered afterwards) while the catalog is asked. */
  private waitForCatalog(p: Promise<void>): void {
    this.upstream?.pause();
    void p.then(() => {
      if (this.phase === Phase.Closed) return;
      const scanner = this.upstreamScanner;
      if (!scanner) return;
      this.client.cork();
      try {
        scanner.resume();
      } catch (err) {
        this.onUpstreamFault(err);
        return;
      } finally {
        this.client.uncork();
      }
      if (!scanner.isPaused && !this.clientWaitingDrain) this.upstream?.resume();
      if (this.endReason && scanner.atBoundary) this.finishEnd();
    });
  }

  /** A catalog check's verdict at the decision point: wait for the catalog (Pause), a denial, or nothing to add. */
  private gate(v: CatalogVerdict, loaded: () => void): FrameAction.Pause | Decision | undefined {
    if (v.kind === 'load') {
      this.waitForPredicates(v.done, loaded);
      return FrameAction.Pause;
    }
    return v.kind === 'deny' ? { kind: 'deny', ruleId: v.ruleId, reason: v.reason } : undefined;
  }

  /**
   * The client waits (its frame, paused in the scanner, is judged again afterwards) while the catalog
   * is asked about the relations a statement's predicates use, or plans its COPY statements.
   */
  private waitForPredicates(p: Promise<void>, loaded: () => void): void {
    this.client.pause();
    const resume = (): void => {
      if (this.phase === Phase.Closed) return;
      loaded();
      const up = this.upstream;
      up?.cork();
      try {
        this.clientScanner.resume();
      } catch (err) {
        this.onClientFault(err);
        return;
      } finally {
        up?.uncork();
      }
      if (!this.clientScanner.isPaused && !this.upstreamWaitingDrain && !this.endReason) this.client.resume();
    };
    void p.then(resume, resume);
  }

  private deny(carrier: SqlCarrier, statementName: string | null, ruleId: string, fields: ErrorFields): Buffer {
    this.countDeny?.inc();
    this.deps.metrics.blocked.labels('postgres', safeRuleId(ruleId), this.deps.metrics.agentLabel(this.principal?.agent ?? '')).inc();
    this.deps.log.info('statement denied', { session: this.id, agent: this.principal?.agent, rule: ruleId });
    const seq = ++this.denialSeq;
    const marker = `/* sqlwarden: denied by rule ${safeRuleId(ruleId)} */ ${this.markerPrefix}${seq}`;
    this.pendingDenials.set(seq, fields);
    // a denial whose unit failed earlier never comes back: keep the map bounded (Maps iterate oldest first)
    if (this.pendingDenials.size > MAX_PENDING_DENIALS) this.pendingDenials.delete(this.pendingDenials.keys().next().value as number);
    // from the first denial on, upstream errors are checked for the marker
    if (this.upstreamScanner) this.upstreamScanner.wantWhole[Backend.ErrorResponse] = 1;
    return carrier === 'parse' ? parseMessage(statementName ?? '', marker) : queryMessage(marker);
  }

  // ---- upstream input -----------------------------------------------------------------------

  private readonly onUpstreamData = (chunk: Buffer): void => {
    const scanner = this.upstreamScanner;
    if (!scanner || this.phase === Phase.Closed) return;
    try {
      this.client.cork();
      scanner.push(chunk);
      this.client.uncork();
    } catch (err) {
      this.client.uncork();
      this.onUpstreamFault(err);
      return;
    }
    if (this.endReason && scanner.atBoundary) this.finishEnd();
  };

  private onUpstreamFault(err: unknown): void {
    if (err instanceof MaskingViolation) {
      this.deps.log.warn('masking violation; ending the session', { session: this.id, detail: err.message });
      this.fatal({ kind: 'masking_violation', detail: err.message });
      return;
    }
    this.deps.log.error('upstream protocol error', { session: this.id, err });
    this.fatal({ kind: 'upstream_lost' });
  }

  private onUpstreamFrame(type: number, frame: Buffer): FrameAction | Buffer {
    if (type === Backend.ReadyForQuery) this.txStatus = frame[5];
    else if (type === Backend.ErrorResponse) {
      const fields = decodeFields(frame);
      const message = fields.get('M') ?? '';
      const at = message.indexOf(this.markerPrefix);
      if (fields.get('C') === '42601' && at >= 0) {
        this.masking?.tracker.error();
        const seq = Number.parseInt(message.slice(at + this.markerPrefix.length), 10);
        const denial = this.pendingDenials.get(seq);
        this.pendingDenials.delete(seq);
        return errorResponse(denial ?? toErrorFields({ kind: 'denied', ruleId: 'policy', reason: 'the statement was denied by policy' }));
      }
      if (this.masking) return this.masking.onError(frame, fields);
    } else if (type === Backend.ParameterStatus) return this.onParameterStatus(frame);
    return this.masking ? this.masking.onUpstreamFrame(type, frame) : FrameAction.Forward;
  }

  /**
   * The upstream reports settings that change how SQL is lexed (GUC_REPORT). If an agent managed to
   * switch to an encoding in which a multibyte character can hide a quote byte, or to
   * standard_conforming_strings=off, statements would no longer be read as sqlwarden reads them:
   * the session ends (fail closed).
   */
  private onParameterStatus(frame: Buffer): FrameAction | Buffer {
    const { name, value } = decodeParameterStatus(frame);
    const lower = name.toLowerCase();
    let unsafe: string | null = null;
    if (lower === 'client_encoding' && isUnsafeClientEncoding(value)) unsafe = `client_encoding ${value}`;
    else if (lower === 'standard_conforming_strings' && value.toLowerCase() !== 'on') unsafe = `standard_conforming_strings ${value}`;
    if (unsafe === null) return FrameAction.Forward;
    this.deps.log.warn('session switched to a setting sqlwarden cannot analyse; ending it', { session: this.id, setting: unsafe });
    this.unsafeSetting = unsafe;
    this.endReason = 'shutdown';
    this.client.pause();
    return FrameAction.Drop;
  }

  // ---- flow control -------------------------------------------------------------------------

  private writeUpstream(b: Buffer): void {
    const up = this.upstream;
    if (!up) throw new ProtocolError('message before login completed');
    if (!up.write(b) && !this.upstreamWaitingDrain) {
      this.upstreamWaitingDrain = true;
      this.client.pause();
    }
  }

  private writeClient(b: Buffer): void {
    if (!this.client.write(b) && !this.clientWaitingDrain) {
      this.clientWaitingDrain = true;
      this.upstream?.pause();
    }
  }

  private readonly onUpstreamDrain = (): void => {
    if (!this.upstreamWaitingDrain) return;
    this.upstreamWaitingDrain = false;
    if (this.phase !== Phase.Closed && !this.clientScanner.isPaused) this.client.resume();
  };

  private readonly onClientDrain = (): void => {
    if (!this.clientWaitingDrain) return;
    this.clientWaitingDrain = false;
    if (this.phase !== Phase.Closed) this.upstream?.resume();
  };

  // ---- ending -------------------------------------------------------------------------------

  /** Called by the registry: credential revoked or expired, or shutdown. */
  end(reason: EndReason): void {
    if (this.phase === Phase.Closed || this.endReason) return;
    this.endReason = reason;
    if (this.phase !== Phase.Ready) {
      if (this.phase !== Phase.Busy) this.finishEnd();
      return;
    }
    this.client.pause();
    // stop whatever the upstream is running for this session
    this.cancelUpstream();
    if (this.upstreamScanner?.atBoundary !== false) this.finishEnd();
    else {
      this.endTimer = setTimeout(() => this.close(), END_GRACE_MS);
      this.endTimer.unref();
    }
  }

  private finishEnd(): void {
    const reason = this.endReason ?? 'shutdown';
    this.deps.metrics.sessionsEnded.labels('postgres', this.unsafeSetting ? 'unsafe_setting' : reason).inc();
    if (this.unsafeSetting) return this.fatal({ kind: 'unsafe_setting', setting: this.unsafeSetting });
    this.fatal(reason === 'revoked' || reason === 'admin' ? { kind: 'revoked' } : reason === 'expired' ? { kind: 'expired' } : { kind: 'shutdown' });
  }

  cancelUpstream(): void {
    const target = this.target;
    if (!target || this.upstreamKey.pid === 0) return;
    void sendUpstreamCancel(target, this.upstreamKey.pid, this.upstreamKey.secret).catch((err: unknown) =>
      this.deps.log.warn('upstream cancel failed', { session: this.id, err }),
    );
  }

  /** Sends one FATAL ErrorResponse (at a frame boundary) and closes both sides. */
  private fatal(err: PgSessionError): void {
    if (this.phase === Phase.Closed) return;
    const client = this.client;
    if (!client.destroyed && client.writable) client.end(toErrorResponse(err));
    this.close();
  }

  private readonly onHandshakeTimeout = (): void => {
    this.handshakeTimer = null;
    if (this.phase === Phase.Ready || this.phase === Phase.Closed) return;
    if (this.phase === Phase.Startup) {
      this.close();
      return;
    }
    this.fatal({ kind: 'handshake_timeout' });
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
    if (this.upstreamScanner?.atBoundary !== false && !this.endReason) this.fatal({ kind: 'upstream_lost' });
    else this.close();
  };

  /** Idempotent teardown of both sides. */
  close(): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.endTimer) clearTimeout(this.endTimer);
    const up = this.upstream;
    if (up && !up.destroyed) {
      up.end(TERMINATE);
      setTimeout(() => up.destroy(), END_GRACE_MS).unref();
    }
    const client = this.client;
    if (!client.destroyed) {
      if (client.writableEnded) setTimeout(() => client.destroy(), END_GRACE_MS).unref();
      else client.destroy();
    }
    if (this.registered) {
      this.registered = false;
      this.deps.registry.remove(this);
      this.deps.metrics.sessions.labels('postgres').dec();
      this.deps.log.debug('postgres session ended', { session: this.id, reason: this.endReason ?? 'client' });
    }
  }

  get isClosed(): boolean {
    return this.phase === Phase.Closed;
  }
}
