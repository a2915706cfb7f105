import type { TargetConfig } from './types.js';
import type { Field } from '@sqlwarden/yaml';
import { DEFAULTS } from './defaults.js';
import type { PathResolver } from './path-resolver.js';

const TARGET_KEYS = ['name', 'protocol', 'host', 'port', 'database', 'user', 'password', 'tls', 'connectTimeout', 'connectTimeoutMs'] as const;
const TLS_KEYS = ['mode', 'ca', 'cert', 'key', 'servername'] as const;
const TLS_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
const PROTOCOLS = ['postgres', 'mysql'] as const;
/** target names show up in URLs, metrics labels and audit records */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** One entry of `targets`; undefined when it has errors (already reported). */
export function readTarget(field: Field, paths: PathResolver): TargetConfig | undefined {
  const m = field.map(TARGET_KEYS);
  if (!m) return field.present ? undefined : field.fail('must be a mapping with name, protocol, host, port, database, user');
  const nameField = m.required('name');
  const name = nameField.string();
  if (name !== undefined && !NAME.test(name)) {
    nameField.fail('must be 1 to 63 letters, digits, "_", "." or "-", starting with a letter or digit');
  }
  const protocol = m.required('protocol').oneOf(PROTOCOLS);
  const host = m.required('host').string();
  const port = m.get('port').int(1, 65535) ?? (protocol ? DEFAULTS.upstreamPort[protocol] : undefined);
  const database = m.required('database').string();
  const user = m.required('user').string();
  const password = m.get('password').string();
  const connectTimeoutMs = m.durationKey('connectTimeout').duration(1) ?? DEFAULTS.connectTimeoutMs;
  const tls = readUpstreamTls(m.get('tls'), paths);
  if (!name || !NAME.test(name) || !protocol || !host || !port || !database || !user || !tls) return undefined;
  return { name, protocol, host, port, database, user, ...(password !== undefined && { password }), tls, connectTimeoutMs };
}

function readUpstreamTls(field: Field, paths: PathResolver): TargetConfig['tls'] | undefined {
  if (!field.present) return { mode: 'disable' };
  const m = field.map(TLS_KEYS);
  if (!m) return undefined;
  // a tls block without a mode means the operator wants TLS: verify it fully
  const mode = m.get('mode').oneOf(TLS_MODES) ?? (m.has('mode') ? undefined : 'verify-full');
  const ca = paths.file(m.get('ca'));
  const cert = paths.file(m.get('cert'));
  const key = paths.file(m.get('key'));
  const servername = m.get('servername').string();
  if (m.has('cert') !== m.has('key')) {
    m.get(m.has('cert') ? 'key' : 'cert').fail('cert and key must be given together');
    return undefined;
  }
  if (mode === 'disable' && (m.has('ca') || m.has('cert') || m.has('servername'))) {
    m.get('mode').fail('is "disable", so ca, cert, key and servername would be ignored; remove them or choose another mode');
    return undefined;
  }
  if (!mode) return undefined;
  return {
    mode,
    ...(ca !== undefined && { ca }),
    ...(cert !== undefined && { cert }),
    ...(key !== undefined && { key }),
    ...(servername !== undefined && { servername }),
  };
}
