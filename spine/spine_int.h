/*
 * spine_int.h: layouts and helpers shared by the files of spine/ and by no
 * one else: the merge policy's constants and the level structure, the
 * one-allocation batch writer and the fences, the entry order, runs (batch
 * positions with their entry decoded) that k-way merges and cursors use, the
 * resumable merge state, the spine and merge job structs, and the calls
 * between spine.c and merger.c.  The invariants cited here (S1, S2, ...) are
 * numbered in spine/README.md.
 */
#ifndef IVM_SPINE_INT_H
#define IVM_SPINE_INT_H

#include "spine.h"

#include <pthread.h>

/* ---- Merge policy (README: merge policy) --------------------------------- */

/* A batch of n >= 1 entries lives at level floor(log_F n) (S8), F the
 * spine's fan-in: SPINE_FANOUT, or SPINE_FANOUT_WIDE for a spine made
 * with spine_opts.wide, or SPINE_FANOUT_UNREAD while a spine made with
 * spine_opts.unread is not read.  A level is at rest with at most F - 1
 * batches; once F of its batches are not in a merge and none of its
 * merges runs, the oldest of them, at most max(F, SPINE_MERGE_MAX),
 * become one merge job (S9). */
#define SPINE_FANOUT 4
#define SPINE_LEVEL_BITS 2 /* log2(SPINE_FANOUT) */
#define SPINE_FANOUT_WIDE 8
#define SPINE_LEVEL_BITS_WIDE 3
/* SPINE_FANOUT_UNREAD is public (spine.h). */
#define SPINE_LEVEL_BITS_UNREAD 5
#define SPINE_MERGE_MAX 16
/* The most inputs any job takes: room for them on the stack. */
#define SPINE_MERGE_CAP                                                                       \
    (SPINE_FANOUT_UNREAD > SPINE_MERGE_MAX ? SPINE_FANOUT_UNREAD : SPINE_MERGE_MAX)
/* floor(log4(SIZE_MAX)) + 1: enough levels for any batch size (and any
 * fan-in of 4 or more). */
#define SPINE_LEVELS SPINE_MAX_LEVELS
/* Entries a slice of the merger reads: large enough that a slice's fixed
 * costs (a few lock round trips, a scan of the levels) vanish against it,
 * small enough (one to two milliseconds) that a small merge waits little
 * behind a long one.  It also divides jobs into two classes (README: the
 * merger): a job that reads at most this many entries is small (one slice
 * finishes it) and runs ahead of long ones, within a budget. */
#define SPINE_SLICE ((size_t)1 << 15)
/* Merge work of a spine, by class: what spine_slice and spine_has_work
 * report and what the merger keeps per queued spine. */
#define SPINE_WORK_SMALL 1u
#define SPINE_WORK_LONG 2u
#define SPINE_WORK_ANY (SPINE_WORK_SMALL | SPINE_WORK_LONG)
/* A retraction sweep is due when the fresh negative entries of a spine's
 * upper levels (README: retraction sweeps) are more than 1 / SPINE_SWEEP_DIV
 * of their entries: with every retraction paired, 2 * neg > entries / 2. */
#define SPINE_SWEEP_DIV 4
/* Default spine_opts.max_pending (README: backpressure). */
#define SPINE_DEFAULT_MAX_PENDING 32

/* The level of a batch of n entries in a spine of fan-in 2^bits. */
static inline unsigned spine_level_of(size_t n, unsigned bits)
{
    IVM_ASSERT(n > 0);
    return (unsigned)(63 - __builtin_clzll((unsigned long long)n)) / bits;
}

/* The batches of one level, oldest first.  b[0 .. merging) are the inputs
 * of the level's merge job while one exists (0 otherwise): merges only
 * take a level's oldest batches, inserts and merge outputs append, so the
 * inputs stay a prefix until the job publishes or is dropped.  Likewise
 * b[0 .. stale) are batches left without a key filter while the spine
 * was unread, which its merges now build (S21): the level needs a merge
 * until they are gone, however few batches it holds. */
typedef struct spine_level {
    spine_batch **b;
    uint32_t n, cap;
    uint32_t merging;
    uint32_t stale;
    size_t rows;  /* entries of b[0 .. n) */
    size_t fresh; /* their negative entries not settled (neg - settled) */
} spine_level;

/* ---- Fences ---------------------------------------------------------------- */

/* Every SPINE_FENCE-th entry's key, stored after the data as the padded
 * 8-byte prefix (spine_entry_pfx) of the key's bytes from fence_at on,
 * speeds up seeks (batch.c).  fence_at is the length of the prefix all keys
 * of the batch share: skipping it (the tag byte, the high zero bytes of
 * small integers, a common text start) leaves 8 bytes that tell keys
 * apart, where the key's first 8 bytes would leave integers that differ
 * in their low byte only with one fence value for hundreds of entries.
 * Part of S5. */
#define SPINE_FENCE 16

/* A fence: the key's padded prefix after fence_at, and the entry's
 * offset, off[16f].  The offset sits next to the key a search of the
 * fences ends on, so the stretch's bytes are known without reading off[]:
 * a seek fetches the stretch's offsets, key lengths and bytes in one round
 * of cache misses instead of two. */
typedef struct spine_fence {
    uint64_t key;
    uint64_t off;
} spine_fence;

static inline const spine_fence *spine_batch_fences(const spine_batch *b)
{
    size_t at = (size_t)(b->data - (const uint8_t *)b) + b->bytes;
    return (const spine_fence *)((const uint8_t *)b + ((at + 7) & ~(size_t)7));
}

static inline size_t spine_fence_count(size_t n)
{
    return n / SPINE_FENCE + (n % SPINE_FENCE != 0);
}

/* Data bytes [*from, *to) that hold entries [efrom, eto) of a batch with
 * fences, when eto is n or a multiple of SPINE_FENCE (as
 * spine_fence_stretch's): from the offset of efrom's fence entry at or
 * before it, to eto's offset. */
static inline void spine_fence_bytes(const spine_batch *b, size_t efrom, size_t eto,
                                     size_t *from, size_t *to)
{
    const spine_fence *fence = spine_batch_fences(b);
    *from = (size_t)fence[efrom / SPINE_FENCE].off;
    *to = eto < b->n ? (size_t)fence[eto / SPINE_FENCE].off : b->bytes;
}

/* Batches this small are searched without their fences. */
static inline bool spine_batch_use_fences(const spine_batch *b)
{
    return b->n > 2 * SPINE_FENCE;
}

/* Given flo, the first fence >= kp (the probe's fence key: spine_fence_key), the stretch of
 * entries [*from, *to) that holds the first key >= the probe: fences before
 * flo hold smaller keys, so entry 16(flo - 1) is smaller; the first fence
 * > kp, found by galloping from flo (usually flo itself), holds a larger
 * key.  Padded prefixes order keys consistently with key order. */
static inline void spine_fence_stretch(const spine_batch *b, size_t flo, uint64_t kp,
                                       size_t *from, size_t *to)
{
    const spine_fence *fence = spine_batch_fences(b);
    size_t nf = spine_fence_count(b->n);
    size_t lo = flo, step = 1, hi;
    /* fence[lo - 1] <= kp (or lo == flo); find hi, the first > kp. */
    for (;;) {
        if (lo >= nf || fence[lo].key > kp) {
            hi = lo;
            break;
        }
        size_t next = lo + step;
        if (next >= nf || fence[next].key > kp) {
            /* Between lo + 1 and next: binary search. */
            size_t l = lo + 1, h = next < nf ? next : nf;
            while (l < h) {
                size_t mid = l + (h - l) / 2;
                if (fence[mid].key <= kp)
                    l = mid + 1;
                else
                    h = mid;
            }
            hi = l;
            break;
        }
        lo = next;
        step *= 2;
    }
    *from = flo > 0 ? (flo - 1) * SPINE_FENCE + 1 : 0;
    *to = hi < nf ? hi * SPINE_FENCE : b->n;
}

/* ---- Key filters ----------------------------------------------------------- */

/* A batch of at least SPINE_FILTER_MIN entries sealed for exact seeks
 * (spine_batch_mut.filter) carries a blocked Bloom filter of its keys
 * (S18): filter_blocks blocks of 4 64-bit words (32
 * bytes, aligned so that a block never straddles a cache line),
 * SPINE_FILTER_BITS bits per entry.  A key's hash picks one block
 * and two bits in each of its words, so a probe reads one cache line.  An
 * exact seek asks the filters of the batches it would search and leaves
 * those that cannot hold the key where they stand (README: Key filters,
 * Cursors). */
#define SPINE_FILTER_MIN 4
#define SPINE_FILTER_BITS 10
#define SPINE_FILTER_WORDS 4 /* per block */

/* The key's hash for the filters.  Not the shard hash (spine_row_hash):
 * a worker's keys all agree on that one modulo the worker count, which
 * would correlate with the bits picked here; other constants make the two
 * independent. */
static inline uint64_t spine_filter_hash(const uint8_t *key, size_t klen)
{
    const uint64_t s0 = 0xa0761d6478bd642fULL, s1 = 0xe7037ed1a0b428dbULL;
    if (klen >= 8 && klen <= 16) {
        /* The common keys (an INT or REAL column: 9 bytes) in one 64x64
         * multiply of two overlapping words, where ivm_hash_bytes takes
         * three: filters hash every key of every batch built. */
        uint64_t a, b;
        memcpy(&a, key, 8);
        memcpy(&b, key + klen - 8, 8);
        return ivm_hash_mix(a ^ s0, b ^ s1 ^ (uint64_t)klen);
    }
    return ivm_hash_bytes(key, klen, s0);
}

/* The block of the filter that hash h falls in: the high 32 bits scaled to
 * the block count (multiply and shift, no division). */
static inline const uint64_t *spine_filter_block(const spine_batch *b, uint64_t h)
{
    return b->filter + SPINE_FILTER_WORDS * (size_t)(((h >> 32) * (uint64_t)b->filter_blocks) >> 32);
}

/* The bits hash h sets in word i of its block: two, at the positions that
 * two 6-bit fields of h times an odd constant give.  (The product's low 48
 * bits mostly depend on other bits of h than the block's high 32.) */
static inline uint64_t spine_filter_bits(uint64_t h, unsigned i)
{
    uint64_t g = (h * 0x9e3779b97f4a7c15ULL) >> (12 * i);
    return ((uint64_t)1 << (g & 63)) | ((uint64_t)1 << ((g >> 6) & 63));
}

/* False if batch b holds no key whose spine_filter_hash is h; true if it
 * may (a false positive is a wasted search, never a wrong answer), and
 * always for a batch without a filter. */
static inline bool spine_filter_may_hold(const spine_batch *b, uint64_t h)
{
    if (b->filter == NULL)
        return true;
    const uint64_t *blk = spine_filter_block(b, h);
    uint64_t miss = 0;
    for (unsigned i = 0; i < SPINE_FILTER_WORDS; i++)
        miss |= spine_filter_bits(h, i) & ~blk[i];
    return miss == 0;
}

/* A key's filter bits, word by word: the same in every batch (only the
 * block differs), so a key asked of many batches computes them once. */
typedef struct spine_filter_probe {
    uint64_t h;
    uint64_t bits[SPINE_FILTER_WORDS];
} spine_filter_probe;

static inline void spine_filter_probe_init(spine_filter_probe *p, uint64_t h)
{
    p->h = h;
    for (unsigned i = 0; i < SPINE_FILTER_WORDS; i++)
        p->bits[i] = spine_filter_bits(h, i);
}

/* spine_filter_may_hold with the bits computed. */
static inline bool spine_filter_probe_may_hold(const spine_batch *b, const spine_filter_probe *p)
{
    if (b->filter == NULL)
        return true;
    const uint64_t *blk = spine_filter_block(b, p->h);
    uint64_t miss = 0;
    for (unsigned i = 0; i < SPINE_FILTER_WORDS; i++)
        miss |= p->bits[i] & ~blk[i];
    return miss == 0;
}

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
    bool filter;     /* seal builds a key filter (S18) */
} spine_batch_mut;

/* Allocates one block with room for ncap entries and bcap data bytes, with
 * one reference; NULL on allocation failure or size overflow.  filter:
 * the batch is for readers that seek exactly (S18): the block has room for
 * the key filter of ncap entries and seal builds it; else it has neither. */
spine_batch *spine_batch_alloc(size_t ncap, size_t bcap, bool filter, spine_batch_mut *m_out);
/* Records the entries written through m and trims the block to them; builds
 * the key filter if m asks for one, the batch has at least SPINE_FILTER_MIN
 * entries and its keys are not empty (S18).  Never fails (a failed shrink
 * keeps the larger block); returns the batch, which may have moved. */
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

/* Equality of n bytes.  Short runs of bytes (keys and entries are often 9
 * to 32 bytes) compare with two overlapping word loads each instead of a
 * call to memcmp; only bytes within [0, n) are read. */
static inline bool spine_mem_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t x, y, u, v;
    if (n >= 8 && n <= 16) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&u, a + n - 8, 8);
        memcpy(&v, b + n - 8, 8);
        return ((x ^ y) | (u ^ v)) == 0;
    }
    if (n > 16 && n <= 32) {
        return spine_mem_eq(a, b, 16) && spine_mem_eq(a + 16, b + 16, n - 16);
    }
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    return memcmp(a, b, n) == 0;
}

/* Order of a[0..n) and b[0..n), n > 8, whose first 8 bytes are known to be
 * equal: 8-byte big-endian words, the last one overlapping bytes already
 * found equal, so that short tails (a 9-byte key's one byte) cost one
 * compare and no call to memcmp. */
static inline int spine_mem_cmp_after8(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t x, y;
    size_t i = 8;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
    }
    if (i < n) {
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        if (x != y)
            return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
    }
    return 0;
}

/* ---- Runs: positions in batches ------------------------------------------- */

/* Big-endian first 8 bytes of e[0..len), zero-padded.  Padded order is
 * consistent with entry order (builder.c, padded()): different prefixes
 * order their entries, equal ones leave it to the bytes. */
static inline uint64_t spine_entry_pfx(const uint8_t *e, size_t len)
{
    uint64_t p = 0;
    if (len >= 8) {
        memcpy(&p, e, 8);
        return __builtin_bswap64(p);
    }
    for (size_t i = 0; i < 8; i++)
        p = (p << 8) | (i < len ? e[i] : 0);
    return p;
}

/* Where key lies against batch b's keys, for a search through its fences:
 * -1 if it is smaller than every key (it is below the prefix all keys
 * share, or a proper prefix of it), 1 if it is larger than every key,
 * otherwise 0 with *kp_out its fence key, which orders against the fences
 * as key against their keys (all share the first fence_at bytes). */
static inline int spine_fence_key(const spine_batch *b, const uint8_t *key, size_t klen,
                                  uint64_t *kp_out)
{
    size_t at = b->fence_at;
    if (at > 0) {
        /* Entry 0's key starts at data; the shared prefix is a few bytes,
         * so a loop beats a call. */
        size_t m = klen < at ? klen : at;
        for (size_t i = 0; i < m; i++)
            if (key[i] != b->data[i])
                return key[i] < b->data[i] ? -1 : 1;
        if (klen < at)
            return -1;
    }
    *kp_out = spine_entry_pfx(key + at, klen - at);
    return 0;
}

/* True if two prefixes agree on their first klen bytes (all 8 if klen >=
 * 8): a necessary condition for the entries to have the same key of klen
 * bytes, decided without touching entry bytes. */
static inline bool spine_pfx_key_eq(uint64_t a, uint64_t b, size_t klen)
{
    if (klen >= 8)
        return a == b;
    return klen == 0 || ((a ^ b) >> (64 - 8 * klen)) == 0;
}

/* The prefix of a run at its end: larger than any entry's, whose first
 * byte is a tag (S1), or 0 for an empty entry. */
#define SPINE_PFX_END UINT64_MAX

/* A position in one batch, with the entry there decoded: its bytes,
 * length, key length and 8-byte prefix, which decide most comparisons with
 * one integer compare (and no loads through off[] and klen[]).  k-way
 * merges and cursors keep one per input batch; e == NULL at the end. */
typedef struct spine_run {
    uint64_t pfx;
    uint64_t pfx2;    /* the next 8 bytes, the same way (0 past the end) */
    const uint8_t *e;
    size_t len;
    uint32_t klen;
    const spine_batch *b;
    size_t pos;
} spine_run;

/* Decodes the entry at r->pos (call after every change of pos). */
static inline void spine_run_load(spine_run *r)
{
    const spine_batch *b = r->b;
    if (r->pos >= b->n) {
        r->e = NULL;
        r->pfx = r->pfx2 = SPINE_PFX_END;
        return;
    }
    uint64_t o = b->off[r->pos];
    r->e = b->data + o;
    r->len = (size_t)(b->off[r->pos + 1] - o);
    r->klen = b->klen[r->pos];
    r->pfx = spine_entry_pfx(r->e, r->len);
    r->pfx2 = r->len > 8 ? spine_entry_pfx(r->e + 8, r->len - 8) : 0;
    /* A k-way merge reads 4 streams per input (off, klen, w, data), more
     * than hardware prefetchers follow once k grows: fetch each a few
     * cache lines ahead.  Prefetches never fault, so running past the end
     * is harmless; the addresses are computed as integers for that. */
    __builtin_prefetch((const void *)((uintptr_t)(b->off + r->pos) + 192));
    __builtin_prefetch((const void *)((uintptr_t)(b->w + r->pos) + 192));
    __builtin_prefetch((const void *)((uintptr_t)(b->klen + r->pos) + 128));
    __builtin_prefetch((const void *)((uintptr_t)r->e + 384));
}

/* Strict entry order of two runs; a run at its end is larger than every
 * entry.  (pfx, pfx2) is the entry's first 16 bytes, zero-padded, whose
 * order is consistent with entry order as the 8-byte prefix's is: small
 * integer keys share their first 8 bytes (a tag, then zero bytes), so
 * entries at nearby keys are mostly told apart by pfx2, without touching
 * their bytes. */
static inline bool spine_run_less(const spine_run *x, const spine_run *y)
{
    if (__builtin_expect(x->pfx != y->pfx, 1))
        return x->pfx < y->pfx; /* an ended run's SPINE_PFX_END included */
    if (x->pfx2 != y->pfx2)
        return x->pfx2 < y->pfx2;
    if (x->e == NULL || y->e == NULL)
        return false; /* both ended: equal */
    if (x->len >= 8 && y->len >= 8) {
        /* Equal prefixes of whole words: the first 8 bytes are equal. */
        size_t m = x->len < y->len ? x->len : y->len;
        int c = m > 8 ? spine_mem_cmp_after8(x->e, y->e, m) : 0;
        if (c != 0)
            return c < 0;
        if (x->len != y->len)
            return x->len < y->len;
        return x->klen < y->klen;
    }
    return spine_entry_cmp_raw(x->e, x->len, x->klen, y->e, y->len, y->klen) < 0;
}

/* True if run r stands on the same entry as (e, len, klen, pfx). */
static inline bool spine_run_same(const spine_run *r, const uint8_t *e, size_t len, uint32_t klen,
                                  uint64_t pfx)
{
    return r->e != NULL && r->pfx == pfx && r->len == len && r->klen == klen &&
           (len <= 8 || spine_mem_eq(r->e + 8, e + 8, len - 8));
}

/* True if run r stands on an entry whose key is key[0..klen), whose
 * prefix is kpfx. */
static inline bool spine_run_key_eq(const spine_run *r, const uint8_t *key, size_t klen,
                                    uint64_t kpfx)
{
    return r->e != NULL && r->klen == klen && spine_pfx_key_eq(r->pfx, kpfx, klen) &&
           (klen <= 8 || spine_mem_eq(r->e + 8, key + 8, klen - 8));
}

/* ---- Loser tree over runs ---------------------------------------------------- */

/* A tournament over k runs by their current entries: leaf r sits at node
 * k + r, node j's children are 2j and 2j + 1, internal nodes 1 .. k-1 keep
 * the loser of their match and tree[0] the overall winner (the run with the
 * smallest entry; an ended run loses to every other).  After the winner
 * moves, replaying its leaf restores the tree with ceil(log2 k) matches. */
static inline void spine_tree_replay(const spine_run *runs, uint32_t *tree, size_t k, uint32_t r)
{
    uint32_t win = r;
    for (size_t j = (r + k) / 2; j > 0; j /= 2) {
        /* Random keys make the outcome of each match a coin toss, so it
         * selects with arithmetic rather than a branch; only equal
         * prefixes (rare, and predictable) take the full comparison. */
        uint32_t x = tree[j];
        uint64_t px = runs[x].pfx, pw = runs[win].pfx;
        uint64_t qx = runs[x].pfx2, qw = runs[win].pfx2;
        uint32_t swap = (px < pw) | ((px == pw) & (qx < qw));
        if (__builtin_expect((px == pw) & (qx == qw), 0))
            swap = spine_run_less(&runs[x], &runs[win]);
        uint32_t diff = (x ^ win) & (0u - swap); /* all ones if swap */
        tree[j] = x ^ diff;
        win ^= diff;
    }
    tree[0] = win;
}

/* Builds the tree bottom up from the runs as they stand (k >= 1), with win
 * (k entries) as scratch. */
static inline void spine_tree_build(const spine_run *runs, uint32_t *tree, size_t k, uint32_t *win)
{
    if (k == 1) {
        tree[0] = 0;
        return;
    }
    for (size_t j = k - 1; j >= 1; j--) {
        uint32_t a = 2 * j >= k ? (uint32_t)(2 * j - k) : win[2 * j];
        uint32_t b = 2 * j + 1 >= k ? (uint32_t)(2 * j + 1 - k) : win[2 * j + 1];
        if (spine_run_less(&runs[b], &runs[a])) {
            uint32_t x = a;
            a = b;
            b = x;
        }
        win[j] = a;
        tree[j] = b;
    }
    tree[0] = win[1];
}

/* ---- Merging ------------------------------------------------------------- */

/* spine_batch_merge_many is public (spine.h). */

/* ---- Budgeted k-way merge (batch.c) ---------------------------------------- */

/* The state of a k-way merge that can stop at any entry boundary and
 * resume later: the input positions, the tournament over them, and the
 * output written so far.  Owned by whoever runs the merge. */
typedef struct spine_merge {
    spine_run *runs;
    uint32_t *tree;   /* loser tree: tree[0] the winner, tree[1..k) losers */
    size_t k;
    size_t left;      /* input entries not yet read */
    size_t read;      /* input entries read so far */
    uint32_t gallop_after; /* wins in a row before a stretch is sought */
    size_t ncap, bcap;     /* the output's capacity: entries, data bytes */
    size_t mapped_n, mapped_bytes; /* output mapped ahead up to (batch.c) */
    spine_batch_mut out;
} spine_merge;

/* Prepares merging k >= 1 consolidated batches (borrowed: they must stay
 * alive until finish or fini), allocating the output for the sum of their
 * sizes; filter: the output gets a key filter (spine_batch_alloc).
 * IVM_NOMEM, with nothing to free, on allocation failure. */
ivm_rc spine_merge_init(spine_merge *mg, const spine_batch *const *in, size_t k, bool filter);
/* spine_batch_merge_many with the output's filter chosen (compaction). */
ivm_rc spine_merge_all(const spine_batch *const *in, size_t k, bool filter, spine_batch **out);
/* Reads about budget input entries (never stopping inside a group of equal
 * entries, which it sums) and writes their consolidated sum.  Returns true
 * when every input has been read. */
bool spine_merge_step(spine_merge *mg, size_t budget);
/* After step returned true: the merged batch (one reference); frees the
 * state. */
spine_batch *spine_merge_finish(spine_merge *mg);
/* Drops a merge at any point (output and state).  No-op after finish. */
void spine_merge_fini(spine_merge *mg);

/* ---- Spines and the merger (spine.c, merger.c) ------------------------------ */

/* Where a spine stands with its merger (guarded by the merger's lock). */
typedef enum spine_mstate {
    SPINE_M_IDLE,   /* no merge work known to the merger */
    SPINE_M_QUEUED, /* in the merger's run queue */
    SPINE_M_BUSY    /* a thread is running a slice of it */
} spine_mstate;

/* A merge job: a level's, or the spine's retraction sweep (level: its
 * lowest level), and the merge's resumable state.  Only the thread that
 * has the spine BUSY (or holds it, see merger.c) touches a job. */
typedef struct spine_job {
    unsigned level;
    spine_merge mg;
} spine_job;

struct spine {
    /* Guarded by mu (README: locking). */
    pthread_mutex_t mu;
    spine_level lv[SPINE_LEVELS];
    size_t rows, bytes, batches, merges, merge_rows; /* kept in step with lv[] */
    size_t neg, fresh;     /* negative entries; those not settled (lv[].fresh) */
    size_t sweeps, sweep_rows; /* retraction sweeps completed, entries they read */
    unsigned sweep_lo;     /* the running sweep takes b[0 .. merging) of every
                              level from this one up; SPINE_LEVELS: none */
    size_t pending;        /* sum over levels of max(0, n - (FANOUT - 1)) */
    size_t waits;
    uint64_t wait_ns, wait_since; /* wait_since != 0: a "no" not yet woken */
    rt_waker waker;        /* fn == NULL: none registered */
    uint32_t max_pending;
    bool exact;            /* merges build filters: spine_opts.exact_seeks,
                              but false while unread */
    uint32_t fanout;       /* the levels' fan-in: SPINE_FANOUT, _WIDE, or
                              _UNREAD until relevel_locked re-places every
                              batch for the read one */
    unsigned level_bits;   /* log2(fanout) */
    bool unread;           /* spine_opts.unread, until spine_unread_end */
    bool relevel;          /* spine_unread_end asked for the read shape; the
                              thread that owns the jobs applies it */
    ivm_rc rc;             /* sticky failure */

    /* Constant: spine_opts as made. */
    bool exact_opt;        /* spine_opts.exact_seeks */
    uint32_t fanout_read;  /* the fan-in once read: SPINE_FANOUT or _WIDE */
    unsigned bits_read;

    /* Owned by the thread that has the spine BUSY or held. */
    spine_job *job[SPINE_LEVELS];
    spine_job *sweep;      /* the retraction sweep, if one runs */
    unsigned rr;           /* next job to consider: turns across the levels
                              and the sweep (slot SPINE_LEVELS) */

    /* Set at registration, before the spine is handed out; constant. */
    spine_merger *m;

    /* Guarded by the merger's lock. */
    spine_mstate mstate;
    unsigned work;         /* while QUEUED: its classes of work, SPINE_WORK_* */
    unsigned again;        /* work (its classes) arrived while BUSY or held */
    bool held;             /* compact or free owns the jobs; not queued */
    spine *q_next, *q_prev; /* run queue */
    spine *r_next, *r_prev; /* every spine of the merger */
};

/* spine.c, for merger.c: */
typedef enum spine_slice_rc {
    SPINE_SLICE_NONE,     /* the spine had no merge work */
    SPINE_SLICE_WORKED,   /* ran part or all of one merge */
    SPINE_SLICE_FAULT     /* the fault hook fired before a merge started */
} spine_slice_rc;
/* Runs about budget entries of one of s's merges (the next job in turn of
 * class want, SPINE_WORK_SMALL or _LONG, or if s has none of that class the
 * next in turn), starting a job if a level or the sweep needs one (calling
 * fault first, if not NULL: true abandons the slice) and publishing it if
 * it completes.  *read_out: entries read; *more_out: the classes of merge
 * work s had left when the slice last looked under its lock, 0 for none
 * (work that arrives later notifies while s is BUSY).  Caller has s BUSY. */
spine_slice_rc spine_slice(spine *s, size_t budget, unsigned want, bool (*fault)(void),
                           size_t *read_out, unsigned *more_out);
/* The classes of merge work s has (jobs, levels that need one, a sweep
 * due), SPINE_WORK_*; 0 for none.  Takes s->mu. */
unsigned spine_has_work(spine *s);
/* Drops every merge job of s; the inputs stay on their levels.  Caller has
 * s BUSY or held. */
void spine_jobs_drop(spine *s);

/* merger.c, for spine.c: */
void spine_merger_register(spine_merger *m, spine *s);
/* Unregisters s, waiting for a slice in progress to end. */
void spine_merger_unregister(spine_merger *m, spine *s);
/* s has (new) merge work of the classes in work (SPINE_WORK_*). */
void spine_merger_notify(spine_merger *m, spine *s, unsigned work);
/* Takes s away from the merger (waits for a slice in progress to end) so
 * that the caller may touch its jobs; release gives it back. */
void spine_merger_hold(spine_merger *m, spine *s);
void spine_merger_release(spine_merger *m, spine *s);
/* False if s has merge work that the merger will never look at (S12). */
bool spine_merger_tracks(spine_merger *m, spine *s);
/* True if m is a threaded merger whose thread is not running: failed and
 * not yet restarted, or given up on by its supervisor (S16). */
bool spine_merger_down(spine_merger *m);

#endif /* IVM_SPINE_INT_H */
