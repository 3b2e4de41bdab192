/*
 * op_join.c: the equi-join of two integrate nodes on their keys.  Join is
 * bilinear, so its incremental form is
 *
 *   d(A join B) = dA join I(B) + z^-1(I(A)) join dB
 *               = dA join I(B) + I(A) join dB - dA join dB
 *
 * where I(.) is the integral after this step, which is what the integrate
 * inputs expose (D2): the second form needs no state of the join's own.
 * Each term walks one delta key by key and seeks the key in the other side's
 * integral (or, for dA join dB, merges the two sorted deltas).
 *
 * Each term comes out in (key, A row, B row) order, so a step with one
 * delta empty builds a batch that needs no sort.
 *
 * Per step: O((|dA| + |dB|) log |I| + output).  Output rows are key, A's
 * value columns, B's value columns, weight wA * wB; keys match when their
 * encodings are equal, so NULL keys match each other and 1 differs from 1.0
 * (the planner filters and casts for SQL's =).  No state of its own; both
 * inputs must be sharded by the key (D4).  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

ivm_rc dbsp_plan_join(dbsp_plan *p, dbsp_node a_integrated, dbsp_node b_integrated,
                      dbsp_node *out)
{
    const dbsp_pnode *a = dbsp_plan_node(p, a_integrated), *b = dbsp_plan_node(p, b_integrated);
    if (a == NULL || b == NULL || a->kind != DBSP_INTEGRATE || b->kind != DBSP_INTEGRATE ||
        a->nkey != b->nkey)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_JOIN, .vt = &dbsp_op_join_vt,
                     .ncols = a->ncols + (b->ncols - b->nkey), .nkey = a->nkey, .nin = 2,
                     .in = {a_integrated, b_integrated},
                     .partitioned = a->partitioned && b->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc join_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(c);
    IVM_UNUSED(n);
    IVM_UNUSED(state);
    return IVM_OK;
}

/* Appends (key, va, vb) with weight sign * wa * wb. */
static ivm_rc emit(dbsp_ctx *c, const uint8_t *key, size_t klen, const uint8_t *va, size_t la,
                   const uint8_t *vb, size_t lb, int64_t wa, int64_t wb, int sign)
{
    int64_t w;
    if (__builtin_mul_overflow(wa, wb, &w) || (sign < 0 && w == INT64_MIN))
        return ivm_err_set(&c->err, IVM_INVALID, 0, 0, "join: weight overflow");
    uint8_t *dst = spine_builder_reserve(&c->bld, klen + la + lb);
    if (dst == NULL)
        return IVM_NOMEM;
    memcpy(dst, key, klen);
    memcpy(dst + klen, va, la);
    memcpy(dst + klen + la, vb, lb);
    return spine_builder_commit(&c->bld, klen, klen + la + lb, sign < 0 ? -w : w);
}

static size_t key_group_end(const spine_batch *d, size_t i)
{
    size_t klen = d->klen[i];
    const uint8_t *key = d->data + d->off[i];
    size_t e = i + 1;
    while (e < d->n && d->klen[e] == klen && memcmp(d->data + d->off[e], key, klen) == 0)
        e++;
    return e;
}

/* One term delta join I(other): for each key of the delta, seek the key in
 * the other side's integral and pair every value with every value there.
 * delta_is_a says which side the delta's values belong to in the output. */
static ivm_rc delta_join_trace(dbsp_ctx *c, const spine_batch *d, const spine *other,
                               bool delta_is_a)
{
    spine_cursor *cur = NULL;
    ivm_rc rc = spine_cursor_new(&other, 1, NULL, 0, &cur);
    if (rc != IVM_OK)
        return rc;
    for (size_t i = 0; i < d->n && rc == IVM_OK;) {
        size_t klen;
        const uint8_t *key = spine_batch_key(d, i, &klen);
        size_t end = key_group_end(d, i);
        /* A's values outer, B's inner, both ascending: the term's rows
         * come out in (key, A row, B row) order, which is row order (the
         * rows are prefix-free), so a step whose other delta is empty
         * builds its batch without sorting it. */
        bool found = dbsp_cursor_seek_exact(cur, key, klen);
        if (found && delta_is_a) {
            for (size_t j = i; j < end && rc == IVM_OK; j++) {
                size_t dl;
                const uint8_t *dv = spine_batch_val(d, j, &dl);
                spine_cursor_rewind_vals(cur);
                for (; spine_cursor_val_valid(cur) && rc == IVM_OK; spine_cursor_step_val(cur)) {
                    size_t ol;
                    const uint8_t *ov = spine_cursor_val(cur, &ol);
                    rc = emit(c, key, klen, dv, dl, ov, ol, d->w[j], spine_cursor_weight(cur), 1);
                }
            }
        } else if (found) {
            for (; spine_cursor_val_valid(cur) && rc == IVM_OK; spine_cursor_step_val(cur)) {
                size_t ol;
                const uint8_t *ov = spine_cursor_val(cur, &ol);
                int64_t ow = spine_cursor_weight(cur);
                for (size_t j = i; j < end && rc == IVM_OK; j++) {
                    size_t dl;
                    const uint8_t *dv = spine_batch_val(d, j, &dl);
                    rc = emit(c, key, klen, ov, ol, dv, dl, ow, d->w[j], 1);
                }
            }
        }
        i = end;
    }
    spine_cursor_free(cur);
    return rc;
}

/* The correction term -(dA join dB): a merge of the two sorted deltas. */
static ivm_rc delta_join_delta(dbsp_ctx *c, const spine_batch *da, const spine_batch *db)
{
    ivm_rc rc = IVM_OK;
    size_t i = 0, j = 0;
    while (i < da->n && j < db->n && rc == IVM_OK) {
        size_t ka, kb;
        const uint8_t *keya = spine_batch_key(da, i, &ka);
        const uint8_t *keyb = spine_batch_key(db, j, &kb);
        int cmp = spine_row_cmp(keya, ka, keyb, kb);
        if (cmp < 0) {
            i = key_group_end(da, i);
        } else if (cmp > 0) {
            j = key_group_end(db, j);
        } else {
            size_t ea = key_group_end(da, i), eb = key_group_end(db, j);
            for (size_t x = i; x < ea && rc == IVM_OK; x++) {
                size_t la;
                const uint8_t *va = spine_batch_val(da, x, &la);
                for (size_t y = j; y < eb && rc == IVM_OK; y++) {
                    size_t lb;
                    const uint8_t *vb = spine_batch_val(db, y, &lb);
                    rc = emit(c, keya, ka, va, la, vb, lb, da->w[x], db->w[y], -1);
                }
            }
            i = ea;
            j = eb;
        }
    }
    return rc;
}

static ivm_rc join_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    IVM_UNUSED(state);
    const dbsp_pnode *nd = &c->plan->nodes[n];
    const spine_batch *da = dbsp_ctx_in(c, n, 0), *db = dbsp_ctx_in(c, n, 1);
    if (da->n == 0 && db->n == 0) {
        *out = dbsp_ctx_empty(c);
        return IVM_OK;
    }
    ivm_rc rc = IVM_OK;
    /* One term alone is built in row order (delta_join_trace), which the
     * builder notices: no sort; two terms interleave and are sorted. */
    if (da->n > 0)
        rc = delta_join_trace(c, da, dbsp_ctx_trace(c, nd->in[1]), true);
    if (rc == IVM_OK && db->n > 0)
        rc = delta_join_trace(c, db, dbsp_ctx_trace(c, nd->in[0]), false);
    if (rc == IVM_OK && da->n > 0 && db->n > 0)
        rc = delta_join_delta(c, da, db);
    return dbsp_ctx_build(c, rc, out);
}

static void join_fini(void *state)
{
    IVM_UNUSED(state);
}

const dbsp_op_vtab dbsp_op_join_vt = {
    .name = "join",
    .state_desc = "none of its own: reads both inputs' integrals",
    .state_size = 0,
    .init = join_init,
    .eval = join_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = join_fini,
};
