/*
 * join_agg.c: the join-aggregate workload, ivm against SQLite.
 *
 *   R(k, v) with R_ROWS rows, S(k, w) with S_ROWS rows (k = 0 .. S_ROWS-1),
 *   VIEW SELECT R.k, COUNT(*), SUM(v + w) FROM R JOIN S ON R.k = S.k GROUP BY R.k
 *   then TXNS transactions of 10 rows inserted into R.
 *
 * ivm: the view is created on the empty tables, then S and R are loaded in
 * transactions of 10,000 rows (load_s covers loading and maintaining the
 * view), then each 10-row transaction is timed alone (p50, p99).  The peer,
 * SQLite (linked, in memory), loads the same rows and computes the same
 * query once, timed without its own loading.  Rows reach both as SQL text;
 * the text is built before the clock starts.
 *
 * Prints {"bench":"join_agg",...} and {"bench":"commit_latency",...}.
 * Usage: join_agg [r_rows [s_rows [txns [workers]]]].
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ivm.h"
#include "runtime.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        t->cap = t->cap ? t->cap * 2 : 1 << 20;
        t->p = realloc(t->p, t->cap);
        if (t->p == NULL)
            abort();
    }
}

/* INSERT statements of `rows` rows, at most 1,000 rows per statement, each
 * group of `txn` rows in BEGIN ... COMMIT.  Keys are 0, 1, ... or random
 * below kmod; values random below 1,000. */
static void inserts(text *t, const char *table, size_t rows, size_t txn, bool seq_keys,
                    uint64_t kmod)
{
    size_t in_stmt = 0;
    for (size_t i = 0; i < rows; i++) {
        if (i % txn == 0)
            put(t, "BEGIN;\n");
        put(t, in_stmt == 0 ? "INSERT INTO %s VALUES " : ",", table);
        int64_t k = seq_keys ? (int64_t)i : (int64_t)(rng() % kmod);
        put(t, "(%lld,%lld)", (long long)k, (long long)(rng() % 1000));
        in_stmt++;
        bool txn_end = (i + 1) % txn == 0 || i + 1 == rows;
        if (in_stmt == 1000 || txn_end) {
            put(t, ";\n");
            in_stmt = 0;
        }
        if (txn_end)
            put(t, "COMMIT;\n");
    }
}

static void die_ivm(const char *what, const ivm_err *err)
{
    fprintf(stderr, "join_agg: %s: %s\n", what, err->msg);
    exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int count_row(void *arg, uint32_t ncols, const ivm_value *vals, const char *const *names)
{
    (void)ncols;
    (void)vals;
    (void)names;
    ++*(size_t *)arg;
    return 0;
}

int main(int argc, char **argv)
{
    size_t r_rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    size_t s_rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
    size_t txns = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000;
    uint32_t workers = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 1;
    const char *ddl = "CREATE TABLE r(k INTEGER, v INTEGER);\n"
                      "CREATE TABLE s(k INTEGER, w INTEGER);\n";
    const char *query = "SELECT r.k, COUNT(*), SUM(v + w) FROM r JOIN s ON r.k = s.k GROUP BY r.k";

    text load = {0};
    inserts(&load, "s", s_rows, 10000, true, 0);
    inserts(&load, "r", r_rows, 10000, false, s_rows);
    text *small = calloc(txns, sizeof *small);
    for (size_t t = 0; t < txns; t++)
        inserts(&small[t], "r", 10, 10, false, s_rows);

    /* ---- ivm ---- */
    ivm_options opts = {.workers = workers};
    ivm_db *db = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    if (ivm_open(&opts, &db, &err) != IVM_OK)
        die_ivm("open", &err);
    char view[256];
    snprintf(view, sizeof view, "CREATE VIEW v AS %s;", query);
    if (ivm_exec(db, ddl, strlen(ddl), 1, NULL, NULL, &err) != IVM_OK ||
        ivm_exec(db, view, strlen(view), 1, NULL, NULL, &err) != IVM_OK)
        die_ivm("schema", &err);
    uint64_t t0 = rt_now_ns();
    if (ivm_exec(db, load.p, load.n, 1, NULL, NULL, &err) != IVM_OK)
        die_ivm("load", &err);
    double load_s = (double)(rt_now_ns() - t0) / 1e9;
    uint64_t *lat = calloc(txns, sizeof *lat);
    for (size_t t = 0; t < txns; t++) {
        uint64_t a = rt_now_ns();
        if (ivm_exec(db, small[t].p, small[t].n, 1, NULL, NULL, &err) != IVM_OK)
            die_ivm("transaction", &err);
        lat[t] = rt_now_ns() - a;
    }
    qsort(lat, txns, sizeof *lat, cmp_u64);
    size_t groups = 0;
    const char *read = "SELECT * FROM v;";
    if (ivm_exec(db, read, strlen(read), 1, count_row, &groups, &err) != IVM_OK)
        die_ivm("read", &err);
    ivm_close(db);

    /* ---- SQLite ---- */
    sqlite3 *lite = NULL;
    if (sqlite3_open(":memory:", &lite) != SQLITE_OK ||
        sqlite3_exec(lite, ddl, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(lite, load.p, NULL, NULL, NULL) != SQLITE_OK)
        return 1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(lite, query, -1, &st, NULL) != SQLITE_OK)
        return 1;
    uint64_t q0 = rt_now_ns();
    size_t lite_groups = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        lite_groups++;
    double lite_s = (double)(rt_now_ns() - q0) / 1e9;
    sqlite3_finalize(st);
    sqlite3_close(lite);

    double p50 = (double)lat[txns / 2] / 1e3, p99 = (double)lat[txns * 99 / 100] / 1e3;
    printf("{\"bench\":\"join_agg\",\"workers\":%u,\"rows\":%zu,\"s_rows\":%zu,\"groups\":%zu,"
           "\"load_s\":%.3f,\"per_s\":%.0f,\"txns\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,"
           "\"peer\":\"sqlite\",\"peer_query_s\":%.3f,\"peer_groups\":%zu,"
           "\"load_ratio\":%.2f,\"p50_vs_peer_ratio\":%.5f}\n",
           workers, r_rows, s_rows, groups, load_s, (double)(r_rows + s_rows) / load_s, txns, p50,
           p99, lite_s, lite_groups, load_s / lite_s, p50 / 1e6 / lite_s);
    printf("{\"bench\":\"commit_latency\",\"workers\":%u,\"rows\":%zu,\"txn_rows\":10,"
           "\"load_s\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p50_vs_load\":%.6f}\n",
           workers, r_rows, load_s, p50, p99, p50 / 1e6 / load_s);
    free(lat);
    for (size_t t = 0; t < txns; t++)
        free(small[t].p);
    free(small);
    free(load.p);
    return 0;
}
