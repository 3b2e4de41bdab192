-- FULL JOIN keeps each side's unmatched rows, padded.  Rows made of NULLs
-- on both sides must both appear: the right side's unmatched rows are those
-- the inner join leaves out, not those the left padding shows (a left row
-- padded with NULLs once looked like a match for a right row of NULLs).
.nullvalue NULL
CREATE TABLE l (c INTEGER);
CREATE TABLE r (c INTEGER);
INSERT INTO l VALUES (NULL), (1);
INSERT INTO r VALUES (NULL), (2);
CREATE VIEW v_false AS SELECT l.c AS lc, r.c AS rc FROM l FULL JOIN r ON 0;
CREATE VIEW v_count AS SELECT 7 AS k FROM l FULL JOIN r ON 'a b';
CREATE VIEW v_key AS SELECT l.c AS lc, r.c AS rc FROM l FULL JOIN r ON l.c = r.c;
SELECT * FROM v_false ORDER BY 1, 2;
SELECT COUNT(*) FROM v_count;
SELECT * FROM v_key ORDER BY 1, 2;
INSERT INTO l VALUES (2), (NULL);
DELETE FROM r WHERE c IS NULL;
INSERT INTO r VALUES (NULL), (NULL);
SELECT * FROM v_false ORDER BY 1, 2;
SELECT COUNT(*) FROM v_count;
SELECT * FROM v_key ORDER BY 1, 2;
