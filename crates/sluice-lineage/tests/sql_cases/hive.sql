-- case: insert overwrite table partition
-- reads: raw_events
-- writes: events
INSERT OVERWRITE TABLE events PARTITION (ds = '2026-11-30') SELECT id, kind FROM raw_events WHERE ds = '2026-11-30';

-- case: insert overwrite reading itself keeps the self read
-- reads: dim
-- writes: t
-- self_reads: t
INSERT OVERWRITE TABLE t SELECT * FROM t JOIN dim ON t.k = dim.k;

-- case: create table stored as
-- reads:
-- writes: logs
CREATE TABLE logs (id INT, msg STRING) PARTITIONED BY (ds STRING) STORED AS PARQUET;

-- case: external table over a location
-- reads: s3://lake/raw/clicks/
-- writes: clicks
CREATE EXTERNAL TABLE clicks (id INT) STORED AS PARQUET LOCATION 's3://lake/raw/clicks/';

-- case: insert overwrite directory
-- reads: events
-- writes: /exports/events
INSERT OVERWRITE DIRECTORY '/exports/events' SELECT * FROM events;

-- case: load data inpath
-- reads: /landing/orders.csv
-- writes: orders
LOAD DATA INPATH '/landing/orders.csv' INTO TABLE orders;

-- case: ctas hive
-- reads: a
-- writes: b
CREATE TABLE b STORED AS ORC AS SELECT * FROM a;

-- case: msck is neither
-- reads:
-- writes:
MSCK REPAIR TABLE events;

-- case: insert into partition
-- reads: src
-- writes: t
INSERT INTO TABLE t PARTITION (ds = '2026-11-30') SELECT id FROM src;

-- case: alter table add partition writes it
-- reads:
-- writes: t
ALTER TABLE t ADD PARTITION (ds = '2026-11-30');
