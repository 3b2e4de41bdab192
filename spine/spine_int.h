/*
 * spine_int.h: layouts and helpers shared by the files of spine/ and by no
 * one else: the one-allocation batch writer, the entry order, the binary heap
 * of batch positions that both k-way merging and cursors use, and the spine's
 * level structure.  The invariants cited here (S1, S2, ...) are numbered in
 * spine/README.md.
 */
#ifndef IVM_SPINE_INT_H
#define IVM_SPINE_INT_H

#include "spine.h"

/* ---- Merge policy (README: merge policy) --------------------------------- */

/* A batch of n >= 1 entries lives at level floor(log4 n); a level that
 * reaches SPINE_FANOUT batches is merged into one.  Keeps S8 and S9. */
#define SPINE_FANOUT 4
#define SPINE_LEVEL_BITS 2 /* log2(SPINE_FANOUT) */
/* floor(log4(SIZE_MAX)) + 1: enough levels for any batch size. */
#define SPINE_LEVELS 32

static inline unsigned spine_level_of(size_t n)
{
    IVM_ASSERT(n > 0);
    return (unsigned)(63 - __builtin_clzll((unsigned long long)n)) / SPINE_LEVEL_BITS;
}

typedef struct spine_level {
    spine_batch *b[SPINE_FANOUT];
    uint32_t n;
} spine_level;

struct spine {
    spine_level lv[SPINE_LEVELS];
    size_t rows, bytes, batches, merges; /* kept in step with lv[] */
    ivm_rc rc;                           /* sticky failure, see spine.c */
};

/* ---- Batch writer -------------------------------------------------------- */

/* Writable views of a batch under construction.  A batch is written once,
 * by the function that allocated it, before anyone else sees it (S6); the
 * public struct holds const pointers because after that it is read-only. */
typedef struct spine_batch_mut {
    spine_batch *b;
    uint64_t *off;
    uint32_t *klen;
    int64_t *w;
    uint8_t *data;
    size_t n, bytes; /* written so far */
} spine_batch_mut;

/* Allocates one block with room for ncap entries and bcap data bytes, with
 * one reference; NULL on allocation failure or size overflow. */
spine_batch *spine_batch_alloc(size_t ncap, size_t bcap, spine_batch_mut *m_out);
/* Records the entries written through m and trims the block to them.  Never
 * fails (a failed shrink keeps the larger block); returns the batch, which
 * may have moved. */
spine_batch *spine_batch_seal(spine_batch_mut *m);
/* Bytes the batch holds: header, index arrays and data. */
size_t spine_batch_mem(const spine_batch *b);

/* Appends an entry.  The caller reserved room at alloc time. */
static inline void spine_mut_put(spine_batch_mut *m, const uint8_t *e, size_t len,
                                 uint32_t klen, int64_t w)
{
    if (len > 0)
        memcpy(m->data + m->bytes, e, len);
    m->klen[m->n] = klen;
    m->w[m->n] = w;
    m->bytes += len;
    m->n++;
    m->off[m->n] = m->bytes;
}

/* Drops the last entry appended (its weight consolidated to zero). */
static inline void spine_mut_drop_last(spine_batch_mut *m)
{
    IVM_ASSERT(m->n > 0);
    m->n--;
    m->bytes = (size_t)m->off[m->n];
}

/* Weights add modulo 2^64: a sum that overflows int64 is not a meaningful
 * Z-set anyway, and wrapping keeps it defined behaviour instead of UB. */
static inline int64_t spine_weight_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

/* ---- Entry order (S3) ---------------------------------------------------- */

/* Entries order by their whole bytes (key then value), which is (key, value)
 * order because encodings are prefix-free (S2); key length breaks the tie
 * of byte-equal entries split differently, so the order is total even on
 * input that mixes key widths. */
static inline int spine_entry_cmp_raw(const uint8_t *a, size_t alen, uint32_t aklen,
                                      const uint8_t *b, size_t blen, uint32_t bklen)
{
    int c = spine_row_cmp(a, alen, b, blen);
    if (c != 0)
        return c;
    return (aklen > bklen) - (aklen < bklen);
}

static inline int spine_entry_cmp(const spine_batch *a, size_t i, const spine_batch *b, size_t j)
{
    size_t alen, blen;
    const uint8_t *ap = spine_batch_row(a, i, &alen);
    const uint8_t *bp = spine_batch_row(b, j, &blen);
    return spine_entry_cmp_raw(ap, alen, a->klen[i], bp, blen, b->klen[j]);
}

static inline bool spine_key_eq(const spine_batch *b, size_t i, const uint8_t *key, size_t klen)
{
    return b->klen[i] == klen && (klen == 0 || memcmp(b->data + b->off[i], key, klen) == 0);
}

/* ---- Heap of batch positions --------------------------------------------- */

/* A position in one batch.  k-way merging and cursors keep one per input
 * batch and a binary min-heap of run indices ordered by the entry at pos;
 * runs at their end are kept out of the heap. */
typedef struct spine_run {
    const spine_batch *b;
    size_t pos; /* next entry */
} spine_run;

static inline bool spine_run_less(const spine_run *runs, uint32_t x, uint32_t y)
{
    return spine_entry_cmp(runs[x].b, runs[x].pos, runs[y].b, runs[y].pos) < 0;
}

static inline void spine_heap_down(const spine_run *runs, uint32_t *heap, size_t n, size_t at)
{
    uint32_t x = heap[at];
    for (;;) {
        size_t c = 2 * at + 1;
        if (c >= n)
            break;
        if (c + 1 < n && spine_run_less(runs, heap[c + 1], heap[c]))
            c++;
        if (!spine_run_less(runs, heap[c], x))
            break;
        heap[at] = heap[c];
        at = c;
    }
    heap[at] = x;
}

static inline void spine_heap_up(const spine_run *runs, uint32_t *heap, size_t at)
{
    uint32_t x = heap[at];
    while (at > 0) {
        size_t p = (at - 1) / 2;
        if (!spine_run_less(runs, x, heap[p]))
            break;
        heap[at] = heap[p];
        at = p;
    }
    heap[at] = x;
}

/* Rebuilds heap from every run that has entries left; returns its size. */
static inline size_t spine_heap_make(const spine_run *runs, size_t nruns, uint32_t *heap)
{
    size_t n = 0;
    for (size_t r = 0; r < nruns; r++)
        if (runs[r].pos < runs[r].b->n)
            heap[n++] = (uint32_t)r;
    for (size_t i = n / 2; i-- > 0;)
        spine_heap_down(runs, heap, n, i);
    return n;
}

/* ---- Merging ------------------------------------------------------------- */

/* Merges k consolidated batches (borrowed) into one new consolidated batch
 * in a single pass.  IVM_NOMEM on allocation failure. */
ivm_rc spine_batch_merge_many(const spine_batch *const *in, size_t k, spine_batch **out);

#endif /* IVM_SPINE_INT_H */
