/**
 * Glob patterns DBAs write in policies. Matching is case-insensitive.
 *  - `*` matches any run of characters within one dotted segment (no `.`)
 *  - `**` matches anything, dots included
 *  - `?` matches one character other than `.`
 * Patterns are compiled once at load; plain names compare without a RegExp.
 */
export interface Glob {
  readonly source: string;
  test(value: string): boolean;
}

function escapeRe(c: string): string {
  return /[\\^$.|+()[\]{}]/.test(c) ? '\\' + c : c;
}

export function compileGlob(pattern: string): Glob {
  return compile(pattern, false);
}

/** A glob that compares as written (for quoted Postgres identifiers, which keep their case). */
export function compileCaseSensitiveGlob(pattern: string): Glob {
  return compile(pattern, true);
}

function compile(pattern: string, caseSensitive: boolean): Glob {
  const source = caseSensitive ? pattern : pattern.toLowerCase();
  const fold = caseSensitive ? (v: string): string => v : (v: string): string => v.toLowerCase();
  if (!/[*?]/.test(source)) return { source, test: (v) => fold(v) === source };
  if (source === '**') return { source, test: () => true };
  let re = '^';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '*') {
      if (source[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^.]*';
    } else if (c === '?') re += '[^.]';
    else re += escapeRe(c);
  }
  const rx = new RegExp(re + '$', 's');
  return { source, test: (v) => rx.test(fold(v)) };
}

export function anyGlob(globs: readonly Glob[], value: string): boolean {
  for (const g of globs) if (g.test(value)) return true;
  return false;
}
