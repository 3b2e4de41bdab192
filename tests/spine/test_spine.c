/*
 * test_spine.c: spines (spine/spine.c) against the sorted array model.  The
 * property test feeds random streams of batches with insertions and
 * retractions over small domains (so that they collide and cancel), and after
 * every insert checks the level structure, reads the whole spine through a
 * cursor and seeks random keys, comparing everything with the model.  Other
 * tests pin down the merge policy's bound on batch count, cancellation and
 * compaction.
 */
#include "spine_testlib.h"

/* The merge policy's bound (README): at most FANOUT - 1 = 3 batches on each
 * of the floor(log4 rows) + 1 levels that batches of up to `rows` entries
 * can occupy. */
static size_t batch_bound(size_t rows)
{
    size_t levels = 1;
    for (size_t r = rows; r >= 4; r /= 4)
        levels++;
    return 3 * levels;
}

static void check_spine(const spine *s, const tlist *model, int seeks)
{
    spine_stats st;
    assert_int_equal(spine_check(s), IVM_OK);
    spine_stats_get(s, &st);
    assert_true(st.rows >= model->n);
    assert_true(st.batches <= batch_bound(st.rows));
    assert_true((st.batches == 0) == (st.rows == 0));
    spine_cursor *c;
    const spine *const arr[1] = {s};
    assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &c), IVM_OK);
    assert_cursor_is(c, model);
    for (int i = 0; i < seeks; i++) {
        uint8_t probe[256];
        size_t plen = gen_small_key(probe, true);
        assert_seek(c, model, probe, plen);
    }
    spine_cursor_free(c);
}

static void test_spine_matches_model(void **state)
{
    (void)state;
    rng_seed(30);
    spine *s = spine_new();
    assert_non_null(s);
    tlist model = {0};
    for (int step = 0; step < 2000; step++) {
        tlist batch = {0};
        gen_small_batch(&batch, &model, 200);
        /* Half through the sorted promise, half unsorted. */
        bool promise = rng_below(2) == 0;
        if (promise) {
            tlist_consolidate(&batch);
        }
        spine_batch *b = tlist_build(&batch, promise);
        assert_int_equal(spine_insert_take(s, b), IVM_OK);
        tlist_add(&model, &batch, 1);
        tlist_consolidate(&model);
        if (step % 211 == 210)
            assert_int_equal(spine_compact(s), IVM_OK);
        check_spine(s, &model, 8);
        tlist_free(&batch);
    }
    spine_stats st;
    spine_stats_get(s, &st);
    assert_true(st.merges > 100);
    spine_free(s);
    tlist_free(&model);
}

/* Larger sums than the small domain allows, so that batches reach higher
 * levels: keys INT 0..499, values INT 0..7. */
static void test_spine_matches_model_wide(void **state)
{
    (void)state;
    rng_seed(31);
    spine *s = spine_new();
    tlist model = {0};
    for (int step = 0; step < 300; step++) {
        tlist batch = {0};
        size_t n = rng_below(4) == 0 ? rng_below(2000) : rng_below(20);
        for (size_t i = 0; i < n; i++) {
            uint8_t k[16], v[16];
            if (model.n > 0 && rng_below(4) == 0) {
                const tentry *t = &model.v[rng_below(model.n)];
                tlist_push(&batch, t->e, t->klen, t->e + t->klen, t->len - t->klen, -t->w);
                continue;
            }
            ivm_value key = ivm_value_int((int64_t)rng_below(500));
            ivm_value val = ivm_value_int((int64_t)rng_below(8));
            size_t kl = enc(&key, 1, k), vl = enc(&val, 1, v);
            tlist_push(&batch, k, kl, v, vl, (int64_t)rng_below(5) - 2);
        }
        assert_int_equal(spine_insert_take(s, tlist_build(&batch, false)), IVM_OK);
        tlist_add(&model, &batch, 1);
        tlist_consolidate(&model);
        assert_int_equal(spine_check(s), IVM_OK);
        spine_stats st;
        spine_stats_get(s, &st);
        assert_true(st.batches <= batch_bound(st.rows));
        if (step % 10 == 9) {
            spine_cursor *c;
            const spine *const arr[1] = {s};
            assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &c), IVM_OK);
            assert_cursor_is(c, &model);
            for (int i = 0; i < 20; i++) {
                uint8_t probe[16];
                ivm_value key = ivm_value_int((int64_t)rng_below(520) - 10);
                assert_seek(c, &model, probe, enc(&key, 1, probe));
            }
            spine_cursor_free(c);
        }
        tlist_free(&batch);
    }
    spine_free(s);
    tlist_free(&model);
}

static void test_spine_levels_stay_logarithmic(void **state)
{
    (void)state;
    spine *s = spine_new();
    spine_stats st;
    size_t max_batches = 0;
    for (int64_t i = 0; i < 20000; i++) {
        spine_builder bld;
        spine_batch *b;
        uint8_t k[16];
        ivm_value key = ivm_value_int(i * 7919 % 20011); /* distinct, unordered */
        size_t kl = enc(&key, 1, k);
        spine_builder_init(&bld);
        assert_int_equal(spine_builder_push(&bld, k, kl, NULL, 0, 1), IVM_OK);
        assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
        spine_builder_fini(&bld);
        assert_int_equal(spine_insert_take(s, b), IVM_OK);
        spine_stats_get(s, &st);
        assert_int_equal(st.rows, (size_t)i + 1); /* nothing cancels */
        assert_true(st.batches <= batch_bound(st.rows));
        max_batches = IVM_MAX(max_batches, st.batches);
        if (i % 1000 == 0)
            assert_int_equal(spine_check(s), IVM_OK);
    }
    assert_true(max_batches <= 3 * 8);
    assert_int_equal(spine_compact(s), IVM_OK);
    spine_stats_get(s, &st);
    assert_int_equal(st.batches, 1);
    assert_int_equal(st.rows, 20000);
    assert_int_equal(spine_check(s), IVM_OK);
    spine_free(s);
}

static void test_spine_retractions_cancel(void **state)
{
    (void)state;
    rng_seed(32);
    spine *s = spine_new();
    tlist all = {0};
    for (int i = 0; i < 3000; i++)
        gen_small_entry(&all, (int64_t)rng_below(3) + 1);
    tlist_consolidate(&all);
    assert_int_equal(spine_insert_take(s, tlist_build(&all, false)), IVM_OK);
    /* Retract it in ten slices. */
    for (size_t part = 0; part < 10; part++) {
        tlist slice = {0};
        for (size_t i = part; i < all.n; i += 10) {
            const tentry *t = &all.v[i];
            tlist_push(&slice, t->e, t->klen, t->e + t->klen, t->len - t->klen, -t->w);
        }
        assert_int_equal(spine_insert_take(s, tlist_build(&slice, false)), IVM_OK);
        assert_int_equal(spine_check(s), IVM_OK);
        tlist_free(&slice);
    }
    tlist empty = {0};
    check_spine(s, &empty, 10);
    assert_int_equal(spine_compact(s), IVM_OK);
    spine_stats st;
    spine_stats_get(s, &st);
    assert_int_equal(st.batches, 0);
    assert_int_equal(st.rows, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(spine_check(s), IVM_OK);
    spine_free(s);
    tlist_free(&all);
}

/* Four batches on level 0 that sum to nothing: their merge leaves no batch. */
static void test_spine_merge_to_nothing(void **state)
{
    (void)state;
    spine *s = spine_new();
    for (int64_t i = 0; i < 4; i++) {
        spine_builder bld;
        spine_batch *b;
        uint8_t k[16];
        ivm_value key = ivm_value_int(i / 2);
        size_t kl = enc(&key, 1, k);
        spine_builder_init(&bld);
        assert_int_equal(spine_builder_push(&bld, k, kl, NULL, 0, i % 2 ? -3 : 3), IVM_OK);
        assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
        spine_builder_fini(&bld);
        assert_int_equal(spine_insert_take(s, b), IVM_OK);
        assert_int_equal(spine_check(s), IVM_OK);
    }
    spine_stats st;
    spine_stats_get(s, &st);
    assert_int_equal(st.batches, 0);
    assert_int_equal(st.rows, 0);
    assert_int_equal(st.merges, 1);
    spine_free(s);
}

static void test_spine_drops_empty_batches(void **state)
{
    (void)state;
    spine *s = spine_new();
    spine_builder bld;
    spine_batch *b;
    spine_builder_init(&bld);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    assert_int_equal(spine_insert_take(s, b), IVM_OK);
    assert_int_equal(spine_insert_take(s, NULL), IVM_OK);
    spine_stats st;
    spine_stats_get(s, &st);
    assert_int_equal(st.batches, 0);
    assert_int_equal(spine_compact(s), IVM_OK);
    assert_int_equal(spine_check(s), IVM_OK);
    spine_builder_fini(&bld);
    spine_free(s);
    spine_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spine_matches_model),
        cmocka_unit_test(test_spine_matches_model_wide),
        cmocka_unit_test(test_spine_levels_stay_logarithmic),
        cmocka_unit_test(test_spine_retractions_cancel),
        cmocka_unit_test(test_spine_merge_to_nothing),
        cmocka_unit_test(test_spine_drops_empty_batches),
    };
    return cmocka_run_group_tests_name("spine/spine", tests, NULL, NULL);
}
