/*
 * op_join.c: the equi-join of two integrate nodes on their keys.  Join is
 * bilinear, so its incremental form is
 *
 *   d(A join B) = dA join I(B) + z^-1(I(A)) join dB
 *               = dA join I(B) + I(A) join dB - dA join dB
 *
 * where I(.) is the integral after this step, which is what the integrate
 * inputs expose (D2): the second form needs no state of the join's own.
 * The node walks the keys of dA and dB merged in order.  A key of one
 * delta only is sought in the other side's integral and its values paired
 * (dA join I(B), or I(A) join dB, where I(A) is z^-1(I(A)) on a key dA
 * does not touch).  A key of both merges its A values of dA and I(A) and,
 * for each, its B values of dB and I(B), and gives each pair (a, b) its
 * weight in all three terms at once:
 *
 *   w(a, b) = dA[a] I(B)[b] + I(A)[a] dB[b] - dA[a] dB[b]
 *
 * So the output comes out in (key, A row, B row) order, which is row order,
 * and the builder writes it without sorting whichever sides changed.
 *
 * Per step: O((|dA| + |dB|) log |I| + output).  Output rows are key, A's
 * value columns, B's value columns, weight wA * wB; keys match when their
 * encodings are equal, so NULL keys match each other and 1 differs from 1.0
 * (the planner filters and casts for SQL's =).  No state of its own
 * between steps; both inputs must be sharded by the key (D4).
 *
 * A map that reads the join alone may be fused into it (dbsp_plan_fuse):
 * the node then emits map(pair) for each pair whose `where` holds, as the
 * map would over the join's rows, without building the join's rows as a
 * batch first: each pair is put together in a buffer of the node's and
 * given to the map's own row work (dbsp_rowmap, op_map.c), which writes
 * its output row into the step's builder.  Its rows no longer come out in order: when
 * they start with the pair's leading columns they come in runs, sorted
 * each on its own (as the map's).  Design: dbsp/README.md.
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

/* A join with a fused map (nexprs > 0) runs the map's row work
 * (dbsp_rowmap, op_map.c) over each pair; all zero without. */
typedef struct join_state {
    dbsp_rowmap rm;
    uint8_t *row;             /* the pair being mapped: key, va, vb */
    size_t row_cap;
} join_state;

static ivm_rc join_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    join_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    if (nd->nexprs == 0)
        return IVM_OK;
    const dbsp_pnode *a = &c->plan->nodes[nd->in[0]], *b = &c->plan->nodes[nd->in[1]];
    return dbsp_rowmap_init(&s->rm, nd, a->ncols + (b->ncols - b->nkey));
}

/* The fused map's row for the pair (key, va, vb) of weight w.  The pair is
 * put together in s->row, which the next pair overwrites.  Pairs come in
 * row order, so the map's output comes in its runs (op_map.c). */
static ivm_rc project(dbsp_ctx *c, join_state *s, const uint8_t *key, size_t klen,
                      const uint8_t *va, size_t la, const uint8_t *vb, size_t lb, int64_t w)
{
    size_t len = klen + la + lb;
    /* At least a byte: a pair of empty rows (no key, no values) still
     * needs a buffer to copy its nothing into. */
    if (len >= s->row_cap && ivm_grow((void **)&s->row, &s->row_cap, len + 1, 1) != IVM_OK)
        return IVM_NOMEM;
    memcpy(s->row, key, klen);
    memcpy(s->row + klen, va, la);
    memcpy(s->row + klen + la, vb, lb);
    return dbsp_rowmap_row(c, &s->rm, &c->bld, s->row, len, w, false);
}

/* Appends (key, va, vb) with weight w (not zero), or with a fused map its
 * row of the pair. */
static ivm_rc emit_w(dbsp_ctx *c, join_state *s, const uint8_t *key, size_t klen,
                     const uint8_t *va, size_t la, const uint8_t *vb, size_t lb, int64_t w)
{
    if (s->rm.nd != NULL)
        return project(c, s, key, klen, va, la, vb, lb, w);
    uint8_t *dst = spine_builder_reserve(&c->bld, klen + la + lb);
    if (dst == NULL)
        return IVM_NOMEM;
    memcpy(dst, key, klen);
    memcpy(dst + klen, va, la);
    memcpy(dst + klen + la, vb, lb);
    return spine_builder_commit(&c->bld, klen, klen + la + lb, w);
}

/* Appends (key, va, vb) with weight wa * wb. */
static ivm_rc emit(dbsp_ctx *c, join_state *s, const uint8_t *key, size_t klen,
                   const uint8_t *va, size_t la, const uint8_t *vb, size_t lb, int64_t wa,
                   int64_t wb)
{
    int64_t w;
    if (__builtin_mul_overflow(wa, wb, &w))
        return ivm_err_set(&c->err, IVM_INVALID, 0, 0, "join: weight overflow");
    return emit_w(c, s, key, klen, va, la, vb, lb, w);
}

/* A key of dA only: dA[k] join I(B)[k], A's values outer, B's inner. */
static ivm_rc key_a_only(dbsp_ctx *c, join_state *s, const spine_batch *da, size_t i, size_t ea,
                         spine_cursor *cb)
{
    size_t klen;
    const uint8_t *key = spine_batch_key(da, i, &klen);
    if (!dbsp_cursor_seek_exact(cb, key, klen))
        return IVM_OK;
    ivm_rc rc = IVM_OK;
    for (size_t x = i; x < ea && rc == IVM_OK; x++) {
        size_t la;
        const uint8_t *va = spine_batch_val(da, x, &la);
        spine_cursor_rewind_vals(cb);
        for (; spine_cursor_val_valid(cb) && rc == IVM_OK; spine_cursor_step_val(cb)) {
            size_t lb;
            const uint8_t *vb = spine_cursor_val(cb, &lb);
            rc = emit(c, s, key, klen, va, la, vb, lb, da->w[x], spine_cursor_weight(cb));
        }
    }
    return rc;
}

/* A key of dB only: I(A)[k] join dB[k] (I(A)[k] is z^-1(I(A))[k] here). */
static ivm_rc key_b_only(dbsp_ctx *c, join_state *s, const spine_batch *db, size_t j, size_t eb,
                         spine_cursor *ca)
{
    size_t klen;
    const uint8_t *key = spine_batch_key(db, j, &klen);
    if (!dbsp_cursor_seek_exact(ca, key, klen))
        return IVM_OK;
    ivm_rc rc = IVM_OK;
    for (; spine_cursor_val_valid(ca) && rc == IVM_OK; spine_cursor_step_val(ca)) {
        size_t la;
        const uint8_t *va = spine_cursor_val(ca, &la);
        int64_t wa = spine_cursor_weight(ca);
        for (size_t y = j; y < eb && rc == IVM_OK; y++) {
            size_t lb;
            const uint8_t *vb = spine_batch_val(db, y, &lb);
            rc = emit(c, s, key, klen, va, la, vb, lb, wa, db->w[y]);
        }
    }
    return rc;
}

/* wd * wib + wi * wdb - wd * wdb, false when a step overflows. */
static bool pair_weight(int64_t wd, int64_t wi, int64_t wdb, int64_t wib, int64_t *w_out)
{
    int64_t p, q, r, s;
    if (__builtin_mul_overflow(wd, wib, &p) || __builtin_mul_overflow(wi, wdb, &q) ||
        __builtin_mul_overflow(wd, wdb, &r) || __builtin_add_overflow(p, q, &s) ||
        __builtin_sub_overflow(s, r, w_out))
        return false;
    return true;
}

/* One step of merging a key's values in a delta, d[x, e), with the same
 * key's values under a cursor (which stands on the key, or shows no value
 * after a missed seek), in value order.  A value in both comes once, with
 * both weights. */
typedef struct merged_val {
    const uint8_t *v; /* the value: in d, or the cursor's */
    size_t len;
    int64_t wd, wi; /* its weight in d and under the cursor (0: absent) */
    int cmp;        /* < 0: d's only, > 0: the cursor's only, 0: both */
} merged_val;

static bool merge_next(const spine_batch *d, size_t x, size_t e, spine_cursor *cur,
                       merged_val *m)
{
    bool ind = x < e, ini = spine_cursor_val_valid(cur);
    if (!ind && !ini)
        return false;
    size_t ld = 0, li = 0;
    const uint8_t *vd = ind ? spine_batch_val(d, x, &ld) : NULL;
    const uint8_t *vi = ini ? spine_cursor_val(cur, &li) : NULL;
    m->cmp = !ind ? 1 : !ini ? -1 : spine_row_cmp(vd, ld, vi, li);
    m->v = m->cmp <= 0 ? vd : vi;
    m->len = m->cmp <= 0 ? ld : li;
    m->wd = m->cmp <= 0 ? d->w[x] : 0;
    m->wi = m->cmp >= 0 ? spine_cursor_weight(cur) : 0;
    return true;
}

static void merge_advance(size_t *x, spine_cursor *cur, const merged_val *m)
{
    if (m->cmp <= 0)
        (*x)++;
    if (m->cmp >= 0)
        spine_cursor_step_val(cur);
}

/* One A value a of a key in both deltas, weighing wd in dA and wi in
 * I(A): its pairs with the key's B values, in B order.  A pair (a, b)
 * weighs wd * I(B)[b] + z^-1(I(A))[a] * dB[b] = wd * wib + (wi - wd) * wdb.
 * With wd = 0 only dB's values can pair. */
static ivm_rc pair_a(dbsp_ctx *c, join_state *s, const uint8_t *key, size_t klen, const uint8_t *va,
                     size_t la, int64_t wd, int64_t wi, const spine_batch *db, size_t j,
                     size_t eb, spine_cursor *cb)
{
    if (wd == 0) {
        ivm_rc rc = IVM_OK;
        for (size_t y = j; y < eb && rc == IVM_OK; y++) {
            size_t lb;
            const uint8_t *vb = spine_batch_val(db, y, &lb);
            rc = emit(c, s, key, klen, va, la, vb, lb, wi, db->w[y]);
        }
        return rc;
    }
    spine_cursor_rewind_vals(cb);
    merged_val m;
    for (size_t y = j; merge_next(db, y, eb, cb, &m); merge_advance(&y, cb, &m)) {
        int64_t w;
        if (!pair_weight(wd, wi, m.wd, m.wi, &w))
            return ivm_err_set(&c->err, IVM_INVALID, 0, 0, "join: weight overflow");
        ivm_rc rc = w != 0 ? emit_w(c, s, key, klen, va, la, m.v, m.len, w) : IVM_OK;
        if (rc != IVM_OK)
            return rc;
    }
    return IVM_OK;
}

/* A key in both deltas: the A values of dA and of I(A) merged in order,
 * each paired with B's values in order (pair_a), so that the key's rows
 * of all three terms come out in row order, each pair once. */
static ivm_rc key_both(dbsp_ctx *c, join_state *s, const spine_batch *da, size_t i, size_t ea,
                       const spine_batch *db, size_t j, size_t eb, spine_cursor *ca,
                       spine_cursor *cb)
{
    size_t klen;
    const uint8_t *key = spine_batch_key(da, i, &klen);
    /* After a failed exact seek a cursor shows no value: its side of the
     * merge is empty. */
    dbsp_cursor_seek_exact(ca, key, klen);
    dbsp_cursor_seek_exact(cb, key, klen);
    merged_val m;
    for (size_t x = i; merge_next(da, x, ea, ca, &m); merge_advance(&x, ca, &m)) {
        /* m.v stays valid: pair_a moves cb only. */
        ivm_rc rc = pair_a(c, s, key, klen, m.v, m.len, m.wd, m.wi, db, j, eb, cb);
        if (rc != IVM_OK)
            return rc;
    }
    return IVM_OK;
}

/* Walks the keys of dA and dB merged in order.  Every row of the step's
 * delta has the key it came from, and within a key the rows come out in
 * (A value, B value) order, so the whole output is in row order (the rows
 * are prefix-free) and the builder writes it without sorting, whichever
 * sides changed. */
static ivm_rc join_merged(dbsp_ctx *c, join_state *s, const spine_batch *da, const spine_batch *db,
                          spine_cursor *ca, spine_cursor *cb)
{
    ivm_rc rc = IVM_OK;
    size_t i = 0, j = 0;
    /* dA's keys probe I(B) (cb) and dB's keys I(A) (ca), every one of
     * them: fetch the lines of the next group of probes before seeking,
     * so that their cache misses overlap (pa, pb: entries covered). */
    size_t pa = 0, pb = 0;
    while ((i < da->n || j < db->n) && rc == IVM_OK) {
        if (i >= pa && i < da->n)
            pa = spine_cursor_prefetch_exact(cb, da, i);
        if (j >= pb && j < db->n)
            pb = spine_cursor_prefetch_exact(ca, db, j);
        int cmp;
        if (i == da->n) {
            cmp = 1;
        } else if (j == db->n) {
            cmp = -1;
        } else {
            size_t ka, kb;
            const uint8_t *keya = spine_batch_key(da, i, &ka);
            const uint8_t *keyb = spine_batch_key(db, j, &kb);
            cmp = spine_row_cmp(keya, ka, keyb, kb);
        }
        size_t ea = cmp <= 0 ? spine_batch_key_end(da, i) : i;
        size_t eb = cmp >= 0 ? spine_batch_key_end(db, j) : j;
        if (cmp < 0)
            rc = key_a_only(c, s, da, i, ea, cb);
        else if (cmp > 0)
            rc = key_b_only(c, s, db, j, eb, ca);
        else
            rc = key_both(c, s, da, i, ea, db, j, eb, ca, cb);
        i = ea;
        j = eb;
    }
    return rc;
}

static ivm_rc join_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    join_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    const spine_batch *da = dbsp_ctx_in(c, n, 0), *db = dbsp_ctx_in(c, n, 1);
    if (da->n == 0 && db->n == 0) {
        *out = dbsp_ctx_empty(c);
        return IVM_OK;
    }
    const spine *ta = dbsp_ctx_trace(c, nd->in[0]), *tb = dbsp_ctx_trace(c, nd->in[1]);
    spine_cursor *ca = NULL, *cb = NULL;
    /* A cursor over I(A) is read only for keys of dB, one over I(B) only
     * for keys of dA. */
    ivm_rc rc = IVM_OK;
    if (db->n > 0 && (rc = spine_cursor_new(&ta, 1, NULL, 0, &ca)) == IVM_OK)
        spine_cursor_expect_exact(ca, db->n);
    if (rc == IVM_OK && da->n > 0 && (rc = spine_cursor_new(&tb, 1, NULL, 0, &cb)) == IVM_OK)
        spine_cursor_expect_exact(cb, da->n);
    dbsp_rowmap_begin(&s->rm);
    if (rc == IVM_OK)
        rc = join_merged(c, s, da, db, ca, cb);
    spine_cursor_free(ca);
    spine_cursor_free(cb);
    if (s->rm.nd != NULL)
        return dbsp_rowmap_finish(c, &s->rm, rc, out);
    return dbsp_ctx_build(c, rc, out);
}

static void join_fini(void *state)
{
    join_state *s = state;
    dbsp_rowmap_fini(&s->rm);
    ivm_free(s->row);
}

const dbsp_op_vtab dbsp_op_join_vt = {
    .name = "join",
    .state_desc = "none of its own: reads both inputs' integrals",
    .state_size = sizeof(join_state),
    .init = join_init,
    .eval = join_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = join_fini,
};
