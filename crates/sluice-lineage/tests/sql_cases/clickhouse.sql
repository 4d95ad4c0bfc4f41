-- case: insert select clickhouse
-- reads: db.events
-- writes: db.daily
INSERT INTO db.daily SELECT toDate(ts) AS d, count() FROM db.events GROUP BY d;

-- case: final modifier
-- reads: db.t
-- writes:
SELECT * FROM db.t FINAL;

-- case: insert from a join clickhouse
-- reads: db.a, db.b
-- writes: db.c
INSERT INTO db.c SELECT * FROM db.a AS a INNER JOIN db.b AS b ON a.k = b.k;
