-- case: spark reads a parquet path, not a table
-- reads: s3://lake/events/
-- writes: events_clean
CREATE TABLE events_clean AS SELECT * FROM parquet.`s3://lake/events/`;

-- case: spark delta path join
-- reads: /mnt/dim, /mnt/facts
-- writes:
SELECT * FROM delta.`/mnt/facts` f JOIN delta.`/mnt/dim` d ON f.k = d.k;

-- case: using parquet
-- reads: src
-- writes: t
CREATE TABLE t USING parquet AS SELECT * FROM src;

-- case: using delta partitioned by
-- reads:
-- writes: t
CREATE TABLE t (id INT, ds STRING) USING delta PARTITIONED BY (ds);

-- case: cache is neither
-- reads:
-- writes:
CACHE TABLE events;

-- case: uncache is neither
-- reads:
-- writes:
UNCACHE TABLE events;

-- case: insert overwrite partition databricks
-- reads: src
-- writes: t
INSERT OVERWRITE t PARTITION (ds = '2026-11-30') SELECT id FROM src;

-- case: merge delta
-- reads: updates
-- writes: target
MERGE INTO target t USING updates u ON t.id = u.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;

-- case: optimize is neither
-- reads:
-- writes:
OPTIMIZE events;

-- case: backquoted names
-- reads: db.src
-- writes: db.dst
INSERT INTO `db`.`dst` SELECT * FROM `db`.`src`;

-- case: temporary view consumed in the script
-- reads: raw
-- writes: clean
CREATE OR REPLACE TEMPORARY VIEW v AS SELECT * FROM raw;
INSERT INTO clean SELECT * FROM v;

-- case: insert into from a json path
-- reads: /landing/events/
-- writes: events
INSERT INTO events SELECT * FROM json.`/landing/events/`;
