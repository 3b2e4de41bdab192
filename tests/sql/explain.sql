-- ivm-only
-- EXPLAIN shows a view's circuit, one line per operator: its inputs, width
-- and key, what it computes, whether its stream is sharded, which integrals
-- it reads, where an exchange routes rows, and the state it keeps.  EXPLAIN
-- DOT (and the shell's .explain dot) writes the same as a Graphviz digraph.
-- SQLite prints its own bytecode for EXPLAIN, hence ivm-only.
CREATE TABLE orders (id INTEGER PRIMARY KEY, cust INTEGER, amount REAL, note TEXT);
CREATE TABLE custs (id INTEGER PRIMARY KEY, name TEXT);
CREATE VIEW big AS SELECT c.name, sum(o.amount) AS total FROM orders o JOIN custs c
  ON o.cust = c.id GROUP BY c.name ORDER BY total DESC, c.name LIMIT 3;
EXPLAIN VIEW big;
EXPLAIN SELECT DISTINCT cust FROM orders WHERE amount > 10;
EXPLAIN CREATE VIEW top2 AS SELECT id, note FROM orders ORDER BY amount LIMIT 2 OFFSET 1;
EXPLAIN CREATE VIEW last2 AS SELECT id, rn FROM (SELECT id, note, ROW_NUMBER() OVER
  (PARTITION BY cust ORDER BY amount DESC) AS rn FROM orders) WHERE rn <= 2;
EXPLAIN DOT SELECT id FROM orders WHERE note <> 'say "hi"';
.explain dot big
.explain nope
EXPLAIN DOT VIEW nope;
EXPLAIN PNG VIEW big;
