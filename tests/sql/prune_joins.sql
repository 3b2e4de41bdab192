-- Pruning and folding under outer, semi and anti joins, WITH tables read
-- twice, FROM subqueries and UNION ALL, and a top-k over a LEFT JOIN: the
-- results are SQLite's under inserts, deletes and updates.
CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER, y TEXT, z REAL);
CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, w TEXT, v INTEGER);
CREATE VIEW lj AS SELECT a.y, b.w FROM a LEFT JOIN b ON a.id = b.a_id AND b.v > 1;
CREATE VIEW fj AS SELECT a.x, b.v FROM a FULL JOIN b ON a.id = b.a_id;
CREATE VIEW semi AS SELECT y FROM a WHERE id IN (SELECT a_id FROM b WHERE v > 0);
CREATE VIEW anti AS SELECT y, z FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id);
CREATE VIEW cte AS WITH s AS (SELECT a.id, a.x, b.w FROM a JOIN b ON a.id = b.a_id) SELECT s1.x, s2.w FROM s s1 JOIN s s2 ON s1.id = s2.id;
CREATE VIEW top_lj AS SELECT a.y, b.w FROM a LEFT JOIN b ON a.id = b.a_id ORDER BY a.y DESC, b.w LIMIT 3;
CREATE VIEW un AS SELECT y FROM a WHERE 0 UNION ALL SELECT w FROM b WHERE 1 = 1;
CREATE VIEW sub AS SELECT t.y FROM (SELECT y, x FROM a WHERE x > 1) t JOIN b ON t.x = b.v;
INSERT INTO a VALUES (1, 1, 'p', 0.5), (2, 2, 'q', 1.5), (3, 3, 'r', NULL), (4, 5, 's', 2.5);
INSERT INTO b VALUES (10, 1, 'u', 2), (11, 2, 'u', 0), (12, 4, 'w', 3), (13, 9, 'w', 5);
SELECT * FROM lj ORDER BY 1, 2;
SELECT * FROM fj ORDER BY 1, 2;
SELECT * FROM semi ORDER BY 1;
SELECT * FROM anti ORDER BY 1;
SELECT * FROM cte ORDER BY 1, 2;
SELECT * FROM top_lj ORDER BY 1, 2;
SELECT * FROM un ORDER BY 1;
SELECT * FROM sub ORDER BY 1;
DELETE FROM a WHERE id = 4;
UPDATE b SET a_id = 3, v = 7 WHERE id = 11;
SELECT * FROM lj ORDER BY 1, 2;
SELECT * FROM fj ORDER BY 1, 2;
SELECT * FROM semi ORDER BY 1;
SELECT * FROM anti ORDER BY 1;
SELECT * FROM cte ORDER BY 1, 2;
SELECT * FROM top_lj ORDER BY 1, 2;
SELECT * FROM sub ORDER BY 1;
