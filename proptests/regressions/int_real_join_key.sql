-- fixed: an INTEGER = REAL join key is compared as two REALs
-- The planner casts both sides of an INTEGER = REAL key to REAL, so
-- 9007199254740993 (2^53 + 1, which no double holds) meets
-- 9007199254740992.0.  SQLite compares an integer with a real exactly: no
-- row.  A filter (not a join key) compares exactly in ivm too.  Found by
-- prop_views (construct int-real-key, left out by PROP_AVOID until fixed).
CREATE TABLE t1(a DOUBLE);
CREATE TABLE t2(a INTEGER);
CREATE VIEW v7 AS SELECT x1.a AS i, x2.a AS r FROM t2 x1, t1 x2 WHERE x2.a = x1.a;
INSERT INTO t2 VALUES (9007199254740993);
INSERT INTO t1 VALUES (9007199254740992.0);
SELECT * FROM v7 ORDER BY 1, 2;
-- The same with a REAL-typed CASE that yields an INTEGER as the key: 2 and
-- 2.0 must meet (both sides go through numkey).
CREATE TABLE t3(a INTEGER, r REAL);
CREATE TABLE u3(x REAL);
CREATE VIEW v8 AS SELECT u3.x AS x FROM t3, u3 WHERE CASE WHEN t3.a > 0 THEN t3.a ELSE t3.r END = u3.x;
INSERT INTO t3 VALUES (2, 0.5), (0, 2.0), (NULL, 2.0);
INSERT INTO u3 VALUES (2.0);
SELECT * FROM v8 ORDER BY 1;
