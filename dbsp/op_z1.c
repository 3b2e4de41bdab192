/*
 * op_z1.c: the delay z^-1: each step outputs what came in the step before
 * (empty on the first step).
 *
 *   out_t = in_{t-1},  out_0 = 0      (linear and time-invariant)
 *
 * Per step: O(1), the batch is passed on by reference.  State: the previous
 * step's input batch.  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

typedef struct z1_state {
    spine_batch *prev;        /* owned; NULL before the first step */
} z1_state;

ivm_rc dbsp_plan_z1(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in);
    if (src == NULL)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_Z1, .vt = &dbsp_op_z1_vt, .ncols = src->ncols,
                     .nkey = src->nkey, .nin = 1, .in = {in}, .partitioned = src->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc z1_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(c);
    IVM_UNUSED(n);
    IVM_UNUSED(state);
    return IVM_OK;
}

static ivm_rc z1_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    z1_state *s = state;
    *out = s->prev != NULL ? s->prev : dbsp_ctx_empty(c);
    s->prev = spine_batch_ref(dbsp_ctx_in(c, n, 0));
    return IVM_OK;
}

static void z1_fini(void *state)
{
    z1_state *s = state;
    spine_batch_unref(s->prev);
}

const dbsp_op_vtab dbsp_op_z1_vt = {
    .name = "z1",
    .state_desc = "the previous step's input",
    .state_size = sizeof(z1_state),
    .init = z1_init,
    .eval = z1_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = z1_fini,
};
