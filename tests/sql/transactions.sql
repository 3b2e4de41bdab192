-- Multi-statement transactions: the views change by the net effect at
-- COMMIT; ROLLBACK leaves tables and views as they were; a row inserted and
-- deleted in one transaction leaves no trace; a failing statement inside a
-- transaction changes nothing while the transaction goes on.  Views are
-- read only between transactions.
CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL);
CREATE TABLE moves (id INTEGER PRIMARY KEY, acct INTEGER NOT NULL, delta INTEGER NOT NULL);
CREATE VIEW v_rich AS SELECT id, owner FROM acct WHERE balance >= 100;
CREATE VIEW v_total AS SELECT COUNT(*) AS n, SUM(balance) AS total FROM acct;
CREATE VIEW v_moves AS
    SELECT a.owner, m.delta FROM acct a JOIN moves m ON a.id = m.acct;
CREATE VIEW v_per_owner AS
    SELECT a.owner, COUNT(*) AS n, SUM(m.delta) AS net FROM acct a, moves m
    WHERE a.id = m.acct GROUP BY a.owner;

INSERT INTO acct VALUES (1, 'ann', 50), (2, 'bob', 150);

BEGIN;
INSERT INTO acct VALUES (3, 'cy', 500);
INSERT INTO moves VALUES (1, 1, 60);
UPDATE acct SET balance = balance + 60 WHERE id = 1;
INSERT INTO moves VALUES (2, 2, -100);
UPDATE acct SET balance = balance - 100 WHERE id = 2;
COMMIT;
SELECT * FROM v_rich ORDER BY id;
SELECT * FROM v_total;
SELECT * FROM v_moves ORDER BY owner, delta;
SELECT * FROM v_per_owner ORDER BY owner;

BEGIN;
DELETE FROM acct WHERE id = 3;
INSERT INTO acct VALUES (4, 'dee', 1000);
UPDATE acct SET owner = 'ANN' WHERE id = 1;
INSERT INTO moves VALUES (3, 4, 7), (4, 1, 8);
ROLLBACK;
SELECT * FROM v_rich ORDER BY id;
SELECT id, owner FROM acct WHERE balance >= 100 ORDER BY id;
SELECT * FROM v_total;
SELECT * FROM v_moves ORDER BY owner, delta;
SELECT * FROM v_per_owner ORDER BY owner;
SELECT * FROM acct ORDER BY id;

-- Net zero: insert and delete the same rows, update a row back.
BEGIN;
INSERT INTO acct VALUES (5, 'eve', 700);
INSERT INTO moves VALUES (5, 5, 1);
DELETE FROM moves WHERE id = 5;
DELETE FROM acct WHERE id = 5;
UPDATE acct SET balance = 0 WHERE id = 2;
UPDATE acct SET balance = 50 WHERE id = 2;
COMMIT;
SELECT * FROM v_rich ORDER BY id;
SELECT * FROM v_total;
SELECT * FROM v_moves ORDER BY owner, delta;

-- The same row updated twice, and a key reused after its delete.
BEGIN;
UPDATE acct SET balance = balance * 2 WHERE id = 1;
UPDATE acct SET balance = balance + 1 WHERE id = 1;
DELETE FROM acct WHERE id = 3;
INSERT INTO acct VALUES (3, 'cyd', 99);
COMMIT;
SELECT * FROM v_rich ORDER BY id;
SELECT * FROM v_total;
SELECT * FROM v_moves ORDER BY owner, delta;
SELECT * FROM v_per_owner ORDER BY owner;
SELECT a.owner, COUNT(*) AS n, SUM(m.delta) AS net FROM acct a, moves m WHERE a.id = m.acct GROUP BY a.owner ORDER BY a.owner;

-- A failing statement inside a transaction: the statement changes nothing,
-- the statements around it commit.
BEGIN;
INSERT INTO acct VALUES (6, 'fay', 300);
INSERT INTO acct VALUES (1, 'dup', 1);
INSERT INTO acct VALUES (7, 'gus', NULL);
INSERT INTO moves VALUES (6, 6, 5);
COMMIT;
SELECT * FROM acct ORDER BY id;
SELECT * FROM v_rich ORDER BY id;
SELECT * FROM v_total;
SELECT * FROM v_per_owner ORDER BY owner;

-- A transaction that ends in ROLLBACK after a failing statement.
BEGIN;
DELETE FROM moves;
UPDATE acct SET balance = NULL WHERE id = 6;
DELETE FROM acct;
ROLLBACK;
SELECT * FROM acct ORDER BY id;
SELECT * FROM v_total;
SELECT * FROM v_moves ORDER BY owner, delta;

-- An empty transaction, and many changes to the same key.
BEGIN;
COMMIT;
BEGIN;
UPDATE acct SET balance = 1 WHERE id = 6;
UPDATE acct SET balance = 2 WHERE id = 6;
UPDATE acct SET balance = 300 WHERE id = 6;
DELETE FROM acct WHERE id = 6;
INSERT INTO acct VALUES (6, 'fay', 301);
COMMIT;
SELECT * FROM v_rich ORDER BY id;
SELECT * FROM v_total;

-- COMMIT and ROLLBACK without a transaction, and BEGIN inside one, fail.
COMMIT;
ROLLBACK;
BEGIN;
BEGIN;
DELETE FROM acct WHERE id = 6;
COMMIT;
SELECT * FROM v_rich ORDER BY id;
SELECT * FROM v_total;
