/*
 * runtime.h: what everything runs on.  This version holds the per-step
 * scratch arena and the worker thread that runs circuits; issue "Runtime"
 * adds N workers with cooperative schedulers, supervision and the dataspace
 * behind the same names.  Knows nothing of SQL, operators or rows.  Design:
 * runtime/README.md.
 */
#ifndef IVM_RUNTIME_H
#define IVM_RUNTIME_H

#include "ivm_base.h"

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

/* ---- Worker threads ------------------------------------------------------- */

/* A worker is a thread that runs jobs handed to it, one at a time, in order.
 * rt_worker_run hands a job over and sleeps until it is done (no spinning).
 * Every public call here is thread-safe. */
typedef struct rt_worker rt_worker;
typedef ivm_rc (*rt_job_fn)(void *arg);

/* Starts a thread named name (<= 15 bytes shown by the OS). */
ivm_rc rt_worker_start(const char *name, rt_worker **out);
/* Runs fn(arg) on the worker and returns its result. */
ivm_rc rt_worker_run(rt_worker *w, rt_job_fn fn, void *arg);
/* Stops the thread after the jobs already handed over; frees w.  NULL is a
 * no-op. */
void rt_worker_stop(rt_worker *w);

/* A group of n workers that run one job per worker concurrently and wait
 * for all of them: fn(arg, worker_index).  Thread-safe. */
typedef struct rt_pool rt_pool;
typedef ivm_rc (*rt_pool_fn)(void *arg, uint32_t worker);
ivm_rc rt_pool_start(uint32_t nworkers, rt_pool **out);
uint32_t rt_pool_size(const rt_pool *p);
/* Runs fn on every worker at once; returns the first non-OK result by
 * worker index, after all have finished. */
ivm_rc rt_pool_run(rt_pool *p, rt_pool_fn fn, void *arg);
void rt_pool_stop(rt_pool *p);

/* Monotonic clock in nanoseconds. */
uint64_t rt_now_ns(void);

#endif /* IVM_RUNTIME_H */
