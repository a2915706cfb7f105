import type { HostPort, SqlwardenConfig, TargetConfig } from '../config/types.js';
import { dialableHost, formatHost } from '@sqlwarden/yaml';

/** Where agents reach this sqlwarden instance, for the URLs printed with minted credentials. */
export interface ProxyEndpoints {
  /** host name agents use instead of the listener's bind address */
  publicHost?: string;
  postgres?: HostPort;
  mysql?: HostPort;
  /** the proxy refuses clients that do not use TLS (postgres URLs then carry sslmode=require) */
  clientTlsRequired?: boolean;
}

export interface ConnectionUrlParts {
  protocol: TargetConfig['protocol'];
  user: string;
  password: string;
  database: string;
  /** the proxy listener for this protocol */
  listen: HostPort;
  publicHost?: string;
  /** add sslmode=require (postgres) because the proxy refuses plaintext clients */
  tlsRequired?: boolean;
}

/**
 * A URL that works as given with the protocol's standard clients, e.g.
 * `psql "postgresql://agent_x:pw@127.0.0.1:6432/app"`. User, password and
 * database are percent-encoded; wildcard bind addresses become 127.0.0.1.
 */
export function buildConnectionUrl(p: ConnectionUrlParts): string {
  const host = formatHost(p.publicHost ?? dialableHost(p.listen.host));
  const auth = `${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}`;
  const path = encodeURIComponent(p.database);
  switch (p.protocol) {
    case 'postgres':
      return `postgresql://${auth}@${host}:${p.listen.port}/${path}${p.tlsRequired ? '?sslmode=require' : ''}`;
    case 'mysql':
      return `mysql://${auth}@${host}:${p.listen.port}/${path}`;
  }
}

/** The URL for a credential on `target`; throws when this instance has no listener for its protocol. */
export function connectionUrlFor(target: TargetConfig, user: string, password: string, endpoints: ProxyEndpoints): string {
  const listen = endpoints[target.protocol];
  if (!listen) throw new Error(`target "${target.name}" uses ${target.protocol}, but listen.${target.protocol} is not configured`);
  return buildConnectionUrl({
    protocol: target.protocol,
    user,
    password,
    database: target.database,
    listen,
    ...(endpoints.publicHost !== undefined && { publicHost: endpoints.publicHost }),
    tlsRequired: target.protocol === 'postgres' && (endpoints.clientTlsRequired ?? false),
  });
}

/** The endpoints a config describes (listeners as configured, before the proxy binds them). */
export function endpointsFromConfig(config: Pick<SqlwardenConfig, 'listen' | 'publicHost' | 'tls'>): ProxyEndpoints {
  return {
    ...(config.publicHost !== undefined && { publicHost: config.publicHost }),
    ...(config.listen.postgres && { postgres: config.listen.postgres }),
    ...(config.listen.mysql && { mysql: config.listen.mysql }),
    clientTlsRequired: config.tls?.required ?? false,
  };
}
