import type { StatementFacts } from '@sqlwarden/sql';
import type { Principal } from './decision.js';
import { compileGlob } from './glob.js';
import { judge } from './evaluate.js';
import { loadPolicySources } from './load-policies.js';
import type { PolicySet } from './model.js';
import { whoMatches } from './evaluate.js';
import { analysis, facts, t } from './test-facts.js';

const who = (agent = 'bot-1', labels: Record<string, string> = {}, target = 'app'): Principal => ({ agent, labels, target, credentialId: 'c', user: 'sw_x', sessionId: 's' });

function policy(text: string): PolicySet {
  const r = loadPolicySources([{ file: 'p.yaml', text }], { fingerprint: (_d, sql) => `fp:${sql}` });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.policy;
}

function decide(p: PolicySet, stmts: StatementFacts[], principal = who(), fp = 'fp') {
  const rules = p.rules.filter((r) => whoMatches(r.who, principal));
  return judge(p, rules, analysis(stmts, fp), () => fp).decision;
}

describe('globs', () => {
  it.each([
    ['public.users', 'public.users', true],
    ['public.users', 'PUBLIC.Users', true],
    ['*.users', 'billing.users', true],
    ['*.users', 'a.b.users', false],
    ['**.users', 'a.b.users', true],
    ['drop_*', 'drop_table', true],
    ['drop_*', 'create_table', false],
    ['pg_ls_*', 'pg_ls_dir', true],
    ['user?', 'users', true],
    ['a.b', 'aXb', false],
  ])('%s ~ %s → %s', (g, v, expected) => expect(compileGlob(g).test(v)).toBe(expected));
});

describe('judging statements', () => {
  const base = policy(`
defaults: { action: allow }
rules:
  - id: no-drop
    match: { kinds: [drop_*] }
    action: deny
    message: no drops
  - id: unbounded
    match: { kinds: [update, delete], where: unbounded }
    action: deny
  - id: secrets
    match: { tables: [vault.secrets] }
    action: deny
  - id: review-alter
    match: { kinds: [alter_table], agents: ["migrator-*"] }
    action: review
    timeout: 2m
  - id: read-file
    match: { functions: [pg_read_file] }
    action: deny
  - id: no-lexer
    match: { settings: [standard_conforming_strings] }
    action: deny
  - id: allow-vault-reads-for-auditors
    match: { tables: [vault.secrets], labels: { role: auditor } }
    action: allow
`);

  it.each<[string, StatementFacts[], Principal, string]>([
    ['a plain select', [facts({ kind: 'select', tablesRead: [t('public.orders')] })], who(), 'allow'],
    ['a drop', [facts({ kind: 'drop_table', tablesWritten: [t('orders')] })], who(), 'deny:no-drop'],
    ['a drop nested in a select', [facts({ kind: 'select', nested: [facts({ kind: 'drop_table' })] })], who(), 'deny:no-drop'],
    ['the second of two statements', [facts({ kind: 'select' }), facts({ kind: 'delete', unboundedWrite: true })], who(), 'deny:unbounded'],
    ['a bounded delete', [facts({ kind: 'delete', hasWhere: true })], who(), 'allow'],
    ['an unqualified table a deny rule names by schema', [facts({ kind: 'select', tablesRead: [t('secrets')] })], who(), 'deny:secrets'],
    ['a schema-qualified function call', [facts({ kind: 'select', functions: ['pg_catalog.pg_read_file'] })], who(), 'deny:read-file'],
    ['review for the migrator', [facts({ kind: 'alter_table' })], who('migrator-7'), 'review:review-alter'],
    ['no review for another agent', [facts({ kind: 'alter_table' })], who('bot-1'), 'allow'],
    ['deny beats allow for the auditor', [facts({ kind: 'select', tablesRead: [t('vault.secrets')] })], who('a', { role: 'auditor' }), 'deny:secrets'],
    ['a FunctionCall is denied unless allowed', [facts({ kind: 'function_call' })], who(), 'deny:function-call'],
    ['a computed setting name matches a restriction on settings', [facts({ kind: 'select', settings: [{ name: '*', scope: 'session' }] })], who(), 'deny:no-lexer'],
    ['an opaque body is denied unless allowed', [facts({ kind: 'do', opaqueBodies: ['EXECUTE x'] })], who(), 'deny:opaque-body'],
  ])('%s', (_n, stmts, principal, expected) => {
    const d = decide(base, stmts, principal);
    expect(d.kind === 'allow' ? 'allow' : `${d.kind}:${d.ruleId}`).toBe(expected);
  });

  it('carries the rule message and the review timeout', () => {
    const d = decide(base, [facts({ kind: 'drop_table' })]);
    expect(d).toEqual({ kind: 'deny', ruleId: 'no-drop', reason: 'no drops' });
    const r = decide(base, [facts({ kind: 'alter_table' })], who('migrator-1'));
    expect(r).toMatchObject({ kind: 'review', timeoutMs: 120000 });
  });

  const strict = policy(`
defaults: { action: deny, message: not allowed here }
rules:
  - id: reads
    match: { access: read, tables: [public.*] }
    action: allow
  - id: shape
    match: { fingerprints: ["UPDATE a SET x = ? WHERE id = ?"] }
    action: allow
`);

  it.each<[string, StatementFacts[], string, string]>([
    ['a read of public', [facts({ kind: 'select', tablesRead: [t('public.orders')] })], 'fp', 'allow'],
    ['an unqualified read resolves to public for allow rules', [facts({ kind: 'select', tablesRead: [t('orders')] })], 'fp', 'allow'],
    ['a read of another schema', [facts({ kind: 'select', tablesRead: [t('vault.keys')] })], 'fp', 'deny:default'],
    ['a write', [facts({ kind: 'insert', tablesWritten: [t('public.orders')] })], 'fp', 'deny:default'],
    ['a read whose nested write is not allowed', [facts({ kind: 'select', tablesRead: [t('public.a')], nested: [facts({ kind: 'delete', tablesWritten: [t('public.a')] })] })], 'fp', 'deny:default'],
    ['the allowed shape', [facts({ kind: 'update', tablesWritten: [t('a')] })], 'fp:UPDATE a SET x = ? WHERE id = ?', 'allow'],
  ])('defaults: deny — %s', (_n, stmts, fp, expected) => {
    const d = decide(strict, stmts, who(), fp);
    expect(d.kind === 'allow' ? 'allow' : `${d.kind}:${d.ruleId}`).toBe(expected);
  });

  it('denies what cannot be parsed, with its own message', () => {
    const rules = strict.rules;
    const d = judge(strict, rules, { ok: false, dialect: 'postgres', failure: { kind: 'nul_byte' } }, () => undefined).decision;
    expect(d).toMatchObject({ kind: 'deny', ruleId: 'parse-error', reason: expect.stringContaining('NUL byte') });
  });
});
