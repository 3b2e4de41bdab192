/*
 * cursor.c: reads spines and extra batches as one consolidated batch.  One
 * run (position) per batch and a binary min-heap of runs ordered by their
 * (key, value) entry do the merging; the runs that sit on the current
 * (key, value) are taken out of the heap into the group while the cursor is
 * there, which is where their weights are summed.  Moving touches only the
 * runs at the current key (O(k log B) for k such runs of B), except seek
 * and rewind, which position every run.  All memory is taken at creation:
 * stepping allocates nothing.  The cursor holds a reference to every batch
 * it reads, so the spines may change (or be freed) under it (S10).  It does
 * not know how spines place batches.  README "Cursors".
 */
#include "spine_int.h"

struct spine_cursor {
    size_t nruns;
    spine_run *runs;
    uint32_t *heap;   /* runs with entries left, not in the group */
    size_t nheap;
    uint32_t *grp;    /* runs at the current (key, value) */
    size_t ngrp;
    uint32_t *at_key; /* runs met at the current key, for rewind_vals */
    size_t nat_key;
    size_t *lo;       /* per run: its first entry of the current key */
    uint64_t *seen;   /* per run: the key epoch it was last met in */
    uint64_t epoch;   /* bumped at every new key */
    const uint8_t *key, *val; /* point into held batches */
    size_t klen, vlen;
    int64_t w;
    bool key_valid, val_valid;
};

static void heap_push(spine_cursor *c, uint32_t r)
{
    c->heap[c->nheap] = r;
    spine_heap_up(c->runs, c->heap, c->nheap);
    c->nheap++;
}

static uint32_t heap_pop(spine_cursor *c)
{
    uint32_t r = c->heap[0];
    c->heap[0] = c->heap[--c->nheap];
    if (c->nheap > 0)
        spine_heap_down(c->runs, c->heap, c->nheap, 0);
    return r;
}

/* Moves the group's runs one entry on and back into the heap. */
static void release_group(spine_cursor *c)
{
    for (size_t g = 0; g < c->ngrp; g++) {
        spine_run *r = &c->runs[c->grp[g]];
        if (++r->pos < r->b->n)
            heap_push(c, c->grp[g]);
    }
    c->ngrp = 0;
}

/* From the heap as it stands, finds the next (key, value) of the current
 * key whose weights do not sum to zero, and stands on it; val_valid is
 * false if the key has no such value left. */
static void settle_val(spine_cursor *c)
{
    for (;;) {
        c->val_valid = false;
        if (c->nheap == 0)
            return;
        const spine_run *top = &c->runs[c->heap[0]];
        if (!spine_key_eq(top->b, top->pos, c->key, c->klen))
            return;
        const spine_batch *tb = top->b;
        size_t tpos = top->pos;
        int64_t w = 0;
        do {
            uint32_t r = heap_pop(c);
            if (c->seen[r] != c->epoch) {
                /* First meeting at this key: the run stands on its first
                 * entry of the key (entries are met in order). */
                c->seen[r] = c->epoch;
                c->lo[r] = c->runs[r].pos;
                c->at_key[c->nat_key++] = r;
            }
            w = spine_weight_add(w, c->runs[r].b->w[c->runs[r].pos]);
            c->grp[c->ngrp++] = r;
        } while (c->nheap > 0 &&
                 spine_entry_cmp(c->runs[c->heap[0]].b, c->runs[c->heap[0]].pos, tb, tpos) == 0);
        if (w != 0) {
            c->val = spine_batch_val(tb, tpos, &c->vlen);
            c->w = w;
            c->val_valid = true;
            return;
        }
        release_group(c); /* cancelled across batches: skip it */
    }
}

/* From the heap as it stands (no group), finds the first key with a value
 * whose weights do not sum to zero, and stands on that value. */
static void settle_key(spine_cursor *c)
{
    IVM_ASSERT(c->ngrp == 0);
    for (;;) {
        if (c->nheap == 0) {
            c->key_valid = c->val_valid = false;
            c->key = c->val = NULL;
            c->klen = c->vlen = 0;
            return;
        }
        const spine_run *top = &c->runs[c->heap[0]];
        c->key = spine_batch_key(top->b, top->pos, &c->klen);
        c->epoch++;
        c->nat_key = 0;
        settle_val(c);
        if (c->val_valid) {
            c->key_valid = true;
            return;
        }
        /* Every value of the key cancelled; settle_val left all runs past it. */
    }
}

/* Batches s holds now; a hint for sizing, read under the lock. */
static size_t spine_count(const spine *cs)
{
    spine *s = (spine *)cs; /* the lock is machinery, not contents */
    pthread_mutex_lock(&s->mu);
    size_t n = s->batches;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Appends a reference to every batch of s to c's runs, in one critical
 * section, so that the snapshot is one state of the spine: a merge
 * publishes under the same lock, hence the snapshot holds either all of a
 * merge's inputs or its output (keeps S10).  False, having taken nothing,
 * if more than room batches are there now. */
static bool snapshot(spine_cursor *c, const spine *cs, size_t room)
{
    spine *s = (spine *)cs;
    pthread_mutex_lock(&s->mu);
    if (s->batches > room) {
        pthread_mutex_unlock(&s->mu);
        return false;
    }
    for (unsigned l = 0; l < SPINE_LEVELS; l++)
        for (uint32_t k = 0; k < s->lv[l].n; k++)
            c->runs[c->nruns++].b = spine_batch_ref(s->lv[l].b[k]);
    pthread_mutex_unlock(&s->mu);
    return true;
}

static spine_cursor *cursor_alloc(size_t cap)
{
    /* One block: the cursor, then the 8-byte arrays, then the 4-byte ones. */
    size_t per_run = sizeof(spine_run) + sizeof(size_t) + sizeof(uint64_t) + 3 * sizeof(uint32_t);
    if (cap > (SIZE_MAX - sizeof(spine_cursor)) / per_run)
        return NULL;
    spine_cursor *c = ivm_malloc(sizeof(spine_cursor) + cap * per_run);
    if (c == NULL)
        return NULL;
    memset(c, 0, sizeof *c);
    c->runs = (spine_run *)(c + 1);
    c->lo = (size_t *)(c->runs + cap);
    c->seen = (uint64_t *)(c->lo + cap);
    c->heap = (uint32_t *)(c->seen + cap);
    c->grp = c->heap + cap;
    c->at_key = c->grp + cap;
    return c;
}

ivm_rc spine_cursor_new(const spine *const *spines, size_t nspines,
                        spine_batch *const *extra, size_t nextra, spine_cursor **out)
{
    size_t nx = 0;
    for (size_t i = 0; i < nextra; i++)
        if (extra[i] != NULL && extra[i]->n > 0)
            nx++;
    /* Merges only lower a spine's batch count, so the counts read first
     * usually still fit when the snapshots are taken; an insert from
     * another thread in between costs a retry with more room. */
    size_t slack = 0;
    for (;;) {
        size_t cap = nx + slack;
        for (size_t i = 0; i < nspines; i++)
            if (spines[i] != NULL)
                cap += spine_count(spines[i]);
        if (cap > UINT32_MAX)
            return IVM_INVALID;
        spine_cursor *c = cursor_alloc(cap);
        if (c == NULL)
            return IVM_NOMEM;
        bool fits = true;
        for (size_t i = 0; i < nspines && fits; i++)
            if (spines[i] != NULL)
                fits = snapshot(c, spines[i], cap - nx - c->nruns);
        if (!fits) {
            spine_cursor_free(c);
            slack = 2 * slack + SPINE_FANOUT;
            continue;
        }
        for (size_t i = 0; i < nextra; i++)
            if (extra[i] != NULL && extra[i]->n > 0)
                c->runs[c->nruns++].b = spine_batch_ref(extra[i]);
        for (size_t r = 0; r < c->nruns; r++)
            c->seen[r] = 0; /* epochs start at 1 */
        spine_cursor_rewind(c);
        *out = c;
        return IVM_OK;
    }
}

void spine_cursor_free(spine_cursor *c)
{
    if (c == NULL)
        return;
    for (size_t r = 0; r < c->nruns; r++)
        spine_batch_unref((spine_batch *)c->runs[r].b);
    ivm_free(c);
}

void spine_cursor_rewind(spine_cursor *c)
{
    for (size_t r = 0; r < c->nruns; r++)
        c->runs[r].pos = 0;
    c->ngrp = 0;
    c->nheap = spine_heap_make(c->runs, c->nruns, c->heap);
    settle_key(c);
}

void spine_cursor_seek_key(spine_cursor *c, const uint8_t *key, size_t klen)
{
    /* key may point into a held batch (the cursor's own key): it stays
     * valid, as the cursor keeps every batch alive. */
    for (size_t r = 0; r < c->nruns; r++)
        c->runs[r].pos = spine_batch_seek(c->runs[r].b, key, klen);
    c->ngrp = 0;
    c->nheap = spine_heap_make(c->runs, c->nruns, c->heap);
    settle_key(c);
}

bool spine_cursor_key_valid(const spine_cursor *c)
{
    return c->key_valid;
}

const uint8_t *spine_cursor_key(const spine_cursor *c, size_t *klen_out)
{
    *klen_out = c->klen;
    return c->key;
}

/* First entry at or after i whose key is not key, given that the entry at
 * i (if any) has key >= key.  Gallops, so stepping over a key with few
 * values costs O(1) and one with many O(log). */
static size_t skip_key(const spine_batch *b, size_t i, const uint8_t *key, size_t klen)
{
    size_t n = b->n;
    if (i >= n || !spine_key_eq(b, i, key, klen))
        return i;
    /* Entries in [i, lo] have the key; hi is n or an entry past it. */
    size_t lo = i, step = 1, hi;
    for (;;) {
        if (step >= n - lo) {
            hi = n;
            break;
        }
        if (!spine_key_eq(b, lo + step, key, klen)) {
            hi = lo + step;
            break;
        }
        lo += step;
        step *= 2;
    }
    lo++;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (spine_key_eq(b, mid, key, klen))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void spine_cursor_step_key(spine_cursor *c)
{
    if (!c->key_valid)
        return;
    /* Only runs at the current key move: the group, and heap runs whose
     * entry has the key.  Every other run already stands past it. */
    for (size_t g = 0; g < c->ngrp; g++) {
        uint32_t r = c->grp[g];
        c->runs[r].pos = skip_key(c->runs[r].b, c->runs[r].pos, c->key, c->klen);
        if (c->runs[r].pos < c->runs[r].b->n)
            heap_push(c, r);
    }
    c->ngrp = 0;
    while (c->nheap > 0) {
        uint32_t r = c->heap[0];
        if (!spine_key_eq(c->runs[r].b, c->runs[r].pos, c->key, c->klen))
            break;
        heap_pop(c);
        c->runs[r].pos = skip_key(c->runs[r].b, c->runs[r].pos, c->key, c->klen);
        if (c->runs[r].pos < c->runs[r].b->n)
            heap_push(c, r);
    }
    settle_key(c);
}

bool spine_cursor_val_valid(const spine_cursor *c)
{
    return c->val_valid;
}

const uint8_t *spine_cursor_val(const spine_cursor *c, size_t *vlen_out)
{
    *vlen_out = c->val_valid ? c->vlen : 0;
    return c->val_valid ? c->val : NULL;
}

int64_t spine_cursor_weight(const spine_cursor *c)
{
    return c->val_valid ? c->w : 0;
}

void spine_cursor_step_val(spine_cursor *c)
{
    if (!c->val_valid)
        return;
    release_group(c);
    settle_val(c);
}

void spine_cursor_rewind_vals(spine_cursor *c)
{
    if (!c->key_valid)
        return;
    /* Runs met at this key go back to its start; runs at the key but not
     * met yet never moved; the rest stand past it and stay. */
    for (size_t a = 0; a < c->nat_key; a++)
        c->runs[c->at_key[a]].pos = c->lo[c->at_key[a]];
    c->ngrp = 0;
    c->nheap = spine_heap_make(c->runs, c->nruns, c->heap);
    settle_val(c);
}
