/*
 * xchg_int.h: the pieces under an exchange, private to exchange/.
 *
 * A link carries items from one sender to one receiver: a bounded
 * single-producer single-consumer queue of batch pointers and flush markers.
 * It is the transport interface: an exchange only pushes, pops and asks
 * whether a link is empty, so a link to a remote host (later) implements the
 * same calls over a socket, with the queue bound becoming its window.
 *
 * A wait is how a receiver sleeps on all its links at once: it arms its
 * waker, looks at the links once more, and a sender that pushes wakes it
 * (X4 in exchange/README.md).
 */
#ifndef XCHG_INT_H
#define XCHG_INT_H

#include "exchange.h"

#include <pthread.h>
#include <stdatomic.h>

#define XCHG_CACHE_LINE 64

/* The flush marker: an item that is not a batch. */
extern spine_batch xlink_marker_;
#define XLINK_MARKER (&xlink_marker_)

/* Slow-path registration of one waker.  Armed and woken rarely (a full
 * queue, an idle receiver), so a mutex guards the waker itself; the armed
 * flag is read without it on the fast path. */
typedef struct xwait {
    atomic_bool armed;
    pthread_mutex_t mu;       /* guards waker */
    rt_waker waker;
} xwait;

void xwait_init(xwait *w);
void xwait_fini(xwait *w);
/* Stores the waker and sets armed (sequentially consistent). */
void xwait_arm(xwait *w, rt_waker waker);
/* Clears armed without waking. */
void xwait_disarm(xwait *w);
/* After a state change: if armed, disarms and calls the waker. */
void xwait_wake(xwait *w);

typedef struct xlink {
    /* Producer's line: the tail it writes and the head it last saw. */
    _Alignas(XCHG_CACHE_LINE) atomic_uint_fast64_t tail;
    uint64_t head_seen;
    uint32_t max_seen;
    /* Consumer's line. */
    _Alignas(XCHG_CACHE_LINE) atomic_uint_fast64_t head;
    /* The producer sleeps here when the queue is full. */
    _Alignas(XCHG_CACHE_LINE) xwait space;
    spine_batch **slot;
    uint32_t cap;
} xlink;

ivm_rc xlink_init(xlink *l, uint32_t cap);
void xlink_fini(xlink *l);
/* Producer: queues item, or (full) arms waker for space and returns false.
 * A pop that frees space afterwards wakes the producer. */
bool xlink_push(xlink *l, spine_batch *item, rt_waker waker);
/* Consumer: the oldest item, or NULL if empty.  Wakes a producer waiting
 * for space. */
spine_batch *xlink_pop(xlink *l);
/* Consumer: true if nothing is queued. */
bool xlink_empty(xlink *l);
/* Most items seen queued at once. */
uint32_t xlink_max_seen(const xlink *l);
/* Forgets a producer's registration (reset). */
void xlink_disarm(xlink *l);

/* Zeroed memory aligned to a cache line, freed with ivm_free. */
void *xchg_calloc_aligned(size_t count, size_t size);
#define ivm_aligned_calloc xchg_calloc_aligned

#endif /* XCHG_INT_H */
