-- case: copy into table from stage
-- reads: @raw_stage/orders/
-- writes: orders
COPY INTO orders FROM @raw_stage/orders/ FILE_FORMAT = (TYPE = CSV);

-- case: copy into location from table
-- reads: orders
-- writes: @export_stage/orders/
COPY INTO @export_stage/orders/ FROM orders;

-- case: clone
-- reads: prod.orders
-- writes: dev.orders
CREATE TABLE dev.orders CLONE prod.orders;

-- case: swap with
-- reads:
-- writes: orders, orders_staging
-- self_reads: orders, orders_staging
ALTER TABLE orders SWAP WITH orders_staging;

-- case: create or replace table as
-- reads: raw.events
-- writes: events
CREATE OR REPLACE TABLE events AS SELECT * FROM raw.events;

-- case: transient table
-- reads: a
-- writes: t
CREATE TRANSIENT TABLE t AS SELECT * FROM a;

-- case: merge snowflake
-- reads: updates
-- writes: target
MERGE INTO target USING updates ON target.id = updates.id WHEN MATCHED THEN UPDATE SET target.v = updates.v;

-- case: qualify
-- reads: events
-- writes:
SELECT * FROM events QUALIFY row_number() OVER (PARTITION BY id ORDER BY ts DESC) = 1;

-- case: flatten lateral
-- reads: raw
-- writes:
SELECT f.value FROM raw, LATERAL FLATTEN(input => raw.payload) f;

-- case: insert overwrite
-- reads: src
-- writes: t
INSERT OVERWRITE INTO t SELECT * FROM src;

-- case: use and set are neither
-- reads: a
-- writes: b
USE DATABASE analytics;
INSERT INTO b SELECT * FROM a;

-- case: temporary table snowflake
-- reads: src
-- writes: dst
CREATE TEMPORARY TABLE tmp AS SELECT * FROM src;
INSERT INTO dst SELECT * FROM tmp;

-- case: alter rename snowflake
-- reads: old_t
-- writes: new_t
ALTER TABLE old_t RENAME TO new_t;

-- case: create table like snowflake
-- reads: src
-- writes: dst
CREATE TABLE dst LIKE src;

-- case: secure view
-- reads: facts
-- writes: v
CREATE SECURE VIEW v AS SELECT * FROM facts;

-- case: copy into table from an s3 url
-- reads: s3://bucket/in/
-- writes: orders
COPY INTO orders FROM 's3://bucket/in/' FILE_FORMAT = (TYPE = PARQUET);
