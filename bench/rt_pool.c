/*
 * rt_pool.c: the round-trip cost of rt_pool_run with two workers and a job
 * that does nothing: hand-over, wake-up and the wait for both, which is the
 * floor under every circuit step.  Prints one JSON line; decides nothing.
 */
#include <stdio.h>

#include "runtime.h"

enum { WORKERS = 2, WARMUP = 1000, RUNS = 20000 };

static ivm_rc noop(void *arg, uint32_t worker)
{
    return IVM_OK;
}

int main(void)
{
    rt_pool *p;
    ivm_rc rc = rt_pool_start(WORKERS, &p);
    if (rc != IVM_OK) {
        fprintf(stderr, "rt_pool: start: %s\n", ivm_rc_str(rc));
        return 1;
    }
    for (int i = 0; i < WARMUP; i++)
        rt_pool_run(p, noop, NULL);
    uint64_t t0 = rt_now_ns();
    for (int i = 0; i < RUNS; i++)
        rt_pool_run(p, noop, NULL);
    uint64_t t1 = rt_now_ns();
    rt_pool_stop(p);
    printf("{\"bench\":\"rt_pool_roundtrip\",\"workers\":%d,\"ns_per_run\":%.0f}\n",
           WORKERS, (double)(t1 - t0) / RUNS);
    return 0;
}
