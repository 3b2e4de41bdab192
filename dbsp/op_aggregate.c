/*
 * op_aggregate.c: GROUP BY the key of an integrate node, with COUNT(*),
 * COUNT, SUM, TOTAL, AVG, MIN, MAX and GROUP_CONCAT, each optionally over
 * DISTINCT values and with a FILTER.
 *
 *   agg(z) = { (g, f(z|g)) : g a group of z };
 *   d out = agg(I(x)) - agg(z^-1(I(x))), which only differs on groups in dx
 *
 * For each group touched by dx the aggregates are recomputed from the
 * group's rows in the integral after this step (D2), weights read as
 * multiplicities: once over I(x), the new row, and once over I(x) - dx, the
 * group before this step, whose rows come from the same scan merged with
 * the group's rows of dx; when the two rows differ, -old +new go out (D8).
 * One seek per group and no state of its own.
 * Per step: O(sum of the sizes of the touched groups + |dx| log |I|), with a
 * log factor for DISTINCT and GROUP_CONCAT, whose values are collected and
 * sorted per group.  A linear fold of COUNT and SUM would cost O(|dx|) but
 * cannot do MIN, MAX or DISTINCT, nor SUM's exact overflow check; a later
 * issue may add it for them.
 *
 * Semantics as SQLite: MIN and MAX skip NULLs; SUM over INT is exact (kept
 * in 128 bits) and an "integer overflow" error if the result does not fit
 * 64 bits; SUM over REAL is a compensated double sum; TOTAL is that sum as
 * a REAL (0.0 over nothing); AVG is REAL; COUNT(x) counts non-NULL values;
 * COUNT(*) rows.  SQLite raises overflow when a running sum overflows; ivm
 * only when the final sum does, since its order of rows is not SQLite's
 * (README, "Operators").  DISTINCT keeps each value once (values equal
 * under dbsp_value_cmp are one value, so 1 and 1.0 are); FILTER skips the
 * rows whose condition column is not true.  GROUP_CONCAT joins values in
 * ivm's order, by value, not SQLite's scan order (README).  With nkey == 0
 * the one group exists even when empty: the first step emits (0, NULL, ...)
 * and it is maintained from then on (D9).  Rows must be sharded by group
 * (D4).
 */
#include "dbsp_int.h"

#include <math.h>

/* A value collected for DISTINCT or GROUP_CONCAT: its encoding (and its
 * separator's) in the collection's byte buffer, and its weight. */
typedef struct agg_item {
    size_t voff, soff;
    uint32_t vlen, slen;
    int64_t w;
} agg_item;

/* The fold of one aggregate over one group. */
typedef struct agg_acc {
    int64_t count;            /* rows (COUNT(*)) or non-NULL values */
    __int128 isum;            /* exact sum of INT values */
    double rsum, rcomp;       /* compensated sum of REAL values (Neumaier) */
    bool real;                /* some REAL value was summed */
    bool has_best;            /* MIN/MAX: best holds a value */
    ivm_value best;           /* MIN/MAX; GROUP_CONCAT's result; text points into tbuf */
    char *tbuf;               /* owned text of best */
    size_t tcap;
    /* DISTINCT and GROUP_CONCAT: the group's values, sorted at the end.
     * Buffers are kept from group to group (no per-row allocation). */
    agg_item *items;
    size_t nitems, icap;
    uint8_t *bytes;
    size_t nbytes, bcap;
} agg_acc;

typedef struct aggregate_state {
    bool started;             /* the first step has run */
    ivm_value *vals;          /* a decoded input row */
    ivm_value *res;           /* the aggregates of one group */
    agg_acc *acc;             /* one per aggregate */
    uint32_t naggs;
    uint8_t *row;             /* encoded res: the group's new row */
    size_t row_cap;
    uint8_t *orow;            /* the group's row before this step */
    size_t orow_cap;
} aggregate_state;
ivm_rc dbsp_plan_aggregate(dbsp_plan *p, dbsp_node in_integrated, uint32_t naggs,
                           const dbsp_agg *aggs, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in_integrated);
    if (src == NULL || src->kind != DBSP_INTEGRATE || (naggs > 0 && aggs == NULL))
        return IVM_INVALID;
    for (uint32_t i = 0; i < naggs; i++) {
        const dbsp_agg *g = &aggs[i];
        if (g->kind >= DBSP_AGG_KIND_COUNT_)
            return IVM_INVALID;
        if (g->kind != DBSP_AGG_COUNT_STAR && g->col >= src->ncols)
            return IVM_INVALID;
        if (g->flags & ~(DBSP_AGG_F_DISTINCT | DBSP_AGG_F_FILTER | DBSP_AGG_F_SEP))
            return IVM_INVALID;
        if ((g->flags & DBSP_AGG_F_FILTER) && g->filter_col >= src->ncols)
            return IVM_INVALID;
        if ((g->flags & DBSP_AGG_F_SEP) &&
            (g->kind != DBSP_AGG_GROUP_CONCAT || g->sep_col >= src->ncols))
            return IVM_INVALID;
        if ((g->flags & DBSP_AGG_F_DISTINCT) && g->kind == DBSP_AGG_COUNT_STAR)
            return IVM_INVALID;
    }
    dbsp_pnode nd = {.kind = DBSP_AGGREGATE, .vt = &dbsp_op_aggregate_vt,
                     .ncols = src->nkey + naggs, .nkey = src->nkey, .nin = 1,
                     .in = {in_integrated}, .partitioned = src->partitioned,
                     .naggs = naggs, .aggs = (dbsp_agg *)aggs};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc aggregate_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    aggregate_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    s->vals = ivm_calloc(c->plan->nodes[nd->in[0]].ncols + 1, sizeof *s->vals);
    s->res = ivm_calloc(nd->naggs + 1, sizeof *s->res);
    s->acc = ivm_calloc(nd->naggs + 1, sizeof *s->acc);
    if (s->vals == NULL || s->res == NULL || s->acc == NULL)
        return IVM_NOMEM;
    s->naggs = nd->naggs;
    return IVM_OK;
}

/* Neumaier's compensated step: the error of each addition is kept apart,
 * so that the order rows come in hardly matters. */
static void kbn_add(agg_acc *a, double x)
{
    double t = a->rsum + x;
    if (fabs(a->rsum) >= fabs(x))
        a->rcomp += (a->rsum - t) + x;
    else
        a->rcomp += (x - t) + a->rsum;
    a->rsum = t;
}

/* Copies text into a's own buffer (cursor bytes die when it moves). */
static ivm_rc keep_text(agg_acc *a, const char *p, size_t n, ivm_value *out)
{
    if (n > a->tcap) {
        size_t cap = a->tcap;
        if (ivm_grow((void **)&a->tbuf, &cap, n, 1) != IVM_OK)
            return IVM_NOMEM;
        a->tcap = cap;
    }
    if (n > 0)
        memcpy(a->tbuf, p, n);
    *out = ivm_value_text(a->tbuf, (uint32_t)n);
    return IVM_OK;
}

static ivm_rc keep_best(agg_acc *a, const ivm_value *v)
{
    a->has_best = true;
    if (v->type != IVM_TTEXT) {
        a->best = *v;
        return IVM_OK;
    }
    return keep_text(a, v->u.s.p, v->u.s.n, &a->best);
}

/* Adds (v, sep) with weight w to a's collection. */
static ivm_rc collect(agg_acc *a, const ivm_value *v, const ivm_value *sep, int64_t w)
{
    size_t vlen = spine_row_size(v, 1), slen = sep ? spine_row_size(sep, 1) : 0;
    if (a->nitems == a->icap &&
        ivm_grow((void **)&a->items, &a->icap, a->nitems + 1, sizeof *a->items) != IVM_OK)
        return IVM_NOMEM;
    if (a->nbytes + vlen + slen > a->bcap &&
        ivm_grow((void **)&a->bytes, &a->bcap, a->nbytes + vlen + slen, 1) != IVM_OK)
        return IVM_NOMEM;
    agg_item *it = &a->items[a->nitems++];
    it->voff = a->nbytes;
    it->vlen = (uint32_t)vlen;
    a->nbytes += spine_value_encode(v, a->bytes + a->nbytes);
    it->soff = a->nbytes;
    it->slen = (uint32_t)slen;
    if (sep)
        a->nbytes += spine_value_encode(sep, a->bytes + a->nbytes);
    it->w = w;
    return IVM_OK;
}

static void sum_value(agg_acc *a, const ivm_value *v, int64_t w)
{
    ivm_value x = *v;
    if (x.type == IVM_TTEXT)
        x = dbsp_value_sum_numeric(&x);
    if (x.type == IVM_TINT) {
        a->isum += (__int128)x.u.i * w;
    } else {
        a->real = true;
        kbn_add(a, x.u.r * (double)w);
    }
}

/* Folds one row of values, present w times, into every aggregate. */
static ivm_rc fold(const dbsp_pnode *nd, aggregate_state *s, const ivm_value *vals, int64_t w)
{
    for (uint32_t k = 0; k < nd->naggs; k++) {
        const dbsp_agg *g = &nd->aggs[k];
        agg_acc *a = &s->acc[k];
        if ((g->flags & DBSP_AGG_F_FILTER) && dbsp_value_truth(&vals[g->filter_col]) != 1)
            continue;
        if (g->kind == DBSP_AGG_COUNT_STAR) {
            a->count += w;
            continue;
        }
        const ivm_value *v = &vals[g->col];
        if (v->type == IVM_TNULL)
            continue;
        if ((g->flags & DBSP_AGG_F_DISTINCT) || g->kind == DBSP_AGG_GROUP_CONCAT) {
            /* Counted when the collection is finished. */
            ivm_value empty = ivm_value_text("", 0);
            const ivm_value *sep = NULL;
            if (g->flags & DBSP_AGG_F_SEP)
                sep = vals[g->sep_col].type == IVM_TNULL ? &empty : &vals[g->sep_col];
            ivm_rc rc = collect(a, v, sep, w);
            if (rc != IVM_OK)
                return rc;
            continue;
        }
        a->count += w;
        switch (g->kind) {
        case DBSP_AGG_SUM:
        case DBSP_AGG_AVG:
        case DBSP_AGG_TOTAL:
            sum_value(a, v, w);
            break;
        case DBSP_AGG_MIN:
        case DBSP_AGG_MAX: {
            /* A row deleted more often than inserted is not a value. */
            if (w <= 0)
                break;
            int cmp = a->has_best ? dbsp_value_cmp(v, &a->best) : 0;
            if (!a->has_best || (g->kind == DBSP_AGG_MIN ? cmp < 0 : cmp > 0)) {
                ivm_rc rc = keep_best(a, v);
                if (rc != IVM_OK)
                    return rc;
            }
            break;
        }
        default:
            break;
        }
    }
    return IVM_OK;
}

/* Sorting collected items: by value (SQL order), then separator bytes. */
static int item_cmp(const void *pa, const void *pb, void *ctx)
{
    const uint8_t *bytes = ctx;
    const agg_item *x = pa, *y = pb;
    ivm_value u, v;
    spine_row_decode(bytes + x->voff, x->vlen, &u, 1);
    spine_row_decode(bytes + y->voff, y->vlen, &v, 1);
    int c = dbsp_value_cmp(&u, &v);
    if (c != 0)
        return c;
    return spine_row_cmp(bytes + x->soff, x->slen, bytes + y->soff, y->slen);
}

/* Finishes a DISTINCT aggregate or a GROUP_CONCAT from its collection:
 * equal values are merged (their weights summed; only a positive total is
 * present), then counted, summed or joined. */
static ivm_rc finish_collection(dbsp_ctx *c, const dbsp_agg *g, agg_acc *a)
{
    bool distinct = (g->flags & DBSP_AGG_F_DISTINCT) != 0;
    if (a->nitems > 1)
        qsort_r(a->items, a->nitems, sizeof *a->items, item_cmp, a->bytes);
    bool concat = g->kind == DBSP_AGG_GROUP_CONCAT;
    size_t out = 0;           /* GROUP_CONCAT: bytes written to tbuf */
    bool first = true;
    for (size_t i = 0; i < a->nitems;) {
        ivm_value v;
        spine_row_decode(a->bytes + a->items[i].voff, a->items[i].vlen, &v, 1);
        /* A run of equal values (and, without DISTINCT, equal separators). */
        int64_t w = 0;
        size_t j = i;
        for (; j < a->nitems; j++) {
            ivm_value u;
            spine_row_decode(a->bytes + a->items[j].voff, a->items[j].vlen, &u, 1);
            if (dbsp_value_cmp(&u, &v) != 0)
                break;
            if (!distinct && spine_row_cmp(a->bytes + a->items[j].soff, a->items[j].slen,
                                           a->bytes + a->items[i].soff, a->items[i].slen) != 0)
                break;
            w += a->items[j].w;
        }
        const agg_item *it = &a->items[i];
        i = j;
        if (w <= 0)
            continue;
        if (distinct)
            w = 1;
        if (!concat) {
            a->count += w;
            if (g->kind == DBSP_AGG_SUM || g->kind == DBSP_AGG_AVG || g->kind == DBSP_AGG_TOTAL)
                sum_value(a, &v, w);
            /* MIN and MAX: the first and the last present value. */
            if ((g->kind == DBSP_AGG_MIN && !a->has_best) || g->kind == DBSP_AGG_MAX) {
                ivm_rc rc = keep_best(a, &v);
                if (rc != IVM_OK)
                    return rc;
            }
            continue;
        }
        a->count += w;
        char num[40];
        ivm_value t = dbsp_value_text_form(&v, num, sizeof num);
        ivm_value sep = ivm_value_text(",", 1);
        if (g->flags & DBSP_AGG_F_SEP)
            spine_row_decode(a->bytes + it->soff, it->slen, &sep, 1);
        for (int64_t r = 0; r < w; r++) {
            size_t add = t.u.s.n + (first ? 0 : sep.u.s.n);
            if (out + add > DBSP_TEXT_MAX)
                return ivm_err_set(&c->err, IVM_INVALID, 0, 0, "string or blob too big");
            if (out + add > a->tcap) {
                size_t cap = a->tcap;
                if (ivm_grow((void **)&a->tbuf, &cap, out + add, 1) != IVM_OK)
                    return IVM_NOMEM;
                a->tcap = cap;
            }
            if (!first) {
                memcpy(a->tbuf + out, sep.u.s.p, sep.u.s.n);
                out += sep.u.s.n;
            }
            memcpy(a->tbuf + out, t.u.s.p, t.u.s.n);
            out += t.u.s.n;
            first = false;
        }
    }
    if (concat && !first)
        a->best = ivm_value_text(a->tbuf, (uint32_t)out);
    return IVM_OK;
}

static double real_total(const agg_acc *a)
{
    double r = a->rsum;
    /* An infinite sum has a NaN compensation: the sum itself is the answer. */
    if (isfinite(r))
        r += a->rcomp;
    return r;
}

/* The aggregate values of a group from its folds; res[] as SQLite gives them
 * (an empty group gives COUNT 0, TOTAL 0.0 and NULL for the others). */
static ivm_rc finish(dbsp_ctx *c, const dbsp_pnode *nd, aggregate_state *s)
{
    for (uint32_t k = 0; k < nd->naggs; k++) {
        const dbsp_agg *g = &nd->aggs[k];
        agg_acc *a = &s->acc[k];
        ivm_value *r = &s->res[k];
        if ((g->flags & DBSP_AGG_F_DISTINCT) || g->kind == DBSP_AGG_GROUP_CONCAT) {
            ivm_rc rc = finish_collection(c, g, a);
            if (rc != IVM_OK)
                return rc;
        }
        switch (g->kind) {
        case DBSP_AGG_COUNT_STAR:
        case DBSP_AGG_COUNT:
            *r = ivm_value_int(a->count);
            break;
        case DBSP_AGG_SUM:
            if (a->count == 0) {
                *r = ivm_value_null();
            } else if (a->real) {
                double t = (double)a->isum + real_total(a);
                *r = isnan(t) ? ivm_value_null() : ivm_value_real(t);
            } else if (a->isum > INT64_MAX || a->isum < INT64_MIN) {
                return ivm_err_set(&c->err, IVM_INVALID, 0, 0, "integer overflow");
            } else {
                *r = ivm_value_int((int64_t)a->isum);
            }
            break;
        case DBSP_AGG_TOTAL: {
            double t = a->real ? (double)a->isum + real_total(a) : (double)a->isum;
            *r = isnan(t) ? ivm_value_null() : ivm_value_real(t);
            break;
        }
        case DBSP_AGG_AVG:
            if (a->count == 0) {
                *r = ivm_value_null();
            } else {
                double t = a->real ? (double)a->isum + real_total(a) : (double)a->isum;
                t /= (double)a->count;
                *r = isnan(t) ? ivm_value_null() : ivm_value_real(t);
            }
            break;
        case DBSP_AGG_GROUP_CONCAT:
            *r = a->count > 0 ? a->best : ivm_value_null();
            break;
        default: /* MIN, MAX */
            *r = a->has_best ? a->best : ivm_value_null();
            break;
        }
    }
    return IVM_OK;
}

static void acc_reset(aggregate_state *s, uint32_t naggs)
{
    for (uint32_t k = 0; k < naggs; k++) {
        agg_acc *a = &s->acc[k];
        agg_acc keep = *a;
        memset(a, 0, sizeof *a);
        /* Buffers stay for the next group. */
        a->tbuf = keep.tbuf;
        a->tcap = keep.tcap;
        a->items = keep.items;
        a->icap = keep.icap;
        a->bytes = keep.bytes;
        a->bcap = keep.bcap;
    }
}

/* Finishes the fold in s->acc and encodes it into *buf; *len_out is its
 * length. */
static ivm_rc encode_group(dbsp_ctx *c, const dbsp_pnode *nd, aggregate_state *s, uint8_t **buf,
                           size_t *cap, size_t *len_out)
{
    ivm_rc rc = finish(c, nd, s);
    if (rc != IVM_OK)
        return rc;
    size_t len = spine_row_size(s->res, nd->naggs);
    if (len > *cap && ivm_grow((void **)buf, cap, len, 1) != IVM_OK)
        return IVM_NOMEM;
    spine_row_encode(s->res, nd->naggs, *buf);
    *len_out = len;
    return IVM_OK;
}

static ivm_rc decode_val(dbsp_ctx *c, const dbsp_pnode *nd, uint32_t in_cols, aggregate_state *s,
                         const uint8_t *val, size_t vlen)
{
    uint32_t nv = in_cols - nd->nkey;
    if (spine_row_decode(val, vlen, s->vals + nd->nkey, nv) != (int)nv)
        return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0, "aggregate: bad row encoding");
    return IVM_OK;
}

/* Group `key` after this step (new) and before it (old), from one seek in
 * the integral: new folds I(x)'s rows; old folds the same rows merged with
 * dx's rows of the group dx[lo, hi), each with weight w_I - w_dx, which is
 * the group's contents before the step (D2).  Both folds meet the rows in
 * the same (value) order, so a group with the same rows gives the same
 * bytes, as the last step emitted them.  *nlen_out / *olen_out are the rows'
 * lengths (s->row, s->orow), or SIZE_MAX when the group does not exist. */
static ivm_rc group_rows(dbsp_ctx *c, const dbsp_pnode *nd, uint32_t in_cols, aggregate_state *s,
                         spine_cursor *in, const spine_batch *dx, size_t lo, size_t hi,
                         bool old_global, const uint8_t *key, size_t klen, size_t *nlen_out,
                         size_t *olen_out)
{
    acc_reset(s, nd->naggs);
    bool found = dbsp_cursor_seek_exact(in, key, klen);
    if (spine_row_decode(key, klen, s->vals, nd->nkey) != (int)nd->nkey)
        return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0, "aggregate: bad key encoding");
    ivm_rc rc = IVM_OK;
    /* The new row: the one global group always exists (D9). */
    *nlen_out = SIZE_MAX;
    if (found) {
        for (; spine_cursor_val_valid(in) && rc == IVM_OK; spine_cursor_step_val(in)) {
            size_t vlen;
            const uint8_t *val = spine_cursor_val(in, &vlen);
            rc = decode_val(c, nd, in_cols, s, val, vlen);
            if (rc == IVM_OK)
                rc = fold(nd, s, s->vals, spine_cursor_weight(in));
        }
    }
    if (rc == IVM_OK && (found || nd->nkey == 0))
        rc = encode_group(c, nd, s, &s->row, &s->row_cap, nlen_out);
    if (rc != IVM_OK)
        return rc;
    /* The old row: a merge of the group's rows in I and in dx, by value. */
    acc_reset(s, nd->naggs);
    bool existed = old_global;
    if (found)
        spine_cursor_rewind_vals(in);
    size_t j = lo;
    for (;;) {
        bool have_i = found && spine_cursor_val_valid(in), have_d = j < hi;
        if (!have_i && !have_d)
            break;
        size_t il = 0, dl = 0;
        const uint8_t *iv = have_i ? spine_cursor_val(in, &il) : NULL;
        const uint8_t *dv = have_d ? spine_batch_val(dx, j, &dl) : NULL;
        int cmp = !have_i ? 1 : !have_d ? -1 : spine_row_cmp(iv, il, dv, dl);
        int64_t w = 0;
        const uint8_t *v = cmp <= 0 ? iv : dv;
        size_t vl = cmp <= 0 ? il : dl;
        if (cmp <= 0) {
            w = spine_cursor_weight(in);
            spine_cursor_step_val(in);
        }
        if (cmp >= 0) {
            w -= dx->w[j];
            j++;
        }
        if (w == 0)
            continue;
        existed = true;
        if ((rc = decode_val(c, nd, in_cols, s, v, vl)) != IVM_OK ||
            (rc = fold(nd, s, s->vals, w)) != IVM_OK)
            return rc;
    }
    *olen_out = SIZE_MAX;
    if (existed)
        rc = encode_group(c, nd, s, &s->orow, &s->orow_cap, olen_out);
    return rc;
}

/* Brings group `key`'s output up to date: -old +new when they differ, in
 * (key, value) order so that the builder stays sorted.  dx[lo, hi) are the
 * group's rows of this step's delta. */
static ivm_rc update_group(dbsp_ctx *c, const dbsp_pnode *nd, uint32_t in_cols,
                           aggregate_state *s, spine_cursor *in, const spine_batch *dx, size_t lo,
                           size_t hi, bool old_global, const uint8_t *key, size_t klen)
{
    size_t nlen = SIZE_MAX, olen = SIZE_MAX;
    ivm_rc rc = group_rows(c, nd, in_cols, s, in, dx, lo, hi, old_global, key, klen, &nlen,
                           &olen);
    if (rc != IVM_OK)
        return rc;
    bool has_new = nlen != SIZE_MAX, has_old = olen != SIZE_MAX;
    if (!has_old && !has_new)
        return IVM_OK;
    const uint8_t *ov = s->orow;
    int cmp = !has_old ? 1 : !has_new ? -1 : spine_row_cmp(ov, olen, s->row, nlen);
    if (cmp == 0)
        return IVM_OK;
    spine_builder *b = &c->bld;
    if (cmp < 0) {
        rc = spine_builder_push(b, key, klen, ov, olen, -1);
        if (rc == IVM_OK && has_new)
            rc = spine_builder_push(b, key, klen, s->row, nlen, 1);
    } else {
        rc = spine_builder_push(b, key, klen, s->row, nlen, 1);
        if (rc == IVM_OK && has_old)
            rc = spine_builder_push(b, key, klen, ov, olen, -1);
    }
    return rc;
}

static ivm_rc aggregate_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    aggregate_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    uint32_t in_cols = c->plan->nodes[nd->in[0]].ncols;
    const spine_batch *dx = dbsp_ctx_in(c, n, 0);
    /* D9: the global group lives on the worker that owns the empty key; it
     * existed before this step unless this is the first. */
    static const uint8_t no_key[1];
    bool owner = nd->nkey == 0 && c->worker == xchg_owner(c->nworkers, no_key, 0);
    bool global_first = !s->started && owner;
    bool old_global = s->started && owner;
    s->started = true;
    if (dx->n == 0 && !global_first) {
        *out = dbsp_ctx_empty(c);
        return IVM_OK;
    }
    const spine *trace = dbsp_ctx_trace(c, nd->in[0]);
    spine_cursor *in = NULL;
    ivm_rc rc = spine_cursor_new(&trace, 1, NULL, 0, &in);
    spine_builder_set_sorted(&c->bld, true);
    if (rc == IVM_OK && dx->n == 0)
        rc = update_group(c, nd, in_cols, s, in, dx, 0, 0, old_global, no_key, 0);
    for (size_t i = 0; i < dx->n && rc == IVM_OK;) {
        size_t klen;
        const uint8_t *key = spine_batch_key(dx, i, &klen);
        size_t e = i + 1;
        while (e < dx->n && dx->klen[e] == klen && memcmp(dx->data + dx->off[e], key, klen) == 0)
            e++;
        rc = update_group(c, nd, in_cols, s, in, dx, i, e, old_global, key, klen);
        i = e;
    }
    spine_cursor_free(in);
    return dbsp_ctx_build(c, rc, out);
}

static void aggregate_fini(void *state)
{
    aggregate_state *s = state;
    ivm_free(s->vals);
    ivm_free(s->res);
    for (uint32_t k = 0; s->acc != NULL && k < s->naggs; k++) {
        ivm_free(s->acc[k].tbuf);
        ivm_free(s->acc[k].items);
        ivm_free(s->acc[k].bytes);
    }
    ivm_free(s->acc);
    ivm_free(s->row);
    ivm_free(s->orow);
}

const dbsp_op_vtab dbsp_op_aggregate_vt = {
    .name = "aggregate",
    .state_desc = NULL,
    .state_size = sizeof(aggregate_state),
    .init = aggregate_init,
    .eval = aggregate_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = aggregate_fini,
};
