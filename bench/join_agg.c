/*
 * join_agg.c: the join-aggregate workload (join_agg_work.h), ivm against
 * SQLite.  ivm maintains the view while R and S load (load_s), then runs
 * 10-row transactions (p50, p99); SQLite, linked and in memory, loads the
 * same rows and computes the query once (peer_query_s, timed without its
 * loading).  load_ratio = load_s / peer_query_s: the stated goal is at most
 * 3.  "match" says whether the view equals SQLite's result (row count and
 * checksum).
 *
 * Prints {"bench":"join_agg",...}.
 * Usage: join_agg [r_rows [s_rows [txns [workers]]]].
 */
#include <stdio.h>
#include <stdlib.h>

#include "join_agg_work.h"

int main(int argc, char **argv)
{
    ja_params p = {
        .r_rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000,
        .s_rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000,
        .txns = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000,
        .workers = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 1,
    };
    ja_result r;
    if (ja_run_ivm(&p, &r) != 0)
        return 1;
    double lite_s = 0;
    bench_sum lite;
    if (ja_run_sqlite(&p, &lite_s, &lite) != 0)
        return 1;
    bool match = lite.rows == r.view.rows && lite.hash == r.view.hash;
    printf("{\"bench\":\"join_agg\",\"workers\":%u,\"rows\":%zu,\"s_rows\":%zu,\"groups\":%llu,"
           "\"load_s\":%.3f,\"per_s\":%.0f,\"txns\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,"
           "\"max_rss_mb\":%.0f,\"peer\":\"sqlite\",\"peer_query_s\":%.3f,"
           "\"peer_groups\":%llu,\"load_ratio\":%.2f,\"match\":%s}\n",
           p.workers, p.r_rows, p.s_rows, (unsigned long long)r.view.rows, r.load_s,
           (double)(p.r_rows + p.s_rows) / r.load_s, p.txns, r.p50_us, r.p99_us, r.max_rss_mb,
           lite_s, (unsigned long long)lite.rows, r.load_s / lite_s, match ? "true" : "false");
    return 0;
}
