/*
 * spine_testlib.h: helpers shared by the spine tests: a seeded random
 * generator, row encoding shortcuts, and the reference model every spine
 * structure is compared against: a plain array of (entry bytes, key length,
 * weight) that is sorted with qsort and consolidated by a linear scan, with
 * none of the module's code in the way except spine_row_cmp (whose order is
 * itself tested in test_row.c).
 */
#ifndef SPINE_TESTLIB_H
#define SPINE_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "spine.h"

/* ---- Random numbers (splitmix64: fixed seed, same stream everywhere) ---- */

static uint64_t rng_state = 0x1234abcd5678ef01ULL;

static inline void rng_seed(uint64_t s)
{
    rng_state = s;
}

static inline uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}

/* ---- Encoding shortcuts ---------------------------------------------------- */

/* Encodes vals into buf (at least 256 bytes); returns the length. */
static inline size_t enc(const ivm_value *vals, uint32_t n, uint8_t *buf)
{
    assert_true(spine_row_size(vals, n) <= 256);
    size_t len = spine_row_encode(vals, n, buf);
    assert_int_equal(len, spine_row_size(vals, n));
    return len;
}

static inline ivm_value tv(const char *s)
{
    return ivm_value_text(s, (uint32_t)strlen(s));
}

/* ---- The model --------------------------------------------------------- */

typedef struct tentry {
    uint8_t *e; /* key bytes then value bytes */
    size_t len;
    uint32_t klen;
    int64_t w;
} tentry;

typedef struct tlist {
    tentry *v;
    size_t n, cap;
} tlist;

static inline void tlist_push(tlist *l, const uint8_t *key, size_t klen, const uint8_t *val,
                              size_t vlen, int64_t w)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    tentry *t = &l->v[l->n++];
    t->e = malloc(klen + vlen + 1);
    assert_non_null(t->e);
    if (klen > 0)
        memcpy(t->e, key, klen);
    if (vlen > 0)
        memcpy(t->e + klen, val, vlen);
    t->len = klen + vlen;
    t->klen = (uint32_t)klen;
    t->w = w;
}

static inline void tlist_free(tlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].e);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static inline int tentry_cmp(const void *a, const void *b)
{
    const tentry *x = a, *y = b;
    int c = spine_row_cmp(x->e, x->len, y->e, y->len);
    if (c != 0)
        return c;
    return (x->klen > y->klen) - (x->klen < y->klen);
}

/* Sorts, sums equal entries and drops zero weights. */
static inline void tlist_consolidate(tlist *l)
{
    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof *l->v, tentry_cmp);
    size_t o = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (o > 0 && tentry_cmp(&l->v[o - 1], &l->v[i]) == 0) {
            l->v[o - 1].w += l->v[i].w;
            free(l->v[i].e);
            continue;
        }
        if (o > 0 && l->v[o - 1].w == 0) {
            free(l->v[o - 1].e);
            o--;
        }
        l->v[o++] = l->v[i];
    }
    if (o > 0 && l->v[o - 1].w == 0) {
        free(l->v[o - 1].e);
        o--;
    }
    l->n = o;
}

/* Appends every entry of src to dst, with weights multiplied by sign. */
static inline void tlist_add(tlist *dst, const tlist *src, int64_t sign)
{
    for (size_t i = 0; i < src->n; i++) {
        const tentry *t = &src->v[i];
        tlist_push(dst, t->e, t->klen, t->e + t->klen, t->len - t->klen, sign * t->w);
    }
}

/* Builds a batch of l's entries through a builder, in l's order, with key
 * filters (S18) or without. */
static inline spine_batch *tlist_build_filters(const tlist *l, bool filters)
{
    spine_builder bld;
    spine_batch *b = NULL;
    spine_builder_init(&bld);
    spine_builder_set_filters(&bld, filters);
    for (size_t i = 0; i < l->n; i++) {
        const tentry *t = &l->v[i];
        assert_int_equal(spine_builder_push(&bld, t->e, t->klen, t->e + t->klen,
                                            t->len - t->klen, t->w),
                         IVM_OK);
    }
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    spine_builder_fini(&bld);
    assert_non_null(b);
    return b;
}

/* Builds a batch of l's entries through a builder (with its default key
 * filters), in l's order. */
static inline spine_batch *tlist_build(const tlist *l, bool promise_sorted)
{
    (void)promise_sorted; /* builders notice order themselves */
    return tlist_build_filters(l, true);
}

/* Asserts that batch b holds exactly the consolidated model m. */
static inline void assert_batch_is(const spine_batch *b, const tlist *m)
{
    assert_int_equal(spine_batch_check(b), IVM_OK);
    assert_int_equal(b->n, m->n);
    for (size_t i = 0; i < m->n; i++) {
        size_t len;
        const uint8_t *e = spine_batch_row(b, i, &len);
        assert_int_equal(len, m->v[i].len);
        assert_int_equal(b->klen[i], m->v[i].klen);
        assert_true(len == 0 || memcmp(e, m->v[i].e, len) == 0);
        assert_int_equal(b->w[i], m->v[i].w);
    }
}

static inline bool tentry_same_key(const tentry *a, const tentry *b)
{
    return a->klen == b->klen && memcmp(a->e, b->e, a->klen) == 0;
}

/* Reads the whole cursor and asserts it shows the consolidated model m.
 * Along the way, exercises rewind_vals and leaving a key half-read. */
static inline void assert_cursor_is(spine_cursor *c, const tlist *m)
{
    spine_cursor_rewind(c);
    size_t i = 0;
    while (spine_cursor_key_valid(c)) {
        assert_true(i < m->n);
        const tentry *first = &m->v[i];
        size_t klen;
        const uint8_t *k = spine_cursor_key(c, &klen);
        assert_int_equal(klen, first->klen);
        assert_true(klen == 0 || memcmp(k, first->e, klen) == 0);
        size_t end = i;
        while (end < m->n && tentry_same_key(&m->v[end], first))
            end++;
        int mode = (int)rng_below(8); /* 0: rewind once midway; 1: skip the rest */
        bool rewound = false;
        size_t j = i;
        while (spine_cursor_val_valid(c)) {
            assert_true(j < end);
            size_t vlen;
            const uint8_t *v = spine_cursor_val(c, &vlen);
            assert_int_equal(vlen, m->v[j].len - m->v[j].klen);
            assert_true(vlen == 0 || memcmp(v, m->v[j].e + m->v[j].klen, vlen) == 0);
            assert_int_equal(spine_cursor_weight(c), m->v[j].w);
            j++;
            if (mode == 1)
                break;
            if (mode == 0 && !rewound && j == (i + end + 1) / 2) {
                spine_cursor_rewind_vals(c);
                j = i;
                rewound = true;
                continue;
            }
            spine_cursor_step_val(c);
        }
        if (mode != 1)
            assert_int_equal(j, end);
        /* The key stays put while values run out. */
        k = spine_cursor_key(c, &klen);
        assert_int_equal(klen, first->klen);
        assert_true(klen == 0 || memcmp(k, first->e, klen) == 0);
        i = end;
        spine_cursor_step_key(c);
    }
    assert_int_equal(i, m->n);
    assert_false(spine_cursor_val_valid(c));
}

/* Index of the model's first entry whose key is >= probe (m->n if none). */
static inline size_t tlist_lower_bound(const tlist *m, const uint8_t *probe, size_t plen)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (spine_row_cmp(m->v[mid].e, m->v[mid].klen, probe, plen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Asserts that the cursor stands on the model's entry i (the first of its
 * key), or shows no key if i is m->n. */
static inline void assert_at(spine_cursor *c, const tlist *m, size_t i)
{
    if (i == m->n) {
        assert_false(spine_cursor_key_valid(c));
        assert_false(spine_cursor_val_valid(c));
        return;
    }
    assert_true(spine_cursor_key_valid(c));
    size_t klen, vlen;
    const uint8_t *k = spine_cursor_key(c, &klen);
    assert_int_equal(klen, m->v[i].klen);
    assert_true(klen == 0 || memcmp(k, m->v[i].e, klen) == 0);
    assert_true(spine_cursor_val_valid(c));
    const uint8_t *v = spine_cursor_val(c, &vlen);
    assert_int_equal(vlen, m->v[i].len - m->v[i].klen);
    assert_true(vlen == 0 || memcmp(v, m->v[i].e + m->v[i].klen, vlen) == 0);
    assert_int_equal(spine_cursor_weight(c), m->v[i].w);
}

/* Seeks to probe and asserts the cursor stands where the model says. */
static inline void assert_seek(spine_cursor *c, const tlist *m, const uint8_t *probe, size_t plen)
{
    spine_cursor_seek_key(c, probe, plen);
    assert_at(c, m, tlist_lower_bound(m, probe, plen));
}

/* Seeks exactly to probe and asserts the answer the model gives: on the
 * key's first value if the model holds the key, else false and no key or
 * value shown.  Returns the model index of the key's first entry, or m->n
 * for a miss. */
static inline size_t assert_seek_exact(spine_cursor *c, const tlist *m, const uint8_t *probe,
                                       size_t plen)
{
    bool found = spine_cursor_seek_exact(c, probe, plen);
    size_t i = tlist_lower_bound(m, probe, plen);
    bool has = i < m->n && m->v[i].klen == plen && (plen == 0 || memcmp(m->v[i].e, probe, plen) == 0);
    assert_int_equal(found, has);
    if (!has) {
        size_t klen = 1, vlen = 1;
        assert_false(spine_cursor_key_valid(c));
        assert_false(spine_cursor_val_valid(c));
        assert_null(spine_cursor_key(c, &klen));
        assert_int_equal(klen, 0);
        assert_null(spine_cursor_val(c, &vlen));
        assert_int_equal(spine_cursor_weight(c), 0);
        return m->n;
    }
    assert_at(c, m, i);
    return i;
}

/* ---- Random Z-sets over small domains ------------------------------------ */

/* An entry of the small domain: key (INT, TEXT) with 9 x 5 values, value
 * (INT or NULL, REAL) with 4 x 3, so that streams collide and cancel.  Key
 * probes (probe true) also come from a wider domain, so that some fall
 * between, before and after the keys held, and one in five is a one-column
 * prefix of keys. */
static inline size_t gen_small_key(uint8_t *k, bool probe)
{
    static const int64_t ints[] = {INT64_MIN, -3, -2, -1, 0, 1, 2, 3, INT64_MAX, -4, 4, 100};
    static const char *texts[] = {"", "a", "ab", "b", "ba", "aa", "c"};
    ivm_value key[2] = {ivm_value_int(ints[rng_below(probe ? 12 : 9)]),
                        tv(texts[rng_below(probe ? 7 : 5)])};
    return enc(key, probe && rng_below(5) == 0 ? 1 : 2, k);
}

static inline void gen_small_entry(tlist *l, int64_t w)
{
    static const double reals[] = {-0.5, 0.0, 2.5};
    uint8_t k[256], v[256];
    size_t kl = gen_small_key(k, false);
    size_t c = rng_below(4);
    ivm_value val[2] = {c == 0 ? ivm_value_null() : ivm_value_int(c == 1 ? -1 : c == 2 ? 0 : 7),
                        ivm_value_real(reals[rng_below(3)])};
    size_t vl = enc(val, 2, v);
    tlist_push(l, k, kl, v, vl, w);
}

/* A random batch for a stream whose current sum is model: mostly random
 * entries with small weights (zero included), sometimes retractions of part
 * of what the model holds, rarely the retraction of all of it. */
static inline void gen_small_batch(tlist *batch, const tlist *model, size_t maxn)
{
    size_t kind = rng_below(100);
    if (kind < 3) {
        tlist_add(batch, model, -1);
        return;
    }
    size_t n = rng_below(4) == 0 ? rng_below(maxn + 1) : rng_below(9);
    if (kind < 30 && model->n > 0) {
        for (size_t i = 0; i < n; i++) {
            const tentry *t = &model->v[rng_below(model->n)];
            int64_t w = rng_below(2) ? -t->w : -1;
            tlist_push(batch, t->e, t->klen, t->e + t->klen, t->len - t->klen, w);
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        gen_small_entry(batch, (int64_t)rng_below(6) - 2);
}

#endif /* SPINE_TESTLIB_H */
