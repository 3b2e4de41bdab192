/*
 * op_output.c: a view's output.  It keeps the view's contents, the integral
 * of the stream that reaches it, and exposes the last step's change.
 *
 *   contents_t = contents_{t-1} + d in_t;   stream output (the change): d in_t
 *
 * The host reads the change of every worker (dbsp_host_delta) and the
 * contents through one cursor over every worker's spine (dbsp_host_cursor).
 * Per step: O(|d in|) plus the spine's amortised merging.  State: the spine.
 * Design: dbsp/README.md.
 */
#include "dbsp_int.h"

typedef struct output_state {
    spine *contents;
} output_state;

ivm_rc dbsp_plan_output(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in);
    if (src == NULL)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_OUTPUT, .vt = &dbsp_op_output_vt, .ncols = src->ncols,
                     .nkey = src->nkey, .nin = 1, .in = {in}, .partitioned = src->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc output_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(c);
    IVM_UNUSED(n);
    output_state *s = state;
    s->contents = spine_new();
    return s->contents != NULL ? IVM_OK : IVM_NOMEM;
}

static ivm_rc output_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    output_state *s = state;
    spine_batch *in = dbsp_ctx_in(c, n, 0);
    ivm_rc rc = spine_insert_take(s->contents, spine_batch_ref(in));
    if (rc != IVM_OK)
        return rc;
    *out = spine_batch_ref(in);
    return IVM_OK;
}

static const spine *output_trace(const void *state)
{
    const output_state *s = state;
    return s->contents;
}

static void output_stats(const void *state, spine_stats *acc)
{
    const output_state *s = state;
    spine_stats st;
    spine_stats_get(s->contents, &st);
    acc->rows += st.rows;
    acc->bytes += st.bytes;
    acc->batches += st.batches;
    acc->merges += st.merges;
}

static void output_fini(void *state)
{
    output_state *s = state;
    spine_free(s->contents);
}

const dbsp_op_vtab dbsp_op_output_vt = {
    .name = "output",
    .state_desc = "the view's contents as a spine, and the last change",
    .state_size = sizeof(output_state),
    .init = output_init,
    .eval = output_eval,
    .trace = output_trace,
    .stats = output_stats,
    .fini = output_fini,
};
