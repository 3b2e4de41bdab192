/*
 * exchange.h: shard_accumulate, the exchange placed before every stateful
 * operator.  Each of N workers sends the batches it produces during a step;
 * every entry goes to the worker that owns its key (hash of the key bytes mod
 * N).  Pieces stream to their owners at once, through one bounded
 * single-producer single-consumer queue per (sender, receiver); a receiver
 * drains its queues whenever it runs and accumulates what arrives.  At the
 * end of its step a sender puts a flush marker in each of its queues; a
 * receiver completes when it has every sender's marker and takes the step's
 * whole input for its shard as one consolidated batch.  That flush is the
 * only barrier.
 *
 * Every call is cooperative: where it would have to wait (a full queue, a
 * sender that has not flushed) it returns IVM_PENDING after registering the
 * caller's waker, which is called when waiting is over.  Nothing blocks a
 * thread.  A waker can be called late: another worker's call may decide to
 * wake it just before its owner finds room by itself and goes on, and
 * deliver the wake after the owner's task is done.  So a task whose waker
 * was given to x must live until every worker has made its last call of the
 * step (join tasks only then: dbsp/README.md D14).  Design and invariants:
 * exchange/README.md.
 */
#ifndef IVM_EXCHANGE_H
#define IVM_EXCHANGE_H

#include "ivm_base.h"
#include "runtime.h"
#include "spine.h"

typedef struct xchg xchg;

/* Batches a queue holds at most (flush markers count as batches). */
#define XCHG_QUEUE_CAP_DEFAULT 8

/* One exchange point among nworkers workers (>= 1) with queues of queue_cap
 * batches (>= 2; 0 = XCHG_QUEUE_CAP_DEFAULT). */
ivm_rc xchg_new(uint32_t nworkers, uint32_t queue_cap, xchg **out);
/* Frees x and every batch still in flight.  No worker may be using it. */
void xchg_free(xchg *x);
uint32_t xchg_workers(const xchg *x);

/* Worker that owns a key. */
static inline uint32_t xchg_owner(uint32_t nworkers, const uint8_t *key, size_t klen)
{
    if (nworkers == 1)
        return 0;
    return (uint32_t)(spine_row_hash(key, klen) % nworkers);
}

/* ---- Sender `from` (one thread at a time per sender) ----------------------- */

/* Hands over a batch (takes the reference, even on failure): its entries are
 * split by owner and each piece is queued for its owner.  IVM_OK: every
 * piece is queued.  IVM_PENDING: a queue was full; the pieces that did not
 * fit wait in the sender's outbox (at most one per receiver), the waker is
 * registered, and the sender must call xchg_send_poll until it returns
 * IVM_OK before it sends or flushes again (IVM_BUSY otherwise). */
ivm_rc xchg_send_take(xchg *x, uint32_t from, spine_batch *b_owned, rt_waker waker);
/* Moves outbox pieces into queues: IVM_OK once the outbox is empty. */
ivm_rc xchg_send_poll(xchg *x, uint32_t from, rt_waker waker);
/* Ends the sender's step: a flush marker to every receiver, after the
 * outbox.  IVM_PENDING (waker registered) while some queue has no room;
 * call again until IVM_OK.  Nothing may be sent after the flush until every
 * receiver has collected this step. */
ivm_rc xchg_flush(xchg *x, uint32_t from, rt_waker waker);

/* ---- Receiver `to` (one thread at a time per receiver) --------------------- */

/* Drains the receiver's queues into its accumulation (which frees room for
 * blocked senders).  When every sender's flush marker has arrived, *out is
 * the step's input for this shard, consolidated (n may be 0), owned by the
 * caller, the receiver is reset for the next step, and the result is
 * IVM_OK.  Otherwise IVM_PENDING, with the waker registered: it is called
 * when a queue of this receiver gets a batch or a marker. */
ivm_rc xchg_collect(xchg *x, uint32_t to, rt_waker waker, spine_batch **out);

/* ---- Both ----------------------------------------------------------------- */

/* Drops everything in flight and every partial accumulation (a step that
 * failed or a transaction rolled back); x is ready for a new step.  No
 * worker may be using x. */
void xchg_reset(xchg *x);

/* Calls every registered waker (senders waiting for room, receivers waiting
 * for markers) without changing anything else: after a worker failed, the
 * others wake up, see the failure and stop.  Thread-safe. */
void xchg_wake_all(xchg *x);
/* Forgets every registered waker.  Called between steps, when no worker
 * uses x, so that no waker outlives the task it wakes. */
void xchg_disarm_all(xchg *x);

typedef struct xchg_stats {
    uint64_t batches;     /* pieces queued */
    uint64_t rows;        /* entries in those pieces */
    uint64_t full;        /* times a sender found a queue full */
    uint64_t waits;       /* times a receiver returned IVM_PENDING */
    uint32_t max_queued;  /* most batches seen in one queue at once (<= cap) */
    uint32_t queue_cap;
} xchg_stats;
/* Counters since xchg_new; exact when no worker is using x. */
void xchg_stats_get(const xchg *x, xchg_stats *out);

#endif /* IVM_EXCHANGE_H */
