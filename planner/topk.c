/*
 * topk.c: a view's ORDER BY ... LIMIT n [OFFSET m], maintained.  The binder
 * (bind.c) reads the bounds and the ORDER BY terms into the query's sort
 * keys as for an ad-hoc query; for a view, lower.c then calls lower_topk,
 * which ends the circuit with
 *
 *   map [sortkey(terms), row...] -> exchange (empty key) -> integrate
 *     -> topk(m, n) -> map [row]
 *
 * so that the view's contents are the rows ranked m+1 .. m+n.  The sort key
 * (DBSP_FN_SORTKEY) makes the integral's byte order the ORDER BY order; the
 * rest of the row follows it, so rows that ORDER BY calls equal are ranked
 * by their encoded bytes (INT before REAL, then by value; see
 * planner/README.md, "Top-k"), where SQLite picks any.  It does not bind
 * names (bind.c) or run anything (dbsp/op_topk.c).
 */
#include "planner_int.h"

ivm_rc topk_check_bounds(pctx *c, const plan_select *sel, const plan_query *q)
{
    /* SQLite reads a negative LIMIT as "no limit" and a negative OFFSET as
     * 0; a view's top-k wants both as they are written. */
    if (sel->limit != NULL && q->limit < 0)
        return ivm_err_set(c->err, IVM_UNSUPPORTED, sel->limit->pos.line, sel->limit->pos.col,
                           "LIMIT %lld in a view is not supported: a view's LIMIT must be "
                           "a non-negative integer constant",
                           (long long)q->limit);
    if (sel->offset != NULL && q->offset < 0)
        return ivm_err_set(c->err, IVM_UNSUPPORTED, sel->offset->pos.line,
                           sel->offset->pos.col,
                           "OFFSET %lld in a view is not supported: a view's OFFSET must be "
                           "a non-negative integer constant",
                           (long long)q->offset);
    return IVM_OK;
}

static void free_exprs(dbsp_expr **ex, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dbsp_expr_free(ex[i]);
}

/* map [sortkey(...) if sorted, #0 .. #width-1], key-less. */
static ivm_rc keyed_map(dbsp_plan *p, const plan_query *q, dbsp_node in, uint32_t width,
                        dbsp_node *out)
{
    uint32_t lead = q->nsort > 0 ? 1 : 0;
    dbsp_expr **ex = ivm_calloc(width + lead + 1, sizeof *ex);
    dbsp_expr **terms = ivm_calloc(2 * (size_t)q->nsort + 1, sizeof *terms);
    if (ex == NULL || terms == NULL)
        goto nomem;
    if (lead) {
        for (uint32_t i = 0; i < q->nsort; i++) {
            const plan_sort_key *k = &q->sort[i];
            ivm_value f = ivm_value_int((k->desc ? DBSP_ORDER_DESC : 0) |
                                        (k->nulls > 0 ? DBSP_ORDER_NULLS_LAST : 0));
            terms[2 * i] = dbsp_expr_const(&f);
            terms[2 * i + 1] = dbsp_expr_col(k->col, IVM_TNULL);
        }
        /* A NULL element makes dbsp_expr_func fail and free the rest. */
        ex[0] = dbsp_expr_func(DBSP_FN_SORTKEY, IVM_TTEXT, 2 * q->nsort, terms);
        if (ex[0] == NULL)
            goto nomem;
    }
    for (uint32_t i = 0; i < width; i++) {
        ex[lead + i] = dbsp_expr_col(i, IVM_TNULL);
        if (ex[lead + i] == NULL) {
            free_exprs(ex, lead + i);
            goto nomem;
        }
    }
    ivm_free(terms);
    ivm_rc rc = dbsp_plan_map(p, in, width + lead, ex, 0, out);
    ivm_free(ex);
    return rc;
nomem:
    ivm_free(terms);
    ivm_free(ex);
    return IVM_NOMEM;
}

ivm_rc lower_topk(pctx *c, plan_query *q, dbsp_node in, uint32_t width, dbsp_node *out)
{
    dbsp_plan *p = q->plan;
    uint32_t lead = q->nsort > 0 ? 1 : 0;
    dbsp_node m, x, integ, top;
    ivm_rc rc = keyed_map(p, q, in, width, &m);
    if (rc == IVM_OK)
        rc = lower_exchange(p, m, &x);
    if (rc == IVM_OK)
        rc = dbsp_plan_integrate(p, x, &integ);
    if (rc == IVM_OK)
        rc = dbsp_plan_topk(p, integ, q->offset > 0 ? q->offset : 0, q->limit, false, &top);
    if (rc != IVM_OK)
        return rc;
    /* The view's columns: drop the sort key and the hidden ORDER BY columns. */
    if (lead == 0 && q->ncols == width) {
        *out = top;
    } else {
        dbsp_expr **ex = ivm_calloc(q->ncols + 1, sizeof *ex);
        if (ex == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < q->ncols; i++) {
            ex[i] = dbsp_expr_col(lead + i, IVM_TNULL);
            if (ex[i] == NULL) {
                free_exprs(ex, i);
                ivm_free(ex);
                return IVM_NOMEM;
            }
        }
        rc = dbsp_plan_map(p, top, q->ncols, ex, 0, out);
        ivm_free(ex);
        if (rc != IVM_OK)
            return rc;
    }
    /* The view's rows carry no order and no hidden columns: nothing is left
     * for a reader to sort or cut. */
    ivm_free(q->sort);
    q->sort = NULL;
    q->nsort = 0;
    q->nhidden = 0;
    q->limit = q->offset = -1;
    return IVM_OK;
}
