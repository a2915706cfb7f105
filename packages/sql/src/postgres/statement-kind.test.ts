import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { STATEMENT_KINDS } from '../facts.js';
import { KNOWN_STATEMENT_NODES, statementKind } from './statement-kind.js';

/** Statement node types declared by @pgsql/types (the node list of the libpg-query build in use). */
function grammarStatementNodes(): string[] {
  const require = createRequire(import.meta.url);
  const fromLib = createRequire(require.resolve('libpg-query/package.json'));
  const typesDir = dirname(fromLib.resolve('@pgsql/types/package.json'));
  const text = readFileSync(join(typesDir, 'types.d.ts'), 'utf8');
  return [...new Set([...text.matchAll(/export interface (\w+Stmt) \{/g)].map((m) => m[1]))];
}

/** Node types that never come out of raw_parser as statements. */
const NOT_RAW_STATEMENTS = new Set(['RawStmt', 'SetOperationStmt', 'PLAssignStmt']);

describe('statement kind mapping', () => {
  const nodes = grammarStatementNodes();

  test('the grammar has many statement nodes (sanity)', () => {
    expect(nodes.length).toBeGreaterThan(100);
  });

  test('every statement node of the grammar is mapped explicitly', () => {
    const missing = nodes.filter((n) => !NOT_RAW_STATEMENTS.has(n) && !KNOWN_STATEMENT_NODES.includes(n));
    expect(missing).toEqual([]);
  });

  test('every mapped kind is in the shared vocabulary', () => {
    for (const n of nodes) expect(STATEMENT_KINDS).toContain(statementKind(n, {}));
  });

  test('an unknown node is other', () => {
    expect(statementKind('FutureStmt', {})).toBe('other');
  });
});
