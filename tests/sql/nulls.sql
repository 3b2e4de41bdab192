-- NULL semantics: comparisons with NULL are NULL (a WHERE drops the row),
-- three-valued AND/OR/NOT, IS NULL / IS NOT NULL, NULL in arithmetic and ||,
-- NULLs sort first, COUNT(x) skips NULLs, SUM/MIN/MAX/AVG of only NULLs is
-- NULL, GROUP BY and DISTINCT put all NULLs in one group, and a join never
-- matches NULL keys.  .nullvalue makes NULL visible.
.nullvalue NULL
CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, r REAL);
CREATE TABLE u (k INTEGER, label TEXT);
INSERT INTO t VALUES
    (1, 1, 'x', 1.5),
    (2, NULL, 'x', NULL),
    (3, 3, NULL, 2.5),
    (4, NULL, NULL, NULL),
    (5, 5, 'y', 0.5);
INSERT INTO u VALUES (1, 'one'), (NULL, 'null key'), (3, NULL), (NULL, 'other null');

CREATE VIEW v_isnull AS SELECT id FROM t WHERE a IS NULL;
CREATE VIEW v_notnull AS SELECT id, a FROM t WHERE a IS NOT NULL AND b IS NOT NULL;
CREATE VIEW v_eqnull AS SELECT id FROM t WHERE a = NULL OR a <> NULL;
CREATE VIEW v_cmp AS SELECT id FROM t WHERE a > 2;
CREATE VIEW v_notcmp AS SELECT id FROM t WHERE NOT (a > 2);
CREATE VIEW v_logic AS
    SELECT id, a > 2 AND b = 'x' AS and1, a > 2 OR b = 'x' AS or1, NOT (a > 2) AS not1,
           a IS NULL AS isn, a + 1 AS inc, b || '!' AS bang, r * 2 AS dbl
    FROM t;
CREATE VIEW v_group AS
    SELECT b, COUNT(*) AS n, COUNT(a) AS na, SUM(a) AS sa, MIN(a) AS mn, MAX(a) AS mx,
           AVG(r) AS ar
    FROM t GROUP BY b;
CREATE VIEW v_distinct AS SELECT DISTINCT b FROM t;
CREATE VIEW v_join AS SELECT t.id, u.label FROM t JOIN u ON t.a = u.k;

SELECT * FROM v_isnull ORDER BY id;
SELECT * FROM v_notnull ORDER BY id;
SELECT * FROM v_eqnull ORDER BY id;
SELECT * FROM v_cmp ORDER BY id;
SELECT * FROM v_notcmp ORDER BY id;
SELECT * FROM v_logic ORDER BY id;
SELECT * FROM v_group ORDER BY b;
SELECT b, COUNT(*) AS n, COUNT(a) AS na, SUM(a) AS sa, MIN(a) AS mn, MAX(a) AS mx, AVG(r) AS ar FROM t GROUP BY b ORDER BY b;
SELECT * FROM v_distinct ORDER BY b;
SELECT * FROM v_join ORDER BY id, label;
SELECT t.id, u.label FROM t JOIN u ON t.a = u.k ORDER BY t.id, u.label;

-- NULLs come and go.
UPDATE t SET a = 9 WHERE id = 2;
UPDATE t SET a = NULL WHERE id = 5;
UPDATE t SET b = NULL WHERE id = 1;
INSERT INTO t VALUES (6, NULL, 'y', NULL), (7, 3, NULL, 4.0);
INSERT INTO u VALUES (9, 'nine'), (NULL, 'third null');

SELECT * FROM v_isnull ORDER BY id;
SELECT * FROM v_notnull ORDER BY id;
SELECT * FROM v_eqnull ORDER BY id;
SELECT * FROM v_cmp ORDER BY id;
SELECT * FROM v_notcmp ORDER BY id;
SELECT id FROM t WHERE NOT (a > 2) ORDER BY id;
SELECT * FROM v_logic ORDER BY id;
SELECT * FROM v_group ORDER BY b;
SELECT b, COUNT(*) AS n, COUNT(a) AS na, SUM(a) AS sa, MIN(a) AS mn, MAX(a) AS mx, AVG(r) AS ar FROM t GROUP BY b ORDER BY b;
SELECT * FROM v_distinct ORDER BY b;
SELECT * FROM v_join ORDER BY id, label;
SELECT t.id, u.label FROM t JOIN u ON t.a = u.k ORDER BY t.id, u.label;

-- The NULL group empties out and comes back.
DELETE FROM t WHERE b IS NULL;
SELECT * FROM v_group ORDER BY b;
SELECT * FROM v_distinct ORDER BY b;
INSERT INTO t VALUES (8, NULL, NULL, NULL);
SELECT * FROM v_group ORDER BY b;
SELECT * FROM v_distinct ORDER BY b;
SELECT * FROM v_isnull ORDER BY id;
