/*
 * batch.c: immutable sorted batches: their one-block layout with fences,
 * reference counting, seeking (fences first), checking, and the
 * consolidating merges: two-way for callers, and the resumable k-way merge
 * (a loser tree over runs) that merge jobs run in slices and compaction runs
 * whole.  It does not sort unordered input (that is builder.c) and does not
 * decide when or what to merge (spine.c, merger.c).  Layout and invariants
 * S3-S6 are in spine/README.md ("Batches", "The k-way merge").
 */
#include "spine_int.h"

#include <errno.h>
#include <sys/mman.h>

/* The block is [header | off[n+1] | w[n] | klen[n] | data[bytes] | fence |
 * filter]: off and w start 8-byte aligned because the header size is
 * rounded up and they hold 8-byte elements ahead of the 4-byte klen; the
 * fences start at the next multiple of 8 after the data
 * (spine_batch_fences: pairs of a key prefix and its entry's offset); the
 * key filter, if any, at the first address after them that is a multiple
 * of FILTER_ALIGN. */
#define HDR_SIZE ((sizeof(spine_batch) + 7) & ~(size_t)7)
#define FILTER_BLOCK_BYTES (SPINE_FILTER_WORDS * sizeof(uint64_t))
#define FILTER_ALIGN FILTER_BLOCK_BYTES /* a block within one cache line */

/* Filter blocks for a batch of n entries (S18): none below
 * SPINE_FILTER_MIN entries, else SPINE_FILTER_BITS bits per entry, rounded
 * up to whole blocks.  Per entry, not per distinct key: counting the keys
 * would cost one more pass over the entries at every seal, and a batch
 * with many values per key only gets a sparser filter (fewer false
 * positives) for at most 1.25 bytes per entry. */
static size_t filter_blocks_for(size_t n)
{
    if (n < SPINE_FILTER_MIN)
        return 0;
    size_t bits = 8 * FILTER_BLOCK_BYTES;
    return (n * SPINE_FILTER_BITS + bits - 1) / bits;
}

/* Block size for ncap entries, bcap data bytes and a filter of nblocks
 * blocks (with room to align it), or 0 on overflow.  A sealed batch of
 * fewer entries, bytes or filter blocks fits in the block of a larger
 * capacity, fences and filter included. */
static size_t block_size(size_t ncap, size_t bcap, size_t nblocks)
{
    /* Under these bounds nothing below can overflow (nblocks is at most
     * ncap * SPINE_FILTER_BITS / 256 + 1). */
    if (ncap > SIZE_MAX / 64 || bcap > SIZE_MAX / 4)
        return 0;
    size_t data_end = HDR_SIZE + sizeof(uint64_t) + ncap * (2 * sizeof(uint64_t) + sizeof(uint32_t)) + bcap;
    size_t end = ((data_end + 7) & ~(size_t)7) + spine_fence_count(ncap) * sizeof(spine_fence);
    if (nblocks > 0)
        end += FILTER_ALIGN - 1 + nblocks * FILTER_BLOCK_BYTES;
    return end;
}

/* Block size with room for the filter of ncap entries, if there is to be
 * one. */
static size_t block_size_cap(size_t ncap, size_t bcap, bool filter)
{
    return block_size(ncap, bcap, filter ? filter_blocks_for(ncap) : 0);
}

/* Points the arrays of the block at base for a capacity of ncap entries. */
static void set_layout(spine_batch *b, size_t ncap)
{
    uint8_t *base = (uint8_t *)b;
    b->off = (const uint64_t *)(base + HDR_SIZE);
    b->w = (const int64_t *)(b->off + ncap + 1);
    b->klen = (const uint32_t *)(b->w + ncap);
    b->data = (const uint8_t *)(b->klen + ncap);
}

static void set_mut(spine_batch_mut *m, spine_batch *b)
{
    /* The block was allocated writable; const only marks it shared (S6). */
    m->b = b;
    m->off = (uint64_t *)b->off;
    m->w = (int64_t *)b->w;
    m->klen = (uint32_t *)b->klen;
    m->data = (uint8_t *)b->data;
}

spine_batch *spine_batch_alloc(size_t ncap, size_t bcap, bool filter, spine_batch_mut *m_out)
{
    size_t size = block_size_cap(ncap, bcap, filter);
    if (size == 0)
        return NULL;
    spine_batch *b = rt_mem_malloc(size);
    if (b == NULL)
        return NULL;
    b->refs = 1;
    b->fence_at = 0;
    b->n = 0;
    b->bytes = 0;
    b->filter = NULL;
    b->filter_blocks = 0;
    b->neg = 0;
    b->settled = 0;
    set_layout(b, ncap);
    set_mut(m_out, b);
    m_out->off[0] = 0;
    m_out->n = 0;
    m_out->bytes = 0;
    m_out->filter = filter;
    return b;
}

/* True if entry i's key (i > 0) is entry i - 1's: keys are sorted, so
 * each distinct key is one stretch of entries. */
static inline bool same_key_as_prev(const spine_batch *b, size_t i)
{
    size_t kl = b->klen[i];
    return kl == b->klen[i - 1] && spine_mem_eq(b->data + b->off[i], b->data + b->off[i - 1], kl);
}

size_t spine_batch_key_end(const spine_batch *b, size_t i)
{
    size_t e = i + 1;
    while (e < b->n && same_key_as_prev(b, e))
        e++;
    return e;
}

/* Sets hash h's bits in its block. */
static inline void filter_add(spine_batch *b, uint64_t h)
{
    uint64_t *blk = (uint64_t *)spine_filter_block(b, h);
    for (unsigned w = 0; w < SPINE_FILTER_WORDS; w++)
        blk[w] |= spine_filter_bits(h, w);
}

/* Hashes whose blocks are fetched ahead of setting their bits. */
#define FILTER_AHEAD 16

/* Places the filter of nblocks blocks after the fences and adds every key
 * to it (keeps S18).  One pass over the entries; each distinct key is
 * hashed once and sets one bit in each word of one block.  Blocks are hit
 * at random, a cache miss each once the filter outgrows the cache: each
 * block is fetched FILTER_AHEAD keys before its bits are set, so that the
 * misses overlap. */
static void build_filter(spine_batch *b, size_t nblocks)
{
    uintptr_t at = (uintptr_t)(spine_batch_fences(b) + spine_fence_count(b->n));
    at = (at + FILTER_ALIGN - 1) & ~(uintptr_t)(FILTER_ALIGN - 1);
    uint64_t *f = (uint64_t *)at;
    memset(f, 0, nblocks * FILTER_BLOCK_BYTES);
    b->filter = f;
    b->filter_blocks = nblocks;
    uint64_t ahead[FILTER_AHEAD];
    size_t na = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (i > 0 && same_key_as_prev(b, i))
            continue;
        size_t kl;
        const uint8_t *k = spine_batch_key(b, i, &kl);
        uint64_t h = spine_filter_hash(k, kl);
        __builtin_prefetch(spine_filter_block(b, h), 1);
        if (na >= FILTER_AHEAD)
            filter_add(b, ahead[na % FILTER_AHEAD]);
        ahead[na++ % FILTER_AHEAD] = h;
    }
    for (size_t j = na > FILTER_AHEAD ? na - FILTER_AHEAD : 0; j < na; j++)
        filter_add(b, ahead[j % FILTER_AHEAD]);
}

spine_batch *spine_batch_seal(spine_batch_mut *m)
{
    spine_batch *b = m->b;
    size_t ncap = (size_t)(b->w - (const int64_t *)b->off) - 1;
    size_t n = m->n, bytes = m->bytes;
    IVM_ASSERT(n <= ncap);
    if (n < ncap) {
        /* Close the gaps left by consolidation, array by array in address
         * order: each array's new place ends before the next array's old
         * place starts, so no move clobbers data not yet moved. */
        int64_t *w = (int64_t *)(m->off + n + 1);
        uint32_t *klen = (uint32_t *)(w + n);
        uint8_t *data = (uint8_t *)(klen + n);
        memmove(w, m->w, n * sizeof *w);
        memmove(klen, m->klen, n * sizeof *klen);
        if (bytes > 0)
            memmove(data, m->data, bytes);
    }
    set_layout(b, n);
    b->n = n;
    b->bytes = bytes;
    /* The retractions the merge policy weighs (README: Merge policy,
     * retraction sweeps).  Counted here, the one place every producer of a
     * batch passes (builders consolidate weights in place and drop zeros
     * after writing them, so a count as they write would need undoing):
     * one sequential pass over the weights the producer has just written,
     * a shift and an add each, which the compiler vectorises. */
    size_t neg = 0;
    for (size_t i = 0; i < n; i++)
        neg += (uint64_t)b->w[i] >> 63;
    b->neg = neg;
    b->settled = 0;
    /* The fences go after everything moved above; the block had room for
     * them at its capacity, so it has for fewer entries and bytes. */
    /* Keys are sorted, so what the first and the last share, every key
     * shares (S3); the fences sample the bytes after it. */
    size_t at = 0;
    if (n > 0) {
        const uint8_t *k0 = b->data, *k1 = b->data + b->off[n - 1];
        size_t lim = b->klen[0] < b->klen[n - 1] ? b->klen[0] : b->klen[n - 1];
        while (at < lim && k0[at] == k1[at])
            at++;
    }
    b->fence_at = (uint32_t)at;
    spine_fence *fence = (spine_fence *)spine_batch_fences(b);
    for (size_t f = 0, i = 0; i < n; f++, i += SPINE_FENCE)
        fence[f] = (spine_fence){spine_entry_pfx(b->data + b->off[i] + at, b->klen[i] - at),
                                 b->off[i]};
    /* S18: a filter only where an exact seek may ask it (m->filter), and
     * not over empty keys (every key of the batch is then the one key
     * every probe has: the filter would always say "maybe"; S5 makes the
     * first key's width every key's). */
    size_t nblocks = m->filter && n > 0 && b->klen[0] > 0 ? filter_blocks_for(n) : 0;
    spine_batch *nb = rt_mem_realloc(b, block_size(n, bytes, nblocks));
    if (nb != NULL && nb != b) {
        b = nb;
        set_layout(b, n);
    } /* else the block stays where it was, larger or not */
    /* The filter goes in last: where it is aligned depends on where the
     * block ended up.  The block has room for it (reserved at alloc for
     * ncap entries, and kept by the realloc above). */
    b->filter = NULL;
    b->filter_blocks = nblocks;
    if (nblocks > 0)
        build_filter(b, nblocks);
    set_mut(m, b);
    return b;
}

size_t spine_batch_mem(const spine_batch *b)
{
    return block_size(b->n, b->bytes, b->filter_blocks);
}

spine_batch *spine_batch_ref(spine_batch *b)
{
    /* Relaxed: the caller already holds a reference, so the batch cannot be
     * freed meanwhile and nothing else needs ordering against the count. */
    if (b != NULL)
        __atomic_fetch_add(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void spine_batch_unref(spine_batch *b)
{
    if (b == NULL)
        return;
    /* Acq_rel: the release half orders this thread's reads of the batch
     * before its decrement; the acquire half makes the thread that drops
     * the last reference see every other thread's reads finished before it
     * frees the block. */
    if (__atomic_fetch_sub(&b->refs, 1, __ATOMIC_ACQ_REL) == 1)
        rt_mem_free(b);
}

/* First index in [lo, hi) whose key is >= key, or hi; keys below lo are
 * smaller and keys from hi on are not (S3 with S2: keys are
 * non-decreasing through the batch). */
static size_t seek_range(const spine_batch *b, size_t lo, size_t hi, const uint8_t *key, size_t klen)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t mklen;
        const uint8_t *mk = spine_batch_key(b, mid, &mklen);
        if (spine_row_cmp(mk, mklen, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t spine_batch_seek(const spine_batch *b, const uint8_t *key, size_t klen)
{
    if (!spine_batch_use_fences(b))
        return seek_range(b, 0, b->n, key, klen);
    /* Narrow the range with the fences first: one compact array of 8-byte
     * key prefixes, so a search through it touches a few cache lines where
     * one through the entries touches three arrays and the bytes per step.
     * (spine_cursor_seek_key does the same for all its batches at once.) */
    const spine_fence *fence = spine_batch_fences(b);
    uint64_t kp;
    int where = spine_fence_key(b, key, klen, &kp);
    if (where != 0)
        return where < 0 ? 0 : b->n;
    size_t lo = 0, hi = spine_fence_count(b->n);
    while (lo < hi) { /* first fence >= kp */
        size_t mid = lo + (hi - lo) / 2;
        if (fence[mid].key < kp)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t from, to;
    spine_fence_stretch(b, lo, kp, &from, &to);
    return seek_range(b, from, to, key, klen);
}

ivm_rc spine_batch_merge(const spine_batch *a, const spine_batch *b, spine_batch **out)
{
    spine_batch_mut m;
    if (a->n > SIZE_MAX - b->n || a->bytes > SIZE_MAX - b->bytes)
        return IVM_NOMEM;
    if (spine_batch_alloc(a->n + b->n, a->bytes + b->bytes, true, &m) == NULL)
        return IVM_NOMEM;
    size_t i = 0, j = 0, len;
    const uint8_t *e;
    /* Each input holds a pair at most once (S3), so equal pairs meet at
     * most two at a time. */
    while (i < a->n && j < b->n) {
        int c = spine_entry_cmp(a, i, b, j);
        if (c < 0) {
            e = spine_batch_row(a, i, &len);
            spine_mut_put(&m, e, len, a->klen[i], a->w[i]);
            i++;
        } else if (c > 0) {
            e = spine_batch_row(b, j, &len);
            spine_mut_put(&m, e, len, b->klen[j], b->w[j]);
            j++;
        } else {
            int64_t w = spine_weight_add(a->w[i], b->w[j]);
            if (w != 0) { /* keeps S4: a retraction cancels its insertion */
                e = spine_batch_row(a, i, &len);
                spine_mut_put(&m, e, len, a->klen[i], w);
            }
            i++;
            j++;
        }
    }
    for (; i < a->n; i++) {
        e = spine_batch_row(a, i, &len);
        spine_mut_put(&m, e, len, a->klen[i], a->w[i]);
    }
    for (; j < b->n; j++) {
        e = spine_batch_row(b, j, &len);
        spine_mut_put(&m, e, len, b->klen[j], b->w[j]);
    }
    *out = spine_batch_seal(&m);
    return IVM_OK;
}

/* ---- Budgeted k-way merge ------------------------------------------------ */

/* How many times in a row one input must win before the merge looks for a
 * stretch of it to copy whole (galloping): GALLOP_AFTER at first and after
 * every stretch of GALLOP_GAIN entries or more; doubled, up to
 * GALLOP_AFTER_MAX, after each shorter one, so that inputs that interleave
 * entry by entry (random keys) soon stop paying for the search. */
#define GALLOP_AFTER 2
#define GALLOP_AFTER_MAX 64
#define GALLOP_GAIN 8

ivm_rc spine_merge_init(spine_merge *mg, const spine_batch *const *in, size_t k, bool filter)
{
    size_t ncap = 0, bcap = 0;
    memset(mg, 0, sizeof *mg);
    if (k == 0 || k > UINT32_MAX / 4)
        return IVM_INVALID;
    for (size_t r = 0; r < k; r++) {
        if (ncap > SIZE_MAX - in[r]->n || bcap > SIZE_MAX - in[r]->bytes)
            return IVM_NOMEM;
        ncap += in[r]->n;
        bcap += in[r]->bytes;
    }
    /* One block for the runs, the tree and the scratch winners of the
     * build: 2k indices. */
    mg->runs = ivm_malloc(k * sizeof *mg->runs + 2 * k * sizeof *mg->tree);
    if (mg->runs == NULL)
        return IVM_NOMEM;
    mg->tree = (uint32_t *)(mg->runs + k);
    if (spine_batch_alloc(ncap, bcap, filter, &mg->out) == NULL) {
        ivm_free(mg->runs);
        memset(mg, 0, sizeof *mg);
        return IVM_NOMEM;
    }
    mg->k = k;
    mg->left = ncap;
    mg->gallop_after = GALLOP_AFTER;
    mg->ncap = ncap;
    mg->bcap = bcap;
    for (size_t r = 0; r < k; r++) {
        mg->runs[r].b = in[r];
        mg->runs[r].pos = 0;
        spine_run_load(&mg->runs[r]);
    }
    spine_tree_build(mg->runs, mg->tree, k, mg->tree + k);
    return IVM_OK;
}

/* True if entry i of batch b orders before run y's entry (S3 order; every
 * entry orders before an ended run).  The prefixes decide almost always,
 * as in spine_run_less. */
static inline bool entry_before_run(const spine_batch *b, size_t i, const spine_run *y)
{
    if (y->e == NULL)
        return true;
    uint64_t o = b->off[i];
    const uint8_t *e = b->data + o;
    size_t len = (size_t)(b->off[i + 1] - o);
    uint64_t p = spine_entry_pfx(e, len);
    if (p != y->pfx)
        return p < y->pfx;
    uint64_t p2 = len > 8 ? spine_entry_pfx(e + 8, len - 8) : 0;
    if (p2 != y->pfx2)
        return p2 < y->pfx2;
    return spine_entry_cmp_raw(e, len, b->klen[i], y->e, y->len, y->klen) < 0;
}

/* Appends entries [from, to) of batch b whole: the data and the weights
 * and key lengths as blocks, the offsets moved by one constant.  The input
 * is consolidated (S3, S4) and the stretch meets no equal entry of another
 * input, so nothing is summed or dropped. */
static void put_stretch(spine_batch_mut *m, const spine_batch *b, size_t from, size_t to)
{
    size_t cnt = to - from;
    uint64_t base = b->off[from];
    size_t bytes = (size_t)(b->off[to] - base);
    memcpy(m->data + m->bytes, b->data + base, bytes);
    memcpy(m->w + m->n, b->w + from, cnt * sizeof *m->w);
    memcpy(m->klen + m->n, b->klen + from, cnt * sizeof *m->klen);
    /* off[n + 1 .. n + cnt]: the input's offsets after from, rebased. */
    uint64_t delta = (uint64_t)m->bytes - base;
    uint64_t *out = m->off + m->n;
    const uint64_t *in = b->off + from;
    for (size_t i = 1; i <= cnt; i++)
        out[i] = in[i] + delta;
    m->n += cnt;
    m->bytes += bytes;
}

/* Run r has won: if its entry is strictly smaller than every other run's,
 * finds the stretch of r's entries, from its position, that are all
 * smaller than the runner-up (the smallest other entry: the least of the
 * losers on r's path to the root), at most max of them, and appends it
 * whole.  Returns the entries taken (0 if r's entry ties with another
 * run's, which the consolidating path handles).  The stretch is found by
 * galloping (probes 1, 3, 7, ... entries ahead, then a binary search), so
 * a stretch of s entries costs about 2 log2 s comparisons, not s tree
 * replays.  Inputs written in key order (tables keyed by an id that
 * grows, rows in time order) mostly merge as such stretches. */
static size_t gallop(spine_merge *mg, uint32_t r, size_t max)
{
    spine_run *top = &mg->runs[r];
    const spine_run *next = NULL;
    for (size_t j = (r + mg->k) / 2; j > 0; j /= 2) {
        const spine_run *x = &mg->runs[mg->tree[j]];
        if (next == NULL || spine_run_less(x, next))
            next = x;
    }
    if (next != NULL && !spine_run_less(top, next))
        return 0; /* a tie: the group is summed by the caller */
    const spine_batch *b = top->b;
    size_t end = b->n - top->pos < max ? b->n : top->pos + max;
    /* Entry lo is before next; hi is the first that is not, or end. */
    size_t lo = top->pos, hi = end, step = 1;
    if (next != NULL) {
        for (;;) {
            size_t probe = lo + step;
            if (probe >= end)
                break;
            if (!entry_before_run(b, probe, next)) {
                hi = probe;
                break;
            }
            lo = probe;
            step *= 2;
        }
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (entry_before_run(b, mid, next))
                lo = mid;
            else
                hi = mid;
        }
    }
    put_stretch(&mg->out, b, top->pos, hi);
    size_t taken = hi - top->pos;
    top->pos = hi;
    spine_run_load(top);
    spine_tree_replay(mg->runs, mg->tree, mg->k, r);
    return taken;
}

/* Outputs of at least this many entries have their pages mapped ahead
 * (populate_ahead); smaller ones mostly reuse memory that jemalloc keeps
 * mapped. */
#define POPULATE_MIN 65536

#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels say EINVAL */
#endif

/* Cleared once the kernel refuses MADV_POPULATE_WRITE, so that an old
 * kernel costs one failed call per process, not four per slice.  Relaxed:
 * a hint that orders nothing; a thread that misses the update makes one
 * more failing call. */
static bool populate_works = true;

/* Maps the pages wholly inside [from, to), writable, in one system call.
 * Partial pages at either end are left to fault: they may hold bytes
 * already written, or another block's.  Pages are taken to be 4 KiB; a
 * kernel with larger ones refuses ranges that do not start on one
 * (EINVAL), which turns this off. */
static void populate(const void *from, const void *to)
{
#ifdef MADV_POPULATE_WRITE
    const uintptr_t page = 4096;
    uintptr_t a = ((uintptr_t)from + page - 1) & ~(page - 1);
    uintptr_t b = (uintptr_t)to & ~(page - 1);
    if (b > a && madvise((void *)a, b - a, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
        __atomic_store_n(&populate_works, false, __ATOMIC_RELAXED);
#else
    (void)from;
    (void)to;
#endif
}

/* Maps the output pages that the next slice of about budget entries will
 * write: its stretch of each index array and an estimate of its data (the
 * inputs' mean entry size, plus a tenth).  A large merge writes its output
 * into memory the process never had, and on the machines measured a page
 * fault cost more than the copying it interrupts: one madvise per array
 * maps a slice's pages without taking a fault for each (Measured).  An
 * estimate that falls short only leaves pages to fault as before; pages
 * mapped for entries that cancel are at most one slice's worth. */
static void populate_ahead(spine_merge *mg, size_t budget)
{
    spine_batch_mut *m = &mg->out;
    if (mg->ncap < POPULATE_MIN || !__atomic_load_n(&populate_works, __ATOMIC_RELAXED))
        return;
    size_t n = m->n, to = n + (budget < mg->left ? budget : mg->left);
    if (to > mg->ncap)
        to = mg->ncap;
    if (to <= mg->mapped_n)
        return;
    size_t from = mg->mapped_n > n ? mg->mapped_n : n;
    populate(m->off + from + 1, m->off + to + 1);
    populate(m->w + from, m->w + to);
    populate(m->klen + from, m->klen + to);
    double per_entry = (double)mg->bcap / (double)mg->ncap * 1.1;
    size_t bto = m->bytes + (size_t)((double)(to - n) * per_entry) + 64;
    if (bto > mg->bcap)
        bto = mg->bcap;
    size_t bfrom = mg->mapped_bytes > m->bytes ? mg->mapped_bytes : m->bytes;
    if (bto > bfrom) {
        populate(m->data + bfrom, m->data + bto);
        mg->mapped_bytes = bto;
    }
    mg->mapped_n = to;
}

bool spine_merge_step(spine_merge *mg, size_t budget)
{
    populate_ahead(mg, budget);
    spine_run *runs = mg->runs;
    spine_batch_mut *m = &mg->out;
    size_t read = 0;
    uint32_t last = UINT32_MAX; /* the run the last entry came from */
    unsigned wins = 0;          /* how many in a row it has won */
    while (mg->left > 0 && read < budget) {
        uint32_t r = mg->tree[0];
        if (r != last) {
            last = r;
            wins = 0;
        } else if (++wins >= mg->gallop_after) {
            size_t taken = gallop(mg, r, budget - read);
            mg->gallop_after = taken >= GALLOP_GAIN ? GALLOP_AFTER
                               : mg->gallop_after < GALLOP_AFTER_MAX ? 2 * mg->gallop_after
                                                                      : GALLOP_AFTER_MAX;
            if (taken > 0) {
                read += taken;
                mg->left -= taken;
                wins = 0; /* the run now stands on an entry that may lose */
                continue;
            }
        }
        /* The winner's entry, then every run standing on the same entry:
         * each input holds it at most once (S3), so at most k of them,
         * and they come out of the tournament one after another. */
        spine_run *top = &runs[r];
        const uint8_t *e = top->e;
        size_t len = top->len;
        uint32_t klen = top->klen;
        uint64_t pfx = top->pfx;
        int64_t w = 0;
        do {
            w = spine_weight_add(w, top->b->w[top->pos]);
            top->pos++;
            spine_run_load(top);
            spine_tree_replay(mg->runs, mg->tree, mg->k, r);
            read++;
            mg->left--;
            r = mg->tree[0];
            top = &runs[r];
        } while (spine_run_same(top, e, len, klen, pfx));
        if (w != 0) /* keeps S4: a retraction cancels its insertion */
            spine_mut_put(m, e, len, klen, w);
    }
    mg->read += read;
    return mg->left == 0;
}

spine_batch *spine_merge_finish(spine_merge *mg)
{
    IVM_ASSERT(mg->left == 0);
    spine_batch *b = spine_batch_seal(&mg->out);
    ivm_free(mg->runs);
    memset(mg, 0, sizeof *mg);
    return b;
}

void spine_merge_fini(spine_merge *mg)
{
    if (mg->runs == NULL)
        return;
    rt_mem_free(mg->out.b);
    ivm_free(mg->runs);
    memset(mg, 0, sizeof *mg);
}

ivm_rc spine_merge_all(const spine_batch *const *in, size_t k, bool filter, spine_batch **out)
{
    spine_merge mg;
    ivm_rc rc = spine_merge_init(&mg, in, k, filter);
    if (rc != IVM_OK)
        return rc;
    spine_merge_step(&mg, SIZE_MAX);
    *out = spine_merge_finish(&mg);
    return IVM_OK;
}

ivm_rc spine_batch_merge_many(const spine_batch *const *in, size_t k, spine_batch **out)
{
    return spine_merge_all(in, k, true, out);
}

/* Checks that bytes [p, end) are whole columns; returns their count or -1. */
static long count_cols(const uint8_t *p, const uint8_t *end)
{
    long n = 0;
    while (p < end) {
        size_t cl = spine_col_len(p, end);
        if (cl == 0)
            return -1;
        p += cl;
        n++;
    }
    return n;
}

ivm_rc spine_batch_check(const spine_batch *b)
{
    /* Relaxed: a snapshot of the count for a sanity check, ordering
     * nothing; the caller holds a reference, so it cannot drop to zero. */
    if (b == NULL || __atomic_load_n(&b->refs, __ATOMIC_RELAXED) == 0)
        return IVM_CORRUPT;
    if (b->off == NULL || b->off[0] != 0 || b->off[b->n] != b->bytes)
        return IVM_CORRUPT; /* S5 */
    if (b->n > 0 && (b->klen == NULL || b->w == NULL))
        return IVM_CORRUPT;
    if (b->settled > b->neg)
        return IVM_CORRUPT;
    long key_cols = -1;
    size_t neg = 0;
    for (size_t i = 0; i < b->n; i++) {
        neg += b->w[i] < 0;
        if (b->off[i + 1] < b->off[i] || b->off[i + 1] > b->bytes)
            return IVM_CORRUPT; /* S5 */
        size_t len = (size_t)(b->off[i + 1] - b->off[i]);
        if (b->klen[i] > len)
            return IVM_CORRUPT; /* S5 */
        if (b->w[i] == 0)
            return IVM_CORRUPT; /* S4 */
        const uint8_t *e = b->data + b->off[i];
        long kc = count_cols(e, e + b->klen[i]);
        if (kc < 0 || count_cols(e + b->klen[i], e + len) < 0)
            return IVM_CORRUPT; /* S1, S5 */
        if (key_cols >= 0 && kc != key_cols)
            return IVM_CORRUPT; /* S5: one key width per batch */
        key_cols = kc;
        if (i > 0 && spine_entry_cmp(b, i - 1, b, i) >= 0)
            return IVM_CORRUPT; /* S3 */
        if (b->klen[i] < b->fence_at || memcmp(e, b->data, b->fence_at) != 0)
            return IVM_CORRUPT; /* S5: the shared prefix the fences skip */
        if (i % SPINE_FENCE == 0 &&
            spine_batch_fences(b)[i / SPINE_FENCE].key !=
                spine_entry_pfx(e + b->fence_at, b->klen[i] - b->fence_at))
            return IVM_CORRUPT; /* S5: fences */
        if (i % SPINE_FENCE == 0 && spine_batch_fences(b)[i / SPINE_FENCE].off != b->off[i])
            return IVM_CORRUPT; /* S5: fences' offsets */
        if ((i == 0 || !same_key_as_prev(b, i)) &&
            !spine_filter_may_hold(b, spine_filter_hash(e, b->klen[i])))
            return IVM_CORRUPT; /* S18: a key the filter would skip */
    }
    if (b->filter != NULL ? b->n < SPINE_FILTER_MIN || b->klen[0] == 0 ||
                                b->filter_blocks != filter_blocks_for(b->n)
                          : b->filter_blocks != 0)
        return IVM_CORRUPT; /* S18: a filter only on batches large enough, of its size */
    if (neg != b->neg)
        return IVM_CORRUPT; /* the count the merge policy weighs (S22) */
    return IVM_OK;
}
