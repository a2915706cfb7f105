import pg from 'pg';
import { runDemo } from '@sqlwarden/server';
import { freePort } from '../helpers/free-port.js';

/** `sqlwarden demo` shows masking on the first query it suggests, through a real client. */
describe('sqlwarden demo', () => {
  let stop: () => void = () => {};
  let done: Promise<number> | undefined;
  let url = '';

  beforeAll(async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    let printed = '';
    let resolveUrl: (u: string) => void = () => {};
    const gotUrl = new Promise<string>((r) => (resolveUrl = r));
    done = runDemo({
      port,
      adminPort,
      out: (t) => {
        printed += t;
        const m = /psql "([^"]+)"/.exec(printed);
        if (m) resolveUrl(m[1]!);
      },
      until: new Promise<void>((r) => (stop = r)),
    });
    url = await Promise.race([gotUrl, done.then(() => Promise.reject(new Error(`demo ended early:\n${printed}`)))]);
  }, 180_000);

  afterAll(async () => {
    stop();
    await done;
  }, 60_000);

  it('the suggested first query returns masked PII, and the rest of the row as it is', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query<{ full_name: string; email: string; phone: string; ssn: string }>('SELECT full_name, email, phone, ssn FROM customers LIMIT 5');
      expect(r.rows).toHaveLength(5);
      expect(r.rows[0]!.full_name).toBe('Maria Garcia');
      for (const row of r.rows) {
        expect(row.email).toMatch(/^\*{4}@example\.(com|org|net)$/);
        expect(row.phone).toMatch(/^\*+\d{4}$/);
        expect(row.ssn).toMatch(/^h_[0-9a-f]{16}$/);
      }
      const t = await c.query<{ body: string }>("SELECT body FROM support_tickets WHERE subject = 'Identity check'");
      expect(t.rows[0]!.body).not.toMatch(/078-05-1120/);
      await expect(c.query('DROP TABLE api_keys')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
  });
});
