import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidMintRequestError, StoreUnavailableError, type AccessStore } from '@sqlwarden/access';
import type { Logger, Metrics } from '@sqlwarden/telemetry';
import type { HostPort, TargetConfig } from '../config/types.js';
import { isLoopbackHost } from '@sqlwarden/yaml';
import { makeBearerCheck } from './bearer-token.js';
import { HttpError } from './http-error.js';
import { mintCredential, revokeCredential, type CredentialService } from './mint-credential.js';
import { MintRequestError, type MintInput } from './mint-request.js';
import { readJsonBody } from './read-json-body.js';

export interface AdminServerOptions {
  listen: HostPort;
  /** bearer token for /v1; without one, /v1 is served to loopback peers only */
  token?: string;
  store: AccessStore;
  metrics: Metrics;
  targets: TargetConfig[];
  /** host name in minted URLs instead of the listener's bind address */
  publicHost?: string;
  pgListen?: HostPort;
  mysqlListen?: HostPort;
  /** the proxy refuses plaintext clients: postgres URLs carry sslmode=require */
  clientTlsRequired?: boolean;
  defaultTtlMs: number;
  maxTtlMs: number;
  /** named readiness checks for /readyz (e.g. { store: true, upstream_app: false }) */
  ready: () => Promise<Record<string, boolean>>;
  log: Logger;
}

export interface AdminServer {
  server: Server;
  address: HostPort;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void>;
interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  /** needs the bearer token (or a loopback peer when none is configured) */
  protected: boolean;
}

/**
 * The admin HTTP API: health, readiness and metrics for operators and
 * orchestrators, and the credentials API that mints and revokes agent
 * credentials. Plain node:http, JSON in and out.
 */
export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const log = opts.log.child({ component: 'admin' });
  const checkBearer = opts.token === undefined ? undefined : makeBearerCheck(opts.token);
  const svc: CredentialService = {
    store: opts.store,
    metrics: opts.metrics,
    targets: opts.targets,
    defaultTtlMs: opts.defaultTtlMs,
    maxTtlMs: opts.maxTtlMs,
    endpoints: {
      ...(opts.publicHost !== undefined && { publicHost: opts.publicHost }),
      ...(opts.pgListen && { postgres: opts.pgListen }),
      ...(opts.mysqlListen && { mysql: opts.mysqlListen }),
      clientTlsRequired: opts.clientTlsRequired ?? false,
    },
  };

  const routes: Route[] = [
    { pattern: /^\/healthz$/, protected: false, methods: { GET: async (_req, res) => sendText(res, 200, 'ok', 'text/plain; charset=utf-8') } },
    { pattern: /^\/readyz$/, protected: false, methods: { GET: async (_req, res) => readyz(res) } },
    { pattern: /^\/metrics$/, protected: false, methods: { GET: async (_req, res) => sendText(res, 200, await opts.metrics.registry.metrics(), opts.metrics.registry.contentType) } },
    { pattern: /^\/v1\/credentials$/, protected: true, methods: { POST: mint } },
    { pattern: /^\/v1\/credentials\/([^/]+)$/, protected: true, methods: { DELETE: revoke } },
  ];

  async function readyz(res: ServerResponse): Promise<void> {
    let checks: Record<string, boolean>;
    try {
      checks = await opts.ready();
    } catch (err) {
      log.warn('readiness check failed', { error: err });
      sendJson(res, 503, { ready: false, error: 'readiness check failed' });
      return;
    }
    const ready = Object.values(checks).every(Boolean);
    sendJson(res, ready ? 200 : 503, { ready, checks });
  }

  async function mint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'request body must be a JSON object');
    const input = body as MintInput & Record<string, unknown>;
    const extra = Object.keys(input).filter((k) => !['agent', 'target', 'ttl', 'labels'].includes(k));
    if (extra.length) throw new HttpError(400, `unknown field ${extra.map((k) => `"${k}"`).join(', ')}; expected agent, target, ttl, labels`);
    const cred = await mintCredential(svc, input);
    log.info('credential minted', { agent: cred.agent, target: cred.target, user: cred.user, credentialId: cred.credentialId, expiresAt: cred.expiresAt });
    sendJson(res, 201, cred);
  }

  async function revoke(_req: IncomingMessage, res: ServerResponse, [encoded]: string[]): Promise<void> {
    let user: string;
    try {
      user = decodeURIComponent(encoded);
    } catch {
      throw new HttpError(400, 'malformed user in path');
    }
    if (!(await revokeCredential(svc, user))) throw new HttpError(404, `no live credential for user "${user}"`);
    log.info('credential revoked', { user });
    sendJson(res, 200, { revoked: true, user });
  }

  function authorize(req: IncomingMessage): void {
    if (checkBearer) {
      if (!checkBearer(req.headers.authorization)) {
        throw new HttpError(401, 'missing or wrong admin token (send Authorization: Bearer <admin.token>)', { 'www-authenticate': 'Bearer realm="sqlwarden"' });
      }
      return;
    }
    if (!isLoopbackHost(req.socket.remoteAddress ?? '')) {
      throw new HttpError(401, 'this API is served only to local clients unless admin.token is configured', { 'www-authenticate': 'Bearer realm="sqlwarden"' });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes.find((r) => r.pattern.test(path));
    if (route?.protected || path.startsWith('/v1/')) authorize(req);
    if (!route) throw new HttpError(404, `no such endpoint: ${path}`);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const handler = route.methods[method];
    if (!handler) throw new HttpError(405, `method ${req.method} not allowed on ${path}`, { allow: Object.keys(route.methods).join(', ') });
    const params = route.pattern.exec(path)?.slice(1) ?? [];
    await handler(req, res, params);
  }

  const server = createServer((req, res) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    handle(req, res).catch((err: unknown) => sendError(res, err, req, log));
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('admin server error', { error: err }));
  const bound = server.address() as AddressInfo;
  const address: HostPort = { host: bound.address, port: bound.port };
  log.info('admin API listening', { host: address.host, port: address.port, auth: checkBearer ? 'bearer' : 'loopback-only' });

  return {
    server,
    address,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function sendError(res: ServerResponse, err: unknown, req: IncomingMessage, log: Logger): void {
  let status = 500;
  let message = 'internal error';
  let headers: Readonly<Record<string, string>> = {};
  if (err instanceof HttpError) {
    ({ status, message, headers } = err);
  } else if (err instanceof MintRequestError || err instanceof InvalidMintRequestError) {
    status = 400;
    message = err.message;
  } else if (err instanceof StoreUnavailableError || (err instanceof Error && err.name === 'StoreUnavailableError')) {
    status = 503;
    message = err.message;
    log.warn('credential store unavailable', { method: req.method, path: req.url?.split('?')[0], error: err });
  } else {
    log.error('admin request failed', { method: req.method, path: req.url?.split('?')[0], error: err instanceof Error ? err.message : String(err) });
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  sendJson(res, status, { error: message });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  const buf = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'content-type': contentType, 'content-length': buf.length });
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}
