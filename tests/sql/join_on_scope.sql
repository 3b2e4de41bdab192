-- ON clauses see the FROM items joined so far and the one they join, never
-- a later one: names of a later item are refused as unknown columns (SQLite
-- says "ON clause references tables to its right" where a RIGHT or FULL
-- JOIN is involved; ivm's message and position are in join_on_scope.err).
-- Legal forms around them: ON over earlier items, USING, NATURAL, a
-- subquery in FROM, a comma join then JOIN, each as a view maintained
-- through changes.  (SQLite accepts such an ON clause in a CREATE VIEW and
-- refuses it only when the view is read, and it accepts one naming a later
-- item of inner joins only, which ivm refuses: neither is here.)
.nullvalue NULL
CREATE TABLE a (x INTEGER, k INTEGER);
CREATE TABLE b (y INTEGER, k INTEGER);
CREATE TABLE c (z INTEGER, k INTEGER);
SELECT * FROM a RIGHT JOIN b ON a.x = c.z JOIN c ON b.y = c.z;
SELECT * FROM a FULL JOIN b ON a.x = c.z, c;
SELECT * FROM a JOIN b ON a.x = b.y RIGHT JOIN c ON b.y = c.z
  LEFT JOIN a a2 ON a2.x = c3.z JOIN c c3 ON 1;
CREATE VIEW v_on AS SELECT a.x, b.y, c.z FROM a JOIN b ON a.x = b.y RIGHT JOIN c ON c.z = a.x;
CREATE VIEW v_using AS SELECT * FROM a JOIN b USING (k) LEFT JOIN c USING (k);
CREATE VIEW v_natural AS SELECT * FROM a NATURAL JOIN b;
CREATE VIEW v_sub AS SELECT a.x, s.y FROM a LEFT JOIN (SELECT y, k FROM b WHERE y > 0) s ON s.k = a.k;
CREATE VIEW v_comma AS SELECT a.x, b.y, c.z FROM a, b JOIN c ON c.z = a.x AND c.k = b.k;
INSERT INTO a VALUES (1, 1), (2, 2), (3, NULL);
INSERT INTO b VALUES (1, 1), (3, 2), (4, 2);
INSERT INTO c VALUES (1, 1), (2, 2), (5, NULL);
SELECT * FROM v_on ORDER BY 1, 2, 3;
SELECT * FROM v_using ORDER BY 1, 2, 3, 4;
SELECT * FROM v_natural ORDER BY 1, 2, 3;
SELECT * FROM v_sub ORDER BY 1, 2;
SELECT * FROM v_comma ORDER BY 1, 2, 3;
DELETE FROM c WHERE z = 1;
INSERT INTO a VALUES (4, 2), (5, 1);
UPDATE b SET k = 1 WHERE y = 3;
SELECT * FROM v_on ORDER BY 1, 2, 3;
SELECT * FROM v_using ORDER BY 1, 2, 3, 4;
SELECT * FROM v_natural ORDER BY 1, 2, 3;
SELECT * FROM v_sub ORDER BY 1, 2;
SELECT * FROM v_comma ORDER BY 1, 2, 3;
