-- ivm-only
-- GROUP_CONCAT's order in ivm: values in SQL value order (numbers by
-- value, then text by bytes), equal values in separator order, repeated
-- values as often as they occur; the order is kept whatever order rows
-- arrive, are updated or deleted in.  SQLite would join in scan order
-- (rowid order here), which a maintained view cannot reproduce, hence
-- ivm-only.
CREATE TABLE typed (id INTEGER PRIMARY KEY, k TEXT, n REAL, t TEXT);
INSERT INTO typed VALUES (1, 'x', 3.5, 'pear'), (2, 'x', -1.0, 'apple'), (3, 'x', 10.0, 'fig'),
                         (4, 'y', 2.0, 'b'), (5, 'y', 2.0, 'a'), (6, 'y', NULL, NULL);
CREATE VIEW v_order AS
    SELECT k, GROUP_CONCAT(n) AS ns, GROUP_CONCAT(t, ' ') AS ts, GROUP_CONCAT(n || t, ';') AS mixed,
           GROUP_CONCAT(DISTINCT n) AS dn
    FROM typed GROUP BY k;
SELECT * FROM v_order ORDER BY k;
UPDATE typed SET n = 0.0, t = 'zucchini' WHERE id = 3;
INSERT INTO typed VALUES (7, 'x', -5.0, 'aardvark'), (8, 'y', 1.0, 'c');
DELETE FROM typed WHERE id = 5;
SELECT * FROM v_order ORDER BY k;
SELECT k, GROUP_CONCAT(t, ' ') FROM typed GROUP BY k ORDER BY k;
