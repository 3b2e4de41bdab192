/*
 * plan.c: the planner's entry points.  plan_select_query runs the three
 * phases (bind.c, rewrite.c, lower.c) over one SELECT and hands back the
 * circuit with what its reader needs (inputs, result columns, ORDER BY and
 * LIMIT for ad-hoc reads).  Also the type-name helpers.
 */
#include "planner_int.h"

ivm_type plan_type_class(plan_type t)
{
    switch (t) {
    case PLAN_TY_INTEGER: case PLAN_TY_BIGINT: case PLAN_TY_BOOLEAN:
    case PLAN_TY_INT: case PLAN_TY_SMALLINT:
        return IVM_TINT;
    case PLAN_TY_REAL: case PLAN_TY_DOUBLE: case PLAN_TY_FLOAT: case PLAN_TY_DECIMAL:
        return IVM_TREAL;
    case PLAN_TY_TEXT: case PLAN_TY_VARCHAR: case PLAN_TY_DATE: case PLAN_TY_TIMESTAMP:
        return IVM_TTEXT;
    default:
        return IVM_TNULL;
    }
}

const char *plan_type_name(plan_type t)
{
    static const char *const names[PLAN_TY_COUNT_] = {
        [PLAN_TY_NONE] = "", [PLAN_TY_INTEGER] = "INTEGER", [PLAN_TY_BIGINT] = "BIGINT",
        [PLAN_TY_BOOLEAN] = "BOOLEAN", [PLAN_TY_REAL] = "REAL", [PLAN_TY_DOUBLE] = "DOUBLE",
        [PLAN_TY_FLOAT] = "FLOAT", [PLAN_TY_TEXT] = "TEXT", [PLAN_TY_VARCHAR] = "VARCHAR",
        [PLAN_TY_DECIMAL] = "DECIMAL", [PLAN_TY_DATE] = "DATE", [PLAN_TY_TIMESTAMP] = "TIMESTAMP",
        [PLAN_TY_INT] = "INT", [PLAN_TY_SMALLINT] = "SMALLINT",
    };
    if ((unsigned)t >= PLAN_TY_COUNT_)
        return "?";
    return names[t];
}

void plan_query_free(plan_query *q)
{
    if (q == NULL)
        return;
    dbsp_plan_free(q->plan);
    ivm_free(q->inputs);
    if (q->col_names != NULL)
        for (uint32_t i = 0; i < q->ncols; i++)
            ivm_free(q->col_names[i]);
    ivm_free(q->col_names);
    ivm_free(q->col_types);
    ivm_free(q->col_affs);
    ivm_free(q->sort);
    ivm_free(q);
}

ivm_rc plan_select_query(const plan_select *sel, const plan_catalog *cat, bool for_view,
                         plan_query **out, ivm_err *err)
{
    pctx c;
    memset(&c, 0, sizeof c);
    c.cat = cat;
    c.err = err;
    c.for_view = for_view;
    c.view_sel = for_view ? sel : NULL;
    rt_arena_init(&c.arena);
    lp_node *root = NULL;
    plan_query *q = ivm_calloc(1, sizeof *q);
    ivm_rc rc = IVM_NOMEM;
    if (q == NULL)
        goto fail;
    q->plan = dbsp_plan_new();
    if (q->plan == NULL)
        goto fail;
    rc = bind_select(&c, sel, &root, q);
    if (rc == IVM_OK)
        rc = reorder_joins(&c, &root);
    if (rc == IVM_OK)
        rc = rewrite_plan(&c, &root);
    if (rc == IVM_OK)
        rc = fold_prune_plan(&c, &root);
    if (rc == IVM_OK)
        rc = lower_plan(&c, root, q);
    if (rc != IVM_OK)
        goto fail;
    lp_free_exprs(root);
    rt_arena_fini(&c.arena);
    *out = q;
    return IVM_OK;
fail:
    if (rc == IVM_NOMEM)
        ivm_err_set(err, IVM_NOMEM, 0, 0, "out of memory while planning");
    lp_free_exprs(root);
    rt_arena_fini(&c.arena);
    plan_query_free(q);
    return rc;
}
