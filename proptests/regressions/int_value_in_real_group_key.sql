-- fixed: a REAL-typed GROUP BY expression that yields an INTEGER split a group
-- CASE (and coalesce, ifnull, nullif) with an INTEGER and a REAL branch is
-- typed REAL by the planner, but its value stays an INTEGER when the INTEGER
-- branch is taken.  As a join key or a GROUP BY key the INTEGER 2 is then a
-- different key from the REAL 2.0. As a join key this is fixed (numkey, see
-- int_real_join_key.sql); as a GROUP BY key, v2 split one group of
-- 3 rows into groups of 1 and 2.  Found by prop_views (construct
-- int-as-real).  Fixed: a GROUP BY key typed REAL is made REAL (real_key in
-- planner/bind.c), so 2 and 2.0 are one group.
CREATE TABLE t(a INTEGER, r REAL);
CREATE VIEW v2 AS SELECT COUNT(*) AS n FROM t GROUP BY CASE WHEN a > 0 THEN a ELSE r END;
INSERT INTO t VALUES (2, 0.5), (0, 2.0), (NULL, 2.0);
SELECT * FROM v2 ORDER BY 1;
