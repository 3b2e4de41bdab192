-- DISTINCT aggregates (COUNT, SUM, TOTAL, AVG, GROUP_CONCAT; MIN and MAX,
-- where DISTINCT changes nothing) and FILTER (WHERE ...) on every
-- aggregate, alone and together, grouped and global, through views
-- maintained as duplicates come and go and rows move in and out of a
-- filter.  Values are inserted in value order within each group, so that
-- GROUP_CONCAT's order is SQLite's too (see aggregates_more.sql).
.nullvalue NULL
CREATE TABLE f (id INTEGER PRIMARY KEY, k TEXT, x INTEGER, y REAL, ok INTEGER);
INSERT INTO f VALUES
    (1, 'p', 1, 0.5, 1), (2, 'p', 1, 0.5, 0), (3, 'p', 2, 1.5, 1), (4, 'p', NULL, NULL, 1),
    (5, 'q', 5, 2.0, 0), (6, 'q', 5, 2.0, 0), (7, 'q', 7, 4.0, 1), (8, 'r', NULL, 1.0, NULL);

CREATE VIEW v_distinct AS
    SELECT k, COUNT(DISTINCT x) AS cd, SUM(DISTINCT x) AS sd, TOTAL(DISTINCT y) AS td,
           AVG(DISTINCT x) AS ad, GROUP_CONCAT(DISTINCT x) AS gd, MIN(DISTINCT x) AS mn,
           MAX(DISTINCT y) AS mx, COUNT(x) AS c_all
    FROM f GROUP BY k;
CREATE VIEW v_filter AS
    SELECT k, COUNT(*) FILTER (WHERE ok) AS n_ok, COUNT(x) FILTER (WHERE ok = 0) AS n_bad,
           SUM(x) FILTER (WHERE y > 1) AS s_big, TOTAL(y) FILTER (WHERE ok) AS t_ok,
           AVG(x) FILTER (WHERE x > 1) AS a_gt1, MIN(y) FILTER (WHERE ok) AS min_ok,
           MAX(x) FILTER (WHERE ok IS NULL OR ok = 0) AS max_other,
           GROUP_CONCAT(id, '+') FILTER (WHERE ok) AS ids_ok
    FROM f GROUP BY k;
CREATE VIEW v_both AS
    SELECT COUNT(DISTINCT x) FILTER (WHERE ok) AS cdf, SUM(DISTINCT x) FILTER (WHERE y < 3) AS sdf,
           GROUP_CONCAT(DISTINCT k) FILTER (WHERE x IS NOT NULL) AS keys, COUNT(*) AS n
    FROM f;
SELECT * FROM v_distinct ORDER BY k;
SELECT k, COUNT(DISTINCT x), SUM(DISTINCT x), TOTAL(DISTINCT y), AVG(DISTINCT x), GROUP_CONCAT(DISTINCT x), MIN(DISTINCT x), MAX(DISTINCT y), COUNT(x) FROM f GROUP BY k ORDER BY k;
SELECT * FROM v_filter ORDER BY k;
SELECT k, COUNT(*) FILTER (WHERE ok), COUNT(x) FILTER (WHERE ok = 0), SUM(x) FILTER (WHERE y > 1), TOTAL(y) FILTER (WHERE ok), AVG(x) FILTER (WHERE x > 1), MIN(y) FILTER (WHERE ok), MAX(x) FILTER (WHERE ok IS NULL OR ok = 0), GROUP_CONCAT(id, '+') FILTER (WHERE ok) FROM f GROUP BY k ORDER BY k;
SELECT * FROM v_both;

-- A duplicate disappears (DISTINCT unchanged), the last copy goes (changed),
-- rows cross the filter both ways, a group empties.
DELETE FROM f WHERE id = 2;
SELECT * FROM v_distinct ORDER BY k;
UPDATE f SET ok = 1 WHERE id = 5;
UPDATE f SET ok = 0 WHERE id = 3;
DELETE FROM f WHERE id = 1;
INSERT INTO f VALUES (9, 'q', 9, 9.0, 1), (10, 'r', 3, 3.0, 1), (11, 's', 4, 0.25, 0);
DELETE FROM f WHERE k = 'r' AND x IS NULL;
SELECT * FROM v_distinct ORDER BY k;
SELECT * FROM v_filter ORDER BY k;
SELECT * FROM v_both;
SELECT k, COUNT(DISTINCT x), SUM(DISTINCT x), TOTAL(DISTINCT y), AVG(DISTINCT x), GROUP_CONCAT(DISTINCT x), MIN(DISTINCT x), MAX(DISTINCT y), COUNT(x) FROM f GROUP BY k ORDER BY k;
SELECT COUNT(DISTINCT x) FILTER (WHERE ok), SUM(DISTINCT x) FILTER (WHERE y < 3), GROUP_CONCAT(DISTINCT k) FILTER (WHERE x IS NOT NULL), COUNT(*) FROM f;
