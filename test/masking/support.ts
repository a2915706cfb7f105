/**
 * Shared set-up for the masking end-to-end suites: a database with its own policy directory, a proxy
 * started with `policies:` and a masking hash key, direct (unproxied) clients, and the oracles that say
 * what a masked value must look like — computed with the policy package's own mask functions, never
 * hard-coded.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { maskValue, pgTypeHint, redactSpans, type Detector, type MaskFunction, type MaskOptions } from '@sqlwarden/policy';
import { adminQuery, createTestDatabase, PG } from '../helpers/servers.js';
import { startTestProxy, type TestProxy, type TestProxyOptions } from '../helpers/proxy.js';

/** The HMAC key every masking suite configures. */
export const HASH_KEY = 'sqlwarden-masking-e2e-key-0123456789';

/**
 * The configuration's masking block. The brief spelled the key `hash_key`; the config reader (like
 * the rest of sqlwarden.yaml: redisPrefix, publicHost) spells it `hashKey`.
 */
export const MASKING_YAML = `masking:\n  hashKey: "${HASH_KEY}"\n`;

export const OID = { bool: 16, bytea: 17, int8: 20, int4: 23, text: 25, json: 114, varchar: 1043, date: 1082, jsonb: 3802 } as const;

export interface MaskingEnv {
  db: Awaited<ReturnType<typeof createTestDatabase>>;
  /** the suite's policy directory */
  policyDir: string;
  tp: TestProxy;
  close(): Promise<void>;
}

/**
 * Creates a database, runs `setupSql` in it directly (as the admin), writes `policyYaml` into a fresh
 * policy directory and starts a proxy on it with masking configured.
 */
export async function startMaskingEnv(opts: {
  prefix: string;
  policyYaml: string;
  setupSql?: string;
  proxy?: Omit<TestProxyOptions, 'database' | 'extraYaml' | 'targetsYaml'>;
  /** the targets block, given the suite's database name (default: one target "app") */
  targetsYaml?: (database: string) => string;
  extraYaml?: string;
}): Promise<MaskingEnv> {
  const db = await createTestDatabase(opts.prefix);
  const policyDir = mkdtempSync(join(tmpdir(), 'sqlwarden-masking-'));
  let tp: TestProxy | undefined;
  try {
    if (opts.setupSql) await adminQuery(opts.setupSql, db.name);
    writeFileSync(join(policyDir, 'masks.yaml'), opts.policyYaml);
    tp = await startTestProxy({
      database: db.name,
      ...opts.proxy,
      ...(opts.targetsYaml && { targetsYaml: opts.targetsYaml(db.name) }),
      extraYaml: `policies: ${policyDir}\n${MASKING_YAML}${opts.extraYaml ?? ''}`,
    });
  } catch (err) {
    rmSync(policyDir, { recursive: true, force: true });
    await db.drop();
    throw err;
  }
  const proxy = tp;
  return {
    db,
    policyDir,
    tp: proxy,
    async close() {
      await proxy.close();
      await db.drop();
      rmSync(policyDir, { recursive: true, force: true });
    },
  };
}

/** A policy file: allow by default, deny what cannot be parsed, and the given masks (YAML list items). */
export function policyWithMasks(masksYaml: string, rulesYaml = ''): string {
  return `version: 1
defaults:
  action: allow
  on_parse_error: deny
${rulesYaml ? `rules:\n${rulesYaml}` : ''}
masks:
${masksYaml}`;
}

/** node-postgres type overrides that hand every value over as the wire gave it (text, or a Buffer for binary). */
export const RAW_TYPES = {
  getTypeParser: (_oid: number, format?: string) => (format === 'binary' ? (v: Buffer) => v : (v: string) => v),
} as unknown as pg.CustomTypesConfig;

/** node-postgres client options, with `binary` (binary results for every column; missing from @types/pg). */
export type ClientExtra = pg.ClientConfig & { binary?: boolean };

/** A node-postgres client straight to Postgres (not through sqlwarden). */
export async function directClient(database: string, extra: ClientExtra = {}): Promise<pg.Client> {
  const c = new pg.Client({ ...PG, database, ...extra });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** A node-postgres client through the proxy. */
export async function proxiedClient(tp: TestProxy, m: Parameters<TestProxy['pgOptions']>[0], extra: ClientExtra = {}): Promise<pg.Client> {
  const c = new pg.Client(tp.pgOptions(m, extra as Record<string, unknown>));
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** The text form a masked value must have, from the value's direct text form and its column type. */
export function masked(fn: MaskFunction, value: string | null, oid: number, opts: MaskOptions = {}): string | null {
  if (value === null) return null;
  return maskValue(fn, value, pgTypeHint(oid), { hashKey: HASH_KEY, ...opts });
}

/** What detectors leave of a text value with the redact function. */
export function detected(value: string, detectors: readonly Detector[], replacement = '[redacted]'): string {
  return redactSpans(value, detectors, replacement);
}

/** A query forced onto the extended protocol (so `binary: true` clients get binary results even without parameters). */
export function extended(text: string, values?: unknown[]): pg.QueryConfig {
  return { text, values, queryMode: 'extended' } as pg.QueryConfig;
}

/** The same, with rows as arrays (duplicate column names stay apart). */
export function arrayQuery(text: string, opts: { extended?: boolean; name?: string } = {}): pg.QueryArrayConfig {
  return { text, rowMode: 'array', ...(opts.extended && { queryMode: 'extended' }), ...(opts.name && { name: opts.name }) } as pg.QueryArrayConfig;
}

/**
 * Everything a result shows, as one lowercase string to search: JSON of the rows, Buffers as their
 * latin1 text and hex, Dates as ISO strings.
 */
export function flatten(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      const b = Buffer.from((v as { data: number[] }).data);
      return `${b.toString('latin1')} ${b.toString('hex')}`;
    }
    if (typeof v === 'bigint') return v.toString();
    return v;
  }).toLowerCase();
}

/**
 * The forms a secret can take in a result without being masked: itself, upper/lower case, reversed,
 * hex and base64 of its bytes, its MD5 — all lowercase (searched in {@link flatten}'s output).
 */
export function secretForms(secret: string): string[] {
  const b = Buffer.from(secret, 'utf8');
  return [
    secret,
    [...secret].reverse().join(''),
    b.toString('hex'),
    b.toString('base64').replace(/=+$/, ''),
    createHash('md5').update(b).digest('hex'),
  ].map((s) => s.toLowerCase());
}

/** The secret forms found in `haystack` (from {@link flatten}); [] when none. */
export function leakedForms(haystack: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const s of secrets) for (const f of secretForms(s)) if (haystack.includes(f)) found.push(f);
  return found;
}

/** Error fields a client can see, flattened for searching. */
export function errorText(err: unknown): string {
  if (!err || typeof err !== 'object') return String(err).toLowerCase();
  const e = err as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const k of ['message', 'detail', 'hint', 'where', 'context', 'internalQuery', 'schema', 'table', 'column', 'constraint', 'dataType']) {
    if (e[k] !== undefined) fields[k] = e[k];
  }
  return JSON.stringify(fields).toLowerCase();
}

/** Resolves with the error a promise rejects with; fails when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the statement to fail, but it succeeded');
}

// ─── the customers fixture ──────────────────────────────────────────────────────────────────────

export interface Customer {
  id: number;
  name: string;
  email: string;
  ssn: string;
  card_number: string;
  salary: number;
  birth_date: string;
  notes: string;
}

export const ALICE: Customer = {
  id: 1,
  name: 'Alice',
  email: 'alice.secret@example.com',
  ssn: '123-45-6789',
  card_number: '4539578763621486',
  salary: 85000,
  birth_date: '1985-03-14',
  notes: 'Reach me at alice.secret@example.com, SSN 123-45-6789, card 4539 5787 6362 1486.',
};

export const BOB: Customer = {
  id: 2,
  name: 'Bob',
  email: 'bob.hidden@corp.example.org',
  ssn: '234-56-7890',
  card_number: '5555555555554444',
  salary: 72000,
  birth_date: '1990-11-02',
  notes: 'No personal data here.',
};

export const CUSTOMERS = [ALICE, BOB];

/** Values of the customers fixture that must never reach an agent unmasked. */
export const CUSTOMER_SECRETS = [
  'alice.secret@example.com',
  'bob.hidden@corp.example.org',
  'alice.secret',
  'bob.hidden',
  '123-45-6789',
  '234-56-7890',
  '123456789',
  '234567890',
  '4539578763621486',
  '4539 5787 6362 1486',
  '45395787',
  '57876362',
  '5555555555554444',
  '55555555',
];

function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** DDL and rows of the customers table (run directly, as the admin). */
export const CUSTOMERS_SQL = `
create table customers (
  id int primary key,
  name text not null,
  email text constraint customers_email_key unique,
  ssn text,
  card_number text,
  salary int constraint customers_salary_check check (salary >= 0),
  birth_date date,
  notes text
);
insert into customers values
${CUSTOMERS.map((c) => `  (${c.id}, ${lit(c.name)}, ${lit(c.email)}, ${lit(c.ssn)}, ${lit(c.card_number)}, ${c.salary}, ${lit(c.birth_date)}, ${lit(c.notes)})`).join(',\n')};
`;
