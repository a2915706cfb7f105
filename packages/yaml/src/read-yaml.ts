import { LineCounter, parseDocument } from 'yaml';
import type { YamlIssue } from './issue.js';
import type { Env } from './interpolate.js';
import { YamlReader } from './yaml-reader.js';

/** Parses YAML text strictly (duplicate keys are errors); syntax errors come back as located issues. */
export function readYaml(text: string, env: Env): { ok: true; reader: YamlReader } | { ok: false; issues: YamlIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({ line: e.linePos?.[0].line ?? 0, path: '', message: `invalid YAML: ${firstLine(e.message)}` })),
    };
  }
  return { ok: true, reader: new YamlReader(doc, lines, env) };
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}
