-- case: copy from file
-- reads: /data/orders.csv
-- writes: orders
COPY orders FROM '/data/orders.csv' WITH (FORMAT csv, HEADER true);

-- case: copy table to file
-- reads: orders
-- writes: /tmp/out.csv
COPY orders TO '/tmp/out.csv';

-- case: copy query to file
-- reads: a
-- writes: /tmp/a.csv
COPY (SELECT * FROM a WHERE x > 1) TO '/tmp/a.csv';

-- case: select into creates
-- reads: src
-- writes: dst
SELECT * INTO dst FROM src;

-- case: select into temp is internal
-- reads: other, src
-- writes: out
SELECT * INTO TEMP tmp FROM src;
INSERT INTO out SELECT * FROM tmp JOIN other USING (k);

-- case: insert on conflict
-- reads: staging
-- writes: dim
INSERT INTO dim SELECT * FROM staging ON CONFLICT (id) DO UPDATE SET v = excluded.v;

-- case: update from
-- reads: src
-- writes: t
UPDATE t SET v = s.v FROM src s WHERE t.id = s.id;

-- case: delete using
-- reads: gone
-- writes: t
DELETE FROM t USING gone WHERE t.id = gone.id;

-- case: create table as with data
-- reads: a
-- writes: b
CREATE TABLE b AS SELECT * FROM a WITH DATA;

-- case: materialized view
-- reads: facts
-- writes: mv
CREATE MATERIALIZED VIEW mv AS SELECT * FROM facts;

-- case: create unlogged table
-- reads:
-- writes: u
CREATE UNLOGGED TABLE u (id int);

-- case: truncate several
-- reads:
-- writes: a, b
TRUNCATE a, b;

-- case: set and transaction statements read nothing
-- reads: a
-- writes: b
BEGIN;
SET search_path TO public;
INSERT INTO b SELECT * FROM a;
COMMIT;

-- case: create index is neither
-- reads:
-- writes:
CREATE INDEX idx ON orders (id);

-- case: quoted mixed case
-- reads: Sales.Orders
-- writes:
SELECT * FROM "Sales"."Orders";

-- case: insert returning
-- reads: src
-- writes: dst
INSERT INTO dst SELECT * FROM src RETURNING id;

-- case: recursive cte inside insert
-- reads: tree
-- writes: closure
INSERT INTO closure WITH RECURSIVE r AS (SELECT id, parent FROM tree UNION ALL SELECT t.id, r.parent FROM tree t JOIN r ON t.parent = r.id) SELECT * FROM r;

-- case: alter table rename column writes the table
-- reads:
-- writes: t
ALTER TABLE t RENAME COLUMN a TO b;
