-- ivm-only
-- What folding and pruning do to circuits, as EXPLAIN shows them: the join
-- below arranges orders as (cust, cust, amount), not its four columns; the
-- cross join arranges custs as rows of no columns; WHERE 1 = 1 leaves no
-- filter and a constant expression is computed once; WHERE 0 leaves an
-- input nothing feeds and no filter.
CREATE TABLE orders (id INTEGER PRIMARY KEY, cust INTEGER, amount REAL, note TEXT);
CREATE TABLE custs (id INTEGER PRIMARY KEY, name TEXT);
CREATE VIEW spend AS SELECT c.name, o.amount FROM orders o JOIN custs c ON o.cust = c.id;
EXPLAIN VIEW spend;
CREATE VIEW pairs AS SELECT o.id FROM orders o, custs c;
EXPLAIN VIEW pairs;
EXPLAIN SELECT id, 2 * 3 + 1 AS k, upper('a' || 'b') AS t FROM orders WHERE 1 = 1 AND amount > 10 / 4;
EXPLAIN SELECT count(*) AS n FROM orders WHERE 0;
INSERT INTO orders VALUES (1, 1, 5.0, 'x'), (2, 1, 7.5, 'y'), (3, 2, 1.0, NULL);
INSERT INTO custs VALUES (1, 'ann'), (2, 'bob');
SELECT * FROM spend ORDER BY name, amount;
SELECT count(*) FROM pairs;
