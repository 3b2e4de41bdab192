/*
 * commit_latency.c: what a small commit costs on a large view.  The
 * join-aggregate workload (join_agg_work.h): a view over R (1,000,000 rows)
 * JOIN S (100,000 rows) GROUP BY k is loaded, then 10-row transactions into
 * R are timed one by one, from the first push to the end of ivm_commit.
 * Their cost should follow the 10 rows, not the million: p50_vs_load is
 * p50 / load_s.
 *
 * Prints {"bench":"commit_latency",...} per worker count.
 * Usage: commit_latency [r_rows [s_rows [txns [workers,...]]]];
 * defaults 1000000 100000 1000 1,2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "join_agg_work.h"
#include "spine.h"

int main(int argc, char **argv)
{
    ja_params p = {
        .r_rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000,
        .s_rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000,
        .txns = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000,
    };
    char ws[256];
    snprintf(ws, sizeof ws, "%s", argc > 4 ? argv[4] : "1,2");
    for (char *save = NULL, *t = strtok_r(ws, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        p.workers = (uint32_t)strtoul(t, NULL, 10);
        ja_result r;
        spine_merger_stats m0, m1;
        spine_merger_stats_get(spine_merger_global(), &m0);
        if (ja_run_ivm(&p, &r) != 0)
            return 1;
        spine_merger_stats_get(spine_merger_global(), &m1);
        /* The merger's work and wake-ups over the whole run (load and
         * transactions), per transaction. */
        printf("{\"bench\":\"commit_latency\",\"workers\":%u,\"rows\":%zu,\"s_rows\":%zu,"
               "\"txn_rows\":10,\"txns\":%zu,\"load_s\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
               "\"p50_quarters_us\":[%.1f,%.1f,%.1f,%.1f],"
               "\"p50_vs_load\":%.6f,\"merger_notifies_per_txn\":%.3f,"
               "\"merger_wakes_per_txn\":%.3f,\"merger_naps_per_txn\":%.3f}\n",
               p.workers, p.r_rows, p.s_rows, p.txns, r.load_s, r.p50_us, r.p99_us,
               r.p50_quarter_us[0], r.p50_quarter_us[1], r.p50_quarter_us[2], r.p50_quarter_us[3],
               r.p50_us / 1e6 / r.load_s,
               (double)(m1.notifies - m0.notifies) / (double)p.txns,
               (double)(m1.wakes - m0.wakes) / (double)p.txns,
               (double)(m1.naps - m0.naps) / (double)p.txns);
        fflush(stdout);
    }
    return 0;
}
