/*
 * cursor.c: reads spines and extra batches as one consolidated batch.  It
 * snapshots each spine under the spine's lock.  One run (position, with its
 * entry and 8-byte prefix decoded) per batch and a loser tree over the runs
 * do the merging, as in a k-way merge: the winner is the run with the
 * smallest (key, value) entry; standing on a value means having read every
 * run's copy of that entry (advancing each and replaying the tree) and
 * summed their weights, so each entry of each batch costs one replay of
 * ceil(log2 k) matches.  Stepping over a key gallops each run that is still
 * at it.  Seeks search all batches in lockstep.  All memory is taken at
 * creation: stepping allocates nothing.  The cursor holds a reference to
 * every batch it reads, so the spines may change (or be freed) under it
 * (S10).  It does not know how spines place batches.  README "Cursors".
 */
#include "spine_int.h"

struct spine_cursor {
    size_t nruns;
    spine_run *runs;
    uint32_t *tree;   /* loser tree over the runs; 2 * nruns (scratch for builds) */
    uint32_t *at_key; /* runs met at the current key, for rewind_vals */
    size_t nat_key;
    size_t *lo;       /* per run: its first entry of the current key */
    uint64_t *seen;   /* per run: the key epoch it was last met in */
    uint64_t epoch;   /* bumped at every new key */
    const uint8_t *key, *val; /* point into held batches */
    size_t klen, vlen;
    uint64_t kpfx;    /* prefix of the entry the key was taken from */
    int64_t w;
    bool key_valid, val_valid;
};

/* The run with the smallest entry, or NULL if every run is at its end. */
static inline spine_run *winner(const spine_cursor *c)
{
    if (c->nruns == 0)
        return NULL;
    spine_run *r = &c->runs[c->tree[0]];
    return r->e != NULL ? r : NULL;
}

/* Loads every run at its position and rebuilds the tree. */
static void tree_make(spine_cursor *c)
{
    for (size_t r = 0; r < c->nruns; r++)
        spine_run_load(&c->runs[r]);
    if (c->nruns > 0)
        spine_tree_build(c->runs, c->tree, c->nruns, c->tree + c->nruns);
}

/* Run r's position changed: reload it and replay its leaf. */
static inline void moved(spine_cursor *c, uint32_t r)
{
    spine_run_load(&c->runs[r]);
    spine_tree_replay(c->runs, c->tree, c->nruns, r);
}

/* From the runs as they stand, finds the next (key, value) of the current
 * key whose weights do not sum to zero, and stands on it: every run's copy
 * of the entry has been read (the runs stand past it) and the weights
 * summed.  val_valid is false if the key has no such value left. */
static void settle_val(spine_cursor *c)
{
    for (;;) {
        c->val_valid = false;
        spine_run *top = winner(c);
        if (top == NULL || !spine_run_key_eq(top, c->key, c->klen, c->kpfx))
            return;
        /* The entry, copied: the runs move on below, the bytes stay. */
        const uint8_t *e = top->e;
        size_t len = top->len;
        uint32_t klen = top->klen;
        uint64_t pfx = top->pfx;
        int64_t w = 0;
        do {
            uint32_t r = c->tree[0];
            if (c->seen[r] != c->epoch) {
                /* First meeting at this key: the run stands on its first
                 * entry of the key (entries are met in order). */
                c->seen[r] = c->epoch;
                c->lo[r] = c->runs[r].pos;
                c->at_key[c->nat_key++] = r;
            }
            w = spine_weight_add(w, c->runs[r].b->w[c->runs[r].pos]);
            c->runs[r].pos++;
            moved(c, r);
        } while (spine_run_same(&c->runs[c->tree[0]], e, len, klen, pfx));
        if (w != 0) {
            c->val = e + klen;
            c->vlen = len - klen;
            c->w = w;
            c->val_valid = true;
            return;
        }
        /* Cancelled across batches: skip it. */
    }
}

/* From the runs as they stand, finds the first key with a value whose
 * weights do not sum to zero, and stands on that value. */
static void settle_key(spine_cursor *c)
{
    for (;;) {
        spine_run *top = winner(c);
        if (top == NULL) {
            c->key_valid = c->val_valid = false;
            c->key = c->val = NULL;
            c->klen = c->vlen = 0;
            return;
        }
        c->key = top->e;
        c->klen = top->klen;
        c->kpfx = top->pfx;
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
    c->tree = (uint32_t *)(c->seen + cap);
    c->at_key = c->tree + 2 * cap;
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
    tree_make(c);
    settle_key(c);
}

/* Sets every run's pos to its batch's first entry with key >= key, as
 * spine_batch_seek would, but searching all batches in lockstep: each round
 * first computes every batch's next probe and prefetches it, then reads
 * them all, so the cache misses of the batches overlap instead of following
 * one another (a seek over B large batches costs about the misses of one,
 * not B times as many).  lo[] and pos serve as each run's bounds (lo[] is
 * scratch here: the key it describes is being left). */
static void seek_runs(spine_cursor *c, const uint8_t *key, size_t klen)
{
    size_t nr = c->nruns, *lo = c->lo;
    spine_run *runs = c->runs;
    uint64_t kp = spine_entry_pfx(key, klen);
    bool any = false;
    /* Fences: lo..pos bound the first fence >= kp. */
    for (size_t r = 0; r < nr; r++) {
        lo[r] = 0;
        runs[r].pos = spine_batch_use_fences(runs[r].b) ? spine_fence_count(runs[r].b->n) : 0;
        any |= runs[r].pos > 0;
    }
    while (any) {
        any = false;
        for (size_t r = 0; r < nr; r++)
            if (lo[r] < runs[r].pos)
                __builtin_prefetch(spine_batch_fences(runs[r].b) + (lo[r] + runs[r].pos) / 2);
        for (size_t r = 0; r < nr; r++) {
            if (lo[r] >= runs[r].pos)
                continue;
            size_t mid = (lo[r] + runs[r].pos) / 2;
            if (spine_batch_fences(runs[r].b)[mid] < kp)
                lo[r] = mid + 1;
            else
                runs[r].pos = mid;
            any |= lo[r] < runs[r].pos;
        }
    }
    /* Entries: lo..pos bound the first key >= key. */
    for (size_t r = 0; r < nr; r++) {
        const spine_batch *b = runs[r].b;
        if (spine_batch_use_fences(b)) {
            spine_fence_stretch(b, lo[r], kp, &lo[r], &runs[r].pos);
        } else {
            lo[r] = 0;
            runs[r].pos = b->n;
        }
        any |= lo[r] < runs[r].pos;
    }
    while (any) {
        any = false;
        for (size_t r = 0; r < nr; r++) {
            if (lo[r] >= runs[r].pos)
                continue;
            size_t mid = (lo[r] + runs[r].pos) / 2;
            __builtin_prefetch(&runs[r].b->off[mid]);
            __builtin_prefetch(&runs[r].b->klen[mid]);
        }
        for (size_t r = 0; r < nr; r++) {
            if (lo[r] >= runs[r].pos)
                continue;
            const spine_batch *b = runs[r].b;
            __builtin_prefetch(b->data + b->off[(lo[r] + runs[r].pos) / 2]);
        }
        for (size_t r = 0; r < nr; r++) {
            if (lo[r] >= runs[r].pos)
                continue;
            const spine_batch *b = runs[r].b;
            size_t mid = (lo[r] + runs[r].pos) / 2, mklen;
            const uint8_t *mk = spine_batch_key(b, mid, &mklen);
            if (spine_row_cmp(mk, mklen, key, klen) < 0)
                lo[r] = mid + 1;
            else
                runs[r].pos = mid;
            any |= lo[r] < runs[r].pos;
        }
    }
}

void spine_cursor_seek_key(spine_cursor *c, const uint8_t *key, size_t klen)
{
    /* key may point into a held batch (the cursor's own key): it stays
     * valid, as the cursor keeps every batch alive. */
    seek_runs(c, key, klen);
    tree_make(c);
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

/* True if entry i of b has key key[0..klen), whose first 8 bytes (or all
 * of them, zero-padded) are kpfx.  Keys of 8 bytes and more compare their
 * first 8 bytes as one integer before calling memcmp on the rest. */
static inline bool key_eq_at(const spine_batch *b, size_t i, const uint8_t *key, size_t klen,
                             uint64_t kpfx)
{
    if (b->klen[i] != klen)
        return false;
    const uint8_t *e = b->data + b->off[i];
    if (klen < 8)
        return spine_mem_eq(e, key, klen);
    uint64_t p;
    memcpy(&p, e, 8);
    return __builtin_bswap64(p) == kpfx && spine_mem_eq(e + 8, key + 8, klen - 8);
}

/* First entry after i whose key is not key, given that entry i has the
 * key.  Gallops, so stepping over a key with few values costs O(1) and one
 * with many O(log). */
static size_t skip_key(const spine_batch *b, size_t i, const uint8_t *key, size_t klen,
                       uint64_t kpfx)
{
    size_t n = b->n;
    /* Entries in [i, lo] have the key; hi is n or an entry past it. */
    size_t lo = i, step = 1, hi;
    for (;;) {
        if (step >= n - lo) {
            hi = n;
            break;
        }
        if (!key_eq_at(b, lo + step, key, klen, kpfx)) {
            hi = lo + step;
            break;
        }
        lo += step;
        step *= 2;
    }
    lo++;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_eq_at(b, mid, key, klen, kpfx))
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
    /* Runs still at the current key come out of the tree as winners, one
     * after the other; each gallops past the key.  Every other run already
     * stands past it. */
    for (;;) {
        spine_run *top = winner(c);
        if (top == NULL || !spine_run_key_eq(top, c->key, c->klen, c->kpfx))
            break;
        top->pos = skip_key(top->b, top->pos, c->key, c->klen, c->kpfx);
        moved(c, c->tree[0]);
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
    settle_val(c); /* the runs already stand past the current value */
}

void spine_cursor_rewind_vals(spine_cursor *c)
{
    if (!c->key_valid)
        return;
    /* Runs met at this key go back to its start; runs at the key but not
     * met yet never moved; the rest stand past it and stay. */
    for (size_t a = 0; a < c->nat_key; a++)
        c->runs[c->at_key[a]].pos = c->lo[c->at_key[a]];
    tree_make(c);
    settle_val(c);
}
