-- case: brackets
-- reads: dbo.Orders
-- writes: dbo.Clean
INSERT INTO [dbo].[Clean] SELECT * FROM [dbo].[Orders];

-- case: select into
-- reads: dbo.src
-- writes: dbo.copy
SELECT * INTO dbo.copy FROM dbo.src;

-- case: declare and statements without semicolons
-- reads: dbo.a
-- writes: dbo.b
DECLARE @n INT
SET @n = 5
INSERT INTO dbo.b SELECT TOP 5 * FROM dbo.a

-- case: temp table hash is internal
-- reads: dbo.src
-- writes: dbo.dst
SELECT * INTO #tmp FROM dbo.src;
INSERT INTO dbo.dst SELECT * FROM #tmp;
DROP TABLE #tmp;

-- case: procedure body is analysed
-- reads: dbo.raw
-- writes: dbo.clean
CREATE PROCEDURE dbo.load_clean AS BEGIN INSERT INTO dbo.clean SELECT * FROM dbo.raw; END;

-- case: truncate mssql
-- reads:
-- writes: dbo.stage
TRUNCATE TABLE dbo.stage;

-- case: update with join
-- reads: dbo.src
-- writes: t
UPDATE t SET t.v = s.v FROM t JOIN dbo.src s ON t.id = s.id;

-- case: merge mssql
-- reads: dbo.stage
-- writes: dbo.dim
MERGE INTO dbo.dim AS t USING dbo.stage AS s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v);

-- case: if block with insert
-- reads: dbo.src
-- writes: dbo.dst
IF EXISTS (SELECT 1 FROM dbo.src) BEGIN INSERT INTO dbo.dst SELECT * FROM dbo.src; END;

-- case: go separates batches
-- reads: dbo.a
-- writes: dbo.b, dbo.c
INSERT INTO dbo.b SELECT * FROM dbo.a
GO
TRUNCATE TABLE dbo.c
GO
