/**
 * Hot reload of the policy directory on a live proxy: a valid change takes effect in sessions that are
 * already open; an invalid one is refused, logged and counted, and the previous policy stays in force;
 * RunningProxy.reloadPolicies() (the SIGHUP path) does the same on demand; a directory that does not
 * load refuses the start, naming file and line.
 */
import { copyFileSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger } from '@sqlwarden/telemetry';
import { adminQuery, createTestDatabase } from '../helpers/servers.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { watchClient } from '../helpers/client-watch.js';
import { pollUntil } from '../helpers/poll.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEFAULT_POLICY = join(repoRoot, 'policies', 'default.yaml');

const NO_WIDGETS = `version: 1
rules:
  - id: no-widgets
    description: the widgets table is off limits
    match:
      tables: [widgets]
    action: deny
    message: widgets are off limits
`;

const NO_CANARY = `version: 1
rules:
  - id: no-canary
    match:
      tables: [canary]
    action: deny
`;

/** A valid new rule (no-canary) next to a broken one: the whole file, and so the change, is refused. */
const BROKEN = `version: 1
rules:
  - id: no-canary
    match:
      tables: [canary]
    action: deny
  - id: broken-rule
    match:
      kinds: [select]
    action: block
`;

/** Writes a file in one step (rename), so the watcher never reads it half-written. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

const denied = (rule: string) => ({ code: '42501', message: expect.stringContaining(`denied by rule "${rule}"`) });

describe('policy hot reload on a live proxy', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir: string;
  let tp: TestProxy;
  let c: pg.Client;
  let pid: number;
  const logLines: { level: string; msg: string; errors?: string }[] = [];

  async function reloads(result: 'loaded' | 'rejected'): Promise<number> {
    const m = await tp.metrics.registry.getSingleMetric('sqlwarden_policy_reloads_total')?.get();
    return m?.values.find((v) => v.labels.result === result)?.value ?? 0;
  }

  async function policyVersion(): Promise<number> {
    const m = await tp.metrics.registry.getSingleMetric('sqlwarden_policy_version')?.get();
    return m?.values[0]?.value ?? 0;
  }

  /** The outcome of a statement on the live session: "ok" or the rule that denied it. */
  async function outcome(sql: string): Promise<string> {
    try {
      await c.query(sql);
      return 'ok';
    } catch (err) {
      const e = err as { code?: string; message: string };
      const rule = /denied by rule "([^"]+)"/.exec(e.message)?.[1];
      return e.code === '42501' && rule ? rule : `error ${e.code}: ${e.message}`;
    }
  }

  /** The same session throughout: no reconnect happened behind the test's back. */
  async function sameSession(): Promise<void> {
    const r = await c.query('select pg_backend_pid() as pid');
    expect(r.rows[0].pid).toBe(pid);
  }

  beforeAll(async () => {
    db = await createTestDatabase('swreload');
    await adminQuery('create table widgets (id int); insert into widgets values (1); create table canary (id int); insert into canary values (1)', db.name);
    dir = mkdtempSync(join(tmpdir(), 'sqlwarden-policies-'));
    copyFileSync(DEFAULT_POLICY, join(dir, 'default.yaml'));
    const log = createLogger({
      level: 'info',
      write: (line) => {
        const j = JSON.parse(line) as { level: string; msg: string; errors?: string };
        logLines.push({ level: j.level, msg: j.msg, errors: j.errors });
      },
    });
    tp = await startTestProxy({
      database: db.name,
      log,
      tweak: (cfg) => {
        cfg.policies = dir;
      },
    });
    const m = await tp.mint('reload-agent');
    c = new pg.Client(tp.pgOptions(m));
    watchClient(c);
    await c.connect();
    pid = (await c.query('select pg_backend_pid() as pid')).rows[0].pid as number;
  });

  afterAll(async () => {
    await c?.end().catch(() => {});
    await tp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('starts with the policies of the configured directory', async () => {
    expect(await outcome('select count(*) from widgets')).toBe('ok');
    expect(await outcome('drop table widgets')).toBe('no-drop-or-truncate');
    expect(await reloads('loaded')).toBe(1);
    expect(await reloads('rejected')).toBe(0);
    expect(await policyVersion()).toBe(1);
  });

  it('a new deny rule takes effect in the open session, without reconnecting', async () => {
    const version = await policyVersion();
    writeAtomic(join(dir, 'extra.yaml'), NO_WIDGETS);
    await pollUntil('the no-widgets rule to deny on the open session', async () => (await outcome('select count(*) from widgets')) === 'no-widgets', {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    await expect(c.query('select count(*) from widgets')).rejects.toMatchObject({ ...denied('no-widgets'), message: expect.stringContaining('widgets are off limits') });
    expect(await policyVersion()).toBeGreaterThan(version);
    expect(await outcome('select count(*) from canary')).toBe('ok');
    // the default policy is still in force next to the new file
    expect(await outcome('drop table canary')).toBe('no-drop-or-truncate');
    await sameSession();
  });

  it('an invalid change is refused: the old rules stay in force, the new rule never applies, and the refusal is counted and logged', async () => {
    const rejected = await reloads('rejected');
    const version = await policyVersion();
    const loaded = await reloads('loaded');
    writeAtomic(join(dir, 'extra.yaml'), BROKEN);
    await pollUntil('the refused reload to be counted', async () => (await reloads('rejected')) > rejected, { timeoutMs: 10_000, intervalMs: 50 });
    // the refusal names file, line and key in the log
    const refusal = logLines.find((l) => l.level === 'error' && l.msg.includes('previous policy stays in force'));
    expect(refusal?.errors).toContain(`${join(dir, 'extra.yaml')}:10: rules[1].action: must be one of allow, deny, review`);
    // the previous policy (with no-widgets) is in force; no-canary from the refused file is not
    expect(await outcome('select count(*) from widgets')).toBe('no-widgets');
    expect(await outcome('select count(*) from canary')).toBe('ok');
    expect(await outcome('drop table canary')).toBe('no-drop-or-truncate');
    expect(await policyVersion()).toBe(version);
    expect(await reloads('loaded')).toBe(loaded);
    await sameSession();
  });

  it('fixing the file loads it: its rules replace the previous ones', async () => {
    const loaded = await reloads('loaded');
    writeAtomic(join(dir, 'extra.yaml'), NO_CANARY);
    await pollUntil('the fixed file to load', async () => (await outcome('select count(*) from canary')) === 'no-canary', { timeoutMs: 10_000, intervalMs: 50 });
    expect(await reloads('loaded')).toBeGreaterThan(loaded);
    // no-widgets was in the file that was replaced
    expect(await outcome('select count(*) from widgets')).toBe('ok');
    await sameSession();
  });

  it('removing a policy file removes its rules', async () => {
    unlinkSync(join(dir, 'extra.yaml'));
    await pollUntil('no-canary to go away', async () => (await outcome('select count(*) from canary')) === 'ok', { timeoutMs: 10_000, intervalMs: 50 });
    expect(await outcome('truncate canary')).toBe('no-drop-or-truncate');
    await sameSession();
  });

  it('reloadPolicies() (the SIGHUP path) loads a valid change at once and refuses an invalid one', async () => {
    // a file the watcher has not yet seen takes effect on the very next statement after the reload
    writeFileSync(join(dir, 'sighup.yaml'), NO_WIDGETS);
    expect(tp.proxy.reloadPolicies()).toBe(true);
    expect(await outcome('select count(*) from widgets')).toBe('no-widgets');

    const rejected = await reloads('rejected');
    writeFileSync(join(dir, 'sighup.yaml'), BROKEN);
    expect(tp.proxy.reloadPolicies()).toBe(false);
    expect(await reloads('rejected')).toBeGreaterThan(rejected);
    expect(await outcome('select count(*) from widgets')).toBe('no-widgets');
    expect(await outcome('select count(*) from canary')).toBe('ok');

    writeFileSync(join(dir, 'sighup.yaml'), NO_CANARY);
    expect(tp.proxy.reloadPolicies()).toBe(true);
    expect(await outcome('select count(*) from canary')).toBe('no-canary');
    expect(await outcome('select count(*) from widgets')).toBe('ok');
    await sameSession();
  });

  it('a rule id defined twice across files is refused as a whole', async () => {
    const rejected = await reloads('rejected');
    writeFileSync(join(dir, 'dup.yaml'), NO_CANARY);
    expect(tp.proxy.reloadPolicies()).toBe(false);
    expect(await reloads('rejected')).toBeGreaterThan(rejected);
    expect(await outcome('select count(*) from canary')).toBe('no-canary');
    unlinkSync(join(dir, 'dup.yaml'));
    unlinkSync(join(dir, 'sighup.yaml'));
    expect(tp.proxy.reloadPolicies()).toBe(true);
    expect(await outcome('select count(*) from canary')).toBe('ok');
  });
});

describe('a proxy whose policy directory does not load', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('swbadpol');
    dir = mkdtempSync(join(tmpdir(), 'sqlwarden-badpolicies-'));
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('refuses to start, naming the file and the line', async () => {
    copyFileSync(DEFAULT_POLICY, join(dir, 'default.yaml'));
    writeFileSync(join(dir, 'bad.yaml'), 'version: 1\nrules:\n  - id: typo\n    match: { kinds: [drop_tabel] }\n    action: deny\n');
    const start = startTestProxy({ database: db.name, tweak: (cfg) => void (cfg.policies = dir) });
    await expect(start).rejects.toThrow('the policies cannot be loaded, so sqlwarden will not start');
    await expect(start).rejects.toThrow(`${join(dir, 'bad.yaml')}:4: rules[0].match.kinds: "drop_tabel" matches no statement kind; did you mean "drop_table"?`);
  });

  it('refuses to start on invalid YAML and on an empty directory', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'version: 1\nrules: [\n');
    await expect(startTestProxy({ database: db.name, tweak: (cfg) => void (cfg.policies = dir) })).rejects.toThrow(new RegExp(`${join(dir, 'bad.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: .*invalid YAML`));
    const empty = mkdtempSync(join(dir, 'empty-'));
    await expect(startTestProxy({ database: db.name, tweak: (cfg) => void (cfg.policies = empty) })).rejects.toThrow('no policy files (*.yaml) in the policy directory');
  });
});
