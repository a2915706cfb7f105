import {
  DEMO_API_KEYS,
  DEMO_CUSTOMERS,
  DEMO_ORDERS,
  DEMO_PAYMENT_METHODS,
  DEMO_ROW_COUNTS,
  DEMO_SCHEMA_SQL,
  DEMO_SUPPORT_TICKETS,
} from './demo-schema.js';

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = Number(digits[i]);
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

describe('demo schema', () => {
  test('has about twenty customers with unique ids and emails', () => {
    expect(DEMO_CUSTOMERS).toHaveLength(20);
    expect(new Set(DEMO_CUSTOMERS.map((c) => c.id)).size).toBe(20);
    expect(new Set(DEMO_CUSTOMERS.map((c) => c.email)).size).toBe(20);
    expect(DEMO_ROW_COUNTS.customers).toBe(20);
  });

  test('personal data is clearly fake: reserved domains, 555-01xx phones, never-issued SSNs', () => {
    for (const c of DEMO_CUSTOMERS) {
      expect(c.email).toMatch(/@example\.(com|org|net)$/);
      expect(c.phone).toMatch(/^\+1-\d{3}-555-01\d\d$/);
      const known = ['078-05-1120', '123-45-6789'].includes(c.ssn);
      // area 9xx is never issued as an SSN; ITINs use groups 50-65, 70-88, 90-92, 94-99
      const neverIssued = /^9\d\d-([0-4]\d)-\d{4}$/.test(c.ssn);
      expect([c.ssn, known || neverIssued]).toEqual([c.ssn, true]);
    }
    for (const t of DEMO_SUPPORT_TICKETS) {
      for (const email of t.body.match(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g) ?? []) expect(email).toMatch(/@example\.(com|org|net)$/);
      for (const phone of t.body.match(/\(?\d{3}\)?[ -]555-\d{4}/g) ?? []) expect(phone).toMatch(/555-01\d\d$/);
    }
  });

  test('card numbers are Luhn-valid test numbers; free text carries PII for value detectors', () => {
    for (const p of DEMO_PAYMENT_METHODS) {
      expect([p.cardNumber, luhn(p.cardNumber)]).toEqual([p.cardNumber, true]);
      expect(p.expires).toMatch(/^(0[1-9]|1[0-2])\/\d\d$/);
      expect(DEMO_CUSTOMERS.some((c) => c.id === p.customerId)).toBe(true);
    }
    const bodies = DEMO_SUPPORT_TICKETS.map((t) => t.body).join('\n');
    expect(bodies).toMatch(/@example\.org/);
    expect(bodies).toMatch(/555-01\d\d/);
    expect(bodies).toMatch(/\b(9\d\d|078)-\d\d-\d{4}\b/);
    expect(bodies).toMatch(/4242 4242 4242 4242/);
  });

  test('api keys look like real credentials and are deterministic', () => {
    const keys = DEMO_API_KEYS.map((k) => k.key);
    expect(keys.some((k) => /^sk_live_[0-9A-Za-z]{24}$/.test(k))).toBe(true);
    expect(keys.some((k) => /^ghp_[0-9A-Za-z]{36}$/.test(k))).toBe(true);
    expect(keys.some((k) => k.startsWith('AKIA'))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys[0]).toBe(DEMO_API_KEYS[0]!.key);
  });

  test('orders reference existing customers with valid statuses', () => {
    expect(DEMO_ORDERS.length).toBeGreaterThanOrEqual(40);
    for (const o of DEMO_ORDERS) {
      expect(DEMO_CUSTOMERS.some((c) => c.id === o.customerId)).toBe(true);
      expect(['pending', 'paid', 'shipped', 'refunded', 'cancelled']).toContain(o.status);
      expect(o.amountCents).toBeGreaterThan(0);
      expect(o.createdAt).toMatch(/^2023-\d\d-\d\d \d\d:\d\d:\d\d\+00$/);
    }
  });

  test('the seed SQL is one transaction with every table, and quotes values', () => {
    expect(DEMO_SCHEMA_SQL).toMatch(/^\s*BEGIN;/);
    for (const table of Object.keys(DEMO_ROW_COUNTS)) expect(DEMO_SCHEMA_SQL).toContain(`CREATE TABLE ${table} (`);
    expect(DEMO_SCHEMA_SQL).toContain("'Liam O''Connor'");
  });
});
