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
 * partition touched by dx the operator reads the rows it emitted before,
 * kept in its output integral keyed by partition (T1, dbsp/README.md), and
 * finds the new top: by walking the partition's first m + n rows in I(x)
 * (after this step, D2), or, while every weight this operator has been fed
 * is positive and m is 0, by merging the old top with dx's rows of the
 * partition, which gives the same rows without a seek into I(x) (T2).  The
 * difference goes out.  Per step and touched partition: O(m + n + |dx|)
 * cursor steps, never the partition's size.  Values of non-positive weight
 * are not rows (as MIN and MAX skip them).  Rows must be sharded by
 * partition (D4); with nkey 0 every row is on the worker that owns the
 * empty key (D9).  The first read of I(x) may first compute it, once, when
 * the input node keeps none until then (D17: a top-k over a join).
 */
#include "dbsp_int.h"

/* A row kept in a topk_rows: its bytes in the buffer, its weight. */
typedef struct topk_item {
    size_t off;
    size_t len;
    int64_t w;
} topk_item;

/* Rows copied out of a cursor or a batch (a cursor's bytes die as it
 * moves); the buffers are kept from step to step. */
typedef struct topk_rows {
    topk_item *items;
    size_t n, icap;
    uint8_t *bytes;
    size_t nbytes, bcap;
} topk_rows;

typedef struct topk_state {
    spine *prev;          /* the output's integral: what was emitted (T1) */
    topk_rows top;        /* the touched partition's new top rows */
    topk_rows old;        /* its rows in prev, as they were */
    bool signed_input;    /* some dx had a negative weight: I(x) may hold
                             non-positive weights, so T2 does not apply */
    bool reads_trace;     /* I(x) has been read: no longer unread (D16) */
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

/* Appends a row (copied: a cursor's bytes are borrowed), followed by the
 * encoding of its position pos when pos > 0. */
static ivm_rc keep(topk_rows *r, const uint8_t *val, size_t len, int64_t w, int64_t pos)
{
    ivm_value rv = ivm_value_int(pos);
    size_t rlen = pos > 0 ? spine_row_size(&rv, 1) : 0;
    if (r->n == r->icap &&
        ivm_grow((void **)&r->items, &r->icap, r->n + 1, sizeof *r->items) != IVM_OK)
        return IVM_NOMEM;
    if (r->nbytes + len + rlen > r->bcap &&
        ivm_grow((void **)&r->bytes, &r->bcap, r->nbytes + len + rlen, 1) != IVM_OK)
        return IVM_NOMEM;
    if (len > 0)
        memcpy(r->bytes + r->nbytes, val, len);
    if (rlen > 0)
        spine_row_encode(&rv, 1, r->bytes + r->nbytes + len);
    r->items[r->n++] = (topk_item){r->nbytes, len + rlen, w};
    r->nbytes += len + rlen;
    return IVM_OK;
}

/* Walks values in byte order into the new top: skip is what the offset
 * still hides, room what the limit still takes. */
typedef struct topk_walk {
    const dbsp_pnode *nd;
    bool rank;
    uint64_t skip, room;
} topk_walk;

/* Offers the next value, of weight w, to the new top. */
static ivm_rc offer(topk_walk *k, topk_rows *top, const uint8_t *val, size_t vlen, int64_t w)
{
    if (w <= 0 || k->room == 0)
        return IVM_OK;
    uint64_t u = (uint64_t)w;
    if (k->skip >= u) {
        k->skip -= u;
        return IVM_OK;
    }
    u -= k->skip;
    k->skip = 0;
    if (u > k->room)
        u = k->room;
    ivm_rc rc = IVM_OK;
    if (!k->rank) {
        rc = keep(top, val, vlen, (int64_t)u, 0);
    } else {
        /* Positions already taken: the offset and the rows kept. */
        uint64_t pos = (uint64_t)k->nd->offset + (uint64_t)k->nd->limit - k->room;
        for (uint64_t j = 1; j <= u && rc == IVM_OK; j++)
            rc = keep(top, val, vlen, 1, (int64_t)(pos + j));
    }
    k->room -= u;
    return rc;
}

/* The rows ranked offset+1 .. offset+limit of partition key in I(x), in
 * byte order.  With rank, a value's copies are numbered rows: appending the
 * (order-preserving) position to values of one width keeps them in byte
 * order, since no row encoding is a prefix of another of as many columns. */
static ivm_rc top_from_trace(const dbsp_pnode *nd, bool rank, topk_state *s, spine_cursor *in,
                             const uint8_t *key, size_t klen)
{
    topk_walk k = {nd, rank, (uint64_t)nd->offset, (uint64_t)nd->limit};
    if (k.room == 0 || !dbsp_cursor_seek_exact(in, key, klen))
        return IVM_OK;
    ivm_rc rc = IVM_OK;
    for (; spine_cursor_val_valid(in) && k.room > 0 && rc == IVM_OK; spine_cursor_step_val(in)) {
        size_t vlen;
        const uint8_t *val = spine_cursor_val(in, &vlen);
        rc = offer(&k, &s->top, val, vlen, spine_cursor_weight(in));
    }
    return rc;
}

/* Old row i's value (without its position, with rank) and the weight it
 * counted for; false if the row is not what T1 says a row of an offset-0
 * top holds (then T2 is not used). */
static bool old_value(const topk_state *s, bool rank, size_t i, size_t *vlen_out, int64_t *w_out)
{
    const topk_item *it = &s->old.items[i];
    if (it->w <= 0)
        return false;
    *vlen_out = it->len;
    *w_out = it->w;
    if (!rank)
        return true;
    /* Offset 0: the rows are numbered 1, 2, ... in byte order. */
    ivm_value rv = ivm_value_int((int64_t)i + 1);
    uint8_t enc[16];
    size_t rlen = spine_row_size(&rv, 1);
    if (it->w != 1 || rlen > sizeof enc || rlen > it->len)
        return false;
    spine_row_encode(&rv, 1, enc);
    if (memcmp(s->old.bytes + it->off + it->len - rlen, enc, rlen) != 0)
        return false;
    *vlen_out = it->len - rlen;
    return true;
}

/* T2: the new top of a partition from its old top and dx's rows of it,
 * entries lo .. hi of dx (all of positive weight, and so is every value in
 * I(x)).  A value of I(x) outside the old top ranks after all of it, and the
 * old top holds `limit` rows if any value is outside it; adding rows can
 * only push values down, so the first `limit` rows of old top + dx are the
 * first `limit` rows of I(x).  False in *done_out if the old rows are not
 * what T1 says (the caller then reads I(x)). */
static ivm_rc top_from_delta(const dbsp_pnode *nd, bool rank, topk_state *s,
                             const spine_batch *dx, size_t lo, size_t hi, bool *done_out)
{
    topk_walk k = {nd, rank, 0, (uint64_t)nd->limit};
    *done_out = false;
    size_t i = 0, j = lo;
    ivm_rc rc = IVM_OK;
    while (rc == IVM_OK && k.room > 0 && (i < s->old.n || j < hi)) {
        size_t olen = 0, dlen = 0;
        int64_t ow = 0;
        const uint8_t *ov = NULL, *dv = NULL;
        if (i < s->old.n) {
            if (!old_value(s, rank, i, &olen, &ow))
                return IVM_OK;
            ov = s->old.bytes + s->old.items[i].off;
        }
        if (j < hi)
            dv = spine_batch_val(dx, j, &dlen);
        int cmp = ov == NULL ? 1 : dv == NULL ? -1 : spine_row_cmp(ov, olen, dv, dlen);
        if (cmp <= 0) {
            /* With rank, a value's copies are consecutive old rows. */
            size_t e = i + 1;
            for (size_t elen; rank && e < s->old.n; e++) {
                int64_t ew;
                if (!old_value(s, rank, e, &elen, &ew))
                    return IVM_OK;
                if (elen != olen || memcmp(s->old.bytes + s->old.items[e].off, ov, olen) != 0)
                    break;
                ow += ew;
            }
            i = e;
            if (cmp == 0)
                ow += dx->w[j++];
            rc = offer(&k, &s->top, ov, olen, ow);
        } else {
            rc = offer(&k, &s->top, dv, dlen, dx->w[j++]);
        }
    }
    *done_out = rc == IVM_OK;
    return rc;
}

/* Copies partition key's rows of prev (T1) into s->old. */
static ivm_rc read_old(topk_state *s, spine_cursor *old, const uint8_t *key, size_t klen)
{
    s->old.n = 0;
    s->old.nbytes = 0;
    if (!dbsp_cursor_seek_exact(old, key, klen))
        return IVM_OK;
    ivm_rc rc = IVM_OK;
    for (; spine_cursor_val_valid(old) && rc == IVM_OK; spine_cursor_step_val(old)) {
        size_t vlen;
        const uint8_t *val = spine_cursor_val(old, &vlen);
        rc = keep(&s->old, val, vlen, spine_cursor_weight(old), 0);
    }
    return rc;
}

/* Emits new top - old top for partition key, whose rows in dx are entries
 * lo .. hi, in value order (the builder is sorted). */
static ivm_rc update_partition(dbsp_ctx *c, const dbsp_pnode *nd, bool rank, topk_state *s,
                               spine_cursor **in, spine_cursor *old, const spine_batch *dx,
                               size_t lo, size_t hi)
{
    size_t klen;
    const uint8_t *key = spine_batch_key(dx, lo, &klen);
    s->top.n = 0;
    s->top.nbytes = 0;
    ivm_rc rc = read_old(s, old, key, klen);
    bool done = false;
    if (rc == IVM_OK && !s->signed_input && nd->offset == 0)
        rc = top_from_delta(nd, rank, s, dx, lo, hi, &done);
    if (rc == IVM_OK && !done && !s->reads_trace) {
        /* D16, D17: seeks into I(x) from now on (which may first compute
         * it); the cursor is made after that, so that it sees it. */
        rc = dbsp_integrate_reading(c, nd->in[0]);
        s->reads_trace = rc == IVM_OK;
    }
    if (rc == IVM_OK && !done && *in == NULL) {
        const spine *trace = dbsp_ctx_trace(c, nd->in[0]);
        rc = spine_cursor_new(&trace, 1, NULL, 0, in);
    }
    if (rc == IVM_OK && !done) {
        s->top.n = 0;
        s->top.nbytes = 0;
        rc = top_from_trace(nd, rank, s, *in, key, klen);
    }
    size_t i = 0, j = 0;
    spine_builder *b = &c->bld;
    while (rc == IVM_OK && (j < s->old.n || i < s->top.n)) {
        const topk_item *ot = j < s->old.n ? &s->old.items[j] : NULL;
        const topk_item *it = i < s->top.n ? &s->top.items[i] : NULL;
        const uint8_t *ov = ot ? s->old.bytes + ot->off : NULL;
        const uint8_t *nv = it ? s->top.bytes + it->off : NULL;
        int cmp = ot == NULL ? 1 : it == NULL ? -1 : spine_row_cmp(ov, ot->len, nv, it->len);
        if (cmp < 0) {
            rc = spine_builder_push(b, key, klen, ov, ot->len, -ot->w);
            j++;
        } else if (cmp > 0) {
            rc = spine_builder_push(b, key, klen, nv, it->len, it->w);
            i++;
        } else {
            int64_t d = it->w - ot->w;
            if (d != 0)
                rc = spine_builder_push(b, key, klen, nv, it->len, d);
            j++;
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
    /* T2 holds while every weight fed so far is positive (then so is every
     * weight in I(x)); the first negative one ends it for good. */
    for (size_t i = 0; i < dx->n && !s->signed_input; i++)
        s->signed_input = dx->w[i] < 0;
    /* The cursor over I(x) is made when a partition first reads it: while
     * T2 holds no step does. */
    const spine *prev = s->prev;
    spine_cursor *in = NULL, *old = NULL;
    ivm_rc rc = spine_cursor_new(&prev, 1, NULL, 0, &old);
    bool rank = ranked(c->plan, nd);
    for (size_t i = 0; i < dx->n && rc == IVM_OK;) {
        size_t e = spine_batch_key_end(dx, i);
        rc = update_partition(c, nd, rank, s, &in, old, dx, i, e);
        i = e;
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

static ivm_rc topk_compact(void *state)
{
    topk_state *s = state;
    return spine_compact(s->prev);
}

static void topk_fini(void *state)
{
    topk_state *s = state;
    spine_free(s->prev);
    ivm_free(s->top.items);
    ivm_free(s->top.bytes);
    ivm_free(s->old.items);
    ivm_free(s->old.bytes);
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
    .compact = topk_compact,
};
