/*
 * test_spine_model.c: spines under random interleavings of inserts and
 * merge work, against the sorted array model.  Several spines share one
 * manual merger; each step inserts a random batch (insertions and
 * retractions over a small domain, so that they cancel), runs merge slices
 * of a random budget, compacts, waits for a spine to be idle, frees and
 * replaces a spine with merges in progress, or takes a cursor and keeps it
 * for later.  After every step every spine is read through a fresh cursor
 * (all keys, values and summed weights, and random seeks) and compared with
 * its model; spine_check passes; the statistics agree with each other and
 * with the model; and every cursor kept from earlier still reads the
 * snapshot it was taken on, whatever merged since.  Some spines start unread
 * (spine_opts.unread) and a step may end that at any point, merges in
 * progress or not.  Fixed seeds.
 */
#include "spine_testlib.h"

enum { NSPINES = 3, NKEPT = 4 };

/* At most F - 1 batches at rest on each of the levels that batches of up
 * to `rows` entries can use, F the fan-in (README: merge policy). */
static size_t rest_bound(size_t rows, size_t fan)
{
    size_t levels = 1;
    for (size_t r = rows; r >= fan; r /= fan)
        levels++;
    return (fan - 1) * levels;
}

typedef struct sp {
    spine *s;
    bool exact;  /* spine_opts.exact_seeks, drawn at random */
    bool unread;   /* spine_opts.unread, drawn at random, until spine_unread_end */
    bool ended;  /* spine_unread_end was called: the read shape is due */
    tlist model;
    spine_stats last;
} sp;

typedef struct kept {
    spine_cursor *c;
    tlist model;
} kept;

typedef struct world {
    spine_merger *m;
    sp sp[NSPINES];
    kept kept[NKEPT];
    bool wide; /* keys from a wide domain, so that batches reach high levels */
    uint32_t max_pending;
    size_t merges; /* of spines freed so far */
} world;

static void sp_open(world *w, sp *p)
{
    p->exact = rng_below(2) == 0;
    p->unread = rng_below(3) == 0;
    p->ended = false;
    spine_opts o = {.merger = w->m, .max_pending = w->max_pending, .exact_seeks = p->exact,
                    .unread = p->unread};
    p->s = spine_new_opts(&o);
    assert_non_null(p->s);
    memset(&p->last, 0, sizeof p->last);
}

/* The statistics agree with each other, with the model and with the last
 * ones seen: counters only grow. */
static void check_stats(sp *p)
{
    spine_stats st;
    spine_stats_get(p->s, &st);
    /* Unread until the merger re-levels it after spine_unread_end (S21). */
    if (p->unread)
        assert_int_equal(st.fanout, SPINE_FANOUT_UNREAD);
    else if (!p->ended)
        assert_int_equal(st.fanout, 4);
    else
        assert_true(st.fanout == SPINE_FANOUT_UNREAD || st.fanout == 4);
    size_t batches = 0, pending = 0;
    for (unsigned l = 0; l < SPINE_MAX_LEVELS; l++) {
        batches += st.level_batches[l];
        pending += st.level_batches[l] > st.fanout - 1 ? st.level_batches[l] - (st.fanout - 1) : 0;
    }
    assert_int_equal(batches, st.batches);
    assert_int_equal(pending, st.pending);
    assert_true(st.rows >= p->model.n);
    assert_true((st.batches == 0) == (st.rows == 0));
    assert_true((st.rows == 0) == (st.bytes == 0));
    assert_true(st.batches <= rest_bound(st.rows, st.fanout) + st.pending);
    assert_true(st.merges >= p->last.merges);
    assert_true(st.merge_rows >= p->last.merge_rows);
    /* Each merge reads at least two entries (it takes FANOUT batches, or
     * at least two when compacting). */
    assert_true(st.merge_rows - p->last.merge_rows >= 2 * (st.merges - p->last.merges));
    assert_int_equal(st.waits, 0);
    assert_true(st.filtered <= st.batches);
    p->last = st;
}

static void probe(uint8_t *k, size_t *kl, bool wide)
{
    if (!wide) {
        *kl = gen_small_key(k, true);
        return;
    }
    ivm_value key = ivm_value_int((int64_t)rng_below(5200) - 100);
    *kl = enc(&key, 1, k);
}

static void check_sp(world *w, sp *p)
{
    assert_int_equal(spine_check(p->s), IVM_OK);
    check_stats(p);
    spine_cursor *c;
    const spine *const arr[1] = {p->s};
    assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &c), IVM_OK);
    assert_cursor_is(c, &p->model);
    for (int i = 0; i < 6; i++) {
        uint8_t k[256];
        size_t kl;
        probe(k, &kl, w->wide);
        assert_seek(c, &p->model, k, kl);
    }
    /* Exact seeks, with whatever filters the batches have: none, some or
     * all (S18: a batch without one is searched), and keys the model
     * holds, so that hits are checked too. */
    spine_cursor_rewind(c);
    for (int i = 0; i < 6; i++) {
        uint8_t k[256];
        size_t kl;
        if (p->model.n > 0 && rng_below(2) == 0) {
            const tentry *t = &p->model.v[rng_below(p->model.n)];
            kl = t->klen;
            memcpy(k, t->e, kl);
        } else {
            probe(k, &kl, w->wide);
        }
        assert_seek_exact(c, &p->model, k, kl);
    }
    spine_cursor_free(c);
}

static void check_kept(world *w)
{
    for (int i = 0; i < NKEPT; i++) {
        kept *k = &w->kept[i];
        if (k->c == NULL)
            continue;
        assert_cursor_is(k->c, &k->model);
        uint8_t pk[256];
        size_t kl;
        probe(pk, &kl, w->wide);
        assert_seek(k->c, &k->model, pk, kl);
    }
}

static void gen_batch(world *w, tlist *batch, const tlist *model)
{
    if (!w->wide) {
        gen_small_batch(batch, model, 120);
        return;
    }
    size_t n = rng_below(4) == 0 ? rng_below(1500) : rng_below(40);
    for (size_t i = 0; i < n; i++) {
        if (model->n > 0 && rng_below(3) == 0) {
            const tentry *t = &model->v[rng_below(model->n)];
            tlist_push(batch, t->e, t->klen, t->e + t->klen, t->len - t->klen, -t->w);
            continue;
        }
        uint8_t k[16], v[16];
        ivm_value key = ivm_value_int((int64_t)rng_below(5000));
        ivm_value val = ivm_value_int((int64_t)rng_below(4));
        size_t kl = enc(&key, 1, k), vl = enc(&val, 1, v);
        tlist_push(batch, k, kl, v, vl, (int64_t)rng_below(5) - 2);
    }
}

static void step(world *w)
{
    size_t what = rng_below(100);
    sp *p = &w->sp[rng_below(NSPINES)];
    if (what < 45) {
        tlist batch = {0};
        gen_batch(w, &batch, &p->model);
        if (rng_below(3) == 0)
            tlist_consolidate(&batch);
        /* Inserted batches with and without filters, into spines that
         * build them on merges or not. */
        assert_int_equal(spine_insert_take(p->s, tlist_build_filters(&batch, rng_below(2) == 0)),
                         IVM_OK);
        tlist_add(&p->model, &batch, 1);
        tlist_consolidate(&p->model);
        tlist_free(&batch);
    } else if (what < 83) {
        /* Budgets from one entry (a merge stops after every entry) to
         * whole merges. */
        size_t r = rng_below(10);
        size_t budget = r < 4 ? 1 + rng_below(4) : r < 8 ? 1 + rng_below(300) : 1 + rng_below(20000);
        spine_merger_work(w->m, budget);
    } else if (what < 85) {
        /* The spine is read from now on: whatever its unread merges are
         * doing, the merger re-levels it at its next turn. */
        spine_unread_end(p->s);
        p->ended = p->ended || p->unread;
        p->unread = false;
    } else if (what < 88) {
        spine_stats before, st;
        spine_stats_get(p->s, &before);
        assert_int_equal(spine_compact(p->s), IVM_OK);
        spine_stats_get(p->s, &st);
        assert_true(st.batches <= 1);
        assert_int_equal(st.pending, 0);
        /* S18: what compaction merged has a filter exactly when the
         * spine is probed (and the batch large enough). */
        if (before.batches > 1)
            assert_int_equal(st.filtered, p->exact && !p->unread && st.rows >= 4);
    } else if (what < 91) {
        spine_wait_idle(p->s);
        spine_stats st;
        spine_stats_get(p->s, &st);
        assert_int_equal(st.pending, 0);
        assert_int_equal(st.fanout, p->unread ? SPINE_FANOUT_UNREAD : 4);
        assert_true(st.batches <= rest_bound(st.rows, st.fanout));
    } else if (what < 92) {
        /* Free with merges possibly in progress; a new spine takes its
         * place, rebuilt from the model in a few batches. */
        w->merges += p->last.merges;
        spine_free(p->s);
        sp_open(w, p);
        tlist part = {0};
        for (size_t i = 0; i < p->model.n; i++) {
            const tentry *t = &p->model.v[i];
            tlist_push(&part, t->e, t->klen, t->e + t->klen, t->len - t->klen, t->w);
            if (rng_below(40) == 0 || i + 1 == p->model.n) {
                assert_int_equal(spine_insert_take(p->s, tlist_build(&part, true)), IVM_OK);
                tlist_free(&part);
            }
        }
        tlist_free(&part);
    } else {
        /* Keep a cursor on this spine's present state for later steps. */
        kept *k = &w->kept[rng_below(NKEPT)];
        spine_cursor_free(k->c);
        tlist_free(&k->model);
        const spine *const arr[1] = {p->s};
        assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &k->c), IVM_OK);
        tlist_add(&k->model, &p->model, 1);
        tlist_consolidate(&k->model);
    }
    for (int i = 0; i < NSPINES; i++)
        check_sp(w, &w->sp[i]);
    check_kept(w);
}

static void run(uint64_t seed, int steps, bool wide)
{
    rng_seed(seed);
    world w;
    memset(&w, 0, sizeof w);
    w.wide = wide;
    w.max_pending = 1000; /* no backpressure here: see test_spine_flood.c */
    assert_int_equal(spine_merger_new_manual(&w.m), IVM_OK);
    for (int i = 0; i < NSPINES; i++)
        sp_open(&w, &w.sp[i]);
    for (int i = 0; i < steps; i++)
        step(&w);
    /* Drain: everything at rest, and still the model. */
    while (spine_merger_work(w.m, 1 + rng_below(500)))
        ;
    size_t merges = w.merges;
    for (int i = 0; i < NSPINES; i++) {
        spine_stats st;
        check_sp(&w, &w.sp[i]);
        spine_stats_get(w.sp[i].s, &st);
        assert_int_equal(st.pending, 0);
        assert_int_equal(st.fanout, w.sp[i].unread ? SPINE_FANOUT_UNREAD : 4);
        assert_true(st.batches <= rest_bound(st.rows, st.fanout));
        merges += st.merges;
    }
    assert_true(merges > 20); /* the interleavings did merge */
    check_kept(&w);
    for (int i = 0; i < NKEPT; i++) {
        spine_cursor_free(w.kept[i].c);
        tlist_free(&w.kept[i].model);
    }
    for (int i = 0; i < NSPINES; i++) {
        spine_free(w.sp[i].s);
        tlist_free(&w.sp[i].model);
    }
    spine_merger_free(w.m);
}

static void test_spine_model_small_domain(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++)
        run(seed, 900, false);
}

static void test_spine_model_wide_domain(void **state)
{
    (void)state;
    for (uint64_t seed = 11; seed <= 12; seed++)
        run(seed, 250, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spine_model_small_domain),
        cmocka_unit_test(test_spine_model_wide_domain),
    };
    return cmocka_run_group_tests_name("spine/model", tests, NULL, NULL);
}
