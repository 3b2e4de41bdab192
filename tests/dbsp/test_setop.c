/*
 * test_setop.c: the set-operation node (op_setop.c) against recomputation.
 * Two inputs get random insertions and deletions over small domains (so
 * that the same rows turn up on both sides, several times); after every step
 * the output's delta and contents are compared with f(I(A), I(B)) computed
 * row by row by a reference written here, for each kind (UNION, INTERSECT,
 * EXCEPT, INTERSECT ALL, EXCEPT ALL), with the whole row as key and with a
 * shorter key, with free weights (integrals that go negative) and with
 * multisets, with 1, 2, 4 and 7 workers.  Also: a node reading the same
 * integral twice, a chain of set operations, and the constructor's checks.
 */
#include "pools.h"

#ifdef __SANITIZE_THREAD__
#define NSTEPS 40
#else
#define NSTEPS 120
#endif

/* (INT 0..3 or NULL, TEXT from four): 20 distinct rows, so sides overlap. */
static void gen_row(rng *r, ivm_value *v)
{
    static const char *const texts[] = {"a", "b", "", "ab"};
    uint32_t k = rng_below(r, 5);
    v[0] = k == 4 ? ivm_value_null() : ivm_value_int((int64_t)k);
    const char *t = texts[rng_below(r, 4)];
    v[1] = ivm_value_text(t, (uint32_t)strlen(t));
}

/* The reference f, on weights clamped at zero (dbsp.h). */
static int64_t ref_f(dbsp_setop_kind kind, int64_t a, int64_t b)
{
    a = a > 0 ? a : 0;
    b = b > 0 ? b : 0;
    switch (kind) {
    case DBSP_SETOP_UNION: return a > 0 || b > 0;
    case DBSP_SETOP_INTERSECT: return a > 0 && b > 0;
    case DBSP_SETOP_EXCEPT: return a > 0 && b == 0;
    case DBSP_SETOP_INTERSECT_ALL: return a < b ? a : b;
    case DBSP_SETOP_EXCEPT_ALL: return a > b ? a - b : 0;
    default: fail(); return 0;
    }
}

static int64_t weight_of(const zset *z, const zrow *r)
{
    for (size_t i = 0; i < z->n; i++)
        if (zrow_cmp(&z->r[i], r) == 0)
            return z->r[i].w;
    return 0;
}

/* f over every row of either side (each side consolidated). */
static void ref_setop(dbsp_setop_kind kind, const zset *a, const zset *b, zset *out)
{
    zset rows;
    zset_init(&rows);
    for (size_t i = 0; i < b->n; i++)
        zset_add_bytes(&rows, b->r[i].b, b->r[i].len, b->r[i].klen, 1);
    for (size_t i = 0; i < a->n; i++)
        zset_add_bytes(&rows, a->r[i].b, a->r[i].len, a->r[i].klen, 1);
    zset_consolidate(&rows);
    for (size_t i = 0; i < rows.n; i++) {
        int64_t w = ref_f(kind, weight_of(a, &rows.r[i]), weight_of(b, &rows.r[i]));
        if (w != 0)
            zset_add_bytes(out, rows.r[i].b, rows.r[i].len, rows.r[i].klen, w);
    }
    zset_free(&rows);
    zset_consolidate(out);
}

/* Random batch for one input, kept in *integ.  multiset: weights stay
 * positive (deletions only of present rows, as tables have). */
static spine_batch *gen_batch(rng *r, uint32_t nkey, bool multiset, zset *integ)
{
    zset b;
    zset_init(&b);
    uint32_t rows = rng_below(r, 6);
    for (uint32_t i = 0; i < rows; i++) {
        if (multiset && integ->n > 0 && rng_below(r, 3) == 0) {
            zset_consolidate(integ);
            if (integ->n == 0)
                continue;
            zrow *z = &integ->r[rng_below(r, (uint32_t)integ->n)];
            zset_add_bytes(&b, z->b, z->len, z->klen, -1);
            z->w -= 1;
            continue;
        }
        ivm_value v[2];
        gen_row(r, v);
        int64_t w = multiset ? 1 + (rng_below(r, 3) == 0)
                             : (int64_t)(rng_below(r, 2) + 1) * (rng_below(r, 3) == 0 ? -1 : 1);
        zset_add_vals(&b, v, 2, nkey, w);
        zset_add_vals(integ, v, 2, nkey, w);
    }
    zset_consolidate(&b);
    zset_consolidate(integ);
    spine_batch *out = zset_to_batch(&b);
    zset_free(&b);
    return out;
}

typedef enum shape_kind {
    TWO_INPUTS,   /* setop(A, B) */
    SAME_INPUT,   /* setop(A, A): one integral read twice */
    CHAINED       /* setop2(setop(A, B), B), the inner result integrated again */
} shape_kind;

typedef struct setop_case {
    dbsp_setop_kind kind, kind2;
    uint32_t nkey;
    bool multiset;
    shape_kind shape;
    uint64_t seed;
} setop_case;

static dbsp_node arranged(dbsp_plan *p, dbsp_node in)
{
    dbsp_node x, i;
    assert_int_equal(dbsp_plan_exchange(p, in, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    return i;
}

static void run_case(const setop_case *sc)
{
    dbsp_plan *p = dbsp_plan_new();
    assert_non_null(p);
    dbsp_node in[2], out, s;
    assert_int_equal(dbsp_plan_input(p, 2, sc->nkey, &in[0]), IVM_OK);
    assert_int_equal(dbsp_plan_input(p, 2, sc->nkey, &in[1]), IVM_OK);
    dbsp_node ia = arranged(p, in[0]), ib = arranged(p, in[1]);
    switch (sc->shape) {
    case TWO_INPUTS:
        assert_int_equal(dbsp_plan_setop(p, sc->kind, ia, ib, &s), IVM_OK);
        break;
    case SAME_INPUT:
        assert_int_equal(dbsp_plan_setop(p, sc->kind, ia, ia, &s), IVM_OK);
        break;
    case CHAINED: {
        dbsp_node s1, is1;
        assert_int_equal(dbsp_plan_setop(p, sc->kind, ia, ib, &s1), IVM_OK);
        assert_int_equal(dbsp_plan_integrate(p, s1, &is1), IVM_OK);
        assert_int_equal(dbsp_plan_setop(p, sc->kind2, is1, ib, &s), IVM_OK);
        break;
    }
    }
    assert_int_equal(dbsp_plan_ncols(p, s), 2);
    assert_int_equal(dbsp_plan_nkey(p, s), sc->nkey);
    assert_int_equal(dbsp_plan_output(p, s, &out), IVM_OK);

    for (size_t run = 0; run < NRUNS; run++) {
        size_t wc = run_count(run);
        dbsp_host *h = NULL;
        assert_int_equal(dbsp_host_new(p, pools[wc], &h), IVM_OK);
        dbsp_host_set_step_opts(h, run_mode(run));
        rng r = {sc->seed};
        zset integ[2], want, prev_want, got, d, tmp;
        zset_init(&integ[0]);
        zset_init(&integ[1]);
        zset_init(&want);
        zset_init(&prev_want);
        zset_init(&got);
        zset_init(&d);
        zset_init(&tmp);
        for (int step = 0; step < NSTEPS; step++) {
            /* Now and then a step with no change on one side or both. */
            for (uint32_t j = 0; j < 2; j++) {
                uint32_t nb = rng_below(&r, 3);
                for (uint32_t k = 0; k < nb; k++)
                    assert_int_equal(dbsp_host_feed_take(h, in[j], gen_batch(&r, sc->nkey,
                                                                            sc->multiset,
                                                                            &integ[j])),
                                     IVM_OK);
            }
            ivm_err err;
            ivm_err_clear(&err);
            ivm_rc rc = dbsp_host_step(h, &err);
            if (rc != IVM_OK)
                fprintf(stderr, "step failed: %s\n", err.msg);
            assert_int_equal(rc, IVM_OK);

            zset_clear(&want);
            switch (sc->shape) {
            case TWO_INPUTS:
                ref_setop(sc->kind, &integ[0], &integ[1], &want);
                break;
            case SAME_INPUT:
                ref_setop(sc->kind, &integ[0], &integ[0], &want);
                break;
            case CHAINED:
                zset_clear(&tmp);
                ref_setop(sc->kind, &integ[0], &integ[1], &tmp);
                ref_setop(sc->kind2, &tmp, &integ[1], &want);
                break;
            }

            spine_batch *delta = NULL;
            assert_int_equal(dbsp_host_delta(h, out, &delta), IVM_OK);
            assert_int_equal(spine_batch_check(delta), IVM_OK);
            zset_from_batch(&got, delta);
            spine_batch_unref(delta);
            zset_copy(&d, &want);
            zset_add_zset(&d, &prev_want, -1);
            zset_expect("delta", &got, &d, worker_counts[wc], sc->seed, step);

            spine_cursor *c = NULL;
            assert_int_equal(dbsp_host_cursor(h, out, &c), IVM_OK);
            zset_from_cursor(&got, c);
            spine_cursor_free(c);
            zset_expect("contents", &got, &want, worker_counts[wc], sc->seed, step);
            zset_copy(&prev_want, &want);
        }
        dbsp_host_free(h);
        zset_free(&integ[0]);
        zset_free(&integ[1]);
        zset_free(&want);
        zset_free(&prev_want);
        zset_free(&got);
        zset_free(&d);
        zset_free(&tmp);
    }
    dbsp_plan_free(p);
}

static void run_kinds(uint32_t nkey, bool multiset, shape_kind shape, uint64_t seed)
{
    for (int k = 0; k < DBSP_SETOP_KIND_COUNT_; k++) {
        setop_case sc = {(dbsp_setop_kind)k, (dbsp_setop_kind)((k + 2) % DBSP_SETOP_KIND_COUNT_),
                         nkey, multiset, shape, seed + (uint64_t)k};
        run_case(&sc);
    }
}

static void test_setop_whole_row_multiset_matches_recomputation(void **state)
{
    (void)state;
    run_kinds(2, true, TWO_INPUTS, 100);
}

/* Free weights: integrals go negative, which counts as absent. */
static void test_setop_whole_row_free_weights_match_recomputation(void **state)
{
    (void)state;
    run_kinds(2, false, TWO_INPUTS, 200);
}

/* A key shorter than the row: rows of one key are walked value by value. */
static void test_setop_short_key_matches_recomputation(void **state)
{
    (void)state;
    run_kinds(1, true, TWO_INPUTS, 300);
    run_kinds(0, false, TWO_INPUTS, 350);
}

/* Both inputs are one node: its delta is both dA and dB. */
static void test_setop_same_input_matches_recomputation(void **state)
{
    (void)state;
    run_kinds(2, true, SAME_INPUT, 400);
}

/* A set operation over another's integrated result, as A EXCEPT B UNION C. */
static void test_setop_chain_matches_recomputation(void **state)
{
    (void)state;
    run_kinds(2, true, CHAINED, 500);
}

static void test_setop_plan_checks_shapes(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    assert_non_null(p);
    dbsp_node a, b, c, ia, ib, ic, s;
    assert_int_equal(dbsp_plan_input(p, 2, 2, &a), IVM_OK);
    assert_int_equal(dbsp_plan_input(p, 2, 2, &b), IVM_OK);
    assert_int_equal(dbsp_plan_input(p, 3, 3, &c), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, a, &ia), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, b, &ib), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, c, &ic), IVM_OK);
    uint32_t n = dbsp_plan_nodes(p);
    /* Not integrate nodes; shapes that differ; an unknown kind; no node. */
    assert_int_equal(dbsp_plan_setop(p, DBSP_SETOP_UNION, a, ib, &s), IVM_INVALID);
    assert_int_equal(dbsp_plan_setop(p, DBSP_SETOP_UNION, ia, b, &s), IVM_INVALID);
    assert_int_equal(dbsp_plan_setop(p, DBSP_SETOP_EXCEPT, ia, ic, &s), IVM_INVALID);
    assert_int_equal(dbsp_plan_setop(p, DBSP_SETOP_KIND_COUNT_, ia, ib, &s), IVM_INVALID);
    assert_int_equal(dbsp_plan_setop(p, DBSP_SETOP_UNION, ia, 99, &s), IVM_INVALID);
    assert_int_equal(dbsp_plan_nodes(p), n);
    assert_int_equal(dbsp_plan_setop(p, DBSP_SETOP_INTERSECT_ALL, ia, ib, &s), IVM_OK);
    assert_int_equal(dbsp_plan_kind(p, s), DBSP_SETOP);
    char buf[1024];
    dbsp_plan_describe(p, buf, sizeof buf);
    assert_non_null(strstr(buf, "intersect_all(3, 4)"));
    dbsp_node o;
    assert_int_equal(dbsp_plan_output(p, s, &o), IVM_OK);
    /* Inputs not routed through an exchange: refused with several workers
     * (D4), accepted with one. */
    dbsp_host *h = NULL;
    assert_int_equal(dbsp_host_new(p, pools[1], &h), IVM_INVALID);
    assert_int_equal(dbsp_host_new(p, pools[0], &h), IVM_OK);
    dbsp_host_free(h);
    dbsp_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setop_whole_row_multiset_matches_recomputation),
        cmocka_unit_test(test_setop_whole_row_free_weights_match_recomputation),
        cmocka_unit_test(test_setop_short_key_matches_recomputation),
        cmocka_unit_test(test_setop_same_input_matches_recomputation),
        cmocka_unit_test(test_setop_chain_matches_recomputation),
        cmocka_unit_test(test_setop_plan_checks_shapes),
    };
    return cmocka_run_group_tests(tests, setup_pools, teardown_pools);
}
