-- ivm-only
-- Compound SELECTs, subqueries in FROM and WITH that ivm refuses, each with
-- the construct named and its position, where SQLite would accept them:
-- a construct refused inside one member (named at its own position), a
-- recursive WITH table (with or without RECURSIVE, directly or through
-- another table), a set operation between an INTEGER and a REAL column
-- (SQLite finds 1 and 1.0 equal, ivm's rows would not; UNION ALL and a
-- CAST are fine), and a view whose compound members disagree on the column
-- count (SQLite only finds out when the view is read).  A refused view
-- defines nothing.
CREATE TABLE t (a INTEGER, b TEXT);
CREATE TABLE r (k INTEGER, v REAL);
INSERT INTO t VALUES (1, 'a'), (2, 'b');
INSERT INTO r VALUES (1, 1.0), (2, 2.5);
CREATE VIEW v2 AS SELECT a FROM t UNION SELECT 3 WHERE random() > 0;
CREATE VIEW v3 AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3)
    SELECT n FROM c;
CREATE VIEW v4 AS WITH c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3)
    SELECT n FROM c;
CREATE VIEW v5 AS WITH c AS (SELECT a FROM d), d AS (SELECT a FROM c) SELECT a FROM c;
CREATE VIEW v6 AS SELECT a FROM t INTERSECT SELECT v FROM r;
CREATE VIEW v7 AS SELECT a, b FROM t EXCEPT SELECT k FROM r;
CREATE VIEW v9 AS SELECT a FROM t UNION ALL SELECT v FROM r;
CREATE VIEW v10 AS SELECT a FROM t INTERSECT SELECT CAST(v AS INTEGER) FROM r;
SELECT * FROM v2;
SELECT a FROM v9 ORDER BY 1;
SELECT a FROM v10 ORDER BY 1;
