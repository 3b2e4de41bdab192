/*
 * test_worker.c: unit tests of rt_worker and rt_now_ns (runtime/worker.c):
 * jobs run on the worker thread, one at a time and in order (R4), results
 * come back, callers from several threads are served, stop drains what was
 * handed over and waits for its callers (R7), a job may not wait for its own
 * worker (R9), start/stop survives many cycles, and a thread that cannot
 * be created fails the start cleanly.  Run them under
 * ThreadSanitizer too: the job bodies share plain variables on purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- Order and results -------------------------------------------------- */

typedef struct log_job {
    int log[64];
    int n;
    int value;
} log_job;

static ivm_rc append_value(void *arg)
{
    log_job *l = arg;
    l->log[l->n++] = l->value;
    return l->value % 3 == 0 ? IVM_OK : (ivm_rc)(l->value % 3);
}

static void test_worker_runs_jobs_in_order(void **state)
{
    rt_worker *w = NULL;
    assert_int_equal(rt_worker_start("ivm-test", &w), IVM_OK);
    assert_non_null(w);
    log_job l = {.n = 0};
    for (int i = 0; i < 64; i++) {
        l.value = i;
        ivm_rc rc = rt_worker_run(w, append_value, &l);
        assert_int_equal(rc, i % 3 == 0 ? IVM_OK : (ivm_rc)(i % 3));
    }
    assert_int_equal(l.n, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(l.log[i], i);
    rt_worker_stop(w);
}

typedef struct where {
    pthread_t self;
    char name[32];
} where;

static ivm_rc record_thread(void *arg)
{
    where *wh = arg;
    wh->self = pthread_self();
    if (pthread_getname_np(pthread_self(), wh->name, sizeof wh->name) != 0)
        return IVM_INTERNAL;
    return IVM_OK;
}

static void test_worker_runs_on_named_thread(void **state)
{
    rt_worker *w;
    assert_int_equal(rt_worker_start("ivm-circuit", &w), IVM_OK);
    where a, b;
    assert_int_equal(rt_worker_run(w, record_thread, &a), IVM_OK);
    assert_int_equal(rt_worker_run(w, record_thread, &b), IVM_OK);
    assert_false(pthread_equal(a.self, pthread_self()));
    assert_true(pthread_equal(a.self, b.self));
    assert_string_equal(a.name, "ivm-circuit");
    rt_worker_stop(w);

    /* A long name is cut to the 15 bytes the OS shows, not refused. */
    assert_int_equal(rt_worker_start("ivm-a-very-long-worker-name", &w), IVM_OK);
    assert_int_equal(rt_worker_run(w, record_thread, &a), IVM_OK);
    assert_string_equal(a.name, "ivm-a-very-long");
    rt_worker_stop(w);
}

/* ---- Several callers ---------------------------------------------------- */

enum { CALLERS = 4, JOBS_EACH = 500 };

typedef struct shared_count {
    rt_worker *w;
    long count;   /* touched only by jobs: plain on purpose (R4, TSan) */
    int running;  /* jobs inside their body right now */
    int overlaps; /* times a job saw another one running */
} shared_count;

static ivm_rc bump(void *arg)
{
    shared_count *s = arg;
    if (s->running++ != 0)
        s->overlaps++;
    s->count++;
    s->running--;
    return IVM_OK;
}

static void *caller_main(void *arg)
{
    shared_count *s = arg;
    for (int i = 0; i < JOBS_EACH; i++)
        if (rt_worker_run(s->w, bump, s) != IVM_OK)
            return (void *)1;
    return NULL;
}

static void test_worker_serves_many_callers(void **state)
{
    shared_count s = {0};
    assert_int_equal(rt_worker_start("ivm-shared", &s.w), IVM_OK);
    pthread_t t[CALLERS];
    for (int i = 0; i < CALLERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, caller_main, &s), 0);
    for (int i = 0; i < CALLERS; i++) {
        void *ret;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    rt_worker_stop(s.w);
    assert_int_equal(s.count, CALLERS * JOBS_EACH);
    assert_int_equal(s.overlaps, 0);
}

/* ---- Stop --------------------------------------------------------------- */

typedef struct slow {
    rt_worker *w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started;
    bool finished; /* written by the job, read after stop */
    ivm_rc rc;     /* what the caller thread got */
} slow;

static ivm_rc slow_job(void *arg)
{
    slow *s = arg;
    pthread_mutex_lock(&s->mu);
    s->started = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    sleep_ms(30); /* long enough for rt_worker_stop to be waiting */
    s->finished = true;
    return IVM_CONSTRAINT;
}

static void *slow_caller(void *arg)
{
    slow *s = arg;
    s->rc = rt_worker_run(s->w, slow_job, s);
    return NULL;
}

static void test_worker_stop_waits_for_handed_over_job(void **state)
{
    slow s = {.rc = IVM_OK};
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    assert_int_equal(rt_worker_start("ivm-slow", &s.w), IVM_OK);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_caller, &s), 0);
    pthread_mutex_lock(&s.mu);
    while (!s.started)
        pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);

    /* The caller is still inside rt_worker_run; stop must let it out before
     * freeing the worker (ASan and TSan check the rest). */
    rt_worker_stop(s.w);
    assert_true(s.finished);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(s.rc, IVM_CONSTRAINT);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
}

static ivm_rc nothing(void *arg)
{
    int *n = arg;
    ++*n;
    return IVM_OK;
}

static void test_worker_start_stop_cycles(void **state)
{
    int n = 0;
    for (int i = 0; i < 300; i++) {
        rt_worker *w;
        assert_int_equal(rt_worker_start("ivm-cycle", &w), IVM_OK);
        if (i % 2 == 0)
            assert_int_equal(rt_worker_run(w, nothing, &n), IVM_OK);
        rt_worker_stop(w); /* odd rounds: stop an idle, never used worker */
    }
    assert_int_equal(n, 150);
    rt_worker_stop(NULL);
}

/* ---- Misuse ------------------------------------------------------------- */

typedef struct self_call {
    rt_worker *w;
    ivm_rc inner;
} self_call;

static ivm_rc call_own_worker(void *arg)
{
    self_call *s = arg;
    int n = 0;
    s->inner = rt_worker_run(s->w, nothing, &n);
    return IVM_OK;
}

static void test_worker_refuses_job_from_itself(void **state)
{
    self_call s = {.inner = IVM_OK};
    assert_int_equal(rt_worker_start("ivm-self", &s.w), IVM_OK);
    assert_int_equal(rt_worker_run(s.w, call_own_worker, &s), IVM_OK);
    assert_int_equal(s.inner, IVM_INTERNAL);
    rt_worker_stop(s.w);
}

/* ---- Thread creation failing ------------------------------------------- */

/* Sanitizers reserve huge shadow mappings: no address-space cap fits them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CAP_WORKS 0
#else
#define CAP_WORKS 1
#endif

#if CAP_WORKS

/* Address space the process maps now, in bytes; 0 if unknown. */
static size_t mapped_bytes(void)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu", &pages) != 1)
        pages = 0;
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* In a child whose address space is capped a little above what it maps,
 * thread stacks (8 MiB each by default) cannot be mapped: rt_worker_start
 * must fail with IVM_NOMEM, and rt_pool_start must stop the workers it
 * did start and fail the same way.  Exit status 0 means both did. */
static int start_under_cap(void)
{
    size_t now = mapped_bytes();
    if (now == 0)
        return 10;
    struct rlimit lim = {now + (size_t)20 * 1024 * 1024,
                         now + (size_t)20 * 1024 * 1024};
    if (setrlimit(RLIMIT_AS, &lim) != 0)
        return 11;
    rt_worker *w = NULL;
    ivm_rc rc = rt_worker_start("ivm-capped", &w);
    if (rc == IVM_OK) { /* the cap was roomy enough for one: use it up */
        rt_worker *more[8] = {NULL};
        int i = 0;
        while (i < 8 && (rc = rt_worker_start("ivm-capped", &more[i])) == IVM_OK)
            i++;
        while (i > 0)
            rt_worker_stop(more[--i]);
        rt_worker_stop(w);
    }
    if (rc != IVM_NOMEM)
        return 12;
    rt_pool *p = NULL;
    rc = rt_pool_start(16, &p);
    if (rc != IVM_NOMEM || p != NULL)
        return 13;
    return 0;
}
#endif

static void test_worker_start_fails_cleanly_without_memory(void **state)
{
#if !CAP_WORKS
    skip();
#else
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(start_under_cap());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

/* ---- Clock -------------------------------------------------------------- */

static void test_now_ns_monotonic(void **state)
{
    uint64_t a = rt_now_ns();
    sleep_ms(5);
    uint64_t b = rt_now_ns();
    assert_true(b >= a + 4000000u);
    assert_true(b - a < 5000000000ull); /* and not absurdly far */
    uint64_t prev = rt_now_ns();
    for (int i = 0; i < 1000; i++) {
        uint64_t now = rt_now_ns();
        assert_true(now >= prev);
        prev = now;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_runs_jobs_in_order),
        cmocka_unit_test(test_worker_runs_on_named_thread),
        cmocka_unit_test(test_worker_serves_many_callers),
        cmocka_unit_test(test_worker_stop_waits_for_handed_over_job),
        cmocka_unit_test(test_worker_start_stop_cycles),
        cmocka_unit_test(test_worker_refuses_job_from_itself),
        cmocka_unit_test(test_worker_start_fails_cleanly_without_memory),
        cmocka_unit_test(test_now_ns_monotonic),
    };
    return cmocka_run_group_tests_name("runtime/worker", tests, NULL, NULL);
}
