-- A table joined with itself: one change feeds both inputs of the join in
-- the same step, so the dA join dB term matters.  Pairs of employees in the
-- same department, and employees with their managers.
CREATE TABLE emp (id INTEGER PRIMARY KEY, name TEXT, dept TEXT, boss INTEGER);
CREATE VIEW v_pairs AS
    SELECT a.name AS n1, b.name AS n2 FROM emp a JOIN emp b ON a.dept = b.dept
    WHERE a.id < b.id;
CREATE VIEW v_boss AS
    SELECT e.name AS worker, m.name AS manager FROM emp e, emp m WHERE e.boss = m.id;

INSERT INTO emp VALUES (1, 'ada', 'eng', NULL);
SELECT * FROM v_pairs ORDER BY n1, n2;
SELECT * FROM v_boss ORDER BY worker, manager;
INSERT INTO emp VALUES (2, 'bo', 'eng', 1), (3, 'cai', 'ops', 1), (4, 'dan', 'eng', 2);
SELECT * FROM v_pairs ORDER BY n1, n2;
SELECT * FROM v_boss ORDER BY worker, manager;
UPDATE emp SET dept = 'ops' WHERE id = 2;
UPDATE emp SET boss = 4 WHERE id = 1;
SELECT * FROM v_pairs ORDER BY n1, n2;
SELECT a.name AS n1, b.name AS n2 FROM emp a JOIN emp b ON a.dept = b.dept WHERE a.id < b.id ORDER BY n1, n2;
SELECT * FROM v_boss ORDER BY worker, manager;
SELECT e.name AS worker, m.name AS manager FROM emp e, emp m WHERE e.boss = m.id ORDER BY worker, manager;
-- A row that is its own manager joins with itself.
INSERT INTO emp VALUES (5, 'eli', 'ops', 5);
DELETE FROM emp WHERE id = 4;
SELECT * FROM v_pairs ORDER BY n1, n2;
SELECT * FROM v_boss ORDER BY worker, manager;
DELETE FROM emp;
SELECT COUNT(*) FROM v_pairs;
SELECT COUNT(*) FROM v_boss;
