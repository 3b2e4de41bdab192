-- ivm-only
-- ROW_NUMBER() is maintained only as a result column of a subquery in FROM
-- whose enclosing WHERE bounds it from above by an integer constant; every
-- other window function or use is refused at its position, and the run goes
-- on (a refused view defines nothing).
CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, v INTEGER);
CREATE TABLE u (id INTEGER, rn INTEGER);
INSERT INTO t VALUES (1, 'a', 10), (2, 'a', 30), (3, 'b', 20);
INSERT INTO u VALUES (1, 1);
-- Unbounded: in a view's own results, or bounded only from below or
-- under OR.
CREATE VIEW e1 AS SELECT id, ROW_NUMBER() OVER (ORDER BY v) AS rn FROM t;
CREATE VIEW e2 AS SELECT * FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY v) AS rn FROM t) WHERE rn >= 2;
CREATE VIEW e3 AS SELECT * FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY v) AS rn FROM t) WHERE rn <= 2 OR id = 1;
-- Not a column of its own, not a constant bound, in WHERE, in a WITH table.
CREATE VIEW e4 AS SELECT * FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY v) + 1 AS rn FROM t) WHERE rn <= 2;
CREATE VIEW e5 AS SELECT * FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY v) AS rn FROM t) WHERE rn <= v;
CREATE VIEW e6 AS SELECT * FROM t WHERE ROW_NUMBER() OVER (ORDER BY v) <= 2;
CREATE VIEW e7 AS WITH w AS (SELECT id, ROW_NUMBER() OVER (ORDER BY v) AS rn FROM t) SELECT * FROM w WHERE rn <= 2;
-- The bound's name is ambiguous, or reads another column of the same name
-- (the second rn of the subquery is rn:1, as in SQLite).
CREATE VIEW e8 AS SELECT s.id FROM u, (SELECT id, ROW_NUMBER() OVER (ORDER BY v) AS rn FROM t) AS s WHERE u.rn <= 1 AND rn <= 1;
CREATE VIEW e8b AS SELECT * FROM (SELECT v AS rn, ROW_NUMBER() OVER (ORDER BY v) AS rn FROM t) WHERE rn <= 1;
CREATE VIEW e9 AS SELECT * FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY v) AS rn, ROW_NUMBER() OVER (ORDER BY id) AS rn2 FROM t) WHERE rn <= 1;
-- Other window functions and window forms (the parser).
CREATE VIEW e10 AS SELECT * FROM (SELECT id, rank() OVER (ORDER BY v) AS rn FROM t) WHERE rn <= 2;
CREATE VIEW e11 AS SELECT * FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY v ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS rn FROM t) WHERE rn <= 2;
CREATE VIEW e12 AS SELECT * FROM (SELECT id, sum(v) OVER (PARTITION BY g) AS s FROM t);
CREATE VIEW e13 AS SELECT id, ROW_NUMBER() OVER w AS rn FROM t;
SELECT id, ROW_NUMBER() OVER (ORDER BY v) FROM t;
-- A refused name can be used for a good view afterwards.
CREATE VIEW e1 AS SELECT * FROM (SELECT g, id, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v DESC) AS rn FROM t) WHERE rn <= 1;
SELECT * FROM e1 ORDER BY g;
