/*
 * sup.c: processes and supervisors.  One supervision thread per OS process,
 * started on first use, owns the whole supervision tree: it alone changes a
 * supervisor's children, their states and their counters, and it alone
 * calls the children's start and stop functions.  Other threads talk to it
 * through one queue: rt_proc_exit puts the exit record embedded in the
 * process on it (no allocation, never handled on the reporting thread), and
 * rt_sup_add / rt_sup_remove / rt_sup_new / rt_sup_free put a command that
 * lives on the caller's stack and sleep until the thread has carried it out.
 * The thread never blocks on a child: a strategy that must stop children
 * first marks them, asks them to stop and goes on; the restarts happen when
 * the last of their exits has been handled.  What a process does between
 * start and exit is not known here.  Design, states and invariants R11-R16 in
 * runtime/README.md.
 */
#include "runtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

enum { WHY_MAX = 80, MAX_INTENSITY = 1000000 };

typedef enum msg_kind { MSG_EXIT, MSG_ADD, MSG_REMOVE } msg_kind;

/* An entry of the supervision queue. */
typedef struct msg {
    msg_kind kind;
    bool queued;
    rt_proc *proc;      /* EXIT: who exited; ADD: the new child; REMOVE: the child */
    struct msg *next;
} msg;

/* A request from another thread; lives on the caller's stack until done. */
typedef struct cmd {
    msg m;
    rt_sup *sup;        /* ADD: the parent */
    ivm_rc rc;
    bool done;          /* under G.mu; the caller sleeps on G.change for it */
} cmd;

/* What a supervisor is doing.  RUNNING: supervising; GIVING_UP and STOPPING:
 * waiting for its children to exit before it exits itself (as failed, or as
 * shut down on its parent's request); DOWN: exited, until its parent starts
 * it again. */
typedef enum sup_phase { SUP_RUNNING, SUP_GIVING_UP, SUP_STOPPING, SUP_DOWN } sup_phase;

struct rt_proc {
    char *name;               /* owned; spec.name points here */
    char path[64];            /* "root/engine/merger", truncated */
    rt_child_spec spec;
    rt_sup *parent;           /* NULL for the root's own process only */
    rt_sup *sup;              /* non-NULL when this process is a supervisor */
    _Atomic uint64_t id;      /* the current run's id */

    /* Everything below is guarded by G.mu and written only on the
     * supervision thread, except the exit record (rt_proc_exit). */
    rt_proc_state state;
    uint32_t starts, restarts, failures;
    char last_exit[96];
    bool ever_started;
    bool restart_pending;     /* down, to be started again once no sibling is stopping */
    bool final;               /* down and nothing will start it again */
    bool removing;            /* rt_sup_remove: freed once down */
    cmd *remove_cmd;

    /* The exit record of the current run (R12: at most one per start). */
    bool reported;
    rt_exit_kind exit_kind;
    char exit_why[WHY_MAX];
    msg exit_msg;
};

struct rt_sup {
    rt_proc *self;
    rt_strategy strategy;
    uint32_t max_restarts, period_ms;
    _Atomic bool alive;
    sup_phase phase;          /* under G.mu */
    rt_proc **kids;           /* in start order */
    size_t nkids, capkids;
    uint64_t *hist;           /* ring of the last max_restarts + 1 restart times, ms */
    uint32_t hist_n, hist_next;
    char why[WHY_MAX];        /* the reason it gave up */
};

static struct {
    pthread_mutex_t mu;       /* guards the tree and the queue */
    pthread_cond_t work;      /* the supervision thread sleeps here */
    pthread_cond_t change;    /* callers: commands done, counters changed */
    msg *head, *tail;
    bool busy;                /* the supervision thread is handling an entry */
    uint64_t handled;         /* entries handled so far */
    pthread_t thread;
    rt_sup *root;
    ivm_rc init_rc;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t next_id = 1;
static _Thread_local bool on_sup_thread;

static void start_child_locked(rt_proc *p);
static void sup_stop_locked(rt_sup *s, sup_phase phase);
static void sup_progress_locked(rt_sup *s);

/* ---- Queue ---------------------------------------------------------------- */

static void enqueue_locked(msg *m)
{
    IVM_ASSERT(!m->queued);
    m->queued = true;
    m->next = NULL;
    if (G.tail != NULL)
        G.tail->next = m;
    else
        G.head = m;
    G.tail = m;
    pthread_cond_signal(&G.work);
}

static void unqueue_locked(msg *m)
{
    if (!m->queued)
        return;
    msg *prev = NULL;
    for (msg *q = G.head; q != NULL; prev = q, q = q->next) {
        if (q != m)
            continue;
        if (prev != NULL)
            prev->next = q->next;
        else
            G.head = q->next;
        if (G.tail == q)
            G.tail = prev;
        break;
    }
    m->queued = false;
}

/* ---- Processes ------------------------------------------------------------- */

static const char *kind_str(rt_exit_kind k)
{
    switch (k) {
    case RT_EXIT_NORMAL:
        return "normal";
    case RT_EXIT_FAILED:
        return "failed";
    case RT_EXIT_SHUTDOWN:
        return "shutdown";
    }
    return "?";
}

static rt_proc *proc_new(const char *name, const char *parent_path)
{
    rt_proc *p = ivm_calloc(1, sizeof *p);
    char *n = ivm_strndup(name, strlen(name));
    if (p == NULL || n == NULL) {
        ivm_free(p);
        ivm_free(n);
        return NULL;
    }
    p->name = n;
    if (parent_path != NULL)
        snprintf(p->path, sizeof p->path, "%s/%s", parent_path, name);
    else
        snprintf(p->path, sizeof p->path, "%s", name);
    p->state = RT_PROC_EXITED;
    p->reported = true; /* nothing to report before the first start */
    p->exit_msg.kind = MSG_EXIT;
    p->exit_msg.proc = p;
    atomic_init(&p->id, 0);
    return p;
}

static void sup_free_mem(rt_sup *s)
{
    if (s == NULL)
        return;
    ivm_free(s->kids);
    ivm_free(s->hist);
    ivm_free(s);
}

/* Frees p and, for a supervisor, everything under it.  All of it is down and
 * none of it is on the queue. */
static void proc_free_locked(rt_proc *p)
{
    IVM_ASSERT(!p->exit_msg.queued);
    if (p->sup != NULL) {
        for (size_t i = 0; i < p->sup->nkids; i++)
            proc_free_locked(p->sup->kids[i]);
        sup_free_mem(p->sup);
    }
    if (p->remove_cmd != NULL) {
        p->remove_cmd->rc = IVM_OK;
        p->remove_cmd->done = true;
    }
    ivm_free(p->name);
    ivm_free(p);
}

/* Records the end of p's current run and queues it for the supervision
 * thread.  Keeps R12: one record per start. */
static void record_exit_locked(rt_proc *p, rt_exit_kind kind, const char *why)
{
    p->reported = true;
    p->exit_kind = kind;
    snprintf(p->exit_why, sizeof p->exit_why, "%s", why != NULL ? why : "");
    enqueue_locked(&p->exit_msg);
}

/* Calls p's start with G.mu released (start may report its exit, log, use
 * the dataspace or add children of its own).  A supervisor's start is ours. */
static ivm_rc sup_start_locked(rt_sup *s);
static ivm_rc call_start_locked(rt_proc *p)
{
    if (p->sup != NULL)
        return sup_start_locked(p->sup);
    pthread_mutex_unlock(&G.mu);
    ivm_rc rc = p->spec.start(p, p->spec.arg);
    pthread_mutex_lock(&G.mu);
    return rc;
}

/* Starts one run of p: a new id, then start.  Counts and logs it.  A start
 * that fails is a failed run: its exit is recorded here, unless first is set
 * (rt_sup_add), whose caller takes p back instead.  Returns start's result. */
static ivm_rc start_run_locked(rt_proc *p, bool first)
{
    /* Relaxed: readers of the id on other threads learn about the new run
     * through G.mu or through whatever start hands them; p itself reads it
     * after we released and retook G.mu around start. */
    atomic_store_explicit(&p->id, atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed),
                          memory_order_relaxed);
    p->state = RT_PROC_STARTING;
    p->reported = false;
    p->final = false;
    p->restart_pending = false;
    ivm_rc rc = call_start_locked(p);
    bool again = p->ever_started;
    p->ever_started = true;
    p->starts++;
    if (again)
        p->restarts++;
    if (rc != IVM_OK) {
        rt_log("start-failed %s: %s", p->path, ivm_rc_str(rc));
        if (!first && !p->reported) {
            char why[WHY_MAX];
            snprintf(why, sizeof why, "start failed: %s", ivm_rc_str(rc));
            record_exit_locked(p, RT_EXIT_FAILED, why);
        }
        /* Down once its exit record has been handled. */
        p->state = RT_PROC_RUNNING;
        return rc;
    }
    rt_log("%s %s", again ? "restart" : "start", p->path);
    if (p->state == RT_PROC_STARTING)
        p->state = RT_PROC_RUNNING;
    return IVM_OK;
}

static void start_child_locked(rt_proc *p)
{
    (void)start_run_locked(p, false);
}

/* Asks a running child to stop.  Its exit comes back through the queue. */
static void stop_child_locked(rt_proc *p)
{
    IVM_ASSERT(p->state == RT_PROC_RUNNING);
    p->state = RT_PROC_STOPPING;
    rt_log("stop %s", p->path);
    if (p->reported)
        return; /* it has already ended; its exit record is on the queue */
    if (p->sup != NULL) {
        sup_stop_locked(p->sup, SUP_STOPPING);
        return;
    }
    if (p->spec.stop != NULL) {
        pthread_mutex_unlock(&G.mu);
        p->spec.stop(p, p->spec.arg);
        pthread_mutex_lock(&G.mu);
    }
}

static bool is_down(const rt_proc *p)
{
    return p->state == RT_PROC_EXITED || p->state == RT_PROC_FAILED;
}

/* ---- Supervisors ------------------------------------------------------------ */

/* Counts one restart; false when it is one too many (R14): the last
 * max_restarts + 1 restarts, this one included, all fell within period_ms. */
static bool intensity_ok_locked(rt_sup *s)
{
    uint64_t now = rt_now_ns() / 1000000u;
    uint32_t cap = s->max_restarts + 1;
    s->hist[s->hist_next] = now;
    s->hist_next = (s->hist_next + 1) % cap;
    if (s->hist_n < cap)
        s->hist_n++;
    if (s->hist_n < cap)
        return true;
    uint64_t oldest = s->hist[s->hist_next]; /* the slot written next is the oldest */
    return now - oldest >= s->period_ms;
}

static void give_up_locked(rt_sup *s)
{
    /* Relaxed: alive is a hint for rt_sup_alive; the tree is under G.mu. */
    atomic_store_explicit(&s->alive, false, memory_order_relaxed);
    snprintf(s->why, sizeof s->why, "more than %u restarts in %u ms", s->max_restarts,
             s->period_ms);
    rt_log("give-up %s: %s", s->self->path, s->why);
    sup_stop_locked(s, SUP_GIVING_UP);
}

/* Stops every running child, last started first, and forgets pending
 * restarts; the supervisor exits once all are down (sup_progress_locked). */
static void sup_stop_locked(rt_sup *s, sup_phase phase)
{
    s->phase = phase;
    for (size_t i = s->nkids; i-- > 0;) {
        rt_proc *d = s->kids[i];
        d->restart_pending = false;
        if (d->state == RT_PROC_RUNNING)
            stop_child_locked(d);
    }
    sup_progress_locked(s);
}

/* A supervisor's start: (re)starts its children in order, with a fresh
 * restart history.  Temporary children that have run once stay down. */
static ivm_rc sup_start_locked(rt_sup *s)
{
    s->phase = SUP_RUNNING;
    atomic_store_explicit(&s->alive, true, memory_order_relaxed);
    s->hist_n = s->hist_next = 0;
    s->why[0] = '\0';
    for (size_t i = 0; i < s->nkids; i++) {
        rt_proc *d = s->kids[i];
        if (d->removing || !is_down(d) || (d->spec.restart == RT_TEMPORARY && d->ever_started))
            continue;
        start_child_locked(d);
    }
    return IVM_OK;
}

/* A child that stops with the failed one, per strategy: stopped now, started
 * again with the others unless it is temporary. */
static void join_restart_locked(rt_proc *d)
{
    if (d->removing)
        return;
    if (d->state == RT_PROC_RUNNING) {
        d->restart_pending = d->spec.restart != RT_TEMPORARY;
        stop_child_locked(d);
    } else if (d->state == RT_PROC_STOPPING) {
        d->restart_pending = d->spec.restart != RT_TEMPORARY;
    }
}

/* p ended on its own while its supervisor was running: apply the restart
 * policy, the intensity limit and the strategy (R14, R15). */
static void on_unexpected_exit_locked(rt_sup *s, rt_proc *p, rt_exit_kind kind)
{
    bool restart = p->spec.restart == RT_PERMANENT ||
                   (p->spec.restart == RT_TRANSIENT && kind == RT_EXIT_FAILED);
    if (!restart)
        return;
    if (!intensity_ok_locked(s)) {
        give_up_locked(s);
        return;
    }
    p->restart_pending = true;
    if (s->strategy == RT_ONE_FOR_ONE)
        return;
    size_t at = 0;
    while (at < s->nkids && s->kids[at] != p)
        at++;
    size_t from = s->strategy == RT_ONE_FOR_ALL ? 0 : at + 1;
    for (size_t i = s->nkids; i-- > from;)
        if (s->kids[i] != p)
            join_restart_locked(s->kids[i]);
}

/* Moves s on after a change: frees removed children that are down, then
 * either starts the children waiting for a restart (once no sibling is still
 * stopping, R15) or, when s is shutting down and all children are down,
 * reports s's own exit to its parent. */
static void sup_progress_locked(rt_sup *s)
{
    for (size_t i = 0; i < s->nkids;) {
        rt_proc *d = s->kids[i];
        if (d->removing && is_down(d) && !d->exit_msg.queued) {
            rt_log("remove %s", d->path);
            memmove(&s->kids[i], &s->kids[i + 1], (s->nkids - i - 1) * sizeof s->kids[0]);
            s->nkids--;
            proc_free_locked(d);
            continue;
        }
        i++;
    }
    for (size_t i = 0; i < s->nkids; i++) {
        const rt_proc *d = s->kids[i];
        if (d->state == RT_PROC_STARTING || d->state == RT_PROC_STOPPING)
            return; /* its exit is still to come */
        if (s->phase != SUP_RUNNING && !is_down(d))
            return;
    }
    switch (s->phase) {
    case SUP_RUNNING:
        for (size_t i = 0; i < s->nkids; i++)
            if (s->kids[i]->restart_pending)
                start_child_locked(s->kids[i]);
        break;
    case SUP_GIVING_UP:
    case SUP_STOPPING: {
        bool failed = s->phase == SUP_GIVING_UP;
        s->phase = SUP_DOWN;
        for (size_t i = 0; i < s->nkids; i++)
            s->kids[i]->final = true;
        if (s->self->parent == NULL) {
            /* The root has no one to report to: it stays failed (R14). */
            s->self->state = RT_PROC_FAILED;
            snprintf(s->self->last_exit, sizeof s->self->last_exit, "failed: %s", s->why);
            rt_log("failed %s: %s; stays failed", s->self->path, s->why);
        } else if (!s->self->reported) {
            record_exit_locked(s->self, failed ? RT_EXIT_FAILED : RT_EXIT_SHUTDOWN,
                               failed ? s->why : NULL);
        }
        break;
    }
    case SUP_DOWN:
        break;
    }
}

/* ---- The supervision thread -------------------------------------------------- */

static void handle_exit_locked(rt_proc *p)
{
    rt_exit_kind kind = p->exit_kind;
    /* Relaxed: only this thread writes the id. */
    uint64_t old = atomic_load_explicit(&p->id, memory_order_relaxed);
    /* Keeps R11: the dead run's assertions go before anything restarts.  The
     * dataspace has its own locks and calls wakers: not under G.mu. */
    pthread_mutex_unlock(&G.mu);
    rt_ds_retract_owner(old);
    pthread_mutex_lock(&G.mu);

    if (p->exit_why[0] != '\0')
        snprintf(p->last_exit, sizeof p->last_exit, "%s: %s", kind_str(kind), p->exit_why);
    else
        snprintf(p->last_exit, sizeof p->last_exit, "%s", kind_str(kind));
    if (kind == RT_EXIT_FAILED)
        p->failures++;
    rt_log("exit %s %s", p->path, p->last_exit);

    rt_sup *s = p->parent;
    bool expected = p->state == RT_PROC_STOPPING || p->removing || s->phase != SUP_RUNNING;
    p->state = kind == RT_EXIT_FAILED ? RT_PROC_FAILED : RT_PROC_EXITED;
    if (!expected)
        on_unexpected_exit_locked(s, p, kind);
    p->final = !p->restart_pending && !p->removing;
    sup_progress_locked(s);
}

static void handle_add_locked(cmd *c)
{
    rt_sup *s = c->sup;
    rt_proc *p = c->m.proc;
    c->rc = IVM_OK;
    if (s->phase != SUP_RUNNING)
        c->rc = IVM_BUSY;
    else
        c->rc = ivm_grow((void **)&s->kids, &s->capkids, s->nkids + 1, sizeof s->kids[0]);
    if (c->rc == IVM_OK) {
        s->kids[s->nkids++] = p;
        p->parent = s;
        c->rc = start_run_locked(p, true);
        if (c->rc != IVM_OK) {
            /* rt_sup_add fails and keeps nothing (R16). */
            unqueue_locked(&p->exit_msg);
            for (size_t i = 0; i < s->nkids; i++) {
                if (s->kids[i] == p) {
                    memmove(&s->kids[i], &s->kids[i + 1],
                            (s->nkids - i - 1) * sizeof s->kids[0]);
                    s->nkids--;
                    break;
                }
            }
        }
    }
    if (c->rc != IVM_OK) {
        p->state = RT_PROC_EXITED;
        proc_free_locked(p);
        c->m.proc = NULL;
    }
    c->done = true;
}

static void handle_remove_locked(cmd *c)
{
    rt_proc *p = c->m.proc;
    rt_sup *s = p->parent;
    p->removing = true;
    p->restart_pending = false;
    p->remove_cmd = c;
    if (p->state == RT_PROC_RUNNING)
        stop_child_locked(p);
    /* Frees p and completes c at once if it is down already, otherwise
     * when its exit has been handled. */
    sup_progress_locked(s);
}

static void handle_locked(msg *m)
{
    switch (m->kind) {
    case MSG_EXIT:
        handle_exit_locked(m->proc);
        break;
    case MSG_ADD:
        handle_add_locked((cmd *)m);
        break;
    case MSG_REMOVE:
        handle_remove_locked((cmd *)m);
        break;
    }
}

/* Keeps R13: the only thread that changes the tree. */
static void *sup_main(void *unused)
{
    (void)pthread_setname_np(pthread_self(), "ivm-sup");
    on_sup_thread = true;
    pthread_mutex_lock(&G.mu);
    for (;;) {
        while (G.head == NULL)
            pthread_cond_wait(&G.work, &G.mu);
        msg *m = G.head;
        G.head = m->next;
        if (G.head == NULL)
            G.tail = NULL;
        m->next = NULL;
        m->queued = false;
        G.busy = true;
        handle_locked(m);
        G.busy = false;
        G.handled++;
        /* Waiters check their own predicates (commands done, counters). */
        pthread_cond_broadcast(&G.change);
    }
    return NULL; /* not reached: the thread lives as long as the OS process */
}

/* ---- Set-up ---------------------------------------------------------------- */

static ivm_rc sup_alloc(const char *name, const char *parent_path, rt_strategy strategy,
                        uint32_t max_restarts, uint32_t period_ms, rt_sup **out)
{
    rt_sup *s = ivm_calloc(1, sizeof *s);
    if (s == NULL)
        return IVM_NOMEM;
    s->hist = ivm_calloc((size_t)max_restarts + 1, sizeof s->hist[0]);
    s->self = proc_new(name, parent_path);
    if (s->hist == NULL || s->self == NULL) {
        if (s->self != NULL) {
            ivm_free(s->self->name);
            ivm_free(s->self);
        }
        sup_free_mem(s);
        return IVM_NOMEM;
    }
    s->strategy = strategy;
    s->max_restarts = max_restarts;
    s->period_ms = period_ms;
    s->phase = SUP_DOWN;
    atomic_init(&s->alive, false);
    s->self->sup = s;
    s->self->spec.name = s->self->name;
    s->self->spec.restart = RT_PERMANENT;
    *out = s;
    return IVM_OK;
}

static void init_once(void)
{
    pthread_condattr_t ca;
    G.init_rc = IVM_INTERNAL;
    if (pthread_condattr_init(&ca) != 0)
        return;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int e = pthread_cond_init(&G.work, NULL);
    if (e == 0)
        e = pthread_cond_init(&G.change, &ca);
    pthread_condattr_destroy(&ca);
    if (e != 0)
        return;
    rt_sup *root;
    G.init_rc = sup_alloc("root", NULL, RT_ONE_FOR_ONE, 10, 10000, &root);
    if (G.init_rc != IVM_OK)
        return;
    /* The root is running from the start; it has no parent to start it. */
    root->phase = SUP_RUNNING;
    atomic_store_explicit(&root->alive, true, memory_order_relaxed);
    root->self->state = RT_PROC_RUNNING;
    root->self->starts = 1;
    root->self->ever_started = true;
    root->self->reported = false;
    atomic_store_explicit(&root->self->id, atomic_fetch_add(&next_id, 1), memory_order_relaxed);
    e = pthread_create(&G.thread, NULL, sup_main, NULL);
    if (e != 0) {
        G.init_rc = e == EAGAIN ? IVM_NOMEM : IVM_INTERNAL;
        ivm_free(root->self->name);
        ivm_free(root->self);
        sup_free_mem(root);
        return;
    }
    G.root = root;
    G.init_rc = IVM_OK;
}

/* The runtime's supervision state, set up on first use; NULL if that failed. */
static rt_sup *root_get(ivm_rc *rc_out)
{
    pthread_once(&g_once, init_once);
    if (rc_out != NULL)
        *rc_out = G.init_rc;
    return G.root;
}

/* Runs c on the supervision thread and waits for it.  On that thread itself
 * (a start or stop function calling in) it runs right here. */
static ivm_rc submit_and_wait(cmd *c)
{
    pthread_mutex_lock(&G.mu);
    if (on_sup_thread) {
        handle_locked(&c->m);
        pthread_cond_broadcast(&G.change);
    } else {
        enqueue_locked(&c->m);
        while (!c->done)
            pthread_cond_wait(&G.change, &G.mu);
    }
    ivm_rc rc = c->rc;
    pthread_mutex_unlock(&G.mu);
    return rc;
}

/* ---- Public API --------------------------------------------------------------- */

rt_sup *rt_root(void)
{
    return root_get(NULL);
}

static ivm_rc add_proc(rt_sup *s, rt_proc *p)
{
    cmd c = {.m = {.kind = MSG_ADD, .proc = p}, .sup = s};
    return submit_and_wait(&c);
}

ivm_rc rt_sup_new(rt_sup *parent, const char *name, rt_strategy strategy,
                  uint32_t max_restarts, uint32_t period_ms, rt_sup **out)
{
    ivm_rc rc;
    rt_sup *root = root_get(&rc);
    if (root == NULL)
        return rc;
    if (parent == NULL)
        parent = root;
    if (name == NULL || name[0] == '\0' || period_ms == 0 || max_restarts > MAX_INTENSITY ||
        (strategy != RT_ONE_FOR_ONE && strategy != RT_ONE_FOR_ALL && strategy != RT_REST_FOR_ONE))
        return IVM_INVALID;
    rt_sup *s;
    rc = sup_alloc(name, parent->self->path, strategy, max_restarts, period_ms, &s);
    if (rc != IVM_OK)
        return rc;
    rt_proc *self = s->self;
    rc = add_proc(parent, self); /* frees s on failure */
    if (rc != IVM_OK)
        return rc;
    *out = s;
    return IVM_OK;
}

ivm_rc rt_sup_add(rt_sup *s, const rt_child_spec *spec, rt_proc **out)
{
    ivm_rc rc;
    rt_sup *root = root_get(&rc);
    if (root == NULL)
        return rc;
    if (s == NULL)
        s = root;
    if (spec == NULL || spec->name == NULL || spec->name[0] == '\0' || spec->start == NULL ||
        (spec->restart != RT_PERMANENT && spec->restart != RT_TRANSIENT &&
         spec->restart != RT_TEMPORARY))
        return IVM_INVALID;
    rt_proc *p = proc_new(spec->name, s->self->path);
    if (p == NULL)
        return IVM_NOMEM;
    p->spec = *spec;
    p->spec.name = p->name;
    rc = add_proc(s, p); /* frees p on failure */
    if (rc != IVM_OK)
        return rc;
    if (out != NULL)
        *out = p;
    return IVM_OK;
}

void rt_sup_remove(rt_sup *s, rt_proc *p)
{
    if (p == NULL)
        return;
    IVM_ASSERT(s == NULL || p->parent == s);
    IVM_ASSERT(p->parent != NULL); /* not the root */
    if (on_sup_thread) {
        /* Would wait for an exit that only this thread can handle. */
        rt_log("remove %s refused: called from a start or stop function", p->path);
        IVM_ASSERT(!on_sup_thread);
        return;
    }
    cmd c = {.m = {.kind = MSG_REMOVE, .proc = p}};
    (void)submit_and_wait(&c);
}

void rt_sup_free(rt_sup *s)
{
    if (s == NULL)
        return;
    IVM_ASSERT(s->self->parent != NULL); /* the root lives as long as the OS process */
    if (s->self->parent == NULL)
        return;
    rt_sup_remove(s->self->parent, s->self);
}

bool rt_sup_alive(const rt_sup *s)
{
    /* Relaxed: a hint that may be one event old; waits go through
     * rt_proc_wait_restarts. */
    return atomic_load_explicit(&s->alive, memory_order_relaxed);
}

rt_proc *rt_sup_proc(rt_sup *s)
{
    return s->self;
}

void rt_proc_exit(rt_proc *p, rt_exit_kind kind, const char *why)
{
    if (p->sup != NULL) {
        /* A supervisor ends by giving up or by being stopped, never on a
         * report from outside. */
        rt_log("exit-ignored %s: a supervisor's exit is its own", p->path);
        return;
    }
    pthread_mutex_lock(&G.mu);
    if (p->reported) {
        pthread_mutex_unlock(&G.mu);
        rt_log("exit-ignored %s: reported twice for one start", p->path);
        return;
    }
    record_exit_locked(p, kind, why);
    pthread_mutex_unlock(&G.mu);
}

const char *rt_proc_name(const rt_proc *p)
{
    return p->name;
}

uint64_t rt_proc_id(const rt_proc *p)
{
    return atomic_load_explicit(&p->id, memory_order_relaxed);
}

bool rt_proc_wait_restarts(rt_proc *p, uint32_t restarts, uint32_t timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&G.mu);
    /* Keeps R13's view consistent: the entry that met the condition is
     * handled to its end first (a group restart starts several children,
     * letting go of the mutex around each start). */
    bool seen = false;
    uint64_t gen = 0;
    int e = 0;
    while (e != ETIMEDOUT) {
        if (p->restarts >= restarts || p->final) {
            if (!G.busy || (seen && G.handled != gen))
                break;
            if (!seen) {
                seen = true;
                gen = G.handled;
            }
        }
        e = pthread_cond_timedwait(&G.change, &G.mu, &dl);
    }
    bool ok = p->restarts >= restarts || p->final;
    pthread_mutex_unlock(&G.mu);
    return ok;
}

static void list_locked(const rt_proc *p, void (*fn)(void *arg, const rt_proc_info *info),
                        void *arg)
{
    rt_proc_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "%s", p->path);
    info.state = p->state;
    info.starts = p->starts;
    info.restarts = p->restarts;
    info.failures = p->failures;
    snprintf(info.last_exit, sizeof info.last_exit, "%s", p->last_exit);
    fn(arg, &info);
    if (p->sup != NULL)
        for (size_t i = 0; i < p->sup->nkids; i++)
            list_locked(p->sup->kids[i], fn, arg);
}

void rt_proc_list(rt_sup *s, void (*fn)(void *arg, const rt_proc_info *info), void *arg)
{
    rt_sup *root = root_get(NULL);
    if (s == NULL)
        s = root;
    if (s == NULL)
        return;
    pthread_mutex_lock(&G.mu);
    list_locked(s->self, fn, arg);
    pthread_mutex_unlock(&G.mu);
}
