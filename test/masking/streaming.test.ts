/**
 * A large masked result streamed in pieces arrives complete and correct: 200k rows through
 * postgres.js' cursor, a DECLARE CURSOR / FETCH loop, and node-postgres portal suspension (Execute
 * with a row limit). Every row is checked against the mask functions. Timing is not tested here.
 */
import pg from 'pg';
import postgres from 'postgres';
import { compileMask, pgTypeHint } from '@sqlwarden/policy';
import type { MintedForTest } from '../helpers/proxy.js';
import { HASH_KEY, OID, policyWithMasks, proxiedClient, startMaskingEnv, type MaskingEnv } from './support.js';

const N = 200_000;
const LONG = 180_000;

const MASKS = `  - id: big-email
    columns: ["big.email"]
    function: email
  - id: big-ssn
    columns: ["big.ssn"]
    function: hash
`;

const SETUP = `create table big (id int primary key, email text, ssn text, amount int);
insert into big
  select g,
         'user' || g || '.hidden@corp' || (g % 7) || '.example.com',
         lpad((g % 899 + 1)::text, 3, '0') || '-' || lpad((g % 99 + 1)::text, 2, '0') || '-' || lpad((g % 9999 + 1)::text, 4, '0'),
         g * 3
  from generate_series(1, ${N}) g;
analyze big;`;

const SQL = 'select id, email, ssn, amount from big order by id';

const hashText = compileMask('hash', pgTypeHint(OID.text), { hashKey: HASH_KEY });

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** The row the agent must see for id g. */
function expectedRow(g: number): { id: number; email: string; ssn: string; amount: number } {
  const ssn = `${pad((g % 899) + 1, 3)}-${pad((g % 99) + 1, 2)}-${pad((g % 9999) + 1, 4)}`;
  return { id: g, email: `****@corp${g % 7}.example.com`, ssn: (hashText(Buffer.from(ssn)) as Buffer).toString('utf8'), amount: g * 3 };
}

/** Checks rows as they stream: in order, each exactly the masked row. */
class Checker {
  count = 0;
  sum = 0;
  firstBad: string | undefined;
  add(raw: { id: number | string; email: string; ssn: string; amount: number | string }): void {
    const row = { ...raw, id: Number(raw.id), amount: Number(raw.amount) };
    this.count++;
    this.sum += row.id;
    if (this.firstBad) return;
    const want = expectedRow(this.count);
    if (row.id !== want.id || row.email !== want.email || row.ssn !== want.ssn || row.amount !== want.amount) {
      this.firstBad = `row ${this.count}: got ${JSON.stringify(row)}, want ${JSON.stringify(want)}`;
    }
  }
  verify(): void {
    expect(this.firstBad).toBeUndefined();
    expect(this.count).toBe(N);
    expect(this.sum).toBe((N * (N + 1)) / 2);
  }
}

describe('streaming a large masked result', () => {
  let env: MaskingEnv;
  let m: MintedForTest;

  beforeAll(async () => {
    env = await startMaskingEnv({ prefix: 'swmaskbig', policyYaml: policyWithMasks(MASKS), setupSql: SETUP });
    m = await env.tp.mint('masking-stream-agent');
  }, LONG);
  afterAll(async () => {
    await env?.close();
  }, LONG);

  it('the expectation is masked (sanity of the oracle)', () => {
    const r = expectedRow(123_457);
    expect(r.email).toBe('****@corp5.example.com');
    expect(r.ssn).toMatch(/^h_[0-9a-f]{16}$/);
  });

  it('postgres.js cursor(): 200k masked rows, complete and in order', async () => {
    const sql = postgres(m.url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
    try {
      const check = new Checker();
      let batches = 0;
      for await (const rows of sql.unsafe(SQL).cursor(5000)) {
        batches++;
        for (const row of rows) check.add(row as unknown as ReturnType<typeof expectedRow>);
      }
      check.verify();
      expect(batches).toBe(N / 5000);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }, LONG);

  it('DECLARE CURSOR + FETCH 10000 in a loop (node-postgres): 200k masked rows', async () => {
    const c = await proxiedClient(env.tp, m);
    try {
      const check = new Checker();
      await c.query('begin');
      await c.query(`declare big_cur no scroll cursor for ${SQL}`);
      for (;;) {
        const r = await c.query('fetch 10000 from big_cur');
        if (r.rows.length === 0) break;
        for (const row of r.rows) check.add(row);
      }
      await c.query('commit');
      check.verify();
    } finally {
      await c.end();
    }
  }, LONG);

  it('portal suspension (Execute with a row limit, node-postgres): 200k masked rows, text and binary', async () => {
    for (const binary of [false, true]) {
      const c = await proxiedClient(env.tp, m, { binary });
      try {
        const check = new Checker();
        // node-postgres decodes binary fields through UTF-8, which garbles ints with a byte >= 0x80: ints travel as text there
        const text = binary ? 'select id::text as id, email, ssn, amount::text as amount from big order by big.id' : SQL;
        const r = await c.query({ text, rows: 7000 } as pg.QueryConfig);
        for (const row of r.rows) check.add(row);
        check.verify();
        if (binary) expect(r.fields.map((f) => f.format)).toEqual(['binary', 'binary', 'binary', 'binary']);
      } finally {
        await c.end();
      }
    }
  }, LONG);
});
