-- fixed (in the tester): SQLite 3.40 refused to read a view that joins,
-- with ON, a compound view whose member has a RIGHT or FULL JOIN ("ON clause
-- references tables to its right"), a legal query that ivm maintains.  Its
-- query flattener misfires there; the tester now prepares such a statement
-- again with the flattener off (the scoping check still runs), so SQLite
-- computes the view and it is compared like any other.  Found by prop_views
-- (seed 1795299319, case 150).
CREATE TABLE t1(a INTEGER);
CREATE TABLE t3(a INT, b TEXT);
CREATE VIEW v1 AS SELECT x2.a AS c0 FROM t3 x1 RIGHT JOIN t3 x2 ON x2.a = x1.a AND x1.b <> 'b' UNION ALL SELECT a FROM t1;
CREATE VIEW v2 AS SELECT x1.c0, x3.b FROM v1 x1 JOIN t3 x3 ON x1.c0 = x3.a;
CREATE VIEW v3 AS SELECT x2.c0 FROM v1 x1 FULL JOIN v1 x2 ON x1.c0 = x2.c0 JOIN t1 x3 ON x3.a = x2.c0;
INSERT INTO t3 VALUES (1, 'a'), (2, 'b'), (3, NULL);
INSERT INTO t1 VALUES (2), (4), (NULL);
INSERT INTO t1 SELECT c0 FROM v2;
DELETE FROM t3 WHERE a = 1;
UPDATE t3 SET b = 'c' WHERE a = 2;
SELECT * FROM v2 ORDER BY 1, 2;
SELECT * FROM v3 ORDER BY 1;
