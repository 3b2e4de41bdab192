/*
 * test_compound.c: the planner on compound SELECTs, subqueries in FROM and
 * WITH against a fixed catalog: the circuits they lower to (a setop node
 * over two integrals each fed by an exchange, plus for UNION ALL, one
 * circuit for all references to a WITH table), result names, classes and ORDER BY, and
 * the errors and refusals, with positions.
 */
#include "planner/planner_testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* The input node ids of node n, read from the EXPLAIN listing. */
static int inputs_of(const plan_query *q, uint32_t n, uint32_t *in)
{
    size_t need = dbsp_plan_describe(q->plan, NULL, 0) + 1;
    char *buf = malloc(need);
    assert_non_null(buf);
    dbsp_plan_describe(q->plan, buf, need);
    char *line = buf;
    for (uint32_t i = 0; i < n; i++)
        line = strchr(line, '\n') + 1;
    char *lp = strchr(line, '(');
    int k = 0;
    if (lp != NULL && lp < strchr(line, '\n')) {
        unsigned a, b;
        k = sscanf(lp, "(%u, %u)", &a, &b);
        in[0] = a;
        in[1] = b;
    }
    free(buf);
    return k;
}

/* Every setop node reads two integrate nodes, each fed by an exchange or
 * by a node already sharded on that key (another setop's result, mapped
 * in place), all keyed by the whole row (P5). */
static void check_setops_arranged(const plan_query *q, int want)
{
    int seen = 0;
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++) {
        if (dbsp_plan_kind(q->plan, i) != DBSP_SETOP)
            continue;
        seen++;
        uint32_t in[2];
        assert_int_equal(inputs_of(q, i, in), 2);
        assert_int_equal(dbsp_plan_nkey(q->plan, i), dbsp_plan_ncols(q->plan, i));
        for (int k = 0; k < 2; k++) {
            assert_int_equal(dbsp_plan_kind(q->plan, in[k]), DBSP_INTEGRATE);
            uint32_t x[2];
            assert_int_equal(inputs_of(q, in[k], x), 1);
            assert_true(dbsp_plan_kind(q->plan, x[0]) == DBSP_EXCHANGE ||
                        dbsp_plan_sharded(q->plan, x[0]));
        }
    }
    assert_int_equal(seen, want);
}

static void test_compound_setops_lower_to_arranged_setop_nodes(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT a, c FROM r UNION SELECT a, y FROM s "
                              "INTERSECT SELECT b, c FROM r EXCEPT SELECT 1, 'x'",
                              true, &q, &err),
                     IVM_OK);
    check_setops_arranged(q, 3);
    assert_int_equal(count_kind(q, DBSP_PLUS), 0);
    assert_int_equal(q->ninputs, 3); /* r (read twice, one input), s, the one-row SELECT */
    assert_int_equal(q->ncols, 2);
    assert_string_equal(q->col_names[0], "a");
    assert_string_equal(q->col_names[1], "c");
    assert_int_equal(q->col_types[0], IVM_TINT);
    assert_int_equal(q->col_types[1], IVM_TTEXT);
    plan_query_free(q);
}

static void test_compound_union_all_is_plus(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    /* A DISTINCT member (keyed output) and a plain one: both made flat. */
    assert_int_equal(plan_sql("SELECT DISTINCT b AS n FROM r UNION ALL SELECT x FROM s "
                              "UNION ALL SELECT NULL",
                              true, &q, &err),
                     IVM_OK);
    assert_int_equal(count_kind(q, DBSP_PLUS), 2);
    assert_int_equal(count_kind(q, DBSP_SETOP), 0);
    assert_int_equal(count_kind(q, DBSP_DISTINCT), 1);
    assert_string_equal(q->col_names[0], "n");
    /* INT, REAL and NULL members: no one class. */
    assert_int_equal(q->col_types[0], IVM_TNULL);
    plan_query_free(q);
    /* A member of NULLs on the right keeps the left's class; on the left
     * it gives none (as SQLite's affinity of a compound column). */
    assert_int_equal(plan_sql("SELECT a, c FROM r UNION ALL SELECT NULL, NULL", true, &q, &err),
                     IVM_OK);
    assert_int_equal(q->col_types[0], IVM_TINT);
    assert_int_equal(q->col_types[1], IVM_TTEXT);
    plan_query_free(q);
    assert_int_equal(plan_sql("SELECT NULL UNION SELECT a FROM r", true, &q, &err), IVM_OK);
    assert_int_equal(q->col_types[0], IVM_TNULL);
    plan_query_free(q);
}

static void test_compound_from_subquery_and_with(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("WITH w(k, v) AS (SELECT a, c FROM r WHERE b > 1) "
                              "SELECT w1.k, w2.v, t.y FROM w w1 JOIN w w2 ON w1.k = w2.k, "
                              "(SELECT a, y FROM s UNION SELECT a, c FROM r) AS t "
                              "WHERE t.a = w1.k",
                              true, &q, &err),
                     IVM_OK);
    /* Both references to w share one circuit (one scan of r); the
     * subquery scans s and r, and r is read through the input w reads. */
    assert_int_equal(q->ninputs, 2);
    assert_int_equal(count_kind(q, DBSP_INPUT), 2);
    check_setops_arranged(q, 1);
    assert_int_equal(count_kind(q, DBSP_JOIN), 2);
    assert_string_equal(q->col_names[0], "k");
    assert_string_equal(q->col_names[1], "v");
    assert_string_equal(q->col_names[2], "y");
    plan_query_free(q);

    /* An unnamed subquery's columns are read unqualified; a repeated name
     * becomes name:1. */
    assert_int_equal(plan_sql("SELECT \"a:1\" FROM (SELECT a, a FROM r)", false, &q, &err),
                     IVM_OK);
    plan_query_free(q);
}

static void test_compound_adhoc_order_and_limit(void **state)
{
    (void)state;
    plan_query *q;
    ivm_err err;
    assert_int_equal(plan_sql("SELECT a AS z, c FROM r UNION SELECT a, y FROM s "
                              "ORDER BY c DESC, r.a, 1 LIMIT 2 OFFSET 1",
                              false, &q, &err),
                     IVM_OK);
    assert_int_equal(q->nsort, 3);
    assert_int_equal(q->sort[0].col, 1);
    assert_true(q->sort[0].desc);
    assert_int_equal(q->sort[1].col, 0);
    assert_int_equal(q->sort[2].col, 0);
    assert_int_equal(q->limit, 2);
    assert_int_equal(q->offset, 1);
    assert_int_equal(q->nhidden, 0);
    plan_query_free(q);
    /* In a view the ORDER BY is ignored. */
    assert_int_equal(plan_sql("SELECT a FROM r UNION SELECT a FROM s ORDER BY 1", true, &q,
                              &err),
                     IVM_OK);
    assert_int_equal(q->nsort, 0);
    plan_query_free(q);
}

static void expect_err(const char *sql, bool for_view, ivm_rc rc, uint32_t line, uint32_t col,
                       const char *msg_part)
{
    plan_query *q = NULL;
    ivm_err err;
    assert_int_equal(plan_sql(sql, for_view, &q, &err), rc);
    assert_null(q);
    if (strstr(err.msg, msg_part) == NULL || err.line != line || err.col != col) {
        fprintf(stderr, "%s\n  got %u:%u %s\n", sql, err.line, err.col, err.msg);
        fail();
    }
}

static void test_compound_errors_with_positions(void **state)
{
    (void)state;
    expect_err("SELECT a, b FROM r UNION ALL SELECT a FROM s", true, IVM_SCHEMA, 1, 30,
               "SELECTs to the left and right of UNION ALL do not have the same number of "
               "result columns");
    expect_err("SELECT a FROM r UNION SELECT a FROM s ORDER BY b", false, IVM_SCHEMA, 1, 48,
               "1st ORDER BY term does not match any column in the result set");
    expect_err("SELECT a FROM r INTERSECT SELECT x FROM s", true, IVM_UNSUPPORTED, 1, 27,
               "INTERSECT of an INTEGER column with a REAL column (result column 1)");
    /* A view's compound keeps its top-k; its LIMIT must not be negative. */
    expect_err("SELECT a FROM r EXCEPT SELECT a FROM s LIMIT -1", true, IVM_UNSUPPORTED, 1, 46,
               "LIMIT -1 in a view is not supported");
    expect_err("SELECT * FROM (SELECT a FROM r LIMIT 1)", false, IVM_UNSUPPORTED, 1, 38,
               "LIMIT (top-k)");
    expect_err("WITH c(n) AS (SELECT 1 UNION ALL SELECT n FROM c) SELECT n FROM c", true,
               IVM_UNSUPPORTED, 1, 48, "a recursive WITH table is not supported: c reads itself");
    expect_err("WITH c AS (SELECT a FROM d), d AS (SELECT a FROM c) SELECT a FROM c", true,
               IVM_UNSUPPORTED, 1, 50, "recursive WITH table");
    expect_err("WITH c AS (SELECT 1), C AS (SELECT 2) SELECT * FROM c", true, IVM_SCHEMA, 1, 23,
               "duplicate WITH table name: C");
    expect_err("WITH c(p, q) AS (SELECT 1) SELECT p FROM c", true, IVM_SCHEMA, 1, 42,
               "table c has 1 values for 2 columns");
    expect_err("SELECT t.zz FROM (SELECT a FROM r) AS t", true, IVM_SCHEMA, 1, 8,
               "no such column: t.zz");
    expect_err("SELECT a FROM (SELECT a FROM r) AS t, (SELECT a FROM s) AS t", true, IVM_SCHEMA,
               1, 39, "ambiguous table name in FROM: t");
    /* A refusal inside a member is reported where it stands. */
    expect_err("SELECT a FROM r UNION\nSELECT a FROM s WHERE a < random()", true,
               IVM_UNSUPPORTED, 2, 27, "function random() is not supported");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compound_setops_lower_to_arranged_setop_nodes),
        cmocka_unit_test(test_compound_union_all_is_plus),
        cmocka_unit_test(test_compound_from_subquery_and_with),
        cmocka_unit_test(test_compound_adhoc_order_and_limit),
        cmocka_unit_test(test_compound_errors_with_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
