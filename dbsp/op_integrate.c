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


/* Adds an integrating node of the given kind: integrate, or output (a view's
 * contents are the integral of its stream; op_output.c shares these hooks). */
ivm_rc dbsp_plan_integrating(dbsp_plan *p, dbsp_kind kind, const dbsp_op_vtab *vt,
                             dbsp_node in, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in);
    if (src == NULL)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = kind, .vt = vt, .ncols = src->ncols, .nkey = src->nkey, .nin = 1,
                     .in = {in}, .partitioned = src->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

ivm_rc dbsp_plan_integrate(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    return dbsp_plan_integrating(p, DBSP_INTEGRATE, &dbsp_op_integrate_vt, in, out);
}

/* True if node n has readers and every one is a top-k of offset 0: while
 * the weights it is fed are positive such a top-k never reads the integral
 * (T2), so the integral is not read until one says so (D16). */
static bool read_by_topk_only(const dbsp_plan *p, dbsp_node n)
{
    bool any = false;
    for (uint32_t i = 0; i < p->n; i++)
        for (uint32_t j = 0; j < p->nodes[i].nin; j++) {
            if (p->nodes[i].in[j] != n)
                continue;
            if (p->nodes[i].kind != DBSP_TOPK || p->nodes[i].offset != 0)
                return false;
            any = true;
        }
    return any;
}

ivm_rc dbsp_integrate_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    dbsp_integrate_state *s = state;
    /* D15: join, aggregate, distinct, top-k and set operations probe an
     * integrate node's trace by key; a view's contents (an output node)
     * are only read in order, so their merges build no key filters and
     * take 8 batches a level (spine_opts.wide).  D16: a trace that only
     * top-ks read starts unread. */
    static const spine_opts contents = {.wide = true}; /* fewer merge copies */
    if (c->plan->nodes[n].kind == DBSP_INTEGRATE) {
        spine_opts probed = {.exact_seeks = true, .unread = read_by_topk_only(c->plan, n)};
        s->s = spine_new_opts(&probed);
    } else {
        s->s = spine_new_opts(&contents);
    }
    return s->s != NULL ? IVM_OK : IVM_NOMEM;
}

void dbsp_integrate_reading(dbsp_ctx *c, dbsp_node n)
{
    dbsp_integrate_state *s = c->inst[n].state;
    spine_unread_end(s->s);
}

ivm_rc dbsp_integrate_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    dbsp_integrate_state *s = state;
    /* D5: a spine over its threshold holds the step until the merger has
     * caught up; the merger calls the worker's waker. */
    if (!dbsp_ctx_spine_ready(c, s->s))
        return IVM_PENDING;
    spine_batch *in = dbsp_ctx_in(c, n, 0);
    ivm_rc rc = spine_insert_take(s->s, spine_batch_ref(in));
    if (rc != IVM_OK)
        return rc;
    *out = spine_batch_ref(in);
    return IVM_OK;
}

const spine *dbsp_integrate_trace(const void *state)
{
    const dbsp_integrate_state *s = state;
    return s->s;
}

void dbsp_integrate_stats(const void *state, spine_stats *acc)
{
    const dbsp_integrate_state *s = state;
    spine_stats st;
    spine_stats_get(s->s, &st);
    dbsp_stats_add(acc, &st);
}

ivm_rc dbsp_integrate_compact(void *state)
{
    dbsp_integrate_state *s = state;
    return spine_compact(s->s);
}

void dbsp_integrate_fini(void *state)
{
    dbsp_integrate_state *s = state;
    spine_free(s->s);
}

const dbsp_op_vtab dbsp_op_integrate_vt = {
    .name = "integrate",
    .state_desc = "I(x) as a spine by key",
    .state_size = sizeof(dbsp_integrate_state),
    .init = dbsp_integrate_init,
    .eval = dbsp_integrate_eval,
    .trace = dbsp_integrate_trace,
    .stats = dbsp_integrate_stats,
    .fini = dbsp_integrate_fini,
    .compact = dbsp_integrate_compact,
};
