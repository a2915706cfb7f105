/**
 * Durations as people write them in config files and on the command line:
 * "500ms", "30s", "15m", "1h", "2d", compounds like "1h30m", or a plain
 * integer number of milliseconds.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

export const DURATION_HINT = 'a duration like "500ms", "30s", "15m", "1h", "2d" or an integer number of milliseconds';

/** Milliseconds for a duration, or throws an Error saying what is accepted. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input >= 0) return input;
    throw new Error(`must be ${DURATION_HINT}`);
  }
  const text = input.trim();
  if (/^\d+$/.test(text)) return parseDuration(Number(text));
  if (text === '') throw new Error(`must be ${DURATION_HINT}`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== at) throw new Error(`"${input}" is not ${DURATION_HINT}`);
    total += Number(m[1]) * UNIT_MS[m[2] as Unit];
  }
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw new Error(`"${input}" is too long a duration`);
  return ms;
}

/** The shortest exact spelling of a duration: 900000 → "15m", 5400000 → "1h30m", 1500 → "1s500ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`not a duration: ${ms}`);
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
