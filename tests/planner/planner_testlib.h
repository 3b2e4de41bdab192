/*
 * planner_testlib.h: what the planner's tests share: a fixed catalog of two
 * tables, r(a INT, b INT, c TEXT) and s(a INT, x REAL, y TEXT), planning a
 * SELECT's text against it, and counting a plan's nodes of one kind.
 * Included by one test file per binary (its definitions are static).
 */
#ifndef TESTS_PLANNER_TESTLIB_H
#define TESTS_PLANNER_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "planner.h"
#include "sql.h"

#include <string.h>
#include <strings.h>

static const char *const r_cols[] = {"a", "b", "c"};
static const ivm_type r_types[] = {IVM_TINT, IVM_TINT, IVM_TTEXT};
static const char *const s_cols[] = {"a", "x", "y"};
static const ivm_type s_types[] = {IVM_TINT, IVM_TREAL, IVM_TTEXT};
static const plan_relation rels[] = {
    {PLAN_REL_TABLE, "r", 3, r_cols, r_types, 10, NULL},
    {PLAN_REL_TABLE, "s", 3, s_cols, s_types, 11, NULL},
};

static const plan_relation *lookup(void *ctx, const char *name)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++)
        if (strcasecmp(rels[i].name, name) == 0)
            return &rels[i];
    return NULL;
}

static const plan_catalog cat = {NULL, lookup};

/* Plans sql; returns the rc and fills *q (caller frees) and err. */
static ivm_rc plan_sql(const char *sql, bool for_view, plan_query **q, ivm_err *err)
{
    sql_parser *p = NULL;
    assert_int_equal(sql_parser_new(sql, strlen(sql), 1, &p), IVM_OK);
    plan_stmt *st = NULL;
    ivm_err_clear(err);
    assert_int_equal(sql_parse_next(p, &st, err), IVM_OK);
    assert_non_null(st);
    assert_int_equal(st->kind, PLAN_S_SELECT);
    *q = NULL;
    ivm_rc rc = plan_select_query(st->select, &cat, for_view, q, err);
    sql_parser_free(p);
    return rc;
}

static int count_kind(const plan_query *q, dbsp_kind k)
{
    int n = 0;
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        n += dbsp_plan_kind(q->plan, i) == k;
    return n;
}

/* True when node i drops rows by a predicate: a filter, or a map that a
 * filter was fused into (EXPLAIN prints " where " for both). */
static bool filters_rows(const plan_query *q, uint32_t i)
{
    size_t need = dbsp_plan_describe(q->plan, NULL, 0) + 1;
    char *buf = malloc(need);
    assert_non_null(buf);
    dbsp_plan_describe(q->plan, buf, need);
    char *line = buf;
    for (uint32_t k = 0; k < i; k++)
        line = strchr(line, '\n') + 1;
    char *end = strchr(line, '\n');
    char *w = strstr(line, " where ");
    bool yes = w != NULL && (end == NULL || w < end);
    free(buf);
    return yes;
}

static inline int count_filtering(const plan_query *q)
{
    int n = 0;
    for (uint32_t i = 0; i < dbsp_plan_nodes(q->plan); i++)
        n += filters_rows(q, i);
    return n;
}

#endif /* TESTS_PLANNER_TESTLIB_H */
