import fc from 'fast-check';
import type { ColumnRef, OutputColumn } from '../facts.js';
import { analyzePostgres, initPostgresAnalyzer, stopPostgresAnalyzer } from './analyze-postgres.js';
import { factsOf, statementsOf } from './analysis.test.helpers.js';

beforeAll(() => initPostgresAnalyzer());
afterAll(() => stopPostgresAnalyzer());

const ref = (c: { schema?: string; table: string; column?: string }): string => `${c.schema !== undefined ? c.schema + '.' : ''}${c.table}${c.column !== undefined ? '.' + c.column : ''}`;

/**
 * One output column in a compact notation:
 *   `name = t.c`          direct (a bare reference)
 *   `name <- t.a, t.b`    derived from these columns (`t.*` = whole row)
 *   `[star t]`            a `*` / `t.*` entry for table t;  `[expands]`: an unknown number of columns
 *   `[ambiguous]`         uncertain, but every candidate is listed;  `[uncertain]`: lineage incomplete
 */
function show(c: OutputColumn): string {
  const from = [...c.sources.map(ref), ...(c.wholeRow ?? []).map((w) => `${ref(w)}.*`)].join(', ');
  let s = `${c.name} ${c.direct ? '=' : '<-'}${from ? ' ' + from : ''}`;
  if (c.star) s += ` [star ${ref(c.star)}]`;
  if (c.expands) s += ' [expands]';
  if (!c.certain) s += c.ambiguous ? ' [ambiguous]' : ' [uncertain]';
  return s;
}

function outputs(sql: string): string[] | undefined {
  return factsOf(sql).outputColumns?.map(show);
}

function predicates(sql: string): string[] | undefined {
  return factsOf(sql)
    .predicateColumns?.map(ref)
    .sort();
}

function table(rows: [string, string[]][]): void {
  test.each(rows)('%s', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });
}

describe('output column lineage', () => {
  describe('plain references and aliases at every level', () => {
    table([
      ['SELECT email FROM users', ['email = users.email']],
      ['SELECT u.email AS e FROM users u', ['e = users.email']],
      ['SELECT users.email FROM users', ['email = users.email']],
      ['SELECT public.users.email FROM public.users', ['email = public.users.email']],
      ['SELECT u.email FROM public.users AS u', ['email = public.users.email']],
      ['SELECT x.e FROM (SELECT u.email AS e FROM users u) AS x', ['e = users.email']],
      ['SELECT y.e2 FROM (SELECT x.e AS e2 FROM (SELECT email AS e FROM users) x) y', ['e2 = users.email']],
      ['SELECT a FROM (SELECT email, id FROM users) s(a, b)', ['a = users.email']],
      ['SELECT 1, $1, NULL', ['?column? <-', '?column? <-', '?column? <-']],
      ['SELECT u.email, o.total FROM users u JOIN orders o ON o.user_id = u.id', ['email = users.email', 'total = orders.total']],
      ['SELECT email FROM v_customers', ['email = v_customers.email']],
      ['TABLE users', ['* = [star users]']],
      ['SELECT * FROM users', ['* = [star users]']],
    ]);
  });

  describe('quoted mixed-case names keep their case', () => {
    table([
      ['SELECT "Email" FROM "Customers"', ['Email = Customers.Email']],
      ['SELECT c."Email" AS "E-Mail" FROM "Sales"."Customers" c', ['E-Mail = Sales.Customers.Email']],
      ['SELECT "public"."User"."id", "public"."User"."email" FROM "public"."User"', ['id = public.User.id', 'email = public.User.email']],
      ['SELECT Email FROM Customers', ['email = customers.email']],
      ['SELECT lower("Email") FROM "Customers"', ['lower <- Customers.Email']],
    ]);
  });

  describe('expressions derive from every column they reference', () => {
    table([
      ['SELECT lower(email) FROM users', ['lower <- users.email']],
      ["SELECT email || '' AS e FROM users", ['e <- users.email']],
      ["SELECT first || ' ' || last FROM users", ['?column? <- users.first, users.last']],
      ['SELECT CASE WHEN vip THEN email ELSE phone END FROM users', ['case <- users.vip, users.email, users.phone']],
      ["SELECT string_agg(email, ',') FROM users", ['string_agg <- users.email']],
      ["SELECT string_agg(email, ',' ORDER BY name) FILTER (WHERE active) FROM users", ['string_agg <- users.email, users.name, users.active']],
      ["SELECT json_build_object('e', email, 'n', name) FROM users", ['json_build_object <- users.email, users.name']],
      ['SELECT coalesce(email, phone) FROM users', ['coalesce <- users.email, users.phone']],
      ['SELECT greatest(a, b), nullif(c, d) FROM t', ['greatest <- t.a, t.b', 'nullif <- t.c, t.d']],
      ['SELECT email::text, CAST(id AS text), ssn::varchar(4) AS s FROM users', ['email <- users.email', 'id <- users.id', 's <- users.ssn']],
      ["SELECT '1'::int, (a + b)::text, CASE WHEN a THEN 1 END::text FROM t", ['int4 <-', 'text <- t.a, t.b', 'text <- t.a']],
      ['SELECT email COLLATE "C" FROM users', ['email <- users.email']],
      ['SELECT ARRAY[email, phone], ROW(email) FROM users', ['array <- users.email, users.phone', 'row <- users.email']],
      ["SELECT email IS NULL, email LIKE '%@x' FROM users", ['?column? <- users.email', '?column? <- users.email']],
      ['SELECT count(*), count(email), max(salary) FROM emp', ['count <-', 'count <- emp.email', 'max <- emp.salary']],
      ['SELECT arr[1], (addr).city FROM t', ['arr <- t.arr', 'city <- t.addr']],
      ["SELECT json_object('e' : email), json_arrayagg(email) FROM users", ['json_object <- users.email', 'json_arrayagg <- users.email']],
      ["SELECT JSON_VALUE(doc, '$.email') FROM docs", ['json_value <- docs.doc']],
      ['SELECT xmlelement(name e, email) FROM users', ['xmlelement <- users.email']],
      ['SELECT current_user, now()', ['current_user <-', 'now <-']],
    ]);
  });

  describe('window functions', () => {
    table([
      ['SELECT row_number() OVER (PARTITION BY dept ORDER BY salary) FROM emp', ['row_number <- emp.dept, emp.salary']],
      ['SELECT name, rank() OVER w FROM emp WINDOW w AS (ORDER BY salary)', ['name = emp.name', 'rank <- emp.salary']],
      ['SELECT lag(email) OVER (ORDER BY id) FROM users', ['lag <- users.email, users.id']],
      ['SELECT sum(x) OVER (w ORDER BY y) FROM t WINDOW w AS (PARTITION BY z)', ['sum <- t.x, t.z, t.y']],
    ]);
  });

  describe('scalar subqueries take the lineage of their output', () => {
    table([
      ['SELECT (SELECT email FROM c LIMIT 1)', ['email <- c.email']],
      ['SELECT (SELECT max(o.total) FROM orders o WHERE o.user_id = u.id) AS m FROM users u', ['m <- orders.total']],
      ['SELECT ARRAY(SELECT email FROM users) AS emails', ['emails <- users.email']],
      ["SELECT EXISTS (SELECT 1 FROM users WHERE email = 'a@b.c')", ['exists <-']],
      ['SELECT id IN (SELECT b.user_id FROM banned b) FROM users', ['?column? <- users.id, banned.user_id']],
      // unqualified inside a subquery with outer tables: the inner table, or an outer one if the inner lacks the column
      ['SELECT (SELECT email FROM c LIMIT 1) FROM users', ['email <- c.email, users.email [ambiguous]']],
      ['SELECT (SELECT max(total) FROM orders o WHERE o.user_id = u.id) AS m FROM users u', ['m <- orders.total, users.total [ambiguous]']],
    ]);
  });

  describe('star and extra expressions', () => {
    table([
      ['SELECT *, lower(email) FROM users', ['* = [star users]', 'lower <- users.email']],
      ['SELECT c.*, lower(c.email) AS le FROM customers c', ['* = [star customers]', 'le <- customers.email']],
      ['SELECT * FROM users u JOIN orders o ON o.user_id = u.id', ['* = [star users]', '* = [star orders]']],
      ['SELECT o.*, u.email FROM users u JOIN orders o ON o.user_id = u.id', ['* = [star orders]', 'email = users.email']],
      ['SELECT * FROM (SELECT email, lower(name) AS n FROM users) s', ['email = users.email', 'n <- users.name']],
      ['SELECT s.* FROM (SELECT * FROM users) s', ['* = [star users]']],
      ['SELECT s.email FROM (SELECT * FROM users) s', ['email = users.email']],
      ['SELECT * FROM (VALUES (1, 2)) v(a, b)', ['a <-', 'b <-']],
      ['SELECT * FROM users, (SELECT 1 AS one) x', ['* = [star users]', 'one <-']],
      // an alias list that renames columns of a `*` it cannot see
      ['SELECT x FROM (SELECT * FROM users) s(x)', ['x <- users.* [uncertain]']],
    ]);
  });

  describe('whole-row references', () => {
    table([
      ['SELECT t FROM t', ['t <- t.*']],
      ['SELECT c FROM customers c', ['c <- customers.*']],
      ['SELECT row_to_json(c) FROM customers c', ['row_to_json <- customers.*']],
      ['SELECT to_jsonb(c.*) FROM customers c', ['to_jsonb <- customers.*']],
      ['SELECT to_json(c), row_to_json(c.*)::text AS j FROM public.customers c', ['to_json <- public.customers.*', 'j <- public.customers.*']],
      ['SELECT json_agg(c) FROM customers c', ['json_agg <- customers.*']],
      ['SELECT json_agg(t) FROM (SELECT email, id FROM users) t', ['json_agg <- users.email, users.id']],
      ['SELECT (c).email FROM customers c', ['email <- customers.email']],
      ['SELECT (c.*)::text FROM customers c', ['c <- customers.*']],
      ['SELECT jsonb_agg(x ORDER BY x.id) FROM (SELECT * FROM users) x', ['jsonb_agg <- users.id, users.*']],
    ]);

    test('whole-row marker shape', () => {
      expect(factsOf('SELECT row_to_json(c) FROM sales.customers c').outputColumns).toEqual([
        { name: 'row_to_json', sources: [], direct: false, certain: true, wholeRow: [{ schema: 'sales', table: 'customers' }] },
      ]);
    });
  });

  describe('CTE chains', () => {
    table([
      ['WITH c AS (SELECT email AS e FROM users) SELECT e, upper(e) FROM c', ['e = users.email', 'upper <- users.email']],
      ['WITH a AS (SELECT email, id FROM users), b AS (SELECT lower(email) AS le, id FROM a) SELECT b.le, x.id FROM b JOIN a x USING (id)', ['le <- users.email', 'id = users.id']],
      ['WITH a(x) AS (SELECT email FROM users), b AS (SELECT x FROM a), c AS (SELECT * FROM b) SELECT x FROM c', ['x = users.email']],
      ['WITH c AS (SELECT * FROM users) SELECT * FROM c', ['* = [star users]']],
      ['WITH c AS (SELECT * FROM users) SELECT c.email FROM c', ['email = users.email']],
      // a CTE shadows a table of the same name; a schema-qualified name does not
      ['WITH users AS (SELECT name FROM staff) SELECT name FROM users', ['name = staff.name']],
      ['WITH users AS (SELECT name FROM staff) SELECT name FROM public.users', ['name = public.users.name']],
      ['WITH d AS (DELETE FROM users WHERE id = 1 RETURNING email) SELECT upper(email) FROM d', ['upper <- users.email']],
      ['WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r', ['n <-']],
      [
        'WITH RECURSIVE r(id, path) AS (SELECT id, email FROM users UNION ALL SELECT s.id, r.path || s.name FROM r JOIN staff s ON s.boss = r.id) SELECT * FROM r',
        ['id = users.id, staff.id', 'path <- users.email, staff.name'],
      ],
      // a nested WITH sees the outer one
      ['WITH a AS (SELECT email FROM users) SELECT * FROM (WITH b AS (SELECT email FROM a) SELECT email FROM b) s', ['email = users.email']],
    ]);
  });

  describe('subqueries in FROM and LATERAL', () => {
    table([
      ['SELECT s.total FROM (SELECT sum(amount) AS total FROM payments) s', ['total <- payments.amount']],
      ['SELECT u.id, o.* FROM users u CROSS JOIN LATERAL (SELECT * FROM orders WHERE orders.user_id = u.id LIMIT 3) o', ['id = users.id', '* = [star orders]']],
      ['SELECT u.id, l.e FROM users u, LATERAL (SELECT u.email AS e) l', ['id = users.id', 'e = users.email']],
      ['SELECT e FROM users u, LATERAL unnest(ARRAY[u.email, u.phone]) AS e', ['e <- users.email, users.phone']],
      ['SELECT * FROM users u, LATERAL unnest(ARRAY[u.email]) WITH ORDINALITY AS e(v, i)', ['* = [star users]', 'v <- users.email', 'i <-']],
      ['SELECT g FROM generate_series(1, 10) g', ['g <-']],
      ['SELECT key, value FROM users u, json_each(u.prefs)', ['key <- users.prefs', 'value <- users.prefs']],
      ['SELECT x.* FROM docs d, jsonb_to_record(d.body) AS x(email text, n int)', ['email <- docs.body', 'n <- docs.body']],
      ["SELECT jt.id FROM docs t, JSON_TABLE(t.j, '$[*]' COLUMNS (id int PATH '$.id')) jt", ['id <- docs.j']],
      ["SELECT xt.a FROM docs t, XMLTABLE('/r' PASSING t.x COLUMNS a int PATH 'a') xt", ['a <- docs.x']],
      ['SELECT * FROM users TABLESAMPLE system (10)', ['* = [star users]']],
    ]);
  });

  describe('joins with USING and NATURAL', () => {
    table([
      ['SELECT id, a.x, b.y FROM a JOIN b USING (id)', ['id = a.id', 'x = a.x', 'y = b.y']],
      ['SELECT id FROM a RIGHT JOIN b USING (id)', ['id = b.id']],
      ['SELECT id FROM a FULL JOIN b USING (id)', ['id <- a.id, b.id']],
      ['SELECT * FROM a JOIN b USING (id)', ['id = a.id', '* = [star a]', '* = [star b]']],
      ['SELECT j.id FROM a JOIN b USING (id) AS j', ['id = a.id']],
      ['SELECT q.x FROM (a JOIN b ON a.id = b.id) AS q(x)', ['x <- a.* [uncertain]']],
      ['SELECT * FROM (SELECT id, email FROM u) s JOIN (SELECT id, name FROM v) t USING (id)', ['id = u.id', 'email = u.email', 'name = v.name']],
      // NATURAL: merged columns unknown without the catalog, unless both sides are known
      ['SELECT * FROM a NATURAL JOIN b', ['* = [star a] [uncertain]', '* = [star b] [uncertain]']],
      ['SELECT id FROM a NATURAL JOIN b', ['id = a.id, b.id [ambiguous]']],
      ['SELECT * FROM (SELECT id, email FROM u) s NATURAL JOIN (SELECT id, name FROM v) t', ['id = u.id', 'email = u.email', 'name = v.name']],
      ['SELECT email FROM a, b', ['email = a.email, b.email [ambiguous]']],
      ['SELECT email FROM a JOIN b ON a.id = b.id JOIN c ON c.id = b.id', ['email = a.email, b.email, c.email [ambiguous]']],
      // a known column of a subquery wins over a table that might have one
      ['SELECT n FROM (SELECT lower(name) AS n FROM staff) s, users', ['n <- staff.name']],
    ]);
  });

  describe('set operations', () => {
    table([
      ['SELECT email FROM users UNION SELECT email FROM users', ['email = users.email']],
      // every branch a bare column: each value is one of those columns' own values (direct)
      ['SELECT email FROM users UNION ALL SELECT contact FROM leads', ['email = users.email, leads.contact']],
      ['SELECT email FROM customers UNION SELECT email FROM customers2', ['email = customers.email, customers2.email']],
      ['SELECT x FROM (SELECT email AS x FROM users UNION SELECT name FROM staff) s', ['x = users.email, staff.name']],
      ['SELECT a, b FROM t INTERSECT SELECT c, lower(d) FROM u', ['a = t.a, u.c', 'b <- t.b, u.d']],
      ['SELECT a FROM t EXCEPT SELECT b FROM u EXCEPT SELECT c FROM v', ['a = t.a, u.b, v.c']],
      ['SELECT * FROM users UNION ALL SELECT * FROM staff', ['* <- users.*, staff.* [expands]']],
      ['SELECT id, email FROM users UNION SELECT id, * FROM staff', ['id = users.id, staff.id', '* <- users.email, staff.* [expands]']],
      ['VALUES (1, $1), (2, $2)', ['column1 <-', 'column2 <-']],
      ['SELECT email FROM users UNION SELECT email FROM staff ORDER BY 1', ['email = users.email, staff.email']],
      // ORDER BY / LIMIT on the union, nested set operations, parenthesised branches
      ['SELECT email FROM a UNION ALL SELECT email FROM b ORDER BY email DESC LIMIT 5 OFFSET 1', ['email = a.email, b.email']],
      ['(SELECT e FROM a UNION SELECT f FROM b) INTERSECT (SELECT g FROM c EXCEPT SELECT h FROM d)', ['e = a.e, b.f, c.g, d.h']],
      ['(SELECT e FROM a ORDER BY e LIMIT 1) UNION ALL (SELECT f FROM b LIMIT 2)', ['e = a.e, b.f']],
      // wrapped in a CTE, a subquery, and a view-like chain of CTEs
      ['WITH u AS (SELECT email FROM a UNION SELECT email FROM b) SELECT email FROM u ORDER BY 1', ['email = a.email, b.email']],
      ['WITH u(m) AS (SELECT email FROM a UNION ALL SELECT email FROM b), v AS (SELECT m FROM u UNION SELECT c.m FROM c) SELECT * FROM v', ['m = a.email, b.email, c.m']],
      ['SELECT s.x FROM (SELECT a.email AS x FROM a UNION SELECT b.email FROM b) AS s WHERE s.x IS NOT NULL', ['x = a.email, b.email']],
      // a constant or a parameter branch carries no column: still direct; but not when no branch is a column
      ["SELECT email FROM a UNION SELECT 'nobody@example.net' UNION SELECT NULL UNION SELECT $1", ['email = a.email']],
      ["SELECT 'x' AS v UNION SELECT $1", ['v <-']],
      // any computed branch makes the whole output computed
      ['SELECT email FROM a UNION SELECT lower(email) FROM b', ['email <- a.email, b.email']],
      ['SELECT email FROM a UNION ALL SELECT email || name FROM b UNION ALL SELECT email FROM c', ['email <- a.email, b.email, b.name, c.email']],
      // count(*) reads no column's value (how many rows b has is not a column's data)
      ['SELECT email FROM a UNION SELECT count(*)::text FROM b', ['email = a.email']],
      ['SELECT email FROM a UNION SELECT count(name)::text FROM b', ['email <- a.email, b.name']],
      ['SELECT email FROM a UNION SELECT row_to_json(b)::text FROM b', ['email <- a.email, b.*']],
      ['SELECT email FROM a UNION SELECT my_func(1)', ['email <- a.email [uncertain]']],
      ['SELECT email FROM a UNION SELECT (SELECT email FROM b LIMIT 1)', ['email <- a.email, b.email']],
      // an ambiguous branch lists every candidate, still a bare reference
      ['SELECT email FROM a UNION SELECT email FROM b, c', ['email = a.email, b.email, c.email [ambiguous]']],
      // VALUES rows of bare references (LATERAL)
      ['SELECT v FROM users u, LATERAL (VALUES (u.email), (u.phone)) t(v)', ['v = users.email, users.phone']],
    ]);
  });

  describe('RETURNING', () => {
    table([
      ['INSERT INTO users (email) VALUES ($1) RETURNING id, email', ['id = users.id', 'email = users.email']],
      ['INSERT INTO users AS u (email) VALUES ($1) RETURNING u.*', ['* = [star users]']],
      ['INSERT INTO audit (who, what) SELECT email, $1 FROM users RETURNING who, what, id', ['who <- audit.who, users.email', 'what = audit.what', 'id = audit.id']],
      ['INSERT INTO audit SELECT email FROM users RETURNING *', ['* <- users.email [star audit] [ambiguous]']],
      ['INSERT INTO audit SELECT email FROM users RETURNING note', ['note <- audit.note, users.email [ambiguous]']],
      ['UPDATE users SET name = $1 WHERE id = $2 RETURNING *', ['* = [star users]']],
      ['UPDATE users SET name = lower(email) WHERE id = 1 RETURNING name, id', ['name <- users.name, users.email', 'id = users.id']],
      ['UPDATE users u SET name = s.name FROM staff s WHERE s.id = u.id RETURNING u.name, s.email', ['name <- users.name, staff.name', 'email = staff.email']],
      ['UPDATE t SET (a, b) = (SELECT u.email, u.name FROM users u WHERE u.id = t.uid) RETURNING a, b', ['a <- t.a, users.email', 'b <- t.b, users.name']],
      ['DELETE FROM users WHERE id = 1 RETURNING email, lower(name)', ['email = users.email', 'lower <- users.name']],
      ['DELETE FROM users u USING orders o WHERE o.user_id = u.id RETURNING u.email, o.total, *', ['email = users.email', 'total = orders.total', '* = [star users]', '* = [star orders]']],
      ['UPDATE users SET email = $1 RETURNING old.email AS before, new.email AS after', ['before = users.email', 'after = users.email']],
      ["INSERT INTO users AS x (id, email) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET email = excluded.email || x.name RETURNING email", ['email <- users.email, users.name']],
      [
        'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, s.b) RETURNING merge_action(), t.a, s.*',
        ['merge_action <-', 'a <- t.a, s.a, s.b', '* = [star s]'],
      ],
    ]);

    test('no RETURNING: no output columns', () => {
      expect(factsOf('INSERT INTO t VALUES (1)').outputColumns).toBeUndefined();
      expect(factsOf('UPDATE t SET a = 1 WHERE id = 2').outputColumns).toBeUndefined();
      expect(factsOf('DELETE FROM t WHERE id = 2').outputColumns).toBeUndefined();
    });
  });

  describe('COPY and cursors', () => {
    table([
      ['COPY (SELECT email, lower(name) FROM users) TO STDOUT', ['email = users.email', 'lower <- users.name']],
      ['COPY users TO STDOUT', ['* = [star users]']],
      ['COPY public.users ("Email", id) TO STDOUT WITH (FORMAT csv)', ['Email = public.users.Email', 'id = public.users.id']],
      ['DECLARE c CURSOR FOR SELECT lower(email) FROM users', ['lower <- users.email']],
    ]);

    test('COPY FROM, EXPLAIN, SELECT INTO and DDL have no output columns', () => {
      for (const sql of ['COPY users FROM STDIN', 'EXPLAIN ANALYZE SELECT email FROM users', 'SELECT email INTO t2 FROM users', 'CREATE TABLE t (a int)', 'SET work_mem = 1']) {
        expect([sql, factsOf(sql).outputColumns]).toEqual([sql, undefined]);
      }
    });
  });

  describe('what cannot be known is marked uncertain', () => {
    table([
      ['SELECT my_func(email) FROM users', ['my_func <- users.email [uncertain]']],
      ['SELECT app.mask(email) FROM users', ['mask <- users.email [uncertain]']],
      ['SELECT pg_catalog.lower(email) FROM users', ['lower <- users.email']],
      ["SELECT table_to_xml('users', true, false, '')", ['table_to_xml <- [uncertain]']],
      ["SELECT query_to_xml('select email from users', true, false, '')", ['query_to_xml <- [uncertain]']],
      ['SELECT * FROM my_srf(1) f', ['* <- [expands] [uncertain]']],
      ['SELECT f.x FROM my_srf(1) AS f(x)', ['x <- [uncertain]']],
      ['SELECT nosuch FROM (SELECT 1 AS a) s', ['nosuch <- [uncertain]']],
      ['SELECT dblink_col FROM dblink($$c$$, $$select 1$$) AS t(dblink_col int)', ['dblink_col <- [uncertain]']],
    ]);

    test('uncertain columns say why', () => {
      const [c] = factsOf('SELECT my_func(email) FROM users').outputColumns!;
      expect(c.certain).toBe(false);
      expect(c.ambiguous).toBeUndefined();
      expect(c.uncertain).toEqual(['my_func() is not a built-in function: its result may come from other data']);
      const [a] = factsOf('SELECT email FROM a, b').outputColumns!;
      expect(a).toMatchObject({ certain: false, ambiguous: true, direct: true });
    });
  });

  test('statements in a string each get their own lineage', () => {
    const [a, b] = statementsOf('SELECT email FROM users; SELECT name FROM staff');
    expect(a.outputColumns?.map(show)).toEqual(['email = users.email']);
    expect(b.outputColumns?.map(show)).toEqual(['name = staff.name']);
  });

  test('nested statements carry their own lineage (EXPLAIN, PREPARE)', () => {
    const e = factsOf('EXPLAIN ANALYZE SELECT lower(email) FROM users');
    expect(e.nested[0].outputColumns?.map(show)).toEqual(['lower <- users.email']);
    const p = factsOf('PREPARE q AS SELECT email FROM users WHERE id = $1');
    expect(p.nested[0].outputColumns?.map(show)).toEqual(['email = users.email']);
  });
});

describe('predicate columns', () => {
  const rows: [string, string[]][] = [
    ["SELECT id FROM users WHERE email = 'a@b.c'", ['users.email']],
    ['SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id', ['orders.user_id', 'users.id']],
    ['SELECT 1 FROM a JOIN b USING (id, k)', ['a.id', 'a.k', 'b.id', 'b.k']],
    ['SELECT 1 FROM a NATURAL JOIN b', ['a.*', 'b.*']],
    ['SELECT dept, count(*) FROM emp GROUP BY dept HAVING max(salary) > 10', ['emp.dept', 'emp.salary']],
    ['SELECT id FROM users ORDER BY ssn DESC', ['users.ssn']],
    // an output alias or ordinal in ORDER BY means that output's sources
    ['SELECT lower(email) AS e FROM users ORDER BY e', ['users.email']],
    ['SELECT id, lower(email) FROM users ORDER BY 2', ['users.email']],
    ['SELECT DISTINCT ON (ssn) id FROM users', ['users.ssn']],
    ['SELECT rank() OVER (PARTITION BY dept ORDER BY salary) FROM emp', ['emp.dept', 'emp.salary']],
    ['SELECT rank() OVER w FROM emp WINDOW w AS (PARTITION BY dept)', ['emp.dept']],
    ["SELECT count(*) FILTER (WHERE email LIKE '%@x') FROM users", ['users.email']],
    ["SELECT string_agg(name, ',' ORDER BY salary) FROM emp", ['emp.salary']],
    ["SELECT id FROM users WHERE id IN (SELECT user_id FROM orders o WHERE o.note = 'x')", ['orders.note', 'orders.user_id', 'users.id', 'users.user_id']],
    ['SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM cards c WHERE c.user_id = u.id AND c.number LIKE $1)', ['cards.number', 'cards.user_id', 'users.id']],
    ['SELECT (SELECT max(total) FROM orders o WHERE o.user_id = u.id) FROM users u', ['orders.user_id', 'users.id']],
    ['WITH c AS (SELECT id FROM users WHERE ssn = $1) SELECT * FROM c', ['users.ssn']],
    ['WITH c AS (SELECT id, ssn FROM users) SELECT id FROM c WHERE ssn = $1', ['users.ssn']],
    ["SELECT * FROM (SELECT * FROM users WHERE email LIKE 'a%') s ORDER BY s.salary", ['users.email', 'users.salary']],
    ['SELECT * FROM users u, LATERAL (SELECT * FROM orders o WHERE o.user_id = u.id) x', ['orders.user_id', 'users.id']],
    ['SELECT email FROM users WHERE users = $1', ['users.*']],
    ['SELECT a FROM t INTERSECT SELECT email FROM users', ['t.a', 'users.email']],
    ['SELECT 1 FROM t GROUP BY ROLLUP (a, b), CUBE (c)', ['t.a', 't.b', 't.c']],
    ["UPDATE users SET name = 'x' WHERE email = $1", ['users.email']],
    ['DELETE FROM users u USING orders o WHERE o.user_id = u.id AND o.total > 5', ['orders.total', 'orders.user_id', 'users.id']],
    ['INSERT INTO t SELECT id FROM users WHERE ssn = $1', ['users.ssn']],
    ['INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET n = 1 WHERE t.secret = $1', ['t.secret']],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED AND s.flag THEN DELETE', ['s.flag', 's.id', 't.id']],
    ['COPY (SELECT id FROM users WHERE ssn = $1) TO STDOUT', ['users.ssn']],
    ['DECLARE c CURSOR FOR SELECT id FROM users ORDER BY ssn', ['users.ssn']],
    ['CREATE TABLE x AS SELECT id FROM users WHERE ssn = $1', ['users.ssn']],
    ['CREATE VIEW v AS SELECT id FROM users WHERE ssn = $1', ['users.ssn']],
    ['SELECT id FROM a, b WHERE ssn = $1', ['a.ssn', 'b.ssn']],
    ['SELECT 1', []],
    ['CREATE TABLE t (a int)', []],
    ['SET work_mem = 1', []],
  ];
  test.each(rows)('%s', (sql, expected) => {
    expect(predicates(sql)).toEqual(expected);
  });

  test('nested statements count as their parent: EXPLAIN ANALYZE, PREPARE, functions, DO', () => {
    expect(predicates("EXPLAIN ANALYZE SELECT 1 FROM users WHERE ssn = '1'")).toEqual(['users.ssn']);
    expect(predicates('PREPARE q AS SELECT 1 FROM users WHERE ssn = $1')).toEqual(['users.ssn']);
    expect(predicates("CREATE FUNCTION f(text) RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM users WHERE ssn = $1'")).toEqual(['users.ssn']);
    expect(predicates("DO $$BEGIN PERFORM 1 FROM users WHERE ssn = '1'; END$$")).toEqual(['users.ssn']);
    expect(predicates('WITH d AS (DELETE FROM users WHERE ssn = $1 RETURNING id) SELECT * FROM d')).toEqual(['users.ssn']);
  });

  test('column references are plain ColumnRef objects', () => {
    const p: ColumnRef[] | undefined = factsOf('SELECT 1 FROM sales.users u WHERE u."Email" = $1').predicateColumns;
    expect(p).toEqual([{ schema: 'sales', table: 'users', column: 'Email' }]);
  });
});

describe('lineage never breaks an analysis', () => {
  test('a deeply nested expression still analyses; lineage present or (too deep) absent', () => {
    const sql = `SELECT ${'('.repeat(500)}email${')'.repeat(500)} FROM users`;
    const a = analyzePostgres(sql);
    expect(a.ok).toBe(true);
    if (a.ok) expect(a.statements[0].outputColumns?.map(show) ?? ['absent']).toEqual(['email = users.email']);
  });

  test('a long expression keeps one entry per distinct source', () => {
    const n = 600;
    const sql = `SELECT ${Array.from({ length: n }, (_, i) => `c${i % 50}`).join(' + ')} AS s FROM t`;
    const [c] = factsOf(sql).outputColumns!;
    expect(c.sources).toHaveLength(50);
  });

  test('more sources than kept collapse to whole rows (a superset)', () => {
    const sql = `SELECT ${Array.from({ length: 300 }, (_, i) => `c${i}`).join(' || ')} AS s FROM t`;
    const [c] = factsOf(sql).outputColumns!;
    expect(c).toMatchObject({ sources: [], wholeRow: [{ table: 't' }], certain: true });
  });

  test('more output columns than Postgres allows: lineage absent (unknown), facts intact', () => {
    const sql = `SELECT ${Array.from({ length: 1700 }, (_, i) => `c${i}`).join(', ')} FROM t`;
    const f = factsOf(sql);
    expect(f.outputColumns).toBeUndefined();
    expect(f.predicateColumns).toEqual([]);
    expect(f.tablesRead).toEqual([{ name: 't' }]);
  });
});

describe('soundness: a masked column reaches the output only where lineage says so', () => {
  // Sources that put vault.secret (or its whole row) behind a reference, and the FROM clause they need.
  const sources: [string, string, string][] = [
    // [WITH prefix, FROM clause, reference]
    ['', 'vault', 'secret'],
    ['', 'vault v', 'v.secret'],
    ['', 'public.vault', 'vault.secret'],
    ['', '(SELECT secret AS x FROM vault) s', 's.x'],
    ['', '(SELECT * FROM vault) s', 's.secret'],
    ['', '(SELECT lower(secret) FROM vault) s(y)', 'y'],
    ['WITH c AS (SELECT secret AS z, id FROM vault) ', 'c', 'z'],
    ['WITH c AS (SELECT * FROM vault), d AS (SELECT secret AS w FROM c) ', 'd', 'w'],
    ['', '(SELECT id AS x FROM other UNION ALL SELECT secret FROM vault) u', 'u.x'],
    ['', 'vault v', 'row_to_json(v)'],
    ['', 'vault v', 'v'],
    ['', 'other o JOIN vault USING (id)', 'secret'],
    ['', 'other o, LATERAL (SELECT secret AS q FROM vault WHERE vault.id = o.id) l', 'l.q'],
    ['', 'vault v, unnest(ARRAY[v.secret]) AS e', 'e'],
  ];
  const wrappers = [
    (e: string) => `lower(${e})`,
    (e: string) => `${e} || 'x'`,
    (e: string) => `CASE WHEN true THEN ${e} END`,
    (e: string) => `coalesce(${e}, '')`,
    (e: string) => `(${e})::text`,
    (e: string) => `string_agg(${e}, ',')`,
    (e: string) => `json_build_object('k', ${e})`,
    (e: string) => `(SELECT ${e})`,
    (e: string) => `ARRAY[${e}]`,
    (e: string) => `md5(${e}::text)`,
    (e: string) => `first_value(${e}) OVER (ORDER BY 1)`,
    (e: string) => `${e} COLLATE "C"`,
    (e: string) => `GREATEST(${e}, 'a')`,
  ];

  test('every wrapping of every source keeps vault.secret (or vault.*) in the lineage', () => {
    fc.assert(
      fc.property(fc.nat(sources.length - 1), fc.array(fc.nat(wrappers.length - 1), { maxLength: 5 }), fc.boolean(), fc.nat(3), (si, ws, alias, extra) => {
        const [withPrefix, from, ref] = sources[si];
        let e = ref;
        for (const w of ws) e = wrappers[w](e);
        const targets = ['1 AS one', ...(extra > 0 ? ['now()'] : [])];
        targets.splice(extra % (targets.length + 1), 0, `${e}${alias ? ' AS out' : ''}`);
        const sql = `${withPrefix}SELECT ${targets.join(', ')} FROM ${from}`;
        const a = analyzePostgres(sql);
        if (!a.ok) return; // a combination the grammar refuses
        const cols = a.statements[0].outputColumns;
        expect(cols).toBeDefined();
        const c = cols![targets.findIndex((t) => t.startsWith(e))];
        const sees = c.sources.some((s) => s.table === 'vault' && s.column === 'secret') || (c.wholeRow ?? []).some((w) => w.table === 'vault');
        expect([sql, sees || !c.certain]).toEqual([sql, true]);
        if (alias) expect(c.name).toBe('out');
      }),
      { numRuns: 1500 },
    );
  });
});
