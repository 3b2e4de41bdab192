/*
 * lower.c: logical plan -> dbsp plan.  Every logical column is traced to its
 * physical column in the operator that produces it (a join emits its key,
 * then the left row, then the right row), and expressions are rewritten
 * through that layout as they are placed.  Before every stateful operator
 * (join, aggregate, distinct) the lowering puts a map that moves the
 * operator's key to the front, an exchange (shard_accumulate) on that key,
 * and an integrate that keeps the operator's input integral (keeps P5).
 */
#include "planner_int.h"

/* A lowered subtree: its dbsp node and where each logical column is. */
typedef struct lowered {
    dbsp_node node;
    uint32_t nphys;       /* physical columns of node */
    uint32_t *map;        /* logical column -> physical column */
} lowered;

static ivm_rc identity(pctx *c, lowered *l, dbsp_node node, uint32_t ncols)
{
    l->node = node;
    l->nphys = ncols;
    l->map = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (ncols + 1));
    if (l->map == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < ncols; i++)
        l->map[i] = i;
    return IVM_OK;
}

static ivm_rc add_input(plan_query *q, uint32_t rel_id, dbsp_node node)
{
    plan_input *ni = ivm_realloc(q->inputs, sizeof *ni * (q->ninputs + 1));
    if (ni == NULL)
        return IVM_NOMEM;
    q->inputs = ni;
    ni[q->ninputs].rel_id = rel_id;
    ni[q->ninputs].node = node;
    q->ninputs++;
    return IVM_OK;
}

/* map (keys..., every physical column) with the keys as the key, an exchange
 * on them and an integrate: the arrangement a stateful operator reads. */
static ivm_rc arrange(dbsp_plan *p, const lowered *in, uint32_t nkeys, dbsp_expr *const *keys,
                      bool whole_row, dbsp_node *out)
{
    uint32_t n = whole_row ? in->nphys : nkeys + in->nphys;
    dbsp_expr **ex = ivm_calloc(n ? n : 1, sizeof *ex);
    if (ex == NULL)
        return IVM_NOMEM;
    ivm_rc rc = IVM_OK;
    uint32_t k = 0;
    if (!whole_row) {
        for (; k < nkeys; k++) {
            ex[k] = xremap(keys[k], in->map, 0);
            if (ex[k] == NULL)
                goto nomem;
        }
    }
    for (uint32_t i = 0; i < in->nphys; i++, k++) {
        ex[k] = dbsp_expr_col(i, IVM_TNULL);
        if (ex[k] == NULL)
            goto nomem;
    }
    dbsp_node m, x;
    rc = dbsp_plan_map(p, in->node, n, ex, whole_row ? n : nkeys, &m);
    ivm_free(ex);
    if (rc == IVM_OK)
        rc = dbsp_plan_exchange(p, m, &x);
    if (rc == IVM_OK)
        rc = dbsp_plan_integrate(p, x, out);
    return rc;
nomem:
    for (uint32_t i = 0; i < k; i++)
        dbsp_expr_free(ex[i]);
    ivm_free(ex);
    return IVM_NOMEM;
}

/* Rows whose join keys are all non-NULL: NULL never equals anything, but
 * NULL encodings are equal bytes. */
static ivm_rc nonnull_keys(dbsp_plan *p, lowered *in, uint32_t nkeys, dbsp_expr *const *keys)
{
    dbsp_expr *acc = NULL;
    for (uint32_t i = 0; i < nkeys; i++) {
        dbsp_expr *k = xremap(keys[i], in->map, 0);
        if (k == NULL)
            goto nomem;
        dbsp_expr *a1[1] = {k};
        dbsp_expr *nn = dbsp_expr_op(DBSP_X_NOTNULL, IVM_TINT, 1, a1);
        if (nn == NULL)
            goto nomem;
        if (acc == NULL) {
            acc = nn;
        } else {
            dbsp_expr *a2[2] = {acc, nn};
            acc = dbsp_expr_op(DBSP_X_AND, IVM_TINT, 2, a2);
            if (acc == NULL)
                return IVM_NOMEM;
        }
    }
    if (acc == NULL)
        return IVM_OK;
    return dbsp_plan_filter(p, in->node, acc, &in->node);
nomem:
    dbsp_expr_free(acc);
    return IVM_NOMEM;
}

/* Puts operand e (remapped through map) among the arranged columns
 * ex[from..*nx), once: *col_out is its column. */
static ivm_rc place_operand(dbsp_expr **ex, uint32_t from, uint32_t *nx, const dbsp_expr *e,
                            const uint32_t *map, uint32_t *col_out)
{
    dbsp_expr *x = xremap(e, map, 0);
    if (x == NULL)
        return IVM_NOMEM;
    for (uint32_t j = from; j < *nx; j++) {
        if (xequal(ex[j], x)) {
            dbsp_expr_free(x);
            *col_out = j;
            return IVM_OK;
        }
    }
    ex[*nx] = x;
    *col_out = (*nx)++;
    return IVM_OK;
}

static ivm_rc lower(pctx *c, const lp_node *n, plan_query *q, lowered *out)
{
    dbsp_plan *p = q->plan;
    ivm_rc rc;
    lowered in = {0}, right = {0};
    dbsp_node node;
    switch (n->kind) {
    case LP_SCAN:
        rc = dbsp_plan_input(p, n->ncols, 0, &node);
        if (rc == IVM_OK && n->rel_id != PLAN_REL_EMPTY)
            rc = add_input(q, n->rel_id, node);
        if (rc == IVM_OK)
            rc = identity(c, out, node, n->ncols);
        return rc;
    case LP_FILTER: {
        rc = lower(c, n->in, q, &in);
        if (rc != IVM_OK)
            return rc;
        dbsp_expr *pred = xremap(n->pred, in.map, 0);
        if (pred == NULL)
            return IVM_NOMEM;
        rc = dbsp_plan_filter(p, in.node, pred, &node);
        if (rc != IVM_OK)
            return rc;
        *out = in;
        out->node = node;
        return IVM_OK;
    }
    case LP_MAP: {
        rc = lower(c, n->in, q, &in);
        if (rc != IVM_OK)
            return rc;
        dbsp_expr **ex = ivm_calloc(n->nexprs ? n->nexprs : 1, sizeof *ex);
        if (ex == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < n->nexprs; i++) {
            ex[i] = xremap(n->exprs[i], in.map, 0);
            if (ex[i] == NULL) {
                for (uint32_t j = 0; j < i; j++)
                    dbsp_expr_free(ex[j]);
                ivm_free(ex);
                return IVM_NOMEM;
            }
        }
        rc = dbsp_plan_map(p, in.node, n->nexprs, ex, 0, &node);
        ivm_free(ex);
        if (rc != IVM_OK)
            return rc;
        return identity(c, out, node, n->nexprs);
    }
    case LP_JOIN: {
        rc = lower(c, n->in, q, &in);
        if (rc == IVM_OK)
            rc = lower(c, n->right, q, &right);
        if (rc == IVM_OK)
            rc = nonnull_keys(p, &in, n->nkeys, n->lkeys);
        if (rc == IVM_OK)
            rc = nonnull_keys(p, &right, n->nkeys, n->rkeys);
        dbsp_node la, ra;
        if (rc == IVM_OK)
            rc = arrange(p, &in, n->nkeys, n->lkeys, false, &la);
        if (rc == IVM_OK)
            rc = arrange(p, &right, n->nkeys, n->rkeys, false, &ra);
        if (rc == IVM_OK)
            rc = dbsp_plan_join(p, la, ra, &node);
        if (rc != IVM_OK)
            return rc;
        /* Join output: keys, then the left's physical row, then the right's
         * (each arranged row is keys + physical row). */
        uint32_t nk = n->nkeys;
        uint32_t lphys = nk + in.nphys, rphys = nk + right.nphys;
        out->node = node;
        out->nphys = nk + (lphys - nk) + (rphys - nk);
        out->map = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (n->ncols + 1));
        if (out->map == NULL)
            return IVM_NOMEM;
        uint32_t nl = n->in->ncols;
        for (uint32_t i = 0; i < nl; i++)
            out->map[i] = nk + in.map[i];
        for (uint32_t i = 0; i < n->right->ncols; i++)
            out->map[nl + i] = nk + in.nphys + right.map[i];
        if (n->pred != NULL) {
            dbsp_expr *pred = xremap(n->pred, out->map, 0);
            if (pred == NULL)
                return IVM_NOMEM;
            rc = dbsp_plan_filter(p, out->node, pred, &out->node);
        }
        return rc;
    }
    case LP_AGGREGATE: {
        rc = lower(c, n->in, q, &in);
        if (rc != IVM_OK)
            return rc;
        /* Arrange (group..., operands...) by group: every distinct
         * argument, separator and FILTER condition once. */
        uint32_t ng = n->nexprs, na = n->naggs, nx = ng;
        dbsp_expr **ex = ivm_calloc(ng + 3 * na + 1, sizeof *ex);
        dbsp_agg *aggs = ivm_calloc(na + 1, sizeof *aggs);
        if (ex == NULL || aggs == NULL) {
            ivm_free(ex);
            ivm_free(aggs);
            return IVM_NOMEM;
        }
        rc = IVM_OK;
        for (uint32_t i = 0; i < ng && rc == IVM_OK; i++) {
            ex[i] = xremap(n->exprs[i], in.map, 0);
            if (ex[i] == NULL)
                rc = IVM_NOMEM;
        }
        for (uint32_t i = 0; i < na && rc == IVM_OK; i++) {
            const lp_agg *g = &n->aggs[i];
            aggs[i].kind = (uint8_t)g->kind;
            aggs[i].type = (uint8_t)g->type;
            if (g->distinct)
                aggs[i].flags |= DBSP_AGG_F_DISTINCT;
            if (g->arg != NULL)
                rc = place_operand(ex, ng, &nx, g->arg, in.map, &aggs[i].col);
            if (rc == IVM_OK && g->sep != NULL) {
                aggs[i].flags |= DBSP_AGG_F_SEP;
                rc = place_operand(ex, ng, &nx, g->sep, in.map, &aggs[i].sep_col);
            }
            if (rc == IVM_OK && g->filter != NULL) {
                aggs[i].flags |= DBSP_AGG_F_FILTER;
                rc = place_operand(ex, ng, &nx, g->filter, in.map, &aggs[i].filter_col);
            }
        }
        dbsp_node m = 0, x = 0, integ = 0;
        if (rc == IVM_OK) {
            rc = dbsp_plan_map(p, in.node, nx, ex, ng, &m);
        } else {
            for (uint32_t i = 0; i < nx; i++)
                dbsp_expr_free(ex[i]);
        }
        ivm_free(ex);
        if (rc == IVM_OK)
            rc = dbsp_plan_exchange(p, m, &x);
        if (rc == IVM_OK)
            rc = dbsp_plan_integrate(p, x, &integ);
        if (rc == IVM_OK)
            rc = dbsp_plan_aggregate(p, integ, na, aggs, &node);
        ivm_free(aggs);
        if (rc != IVM_OK)
            return rc;
        return identity(c, out, node, ng + na);
    }
    case LP_DISTINCT: {
        rc = lower(c, n->in, q, &in);
        if (rc != IVM_OK)
            return rc;
        /* The input of DISTINCT is a map with identity layout (bind.c). */
        dbsp_node integ;
        rc = arrange(p, &in, 0, NULL, true, &integ);
        if (rc == IVM_OK)
            rc = dbsp_plan_distinct(p, integ, &node);
        if (rc != IVM_OK)
            return rc;
        return identity(c, out, node, n->ncols);
    }
    }
    return IVM_INTERNAL;
}

ivm_rc lower_plan(pctx *c, lp_node *root, plan_query *q)
{
    lowered top = {0};
    ivm_rc rc = lower(c, root, q, &top);
    if (rc != IVM_OK)
        return rc;
    /* The root is a map or a distinct: its layout is the identity, so the
     * output rows are the result columns in order. */
    for (uint32_t i = 0; i < root->ncols; i++)
        if (top.map[i] != i)
            return ivm_err_set(c->err, IVM_INTERNAL, 0, 0, "planner: result layout is not the identity");
    if (c->for_view && q->limit >= 0 &&
        (rc = lower_topk(c, q, top.node, root->ncols, &top.node)) != IVM_OK)
        return rc;
    return dbsp_plan_output(q->plan, top.node, &q->output);
}
