-- fixed: an integer overflow in a view fails the INSERT, yet the INSERT stays committed
-- SQLite accepts both INSERTs and reports "integer overflow" only when the
-- view is read.  ivm computes the view at commit, fails the second INSERT
-- with "view v1 could not be maintained: integer overflow" and marks the
-- view broken, but the row is in t1 all the same (SELECT COUNT(*) FROM t1
-- gives 2): the statement failed and changed something, against ivm.h's
-- "a failed statement changes nothing".  Reading the view fails in both,
-- as it should.  Found by prop_views with edge values (CAST(1e20 AS
-- INTEGER) saturates to 2^63 - 1); the generator no longer makes 1e20.
CREATE TABLE t1(c REAL);
CREATE VIEW v1 AS SELECT SUM(CAST(c AS INTEGER)) AS s FROM t1;
INSERT INTO t1 VALUES (1e20);
INSERT INTO t1 VALUES (1e20);
SELECT COUNT(*) FROM t1;
