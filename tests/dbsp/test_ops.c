/*
 * test_ops.c: property tests, one per operator.  Each runs a small circuit
 * around the operator on random insertions and deletions over small key
 * domains (so that keys collide), and after every step compares the output's
 * delta and contents with the operator applied to the integrated inputs by a
 * reference written here over arrays of rows.  Every case runs with 1, 2, 4
 * and 7 workers on the same inputs, so results must also agree across worker
 * counts.  Seeds are fixed; a failure prints workers, seed and step.
 */
#include "pools.h"

/* TSan makes every worker handoff slow; it looks for races, which a few
 * dozen steps per case exercise as well as many.  Under ASan the
 * recomputation each step does over the whole input grows with the steps,
 * so a case costs about the square of its steps; 60 still takes every
 * operator's state through hundreds of merges, and the release build runs
 * the full 150. */
#if defined(__SANITIZE_THREAD__)
#define NSTEPS 40
#elif defined(__SANITIZE_ADDRESS__)
#define NSTEPS 60
#else
#define NSTEPS 150
#endif

/* ---- Input shapes ----------------------------------------------------------- */

static const char *const texts[] = {"a", "b", "ab", "", "B"};

/* (k INT 0..4 or NULL, v INT 0..5 or NULL, s TEXT), key k. */
static void gen_kvs(rng *r, ivm_value *v)
{
    v[0] = rng_below(r, 8) == 0 ? ivm_value_null() : ivm_value_int(rng_below(r, 5));
    v[1] = rng_below(r, 8) == 0 ? ivm_value_null() : ivm_value_int(rng_below(r, 6));
    const char *t = texts[rng_below(r, 5)];
    v[2] = ivm_value_text(t, (uint32_t)strlen(t));
}

/* (k INT 0..3 or NULL, a TEXT), key k. */
static void gen_join_a(rng *r, ivm_value *v)
{
    v[0] = rng_below(r, 10) == 0 ? ivm_value_null() : ivm_value_int(rng_below(r, 4));
    const char *t = texts[rng_below(r, 3)];
    v[1] = ivm_value_text(t, (uint32_t)strlen(t));
}

/* (k INT 0..3 or NULL, b INT 0..2, c REAL), key k. */
static void gen_join_b(rng *r, ivm_value *v)
{
    v[0] = rng_below(r, 10) == 0 ? ivm_value_null() : ivm_value_int(rng_below(r, 4));
    v[1] = ivm_value_int(rng_below(r, 3));
    v[2] = ivm_value_real(0.5 * rng_below(r, 3));
}

/* (g INT 0..3, x INT -5..5 or NULL, y REAL step * -8..8 or NULL, t one of
 * the five texts or NULL): y is NULL one time in y_null, t one in t_null. */
static void gen_group_row(rng *r, ivm_value *v, double step, unsigned y_null, unsigned t_null,
                          const char *const *five_texts)
{
    v[0] = ivm_value_int(rng_below(r, 4));
    v[1] = rng_below(r, 6) == 0 ? ivm_value_null() : ivm_value_int((int64_t)rng_below(r, 11) - 5);
    v[2] = rng_below(r, y_null) == 0 ? ivm_value_null()
                                     : ivm_value_real(step * ((double)rng_below(r, 17) - 8));
    if (rng_below(r, t_null) == 0) {
        v[3] = ivm_value_null();
    } else {
        const char *t = five_texts[rng_below(r, 5)];
        v[3] = ivm_value_text(t, (uint32_t)strlen(t));
    }
}

/* REAL values are multiples of 0.25 so that every sum is exact in any order. */
static void gen_agg(rng *r, ivm_value *v)
{
    gen_group_row(r, v, 0.25, 6, 6, texts);
}

typedef struct shape {
    uint32_t ncols, nkey;
    void (*gen)(rng *r, ivm_value *v);
} shape;

/* ---- The property runner ------------------------------------------------------ */

typedef struct prop {
    uint32_t ninputs;
    shape in[2];
    bool multiset;     /* deletions only of rows present, as tables have */
    void (*build)(dbsp_plan *p, const dbsp_node *in, dbsp_node *out);
    /* The expected contents from the integrated inputs now and one step ago. */
    void (*ref)(const zset *now, const zset *prev, zset *out);
    uint64_t seed;
} prop;

/* Steps before this one only insert (positive weights); 0 in most tests. */
static int inserts_until;
/* Rows drawn per batch: below this; 6 in most tests. */
static uint32_t batch_rows = 6;
/* When not 0: the first step feeds each input one batch of this many rows
 * drawn (a large state for the small steps after it). */
static uint32_t first_rows;

/* One random batch for input j, added to *integ as it is made (integ is
 * consolidated only when a deletion needs to pick a present row). */
static spine_batch *gen_batch_of(rng *r, const shape *sh, bool multiset, bool inserts,
                                 zset *integ, uint32_t rows)
{
    zset b;
    zset_init(&b);
    for (uint32_t i = 0; i < rows; i++) {
        ivm_value v[8];
        if (multiset && !inserts && integ->n > 0 && rng_below(r, 3) == 0) {
            /* Delete one copy of a present row. */
            zset_consolidate(integ);
            if (integ->n == 0)
                continue;
            size_t pick = rng_below(r, (uint32_t)integ->n);
            const zrow *z = &integ->r[pick];
            if (z->w > 0) {
                zset_add_bytes(&b, z->b, z->len, z->klen, -1);
                integ->r[pick].w -= 1; /* a zero goes at the next consolidation */
            }
            continue;
        }
        sh->gen(r, v);
        int64_t w = multiset ? 1 + (rng_below(r, 4) == 0)
                             : (int64_t)(rng_below(r, 2) + 1) * (rng_below(r, 3) == 0 ? -1 : 1);
        if (inserts && w < 0)
            w = -w;
        zset_add_vals(&b, v, sh->ncols, sh->nkey, w);
        zset_add_vals(integ, v, sh->ncols, sh->nkey, w);
    }
    zset_consolidate(&b);
    spine_batch *out = zset_to_batch(&b);
    zset_free(&b);
    return out;
}

static spine_batch *gen_batch(rng *r, const shape *sh, bool multiset, bool inserts,
                              zset *integ)
{
    return gen_batch_of(r, sh, multiset, inserts, integ, rng_below(r, batch_rows));
}

static void run_prop(const prop *pr)
{
    dbsp_plan *p = dbsp_plan_new();
    assert_non_null(p);
    dbsp_node in[2], out;
    for (uint32_t j = 0; j < pr->ninputs; j++)
        assert_int_equal(dbsp_plan_input(p, pr->in[j].ncols, pr->in[j].nkey, &in[j]), IVM_OK);
    pr->build(p, in, &out);

    for (size_t run = 0; run < NRUNS; run++) {
        size_t wc = run_count(run);
        dbsp_host *h = NULL;
        assert_int_equal(dbsp_host_new(p, pools[wc], &h), IVM_OK);
        dbsp_host_set_step_opts(h, run_mode(run));
        rng r = {pr->seed};
        zset integ[2], prev[2], want, prev_want, got, d;
        for (int j = 0; j < 2; j++) {
            zset_init(&integ[j]);
            zset_init(&prev[j]);
        }
        zset_init(&want);
        zset_init(&prev_want);
        zset_init(&got);
        zset_init(&d);
        for (int step = 0; step < NSTEPS; step++) {
            for (uint32_t j = 0; j < pr->ninputs; j++) {
                zset_copy(&prev[j], &integ[j]);
                uint32_t nb = step == 0 && first_rows > 0 ? 1 : rng_below(&r, 4);
                for (uint32_t k = 0; k < nb; k++) {
                    spine_batch *b =
                        step == 0 && first_rows > 0
                            ? gen_batch_of(&r, &pr->in[j], pr->multiset, true, &integ[j], first_rows)
                            : gen_batch(&r, &pr->in[j], pr->multiset, step < inserts_until,
                                        &integ[j]);
                    assert_int_equal(dbsp_host_feed_take(h, in[j], b), IVM_OK);
                }
            }
            for (uint32_t j = 0; j < pr->ninputs; j++)
                zset_consolidate(&integ[j]);
            ivm_err err;
            ivm_err_clear(&err);
            ivm_rc rc = dbsp_host_step(h, &err);
            if (rc != IVM_OK)
                fprintf(stderr, "step failed: %s\n", err.msg);
            assert_int_equal(rc, IVM_OK);

            zset_clear(&want);
            pr->ref(integ, prev, &want);
            zset_consolidate(&want);

            spine_batch *delta = NULL;
            assert_int_equal(dbsp_host_delta(h, out, &delta), IVM_OK);
            assert_int_equal(spine_batch_check(delta), IVM_OK);
            zset_from_batch(&got, delta);
            spine_batch_unref(delta);
            zset_copy(&d, &want);
            zset_add_zset(&d, &prev_want, -1);
            zset_expect("delta", &got, &d, worker_counts[wc], pr->seed, step);

            spine_cursor *c = NULL;
            assert_int_equal(dbsp_host_cursor(h, out, &c), IVM_OK);
            zset_from_cursor(&got, c);
            spine_cursor_free(c);
            zset_expect("contents", &got, &want, worker_counts[wc], pr->seed, step);
            zset_copy(&prev_want, &want);
        }
        spine_stats st;
        dbsp_host_stats(h, &st);
        assert_true(st.rows > 0 || st.batches == 0);
        dbsp_host_free(h);
        for (int j = 0; j < 2; j++) {
            zset_free(&integ[j]);
            zset_free(&prev[j]);
        }
        zset_free(&want);
        zset_free(&prev_want);
        zset_free(&got);
        zset_free(&d);
    }
    dbsp_plan_free(p);
}

/* ---- Expression shorthands ------------------------------------------------------ */

static dbsp_expr *col(uint32_t c)
{
    return dbsp_expr_col(c, IVM_TNULL);
}

static dbsp_expr *kint(int64_t i)
{
    ivm_value v = ivm_value_int(i);
    return dbsp_expr_const(&v);
}

static dbsp_expr *op2(dbsp_xop op, dbsp_expr *a, dbsp_expr *b)
{
    dbsp_expr *args[2] = {a, b};
    return dbsp_expr_op(op, IVM_TNULL, 2, args);
}

static dbsp_expr *op1(dbsp_xop op, dbsp_expr *a)
{
    return dbsp_expr_op(op, IVM_TINT, 1, &a);
}

/* ---- filter ------------------------------------------------------------------------ */

/* (v > 2) OR (k IS NULL) */
static void build_filter(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node f;
    dbsp_expr *pred = op2(DBSP_X_OR, op2(DBSP_X_GT, col(1), kint(2)), op1(DBSP_X_ISNULL, col(0)));
    assert_int_equal(dbsp_plan_filter(p, in[0], pred, &f), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, f, out), IVM_OK);
}

static void ref_filter(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[3];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 3), 3);
        bool pass = (v[1].type == IVM_TINT && v[1].u.i > 2) || v[0].type == IVM_TNULL;
        if (pass)
            zset_add_bytes(out, now[0].r[i].b, now[0].r[i].len, now[0].r[i].klen, now[0].r[i].w);
    }
}

static void test_filter_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_filter, ref_filter, 11};
    run_prop(&pr);
}

/* ---- map ---------------------------------------------------------------------------- */

/* [v % 3, s || k, k IS NULL], key v % 3: re-keys, and rows collide. */
static void build_map(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node m;
    dbsp_expr *e[3] = {op2(DBSP_X_MOD, col(1), kint(3)), op2(DBSP_X_CONCAT, col(2), col(0)),
                       op1(DBSP_X_ISNULL, col(0))};
    assert_int_equal(dbsp_plan_map(p, in[0], 3, e, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, out), IVM_OK);
}

static void ref_map(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[3], o[3];
        char buf[64];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 3), 3);
        o[0] = v[1].type == IVM_TNULL ? ivm_value_null() : ivm_value_int(v[1].u.i % 3);
        if (v[0].type == IVM_TNULL) {
            o[1] = ivm_value_null();
        } else {
            int n = snprintf(buf, sizeof buf, "%.*s%lld", (int)v[2].u.s.n, v[2].u.s.p,
                             (long long)v[0].u.i);
            o[1] = ivm_value_text(buf, (uint32_t)n);
        }
        o[2] = ivm_value_int(v[0].type == IVM_TNULL);
        zset_add_vals(out, o, 3, 1, now[0].r[i].w);
    }
}

static void test_map_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_map, ref_map, 12};
    run_prop(&pr);
}

/* Bare columns are copied as bytes, the others computed: [t, y, x + 1, x,
 * g, t] over (g, x, y, t), key (t, y), with NULLs, REALs and text copied
 * out of their order and twice. */
static void build_map_copy(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node m;
    dbsp_expr *e[6] = {col(3), col(2), op2(DBSP_X_ADD, col(1), kint(1)), col(1), col(0), col(3)};
    assert_int_equal(dbsp_plan_map(p, in[0], 6, e, 2, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, out), IVM_OK);
}

static void ref_map_copy(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[4];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 4), 4);
        ivm_value o[6] = {v[3], v[2],
                          v[1].type == IVM_TNULL ? ivm_value_null() : ivm_value_int(v[1].u.i + 1),
                          v[1], v[0], v[3]};
        zset_add_vals(out, o, 6, 2, now[0].r[i].w);
    }
}

static void test_map_copy_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_agg}}, false, build_map_copy, ref_map_copy, 13};
    run_prop(&pr);
}

/* Bare columns that follow each other in the input are copied as one run
 * of bytes, but a run ends where the output key does: [g, x, y, x + 1, y,
 * t, g, x] over (g, x, y, t), key (g, x), so the run g, x, y is cut after
 * x, and y, t and g, x are runs of their own. */
static void build_map_runs(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node m;
    dbsp_expr *e[8] = {col(0), col(1), col(2), op2(DBSP_X_ADD, col(1), kint(1)),
                       col(2), col(3), col(0), col(1)};
    assert_int_equal(dbsp_plan_map(p, in[0], 8, e, 2, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, out), IVM_OK);
}

static void ref_map_runs(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[4];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 4), 4);
        ivm_value o[8] = {v[0], v[1], v[2],
                          v[1].type == IVM_TNULL ? ivm_value_null() : ivm_value_int(v[1].u.i + 1),
                          v[2], v[3], v[0], v[1]};
        zset_add_vals(out, o, 8, 2, now[0].r[i].w);
    }
}

static void test_map_runs_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_agg}}, false, build_map_runs, ref_map_runs, 15};
    run_prop(&pr);
}

/* Maps that only copy columns are written in one pass when no column is
 * copied twice (the output then fits in its input row's length): [y, t,
 * g] over (g, x, y, t), key (y); and with a column copied three times,
 * [t, g, x, y, t, t] key (t), whose rows are longer than their input
 * (in the one-pass form they would outgrow the room taken for them). */
static void build_map_copies(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node m;
    dbsp_expr *e[3] = {col(2), col(3), col(0)};
    assert_int_equal(dbsp_plan_map(p, in[0], 3, e, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, out), IVM_OK);
}

static void ref_map_copies(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[4];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 4), 4);
        ivm_value o[3] = {v[2], v[3], v[0]};
        zset_add_vals(out, o, 3, 1, now[0].r[i].w);
    }
}

static void build_map_copies_twice(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node m;
    dbsp_expr *e[6] = {col(3), col(0), col(1), col(2), col(3), col(3)};
    assert_int_equal(dbsp_plan_map(p, in[0], 6, e, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, out), IVM_OK);
}

static void ref_map_copies_twice(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[4];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 4), 4);
        ivm_value o[6] = {v[3], v[0], v[1], v[2], v[3], v[3]};
        zset_add_vals(out, o, 6, 1, now[0].r[i].w);
    }
}

static void test_map_copies_match_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_agg}}, false, build_map_copies, ref_map_copies, 16};
    run_prop(&pr);
    prop pr2 = {1, {{4, 1, gen_agg}}, false, build_map_copies_twice, ref_map_copies_twice, 17};
    run_prop(&pr2);
}

/* The leading columns kept in order, [g, x]: the output comes in order
 * (the builder notices it and skips the sort) and rows collide. */
static void build_map_prefix(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node m;
    dbsp_expr *e[2] = {col(0), col(1)};
    assert_int_equal(dbsp_plan_map(p, in[0], 2, e, 0, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, out), IVM_OK);
}

static void ref_map_prefix(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[4];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 4), 4);
        zset_add_vals(out, v, 2, 0, now[0].r[i].w);
    }
}

static void test_map_prefix_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_agg}}, false, build_map_prefix, ref_map_prefix, 14};
    run_prop(&pr);
}

/* A map whose output starts with its input's leading columns sorts only
 * within rows that share them (spine_builder_finish_runs): [k, 0 - v, s]
 * key 1 over (k, v, s), then [s, 0 - k, v] key 2 over that, so that the
 * values within a run come out of order, and the second map's runs are
 * texts of several lengths.  Steps of up to 600 rows, so that the
 * builders sort (more than SPINE_BUILDER_LATE rows come late). */
static void build_map_lead(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node m1, m2, m3;
    dbsp_expr *e1[3] = {col(0), op2(DBSP_X_SUB, kint(0), col(1)), col(2)};
    assert_int_equal(dbsp_plan_map(p, in[0], 3, e1, 1, &m1), IVM_OK);
    dbsp_expr *e2[3] = {col(2), col(0), col(1)};
    assert_int_equal(dbsp_plan_map(p, m1, 3, e2, 1, &m2), IVM_OK);
    dbsp_expr *e3[3] = {col(0), op2(DBSP_X_SUB, kint(0), col(1)), col(2)};
    assert_int_equal(dbsp_plan_map(p, m2, 3, e3, 2, &m3), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m3, out), IVM_OK);
}

static ivm_value neg_or_null(const ivm_value *v)
{
    return v->type == IVM_TNULL ? ivm_value_null() : ivm_value_int(-v->u.i);
}

static void ref_map_lead(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[3];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 3), 3);
        ivm_value o[3] = {v[2], neg_or_null(&v[0]), neg_or_null(&v[1])};
        zset_add_vals(out, o, 3, 2, now[0].r[i].w);
    }
}

static void test_map_lead_sorts_within_runs(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_map_lead, ref_map_lead, 16};
    batch_rows = 200;
    run_prop(&pr);
    batch_rows = 6;
}

/* Four INT columns of few values: many rows share their first three. */
static void gen_four_ints(rng *r, ivm_value *v)
{
    for (int c = 0; c < 3; c++)
        v[c] = ivm_value_int((int64_t)rng_below(r, 3) << (c == 1 ? 40 : 0));
    v[3] = ivm_value_int(rng_below(r, 6));
}

/* [#0, #1, #2, -#3]: the output starts with three INT columns of the
 * input (27 bytes, as Nexmark q0's auction, bidder, price), which its
 * runs compare as words; the middle one differs only in a byte those
 * words' first and last do not cover, and -#3 puts each run's rows in
 * reverse. */
static void build_map_lead3(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node m;
    dbsp_expr *e[4] = {col(0), col(1), col(2), op2(DBSP_X_SUB, kint(0), col(3))};
    assert_int_equal(dbsp_plan_map(p, in[0], 4, e, 0, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, out), IVM_OK);
}

static void ref_map_lead3(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[4];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 4), 4);
        v[3] = ivm_value_int(-v[3].u.i);
        zset_add_vals(out, v, 4, 0, now[0].r[i].w);
    }
}

static void test_map_lead_of_three_ints(void **state)
{
    (void)state;
    prop pr = {1, {{4, 0, gen_four_ints}}, false, build_map_lead3, ref_map_lead3, 17};
    batch_rows = 200;
    run_prop(&pr);
    batch_rows = 6;
}

/* A predicate on the first column only: rows are read no further, and
 * pass as they are. */
static void build_filter_first(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node f;
    assert_int_equal(dbsp_plan_filter(p, in[0], op2(DBSP_X_GT, col(0), kint(1)), &f), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, f, out), IVM_OK);
}

static void ref_filter_first(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[4];
        assert_int_equal(zrow_decode(&now[0].r[i], v, 4), 4);
        if (v[0].u.i > 1)
            zset_add_bytes(out, now[0].r[i].b, now[0].r[i].len, now[0].r[i].klen, now[0].r[i].w);
    }
}

static void test_filter_first_column_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_agg}}, false, build_filter_first, ref_filter_first, 15};
    run_prop(&pr);
}

/* ---- shared subexpressions ------------------------------------------------------ */

/* s || k, which every expression below reads several times: a map or
 * filter evaluates it once per row (its memo), the reference evaluates
 * copies of the expressions one by one without sharing. */
static dbsp_expr *sk(void)
{
    return op2(DBSP_X_CONCAT, col(2), col(0));
}

static dbsp_expr *fn(dbsp_fn f, uint32_t n, dbsp_expr *a, dbsp_expr *b)
{
    dbsp_expr *args[2] = {a, b};
    return dbsp_expr_func(f, IVM_TNULL, n, args);
}

#define NSHARED 4
static dbsp_expr *shared_ref[NSHARED + 1];

/* [length(sk) % 3, CASE WHEN v > 2 THEN sk ELSE sk || sk END,
 *  substr(sk, v), (v % 3) + (v % 3)], key the first; then a filter
 *  length(sk) > 1 AND length(sk) < 4 over the input. */
static void shared_exprs(dbsp_expr **e)
{
    e[0] = op2(DBSP_X_MOD, fn(DBSP_FN_LENGTH, 1, sk(), NULL), kint(3));
    dbsp_expr *c[3] = {op2(DBSP_X_GT, col(1), kint(2)), sk(), op2(DBSP_X_CONCAT, sk(), sk())};
    e[1] = dbsp_expr_op(DBSP_X_CASE, IVM_TNULL, 3, c);
    e[2] = fn(DBSP_FN_SUBSTR, 2, sk(), col(1));
    e[3] = op2(DBSP_X_ADD, op2(DBSP_X_MOD, col(1), kint(3)), op2(DBSP_X_MOD, col(1), kint(3)));
    e[4] = op2(DBSP_X_AND, op2(DBSP_X_GT, fn(DBSP_FN_LENGTH, 1, sk(), NULL), kint(1)),
               op2(DBSP_X_LT, fn(DBSP_FN_LENGTH, 1, sk(), NULL), kint(4)));
}

static void build_shared(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_expr *e[NSHARED + 1];
    shared_exprs(e);
    dbsp_node f, m;
    assert_int_equal(dbsp_plan_filter(p, in[0], e[NSHARED], &f), IVM_OK);
    assert_int_equal(dbsp_plan_map(p, f, NSHARED, e, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, out), IVM_OK);
    /* The constructors numbered the shared parts: the plan explains
     * the same expressions, and the copies have no numbers. */
    shared_exprs(shared_ref);
    for (int i = 0; i <= NSHARED; i++)
        assert_non_null(shared_ref[i]);
}

static void ref_shared(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    rt_arena a;
    rt_arena_init(&a);
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[3], o[NSHARED], pass;
        ivm_err err;
        assert_int_equal(zrow_decode(&now[0].r[i], v, 3), 3);
        assert_int_equal(dbsp_expr_eval(shared_ref[NSHARED], v, &a, &pass, &err), IVM_OK);
        if (dbsp_value_truth(&pass) != 1)
            continue;
        for (int k = 0; k < NSHARED; k++)
            assert_int_equal(dbsp_expr_eval(shared_ref[k], v, &a, &o[k], &err), IVM_OK);
        zset_add_vals(out, o, NSHARED, 1, now[0].r[i].w);
    }
    rt_arena_fini(&a);
}

static void test_map_filter_shared_subexpressions_match_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_shared, ref_shared, 13};
    run_prop(&pr);
    for (int i = 0; i <= NSHARED; i++)
        dbsp_expr_free(shared_ref[i]);
}

/* ---- fused chains ------------------------------------------------------------------ */

static dbsp_expr *ktext(const char *t)
{
    ivm_value v = ivm_value_text(t, (uint32_t)strlen(t));
    return dbsp_expr_const(&v);
}

/* Two branches into one output, fused by dbsp_plan_fuse:
 *   A: map [v, s || k, k] -> filter #0 > 1 -> map [#1, #0 * 2, #2] key 1
 *      -> filter length(#0) < 3
 *   B: map [k, v, s] (moves only, read twice) -> map [s || 'x', v, k] key 1
 *      plus  -> filter v IS NULL -> map [s, v, k] key 1
 * The fused plan must have fewer nodes and compute what the chain does. */
static void build_fused(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node m1, f1, m2, f2, m0, b1, b2, b2m, pb, pall, o;
    dbsp_expr *e1[3] = {col(1), op2(DBSP_X_CONCAT, col(2), col(0)), col(0)};
    assert_int_equal(dbsp_plan_map(p, in[0], 3, e1, 0, &m1), IVM_OK);
    assert_int_equal(dbsp_plan_filter(p, m1, op2(DBSP_X_GT, col(0), kint(1)), &f1), IVM_OK);
    dbsp_expr *e2[3] = {col(1), op2(DBSP_X_MUL, col(0), kint(2)), col(2)};
    assert_int_equal(dbsp_plan_map(p, f1, 3, e2, 1, &m2), IVM_OK);
    assert_int_equal(dbsp_plan_filter(p, m2, op2(DBSP_X_LT, fn(DBSP_FN_LENGTH, 1, col(0), NULL),
                                                 kint(3)), &f2),
                     IVM_OK);
    dbsp_expr *e0[3] = {col(0), col(1), col(2)};
    assert_int_equal(dbsp_plan_map(p, in[0], 3, e0, 0, &m0), IVM_OK);
    dbsp_expr *eb1[3] = {op2(DBSP_X_CONCAT, col(2), ktext("x")), col(1), col(0)};
    assert_int_equal(dbsp_plan_map(p, m0, 3, eb1, 1, &b1), IVM_OK);
    assert_int_equal(dbsp_plan_filter(p, m0, op1(DBSP_X_ISNULL, col(1)), &b2), IVM_OK);
    dbsp_expr *eb2[3] = {col(2), col(1), col(0)};
    assert_int_equal(dbsp_plan_map(p, b2, 3, eb2, 1, &b2m), IVM_OK);
    assert_int_equal(dbsp_plan_plus(p, b1, b2m, &pb), IVM_OK);
    assert_int_equal(dbsp_plan_plus(p, f2, pb, &pall), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, pall, &o), IVM_OK);
    uint32_t before = dbsp_plan_nodes(p);
    dbsp_node remap[32];
    assert_true(before <= 32);
    assert_int_equal(dbsp_plan_fuse(p, remap), IVM_OK);
    /* m1, f1, m2 and m0, b2 go: 5 fewer nodes. */
    assert_int_equal(dbsp_plan_nodes(p), before - 5);
    assert_int_equal(remap[in[0]], in[0]);
    *out = remap[o];
    assert_int_equal(dbsp_plan_kind(p, *out), DBSP_OUTPUT);
}

static void ref_fused(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    for (size_t i = 0; i < now[0].n; i++) {
        ivm_value v[3], o[3];
        char buf[64];
        int64_t w = now[0].r[i].w;
        assert_int_equal(zrow_decode(&now[0].r[i], v, 3), 3);
        const ivm_value *k = &v[0], *x = &v[1], *t = &v[2];
        /* A */
        if (x->type == IVM_TINT && x->u.i > 1 && k->type == IVM_TINT) {
            int n = snprintf(buf, sizeof buf, "%.*s%lld", (int)t->u.s.n, t->u.s.p,
                             (long long)k->u.i);
            if (n < 3) {
                o[0] = ivm_value_text(buf, (uint32_t)n);
                o[1] = ivm_value_int(x->u.i * 2);
                o[2] = *k;
                zset_add_vals(out, o, 3, 1, w);
            }
        }
        /* B1 */
        int n = snprintf(buf, sizeof buf, "%.*sx", (int)t->u.s.n, t->u.s.p);
        o[0] = ivm_value_text(buf, (uint32_t)n);
        o[1] = *x;
        o[2] = *k;
        zset_add_vals(out, o, 3, 1, w);
        /* B2 */
        if (x->type == IVM_TNULL) {
            o[0] = *t;
            o[1] = *x;
            o[2] = *k;
            zset_add_vals(out, o, 3, 1, w);
        }
    }
}

static void test_fused_chains_match_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_fused, ref_fused, 14};
    run_prop(&pr);
}

/* ---- plus, negate, exchange, integrate, z1 ----------------------------------------- */

static void build_plus(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node s;
    assert_int_equal(dbsp_plan_plus(p, in[0], in[1], &s), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, s, out), IVM_OK);
}

static void ref_plus(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    zset_add_zset(out, &now[0], 1);
    zset_add_zset(out, &now[1], 1);
}

static void test_plus_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {2, {{3, 1, gen_kvs}, {3, 1, gen_kvs}}, false, build_plus, ref_plus, 13};
    run_prop(&pr);
}

static void build_negate(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node s;
    assert_int_equal(dbsp_plan_negate(p, in[0], &s), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, s, out), IVM_OK);
}

static void ref_negate(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    zset_add_zset(out, &now[0], -1);
}

static void test_negate_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_negate, ref_negate, 14};
    run_prop(&pr);
}

static void build_exchange(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, x, out), IVM_OK);
}

static void ref_identity(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    zset_add_zset(out, &now[0], 1);
}

static void test_exchange_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_exchange, ref_identity, 15};
    run_prop(&pr);
}

static void build_integrate(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x;
    assert_int_equal(dbsp_plan_integrate(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, x, out), IVM_OK);
}

static void test_integrate_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_integrate, ref_identity, 16};
    run_prop(&pr);
}

static void build_z1(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x;
    assert_int_equal(dbsp_plan_z1(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, x, out), IVM_OK);
}

static void ref_z1(const zset *now, const zset *prev, zset *out)
{
    (void)now;
    zset_add_zset(out, &prev[0], 1);
}

static void test_z1_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_z1, ref_z1, 17};
    run_prop(&pr);
}

/* ---- distinct ------------------------------------------------------------------------ */

static void build_distinct(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x, i, d;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_distinct(p, i, &d), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, d, out), IVM_OK);
}

static void ref_distinct_of(const zset *z, zset *out)
{
    for (size_t i = 0; i < z->n; i++)
        if (z->r[i].w > 0)
            zset_add_bytes(out, z->r[i].b, z->r[i].len, z->r[i].klen, 1);
}

static void ref_distinct(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_distinct_of(&now[0], out);
}

/* Free weights: integrals go negative, which distinct must treat as absent. */
static void test_distinct_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{3, 1, gen_kvs}}, false, build_distinct, ref_distinct, 18};
    run_prop(&pr);
}

/* All columns in the key: the walk over values degenerates to one each. */
static void test_distinct_whole_row_key(void **state)
{
    (void)state;
    prop pr = {1, {{3, 3, gen_kvs}}, true, build_distinct, ref_distinct, 19};
    run_prop(&pr);
}

/* ---- join --------------------------------------------------------------------------- */

static void build_join(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node xa, xb, ia, ib, j;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &xa), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xa, &ia), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, in[1], &xb), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xb, &ib), IVM_OK);
    assert_int_equal(dbsp_plan_join(p, ia, ib, &j), IVM_OK);
    assert_int_equal(dbsp_plan_ncols(p, j), 4);
    assert_int_equal(dbsp_plan_nkey(p, j), 1);
    assert_int_equal(dbsp_plan_output(p, j, out), IVM_OK);
}

/* Nested loops over the integrals; keys match by bytes. */
static void ref_join_of(const zset *a, const zset *b, zset *out)
{
    for (size_t i = 0; i < a->n; i++)
        for (size_t k = 0; k < b->n; k++) {
            const zrow *x = &a->r[i], *y = &b->r[k];
            if (x->klen != y->klen || memcmp(x->b, y->b, x->klen) != 0)
                continue;
            uint8_t buf[512];
            size_t len = x->len + (y->len - y->klen);
            memcpy(buf, x->b, x->len);
            memcpy(buf + x->len, y->b + y->klen, y->len - y->klen);
            zset_add_bytes(out, buf, len, x->klen, x->w * y->w);
        }
}

static void ref_join(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_join_of(&now[0], &now[1], out);
}

static void test_join_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {2, {{2, 1, gen_join_a}, {3, 1, gen_join_b}}, false, build_join, ref_join, 20};
    run_prop(&pr);
}

static void build_self_join(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x, i, j;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_join(p, i, i, &j), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, j, out), IVM_OK);
}

static void ref_self_join(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_join_of(&now[0], &now[0], out);
}

/* The join of now[0] and now[1] by a merge over their keys (both are
 * consolidated, so sorted by (key, value)): linear, for large inputs. */
static void ref_join_merge(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    const zset *a = &now[0], *b = &now[1];
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        const zrow *x = &a->r[i];
        while (j < b->n && spine_row_cmp(b->r[j].b, b->r[j].klen, x->b, x->klen) < 0)
            j++;
        for (size_t k = j; k < b->n && spine_row_cmp(b->r[k].b, b->r[k].klen, x->b, x->klen) == 0;
             k++) {
            const zrow *y = &b->r[k];
            uint8_t buf[512];
            size_t len = x->len + (y->len - y->klen);
            memcpy(buf, x->b, x->len);
            memcpy(buf + x->len, y->b + y->klen, y->len - y->klen);
            zset_add_bytes(out, buf, len, x->klen, x->w * y->w);
        }
    }
}

/* (k INT 0..499, a TEXT) and (k INT 0..499, b INT 0..2, c REAL): keys
 * spread wide, so that a step of a few rows probes a few keys of a large
 * integral. */
static void gen_wide_a(rng *r, ivm_value *v)
{
    gen_join_a(r, v);
    v[0] = ivm_value_int(rng_below(r, 500));
}

static void gen_wide_b(rng *r, ivm_value *v)
{
    gen_join_b(r, v);
    v[0] = ivm_value_int(rng_below(r, 500));
}

/* Both sides are the same node: dA and dB are one delta. */
static void test_join_self_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{2, 1, gen_join_a}}, true, build_self_join, ref_self_join, 21};
    run_prop(&pr);
}

/* (k INT 0..1, a TEXT) and (k INT 0..1, b INT 0..3, c REAL): two keys,
 * so most steps change both sides on the same key, where the join merges
 * the values of dA with I(A)'s and pairs each with dB's and I(B)'s. */
static void gen_join_dense_a(rng *r, ivm_value *v)
{
    v[0] = ivm_value_int(rng_below(r, 2));
    const char *t = texts[rng_below(r, 4)];
    v[1] = ivm_value_text(t, (uint32_t)strlen(t));
}

static void gen_join_dense_b(rng *r, ivm_value *v)
{
    v[0] = ivm_value_int(rng_below(r, 2));
    v[1] = ivm_value_int(rng_below(r, 4));
    v[2] = ivm_value_real(0.5 * rng_below(r, 2));
}

static void test_join_both_sides_one_key_match_recomputation(void **state)
{
    (void)state;
    prop pr = {2, {{2, 1, gen_join_dense_a}, {3, 1, gen_join_dense_b}}, false, build_join,
               ref_join, 22};
    run_prop(&pr);
    prop ms = {2, {{2, 1, gen_join_dense_a}, {3, 1, gen_join_dense_b}}, true, build_join,
               ref_join, 23};
    run_prop(&ms);
}

/* A self join of free weights: rows cancel within a step's delta. */
static void test_join_self_free_weights_match_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{2, 1, gen_join_dense_a}}, false, build_self_join, ref_self_join, 24};
    run_prop(&pr);
}

/* A map fused into the join it reads (dbsp_plan_fuse): join (k, a, b, c)
 * -> filter b > 0 -> map [k, a, c * 2] (leading columns kept: rows in
 * runs), or -> map [a || 'x', k, c * 2] key 1 (re-keyed: sorted whole). */
static int jm_shape;

static void build_join_map(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node xa, xb, ia, ib, j, f, m, o;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &xa), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xa, &ia), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, in[1], &xb), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xb, &ib), IVM_OK);
    assert_int_equal(dbsp_plan_join(p, ia, ib, &j), IVM_OK);
    assert_int_equal(dbsp_plan_filter(p, j, op2(DBSP_X_GT, col(2), kint(0)), &f), IVM_OK);
    if (jm_shape == 0) {
        dbsp_expr *ex[3] = {col(0), col(1), op2(DBSP_X_MUL, col(3), kint(2))};
        assert_int_equal(dbsp_plan_map(p, f, 3, ex, 1, &m), IVM_OK);
    } else {
        dbsp_expr *ex[3] = {op2(DBSP_X_CONCAT, col(1), ktext("x")), col(0),
                            op2(DBSP_X_MUL, col(3), kint(2))};
        assert_int_equal(dbsp_plan_map(p, f, 3, ex, 1, &m), IVM_OK);
    }
    assert_int_equal(dbsp_plan_output(p, m, &o), IVM_OK);
    uint32_t before = dbsp_plan_nodes(p);
    dbsp_node remap[32];
    assert_true(before <= 32);
    assert_int_equal(dbsp_plan_fuse(p, remap), IVM_OK);
    /* The filter and the join go; the map is the join now. */
    assert_int_equal(dbsp_plan_nodes(p), before - 2);
    assert_int_equal(dbsp_plan_kind(p, remap[m]), DBSP_JOIN);
    assert_int_equal(dbsp_plan_ncols(p, remap[m]), 3);
    assert_int_equal(dbsp_plan_sharded(p, remap[m]), jm_shape == 0);
    *out = remap[o];
}

static void ref_join_map(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    zset j;
    zset_init(&j);
    ref_join_of(&now[0], &now[1], &j);
    zset_consolidate(&j);
    for (size_t r = 0; r < j.n; r++) {
        ivm_value v[4], o[3];
        char buf[16];
        assert_int_equal(zrow_decode(&j.r[r], v, 4), 4);
        if (v[2].u.i <= 0)
            continue;
        ivm_value c2 = ivm_value_real(v[3].u.r * 2);
        if (jm_shape == 0) {
            o[0] = v[0];
            o[1] = v[1];
        } else {
            int n = snprintf(buf, sizeof buf, "%.*sx", (int)v[1].u.s.n, v[1].u.s.p);
            o[0] = ivm_value_text(buf, (uint32_t)n);
            o[1] = v[0];
        }
        o[2] = c2;
        zset_add_vals(out, o, 3, 1, j.r[r].w);
    }
    zset_free(&j);
}

static void test_join_fused_map_matches_recomputation(void **state)
{
    (void)state;
    for (jm_shape = 0; jm_shape < 2; jm_shape++) {
        prop pr = {2, {{2, 1, gen_join_a}, {3, 1, gen_join_b}}, false, build_join_map,
                   ref_join_map, 25 + (uint64_t)jm_shape};
        run_prop(&pr);
        prop ms = {2, {{2, 1, gen_join_dense_a}, {3, 1, gen_join_dense_b}}, true,
                   build_join_map, ref_join_map, 27 + (uint64_t)jm_shape};
        run_prop(&ms);
    }
}

/* ---- aggregate ------------------------------------------------------------------------- */

static const dbsp_agg agg_list[] = {
    {.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT, .col = 0},
    {.kind = DBSP_AGG_COUNT, .type = IVM_TINT, .col = 1},
    {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 1},
    {.kind = DBSP_AGG_AVG, .type = IVM_TREAL, .col = 1},
    {.kind = DBSP_AGG_MIN, .type = IVM_TINT, .col = 1},
    {.kind = DBSP_AGG_MAX, .type = IVM_TINT, .col = 1},
    {.kind = DBSP_AGG_SUM, .type = IVM_TREAL, .col = 2},
    {.kind = DBSP_AGG_AVG, .type = IVM_TREAL, .col = 2},
    {.kind = DBSP_AGG_MIN, .type = IVM_TREAL, .col = 2},
    {.kind = DBSP_AGG_MAX, .type = IVM_TTEXT, .col = 3},
    {.kind = DBSP_AGG_MIN, .type = IVM_TTEXT, .col = 3},
    {.kind = DBSP_AGG_COUNT, .type = IVM_TINT, .col = 3},
    {.kind = DBSP_AGG_MAX, .type = IVM_TINT, .col = 0},
};
#define NAGGS (sizeof agg_list / sizeof agg_list[0])

static void build_aggregate(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x, i, a;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(p, i, NAGGS, agg_list, &a), IVM_OK);
    assert_int_equal(dbsp_plan_ncols(p, a), dbsp_plan_nkey(p, i) + NAGGS);
    assert_int_equal(dbsp_plan_output(p, a, out), IVM_OK);
}

/* The reference's value order: NULL, numbers, text by bytes then length. */
static int ref_cmp(const ivm_value *a, const ivm_value *b)
{
    if (a->type == IVM_TTEXT && b->type == IVM_TTEXT) {
        uint32_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        return c ? c : (int)a->u.s.n - (int)b->u.s.n;
    }
    double x = a->type == IVM_TINT ? (double)a->u.i : a->u.r;
    double y = b->type == IVM_TINT ? (double)b->u.i : b->u.r;
    return (x > y) - (x < y);
}

/* One group's rows [lo, hi) of z (all with the same key), or none. */
static void ref_group(const zset *z, size_t lo, size_t hi, uint32_t nkey, zset *out)
{
    ivm_value key[4], res[NAGGS], v[4];
    if (lo < hi) {
        assert_int_equal(zrow_decode(&z->r[lo], key, 4), 4);
    }
    for (size_t k = 0; k < NAGGS; k++) {
        const dbsp_agg *g = &agg_list[k];
        int64_t count = 0, isum = 0;
        double rsum = 0;
        bool real = false, have = false;
        ivm_value best = ivm_value_null();
        for (size_t i = lo; i < hi; i++) {
            assert_int_equal(zrow_decode(&z->r[i], v, 4), 4);
            int64_t w = z->r[i].w;
            if (g->kind == DBSP_AGG_COUNT_STAR) {
                count += w;
                continue;
            }
            const ivm_value *x = &v[g->col];
            if (x->type == IVM_TNULL)
                continue;
            count += w;
            if (x->type == IVM_TINT)
                isum += w * x->u.i;
            if (x->type == IVM_TREAL) {
                rsum += (double)w * x->u.r;
                real = true;
            }
            if (w > 0 && (!have || (g->kind == DBSP_AGG_MIN ? ref_cmp(x, &best) < 0
                                                             : ref_cmp(x, &best) > 0))) {
                best = *x;
                have = true;
            }
        }
        switch (g->kind) {
        case DBSP_AGG_COUNT_STAR:
        case DBSP_AGG_COUNT:
            res[k] = ivm_value_int(count);
            break;
        case DBSP_AGG_SUM:
            res[k] = count == 0 ? ivm_value_null()
                     : real     ? ivm_value_real(rsum + (double)isum)
                                : ivm_value_int(isum);
            break;
        case DBSP_AGG_AVG:
            res[k] = count == 0 ? ivm_value_null()
                                : ivm_value_real((real ? rsum : (double)isum) / (double)count);
            break;
        default:
            res[k] = have ? best : ivm_value_null();
            break;
        }
    }
    ivm_value row[4 + NAGGS];
    for (uint32_t i = 0; i < nkey; i++)
        row[i] = key[i];
    for (size_t k = 0; k < NAGGS; k++)
        row[nkey + k] = res[k];
    zset_add_vals(out, row, nkey + (uint32_t)NAGGS, nkey, 1);
}

/* Calls group(z, lo, hi, nkey, out) for every group of z's rows [lo, hi)
 * sharing a key; with nkey == 0 once, for the one group that exists even
 * when z is empty. */
static void ref_groups(const zset *z, uint32_t nkey,
                       void (*group)(const zset *, size_t, size_t, uint32_t, zset *), zset *out)
{
    if (nkey == 0) {
        group(z, 0, z->n, 0, out);
        return;
    }
    for (size_t lo = 0; lo < z->n;) {
        size_t hi = lo + 1;
        while (hi < z->n && z->r[hi].klen == z->r[lo].klen &&
               memcmp(z->r[hi].b, z->r[lo].b, z->r[lo].klen) == 0)
            hi++;
        group(z, lo, hi, nkey, out);
        lo = hi;
    }
}

static void ref_aggregate(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_groups(&now[0], 1, ref_group, out);
}

static void ref_aggregate_global(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_groups(&now[0], 0, ref_group, out);
}

static void test_aggregate_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_agg}}, true, build_aggregate, ref_aggregate, 22};
    run_prop(&pr);
}

/* nkey == 0: one group, present (COUNT 0, others NULL) even when empty. */
static void test_aggregate_global_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 0, gen_agg}}, true, build_aggregate, ref_aggregate_global, 23};
    run_prop(&pr);
}

/* dbsp_plan_count: counts over the exchanged stream, no integral (its
 * inputs are multisets, as the planner promises). */
static const dbsp_agg count_list[] = {
    {.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT},
    {.kind = DBSP_AGG_COUNT, .type = IVM_TINT, .col = 1},
    {.kind = DBSP_AGG_COUNT, .type = IVM_TINT, .col = 3},
    {.kind = DBSP_AGG_COUNT, .type = IVM_TINT, .flags = DBSP_AGG_F_DISTINCT, .col = 3},
    {.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT, .flags = DBSP_AGG_F_FILTER, .filter_col = 1},
};
#define NCOUNT_AGGS (sizeof count_list / sizeof count_list[0])

static void build_count(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x, a, i;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_count(p, x, NCOUNT_AGGS, count_list, &a), IVM_OK);
    assert_int_equal(dbsp_plan_ncols(p, a), dbsp_plan_nkey(p, x) + NCOUNT_AGGS);
    /* Only aggregates that fold exactly: not MIN. */
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_count(p, x, 1, &agg_list[4], &i), IVM_INVALID);
    assert_int_equal(dbsp_plan_output(p, a, out), IVM_OK);
}

static void ref_count_group(const zset *z, size_t lo, size_t hi, uint32_t nkey, zset *out)
{
    ivm_value key[4], v[4];
    int64_t c[NCOUNT_AGGS] = {0};
    const char *seen[8];
    int64_t seen_w[8];
    uint32_t seen_n[8], nseen = 0;
    if (lo < hi)
        assert_int_equal(zrow_decode(&z->r[lo], key, 4), 4);
    for (size_t i = lo; i < hi; i++) {
        assert_int_equal(zrow_decode(&z->r[i], v, 4), 4);
        int64_t w = z->r[i].w;
        c[0] += w;
        c[1] += v[1].type != IVM_TNULL ? w : 0;
        c[2] += v[3].type != IVM_TNULL ? w : 0;
        c[4] += v[1].type == IVM_TINT && v[1].u.i != 0 ? w : 0;
        if (v[3].type == IVM_TNULL)
            continue;
        uint32_t k = 0;
        while (k < nseen && !(seen_n[k] == v[3].u.s.n &&
                              memcmp(seen[k], v[3].u.s.p, v[3].u.s.n) == 0))
            k++;
        if (k == nseen) {
            assert_true(nseen < 8);
            seen[k] = v[3].u.s.p;
            seen_n[k] = v[3].u.s.n;
            seen_w[k] = 0;
            nseen++;
        }
        seen_w[k] += w;
    }
    for (uint32_t k = 0; k < nseen; k++)
        c[3] += seen_w[k] > 0;
    if (nkey > 0 && c[0] <= 0)
        return; /* a group without rows */
    ivm_value row[4 + NCOUNT_AGGS];
    for (uint32_t i = 0; i < nkey; i++)
        row[i] = key[i];
    for (size_t k = 0; k < NCOUNT_AGGS; k++)
        row[nkey + k] = ivm_value_int(c[k]);
    zset_add_vals(out, row, nkey + (uint32_t)NCOUNT_AGGS, nkey, 1);
}

static void ref_count(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_groups(&now[0], 1, ref_count_group, out);
}

static void ref_count_global(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_groups(&now[0], 0, ref_count_group, out);
}

static void test_count_without_integral_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_agg}}, true, build_count, ref_count, 26};
    run_prop(&pr);
    prop gl = {1, {{4, 0, gen_agg}}, true, build_count, ref_count_global, 27};
    run_prop(&gl);
}

/* dbsp_plan_count with SUM, TOTAL and AVG (dbsp_agg_folds_exactly): INT,
 * REAL and text summands, FILTER, over (g, x INT, y REAL, t TEXT) whose
 * REALs are tenths, so that a sum's last bits depend on the order of its
 * rows.  The node without an integral and the one with it must give the
 * same bytes at every step: their difference stays empty. */
static const char *const sum_texts[] = {"3", "2.5", "x", "-7", "0.1"};

static void gen_sum(rng *r, ivm_value *v)
{
    gen_group_row(r, v, 0.1, 3, 4, sum_texts);
}

static const dbsp_agg sum_list[] = {
    {.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT},
    {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 1},
    {.kind = DBSP_AGG_SUM, .type = IVM_TREAL, .col = 2},
    {.kind = DBSP_AGG_TOTAL, .type = IVM_TREAL, .col = 2},
    {.kind = DBSP_AGG_AVG, .type = IVM_TREAL, .col = 2},
    {.kind = DBSP_AGG_SUM, .type = IVM_TREAL, .col = 3},
    {.kind = DBSP_AGG_AVG, .type = IVM_TREAL, .col = 3},
    {.kind = DBSP_AGG_SUM, .type = IVM_TREAL, .flags = DBSP_AGG_F_FILTER, .col = 2,
     .filter_col = 1},
    {.kind = DBSP_AGG_COUNT, .type = IVM_TINT, .flags = DBSP_AGG_F_DISTINCT, .col = 3},
    {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 0},
};
#define NSUM_AGGS (sizeof sum_list / sizeof sum_list[0])

static void build_sum_both(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x, i, a, b, nb, d;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_count(p, x, NSUM_AGGS, sum_list, &a), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(p, i, NSUM_AGGS, sum_list, &b), IVM_OK);
    assert_int_equal(dbsp_plan_negate(p, b, &nb), IVM_OK);
    assert_int_equal(dbsp_plan_plus(p, a, nb, &d), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, d, out), IVM_OK);
}

static void ref_empty(const zset *now, const zset *prev, zset *out)
{
    (void)now;
    (void)prev;
    (void)out;
}

static void test_sum_without_integral_matches_integral(void **state)
{
    (void)state;
    for (size_t k = 0; k < NSUM_AGGS; k++)
        assert_true(dbsp_agg_folds_exactly(&sum_list[k]));
    static const dbsp_agg no[] = {
        {.kind = DBSP_AGG_MIN, .type = IVM_TINT, .col = 1},
        {.kind = DBSP_AGG_MAX, .type = IVM_TINT, .col = 1},
        {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .flags = DBSP_AGG_F_DISTINCT, .col = 1},
        {.kind = DBSP_AGG_AVG, .type = IVM_TREAL, .flags = DBSP_AGG_F_DISTINCT, .col = 2},
        {.kind = DBSP_AGG_GROUP_CONCAT, .type = IVM_TTEXT, .col = 3},
    };
    for (size_t k = 0; k < sizeof no / sizeof no[0]; k++)
        assert_false(dbsp_agg_folds_exactly(&no[k]));
    prop pr = {1, {{4, 1, gen_sum}}, true, build_sum_both, ref_empty, 28};
    run_prop(&pr);
    prop gl = {1, {{4, 0, gen_sum}}, true, build_sum_both, ref_empty, 29};
    run_prop(&gl);
}

/* DISTINCT, FILTER, TOTAL and GROUP_CONCAT over (k INT, v INT, r REAL, s
 * TEXT) keyed by k: a FILTER reads a column's truth, a separator a text
 * column. */
static const dbsp_agg agg2_list[] = {
    {DBSP_AGG_COUNT, IVM_TINT, 1, DBSP_AGG_F_DISTINCT, 0, 0},
    {DBSP_AGG_SUM, IVM_TINT, 1, DBSP_AGG_F_DISTINCT, 0, 0},
    {DBSP_AGG_TOTAL, IVM_TREAL, 2, 0, 0, 0},
    {DBSP_AGG_AVG, IVM_TREAL, 2, DBSP_AGG_F_DISTINCT, 0, 0},
    {DBSP_AGG_GROUP_CONCAT, IVM_TTEXT, 3, 0, 0, 0},
    {DBSP_AGG_GROUP_CONCAT, IVM_TTEXT, 1, DBSP_AGG_F_SEP, 0, 3},
    {DBSP_AGG_GROUP_CONCAT, IVM_TTEXT, 2, DBSP_AGG_F_DISTINCT, 0, 0},
    {DBSP_AGG_COUNT_STAR, IVM_TINT, 0, DBSP_AGG_F_FILTER, 1, 0},
    {DBSP_AGG_SUM, IVM_TINT, 1, DBSP_AGG_F_FILTER, 2, 0},
    {DBSP_AGG_MIN, IVM_TREAL, 2, DBSP_AGG_F_DISTINCT | DBSP_AGG_F_FILTER, 3, 0},
    {DBSP_AGG_MAX, IVM_TTEXT, 3, DBSP_AGG_F_FILTER, 1, 0},
    {DBSP_AGG_TOTAL, IVM_TREAL, 1, DBSP_AGG_F_DISTINCT | DBSP_AGG_F_FILTER, 2, 0},
};
#define NAGGS2 (sizeof agg2_list / sizeof agg2_list[0])

static void build_aggregate2(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x, i, a;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(p, i, NAGGS2, agg2_list, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, a, out), IVM_OK);
}

/* The reference's truth: a number other than 0 (texts here are not numbers). */
static bool ref_true(const ivm_value *v)
{
    return (v->type == IVM_TINT && v->u.i != 0) || (v->type == IVM_TREAL && v->u.r != 0.0);
}

typedef struct ref_item {
    ivm_value v, sep;
    int64_t w;
} ref_item;

static int ref_item_cmp(const void *pa, const void *pb)
{
    const ref_item *a = pa, *b = pb;
    int c = ref_cmp(&a->v, &b->v);
    if (c != 0)
        return c;
    return ref_cmp(&a->sep, &b->sep);
}

/* One group's aggregates, computed the slow way: collect the present
 * values, sort them, merge equal ones. */
static void ref_group2(const zset *z, size_t lo, size_t hi, zset *out)
{
    ivm_value key[4], res[NAGGS2], v[4];
    static char texts_out[NAGGS2][512];
    if (lo < hi)
        assert_int_equal(zrow_decode(&z->r[lo], key, 4), 4);
    for (size_t k = 0; k < NAGGS2; k++) {
        const dbsp_agg *g = &agg2_list[k];
        ref_item items[256];
        size_t n = 0;
        int64_t count_star = 0;
        for (size_t i = lo; i < hi; i++) {
            assert_int_equal(zrow_decode(&z->r[i], v, 4), 4);
            if ((g->flags & DBSP_AGG_F_FILTER) && !ref_true(&v[g->filter_col]))
                continue;
            count_star += z->r[i].w;
            if (g->kind == DBSP_AGG_COUNT_STAR || v[g->col].type == IVM_TNULL)
                continue;
            assert_true(n < 256);
            items[n].v = v[g->col];
            items[n].sep = ivm_value_text(",", 1);
            if (g->flags & DBSP_AGG_F_SEP)
                items[n].sep = v[g->sep_col].type == IVM_TNULL ? ivm_value_text("", 0)
                                                               : v[g->sep_col];
            items[n].w = z->r[i].w;
            n++;
        }
        qsort(items, n, sizeof *items, ref_item_cmp);
        /* Merge equal (value, separator) runs. */
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (m > 0 && ref_item_cmp(&items[m - 1], &items[i]) == 0)
                items[m - 1].w += items[i].w;
            else
                items[m++] = items[i];
        }
        int64_t count = 0, isum = 0;
        double rsum = 0;
        bool real = false, any = false;
        size_t tl = 0;
        ivm_value best = ivm_value_null();
        for (size_t i = 0; i < m; i++) {
            int64_t w = items[i].w;
            if (w <= 0)
                continue;
            if (g->flags & DBSP_AGG_F_DISTINCT)
                w = 1;
            count += w;
            const ivm_value *x = &items[i].v;
            if (x->type == IVM_TINT)
                isum += w * x->u.i;
            if (x->type == IVM_TREAL) {
                rsum += (double)w * x->u.r;
                real = true;
            }
            if (!any || (g->kind == DBSP_AGG_MIN ? ref_cmp(x, &best) < 0 : ref_cmp(x, &best) > 0))
                best = *x;
            for (int64_t r = 0; r < w && g->kind == DBSP_AGG_GROUP_CONCAT; r++) {
                char num[64];
                const char *t = num;
                size_t tn;
                if (x->type == IVM_TTEXT) {
                    t = x->u.s.p;
                    tn = x->u.s.n;
                } else if (x->type == IVM_TINT) {
                    tn = (size_t)snprintf(num, sizeof num, "%lld", (long long)x->u.i);
                } else {
                    tn = ivm_format_real(x->u.r, num, sizeof num);
                }
                if (any) {
                    memcpy(texts_out[k] + tl, items[i].sep.u.s.p, items[i].sep.u.s.n);
                    tl += items[i].sep.u.s.n;
                }
                assert_true(tl + tn < sizeof texts_out[k]);
                memcpy(texts_out[k] + tl, t, tn);
                tl += tn;
                any = true;
            }
            any = true;
        }
        switch (g->kind) {
        case DBSP_AGG_COUNT_STAR:
            res[k] = ivm_value_int(count_star);
            break;
        case DBSP_AGG_COUNT:
            res[k] = ivm_value_int(count);
            break;
        case DBSP_AGG_SUM:
            res[k] = count == 0 ? ivm_value_null()
                     : real     ? ivm_value_real(rsum + (double)isum)
                                : ivm_value_int(isum);
            break;
        case DBSP_AGG_TOTAL:
            res[k] = ivm_value_real(rsum + (double)isum);
            break;
        case DBSP_AGG_AVG:
            res[k] = count == 0 ? ivm_value_null()
                                : ivm_value_real((real ? rsum : (double)isum) / (double)count);
            break;
        case DBSP_AGG_GROUP_CONCAT:
            res[k] = count == 0 ? ivm_value_null() : ivm_value_text(texts_out[k], (uint32_t)tl);
            break;
        default:
            res[k] = count == 0 ? ivm_value_null() : best;
            break;
        }
    }
    ivm_value row[1 + NAGGS2];
    row[0] = key[0];
    for (size_t k = 0; k < NAGGS2; k++)
        row[1 + k] = res[k];
    zset_add_vals(out, row, 1 + (uint32_t)NAGGS2, 1, 1);
}

static void ref_aggregate2(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    const zset *z = &now[0];
    for (size_t lo = 0; lo < z->n;) {
        size_t hi = lo + 1;
        while (hi < z->n && z->r[hi].klen == z->r[lo].klen &&
               memcmp(z->r[hi].b, z->r[lo].b, z->r[lo].klen) == 0)
            hi++;
        ref_group2(z, lo, hi, out);
        lo = hi;
    }
}

static void test_aggregate_distinct_filter_concat_match_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_agg}}, true, build_aggregate2, ref_aggregate2, 25};
    run_prop(&pr);
}

/* ---- aggregate states: folds against recomputation ------------------------------------ */

/* (g INT, i INT -3..3 or NULL, x INT -3..3 or REAL in halves -2..2 or NULL,
 * f INT 0..2 or NULL): most rows fall in groups 0 and 1, the rest spread
 * over 40 small groups, so that big groups see many insertions and
 * deletions and small ones appear and vanish.  x mixes INT and REAL values
 * in one group (1 and 1.0 are equal values of two classes); halves keep
 * every sum exact in any order. */
static void gen_mix(rng *r, ivm_value *v)
{
    uint32_t g = rng_below(r, 10);
    v[0] = ivm_value_int(g < 5 ? 0 : g < 7 ? 1 : 2 + rng_below(r, 40));
    v[1] = rng_below(r, 7) == 0 ? ivm_value_null() : ivm_value_int((int64_t)rng_below(r, 7) - 3);
    uint32_t k = rng_below(r, 8);
    v[2] = k == 0   ? ivm_value_null()
           : k < 4 ? ivm_value_real(0.5 * ((double)rng_below(r, 9) - 4))
                   : ivm_value_int((int64_t)rng_below(r, 7) - 3);
    v[3] = rng_below(r, 9) == 0 ? ivm_value_null() : ivm_value_int(rng_below(r, 3));
}

#define F_ DBSP_AGG_F_FILTER
#define D_ DBSP_AGG_F_DISTINCT
static const dbsp_agg agg3_list[] = {
    {DBSP_AGG_COUNT_STAR, IVM_TINT, 0, 0, 0, 0},
    {DBSP_AGG_COUNT_STAR, IVM_TINT, 0, F_, 3, 0},
    {DBSP_AGG_COUNT, IVM_TINT, 1, 0, 0, 0},
    {DBSP_AGG_SUM, IVM_TINT, 1, 0, 0, 0},
    {DBSP_AGG_AVG, IVM_TREAL, 1, 0, 0, 0},
    {DBSP_AGG_TOTAL, IVM_TREAL, 1, 0, 0, 0},
    {DBSP_AGG_SUM, IVM_TINT, 1, F_, 3, 0},
    {DBSP_AGG_MIN, IVM_TINT, 1, 0, 0, 0},
    {DBSP_AGG_MAX, IVM_TINT, 1, 0, 0, 0},
    {DBSP_AGG_MIN, IVM_TREAL, 2, 0, 0, 0},
    {DBSP_AGG_MAX, IVM_TREAL, 2, F_, 3, 0},
    {DBSP_AGG_SUM, IVM_TREAL, 2, 0, 0, 0},
    {DBSP_AGG_AVG, IVM_TREAL, 2, F_, 3, 0},
    {DBSP_AGG_COUNT, IVM_TINT, 1, D_, 0, 0},
    {DBSP_AGG_SUM, IVM_TINT, 1, D_ | F_, 3, 0},
    {DBSP_AGG_COUNT, IVM_TINT, 1, D_ | F_, 3, 0},
    {DBSP_AGG_COUNT, IVM_TINT, 2, D_, 0, 0},
    {DBSP_AGG_SUM, IVM_TREAL, 2, D_, 0, 0},
    {DBSP_AGG_AVG, IVM_TREAL, 1, D_, 0, 0},
    {DBSP_AGG_TOTAL, IVM_TREAL, 2, D_ | F_, 3, 0},
    {DBSP_AGG_MIN, IVM_TREAL, 2, D_, 0, 0},
    {DBSP_AGG_MAX, IVM_TINT, 1, D_ | F_, 3, 0},
    {DBSP_AGG_MAX, IVM_TREAL, 2, D_, 0, 0},
};
#undef F_
#undef D_
#define NAGGS3 (sizeof agg3_list / sizeof agg3_list[0])

static void build_aggregate3(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x, i, a;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(p, i, NAGGS3, agg3_list, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, a, out), IVM_OK);
}

/* ref_cmp, then INT before REAL among equal values: the order in which the
 * operator picks the one value of a DISTINCT run. */
static int ref_item3_cmp(const void *pa, const void *pb)
{
    const ref_item *a = pa, *b = pb;
    int c = ref_cmp(&a->v, &b->v);
    return c != 0 ? c : (int)a->v.type - (int)b->v.type;
}

/* One group's aggregates of agg3_list from its rows z[lo, hi) (consolidated,
 * in row order).  Without DISTINCT a row counts as often as its weight and
 * MIN/MAX take the first strictly better value of a row of positive weight;
 * with DISTINCT equal values (1 and 1.0) merge into one whose weight is the
 * sum of theirs, present when positive, represented by its first (INT). */
static void ref_group3(const zset *z, size_t lo, size_t hi, uint32_t nkey, zset *out)
{
    ivm_value key[4], res[NAGGS3], v[4];
    if (lo < hi)
        assert_int_equal(zrow_decode(&z->r[lo], key, 4), 4);
    for (size_t k = 0; k < NAGGS3; k++) {
        const dbsp_agg *g = &agg3_list[k];
        static ref_item items[4096];
        size_t n = 0;
        int64_t count = 0, isum = 0;
        double rsum = 0;
        bool real = false, have = false;
        ivm_value best = ivm_value_null();
        for (size_t i = lo; i < hi; i++) {
            assert_int_equal(zrow_decode(&z->r[i], v, 4), 4);
            int64_t w = z->r[i].w;
            if ((g->flags & DBSP_AGG_F_FILTER) && !ref_true(&v[g->filter_col]))
                continue;
            if (g->kind == DBSP_AGG_COUNT_STAR) {
                count += w;
                continue;
            }
            const ivm_value *x = &v[g->col];
            if (x->type == IVM_TNULL)
                continue;
            if (g->flags & DBSP_AGG_F_DISTINCT) {
                assert_true(n < 4096);
                items[n++] = (ref_item){*x, ivm_value_null(), w};
                continue;
            }
            count += w;
            if (x->type == IVM_TINT)
                isum += w * x->u.i;
            else {
                rsum += (double)w * x->u.r;
                real = true;
            }
            if (w > 0 && (!have || (g->kind == DBSP_AGG_MIN ? ref_cmp(x, &best) < 0
                                                             : ref_cmp(x, &best) > 0))) {
                best = *x;
                have = true;
            }
        }
        if (g->flags & DBSP_AGG_F_DISTINCT) {
            qsort(items, n, sizeof *items, ref_item3_cmp);
            for (size_t i = 0; i < n;) {
                size_t j = i;
                int64_t w = 0;
                for (; j < n && ref_cmp(&items[j].v, &items[i].v) == 0; j++)
                    w += items[j].w;
                const ivm_value *x = &items[i].v;
                i = j;
                if (w <= 0)
                    continue;
                count++;
                if (x->type == IVM_TINT)
                    isum += x->u.i;
                else {
                    rsum += x->u.r;
                    real = true;
                }
                if (!have || g->kind == DBSP_AGG_MAX)
                    best = *x;
                have = true;
            }
        }
        switch (g->kind) {
        case DBSP_AGG_COUNT_STAR:
        case DBSP_AGG_COUNT:
            res[k] = ivm_value_int(count);
            break;
        case DBSP_AGG_SUM:
            res[k] = count == 0 ? ivm_value_null()
                     : real     ? ivm_value_real(rsum + (double)isum)
                                : ivm_value_int(isum);
            break;
        case DBSP_AGG_TOTAL:
            res[k] = ivm_value_real(rsum + (double)isum);
            break;
        case DBSP_AGG_AVG:
            res[k] = count == 0 ? ivm_value_null()
                                : ivm_value_real((rsum + (double)isum) / (double)count);
            break;
        default:
            res[k] = have ? best : ivm_value_null();
            break;
        }
    }
    ivm_value row[1 + NAGGS3];
    for (uint32_t i = 0; i < nkey; i++)
        row[i] = key[i];
    for (size_t k = 0; k < NAGGS3; k++)
        row[nkey + k] = res[k];
    zset_add_vals(out, row, nkey + (uint32_t)NAGGS3, nkey, 1);
}

static void ref_aggregate3(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_groups(&now[0], 1, ref_group3, out);
}

static void ref_aggregate3_global(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_groups(&now[0], 0, ref_group3, out);
}

/* Insertions and deletions of present rows into a few big groups and many
 * small ones: the folds (COUNT, INT sums, MIN/MAX insertions, DISTINCT
 * multiplicities crossing zero) and the recomputes (REAL summands, MIN/MAX
 * deletions, 1 against 1.0, groups that vanish) must give the rows a
 * recomputation gives, step after step. */
static void test_aggregate_state_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_mix}}, true, build_aggregate3, ref_aggregate3, 41};
    run_prop(&pr);
}

/* gen_mix's rows over 1,000 groups. */
static void gen_mix_wide(rng *r, ivm_value *v)
{
    gen_mix(r, v);
    v[0] = ivm_value_int(rng_below(r, 1000));
}

/* A first step of 2,000 rows per input, then steps of a few rows
 * (deletions of present rows among them): small deltas probing large
 * integrals and aggregate states, which the join and the aggregate read
 * as points (spine_cursor_expect_exact: a few keys, far apart), must give
 * what recomputation gives. */
static void test_small_steps_into_large_state_match_recomputation(void **state)
{
    (void)state;
    first_rows = 2000;
    batch_rows = 4;
    prop j = {2, {{2, 1, gen_wide_a}, {3, 1, gen_wide_b}}, true, build_join, ref_join_merge, 24};
    run_prop(&j);
    prop a = {1, {{4, 1, gen_mix_wide}}, true, build_aggregate3, ref_aggregate3, 46};
    run_prop(&a);
    first_rows = 0;
    batch_rows = 6;
}

/* DISTINCT values that come out of order into big groups: (g, y, x, f)
 * keyed by g, where y (0..9) leads the rows, so that a group's x values
 * are not in order in dx, x is an INT whose bytes differ anywhere (small
 * ones of both signs, and values past 2^40) or a text, long ones sharing
 * their first 16 bytes and more; f (0..2) is a FILTER.  The aggregates are
 * all folds (no REAL, no MIN or MAX), so that no recompute hides the
 * order in which the touched group's values were applied: with steps of
 * up to 600 rows, the radix sort (MULT_RADIX_MIN) puts them in order. */
static const char *const dsort_texts[] = {
    "abcdefghijklmnop", "abcdefghijklmnopq", "abcdefghijklmnopqr",
    "abcdefghijklmnopqrstuvwxyz-1", "abcdefghijklmnopqrstuvwxyz-2", "abcdefghijklmnopqrstuvwxyz",
    "abcdefghijklmno", "x", "xy", ""};

static void gen_dsort(rng *r, ivm_value *v)
{
    v[0] = ivm_value_int(rng_below(r, 3));
    v[1] = ivm_value_int(rng_below(r, 10));
    uint32_t k = rng_below(r, 4);
    if (k == 0) {
        const char *t = dsort_texts[rng_below(r, 10)];
        v[2] = ivm_value_text(t, (uint32_t)strlen(t));
    } else if (k == 1) {
        v[2] = ivm_value_int(((int64_t)1 << 40) + 257 * (int64_t)rng_below(r, 40));
    } else {
        v[2] = ivm_value_int((int64_t)rng_below(r, 601) - 300);
    }
    v[3] = ivm_value_int(rng_below(r, 3));
}

static const dbsp_agg dsort_aggs[] = {
    {DBSP_AGG_COUNT_STAR, IVM_TINT, 0, 0, 0, 0},
    {DBSP_AGG_COUNT, IVM_TINT, 2, DBSP_AGG_F_DISTINCT, 0, 0},
    {DBSP_AGG_COUNT, IVM_TINT, 2, DBSP_AGG_F_DISTINCT | DBSP_AGG_F_FILTER, 3, 0},
    {DBSP_AGG_COUNT, IVM_TINT, 1, DBSP_AGG_F_DISTINCT | DBSP_AGG_F_FILTER, 3, 0},
    {DBSP_AGG_SUM, IVM_TINT, 1, DBSP_AGG_F_DISTINCT, 0, 0},
};
#define NDSORT (sizeof dsort_aggs / sizeof dsort_aggs[0])

static void build_dsort(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node x, i, a;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(p, i, NDSORT, dsort_aggs, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, a, out), IVM_OK);
}

static int dsort_val_cmp(const void *a, const void *b)
{
    return dbsp_value_cmp(a, b);
}

/* The distinct values among vals[0 .. n), sorted in place. */
static int64_t distinct_count(ivm_value *vals, size_t n)
{
    qsort(vals, n, sizeof *vals, dsort_val_cmp);
    int64_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += i == 0 || dbsp_value_cmp(&vals[i - 1], &vals[i]) != 0;
    return c;
}

static void ref_group_dsort(const zset *z, size_t lo, size_t hi, uint32_t nkey, zset *out)
{
    (void)nkey;
    size_t n = hi - lo;
    ivm_value *xs = calloc(n + 1, sizeof *xs), *xf = calloc(n + 1, sizeof *xf);
    ivm_value *yf = calloc(n + 1, sizeof *yf), *ys = calloc(n + 1, sizeof *ys);
    assert_true(xs != NULL && xf != NULL && yf != NULL && ys != NULL);
    size_t nx = 0, nxf = 0, nyf = 0, ny = 0;
    int64_t total = 0;
    ivm_value v[4];
    for (size_t r = lo; r < hi; r++) {
        assert_int_equal(zrow_decode(&z->r[r], v, 4), 4);
        assert_true(z->r[r].w > 0);
        total += z->r[r].w;
        xs[nx++] = v[2];
        ys[ny++] = v[1];
        if (v[3].u.i != 0) {
            xf[nxf++] = v[2];
            yf[nyf++] = v[1];
        }
    }
    if (total > 0) {
        ivm_value res[1 + NDSORT];
        res[0] = v[0];
        res[1] = ivm_value_int(total);
        res[2] = ivm_value_int(distinct_count(xs, nx));
        res[3] = ivm_value_int(distinct_count(xf, nxf));
        res[4] = ivm_value_int(distinct_count(yf, nyf));
        int64_t sum = 0;
        distinct_count(ys, ny);
        for (size_t i = 0; i < ny; i++)
            if (i == 0 || ys[i - 1].u.i != ys[i].u.i)
                sum += ys[i].u.i;
        res[5] = ivm_value_int(sum);
        zset_add_vals(out, res, 1 + NDSORT, 1, 1);
    }
    free(xs);
    free(xf);
    free(yf);
    free(ys);
}

static void ref_dsort(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    ref_groups(&now[0], 1, ref_group_dsort, out);
}

static void test_aggregate_distinct_out_of_order_match_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_dsort}}, true, build_dsort, ref_dsort, 47};
    batch_rows = 200;
    run_prop(&pr);
    batch_rows = 6;
}

static void test_aggregate_state_global_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 0, gen_mix}}, true, build_aggregate3, ref_aggregate3_global, 42};
    run_prop(&pr);
}

/* Free weights: rows deleted more often than inserted weigh less than zero
 * (MIN/MAX skip them, a group whose weights sum to zero may still hold
 * rows, a DISTINCT value's multiplicity may go below zero). */
static void test_aggregate_state_free_weights_match_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{4, 1, gen_mix}}, false, build_aggregate3, ref_aggregate3, 43};
    run_prop(&pr);
}

/* 1 and 1.0 are one DISTINCT value, represented by the INT while it is
 * present; MIN and MAX over them take the first row in row order (the INT).
 * The fold must hand over to the recompute wherever the representative
 * changes: a REAL 1.0, then an INT 1 beside it, then the INT gone again. */
static void run_one_value(uint32_t na)
{
    static const dbsp_agg aggs[] = {
        {DBSP_AGG_SUM, IVM_TREAL, 1, DBSP_AGG_F_DISTINCT, 0, 0},
        {DBSP_AGG_COUNT, IVM_TINT, 1, DBSP_AGG_F_DISTINCT, 0, 0},
        {DBSP_AGG_MIN, IVM_TREAL, 1, 0, 0, 0},
        {DBSP_AGG_MAX, IVM_TREAL, 1, 0, 0, 0},
        {DBSP_AGG_SUM, IVM_TREAL, 1, 0, 0, 0},
    };
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in, x, i, a, o;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, in, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(p, i, na, aggs, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, a, &o), IVM_OK);
    /* (row fed, weight, then the expected classes of SUM DISTINCT, MIN, MAX, SUM) */
    static const struct {
        bool real;
        int64_t w;
        ivm_type sum_d, min, max, sum;
        double sum_v;
    } steps[] = {
        {true, 1, IVM_TREAL, IVM_TREAL, IVM_TREAL, IVM_TREAL, 1.0},
        {false, 1, IVM_TINT, IVM_TINT, IVM_TINT, IVM_TREAL, 2.0},
        {false, -1, IVM_TREAL, IVM_TREAL, IVM_TREAL, IVM_TREAL, 1.0},
        {false, 1, IVM_TINT, IVM_TINT, IVM_TINT, IVM_TREAL, 2.0},
        {true, -1, IVM_TINT, IVM_TINT, IVM_TINT, IVM_TINT, 1.0},
    };
    for (size_t wc = 0; wc < NCOUNTS; wc++) {
        dbsp_host *h = NULL;
        assert_int_equal(dbsp_host_new(p, pools[wc], &h), IVM_OK);
        for (size_t st = 0; st < sizeof steps / sizeof steps[0]; st++) {
            zset z;
            zset_init(&z);
            ivm_value row[2] = {ivm_value_int(7),
                                steps[st].real ? ivm_value_real(1.0) : ivm_value_int(1)};
            zset_add_vals(&z, row, 2, 1, steps[st].w);
            assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&z)), IVM_OK);
            zset_free(&z);
            ivm_err err;
            ivm_err_clear(&err);
            assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
            spine_cursor *c = NULL;
            assert_int_equal(dbsp_host_cursor(h, o, &c), IVM_OK);
            zset got;
            zset_init(&got);
            zset_from_cursor(&got, c);
            spine_cursor_free(c);
            assert_int_equal(got.n, 1);
            ivm_value v[6];
            assert_int_equal(zrow_decode(&got.r[0], v, 6), 1 + (int)na);
            assert_int_equal(v[1].type, steps[st].sum_d);
            assert_int_equal(v[2].type, IVM_TINT);
            assert_int_equal(v[2].u.i, 1);
            zset_free(&got);
            if (na == 2)
                continue;
            assert_int_equal(v[3].type, steps[st].min);
            assert_int_equal(v[4].type, steps[st].max);
            assert_int_equal(v[5].type, steps[st].sum);
            double s5 = v[5].type == IVM_TINT ? (double)v[5].u.i : v[5].u.r;
            assert_true(s5 == steps[st].sum_v);
        }
        dbsp_host_free(h);
    }
    dbsp_plan_free(p);
}

static void test_aggregate_int_and_real_of_one_value(void **state)
{
    (void)state;
    run_one_value(5);
    /* The DISTINCT ones alone: MIN and MAX recompute for reasons of their own. */
    run_one_value(2);
}

/* More FILTERs over one DISTINCT column than one word of filter bits holds:
 * COUNT(DISTINCT x) FILTER (WHERE (x + i) % (2 + i % 5) = 0) for i < 70 and
 * SUM(DISTINCT x) under the last filter, over (g INT 0..3, x INT 0..9). */
#define NMANY 70

static void gen_gx(rng *r, ivm_value *v)
{
    v[0] = ivm_value_int(rng_below(r, 4));
    v[1] = rng_below(r, 8) == 0 ? ivm_value_null() : ivm_value_int(rng_below(r, 10));
}

static bool many_pass(int64_t x, uint32_t i)
{
    return (x + i) % (2 + i % 5) == 0;
}

static void build_many_filters(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_expr *ex[2 + NMANY];
    ex[0] = col(0);
    ex[1] = col(1);
    for (uint32_t i = 0; i < NMANY; i++)
        ex[2 + i] = op2(DBSP_X_EQ,
                        op2(DBSP_X_MOD, op2(DBSP_X_ADD, col(1), kint(i)), kint(2 + i % 5)),
                        kint(0));
    dbsp_agg aggs[NMANY + 1];
    for (uint32_t i = 0; i < NMANY; i++)
        aggs[i] = (dbsp_agg){DBSP_AGG_COUNT, IVM_TINT, 1,
                             DBSP_AGG_F_DISTINCT | DBSP_AGG_F_FILTER, 2 + i, 0};
    aggs[NMANY] = (dbsp_agg){DBSP_AGG_SUM, IVM_TINT, 1, DBSP_AGG_F_DISTINCT | DBSP_AGG_F_FILTER,
                             2 + NMANY - 1, 0};
    dbsp_node m, x, i, a;
    assert_int_equal(dbsp_plan_map(p, in[0], 2 + NMANY, ex, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, m, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(p, i, NMANY + 1, aggs, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, a, out), IVM_OK);
}

static void ref_many_filters(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    const zset *z = &now[0];
    for (size_t lo = 0; lo < z->n;) {
        size_t hi = lo + 1;
        while (hi < z->n && z->r[hi].klen == z->r[lo].klen &&
               memcmp(z->r[hi].b, z->r[lo].b, z->r[lo].klen) == 0)
            hi++;
        /* Rows are (g, x), each once: x is present when its weight is positive. */
        int64_t w[10] = {0};
        ivm_value v[2];
        for (size_t r = lo; r < hi; r++) {
            assert_int_equal(zrow_decode(&z->r[r], v, 2), 2);
            if (v[1].type == IVM_TINT)
                w[v[1].u.i] += z->r[r].w;
        }
        ivm_value row[2 + NMANY];
        row[0] = v[0];
        int64_t sum = 0, n = 0;
        for (uint32_t i = 0; i < NMANY; i++) {
            int64_t c = 0;
            for (int64_t x = 0; x < 10; x++)
                if (w[x] > 0 && many_pass(x, i)) {
                    c++;
                    if (i == NMANY - 1) {
                        sum += x;
                        n++;
                    }
                }
            row[1 + i] = ivm_value_int(c);
        }
        row[1 + NMANY] = n == 0 ? ivm_value_null() : ivm_value_int(sum);
        zset_add_vals(out, row, 2 + NMANY, 1, 1);
        lo = hi;
    }
}

static void test_aggregate_distinct_many_filters_match_recomputation(void **state)
{
    (void)state;
    prop pr = {1, {{2, 1, gen_gx}}, true, build_many_filters, ref_many_filters, 44};
    run_prop(&pr);
}

/* Steps of a few hundred rows into three groups, so that a touched group
 * has many DISTINCT values to sort: INTs, texts longer than 16 bytes that
 * share their first 16 and more, and texts that are prefixes of others.
 * COUNT(DISTINCT x) must be the number of values of positive weight. */
static void test_aggregate_distinct_large_steps_match_recomputation(void **state)
{
    (void)state;
    static const char *const vt[] = {
        "a", "ab", "abc", "", "abcdefghijklmnop", "abcdefghijklmnopq",
        "abcdefghijklmnopqr", "abcdefghijklmnopqrstuvwxyz-1", "abcdefghijklmnopqrstuvwxyz-2",
        "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmno", "abcdefghijklmnoq"};
    const uint32_t nv = 15 + (uint32_t)(sizeof vt / sizeof vt[0]);
    static const dbsp_agg aggs[] = {
        {.kind = DBSP_AGG_COUNT, .type = IVM_TINT, .col = 1, .flags = DBSP_AGG_F_DISTINCT}};
    dbsp_plan *p = dbsp_plan_new();
    assert_non_null(p);
    dbsp_node in, x, i, a, o;
    assert_int_equal(dbsp_plan_input(p, 3, 1, &in), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, in, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(p, i, 1, aggs, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, a, &o), IVM_OK);
    for (size_t wc = 0; wc < NCOUNTS; wc++) {
        dbsp_host *h = NULL;
        assert_int_equal(dbsp_host_new(p, pools[wc], &h), IVM_OK);
        rng r = {45};
        zset integ, b, got, want;
        zset_init(&integ);
        zset_init(&b);
        zset_init(&got);
        zset_init(&want);
        for (int step = 0; step < 30; step++) {
            zset_clear(&b);
            uint32_t rows = 100 + rng_below(&r, 300);
            for (uint32_t k = 0; k < rows; k++) {
                if (integ.n > 0 && rng_below(&r, 3) == 0) {
                    zrow *z = &integ.r[rng_below(&r, (uint32_t)integ.n)];
                    if (z->w <= 0)
                        continue;
                    zset_add_bytes(&b, z->b, z->len, z->klen, -1);
                    z->w -= 1;
                    continue;
                }
                ivm_value v[3];
                v[0] = ivm_value_int(rng_below(&r, 3));
                v[2] = ivm_value_int(rng_below(&r, 4));
                uint32_t c = rng_below(&r, nv);
                v[1] = c < 15 ? ivm_value_int((int64_t)c - 7)
                              : ivm_value_text(vt[c - 15], (uint32_t)strlen(vt[c - 15]));
                zset_add_vals(&b, v, 3, 1, 1);
                zset_add_vals(&integ, v, 3, 1, 1);
            }
            zset_consolidate(&b);
            zset_consolidate(&integ);
            assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&b)), IVM_OK);
            ivm_err err;
            ivm_err_clear(&err);
            assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
            /* integ is consolidated and sorted: a value's rows (g, x, y)
             * are neighbours. */
            zset_clear(&want);
            int64_t g = -1, n = 0;
            const ivm_value *last = NULL;
            ivm_value prev[3], v[3];
            for (size_t k = 0; k <= integ.n; k++) {
                if (k < integ.n && integ.r[k].w <= 0)
                    continue;
                if (k < integ.n)
                    assert_int_equal(zrow_decode(&integ.r[k], v, 3), 3);
                if (k == integ.n || v[0].u.i != g) {
                    if (n > 0) {
                        ivm_value row[2] = {ivm_value_int(g), ivm_value_int(n)};
                        zset_add_vals(&want, row, 2, 1, 1);
                    }
                    if (k == integ.n)
                        break;
                    g = v[0].u.i;
                    n = 0;
                    last = NULL;
                }
                if (last == NULL || dbsp_value_cmp(last, &v[1]) != 0)
                    n++;
                memcpy(prev, v, sizeof prev);
                last = &prev[1];
            }
            zset_consolidate(&want);
            spine_cursor *c = NULL;
            assert_int_equal(dbsp_host_cursor(h, o, &c), IVM_OK);
            zset_from_cursor(&got, c);
            spine_cursor_free(c);
            zset_expect("contents", &got, &want, worker_counts[wc], 45, step);
        }
        dbsp_host_free(h);
        zset_free(&integ);
        zset_free(&b);
        zset_free(&got);
        zset_free(&want);
    }
    dbsp_plan_free(p);
}

/* ---- A deeper circuit: two exchange levels in one step ---------------------------------- */

/* join(A, B) -> map to (b, a) keyed by b -> exchange -> integrate ->
 * distinct: two exchange levels, so the host runs three stages a step. */
static void build_pipeline(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    dbsp_node xa, xb, ia, ib, j, m, x2, i2, d;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &xa), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xa, &ia), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, in[1], &xb), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xb, &ib), IVM_OK);
    assert_int_equal(dbsp_plan_join(p, ia, ib, &j), IVM_OK);
    dbsp_expr *e[2] = {col(2), col(1)};
    assert_int_equal(dbsp_plan_map(p, j, 2, e, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, m, &x2), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x2, &i2), IVM_OK);
    assert_int_equal(dbsp_plan_distinct(p, i2, &d), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, d, out), IVM_OK);
}

static void ref_pipeline(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    zset j, m;
    zset_init(&j);
    zset_init(&m);
    ref_join_of(&now[0], &now[1], &j);
    zset_consolidate(&j);
    for (size_t i = 0; i < j.n; i++) {
        ivm_value v[4], o[2];
        assert_int_equal(zrow_decode(&j.r[i], v, 4), 4);
        o[0] = v[2];
        o[1] = v[1];
        zset_add_vals(&m, o, 2, 1, j.r[i].w);
    }
    zset_consolidate(&m);
    ref_distinct_of(&m, out);
    zset_free(&j);
    zset_free(&m);
}

static void test_pipeline_matches_recomputation(void **state)
{
    (void)state;
    prop pr = {2, {{2, 1, gen_join_a}, {3, 1, gen_join_b}}, true, build_pipeline, ref_pipeline,
               24};
    run_prop(&pr);
}

/* ---- topk ------------------------------------------------------------------------------ */

/* Numbers of both classes that SQL orders by value: equal pairs across INT
 * and REAL, -0.0, and integers beyond 2^53 that no double holds. */
static ivm_value num_pick(rng *r)
{
    static const int64_t ints[] = {-2, 0, 1, 2, 9007199254740992LL, 9007199254740993LL,
                                   INT64_MAX, INT64_MIN};
    static const double reals[] = {-1.5, 0.0, -0.0, 1.0, 1.5, 9007199254740992.0,
                                   9007199254740994.0, 9.3e18, -9.3e18};
    uint32_t k = rng_below(r, 17);
    if (k < 8)
        return ivm_value_int(ints[k]);
    return ivm_value_real(reals[k - 8]);
}

/* (p INT 0..2, x number or NULL, s TEXT or NULL, y INT 0..2), key p. */
static void gen_topk(rng *r, ivm_value *v)
{
    v[0] = ivm_value_int(rng_below(r, 3));
    v[1] = rng_below(r, 6) == 0 ? ivm_value_null() : num_pick(r);
    if (rng_below(r, 5) == 0) {
        v[2] = ivm_value_null();
    } else {
        const char *t = texts[rng_below(r, 5)];
        v[2] = ivm_value_text(t, (uint32_t)strlen(t));
    }
    v[3] = ivm_value_int(rng_below(r, 3));
}

/* The ORDER BY of the topk tests: (column, DBSP_ORDER_* flags). */
typedef struct tk_term {
    uint32_t col;
    int flags;
} tk_term;

typedef struct tk_case {
    uint32_t nkey;             /* 1: per p; 0: one global partition */
    int64_t offset, limit;
    uint32_t nterms;
    tk_term terms[3];
    bool rank;                 /* each row numbered (ROW_NUMBER) */
} tk_case;

static const tk_case tk_cases[] = {
    {1, 1, 3, 2, {{1, 0}, {2, DBSP_ORDER_DESC | DBSP_ORDER_NULLS_LAST}}, false},
    {0, 0, 4, 2, {{2, DBSP_ORDER_NULLS_LAST}, {1, DBSP_ORDER_DESC}}, false},
    {0, 5, 2, 1, {{1, DBSP_ORDER_DESC}}, false},
    {1, 0, 0, 1, {{3, 0}}, false},
    {1, 0, 3, 1, {{1, DBSP_ORDER_DESC}}, true},
    {1, 2, 4, 2, {{3, 0}, {2, DBSP_ORDER_NULLS_LAST}}, true},
    {0, 1, 5, 1, {{2, 0}}, true},
    {1, 0, 1, 1, {{3, DBSP_ORDER_DESC}}, true},
};
static const tk_case *tk_now;

/* map [p..., sortkey(terms), p, x, s, y] -> exchange -> integrate -> topk
 * -> map [p, x, s, y (, position)] (the sort key dropped). */
static void build_topk(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    const tk_case *tc = tk_now;
    dbsp_expr *terms[6], *ex[6];
    for (uint32_t i = 0; i < tc->nterms; i++) {
        terms[2 * i] = kint(tc->terms[i].flags);
        terms[2 * i + 1] = col(tc->terms[i].col);
    }
    uint32_t n = 0;
    if (tc->nkey)
        ex[n++] = col(0);
    ex[n++] = dbsp_expr_func(DBSP_FN_SORTKEY, IVM_TTEXT, 2 * tc->nterms, terms);
    for (uint32_t c = 0; c < 4; c++)
        ex[n++] = col(c);
    dbsp_node m, x, i, t, f;
    assert_int_equal(dbsp_plan_map(p, in[0], n, ex, tc->nkey, &m), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, m, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_topk(p, i, -1, 3, tc->rank, &t), IVM_INVALID);
    assert_int_equal(dbsp_plan_topk(p, x, 0, 3, tc->rank, &t), IVM_INVALID);
    assert_int_equal(dbsp_plan_topk(p, i, tc->offset, tc->limit, tc->rank, &t), IVM_OK);
    assert_int_equal(dbsp_plan_ncols(p, t), n + tc->rank);
    for (uint32_t c = 0; c < 4u + tc->rank; c++)
        ex[c] = col(n - 4 + c);
    assert_int_equal(dbsp_plan_map(p, t, 4 + tc->rank, ex, tc->nkey, &f), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, f, out), IVM_OK);
}

/* SQL's order of two values of one term, exact across INT and REAL (long
 * double holds every int64 and every double), NULL placed by the flags. */
static int tk_value_cmp(const ivm_value *a, const ivm_value *b, int flags)
{
    bool an = a->type == IVM_TNULL, bn = b->type == IVM_TNULL;
    if (an || bn) {
        int c = an && bn ? 0 : an ? -1 : 1;
        return (flags & DBSP_ORDER_NULLS_LAST) ? -c : c;
    }
    int c;
    bool at = a->type == IVM_TTEXT, bt = b->type == IVM_TTEXT;
    if (at && bt) {
        uint32_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        if (c == 0)
            c = (a->u.s.n > b->u.s.n) - (a->u.s.n < b->u.s.n);
        c = (c > 0) - (c < 0);
    } else if (at || bt) {
        c = at ? 1 : -1;
    } else {
        long double x = a->type == IVM_TINT ? (long double)a->u.i : (long double)a->u.r;
        long double y = b->type == IVM_TINT ? (long double)b->u.i : (long double)b->u.r;
        c = (x > y) - (x < y);
    }
    return (flags & DBSP_ORDER_DESC) ? -c : c;
}

/* Row order of the reference: the terms, then the encoded row. */
static int tk_row_cmp(const void *pa, const void *pb)
{
    const zrow *x = *(const zrow *const *)pa, *y = *(const zrow *const *)pb;
    ivm_value u[4], v[4];
    assert_int_equal(zrow_decode(x, u, 4), 4);
    assert_int_equal(zrow_decode(y, v, 4), 4);
    for (uint32_t i = 0; i < tk_now->nterms; i++) {
        int c = tk_value_cmp(&u[tk_now->terms[i].col], &v[tk_now->terms[i].col],
                             tk_now->terms[i].flags);
        if (c != 0)
            return c;
    }
    return spine_row_cmp(x->b, x->len, y->b, y->len);
}

/* Sorts each partition's present rows and keeps ranks offset+1 ..
 * offset+limit, counting a row of weight w as w rows; with rank, each of
 * those w rows is its own, numbered by its position. */
static void ref_topk(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    const zset *z = &now[0];
    const zrow **rows = calloc(z->n + 1, sizeof *rows);
    assert_non_null(rows);
    for (size_t lo = 0; lo < z->n;) {
        size_t hi = lo + 1;
        uint32_t plen = tk_now->nkey ? z->r[lo].klen : 0;
        while (hi < z->n && (tk_now->nkey == 0 || (z->r[hi].klen == plen &&
                                                   memcmp(z->r[hi].b, z->r[lo].b, plen) == 0)))
            hi++;
        size_t m = 0;
        for (size_t i = lo; i < hi; i++)
            if (z->r[i].w > 0)
                rows[m++] = &z->r[i];
        qsort(rows, m, sizeof *rows, tk_row_cmp);
        int64_t skip = tk_now->offset, room = tk_now->limit;
        for (size_t i = 0; i < m && room > 0; i++) {
            int64_t w = rows[i]->w;
            if (skip >= w) {
                skip -= w;
                continue;
            }
            w -= skip;
            skip = 0;
            if (w > room)
                w = room;
            int64_t pos = tk_now->offset + tk_now->limit - room;
            room -= w;
            ivm_value v[5];
            assert_int_equal(zrow_decode(rows[i], v, 4), 4);
            if (!tk_now->rank) {
                zset_add_vals(out, v, 4, tk_now->nkey, w);
                continue;
            }
            for (int64_t j = 1; j <= w; j++) {
                v[4] = ivm_value_int(pos + j);
                zset_add_vals(out, v, 5, tk_now->nkey, 1);
            }
        }
        lo = hi;
    }
    free(rows);
}

static void test_topk_matches_recomputation(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof tk_cases / sizeof tk_cases[0]; k++) {
        tk_now = &tk_cases[k];
        prop pr = {1, {{4, tk_now->nkey, gen_topk}}, true, build_topk, ref_topk, 31 + k};
        run_prop(&pr);
    }
}

/* Inserts only for a while (the new top comes from the old one and the
 * delta, T2), then deletions of present rows or free negative weights
 * (read from I(x) again from the first negative weight on); and inserts
 * only throughout. */
static void test_topk_inserts_then_deletes_match_recomputation(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof tk_cases / sizeof tk_cases[0]; k++) {
        tk_now = &tk_cases[k];
        for (int mode = 0; mode < 3; mode++) {
            prop pr = {1, {{4, tk_now->nkey, gen_topk}}, mode != 1, build_topk, ref_topk,
                       71 + 3 * k + (uint64_t)mode};
            inserts_until = mode == 2 ? NSTEPS : NSTEPS / 2;
            run_prop(&pr);
            inserts_until = 0;
        }
    }
}


/* D16: a top-k's input integral, which the top-k does not read while it
 * only inserts (T2), is an unread spine (fan-in SPINE_FANOUT_UNREAD) until
 * the first deletion; from then on the top-k seeks it, and it goes back to
 * fan-in 4 (here at once, by compaction; else at the merger's next turn).
 * With an offset the top-k always reads it: never unread.  Contents and
 * deltas match recomputation before, across and after the switch, with
 * steps of up to 120 rows so that the unread spine merges.  The fan-in is
 * checked with one worker (each worker's top-k switches its own trace, when
 * it meets a negative weight); two workers check the results. */
static void test_topk_unread_integral_until_a_deletion(void **state)
{
    (void)state;
    static const tk_case cases[] = {
        {1, 0, 3, 1, {{1, DBSP_ORDER_DESC}}, true},
        {1, 1, 2, 1, {{1, DBSP_ORDER_DESC}}, false},
    };
    const shape sh = {4, 1, gen_topk};
    for (size_t c = 0; c < 2; c++) {
        tk_now = &cases[c];
        bool unread = c == 0;
        dbsp_plan *p = dbsp_plan_new();
        dbsp_node in, out;
        assert_int_equal(dbsp_plan_input(p, 4, 1, &in), IVM_OK);
        build_topk(p, &in, &out);
        for (size_t wc = 0; wc < 2; wc++) {
            dbsp_host *h = NULL;
            assert_int_equal(dbsp_host_new(p, pools[wc], &h), IVM_OK);
            rng r = {91 + c};
            zset integ, want, prev_want, got, d;
            zset_init(&integ);
            zset_init(&want);
            zset_init(&prev_want);
            zset_init(&got);
            zset_init(&d);
            for (int step = 0; step < 140; step++) {
                bool inserts = step < 100;
                if (step == 100) {
                    /* The first negative weight: one copy of a present row. */
                    zset del;
                    zset_init(&del);
                    const zrow *z = &integ.r[rng_below(&r, (uint32_t)integ.n)];
                    zset_add_bytes(&del, z->b, z->len, z->klen, -1);
                    zset_add_bytes(&integ, z->b, z->len, z->klen, -1);
                    assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&del)), IVM_OK);
                    zset_free(&del);
                }
                for (uint32_t k = rng_below(&r, 25); k > 0; k--)
                    assert_int_equal(
                        dbsp_host_feed_take(h, in, gen_batch(&r, &sh, true, inserts, &integ)),
                        IVM_OK);
                zset_consolidate(&integ);
                ivm_err err;
                ivm_err_clear(&err);
                assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
                zset_clear(&want);
                ref_topk(&integ, NULL, &want);
                zset_consolidate(&want);
                spine_batch *delta = NULL;
                assert_int_equal(dbsp_host_delta(h, out, &delta), IVM_OK);
                zset_from_batch(&got, delta);
                spine_batch_unref(delta);
                zset_copy(&d, &want);
                zset_add_zset(&d, &prev_want, -1);
                zset_expect("delta", &got, &d, worker_counts[wc], 91 + c, step);
                spine_cursor *cur = NULL;
                assert_int_equal(dbsp_host_cursor(h, out, &cur), IVM_OK);
                zset_from_cursor(&got, cur);
                spine_cursor_free(cur);
                zset_expect("contents", &got, &want, worker_counts[wc], 91 + c, step);
                zset_copy(&prev_want, &want);
                spine_stats st;
                dbsp_host_stats(h, &st);
                if (step == 99 && wc == 0) {
                    /* The widest spine: the unread trace, or the view's
                     * contents (8). */
                    assert_int_equal(st.fanout, unread ? SPINE_FANOUT_UNREAD : 8);
                    assert_true(st.merges > 0);
                }
                if (step == 100 && wc == 0) {
                    assert_int_equal(dbsp_host_compact(h), IVM_OK);
                    dbsp_host_stats(h, &st);
                    assert_int_equal(st.fanout, 8);
                }
            }
            dbsp_host_free(h);
            zset_free(&integ);
            zset_free(&want);
            zset_free(&prev_want);
            zset_free(&got);
            zset_free(&d);
        }
        dbsp_plan_free(p);
    }
}

/* D17: a top-k over a join (through a map, a fused filter and map, or a
 * filter), whose input integral is the join's until the top-k reads it.
 * Rows of the join: (k, a TEXT, b INT, c REAL), key k. */
static int tkj_shape; /* 0: map; 1: filter fused into the map; 2: filter */
static const tk_case tkj_cases[] = {
    {1, 0, 2, 2, {{3, DBSP_ORDER_DESC}, {1, 0}}, true},
    {1, 0, 1, 1, {{2, DBSP_ORDER_DESC | DBSP_ORDER_NULLS_LAST}}, false},
    {1, 0, 3, 0, {{0, 0}}, true}, /* no sort key: byte order (shape 2) */
};

/* A: (k, a), B: (k, b, c), both exchanged and integrated, joined; then
 * shape 0 map [k, sortkey(terms), k, a, b, c], shape 1 filter b > 0 and
 * that map fused, shape 2 filter b < 2; integrate; topk; for shapes 0
 * and 1 a map dropping the sort key; output. */
static void build_topk_join(dbsp_plan *p, const dbsp_node *in, dbsp_node *out)
{
    const tk_case *tc = tk_now;
    dbsp_node xa, xb, ia, ib, j, s, i, t, o;
    assert_int_equal(dbsp_plan_exchange(p, in[0], &xa), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xa, &ia), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, in[1], &xb), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xb, &ib), IVM_OK);
    assert_int_equal(dbsp_plan_join(p, ia, ib, &j), IVM_OK);
    s = j;
    if (tkj_shape == 1)
        assert_int_equal(dbsp_plan_filter(p, j, op2(DBSP_X_GT, col(2), kint(0)), &s), IVM_OK);
    if (tkj_shape == 2) {
        assert_int_equal(dbsp_plan_filter(p, j, op2(DBSP_X_LT, col(2), kint(2)), &s), IVM_OK);
        assert_int_equal(dbsp_plan_integrate(p, s, &i), IVM_OK);
        assert_int_equal(dbsp_plan_topk(p, i, tc->offset, tc->limit, tc->rank, &t), IVM_OK);
        assert_int_equal(dbsp_plan_output(p, t, out), IVM_OK);
        return;
    }
    dbsp_expr *terms[6], *ex[6];
    for (uint32_t k = 0; k < tc->nterms; k++) {
        terms[2 * k] = kint(tc->terms[k].flags);
        terms[2 * k + 1] = col(tc->terms[k].col);
    }
    ex[0] = col(0);
    ex[1] = dbsp_expr_func(DBSP_FN_SORTKEY, IVM_TTEXT, 2 * tc->nterms, terms);
    for (uint32_t c = 0; c < 4; c++)
        ex[2 + c] = col(c);
    dbsp_node m, f;
    assert_int_equal(dbsp_plan_map(p, s, 6, ex, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, m, &i), IVM_OK);
    assert_int_equal(dbsp_plan_topk(p, i, tc->offset, tc->limit, tc->rank, &t), IVM_OK);
    for (uint32_t c = 0; c < 4u + tc->rank; c++)
        ex[c] = col(2 + c);
    assert_int_equal(dbsp_plan_map(p, t, 4 + tc->rank, ex, 1, &f), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, f, &o), IVM_OK);
    *out = o;
    if (tkj_shape == 1) {
        dbsp_node remap[32];
        uint32_t before = dbsp_plan_nodes(p);
        assert_true(before <= 32);
        assert_int_equal(dbsp_plan_fuse(p, remap), IVM_OK);
        /* The filter goes, and the join, whose map is fused into it. */
        assert_int_equal(dbsp_plan_nodes(p), before - 2);
        *out = remap[o];
    }
}

/* The join's rows that the shape's filter keeps. */
static void ref_join_kept(const zset *now, zset *j)
{
    zset all;
    zset_init(&all);
    ref_join_of(&now[0], &now[1], &all);
    zset_consolidate(&all);
    for (size_t r = 0; r < all.n; r++) {
        ivm_value v[4];
        assert_int_equal(zrow_decode(&all.r[r], v, 4), 4);
        if ((tkj_shape == 1 && v[2].u.i <= 0) || (tkj_shape == 2 && v[2].u.i >= 2))
            continue;
        zset_add_bytes(j, all.r[r].b, all.r[r].len, all.r[r].klen, all.r[r].w);
    }
    zset_consolidate(j);
    zset_free(&all);
}

static void ref_topk_join(const zset *now, const zset *prev, zset *out)
{
    (void)prev;
    zset j;
    zset_init(&j);
    ref_join_kept(now, &j);
    ref_topk(&j, NULL, out);
    zset_free(&j);
}

/* Against recomputation: inserts, then deletions of present rows (the
 * top-k then first computes its input integral from the join's traces,
 * then keeps it); inserts only; free weights from the start. */
static void test_topk_over_join_matches_recomputation(void **state)
{
    (void)state;
    for (int sh = 0; sh < 3; sh++)
        for (size_t k = sh == 2 ? 2 : 0; k < (sh == 2 ? 3u : 2u); k++)
            for (int mode = 0; mode < 3; mode++) {
                tkj_shape = sh;
                tk_now = &tkj_cases[k];
                prop pr = {2, {{2, 1, gen_join_a}, {3, 1, gen_join_b}}, mode != 2,
                           build_topk_join, ref_topk_join, 301 + 9 * (uint64_t)sh + 3 * k +
                                                             (uint64_t)mode};
                inserts_until = mode == 0 ? NSTEPS / 2 : mode == 1 ? NSTEPS : 0;
                run_prop(&pr);
                inserts_until = 0;
            }
}

/* D17: while it only inserts, a top-k over a join keeps no integral of
 * its own: after compaction the spines hold the join's two traces, the
 * top-k's output integral and the view's contents, nothing more.  After
 * the first deletion it holds its input integral too (the join's rows the
 * filter keeps), and results match recomputation throughout. */
static void test_topk_over_join_keeps_no_integral_until_read(void **state)
{
    (void)state;
    tk_now = &tkj_cases[2];
    tkj_shape = 2;
    const shape sa = {2, 1, gen_join_a}, sb = {3, 1, gen_join_b};
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in[2], out;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &in[0]), IVM_OK);
    assert_int_equal(dbsp_plan_input(p, 3, 1, &in[1]), IVM_OK);
    build_topk_join(p, in, &out);
    for (size_t wc = 0; wc < 2; wc++) {
        dbsp_host *h = NULL;
        assert_int_equal(dbsp_host_new(p, pools[wc], &h), IVM_OK);
        rng r = {401 + wc};
        zset integ[2], want, prev_want, got, d, j;
        for (int x = 0; x < 2; x++)
            zset_init(&integ[x]);
        zset_init(&want);
        zset_init(&prev_want);
        zset_init(&got);
        zset_init(&d);
        zset_init(&j);
        for (int step = 0; step < 60; step++) {
            bool inserts = step < 40;
            for (int x = 0; x < 2; x++)
                for (uint32_t k = rng_below(&r, 3); k > 0; k--)
                    assert_int_equal(
                        dbsp_host_feed_take(h, in[x], gen_batch(&r, x ? &sb : &sa, true,
                                                                inserts, &integ[x])),
                        IVM_OK);
            for (int x = 0; x < 2; x++)
                zset_consolidate(&integ[x]);
            ivm_err err;
            ivm_err_clear(&err);
            assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
            zset_clear(&want);
            ref_topk_join(integ, NULL, &want);
            zset_consolidate(&want);
            spine_batch *delta = NULL;
            assert_int_equal(dbsp_host_delta(h, out, &delta), IVM_OK);
            zset_from_batch(&got, delta);
            spine_batch_unref(delta);
            zset_copy(&d, &want);
            zset_add_zset(&d, &prev_want, -1);
            zset_expect("delta", &got, &d, worker_counts[wc], 401 + wc, step);
            zset_copy(&prev_want, &want);
            if (step != 39 && step != 59)
                continue;
            /* Compacted, each spine holds its consolidated rows. */
            assert_int_equal(dbsp_host_compact(h), IVM_OK);
            spine_stats st;
            dbsp_host_stats(h, &st);
            size_t kept = integ[0].n + integ[1].n + 2 * want.n;
            zset_clear(&j);
            ref_join_kept(integ, &j);
            assert_true(j.n > 0);
            assert_int_equal(st.rows, step == 39 ? kept : kept + j.n);
        }
        dbsp_host_free(h);
        for (int x = 0; x < 2; x++)
            zset_free(&integ[x]);
        zset_free(&want);
        zset_free(&prev_want);
        zset_free(&got);
        zset_free(&d);
        zset_free(&j);
    }
    dbsp_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_matches_recomputation),
        cmocka_unit_test(test_map_matches_recomputation),
        cmocka_unit_test(test_map_copy_matches_recomputation),
        cmocka_unit_test(test_map_runs_matches_recomputation),
        cmocka_unit_test(test_map_copies_match_recomputation),
        cmocka_unit_test(test_map_prefix_matches_recomputation),
        cmocka_unit_test(test_map_lead_sorts_within_runs),
        cmocka_unit_test(test_map_lead_of_three_ints),
        cmocka_unit_test(test_filter_first_column_matches_recomputation),
        cmocka_unit_test(test_map_filter_shared_subexpressions_match_recomputation),
        cmocka_unit_test(test_fused_chains_match_recomputation),
        cmocka_unit_test(test_count_without_integral_matches_recomputation),
        cmocka_unit_test(test_sum_without_integral_matches_integral),
        cmocka_unit_test(test_plus_matches_recomputation),
        cmocka_unit_test(test_negate_matches_recomputation),
        cmocka_unit_test(test_exchange_matches_recomputation),
        cmocka_unit_test(test_integrate_matches_recomputation),
        cmocka_unit_test(test_z1_matches_recomputation),
        cmocka_unit_test(test_distinct_matches_recomputation),
        cmocka_unit_test(test_distinct_whole_row_key),
        cmocka_unit_test(test_join_matches_recomputation),
        cmocka_unit_test(test_join_self_matches_recomputation),
        cmocka_unit_test(test_join_both_sides_one_key_match_recomputation),
        cmocka_unit_test(test_join_self_free_weights_match_recomputation),
        cmocka_unit_test(test_join_fused_map_matches_recomputation),
        cmocka_unit_test(test_aggregate_matches_recomputation),
        cmocka_unit_test(test_aggregate_global_matches_recomputation),
        cmocka_unit_test(test_aggregate_distinct_filter_concat_match_recomputation),
        cmocka_unit_test(test_aggregate_state_matches_recomputation),
        cmocka_unit_test(test_aggregate_distinct_out_of_order_match_recomputation),
        cmocka_unit_test(test_aggregate_state_global_matches_recomputation),
        cmocka_unit_test(test_aggregate_state_free_weights_match_recomputation),
        cmocka_unit_test(test_aggregate_int_and_real_of_one_value),
        cmocka_unit_test(test_aggregate_distinct_many_filters_match_recomputation),
        cmocka_unit_test(test_aggregate_distinct_large_steps_match_recomputation),
        cmocka_unit_test(test_small_steps_into_large_state_match_recomputation),
        cmocka_unit_test(test_pipeline_matches_recomputation),
        cmocka_unit_test(test_topk_matches_recomputation),
        cmocka_unit_test(test_topk_inserts_then_deletes_match_recomputation),
        cmocka_unit_test(test_topk_unread_integral_until_a_deletion),
        cmocka_unit_test(test_topk_over_join_matches_recomputation),
        cmocka_unit_test(test_topk_over_join_keeps_no_integral_until_read),
    };
    return cmocka_run_group_tests(tests, setup_pools, teardown_pools);
}
