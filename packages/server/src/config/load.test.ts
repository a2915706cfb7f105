import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';
import { loadConfig, parseConfig } from './load.js';

const TARGET = `targets:
  - name: app
    protocol: postgres
    host: db.internal
    port: 5432
    database: app
    user: app_rw
    password: s3cret
`;

function parse(text: string, env: NodeJS.ProcessEnv = {}) {
  return parseConfig(text, { file: 'sqlwarden.yaml', env, baseDir: '/etc/sqlwarden', checkFiles: false });
}

function errorOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parse(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig: good files', () => {
  it('fills every default for a minimal file', () => {
    const c = parse(TARGET);
    expect(c.listen).toEqual({ postgres: { host: '127.0.0.1', port: 6432 } });
    expect(c.redis).toBeUndefined();
    expect(c.redisPrefix).toBe('sqlwarden:');
    expect(c.policies).toBe('/etc/sqlwarden/policies');
    expect(c.audit).toEqual({ failClosed: true });
    expect(c.auth).toEqual({
      cleartextOverTls: false,
      rateLimit: { perUser: 10, perAddress: 50, windowMs: 60_000 },
      defaultTtlMs: 15 * 60_000,
      maxTtlMs: 24 * 3_600_000,
    });
    expect(c.limits).toEqual({ maxMessageBytes: 64 * 1024 * 1024, handshakeTimeoutMs: 10_000, maxConnections: 10_000 });
    expect(c.log).toEqual({ level: 'info' });
    expect(c.admin).toEqual({});
    expect(c.targets).toEqual([
      { name: 'app', protocol: 'postgres', host: 'db.internal', port: 5432, database: 'app', user: 'app_rw', password: 's3cret', tls: { mode: 'disable' }, connectTimeoutMs: 5000 },
    ]);
  });

  it('reads a full file', () => {
    const c = parse(`
listen:
  postgres: 0.0.0.0:6432
  mysql: "[::1]:6033"
  admin: 127.0.0.1:8080
redis: rediss://default:pw@redis.internal:6380/2
redisPrefix: "team-a:"
publicHost: proxy.example.com
policies: ../policies
audit: { file: ./audit.log, redisStream: "sqlwarden:audit", failClosed: false }
tls: { cert: tls/server.crt, key: tls/server.key, required: true }
auth:
  cleartextOverTls: true
  rateLimit: { perUser: 3, perAddress: 20, window: 5m }
  defaultTtl: 30m
  maxTtlMs: 7200000
admin: { token: 0123456789abcdef0123 }
limits: { maxMessageBytes: 16MiB, handshakeTimeout: 3s, maxConnections: 500 }
log: { level: debug }
targets:
  - name: pg
    protocol: postgres
    host: 10.0.0.5
    database: app
    user: app
    connectTimeout: 1500ms
    tls: { mode: verify-full, ca: certs/ca.pem, servername: db.example.com }
  - name: my.sql-1
    protocol: mysql
    host: mysql
    database: shop
    user: root
    tls: { ca: /abs/ca.pem }
`);
    expect(c.listen).toEqual({ postgres: { host: '0.0.0.0', port: 6432 }, mysql: { host: '::1', port: 6033 }, admin: { host: '127.0.0.1', port: 8080 } });
    expect(c.redis).toBe('rediss://default:pw@redis.internal:6380/2');
    expect(c.redisPrefix).toBe('team-a:');
    expect(c.publicHost).toBe('proxy.example.com');
    expect(c.policies).toBe('/etc/policies');
    expect(c.audit).toEqual({ file: '/etc/sqlwarden/audit.log', redisStream: 'sqlwarden:audit', failClosed: false });
    expect(c.tls).toEqual({ cert: '/etc/sqlwarden/tls/server.crt', key: '/etc/sqlwarden/tls/server.key', required: true });
    expect(c.auth).toEqual({ cleartextOverTls: true, rateLimit: { perUser: 3, perAddress: 20, windowMs: 300_000 }, defaultTtlMs: 1_800_000, maxTtlMs: 7_200_000 });
    expect(c.admin).toEqual({ token: '0123456789abcdef0123' });
    expect(c.limits).toEqual({ maxMessageBytes: 16 * 1024 * 1024, handshakeTimeoutMs: 3000, maxConnections: 500 });
    expect(c.log.level).toBe('debug');
    expect(c.targets[0]).toMatchObject({ port: 5432, connectTimeoutMs: 1500, tls: { mode: 'verify-full', ca: '/etc/sqlwarden/certs/ca.pem', servername: 'db.example.com' } });
    expect(c.targets[1]).toMatchObject({ name: 'my.sql-1', port: 3306, tls: { mode: 'verify-full', ca: '/abs/ca.pem' } });
    expect(c.targets[1].password).toBeUndefined();
  });

  it('serves only the listeners named when a listen block is present', () => {
    const c = parse(`listen: { postgres: "localhost:7000" }\n${TARGET}`);
    expect(c.listen).toEqual({ postgres: { host: 'localhost', port: 7000 } });
  });

  it('accepts a non-loopback admin listener with a token', () => {
    const c = parse(`listen: { postgres: 0.0.0.0:6432, admin: 0.0.0.0:8080 }\nadmin:\n  token: \${TOKEN}\n${TARGET}`, { TOKEN: 'x'.repeat(32) });
    expect(c.admin.token).toBe('x'.repeat(32));
  });
});

describe('parseConfig: ${ENV} interpolation', () => {
  const cases: Array<[string, string, NodeJS.ProcessEnv, unknown]> = [
    ['set variable', 'password: ${PW}', { PW: 'from-env' }, 'from-env'],
    ['default used when unset', 'password: ${PW:-fallback}', {}, 'fallback'],
    ['default used when empty', 'password: ${PW:-fallback}', { PW: '' }, 'fallback'],
    ['default ignored when set', 'password: ${PW:-fallback}', { PW: 'real' }, 'real'],
    ['embedded in text', 'password: "pre-${A}-${B:-b}-post"', { A: 'a' }, 'pre-a-b-post'],
    ['$${ is a literal', 'password: "$${NOT_A_VAR}"', {}, '${NOT_A_VAR}'],
    ['a lone $ is kept', 'password: "pa$$w0rd$"', {}, 'pa$$w0rd$'],
    ['empty default means absent', 'password: ${PW:-}', {}, undefined],
  ];
  it.each(cases)('%s', (_name, line, env, expected) => {
    const text = TARGET.replace('password: s3cret', () => line);
    expect(parse(text, env).targets[0].password).toBe(expected);
  });

  it('types numbers and booleans that come from variables', () => {
    const text = `${TARGET.replace('port: 5432', 'port: ${PGPORT:-5433}')}auth:\n  cleartextOverTls: \${CLEAR}\n`;
    const c = parse(text, { CLEAR: 'true' });
    expect(c.targets[0].port).toBe(5433);
    expect(c.auth.cleartextOverTls).toBe(true);
  });

  it('names the variable, key and line when a variable is unset', () => {
    expect(errorOf(TARGET.replace('password: s3cret', 'password: ${DB_PASSWORD}'))).toBe(
      'sqlwarden.yaml:8: targets[0].password: environment variable DB_PASSWORD is not set (write ${DB_PASSWORD:-default} to give a default)',
    );
  });

  it('interpolates the redis URL and treats an empty one as absent', () => {
    expect(parse(`redis: \${REDIS_URL}\n${TARGET}`, { REDIS_URL: 'redis://r:6379' }).redis).toBe('redis://r:6379');
    expect(parse(`redis: \${REDIS_URL:-}\n${TARGET}`).redis).toBeUndefined();
  });
});

describe('parseConfig: errors name the key and the line', () => {
  const cases: Array<[string, string, string]> = [
    ['bad port', TARGET.replace('port: 5432', 'port: 70000'), 'sqlwarden.yaml:5: targets[0].port: must be an integer from 1 to 65535'],
    ['port as text', TARGET.replace('port: 5432', 'port: "5432"'), 'sqlwarden.yaml:5: targets[0].port: must be an integer from 1 to 65535'],
    ['unknown top-level key', `tagets: []\n${TARGET}`, 'sqlwarden.yaml:1: tagets: unknown key; did you mean "targets"?'],
    ['unknown target key', TARGET.replace('user: app_rw', 'usr: app_rw'), 'sqlwarden.yaml:7: targets[0].usr: unknown key; did you mean "user"?'],
    ['missing required key', TARGET.replace('    user: app_rw\n', ''), 'sqlwarden.yaml:2: targets[0].user: is required'],
    ['bad protocol', TARGET.replace('protocol: postgres', 'protocol: postgress'), 'sqlwarden.yaml:3: targets[0].protocol: must be one of postgres, mysql (did you mean "postgres"?); got "postgress"'],
    ['duplicate target', `${TARGET}  - { name: app, protocol: postgres, host: h, database: d, user: u }\n`, 'sqlwarden.yaml:9: targets[1].name: duplicate target name "app" (also used by targets[0])'],
    ['no targets', 'log: { level: info }\n', 'sqlwarden.yaml:1: targets: is required'],
    ['empty target list', 'targets: []\n', 'sqlwarden.yaml:1: targets: must list at least one target'],
    ['bad listener', `listen: { postgres: "6432" }\n${TARGET}`, 'sqlwarden.yaml:1: listen.postgres: "6432" is not host:port'],
    ['IPv6 without brackets', `listen:\n  postgres: "::1:6432"\n${TARGET}`, 'sqlwarden.yaml:2: listen.postgres: "::1:6432": write IPv6 addresses in brackets'],
    ['listener clash', `listen:\n  postgres: 127.0.0.1:6432\n  admin: 127.0.0.1:6432\n${TARGET}`, 'sqlwarden.yaml:3: listen.admin: 127.0.0.1:6432 is already used by listen.postgres'],
    ['admin listener needs token', `listen:\n  postgres: 127.0.0.1:6432\n  admin: 0.0.0.0:8080\n${TARGET}`, 'sqlwarden.yaml:3: listen.admin: 0.0.0.0:8080 is not a loopback address, so admin.token is required'],
    ['short admin token', `admin:\n  token: short\n${TARGET}`, 'sqlwarden.yaml:2: admin.token: must be at least 16 characters'],
    ['redis not a URL', `redis: localhost:6379\n${TARGET}`, 'sqlwarden.yaml:1: redis: must be a redis:// or rediss:// URL'],
    ['redis wrong scheme', `redis: http://localhost:6379\n${TARGET}`, 'sqlwarden.yaml:1: redis: must be a redis:// or rediss:// URL, not http://'],
    ['bad duration', `auth:\n  defaultTtl: 15 minutes\n${TARGET}`, 'sqlwarden.yaml:2: auth.defaultTtl: "15 minutes" is not a duration like'],
    ['both duration spellings', `auth:\n  maxTtl: 1h\n  maxTtlMs: 3600000\n${TARGET}`, 'sqlwarden.yaml:3: auth.maxTtlMs: give either maxTtl or maxTtlMs, not both'],
    ['default ttl above max', `auth:\n  defaultTtl: 2h\n  maxTtl: 1h\n${TARGET}`, 'sqlwarden.yaml:2: auth.defaultTtl: the default ttl (2h) must not exceed the maximum ttl (1h)'],
    ['bad boolean', `audit:\n  failClosed: "yes"\n${TARGET}`, 'sqlwarden.yaml:2: audit.failClosed: must be true or false'],
    ['bad log level', `log:\n  level: verbose\n${TARGET}`, 'sqlwarden.yaml:2: log.level: must be one of debug, info, warn, error'],
    ['tls mode typo', `${TARGET}    tls: { mode: verify_full }\n`, 'sqlwarden.yaml:9: targets[0].tls.mode: must be one of disable, prefer, require, verify-ca, verify-full (did you mean "verify-full"?)'],
    ['tls cert without key', `${TARGET}    tls:\n      mode: require\n      cert: c.pem\n`, 'sqlwarden.yaml:10: targets[0].tls.key: cert and key must be given together'],
    ['mysql target without listener', `listen: { postgres: 127.0.0.1:6432 }\n${TARGET.replace('protocol: postgres', 'protocol: mysql')}`, 'sqlwarden.yaml:3: targets[0]: protocol mysql needs listen.mysql'],
    ['mapping where a value belongs', TARGET.replace('host: db.internal', 'host: { name: x }'), 'sqlwarden.yaml:4: targets[0].host: must be a single value, not a mapping'],
    ['list where a mapping belongs', `auth: [1, 2]\n${TARGET}`, 'sqlwarden.yaml:1: auth: must be a mapping of keys to values'],
    ['client tls without key', `tls:\n  cert: a.pem\n${TARGET}`, 'sqlwarden.yaml:2: tls.key: is required'],
    ['bad byte size', `limits:\n  maxMessageBytes: lots\n${TARGET}`, 'sqlwarden.yaml:2: limits.maxMessageBytes: "lots" is not a size'],
    ['bad target name', TARGET.replace('name: app', 'name: "my app"'), 'sqlwarden.yaml:2: targets[0].name: must be 1 to 63 letters'],
    ['duplicate key', `log: { level: info }\nlog: { level: debug }\n${TARGET}`, 'sqlwarden.yaml:2: invalid YAML: Map keys must be unique'],
    ['YAML syntax', `targets: [\n`, 'sqlwarden.yaml:2: invalid YAML:'],
    ['empty file', '', 'sqlwarden.yaml:1: the file is empty'],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(errorOf(text)).toContain(expected);
  });

  it('reports every problem at once, in line order', () => {
    const msg = errorOf(`log: { level: loud }\n${TARGET.replace('port: 5432', 'port: 0').replace('host: db.internal', 'hots: db')}`);
    expect(msg.split('\n')).toEqual([
      'sqlwarden.yaml:1: log.level: must be one of debug, info, warn, error; got "loud"',
      'sqlwarden.yaml:3: targets[0].host: is required',
      expect.stringContaining('sqlwarden.yaml:5: targets[0].hots: unknown key; did you mean "host"?'),
      'sqlwarden.yaml:6: targets[0].port: must be an integer from 1 to 65535',
    ]);
  });

  it('exposes the issues in a structured form', () => {
    try {
      parse(TARGET.replace('port: 5432', 'port: -1'));
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).issues).toEqual([{ line: 5, path: 'targets[0].port', message: 'must be an integer from 1 to 65535' }]);
    }
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlwarden-config-'));
    mkdirSync(join(dir, 'tls'));
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'tls', 'server.crt'), 'cert');
    writeFileSync(join(dir, 'tls', 'server.key'), 'key');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves paths against the file directory and checks that they exist', () => {
    const file = join(dir, 'sqlwarden.yaml');
    writeFileSync(file, `tls: { cert: tls/server.crt, key: tls/server.key }\naudit: { file: audit.log }\n${TARGET}`);
    const c = loadConfig(file, {});
    expect(c.file).toBe(file);
    expect(c.tls).toEqual({ cert: join(dir, 'tls/server.crt'), key: join(dir, 'tls/server.key'), required: false });
    expect(c.policies).toBe(join(dir, 'policies'));
    expect(c.audit.file).toBe(join(dir, 'audit.log'));
  });

  it('names a missing TLS file with its key and line', () => {
    const file = join(dir, 'missing.yaml');
    writeFileSync(file, `${TARGET}tls:\n  cert: tls/server.crt\n  key: tls/nope.key\n`);
    expect(() => loadConfig(file, {})).toThrow(`${file}:11: tls.key: file not found: ${join(dir, 'tls/nope.key')}`);
  });

  it('names a missing policies directory', () => {
    const file = join(dir, 'nopolicies.yaml');
    writeFileSync(file, `policies: ./rules\n${TARGET}`);
    expect(() => loadConfig(file, {})).toThrow(`${file}:1: policies: directory not found: ${join(dir, 'rules')}`);
  });

  it('says when the file itself is missing', () => {
    expect(() => loadConfig(join(dir, 'nope.yaml'))).toThrow(`${join(dir, 'nope.yaml')}: cannot read config: file not found`);
  });
});
