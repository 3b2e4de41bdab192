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
