-- case: unload query text
-- reads: sales
-- writes: s3://bucket/unload/
UNLOAD ('SELECT * FROM sales WHERE ds = ''2026-11-30''') TO 's3://bucket/unload/' IAM_ROLE 'arn:aws:iam::1:role/r';

-- case: copy from s3
-- reads: s3://bucket/in/orders
-- writes: orders
COPY orders FROM 's3://bucket/in/orders' IAM_ROLE 'arn:aws:iam::1:role/r' CSV;

-- case: ctas redshift
-- reads: a
-- writes: b
CREATE TABLE b AS SELECT * FROM a;

-- case: delete then insert
-- reads: stage
-- writes: target
DELETE FROM target USING stage WHERE target.id = stage.id;
INSERT INTO target SELECT * FROM stage;
