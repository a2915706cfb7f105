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
  const source = pattern.toLowerCase();
  if (!/[*?]/.test(source)) return { source, test: (v) => v.toLowerCase() === source };
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
  return { source, test: (v) => rx.test(v.toLowerCase()) };
}

export function anyGlob(globs: readonly Glob[], value: string): boolean {
  for (const g of globs) if (g.test(value)) return true;
  return false;
}
