-- The shell's output, which must match the sqlite3 shell byte for byte:
-- list mode with and without headers, .nullvalue, .separator, csv mode and
-- its quoting (CRLF line ends), several statements on one line, statements
-- over several lines, comments and empty statements, and a last statement
-- without its semicolon.
CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, r REAL);
INSERT INTO t VALUES (1, 'plain', 1.0), (2, 'with space', -2.5), (3, NULL, NULL),
    (4, '', 0.125), (5, 'quote"d', 1e100), (6, 'it''s', 3.0), (7, 'a,b', 100.0),
    (8, 'a|b', 0.1), (9, 'caf' || 'é', 2.0);
CREATE VIEW v AS SELECT id, s AS label, r AS amount FROM t;

SELECT * FROM v ORDER BY id;
.headers on
SELECT * FROM v ORDER BY id;
SELECT id AS "the id", label FROM v WHERE id < 3 ORDER BY id;
SELECT * FROM v WHERE id > 100;
.nullvalue <null>
SELECT * FROM v WHERE id = 3 OR id = 4 ORDER BY id;
.separator ", "
SELECT * FROM v WHERE id < 3 ORDER BY id;
.separator "\t"
SELECT * FROM v WHERE id < 3 ORDER BY id;
.separator | "\n"
.headers off
SELECT * FROM v WHERE id < 3 ORDER BY id;

.mode csv
SELECT * FROM v ORDER BY id;
.headers on
SELECT * FROM v ORDER BY id;
.nullvalue ""
SELECT id, label AS "a label" FROM v WHERE id = 3;
.separator ;
SELECT * FROM v WHERE id = 1 OR id = 7 ORDER BY id;
.mode list
SELECT * FROM v WHERE id = 1 OR id = 7 ORDER BY id;
-- Each statement of a line prints its own header.
SELECT 1 AS a; SELECT 2 AS a; SELECT 3 AS b, 4 AS c;
.headers off

-- Several statements on a line, and one over several lines.
SELECT 1; SELECT 2;   SELECT 'three';
SELECT id,
       label
  FROM v
 WHERE id = 6;
/* a block comment */ SELECT 4; -- and a line comment
;;
SELECT 'semi;colon', '--not a comment', '/* nor this */';
SELECT
    -- a comment inside a statement
    5;
SELECT id FROM v WHERE id = 9
