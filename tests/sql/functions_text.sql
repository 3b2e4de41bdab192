-- Text functions with SQLite's meaning: lower/upper (ASCII only), length in
-- characters, substr/substring with negative, zero and out-of-range
-- arguments, trim/ltrim/rtrim with and without a character set (UTF-8
-- characters), replace, instr, hex, quote, unicode, typeof and ||, on text,
-- numbers and NULL.  Each is read as an ad-hoc SELECT and through a view
-- maintained across inserts, updates and deletes.
.nullvalue NULL
CREATE TABLE s (id INTEGER PRIMARY KEY, t TEXT, n INTEGER, r REAL);
INSERT INTO s VALUES
    (1, 'Hello World', 5, 2.5),
    (2, '  padded  ', -3, -0.5),
    (3, 'héllo wörld', 0, 100.0),
    (4, NULL, NULL, NULL),
    (5, '', 12345, 1e20),
    (6, 'a''quote', 2, 0.1);

SELECT lower('ABC déF'), upper('abc déf'), length('héllo'), length(12345), length(1.5), length(NULL), length('');
SELECT substr('hello', 2), substr('hello', 2, 3), substr('hello', 0), substr('hello', 0, 2), substr('hello', -3), substr('hello', -3, 2);
SELECT substr('hello', 10), substr('hello', -10, 8), substr('hello', 3, -2), substr('hello', -1, -2), substr('hello', 2, 0), substring('héllo', 2, 2), substr(12345, 2, 2);
SELECT substr(NULL, 1), substr('abc', NULL), substr('abc', 1, NULL), substr('hello', 1.9), substr('hello', '2');
SELECT '[' || trim('  x y  ') || ']', '[' || ltrim('  x  ') || ']', '[' || rtrim('  x  ') || ']';
SELECT trim('xxaxx', 'x'), ltrim('xyxzyx', 'xy'), rtrim('abcba', 'ab'), trim('aéb', 'aé'), trim(123, 1), trim('abc', ''), trim(NULL), trim('a', NULL);
SELECT replace('aaa', 'a', 'bb'), replace('abcabc', 'bc', ''), replace('abc', '', 'x'), replace('abc', 'x', 'y'), replace(1212, 1, 3), replace(NULL, 'a', 'b'), replace('a', 'a', NULL);
SELECT instr('hello', 'l'), instr('héllo', 'l'), instr('abc', ''), instr('', 'a'), instr('abc', 'd'), instr(12345, 34), instr(NULL, 'a');
SELECT hex('abc'), hex(12), hex(''), hex(NULL), hex('é'), quote('it''s'), quote(12), quote(1.5), quote(NULL), quote('');
SELECT unicode('A'), unicode('é'), unicode(''), unicode(NULL), typeof(1), typeof(1.5), typeof('x'), typeof(NULL), typeof(1 || 2);
SELECT 'a' || 'b', 1 || 2, 1.5 || 'x', 'x' || NULL, 1e20 || '', -0.0 || '';

SELECT id, lower(t), upper(t), length(t), substr(t, 2, 3), substr(t, -3), trim(t), replace(t, 'l', 'L'), instr(t, 'o'), hex(n), quote(t), typeof(r), t || '|' || n FROM s ORDER BY id;

CREATE VIEW v_text AS
    SELECT id, lower(t) AS lo, upper(t) AS up, length(t) AS len, substr(t, 2, 3) AS sub,
           substr(t, -3) AS tail, trim(t) AS tr, ltrim(t, 'H ') AS lt, rtrim(t, 'd ') AS rt,
           replace(t, 'l', 'L') AS rep, instr(t, 'o') AS pos, hex(n) AS hx, quote(t) AS q,
           quote(r) AS qr, unicode(t) AS u, typeof(r) AS ty, t || '|' || n AS cat
    FROM s;
CREATE VIEW v_filtered AS SELECT id, t FROM s WHERE length(trim(t)) > 5 AND instr(lower(t), 'l') > 0;
SELECT * FROM v_text ORDER BY id;
SELECT * FROM v_filtered ORDER BY id;

INSERT INTO s VALUES (7, 'Lollipop', 7, 7.5), (8, ' trailing   ', 8, -8.0);
UPDATE s SET t = upper(t) || '!' WHERE id = 1;
UPDATE s SET t = 'now text', n = 44 WHERE id = 4;
DELETE FROM s WHERE id IN (2, 6);
SELECT * FROM v_text ORDER BY id;
SELECT * FROM v_filtered ORDER BY id;
SELECT id, lower(t), upper(t), length(t), substr(t, 2, 3), substr(t, -3), trim(t), ltrim(t, 'H '), rtrim(t, 'd '), replace(t, 'l', 'L'), instr(t, 'o'), hex(n), quote(t), quote(r), unicode(t), typeof(r), t || '|' || n FROM s ORDER BY id;

-- A view over text functions in GROUP BY.
CREATE VIEW v_groups AS SELECT upper(substr(t, 1, 1)) AS initial, COUNT(*) AS n FROM s GROUP BY upper(substr(t, 1, 1));
SELECT * FROM v_groups ORDER BY initial;
INSERT INTO s VALUES (9, 'lemon', 9, 9.0), (10, 'apple', 10, 10.0);
DELETE FROM s WHERE id = 3;
SELECT * FROM v_groups ORDER BY initial;
