-- Top-k views: ORDER BY ... LIMIT n [OFFSET m] maintained under inserts,
-- deletes and updates (dbsp/op_topk.c).  Every ORDER BY here decides the
-- view's rows (ties only between equal result rows), so SQLite and ivm
-- agree; reads order the rows themselves, since a view's rows have no order.
CREATE TABLE scores (id INTEGER PRIMARY KEY, name TEXT, team TEXT, pts INTEGER, t REAL);
CREATE VIEW best3 AS SELECT name, pts FROM scores ORDER BY pts DESC, id LIMIT 3;
CREATE VIEW next2 AS SELECT id FROM scores ORDER BY pts DESC, id LIMIT 2 OFFSET 2;
CREATE VIEW comma AS SELECT id FROM scores ORDER BY id LIMIT 1, 2;
CREATE VIEW none0 AS SELECT id FROM scores ORDER BY id LIMIT 0;
CREATE VIEW by_t AS SELECT id, t FROM scores ORDER BY t NULLS LAST, id LIMIT 4;
CREATE VIEW by_t_desc AS SELECT id, t FROM scores ORDER BY t DESC NULLS FIRST, id DESC LIMIT 3;
CREATE VIEW hidden AS SELECT name FROM scores ORDER BY t, id LIMIT 2;
INSERT INTO scores VALUES (1, 'ann', 'red', 10, 1.5), (2, 'bob', 'blue', 30, NULL),
  (3, 'cy', 'red', 20, 0.25), (4, 'dee', 'blue', 5, -2.0), (5, 'eve', 'green', 30, 7.0);
SELECT * FROM best3 ORDER BY pts DESC, name;
SELECT * FROM next2 ORDER BY id;
SELECT * FROM comma ORDER BY id;
SELECT count(*) FROM none0;
SELECT * FROM by_t ORDER BY id;
SELECT * FROM by_t_desc ORDER BY id;
SELECT * FROM hidden ORDER BY name;
-- A row enters the top and pushes the last one out.
INSERT INTO scores VALUES (6, 'fay', 'red', 25, NULL);
SELECT * FROM best3 ORDER BY pts DESC, name;
SELECT * FROM next2 ORDER BY id;
SELECT * FROM by_t_desc ORDER BY id;
-- A row of the top leaves: the next one moves up.
DELETE FROM scores WHERE id = 2;
SELECT * FROM best3 ORDER BY pts DESC, name;
SELECT * FROM next2 ORDER BY id;
SELECT * FROM comma ORDER BY id;
-- Updates move rows across the boundary both ways.
UPDATE scores SET pts = 1 WHERE id = 5;
UPDATE scores SET pts = 99, t = -5.0 WHERE id = 4;
SELECT * FROM best3 ORDER BY pts DESC, name;
SELECT * FROM next2 ORDER BY id;
SELECT * FROM by_t ORDER BY id;
SELECT * FROM hidden ORDER BY name;
-- Changes below the top change nothing; a rolled back transaction neither.
INSERT INTO scores VALUES (7, 'gus', 'green', 0, 100.0);
BEGIN;
DELETE FROM scores WHERE pts > 20;
SELECT * FROM best3 ORDER BY pts DESC, name;
ROLLBACK;
SELECT * FROM best3 ORDER BY pts DESC, name;
SELECT * FROM by_t ORDER BY id;
-- Top-k of an aggregate, and of a join.
CREATE VIEW top_team AS SELECT team, sum(pts) AS total FROM scores
  GROUP BY team ORDER BY total DESC LIMIT 2;
CREATE TABLE teams (team TEXT PRIMARY KEY, city TEXT);
INSERT INTO teams VALUES ('red', 'Oslo'), ('blue', 'Rome'), ('green', 'Lima');
CREATE VIEW top_city AS SELECT s.name, t.city FROM scores s JOIN teams t ON s.team = t.team
  ORDER BY t.city, s.name LIMIT 3;
SELECT * FROM top_team ORDER BY total DESC;
SELECT * FROM top_city ORDER BY city, name;
UPDATE scores SET team = 'green' WHERE id = 3;
UPDATE teams SET city = 'Athens' WHERE team = 'green';
SELECT * FROM top_team ORDER BY total DESC;
SELECT * FROM top_city ORDER BY city, name;
-- Duplicate rows: LIMIT counts each copy; a view over a top-k view.
CREATE TABLE d (x INTEGER);
CREATE VIEW d2 AS SELECT x FROM d ORDER BY x DESC LIMIT 3;
CREATE VIEW d2sum AS SELECT count(*) AS n, sum(x) AS s FROM d2;
INSERT INTO d VALUES (5), (5), (5), (5), (1), (9);
SELECT * FROM d2 ORDER BY x;
SELECT * FROM d2sum;
DELETE FROM d WHERE x = 9;
SELECT * FROM d2 ORDER BY x;
SELECT * FROM d2sum;
DELETE FROM d WHERE x = 5;
SELECT * FROM d2 ORDER BY x;
SELECT * FROM d2sum;
-- Numbers order by value across INT and REAL; NULL is least; text after
-- numbers, by bytes.
CREATE TABLE m (id INTEGER PRIMARY KEY, k INTEGER, i INTEGER, r REAL, s TEXT);
CREATE VIEW m_lo AS SELECT id FROM m
  ORDER BY CASE k WHEN 0 THEN i WHEN 1 THEN r WHEN 2 THEN s END, id LIMIT 5;
CREATE VIEW m_hi AS SELECT id FROM m
  ORDER BY CASE k WHEN 0 THEN i WHEN 1 THEN r WHEN 2 THEN s END DESC, id LIMIT 5;
INSERT INTO m VALUES (1, 0, 2, 0, ''), (2, 1, 0, 1.5, ''), (3, 2, 0, 0, 'a'), (4, 3, 0, 0, ''),
  (5, 0, 1, 0, ''), (6, 2, 0, 0, 'B'), (7, 0, 9007199254740993, 0, ''),
  (8, 1, 0, 9007199254740992.0, ''), (9, 1, 0, -0.5, ''), (10, 1, 0, 1.0, '');
SELECT * FROM m_lo ORDER BY id;
SELECT * FROM m_hi ORDER BY id;
DELETE FROM m WHERE id IN (4, 9, 5);
SELECT * FROM m_lo ORDER BY id;
SELECT * FROM m_hi ORDER BY id;
