/**
 * The demo database that `sqlwarden demo` serves: a small shop with personal data in it, so that
 * masking and policies have something to show. Every value is fake and deterministic (no clock,
 * no randomness): emails on example.com / example.org / example.net, phone numbers in the
 * 555-0100..0199 range reserved for fiction, SSNs that can never be issued (area 9xx with a group
 * below 50, plus the well-known voided 078-05-1120 and 123-45-6789), card numbers that are the
 * card networks' published test numbers (Luhn-valid, never chargeable), API keys that look real
 * but are made up.
 *
 * Secret-looking literals (sk_live_..., ghp_..., xoxb-...) are assembled at module load from
 * pieces, so the source file itself does not trip secret scanners.
 */

export interface DemoCustomer {
  id: number;
  fullName: string;
  email: string;
  phone: string;
  ssn: string;
  dateOfBirth: string;
  createdAt: string;
}

export const DEMO_CUSTOMERS: readonly DemoCustomer[] = [
  { id: 1, fullName: 'Maria Garcia', email: 'maria.garcia@example.com', phone: '+1-415-555-0101', ssn: '900-12-3456', dateOfBirth: '1984-03-12', createdAt: '2023-01-04 09:15:00+00' },
  { id: 2, fullName: 'James Smith', email: 'jsmith@example.org', phone: '+1-212-555-0102', ssn: '078-05-1120', dateOfBirth: '1979-11-02', createdAt: '2023-01-09 14:02:00+00' },
  { id: 3, fullName: 'Aiko Tanaka', email: 'aiko.tanaka@example.net', phone: '+1-206-555-0103', ssn: '901-23-4567', dateOfBirth: '1991-07-23', createdAt: '2023-01-17 11:40:00+00' },
  { id: 4, fullName: 'Oluwaseun Adeyemi', email: 'seun.adeyemi@example.com', phone: '+1-312-555-0104', ssn: '902-34-5678', dateOfBirth: '1988-01-30', createdAt: '2023-02-01 08:05:00+00' },
  { id: 5, fullName: 'Sofia Rossi', email: 'sofia.rossi@example.org', phone: '+1-617-555-0105', ssn: '903-45-6789', dateOfBirth: '1995-05-18', createdAt: '2023-02-11 16:30:00+00' },
  { id: 6, fullName: 'Liam O\'Connor', email: 'liam.oconnor@example.com', phone: '+1-503-555-0106', ssn: '123-45-6789', dateOfBirth: '1973-09-09', createdAt: '2023-02-20 10:10:00+00' },
  { id: 7, fullName: 'Priya Patel', email: 'priya.patel@example.net', phone: '+1-408-555-0107', ssn: '904-11-2233', dateOfBirth: '1990-12-01', createdAt: '2023-03-03 13:45:00+00' },
  { id: 8, fullName: 'Chen Wei', email: 'chen.wei@example.com', phone: '+1-646-555-0108', ssn: '905-22-3344', dateOfBirth: '1986-04-27', createdAt: '2023-03-15 09:00:00+00' },
  { id: 9, fullName: 'Fatima Al-Sayed', email: 'fatima.alsayed@example.org', phone: '+1-713-555-0109', ssn: '906-33-4455', dateOfBirth: '1993-08-14', createdAt: '2023-03-28 17:20:00+00' },
  { id: 10, fullName: 'Lukas Müller', email: 'lukas.mueller@example.com', phone: '+1-305-555-0110', ssn: '907-44-5566', dateOfBirth: '1982-02-05', createdAt: '2023-04-06 12:00:00+00' },
  { id: 11, fullName: 'Amara Okafor', email: 'amara.okafor@example.net', phone: '+1-404-555-0111', ssn: '908-01-6677', dateOfBirth: '1998-10-19', createdAt: '2023-04-19 15:35:00+00' },
  { id: 12, fullName: 'Noah Johnson', email: 'noah.j@example.org', phone: '+1-720-555-0112', ssn: '909-02-7788', dateOfBirth: '1977-06-25', createdAt: '2023-05-02 07:50:00+00' },
  { id: 13, fullName: 'Isabella Costa', email: 'isabella.costa@example.com', phone: '+1-619-555-0113', ssn: '910-03-8899', dateOfBirth: '1989-03-03', createdAt: '2023-05-14 19:05:00+00' },
  { id: 14, fullName: 'Mateo Hernández', email: 'mateo.hernandez@example.net', phone: '+1-210-555-0114', ssn: '911-04-9900', dateOfBirth: '1994-11-11', createdAt: '2023-05-30 10:25:00+00' },
  { id: 15, fullName: 'Hannah Schmidt', email: 'hannah.schmidt@example.org', phone: '+1-612-555-0115', ssn: '912-45-0011', dateOfBirth: '1981-07-07', createdAt: '2023-06-08 14:15:00+00' },
  { id: 16, fullName: 'Kwame Mensah', email: 'kwame.mensah@example.com', phone: '+1-215-555-0116', ssn: '913-46-1122', dateOfBirth: '1976-12-24', createdAt: '2023-06-21 09:40:00+00' },
  { id: 17, fullName: 'Yuki Nakamura', email: 'yuki.nakamura@example.net', phone: '+1-808-555-0117', ssn: '914-47-2233', dateOfBirth: '1997-02-14', createdAt: '2023-07-01 11:11:00+00' },
  { id: 18, fullName: 'Elena Petrova', email: 'elena.petrova@example.org', phone: '+1-702-555-0118', ssn: '915-48-3344', dateOfBirth: '1985-09-30', createdAt: '2023-07-16 16:45:00+00' },
  { id: 19, fullName: 'David Cohen', email: 'david.cohen@example.com', phone: '+1-917-555-0119', ssn: '916-49-4455', dateOfBirth: '1970-04-16', createdAt: '2023-08-02 08:30:00+00' },
  { id: 20, fullName: 'Grace Kim', email: 'grace.kim@example.net', phone: '+1-213-555-0120', ssn: '917-05-5566', dateOfBirth: '1992-01-21', createdAt: '2023-08-19 13:55:00+00' },
];

export interface DemoPaymentMethod {
  id: number;
  customerId: number;
  brand: string;
  cardNumber: string;
  expires: string;
}

/** Published test card numbers of the card networks (Luhn-valid, not chargeable). */
export const DEMO_PAYMENT_METHODS: readonly DemoPaymentMethod[] = [
  { id: 1, customerId: 1, brand: 'visa', cardNumber: '4242424242424242', expires: '04/28' },
  { id: 2, customerId: 2, brand: 'mastercard', cardNumber: '5555555555554444', expires: '11/27' },
  { id: 3, customerId: 3, brand: 'amex', cardNumber: '378282246310005', expires: '08/29' },
  { id: 4, customerId: 4, brand: 'discover', cardNumber: '6011111111111117', expires: '01/28' },
  { id: 5, customerId: 5, brand: 'visa', cardNumber: '4000056655665556', expires: '06/27' },
  { id: 6, customerId: 6, brand: 'mastercard', cardNumber: '2223003122003222', expires: '12/29' },
  { id: 7, customerId: 7, brand: 'mastercard', cardNumber: '5200828282828210', expires: '03/28' },
  { id: 8, customerId: 8, brand: 'amex', cardNumber: '371449635398431', expires: '09/27' },
  { id: 9, customerId: 9, brand: 'discover', cardNumber: '6011000990139424', expires: '05/29' },
  { id: 10, customerId: 10, brand: 'diners', cardNumber: '3056930009020004', expires: '10/28' },
  { id: 11, customerId: 11, brand: 'jcb', cardNumber: '3566002020360505', expires: '02/30' },
  { id: 12, customerId: 12, brand: 'unionpay', cardNumber: '6200000000000005', expires: '07/28' },
  { id: 13, customerId: 13, brand: 'mastercard', cardNumber: '5105105105105100', expires: '08/27' },
  { id: 14, customerId: 14, brand: 'visa', cardNumber: '4111111111111111', expires: '12/28' },
  { id: 15, customerId: 15, brand: 'visa', cardNumber: '4012888888881881', expires: '03/29' },
  { id: 16, customerId: 16, brand: 'diners', cardNumber: '36227206271667', expires: '11/28' },
  { id: 17, customerId: 17, brand: 'visa', cardNumber: '4000002500003155', expires: '01/30' },
  { id: 18, customerId: 18, brand: 'mastercard', cardNumber: '5454545454545454', expires: '06/28' },
  { id: 19, customerId: 19, brand: 'visa', cardNumber: '4000000000003220', expires: '09/29' },
  { id: 20, customerId: 20, brand: 'amex', cardNumber: '378734493671000', expires: '04/27' },
  { id: 21, customerId: 1, brand: 'mastercard', cardNumber: '5555555555554444', expires: '02/26' },
  { id: 22, customerId: 8, brand: 'visa', cardNumber: '4242424242424242', expires: '10/29' },
];

/**
 * Deterministic pseudo-random characters (a fixed-seed LCG), so the made-up keys look random
 * while every run of the demo produces the same ones.
 */
function fakeChars(seed: number, length: number, alphabet: string): string {
  let state = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out += alphabet[state % alphabet.length];
  }
  return out;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const HEXLOWER = '0123456789abcdef';

export interface DemoApiKey {
  id: number;
  owner: string;
  key: string;
  createdAt: string;
}

export const DEMO_API_KEYS: readonly DemoApiKey[] = [
  { id: 1, owner: 'billing-service', key: ['sk', 'live', fakeChars(101, 24, BASE62)].join('_'), createdAt: '2023-02-01 00:00:00+00' },
  { id: 2, owner: 'billing-service (staging)', key: ['sk', 'test', fakeChars(202, 24, BASE62)].join('_'), createdAt: '2023-02-01 00:00:00+00' },
  { id: 3, owner: 'checkout-web', key: ['pk', 'live', fakeChars(303, 24, BASE62)].join('_'), createdAt: '2023-03-12 00:00:00+00' },
  // AWS's own documentation example credentials
  { id: 4, owner: 'data-export (aws)', key: 'AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', createdAt: '2023-04-20 00:00:00+00' },
  { id: 5, owner: 'ci-bot (github)', key: ['gh', 'p_', fakeChars(404, 36, BASE62)].join(''), createdAt: '2023-05-05 00:00:00+00' },
  { id: 6, owner: 'support-alerts (slack)', key: ['xo', 'xb-', '5550100', '-', '5550199', '-', fakeChars(505, 24, BASE62)].join(''), createdAt: '2023-06-30 00:00:00+00' },
  { id: 7, owner: 'analytics-ingest', key: ['sw', 'live', fakeChars(606, 32, HEXLOWER)].join('_'), createdAt: '2023-08-01 00:00:00+00' },
];

export interface DemoSupportTicket {
  id: number;
  customerId: number;
  subject: string;
  body: string;
  createdAt: string;
}

/** Free text with personal data inside it, for detectors that look into values, not column names. */
export const DEMO_SUPPORT_TICKETS: readonly DemoSupportTicket[] = [
  { id: 1, customerId: 1, subject: 'Change of email', body: 'Hi, please send my receipts to maria.g.personal@example.org from now on. Thanks, Maria', createdAt: '2023-09-01 10:00:00+00' },
  { id: 2, customerId: 2, subject: 'Call me back', body: 'My order never arrived. Call me at (212) 555-0150 after 5pm, or on my work line +1-212-555-0151.', createdAt: '2023-09-03 12:30:00+00' },
  { id: 3, customerId: 2, subject: 'Identity check', body: 'Your agent asked me to confirm my identity: my SSN is 078-05-1120 and I was born on 1979-11-02.', createdAt: '2023-09-07 09:45:00+00' },
  { id: 4, customerId: 8, subject: 'Card declined', body: 'Checkout keeps failing with card 4242 4242 4242 4242, exp 10/29. Can you charge it manually?', createdAt: '2023-09-12 15:20:00+00' },
  { id: 5, customerId: 11, subject: 'Delivery address', body: 'Please ship to Amara Okafor, 42 Example Street, Springfield. Reach me on amara.okafor@example.net or 404-555-0111.', createdAt: '2023-09-15 08:05:00+00' },
  { id: 6, customerId: 14, subject: 'Refund', body: 'I returned the headphones two weeks ago and still see no refund. Order placed from mateo.hernandez@example.net.', createdAt: '2023-09-20 17:40:00+00' },
  { id: 7, customerId: 17, subject: 'Account locked', body: 'Locked out after a password reset. New phone is +1 (808) 555-0177, old one 808-555-0117 no longer works.', createdAt: '2023-09-25 11:15:00+00' },
  { id: 8, customerId: 20, subject: 'Invoice question', body: 'Why was I charged twice? Statement shows amex ending 1000 both times.', createdAt: '2023-10-02 14:00:00+00' },
];

export interface DemoOrder {
  id: number;
  customerId: number;
  amountCents: number;
  status: string;
  createdAt: string;
}

const ORDER_STATUSES = ['paid', 'shipped', 'shipped', 'pending', 'paid', 'refunded', 'shipped', 'cancelled'] as const;

/** 48 orders spread over the customers by a fixed formula. */
export const DEMO_ORDERS: readonly DemoOrder[] = Array.from({ length: 48 }, (_, i) => {
  const n = i + 1;
  const day = new Date(Date.UTC(2023, 8, 1) + n * 2 * 86_400_000 + (n * 37 % 24) * 3_600_000);
  return {
    id: n,
    customerId: ((n * 7) % DEMO_CUSTOMERS.length) + 1,
    amountCents: 499 + ((n * 7919) % 45_000),
    status: ORDER_STATUSES[n % ORDER_STATUSES.length]!,
    createdAt: day.toISOString().replace('T', ' ').replace('.000Z', '+00'),
  };
});

function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function rows(values: readonly (readonly (string | number)[])[]): string {
  return values.map((r) => `  (${r.map((v) => (typeof v === 'number' ? String(v) : lit(v))).join(', ')})`).join(',\n');
}

/** The seed, one script: schema, comments naming the personal data, rows, sequences moved past the seeded ids. */
export const DEMO_SCHEMA_SQL = `
BEGIN;

CREATE TABLE customers (
  id            serial PRIMARY KEY,
  full_name     text NOT NULL,
  email         text NOT NULL UNIQUE,
  phone         text,
  ssn           text,
  date_of_birth date,
  created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE customers IS 'Shop customers (demo data, all fake)';
COMMENT ON COLUMN customers.email IS 'PII: email address';
COMMENT ON COLUMN customers.phone IS 'PII: phone number';
COMMENT ON COLUMN customers.ssn IS 'PII: US social security number';
COMMENT ON COLUMN customers.date_of_birth IS 'PII: date of birth';

CREATE TABLE orders (
  id           serial PRIMARY KEY,
  customer_id  integer NOT NULL REFERENCES customers(id),
  amount_cents integer NOT NULL CHECK (amount_cents >= 0),
  status       text NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'refunded', 'cancelled')),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

CREATE TABLE payment_methods (
  id          serial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers(id),
  brand       text NOT NULL,
  card_number text NOT NULL,
  card_last4  text NOT NULL,
  expires     text NOT NULL
);
CREATE INDEX payment_methods_customer_id_idx ON payment_methods (customer_id);
COMMENT ON COLUMN payment_methods.card_number IS 'PCI: primary account number';

CREATE TABLE api_keys (
  id         serial PRIMARY KEY,
  owner      text NOT NULL,
  key        text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN api_keys.key IS 'Secret: API credential';

CREATE TABLE support_tickets (
  id          serial PRIMARY KEY,
  customer_id integer REFERENCES customers(id),
  subject     text NOT NULL,
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN support_tickets.body IS 'Free text, may contain PII';

INSERT INTO customers (id, full_name, email, phone, ssn, date_of_birth, created_at) VALUES
${rows(DEMO_CUSTOMERS.map((c) => [c.id, c.fullName, c.email, c.phone, c.ssn, c.dateOfBirth, c.createdAt]))};

INSERT INTO orders (id, customer_id, amount_cents, status, created_at) VALUES
${rows(DEMO_ORDERS.map((o) => [o.id, o.customerId, o.amountCents, o.status, o.createdAt]))};

INSERT INTO payment_methods (id, customer_id, brand, card_number, card_last4, expires) VALUES
${rows(DEMO_PAYMENT_METHODS.map((p) => [p.id, p.customerId, p.brand, p.cardNumber, p.cardNumber.slice(-4), p.expires]))};

INSERT INTO api_keys (id, owner, key, created_at) VALUES
${rows(DEMO_API_KEYS.map((k) => [k.id, k.owner, k.key, k.createdAt]))};

INSERT INTO support_tickets (id, customer_id, subject, body, created_at) VALUES
${rows(DEMO_SUPPORT_TICKETS.map((t) => [t.id, t.customerId, t.subject, t.body, t.createdAt]))};

SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers));
SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders));
SELECT setval(pg_get_serial_sequence('payment_methods', 'id'), (SELECT max(id) FROM payment_methods));
SELECT setval(pg_get_serial_sequence('api_keys', 'id'), (SELECT max(id) FROM api_keys));
SELECT setval(pg_get_serial_sequence('support_tickets', 'id'), (SELECT max(id) FROM support_tickets));

COMMIT;

ANALYZE;
`;

/** Row counts the seed produces, for tests and for the demo's banner. */
export const DEMO_ROW_COUNTS = {
  customers: DEMO_CUSTOMERS.length,
  orders: DEMO_ORDERS.length,
  payment_methods: DEMO_PAYMENT_METHODS.length,
  api_keys: DEMO_API_KEYS.length,
  support_tickets: DEMO_SUPPORT_TICKETS.length,
} as const;
