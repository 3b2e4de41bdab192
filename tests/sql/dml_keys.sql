-- DELETE and UPDATE that name a PRIMARY KEY value (ivm seeks that key
-- instead of scanning the table; the whole WHERE still decides): single
-- and composite keys, a key with extra conditions, a key that is absent,
-- a key given as text ('2' for an INTEGER key), a key of another class
-- (2.0: scanned, same result), keys inside OR (scanned), and views seeing
-- each change.
CREATE TABLE k1 (id INTEGER PRIMARY KEY, v TEXT);
CREATE TABLE k2 (a INTEGER, b TEXT, v REAL, PRIMARY KEY (a, b));
CREATE VIEW v1 AS SELECT COUNT(*) AS n, GROUP_CONCAT(id) AS ids FROM k1;
CREATE VIEW v2 AS SELECT a, COUNT(*) AS n, TOTAL(v) AS t FROM k2 GROUP BY a;
INSERT INTO k1 VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e');
INSERT INTO k2 VALUES (1, 'x', 1.5), (1, 'y', 2.5), (2, 'x', 3.5), (2, 'z', 4.5);
UPDATE k1 SET v = 'B' WHERE id = 2;
UPDATE k1 SET v = 'C' WHERE id = 3 AND v = 'nope';
UPDATE k1 SET v = 'Z' WHERE id = 99;
DELETE FROM k1 WHERE id = '4';
UPDATE k1 SET v = v || '!' WHERE id = 5.0;
DELETE FROM k1 WHERE 1 = id;
UPDATE k1 SET v = lower(v) WHERE id = 2 OR id = 3;
SELECT * FROM k1 ORDER BY id;
SELECT * FROM v1;
UPDATE k2 SET v = v * 10 WHERE a = 1 AND b = 'y';
UPDATE k2 SET v = 0 WHERE b = 'x' AND a = 2 AND v > 100;
DELETE FROM k2 WHERE a = 2 AND b = 'z';
DELETE FROM k2 WHERE a = 1;
UPDATE k2 SET a = 3 WHERE a = 2 AND b = 'x';
SELECT * FROM k2 ORDER BY a, b;
SELECT * FROM v2 ORDER BY a;
UPDATE k1 SET id = 1 WHERE id = 2;
UPDATE k1 SET id = 3 WHERE id = 5;
SELECT * FROM k1 ORDER BY id;
SELECT * FROM v1;
