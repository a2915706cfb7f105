import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';

/** A throwaway self-signed certificate for 127.0.0.1/localhost in a temp dir; remove() deletes it. */
export async function makeSelfSignedCert(): Promise<{ dir: string; cert: string; key: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'sqlwarden-tls-'));
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  const r = await runCli(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { timeoutMs: 30_000 },
  );
  if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { dir, cert, key, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
