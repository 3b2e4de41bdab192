-- fixed: comparing a column with a literal of another class ignores the column's affinity
-- SQLite applies the column's affinity to the literal before comparing:
-- REAL e < '-1' compares 0.5 with -1.0 (false), INTEGER b = '2' compares 2
-- with 2 (true), TEXT s = 12 compares '12' with '12' (true).  ivm compares a
-- number with text, and numbers sort before text, so v1 keeps the row and
-- v2 and v3 drop it; the DELETE, with the same comparison, deletes nothing
-- in ivm.  Found by prop_views (construct mixed-types, left out by
-- PROP_AVOID until fixed).
CREATE TABLE t(b INTEGER, e DOUBLE, s TEXT);
CREATE VIEW v1 AS SELECT e FROM t WHERE e < '-1';
CREATE VIEW v2 AS SELECT b FROM t WHERE b = '2';
CREATE VIEW v3 AS SELECT s FROM t WHERE s = 12;
INSERT INTO t VALUES (2, 0.5, 12);
SELECT * FROM v1 ORDER BY 1;
SELECT * FROM v2 ORDER BY 1;
SELECT * FROM v3 ORDER BY 1;
DELETE FROM t WHERE s IS 12;
SELECT COUNT(*) FROM t;
