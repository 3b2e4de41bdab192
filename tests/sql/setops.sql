-- Compound SELECTs (UNION, UNION ALL, INTERSECT, EXCEPT), subqueries in
-- FROM and WITH, in views maintained through inserts, deletes and updates
-- and in ad-hoc queries, checked against sqlite3.  NULLs are equal for
-- duplicate elimination; result names come from the first SELECT; chains
-- run left to right.
CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT);
CREATE TABLE u (x INTEGER, y TEXT);
CREATE TABLE r (k INTEGER PRIMARY KEY, v REAL);
INSERT INTO t (a, b) VALUES (1, 'a'), (2, 'b'), (2, 'b'), (NULL, 'n'), (3, NULL);
INSERT INTO u VALUES (2, 'b'), (3, NULL), (4, 'd'), (NULL, 'n'), (4, 'd');
INSERT INTO r VALUES (1, 0.5), (2, 2.0), (3, NULL);
CREATE VIEW v_union AS SELECT a, b FROM t UNION SELECT x, y FROM u;
CREATE VIEW v_all AS SELECT a, b FROM t UNION ALL SELECT x, y FROM u;
CREATE VIEW v_inter AS SELECT a, b FROM t INTERSECT SELECT x, y FROM u;
CREATE VIEW v_except AS SELECT a, b FROM t EXCEPT SELECT x, y FROM u;
CREATE VIEW v_except2 AS SELECT x, y FROM u EXCEPT SELECT a, b FROM t;
-- Left to right: (t EXCEPT u) UNION (rows of r as text) INTERSECT t.
CREATE VIEW v_chain AS SELECT a, b FROM t EXCEPT SELECT x, y FROM u
    UNION SELECT k, CAST(v AS TEXT) FROM r INTERSECT SELECT a, b FROM t;
-- Members with their own WHERE, DISTINCT and aggregates; ORDER BY in a
-- view is ignored.
CREATE VIEW v_members AS SELECT DISTINCT a AS n FROM t WHERE a > 1
    UNION ALL SELECT count(*) FROM u UNION ALL SELECT max(k) FROM r ORDER BY 1;
SELECT 'union'; SELECT * FROM v_union ORDER BY 1, 2;
SELECT 'all'; SELECT * FROM v_all ORDER BY 1, 2;
SELECT 'inter'; SELECT * FROM v_inter ORDER BY 1, 2;
SELECT 'except'; SELECT * FROM v_except ORDER BY 1, 2;
SELECT 'except2'; SELECT * FROM v_except2 ORDER BY 1, 2;
SELECT 'chain'; SELECT * FROM v_chain ORDER BY 1, 2;
SELECT 'members'; SELECT * FROM v_members ORDER BY 1;
-- Changes after the views exist: a duplicate goes (still present once),
-- the last copy goes, a row moves between sides, NULL rows come and go.
DELETE FROM t WHERE id = 3;
DELETE FROM u WHERE x = 3;
UPDATE u SET y = 'a' WHERE x = 4;
INSERT INTO u VALUES (1, 'a');
DELETE FROM t WHERE a IS NULL;
INSERT INTO t (a, b) VALUES (NULL, NULL), (5, 'e');
INSERT INTO u VALUES (NULL, NULL);
UPDATE r SET v = 5.0 WHERE k = 3;
SELECT 'union'; SELECT * FROM v_union ORDER BY 1, 2;
SELECT 'all'; SELECT * FROM v_all ORDER BY 1, 2;
SELECT 'inter'; SELECT * FROM v_inter ORDER BY 1, 2;
SELECT 'except'; SELECT * FROM v_except ORDER BY 1, 2;
SELECT 'except2'; SELECT * FROM v_except2 ORDER BY 1, 2;
SELECT 'chain'; SELECT * FROM v_chain ORDER BY 1, 2;
SELECT 'members'; SELECT * FROM v_members ORDER BY 1;
-- A transaction that empties one side, then refills it.
BEGIN;
DELETE FROM u;
SELECT 'inter empty'; SELECT * FROM v_inter ORDER BY 1, 2;
SELECT 'except empty'; SELECT * FROM v_except ORDER BY 1, 2;
INSERT INTO u SELECT a, b FROM t WHERE a > 1;
COMMIT;
SELECT 'inter refilled'; SELECT * FROM v_inter ORDER BY 1, 2;
SELECT 'except refilled'; SELECT * FROM v_except ORDER BY 1, 2;
-- Mixed classes in one column: TEXT and INTEGER rows stay apart ('2' is
-- not 2), as in SQLite.
CREATE VIEW v_mixed AS SELECT b FROM t UNION SELECT x FROM u;
INSERT INTO t (a, b) VALUES (9, '4');
SELECT 'mixed'; SELECT b, typeof(b) FROM v_mixed ORDER BY 1;
-- Views on views.
CREATE VIEW v_on AS SELECT a FROM v_union WHERE a IS NOT NULL
    EXCEPT SELECT a FROM v_inter;
SELECT 'on views'; SELECT * FROM v_on ORDER BY 1;
INSERT INTO u VALUES (5, 'e');
SELECT 'on views'; SELECT * FROM v_on ORDER BY 1;
-- Subqueries in FROM, joined, nested, unnamed, with duplicate names.
CREATE VIEW v_from AS SELECT s.a, s.cnt, u.y
    FROM (SELECT a, count(*) AS cnt FROM t GROUP BY a) AS s JOIN u ON s.a = u.x;
CREATE VIEW v_nested AS SELECT m FROM (SELECT max(a) AS m FROM (SELECT a FROM t
    UNION SELECT x FROM u) AS z) AS w;
SELECT 'from'; SELECT * FROM v_from ORDER BY 1, 2, 3;
SELECT 'nested'; SELECT * FROM v_nested;
INSERT INTO u VALUES (7, 'g');
DELETE FROM t WHERE a = 5;
SELECT 'from'; SELECT * FROM v_from ORDER BY 1, 2, 3;
SELECT 'nested'; SELECT * FROM v_nested;
SELECT 'unnamed'; SELECT * FROM (SELECT a, a FROM t WHERE a < 3) ORDER BY 1;
SELECT 'unnamed cols'; SELECT a FROM (SELECT a FROM t WHERE a = 1), (SELECT 1 AS one);
-- WITH: several tables, one used twice, a column list, a forward
-- reference, WITH inside a subquery, WITH over a compound.
CREATE VIEW v_with AS WITH big(n, s) AS (SELECT a, b FROM t WHERE a >= 2),
    pairs AS (SELECT b1.n AS p, b2.n AS q FROM big b1 JOIN big b2 ON b1.n < b2.n)
    SELECT p, q FROM pairs;
CREATE VIEW v_with2 AS WITH d AS (SELECT x FROM e), e AS (SELECT x FROM u WHERE x > 3)
    SELECT x FROM d UNION ALL SELECT n FROM (WITH c(n) AS (SELECT k FROM r) SELECT n FROM c);
SELECT 'with'; SELECT * FROM v_with ORDER BY 1, 2;
SELECT 'with2'; SELECT * FROM v_with2 ORDER BY 1;
INSERT INTO t (a, b) VALUES (6, 'f');
DELETE FROM r WHERE k = 1;
UPDATE u SET x = 8 WHERE x = 7;
SELECT 'with'; SELECT * FROM v_with ORDER BY 1, 2;
SELECT 'with2'; SELECT * FROM v_with2 ORDER BY 1;
-- Ad hoc: ORDER BY a result column by name (the first SELECT's, or a
-- later one's), by ordinal, by a qualified column; LIMIT and OFFSET.
SELECT 'adhoc'; SELECT a AS z, b FROM t UNION SELECT x, y FROM u ORDER BY z DESC LIMIT 3;
SELECT 'adhoc'; SELECT a FROM t INTERSECT SELECT x FROM u ORDER BY x;
SELECT 'adhoc'; SELECT a, b FROM t EXCEPT SELECT x, y FROM u ORDER BY t.a LIMIT 2 OFFSET 1;
SELECT 'adhoc'; SELECT b FROM t UNION ALL SELECT y FROM u ORDER BY 1 DESC;
SELECT 'adhoc'; WITH c AS (SELECT 10 AS q) SELECT q FROM c UNION SELECT q + 1 FROM c;
SELECT 'adhoc'; SELECT 1 UNION SELECT NULL UNION SELECT 'x' ORDER BY 1;
-- A compound view's column has the first SELECT's affinity in SQLite: an
-- INTEGER column padded with NULL rows converts '1' to 1 in a comparison;
-- a first SELECT of NULL gives no affinity, so '1' stays text.
CREATE VIEW v_pad AS SELECT a, b FROM t UNION ALL SELECT NULL, NULL;
CREATE VIEW v_nullfirst AS SELECT NULL AS a UNION SELECT a FROM t;
SELECT 'pad'; SELECT a, b FROM v_pad WHERE a = '1';
SELECT 'null first'; SELECT a FROM v_nullfirst WHERE a = '1';
-- Errors, as SQLite words them; nothing is created.
SELECT a, b FROM t UNION SELECT x FROM u;
SELECT a FROM t INTERSECT SELECT x, y FROM u;
SELECT a FROM t UNION SELECT x FROM u ORDER BY a + 1;
SELECT a FROM t UNION SELECT x FROM u ORDER BY 2;
WITH c AS (SELECT 1), c AS (SELECT 2) SELECT * FROM c;
WITH c(p, q) AS (SELECT 1) SELECT * FROM c;
SELECT * FROM (SELECT nosuch FROM t);
SELECT s.zz FROM (SELECT a FROM t) AS s;
