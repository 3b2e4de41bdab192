-- fixed: text with a trailing space is not converted into an INTEGER or REAL column
-- SQLite's column affinity converts '1 ' and '0.25 ' (white space around a
-- number is allowed) and stores 1 and 0.25; ivm converts ' 1' but refuses
-- '1 ' ("cannot store a TEXT value in INTEGER column"), so the INSERT fails
-- in ivm only.  Found by prop_views (left out with --avoid padded-number
-- until fixed).
CREATE TABLE t2(b INTEGER, r REAL);
CREATE VIEW v AS SELECT b, r FROM t2;
INSERT INTO t2 VALUES (' 1', ' 1.5');
INSERT INTO t2 VALUES ('1 ', '0.25 ');
SELECT * FROM v ORDER BY 1, 2;
