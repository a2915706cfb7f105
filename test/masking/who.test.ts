/**
 * Masks apply only to the principals their who-conditions name: labels, agent names, targets. A
 * detectors-only mask (no columns) scans every text column of every result for the agents it names.
 */
import pg from 'pg';
import { targetYaml } from '../helpers/proxy.js';
import { directClient, masked, OID, policyWithMasks, proxiedClient, startMaskingEnv, detected, type MaskingEnv } from './support.js';

const STAFF = [
  { id: 1, name: 'Dana', email: 'dana.private@example.com', phone: '+1 415 555 0134' },
  { id: 2, name: 'Eli', email: 'eli.private@example.org', phone: '+44 20 7946 0958' },
];

const SETUP = `create table staff (id int primary key, name text, email text, phone text);
insert into staff values ${STAFF.map((s) => `(${s.id}, '${s.name}', '${s.email}', '${s.phone}')`).join(', ')};`;

const MASKS = `  - id: analytics-emails
    columns: ["staff.email"]
    function: email
    labels: { role: analytics }
  - id: reporter-phones
    columns: ["staff.phone"]
    function: redact
    agents: ["reporter-*"]
  - id: replica-names
    columns: ["staff.name"]
    function: hash
    targets: [replica]
  - id: scanner-pii
    detectors: [email, us_ssn]
    function: redact
    replacement: "<pii>"
    agents: ["scanner-*"]
`;

const SCAN_SQL = "select id, 'write to x.y@example.net, ssn 123-45-6789' as note, 42 as n, email from staff order by id";

describe('masks apply by who-conditions', () => {
  let env: MaskingEnv;
  const open: pg.Client[] = [];

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskwho', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
  }, 60_000);
  afterAll(async () => {
    for (const c of open) await c.end().catch(() => {});
    await env?.close();
  }, 60_000);

  async function rowsAs(agent: string, labels?: Record<string, string>, sql = 'select * from staff order by id'): Promise<Record<string, unknown>[]> {
    const m = await env.tp.mint(agent, labels ? { labels } : {});
    const c = await proxiedClient(env.tp, m);
    open.push(c);
    return (await c.query(sql)).rows;
  }

  async function directRows(sql = 'select * from staff order by id'): Promise<Record<string, unknown>[]> {
    const c = await directClient(env.db.name);
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  }

  it('the labelled mask applies to an agent with the label (extra labels do not matter)', async () => {
    for (const labels of [{ role: 'analytics' }, { role: 'analytics', team: 'growth' }] as Record<string, string>[]) {
      const rows = await rowsAs('bi-agent', labels);
      expect(rows).toEqual(STAFF.map((s) => ({ ...s, email: masked('email', s.email, OID.text) })));
      expect(rows[0].email).toBe('****@example.com');
    }
  });

  it('the labelled mask does not apply to an agent with another label value or without labels', async () => {
    const direct = await directRows();
    expect(await rowsAs('ops-agent', { role: 'ops' })).toEqual(direct);
    expect(await rowsAs('ops-agent', { role: 'analytics-admin' })).toEqual(direct);
    expect(await rowsAs('plain-agent')).toEqual(direct);
    expect(direct[0].email).toBe(STAFF[0].email);
  });

  it('an agents: condition applies by agent name glob', async () => {
    const rows = await rowsAs('reporter-7');
    expect(rows).toEqual(STAFF.map((s) => ({ ...s, phone: masked('redact', s.phone, OID.text) })));
    expect(rows[0].phone).toBe('[redacted]');
    expect(await rowsAs('reporterx-7')).toEqual(await directRows());
  });

  it('conditions of several masks combine for an agent that meets them all', async () => {
    const rows = await rowsAs('reporter-bi', { role: 'analytics' });
    expect(rows).toEqual(STAFF.map((s) => ({ ...s, email: masked('email', s.email, OID.text), phone: '[redacted]' })));
  });

  it('a detectors-only mask scans every text column of every result for the agents it names', async () => {
    const direct = await directRows(SCAN_SQL);
    const rows = await rowsAs('scanner-1', undefined, SCAN_SQL);
    expect(rows).toEqual(
      direct.map((r) => ({ ...r, note: detected(r.note as string, ['email', 'us_ssn'], '<pii>'), email: detected(r.email as string, ['email', 'us_ssn'], '<pii>') })),
    );
    expect(rows[0].note).toBe('write to <pii>, ssn <pii>');
    expect(rows[0].n).toBe(42);
    // not for other agents
    expect(await rowsAs('not-a-scanner', undefined, SCAN_SQL)).toEqual(direct);
  });
});

describe('masks apply by target', () => {
  let env: MaskingEnv;
  const open: pg.Client[] = [];

  beforeAll(async () => {
    // two targets over the same database, so the same agent can come through either
    env = await startMaskingEnv({
      prefix: 'swmaskwhot',
      policyYaml: policyWithMasks(MASKS),
      setupSql: SETUP,
      targetsYaml: (database) => `${targetYaml('app', database)}${targetYaml('replica', database)}`,
    });
  }, 60_000);
  afterAll(async () => {
    for (const c of open) await c.end().catch(() => {});
    await env?.close();
  }, 60_000);

  it('a targets: mask applies through that target only', async () => {
    const viaReplica = await env.tp.mint('target-agent', { target: 'replica' });
    const viaApp = await env.tp.mint('target-agent', { target: 'app' });
    const r = await proxiedClient(env.tp, viaReplica);
    const a = await proxiedClient(env.tp, viaApp);
    open.push(r, a);
    const replicaRows = (await r.query('select id, name from staff order by id')).rows;
    const appRows = (await a.query('select id, name from staff order by id')).rows;
    expect(replicaRows).toEqual(STAFF.map((s) => ({ id: s.id, name: masked('hash', s.name, OID.text) })));
    expect(appRows).toEqual(STAFF.map((s) => ({ id: s.id, name: s.name })));
  });
});
