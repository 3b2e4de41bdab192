-- A view's or subquery's column has the affinity of the expression it is:
-- a column keeps its table's (INTEGER: numeric, TEXT: text), CAST gives its
-- target's, and anything computed (COUNT(*), a + 0, +a) has none, so a
-- comparison with it converts nothing ('0' < c is false for c = 1: text
-- sorts after numbers).  A compound's columns have its first member's.
.nullvalue NULL
CREATE TABLE t (a INTEGER, b TEXT, r REAL);
INSERT INTO t VALUES (3, '3', 1.5), (10, '10', 2.0), (3, '7', NULL);
CREATE VIEW v AS SELECT a, count(*) AS c, a + 0 AS e, CAST(a AS TEXT) AS f, b, +a AS p, (a) AS q, max(r) AS m FROM t GROUP BY a, b;
SELECT a, b, '0' < c, '0' < a, '0' < e, 3 = f, 3 = b, p = '3', q = '3', m = '2.0' FROM v ORDER BY a, b;
CREATE VIEW v_cmp AS SELECT a, c FROM v WHERE c > '1' OR e = '10' OR f = 10;
SELECT * FROM v_cmp ORDER BY a, c;
CREATE VIEW v_sub AS SELECT x.a, x.c FROM (SELECT a, count(*) AS c FROM t GROUP BY a) AS x WHERE x.c < '5' AND x.a = '10';
SELECT * FROM v_sub ORDER BY a;
CREATE VIEW v_union AS SELECT a FROM t UNION SELECT b FROM t;
SELECT a, a = '3', a = '10' FROM v_union ORDER BY a;
CREATE VIEW v_star AS SELECT * FROM v WHERE b = 3;
SELECT a, b FROM v_star ORDER BY a, b;
CREATE VIEW v_join AS SELECT v.a, t.b FROM v JOIN t ON v.e = t.b;
SELECT * FROM v_join ORDER BY a, b;
CREATE VIEW v_in AS SELECT a FROM t WHERE b IN (SELECT c FROM v);
SELECT * FROM v_in ORDER BY a;
INSERT INTO t VALUES (10, '2', 4.0), (7, '7', 2.0);
SELECT a, b, '0' < c, '0' < e, p = '3', m = '2.0' FROM v ORDER BY a, b;
SELECT * FROM v_cmp ORDER BY a, c;
SELECT * FROM v_sub ORDER BY a;
SELECT * FROM v_join ORDER BY a, b;
SELECT * FROM v_in ORDER BY a;
-- A compound read as a relation whose column has REAL affinity (its first
-- member's) reads the other members' INTEGERs as REALs; a SELECT alone,
-- or a column without affinity, does not.
CREATE TABLE n (i INTEGER, d DOUBLE, s TEXT);
INSERT INTO n VALUES (3, 2.0, '4'), (5, 2.5, 'x');
CREATE VIEW w AS SELECT d FROM n UNION ALL SELECT i FROM n UNION ALL SELECT s FROM n;
SELECT d, typeof(d) FROM w ORDER BY 2, 1;
CREATE VIEW w_cast AS SELECT CAST(i AS REAL) AS c, i + 0 AS e FROM n UNION ALL SELECT i, i FROM n;
SELECT c, typeof(c), e, typeof(e) FROM w_cast ORDER BY 1, 3;
CREATE VIEW w_sum AS SELECT d, count(*) AS k FROM w GROUP BY d;
SELECT * FROM w_sum ORDER BY 1;
SELECT d, typeof(d) FROM (SELECT d FROM n UNION ALL SELECT i FROM n) ORDER BY 1;
SELECT d, typeof(d) FROM n UNION ALL SELECT i, typeof(i) FROM n ORDER BY 1;
INSERT INTO n VALUES (2, 7.5, '2');
SELECT d, typeof(d) FROM w ORDER BY 2, 1;
SELECT * FROM w_sum ORDER BY 1;
