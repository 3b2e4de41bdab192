-- DDL beyond the skeleton: CREATE TABLE IF NOT EXISTS, type names with
-- sizes (VARCHAR(n), CHAR(n) and DECIMAL-free numerics), INT and SMALLINT,
-- BOOLEAN as integers 0/1, DEFAULT with constant expressions, UNIQUE on a
-- column and on several (NULLs never collide), enforced like the PRIMARY
-- KEY: a violating statement fails as a whole; CREATE INDEX (a hint) and
-- CREATE UNIQUE INDEX (enforced, refused over duplicates), IF NOT EXISTS,
-- DROP INDEX [IF EXISTS]; CREATE VIEW with column names and IF NOT EXISTS;
-- DROP TABLE/VIEW [IF EXISTS] (that a table read by a view cannot be
-- dropped is in ddl_dependencies.sql: SQLite lets it go).  Affinity on
-- input: '12' into INTEGER is 12, 3.0 is 3.
.nullvalue NULL
CREATE TABLE t (
    id INTEGER PRIMARY KEY,
    code VARCHAR(8) UNIQUE,
    label CHAR(3) NOT NULL DEFAULT 'n/a',
    qty SMALLINT DEFAULT (2 * 21),
    big INT DEFAULT -1,
    price REAL DEFAULT 1.5,
    flag BOOLEAN DEFAULT TRUE,
    a INTEGER,
    b TEXT,
    UNIQUE (a, b)
);
CREATE TABLE IF NOT EXISTS t (x INTEGER);
INSERT INTO t (id, code) VALUES (1, 'c1');
INSERT INTO t VALUES (2, 'c2', 'two', '12', 3.0, 7, FALSE, 1, 'x');
INSERT INTO t (id, code, a, b) VALUES (3, NULL, 1, 'y'), (4, NULL, 1, NULL), (5, NULL, 1, NULL);
SELECT * FROM t ORDER BY id;
SELECT typeof(qty), typeof(big), typeof(price), typeof(flag) FROM t WHERE id = 2;

-- Each statement violates a constraint and changes nothing.
INSERT INTO t (id, code) VALUES (6, 'c1');
INSERT INTO t (id, code, a, b) VALUES (6, 'c6', 1, 'x');
INSERT INTO t (id, code) VALUES (6, 'c6'), (7, 'c6');
UPDATE t SET code = 'same' WHERE id IN (1, 2);
UPDATE t SET b = 'x' WHERE id = 3;
INSERT INTO t (id, label) VALUES (8, NULL);
SELECT * FROM t ORDER BY id;

-- Changes that keep every constraint, even when rows swap values.
UPDATE t SET code = 'c9' WHERE id = 1;
INSERT INTO t (id, code) VALUES (9, 'c1');
DELETE FROM t WHERE id = 2;
INSERT INTO t (id, code, a, b) VALUES (10, 'c2', 1, 'x');
SELECT id, code, a, b FROM t ORDER BY id;

-- Indexes: a plain index is a hint; a UNIQUE index is enforced.
CREATE INDEX t_qty ON t (qty);
CREATE INDEX IF NOT EXISTS t_qty ON t (qty, price);
CREATE INDEX t_qty ON t (price);
CREATE UNIQUE INDEX t_qty_u ON t (qty);
CREATE UNIQUE INDEX t_label ON t (label, id);
INSERT INTO t (id, code, label) VALUES (11, 'c11', 'n/a');
CREATE UNIQUE INDEX t_big ON t (big, flag);
INSERT INTO t (id, code, big, flag) VALUES (12, 'c12', -1, 1);
INSERT INTO t (id, code, big, flag) VALUES (12, 'c12', -1, 0);
DROP INDEX t_big;
INSERT INTO t (id, code, big, flag) VALUES (13, 'c13', -1, 1);
DROP INDEX t_big;
DROP INDEX IF EXISTS t_big;
DROP INDEX t_qty;
SELECT id, code, big, flag FROM t ORDER BY id;

-- Views: column names, IF NOT EXISTS, dependencies.
CREATE VIEW v (ident, total) AS SELECT id, qty + big FROM t WHERE flag;
CREATE VIEW IF NOT EXISTS v AS SELECT 1;
CREATE VIEW v2 AS SELECT ident FROM v WHERE total > 40;
SELECT * FROM v ORDER BY ident;
SELECT * FROM v2 ORDER BY ident;
DROP VIEW v2;
DROP VIEW v;
DROP VIEW v;
DROP TABLE t;
DROP TABLE t;
DROP TABLE IF EXISTS t;
DROP VIEW IF EXISTS v;
SELECT * FROM t;
CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT UNIQUE);
INSERT INTO t VALUES (1, 'c1'), (2, 'c1');
INSERT INTO t VALUES (1, 'c1'), (2, 'c2');
SELECT * FROM t ORDER BY id;
