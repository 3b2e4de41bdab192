-- Projection and filter views over one table: column subsets, arithmetic in
-- the select list, WHERE with comparisons and AND/OR/NOT, SELECT *, and a
-- view created over a table that already holds rows.  Every read of a view
-- is repeated as an ad hoc query over the table.
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    cat VARCHAR,
    price REAL,
    qty INTEGER
);
INSERT INTO items VALUES
    (1, 'apple', 'fruit', 0.5, 100),
    (2, 'pear', 'fruit', 0.75, 40),
    (3, 'hammer', 'tools', 12.5, 3),
    (4, 'saw', 'tools', 20.0, 0),
    (5, 'it''s café', 'misc', 3.25, 7);

-- Created over existing rows: the views start from the current contents.
CREATE VIEW v_proj AS
    SELECT id, name, price * qty AS total, qty + 1 AS next_qty FROM items;
CREATE VIEW v_cheap AS
    SELECT id, name FROM items WHERE price < 10 AND qty > 0;
CREATE VIEW v_or AS
    SELECT id, cat FROM items WHERE cat = 'fruit' OR qty >= 50;
CREATE VIEW v_not AS
    SELECT id, price FROM items WHERE NOT (price > 5);
CREATE VIEW v_star AS
    SELECT * FROM items WHERE id % 2 = 0;
CREATE VIEW v_cmp AS
    SELECT name FROM items WHERE qty <> 0 AND qty != 7 AND price <= 12.5 AND price >= 0.75;

SELECT * FROM v_proj ORDER BY id;
SELECT id, name, price * qty AS total, qty + 1 AS next_qty FROM items ORDER BY id;
SELECT * FROM v_cheap ORDER BY id;
SELECT id, name FROM items WHERE price < 10 AND qty > 0 ORDER BY id;
SELECT * FROM v_or ORDER BY id;
SELECT * FROM v_not ORDER BY id;
SELECT * FROM v_star ORDER BY id;
SELECT * FROM v_cmp ORDER BY name;

-- Rows that enter and leave the filters.
INSERT INTO items VALUES (6, 'nail', 'tools', 0.25, 1000);
INSERT INTO items (id, name, qty, price, cat) VALUES (7, 'plum', 5, 1.5, 'fruit');
UPDATE items SET qty = 0 WHERE id = 1;
UPDATE items SET price = price * 2 WHERE cat = 'tools';
DELETE FROM items WHERE name = 'pear';

SELECT * FROM v_proj ORDER BY id;
SELECT id, name, price * qty AS total, qty + 1 AS next_qty FROM items ORDER BY id;
SELECT * FROM v_cheap ORDER BY id;
SELECT id, name FROM items WHERE price < 10 AND qty > 0 ORDER BY id;
SELECT * FROM v_or ORDER BY id;
SELECT id, cat FROM items WHERE cat = 'fruit' OR qty >= 50 ORDER BY id;
SELECT * FROM v_not ORDER BY id;
SELECT id, price FROM items WHERE NOT (price > 5) ORDER BY id;
SELECT * FROM v_star ORDER BY id;
SELECT * FROM items WHERE id % 2 = 0 ORDER BY id;
SELECT * FROM v_cmp ORDER BY name;

-- An UPDATE of the key moves a row; an UPDATE of every row.
UPDATE items SET id = 8 WHERE id = 3;
UPDATE items SET qty = qty + 10;
SELECT * FROM v_proj ORDER BY id;
SELECT * FROM v_cheap ORDER BY id;
SELECT * FROM v_star ORDER BY id;
SELECT * FROM v_not ORDER BY id;

-- Empty the table, then refill it.
DELETE FROM items;
SELECT count(*) FROM v_proj;
SELECT * FROM v_star ORDER BY id;
INSERT INTO items VALUES (10, 'drill', 'tools', 99.5, 2), (11, 'fig', 'fruit', 2.0, 60);
SELECT * FROM v_proj ORDER BY id;
SELECT * FROM v_or ORDER BY id;
SELECT * FROM v_star ORDER BY id;
