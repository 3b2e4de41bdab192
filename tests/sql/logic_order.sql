-- Three-valued logic (AND, OR, NOT over 0, 1, NULL and text), IS / IS NOT,
-- IS [NOT] DISTINCT FROM, [NOT] IN (list) with NULLs (NULL when nothing
-- matches and a NULL is involved; x IN () is false), [NOT] BETWEEN with
-- NULL bounds, ISNULL / NOTNULL / NOT NULL, and ad-hoc ORDER BY
-- [ASC|DESC] [NULLS FIRST|LAST] over several keys, with LIMIT and OFFSET.
.nullvalue NULL
SELECT 1 AND NULL, 0 AND NULL, 1 OR NULL, 0 OR NULL, NOT NULL, NULL AND NULL, 'x' OR 0, '1' AND 2;
SELECT 1 IS NULL, NULL IS NULL, 1 IS 1, 1 IS NOT 2, NULL IS NOT NULL, 1 IS DISTINCT FROM NULL, NULL IS NOT DISTINCT FROM NULL, 2 IS DISTINCT FROM 2;
SELECT 1 IN (1, NULL), 2 IN (1, NULL), 2 NOT IN (1, NULL), NULL IN (1, 2), NULL IN (), 1 NOT IN (), 1 IN (2, 3), 1.0 IN (1), 'a' IN ('A', 'a');
SELECT 2 BETWEEN 1 AND 3, 2 BETWEEN NULL AND 3, 5 BETWEEN NULL AND 3, 2 NOT BETWEEN 3 AND 4, NULL BETWEEN 1 AND 2, 'b' BETWEEN 'a' AND 'c';
SELECT NULL ISNULL, 1 NOTNULL, NULL NOT NULL, (1 = NULL) IS NULL;

CREATE TABLE l (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, s TEXT);
INSERT INTO l VALUES (1, 1, 0, 'x'), (2, NULL, 1, NULL), (3, 0, NULL, 'y'), (4, NULL, NULL, 'x'),
                     (5, 1, 1, 'z'), (6, 3, 2, NULL);
CREATE VIEW v_logic AS
    SELECT id, a AND b AS a_and, a OR b AS a_or, NOT a AS na, a IS b AS same,
           a IS DISTINCT FROM b AS differ, a IN (1, 3) AS in13, b NOT IN (0, NULL) AS nin,
           a BETWEEN b AND 2 AS btw, s IS NOT NULL AS has_s
    FROM l;
CREATE VIEW v_where AS SELECT id FROM l WHERE (a OR b) AND NOT (s IN ('y', NULL)) AND a IS NOT b;
SELECT * FROM v_logic ORDER BY id;
SELECT * FROM v_where ORDER BY id;
INSERT INTO l VALUES (7, 0, 0, 'q'), (8, 2, NULL, 'y');
UPDATE l SET b = NULL WHERE id = 1;
UPDATE l SET a = 1 WHERE id = 4;
DELETE FROM l WHERE id = 5;
SELECT * FROM v_logic ORDER BY id;
SELECT * FROM v_where ORDER BY id;

-- ORDER BY in ad-hoc queries.
SELECT id, a, b FROM l ORDER BY a, id;
SELECT id, a, b FROM l ORDER BY a DESC, id;
SELECT id, a, b FROM l ORDER BY a NULLS LAST, id DESC;
SELECT id, a, b FROM l ORDER BY a DESC NULLS FIRST, b ASC NULLS LAST, id;
SELECT id, s FROM l ORDER BY s DESC, id LIMIT 3;
SELECT id, s FROM l ORDER BY s, id LIMIT 2 OFFSET 3;
SELECT id, a + b AS t FROM l ORDER BY t NULLS LAST, 1 DESC;
SELECT id FROM l ORDER BY coalesce(a, 99) - id, id;
SELECT a, COUNT(*) AS n FROM l GROUP BY a ORDER BY n DESC, a NULLS LAST;
