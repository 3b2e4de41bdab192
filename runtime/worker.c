/*
 * worker.c: worker threads and pools of them, plus the monotonic clock.  A
 * worker is one pthread draining a FIFO of jobs; the caller's job record sits
 * on its own stack (or in the pool) and the caller sleeps on a condition
 * variable until the worker marks it done, so handing a job over costs no
 * allocation and no spinning.  A pool is n workers: a round hands one job to
 * each before waiting for any, so all n run at once.  All shared state is
 * guarded by mutexes; there are no atomics here (R5).  This is the blocking,
 * one-job-at-a-time runtime; cooperative schedulers, supervision and the
 * dataspace come with issue "Runtime".  Invariants R4-R9 in
 * runtime/README.md.
 */
#include "runtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define NAME_MAX_SHOWN 15 /* Linux shows 15 bytes of a thread name */

/* A job handed to a worker.  Owned by whoever handed it over; the worker
 * touches it only between hand-over and done = true, under w->mu (R6). */
typedef struct job {
    rt_job_fn fn;
    void *arg;
    ivm_rc rc;
    bool done;
    struct job *next;
} job;

struct rt_worker {
    pthread_t thread;
    pthread_mutex_t mu;    /* guards everything below */
    pthread_cond_t wake;   /* worker waits here: a job arrived or stopping */
    pthread_cond_t done;   /* callers and rt_worker_stop wait here */
    job *first, *last;     /* FIFO of jobs handed over, not yet started */
    uint32_t inflight;     /* callers between hand-over and leaving (R7) */
    bool stopping;
    char name[NAME_MAX_SHOWN + 1];
};

/* One worker's share of a pool round: what fn(arg, index) needs. */
typedef struct pool_slot {
    rt_pool *pool;
    uint32_t index;
    job j;
} pool_slot;

struct rt_pool {
    pthread_mutex_t run_mu; /* one round at a time (R8) */
    rt_pool_fn fn;          /* the current round; written under run_mu */
    void *arg;
    uint32_t n;
    rt_worker **workers;
    pool_slot *slots;
};

static ivm_rc rc_from_errno(int e)
{
    return e == EAGAIN || e == ENOMEM ? IVM_NOMEM : IVM_INTERNAL;
}

/* ---- Worker ------------------------------------------------------------- */

static void *worker_main(void *p)
{
    rt_worker *w = p;
    /* Best effort: a name the OS refuses is not worth failing for. */
    (void)pthread_setname_np(pthread_self(), w->name);

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->first == NULL && !w->stopping)
            pthread_cond_wait(&w->wake, &w->mu);
        job *j = w->first;
        if (j == NULL)
            break; /* stopping and drained: R7 runs what was handed over */
        w->first = j->next;
        if (w->first == NULL)
            w->last = NULL;
        pthread_mutex_unlock(&w->mu);

        ivm_rc rc = j->fn(j->arg); /* keeps R4: one at a time, in order */

        pthread_mutex_lock(&w->mu);
        j->rc = rc;
        j->done = true;
        /* Several callers may wait on one worker; each checks its own job. */
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Whether the calling thread is w's own: a job that waits for its own
 * worker would never wake (R9). */
static bool on_worker(const rt_worker *w)
{
    return pthread_equal(pthread_self(), w->thread) != 0;
}

/* Appends j to w's queue.  IVM_BUSY once w is stopping. */
static ivm_rc submit(rt_worker *w, job *j, rt_job_fn fn, void *arg)
{
    j->fn = fn;
    j->arg = arg;
    j->rc = IVM_OK;
    j->done = false;
    j->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        return IVM_BUSY;
    }
    if (w->last != NULL)
        w->last->next = j;
    else
        w->first = j;
    w->last = j;
    w->inflight++;
    pthread_cond_signal(&w->wake); /* only the worker waits on wake */
    pthread_mutex_unlock(&w->mu);
    return IVM_OK;
}

/* Sleeps until the worker is done with j, a job submit() accepted. */
static ivm_rc await(rt_worker *w, job *j)
{
    pthread_mutex_lock(&w->mu);
    while (!j->done)
        pthread_cond_wait(&w->done, &w->mu);
    ivm_rc rc = j->rc;
    /* Keeps R7: the last caller out lets a waiting rt_worker_stop go on. */
    if (--w->inflight == 0 && w->stopping)
        pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

ivm_rc rt_worker_start(const char *name, rt_worker **out)
{
    ivm_rc rc = IVM_NOMEM;
    bool mu_ok = false, wake_ok = false, done_ok = false;
    rt_worker *w = ivm_calloc(1, sizeof *w);
    if (w == NULL)
        goto fail;
    snprintf(w->name, sizeof w->name, "%s", name != NULL ? name : "ivm-worker");

    int e = pthread_mutex_init(&w->mu, NULL);
    mu_ok = e == 0;
    if (e == 0)
        e = pthread_cond_init(&w->wake, NULL);
    wake_ok = mu_ok && e == 0;
    if (e == 0)
        e = pthread_cond_init(&w->done, NULL);
    done_ok = wake_ok && e == 0;
    /* pthread_create fails with EAGAIN when threads or memory run out. */
    if (e == 0)
        e = pthread_create(&w->thread, NULL, worker_main, w);
    if (e != 0) {
        rc = rc_from_errno(e);
        goto fail;
    }
    *out = w;
    return IVM_OK;

fail:
    if (done_ok)
        pthread_cond_destroy(&w->done);
    if (wake_ok)
        pthread_cond_destroy(&w->wake);
    if (mu_ok)
        pthread_mutex_destroy(&w->mu);
    ivm_free(w);
    return rc;
}

ivm_rc rt_worker_run(rt_worker *w, rt_job_fn fn, void *arg)
{
    if (on_worker(w))
        return IVM_INTERNAL;
    job j;
    ivm_rc rc = submit(w, &j, fn, arg);
    if (rc != IVM_OK)
        return rc;
    return await(w, &j);
}

void rt_worker_stop(rt_worker *w)
{
    if (w == NULL)
        return;
    IVM_ASSERT(!on_worker(w));
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    /* Keeps R7: callers still inside rt_worker_run use w->mu and w->done, so
     * w lives until the last of them has left. */
    while (w->inflight > 0)
        pthread_cond_wait(&w->done, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    ivm_free(w);
}

/* ---- Pool --------------------------------------------------------------- */

/* The job each pool worker runs: the round's fn with the worker's index.
 * fn and arg were written under run_mu before the hand-over, and the
 * hand-over under w->mu orders them before this read. */
static ivm_rc pool_job(void *p)
{
    pool_slot *s = p;
    return s->pool->fn(s->pool->arg, s->index);
}

/* Stops workers[0..n) and frees what rt_pool_start allocated. */
static void pool_free(rt_pool *p, uint32_t started, bool mu_ok)
{
    for (uint32_t i = 0; i < started; i++)
        rt_worker_stop(p->workers[i]);
    if (mu_ok)
        pthread_mutex_destroy(&p->run_mu);
    ivm_free(p->slots);
    ivm_free(p->workers);
    ivm_free(p);
}

ivm_rc rt_pool_start(uint32_t nworkers, rt_pool **out)
{
    if (nworkers == 0)
        return IVM_INVALID;
    ivm_rc rc = IVM_NOMEM;
    uint32_t started = 0;
    bool mu_ok = false;
    rt_pool *p = ivm_calloc(1, sizeof *p);
    if (p == NULL)
        return IVM_NOMEM;
    p->n = nworkers;
    p->workers = ivm_calloc(nworkers, sizeof *p->workers);
    p->slots = ivm_calloc(nworkers, sizeof *p->slots);
    if (p->workers == NULL || p->slots == NULL)
        goto fail;
    int e = pthread_mutex_init(&p->run_mu, NULL);
    if (e != 0) {
        rc = rc_from_errno(e);
        goto fail;
    }
    mu_ok = true;
    for (; started < nworkers; started++) {
        char name[24]; /* rt_worker_start keeps the first 15 bytes */
        snprintf(name, sizeof name, "ivm-pool-%u", (unsigned)started);
        p->slots[started].pool = p;
        p->slots[started].index = started;
        rc = rt_worker_start(name, &p->workers[started]);
        if (rc != IVM_OK)
            goto fail;
    }
    *out = p;
    return IVM_OK;

fail:
    pool_free(p, started, mu_ok);
    return rc;
}

uint32_t rt_pool_size(const rt_pool *p)
{
    return p->n;
}

ivm_rc rt_pool_run(rt_pool *p, rt_pool_fn fn, void *arg)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (on_worker(p->workers[i]))
            return IVM_INTERNAL; /* R9: would wait for itself */

    pthread_mutex_lock(&p->run_mu);
    p->fn = fn;
    p->arg = arg;
    /* Keeps R8: every worker gets its job before we wait for any. */
    uint32_t handed = 0;
    ivm_rc submit_rc = IVM_OK;
    for (; handed < p->n; handed++) {
        submit_rc = submit(p->workers[handed], &p->slots[handed].j, pool_job,
                           &p->slots[handed]);
        if (submit_rc != IVM_OK)
            break; /* cannot happen while the pool is alive */
    }
    /* First failure by worker index; a worker not handed its job failed. */
    ivm_rc first_rc = IVM_OK;
    for (uint32_t i = 0; i < handed; i++) {
        ivm_rc rc = await(p->workers[i], &p->slots[i].j);
        if (first_rc == IVM_OK)
            first_rc = rc;
    }
    if (first_rc == IVM_OK)
        first_rc = submit_rc;
    pthread_mutex_unlock(&p->run_mu);
    return first_rc;
}

void rt_pool_stop(rt_pool *p)
{
    if (p == NULL)
        return;
    /* A round in progress on another thread finishes first. */
    pthread_mutex_lock(&p->run_mu);
    pthread_mutex_unlock(&p->run_mu);
    pool_free(p, p->n, true);
}

/* ---- Clock -------------------------------------------------------------- */

uint64_t rt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
