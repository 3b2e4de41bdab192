-- ivm-only
-- ivm's columns are typed: a value goes into a column when SQLite's affinity
-- converts it without loss ('12' and 2.0 into INTEGER, 3 into REAL, 5 into
-- TEXT); anything else is refused where SQLite would store it as it is
-- (hence ivm-only; sql/README.md lists the difference).  The error names the
-- value's class and the column and points at the expression that wrote the
-- value: a VALUES item, a result column of INSERT ... SELECT (the first
-- member's for a compound, the SELECT for `*`), a SET expression.  An
-- INTEGER expression that overflows becomes a REAL (2^53 * 2^53), and is
-- refused the same way.  A refused statement changes nothing and the run goes
-- on; the expected messages are in typed_columns.err.
CREATE TABLE t (i INTEGER, r REAL, s TEXT);
CREATE VIEW v AS SELECT i * i AS sq, r, s FROM t;
INSERT INTO t VALUES ('12', 3, 5), (2.0, '2.5', 1.5);
INSERT INTO t VALUES (1, 1.0, 'a'), (9007199254740992 * 9007199254740992, 1.0, 'b');
INSERT INTO t VALUES (7, 'abc', 'c');
INSERT INTO t VALUES (9007199254740992, 0.5, 'big');
SELECT * FROM t ORDER BY i;
SELECT sq, typeof(sq) FROM v ORDER BY sq;
INSERT INTO t SELECT sq, r, s FROM v;
INSERT INTO t (s, i) SELECT s,
    i * i FROM t;
INSERT INTO t SELECT * FROM (SELECT i * 1.25, r, s FROM t);
INSERT INTO t SELECT 1, 1.0, 'a' UNION ALL SELECT 2.5, 1.0, 'z';
UPDATE t SET r = 0.25,
  i = i * i WHERE i > 100;
UPDATE t SET i = r;
UPDATE t SET i = i / 2, r = i / 2 WHERE i > 100;
SELECT * FROM t ORDER BY i;
SELECT * FROM v ORDER BY sq;
