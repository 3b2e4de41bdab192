/*
 * pools.h: the schedulers the dbsp tests run circuits on, one per worker
 * count in worker_counts (1, 2, 4 and 7: one worker, an even split, the
 * common case, and a count that does not divide the keys evenly), started
 * and stopped by cmocka group setup and teardown.  Included by one test
 * file per binary (its definitions are static).
 */
#ifndef TESTS_DBSP_POOLS_H
#define TESTS_DBSP_POOLS_H

#include "zset_ref.h"

static const uint32_t worker_counts[] = {1, 2, 4, 7};
#define NCOUNTS (sizeof worker_counts / sizeof worker_counts[0])
static rt_sched *pools[NCOUNTS];

/* The ways a step can use the workers' threads (dbsp/README.md, D5): every
 * share but worker 0's on its own thread; every share on the calling
 * thread; and a solo start handed over to the threads after one round. */
static const dbsp_step_opts step_modes[] = {
    {.solo_max = 0, .solo_budget_ns = 0},
    {.solo_max = SIZE_MAX, .solo_budget_ns = UINT64_MAX},
    {.solo_max = SIZE_MAX, .solo_budget_ns = 0},
};
#define NMODES (sizeof step_modes / sizeof step_modes[0])

/* Runs: one worker (one way only), then every other count in every mode. */
#define NRUNS (1 + (NCOUNTS - 1) * NMODES)
static size_t run_count(size_t run)
{
    return run == 0 ? 0 : 1 + (run - 1) / NMODES;
}
static const dbsp_step_opts *run_mode(size_t run)
{
    return &step_modes[run == 0 ? 0 : (run - 1) % NMODES];
}

static int setup_pools(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCOUNTS; i++)
        if (rt_sched_start(worker_counts[i], "test", &pools[i]) != IVM_OK)
            return -1;
    return 0;
}

static int teardown_pools(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCOUNTS; i++)
        rt_sched_stop(pools[i]);
    return 0;
}

#endif /* TESTS_DBSP_POOLS_H */
