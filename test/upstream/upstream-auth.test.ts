import pg from 'pg';
import { createLogger } from '@sqlwarden/telemetry';
import { createTestDatabase, uniqueName } from '../helpers/servers.js';
import { startTestProxy, targetYaml, type TestProxy } from '../helpers/proxy.js';
import { startPrivateCluster, type PrivateCluster } from '../helpers/private-pg-cluster.js';
import { pollUntil } from '../helpers/poll.js';

type PgError = Error & { code?: string; severity?: string };

const DB = 'appdb';
/** upstream passwords: the proxy knows them, agents never do, logs never show them */
const PW = {
  u_plain: 'plain-Upstream-pw-7f3a',
  u_md5: 'md5-Upstream-pw-91c2',
  u_scram: 'scram-Upstream-pw-0d4e',
  u_tls: 'tls-Upstream-pw-55b8',
};
const WRONG_PW = 'wrong-Upstream-pw-c0ffee';

interface TargetOpts {
  password?: string;
  tls?: Record<string, string>;
  host?: string;
  port?: number;
  database?: string;
}

function clusterTarget(cluster: PrivateCluster, name: string, user: string, o: TargetOpts = {}): string {
  const lines = [
    `  - name: ${name}`,
    '    protocol: postgres',
    `    host: ${o.host ?? cluster.host}`,
    `    port: ${o.port ?? cluster.port}`,
    `    database: ${o.database ?? DB}`,
    `    user: ${user}`,
  ];
  if (o.password !== undefined) lines.push(`    password: "${o.password}"`);
  if (o.tls) {
    lines.push('    tls:');
    for (const [k, v] of Object.entries(o.tls)) lines.push(`      ${k}: "${v}"`);
  }
  return lines.join('\n') + '\n';
}

describe('upstream authentication methods and TLS (private PostgreSQL cluster)', () => {
  let cluster: PrivateCluster | undefined;
  let localDb: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let tp: TestProxy;
  const logLines: string[] = [];

  beforeAll(async () => {
    cluster = await startPrivateCluster({
      ssl: true,
      hba: [
        'host all u_trust 127.0.0.1/32 trust',
        'host all u_plain 127.0.0.1/32 password',
        'host all u_md5 127.0.0.1/32 md5',
        'host all u_scram 127.0.0.1/32 scram-sha-256',
        'hostssl all u_tls 127.0.0.1/32 scram-sha-256',
        'hostnossl all u_tls 127.0.0.1/32 reject',
      ],
    });
    await cluster.query(`
      create role u_trust login;
      create role u_plain login password '${PW.u_plain}';
      create role u_scram login password '${PW.u_scram}';
      create role u_tls login password '${PW.u_tls}';
      set password_encryption = 'md5';
      create role u_md5 login password '${PW.u_md5}';
    `);
    await cluster.query(`create database ${DB}`);
    const stored = await cluster.query(`select rolname, left(rolpassword, 14) as kind from pg_authid where rolname like 'u\\_%' order by 1`);
    // the md5 user really has an md5 hash (so the upstream can only do md5 for it)
    expect(stored.rows.find((r: { rolname: string }) => r.rolname === 'u_md5')?.kind).toMatch(/^md5/);
    expect(stored.rows.find((r: { rolname: string }) => r.rolname === 'u_scram')?.kind).toMatch(/^SCRAM-SHA-256/);

    localDb = await createTestDatabase('swupauth');
    const certs = cluster.certs;
    if (!certs) throw new Error('cluster started without certificates');
    const c = cluster;
    tp = await startTestProxy({
      database: DB,
      log: createLogger({ level: 'debug', write: (l) => logLines.push(l) }),
      targetsYaml: [
        clusterTarget(c, 't_trust', 'u_trust'),
        clusterTarget(c, 't_plain', 'u_plain', { password: PW.u_plain }),
        clusterTarget(c, 't_md5', 'u_md5', { password: PW.u_md5 }),
        clusterTarget(c, 't_scram', 'u_scram', { password: PW.u_scram }),
        clusterTarget(c, 't_tls', 'u_tls', { password: PW.u_tls, tls: { mode: 'verify-full', ca: certs.caCert, servername: 'localhost' } }),
        clusterTarget(c, 't_tls_ca', 'u_tls', { password: PW.u_tls, tls: { mode: 'verify-ca', ca: certs.caCert } }),
        clusterTarget(c, 't_tls_require', 'u_tls', { password: PW.u_tls, tls: { mode: 'require' } }),
        clusterTarget(c, 't_tls_prefer', 'u_tls', { password: PW.u_tls, tls: { mode: 'prefer' } }),
        // no servername: verify-full checks the host, 127.0.0.1, against the certificate's IP SAN
        clusterTarget(c, 't_tls_ip', 'u_tls', { password: PW.u_tls, tls: { mode: 'verify-full', ca: certs.caCert } }),
        clusterTarget(c, 't_tls_wrong_ca', 'u_tls', { password: PW.u_tls, tls: { mode: 'verify-full', ca: certs.otherCaCert, servername: 'localhost' } }),
        clusterTarget(c, 't_tls_wrong_name', 'u_tls', { password: PW.u_tls, tls: { mode: 'verify-full', ca: certs.caCert, servername: 'db.example.invalid' } }),
        clusterTarget(c, 't_tls_off', 'u_tls', { password: PW.u_tls }),
        clusterTarget(c, 't_plain_bad', 'u_plain', { password: WRONG_PW }),
        clusterTarget(c, 't_md5_bad', 'u_md5', { password: WRONG_PW }),
        clusterTarget(c, 't_scram_bad', 'u_scram', { password: WRONG_PW }),
        clusterTarget(c, 't_scram_nopw', 'u_scram'),
        // the machine's own PostgreSQL has ssl = off
        targetYaml('t_local_require', localDb.name, '    tls:\n      mode: require\n'),
        targetYaml('t_local_prefer', localDb.name, '    tls:\n      mode: prefer\n'),
        targetYaml('t_local', localDb.name),
      ].join(''),
    });
  }, 120_000);

  afterAll(async () => {
    await tp?.close();
    try {
      await cluster?.stop();
    } finally {
      await localDb?.drop();
    }
  }, 60_000);

  async function through(target: string): Promise<pg.Client> {
    const m = await tp.mint(uniqueName(`up_${target}`), { target });
    const c = new pg.Client({ connectionString: m.url });
    c.on('error', () => {});
    await c.connect();
    return c;
  }

  async function refused(target: string): Promise<PgError> {
    const m = await tp.mint(uniqueName(`up_${target}`), { target });
    const c = new pg.Client({ connectionString: m.url });
    c.on('error', () => {});
    try {
      await c.connect();
    } catch (err) {
      return err as PgError;
    }
    await c.end();
    throw new Error(`expected the upstream login of target ${target} to be refused, but it succeeded`);
  }

  const WHO = "select current_user as who, current_database() as db, coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false) as ssl, current_setting('application_name') as app";

  it.each([
    ['t_trust', 'u_trust', false, null],
    ['t_plain', 'u_plain', false, 'password'],
    ['t_md5', 'u_md5', false, 'md5'],
    ['t_scram', 'u_scram', false, 'scram-sha-256'],
    ['t_tls', 'u_tls', true, 'scram-sha-256'],
  ] as const)('target %s logs in upstream as %s (ssl=%s, method %s) and runs a query', async (target, user, ssl, method) => {
    const c = await through(target);
    try {
      const r = await c.query(WHO);
      expect(r.rows[0]).toMatchObject({ who: user, db: DB, ssl });
      expect(r.rows[0].app).toMatch(/^sqlwarden:up_t_/);
      expect((await c.query('select 6 * 7 as answer')).rows).toEqual([{ answer: 42 }]);
    } finally {
      await c.end();
    }
    // the upstream's own log shows how it authenticated us
    if (method) {
      const line = `connection authenticated: identity="${user}" method=${method}`;
      await pollUntil(`the cluster log to record ${line}`, () => cluster?.log().includes(line));
    }
  });

  it('TLS verify-ca with the right CA, verify-full by IP address, require (no verification) and prefer also log in over TLS', async () => {
    for (const target of ['t_tls_ca', 't_tls_ip', 't_tls_require', 't_tls_prefer']) {
      const c = await through(target);
      try {
        expect((await c.query(WHO)).rows[0]).toMatchObject({ who: 'u_tls', ssl: true });
      } finally {
        await c.end();
      }
    }
  });

  it('u_tls without TLS is rejected by the upstream (hostnossl reject), proving the TLS targets really use TLS', async () => {
    const e = await refused('t_tls_off');
    expect(e.code).toMatch(/^08/);
    expect(e.message).toContain('"t_tls_off"');
    // the agent learns the SQLSTATE, not the upstream's own words (role names, pg_hba rules)
    expect(e.message).toContain('SQLSTATE 28000');
    expect(e.message).not.toMatch(/pg_hba|u_tls/);
  });

  it.each(['t_plain_bad', 't_md5_bad', 't_scram_bad'])(
    'a wrong upstream password (%s) gives the client a class-08 error naming the upstream, and the proxy keeps serving',
    async (target) => {
      // a session opened before the failure
      const before = await through('t_scram');
      try {
        const e = await refused(target);
        expect(e.severity).toBe('FATAL');
        expect(e.code).toMatch(/^08/);
        expect(e.message).toContain(`"${target}"`);
        expect(e.message).toContain('SQLSTATE 28P01');
        expect(e.message).not.toMatch(/password authentication failed for user/);
        // the wrong password itself is not in the message
        expect(e.message).not.toContain(WRONG_PW);
        // the open session and new sessions keep working
        expect((await before.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
        const after = await through('t_md5');
        try {
          expect((await after.query('select current_user as who')).rows).toEqual([{ who: 'u_md5' }]);
        } finally {
          await after.end();
        }
      } finally {
        await before.end();
      }
    },
  );

  it('a target without a password for an upstream that asks for one gives a class-08 error that says so', async () => {
    const e = await refused('t_scram_nopw');
    expect(e.code).toMatch(/^08/);
    expect(e.message).toContain('"t_scram_nopw"');
    expect(e.message).toMatch(/password/);
  });

  it('verify-full against a CA that did not sign the server certificate is refused (class 08)', async () => {
    const e = await refused('t_tls_wrong_ca');
    expect(e.code).toMatch(/^08/);
    expect(e.message).toContain('"t_tls_wrong_ca"');
    expect(e.message).toMatch(/TLS/);
  });

  it('verify-full with a server name the certificate does not carry is refused (class 08)', async () => {
    const e = await refused('t_tls_wrong_name');
    expect(e.code).toMatch(/^08/);
    expect(e.message).toContain('"t_tls_wrong_name"');
    expect(e.message).toMatch(/db\.example\.invalid|altnames|host ?name/i);
  });

  it('tls mode require against an upstream without SSL is refused (class 08), while the same upstream without TLS works', async () => {
    const e = await refused('t_local_require');
    expect(e.code).toMatch(/^08/);
    expect(e.message).toContain('"t_local_require"');
    expect(e.message).toMatch(/does not support TLS/);
    // prefer falls back to plaintext there; no tls block is plaintext
    for (const target of ['t_local_prefer', 't_local']) {
      const c = await through(target);
      try {
        expect((await c.query('select current_database() as db')).rows).toEqual([{ db: localDb?.name }]);
      } finally {
        await c.end();
      }
    }
  });

  it('counts upstream failures per target, and never logs an upstream password', async () => {
    const m = await tp.metrics.upstreamErrors.get();
    const byTarget = Object.fromEntries(m.values.map((v) => [v.labels.target, v.value]));
    for (const t of ['t_tls_off', 't_plain_bad', 't_md5_bad', 't_scram_bad', 't_scram_nopw', 't_tls_wrong_ca', 't_tls_wrong_name', 't_local_require']) {
      expect(byTarget[t]).toBeGreaterThanOrEqual(1);
    }
    expect(byTarget.t_scram ?? 0).toBe(0);
    expect(logLines.some((l) => l.includes('upstream connection failed'))).toBe(true);
    const logged = logLines.join('\n') + (await tp.metrics.registry.metrics());
    for (const pw of [...Object.values(PW), WRONG_PW]) expect(logged.includes(pw)).toBe(false);
  });
});
