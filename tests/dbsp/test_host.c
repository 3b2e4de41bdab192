/*
 * test_host.c: the host's contracts apart from operator results (which
 * test_ops.c checks): sharding checks at creation, input validation, the
 * sticky error state, errors raised inside operators on any worker, reading
 * outputs before the first step, statistics, big batches, and compaction.
 */
#include "zset_ref.h"

static rt_sched *pool1, *pool4;

static int setup_pools(void **state)
{
    (void)state;
    if (rt_sched_start(1, "t1", &pool1) != IVM_OK || rt_sched_start(4, "t4", &pool4) != IVM_OK)
        return -1;
    return 0;
}

static int teardown_pools(void **state)
{
    (void)state;
    rt_sched_stop(pool1);
    rt_sched_stop(pool4);
    return 0;
}

/* A batch of (k, v) rows, key k, weight 1 each. */
static spine_batch *batch_kv(const int64_t *k, const int64_t *v, size_t n)
{
    zset z;
    zset_init(&z);
    for (size_t i = 0; i < n; i++) {
        ivm_value row[2] = {ivm_value_int(k[i]), ivm_value_int(v[i])};
        zset_add_vals(&z, row, 2, 1, 1);
    }
    spine_batch *b = zset_to_batch(&z);
    zset_free(&z);
    return b;
}

static void test_host_rejects_unsharded_stateful_input(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in, i, d, o;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, in, &i), IVM_OK);
    assert_int_equal(dbsp_plan_distinct(p, i, &d), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, d, &o), IVM_OK);
    dbsp_host *h = NULL;
    /* Several workers would each see part of a key: refused (D4)... */
    assert_int_equal(dbsp_host_new(p, pool4, &h), IVM_INVALID);
    /* ...one worker sees everything. */
    assert_int_equal(dbsp_host_new(p, pool1, &h), IVM_OK);
    dbsp_host_free(h);
    dbsp_plan_free(p);
}

/* A map that keeps the key columns in place keeps the sharding; one that
 * moves them does not. */
static void test_host_map_keeping_key_keeps_sharding(void **state)
{
    (void)state;
    for (int keep = 0; keep < 2; keep++) {
        dbsp_plan *p = dbsp_plan_new();
        dbsp_node in, x, m, i, d, o;
        assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
        assert_int_equal(dbsp_plan_exchange(p, in, &x), IVM_OK);
        dbsp_expr *e[2] = {dbsp_expr_col(keep ? 0 : 1, IVM_TINT), dbsp_expr_col(1, IVM_TINT)};
        assert_int_equal(dbsp_plan_map(p, x, 2, e, 1, &m), IVM_OK);
        assert_int_equal(dbsp_plan_integrate(p, m, &i), IVM_OK);
        assert_int_equal(dbsp_plan_distinct(p, i, &d), IVM_OK);
        assert_int_equal(dbsp_plan_output(p, d, &o), IVM_OK);
        dbsp_host *h = NULL;
        assert_int_equal(dbsp_host_new(p, pool4, &h), keep ? IVM_OK : IVM_INVALID);
        dbsp_host_free(h);
        dbsp_plan_free(p);
    }
}

static void test_host_feed_checks_shape(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in, o;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, in, &o), IVM_OK);
    dbsp_host *h = NULL;
    assert_int_equal(dbsp_host_new(p, pool4, &h), IVM_OK);

    zset z;
    zset_init(&z);
    ivm_value row[3] = {ivm_value_int(1), ivm_value_int(2), ivm_value_int(3)};
    zset_add_vals(&z, row, 3, 1, 1); /* three columns, not two */
    assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&z)), IVM_INVALID);
    zset_clear(&z);
    zset_add_vals(&z, row, 2, 2, 1); /* key of two columns, not one */
    assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&z)), IVM_INVALID);
    zset_clear(&z);
    zset_add_vals(&z, row, 1, 1, 1); /* one column: no value */
    assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&z)), IVM_INVALID);
    zset_clear(&z);
    zset_add_vals(&z, row, 2, 0, 1); /* two columns, an empty key */
    assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&z)), IVM_INVALID);
    zset_clear(&z);
    zset_add_vals(&z, row, 3, 2, 1); /* three columns, key of two */
    assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&z)), IVM_INVALID);
    zset_clear(&z);
    zset_add_vals(&z, row, 2, 1, 1);
    assert_int_equal(dbsp_host_feed_take(h, o, zset_to_batch(&z)), IVM_INVALID); /* not an input */
    assert_int_equal(dbsp_host_feed_take(h, 99, zset_to_batch(&z)), IVM_INVALID);
    assert_int_equal(dbsp_host_feed_take(h, in, NULL), IVM_INVALID);

    /* Rejected feeds are not failures of the host. */
    assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&z)), IVM_OK);
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
    spine_batch *d = NULL;
    assert_int_equal(dbsp_host_delta(h, o, &d), IVM_OK);
    assert_int_equal(d->n, 1);
    spine_batch_unref(d);
    zset_free(&z);
    dbsp_host_free(h);
    dbsp_plan_free(p);
}

static void test_host_outputs_before_first_step_are_empty(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in, o;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, in, &o), IVM_OK);
    dbsp_host *h = NULL;
    assert_int_equal(dbsp_host_new(p, pool4, &h), IVM_OK);
    spine_batch *d = NULL;
    assert_int_equal(dbsp_host_delta(h, o, &d), IVM_OK);
    assert_int_equal(d->n, 0);
    spine_batch_unref(d);
    spine_cursor *c = NULL;
    assert_int_equal(dbsp_host_cursor(h, o, &c), IVM_OK);
    assert_false(spine_cursor_key_valid(c));
    spine_cursor_free(c);
    assert_int_equal(dbsp_host_delta(h, in, &d), IVM_INVALID); /* not an output */
    assert_int_equal(dbsp_host_cursor(h, 42, &c), IVM_INVALID);
    spine_stats st;
    dbsp_host_stats(h, &st);
    assert_int_equal(st.rows, 0);
    dbsp_host_free(h);
    dbsp_plan_free(p);
}

/* abs(INT64_MIN) inside a map fails the step with SQLite's message; every
 * later call returns the same error. */
static void run_sticky(rt_sched *pool)
{
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in, m, o;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
    dbsp_expr *arg = dbsp_expr_col(1, IVM_TINT);
    dbsp_expr *e[2] = {dbsp_expr_col(0, IVM_TINT), dbsp_expr_func(DBSP_FN_ABS, IVM_TINT, 1, &arg)};
    assert_int_equal(dbsp_plan_map(p, in, 2, e, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, &o), IVM_OK);
    dbsp_host *h = NULL;
    assert_int_equal(dbsp_host_new(p, pool, &h), IVM_OK);

    int64_t k[3] = {1, 2, 3}, v[3] = {-4, INT64_MIN, 6};
    assert_int_equal(dbsp_host_feed_take(h, in, batch_kv(k, v, 1)), IVM_OK);
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
    for (int i = 0; i < 3; i++) /* spread over workers */
        assert_int_equal(dbsp_host_feed_take(h, in, batch_kv(k + i, v + i, 1)), IVM_OK);
    assert_int_equal(dbsp_host_step(h, &err), IVM_INVALID);
    assert_int_equal(err.rc, IVM_INVALID);
    assert_string_equal(err.msg, "integer overflow");

    ivm_err again;
    ivm_err_clear(&again);
    assert_int_equal(dbsp_host_step(h, &again), IVM_INVALID);
    assert_string_equal(again.msg, "integer overflow");
    assert_int_equal(dbsp_host_feed_take(h, in, batch_kv(k, v, 1)), IVM_INVALID);
    spine_batch *d = NULL;
    assert_int_equal(dbsp_host_delta(h, o, &d), IVM_INVALID);
    spine_cursor *c = NULL;
    assert_int_equal(dbsp_host_cursor(h, o, &c), IVM_INVALID);
    assert_int_equal(dbsp_host_step(h, NULL), IVM_INVALID);
    dbsp_host_free(h);
    dbsp_plan_free(p);
}

static void test_host_error_is_sticky(void **state)
{
    (void)state;
    run_sticky(pool1);
    run_sticky(pool4);
}

/* SUM over INT raises "integer overflow" when the group's total does not fit
 * 64 bits; unlike SQLite, not when only a running total would have. */
static void test_aggregate_sum_overflow_is_an_error(void **state)
{
    (void)state;
    for (int fits = 1; fits >= 0; fits--) {
        dbsp_plan *p = dbsp_plan_new();
        dbsp_node in, x, i, a, o;
        assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
        assert_int_equal(dbsp_plan_exchange(p, in, &x), IVM_OK);
        assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
        dbsp_agg sum = {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 1};
        assert_int_equal(dbsp_plan_aggregate(p, i, 1, &sum, &a), IVM_OK);
        assert_int_equal(dbsp_plan_output(p, a, &o), IVM_OK);
        dbsp_host *h = NULL;
        assert_int_equal(dbsp_host_new(p, pool4, &h), IVM_OK);
        int64_t k[3] = {7, 7, 7}, v[3] = {INT64_MAX, 1, fits ? -5 : 0};
        for (int j = 0; j < 3; j++)
            assert_int_equal(dbsp_host_feed_take(h, in, batch_kv(k + j, v + j, 1)), IVM_OK);
        ivm_err err;
        ivm_err_clear(&err);
        ivm_rc rc = dbsp_host_step(h, &err);
        if (fits) {
            assert_int_equal(rc, IVM_OK);
            spine_batch *d = NULL;
            assert_int_equal(dbsp_host_delta(h, o, &d), IVM_OK);
            assert_int_equal(d->n, 1);
            ivm_value row[2];
            size_t len;
            const uint8_t *r = spine_batch_row(d, 0, &len);
            assert_int_equal(spine_row_decode(r, len, row, 2), 2);
            assert_true(row[1].type == IVM_TINT && row[1].u.i == INT64_MAX - 4);
            spine_batch_unref(d);
        } else {
            assert_int_equal(rc, IVM_INVALID);
            assert_string_equal(err.msg, "integer overflow");
        }
        dbsp_host_free(h);
        dbsp_plan_free(p);
    }
}

/* A fed batch big enough to be sliced across workers (D6) gives the same
 * GROUP BY result on 4 workers as on 1, step after step, with retractions. */
static void test_host_big_feed_is_sliced_exactly(void **state)
{
    (void)state;
    enum { N = 20000, KEYS = 301 };
    spine_batch *results[2][3];
    rt_sched *scheds[2] = {pool1, pool4};
    for (int si = 0; si < 2; si++) {
        dbsp_plan *p = dbsp_plan_new();
        dbsp_node in, m, x, i, a, o;
        assert_int_equal(dbsp_plan_input(p, 2, 0, &in), IVM_OK);
        dbsp_expr *ex[2] = {dbsp_expr_col(0, IVM_TINT), dbsp_expr_col(1, IVM_TINT)};
        assert_int_equal(dbsp_plan_map(p, in, 2, ex, 1, &m), IVM_OK);
        assert_int_equal(dbsp_plan_exchange(p, m, &x), IVM_OK);
        assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
        dbsp_agg aggs[2] = {{.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT},
                            {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 1}};
        assert_int_equal(dbsp_plan_aggregate(p, i, 2, aggs, &a), IVM_OK);
        assert_int_equal(dbsp_plan_output(p, a, &o), IVM_OK);
        dbsp_host *h = NULL;
        assert_int_equal(dbsp_host_new(p, scheds[si], &h), IVM_OK);
        for (int step = 0; step < 3; step++) {
            zset z;
            zset_init(&z);
            for (int r = 0; r < N; r++) {
                ivm_value row[2] = {ivm_value_int((r * 7919 + step) % KEYS),
                                    ivm_value_int(r + step * N)};
                /* Step 2 retracts what step 0 inserted. */
                if (step == 2)
                    row[1] = ivm_value_int(r);
                zset_add_vals(&z, row, 2, 0, step == 2 ? -1 : 1);
            }
            assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&z)), IVM_OK);
            zset_free(&z);
            ivm_err err;
            ivm_err_clear(&err);
            assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
            assert_int_equal(dbsp_host_delta(h, o, &results[si][step]), IVM_OK);
        }
        dbsp_host_free(h);
        dbsp_plan_free(p);
    }
    for (int step = 0; step < 3; step++) {
        const spine_batch *x1 = results[0][step], *x4 = results[1][step];
        assert_true(x1->n > 0);
        assert_int_equal(x1->n, x4->n);
        assert_int_equal(x1->bytes, x4->bytes);
        assert_memory_equal(x1->data, x4->data, x1->bytes);
        for (size_t k = 0; k < x1->n; k++)
            assert_int_equal(x1->w[k], x4->w[k]);
        spine_batch_unref(results[0][step]);
        spine_batch_unref(results[1][step]);
    }
}

/* A batch far bigger than the scratch arena's soft limit: text results are
 * made per row and the arena is reset as it fills, so the step succeeds and
 * every row comes out right. */
static void test_map_big_batch_resets_scratch(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in, m, o;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
    dbsp_expr *a[2] = {dbsp_expr_col(1, IVM_TTEXT), dbsp_expr_col(1, IVM_TTEXT)};
    dbsp_expr *cat = dbsp_expr_op(DBSP_X_CONCAT, IVM_TTEXT, 2, a);
    dbsp_expr *e[2] = {dbsp_expr_col(0, IVM_TINT), cat};
    assert_int_equal(dbsp_plan_map(p, in, 2, e, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, m, &o), IVM_OK);
    dbsp_host *h = NULL;
    assert_int_equal(dbsp_host_new(p, pool1, &h), IVM_OK);

    enum { ROWS = 20000 };
    char text[200];
    memset(text, 'x', sizeof text);
    spine_builder b;
    spine_builder_init(&b);
    for (int i = 0; i < ROWS; i++) {
        ivm_value row[2] = {ivm_value_int(i), ivm_value_text(text, sizeof text)};
        uint8_t buf[256];
        size_t len = spine_row_encode(row, 2, buf);
        size_t klen = spine_row_size(row, 1);
        assert_int_equal(spine_builder_push(&b, buf, klen, buf + klen, len - klen, 1), IVM_OK);
    }
    spine_batch *batch = NULL;
    assert_int_equal(spine_builder_finish(&b, &batch), IVM_OK);
    spine_builder_fini(&b);
    assert_int_equal(dbsp_host_feed_take(h, in, batch), IVM_OK);
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
    spine_batch *d = NULL;
    assert_int_equal(dbsp_host_delta(h, o, &d), IVM_OK);
    assert_int_equal(d->n, ROWS);
    for (size_t i = 0; i < d->n; i++) {
        ivm_value row[2];
        size_t len;
        const uint8_t *r = spine_batch_row(d, i, &len);
        assert_int_equal(spine_row_decode(r, len, row, 2), 2);
        assert_int_equal(row[1].u.s.n, 2 * sizeof text);
        assert_true(row[1].u.s.p[0] == 'x' && row[1].u.s.p[2 * sizeof text - 1] == 'x');
    }
    spine_batch_unref(d);
    spine_stats st;
    dbsp_host_stats(h, &st);
    assert_int_equal(st.rows, ROWS);
    assert_true(st.bytes > (size_t)ROWS * 2 * sizeof text);
    dbsp_host_free(h);
    dbsp_plan_free(p);
}

/* A plan with no inputs fed still steps; z1 outputs nothing on step 0. */
static void test_host_steps_without_input(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in, z, x, i, a, o;
    assert_int_equal(dbsp_plan_input(p, 2, 0, &in), IVM_OK);
    assert_int_equal(dbsp_plan_z1(p, in, &z), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, z, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    dbsp_agg cnt = {.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT, .col = 0};
    assert_int_equal(dbsp_plan_aggregate(p, i, 1, &cnt, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, a, &o), IVM_OK);
    dbsp_host *h = NULL;
    assert_int_equal(dbsp_host_new(p, pool4, &h), IVM_OK);
    ivm_err err;
    ivm_err_clear(&err);
    for (int step = 0; step < 3; step++) {
        assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
        spine_batch *d = NULL;
        assert_int_equal(dbsp_host_delta(h, o, &d), IVM_OK);
        /* The global group appears once, at the first step, as COUNT 0. */
        assert_int_equal(d->n, step == 0 ? 1 : 0);
        spine_batch_unref(d);
    }
    spine_cursor *c = NULL;
    assert_int_equal(dbsp_host_cursor(h, o, &c), IVM_OK);
    assert_true(spine_cursor_key_valid(c));
    size_t vlen;
    const uint8_t *v = spine_cursor_val(c, &vlen);
    ivm_value cv;
    assert_int_equal(spine_row_decode(v, vlen, &cv, 1), 1);
    assert_true(cv.type == IVM_TINT && cv.u.i == 0);
    assert_int_equal(spine_cursor_weight(c), 1);
    spine_cursor_free(c);
    dbsp_host_free(h);
    dbsp_plan_free(p);
}

/* The (key, value, weight) entries an output holds, as text, in order. */
static size_t output_entries(dbsp_host *h, dbsp_node o, char *buf, size_t cap)
{
    spine_cursor *c = NULL;
    assert_int_equal(dbsp_host_cursor(h, o, &c), IVM_OK);
    size_t n = 0, off = 0;
    for (; spine_cursor_key_valid(c); spine_cursor_step_key(c))
        for (; spine_cursor_val_valid(c); spine_cursor_step_val(c)) {
            size_t klen, vlen;
            const uint8_t *k = spine_cursor_key(c, &klen);
            const uint8_t *v = spine_cursor_val(c, &vlen);
            ivm_value kv, vv;
            assert_int_equal(spine_row_decode(k, klen, &kv, 1), 1);
            assert_int_equal(spine_row_decode(v, vlen, &vv, 1), 1);
            off += (size_t)snprintf(buf + off, cap - off, "%lld:%lld:%lld ", (long long)kv.u.i,
                                    (long long)vv.u.i, (long long)spine_cursor_weight(c));
            n++;
        }
    spine_cursor_free(c);
    return n;
}

/* dbsp_host_compact leaves one batch per spine, cancels retractions at
 * once, changes no contents, and the host steps on as before. */
static void test_host_compact_cancels_and_keeps_contents(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node in, x, i, a, o;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, in, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    dbsp_agg sum = {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 1};
    assert_int_equal(dbsp_plan_aggregate(p, i, 1, &sum, &a), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, a, &o), IVM_OK);
    dbsp_host *h = NULL;
    assert_int_equal(dbsp_host_new(p, pool4, &h), IVM_OK);
    ivm_err err;
    ivm_err_clear(&err);
    /* 20 steps of 50 rows (k % 10, k), then steps retracting all but k < 10. */
    for (int step = 0; step < 40; step++) {
        zset z;
        zset_init(&z);
        for (int64_t k = (step % 20) * 50; k < (step % 20 + 1) * 50; k++) {
            if (step >= 20 && k < 10)
                continue;
            ivm_value row[2] = {ivm_value_int(k % 10), ivm_value_int(k)};
            zset_add_vals(&z, row, 2, 1, step < 20 ? 1 : -1);
        }
        assert_int_equal(dbsp_host_feed_take(h, in, zset_to_batch(&z)), IVM_OK);
        zset_free(&z);
        assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
    }
    static char before[4096], after[4096];
    size_t nb = output_entries(h, o, before, sizeof before);
    assert_int_equal(nb, 10); /* SUM(k) per group k = 0..9: k */
    spine_stats st0, st1;
    dbsp_host_stats(h, &st0);
    assert_int_equal(dbsp_host_compact(h), IVM_OK);
    dbsp_host_stats(h, &st1);
    assert_int_equal(output_entries(h, o, after, sizeof after), nb);
    assert_string_equal(before, after);
    /* Over all workers: the integral holds the rows k < 10, the
     * aggregate's state spine and the output's spine one row per group
     * (D8); each spine at most one batch. */
    assert_int_equal(st1.rows, 10 + 10 + 10);
    assert_true(st1.batches <= 3 * 4);
    assert_true(st1.rows <= st0.rows);
    assert_int_equal(st1.pending, 0);
    /* Steps go on: add 100 to group 3. */
    int64_t k3 = 3, v100 = 100;
    assert_int_equal(dbsp_host_feed_take(h, in, batch_kv(&k3, &v100, 1)), IVM_OK);
    assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
    output_entries(h, o, after, sizeof after);
    assert_non_null(strstr(after, "3:103:1 "));
    dbsp_host_free(h);
    dbsp_plan_free(p);
}

/* D15: key filters on the spines operators probe and on the deltas that
 * reach them, none on a view's contents.  input -> map (re-keyed) ->
 * output: no filter anywhere, before or after compaction.  input -> map ->
 * integrate -> distinct -> output: the integral's batches (the map's
 * deltas, then the compaction's) have filters, the output's none. */
static void test_host_key_filters_only_where_probed(void **state)
{
    (void)state;
    for (int probed = 0; probed < 2; probed++) {
        dbsp_plan *p = dbsp_plan_new();
        dbsp_node in, m, i, d, o;
        assert_int_equal(dbsp_plan_input(p, 2, 1, &in), IVM_OK);
        dbsp_expr *e[2] = {dbsp_expr_col(1, IVM_TINT), dbsp_expr_col(0, IVM_TINT)};
        assert_int_equal(dbsp_plan_map(p, in, 2, e, 1, &m), IVM_OK);
        if (probed) {
            assert_int_equal(dbsp_plan_integrate(p, m, &i), IVM_OK);
            assert_int_equal(dbsp_plan_distinct(p, i, &d), IVM_OK);
            assert_int_equal(dbsp_plan_output(p, d, &o), IVM_OK);
        } else {
            assert_int_equal(dbsp_plan_output(p, m, &o), IVM_OK);
        }
        dbsp_host *h = NULL;
        assert_int_equal(dbsp_host_new(p, pool1, &h), IVM_OK);
        spine_stats st;
        for (int64_t step = 0; step < 12; step++) {
            int64_t k[8], v[8];
            for (int64_t j = 0; j < 8; j++) {
                k[j] = 8 * step + j;
                v[j] = 1000 + 8 * step + j; /* the map's key: distinct */
            }
            assert_int_equal(dbsp_host_feed_take(h, in, batch_kv(k, v, 8)), IVM_OK);
            ivm_err err;
            ivm_err_clear(&err);
            assert_int_equal(dbsp_host_step(h, &err), IVM_OK);
            if (step == 0) {
                /* One batch of 8 entries per spine, none merged yet. */
                dbsp_host_stats(h, &st);
                assert_int_equal(st.batches, probed ? 2 : 1);
                assert_int_equal(st.filtered, probed ? 1 : 0);
            }
        }
        assert_int_equal(dbsp_host_compact(h), IVM_OK);
        dbsp_host_stats(h, &st);
        assert_int_equal(st.batches, probed ? 2 : 1);
        assert_int_equal(st.filtered, probed ? 1 : 0);
        dbsp_host_free(h);
        dbsp_plan_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_rejects_unsharded_stateful_input),
        cmocka_unit_test(test_host_map_keeping_key_keeps_sharding),
        cmocka_unit_test(test_host_feed_checks_shape),
        cmocka_unit_test(test_host_outputs_before_first_step_are_empty),
        cmocka_unit_test(test_host_error_is_sticky),
        cmocka_unit_test(test_aggregate_sum_overflow_is_an_error),
        cmocka_unit_test(test_map_big_batch_resets_scratch),
        cmocka_unit_test(test_host_big_feed_is_sliced_exactly),
        cmocka_unit_test(test_host_steps_without_input),
        cmocka_unit_test(test_host_compact_cancels_and_keeps_contents),
        cmocka_unit_test(test_host_key_filters_only_where_probed),
    };
    return cmocka_run_group_tests(tests, setup_pools, teardown_pools);
}
