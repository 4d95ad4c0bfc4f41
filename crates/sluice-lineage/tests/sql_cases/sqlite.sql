-- case: insert or ignore
-- reads: s
-- writes: t
INSERT OR IGNORE INTO t SELECT * FROM s;

-- case: create temp view is internal when consumed
-- reads: s
-- writes: t
CREATE TEMP VIEW v AS SELECT * FROM s;
INSERT INTO t SELECT * FROM v;

-- case: replace into sqlite
-- reads: s
-- writes: t
REPLACE INTO t SELECT * FROM s;

-- case: create table if not exists sqlite
-- reads: s
-- writes: t
CREATE TABLE IF NOT EXISTS t AS SELECT * FROM s;
