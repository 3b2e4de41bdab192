/*
 * cursor.c: reads spines and extra batches as one consolidated batch.  It
 * snapshots each spine under the spine's lock.  One run (position, with its
 * entry and 8-byte prefix decoded) per batch and a winner tree over the
 * runs do the merging, as in a k-way merge: the winner is the run with the
 * smallest (key, value) entry; standing on a value means having read every
 * run's copy of that entry (advancing each and fixing its path in the tree)
 * and summed their weights, so each entry of each batch costs ceil(log2 k)
 * matches.  Stepping over a key gallops each run that is still at it.
 * Seeks search the batches in lockstep; a seek to a key after the current
 * one (joins and aggregates probe in ascending order) moves only the runs
 * behind the target, galloping from where they stand, and fixes their
 * paths instead of rebuilding the tree.  An exact seek (only the key's
 * values wanted) also asks each batch's key filter and leaves the runs of
 * batches that cannot hold the key behind, lazy, until a later move needs
 * them (S19).  A prefetch for the exact seeks of a delta's keys searches
 * for a group of them at once, read-only, so that their cache misses
 * overlap (spine_cursor_prefetch_exact).  All memory is taken at creation:
 * stepping and seeking allocate nothing (but a rare growth of the copy of
 * the last target).  The cursor holds a reference to every batch it reads,
 * so the spines may change (or be freed) under it (S10).  It does not know
 * how spines place batches.  README "Cursors".
 */
#include "spine_int.h"

/* Longest key a point reader's prefetch locates (longer ones are searched
 * by their seek), and the most hits one prefetch keeps. */
#define LOC_KEY_MAX 32
#define LOC_HITS 64

struct spine_cursor {
    size_t nruns;
    unsigned depth;   /* ceil(log2 nruns): matches per leaf fix */
    spine_run *runs;
    uint32_t *tree;   /* winner tree over the runs, 2 * nruns (tree_build) */
    uint32_t *at_key; /* runs met at the current key, for rewind_vals */
    size_t nat_key;
    uint32_t *mv;     /* scratch: the runs a seek moves */
    uint64_t *fkp;    /* scratch: per run, the target's fence key */
    uint64_t *vlo, *vhi; /* scratch: per run, fence values known at or below
                            lo and at or above hi, to interpolate between */
    uint8_t *ip;      /* scratch: per run, interpolation rounds left */
    size_t *lo;       /* per run: its first entry of the current key */
    size_t *hi, *step; /* scratch: per run, a seek's upper bound and gallop */
    uint64_t *seen;   /* per run: the key epoch it was last met in */
    uint8_t *lazy;    /* per run: left behind by an exact seek (S19); its
                         entry reads as the end, pos stays */
    size_t nlazy;
    uint8_t *near;    /* per run: the last exact seek moved it one entry at
                         most, so the next one searches it without asking
                         its filter */
    size_t *was;      /* scratch: per run, its position before a seek */
    size_t *gat;      /* scratch: per run, a fence search's guess this round */
    uint64_t epoch;   /* bumped at every new key */
    const uint8_t *key, *val; /* point into held batches */
    size_t klen, vlen;
    uint64_t kpfx;    /* prefix of the entry the key was taken from */
    int64_t w;
    bool key_valid, val_valid;
    bool first_val;   /* standing on the key's first value */
    /* The last seek was an exact one that missed: the cursor shows no key
     * until the next seek or rewind.  With key_valid, the runs stand as on
     * that key (S17 holds for it), which is only hidden; without, the runs
     * stand at the floor (S17's line is the floor). */
    bool missed;
    /* A point reader (spine_cursor_expect_exact): exact seeks search each
     * batch alone; at_key[0..nat_key) are the runs that hold the key, the
     * only ones that stand anywhere meaningful, and there is no tree. */
    bool point;
    /* A point reader's keys located by its last prefetch (point_locate):
     * loc[i]'s key (copied), and its hits, the runs that hold it and the
     * key's first entry in each, loc_run / loc_pos[first, first + n).
     * Positions in a snapshot never go stale, so any later seek of one of
     * these keys takes them instead of searching. */
    struct {
        uint8_t key[LOC_KEY_MAX];
        size_t klen;
        uint32_t first, n;
    } loc[SPINE_PREFETCH_KEYS];
    uint32_t nloc, loc_next;
    uint32_t loc_run[LOC_HITS];
    size_t loc_pos[LOC_HITS];
    /* The floor (S17): no key in [floor, key) has a value of non-zero
     * weight (with no key valid: no key >= floor has), so a seek to a
     * target in [floor, key] lands on key.  Kept by seeks (the target) and
     * rewind (the empty key); stepping over a key forgets it. */
    bool floor_valid;
    uint8_t *floor;   /* floor_small or owned */
    size_t floor_len, floor_cap;
    uint8_t floor_small[48];
};

/* The run with the smallest entry, or NULL if every run is at its end. */
static inline spine_run *winner(const spine_cursor *c)
{
    if (c->nruns == 0)
        return NULL;
    spine_run *r = &c->runs[c->tree[0]];
    return r->e != NULL ? r : NULL;
}

/*
 * The winner tree: leaf r is node k + r (tree[k + r] = r), node j's
 * children are 2j and 2j + 1, and internal node j (1 <= j < k) holds the
 * run with the smallest entry below it; tree[0] repeats the root's.  Unlike
 * the loser tree of a merge, where only the winner may move, any run may
 * move either way (a forward seek moves the runs behind the target,
 * rewind_vals moves runs back): fixing its leaf's path recomputes each node
 * from its two children, one match per level.  Fixing the paths of several
 * moved runs one after the other leaves every node right: a node's last
 * recomputation comes after that of every moved run below it.
 */
static void tree_build(spine_cursor *c)
{
    size_t k = c->nruns;
    uint32_t *t = c->tree;
    if (k == 0)
        return;
    for (size_t r = 0; r < k; r++)
        t[k + r] = (uint32_t)r;
    for (size_t j = k - 1; j >= 1; j--) {
        uint32_t a = t[2 * j], b = t[2 * j + 1];
        t[j] = spine_run_less(&c->runs[b], &c->runs[a]) ? b : a;
    }
    t[0] = t[1];
}

/* Run r's entry changed: recomputes the nodes on its leaf's path. */
static inline void tree_fix(spine_cursor *c, uint32_t r)
{
    const spine_run *runs = c->runs;
    uint32_t *t = c->tree, win = r;
    for (size_t j = c->nruns + r; j > 1; j /= 2) {
        /* With random keys each match is a coin toss: select with
         * arithmetic, not a branch (as spine_tree_replay). */
        uint32_t o = t[j ^ 1];
        uint64_t po = runs[o].pfx, pw = runs[win].pfx;
        uint64_t qo = runs[o].pfx2, qw = runs[win].pfx2;
        uint32_t swap = (po < pw) | ((po == pw) & (qo < qw));
        if (__builtin_expect((po == pw) & (qo == qw), 0))
            swap = spine_run_less(&runs[o], &runs[win]);
        win ^= (o ^ win) & (0u - swap);
        t[j / 2] = win;
    }
    t[0] = win;
}

/* Loads every run at its position and rebuilds the tree. */
static void tree_make(spine_cursor *c)
{
    for (size_t r = 0; r < c->nruns; r++)
        spine_run_load(&c->runs[r]);
    tree_build(c);
}

/* After the runs listed in rs[0..n) moved (and were loaded): fixes their
 * paths, or rebuilds the tree when that is fewer matches. */
static void tree_update(spine_cursor *c, const uint32_t *rs, size_t n)
{
    if (n * c->depth >= c->nruns) {
        tree_build(c);
        return;
    }
    for (size_t i = 0; i < n; i++)
        tree_fix(c, rs[i]);
}

/* Run r's position changed: reload it and fix its path. */
static inline void moved(spine_cursor *c, uint32_t r)
{
    spine_run_load(&c->runs[r]);
    tree_fix(c, r);
}

/* Stands on the value of entry e (len bytes, klen of key) with weight w,
 * the sum of its copies: true, unless they cancel (w == 0). */
static inline bool show_val(spine_cursor *c, const uint8_t *e, size_t len, uint32_t klen,
                            int64_t w)
{
    if (w == 0)
        return false;
    c->val = e + klen;
    c->vlen = len - klen;
    c->w = w;
    c->val_valid = true;
    return true;
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
        if (show_val(c, e, len, klen, w))
            return;
        /* Cancelled across batches: skip it. */
    }
}

/* From the runs as they stand, finds the first key with a value whose
 * weights do not sum to zero, and stands on that value. */
static void settle_key(spine_cursor *c)
{
    IVM_ASSERT(c->nlazy == 0); /* the winner must be every run's least */
    c->missed = false;
    for (;;) {
        spine_run *top = winner(c);
        if (top == NULL) {
            c->key_valid = c->val_valid = c->first_val = false;
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
            c->first_val = true;
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
    /* One block: the cursor, then the 8-byte arrays, then the 4-byte ones
     * (tree 2 * cap, at_key and mv cap each), then the lazy and near
     * flags and the interpolation rounds. */
    size_t per_run = sizeof(spine_run) + 5 * sizeof(size_t) + 4 * sizeof(uint64_t) +
                     4 * sizeof(uint32_t) + 3 * sizeof(uint8_t);
    if (cap > (SIZE_MAX - sizeof(spine_cursor)) / per_run)
        return NULL;
    spine_cursor *c = ivm_malloc(sizeof(spine_cursor) + cap * per_run);
    if (c == NULL)
        return NULL;
    memset(c, 0, sizeof *c);
    c->runs = (spine_run *)(c + 1);
    c->lo = (size_t *)(c->runs + cap);
    c->hi = c->lo + cap;
    c->step = c->hi + cap;
    c->was = c->step + cap;
    c->gat = c->was + cap;
    c->seen = (uint64_t *)(c->gat + cap);
    c->fkp = c->seen + cap;
    c->vlo = c->fkp + cap;
    c->vhi = c->vlo + cap;
    c->tree = (uint32_t *)(c->vhi + cap);
    c->at_key = c->tree + 2 * cap;
    c->mv = c->at_key + cap;
    c->lazy = (uint8_t *)(c->mv + cap);
    c->near = c->lazy + cap;
    c->ip = c->near + cap;
    c->floor = c->floor_small;
    c->floor_cap = sizeof c->floor_small;
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
        for (size_t r = 0; r < c->nruns; r++) {
            c->seen[r] = 0; /* epochs start at 1 */
            c->lazy[r] = 0;
            c->near[r] = 0;
        }
        while (((size_t)1 << c->depth) < c->nruns)
            c->depth++;
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
    if (c->floor != c->floor_small)
        ivm_free(c->floor);
    ivm_free(c);
}

/* Every run is about to be placed from scratch: none is lazy, and how
 * far the last seeks moved them says nothing about the next. */
static void forget_lazy(spine_cursor *c)
{
    memset(c->near, 0, c->nruns);
    if (c->nlazy == 0)
        return;
    memset(c->lazy, 0, c->nruns);
    c->nlazy = 0;
}

void spine_cursor_rewind(spine_cursor *c)
{
    c->point = false;
    forget_lazy(c);
    for (size_t r = 0; r < c->nruns; r++)
        c->runs[r].pos = 0;
    tree_make(c);
    settle_key(c);
    c->floor_len = 0; /* the empty key is below every key */
    c->floor_valid = true;
}

/* Three-way order of keys a and b, given their padded 8-byte prefixes
 * (spine_entry_pfx): spine_row_cmp's order, without a call to memcmp for
 * the short keys joins and aggregates probe with. */
static inline int key_cmp(const uint8_t *a, size_t al, uint64_t ap, const uint8_t *b, size_t bl,
                          uint64_t bp)
{
    if (ap != bp)
        return ap < bp ? -1 : 1;
    /* Equal padded prefixes: the first min(al, bl, 8) bytes are equal. */
    size_t m = al < bl ? al : bl;
    if (m > 8) {
        int c = spine_mem_cmp_after8(a, b, m);
        if (c != 0)
            return c;
    }
    return (al > bl) - (al < bl);
}

/* key_cmp of entry i's key in b with key (prefix kp). */
static inline int key_cmp_at(const spine_batch *b, size_t i, const uint8_t *key, size_t klen,
                             uint64_t kp)
{
    size_t il;
    const uint8_t *ik = spine_batch_key(b, i, &il);
    return key_cmp(ik, il, spine_entry_pfx(ik, il), key, klen, kp);
}

/* key_cmp of the key a run stands on (not at its end) with key. */
static inline int run_key_cmp(const spine_run *r, const uint8_t *key, size_t klen, uint64_t kp)
{
    /* The run's prefix is its entry's: the key's own only if the key has 8
     * bytes or more. */
    uint64_t rp = r->klen >= 8 ? r->pfx : spine_entry_pfx(r->e, r->klen);
    return key_cmp(r->e, r->klen, rp, key, klen, kp);
}

/* A forward seek gallops over the fences for at most this many probes
 * (1, 3 and 7 fences after the position's own: the cache line it already
 * touched and the next one or two), then interpolates and binary searches
 * the rest: a near target (ascending probes of a sorted delta) costs a
 * line or two, a far one (a random jump ahead) about what a full search
 * costs.  A fourth probe (15 ahead, one more line) made random seeks about
 * 10% slower. */
#define GALLOP_PROBES 3

/* Fences on a cache line. */
#define FENCES_PER_LINE (64 / sizeof(spine_fence))

/* A seek fetches a stretch's entry bytes ahead when they are at most this
 * many (about 16 lines). */
#define PREFETCH_BYTES 1024

/* Rounds of interpolation a search of the fences makes before it bisects,
 * and how far each round's guards stand from its guess (two lines of
 * fences, 128 entries, on either side). */
#define INTERP_ROUNDS 2
#define INTERP_GUARD (2 * FENCES_PER_LINE)

/* The guards of guess at within [lo, hi). */
static inline void fence_guards(size_t at, size_t lo, size_t hi, size_t *gl, size_t *gh)
{
    *gl = at >= lo + INTERP_GUARD ? at - INTERP_GUARD : lo;
    *gh = at + INTERP_GUARD < hi ? at + INTERP_GUARD : hi - 1;
}

/* The fence where k would stand if the fences between vlo (at lo) and
 * vhi (at hi) were evenly spread, within [lo, hi). */
static inline size_t interp_at(size_t lo, size_t hi, uint64_t vlo, uint64_t vhi, uint64_t k)
{
    size_t g = lo;
    if (k >= vhi)
        g = hi - 1;
    else if (k > vlo)
        g = lo + (size_t)((unsigned __int128)(k - vlo) * (hi - lo) / (vhi - vlo));
    return g < hi ? g : hi - 1;
}

/* A round of interpolation, read: the fences at guess g and its guards
 * narrow [*lo, *hi] (where the first fence >= k is) and the values known
 * at its ends, *vlo and *vhi. */
static inline void interp_narrow(const spine_fence *fence, uint64_t k, size_t g, size_t *lo,
                                 size_t *hi, uint64_t *vlo, uint64_t *vhi)
{
    size_t gl, gh;
    fence_guards(g, *lo, *hi, &gl, &gh);
    uint64_t fl = fence[gl].key, fa = fence[g].key, fh = fence[gh].key;
    if (fl >= k) {
        *hi = gl;
        *vhi = fl;
    } else if (fa >= k) {
        *lo = gl + 1;
        *vlo = fl;
        *hi = g;
        *vhi = fa;
    } else if (fh >= k) {
        *lo = g + 1;
        *vlo = fa;
        *hi = gh;
        *vhi = fh;
    } else {
        *lo = gh + 1;
        *vlo = fh;
    }
}

/* Run r's next probes of its fences while interpolating: the fence where
 * k would stand if the fences between vlo (at lo) and vhi (at hi) were
 * evenly spread, *at (kept in gat[r], so that the round's reads take it
 * from there instead of dividing again), and a guard INTERP_GUARD fences
 * before and after it, all within [lo, hi).  Keys that are evenly spread
 * (sequential ids, hashes, random numbers) put the target within the
 * guards, so one round of
 * misses narrows the search to the fences between the guess and a guard,
 * which bisection finishes on lines just fetched, where bisecting all the
 * fences takes log2(fences) rounds; keys that are not lose the round,
 * which still moves one end of the search past a guard. */
static inline void fence_guess(spine_cursor *c, uint32_t r, uint64_t k, size_t *gl, size_t *at,
                               size_t *gh)
{
    size_t g = interp_at(c->lo[r], c->hi[r], c->vlo[r], c->vhi[r], k);
    *at = c->gat[r] = g;
    fence_guards(g, c->lo[r], c->hi[r], gl, gh);
}

/* Sets the position of each run listed in rs[0..n) to its batch's first
 * entry with key >= key, as spine_batch_seek would, but searching the
 * batches in lockstep: each round first computes every batch's next probe
 * and prefetches it, then reads them all, so the cache misses of the
 * batches overlap instead of following one another (a seek over B large
 * batches costs about the misses of one, not B times as many).
 *
 * forward: every entry up to a listed run's position has a key < key (the
 * forward seek's precondition, checked by the caller), so the search
 * starts after it, galloping: the fences 1, 3, 7, ... after the position's
 * stretch, then a binary search of the bracket found.  Otherwise the search
 * covers each whole batch.  lo[] is scratch (the key it describes is being
 * left), as are hi[], step[] and fkp[]. */
static void seek_runs(spine_cursor *c, const uint32_t *rs, size_t n, const uint8_t *key,
                      size_t klen, uint64_t kp, bool forward)
{
    size_t *lo = c->lo, *hi = c->hi, *step = c->step;
    spine_run *runs = c->runs;
    uint64_t *fkp = c->fkp;
    bool any = false;
    /* Fences: the first fence >= fkp is in [lo, hi]; step > 0 while
     * galloping (hi is then the fence count), else ip rounds of
     * interpolation (fence_guess) before bisecting.  Batches without
     * fences, and those whose keys all lie on one side of key, skip this
     * (lo = hi = SIZE_MAX) and leave their entry bounds in pos and fkp. */
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rs[i];
        const spine_batch *b = runs[r].b;
        size_t after = forward ? runs[r].pos + 1 : 0;
        lo[r] = hi[r] = SIZE_MAX;
        step[r] = 0;
        if (!spine_batch_use_fences(b)) {
            runs[r].pos = after;
            fkp[r] = b->n;
            continue;
        }
        int where = spine_fence_key(b, key, klen, &fkp[r]);
        if (where != 0) {
            /* Below every key cannot happen going forward (the key at pos
             * is smaller), so after is right either way. */
            runs[r].pos = where < 0 ? after : b->n;
            fkp[r] = runs[r].pos;
            continue;
        }
        /* Going forward, fence pos / 16 is an entry's at or before pos:
         * its key is smaller, its fence <= fkp. */
        const spine_fence *fence = spine_batch_fences(b);
        lo[r] = forward ? runs[r].pos / SPINE_FENCE + 1 : 0;
        hi[r] = spine_fence_count(b->n);
        step[r] = forward && lo[r] < hi[r];
        c->ip[r] = forward ? 0 : INTERP_ROUNDS;
        if (!forward) {
            c->vlo[r] = fence[0].key;
            c->vhi[r] = fence[hi[r] - 1].key;
        }
        any |= lo[r] < hi[r];
    }
    while (any) {
        any = false;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rs[i];
            if (lo[r] >= hi[r])
                continue;
            const spine_fence *fence = spine_batch_fences(runs[r].b);
            if (step[r] > 0) {
                size_t at = lo[r] + step[r] - 1;
                __builtin_prefetch(&fence[at < hi[r] ? at : hi[r] - 1]);
            } else if (c->ip[r] > 0 && hi[r] - lo[r] > 2 * FENCES_PER_LINE) {
                size_t gl, at, gh;
                fence_guess(c, r, fkp[r], &gl, &at, &gh);
                __builtin_prefetch(&fence[gl]);
                __builtin_prefetch(&fence[at]);
                __builtin_prefetch(&fence[gh]);
            } else {
                size_t at = (lo[r] + hi[r]) / 2;
                __builtin_prefetch(&fence[at]);
                if (hi[r] - lo[r] > 2 * FENCES_PER_LINE) {
                    /* Bisecting: the next round probes one of the middles
                     * of the two halves; fetch both now, so that its miss
                     * overlaps this one instead of following it (a lone
                     * batch, whose rounds have nothing else to overlap,
                     * waits about half as long). */
                    __builtin_prefetch(&fence[(lo[r] + at) / 2]);
                    __builtin_prefetch(&fence[(at + 1 + hi[r]) / 2]);
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rs[i];
            if (lo[r] >= hi[r])
                continue;
            const spine_fence *fence = spine_batch_fences(runs[r].b);
            uint64_t k = fkp[r];
            if (step[r] > 0) {
                /* Galloping: every fence before lo is < fkp. */
                size_t at = lo[r] + step[r] - 1;
                if (at >= hi[r]) {
                    step[r] = 0; /* the rest, [lo, count) */
                } else if (fence[at].key >= k) {
                    hi[r] = at; /* bracketed: [lo, at] */
                    step[r] = 0;
                } else {
                    lo[r] = at + 1;
                    step[r] = step[r] < ((size_t)1 << (GALLOP_PROBES - 1)) ? 2 * step[r] : 0;
                }
                if (step[r] == 0 && hi[r] - lo[r] > 2 * FENCES_PER_LINE) {
                    /* A far target: interpolate over the rest, from the
                     * last fence passed (lo > 0 here: the gallop starts
                     * past fence 0) to the last fence. */
                    c->ip[r] = INTERP_ROUNDS;
                    c->vlo[r] = fence[lo[r] - 1].key;
                    c->vhi[r] = fence[hi[r] - 1].key;
                }
            } else if (c->ip[r] > 0 && hi[r] - lo[r] > 2 * FENCES_PER_LINE) {
                /* This round's guess, from the prefetch loop above. */
                interp_narrow(fence, k, c->gat[r], &lo[r], &hi[r], &c->vlo[r], &c->vhi[r]);
                c->ip[r]--;
            } else {
                size_t mid = (lo[r] + hi[r]) / 2;
                if (fence[mid].key < k)
                    lo[r] = mid + 1;
                else
                    hi[r] = mid;
            }
            any |= lo[r] < hi[r];
        }
    }
    /* Entries: lo..hi bound the first key >= key.  A stretch is short
     * (under 32 entries; a small batch is one): fetch its offsets, key
     * lengths and bytes, all lines at once, rather than two dependent
     * misses per step of the binary search below.  A batch with fences
     * has the stretch's bytes from its fences' offsets, which sit with the
     * fences the search just read: one round of misses (step[r] = 1 marks
     * it done).  A small batch needs its offsets first: a second round. */
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rs[i];
        const spine_batch *b = runs[r].b;
        step[r] = 0;
        if (lo[r] == SIZE_MAX) {
            lo[r] = runs[r].pos;
            hi[r] = (size_t)fkp[r];
        } else {
            /* The stretch starts after a fence < fkp, except going forward
             * when the fence after pos's stretch is already >= fkp (a
             * fence at or before pos may equal fkp): then the stretch
             * starts at or before pos, and the search after it. */
            size_t after = forward ? runs[r].pos + 1 : 0;
            spine_fence_stretch(b, lo[r], fkp[r], &lo[r], &hi[r]);
            if (lo[r] < after)
                lo[r] = after;
            if (lo[r] < hi[r] && hi[r] - lo[r] <= 2 * SPINE_FENCE) {
                size_t from, to;
                spine_fence_bytes(b, lo[r], hi[r], &from, &to);
                if (to - from <= PREFETCH_BYTES)
                    for (size_t at = from; at < to; at += 64)
                        __builtin_prefetch(b->data + at);
                step[r] = 1;
            }
        }
        any |= lo[r] < hi[r];
        if (lo[r] >= hi[r] || hi[r] - lo[r] > 2 * SPINE_FENCE)
            continue;
        __builtin_prefetch(&b->off[lo[r]]);
        __builtin_prefetch(&b->off[hi[r]]);
        __builtin_prefetch(&b->klen[lo[r]]);
        __builtin_prefetch(&b->klen[hi[r] - 1]);
    }
    for (size_t i = 0; any && i < n; i++) {
        uint32_t r = rs[i];
        const spine_batch *b = runs[r].b;
        if (step[r] || lo[r] >= hi[r] || hi[r] - lo[r] > 2 * SPINE_FENCE)
            continue;
        const uint8_t *from = b->data + b->off[lo[r]], *to = b->data + b->off[hi[r]];
        if (to - from <= PREFETCH_BYTES)
            for (const uint8_t *at = from; at < to; at += 64)
                __builtin_prefetch(at);
    }
    while (any) {
        any = false;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rs[i];
            if (lo[r] >= hi[r])
                continue;
            size_t mid = (lo[r] + hi[r]) / 2;
            __builtin_prefetch(&runs[r].b->off[mid]);
            __builtin_prefetch(&runs[r].b->klen[mid]);
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rs[i];
            if (lo[r] >= hi[r])
                continue;
            const spine_batch *b = runs[r].b;
            __builtin_prefetch(b->data + b->off[(lo[r] + hi[r]) / 2]);
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rs[i];
            if (lo[r] >= hi[r])
                continue;
            size_t mid = (lo[r] + hi[r]) / 2;
            if (key_cmp_at(runs[r].b, mid, key, klen, kp) < 0)
                lo[r] = mid + 1;
            else
                hi[r] = mid;
            any |= lo[r] < hi[r];
        }
    }
    for (size_t i = 0; i < n; i++)
        runs[rs[i]].pos = lo[rs[i]];
}

/* Moves every lazy run, and every run that stands on a key < key, to its
 * first entry with a key >= key, and repairs the tree.  Valid when every
 * entry before each run's position has a key < key (the runs stand at or
 * after the position a full search would give), and every entry up to a
 * lazy run's position too (S19): a lazy run stands on a key below the
 * floor <= key. */
static void seek_runs_forward(spine_cursor *c, const uint8_t *key, size_t klen, uint64_t kp)
{
    size_t nm = 0;
    for (size_t r = 0; r < c->nruns; r++) {
        spine_run *run = &c->runs[r];
        if (c->lazy[r] || (run->e != NULL && run_key_cmp(run, key, klen, kp) < 0)) {
            c->lazy[r] = 0;
            c->mv[nm++] = (uint32_t)r;
        }
    }
    c->nlazy = 0;
    seek_runs(c, c->mv, nm, key, klen, kp, true);
    for (size_t i = 0; i < nm; i++)
        spine_run_load(&c->runs[c->mv[i]]);
    tree_update(c, c->mv, nm);
}

/* Remembers key as the floor (a copy: the caller's bytes may change). */
static void set_floor(spine_cursor *c, const uint8_t *key, size_t klen)
{
    if (klen > c->floor_cap) {
        /* Grows rarely (keys longer than any before), never per row. */
        size_t cap = klen > 2 * c->floor_cap ? klen : 2 * c->floor_cap;
        uint8_t *nf = ivm_malloc(cap);
        if (nf == NULL) {
            c->floor_valid = false; /* seeks below the key search in full */
            return;
        }
        if (c->floor != c->floor_small)
            ivm_free(c->floor);
        c->floor = nf;
        c->floor_cap = cap;
    }
    if (klen > 0)
        memcpy(c->floor, key, klen);
    c->floor_len = klen;
    c->floor_valid = true;
}

/* Order of the floor (when valid) against key: key_cmp's. */
static int floor_cmp(const spine_cursor *c, const uint8_t *key, size_t klen, uint64_t kp)
{
    IVM_ASSERT(c->floor_valid);
    return key_cmp(c->floor, c->floor_len, spine_entry_pfx(c->floor, c->floor_len), key, klen, kp);
}

/* True if the floor is known and <= key. */
static bool floor_at_or_below(const spine_cursor *c, const uint8_t *key, size_t klen, uint64_t kp)
{
    return c->floor_valid && floor_cmp(c, key, klen, kp) <= 0;
}

/* Order of the cursor's key (key_valid) against key. */
static int cur_cmp(const spine_cursor *c, const uint8_t *key, size_t klen, uint64_t kp)
{
    uint64_t cp = c->klen >= 8 ? c->kpfx : spine_entry_pfx(c->key, c->klen);
    return key_cmp(c->key, c->klen, cp, key, klen, kp);
}

/* Forward: every run stands at or after where a full search would put it
 * (entries before them have keys <= the line < key: S17; lazy ones stand
 * below the floor: S19); the floor rises to key (keeps S17). */
static void seek_forward(spine_cursor *c, const uint8_t *key, size_t klen, uint64_t kp)
{
    seek_runs_forward(c, key, klen, kp);
    set_floor(c, key, klen);
    settle_key(c);
}

/* Searches every batch in full for key, as if nothing were known. */
static void seek_full(spine_cursor *c, const uint8_t *key, size_t klen, uint64_t kp)
{
    forget_lazy(c);
    for (size_t r = 0; r < c->nruns; r++)
        c->mv[r] = (uint32_t)r;
    seek_runs(c, c->mv, c->nruns, key, klen, kp, false);
    tree_make(c);
    set_floor(c, key, klen);
    settle_key(c);
}

void spine_cursor_seek_key(spine_cursor *c, const uint8_t *key, size_t klen)
{
    IVM_ASSERT(!c->point);
    /* key may point into a held batch (the cursor's own key): it stays
     * valid, as the cursor keeps every batch alive. */
    uint64_t kp = spine_entry_pfx(key, klen);
    if (c->key_valid) {
        /* Shown, or hidden by an exact seek that missed: either way the
         * runs stand as on the key (S17). */
        int cmp = cur_cmp(c, key, klen, kp);
        if (cmp < 0) {
            seek_forward(c, key, klen, kp);
            return;
        }
        if (cmp == 0 || floor_at_or_below(c, key, klen, kp)) {
            /* The target is in [floor, key]: the cursor's key is the answer. */
            c->missed = false;
            spine_cursor_rewind_vals(c);
            return;
        }
    } else if (c->missed) {
        /* An exact seek missed its target, the floor: the runs stand at or
         * after it, the lazy ones below it (S17, S19), so a target at or
         * after the floor is forward. */
        if (floor_cmp(c, key, klen, kp) <= 0) {
            seek_forward(c, key, klen, kp);
            return;
        }
    } else if (floor_at_or_below(c, key, klen, kp)) {
        return; /* no key at or after the floor, so none after key */
    }
    seek_full(c, key, klen, kp);
}

/* After a search that settled on a key (or none): true if it is key;
 * otherwise the cursor hides it (a miss). */
static bool landed_on(spine_cursor *c, const uint8_t *key, size_t klen, uint64_t kp)
{
    if (c->key_valid && cur_cmp(c, key, klen, kp) == 0)
        return true;
    c->missed = c->key_valid;
    return false;
}

static void point_settle_val(spine_cursor *c);

/* The end of an exact seek: with at a run standing on the target's first
 * entry, stands on the target at its first value whose weights do not
 * cancel and returns true; with at NULL, or no such value, shows no key
 * and returns false. */
static bool exact_landed(spine_cursor *c, const spine_run *at)
{
    if (at != NULL) {
        c->key = at->e; /* in a held batch */
        c->klen = at->klen;
        c->kpfx = at->pfx;
        if (c->point)
            point_settle_val(c);
        else
            settle_val(c);
        if (c->val_valid) {
            c->key_valid = true;
            c->first_val = true;
            return true;
        }
    }
    c->key_valid = c->val_valid = c->first_val = false;
    c->key = c->val = NULL;
    c->klen = c->vlen = 0;
    return false;
}

/* The exact seek forward (key after the line): the runs a forward seek
 * would move are those standing below key, and the lazy ones.  Of these,
 * the batches whose filters cannot hold key are left where they stand,
 * lazy (keeps S19: their entries up to there are below the line < key,
 * and they hold no key); the others are searched from where they stand.
 * Then the cursor stands on key if the searched runs hold a value of it
 * with non-zero weight, reading only their copies of it: a lazy run holds
 * none. */
static bool seek_exact_forward(spine_cursor *c, const uint8_t *key, size_t klen, uint64_t kp)
{
    set_floor(c, key, klen);
    if (!c->floor_valid) {
        /* No copy of the target to catch lazy runs up to later: move
         * everything now. */
        seek_runs_forward(c, key, klen, kp);
        settle_key(c);
        return landed_on(c, key, klen, kp);
    }
    spine_run *runs = c->runs;
    uint32_t *mv = c->mv, *gone = c->at_key; /* at_key: scratch, the key is left */
    spine_filter_probe fp;
    spine_filter_probe_init(&fp, spine_filter_hash(key, klen));
    uint64_t h = fp.h;
    size_t nc = 0;
    for (size_t r = 0; r < c->nruns; r++) {
        spine_run *run = &runs[r];
        if (c->lazy[r] || (run->e != NULL && run_key_cmp(run, key, klen, kp) < 0)) {
            mv[nc++] = (uint32_t)r;
            if (!c->near[r] && run->b->filter != NULL) /* the probes' misses overlap */
                __builtin_prefetch(spine_filter_block(run->b, h));
        }
    }
    size_t nm = 0, ngone = 0;
    for (size_t i = 0; i < nc; i++) {
        uint32_t r = mv[i];
        /* Probes denser than the batch's keys (the last seek moved the run
         * one entry at most: a large delta into a trace of a similar size)
         * find the key next to where the run stands, on lines its last
         * search touched, which costs less than asking the filter, a line
         * at a random place. */
        if (c->near[r] || spine_filter_probe_may_hold(runs[r].b, &fp)) {
            mv[nm++] = r; /* nm <= i: in place */
            if (c->lazy[r]) {
                c->lazy[r] = 0;
                c->nlazy--;
            }
        } else if (!c->lazy[r]) {
            c->lazy[r] = 1;
            c->nlazy++;
            runs[r].e = NULL; /* out of the tree: reads as its end */
            runs[r].pfx = runs[r].pfx2 = SPINE_PFX_END;
            gone[ngone++] = r;
        }
    }
    for (size_t i = 0; i < nm; i++)
        c->was[mv[i]] = runs[mv[i]].pos;
    seek_runs(c, mv, nm, key, klen, kp, true);
    for (size_t i = 0; i < nm; i++) {
        uint32_t r = mv[i];
        spine_run_load(&runs[r]);
        /* A small batch has no fences to gallop on, and its filter is one
         * block, likely in cache. */
        c->near[r] = spine_batch_use_fences(runs[r].b) && runs[r].pos - c->was[r] <= 1;
    }
    memcpy(mv + nm, gone, ngone * sizeof *mv);
    tree_update(c, mv, nm + ngone);
    /* Only the key's values: settle_val, not settle_key, which would take
     * the least key of the runs that are not lazy for the next one. */
    c->epoch++;
    c->nat_key = 0;
    c->missed = false;
    spine_run *top = winner(c);
    if (exact_landed(c, top != NULL && spine_run_key_eq(top, key, klen, kp) ? top : NULL))
        return true;
    /* No value of key: the runs that held it stand past it, the others at
     * or after it, the lazy ones below it (S17 with the floor as line). */
    c->missed = true;
    return false;
}

/* Fetches the lines of [p, p + len) into the cache (len > 0). */
static inline void prefetch_span(const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)63, e = (uintptr_t)p + len;
    for (; a < e; a += 64)
        __builtin_prefetch((const void *)a);
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

/* ---- Point reads -------------------------------------------------------------
 *
 * A few keys far apart in a large snapshot (a commit of a few rows probing
 * a join's or an aggregate's state) gain nothing from the merged order:
 * each forward seek moves every batch that stands below the target, asks
 * its filter, and re-orders the winner tree, and its gallop from where a
 * batch stands fails when the last key was thousands of entries back.  A
 * point reader answers each exact seek by asking every batch's filter and
 * searching alone each batch that may hold the key, from scratch; the
 * batches that hold it are the only runs it keeps, and their values are
 * merged by a scan of those few (README "Cursors", point reads). */

/* Keys far apart: fewer than one per this many entries of the snapshot
 * (the span a forward seek's gallop covers, 7 fences of 16 entries, about
 * as PF_DENSE). */
#define POINT_SPARSE 128

/* Key counts up to this many may be read by points; more are a bulk
 * probe, which the forward seeks and spine_cursor_prefetch_exact serve
 * with their cache misses overlapped across keys and batches. */
#define POINT_MAX_KEYS 64

bool spine_cursor_expect_exact(spine_cursor *c, size_t nkeys)
{
    size_t entries = 0;
    for (size_t r = 0; r < c->nruns; r++)
        entries += c->runs[r].b->n;
    if (nkeys == 0 || nkeys > POINT_MAX_KEYS || nkeys > entries / POINT_SPARSE)
        return c->point;
    c->point = true;
    c->nat_key = 0;
    c->nloc = c->loc_next = 0;
    c->key_valid = c->val_valid = c->first_val = c->missed = false;
    c->floor_valid = false;
    c->key = c->val = NULL;
    c->klen = c->vlen = 0;
    return true;
}

/* From the runs at the key (at_key), stands on the key's next value whose
 * weights do not sum to zero: the least entry of the runs still on the
 * key, its weights summed over the runs that hold it, those runs moved
 * past it.  val_valid is false if none is left. */
static void point_settle_val(spine_cursor *c)
{
    spine_run *runs = c->runs;
    for (;;) {
        c->val_valid = false;
        spine_run *top = NULL;
        for (size_t a = 0; a < c->nat_key; a++) {
            spine_run *run = &runs[c->at_key[a]];
            if (spine_run_key_eq(run, c->key, c->klen, c->kpfx) &&
                (top == NULL || spine_run_less(run, top)))
                top = run;
        }
        if (top == NULL)
            return;
        const uint8_t *e = top->e;
        size_t len = top->len;
        uint32_t klen = top->klen;
        uint64_t pfx = top->pfx;
        int64_t w = 0;
        for (size_t a = 0; a < c->nat_key; a++) {
            spine_run *run = &runs[c->at_key[a]];
            if (spine_run_same(run, e, len, klen, pfx)) {
                w = spine_weight_add(w, run->b->w[run->pos]);
                run->pos++;
                spine_run_load(run);
            }
        }
        if (show_val(c, e, len, klen, w))
            return;
        /* Cancelled across batches: the next value. */
    }
}

/* The first entry of b whose key is >= key (prefix kp), or b->n: through
 * the fences, first by interpolation (two rounds with their guards, as
 * seek_runs), then bisection, then the stretch they leave, compared by
 * prefix (key_cmp_at) rather than memcmp. */
static size_t point_search(const spine_batch *b, const uint8_t *key, size_t klen, uint64_t kp)
{
    size_t lo = 0, hi = b->n;
    if (spine_batch_use_fences(b)) {
        uint64_t k;
        int where = spine_fence_key(b, key, klen, &k);
        if (where != 0)
            return where < 0 ? 0 : b->n;
        const spine_fence *fence = spine_batch_fences(b);
        size_t flo = 0, fhi = spine_fence_count(b->n); /* the first fence >= k: in [flo, fhi] */
        uint64_t vlo = fence[0].key, vhi = fence[fhi - 1].key;
        for (int round = 0; round < INTERP_ROUNDS && fhi - flo > 2 * FENCES_PER_LINE; round++)
            interp_narrow(fence, k, interp_at(flo, fhi, vlo, vhi, k), &flo, &fhi, &vlo, &vhi);
        while (flo < fhi) {
            size_t mid = (flo + fhi) / 2;
            if (fence[mid].key < k)
                flo = mid + 1;
            else
                fhi = mid;
        }
        spine_fence_stretch(b, flo, k, &lo, &hi);
    }
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (key_cmp_at(b, mid, key, klen, kp) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* One (key, batch) search of point_locate: the first entry >= key in
 * batch b, by rounds (the fences as point_search, then the stretch by
 * bisection); stage FENCES, ENTRIES or done. */
typedef struct loc_pair {
    const spine_batch *b;
    const uint8_t *key;
    size_t klen;
    uint64_t kp, fk;     /* the key's prefix, its fence key */
    size_t lo, hi;       /* fences: the first >= fk in [lo, hi]; entries: in [lo, hi] */
    uint64_t vlo, vhi;   /* fence values at or below lo, at or above hi */
    uint32_t run, key_i; /* its run, its key's index in the group */
    uint8_t stage, ip;
} loc_pair;

enum { LOC_FENCES, LOC_ENTRIES, LOC_DONE };

/* Starts pair p: its fences' search, or (a small batch, or a key outside
 * the batch's fence range) its entries'. */
static void loc_start(loc_pair *p)
{
    const spine_batch *b = p->b;
    p->lo = 0;
    p->hi = b->n;
    p->stage = LOC_ENTRIES;
    if (!spine_batch_use_fences(b))
        return;
    int where = spine_fence_key(b, p->key, p->klen, &p->fk);
    if (where != 0) {
        p->lo = p->hi = where < 0 ? 0 : b->n;
        p->stage = LOC_DONE;
        return;
    }
    const spine_fence *fence = spine_batch_fences(b);
    p->hi = spine_fence_count(b->n);
    p->vlo = fence[0].key;
    p->vhi = fence[p->hi - 1].key;
    p->ip = INTERP_ROUNDS;
    p->stage = LOC_FENCES;
}

/* The probes p's next step reads: fetched one round ahead. */
static void loc_fetch(const loc_pair *p)
{
    const spine_batch *b = p->b;
    if (p->stage == LOC_FENCES) {
        const spine_fence *fence = spine_batch_fences(b);
        size_t lo = p->lo, hi = p->hi;
        if (p->ip > 0 && hi - lo > 2 * FENCES_PER_LINE) {
            size_t g = interp_at(lo, hi, p->vlo, p->vhi, p->fk), gl, gh;
            fence_guards(g, lo, hi, &gl, &gh);
            __builtin_prefetch(&fence[gl]);
            __builtin_prefetch(&fence[g]);
            __builtin_prefetch(&fence[gh]);
        } else if (lo < hi) {
            size_t mid = (lo + hi) / 2;
            __builtin_prefetch(&fence[mid]);
            __builtin_prefetch(&fence[(lo + mid) / 2]);
            __builtin_prefetch(&fence[(mid + 1 + hi) / 2]);
        }
    } else if (p->stage == LOC_ENTRIES && p->lo < p->hi) {
        size_t mid = (p->lo + p->hi) / 2;
        __builtin_prefetch(b->data + b->off[mid]);
    }
}

/* One step of p on the lines loc_fetch fetched. */
static void loc_step(loc_pair *p)
{
    const spine_batch *b = p->b;
    if (p->stage == LOC_FENCES) {
        const spine_fence *fence = spine_batch_fences(b);
        uint64_t k = p->fk;
        size_t lo = p->lo, hi = p->hi;
        if (p->ip > 0 && hi - lo > 2 * FENCES_PER_LINE) {
            interp_narrow(fence, k, interp_at(lo, hi, p->vlo, p->vhi, k), &p->lo, &p->hi, &p->vlo,
                          &p->vhi);
            p->ip--;
        } else if (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (fence[mid].key < k)
                p->lo = mid + 1;
            else
                p->hi = mid;
        }
        if (p->lo >= p->hi) {
            /* The fences are done: the stretch, its offsets and key
             * lengths fetched for the bisection of its entries. */
            size_t from, to;
            spine_fence_stretch(b, p->lo, k, &from, &to);
            p->lo = from;
            p->hi = to;
            p->stage = LOC_ENTRIES;
            if (from < to) {
                prefetch_span(&b->off[from], (to + 1 - from) * sizeof *b->off);
                prefetch_span(&b->klen[from], (to - from) * sizeof *b->klen);
            }
        }
        return;
    }
    if (p->lo < p->hi) {
        size_t mid = (p->lo + p->hi) / 2;
        if (key_cmp_at(b, mid, p->key, p->klen, p->kp) < 0)
            p->lo = mid + 1;
        else
            p->hi = mid;
    }
    if (p->lo >= p->hi)
        p->stage = LOC_DONE;
}

/* spine_cursor_prefetch_exact for a point reader: locates the group's
 * keys, all of them at once.  Round one fetches every (key, batch) filter
 * block; round two asks the filters and starts a search for each pair a
 * filter lets through (every batch without a filter too); each later
 * round fetches every live pair's next probes, then steps each on what it
 * fetched, so that the misses of all keys and batches overlap.  The
 * positions found (the key's first entry in each batch that holds it) are
 * kept in loc[], and the key's seek takes them without asking a filter or
 * searching: each search is made once. */
static size_t point_locate(spine_cursor *c, const spine_batch *keys, size_t from)
{
    struct {
        const uint8_t *key;
        size_t klen, at;
        spine_filter_probe fp;
    } k[SPINE_PREFETCH_KEYS];
    size_t nk = 0, end = from;
    for (; end < keys->n && nk < SPINE_PREFETCH_KEYS; end = spine_batch_key_end(keys, end)) {
        k[nk].at = end;
        k[nk].key = spine_batch_key(keys, end, &k[nk].klen);
        spine_filter_probe_init(&k[nk].fp, spine_filter_hash(k[nk].key, k[nk].klen));
        nk++;
    }
    for (size_t j = 0; j < nk; j++)
        for (size_t r = 0; r < c->nruns; r++)
            if (c->runs[r].b->filter != NULL)
                __builtin_prefetch(spine_filter_block(c->runs[r].b, k[j].fp.h));
    loc_pair pr[LOC_HITS];
    size_t np = 0, nloc = 0;
    for (size_t j = 0; j < nk; j++) {
        if (k[j].klen > LOC_KEY_MAX)
            continue; /* its seek searches */
        size_t np0 = np;
        bool full = false;
        for (size_t r = 0; r < c->nruns && !full; r++) {
            const spine_batch *b = c->runs[r].b;
            if (!spine_filter_probe_may_hold(b, &k[j].fp))
                continue;
            if (np == LOC_HITS) {
                full = true;
                break;
            }
            loc_pair *p = &pr[np++];
            p->b = b;
            p->key = k[j].key;
            p->klen = k[j].klen;
            p->kp = spine_entry_pfx(k[j].key, k[j].klen);
            p->run = (uint32_t)r;
            p->key_i = (uint32_t)nloc;
            loc_start(p);
        }
        if (full) {
            np = np0; /* this key and the rest: the next call */
            end = j > 0 ? k[j].at : spine_batch_key_end(keys, k[0].at);
            break;
        }
        memcpy(c->loc[nloc].key, k[j].key, k[j].klen);
        c->loc[nloc].klen = k[j].klen;
        nloc++;
    }
    for (bool live = np > 0; live;) {
        live = false;
        for (size_t i = 0; i < np; i++)
            if (pr[i].stage != LOC_DONE)
                loc_fetch(&pr[i]);
        for (size_t i = 0; i < np; i++)
            if (pr[i].stage != LOC_DONE) {
                loc_step(&pr[i]);
                live |= pr[i].stage != LOC_DONE;
            }
    }
    /* The hits, key by key (pairs were made key by key). */
    uint32_t nh = 0;
    for (size_t i = 0, q = 0; q < nloc; q++) {
        c->loc[q].first = nh;
        for (; i < np && pr[i].key_i == q; i++) {
            const loc_pair *p = &pr[i];
            if (p->lo < p->b->n && key_eq_at(p->b, p->lo, p->key, p->klen, p->kp)) {
                c->loc_run[nh] = p->run;
                c->loc_pos[nh] = p->lo;
                nh++;
            }
        }
        c->loc[q].n = nh - c->loc[q].first;
    }
    c->nloc = (uint32_t)nloc;
    c->loc_next = 0;
    return end;
}

/* The index in loc[] of key, if the last prefetch located it, else -1:
 * the next one in order first (seeks follow the delta), then any. */
static long loc_find(const spine_cursor *c, const uint8_t *key, size_t klen)
{
    for (uint32_t t = 0; t < c->nloc; t++) {
        uint32_t q = (c->loc_next + t) % c->nloc;
        if (c->loc[q].klen == klen && memcmp(c->loc[q].key, key, klen) == 0)
            return (long)q;
    }
    return -1;
}

/* The exact seek of a point reader: any order of targets. */
static bool point_seek(spine_cursor *c, const uint8_t *key, size_t klen, uint64_t kp)
{
    spine_run *runs = c->runs;
    size_t nat = 0;
    long q = c->nloc > 0 ? loc_find(c, key, klen) : -1;
    if (q >= 0) {
        for (uint32_t i = c->loc[q].first; i < c->loc[q].first + c->loc[q].n; i++) {
            uint32_t r = c->loc_run[i];
            runs[r].pos = c->lo[r] = c->loc_pos[i];
            spine_run_load(&runs[r]);
            c->at_key[nat++] = r;
        }
        c->loc_next = (uint32_t)q + 1 < c->nloc ? (uint32_t)q + 1 : 0;
    } else {
        spine_filter_probe fp;
        spine_filter_probe_init(&fp, spine_filter_hash(key, klen));
        for (size_t r = 0; r < c->nruns; r++) {
            spine_run *run = &runs[r];
            if (!spine_filter_probe_may_hold(run->b, &fp))
                continue;
            run->pos = point_search(run->b, key, klen, kp);
            spine_run_load(run);
            if (spine_run_key_eq(run, key, klen, kp)) {
                c->lo[r] = run->pos;
                c->at_key[nat++] = (uint32_t)r;
            }
        }
    }
    c->nat_key = nat;
    c->missed = false;
    return exact_landed(c, nat > 0 ? &runs[c->at_key[0]] : NULL);
}

bool spine_cursor_seek_exact(spine_cursor *c, const uint8_t *key, size_t klen)
{
    uint64_t kp = spine_entry_pfx(key, klen);
    if (c->point)
        return point_seek(c, key, klen, kp);
    if (c->key_valid) {
        int cmp = cur_cmp(c, key, klen, kp);
        if (cmp < 0)
            return seek_exact_forward(c, key, klen, kp);
        if (cmp == 0) {
            c->missed = false;
            spine_cursor_rewind_vals(c);
            return true;
        }
        if (floor_at_or_below(c, key, klen, kp)) {
            c->missed = true; /* in [floor, key): no key there (S17) */
            return false;
        }
    } else if (c->missed) {
        int cmp = floor_cmp(c, key, klen, kp);
        if (cmp < 0)
            return seek_exact_forward(c, key, klen, kp);
        if (cmp == 0)
            return false; /* the target that just missed */
    } else if (floor_at_or_below(c, key, klen, kp)) {
        return false; /* no key at or after the floor */
    }
    seek_full(c, key, klen, kp);
    return landed_on(c, key, klen, kp);
}

/* ---- Prefetching for exact seeks to come ------------------------------------
 *
 * A seek's misses overlap across batches (seek_runs' lockstep) but not
 * across keys: an operator probing with the keys of a small delta waits
 * for one key's chain of misses (filter, fences, then the stretch's
 * offsets, key lengths, bytes and weights) before it starts the next.
 * The keys are known up front, so spine_cursor_prefetch_exact searches
 * for a group of them at once, read-only, in the lockstep seek_runs uses
 * across batches, but across (key, batch) pairs: each round issues the
 * next probe of every pair before reading any.  The search mirrors the
 * forward search of seek_runs from where each run stands now, so the
 * lines it fetches are the ones the seeks that follow read; they compute
 * everything again, and only find it in the cache (README "Cursors",
 * prefetching). */

/* Pairs (key, batch) one call follows at most: a group of keys stops
 * before a key whose pairs would not fit. */
#define PF_PAIRS 64

/* Batches of fewer entries than this are not prefetched for: they are
 * made by recent steps (older ones were merged into larger ones), so
 * their few lines are likely in the cache already, and asking each one's
 * filter twice, once here and once in the seek, cost an aggregate's state
 * lookups (a cursor over 20 or 30 batches, most of them small) more than
 * the prefetch saved. */
#define PF_MIN_ENTRIES 4096

/* Nor batches with fewer than this many entries per key of the delta:
 * probes that dense find each key in the fences a seek gallops over from
 * where the last one left (up to 7 fences, 112 entries, ahead), on lines
 * that seek touched, and prefetching only repeated the seeks' work (a join
 * of 10,000-row deltas into a 100,000-row trace took 13 to 23% longer). */
#define PF_DENSE 128

/* Rounds of misses one call waits for at most: the filters and the
 * gallop's fences, then the fence search (two rounds of interpolation,
 * two steps of bisection per round after), then the stretch.  Evenly
 * spread keys take four or five; a search that needs more leaves the rest
 * to the seek. */
#define PF_ROUNDS 8

/* A prefetch fetches a stretch's bytes when they are at most this many
 * (64 lines, a page): more than a seek fetches at once (PREFETCH_BYTES),
 * since the seek's binary search over a longer stretch, rows of an
 * aggregate's state say, would otherwise wait for its bytes step by
 * step. */
#define PF_STRETCH_BYTES 4096

/* One (key, batch) pair of a prefetch whose batch's filter let the key
 * through: the state of its read-only search of the fences (lo, hi,
 * step, ip, vlo, vhi as in seek_runs; g the interpolation guess fetched
 * if guessed, ready the bisection steps fetched). */
typedef struct pf_pair {
    const spine_batch *b;
    const uint8_t *key;
    size_t klen;
    uint64_t fk;     /* the key's fence key */
    size_t pos;      /* where the run stands */
    size_t lo, hi, step, g;
    uint64_t vlo, vhi;
    uint8_t ip, ready, guessed;
} pf_pair;


/* Entries [from, to) of b (a batch with fences) may hold the key:
 * fetches their offsets, key lengths, weights and bytes (whose bounds the
 * fences hold: spine_fence_bytes). */
static void pf_stretch(const spine_batch *b, size_t from, size_t to)
{
    size_t bf, bt;
    spine_fence_bytes(b, from, to, &bf, &bt);
    if (bt > bf && bt - bf <= PF_STRETCH_BYTES)
        prefetch_span(b->data + bf, bt - bf);
    prefetch_span(&b->off[from], (to + 1 - from) * sizeof *b->off);
    prefetch_span(&b->klen[from], (to - from) * sizeof *b->klen);
    prefetch_span(&b->w[from], (to - from) * sizeof *b->w);
}

/* One round of p's search of the fences, as seek_runs'
 * forward search goes: reads the probes fetched the round before (the
 * gallop's in the first), then fetches the next round's and returns true;
 * or, the search done, fetches the stretch and returns false. */
static bool pf_fences(pf_pair *p)
{
    const spine_fence *fence = spine_batch_fences(p->b);
    uint64_t k = p->fk;
    while (p->lo < p->hi) {
        if (p->step > 0) {
            /* Galloping over the fences stage one fetched. */
            size_t at = p->lo + p->step - 1;
            if (at >= p->hi) {
                p->step = 0;
            } else if (fence[at].key >= k) {
                p->hi = at;
                p->step = 0;
            } else {
                p->lo = at + 1;
                p->step = p->step < ((size_t)1 << (GALLOP_PROBES - 1)) ? 2 * p->step : 0;
            }
            if (p->step == 0 && p->hi - p->lo > 2 * FENCES_PER_LINE) {
                p->ip = INTERP_ROUNDS;
                p->vlo = fence[p->lo - 1].key;
                p->vhi = fence[p->hi - 1].key;
            }
            continue;
        }
        size_t lo = p->lo, hi = p->hi;
        if (p->ip > 0 && hi - lo > 2 * FENCES_PER_LINE) {
            size_t gl, gh;
            if (!p->guessed) {
                size_t g = interp_at(lo, hi, p->vlo, p->vhi, k);
                p->g = g;
                p->guessed = 1;
                fence_guards(g, lo, hi, &gl, &gh);
                __builtin_prefetch(&fence[gl]);
                __builtin_prefetch(&fence[g]);
                __builtin_prefetch(&fence[gh]);
                return true;
            }
            p->guessed = 0;
            interp_narrow(fence, k, p->g, &p->lo, &p->hi, &p->vlo, &p->vhi);
            p->ip--;
            continue;
        }
        size_t mid = (lo + hi) / 2;
        if (p->ready == 0) {
            /* Bisecting: this step's probe and both of the next's. */
            __builtin_prefetch(&fence[mid]);
            __builtin_prefetch(&fence[(lo + mid) / 2]);
            __builtin_prefetch(&fence[(mid + 1 + hi) / 2]);
            p->ready = 2;
            return true;
        }
        p->ready--;
        if (fence[mid].key < k)
            p->lo = mid + 1;
        else
            p->hi = mid;
    }
    size_t from, to;
    spine_fence_stretch(p->b, p->lo, k, &from, &to);
    if (from <= p->pos)
        from = p->pos + 1;
    if (from < to && to - from <= 2 * SPINE_FENCE)
        pf_stretch(p->b, from, to);
    return false;
}

/* Pair p's first round after its batch's filter let the key through:
 * false (p is done) if nothing is left to fetch. */
static bool pf_start(pf_pair *p)
{
    if (spine_fence_key(p->b, p->key, p->klen, &p->fk) != 0)
        return false; /* outside the batch's keys: the seek searches nothing */
    p->lo = p->pos / SPINE_FENCE + 1;
    p->hi = spine_fence_count(p->b->n);
    p->step = p->lo < p->hi;
    p->ip = 0;
    p->ready = 0;
    p->guessed = 0;
    return pf_fences(p);
}

/* Follows pairs pr[0..np) through their later rounds: each advances every
 * live pair by one round of misses, issued before the next pair's are
 * read; done pairs drop out. */
static void pf_rounds(pf_pair *pr, size_t np)
{
    for (unsigned round = 2; round < PF_ROUNDS && np > 0; round++) {
        size_t live = 0;
        for (size_t j = 0; j < np; j++) {
            pf_pair *p = &pr[j];
            if (pf_fences(p) && live++ != j)
                pr[live - 1] = *p;
        }
        np = live;
    }
}

/* True if an exact seek to key now would search run r, as far as the
 * cursor knows before asking the filters (seek_exact_forward's choice):
 * a lazy run, or one standing below key.  A near run is searched where it
 * stands, on lines its last seek touched, and a run at its last entry has
 * nothing after it: both are left out. */
static inline bool pf_wanted(const spine_cursor *c, size_t r, size_t min_n, const uint8_t *key,
                             size_t klen, uint64_t kp)
{
    const spine_run *run = &c->runs[r];
    if (run->b->n < min_n || c->near[r] || run->pos + 1 >= run->b->n)
        return false;
    return c->lazy[r] || (run->e != NULL && run_key_cmp(run, key, klen, kp) < 0);
}

size_t spine_cursor_prefetch_exact(spine_cursor *c, const spine_batch *keys, size_t from)
{
    if (keys == NULL || from >= keys->n)
        return keys == NULL ? from : keys->n;
    if (c->point)
        return point_locate(c, keys, from);
    struct {
        const uint8_t *key;
        size_t klen, at; /* at: the key's first entry in keys */
        uint64_t kp, h;
    } k[SPINE_PREFETCH_KEYS];
    size_t nk = 0, end = from;
    /* Batches worth it: not small ones (young, so likely cached, and a
     * few lines in all), nor those the delta probes densely (each seek
     * gallops from where the last left, over lines it touched). */
    size_t min_n = keys->n < SIZE_MAX / PF_DENSE ? keys->n * PF_DENSE : SIZE_MAX;
    if (min_n < PF_MIN_ENTRIES)
        min_n = PF_MIN_ENTRIES;
    bool any = false;
    for (size_t r = 0; r < c->nruns && !any; r++)
        any = c->runs[r].b->n >= min_n;
    if (!any)
        return keys->n; /* no batch worth it for any key of the delta */
    for (; end < keys->n && nk < SPINE_PREFETCH_KEYS; end = spine_batch_key_end(keys, end)) {
        k[nk].at = end;
        k[nk].key = spine_batch_key(keys, end, &k[nk].klen);
        k[nk].kp = spine_entry_pfx(k[nk].key, k[nk].klen);
        k[nk].h = spine_filter_hash(k[nk].key, k[nk].klen);
        nk++;
    }
    /* Round one, for every key and every run its seek would search: the
     * filter block, and the fences a forward search gallops over first
     * (1, 3 and 7 after the position's, as seek_runs). */
    for (size_t j = 0; j < nk; j++)
        for (size_t r = 0; r < c->nruns; r++) {
            if (!pf_wanted(c, r, min_n, k[j].key, k[j].klen, k[j].kp))
                continue;
            const spine_batch *b = c->runs[r].b;
            if (b->filter != NULL)
                __builtin_prefetch(spine_filter_block(b, k[j].h));
            if (spine_batch_use_fences(b)) {
                const spine_fence *fence = spine_batch_fences(b);
                size_t f = c->runs[r].pos / SPINE_FENCE + 1, nf = spine_fence_count(b->n);
                for (size_t d = 0; d < GALLOP_PROBES && f + ((size_t)2 << d) - 2 < nf; d++)
                    __builtin_prefetch(&fence[f + ((size_t)2 << d) - 2]);
            }
        }
    /* Round two: the pairs (key, run) whose filter lets the key through
     * start their searches.  A key whose pairs do not all fit is left,
     * with the keys after it, to the next call (the first key always
     * fits: a cursor's runs beyond PF_PAIRS go without). */
    pf_pair pr[PF_PAIRS];
    size_t np = 0;
    for (size_t j = 0; j < nk; j++) {
        size_t np0 = np;
        bool full = false;
        for (size_t r = 0; r < c->nruns && !full; r++) {
            if (!pf_wanted(c, r, min_n, k[j].key, k[j].klen, k[j].kp) ||
                !spine_filter_may_hold(c->runs[r].b, k[j].h))
                continue;
            if (np == PF_PAIRS) {
                full = true;
                break;
            }
            pf_pair *p = &pr[np];
            p->b = c->runs[r].b;
            p->key = k[j].key;
            p->klen = k[j].klen;
            p->pos = c->runs[r].pos;
            np += pf_start(p);
        }
        if (full && j > 0) {
            np = np0; /* its pairs' first round is fetched: harmless */
            end = k[j].at;
            break;
        }
    }
    pf_rounds(pr, np);
    return end;
}

bool spine_cursor_key_valid(const spine_cursor *c)
{
    return c->key_valid && !c->missed;
}

const uint8_t *spine_cursor_key(const spine_cursor *c, size_t *klen_out)
{
    *klen_out = c->missed ? 0 : c->klen;
    return c->missed ? NULL : c->key;
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

/* Brings the lazy runs up to the current key (S19: every entry up to
 * their positions is below it, and they do not hold it), so that they
 * stand on their first key after it. */
static void catch_up(spine_cursor *c)
{
    if (c->nlazy == 0)
        return;
    size_t n = 0;
    for (size_t r = 0; r < c->nruns; r++)
        if (c->lazy[r]) {
            c->lazy[r] = 0;
            c->mv[n++] = (uint32_t)r;
        }
    c->nlazy = 0;
    uint64_t kp = spine_entry_pfx(c->key, c->klen);
    seek_runs(c, c->mv, n, c->key, c->klen, kp, true);
    for (size_t i = 0; i < n; i++)
        spine_run_load(&c->runs[c->mv[i]]);
    tree_update(c, c->mv, n);
}

void spine_cursor_step_key(spine_cursor *c)
{
    IVM_ASSERT(!c->point);
    if (!c->key_valid || c->missed)
        return;
    catch_up(c);
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
    c->floor_valid = false; /* the key stepped over lies below the next */
    settle_key(c);
}

bool spine_cursor_val_valid(const spine_cursor *c)
{
    return c->val_valid && !c->missed;
}

const uint8_t *spine_cursor_val(const spine_cursor *c, size_t *vlen_out)
{
    bool v = spine_cursor_val_valid(c);
    *vlen_out = v ? c->vlen : 0;
    return v ? c->val : NULL;
}

int64_t spine_cursor_weight(const spine_cursor *c)
{
    return spine_cursor_val_valid(c) ? c->w : 0;
}

void spine_cursor_step_val(spine_cursor *c)
{
    if (!c->val_valid || c->missed)
        return;
    c->first_val = false;
    if (c->point)
        point_settle_val(c);
    else
        settle_val(c); /* the runs already stand past the current value */
}

void spine_cursor_rewind_vals(spine_cursor *c)
{
    if (!c->key_valid || c->first_val || c->missed)
        return; /* standing on the first value already, or on no key */
    /* Runs met at this key go back to its start; runs at the key but not
     * met yet never moved; the rest stand past it and stay. */
    for (size_t a = 0; a < c->nat_key; a++) {
        spine_run *run = &c->runs[c->at_key[a]];
        run->pos = c->lo[c->at_key[a]];
        spine_run_load(run);
    }
    if (c->point) {
        point_settle_val(c);
    } else {
        tree_update(c, c->at_key, c->nat_key);
        settle_val(c);
    }
    c->first_val = true;
}
