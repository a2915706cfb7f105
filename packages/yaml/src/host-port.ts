import { isIP } from 'node:net';

/** Same shape as config's HostPort (kept structural so util has no imports from config). */
export interface HostPortLike {
  host: string;
  port: number;
}

/**
 * Parses a listener address: "host:port" or "[::1]:6432". An empty host
 * (":6432") is rejected rather than read as "all interfaces", so nobody
 * exposes a listener by accident. Throws an Error describing the expected form.
 */
export function parseHostPort(input: string): HostPortLike {
  const text = input.trim();
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') throw new Error(`"${input}" is not host:port (IPv6 as [::1]:6432)`);
    host = text.slice(1, end);
    portText = text.slice(end + 2);
    if (isIP(host) !== 6) throw new Error(`"${host}" in "${input}" is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw new Error(`"${input}" is not host:port, e.g. 127.0.0.1:6432`);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) throw new Error(`"${input}": write IPv6 addresses in brackets, e.g. [::1]:6432`);
  }
  if (host === '') throw new Error(`"${input}" has no host; use 0.0.0.0 (or [::]) to listen on all interfaces`);
  if (!/^\d+$/.test(portText)) throw new Error(`"${input}" has no valid port`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new Error(`"${input}": port must be from 1 to 65535`);
  return { host, port };
}

/** "127.0.0.1:6432", "[::1]:6432". */
export function formatHostPort(hp: HostPortLike): string {
  return `${formatHost(hp.host)}:${hp.port}`;
}

/** A host as it appears in a URL authority (IPv6 literals bracketed). */
export function formatHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** True for addresses that only the local machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7));
  return isIP(h) === 4 && h.startsWith('127.');
}

/** True for the wildcard addresses a server binds to listen everywhere. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '0:0:0:0:0:0:0:0';
}

/** A host a local client can dial for a listener: wildcard binds become 127.0.0.1. */
export function dialableHost(host: string): string {
  return isWildcardHost(host) ? '127.0.0.1' : host;
}
