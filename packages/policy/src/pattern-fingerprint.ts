import type { Analysis, Dialect } from '@sqlwarden/sql';

/**
 * Postgres has no `?` placeholder: turn the `?`s a DBA writes for literals into $1, $2, ...
 * (outside quotes, comments and dollar-quoted strings). The fingerprint ignores literal values,
 * so the pattern matches the statement whatever constants it carries.
 */
export function questionMarksToDollars(sql: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop + 1);
      i = stop;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') out += `$${++n}`;
    else out += c;
  }
  return out;
}

/** Fingerprint of a one-statement SQL pattern, or null when it does not parse as exactly one statement. */
export function patternFingerprint(dialect: Dialect, pattern: string, analyze: (d: Dialect, sql: string) => Analysis): string | null {
  const a = analyze(dialect, dialect === 'postgres' ? questionMarksToDollars(pattern) : pattern);
  if (!a.ok || a.statements.length !== 1) return null;
  return a.fingerprint;
}
