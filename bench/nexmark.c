/*
 * nexmark.c: the Nexmark queries as ivm views, fed events through the C
 * input API, against SQLite computing each query once over the same events.
 *
 * Events are generated before any clock starts (nexmark_gen.c, in parallel
 * ranges) and kept in memory.  SQLite (linked, in memory) then loads them
 * and runs each query once, in a child process; each (query, workers) run
 * of ivm is another child process: it creates the tables and the query's
 * views, then pushes the events in transactions of --txn events through
 * ivm_input_insert and commits each one (the clock covers pushing and
 * committing, i.e. maintaining the view), and finally reads the view and
 * compares it with SQLite's result (row count and checksum, bench_util.h).
 * Children keep the runs' memory apart: rss_growth_mb is what the run added
 * to the resident set the child started with (the events, shared).
 *
 * Each query is written in the most natural SQL first; when ivm refuses it,
 * a second formulation that computes the same thing with the SQL ivm has
 * (views on views instead of subqueries and window functions) is tried, and
 * the line says so ("form" and "refused").  A query refused in every form
 * is a line with "skipped" and the engine's message.  SQLite computes the
 * form ivm maintains.
 *
 * Usage: nexmark [--queries q0,q1,...|all] [--events N] [--workers 1,2]
 *                [--txn EVENTS] [--no-sqlite] [--csv DIR] [--list]
 * JSON lines on standard output; nothing here decides pass or fail.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "ivm.h"
#include "nexmark_gen.h"

/* ---- Schema and queries ------------------------------------------------------------ */

static const char ddl[] =
    "CREATE TABLE person(id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR,"
    " city VARCHAR, state VARCHAR, date_time BIGINT, extra VARCHAR);\n"
    "CREATE TABLE auction(id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT,"
    " reserve BIGINT, date_time BIGINT, expires BIGINT, seller BIGINT, category BIGINT,"
    " extra VARCHAR);\n"
    "CREATE TABLE bid(auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR,"
    " url VARCHAR, date_time BIGINT, extra VARCHAR);\n"
    /* q5's hop offsets: a 10 s window every 2 s holds each bid 5 times. */
    "CREATE TABLE hop5(k BIGINT);\n"
    /* q13's static side input. */
    "CREATE TABLE side_input(key BIGINT, value VARCHAR);\n";

/* One query: its natural SQL, and where ivm refuses that, an equivalent in
 * the SQL it maintains.  Each is a script of CREATE VIEW statements whose
 * last view is named after the query. */
typedef struct query {
    const char *name;
    const char *what;
    const char *natural;
    const char *workaround;
} query;

/* For a view whose rows SQL leaves open among ties (ROW_NUMBER numbers
 * rows of equal ORDER BY values in any order, and which of them make the
 * cut is open too), the columns that ties cannot change, and their
 * positions in the view's rows: both engines' rows are also compared on
 * those alone ("match_tie_free"). */
#define TIE_COLS_MAX 4
typedef struct tie_free {
    const char *query;
    const char *cols;
    uint32_t idx[TIE_COLS_MAX];
    uint32_t n;
} tie_free;

static const tie_free tie_free_cols[] = {
    {"q19", "auction, price, rank_number", {0, 2, 7}, 3},
};

static const tie_free *tie_cols(const char *name)
{
    for (size_t i = 0; i < sizeof tie_free_cols / sizeof tie_free_cols[0]; i++)
        if (strcmp(tie_free_cols[i].query, name) == 0)
            return &tie_free_cols[i];
    return NULL;
}

/* SPLIT_INDEX(url, '/', 3..5) for q22, built at startup. */
static char q22_sql[16384];

static query queries[] = {
    {"q0", "pass-through",
     "CREATE VIEW q0 AS SELECT auction, bidder, price, date_time, extra FROM bid;", NULL},
    {"q1", "currency conversion",
     "CREATE VIEW q1 AS SELECT auction, bidder, 0.908 * price AS price, date_time, extra"
     " FROM bid;",
     NULL},
    {"q2", "selection",
     "CREATE VIEW q2 AS SELECT auction, price FROM bid WHERE auction % 123 = 0;", NULL},
    {"q3", "local item suggestion",
     "CREATE VIEW q3 AS SELECT P.name, P.city, P.state, A.id"
     " FROM auction AS A JOIN person AS P ON A.seller = P.id"
     " WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');",
     NULL},
    {"q4", "average closing price per category",
     "CREATE VIEW q4 AS SELECT Q.category, AVG(Q.final) AS avg_final FROM"
     " (SELECT A.id, A.category, MAX(B.price) AS final FROM auction AS A JOIN bid AS B"
     "  ON A.id = B.auction WHERE B.date_time BETWEEN A.date_time AND A.expires"
     "  GROUP BY A.id, A.category) AS Q GROUP BY Q.category;",
     "CREATE VIEW q4_final AS SELECT A.id, A.category, MAX(B.price) AS final"
     " FROM auction AS A JOIN bid AS B ON A.id = B.auction"
     " WHERE B.date_time BETWEEN A.date_time AND A.expires GROUP BY A.id, A.category;\n"
     "CREATE VIEW q4 AS SELECT category, AVG(final) AS avg_final FROM q4_final"
     " GROUP BY category;"},
    {"q5", "hot items (hop windows of 10 s every 2 s)",
     "CREATE VIEW q5 AS WITH counts AS"
     " (SELECT B.auction, (B.date_time / 2000 - H.k) * 2000 AS starttime, COUNT(*) AS num"
     "  FROM bid AS B, hop5 AS H GROUP BY B.auction, (B.date_time / 2000 - H.k) * 2000),"
     " maxes AS (SELECT starttime, MAX(num) AS maxn FROM counts GROUP BY starttime)"
     " SELECT C.auction, C.starttime, C.num FROM counts AS C JOIN maxes AS M"
     " ON C.starttime = M.starttime AND C.num = M.maxn;",
     "CREATE VIEW q5_counts AS SELECT B.auction,"
     " (B.date_time / 2000 - H.k) * 2000 AS starttime, COUNT(*) AS num"
     " FROM bid AS B, hop5 AS H GROUP BY B.auction, (B.date_time / 2000 - H.k) * 2000;\n"
     "CREATE VIEW q5_max AS SELECT starttime, MAX(num) AS maxn FROM q5_counts"
     " GROUP BY starttime;\n"
     "CREATE VIEW q5 AS SELECT C.auction, C.starttime, C.num FROM q5_counts AS C"
     " JOIN q5_max AS M ON C.starttime = M.starttime AND C.num = M.maxn;"},
    {"q6", "average closing price of each seller's last 10 auctions",
     "CREATE VIEW q6 AS SELECT Q.seller, AVG(Q.final) OVER (PARTITION BY Q.seller"
     " ORDER BY Q.date_time ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS avg_final FROM"
     " (SELECT A.id, A.seller, A.date_time, MAX(B.price) AS final FROM auction AS A"
     "  JOIN bid AS B ON A.id = B.auction WHERE B.date_time BETWEEN A.date_time AND A.expires"
     "  GROUP BY A.id, A.seller, A.date_time) AS Q;",
     NULL},
    {"q7", "highest bid per 10 s window",
     "CREATE VIEW q7 AS SELECT B.auction, B.price, B.bidder, B.date_time, B.extra"
     " FROM bid AS B JOIN (SELECT date_time / 10000 * 10000 AS starttime,"
     " MAX(price) AS maxprice FROM bid GROUP BY date_time / 10000 * 10000) AS M"
     " ON B.date_time / 10000 * 10000 = M.starttime AND B.price = M.maxprice;",
     "CREATE VIEW q7_max AS SELECT date_time / 10000 * 10000 AS starttime,"
     " MAX(price) AS maxprice FROM bid GROUP BY date_time / 10000 * 10000;\n"
     "CREATE VIEW q7 AS SELECT B.auction, B.price, B.bidder, B.date_time, B.extra"
     " FROM bid AS B JOIN q7_max AS M"
     " ON B.date_time / 10000 * 10000 = M.starttime AND B.price = M.maxprice;"},
    {"q8", "new users who sell in their first 10 s window",
     "CREATE VIEW q8 AS SELECT DISTINCT P.id, P.name, P.date_time / 10000 * 10000 AS starttime"
     " FROM person AS P JOIN auction AS A ON P.id = A.seller"
     " AND P.date_time / 10000 * 10000 = A.date_time / 10000 * 10000;",
     NULL},
    {"q9", "winning bid of each auction",
     "CREATE VIEW q9 AS SELECT id, itemName, description, initialBid, reserve, date_time,"
     " expires, seller, category, extra, auction, bidder, price, bid_date_time, bid_extra"
     " FROM (SELECT A.*, B.auction, B.bidder, B.price, B.date_time AS bid_date_time,"
     "  B.extra AS bid_extra, ROW_NUMBER() OVER (PARTITION BY A.id"
     "  ORDER BY B.price DESC, B.date_time ASC) AS rownum FROM auction AS A JOIN bid AS B"
     "  ON A.id = B.auction WHERE B.date_time BETWEEN A.date_time AND A.expires)"
     " WHERE rownum <= 1;",
     "CREATE VIEW q9_price AS SELECT A.id AS auction, MAX(B.price) AS price"
     " FROM auction AS A JOIN bid AS B ON A.id = B.auction"
     " WHERE B.date_time BETWEEN A.date_time AND A.expires GROUP BY A.id;\n"
     "CREATE VIEW q9_time AS SELECT B.auction, B.price, MIN(B.date_time) AS date_time"
     " FROM bid AS B JOIN q9_price AS W ON B.auction = W.auction AND B.price = W.price"
     " JOIN auction AS A ON A.id = B.auction"
     " WHERE B.date_time BETWEEN A.date_time AND A.expires GROUP BY B.auction, B.price;\n"
     "CREATE VIEW q9 AS SELECT A.id, A.itemName, A.description, A.initialBid, A.reserve,"
     " A.date_time, A.expires, A.seller, A.category, A.extra, B.auction, B.bidder, B.price,"
     " B.date_time AS bid_date_time, B.extra AS bid_extra"
     " FROM auction AS A JOIN q9_time AS T ON A.id = T.auction JOIN bid AS B"
     " ON B.auction = T.auction AND B.price = T.price AND B.date_time = T.date_time;"},
    {"q12", "bids per bidder per 10 s window",
     "CREATE VIEW q12 AS SELECT bidder, COUNT(*) AS bid_count,"
     " date_time / 10000 * 10000 AS starttime FROM bid"
     " GROUP BY bidder, date_time / 10000 * 10000;",
     NULL},
    {"q13", "bids joined with a static side input",
     "CREATE VIEW q13 AS SELECT B.auction, B.bidder, B.price, B.date_time, S.value"
     " FROM bid AS B JOIN side_input AS S ON B.auction % 10000 = S.key;",
     NULL},
    {"q14", "conversion, time-of-day class and a UDF-like count",
     "CREATE VIEW q14 AS SELECT auction, bidder, 0.908 * price AS price,"
     " CASE WHEN date_time / 3600000 % 24 BETWEEN 8 AND 18 THEN 'dayTime'"
     "  WHEN date_time / 3600000 % 24 <= 6 OR date_time / 3600000 % 24 >= 20"
     "  THEN 'nightTime' ELSE 'otherTime' END AS bidTimeType,"
     " date_time, extra, length(extra) - length(replace(extra, 'c', '')) AS c_counts"
     " FROM bid WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000;",
     NULL},
    {"q15", "per-day bid statistics",
     "CREATE VIEW q15 AS SELECT date_time / 86400000 AS day, COUNT(*) AS total_bids,"
     " COUNT(*) FILTER (WHERE price < 10000) AS rank1_bids,"
     " COUNT(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,"
     " COUNT(*) FILTER (WHERE price >= 1000000) AS rank3_bids,"
     " COUNT(DISTINCT bidder) AS total_bidders,"
     " COUNT(DISTINCT bidder) FILTER (WHERE price < 10000) AS rank1_bidders,"
     " COUNT(DISTINCT bidder) FILTER (WHERE price >= 10000 AND price < 1000000)"
     "  AS rank2_bidders,"
     " COUNT(DISTINCT bidder) FILTER (WHERE price >= 1000000) AS rank3_bidders,"
     " COUNT(DISTINCT auction) AS total_auctions,"
     " COUNT(DISTINCT auction) FILTER (WHERE price < 10000) AS rank1_auctions,"
     " COUNT(DISTINCT auction) FILTER (WHERE price >= 10000 AND price < 1000000)"
     "  AS rank2_auctions,"
     " COUNT(DISTINCT auction) FILTER (WHERE price >= 1000000) AS rank3_auctions"
     " FROM bid GROUP BY date_time / 86400000;",
     NULL},
    {"q16", "per-day and channel bid statistics",
     "CREATE VIEW q16 AS SELECT channel, date_time / 86400000 AS day,"
     " MAX(date_time / 60000 % 1440) AS minute, COUNT(*) AS total_bids,"
     " COUNT(*) FILTER (WHERE price < 10000) AS rank1_bids,"
     " COUNT(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,"
     " COUNT(*) FILTER (WHERE price >= 1000000) AS rank3_bids,"
     " COUNT(DISTINCT bidder) AS total_bidders,"
     " COUNT(DISTINCT bidder) FILTER (WHERE price < 10000) AS rank1_bidders,"
     " COUNT(DISTINCT bidder) FILTER (WHERE price >= 10000 AND price < 1000000)"
     "  AS rank2_bidders,"
     " COUNT(DISTINCT bidder) FILTER (WHERE price >= 1000000) AS rank3_bidders,"
     " COUNT(DISTINCT auction) AS total_auctions,"
     " COUNT(DISTINCT auction) FILTER (WHERE price < 10000) AS rank1_auctions,"
     " COUNT(DISTINCT auction) FILTER (WHERE price >= 10000 AND price < 1000000)"
     "  AS rank2_auctions,"
     " COUNT(DISTINCT auction) FILTER (WHERE price >= 1000000) AS rank3_auctions"
     " FROM bid GROUP BY channel, date_time / 86400000;",
     NULL},
    {"q17", "per-auction and day bid statistics",
     "CREATE VIEW q17 AS SELECT auction, date_time / 86400000 AS day, COUNT(*) AS total_bids,"
     " COUNT(*) FILTER (WHERE price < 10000) AS rank1_bids,"
     " COUNT(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,"
     " COUNT(*) FILTER (WHERE price >= 1000000) AS rank3_bids,"
     " MIN(price) AS min_price, MAX(price) AS max_price, AVG(price) AS avg_price,"
     " SUM(price) AS sum_price FROM bid GROUP BY auction, date_time / 86400000;",
     NULL},
    {"q18", "each bidder's last bid on each auction",
     "CREATE VIEW q18 AS SELECT auction, bidder, price, channel, url, date_time, extra FROM"
     " (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY date_time DESC)"
     "  AS rank_number FROM bid) WHERE rank_number <= 1;",
     "CREATE VIEW q18_last AS SELECT bidder, auction, MAX(date_time) AS date_time FROM bid"
     " GROUP BY bidder, auction;\n"
     "CREATE VIEW q18 AS SELECT B.auction, B.bidder, B.price, B.channel, B.url, B.date_time,"
     " B.extra FROM bid AS B JOIN q18_last AS L ON B.bidder = L.bidder"
     " AND B.auction = L.auction AND B.date_time = L.date_time;"},
    {"q19", "top 10 bids of each auction",
     "CREATE VIEW q19 AS SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction"
     " ORDER BY price DESC) AS rank_number FROM bid) WHERE rank_number <= 10;",
     NULL},
    {"q20", "bids with their auction's details, category 10",
     "CREATE VIEW q20 AS SELECT B.auction, B.bidder, B.price, B.channel, B.url,"
     " B.date_time AS bid_date_time, B.extra AS bid_extra, A.itemName, A.description,"
     " A.initialBid, A.reserve, A.date_time AS auction_date_time, A.expires, A.seller,"
     " A.category, A.extra AS auction_extra FROM bid AS B JOIN auction AS A"
     " ON B.auction = A.id WHERE A.category = 10;",
     NULL},
    {"q21", "channel id from the channel or the url",
     "CREATE VIEW q21 AS SELECT auction, bidder, price, channel,"
     " CASE WHEN lower(channel) = 'apple' THEN '0' WHEN lower(channel) = 'google' THEN '1'"
     "  WHEN lower(channel) = 'facebook' THEN '2' WHEN lower(channel) = 'baidu' THEN '3'"
     "  ELSE substr(url, instr(url, 'channel_id=') + 11) END AS channel_id FROM bid"
     " WHERE instr(url, 'channel_id=') > 0"
     "  OR lower(channel) IN ('apple', 'google', 'facebook', 'baidu');",
     NULL},
    {"q22", "url split into directories", q22_sql, NULL},
};
#define NQUERIES (sizeof queries / sizeof queries[0])

/* SPLIT_INDEX(url, '/', 3), (.., 4), (.., 5) with substr and instr: R1 is
 * the url after its third '/', R2 after the fourth, R3 after the fifth. */
static void build_q22(void)
{
    static char r1[256], r2[1024], r3[4096];
    snprintf(r1, sizeof r1, "substr(url, 9 + instr(substr(url, 9), '/'))");
    snprintf(r2, sizeof r2, "substr(%s, instr(%s, '/') + 1)", r1, r1);
    snprintf(r3, sizeof r3, "substr(%s, instr(%s, '/') + 1)", r2, r2);
    snprintf(q22_sql, sizeof q22_sql,
             "CREATE VIEW q22 AS SELECT auction, bidder, price, channel,"
             " substr(%s, 1, instr(%s, '/') - 1) AS dir1,"
             " substr(%s, 1, instr(%s, '/') - 1) AS dir2,"
             " substr(%s, 1, instr(%s, '/') - 1) AS dir3 FROM bid;",
             r1, r1, r2, r2, r3, r3);
}

/* ---- Options ------------------------------------------------------------------------- */

typedef struct options {
    uint64_t events;
    uint64_t txn;
    uint32_t workers[16];
    size_t nworkers;
    bool selected[NQUERIES];
    bool sqlite;
    const char *csv_dir;
    uint32_t gen_threads;
} options;

static void usage(void)
{
    fprintf(stderr, "usage: nexmark [--queries q0,q1,...|all] [--events N] [--workers 1,2]"
                    " [--txn EVENTS] [--no-sqlite] [--csv DIR] [--gen-threads N] [--list]\n");
    exit(2);
}

static void parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->events = 1000000;
    o->txn = 10000;
    o->sqlite = true;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->gen_threads = cpus > 0 ? (uint32_t)cpus : 1;
    const char *qs = "all", *ws = "1,2";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--list") == 0) {
            for (size_t q = 0; q < NQUERIES; q++)
                printf("%s\t%s\n", queries[q].name, queries[q].what);
            exit(0);
        } else if (strcmp(a, "--no-sqlite") == 0) {
            o->sqlite = false;
        } else if (v == NULL) {
            usage();
        } else if (strcmp(a, "--queries") == 0) {
            qs = v, i++;
        } else if (strcmp(a, "--events") == 0) {
            o->events = strtoull(v, NULL, 10), i++;
        } else if (strcmp(a, "--workers") == 0) {
            ws = v, i++;
        } else if (strcmp(a, "--txn") == 0) {
            o->txn = strtoull(v, NULL, 10), i++;
        } else if (strcmp(a, "--csv") == 0) {
            o->csv_dir = v, i++;
        } else if (strcmp(a, "--gen-threads") == 0) {
            o->gen_threads = (uint32_t)strtoul(v, NULL, 10), i++;
        } else {
            usage();
        }
    }
    if (o->txn == 0 || o->gen_threads == 0)
        usage();
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", qs);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        bool found = false;
        for (size_t q = 0; q < NQUERIES; q++)
            if (strcmp(t, "all") == 0 || strcmp(t, queries[q].name) == 0)
                o->selected[q] = found = true;
        if (!found) {
            fprintf(stderr, "nexmark: no query %s (--list shows them)\n", t);
            exit(2);
        }
    }
    snprintf(buf, sizeof buf, "%s", ws);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && o->nworkers < 16;
         t = strtok_r(NULL, ",", &save)) {
        uint32_t w = (uint32_t)strtoul(t, NULL, 10);
        if (w == 0)
            usage();
        o->workers[o->nworkers++] = w;
    }
}

/* ---- Generation ---------------------------------------------------------------------- */

typedef struct gen_job {
    nx_config cfg;
    uint64_t a, b;
    nx_events ev;
    bool ok;
} gen_job;

static void *gen_thread(void *arg)
{
    gen_job *j = arg;
    j->ok = nx_gen_range(&j->cfg, j->a, j->b, &j->ev);
    return NULL;
}

/* The events [0, n) in `nchunks` ranges, generated by as many threads. */
static nx_events *generate(uint64_t n, uint32_t nchunks, double *seconds_out, size_t *bytes_out)
{
    gen_job *jobs = calloc(nchunks, sizeof *jobs);
    pthread_t *tids = calloc(nchunks, sizeof *tids);
    nx_events *chunks = calloc(nchunks, sizeof *chunks);
    if (jobs == NULL || tids == NULL || chunks == NULL)
        abort();
    uint64_t t0 = bench_now_ns();
    for (uint32_t i = 0; i < nchunks; i++) {
        jobs[i].cfg = nx_config_default();
        jobs[i].a = n * i / nchunks;
        jobs[i].b = n * (i + 1) / nchunks;
        if (pthread_create(&tids[i], NULL, gen_thread, &jobs[i]) != 0)
            abort();
    }
    size_t bytes = 0;
    for (uint32_t i = 0; i < nchunks; i++) {
        pthread_join(tids[i], NULL);
        if (!jobs[i].ok) {
            fprintf(stderr, "nexmark: out of memory generating events\n");
            exit(1);
        }
        chunks[i] = jobs[i].ev;
        bytes += chunks[i].ntext + chunks[i].nperson * sizeof(nx_person) +
                 chunks[i].nauction * sizeof(nx_auction) + chunks[i].nbid * sizeof(nx_bid);
    }
    *seconds_out = (double)(bench_now_ns() - t0) / 1e9;
    *bytes_out = bytes;
    free(jobs);
    free(tids);
    return chunks;
}

static int write_csv(const char *dir, const nx_events *chunks, uint32_t nchunks)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "nexmark: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    const char *names[3] = {"person.csv", "auction.csv", "bid.csv"};
    const char *headers[3] = {nx_person_header, nx_auction_header, nx_bid_header};
    FILE *f[3];
    for (int k = 0; k < 3; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        if ((f[k] = fopen(path, "w")) == NULL) {
            fprintf(stderr, "nexmark: cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
        fprintf(f[k], "%s\n", headers[k]);
    }
    bool ok = true;
    for (uint32_t i = 0; i < nchunks && ok; i++)
        ok = nx_write_csv(&chunks[i], f[0], f[1], f[2]);
    for (int k = 0; k < 3; k++)
        ok = (fclose(f[k]) == 0) && ok;
    if (!ok)
        fprintf(stderr, "nexmark: writing CSV failed\n");
    return ok ? 0 : 1;
}

/* Rows of the static tables, as SQL for both engines. */
static char *static_rows(void)
{
    size_t cap = 1 << 18, n = 0;
    char *s = malloc(cap);
    if (s == NULL)
        abort();
    n += (size_t)snprintf(s + n, cap - n, "INSERT INTO hop5 VALUES (0),(1),(2),(3),(4);\n"
                                          "INSERT INTO side_input VALUES ");
    for (int k = 0; k < 10000; k++)
        n += (size_t)snprintf(s + n, cap - n, "%s(%d,'side-%d')", k ? "," : "", k, k);
    snprintf(s + n, cap - n, ";\n");
    return s;
}

/* ---- Results, shared with the children ------------------------------------------- */

#define MSG_MAX 600

/* What the probe, SQLite's child and ivm's children found for a query. */
typedef struct peer_result {
    bool done;
    bool failed;
    char msg[MSG_MAX];
    double seconds;
    bench_sum sum;
    bench_sum tie_sum;          /* over the query's tie_free columns */
} peer_result;

typedef struct run_result {
    bool done;
    bool failed;
    char msg[MSG_MAX];
    double seconds, p50_us, p99_us, max_rss_mb, rss_growth_mb;
    double push_cpu_s, cpu_s;   /* CPU over the clocked part: the pushing
                                   thread's, and the whole child's */
    bench_sum sum;
    bench_sum tie_sum;
} run_result;

typedef struct form_choice {
    const char *sql;            /* NULL: refused in every form */
    bool workaround;
    char refused[MSG_MAX];      /* the natural form's refusal */
} form_choice;

static void set_msg(char *dst, const char *src)
{
    snprintf(dst, MSG_MAX, "%s", src);
}

/* Whether ivm maintains a form: creates the tables and its views on an
 * empty engine. */
static bool ivm_accepts(const char *sql, char *msg)
{
    ivm_options opts = {.workers = 1};
    ivm_db *db = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    bool ok = ivm_open(&opts, &db, &err) == IVM_OK &&
              ivm_exec(db, ddl, strlen(ddl), 1, NULL, NULL, &err) == IVM_OK &&
              ivm_exec(db, sql, strlen(sql), 1, NULL, NULL, &err) == IVM_OK;
    if (!ok)
        snprintf(msg, MSG_MAX, "%s: %s", ivm_rc_str(err.rc), err.msg);
    ivm_close(db);
    return ok;
}

static void choose_form(const query *q, form_choice *fc)
{
    memset(fc, 0, sizeof *fc);
    if (ivm_accepts(q->natural, fc->refused)) {
        fc->sql = q->natural;
        return;
    }
    char msg[MSG_MAX];
    if (q->workaround != NULL && ivm_accepts(q->workaround, msg)) {
        fc->sql = q->workaround;
        fc->workaround = true;
    }
}

/* ---- SQLite ------------------------------------------------------------------------------ */

static bool lite_exec(sqlite3 *db, const char *sql, char *msg)
{
    char *e = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &e) == SQLITE_OK)
        return true;
    snprintf(msg, MSG_MAX, "sqlite: %s", e ? e : "error");
    sqlite3_free(e);
    return false;
}

static void bind_str(sqlite3_stmt *st, int col, const nx_events *ev, nx_str s)
{
    sqlite3_bind_text(st, col, nx_text(ev, s), (int)s.len, SQLITE_STATIC);
}

static bool lite_load(sqlite3 *db, const nx_events *chunks, uint32_t nchunks, char *msg)
{
    sqlite3_stmt *sp = NULL, *sa = NULL, *sb = NULL;
    if (!lite_exec(db, "BEGIN;", msg) ||
        sqlite3_prepare_v2(db, "INSERT INTO person VALUES (?,?,?,?,?,?,?,?)", -1, &sp, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO auction VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &sa,
                           NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO bid VALUES (?,?,?,?,?,?,?)", -1, &sb, NULL)) {
        snprintf(msg, MSG_MAX, "sqlite: %s", sqlite3_errmsg(db));
        return false;
    }
    bool ok = true;
    for (uint32_t c = 0; c < nchunks && ok; c++) {
        const nx_events *ev = &chunks[c];
        for (size_t i = 0; i < ev->nperson && ok; i++) {
            const nx_person *p = &ev->person[i];
            sqlite3_bind_int64(sp, 1, p->id);
            bind_str(sp, 2, ev, p->name);
            bind_str(sp, 3, ev, p->email);
            bind_str(sp, 4, ev, p->credit_card);
            bind_str(sp, 5, ev, p->city);
            bind_str(sp, 6, ev, p->state);
            sqlite3_bind_int64(sp, 7, p->date_time);
            bind_str(sp, 8, ev, p->extra);
            ok = sqlite3_step(sp) == SQLITE_DONE && sqlite3_reset(sp) == SQLITE_OK;
        }
        for (size_t i = 0; i < ev->nauction && ok; i++) {
            const nx_auction *a = &ev->auction[i];
            sqlite3_bind_int64(sa, 1, a->id);
            bind_str(sa, 2, ev, a->item_name);
            bind_str(sa, 3, ev, a->description);
            sqlite3_bind_int64(sa, 4, a->initial_bid);
            sqlite3_bind_int64(sa, 5, a->reserve);
            sqlite3_bind_int64(sa, 6, a->date_time);
            sqlite3_bind_int64(sa, 7, a->expires);
            sqlite3_bind_int64(sa, 8, a->seller);
            sqlite3_bind_int64(sa, 9, a->category);
            bind_str(sa, 10, ev, a->extra);
            ok = sqlite3_step(sa) == SQLITE_DONE && sqlite3_reset(sa) == SQLITE_OK;
        }
        for (size_t i = 0; i < ev->nbid && ok; i++) {
            const nx_bid *b = &ev->bid[i];
            sqlite3_bind_int64(sb, 1, b->auction);
            sqlite3_bind_int64(sb, 2, b->bidder);
            sqlite3_bind_int64(sb, 3, b->price);
            bind_str(sb, 4, ev, b->channel);
            bind_str(sb, 5, ev, b->url);
            sqlite3_bind_int64(sb, 6, b->date_time);
            bind_str(sb, 7, ev, b->extra);
            ok = sqlite3_step(sb) == SQLITE_DONE && sqlite3_reset(sb) == SQLITE_OK;
        }
    }
    if (!ok)
        snprintf(msg, MSG_MAX, "sqlite: %s", sqlite3_errmsg(db));
    sqlite3_finalize(sp);
    sqlite3_finalize(sa);
    sqlite3_finalize(sb);
    return ok && lite_exec(db, "COMMIT;", msg);
}

/* The SQLite child: loads every event once, then computes each chosen
 * query once, timing only the query. */
static void sqlite_child(const nx_events *chunks, uint32_t nchunks, const form_choice *forms,
                         const options *o, peer_result *res, double *load_s)
{
    sqlite3 *db = NULL;
    char msg[MSG_MAX] = "";
    char *rows = static_rows();
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || !lite_exec(db, ddl, msg) ||
        !lite_exec(db, rows, msg)) {
        for (size_t q = 0; q < NQUERIES; q++)
            res[q].failed = true, set_msg(res[q].msg, msg);
        _exit(1);
    }
    uint64_t t0 = bench_now_ns();
    bool loaded = lite_load(db, chunks, nchunks, msg);
    *load_s = (double)(bench_now_ns() - t0) / 1e9;
    for (size_t q = 0; q < NQUERIES; q++) {
        if (!o->selected[q] || forms[q].sql == NULL)
            continue;
        peer_result *r = &res[q];
        if (!loaded || !lite_exec(db, forms[q].sql, r->msg)) {
            if (!loaded)
                set_msg(r->msg, msg);
            r->failed = true;
            r->done = true;
            continue;
        }
        char sel[64];
        snprintf(sel, sizeof sel, "SELECT * FROM %s", queries[q].name);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sel, -1, &st, NULL) != SQLITE_OK) {
            snprintf(r->msg, MSG_MAX, "sqlite: %s", sqlite3_errmsg(db));
            r->failed = true;
        } else {
            uint64_t a = bench_now_ns();
            int rc;
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                bench_sum_sqlite_row(&r->sum, st);
                const tie_free *tf = tie_cols(queries[q].name);
                if (tf != NULL)
                    bench_sum_sqlite_cols(&r->tie_sum, st, tf->idx, tf->n);
            }
            r->seconds = (double)(bench_now_ns() - a) / 1e9;
            if (rc != SQLITE_DONE) {
                snprintf(r->msg, MSG_MAX, "sqlite: %s", sqlite3_errmsg(db));
                r->failed = true;
            }
        }
        sqlite3_finalize(st);
        r->done = true;
    }
    sqlite3_close(db);
    free(rows);
    _exit(0);
}

/* ---- ivm ------------------------------------------------------------------------------------ */

static ivm_value text_val(const nx_events *ev, nx_str s)
{
    return ivm_value_text(nx_text(ev, s), s.len);
}

/* Pushes the rows of events [a, b) found in ev. */
static ivm_rc push_events(const nx_events *ev, uint64_t a, uint64_t b, ivm_input *const in[3],
                          ivm_err *err)
{
    size_t lo, hi;
    ivm_value row[10];
    nx_events_slice(ev, NX_PERSON, a, b, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        const nx_person *p = &ev->person[i];
        row[0] = ivm_value_int(p->id);
        row[1] = text_val(ev, p->name);
        row[2] = text_val(ev, p->email);
        row[3] = text_val(ev, p->credit_card);
        row[4] = text_val(ev, p->city);
        row[5] = text_val(ev, p->state);
        row[6] = ivm_value_int(p->date_time);
        row[7] = text_val(ev, p->extra);
        ivm_rc rc = ivm_input_insert(in[0], row, 8, err);
        if (rc != IVM_OK)
            return rc;
    }
    nx_events_slice(ev, NX_AUCTION, a, b, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        const nx_auction *x = &ev->auction[i];
        row[0] = ivm_value_int(x->id);
        row[1] = text_val(ev, x->item_name);
        row[2] = text_val(ev, x->description);
        row[3] = ivm_value_int(x->initial_bid);
        row[4] = ivm_value_int(x->reserve);
        row[5] = ivm_value_int(x->date_time);
        row[6] = ivm_value_int(x->expires);
        row[7] = ivm_value_int(x->seller);
        row[8] = ivm_value_int(x->category);
        row[9] = text_val(ev, x->extra);
        ivm_rc rc = ivm_input_insert(in[1], row, 10, err);
        if (rc != IVM_OK)
            return rc;
    }
    nx_events_slice(ev, NX_BID, a, b, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        const nx_bid *x = &ev->bid[i];
        row[0] = ivm_value_int(x->auction);
        row[1] = ivm_value_int(x->bidder);
        row[2] = ivm_value_int(x->price);
        row[3] = text_val(ev, x->channel);
        row[4] = text_val(ev, x->url);
        row[5] = ivm_value_int(x->date_time);
        row[6] = text_val(ev, x->extra);
        ivm_rc rc = ivm_input_insert(in[2], row, 7, err);
        if (rc != IVM_OK)
            return rc;
    }
    return IVM_OK;
}

static void ivm_fail(run_result *r, const char *what, const ivm_err *err)
{
    snprintf(r->msg, MSG_MAX, "%s: %s: %s", what, ivm_rc_str(err->rc), err->msg);
    r->failed = true;
    r->done = true;
    _exit(1);
}

/* One ivm run, in a child process. */
static double cpu_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ivm_child(const nx_events *chunks, uint32_t nchunks, const query *q,
                      const char *sql, uint32_t workers, const options *o, run_result *r)
{
    double rss0 = bench_rss_mb();
    ivm_options opts = {.workers = workers};
    ivm_db *db = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    char *rows = static_rows();
    if (ivm_open(&opts, &db, &err) != IVM_OK ||
        ivm_exec(db, ddl, strlen(ddl), 1, NULL, NULL, &err) != IVM_OK ||
        ivm_exec(db, rows, strlen(rows), 1, NULL, NULL, &err) != IVM_OK ||
        ivm_exec(db, sql, strlen(sql), 1, NULL, NULL, &err) != IVM_OK)
        ivm_fail(r, "setup", &err);
    ivm_input *in[3] = {NULL, NULL, NULL};
    const char *tables[3] = {"person", "auction", "bid"};
    for (int k = 0; k < 3; k++)
        if (ivm_input_open(db, tables[k], &in[k], &err) != IVM_OK)
            ivm_fail(r, "input", &err);
    size_t ntxn = (size_t)((o->events + o->txn - 1) / o->txn);
    uint64_t *lat = calloc(ntxn ? ntxn : 1, sizeof *lat);
    uint64_t t0 = bench_now_ns();
    double tcpu0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID), pcpu0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    uint32_t c = 0;
    for (size_t t = 0; t < ntxn; t++) {
        uint64_t a = t * o->txn, b = a + o->txn < o->events ? a + o->txn : o->events;
        uint64_t s = bench_now_ns();
        while (c < nchunks && chunks[c].first + chunks[c].count <= a)
            c++;
        for (uint32_t k = c; k < nchunks && chunks[k].first < b; k++)
            if (push_events(&chunks[k], a, b, in, &err) != IVM_OK)
                ivm_fail(r, "push", &err);
        if (ivm_commit(db, &err) != IVM_OK)
            ivm_fail(r, "commit", &err);
        lat[t] = bench_now_ns() - s;
    }
    r->seconds = (double)(bench_now_ns() - t0) / 1e9;
    r->push_cpu_s = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - tcpu0;
    r->cpu_s = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - pcpu0;
    r->p50_us = bench_quantile_us(lat, ntxn, 0.5);
    r->p99_us = bench_quantile_us(lat, ntxn, 0.99);
    r->max_rss_mb = bench_max_rss_mb();
    r->rss_growth_mb = r->max_rss_mb - rss0;
    for (int k = 0; k < 3; k++)
        ivm_input_close(in[k]);
    ivm_cursor *cur = NULL;
    if (ivm_cursor_open(db, q->name, &cur, &err) != IVM_OK)
        ivm_fail(r, "read", &err);
    while (ivm_cursor_step(cur)) {
        const ivm_value *row = ivm_cursor_row(cur);
        uint32_t ncols = ivm_cursor_column_count(cur);
        bench_sum_row(&r->sum, row, ncols);
        const tie_free *tf = tie_cols(q->name);
        ivm_value tie[TIE_COLS_MAX];
        for (uint32_t k = 0; tf != NULL && k < tf->n; k++)
            tie[k] = tf->idx[k] < ncols ? row[tf->idx[k]] : ivm_value_null();
        if (tf != NULL)
            bench_sum_row(&r->tie_sum, tie, tf->n);
    }
    ivm_cursor_close(cur);
    r->done = true;
    /* Exit without tearing the engine down: its memory dies with us. */
    _exit(0);
}

/* Runs fn in a child process and waits for it; false if it did not exit
 * normally. */
static bool in_child(void (*fn)(void *), void *arg, char *msg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, MSG_MAX, "fork: %s", strerror(errno));
        return false;
    }
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        snprintf(msg, MSG_MAX, "child killed by signal %d", WTERMSIG(status));
        return false;
    }
    return true;
}

typedef struct child_args {
    const nx_events *chunks;
    uint32_t nchunks;
    const form_choice *forms;
    const options *o;
    peer_result *peer;
    double *load_s;
    size_t q;
    uint32_t workers;
    run_result *run;
} child_args;

/* Which form of each selected query ivm maintains (in a child). */
static void probe_entry(void *arg)
{
    child_args *a = arg;
    for (size_t q = 0; q < NQUERIES; q++)
        if (a->o->selected[q])
            choose_form(&queries[q], (form_choice *)&a->forms[q]);
    _exit(0);
}

static void sqlite_entry(void *arg)
{
    child_args *a = arg;
    sqlite_child(a->chunks, a->nchunks, a->forms, a->o, a->peer, a->load_s);
}

static void ivm_entry(void *arg)
{
    child_args *a = arg;
    ivm_child(a->chunks, a->nchunks, &queries[a->q], a->forms[a->q].sql, a->workers, a->o,
              a->run);
}

/* ---- Output ---------------------------------------------------------------------------------- */

static void print_run(const options *o, size_t q, const form_choice *fc, uint32_t workers,
                      const run_result *r, const peer_result *p, double events_mb)
{
    printf("{\"bench\":\"nexmark\",\"query\":\"%s\",\"workers\":%u,\"events\":%llu,"
           "\"txn\":%llu",
           queries[q].name, workers, (unsigned long long)o->events,
           (unsigned long long)o->txn);
    if (fc->sql == NULL) {
        printf(",\"skipped\":true,\"message\":");
        bench_json_str(stdout, fc->refused);
        printf("}\n");
        return;
    }
    printf(",\"form\":\"%s\"", fc->workaround ? "workaround" : "natural");
    if (fc->workaround) {
        printf(",\"refused\":");
        bench_json_str(stdout, fc->refused);
    }
    if (r->failed || !r->done) {
        printf(",\"failed\":true,\"message\":");
        bench_json_str(stdout, r->msg[0] ? r->msg : "run did not finish");
        printf("}\n");
        return;
    }
    printf(",\"seconds\":%.3f,\"per_s\":%.0f,\"per_s_per_core\":%.0f,"
           "\"commit_p50_us\":%.0f,\"commit_p99_us\":%.0f,\"rows\":%llu,"
           "\"max_rss_mb\":%.0f,\"rss_growth_mb\":%.0f,\"events_mb\":%.0f,"
           "\"push_cpu_s\":%.3f,\"cpu_s\":%.3f",
           r->seconds, (double)o->events / r->seconds,
           (double)o->events / r->seconds / workers, r->p50_us, r->p99_us,
           (unsigned long long)r->sum.rows, r->max_rss_mb, r->rss_growth_mb, events_mb,
           r->push_cpu_s, r->cpu_s);
    if (p != NULL && p->done && !p->failed) {
        bool match = p->sum.rows == r->sum.rows && p->sum.hash == r->sum.hash;
        printf(",\"sqlite_seconds\":%.3f,\"sqlite_ratio\":%.2f,\"sqlite_rows\":%llu,"
               "\"match\":%s",
               p->seconds, p->seconds > 0 ? r->seconds / p->seconds : 0.0,
               (unsigned long long)p->sum.rows, match ? "true" : "false");
        const tie_free *tf = tie_cols(queries[q].name);
        if (tf != NULL) {
            bool tmatch = p->tie_sum.rows == r->tie_sum.rows && p->tie_sum.hash == r->tie_sum.hash;
            printf(",\"match_tie_free\":%s,\"tie_free_cols\":", tmatch ? "true" : "false");
            bench_json_str(stdout, tf->cols);
        }
    } else if (p != NULL) {
        printf(",\"sqlite_failed\":");
        bench_json_str(stdout, p->msg[0] ? p->msg : "no result");
    }
    printf("}\n");
}

int main(int argc, char **argv)
{
    options o;
    build_q22();
    parse_options(argc, argv, &o);
    uint32_t nchunks = o.gen_threads;
    if (o.events < nchunks)
        nchunks = 1;
    double gen_s = 0;
    size_t bytes = 0;
    nx_events *chunks = generate(o.events, nchunks, &gen_s, &bytes);
    double events_mb = (double)bytes / (1024.0 * 1024.0);
    printf("{\"bench\":\"nexmark_gen\",\"events\":%llu,\"threads\":%u,\"seconds\":%.3f,"
           "\"per_s\":%.0f,\"events_mb\":%.0f}\n",
           (unsigned long long)o.events, nchunks, gen_s, (double)o.events / gen_s, events_mb);
    if (o.csv_dir != NULL)
        return write_csv(o.csv_dir, chunks, nchunks);

    /* Results live in a shared mapping the children write into.  Every use
     * of ivm happens in a child: the engine's process-wide threads (the
     * spine merger) must not exist when the parent forks. */
    size_t shared_size = sizeof(form_choice) * NQUERIES + sizeof(peer_result) * NQUERIES +
                         sizeof(run_result) + sizeof(double);
    void *shared = mmap(NULL, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
    if (shared == MAP_FAILED) {
        perror("nexmark: mmap");
        return 1;
    }
    form_choice *forms = shared;
    peer_result *peer = (peer_result *)(forms + NQUERIES);
    run_result *run = (run_result *)(peer + NQUERIES);
    double *load_s = (double *)(run + 1);
    child_args args = {.chunks = chunks, .nchunks = nchunks, .forms = forms, .o = &o,
                       .peer = peer, .load_s = load_s, .run = run};
    char probe_msg[MSG_MAX] = "";
    if (!in_child(probe_entry, &args, probe_msg)) {
        fprintf(stderr, "nexmark: probing the queries failed: %s\n", probe_msg);
        return 1;
    }
    if (o.sqlite) {
        char msg[MSG_MAX] = "";
        bool any = false;
        for (size_t q = 0; q < NQUERIES; q++)
            any = any || (o.selected[q] && forms[q].sql != NULL);
        if (any) {
            if (!in_child(sqlite_entry, &args, msg))
                for (size_t q = 0; q < NQUERIES; q++)
                    if (!peer[q].done)
                        set_msg(peer[q].msg, msg);
            printf("{\"bench\":\"nexmark_sqlite_load\",\"events\":%llu,\"seconds\":%.3f}\n",
                   (unsigned long long)o.events, *load_s);
        }
    }
    for (size_t q = 0; q < NQUERIES; q++) {
        if (!o.selected[q])
            continue;
        for (size_t w = 0; w < o.nworkers; w++) {
            memset(run, 0, sizeof *run);
            if (forms[q].sql != NULL) {
                args.q = q;
                args.workers = o.workers[w];
                char msg[MSG_MAX] = "";
                if (!in_child(ivm_entry, &args, msg) && !run->done)
                    set_msg(run->msg, msg);
            }
            print_run(&o, q, &forms[q], o.workers[w], run, o.sqlite ? &peer[q] : NULL,
                      events_mb);
            fflush(stdout);
            if (forms[q].sql == NULL)
                break;
        }
    }
    for (uint32_t i = 0; i < nchunks; i++)
        nx_events_fini(&chunks[i]);
    free(chunks);
    munmap(shared, shared_size);
    return 0;
}
