/*
 * runtime.h: what everything runs on: the per-step scratch arena, worker
 * threads with cooperative schedulers (tasks polled, wakers), supervised
 * processes, the dataspace of assertions, and fault injection.  Knows
 * nothing of SQL, operators or rows.  Design: runtime/README.md.
 */
#ifndef IVM_RUNTIME_H
#define IVM_RUNTIME_H

#include "ivm_base.h"

#include <sys/types.h> /* ssize_t */

/* ---- Arena: bump allocation, freed all at once ---------------------------- */

/* Caller's memory (init/fini).  Allocations are 16-byte aligned and live
 * until rt_arena_reset or rt_arena_fini.  Not thread-safe. */
typedef struct rt_arena_chunk rt_arena_chunk;
typedef struct rt_arena {
    rt_arena_chunk *head;   /* current chunk; older ones follow */
    size_t chunk_size;      /* default size of a new chunk */
    size_t used_total;      /* bytes handed out since the last reset */
} rt_arena;

void rt_arena_init(rt_arena *a);
void rt_arena_fini(rt_arena *a);
/* NULL on allocation failure. */
void *rt_arena_alloc(rt_arena *a, size_t n);
/* Copies s[0..n) and appends a NUL. */
char *rt_arena_strndup(rt_arena *a, const char *s, size_t n);
/* Frees everything but the first chunk, which is kept for reuse. */
void rt_arena_reset(rt_arena *a);

/* Monotonic clock in nanoseconds. */
uint64_t rt_now_ns(void);
/* CPU time the calling thread has used, in nanoseconds (a system call:
 * not for per-row use). */
uint64_t rt_thread_cpu_ns(void);

/* ---- Memory accounting ------------------------------------------------------ */

/* Allocation wrappers for blocks of engine state (spine batches and builder
 * buffers): like ivm_malloc, ivm_realloc, ivm_free and ivm_grow, and they
 * add the block's usable size to (or take it from) one process-wide
 * counter.  A block allocated here must be resized and freed here.  One
 * relaxed atomic add per call; thread-safe. */
void *rt_mem_malloc(size_t n);
void *rt_mem_realloc(void *p, size_t n);
void rt_mem_free(void *p);
ivm_rc rt_mem_grow(void **buf, size_t *cap, size_t need, size_t elem);
/* Bytes of accounted blocks alive now, in the whole process (all engines).
 * A relaxed read: a snapshot that may lag other threads' last calls. */
uint64_t rt_mem_used(void);

/* ---- Wakers --------------------------------------------------------------- */

/* A waker is how something that cannot progress now ("pending") asks to be
 * polled again: whoever makes progress possible calls rt_waker_wake.  Waking
 * is thread-safe, cheap when nothing sleeps, and idempotent (waking a task
 * that is already ready or running makes it run (again) once more, never
 * twice).  A zero waker ({NULL, NULL}) does nothing. */
typedef struct rt_waker {
    void (*fn)(void *arg);
    void *arg;
} rt_waker;

static inline void rt_waker_wake(const rt_waker *w)
{
    if (w != NULL && w->fn != NULL)
        w->fn(w->arg);
}

/* ---- Schedulers: tasks polled on worker threads ---------------------------- */

/* A scheduler owns n worker threads, each with its own run queue of tasks.
 * A task is bound to one worker and polled only there, never on two threads
 * at once.  Its poll function returns
 *   RT_DONE      finished: the task ends (rt_task_join returns);
 *   RT_PROGRESS  did some work and wants to run again: it goes to the back of
 *                its worker's queue, so tasks share a worker fairly;
 *   RT_PENDING   cannot progress: it is parked until its waker is called.
 * A wake that arrives while the task is being polled is not lost: the task
 * is polled again after it returns.  A worker with nothing ready sleeps (no
 * spinning) until a waker or a new task wakes it. */
typedef enum rt_poll { RT_DONE, RT_PROGRESS, RT_PENDING } rt_poll;

typedef struct rt_sched rt_sched;
typedef struct rt_task rt_task;
typedef rt_poll (*rt_poll_fn)(void *arg, rt_task *self);

/* Starts n worker threads named "<name>/<i>".  Thread-safe. */
ivm_rc rt_sched_start(uint32_t nworkers, const char *name, rt_sched **out);
uint32_t rt_sched_size(const rt_sched *s);
/* Stops the threads after every task spawned so far has finished (joined or
 * not); frees s.  NULL is a no-op.  Must not be called from a worker. */
void rt_sched_stop(rt_sched *s);

/* Creates a task on worker `worker` (< size), ready to run.  The task lives
 * until it returned RT_DONE and rt_task_join was called.  Thread-safe. */
ivm_rc rt_task_spawn(rt_sched *s, uint32_t worker, rt_poll_fn poll, void *arg,
                     rt_task **out);
/* The waker of t (valid until t is joined).  Thread-safe. */
rt_waker rt_task_waker(rt_task *t);
/* Sleeps until t is done, then frees it.  From outside the scheduler's
 * workers only.  Every task is joined exactly once, before or after
 * rt_sched_stop.  NULL is a no-op. */
void rt_task_join(rt_task *t);
/* Index of the worker the calling thread is, or UINT32_MAX if none. */
uint32_t rt_sched_current_worker(void);

/* Counters, for benchmarks and `.status`. */
typedef struct rt_sched_stats {
    uint64_t polls;      /* poll calls */
    uint64_t pending;    /* polls that returned RT_PENDING */
    uint64_t wakes;      /* wakes that made a parked task ready */
    uint64_t sleeps;     /* times a worker went to sleep with nothing ready */
} rt_sched_stats;
void rt_sched_stats_get(const rt_sched *s, rt_sched_stats *out);

/* ---- Processes and supervisors --------------------------------------------- */

/* A process is a named, long-lived unit of work with an exit reason: the
 * circuit host, the spine merger, the catalog, a shell session, an input
 * stream.  How it runs (its own thread, tasks on a scheduler, or state driven
 * by callers) is its own business; the runtime knows it through its child
 * specification: start begins it and returns; the process reports its end
 * with rt_proc_exit, from any thread, exactly once per start; stop asks it
 * to end soon (it still reports with rt_proc_exit).
 *
 * A supervisor owns child specifications, starts its children in order, and
 * when a child exits applies its strategy:
 *   RT_ONE_FOR_ONE   restart that child;
 *   RT_ONE_FOR_ALL   stop all other children (in reverse order), restart all;
 *   RT_REST_FOR_ONE  stop the children started after it, restart it and them.
 * Restart policy per child: RT_PERMANENT is always restarted, RT_TRANSIENT
 * only after a failure, RT_TEMPORARY never.  If more than max_restarts
 * restarts happen within period_ms, the supervisor gives up: it stops all
 * its children and itself exits as failed, so its own supervisor decides
 * (the root supervisor then logs and stays failed).  A supervisor is itself
 * a process (rt_sup_spec) that can be a child of another.
 *
 * Exits, starts and restarts run on one supervision thread of the runtime,
 * never on the thread that reported the exit; each is counted and logged
 * (rt_log).  Every call here is thread-safe.
 *
 * start and stop are called on the supervision thread and must return soon:
 * they must not wait for anything that itself waits for the supervision
 * thread.  They may call rt_proc_exit, rt_sup_add and rt_sup_new (carried
 * out at once), but not rt_sup_remove or rt_sup_free.  stop may race with
 * the process ending by itself and must be harmless then; it is not called
 * once the run's exit has been reported.  Nothing is stopped at OS process
 * exit: the supervision thread and the processes' threads end with it. */
typedef struct rt_proc rt_proc;
typedef struct rt_sup rt_sup;

typedef enum rt_exit_kind {
    RT_EXIT_NORMAL,    /* finished its work */
    RT_EXIT_FAILED,    /* a fault: restart per policy */
    RT_EXIT_SHUTDOWN   /* stopped by its supervisor */
} rt_exit_kind;

typedef enum rt_strategy { RT_ONE_FOR_ONE, RT_ONE_FOR_ALL, RT_REST_FOR_ONE } rt_strategy;
typedef enum rt_restart { RT_PERMANENT, RT_TRANSIENT, RT_TEMPORARY } rt_restart;

typedef struct rt_child_spec {
    const char *name;                        /* copied */
    ivm_rc (*start)(rt_proc *p, void *arg);  /* not OK = failed start (counts as a failure) */
    void (*stop)(rt_proc *p, void *arg);     /* may be NULL: the process ends by itself */
    void *arg;
    rt_restart restart;
} rt_child_spec;

/* The process-wide root supervisor (one-for-one, 10 restarts in 10 s),
 * created on first use together with the supervision thread; NULL if that
 * thread could not be started. */
rt_sup *rt_root(void);
/* A new supervisor under parent (NULL = root), started as its child, with
 * restart policy RT_PERMANENT.  IVM_INVALID for an empty name, period_ms 0
 * or max_restarts above 1000000; IVM_BUSY if parent has given up. */
ivm_rc rt_sup_new(rt_sup *parent, const char *name, rt_strategy strategy,
                  uint32_t max_restarts, uint32_t period_ms, rt_sup **out);
/* Stops the supervisor's children (reverse order), removes it from its
 * parent and frees it, with every rt_proc under it.  Waits until every child
 * has exited.  Not the root.  NULL is a no-op. */
void rt_sup_free(rt_sup *s);
/* Adds a child to s (NULL = root) and starts it; *out (may be NULL) is the
 * child's process handle, valid until the child is removed.  Waits for start
 * to return.  If that first start fails, nothing is kept and its result is
 * returned; IVM_BUSY if s has given up, IVM_INVALID for a spec without a
 * name or start. */
ivm_rc rt_sup_add(rt_sup *s, const rt_child_spec *spec, rt_proc **out);
/* Stops the child (if running) and removes it; waits for its exit.  p is
 * invalid afterwards.  Not from p's own thread, nor from start or stop. */
void rt_sup_remove(rt_sup *s, rt_proc *p);
/* True while the supervisor has not given up (again true once its parent
 * has restarted it). */
bool rt_sup_alive(const rt_sup *s);
/* The supervisor's own process handle (as a child of its parent; the root's
 * has no parent), for rt_proc_wait_restarts and rt_proc_id. */
rt_proc *rt_sup_proc(rt_sup *s);

/* Reports the end of the current run of p (once per start; a second report
 * for the same start is logged and ignored).  why (may be NULL) is copied,
 * up to 79 bytes.  Never blocks on the supervision thread.  Ignored (and
 * logged) for a supervisor's own process, which ends only by giving up or
 * by being stopped. */
void rt_proc_exit(rt_proc *p, rt_exit_kind kind, const char *why);
const char *rt_proc_name(const rt_proc *p);
/* Process id: unique in the OS process, never reused; a restarted child keeps
 * its rt_proc but gets a new id for each run (owner of its assertions). */
uint64_t rt_proc_id(const rt_proc *p);
/* Sleeps until p has been restarted at least `restarts` times in all, or
 * until p is down with nothing left to start it again (its policy, or its
 * supervisor gave up), and the supervision thread has finished handling the
 * event that did it (a group restart has started all its children); for
 * tests.  Returns false on timeout.  Not from start or stop. */
bool rt_proc_wait_restarts(rt_proc *p, uint32_t restarts, uint32_t timeout_ms);

typedef enum rt_proc_state { RT_PROC_STARTING, RT_PROC_RUNNING, RT_PROC_STOPPING,
                             RT_PROC_EXITED, RT_PROC_FAILED } rt_proc_state;
typedef struct rt_proc_info {
    char name[64];       /* "root/engine1/merger": the path under the root */
    rt_proc_state state;
    uint32_t starts, restarts, failures;
    char last_exit[96];  /* "failed: injected fault merger:fail@3", "" if none */
} rt_proc_info;
/* Calls fn for every process under s (NULL = root), s itself first, depth
 * first in start order.  fn must not call into the supervisor API. */
void rt_proc_list(rt_sup *s, void (*fn)(void *arg, const rt_proc_info *info), void *arg);

/* Log of supervision events: each line "<event> <path> [reason]".  By default
 * lines are kept in memory only (the last 256, for rt_log_dump); IVM_LOG=1 in
 * the environment also writes them to standard error. */
void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_log_dump(void (*fn)(void *arg, const char *line), void *arg);

/* ---- Dataspace ------------------------------------------------------------- */

/* A shared space of assertions (owner, key, value): owner is a process id,
 * key a string such as "catalog.view.v1", value bytes.  An owner asserts a key
 * at most once (asserting again replaces the value: seen as retract then
 * assert).  Subscribers name an exact key, or a prefix pattern ending in '*'
 * ("catalog.view.*"); a new subscriber first receives every matching
 * assertion present (in assertion order), then every later assert and
 * retract, in the one global order in which the dataspace applied them.
 * When a process exits (any reason) everything it asserted in any dataspace
 * is retracted (the supervisor calls rt_ds_retract_owner).
 *
 * Events go to a subscriber's queue; the subscriber drains it with
 * rt_ds_next (non-blocking), optionally woken by a waker when the queue goes
 * from empty to non-empty.  The waker is called with the dataspace's lock
 * held, so it must not call into the dataspace (a task's waker, a semaphore
 * post or a condition variable signal are fine); the snapshot does not call
 * it: drain right after subscribing.  Every call is thread-safe.
 *
 * Owners are any 64-bit values (process ids for processes).  Keys are
 * non-empty strings.  A pattern ending in '*' matches every key that starts
 * with what comes before the '*' ("*" matches all); any other pattern is an
 * exact key.  Each dataspace orders its own changes (seq is per dataspace).
 * Meant for catalog-sized state that changes rarely, not for rows. */
typedef struct rt_ds rt_ds;
typedef struct rt_ds_sub rt_ds_sub;

typedef enum rt_ds_kind { RT_DS_ASSERT, RT_DS_RETRACT } rt_ds_kind;
typedef struct rt_ds_event {
    rt_ds_kind kind;
    uint64_t owner;
    uint64_t seq;        /* global order, strictly increasing */
    const char *key;     /* valid until the next rt_ds_next on this sub */
    const void *value;   /* for a retract: the value that was asserted */
    size_t vlen;
} rt_ds_event;

ivm_rc rt_ds_new(rt_ds **out);
/* Frees ds with its assertions and any subscriptions still open (their
 * handles become invalid).  Nobody may use ds meanwhile.  NULL is a no-op. */
void rt_ds_free(rt_ds *ds);
/* Copies key and value.  IVM_INVALID for an empty key; IVM_NOMEM leaves
 * everything as it was. */
ivm_rc rt_ds_assert(rt_ds *ds, uint64_t owner, const char *key, const void *value, size_t vlen);
/* IVM_INVALID if owner has no such assertion. */
ivm_rc rt_ds_retract(rt_ds *ds, uint64_t owner, const char *key);
/* Retracts everything owner asserted in every dataspace.  Thread-safe. */
void rt_ds_retract_owner(uint64_t owner);
/* Reads the current value of key (any owner; the earliest assertion if
 * several): copies up to cap bytes into buf, returns the value's whole
 * length (more than cap when it did not fit) or -1 if not asserted. */
ssize_t rt_ds_get(rt_ds *ds, const char *key, void *buf, size_t cap);
/* Calls fn on every current assertion matching pattern, in assertion order,
 * under the dataspace's lock (fn must not call into the dataspace). */
void rt_ds_scan(rt_ds *ds, const char *pattern,
                void (*fn)(void *arg, const rt_ds_event *ev), void *arg);

/* IVM_INVALID for an empty pattern.  The snapshot is queued before this
 * returns. */
ivm_rc rt_ds_subscribe(rt_ds *ds, const char *pattern, rt_waker waker, rt_ds_sub **out);
/* Next event into *ev: true, or false if the queue is empty.  One thread at
 * a time per subscription. */
bool rt_ds_next(rt_ds_sub *sub, rt_ds_event *ev);
/* Drops the subscription and its queued events.  NULL is a no-op. */
void rt_ds_unsubscribe(rt_ds_sub *sub);

/* ---- Fault injection ------------------------------------------------------- */

/* IVM_FAULT in the environment names points where processes fail on
 * purpose, comma separated: "proc:point@N" fails the Nth time rt_fault
 * ("proc", "point") is called (counting across restarts), "proc:point@N/M"
 * the Nth time and every Mth time after.  For example
 * IVM_FAULT=merger:fail@3 fails the merger on its third merge.  rt_fault_set
 * replaces the specification (tests); NULL or "" clears it.  Thread-safe;
 * costs one relaxed load when no fault is configured. */
bool rt_fault(const char *proc, const char *point);
ivm_rc rt_fault_set(const char *spec);

#endif /* IVM_RUNTIME_H */
