/*
 * op_input.c: where rows enter a circuit.
 *
 *   out_t = sum of the batches fed to this worker since step t-1
 *
 * Per step: O(F log k) for F entries fed in k batches (a balanced tree of
 * pairwise merges); nothing is kept between steps.  The host spreads fed
 * batches over workers round robin, so an input stream is not partitioned
 * (D4); an exchange node moves rows to their key's owner when a stateful
 * operator needs it.  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

typedef struct input_state {
    spine_batch **queue;      /* owned references, fed since the last step */
    size_t n, cap;
} input_state;

ivm_rc dbsp_plan_input(dbsp_plan *p, uint32_t ncols, uint32_t nkey, dbsp_node *out)
{
    if (nkey > ncols)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_INPUT, .vt = &dbsp_op_input_vt, .ncols = ncols, .nkey = nkey};
    return dbsp_plan_add(p, &nd, out);
}

ivm_rc dbsp_input_queue_take(void *state, spine_batch *b_owned)
{
    input_state *s = state;
    if (b_owned->n == 0) { /* nothing to add: keep the queue short */
        spine_batch_unref(b_owned);
        return IVM_OK;
    }
    if (ivm_grow((void **)&s->queue, &s->cap, s->n + 1, sizeof *s->queue) != IVM_OK) {
        spine_batch_unref(b_owned);
        return IVM_NOMEM;
    }
    s->queue[s->n++] = b_owned;
    return IVM_OK;
}

static ivm_rc input_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(c);
    IVM_UNUSED(n);
    IVM_UNUSED(state);
    return IVM_OK;
}

static ivm_rc input_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    IVM_UNUSED(n);
    input_state *s = state;
    size_t k = s->n;
    s->n = 0; /* the references move into the sum, even if it fails */
    return dbsp_batches_sum_take(s->queue, k, c->empty, out);
}

static void input_fini(void *state)
{
    input_state *s = state;
    for (size_t i = 0; i < s->n; i++)
        spine_batch_unref(s->queue[i]);
    ivm_free(s->queue);
}

const dbsp_op_vtab dbsp_op_input_vt = {
    .name = "input",
    .state_desc = NULL,
    .state_size = sizeof(input_state),
    .init = input_init,
    .eval = input_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = input_fini,
};
