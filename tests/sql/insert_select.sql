-- INSERT ... SELECT (from tables and views, with expressions, grouping and
-- ORDER BY/LIMIT, into a column list with defaults for the rest), INSERT OR
-- IGNORE and INSERT OR REPLACE (also REPLACE INTO) against the PRIMARY KEY
-- and UNIQUE constraints and against rows earlier in the same statement,
-- INTEGER PRIMARY KEY choosing the next id for a NULL or missing id, and
-- views seeing each change.  A failing INSERT ... SELECT changes nothing.
.nullvalue NULL
CREATE TABLE src (id INTEGER PRIMARY KEY, name TEXT, score INTEGER);
CREATE TABLE dst (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score INTEGER DEFAULT 0, note TEXT DEFAULT 'copied');
CREATE VIEW v_dst AS SELECT COUNT(*) AS n, SUM(score) AS total, GROUP_CONCAT(id) AS ids FROM dst;
INSERT INTO src VALUES (1, 'ann', 10), (2, 'bob', 20), (3, 'cy', NULL), (4, 'dee', 40);

INSERT INTO dst SELECT id, name, score, 'all' FROM src WHERE id <= 2;
INSERT INTO dst (id, name) SELECT id + 10, upper(name) FROM src WHERE score IS NULL OR score > 30;
INSERT INTO dst (name, score) SELECT name || '!', score * 2 FROM src ORDER BY id DESC LIMIT 2;
SELECT * FROM dst ORDER BY id;
SELECT * FROM v_dst;

-- A duplicate name makes the whole statement fail.
INSERT INTO dst (name) SELECT name FROM src;
SELECT * FROM v_dst;

-- OR IGNORE skips conflicting rows (with the table or with earlier rows).
INSERT OR IGNORE INTO dst (id, name, score) SELECT id, name, score + 1 FROM src;
INSERT OR IGNORE INTO dst VALUES (30, 'new', 1, NULL), (31, 'new', 2, NULL), (1, 'other', 3, NULL);
SELECT * FROM dst ORDER BY id;
SELECT * FROM v_dst;

-- OR REPLACE deletes what conflicts, on any constraint, then inserts.
INSERT OR REPLACE INTO dst VALUES (1, 'bob', 100, 'replaced');
REPLACE INTO dst (id, name, score) VALUES (40, 'x', 1), (41, 'x', 2), (13, 'z', 3);
INSERT OR REPLACE INTO dst (id, name, score) SELECT id + 100, name, score FROM src WHERE name = 'dee';
SELECT * FROM dst ORDER BY id;
SELECT * FROM v_dst;

-- Ids: the next after the largest, also inside a transaction.
CREATE TABLE seq (id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO seq (v) VALUES ('a'), ('b');
INSERT INTO seq VALUES (10, 'c'), (NULL, 'd');
BEGIN;
INSERT INTO seq (v) SELECT v || v FROM seq WHERE id < 3;
DELETE FROM seq WHERE id = 12;
INSERT INTO seq (v) VALUES ('e');
COMMIT;
DELETE FROM seq WHERE id >= 11;
INSERT INTO seq (v) VALUES ('f');
SELECT * FROM seq ORDER BY id;

-- INSERT ... SELECT from a view, and from the target table itself.
CREATE TABLE copy (n INTEGER, total INTEGER, ids TEXT);
INSERT INTO copy SELECT * FROM v_dst;
INSERT INTO seq (v) SELECT v FROM seq;
SELECT * FROM copy;
SELECT COUNT(*), MAX(id) FROM seq;
