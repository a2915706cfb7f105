import type { Detector } from '../model.js';

/**
 * Seeded generators of realistic data for measuring the detectors: ordinary values that hold no
 * PII (order numbers, amounts, dates, SKUs, versions, IPs, hashes, logs, code, prose, addresses,
 * ISBNs, tracking numbers, ids …) and values that hold one PII item of a known kind. Deterministic
 * per seed, so the precision test's numbers are reproducible. Used by the tests and the benchmark;
 * not part of the package's API.
 */

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** mulberry32 */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
  digits(n: number): string {
    return this.chars('0123456789', n);
  }
  hex(n: number): string {
    return this.chars('0123456789abcdef', n);
  }
  alnum(n: number): string {
    return this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', n);
  }
  upper(n: number): string {
    return this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', n);
  }
  lower(n: number): string {
    return this.chars('abcdefghijklmnopqrstuvwxyz', n);
  }
  b64(n: number): string {
    return this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', n);
  }
  b64url(n: number): string {
    return this.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', n);
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

const WORDS = (
  'the of and to in is was for on that with as by at from it this be are or an have not which but had were they all has ' +
  'their more one been would there when can other into some time out only new also after first made many over such most ' +
  'system order shipment customer product warehouse report quarter revenue invoice payment status delivery inventory ' +
  'meeting project release version update server database query index table column schema migration backup replica ' +
  'latency throughput request response error warning retry timeout connection session cache queue worker job batch ' +
  'review approve pending shipped delivered cancelled refunded account balance total discount tax subtotal price unit ' +
  'north south east west region team manager engineer analyst support ticket priority high low medium critical resolved ' +
  'monday tuesday wednesday thursday friday january february march april may june july august september october november december'
).split(' ');
const CITIES = ['Springfield', 'Riverside', 'Franklin', 'Greenville', 'Bristol', 'Clinton', 'Fairview', 'Salem', 'Madison', 'Georgetown', 'Berlin', 'Lyon', 'Manchester', 'Utrecht', 'Porto'];
const STREETS = ['Main St', 'Oak Ave', 'Maple Dr', 'Cedar Ln', 'Elm St', 'Park Rd', 'Washington Blvd', 'Lake View Ct', 'Hauptstraße', 'Rue de la Paix', 'High Street', 'Kerkstraat'];
const STATES = ['CA', 'NY', 'TX', 'IL', 'WA', 'MA', 'OR', 'CO', 'FL', 'GA'];
const FIRST = ['james', 'mary', 'john', 'patricia', 'robert', 'jennifer', 'michael', 'linda', 'david', 'elizabeth', 'wei', 'priya', 'ahmed', 'sofia', 'lukas', 'chloé', 'mateo', 'yuki', 'olga', 'kwame'];
const LAST = ['smith', 'johnson', 'williams', 'brown', 'jones', 'garcia', 'miller', 'davis', 'rodriguez', 'martinez', 'nguyen', 'müller', 'rossi', 'dubois', 'kowalski', 'tanaka', 'okafor', 'silva'];
const TLDS = ['com', 'org', 'net', 'io', 'co.uk', 'de', 'fr', 'com.au', 'dev', 'app', 'nl', 'es', 'ca', 'info', 'tech'];

function date(r: Rng): [number, number, number] {
  return [r.int(1990, 2030), r.int(1, 12), r.int(1, 28)];
}
function time(r: Rng): string {
  return `${pad(r.int(0, 23), 2)}:${pad(r.int(0, 59), 2)}:${pad(r.int(0, 59), 2)}`;
}
function isoDate(r: Rng): string {
  const [y, m, d] = date(r);
  return `${y}-${pad(m, 2)}-${pad(d, 2)}`;
}
function sentence(r: Rng, n: number): string {
  const w: string[] = [];
  for (let i = 0; i < n; i++) w.push(r.pick(WORDS));
  w[0] = w[0][0].toUpperCase() + w[0].slice(1);
  return `${w.join(' ')}.`;
}
function money(r: Rng): string {
  const v = r.int(0, 99_999_999) / 100;
  return v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
function eanCheck(d: string): string {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += Number(d[d.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return String((10 - (s % 10)) % 10);
}
function isbn10(r: Rng): string {
  const d = r.digits(9);
  let s = 0;
  for (let i = 0; i < 9; i++) s += Number(d[i]) * (10 - i);
  const c = (11 - (s % 11)) % 11;
  return d + (c === 10 ? 'X' : String(c));
}
function ipv4(r: Rng): string {
  return `${r.pick([10, 172, 192, r.int(1, 223)])}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
}
function ipv6(r: Rng): string {
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(r.hex(r.int(1, 4)));
  return r.chance(0.5) ? g.join(':') : `2001:db8::${g[7]}`;
}
function uuid(r: Rng): string {
  const h = r.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${r.pick(['8', '9', 'a', 'b'])}${h.slice(17, 20)}-${h.slice(20)}`;
}
function bigId(r: Rng): string {
  return (BigInt(r.int(0, 0x7fffffff)) * 4294967296n + BigInt(r.int(0, 0xffffffff))).toString();
}

/** One generator per category of ordinary, non-PII values. */
export const NON_PII_CATEGORIES: Record<string, (r: Rng) => string> = {
  order_number: (r) =>
    r.pick([
      () => `ORD-${r.int(2019, 2025)}-${pad(r.int(1, 999999), 6)}`,
      () => `#${r.int(1000, 9999999)}`,
      () => `SO-${r.int(10000, 99999)}`,
      () => `PO ${r.pick(['45', '48'])}${r.digits(8)}`,
      () => r.digits(10),
      () => `${r.digits(3)}-${r.digits(7)}-${r.digits(7)}`,
      () => `INV-${pad(r.int(1, 99999), 6)}`,
      () => `Order ${r.int(100000, 999999)} placed on ${isoDate(r)}`,
      () => `${r.upper(2)}${r.digits(8)}`,
    ])(),
  amount: (r) =>
    r.pick([
      () => `$${money(r)}`,
      () => (r.int(0, 9_999_999) / 100).toFixed(2),
      () => `EUR ${money(r).replace(/,/g, ' ').replace('.', ',')}`,
      () => `-${r.int(1, 99999)}.${r.digits(2)}`,
      () => `${money(r)} USD`,
      () => `¥${r.int(100, 9_999_999)}`,
      () => `${r.int(1, 999)} ${pad(r.int(0, 999), 3)} ${pad(r.int(0, 999), 3)},${r.digits(2)} €`,
      () => String(r.int(0, 99_999_999_999) / 100),
      () => `total=${r.int(1, 999999)}.${r.digits(2)} tax=${r.int(1, 9999)}.${r.digits(2)}`,
    ])(),
  date: (r) => {
    const [y, m, d] = date(r);
    return r.pick([
      `${y}-${pad(m, 2)}-${pad(d, 2)}`,
      `${pad(d, 2)}/${pad(m, 2)}/${y}`,
      `${pad(m, 2)}/${pad(d, 2)}/${y}`,
      `${pad(d, 2)}.${pad(m, 2)}.${y}`,
      `${y}${pad(m, 2)}${pad(d, 2)}`,
      `${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m - 1]} ${d}, ${y}`,
      `${y}-${pad(m, 2)}-${pad(d, 2)} to ${y}-${pad(m, 2)}-${pad(Math.min(d + 3, 28), 2)}`,
      `${pad(d, 2)} ${pad(m, 2)} ${y}`,
      `Q${r.int(1, 4)} ${y}`,
    ]);
  },
  timestamp: (r) =>
    r.pick([
      () => `${isoDate(r)}T${time(r)}.${r.digits(3)}Z`,
      () => `${isoDate(r)} ${time(r)}.${r.digits(6)}+${pad(r.int(0, 12), 2)}`,
      () => String(r.int(946684800, 1900000000)),
      () => String(r.int(946684800, 1900000000) * 1000 + r.int(0, 999)),
      () => `${r.pick(['Mon', 'Tue', 'Wed', 'Thu', 'Fri'])}, ${r.int(1, 28)} May ${r.int(2000, 2030)} ${time(r)} GMT`,
      () => `${isoDate(r)} ${time(r)}`,
      () => `${r.int(1700000000, 1800000000)}${r.digits(9)}`,
      () => `${isoDate(r)}T${time(r)}+0${r.int(0, 9)}:00`,
    ])(),
  sku: (r) =>
    r.pick([
      () => `SKU-${r.upper(2)}${r.digits(2)}-${r.digits(4)}`,
      () => `${r.upper(2)}-${r.int(100, 9999)}${r.upper(2)}${r.int(1, 9)}`,
      () => `B0${r.upper(1)}${r.chars('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 7)}`,
      () => {
        const d = `${r.int(400, 440)}${r.digits(9)}`;
        return d + eanCheck(d);
      },
      () => {
        const d = `${r.int(0, 9)}${r.digits(10)}`;
        return d + eanCheck(d);
      },
      () => {
        const d = `${r.int(0, 1)}${r.digits(12)}`;
        return d + eanCheck(d);
      },
      () => `${r.digits(3)}-${r.digits(3)}-${r.digits(3)}`,
      () => `P/N ${r.digits(4)}-${r.digits(4)}-${r.digits(2)}`,
    ])(),
  version: (r) =>
    r.pick([
      () => `${r.int(0, 30)}.${r.int(0, 50)}.${r.int(0, 200)}`,
      () => `v${r.int(0, 30)}.${r.int(0, 50)}.${r.int(0, 20)}`,
      () => `${r.int(1, 9)}.${r.int(0, 9)}.${r.int(0, 9)}-beta.${r.int(1, 9)}+build.${r.int(1, 9999)}`,
      () => `10.0.${r.int(10000, 22631)}.${r.int(1, 4000)}`,
      () => `${r.int(2019, 2025)}.${pad(r.int(1, 12), 2)}.${r.int(1, 31)}`,
      () => `PostgreSQL ${r.int(12, 17)}.${r.int(0, 9)} on x86_64-pc-linux-gnu, compiled by gcc (GCC) ${r.int(8, 13)}.${r.int(1, 3)}.0, 64-bit`,
    ])(),
  ip_address: (r) =>
    r.pick([
      () => ipv4(r),
      () => `${ipv4(r)}:${r.int(1, 65535)}`,
      () => ipv6(r),
      () => `${ipv4(r)}/${r.int(8, 32)}`,
      () => `[${ipv6(r)}]:${r.int(1024, 65535)}`,
    ])(),
  uuid: (r) => uuid(r),
  hash: (r) =>
    r.pick([
      () => r.hex(32),
      () => r.hex(40),
      () => r.hex(64),
      () => `sha256:${r.hex(64)}`,
      () => r.hex(7),
      () => `0x${r.hex(8)}`,
      () => `${r.b64(43)}=`,
      () => r.hex(40).toUpperCase(),
      () => `$2b$12$${r.b64(53).replace(/\+/g, '.')}`,
      () => r.b64(40),
    ])(),
  log_line: (r) =>
    r.pick([
      () => `${isoDate(r)}T${time(r)}.${r.digits(3)}Z INFO [worker-${r.int(1, 16)}] processed ${r.int(1, 99999)} jobs in ${r.int(1, 9999)}ms (pid=${r.int(100, 99999)})`,
      () => `${ipv4(r)} - - [${r.int(1, 28)}/May/${r.int(2019, 2025)}:${time(r)} +0000] "GET /api/v1/orders/${r.int(1, 9999999)} HTTP/1.1" ${r.pick([200, 201, 304, 404, 500])} ${r.int(0, 99999)}`,
      () => `WARN  ${isoDate(r)} ${time(r)},${r.digits(3)} c.e.s.PaymentService - retry ${r.int(1, 5)}/5 for txn ${r.hex(12)} after ${r.int(100, 5000)} ms`,
      () => `May ${r.int(1, 28)} ${time(r)} host-${r.int(1, 99)} kernel: [${r.int(1, 99999)}.${r.digits(6)}] eth0: link up, ${r.pick([100, 1000, 10000])} Mbps`,
      () => `ERROR: duplicate key value violates unique constraint "orders_pkey" DETAIL: Key (id)=(${r.int(1, 99999999)}) already exists.`,
      () => `level=info ts=${isoDate(r)}T${time(r)}Z caller=main.go:${r.int(10, 999)} msg="compaction done" blocks=${r.int(1, 99)} duration=${r.int(1, 999)}ms`,
      () => `[${time(r)}] checkpoint complete: wrote ${r.int(1, 99999)} buffers (${r.int(0, 99)}.${r.int(0, 9)}%); 0 WAL file(s) added, ${r.int(0, 9)} removed, ${r.int(0, 9)} recycled; write=${r.int(0, 300)}.${r.digits(3)} s`,
    ])(),
  code: (r) =>
    r.pick([
      () => `if (count >= ${r.int(1, 1000)}) { return items.slice(0, ${r.int(1, 100)}); }`,
      () => `SELECT id, total FROM orders WHERE created_at > '${isoDate(r)}' AND total > ${r.int(1, 9999)} LIMIT ${r.int(1, 500)};`,
      () => `const timeoutMs = ${r.int(100, 60000)}; // retry after ${r.int(1, 60)}s`,
      () => `import { ${r.pick(['useState', 'useEffect', 'useMemo'])} } from 'react';`,
      () => `@media screen and (max-width: ${r.int(320, 1920)}px) { .col-${r.int(1, 12)} { width: ${r.int(1, 100)}%; } }`,
      () => `def handler(event, context):\n    return {"statusCode": ${r.pick([200, 404])}, "body": json.dumps(event)}`,
      () => `background: url("/img/logo@2x.png"); color: #${r.hex(6)};`,
      () => `"dependencies": { "lodash": "^4.17.${r.int(0, 21)}", "@types/node": "${r.int(16, 22)}.${r.int(0, 20)}.${r.int(0, 9)}" }`,
      () => `npm install @scope/pkg@${r.int(1, 9)}.${r.int(0, 9)}.${r.int(0, 9)}`,
      () => `git clone git@github.com:${r.lower(6)}/${r.lower(8)}.git`,
      () => `export AWS_REGION=us-east-${r.int(1, 2)}; export AWS_SECRET_ACCESS_KEY=$${r.pick(['SECRET', 'AWS_SECRET'])}`,
      () => `for (let i = 0; i < ${r.int(2, 100)}; i++) sum += a[i] * ${r.int(2, 9)};`,
      () => `password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=${r.int(10, 14)}))`,
      () => `docker pull nginx@sha256:${r.hex(64)}`,
    ])(),
  prose: (r) => Array.from({ length: r.int(1, 4) }, () => sentence(r, r.int(5, 20))).join(' '),
  address: (r) =>
    r.pick([
      () => `${r.int(1, 9999)} ${r.pick(STREETS)}, ${r.pick(CITIES)}, ${r.pick(STATES)} ${pad(r.int(501, 99950), 5)}`,
      () => `Apt ${r.int(1, 40)}${r.upper(1)}, ${r.int(1, 2000)} ${r.pick(STREETS)}, ${r.pick(CITIES)} ${pad(r.int(1000, 99999), 5)}-${pad(r.int(1, 9999), 4)}`,
      () => `${r.pick(STREETS)} ${r.int(1, 200)}, ${pad(r.int(10000, 99999), 5)} ${r.pick(CITIES)}`,
      () => `PO Box ${r.int(1, 99999)}, ${r.pick(CITIES)}, ${r.pick(STATES)}`,
      () => `Unit ${r.int(1, 99)}, ${r.int(1, 300)} ${r.pick(STREETS)}, ${r.pick(CITIES)} ${r.upper(2)}${r.int(1, 9)} ${r.int(1, 9)}${r.upper(2)}`,
    ])(),
  isbn: (r) =>
    r.pick([
      () => {
        const d = `978${r.digits(9)}`;
        return d + eanCheck(d);
      },
      () => {
        const d = `97${r.int(8, 9)}${r.digits(9)}`;
        const full = d + eanCheck(d);
        return `${full.slice(0, 3)}-${full[3]}-${full.slice(4, 6)}-${full.slice(6, 12)}-${full[12]}`;
      },
      () => {
        const d = isbn10(r);
        return `${d[0]}-${d.slice(1, 4)}-${d.slice(4, 9)}-${d[9]}`;
      },
      () => `ISBN ${isbn10(r)}`,
    ])(),
  tracking_number: (r) =>
    r.pick([
      () => `1Z${r.upper(3)}${r.alnum(3).toUpperCase()}${r.digits(10)}`,
      () => r.digits(12),
      () => `96${r.digits(20)}`,
      () => {
        const d = `9400${r.digits(18)}`;
        return d.replace(/(\d{4})(?=\d)/g, '$1 ');
      },
      () => r.digits(10),
      () => `${r.upper(2)}${r.digits(9)}GB`,
      () => `JJD${r.digits(18)}`,
      () => `TBA${r.digits(12)}`,
    ])(),
  numeric_id: (r) =>
    r.pick([
      () => bigId(r),
      () => String(r.int(1, 2_000_000_000)),
      () => pad(r.int(1, 99999999), 10),
      () => `${r.int(1000000000, 1999999999)}${r.digits(9)}`,
      () => `user_${r.int(1, 9999999)}`,
      () => `cus_${r.alnum(14)}`,
      () => `${r.int(100000, 999999)}${r.digits(10)}`,
    ])(),
  url: (r) =>
    r.pick([
      () => `https://www.${r.lower(8)}.com/${r.lower(5)}/${r.int(1, 99999)}?page=${r.int(1, 50)}&sort=desc`,
      () => `ssh://git@github.com/${r.lower(6)}/${r.lower(6)}.git`,
      () => `https://${r.lower(6)}@bitbucket.org/${r.lower(6)}/${r.lower(6)}.git`,
      () => `s3://bucket-${r.lower(5)}/exports/${isoDate(r)}/part-${pad(r.int(0, 999), 5)}.parquet`,
      () => `postgres://${r.lower(6)}@db-${r.int(1, 9)}.internal:5432/${r.lower(6)}`,
      () => `https://cdn.example.net/assets/${r.hex(8)}/app.${r.hex(8)}.js`,
      () => `https://example.com/contact?ref=${r.lower(5)}&utm_source=newsletter`,
    ])(),
  file_path: (r) =>
    r.pick([
      () => `/var/log/app/${r.lower(6)}-${isoDate(r)}.log`,
      () => `C:\\Users\\Public\\Documents\\report_${r.int(2019, 2025)}_${pad(r.int(1, 12), 2)}.xlsx`,
      () => `./node_modules/@babel/core/lib/index.js:${r.int(1, 999)}:${r.int(1, 99)}`,
      () => `images/icon-${r.int(16, 512)}@${r.int(1, 3)}x.png`,
      () => `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`,
    ])(),
  measurement: (r) =>
    r.pick([
      () => `${(r.int(-9000, 9000) / 100).toFixed(4)}, ${(r.int(-18000, 18000) / 100).toFixed(4)}`,
      () => `${r.int(1, 999)}.${r.int(0, 9)} kg`,
      () => `${r.pick([1280, 1920, 2560, 3840])}x${r.pick([720, 1080, 1440, 2160])}`,
      () => `${r.int(-40, 45)}.${r.int(0, 9)}°C`,
      () => `${r.int(1, 100)}% of ${r.int(1, 9999)} units`,
      () => `${r.int(1, 99)}.${r.digits(3)} ${r.pick(['ms', 's', 'MB', 'GB', 'req/s'])}`,
    ])(),
  duration: (r) =>
    r.pick([
      () => time(r),
      () => `PT${r.int(1, 23)}H${r.int(1, 59)}M`,
      () => `${r.int(1, 23)}h ${r.int(1, 59)}m ${r.int(1, 59)}s`,
      () => `${r.int(1, 365)} days ${time(r)}`,
      () => `${time(r)}-${time(r)}`,
    ])(),
  misc: (r) =>
    r.pick([
      () => Array.from({ length: 6 }, () => r.hex(2)).join(':'),
      () => `#${r.hex(6)}`,
      () => `HTTP/1.1 ${r.pick([200, 301, 404, 503])} ${r.pick(['OK', 'Moved Permanently', 'Not Found', 'Service Unavailable'])}`,
      () => `${pad(r.int(10000, 99999), 5)}-${pad(r.int(0, 9999), 4)}`,
      () => `${pad(r.int(0, 99), 2)}-${pad(r.int(0, 99), 2)}-${pad(r.int(0, 99), 2)}`,
      () => `Table ${r.int(1, 40)}, seats ${r.int(1, 12)}, row ${r.upper(1)}`,
      () => `${r.int(1, 9)} ${r.int(10, 99)} ${r.int(100, 999)} ${r.int(1000, 9999)}`,
      () => `Score: ${r.int(0, 99)}-${r.int(0, 99)} (${r.int(1, 4)}Q ${time(r).slice(3)})`,
      () => `@${r.lower(8)} mentioned you in #${r.lower(6)}`,
      () => `${r.int(1, 30)} x ${r.int(1, 30)} x ${r.int(1, 30)} cm`,
      () => `<Buffer ${Array.from({ length: r.int(8, 24) }, () => (r.chance(0.5) ? '00' : r.hex(2))).join(' ')}>`,
      () => `failed tests: ${Array.from({ length: r.int(2, 8) }, () => r.int(1, 2000)).join(' ')}`,
      () => `pkg-${r.int(1, 20)}.${r.int(0, 9)}~+${r.int(2015, 2025)}${r.digits(10)}+${r.hex(10)}-1`,
    ])(),
  json_document: (r) =>
    JSON.stringify({
      id: r.int(1, 999999),
      status: r.pick(['open', 'closed', 'pending']),
      created: `${isoDate(r)}T${time(r)}Z`,
      items: Array.from({ length: r.int(1, 3) }, () => ({ sku: `SKU-${r.digits(6)}`, qty: r.int(1, 9), price: r.int(1, 99999) / 100 })),
      trace_id: r.hex(32),
    }),
  ticket_text: (r) =>
    r.pick([
      () => `Customer reported issue #${r.int(1000, 99999)} with order ORD-${r.int(2019, 2025)}-${pad(r.int(1, 999999), 6)} at ${time(r).slice(0, 5)}; refund of $${r.int(1, 999)}.${r.digits(2)} approved.`,
      () => `Ticket ${r.upper(3)}-${r.int(1, 9999)} escalated to tier ${r.int(2, 3)} after ${r.int(2, 72)} hours (SLA ${r.int(4, 48)}h).`,
      () => `Replaced unit S/N ${r.upper(2)}${r.digits(10)}; firmware ${r.int(1, 9)}.${r.int(0, 99)}.${r.int(0, 999)} installed on ${isoDate(r)}.`,
      () => `Batch ${r.int(100000, 999999)}: ${r.int(1, 9999)} rows imported, ${r.int(0, 99)} rejected (line ${r.int(1, 99999)}: invalid date "${pad(r.int(1, 31), 2)}/${pad(r.int(1, 12), 2)}/${r.int(1990, 2030)}").`,
    ])(),
  config: (r) =>
    r.pick([
      () => `max_connections=${r.int(10, 1000)}\nshared_buffers=${r.int(1, 64)}GB\nport=${r.pick([5432, 6432, 3306])}`,
      () => `listen: 0.0.0.0:${r.int(1024, 65535)}\nworkers: ${r.int(1, 64)}\ntimeout: ${r.int(1, 300)}s`,
      () => `[server]\nhost = "db-${r.int(1, 9)}.internal"\nport = ${r.int(1024, 65535)}\npassword_file = "/run/secrets/db"`,
      () => `JAVA_OPTS="-Xms${r.int(1, 8)}g -Xmx${r.int(8, 32)}g -XX:MaxGCPauseMillis=${r.int(50, 500)}"`,
    ])(),
  csv_row: (r) => [r.int(1, 99999), isoDate(r), r.pick(CITIES), money(r).replace(/,/g, ''), r.pick(['yes', 'no']), r.int(0, 999)].join(','),
};

// ─── PII generators ────────────────────────────────────────────────────────────────────────────

function luhnComplete(prefix: string, len: number, r: Rng): string {
  let d = prefix + r.digits(len - prefix.length - 1);
  for (let c = 0; c <= 9; c++) {
    const full = d + String(c);
    let sum = 0;
    for (let i = 0; i < full.length; i++) {
      let x = Number(full[full.length - 1 - i]);
      if (i % 2 === 1) {
        x *= 2;
        if (x > 9) x -= 9;
      }
      sum += x;
    }
    if (sum % 10 === 0) {
      d = full;
      break;
    }
  }
  return d;
}

export function cardNumber(r: Rng): string {
  const [prefix, len] = r.pick<[() => string, number]>([
    [() => '4', 16],
    [() => '4', 16],
    [() => String(r.int(51, 55)), 16],
    [() => String(r.int(2221, 2720)), 16],
    [() => r.pick(['34', '37']), 15],
    [() => '6011', 16],
    [() => String(r.int(644, 649)), 16],
    [() => '65', 16],
    [() => String(r.int(3528, 3589)), 16],
    [() => r.pick(['36', '38']), 14],
    [() => '62', 16],
    [() => '4', 19],
  ]);
  return luhnComplete(prefix(), len, r);
}

function formatCard(d: string, r: Rng): string {
  if (d.length === 15) return r.pick([d, `${d.slice(0, 4)} ${d.slice(4, 10)} ${d.slice(10)}`, `${d.slice(0, 4)}-${d.slice(4, 10)}-${d.slice(10)}`]);
  if (d.length === 14) return r.pick([d, `${d.slice(0, 4)} ${d.slice(4, 10)} ${d.slice(10)}`]);
  const sep = r.pick([' ', '-']);
  const grouped = d.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
  return d.length === 19 ? grouped : r.pick([d, grouped, grouped]);
}

function ssn(r: Rng): string {
  let area = r.int(1, 899);
  if (area === 666) area = 667;
  return `${pad(area, 3)}-${pad(r.int(1, 99), 2)}-${pad(r.int(1, 9999), 4)}`;
}

const IBAN_FORMATS: [string, string][] = [
  ['DE', 'n18'],
  ['GB', 'a4n14'],
  ['FR', 'n10c11n2'],
  ['NL', 'a4n10'],
  ['ES', 'n20'],
  ['IT', 'a1n10c12'],
  ['BE', 'n12'],
  ['CH', 'n5c12'],
  ['AT', 'n16'],
  ['PL', 'n24'],
  ['NO', 'n11'],
  ['SE', 'n20'],
  ['IE', 'a4n14'],
  ['PT', 'n21'],
];

function bban(fmt: string, r: Rng): string {
  let out = '';
  for (const [, kind, n] of fmt.matchAll(/([anc])(\d+)/g)) {
    const k = Number(n);
    out += kind === 'n' ? r.digits(k) : kind === 'a' ? r.upper(k) : r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', k);
  }
  return out;
}

export function iban(r: Rng): string {
  const [cc, fmt] = r.pick(IBAN_FORMATS);
  const b = bban(fmt, r);
  const rearranged = `${b}${cc}00`;
  let rem = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' && ch <= 'Z' ? ch.charCodeAt(0) - 55 : Number(ch);
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  const check = pad(98 - rem, 2);
  return cc + check + b;
}

function phone(r: Rng): string {
  const area = `${r.int(2, 9)}${r.digits(2)}`;
  const ex = `${r.int(2, 9)}${r.digits(2)}`;
  const line = r.digits(4);
  return r.pick([
    () => `+1${area}${ex}${line}`,
    () => `+1 ${area} ${ex} ${line}`,
    () => `+1 (${area}) ${ex}-${line}`,
    () => `(${area}) ${ex}-${line}`,
    () => `${area}-${ex}-${line}`,
    () => `${area}.${ex}.${line}`,
    () => `1-${area}-${ex}-${line}`,
    () => `+44 20 ${r.digits(4)} ${r.digits(4)}`,
    () => `+44 7${r.digits(3)} ${r.digits(6)}`,
    () => `020 ${r.digits(4)} ${r.digits(4)}`,
    () => `07${r.digits(3)} ${r.digits(6)}`,
    () => `+49 30 ${r.digits(8)}`,
    () => `+49 (0)${r.int(30, 89)} ${r.digits(7)}`,
    () => `030 ${r.digits(8)}`,
    () => `0${r.int(151, 179)}/${r.digits(7)}`,
    () => `0049 ${r.int(30, 89)} ${r.digits(7)}`,
    () => `+33 ${r.int(1, 7)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)}`,
    () => `0${r.int(1, 7)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)} ${r.digits(2)}`,
    () => `0${r.int(6, 7)}.${r.digits(2)}.${r.digits(2)}.${r.digits(2)}.${r.digits(2)}`,
    () => `+34 ${r.int(6, 7)}${r.digits(2)} ${r.digits(3)} ${r.digits(3)}`,
    () => `+31 6 ${r.digits(8)}`,
    () => `+39 06 ${r.digits(4)} ${r.digits(4)}`,
    () => `+${r.int(2, 9)}${r.digits(1)}${r.digits(9)}`,
  ])();
}

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

function jwt(r: Rng): string {
  const header = r.pick([{ alg: 'HS256', typ: 'JWT' }, { alg: 'RS256', typ: 'JWT', kid: r.hex(16) }, { typ: 'JWT', alg: 'ES256' }, { alg: 'none' }]);
  const payload = { sub: String(r.int(1, 999999)), iat: r.int(1600000000, 1800000000), name: `${r.pick(FIRST)} ${r.pick(LAST)}`, scope: r.pick(['read', 'read write']) };
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${header.alg === 'none' ? '' : r.b64url(r.pick([43, 86, 342]))}`;
}

function pemBody(r: Rng, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(r.b64(64));
  return out.join('\n');
}

/** Each PII kind: the item itself and a value that carries it. */
export const PII_GENERATORS: Record<Detector, (r: Rng) => { item: string; value: string }> = {
  email: (r) => {
    const local = r.pick([
      () => `${r.pick(FIRST)}.${r.pick(LAST)}`,
      () => `${r.pick(FIRST)}${r.int(1, 999)}`,
      () => `${r.pick(FIRST)[0]}${r.pick(LAST)}+${r.lower(4)}`,
      () => `${r.pick(FIRST)}_${r.pick(LAST)}`,
      () => `${r.lower(r.int(2, 12))}`,
    ])().normalize('NFKD').replace(/[^\x00-\x7f]/g, '');
    const domain = r.pick([() => r.pick(['gmail.com', 'yahoo.com', 'outlook.com', 'proton.me', 'icloud.com']), () => `${r.lower(r.int(3, 10))}.${r.pick(TLDS)}`, () => `mail.${r.lower(6)}.${r.pick(TLDS)}`])();
    const item = `${local}@${domain}`;
    return { item, value: fill(r, item, ['Contact: $', '$', '<$>', 'mailto:$', `From: ${r.pick(FIRST)} <$>`, '{"email":"$","verified":true}', 'reply to $.', '$;other@']) };
  },
  credit_card: (r) => {
    const item = formatCard(cardNumber(r), r);
    return { item, value: fill(r, item, ['$', 'card $ exp 0' + r.int(1, 9) + '/2' + r.int(5, 9), 'Visa ending: $', '{"pan":"$"}', 'cc=$&cvv=123', 'Paid with $ on ' + isoDate(r)]) };
  },
  us_ssn: (r) => {
    const item = ssn(r);
    return { item, value: fill(r, item, ['$', 'SSN: $', 'ssn=$', 'Taxpayer $ filed on ' + isoDate(r), '"ssn": "$"']) };
  },
  iban: (r) => {
    const raw = iban(r);
    const item = r.chance(0.5) ? raw : raw.replace(/(.{4})(?=.)/g, '$1 ');
    return { item, value: fill(r, item, ['$', 'IBAN: $', 'Pay to $ (EUR)', '{"iban":"$"}', 'Account $, BIC DEUTDEFF']) };
  },
  phone: (r) => {
    const item = phone(r);
    return { item, value: fill(r, item, ['$', 'Tel: $', 'call me at $ after 5pm', '{"phone":"$"}', 'Mobile $ / office ext. 12', 'phone=$']) };
  },
  jwt: (r) => {
    const item = jwt(r);
    return { item, value: fill(r, item, ['$', 'Authorization: Bearer $', '{"access_token":"$","expires_in":3600}', 'token=$']) };
  },
  aws_key: (r) => {
    if (r.chance(0.5)) {
      const item = `${r.pick(['AKIA', 'ASIA'])}${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
      return { item, value: fill(r, item, ['$', 'aws_access_key_id = $', '{"AccessKeyId":"$"}', 'AWS_ACCESS_KEY_ID=$ ']) };
    }
    const item = r.b64(40);
    return { item, value: fill(r, item, ['aws_secret_access_key = $', 'AWS_SECRET_ACCESS_KEY=$', '"SecretAccessKey": "$"', "secret_key: '$'", 'aws_secret_key=$']) };
  },
  gcp_key: (r) => {
    if (r.chance(0.6)) {
      const item = `AIza${r.b64url(35)}`;
      return { item, value: fill(r, item, ['$', 'key=$', 'https://maps.googleapis.com/maps/api/geocode/json?address=x&key=$', '{"apiKey":"$"}']) };
    }
    const item = r.hex(40);
    return {
      item,
      value: `{"type": "service_account", "project_id": "p-${r.lower(6)}", "private_key_id": "${item}", "private_key": "-----BEGIN PRIVATE KEY-----\\n${r.b64(64)}\\n-----END PRIVATE KEY-----\\n", "client_email": "svc@p.iam.gserviceaccount.com"}`,
    };
  },
  github_token: (r) => {
    const item = r.chance(0.8) ? `${r.pick(['ghp', 'gho', 'ghu', 'ghs', 'ghr'])}_${r.alnum(36)}` : `github_pat_${r.alnum(22)}_${r.alnum(59)}`;
    return { item, value: fill(r, item, ['$', 'GITHUB_TOKEN=$', 'https://$@github.com/org/repo.git', 'Authorization: token $']) };
  },
  slack_token: (r) => {
    const item = r.chance(0.75)
      ? `xox${r.pick(['b', 'p', 'a', 'r', 's'])}-${r.digits(12)}-${r.digits(13)}-${r.alnum(24)}`
      : `https://hooks.slack.com/services/T${r.upper(8)}/B${r.upper(8)}/${r.alnum(24)}`;
    return { item, value: fill(r, item, ['$', 'SLACK_BOT_TOKEN=$', 'webhook: $', '{"token":"$"}']) };
  },
  stripe_key: (r) => {
    const item = `${r.pick(['sk_live', 'sk_test', 'rk_live', 'pk_live'])}_${r.alnum(r.pick([24, 34, 99]))}`;
    return { item, value: fill(r, item, ['$', 'STRIPE_SECRET_KEY=$', 'stripe.api_key = "$"', 'Bearer $']) };
  },
  private_key: (r) => {
    const kind = r.pick(['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
    const nl = r.chance(0.7) ? '\n' : '\\n';
    const item = `-----BEGIN ${kind}-----${nl}${pemBody(r, r.int(3, 12)).replace(/\n/g, nl)}${nl}-----END ${kind}-----`;
    return { item, value: fill(r, item, ['$', 'key: |\n$\n', '{"key":"$"}']) };
  },
  url_password: (r) => {
    const item = r.pick([() => r.alnum(r.int(8, 24)), () => `${r.alnum(6)}!${r.digits(3)}`, () => `p@ss${r.digits(4)}`, () => r.b64url(20)])();
    const url = r.pick([
      `postgres://${r.lower(6)}:${item}@db.${r.lower(5)}.internal:5432/app`,
      `mysql://root:${item}@127.0.0.1:3306/shop`,
      `redis://:${item}@cache:6379/0`,
      `amqp://guest:${item}@rabbit/`,
      `https://${r.lower(5)}:${item}@example.com/private`,
      `mongodb+srv://admin:${item}@cluster0.${r.lower(5)}.mongodb.net/?retryWrites=true`,
    ]);
    return { item, value: fill(r, url, ['$', 'DATABASE_URL=$', 'connecting to $ failed', '{"dsn":"$"}']) };
  },
};

function fill(r: Rng, item: string, templates: string[]): string {
  return r.pick(templates).replace('$', () => item);
}

/** `n` ordinary values, cycling through the categories. */
export function nonPiiSample(n: number, seed = 20240517): { category: string; value: string }[] {
  const r = new Rng(seed);
  const cats = Object.entries(NON_PII_CATEGORIES);
  const out: { category: string; value: string }[] = [];
  for (let i = 0; i < n; i++) {
    const [category, gen] = cats[i % cats.length];
    out.push({ category, value: gen(r) });
  }
  return out;
}

/** `perDetector` values carrying one item of each detector's kind. */
export function piiSample(perDetector: number, seed = 4242): { detector: Detector; item: string; value: string }[] {
  const r = new Rng(seed);
  const out: { detector: Detector; item: string; value: string }[] = [];
  for (const [detector, gen] of Object.entries(PII_GENERATORS) as [Detector, (r: Rng) => { item: string; value: string }][]) {
    for (let i = 0; i < perDetector; i++) out.push({ detector, ...gen(r) });
  }
  return out;
}
