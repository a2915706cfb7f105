import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import { serialize } from 'pg-protocol';
import {
  AuthCode,
  Backend,
  FrameAction,
  FrameScanner,
  decodeAuthentication,
  decodeBackendKeyData,
  decodeFields,
  ProtocolError,
} from '@sqlwarden/wire-pg';
import type { PgTarget } from './pg-target.js';
import { UpstreamError } from './upstream-error.js';

interface ScramSession {
  mechanism: string;
  response: string;
}
interface PgSasl {
  startSession(mechanisms: string[], stream?: unknown): ScramSession;
  continueSession(session: ScramSession, password: string, serverData: string, stream?: unknown): Promise<void>;
  finalizeSession(session: ScramSession, serverData: string): void;
}
// pg's own SCRAM client (incl. SCRAM-SHA-256-PLUS channel binding): well kept, used as is.
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as PgSasl;

export interface UpstreamSession {
  socket: net.Socket;
  /** raw ParameterStatus frames, to relay to the client */
  parameterStatus: Buffer[];
  pid: number;
  secret: number;
  /** bytes received after ReadyForQuery (normally none) */
  leftover: Buffer;
}

const SSL_REQUEST = serialize.requestSsl();

/** Opens a TCP connection (and TLS per the target's mode) to the upstream. */
export async function openUpstreamSocket(target: PgTarget): Promise<net.Socket> {
  const raw = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new UpstreamError(`upstream "${target.name}" did not accept a connection within ${target.connectTimeoutMs} ms`));
    }, target.connectTimeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.off('error', onErr);
      resolve(s);
    });
    const onErr = (err: Error) => {
      clearTimeout(timer);
      reject(new UpstreamError(`upstream "${target.name}" is unreachable (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    };
    s.once('error', onErr);
  });
  raw.setNoDelay(true);
  const mode = target.tls?.mode ?? 'disable';
  if (mode === 'disable') return raw;

  const answer = await new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer) => {
      cleanup();
      if (d.length !== 1) reject(new UpstreamError(`upstream "${target.name}" answered SSLRequest with ${d.length} bytes`));
      else resolve(d[0]);
    };
    const onErr = (err: Error) => {
      cleanup();
      reject(new UpstreamError(`upstream "${target.name}" closed during TLS negotiation (${err.message})`));
    };
    const onClose = () => onErr(new Error('connection closed'));
    const cleanup = () => {
      raw.off('data', onData);
      raw.off('error', onErr);
      raw.off('close', onClose);
    };
    raw.on('data', onData);
    raw.on('error', onErr);
    raw.on('close', onClose);
    raw.write(SSL_REQUEST);
  });
  if (answer === 0x4e /* N */) {
    if (mode === 'prefer') return raw;
    raw.destroy();
    throw new UpstreamError(`upstream "${target.name}" does not support TLS, but tls.mode is ${mode}`);
  }
  if (answer !== 0x53 /* S */) {
    raw.destroy();
    throw new UpstreamError(`upstream "${target.name}" sent an invalid answer to SSLRequest`);
  }
  const verify = mode === 'verify-ca' || mode === 'verify-full';
  const servername = target.tls?.servername ?? (net.isIP(target.host) ? undefined : target.host);
  const secure = tls.connect({
    socket: raw,
    ca: target.tls?.ca,
    cert: target.tls?.cert,
    key: target.tls?.key,
    servername,
    rejectUnauthorized: verify,
    checkServerIdentity:
      mode === 'verify-full'
        ? (_host, cert) => tls.checkServerIdentity(target.tls?.servername ?? target.host, cert)
        : () => undefined,
  });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve();
    });
    secure.once('error', (err) => reject(new UpstreamError(`TLS to upstream "${target.name}" failed: ${err.message}`)));
  });
  secure.setNoDelay(true);
  return secure;
}

function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5').update(password + user).digest('hex');
  return 'md5' + createHash('md5').update(Buffer.concat([Buffer.from(inner), salt])).digest('hex');
}

/**
 * Connects and logs in to the upstream with the target's own credentials, up to the first
 * ReadyForQuery. Supports trust, cleartext, md5 and SCRAM-SHA-256(-PLUS).
 */
export async function connectUpstream(target: PgTarget, params: Record<string, string>): Promise<UpstreamSession> {
  const socket = await openUpstreamSocket(target);
  try {
    return await login(socket, target, params);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function login(socket: net.Socket, target: PgTarget, params: Record<string, string>): Promise<UpstreamSession> {
  return new Promise<UpstreamSession>((resolve, reject) => {
    const parameterStatus: Buffer[] = [];
    let pid = 0;
    let secret = 0;
    let scram: ScramSession | null = null;
    let settled = false;
    let busy: Promise<void> = Promise.resolve();
    const timer = setTimeout(() => fail(new UpstreamError(`upstream "${target.name}" did not complete login within ${target.connectTimeoutMs} ms`)), target.connectTimeoutMs);

    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err instanceof UpstreamError ? err : new UpstreamError(`login to upstream "${target.name}" failed: ${err instanceof Error ? err.message : String(err)}`));
    };
    const needPassword = (): string => {
      if (target.password === undefined) throw new UpstreamError(`upstream "${target.name}" asks for a password and none is configured`);
      return target.password;
    };

    const scanner = new FrameScanner(
      {
        onPass: () => {},
        onFrame: (type, frame) => {
          if (settled) return FrameAction.Drop;
          switch (type) {
            case Backend.Authentication: {
              const req = decodeAuthentication(frame);
              switch (req.code) {
                case AuthCode.Ok:
                  break;
                case AuthCode.CleartextPassword:
                  socket.write(serialize.password(needPassword()));
                  break;
                case AuthCode.MD5Password:
                  socket.write(serialize.password(md5Password(target.user, needPassword(), (req as { salt: Buffer }).salt)));
                  break;
                case AuthCode.SASL: {
                  const mechs = (req as { mechanisms: string[] }).mechanisms;
                  scram = sasl.startSession(mechs, socket instanceof tls.TLSSocket ? socket : undefined);
                  socket.write(serialize.sendSASLInitialResponseMessage(scram.mechanism, scram.response));
                  break;
                }
                case AuthCode.SASLContinue: {
                  const s = scram;
                  if (!s) throw new UpstreamError('SASLContinue before SASL');
                  const data = (req as { data: string }).data;
                  const pw = needPassword();
                  // continueSession is async (PBKDF2); later frames wait for it
                  busy = busy.then(async () => {
                    await sasl.continueSession(s, pw, data, socket instanceof tls.TLSSocket ? socket : undefined);
                    socket.write(serialize.sendSCRAMClientFinalMessage(s.response));
                  });
                  busy.catch(fail);
                  break;
                }
                case AuthCode.SASLFinal: {
                  const s = scram;
                  if (!s) throw new UpstreamError('SASLFinal before SASL');
                  const data = (req as { data: string }).data;
                  busy = busy.then(() => sasl.finalizeSession(s, data));
                  busy.catch(fail);
                  break;
                }
                default:
                  throw new UpstreamError(`upstream "${target.name}" asks for an unsupported authentication method (${req.code})`);
              }
              return FrameAction.Drop;
            }
            case Backend.ParameterStatus:
              parameterStatus.push(Buffer.from(frame));
              return FrameAction.Drop;
            case Backend.BackendKeyData: {
              const k = decodeBackendKeyData(frame);
              pid = k.pid;
              secret = k.secret;
              return FrameAction.Drop;
            }
            case Backend.ErrorResponse: {
              const f = decodeFields(frame);
              const code = f.get('C');
              throw new UpstreamError(`the database of target "${target.name}" refused sqlwarden's login (SQLSTATE ${code ?? 'unknown'}); the sqlwarden log has the details`, code, f.get('M'));
            }
            case Backend.NoticeResponse:
            case Backend.NegotiateProtocolVersion:
              return FrameAction.Drop;
            case Backend.ReadyForQuery:
              void busy.then(() => {
                if (settled) return;
                settled = true;
                cleanup();
                resolve({ socket, parameterStatus, pid, secret, leftover: Buffer.alloc(0) });
              });
              return FrameAction.Drop;
            default:
              throw new UpstreamError(`upstream "${target.name}" sent an unexpected message during login (${String.fromCharCode(type)})`);
          }
        },
      },
      1 << 20,
    );
    scanner.wantWhole.fill(1);

    const onData = (chunk: Buffer) => {
      try {
        scanner.push(chunk);
      } catch (err) {
        fail(err instanceof ProtocolError ? new UpstreamError(`upstream "${target.name}" broke the protocol: ${err.message}`) : err);
      }
    };
    const onError = (err: Error) => fail(new UpstreamError(`upstream "${target.name}" connection failed during login (${err.message})`));
    const onClose = () => fail(new UpstreamError(`upstream "${target.name}" closed the connection during login`));
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(serialize.startup({ ...params, user: target.user, database: target.database }));
  });
}

/** Sends a CancelRequest for an upstream backend on a fresh connection (TLS per the target). */
export async function sendUpstreamCancel(target: PgTarget, pid: number, secret: number): Promise<void> {
  const socket = await openUpstreamSocket(target);
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
    socket.end(serialize.cancel(pid, secret));
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, 2000).unref();
  });
}
