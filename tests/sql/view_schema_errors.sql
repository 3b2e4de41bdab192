-- ivm-only
-- A view that names a missing table or column, or an ambiguous column, is
-- rejected when it is created (SQLite accepts such a view and fails only when
-- it is read, hence ivm-only).  Nothing is defined and the run goes on.  The
-- expected messages belong in view_schema_errors.err.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER);
INSERT INTO t VALUES (1, 'a'), (2, 'b');
INSERT INTO u VALUES (10, 1), (11, 2);
CREATE VIEW w AS SELECT id, nosuch FROM t;
CREATE VIEW w AS SELECT * FROM nosuch;
CREATE VIEW w AS SELECT id FROM t, u WHERE t.id = u.t_id;
CREATE VIEW w AS SELECT t.id FROM t JOIN u ON t.id = u.nosuch;
CREATE VIEW w AS SELECT name FROM t WHERE nosuch > 1;
CREATE VIEW w AS SELECT name, COUNT(*) AS n FROM t GROUP BY nosuch;
CREATE VIEW w AS SELECT u.id AS uid, t.name FROM t JOIN u ON t.id = u.t_id;
INSERT INTO u VALUES (12, 1);
SELECT * FROM w ORDER BY uid, name;
