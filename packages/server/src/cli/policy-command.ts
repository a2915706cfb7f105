import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { analyze, initAnalyzers, AnalysisCache, type Dialect, type StatementFacts, type TableRef } from '@sqlwarden/sql';
import { formatPolicyIssue, loadPolicyDir, patternFingerprint, PolicyDecider, type JudgedMessage, type PolicySet, type Principal } from '@sqlwarden/policy';
import { readYaml, formatIssue } from '@sqlwarden/yaml';
import { loadConfig } from '../config/load.js';
import type { CliIo } from './io.js';
import type { Command, PolicySource } from './parse-args.js';

type PolicyCommand = Extract<Command, { kind: 'policy' }>;

function policyDir(src: PolicySource, env: NodeJS.ProcessEnv): string {
  if ('dir' in src) return resolve(src.dir);
  if ('config' in src) return loadConfig(src.config, env).policies;
  return resolve('policies');
}

function load(dir: string): { ok: true; policy: PolicySet } | { ok: false; text: string } {
  const r = loadPolicyDir(dir, { fingerprint: (d, sql) => patternFingerprint(d, sql, analyze), env: process.env });
  return r.ok ? r : { ok: false, text: r.issues.map(formatPolicyIssue).join('\n') };
}

function principal(agent: string, labels: Record<string, string>, target: string): Principal {
  return Object.freeze({ agent, labels: Object.freeze({ ...labels }), target, credentialId: 'policy-cli', user: 'policy-cli', sessionId: 'policy-cli' });
}

function tableName(t: TableRef): string {
  return [t.catalog, t.schema, t.name].filter((x) => x !== undefined).join('.');
}

function describeFacts(f: StatementFacts): string[] {
  const out = [`kind ${f.kind} (${f.nodeType})`];
  if (f.tablesRead.length) out.push(`reads ${f.tablesRead.map(tableName).join(', ')}`);
  if (f.tablesWritten.length) out.push(`writes ${f.tablesWritten.map(tableName).join(', ')}`);
  if (f.functions.length) out.push(`calls ${f.functions.join(', ')}`);
  if (f.kind === 'update' || f.kind === 'delete' || f.kind === 'merge') out.push(f.unboundedWrite ? 'WHERE: unbounded' : 'WHERE: bounded');
  if (f.hasLimit) out.push('has LIMIT');
  if (f.hasReturning) out.push('has RETURNING');
  if (f.writesFile) out.push('writes a server file');
  if (f.settings.length) out.push(`sets ${f.settings.map((s) => (s.value === undefined ? s.name : `${s.name}=${s.value}`)).join(', ')}`);
  if (f.copy) out.push(`COPY ${f.copy.direction}${f.copy.program ? ' PROGRAM' : ''}${f.copy.file ? ' file' : ''}${f.copy.stdio ? ' STDIO' : ''}`);
  if (f.opaqueBodies.length) out.push(`runs code sqlwarden cannot read (${f.opaqueBodies.length})`);
  return out;
}

function explainText(j: JudgedMessage): string {
  const d = j.decision;
  const lines = [d.kind === 'allow' ? 'decision: allow' : `decision: ${d.kind} by rule "${d.ruleId}": ${d.reason}`];
  if (d.kind === 'review') lines.push(`review timeout: ${Math.round(d.timeoutMs / 1000)}s`);
  if (!j.analysis.ok) lines.push(`analysis failed: ${j.analysis.failure.kind}`);
  for (const s of j.statements) {
    lines.push(`statement ${s.path}: ${s.outcome} (${s.decidedBy})${s.matched.length ? `; matched ${s.matched.join(', ')}` : ''}`);
    for (const fact of describeFacts(s.facts)) lines.push(`  ${fact}`);
  }
  return lines.join('\n') + '\n';
}

interface TestCase {
  line: number;
  name: string;
  sql: string;
  dialect: Dialect;
  agent: string;
  labels: Record<string, string>;
  target: string;
  expect: 'allow' | 'deny' | 'review';
  rule?: string;
}

function readCases(file: string, env: NodeJS.ProcessEnv): TestCase[] {
  const text = readFileSync(file, 'utf8');
  const parsed = readYaml(text, env);
  if (!parsed.ok) throw new Error(parsed.issues.map((i) => formatIssue(file, i)).join('\n'));
  const reader = parsed.reader;
  const cases: TestCase[] = [];
  const top = reader.root().map(['cases']);
  for (const item of top?.required('cases').list() ?? []) {
    const m = item.map(['name', 'sql', 'dialect', 'agent', 'labels', 'target', 'expect', 'rule']);
    if (!m) continue;
    const sql = m.required('sql').string();
    const expect = m.required('expect').oneOf(['allow', 'deny', 'review'] as const);
    const labels: Record<string, string> = {};
    for (const [k, v] of m.get('labels').dict() ?? []) {
      const value = v.string();
      if (value !== undefined) labels[k] = value;
    }
    if (sql === undefined || expect === undefined) continue;
    const c: TestCase = {
      line: item.line,
      name: m.get('name').string() ?? sql.replace(/\s+/g, ' ').slice(0, 60),
      sql,
      dialect: m.get('dialect').oneOf(['postgres', 'mysql'] as const) ?? 'postgres',
      agent: m.get('agent').string() ?? 'test-agent',
      labels,
      target: m.get('target').string() ?? 'app',
      expect,
    };
    const rule = m.get('rule').string();
    if (rule !== undefined) c.rule = rule;
    cases.push(c);
  }
  if (reader.issues.length) throw new Error(reader.issues.map((i) => formatIssue(file, i)).join('\n'));
  return cases;
}

export async function policyCommand(cmd: PolicyCommand, io: CliIo): Promise<number> {
  const dir = policyDir(cmd.policies, io.env);
  await initAnalyzers();
  const loaded = load(dir);
  if (!loaded.ok) {
    io.stderr.write(loaded.text.split('\n').map((l) => `sqlwarden: ${l}\n`).join(''));
    return 1;
  }
  const policy = loaded.policy;
  switch (cmd.action) {
    case 'lint':
      io.stdout.write(`ok: ${policy.rules.length} rules and ${policy.masks.length} masks in ${policy.files.length} file(s) under ${dir}; defaults: ${policy.defaults.action}\n`);
      return 0;
    case 'explain': {
      const decider = new PolicyDecider(policy, new AnalysisCache(analyze));
      const j = decider.judgeMessage({ dialect: cmd.dialect, carrier: 'query', sql: cmd.sql }, principal(cmd.agent, cmd.labels, cmd.target));
      if (cmd.json) io.stdout.write(JSON.stringify({ decision: j.decision, statements: j.statements }, null, 2) + '\n');
      else io.stdout.write(explainText(j));
      return 0;
    }
    case 'test': {
      const cases = readCases(cmd.file, io.env);
      const decider = new PolicyDecider(policy, new AnalysisCache(analyze));
      let failed = 0;
      const results = cases.map((c) => {
        const d = decider.decide({ dialect: c.dialect, carrier: 'query', sql: c.sql }, principal(c.agent, c.labels, c.target));
        const ruleOk = c.rule === undefined || (d.kind !== 'allow' && d.ruleId === c.rule);
        const ok = d.kind === c.expect && ruleOk;
        if (!ok) failed++;
        return { case: c, decision: d, ok };
      });
      if (cmd.json) io.stdout.write(JSON.stringify(results.map((r) => ({ line: r.case.line, name: r.case.name, ok: r.ok, expected: r.case.expect, rule: r.case.rule, decision: r.decision })), null, 2) + '\n');
      else {
        for (const r of results) {
          const got = r.decision.kind === 'allow' ? 'allow' : `${r.decision.kind} (${r.decision.ruleId})`;
          const want = r.case.rule ? `${r.case.expect} (${r.case.rule})` : r.case.expect;
          io.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${cmd.file}:${r.case.line} ${r.case.name}${r.ok ? '' : `: expected ${want}, got ${got}`}\n`);
        }
        io.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
      }
      return failed === 0 ? 0 : 1;
    }
  }
}
