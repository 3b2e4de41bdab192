/*
 * op_setop.c: set operations over two integrate nodes (UNION, INTERSECT,
 * EXCEPT and the multiset INTERSECT ALL, EXCEPT ALL; UNION ALL is plus).
 * A row's output weight is a function of its weights in the two inputs,
 *
 *   out[r] = f(I(A)[r], I(B)[r]);   d out = f(I(A), I(B)) - f(z^-1 I(A), z^-1 I(B))
 *
 * with a = max(wa, 0), b = max(wb, 0) (a row of non-positive weight is
 * absent) and f: UNION [a > 0 or b > 0], INTERSECT [a > 0 and b > 0],
 * EXCEPT [a > 0 and b = 0], INTERSECT ALL min(a, b), EXCEPT ALL
 * max(a - b, 0).  Only rows in dA or dB can change: the two sorted deltas
 * are merged, and for each row touched the weights after this step are read
 * from the integrals (D2) and the old ones derived as new minus delta, as
 * distinct does.  Per step O((|dA| + |dB|) log |I|): one seek per key per
 * side, then walks through that key's values in step with the deltas'.  The
 * output follows the merged order, so the builder runs sorted.  No state of
 * its own; both inputs must be sharded by the same key (D4), the whole row
 * as the planner arranges them.  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

ivm_rc dbsp_plan_setop(dbsp_plan *p, dbsp_setop_kind kind, dbsp_node a_integrated,
                       dbsp_node b_integrated, dbsp_node *out)
{
    const dbsp_pnode *a = dbsp_plan_node(p, a_integrated), *b = dbsp_plan_node(p, b_integrated);
    if ((unsigned)kind >= DBSP_SETOP_KIND_COUNT_ || a == NULL || b == NULL ||
        a->kind != DBSP_INTEGRATE || b->kind != DBSP_INTEGRATE || a->ncols != b->ncols ||
        a->nkey != b->nkey)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_SETOP, .vt = &dbsp_op_setop_vt[kind], .ncols = a->ncols,
                     .nkey = a->nkey, .nin = 2, .in = {a_integrated, b_integrated},
                     .partitioned = a->partitioned && b->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

/* f of the header, on weights already clamped at zero. */
static int64_t setop_f(dbsp_setop_kind kind, int64_t a, int64_t b)
{
    switch (kind) {
    case DBSP_SETOP_UNION:
        return a > 0 || b > 0;
    case DBSP_SETOP_INTERSECT:
        return a > 0 && b > 0;
    case DBSP_SETOP_EXCEPT:
        return a > 0 && b == 0;
    case DBSP_SETOP_INTERSECT_ALL:
        return a < b ? a : b;
    case DBSP_SETOP_EXCEPT_ALL:
        return a > b ? a - b : 0;
    default:
        return 0;
    }
}

/* A cursor over one input's integral that answers "weight of (key, val)"
 * for pairs asked in ascending order: it seeks only when the key changes. */
typedef struct probe {
    spine_cursor *cur;
    const uint8_t *key;     /* the key sought last (points into a delta) */
    size_t klen;
    bool sought, have;
} probe;

static int64_t probe_weight(probe *p, const uint8_t *key, size_t klen, const uint8_t *val,
                            size_t vlen)
{
    if (!p->sought || p->klen != klen || memcmp(p->key, key, klen) != 0) {
        p->have = dbsp_cursor_seek_exact(p->cur, key, klen);
        p->key = key;
        p->klen = klen;
        p->sought = true;
    }
    while (p->have && spine_cursor_val_valid(p->cur)) {
        size_t cl;
        const uint8_t *cv = spine_cursor_val(p->cur, &cl);
        int cmp = spine_row_cmp(cv, cl, val, vlen);
        if (cmp == 0)
            return spine_cursor_weight(p->cur);
        if (cmp > 0)
            return 0;
        spine_cursor_step_val(p->cur);
    }
    return 0;
}

/* (key, value) order of entry i of x against entry j of y. */
static int entry_cmp(const spine_batch *x, size_t i, const spine_batch *y, size_t j)
{
    size_t kx, ky, vx, vy;
    const uint8_t *a = spine_batch_key(x, i, &kx), *b = spine_batch_key(y, j, &ky);
    int cmp = spine_row_cmp(a, kx, b, ky);
    if (cmp != 0)
        return cmp;
    a = spine_batch_val(x, i, &vx);
    b = spine_batch_val(y, j, &vy);
    return spine_row_cmp(a, vx, b, vy);
}

static ivm_rc setop_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(c);
    IVM_UNUSED(n);
    IVM_UNUSED(state);
    return IVM_OK;
}

static ivm_rc setop_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    IVM_UNUSED(state);
    const dbsp_pnode *nd = &c->plan->nodes[n];
    dbsp_setop_kind kind = (dbsp_setop_kind)(nd->vt - dbsp_op_setop_vt);
    const spine_batch *da = dbsp_ctx_in(c, n, 0), *db = dbsp_ctx_in(c, n, 1);
    if (da->n == 0 && db->n == 0) {
        *out = dbsp_ctx_empty(c);
        return IVM_OK;
    }
    const spine *ta = dbsp_ctx_trace(c, nd->in[0]), *tb = dbsp_ctx_trace(c, nd->in[1]);
    probe pa = {0}, pb = {0};
    ivm_rc rc = spine_cursor_new(&ta, 1, NULL, 0, &pa.cur);
    if (rc == IVM_OK)
        rc = spine_cursor_new(&tb, 1, NULL, 0, &pb.cur);
    spine_builder *bld = &c->bld;
    size_t i = 0, j = 0;
    /* Both integrals are sought with every key of both deltas: fetch the
     * lines of the next group of seeks first, so that their cache misses
     * overlap (entries of dA, dB covered for pa's cursor, pb's). */
    size_t pf[2][2] = {{0, 0}, {0, 0}};
    while (rc == IVM_OK && (i < da->n || j < db->n)) {
        for (int s = 0; s < 2; s++) {
            spine_cursor *cur = s == 0 ? pa.cur : pb.cur;
            if (i >= pf[s][0] && i < da->n)
                pf[s][0] = spine_cursor_prefetch_exact(cur, da, i);
            if (j >= pf[s][1] && j < db->n)
                pf[s][1] = spine_cursor_prefetch_exact(cur, db, j);
        }
        /* The next row of the merged deltas, and its delta on each side. */
        int cmp = i >= da->n ? 1 : j >= db->n ? -1 : entry_cmp(da, i, db, j);
        const spine_batch *src = cmp <= 0 ? da : db;
        size_t at = cmp <= 0 ? i : j;
        int64_t dwa = cmp <= 0 ? da->w[i] : 0, dwb = cmp >= 0 ? db->w[j] : 0;
        if (cmp <= 0)
            i++;
        if (cmp >= 0)
            j++;
        size_t klen, vlen;
        const uint8_t *key = spine_batch_key(src, at, &klen);
        const uint8_t *val = spine_batch_val(src, at, &vlen);
        int64_t wa = probe_weight(&pa, key, klen, val, vlen);
        int64_t wb = probe_weight(&pb, key, klen, val, vlen);
        int64_t oa, ob;
        if (__builtin_sub_overflow(wa, dwa, &oa) || __builtin_sub_overflow(wb, dwb, &ob)) {
            rc = ivm_err_set(&c->err, IVM_INVALID, 0, 0, "%s: weight overflow", nd->vt->name);
            break;
        }
        /* Both values are in [0, INT64_MAX]: the difference fits. */
        int64_t w = setop_f(kind, IVM_MAX(wa, 0), IVM_MAX(wb, 0)) -
                    setop_f(kind, IVM_MAX(oa, 0), IVM_MAX(ob, 0));
        if (w != 0)
            rc = spine_builder_push(bld, key, klen, val, vlen, w);
    }
    spine_cursor_free(pa.cur);
    spine_cursor_free(pb.cur);
    return dbsp_ctx_build(c, rc, out);
}

static void setop_fini(void *state)
{
    IVM_UNUSED(state);
}

#define SETOP_VT(nm)                                                     \
    {                                                                    \
        .name = nm, .state_desc = "none of its own: reads both inputs' integrals", \
        .state_size = 0, .init = setop_init, .eval = setop_eval, .trace = NULL, \
        .stats = NULL, .fini = setop_fini,                               \
    }

/* One vtable per kind, indexed by dbsp_setop_kind: the kind is the vtable's
 * place in the array, and EXPLAIN prints its name. */
const dbsp_op_vtab dbsp_op_setop_vt[DBSP_SETOP_KIND_COUNT_] = {
    [DBSP_SETOP_UNION] = SETOP_VT("union"),
    [DBSP_SETOP_INTERSECT] = SETOP_VT("intersect"),
    [DBSP_SETOP_EXCEPT] = SETOP_VT("except"),
    [DBSP_SETOP_INTERSECT_ALL] = SETOP_VT("intersect_all"),
    [DBSP_SETOP_EXCEPT_ALL] = SETOP_VT("except_all"),
};
