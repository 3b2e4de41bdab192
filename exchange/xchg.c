/*
 * xchg.c: shard_accumulate between N workers.  A sender splits each batch
 * by the owner of every entry's key and pushes each piece at once into the
 * link (sender, receiver), a bounded queue (link.c); a receiver drains its
 * links whenever it runs and folds what arrives into a small binary counter
 * of merged batches, so that a step's input is consolidated as it arrives.
 * Flush markers end a sender's step; a receiver that has every marker hands
 * its accumulation over.  Waiting is cooperative: the caller's waker is
 * registered and IVM_PENDING returned.  Invariants X1-X8 in
 * exchange/README.md.
 */
#include "xchg_int.h"

/* The accumulation: levels of at most ACC_FANOUT batches; a full level is
 * merged in one k-way pass into one batch on the next level, so every entry
 * is copied about log_16(pieces) times (X6).  The top level absorbs
 * whatever reaches it. */
#define ACC_FANOUT 16
#define ACC_LEVELS 8

/* What receiver `to` keeps during a step.  Only its worker touches it. */
typedef struct xrecv {
    xwait wait;                   /* senders wake the receiver through this */
    bool *marked;                 /* [from]: from's marker arrived this step */
    uint32_t nmarked;
    spine_batch *acc[ACC_LEVELS][ACC_FANOUT]; /* partial sums */
    uint32_t nacc[ACC_LEVELS];
    uint64_t waits;
} xrecv;

/* What sender `from` keeps.  Only its worker touches it. */
typedef struct xsend {
    spine_builder *bld;           /* [to]: splitting builders, sorted mode */
    spine_batch **outbox;         /* [to]: a piece that did not fit, or NULL */
    uint32_t nparked;
    bool *marker_due;             /* [to]: flushing, marker not queued yet */
    uint32_t ndue;
    uint64_t batches, rows, full;
} xsend;

struct xchg {
    uint32_t n;
    uint32_t cap;
    xlink *links;                 /* n * n, at [from * n + to] */
    xsend *send;                  /* n */
    xrecv *recv;                  /* n */
    spine_batch *empty;
};

static xlink *link_at(xchg *x, uint32_t from, uint32_t to)
{
    return &x->links[(size_t)from * x->n + to];
}

ivm_rc xchg_new(uint32_t nworkers, uint32_t queue_cap, xchg **out)
{
    if (queue_cap == 0)
        queue_cap = XCHG_QUEUE_CAP_DEFAULT;
    if (nworkers == 0 || nworkers > 4096 || queue_cap < 2 || queue_cap > 65536)
        return IVM_INVALID;
    xchg *x = ivm_calloc(1, sizeof *x);
    if (x == NULL)
        return IVM_NOMEM;
    x->n = nworkers;
    x->cap = queue_cap;
    size_t nn = (size_t)nworkers * nworkers;
    x->links = ivm_aligned_calloc(nn, sizeof *x->links);
    x->send = ivm_calloc(nworkers, sizeof *x->send);
    x->recv = ivm_aligned_calloc(nworkers, sizeof *x->recv);
    if (x->links == NULL || x->send == NULL || x->recv == NULL)
        goto nomem;
    for (size_t i = 0; i < nn; i++)
        if (xlink_init(&x->links[i], queue_cap) != IVM_OK)
            goto nomem;
    for (uint32_t w = 0; w < nworkers; w++) {
        xsend *s = &x->send[w];
        xrecv *r = &x->recv[w];
        xwait_init(&r->wait);
        s->bld = ivm_calloc(nworkers, sizeof *s->bld);
        s->outbox = ivm_calloc(nworkers, sizeof *s->outbox);
        s->marker_due = ivm_calloc(nworkers, sizeof *s->marker_due);
        r->marked = ivm_calloc(nworkers, sizeof *r->marked);
        if (s->bld == NULL || s->outbox == NULL || s->marker_due == NULL || r->marked == NULL)
            goto nomem;
        for (uint32_t to = 0; to < nworkers; to++) {
            spine_builder_init(&s->bld[to]);
        }
    }
    spine_builder eb;
    spine_builder_init(&eb);
    ivm_rc rc = spine_builder_finish(&eb, &x->empty);
    spine_builder_fini(&eb);
    if (rc != IVM_OK)
        goto nomem;
    *out = x;
    return IVM_OK;
nomem:
    xchg_free(x);
    return IVM_NOMEM;
}

void xchg_free(xchg *x)
{
    if (x == NULL)
        return;
    if (x->links != NULL && x->send != NULL && x->recv != NULL)
        xchg_reset(x);
    size_t nn = (size_t)x->n * x->n;
    for (size_t i = 0; x->links != NULL && i < nn; i++)
        xlink_fini(&x->links[i]);
    for (uint32_t w = 0; x->send != NULL && w < x->n; w++) {
        xsend *s = &x->send[w];
        for (uint32_t to = 0; s->bld != NULL && to < x->n; to++)
            spine_builder_fini(&s->bld[to]);
        ivm_free(s->bld);
        ivm_free(s->outbox);
        ivm_free(s->marker_due);
    }
    for (uint32_t w = 0; x->recv != NULL && w < x->n; w++) {
        xwait_fini(&x->recv[w].wait);
        ivm_free(x->recv[w].marked);
    }
    ivm_free(x->links);
    ivm_free(x->send);
    ivm_free(x->recv);
    spine_batch_unref(x->empty);
    ivm_free(x);
}

uint32_t xchg_workers(const xchg *x)
{
    return x->n;
}

/* ---- Sending ------------------------------------------------------------- */

/* Queues one item for `to`, or parks it in the outbox (X3).  Returns true if
 * it was queued. */
static bool push_or_park(xchg *x, uint32_t from, uint32_t to, spine_batch *item, rt_waker waker)
{
    xsend *s = &x->send[from];
    xlink *l = link_at(x, from, to);
    if (xlink_push(l, item, waker)) {
        /* X4: a receiver that sleeps on its links is woken by the push. */
        xwait_wake(&x->recv[to].wait);
        return true;
    }
    s->full++;
    return false;
}

static ivm_rc queue_piece(xchg *x, uint32_t from, uint32_t to, spine_batch *piece, rt_waker waker)
{
    xsend *s = &x->send[from];
    s->batches++;
    s->rows += piece->n;
    if (!push_or_park(x, from, to, piece, waker)) {
        s->outbox[to] = piece;
        s->nparked++;
        return IVM_PENDING;
    }
    return IVM_OK;
}

static ivm_rc settle(xchg *x, uint32_t from, rt_waker waker);

ivm_rc xchg_send_take(xchg *x, uint32_t from, spine_batch *b_owned, rt_waker waker)
{
    if (b_owned == NULL || from >= x->n) {
        spine_batch_unref(b_owned);
        return IVM_INVALID;
    }
    xsend *s = &x->send[from];
    if (s->nparked > 0 || s->ndue > 0) {
        spine_batch_unref(b_owned);
        return IVM_BUSY; /* X3: the outbox or a flush must finish first */
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
        return queue_piece(x, from, first, b_owned, waker) == IVM_OK ? IVM_OK
                                                                      : settle(x, from, waker);
    /* Split: the batch is sorted and consolidated, and so is every subset
     * of it taken in order, so each destination's builder runs sorted. */
    ivm_rc rc = IVM_OK;
    for (i = 0; i < b->n && rc == IVM_OK; i++) {
        size_t vlen;
        key = spine_batch_key(b, i, &klen);
        const uint8_t *val = spine_batch_val(b, i, &vlen);
        uint32_t to = xchg_owner(x->n, key, klen);
        rc = spine_builder_push(&s->bld[to], key, klen, val, vlen, b->w[i]);
    }
    spine_batch_unref(b_owned);
    bool parked = false;
    for (uint32_t to = 0; to < x->n; to++) {
        if (rc != IVM_OK || s->bld[to].n == 0) {
            spine_builder_clear(&s->bld[to]);
            continue;
        }
        spine_batch *piece = NULL;
        rc = spine_builder_finish(&s->bld[to], &piece);
        if (rc == IVM_OK && queue_piece(x, from, to, piece, waker) == IVM_PENDING)
            parked = true;
    }
    if (rc != IVM_OK)
        return rc;
    return parked ? settle(x, from, waker) : IVM_OK;
}

/* ---- Receiving ----------------------------------------------------------- */

static void acc_clear(xrecv *r)
{
    for (unsigned l = 0; l < ACC_LEVELS; l++) {
        for (uint32_t k = 0; k < r->nacc[l]; k++)
            spine_batch_unref(r->acc[l][k]);
        r->nacc[l] = 0;
    }
}

/* Folds a piece into the accumulation (X6). */
static ivm_rc fold(xrecv *r, spine_batch *piece)
{
    spine_batch *carry = piece;
    for (unsigned l = 0;; l++) {
        if (r->nacc[l] < ACC_FANOUT) {
            r->acc[l][r->nacc[l]++] = carry;
            return IVM_OK;
        }
        /* Level l is full: its batches and the carry become one. */
        const spine_batch *in[ACC_FANOUT + 1];
        for (uint32_t k = 0; k < r->nacc[l]; k++)
            in[k] = r->acc[l][k];
        in[ACC_FANOUT] = carry;
        spine_batch *sum = NULL;
        ivm_rc rc = spine_batch_merge_many(in, ACC_FANOUT + 1, &sum);
        spine_batch_unref(carry);
        if (rc != IVM_OK)
            return rc;
        for (uint32_t k = 0; k < r->nacc[l]; k++)
            spine_batch_unref(r->acc[l][k]);
        r->nacc[l] = 0;
        carry = sum;
        if (l == ACC_LEVELS - 1) {
            r->acc[l][r->nacc[l]++] = carry;
            return IVM_OK;
        }
    }
}

/* Pops everything that has arrived from senders whose marker has not: what
 * follows a marker belongs to the next step (X5).  Returns the first failure;
 * a piece that could not be folded is dropped with the error (the step
 * fails as a whole, and xchg_reset clears the rest). */
static ivm_rc drain(xchg *x, uint32_t to)
{
    xrecv *r = &x->recv[to];
    ivm_rc rc = IVM_OK;
    for (uint32_t from = 0; from < x->n; from++) {
        xlink *l = link_at(x, from, to);
        while (!r->marked[from]) {
            spine_batch *item = xlink_pop(l);
            if (item == NULL)
                break;
            if (item == XLINK_MARKER) {
                r->marked[from] = true;
                r->nmarked++;
            } else if (rc == IVM_OK) {
                rc = fold(r, item);
            } else {
                spine_batch_unref(item);
            }
        }
    }
    return rc;
}

/* Sums the accumulation into one batch (one k-way pass over every level's
 * batches) and resets the receiver. */
static ivm_rc finish(xchg *x, xrecv *r, spine_batch **out)
{
    const spine_batch *all[ACC_LEVELS * ACC_FANOUT];
    size_t n = 0;
    for (unsigned l = 0; l < ACC_LEVELS; l++)
        for (uint32_t k = 0; k < r->nacc[l]; k++)
            all[n++] = r->acc[l][k];
    ivm_rc rc = IVM_OK;
    spine_batch *sum = NULL;
    if (n == 0)
        sum = spine_batch_ref(x->empty);
    else if (n == 1)
        sum = spine_batch_ref((spine_batch *)all[0]);
    else
        rc = spine_batch_merge_many(all, n, &sum);
    acc_clear(r);
    memset(r->marked, 0, sizeof *r->marked * x->n);
    r->nmarked = 0;
    if (rc != IVM_OK)
        return rc;
    *out = sum;
    return IVM_OK;
}

/* ---- Waiting senders ------------------------------------------------------- */

/* Queues the sender's parked pieces, then (outbox empty) its due flush
 * markers.  True when nothing is left to queue. */
static bool push_parked(xchg *x, uint32_t from, rt_waker waker)
{
    xsend *s = &x->send[from];
    for (uint32_t to = 0; to < x->n && s->nparked > 0; to++) {
        if (s->outbox[to] == NULL || !push_or_park(x, from, to, s->outbox[to], waker))
            continue;
        s->outbox[to] = NULL;
        s->nparked--;
    }
    if (s->nparked > 0)
        return false;
    /* X5: markers go behind every piece of the step. */
    for (uint32_t to = 0; to < x->n && s->ndue > 0; to++) {
        if (!s->marker_due[to] || !push_or_park(x, from, to, XLINK_MARKER, waker))
            continue;
        s->marker_due[to] = false;
        s->ndue--;
    }
    return s->ndue == 0;
}

static bool incoming(xchg *x, uint32_t to)
{
    const xrecv *r = &x->recv[to];
    for (uint32_t from = 0; from < x->n; from++)
        if (!r->marked[from] && !xlink_empty(link_at(x, from, to)))
            return true;
    return false;
}

/* X9: a sender that cannot queue drains its own links before it waits, and
 * waits for either room or arrivals, so that workers sending to each other
 * (or a worker to itself) never wait on each other: a worker that is
 * pending has nothing queued for it that it could have taken. */
static ivm_rc settle(xchg *x, uint32_t from, rt_waker waker)
{
    for (;;) {
        if (push_parked(x, from, waker))
            return IVM_OK;
        ivm_rc rc = drain(x, from);
        if (rc != IVM_OK)
            return rc;
        if (push_parked(x, from, waker))
            return IVM_OK;
        xrecv *r = &x->recv[from];
        xwait_arm(&r->wait, waker);
        if (!incoming(x, from)) {
            r->waits++;
            return IVM_PENDING;
        }
        xwait_disarm(&r->wait);
    }
}

ivm_rc xchg_send_poll(xchg *x, uint32_t from, rt_waker waker)
{
    if (from >= x->n)
        return IVM_INVALID;
    return settle(x, from, waker);
}

ivm_rc xchg_flush(xchg *x, uint32_t from, rt_waker waker)
{
    if (from >= x->n)
        return IVM_INVALID;
    xsend *s = &x->send[from];
    if (s->nparked > 0) {
        ivm_rc rc = settle(x, from, waker); /* the outbox first (X5) */
        if (rc != IVM_OK)
            return rc;
    }
    if (s->ndue == 0) {
        for (uint32_t to = 0; to < x->n; to++)
            s->marker_due[to] = true;
        s->ndue = x->n;
    }
    return settle(x, from, waker);
}

ivm_rc xchg_collect(xchg *x, uint32_t to, rt_waker waker, spine_batch **out)
{
    if (to >= x->n)
        return IVM_INVALID;
    xrecv *r = &x->recv[to];
    for (;;) {
        ivm_rc rc = drain(x, to);
        if (rc != IVM_OK)
            return rc;
        if (r->nmarked == x->n)
            return finish(x, r, out);
        /* X4: announce the sleep, then look once more, so that a push that
         * raced with the announcement is either seen here or wakes us. */
        xwait_arm(&r->wait, waker);
        if (!incoming(x, to)) {
            r->waits++;
            return IVM_PENDING;
        }
        xwait_disarm(&r->wait);
    }
}

/* ---- Both ------------------------------------------------------------------ */

void xchg_reset(xchg *x)
{
    size_t nn = (size_t)x->n * x->n;
    for (size_t i = 0; i < nn; i++) {
        spine_batch *item;
        while ((item = xlink_pop(&x->links[i])) != NULL)
            if (item != XLINK_MARKER)
                spine_batch_unref(item);
        xlink_disarm(&x->links[i]);
    }
    for (uint32_t w = 0; w < x->n; w++) {
        xsend *s = &x->send[w];
        for (uint32_t to = 0; to < x->n; to++) {
            spine_batch_unref(s->outbox[to]);
            s->outbox[to] = NULL;
            s->marker_due[to] = false;
            spine_builder_clear(&s->bld[to]);
        }
        s->nparked = 0;
        s->ndue = 0;
        xrecv *r = &x->recv[w];
        acc_clear(r);
        memset(r->marked, 0, sizeof *r->marked * x->n);
        r->nmarked = 0;
        xwait_disarm(&r->wait);
    }
}

void xchg_wake_all(xchg *x)
{
    size_t nn = (size_t)x->n * x->n;
    for (size_t i = 0; i < nn; i++)
        xwait_wake(&x->links[i].space);
    for (uint32_t w = 0; w < x->n; w++)
        xwait_wake(&x->recv[w].wait);
}

void xchg_disarm_all(xchg *x)
{
    size_t nn = (size_t)x->n * x->n;
    for (size_t i = 0; i < nn; i++)
        xlink_disarm(&x->links[i]);
    for (uint32_t w = 0; w < x->n; w++)
        xwait_disarm(&x->recv[w].wait);
}

void xchg_stats_get(const xchg *x, xchg_stats *out)
{
    memset(out, 0, sizeof *out);
    out->queue_cap = x->cap;
    for (uint32_t w = 0; w < x->n; w++) {
        out->batches += x->send[w].batches;
        out->rows += x->send[w].rows;
        out->full += x->send[w].full;
        out->waits += x->recv[w].waits;
    }
    size_t nn = (size_t)x->n * x->n;
    for (size_t i = 0; i < nn; i++) {
        uint32_t m = xlink_max_seen(&x->links[i]);
        if (m > out->max_queued)
            out->max_queued = m;
    }
}
