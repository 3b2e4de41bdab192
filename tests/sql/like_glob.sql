-- LIKE (ASCII case-insensitive, % and _, ESCAPE, NOT LIKE, UTF-8
-- characters, numbers as text, NULL) and GLOB (case-sensitive, * ? and
-- [...] classes with ranges and ^), and the like()/glob() functions with
-- their reversed arguments.  Ad-hoc, in WHERE and in projections of views
-- maintained across changes.
.nullvalue NULL
SELECT 'abc' LIKE 'ABC', 'abc' LIKE 'a%', 'abc' LIKE '%c', 'abc' LIKE 'a_c', 'abc' LIKE 'a_', 'abc' LIKE '%', '' LIKE '%', '' LIKE '_';
SELECT 'é' LIKE '_', 'É' LIKE 'é', 'Straße' LIKE 'STRASSE', 'a%b' LIKE 'a\%b' ESCAPE '\', 'axb' LIKE 'a\%b' ESCAPE '\', 'a_b' LIKE 'a#_b' ESCAPE '#', '10%' LIKE '10!%' ESCAPE '!';
SELECT 'abc' NOT LIKE 'a%', NULL LIKE 'a', 'a' LIKE NULL, 123 LIKE '1%', 1.5 LIKE '1._', 'aaa' LIKE '%a%a%a%', 'aab' LIKE '%a%a%a%', 'mississippi' LIKE '%ss%ss%';
SELECT 'abc' GLOB 'a*', 'abc' GLOB 'A*', 'abc' GLOB 'a?c', 'abc' GLOB '[a-c]bc', 'dbc' GLOB '[a-c]bc', 'dbc' GLOB '[^a-c]bc', 'a]c' GLOB 'a[]]c', 'a-c' GLOB 'a[x-]c', 'abc' GLOB '*[bc]', 'abc' NOT GLOB '*d*', 'ab' GLOB '[a';
SELECT like('a%', 'abc'), like('a!%', 'a%', '!'), glob('a*', 'abc'), glob('*', NULL);
SELECT 'abc' LIKE 'a%' ESCAPE 'xy';

CREATE TABLE w (id INTEGER PRIMARY KEY, word TEXT, code TEXT);
INSERT INTO w VALUES (1, 'Apple', 'A-100'), (2, 'banana', 'B_200'), (3, 'apricot', 'A%300'),
                     (4, 'Cherry', 'C-400'), (5, NULL, 'N-000'), (6, 'éclair', 'E-500');
SELECT id FROM w WHERE word LIKE 'a%' ORDER BY id;
SELECT id FROM w WHERE code LIKE '_\_%' ESCAPE '\' ORDER BY id;
SELECT id FROM w WHERE word GLOB '[A-C]*' ORDER BY id;
SELECT id, word LIKE '%an%', code GLOB '*[0-9][0-9]0', word NOT LIKE '%r%' FROM w ORDER BY id;

CREATE VIEW v_a AS SELECT id, word FROM w WHERE word LIKE 'a%';
CREATE VIEW v_code AS SELECT id, code FROM w WHERE code LIKE '_!%%' ESCAPE '!' OR code GLOB '[BC]?[0-9]*';
CREATE VIEW v_flags AS SELECT id, word LIKE '%an%' AS has_an, code GLOB '*[0-9][0-9]0' AS tens, word NOT LIKE '%r%' AS no_r FROM w;
CREATE VIEW v_count AS SELECT word LIKE 'a%' AS starts_a, COUNT(*) AS n FROM w GROUP BY word LIKE 'a%';
SELECT * FROM v_a ORDER BY id;
SELECT * FROM v_code ORDER BY id;
SELECT * FROM v_flags ORDER BY id;
SELECT * FROM v_count ORDER BY starts_a;
INSERT INTO w VALUES (7, 'avocado', 'A%700'), (8, 'Banana split', 'B?800');
UPDATE w SET word = 'Almond' WHERE id = 4;
UPDATE w SET code = 'X-1' WHERE id = 3;
DELETE FROM w WHERE id = 1;
SELECT * FROM v_a ORDER BY id;
SELECT * FROM v_code ORDER BY id;
SELECT * FROM v_flags ORDER BY id;
SELECT * FROM v_count ORDER BY starts_a;
