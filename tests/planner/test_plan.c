/*
 * test_plan.c: the planner on parsed SELECTs against a fixed catalog: the
 * circuits it lowers to (join keys extracted, filters pushed below joins,
 * exchange + integrate before every stateful operator), and the errors it
 * gives for unknown names and unsupported constructs, with positions.
 */
#include "planner/planner_testlib.h"

#include <stdio.h>
#include <strings.h>

static void test_plan_join_extracts_key(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT r.c, s.y FROM r, s WHERE r.a = s.a AND r.b > 1", true, &q,
                              &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_JOIN), 1);
    assert_int_equal(count_kind(q, DBSP_EXCHANGE), 2);
    assert_int_equal(count_kind(q, DBSP_INTEGRATE), 2);
    assert_int_equal(count_kind(q, DBSP_OUTPUT), 1);
    /* The join's inputs are keyed by one column: the key was extracted. */
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_JOIN)
            assert_int_equal(dbsp_plan_join_nkey(q->plan, i), 1);
    /* r.b > 1 reads only r: it sits below the join, before the first
     * exchange, not after the join. */
    uint32_t first_filter = UINT32_MAX, join = UINT32_MAX;
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++) {
        if (filters_rows(q, i) && first_filter == UINT32_MAX)
            first_filter = i;
        if (dbsp_plan_kind(q->plan, i) == DBSP_JOIN)
            join = i;
    }
    assert_true(first_filter < join);
    assert_int_equal(q->ncols, 2);
    assert_int_equal(q->ninputs, 2);
    plan_query_free(q);
}

/* A table named twice (a self-join, a subquery over it) is read through one
 * input node, fed once per change. */
static void test_plan_table_read_twice_has_one_input(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT x.c, y.c FROM r AS x JOIN r AS y ON x.a = y.b", true, &q,
                              &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_JOIN), 1);
    assert_int_equal(count_kind(q, DBSP_INPUT), 1);
    assert_int_equal(q->ninputs, 1);
    plan_query_free(q);
    assert_int_equal(plan_sql("SELECT r.c, s.y FROM r JOIN s ON r.a = s.a JOIN (SELECT a, MAX(b) "
                              "AS m FROM r GROUP BY a) AS g ON r.a = g.a AND r.b = g.m",
                              true, &q, &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_INPUT), 2);
    assert_int_equal(q->ninputs, 2);
    plan_query_free(q);
}

static void test_plan_mixed_class_key_is_cast(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    /* INT = REAL: still a key (both sides cast to REAL). */
    assert_int_equal(plan_sql("SELECT r.a FROM r JOIN s ON r.b = s.x", true, &q, &err), IVM_OK);
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_JOIN)
            assert_int_equal(dbsp_plan_join_nkey(q->plan, i), 1);
    plan_query_free(q);
    /* INT = TEXT: no key; a cross join with a residual filter. */
    assert_int_equal(plan_sql("SELECT r.a FROM r JOIN s ON r.b = s.y", true, &q, &err), IVM_OK);
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_JOIN)
            assert_int_equal(dbsp_plan_join_nkey(q->plan, i), 0);
    plan_query_free(q);
}

static void test_plan_group_by_arranges_by_group(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT b, COUNT(*), SUM(a), MAX(c), SUM(a) + 1 FROM r GROUP BY b",
                              true, &q, &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_AGGREGATE), 1);
    assert_int_equal(count_kind(q, DBSP_EXCHANGE), 1);
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_AGGREGATE) {
            /* key b, then COUNT(*), SUM(a), MAX(c): SUM(a) is computed once. */
            assert_int_equal(dbsp_plan_nkey(q->plan, i), 1);
            assert_int_equal(dbsp_plan_ncols(q->plan, i), 4);
        }
    assert_int_equal(q->ncols, 5);
    assert_int_equal(q->col_types[1], IVM_TINT);
    assert_int_equal(q->col_types[3], IVM_TTEXT);
    plan_query_free(q);
}

/* An aggregate whose functions all fold exactly over a multiset (COUNT,
 * SUM, TOTAL, AVG) reads no integral: none is built under it (D8, "Counts
 * keep no integral").  MIN, MAX, GROUP_CONCAT and DISTINCT sums still
 * read one. */
static void test_plan_exact_folds_keep_no_integral(void **state)
{
    (void)state;
    static const struct {
        const char *sql;
        int integrates; /* besides the join's two */
    } cases[] = {
        {"SELECT r.b, COUNT(*), SUM(r.a + s.a) FROM r JOIN s ON r.b = s.a GROUP BY r.b", 0},
        {"SELECT r.b, AVG(s.x), TOTAL(r.a), SUM(s.x) FILTER (WHERE r.a > 1), COUNT(DISTINCT s.y) "
         "FROM r JOIN s ON r.b = s.a GROUP BY r.b", 0},
        {"SELECT r.b, COUNT(*), MIN(r.a) FROM r JOIN s ON r.b = s.a GROUP BY r.b", 1},
        {"SELECT r.b, SUM(DISTINCT r.a) FROM r JOIN s ON r.b = s.a GROUP BY r.b", 1},
        {"SELECT r.b, GROUP_CONCAT(s.y) FROM r JOIN s ON r.b = s.a GROUP BY r.b", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        plan_query *q;
        ivm_err err;
        assert_int_equal(plan_sql(cases[k].sql, true, &q, &err), IVM_OK);
        assert_int_equal(count_kind(q, DBSP_AGGREGATE), 1);
        assert_int_equal(count_kind(q, DBSP_INTEGRATE), 2 + cases[k].integrates);
        /* EXPLAIN agrees: the aggregate reads an integral or none. */
        size_t n = dbsp_plan_describe(q->plan, NULL, 0);
        char *buf = malloc(n + 1);
        assert_non_null(buf);
        dbsp_plan_describe(q->plan, buf, n + 1);
        const char *agg = strstr(buf, " aggregate(");
        assert_non_null(agg);
        const char *eol = strchr(agg, '\n');
        const char *reads = strstr(agg, "reads: I(");
        assert_int_equal(reads != NULL && reads < eol, cases[k].integrates > 0);
        free(buf);
        plan_query_free(q);
    }
}

static void test_plan_distinct_and_empty_group(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT DISTINCT c FROM r", true, &q, &err), IVM_OK);
    assert_int_equal(count_kind(q, DBSP_DISTINCT), 1);
    plan_query_free(q);
    assert_int_equal(plan_sql("SELECT COUNT(*), AVG(b) FROM r", true, &q, &err), IVM_OK);
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_AGGREGATE)
            assert_int_equal(dbsp_plan_nkey(q->plan, i), 0);
    assert_int_equal(q->col_types[1], IVM_TREAL);
    plan_query_free(q);
}

static void test_plan_errors_name_the_problem(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT nope FROM r", true, &q, &err), IVM_SCHEMA);
    assert_string_equal(err.msg, "no such column: nope");
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 8);
    assert_null(q);
    assert_int_equal(plan_sql("SELECT a FROM r, s", true, &q, &err), IVM_SCHEMA);
    assert_string_equal(err.msg, "ambiguous column name: a");
    assert_int_equal(plan_sql("SELECT * FROM missing", true, &q, &err), IVM_SCHEMA);
    assert_string_equal(err.msg, "no such table: missing");
    assert_int_equal(plan_sql("SELECT (SELECT s.y FROM s WHERE s.a = r.a) FROM r", true, &q,
                              &err),
                     IVM_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "correlated scalar subquery"));
    assert_int_equal(err.col, 8);
    assert_int_equal(plan_sql("SELECT r.a FROM r WHERE r.a = 1 OR r.a IN (SELECT a FROM s WHERE s.x > r.b)",
                              true, &q, &err),
                     IVM_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "IN (subquery)"));
    assert_int_equal(err.col, 36);
    assert_int_equal(plan_sql("SELECT a FROM r ORDER BY a LIMIT -3", true, &q, &err),
                     IVM_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "LIMIT -3"));
    assert_int_equal(err.col, 34);  /* the LIMIT expression */
    assert_int_equal(plan_sql("SELECT a FROM r ORDER BY a LIMIT 3 OFFSET 0 - 1", true, &q, &err),
                     IVM_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "OFFSET -1"));
    assert_int_equal(err.col, 43);
    assert_int_equal(plan_sql("SELECT a FROM r ORDER BY a LIMIT a", true, &q, &err), IVM_SCHEMA);
    assert_int_equal(plan_sql("SELECT a, COUNT(*) FROM r", true, &q, &err), IVM_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "GROUP BY"));
    assert_int_equal(plan_sql("SELECT COUNT(*) FROM r WHERE SUM(a) > 1", true, &q, &err),
                     IVM_SCHEMA);
}

/* Every join of a plan has a key (no cross product). */
static bool all_joins_keyed(const plan_query *q)
{
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_JOIN && dbsp_plan_join_nkey(q->plan, i) == 0)
            return false;
    return true;
}

static void test_plan_outer_join_is_join_plus_antijoin(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    /* Inner join, and the left side's semijoin with the distinct keys. */
    assert_int_equal(plan_sql("SELECT r.c, s.y FROM r LEFT JOIN s ON r.a = s.a", true, &q, &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_JOIN), 2);
    assert_int_equal(count_kind(q, DBSP_DISTINCT), 1);
    assert_true(all_joins_keyed(q));
    plan_query_free(q);
    assert_int_equal(plan_sql("SELECT r.c, s.y FROM r FULL JOIN s ON r.a = s.a", true, &q, &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_JOIN), 3);
    assert_int_equal(count_kind(q, DBSP_DISTINCT), 2);
    plan_query_free(q);
    /* A WHERE that rejects the padding makes the join inner. */
    assert_int_equal(plan_sql("SELECT r.c FROM r LEFT JOIN s ON r.a = s.a WHERE s.y = 'k'", true,
                              &q, &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_JOIN), 1);
    assert_int_equal(count_kind(q, DBSP_DISTINCT), 0);
    plan_query_free(q);
    /* EXISTS correlated by an equality: a keyed semijoin, no inner join. */
    assert_int_equal(plan_sql("SELECT c FROM r WHERE EXISTS (SELECT 1 FROM s WHERE s.a = r.a)",
                              true, &q, &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_JOIN), 1);
    assert_true(all_joins_keyed(q));
    plan_query_free(q);
}

static void test_plan_comma_joins_avoid_cross_products(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT r.c FROM r, s, r AS r2 WHERE r.b = r2.b AND s.a = r2.a",
                              true, &q, &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_JOIN), 2);
    assert_true(all_joins_keyed(q));
    plan_query_free(q);
}

static void test_plan_adhoc_order_and_limit(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT a, c FROM r ORDER BY b DESC, 1 LIMIT 5 OFFSET 2", false, &q,
                              &err),
                     IVM_OK);
    assert_int_equal(q->ncols, 2);
    assert_int_equal(q->nhidden, 1);   /* b is not selected: a hidden column */
    assert_int_equal(q->nsort, 2);
    assert_int_equal(q->sort[0].col, 2);
    assert_true(q->sort[0].desc);
    assert_int_equal(q->sort[1].col, 0);
    assert_int_equal(q->limit, 5);
    assert_int_equal(q->offset, 2);
    plan_query_free(q);
}

/* A view's LIMIT becomes a topk node over an arrangement whose first value
 * column is the sort key; the result has only the view's columns. */
static void test_plan_view_topk(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT a, c FROM r ORDER BY b DESC, 1 LIMIT 5 OFFSET 2", true, &q,
                              &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_TOPK), 1);
    assert_int_equal(q->ncols, 2);
    assert_int_equal(q->nhidden, 0);
    assert_int_equal(q->nsort, 0);
    assert_int_equal(dbsp_plan_ncols(q->plan, q->output), 2);
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_TOPK)
            assert_int_equal(dbsp_plan_ncols(q->plan, i), 4); /* key, a, c, b */
    plan_query_free(q);
    /* ORDER BY without LIMIT in a view is ignored: no top-k. */
    assert_int_equal(plan_sql("SELECT a FROM r ORDER BY a", true, &q, &err), IVM_OK);
    assert_int_equal(count_kind(q, DBSP_TOPK), 0);
    plan_query_free(q);
}

/* The topk node of a plan, its description in buf. */
static uint32_t topk_node(const plan_query *q, char *buf, size_t cap)
{
    uint32_t t = UINT32_MAX;
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_TOPK)
            t = i;
    assert_true(t != UINT32_MAX);
    assert_true(dbsp_plan_describe(q->plan, buf, cap) < cap);
    return t;
}

/* ROW_NUMBER() in a FROM subquery bounded by the enclosing WHERE: one topk
 * node keyed by the partition, numbering its rows (one column more than
 * its arrangement), limited by the bound; the arrangement holds only what
 * is read above and by the window (c is pruned). */
static void test_plan_row_number_is_topk_per_partition(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    char buf[4096];
    assert_int_equal(plan_sql("SELECT a, rn FROM (SELECT a, b, c, ROW_NUMBER() OVER (PARTITION "
                              "BY a ORDER BY b DESC) AS rn FROM r) WHERE rn <= 3",
                              true, &q, &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_TOPK), 1);
    uint32_t t = topk_node(q, buf, sizeof buf);
    assert_int_equal(dbsp_plan_nkey(q->plan, t), 1);
    /* key a, sortkey(b), b, then the number: the partition column a is
     * kept once, as the key */
    assert_int_equal(dbsp_plan_ncols(q->plan, t), 4);
    assert_non_null(strstr(buf, "limit=3 row_number=#3"));
    assert_int_equal(q->ncols, 2);
    assert_int_equal(q->col_types[1], IVM_TINT);
    plan_query_free(q);
    /* No partition: one global one; a mirrored strict bound; two bounds
     * keep the smaller. */
    assert_int_equal(plan_sql("SELECT * FROM (SELECT a, ROW_NUMBER() OVER (ORDER BY c) AS n "
                              "FROM r) AS x WHERE 3 > x.n AND n <= 7",
                              true, &q, &err),
                     IVM_OK);
    t = topk_node(q, buf, sizeof buf);
    assert_int_equal(dbsp_plan_nkey(q->plan, t), 0);
    assert_non_null(strstr(buf, "limit=2 row_number="));
    plan_query_free(q);
    /* Unbounded, bounded from below, in a view's own results: refused at
     * the function's name. */
    assert_int_equal(plan_sql("SELECT * FROM (SELECT a, ROW_NUMBER() OVER (ORDER BY c) AS n "
                              "FROM r) WHERE n > 2",
                              true, &q, &err),
                     IVM_UNSUPPORTED);
    assert_int_equal(err.col, 26);
    assert_int_equal(plan_sql("SELECT a, ROW_NUMBER() OVER (ORDER BY c) FROM r", true, &q, &err),
                     IVM_UNSUPPORTED);
    assert_int_equal(err.col, 11);
    assert_int_equal(plan_sql("SELECT * FROM (SELECT a, ROW_NUMBER() OVER (ORDER BY c) AS n "
                              "FROM r) WHERE n <= a",
                              true, &q, &err),
                     IVM_UNSUPPORTED);
}

/* Columns nobody above a join needs are not arranged, nor an inner join's
 * key columns (the key holds them): r keeps (key, c) and s (key) instead
 * of (key, a, b, c) and (key, a, x, y). */
static void test_plan_prune_narrows_join_arrangements(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT r.c FROM r JOIN s ON r.a = s.a", true, &q, &err), IVM_OK);
    uint32_t widths[2], n = 0;
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_INTEGRATE && n < 2)
            widths[n++] = dbsp_plan_ncols(q->plan, i);
    assert_int_equal(n, 2);
    assert_int_equal(widths[0], 2);
    assert_int_equal(widths[1], 1);
    assert_int_equal(q->ncols, 1);
    plan_query_free(q);
}

/* The widths of a plan's first two integrate nodes. */
static void first_integrals(const plan_query *q, uint32_t *w0, uint32_t *w1)
{
    uint32_t widths[2] = {0, 0}, n = 0;
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        if (dbsp_plan_kind(q->plan, i) == DBSP_INTEGRATE && n < 2)
            widths[n++] = dbsp_plan_ncols(q->plan, i);
    assert_int_equal(n, 2);
    *w0 = widths[0];
    *w1 = widths[1];
}

/* An inner join's arrangements keep a key column once, as the key, and
 * every reference to it (either side's, selected or in the residual
 * condition) reads the key; a key computed from a column keeps the column;
 * an outer join keeps the column (its padded rows have NULL keys). */
static void test_plan_inner_join_keeps_key_columns_once(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    uint32_t w0, w1;
    assert_int_equal(plan_sql("SELECT r.a, s.a, r.c, s.x FROM r JOIN s ON r.a = s.a "
                              "WHERE r.a + s.a > r.c",
                              true, &q, &err),
                     IVM_OK);
    first_integrals(q, &w0, &w1);
    assert_int_equal(w0, 2); /* (a; c) */
    assert_int_equal(w1, 2); /* (a; x) */
    assert_int_equal(q->ncols, 4);
    plan_query_free(q);
    assert_int_equal(plan_sql("SELECT r.a, s.x FROM r JOIN s ON r.a + 1 = s.a", true, &q, &err),
                     IVM_OK);
    first_integrals(q, &w0, &w1);
    assert_int_equal(w0, 2); /* (a + 1; a) */
    assert_int_equal(w1, 2); /* (a; x) */
    plan_query_free(q);
    assert_int_equal(plan_sql("SELECT r.a, s.x FROM r LEFT JOIN s ON r.a = s.a", true, &q, &err),
                     IVM_OK);
    first_integrals(q, &w0, &w1);
    assert_int_equal(w0, 2); /* (a; a) */
    assert_int_equal(w1, 3); /* (a; a, x) */
    plan_query_free(q);
}

/* WHERE 1 = 1 leaves no filter; WHERE 0 leaves no filter and an input that
 * is never fed (not among the query's inputs). */
static void test_plan_fold_constant_filters(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT a FROM r WHERE 1 = 1 AND b > 2 + 3", true, &q, &err),
                     IVM_OK);
    assert_int_equal(count_filtering(q), 1);
    assert_int_equal(q->ninputs, 1);
    plan_query_free(q);
    assert_int_equal(plan_sql("SELECT a FROM r WHERE 1 = 1", true, &q, &err), IVM_OK);
    assert_int_equal(count_filtering(q), 0);
    assert_int_equal(q->ninputs, 1);
    plan_query_free(q);
    assert_int_equal(plan_sql("SELECT a FROM r WHERE NULL OR 0", true, &q, &err), IVM_OK);
    assert_int_equal(count_filtering(q), 0);
    assert_int_equal(q->ninputs, 0);
    assert_int_equal(count_kind(q, DBSP_INPUT), 1);
    plan_query_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_join_extracts_key),
        cmocka_unit_test(test_plan_view_topk),
        cmocka_unit_test(test_plan_row_number_is_topk_per_partition),
        cmocka_unit_test(test_plan_prune_narrows_join_arrangements),
        cmocka_unit_test(test_plan_inner_join_keeps_key_columns_once),
        cmocka_unit_test(test_plan_fold_constant_filters),
        cmocka_unit_test(test_plan_table_read_twice_has_one_input),
        cmocka_unit_test(test_plan_mixed_class_key_is_cast),
        cmocka_unit_test(test_plan_group_by_arranges_by_group),
        cmocka_unit_test(test_plan_exact_folds_keep_no_integral),
        cmocka_unit_test(test_plan_distinct_and_empty_group),
        cmocka_unit_test(test_plan_errors_name_the_problem),
        cmocka_unit_test(test_plan_adhoc_order_and_limit),
        cmocka_unit_test(test_plan_outer_join_is_join_plus_antijoin),
        cmocka_unit_test(test_plan_comma_joins_avoid_cross_products),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
