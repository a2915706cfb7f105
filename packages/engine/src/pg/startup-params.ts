/**
 * Which client startup parameters reach the upstream. A startup packet can set any GUC, so it
 * is filtered like SQL would be: only settings that cannot change how statements are lexed,
 * who runs them or where data goes are forwarded. `user` and `database` are replaced by the
 * target's, `application_name` by sqlwarden's identity tag. `search_path` is refused here: where
 * unqualified names resolve is a policy matter (a `SET search_path` statement is judged like any other).
 */
const ALLOWED = new Set([
  'client_encoding',
  'datestyle',
  'timezone',
  'extra_float_digits',
  'intervalstyle',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'bytea_output',
  'lc_monetary',
  'lc_numeric',
  'lc_time',
  'default_transaction_isolation',
  'default_transaction_read_only',
  'geqo',
  'jit',
  'work_mem',
]);

/** Client encodings in which a multibyte character can contain an ASCII quote or backslash byte. */
const UNSAFE_ENCODINGS = new Set(['sjis', 'shiftjis', 'shiftjis2004', 'mskanji', 'big5', 'gbk', 'cp936', 'gb18030', 'uhc', 'johab', 'win932', 'win936', 'win949', 'win950', 'tcvn', 'tcvn5712', 'vscii', 'windows932', 'windows936', 'windows949', 'windows950']);

export interface FilteredStartup {
  /** settings to send upstream (original names) */
  forward: Record<string, string>;
  clientApplicationName?: string;
  database?: string;
  user?: string;
  /** `_pq_.` protocol options we do not support (reported with NegotiateProtocolVersion) */
  unsupportedOptions: string[];
}

export class StartupParamError extends Error {}

function normEncoding(v: string): string {
  return v.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** True for client encodings in which sqlwarden's reading of a statement could differ from the server's. */
export function isUnsafeClientEncoding(value: string): boolean {
  return UNSAFE_ENCODINGS.has(normEncoding(value));
}

/** Splits libpq's `options` value into `-c name=value` settings (backslash escapes spaces). */
export function parseOptions(options: string): [string, string][] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < options.length; i++) {
    const ch = options[i];
    if (ch === '\\' && i + 1 < options.length) {
      cur += options[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  const out: [string, string][] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    if (w === '-c') {
      w = words[++i] ?? '';
    } else if (w.startsWith('-c')) {
      w = w.slice(2);
    } else if (w.startsWith('--')) {
      w = w.slice(2);
    } else {
      throw new StartupParamError(`startup option "${words[i]}" is not allowed through sqlwarden`);
    }
    const eq = w.indexOf('=');
    if (eq <= 0) throw new StartupParamError(`malformed startup option "${w}"`);
    out.push([w.slice(0, eq).replace(/-/g, '_'), w.slice(eq + 1)]);
  }
  return out;
}

export function filterStartupParams(params: Map<string, string>): FilteredStartup {
  const out: FilteredStartup = { forward: {}, unsupportedOptions: [] };
  const settings: [string, string][] = [];
  for (const [name, value] of params) {
    const lower = name.toLowerCase();
    if (lower === 'user') out.user = value;
    else if (lower === 'database') out.database = value;
    else if (lower === 'application_name') out.clientApplicationName = value;
    else if (lower === 'replication') {
      if (value !== 'false' && value !== 'off' && value !== '0' && value !== 'no') throw new StartupParamError('replication connections are not allowed through sqlwarden');
    } else if (name.startsWith('_pq_.')) out.unsupportedOptions.push(name);
    else if (lower === 'options') settings.push(...parseOptions(value));
    else settings.push([name, value]);
  }
  for (const [name, value] of settings) {
    const lower = name.toLowerCase();
    if (!ALLOWED.has(lower)) throw new StartupParamError(`startup parameter "${name}" is not allowed through sqlwarden`);
    if (lower === 'client_encoding' && isUnsafeClientEncoding(value)) {
      throw new StartupParamError(`client_encoding "${value}" is not supported through sqlwarden (use UTF8)`);
    }
    out.forward[name] = value;
  }
  return out;
}
