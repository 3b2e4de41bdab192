-- Statements that fail in ivm as in SQLite: syntax errors, unknown or
-- duplicate names, wrong value counts, ambiguous columns, writes to a view.
-- Each failure changes nothing and the run goes on; the errors must come
-- from the same lines in both engines.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER);
INSERT INTO t VALUES (1, 'a'), (2, 'b');
INSERT INTO u VALUES (10, 1);
CREATE VIEW v AS SELECT id, name FROM t WHERE id > 1;

SELEC id FROM t;
SELECT * FROM nosuch;
SELECT nosuch FROM t;
CREATE TABLE t (x INTEGER);
CREATE VIEW v AS SELECT id FROM t;
SELECT id FROM t, u WHERE t.id = u.t_id;
INSERT INTO t VALUES (3);
INSERT INTO t VALUES (3, 'c', 'extra');
INSERT INTO t (id, nosuch) VALUES (3, 'c');
INSERT INTO nosuch VALUES (1);
INSERT INTO v VALUES (5, 'e');
DELETE FROM v;
UPDATE v SET name = 'z';
UPDATE t SET nosuch = 1;
DELETE FROM t WHERE nosuch = 1;
DROP TABLE nosuch;
DROP VIEW nosuch;
DROP VIEW t;
DROP TABLE v;
INSERT INTO t VALUES (3, 'c'), (4, 'd'
SELECT 'still running';

SELECT * FROM t ORDER BY id;
SELECT * FROM v ORDER BY id;
SELECT COUNT(*) FROM t, u WHERE t.id = u.t_id;
INSERT INTO t VALUES (5, 'e');
SELECT * FROM v ORDER BY id;
