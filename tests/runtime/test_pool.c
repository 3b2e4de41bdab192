/*
 * test_pool.c: unit tests of rt_pool (runtime/worker.c): a round runs fn on
 * every worker at the same time (R8; the barrier test would deadlock if the
 * workers ran one after another), always on pool threads and never on the
 * caller's, returns the first failure by worker index after all finished,
 * serves rounds from several threads, refuses a round from its own workers
 * (R9), and survives many start/stop cycles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>

#include "runtime.h"

enum { MAXW = 8 };

/* ---- Concurrency -------------------------------------------------------- */

typedef struct meet {
    pthread_barrier_t barrier;
    pthread_t self[MAXW];
    int passed[MAXW];
} meet;

/* Every worker waits at a barrier sized to the pool: only a round that runs
 * all of them at once gets past it. */
static ivm_rc meet_at_barrier(void *arg, uint32_t worker)
{
    meet *m = arg;
    m->self[worker] = pthread_self();
    int r = pthread_barrier_wait(&m->barrier);
    if (r != 0 && r != PTHREAD_BARRIER_SERIAL_THREAD)
        return IVM_INTERNAL;
    m->passed[worker]++;
    return IVM_OK;
}

static void run_barrier_rounds(uint32_t n)
{
    rt_pool *p = NULL;
    assert_int_equal(rt_pool_start(n, &p), IVM_OK);
    assert_non_null(p);
    assert_int_equal(rt_pool_size(p), n);
    meet m = {0};
    assert_int_equal(pthread_barrier_init(&m.barrier, NULL, n), 0);
    for (int round = 0; round < 20; round++)
        assert_int_equal(rt_pool_run(p, meet_at_barrier, &m), IVM_OK);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(m.passed[i], 20);
        /* On a pool thread, never the caller's, and one thread per index. */
        assert_false(pthread_equal(m.self[i], pthread_self()));
        for (uint32_t j = 0; j < i; j++)
            assert_false(pthread_equal(m.self[i], m.self[j]));
    }
    pthread_barrier_destroy(&m.barrier);
    rt_pool_stop(p);
}

static void test_pool_runs_workers_concurrently(void **state)
{
    run_barrier_rounds(2);
    run_barrier_rounds(4);
    run_barrier_rounds(MAXW); /* more workers than cores is fine */
}

static void test_pool_single_worker_not_on_caller(void **state)
{
    run_barrier_rounds(1);
}

/* ---- Results ------------------------------------------------------------ */

typedef struct fails {
    ivm_rc want[MAXW];
    int ran[MAXW];
} fails;

static ivm_rc fail_as_told(void *arg, uint32_t worker)
{
    fails *f = arg;
    f->ran[worker]++;
    return f->want[worker];
}

static void test_pool_returns_first_error_by_index(void **state)
{
    rt_pool *p;
    assert_int_equal(rt_pool_start(5, &p), IVM_OK);
    fails f = {{IVM_OK, IVM_OK, IVM_IO, IVM_CORRUPT, IVM_NOMEM}, {0}};
    assert_int_equal(rt_pool_run(p, fail_as_told, &f), IVM_IO);
    f.want[2] = IVM_OK;
    assert_int_equal(rt_pool_run(p, fail_as_told, &f), IVM_CORRUPT);
    f.want[0] = IVM_SCHEMA;
    assert_int_equal(rt_pool_run(p, fail_as_told, &f), IVM_SCHEMA);
    for (int i = 0; i < 5; i++) {
        f.want[i] = IVM_OK;
        /* Every worker ran every round, failing or not. */
        assert_int_equal(f.ran[i], 3);
    }
    assert_int_equal(rt_pool_run(p, fail_as_told, &f), IVM_OK);
    rt_pool_stop(p);
}

static void test_pool_start_rejects_zero_workers(void **state)
{
    rt_pool *p = NULL;
    assert_int_equal(rt_pool_start(0, &p), IVM_INVALID);
    assert_null(p);
    rt_pool_stop(NULL);
}

/* ---- Several callers ---------------------------------------------------- */

enum { ROUND_CALLERS = 3, ROUNDS_EACH = 200, SHARED_WORKERS = 3 };

typedef struct tally {
    rt_pool *p;
    long per_worker[SHARED_WORKERS]; /* each touched by its own worker only */
} tally;

static ivm_rc count_round(void *arg, uint32_t worker)
{
    tally *t = arg;
    t->per_worker[worker]++;
    return IVM_OK;
}

static void *round_caller(void *arg)
{
    tally *t = arg;
    for (int i = 0; i < ROUNDS_EACH; i++)
        if (rt_pool_run(t->p, count_round, t) != IVM_OK)
            return (void *)1;
    return NULL;
}

static void test_pool_serves_rounds_from_many_threads(void **state)
{
    tally t = {0};
    assert_int_equal(rt_pool_start(SHARED_WORKERS, &t.p), IVM_OK);
    pthread_t th[ROUND_CALLERS];
    for (int i = 0; i < ROUND_CALLERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, round_caller, &t), 0);
    for (int i = 0; i < ROUND_CALLERS; i++) {
        void *ret;
        assert_int_equal(pthread_join(th[i], &ret), 0);
        assert_null(ret);
    }
    rt_pool_stop(t.p);
    for (int i = 0; i < SHARED_WORKERS; i++)
        assert_int_equal(t.per_worker[i], ROUND_CALLERS * ROUNDS_EACH);
}

/* ---- Misuse and lifecycle ----------------------------------------------- */

typedef struct nested {
    rt_pool *p;
    ivm_rc inner[MAXW];
} nested;

static ivm_rc noop(void *arg, uint32_t worker)
{
    return IVM_OK;
}

static ivm_rc run_nested(void *arg, uint32_t worker)
{
    nested *n = arg;
    n->inner[worker] = rt_pool_run(n->p, noop, NULL);
    return IVM_OK;
}

static void test_pool_refuses_round_from_its_workers(void **state)
{
    nested n = {0};
    assert_int_equal(rt_pool_start(2, &n.p), IVM_OK);
    assert_int_equal(rt_pool_run(n.p, run_nested, &n), IVM_OK);
    assert_int_equal(n.inner[0], IVM_INTERNAL);
    assert_int_equal(n.inner[1], IVM_INTERNAL);
    rt_pool_stop(n.p);
}

static void test_pool_start_stop_cycles(void **state)
{
    fails f = {{IVM_OK}, {0}};
    for (int i = 0; i < 100; i++) {
        rt_pool *p;
        uint32_t n = 1 + (uint32_t)i % 4;
        assert_int_equal(rt_pool_start(n, &p), IVM_OK);
        if (i % 3 != 0)
            assert_int_equal(rt_pool_run(p, fail_as_told, &f), IVM_OK);
        rt_pool_stop(p);
    }
    /* Worker 0 is in every pool and ran in two rounds out of three. */
    assert_int_equal(f.ran[0], 66);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_runs_workers_concurrently),
        cmocka_unit_test(test_pool_single_worker_not_on_caller),
        cmocka_unit_test(test_pool_returns_first_error_by_index),
        cmocka_unit_test(test_pool_start_rejects_zero_workers),
        cmocka_unit_test(test_pool_serves_rounds_from_many_threads),
        cmocka_unit_test(test_pool_refuses_round_from_its_workers),
        cmocka_unit_test(test_pool_start_stop_cycles),
    };
    return cmocka_run_group_tests_name("runtime/pool", tests, NULL, NULL);
}
