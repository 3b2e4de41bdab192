-- Expression semantics as SQLite has them on typed data: integer arithmetic
-- truncates, division and modulo by zero give NULL, INTEGER op REAL is REAL,
-- operator precedence, unary minus, || on text and numbers, comparisons as
-- values (0/1/NULL), and REAL printing.  First without FROM, then in views.
.nullvalue NULL
SELECT 1 + 2, 7 - 10, 6 * 7, 7 / 2, -7 / 2, 7 % 3, -7 % 3, 7 % -3;
SELECT 7 / 0, 7 % 0, 7.5 / 0, 0 / 5, 1 / 3;
SELECT 7 / 2.0, 1.0 / 4, 0.1 + 0.2, 2.5 * 2, 1.0 / 3, 10.0 / 5;
SELECT 1 + 2 * 3, (1 + 2) * 3, 10 - 4 - 3, 100 / 10 / 5, 2 * 3 % 4, -(3 + 4);
SELECT 'ab' || 'cd', 'x' || 12 || 'y', 'a' || NULL, 'n=' || (1 + 1);
SELECT 1 < 2, 2 < 1, 1 = 1.0, 'a' < 'b', 'B' < 'a', 3 >= 3, 1 <> 1, NULL = NULL;
SELECT 1000000 * 1000000, 9223372036854775807, -9223372036854775807 - 1;
SELECT 1e20, 1.5e-7, 123456789.125, 100.0, -0.5, 3.0 * 1e15, 2.0 / 3;

CREATE TABLE n (
    id INTEGER PRIMARY KEY,
    a INTEGER,
    b BIGINT,
    x REAL,
    y DOUBLE,
    s TEXT
);
INSERT INTO n VALUES
    (1, 7, 2, 1.5, 0.25, 'p'),
    (2, -7, 2, -2.5, 4.0, 'q'),
    (3, 7, 0, 0.0, 0.5, 'r'),
    (4, 0, -3, 10.0, 3.0, ''),
    (5, NULL, 5, NULL, 1.0, NULL),
    (6, 100, 7, 2.0, -1.0, 'tt');

CREATE VIEW v_int AS
    SELECT id, a + b AS s, a - b AS d, a * b AS p, a / b AS q, a % b AS m, -a AS neg
    FROM n;
CREATE VIEW v_real AS
    SELECT id, x + y AS s, x * a AS p, x / y AS q, a / x AS q2, x / 0 AS z, b * 0.5 AS h
    FROM n;
CREATE VIEW v_mix AS
    SELECT id, a + b * 2 AS e1, (a + b) * 2 AS e2, a * 2 + b % 4 - 1 AS e3,
           s || '!' AS bang, s || a AS sa, 'v' || x AS sx
    FROM n;
CREATE VIEW v_cmp AS
    SELECT id, a < b AS lt, a = b AS eq, x >= y AS ge, a + 0.5 > 7 AS gt
    FROM n;
CREATE VIEW v_where AS
    SELECT id FROM n WHERE a / 2 = 3 OR a * b > 300 OR x / y > 5;

SELECT * FROM v_int ORDER BY id;
SELECT id, a + b AS s, a - b AS d, a * b AS p, a / b AS q, a % b AS m, -a AS neg FROM n ORDER BY id;
SELECT * FROM v_real ORDER BY id;
SELECT id, x + y AS s, x * a AS p, x / y AS q, a / x AS q2, x / 0 AS z, b * 0.5 AS h FROM n ORDER BY id;
SELECT * FROM v_mix ORDER BY id;
SELECT * FROM v_cmp ORDER BY id;
SELECT * FROM v_where ORDER BY id;

UPDATE n SET b = 0 WHERE id = 1;
UPDATE n SET a = 42, x = 0.125 WHERE id = 5;
UPDATE n SET y = 0 WHERE id = 6;
DELETE FROM n WHERE id = 2;
INSERT INTO n VALUES (7, 9, 4, 7.75, 0.5, 'z');

SELECT * FROM v_int ORDER BY id;
SELECT * FROM v_real ORDER BY id;
SELECT id, x + y AS s, x * a AS p, x / y AS q, a / x AS q2, x / 0 AS z, b * 0.5 AS h FROM n ORDER BY id;
SELECT * FROM v_mix ORDER BY id;
SELECT * FROM v_cmp ORDER BY id;
SELECT * FROM v_where ORDER BY id;
SELECT id FROM n WHERE a / 2 = 3 OR a * b > 300 OR x / y > 5 ORDER BY id;
