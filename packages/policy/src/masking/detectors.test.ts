import fc from 'fast-check';
import { DETECTORS, type Detector } from '../model.js';
import {
  ALL_DETECTORS,
  candidateBitsBytes,
  candidateBitsString,
  containsPII,
  detectedIn,
  detectorSet,
  findPII,
  findPIIExhaustive,
  ibanChecksumOk,
  isCardNumber,
  luhnOk,
  mergeSpans,
  redactSpans,
  redactSpansBuffer,
} from './detectors.js';
import { anyText } from './test-support.js';

/** What one detector finds in `value`, as the texts found. */
const found = (d: Detector, value: string) => findPII(value, [d]).map((s) => value.slice(s.start, s.end));

// Built from parts so that secret scanners do not flag this file.
const j = (...parts: string[]) => parts.join('');
const JWT_HS256 = j('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', '.', 'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ', '.', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c');
const PEM = j('-----BEGIN RSA ', 'PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF\nrqhVHAx2sgTPTzvqvq4BfLFN2E7MYlR6u9B1VJc9kHA5vzuY3y8ZTRTS+1gsHa0n\n-----END RSA ', 'PRIVATE KEY-----');

type Case = [string, string[]];
const TABLES: Record<Detector, { hits: Case[]; misses: string[] }> = {
  email: {
    hits: [
      ['alice@example.com', ['alice@example.com']],
      ['Contact: First.Last+tag@mail.example.co.uk.', ['First.Last+tag@mail.example.co.uk']],
      ['From: Bob <bob_99@sub.example.io>', ['bob_99@sub.example.io']],
      ["{'email': 'o'brien@example.ie'}", ["o'brien@example.ie"]],
      ['mailto:carol@example.org?subject=hi', ['carol@example.org']],
      ['a@b.co, c@d.dev', ['a@b.co', 'c@d.dev']],
      ['https://example.com/?email=dave@example.net', ['dave@example.net']],
      ['x@xn--bcher-kva.example', ['x@xn--bcher-kva.example']],
      ['José.Müller@example.de wrote', ['José.Müller@example.de']],
    ],
    misses: [
      '@alice mentioned you',
      'user@localhost',
      'background: url(logo@2x.png)',
      'npm i lodash@4.17.21',
      'docker pull nginx@sha256:0123abcd',
      'git clone git@github.com:org/repo.git',
      'ssh://git@github.com/org/repo.git',
      'postgres://app:secret@db.example.com/app', // the password is url_password's
      'https://user@bitbucket.org/team/repo.git',
      'alice@example',
      'alice @ example.com',
      '@media screen',
    ],
  },
  credit_card: {
    hits: [
      ['4111111111111111', ['4111111111111111']],
      ['card 4111 1111 1111 1111 exp 12/26', ['4111 1111 1111 1111']],
      ['5555-5555-5555-4444', ['5555-5555-5555-4444']],
      ['Amex 3782 822463 10005', ['3782 822463 10005']],
      ['378282246310005', ['378282246310005']],
      ['Diners 30569309025904', ['30569309025904']],
      ['6011111111111117', ['6011111111111117']],
      ['JCB 3530111333300000', ['3530111333300000']],
      ['2223003122003222', ['2223003122003222']],
      ['4000 0566 5566 5556 122', ['4000 0566 5566 5556 122']], // Visa 19, grouped
    ],
    misses: [
      '4111111111111112', // Luhn
      '1234567812345670', // Luhn-valid, no issuer starts with 1
      '9400 1000 0000 0000 0000 00', // USPS tracking: part of a longer run
      '4111 1111 1111 1111 1111 1111', // too long a run
      '4111-1111 1111-1111', // mixed separators
      '41 11 11 11 11 11 11 11', // not grouped like a card
      '9223372036854775807', // bigint max
      '1700000000000', // epoch ms
      '4006381333931', // EAN-13 (13 digits, unseparated)
      '0.4111111111111111',
      'order 4111111111111111.5',
      'ID4111111111111111',
    ],
  },
  us_ssn: {
    hits: [
      ['123-45-6789', ['123-45-6789']],
      ['SSN: 078-05-1120', ['078-05-1120']],
      ['ssn=219-09-9999;', ['219-09-9999']],
    ],
    misses: ['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '123-45-0000', '123456789', '2024-05-17', '123-45-67890', 'A123-45-6789', '978-0-306-40615-7', '1-123-45-6789'],
  },
  iban: {
    hits: [
      ['DE89370400440532013000', ['DE89370400440532013000']],
      ['IBAN: DE89 3704 0044 0532 0130 00 (EUR)', ['DE89 3704 0044 0532 0130 00']],
      ['GB82 WEST 1234 5698 7654 32', ['GB82 WEST 1234 5698 7654 32']],
      ['pay to NL91ABNA0417164300', ['NL91ABNA0417164300']],
      ['CH9300762011623852957', ['CH9300762011623852957']],
      ['FR1420041010050500013M02606', ['FR1420041010050500013M02606']],
      ['NO9386011117947', ['NO9386011117947']],
    ],
    misses: ['DE89370400440532013001', 'DE8937040044053201300', 'XX89370400440532013000', 'DE89370400440532013000X', 'de89370400440532013000', 'SKU DE12-3456', 'AB12CD34EF56'],
  },
  phone: {
    hits: [
      ['+14155552671', ['+14155552671']],
      ['Tel: +44 20 7946 0958', ['+44 20 7946 0958']],
      ['+49 (0)30 1234567', ['+49 (0)30 1234567']],
      ['+33 6 12 34 56 78', ['+33 6 12 34 56 78']],
      ['call (415) 555-2671 after 5', ['(415) 555-2671']],
      ['415-555-2671', ['415-555-2671']],
      ['415.555.2671', ['415.555.2671']],
      ['1-800-555-0199', ['1-800-555-0199']],
      ['phone=123-456-7890', ['123-456-7890']],
      ['020 7946 0958', ['020 7946 0958']],
      ['06 12 34 56 78', ['06 12 34 56 78']],
      ['06.12.34.56.78', ['06.12.34.56.78']],
      ['030/12345678', ['030/12345678']],
      ['0171-1234567', ['0171-1234567']],
      ['0049 30 12345678', ['0049 30 12345678']],
    ],
    misses: [
      '2024-05-17',
      '17.05.2024',
      '05/17/2024 12:34',
      '2024-05-17T12:34:56+02:00',
      '$1,234,567.89',
      '1 234 567,89 €',
      '192.168.100.200',
      '10.0.19045.3693',
      '978-3-16-148410-0',
      '0-306-40615-2',
      '94105-1234',
      '01023-7936',
      'ORD-2024-000123',
      '112-1234567-1234567',
      '9400 1000 0000 0000 0000 00',
      '5551234567',
      '0001234567',
      '+12.5%',
      '+1234567',
      '1.2345678901e+10',
      'P/N 0285-8209-96',
      '550e8400-e29b-41d4-a716-446655440000',
      '12:34:56.789',
    ],
  },
  jwt: {
    hits: [
      [JWT_HS256, [JWT_HS256]],
      [`Authorization: Bearer ${JWT_HS256}`, [JWT_HS256]],
      [j('eyJhbGciOiJub25lIn0', '.', 'eyJzdWIiOiIxIn0', '.'), [j('eyJhbGciOiJub25lIn0', '.', 'eyJzdWIiOiIxIn0', '.')]],
    ],
    misses: [
      j('eyJ0eXAiOiJKV1QifQ', '.', 'eyJzdWIiOiIxIn0', '.', 'abc'), // header without alg
      j('eyJhbGciOiJIUzI1NiJ9', '.', 'xx'), // two parts
      'eyJzZWxlY3QiOjF9', // one base64 JSON blob
      'a.b.c',
      'version 1.2.3',
    ],
  },
  aws_key: {
    hits: [
      [j('AKIA', 'IOSFODNN7EXAMPLE'), [j('AKIA', 'IOSFODNN7EXAMPLE')]],
      [j('aws_access_key_id = ASIA', 'Y34FZKBOKMUTVV7A'), [j('ASIA', 'Y34FZKBOKMUTVV7A')]],
      [j('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfi', 'CYEXAMPLEKEY'), [j('wJalrXUtnFEMI/K7MDENG/bPxRfi', 'CYEXAMPLEKEY')]],
      [j('"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfi', 'CYEXAMPLEKEY"'), [j('wJalrXUtnFEMI/K7MDENG/bPxRfi', 'CYEXAMPLEKEY')]],
      [j('AKIA', 'IOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfi', 'CYEXAMPLEKEY'), [j('AKIA', 'IOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfi', 'CYEXAMPLEKEY')]],
    ],
    misses: [j('AKIA', 'IOSFODNN7EXAMPL'), j('XAKIA', 'IOSFODNN7EXAMPLE'), 'export AWS_SECRET_ACCESS_KEY=$SECRET', 'secret_key = short', 'the secret is out'],
  },
  gcp_key: {
    hits: [
      [j('key=AIza', 'SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'), [j('AIza', 'SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY')]],
      [j('{"type": "service_account", "private_key_id": "', 'a'.repeat(40), '", "private_key": "-----BEGIN ', 'PRIVATE KEY-----\\nMIIE\\n-----END ', 'PRIVATE KEY-----\\n"}'), ['a'.repeat(40), j('-----BEGIN ', 'PRIVATE KEY-----\\nMIIE\\n-----END ', 'PRIVATE KEY-----\\n')]],
    ],
    misses: [j('AIza', 'SyD-9tSrke72PouQMnMX'), 'AIzawhatever', '"private_key_id": "short"'],
  },
  github_token: {
    hits: [
      [j('ghp_', 'a'.repeat(20), 'B'.repeat(16)), [j('ghp_', 'a'.repeat(20), 'B'.repeat(16))]],
      [j('GITHUB_TOKEN=ghs_', '1'.repeat(36)), [j('ghs_', '1'.repeat(36))]],
      [j('github_pat_', 'A'.repeat(22), '_', 'b'.repeat(59)), [j('github_pat_', 'A'.repeat(22), '_', 'b'.repeat(59))]],
    ],
    misses: [j('ghp_', 'a'.repeat(35)), j('ghx_', 'a'.repeat(36)), j('xghp_', 'a'.repeat(36)), 'github_pat_short'],
  },
  slack_token: {
    hits: [
      [j('xoxb-', '123456789012-1234567890123-', 'AbCdEfGhIjKlMnOpQrStUvWx'), [j('xoxb-', '123456789012-1234567890123-', 'AbCdEfGhIjKlMnOpQrStUvWx')]],
      [j('token: xoxp-', '1234567890-abcdef'), [j('xoxp-', '1234567890-abcdef')]],
      [j('https://hooks.slack.com/services/', 'T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'), [j('https://hooks.slack.com/services/', 'T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX')]],
    ],
    misses: ['xoxb-short', 'xoxz-1234567890-abc', 'https://hooks.slack.com/', 'the xox- prefix'],
  },
  stripe_key: {
    hits: [
      [j('sk_live_', '4eC39HqLyjWDarjtT1zdp7dc'), [j('sk_live_', '4eC39HqLyjWDarjtT1zdp7dc')]],
      [j('STRIPE_KEY=rk_test_', 'abcdefghij0123'), [j('rk_test_', 'abcdefghij0123')]],
      [j('pk_live_', 'TYooMQauvdEDq54NiTphI7jx'), [j('pk_live_', 'TYooMQauvdEDq54NiTphI7jx')]],
      [j('whsec_', 'a'.repeat(32)), [j('whsec_', 'a'.repeat(32))]],
    ],
    misses: ['sk_live_short', 'ask_live_0123456789abc', 'sk_prod_0123456789abcdef', 'desk_test_results'],
  },
  private_key: {
    hits: [
      [PEM, [PEM]],
      [`key: |\n${PEM}\nnext: 1`, [PEM]],
      [j('-----BEGIN OPENSSH ', 'PRIVATE KEY-----\nb3BlbnNzaC1rZXk'), [j('-----BEGIN OPENSSH ', 'PRIVATE KEY-----\nb3BlbnNzaC1rZXk')]], // cut: to the end
      [j('-----BEGIN ENCRYPTED ', 'PRIVATE KEY-----\\nMIIF\\n-----END ENCRYPTED ', 'PRIVATE KEY-----'), [j('-----BEGIN ENCRYPTED ', 'PRIVATE KEY-----\\nMIIF\\n-----END ENCRYPTED ', 'PRIVATE KEY-----')]],
      [j('-----BEGIN PGP ', 'PRIVATE KEY BLOCK-----\nx\n-----END PGP ', 'PRIVATE KEY BLOCK-----'), [j('-----BEGIN PGP ', 'PRIVATE KEY BLOCK-----\nx\n-----END PGP ', 'PRIVATE KEY BLOCK-----')]],
    ],
    misses: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', '-----BEGIN private key-----'],
  },
  url_password: {
    hits: [
      ['postgres://app:s3cret@db.example.com:5432/app', ['s3cret']],
      ['redis://:hunter2@cache:6379/0', ['hunter2']],
      ['DATABASE_URL=mysql://root:p@ss@127.0.0.1/shop', ['p@ss']],
      ['https://user:pa%40ss@example.com/x', ['pa%40ss']],
      ['amqp://guest:guest@rabbit/', ['guest']],
    ],
    misses: ['postgres://app@db.example.com/app', 'https://example.com:8443/path', 'http://host/a:b@c', 'user:pass@host', 'mailto:a@b.com'],
  },
};

describe('detectors', () => {
  for (const d of DETECTORS) {
    describe(d, () => {
      it.each(TABLES[d].hits)('finds %j', (value, expected) => {
        expect(found(d, value).sort()).toEqual([...expected].sort());
        expect(containsPII(value, [d])).toBe(true);
        expect(containsPII(Buffer.from(value), [d])).toBe(true);
      });
      it.each(TABLES[d].misses.map((m) => [m]))('does not find anything in %j', (value) => {
        expect(found(d, value)).toEqual([]);
        expect(containsPII(value, [d])).toBe(false);
      });
    });
  }

  it('switched off, a detector finds nothing', () => {
    const value = 'alice@example.com 4111 1111 1111 1111';
    expect(detectedIn(value, ['email'])).toEqual(['email']);
    expect(detectedIn(value, ['credit_card'])).toEqual(['credit_card']);
    expect(detectedIn(value, [])).toEqual([]);
    expect(detectedIn(value)).toEqual(['email', 'credit_card']);
    expect(detectorSet(['email']).has('phone')).toBe(false);
  });

  it('an unknown detector name is refused', () => expect(() => detectorSet(['email', 'mail' as Detector])).toThrow(/unknown detector/));
});

describe('redacting spans', () => {
  const value = `Customer alice@example.com paid with 4111 1111 1111 1111 from +44 20 7946 0958; token ${JWT_HS256}.`;

  it('replaces every finding and keeps the rest', () => {
    expect(redactSpans(value)).toBe('Customer [redacted] paid with [redacted] from [redacted]; token [redacted].');
    expect(redactSpans(value, ALL_DETECTORS, (d) => `<${d}>`)).toBe('Customer <email> paid with <credit_card> from <phone>; token <jwt>.');
  });

  it('masks only what the chosen detectors find', () => {
    expect(redactSpans(value, ['email'], '***')).toBe(value.replace('alice@example.com', '***'));
  });

  it('merges overlapping findings', () => {
    // a service-account key: the JSON value (gcp_key) holds the PEM block (private_key)
    const v = j('{"private_key": "-----BEGIN ', 'PRIVATE KEY-----\\nMIIE\\n-----END ', 'PRIVATE KEY-----\\n", "x": 1}');
    expect(findPII(v).map((f) => f.detector)).toEqual(['gcp_key', 'private_key']);
    expect(redactSpans(v)).toBe('{"private_key": "[redacted]", "x": 1}');
    expect(mergeSpans([
      { detector: 'email', start: 5, end: 9 },
      { detector: 'phone', start: 0, end: 6 },
      { detector: 'jwt', start: 12, end: 14 },
    ])).toEqual([
      { detector: 'phone', start: 0, end: 9 },
      { detector: 'jwt', start: 12, end: 14 },
    ]);
  });

  it('over bytes: the same Buffer back when nothing is found, new bytes otherwise', () => {
    const clean = Buffer.from('order 12345 shipped on 2024-05-17 to 123 Main St');
    expect(redactSpansBuffer(clean)).toBe(clean);
    const dirty = Buffer.from('mail bob@example.org — merci, à bientôt');
    expect(redactSpansBuffer(dirty).toString()).toBe('mail [redacted] — merci, à bientôt');
  });

  it('offsets are UTF-16 offsets into the string', () => {
    const v = '😀 émile@example.fr';
    const [s] = findPII(v, ['email']);
    expect(s.start).toBe(3);
    expect(v.slice(s.start, s.end)).toBe('émile@example.fr');
  });
});

describe('pre-check', () => {
  it('bytes and strings agree, and never skip a detector that would find something', () => {
    const samples = Object.values(TABLES).flatMap((t) => [...t.hits.map((h) => h[0]), ...t.misses]);
    for (const v of samples) {
      const bits = candidateBitsString(v, ALL_DETECTORS.bits);
      expect(candidateBitsBytes(Buffer.from(v), ALL_DETECTORS.bits)).toBe(bits);
      DETECTORS.forEach((d, i) => {
        if (found(d, v).length > 0) expect(bits & (1 << i)).not.toBe(0);
      });
    }
  });

  it('property: the pre-check never skips a detector that would find something', () => {
    // strings dense in what the detectors look at: digits, separators, capitals, prefixes
    const piece = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789 -.()/+'), minLength: 1, maxLength: 24 }),
      fc.constantFrom('@', 'a@b.co', 'DE', 'GB82', 'WEST', 'eyJ', 'AKIA', 'ghp_', 'xoxb-', 'sk_live_', '-----BEGIN ', 'x', ' ', ':', '://u:', '1', '00', '0'),
      fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef_-'), maxLength: 45 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }).map((a) => a.join('')), (v) => {
        const bits = candidateBitsString(v, ALL_DETECTORS.bits);
        for (const f of findPIIExhaustive(v)) expect(bits & (1 << DETECTORS.indexOf(f.detector))).not.toBe(0);
        expect(findPII(v)).toEqual(findPIIExhaustive(v, detectorSet(DETECTORS.filter((_, i) => (bits & (1 << i)) !== 0))));
      }),
      { seed: 11, numRuns: 3000 },
    );
  });

  it('property: containsPII over bytes equals containsPII over the string', () => {
    const withPii = fc.tuple(anyText, fc.constantFrom(...Object.values(TABLES).flatMap((t) => t.hits.map((h) => h[0]))), anyText).map(([a, p, z]) => a + p + z);
    fc.assert(
      fc.property(fc.oneof(anyText, withPii), (v) => {
        expect(containsPII(Buffer.from(v))).toBe(containsPII(Buffer.from(v).toString()));
      }),
      { seed: 3, numRuns: 500 },
    );
  });

  it('property: a value with nothing to find passes through untouched', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'abcdefghij klmnop,.;:!?'), maxLength: 200 }), (v) => {
        expect(findPII(v)).toEqual([]);
        expect(redactSpans(v)).toBe(v);
      }),
      { seed: 5, numRuns: 200 },
    );
  });
});

describe('checksums', () => {
  it('Luhn', () => {
    expect(luhnOk('79927398713')).toBe(true);
    expect(luhnOk('79927398710')).toBe(false);
  });
  it('cards need an issuer, a valid length and grouping', () => {
    expect(isCardNumber('4111111111111111')).toBe(true);
    expect(isCardNumber('34111111111111')).toBe(false); // Amex is 15 digits
    expect(isCardNumber('4111111111111111111')).toBe(false); // 19 unseparated: ids
  });
  it('IBAN mod 97', () => {
    expect(ibanChecksumOk('GB82WEST12345698765432')).toBe(true);
    expect(ibanChecksumOk('GB82WEST12345698765433')).toBe(false);
  });
});
