/*
 * op_topk.c: top-k per key of an integrate node (ORDER BY ... LIMIT n
 * OFFSET m; the key is a partition, nkey 0 the one global partition).
 *
 *   topk(z) = { per key p: the values of z|p ranked m+1 .. m+n in byte order,
 *               a value of weight w counting as w rows (clipped at the ends) };
 *   d out = topk(I(x)) - topk(z^-1(I(x))), which only differs on keys in dx
 *
 * With rank (ROW_NUMBER ... WHERE rn <= n), each emitted row carries one
 * more column, its 1-based position in the partition: a value of weight w
 * at positions r .. r+w-1 becomes w rows (value, r) .. (value, r+w-1) of
 * weight 1.  A row whose position changes is then a different row, so the
 * comparison with what was emitted sends -(value, old) +(value, new).
 *
 * The input integral's values are kept in byte order by the spine, and the
 * planner makes that order the ORDER BY order by putting a DBSP_FN_SORTKEY
 * column first among them (sortkey.c); the rest of the row breaks ties, so
 * the choice among rows SQL would call equal is deterministic.  For each
 * partition touched by dx the operator seeks the partition in I(x) (after
 * this step, D2), walks its first m + n rows, and compares them with the
 * rows it emitted before, kept in its output integral keyed by partition
 * (T1, dbsp/README.md); the difference goes out.  Per step and touched
 * partition: O(m + n + |dx|) cursor steps, never the partition's size.
 * Values of non-positive weight are not rows (as MIN and MAX skip them).
 * Rows must be sharded by partition (D4); with nkey 0 every row is on the
 * worker that owns the empty key (D9).
 */
#include "dbsp_int.h"

/* A row of the new top: its value bytes in the state's buffer, its weight. */
typedef struct topk_item {
    size_t off;
    size_t len;
    int64_t w;
} topk_item;

typedef struct topk_state {
    spine *prev;          /* the output's integral: what was emitted (T1) */
    topk_item *items;     /* the touched partition's new top rows */
    size_t nitems, icap;
    uint8_t *bytes;       /* their value bytes (cursor bytes die as it moves) */
    size_t nbytes, bcap;
} topk_state;

ivm_rc dbsp_plan_topk(dbsp_plan *p, dbsp_node in_integrated, int64_t offset, int64_t limit,
                      bool rank, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in_integrated);
    if (src == NULL || src->kind != DBSP_INTEGRATE || offset < 0 || limit < 0)
        return IVM_INVALID;
    /* The node is one column wider than its input exactly when it numbers
     * its rows (ranked() reads it back). */
    dbsp_pnode nd = {.kind = DBSP_TOPK, .vt = &dbsp_op_topk_vt, .ncols = src->ncols + rank,
                     .nkey = src->nkey, .nin = 1, .in = {in_integrated},
                     .partitioned = src->partitioned, .offset = offset, .limit = limit};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc topk_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    topk_state *s = state;
    s->prev = dbsp_spine_probed(); /* seek_exact on the old top-k */
    return s->prev == NULL ? IVM_NOMEM : IVM_OK;
}

/* True when node nd appends each row's position (dbsp_plan_topk). */
static bool ranked(const dbsp_plan *p, const dbsp_pnode *nd)
{
    return nd->ncols > p->nodes[nd->in[0]].ncols;
}

/* Appends a row of the new top (copied: the cursor's bytes are borrowed),
 * followed by the encoding of its position pos when pos > 0. */
static ivm_rc keep(topk_state *s, const uint8_t *val, size_t len, int64_t w, int64_t pos)
{
    ivm_value r = ivm_value_int(pos);
    size_t rlen = pos > 0 ? spine_row_size(&r, 1) : 0;
    if (s->nitems == s->icap &&
        ivm_grow((void **)&s->items, &s->icap, s->nitems + 1, sizeof *s->items) != IVM_OK)
        return IVM_NOMEM;
    if (s->nbytes + len + rlen > s->bcap &&
        ivm_grow((void **)&s->bytes, &s->bcap, s->nbytes + len + rlen, 1) != IVM_OK)
        return IVM_NOMEM;
    if (len > 0)
        memcpy(s->bytes + s->nbytes, val, len);
    if (rlen > 0)
        spine_row_encode(&r, 1, s->bytes + s->nbytes + len);
    s->items[s->nitems++] = (topk_item){s->nbytes, len + rlen, w};
    s->nbytes += len + rlen;
    return IVM_OK;
}

/* The rows ranked offset+1 .. offset+limit of partition key in I(x), in
 * byte order.  With rank, a value's copies are numbered rows: appending the
 * (order-preserving) position to values of one width keeps them in byte
 * order, since no row encoding is a prefix of another of as many columns. */
static ivm_rc new_top(const dbsp_pnode *nd, bool rank, topk_state *s, spine_cursor *in,
                      const uint8_t *key, size_t klen)
{
    s->nitems = 0;
    s->nbytes = 0;
    uint64_t skip = (uint64_t)nd->offset, room = (uint64_t)nd->limit;
    if (room == 0 || !dbsp_cursor_seek_exact(in, key, klen))
        return IVM_OK;
    for (; spine_cursor_val_valid(in) && room > 0; spine_cursor_step_val(in)) {
        int64_t w = spine_cursor_weight(in);
        if (w <= 0)
            continue;
        uint64_t u = (uint64_t)w;
        if (skip >= u) {
            skip -= u;
            continue;
        }
        u -= skip;
        skip = 0;
        if (u > room)
            u = room;
        size_t vlen;
        const uint8_t *val = spine_cursor_val(in, &vlen);
        ivm_rc rc = IVM_OK;
        if (!rank) {
            rc = keep(s, val, vlen, (int64_t)u, 0);
        } else {
            /* Positions already taken: the offset and the rows kept. */
            uint64_t pos = (uint64_t)nd->offset + (uint64_t)nd->limit - room;
            for (uint64_t j = 1; j <= u && rc == IVM_OK; j++)
                rc = keep(s, val, vlen, 1, (int64_t)(pos + j));
        }
        room -= u;
        if (rc != IVM_OK)
            return rc;
    }
    return IVM_OK;
}

/* Emits new top - old top for partition key, in value order (the builder
 * is sorted). */
static ivm_rc update_partition(dbsp_ctx *c, const dbsp_pnode *nd, bool rank, topk_state *s,
                               spine_cursor *in, spine_cursor *old, const uint8_t *key,
                               size_t klen)
{
    ivm_rc rc = new_top(nd, rank, s, in, key, klen);
    if (rc != IVM_OK)
        return rc;
    bool has_old = dbsp_cursor_seek_exact(old, key, klen);
    size_t i = 0;
    spine_builder *b = &c->bld;
    while (rc == IVM_OK && ((has_old && spine_cursor_val_valid(old)) || i < s->nitems)) {
        const uint8_t *ov = NULL;
        size_t olen = 0;
        if (has_old && spine_cursor_val_valid(old))
            ov = spine_cursor_val(old, &olen);
        const topk_item *it = i < s->nitems ? &s->items[i] : NULL;
        const uint8_t *nv = it ? s->bytes + it->off : NULL;
        int cmp = ov == NULL ? 1 : it == NULL ? -1 : spine_row_cmp(ov, olen, nv, it->len);
        if (cmp < 0) {
            rc = spine_builder_push(b, key, klen, ov, olen, -spine_cursor_weight(old));
            spine_cursor_step_val(old);
        } else if (cmp > 0) {
            rc = spine_builder_push(b, key, klen, nv, it->len, it->w);
            i++;
        } else {
            int64_t d = it->w - spine_cursor_weight(old);
            if (d != 0)
                rc = spine_builder_push(b, key, klen, nv, it->len, d);
            spine_cursor_step_val(old);
            i++;
        }
    }
    return rc;
}

static ivm_rc topk_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    topk_state *s = state;
    /* D5: backpressure; nothing is done before this, so eval can resume. */
    if (!dbsp_ctx_spine_ready(c, s->prev))
        return IVM_PENDING;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    const spine_batch *dx = dbsp_ctx_in(c, n, 0);
    if (dx->n == 0) {
        *out = dbsp_ctx_empty(c);
        return IVM_OK;
    }
    const spine *trace = dbsp_ctx_trace(c, nd->in[0]);
    const spine *prev = s->prev;
    spine_cursor *in = NULL, *old = NULL;
    ivm_rc rc = spine_cursor_new(&trace, 1, NULL, 0, &in);
    if (rc == IVM_OK)
        rc = spine_cursor_new(&prev, 1, NULL, 0, &old);
    bool rank = ranked(c->plan, nd);
    for (size_t i = 0; i < dx->n && rc == IVM_OK;) {
        size_t klen;
        const uint8_t *key = spine_batch_key(dx, i, &klen);
        rc = update_partition(c, nd, rank, s, in, old, key, klen);
        while (i < dx->n && dx->klen[i] == klen && memcmp(dx->data + dx->off[i], key, klen) == 0)
            i++;
    }
    spine_cursor_free(in);
    spine_cursor_free(old);
    spine_batch *delta = NULL;
    if ((rc = dbsp_ctx_build(c, rc, &delta)) != IVM_OK)
        return rc;
    if ((rc = spine_insert_take(s->prev, spine_batch_ref(delta))) != IVM_OK) {
        spine_batch_unref(delta);
        return rc;
    }
    *out = delta;
    return IVM_OK;
}

static void topk_stats(const void *state, spine_stats *acc)
{
    const topk_state *s = state;
    spine_stats st;
    spine_stats_get(s->prev, &st);
    dbsp_stats_add(acc, &st);
}

static void topk_fini(void *state)
{
    topk_state *s = state;
    spine_free(s->prev);
    ivm_free(s->items);
    ivm_free(s->bytes);
}

const dbsp_op_vtab dbsp_op_topk_vt = {
    .name = "topk",
    .state_desc = "the output's integral, each partition's top rows",
    .state_size = sizeof(topk_state),
    .init = topk_init,
    .eval = topk_eval,
    .trace = NULL,
    .stats = topk_stats,
    .fini = topk_fini,
};
