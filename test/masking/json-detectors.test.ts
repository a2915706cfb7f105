/**
 * Detector findings inside json and jsonb values, through the proxy: a replacement that holds JSON
 * syntax is escaped, so the driver's JSON.parse still succeeds and no key is added; an address the json
 * type keeps written with \u escapes is found all the same; text[] elements likewise. Text and binary results.
 */
import pg from 'pg';
import type { MintedForTest } from '../helpers/proxy.js';
import { directClient, extended, policyWithMasks, proxiedClient, startMaskingEnv, type ClientExtra, type MaskingEnv } from './support.js';

const SETUP = `
create table docs (id int primary key, j json, b jsonb, t text[]);
insert into docs values
  (1, '{"mail": "alice.secret\\u0040example.com", "n": 4111111111111111}', '{"mail": "write to bob.secret@corp.example.org", "tags": ["x", "carol.secret@example.net"]}',
   '{"to dave.secret@example.org", plain, "say \\"erin.secret@example.com\\""}'),
  (2, '{"plain": "nothing here"}', '{"plain": "nothing here"}', '{}');
`;

const REPLACEMENT = '"}, "admin": true, "x": {"\\\\';

const MASKS = `  - id: js-pii
    detectors: [email, credit_card]
    function: redact
    replacement: ${JSON.stringify(REPLACEMENT)}
`;

describe('detectors in json and jsonb through the proxy', () => {
  let env: MaskingEnv;
  let m: MintedForTest;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskjson', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-json-agent');
  }, 60_000);
  afterAll(async () => {
    for (const c of closers) await c().catch(() => {});
    await env?.close();
  }, 60_000);

  async function client(extra: ClientExtra = {}, proxied = true): Promise<pg.Client> {
    const c = proxied ? await proxiedClient(env.tp, m, extra) : await directClient(env.db.name, extra);
    closers.push(() => c.end());
    return c;
  }

  it('directly, the values hold the secrets (one written with an escape)', async () => {
    const d = await client({}, false);
    const r = await d.query('select j::text as j, b from docs where id = 1');
    expect(r.rows[0].j).toContain('alice.secret\\u0040example.com');
    expect(JSON.stringify(r.rows[0].b)).toContain('bob.secret@corp.example.org');
  });

  it.each([
    ['text results', {}, false],
    ['binary results', { binary: true }, true],
  ] as const)('%s: the driver parses the masked JSON, the replacement is a string value, no key is added', async (_label, extra, useExtended) => {
    const c = await client(extra);
    const q = 'select id, j, b from docs order by id';
    const r = await c.query(useExtended ? extended(q) : q);
    // node-postgres hands binary json(b) over as text, jsonb with its version byte (1) in front
    const parse = (v: unknown): unknown => (typeof v === 'string' || Buffer.isBuffer(v) ? JSON.parse(v.toString().replace(/^\x01/, '')) : v);
    const [one, two] = r.rows.map((row: { j: unknown; b: unknown }) => ({ j: parse(row.j), b: parse(row.b) }));
    expect(one).toEqual({
      j: { mail: REPLACEMENT, n: REPLACEMENT },
      b: { mail: `write to ${REPLACEMENT}`, tags: ['x', REPLACEMENT] },
    });
    expect(two).toEqual({ j: { plain: 'nothing here' }, b: { plain: 'nothing here' } });
    expect(JSON.stringify(r.rows)).not.toMatch(/secret|4111/);
  });

  it('text[] (text results): an element with a finding stays one element, the replacement escaped', async () => {
    const c = await client();
    const r = await c.query('select t from docs order by id');
    // node-postgres parses text[] itself: a broken array literal would come back with other elements
    expect(r.rows.map((row: { t: unknown }) => row.t)).toEqual([[`to ${REPLACEMENT}`, 'plain', `say "${REPLACEMENT}"`], []]);
  });
});
