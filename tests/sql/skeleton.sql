-- The walking skeleton end to end: two tables; views with projection and
-- arithmetic, a filter, a two-table join and GROUP BY with every aggregate;
-- then interleaved INSERT, DELETE, UPDATE and multi-statement transactions
-- (one rolled back), reading the views after each change and comparing with
-- the same queries run ad hoc over the tables.
.headers on
CREATE TABLE products (
    pid INTEGER PRIMARY KEY,
    pname TEXT NOT NULL,
    category VARCHAR,
    price REAL NOT NULL
);
CREATE TABLE orders (
    oid BIGINT PRIMARY KEY,
    pid INTEGER NOT NULL,
    qty INTEGER NOT NULL,
    shipped BOOLEAN
);

-- Projection with arithmetic.
CREATE VIEW order_lines AS
    SELECT oid, pid, qty, qty * 2 - 1 AS odd_qty, qty % 3 AS rem FROM orders;
-- Filter.
CREATE VIEW big_orders AS
    SELECT oid, qty FROM orders WHERE qty >= 10 AND NOT shipped;
-- Two-table join with arithmetic over both sides.
CREATE VIEW order_values AS
    SELECT o.oid, p.pname, o.qty * p.price AS value
    FROM orders o JOIN products p ON o.pid = p.pid;
-- GROUP BY with every aggregate.
CREATE VIEW per_product AS
    SELECT pid, COUNT(*) AS n, COUNT(shipped) AS n_known, SUM(qty) AS total,
           AVG(qty) AS mean, MIN(qty) AS smallest, MAX(qty) AS largest
    FROM orders GROUP BY pid;
-- Aggregates over a join, and without GROUP BY.
CREATE VIEW per_category AS
    SELECT p.category, SUM(o.qty * p.price) AS revenue, MIN(p.pname) AS first_name,
           MAX(p.pname) AS last_name
    FROM orders o, products p WHERE o.pid = p.pid GROUP BY p.category;
CREATE VIEW totals AS
    SELECT COUNT(*) AS orders, SUM(qty) AS items, AVG(qty) AS mean_qty FROM orders;

SELECT * FROM totals;

INSERT INTO products VALUES
    (1, 'widget', 'parts', 2.5),
    (2, 'gadget', 'parts', 10.0),
    (3, 'manual', 'books', 7.25);
INSERT INTO orders VALUES
    (100, 1, 4, 0), (101, 1, 12, 0), (102, 2, 1, 1), (103, 3, 10, NULL);

SELECT * FROM order_lines ORDER BY oid;
SELECT * FROM big_orders ORDER BY oid;
SELECT * FROM order_values ORDER BY oid;
SELECT o.oid, p.pname, o.qty * p.price AS value FROM orders o JOIN products p ON o.pid = p.pid ORDER BY o.oid;
SELECT * FROM per_product ORDER BY pid;
SELECT pid, COUNT(*) AS n, COUNT(shipped) AS n_known, SUM(qty) AS total, AVG(qty) AS mean, MIN(qty) AS smallest, MAX(qty) AS largest FROM orders GROUP BY pid ORDER BY pid;
SELECT * FROM per_category ORDER BY category;
SELECT * FROM totals;

-- Interleaved single-statement changes.
INSERT INTO orders VALUES (104, 2, 30, 0);
DELETE FROM orders WHERE oid = 100;
UPDATE orders SET shipped = 1 WHERE oid = 101;
UPDATE products SET price = price * 2 WHERE category = 'parts';
INSERT INTO products VALUES (4, 'atlas', 'books', 30.0);
INSERT INTO orders VALUES (105, 4, 2, NULL);

SELECT * FROM order_lines ORDER BY oid;
SELECT * FROM big_orders ORDER BY oid;
SELECT oid, qty FROM orders WHERE qty >= 10 AND NOT shipped ORDER BY oid;
SELECT * FROM order_values ORDER BY oid;
SELECT * FROM per_product ORDER BY pid;
SELECT * FROM per_category ORDER BY category;
SELECT p.category, SUM(o.qty * p.price) AS revenue, MIN(p.pname) AS first_name, MAX(p.pname) AS last_name FROM orders o, products p WHERE o.pid = p.pid GROUP BY p.category ORDER BY p.category;
SELECT * FROM totals;

-- A multi-statement transaction that commits.
BEGIN;
INSERT INTO orders VALUES (106, 3, 5, 0), (107, 3, 15, 0);
UPDATE orders SET qty = qty + 1 WHERE pid = 2;
DELETE FROM products WHERE pid = 1;
DELETE FROM orders WHERE pid = 1;
COMMIT;

SELECT * FROM order_lines ORDER BY oid;
SELECT * FROM big_orders ORDER BY oid;
SELECT * FROM order_values ORDER BY oid;
SELECT * FROM per_product ORDER BY pid;
SELECT * FROM per_category ORDER BY category;
SELECT * FROM totals;
SELECT COUNT(*) AS orders, SUM(qty) AS items, AVG(qty) AS mean_qty FROM orders;

-- A multi-statement transaction that rolls back: nothing changes.
BEGIN;
DELETE FROM orders;
INSERT INTO products VALUES (5, 'gizmo', 'parts', 1.0);
INSERT INTO orders VALUES (200, 5, 99, 0);
UPDATE products SET price = 0;
ROLLBACK;

SELECT * FROM order_values ORDER BY oid;
SELECT * FROM per_product ORDER BY pid;
SELECT * FROM per_category ORDER BY category;
SELECT * FROM totals;

-- Everything goes.
DELETE FROM orders;
SELECT * FROM order_values ORDER BY oid;
SELECT * FROM per_product ORDER BY pid;
SELECT * FROM totals;
