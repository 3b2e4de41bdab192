/*
 * mem.c: process-wide accounting of the memory that holds engine state.
 * Modules allocate their state blocks (spine batches, builder buffers)
 * through rt_mem_malloc / rt_mem_realloc / rt_mem_free, which add or take
 * the block's usable size (malloc_usable_size: what the allocator really
 * set aside, under jemalloc and the sanitizers' allocators alike) to one
 * relaxed atomic counter.  That costs one atomic add per block, never one
 * per row.  It limits nothing itself: the engine compares rt_mem_used()
 * with its limit (sql/README.md, the memory limit).  See runtime/README.md
 * ("Memory accounting").
 */
#include "runtime.h"

#include <malloc.h>
#include <stdatomic.h>

/* Relaxed throughout: the counter orders nothing, it is a statistic that
 * readers compare with a limit; each block's add happens before its sub in
 * the thread that frees it (a batch is freed by its last unref, which is
 * ordered after every other use by the reference count). */
static _Atomic int64_t used_bytes;

static void account(int64_t delta)
{
    atomic_fetch_add_explicit(&used_bytes, delta, memory_order_relaxed);
}

void *rt_mem_malloc(size_t n)
{
    void *p = ivm_malloc(n);
    if (p != NULL)
        account((int64_t)malloc_usable_size(p));
    return p;
}

void *rt_mem_realloc(void *p, size_t n)
{
    size_t old = p != NULL ? malloc_usable_size(p) : 0;
    void *np = ivm_realloc(p, n);
    if (np != NULL)
        account((int64_t)malloc_usable_size(np) - (int64_t)old);
    return np;
}

void rt_mem_free(void *p)
{
    if (p == NULL)
        return;
    account(-(int64_t)malloc_usable_size(p));
    ivm_free(p);
}

ivm_rc rt_mem_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    if (need <= *cap)
        return IVM_OK;
    if (!ivm_grow_cap(*cap, need, elem, &ncap))
        return IVM_NOMEM;
    void *nb = rt_mem_realloc(*buf, ncap * elem);
    if (nb == NULL)
        return IVM_NOMEM;
    *buf = nb;
    *cap = ncap;
    return IVM_OK;
}

uint64_t rt_mem_used(void)
{
    int64_t v = atomic_load_explicit(&used_bytes, memory_order_relaxed);
    return v > 0 ? (uint64_t)v : 0;
}
