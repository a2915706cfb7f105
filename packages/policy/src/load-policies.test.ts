import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatPolicyIssue, loadPolicyDir, loadPolicySources } from './load-policies.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const opts = { fingerprint: (_d: 'postgres' | 'mysql', sql: string) => (sql.includes('!') ? null : `fp:${sql}`) };

function issues(text: string): string[] {
  const r = loadPolicySources([{ file: 'p.yaml', text }], opts);
  return r.ok ? [] : r.issues.map(formatPolicyIssue);
}

describe('loading policies', () => {
  it('loads the shipped default policy', () => {
    const r = loadPolicyDir(join(repo, 'policies'), opts);
    if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
    expect(r.policy.defaults.action).toBe('allow');
    expect(r.policy.rules.map((x) => x.id)).toContain('no-drop-or-truncate');
  });

  it.each(['read-only-agent.yaml', 'migration-agent.yaml', 'analytics-agent.yaml'])('validates the example %s', (f) => {
    const r = loadPolicyDir(join(repo, 'policies', 'examples'), opts);
    if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
    expect(r.policy.files.some((x) => x.endsWith(f))).toBe(true);
  });

  it.each([
    ['unknown top-level key', 'rulez: []\n', 'p.yaml:1: rulez: unknown key; did you mean "rules"?'],
    ['bad action', 'rules:\n  - id: a\n    match: { kinds: [select] }\n    action: block\n', 'p.yaml:4: rules[0].action: must be one of allow, deny, review'],
    ['missing id', 'rules:\n  - match: { kinds: [select] }\n    action: deny\n', 'p.yaml:2: rules[0].id: is required'],
    ['unknown kind', 'rules:\n  - id: a\n    match:\n      kinds: [drop_tabel]\n    action: deny\n', 'p.yaml:4: rules[0].match.kinds: "drop_tabel" matches no statement kind; did you mean "drop_table"?'],
    ['unknown match key', 'rules:\n  - id: a\n    match:\n      tabels: [x]\n    action: deny\n', 'p.yaml:4: rules[0].match.tabels: unknown key; did you mean "tables"?'],
    ['timeout on deny', 'rules:\n  - id: a\n    match: { kinds: [select] }\n    action: deny\n    timeout: 5m\n', 'p.yaml:5: rules[0].timeout: only review rules have a timeout'],
    ['bad where', 'rules:\n  - id: a\n    match: { where: bounded }\n    action: deny\n', 'rules[0].match.where: must be one of unbounded'],
    ['bad fingerprint', 'rules:\n  - id: a\n    match: { dialect: postgres, fingerprints: ["SELEC !"] }\n    action: deny\n', 'is not valid postgres SQL'],
    ['unknown detector', 'masks:\n  - id: m\n    detectors: [emial]\n    function: redact\n', 'p.yaml:3: masks[0].detectors: unknown detector "emial"; did you mean "email"?'],
    ['keep_first on redact', 'masks:\n  - id: m\n    columns: ["*.email"]\n    function: redact\n    keep_first: 2\n', 'masks[0].keep_first: only the partial function keeps characters'],
    ['bad yaml', 'rules: [\n', 'p.yaml:2: invalid YAML'],
    ['table with too many dots', 'rules:\n  - id: a\n    match: { tables: ["a.b.c"] }\n    action: deny\n', 'must be table or schema.table'],
  ])('%s is refused naming file, line and key', (_name, text, expected) => {
    const found = issues(text);
    expect(found.join('\n')).toContain(expected);
  });

  it('refuses duplicate rule ids across files and defaults set twice', () => {
    const rule = 'rules:\n  - id: same\n    match: { kinds: [select] }\n    action: deny\n';
    const r = loadPolicySources(
      [
        { file: 'a.yaml', text: 'defaults: { action: deny }\n' + rule },
        { file: 'b.yaml', text: 'defaults: { action: allow }\n' + rule },
      ],
      opts,
    );
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.issues.map(formatPolicyIssue).join('\n');
    expect(text).toContain('b.yaml:1: defaults: defaults are already set in a.yaml');
    expect(text).toContain('b.yaml:3: rules[0]: duplicate rule id "same" (also in a.yaml)');
  });

  it('accepts a single string where a list is expected', () => {
    const r = loadPolicySources([{ file: 'p.yaml', text: 'rules:\n  - id: a\n    match: { kinds: select, agents: "bot-*" }\n    action: deny\n' }], opts);
    expect(r.ok).toBe(true);
  });

  it('reads mysql.local_infile entries (merged across files) and refuses an entry that names nobody', () => {
    const r = loadPolicySources(
      [
        { file: 'a.yaml', text: 'mysql:\n  local_infile:\n    - agents: ["etl-*"]\n' },
        { file: 'b.yaml', text: 'mysql:\n  local_infile:\n    - labels: { team: data }\n      targets: [warehouse]\n      description: nightly loads\n' },
      ],
      opts,
    );
    if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
    expect(r.policy.localInfile?.map((g) => [g.file, g.line, g.who.agents?.map((x) => x.source), g.who.targets?.length, g.description])).toEqual([
      ['a.yaml', 3, ['etl-*'], undefined, undefined],
      ['b.yaml', 3, undefined, 1, 'nightly loads'],
    ]);
    expect(issues('mysql:\n  local_infile:\n    - description: everyone?\n')).toEqual([expect.stringContaining('an entry needs agents, labels or targets')]);
    expect(issues('mysql:\n  local_infil: []\n').join('\n')).toContain('did you mean "local_infile"');
    expect(issues('rules:\n  - id: a\n    match: { kinds: [load_data], reads_file: true }\n    action: deny\n')).toEqual([]);
  });

  it('refuses a missing directory and an empty one', () => {
    const r = loadPolicyDir('/nonexistent/sqlwarden-policies', opts);
    expect(r.ok ? '' : r.issues[0].message).toContain('cannot read the policy directory');
  });
});
