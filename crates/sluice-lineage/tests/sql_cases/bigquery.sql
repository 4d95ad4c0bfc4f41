-- case: backquoted project dataset table
-- reads: proj.ds.src
-- writes: proj.ds.dst
INSERT INTO `proj.ds.dst` SELECT * FROM `proj.ds.src`;

-- case: create or replace table as
-- reads: ds.events
-- writes: ds.daily
CREATE OR REPLACE TABLE ds.daily AS SELECT DATE(ts) AS d, COUNT(*) AS n FROM ds.events GROUP BY d;

-- case: scripting with declare and set
-- reads: ds.src
-- writes: ds.dst
DECLARE cutoff DATE DEFAULT CURRENT_DATE();
SET cutoff = DATE_SUB(cutoff, INTERVAL 1 DAY);
INSERT INTO ds.dst SELECT * FROM ds.src WHERE d = cutoff;

-- case: temp table in a script
-- reads: ds.a
-- writes: ds.b
CREATE TEMP TABLE t AS SELECT * FROM ds.a;
INSERT INTO ds.b SELECT * FROM t;

-- case: unnest is not a table
-- reads: ds.orders
-- writes:
SELECT o.id, item FROM ds.orders o, UNNEST(o.items) AS item;

-- case: merge bigquery
-- reads: ds.stage
-- writes: ds.dim
MERGE ds.dim T USING ds.stage S ON T.id = S.id WHEN NOT MATCHED THEN INSERT ROW;

-- case: delete where true
-- reads:
-- writes: ds.t
DELETE FROM ds.t WHERE true;

-- case: except columns
-- reads: ds.t
-- writes:
SELECT * EXCEPT (secret) FROM ds.t;

-- case: export data
-- reads: ds.t
-- writes: gs://bucket/export/*.csv
EXPORT DATA OPTIONS (uri = 'gs://bucket/export/*.csv', format = 'CSV') AS SELECT * FROM ds.t;

-- case: create view bigquery
-- reads: ds.a
-- writes: ds.v
CREATE VIEW ds.v AS SELECT * FROM ds.a;

-- case: truncate bigquery
-- reads:
-- writes: ds.t
TRUNCATE TABLE ds.t;
