/*
 * test_circuit.c: several segments in one circuit, as the engine runs its
 * views: a base segment A read by two others (B, C), a segment D reading B
 * (a view on a view on a view), all compared after every step with a
 * recomputation from the table's contents, on random insertions and
 * deletions, for 1, 2 and 4 workers.  Also: a failing segment fails alone
 * (with the segments reading it) while the others stay correct; removing
 * segments frees their state; segments that nothing touched do not step.
 */
#include "pools.h"

#include <string.h>

#define NK 8   /* keys of the table T(k, v) */
#define NV 5   /* values */

/* ---- Plans ------------------------------------------------------------------ */

typedef struct seg_plan {
    dbsp_plan *p;
    dbsp_node in, out;
} seg_plan;

/* A = SELECT k, COUNT(*), SUM(v) FROM T GROUP BY k   (input: T's rows, key k) */
static seg_plan plan_a(void)
{
    seg_plan s = {dbsp_plan_new(), 0, 0};
    dbsp_node x, i, a;
    dbsp_agg aggs[2] = {{.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT},
                        {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 1}};
    assert_int_equal(dbsp_plan_input(s.p, 2, 1, &s.in), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(s.p, s.in, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(s.p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(s.p, i, 2, aggs, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(s.p, a, &s.out), IVM_OK);
    return s;
}

/* B = SELECT * FROM A WHERE count >= 2   (input: A's rows re-keyed to none) */
static seg_plan plan_b(void)
{
    seg_plan s = {dbsp_plan_new(), 0, 0};
    dbsp_node f;
    ivm_value two = ivm_value_int(2);
    dbsp_expr *args[2] = {dbsp_expr_col(1, IVM_TINT), dbsp_expr_const(&two)};
    dbsp_expr *pred = dbsp_expr_op(DBSP_X_GE, IVM_TINT, 2, args);
    assert_int_equal(dbsp_plan_input(s.p, 3, 0, &s.in), IVM_OK);
    assert_int_equal(dbsp_plan_filter(s.p, s.in, pred, &f), IVM_OK);
    assert_int_equal(dbsp_plan_output(s.p, f, &s.out), IVM_OK);
    return s;
}

/* C = SELECT count, COUNT(*) FROM A GROUP BY count   (input keyed like A) */
static seg_plan plan_c(void)
{
    seg_plan s = {dbsp_plan_new(), 0, 0};
    dbsp_node m, x, i, a;
    dbsp_expr *e[1] = {dbsp_expr_col(1, IVM_TINT)};
    dbsp_agg agg = {.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT};
    assert_int_equal(dbsp_plan_input(s.p, 3, 1, &s.in), IVM_OK);
    assert_int_equal(dbsp_plan_map(s.p, s.in, 1, e, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(s.p, m, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(s.p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(s.p, i, 1, &agg, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(s.p, a, &s.out), IVM_OK);
    return s;
}

/* D = SELECT COUNT(*), SUM(sum) FROM B   (one global group) */
static seg_plan plan_d(void)
{
    seg_plan s = {dbsp_plan_new(), 0, 0};
    dbsp_node x, i, a;
    dbsp_agg aggs[2] = {{.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT},
                        {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 2}};
    assert_int_equal(dbsp_plan_input(s.p, 3, 0, &s.in), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(s.p, s.in, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(s.p, x, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(s.p, i, 2, aggs, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(s.p, a, &s.out), IVM_OK);
    return s;
}

/* E = SELECT k, abs(v) FROM T: abs(INT64_MIN) fails its step. */
static seg_plan plan_e(void)
{
    seg_plan s = {dbsp_plan_new(), 0, 0};
    dbsp_node m;
    dbsp_expr *arg = dbsp_expr_col(1, IVM_TINT);
    dbsp_expr *e[2] = {dbsp_expr_col(0, IVM_TINT), dbsp_expr_func(DBSP_FN_ABS, IVM_TINT, 1, &arg)};
    assert_int_equal(dbsp_plan_input(s.p, 2, 1, &s.in), IVM_OK);
    assert_int_equal(dbsp_plan_map(s.p, s.in, 2, e, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(s.p, m, &s.out), IVM_OK);
    return s;
}

/* F = SELECT * FROM E (reads the failing segment). */
static seg_plan plan_f(void)
{
    seg_plan s = {dbsp_plan_new(), 0, 0};
    assert_int_equal(dbsp_plan_input(s.p, 2, 1, &s.in), IVM_OK);
    assert_int_equal(dbsp_plan_output(s.p, s.in, &s.out), IVM_OK);
    return s;
}

/* ---- The reference: every view recomputed from T ---------------------------- */

typedef struct model {
    int64_t t[NK][NV];   /* multiplicity of (k, v) in T */
} model;

static void ref_a(const model *m, zset *out, uint32_t nkey, bool only_b)
{
    zset_clear(out);
    for (int k = 0; k < NK; k++) {
        int64_t n = 0, sum = 0;
        for (int v = 0; v < NV; v++) {
            n += m->t[k][v];
            sum += m->t[k][v] * v;
        }
        if (n == 0 || (only_b && n < 2))
            continue;
        ivm_value row[3] = {ivm_value_int(k), ivm_value_int(n), ivm_value_int(sum)};
        zset_add_vals(out, row, 3, nkey, 1);
    }
    zset_consolidate(out);
}

static void ref_c(const model *m, zset *out)
{
    int64_t hist[NV * 64 + 1] = {0};
    zset_clear(out);
    for (int k = 0; k < NK; k++) {
        int64_t n = 0;
        for (int v = 0; v < NV; v++)
            n += m->t[k][v];
        if (n > 0)
            hist[n]++;
    }
    for (int n = 1; n <= NV * 64; n++)
        if (hist[n] > 0) {
            ivm_value row[2] = {ivm_value_int(n), ivm_value_int(hist[n])};
            zset_add_vals(out, row, 2, 1, 1);
        }
    zset_consolidate(out);
}

static void ref_d(const model *m, zset *out)
{
    zset b;
    zset_init(&b);
    ref_a(m, &b, 0, true);
    int64_t n = 0, sum = 0;
    for (size_t i = 0; i < b.n; i++) {
        ivm_value v[3];
        assert_int_equal(zrow_decode(&b.r[i], v, 3), 3);
        n += b.r[i].w;
        sum += v[2].u.i * b.r[i].w;
    }
    zset_clear(out);
    ivm_value row[2] = {ivm_value_int(n), n > 0 ? ivm_value_int(sum) : ivm_value_null()};
    zset_add_vals(out, row, 2, 0, 1);
    zset_consolidate(out);
    zset_free(&b);
}

/* A segment's contents and last change, checked against want (contents)
 * and want - before (the change). */
static void expect_seg(const char *name, dbsp_seg *s, dbsp_node out, const zset *want,
                       const zset *before, uint32_t nw, uint64_t seed, int step)
{
    zset got, d, wd;
    zset_init(&got);
    zset_init(&d);
    zset_init(&wd);
    spine_cursor *c = NULL;
    assert_int_equal(dbsp_seg_cursor(s, out, &c), IVM_OK);
    zset_from_cursor(&got, c);
    spine_cursor_free(c);
    char what[64];
    snprintf(what, sizeof what, "%s contents", name);
    zset_expect(what, &got, want, nw, seed, step);
    spine_batch *b = NULL;
    assert_int_equal(dbsp_seg_delta(s, out, &b), IVM_OK);
    zset_from_batch(&d, b);
    spine_batch_unref(b);
    zset_add_zset(&wd, want, 1);
    zset_add_zset(&wd, before, -1);
    snprintf(what, sizeof what, "%s change", name);
    zset_expect(what, &d, &wd, nw, seed, step);
    zset_free(&got);
    zset_free(&d);
    zset_free(&wd);
}

/* A random change to T(k, v): insertions, and deletions of rows it holds,
 * keyed by k (key_cols 1), as rows keyed by themselves (2) or as input
 * rows (0): the same rows either way for the same draws. */
static spine_batch *keyed_change(rng *r, model *m, size_t n, uint32_t key_cols)
{
    zset z;
    zset_init(&z);
    for (size_t i = 0; i < n; i++) {
        int k = (int)rng_below(r, NK), v = (int)rng_below(r, NV);
        int64_t w = 1;
        if (m->t[k][v] > 0 && rng_below(r, 3) == 0)
            w = -1;
        m->t[k][v] += w;
        ivm_value row[2] = {ivm_value_int(k), ivm_value_int(v)};
        zset_add_vals(&z, row, 2, key_cols, w);
    }
    zset_consolidate(&z);
    spine_batch *b = zset_to_batch(&z);
    zset_free(&z);
    return b;
}

static spine_batch *random_change(rng *r, model *m, size_t n)
{
    return keyed_change(r, m, n, 1);
}

static uint64_t circuit_rows(dbsp_seg *const *segs, size_t n)
{
    uint64_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        spine_stats st;
        dbsp_seg_stats(segs[i], &st);
        rows += st.rows;
    }
    return rows;
}

/* ---- Tests -------------------------------------------------------------------- */

static void run_views_on_views(rt_sched *pool, const dbsp_step_opts *mode, uint64_t seed)
{
    uint32_t nw = rt_sched_size(pool);
    rng r = {seed};
    model m;
    memset(&m, 0, sizeof m);
    seg_plan pa = plan_a(), pb = plan_b(), pc = plan_c(), pd = plan_d();
    dbsp_circuit *c = NULL;
    assert_int_equal(dbsp_circuit_new(pool, &c), IVM_OK);
    dbsp_circuit_set_step_opts(c, mode);
    dbsp_seg *a, *b, *sc, *d;
    assert_int_equal(dbsp_circuit_add(c, pa.p, &a), IVM_OK);
    assert_int_equal(dbsp_circuit_add(c, pb.p, &b), IVM_OK);
    assert_int_equal(dbsp_circuit_add(c, pc.p, &sc), IVM_OK);
    assert_int_equal(dbsp_circuit_add(c, pd.p, &d), IVM_OK);
    /* A is computed once and read by B and C; D reads B. */
    assert_int_equal(dbsp_circuit_link(c, a, pa.out, b, pb.in), IVM_OK);
    assert_int_equal(dbsp_circuit_link(c, a, pa.out, sc, pc.in), IVM_OK);
    assert_int_equal(dbsp_circuit_link(c, b, pb.out, d, pd.in), IVM_OK);
    /* Links go forward only, between an output and an input of one width. */
    assert_int_equal(dbsp_circuit_link(c, b, pb.out, a, pa.in), IVM_INVALID);
    assert_int_equal(dbsp_circuit_link(c, a, pa.in, b, pb.in), IVM_INVALID);
    assert_int_equal(dbsp_circuit_link(c, a, pa.out, d, pd.out), IVM_INVALID);
    assert_int_equal(dbsp_circuit_segments(c), 4);

    /* D's global group exists before any row: it steps once touched. */
    dbsp_seg_touch(d);
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(dbsp_circuit_step(c, &err), IVM_OK);
    assert_false(dbsp_seg_stepped(a));
    assert_true(dbsp_seg_stepped(d));

    zset wa, wb, wc, wd, pa_, pb_, pc_, pd_;
    zset *all[] = {&wa, &wb, &wc, &wd, &pa_, &pb_, &pc_, &pd_};
    for (size_t i = 0; i < 8; i++)
        zset_init(all[i]);
    ref_a(&m, &pa_, 1, false);
    ref_a(&m, &pb_, 0, true);
    ref_c(&m, &pc_);
    ref_d(&m, &pd_);
    for (int step = 0; step < 40; step++) {
        size_t n = 1 + rng_below(&r, step % 7 == 0 ? 40 : 6);
        /* Every fifth step feeds nothing; every other one feeds a batch
         * as a table's change is fed, shaped (not walked again to check
         * it), which must make no difference. */
        if (step % 5 != 4 && step % 2 == 0)
            assert_int_equal(dbsp_seg_feed_take(a, pa.in, random_change(&r, &m, n)), IVM_OK);
        else if (step % 5 != 4)
            assert_int_equal(dbsp_seg_feed_take_shaped(a, pa.in, random_change(&r, &m, n)), IVM_OK);
        assert_int_equal(dbsp_circuit_step(c, &err), IVM_OK);
        bool fed = step % 5 != 4;
        /* Untouched segments do not step; readers step with what they read. */
        assert_int_equal(dbsp_seg_stepped(a), fed);
        assert_int_equal(dbsp_seg_stepped(b), fed);
        assert_int_equal(dbsp_seg_stepped(d), fed);
        ref_a(&m, &wa, 1, false);
        ref_a(&m, &wb, 0, true);
        ref_c(&m, &wc);
        ref_d(&m, &wd);
        expect_seg("A", a, pa.out, &wa, fed ? &pa_ : &wa, nw, seed, step);
        expect_seg("B", b, pb.out, &wb, fed ? &pb_ : &wb, nw, seed, step);
        expect_seg("C", sc, pc.out, &wc, fed ? &pc_ : &wc, nw, seed, step);
        expect_seg("D", d, pd.out, &wd, fed ? &pd_ : &wd, nw, seed, step);
        zset_copy(&pa_, &wa);
        zset_copy(&pb_, &wb);
        zset_copy(&pc_, &wc);
        zset_copy(&pd_, &wd);
    }

    /* Removing C and D frees their state; A and B go on unchanged. */
    dbsp_seg *segs[4] = {a, b, sc, d};
    uint64_t kept = circuit_rows(segs, 2);
    assert_true(circuit_rows(segs + 2, 2) > 0); /* C and D hold rows */
    dbsp_circuit_remove(c, d);
    dbsp_circuit_remove(c, sc);
    assert_int_equal(dbsp_circuit_segments(c), 2);
    /* (The merger may cancel entries of A and B meanwhile, never add.) */
    assert_true(circuit_rows(segs, 2) <= kept);
    assert_int_equal(dbsp_seg_feed_take(a, pa.in, random_change(&r, &m, 5)), IVM_OK);
    assert_int_equal(dbsp_circuit_step(c, &err), IVM_OK);
    ref_a(&m, &wa, 1, false);
    ref_a(&m, &wb, 0, true);
    expect_seg("A after removal", a, pa.out, &wa, &pa_, nw, seed, 40);
    expect_seg("B after removal", b, pb.out, &wb, &pb_, nw, seed, 40);

    /* A segment added later starts from nothing and reads A's later changes. */
    dbsp_seg *c2 = NULL;
    assert_int_equal(dbsp_circuit_add(c, pc.p, &c2), IVM_OK);
    assert_int_equal(dbsp_circuit_link(c, a, pa.out, c2, pc.in), IVM_OK);
    spine_cursor *cur = NULL;
    assert_int_equal(dbsp_seg_cursor(a, pa.out, &cur), IVM_OK); /* backfill from A */
    zset back;
    zset_init(&back);
    zset_from_cursor(&back, cur);
    spine_cursor_free(cur);
    assert_int_equal(dbsp_seg_feed_take(c2, pc.in, zset_to_batch(&back)), IVM_OK);
    assert_int_equal(dbsp_circuit_step(c, &err), IVM_OK);
    assert_false(dbsp_seg_stepped(a));
    ref_c(&m, &wc);
    zset empty;
    zset_init(&empty);
    expect_seg("C re-added", c2, pc.out, &wc, &empty, nw, seed, 41);
    zset_copy(&pc_, &wc);
    assert_int_equal(dbsp_seg_feed_take(a, pa.in, random_change(&r, &m, 9)), IVM_OK);
    assert_int_equal(dbsp_circuit_step(c, &err), IVM_OK);
    ref_c(&m, &wc);
    expect_seg("C re-added, next step", c2, pc.out, &wc, &pc_, nw, seed, 42);

    zset_free(&back);
    zset_free(&empty);
    for (size_t i = 0; i < 8; i++)
        zset_free(all[i]);
    dbsp_circuit_free(c);
    dbsp_plan_free(pa.p);
    dbsp_plan_free(pb.p);
    dbsp_plan_free(pc.p);
    dbsp_plan_free(pd.p);
}

static void test_circuit_views_on_views_match_recomputation(void **state)
{
    (void)state;
    for (size_t run = 0; run < NRUNS; run++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            run_views_on_views(pools[run_count(run)], run_mode(run), seed * 7919 + run);
}

/* E fails on abs(INT64_MIN): E and F (which reads E) are broken with E's
 * message; A and B, stepped by the same tasks, stay exact, and keep
 * stepping afterwards. */
static void run_failure_isolation(rt_sched *pool, const dbsp_step_opts *mode)
{
    uint32_t nw = rt_sched_size(pool);
    rng r = {42};
    model m;
    memset(&m, 0, sizeof m);
    seg_plan pa = plan_a(), pb = plan_b(), pe = plan_e(), pf = plan_f();
    dbsp_circuit *c = NULL;
    assert_int_equal(dbsp_circuit_new(pool, &c), IVM_OK);
    dbsp_circuit_set_step_opts(c, mode);
    dbsp_seg *a, *b, *e, *f;
    assert_int_equal(dbsp_circuit_add(c, pa.p, &a), IVM_OK);
    assert_int_equal(dbsp_circuit_add(c, pe.p, &e), IVM_OK);
    assert_int_equal(dbsp_circuit_add(c, pb.p, &b), IVM_OK);
    assert_int_equal(dbsp_circuit_add(c, pf.p, &f), IVM_OK);
    assert_int_equal(dbsp_circuit_link(c, a, pa.out, b, pb.in), IVM_OK);
    assert_int_equal(dbsp_circuit_link(c, e, pe.out, f, pf.in), IVM_OK);
    zset wa, wb, pa_, pb_;
    zset_init(&wa);
    zset_init(&wb);
    zset_init(&pa_);
    zset_init(&pb_);
    ivm_err err;
    ivm_err_clear(&err);
    for (int step = 0; step < 6; step++) {
        spine_batch *d = random_change(&r, &m, 12);
        assert_int_equal(dbsp_seg_feed_take(a, pa.in, spine_batch_ref(d)), IVM_OK);
        if (step <= 2) {
            assert_int_equal(dbsp_seg_feed_take(e, pe.in, spine_batch_ref(d)), IVM_OK);
        }
        if (step == 2) {
            for (uint32_t k = 0; k < nw; k++) { /* some worker gets it */
                zset z;
                zset_init(&z);
                ivm_value row[2] = {ivm_value_int(100 + k), ivm_value_int(INT64_MIN)};
                zset_add_vals(&z, row, 2, 1, 1);
                assert_int_equal(dbsp_seg_feed_take(e, pe.in, zset_to_batch(&z)), IVM_OK);
                zset_free(&z);
            }
        }
        spine_batch_unref(d);
        assert_int_equal(dbsp_circuit_step(c, &err), IVM_OK);
        ref_a(&m, &wa, 1, false);
        ref_a(&m, &wb, 0, true);
        expect_seg("A", a, pa.out, &wa, &pa_, nw, 42, step);
        expect_seg("B", b, pb.out, &wb, &pb_, nw, 42, step);
        zset_copy(&pa_, &wa);
        zset_copy(&pb_, &wb);
        ivm_err se;
        ivm_err_clear(&se);
        if (step < 2) {
            assert_int_equal(dbsp_seg_status(e, &se), IVM_OK);
            assert_int_equal(dbsp_seg_status(f, &se), IVM_OK);
            continue;
        }
        assert_int_equal(dbsp_seg_status(e, &se), IVM_INVALID);
        assert_string_equal(se.msg, "integer overflow");
        ivm_err_clear(&se);
        assert_int_equal(dbsp_seg_status(f, &se), IVM_INVALID);
        assert_non_null(strstr(se.msg, "integer overflow"));
        assert_false(dbsp_seg_stepped(e));
        assert_false(dbsp_seg_stepped(f));
        spine_batch *x = NULL;
        assert_int_equal(dbsp_seg_delta(e, pe.out, &x), IVM_INVALID);
        spine_cursor *cur = NULL;
        assert_int_equal(dbsp_seg_cursor(f, pf.out, &cur), IVM_INVALID);
        /* A broken segment takes no input. */
        zset z;
        zset_init(&z);
        ivm_value row[2] = {ivm_value_int(1), ivm_value_int(1)};
        zset_add_vals(&z, row, 2, 1, 1);
        assert_int_equal(dbsp_seg_feed_take(e, pe.in, zset_to_batch(&z)), IVM_INVALID);
        zset_free(&z);
    }
    /* Removing the broken ones leaves the healthy ones as they were. */
    dbsp_circuit_remove(c, f);
    dbsp_circuit_remove(c, e);
    assert_int_equal(dbsp_circuit_segments(c), 2);
    zset_free(&wa);
    zset_free(&wb);
    zset_free(&pa_);
    zset_free(&pb_);
    dbsp_circuit_free(c);
    dbsp_plan_free(pa.p);
    dbsp_plan_free(pb.p);
    dbsp_plan_free(pe.p);
    dbsp_plan_free(pf.p);
}

static void test_circuit_failure_is_isolated(void **state)
{
    (void)state;
    for (size_t run = 0; run < NRUNS; run++)
        run_failure_isolation(pools[run_count(run)], run_mode(run));
}

/* Several workers: a plan whose stateful operator reads unsharded rows is
 * refused when added, and the circuit is unchanged. */
static void test_circuit_add_checks_sharding(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in, i, d, o;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, in, &i), IVM_OK);
    assert_int_equal(dbsp_plan_distinct(p, i, &d), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, d, &o), IVM_OK);
    dbsp_circuit *c = NULL;
    assert_int_equal(dbsp_circuit_new(pools[2], &c), IVM_OK);
    dbsp_seg *s = NULL;
    assert_int_equal(dbsp_circuit_add(c, p, &s), IVM_INVALID);
    assert_int_equal(dbsp_circuit_segments(c), 0);
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(dbsp_circuit_step(c, &err), IVM_OK); /* nothing to run */
    dbsp_circuit_free(c);
    dbsp_plan_free(p);
}

/* D5: a step fed fewer than solo_max entries runs on the calling thread
 * alone (the scheduler polls nothing); a bigger one, or a small one past
 * its budget, runs workers 1..N-1 on their threads.  The results agree.
 * C reads A, so that a step crosses two exchanges and worker 1 still waits
 * on worker 0 after the first round (a hand-over has something to hand). */
static spine_batch *rows_batch(uint64_t first, uint64_t n)
{
    zset z;
    zset_init(&z);
    for (uint64_t i = first; i < first + n; i++) {
        ivm_value v[2] = {ivm_value_int((int64_t)(i % NK)), ivm_value_int((int64_t)i)};
        zset_add_vals(&z, v, 2, 1, 1);
    }
    zset_consolidate(&z);
    spine_batch *b = zset_to_batch(&z);
    zset_free(&z);
    return b;
}

static uint64_t sched_polls(rt_sched *s)
{
    rt_sched_stats st;
    rt_sched_stats_get(s, &st);
    return st.polls;
}

static void test_circuit_small_steps_stay_on_the_caller(void **state)
{
    (void)state;
    rt_sched *pool = pools[1];
    assert_int_equal(rt_sched_size(pool), 2);
    seg_plan pa = plan_a(), pc = plan_c();
    dbsp_circuit *c = NULL;
    assert_int_equal(dbsp_circuit_new(pool, &c), IVM_OK);
    dbsp_seg *a = NULL, *sc = NULL;
    assert_int_equal(dbsp_circuit_add(c, pa.p, &a), IVM_OK);
    assert_int_equal(dbsp_circuit_add(c, pc.p, &sc), IVM_OK);
    assert_int_equal(dbsp_circuit_link(c, a, pa.out, sc, pc.in), IVM_OK);
    ivm_err err;
    ivm_err_clear(&err);
    int64_t cnt[NK] = {0}, sum[NK] = {0};
    /* The budget is wall-clock time, which a loaded machine (or a
     * sanitizer) can spend on a tiny step: steps that must stay on the
     * caller have none; the defaults' step checks results only. */
    enum { ANY, CALLER, THREADS };
    struct {
        uint64_t rows;
        dbsp_step_opts opts;
        int expect;
    } steps[] = {
        {10, {DBSP_SOLO_MAX_DEFAULT, DBSP_SOLO_BUDGET_DEFAULT_NS}, ANY},
        {10, {DBSP_SOLO_MAX_DEFAULT, UINT64_MAX}, CALLER},
        {DBSP_SOLO_MAX_DEFAULT - 1, {DBSP_SOLO_MAX_DEFAULT, UINT64_MAX}, CALLER},
        {DBSP_SOLO_MAX_DEFAULT, {DBSP_SOLO_MAX_DEFAULT, UINT64_MAX}, THREADS},
        {5000, {DBSP_SOLO_MAX_DEFAULT, DBSP_SOLO_BUDGET_DEFAULT_NS}, THREADS},
        {10, {SIZE_MAX, 0}, THREADS}, /* handed over after one round */
        {5000, {SIZE_MAX, UINT64_MAX}, CALLER},
        {10, {0, 0}, THREADS},
    };
    uint64_t next = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        dbsp_circuit_set_step_opts(c, &steps[i].opts);
        assert_int_equal(dbsp_seg_feed_take(a, pa.in, rows_batch(next, steps[i].rows)), IVM_OK);
        for (uint64_t r = next; r < next + steps[i].rows; r++) {
            cnt[r % NK]++;
            sum[r % NK] += (int64_t)r;
        }
        next += steps[i].rows;
        uint64_t before = sched_polls(pool);
        assert_int_equal(dbsp_circuit_step(c, &err), IVM_OK);
        assert_int_equal(dbsp_seg_status(a, NULL), IVM_OK);
        assert_int_equal(dbsp_seg_status(sc, NULL), IVM_OK);
        if (steps[i].expect == THREADS)
            assert_true(sched_polls(pool) > before);
        else if (steps[i].expect == CALLER)
            assert_int_equal(sched_polls(pool), before);
        zset want, got;
        zset_init(&want);
        zset_init(&got);
        for (int k = 0; k < NK; k++) {
            ivm_value row[3] = {ivm_value_int(k), ivm_value_int(cnt[k]), ivm_value_int(sum[k])};
            if (cnt[k] > 0)
                zset_add_vals(&want, row, 3, 1, 1);
        }
        zset_consolidate(&want);
        spine_cursor *cur = NULL;
        assert_int_equal(dbsp_seg_cursor(a, pa.out, &cur), IVM_OK);
        zset_from_cursor(&got, cur);
        spine_cursor_free(cur);
        zset_expect("contents", &got, &want, 2, i, 0);
        zset_free(&want);
        zset_free(&got);
    }
    dbsp_circuit_free(c);
    dbsp_plan_free(pa.p);
    dbsp_plan_free(pc.p);
}

/* An input that only maps read takes a table's rows keyed by themselves
 * (dbsp_seg_feed_take_row_keyed, as the engine feeds a table without
 * PRIMARY KEY) and gives what the same rows fed as input rows give: two
 * segments of one plan, M = SELECT v, k FROM T WHERE v >= 1 (a map with a
 * fused filter) and SELECT k FROM T beside it on the same input, one fed
 * each way, compared after every step on every worker count, with
 * batches large enough to be cut among the workers (D6).  An input that
 * anything but maps reads (a filter), or whose key is not empty, or that
 * nothing reads, refuses such a batch and keeps its contents. */
static dbsp_plan *plan_maps(bool filter_too, dbsp_node *in, dbsp_node *out1, dbsp_node *out2)
{
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node f, m1, m2;
    ivm_value one = ivm_value_int(1);
    dbsp_expr *args[2] = {dbsp_expr_col(1, IVM_TINT), dbsp_expr_const(&one)};
    dbsp_expr *e1[2] = {dbsp_expr_col(1, IVM_TINT), dbsp_expr_col(0, IVM_TINT)};
    dbsp_expr *e2[1] = {dbsp_expr_col(0, IVM_TINT)};
    assert_int_equal(dbsp_plan_input(p, 2, 0, in), IVM_OK);
    assert_int_equal(dbsp_plan_filter(p, *in, dbsp_expr_op(DBSP_X_GE, IVM_TINT, 2, args), &f),
                     IVM_OK);
    assert_int_equal(dbsp_plan_map(p, f, 2, e1, 0, &m1), IVM_OK);
    assert_int_equal(dbsp_plan_map(p, *in, 1, e2, 0, &m2), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, filter_too ? f : m1, out1), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m2, out2), IVM_OK);
    /* The filter that only the map reads becomes part of it (as q2's
     * WHERE does); read by an output, it stays a filter. */
    dbsp_node remap[8];
    assert_true(dbsp_plan_nodes(p) <= 8);
    assert_int_equal(dbsp_plan_fuse(p, remap), IVM_OK);
    *in = remap[*in];
    *out1 = remap[*out1];
    *out2 = remap[*out2];
    return p;
}

static void seg_contents(dbsp_seg *s, dbsp_node out, zset *z)
{
    spine_cursor *c = NULL;
    assert_int_equal(dbsp_seg_cursor(s, out, &c), IVM_OK);
    zset_from_cursor(z, c);
    spine_cursor_free(c);
}

static void test_circuit_row_keyed_input_as_rows(void **state)
{
    (void)state;
    dbsp_node in, o1, o2, fo, f2;
    dbsp_plan *p = plan_maps(false, &in, &o1, &o2);
    assert_true(dbsp_plan_input_rows_whole(p, in));
    assert_false(dbsp_plan_input_rows_whole(p, o1)); /* not an input */
    /* A filter reads it too: it would pass the keys on. */
    dbsp_plan *pf = plan_maps(true, &in, &fo, &f2);
    assert_false(dbsp_plan_input_rows_whole(pf, in));
    /* Keyed, or read by nothing. */
    dbsp_plan *pk = dbsp_plan_new();
    dbsp_node kin, kin2, km, ko;
    dbsp_expr *ke[1] = {dbsp_expr_col(0, IVM_TINT)};
    assert_int_equal(dbsp_plan_input(pk, 2, 1, &kin), IVM_OK);
    assert_int_equal(dbsp_plan_map(pk, kin, 1, ke, 0, &km), IVM_OK);
    assert_int_equal(dbsp_plan_output(pk, km, &ko), IVM_OK);
    assert_int_equal(dbsp_plan_input(pk, 2, 0, &kin2), IVM_OK);
    assert_false(dbsp_plan_input_rows_whole(pk, kin));
    assert_false(dbsp_plan_input_rows_whole(pk, kin2));

    for (size_t ci = 0; ci < NCOUNTS; ci++) {
        dbsp_circuit *c = NULL;
        assert_int_equal(dbsp_circuit_new(pools[ci], &c), IVM_OK);
        dbsp_seg *keyed = NULL, *rows = NULL, *filt = NULL;
        assert_int_equal(dbsp_circuit_add(c, p, &keyed), IVM_OK);
        assert_int_equal(dbsp_circuit_add(c, p, &rows), IVM_OK);
        assert_int_equal(dbsp_circuit_add(c, pf, &filt), IVM_OK);
        rng r1 = {77 + ci}, r2 = {77 + ci};
        model m1, m2;
        memset(&m1, 0, sizeof m1);
        memset(&m2, 0, sizeof m2);
        ivm_err err;
        for (int step = 0; step < 12; step++) {
            /* Every third step is cut among the workers (D6). */
            size_t n = step % 3 == 2 ? 1024 * worker_counts[ci] + 500 : 1 + (size_t)step * 7;
            assert_int_equal(dbsp_seg_feed_take_row_keyed(keyed, in, keyed_change(&r1, &m1, n, 2)),
                             IVM_OK);
            assert_int_equal(dbsp_seg_feed_take_shaped(rows, in, keyed_change(&r2, &m2, n, 0)),
                             IVM_OK);
            rng rx = {1 + (uint64_t)step};
            model mx;
            memset(&mx, 0, sizeof mx);
            assert_int_equal(dbsp_seg_feed_take_row_keyed(filt, in, keyed_change(&rx, &mx, 5, 2)),
                             IVM_INVALID);
            ivm_err_clear(&err);
            assert_int_equal(dbsp_circuit_step(c, &err), IVM_OK);
            dbsp_node outs[2] = {o1, o2};
            for (int o = 0; o < 2; o++) {
                zset a, b;
                zset_init(&a);
                zset_init(&b);
                seg_contents(keyed, outs[o], &a);
                seg_contents(rows, outs[o], &b);
                assert_true(b.n > 0 || step < 2);
                zset_expect("row-keyed contents", &a, &b, worker_counts[ci], 77 + ci, step);
                spine_batch *da = NULL, *db = NULL;
                assert_int_equal(dbsp_seg_delta(keyed, outs[o], &da), IVM_OK);
                assert_int_equal(dbsp_seg_delta(rows, outs[o], &db), IVM_OK);
                zset_from_batch(&a, da);
                zset_from_batch(&b, db);
                zset_expect("row-keyed change", &a, &b, worker_counts[ci], 77 + ci, step);
                spine_batch_unref(da);
                spine_batch_unref(db);
                zset_free(&a);
                zset_free(&b);
            }
            spine_cursor *fc = NULL;
            assert_int_equal(dbsp_seg_cursor(filt, fo, &fc), IVM_OK);
            spine_cursor_rewind(fc);
            assert_false(spine_cursor_key_valid(fc)); /* nothing went in */
            spine_cursor_free(fc);
        }
        dbsp_circuit_free(c);
    }
    dbsp_plan_free(p);
    dbsp_plan_free(pf);
    dbsp_plan_free(pk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_circuit_views_on_views_match_recomputation),
        cmocka_unit_test(test_circuit_failure_is_isolated),
        cmocka_unit_test(test_circuit_add_checks_sharding),
        cmocka_unit_test(test_circuit_small_steps_stay_on_the_caller),
        cmocka_unit_test(test_circuit_row_keyed_input_as_rows),
    };
    return cmocka_run_group_tests(tests, setup_pools, teardown_pools);
}
