/*
 * xchg.c: shard_accumulate between N workers, in memory.  A sender splits
 * each batch it sends by the owner of every entry's key and appends the
 * pieces to its own (sender, receiver) slots; a receiver, once every sender
 * has flushed to it, merges the pieces waiting in its column of slots into
 * one consolidated batch.  Nothing is locked: each slot has one writer at a
 * time, handed back and forth by its `flushed` flag (X1-X3).  This version
 * does not stream or bound anything; issue "Exchange" puts bounded SPSC
 * queues and wakers behind the same calls.  Design: exchange/README.md.
 */
#include "exchange.h"

#include <stdatomic.h>

/* What sender `from` has for receiver `to` this step. */
typedef struct xslot {
    spine_batch **pieces;     /* owned references, each sorted and consolidated */
    size_t n, cap;
    /* X2: set by the sender (release) once it has flushed; while set the
     * slot belongs to the receiver, which empties it and clears the flag
     * (release) in collect.  Readers acquire. */
    atomic_bool flushed;
} xslot;

struct xchg {
    uint32_t n;
    xslot *slots;             /* n * n, at [from * n + to] */
    spine_builder *bld;       /* n * n, at [from * n + to]: the sender's
                                 splitting builders (sender-private) */
    spine_batch *empty;
};

ivm_rc xchg_new(uint32_t nworkers, xchg **out)
{
    if (nworkers == 0 || nworkers > 65535)
        return IVM_INVALID;
    xchg *x = ivm_calloc(1, sizeof *x);
    if (x == NULL)
        return IVM_NOMEM;
    size_t nn = (size_t)nworkers * nworkers;
    x->n = nworkers;
    x->slots = ivm_calloc(nn, sizeof *x->slots);
    x->bld = ivm_calloc(nn, sizeof *x->bld);
    if (x->slots == NULL || x->bld == NULL) {
        ivm_free(x->slots);
        ivm_free(x->bld);
        ivm_free(x);
        return IVM_NOMEM;
    }
    for (size_t i = 0; i < nn; i++) {
        atomic_init(&x->slots[i].flushed, false);
        spine_builder_init(&x->bld[i]);
        spine_builder_set_sorted(&x->bld[i], true);
    }
    spine_builder eb;
    spine_builder_init(&eb);
    ivm_rc rc = spine_builder_finish(&eb, &x->empty);
    spine_builder_fini(&eb);
    if (rc != IVM_OK) {
        x->empty = NULL;
        xchg_free(x);
        return rc;
    }
    *out = x;
    return IVM_OK;
}

void xchg_free(xchg *x)
{
    if (x == NULL)
        return;
    size_t nn = (size_t)x->n * x->n;
    for (size_t i = 0; i < nn; i++) {
        for (size_t k = 0; k < x->slots[i].n; k++)
            spine_batch_unref(x->slots[i].pieces[k]);
        ivm_free(x->slots[i].pieces);
        spine_builder_fini(&x->bld[i]);
    }
    ivm_free(x->slots);
    ivm_free(x->bld);
    spine_batch_unref(x->empty);
    ivm_free(x);
}

uint32_t xchg_workers(const xchg *x)
{
    return x->n;
}

/* Appends a piece to slot (from, to), which the sender owns (X1). */
static ivm_rc slot_append(xslot *s, spine_batch *piece_owned)
{
    if (ivm_grow((void **)&s->pieces, &s->cap, s->n + 1, sizeof *s->pieces) != IVM_OK) {
        spine_batch_unref(piece_owned);
        return IVM_NOMEM;
    }
    s->pieces[s->n++] = piece_owned;
    return IVM_OK;
}

ivm_rc xchg_send_take(xchg *x, uint32_t from, spine_batch *b_owned)
{
    if (b_owned == NULL || from >= x->n) {
        spine_batch_unref(b_owned);
        return IVM_INVALID;
    }
    xslot *row = &x->slots[(size_t)from * x->n];
    /* X3: a slot still flushed belongs to its receiver, which has not
     * collected the previous step yet: sending now would race with it. */
    for (uint32_t to = 0; to < x->n; to++) {
        if (atomic_load_explicit(&row[to].flushed, memory_order_acquire)) {
            spine_batch_unref(b_owned);
            return IVM_BUSY;
        }
    }
    const spine_batch *b = b_owned;
    if (b->n == 0) {
        spine_batch_unref(b_owned);
        return IVM_OK;
    }
    /* Whole-batch fast path: one worker, or every key owned by one worker
     * (a global aggregate's empty key, a skewed step): no copy. */
    size_t klen;
    const uint8_t *key = spine_batch_key(b, 0, &klen);
    uint32_t first = xchg_owner(x->n, key, klen);
    size_t i = 1;
    while (i < b->n) {
        key = spine_batch_key(b, i, &klen);
        if (xchg_owner(x->n, key, klen) != first)
            break;
        i++;
    }
    if (i == b->n)
        return slot_append(&row[first], b_owned);
    /* Split: the batch is sorted and consolidated, and so is every subset
     * of it taken in order, so each destination's builder runs sorted. */
    spine_builder *bld = &x->bld[(size_t)from * x->n];
    ivm_rc rc = IVM_OK;
    for (i = 0; i < b->n && rc == IVM_OK; i++) {
        size_t vlen;
        key = spine_batch_key(b, i, &klen);
        const uint8_t *val = spine_batch_val(b, i, &vlen);
        uint32_t to = xchg_owner(x->n, key, klen);
        rc = spine_builder_push(&bld[to], key, klen, val, vlen, b->w[i]);
    }
    spine_batch_unref(b_owned);
    for (uint32_t to = 0; to < x->n; to++) {
        if (rc != IVM_OK || bld[to].n == 0) {
            spine_builder_clear(&bld[to]);
            continue;
        }
        spine_batch *piece = NULL;
        rc = spine_builder_finish(&bld[to], &piece);
        spine_builder_set_sorted(&bld[to], true);
        if (rc == IVM_OK)
            rc = slot_append(&row[to], piece);
    }
    return rc;
}

ivm_rc xchg_flush(xchg *x, uint32_t from)
{
    if (from >= x->n)
        return IVM_INVALID;
    xslot *row = &x->slots[(size_t)from * x->n];
    for (uint32_t to = 0; to < x->n; to++)
        if (atomic_load_explicit(&row[to].flushed, memory_order_acquire))
            return IVM_BUSY; /* flushed twice without a collect between (X3) */
    /* X2: release publishes the pieces appended above to each receiver. */
    for (uint32_t to = 0; to < x->n; to++)
        atomic_store_explicit(&row[to].flushed, true, memory_order_release);
    return IVM_OK;
}

ivm_rc xchg_collect(xchg *x, uint32_t to, spine_batch **out)
{
    if (to >= x->n)
        return IVM_INVALID;
    size_t total = 0;
    for (uint32_t from = 0; from < x->n; from++) {
        xslot *s = &x->slots[(size_t)from * x->n + to];
        /* Acquire pairs with the sender's release in xchg_flush (X2). */
        if (!atomic_load_explicit(&s->flushed, memory_order_acquire))
            return IVM_PENDING;
        total += s->n;
    }
    spine_batch **all = NULL;
    if (total > 0 && (all = ivm_malloc(sizeof *all * total)) == NULL)
        return IVM_NOMEM; /* nothing taken: the receiver may try again */
    size_t k = 0;
    for (uint32_t from = 0; from < x->n; from++) {
        xslot *s = &x->slots[(size_t)from * x->n + to];
        for (size_t i = 0; i < s->n; i++)
            all[k++] = s->pieces[i];
        s->n = 0;
        /* Release: our reads of the slot happen before the sender's next
         * write to it, which it makes after seeing the flag clear (X2). */
        atomic_store_explicit(&s->flushed, false, memory_order_release);
    }
    /* Pairwise merge rounds: each entry is copied O(log pieces) times. */
    ivm_rc rc = IVM_OK;
    size_t n = total;
    while (n > 1 && rc == IVM_OK) {
        size_t m = 0;
        for (size_t i = 0; i < n; i += 2) {
            if (i + 1 == n) {
                all[m++] = all[i];
                break;
            }
            spine_batch *sum = NULL;
            if (rc == IVM_OK)
                rc = spine_batch_merge(all[i], all[i + 1], &sum);
            spine_batch_unref(all[i]);
            spine_batch_unref(all[i + 1]);
            if (rc == IVM_OK)
                all[m++] = sum;
        }
        n = m;
    }
    if (rc != IVM_OK) {
        for (size_t i = 0; i < n; i++)
            spine_batch_unref(all[i]);
        ivm_free(all);
        return rc;
    }
    *out = total == 0 ? spine_batch_ref(x->empty) : all[0];
    ivm_free(all);
    return IVM_OK;
}
