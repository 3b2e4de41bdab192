/*
 * op_plus.c: the Z-set sum (UNION ALL, and the pieces of outer joins).
 *
 *   out = a + b        (linear: d out = d a + d b)
 *
 * Per step: O(|d a| + |d b|), one merge of two sorted batches; rows whose
 * weights cancel disappear.  An empty side costs nothing: the other delta is
 * passed on by reference.  No state.  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

ivm_rc dbsp_plan_plus(dbsp_plan *p, dbsp_node a, dbsp_node b, dbsp_node *out)
{
    const dbsp_pnode *na = dbsp_plan_node(p, a), *nb = dbsp_plan_node(p, b);
    /* Equal key widths too: one batch cannot mix two klen conventions (D1). */
    if (na == NULL || nb == NULL || na->ncols != nb->ncols || na->nkey != nb->nkey)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_PLUS, .vt = &dbsp_op_plus_vt, .ncols = na->ncols,
                     .nkey = na->nkey, .nin = 2, .in = {a, b},
                     .partitioned = na->partitioned && nb->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc plus_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(c);
    IVM_UNUSED(n);
    IVM_UNUSED(state);
    return IVM_OK;
}

static ivm_rc plus_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    IVM_UNUSED(state);
    spine_batch *a = dbsp_ctx_in(c, n, 0), *b = dbsp_ctx_in(c, n, 1);
    if (b->n == 0) {
        *out = spine_batch_ref(a);
        return IVM_OK;
    }
    if (a->n == 0) {
        *out = spine_batch_ref(b);
        return IVM_OK;
    }
    return spine_batch_merge(a, b, out);
}

static void plus_fini(void *state)
{
    IVM_UNUSED(state);
}

const dbsp_op_vtab dbsp_op_plus_vt = {
    .name = "plus",
    .state_desc = NULL,
    .state_size = 0,
    .init = plus_init,
    .eval = plus_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = plus_fini,
};
