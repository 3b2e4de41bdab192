/*
 * spine.c: the spine: an integral kept as immutable batches in levels by
 * size, merged so that their number stays logarithmic in the rows held.
 * In this version merges run synchronously inside spine_insert_take; the
 * background merger of a later issue takes over merge_level (a level that
 * fills is handed over instead of merged here) without changing the level
 * structure.  It does not read batches (cursor.c) or merge entries
 * (batch.c).  The policy and its arithmetic are in spine/README.md ("Merge
 * policy"); S7-S9 there.
 *
 * Failure: a merge that cannot allocate leaves every batch in place, so the
 * spine still holds the right sum (S7) and cursors read it, but its level is
 * over-full (breaks S9); the spine keeps the error (sticky) and refuses
 * further inserts and compaction, for its owner to decide what to do.
 */
#include "spine_int.h"

spine *spine_new(void)
{
    spine *s = ivm_calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->rc = IVM_OK;
    return s;
}

void spine_free(spine *s)
{
    if (s == NULL)
        return;
    for (unsigned l = 0; l < SPINE_LEVELS; l++)
        for (uint32_t k = 0; k < s->lv[l].n; k++)
            spine_batch_unref(s->lv[l].b[k]);
    ivm_free(s);
}

/* Adds a non-empty batch at the level its size decides (keeps S8). */
static unsigned place(spine *s, spine_batch *b)
{
    unsigned l = spine_level_of(b->n);
    IVM_ASSERT(s->lv[l].n < SPINE_FANOUT);
    s->lv[l].b[s->lv[l].n++] = b;
    s->rows += b->n;
    s->bytes += spine_batch_mem(b);
    s->batches++;
    return l;
}

static void forget(spine *s, spine_batch *b)
{
    s->rows -= b->n;
    s->bytes -= spine_batch_mem(b);
    s->batches--;
    spine_batch_unref(b);
}

/* Merges level l's batches into one and places it (if any rows survive
 * cancellation); *next_out is its level, or SPINE_LEVELS if none.  On
 * failure nothing changes. */
static ivm_rc merge_level(spine *s, unsigned l, unsigned *next_out)
{
    spine_level *lv = &s->lv[l];
    spine_batch *merged;
    ivm_rc rc = spine_batch_merge_many((const spine_batch *const *)lv->b, lv->n, &merged);
    if (rc != IVM_OK)
        return rc;
    for (uint32_t k = 0; k < lv->n; k++)
        forget(s, lv->b[k]);
    lv->n = 0;
    s->merges++;
    if (merged->n == 0) {
        spine_batch_unref(merged);
        *next_out = SPINE_LEVELS;
        return IVM_OK;
    }
    *next_out = place(s, merged);
    return IVM_OK;
}

ivm_rc spine_insert_take(spine *s, spine_batch *b_owned)
{
    if (b_owned == NULL)
        return IVM_OK;
    if (s == NULL || s->rc != IVM_OK) {
        ivm_rc rc = s == NULL ? IVM_INVALID : s->rc;
        spine_batch_unref(b_owned);
        return rc;
    }
    if (b_owned->n == 0) {
        spine_batch_unref(b_owned);
        return IVM_OK;
    }
    /* Every level held fewer than SPINE_FANOUT batches (S9), so only the
     * level just added to can be full; merging it places one batch on one
     * level, which again is the only one that can be full. */
    unsigned l = place(s, b_owned);
    while (l < SPINE_LEVELS && s->lv[l].n == SPINE_FANOUT) {
        ivm_rc rc = merge_level(s, l, &l);
        if (rc != IVM_OK) {
            s->rc = rc;
            return rc;
        }
    }
    return IVM_OK;
}

void spine_stats_get(const spine *s, spine_stats *out)
{
    out->rows = s->rows;
    out->bytes = s->bytes;
    out->batches = s->batches;
    out->merges = s->merges;
}

ivm_rc spine_compact(spine *s)
{
    if (s->rc != IVM_OK)
        return s->rc;
    if (s->batches <= 1)
        return IVM_OK; /* one batch is already consolidated (S3, S4) */
    const spine_batch *all[SPINE_LEVELS * SPINE_FANOUT];
    size_t k = 0;
    for (unsigned l = 0; l < SPINE_LEVELS; l++)
        for (uint32_t j = 0; j < s->lv[l].n; j++)
            all[k++] = s->lv[l].b[j];
    spine_batch *merged;
    ivm_rc rc = spine_batch_merge_many(all, k, &merged);
    if (rc != IVM_OK)
        return rc; /* nothing changed: not sticky */
    for (unsigned l = 0; l < SPINE_LEVELS; l++) {
        for (uint32_t j = 0; j < s->lv[l].n; j++)
            forget(s, s->lv[l].b[j]);
        s->lv[l].n = 0;
    }
    s->merges++;
    if (merged->n == 0)
        spine_batch_unref(merged);
    else
        place(s, merged);
    return IVM_OK;
}

ivm_rc spine_check(const spine *s)
{
    size_t rows = 0, bytes = 0, batches = 0;
    /* A failed spine may hold one full level (see the opening comment). */
    uint32_t limit = s->rc == IVM_OK ? SPINE_FANOUT - 1 : SPINE_FANOUT;
    for (unsigned l = 0; l < SPINE_LEVELS; l++) {
        const spine_level *lv = &s->lv[l];
        if (lv->n > limit)
            return IVM_CORRUPT; /* S9 */
        for (uint32_t k = 0; k < lv->n; k++) {
            const spine_batch *b = lv->b[k];
            if (b == NULL || b->n == 0 || spine_level_of(b->n) != l)
                return IVM_CORRUPT; /* S8 */
            if (spine_batch_check(b) != IVM_OK)
                return IVM_CORRUPT;
            rows += b->n;
            bytes += spine_batch_mem(b);
            batches++;
        }
    }
    if (rows != s->rows || bytes != s->bytes || batches != s->batches)
        return IVM_CORRUPT;
    return IVM_OK;
}
