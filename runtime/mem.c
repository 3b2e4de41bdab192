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
 *
 * Large blocks also ask the kernel for huge pages (runtime/README.md,
 * "Huge pages"): a spine's big batches are searched at random places, and
 * with 4 KiB pages nearly every probe of a large batch missed the TLB too.
 */
#include "runtime.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

/* Relaxed throughout: the counter orders nothing, it is a statistic that
 * readers compare with a limit; each block's add happens before its sub in
 * the thread that frees it (a batch is freed by its last unref, which is
 * ordered after every other use by the reference count). */
static _Atomic int64_t used_bytes;

static void account(int64_t delta)
{
    atomic_fetch_add_explicit(&used_bytes, delta, memory_order_relaxed);
}

/* The huge pages whole inside [p, p + n): their start, their length (0:
 * none). */
static size_t huge_span(const void *p, size_t n, uintptr_t *start)
{
    uintptr_t a = ((uintptr_t)p + RT_MEM_HUGE_PAGE - 1) & ~(uintptr_t)(RT_MEM_HUGE_PAGE - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(RT_MEM_HUGE_PAGE - 1);
    *start = a;
    return e > a ? e - a : 0;
}

/* Advice on a block's whole huge pages: MADV_HUGEPAGE when it is made,
 * MADV_NOHUGEPAGE when it is freed, so that the allocator's next use of
 * that memory, likely for small objects, is not backed by 2 MiB pages (in
 * the kernel's "madvise" mode, which Debian sets, the latter is the
 * default).  Advice is a hint: failure (no THP in the kernel) changes
 * nothing but speed, so it is not reported. */
static void advise(void *p, size_t n, int advice)
{
    uintptr_t a;
    size_t len = n >= RT_MEM_HUGE_MIN ? huge_span(p, n, &a) : 0;
    if (len > 0)
        (void)madvise((void *)a, len, advice);
}

void *rt_mem_malloc(size_t n)
{
    void *p = ivm_malloc(n);
    if (p != NULL) {
        size_t got = malloc_usable_size(p);
        account((int64_t)got);
        advise(p, got, MADV_HUGEPAGE);
    }
    return p;
}

void *rt_mem_realloc(void *p, size_t n)
{
    size_t old = p != NULL ? malloc_usable_size(p) : 0;
    /* The block may move or shrink: take the advice back from all of it
     * while it is still ours, and give it again to what it becomes.  On
     * failure the block stays as it was, advice included. */
    advise(p, old, MADV_NOHUGEPAGE);
    void *np = ivm_realloc(p, n);
    if (np == NULL) {
        advise(p, old, MADV_HUGEPAGE);
        return NULL;
    }
    size_t got = malloc_usable_size(np);
    account((int64_t)got - (int64_t)old);
    advise(np, got, MADV_HUGEPAGE);
    return np;
}

void rt_mem_free(void *p)
{
    if (p == NULL)
        return;
    size_t got = malloc_usable_size(p);
    account(-(int64_t)got);
    advise(p, got, MADV_NOHUGEPAGE);
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
