import type { OutputColumn } from '../facts.js';
import { analyzeMysql, initMysqlAnalyzer } from './analyze.js';

beforeAll(() => initMysqlAnalyzer());

const ref = (c: { schema?: string; table: string; column?: string }): string => `${c.schema !== undefined ? c.schema + '.' : ''}${c.table}${c.column !== undefined ? '.' + c.column : ''}`;

/** the notation of the Postgres lineage tests: `name = t.c` direct, `name <- t.a, t.b` derived, `[star t]`, `[ambiguous]`, `[uncertain]` */
function show(c: OutputColumn): string {
  const from = [...c.sources.map(ref), ...(c.wholeRow ?? []).map((w) => `${ref(w)}.*`)].join(', ');
  let s = `${c.name} ${c.direct ? '=' : '<-'}${from ? ' ' + from : ''}`;
  if (c.star) s += ` [star ${ref(c.star)}]`;
  if (c.expands) s += ' [expands]';
  if (!c.certain) s += c.ambiguous ? ' [ambiguous]' : ' [uncertain]';
  return s;
}

function first(sql: string) {
  const a = analyzeMysql(sql);
  if (!a.ok) throw new Error(`${sql}: ${JSON.stringify(a.failure)}`);
  return a.statements[0]!;
}
const outputs = (sql: string): string[] | undefined => first(sql).outputColumns?.map(show);
const predicates = (sql: string): string[] | undefined => first(sql).predicateColumns?.map(ref).sort();

function table(rows: [string, string[]][]): void {
  test.each(rows)('%s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });
}

describe('MySQL output column lineage', () => {
  describe('references, aliases, qualified names, derived tables and CTEs', () => {
    table([
      ['SELECT email FROM users', ['email = users.email']],
      ['SELECT u.email AS e FROM users u', ['e = users.email']],
      ['SELECT `u`.`email` `e` FROM `shop`.`users` AS `u`', ['e = shop.users.email']],
      ['SELECT shop.users.email FROM shop.users', ['email = shop.users.email']],
      ["SELECT email AS 'E-mail' FROM users", ['E-mail = users.email']],
      ['SELECT x.e FROM (SELECT u.email AS e FROM users u) AS x', ['e = users.email']],
      ['SELECT y.e2 FROM (SELECT x.e AS e2 FROM (SELECT email AS e FROM users) x) y', ['e2 = users.email']],
      ['WITH c AS (SELECT email FROM users) SELECT email FROM c', ['email = users.email']],
      ['WITH c (x) AS (SELECT lower(email) FROM users) SELECT c.x FROM c', ['x <- users.email']],
      ['SELECT u.email, o.total FROM users u JOIN orders o ON o.user_id = u.id', ['email = users.email', 'total = orders.total']],
      ['SELECT email FROM v_customers', ['email = v_customers.email']],
      ['SELECT 1, ?, NOW(), @@version', ['1 <-', '? <-', 'NOW() <-', '@@version <-']],
    ]);
  });

  describe('star entries', () => {
    table([
      ['SELECT * FROM users', ['* = [star users]']],
      ['TABLE users', ['* = [star users]']],
      ['SELECT c.*, LOWER(c.email) AS le FROM customers c', ['* = [star customers]', 'le <- customers.email']],
      ['SELECT * FROM users u JOIN orders o ON o.user_id = u.id', ['* = [star users]', '* = [star orders]']],
      ['SELECT * FROM (SELECT email, LOWER(name) AS n FROM users) s', ['email = users.email', 'n <- users.name']],
      ['SELECT s.email FROM (SELECT * FROM users) s', ['email = users.email']],
      ['SELECT * FROM a JOIN b USING (id)', ['id = a.id', '* = [star a]', '* = [star b]']],
      ['SELECT * FROM a NATURAL JOIN b', ['* = [star a] [uncertain]', '* = [star b] [uncertain]']],
      ['SELECT * FROM (SELECT id, email FROM a) x NATURAL JOIN (SELECT id, name FROM b) y', ['id = a.id', 'email = a.email', 'name = b.name']],
    ]);
  });

  describe('expressions derive from every column they reference', () => {
    table([
      ['SELECT LOWER(email) FROM customers', ['LOWER(email) <- customers.email']],
      ["SELECT CONCAT(first, ' ', last) AS n FROM users", ['n <- users.first, users.last']],
      ['SELECT CASE WHEN vip THEN email ELSE phone END AS c FROM users', ['c <- users.vip, users.email, users.phone']],
      ["SELECT IFNULL(email, '') e, COALESCE(a, b) c FROM t", ['e <- t.email', 'c <- t.a, t.b']],
      ["SELECT GROUP_CONCAT(email ORDER BY name SEPARATOR ',') g FROM users", ['g <- users.email, users.name']],
      ['SELECT JSON_ARRAYAGG(email) a, JSON_OBJECTAGG(id, email) o FROM users', ['a <- users.email', 'o <- users.id, users.email']],
      ["SELECT JSON_OBJECT('e', email) o, JSON_ARRAY(email, phone) a FROM users", ['o <- users.email', 'a <- users.email, users.phone']],
      ['SELECT CAST(email AS CHAR) c, CONVERT(ssn, CHAR) s FROM users', ['c <- users.email', 's <- users.ssn']],
      ["SELECT doc->'$.email' j, doc->>'$.n' k FROM docs", ['j <- docs.doc', 'k <- docs.doc']],
      ['SELECT COUNT(*) n, COUNT(email) m, MAX(salary) x FROM emp', ['n <-', 'm <- emp.email', 'x <- emp.salary']],
      ['SELECT SUBSTRING(email, 1, 3) s, TRIM(name) t FROM users', ['s <- users.email', 't <- users.name']],
    ]);
  });

  describe('window functions', () => {
    table([
      ['SELECT ROW_NUMBER() OVER (PARTITION BY dept ORDER BY salary) r FROM emp', ['r <- emp.dept, emp.salary']],
      ['SELECT name, RANK() OVER w r FROM emp WINDOW w AS (ORDER BY salary)', ['name = emp.name', 'r <- emp.salary']],
      ['SELECT LAG(email) OVER (ORDER BY id) l FROM users', ['l <- users.email, users.id']],
    ]);
  });

  describe('subqueries in the select list', () => {
    table([
      ['SELECT (SELECT MAX(o.total) FROM orders o WHERE o.user_id = u.id) AS m FROM users u', ['m <- orders.total']],
      ["SELECT EXISTS (SELECT 1 FROM users WHERE email = 'a@b.c') AS e", ['e <-']],
      ['SELECT id IN (SELECT b.user_id FROM banned b) AS x FROM users', ['x <- users.id, banned.user_id']],
      ['SELECT (SELECT email FROM c LIMIT 1) AS e FROM users', ['e <- c.email, users.email [ambiguous]']],
    ]);
  });

  describe('set operations', () => {
    table([
      ['SELECT email FROM a UNION SELECT name FROM b', ['email = a.email, b.name']],
      ['SELECT email FROM a UNION ALL SELECT NULL', ['email = a.email']],
      ['SELECT LOWER(email) e FROM a UNION SELECT name FROM b', ['e <- a.email, b.name']],
      ['SELECT id, email FROM a UNION (SELECT * FROM b)', ['* <- a.id, a.email, b.* [expands]']],
      ["VALUES ROW(1, 'a'), ROW(2, 'b')", ['column_0 <-', 'column_1 <-']],
      ['WITH RECURSIVE r (n, e) AS (SELECT 1, email FROM u UNION ALL SELECT n + 1, e FROM r WHERE n < 5) SELECT e FROM r', ['e = u.email']],
    ]);
  });

  describe('JSON_TABLE', () => {
    table([
      ["SELECT jt.a, jt.o FROM t, JSON_TABLE(t.doc, '$[*]' COLUMNS (a TEXT PATH '$.a', o FOR ORDINALITY)) AS jt", ['a <- t.doc', 'o <-']],
      ["SELECT jt.b FROM t, JSON_TABLE(t.doc, '$' COLUMNS (NESTED PATH '$.n[*]' COLUMNS (b TEXT PATH '$'))) AS jt", ['b <- t.doc']],
    ]);
  });

  describe('uncertain: user variables and stored functions', () => {
    table([
      ['SELECT @x', ['@x <- [uncertain]']],
      ['SELECT f(email) AS v FROM users', ['v <- users.email [uncertain]']],
      ['SELECT shop.f(1) AS v', ['v <- [uncertain]']],
      ['SELECT email FROM a, b', ['email = a.email, b.email [ambiguous]']],
      ['SELECT q.* FROM t', ['* <- [expands] [uncertain]']],
    ]);
  });

  test('no output lineage for statements that return no rows (or SELECT ... INTO)', () => {
    for (const sql of ['SELECT email FROM t INTO @x', "SELECT email FROM t INTO OUTFILE '/tmp/x'", 'UPDATE t SET a = 1', 'INSERT INTO t SELECT * FROM u', 'CREATE VIEW v AS SELECT email FROM t', 'EXPLAIN SELECT email FROM t']) {
      expect([sql, first(sql).outputColumns]).toEqual([sql, undefined]);
    }
  });
});

describe('MySQL predicate columns', () => {
  test.each([
    ["SELECT id FROM customers WHERE email LIKE 'a%'", ['customers.email']],
    ['SELECT id FROM customers WHERE id = 1', ['customers.id']],
    ['SELECT email FROM customers', []],
    ['SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id', ['orders.user_id', 'users.id']],
    ['SELECT a.x FROM a JOIN b USING (k)', ['a.k', 'b.k']],
    ['SELECT * FROM a NATURAL JOIN b', ['a.*', 'b.*']],
    ['SELECT dept, COUNT(*) FROM emp GROUP BY dept HAVING MAX(salary) > 10', ['emp.dept', 'emp.salary']],
    ['SELECT email AS e FROM t ORDER BY e', ['t.email']],
    ['SELECT email, name FROM t ORDER BY 2', ['t.name']],
    // aliases are visible in GROUP BY / HAVING / ORDER BY, also inside expressions: the alias and a column of that name
    ["SELECT LOWER(email) AS e FROM t HAVING e LIKE 'a%'", ['t.e', 't.email']],
    ['SELECT email AS e FROM t ORDER BY LOWER(e)', ['t.e', 't.email']],
    ['SELECT ROW_NUMBER() OVER (PARTITION BY dept ORDER BY salary) FROM emp', ['emp.dept', 'emp.salary']],
    ["SELECT GROUP_CONCAT(id ORDER BY ssn) FROM t", ['t.ssn']],
    // an unqualified name in a subquery may be an outer reference (no catalog): every candidate
    ['SELECT id FROM t WHERE id IN (SELECT uid FROM s WHERE s.secret = 2)', ['s.secret', 's.uid', 't.id', 't.uid']],
    ['SELECT id FROM t WHERE EXISTS (SELECT 1 FROM s WHERE s.uid = t.id AND s.ssn = 1)', ['s.ssn', 's.uid', 't.id']],
    ['SELECT (SELECT MAX(total) FROM o WHERE o.uid = u.id AND o.card = 1) FROM u', ['o.card', 'o.uid', 'u.id']],
    ["SELECT x.id FROM (SELECT id, email AS e FROM users) x WHERE x.e = 'a'", ['users.email']],
    ["WITH c AS (SELECT id, ssn FROM users WHERE vip = 1) SELECT id FROM c WHERE ssn = '1'", ['users.ssn', 'users.vip']],
    ['SELECT email FROM a UNION SELECT name FROM b ORDER BY email', ['a.email', 'b.name']],
    ["UPDATE users SET name = 'x' WHERE email = 'a' ORDER BY ssn LIMIT 1", ['users.email', 'users.ssn']],
    ['UPDATE users u JOIN o ON o.uid = u.id SET u.a = (SELECT v FROM z WHERE z.k = 1)', ['o.uid', 'u.id', 'z.k'].map((s) => s.replace('u.id', 'users.id'))],
    ["DELETE FROM users WHERE ssn = '1'", ['users.ssn']],
    ['DELETE u FROM users u JOIN banned b ON b.email = u.email', ['banned.email', 'users.email']],
    ['INSERT INTO log (a) SELECT email FROM users WHERE vip = 1', ['users.vip']],
    ['REPLACE INTO log SELECT * FROM users WHERE ssn IS NOT NULL', ['users.ssn']],
    ["INSERT INTO log (a) VALUES ((SELECT id FROM users WHERE email = 'x'))", ['users.email']],
    ['CREATE VIEW v AS SELECT id FROM users WHERE ssn > 0', ['users.ssn']],
    ['CREATE TABLE c AS SELECT id FROM users WHERE ssn > 0', ['users.ssn']],
    ["EXPLAIN SELECT id FROM users WHERE email = 'x'", ['users.email']],
    ["SET @x = (SELECT id FROM users WHERE email = 'x')", ['users.email']],
    ['SET NAMES utf8mb4', []],
  ])('%s', (sql, expected) => {
    expect(predicates(sql)).toEqual([...expected].sort());
  });
});

describe('view definitions (information_schema.VIEWS.VIEW_DEFINITION)', () => {
  test('the stored definition traces each view column', () => {
    const def = 'select `c`.`id` AS `id`,lower(`c`.`email`) AS `e`,concat(`c`.`first`,`c`.`last`) AS `n` from `shop`.`customers` `c` where (`c`.`active` = 1)';
    expect(outputs(def)).toEqual(['id = shop.customers.id', 'e <- shop.customers.email', 'n <- shop.customers.first, shop.customers.last']);
  });
});

describe('fail closed', () => {
  test('deep expressions never throw; lineage is present or absent', () => {
    const sql = `SELECT ${'('.repeat(60)}email${')'.repeat(60)} FROM t WHERE ${'('.repeat(60)}ssn${')'.repeat(60)} = 1`;
    const a = analyzeMysql(sql);
    if (a.ok) {
      const f = a.statements[0]!;
      if (f.predicateColumns) expect(f.predicateColumns.map(ref)).toContain('t.ssn');
    }
  });
});
