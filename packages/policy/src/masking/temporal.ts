/**
 * Calendar arithmetic and the ISO text forms Postgres prints (DateStyle ISO) and MySQL sends, for
 * making type-valid masked dates and times and for the binary codecs. Proleptic Gregorian, like both
 * servers; years 1..9999 in the text forms this module validates.
 */

/** Days from 1970-01-01 to y-m-d (m 1..12). Howard Hinnant's days_from_civil. */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** y, m, d of a day number (days from 1970-01-01), written into `out`. */
export function civilFromDays(days: number, out: Int32Array | number[]): void {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  out[0] = yoe + era * 400 + (m <= 2 ? 1 : 0);
  out[1] = m;
  out[2] = d;
}

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeapYear(y) ? 29 : MONTH_DAYS[m - 1];
}

const YMD = new Int32Array(3);

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0000000'.slice(0, width - s.length) + s;
}

/**
 * The Postgres text form of a day number: `YYYY-MM-DD`, years past 9999 with more digits, years
 * before 1 as `YYYY-MM-DD BC` (year 0 is 1 BC).
 */
export function formatDate(days: number): string {
  civilFromDays(days, YMD);
  const y = YMD[0];
  const body = `${pad(y > 0 ? y : 1 - y, 4)}-${pad(YMD[1], 2)}-${pad(YMD[2], 2)}`;
  return y > 0 ? body : `${body} BC`;
}

/** `HH:MM:SS` plus `.ffffff` without trailing zeros when there are microseconds. */
export function formatTimeOfDay(micros: number): string {
  const secs = Math.floor(micros / 1e6);
  const frac = micros - secs * 1e6;
  const base = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  if (frac === 0) return base;
  let f = pad(frac, 6);
  let n = 6;
  while (f.charCodeAt(n - 1) === 0x30) n--;
  if (n < 6) f = f.slice(0, n);
  return `${base}.${f}`;
}

function digitAt(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** Reads `n` digits at `i`; -1 when any is not a digit. */
function num(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = digitAt(s, i + k);
    if (d < 0) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Parses `YYYY-MM-DD` at the start of `s` (years 1..9999); the day number or undefined. */
export function parseIsoDate(s: string): number | undefined {
  if (s.length < 10 || s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d) return undefined;
  const y = num(s, 0, 4);
  const m = num(s, 5, 2);
  const d = num(s, 8, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return undefined;
  return daysFromCivil(y, m, d);
}

/**
 * Parses `HH:MM:SS[.f{1,6}]` at `i`; microseconds of the day and the end index, or undefined.
 * `allow24`: the time type accepts 24:00:00.
 */
export function parseTimeOfDay(s: string, i: number, allow24: boolean): { micros: number; end: number } | undefined {
  if (s.length < i + 8 || s.charCodeAt(i + 2) !== 0x3a || s.charCodeAt(i + 5) !== 0x3a) return undefined;
  const h = num(s, i, 2);
  const mi = num(s, i + 3, 2);
  const se = num(s, i + 6, 2);
  if (h < 0 || mi < 0 || mi > 59 || se < 0 || se > 59) return undefined;
  let end = i + 8;
  let frac = 0;
  if (end < s.length && s.charCodeAt(end) === 0x2e) {
    let n = 0;
    end++;
    while (end < s.length && digitAt(s, end) >= 0) {
      if (n === 6) return undefined;
      frac = frac * 10 + digitAt(s, end);
      n++;
      end++;
    }
    if (n === 0) return undefined;
    for (; n < 6; n++) frac *= 10;
  }
  if (h > 24 || (h === 24 && (!allow24 || mi !== 0 || se !== 0 || frac !== 0))) return undefined;
  return { micros: ((h * 60 + mi) * 60 + se) * 1e6 + frac, end };
}

/** Parses a zone offset `+HH`, `+HH:MM` or `+HH:MM:SS` at `i` to the end of `s`; seconds east, or undefined. */
export function parseZoneOffset(s: string, i: number): number | undefined {
  const sign = s.charCodeAt(i);
  if (sign !== 0x2b && sign !== 0x2d) return undefined;
  const h = num(s, i + 1, 2);
  if (h < 0 || h > 15) return undefined;
  let secs = h * 3600;
  let j = i + 3;
  for (let part = 0; part < 2 && j < s.length; part++) {
    if (s.charCodeAt(j) !== 0x3a) return undefined;
    const v = num(s, j + 1, 2);
    if (v < 0 || v > 59) return undefined;
    secs += part === 0 ? v * 60 : v;
    j += 3;
  }
  if (j !== s.length) return undefined;
  return sign === 0x2d ? -secs : secs;
}

export interface ParsedTimestamp {
  /** days from 1970-01-01 */
  days: number;
  /** microseconds of the day */
  micros: number;
  /** zone offset, seconds east of UTC (0 when none was written) */
  offset: number;
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` with an optional zone (`tz`), or undefined. */
export function parseIsoTimestamp(s: string, tz: 'none' | 'optional'): ParsedTimestamp | undefined {
  const days = parseIsoDate(s);
  if (days === undefined || s.length < 19 || s.charCodeAt(10) !== 0x20) return undefined;
  const t = parseTimeOfDay(s, 11, false);
  if (!t) return undefined;
  let offset = 0;
  if (t.end !== s.length) {
    if (tz === 'none') return undefined;
    const o = parseZoneOffset(s, t.end);
    if (o === undefined) return undefined;
    offset = o;
  }
  return { days, micros: t.micros, offset };
}

/** `HH:MM:SS[.f]` with an optional zone (`timetz`); true when valid. */
export function isValidTime(s: string, tz: boolean): boolean {
  const t = parseTimeOfDay(s, 0, true);
  if (!t) return false;
  if (t.end === s.length) return true;
  return tz && parseZoneOffset(s, t.end) !== undefined;
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` (`… BC` before year 1) of a day number and microseconds of that day. */
export function formatTimestamp(days: number, micros: number): string {
  const date = formatDate(days);
  const time = formatTimeOfDay(micros);
  return date.length > 3 && date.charCodeAt(date.length - 1) === 0x43 && date.charCodeAt(date.length - 3) === 0x20
    ? `${date.slice(0, -3)} ${time} BC`
    : `${date} ${time}`;
}
