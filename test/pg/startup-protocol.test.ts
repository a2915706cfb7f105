import net from 'node:net';
import pg from 'pg';
import { createTestDatabase } from '../helpers/servers.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';
import { makeSelfSignedCert } from '../helpers/self-signed.js';

/** Opens a raw socket to the proxy, sends bytes, and collects everything until close or timeout. */
function raw(port: number, send: Buffer[], waitMs = 1500): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closed = false;
    // each write after the first waits a moment, as a client waits for the answer to SSL/GSSENC requests
    const s = net.connect(port, '127.0.0.1', () => {
      send.forEach((b, i) => setTimeout(() => !s.destroyed && s.write(b), i * 100));
    });
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed });
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    }, waitMs);
  });
}

function int32s(...n: number[]): Buffer {
  const b = Buffer.alloc(4 * n.length);
  n.forEach((v, i) => b.writeInt32BE(v, 4 * i));
  return b;
}

function startup(version: number, params: Record<string, string>): Buffer {
  const body = Buffer.from(Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join('') + '\0');
  return Buffer.concat([int32s(8 + body.length, version), body]);
}

/** The message types in a backend stream (after an optional single-byte SSL/GSS answer). */
function types(buf: Buffer, skip = 0): string[] {
  const out: string[] = [];
  let pos = skip;
  while (pos + 5 <= buf.length) {
    out.push(String.fromCharCode(buf[pos]));
    pos += 1 + buf.readInt32BE(pos + 1);
  }
  return out;
}

function errorText(buf: Buffer): string {
  return buf.toString('latin1').replace(/\0/g, ' ');
}

describe('the Postgres startup phase', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;

  beforeAll(async () => {
    db = await createTestDatabase();
    tp = await startTestProxy({ database: db.name, tweak: (c) => (c.limits.handshakeTimeoutMs = 1000) });
  });
  afterAll(async () => {
    await tp?.close();
    await db?.drop();
  });

  it('refuses bytes sent behind a GSSENCRequest before its answer, like PostgreSQL', async () => {
    const r = await raw(tp.port, [Buffer.concat([int32s(8, 80877104), startup(196608, { user: 'x' })])]);
    expect(errorText(r.data)).toContain('data received after GSSENCRequest');
  });

  it('answers GSSENCRequest with N and continues with the startup on the same connection', async () => {
    const r = await raw(tp.port, [int32s(8, 80877104), startup(196608, { user: 'sw_0123456789abcdef', database: db.name })]);
    expect(r.data[0]).toBe(0x4e);
    // then the SCRAM challenge for the (unknown) user, like for any user
    expect(types(r.data, 1)[0]).toBe('R');
  });

  it('answers SSLRequest with N when TLS is not configured', async () => {
    const r = await raw(tp.port, [int32s(8, 80877103)], 500);
    expect(r.data).toEqual(Buffer.from('N'));
  });

  it('refuses protocol 2.0 with a clear error', async () => {
    const r = await raw(tp.port, [startup(2 << 16, { user: 'x' })]);
    expect(types(r.data)).toEqual(['E']);
    expect(errorText(r.data)).toContain('unsupported frontend protocol 2.0');
    expect(r.closed).toBe(true);
  });

  it('negotiates a newer 3.x minor version and unknown _pq_ options down to 3.0', async () => {
    const r = await raw(tp.port, [startup((3 << 16) | 2, { user: 'sw_0123456789abcdef', '_pq_.test_option': 'x' })]);
    const t = types(r.data);
    expect(t[0]).toBe('v');
    // NegotiateProtocolVersion: newest minor 0, one unrecognized option named
    expect(r.data.readInt32BE(5)).toBe(3 << 16);
    expect(r.data.readInt32BE(9)).toBe(1);
    expect(r.data.toString('latin1', 13, 13 + '_pq_.test_option'.length)).toBe('_pq_.test_option');
    expect(t[1]).toBe('R');
  });

  it('refuses replication connections and startup settings that could change how SQL is read', async () => {
    const cases: Record<string, string>[] = [{ replication: 'database' }, { standard_conforming_strings: 'off' }, { client_encoding: 'SJIS' }, { options: '-c backslash_quote=on' }];
    for (const params of cases) {
      const r = await raw(tp.port, [startup(196608, { user: 'sw_0123456789abcdef', ...params })]);
      expect(types(r.data)).toEqual(['E']);
      expect(errorText(r.data)).toMatch(/not allowed|not supported/);
    }
  });

  it('closes a connection that sends nothing after connecting, and one that stalls mid-login', async () => {
    const idle = await raw(tp.port, [], 4000);
    expect(idle.closed).toBe(true);
    const stalled = await raw(tp.port, [startup(196608, { user: 'sw_0123456789abcdef' })], 4000);
    expect(stalled.closed).toBe(true);
    expect(errorText(stalled.data)).toContain('did not complete its login in time');
  });

  it('refuses a protocol violation during login with 08P01 and stays up', async () => {
    const r = await raw(tp.port, [startup(196608, { user: 'sw_0123456789abcdef' }), Buffer.from([0x51, 0, 0, 0, 9, 0x73, 0x65, 0x6c, 0x00])]);
    expect(errorText(r.data)).toContain('08P01');
    const m = await tp.mint();
    const c = new pg.Client(tp.pgOptions(m));
    await c.connect();
    expect((await c.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    await c.end();
  });
});

describe('TLS for clients', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let tp: TestProxy;
  let cert: Awaited<ReturnType<typeof makeSelfSignedCert>>;

  beforeAll(async () => {
    db = await createTestDatabase();
    cert = await makeSelfSignedCert();
    tp = await startTestProxy({
      database: db.name,
      extraYaml: `tls:\n  cert: ${cert.cert}\n  key: ${cert.key}\n  required: false\nauth:\n  cleartextOverTls: true\n`,
    });
  });
  afterAll(async () => {
    await tp?.close();
    await db?.drop();
    cert?.remove();
  });

  it('drops a connection that sends plaintext right behind its SSLRequest (no injection ahead of the handshake)', async () => {
    const r = await raw(tp.port, [Buffer.concat([int32s(8, 80877103), startup(196608, { user: 'x' })])]);
    expect(r.data.includes(0x53) && r.data.length === 1).toBe(false);
    expect(errorText(r.data)).toContain('data received after SSLRequest');
  });

  it('with cleartextOverTls, a TLS client logs in with a password message', async () => {
    const m = await tp.mint('tls-cleartext');
    const c = new pg.Client(tp.pgOptions(m, { ssl: { rejectUnauthorized: false } }));
    await c.connect();
    expect((await c.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    await c.end();
  });

  it('without TLS the same instance still asks for SCRAM, never for a cleartext password', async () => {
    const r = await raw(tp.port, [startup(196608, { user: 'sw_0123456789abcdef', database: db.name })]);
    expect(types(r.data)[0]).toBe('R');
    // AuthenticationSASL (10), not AuthenticationCleartextPassword (3)
    expect(r.data.readInt32BE(5)).toBe(10);
    expect(r.data.toString('latin1')).toContain('SCRAM-SHA-256');
  });

  it('a wrong cleartext password is refused with the generic 28P01', async () => {
    const m = await tp.mint('tls-cleartext-wrong');
    const c = new pg.Client(tp.pgOptions({ ...m, password: 'wrong' }, { ssl: { rejectUnauthorized: false } }));
    await expect(c.connect()).rejects.toMatchObject({ code: '28P01' });
  });
});
