-- Comma and inner joins of three or more tables are joined in an order in
-- which every join has a key when WHERE gives one (no cross products);
-- results are those of FROM order.
CREATE TABLE a(x INTEGER, p TEXT);
CREATE TABLE b(y INTEGER, q TEXT);
CREATE TABLE c(x INTEGER, y INTEGER, r TEXT);
CREATE TABLE d(y INTEGER, s TEXT);
INSERT INTO a VALUES (1,'a1'),(2,'a2'),(3,'a3');
INSERT INTO b VALUES (10,'b10'),(20,'b20');
INSERT INTO c VALUES (1,10,'c1'),(2,20,'c2'),(2,10,'c3'),(4,20,'c4');
INSERT INTO d VALUES (10,'d10'),(20,'d20'),(20,'d20b');
CREATE VIEW o1 AS SELECT a.*, b.*, c.r FROM a, b, c WHERE a.x = c.x AND b.y = c.y;
CREATE VIEW o2 AS SELECT p, q, r, s FROM a, b, d, c WHERE c.y = d.y AND a.x = c.x AND b.y = d.y AND p <> 'a3';
CREATE VIEW o3 AS SELECT p, q, r FROM a JOIN b ON 1 JOIN c ON c.y = b.y WHERE a.x = c.x;
CREATE VIEW o4 AS SELECT p, q FROM a, b, c WHERE a.x = c.x;
SELECT * FROM o1 ORDER BY 1,2,3,4,5; SELECT '-';
SELECT * FROM o2 ORDER BY 1,2,3,4; SELECT '-';
SELECT * FROM o3 ORDER BY 1,2,3; SELECT '-';
SELECT * FROM o4 ORDER BY 1,2; SELECT '-';
INSERT INTO c VALUES (3,20,'c5');
DELETE FROM b WHERE y = 10;
UPDATE a SET x = 4 WHERE p = 'a1';
SELECT * FROM o1 ORDER BY 1,2,3,4,5; SELECT '-';
SELECT * FROM o2 ORDER BY 1,2,3,4; SELECT '-';
SELECT * FROM o3 ORDER BY 1,2,3; SELECT '-';
SELECT * FROM o4 ORDER BY 1,2; SELECT '-';
