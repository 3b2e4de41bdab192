-- Constant folding and projection pruning (planner/prune.c) change no result:
-- always-true and never-true filters, constant expressions, joins whose
-- sides carry only the columns used, a cross join that needs no column of
-- one side, under inserts, deletes and updates.
CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER, y TEXT, z REAL);
CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, w TEXT);
CREATE VIEW v_true AS SELECT id, x FROM a WHERE 1 = 1 AND x > 1 + 1;
CREATE VIEW v_false AS SELECT id FROM a WHERE 0;
CREATE VIEW v_null AS SELECT id FROM a WHERE NULL OR 2 < 1;
CREATE VIEW v_cnt AS SELECT count(*) AS n, sum(x) AS s FROM a WHERE 1 > 2;
CREATE VIEW v_join AS SELECT a.y, b.w FROM a JOIN b ON a.id = b.a_id AND 3 > 2 WHERE a.x + 0 * 5 >= abs(-2);
CREATE VIEW v_cross AS SELECT a.id FROM a, b;
CREATE VIEW v_grp AS SELECT b.w, count(*) AS n, max(a.z) AS mz FROM a JOIN b ON a.id = b.a_id GROUP BY b.w;
CREATE VIEW v_lit AS SELECT 'k' || 'v' AS kv, 1 + 2 AS three, x FROM a WHERE 'a' < 'b';
CREATE VIEW v_dual AS SELECT 1 AS one WHERE 0;
CREATE VIEW v_dual2 AS SELECT count(*) AS n WHERE 1 = 0;
INSERT INTO a VALUES (1, 1, 'p', 0.5), (2, 2, 'q', 1.5), (3, 3, 'r', NULL), (4, 5, 's', 2.5);
INSERT INTO b VALUES (10, 1, 'u'), (11, 2, 'u'), (12, 4, 'w'), (13, 4, 'w');
SELECT * FROM v_true ORDER BY id;
SELECT * FROM v_false;
SELECT * FROM v_null;
SELECT * FROM v_cnt;
SELECT * FROM v_join ORDER BY 1, 2;
SELECT count(*) FROM v_cross;
SELECT * FROM v_grp ORDER BY w;
SELECT * FROM v_lit ORDER BY x;
SELECT * FROM v_dual;
SELECT * FROM v_dual2;
DELETE FROM a WHERE id = 4;
UPDATE b SET a_id = 3 WHERE id = 10;
SELECT * FROM v_true ORDER BY id;
SELECT * FROM v_cnt;
SELECT * FROM v_join ORDER BY 1, 2;
SELECT count(*) FROM v_cross;
SELECT * FROM v_grp ORDER BY w;
SELECT a.id, b.w FROM a, b WHERE 0 = 1;
SELECT count(*) FROM a WHERE 1;
