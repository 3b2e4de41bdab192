-- SQLite's result-column aliases outside the result list: an unqualified
-- name that no FROM column has but a result column has AS its name stands
-- for that column's expression in WHERE, GROUP BY, HAVING and ORDER BY
-- (also inside larger expressions); a FROM column of the same name wins;
-- aliases are not visible in the result list itself; an alias of an
-- aggregate in WHERE is a misuse.  Ad-hoc and in views.
CREATE TABLE t (a INTEGER, b TEXT);
INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'x'), (4, 'z');
SELECT a + 1 AS x FROM t ORDER BY -x;
SELECT a * 2 AS x FROM t WHERE x > 4 ORDER BY x;
SELECT b AS k, count(*) FROM t GROUP BY k ORDER BY k;
SELECT b, count(*) AS n FROM t GROUP BY b HAVING n > 1;
SELECT b AS a FROM t WHERE a > 2 ORDER BY a;
SELECT a AS x FROM t GROUP BY x HAVING x % 2 = 0 ORDER BY x + 0 DESC;
SELECT a + 1 AS x, x + 1 AS y FROM t;
SELECT count(*) AS n FROM t WHERE n > 1;
CREATE VIEW v AS SELECT a * 10 AS x, upper(b) AS k FROM t WHERE x > 10 AND k <> 'Z';
CREATE VIEW w AS SELECT b AS k, sum(a) AS s FROM t GROUP BY k HAVING s > 2;
SELECT * FROM v ORDER BY x;
SELECT * FROM w ORDER BY k;
INSERT INTO t VALUES (5, 'y'), (6, 'z');
DELETE FROM t WHERE a = 3;
SELECT * FROM v ORDER BY x;
SELECT * FROM w ORDER BY k;
