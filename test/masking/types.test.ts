/**
 * Masked columns of user and extension types: domains (over text, over integer, over a domain), enums,
 * citext, arrays of a domain. Their OIDs are not built in; the engine asks the catalog what they are, so
 * the masked value keeps a form the driver decodes (a token for enum and citext, an integer for a domain
 * over integer, `{}` for an array in text) instead of NULL. A type that still cannot be understood
 * (a composite, a range) is masked to NULL, as before (fail closed). Text and binary results.
 */
import pg from 'pg';
import type { MintedForTest } from '../helpers/proxy.js';
import {
  arrayQuery,
  detected,
  directClient,
  flatten,
  leakedForms,
  masked,
  OID,
  policyWithMasks,
  proxiedClient,
  RAW_TYPES,
  startMaskingEnv,
  type ClientExtra,
  type MaskingEnv,
} from './support.js';

const SETUP = `
create extension if not exists citext;
create domain email_addr as text;
create domain positive_int as int check (value > 0);
create domain work_email as email_addr;
create type mood as enum ('happy', 'sad', 'furious-secret');
create type pair as (a text, b text);
create type floatrange as range (subtype = float8);
create table people (
  id int primary key,
  email email_addr,
  score positive_int,
  work work_email,
  feeling mood,
  handle citext,
  aliases email_addr[],
  nick citext,
  calm mood,
  kin pair,
  span floatrange
);
insert into people values
  (1, 'alice.secret@example.com', 987654, 'alice.work.secret@corp.example.org', 'furious-secret', 'AliceSecretHandle',
   '{alice.alias.secret@example.com,other.secret@example.net}', 'write to alice.nick.secret@example.com', 'happy',
   ('kin-secret-a', 'kin-secret-b'), '[1.5,2.5)'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
`;

const SECRETS = [
  'alice.secret@example.com',
  'alice.secret',
  '987654',
  'alice.work.secret',
  'furious-secret',
  'alicesecrethandle',
  'alice.alias.secret',
  'other.secret',
  'alice.nick.secret',
  'kin-secret',
];

const MASKS = `  - id: t-email
    columns: ["people.email"]
    function: email
  - id: t-score
    columns: ["people.score"]
    function: hash
  - id: t-work
    columns: ["people.work"]
    function: partial
    keep_last: 4
  - id: t-feeling
    columns: ["people.feeling"]
    function: redact
  - id: t-handle
    columns: ["people.handle"]
    function: hash
  - id: t-aliases
    columns: ["people.aliases"]
    function: redact
  - id: t-nick
    columns: ["people.nick"]
    detectors: [email]
    function: redact
  - id: t-kin
    columns: ["people.kin", "people.span"]
    function: redact
  - id: t-level
    columns: ["graded.lvl", "graded.lvls"]
    function: redact
`;

const QUERY = 'select id, email, score, work, feeling, handle, aliases, nick, calm, kin, span from people order by id';

describe('masking columns of user and extension types', () => {
  let env: MaskingEnv;
  let m: MintedForTest;
  let direct: unknown[][];
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmasktypes', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-types-agent');
    const d = await directClient(env.db.name, { types: RAW_TYPES });
    closers.push(() => d.end());
    direct = (await d.query(arrayQuery(QUERY))).rows as unknown[][];
  }, 60_000);
  afterAll(async () => {
    for (const c of closers) await c().catch(() => {});
    await env?.close();
  }, 60_000);

  async function via(extra: ClientExtra = {}): Promise<pg.Client> {
    const c = await proxiedClient(env.tp, m, extra);
    closers.push(() => c.end());
    return c;
  }

  const alice = (): string[] => direct[0] as string[];

  /** Alice's row as the agent must see it in text format (the oracle: the policy's own mask functions). */
  function expectedText(): (string | null)[] {
    const a = alice();
    return [
      '1',
      masked('email', a[1], OID.text),
      masked('hash', a[2], OID.int4),
      masked('partial', a[3], OID.text, { keepLast: 4 }),
      masked('redact', a[4], OID.text),
      masked('hash', a[5], OID.text),
      '{}',
      detected(a[7], ['email']),
      'happy',
      null,
      null,
    ];
  }

  it('the fixture shows every secret directly (the attempt is real)', () => {
    for (const s of SECRETS) expect(flatten(direct)).toContain(s.toLowerCase());
    const t = expectedText();
    expect(t[4]).toBe('[redacted]');
    expect(t[5]).toMatch(/^h_[0-9a-f]{16}$/);
    expect(t[2]).toMatch(/^\d+$/);
    expect(t[2]).not.toBe('987654');
    expect(t[7]).toBe('write to [redacted]');
  });

  it('text results: each type keeps a decodable form, the unmasked enum passes, what is not understood is NULL', async () => {
    for (const extended of [false, true]) {
      const c = await via({ types: RAW_TYPES });
      const r = await c.query(arrayQuery(QUERY, { extended }));
      // RowDescription reports a domain as its base type; enum, citext and the array keep their own OIDs
      expect(r.fields.slice(1, 4).map((f) => f.dataTypeID)).toEqual([OID.text, OID.int4, OID.text]);
      expect(r.rows[0]).toEqual(expectedText());
      // NULLs stay NULL
      expect(r.rows[1]).toEqual(['2', null, null, null, null, null, null, null, null, null, null]);
      expect(leakedForms(flatten(r.rows), SECRETS)).toEqual([]);
    }
  });

  it('text results through the default type parsers: the domain over integer is a number', async () => {
    const c = await via();
    const r = await c.query(QUERY);
    expect(typeof r.rows[0].score).toBe('number');
    expect(r.rows[0].score).toBe(Number(expectedText()[2]));
    expect(r.rows[0].feeling).toBe('[redacted]');
    expect(r.rows[0].handle).toMatch(/^h_[0-9a-f]{16}$/);
  });

  it('binary results: text-like types carry the token or the detector output, the integer domain decodes, arrays are NULL', async () => {
    const c = await via({ binary: true });
    const r = await c.query(arrayQuery(QUERY, { extended: true }));
    expect(r.fields.map((f) => f.format)).toEqual(r.fields.map(() => 'binary'));
    const row = r.rows[0] as unknown[];
    const text = (v: unknown): string | null => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
    const want = expectedText();
    expect(text(row[1])).toBe(want[1]);
    // the masked integer as the same driver decodes it (pg reads binary fields through UTF-8 first, so compare like with like)
    const d = await directClient(env.db.name, { binary: true });
    closers.push(() => d.end());
    const score = (await d.query(arrayQuery(`select ${Number(want[2])}::int4`, { extended: true }))).rows[0] as unknown[];
    expect(row[2]).toEqual(score[0]);
    const real = (await d.query(arrayQuery('select score from people where id = 1', { extended: true }))).rows[0] as unknown[];
    expect(row[2]).not.toEqual(real[0]);
    expect(text(row[3])).toBe(want[3]);
    // enums and citext are sent as their text in binary too
    expect(text(row[4])).toBe('[redacted]');
    expect(text(row[5])).toBe(want[5]);
    expect(text(row[7])).toBe(want[7]);
    expect(text(row[8])).toBe('happy');
    // binary arrays are not rewritten: a masked one is NULL; so are types that are not understood
    expect(row[6]).toBeNull();
    expect(row[9]).toBeNull();
    expect(row[10]).toBeNull();
    expect(leakedForms(flatten(r.rows), SECRETS)).toEqual([]);
  });

  it('a type created through the proxy after the first queries is resolved too', async () => {
    const c = await via({ types: RAW_TYPES });
    expect((await c.query('select feeling from people where id = 1')).rows).toEqual([{ feeling: '[redacted]' }]);
    await c.query("create type level as enum ('low', 'high-secret')");
    await c.query("create domain level_d as level; create table graded (id int, lvl level, lvls level_d[], open level); insert into graded values (1, 'high-secret', '{high-secret}', 'low')");
    const r = await c.query('select lvl, lvls, open from graded');
    expect(r.rows).toEqual([{ lvl: '[redacted]', lvls: '{}', open: 'low' }]);
  });
});
