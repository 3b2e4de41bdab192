/*
 * op_output.c: a view's output.  It keeps the view's contents, the integral
 * of the stream that reaches it, and exposes the last step's change.
 *
 *   contents_t = contents_{t-1} + d in_t;   stream output (the change): d in_t
 *
 * eval only passes the delta on; the host publishes it into the contents
 * once every worker has finished the step (dbsp_output_publish, D11), so a
 * reader never sees part of a commit.  The host reads the change of every
 * worker (dbsp_host_delta) and the contents through one cursor over every
 * worker's spine (dbsp_host_cursor).
 * Per step: O(|d in|) plus the spine's amortised merging.  State: the spine.
 * Design: dbsp/README.md.
 */
#include "dbsp_int.h"

ivm_rc dbsp_plan_output(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    return dbsp_plan_integrating(p, DBSP_OUTPUT, &dbsp_op_output_vt, in, out);
}

static ivm_rc output_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    IVM_UNUSED(state);
    *out = spine_batch_ref(dbsp_ctx_in(c, n, 0));
    return IVM_OK;
}

ivm_rc dbsp_output_publish(void *state, spine_batch *delta)
{
    dbsp_integrate_state *s = state;
    return spine_insert_take(s->s, spine_batch_ref(delta));
}

/* An output node keeps the state of an integrate node and shares its other
 * hooks (op_integrate.c); only eval and publishing differ. */
const dbsp_op_vtab dbsp_op_output_vt = {
    .name = "output",
    .state_desc = "the view's contents as a spine, and the last change",
    .state_size = sizeof(dbsp_integrate_state),
    .init = dbsp_integrate_init,
    .eval = output_eval,
    .trace = dbsp_integrate_trace,
    .stats = dbsp_integrate_stats,
    .fini = dbsp_integrate_fini,
    .compact = dbsp_integrate_compact,
};
