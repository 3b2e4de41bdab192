/*
 * op_integrate.c: the integral I(x), kept as a spine (an arrangement indexed
 * by the node's key) for the operators that read it: distinct, join and
 * aggregate seek into it by key.
 *
 *   I(x)_t = I(x)_{t-1} + dx_t;   stream output: dx_t itself
 *
 * so a reader sees both the delta (through the stream) and the integral
 * after this step (through the trace, D2).  Per step: O(|dx|) plus the
 * spine's amortised merging, O(|dx| log |I|).  State: the spine.
 * Design: dbsp/README.md.
 */
#include "dbsp_int.h"

typedef struct integrate_state {
    spine *s;
} integrate_state;

ivm_rc dbsp_plan_integrate(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in);
    if (src == NULL)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_INTEGRATE, .vt = &dbsp_op_integrate_vt, .ncols = src->ncols,
                     .nkey = src->nkey, .nin = 1, .in = {in}, .partitioned = src->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc integrate_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(c);
    IVM_UNUSED(n);
    integrate_state *s = state;
    s->s = spine_new();
    return s->s != NULL ? IVM_OK : IVM_NOMEM;
}

static ivm_rc integrate_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    integrate_state *s = state;
    spine_batch *in = dbsp_ctx_in(c, n, 0);
    ivm_rc rc = spine_insert_take(s->s, spine_batch_ref(in));
    if (rc != IVM_OK)
        return rc;
    *out = spine_batch_ref(in);
    return IVM_OK;
}

static const spine *integrate_trace(const void *state)
{
    const integrate_state *s = state;
    return s->s;
}

static void integrate_stats(const void *state, spine_stats *acc)
{
    const integrate_state *s = state;
    spine_stats st;
    spine_stats_get(s->s, &st);
    acc->rows += st.rows;
    acc->bytes += st.bytes;
    acc->batches += st.batches;
    acc->merges += st.merges;
}

static void integrate_fini(void *state)
{
    integrate_state *s = state;
    spine_free(s->s);
}

const dbsp_op_vtab dbsp_op_integrate_vt = {
    .name = "integrate",
    .state_desc = "I(x) as a spine by key",
    .state_size = sizeof(integrate_state),
    .init = integrate_init,
    .eval = integrate_eval,
    .trace = integrate_trace,
    .stats = integrate_stats,
    .fini = integrate_fini,
};
