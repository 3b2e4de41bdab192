-- An expression typed REAL may yield an INTEGER (ifnull, coalesce, CASE
-- with an INTEGER and a REAL branch).  As a GROUP BY or DISTINCT key, 2 and
-- 2.0 are one value, as in SQLite.  (Which of the two a group shows depends
-- on SQLite's scan order; ivm shows the REAL, so only counts are compared.)
CREATE TABLE t (a DOUBLE, b INTEGER);
INSERT INTO t VALUES (NULL, 1), (1.0, 2), (2.5, 3), (NULL, 2), (2.0, 4);
CREATE VIEW v_dist AS SELECT DISTINCT ifnull(a, b) AS x FROM t;
CREATE VIEW v_group AS SELECT COUNT(*) AS n FROM t GROUP BY CASE WHEN a IS NULL THEN b ELSE a END;
CREATE VIEW v_on AS SELECT x FROM v_dist;
CREATE VIEW v_regroup AS SELECT COUNT(*) AS n FROM v_on GROUP BY x;
SELECT COUNT(*) FROM v_dist;
SELECT n FROM v_group ORDER BY n;
SELECT COUNT(*) FROM (SELECT DISTINCT ifnull(a, b) FROM t);
SELECT n FROM v_regroup ORDER BY n;
INSERT INTO t VALUES (3, 9), (NULL, 3), (3.0, NULL);
DELETE FROM t WHERE b = 1;
SELECT COUNT(*) FROM v_dist;
SELECT n FROM v_group ORDER BY n;
SELECT n FROM v_regroup ORDER BY n;
