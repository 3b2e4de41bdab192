/*
 * link.c: the in-process transport of an exchange: one bounded
 * single-producer single-consumer queue per (sender, receiver), with its
 * indices on separate cache lines, and the waits through which a full queue
 * pushes back on its producer and an empty one lets its consumer sleep.
 * Items are batch pointers; moving one costs two atomic stores and a fence,
 * never a lock, unless somebody sleeps.  X4 and X7 in exchange/README.md.
 */
#include "xchg_int.h"

spine_batch xlink_marker_;

void *xchg_calloc_aligned(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    size_t n = count * size;
    n = (n + XCHG_CACHE_LINE - 1) / XCHG_CACHE_LINE * XCHG_CACHE_LINE;
    if (n == 0)
        n = XCHG_CACHE_LINE;
    void *p = aligned_alloc(XCHG_CACHE_LINE, n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

/* ---- Waits --------------------------------------------------------------- */

void xwait_init(xwait *w)
{
    atomic_init(&w->armed, false);
    pthread_mutex_init(&w->mu, NULL);
    w->waker = (rt_waker){NULL, NULL};
}

void xwait_fini(xwait *w)
{
    pthread_mutex_destroy(&w->mu);
}

void xwait_arm(xwait *w, rt_waker waker)
{
    pthread_mutex_lock(&w->mu);
    w->waker = waker;
    pthread_mutex_unlock(&w->mu);
    /* X4: seq_cst, so that this store and the sleeper's next look at the
     * queue are ordered against the waker's push and its load of armed. */
    atomic_store(&w->armed, true);
}

void xwait_disarm(xwait *w)
{
    atomic_store(&w->armed, false);
}

void xwait_wake(xwait *w)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (!atomic_load_explicit(&w->armed, memory_order_relaxed))
        return;
    if (!atomic_exchange(&w->armed, false))
        return; /* someone else took the wake */
    pthread_mutex_lock(&w->mu);
    rt_waker k = w->waker;
    pthread_mutex_unlock(&w->mu);
    rt_waker_wake(&k);
}

/* ---- Links ----------------------------------------------------------------- */

ivm_rc xlink_init(xlink *l, uint32_t cap)
{
    atomic_init(&l->tail, 0);
    atomic_init(&l->head, 0);
    l->head_seen = 0;
    l->max_seen = 0;
    l->cap = cap;
    xwait_init(&l->space);
    l->slot = ivm_calloc(cap, sizeof *l->slot);
    return l->slot != NULL ? IVM_OK : IVM_NOMEM;
}

void xlink_fini(xlink *l)
{
    if (l->slot == NULL && l->cap == 0)
        return; /* never initialised */
    xwait_fini(&l->space);
    ivm_free(l->slot);
    l->slot = NULL;
}

bool xlink_push(xlink *l, spine_batch *item, rt_waker waker)
{
    uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);
    if (t - l->head_seen >= l->cap) {
        l->head_seen = atomic_load_explicit(&l->head, memory_order_acquire);
        if (t - l->head_seen >= l->cap) {
            /* Full: arm, then look again (X4), so that a pop racing with
             * the arming either shows here or wakes us. */
            xwait_arm(&l->space, waker);
            l->head_seen = atomic_load(&l->head);
            if (t - l->head_seen >= l->cap)
                return false;
            xwait_disarm(&l->space);
        }
    }
    l->slot[t % l->cap] = item;
    /* X7: release publishes the slot (and the batch it points to). */
    atomic_store_explicit(&l->tail, t + 1, memory_order_release);
    uint32_t queued = (uint32_t)(t + 1 - l->head_seen);
    if (queued > l->max_seen)
        l->max_seen = queued;
    return true;
}

spine_batch *xlink_pop(xlink *l)
{
    uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&l->tail, memory_order_acquire);
    if (h == t)
        return NULL;
    spine_batch *item = l->slot[h % l->cap];
    /* X7: release: our read of the slot happens before the producer's
     * reuse of it, which it makes after acquiring head. */
    atomic_store_explicit(&l->head, h + 1, memory_order_release);
    xwait_wake(&l->space);
    return item;
}

bool xlink_empty(xlink *l)
{
    uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
    return atomic_load(&l->tail) == h;
}

uint32_t xlink_max_seen(const xlink *l)
{
    return l->max_seen;
}

void xlink_disarm(xlink *l)
{
    xwait_disarm(&l->space);
}
