/*
 * sched.c: cooperative schedulers.  A scheduler owns n worker threads; each
 * has a run queue of its own tasks that only it touches, and an inbox that
 * other threads put woken or spawned tasks into under a mutex held only to
 * move pointers.  A task's state word (IDLE, QUEUED, RUNNING, RUNNING +
 * NOTIFIED, DONE) decides who may queue it, so a wake is never lost and a
 * task is never queued twice.  A worker with nothing to run sleeps on a
 * futex; a waker makes the system call only when the worker sleeps.  Nothing
 * here spins: every wait is a futex or condition variable wait.  Tasks are
 * polled, never preempted; what a task does is its own business.  States,
 * diagram and invariants R18-R22 in runtime/README.md.
 */
#include "runtime.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Task states.  The low two bits are the state; NOTIFIED is set only on
 * RUNNING ("woken while being polled: poll again"). */
enum {
    T_IDLE = 0,     /* parked after RT_PENDING: only a waker queues it */
    T_QUEUED = 1,   /* on exactly one queue: a worker's run queue or inbox */
    T_RUNNING = 2,  /* being polled by its worker */
    T_DONE = 3,     /* returned RT_DONE: never polled again */
    T_STATE = 3,
    T_NOTIFIED = 4,
};

typedef struct sched_worker sched_worker;

struct rt_task {
    _Atomic uint32_t state;
    _Atomic uint32_t refs;   /* the worker's and the joiner's: the last one frees */
    _Atomic uint32_t done;   /* futex word: 1 once DONE, for rt_task_join */
    rt_poll_fn poll;
    void *arg;
    sched_worker *w;         /* the worker it is bound to */
    rt_task *next;           /* queue link; used only while QUEUED (R19) */
};

/* Aligned to a cache line so that workers do not share one. */
struct sched_worker {
    _Alignas(64) rt_sched *s;
    uint32_t index;
    pthread_t thread;
    bool started;

    /* The run queue: touched by this worker's thread only. */
    rt_task *head, *tail;

    /* The inbox, and the sleep handshake, under mu. */
    pthread_mutex_t mu;
    rt_task *in_head, *in_tail;
    bool sleeping;           /* about to sleep or asleep on wake_seq */
    bool exiting;
    _Atomic uint32_t in_hint;  /* nonzero when the inbox may hold tasks */
    _Atomic uint32_t wake_seq; /* futex word the worker sleeps on */

    /* Counters; written relaxed (wakes by any thread), read for stats. */
    _Atomic uint64_t polls, pending, wakes, sleeps;
};

struct rt_sched {
    uint32_t n;
    sched_worker *workers;
    _Atomic uint64_t live;    /* spawned and not DONE */
    _Atomic uint64_t waking;  /* wakers inside task_wake (R28) */
    _Atomic bool stopping;
    pthread_mutex_t stop_mu;  /* rt_sched_stop sleeps on stop_cv for live == 0 */
    pthread_cond_t stop_cv;
    char name[16];
};

static _Thread_local sched_worker *tl_worker;

/* ---- Futex ------------------------------------------------------------------ */

/* Sleeps while *word == val (returns at once otherwise, or spuriously). */
static void futex_wait(_Atomic uint32_t *word, uint32_t val)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* ---- Queues -------------------------------------------------------------------- */

static void local_push(sched_worker *w, rt_task *t)
{
    t->next = NULL;
    if (w->tail != NULL)
        w->tail->next = t;
    else
        w->head = t;
    w->tail = t;
}

/* Moves the inbox to the back of the run queue.  Worker thread only. */
static void drain_inbox(sched_worker *w)
{
    pthread_mutex_lock(&w->mu);
    if (w->in_head != NULL) {
        if (w->tail != NULL)
            w->tail->next = w->in_head;
        else
            w->head = w->in_head;
        w->tail = w->in_tail;
        w->in_head = w->in_tail = NULL;
    }
    /* Relaxed: a hint only; the inbox itself is read under mu. */
    atomic_store_explicit(&w->in_hint, 0, memory_order_relaxed);
    w->sleeping = false;
    pthread_mutex_unlock(&w->mu);
}

/* Wakes w if it sleeps: bumping wake_seq makes a futex_wait that has not
 * gone to sleep yet return at once (R21). */
static void kick(sched_worker *w)
{
    /* Relaxed: the word only has to differ from what the sleeper read; the
     * tasks themselves travel through the inbox under mu. */
    atomic_fetch_add_explicit(&w->wake_seq, 1, memory_order_relaxed);
    futex_wake(&w->wake_seq, 1);
}

/* Queues t, which the caller has just moved to QUEUED, on its worker. */
static void push(rt_task *t)
{
    sched_worker *w = t->w;
    if (tl_worker == w) {
        /* On the worker's own thread: it is awake, and the run queue is ours. */
        local_push(w, t);
        return;
    }
    t->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->in_tail != NULL)
        w->in_tail->next = t;
    else
        w->in_head = t;
    w->in_tail = t;
    atomic_store_explicit(&w->in_hint, 1, memory_order_relaxed);
    bool asleep = w->sleeping;
    w->sleeping = false;
    pthread_mutex_unlock(&w->mu);
    if (asleep)
        kick(w);
}

/* ---- Tasks ------------------------------------------------------------------------- */

static void task_unref(rt_task *t)
{
    /* acq_rel: the last owner sees everything the other one did. */
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        ivm_free(t);
}

/* The waker of every task (R18).  Every path is a read-modify-write of the
 * state, so a wake either happens before the worker's next QUEUED->RUNNING
 * exchange (which acquires it) or sees RUNNING and leaves NOTIFIED. */
/* R28: a waker may still be inside push (kicking the worker) when the task
 * it queued has already run to DONE, so rt_sched_stop also waits for the
 * wakers in flight before it frees the workers.  `waking` is raised before
 * the task can be queued and lowered after the last touch of the worker. */
static void wake_end(rt_sched *s)
{
    if (!atomic_load(&s->stopping)) {
        atomic_fetch_sub(&s->waking, 1);
        return;
    }
    pthread_mutex_lock(&s->stop_mu);
    atomic_fetch_sub(&s->waking, 1);
    pthread_cond_broadcast(&s->stop_cv);
    pthread_mutex_unlock(&s->stop_mu);
}

static void task_wake(void *arg)
{
    rt_task *t = arg;
    rt_sched *sched = t->w->s;
    atomic_fetch_add(&sched->waking, 1);
    uint32_t s = atomic_load_explicit(&t->state, memory_order_relaxed);
    for (;;) {
        uint32_t next;
        switch (s & T_STATE) {
        case T_IDLE:
            next = T_QUEUED;
            break;
        case T_QUEUED:
            next = s; /* already queued: polled once more anyway */
            break;
        case T_RUNNING:
            next = s | T_NOTIFIED;
            break;
        default:
            wake_end(sched);
            return; /* DONE */
        }
        if (atomic_compare_exchange_weak_explicit(&t->state, &s, next, memory_order_acq_rel,
                                                  memory_order_relaxed))
            break;
    }
    if ((s & T_STATE) == T_IDLE) {
        /* We won IDLE -> QUEUED: ours alone to queue (R19). */
        atomic_fetch_add_explicit(&t->w->wakes, 1, memory_order_relaxed);
        push(t);
    }
    wake_end(sched);
}

/* Polls t once on its worker w and files it by the result (R20). */
static void run_task(sched_worker *w, rt_task *t)
{
    /* acq_rel: acquires every wake that found the task queued. */
    atomic_exchange_explicit(&t->state, T_RUNNING, memory_order_acq_rel);
    atomic_fetch_add_explicit(&w->polls, 1, memory_order_relaxed);
    rt_poll r = t->poll(t->arg, t);
    if (r == RT_DONE) {
        /* Release: a waker that reads DONE returns without touching t. */
        atomic_store_explicit(&t->state, T_DONE, memory_order_release);
        rt_sched *s = w->s;
        /* seq_cst pairs with rt_sched_stop: either it sees live == 0 or we
         * see stopping and wake it. */
        if (atomic_fetch_sub(&s->live, 1) == 1 && atomic_load(&s->stopping)) {
            pthread_mutex_lock(&s->stop_mu);
            pthread_cond_broadcast(&s->stop_cv);
            pthread_mutex_unlock(&s->stop_mu);
        }
        /* release: the joiner sees everything the task did. */
        atomic_store_explicit(&t->done, 1, memory_order_release);
        futex_wake(&t->done, INT_MAX);
        task_unref(t);
        return;
    }
    if (r == RT_PENDING) {
        atomic_fetch_add_explicit(&w->pending, 1, memory_order_relaxed);
        uint32_t expect = T_RUNNING;
        if (atomic_compare_exchange_strong_explicit(&t->state, &expect, T_IDLE,
                                                    memory_order_acq_rel, memory_order_acquire))
            return; /* parked: the next wake queues it */
        /* NOTIFIED: a wake came during the poll; poll again (R20). */
    }
    /* An exchange, not a store: it reads a NOTIFIED left by a waker and so
     * acquires what that waker wrote before the next poll. */
    atomic_exchange_explicit(&t->state, T_QUEUED, memory_order_acq_rel);
    local_push(w, t);
}

static void *worker_main(void *arg)
{
    sched_worker *w = arg;
    tl_worker = w;
    char name[32]; /* the OS keeps the first 15 bytes */
    snprintf(name, sizeof name, "%s/%u", w->s->name, (unsigned)w->index);
    name[15] = '\0';
    (void)pthread_setname_np(pthread_self(), name);

    for (;;) {
        /* Relaxed: a stale hint only delays the inbox to the next round or
         * to the check under mu below.  Checked every round, so tasks woken
         * from outside get their turn among those that keep running. */
        if (atomic_load_explicit(&w->in_hint, memory_order_relaxed) != 0)
            drain_inbox(w);
        rt_task *t = w->head;
        if (t != NULL) {
            w->head = t->next;
            if (w->head == NULL)
                w->tail = NULL;
            run_task(w, t);
            continue;
        }
        pthread_mutex_lock(&w->mu);
        if (w->in_head != NULL) {
            pthread_mutex_unlock(&w->mu);
            drain_inbox(w);
            continue;
        }
        if (w->exiting) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        /* Keeps R21: sleeping is set and wake_seq read under mu, so a pusher
         * that queues after this sees sleeping and bumps wake_seq, which
         * makes the futex_wait below return. */
        w->sleeping = true;
        uint32_t seq = atomic_load_explicit(&w->wake_seq, memory_order_relaxed);
        pthread_mutex_unlock(&w->mu);
        atomic_fetch_add_explicit(&w->sleeps, 1, memory_order_relaxed);
        futex_wait(&w->wake_seq, seq);
    }
    return NULL;
}

/* ---- Schedulers ------------------------------------------------------------------- */

static void stop_workers(rt_sched *s, uint32_t started)
{
    for (uint32_t i = 0; i < started; i++) {
        sched_worker *w = &s->workers[i];
        pthread_mutex_lock(&w->mu);
        w->exiting = true;
        bool asleep = w->sleeping;
        w->sleeping = false;
        pthread_mutex_unlock(&w->mu);
        if (asleep)
            kick(w);
    }
    for (uint32_t i = 0; i < started; i++)
        pthread_join(s->workers[i].thread, NULL);
}

static void sched_free(rt_sched *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        pthread_mutex_destroy(&s->workers[i].mu);
    pthread_cond_destroy(&s->stop_cv);
    pthread_mutex_destroy(&s->stop_mu);
    ivm_free(s->workers);
    ivm_free(s);
}

ivm_rc rt_sched_start(uint32_t nworkers, const char *name, rt_sched **out)
{
    if (nworkers == 0)
        return IVM_INVALID;
    rt_sched *s = ivm_calloc(1, sizeof *s);
    if (s == NULL)
        return IVM_NOMEM;
    size_t bytes = (size_t)nworkers * sizeof(sched_worker);
    s->workers = aligned_alloc(64, bytes);
    if (s->workers == NULL) {
        ivm_free(s);
        return IVM_NOMEM;
    }
    memset(s->workers, 0, bytes);
    s->n = nworkers;
    /* Thread names show 15 bytes; keep room for "/<i>". */
    snprintf(s->name, sizeof s->name, "%.10s", name != NULL ? name : "ivm");
    pthread_mutex_init(&s->stop_mu, NULL);
    pthread_cond_init(&s->stop_cv, NULL);
    for (uint32_t i = 0; i < nworkers; i++) {
        sched_worker *w = &s->workers[i];
        w->s = s;
        w->index = i;
        pthread_mutex_init(&w->mu, NULL);
    }
    for (uint32_t i = 0; i < nworkers; i++) {
        int e = pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]);
        if (e != 0) {
            stop_workers(s, i);
            sched_free(s);
            return e == EAGAIN ? IVM_NOMEM : IVM_INTERNAL;
        }
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
    IVM_ASSERT(tl_worker == NULL || tl_worker->s != s);
    /* Keeps R22: every task spawned so far finishes first.  seq_cst with
     * the workers' decrement of live (run_task): either we see live == 0
     * below or the last worker sees stopping and wakes us. */
    atomic_store(&s->stopping, true);
    pthread_mutex_lock(&s->stop_mu);
    while (atomic_load(&s->live) > 0 || atomic_load(&s->waking) > 0)
        pthread_cond_wait(&s->stop_cv, &s->stop_mu);
    pthread_mutex_unlock(&s->stop_mu);
    stop_workers(s, s->n);
    sched_free(s);
}

ivm_rc rt_task_spawn(rt_sched *s, uint32_t worker, rt_poll_fn poll, void *arg, rt_task **out)
{
    if (worker >= s->n || poll == NULL)
        return IVM_INVALID;
    rt_task *t = ivm_malloc(sizeof *t);
    if (t == NULL)
        return IVM_NOMEM;
    atomic_init(&t->state, T_QUEUED);
    atomic_init(&t->refs, 2);
    atomic_init(&t->done, 0);
    t->poll = poll;
    t->arg = arg;
    t->w = &s->workers[worker];
    t->next = NULL;
    /* Counted before it can run, so rt_sched_stop waits for it. */
    atomic_fetch_add(&s->live, 1);
    *out = t;
    push(t);
    return IVM_OK;
}

rt_waker rt_task_waker(rt_task *t)
{
    rt_waker w = {task_wake, t};
    return w;
}

void rt_task_join(rt_task *t)
{
    if (t == NULL)
        return;
    /* A worker of the same scheduler would sleep with its tasks unpolled. */
    IVM_ASSERT(tl_worker == NULL || tl_worker->s != t->w->s);
    /* acquire pairs with the worker's release store of done. */
    while (atomic_load_explicit(&t->done, memory_order_acquire) == 0)
        futex_wait(&t->done, 0);
    task_unref(t);
}

uint32_t rt_sched_current_worker(void)
{
    return tl_worker != NULL ? tl_worker->index : UINT32_MAX;
}

void rt_sched_stats_get(const rt_sched *s, rt_sched_stats *out)
{
    rt_sched_stats st = {0};
    for (uint32_t i = 0; i < s->n; i++) {
        const sched_worker *w = &s->workers[i];
        st.polls += atomic_load_explicit(&w->polls, memory_order_relaxed);
        st.pending += atomic_load_explicit(&w->pending, memory_order_relaxed);
        st.wakes += atomic_load_explicit(&w->wakes, memory_order_relaxed);
        st.sleeps += atomic_load_explicit(&w->sleeps, memory_order_relaxed);
    }
    *out = st;
}

uint64_t rt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rt_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
