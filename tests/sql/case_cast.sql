-- CASE in both forms (with and without ELSE, NULL operands, first match
-- wins), CAST to INTEGER, REAL, TEXT, NUMERIC/DECIMAL and BOOLEAN with
-- SQLite's conversions (leading numeric prefix, truncation, saturation),
-- CAST's affinity in comparisons, and iif.  Ad-hoc and through views
-- maintained across changes.
.nullvalue NULL
CREATE TABLE c (id INTEGER PRIMARY KEY, x INTEGER, s TEXT, r REAL);
INSERT INTO c VALUES (1, 1, '12', 1.9), (2, 2, 'abc', -1.9), (3, NULL, '3.5e2x', NULL),
                     (4, 4, ' 7 ', 1e19), (5, 5, NULL, 0.5);

SELECT CASE 1 WHEN 1 THEN 'one' WHEN 1 THEN 'again' END, CASE 2 WHEN 1 THEN 'one' END, CASE NULL WHEN NULL THEN 'null' ELSE 'else' END;
SELECT CASE WHEN 0 THEN 'a' WHEN NULL THEN 'b' WHEN 'x' THEN 'c' WHEN '1' THEN 'd' END, CASE WHEN 1 > 2 THEN 1 ELSE 2.5 END;
SELECT CAST('12abc' AS INTEGER), CAST('1.9e3' AS INTEGER), CAST(1.9 AS INTEGER), CAST(-1.9 AS INTEGER), CAST(1e30 AS INTEGER), CAST('abc' AS INTEGER), CAST(NULL AS INTEGER), CAST('  42  ' AS INT), CAST('9223372036854775808' AS BIGINT);
SELECT CAST('1.5x' AS REAL), CAST(3 AS REAL), CAST('abc' AS DOUBLE), CAST('-.5' AS FLOAT), CAST(1e300 AS REAL);
SELECT CAST(12 AS TEXT), CAST(1.5 AS TEXT), CAST(1e20 AS VARCHAR(5)), CAST('x' AS CHAR(1)), typeof(CAST(12 AS TEXT));
SELECT CAST('12abc' AS NUMERIC), CAST('3.0' AS NUMERIC), CAST(3.0 AS NUMERIC), CAST('1e20' AS DECIMAL(10,2)), CAST('abc' AS NUMERIC), CAST('1.5' AS BOOLEAN), typeof(CAST('7' AS NUMERIC));
SELECT CAST(1 AS TEXT) = '1', CAST('1' AS INTEGER) = 1, CAST(x AS TEXT) = 1 FROM c WHERE id = 1;
SELECT iif(x > 2, 'big', 'small'), iif(x IS NULL, 'none', x) FROM c ORDER BY id;

SELECT id, CASE x WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END, CASE WHEN r < 0 THEN -r WHEN r > 1 THEN r END, CAST(s AS INTEGER), CAST(s AS REAL), CAST(r AS INTEGER), CAST(x AS TEXT) || '!', CAST(s AS NUMERIC) FROM c ORDER BY id;

CREATE VIEW v_case AS
    SELECT id, CASE x WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END AS word,
           CASE WHEN r < 0 THEN -r WHEN r > 1 THEN r END AS mag,
           CAST(s AS INTEGER) AS si, CAST(s AS REAL) AS sr, CAST(r AS INTEGER) AS ri,
           CAST(x AS TEXT) || '!' AS xt, CAST(s AS NUMERIC) AS sn, iif(x % 2 = 0, 'even', 'odd') AS par
    FROM c;
CREATE VIEW v_bucket AS
    SELECT CASE WHEN r IS NULL THEN 'none' WHEN r < 1 THEN 'low' ELSE 'high' END AS bucket,
           COUNT(*) AS n, SUM(CASE WHEN x > 2 THEN 1 ELSE 0 END) AS big
    FROM c GROUP BY CASE WHEN r IS NULL THEN 'none' WHEN r < 1 THEN 'low' ELSE 'high' END;
SELECT * FROM v_case ORDER BY id;
SELECT * FROM v_bucket ORDER BY bucket;
INSERT INTO c VALUES (6, 6, '6', 6.5), (7, NULL, NULL, -3.0);
UPDATE c SET r = 0.25, s = '99 bottles' WHERE id = 4;
DELETE FROM c WHERE id = 1;
SELECT * FROM v_case ORDER BY id;
SELECT * FROM v_bucket ORDER BY bucket;
