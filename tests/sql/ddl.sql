-- Tables with every column type of the skeleton (INTEGER, BIGINT, REAL,
-- DOUBLE, FLOAT, TEXT, VARCHAR, BOOLEAN): a column's type fixes the class of
-- its values (an integer stored in a REAL column prints as a REAL).  DROP
-- TABLE and DROP VIEW, then the same names reused with other definitions.
.nullvalue NULL
CREATE TABLE typed (
    i INTEGER PRIMARY KEY,
    big BIGINT NOT NULL,
    r REAL,
    d DOUBLE,
    f FLOAT,
    t TEXT,
    vc VARCHAR,
    flag BOOLEAN
);
INSERT INTO typed VALUES (1, 9000000000, 1, 2, 3, 'one', 'uno', 1);
INSERT INTO typed VALUES (2, -1, 0.5, -0.25, 1e10, '', 'dos', 0);
INSERT INTO typed VALUES (3, 0, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO typed (i, big, flag) VALUES (4, 4, TRUE), (5, 5, FALSE);
SELECT * FROM typed ORDER BY i;
CREATE VIEW v_typed AS
    SELECT i, big * 2 AS big2, r + d + f AS rdf, t || vc AS tv, flag FROM typed;
CREATE VIEW v_flagged AS SELECT i FROM typed WHERE flag;
SELECT * FROM v_typed ORDER BY i;
SELECT * FROM v_flagged ORDER BY i;
UPDATE typed SET flag = NOT flag;
UPDATE typed SET r = 7 WHERE i = 3;
SELECT * FROM v_typed ORDER BY i;
SELECT * FROM v_flagged ORDER BY i;
SELECT i FROM typed WHERE flag ORDER BY i;

-- Drop a view, then the table; reuse both names.
DROP VIEW v_flagged;
DROP VIEW v_typed;
DROP TABLE typed;
CREATE TABLE typed (name TEXT PRIMARY KEY, n INTEGER);
CREATE VIEW v_typed AS SELECT name, n * n AS sq FROM typed WHERE n > 1;
INSERT INTO typed VALUES ('two', 2), ('one', 1), ('three', 3);
SELECT * FROM v_typed ORDER BY name;
SELECT * FROM typed ORDER BY name;

-- A view over a table that already has rows, dropped and made again.
DROP VIEW v_typed;
CREATE VIEW v_typed AS SELECT COUNT(*) AS n, SUM(n) AS s FROM typed;
SELECT * FROM v_typed;
DELETE FROM typed WHERE n = 2;
SELECT * FROM v_typed;

-- An empty table dropped and created again starts empty.
DROP VIEW v_typed;
DROP TABLE typed;
CREATE TABLE typed (x INTEGER);
SELECT COUNT(*) FROM typed;
INSERT INTO typed VALUES (1), (1);
SELECT x FROM typed ORDER BY x;
