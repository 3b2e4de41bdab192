/*
 * join_agg_work.h: the join-aggregate workload shared by join_agg.c (ivm
 * against SQLite) and commit_latency.c (the cost of small commits on a
 * large view):
 *
 *   R(k, v) with r_rows rows, S(k, w) with s_rows rows (k = 0 .. s_rows-1),
 *   VIEW v AS SELECT r.k, COUNT(*), SUM(v + w) FROM r JOIN s ON r.k = s.k
 *   GROUP BY r.k, then `txns` transactions of 10 rows inserted into R.
 *
 * Rows are generated before any clock starts (keys of R uniform below
 * s_rows, values below 1,000, from a fixed seed) and reach ivm through
 * input handles (ivm_input_insert, commits of 10,000 rows while loading)
 * and SQLite through one prepared INSERT.
 */
#ifndef JOIN_AGG_WORK_H
#define JOIN_AGG_WORK_H

#include <stddef.h>
#include <stdint.h>

#include "bench_util.h"

typedef struct ja_params {
    size_t r_rows, s_rows, txns;
    uint32_t workers;
} ja_params;

/* The query, as SQL for both engines. */
extern const char ja_query[];

typedef struct ja_result {
    double load_s;          /* loading R and S, the view maintained meanwhile */
    double p50_us, p99_us;  /* one 10-row transaction after the load */
    double p50_quarter_us[4]; /* p50 of each quarter of the transactions, in
                                 order: merges reshape the state meanwhile */
    double max_rss_mb;
    bench_sum view;         /* the view's rows at the end */
} ja_result;

/* Runs the workload on ivm.  Returns 0, or prints why to stderr and returns
 * 1. */
int ja_run_ivm(const ja_params *p, ja_result *out);

/* Loads every row (the 10-row transactions' too) into an in-memory SQLite
 * and computes the query once: *query_s is its time, *sum its rows. */
int ja_run_sqlite(const ja_params *p, double *query_s, bench_sum *sum);

#endif /* JOIN_AGG_WORK_H */
