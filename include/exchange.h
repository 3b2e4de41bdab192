/*
 * exchange.h: shard_accumulate, the exchange placed before every stateful
 * operator.  Each of N workers sends the batches it produces during a step;
 * every entry goes to the worker that owns its key (hash of the key bytes mod
 * N); each receiver accumulates what arrives and, once every sender has
 * flushed, takes the step's whole input for its shard as one consolidated
 * batch.  This version keeps the per-receiver accumulation in memory guarded
 * by the step structure (one worker, or senders that finish before receivers
 * collect); issue "Exchange" puts bounded SPSC queues and wakers under the
 * same calls.  Design: exchange/README.md.
 */
#ifndef IVM_EXCHANGE_H
#define IVM_EXCHANGE_H

#include "ivm_base.h"
#include "spine.h"

typedef struct xchg xchg;

/* One exchange point among nworkers workers (>= 1). */
ivm_rc xchg_new(uint32_t nworkers, xchg **out);
void xchg_free(xchg *x);
uint32_t xchg_workers(const xchg *x);

/* Worker that owns a key. */
static inline uint32_t xchg_owner(uint32_t nworkers, const uint8_t *key, size_t klen)
{
    if (nworkers == 1)
        return 0;
    return (uint32_t)(spine_row_hash(key, klen) % nworkers);
}

/* Sender `from` hands over a batch (takes the reference, even on failure);
 * its entries are split by owner.  Called during a step, any number of times.
 * IVM_BUSY (here and in xchg_flush) while a receiver has not collected this
 * sender's previous flush: a step is sends, one flush, then the collects. */
ivm_rc xchg_send_take(xchg *x, uint32_t from, spine_batch *b_owned);
/* Sender `from` has sent everything for this step. */
ivm_rc xchg_flush(xchg *x, uint32_t from);
/* Receiver `to` takes its accumulated input for the step: IVM_PENDING until
 * every sender has flushed; then *out is a consolidated batch (n may be 0)
 * owned by the caller, and the receiver is reset for the next step. */
ivm_rc xchg_collect(xchg *x, uint32_t to, spine_batch **out);

#endif /* IVM_EXCHANGE_H */
