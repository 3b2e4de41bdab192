/*
 * wake.c: the cost of a wake-up from one thread to another.  Two tasks on
 * two workers of a scheduler pass a ball back and forth through their
 * wakers (each pass parks one task and wakes the other, whose worker is
 * usually asleep), and, for comparison, the same ping-pong on one worker
 * (no thread crossing) and between two plain threads sleeping on a
 * condition variable, a futex and an eventfd.  One JSON line per kind; the
 * first argument sets the number of round trips.  Decides nothing.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"

static uint64_t trips = 20000;

static void print_line(const char *kind, uint64_t ns, const char *extra)
{
    printf("{\"bench\":\"wake\",\"kind\":\"%s\",\"round_trips\":%llu,"
           "\"ns_per_round_trip\":%.0f,\"ns_per_wake\":%.0f%s}\n",
           kind, (unsigned long long)trips, (double)ns / (double)trips,
           (double)ns / (2.0 * (double)trips), extra);
    fflush(stdout);
}

/* ---- Tasks on a scheduler ------------------------------------------------------ */

typedef struct table {
    _Atomic uint64_t ball;  /* passes so far: even = side 0 to play */
    atomic_bool ready;
    rt_task *t[2];
} table;

typedef struct side {
    table *tb;
    int me;
} side;

static void wake_other(side *sd)
{
    rt_waker w = rt_task_waker(sd->tb->t[1 - sd->me]);
    rt_waker_wake(&w);
}

static rt_poll side_poll(void *arg, rt_task *self)
{
    side *sd = arg;
    table *tb = sd->tb;
    if (!atomic_load_explicit(&tb->ready, memory_order_acquire))
        return RT_PENDING;
    uint64_t b = atomic_load_explicit(&tb->ball, memory_order_acquire);
    if (b >= 2 * trips) {
        wake_other(sd);
        return RT_DONE;
    }
    if (b % 2 != (uint64_t)sd->me)
        return RT_PENDING;
    atomic_store_explicit(&tb->ball, b + 1, memory_order_release);
    wake_other(sd);
    return b + 1 >= 2 * trips ? RT_DONE : RT_PENDING;
}

static int task_pingpong(const char *kind, uint32_t w0, uint32_t w1)
{
    rt_sched *s;
    if (rt_sched_start(2, "wake", &s) != IVM_OK) {
        fprintf(stderr, "wake: cannot start a scheduler\n");
        return 1;
    }
    table tb;
    atomic_init(&tb.ball, 0);
    atomic_init(&tb.ready, false);
    side sd[2] = {{&tb, 0}, {&tb, 1}};
    if (rt_task_spawn(s, w0, side_poll, &sd[0], &tb.t[0]) != IVM_OK ||
        rt_task_spawn(s, w1, side_poll, &sd[1], &tb.t[1]) != IVM_OK) {
        fprintf(stderr, "wake: cannot spawn\n");
        return 1;
    }
    rt_sched_stats before;
    rt_sched_stats_get(s, &before);
    uint64_t t0 = rt_now_ns();
    atomic_store_explicit(&tb.ready, true, memory_order_release);
    rt_waker w = rt_task_waker(tb.t[0]);
    rt_waker_wake(&w);
    rt_task_join(tb.t[0]);
    rt_task_join(tb.t[1]);
    uint64_t ns = rt_now_ns() - t0;
    rt_sched_stats after;
    rt_sched_stats_get(s, &after);
    rt_sched_stop(s);
    char extra[160];
    double passes = 2.0 * (double)trips;
    snprintf(extra, sizeof extra, ",\"polls_per_pass\":%.2f,\"sleeps_per_pass\":%.2f",
             (double)(after.polls - before.polls) / passes,
             (double)(after.sleeps - before.sleeps) / passes);
    print_line(kind, ns, extra);
    return 0;
}

/* ---- Plain threads --------------------------------------------------------------- */

typedef struct cv_table {
    pthread_mutex_t mu;
    pthread_cond_t cv[2];
    uint64_t ball;
} cv_table;

typedef struct cv_side {
    cv_table *tb;
    int me;
} cv_side;

static void *cv_main(void *arg)
{
    cv_side *sd = arg;
    cv_table *tb = sd->tb;
    pthread_mutex_lock(&tb->mu);
    for (;;) {
        while (tb->ball < 2 * trips && tb->ball % 2 != (uint64_t)sd->me)
            pthread_cond_wait(&tb->cv[sd->me], &tb->mu);
        if (tb->ball >= 2 * trips)
            break;
        tb->ball++;
        pthread_cond_signal(&tb->cv[1 - sd->me]);
    }
    pthread_mutex_unlock(&tb->mu);
    return NULL;
}

static void condvar_pingpong(void)
{
    cv_table tb = {.ball = 0};
    pthread_mutex_init(&tb.mu, NULL);
    pthread_cond_init(&tb.cv[0], NULL);
    pthread_cond_init(&tb.cv[1], NULL);
    cv_side sd[2] = {{&tb, 0}, {&tb, 1}};
    pthread_t th[2];
    uint64_t t0 = rt_now_ns();
    pthread_create(&th[0], NULL, cv_main, &sd[0]);
    pthread_create(&th[1], NULL, cv_main, &sd[1]);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    uint64_t ns = rt_now_ns() - t0;
    print_line("condvar_pingpong", ns, "");
    pthread_cond_destroy(&tb.cv[0]);
    pthread_cond_destroy(&tb.cv[1]);
    pthread_mutex_destroy(&tb.mu);
}

/* The ball as a futex word: each side sleeps while the count says it is the
 * other's turn. */
typedef struct fx_side {
    _Atomic uint32_t *ball;
    int me;
} fx_side;

static void *fx_main(void *arg)
{
    fx_side *sd = arg;
    for (;;) {
        uint32_t b = atomic_load_explicit(sd->ball, memory_order_acquire);
        if (b >= 2 * trips)
            break;
        if (b % 2 != (uint32_t)sd->me) {
            syscall(SYS_futex, (uint32_t *)sd->ball, FUTEX_WAIT_PRIVATE, b, NULL, NULL, 0);
            continue;
        }
        atomic_store_explicit(sd->ball, b + 1, memory_order_release);
        syscall(SYS_futex, (uint32_t *)sd->ball, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

static void futex_pingpong(void)
{
    _Atomic uint32_t ball = 0;
    fx_side sd[2] = {{&ball, 0}, {&ball, 1}};
    pthread_t th[2];
    uint64_t t0 = rt_now_ns();
    pthread_create(&th[0], NULL, fx_main, &sd[0]);
    pthread_create(&th[1], NULL, fx_main, &sd[1]);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    print_line("futex_pingpong", rt_now_ns() - t0, "");
}

typedef struct ev_side {
    int in, out;
    int me;
} ev_side;

static void *ev_main(void *arg)
{
    ev_side *sd = arg;
    uint64_t v = 1;
    for (uint64_t i = 0; i < trips; i++) {
        if (sd->me == 0 && write(sd->out, &v, sizeof v) != sizeof v)
            break;
        if (read(sd->in, &v, sizeof v) != sizeof v)
            break;
        if (sd->me == 1 && write(sd->out, &v, sizeof v) != sizeof v)
            break;
    }
    return NULL;
}

static void eventfd_pingpong(void)
{
    int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
    if (a < 0 || b < 0) {
        fprintf(stderr, "wake: eventfd: %s\n", strerror(errno));
        return;
    }
    ev_side sd[2] = {{a, b, 0}, {b, a, 1}};
    pthread_t th[2];
    uint64_t t0 = rt_now_ns();
    pthread_create(&th[0], NULL, ev_main, &sd[0]);
    pthread_create(&th[1], NULL, ev_main, &sd[1]);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    print_line("eventfd_pingpong", rt_now_ns() - t0, "");
    close(a);
    close(b);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        trips = strtoull(argv[1], NULL, 10);
        if (trips == 0 || trips > 100000000) {
            fprintf(stderr, "usage: wake [round_trips]\n");
            return 2;
        }
    }
    if (task_pingpong("task_pingpong", 0, 1) != 0)
        return 1;
    if (task_pingpong("task_pingpong_same_worker", 0, 0) != 0)
        return 1;
    condvar_pingpong();
    futex_pingpong();
    eventfd_pingpong();
    return 0;
}
