-- case: backquotes mysql
-- reads: shop.orders
-- writes: shop.daily
INSERT INTO `shop`.`daily` SELECT * FROM `shop`.`orders`;

-- case: rename table
-- reads: a
-- writes: b
RENAME TABLE a TO b;

-- case: replace into
-- reads: src
-- writes: t
REPLACE INTO t SELECT * FROM src;

-- case: multi table delete
-- reads: b
-- writes: a
DELETE a FROM a JOIN b ON a.id = b.id;

-- case: create table like mysql
-- reads: s
-- writes: t
CREATE TABLE t LIKE s;

-- case: insert ignore
-- reads: s
-- writes: t
INSERT IGNORE INTO t SELECT * FROM s;

-- case: temporary table mysql is internal
-- reads: s
-- writes: t
CREATE TEMPORARY TABLE tmp AS SELECT * FROM s;
INSERT INTO t SELECT * FROM tmp;
DROP TEMPORARY TABLE tmp;
