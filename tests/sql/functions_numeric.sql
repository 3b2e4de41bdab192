-- Numeric functions and operators with SQLite's meaning on typed values:
-- abs, round with and without digits (half away from zero, through
-- printf's rounding), sign, scalar min/max (NULL wins, mixed classes),
-- coalesce/ifnull/nullif/iif, integer arithmetic with overflow to REAL,
-- truncating division, x/0 and x%0, REAL %, bitwise operators and shifts,
-- comparisons of INT with REAL and with text, text in arithmetic.  Ad-hoc and
-- through maintained views.
.nullvalue NULL
CREATE TABLE n (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT);
INSERT INTO n VALUES
    (1, 7, 2.5, '10'),
    (2, -7, -2.5, 'abc'),
    (3, 0, 0.0, '3.5'),
    (4, NULL, NULL, NULL),
    (5, 9223372036854775807, 1e300, ' 12 '),
    (6, -9223372036854775807, -1.005, '-4');

SELECT abs(-5), abs(5), abs(-2.5), abs('-3'), abs(NULL), abs(0.0), typeof(abs('x'));
SELECT round(2.5), round(-2.5), round(0.5), round(1.005, 2), round(2.675, 2), round(1234.5678, -1), round(1e20), round(NULL), round(1.5, NULL), round('3.7'), round(123.456, 1), round(5, 2), round(0.15, 1);
SELECT sign(-3), sign(0), sign(2.5), sign('12'), sign('x'), sign(NULL);
SELECT min(3, 1, 2), max(3, 1, 2), min(1, NULL), max('a', 'b', 1), min(1, 1.0), max(1, 1.0), min('a', 2.5, 3), max(-1, -1.5);
SELECT coalesce(NULL, NULL, 3), coalesce(NULL, 'x'), ifnull(NULL, 2), ifnull(1, 2), nullif(1, 1), nullif(1, 2), nullif(NULL, 1), nullif('a', 'a'), iif(1, 'y', 'n'), iif(0, 'y', 'n'), iif(NULL, 'y', 'n');
SELECT 7 / 2, -7 / 2, 7 % 3, -7 % 3, 7 % -3, 7.5 / 2, 7 / 0, 7 % 0, 7.0 / 0, 7.5 % 2, '9' / '2', 1 / 0.0;
SELECT abs(-9223372036854775808);
SELECT 9223372036854775807 + 1, -9223372036854775808 - 1, 9223372036854775807 * 2, -(-9223372036854775808), -9223372036854775808 / -1, -9223372036854775808 % -1;
SELECT 5 & 3, 5 | 3, ~5, 1 << 62, 1 << 63, 1 << 64, -8 >> 1, -1 >> 70, 8 >> -2, 1 << -1, 5 & NULL, '12abc' | 0, 2.9 | 0;
SELECT 1 = 1.0, 2 < 2.5, 9223372036854775807 < 9223372036854775807.0, 1 < 'a', 'a' < 'b', 'B' < 'a', 10 < 9, '10' < '9', NULL = NULL, NULL IS NULL, 1 IS 1.0, 1 IS NOT NULL;
SELECT '12abc' + 1, 'abc' * 2, '1.5x' + 0, '3.0' + 1, ' 7 ' - 1, '0x10' + 0, -'5', +'5', - NULL;

SELECT id, abs(i), round(r), round(r, 1), sign(r), min(i, 3), max(r, 0), coalesce(i, r, -1), nullif(i, 0), iif(i > 0, 'pos', 'not'), i / 2, i % 3, i + 1, i * 2, r * 2, i & 6, i | 1, i << 1, t + 1, t * 1.5 FROM n ORDER BY id;

CREATE VIEW v_num AS
    SELECT id, abs(i) AS a, round(r) AS r0, round(r, 1) AS r1, sign(r) AS sg, min(i, 3) AS mn,
           max(r, 0) AS mx, coalesce(i, r, -1) AS co, nullif(i, 0) AS nu,
           iif(i > 0, 'pos', 'not') AS ii, i / 2 AS half, i % 3 AS m3, i + 1 AS inc, i * 2 AS dbl,
           r * 2 AS rd, i & 6 AS b_and, i | 1 AS b_or, i << 1 AS shl, t + 1 AS tp, t * 1.5 AS tm
    FROM n;
CREATE VIEW v_pick AS SELECT id FROM n WHERE i / 2 * 2 <> i OR abs(r) > 1e10 OR i & 1 = 0;
SELECT * FROM v_num ORDER BY id;
SELECT * FROM v_pick ORDER BY id;

INSERT INTO n VALUES (7, 15, 0.25, '7e1'), (8, 4611686018427387904, 3.0, 'x');
UPDATE n SET i = i - 1, r = r * -1 WHERE id IN (1, 3);
UPDATE n SET i = NULL WHERE id = 5;
DELETE FROM n WHERE id = 2;
SELECT * FROM v_num ORDER BY id;
SELECT * FROM v_pick ORDER BY id;
SELECT id, abs(i), round(r), round(r, 1), sign(r), min(i, 3), max(r, 0), coalesce(i, r, -1), nullif(i, 0), iif(i > 0, 'pos', 'not'), i / 2, i % 3, i + 1, i * 2, r * 2, i & 6, i | 1, i << 1, t + 1, t * 1.5 FROM n ORDER BY id;
