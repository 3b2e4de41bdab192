-- GROUP BY views whose aggregates all fold exactly (COUNT, and SUM, TOTAL,
-- AVG without DISTINCT) keep no integral of their input (dbsp/README.md,
-- D8, "Counts keep no integral"): groups that empty and come back, a
-- global group deleted to zero rows, REAL and text summands mixed with
-- INT ones (their rows are the only ones kept), FILTER, and SUM's
-- "integer overflow" must behave as with the integral.  REAL values are
-- exact binary fractions so that sums do not depend on their order.
CREATE TABLE r (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER, x REAL, t TEXT);
CREATE TABLE s (k INTEGER, w INTEGER);
CREATE VIEW v_join AS
    SELECT r.k, COUNT(*) AS n, SUM(v + w) AS sv, AVG(v) AS av, TOTAL(w) AS tw
    FROM r JOIN s ON r.k = s.k GROUP BY r.k;
CREATE VIEW v_mixed AS
    SELECT k, SUM(x) AS sx, SUM(t) AS st, TOTAL(x) AS tx, AVG(t) AS at,
           SUM(v) FILTER (WHERE x > 0) AS sf, COUNT(x) AS nx
    FROM r GROUP BY k;
CREATE VIEW v_global AS SELECT COUNT(*) AS n, SUM(v) AS sv, AVG(x) AS ax, TOTAL(t) AS tt FROM r;

INSERT INTO s VALUES (1, 10), (2, 20), (3, 30);
INSERT INTO r VALUES (1, 1, 5, 0.5, '7'), (2, 1, 6, NULL, 'x'), (3, 2, 7, 1.25, '2.5'),
                     (4, 3, NULL, -0.75, NULL);
SELECT * FROM v_join ORDER BY k;
SELECT * FROM v_mixed ORDER BY k;
SELECT * FROM v_global;

-- Group 2 vanishes, then comes back with other rows.
DELETE FROM r WHERE k = 2;
SELECT * FROM v_join ORDER BY k;
SELECT * FROM v_mixed ORDER BY k;
INSERT INTO r VALUES (5, 2, 1, 0.25, '3');
SELECT * FROM v_join ORDER BY k;
SELECT * FROM v_mixed ORDER BY k;

-- REAL rows leave a group that keeps INT rows, and come back in one
-- transaction with an update.
UPDATE r SET x = NULL, t = '4' WHERE id = 1;
SELECT * FROM v_mixed ORDER BY k;
BEGIN;
UPDATE r SET x = 2.5 WHERE id = 2;
INSERT INTO r VALUES (6, 1, 8, -1.5, '1e1');
COMMIT;
SELECT * FROM v_mixed ORDER BY k;

-- Everything deleted: the grouped views empty, the global row stays.
DELETE FROM r;
SELECT * FROM v_join ORDER BY k;
SELECT * FROM v_mixed ORDER BY k;
SELECT * FROM v_global;
INSERT INTO r VALUES (7, 3, 2, 0.5, '1');
SELECT * FROM v_join ORDER BY k;
SELECT * FROM v_global;

-- SUM of INT values beyond 64 bits is an error; back in range it is not.
INSERT INTO r VALUES (8, 3, 9223372036854775807, NULL, NULL);
INSERT INTO r VALUES (9, 3, 9223372036854775807, NULL, NULL);
SELECT * FROM v_mixed ORDER BY k;
SELECT * FROM v_global;
DELETE FROM r WHERE id = 8;
SELECT * FROM v_mixed ORDER BY k;
SELECT * FROM v_global;
-- v + w overflows to a REAL, as in SQLite: the sum is a REAL.
SELECT * FROM v_join ORDER BY k;
