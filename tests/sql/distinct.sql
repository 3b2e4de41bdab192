-- SELECT DISTINCT views: a value stays while any row carries it and leaves
-- with the last one; DISTINCT over several columns and over expressions;
-- a table without a primary key holds duplicate rows (a multiset) that
-- DISTINCT collapses.
CREATE TABLE shirts (id INTEGER PRIMARY KEY, color TEXT, size INTEGER);
CREATE VIEW v_colors AS SELECT DISTINCT color FROM shirts;
CREATE VIEW v_color_size AS SELECT DISTINCT color, size FROM shirts;
CREATE VIEW v_size_class AS SELECT DISTINCT size / 10 AS decade, size % 2 AS odd FROM shirts;
CREATE VIEW v_big_colors AS SELECT DISTINCT color FROM shirts WHERE size >= 40;

INSERT INTO shirts VALUES
    (1, 'red', 38), (2, 'red', 40), (3, 'blue', 40), (4, 'red', 38), (5, 'green', 42);
SELECT * FROM v_colors ORDER BY color;
SELECT DISTINCT color FROM shirts ORDER BY color;
SELECT * FROM v_color_size ORDER BY color, size;
SELECT * FROM v_size_class ORDER BY decade, odd;
SELECT * FROM v_big_colors ORDER BY color;

-- Remove copies one at a time: the value stays until the last one goes.
DELETE FROM shirts WHERE id = 1;
SELECT * FROM v_color_size ORDER BY color, size;
DELETE FROM shirts WHERE id = 4;
SELECT * FROM v_color_size ORDER BY color, size;
UPDATE shirts SET color = 'blue' WHERE id = 2;
SELECT * FROM v_colors ORDER BY color;
SELECT * FROM v_big_colors ORDER BY color;
UPDATE shirts SET size = size + 1;
SELECT * FROM v_size_class ORDER BY decade, odd;
SELECT DISTINCT size / 10 AS decade, size % 2 AS odd FROM shirts ORDER BY decade, odd;
DELETE FROM shirts WHERE color = 'blue';
SELECT * FROM v_colors ORDER BY color;
SELECT * FROM v_color_size ORDER BY color, size;

-- Whole duplicate rows.
CREATE TABLE tags (tag TEXT, weight INTEGER);
CREATE VIEW v_tags AS SELECT DISTINCT tag FROM tags;
CREATE VIEW v_tag_count AS SELECT tag, COUNT(*) AS n FROM tags GROUP BY tag;
INSERT INTO tags VALUES ('a', 1), ('a', 1), ('a', 1), ('b', 2);
INSERT INTO tags VALUES ('b', 2);
SELECT * FROM v_tags ORDER BY tag;
SELECT * FROM v_tag_count ORDER BY tag;
SELECT tag, weight FROM tags ORDER BY tag, weight;
UPDATE tags SET weight = 5 WHERE tag = 'a';
SELECT DISTINCT tag, weight FROM tags ORDER BY tag, weight;
DELETE FROM tags WHERE tag = 'a';
SELECT * FROM v_tags ORDER BY tag;
SELECT * FROM v_tag_count ORDER BY tag;
BEGIN;
INSERT INTO tags VALUES ('c', 3);
DELETE FROM tags WHERE tag = 'c';
INSERT INTO tags VALUES ('c', 4), ('a', 0);
COMMIT;
SELECT * FROM v_tags ORDER BY tag;
SELECT * FROM v_tag_count ORDER BY tag;
