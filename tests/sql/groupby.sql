-- GROUP BY views with every aggregate: COUNT(*), COUNT(x), SUM, AVG, MIN,
-- MAX (also on text), grouped by one and by two columns; an aggregate view
-- without GROUP BY has exactly one row, even over an empty table.  Changes
-- retract the current MIN/MAX, move rows between groups, and empty a group
-- (it disappears) or the whole table.  REAL values are exact binary
-- fractions so that sums do not depend on the order of additions.
CREATE TABLE sales (
    id INTEGER PRIMARY KEY,
    region TEXT NOT NULL,
    product TEXT,
    qty INTEGER,
    price REAL
);
CREATE VIEW v_region AS
    SELECT region, COUNT(*) AS n, COUNT(qty) AS nq, SUM(qty) AS total, AVG(qty) AS avg_qty,
           MIN(qty) AS min_qty, MAX(qty) AS max_qty, MIN(product) AS first_product,
           MAX(product) AS last_product, SUM(price) AS revenue
    FROM sales GROUP BY region;
CREATE VIEW v_region_product AS
    SELECT region, product, COUNT(*) AS n, SUM(qty * price) AS value
    FROM sales GROUP BY region, product;
CREATE VIEW v_all AS
    SELECT COUNT(*) AS n, COUNT(product) AS np, SUM(qty) AS total, AVG(price) AS avg_price,
           MIN(price) AS lo, MAX(price) AS hi, MIN(region) AS r1, MAX(region) AS r2
    FROM sales;
CREATE VIEW v_big AS
    SELECT product, MAX(qty) AS most FROM sales WHERE qty > 2 GROUP BY product;

-- Empty table: the grouped views are empty, the global one has one row.
SELECT * FROM v_region ORDER BY region;
SELECT * FROM v_all;
SELECT COUNT(*) AS n, COUNT(product) AS np, SUM(qty) AS total, AVG(price) AS avg_price, MIN(price) AS lo, MAX(price) AS hi, MIN(region) AS r1, MAX(region) AS r2 FROM sales;

INSERT INTO sales VALUES
    (1, 'north', 'bolt', 10, 0.5),
    (2, 'north', 'nut', 4, 0.25),
    (3, 'south', 'bolt', 1, 0.5),
    (4, 'south', 'gear', NULL, 8.0),
    (5, 'east', 'nut', 7, 0.25),
    (6, 'north', 'bolt', 3, 0.75);

SELECT * FROM v_region ORDER BY region;
SELECT region, COUNT(*) AS n, COUNT(qty) AS nq, SUM(qty) AS total, AVG(qty) AS avg_qty, MIN(qty) AS min_qty, MAX(qty) AS max_qty, MIN(product) AS first_product, MAX(product) AS last_product, SUM(price) AS revenue FROM sales GROUP BY region ORDER BY region;
SELECT * FROM v_region_product ORDER BY region, product;
SELECT region, product, COUNT(*) AS n, SUM(qty * price) AS value FROM sales GROUP BY region, product ORDER BY region, product;
SELECT * FROM v_all;
SELECT * FROM v_big ORDER BY product;

-- Retract the maximum and the minimum of a group.
DELETE FROM sales WHERE id = 1;
UPDATE sales SET qty = 0 WHERE id = 2;
SELECT * FROM v_region ORDER BY region;
SELECT * FROM v_all;
SELECT * FROM v_big ORDER BY product;

-- Move rows between groups; empty a group; create a new one.
UPDATE sales SET region = 'south' WHERE id = 6;
DELETE FROM sales WHERE region = 'east';
INSERT INTO sales VALUES (7, 'west', 'axle', 2, 16.0), (8, 'west', 'axle', 5, 16.0);
UPDATE sales SET product = 'cog' WHERE product = 'gear';
SELECT * FROM v_region ORDER BY region;
SELECT region, COUNT(*) AS n, COUNT(qty) AS nq, SUM(qty) AS total, AVG(qty) AS avg_qty, MIN(qty) AS min_qty, MAX(qty) AS max_qty, MIN(product) AS first_product, MAX(product) AS last_product, SUM(price) AS revenue FROM sales GROUP BY region ORDER BY region;
SELECT * FROM v_region_product ORDER BY region, product;
SELECT * FROM v_all;
SELECT * FROM v_big ORDER BY product;
SELECT product, MAX(qty) AS most FROM sales WHERE qty > 2 GROUP BY product ORDER BY product;

-- A group key made of an expression.
CREATE VIEW v_parity AS
    SELECT id % 2 AS odd, COUNT(*) AS n, SUM(id) AS ids FROM sales GROUP BY id % 2;
SELECT * FROM v_parity ORDER BY odd;
INSERT INTO sales VALUES (9, 'west', 'pin', 1, 0.125);
SELECT * FROM v_parity ORDER BY odd;
SELECT id % 2 AS odd, COUNT(*) AS n, SUM(id) AS ids FROM sales GROUP BY id % 2 ORDER BY odd;

-- Back to empty: the global row returns to its empty values.
DELETE FROM sales;
SELECT * FROM v_region ORDER BY region;
SELECT * FROM v_region_product ORDER BY region, product;
SELECT * FROM v_all;
SELECT * FROM v_parity ORDER BY odd;
INSERT INTO sales VALUES (10, 'north', 'bolt', 6, 1.5);
SELECT * FROM v_region ORDER BY region;
SELECT * FROM v_all;
