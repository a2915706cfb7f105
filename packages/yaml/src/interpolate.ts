/**
 * `${NAME}` and `${NAME:-default}` interpolation of config string values.
 * `$${` is a literal `${`. A `$` not followed by `{` is kept as it is, so
 * passwords with dollar signs need no escaping.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export type InterpolationResult =
  | { ok: true; value: string; changed: boolean }
  | { ok: false; error: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function interpolate(text: string, env: Env): InterpolationResult {
  if (!text.includes('${')) return { ok: true, value: text, changed: false };
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('${', i);
    if (start < 0) {
      out += text.slice(i);
      break;
    }
    if (start > 0 && text[start - 1] === '$') {
      // "$${" → literal "${"
      out += text.slice(i, start - 1) + '${';
      i = start + 2;
      continue;
    }
    out += text.slice(i, start);
    const end = text.indexOf('}', start + 2);
    if (end < 0) return { ok: false, error: `unterminated "\${" in "${text}"` };
    const expr = text.slice(start + 2, end);
    const sep = expr.indexOf(':-');
    const name = sep < 0 ? expr : expr.slice(0, sep);
    if (!NAME.test(name)) return { ok: false, error: `"\${${expr}}" is not a valid variable reference; write \${NAME} or \${NAME:-default}` };
    const value = env[name];
    if (sep >= 0) {
      out += value === undefined || value === '' ? expr.slice(sep + 2) : value;
    } else if (value === undefined) {
      return { ok: false, error: `environment variable ${name} is not set (write \${${name}:-default} to give a default)` };
    } else {
      out += value;
    }
    i = end + 1;
  }
  return { ok: true, value: out, changed: true };
}
