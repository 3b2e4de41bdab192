-- printf and format with SQLite's conversions: %d %i %u %x %X %o %c %s %q %Q
-- %w %f %e %E %g %G %% %r %n, flags - + space 0 # ! and the thousands
-- separator, width and precision (also from arguments with *), missing and
-- NULL arguments, text read as numbers, an unknown conversion ending the
-- output, and SQLite's own rounding of reals (16 significant digits).
-- Ad-hoc, then through a maintained view.
.nullvalue NULL
SELECT printf('%d|%i|%u', 42, -42, -1), printf('%5d|%-5d|%05d|%+d|% d|%+ d|% +d', 42, 42, 42, 42, 42, 5, 5);
SELECT printf('%.3d|%,d|%,d|%,010d|%010.3d|%-010d', 7, -1234567, 12, 1234567, 5, 42);
SELECT printf('%x|%X|%o|%#x|%#X|%#o|%#x|%x', 255, 255, 8, 255, 255, 8, 0, -1);
SELECT printf('%#010x|%-#10x|%#.5o|%#05x|%p|%#p', 255, 255, 8, 1, 255, 255);
SELECT printf('%c|%.3c|%5c|%-3c|%!5c|', 'hello', 'ab', 'z', 'y', 'é');
SELECT printf('%s|%.2s|%5s|%-5s|%!.2s|%!5.2s|', 'abc', 'hello', 'ab', 'ab', 'héllo', 'héllo');
SELECT printf('%q|%Q|%Q|%w|%q', 'it''s', 'it''s', NULL, 'a"b', NULL);
SELECT printf('%f|%e|%E|%g|%G', 3.14159, 31415.9, 0.000123, 1e20, 1e-20);
SELECT printf('%.0f|%.1f|%.2f|%10.3f|%-10.3f|%010.3f|%+.2f', 2.5, 0.05, 1.005, 3.14159, 3.14159, -3.14159, 2.0);
SELECT printf('%#g|%g|%#.3g|%!g|%!.20e|%.20f|%!.15g', 1.0, 100000.0, 1.0, 1.5, 0.1, 0.1, 2.0);
SELECT printf('%g|%g|%g|%g|%.3g|%.10g', 0.0001, 0.00001, 123456, 1234567, 2.5e-5, 1.0/3);
SELECT printf('%f|%+f|%e|%5.1f|%05f', 1e999, 1e999, -1e999, 1e999, 1e999);
SELECT printf('%d %s'), printf('%d|%s|%f|', NULL, NULL, NULL), printf('%5%|'), printf('100%%'), printf('%');
SELECT printf('abc%yxyz'), printf('%z', 'zz'), printf('%r|%r|%r|%r|%r', 1, 2, 11, 23, 101), printf('a%nb'), printf('%hd', 1);
SELECT printf('%*d|%-*d|%.*f|%*d|%.*f', 5, 42, 5, 42, 2, 3.14159, -5, 42, -2, 3.14159);
SELECT printf('%d|%d|%f|%s|%d|%c', '12abc', '1.9e3', '2.5', 1.5, 1e30, 12);
SELECT printf('%lld|%ld', 5, 6), format('%s-%03d', 'x', 7), printf(NULL), printf(12), printf('%s and %s', 'one');

CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL);
INSERT INTO p VALUES (1, 'bolt', 1200, 0.125), (2, 'nut', -5, 10.0), (3, 'gear''s', 0, 1234.5), (4, NULL, NULL, NULL);
CREATE VIEW v_fmt AS
    SELECT id, printf('%-6s|%5d|%8.2f', name, qty, price) AS line,
           printf('%,d', qty * 1000) AS big, printf('%Q', name) AS lit,
           format('%x-%o', qty, qty) AS radix, printf('%.3e', price) AS sci
    FROM p;
SELECT * FROM v_fmt ORDER BY id;
INSERT INTO p VALUES (5, 'washer', 250000, 0.005);
UPDATE p SET price = price * 3, name = upper(name) WHERE id = 1;
DELETE FROM p WHERE id = 2;
SELECT * FROM v_fmt ORDER BY id;
SELECT id, printf('%-6s|%5d|%8.2f', name, qty, price), printf('%,d', qty * 1000), printf('%Q', name), format('%x-%o', qty, qty), printf('%.3e', price) FROM p ORDER BY id;
