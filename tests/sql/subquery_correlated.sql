-- Correlated scalar subqueries with aggregates, decorrelated into GROUP BY
-- the correlation keys and a LEFT join: COUNT and TOTAL over no rows are 0,
-- the others NULL; maintained as both sides change.
CREATE TABLE t(k INTEGER, v TEXT, n INTEGER);
CREATE TABLE s(k INTEGER, w TEXT, m INTEGER);
INSERT INTO t VALUES (1,'t1',10),(2,'t2',20),(NULL,'tn',30),(3,'t3',40),(3,'t3',40);
INSERT INTO s VALUES (1,'s1',5),(1,'s1b',15),(4,'s4',50),(NULL,'sn',1);
CREATE VIEW c1 AS SELECT v, (SELECT count(*) FROM s WHERE s.k = t.k) AS cnt FROM t;
CREATE VIEW c2 AS SELECT v, (SELECT sum(m) FROM s WHERE s.k = t.k AND m > 1) AS sm, (SELECT total(m) FROM s WHERE t.k = s.k) AS tt FROM t;
CREATE VIEW c3 AS SELECT v FROM t WHERE n > (SELECT count(*) * 5 + 1 FROM s WHERE s.k = t.k);
CREATE VIEW c4 AS SELECT v, (SELECT count(m) + 1 FROM s WHERE s.k = t.k + 1) AS c FROM t;
CREATE VIEW c5 AS SELECT v, (SELECT max(w) FROM s AS x WHERE x.k = t.k) AS mw, (SELECT count(*) FROM s) AS allc FROM t;
CREATE VIEW c6 AS SELECT k, (SELECT group_concat(w) FROM s WHERE s.k = t.k) AS g FROM t WHERE (SELECT count(*) FROM s WHERE s.k = t.k) = 0;
SELECT * FROM c1 ORDER BY 1,2; SELECT '-';
SELECT * FROM c2 ORDER BY 1,2,3; SELECT '-';
SELECT * FROM c3 ORDER BY 1; SELECT '-';
SELECT * FROM c4 ORDER BY 1,2; SELECT '-';
SELECT * FROM c5 ORDER BY 1,2,3; SELECT '-';
SELECT * FROM c6 ORDER BY 1,2; SELECT '=';
INSERT INTO s VALUES (2,'s2',7),(3,'s3',9),(3,'s3b',NULL);
DELETE FROM s WHERE w = 's1';
UPDATE t SET k = 4 WHERE v = 't2';
INSERT INTO t VALUES (NULL,'tn2',0),(1,'t1b',0);
SELECT * FROM c1 ORDER BY 1,2; SELECT '-';
SELECT * FROM c2 ORDER BY 1,2,3; SELECT '-';
SELECT * FROM c3 ORDER BY 1; SELECT '-';
SELECT * FROM c4 ORDER BY 1,2; SELECT '-';
SELECT * FROM c5 ORDER BY 1,2,3; SELECT '-';
SELECT * FROM c6 ORDER BY 1,2; SELECT '=';
SELECT v, (SELECT avg(m) FROM s WHERE s.k = t.k) FROM t ORDER BY 1;
DELETE FROM s;
SELECT * FROM c1 ORDER BY 1,2; SELECT '-';
SELECT * FROM c2 ORDER BY 1,2,3; SELECT '-';
SELECT * FROM c3 ORDER BY 1; SELECT '-';
SELECT * FROM c5 ORDER BY 1,2,3; SELECT '-';
SELECT * FROM c6 ORDER BY 1,2; SELECT '=';
