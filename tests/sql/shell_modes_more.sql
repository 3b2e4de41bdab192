-- The output modes box, table, line and json, which must match the sqlite3
-- shell byte for byte: NULL (and .nullvalue), negative and REAL numbers,
-- empty strings, wide and UTF-8 text, tabs and line breaks inside values
-- (box and table cut a value at a line break and after 60 characters, and
-- then draw a rule between rows), JSON escapes, and results without rows
-- (which print nothing).  Box and table show the column names whatever
-- .headers says; .mode with no argument names the mode.
CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, r REAL, n INTEGER);
INSERT INTO t VALUES (1, 'plain', 1.0, 7), (2, '', -2.5, -22), (3, NULL, NULL, NULL),
    (4, 'café crème', 1e100, 0), (5, '中文字', 0.1, -9223372036854775808),
    (6, 'quote"d \ back', 123456789.125, 9223372036854775807),
    (7, 'it''s', -0.001, 1);
CREATE TABLE m (id INTEGER PRIMARY KEY, s TEXT);
INSERT INTO m VALUES (1, 'aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffffgggggggggghhhhhhhhhh'),
    (2, 'tab	inside'), (3, 'two
lines'), (4, 'short');
CREATE VIEW v AS SELECT id, s AS label, r AS amount, n FROM t;

.mode box
.mode
SELECT * FROM v ORDER BY id;
SELECT id, label FROM v WHERE id > 100;
.headers on
SELECT id AS "é", n AS "a long column name" FROM v WHERE id < 3 ORDER BY id;
.nullvalue NULL
SELECT * FROM v WHERE id = 3;
SELECT * FROM m ORDER BY id;
SELECT s FROM m WHERE id = 4;
-- A name longer than 60 characters shows its first 60; a break right after
-- the 60th character and a tab near the end are cut as sqlite3 cuts them.
SELECT 'x' AS "nnnnnnnnnnmmmmmmmmmmnnnnnnnnnnmmmmmmmmmmnnnnnnnnnnmmmmmmmmmmTAIL";
SELECT 'aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffff
next' AS a, 'aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeefffffff	x' AS b;
.headers off

.mode table
.mode
SELECT * FROM v ORDER BY id;
SELECT id, label FROM v WHERE id > 100;
SELECT * FROM m ORDER BY id;
.nullvalue ""
SELECT label, amount FROM v WHERE id IN (2, 3) ORDER BY id;

.mode line
.mode
SELECT * FROM v ORDER BY id;
SELECT id AS "é", n AS "a long column name" FROM v WHERE id = 1;
SELECT id, label FROM v WHERE id > 100;
.nullvalue <null>
SELECT id, label, amount FROM v WHERE id = 3;
.headers on
SELECT id, label FROM v WHERE id < 3 ORDER BY id;
.headers off

.mode json
.mode
SELECT * FROM v ORDER BY id;
SELECT id, label FROM v WHERE id > 100;
SELECT s AS "the ""s""" FROM m ORDER BY id;
SELECT 1.0 / 3 AS third, 0.1 + 0.2 AS sum, 1e-7 AS small, 3e20 AS big, -0.5 AS neg;
.headers on
SELECT id FROM v WHERE id = 1;
.mode list
SELECT * FROM v WHERE id = 1;
