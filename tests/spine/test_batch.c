/*
 * test_batch.c: batches (spine/batch.c): the consolidating two-way merge
 * against the model (retractions cancel their insertions), seek against a
 * linear scan (absent keys, keys past the end, one-column prefix probes),
 * reference counting, and spine_batch_check catching each kind of damage.
 */
#include "spine_testlib.h"

static const char *texts[] = {"", "a", "ab", "b"};

/* Random entries, key (INT -3..3, TEXT), value (INT 0..2): collisions. */
static void fill(tlist *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t k[64], v[64];
        ivm_value key[2] = {ivm_value_int((int64_t)rng_below(7) - 3), tv(texts[rng_below(4)])};
        ivm_value val = ivm_value_int((int64_t)rng_below(3));
        size_t kl = enc(key, 2, k), vl = enc(&val, 1, v);
        tlist_push(l, k, kl, v, vl, (int64_t)rng_below(5) - 2);
    }
}

static void test_batch_merge_consolidates(void **state)
{
    (void)state;
    rng_seed(20);
    for (int iter = 0; iter < 300; iter++) {
        tlist a = {0}, b = {0}, sum = {0};
        fill(&a, rng_below(60));
        fill(&b, rng_below(60));
        tlist_consolidate(&a);
        tlist_consolidate(&b);
        tlist_add(&sum, &a, 1);
        tlist_add(&sum, &b, 1);
        tlist_consolidate(&sum);
        spine_batch *ba = tlist_build(&a, false), *bb = tlist_build(&b, false), *m;
        assert_int_equal(spine_batch_merge(ba, bb, &m), IVM_OK);
        assert_batch_is(m, &sum);
        /* The merge policy weighs uncancelled retractions: every sealed
         * batch counts its negative weights. */
        size_t nneg = 0;
        for (size_t i = 0; i < sum.n; i++)
            nneg += sum.v[i].w < 0;
        assert_int_equal(m->neg, nneg);
        assert_int_equal(m->settled, 0);
        spine_batch_unref(m);
        /* a + (-a) is empty */
        tlist neg = {0};
        tlist_add(&neg, &a, -1);
        spine_batch *bn = tlist_build(&neg, true);
        assert_int_equal(spine_batch_merge(ba, bn, &m), IVM_OK);
        assert_int_equal(m->n, 0);
        assert_int_equal(spine_batch_check(m), IVM_OK);
        spine_batch_unref(m);
        spine_batch_unref(bn);
        spine_batch_unref(ba);
        spine_batch_unref(bb);
        tlist_free(&a);
        tlist_free(&b);
        tlist_free(&sum);
        tlist_free(&neg);
    }
}

/* Entry j of the universe the stretch tests draw from, in entry order as j
 * grows.  Plain: key INT j / 4, value INT j % 4 (four values a key).  Wide:
 * key (INT j / 12, TEXT) with a text that every key shares but for its
 * last byte ('a' + j % 12 / 4), value INT j % 4, so that neighbours agree
 * on their first 16 bytes and only their full bytes order them. */
static void universe_entry(size_t j, bool wide, tlist *l, int64_t w)
{
    uint8_t k[256], v[64];
    char t[40];
    snprintf(t, sizeof t, "shared-prefix-of-every-key-%c", (char)('a' + j % 12 / 4));
    ivm_value key[2] = {ivm_value_int((int64_t)(wide ? j / 12 : j / 4)), tv(t)};
    ivm_value val = ivm_value_int((int64_t)(j % 4));
    size_t kl = enc(key, wide ? 2 : 1, k), vl = enc(&val, 1, v);
    tlist_push(l, k, kl, v, vl, w);
}

/* Inputs that take the entries of one ordered universe in stretches (an
 * input wins many times in a row, as when keys grow with time), with
 * stretches of every length from 1 to a few hundred, stretches that end
 * where another input holds the very next entry or the same entry (a tie
 * at the stretch's end, summed or cancelled), and inputs that end first.
 * The k-way merge copies such stretches whole (batch.c, gallop); its
 * output must be the model's consolidated sum. */
static void test_batch_merge_many_stretches(void **state)
{
    (void)state;
    rng_seed(24);
    for (int iter = 0; iter < 400; iter++) {
        size_t k = 1 + rng_below(iter % 2 ? 5 : 17);
        bool wide = rng_below(3) == 0;
        tlist in[17] = {{0}}, sum = {0};
        size_t total = rng_below(4) == 0 ? rng_below(20) : 200 + rng_below(3000);
        size_t j = 0;
        while (j < total) {
            size_t r = rng_below(k);
            /* Stretch lengths spread over 1 .. 512, short ones common. */
            size_t len = 1 + rng_below((size_t)1 << rng_below(10));
            for (size_t e = 0; e < len && j < total; e++, j++) {
                int64_t w = rng_below(8) == 0 ? -1 : 1 + (int64_t)rng_below(3);
                universe_entry(j, wide, &in[r], w);
                universe_entry(j, wide, &sum, w);
                if (k > 1 && rng_below(16) == 0) {
                    /* The same entry in another input: cancelled or summed. */
                    size_t o = (r + 1 + rng_below(k - 1)) % k;
                    int64_t w2 = rng_below(2) ? -w : w;
                    universe_entry(j, wide, &in[o], w2);
                    universe_entry(j, wide, &sum, w2);
                }
            }
        }
        spine_batch *b[17], *m;
        for (size_t r = 0; r < k; r++) {
            tlist_consolidate(&in[r]);
            b[r] = tlist_build(&in[r], true);
        }
        tlist_consolidate(&sum);
        assert_int_equal(spine_batch_merge_many((const spine_batch *const *)b, k, &m), IVM_OK);
        assert_batch_is(m, &sum);
        spine_batch_unref(m);
        for (size_t r = 0; r < k; r++) {
            spine_batch_unref(b[r]);
            tlist_free(&in[r]);
        }
        tlist_free(&sum);
    }
}

static void test_batch_seek_finds_first_key(void **state)
{
    (void)state;
    rng_seed(21);
    for (int iter = 0; iter < 200; iter++) {
        tlist a = {0};
        fill(&a, rng_below(80));
        tlist_consolidate(&a);
        spine_batch *b = tlist_build(&a, false);
        for (int p = 0; p < 40; p++) {
            uint8_t probe[64];
            size_t plen;
            /* Keys a little wider than the data's, and one-column prefixes. */
            ivm_value key[2] = {ivm_value_int((int64_t)rng_below(9) - 4),
                                tv(rng_below(5) ? texts[rng_below(4)] : "aa")};
            plen = enc(key, rng_below(4) ? 2 : 1, probe);
            size_t expect = 0;
            while (expect < b->n) {
                size_t kl;
                const uint8_t *k = spine_batch_key(b, expect, &kl);
                if (spine_row_cmp(k, kl, probe, plen) >= 0)
                    break;
                expect++;
            }
            assert_int_equal(spine_batch_seek(b, probe, plen), expect);
        }
        spine_batch_unref(b);
        tlist_free(&a);
    }
}

/* spine_batch_key_end: the end of each key's stretch, against the model
 * (whose entries are consolidated and sorted like the batch's). */
static void test_batch_key_end(void **state)
{
    (void)state;
    rng_seed(22);
    for (int iter = 0; iter < 200; iter++) {
        tlist a = {0};
        fill(&a, 1 + rng_below(80));
        tlist_consolidate(&a);
        if (a.n == 0) {
            tlist_free(&a);
            continue;
        }
        spine_batch *b = tlist_build(&a, false);
        assert_int_equal(b->n, a.n);
        for (size_t i = 0; i < a.n; i++) {
            size_t e = i + 1;
            while (e < a.n && tentry_same_key(&a.v[e], &a.v[i]))
                e++;
            assert_int_equal(spine_batch_key_end(b, i), e);
        }
        spine_batch_unref(b);
        tlist_free(&a);
    }
}

/* Large batches, where seeks go through the fences first: keys whose
 * 8-byte prefixes differ (wide integers), keys shorter than 8 bytes (short
 * text, NULL), keys that share long prefixes (text with a common start),
 * probes of other widths. */
static void test_batch_seek_with_fences(void **state)
{
    (void)state;
    static const char *starts[] = {"", "a", "abcdefghij", "abcdefghik"};
    rng_seed(23);
    for (int iter = 0; iter < 60; iter++) {
        int kind = iter % 4;
        tlist a = {0};
        size_t n = 1 + rng_below(3000);
        uint8_t k[256], v[256], probe[256];
        for (size_t i = 0; i < n; i++) {
            ivm_value key[2], val = ivm_value_int((int64_t)rng_below(3));
            char t[32];
            size_t kl;
            if (kind == 0) {
                key[0] = ivm_value_int((int64_t)(rng_next() >> rng_below(64)));
                kl = enc(key, 1, k);
            } else if (kind == 1) {
                snprintf(t, sizeof t, "%c%c", 'a' + (int)rng_below(26), 'a' + (int)rng_below(3));
                key[0] = rng_below(10) ? tv(t) : ivm_value_null();
                kl = enc(key, 1, k);
            } else if (kind == 2) {
                snprintf(t, sizeof t, "%s%u", starts[rng_below(4)], (unsigned)rng_below(500));
                key[0] = tv(t);
                kl = enc(key, 1, k);
            } else {
                key[0] = ivm_value_int((int64_t)rng_below(40));
                key[1] = ivm_value_int((int64_t)rng_below(100000));
                kl = enc(key, 2, k);
            }
            tlist_push(&a, k, kl, v, enc(&val, 1, v), 1);
        }
        tlist_consolidate(&a);
        spine_batch *b = tlist_build(&a, true);
        assert_int_equal(spine_batch_check(b), IVM_OK);
        for (int p = 0; p < 200; p++) {
            size_t plen;
            if (b->n > 0 && rng_below(3) == 0) {
                /* A key that is there, or its first column. */
                size_t kl;
                const uint8_t *kk = spine_batch_key(b, rng_below(b->n), &kl);
                memcpy(probe, kk, kl);
                plen = kind == 3 && rng_below(2) ? 9 : kl;
            } else {
                ivm_value key[2];
                char t[32];
                snprintf(t, sizeof t, "%s%u", starts[rng_below(4)], (unsigned)rng_below(600));
                key[0] = kind == 0 ? ivm_value_int((int64_t)(rng_next() >> rng_below(64)))
                                   : kind == 3 ? ivm_value_int((int64_t)rng_below(42) - 1) : tv(t);
                key[1] = ivm_value_int((int64_t)rng_below(100000));
                plen = enc(key, kind == 3 ? 1 + (uint32_t)rng_below(2) : 1, probe);
            }
            size_t expect = 0;
            while (expect < b->n) {
                size_t kl;
                const uint8_t *kk = spine_batch_key(b, expect, &kl);
                if (spine_row_cmp(kk, kl, probe, plen) >= 0)
                    break;
                expect++;
            }
            assert_int_equal(spine_batch_seek(b, probe, plen), expect);
        }
        spine_batch_unref(b);
        tlist_free(&a);
    }
}

/* Seeks in batches whose keys all share a prefix, which the fences skip:
 * probes below it, above it, a proper prefix of it (one column of two-column
 * keys), inside it; and a batch of one key with many values. */
static void test_batch_seek_shared_prefix(void **state)
{
    (void)state;
    tlist a = {0}, one = {0};
    uint8_t k[256], v[256], probe[256];
    for (int64_t i = 0; i < 300; i++) {
        ivm_value key[2] = {ivm_value_int(7), ivm_value_int(i * 3)}, val = ivm_value_int(i % 5);
        tlist_push(&a, k, enc(key, 2, k), v, enc(&val, 1, v), 1);
        ivm_value k1 = ivm_value_int(3), v1 = ivm_value_int(i);
        tlist_push(&one, k, enc(&k1, 1, k), v, enc(&v1, 1, v), 1);
    }
    tlist_consolidate(&a);
    tlist_consolidate(&one);
    spine_batch *b = tlist_build(&a, true), *b1 = tlist_build(&one, true);
    assert_int_equal(spine_batch_check(b), IVM_OK);
    assert_int_equal(spine_batch_check(b1), IVM_OK);
    assert_int_equal(b1->n, 300);
    struct {
        int64_t c0, c1;
        int ncols;
        size_t expect;
    } cases[] = {
        {7, 0, 1, 0},      {6, 0, 1, 0},   {8, 0, 1, 300},   {7, 150, 2, 50},
        {7, 151, 2, 51},   {7, -1, 2, 0},  {7, 897, 2, 299}, {7, 898, 2, 300},
        {6, 1000, 2, 0},   {8, -5, 2, 300}, {7, 0, 2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ivm_value key[2] = {ivm_value_int(cases[i].c0), ivm_value_int(cases[i].c1)};
        size_t plen = enc(key, (uint32_t)cases[i].ncols, probe);
        assert_int_equal(spine_batch_seek(b, probe, plen), cases[i].expect);
    }
    for (int64_t x = 2; x <= 4; x++) {
        ivm_value key[2] = {ivm_value_int(x), ivm_value_int(0)};
        size_t plen = enc(key, 1, probe);
        assert_int_equal(spine_batch_seek(b1, probe, plen), x <= 3 ? 0 : 300);
        plen = enc(key, 2, probe); /* longer than the keys */
        assert_int_equal(spine_batch_seek(b1, probe, plen), x <= 2 ? 0 : 300);
    }
    spine_batch_unref(b);
    spine_batch_unref(b1);
    tlist_free(&a);
    tlist_free(&one);
}

static void test_batch_ref_counts(void **state)
{
    (void)state;
    tlist a = {0};
    rng_seed(22);
    fill(&a, 10);
    spine_batch *b = tlist_build(&a, false);
    assert_int_equal(b->refs, 1);
    assert_ptr_equal(spine_batch_ref(b), b);
    assert_int_equal(b->refs, 2);
    spine_batch_unref(b);
    assert_int_equal(b->refs, 1);
    spine_batch_unref(b); /* frees: ASan reports a leak or a double free */
    spine_batch_unref(NULL);
    tlist_free(&a);
}

/* A writable copy of a batch's arrays, to damage. */
typedef struct copy {
    spine_batch b;
    uint64_t off[64];
    uint32_t klen[64];
    int64_t w[64];
    uint8_t data[2048];
} copy;

static void make_copy(copy *c, const spine_batch *b)
{
    assert_true(b->n < 64 && b->bytes <= sizeof c->data);
    memcpy(c->off, b->off, (b->n + 1) * sizeof *c->off);
    memcpy(c->klen, b->klen, b->n * sizeof *c->klen);
    memcpy(c->w, b->w, b->n * sizeof *c->w);
    memcpy(c->data, b->data, b->bytes);
    c->b = *b;
    c->b.refs = 1;
    c->b.off = c->off;
    c->b.klen = c->klen;
    c->b.w = c->w;
    c->b.data = c->data;
    /* The fences (one 8-byte key prefix per 16 entries), then their
     * entries' offsets (8 bytes each), follow the data at the next
     * multiple of 8 from the start of the block (spine_int.h). */
    size_t from = (size_t)(b->data - (const uint8_t *)b) + b->bytes;
    size_t to = offsetof(copy, data) + b->bytes;
    size_t nf = (b->n + 15) / 16;
    assert_true(((to + 7) & ~(size_t)7) + 16 * nf <= sizeof *c);
    memcpy((uint8_t *)c + ((to + 7) & ~(size_t)7), (const uint8_t *)b + ((from + 7) & ~(size_t)7),
           16 * nf);
}

static void test_batch_check_detects_damage(void **state)
{
    (void)state;
    tlist a = {0};
    for (int64_t i = 0; i < 8; i++) {
        uint8_t k[64], v[64];
        ivm_value key = ivm_value_int(i / 2), val = tv(i % 2 ? "y" : "x");
        size_t kl = enc(&key, 1, k), vl = enc(&val, 1, v);
        tlist_push(&a, k, kl, v, vl, i + 1);
    }
    spine_batch *b = tlist_build(&a, false);
    assert_int_equal(b->n, 8);
    copy c;

    make_copy(&c, b);
    assert_int_equal(spine_batch_check(&c.b), IVM_OK);

    make_copy(&c, b);
    c.w[3] = 0; /* S4 */
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b);
    c.klen[2] = 100; /* S5: key longer than entry */
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b);
    c.klen[2] = 4; /* S5: key not a whole column */
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b);
    c.data[c.off[5]] = 0x07; /* S1: unknown tag */
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b);
    c.data[c.off[1] + 8] = 0x01; /* S3: entry 1's key now > entry 2's */
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b); /* S3: a duplicate pair */
    memcpy(c.data + c.off[1], c.data + c.off[0], (size_t)(c.off[1] - c.off[0]));
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b);
    c.off[8] = c.off[8] - 1; /* S5: offsets disagree with bytes */
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b); /* a sign flipped: the negatives' count disagrees */
    c.w[3] = -c.w[3];
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b); /* more settled negatives than negatives */
    c.b.settled = c.b.neg + 1;
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b);
    c.b.refs = 0;
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b); /* S5: a fence that disagrees with its entry */
    ((uint8_t *)&c)[((offsetof(copy, data) + c.b.bytes + 7) & ~(size_t)7) + 3] ^= 1;
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    make_copy(&c, b); /* S5: a fence's offset that is not its entry's */
    ((uint8_t *)&c)[((offsetof(copy, data) + c.b.bytes + 7) & ~(size_t)7) + 8] ^= 1;
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    /* S18: the key filter (blocks of 4 64-bit words, spine_int.h) must
     * hold every key and have the blocks of the batch's size; a batch
     * may have none (built for readers that never seek exactly). */
    assert_non_null(b->filter);
    assert_true(b->filter_blocks >= 1 && b->filter_blocks <= 2);
    uint64_t fz[16];
    make_copy(&c, b);
    memcpy(fz, b->filter, b->filter_blocks * 4 * sizeof *fz);
    c.b.filter = fz;
    assert_int_equal(spine_batch_check(&c.b), IVM_OK);
    memset(fz, 0, sizeof fz); /* holds no key */
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);
    make_copy(&c, b);
    memcpy(fz, b->filter, b->filter_blocks * 4 * sizeof *fz);
    c.b.filter = fz;
    c.b.filter_blocks = b->filter_blocks + 1; /* not its size */
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);
    make_copy(&c, b);
    c.b.filter = NULL;
    c.b.filter_blocks = 0;
    assert_int_equal(spine_batch_check(&c.b), IVM_OK);
    c.b.filter_blocks = 1; /* blocks, but no filter */
    assert_int_equal(spine_batch_check(&c.b), IVM_CORRUPT);

    spine_batch_unref(b);
    tlist_free(&a);

    /* S5: the builder accepts keys of two widths, the check does not. */
    tlist mixed = {0};
    uint8_t k[64];
    ivm_value key[2] = {ivm_value_int(1), ivm_value_null()};
    tlist_push(&mixed, k, enc(key, 1, k), NULL, 0, 1);
    tlist_push(&mixed, k, enc(key, 2, k), NULL, 0, 1);
    b = tlist_build(&mixed, false);
    assert_int_equal(spine_batch_check(b), IVM_CORRUPT);
    spine_batch_unref(b);
    tlist_free(&mixed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_merge_consolidates),
        cmocka_unit_test(test_batch_merge_many_stretches),
        cmocka_unit_test(test_batch_seek_finds_first_key),
        cmocka_unit_test(test_batch_key_end),
        cmocka_unit_test(test_batch_seek_with_fences),
        cmocka_unit_test(test_batch_seek_shared_prefix),
        cmocka_unit_test(test_batch_ref_counts),
        cmocka_unit_test(test_batch_check_detects_damage),
    };
    return cmocka_run_group_tests_name("spine/batch", tests, NULL, NULL);
}
