import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { ScramError } from './errors.js';
import { ScramServerExchange } from './scram-exchange.js';
import { fakeScramVerifier, makeScramVerifier, verifyCleartextAgainstScram } from './scram.js';

/** node-postgres' own SCRAM client (pg/lib/crypto/sasl.js). */
interface PgSaslSession {
  mechanism: string;
  clientNonce: string;
  response: string;
  message: string;
  serverSignature?: string;
}
interface PgSasl {
  startSession(mechanisms: string[], stream?: object): PgSaslSession;
  continueSession(session: PgSaslSession, password: string, serverData: string, stream?: object): Promise<void>;
  finalizeSession(session: PgSaslSession, serverData: string): void;
}
const require = createRequire(import.meta.url);
const sasl = require('pg/lib/crypto/sasl.js') as PgSasl;

const PASSWORD = 'correct horse battery staple';
const verifier = makeScramVerifier(PASSWORD);

/** Runs pg's client against our server up to the client-final-message. */
async function clientFinalFor(exchange: ScramServerExchange, password: string, stream?: object): Promise<PgSaslSession> {
  const session = sasl.startSession(['SCRAM-SHA-256'], stream);
  const serverFirst = exchange.clientFirst(session.response);
  await sasl.continueSession(session, password, serverFirst, stream);
  return session;
}

function expectScramError(fn: () => unknown, code?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ScramError);
  if (code !== undefined) expect((thrown as ScramError).code).toBe(code);
}

describe('makeScramVerifier', () => {
  it('keeps only salt, iterations, StoredKey and ServerKey', () => {
    expect(Object.keys(verifier).sort()).toEqual(['iterations', 'salt', 'serverKey', 'storedKey']);
    expect(verifier.iterations).toBe(4096);
    expect(Buffer.from(verifier.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(verifier.storedKey, 'base64')).toHaveLength(32);
    expect(Buffer.from(verifier.serverKey, 'base64')).toHaveLength(32);
    expect(JSON.stringify(verifier)).not.toContain(PASSWORD);
  });

  it('salts every verifier differently', () => {
    const again = makeScramVerifier(PASSWORD);
    expect(again.salt).not.toBe(verifier.salt);
    expect(again.storedKey).not.toBe(verifier.storedKey);
  });

  it('refuses iteration counts outside the supported range', () => {
    expect(() => makeScramVerifier(PASSWORD, 100)).toThrow(RangeError);
    expect(() => makeScramVerifier(PASSWORD, 4096.5)).toThrow(RangeError);
    expect(() => makeScramVerifier(PASSWORD, 10_000_000)).toThrow(RangeError);
    expect(makeScramVerifier(PASSWORD, 8192).iterations).toBe(8192);
  });
});

describe('ScramServerExchange with node-postgres as the client', () => {
  it('accepts the right password and pg accepts our server signature', async () => {
    const exchange = new ScramServerExchange(verifier);
    const session = await clientFinalFor(exchange, PASSWORD);
    const result = exchange.clientFinal(session.response);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(() => sasl.finalizeSession(session, result.serverFinal)).not.toThrow();
  });

  it('works with iteration counts other than the default', async () => {
    const exchange = new ScramServerExchange(makeScramVerifier(PASSWORD, 10_000));
    const session = await clientFinalFor(exchange, PASSWORD);
    expect(exchange.clientFinal(session.response).ok).toBe(true);
  });

  it('accepts gs2 flag "y" (client could bind, server does not offer -PLUS)', async () => {
    const exchange = new ScramServerExchange(verifier);
    const stream = {};
    const session = await clientFinalFor(exchange, PASSWORD, stream);
    expect(session.response.startsWith('c=eSws,')).toBe(true);
    const result = exchange.clientFinal(session.response);
    expect(result.ok).toBe(true);
    if (result.ok) sasl.finalizeSession(session, result.serverFinal);
  });

  it('issues a server-first-message with a fresh nonce of at least 18 random bytes', () => {
    const a = new ScramServerExchange(verifier).clientFirst('n,,n=*,r=abc');
    const b = new ScramServerExchange(verifier).clientFirst('n,,n=*,r=abc');
    const m = /^r=abc([A-Za-z0-9+/=]+),s=([^,]+),i=4096$/.exec(a);
    expect(m).not.toBeNull();
    expect(Buffer.from(m![1], 'base64').length).toBeGreaterThanOrEqual(18);
    expect(m![2]).toBe(verifier.salt);
    expect(a).not.toBe(b);
  });

  it('rejects a wrong password at the proof', async () => {
    const exchange = new ScramServerExchange(verifier);
    const session = await clientFinalFor(exchange, 'wrong password');
    expect(exchange.clientFinal(session.response)).toEqual({ ok: false, reason: 'bad_proof' });
  });

  it('rejects a tampered proof', async () => {
    const exchange = new ScramServerExchange(verifier);
    const session = await clientFinalFor(exchange, PASSWORD);
    const at = session.response.lastIndexOf(',p=') + 3;
    const proof = Buffer.from(session.response.slice(at), 'base64');
    proof[7] ^= 0x01;
    expect(exchange.clientFinal(session.response.slice(0, at) + proof.toString('base64'))).toEqual({ ok: false, reason: 'bad_proof' });
  });

  it('rejects a tampered nonce', async () => {
    const exchange = new ScramServerExchange(verifier);
    const session = await clientFinalFor(exchange, PASSWORD);
    const tampered = session.response.replace(/,r=([^,])/, (_m, c: string) => `,r=${c === 'A' ? 'B' : 'A'}`);
    expect(tampered).not.toBe(session.response);
    expect(exchange.clientFinal(tampered)).toEqual({ ok: false, reason: 'nonce_mismatch' });
  });

  it('rejects a client-final-message replayed into another exchange', async () => {
    const first = new ScramServerExchange(verifier);
    const session = await clientFinalFor(first, PASSWORD);
    const second = new ScramServerExchange(verifier);
    second.clientFirst(`n,,n=*,r=${session.clientNonce}`);
    expect(second.clientFinal(session.response)).toEqual({ ok: false, reason: 'nonce_mismatch' });
  });

  it('rejects channel-binding data that does not repeat the gs2 header', async () => {
    const exchange = new ScramServerExchange(verifier);
    const session = await clientFinalFor(exchange, PASSWORD);
    const tampered = session.response.replace(/^c=biws,/, 'c=eSws,');
    expect(exchange.clientFinal(tampered)).toEqual({ ok: false, reason: 'channel_binding_mismatch' });
  });

  it('rejects an extension added to the signed part (it changes AuthMessage)', async () => {
    const exchange = new ScramServerExchange(verifier);
    const session = await clientFinalFor(exchange, PASSWORD);
    const tampered = session.response.replace(',p=', ',x=1,p=');
    expect(exchange.clientFinal(tampered)).toEqual({ ok: false, reason: 'bad_proof' });
  });

  it('allows exactly one attempt per exchange and enforces message order', async () => {
    const exchange = new ScramServerExchange(verifier);
    expectScramError(() => exchange.clientFinal('c=biws,r=x,p=' + Buffer.alloc(32).toString('base64')), 'invalid_state');
    const fresh = new ScramServerExchange(verifier);
    const session = await clientFinalFor(fresh, PASSWORD);
    expect(fresh.clientFinal(session.response).ok).toBe(true);
    expectScramError(() => fresh.clientFinal(session.response), 'invalid_state');
    expectScramError(() => fresh.clientFirst('n,,n=*,r=abc'), 'invalid_state');
  });

  it('ends the exchange after a malformed message', () => {
    const exchange = new ScramServerExchange(verifier);
    expectScramError(() => exchange.clientFirst('garbage'), 'malformed_message');
    expectScramError(() => exchange.clientFirst('n,,n=*,r=abc'), 'invalid_state');
  });

  it('refuses an unusable verifier with ScramError', () => {
    expectScramError(() => new ScramServerExchange({ ...verifier, storedKey: 'AAAA' }), 'invalid_verifier');
    expectScramError(() => new ScramServerExchange({ ...verifier, salt: '' }), 'invalid_verifier');
    expectScramError(() => new ScramServerExchange({ ...verifier, iterations: 0 }), 'invalid_verifier');
    expectScramError(() => new ScramServerExchange({ ...verifier, serverKey: '!!!' }), 'invalid_verifier');
  });
});

describe('client-first-message parsing', () => {
  const cases: [string, string][] = [
    ['', 'malformed_message'],
    ['n', 'malformed_message'],
    ['n,', 'malformed_message'],
    ['n,,', 'malformed_message'],
    ['x,,n=*,r=abc', 'malformed_message'],
    ['n,,r=abc', 'malformed_message'],
    ['n,,n=*', 'malformed_message'],
    ['n,,n=*,r=', 'malformed_message'],
    ['n,,n=*,r=abc,', 'malformed_message'],
    ['n,,n=*,r=ab c', 'malformed_message'],
    ['n,,n=*,r=abc\u00e9', 'malformed_message'],
    ['n,,n=*,x=abc', 'malformed_message'],
    ['n,,n=*,r=' + 'a'.repeat(5000), 'malformed_message'],
    ['p=tls-server-end-point,,n=*,r=abc', 'unsupported_channel_binding'],
    ['n,a=admin,n=*,r=abc', 'unsupported_authzid'],
    ['n,,m=ext,n=*,r=abc', 'unsupported_extension'],
  ];
  it.each(cases)('%j -> %s', (message, code) => {
    expectScramError(() => new ScramServerExchange(verifier).clientFirst(message), code);
  });

  it('ignores the user name and accepts extensions after the nonce', () => {
    expect(new ScramServerExchange(verifier).clientFirst('n,,n=,r=abc')).toMatch(/^r=abc/);
    expect(new ScramServerExchange(verifier).clientFirst('y,,n=some=2Cuser,r=abc,e=ext')).toMatch(/^r=abc/);
  });
});

describe('client-final-message parsing', () => {
  const proof = Buffer.alloc(32, 7).toString('base64');
  const cases: string[] = [
    '',
    'c=biws',
    'c=biws,r=abc',
    `c=biws,p=${proof}`,
    `r=abc,c=biws,p=${proof}`,
    `c=biws,r=abc,p=${Buffer.alloc(31).toString('base64')}`,
    'c=biws,r=abc,p=not-base64!',
    `c=***,r=abc,p=${proof}`,
    `c=biws,,r=abc,p=${proof}`,
    `c=biws,r=abc,p=${proof},x=1`,
    // same bytes as `proof` but with non-zero padding bits: not canonical base64
    `c=biws,r=abc,p=${proof.slice(0, 42)}${String.fromCharCode(proof.charCodeAt(42) + 1)}=`,
  ];
  it.each(cases)('%j throws ScramError', (message) => {
    const exchange = new ScramServerExchange(verifier);
    exchange.clientFirst('n,,n=*,r=abc');
    expectScramError(() => exchange.clientFinal(message), 'malformed_message');
  });
});

describe('random input', () => {
  const junk = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
    fc.array(fc.constantFrom('n', 'y', 'p', ',', '=', 'r', 'c', 'a', 'm', 'biws', 'abc', 'AAAA', '=='), { maxLength: 40 }).map((p) => p.join('')),
  );

  function onlyScramErrors(fn: () => unknown): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      return err instanceof ScramError;
    }
  }

  it('client-first never throws anything but ScramError', () => {
    fc.assert(fc.property(junk, (m) => onlyScramErrors(() => new ScramServerExchange(verifier).clientFirst(m))), { numRuns: 2000 });
  });

  it('client-final never throws anything but ScramError and never succeeds', () => {
    fc.assert(
      fc.property(junk, (m) => {
        const exchange = new ScramServerExchange(verifier);
        exchange.clientFirst('n,,n=*,r=abc');
        let result: unknown = null;
        const ok = onlyScramErrors(() => {
          result = exchange.clientFinal(m);
        });
        return ok && (result === null || (result as { ok: boolean }).ok === false);
      }),
      { numRuns: 2000 },
    );
  });

  it('single-character mutations of a genuine client-final-message never succeed or crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 0x20, max: 0x7e }), async (where, code) => {
        const exchange = new ScramServerExchange(verifier);
        const genuine = (await clientFinalFor(exchange, PASSWORD)).response;
        const at = Math.floor(where * genuine.length);
        const mutated = genuine.slice(0, at) + String.fromCharCode(code) + genuine.slice(at + 1);
        let result: unknown = null;
        const ok = onlyScramErrors(() => {
          result = exchange.clientFinal(mutated);
        });
        if (mutated === genuine) return ok && (result as { ok: boolean }).ok;
        return ok && (result === null || (result as { ok: boolean }).ok === false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('fakeScramVerifier', () => {
  const key = randomBytes(32);

  it('is stable per user and looks like a real verifier', () => {
    const a = fakeScramVerifier('sw_0123456789abcdef', key);
    const b = fakeScramVerifier('sw_0123456789abcdef', key);
    expect(a).toEqual(b);
    expect(Buffer.from(a.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(a.storedKey, 'base64')).toHaveLength(32);
    expect(a.iterations).toBe(4096);
    expect(fakeScramVerifier('sw_0123456789abcdef', key, 8192).iterations).toBe(8192);
  });

  it('differs per user and per key', () => {
    const a = fakeScramVerifier('alice', key);
    expect(fakeScramVerifier('bob', key).salt).not.toBe(a.salt);
    expect(fakeScramVerifier('alice', randomBytes(32)).salt).not.toBe(a.salt);
  });

  it('shows the same salt across attempts in the server-first-message', () => {
    const first = new ScramServerExchange(fakeScramVerifier('nobody', key)).clientFirst('n,,n=*,r=abc');
    const second = new ScramServerExchange(fakeScramVerifier('nobody', key)).clientFirst('n,,n=*,r=abc');
    expect(first.split(',').slice(1)).toEqual(second.split(',').slice(1));
  });

  it('always fails at the proof, even when copied', async () => {
    for (const v of [fakeScramVerifier('nobody', key), { ...fakeScramVerifier('nobody', key) }]) {
      const exchange = new ScramServerExchange(v);
      const session = await clientFinalFor(exchange, PASSWORD);
      expect(exchange.clientFinal(session.response)).toEqual({ ok: false, reason: 'bad_proof' });
    }
  });

  it('never verifies a cleartext password', () => {
    expect(verifyCleartextAgainstScram(PASSWORD, fakeScramVerifier('nobody', key))).toBe(false);
  });

  it('needs a key of at least 16 bytes', () => {
    expect(() => fakeScramVerifier('nobody', Buffer.alloc(8))).toThrow(RangeError);
  });
});

describe('verifyCleartextAgainstScram', () => {
  it('accepts the password and rejects others', () => {
    expect(verifyCleartextAgainstScram(PASSWORD, verifier)).toBe(true);
    expect(verifyCleartextAgainstScram(PASSWORD + ' ', verifier)).toBe(false);
    expect(verifyCleartextAgainstScram('', verifier)).toBe(false);
  });

  it('uses the UTF-8 bytes of non-ASCII passwords', () => {
    const v = makeScramVerifier('pässwörd');
    expect(verifyCleartextAgainstScram('pässwörd', v)).toBe(true);
    expect(verifyCleartextAgainstScram('passwort', v)).toBe(false);
  });
});
