-- fixed: a GROUP BY key typed REAL that yields only INTEGERs showed a REAL
-- ifnull(0, 0.25) is typed REAL but is the INTEGER 0; ivm grouped by it made
-- REAL and showed 0.0 where SQLite shows 0 (and 2^53 and 2^53 + 1, made
-- REAL, fell into one group).  Now such a key groups through numkey and
-- shows a REAL only when its group holds one.  Found by prop_views (seed
-- 1795301643, case 71, construct int-as-real).
CREATE TABLE t2(c INT, r REAL);
CREATE VIEW v2 AS SELECT ifnull(0, 0.25) AS c0 FROM t2 x1 GROUP BY ifnull(0, 0.25);
CREATE VIEW v3 AS SELECT ifnull(c, r) AS c0, COUNT(*) AS n FROM t2 GROUP BY ifnull(c, r);
CREATE VIEW v4 AS SELECT DISTINCT ifnull(c, r) AS c0 FROM t2;
INSERT INTO t2 VALUES (NULL, NULL);
INSERT INTO t2 VALUES (9007199254740992, NULL), (9007199254740993, NULL), (2, NULL), (NULL, 2.5);
INSERT INTO t2 VALUES (NULL, 4.0), (5, 4.5);
DELETE FROM t2 WHERE c = 2;
SELECT * FROM v2 ORDER BY 1;
