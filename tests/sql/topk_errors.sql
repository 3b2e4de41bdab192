-- ivm-only
-- A view's LIMIT and OFFSET must be non-negative integer constants (SQLite
-- reads a negative LIMIT as none and a negative OFFSET as 0, which a view's
-- top-k does not take); a refused view defines nothing and the run goes on.
CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);
INSERT INTO t VALUES (1, 10), (2, 20), (3, 30);
CREATE VIEW neg AS SELECT id FROM t ORDER BY v LIMIT -1;
CREATE VIEW negoff AS SELECT id FROM t ORDER BY v LIMIT 2 OFFSET 1 - 2;
CREATE VIEW notconst AS SELECT id FROM t ORDER BY v LIMIT v;
CREATE VIEW nottext AS SELECT id FROM t ORDER BY v LIMIT 'many';
CREATE VIEW neg AS SELECT id FROM t ORDER BY v DESC LIMIT 1 + 1;
SELECT * FROM neg ORDER BY id;
SELECT * FROM notconst;
