-- PRIMARY KEY and NOT NULL.  A statement that violates one fails as a whole
-- (also a multi-row INSERT with one bad row, or an UPDATE) and changes
-- nothing: every failure is followed by reads that prove it.  The error
-- messages go to standard error; only their line numbers are checked here.
CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score INTEGER);
CREATE TABLE kv (k TEXT PRIMARY KEY, v REAL NOT NULL);
CREATE TABLE pair (a INTEGER NOT NULL, b TEXT NOT NULL, note TEXT, PRIMARY KEY (a, b));
CREATE VIEW v_p AS SELECT id, name, score FROM p WHERE score IS NOT NULL OR id > 0;
CREATE VIEW v_p_count AS SELECT COUNT(*) AS n, SUM(score) AS s FROM p;
CREATE VIEW v_kv AS SELECT k, v * 2 AS v2 FROM kv;
CREATE VIEW v_pair AS SELECT a, COUNT(*) AS n FROM pair GROUP BY a;

INSERT INTO p VALUES (1, 'one', 10), (2, 'two', 20);
INSERT INTO p VALUES (1, 'again', 30);
SELECT * FROM v_p ORDER BY id;
SELECT * FROM v_p_count;
INSERT INTO p VALUES (3, 'three', 30), (2, 'dup', 0), (4, 'four', 40);
SELECT * FROM v_p ORDER BY id;
SELECT * FROM v_p_count;
INSERT INTO p VALUES (5, 'five', 50), (5, 'five again', 51);
SELECT * FROM v_p ORDER BY id;
INSERT INTO p VALUES (6, NULL, 60);
INSERT INTO p (id, score) VALUES (7, 70);
INSERT INTO p (id, name) VALUES (8, 'no score');
SELECT * FROM v_p ORDER BY id;
SELECT * FROM v_p_count;
UPDATE p SET name = NULL WHERE id = 1;
UPDATE p SET id = 2 WHERE id = 1;
UPDATE p SET id = 9 WHERE id = 1;
SELECT * FROM p ORDER BY id;
SELECT * FROM v_p ORDER BY id;
SELECT * FROM v_p_count;
DELETE FROM p WHERE id = 2;
INSERT INTO p VALUES (2, 'two again', 22);
SELECT * FROM v_p ORDER BY id;
SELECT * FROM v_p_count;

-- A text key.
INSERT INTO kv VALUES ('a', 1.5), ('b', 2.5);
INSERT INTO kv VALUES ('a', 9.0);
INSERT INTO kv VALUES ('c', NULL);
INSERT INTO kv VALUES ('A', 0.5);
SELECT * FROM v_kv ORDER BY k;
UPDATE kv SET k = 'b' WHERE k = 'a';
UPDATE kv SET v = v + 1;
SELECT * FROM v_kv ORDER BY k;
SELECT k, v * 2 AS v2 FROM kv ORDER BY k;

-- A key of two columns.
INSERT INTO pair VALUES (1, 'x', 'first'), (1, 'y', NULL), (2, 'x', NULL);
INSERT INTO pair VALUES (1, 'x', 'second');
INSERT INTO pair (a, note) VALUES (3, 'no b');
SELECT * FROM v_pair ORDER BY a;
SELECT * FROM pair ORDER BY a, b;
UPDATE pair SET b = 'y' WHERE a = 1 AND b = 'x';
UPDATE pair SET a = 1 WHERE a = 2;
SELECT * FROM v_pair ORDER BY a;
SELECT * FROM pair ORDER BY a, b;
UPDATE pair SET a = 5, note = 'moved' WHERE a = 2;
UPDATE pair SET b = 'z' WHERE a = 1 AND b = 'y';
SELECT * FROM v_pair ORDER BY a;
SELECT * FROM pair ORDER BY a, b;
