/*
 * test_spine_policy.c: the merge policy's two classes of work and its
 * retraction sweeps (spine/README.md, "The merger" and "Retraction
 * sweeps"), on manual mergers so that every slice is the test's choice.
 * Small jobs run ahead of a long merge in progress, within a budget that
 * still gives the long one a slice after about a slice's worth of small
 * work; a spine whose upper levels hold many uncancelled retractions
 * merges them at once, in slices, whatever its levels' counts, with the
 * work bounded by a constant per retraction, and a spine of insertions
 * never does.  After every step the spine is checked (spine_check) and,
 * where it matters, read against what was inserted.
 */
#include "spine_testlib.h"

/* The entries of a sweep's inputs: the constant the README's bound uses. */
#define SWEEP_DIV 4

static spine_merger *manual(void)
{
    spine_merger *m;
    assert_int_equal(spine_merger_new_manual(&m), IVM_OK);
    return m;
}

static spine *on(spine_merger *m)
{
    spine_opts o = {.merger = m, .exact_seeks = true};
    spine *s = spine_new_opts(&o);
    assert_non_null(s);
    return s;
}

/* A batch of the keys [first, first + n), value INT val, weight w. */
static spine_batch *run_w(int64_t first, size_t n, int64_t val, int64_t w)
{
    spine_builder bld;
    spine_batch *b;
    spine_builder_init(&bld);
    for (size_t i = 0; i < n; i++) {
        uint8_t k[16], v[16];
        ivm_value kv = ivm_value_int(first + (int64_t)i), vv = ivm_value_int(val);
        assert_int_equal(spine_builder_push(&bld, k, enc(&kv, 1, k), v, enc(&vv, 1, v), w),
                         IVM_OK);
    }
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    spine_builder_fini(&bld);
    return b;
}

/* A batch that moves each key i of [from, from + n) from value cur[i] to
 * cur[i] + 1 (a retraction and an insertion, as an aggregate's state
 * takes a group's update), and counts the move in cur. */
static spine_batch *bump_range(int64_t *cur, size_t from, size_t n)
{
    spine_builder bld;
    spine_batch *b;
    spine_builder_init(&bld);
    for (size_t i = from; i < from + n; i++) {
        uint8_t k[16], v[16];
        ivm_value kv = ivm_value_int((int64_t)i), vv = ivm_value_int(cur[i]);
        size_t kl = enc(&kv, 1, k);
        assert_int_equal(spine_builder_push(&bld, k, kl, v, enc(&vv, 1, v), -1), IVM_OK);
        cur[i]++;
        vv = ivm_value_int(cur[i]);
        assert_int_equal(spine_builder_push(&bld, k, kl, v, enc(&vv, 1, v), 1), IVM_OK);
    }
    assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
    spine_builder_fini(&bld);
    return b;
}

static spine_stats stats(const spine *s)
{
    spine_stats st;
    spine_stats_get(s, &st);
    return st;
}

/* Reads s in full: every key in [0, nkeys) once with value cur[key] and
 * weight 1, then keys from neg_from on, neg_n of them, value 0, weight -1. */
static void assert_content(const spine *s, const int64_t *cur, size_t nkeys, int64_t neg_from,
                           size_t neg_n)
{
    spine_cursor *c;
    const spine *const arr[1] = {s};
    assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &c), IVM_OK);
    size_t i = 0;
    for (; spine_cursor_key_valid(c); spine_cursor_step_key(c), i++) {
        bool pos = i < nkeys;
        int64_t key = pos ? (int64_t)i : neg_from + (int64_t)(i - nkeys);
        uint8_t k[16], v[16];
        ivm_value kv = ivm_value_int(key), vv = ivm_value_int(pos ? cur[i] : 0);
        size_t kl = enc(&kv, 1, k), vl = enc(&vv, 1, v), klen, vlen;
        const uint8_t *ck = spine_cursor_key(c, &klen);
        assert_int_equal(klen, kl);
        assert_memory_equal(ck, k, kl);
        assert_true(spine_cursor_val_valid(c));
        const uint8_t *cv = spine_cursor_val(c, &vlen);
        assert_int_equal(vlen, vl);
        assert_memory_equal(cv, v, vl);
        assert_int_equal(spine_cursor_weight(c), pos ? 1 : -1);
        spine_cursor_step_val(c);
        assert_false(spine_cursor_val_valid(c));
    }
    assert_int_equal(i, nkeys + neg_n);
    spine_cursor_free(c);
}

/* A small merge that becomes due while another spine's long merge is in
 * progress runs first: one call of a slice's budget is enough, where turns
 * in queue order gave that budget to the long merge, queued first. */
static void test_spine_policy_small_first(void **state)
{
    (void)state;
    spine_merger *m = manual();
    spine *big = on(m), *small = on(m);
    /* Four batches on level 7: one long job reading 80000 entries. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(spine_insert_take(big, run_w(i * 20000, 20000, 0, 1)), IVM_OK);
    assert_true(spine_merger_work(m, 1000)); /* the long job starts */
    for (int i = 0; i < 4; i++)
        assert_int_equal(spine_insert_take(small, run_w(i * 2, 2, 0, 1)), IVM_OK);
    assert_true(spine_merger_work(m, 1000));
    spine_stats st = stats(small);
    assert_int_equal(st.merges, 1);
    assert_int_equal(st.batches, 1);
    st = stats(big);
    assert_int_equal(st.merges, 0);
    assert_int_equal(st.level_batches[7], 4); /* still merging */
    assert_int_equal(spine_check(big), IVM_OK);
    assert_int_equal(spine_check(small), IVM_OK);
    spine_merger_stats ms;
    spine_merger_stats_get(m, &ms);
    assert_true(ms.long_slices >= 1);
    while (spine_merger_work(m, 1000)) {
    }
    st = stats(big);
    assert_int_equal(st.merges, 1);
    assert_int_equal(st.level_batches[8], 1);
    assert_int_equal(st.rows, 80000);
    spine_free(big);
    spine_free(small);
    spine_merger_free(m);
}

/* Small work that never ends does not starve a long merge: with a new
 * small job (20000 entries, under one slice) due at every call, the long
 * merge still gets a slice after every slice's worth of small work, and
 * finishes; the small jobs all finish too. */
static void test_spine_policy_small_budget(void **state)
{
    (void)state;
    spine_merger *m = manual();
    spine *big = on(m);
    for (int i = 0; i < 4; i++)
        assert_int_equal(spine_insert_take(big, run_w(i * 20000, 20000, 0, 1)), IVM_OK);
    assert_true(spine_merger_work(m, 1000));
    enum { ROUNDS = 24 };
    spine *small[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        small[r] = on(m);
        for (int i = 0; i < 4; i++)
            assert_int_equal(spine_insert_take(small[r], run_w(i * 5000, 5000, r, 1)), IVM_OK);
        spine_merger_work(m, 20000);
        assert_int_equal(spine_check(big), IVM_OK);
    }
    /* At least every third call went to the long merge: 8 * 20000 read. */
    assert_int_equal(stats(big).merges, 1);
    size_t merged = 0;
    for (int r = 0; r < ROUNDS; r++)
        merged += stats(small[r]).merges;
    assert_true(merged >= ROUNDS / 2);
    while (spine_merger_work(m, 20000)) {
    }
    for (int r = 0; r < ROUNDS; r++) {
        spine_stats st = stats(small[r]);
        assert_int_equal(st.merges, 1);
        assert_int_equal(st.rows, 20000);
        assert_int_equal(spine_check(small[r]), IVM_OK);
        spine_free(small[r]);
    }
    spine_free(big);
    spine_merger_free(m);
}

/* Retractions of most of the top level's entries, in one batch a level
 * below: no level holds F batches, yet the spine merges both at once (in
 * slices, checked after each), and what is left is what was not
 * retracted, with no negative entry.  The same shape of insertions only
 * stays as it is; a compaction in the middle of a sweep drops it and
 * merges everything itself. */
static void test_spine_policy_sweep_cancels(void **state)
{
    (void)state;
    spine_merger *m = manual();
    spine *s = on(m), *ins = on(m);
    assert_int_equal(spine_insert_take(s, run_w(0, 70000, 0, 1)), IVM_OK);   /* level 8 */
    assert_int_equal(spine_insert_take(s, run_w(0, 30000, 0, -1)), IVM_OK);  /* level 7 */
    assert_int_equal(spine_insert_take(ins, run_w(0, 70000, 0, 1)), IVM_OK);
    assert_int_equal(spine_insert_take(ins, run_w(70000, 30000, 0, 1)), IVM_OK);
    spine_stats st = stats(s);
    assert_int_equal(st.negatives, 30000);
    assert_int_equal(st.batches, 2);
    size_t slices = 0;
    while (spine_merger_work(m, 1000)) {
        slices++;
        assert_int_equal(spine_check(s), IVM_OK);
    }
    assert_true(slices >= 50); /* 100000 entries read, 1000 a call */
    st = stats(s);
    assert_int_equal(st.sweeps, 1);
    assert_int_equal(st.sweep_rows, 100000);
    assert_int_equal(st.batches, 1);
    assert_int_equal(st.rows, 40000);
    assert_int_equal(st.negatives, 0);
    assert_int_equal(st.level_batches[7], 1);
    int64_t *zero = calloc(100000, sizeof *zero);
    assert_non_null(zero);
    /* Keys 30000 .. 69999 are left: read them as keys 0 .. 39999 shifted. */
    spine_cursor *c;
    const spine *const arr[1] = {s};
    assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &c), IVM_OK);
    size_t n = 0;
    for (; spine_cursor_key_valid(c); spine_cursor_step_key(c))
        n++;
    assert_int_equal(n, 40000);
    spine_cursor_free(c);
    assert_int_equal(spine_check(s), IVM_OK);
    /* Insertions alone: no sweep, no merge (two batches on two levels). */
    st = stats(ins);
    assert_int_equal(st.sweeps, 0);
    assert_int_equal(st.merges, 0);
    assert_int_equal(st.negatives, 0);
    assert_int_equal(st.batches, 2);
    assert_content(ins, zero, 100000, 0, 0);

    /* Retract the rest again and stop the sweep half-way: compaction drops
     * it, and everything cancels. */
    assert_int_equal(spine_insert_take(s, run_w(30000, 40000, 0, -1)), IVM_OK);
    assert_true(spine_merger_work(m, 1000));
    assert_int_equal(spine_check(s), IVM_OK);
    assert_int_equal(spine_compact(s), IVM_OK);
    st = stats(s);
    assert_int_equal(st.batches, 0);
    assert_int_equal(st.negatives, 0);
    assert_int_equal(st.sweeps, 1);
    assert_int_equal(spine_check(s), IVM_OK);
    assert_false(spine_merger_work(m, 1000));
    free(zero);
    spine_free(s);
    spine_free(ins);
    spine_merger_free(m);
}

/* The amortised bound: updates (a retraction and an insertion per key)
 * in batches that climb to the upper levels, then retractions that
 * never meet an insertion.  Sweeps happen, read fewer than SWEEP_DIV
 * entries per negative entry ever inserted (each negative counts towards
 * one sweep only: after it, it is settled), the spine stays checked and
 * reads as the updates say after every step. */
static void test_spine_policy_sweep_amortised(void **state)
{
    (void)state;
    rng_seed(77);
    spine_merger *m = manual();
    spine *s = on(m);
    enum { KEYS = 70000, ROUND = 5000, NEG = 20000 };
    int64_t *cur = calloc(KEYS, sizeof *cur);
    assert_non_null(cur);
    assert_int_equal(spine_insert_take(s, run_w(0, KEYS, 0, 1)), IVM_OK);
    size_t negs = 0;
    for (int r = 0; r < 40; r++) {
        /* ROUND distinct keys, a stretch at a random start. */
        size_t from = rng_below(KEYS - ROUND);
        spine_batch *b = bump_range(cur, from, ROUND);
        assert_int_equal(b->neg, ROUND);
        negs += ROUND;
        assert_int_equal(spine_insert_take(s, b), IVM_OK);
        spine_wait_idle(s);
        assert_int_equal(spine_check(s), IVM_OK);
        spine_stats st = stats(s);
        assert_true(st.sweep_rows < SWEEP_DIV * negs);
        if (r % 8 == 7)
            assert_content(s, cur, KEYS, 0, 0);
    }
    spine_stats st = stats(s);
    assert_true(st.sweeps >= 1);
    /* Retractions that nothing cancels. */
    for (int r = 0; r < 20; r++) {
        assert_int_equal(spine_insert_take(s, run_w(1000000 + r * NEG, NEG, 0, -1)), IVM_OK);
        negs += NEG;
        spine_wait_idle(s);
        assert_int_equal(spine_check(s), IVM_OK);
        st = stats(s);
        assert_true(st.sweep_rows < SWEEP_DIV * negs);
        assert_true(st.negatives >= (size_t)(r + 1) * NEG);
    }
    assert_content(s, cur, KEYS, 1000000, 20 * NEG);
    free(cur);
    spine_free(s);
    spine_merger_free(m);
}

/* Sweeps on the process-wide merger's thread, while the inserting thread
 * reads: rounds of updates of half the keys, each in one batch on level 7
 * (a retraction and an insertion per key), are swept as the thread gets
 * to them; a cursor taken at any moment reads the sum inserted so far,
 * and after each round's wait the spine reads as the updates say. */
static void test_spine_policy_sweep_threaded(void **state)
{
    (void)state;
    enum { KEYS = 32768, HALF = KEYS / 2, ROUNDS = 6 };
    spine_opts o = {.exact_seeks = true};
    spine *s = spine_new_opts(&o);
    assert_non_null(s);
    int64_t *cur = calloc(KEYS, sizeof *cur);
    assert_non_null(cur);
    assert_int_equal(spine_insert_take(s, run_w(0, KEYS, 0, 1)), IVM_OK);
    for (int r = 0; r < ROUNDS; r++) {
        size_t from = (size_t)(r % 2) * HALF;
        assert_int_equal(spine_insert_take(s, bump_range(cur, from, HALF)), IVM_OK);
        assert_content(s, cur, KEYS, 0, 0); /* while the merger runs */
        spine_wait_idle(s);
        assert_int_equal(spine_check(s), IVM_OK);
        assert_content(s, cur, KEYS, 0, 0);
    }
    spine_stats st = stats(s);
    assert_true(st.sweeps >= 1);
    assert_true(st.sweep_rows < SWEEP_DIV * (size_t)ROUNDS * HALF);
    free(cur);
    spine_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spine_policy_small_first),
        cmocka_unit_test(test_spine_policy_small_budget),
        cmocka_unit_test(test_spine_policy_sweep_cancels),
        cmocka_unit_test(test_spine_policy_sweep_amortised),
        cmocka_unit_test(test_spine_policy_sweep_threaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
