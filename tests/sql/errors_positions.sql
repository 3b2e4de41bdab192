-- Errors with positions: syntax errors name the offending token and give
-- its line and column (statements spanning lines too); unknown tables,
-- columns, functions and ambiguous names give the name's position; wrong
-- argument counts, misused aggregates and bad ESCAPEs give the call's.
-- Every failing statement changes nothing and the run goes on.  The lines
-- must match SQLite's errors; the messages (with columns) are in
-- errors_positions.err.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER);
INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', 2.5);
SELECT id FROM t WHERE;
SELECT id,
       name
  FROM t WHERE id = = 1;
SELECT * FROM t ORDER id;
CREATE TABLE (x INTEGER);
INSERT INTO t VALUES (3, 'c' 3.5);
SELECT 1 + ;
SELECT id FROM t, u;
SELECT t.nosuch FROM t;
SELECT name FROM t
  WHERE nosuch > 1;
SELECT x.id FROM t;
SELECT * FROM t JOIN nosuch ON 1;
INSERT INTO t (id, nosuch) VALUES (3, 'c');
UPDATE t SET
    nosuch = 1;
DELETE FROM nosuch WHERE 1;
SELECT nosuchfn(id) FROM t;
SELECT abs(1, 2), 1;
SELECT substr('abc');
SELECT group_concat(id, ',', ';') FROM t;
SELECT count(*) FROM t WHERE sum(v) > 1;
SELECT sum(avg(v)) FROM t;
SELECT id FROM t GROUP BY count(*);
SELECT abs(v) FILTER (WHERE v > 1) FROM t;
SELECT 'a' LIKE 'b' ESCAPE 'cd';
SELECT * FROM t ORDER BY 5;
SELECT id FROM t GROUP BY 3;
SELECT * FROM t;
