/*
 * merger.c: the merger, which runs the merge work of many spines: a run
 * queue of the spines that have work, taken one bounded slice at a time,
 * small jobs (at most a slice's entries) first within a budget and long
 * ones in turn (spine_slice, in spine.c, picks the spine's job of the class
 * asked for and runs or finishes its merge), with the bookkeeping that lets spine_free,
 * spine_compact and spine_wait_idle take a spine away from it or wait for
 * it.  A manual merger runs only when spine_merger_work or spine_wait_idle
 * drives it; the process-wide merger has its own thread, a process under
 * the runtime's root supervisor that naps briefly and then sleeps on a
 * condition variable when no spine has work.  Every piece of work (queue,
 * jobs) lives in the merger and spine objects, never in the thread, so a
 * restarted thread takes it up again.  It does not merge entries (batch.c)
 * or decide what to merge (spine.c).  README "Merger", "Locking" and
 * "Failures".
 */
#include "spine_int.h"

#include <errno.h>


/* When the queue empties, the thread naps before it sleeps: up to
 * NAP_ROUNDS timed waits of NAP_NS each (2 ms in all), during which
 * producers queue work without signalling it, and it finds that work when
 * the nap ends.  Under a steady stream of small commits work arrives every
 * few hundred microseconds, and each signal cost the committing thread a
 * futex wake (an inter-processor interrupt on a virtual machine, about 5
 * us); a nap costs the merger's thread a timer wake-up instead, and delays
 * a merge by at most NAP_NS.  After 2 ms without work it sleeps until
 * signalled: idle, it does not wake at all (README: waking the merger). */
#define NAP_NS 200000L
#define NAP_ROUNDS 10u

struct spine_merger {
    pthread_mutex_t mu;     /* guards everything below and every spine's
                               mstate, again, held and links */
    pthread_cond_t work;    /* the thread sleeps here while the queue is empty */
    pthread_cond_t idle;    /* waits for a spine to leave BUSY or QUEUED */
    spine *qhead, *qtail;   /* spines with work, in turn order */
    spine *all;             /* every registered spine */
    size_t nspines;
    bool threaded;

    /* The thread of a threaded merger: one run of the supervised process
     * "merger" (README: failures). */
    rt_proc *proc;
    bool run;               /* the thread should keep going */
    bool joinable;          /* a thread was started and not yet joined */
    pthread_t th;
    size_t slice;
    /* Entries of small jobs read since the last slice of a long one: while
     * below `slice`, small jobs go first; at or above it a long job (if
     * any) gets the next slice (README: the merger, fairness). */
    size_t small_run;
    /* The thread waits on `work` and no one has signalled it since it went
     * to sleep: the one signal that ends this sleep is owed by whoever
     * queues work next (README: the merger, waking it). */
    bool sleeping;
    spine_merger_stats stats;
};

/* ---- Queue (caller holds m->mu) ------------------------------------------------ */

/* Queues s at the tail.  Returns true if the caller must wake the thread
 * (signal `work`, best after unlocking): it sleeps and nobody has signalled
 * it yet.  A merger that is awake, napping or already signalled sees the
 * queue before it sleeps again (it checks it under the lock), so a push
 * then costs no system call; at most one signal per sleep (S20). */
static bool q_push_locked(spine_merger *m, spine *s, unsigned work)
{
    IVM_ASSERT(s->mstate == SPINE_M_IDLE && !s->held);
    /* A spine known to have work of no class (a hold's `again` from an
     * older path) is looked at as if it had both. */
    s->work = work != 0 ? work : SPINE_WORK_ANY;
    s->q_next = NULL;
    s->q_prev = m->qtail;
    if (m->qtail != NULL)
        m->qtail->q_next = s;
    else
        m->qhead = s;
    m->qtail = s;
    s->mstate = SPINE_M_QUEUED;
    if (!m->sleeping)
        return false;
    m->sleeping = false;
    m->stats.wakes++;
    return true;
}

/* For the rare paths (slice end from another thread, release): signalling
 * under the lock makes the woken thread wait for it once more, which only
 * matters where it happens per batch (notify). */
static void q_push_wake_locked(spine_merger *m, spine *s, unsigned work)
{
    if (q_push_locked(m, s, work))
        pthread_cond_signal(&m->work);
}

static void q_unlink_locked(spine_merger *m, spine *s)
{
    IVM_ASSERT(s->mstate == SPINE_M_QUEUED);
    if (s->q_prev != NULL)
        s->q_prev->q_next = s->q_next;
    else
        m->qhead = s->q_next;
    if (s->q_next != NULL)
        s->q_next->q_prev = s->q_prev;
    else
        m->qtail = s->q_prev;
    s->q_next = s->q_prev = NULL;
    s->mstate = SPINE_M_IDLE;
}

/* The first queued spine with work of class `work`, NULL if none.  A walk
 * of the queue, which holds the spines with work (a few dozen where many
 * views run): pointer steps under the merger's lock, once per slice. */
static spine *q_find_locked(spine_merger *m, unsigned work)
{
    for (spine *s = m->qhead; s != NULL; s = s->q_next)
        if (s->work & work)
            return s;
    return NULL;
}

/* Takes the spine whose turn it is and marks it BUSY: from here until
 * slice_end the calling thread owns its jobs.  Small jobs first, while
 * fewer than a slice's entries of them ran since the last long slice;
 * then the first spine with long work; else the head.  Within a class,
 * queue order: a spine goes to the tail after its slice.  *want_out: the
 * class the slice is for. */
static spine *q_take_locked(spine_merger *m, unsigned *want_out)
{
    spine *s = NULL;
    unsigned want = SPINE_WORK_SMALL;
    if (m->small_run < m->slice)
        s = q_find_locked(m, SPINE_WORK_SMALL);
    if (s == NULL) {
        s = q_find_locked(m, SPINE_WORK_LONG);
        want = SPINE_WORK_LONG;
    }
    if (s == NULL) {
        s = m->qhead; /* small work only: no long job to be fair to */
        want = SPINE_WORK_SMALL;
    }
    if (s == NULL)
        return NULL;
    q_unlink_locked(m, s);
    s->mstate = SPINE_M_BUSY;
    *want_out = want;
    return s;
}

/* After a slice of s: back to the end of the queue if it still has work
 * (so every spine with work gets a slice before any gets a second), else
 * idle; wakes whoever waits for the slice to end.  more is what the slice
 * saw under the spine's lock at its end; work that arrived since then
 * notified while s was BUSY and set `again` (keeps S12 without taking the
 * spine's lock here, under the merger's: an insert holding it would keep
 * the merger's lock held too, and the insert's own notify would wait). */
static void slice_end_locked(spine_merger *m, spine *s, unsigned more)
{
    IVM_ASSERT(s->mstate == SPINE_M_BUSY);
    s->mstate = SPINE_M_IDLE;
    if (!s->held) {
        more |= s->again;
        s->again = 0;
        if (more != 0)
            q_push_wake_locked(m, s, more);
    }
    pthread_cond_broadcast(&m->idle);
}

/* Runs one slice of the spine whose turn it is, in the calling thread;
 * returns entries read (at least 1 if a slice ran, so that callers counting
 * a budget always progress), 0 if the queue was empty.  Called and returns
 * with m->mu held, which it drops during the slice. */
static size_t run_one_locked(spine_merger *m, size_t budget, bool (*fault)(void),
                             bool *faulted_out)
{
    unsigned want;
    spine *s = q_take_locked(m, &want);
    if (s == NULL)
        return 0;
    pthread_mutex_unlock(&m->mu);
    size_t read = 0;
    unsigned more = 0;
    spine_slice_rc r = spine_slice(s, budget, want, fault, &read, &more);
    pthread_mutex_lock(&m->mu);
    m->stats.slices++;
    /* The small budget: small slices count against it, a long one renews
     * it.  A slice asked for small work that found only long work (the
     * spine's classes changed since it was queued) counts as long. */
    if (want == SPINE_WORK_LONG || read > m->slice) {
        m->small_run = 0;
        m->stats.long_slices++;
    } else {
        m->small_run += read;
    }
    slice_end_locked(m, s, more);
    if (r == SPINE_SLICE_FAULT && faulted_out != NULL)
        *faulted_out = true;
    return read > 0 ? read : 1;
}

/* ---- Spines come and go ---------------------------------------------------------- */

void spine_merger_register(spine_merger *m, spine *s)
{
    pthread_mutex_lock(&m->mu);
    s->m = m;
    s->mstate = SPINE_M_IDLE;
    s->r_prev = NULL;
    s->r_next = m->all;
    if (m->all != NULL)
        m->all->r_prev = s;
    m->all = s;
    m->nspines++;
    pthread_mutex_unlock(&m->mu);
}

/* Waits for a slice of s in progress to end and takes s out of the queue;
 * afterwards no thread of the merger touches s's jobs until released. */
static void hold_locked(spine_merger *m, spine *s)
{
    s->held = true;
    while (s->mstate == SPINE_M_BUSY)
        pthread_cond_wait(&m->idle, &m->mu);
    if (s->mstate == SPINE_M_QUEUED) {
        q_unlink_locked(m, s);
        s->again |= s->work; /* it had work: look again at release */
        pthread_cond_broadcast(&m->idle);
    }
}

void spine_merger_unregister(spine_merger *m, spine *s)
{
    pthread_mutex_lock(&m->mu);
    hold_locked(m, s);
    if (s->r_prev != NULL)
        s->r_prev->r_next = s->r_next;
    else
        m->all = s->r_next;
    if (s->r_next != NULL)
        s->r_next->r_prev = s->r_prev;
    m->nspines--;
    pthread_mutex_unlock(&m->mu);
}

void spine_merger_hold(spine_merger *m, spine *s)
{
    pthread_mutex_lock(&m->mu);
    hold_locked(m, s);
    pthread_mutex_unlock(&m->mu);
}

void spine_merger_release(spine_merger *m, spine *s)
{
    pthread_mutex_lock(&m->mu);
    IVM_ASSERT(s->held && s->mstate == SPINE_M_IDLE);
    s->held = false;
    unsigned more = s->again | spine_has_work(s);
    s->again = 0;
    if (more != 0)
        q_push_wake_locked(m, s, more);
    pthread_mutex_unlock(&m->mu);
}

void spine_merger_notify(spine_merger *m, spine *s, unsigned work)
{
    bool wake = false;
    pthread_mutex_lock(&m->mu);
    m->stats.notifies++;
    if (s->held || s->mstate == SPINE_M_BUSY)
        s->again |= work; /* seen when the slice ends or the hold is released */
    else if (s->mstate == SPINE_M_IDLE)
        wake = q_push_locked(m, s, work);
    else
        s->work |= work; /* queued: now also found for this class */
    pthread_mutex_unlock(&m->mu);
    /* After unlocking: signalled under the lock, the woken thread would
     * first block on it, and the unlock here would have to wake it a
     * second time.  The condition variable lives as long as the process
     * (only a threaded merger has a sleeping thread, and it is never
     * freed), and the thread cannot miss the signal: it was recorded as
     * sleeping under the lock, inside pthread_cond_wait. */
    if (wake)
        pthread_cond_signal(&m->work);
}

void spine_merger_stats_get(spine_merger *m, spine_merger_stats *out)
{
    pthread_mutex_lock(&m->mu);
    *out = m->stats;
    out->asleep = m->sleeping;
    pthread_mutex_unlock(&m->mu);
}

bool spine_merger_tracks(spine_merger *m, spine *s)
{
    pthread_mutex_lock(&m->mu);
    /* Queued, its classes include every class of work it has (the merger
     * finds it for each), or it is BUSY or held with the rest noted. */
    bool ok = s->m == m;
    if (ok && s->mstate == SPINE_M_IDLE && s->again == 0 && !s->held)
        ok = spine_has_work(s) == 0;
    else if (ok && s->mstate == SPINE_M_QUEUED)
        ok = (spine_has_work(s) & ~s->work) == 0;
    pthread_mutex_unlock(&m->mu);
    return ok;
}

/* ---- Driving a merger ------------------------------------------------------------------ */

static ivm_rc merger_new(bool threaded, spine_merger **out)
{
    spine_merger *m = ivm_calloc(1, sizeof *m);
    if (m == NULL)
        return IVM_NOMEM;
    if (pthread_mutex_init(&m->mu, NULL) != 0)
        goto fail_mu;
    pthread_condattr_t ca; /* naps time out on the monotonic clock */
    if (pthread_condattr_init(&ca) != 0)
        goto fail_work;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int e = pthread_cond_init(&m->work, &ca);
    pthread_condattr_destroy(&ca);
    if (e != 0)
        goto fail_work;
    if (pthread_cond_init(&m->idle, NULL) != 0)
        goto fail_idle;
    m->threaded = threaded;
    m->slice = SPINE_SLICE;
    *out = m;
    return IVM_OK;
fail_idle:
    pthread_cond_destroy(&m->work);
fail_work:
    pthread_mutex_destroy(&m->mu);
fail_mu:
    ivm_free(m);
    return IVM_NOMEM;
}

ivm_rc spine_merger_new_manual(spine_merger **out)
{
    return merger_new(false, out);
}

void spine_merger_free(spine_merger *m)
{
    if (m == NULL || m->threaded)
        return; /* the process-wide merger lives as long as the process */
    IVM_ASSERT(m->nspines == 0 && m->qhead == NULL);
    pthread_cond_destroy(&m->idle);
    pthread_cond_destroy(&m->work);
    pthread_mutex_destroy(&m->mu);
    ivm_free(m);
}

bool spine_merger_work(spine_merger *m, size_t budget)
{
    size_t done = 0;
    pthread_mutex_lock(&m->mu);
    while (done < budget) {
        size_t r = run_one_locked(m, budget - done, NULL, NULL);
        if (r == 0)
            break;
        done += r;
    }
    bool more = m->qhead != NULL;
    pthread_mutex_unlock(&m->mu);
    return more;
}

void spine_wait_idle(spine *s)
{
    spine_merger *m = s->m;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        if (s->mstate == SPINE_M_IDLE)
            break;
        if (m->threaded || s->mstate == SPINE_M_BUSY) {
            pthread_cond_wait(&m->idle, &m->mu);
            continue;
        }
        /* A manual merger has no thread: run s's slices here. */
        q_unlink_locked(m, s);
        s->mstate = SPINE_M_BUSY;
        pthread_mutex_unlock(&m->mu);
        size_t read;
        unsigned more = 0;
        spine_slice(s, SIZE_MAX, SPINE_WORK_SMALL, NULL, &read, &more);
        pthread_mutex_lock(&m->mu);
        m->stats.slices++;
        slice_end_locked(m, s, more);
    }
    pthread_mutex_unlock(&m->mu);
}

bool spine_merger_down(spine_merger *m)
{
    pthread_mutex_lock(&m->mu);
    bool down = m->threaded && !m->run;
    pthread_mutex_unlock(&m->mu);
    return down;
}

/* ---- The process-wide merger and its thread ----------------------------------------- */

/* Called before every merge the thread starts: IVM_FAULT=merger:fail@N
 * fails the Nth. */
static bool merger_fault(void)
{
    return rt_fault("merger", "fail");
}

/* After an injected fault: drops every merge in progress, as if the
 * thread's memory were lost.  Their inputs stay on their levels (no data
 * lost) and their spines stay queued (they still have work), so the next
 * run starts those merges again.  A spine that is BUSY (a slice of
 * spine_merger_work or spine_wait_idle in another thread) or held keeps
 * its jobs: they belong to that thread (S14).  With m->mu held, no other
 * thread can make any other spine BUSY or held meanwhile. */
static void drop_all_jobs_locked(spine_merger *m)
{
    for (spine *s = m->all; s != NULL; s = s->r_next)
        if (s->mstate != SPINE_M_BUSY && !s->held)
            spine_jobs_drop(s);
}

static void *merger_main(void *arg)
{
    spine_merger *m = arg;
    bool faulted = false;
    unsigned naps = NAP_ROUNDS; /* since the last slice; a new run sleeps at once */
    pthread_mutex_lock(&m->mu);
    while (m->run && !faulted) {
        if (m->qhead == NULL && naps < NAP_ROUNDS) {
            /* Recently busy: a timed wait that no producer signals (the
             * flag stays clear); a stop still ends it (broadcast). */
            struct timespec dl;
            clock_gettime(CLOCK_MONOTONIC, &dl);
            dl.tv_nsec += NAP_NS;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            naps++;
            m->stats.naps++;
            pthread_cond_timedwait(&m->work, &m->mu, &dl);
            continue;
        }
        if (m->qhead == NULL) {
            /* Nothing to do: sleep until a spine has work or stop.  The
             * flag tells producers that a signal is owed (S20); whoever
             * signals clears it, and so does this thread on a spurious
             * wake-up, since it looks at the queue before sleeping again. */
            m->sleeping = true;
            m->stats.sleeps++;
            pthread_cond_wait(&m->work, &m->mu);
            m->sleeping = false;
            continue;
        }
        naps = 0;
        run_one_locked(m, m->slice, merger_fault, &faulted);
    }
    if (faulted)
        drop_all_jobs_locked(m);
    m->run = false;
    /* S16: owners waiting on backpressure would wait for a thread that is
     * gone; wake them, so they see the merger down and merge themselves
     * until it is back.  Lock order: merger, then spine. */
    for (spine *s = m->all; s != NULL; s = s->r_next) {
        pthread_mutex_lock(&s->mu);
        rt_waker w = s->waker;
        s->waker = (rt_waker){NULL, NULL};
        rt_waker_wake(&w); /* under the lock: S11 */
        pthread_mutex_unlock(&s->mu);
    }
    rt_proc *p = m->proc;
    pthread_mutex_unlock(&m->mu);
    /* The last thing this run does; the supervisor restarts a failed run
     * on its own thread, and start joins this one. */
    if (faulted)
        rt_proc_exit(p, RT_EXIT_FAILED, "injected fault");
    else
        rt_proc_exit(p, RT_EXIT_SHUTDOWN, NULL);
    return NULL;
}

/* Child spec start: launches a run's thread, which takes up the work
 * queued in m (the registry and every job live in m and the spines). */
static ivm_rc merger_start(rt_proc *p, void *arg)
{
    spine_merger *m = arg;
    pthread_mutex_lock(&m->mu);
    bool joinable = m->joinable;
    pthread_t old = m->th;
    m->joinable = false;
    pthread_mutex_unlock(&m->mu);
    if (joinable)
        pthread_join(old, NULL); /* the last run reported its exit: it is leaving */
    pthread_mutex_lock(&m->mu);
    m->proc = p;
    m->run = true;
    int e = pthread_create(&m->th, NULL, merger_main, m);
    m->joinable = e == 0;
    if (e != 0)
        m->run = false;
    pthread_mutex_unlock(&m->mu);
    if (e != 0)
        return e == EAGAIN ? IVM_NOMEM : IVM_INTERNAL;
    pthread_setname_np(m->th, "ivm-merger");
    return IVM_OK;
}

/* Child spec stop: asks the thread to end after its current slice; it
 * reports the exit itself.  Harmless if the run already ended. */
static void merger_stop(rt_proc *p, void *arg)
{
    spine_merger *m = arg;
    pthread_mutex_lock(&m->mu);
    m->run = false;
    pthread_cond_broadcast(&m->work);
    pthread_mutex_unlock(&m->mu);
}

static spine_merger *global_merger;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    spine_merger *m;
    if (merger_new(true, &m) != IVM_OK)
        return;
    rt_child_spec spec = {
        .name = "merger",
        .start = merger_start,
        .stop = merger_stop,
        .arg = m,
        .restart = RT_PERMANENT,
    };
    if (rt_sup_add(rt_root(), &spec, NULL) != IVM_OK) {
        m->threaded = false;
        spine_merger_free(m);
        return; /* leaves global_merger NULL: spine_new fails */
    }
    global_merger = m;
}

spine_merger *spine_merger_global(void)
{
    pthread_once(&global_once, global_init);
    return global_merger;
}
