-- SQLite's type conversions on typed columns: values stored into INTEGER,
-- REAL and TEXT columns take the column's class ('12' is 12, 3.0 is 3, 5
-- into TEXT is '5'); comparisons apply the column's affinity to the other
-- operand (id = '2' finds row 2; a TEXT column compared with a number
-- compares text), IN (list) and BETWEEN convert by the left operand's
-- affinity, and mixed INT/REAL comparisons are numeric.  Ad-hoc and in
-- views, including joins and GROUP BY over converted values.
.nullvalue NULL
CREATE TABLE a (id INTEGER PRIMARY KEY, n INTEGER, r REAL, t TEXT);
INSERT INTO a VALUES ('1', '10', '2.5', 5), (2, 20.0, 3, 6.5), (3, ' 30 ', '1e1', 'x'), (4, NULL, NULL, '007');
SELECT id, n, typeof(n), r, typeof(r), t, typeof(t) FROM a ORDER BY id;
SELECT id FROM a WHERE id = '2';
SELECT id FROM a WHERE n = '20' OR r = '1e1';
SELECT id FROM a WHERE t = 5 OR t = 6.5;
SELECT id FROM a WHERE t = 7 OR t = '007';
SELECT id FROM a WHERE n IN ('10', '30') ORDER BY id;
SELECT id FROM a WHERE '10' IN (n, r) ORDER BY id;
SELECT id FROM a WHERE n BETWEEN '15' AND '25';
SELECT id FROM a WHERE r > '2' ORDER BY id;
SELECT id FROM a WHERE t > 5 ORDER BY id;
SELECT id FROM a WHERE CAST(t AS INTEGER) = 7;
SELECT n = r * 4, r < n, t < n, 1 = 1.0, '1' = 1, n = '10' FROM a WHERE id = 1;
SELECT id FROM a WHERE +n = '10';

CREATE TABLE b (code TEXT, k INTEGER);
INSERT INTO b VALUES ('10', 1), ('20', 2), ('x', 3);
CREATE VIEW v_conv AS SELECT id FROM a WHERE n = '10' OR t = 6.5 OR r IN ('1e1', 4);
CREATE VIEW v_join AS SELECT a.id, b.k FROM a JOIN b ON a.n = b.code;
CREATE VIEW v_textnum AS SELECT b.code, a.id FROM b, a WHERE b.code = a.id * 10;
SELECT * FROM v_conv ORDER BY id;
SELECT * FROM v_join ORDER BY id;
SELECT * FROM v_textnum ORDER BY code, id;
INSERT INTO a VALUES (5, '40', 4, '10'), (6, 10, 0.5, 6.50);
INSERT INTO b VALUES ('40', 4), ('50', 5);
UPDATE a SET n = '20' WHERE id = 1;
DELETE FROM b WHERE code = '10';
SELECT * FROM v_conv ORDER BY id;
SELECT * FROM v_join ORDER BY id;
SELECT * FROM v_textnum ORDER BY code, id;
SELECT id, n, t FROM a ORDER BY id;
