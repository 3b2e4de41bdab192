-- Uncorrelated scalar subqueries in an aggregate query's results and HAVING:
-- joined with the groups, above the aggregate.
CREATE TABLE t(k INTEGER, v TEXT, n INTEGER);
CREATE TABLE s(k INTEGER, w TEXT, m INTEGER);
INSERT INTO t VALUES (1,'a',1),(1,'b',2),(2,'c',3),(NULL,'d',4);
INSERT INTO s VALUES (1,'x',5),(2,'y',1);
CREATE VIEW g1 AS SELECT k, count(*) AS c, (SELECT max(m) FROM s) AS mx, sum(n) * (SELECT count(*) FROM s) AS sc FROM t GROUP BY k;
CREATE VIEW g2 AS SELECT k, sum(n) AS sn FROM t GROUP BY k HAVING sum(n) > (SELECT min(m) FROM s);
CREATE VIEW g3 AS SELECT count(*) AS c, coalesce((SELECT avg(m) FROM s WHERE m > 100), -1) AS a FROM t;
CREATE VIEW g4 AS SELECT (SELECT 1) AS one, k FROM t GROUP BY k, (SELECT 1);
SELECT * FROM g1 ORDER BY 1; SELECT '-';
SELECT * FROM g2 ORDER BY 1; SELECT '-';
SELECT * FROM g3 ORDER BY 1; SELECT '-';
SELECT * FROM g4 ORDER BY 1, 2; SELECT '-';
INSERT INTO s VALUES (3,'z',0),(4,'q',200);
DELETE FROM t WHERE v = 'a';
SELECT * FROM g1 ORDER BY 1; SELECT '-';
SELECT * FROM g2 ORDER BY 1; SELECT '-';
SELECT * FROM g3 ORDER BY 1; SELECT '-';
DELETE FROM s;
DELETE FROM t;
SELECT * FROM g1 ORDER BY 1; SELECT '-';
SELECT * FROM g3 ORDER BY 1; SELECT '-';
SELECT k, count(*), (SELECT count(*) FROM s) FROM t GROUP BY k;
