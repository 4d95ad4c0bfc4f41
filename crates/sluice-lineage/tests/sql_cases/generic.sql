-- case: plain select
-- reads: orders
-- writes:
SELECT * FROM orders;

-- case: select with join and subquery in where
-- reads: customers, orders, refunds
-- writes:
SELECT o.id FROM orders o JOIN customers c ON o.cid = c.id WHERE o.id NOT IN (SELECT order_id FROM refunds);

-- case: exists subquery
-- reads: a, b
-- writes:
SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k);

-- case: scalar subquery in projection
-- reads: a, totals
-- writes:
SELECT a.id, (SELECT max(v) FROM totals) AS m FROM a;

-- case: union all of three
-- reads: a, b, c
-- writes:
SELECT x FROM a UNION ALL SELECT x FROM b UNION SELECT x FROM c;

-- case: insert select
-- reads: staging.orders
-- writes: orders
INSERT INTO orders SELECT * FROM staging.orders;

-- case: insert values
-- reads:
-- writes: events
INSERT INTO events (id, kind) VALUES (1, 'a'), (2, 'b');

-- case: insert with cte
-- reads: orders_raw
-- writes: orders_clean
WITH recent AS (SELECT * FROM orders_raw WHERE ts > '2026-01-01') INSERT INTO orders_clean SELECT * FROM recent;

-- case: cte then insert via query
-- reads: raw
-- writes: clean
INSERT INTO clean WITH r AS (SELECT * FROM raw) SELECT * FROM r;

-- case: ctas
-- reads: facts
-- writes: daily
CREATE TABLE daily AS SELECT day, sum(x) AS x FROM facts GROUP BY day;

-- case: create table with columns reads nothing
-- reads:
-- writes: t
CREATE TABLE t (id INT, name TEXT);

-- case: create view
-- reads: a, b
-- writes: v
CREATE VIEW v AS SELECT * FROM a JOIN b USING (k);

-- case: create or replace view
-- reads: a
-- writes: v
CREATE OR REPLACE VIEW v AS SELECT * FROM a;

-- case: merge
-- reads: staging
-- writes: dim
MERGE INTO dim t USING staging s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v);

-- case: merge using subquery
-- reads: a, b
-- writes: dim
MERGE INTO dim USING (SELECT * FROM a JOIN b USING (k)) s ON dim.k = s.k WHEN MATCHED THEN DELETE;

-- case: update with subquery
-- reads: bad
-- writes: t
UPDATE t SET x = 1 WHERE id IN (SELECT id FROM bad);

-- case: update in place reading its own table
-- reads:
-- writes: t
UPDATE t SET x = (SELECT max(x) FROM t);

-- case: delete with subquery
-- reads: gone
-- writes: t
DELETE FROM t WHERE id IN (SELECT id FROM gone);

-- case: truncate
-- reads:
-- writes: staging.orders
TRUNCATE TABLE staging.orders;

-- case: drop table
-- reads:
-- writes: old_orders
DROP TABLE old_orders;

-- case: drop view if exists
-- reads:
-- writes: v
DROP VIEW IF EXISTS v;

-- case: quoted names keep their case
-- reads: analytics.Customers, orders_raw
-- writes:
SELECT * FROM Orders_Raw JOIN analytics."Customers" USING (id);

-- case: cte scoped to subquery also reads the outer real table
-- reads: s, t
-- writes:
SELECT * FROM (WITH t AS (SELECT * FROM s) SELECT * FROM t) x JOIN t ON x.a = t.a;

-- case: cte chain
-- reads: src
-- writes: out
CREATE TABLE out AS WITH a AS (SELECT * FROM src), b AS (SELECT * FROM a) SELECT * FROM b;

-- case: non recursive cte referencing its own name reads the table
-- reads: t
-- writes:
WITH t AS (SELECT * FROM t WHERE ok) SELECT * FROM t;

-- case: recursive cte
-- reads: edges
-- writes:
WITH RECURSIVE r AS (SELECT src, dst FROM edges UNION ALL SELECT r.src, e.dst FROM r JOIN edges e ON r.dst = e.src) SELECT * FROM r;

-- case: cte shadowing in nested scope only
-- reads: a, b
-- writes:
WITH x AS (SELECT * FROM a) SELECT * FROM x WHERE k IN (WITH y AS (SELECT * FROM b) SELECT k FROM y);

-- case: table function is not a table
-- reads:
-- writes:
SELECT * FROM generate_series(1, 10);

-- case: temporary table is internal
-- reads: other, src
-- writes: out
CREATE TEMPORARY TABLE tmp AS SELECT * FROM src;
INSERT INTO out SELECT * FROM tmp JOIN other USING (k);

-- case: intermediate table consumed later is internal and its inputs flow through
-- reads: a, b
-- writes: final
CREATE TABLE step1 AS SELECT * FROM a;
CREATE TABLE final AS SELECT * FROM step1 JOIN b USING (k);

-- case: intermediate dropped at the end
-- reads: src
-- writes: dst
CREATE TABLE work AS SELECT * FROM src;
INSERT INTO dst SELECT * FROM work;
DROP TABLE work;

-- case: created table only queried afterwards stays an output
-- reads: src
-- writes: summary
CREATE TABLE summary AS SELECT count(*) AS n FROM src;
SELECT * FROM summary;

-- case: drop and recreate
-- reads: src
-- writes: t
DROP TABLE IF EXISTS t;
CREATE TABLE t AS SELECT * FROM src;

-- case: build new then rename into place
-- reads: src
-- writes: orders
CREATE TABLE orders_new AS SELECT * FROM src;
ALTER TABLE orders_new RENAME TO orders;

-- case: rename of an existing table
-- reads: a
-- writes: b
ALTER TABLE a RENAME TO b;

-- case: alter table add column writes it
-- reads:
-- writes: t
ALTER TABLE t ADD COLUMN c INT;

-- case: insert then check own output
-- reads: src
-- writes: out
-- self_reads: out
INSERT INTO out SELECT * FROM src;
SELECT count(*) FROM out;

-- case: several outputs
-- reads: src
-- writes: a, b
INSERT INTO a SELECT * FROM src WHERE k = 1;
INSERT INTO b SELECT * FROM src WHERE k = 2;

-- case: explain reads nothing
-- reads:
-- writes:
EXPLAIN SELECT * FROM big;

-- case: analyze reads nothing
-- reads:
-- writes:
ANALYZE orders;

-- case: schema qualified three parts
-- reads: db.sch.src
-- writes: db.sch.dst
INSERT INTO db.sch.dst SELECT * FROM db.sch.src;

-- case: lateral join and derived table
-- reads: a, b
-- writes:
SELECT * FROM a, LATERAL (SELECT * FROM b WHERE b.k = a.k) x;

-- case: window and group by
-- reads: sales
-- writes:
SELECT region, sum(amount) OVER (PARTITION BY region) FROM sales GROUP BY region, amount;

-- case: intersect and except
-- reads: a, b, c
-- writes:
(SELECT k FROM a INTERSECT SELECT k FROM b) EXCEPT SELECT k FROM c;

-- case: create table like
-- reads: s
-- writes: t
CREATE TABLE t LIKE s;

-- case: insert with column list
-- reads: src
-- writes: dst
INSERT INTO dst (a, b) SELECT a, b FROM src;

-- case: group by having with subquery
-- reads: limits, sales
-- writes:
SELECT region FROM sales GROUP BY region HAVING sum(amount) > (SELECT max(cap) FROM limits);

-- case: cte used twice
-- reads: events
-- writes:
WITH e AS (SELECT * FROM events) SELECT * FROM e a JOIN e b ON a.id = b.parent;

-- case: three nested derived tables
-- reads: deep
-- writes:
SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM deep) a) b) c;

-- case: every join kind
-- reads: a, b, c, d, e
-- writes:
SELECT * FROM a LEFT JOIN b ON a.k = b.k RIGHT JOIN c ON b.k = c.k FULL OUTER JOIN d ON c.k = d.k CROSS JOIN e;

-- case: subquery in case expression
-- reads: a, vip
-- writes:
SELECT CASE WHEN id IN (SELECT id FROM vip) THEN 'vip' ELSE 'std' END FROM a;

-- case: values only reads nothing
-- reads:
-- writes:
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(id, name);

-- case: view with cte
-- reads: raw
-- writes: v
CREATE VIEW v AS WITH r AS (SELECT * FROM raw) SELECT * FROM r;

-- case: delete every row
-- reads:
-- writes: t
DELETE FROM t;

-- case: union inside a cte
-- reads: a, b
-- writes: u
CREATE TABLE u AS WITH x AS (SELECT k FROM a UNION SELECT k FROM b) SELECT * FROM x;

-- case: create table if not exists as
-- reads: s
-- writes: t
CREATE TABLE IF NOT EXISTS t AS SELECT * FROM s;

-- case: a view created and consumed in the script is internal
-- reads: raw
-- writes: out
CREATE VIEW staged AS SELECT * FROM raw;
INSERT INTO out SELECT * FROM staged;

-- case: rename chain ends at the last name
-- reads: src
-- writes: final_t
CREATE TABLE a AS SELECT * FROM src;
ALTER TABLE a RENAME TO b;
ALTER TABLE b RENAME TO final_t;

-- case: drop several tables
-- reads:
-- writes: x, y
DROP TABLE x, y;

-- case: truncate then reload
-- reads: s
-- writes: t
TRUNCATE TABLE t;
INSERT INTO t SELECT * FROM s;

-- case: a cte named like a qualified table does not hide it
-- reads: sch.t
-- writes:
WITH t AS (SELECT 1 AS x) SELECT * FROM sch.t;

-- case: insert from a cte defined inside a subquery
-- reads: raw, ref
-- writes: dst
INSERT INTO dst SELECT * FROM (WITH c AS (SELECT * FROM raw) SELECT * FROM c) s JOIN ref USING (k);
