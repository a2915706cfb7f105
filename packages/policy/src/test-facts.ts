import type { Analysis, StatementFacts, TableRef } from '@sqlwarden/sql';

/** Builds StatementFacts for tests: only the fields a case cares about. */
export function facts(over: Partial<StatementFacts> & { kind: StatementFacts['kind'] }): StatementFacts {
  return {
    nodeType: 'Test',
    tablesRead: [],
    tablesWritten: [],
    functions: [],
    unboundedWrite: false,
    hasWhere: false,
    hasLimit: false,
    hasReturning: false,
    settings: [],
    nested: [],
    opaqueBodies: [],
    ...over,
  };
}

export function t(name: string): TableRef {
  const parts = name.split('.');
  return parts.length === 2 ? { schema: parts[0], name: parts[1] } : { name };
}

export function analysis(statements: StatementFacts[], fingerprint = 'fp'): Analysis {
  return { ok: true, dialect: 'postgres', statements, normalized: '', fingerprint };
}
