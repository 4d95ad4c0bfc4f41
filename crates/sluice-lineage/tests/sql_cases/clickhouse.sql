-- case: insert select clickhouse
-- reads: db.events
-- writes: db.daily
INSERT INTO db.daily SELECT toDate(ts) AS d, count() FROM db.events GROUP BY d;

-- case: final modifier
-- reads: db.t
-- writes:
SELECT * FROM db.t FINAL;
