/*
 * test_sup.c: unit tests of processes and supervisors (runtime/sup.c): the
 * three strategies stop and restart exactly the right children in the right
 * order; the restart policies; the restart-intensity limit gives up and
 * escalates to the parent supervisor, twice up the tree; a start that fails
 * counts as a failure; rt_sup_add with a failing start keeps nothing;
 * rt_sup_remove and rt_sup_free wait for exits; a second exit report is
 * ignored; faults injected with rt_fault_set make a threaded process fail
 * and restart, counting across restarts; start functions may add children;
 * rt_proc_list and the log; concurrent adds and removes.  The root giving up
 * is tested in test_sup_root.c, since it stays failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

enum { WAIT_MS = 20000 };

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- An event trace: "Sa" a started, "Ta" a asked to stop ------------------- */

static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;
static char trace[4096];

static void trace_reset(void)
{
    pthread_mutex_lock(&trace_mu);
    trace[0] = '\0';
    pthread_mutex_unlock(&trace_mu);
}

static void trace_add(char what, const char *name)
{
    pthread_mutex_lock(&trace_mu);
    size_t n = strlen(trace);
    snprintf(trace + n, sizeof trace - n, "%s%c%s", n ? " " : "", what, name);
    pthread_mutex_unlock(&trace_mu);
}

static void assert_trace(const char *want)
{
    pthread_mutex_lock(&trace_mu);
    char got[sizeof trace];
    memcpy(got, trace, sizeof got);
    pthread_mutex_unlock(&trace_mu);
    assert_string_equal(got, want);
}

/* ---- A passive process: driven by the test, stops at once -------------------- */

typedef struct passive {
    const char *name;
    rt_proc *p;
    atomic_int starts;
    int fail_from, fail_to; /* starts numbered in [from, to] fail with IVM_NOMEM */
} passive;

static ivm_rc passive_start(rt_proc *p, void *arg)
{
    passive *c = arg;
    int n = atomic_fetch_add(&c->starts, 1) + 1;
    c->p = p;
    trace_add('S', c->name);
    if (n >= c->fail_from && n <= c->fail_to)
        return IVM_NOMEM;
    return IVM_OK;
}

static void passive_stop(rt_proc *p, void *arg)
{
    passive *c = arg;
    trace_add('T', c->name);
    rt_proc_exit(p, RT_EXIT_SHUTDOWN, "asked to stop");
}

static rt_proc *add_passive(rt_sup *s, passive *c, rt_restart restart)
{
    rt_child_spec spec = {c->name, passive_start, passive_stop, c, restart};
    rt_proc *p = NULL;
    assert_int_equal(rt_sup_add(s, &spec, &p), IVM_OK);
    assert_non_null(p);
    assert_ptr_equal(p, c->p);
    assert_string_equal(rt_proc_name(p), c->name);
    return p;
}

/* ---- Process information --------------------------------------------------------- */

typedef struct lookup {
    const char *name;
    rt_proc_info info;
    int found;
    char order[1024];
} lookup;

static void lookup_fn(void *arg, const rt_proc_info *info)
{
    lookup *l = arg;
    size_t n = strlen(l->order);
    snprintf(l->order + n, sizeof l->order - n, "%s%s", n ? " " : "", info->name);
    if (l->name != NULL && strcmp(info->name, l->name) == 0) {
        l->info = *info;
        l->found++;
    }
}

static rt_proc_info info_of(rt_sup *s, const char *path)
{
    lookup l = {.name = path};
    rt_proc_list(s, lookup_fn, &l);
    assert_int_equal(l.found, 1);
    return l.info;
}

typedef struct probe {
    const char *want;
    bool seen;
} probe;

static void probe_fn(void *arg, const char *line)
{
    probe *pr = arg;
    if (strstr(line, pr->want) != NULL)
        pr->seen = true;
}

/* Whether a line of the supervision log contains want. */
static bool in_log(const char *want)
{
    probe pr = {want, false};
    rt_log_dump(probe_fn, &pr);
    return pr.seen;
}

/* ---- Strategies -------------------------------------------------------------------- */

static void test_sup_one_for_one_restarts_only_the_failed(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "o41", RT_ONE_FOR_ONE, 10, 60000, &s), IVM_OK);
    assert_true(rt_sup_alive(s));
    passive a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"};
    trace_reset();
    rt_proc *pa = add_passive(s, &a, RT_PERMANENT);
    rt_proc *pb = add_passive(s, &b, RT_PERMANENT);
    rt_proc *pc = add_passive(s, &c, RT_PERMANENT);
    assert_trace("Sa Sb Sc");
    uint64_t ida = rt_proc_id(pa), idb = rt_proc_id(pb), idc = rt_proc_id(pc);
    assert_true(ida != 0 && idb != 0 && idc != 0);
    assert_true(ida != idb && idb != idc);

    trace_reset();
    rt_proc_exit(pb, RT_EXIT_FAILED, "boom");
    assert_true(rt_proc_wait_restarts(pb, 1, WAIT_MS));
    assert_trace("Sb");
    /* A new run gets a new id; the others keep theirs. */
    assert_true(rt_proc_id(pb) > idb);
    assert_int_equal(rt_proc_id(pa), ida);
    assert_int_equal(rt_proc_id(pc), idc);

    rt_proc_info ib = info_of(s, "root/o41/b");
    assert_int_equal(ib.state, RT_PROC_RUNNING);
    assert_int_equal(ib.starts, 2);
    assert_int_equal(ib.restarts, 1);
    assert_int_equal(ib.failures, 1);
    assert_string_equal(ib.last_exit, "failed: boom");
    rt_proc_info ia = info_of(s, "root/o41/a");
    assert_int_equal(ia.restarts, 0);
    assert_int_equal(ia.failures, 0);
    assert_string_equal(ia.last_exit, "");
    assert_true(in_log("restart root/o41/b"));
    assert_true(in_log("exit root/o41/b failed: boom"));

    /* Freeing stops the children last first. */
    trace_reset();
    rt_sup_free(s);
    assert_trace("Tc Tb Ta");
}

static void test_sup_one_for_all_restarts_everyone(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "o4a", RT_ONE_FOR_ALL, 10, 60000, &s), IVM_OK);
    passive a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"}, d = {.name = "d"};
    add_passive(s, &a, RT_PERMANENT);
    rt_proc *pb = add_passive(s, &b, RT_PERMANENT);
    rt_proc *pc = add_passive(s, &c, RT_TRANSIENT);
    rt_proc *pd = add_passive(s, &d, RT_TEMPORARY);

    trace_reset();
    rt_proc_exit(pb, RT_EXIT_FAILED, "boom");
    assert_true(rt_proc_wait_restarts(pb, 1, WAIT_MS));
    /* The others stop last first, then all but the temporary one start in
     * order; a transient one stopped by its supervisor is restarted. */
    assert_trace("Td Tc Ta Sa Sb Sc");
    assert_int_equal(info_of(s, "root/o4a/a").restarts, 1);
    assert_int_equal(info_of(s, "root/o4a/c").restarts, 1);
    assert_int_equal(info_of(s, "root/o4a/b").failures, 1);
    assert_int_equal(info_of(s, "root/o4a/a").failures, 0);
    rt_proc_info id = info_of(s, "root/o4a/d");
    assert_int_equal(id.state, RT_PROC_EXITED);
    assert_int_equal(id.restarts, 0);
    assert_string_equal(id.last_exit, "shutdown: asked to stop");
    assert_true(rt_proc_wait_restarts(pd, 1, WAIT_MS)); /* down for good */

    /* A transient child that ends normally is not restarted and does not
     * take the others down. */
    trace_reset();
    rt_proc_exit(pc, RT_EXIT_NORMAL, NULL);
    assert_true(rt_proc_wait_restarts(pc, 2, WAIT_MS));
    assert_trace("");
    assert_int_equal(info_of(s, "root/o4a/c").state, RT_PROC_EXITED);

    trace_reset();
    rt_sup_free(s);
    assert_trace("Tb Ta");
}

static void test_sup_rest_for_one_restarts_the_later_ones(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "r41", RT_REST_FOR_ONE, 10, 60000, &s), IVM_OK);
    passive a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"}, d = {.name = "d"};
    rt_proc *pa = add_passive(s, &a, RT_PERMANENT);
    rt_proc *pb = add_passive(s, &b, RT_PERMANENT);
    add_passive(s, &c, RT_PERMANENT);
    rt_proc *pd = add_passive(s, &d, RT_PERMANENT);
    uint64_t ida = rt_proc_id(pa);

    trace_reset();
    rt_proc_exit(pb, RT_EXIT_FAILED, "boom");
    assert_true(rt_proc_wait_restarts(pb, 1, WAIT_MS));
    assert_trace("Td Tc Sb Sc Sd");
    assert_int_equal(rt_proc_id(pa), ida);
    assert_int_equal(info_of(s, "root/r41/a").restarts, 0);
    assert_int_equal(info_of(s, "root/r41/d").restarts, 1);

    /* The last child failing takes nobody with it. */
    trace_reset();
    rt_proc_exit(pd, RT_EXIT_FAILED, "boom");
    assert_true(rt_proc_wait_restarts(pd, 2, WAIT_MS));
    assert_trace("Sd");
    rt_sup_free(s);
}

/* ---- Restart policies -------------------------------------------------------------- */

static void check_policies(rt_exit_kind kind, bool transient_restarts)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "pol", RT_ONE_FOR_ONE, 10, 60000, &s), IVM_OK);
    passive perm = {.name = "perm"}, trans = {.name = "trans"}, temp = {.name = "temp"};
    rt_proc *pp = add_passive(s, &perm, RT_PERMANENT);
    rt_proc *pt = add_passive(s, &trans, RT_TRANSIENT);
    rt_proc *pm = add_passive(s, &temp, RT_TEMPORARY);
    rt_proc_exit(pp, kind, NULL);
    rt_proc_exit(pt, kind, NULL);
    rt_proc_exit(pm, kind, NULL);
    /* Each wait ends on the restart or once the child is down for good. */
    assert_true(rt_proc_wait_restarts(pp, 1, WAIT_MS));
    assert_true(rt_proc_wait_restarts(pt, 1, WAIT_MS));
    assert_true(rt_proc_wait_restarts(pm, 1, WAIT_MS));
    rt_proc_state down = kind == RT_EXIT_FAILED ? RT_PROC_FAILED : RT_PROC_EXITED;

    rt_proc_info i = info_of(s, "root/pol/perm");
    assert_int_equal(i.restarts, 1);
    assert_int_equal(i.state, RT_PROC_RUNNING);
    i = info_of(s, "root/pol/trans");
    assert_int_equal(i.restarts, transient_restarts ? 1 : 0);
    assert_int_equal(i.state, transient_restarts ? RT_PROC_RUNNING : down);
    i = info_of(s, "root/pol/temp");
    assert_int_equal(i.restarts, 0);
    assert_int_equal(i.state, down);
    assert_int_equal(i.failures, kind == RT_EXIT_FAILED ? 1 : 0);
    assert_int_equal(atomic_load(&temp.starts), 1);
    rt_sup_free(s);
}

static void test_sup_restart_policies(void **state)
{
    check_policies(RT_EXIT_NORMAL, false);
    check_policies(RT_EXIT_FAILED, true);
}

/* ---- Restart intensity ----------------------------------------------------------- */

static void test_sup_intensity_limit_escalates(void **state)
{
    rt_sup *p, *c;
    assert_int_equal(rt_sup_new(NULL, "p", RT_ONE_FOR_ONE, 1, 60000, &p), IVM_OK);
    assert_int_equal(rt_sup_new(p, "c", RT_ONE_FOR_ONE, 2, 60000, &c), IVM_OK);
    passive w = {.name = "w"}, other = {.name = "other"};
    rt_proc *pw = add_passive(c, &w, RT_PERMANENT);
    add_passive(c, &other, RT_PERMANENT);
    rt_proc *cp = rt_sup_proc(c), *pp = rt_sup_proc(p);

    /* Two restarts in the period are fine. */
    for (uint32_t i = 1; i <= 2; i++) {
        rt_proc_exit(pw, RT_EXIT_FAILED, "boom");
        assert_true(rt_proc_wait_restarts(pw, i, WAIT_MS));
    }
    assert_true(rt_sup_alive(c));
    /* The third is one too many: c stops its children and fails; p restarts
     * c, which starts its children again. */
    trace_reset();
    rt_proc_exit(pw, RT_EXIT_FAILED, "boom");
    assert_true(rt_proc_wait_restarts(cp, 1, WAIT_MS));
    assert_trace("Tother Sw Sother");
    assert_true(rt_sup_alive(c));
    assert_true(rt_sup_alive(p));
    assert_true(in_log("give-up root/p/c: more than 2 restarts in 60000 ms"));
    rt_proc_info ic = info_of(p, "root/p/c");
    assert_int_equal(ic.restarts, 1);
    assert_int_equal(ic.failures, 1);
    assert_string_equal(ic.last_exit, "failed: more than 2 restarts in 60000 ms");
    rt_proc_info iw = info_of(p, "root/p/c/w");
    assert_int_equal(iw.starts, 4);
    assert_int_equal(iw.failures, 3);
    assert_int_equal(iw.state, RT_PROC_RUNNING);

    /* Again: c gives up a second time, which is one restart too many for p
     * (1 in the period): p gives up and the root restarts it. */
    for (uint32_t i = 1; i <= 2; i++) {
        rt_proc_exit(pw, RT_EXIT_FAILED, "boom");
        assert_true(rt_proc_wait_restarts(pw, 3 + i, WAIT_MS));
    }
    rt_proc_exit(pw, RT_EXIT_FAILED, "boom");
    assert_true(rt_proc_wait_restarts(pp, 1, WAIT_MS));
    assert_true(in_log("give-up root/p: more than 1 restarts in 60000 ms"));
    rt_proc_info ip = info_of(NULL, "root/p");
    assert_int_equal(ip.restarts, 1);
    assert_int_equal(ip.failures, 1);
    assert_int_equal(ip.state, RT_PROC_RUNNING);
    ic = info_of(p, "root/p/c");
    assert_int_equal(ic.restarts, 2);
    assert_int_equal(ic.failures, 2);
    iw = info_of(p, "root/p/c/w");
    assert_int_equal(iw.starts, 7);
    assert_int_equal(iw.failures, 6);
    assert_true(rt_sup_alive(p) && rt_sup_alive(c) && rt_sup_alive(rt_root()));
    rt_sup_free(p);
}

static void test_sup_failed_start_counts_as_failure(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "fs", RT_ONE_FOR_ONE, 3, 60000, &s), IVM_OK);
    /* Starts 2 to 4 fail: one real failure and three failed starts are four
     * restarts, one more than allowed; the root restarts fs, whose start of
     * w (the fifth) works. */
    passive w = {.name = "w", .fail_from = 2, .fail_to = 4};
    rt_proc *pw = add_passive(s, &w, RT_PERMANENT);
    rt_proc_exit(pw, RT_EXIT_FAILED, "boom");
    assert_true(rt_proc_wait_restarts(rt_sup_proc(s), 1, WAIT_MS));
    rt_proc_info i = info_of(s, "root/fs/w");
    assert_int_equal(i.starts, 5);
    assert_int_equal(i.failures, 4);
    assert_int_equal(i.state, RT_PROC_RUNNING);
    assert_string_equal(i.last_exit, "failed: start failed: out of memory");
    assert_true(in_log("start-failed root/fs/w: out of memory"));
    rt_sup_free(s);
}

static void test_sup_add_with_failing_start_keeps_nothing(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "af", RT_ONE_FOR_ONE, 3, 60000, &s), IVM_OK);
    passive w = {.name = "w", .fail_from = 1, .fail_to = 1};
    rt_child_spec spec = {"w", passive_start, passive_stop, &w, RT_PERMANENT};
    rt_proc *p = (rt_proc *)&spec; /* must stay untouched */
    assert_int_equal(rt_sup_add(s, &spec, &p), IVM_NOMEM);
    assert_ptr_equal(p, (rt_proc *)&spec);
    lookup l = {0};
    rt_proc_list(s, lookup_fn, &l);
    assert_string_equal(l.order, "root/af");

    rt_child_spec nameless = {"", passive_start, NULL, &w, RT_PERMANENT};
    assert_int_equal(rt_sup_add(s, &nameless, NULL), IVM_INVALID);
    rt_child_spec nostart = {"x", NULL, NULL, &w, RT_PERMANENT};
    assert_int_equal(rt_sup_add(s, &nostart, NULL), IVM_INVALID);
    rt_sup *bad;
    assert_int_equal(rt_sup_new(s, "bad", RT_ONE_FOR_ONE, 1, 0, &bad), IVM_INVALID);
    assert_int_equal(rt_sup_new(s, "", RT_ONE_FOR_ONE, 1, 10, &bad), IVM_INVALID);
    rt_sup_free(s);
}

/* ---- A threaded process ---------------------------------------------------------- */

typedef struct worker {
    const char *name;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rt_proc *p;
    pthread_t th;
    bool has_thread;
    uint32_t sent, done; /* ticks */
    uint32_t faults;
    bool stop, exited;
    long stop_delay_ms;
} worker;

static void worker_init(worker *w, const char *name)
{
    memset(w, 0, sizeof *w);
    w->name = name;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

static void worker_fini(worker *w)
{
    if (w->has_thread)
        pthread_join(w->th, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

/* One tick: rt_fault(name, "tick"); a fault ends the run as failed. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    pthread_mutex_lock(&w->mu);
    rt_proc *p = w->p;
    for (;;) {
        while (!w->stop && w->done == w->sent)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        bool fault = rt_fault(w->name, "tick");
        w->done++;
        if (fault) {
            w->faults++;
            w->exited = true;
            pthread_cond_broadcast(&w->cv);
            pthread_mutex_unlock(&w->mu);
            rt_proc_exit(p, RT_EXIT_FAILED, "injected fault");
            return NULL;
        }
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    sleep_ms(w->stop_delay_ms);
    pthread_mutex_lock(&w->mu);
    w->exited = true;
    pthread_mutex_unlock(&w->mu);
    rt_proc_exit(p, RT_EXIT_SHUTDOWN, NULL);
    return NULL;
}

static ivm_rc worker_start(rt_proc *p, void *arg)
{
    worker *w = arg;
    /* The previous run's thread has reported its exit; let it finish. */
    if (w->has_thread)
        pthread_join(w->th, NULL);
    w->has_thread = false;
    pthread_mutex_lock(&w->mu);
    w->p = p;
    w->stop = false;
    w->exited = false;
    pthread_mutex_unlock(&w->mu);
    if (pthread_create(&w->th, NULL, worker_main, w) != 0)
        return IVM_NOMEM;
    w->has_thread = true;
    return IVM_OK;
}

/* Asks the thread to end; it reports its exit after stop_delay_ms. */
static void worker_stop(rt_proc *p, void *arg)
{
    worker *w = arg;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Sends one tick and waits until it has been handled; true if it faulted. */
static bool worker_tick(worker *w)
{
    pthread_mutex_lock(&w->mu);
    uint32_t faults = w->faults;
    uint32_t want = ++w->sent;
    pthread_cond_broadcast(&w->cv);
    while (w->done < want)
        pthread_cond_wait(&w->cv, &w->mu);
    bool faulted = w->faults != faults;
    pthread_mutex_unlock(&w->mu);
    return faulted;
}

static void test_sup_injected_faults_fail_and_restart(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "fi", RT_ONE_FOR_ONE, 10, 60000, &s), IVM_OK);
    worker w;
    worker_init(&w, "ticker");
    rt_child_spec spec = {"ticker", worker_start, worker_stop, &w, RT_PERMANENT};
    rt_proc *p;
    assert_int_equal(rt_sup_add(s, &spec, &p), IVM_OK);
    assert_int_equal(rt_fault_set("ticker:tick@3/2"), IVM_OK);
    uint32_t restarts = 0;
    for (int i = 1; i <= 8; i++) {
        bool faulted = worker_tick(&w);
        /* The count goes on across restarts: 3, 5, 7. */
        assert_int_equal(faulted, i == 3 || i == 5 || i == 7);
        if (faulted)
            assert_true(rt_proc_wait_restarts(p, ++restarts, WAIT_MS));
    }
    assert_int_equal(rt_fault_set(NULL), IVM_OK);
    rt_proc_info i = info_of(s, "root/fi/ticker");
    assert_int_equal(i.restarts, 3);
    assert_int_equal(i.failures, 3);
    assert_string_equal(i.last_exit, "failed: injected fault");
    assert_true(in_log("fault ticker:tick@7"));
    rt_sup_free(s);
    worker_fini(&w);
}

static void test_sup_remove_and_free_wait_for_exit(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "rm", RT_ONE_FOR_ALL, 10, 60000, &s), IVM_OK);
    worker w[3];
    rt_proc *p[3];
    const char *names[3] = {"w0", "w1", "w2"};
    for (int i = 0; i < 3; i++) {
        worker_init(&w[i], names[i]);
        w[i].stop_delay_ms = 30;
        rt_child_spec spec = {names[i], worker_start, worker_stop, &w[i], RT_PERMANENT};
        assert_int_equal(rt_sup_add(s, &spec, &p[i]), IVM_OK);
    }
    /* Removing a child is not a failure: nothing restarts. */
    rt_sup_remove(s, p[1]);
    pthread_mutex_lock(&w[1].mu);
    assert_true(w[1].exited);
    pthread_mutex_unlock(&w[1].mu);
    assert_int_equal(info_of(s, "root/rm/w0").restarts, 0);
    lookup l = {0};
    rt_proc_list(s, lookup_fn, &l);
    assert_string_equal(l.order, "root/rm root/rm/w0 root/rm/w2");

    rt_sup_free(s);
    for (int i = 0; i < 3; i++) {
        pthread_mutex_lock(&w[i].mu);
        assert_true(w[i].exited);
        pthread_mutex_unlock(&w[i].mu);
        worker_fini(&w[i]);
    }
}

/* Reports the end of its first run twice, from start, where no restart can
 * come in between. */
static ivm_rc twice_start(rt_proc *p, void *arg)
{
    passive *c = arg;
    if (atomic_fetch_add(&c->starts, 1) == 0) {
        rt_proc_exit(p, RT_EXIT_FAILED, "one");
        rt_proc_exit(p, RT_EXIT_FAILED, "two");
    }
    return IVM_OK;
}

static void test_sup_second_exit_report_is_ignored(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "twice", RT_ONE_FOR_ONE, 10, 60000, &s), IVM_OK);
    passive a = {.name = "a"};
    rt_child_spec spec = {"a", twice_start, passive_stop, &a, RT_PERMANENT};
    rt_proc *pa;
    assert_int_equal(rt_sup_add(s, &spec, &pa), IVM_OK);
    assert_true(rt_proc_wait_restarts(pa, 1, WAIT_MS));
    rt_proc_info i = info_of(s, "root/twice/a");
    assert_int_equal(i.failures, 1);
    assert_int_equal(i.restarts, 1);
    assert_string_equal(i.last_exit, "failed: one");
    assert_true(in_log("exit-ignored root/twice/a"));
    /* The wait times out when nothing happens. */
    assert_false(rt_proc_wait_restarts(pa, 2, 50));
    assert_int_equal(info_of(s, "root/twice/a").failures, 1);
    rt_proc_exit(pa, RT_EXIT_NORMAL, NULL); /* permanent: restarted even so */
    assert_true(rt_proc_wait_restarts(pa, 2, WAIT_MS));
    rt_sup_free(s);
}

/* ---- Children added from a start function ---------------------------------------- */

typedef struct nest {
    rt_sup *inner;
    passive leaf;
    ivm_rc rc;
} nest;

static ivm_rc nest_start(rt_proc *p, void *arg)
{
    nest *n = arg;
    n->rc = rt_sup_new(NULL, "inner", RT_ONE_FOR_ONE, 5, 60000, &n->inner);
    if (n->rc == IVM_OK)
        n->rc = rt_sup_add(n->inner, &(rt_child_spec){"leaf", passive_start, passive_stop,
                                                       &n->leaf, RT_PERMANENT},
                           NULL);
    return n->rc;
}

static void test_sup_start_may_add_children(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "outer", RT_ONE_FOR_ONE, 5, 60000, &s), IVM_OK);
    nest n = {.leaf = {.name = "leaf"}};
    rt_child_spec spec = {"starter", nest_start, NULL, &n, RT_TEMPORARY};
    rt_proc *p;
    assert_int_equal(rt_sup_add(s, &spec, &p), IVM_OK);
    assert_int_equal(n.rc, IVM_OK);
    assert_int_equal(info_of(NULL, "root/inner/leaf").state, RT_PROC_RUNNING);
    rt_proc_exit(p, RT_EXIT_NORMAL, NULL);
    assert_true(rt_proc_wait_restarts(p, 1, WAIT_MS));
    rt_sup_free(n.inner);
    rt_sup_free(s);
}

/* ---- Log -------------------------------------------------------------------------- */

typedef struct dump {
    int lines;
    int last_seen;
    bool ordered;
} dump;

static void dump_fn(void *arg, const char *line)
{
    dump *d = arg;
    d->lines++;
    int v;
    if (sscanf(line, "test line %d", &v) == 1) {
        if (v <= d->last_seen)
            d->ordered = false;
        d->last_seen = v;
    }
}

static void test_sup_log_keeps_last_256_lines(void **state)
{
    for (int i = 0; i < 300; i++)
        rt_log("test line %d", i);
    dump d = {0, -1, true};
    rt_log_dump(dump_fn, &d);
    assert_int_equal(d.lines, 256);
    assert_true(d.ordered);
    assert_int_equal(d.last_seen, 299);
}

/* ---- Concurrency ------------------------------------------------------------------ */

enum { CHURN_THREADS = 4, CHURN_ROUNDS = 50 };

typedef struct churn {
    rt_sup *s;
    int index;
} churn;

static void *churn_main(void *arg)
{
    churn *c = arg;
    char name[32];
    for (int r = 0; r < CHURN_ROUNDS; r++) {
        snprintf(name, sizeof name, "t%d-%d", c->index, r);
        passive *x = calloc(1, sizeof *x);
        x->name = name;
        rt_child_spec spec = {name, passive_start, passive_stop, x, RT_PERMANENT};
        rt_proc *p;
        if (rt_sup_add(c->s, &spec, &p) != IVM_OK)
            abort();
        if (r % 3 == 0) {
            rt_proc_exit(p, RT_EXIT_FAILED, "churn");
            rt_proc_wait_restarts(p, 1, WAIT_MS);
        }
        rt_sup_remove(c->s, p);
        free(x);
    }
    return NULL;
}

static void test_sup_concurrent_add_and_remove(void **state)
{
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "churn", RT_ONE_FOR_ONE, 1000, 60000, &s), IVM_OK);
    pthread_t t[CHURN_THREADS];
    churn c[CHURN_THREADS];
    for (int i = 0; i < CHURN_THREADS; i++) {
        c[i] = (churn){s, i};
        assert_int_equal(pthread_create(&t[i], NULL, churn_main, &c[i]), 0);
    }
    for (int i = 0; i < CHURN_THREADS; i++)
        pthread_join(t[i], NULL);
    lookup l = {0};
    rt_proc_list(s, lookup_fn, &l);
    assert_string_equal(l.order, "root/churn");
    assert_true(rt_sup_alive(s));
    rt_sup_free(s);
}

int main(void)
{
    alarm(120); /* a hang fails the test instead of blocking the run */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_one_for_one_restarts_only_the_failed),
        cmocka_unit_test(test_sup_one_for_all_restarts_everyone),
        cmocka_unit_test(test_sup_rest_for_one_restarts_the_later_ones),
        cmocka_unit_test(test_sup_restart_policies),
        cmocka_unit_test(test_sup_intensity_limit_escalates),
        cmocka_unit_test(test_sup_failed_start_counts_as_failure),
        cmocka_unit_test(test_sup_add_with_failing_start_keeps_nothing),
        cmocka_unit_test(test_sup_injected_faults_fail_and_restart),
        cmocka_unit_test(test_sup_remove_and_free_wait_for_exit),
        cmocka_unit_test(test_sup_second_exit_report_is_ignored),
        cmocka_unit_test(test_sup_start_may_add_children),
        cmocka_unit_test(test_sup_log_keeps_last_256_lines),
        cmocka_unit_test(test_sup_concurrent_add_and_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
