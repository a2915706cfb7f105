import type { HostPort } from '../config/types.js';
import type { IssuedCredential } from '../admin/mint-credential.js';
import type { MintInput } from '../admin/mint-request.js';
import { dialableHost, formatHostPort } from '@sqlwarden/yaml';

const TIMEOUT_MS = 10_000;

/** Talks to a running sqlwarden's admin API (the path for configs without redis). */
export class AdminClient {
  readonly base: string;

  constructor(
    listen: HostPort,
    private readonly token: string | undefined,
  ) {
    this.base = `http://${formatHostPort({ host: dialableHost(listen.host), port: listen.port })}`;
  }

  async mint(input: MintInput): Promise<IssuedCredential> {
    const { status, body } = await this.request('POST', '/v1/credentials', input);
    if (status !== 201) throw this.failure(status, body);
    return asCredential(body);
  }

  /** True when revoked, false when the proxy has no live credential with that user. */
  async revoke(user: string): Promise<boolean> {
    const { status, body } = await this.request('DELETE', `/v1/credentials/${encodeURIComponent(user)}`);
    if (status === 200) return true;
    if (status === 404) return false;
    throw this.failure(status, body);
  }

  private async request(method: string, path: string, json?: unknown): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (json !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        ...(json !== undefined && { body: JSON.stringify(json) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new Error(`cannot reach the sqlwarden admin API at ${this.base} (${describe(err)}); is \`sqlwarden start\` running with this config?`);
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // keep the text for the error message
    }
    return { status: res.status, body };
  }

  private failure(status: number, body: unknown): Error {
    const detail = typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string' ? (body as { error: string }).error : `HTTP ${status}`;
    if (status === 401) return new Error(`the admin API at ${this.base} refused the request: ${detail}`);
    return new Error(detail);
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if ((err as Error).name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000}s`;
  return cause?.message ?? (err as Error).message;
}

function asCredential(body: unknown): IssuedCredential {
  const b = body as Partial<Record<keyof IssuedCredential, unknown>> | null;
  const fields = ['user', 'password', 'expiresAt', 'target', 'url', 'credentialId', 'agent'] as const;
  if (typeof b !== 'object' || b === null || fields.some((f) => typeof b[f] !== 'string')) {
    throw new Error('the admin API answered with an unexpected body');
  }
  return Object.fromEntries(fields.map((f) => [f, b[f]])) as unknown as IssuedCredential;
}
