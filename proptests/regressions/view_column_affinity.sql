-- fixed: a view's computed column compared like a table column of its class
-- SQLite gives a view's column the affinity of the expression it is: none
-- for COUNT(*), so '0' < c compares text with a number (false: text sorts
-- after numbers); ivm gave c INTEGER affinity and compared 0 < c (true).  A
-- UNION of an INTEGER and a TEXT column has the INTEGER column's affinity,
-- and the comparison converts both sides: the text '3' equals '3'.  Found
-- by prop_views (seed 1795288677, case 704).
CREATE TABLE t(a INTEGER, b TEXT);
CREATE VIEW v AS SELECT a, COUNT(*) AS c FROM t GROUP BY a;
CREATE VIEW w AS SELECT a FROM v WHERE '0' < c;
CREATE VIEW u AS SELECT a FROM t UNION SELECT b FROM t;
CREATE VIEW x AS SELECT a FROM u WHERE a = '3';
INSERT INTO t VALUES (3, '3'), (4, 'x');
SELECT * FROM w ORDER BY 1;
SELECT * FROM x ORDER BY 1;
DELETE FROM t WHERE a = 4;
SELECT * FROM w ORDER BY 1;
SELECT * FROM x ORDER BY 1;
