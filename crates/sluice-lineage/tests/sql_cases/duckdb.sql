-- case: create or replace table from read_parquet function
-- reads:
-- writes: t
CREATE OR REPLACE TABLE t AS SELECT * FROM read_parquet('x.parquet');

-- case: copy to parquet
-- reads: t
-- writes: out.parquet
COPY t TO 'out.parquet' (FORMAT parquet);

-- case: insert or replace duckdb
-- reads: s
-- writes: t
INSERT OR REPLACE INTO t SELECT * FROM s;

-- case: create view duckdb
-- reads: t
-- writes: v
CREATE VIEW v AS SELECT * FROM t;

-- case: copy from csv duckdb
-- reads: in.csv
-- writes: t
COPY t FROM 'in.csv' (HEADER);
