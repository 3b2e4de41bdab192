/*
 * sched.c: schedulers: n worker threads, each polling the tasks of its own
 * run queue.  A task's state word decides who may queue it, so a wake is
 * never lost and a task is never queued twice:
 *
 *   IDLE (parked) --wake--> QUEUED --worker takes it--> RUNNING
 *   RUNNING --RT_PENDING--> IDLE, or QUEUED if woken while running (NOTIFIED)
 *   RUNNING --RT_PROGRESS--> QUEUED (back of the queue)
 *   RUNNING --RT_DONE--> DONE (rt_task_join returns)
 *
 * A worker with an empty queue sleeps on its condition variable; a wake or a
 * spawn signals it only if it sleeps.
 */
#include "runtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

enum { T_IDLE, T_QUEUED, T_RUNNING, T_NOTIFIED, T_DONE };

struct rt_task {
    rt_sched *sched;
    uint32_t worker;
    rt_poll_fn poll;
    void *arg;
    atomic_int state;
    rt_task *next;            /* run queue link, under the worker's mutex */
};

typedef struct sworker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rt_task *head, *tail;
    bool sleeping;
    bool stop;
    uint32_t index;
    rt_sched *sched;
} sworker;

struct rt_sched {
    uint32_t n;
    sworker *w;
    pthread_mutex_t join_mu;
    pthread_cond_t join_cv;
    char name[16];
    atomic_uint_fast64_t polls, pending, wakes, sleeps;
};

static _Thread_local uint32_t current_worker = UINT32_MAX;

uint32_t rt_sched_current_worker(void)
{
    return current_worker;
}

static void enqueue(sworker *w, rt_task *t)
{
    pthread_mutex_lock(&w->mu);
    t->next = NULL;
    if (w->tail != NULL)
        w->tail->next = t;
    else
        w->head = t;
    w->tail = t;
    bool wake = w->sleeping;
    pthread_mutex_unlock(&w->mu);
    if (wake)
        pthread_cond_signal(&w->cv);
}

static void *worker_main(void *p)
{
    sworker *w = p;
    rt_sched *s = w->sched;
    current_worker = w->index;
    char name[16];
    snprintf(name, sizeof name, "%.10s/%u", s->name, w->index);
    (void)pthread_setname_np(pthread_self(), name);
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (w->head == NULL && !w->stop) {
            w->sleeping = true;
            atomic_fetch_add_explicit(&s->sleeps, 1, memory_order_relaxed);
            pthread_cond_wait(&w->cv, &w->mu);
            w->sleeping = false;
        }
        rt_task *t = w->head;
        if (t == NULL) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        w->head = t->next;
        if (w->head == NULL)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);

        atomic_store(&t->state, T_RUNNING);
        atomic_fetch_add_explicit(&s->polls, 1, memory_order_relaxed);
        rt_poll r = t->poll(t->arg, t);
        if (r == RT_DONE) {
            pthread_mutex_lock(&s->join_mu);
            atomic_store(&t->state, T_DONE);
            pthread_cond_broadcast(&s->join_cv);
            pthread_mutex_unlock(&s->join_mu);
        } else if (r == RT_PROGRESS) {
            atomic_store(&t->state, T_QUEUED);
            enqueue(w, t);
        } else {
            atomic_fetch_add_explicit(&s->pending, 1, memory_order_relaxed);
            int expect = T_RUNNING;
            if (!atomic_compare_exchange_strong(&t->state, &expect, T_IDLE)) {
                /* Woken while running: poll again. */
                atomic_store(&t->state, T_QUEUED);
                enqueue(w, t);
            }
        }
    }
    return NULL;
}

static void task_wake(void *arg)
{
    rt_task *t = arg;
    for (;;) {
        int st = atomic_load(&t->state);
        if (st == T_IDLE) {
            if (atomic_compare_exchange_weak(&t->state, &st, T_QUEUED)) {
                atomic_fetch_add_explicit(&t->sched->wakes, 1, memory_order_relaxed);
                enqueue(&t->sched->w[t->worker], t);
                return;
            }
        } else if (st == T_RUNNING) {
            if (atomic_compare_exchange_weak(&t->state, &st, T_NOTIFIED))
                return;
        } else {
            return; /* queued, already notified, or done */
        }
    }
}

rt_waker rt_task_waker(rt_task *t)
{
    return (rt_waker){task_wake, t};
}

ivm_rc rt_sched_start(uint32_t nworkers, const char *name, rt_sched **out)
{
    if (nworkers == 0 || nworkers > 1024)
        return IVM_INVALID;
    rt_sched *s = ivm_calloc(1, sizeof *s);
    if (s == NULL)
        return IVM_NOMEM;
    s->w = ivm_calloc(nworkers, sizeof *s->w);
    if (s->w == NULL) {
        ivm_free(s);
        return IVM_NOMEM;
    }
    snprintf(s->name, sizeof s->name, "%s", name ? name : "worker");
    pthread_mutex_init(&s->join_mu, NULL);
    pthread_cond_init(&s->join_cv, NULL);
    uint32_t started = 0;
    for (; started < nworkers; started++) {
        sworker *w = &s->w[started];
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        w->index = started;
        w->sched = s;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            break;
    }
    s->n = started;
    if (started < nworkers) {
        rt_sched_stop(s);
        return IVM_NOMEM;
    }
    *out = s;
    return IVM_OK;
}

uint32_t rt_sched_size(const rt_sched *s)
{
    return s->n;
}

void rt_sched_stop(rt_sched *s)
{
    if (s == NULL)
        return;
    for (uint32_t i = 0; i < s->n; i++) {
        sworker *w = &s->w[i];
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_mutex_unlock(&w->mu);
        pthread_cond_signal(&w->cv);
    }
    for (uint32_t i = 0; i < s->n; i++) {
        pthread_join(s->w[i].thread, NULL);
        pthread_mutex_destroy(&s->w[i].mu);
        pthread_cond_destroy(&s->w[i].cv);
    }
    pthread_mutex_destroy(&s->join_mu);
    pthread_cond_destroy(&s->join_cv);
    ivm_free(s->w);
    ivm_free(s);
}

ivm_rc rt_task_spawn(rt_sched *s, uint32_t worker, rt_poll_fn poll, void *arg, rt_task **out)
{
    if (worker >= s->n || poll == NULL)
        return IVM_INVALID;
    rt_task *t = ivm_calloc(1, sizeof *t);
    if (t == NULL)
        return IVM_NOMEM;
    t->sched = s;
    t->worker = worker;
    t->poll = poll;
    t->arg = arg;
    atomic_init(&t->state, T_QUEUED);
    *out = t;
    enqueue(&s->w[worker], t);
    return IVM_OK;
}

void rt_task_join(rt_task *t)
{
    rt_sched *s = t->sched;
    pthread_mutex_lock(&s->join_mu);
    while (atomic_load(&t->state) != T_DONE)
        pthread_cond_wait(&s->join_cv, &s->join_mu);
    pthread_mutex_unlock(&s->join_mu);
    ivm_free(t);
}

void rt_sched_stats_get(const rt_sched *s, rt_sched_stats *out)
{
    out->polls = atomic_load(&((rt_sched *)s)->polls);
    out->pending = atomic_load(&((rt_sched *)s)->pending);
    out->wakes = atomic_load(&((rt_sched *)s)->wakes);
    out->sleeps = atomic_load(&((rt_sched *)s)->sleeps);
}
