import { DETECTORS, type Detector } from '../model.js';

/**
 * Detectors: PII and secrets found inside any text value, whatever its column is called.
 *
 * Most values hold none, so every scan starts with one pass over the UTF-8 bytes (a string is
 * encoded into a scratch buffer first) that measures runs of digits joined by the separators cards
 * and phones use, and notes `@`, the shapes `ddd-dd-dddd` (SSN) and two capitals before two digits
 * (IBAN), and the known token prefixes (`eyJ`, `AKIA`, `ghp_`, `xox`, `sk_live_`, `-----BEGIN` …).
 * Only the detectors that pass get their regular expressions run, on the decoded string; an
 * ordinary value costs that one pass and no allocation. Each detector's pre-check condition is
 * necessary for it to find anything, so the pre-check changes speed, never results (tested).
 * Every candidate is then checked beyond its shape: Luhn and issuer prefixes for cards, the SSA's
 * invalid ranges for SSNs, the country's length and mod-97 for IBANs, a JSON header with `alg` for
 * JWTs, the international, North American and European formats for phones.
 */

/** A finding: `value.slice(start, end)` (UTF-16 offsets into the string scanned) is a `detector`. */
export interface PIISpan {
  detector: Detector;
  start: number;
  end: number;
}

const enum Bit {
  Email = 1 << 0,
  CreditCard = 1 << 1,
  UsSsn = 1 << 2,
  Iban = 1 << 3,
  Phone = 1 << 4,
  Jwt = 1 << 5,
  AwsKey = 1 << 6,
  GcpKey = 1 << 7,
  GithubToken = 1 << 8,
  SlackToken = 1 << 9,
  StripeKey = 1 << 10,
  PrivateKey = 1 << 11,
  UrlPassword = 1 << 12,
}

/** A compiled choice of detectors; build once per mask rule. */
export class DetectorSet {
  readonly bits: number;
  readonly names: readonly Detector[];
  constructor(names: readonly Detector[]) {
    let bits = 0;
    for (const n of names) {
      const i = DETECTORS.indexOf(n);
      if (i < 0) throw new Error(`unknown detector "${n}"`);
      bits |= 1 << i;
    }
    this.bits = bits;
    this.names = DETECTORS.filter((_, i) => (bits & (1 << i)) !== 0);
  }
  has(d: Detector): boolean {
    return (this.bits & (1 << DETECTORS.indexOf(d))) !== 0;
  }
}

export const ALL_DETECTORS = new DetectorSet(DETECTORS);

export function detectorSet(names: readonly Detector[] = DETECTORS): DetectorSet {
  return new DetectorSet(names);
}

/** Arrays of names seen before (a MaskRule's `detectors` is one array for the policy's lifetime). */
const arrayBits = new WeakMap<readonly Detector[], number>();

function bitsOf(d: DetectorSet | readonly Detector[]): number {
  if (d instanceof DetectorSet) return d.bits;
  let bits = arrayBits.get(d);
  if (bits === undefined) {
    bits = new DetectorSet(d).bits;
    arrayBits.set(d, bits);
  }
  return bits;
}

// ─── the pre-check ─────────────────────────────────────────────────────────────────────────────

interface Prefix {
  rest: string;
  /** compare `rest` ignoring ASCII case */
  ci: boolean;
  bit: number;
}

const PREFIXES: [string, number, boolean?][] = [
  ['-----BEGIN ', Bit.PrivateKey],
  ['eyJ', Bit.Jwt],
  ['AKIA', Bit.AwsKey],
  ['ASIA', Bit.AwsKey],
  ['ABIA', Bit.AwsKey],
  ['ACCA', Bit.AwsKey],
  ['secret', Bit.AwsKey, true],
  ['AIza', Bit.GcpKey],
  ['"private_key', Bit.GcpKey],
  ['ghp_', Bit.GithubToken],
  ['gho_', Bit.GithubToken],
  ['ghu_', Bit.GithubToken],
  ['ghs_', Bit.GithubToken],
  ['ghr_', Bit.GithubToken],
  ['github_pat_', Bit.GithubToken],
  ['xox', Bit.SlackToken],
  ['xapp-', Bit.SlackToken],
  ['hooks.slack.com/', Bit.SlackToken],
  ['sk_live_', Bit.StripeKey],
  ['sk_test_', Bit.StripeKey],
  ['rk_live_', Bit.StripeKey],
  ['rk_test_', Bit.StripeKey],
  ['pk_live_', Bit.StripeKey],
  ['pk_test_', Bit.StripeKey],
  ['whsec_', Bit.StripeKey],
];

// Character classes of the pre-check, as flags (plain constants: this loop is the hot path, and
// enums are emitted as objects under isolatedModules).
const DIGIT = 1;
const AT = 2;
/** first character of a token prefix */
const PREFIX = 4;
/** separates digit groups of cards and SSNs: space, - */
const SEP_CARD = 8;
/** separates digit groups of phone numbers: space - . ( ) / + */
const SEP_PHONE = 16;
const IBAN_BIT = 1 << 3;
const SSN_BIT = 1 << 2;

const CLASS = new Uint8Array(256);
/** prefixes by first character */
const BY_FIRST: Prefix[][] = [];
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT;
CLASS[0x40] = AT;
for (const c of ' -') CLASS[c.charCodeAt(0)] |= SEP_CARD;
for (const c of ' -.()/+') CLASS[c.charCodeAt(0)] |= SEP_PHONE;
/** The first two characters of every prefix, so most letters cost one table look-up. */
const PAIRS = new Uint8Array(65536);
for (const [text, bit, ci] of PREFIXES) {
  const c0 = text.charCodeAt(0);
  const c1 = text.charCodeAt(1);
  const firsts = ci ? [c0 | 0x20, c0 & ~0x20] : [c0];
  const seconds = ci ? [c1 | 0x20, c1 & ~0x20] : [c1];
  for (const f of firsts) {
    CLASS[f] |= PREFIX;
    for (const g of seconds) PAIRS[(f << 8) | g] = 1;
    (BY_FIRST[f] ??= []).push({ rest: ci ? text.slice(1).toLowerCase() : text.slice(1), ci: ci === true, bit });
  }
}

const AT_BITS = Bit.Email | Bit.UrlPassword;

/**
 * The digit-run detectors worth running: `card` is the longest run of digits joined by single
 * spaces or dashes, `phone` the longest joined by up to two of ` -.()/+`.
 */
function runBits(card: number, phone: number, plus: boolean): number {
  let bits = 0;
  // phones have 10+ digits, or 9+ after a +
  if (phone >= 10 || (phone >= 9 && plus)) bits |= Bit.Phone;
  if (card >= 13) bits |= Bit.CreditCard;
  return bits;
}

function isDigitByte(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `ddd-dd-dddd` around the dash at `i` (the first dash of an SSN), not inside a longer number. */
function ssnShapeBytes(b: Uint8Array, i: number, n: number): boolean {
  return (
    i >= 3 &&
    i + 7 < n &&
    (i === 3 || !isDigitByte(b[i - 4])) &&
    isDigitByte(b[i - 1]) &&
    isDigitByte(b[i - 2]) &&
    isDigitByte(b[i - 3]) &&
    isDigitByte(b[i + 1]) &&
    isDigitByte(b[i + 2]) &&
    b[i + 3] === 0x2d &&
    isDigitByte(b[i + 4]) &&
    isDigitByte(b[i + 7])
  );
}

function isUpperCode(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

function prefixBitsBytes(b: Uint8Array, i: number, n: number): number {
  let bits = 0;
  for (const p of BY_FIRST[b[i]]) {
    const r = p.rest;
    if (i + r.length >= n) continue;
    let k = 0;
    for (; k < r.length; k++) {
      const c = b[i + 1 + k];
      if ((p.ci ? c | 0x20 : c) !== r.charCodeAt(k)) break;
    }
    if (k === r.length) bits |= p.bit;
  }
  return bits;
}

/**
 * The detectors (of `enabled`) worth running on these UTF-8 bytes: one pass, no allocation. Each
 * detector's condition is necessary for it to find anything (tested), so skipping the rest is exact.
 */
export function candidateBitsBytes(b: Uint8Array, enabled: number, end = b.length): number {
  let bits = 0;
  let runCard = 0;
  let runPhone = 0;
  let maxCard = 0;
  let maxPhone = 0;
  let sepCard = 0;
  let sepPhone = 0;
  let plus = false;
  const n = end;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    const k = CLASS[c];
    if (k === 0) {
      runCard = runPhone = sepCard = sepPhone = 0;
      continue;
    }
    if (k === DIGIT) {
      if (++runCard > maxCard) maxCard = runCard;
      if (++runPhone > maxPhone) maxPhone = runPhone;
      sepCard = sepPhone = 0;
      // an IBAN starts with two capitals and two digits
      if (i >= 3 && isUpperCode(b[i - 2]) && isUpperCode(b[i - 3]) && isDigitByte(b[i - 1])) bits |= IBAN_BIT;
      continue;
    }
    if (k === PREFIX) {
      // a letter that may start a token
      runCard = runPhone = sepCard = sepPhone = 0;
      if (i + 1 < n && PAIRS[(c << 8) | b[i + 1]] === 1) bits |= prefixBitsBytes(b, i, n);
      continue;
    }
    if ((k & SEP_PHONE) !== 0) {
      if (++sepPhone > 2) runPhone = 0;
      if ((k & SEP_CARD) !== 0) {
        if (++sepCard > 1) runCard = 0;
      } else runCard = sepCard = 0;
    } else runCard = runPhone = sepCard = sepPhone = 0;
    if (c === 0x2d && ssnShapeBytes(b, i, n)) bits |= SSN_BIT;
    else if (c === 0x2b) plus = true;
    if ((k & AT) !== 0) bits |= AT_BITS;
    if ((k & PREFIX) !== 0 && i + 1 < n && PAIRS[(c << 8) | b[i + 1]] === 1) bits |= prefixBitsBytes(b, i, n);
  }
  return (bits | runBits(maxCard, maxPhone, plus)) & enabled;
}

/** Scratch space for the string pre-check: encoding to UTF-8 and scanning bytes beats charCodeAt. */
let scratch = Buffer.allocUnsafe(4096);

/** The same pre-check over a string (run over its UTF-8 encoding, so both agree exactly). */
export function candidateBitsString(s: string, enabled: number): number {
  if (s.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(Math.max(s.length * 3, scratch.length * 2));
  const n = scratch.write(s, 0, 'utf8');
  return candidateBitsBytes(scratch, enabled, n);
}

// ─── detectors ─────────────────────────────────────────────────────────────────────────────────

/** Runs one detector over `s`: pushes its spans to `out` (or, without `out`, stops at the first) and says whether it found any. */
type Runner = (s: string, out: PIISpan[] | null) => boolean;

function push(out: PIISpan[] | null, detector: Detector, start: number, end: number): void {
  out?.push({ detector, start, end });
}

function isDigitCode(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlphaCode(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isAlnumCode(c: number): boolean {
  return isAlphaCode(c) || isDigitCode(c);
}

// email ─────────────────────────────────────────────────────────────────

/**
 * Local-part characters for detection in running text: narrower than RFC 5322's atext on purpose,
 * plus non-ASCII letters (internationalized addresses: `josé@example.com` is masked whole).
 */
function isLocalCode(c: number): boolean {
  if (c >= 0xc0) return c !== 0xd7 && c !== 0xf7 && (c < 0x2000 || c > 0x206f) && c !== 0x3000 && c !== 0xfeff;
  return isAlnumCode(c) || c === 0x2e || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d || c === 0x27;
}

function isDomainCode(c: number): boolean {
  return isAlnumCode(c) || c === 0x2e || c === 0x2d;
}

function isBreakCode(c: number): boolean {
  return c <= 0x20 || c === 0x2f || c === 0x40 || c === 0x22 || c === 0x27 || c === 0x3c || c === 0x3e || c === 0x2c || c === 0x3b;
}

/** Where a URL's authority (`scheme://user:pass@`) could still be going on, scanning back: not at blanks, `/`, quotes, brackets. */
function endsUrlAuthority(c: number): boolean {
  return c <= 0x20 || c === 0x2f || c === 0x22 || c === 0x27 || c === 0x3c || c === 0x3e || c === 0x2c || c === 0x3b;
}

/** File extensions that look like top-level domains after `@` (`logo@2x.png`, `bundle@1.0.js`). Real ccTLDs are not listed. */
const NOT_TLDS = new Set([
  'png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'bmp', 'tif', 'tiff', 'avif', 'heic', 'css', 'scss', 'less', 'js', 'mjs',
  'cjs', 'jsx', 'ts', 'tsx', 'vue', 'json', 'html', 'htm', 'xml', 'txt', 'pdf', 'csv', 'tsv', 'yml', 'yaml', 'toml', 'ini',
  'log', 'map', 'woff', 'woff2', 'ttf', 'otf', 'eot', 'php', 'java', 'class', 'jar', 'lock', 'gz', 'tgz', 'bz2', 'xz',
  'tar', 'exe', 'dll', 'dylib', 'mp3', 'mp4', 'wav', 'ogg', 'avi', 'mkv', 'webm', 'md5', 'sha1', 'sha256', 'wasm',
]);

/** `[start, end)` is a DNS name of two or more labels ending in an alphabetic TLD (or `xn--`). */
function domainOk(s: string, start: number, end: number): boolean {
  let labels = 0;
  let labelStart = start;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e;
    if (c !== 0x2e) continue;
    const len = i - labelStart;
    if (len < 1 || len > 63 || s.charCodeAt(labelStart) === 0x2d || s.charCodeAt(i - 1) === 0x2d) return false;
    labels++;
    if (i === end) {
      if (len >= 4 && s.startsWith('xn--', labelStart)) return labels >= 2;
      if (len < 2 || len > 24) return false;
      for (let k = labelStart; k < i; k++) if (!isAlphaCode(s.charCodeAt(k))) return false;
      if (NOT_TLDS.has(s.slice(labelStart, i).toLowerCase())) return false;
    }
    labelStart = i + 1;
  }
  return labels >= 2;
}

const findEmails: Runner = (s, out) => {
  const n = s.length;
  let found = false;
  for (let at = s.indexOf('@'); at >= 0; at = s.indexOf('@', at + 1)) {
    let l = at;
    while (l > 0 && at - l < 64 && isLocalCode(s.charCodeAt(l - 1))) l--;
    if (l > 0 && isLocalCode(s.charCodeAt(l - 1))) continue; // a local part longer than 64
    // a local part does not start with . - or ' (an apostrophe there is a quote: 'a@b.com')
    while (l < at && (s.charCodeAt(l) === 0x2e || s.charCodeAt(l) === 0x2d || s.charCodeAt(l) === 0x27)) l++;
    if (l === at || s.charCodeAt(at - 1) === 0x2e) continue;
    let r = at + 1;
    while (r < n && r - at <= 253 && isDomainCode(s.charCodeAt(r))) r++;
    while (r > at + 1 && (s.charCodeAt(r - 1) === 0x2e || s.charCodeAt(r - 1) === 0x2d)) r--;
    if (!domainOk(s, at + 1, r)) continue;
    // user:password@host inside a URL is url_password's, and ssh://git@host is an address, not a person
    let k = l - 1;
    while (k >= 0 && !endsUrlAuthority(s.charCodeAt(k))) k--;
    if (k >= 1 && s.charCodeAt(k) === 0x2f && s.charCodeAt(k - 1) === 0x2f) continue;
    // scp-style git@github.com:org/repo
    if (r + 1 < n && s.charCodeAt(r) === 0x3a && !isBreakCode(s.charCodeAt(r + 1))) continue;
    found = true;
    if (!out) return true;
    push(out, 'email', l, r);
  }
  return found;
};

// credit cards ──────────────────────────────────────────────────────────

const CARD = /(?<![\w.+-]|\d[ -])\d(?:[ -]?\d){12,18}(?![\w]|[ -]\d|[.,]\d)/g;

export function luhnOk(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** A known issuer (IIN range) for a number of this length. */
export function cardIssuerOk(d: string): boolean {
  const len = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d.charCodeAt(0) === 0x34) return len === 13 || len === 16 || len === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return len === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return len === 15; // American Express
  if ((p3 >= 300 && p3 <= 305) || p4 === 3095 || p2 === 36 || p2 === 38 || p2 === 39) return len >= 14 && len <= 19; // Diners
  if (p4 >= 3528 && p4 <= 3589) return len >= 16 && len <= 19; // JCB
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925)) return len >= 16 && len <= 19; // Discover
  if (p2 === 62) return len >= 16 && len <= 19; // UnionPay
  if (p4 >= 2200 && p4 <= 2204) return len >= 16 && len <= 19; // Mir
  if ([5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763].includes(p4)) return len >= 13 && len <= 19; // Maestro
  return false;
}

/** Groups as printed on cards: fours (the last may be shorter), or Amex/Diners 4-6-5 / 4-6-4. */
function cardGroupsOk(m: string): boolean {
  let sep = -1;
  const groups: number[] = [];
  let run = 0;
  for (let i = 0; i < m.length; i++) {
    const c = m.charCodeAt(i);
    if (isDigitCode(c)) run++;
    else {
      if (sep >= 0 && c !== sep) return false;
      sep = c;
      groups.push(run);
      run = 0;
    }
  }
  groups.push(run);
  if (groups.length === 1) return run >= 14 && run <= 16; // unseparated: 17–19 digit runs are mostly ids
  if (groups.length === 3 && groups[0] === 4 && groups[1] === 6 && (groups[2] === 5 || groups[2] === 4)) return true;
  for (let g = 0; g < groups.length - 1; g++) if (groups[g] !== 4) return false;
  return groups[groups.length - 1] >= 1 && groups[groups.length - 1] <= 4;
}

function stripSeparators(m: string): string {
  let d = '';
  for (let i = 0; i < m.length; i++) if (isDigitCode(m.charCodeAt(i))) d += m[i];
  return d;
}

/** A card number as written (digits with optional consistent separators): groups, length, issuer and Luhn. */
export function isCardNumber(m: string): boolean {
  if (!cardGroupsOk(m)) return false;
  const d = stripSeparators(m);
  return d.length >= 13 && d.length <= 19 && cardIssuerOk(d) && luhnOk(d);
}

const findCards: Runner = (s, out) => scanRegex(s, CARD, out, 'credit_card', (m) => isCardNumber(m[0]));

// US SSN ────────────────────────────────────────────────────────────────

const SSN = /(?<![\w.-])(\d{3})-(\d{2})-(\d{4})(?![\w-]|\.\d)/g;

export function ssnOk(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

const findSsns: Runner = (s, out) => scanRegex(s, SSN, out, 'us_ssn', (m) => ssnOk(m[1], m[2], m[3]));

// IBAN ──────────────────────────────────────────────────────────────────

/** IBAN length by country (SWIFT IBAN registry). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19,
  SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

const IBAN_START = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?=[ ]?[A-Z0-9])/g;

/** ISO 7064 mod 97-10 over the rearranged IBAN (letters as 10..35). */
export function ibanChecksumOk(iban: string): boolean {
  let r = 0;
  const n = iban.length;
  for (let k = 0; k < n; k++) {
    const c = iban.charCodeAt((k + 4) % n);
    if (isDigitCode(c)) r = (r * 10 + (c - 48)) % 97;
    else if (c >= 0x41 && c <= 0x5a) r = (r * 100 + (c - 55)) % 97;
    else return false;
  }
  return r === 1;
}

const findIbans: Runner = (s, out) => {
  const re = IBAN_START;
  re.lastIndex = 0;
  let found = false;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const start = m.index;
    const len = IBAN_LENGTHS[m[0].slice(0, 2)];
    if (len === undefined) continue;
    // collect `len` characters, single spaces allowed between groups of four
    let iban = '';
    let i = start;
    while (i < s.length && iban.length < len) {
      const c = s.charCodeAt(i);
      if (isDigitCode(c) || (c >= 0x41 && c <= 0x5a)) {
        iban += s[i];
        i++;
      } else if (c === 0x20 && iban.length % 4 === 0 && iban.length > 0 && i + 1 < s.length && s.charCodeAt(i + 1) !== 0x20) i++;
      else break;
    }
    if (iban.length !== len || (i < s.length && isAlnumCode(s.charCodeAt(i)))) continue;
    if (!ibanChecksumOk(iban)) continue;
    found = true;
    if (!out) return true;
    push(out, 'iban', start, i);
    re.lastIndex = i;
  }
  return found;
};

// phone numbers ─────────────────────────────────────────────────────────

/**
 * Phone shapes, one alternative each, between boundaries that keep them out of longer numbers,
 * identifiers, decimals and dates:
 * 1. international `+CC …` (E.164 with or without separators, an optional `(0)`), 9–15 digits;
 * 2. international `00CC …`, a space after the country code, 9–13 digits after `00`, the
 *    subscriber number not starting with 0;
 * 3. North American `(NPA) NXX-XXXX`, `NPA-NXX-XXXX` (one separator kind), optional leading `1`; the
 *    digits are not held to the numbering plan, so made-up numbers (`123-456-7890`) count too;
 * 4. European national numbers with the trunk `0`, 10–12 digits and one separator kind:
 *    `020 7946 0958`, `06 12 34 56 78`, `06.12.34.56.78`; with `-` or `/` only area and number
 *    (`030/1234567`, `0171-1234567`).
 * Bare digit runs without `+` are never phones: too many ids look like them.
 */
const PHONE = new RegExp(
  String.raw`(?<![\w+.,/:#$€£%-]|\d[ ./-])(?:` +
    String.raw`(?<intl>\+[1-9]\d{0,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){1,6})` +
    String.raw`|(?<zerozero>00[1-9]\d{0,2} (?:\(0\)[ .-]?)?[1-9]\d{0,4}(?:[ .-]?\d{1,5}){1,5})` +
    String.raw`|(?<nanp>(?:1[ .-]?)?(?:\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}(?<s1>[ .-])\d{3}\k<s1>\d{4}))` +
    String.raw`|(?<trunk>0[1-9]\d{0,4}(?<s2>[ ./-])\d{2,8}(?:\k<s2>\d{2,8}){0,3})` +
    String.raw`)(?![\w+]|[ .,/:-]?\d)`,
  'g',
);

function countDigits(m: string): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) if (isDigitCode(m.charCodeAt(i))) n++;
  return n;
}

function phoneOk(m: RegExpExecArray): boolean {
  const g = m.groups as Record<string, string | undefined>;
  if (g.intl !== undefined) {
    const d = countDigits(g.intl);
    return d >= 9 && d <= 15;
  }
  if (g.zerozero !== undefined) {
    const d = countDigits(g.zerozero) - 2;
    return d >= 9 && d <= 13;
  }
  if (g.nanp !== undefined) return true;
  if (g.trunk !== undefined) {
    const d = countDigits(g.trunk);
    if (d < 10 || d > 12) return false; // dates (dd.mm.yyyy) have 8 digits, ZIP+4 codes 9
    // with - or / only "area-subscriber" (0171-1234567, 030/1234567); more groups are part numbers
    return !(g.s2 === '-' || g.s2 === '/') || countSeparators(g.trunk) === 1;
  }
  return false;
}

function countSeparators(m: string): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) if (!isDigitCode(m.charCodeAt(i))) n++;
  return n;
}

const findPhones: Runner = (s, out) => scanRegex(s, PHONE, out, 'phone', phoneOk);

// JWT ───────────────────────────────────────────────────────────────────

const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,}={0,2}\.[A-Za-z0-9_-]{2,}={0,2}\.[A-Za-z0-9_-]*={0,2}/g;

/** The header decodes to a JSON object with a string `alg`. */
export function jwtHeaderOk(token: string): boolean {
  const dot = token.indexOf('.');
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

const findJwts: Runner = (s, out) => scanRegex(s, JWT, out, 'jwt', (m) => jwtHeaderOk(m[0]));

// token families: AWS, GCP, GitHub, Slack, Stripe ───────────────────────

/** An access key id, with the secret key when it follows right after (`AKIA…:secret`, CSV `AKIA…,secret`). */
const AWS_KEY_ID = /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?:[:;,|= \t]{1,3}[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=]))?(?![A-Za-z0-9])/g;
/** `aws_secret_access_key = …`, `SecretAccessKey: "…"`, `secret_key=…`: the 40-character value. */
const AWS_SECRET = /secret_?(?:access_?)?key["']?[ \t]{0,4}(?::|=>?)[ \t]{0,4}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi;

const findAws: Runner = (s, out) => {
  const a = scanRegex(s, AWS_KEY_ID, out, 'aws_key', null);
  if (a && !out) return true;
  return scanRegex(s, AWS_SECRET, out, 'aws_key', null, 1) || a;
};

const GCP_API_KEY = /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g;
/** Service-account key files: the private key and its id. */
const GCP_SA_KEY = /"private_key(?:_id)?"\s*:\s*"((?:-----BEGIN[^"]*)|[0-9a-f]{40}(?="))/dg;

const findGcp: Runner = (s, out) => {
  const a = scanRegex(s, GCP_API_KEY, out, 'gcp_key', null);
  if (a && !out) return true;
  return scanRegex(s, GCP_SA_KEY, out, 'gcp_key', null, 1) || a;
};

const GITHUB = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9_])/g;
const findGithub: Runner = (s, out) => scanRegex(s, GITHUB, out, 'github_token', null);

const SLACK =
  /(?<![A-Za-z0-9_-])(?:xox[abposr]-[A-Za-z0-9-]{10,250}|xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9-]{20,250}|xapp-\d-[A-Za-z0-9-]{20,250})|https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{16,}/g;
const findSlack: Runner = (s, out) => scanRegex(s, SLACK, out, 'slack_token', null);

const STRIPE = /(?<![A-Za-z0-9_])(?:(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{10,247}|whsec_[A-Za-z0-9]{32,})(?![A-Za-z0-9_])/g;
const findStripe: Runner = (s, out) => scanRegex(s, STRIPE, out, 'stripe_key', null);

// PEM private keys, URL passwords ───────────────────────────────────────

/** From BEGIN to the matching END, or to the end of the value when it was cut. */
const PEM = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?(?:-----END \1-----|$)/g;
const findPem: Runner = (s, out) => scanRegex(s, PEM, out, 'private_key', null);

/** scheme://user:password@host — the password (the last `@` before the host ends it). */
const URL_PASSWORD = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/[^\s/?#@:]{0,128}:([^\s/?#]{1,256})@(?=[A-Za-z0-9[])/dg;
const findUrlPasswords: Runner = (s, out) => scanRegex(s, URL_PASSWORD, out, 'url_password', null, 1);

/**
 * Runs a global regex over `s`; each match passing `ok` is a span (of capture `group`, which needs
 * the `d` flag, or of the whole match).
 */
function scanRegex(
  s: string,
  re: RegExp,
  out: PIISpan[] | null,
  detector: Detector,
  ok: ((m: RegExpExecArray) => boolean) | null,
  group = 0,
): boolean {
  re.lastIndex = 0;
  let found = false;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (ok !== null && !ok(m)) {
      re.lastIndex = m.index + 1;
      continue;
    }
    found = true;
    if (!out) break;
    if (group === 0) push(out, detector, m.index, m.index + m[0].length);
    else {
      const span = m.indices?.[group];
      if (span) push(out, detector, span[0], span[1]);
    }
  }
  re.lastIndex = 0;
  return found;
}

/** In DETECTORS order. */
const RUNNERS: Runner[] = [
  findEmails,
  findCards,
  findSsns,
  findIbans,
  findPhones,
  findJwts,
  findAws,
  findGcp,
  findGithub,
  findSlack,
  findStripe,
  findPem,
  findUrlPasswords,
];

function run(s: string, bits: number, out: PIISpan[] | null): boolean {
  let found = false;
  for (let i = 0; i < RUNNERS.length; i++) {
    if ((bits & (1 << i)) === 0) continue;
    if (RUNNERS[i](s, out)) {
      found = true;
      if (!out) return true;
    }
  }
  return found;
}

// ─── API ───────────────────────────────────────────────────────────────────────────────────────

function utf8Text(b: Uint8Array): string {
  return (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('utf8');
}

/** True when the value (a string, or UTF-8 bytes straight from a row) holds anything the detectors find. */
export function containsPII(value: string | Uint8Array, detectors: DetectorSet | readonly Detector[] = ALL_DETECTORS): boolean {
  const enabled = bitsOf(detectors);
  if (typeof value === 'string') {
    const bits = candidateBitsString(value, enabled);
    return bits !== 0 && run(value, bits, null);
  }
  const bits = candidateBitsBytes(value, enabled);
  return bits !== 0 && run(utf8Text(value), bits, null);
}

/** Every finding in `value`, in the order of the detectors then of position (overlaps possible). */
export function findPII(value: string, detectors: DetectorSet | readonly Detector[] = ALL_DETECTORS): PIISpan[] {
  const out: PIISpan[] = [];
  const bits = candidateBitsString(value, bitsOf(detectors));
  if (bits !== 0) run(value, bits, out);
  return out;
}

/** `findPII` without the pre-check: every enabled detector runs. For tests that hold the pre-check to being exact. */
export function findPIIExhaustive(value: string, detectors: DetectorSet | readonly Detector[] = ALL_DETECTORS): PIISpan[] {
  const out: PIISpan[] = [];
  run(value, bitsOf(detectors), out);
  return out;
}

/** The detectors that find something in `value` (for audit counts), in DETECTORS order. */
export function detectedIn(value: string | Uint8Array, detectors: DetectorSet | readonly Detector[] = ALL_DETECTORS): Detector[] {
  const s = typeof value === 'string' ? value : utf8Text(value);
  const bits = typeof value === 'string' ? candidateBitsString(s, bitsOf(detectors)) : candidateBitsBytes(value, bitsOf(detectors));
  const found: Detector[] = [];
  for (let i = 0; i < RUNNERS.length; i++) if ((bits & (1 << i)) !== 0 && RUNNERS[i](s, null)) found.push(DETECTORS[i]);
  return found;
}

/** The findings sorted by start and merged where they overlap or touch. */
export function mergeSpans(spans: PIISpan[]): PIISpan[] {
  if (spans.length <= 1) return spans;
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: PIISpan[] = [{ ...sorted[0] }];
  for (let i = 1; i < sorted.length; i++) {
    const last = merged[merged.length - 1];
    const s = sorted[i];
    if (s.start <= last.end) {
      if (s.end > last.end) last.end = s.end;
    } else merged.push({ ...s });
  }
  return merged;
}

export type SpanReplacement = string | ((detector: Detector, found: string) => string);

function applySpans(value: string, spans: PIISpan[], replacement: SpanReplacement): string {
  let out = '';
  let pos = 0;
  for (const sp of mergeSpans(spans)) {
    out += value.slice(pos, sp.start);
    out += typeof replacement === 'string' ? replacement : replacement(sp.detector, value.slice(sp.start, sp.end));
    pos = sp.end;
  }
  return out + value.slice(pos);
}

/**
 * `value` with every finding replaced by `replacement` (default `[redacted]`; a function gets the
 * detector and the text found). Overlapping findings are replaced once, by the earliest-starting
 * (then longest) finding's replacement. Returns `value` itself when nothing is found.
 */
export function redactSpans(
  value: string,
  detectors: DetectorSet | readonly Detector[] = ALL_DETECTORS,
  replacement: SpanReplacement = '[redacted]',
): string {
  const spans = findPII(value, detectors);
  return spans.length === 0 ? value : applySpans(value, spans, replacement);
}

/**
 * `redactSpans` for a field's UTF-8 bytes: the same Buffer back (no copy) when nothing is found,
 * which is the common case; otherwise the redacted text as new bytes.
 */
export function redactSpansBuffer(
  value: Buffer,
  detectors: DetectorSet | readonly Detector[] = ALL_DETECTORS,
  replacement: SpanReplacement = '[redacted]',
): Buffer {
  const bits = candidateBitsBytes(value, bitsOf(detectors));
  if (bits === 0) return value;
  const s = value.toString('utf8');
  const spans: PIISpan[] = [];
  if (!run(s, bits, spans)) return value;
  return Buffer.from(applySpans(s, spans, replacement), 'utf8');
}

// ─── structured text: JSON documents, Postgres arrays ──────────────────────────────────────────

/** A stretch of a structured value that holds data: a JSON string or number, an array element. */
interface Token {
  /** the token's text, quotes included: `text[start, end)` */
  start: number;
  end: number;
  /** its content, quotes excluded (escapes still written) */
  contentStart: number;
  contentEnd: number;
  /** the content holds escapes: what it stands for differs from its text */
  escaped: boolean;
}

/** How one structured format finds, reads and writes its data tokens. */
interface Syntax {
  /** the next token at or after `i` */
  next(text: string, i: number): Token | undefined;
  /** what `text[from, to)` (a token's content) stands for */
  decode(text: string, from: number, to: number): string;
  /** how many characters of text the (escaped) character at `i` takes, within `to` */
  unit(text: string, i: number, to: number): number;
  /** a value written as a token, quoted and escaped */
  encode(value: string): string;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

function isJsonNumberCode(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

/** A `"…"` token from `i` (at the quote), backslash escaping the next character. */
function quotedToken(text: string, i: number): Token {
  const n = text.length;
  let j = i + 1;
  let escaped = false;
  while (j < n) {
    const d = text.charCodeAt(j);
    if (d === 0x5c) {
      escaped = true;
      j += 2;
    } else if (d === 0x22) break;
    else j++;
  }
  return { start: i, end: Math.min(j + 1, n), contentStart: i + 1, contentEnd: Math.min(j, n), escaped };
}

const JSON_SYNTAX: Syntax = {
  next(text, i) {
    for (const n = text.length; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return quotedToken(text, i);
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        let j = i + 1;
        while (j < n && isJsonNumberCode(text.charCodeAt(j))) j++;
        return { start: i, end: j, contentStart: i, contentEnd: j, escaped: false };
      }
    }
    return undefined;
  },
  /**
   * Lenient: an escape JSON does not have stands for its character, a short `\u` for what it has, so
   * whatever the document holds, the detectors see what a JSON parser would give back.
   */
  decode(text, from, to) {
    let out = '';
    let run = from;
    for (let i = from; i < to; i++) {
      if (text.charCodeAt(i) !== 0x5c) continue;
      out += text.slice(run, i);
      const e = text.charCodeAt(++i);
      switch (e) {
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          let code = 0;
          let k = 0;
          for (; k < 4 && i + 1 + k < to; k++) {
            const h = hexValue(text.charCodeAt(i + 1 + k));
            if (h < 0) break;
            code = code * 16 + h;
          }
          out += String.fromCharCode(code);
          i += k;
          break;
        }
        default:
          if (i < to) out += text[i];
      }
      run = i + 1;
    }
    return out + text.slice(run, to);
  },
  unit(text, i, to) {
    if (text.charCodeAt(i) !== 0x5c) return 1;
    let w = 2;
    if (text.charCodeAt(i + 1) === 0x75) while (w < 6 && i + w < to && hexValue(text.charCodeAt(i + w)) >= 0) w++;
    return Math.min(w, to - i);
  },
  encode: (v) => JSON.stringify(v),
};

/** Postgres array text (`{a,"b c",{d}}`, `[0:1]={…}`): elements quoted or bare, `\` escaping in both. */
const PG_ARRAY_SYNTAX: Syntax = {
  next(text, i) {
    const n = text.length;
    // dimensions before `=` are not data
    if (i === 0 && text.charCodeAt(0) === 0x5b) {
      const eq = text.indexOf('=');
      i = eq < 0 ? n : eq + 1;
    }
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return quotedToken(text, i);
      if (c === 0x7b || c === 0x7d || c === 0x2c || c <= 0x20) continue;
      let j = i;
      let escaped = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
        } else if (d === 0x7b || d === 0x7d || d === 0x2c || d === 0x22 || d <= 0x20) break;
        else j++;
      }
      j = Math.min(j, n);
      return { start: i, end: j, contentStart: i, contentEnd: j, escaped };
    }
    return undefined;
  },
  decode(text, from, to) {
    let out = '';
    let run = from;
    for (let i = from; i < to; i++) {
      if (text.charCodeAt(i) !== 0x5c) continue;
      out += text.slice(run, i);
      if (i + 1 < to) out += text[i + 1];
      run = ++i + 1;
    }
    return out + text.slice(Math.min(run, to), to);
  },
  unit: (text, i, to) => (text.charCodeAt(i) === 0x5c ? Math.min(2, to - i) : 1),
  encode: (v) => `"${v.replace(/["\\]/g, '\\$&')}"`,
};

/**
 * Where the text stretch `text[s, e)` of a token's content `text[from, to)` lies in the decoded
 * value: every character whose escape overlaps the stretch is inside.
 */
function decodedRange(syntax: Syntax, text: string, from: number, to: number, s: number, e: number): [number, number] {
  let start = -1;
  let d = 0;
  for (let i = from; i < to && i < e; ) {
    const next = i + syntax.unit(text, i, to);
    if (next > s && start < 0) start = d;
    d++;
    i = next;
  }
  return [start < 0 ? d : start, d];
}

/**
 * Detector findings replaced in a structured value: every data token is scanned as the value it
 * stands for (escapes decoded), and a token with a finding is written back quoted and escaped by
 * `syntax`, so no replacement can break the value or add to its structure. The value's own text is
 * scanned too: a finding there inside one token covers the characters its text stands for (an escape
 * it cuts into included); one that crosses a token's edge replaces each token it touches whole.
 */
function redactTokens(value: Buffer, detectors: DetectorSet | readonly Detector[], replacement: SpanReplacement, syntax: Syntax): Buffer {
  const bits = candidateBitsBytes(value, bitsOf(detectors));
  // without escapes every token's value is a stretch of the text, so the text's pre-check covers them
  if (bits === 0 && value.indexOf(0x5c) < 0) return value;
  const text = value.toString('utf8');
  const found: PIISpan[] = [];
  if (bits !== 0) run(text, bits, found);
  const raw = mergeSpans(found);
  let out = '';
  let pos = 0;
  let changed = false;
  let first = 0; // the first finding of the text scan that may still touch a token
  for (let t = syntax.next(text, 0); t; t = syntax.next(text, t.end)) {
    const content = t.escaped ? syntax.decode(text, t.contentStart, t.contentEnd) : text.slice(t.contentStart, t.contentEnd);
    const spans = findPII(content, detectors);
    let whole: Detector | undefined;
    while (first < raw.length && raw[first].end <= t.start) first++;
    for (let k = first; k < raw.length && raw[k].start < t.end; k++) {
      const sp = raw[k];
      if (sp.start < t.contentStart || sp.end > t.contentEnd) whole ??= sp.detector;
      else if (!t.escaped) spans.push({ detector: sp.detector, start: sp.start - t.contentStart, end: sp.end - t.contentStart });
      else {
        const [start, end] = decodedRange(syntax, text, t.contentStart, t.contentEnd, sp.start, sp.end);
        spans.push({ detector: sp.detector, start, end });
      }
    }
    if (whole === undefined && spans.length === 0) continue;
    let masked = whole !== undefined ? (typeof replacement === 'string' ? replacement : replacement(whole, content)) : applySpans(content, spans, replacement);
    // an element of a json[] / jsonb[] array must stay a JSON document (the array's input parses it)
    if (syntax === PG_ARRAY_SYNTAX && isJsonText(content)) masked = jsonElement(content, whole, masked, detectors, replacement);
    out += text.slice(pos, t.start) + syntax.encode(masked);
    pos = t.end;
    changed = true;
  }
  return changed ? Buffer.from(out + text.slice(pos), 'utf8') : value;
}

/** true when the text is one JSON document (an element of a text[] may be one too: masked alike, still masked). */
function isJsonText(text: string): boolean {
  const c = text.charCodeAt(0);
  // a JSON document starts with one of `{["-tfn` or a digit (leading white space is allowed)
  if (!(c === 0x7b || c === 0x5b || c === 0x22 || c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e || c <= 0x20)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A JSON array element with a finding, masked as JSON: strings and numbers with findings replaced by
 * JSON strings (redactSpansJson); a finding across the element's edge, or one the JSON scan does not
 * see, makes the whole element a JSON string of the replacement.
 */
function jsonElement(content: string, whole: Detector | undefined, plain: string, detectors: DetectorSet | readonly Detector[], replacement: SpanReplacement): string {
  if (whole === undefined) {
    const src = Buffer.from(content, 'utf8');
    const out = redactSpansJson(src, detectors, replacement);
    if (out !== src) return out.toString('utf8');
  }
  return JSON.stringify(plain);
}

/**
 * `redactSpansBuffer` for a JSON document (json, jsonb): every string — keys too — and every number
 * is scanned as the value it stands for (escapes decoded: `bob\u0040example.com` is an email), and a
 * token with a finding is written back as a JSON string with the replacement escaped (`"`, `\`,
 * control characters), so a replacement can neither break the document nor add keys; a number with a
 * finding becomes a string. A finding of the scan over the document's own text that crosses the edge
 * of a token (a key block split over several strings, say) replaces each token it touches whole.
 * The output is valid JSON whenever the input is. The same Buffer back when nothing is found.
 */
export function redactSpansJson(
  value: Buffer,
  detectors: DetectorSet | readonly Detector[] = ALL_DETECTORS,
  replacement: SpanReplacement = '[redacted]',
): Buffer {
  return redactTokens(value, detectors, replacement, JSON_SYNTAX);
}

/**
 * `redactSpansBuffer` for a Postgres array in text format (`{a,"b c"}`): each element is scanned as
 * its value, and an element with a finding is written back double-quoted with `"` and `\` escaped,
 * so a replacement cannot split an element, add one or end the array. The same Buffer back when
 * nothing is found.
 */
export function redactSpansPgArray(
  value: Buffer,
  detectors: DetectorSet | readonly Detector[] = ALL_DETECTORS,
  replacement: SpanReplacement = '[redacted]',
): Buffer {
  return redactTokens(value, detectors, replacement, PG_ARRAY_SYNTAX);
}
