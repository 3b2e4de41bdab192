-- One view read by two others, and a view on one of those: every commit
-- computes the shared view once and its change reaches both readers.  A
-- reader dropped and created again while the tables hold data starts from
-- the current contents (backfill) and is maintained from then on.  A view
-- whose step fails (SUM overflows) is broken, and so is the view reading
-- it, while its siblings stay correct.  (When the views are rebuilt after
-- the circuit process restarts depends on the supervisor's timing, so the
-- overflow is not undone here.)
CREATE TABLE t (k INTEGER, v INTEGER);
INSERT INTO t VALUES (1, 10), (1, 20), (2, 5), (3, 7), (3, 8), (3, 9);
CREATE VIEW per_k AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY k;
CREATE VIEW busy AS SELECT k, n FROM per_k WHERE n >= 2;
CREATE VIEW hist AS SELECT n, COUNT(*) AS keys FROM per_k GROUP BY n;
CREATE VIEW busy_total AS SELECT COUNT(*) AS c, SUM(n) AS rows_ FROM busy;
SELECT * FROM busy ORDER BY k;
SELECT * FROM hist ORDER BY n;
SELECT * FROM busy_total;

BEGIN;
INSERT INTO t VALUES (2, 1), (4, 4);
DELETE FROM t WHERE k = 3 AND v = 9;
COMMIT;
SELECT * FROM per_k ORDER BY k;
SELECT * FROM busy ORDER BY k;
SELECT * FROM hist ORDER BY n;
SELECT * FROM busy_total;

DROP VIEW hist;
INSERT INTO t VALUES (4, 40), (5, 50);
CREATE VIEW hist AS SELECT n, COUNT(*) AS keys FROM per_k GROUP BY n;
SELECT * FROM hist ORDER BY n;
DELETE FROM t WHERE k = 1;
SELECT * FROM hist ORDER BY n;
SELECT * FROM busy_total;

CREATE TABLE big (g INTEGER, x INTEGER);
CREATE VIEW big_sum AS SELECT g, SUM(x) AS s FROM big GROUP BY g;
CREATE VIEW big_pos AS SELECT g FROM big_sum WHERE s > 0;
CREATE VIEW big_count AS SELECT g, COUNT(*) AS c FROM big GROUP BY g;
INSERT INTO big VALUES (1, 9223372036854775807), (2, 1);
INSERT INTO big VALUES (1, 1);
SELECT * FROM big_sum;
SELECT * FROM big_pos;
SELECT * FROM big_count ORDER BY g;
SELECT * FROM busy_total;
