/*
 * join_agg_work.c: the join-aggregate workload (join_agg_work.h) on ivm
 * and on SQLite.  The rows are a pure function of the parameters, so both
 * engines, and both programs, see the same data.
 */
#include "join_agg_work.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivm.h"

#define LOAD_TXN 10000
#define SMALL_TXN 10

const char ja_query[] = "SELECT r.k, COUNT(*), SUM(v + w) FROM r JOIN s ON r.k = s.k GROUP BY r.k";
static const char ja_ddl[] = "CREATE TABLE r(k INTEGER, v INTEGER);\n"
                             "CREATE TABLE s(k INTEGER, w INTEGER);\n";

typedef struct pair {
    int64_t k, v;
} pair;

/* S, then R (r_rows loading rows followed by txns * 10 small ones). */
typedef struct rows {
    pair *s, *r;
    size_t ns, nr;
} row_set;

static uint64_t rng(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *st = x;
}

static int make_rows(const ja_params *p, row_set *out)
{
    uint64_t st = 0x2545f4914f6cdd1dULL;
    out->ns = p->s_rows;
    out->nr = p->r_rows + p->txns * SMALL_TXN;
    out->s = malloc((out->ns + 1) * sizeof *out->s);
    out->r = malloc((out->nr + 1) * sizeof *out->r);
    if (out->s == NULL || out->r == NULL || p->s_rows == 0) {
        fprintf(stderr, "join_agg: out of memory or no S rows\n");
        return 1;
    }
    for (size_t i = 0; i < out->ns; i++)
        out->s[i] = (pair){(int64_t)i, (int64_t)(rng(&st) % 1000)};
    for (size_t i = 0; i < out->nr; i++) {
        int64_t k = (int64_t)(rng(&st) % p->s_rows);
        out->r[i] = (pair){k, (int64_t)(rng(&st) % 1000)};
    }
    return 0;
}

static void free_rows(row_set *r)
{
    free(r->s);
    free(r->r);
}

static int fail(const char *what, const ivm_err *err)
{
    fprintf(stderr, "join_agg: %s: %s\n", what, err->msg);
    return 1;
}

/* Pushes rows[0..n) into `in`, committing every `txn` rows; each commit's
 * time (push and commit) goes to lat[] when lat is not NULL. */
static int push(ivm_db *db, ivm_input *in, const pair *rows, size_t n, size_t txn,
                uint64_t *lat)
{
    ivm_err err;
    for (size_t i = 0, t = 0; i < n; t++) {
        uint64_t a = bench_now_ns();
        size_t end = i + txn < n ? i + txn : n;
        for (; i < end; i++) {
            ivm_value row[2] = {ivm_value_int(rows[i].k), ivm_value_int(rows[i].v)};
            if (ivm_input_insert(in, row, 2, &err) != IVM_OK)
                return fail("push", &err);
        }
        if (ivm_commit(db, &err) != IVM_OK)
            return fail("commit", &err);
        if (lat != NULL)
            lat[t] = bench_now_ns() - a;
    }
    return 0;
}

int ja_run_ivm(const ja_params *p, ja_result *out)
{
    row_set data;
    if (make_rows(p, &data) != 0)
        return 1;
    memset(out, 0, sizeof *out);
    ivm_options opts = {.workers = p->workers};
    ivm_db *db = NULL;
    ivm_input *in_r = NULL, *in_s = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    char view[256];
    snprintf(view, sizeof view, "CREATE VIEW v AS %s;", ja_query);
    if (ivm_open(&opts, &db, &err) != IVM_OK ||
        ivm_exec(db, ja_ddl, strlen(ja_ddl), 1, NULL, NULL, &err) != IVM_OK ||
        ivm_exec(db, view, strlen(view), 1, NULL, NULL, &err) != IVM_OK ||
        ivm_input_open(db, "r", &in_r, &err) != IVM_OK ||
        ivm_input_open(db, "s", &in_s, &err) != IVM_OK) {
        fail("schema", &err);
        goto fail;
    }
    uint64_t *lat = calloc(2 * p->txns + 1, sizeof *lat);
    uint64_t t0 = bench_now_ns();
    if (push(db, in_s, data.s, data.ns, LOAD_TXN, NULL) != 0 ||
        push(db, in_r, data.r, p->r_rows, LOAD_TXN, NULL) != 0) {
        free(lat);
        goto fail;
    }
    out->load_s = (double)(bench_now_ns() - t0) / 1e9;
    if (push(db, in_r, data.r + p->r_rows, p->txns * SMALL_TXN, SMALL_TXN, lat) != 0) {
        free(lat);
        goto fail;
    }
    for (size_t q = 0; q < 4; q++) {
        /* bench_quantile_us sorts: a copy of the quarter, in lat's spare
         * half. */
        size_t a = p->txns * q / 4, b = p->txns * (q + 1) / 4;
        memcpy(lat + p->txns, lat + a, (b - a) * sizeof *lat);
        out->p50_quarter_us[q] = bench_quantile_us(lat + p->txns, b - a, 0.5);
    }
    out->p50_us = bench_quantile_us(lat, p->txns, 0.5);
    out->p99_us = bench_quantile_us(lat, p->txns, 0.99);
    out->max_rss_mb = bench_max_rss_mb();
    free(lat);
    ivm_cursor *c = NULL;
    if (ivm_cursor_open(db, "v", &c, &err) != IVM_OK) {
        fail("read", &err);
        goto fail;
    }
    while (ivm_cursor_step(c))
        bench_sum_row(&out->view, ivm_cursor_row(c), ivm_cursor_column_count(c));
    ivm_cursor_close(c);
    ivm_input_close(in_r);
    ivm_input_close(in_s);
    ivm_close(db);
    free_rows(&data);
    return 0;
fail:
    ivm_input_close(in_r);
    ivm_input_close(in_s);
    ivm_close(db);
    free_rows(&data);
    return 1;
}

static int lite_insert(sqlite3 *db, const char *table, const pair *rows, size_t n)
{
    char sql[64];
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (?, ?)", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return 1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, rows[i].k);
        sqlite3_bind_int64(st, 2, rows[i].v);
        if (sqlite3_step(st) != SQLITE_DONE || sqlite3_reset(st) != SQLITE_OK) {
            sqlite3_finalize(st);
            return 1;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

int ja_run_sqlite(const ja_params *p, double *query_s, bench_sum *sum)
{
    row_set data;
    if (make_rows(p, &data) != 0)
        return 1;
    memset(sum, 0, sizeof *sum);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = 1;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db, ja_ddl, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        lite_insert(db, "s", data.s, data.ns) != 0 || lite_insert(db, "r", data.r, data.nr) != 0 ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, ja_query, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "join_agg: sqlite: %s\n", sqlite3_errmsg(db));
        goto done;
    }
    uint64_t t0 = bench_now_ns();
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        bench_sum_sqlite_row(sum, st);
    *query_s = (double)(bench_now_ns() - t0) / 1e9;
    rc = s == SQLITE_DONE ? 0 : 1;
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    free_rows(&data);
    return rc;
}
