-- Aggregates beyond the basics: TOTAL (REAL, 0.0 over nothing), GROUP_CONCAT
-- with the default and a given separator (NULL values skipped, a NULL
-- separator empty), aggregates over expressions, scalar functions of
-- aggregates, HAVING with functions, GROUP BY expressions and ordinals, and
-- an aggregate view without GROUP BY over an emptied table.
--
-- GROUP_CONCAT: SQLite joins values in scan order, which a maintained view
-- cannot reproduce; ivm joins them in value order (sql/README.md).  Here the
-- rows of each group are inserted in value order and updates keep that
-- order, so that both orders agree and SQLite checks the results.
.nullvalue NULL
CREATE TABLE g (id INTEGER PRIMARY KEY, grp TEXT, v INTEGER, w REAL, tag TEXT);
CREATE VIEW v_all AS SELECT COUNT(*) AS n, TOTAL(v) AS tv, SUM(v) AS sv, GROUP_CONCAT(id, ';') AS ids, AVG(w) AS aw FROM g;
SELECT * FROM v_all;
SELECT COUNT(*), TOTAL(v), SUM(v), GROUP_CONCAT(id, ';'), AVG(w) FROM g;
INSERT INTO g VALUES
    (1, 'a', 1, 0.5, 'a1'), (2, 'a', 2, 1.5, 'a2'), (3, 'a', 3, NULL, 'a3'),
    (4, 'b', NULL, 2.0, 'b1'), (5, 'b', 10, 4.0, NULL), (6, 'b', 20, 8.0, 'b3'),
    (7, 'c', NULL, NULL, NULL);
SELECT * FROM v_all;

CREATE VIEW v_grp AS
    SELECT grp, COUNT(*) AS n, TOTAL(v) AS tv, SUM(v) AS sv, GROUP_CONCAT(tag) AS tags,
           GROUP_CONCAT(v, '-') AS vs, GROUP_CONCAT(tag, NULL) AS glued,
           MAX(v) - MIN(v) AS spread, ROUND(AVG(w), 2) AS aw, SUM(v * 2 + 1) AS expr_sum,
           printf('%s:%d', grp, COUNT(v)) AS label, TOTAL(w) / COUNT(*) AS mean_w
    FROM g GROUP BY grp;
CREATE VIEW v_having AS SELECT grp, SUM(v) AS sv FROM g GROUP BY grp HAVING TOTAL(v) > 5 OR length(GROUP_CONCAT(tag)) > 6;
CREATE VIEW v_expr AS SELECT v % 2 AS parity, COUNT(*) AS n, GROUP_CONCAT(id, ',') AS ids FROM g WHERE v IS NOT NULL GROUP BY v % 2;
CREATE VIEW v_ord AS SELECT upper(grp) AS g2, COUNT(*) AS n FROM g GROUP BY 1;
SELECT * FROM v_grp ORDER BY grp;
SELECT grp, COUNT(*), TOTAL(v), SUM(v), GROUP_CONCAT(tag), GROUP_CONCAT(v, '-'), GROUP_CONCAT(tag, NULL), MAX(v) - MIN(v), ROUND(AVG(w), 2), SUM(v * 2 + 1), printf('%s:%d', grp, COUNT(v)), TOTAL(w) / COUNT(*) FROM g GROUP BY grp ORDER BY grp;
SELECT * FROM v_having ORDER BY grp;
SELECT * FROM v_expr ORDER BY parity;
SELECT * FROM v_ord ORDER BY g2;

INSERT INTO g VALUES (8, 'a', 4, 2.5, 'a4'), (9, 'c', 5, 1.0, 'c2'), (10, 'd', 7, 7.0, 'd1');
UPDATE g SET w = w * 2 WHERE grp = 'b';
UPDATE g SET tag = 'a2x' WHERE id = 2;
DELETE FROM g WHERE id IN (1, 6);
SELECT * FROM v_grp ORDER BY grp;
SELECT * FROM v_having ORDER BY grp;
SELECT * FROM v_expr ORDER BY parity;
SELECT * FROM v_ord ORDER BY g2;
SELECT * FROM v_all;

DELETE FROM g;
SELECT * FROM v_grp ORDER BY grp;
SELECT * FROM v_all;
SELECT COUNT(*), TOTAL(v), SUM(v), GROUP_CONCAT(id, ';'), AVG(w) FROM g;
