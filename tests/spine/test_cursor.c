/*
 * test_cursor.c: cursors (spine/cursor.c) over several spines plus extra
 * batches against the model of their sum; keys whose values all cancel
 * across batches are skipped by stepping and by seeking; a cursor keeps
 * reading its snapshot while the spine merges, compacts or is freed.
 */
#include "spine_testlib.h"

static void test_cursor_reads_spines_and_extras(void **state)
{
    (void)state;
    rng_seed(40);
    enum { NS = 3, NX = 3 };
    spine *s[NS];
    tlist sm[NS] = {{0}};
    for (int i = 0; i < NS; i++)
        s[i] = spine_new();
    for (int round = 0; round < 150; round++) {
        /* Feed a random spine, then read everything with fresh extras. */
        int i = (int)rng_below(NS);
        tlist batch = {0};
        gen_small_batch(&batch, &sm[i], 100);
        assert_int_equal(spine_insert_take(s[i], tlist_build(&batch, false)), IVM_OK);
        tlist_add(&sm[i], &batch, 1);
        tlist_consolidate(&sm[i]);
        tlist_free(&batch);

        tlist model = {0}, xm[NX] = {{0}};
        spine_batch *extra[NX] = {NULL};
        for (int x = 0; x < NX; x++) {
            if (x == 1)
                continue; /* a NULL entry in the array */
            /* Extras retract from the spines' sum half the time. */
            tlist_add(&model, &sm[rng_below(NS)], 1);
            tlist_consolidate(&model);
            gen_small_batch(&xm[x], &model, 30);
            tlist_free(&model);
            extra[x] = tlist_build(&xm[x], false);
        }
        const spine *arr[NS + 1] = {s[0], NULL, s[1], s[2]};
        for (int k = 0; k < NS; k++)
            tlist_add(&model, &sm[k], 1);
        for (int x = 0; x < NX; x++)
            tlist_add(&model, &xm[x], 1);
        tlist_consolidate(&model);

        spine_cursor *c;
        assert_int_equal(spine_cursor_new(arr, NS + 1, extra, NX, &c), IVM_OK);
        assert_cursor_is(c, &model);
        for (int p = 0; p < 10; p++) {
            uint8_t probe[256];
            size_t plen = gen_small_key(probe, true);
            assert_seek(c, &model, probe, plen);
        }
        /* Seeking to the cursor's own key stays there. */
        spine_cursor_rewind(c);
        if (spine_cursor_key_valid(c)) {
            size_t klen;
            const uint8_t *k = spine_cursor_key(c, &klen);
            spine_cursor_seek_key(c, k, klen);
            assert_seek(c, &model, model.v[0].e, model.v[0].klen);
        }
        spine_cursor_free(c);
        for (int x = 0; x < NX; x++) {
            spine_batch_unref(extra[x]);
            tlist_free(&xm[x]);
        }
        tlist_free(&model);
    }
    for (int i = 0; i < NS; i++) {
        spine_free(s[i]);
        tlist_free(&sm[i]);
    }
}

static void test_cursor_survives_spine_changes(void **state)
{
    (void)state;
    rng_seed(41);
    spine *s = spine_new();
    tlist model = {0};
    for (int i = 0; i < 30; i++) {
        tlist batch = {0};
        gen_small_batch(&batch, &model, 50);
        assert_int_equal(spine_insert_take(s, tlist_build(&batch, false)), IVM_OK);
        tlist_add(&model, &batch, 1);
        tlist_consolidate(&model);
        tlist_free(&batch);
    }
    spine_cursor *c;
    const spine *const arr[1] = {s};
    assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &c), IVM_OK);
    /* Merges and a compaction release the spine's references... */
    for (int i = 0; i < 60; i++) {
        tlist batch = {0};
        gen_small_batch(&batch, &model, 50);
        assert_int_equal(spine_insert_take(s, tlist_build(&batch, false)), IVM_OK);
        tlist_free(&batch);
    }
    assert_int_equal(spine_compact(s), IVM_OK);
    assert_cursor_is(c, &model);
    /* ...and so does freeing it: the cursor still reads its snapshot. */
    spine_free(s);
    assert_cursor_is(c, &model);
    spine_cursor_free(c);
    tlist_free(&model);
}

static void test_cursor_skips_cancelled_keys(void **state)
{
    (void)state;
    /* Keys 1, 2, 3 with two values each; the extra batch cancels all of key
     * 2 and one value of key 3. */
    tlist a = {0}, neg = {0}, model = {0};
    for (int64_t k = 1; k <= 3; k++) {
        for (int64_t v = 0; v < 2; v++) {
            uint8_t kb[16], vb[16];
            ivm_value key = ivm_value_int(k), val = ivm_value_int(v);
            size_t kl = enc(&key, 1, kb), vl = enc(&val, 1, vb);
            tlist_push(&a, kb, kl, vb, vl, 1);
            if (k == 2 || (k == 3 && v == 0))
                tlist_push(&neg, kb, kl, vb, vl, -1);
        }
    }
    tlist_add(&model, &a, 1);
    tlist_add(&model, &neg, 1);
    tlist_consolidate(&model);
    assert_int_equal(model.n, 3);
    spine_batch *ex[2] = {tlist_build(&a, false), tlist_build(&neg, false)};
    spine_cursor *c;
    assert_int_equal(spine_cursor_new(NULL, 0, ex, 2, &c), IVM_OK);
    spine_batch_unref(ex[0]); /* the cursor holds its own references */
    spine_batch_unref(ex[1]);
    assert_cursor_is(c, &model);
    uint8_t probe[16];
    ivm_value two = ivm_value_int(2);
    size_t plen = enc(&two, 1, probe);
    assert_seek(c, &model, probe, plen); /* lands on key 3, value 1 */
    size_t vlen;
    const uint8_t *v = spine_cursor_val(c, &vlen);
    assert_int_equal(vlen, 9);
    assert_int_equal(v[8], 1);
    spine_cursor_step_val(c);
    assert_false(spine_cursor_val_valid(c));
    assert_true(spine_cursor_key_valid(c));
    assert_int_equal(spine_cursor_weight(c), 0);
    spine_cursor_rewind_vals(c);
    assert_true(spine_cursor_val_valid(c));
    assert_int_equal(spine_cursor_weight(c), 1);
    spine_cursor_step_key(c);
    assert_false(spine_cursor_key_valid(c));
    assert_false(spine_cursor_val_valid(c));
    spine_cursor_step_key(c); /* stepping past the end stays there */
    spine_cursor_step_val(c);
    assert_false(spine_cursor_key_valid(c));
    spine_cursor_free(c);
    tlist_free(&a);
    tlist_free(&neg);
    tlist_free(&model);
}

static void test_cursor_empty(void **state)
{
    (void)state;
    spine_cursor *c;
    assert_int_equal(spine_cursor_new(NULL, 0, NULL, 0, &c), IVM_OK);
    assert_false(spine_cursor_key_valid(c));
    assert_false(spine_cursor_val_valid(c));
    size_t klen = 1;
    assert_null(spine_cursor_key(c, &klen));
    assert_int_equal(klen, 0);
    uint8_t probe[] = {SPINE_TAG_NULL};
    spine_cursor_seek_key(c, probe, 1);
    assert_false(spine_cursor_key_valid(c));
    spine_cursor_free(c);
    spine_cursor_free(NULL);

    spine *s = spine_new();
    const spine *const arr[2] = {s, NULL};
    spine_batch *none[1] = {NULL};
    assert_int_equal(spine_cursor_new(arr, 2, none, 1, &c), IVM_OK);
    assert_false(spine_cursor_key_valid(c));
    spine_cursor_rewind(c);
    assert_false(spine_cursor_key_valid(c));
    spine_cursor_free(c);
    spine_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_reads_spines_and_extras),
        cmocka_unit_test(test_cursor_survives_spine_changes),
        cmocka_unit_test(test_cursor_skips_cancelled_keys),
        cmocka_unit_test(test_cursor_empty),
    };
    return cmocka_run_group_tests_name("spine/cursor", tests, NULL, NULL);
}
