-- Inner equi-joins of two tables, written as a comma join with WHERE and as
-- JOIN ... ON, with extra filters and projections over both sides.  Changes
-- hit either side alone and both sides in one transaction (the bilinear
-- case d(A join B) = dA join I(B) + I(A) join dB + dA join dB); keys repeat
-- on both sides so matches multiply; updates move rows between keys.
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT);
CREATE TABLE orders (oid INTEGER PRIMARY KEY, cust INTEGER, amount INTEGER, note VARCHAR);
INSERT INTO customers VALUES (1, 'ann', 'oslo'), (2, 'bob', 'rome'), (3, 'cy', 'oslo');
INSERT INTO orders VALUES
    (10, 1, 100, 'a'), (11, 1, 250, 'b'), (12, 2, 75, 'c'), (13, 4, 500, 'orphan');

CREATE VIEW v_comma AS
    SELECT c.name, o.oid, o.amount FROM customers c, orders o WHERE c.id = o.cust;
CREATE VIEW v_on AS
    SELECT customers.name, customers.city, orders.amount * 2 AS dbl
    FROM customers JOIN orders ON customers.id = orders.cust;
CREATE VIEW v_filtered AS
    SELECT c.id, c.name, o.oid FROM customers AS c INNER JOIN orders AS o ON o.cust = c.id
    WHERE o.amount >= 100 AND c.city = 'oslo';
CREATE VIEW v_keys AS
    SELECT o.oid, c.id, o.note || '@' || c.city AS tag FROM orders o JOIN customers c ON c.id = o.cust;

SELECT * FROM v_comma ORDER BY name, oid, amount;
SELECT c.name, o.oid, o.amount FROM customers c, orders o WHERE c.id = o.cust ORDER BY c.name, o.oid, o.amount;
SELECT * FROM v_on ORDER BY name, city, dbl;
SELECT * FROM v_filtered ORDER BY id, name, oid;
SELECT * FROM v_keys ORDER BY oid, id, tag;

-- One side at a time.
INSERT INTO orders VALUES (14, 3, 120, 'd');
INSERT INTO customers VALUES (4, 'dee', 'rome');
DELETE FROM orders WHERE oid = 11;
UPDATE customers SET city = 'oslo' WHERE id = 2;
UPDATE orders SET cust = 3 WHERE oid = 10;

SELECT * FROM v_comma ORDER BY name, oid, amount;
SELECT c.name, o.oid, o.amount FROM customers c, orders o WHERE c.id = o.cust ORDER BY c.name, o.oid, o.amount;
SELECT * FROM v_on ORDER BY name, city, dbl;
SELECT customers.name, customers.city, orders.amount * 2 AS dbl FROM customers JOIN orders ON customers.id = orders.cust ORDER BY 1, 2, 3;
SELECT * FROM v_filtered ORDER BY id, name, oid;
SELECT c.id, c.name, o.oid FROM customers AS c INNER JOIN orders AS o ON o.cust = c.id WHERE o.amount >= 100 AND c.city = 'oslo' ORDER BY c.id, c.name, o.oid;
SELECT * FROM v_keys ORDER BY oid, id, tag;

-- Both sides in one transaction, including a row that joins with a row
-- inserted in the same transaction.
BEGIN;
INSERT INTO customers VALUES (5, 'eve', 'kyiv');
INSERT INTO orders VALUES (15, 5, 300, 'e'), (16, 5, 301, 'f');
DELETE FROM customers WHERE id = 1;
UPDATE orders SET amount = amount + 1 WHERE cust = 3;
COMMIT;

SELECT * FROM v_comma ORDER BY name, oid, amount;
SELECT * FROM v_on ORDER BY name, city, dbl;
SELECT * FROM v_filtered ORDER BY id, name, oid;
SELECT * FROM v_keys ORDER BY oid, id, tag;
SELECT o.oid, c.id, o.note || '@' || c.city AS tag FROM orders o JOIN customers c ON c.id = o.cust ORDER BY o.oid, c.id, tag;

-- The customer key changes: its orders follow the key, not the row.
UPDATE customers SET id = 6 WHERE id = 5;
UPDATE customers SET id = 5 WHERE name = 'dee';
SELECT * FROM v_comma ORDER BY name, oid, amount;
SELECT * FROM v_keys ORDER BY oid, id, tag;

-- Duplicate keys on both sides (tables without a primary key): every pair
-- matches, and deleting one copy removes only its pairs.
CREATE TABLE l (k INTEGER, lv TEXT);
CREATE TABLE r (k INTEGER, rv TEXT);
CREATE VIEW v_dup AS SELECT l.k, lv, rv FROM l JOIN r ON l.k = r.k;
CREATE VIEW v_dup_sum AS SELECT COUNT(*) AS pairs FROM l, r WHERE l.k = r.k;
INSERT INTO l VALUES (1, 'a'), (1, 'b'), (1, 'b'), (2, 'c');
INSERT INTO r VALUES (1, 'x'), (1, 'y'), (2, 'z'), (3, 'w');
SELECT * FROM v_dup ORDER BY k, lv, rv;
SELECT * FROM v_dup_sum;
DELETE FROM l WHERE lv = 'a';
INSERT INTO r VALUES (1, 'x');
SELECT * FROM v_dup ORDER BY k, lv, rv;
SELECT l.k, lv, rv FROM l JOIN r ON l.k = r.k ORDER BY l.k, lv, rv;
SELECT * FROM v_dup_sum;
BEGIN;
INSERT INTO l VALUES (3, 'd');
DELETE FROM r WHERE k = 3;
INSERT INTO r VALUES (3, 'v');
COMMIT;
SELECT * FROM v_dup ORDER BY k, lv, rv;
SELECT * FROM v_dup_sum;
