-- Top-N per group: SELECT ... FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION
-- BY ... ORDER BY ...) AS rn FROM ...) WHERE rn <= K, maintained as a top-k
-- per partition (planner/README.md, "ROW_NUMBER").  No two rows of a
-- partition tie in the ORDER BY unless they are equal in every selected
-- column, so SQLite and ivm number them alike.  Inserts, deletes and updates
-- move rows into and out of the top and change their numbers.
CREATE TABLE bids (id INTEGER PRIMARY KEY, auction INTEGER, bidder TEXT, price INTEGER, ts REAL);
CREATE TABLE auctions (id INTEGER PRIMARY KEY, item TEXT);
-- The two highest bids of each auction, with their numbers.
CREATE VIEW top2 AS SELECT * FROM (SELECT auction, bidder, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bids) WHERE rn <= 2;
-- Each bidder's last bid on each auction (rn = 1), the number not selected.
CREATE VIEW last_bid AS SELECT auction, bidder, price FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY ts DESC) AS rank_number FROM bids) WHERE rank_number = 1;
-- No partition: the three lowest prices overall, the bound written as rn < 4.
CREATE VIEW low3 AS SELECT id, price, rn FROM (SELECT id, price, ROW_NUMBER() OVER (ORDER BY price, id) AS rn FROM bids) WHERE rn < 4;
-- The bound mirrored and qualified, under a join with another table.
CREATE VIEW first_item AS SELECT a.item, s.bidder, s.rn FROM auctions AS a JOIN (SELECT auction, bidder, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY ts) AS rn FROM bids) AS s ON a.id = s.auction WHERE 1 >= s.rn;
-- The padded side of a LEFT JOIN: auctions without bids keep a NULL row,
-- removed by the WHERE as in SQLite.
CREATE VIEW left_top AS SELECT a.item, s.price FROM auctions AS a LEFT JOIN (SELECT auction, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bids) AS s ON a.id = s.auction WHERE s.rn <= 1;
-- Over groups: the two auctions with the most bids.
CREATE VIEW busiest AS SELECT auction, n, rn FROM (SELECT auction, count(*) AS n, ROW_NUMBER() OVER (ORDER BY count(*) DESC, auction) AS rn FROM bids GROUP BY auction) WHERE rn <= 2;
-- Equal rows of one partition: each copy gets its own number.
CREATE VIEW copies AS SELECT * FROM (SELECT auction, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price) AS rn FROM bids) WHERE rn <= 3;
-- NULLs in the ORDER BY, placed first and last.
CREATE VIEW nulls_last AS SELECT * FROM (SELECT auction, id, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY ts DESC NULLS LAST, id) AS rn FROM bids) WHERE rn <= 2;
CREATE VIEW nulls_first AS SELECT * FROM (SELECT auction, id, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY ts NULLS FIRST, id DESC) AS rn FROM bids) WHERE rn <= 2;
-- A bound of zero keeps nothing; two bounds keep the tighter one.
CREATE VIEW none0 AS SELECT * FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM bids) WHERE rn <= 0;
CREATE VIEW second AS SELECT * FROM (SELECT auction, id, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY id) AS rn FROM bids) WHERE rn <= 5 AND rn = 2;
-- A view over a ROW_NUMBER view.
CREATE VIEW top2_count AS SELECT rn, count(*) AS n FROM top2 GROUP BY rn;
INSERT INTO auctions VALUES (1, 'lamp'), (2, 'desk'), (3, 'rug');
INSERT INTO bids VALUES (1, 1, 'ann', 100, 1.0), (2, 1, 'bob', 120, 2.0), (3, 1, 'ann', 130, 3.0),
  (4, 2, 'cy', 50, 1.5), (5, 2, 'bob', 40, 2.5), (6, 1, 'cy', 90, 4.0), (7, 2, 'cy', 35, NULL);
SELECT * FROM top2 ORDER BY auction, rn;
SELECT * FROM last_bid ORDER BY auction, bidder;
SELECT * FROM low3 ORDER BY rn;
SELECT * FROM first_item ORDER BY item;
SELECT * FROM left_top ORDER BY item;
SELECT * FROM busiest ORDER BY rn;
SELECT * FROM copies ORDER BY auction, rn;
SELECT * FROM nulls_last ORDER BY auction, rn;
SELECT * FROM nulls_first ORDER BY auction, rn;
SELECT count(*) FROM none0;
SELECT * FROM second ORDER BY auction;
SELECT * FROM top2_count ORDER BY rn;
-- A new highest bid: every number of its auction moves down.
INSERT INTO bids VALUES (8, 1, 'dee', 150, 5.0);
SELECT * FROM top2 ORDER BY auction, rn;
SELECT * FROM last_bid ORDER BY auction, bidder;
SELECT * FROM first_item ORDER BY item;
SELECT * FROM copies ORDER BY auction, rn;
-- The top bid leaves: the next ones move up; a bid on the empty auction.
DELETE FROM bids WHERE id = 8;
DELETE FROM bids WHERE id = 3;
INSERT INTO bids VALUES (9, 3, 'eve', 10, 0.5), (10, 2, 'dee', 35, 0.1);
SELECT * FROM top2 ORDER BY auction, rn;
SELECT * FROM last_bid ORDER BY auction, bidder;
SELECT * FROM low3 ORDER BY rn;
SELECT * FROM first_item ORDER BY item;
SELECT * FROM left_top ORDER BY item;
SELECT * FROM busiest ORDER BY rn;
SELECT * FROM copies ORDER BY auction, rn;
SELECT * FROM nulls_last ORDER BY auction, rn;
SELECT * FROM nulls_first ORDER BY auction, rn;
SELECT * FROM second ORDER BY auction;
SELECT * FROM top2_count ORDER BY rn;
-- Updates: a bid moves between auctions and changes its price; a
-- transaction does several at once.
UPDATE bids SET auction = 2, price = 45 WHERE id = 1;
BEGIN;
UPDATE bids SET price = price + 100 WHERE auction = 2 AND price = 40;
DELETE FROM bids WHERE id = 6;
INSERT INTO bids VALUES (11, 1, 'fay', 125, 6.0), (12, 3, 'eve', 20, 7.0);
COMMIT;
SELECT * FROM top2 ORDER BY auction, rn;
SELECT * FROM last_bid ORDER BY auction, bidder;
SELECT * FROM low3 ORDER BY rn;
SELECT * FROM first_item ORDER BY item;
SELECT * FROM left_top ORDER BY item;
SELECT * FROM busiest ORDER BY rn;
SELECT * FROM copies ORDER BY auction, rn;
SELECT * FROM nulls_last ORDER BY auction, rn;
SELECT * FROM nulls_first ORDER BY auction, rn;
SELECT * FROM second ORDER BY auction;
SELECT * FROM top2_count ORDER BY rn;
-- The same queries ad hoc.
SELECT * FROM (SELECT auction, bidder, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bids) WHERE rn <= 2 ORDER BY auction, rn;
SELECT auction, n FROM (SELECT auction, count(*) AS n, ROW_NUMBER() OVER (ORDER BY count(*) DESC, auction) AS rn FROM bids GROUP BY auction) WHERE rn = 1;
-- Everything deleted.
DELETE FROM bids;
SELECT count(*) FROM top2;
SELECT count(*) FROM last_bid;
SELECT count(*) FROM left_top;
SELECT count(*) FROM top2_count;
