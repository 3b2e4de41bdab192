/*
 * test_sched.c: unit tests of the cooperative scheduler (runtime/sched.c):
 * tasks run on the worker they were spawned on; rings of tasks on different
 * workers pass a token through wakers and every counter reaches its exact
 * total; wakes from plain threads and from tasks on other workers race with
 * parking and none is lost (a lost wake hangs, and the alarm fails the
 * test); a task woken many times while queued is polled once more, and one
 * woken while being polled is polled exactly once more; RT_PROGRESS lets
 * the other tasks of a worker run; stop waits for outstanding tasks,
 * including ones they spawn; counters; start/stop cycles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- Basics ------------------------------------------------------------------ */

typedef struct counted {
    uint32_t want_worker;
    atomic_int polls;
    atomic_int wrong_worker;
    int progress; /* RT_PROGRESS this many times, then RT_DONE */
} counted;

static rt_poll counted_poll(void *arg, rt_task *self)
{
    counted *c = arg;
    if (rt_sched_current_worker() != c->want_worker)
        atomic_fetch_add(&c->wrong_worker, 1);
    int n = atomic_fetch_add(&c->polls, 1) + 1;
    return n > c->progress ? RT_DONE : RT_PROGRESS;
}

static void test_sched_tasks_run_on_their_worker(void **state)
{
    enum { W = 3, PER = 5, PROGRESS = 10 };
    rt_sched *s;
    assert_int_equal(rt_sched_start(0, "x", &s), IVM_INVALID);
    assert_int_equal(rt_sched_start(W, "basic", &s), IVM_OK);
    assert_int_equal(rt_sched_size(s), W);
    assert_int_equal(rt_sched_current_worker(), UINT32_MAX);
    rt_task *bad;
    assert_int_equal(rt_task_spawn(s, W, counted_poll, NULL, &bad), IVM_INVALID);

    counted c[W * PER];
    rt_task *t[W * PER];
    for (int i = 0; i < W * PER; i++) {
        c[i] = (counted){.want_worker = (uint32_t)i % W, .progress = PROGRESS};
        assert_int_equal(rt_task_spawn(s, (uint32_t)i % W, counted_poll, &c[i], &t[i]), IVM_OK);
    }
    for (int i = 0; i < W * PER; i++)
        rt_task_join(t[i]);
    for (int i = 0; i < W * PER; i++) {
        assert_int_equal(atomic_load(&c[i].polls), PROGRESS + 1);
        assert_int_equal(atomic_load(&c[i].wrong_worker), 0);
    }
    rt_sched_stats st;
    rt_sched_stats_get(s, &st);
    assert_int_equal(st.polls, (uint64_t)W * PER * (PROGRESS + 1));
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.wakes, 0);
    rt_sched_stop(s);
}

/* ---- Rings of tasks passing a token --------------------------------------------- */

enum { RING = 5, RINGS = 6, ROUNDS = 2000 };

typedef struct ring ring;
typedef struct ring_task {
    ring *r;
    int pos;
    rt_task *task;
} ring_task;

struct ring {
    atomic_int token;         /* whose turn: token % RING */
    atomic_int out_of_turn;   /* a task that found the token past its turn */
    atomic_int ready;         /* all task handles are stored */
    ring_task tasks[RING];
    atomic_long *grand_total;
};

static void wake_next(ring_task *rt)
{
    ring_task *next = &rt->r->tasks[(rt->pos + 1) % RING];
    rt_waker w = rt_task_waker(next->task);
    rt_waker_wake(&w);
}

static rt_poll ring_poll(void *arg, rt_task *self)
{
    ring_task *rt = arg;
    ring *r = rt->r;
    if (!atomic_load(&r->ready))
        return RT_PENDING; /* the spawner wakes everyone once all exist */
    int total = RING * ROUNDS;
    int c = atomic_load(&r->token);
    if (c >= total) {
        wake_next(rt);
        return RT_DONE;
    }
    if (c % RING != rt->pos)
        return RT_PENDING; /* woken early (the start-up wake): not our turn */
    atomic_fetch_add(rt->r->grand_total, 1);
    /* Only the task whose turn it is moves the token. */
    if (!atomic_compare_exchange_strong(&r->token, &c, c + 1))
        atomic_fetch_add(&r->out_of_turn, 1);
    wake_next(rt);
    return c + 1 >= total ? RT_DONE : RT_PENDING;
}

static void test_sched_rings_pass_tokens_to_exact_totals(void **state)
{
    enum { W = 3 };
    rt_sched *s;
    assert_int_equal(rt_sched_start(W, "ring", &s), IVM_OK);
    static ring rings[RINGS];
    atomic_long grand = 0;
    for (int i = 0; i < RINGS; i++) {
        ring *r = &rings[i];
        memset(r, 0, sizeof *r);
        r->grand_total = &grand;
        for (int j = 0; j < RING; j++) {
            r->tasks[j] = (ring_task){r, j, NULL};
            /* Neighbours on different workers: every pass crosses threads. */
            assert_int_equal(rt_task_spawn(s, (uint32_t)(i + j) % W, ring_poll, &r->tasks[j],
                                           &r->tasks[j].task),
                             IVM_OK);
        }
    }
    for (int i = 0; i < RINGS; i++) {
        atomic_store(&rings[i].ready, 1);
        for (int j = 0; j < RING; j++) {
            rt_waker w = rt_task_waker(rings[i].tasks[j].task);
            rt_waker_wake(&w);
        }
    }
    for (int i = 0; i < RINGS; i++)
        for (int j = 0; j < RING; j++)
            rt_task_join(rings[i].tasks[j].task);
    for (int i = 0; i < RINGS; i++) {
        assert_int_equal(atomic_load(&rings[i].token), RING * ROUNDS);
        assert_int_equal(atomic_load(&rings[i].out_of_turn), 0);
    }
    assert_int_equal(atomic_load(&grand), (long)RINGS * RING * ROUNDS);
    rt_sched_stats st;
    rt_sched_stats_get(s, &st);
    /* Every task parks after each of its passes but the last. */
    assert_true(st.pending >= (uint64_t)RINGS * RING * (ROUNDS - 1));
    assert_true(st.polls >= st.pending);
    rt_sched_stop(s);
}

/* ---- Wakes racing with parking -------------------------------------------------- */

enum { PRODUCERS = 3, ITEMS = 20000 };

typedef struct consumer {
    atomic_long items;   /* produced, not yet taken */
    long taken;          /* only the consumer task touches it */
    long want;
    rt_task *task;
} consumer;

static rt_poll consumer_poll(void *arg, rt_task *self)
{
    consumer *c = arg;
    /* Take everything at once: a wake that came after this exchange must
     * lead to another poll, or the items it announced are never taken. */
    c->taken += atomic_exchange(&c->items, 0);
    return c->taken == c->want ? RT_DONE : RT_PENDING;
}

static void produce(consumer *c)
{
    atomic_fetch_add(&c->items, 1);
    rt_waker w = rt_task_waker(c->task);
    rt_waker_wake(&w);
}

static void *producer_thread(void *arg)
{
    consumer *c = arg;
    for (int i = 0; i < ITEMS; i++)
        produce(c);
    return NULL;
}

typedef struct producer_task {
    consumer *c;
    int left;
} producer_task;

static rt_poll producer_poll(void *arg, rt_task *self)
{
    producer_task *p = arg;
    /* A few items per poll, then back of the queue. */
    for (int i = 0; i < 7 && p->left > 0; i++, p->left--)
        produce(p->c);
    return p->left > 0 ? RT_PROGRESS : RT_DONE;
}

static void test_sched_no_wake_is_lost(void **state)
{
    enum { W = 2 };
    rt_sched *s;
    assert_int_equal(rt_sched_start(W, "race", &s), IVM_OK);
    /* Consumer 0 is fed by plain threads, consumer 1 by tasks on both
     * workers (its own worker included). */
    consumer c[2];
    for (int i = 0; i < 2; i++) {
        atomic_init(&c[i].items, 0);
        c[i].taken = 0;
        c[i].want = (long)PRODUCERS * ITEMS;
        assert_int_equal(rt_task_spawn(s, (uint32_t)i, consumer_poll, &c[i], &c[i].task), IVM_OK);
    }
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, producer_thread, &c[0]), 0);
    producer_task pt[PRODUCERS];
    rt_task *ptask[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        pt[i] = (producer_task){&c[1], ITEMS};
        assert_int_equal(rt_task_spawn(s, (uint32_t)i % W, producer_poll, &pt[i], &ptask[i]),
                         IVM_OK);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        rt_task_join(ptask[i]);
    }
    rt_task_join(c[0].task);
    rt_task_join(c[1].task);
    assert_int_equal(c[0].taken, (long)PRODUCERS * ITEMS);
    assert_int_equal(c[1].taken, (long)PRODUCERS * ITEMS);
    rt_sched_stop(s);
}

/* ---- Wakes while queued and while running ----------------------------------------- */

typedef struct gate {
    sem_t in, go;
} gate;

/* Blocks its worker until the test lets it go: the test's way to hold a
 * worker still (tasks must never do this). */
static rt_poll gate_poll(void *arg, rt_task *self)
{
    gate *g = arg;
    sem_post(&g->in);
    sem_wait(&g->go);
    return RT_DONE;
}

typedef struct watched {
    atomic_int polls;
    atomic_bool finish;
    int self_wakes;   /* on the first poll, wake itself this many times */
    sem_t polled;
} watched;

static rt_poll watched_poll(void *arg, rt_task *self)
{
    watched *w = arg;
    int n = atomic_fetch_add(&w->polls, 1) + 1;
    if (n == 1)
        for (int i = 0; i < w->self_wakes; i++) {
            rt_waker k = rt_task_waker(self);
            rt_waker_wake(&k);
        }
    bool fin = atomic_load(&w->finish);
    sem_post(&w->polled);
    return fin ? RT_DONE : RT_PENDING;
}

/* Runs a gate task on worker 0 of s and waits until it holds the worker. */
static rt_task *hold_worker(rt_sched *s, gate *g)
{
    rt_task *t;
    assert_int_equal(rt_task_spawn(s, 0, gate_poll, g, &t), IVM_OK);
    sem_wait(&g->in);
    return t;
}

static void test_sched_wakes_while_queued_poll_once_more(void **state)
{
    rt_sched *s;
    assert_int_equal(rt_sched_start(1, "queued", &s), IVM_OK);
    watched w = {0};
    sem_init(&w.polled, 0, 0);
    gate g;
    sem_init(&g.in, 0, 0);
    sem_init(&g.go, 0, 0);
    rt_task *t;
    assert_int_equal(rt_task_spawn(s, 0, watched_poll, &w, &t), IVM_OK);
    sem_wait(&w.polled); /* first poll returned (or is returning) RT_PENDING */
    /* The gate runs after t has been filed, so t is parked while it holds
     * the worker; 100 wakes queue it once. */
    rt_task *gt = hold_worker(s, &g);
    for (int i = 0; i < 100; i++) {
        rt_waker k = rt_task_waker(t);
        rt_waker_wake(&k);
    }
    rt_sched_stats st;
    rt_sched_stats_get(s, &st);
    assert_int_equal(st.wakes, 1);
    sem_post(&g.go);
    rt_task_join(gt);
    sem_wait(&w.polled); /* the one poll those wakes earned */
    atomic_store(&w.finish, true);
    rt_waker k = rt_task_waker(t);
    rt_waker_wake(&k);
    rt_task_join(t);
    /* 1 + 1 for the hundred wakes + 1 to finish: never twice for one. */
    assert_int_equal(atomic_load(&w.polls), 3);
    rt_sched_stats_get(s, &st);
    assert_int_equal(st.polls, 4); /* and the gate */
    assert_int_equal(st.pending, 2);
    rt_sched_stop(s);
    sem_destroy(&w.polled);
    sem_destroy(&g.in);
    sem_destroy(&g.go);
}

static void test_sched_wake_while_running_polls_once_more(void **state)
{
    rt_sched *s;
    assert_int_equal(rt_sched_start(1, "running", &s), IVM_OK);
    watched w = {.self_wakes = 5};
    sem_init(&w.polled, 0, 0);
    gate g;
    sem_init(&g.in, 0, 0);
    sem_init(&g.go, 0, 0);
    rt_task *t;
    assert_int_equal(rt_task_spawn(s, 0, watched_poll, &w, &t), IVM_OK);
    sem_wait(&w.polled);
    sem_wait(&w.polled); /* polled again for the wakes during the first poll */
    /* Anything queued before the gate has run once the gate holds the worker. */
    rt_task *gt = hold_worker(s, &g);
    assert_int_equal(atomic_load(&w.polls), 2);
    sem_post(&g.go);
    rt_task_join(gt);
    atomic_store(&w.finish, true);
    rt_waker k = rt_task_waker(t);
    rt_waker_wake(&k);
    rt_task_join(t);
    assert_int_equal(atomic_load(&w.polls), 3);
    rt_sched_stop(s);
    sem_destroy(&w.polled);
    sem_destroy(&g.in);
    sem_destroy(&g.go);
}

/* ---- Fairness --------------------------------------------------------------------- */

typedef struct spinner {
    atomic_bool flag;
    atomic_long spins;
} spinner;

static rt_poll spin_poll(void *arg, rt_task *self)
{
    spinner *sp = arg;
    atomic_fetch_add(&sp->spins, 1);
    return atomic_load(&sp->flag) ? RT_DONE : RT_PROGRESS;
}

static rt_poll flag_poll(void *arg, rt_task *self)
{
    spinner *sp = arg;
    atomic_store(&sp->flag, true);
    return RT_DONE;
}

static void test_sched_progress_lets_others_run(void **state)
{
    rt_sched *s;
    assert_int_equal(rt_sched_start(1, "fair", &s), IVM_OK);
    spinner sp = {0};
    rt_task *a, *b;
    assert_int_equal(rt_task_spawn(s, 0, spin_poll, &sp, &a), IVM_OK);
    /* b is spawned from outside, into the inbox, while a keeps running. */
    assert_int_equal(rt_task_spawn(s, 0, flag_poll, &sp, &b), IVM_OK);
    rt_task_join(b);
    rt_task_join(a);
    assert_true(atomic_load(&sp.spins) >= 1);
    rt_sched_stop(s);
}

/* ---- Stop with tasks outstanding ---------------------------------------------------- */

enum { OUT_TASKS = 16, OUT_WAKES = 20 };

typedef struct outstanding {
    atomic_int credits;   /* handed out by the feeder thread */
    int used;
    atomic_bool done;
    bool spawn_child;     /* spawns one more task on its first poll */
    rt_sched *s;
    rt_task *child;
    struct outstanding *child_state;
} outstanding;

static rt_poll child_poll(void *arg, rt_task *self)
{
    outstanding *o = arg;
    atomic_store(&o->done, true);
    return RT_DONE;
}

static rt_poll outstanding_poll(void *arg, rt_task *self)
{
    outstanding *o = arg;
    if (o->spawn_child && o->child == NULL) {
        uint32_t other = (rt_sched_current_worker() + 1) % rt_sched_size(o->s);
        if (rt_task_spawn(o->s, other, child_poll, o->child_state, &o->child) != IVM_OK)
            abort();
    }
    o->used += atomic_exchange(&o->credits, 0);
    if (o->used < OUT_WAKES)
        return RT_PENDING;
    atomic_store(&o->done, true);
    return RT_DONE;
}

typedef struct feeder {
    outstanding *o;
    rt_task **t;
} feeder;

static void *feeder_main(void *arg)
{
    feeder *f = arg;
    for (int round = 0; round < OUT_WAKES; round++) {
        sleep_us(500);
        for (int i = 0; i < OUT_TASKS; i++) {
            atomic_fetch_add(&f->o[i].credits, 1);
            rt_waker k = rt_task_waker(f->t[i]);
            rt_waker_wake(&k);
        }
    }
    return NULL;
}

static void test_sched_stop_waits_for_outstanding_tasks(void **state)
{
    rt_sched *s;
    assert_int_equal(rt_sched_start(2, "stop", &s), IVM_OK);
    outstanding o[OUT_TASKS], child[OUT_TASKS];
    rt_task *t[OUT_TASKS];
    memset(o, 0, sizeof o);
    memset(child, 0, sizeof child);
    for (int i = 0; i < OUT_TASKS; i++) {
        o[i].spawn_child = i % 2 == 0;
        o[i].s = s;
        o[i].child_state = &child[i];
        assert_int_equal(rt_task_spawn(s, (uint32_t)i % 2, outstanding_poll, &o[i], &t[i]),
                         IVM_OK);
    }
    feeder f = {o, t};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, feeder_main, &f), 0);
    /* The feeder is still handing out wakes: the tasks are outstanding. */
    rt_sched_stop(s);
    for (int i = 0; i < OUT_TASKS; i++) {
        assert_true(atomic_load(&o[i].done));
        assert_int_equal(o[i].used, OUT_WAKES);
        if (o[i].spawn_child)
            assert_true(atomic_load(&child[i].done));
    }
    pthread_join(th, NULL);
    /* Tasks are still joined (and freed) after their scheduler stopped. */
    for (int i = 0; i < OUT_TASKS; i++) {
        rt_task_join(t[i]);
        rt_task_join(o[i].child);
    }
}

static void test_sched_start_stop_cycles(void **state)
{
    for (int i = 0; i < 50; i++) {
        rt_sched *s;
        assert_int_equal(rt_sched_start(1 + (uint32_t)i % 4, "cycle", &s), IVM_OK);
        counted c = {.want_worker = (uint32_t)i % (1 + (uint32_t)i % 4), .progress = 3};
        rt_task *t;
        assert_int_equal(rt_task_spawn(s, c.want_worker, counted_poll, &c, &t), IVM_OK);
        if (i % 2)
            rt_task_join(t);
        rt_sched_stop(s);
        if (i % 2 == 0)
            rt_task_join(t);
        assert_int_equal(atomic_load(&c.polls), 4);
        assert_int_equal(atomic_load(&c.wrong_worker), 0);
    }
    rt_sched_stop(NULL);
}

int main(void)
{
    alarm(120); /* a lost wake hangs: the alarm turns that into a failure */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sched_tasks_run_on_their_worker),
        cmocka_unit_test(test_sched_rings_pass_tokens_to_exact_totals),
        cmocka_unit_test(test_sched_no_wake_is_lost),
        cmocka_unit_test(test_sched_wakes_while_queued_poll_once_more),
        cmocka_unit_test(test_sched_wake_while_running_polls_once_more),
        cmocka_unit_test(test_sched_progress_lets_others_run),
        cmocka_unit_test(test_sched_stop_waits_for_outstanding_tasks),
        cmocka_unit_test(test_sched_start_stop_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
