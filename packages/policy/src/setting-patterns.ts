/**
 * `match.settings`: which SET / RESET / set_config() a rule is about, by setting name and, optionally,
 * by the value's constant.
 *
 * An entry is a name glob (any value), or a mapping:
 *
 *   { name: <glob or list of globs>, values: [<glob>...], except_values: [<glob>...], list: true|false }
 *
 *  - `values`: the value is one of these; `except_values`: the value is not one of these; both: the
 *    value is one of `values` and not one of `except_values`. Values compare case-insensitively.
 *  - `list: true`: the value is a comma-separated list (sql_mode, search_path). It is split on commas,
 *    each item trimmed; an item in double quotes is unquoted ("" → ") and compared with its case (a
 *    quoted Postgres identifier keeps it); empty items are ignored, so an empty list has no items.
 *  - The word `DEFAULT` in a value list stands for a reset (RESET x, SET x TO DEFAULT, MySQL
 *    `SET x = DEFAULT`), and matches nothing else: a value spelled 'default' is a value (in
 *    search_path, a schema named default). Other globs (`*`) match a reset as the word DEFAULT.
 *  - A value that is not a constant (an expression, a variable, a function call, a subquery,
 *    SET ... FROM CURRENT) could be anything: it matches an entry with value conditions in deny and
 *    review rules, never in allow rules.
 *  - Deny and review rules match when ANY list item is selected by the entry; allow rules only when
 *    EVERY item is (and there is at least one). Without `list`, the value is one item.
 *  - The setting `*` (RESET ALL, set_config() with a computed name) matches every entry of a deny or
 *    review rule, whatever its name and value conditions.
 */
import type { SettingFact } from '@sqlwarden/sql';
import type { Field } from '@sqlwarden/yaml';
import { anyGlob, compileCaseSensitiveGlob, compileGlob } from './glob.js';
import type { RuleAction, SettingPattern, ValuePattern } from './model.js';

const ENTRY_KEYS = ['name', 'values', 'except_values', 'list'] as const;

/** One item of a setting's value. */
export interface ValueItem {
  text: string;
  /** written in double quotes (compared case-sensitively) */
  quoted: boolean;
  /** a reset (RESET x, SET x TO DEFAULT) rather than a value */
  reset?: boolean;
}

const RESET_ITEM: ValueItem = Object.freeze({ text: 'DEFAULT', quoted: false, reset: true });

const SPACE = /^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g;

/** `"a""b"` → `a"b`; undefined when not double-quoted. */
function unquoteDouble(t: string): string | undefined {
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : undefined;
}

/** Splits a list value on commas: items trimmed, double quotes removed from quoted items, empty items dropped. */
export function splitSettingList(constant: string): ValueItem[] {
  const out: ValueItem[] = [];
  for (const raw of constant.split(',')) {
    const t = raw.replace(SPACE, '');
    if (t === '') continue;
    const unquoted = unquoteDouble(t);
    out.push(unquoted !== undefined ? { text: unquoted, quoted: true } : { text: t, quoted: false });
  }
  return out;
}

function valueMatches(p: ValuePattern, item: ValueItem): boolean {
  if (item.reset) return p.reset || p.glob.test(item.text);
  if (p.reset) return false;
  return item.quoted ? p.exact.test(item.text) : p.glob.test(item.text);
}

/** Does this entry match this setting, for a rule with this action? */
export function settingMatches(p: SettingPattern, s: SettingFact, action: RuleAction): boolean {
  const restriction = action !== 'allow';
  // "*" is a setting whose name is unknown (RESET ALL, set_config with a computed name): a restriction matches it
  if (s.name === '*' && restriction) return true;
  if (!anyGlob(p.names, s.name)) return false;
  if (!p.values && !p.exceptValues) return true;
  let items: ValueItem[];
  if (s.reset) items = [RESET_ITEM];
  else if (s.constant === undefined) return restriction; // not a constant: it could be any value
  else items = p.list ? splitSettingList(s.constant) : [{ text: s.constant, quoted: false }];
  const { values, exceptValues } = p;
  const selected = (it: ValueItem): boolean =>
    (!values || values.some((v) => valueMatches(v, it))) && !(exceptValues && exceptValues.some((v) => valueMatches(v, it)));
  return restriction ? items.some(selected) : items.length > 0 && items.every(selected);
}

export function settingsMatch(patterns: readonly SettingPattern[], settings: readonly SettingFact[], action: RuleAction): boolean {
  for (const s of settings) for (const p of patterns) if (settingMatches(p, s, action)) return true;
  return false;
}

// ---- reading ----------------------------------------------------------------------------------

/** `settings:` as written: a name glob, a mapping, or a list of either. Problems are reported on the fields. */
export function readSettingPatterns(f: Field): SettingPattern[] | undefined {
  if (!f.present) return undefined;
  const items = f.isList ? f.list() ?? [] : [f];
  if (f.isList && items.length === 0) {
    f.fail('must not be empty');
    return undefined;
  }
  const out: SettingPattern[] = [];
  for (const item of items) {
    // an entry that reads as nothing must be an error: a rule that silently lost its settings
    // condition would match every statement
    const issues = item.reader.issues.length;
    const p = item.isMap ? readEntry(item) : readName(item);
    if (p) out.push(p);
    else if (item.reader.issues.length === issues) item.fail('must be a setting name or a mapping with a name');
  }
  return out.length > 0 ? out : undefined;
}

function readName(item: Field): SettingPattern | undefined {
  const name = item.string();
  return name === undefined ? undefined : { names: [compileGlob(name)], list: false };
}

function readEntry(item: Field): SettingPattern | undefined {
  const m = item.map(ENTRY_KEYS);
  if (!m) return undefined;
  const nameField = m.required('name');
  const names = nameField.present ? stringList(nameField, false) : undefined;
  const values = m.has('values') ? valuePatterns(m.get('values')) : undefined;
  const exceptValues = m.has('except_values') ? valuePatterns(m.get('except_values')) : undefined;
  const listField = m.get('list');
  const list = listField.bool() ?? false;
  if (listField.present && !m.has('values') && !m.has('except_values')) listField.fail('list only applies with values or except_values');
  if (!names || names.length === 0) return undefined;
  const p: SettingPattern = { names: names.map((n) => compileGlob(n)), list };
  if (values) p.values = values;
  if (exceptValues) p.exceptValues = exceptValues;
  return p;
}

/** A string or a list of strings; nested lists are flattened (so a YAML anchor of a list can be reused). */
function stringList(f: Field, values: boolean): string[] | undefined {
  const out: string[] = [];
  const add = (x: Field, depth: number): void => {
    if (x.isList && depth < 2) {
      for (const y of x.list() ?? []) add(y, depth + 1);
      return;
    }
    const s = values ? valueString(x) : x.string();
    if (s !== undefined) out.push(s);
  };
  add(f, 0);
  if (out.length === 0) {
    f.fail('must not be empty');
    return undefined;
  }
  return out;
}

/** A value pattern: strings, numbers and booleans as written; an explicit '' is the empty value. */
function valueString(x: Field): string | undefined {
  const v = (x.node as { value?: unknown } | null)?.value;
  if (v === '') return '';
  if (typeof v === 'boolean') return String(v);
  return x.string();
}

function valuePatterns(f: Field): ValuePattern[] | undefined {
  const list = stringList(f, true);
  if (!list) return undefined;
  return list.map((raw) => {
    // a pattern may be written quoted like the item it matches ('"$user"'): the quotes are not part of it
    const source = unquoteDouble(raw) ?? raw;
    return { source, glob: compileGlob(source), exact: compileCaseSensitiveGlob(source), reset: source.toUpperCase() === 'DEFAULT' };
  });
}
