-- fixed: a compound view whose first column is a CAST AS REAL showed another
-- member's INTEGER as an INTEGER when that member's column is typed REAL
-- (CASE WHEN ... THEN 2.0 ELSE 0 END yields the INTEGER 0); SQLite reads it
-- through the column's REAL affinity as 0.0.  Only columns of other classes
-- got the conversion.  Found by prop_views (seed 1795301643, case 54,
-- construct int-as-real).
CREATE TABLE t1(c INTEGER);
CREATE TABLE t2(c INT);
INSERT INTO t2 VALUES (NULL);
CREATE VIEW v5 AS SELECT CAST('a' AS REAL) AS c1 FROM t1 x1 GROUP BY NULL, CAST('a' AS REAL) UNION ALL SELECT CASE WHEN 'a' THEN 2.0 WHEN NULL THEN 1.5 ELSE 0 END AS c1 FROM t2 x2;
INSERT INTO t2 VALUES (3), (NULL);
INSERT INTO t1 VALUES (1);
SELECT * FROM v5 ORDER BY 1;
