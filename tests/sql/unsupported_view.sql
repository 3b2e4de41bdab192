-- ivm-only
-- Views that ivm cannot maintain are rejected at CREATE VIEW with an error
-- that names the construct and its position: a window function, and a
-- nondeterministic function (a retraction could not undo what an insert
-- produced).  SQLite accepts these views, hence ivm-only.  A rejected CREATE
-- VIEW defines nothing: reading the name fails, the name stays free for a
-- valid view, and the run goes on.  Errors go to standard error; the expected
-- messages belong in unsupported_view.err.
CREATE TABLE t (id INTEGER PRIMARY KEY, grp TEXT, v INTEGER);
INSERT INTO t VALUES (1, 'a', 10), (2, 'b', 20), (3, 'a', 30);
CREATE VIEW v_window AS SELECT id, row_number() OVER (ORDER BY id) AS rn FROM t;
CREATE VIEW v_random AS SELECT id, random() AS r FROM t;
CREATE VIEW v_ok AS SELECT id, v FROM t WHERE v > 15;
SELECT * FROM v_random;
CREATE VIEW v_window AS SELECT id FROM t WHERE grp = 'a';
INSERT INTO t VALUES (4, 'a', 40);
SELECT id, v FROM v_ok ORDER BY id;
SELECT id FROM v_window ORDER BY id;
