-- ivm-only
-- A table or view that a view reads cannot be dropped (SQLite would drop it
-- and leave the view broken, hence ivm-only): the error names the view;
-- dropping the readers first works.  A failed DROP changes nothing.
CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);
CREATE VIEW v1 AS SELECT id, v * 2 AS v2 FROM t;
CREATE VIEW v2 AS SELECT COUNT(*) AS n FROM v1 WHERE v2 > 2;
INSERT INTO t VALUES (1, 1), (2, 2);
DROP TABLE t;
DROP VIEW v1;
SELECT * FROM v2;
INSERT INTO t VALUES (3, 3);
SELECT * FROM v2;
DROP VIEW v2;
DROP VIEW v1;
DROP TABLE t;
SELECT * FROM t;
