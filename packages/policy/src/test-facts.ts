import { emptyFacts, type Analysis, type StatementFacts, type TableRef } from '@sqlwarden/sql';

/** Builds StatementFacts for tests: only the fields a case cares about. */
export function facts(over: Partial<StatementFacts> & { kind: StatementFacts['kind'] }): StatementFacts {
  return { ...emptyFacts(over.kind, 'Test'), ...over };
}

export function t(name: string): TableRef {
  const parts = name.split('.');
  return parts.length === 2 ? { schema: parts[0], name: parts[1] } : { name };
}

export function analysis(statements: StatementFacts[], fingerprint = 'fp'): Analysis {
  return { ok: true, dialect: 'postgres', statements, normalized: '', fingerprint };
}
