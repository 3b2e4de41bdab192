/*
 * builder.c: collects entries in any order into contiguous growable buffers
 * (no allocation per entry) and turns them into a sorted, consolidated batch.
 * Sorting is an LSD radix sort on 8 key bytes per entry, taken at the first
 * positions where entries differ (so bytes that all entries share cost
 * nothing), refined the same way inside runs of equal keys; small runs use
 * insertion sort.  Entries that arrive in order (noticed as they come) are
 * not sorted, and when strictly increasing are copied whole; a few that
 * arrive late among them are put in place by binary search.  It does not
 * merge batches (batch.c).
 * README "Builder" explains the sort and why it is correct.
 */
#include "spine_int.h"

/* Below this many entries insertion sort beats setting up a radix sort. */
#define SMALL_SORT 32
/* Runs this short are insertion-sorted before merge sort combines them. */
#define MERGE_CHUNK 16
/* Refinements of a run before it falls back to merge sort. */
#define MAX_DEPTH 64
/* Entries fetched ahead of use when visiting them in sorted order. */
#define PREFETCH 8
/* Bytes examined at a time when looking for positions where entries differ. */
#define SCAN 32

/* A sort item: the entry's sort key (its bytes at up to 8 chosen
 * positions, big-endian, so integer order is byte order) and its index in
 * the builder. */
typedef struct item {
    uint64_t pfx;
    size_t i;
} item;

void spine_builder_init(spine_builder *b)
{
    memset(b, 0, sizeof *b);
    b->filters = true;
}

void spine_builder_set_filters(spine_builder *b, bool filters)
{
    b->filters = filters;
}

void spine_builder_fini(spine_builder *b)
{
    rt_mem_free(b->data);
    rt_mem_free(b->off);
    rt_mem_free(b->klen);
    rt_mem_free(b->w);
    memset(b, 0, sizeof *b);
}

/* What finish keeps for the next batch: a builder reused step after step
 * keeps its buffers, so that steps of a steady size neither grow them
 * again by doubling nor touch fresh pages; but not the peak of one huge
 * step for the rest of the process's life (the memory limit counts them,
 * runtime/mem.c): buffers past these sizes go as soon as a batch uses
 * less than a quarter of them.  (Freeing them after every batch that
 * passed 64 KiB cost a commit of 10,000 rows a dozen reallocs and a page
 * fault per 4 KiB in each builder.)  A builder given a keep bound
 * (spine_builder_set_keep) keeps them up to it instead, and gives them
 * back in spine_builder_trim. */
#define KEEP_BYTES   (64u << 10)
#define KEEP_ENTRIES (4u << 10)

/* Gives the buffers back, keeping the builder's settings (set_keep,
 * set_filters), which apply to the batches after. */
static void free_buffers(spine_builder *b)
{
    size_t keep = b->keep;
    bool filters = b->filters;
    spine_builder_fini(b);
    b->keep = keep;
    b->filters = filters;
}

static void release_big(spine_builder *b, size_t used_n, size_t used_bytes)
{
    if (b->keep != 0) {
        /* Kept until spine_builder_trim, up to keep bytes (and keep / 16
         * entries): a builder that several nodes share in one step must not
         * give back a large node's buffers because a small one came after. */
        if (b->data_cap <= b->keep && b->cap <= IVM_MAX(b->keep / 16, (size_t)KEEP_ENTRIES))
            return;
    } else {
        bool big_data = b->data_cap > KEEP_BYTES && used_bytes < b->data_cap / 4;
        bool big_entries = b->cap > KEEP_ENTRIES && used_n < b->cap / 4;
        if (!big_data && !big_entries)
            return;
    }
    free_buffers(b);
}

void spine_builder_set_keep(spine_builder *b, size_t bytes)
{
    b->keep = bytes;
}

void spine_builder_trim(spine_builder *b)
{
    size_t hw = IVM_MAX(b->hw, (size_t)KEEP_BYTES);
    b->hw = 0;
    if (b->n > 0 || b->data_cap / 4 <= hw)
        return;
    free_buffers(b);
}

void spine_builder_clear(spine_builder *b)
{
    b->n = 0;
    b->bytes = 0;
    b->order = SPINE_BUILDER_ASCENDING;
    b->ties = false;
    b->top = 0;
    b->nlate = 0;
    b->failed = false;
}

/* Room for need entries; off has one more slot than cap (off[n] = bytes). */
static ivm_rc grow_entries(spine_builder *b, size_t need)
{
    if (need <= b->cap)
        return IVM_OK;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / sizeof(uint64_t) - 1)
            return IVM_NOMEM;
        ncap *= 2;
    }
    /* Each array is replaced as soon as it has grown, so a later failure
     * leaves every array valid (merely some larger than cap says). */
    uint64_t *off = rt_mem_realloc(b->off, (ncap + 1) * sizeof *off);
    if (off == NULL)
        return IVM_NOMEM;
    if (b->off == NULL)
        off[0] = 0;
    b->off = off;
    uint32_t *klen = rt_mem_realloc(b->klen, ncap * sizeof *klen);
    if (klen == NULL)
        return IVM_NOMEM;
    b->klen = klen;
    int64_t *w = rt_mem_realloc(b->w, ncap * sizeof *w);
    if (w == NULL)
        return IVM_NOMEM;
    b->w = w;
    b->cap = ncap;
    return IVM_OK;
}

uint8_t *spine_builder_reserve(spine_builder *b, size_t len)
{
    /* The common case, once the buffers have grown: room for the bytes
     * and an entry slot already. */
    if (b->data != NULL && !b->failed && len <= b->data_cap - b->bytes && b->n < b->cap)
        return b->data + b->bytes;
    if (b->failed)
        return NULL;
    if (len > SIZE_MAX - b->bytes)
        goto fail;
    /* At least one byte, so that a zero-length entry still gets a non-NULL
     * pointer to report success with. */
    void *data = b->data;
    if (rt_mem_grow(&data, &b->data_cap, IVM_MAX(b->bytes + len, 1), 1) != IVM_OK)
        goto fail;
    b->data = data;
    /* Entry slots are taken now so that commit cannot fail. */
    if (grow_entries(b, b->n + 1) != IVM_OK)
        goto fail;
    return b->data + b->bytes;
fail:
    b->failed = true;
    return NULL;
}

/* spine_builder_commit, and with `larger` spine_builder_commit_larger. */
static inline ivm_rc commit(spine_builder *b, size_t klen, size_t len, int64_t w, bool larger)
{
    if (b->failed)
        return IVM_NOMEM;
    IVM_ASSERT(klen <= len && len <= b->data_cap - b->bytes && b->n < b->cap);
    if (klen > len || klen > UINT32_MAX || len > b->data_cap - b->bytes || b->n >= b->cap)
        return IVM_INVALID;
    if (w == 0)
        return IVM_OK;
    /* An entry the caller knows to be larger than every one before is the
     * new largest, with no comparison (checked where slow checks are on). */
    IVM_ASSERT_SLOW(!larger || b->n == 0 ||
                    spine_entry_cmp_raw(b->data + b->off[b->top],
                                        (size_t)(b->off[b->top + 1] - b->off[b->top]),
                                        b->klen[b->top], b->data + b->bytes, len,
                                        (uint32_t)klen) < 0);
    if (larger) {
        b->top = b->n;
    /* Order so far: compare with the largest entry before (the last one
     * while all are in order).  One that is smaller comes late: its index
     * is kept, the largest stays; past SPINE_BUILDER_LATE of them nothing
     * more is compared (a sort is due anyway). */
    } else if (b->order != SPINE_BUILDER_UNORDERED && b->n > 0) {
        size_t p = b->top;
        int c = spine_entry_cmp_raw(b->data + b->off[p], (size_t)(b->off[p + 1] - b->off[p]),
                                    b->klen[p], b->data + b->bytes, len, (uint32_t)klen);
        if (c > 0) {
            if (b->nlate < SPINE_BUILDER_LATE) {
                b->late[b->nlate++] = b->n;
                b->order = SPINE_BUILDER_NEARLY;
            } else {
                b->order = SPINE_BUILDER_UNORDERED;
            }
        } else {
            if (c == 0) {
                b->ties = true;
                if (b->order == SPINE_BUILDER_ASCENDING)
                    b->order = SPINE_BUILDER_EQUALS;
            }
            b->top = b->n;
        }
    }
    b->klen[b->n] = (uint32_t)klen;
    b->w[b->n] = w;
    b->bytes += len;
    b->n++;
    b->off[b->n] = b->bytes;
    return IVM_OK;
}

ivm_rc spine_builder_commit(spine_builder *b, size_t klen, size_t len, int64_t w)
{
    return commit(b, klen, len, w, false);
}

ivm_rc spine_builder_commit_larger(spine_builder *b, size_t klen, size_t len, int64_t w)
{
    return commit(b, klen, len, w, true);
}

ivm_rc spine_builder_push(spine_builder *b, const uint8_t *key, size_t klen,
                          const uint8_t *val, size_t vlen, int64_t w)
{
    if (b->failed)
        return IVM_NOMEM;
    if (klen > UINT32_MAX || vlen > SIZE_MAX - klen)
        return IVM_INVALID;
    if (w == 0)
        return IVM_OK;
    uint8_t *dst = spine_builder_reserve(b, klen + vlen);
    if (dst == NULL)
        return IVM_NOMEM;
    if (klen > 0)
        memcpy(dst, key, klen);
    if (vlen > 0)
        memcpy(dst + klen, val, vlen);
    return spine_builder_commit(b, klen, klen + vlen, w);
}

/* ---- Sorting ------------------------------------------------------------- */

static size_t entry_len(const spine_builder *b, size_t x)
{
    return (size_t)(b->off[x + 1] - b->off[x]);
}

static int cmp_entries(const spine_builder *b, size_t x, size_t y)
{
    return spine_entry_cmp_raw(b->data + b->off[x], entry_len(b, x), b->klen[x],
                               b->data + b->off[y], entry_len(b, y), b->klen[y]);
}

static void insertion_sort(const spine_builder *b, item *a, size_t n)
{
    for (size_t k = 1; k < n; k++) {
        item x = a[k];
        size_t j = k;
        while (j > 0 && cmp_entries(b, a[j - 1].i, x.i) > 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* Stable bottom-up merge sort of a[0..n) by full entry bytes, using tmp
 * (n items) as scratch: O(n log n) comparisons whatever the input; the
 * fallback for runs that prefixes cannot separate. */
static void merge_sort(const spine_builder *b, item *a, item *tmp, size_t n)
{
    for (size_t s = 0; s < n; s += MERGE_CHUNK)
        insertion_sort(b, a + s, IVM_MIN(MERGE_CHUNK, n - s));
    item *src = a, *dst = tmp;
    for (size_t width = MERGE_CHUNK; width < n; width *= 2) {
        for (size_t s = 0; s < n; s += 2 * width) {
            size_t mid = IVM_MIN(s + width, n), end = IVM_MIN(s + 2 * width, n);
            size_t i = s, j = mid, o = s;
            while (i < mid && j < end)
                dst[o++] = cmp_entries(b, src[j].i, src[i].i) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[o++] = src[i++];
            while (j < end)
                dst[o++] = src[j++];
        }
        item *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* Byte x of an entry as seen by the sort: its bytes, then zeros forever.
 * Ordering these padded strings is consistent with entry order: where two
 * first differ, either both have real bytes there, or one has ended and the
 * other holds a non-zero byte past a stretch equal to the padding, so the
 * ended one is a proper prefix of it, hence smaller.  Padded-equal entries
 * differ only by trailing zero bytes (or key split) and are left to a
 * comparison sort. */
static uint8_t padded(const spine_builder *b, size_t x, size_t at)
{
    return at < entry_len(b, x) ? b->data[b->off[x] + at] : 0;
}

/* Sorts padded-equal entries.  Those of one length and key split are
 * identical (equal real bytes), which is the common case of duplicates
 * that consolidation will sum; it is settled from the index arrays alone,
 * without touching entry bytes scattered through memory. */
static void sort_padded_equal(const spine_builder *b, item *a, item *tmp, size_t n)
{
    size_t len = entry_len(b, a[0].i);
    uint32_t klen = b->klen[a[0].i];
    for (size_t k = 1; k < n; k++) {
        if (entry_len(b, a[k].i) != len || b->klen[a[k].i] != klen) {
            merge_sort(b, a, tmp, n);
            return;
        }
    }
}

/* Finds, from byte `from` on, the first up to 8 byte positions at which
 * the entries of a[0..n) do not all agree (scanning SCAN bytes at a time);
 * positions skipped in between hold the same byte in every entry, so
 * ordering by the chosen bytes is ordering by everything up to the last
 * one.  Returns how many it found; fewer than 8 means the scan reached
 * maxlen, so entries equal at the chosen bytes are padded-equal (0: all
 * of them are). */
static size_t pick_positions(const spine_builder *b, const item *a, size_t n, size_t from,
                             size_t maxlen, size_t pos_out[8])
{
    uint8_t first[SCAN], acc[SCAN];
    /* The same, 8 bytes at a time, for entries that hold the whole window:
     * word q covers bytes 8q..8q+7 in memory order (memcpy both ways, so
     * the byte order of the machine does not matter). */
    uint64_t firstw[SCAN / 8], accw[SCAN / 8];
    size_t x0 = a[0].i, npos = 0;
    while (from < maxlen && npos < 8) {
        size_t w = IVM_MIN((size_t)SCAN, maxlen - from);
        memset(first, 0, sizeof first);
        for (size_t j = 0; j < w; j++) {
            first[j] = padded(b, x0, from + j);
            acc[j] = 0;
        }
        memcpy(firstw, first, sizeof firstw);
        memset(accw, 0, sizeof accw);
        for (size_t k = 1; k < n; k++) {
            size_t x = a[k].i, len = entry_len(b, x);
            const uint8_t *e = b->data + b->off[x] + from;
            if (w == SCAN && len >= from + SCAN) {
                for (size_t q = 0; q < SCAN / 8; q++) {
                    uint64_t v;
                    memcpy(&v, e + 8 * q, 8);
                    accw[q] |= v ^ firstw[q];
                }
                continue;
            }
            size_t real = len > from ? IVM_MIN(w, len - from) : 0;
            for (size_t j = 0; j < real; j++)
                acc[j] |= e[j] ^ first[j];
            for (size_t j = real; j < w; j++)
                acc[j] |= first[j];
        }
        uint8_t wide[SCAN];
        memcpy(wide, accw, sizeof wide);
        for (size_t j = 0; j < w; j++)
            acc[j] |= wide[j];
        for (size_t j = 0; j < w && npos < 8; j++)
            if (acc[j] != 0)
                pos_out[npos++] = from + j;
        from += w;
    }
    return npos;
}

/* Sorts a[0..n) by entry, with tmp (n items) as scratch and cnt as the
 * counting tables (16 of them); the entries agree (padded) on their first
 * `from` bytes.
 * The sort key of an entry is its bytes at the first 8 positions from
 * `from` where entries differ: for int keys and values that skips the tag
 * and high zero bytes and usually covers the whole entry.  LSD radix sort
 * runs one counting pass per key byte; runs of equal keys then recurse
 * past the last position used, so a key with many values is sorted by
 * radix too, not by comparisons.  Small runs, and entries identical but
 * for length, go to comparison sorts. */
static void sort_run(const spine_builder *b, item *a, item *tmp, size_t n, size_t from,
                     size_t (*cnt)[256], unsigned depth)
{
    if (n < SMALL_SORT) {
        insertion_sort(b, a, n);
        return;
    }
    if (depth > MAX_DEPTH) {
        merge_sort(b, a, tmp, n);
        return;
    }
    size_t maxlen = 0, pos[8];
    for (size_t k = 0; k < n; k++)
        maxlen = IVM_MAX(maxlen, entry_len(b, a[k].i));
    size_t npos = pick_positions(b, a, n, from, maxlen, pos);
    if (npos == 0) {
        sort_padded_equal(b, a, tmp, n);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        /* Sequential in the first call, random below it: fetch ahead. */
        if (k + PREFETCH < n)
            __builtin_prefetch(b->data + b->off[a[k + PREFETCH].i] + pos[0]);
        size_t x = a[k].i;
        uint64_t p = 0;
        if (entry_len(b, x) > pos[npos - 1]) {
            /* Every chosen byte is a real one (the common case): no
             * bound test per byte, which was most of this loop. */
            const uint8_t *e = b->data + b->off[x];
            for (size_t d = 0; d < npos; d++)
                p = (p << 8) | e[pos[d]];
            p = npos < 8 ? p << (8 * (8 - npos)) : p;
        } else {
            for (size_t d = 0; d < 8; d++)
                p = (p << 8) | (d < npos ? padded(b, x, pos[d]) : 0);
        }
        a[k].pfx = p;
    }
    /* Counted in two tables, odd and even items apart: keys where most
     * items share a byte (a hot value) would otherwise chain every
     * increment through the same counter, one store after the other. */
    for (size_t d = 0; d < npos; d++) {
        memset(cnt[d], 0, sizeof cnt[d]);
        memset(cnt[8 + d], 0, sizeof cnt[8 + d]);
    }
    size_t odd = n & 1;
    for (size_t d = 0; d < npos && odd; d++)
        cnt[d][(a[0].pfx >> (8 * (7 - d))) & 0xff]++;
    for (size_t k = odd; k < n; k += 2)
        for (size_t d = 0; d < npos; d++) {
            unsigned shift = 8 * (7 - (unsigned)d);
            cnt[d][(a[k].pfx >> shift) & 0xff]++;
            cnt[8 + d][(a[k + 1].pfx >> shift) & 0xff]++;
        }
    for (size_t d = 0; d < npos; d++)
        for (int v = 0; v < 256; v++)
            cnt[d][v] += cnt[8 + d][v];
    item *src = a, *dst = tmp;
    for (size_t d = npos; d-- > 0;) {
        unsigned shift = 8 * (7 - (unsigned)d);
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            size_t c = cnt[d][v];
            cnt[d][v] = sum;
            sum += c;
        }
        for (size_t k = 0; k < n; k++)
            dst[cnt[d][(src[k].pfx >> shift) & 0xff]++] = src[k];
        item *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && a[e].pfx == a[s].pfx)
            e++;
        /* With fewer than 8 positions the scan reached maxlen, so equal
         * keys mean padded-equal entries: no byte is left to look at. */
        if (e - s > 1 && npos == 8)
            sort_run(b, a + s, tmp + s, e - s, pos[npos - 1] + 1, cnt, depth + 1);
        else if (e - s > 1)
            sort_padded_equal(b, a + s, tmp + s, e - s);
        s = e;
    }
}

/* ---- Finishing ----------------------------------------------------------- */

/* Writes the entries in the order of perm (NULL: push order, which commit
 * found non-decreasing) into a new batch, summing equal neighbours and
 * dropping zeros (keeps S3, S4).  An entry smaller than the last one
 * written cannot come (IVM_ASSERT; IVM_INVALID, having built nothing, where
 * assertions are off).  Comparing
 * with the last one written (not the previous input) is what matters: the
 * output is then strictly increasing whatever happened to cancelled
 * groups, and each output weight is the sum of all equal inputs. */
static ivm_rc write_sorted(const spine_builder *b, const item *perm, spine_batch **out)
{
    spine_batch_mut m;
    if (spine_batch_alloc(b->n, b->bytes, b->filters, &m) == NULL)
        return IVM_NOMEM;
    for (size_t k = 0; k < b->n; k++) {
        size_t x = perm ? perm[k].i : k;
        /* Sorted order visits entries at random, and cache misses dominate
         * this pass: fetch ahead in two stages, the index slots of an entry
         * 2 * PREFETCH ahead, then the bytes of one PREFETCH ahead, whose
         * offset has arrived by then. */
        if (perm != NULL && k + 2 * PREFETCH < b->n) {
            size_t y = perm[k + 2 * PREFETCH].i;
            __builtin_prefetch(&b->off[y]);
            __builtin_prefetch(&b->klen[y]);
            __builtin_prefetch(&b->w[y]);
        }
        if (perm != NULL && k + PREFETCH < b->n)
            __builtin_prefetch(b->data + b->off[perm[k + PREFETCH].i]);
        const uint8_t *e = b->data + b->off[x];
        size_t len = (size_t)(b->off[x + 1] - b->off[x]);
        /* Sort keys that differ mean entries that differ: equal entries
         * meet the same positions in the same runs at every level of the
         * sort, so they end with equal keys.  Only ties are compared.
         * (Runs sorted apart, sort_runs, hold no entry equal to one of
         * another run, so two neighbours from two runs differ whatever
         * their keys are.) */
        if (perm != NULL && k > 0 && perm[k].pfx != perm[k - 1].pfx) {
            if (m.w[m.n - 1] == 0)
                spine_mut_drop_last(&m);
            spine_mut_put(&m, e, len, b->klen[x], b->w[x]);
            continue;
        }
        if (m.n > 0) {
            size_t last = m.n - 1;
            int c = spine_entry_cmp_raw(m.data + m.off[last], (size_t)(m.off[last + 1] - m.off[last]),
                                        m.klen[last], e, len, b->klen[x]);
            if (c == 0) {
                m.w[last] = spine_weight_add(m.w[last], b->w[x]);
                continue;
            }
            if (c > 0) {
                IVM_ASSERT(!"entries out of order");
                rt_mem_free(m.b);
                return IVM_INVALID;
            }
            if (m.w[last] == 0)
                spine_mut_drop_last(&m);
        }
        spine_mut_put(&m, e, len, b->klen[x], b->w[x]);
    }
    if (m.n > 0 && m.w[m.n - 1] == 0)
        spine_mut_drop_last(&m);
    *out = spine_batch_seal(&m);
    return IVM_OK;
}

/* Entries strictly increasing (so no two equal) and none of weight 0
 * (commit drops those): the batch is the builder's arrays, copied whole. */
/* A new batch of n entries whose arrays are copies of these (klen NULL:
 * every key empty), in their order: the caller knows they are strictly
 * increasing. */
static ivm_rc copy_batch(size_t n, size_t bytes, const uint64_t *off, const uint32_t *klen,
                         const int64_t *w, const uint8_t *data, bool filter, spine_batch **out)
{
    spine_batch_mut m;
    if (spine_batch_alloc(n, bytes, filter, &m) == NULL)
        return IVM_NOMEM;
    if (n > 0) {
        memcpy(m.off, off, (n + 1) * sizeof *m.off);
        if (klen != NULL)
            memcpy(m.klen, klen, n * sizeof *m.klen);
        else
            memset(m.klen, 0, n * sizeof *m.klen);
        memcpy(m.w, w, n * sizeof *m.w);
        if (bytes > 0)
            memcpy(m.data, data, bytes);
    }
    m.n = n;
    m.bytes = bytes;
    *out = spine_batch_seal(&m);
    return IVM_OK;
}

static ivm_rc write_ascending(const spine_builder *b, spine_batch **out)
{
    return copy_batch(b->n, b->bytes, b->off, b->klen, b->w, b->data, b->filters, out);
}

/* Orders the entries of a builder that found them in order but for its
 * late ones (SPINE_BUILDER_NEARLY) into items[0 .. n), with items[n ..
 * 2n) as scratch: the others, in push order, are sorted already; the
 * late ones are sorted among themselves by insertion and each is placed
 * after the last of the others that is not larger (binary search from
 * where the one before went), so a batch with k late entries costs about
 * k log n comparisons here, not a sort.  Sort keys for write_sorted:
 * where none of the others tied (b->ties), two neighbours that are both
 * in order differ, and get different keys, so that only pairs with a
 * late entry are compared; else every key is 0 and every pair is. */
static void order_nearly(const spine_builder *b, item *items)
{
    size_t n = b->n, k = b->nlate;
    item late[SPINE_BUILDER_LATE];
    for (size_t j = 0; j < k; j++) {
        late[j].i = b->late[j];
        late[j].pfx = 1;
    }
    insertion_sort(b, late, k);
    item *in_order = items + n;
    size_t m = 0;
    for (size_t x = 0, j = 0; x < n; x++) {
        if (j < k && b->late[j] == x) {
            j++;
            continue;
        }
        in_order[m].i = x;
        in_order[m++].pfx = 0;
    }
    size_t o = 0, from = 0;
    for (size_t j = 0; j < k; j++) {
        /* The first of in_order[from .. m) larger than late[j]. */
        size_t lo = from, hi = m;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cmp_entries(b, in_order[mid].i, late[j].i) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        memcpy(items + o, in_order + from, (lo - from) * sizeof *items);
        o += lo - from;
        from = lo;
        items[o++] = late[j];
    }
    memcpy(items + o, in_order + from, (m - from) * sizeof *items);
    /* pfx marked the late entries; now the keys. */
    uint64_t key = 0;
    bool prev_late = false;
    for (size_t x = 0; x < n; x++) {
        bool is_late = items[x].pfx != 0;
        if (!b->ties && x > 0 && !is_late && !prev_late)
            key++;
        items[x].pfx = b->ties ? 0 : key;
        prev_late = is_late;
    }
}

/* Sorts each run [starts[r], starts[r + 1]) of items[0 .. n) (the first
 * run from 0, the last to n) on its own, with items[n .. 2n) as scratch:
 * the caller knows that every entry of a run is larger than every entry
 * of the runs before it, so the runs in turn are the batch in order, and
 * the sort keys within each run are as sort_run leaves them. */
static void sort_runs(const spine_builder *b, item *items, const size_t *starts, size_t nstarts,
                      size_t (*cnt)[256])
{
    size_t n = b->n, from = 0;
    for (size_t r = 0; r <= nstarts; r++) {
        size_t to = r < nstarts ? starts[r] : n;
        if (to - from > 1)
            sort_run(b, items + from, items + n + from, to - from, 0, cnt, 0);
        from = to;
    }
}

static ivm_rc finish(spine_builder *b, const size_t *starts, size_t nstarts, spine_batch **out)
{
    item *items = NULL;
    spine_batch *batch = NULL;
    ivm_rc rc = IVM_NOMEM;
    size_t used_n = b->n, used_bytes = b->bytes;

    if (b->failed)
        goto fail;
    if (b->order == SPINE_BUILDER_ASCENDING)
        rc = write_ascending(b, &batch);
    else if (b->order == SPINE_BUILDER_EQUALS)
        rc = write_sorted(b, NULL, &batch);
    else {
        rc = IVM_NOMEM;
        if (b->n > SIZE_MAX / 2 / sizeof *items)
            goto fail;
        items = ivm_malloc(2 * b->n * sizeof *items);
        if (items == NULL)
            goto fail;
        if (b->order == SPINE_BUILDER_NEARLY) {
            order_nearly(b, items);
        } else {
            size_t cnt[16][256]; /* on the stack: builders on other threads sort at once */
            for (size_t x = 0; x < b->n; x++) {
                items[x].pfx = 0;
                items[x].i = x;
            }
            if (nstarts > 0)
                sort_runs(b, items, starts, nstarts, cnt);
            else
                sort_run(b, items, items + b->n, b->n, 0, cnt, 0);
        }
        rc = write_sorted(b, items, &batch);
    }
    if (rc == IVM_OK)
        *out = batch;
fail:
    ivm_free(items);
    b->hw = IVM_MAX(b->hw, b->bytes);
    spine_builder_clear(b);
    release_big(b, used_n, used_bytes);
    return rc;
}

ivm_rc spine_builder_finish(spine_builder *b, spine_batch **out)
{
    return finish(b, NULL, 0, out);
}

ivm_rc spine_builder_finish_runs(spine_builder *b, const size_t *starts, size_t nstarts,
                                 spine_batch **out)
{
    for (size_t r = 0; r < nstarts; r++) {
        if (starts[r] > b->n || (r > 0 && starts[r] < starts[r - 1])) {
            spine_builder_clear(b);
            return IVM_INVALID;
        }
    }
    return finish(b, starts, nstarts, out);
}

/* ---- Whole rows ---------------------------------------------------------- */

ivm_rc spine_batch_rows(spine_batch *b, spine_batch **out)
{
    size_t i = 0;
    while (i < b->n && b->klen[i] == 0)
        i++;
    if (i == b->n) {
        *out = spine_batch_ref(b);
        return IVM_OK;
    }
    /* Entries of a valid batch differ in their bytes (S3, S5: keys of one
     * column count, prefix-free), so with every key empty they are still
     * strictly increasing: the arrays are copied whole, no comparison. */
    return copy_batch(b->n, b->bytes, b->off, NULL, b->w, b->data, false, out);
}
