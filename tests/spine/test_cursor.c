/*
 * test_cursor.c: cursors (spine/cursor.c) over several spines plus extra
 * batches against the model of their sum; keys whose values all cancel
 * across batches are skipped by stepping and by seeking; ascending seeks
 * (the forward path) land where a search of the model does; a cursor keeps
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

/* Checks every value of the cursor's current key against the model, from
 * entry i (the key's first), the way a join reads a probed key. */
static void assert_key_values(spine_cursor *c, const tlist *m, size_t i)
{
    assert_true(spine_cursor_key_valid(c));
    size_t j = i;
    for (; spine_cursor_val_valid(c); spine_cursor_step_val(c), j++) {
        assert_true(j < m->n && tentry_same_key(&m->v[j], &m->v[i]));
        size_t vlen;
        const uint8_t *v = spine_cursor_val(c, &vlen);
        assert_int_equal(vlen, m->v[j].len - m->v[j].klen);
        assert_memory_equal(v, m->v[j].e + m->v[j].klen, vlen);
        assert_int_equal(spine_cursor_weight(c), m->v[j].w);
    }
    assert_true(j == m->n || !tentry_same_key(&m->v[j], &m->v[i]));
}

/* Ascending seeks, as joins and aggregates probe, over many batches (a
 * spine's and extras, large ones searched through their fences) of
 * integer keys whose first 8 bytes are shared by hundreds of keys, with
 * entries that cancel across batches: every seek lands where a search of
 * the sorted model does, whether the target is present, absent, the
 * current key, behind the cursor or past the end, and whatever was read
 * of the key before. */
static void test_cursor_seeks_forward_over_many_batches(void **state)
{
    (void)state;
    rng_seed(42);
    enum { NX = 9, KEYS = 6000 };
    for (int round = 0; round < 6; round++) {
        spine *s = spine_new();
        tlist model = {0}, xl[NX] = {{0}};
        spine_batch *extra[NX];
        for (int x = 0; x < NX + 6; x++) {
            tlist b = {0};
            size_t n = rng_below(3) == 0 ? rng_below(30) : rng_below(4000);
            for (size_t i = 0; i < n; i++) {
                uint8_t kb[16], vb[16];
                ivm_value k = ivm_value_int((int64_t)(rng_below(KEYS) * (round % 2 ? 1 : 300)));
                ivm_value v = ivm_value_int((int64_t)rng_below(4));
                tlist_push(&b, kb, enc(&k, 1, kb), vb, enc(&v, 1, vb), (int64_t)rng_below(3) + 1);
            }
            /* Retract part of what came before: zero sums across batches. */
            for (size_t i = 0; model.n > 0 && i < n / 3; i++) {
                const tentry *t = &model.v[rng_below(model.n)];
                tlist_push(&b, t->e, t->klen, t->e + t->klen, t->len - t->klen, -t->w);
            }
            tlist_consolidate(&b);
            tlist_add(&model, &b, 1);
            tlist_consolidate(&model);
            if (x < 6) {
                assert_int_equal(spine_insert_take(s, tlist_build(&b, false)), IVM_OK);
                tlist_free(&b);
            } else {
                extra[x - 6] = tlist_build(&b, false);
                xl[x - 6] = b;
            }
        }
        const spine *const arr[1] = {s};
        spine_cursor *c;
        assert_int_equal(spine_cursor_new(arr, 1, extra, NX, &c), IVM_OK);
        int64_t scale = round % 2 ? 1 : 300, k = -5;
        while (k < (int64_t)KEYS * scale + 10) {
            uint8_t probe[16];
            ivm_value pk = ivm_value_int(k);
            size_t plen = enc(&pk, 1, probe);
            assert_seek(c, &model, probe, plen);
            size_t i = 0;
            while (i < model.n && spine_row_cmp(model.v[i].e, model.v[i].klen, probe, plen) < 0)
                i++;
            size_t what = rng_below(8);
            if (i < model.n && what == 0) {
                assert_key_values(c, &model, i); /* read all, then seek on */
            } else if (i < model.n && what == 1) {
                spine_cursor_step_val(c);
                assert_seek(c, &model, probe, plen); /* the same target again */
            } else if (what == 2) {
                /* Back a little (often into the gap the last seek crossed),
                 * or anywhere. */
                int64_t back = rng_below(2) ? k - (int64_t)rng_below(3) * scale / 2
                                            : (int64_t)rng_below(KEYS) * scale;
                ivm_value bk = ivm_value_int(back);
                size_t blen = enc(&bk, 1, probe);
                assert_seek(c, &model, probe, blen);
            } else if (i < model.n && what == 3) {
                spine_cursor_step_key(c);
            }
            k += 1 + (int64_t)rng_below(rng_below(4) == 0 ? 40 * (size_t)scale : 3 * (size_t)scale);
        }
        /* Past the end, then below the start. */
        uint8_t probe[16];
        ivm_value pk = ivm_value_int(INT64_MAX);
        size_t plen = enc(&pk, 1, probe);
        assert_seek(c, &model, probe, plen);
        assert_seek(c, &model, probe, plen);
        pk = ivm_value_int(INT64_MIN);
        plen = enc(&pk, 1, probe);
        assert_seek(c, &model, probe, plen);
        assert_cursor_is(c, &model);
        spine_cursor_free(c);
        spine_free(s);
        for (int x = 0; x < NX; x++) {
            spine_batch_unref(extra[x]);
            tlist_free(&xl[x]);
        }
        tlist_free(&model);
    }
}

/* Fills b with n random rows (keys below nkeys, times scale; values 0..2;
 * weights 1..3) and about n / 4 rows that cancel rows of model, then adds
 * b to model: a batch of the many-batch seek tests below. */
static void random_batch(tlist *b, tlist *model, size_t n, size_t nkeys, int64_t scale)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t kb[16], vb[16];
        ivm_value k = ivm_value_int((int64_t)rng_below(nkeys) * scale);
        ivm_value v = ivm_value_int((int64_t)rng_below(3));
        tlist_push(b, kb, enc(&k, 1, kb), vb, enc(&v, 1, vb), (int64_t)rng_below(3) + 1);
    }
    for (size_t i = 0; model->n > 0 && i < n / 4 + rng_below(3); i++) {
        const tentry *t = &model->v[rng_below(model->n)];
        tlist_push(b, t->e, t->klen, t->e + t->klen, t->len - t->klen, -t->w);
    }
    tlist_consolidate(b);
    tlist_add(model, b, 1);
    tlist_consolidate(model);
}

/* Exact seeks, as joins and aggregates probe, over a spine that holds many
 * batches (its merger never runs) and extras: small ones without key
 * filters, mid-sized and large ones with (large ones searched through
 * their fences), keys held by few batches each, pairs that cancel across
 * batches (keys that batches hold but the sum does not: a search that
 * finds the key and reads nothing), and so many absent targets that some
 * filters answer "maybe" wrongly.  Between seeks the walk reads values,
 * rewinds them, steps to the next key (which must catch up the batches
 * the exact seeks left behind), seeks the same target again, seeks with
 * seek_key forward, at the target and back, seeks exactly backwards, and
 * rewinds; every answer and position is checked against the model. */
static void test_cursor_seek_exact_skips_batches(void **state)
{
    (void)state;
    rng_seed(7);
    enum { NB = 40, NX = 4, KEYS = 5000 };
    for (int round = 0; round < 4; round++) {
        spine_merger *m;
        assert_int_equal(spine_merger_new_manual(&m), IVM_OK);
        spine_opts o = {.merger = m, .max_pending = 1000};
        spine *s = spine_new_opts(&o);
        assert_non_null(s);
        int64_t scale = round % 2 ? 1 : 1000;
        tlist model = {0}, xl[NX] = {{0}};
        spine_batch *extra[NX];
        for (int x = 0; x < NB + NX; x++) {
            tlist b = {0};
            size_t kind = rng_below(4);
            size_t n = kind == 0 ? rng_below(4) : kind == 1 ? rng_below(60) : kind == 2 ? rng_below(600)
                                                                                      : rng_below(3000);
            random_batch(&b, &model, n, KEYS, scale);
            if (x < NB) {
                assert_int_equal(spine_insert_take(s, tlist_build(&b, false)), IVM_OK);
                tlist_free(&b);
            } else {
                extra[x - NB] = tlist_build(&b, false);
                xl[x - NB] = b;
            }
        }
        const spine *const arr[1] = {s};
        spine_cursor *c;
        assert_int_equal(spine_cursor_new(arr, 1, extra, NX, &c), IVM_OK);
        int64_t k = -3 * scale;
        while (k < (int64_t)KEYS * scale + 5) {
            uint8_t probe[16], p2[16];
            ivm_value pk = ivm_value_int(k);
            size_t plen = enc(&pk, 1, probe);
            size_t i = tlist_lower_bound(&model, probe, plen);
            if (rng_below(2) == 0 && i < model.n) {
                /* Half the targets: the next key the model holds. */
                memcpy(probe, model.v[i].e, model.v[i].klen);
                plen = model.v[i].klen;
                ivm_value dv;
                assert_int_equal(spine_row_decode(probe, plen, &dv, 1), 1);
                k = dv.u.i;
            }
            size_t at = assert_seek_exact(c, &model, probe, plen);
            size_t what = rng_below(12);
            size_t next = tlist_lower_bound(&model, probe, plen);
            while (next < model.n && spine_row_cmp(model.v[next].e, model.v[next].klen, probe, plen) == 0)
                next++;
            if (what == 0 && at < model.n) {
                assert_key_values(c, &model, at);
            } else if (what == 1) {
                /* Step to the next key: lazy batches catch up.  After a
                 * miss the cursor shows nothing and stepping keeps it so. */
                spine_cursor_step_key(c);
                assert_at(c, &model, at < model.n ? next : model.n);
                if (at < model.n && rng_below(2))
                    assert_cursor_is(c, &model); /* everything, from the start */
            } else if (what == 2) {
                assert_seek_exact(c, &model, probe, plen); /* the same target again */
            } else if (what == 3) {
                spine_cursor_step_val(c);
                spine_cursor_rewind_vals(c);
                if (at < model.n)
                    assert_key_values(c, &model, at);
                else
                    assert_false(spine_cursor_val_valid(c));
            } else if (what == 4) {
                /* seek_key to the target (catching up what was left) or a
                 * little after it. */
                int64_t fwd = k + (int64_t)rng_below(3) * scale;
                ivm_value fk = ivm_value_int(rng_below(2) ? k : fwd);
                assert_seek(c, &model, p2, enc(&fk, 1, p2));
            } else if (what == 5) {
                /* Back: exactly, or with seek_key. */
                int64_t back = rng_below(2) ? k - (int64_t)rng_below(3) * scale
                                            : (int64_t)rng_below(KEYS) * scale;
                ivm_value bk = ivm_value_int(back);
                size_t blen = enc(&bk, 1, p2);
                if (rng_below(2))
                    assert_seek_exact(c, &model, p2, blen);
                else
                    assert_seek(c, &model, p2, blen);
            } else if (what == 6 && rng_below(8) == 0) {
                spine_cursor_rewind(c);
                assert_at(c, &model, 0);
            }
            k += 1 + (int64_t)rng_below(rng_below(4) == 0 ? 60 * (size_t)scale : 4 * (size_t)scale);
        }
        uint8_t probe[16];
        ivm_value pk = ivm_value_int(INT64_MAX);
        size_t plen = enc(&pk, 1, probe);
        assert_seek_exact(c, &model, probe, plen);
        spine_cursor_step_key(c);
        assert_false(spine_cursor_key_valid(c));
        assert_cursor_is(c, &model);
        spine_cursor_free(c);
        assert_int_equal(spine_check(s), IVM_OK);
        spine_free(s);
        spine_merger_free(m);
        for (int x = 0; x < NX; x++) {
            spine_batch_unref(extra[x]);
            tlist_free(&xl[x]);
        }
        tlist_free(&model);
    }
}

/* The snapshot the prefetch and point-read tests read: 30 batches of every
 * size (tiny ones without fences, large ones of 10,000 to 30,000 entries;
 * a quarter without key filters) in a spine whose merger never runs, and
 * 3 extras (the first without filters), of random_batch's rows over keys
 * below nkeys times scale, all added to model. */
enum { MANY_NB = 30, MANY_NX = 3 };
typedef struct many_batches {
    spine_merger *m;
    spine *s;
    tlist model, xl[MANY_NX];
    spine_batch *extra[MANY_NX];
} many_batches;

/* Fills w and returns a cursor over it. */
static spine_cursor *many_batches_make(many_batches *w, size_t nkeys, int64_t scale)
{
    memset(w, 0, sizeof *w);
    assert_int_equal(spine_merger_new_manual(&w->m), IVM_OK);
    spine_opts o = {.merger = w->m, .max_pending = 1000};
    w->s = spine_new_opts(&o);
    assert_non_null(w->s);
    for (int x = 0; x < MANY_NB + MANY_NX; x++) {
        tlist b = {0};
        size_t kind = rng_below(5);
        size_t n = kind == 0   ? rng_below(4)
                   : kind == 1 ? rng_below(60)
                   : kind == 2 ? rng_below(600)
                   : kind == 3 ? rng_below(3000)
                               : 10000 + rng_below(20000);
        random_batch(&b, &w->model, n, nkeys, scale);
        if (x < MANY_NB) {
            assert_int_equal(spine_insert_take(w->s, tlist_build_filters(&b, rng_below(4) != 0)),
                             IVM_OK);
            tlist_free(&b);
        } else {
            w->extra[x - MANY_NB] = tlist_build_filters(&b, x != MANY_NB);
            w->xl[x - MANY_NB] = b;
        }
    }
    const spine *const arr[1] = {w->s};
    spine_cursor *c;
    assert_int_equal(spine_cursor_new(arr, 1, w->extra, MANY_NX, &c), IVM_OK);
    return c;
}

static void many_batches_free(many_batches *w)
{
    spine_free(w->s);
    spine_merger_free(w->m);
    for (int x = 0; x < MANY_NX; x++) {
        spine_batch_unref(w->extra[x]);
        tlist_free(&w->xl[x]);
    }
    tlist_free(&w->model);
}

/* What a cursor shows: key, value and weight, copied. */
typedef struct shown {
    bool key_valid, val_valid;
    uint8_t key[16], val[16];
    size_t klen, vlen;
    int64_t w;
} shown;

static shown cursor_shown(const spine_cursor *c)
{
    shown s = {.key_valid = spine_cursor_key_valid(c), .val_valid = spine_cursor_val_valid(c)};
    const uint8_t *k = spine_cursor_key(c, &s.klen), *v = spine_cursor_val(c, &s.vlen);
    assert_true(s.klen <= sizeof s.key && s.vlen <= sizeof s.val);
    if (s.klen > 0)
        memcpy(s.key, k, s.klen);
    if (s.vlen > 0)
        memcpy(s.val, v, s.vlen);
    s.w = spine_cursor_weight(c);
    return s;
}

static void assert_shown(const shown *a, const shown *b)
{
    assert_int_equal(a->key_valid, b->key_valid);
    assert_int_equal(a->val_valid, b->val_valid);
    assert_int_equal(a->klen, b->klen);
    assert_int_equal(a->vlen, b->vlen);
    assert_memory_equal(a->key, b->key, a->klen);
    assert_memory_equal(a->val, b->val, a->vlen);
    assert_int_equal(a->w, b->w);
}

/* Prefetches for exact seeks (spine_cursor_prefetch_exact) mixed into
 * ascending exact seeks, plain seeks, seeks back, reading and rewinding
 * values and stepping keys, over many batches of every size (small ones
 * without fences, large ones searched through fences and interpolation),
 * with and without key filters: the prefetch shows nothing (the cursor
 * shows the same before and after), covers at most SPINE_PREFETCH_KEYS
 * keys and returns where it stopped, and everything after it lands where
 * the model says. */
static void test_cursor_prefetch_changes_nothing(void **state)
{
    (void)state;
    rng_seed(11);
    enum { KEYS = 20000 };
    for (int round = 0; round < 4; round++) {
        int64_t scale = round % 2 ? 1 : 1000;
        many_batches w;
        spine_cursor *c = many_batches_make(&w, KEYS, scale);
        tlist model = w.model; /* a view of it: many_batches_free frees it */
        int64_t k = -3 * scale;
        size_t prefetches = 0;
        while (k < (int64_t)KEYS * scale + 5) {
            if (rng_below(3) == 0) {
                /* A delta's keys from about here on, some held and some
                 * not, some repeated; the prefetch starts at one of its
                 * entries. */
                tlist d = {0};
                int64_t dk = k - (int64_t)rng_below(2) * scale;
                size_t dn = 1 + rng_below(40);
                for (size_t i = 0; i < dn; i++) {
                    uint8_t kb[16], vb[16];
                    ivm_value kv = ivm_value_int(dk), vv = ivm_value_int((int64_t)i);
                    tlist_push(&d, kb, enc(&kv, 1, kb), vb, enc(&vv, 1, vb), 1);
                    if (rng_below(4) != 0)
                        dk += 1 + (int64_t)rng_below(rng_below(4) == 0 ? 200 * (size_t)scale
                                                                       : 3 * (size_t)scale);
                }
                tlist_consolidate(&d);
                spine_batch *db = tlist_build_filters(&d, false);
                size_t from = rng_below(db->n + 1);
                if (rng_below(2))
                    spine_cursor_step_val(c); /* so that rewind_vals has work */
                shown before = cursor_shown(c);
                size_t to = spine_cursor_prefetch_exact(c, db, from);
                shown after = cursor_shown(c);
                assert_shown(&before, &after);
                if (before.key_valid && rng_below(2)) {
                    /* The key shown reads as before: all of its values. */
                    size_t at = tlist_lower_bound(&model, before.key, before.klen);
                    if (rng_below(2)) {
                        spine_cursor_rewind_vals(c);
                        assert_key_values(c, &model, at);
                    } else {
                        size_t next = at;
                        while (next < model.n && tentry_same_key(&model.v[next], &model.v[at]))
                            next++;
                        spine_cursor_step_key(c);
                        assert_at(c, &model, next);
                    }
                }
                if (from >= db->n) {
                    assert_int_equal(to, db->n);
                } else {
                    assert_true(to > from && to <= db->n);
                    size_t nk = 0;
                    for (size_t i = from; i < to; i = spine_batch_key_end(db, i))
                        nk++;
                    assert_true(nk >= 1 && nk <= SPINE_PREFETCH_KEYS);
                    if (to < db->n) {
                        size_t la, lb;
                        const uint8_t *ka = spine_batch_key(db, to - 1, &la);
                        const uint8_t *kb = spine_batch_key(db, to, &lb);
                        assert_true(spine_row_cmp(ka, la, kb, lb) < 0); /* a key's end */
                    }
                }
                spine_batch_unref(db);
                tlist_free(&d);
                prefetches++;
            }
            uint8_t probe[16], p2[16];
            ivm_value pk = ivm_value_int(k);
            size_t plen = enc(&pk, 1, probe);
            size_t i = tlist_lower_bound(&model, probe, plen);
            if (rng_below(2) == 0 && i < model.n) {
                memcpy(probe, model.v[i].e, model.v[i].klen);
                plen = model.v[i].klen;
                ivm_value dv;
                assert_int_equal(spine_row_decode(probe, plen, &dv, 1), 1);
                k = dv.u.i;
            }
            size_t what = rng_below(10);
            if (what == 0) {
                assert_seek(c, &model, probe, plen);
            } else {
                size_t at = assert_seek_exact(c, &model, probe, plen);
                if (what == 1 && at < model.n) {
                    assert_key_values(c, &model, at);
                } else if (what == 2) {
                    spine_cursor_step_val(c);
                    spine_cursor_rewind_vals(c);
                    if (at < model.n)
                        assert_key_values(c, &model, at);
                    else
                        assert_false(spine_cursor_val_valid(c));
                } else if (what == 3) {
                    size_t next = at;
                    while (next < model.n && tentry_same_key(&model.v[next], &model.v[at]))
                        next++;
                    spine_cursor_step_key(c);
                    assert_at(c, &model, at < model.n ? next : model.n);
                } else if (what == 4) {
                    int64_t back = k - (int64_t)rng_below(300) * scale;
                    ivm_value bk = ivm_value_int(back);
                    size_t blen = enc(&bk, 1, p2);
                    if (rng_below(2))
                        assert_seek_exact(c, &model, p2, blen);
                    else
                        assert_seek(c, &model, p2, blen);
                } else if (what == 5 && rng_below(10) == 0) {
                    spine_cursor_rewind(c);
                    assert_at(c, &model, 0);
                }
            }
            k += 1 + (int64_t)rng_below(rng_below(4) == 0 ? 200 * (size_t)scale : 3 * (size_t)scale);
        }
        assert_true(prefetches > 100);
        assert_cursor_is(c, &model);
        spine_cursor_free(c);
        many_batches_free(&w);
    }
}

/* Point readers (spine_cursor_expect_exact): over many batches of every
 * size, with and without key filters, in a spine and as extras, with
 * pairs that cancel across batches, exact seeks in any order (held keys,
 * absent ones, the same one again, keys whose entries all cancel) answer
 * as the model says, values read, stepped and rewound; prefetches of
 * deltas mixed in change nothing shown; a dense or large delta leaves a
 * merged reader as it was; rewind makes the reader a merged one again,
 * which reads everything. */
static void test_cursor_point_reads(void **state)
{
    (void)state;
    rng_seed(23);
    enum { KEYS = 20000 };
    for (int round = 0; round < 4; round++) {
        int64_t scale = round % 2 ? 1 : 1000;
        many_batches w;
        spine_cursor *c = many_batches_make(&w, KEYS, scale);
        tlist model = w.model; /* a view of it: many_batches_free frees it */
        /* Not point reads: too many keys, or too dense for the entries. */
        assert_false(spine_cursor_expect_exact(c, 65));
        assert_false(spine_cursor_expect_exact(c, model.n));
        assert_false(spine_cursor_expect_exact(c, 0));
        assert_at(c, &model, 0); /* untouched */
        assert_true(spine_cursor_expect_exact(c, 1 + rng_below(64)));
        assert_false(spine_cursor_key_valid(c));
        assert_false(spine_cursor_val_valid(c));
        for (int step = 0; step < 3000; step++) {
            if (rng_below(8) == 0) {
                /* A delta's keys, anywhere; the prefetch starts at one of
                 * its entries and shows nothing. */
                tlist d = {0};
                size_t dn = 1 + rng_below(40);
                for (size_t i = 0; i < dn; i++) {
                    uint8_t kb[16], vb[16];
                    ivm_value kv = ivm_value_int((int64_t)rng_below(KEYS + 10) * scale - 5),
                              vv = ivm_value_int((int64_t)i);
                    tlist_push(&d, kb, enc(&kv, 1, kb), vb, enc(&vv, 1, vb), 1);
                }
                tlist_consolidate(&d);
                spine_batch *db = tlist_build_filters(&d, false);
                size_t from = rng_below(db->n + 1);
                shown before = cursor_shown(c);
                size_t to = spine_cursor_prefetch_exact(c, db, from);
                shown after = cursor_shown(c);
                assert_shown(&before, &after);
                assert_true(from >= db->n ? to == db->n : to > from && to <= db->n);
                /* Seek the keys it covered (located, and taken from what
                 * it kept: the delta is gone by then), in order or not,
                 * and some it did not. */
                uint8_t ks[SPINE_PREFETCH_KEYS + 2][16];
                size_t kl[SPINE_PREFETCH_KEYS + 2], nks = 0;
                for (size_t i = from; i < db->n && nks < SPINE_PREFETCH_KEYS + 2;
                     i = spine_batch_key_end(db, i)) {
                    const uint8_t *kk = spine_batch_key(db, i, &kl[nks]);
                    memcpy(ks[nks], kk, kl[nks]);
                    nks++;
                }
                spine_batch_unref(db);
                tlist_free(&d);
                bool shuffled = rng_below(3) == 0;
                for (size_t i = 0; i < nks; i++) {
                    size_t at = shuffled ? rng_below(nks) : i;
                    size_t got = assert_seek_exact(c, &model, ks[at], kl[at]);
                    if (got < model.n && rng_below(3) == 0)
                        assert_key_values(c, &model, got);
                }
            }
            uint8_t probe[16];
            size_t plen;
            if (rng_below(2) == 0 && model.n > 0) {
                const tentry *t = &model.v[rng_below(model.n)];
                memcpy(probe, t->e, t->klen);
                plen = t->klen;
            } else {
                ivm_value pk = ivm_value_int((int64_t)rng_below(KEYS + 10) * scale - 5);
                plen = enc(&pk, 1, probe);
            }
            size_t at = assert_seek_exact(c, &model, probe, plen);
            size_t what = rng_below(4);
            if (what == 0 && at < model.n) {
                assert_key_values(c, &model, at);
                spine_cursor_rewind_vals(c);
                assert_key_values(c, &model, at);
            } else if (what == 1) {
                spine_cursor_step_val(c);
                spine_cursor_rewind_vals(c);
                if (at < model.n)
                    assert_key_values(c, &model, at);
                else
                    assert_false(spine_cursor_val_valid(c));
            } else if (what == 2) {
                assert_seek_exact(c, &model, probe, plen); /* the same target again */
            }
        }
        spine_cursor_rewind(c); /* a merged reader again */
        assert_cursor_is(c, &model);
        spine_cursor_free(c);
        many_batches_free(&w);
    }
}

/* A key of round r's distribution: skewed ones, where the fences are far
 * from evenly spread and a seek's guess from interpolating between them
 * lands far from its target (squares, a few dense clusters far apart,
 * powers of two with a little noise), and one spread evenly. */
static int64_t skewed_key(int r)
{
    switch (r % 4) {
    case 0: {
        int64_t x = (int64_t)rng_below(1u << 20);
        return x * x;
    }
    case 1:
        return (int64_t)rng_below(6) * ((int64_t)1 << 40) + (int64_t)rng_below(5000);
    case 2:
        return ((int64_t)1 << rng_below(50)) + (int64_t)rng_below(64);
    default:
        return (int64_t)rng_below(1u << 30);
    }
}

/* Seeks over large batches (searched through their fences) of keys with
 * skewed distributions: full seeks to random targets, ascending seeks that
 * jump far ahead (past the gallop) or a little, exact seeks on batches
 * with filters, each checked against a search of the sorted model. */
static void test_cursor_seeks_over_skewed_keys(void **state)
{
    (void)state;
    rng_seed(11);
    enum { NX = 4 };
    for (int round = 0; round < 8; round++) {
        tlist model = {0}, xl[NX] = {{0}};
        spine_batch *extra[NX];
        bool filters = round >= 4;
        for (int x = 0; x < NX; x++) {
            size_t n = 500 + rng_below(12000);
            for (size_t i = 0; i < n; i++) {
                uint8_t kb[16], vb[16];
                ivm_value k = ivm_value_int(skewed_key(round));
                ivm_value v = ivm_value_int((int64_t)rng_below(2));
                tlist_push(&xl[x], kb, enc(&k, 1, kb), vb, enc(&v, 1, vb), 1);
            }
            tlist_consolidate(&xl[x]);
            tlist_add(&model, &xl[x], 1);
            extra[x] = tlist_build_filters(&xl[x], filters);
        }
        tlist_consolidate(&model);
        spine_cursor *c;
        assert_int_equal(spine_cursor_new(NULL, 0, extra, NX, &c), IVM_OK);
        uint8_t probe[16];
        /* Random targets, half of them keys the model holds. */
        for (int q = 0; q < 600; q++) {
            size_t plen;
            if (rng_below(2)) {
                const tentry *t = &model.v[rng_below(model.n)];
                memcpy(probe, t->e, t->klen);
                plen = t->klen;
            } else {
                ivm_value pk = ivm_value_int(skewed_key(round) + (int64_t)rng_below(3) - 1);
                plen = enc(&pk, 1, probe);
            }
            if (filters && rng_below(2))
                assert_seek_exact(c, &model, probe, plen);
            else
                assert_seek(c, &model, probe, plen);
        }
        /* Ascending targets: the model's keys, skipping ahead by a few or
         * by thousands of entries. */
        spine_cursor_rewind(c);
        for (size_t i = 0; i < model.n; i += 1 + (rng_below(4) == 0 ? rng_below(3000) : rng_below(8))) {
            memcpy(probe, model.v[i].e, model.v[i].klen);
            if (filters && rng_below(2))
                assert_seek_exact(c, &model, probe, model.v[i].klen);
            else
                assert_seek(c, &model, probe, model.v[i].klen);
        }
        spine_cursor_free(c);
        for (int x = 0; x < NX; x++) {
            spine_batch_unref(extra[x]);
            tlist_free(&xl[x]);
        }
        tlist_free(&model);
    }
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
        cmocka_unit_test(test_cursor_seeks_forward_over_many_batches),
        cmocka_unit_test(test_cursor_seek_exact_skips_batches),
        cmocka_unit_test(test_cursor_prefetch_changes_nothing),
        cmocka_unit_test(test_cursor_point_reads),
        cmocka_unit_test(test_cursor_seeks_over_skewed_keys),
        cmocka_unit_test(test_cursor_empty),
    };
    return cmocka_run_group_tests_name("spine/cursor", tests, NULL, NULL);
}
