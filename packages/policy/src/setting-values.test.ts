/**
 * Value-aware `settings` entries: the constants the analyzers extract (both dialects, real analyzers),
 * each matcher form on small inline policies, list splitting, resets, non-constant values, loader
 * validation, and the shipped default policy on what clients and ORMs send on connect.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze, AnalysisCache, initAnalyzers, stopPostgresAnalyzer, type Dialect, type SettingFact } from '@sqlwarden/sql';
import type { Principal } from './decision.js';
import { formatPolicyIssue, loadPolicyDir, loadPolicySources } from './load-policies.js';
import { patternFingerprint } from './pattern-fingerprint.js';
import { PolicyDecider } from './policy-decider.js';
import { splitSettingList } from './setting-patterns.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fingerprint = (d: Dialect, sql: string): string | null => patternFingerprint(d, sql, analyze);

beforeAll(async () => {
  await initAnalyzers();
});

// the worker that analyses large statements must not outlive the suite
afterAll(() => stopPostgresAnalyzer());

const principal = (): Principal => ({ agent: 'agent-1', labels: {}, target: 'app', credentialId: 'cred', user: 'sw_test', sessionId: 'sess' });

function verdict(decider: PolicyDecider, dialect: Dialect, sql: string): string {
  const j = decider.judgeMessage({ dialect, carrier: 'query', sql }, principal());
  if (!j.analysis.ok) return `not analysed: ${j.analysis.failure.kind}`;
  const d = j.decision;
  return d.kind === 'allow' ? 'allow' : `${d.kind}:${d.ruleId}`;
}

function inline(text: string): PolicyDecider {
  const r = loadPolicySources([{ file: 'inline.yaml', text }], { fingerprint });
  if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
  return new PolicyDecider(r.policy, new AnalysisCache(analyze));
}

/** name, constant and reset of every setting of the first statement (nested ones included) */
function constants(dialect: Dialect, sql: string): [string, string | undefined, boolean][] {
  const a = analyze(dialect, sql);
  if (!a.ok) throw new Error(`${sql}: ${JSON.stringify(a.failure)}`);
  const out: [string, string | undefined, boolean][] = [];
  const walk = (settings: SettingFact[], nested: typeof a.statements): void => {
    for (const s of settings) out.push([s.name, s.constant, s.reset === true]);
    for (const n of nested) walk(n.settings, n.nested);
  };
  walk(a.statements[0]!.settings, a.statements[0]!.nested);
  return out;
}

type C = [name: string, constant: string | undefined, reset: boolean];
const R = (name: string): C => [name, undefined, true];
const K = (name: string, constant: string): C => [name, constant, false];
const N = (name: string): C => [name, undefined, false];

describe('setting constants: MySQL', () => {
  it.each<[string, C[]]>([
    ['SET NAMES utf8mb4', [K('names', 'utf8mb4')]],
    ["SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci'", [K('names', 'utf8mb4')]],
    ['SET NAMES DEFAULT', [R('names')]],
    ['/*!40101 SET NAMES utf8mb4 */', [K('names', 'utf8mb4')]],
    ["SET SESSION sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE'", [K('sql_mode', 'STRICT_TRANS_TABLES,NO_ZERO_DATE')]],
    ["SET sql_mode = 'it''s'", [K('sql_mode', "it's")]],
    ["SET sql_mode = 'a\\'b\\\\c'", [K('sql_mode', "a'b\\c")]],
    ['SET sql_mode = "dq"', [K('sql_mode', 'dq')]],
    ["SET sql_mode = 'ANSI' 'QUOTES'", [K('sql_mode', 'ANSIQUOTES')]], // adjacent literals are one string
    ["SET sql_mode = /* c */ 'ANSI'", [K('sql_mode', 'ANSI')]],
    ["SET sql_mode = ''", [K('sql_mode', '')]],
    ['SET sql_mode = DEFAULT', [R('sql_mode')]],
    ["SET sql_mode = 'DEFAULT'", [K('sql_mode', 'DEFAULT')]], // a string spelling DEFAULT is a value
    ['SET character_set_results = NULL', [K('character_set_results', 'NULL')]],
    ['SET autocommit = 1', [K('autocommit', '1')]],
    ['SET autocommit = ON', [K('autocommit', 'ON')]],
    ['SET x = TRUE', [K('x', 'TRUE')]],
    ['SET x = 1.5e3', [K('x', '1.5e3')]],
    ['SET x = -1', [K('x', '-1')]],
    ['SET @v := 5', [K('@v', '5')]],
    ["SELECT /*+ SET_VAR(sql_mode='ANSI_QUOTES') */ 1", [K('sql_mode', 'ANSI_QUOTES')]],
    // not constants
    ["SET @@SESSION.sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')", [N('sql_mode')]],
    ['SET sql_mode = @@global.sql_mode', [N('sql_mode')]],
    ['SET character_set_client = @saved_cs_client', [N('character_set_client')]],
    ["SET sql_mode = (SELECT 'ANSI')", [N('sql_mode')]],
    ["SET sql_mode = ('ANSI')", [N('sql_mode')]],
    ["SET sql_mode = _utf8mb4'ANSI'", [N('sql_mode')]],
    ["SET sql_mode = N'ANSI'", [N('sql_mode')]],
    ['SET sql_mode = 0x414E5349', [N('sql_mode')]], // a hex literal is a string in MySQL
    ['SET sql_mode = 1 + 3', [N('sql_mode')]],
    ["SET sql_mode = 'ANSI' COLLATE utf8mb4_bin", [N('sql_mode')]],
    ['SET NAMES `utf8`', [N('names')]],
    ["SELECT /*+ SET_VAR(sql_mode=CONCAT('A', 'B')) */ 1", [N('sql_mode')]],
    // SET CHARACTER SET: character_set_connection becomes the database's character set
    ['SET CHARACTER SET latin1', [K('character_set_client', 'latin1'), K('character_set_results', 'latin1'), N('character_set_connection')]],
    ['SET autocommit = 1, sql_mode = DEFAULT', [K('autocommit', '1'), R('sql_mode')]],
    ["SET PASSWORD = 'secret'", [N('password')]], // never copied into facts
  ])('%s', (sql, expected) => {
    expect(constants('mysql', sql)).toEqual(expected);
  });

  it('never copies a password into a constant', () => {
    const a = analyze('mysql', "SET PASSWORD FOR 'app'@'%' = 'hunter2'");
    expect(JSON.stringify(a)).not.toContain('hunter2');
  });
});

describe('setting constants: Postgres', () => {
  it.each<[string, C[]]>([
    ["SET client_encoding TO 'UTF8'", [K('client_encoding', 'UTF8')]],
    ["SET NAMES 'SJIS'", [K('client_encoding', 'SJIS')]],
    ['SET standard_conforming_strings = on', [K('standard_conforming_strings', 'on')]],
    ['SET standard_conforming_strings = true', [K('standard_conforming_strings', 'true')]],
    ['SET intervalstyle = iso_8601', [K('intervalstyle', 'iso_8601')]],
    ["SET SESSION timezone TO 'UTC'", [K('timezone', 'UTC')]],
    ["SET TIME ZONE 'UTC'", [K('timezone', 'UTC')]],
    ['SET extra_float_digits = 3', [K('extra_float_digits', '3')]],
    ['SET x.y = -1.5', [K('x.y', '-1.5')]],
    ['SET datestyle TO ISO, MDY', [K('datestyle', 'iso, mdy')]],
    // list elements of search_path are quoted as the server stores them
    ['SET search_path TO "$user", public', [K('search_path', '"$user", public')]],
    ["SET search_path TO 'public'", [K('search_path', 'public')]],
    ["SET search_path = 'a, b'", [K('search_path', '"a, b"')]],
    ["SET SCHEMA 'Foo'", [K('search_path', '"Foo"')]],
    ['SET search_path = "My""Schema"', [K('search_path', '"My""Schema"')]],
    ['SET LOCAL search_path = public', [K('search_path', 'public')]],
    ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', [K('transaction_isolation', 'serializable')]],
    // resets
    ['SET standard_conforming_strings TO DEFAULT', [R('standard_conforming_strings')]],
    ['SET search_path = default', [R('search_path')]],
    ['RESET client_encoding', [R('client_encoding')]],
    ['SET TIME ZONE LOCAL', [R('timezone')]],
    ['RESET ALL', [R('*')]],
    ['SET SESSION AUTHORIZATION DEFAULT', [R('session_authorization')]],
    // set_config: a constant only when the name and the value are literals
    ["SELECT set_config('search_path', 'Public, x', false)", [K('search_path', 'Public, x')]],
    ["SELECT pg_catalog.set_config('search_path', '', false)", [K('search_path', '')]],
    ["SELECT set_config('search_path', 'default', false)", [K('search_path', 'default')]], // a value, not a reset
    ["SELECT set_config('search_path', 'pub' || 'lic', false)", [N('search_path')]],
    ["SELECT set_config('search_path', current_setting('x.y'), false)", [N('search_path')]],
    ["SELECT set_config('search_path', NULL, false)", [N('search_path')]],
    ["SELECT set_config('search_path', 'x'::text, false)", [N('search_path')]],
    ["SELECT set_config('search_' || 'path', 'public', false)", [N('search_path')]],
    ["SELECT set_config(lower('ROLE'), 'postgres', false)", [N('*')]],
    // not constants
    ["SET TIME ZONE INTERVAL '+00:00' HOUR TO MINUTE", [N('timezone')]],
    ["CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path FROM CURRENT AS 'select 1'", [N('search_path')]],
    ["CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = public AS 'select 1'", [K('search_path', 'public')]],
  ])('%s', (sql, expected) => {
    expect(constants('postgres', sql)).toEqual(expected);
  });
});

describe('splitting list values', () => {
  it.each<[string, [string, boolean][]]>([
    ['STRICT_TRANS_TABLES,NO_ZERO_DATE', [['STRICT_TRANS_TABLES', false], ['NO_ZERO_DATE', false]]],
    [' a , b ,, ', [['a', false], ['b', false]]],
    ['', []],
    [',', []],
    ['"$user", public', [['$user', true], ['public', false]]],
    ['"My""Schema"', [['My"Schema', true]]],
    ['"a, b"', [['"a', false], ['b"', false]]], // commas split even inside quotes: neither half is a known name
    ['""', [['', true]]],
  ])('%j', (value, expected) => {
    expect(splitSettingList(value).map((i) => [i.text, i.quoted])).toEqual(expected);
  });
});

describe('settings entries on inline policies', () => {
  const POLICY = `
version: 1
defaults: { action: allow }
rules:
  - id: names-only
    match: { settings: [session_replication_role] }
    action: deny
  - id: bad-values
    match:
      settings:
        - { name: [work_mem, maintenance_work_mem], values: ["*GB", "1??MB"] }
    action: deny
  - id: encodings
    match:
      settings:
        - { name: client_encoding, except_values: [utf8, latin*, DEFAULT] }
    action: deny
  - id: both
    match:
      settings:
        - { name: datestyle, values: ["*"], except_values: ["iso, mdy", DEFAULT] }
    action: review
  - id: modes
    match:
      dialect: mysql
      settings:
        - { name: sql_mode, list: true, except_values: &ok [STRICT_TRANS_TABLES, NO_ZERO_DATE] }
        - { name: "x.modes", list: true, except_values: [*ok, TRADITIONAL] }
    action: deny
  - id: path
    match:
      dialect: postgres
      settings:
        - { name: search_path, list: true, except_values: [public, '"$user"'] }
    action: deny
  - id: deny-listed
    match:
      dialect: mysql
      settings:
        - { name: optimizer_switch, list: true, values: ["index_merge=off"] }
    action: deny
  - id: resets
    match:
      settings:
        - { name: lock_timeout, values: [DEFAULT] }
    action: deny
`;
  let d: PolicyDecider;
  beforeAll(() => {
    d = inline(POLICY);
  });

  it.each<[Dialect, string, string]>([
    // a plain name: any value, a reset, a non-constant
    ['postgres', 'SET session_replication_role = origin', 'deny:names-only'],
    ['postgres', 'RESET session_replication_role', 'deny:names-only'],
    ['postgres', "SELECT set_config('session_replication_role', current_setting('x.y'), false)", 'deny:names-only'],
    // values: the constant matches one of the globs (case-insensitive); name lists
    ['postgres', "SET work_mem = '4GB'", 'deny:bad-values'],
    ['postgres', "SET maintenance_work_mem = '4gb'", 'deny:bad-values'],
    ['postgres', "SET work_mem = '128MB'", 'deny:bad-values'],
    ['postgres', "SET work_mem = '64MB'", 'allow'],
    ['postgres', 'RESET work_mem', 'allow'], // a reset is not "*GB"
    ['postgres', "SELECT set_config('work_mem', current_setting('x.y'), false)", 'deny:bad-values'], // could be 4GB
    ['mysql', 'SET SESSION work_mem = @x', 'deny:bad-values'],
    // except_values: matches when the value is not one of them, or not a constant
    ['postgres', "SET client_encoding = 'UTF8'", 'allow'],
    ['postgres', "SET client_encoding = 'latin9'", 'allow'],
    ['postgres', "SET client_encoding = 'SJIS'", 'deny:encodings'],
    ['postgres', 'RESET client_encoding', 'allow'], // DEFAULT lists resets
    ['postgres', "SET client_encoding = 'default'", 'deny:encodings'], // a value spelled default is not a reset
    ['postgres', "SELECT set_config('client_encoding', 'utf' || '8', false)", 'deny:encodings'],
    // values and except_values together: in values and not in except_values
    ['postgres', "SET datestyle = 'German'", 'review:both'],
    ['postgres', 'SET datestyle = ISO, MDY', 'allow'],
    ['postgres', 'RESET datestyle', 'allow'],
    // list: true: any item outside except_values (items trimmed; empty items ignored; nested anchor lists)
    ['mysql', "SET sql_mode = 'STRICT_TRANS_TABLES, no_zero_date'", 'allow'],
    ['mysql', "SET sql_mode = 'STRICT_TRANS_TABLES,,'", 'allow'],
    ['mysql', "SET sql_mode = ''", 'allow'],
    ['mysql', "SET sql_mode = 'STRICT_TRANS_TABLES,ANSI_QUOTES'", 'deny:modes'],
    ['mysql', "SET sql_mode = CONCAT(@@sql_mode, ',STRICT_TRANS_TABLES')", 'deny:modes'],
    ['mysql', "SET `x`.modes = 'TRADITIONAL,NO_ZERO_DATE'", 'allow'],
    ['mysql', "SET `x`.modes = 'TRADITIONAL,ANSI'", 'deny:modes'],
    // without list: true the whole value is one item
    ['postgres', 'SET search_path = "$user", public', 'allow'],
    ['postgres', 'SET search_path = public, "Public"', 'deny:path'], // quoted names keep their case
    ['postgres', "SET search_path = 'PUBLIC'", 'deny:path'],
    ['postgres', "SELECT set_config('search_path', 'PUBLIC', false)", 'allow'], // unquoted: folded by the server
    ['postgres', "SELECT set_config('search_path', '\"PUBLIC\"', false)", 'deny:path'],
    // values with list: true: any item in values
    ['mysql', "SET optimizer_switch = 'mrr=on,index_merge=off'", 'deny:deny-listed'],
    ['mysql', "SET optimizer_switch = 'mrr=on'", 'allow'],
    // DEFAULT alone matches resets only
    ['postgres', 'RESET lock_timeout', 'deny:resets'],
    ['postgres', 'SET lock_timeout TO DEFAULT', 'deny:resets'],
    ['mysql', 'SET lock_timeout = DEFAULT', 'deny:resets'],
    ['mysql', "SET lock_timeout = 'DEFAULT'", 'allow'],
    // RESET ALL and computed names match every restriction
    ['postgres', 'RESET ALL', 'deny:names-only'],
  ])('[%s] %s → %s', (dialect, sql, expected) => {
    expect(verdict(d, dialect, sql)).toBe(expected);
  });

  it('allow rules: a non-constant value or an unknown setting name never matches; a list must be allowed item by item', () => {
    const strict = inline(`
defaults: { action: deny }
rules:
  - id: modes
    match:
      settings:
        - { name: sql_mode, list: true, values: [STRICT_*, NO_ZERO_DATE, DEFAULT] }
    action: allow
  - id: encodings
    match:
      settings:
        - { name: client_encoding, except_values: [SJIS] }
    action: allow
  - id: work
    match: { settings: ["work_*"] }
    action: allow
`);
    const rows: [Dialect, string, string][] = [
      ['mysql', "SET sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE'", 'allow'],
      ['mysql', 'SET sql_mode = DEFAULT', 'allow'],
      ['mysql', "SET sql_mode = 'STRICT_ALL_TABLES,ANSI_QUOTES'", 'deny:default'], // every item must be allowed
      ['mysql', "SET sql_mode = ''", 'deny:default'], // no items: nothing allowed it
      ['mysql', "SET sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')", 'deny:default'],
      ['postgres', "SET client_encoding = 'UTF8'", 'allow'],
      ['postgres', "SET client_encoding = 'SJIS'", 'deny:default'],
      ['postgres', "SELECT set_config('client_encoding', lower('UTF8'), false)", 'deny:default'],
      ['postgres', "SET work_mem = '1MB'", 'allow'], // the plain name glob
      ['postgres', "SELECT set_config(lower('WORK_MEM'), '1MB', false)", 'deny:default'], // an unknown name
    ];
    for (const [dialect, sql, expected] of rows) expect([sql, verdict(strict, dialect, sql)]).toEqual([sql, expected]);
  });
});

describe('settings entries: validation', () => {
  function issues(text: string): string {
    const r = loadPolicySources([{ file: 'p.yaml', text }], { fingerprint: () => 'fp' });
    return r.ok ? '' : r.issues.map(formatPolicyIssue).join('\n');
  }
  const rule = (settings: string): string => `rules:\n  - id: a\n    match:\n      settings:\n${settings}\n    action: deny\n`;

  it.each([
    ['an unknown key', '        - { name: sql_mode, except: [x] }', 'p.yaml:5: rules[0].match.settings[0].except: unknown key (allowed here: name, values, except_values, list)'],
    ['a missing name', '        - { values: [x] }', 'p.yaml:5: rules[0].match.settings[0].name: is required'],
    ['an empty values list', '        - { name: sql_mode, values: [] }', 'p.yaml:5: rules[0].match.settings[0].values: must not be empty'],
    ['an empty except_values list', '        - { name: sql_mode, except_values: [] }', 'rules[0].match.settings[0].except_values: must not be empty'],
    ['list without values', '        - { name: sql_mode, list: true }', 'rules[0].match.settings[0].list: list only applies with values or except_values'],
    ['a non-boolean list', '        - { name: sql_mode, values: [x], list: yes }', 'rules[0].match.settings[0].list: must be true or false'],
    ['a mapping as a value', '        - { name: sql_mode, values: [{ a: 1 }] }', 'rules[0].match.settings[0].values[0]: must be a single value, not a mapping'],
    ['an empty name', "        - ''", 'rules[0].match.settings[0]: must be a setting name or a mapping with a name'],
    ['an empty name in a mapping', "        - { name: '', values: [x] }", 'rules[0].match.settings[0].name: must not be empty'],
  ])('refuses %s', (_what, settings, expected) => {
    expect(issues(rule(settings))).toContain(expected);
  });

  it('refuses an empty settings list', () => {
    expect(issues('rules:\n  - id: a\n    match: { settings: [] }\n    action: deny\n')).toContain('p.yaml:3: rules[0].match.settings: must not be empty');
  });

  it('accepts names, mappings, a single mapping, booleans, numbers and an explicit empty value', () => {
    const r = loadPolicySources(
      [
        {
          file: 'p.yaml',
          text:
            'rules:\n' +
            '  - id: a\n    match:\n      settings:\n        - work_mem\n        - { name: [a, b], values: [true, 1, ""], except_values: [x], list: false }\n    action: deny\n' +
            '  - id: b\n    match:\n      settings: { name: sql_mode, list: true, except_values: [DEFAULT] }\n    action: deny\n',
        },
      ],
      { fingerprint: () => 'fp' },
    );
    if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
    const [a, b] = r.policy.rules;
    expect(a!.match.settings?.map((s) => s.names.map((n) => n.source))).toEqual([['work_mem'], ['a', 'b']]);
    expect(a!.match.settings?.[1]?.values?.map((v) => v.source)).toEqual(['true', '1', '']);
    expect(b!.match.settings?.[0]).toMatchObject({ list: true, exceptValues: [{ source: 'DEFAULT', reset: true }] });
  });
});

describe('the shipped default policy on what clients send on connect', () => {
  let d: PolicyDecider;
  beforeAll(() => {
    const r = loadPolicyDir(join(repo, 'policies'), { fingerprint });
    if (!r.ok) throw new Error(r.issues.map(formatPolicyIssue).join('\n'));
    d = new PolicyDecider(r.policy, new AnalysisCache(analyze));
  });

  it.each<[Dialect, string, string]>([
    // Rails / mysql2, connectors, mysqldump
    ['mysql', 'SET NAMES utf8mb4', 'allow'],
    ['mysql', "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_0900_ai_ci'", 'allow'],
    ['mysql', "SET SESSION sql_mode='STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'", 'allow'],
    ['mysql', "SET @@SESSION.sql_mode = 'TRADITIONAL'", 'allow'],
    ['mysql', 'SET character_set_results = NULL', 'allow'],
    ['mysql', "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */", 'allow'],
    ['mysql', '/*!50503 SET character_set_client = utf8mb4 */', 'allow'],
    // JDBC, psycopg, Rails PG
    ['postgres', "SET client_encoding TO 'UTF8'", 'allow'],
    ['postgres', 'SET standard_conforming_strings = on', 'allow'],
    ['postgres', "SET client_min_messages TO 'warning'", 'allow'],
    ['postgres', 'SET intervalstyle = iso_8601', 'allow'],
    ['postgres', "SET SESSION timezone TO 'UTC'", 'allow'],
    ['postgres', 'SET extra_float_digits = 3', 'allow'],
    ['postgres', 'SET search_path TO "$user", public', 'allow'],
    ['postgres', "SELECT pg_catalog.set_config('search_path', '', false)", 'allow'],
    // refused
    ['mysql', 'SET NAMES sjis', 'deny:no-unsafe-mysql-charset'],
    ['mysql', "SET sql_mode='ANSI_QUOTES'", 'deny:no-unsafe-sql-mode'],
    ['mysql', "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')", 'deny:no-unsafe-sql-mode'],
    ['mysql', "SET @@SESSION.sql_mode = CONCAT(CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), ',NO_AUTO_VALUE_ON_ZERO')", 'deny:no-unsafe-sql-mode'],
    ['postgres', "SET client_encoding TO 'SJIS'", 'deny:no-unsafe-client-encoding'],
    ['postgres', 'SET search_path TO secret, public', 'deny:no-search-path-changes'],
    ['postgres', 'SET standard_conforming_strings = off', 'deny:no-string-escape-changes'],
    ['postgres', 'SET ROLE x', 'deny:no-session-identity-changes'],
    ['postgres', "SELECT set_config('search_path', 'secret', false)", 'deny:no-search-path-changes'],
    ['postgres', "SELECT set_config('search_path', current_setting('app.path'), false)", 'deny:no-search-path-changes'],
  ])('[%s] %s → %s', (dialect, sql, expected) => {
    expect(verdict(d, dialect, sql)).toBe(expected);
  });
});
