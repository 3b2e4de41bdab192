-- fixed: FULL JOIN dropped a right row of NULLs when a left row of NULLs was unmatched
-- The right side's unmatched rows were computed from the inner join plus
-- the left side's padded rows; a left row padded with NULLs then matched a
-- right row whose key is NULL (the antijoin compares keys as equal when
-- both are NULL), and that right row was lost.  Found by prop_views
-- (seed 1795299319, case 189).
CREATE TABLE t1(c INTEGER);
CREATE TABLE t3(c INTEGER);
INSERT INTO t1 VALUES (NULL);
INSERT INTO t3 VALUES (NULL);
CREATE VIEW v3 AS SELECT 0.5 AS c0 FROM t3 x1;
CREATE VIEW v4 AS SELECT ' 7' AS c1 FROM t1 x1 FULL JOIN v3 x2 ON 'a b';
SELECT * FROM v4 ORDER BY 1;
