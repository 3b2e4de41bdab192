/*
 * test_builder.c: the batch builder (spine/builder.c) against the sorted
 * array model: random entries from several shapes (small colliding domains
 * for consolidation, wide random keys, long shared text prefixes that make
 * the radix prefixes tie, small integer keys whose leading bytes all agree)
 * and sizes on both sides of the insertion-sort cut-off; the sorted promise,
 * kept and broken; reserve/commit; empty input and zero weights; order
 * noticed as entries come; buffers kept across batches; whole rows from a
 * batch (spine_batch_rows).
 */
#include "spine_testlib.h"

typedef void (*gen_fn)(uint8_t *k, size_t *kl, uint8_t *v, size_t *vl);

/* Key INT 0..9, value TEXT from three strings: many collisions. */
static void gen_small(uint8_t *k, size_t *kl, uint8_t *v, size_t *vl)
{
    static const char *vals[] = {"", "x", "xy"};
    ivm_value key = ivm_value_int((int64_t)rng_below(10)), val = tv(vals[rng_below(3)]);
    *kl = enc(&key, 1, k);
    *vl = enc(&val, 1, v);
}

/* Random 64-bit key, random REAL value: no collisions, all bytes vary. */
static void gen_wide(uint8_t *k, size_t *kl, uint8_t *v, size_t *vl)
{
    ivm_value key = ivm_value_int((int64_t)rng_next());
    ivm_value val = ivm_value_real((double)(int64_t)rng_next() / 1e6);
    *kl = enc(&key, 1, k);
    *vl = enc(&val, 1, v);
}

/* Text keys sharing 40 bytes, then 0..3 of 'a'/'b': the prefix window
 * after the common part still ties often (entries shorter than it). */
static void gen_prefix(uint8_t *k, size_t *kl, uint8_t *v, size_t *vl)
{
    char t[48];
    memset(t, 'p', 40);
    size_t n = 40 + rng_below(4);
    for (size_t i = 40; i < n; i++)
        t[i] = rng_below(2) ? 'a' : 'b';
    ivm_value key = ivm_value_text(t, (uint32_t)n);
    ivm_value val = ivm_value_int((int64_t)rng_below(4));
    *kl = enc(&key, 1, k);
    *vl = enc(&val, 1, v);
}

/* Small integer keys: the tag and high bytes agree in every entry. */
static void gen_ints(uint8_t *k, size_t *kl, uint8_t *v, size_t *vl)
{
    ivm_value key = ivm_value_int((int64_t)rng_below(1000));
    ivm_value val = ivm_value_int((int64_t)rng_below(4));
    *kl = enc(&key, 1, k);
    *vl = enc(&val, 1, v);
}

/* Two key columns with text of varying length, value NULL or INT. */
static void gen_two_col(uint8_t *k, size_t *kl, uint8_t *v, size_t *vl)
{
    static const char *texts[] = {"", "a", "ab", "abc", "b", "ba"};
    ivm_value key[2] = {ivm_value_int((int64_t)rng_below(5) - 2), tv(texts[rng_below(6)])};
    ivm_value val = rng_below(3) ? ivm_value_int((int64_t)rng_below(3)) : ivm_value_null();
    *kl = enc(key, 2, k);
    *vl = enc(&val, 1, v);
}

/* Rows like a table's without a key: small INTs, then text of 20..70
 * bytes from a few letters, so that entries both longer and shorter than
 * the builder's 32-byte scan window differ inside it and past it. */
static void gen_long(uint8_t *k, size_t *kl, uint8_t *v, size_t *vl)
{
    char t[80];
    size_t n = 20 + rng_below(51);
    for (size_t i = 0; i < n; i++)
        t[i] = (char)('a' + rng_below(i % 16 == 3 ? 3 : 1));
    ivm_value key[3] = {ivm_value_int((int64_t)rng_below(3)), ivm_value_int((int64_t)rng_below(300)),
                        ivm_value_text(t, (uint32_t)n)};
    *kl = enc(key, 3, k);
    *vl = 0;
    IVM_UNUSED(v);
}

static int64_t gen_weight(void)
{
    return (int64_t)rng_below(7) - 3; /* zero included: the builder ignores it */
}

/* Random entries (some pushed again with the opposite weight so that they
 * cancel), built unsorted, against the model. */
static void check_random_build(gen_fn gen, size_t n)
{
    tlist in = {0}, model = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t k[256], v[256];
        size_t kl, vl;
        gen(k, &kl, v, &vl);
        int64_t w = gen_weight();
        tlist_push(&in, k, kl, v, vl, w);
        if (rng_below(8) == 0)
            tlist_push(&in, k, kl, v, vl, -w);
    }
    tlist_add(&model, &in, 1);
    tlist_consolidate(&model);
    spine_batch *b = tlist_build(&in, false);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    tlist_free(&in);
    tlist_free(&model);
}

static void test_builder_sorts_and_consolidates(void **state)
{
    (void)state;
    static const gen_fn gens[] = {gen_small, gen_wide, gen_prefix, gen_ints, gen_two_col,
                                  gen_long};
    static const size_t sizes[] = {0, 1, 2, 3, 5, 31, 32, 33, 64, 100, 1000, 20000};
    rng_seed(10);
    for (size_t g = 0; g < sizeof gens / sizeof *gens; g++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int rep = 0; rep < (sizes[s] < 100 ? 20 : 2); rep++)
                check_random_build(gens[g], sizes[s]);
}

static void test_builder_sorted_promise(void **state)
{
    (void)state;
    rng_seed(11);
    tlist in = {0}, model = {0};
    for (int i = 0; i < 500; i++) {
        uint8_t k[256], v[256];
        size_t kl, vl;
        gen_two_col(k, &kl, v, &vl);
        tlist_push(&in, k, kl, v, vl, (int64_t)rng_below(5) - 2);
    }
    tlist_add(&model, &in, 1);
    tlist_consolidate(&model);
    /* In order, each entry split into two pushes: neighbours consolidate. */
    tlist sorted = {0};
    for (size_t i = 0; i < model.n; i++) {
        const tentry *t = &model.v[i];
        tlist_push(&sorted, t->e, t->klen, t->e + t->klen, t->len - t->klen, t->w + 1);
        tlist_push(&sorted, t->e, t->klen, t->e + t->klen, t->len - t->klen, -1);
    }
    spine_batch *b = tlist_build(&sorted, true);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    /* A broken promise still yields the right batch. */
    b = tlist_build(&in, true);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    tlist_free(&sorted);
    tlist_free(&in);
    tlist_free(&model);
}

/* Entries that agree on 8 differing positions at a time, level after level:
 * entry j is a long text of 'a' with one 'b' at byte 10 * j, so each radix
 * refinement splits off only 8 entries and the rest tie again, until the
 * run falls back to merge sort. */
static void test_builder_deep_ties(void **state)
{
    (void)state;
    enum { N = 700, LEN = 10 * N + 10 };
    char *t = malloc(LEN);
    assert_non_null(t);
    tlist in = {0}, model = {0};
    rng_seed(12);
    for (size_t j = 0; j < N; j++) {
        memset(t, 'a', LEN);
        t[10 * j] = 'b';
        ivm_value key = ivm_value_int(1), val = ivm_value_text(t, LEN);
        uint8_t k[16], *v = malloc(LEN + 2);
        size_t kl = enc(&key, 1, k), vl = spine_row_encode(&val, 1, v);
        for (size_t c = 0; c < 2; c++)
            tlist_push(&in, k, kl, v, vl, (int64_t)rng_below(3) + 1);
        free(v);
    }
    /* shuffle */
    for (size_t i = in.n; i > 1; i--) {
        size_t j = rng_below(i);
        tentry x = in.v[i - 1];
        in.v[i - 1] = in.v[j];
        in.v[j] = x;
    }
    tlist_add(&model, &in, 1);
    tlist_consolidate(&model);
    spine_batch *b = tlist_build(&in, false);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    tlist_free(&in);
    tlist_free(&model);
    free(t);
}

/* Byte-identical entries split into key and value at two places are two
 * different pairs; the sort still puts them in a total order. */
static void test_builder_same_bytes_other_split(void **state)
{
    (void)state;
    tlist in = {0}, model = {0};
    rng_seed(13);
    for (int i = 0; i < 200; i++) {
        ivm_value row[2] = {ivm_value_int((int64_t)rng_below(3)), ivm_value_int(7)};
        uint8_t e[32];
        size_t len = enc(row, 2, e);
        size_t kl = rng_below(2) ? 9 : 18;
        tlist_push(&in, e, kl, e + kl, len - kl, 1);
    }
    tlist_add(&model, &in, 1);
    tlist_consolidate(&model);
    assert_int_equal(model.n, 6);
    spine_batch *b = tlist_build(&in, false);
    /* Not a valid batch (two key widths, S5), but sorted and consolidated. */
    assert_int_equal(b->n, model.n);
    for (size_t i = 0; i < model.n; i++) {
        size_t len;
        const uint8_t *e = spine_batch_row(b, i, &len);
        assert_int_equal(len, model.v[i].len);
        assert_memory_equal(e, model.v[i].e, len);
        assert_int_equal(b->klen[i], model.v[i].klen);
        assert_int_equal(b->w[i], model.v[i].w);
    }
    spine_batch_unref(b);
    tlist_free(&in);
    tlist_free(&model);
}

static void test_builder_reserve_commit(void **state)
{
    (void)state;
    spine_builder bld;
    spine_builder_init(&bld);
    tlist model = {0};
    for (int64_t i = 99; i >= 0; i--) {
        ivm_value key = ivm_value_int(i % 10), val = ivm_value_int(i);
        size_t kl = spine_row_size(&key, 1), len = kl + spine_row_size(&val, 1);
        uint8_t *p = spine_builder_reserve(&bld, len);
        assert_non_null(p);
        spine_row_encode(&key, 1, p);
        spine_row_encode(&val, 1, p + kl);
        tlist_push(&model, p, kl, p + kl, len - kl, i + 1);
        assert_int_equal(spine_builder_commit(&bld, kl, len, i + 1), IVM_OK);
    }
    /* A reservation never committed is forgotten, even once written. */
    uint8_t *junk = spine_builder_reserve(&bld, 4000);
    assert_non_null(junk);
    memset(junk, 0xff, 4000);
    /* A reservation committed with weight 0 is dropped. */
    assert_non_null(spine_builder_reserve(&bld, 1));
    assert_int_equal(spine_builder_commit(&bld, 0, 0, 0), IVM_OK);
    tlist_consolidate(&model);
    spine_batch *b;
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    spine_builder_fini(&bld);
    tlist_free(&model);
}

static void test_builder_empty_and_zero_weights(void **state)
{
    (void)state;
    spine_builder bld;
    spine_batch *b;
    spine_builder_init(&bld);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_non_null(b);
    assert_int_equal(b->n, 0);
    assert_int_equal(spine_batch_check(b), IVM_OK);
    spine_batch_unref(b);

    uint8_t k[16];
    ivm_value key = ivm_value_int(1);
    size_t kl = enc(&key, 1, k);
    assert_int_equal(spine_builder_push(&bld, k, kl, NULL, 0, 0), IVM_OK);
    assert_int_equal(bld.n, 0);
    /* Cancels to nothing: an empty batch, never NULL. */
    assert_int_equal(spine_builder_push(&bld, k, kl, NULL, 0, 2), IVM_OK);
    assert_int_equal(spine_builder_push(&bld, k, kl, NULL, 0, -2), IVM_OK);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_int_equal(b->n, 0);
    spine_batch_unref(b);
    /* The builder is reusable after finish; an empty value is allowed. */
    assert_int_equal(bld.n, 0);
    assert_int_equal(spine_builder_push(&bld, k, kl, NULL, 0, 5), IVM_OK);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_int_equal(b->n, 1);
    assert_int_equal(b->w[0], 5);
    assert_int_equal(spine_batch_check(b), IVM_OK);
    spine_batch_unref(b);
    /* clear forgets entries */
    assert_int_equal(spine_builder_push(&bld, k, kl, NULL, 0, 5), IVM_OK);
    spine_builder_clear(&bld);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_int_equal(b->n, 0);
    spine_batch_unref(b);
    spine_builder_fini(&bld);
    spine_builder_fini(&bld); /* fini twice is harmless */
}

/* Pushes entry t with weight w; asserts the push succeeds. */
static void push_entry(spine_builder *bld, const tentry *t, int64_t w)
{
    assert_int_equal(spine_builder_push(bld, t->e, t->klen, t->e + t->klen, t->len - t->klen, w),
                     IVM_OK);
}

/* Entries that come in order are noticed as they come: strictly
 * increasing ones are copied whole, equal neighbours only consolidated,
 * and the first smaller entry sends the batch to the sort; each finish
 * starts over. */
static void test_builder_notices_order(void **state)
{
    (void)state;
    rng_seed(14);
    tlist in = {0}, model = {0};
    for (int i = 0; i < 3000; i++) {
        uint8_t k[256], v[256];
        size_t kl, vl;
        gen_long(k, &kl, v, &vl);
        tlist_push(&in, k, kl, v, vl, (int64_t)rng_below(3) + 1);
    }
    tlist_add(&model, &in, 1);
    tlist_consolidate(&model);
    spine_builder bld;
    spine_batch *b = NULL;
    spine_builder_init(&bld);
    assert_int_equal(bld.order, SPINE_BUILDER_ASCENDING);
    /* Strictly increasing, with ignored zero weights between. */
    for (size_t i = 0; i < model.n; i++) {
        push_entry(&bld, &model.v[i], model.v[i].w);
        if (i + 1 < model.n)
            push_entry(&bld, &model.v[i + 1], 0);
    }
    assert_int_equal(bld.order, SPINE_BUILDER_ASCENDING);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    /* Each entry in two pushes that cancel in part: equal neighbours. */
    assert_int_equal(bld.order, SPINE_BUILDER_ASCENDING);
    for (size_t i = 0; i < model.n; i++) {
        push_entry(&bld, &model.v[i], model.v[i].w + 2);
        push_entry(&bld, &model.v[i], -2);
    }
    assert_int_equal(bld.order, SPINE_BUILDER_EQUALS);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    /* Push order: unordered (gen_long repeats rows, so some are equal). */
    for (size_t i = 0; i < in.n; i++)
        push_entry(&bld, &in.v[i], in.v[i].w);
    assert_int_equal(bld.order, SPINE_BUILDER_UNORDERED);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    /* In order but for the last entry, which is the smallest: late. */
    for (size_t i = 1; i < model.n; i++)
        push_entry(&bld, &model.v[i], model.v[i].w);
    assert_int_equal(bld.order, SPINE_BUILDER_ASCENDING);
    push_entry(&bld, &model.v[0], model.v[0].w);
    assert_int_equal(bld.order, SPINE_BUILDER_NEARLY);
    assert_int_equal(bld.nlate, 1);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    /* In reverse: the first SPINE_BUILDER_LATE are late, the next one
     * sends the batch to the sort. */
    for (size_t i = model.n; i-- > 0;)
        push_entry(&bld, &model.v[i], model.v[i].w);
    assert_int_equal(bld.order, SPINE_BUILDER_UNORDERED);
    assert_int_equal(bld.nlate, SPINE_BUILDER_LATE);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_batch_is(b, &model);
    spine_batch_unref(b);
    spine_builder_fini(&bld);
    tlist_free(&in);
    tlist_free(&model);
}

/* n entries of gen with weights 1 to 3 in *in, and their consolidation
 * in *model. */
static void gen_model(gen_fn gen, int n, tlist *in, tlist *model)
{
    for (int i = 0; i < n; i++) {
        uint8_t k[256], v[256];
        size_t kl, vl;
        gen(k, &kl, v, &vl);
        tlist_push(in, k, kl, v, vl, (int64_t)rng_below(3) + 1);
    }
    tlist_add(model, in, 1);
    tlist_consolidate(model);
}

/* Entries pushed in runs that are in order among themselves but shuffled
 * within (spine_builder_finish_runs): runs of 1 to 99 entries of the
 * model in turn, on both sides of the insertion-sort cut-off, some
 * entries split into two pushes (equal neighbours inside a run); shapes
 * with long shared prefixes, short entries and many equal keys. */
static void test_builder_sorts_runs(void **state)
{
    (void)state;
    static const gen_fn gens[] = {gen_long, gen_two_col, gen_ints, gen_prefix};
    rng_seed(21);
    for (size_t g = 0; g < sizeof gens / sizeof gens[0]; g++) {
        tlist in = {0}, model = {0};
        gen_model(gens[g], 4000, &in, &model);
        spine_builder bld;
        spine_builder_init(&bld);
        size_t *starts = calloc(model.n + 1, sizeof *starts);
        tentry **run = calloc(2 * 99 + 2, sizeof *run);
        int64_t *rw = calloc(2 * 99 + 2, sizeof *rw);
        assert_non_null(starts);
        assert_non_null(run);
        assert_non_null(rw);
        size_t nstarts = 0, pushed = 0;
        for (size_t i = 0; i < model.n;) {
            size_t len = 1 + rng_below(99), m = 0;
            if (len > model.n - i)
                len = model.n - i;
            for (size_t j = i; j < i + len; j++) {
                run[m] = &model.v[j];
                rw[m++] = model.v[j].w + (rng_below(4) == 0 ? 2 : 0);
                if (rw[m - 1] != model.v[j].w) {
                    run[m] = &model.v[j];
                    rw[m++] = -2;
                }
            }
            for (size_t j = m; j > 1; j--) {
                size_t r = rng_below(j);
                tentry *t = run[j - 1];
                int64_t tw = rw[j - 1];
                run[j - 1] = run[r];
                rw[j - 1] = rw[r];
                run[r] = t;
                rw[r] = tw;
            }
            if (i > 0)
                starts[nstarts++] = pushed;
            for (size_t j = 0; j < m; j++)
                push_entry(&bld, run[j], rw[j]);
            pushed += m;
            i += len;
        }
        assert_int_equal(bld.order, SPINE_BUILDER_UNORDERED);
        spine_batch *b = NULL;
        assert_int_equal(spine_builder_finish_runs(&bld, starts, nstarts, &b), IVM_OK);
        assert_batch_is(b, &model);
        spine_batch_unref(b);
        /* Starts past the entries or out of order: refused, nothing kept. */
        for (size_t i = 0; i < 3; i++)
            push_entry(&bld, &model.v[2 - i], 1);
        size_t bad[2] = {2, 1};
        assert_int_equal(spine_builder_finish_runs(&bld, bad, 2, &b), IVM_INVALID);
        assert_int_equal(bld.n, 0);
        push_entry(&bld, &model.v[0], 1);
        bad[0] = 2;
        assert_int_equal(spine_builder_finish_runs(&bld, bad, 1, &b), IVM_INVALID);
        assert_int_equal(bld.n, 0);
        spine_builder_fini(&bld);
        free(starts);
        free(run);
        free(rw);
        tlist_free(&in);
        tlist_free(&model);
    }
}

/* spine_builder_commit_larger: the model's entries in runs of 1 to 4, the
 * first entry pushed of each run (its largest, when a run is pushed in
 * reverse) committed as larger than all before, the rest compared as
 * usual; one run in three comes in reverse, so the builder must know the
 * promised entry as its largest to find the late ones after it. */
static void test_builder_commit_larger(void **state)
{
    (void)state;
    static const gen_fn gens[] = {gen_long, gen_ints, gen_prefix};
    rng_seed(33);
    for (size_t g = 0; g < sizeof gens / sizeof gens[0]; g++) {
        tlist in = {0}, model = {0};
        gen_model(gens[g], 600, &in, &model);
        spine_builder bld;
        spine_builder_init(&bld);
        size_t nlate = 0;
        for (size_t i = 0; i < model.n;) {
            size_t len = 1 + rng_below(4);
            len = IVM_MIN(len, model.n - i);
            bool reverse = len > 1 && rng_below(3) == 0 && nlate + len <= SPINE_BUILDER_LATE;
            for (size_t j = 0; j < len; j++) {
                const tentry *t = &model.v[reverse ? i + len - 1 - j : i + j];
                uint8_t *dst = spine_builder_reserve(&bld, t->len);
                assert_non_null(dst);
                memcpy(dst, t->e, t->len);
                assert_int_equal(j == 0 ? spine_builder_commit_larger(&bld, t->klen, t->len, t->w)
                                        : spine_builder_commit(&bld, t->klen, t->len, t->w),
                                 IVM_OK);
            }
            if (reverse)
                nlate += len - 1;
            i += len;
        }
        assert_int_equal(bld.order, nlate > 0 ? SPINE_BUILDER_NEARLY : SPINE_BUILDER_ASCENDING);
        assert_int_equal(bld.nlate, nlate);
        spine_batch *b = NULL;
        assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
        assert_int_equal(spine_batch_check(b), IVM_OK);
        assert_batch_is(b, &model);
        spine_batch_unref(b);
        spine_builder_fini(&bld);
        tlist_free(&in);
        tlist_free(&model);
    }
}

/* Entries in order but for a few that come late: the model's entries in
 * order, up to k of them (k on both sides of SPINE_BUILDER_LATE) held
 * back and pushed after a random later one; in half the builds some
 * entries are split into two pushes (equal neighbours) or cancelled and
 * pushed again, so that builds where entries tie and builds where none
 * does are both seen; shapes with long shared prefixes, short entries
 * and many equal keys.  Each build against the model, and the builder's
 * state as expected: NEARLY with at most SPINE_BUILDER_LATE late. */
static void test_builder_puts_late_entries_in_place(void **state)
{
    (void)state;
    static const gen_fn gens[] = {gen_small, gen_prefix, gen_ints, gen_two_col, gen_long};
    static const size_t lates[] = {0, 1, 2, 5, 20, SPINE_BUILDER_LATE - 1, SPINE_BUILDER_LATE,
                                   SPINE_BUILDER_LATE + 1, 200};
    rng_seed(15);
    spine_builder bld;
    spine_builder_init(&bld);
    for (size_t g = 0; g < sizeof gens / sizeof *gens; g++) {
        for (size_t l = 0; l < sizeof lates / sizeof *lates; l++) {
            for (int rep = 0; rep < 4; rep++) {
                tlist in = {0}, model = {0};
                size_t n = 1 + rng_below(rep < 2 ? 40 : 2000);
                bool splits = rep & 1; /* else no entry ties with the one before */
                for (size_t i = 0; i < n; i++) {
                    uint8_t k[256], v[256];
                    size_t kl, vl;
                    gens[g](k, &kl, v, &vl);
                    tlist_push(&in, k, kl, v, vl, (int64_t)rng_below(3) + 1);
                }
                tlist_add(&model, &in, 1);
                tlist_consolidate(&model);
                /* Push order: each model entry once, in order, except that
                 * up to k of them are held back and pushed after a random
                 * later entry (or at the end, i == m), sometimes split. */
                size_t m = model.n, k = IVM_MIN(lates[l], m);
                size_t *when = calloc(m + 1, sizeof *when);
                assert_non_null(when);
                for (size_t j = 0; j < k; j++) {
                    size_t x = rng_below(m);
                    when[x] = x + 2 + rng_below(m - x); /* pushed just before entry when - 1 */
                }
                size_t pushed_late = 0;
                for (size_t i = 0; i <= m; i++) {
                    for (size_t x = 0; x < m; x++) {
                        if (when[x] != i + 1 || x >= i)
                            continue;
                        const tentry *t = &model.v[x];
                        if (splits && rng_below(4) == 0) {
                            push_entry(&bld, t, t->w + 1);
                            push_entry(&bld, t, -1);
                        } else {
                            push_entry(&bld, t, t->w);
                        }
                        pushed_late++;
                    }
                    if (i == m)
                        break;
                    const tentry *t = &model.v[i];
                    if (when[i] != 0)
                        continue;
                    switch (splits ? rng_below(8) : 7) {
                    case 0: /* split: equal neighbours */
                        push_entry(&bld, t, t->w - 1);
                        push_entry(&bld, t, 1);
                        break;
                    case 1: /* cancelled, then pushed for good */
                        push_entry(&bld, t, 5);
                        push_entry(&bld, t, -5);
                        push_entry(&bld, t, t->w);
                        break;
                    default:
                        push_entry(&bld, t, t->w);
                    }
                }
                if (bld.order == SPINE_BUILDER_NEARLY)
                    assert_true(bld.nlate >= 1 && bld.nlate <= SPINE_BUILDER_LATE);
                if (k == 0 || pushed_late == 0)
                    assert_true(bld.order == SPINE_BUILDER_ASCENDING ||
                                bld.order == SPINE_BUILDER_EQUALS);
                spine_batch *b = NULL;
                assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
                assert_batch_is(b, &model);
                spine_batch_unref(b);
                free(when);
                tlist_free(&in);
                tlist_free(&model);
            }
        }
    }
    spine_builder_fini(&bld);
}

/* Pushes n entries of about 30 bytes (INT key i, TEXT value). */
static void push_n(spine_builder *bld, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ivm_value key = ivm_value_int((int64_t)i), val = tv("a value of some twenty bytes");
        uint8_t e[64];
        size_t kl = enc(&key, 1, e), vl = enc(&val, 1, e + kl);
        assert_int_equal(spine_builder_push(bld, e, kl, e + kl, vl, 1), IVM_OK);
    }
}

/* A builder keeps its buffers from batch to batch of a steady size, even
 * past 64 KiB, and gives them back once a batch uses less than a quarter
 * of them. */
static void test_builder_keeps_buffers(void **state)
{
    (void)state;
    spine_builder bld;
    spine_batch *b = NULL;
    spine_builder_init(&bld);
    push_n(&bld, 10000);
    assert_true(bld.bytes > (64u << 10));
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_int_equal(b->n, 10000);
    spine_batch_unref(b);
    const uint8_t *data = bld.data;
    size_t data_cap = bld.data_cap, cap = bld.cap;
    assert_non_null(data);
    assert_true(cap >= 10000);
    /* The same size again: no new buffers. */
    push_n(&bld, 9000);
    assert_ptr_equal(bld.data, data);
    assert_int_equal(bld.data_cap, data_cap);
    assert_int_equal(bld.cap, cap);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_int_equal(b->n, 9000);
    assert_int_equal(spine_batch_check(b), IVM_OK);
    spine_batch_unref(b);
    assert_ptr_equal(bld.data, data);
    /* A small batch after them: the big buffers go. */
    push_n(&bld, 100);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_int_equal(b->n, 100);
    spine_batch_unref(b);
    assert_null(bld.data);
    assert_int_equal(bld.cap, 0);
    spine_builder_fini(&bld);
}

/* spine_batch_rows: keys emptied, bytes, order and weights kept; a batch
 * whose keys are empty already is returned itself. */
static void test_batch_rows(void **state)
{
    (void)state;
    rng_seed(15);
    tlist in = {0}, model = {0}, rows = {0};
    for (int i = 0; i < 2000; i++) {
        uint8_t k[256], v[256];
        size_t kl, vl;
        gen_two_col(k, &kl, v, &vl);
        tlist_push(&in, k, kl, v, vl, (int64_t)rng_below(5) - 2);
    }
    tlist_add(&model, &in, 1);
    tlist_consolidate(&model);
    for (size_t i = 0; i < model.n; i++)
        tlist_push(&rows, NULL, 0, model.v[i].e, model.v[i].len, model.v[i].w);
    spine_batch *b = tlist_build(&in, false), *r = NULL, *r2 = NULL;
    assert_batch_is(b, &model);
    assert_int_equal(spine_batch_rows(b, &r), IVM_OK);
    assert_ptr_not_equal(r, b);
    assert_batch_is(r, &rows);
    assert_int_equal(spine_batch_rows(r, &r2), IVM_OK);
    assert_ptr_equal(r2, r);
    spine_batch_unref(r2);
    assert_batch_is(r, &rows);
    spine_batch_unref(r);
    spine_batch_unref(b);
    tlist_free(&in);
    tlist_free(&model);
    tlist_free(&rows);
}

/* set_keep keeps a big batch's buffers for the next one; trim gives them
 * back once the batches built since the last trim were far smaller. */
static void test_builder_keep_and_trim(void **state)
{
    (void)state;
    spine_builder b;
    spine_builder_init(&b);
    spine_builder_set_keep(&b, (size_t)4 << 20);
    uint8_t row[64];
    memset(row, 'x', sizeof row);
    for (uint32_t i = 0; i < 20000; i++) {
        row[0] = (uint8_t)(i >> 8);
        row[1] = (uint8_t)i;
        assert_int_equal(spine_builder_push(&b, row, 2, row + 2, sizeof row - 2, 1), IVM_OK);
    }
    spine_batch *big = NULL;
    assert_int_equal(spine_builder_finish(&b, &big), IVM_OK);
    assert_int_equal(big->n, 20000);
    spine_batch_unref(big);
    size_t cap = b.data_cap;
    assert_true(cap >= (size_t)20000 * sizeof row); /* kept */
    /* A trim right after the big batch keeps it: it was that big. */
    spine_builder_trim(&b);
    assert_int_equal(b.data_cap, cap);
    for (int k = 0; k < 3; k++) {
        spine_batch *small = NULL;
        assert_int_equal(spine_builder_push(&b, row, 2, row + 2, 8, 1), IVM_OK);
        assert_int_equal(spine_builder_finish(&b, &small), IVM_OK);
        assert_int_equal(small->n, 1);
        spine_batch_unref(small);
        assert_int_equal(b.data_cap, cap);
    }
    spine_builder_trim(&b);
    assert_true(b.data_cap == 0 && b.cap == 0);
    /* It still builds, and keeps its bound. */
    assert_int_equal(b.keep, (size_t)4 << 20);
    spine_batch *again = NULL;
    assert_int_equal(spine_builder_push(&b, row, 2, row + 2, 8, 1), IVM_OK);
    assert_int_equal(spine_builder_finish(&b, &again), IVM_OK);
    assert_int_equal(again->n, 1);
    spine_batch_unref(again);
    spine_builder_fini(&b);
}

/* spine_builder_set_filters: a builder's batches carry a key filter (S18)
 * by default and none once told so, in each of finish's three cases (in
 * bulk, in order with equal neighbours, sorted); a batch whose keys are
 * empty never gets one (every probe is the one key), nor does
 * spine_batch_rows' copy.  Both kinds pass spine_batch_check. */
static void test_builder_filters_on_request(void **state)
{
    (void)state;
    spine_builder bld;
    spine_builder_init(&bld);
    for (int order = 0; order < 3; order++) {
        for (int f = 0; f < 2; f++) {
            spine_builder_set_filters(&bld, f == 1);
            for (int64_t i = 0; i < 100; i++) {
                /* ascending; ascending with each entry twice; descending */
                int64_t key = order == 2 ? 99 - i : order == 1 ? i / 2 : i;
                uint8_t k[16];
                ivm_value kv = ivm_value_int(key);
                size_t kl = enc(&kv, 1, k);
                assert_int_equal(spine_builder_push(&bld, k, kl, k, kl, 1), IVM_OK);
            }
            spine_batch *b = NULL;
            assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
            assert_int_equal(spine_batch_check(b), IVM_OK);
            assert_true((b->filter != NULL) == (f == 1));
            assert_true((b->filter_blocks > 0) == (f == 1));
            spine_batch *r = NULL;
            assert_int_equal(spine_batch_rows(b, &r), IVM_OK);
            assert_null(r->filter);
            assert_int_equal(spine_batch_check(r), IVM_OK);
            spine_batch_unref(r);
            spine_batch_unref(b);
        }
    }
    /* The setting outlasts the buffers: after a large batch a small one
     * gives them back (and trim does, for a builder that keeps them), and
     * the batches after still follow the setting. */
    for (int f = 0; f < 2; f++) {
        for (int keep = 0; keep < 2; keep++) {
            spine_builder_set_filters(&bld, f == 1);
            spine_builder_set_keep(&bld, keep ? (size_t)64 << 10 : 0);
            for (int round = 0; round < 4; round++) {
                size_t n = round == 0 ? 20000 : 100;
                for (size_t i = 0; i < n; i++) {
                    uint8_t k[16];
                    ivm_value kv = ivm_value_int((int64_t)i);
                    size_t kl = enc(&kv, 1, k);
                    assert_int_equal(spine_builder_push(&bld, k, kl, k, kl, 1), IVM_OK);
                }
                spine_batch *b = NULL;
                assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
                assert_true((b->filter != NULL) == (f == 1));
                spine_batch_unref(b);
                if (round == 1)
                    spine_builder_trim(&bld);
            }
            assert_true(bld.data_cap < (size_t)64 << 10); /* the buffers were given back */
        }
    }
    spine_builder_set_keep(&bld, 0);
    spine_builder_set_filters(&bld, true);
    for (int64_t i = 0; i < 100; i++) {
        uint8_t v[16];
        ivm_value vv = ivm_value_int(i);
        assert_int_equal(spine_builder_push(&bld, NULL, 0, v, enc(&vv, 1, v), 1), IVM_OK);
    }
    spine_batch *b = NULL;
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_int_equal(b->n, 100);
    assert_null(b->filter); /* empty keys */
    assert_int_equal(spine_batch_check(b), IVM_OK);
    spine_batch_unref(b);
    spine_builder_fini(&bld);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder_sorts_and_consolidates),
        cmocka_unit_test(test_builder_sorted_promise),
        cmocka_unit_test(test_builder_deep_ties),
        cmocka_unit_test(test_builder_same_bytes_other_split),
        cmocka_unit_test(test_builder_reserve_commit),
        cmocka_unit_test(test_builder_empty_and_zero_weights),
        cmocka_unit_test(test_builder_notices_order),
        cmocka_unit_test(test_builder_puts_late_entries_in_place),
        cmocka_unit_test(test_builder_sorts_runs),
        cmocka_unit_test(test_builder_commit_larger),
        cmocka_unit_test(test_builder_keeps_buffers),
        cmocka_unit_test(test_batch_rows),
        cmocka_unit_test(test_builder_keep_and_trim),
        cmocka_unit_test(test_builder_filters_on_request),
    };
    return cmocka_run_group_tests_name("spine/builder", tests, NULL, NULL);
}
