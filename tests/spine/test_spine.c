/*
 * test_spine.c: spines (spine/spine.c) against the sorted array model.  The
 * property test feeds random streams of batches with insertions and
 * retractions over small domains (so that they collide and cancel), and after
 * every insert lets a manual merger finish the merge work, checks the level
 * structure, reads the whole spine through a cursor and seeks random keys,
 * comparing everything with the model.  Other tests pin down the merge
 * policy's bound on batch count at rest, cancellation, compaction, and the
 * contract of the merger: inserting never merges, pending and spine_ready,
 * the waker, jobs dropped by compaction and free.  test_spine_model.c
 * interleaves merge slices at random; test_spine_flood.c uses the thread.
 */
#include "spine_testlib.h"

/* The merge policy's bound (README): at most FANOUT - 1 = 3 batches on each
 * of the floor(log4 rows) + 1 levels that batches of up to `rows` entries
 * can occupy. */
/* At rest a spine of fan-in F holds at most F - 1 batches on each of its
 * log_F(rows) + 1 levels. */
static size_t batch_bound_fan(size_t rows, size_t fan)
{
    size_t levels = 1;
    for (size_t r = rows; r >= fan; r /= fan)
        levels++;
    return (fan - 1) * levels;
}

static size_t batch_bound(size_t rows)
{
    return batch_bound_fan(rows, 4);
}

/* A spine on its own manual merger, which *m_out receives. */
static spine *manual_spine(spine_merger **m_out, uint32_t max_pending)
{
    assert_int_equal(spine_merger_new_manual(m_out), IVM_OK);
    spine_opts o = {.merger = *m_out, .max_pending = max_pending};
    spine *s = spine_new_opts(&o);
    assert_non_null(s);
    return s;
}

static spine_batch *one_entry(int64_t key, int64_t w)
{
    spine_builder bld;
    spine_batch *b;
    uint8_t k[16];
    ivm_value kv = ivm_value_int(key);
    size_t kl = enc(&kv, 1, k);
    spine_builder_init(&bld);
    assert_int_equal(spine_builder_push(&bld, k, kl, NULL, 0, w), IVM_OK);
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    spine_builder_fini(&bld);
    return b;
}

static void check_spine(const spine *s, const tlist *model, int seeks)
{
    spine_stats st;
    assert_int_equal(spine_check(s), IVM_OK);
    spine_stats_get(s, &st);
    assert_true(st.rows >= model->n);
    assert_true(st.batches <= batch_bound(st.rows) + st.pending);
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
    spine_merger *m;
    spine *s = manual_spine(&m, 0);
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
        spine_wait_idle(s);
        spine_stats st;
        spine_stats_get(s, &st);
        assert_int_equal(st.pending, 0); /* at rest: S9 */
        check_spine(s, &model, 8);
        tlist_free(&batch);
    }
    spine_stats st;
    spine_stats_get(s, &st);
    assert_true(st.merges > 100);
    spine_free(s);
    spine_merger_free(m);
    tlist_free(&model);
}

/* Larger sums than the small domain allows, so that batches reach higher
 * levels: keys INT 0..499, values INT 0..7. */
static void test_spine_matches_model_wide(void **state)
{
    (void)state;
    rng_seed(31);
    spine_merger *m;
    spine *s = manual_spine(&m, 0);
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
        spine_wait_idle(s);
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
    spine_merger_free(m);
    tlist_free(&model);
}

static void test_spine_levels_stay_logarithmic(void **state)
{
    (void)state;
    spine_merger *m;
    spine *s = manual_spine(&m, 0);
    spine_stats st;
    size_t max_batches = 0;
    for (int64_t i = 0; i < 20000; i++) {
        /* Distinct keys in no order. */
        assert_int_equal(spine_insert_take(s, one_entry(i * 7919 % 20011, 1)), IVM_OK);
        spine_wait_idle(s);
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
    spine_merger_free(m);
}

/* A wide spine (spine_opts.wide) merges 8 batches of a level: at rest it
 * keeps up to 7 a level, more than a spine of fan-in 4 may, still within
 * its logarithmic bound, and reads back what was inserted. */
static void test_spine_wide_levels(void **state)
{
    (void)state;
    spine_merger *m;
    assert_int_equal(spine_merger_new_manual(&m), IVM_OK);
    spine_opts o = {.merger = m, .wide = true};
    spine *s = spine_new_opts(&o);
    assert_non_null(s);
    spine_stats st;
    size_t max_batches = 0;
    tlist model = {0};
    for (int64_t i = 0; i < 20000; i++) {
        int64_t key = i * 7919 % 20011;
        uint8_t k[16];
        ivm_value kv = ivm_value_int(key);
        tlist_push(&model, k, enc(&kv, 1, k), NULL, 0, 1);
        assert_int_equal(spine_insert_take(s, one_entry(key, 1)), IVM_OK);
        spine_wait_idle(s);
        spine_stats_get(s, &st);
        assert_int_equal(st.rows, (size_t)i + 1);
        assert_true(st.batches <= batch_bound_fan(st.rows, 8));
        max_batches = IVM_MAX(max_batches, st.batches);
        if (i % 1000 == 0)
            assert_int_equal(spine_check(s), IVM_OK);
    }
    assert_true(max_batches > batch_bound(20000)); /* wider than fan-in 4 allows */
    tlist_consolidate(&model);
    check_spine(s, &model, 50);
    spine_free(s);
    spine_merger_free(m);
    tlist_free(&model);
}

static void test_spine_retractions_cancel(void **state)
{
    (void)state;
    rng_seed(32);
    spine_merger *m;
    spine *s = manual_spine(&m, 0);
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
        spine_wait_idle(s);
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
    spine_merger_free(m);
    tlist_free(&all);
}

/* Four batches on level 0 that sum to nothing: inserting them merges
 * nothing; the merger's merge leaves no batch. */
/* A batch of the keys [from, from + n) with step 1, weight 1 each, value
 * INT 0. */
static spine_batch *key_range(tlist *model, int64_t from, size_t n)
{
    tlist l = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t k[16], v[16];
        ivm_value kv = ivm_value_int(from + (int64_t)i), vv = ivm_value_int(0);
        size_t kl = enc(&kv, 1, k), vl = enc(&vv, 1, v);
        tlist_push(&l, k, kl, v, vl, 1);
        tlist_push(model, k, kl, v, vl, 1);
    }
    spine_batch *b = tlist_build(&l, true);
    tlist_free(&l);
    return b;
}

/* Merges copy a stretch of one input that sorts before every other input
 * whole (batch.c, gallop), but never more than the slice's budget: four
 * batches of disjoint key ranges take one slice per budget's worth of
 * entries, as interleaved ones do, and merge to their sum.  Then batches
 * of overlapping ranges, some of them retracting what others inserted,
 * merged in slices of 1 to 40 entries, match the model after every
 * slice. */
static void test_spine_merge_stretches_in_slices(void **state)
{
    (void)state;
    rng_seed(37);
    spine_merger *m;
    spine *s = manual_spine(&m, 0);
    tlist model = {0};
    int64_t starts[4] = {3000, 0, 2000, 1000};
    for (int i = 0; i < 4; i++)
        assert_int_equal(spine_insert_take(s, key_range(&model, starts[i], 1000)), IVM_OK);
    tlist_consolidate(&model);
    size_t calls = 0;
    spine_stats st;
    do {
        spine_merger_work(m, 10);
        calls++;
        spine_stats_get(s, &st);
    } while (st.merges == 0);
    assert_int_equal(st.merge_rows, 4000);
    assert_true(calls >= 4000 / 10);
    check_spine(s, &model, 8);

    /* A merge large enough that its output's pages are mapped ahead of
     * each slice (batch.c, populate_ahead), in slices of odd sizes, with
     * inputs that interleave in part: what earlier slices wrote stays. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(spine_insert_take(s, key_range(&model, 10000 + 15000 * (i % 2) + 7 * i,
                                                        20000)),
                         IVM_OK);
    tlist_consolidate(&model);
    while (spine_merger_work(m, 1 + rng_below(3000)))
        ;
    check_spine(s, &model, 8);

    for (int step = 0; step < 150; step++) {
        tlist batch = {0};
        int64_t from = (int64_t)rng_below(6000);
        size_t n = 1 + rng_below(400);
        int64_t w = rng_below(4) == 0 ? -1 : 1;
        for (size_t i = 0; i < n; i++) {
            uint8_t k[16], v[16];
            ivm_value kv = ivm_value_int(from + (int64_t)i), vv = ivm_value_int((int64_t)(i % 2));
            size_t kl = enc(&kv, 1, k), vl = enc(&vv, 1, v);
            tlist_push(&batch, k, kl, v, vl, w);
        }
        assert_int_equal(spine_insert_take(s, tlist_build(&batch, true)), IVM_OK);
        tlist_add(&model, &batch, 1);
        tlist_consolidate(&model);
        tlist_free(&batch);
        /* A few mid-merge checks per step: each reads the whole spine, and
         * a step's merges take hundreds of these small slices. */
        int mid_checks = 0;
        while (spine_merger_work(m, 1 + rng_below(40))) {
            if (mid_checks < 2 && rng_below(8) == 0) {
                check_spine(s, &model, 2);
                mid_checks++;
            }
        }
        check_spine(s, &model, 4);
    }
    spine_free(s);
    spine_merger_free(m);
    tlist_free(&model);
}

static void test_spine_merge_to_nothing(void **state)
{
    (void)state;
    spine_merger *m;
    spine *s = manual_spine(&m, 0);
    spine_stats st;
    for (int64_t i = 0; i < 4; i++) {
        assert_int_equal(spine_insert_take(s, one_entry(i / 2, i % 2 ? -3 : 3)), IVM_OK);
        assert_int_equal(spine_check(s), IVM_OK);
    }
    spine_stats_get(s, &st);
    assert_int_equal(st.batches, 4);
    assert_int_equal(st.level_batches[0], 4);
    assert_int_equal(st.pending, 1);
    assert_int_equal(st.merges, 0);
    assert_false(spine_merger_work(m, 1000));
    spine_stats_get(s, &st);
    assert_int_equal(st.batches, 0);
    assert_int_equal(st.rows, 0);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.merges, 1);
    assert_int_equal(st.merge_rows, 4);
    assert_int_equal(spine_check(s), IVM_OK);
    spine_free(s);
    spine_merger_free(m);
}

/* Inserting never merges: with no one driving the merger, batches pile up
 * on their level; pending counts those beyond FANOUT - 1 per level; work
 * in slices of a small budget brings the spine back to rest. */
static void test_spine_insert_never_merges(void **state)
{
    (void)state;
    spine_merger *m;
    spine *s = manual_spine(&m, 1000);
    spine_stats st;
    tlist model = {0};
    for (int64_t i = 0; i < 100; i++) {
        assert_int_equal(spine_insert_take(s, one_entry(i, 1)), IVM_OK);
        uint8_t k[16];
        ivm_value kv = ivm_value_int(i);
        tlist_push(&model, k, enc(&kv, 1, k), NULL, 0, 1);
    }
    tlist_consolidate(&model);
    spine_stats_get(s, &st);
    assert_int_equal(st.batches, 100);
    assert_int_equal(st.level_batches[0], 100);
    assert_int_equal(st.pending, 97);
    assert_int_equal(st.merges, 0);
    assert_int_equal(spine_check(s), IVM_OK);
    size_t slices = 0;
    while (spine_merger_work(m, 3)) {
        slices++;
        check_spine(s, &model, 4);
        spine_stats_get(s, &st);
        assert_true(st.batches <= batch_bound(st.rows) + st.pending);
    }
    assert_true(slices > 10);
    spine_stats_get(s, &st);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.rows, 100);
    assert_true(st.batches <= batch_bound(100));
    assert_true(st.merge_rows >= 100);
    check_spine(s, &model, 10);
    spine_free(s);
    spine_merger_free(m);
    tlist_free(&model);
}

typedef struct wake_count {
    int n;
} wake_count;

static void count_wake(void *arg)
{
    ((wake_count *)arg)->n++;
}

/* spine_ready says no above max_pending, registers the waker (the latest
 * one), counts the waits; the merger calls the waker once, when a merge
 * brings the spine back to the threshold, and the wait's time is kept. */
static void test_spine_ready_and_waker(void **state)
{
    (void)state;
    spine_merger *m;
    spine *s = manual_spine(&m, 5);
    wake_count a = {0}, b = {0};
    rt_waker wa = {count_wake, &a}, wb = {count_wake, &b};
    spine_stats st;
    for (int64_t i = 0; i < 8; i++) {
        assert_true(spine_ready(s, wa)); /* pending <= 5 so far */
        assert_int_equal(spine_insert_take(s, one_entry(i, 1)), IVM_OK);
    }
    for (int64_t i = 8; i < 12; i++)
        assert_int_equal(spine_insert_take(s, one_entry(i, 1)), IVM_OK);
    spine_stats_get(s, &st);
    assert_int_equal(st.pending, 9);
    assert_int_equal(st.waits, 0);
    assert_false(spine_ready(s, wa));
    assert_false(spine_ready(s, wb)); /* replaces wa */
    spine_stats_get(s, &st);
    assert_int_equal(st.waits, 2);
    assert_int_equal(spine_check(s), IVM_OK);
    /* Inserting still works while the answer is no. */
    assert_int_equal(spine_insert_take(s, one_entry(12, 1)), IVM_OK);
    /* One slice merges the oldest 13 of level 0 into one batch on level 1:
     * pending drops from 10 to 0 and the waker runs once. */
    spine_merger_work(m, 13);
    assert_int_equal(a.n, 0);
    assert_int_equal(b.n, 1);
    spine_stats_get(s, &st);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.merges, 1);
    assert_true(st.wait_ns > 0);
    assert_true(spine_ready(s, wa));
    while (spine_merger_work(m, 100))
        ;
    assert_int_equal(b.n, 1);
    assert_int_equal(a.n, 0);
    assert_int_equal(spine_check(s), IVM_OK);
    spine_free(s);
    spine_merger_free(m);
}

/* A producer that gives up waiting cancels its waker: the merge that
 * brings the spine back under the threshold then calls nothing (S11). */
static void test_spine_ready_cancel(void **state)
{
    (void)state;
    spine_merger *m;
    spine *s = manual_spine(&m, 2);
    wake_count a = {0};
    rt_waker wa = {count_wake, &a};
    for (int64_t i = 0; i < 9; i++)
        assert_int_equal(spine_insert_take(s, one_entry(i, 1)), IVM_OK);
    assert_false(spine_ready(s, wa));
    spine_ready_cancel(s);
    assert_int_equal(spine_check(s), IVM_OK);
    while (spine_merger_work(m, 100))
        ;
    assert_int_equal(a.n, 0);
    spine_stats st;
    spine_stats_get(s, &st);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.waits, 1);
    /* Cancelling with nothing registered is harmless. */
    spine_ready_cancel(s);
    assert_true(spine_ready(s, wa));
    assert_int_equal(spine_check(s), IVM_OK);
    spine_free(s);
    spine_merger_free(m);
}

/* Compaction drops merges in progress (their inputs stay) and merges
 * everything in the caller; freeing a spine with merges in progress drops
 * them too (the sanitizers check that nothing leaks). */
static void test_spine_compact_and_free_mid_merge(void **state)
{
    (void)state;
    rng_seed(33);
    spine_merger *m;
    assert_int_equal(spine_merger_new_manual(&m), IVM_OK);
    spine_opts o = {.merger = m};
    spine *s = spine_new_opts(&o), *t = spine_new_opts(&o);
    tlist model = {0};
    for (int step = 0; step < 200; step++) {
        tlist batch = {0};
        gen_small_batch(&batch, &model, 60);
        assert_int_equal(spine_insert_take(s, tlist_build(&batch, false)), IVM_OK);
        assert_int_equal(spine_insert_take(t, tlist_build(&batch, false)), IVM_OK);
        tlist_add(&model, &batch, 1);
        tlist_consolidate(&model);
        tlist_free(&batch);
        spine_merger_work(m, 5);
    }
    assert_true(spine_merger_work(m, 5)); /* merges are in progress */
    assert_int_equal(spine_compact(s), IVM_OK);
    spine_stats st;
    spine_stats_get(s, &st);
    assert_true(st.batches <= 1);
    assert_int_equal(st.pending, 0);
    check_spine(s, &model, 10);
    check_spine(t, &model, 10);
    spine_free(t); /* with merges in progress */
    assert_false(spine_merger_work(m, 1000000));
    spine_free(s);
    spine_merger_free(m);
    tlist_free(&model);
}

/* A batch of n distinct keys from first on (weight 1). */
static spine_batch *run_of(int64_t first, size_t n)
{
    spine_builder bld;
    spine_batch *b;
    spine_builder_init(&bld);
    for (size_t i = 0; i < n; i++) {
        uint8_t k[16];
        ivm_value kv = ivm_value_int(first + (int64_t)i);
        assert_int_equal(spine_builder_push(&bld, k, enc(&kv, 1, k), NULL, 0, 1), IVM_OK);
    }
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    spine_builder_fini(&bld);
    return b;
}

/* Turns are fair across spines and across levels: a large merge runs in
 * slices, and small merges that become due meanwhile, on another spine or
 * on another level of the same spine, complete within a couple of slices
 * while the large one is still in progress; the large one still finishes. */
static void test_spine_merger_fair(void **state)
{
    (void)state;
    spine_merger *m;
    assert_int_equal(spine_merger_new_manual(&m), IVM_OK);
    spine_opts o = {.merger = m};
    spine *big = spine_new_opts(&o), *small = spine_new_opts(&o);
    spine_stats st;
    /* Four batches on level 7: one job reading 80000 entries. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(spine_insert_take(big, run_of(i * 20000, 20000)), IVM_OK);
    assert_true(spine_merger_work(m, 1000)); /* the big job starts */
    /* Due meanwhile: a level-0 merge on the other spine and one on level 0
     * of the big spine itself. */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(spine_insert_take(small, one_entry(i, 1)), IVM_OK);
        assert_int_equal(spine_insert_take(big, one_entry(100000 + i, 1)), IVM_OK);
    }
    /* Each call reads about 1000 entries: at most one slice of the big
     * merge per round, and the small ones get theirs in between. */
    for (int i = 0; i < 3; i++)
        assert_true(spine_merger_work(m, 1000));
    spine_stats_get(small, &st);
    assert_int_equal(st.merges, 1);
    assert_int_equal(st.level_batches[0], 0);
    spine_stats_get(big, &st);
    assert_int_equal(st.merges, 1); /* the level-0 one */
    assert_int_equal(st.level_batches[0], 0);
    assert_int_equal(st.level_batches[7], 4); /* still merging */
    size_t calls = 0;
    while (spine_merger_work(m, 1000))
        calls++;
    assert_true(calls >= 70); /* the big merge went on in slices */
    spine_stats_get(big, &st);
    assert_int_equal(st.merges, 2);
    assert_int_equal(st.level_batches[7], 0);
    assert_int_equal(st.level_batches[8], 1);
    assert_int_equal(st.rows, 80004);
    assert_int_equal(spine_check(big), IVM_OK);
    spine_free(big);
    spine_free(small);
    spine_merger_free(m);
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

/* S18 and spine_opts.exact_seeks: a probed spine builds key filters on its
 * merge and compaction outputs, a spine not marked probed builds none; an
 * inserted batch keeps what it came with.  Exact seeks answer as the model
 * does in both, with and without filters (a batch without one is
 * searched). */
static void test_spine_filters_only_when_probed(void **state)
{
    (void)state;
    spine_merger *m;
    assert_int_equal(spine_merger_new_manual(&m), IVM_OK);
    spine *sp[2];
    for (int i = 0; i < 2; i++) {
        spine_opts o = {.merger = m, .exact_seeks = i == 1};
        assert_non_null(sp[i] = spine_new_opts(&o));
    }
    tlist model = {0};
    for (int64_t b = 0; b < 40; b++) {
        tlist batch = {0};
        for (int64_t j = 0; j < 8; j++) {
            uint8_t k[16];
            ivm_value kv = ivm_value_int(2 * (b + 40 * j)); /* odd keys stay absent */
            tlist_push(&batch, k, enc(&kv, 1, k), NULL, 0, 1);
        }
        for (int i = 0; i < 2; i++) {
            /* Inserted without filters: every filter is a merge's. */
            assert_int_equal(spine_insert_take(sp[i], tlist_build_filters(&batch, false)), IVM_OK);
            spine_wait_idle(sp[i]);
        }
        tlist_add(&model, &batch, 1);
        tlist_free(&batch);
    }
    tlist_consolidate(&model);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++) {
            spine_stats st;
            assert_int_equal(spine_check(sp[i]), IVM_OK);
            spine_stats_get(sp[i], &st);
            assert_true(st.merges > 0);
            if (i == 0)
                assert_int_equal(st.filtered, 0);
            else if (round == 0) /* merge outputs (level 2 and up) only */
                assert_int_equal(st.filtered, st.batches - st.level_batches[1]);
            else
                assert_int_equal(st.filtered, st.batches);
            assert_true(round == 0 || st.batches == 1);
            assert_true(i == 0 || st.filtered > 0);
            spine_cursor *c;
            const spine *const arr[1] = {sp[i]};
            assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &c), IVM_OK);
            for (int64_t key = -1; key < 700; key++) { /* ascending, then at random */
                uint8_t k[16];
                ivm_value kv = ivm_value_int(key < 660 ? key : (int64_t)rng_below(700));
                assert_seek_exact(c, &model, k, enc(&kv, 1, k));
            }
            spine_cursor_free(c);
        }
        /* Then one batch, made by compaction. */
        for (int i = 0; i < 2 && round == 0; i++)
            assert_int_equal(spine_compact(sp[i]), IVM_OK);
    }
    /* A batch with a filter keeps it in the plain spine, until a
     * compaction without one replaces it. */
    tlist more = {0};
    for (int64_t j = 0; j < 8; j++) {
        uint8_t k[16];
        ivm_value kv = ivm_value_int(1000 + j);
        tlist_push(&more, k, enc(&kv, 1, k), NULL, 0, 1);
    }
    assert_int_equal(spine_insert_take(sp[0], tlist_build_filters(&more, true)), IVM_OK);
    spine_stats st;
    spine_stats_get(sp[0], &st);
    assert_int_equal(st.filtered, 1);
    assert_int_equal(spine_compact(sp[0]), IVM_OK);
    spine_stats_get(sp[0], &st);
    assert_int_equal(st.batches, 1);
    assert_int_equal(st.filtered, 0);
    tlist_free(&more);
    tlist_free(&model);
    for (int i = 0; i < 2; i++)
        spine_free(sp[i]);
    spine_merger_free(m);
}


/* Reads the whole spine against the model, then exact seeks in ascending
 * order over every key and the absent ones between them (keys are even),
 * then at random. */
static void check_exact(const spine *s, const tlist *model, int64_t keys)
{
    assert_int_equal(spine_check(s), IVM_OK);
    spine_cursor *c;
    const spine *const arr[1] = {s};
    assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &c), IVM_OK);
    assert_cursor_is(c, model);
    spine_cursor_rewind(c);
    for (int64_t key = -1; key < 2 * keys + 40; key += 1 + (int64_t)rng_below(3)) {
        uint8_t k[16];
        ivm_value kv = ivm_value_int(key);
        assert_seek_exact(c, model, k, enc(&kv, 1, k));
    }
    for (int i = 0; i < 200; i++) {
        uint8_t k[16];
        ivm_value kv = ivm_value_int((int64_t)rng_below((size_t)(2 * keys)));
        assert_seek_exact(c, model, k, enc(&kv, 1, k));
    }
    spine_cursor_free(c);
}

/* A batch of 8 entries: keys 2 (b + 400 j), j = 0 .. 7, value v, weight w. */
static tlist unread_batch(int64_t b, int64_t v, int64_t w)
{
    tlist batch = {0};
    for (int64_t j = 0; j < 8; j++) {
        uint8_t k[16], val[16];
        ivm_value kv = ivm_value_int(2 * (b % 400 + 400 * j)), vv = ivm_value_int(v);
        tlist_push(&batch, k, enc(&kv, 1, k), val, enc(&vv, 1, val), w);
    }
    return batch;
}

/* spine_opts.unread and spine_unread_end (S21): while unread the spine has
 * fan-in SPINE_FANOUT_UNREAD and its merges build no filter (fewer entries
 * read than the same batches in a spine of fan-in 4), within the bound of
 * its fan-in; ended with a merge in progress, it reads as the model at
 * every point, and at rest it has the shape of fan-in 4 again, every batch
 * with a filter, and keeps it as rows come and go. */
static void test_spine_unread_then_read(void **state)
{
    (void)state;
    rng_seed(41);
    spine_merger *m;
    assert_int_equal(spine_merger_new_manual(&m), IVM_OK);
    spine_opts lo = {.merger = m, .exact_seeks = true, .unread = true};
    spine_opts eo = {.merger = m, .exact_seeks = true};
    spine *s = spine_new_opts(&lo), *eager = spine_new_opts(&eo);
    assert_non_null(s);
    assert_non_null(eager);
    tlist model = {0};
    spine_stats st, est;
    size_t max_batches = 0;
    int64_t b = 0;
    for (; b < 1500; b++) {
        tlist batch = unread_batch(b, b / 400, 1);
        assert_int_equal(spine_insert_take(s, tlist_build_filters(&batch, true)), IVM_OK);
        assert_int_equal(spine_insert_take(eager, tlist_build_filters(&batch, true)), IVM_OK);
        tlist_add(&model, &batch, 1);
        tlist_free(&batch);
        spine_wait_idle(s);
        spine_wait_idle(eager);
        spine_stats_get(s, &st);
        assert_int_equal(st.fanout, SPINE_FANOUT_UNREAD);
        assert_int_equal(st.pending, 0);
        assert_int_equal(st.rows, (size_t)(b + 1) * 8); /* nothing cancels */
        assert_true(st.batches <= batch_bound_fan(st.rows, SPINE_FANOUT_UNREAD));
        /* Only the inserted batches (8 entries: level 0) have filters. */
        assert_int_equal(st.filtered, st.level_batches[0]);
        max_batches = IVM_MAX(max_batches, st.batches);
        if (b % 100 == 0)
            assert_int_equal(spine_check(s), IVM_OK);
    }
    tlist_consolidate(&model);
    assert_true(max_batches > batch_bound(st.rows)); /* wider than fan-in 4 allows */
    spine_stats_get(eager, &est);
    /* Batches of 8 entries: copied at most twice up to 8 * 32 * 32 rows,
     * five times at fan-in 4. */
    assert_true(2 * st.merge_rows < est.merge_rows);
    check_exact(s, &model, 400 * 8);

    /* Leave level 0 with a merge of it begun. */
    for (int i = 0; i < SPINE_FANOUT_UNREAD; i++, b++) {
        tlist batch = unread_batch(b, b / 400, 1);
        assert_int_equal(spine_insert_take(s, tlist_build_filters(&batch, false)), IVM_OK);
        tlist_add(&model, &batch, 1);
        tlist_free(&batch);
    }
    tlist_consolidate(&model);
    size_t merges = st.merges;
    spine_merger_work(m, 40);
    spine_stats_get(s, &st);
    assert_true(st.level_batches[0] >= SPINE_FANOUT_UNREAD);
    assert_int_equal(st.merges, merges); /* the merge is in progress */

    spine_unread_end(s);
    check_exact(s, &model, 400 * 8); /* the unread shape, read while ending */
    spine_stats_get(s, &st);
    assert_int_equal(st.fanout, SPINE_FANOUT_UNREAD); /* the merger has not run yet */
    spine_merger_work(m, 1);           /* one slice: re-levels, merges nothing */
    spine_stats_get(s, &st);
    assert_int_equal(st.fanout, 4);
    assert_true(st.pending > 0);
    check_exact(s, &model, 400 * 8);
    while (spine_merger_work(m, 1 + rng_below(3000)))
        check_exact(s, &model, 400 * 8);
    spine_stats_get(s, &st);
    assert_int_equal(st.pending, 0);
    assert_true(st.batches <= batch_bound(st.rows));
    assert_int_equal(st.filtered, st.batches); /* every batch has 8 entries or more */
    check_exact(s, &model, 400 * 8);

    /* Read from now on: deletions and inserts keep the fan-in-4 shape. */
    for (int i = 0; i < 600; i++, b++) {
        tlist batch = unread_batch(rng_below((size_t)b), b / 400, rng_below(3) == 0 ? -1 : 1);
        assert_int_equal(spine_insert_take(s, tlist_build_filters(&batch, rng_below(2) == 0)),
                         IVM_OK);
        tlist_add(&model, &batch, 1);
        tlist_free(&batch);
        tlist_consolidate(&model);
        spine_wait_idle(s);
        spine_stats_get(s, &st);
        assert_int_equal(st.fanout, 4);
        assert_int_equal(st.pending, 0);
        assert_true(st.batches <= batch_bound(st.rows));
        if (i % 50 == 0)
            check_exact(s, &model, 400 * 8);
    }
    check_exact(s, &model, 400 * 8);
    /* Ending twice, or a spine that never was unread: nothing to do. */
    spine_unread_end(s);
    spine_unread_end(eager);
    assert_false(spine_merger_work(m, 1000));
    spine_stats_get(eager, &est);
    assert_int_equal(est.fanout, 4);
    tlist_free(&model);
    spine_free(s);
    spine_free(eager);
    spine_merger_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spine_matches_model),
        cmocka_unit_test(test_spine_matches_model_wide),
        cmocka_unit_test(test_spine_levels_stay_logarithmic),
        cmocka_unit_test(test_spine_wide_levels),
        cmocka_unit_test(test_spine_retractions_cancel),
        cmocka_unit_test(test_spine_merge_to_nothing),
        cmocka_unit_test(test_spine_insert_never_merges),
        cmocka_unit_test(test_spine_ready_and_waker),
        cmocka_unit_test(test_spine_ready_cancel),
        cmocka_unit_test(test_spine_compact_and_free_mid_merge),
        cmocka_unit_test(test_spine_merger_fair),
        cmocka_unit_test(test_spine_drops_empty_batches),
        cmocka_unit_test(test_spine_filters_only_when_probed),
        cmocka_unit_test(test_spine_unread_then_read),
        cmocka_unit_test(test_spine_merge_stretches_in_slices),
    };
    return cmocka_run_group_tests_name("spine/spine", tests, NULL, NULL);
}
