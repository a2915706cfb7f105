import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { STATEMENT_KINDS, type Dialect } from '@sqlwarden/sql';
import { didYouMean, readYaml, type Field, type MapField, type YamlIssue } from '@sqlwarden/yaml';
import { compileGlob, type Glob } from './glob.js';
import { readSettingPatterns } from './setting-patterns.js';
import {
  DETECTORS,
  type Detector,
  type FactsMatch,
  type LocalInfileGrant,
  type MaskFunction,
  type MaskRule,
  type PolicyDefaults,
  type PolicySet,
  type Rule,
  type TablePattern,
  type WhoMatch,
} from './model.js';

export interface PolicyIssue extends YamlIssue {
  file: string;
}

export type PolicyLoadResult = { ok: true; policy: PolicySet } | { ok: false; issues: PolicyIssue[] };

export interface LoadOptions {
  /** false: masks that use `hash` are refused (no key configured); undefined: not checked (lint without a config) */
  hashKeyConfigured?: boolean;
  /** computes the fingerprint of a SQL pattern (`?` for literals) in a dialect; null when it does not parse */
  fingerprint(dialect: Dialect, sql: string): string | null;
  /** the version number the new set gets */
  version?: number;
  env?: Readonly<Record<string, string | undefined>>;
}

const ID = /^[a-z0-9][a-z0-9._-]{0,99}$/i;
const TOP_KEYS = ['version', 'defaults', 'rules', 'masks', 'mysql'] as const;
const MYSQL_KEYS = ['local_infile'] as const;
const GRANT_KEYS = ['description', 'agents', 'labels', 'targets'] as const;
const DEFAULT_KEYS = ['action', 'on_parse_error', 'review_timeout', 'message'] as const;
const RULE_KEYS = ['id', 'description', 'match', 'action', 'message', 'timeout', 'approvers'] as const;
const MATCH_KEYS = [
  'dialect',
  'kinds',
  'tables',
  'tables_read',
  'tables_written',
  'schemas',
  'functions',
  'settings',
  'global_settings',
  'where',
  'access',
  'copy',
  'opaque',
  'writes_file',
  'reads_file',
  'limit',
  'returning',
  'fingerprints',
  'agents',
  'labels',
  'targets',
] as const;
const MASK_KEYS = ['id', 'description', 'columns', 'detectors', 'function', 'keep_first', 'keep_last', 'replacement', 'deny_in_predicates', 'agents', 'labels', 'targets'] as const;

export const BUILTIN_DEFAULTS: PolicyDefaults = {
  action: 'allow',
  onParseError: 'deny',
  reviewTimeoutMs: 5 * 60_000,
  message: 'no policy rule allows this statement',
};

/** The policy files of a directory: `*.yaml` / `*.yml` directly in it (subdirectories such as examples/ are not loaded). */
export function policyFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/i.test(f))
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile())
    .sort();
}

/** Loads, validates and merges every policy file of a directory. Never throws for bad content. */
export function loadPolicyDir(dir: string, opts: LoadOptions): PolicyLoadResult {
  let files: string[];
  try {
    files = policyFiles(dir);
  } catch (err) {
    return { ok: false, issues: [{ file: dir, line: 0, path: '', message: `cannot read the policy directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }] };
  }
  if (files.length === 0) return { ok: false, issues: [{ file: dir, line: 0, path: '', message: 'no policy files (*.yaml) in the policy directory' }] };
  const sources: { file: string; text: string }[] = [];
  for (const file of files) {
    try {
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (err) {
      return { ok: false, issues: [{ file, line: 0, path: '', message: `cannot read: ${(err as Error).message}` }] };
    }
  }
  return loadPolicySources(sources, opts);
}

/** Validates and merges policy texts (one per file). */
export function loadPolicySources(sources: { file: string; text: string }[], opts: LoadOptions): PolicyLoadResult {
  const issues: PolicyIssue[] = [];
  const rules: Rule[] = [];
  const masks: MaskRule[] = [];
  const localInfile: LocalInfileGrant[] = [];
  let defaults: PolicyDefaults | undefined;
  let defaultsFrom = '';
  const ids = new Map<string, string>();

  for (const { file, text } of sources) {
    const parsed = readYaml(text, opts.env ?? {});
    if (!parsed.ok) {
      issues.push(...parsed.issues.map((i) => ({ ...i, file })));
      continue;
    }
    const reader = parsed.reader;
    const root = reader.root();
    const top = root.present ? root.map(TOP_KEYS) : undefined;
    if (top) {
      const version = top.get('version').int(1, 1);
      void version;
      if (top.has('defaults')) {
        const d = readDefaults(top.get('defaults'));
        if (defaults && d) top.get('defaults').fail(`defaults are already set in ${basename(defaultsFrom)}; set them in one file only`);
        else if (d) {
          defaults = d;
          defaultsFrom = file;
        }
      }
      for (const item of top.get('rules').list() ?? []) {
        const r = readRule(item, file, opts);
        if (!r) continue;
        const prev = ids.get(r.id.toLowerCase());
        if (prev) item.fail(`duplicate rule id "${r.id}" (also in ${basename(prev)})`);
        else {
          ids.set(r.id.toLowerCase(), file);
          rules.push(r);
        }
      }
      for (const item of top.get('masks').list() ?? []) {
        const m = readMask(item, file);
        if (!m) continue;
        if (m.function === 'hash' && opts.hashKeyConfigured === false) {
          item.fail(`mask "${m.id}": the hash function needs masking.hashKey (at least 16 bytes) in sqlwarden.yaml`);
          continue;
        }
        const prev = ids.get(m.id.toLowerCase());
        if (prev) item.fail(`duplicate id "${m.id}" (also in ${basename(prev)})`);
        else {
          ids.set(m.id.toLowerCase(), file);
          masks.push(m);
        }
      }
      if (top.has('mysql')) {
        const my = top.get('mysql').map(MYSQL_KEYS);
        for (const item of my?.get('local_infile').list() ?? []) {
          const g = readGrant(item, file);
          if (g) localInfile.push(g);
        }
      }
    }
    issues.push(...reader.issues.map((i) => ({ ...i, file })));
  }
  if (issues.length > 0) return { ok: false, issues: issues.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1)) };
  return {
    ok: true,
    policy: { version: opts.version ?? 1, loadedAt: new Date(), files: sources.map((s) => s.file), defaults: defaults ?? BUILTIN_DEFAULTS, rules, masks, localInfile },
  };
}

export function formatPolicyIssue(i: PolicyIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}` : i.file;
  return i.path ? `${where}: ${i.path}: ${i.message}` : `${where}: ${i.message}`;
}

function readDefaults(f: Field): PolicyDefaults | undefined {
  const m = f.map(DEFAULT_KEYS);
  if (!m) return undefined;
  return {
    action: m.get('action').oneOf(['allow', 'deny'] as const) ?? BUILTIN_DEFAULTS.action,
    onParseError: m.get('on_parse_error').oneOf(['deny'] as const) ?? 'deny',
    reviewTimeoutMs: m.get('review_timeout').duration(1000) ?? BUILTIN_DEFAULTS.reviewTimeoutMs,
    message: m.get('message').string() ?? BUILTIN_DEFAULTS.message,
  };
}

/** A string or a list of strings. */
function strings(f: Field): string[] | undefined {
  if (!f.present) return undefined;
  if (!f.isList) {
    const one = f.string();
    return one === undefined ? undefined : [one];
  }
  const out: string[] = [];
  for (const item of f.list() ?? []) {
    const s = item.string();
    if (s !== undefined) out.push(s);
  }
  if (out.length === 0) {
    f.fail('must not be empty');
    return undefined;
  }
  return out;
}

function globs(f: Field): Glob[] | undefined {
  return strings(f)?.map(compileGlob);
}

function tablePatterns(f: Field): TablePattern[] | undefined {
  const list = strings(f);
  if (!list) return undefined;
  const out: TablePattern[] = [];
  for (const source of list) {
    const parts = splitDotted(source);
    if (parts.length === 1) out.push({ source, table: compileGlob(parts[0]) });
    else if (parts.length === 2) out.push({ source, schema: compileGlob(parts[0]), table: compileGlob(parts[1]) });
    else f.fail(`"${source}" must be table or schema.table`);
  }
  return out;
}

/** Splits "a.b" on dots outside double quotes; `**` keeps its meaning inside a part. */
export function splitDotted(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '.' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function readWho(m: MapField): WhoMatch {
  const who: WhoMatch = {};
  const agents = globs(m.get('agents'));
  if (agents) who.agents = agents;
  const targets = globs(m.get('targets'));
  if (targets) who.targets = targets;
  const labels = m.get('labels').dict();
  if (labels) {
    who.labels = [];
    for (const [k, v] of labels) {
      const value = v.string();
      if (value !== undefined) who.labels.push([k, compileGlob(value)]);
    }
  }
  return who;
}

function readMatch(m: MapField, opts: LoadOptions): FactsMatch {
  const match: FactsMatch = {};
  const dialect = m.get('dialect').oneOf(['postgres', 'mysql'] as const);
  if (dialect) match.dialect = dialect;
  const kindsField = m.get('kinds');
  const kinds = strings(kindsField);
  if (kinds) {
    match.kinds = [];
    for (const k of kinds) {
      const g = compileGlob(k);
      if (!STATEMENT_KINDS.some((known) => g.test(known))) {
        const hint = didYouMean(k, STATEMENT_KINDS);
        kindsField.fail(`"${k}" matches no statement kind${hint ? `; did you mean "${hint}"?` : ''}`);
      } else match.kinds.push(g);
    }
  }
  const tables = tablePatterns(m.get('tables'));
  if (tables) match.tables = tables;
  const tr = tablePatterns(m.get('tables_read'));
  if (tr) match.tablesRead = tr;
  const tw = tablePatterns(m.get('tables_written'));
  if (tw) match.tablesWritten = tw;
  const schemas = globs(m.get('schemas'));
  if (schemas) match.schemas = schemas;
  const functions = globs(m.get('functions'));
  if (functions) match.functions = functions;
  const settings = readSettingPatterns(m.get('settings'));
  if (settings) match.settings = settings;
  const globalSettings = m.get('global_settings').bool();
  if (globalSettings !== undefined) match.globalSettings = globalSettings;
  if (m.get('where').oneOf(['unbounded'] as const)) match.unboundedWrite = true;
  const access = m.get('access').oneOf(['read', 'write'] as const);
  if (access) match.access = access;
  const copyField = m.get('copy');
  if (copyField.present) {
    const c = copyField.map(['program', 'file', 'direction']);
    if (c) {
      match.copy = {};
      const program = c.get('program').bool();
      if (program !== undefined) match.copy.program = program;
      const file = c.get('file').bool();
      if (file !== undefined) match.copy.file = file;
      const direction = c.get('direction').oneOf(['from', 'to'] as const);
      if (direction) match.copy.direction = direction;
    }
  }
  const opaque = m.get('opaque').bool();
  if (opaque !== undefined) match.opaque = opaque;
  const writesFile = m.get('writes_file').bool();
  if (writesFile !== undefined) match.writesFile = writesFile;
  const readsFile = m.get('reads_file').bool();
  if (readsFile !== undefined) match.readsFile = readsFile;
  const limit = m.get('limit').oneOf(['present', 'absent'] as const);
  if (limit) match.limit = limit;
  const returning = m.get('returning').bool();
  if (returning !== undefined) match.returning = returning;
  const fpField = m.get('fingerprints');
  const fps = strings(fpField);
  if (fps) {
    match.fingerprints = [];
    for (const source of fps) {
      for (const d of dialect ? [dialect] : (['postgres', 'mysql'] as const)) {
        const fp = opts.fingerprint(d, source);
        if (fp !== null) match.fingerprints.push({ dialect: d, fingerprint: fp, source });
        else if (dialect) fpField.fail(`"${source}" is not valid ${d} SQL (write ? for literals)`);
      }
      if (!dialect && !match.fingerprints.some((x) => x.source === source)) fpField.fail(`"${source}" is not valid SQL in either dialect (write ? for literals)`);
    }
  }
  return match;
}

function readRule(item: Field, file: string, opts: LoadOptions): Rule | undefined {
  const m = item.map(RULE_KEYS);
  if (!m) return undefined;
  const id = m.required('id').string();
  if (id !== undefined && !ID.test(id)) m.get('id').fail('must be letters, digits, ".", "_" or "-" (up to 100), starting with a letter or digit');
  const action = m.required('action').oneOf(['allow', 'deny', 'review'] as const);
  const matchMap = m.required('match').map(MATCH_KEYS);
  const match = matchMap && readMatch(matchMap, opts);
  const who = matchMap ? readWho(matchMap) : {};
  if (id === undefined || action === undefined || !match) return undefined;
  const rule: Rule = { id, file, line: item.line, who, match, action };
  const description = m.get('description').string();
  if (description) rule.description = description;
  const message = m.get('message').string();
  if (message) rule.message = message;
  const timeout = m.get('timeout').duration(1000);
  if (timeout !== undefined) {
    if (action !== 'review') m.get('timeout').fail('only review rules have a timeout');
    rule.timeoutMs = timeout;
  }
  const approvers = strings(m.get('approvers'));
  if (approvers) {
    if (action !== 'review') m.get('approvers').fail('only review rules have approvers');
    rule.approvers = approvers;
  }
  return rule;
}

/** One `mysql.local_infile` entry: who may (agents, labels, targets; at least one, `agents: ["*"]` for everyone). */
function readGrant(item: Field, file: string): LocalInfileGrant | undefined {
  const m = item.map(GRANT_KEYS);
  if (!m) return undefined;
  const who = readWho(m);
  if (!who.agents && !who.labels && !who.targets) {
    item.fail('an entry needs agents, labels or targets (agents: ["*"] for every agent)');
    return undefined;
  }
  const g: LocalInfileGrant = { file, line: item.line, who };
  const description = m.get('description').string();
  if (description) g.description = description;
  return g;
}

function readMask(item: Field, file: string): MaskRule | undefined {
  const m = item.map(MASK_KEYS);
  if (!m) return undefined;
  const id = m.required('id').string();
  if (id !== undefined && !ID.test(id)) m.get('id').fail('must be letters, digits, ".", "_" or "-" (up to 100), starting with a letter or digit');
  const columns = strings(m.get('columns')) ?? [];
  for (const c of columns) if (splitDotted(c).length > 3) m.get('columns').fail(`"${c}" must be column, table.column or schema.table.column`);
  const detectorsField = m.get('detectors');
  const detectors: Detector[] = [];
  for (const d of strings(detectorsField) ?? []) {
    if ((DETECTORS as readonly string[]).includes(d)) detectors.push(d as Detector);
    else {
      const hint = didYouMean(d, DETECTORS);
      detectorsField.fail(`unknown detector "${d}"${hint ? `; did you mean "${hint}"?` : ''} (known: ${DETECTORS.join(', ')})`);
    }
  }
  if (columns.length === 0 && detectors.length === 0 && m.get('columns').present === false && detectorsField.present === false) {
    item.fail('a mask needs columns, detectors or both');
  }
  const fn = m.required('function').oneOf(['redact', 'partial', 'email', 'hash', 'null'] as const) as MaskFunction | undefined;
  const keepFirst = m.get('keep_first').int(0, 64);
  const keepLast = m.get('keep_last').int(0, 64);
  if ((keepFirst !== undefined || keepLast !== undefined) && fn !== 'partial') m.get(keepFirst !== undefined ? 'keep_first' : 'keep_last').fail('only the partial function keeps characters');
  const replacement = m.get('replacement').string();
  if (replacement !== undefined && fn !== 'redact') m.get('replacement').fail('only the redact function takes a replacement');
  const denyInPredicates = m.get('deny_in_predicates').bool() ?? false;
  const who = readWho(m);
  if (id === undefined || fn === undefined) return undefined;
  const mask: MaskRule = { id, file, line: item.line, who, columns, detectors, function: fn, denyInPredicates };
  const description = m.get('description').string();
  if (description) mask.description = description;
  if (keepFirst !== undefined) mask.keepFirst = keepFirst;
  if (keepLast !== undefined) mask.keepLast = keepLast;
  if (replacement !== undefined) mask.replacement = replacement;
  return mask;
}
