/*
 * prop_views.c: views against recomputation.  Creates two tables and a set
 * of views covering every operator the planner lowers to (projection,
 * filter, join, GROUP BY with each aggregate, an aggregate without GROUP BY,
 * DISTINCT, a view on a view), then applies random INSERT, DELETE and UPDATE
 * statements, alone or in transactions that commit or roll back.  After each
 * statement it compares every view's maintained contents with (a) the same
 * SELECT run ad hoc by ivm over the current tables and (b) SQLite running the
 * same script, the independent oracle.  A failure prints the seed and the
 * script so far, which replays through build/ivm and sqlite3.
 *
 *   prop_views [--seed S] [--cases N] [--steps M] [--workers W] [--seconds T]
 */
#include "ivm.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

static const char *const schema[] = {
    "CREATE TABLE t1(a INTEGER PRIMARY KEY, b INTEGER, c TEXT, d REAL)",
    "CREATE TABLE t2(x INTEGER, y INTEGER, z TEXT)",
};

static const char *const views[][2] = {
    {"v_proj", "SELECT a, b * 2 + 1 AS e, c || '!' AS f, d / 2 AS g FROM t1 WHERE b > 2 OR c IS NULL"},
    {"v_agg", "SELECT b, COUNT(*) AS n, COUNT(c) AS nc, SUM(a) AS s, AVG(d) AS av, "
              "MIN(c) AS mn, MAX(c) AS mx, MIN(d) AS md FROM t1 GROUP BY b"},
    {"v_join", "SELECT t1.a, t1.b, t2.y, t2.z FROM t1 JOIN t2 ON t1.b = t2.x"},
    {"v_distinct", "SELECT DISTINCT b, c FROM t1"},
    {"v_join_agg", "SELECT t2.y, COUNT(*) AS n, SUM(t1.a) AS s, MAX(t2.z) AS mz FROM t1, t2 "
                   "WHERE t1.b = t2.x AND t2.y IS NOT NULL GROUP BY t2.y"},
    {"v_total", "SELECT COUNT(*) AS n, SUM(b) AS sb, MAX(d) AS md, AVG(b) AS ab FROM t1"},
    {"v_on_view", "SELECT b, n, s FROM v_agg WHERE n > 1"},
    {"v_expr_group", "SELECT x % 3 AS k, y / 2 AS h, COUNT(*) AS n, SUM(y) AS s FROM t2 "
                     "GROUP BY x % 3, y / 2 HAVING COUNT(*) > 1"},
    {"v_distinct_t2", "SELECT DISTINCT x, z FROM t2 WHERE y IS NULL OR y < 4"},
};
#define NVIEWS (sizeof views / sizeof views[0])

/* ---- Random numbers (splitmix64: reproducible from the seed alone) -------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static int rn(int n) { return (int)(rnd() % (uint64_t)n); }

/* ---- Text results ------------------------------------------------------------ */

typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        if (t->p == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}
static void puts_(text *t, const char *s) { put(t, s, strlen(s)); }

static int ivm_row(void *arg, uint32_t ncols, const ivm_value *v, const char *const *names)
{
    text *t = arg;
    char buf[64];
    for (uint32_t i = 0; i < ncols; i++) {
        if (i)
            puts_(t, "|");
        switch (v[i].type) {
        case IVM_TNULL: break;
        case IVM_TINT: snprintf(buf, sizeof buf, "%lld", (long long)v[i].u.i); puts_(t, buf); break;
        case IVM_TREAL: ivm_format_real(v[i].u.r, buf, sizeof buf); puts_(t, buf); break;
        case IVM_TTEXT: put(t, v[i].u.s.p, v[i].u.s.n); break;
        }
    }
    puts_(t, "\n");
    return 0;
}

static int sqlite_rows(sqlite3 *db, const char *sql, text *t)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        for (int i = 0; i < n; i++) {
            if (i)
                puts_(t, "|");
            const unsigned char *s = sqlite3_column_text(st, i);
            if (s)
                puts_(t, (const char *)s);
        }
        puts_(t, "\n");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* True if two result texts are equal, fields compared as text except that
 * two REALs may differ in the last digits: SUM and AVG of REAL depend on the
 * order of summation, which SQLite takes from rowids and ivm from values. */
static bool same_result(const char *a, const char *b)
{
    while (*a && *b) {
        size_t na = strcspn(a, "|\n"), nb = strcspn(b, "|\n");
        if (na != nb || memcmp(a, b, na) != 0) {
            char fa[64], fb[64];
            if (na >= sizeof fa || nb >= sizeof fb)
                return false;
            memcpy(fa, a, na);
            fa[na] = '\0';
            memcpy(fb, b, nb);
            fb[nb] = '\0';
            char *ea, *eb;
            double da = strtod(fa, &ea), db = strtod(fb, &eb);
            if (na == 0 || nb == 0 || *ea || *eb || !strchr(fa, '.') || !strchr(fb, '.'))
                return false;
            double scale = fabs(da) > fabs(db) ? fabs(da) : fabs(db);
            if (fabs(da - db) > 1e-12 * (scale > 1 ? scale : 1))
                return false;
        }
        a += na;
        b += nb;
        if (*a != *b)
            return false;
        if (*a) {
            a++;
            b++;
        }
    }
    return *a == *b;
}

/* ---- One case ---------------------------------------------------------------- */

static text script;

static void gen_value_t1(char *buf, size_t cap)
{
    static const char *const cs[] = {"'a'", "'b'", "'c'", "'ab'", "NULL"};
    char d[32];
    if (rn(5) == 0)
        snprintf(d, sizeof d, "NULL");
    else
        snprintf(d, sizeof d, "%d.%02d", rn(20) - 5, rn(100));
    char b[16];
    if (rn(6) == 0)
        snprintf(b, sizeof b, "NULL");
    else
        snprintf(b, sizeof b, "%d", rn(7));
    snprintf(buf, cap, "(%d, %s, %s, %s)", rn(40), b, cs[rn(5)], d);
}

static void gen_stmt(char *buf, size_t cap)
{
    char v1[96], v2[96];
    switch (rn(10)) {
    case 0: case 1: case 2:
        gen_value_t1(v1, sizeof v1);
        gen_value_t1(v2, sizeof v2);
        if (rn(2))
            snprintf(buf, cap, "INSERT INTO t1 VALUES %s", v1);
        else
            snprintf(buf, cap, "INSERT INTO t1 VALUES %s, %s", v1, v2);
        break;
    case 3: case 4: {
        static const char *const zs[] = {"'p'", "'q'", "NULL"};
        char y[16];
        if (rn(5) == 0)
            snprintf(y, sizeof y, "NULL");
        else
            snprintf(y, sizeof y, "%d", rn(8));
        snprintf(buf, cap, "INSERT INTO t2 VALUES (%d, %s, %s), (%d, %d, %s)", rn(7), y,
                 zs[rn(3)], rn(7), rn(8), zs[rn(3)]);
        break;
    }
    case 5:
        snprintf(buf, cap, "DELETE FROM t1 WHERE a %% 5 = %d", rn(5));
        break;
    case 6:
        snprintf(buf, cap, "DELETE FROM t2 WHERE x = %d OR y IS NULL", rn(7));
        break;
    case 7:
        snprintf(buf, cap, "UPDATE t1 SET b = %d, d = d + 1 WHERE a %% 4 = %d", rn(7), rn(4));
        break;
    case 8:
        snprintf(buf, cap, "UPDATE t2 SET y = y + 1 WHERE x = %d", rn(7));
        break;
    default:
        /* Only keys below 100 move, so no row moves onto a row that moves
         * too: row-at-a-time and statement-level checks then agree. */
        snprintf(buf, cap, "UPDATE t1 SET a = a + 100 WHERE b = %d AND a < 100", rn(7));
        break;
    }
}

static int fail(uint64_t seed, int kase, const char *what, const char *a, const char *b)
{
    fprintf(stderr, "prop_views: FAILED seed=%llu case=%d: %s\n--- ivm:\n%s--- expected:\n%s"
                    "--- script:\n%s\n",
            (unsigned long long)seed, kase, what, a, b, script.p ? script.p : "");
    return 1;
}

static int exec_both(ivm_db *idb, sqlite3 *sdb, const char *sql, uint64_t seed, int kase)
{
    ivm_err err;
    ivm_rc irc = ivm_exec(idb, sql, strlen(sql), 1, NULL, NULL, &err);
    char *msg = NULL;
    int src = sqlite3_exec(sdb, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    puts_(&script, sql);
    puts_(&script, ";\n");
    if ((irc == IVM_OK) != (src == SQLITE_OK)) {
        char a[600], b[64];
        snprintf(a, sizeof a, "rc %d: %s\n", irc, irc ? err.msg : "ok");
        snprintf(b, sizeof b, "sqlite rc %d\n", src);
        return fail(seed, kase, "statement outcome differs", a, b);
    }
    return 0;
}

static int compare_views(ivm_db *idb, sqlite3 *sdb, uint64_t seed, int kase)
{
    for (size_t v = 0; v < NVIEWS; v++) {
        char q[512];
        snprintf(q, sizeof q, "SELECT * FROM %s ORDER BY 1, 2, 3, 4", views[v][0]);
        /* Views with fewer than 4 columns: order by what they have. */
        if (strcmp(views[v][0], "v_distinct") == 0 || strcmp(views[v][0], "v_distinct_t2") == 0)
            snprintf(q, sizeof q, "SELECT * FROM %s ORDER BY 1, 2", views[v][0]);
        else if (strcmp(views[v][0], "v_on_view") == 0)
            snprintf(q, sizeof q, "SELECT * FROM %s ORDER BY 1, 2, 3", views[v][0]);
        text a = {0}, b = {0}, c = {0};
        ivm_err err;
        if (ivm_exec(idb, q, strlen(q), 1, ivm_row, &a, &err) != IVM_OK) {
            int r = fail(seed, kase, "reading a view failed", err.msg, "\n");
            free(a.p);
            return r;
        }
        if (sqlite_rows(sdb, q, &b) != 0) {
            free(a.p);
            free(b.p);
            return fail(seed, kase, "sqlite failed", q, "\n");
        }
        if (!same_result(a.p ? a.p : "", b.p ? b.p : "")) {
            char what[128];
            snprintf(what, sizeof what, "view %s differs from SQLite", views[v][0]);
            int r = fail(seed, kase, what, a.p ? a.p : "", b.p ? b.p : "");
            free(a.p);
            free(b.p);
            return r;
        }
        /* (a): ivm's own recomputation of the view's query, ordered alike. */
        char re[1024];
        const char *ord = strstr(q, " ORDER BY");
        snprintf(re, sizeof re, "%s%s", views[v][1], ord);
        if (strcmp(views[v][0], "v_on_view") != 0 &&
            ivm_exec(idb, re, strlen(re), 1, ivm_row, &c, &err) == IVM_OK &&
            strcmp(a.p ? a.p : "", c.p ? c.p : "") != 0) {
            char what[128];
            snprintf(what, sizeof what, "view %s differs from its recomputation", views[v][0]);
            int r = fail(seed, kase, what, a.p ? a.p : "", c.p ? c.p : "");
            free(a.p);
            free(b.p);
            free(c.p);
            return r;
        }
        free(a.p);
        free(b.p);
        free(c.p);
    }
    return 0;
}

static int run_case(uint64_t seed, int kase, int steps, uint32_t workers)
{
    rng_state = seed * 1000003ULL + (uint64_t)kase;
    script.n = 0;
    if (script.p)
        script.p[0] = '\0';
    ivm_db *idb = NULL;
    ivm_options o = {workers};
    ivm_err err;
    if (ivm_open(&o, &idb, &err) != IVM_OK) {
        fprintf(stderr, "prop_views: ivm_open: %s\n", err.msg);
        return 1;
    }
    sqlite3 *sdb = NULL;
    sqlite3_open(":memory:", &sdb);
    int bad = 0;
    char sql[1024];
    for (size_t i = 0; i < sizeof schema / sizeof schema[0] && !bad; i++)
        bad = exec_both(idb, sdb, schema[i], seed, kase);
    /* Some views exist from the start, the rest are created over data. */
    size_t early = (size_t)rn((int)NVIEWS + 1);
    for (size_t v = 0; v < early && !bad; v++) {
        snprintf(sql, sizeof sql, "CREATE VIEW %s AS %s", views[v][0], views[v][1]);
        bad = exec_both(idb, sdb, sql, seed, kase);
    }
    size_t created = early;
    bool in_txn = false;
    for (int s = 0; s < steps && !bad; s++) {
        if (!in_txn && created < NVIEWS && rn(steps / 4 + 1) == 0) {
            snprintf(sql, sizeof sql, "CREATE VIEW %s AS %s", views[created][0],
                     views[created][1]);
            bad = exec_both(idb, sdb, sql, seed, kase);
            created++;
            continue;
        }
        int r = rn(12);
        if (!in_txn && r == 0) {
            bad = exec_both(idb, sdb, "BEGIN", seed, kase);
            in_txn = true;
            continue;
        }
        if (in_txn && r <= 1) {
            bad = exec_both(idb, sdb, r == 0 ? "ROLLBACK" : "COMMIT", seed, kase);
            in_txn = false;
        } else {
            gen_stmt(sql, sizeof sql);
            bad = exec_both(idb, sdb, sql, seed, kase);
        }
        if (!bad && !in_txn) {
            for (size_t v = created; v < NVIEWS && !bad; v++) {
                snprintf(sql, sizeof sql, "CREATE VIEW %s AS %s", views[v][0], views[v][1]);
                bad = exec_both(idb, sdb, sql, seed, kase);
                created++;
            }
            if (!bad)
                bad = compare_views(idb, sdb, seed, kase);
        }
    }
    ivm_close(idb);
    sqlite3_close(sdb);
    return bad;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    int cases = 20, steps = 60;
    uint32_t workers = 1;
    double seconds = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--cases") == 0)
            cases = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--steps") == 0)
            steps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--workers") == 0)
            workers = (uint32_t)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else {
            fprintf(stderr, "usage: prop_views [--seed S] [--cases N] [--steps M] "
                            "[--workers W] [--seconds T]\n");
            return 2;
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int done = 0, failed = 0;
    for (int k = 0; seconds > 0 || k < cases; k++) {
        if (seconds > 0) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
                break;
        }
        failed += run_case(seed, k, steps, workers);
        done++;
        if (failed)
            break;
    }
    printf("prop_views: seed %llu, workers %u: %d passed, %d failed\n",
           (unsigned long long)seed, workers, done - failed, failed);
    free(script.p);
    return failed ? 1 : 0;
}
