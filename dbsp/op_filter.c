/*
 * op_filter.c: the rows for which a predicate is true (WHERE, HAVING, ON
 * conditions that are not equalities).
 *
 *   out = { (r, w) in in : pred(r) is true }     (linear: d out = filter(d in))
 *
 * Per step: O(|d in|) predicate evaluations; the input's order is kept (a
 * subset of a sorted, consolidated batch is sorted and consolidated), so the
 * builder runs in sorted mode, and a delta that passes whole is returned
 * without a copy.  A row is decoded only as far as the predicate reads it
 * (dbsp_colread), and passes as bytes.  No state but a row of decoded
 * values.  NULL and false
 * drop the row, as SQL's WHERE does.  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

typedef struct filter_state {
    dbsp_colread cr;          /* the columns the predicate reads */
    ivm_value *vals;          /* the decoded ones */
    dbsp_memo memo;           /* the row's shared subexpressions */
} filter_state;

ivm_rc dbsp_plan_filter(dbsp_plan *p, dbsp_node in, dbsp_expr *pred_owned, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in);
    if (pred_owned == NULL || src == NULL || !dbsp_expr_cols_below(pred_owned, src->ncols)) {
        dbsp_expr_free(pred_owned);
        return IVM_INVALID;
    }
    dbsp_pnode nd = {.kind = DBSP_FILTER, .vt = &dbsp_op_filter_vt, .ncols = src->ncols,
                     .nkey = src->nkey, .nin = 1, .in = {in}, .partitioned = src->partitioned,
                     .nexprs = 1, .exprs = &pred_owned};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc filter_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    filter_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    s->vals = ivm_calloc(nd->ncols + 1, sizeof *s->vals);
    if (s->vals == NULL)
        return IVM_NOMEM;
    ivm_rc rc = dbsp_memo_init(&s->memo, nd->nmemo);
    if (rc != IVM_OK)
        return rc;
    return dbsp_colread_init(&s->cr, nd->exprs, 1, NULL, nd->ncols, false);
}

static ivm_rc filter_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    filter_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    spine_batch *in = dbsp_ctx_in(c, n, 0);
    spine_builder *b = &c->bld;
    /* Until the first rejected row nothing is copied: rows [0, kept) pass. */
    size_t kept = 0;
    bool copying = false;
    ivm_rc rc = IVM_OK;
    for (size_t i = 0; i < in->n && rc == IVM_OK; i++) {
        size_t len;
        const uint8_t *row = spine_batch_row(in, i, &len);
        ivm_value v;
        if ((rc = dbsp_colread_row(c, &s->cr, row, len, s->vals)) != IVM_OK)
            break;
        dbsp_memo_next(&s->memo);
        rc = dbsp_expr_eval_memo(nd->exprs[0], s->vals, &c->scratch, &s->memo, &v, &c->err);
        dbsp_ctx_scratch_check(c);
        if (rc != IVM_OK)
            break;
        bool pass = dbsp_value_truth(&v) == 1;
        if (!copying) {
            if (pass) {
                kept = i + 1;
                continue;
            }
            copying = true;
            for (size_t j = 0; j < kept && rc == IVM_OK; j++) {
                size_t jl;
                const uint8_t *jr = spine_batch_row(in, j, &jl);
                rc = spine_builder_push(b, jr, in->klen[j], jr + in->klen[j],
                                        jl - in->klen[j], in->w[j]);
            }
        } else if (pass) {
            rc = spine_builder_push(b, row, in->klen[i], row + in->klen[i], len - in->klen[i],
                                    in->w[i]);
        }
    }
    if (rc == IVM_OK && !copying) {
        *out = spine_batch_ref(in);
        return IVM_OK;
    }
    return dbsp_ctx_build(c, rc, out);
}

static void filter_fini(void *state)
{
    filter_state *s = state;
    dbsp_colread_fini(&s->cr);
    ivm_free(s->vals);
    dbsp_memo_fini(&s->memo);
}

const dbsp_op_vtab dbsp_op_filter_vt = {
    .name = "filter",
    .state_desc = NULL,
    .state_size = sizeof(filter_state),
    .init = filter_init,
    .eval = filter_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = filter_fini,
};
