import { analyze, initAnalyzers, type StatementFacts } from '@sqlwarden/sql';
import { encodeLenencString as lenencString } from '@sqlwarden/wire-mysql';
import type { MaskRule } from '../model.js';
import { mysqlTextToBinary, rewriteMysqlBinaryRow } from './mysql-binary.js';
import { MYSQL_BINARY_CHARSET, MysqlColumnFlag, MysqlType } from './mysql-column.js';
import { mysqlColumnCodec, mysqlColumnOrigin, planMysqlResult, type MysqlColumnDefinition, type MysqlOriginContext } from './mysql-plan.js';
import { rewriteMysqlTextRow } from './mysql-text.js';
import { MaskSet, UNCERTAIN_RULE } from './planner.js';
import { TypeHint } from './type-hint.js';

const KEY = 'mysql-plan-test-key-0123456789';

function mask(id: string, over: Partial<MaskRule>): MaskRule {
  return { id, file: 'p.yaml', line: 1, who: {}, columns: [], detectors: [], function: 'redact', denyInPredicates: false, ...over };
}

beforeAll(() => initAnalyzers());

const facts = (sql: string): StatementFacts => {
  const a = analyze('mysql', sql);
  if (!a.ok) throw new Error(`does not analyse: ${sql}`);
  return a.statements[0]!;
};

/** What MariaDB reports (see the origin contract), written as mysql2 names it. */
const def = (schema: string, table: string, orgTable: string, name: string, orgName: string, over: Partial<MysqlColumnDefinition> = {}): MysqlColumnDefinition => ({
  schema,
  table,
  orgTable,
  name,
  orgName,
  type: MysqlType.VarString,
  characterSet: 224,
  columnLength: 256,
  ...over,
});

/** The catalog of the tests' database `shop`: tables t and u, view v. */
const ctx: MysqlOriginContext = {
  database: 'shop',
  relationKind: (schema, table) => (schema !== 'shop' ? undefined : table === 't' || table === 'u' ? 'base' : table === 'v' ? 'view' : null),
};

describe('mysqlColumnOrigin: what a MySQL column definition can vouch for', () => {
  it('a base table column, aliased or not, is a direct origin', () => {
    expect(mysqlColumnOrigin(def('shop', 't', 't', 'email', 'email'), facts('SELECT email FROM t'), ctx)).toEqual({
      columns: [{ schema: 'shop', table: 't', column: 'email' }],
      wholeRow: [],
      direct: true,
    });
    expect(mysqlColumnOrigin(def('shop', 'z', 't', 'x', 'email'), facts('SELECT z.email AS x FROM shop.t AS z'), ctx)).toMatchObject({ columns: [{ table: 't', column: 'email' }], direct: true });
    expect(mysqlColumnOrigin(def('shop', 'u', 'u', 'secret', 'secret'), facts('SELECT u.secret FROM t JOIN u ON t.id = u.id FOR UPDATE'), ctx)).toMatchObject({ direct: true });
  });

  it('expressions, UNION columns, subqueries in the select list and aggregates are unknown (org_table is empty)', () => {
    for (const sql of ["SELECT IFNULL(email, '') FROM t", 'SELECT name FROM t UNION SELECT secret FROM u', 'SELECT (SELECT secret FROM u LIMIT 1) AS s FROM t', 'SELECT max(email) FROM t']) {
      expect(mysqlColumnOrigin(def('', '', '', 'x', ''), facts(sql), ctx)).toBeNull();
    }
  });

  it('a derived table or CTE that takes a base table name is not that table (the server reports both alike)', () => {
    // MariaDB: schema 'shop', table 't', org_table 't', org_name 'name' — for u.secret
    const shadow = def('shop', 't', 't', 'name', 'name');
    expect(mysqlColumnOrigin(shadow, facts('SELECT t.name FROM (SELECT secret AS name FROM u) t JOIN t z ON 1'), ctx)).toBeNull();
    expect(mysqlColumnOrigin(shadow, facts('WITH t AS (SELECT secret AS name FROM u) SELECT t.name FROM t WHERE EXISTS (SELECT 1 FROM shop.t)'), ctx)).toBeNull();
    expect(mysqlColumnOrigin(shadow, facts('WITH T AS (SELECT secret AS name FROM u) SELECT T.name FROM T, shop.t'), ctx)).toBeNull();
    expect(mysqlColumnOrigin(def('*any*', 'jt', 'json_table', 'x', 'x'), facts("SELECT jt.x FROM t, JSON_TABLE(t.j, '$[*]' COLUMNS (x VARCHAR(64) PATH '$')) jt"), ctx)).toBeNull();
    expect(facts('SELECT x.e FROM (SELECT email e FROM t) AS x').derivedTableNames).toEqual(['x']);
  });

  it('a table the statement does not read is not trusted (a view alias, CALL results)', () => {
    // MariaDB reports `FROM v AS vv` as org_table vv
    expect(mysqlColumnOrigin(def('shop', 'vv', 'vv', 'email', 'email'), facts('SELECT vv.email FROM v AS vv'), ctx)).toBeNull();
    expect(mysqlColumnOrigin(def('shop', 't', 't', 'email', 'email'), facts('CALL p()'), ctx)).toBeNull();
  });

  it('a view column is unknown unless the engine resolves it; then it carries the view column and its sources', () => {
    const viewCol = def('shop', 'v', 'v', 'email', 'email');
    expect(mysqlColumnOrigin(viewCol, facts('SELECT email FROM v'), ctx)).toBeNull();
    const resolving: MysqlOriginContext = {
      ...ctx,
      viewColumn: (schema, view, column) => (view === 'v' && column === 'email' ? { columns: [{ schema, table: 't', column: 'email' }], wholeRow: [], direct: true } : undefined),
    };
    expect(mysqlColumnOrigin(viewCol, facts('SELECT email FROM v'), resolving)).toEqual({
      columns: [
        { schema: 'shop', table: 'v', column: 'email' },
        { schema: 'shop', table: 't', column: 'email' },
      ],
      wholeRow: [],
      direct: true,
    });
    // a computed view column: the server sends an empty schema; the statement's (or the session's) schema stands in
    expect(mysqlColumnOrigin(def('', 'v', 'v', 'nm', 'nm'), facts('SELECT nm FROM v'), { ...resolving, viewColumn: () => ({ columns: [], wholeRow: [{ schema: 'shop', table: 't' }], direct: false }) })).toMatchObject({
      columns: [{ schema: 'shop', table: 'v', column: 'nm' }],
      direct: false,
    });
  });

  it('without the engine\'s catalog, or without facts, nothing is trusted', () => {
    expect(mysqlColumnOrigin(def('shop', 't', 't', 'email', 'email'), facts('SELECT email FROM t'))).toBeNull();
    expect(mysqlColumnOrigin(def('shop', 't', 't', 'email', 'email'), undefined, ctx)).toBeNull();
    expect(mysqlColumnOrigin(def('other', 't', 't', 'email', 'email'), facts('SELECT email FROM other.t'), ctx)).toBeNull();
    const untraced = { ...facts('SELECT email FROM t'), derivedTableNames: undefined };
    expect(mysqlColumnOrigin(def('shop', 't', 't', 'email', 'email'), untraced, ctx)).toBeNull();
  });

  it('a MySQL lineage, once there is one, speaks for columns the definition cannot vouch for', () => {
    const f: StatementFacts = {
      ...facts('SELECT lower(email) FROM t'),
      outputColumns: [{ name: 'lower(email)', sources: [{ table: 't', column: 'email' }], direct: false, certain: true }],
    };
    expect(mysqlColumnOrigin(def('', '', '', 'lower(email)', ''), f, ctx, f.outputColumns![0])).toEqual({
      columns: [
        { table: 't', column: 'email' },
        { schema: 'shop', table: 't', column: 'email' },
      ],
      wholeRow: [],
      direct: false,
    });
    expect(mysqlColumnOrigin(def('', '', '', 'x', ''), f, ctx, { ...f.outputColumns![0]!, certain: false })).toBeNull();
    // a source in a view the engine has not resolved: unknown
    expect(mysqlColumnOrigin(def('', '', '', 'x', ''), f, ctx, { ...f.outputColumns![0]!, sources: [{ table: 'v', column: 'email' }] })).toBeNull();
  });
});

describe('planMysqlResult', () => {
  const rules = [
    mask('emails', { columns: ['*.t.email'], function: 'email' }),
    mask('secrets', { columns: ['shop.u.secret'], function: 'hash' }),
    mask('pii', { detectors: ['email'], function: 'redact', replacement: '<pii>' }),
  ];
  const set = new MaskSet(rules, { hashKey: KEY });
  const cols = [
    def('shop', 't', 't', 'email', 'email'),
    def('shop', 't', 't', 'note', 'note'),
    def('shop', 't', 't', 'photo', 'photo', { type: MysqlType.Blob, characterSet: MYSQL_BINARY_CHARSET, flags: MysqlColumnFlag.Blob | MysqlColumnFlag.Binary, columnLength: 65535 }),
    def('shop', 't', 't', 'doc', 'doc', { type: MysqlType.Json, characterSet: MYSQL_BINARY_CHARSET }),
    def('', '', '', 'shop.enc(secret)', ''),
    def('shop', 't', 't', 'id', 'id', { type: MysqlType.Long, characterSet: 63, flags: MysqlColumnFlag.Unsigned }),
  ];
  // a stored function's result: the lineage cannot vouch for it, so its origin is unknown
  const statement = facts('SELECT email, note, photo, doc, shop.enc(secret), id FROM t, u');

  it('column rules, detectors on text columns only (never on binary-charset columns), unknown origins masked', () => {
    const plan = planMysqlResult(set, cols, 'text', statement, ctx);
    expect(plan.columns.map((c) => c && `${c.kind}:${c.rule}`)).toEqual(['whole:emails', 'detect:pii', null, 'detect:pii', `whole:${UNCERTAIN_RULE}`, null]);
    expect(plan.uncertain).toBe(1);
    const row = Buffer.concat([
      lenencString(Buffer.from('alice@example.com')),
      lenencString(Buffer.from('mail bob@example.org now')),
      lenencString(Buffer.from('\u0000bob@example.org\u00ff', 'latin1')),
      lenencString(Buffer.from('{"to": "carol@example.net"}')),
      lenencString(Buffer.from('s3cret')),
      lenencString(Buffer.from('7')),
    ]);
    const out = rewriteMysqlTextRow(row, cols.length, plan.columns.map((c) => c?.mask))!;
    const expected = Buffer.concat([
      lenencString(Buffer.from('****@example.com')),
      lenencString(Buffer.from('mail <pii> now')),
      lenencString(Buffer.from('\u0000bob@example.org\u00ff', 'latin1')), // binary data untouched
      lenencString(Buffer.from('{"to": "<pii>"}')),
      lenencString(Buffer.from('[redacted]')),
      lenencString(Buffer.from('7')),
    ]);
    expect(out.toString('latin1')).toBe(expected.toString('latin1'));
  });

  it('binary protocol: the same plan over whole encoded fields; a NULL mask sets the NULL bit', () => {
    const nulls = new MaskSet([mask('gone', { columns: ['t.id'], function: 'null' }), ...rules], { hashKey: KEY });
    const plan = planMysqlResult(nulls, cols, 'binary', statement, ctx);
    const fields = [
      lenencString(Buffer.from('alice@example.com')),
      lenencString(Buffer.from('mail bob@example.org now')),
      lenencString(Buffer.from([0, 1, 2])),
      lenencString(Buffer.from('"dave@example.com"')),
      lenencString(Buffer.from('s3cret')),
      mysqlTextToBinary(cols[5]!, Buffer.from('7'))!,
    ];
    const payload = Buffer.concat([Buffer.from([0x00, 0x00]), ...fields]);
    const out = rewriteMysqlBinaryRow(payload, cols, plan.columns.map((c) => c?.mask))!;
    expect(out[1]).toBe(1 << 7); // column 5 → bit 7
    expect(out.subarray(2).toString('latin1')).toBe(
      Buffer.concat([
        lenencString(Buffer.from('****@example.com')),
        lenencString(Buffer.from('mail <pii> now')),
        fields[2]!,
        lenencString(Buffer.from('"<pii>"')),
        lenencString(Buffer.from('[redacted]')),
      ]).toString('latin1'),
    );
  });

  it('a detector finding in an unchanged binary field passes the field itself', () => {
    const plan = planMysqlResult(set, [cols[1]!], 'binary', statement, ctx);
    const field = lenencString(Buffer.from('nothing here'));
    expect(plan.columns[0]!.mask(field)).toBe(field);
  });

  it('codecs: one per column shape and protocol, keyed apart from Postgres formats', () => {
    const a = mysqlColumnCodec(cols[5]!, 'text');
    expect(a.key).not.toBe(mysqlColumnCodec(cols[5]!, 'binary').key);
    expect(a.key).not.toBe(mysqlColumnCodec({ ...cols[5]!, flags: 0 }, 'text').key);
    expect(a.key).toBe(mysqlColumnCodec({ ...cols[5]! }, 'text').key);
    expect(a.detect).toBeNull();
    expect(mysqlColumnCodec(cols[2]!, 'binary').detect).toBeNull();
    // the Postgres planning is untouched: format codes still work next to codecs in one MaskSet
    expect(set.planColumn({ columns: [{ table: 't', column: 'email' }], wholeRow: [], direct: true }, TypeHint.Text, 0)!.mask(Buffer.from('a@b.co'))?.toString()).toBe('****@b.co');
  });
});

describe('MySQL lineage in masking (expressions, predicates)', () => {
  /** the catalog of database `crm`: base table customers */
  const crm: MysqlOriginContext = { database: 'crm', relationKind: (schema, table) => (schema === 'crm' && table === 'customers' ? 'base' : undefined) };
  const rules = [mask('emails', { columns: ['customers.email'], function: 'email', denyInPredicates: true })];
  const set = new MaskSet(rules, { hashKey: KEY });

  it('an expression over a masked column is masked by that column\'s rule, not as unknown origin', () => {
    const statement = facts('SELECT LOWER(email) FROM customers');
    expect(statement.outputColumns).toEqual([{ name: 'LOWER(email)', sources: [{ table: 'customers', column: 'email' }], direct: false, certain: true }]);
    const cols = [def('', '', '', 'LOWER(email)', '')];
    const plan = planMysqlResult(set, cols, 'text', statement, crm);
    expect(plan.columns.map((c) => c && `${c.kind}:${c.rule}`)).toEqual(['whole:emails']);
    expect(plan.uncertain).toBe(0);
    const out = rewriteMysqlTextRow(lenencString(Buffer.from('alice@example.com')), 1, plan.columns.map((c) => c?.mask))!;
    // not the column's own value, so the email function (keep the domain) degrades to redact
    expect(out.toString()).not.toContain('alice');
  });

  it('a column the definition vouches for still wins; lineage fills in only what it cannot', () => {
    const statement = facts('SELECT id, LOWER(email) AS e FROM customers');
    const cols = [def('crm', 'customers', 'customers', 'id', 'id'), def('', '', '', 'e', '')];
    const plan = planMysqlResult(set, cols, 'text', statement, crm);
    expect(plan.columns.map((c) => c && `${c.kind}:${c.rule}`)).toEqual([null, 'whole:emails']);
  });

  it('deny_in_predicates refuses a statement that filters on the masked column, and only such a statement', () => {
    const refusal = (sql: string) => set.refusal(analyzeOk(sql), 'mysql');
    expect(refusal("SELECT id FROM customers WHERE email LIKE 'a%'")).toMatchObject({ ruleId: 'emails' });
    expect(refusal('SELECT id FROM customers WHERE id = 1')).toBeUndefined();
    expect(refusal('SELECT email FROM customers ORDER BY id')).toBeUndefined();
    expect(refusal('SELECT c.id FROM customers c ORDER BY c.email')).toMatchObject({ ruleId: 'emails' });
    expect(refusal("SELECT id FROM orders WHERE cid IN (SELECT id FROM customers WHERE email = 'x')")).toMatchObject({ ruleId: 'emails' });
    expect(refusal('SELECT x.e FROM (SELECT email AS e FROM customers) x ORDER BY x.e')).toMatchObject({ ruleId: 'emails' });
    expect(refusal("UPDATE customers SET name = 'x' WHERE email = 'a@b.c'")).toMatchObject({ ruleId: 'emails' });
    expect(refusal('UPDATE customers SET name = email WHERE id = 2')).toBeUndefined();
  });
});

function analyzeOk(sql: string): StatementFacts[] {
  const a = analyze('mysql', sql);
  if (!a.ok) throw new Error(`does not analyse: ${sql}`);
  return a.statements;
}
