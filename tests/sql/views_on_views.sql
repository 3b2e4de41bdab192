-- Views defined over views: a filter over a projection, an aggregate over a
-- filter, a join of a view with a table, DISTINCT over a join view, and a
-- chain three deep.  A change to a base table flows through every level.
-- Dependent views are dropped before the views they read.
CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, user_id INTEGER, ms INTEGER);
CREATE TABLE users (uid INTEGER PRIMARY KEY, uname TEXT, team TEXT);
INSERT INTO users VALUES (1, 'ana', 'red'), (2, 'ben', 'blue'), (3, 'cat', 'red');
INSERT INTO events VALUES
    (1, 'click', 1, 120), (2, 'view', 1, 30), (3, 'click', 2, 300),
    (4, 'click', 3, 80), (5, 'view', 2, 45);

CREATE VIEW v_secs AS SELECT id, kind, user_id, ms / 10 AS cs FROM events;
CREATE VIEW v_clicks AS SELECT id, user_id, cs FROM v_secs WHERE kind = 'click';
CREATE VIEW v_click_stats AS
    SELECT user_id, COUNT(*) AS n, SUM(cs) AS total, MAX(cs) AS slowest
    FROM v_clicks GROUP BY user_id;
CREATE VIEW v_named AS
    SELECT u.uname, u.team, s.n, s.total FROM v_click_stats s JOIN users u ON u.uid = s.user_id;
CREATE VIEW v_teams AS SELECT DISTINCT team FROM v_named;
CREATE VIEW v_team_total AS SELECT team, SUM(total) AS t FROM v_named GROUP BY team;

SELECT * FROM v_clicks ORDER BY id;
SELECT * FROM v_click_stats ORDER BY user_id;
SELECT * FROM v_named ORDER BY uname;
SELECT * FROM v_teams ORDER BY team;
SELECT * FROM v_team_total ORDER BY team;

INSERT INTO events VALUES (6, 'click', 2, 1000), (7, 'click', 4, 10);
UPDATE events SET kind = 'click' WHERE id = 2;
DELETE FROM events WHERE id = 4;
UPDATE users SET team = 'blue' WHERE uid = 1;
INSERT INTO users VALUES (4, 'dot', 'green');

SELECT * FROM v_clicks ORDER BY id;
SELECT * FROM v_click_stats ORDER BY user_id;
SELECT * FROM v_named ORDER BY uname;
SELECT u.uname, u.team, COUNT(*) AS n, SUM(e.ms / 10) AS total
    FROM events e JOIN users u ON u.uid = e.user_id
    WHERE e.kind = 'click' GROUP BY u.uname, u.team ORDER BY u.uname;
SELECT * FROM v_teams ORDER BY team;
SELECT * FROM v_team_total ORDER BY team;

BEGIN;
DELETE FROM events WHERE user_id = 2;
UPDATE users SET uname = 'dora' WHERE uid = 4;
INSERT INTO events VALUES (8, 'click', 3, 55);
COMMIT;
SELECT * FROM v_named ORDER BY uname;
SELECT * FROM v_teams ORDER BY team;
SELECT * FROM v_team_total ORDER BY team;

-- A query over a view, ad hoc.
SELECT team, COUNT(*) AS members FROM v_named GROUP BY team ORDER BY team;

-- Drop from the top; the lower views keep working.
DROP VIEW v_team_total;
DROP VIEW v_teams;
DROP VIEW v_named;
INSERT INTO events VALUES (9, 'click', 1, 5);
SELECT * FROM v_click_stats ORDER BY user_id;
DROP VIEW v_click_stats;
DROP VIEW v_clicks;
SELECT * FROM v_secs ORDER BY id;
DROP VIEW v_secs;
SELECT COUNT(*) FROM events;
