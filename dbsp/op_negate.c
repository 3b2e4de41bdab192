/*
 * op_negate.c: the Z-set inverse, used for differences (EXCEPT, antijoins).
 *
 *   out = -in          (linear, so it is its own incremental version)
 *
 * Per step: O(|d in|); the input's order is kept, so the builder runs in
 * sorted mode and only copies.  No state.  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

ivm_rc dbsp_plan_negate(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in);
    if (src == NULL)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_NEGATE, .vt = &dbsp_op_negate_vt, .ncols = src->ncols,
                     .nkey = src->nkey, .nin = 1, .in = {in}, .partitioned = src->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc negate_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(c);
    IVM_UNUSED(n);
    IVM_UNUSED(state);
    return IVM_OK;
}

static ivm_rc negate_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    IVM_UNUSED(state);
    const spine_batch *in = dbsp_ctx_in(c, n, 0);
    if (in->n == 0) {
        *out = dbsp_ctx_empty(c);
        return IVM_OK;
    }
    spine_builder *b = &c->bld;
    ivm_rc rc = IVM_OK;
    for (size_t i = 0; i < in->n && rc == IVM_OK; i++) {
        size_t klen, vlen;
        const uint8_t *k = spine_batch_key(in, i, &klen);
        const uint8_t *v = spine_batch_val(in, i, &vlen);
        if (in->w[i] == INT64_MIN)
            rc = ivm_err_set(&c->err, IVM_INVALID, 0, 0, "negate: weight overflow");
        else
            rc = spine_builder_push(b, k, klen, v, vlen, -in->w[i]);
    }
    return dbsp_ctx_build(c, rc, out);
}

static void negate_fini(void *state)
{
    IVM_UNUSED(state);
}

const dbsp_op_vtab dbsp_op_negate_vt = {
    .name = "negate",
    .state_desc = NULL,
    .state_size = 0,
    .init = negate_init,
    .eval = negate_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = negate_fini,
};
