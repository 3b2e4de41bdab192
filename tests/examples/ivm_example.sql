-- The changes examples/ivm_example.c pushes through the C API, as SQL.
-- tests/examples/run.sh compares what sqlite3 prints for it with the
-- view contents the example prints after each commit.
CREATE TABLE customers(id INTEGER PRIMARY KEY, region TEXT NOT NULL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, amount INTEGER);
CREATE VIEW sales AS SELECT region, COUNT(*) AS n, SUM(amount) AS total
  FROM orders JOIN customers ON orders.customer = customers.id
  GROUP BY region;
BEGIN;
INSERT INTO customers VALUES (1, 'north'), (2, 'south');
INSERT INTO orders VALUES (10, 1, 30), (11, 2, 5), (12, 1, 12), (13, 2, 40);
COMMIT;
SELECT 'sales after commit 1:';
SELECT * FROM sales ORDER BY region, n, total;
BEGIN;
DELETE FROM orders WHERE id = 10;
INSERT OR REPLACE INTO orders VALUES (11, 2, 7);
DELETE FROM customers WHERE id = 2 AND region = 'south';
INSERT INTO customers VALUES (2, 'east');
COMMIT;
SELECT 'sales after commit 2:';
SELECT * FROM sales ORDER BY region, n, total;
BEGIN;
INSERT INTO orders VALUES (14, 1, 8);
COMMIT;
SELECT 'sales after commit 3:';
SELECT * FROM sales ORDER BY region, n, total;
