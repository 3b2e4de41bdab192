/*
 * test_plan.c: plan construction: shapes each constructor computes, the
 * shapes it refuses (leaving the plan unchanged and freeing what it was
 * given), and the EXPLAIN listing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dbsp.h"

static dbsp_expr *col(uint32_t c)
{
    return dbsp_expr_col(c, IVM_TINT);
}

static void test_plan_constructors_compute_shapes(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node a, b, xa, xb, ia, ib, j, m, f, s, n, z, d, g, o;
    assert_int_equal(dbsp_plan_input(p, 3, 1, &a), IVM_OK);
    assert_int_equal(dbsp_plan_input(p, 2, 1, &b), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, a, &xa), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, b, &xb), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xa, &ia), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xb, &ib), IVM_OK);
    assert_int_equal(dbsp_plan_join(p, ia, ib, &j), IVM_OK);
    assert_int_equal(dbsp_plan_ncols(p, j), 4); /* k, a1, a2, b1 */
    assert_int_equal(dbsp_plan_nkey(p, j), 1);
    dbsp_expr *e[2] = {col(3), col(0)};
    assert_int_equal(dbsp_plan_map(p, j, 2, e, 2, &m), IVM_OK);
    assert_int_equal(dbsp_plan_ncols(p, m), 2);
    assert_int_equal(dbsp_plan_nkey(p, m), 2);
    ivm_value two = ivm_value_int(2);
    dbsp_expr *lt[2] = {col(1), dbsp_expr_const(&two)};
    assert_int_equal(dbsp_plan_filter(p, m, dbsp_expr_op(DBSP_X_LT, IVM_TINT, 2, lt), &f), IVM_OK);
    assert_int_equal(dbsp_plan_plus(p, m, f, &s), IVM_OK);
    assert_int_equal(dbsp_plan_negate(p, s, &n), IVM_OK);
    assert_int_equal(dbsp_plan_z1(p, n, &z), IVM_OK);
    assert_int_equal(dbsp_plan_distinct(p, ia, &d), IVM_OK);
    dbsp_agg aggs[2] = {{.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT, .col = 0}, {.kind = DBSP_AGG_MAX, .type = IVM_TINT, .col = 2}};
    assert_int_equal(dbsp_plan_aggregate(p, ia, 2, aggs, &g), IVM_OK);
    assert_int_equal(dbsp_plan_ncols(p, g), 3);
    assert_int_equal(dbsp_plan_output(p, g, &o), IVM_OK);
    assert_int_equal(dbsp_plan_nodes(p), 15);
    assert_int_equal(dbsp_plan_kind(p, j), DBSP_JOIN);
    assert_int_equal(dbsp_plan_kind(p, o), DBSP_OUTPUT);
    assert_int_equal(dbsp_plan_kind(p, 15), DBSP_KIND_COUNT_);
    assert_int_equal(dbsp_plan_ncols(p, 15), 0);

    char buf[4096];
    size_t len = dbsp_plan_describe(p, buf, sizeof buf);
    assert_int_equal(len, strlen(buf));
    assert_non_null(strstr(buf, "6 join(4, 5) cols=4 key=1 sharded"));
    assert_non_null(strstr(buf, "7 map(6) cols=2 key=2 [#3, #0]\n"));
    assert_non_null(strstr(buf, "8 filter(7) cols=2 key=2 where (#1 < 2)\n"));
    assert_non_null(strstr(buf, "13 aggregate(4) cols=3 key=1 [count(*), max(#2)] sharded"));
    /* snprintf-like: the length needed, whatever fits. */
    char small[16];
    assert_int_equal(dbsp_plan_describe(p, small, sizeof small), len);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(dbsp_plan_describe(p, NULL, 0), len);
    dbsp_plan_free(p);
}

static void test_plan_constructors_reject_bad_shapes(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node a, b, c, ia, ib, x, out = 1234;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &a), IVM_OK);
    assert_int_equal(dbsp_plan_input(p, 3, 2, &b), IVM_OK);
    assert_int_equal(dbsp_plan_input(p, 2, 0, &c), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, a, &ia), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, b, &ib), IVM_OK);
    uint32_t nodes = dbsp_plan_nodes(p);

    assert_int_equal(dbsp_plan_input(p, 1, 2, &x), IVM_INVALID);       /* key > columns */
    assert_int_equal(dbsp_plan_filter(p, 99, col(0), &x), IVM_INVALID); /* no such node */
    assert_int_equal(dbsp_plan_filter(p, a, col(2), &x), IVM_INVALID);  /* no column 2 */
    assert_int_equal(dbsp_plan_filter(p, a, NULL, &x), IVM_INVALID);
    dbsp_expr *e[2] = {col(0), col(5)};
    assert_int_equal(dbsp_plan_map(p, a, 2, e, 1, &x), IVM_INVALID);
    dbsp_expr *e2[1] = {col(0)};
    assert_int_equal(dbsp_plan_map(p, a, 1, e2, 2, &x), IVM_INVALID); /* key > columns */
    assert_int_equal(dbsp_plan_plus(p, a, b, &x), IVM_INVALID);        /* 2 vs 3 columns */
    assert_int_equal(dbsp_plan_plus(p, a, c, &x), IVM_INVALID);        /* key 1 vs 0 */
    assert_int_equal(dbsp_plan_negate(p, 77, &x), IVM_INVALID);
    assert_int_equal(dbsp_plan_exchange(p, 77, &x), IVM_INVALID);
    assert_int_equal(dbsp_plan_integrate(p, 77, &x), IVM_INVALID);
    assert_int_equal(dbsp_plan_z1(p, 77, &x), IVM_INVALID);
    assert_int_equal(dbsp_plan_output(p, 77, &x), IVM_INVALID);
    assert_int_equal(dbsp_plan_distinct(p, a, &x), IVM_INVALID);       /* not an integral */
    assert_int_equal(dbsp_plan_join(p, a, ia, &x), IVM_INVALID);
    assert_int_equal(dbsp_plan_join(p, ia, ib, &x), IVM_INVALID);      /* key 1 vs 2 */
    dbsp_agg bad = {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 2};
    assert_int_equal(dbsp_plan_aggregate(p, ia, 1, &bad, &x), IVM_INVALID);
    bad.kind = DBSP_AGG_KIND_COUNT_;
    bad.col = 0;
    assert_int_equal(dbsp_plan_aggregate(p, ia, 1, &bad, &x), IVM_INVALID);
    assert_int_equal(dbsp_plan_aggregate(p, a, 0, NULL, &x), IVM_INVALID);
    (void)out;
    assert_int_equal(dbsp_plan_nodes(p), nodes);
    dbsp_plan_free(p);
    dbsp_plan_free(NULL);
}

/* Zero-column rows and zero aggregates are legal: SELECT DISTINCT of a
 * grouping without aggregates, or a count-only projection. */
static void test_plan_allows_empty_rows(void **state)
{
    (void)state;
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node a, m, i, g;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &a), IVM_OK);
    assert_int_equal(dbsp_plan_map(p, a, 0, NULL, 0, &m), IVM_OK);
    assert_int_equal(dbsp_plan_ncols(p, m), 0);
    assert_int_equal(dbsp_plan_integrate(p, a, &i), IVM_OK);
    assert_int_equal(dbsp_plan_aggregate(p, i, 0, NULL, &g), IVM_OK);
    assert_int_equal(dbsp_plan_ncols(p, g), 1);
    dbsp_plan_free(p);
}

/* A plan with every kind of node that EXPLAIN names specially: two inputs,
 * exchanges, integrates, a join, an aggregate, a top-k, an output, and a
 * filter whose text constant holds DOT's special characters. */
static dbsp_plan *explain_plan(void)
{
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node a, b, xa, xb, ia, ib, j, f, m, x, i, g, t, o;
    assert_int_equal(dbsp_plan_input(p, 2, 1, &a), IVM_OK);
    assert_int_equal(dbsp_plan_input(p, 2, 1, &b), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, a, &xa), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, b, &xb), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xa, &ia), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, xb, &ib), IVM_OK);
    assert_int_equal(dbsp_plan_join(p, ia, ib, &j), IVM_OK);
    ivm_value q = ivm_value_text("say \"hi\" \\ {x}", 14);
    dbsp_expr *ne[2] = {col(1), dbsp_expr_const(&q)};
    assert_int_equal(dbsp_plan_filter(p, j, dbsp_expr_op(DBSP_X_NE, IVM_TINT, 2, ne), &f), IVM_OK);
    ivm_value desc = ivm_value_int(DBSP_ORDER_DESC);
    dbsp_expr *terms[2] = {dbsp_expr_const(&desc), col(2)};
    dbsp_expr *me[3] = {col(0), dbsp_expr_func(DBSP_FN_SORTKEY, IVM_TTEXT, 2, terms), col(2)};
    assert_int_equal(dbsp_plan_map(p, f, 3, me, 1, &m), IVM_OK);
    assert_int_equal(dbsp_plan_exchange(p, m, &x), IVM_OK);
    assert_int_equal(dbsp_plan_integrate(p, x, &i), IVM_OK);
    dbsp_agg cnt = {.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT};
    assert_int_equal(dbsp_plan_aggregate(p, i, 1, &cnt, &g), IVM_OK);
    assert_int_equal(dbsp_plan_topk(p, i, 1, 2, false, &t), IVM_OK);
    assert_int_equal(dbsp_plan_output(p, t, &o), IVM_OK);
    (void)g;
    return p;
}

static void test_plan_explain_names_state_and_routes(void **state)
{
    (void)state;
    dbsp_plan *p = explain_plan();
    size_t len = dbsp_plan_describe(p, NULL, 0);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    assert_int_equal(dbsp_plan_describe(p, buf, len + 1), len);
    assert_non_null(strstr(buf, "2 exchange(0) cols=2 key=1 sharded; route: each row to the "
                                "worker owning hash(#0)"));
    assert_non_null(strstr(buf, "4 integrate(2) cols=2 key=1 sharded; state: spine I(2) of "
                                "2-column rows keyed by (#0)\n"));
    assert_non_null(strstr(buf, "6 join(4, 5) cols=3 key=1 sharded; reads: I(4), I(5) on key "
                                "(#0)\n"));
    assert_non_null(strstr(buf, "[#0, sortkey(#2 DESC NULLS FIRST), #2]"));
    assert_non_null(strstr(buf, "12 topk(10) cols=3 key=1 offset=1 limit=2 sharded; reads: "
                                "I(10); state: spine of its output"));
    assert_non_null(strstr(buf, "13 output(12)"));
    /* One line per node. */
    size_t lines = 0;
    for (size_t k = 0; k < len; k++)
        lines += buf[k] == '\n';
    assert_int_equal(lines, dbsp_plan_nodes(p));
    free(buf);
    dbsp_plan_free(p);
}

/* The DOT text is well formed: braces balance outside strings, every
 * string ends, there is one node statement per plan node, and every edge
 * joins declared nodes in the plan's input order. */
static void test_plan_dot_is_well_formed(void **state)
{
    (void)state;
    dbsp_plan *p = explain_plan();
    size_t len = dbsp_plan_dot(p, "v\"1", NULL, 0);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    assert_int_equal(dbsp_plan_dot(p, "v\"1", buf, len + 1), len);
    assert_int_equal(strncmp(buf, "digraph \"v\\\"1\" {\n", 17), 0);
    int depth = 0, max_depth = 0;
    bool in_str = false;
    for (size_t k = 0; k < len; k++) {
        char ch = buf[k];
        if (in_str) {
            if (ch == '\\') {
                k++;
                assert_true(k < len);
            } else if (ch == '"') {
                in_str = false;
            } else {
                assert_true(ch != '\n'); /* a label's breaks are written \n */
            }
            continue;
        }
        if (ch == '"')
            in_str = true;
        else if (ch == '{')
            depth++;
        else if (ch == '}')
            depth--;
        assert_true(depth >= 0);
        if (depth > max_depth)
            max_depth = depth;
    }
    assert_false(in_str);
    assert_int_equal(depth, 0);
    assert_int_equal(max_depth, 1);
    assert_string_equal(buf + len - 2, "}\n");

    uint32_t n = dbsp_plan_nodes(p);
    bool declared[64] = {false};
    uint32_t nodes = 0, edges = 0, want_edges = 0;
    for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        unsigned from, to, id;
        int used = 0;
        if (sscanf(line, "  n%u -> n%u%n", &from, &to, &used) == 2 && used > 0) {
            assert_true(from < n && to < n);
            assert_true(declared[from] && declared[to]);
            assert_true(from < to); /* inputs precede their readers */
            edges++;
        } else if (sscanf(line, "  n%u [label=\"%n", &id, &used) == 1 && used > 0) {
            assert_true(id < n);
            assert_false(declared[id]);
            declared[id] = true;
            nodes++;
            char head[32];
            snprintf(head, sizeof head, "%u ", id);
            assert_int_equal(strncmp(line + used, head, strlen(head)), 0);
        }
    }
    assert_int_equal(nodes, n);
    for (uint32_t k = 0; k < n; k++) {
        dbsp_kind kind = dbsp_plan_kind(p, k);
        want_edges += kind == DBSP_INPUT ? 0 : kind == DBSP_JOIN ? 2 : 1;
    }
    assert_int_equal(edges, want_edges);
    free(buf);
    dbsp_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_constructors_compute_shapes),
        cmocka_unit_test(test_plan_constructors_reject_bad_shapes),
        cmocka_unit_test(test_plan_allows_empty_rows),
        cmocka_unit_test(test_plan_explain_names_state_and_routes),
        cmocka_unit_test(test_plan_dot_is_well_formed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
