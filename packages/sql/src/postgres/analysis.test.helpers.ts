import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Analysis, StatementFacts } from '../facts.js';
import { analyzePostgres } from './analyze-postgres.js';

/** The statements of an analysis that must succeed (throws with the failure otherwise, for readable test output). */
export function statementsOf(sql: string): StatementFacts[] {
  const a = analyzePostgres(sql);
  if (!a.ok) throw new Error(`expected ${JSON.stringify(sql)} to analyse, got ${JSON.stringify(a.failure)}`);
  return a.statements;
}

/** The single statement of `sql`. */
export function factsOf(sql: string): StatementFacts {
  const s = statementsOf(sql);
  if (s.length !== 1) throw new Error(`expected one statement in ${JSON.stringify(sql)}, got ${s.length}`);
  return s[0];
}

export function failureOf(a: Analysis): string | undefined {
  return a.ok ? undefined : a.failure.kind;
}

/** Every statement, nested ones included, depth first. */
export function flatten(statements: StatementFacts[]): StatementFacts[] {
  const out: StatementFacts[] = [];
  const visit = (s: StatementFacts): void => {
    out.push(s);
    s.nested.forEach(visit);
  };
  statements.forEach(visit);
  return out;
}

/** The repository root (the directory holding pnpm-workspace.yaml), found from this file. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}
