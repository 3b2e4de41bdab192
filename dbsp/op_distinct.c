/*
 * op_distinct.c: set semantics (SELECT DISTINCT, UNION, INTERSECT) over an
 * integrate node.
 *
 *   distinct(z) = { (r, 1) : z[r] > 0 };   d out = distinct(I(x)) - distinct(z^-1(I(x)))
 *
 * Only rows in dx can change: for each (r, dw) in dx, with w_new = I(x)[r]
 * after this step and w_old = w_new - dw, emit +1 if w_old <= 0 < w_new and
 * -1 if w_new <= 0 < w_old.  Per step: O(|dx| log |I|): one seek per key of
 * dx, then a walk through that key's values in step with dx's (both sorted).
 * The output follows dx's order, so the builder runs sorted.  No state of its
 * own: it reads the integral its input keeps (D2), and needs its rows
 * sharded by the whole key (D4).  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

ivm_rc dbsp_plan_distinct(dbsp_plan *p, dbsp_node in_integrated, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in_integrated);
    if (src == NULL || src->kind != DBSP_INTEGRATE)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_DISTINCT, .vt = &dbsp_op_distinct_vt, .ncols = src->ncols,
                     .nkey = src->nkey, .nin = 1, .in = {in_integrated},
                     .partitioned = src->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc distinct_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(c);
    IVM_UNUSED(n);
    IVM_UNUSED(state);
    return IVM_OK;
}

static bool same_key(const spine_batch *b, size_t i, size_t j)
{
    return b->klen[i] == b->klen[j] &&
           memcmp(b->data + b->off[i], b->data + b->off[j], b->klen[i]) == 0;
}

static ivm_rc distinct_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    IVM_UNUSED(state);
    const spine_batch *dx = dbsp_ctx_in(c, n, 0);
    if (dx->n == 0) {
        *out = dbsp_ctx_empty(c);
        return IVM_OK;
    }
    const spine *trace = dbsp_ctx_trace(c, c->plan->nodes[n].in[0]);
    spine_cursor *cur = NULL;
    ivm_rc rc = spine_cursor_new(&trace, 1, NULL, 0, &cur);
    if (rc != IVM_OK)
        return rc;
    spine_builder *b = &c->bld;
    /* Every key of dx is sought: fetch the lines of the next group of
     * seeks first, so that their cache misses overlap (pf: entries
     * covered). */
    for (size_t i = 0, pf = 0; i < dx->n && rc == IVM_OK;) {
        if (i >= pf)
            pf = spine_cursor_prefetch_exact(cur, dx, i);
        size_t klen;
        const uint8_t *key = spine_batch_key(dx, i, &klen);
        size_t end = i + 1;
        while (end < dx->n && same_key(dx, i, end))
            end++;
        bool have = dbsp_cursor_seek_exact(cur, key, klen);
        for (; i < end && rc == IVM_OK; i++) {
            size_t vlen;
            const uint8_t *val = spine_batch_val(dx, i, &vlen);
            int64_t w_new = 0, w_old;
            /* dx's values and the cursor's both ascend: walk them together. */
            while (have && spine_cursor_val_valid(cur)) {
                size_t cl;
                const uint8_t *cv = spine_cursor_val(cur, &cl);
                int cmp = spine_row_cmp(cv, cl, val, vlen);
                if (cmp == 0)
                    w_new = spine_cursor_weight(cur);
                if (cmp >= 0)
                    break;
                spine_cursor_step_val(cur);
            }
            if (__builtin_sub_overflow(w_new, dx->w[i], &w_old)) {
                rc = ivm_err_set(&c->err, IVM_INVALID, 0, 0, "distinct: weight overflow");
                break;
            }
            if (w_old <= 0 && w_new > 0)
                rc = spine_builder_push(b, key, klen, val, vlen, 1);
            else if (w_new <= 0 && w_old > 0)
                rc = spine_builder_push(b, key, klen, val, vlen, -1);
        }
        i = end;
    }
    spine_cursor_free(cur);
    return dbsp_ctx_build(c, rc, out);
}

static void distinct_fini(void *state)
{
    IVM_UNUSED(state);
}

const dbsp_op_vtab dbsp_op_distinct_vt = {
    .name = "distinct",
    .state_desc = "none of its own: reads its input's integral",
    .state_size = 0,
    .init = distinct_init,
    .eval = distinct_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = distinct_fini,
};
