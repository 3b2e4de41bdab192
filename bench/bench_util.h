/*
 * bench_util.h: small helpers the benchmark programs share: wall clock,
 * memory (peak and current resident set), JSON string output, and an
 * order-independent checksum of result rows that reads ivm's and SQLite's
 * rows alike, so that a benchmark can check it computed the right thing.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "ivm.h"

/* Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);

/* Peak resident set of this process (getrusage), in MiB. */
double bench_max_rss_mb(void);
/* Current resident set, in MiB (0 if it cannot be read). */
double bench_rss_mb(void);

/* Writes s as a JSON string literal (quotes included) to f. */
void bench_json_str(FILE *f, const char *s);

/* A multiset of rows: count and the sum of row hashes.  Numbers hash by
 * value (an integral REAL like an INT; other REALs rounded to 12
 * significant digits, so that summation order does not matter), text by
 * bytes, NULL as itself. */
typedef struct bench_sum {
    uint64_t rows;
    uint64_t hash;
} bench_sum;

void bench_sum_row(bench_sum *s, const ivm_value *vals, uint32_t ncols);
/* Adds the current row of a stepped SQLite statement. */
void bench_sum_sqlite_row(bench_sum *s, sqlite3_stmt *st);
/* Adds columns idx[0..n) (n <= 64) of the current row of a stepped SQLite
 * statement, as bench_sum_row of those values. */
void bench_sum_sqlite_cols(bench_sum *s, sqlite3_stmt *st, const uint32_t *idx, uint32_t n);

/* Sorts n durations (ns) in place and returns the q-quantile (0..1) in
 * microseconds; 0 when n == 0. */
double bench_quantile_us(uint64_t *ns, size_t n, double q);

#endif /* BENCH_UTIL_H */
