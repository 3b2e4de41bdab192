-- Outer joins on residual conditions only (no key), on OR, self outer joins,
-- WHERE over a RIGHT join's padded side, aggregates over a LEFT join.
CREATE TABLE a(k INTEGER, n INTEGER);
CREATE TABLE b(k INTEGER, m INTEGER);
INSERT INTO a VALUES (1,5),(2,10),(NULL,1),(3,NULL);
INSERT INTO b VALUES (1,7),(2,3),(NULL,20),(5,NULL);
CREATE VIEW f1 AS SELECT a.k AS ak, n, b.k AS bk, m FROM a FULL JOIN b ON a.n < b.m;
CREATE VIEW f2 AS SELECT a.k AS ak, n, b.k AS bk, m FROM a LEFT JOIN b ON a.k = b.k OR a.n = b.m;
CREATE VIEW f3 AS SELECT x.k AS xk, y.k AS yk FROM a AS x LEFT JOIN a AS y ON x.k = y.k + 1;
CREATE VIEW f4 AS SELECT a.k AS ak, b.k AS bk FROM a RIGHT JOIN b ON a.k = b.k AND a.n > 4 WHERE b.m IS NOT NULL OR a.n IS NULL;
CREATE VIEW f5 AS SELECT a.k AS ak, count(b.k) AS c FROM a LEFT JOIN b ON b.k = a.k AND b.m > a.n GROUP BY a.k;
SELECT * FROM f1 ORDER BY 1,2,3,4; SELECT '-';
SELECT * FROM f2 ORDER BY 1,2,3,4; SELECT '-';
SELECT * FROM f3 ORDER BY 1,2; SELECT '-';
SELECT * FROM f4 ORDER BY 1,2; SELECT '-';
SELECT * FROM f5 ORDER BY 1,2; SELECT '-';
INSERT INTO a VALUES (5, 0),(4,4);
UPDATE b SET m = 1 WHERE k = 1;
DELETE FROM a WHERE k = 2;
SELECT * FROM f1 ORDER BY 1,2,3,4; SELECT '-';
SELECT * FROM f2 ORDER BY 1,2,3,4; SELECT '-';
SELECT * FROM f3 ORDER BY 1,2; SELECT '-';
SELECT * FROM f4 ORDER BY 1,2; SELECT '-';
SELECT * FROM f5 ORDER BY 1,2; SELECT '-';
