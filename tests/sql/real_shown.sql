-- An expression typed REAL may yield an INTEGER (ifnull, coalesce, CASE
-- with an INTEGER and a REAL branch).  As a GROUP BY key or a DISTINCT
-- result, 2 and 2.0 are one value, and the row shows what SQLite shows
-- when every row of the group agrees: 2 for a group of 2s, 2.0 for a group
-- of 2.0s.  2^53 and 2^53 + 1 stay two groups.  (A group holding both 2 and
-- 2.0 shows whichever SQLite met last: only its count is read here.)  A
-- compound read as a view whose first column is a CAST AS REAL shows
-- another member's INTEGER as a REAL, even where that member's column is
-- typed REAL.  Each as a view maintained through changes and ad hoc.
CREATE TABLE t (a INTEGER, r REAL, k INTEGER);
CREATE VIEW v_group AS SELECT ifnull(a, r) AS x, COUNT(*) AS n FROM t GROUP BY ifnull(a, r);
CREATE VIEW v_case AS SELECT CASE WHEN k > 0 THEN a ELSE r END AS x, SUM(k) AS s FROM t GROUP BY 1 HAVING x >= 0;
CREATE VIEW v_dist AS SELECT DISTINCT coalesce(a, r) AS x, k > 0 AS pos FROM t;
CREATE VIEW v_const AS SELECT ifnull(0, 0.25) AS x FROM t GROUP BY ifnull(0, 0.25);
CREATE VIEW v_union AS SELECT CAST(k AS REAL) AS x FROM t WHERE k > 5 UNION ALL SELECT CASE WHEN k < 0 THEN 2.5 ELSE a END FROM t;
INSERT INTO t VALUES (2, NULL, 1), (2, NULL, 2), (NULL, 3.0, 3), (NULL, 3.0, -1), (NULL, 4.5, 0);
INSERT INTO t VALUES (9007199254740992, NULL, 4), (9007199254740993, NULL, 5);
SELECT x, typeof(x), n FROM v_group ORDER BY x, n;
SELECT x, typeof(x), s FROM v_case ORDER BY x, s;
SELECT x, typeof(x), pos FROM v_dist ORDER BY x, pos;
SELECT x, typeof(x) FROM v_const;
SELECT x, typeof(x) FROM v_union ORDER BY x;
SELECT ifnull(a, r) AS x, typeof(ifnull(a, r)), COUNT(*) FROM t GROUP BY ifnull(a, r) ORDER BY 1, 3;
SELECT DISTINCT coalesce(a, r), typeof(coalesce(a, r)) FROM t ORDER BY 1;
-- The group of 3.0s gains a 3 (mixed: count only), then loses its 3.0s.
INSERT INTO t VALUES (3, NULL, 7);
SELECT n FROM v_group WHERE x = 3;
DELETE FROM t WHERE r = 3.0;
SELECT x, typeof(x), n FROM v_group ORDER BY x, n;
SELECT x, typeof(x), pos FROM v_dist ORDER BY x, pos;
-- The group of 2s loses its 2s and gets a 2.0.
DELETE FROM t WHERE a = 2;
INSERT INTO t VALUES (NULL, 2.0, 8);
SELECT x, typeof(x), n FROM v_group ORDER BY x, n;
SELECT x, typeof(x), s FROM v_case ORDER BY x, s;
SELECT x, typeof(x), pos FROM v_dist ORDER BY x, pos;
SELECT x, typeof(x) FROM v_union ORDER BY x;
DELETE FROM t;
SELECT COUNT(*) FROM v_group;
SELECT COUNT(*) FROM v_dist;
SELECT COUNT(*) FROM v_const;
