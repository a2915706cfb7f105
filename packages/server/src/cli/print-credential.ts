import type { IssuedCredential } from '../admin/mint-credential.js';
import { formatDuration } from '@sqlwarden/yaml';

/** `--json`: exactly one JSON object on one line. */
export function credentialJson(cred: IssuedCredential): string {
  const { user, password, expiresAt, target, url, agent, credentialId } = cred;
  return `${JSON.stringify({ user, password, expiresAt, target, url, agent, credentialId })}\n`;
}

/** A short block for people; the password appears once, in the URL and on its own. */
export function credentialText(cred: IssuedCredential, now = Date.now()): string {
  const left = Math.max(0, Date.parse(cred.expiresAt) - now);
  const lines = [
    `Credential for agent "${cred.agent}" on target "${cred.target}", expires ${cred.expiresAt} (in ${formatDuration(Math.round(left / 1000) * 1000)}).`,
    `  user:     ${cred.user}`,
    `  password: ${cred.password}`,
    `  url:      ${cred.url}`,
  ];
  if (cred.url.startsWith('postgresql:')) lines.push('', 'Connect with:', `  psql "${cred.url}"`);
  return `${lines.join('\n')}\n`;
}
