/*
 * host.c: helpers the operators share (building a delta, decoding rows,
 * summing batches), and dbsp_host, a plan running alone on the workers of
 * an rt_sched: a circuit (circuit.c) of one segment whose failure is the
 * host's sticky error state.  Steps, feeding, publishing (D5, D6, D11) are
 * the circuit's; the README's "Host" and "Circuits" sections draw them.
 */
#include "dbsp_int.h"

struct dbsp_host {
    dbsp_circuit *c;
    dbsp_seg *s;
};

/* ---- Helpers shared by the operators ------------------------------------- */

ivm_rc dbsp_ctx_build(dbsp_ctx *c, ivm_rc rc, spine_batch **out)
{
    if (rc == IVM_OK)
        rc = spine_builder_finish(&c->bld, out);
    else
        spine_builder_clear(&c->bld);
    return rc;
}

ivm_rc dbsp_row_decode(dbsp_ctx *c, const uint8_t *row, size_t len, uint32_t ncols,
                       ivm_value *vals)
{
    /* D1: an entry is the whole row; a shorter or longer one is corrupt.
     * spine_row_decode validates the whole row and counts all its columns,
     * however many it decodes, so its count alone says both. */
    if (spine_row_decode(row, len, vals, ncols) != (int)ncols)
        return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0,
                           "a row does not hold the %u columns its node has", (unsigned)ncols);
    return IVM_OK;
}

/* Marks the columns e reads: used[c] |= 1, or 2 where e is not a bare
 * column (the column is computed with, so it must be decoded). */
static void cols_read(const dbsp_expr *e, uint8_t *used, bool top)
{
    if (e->op == DBSP_X_COL) {
        used[e->col] |= top ? 1 : 2;
        return;
    }
    for (uint32_t i = 0; i < e->nargs; i++)
        cols_read(e->args[i], used, false);
}

ivm_rc dbsp_colread_init(dbsp_colread *r, dbsp_expr *const *exprs, uint32_t n,
                         const dbsp_expr *cond, uint32_t ncols, bool copy_cols)
{
    memset(r, 0, sizeof *r);
    r->ncols = ncols;
    uint8_t *used = ivm_calloc(ncols + 1, 1);
    r->dec = ivm_calloc(ncols + 1, sizeof *r->dec);
    r->off = ivm_calloc(ncols + 1, sizeof *r->off);
    if (used == NULL || r->dec == NULL || r->off == NULL) {
        ivm_free(used);
        dbsp_colread_fini(r);
        return IVM_NOMEM;
    }
    for (uint32_t k = 0; k < n; k++)
        cols_read(exprs[k], used, copy_cols);
    if (cond != NULL)
        cols_read(cond, used, false); /* a condition computes with all it reads */
    for (uint32_t col = 0; col < ncols; col++) {
        if (used[col] != 0)
            r->walk = col + 1;
        if (used[col] & 2 || (used[col] != 0 && !copy_cols))
            r->dec[r->ndec++] = col;
    }
    ivm_free(used);
    return IVM_OK;
}

void dbsp_colread_fini(dbsp_colread *r)
{
    ivm_free(r->dec);
    ivm_free(r->off);
    r->dec = NULL;
    r->off = NULL;
}

ivm_rc dbsp_colread_row(dbsp_ctx *c, dbsp_colread *r, const uint8_t *row, size_t len,
                        ivm_value *vals)
{
    if (!spine_row_split(row, len, r->walk, r->off) ||
        (r->walk == r->ncols && r->off[r->walk] != len))
        return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0,
                           "a row does not hold the %u columns its node has", (unsigned)r->ncols);
    for (uint32_t k = 0; k < r->ndec; k++) {
        uint32_t col = r->dec[k];
        spine_col_decode(row + r->off[col], r->off[col + 1] - r->off[col], &vals[col]);
    }
    return IVM_OK;
}

ivm_rc dbsp_batches_sum_take(spine_batch **bs, size_t n, spine_batch *empty, spine_batch **out)
{
    /* Empty batches add nothing. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (bs[i] == NULL || bs[i]->n == 0)
            spine_batch_unref(bs[i]);
        else
            bs[m++] = bs[i];
    }
    n = m;
    if (n == 0) {
        *out = spine_batch_ref(empty);
        return IVM_OK;
    }
    /* Pairwise rounds: every entry is merged O(log n) times. */
    while (n > 1) {
        m = 0;
        for (size_t i = 0; i < n; i += 2) {
            if (i + 1 == n) {
                bs[m++] = bs[i];
                break;
            }
            spine_batch *sum = NULL;
            ivm_rc rc = spine_batch_merge(bs[i], bs[i + 1], &sum);
            spine_batch_unref(bs[i]);
            spine_batch_unref(bs[i + 1]);
            if (rc != IVM_OK) {
                for (size_t k = 0; k < m; k++)
                    spine_batch_unref(bs[k]);
                for (size_t k = i + 2; k < n; k++)
                    spine_batch_unref(bs[k]);
                return rc;
            }
            bs[m++] = sum;
        }
        n = m;
    }
    *out = bs[0];
    return IVM_OK;
}

/* ---- Hosts: a circuit of one segment -------------------------------------- */

ivm_rc dbsp_host_new(const dbsp_plan *p, rt_sched *sched, dbsp_host **out)
{
    dbsp_host *h = ivm_calloc(1, sizeof *h);
    if (h == NULL)
        return IVM_NOMEM;
    ivm_rc rc = dbsp_circuit_new(sched, &h->c);
    if (rc == IVM_OK)
        rc = dbsp_circuit_add(h->c, p, &h->s);
    if (rc != IVM_OK) {
        dbsp_host_free(h);
        return rc;
    }
    *out = h;
    return IVM_OK;
}

void dbsp_host_free(dbsp_host *h)
{
    if (h == NULL)
        return;
    dbsp_circuit_free(h->c);
    ivm_free(h);
}

ivm_rc dbsp_host_feed_take(dbsp_host *h, dbsp_node input, spine_batch *b_owned)
{
    return dbsp_seg_feed_take(h->s, input, b_owned);
}

ivm_rc dbsp_host_step(dbsp_host *h, ivm_err *err)
{
    ivm_rc rc = dbsp_seg_status(h->s, err);
    if (rc != IVM_OK)
        return rc;
    dbsp_seg_touch(h->s); /* a host steps even when nothing was fed */
    ivm_err e;
    ivm_err_clear(&e);
    rc = dbsp_circuit_step(h->c, &e);
    if (rc != IVM_OK) {
        if (err != NULL)
            ivm_err_set(err, rc, 0, 0, "%s", e.msg);
        return rc;
    }
    return dbsp_seg_status(h->s, err);
}

ivm_rc dbsp_host_delta(dbsp_host *h, dbsp_node output, spine_batch **out)
{
    return dbsp_seg_delta(h->s, output, out);
}

ivm_rc dbsp_host_cursor(dbsp_host *h, dbsp_node output, spine_cursor **out)
{
    return dbsp_seg_cursor(h->s, output, out);
}

ivm_rc dbsp_host_compact(dbsp_host *h)
{
    return dbsp_seg_compact(h->s);
}

void dbsp_stats_add(spine_stats *acc, const spine_stats *st)
{
    acc->rows += st->rows;
    acc->bytes += st->bytes;
    acc->batches += st->batches;
    for (unsigned l = 0; l < SPINE_MAX_LEVELS; l++)
        acc->level_batches[l] += st->level_batches[l];
    acc->filtered += st->filtered;
    acc->pending += st->pending;
    acc->fanout = IVM_MAX(acc->fanout, st->fanout); /* the widest */
    acc->merges += st->merges;
    acc->merge_rows += st->merge_rows;
    acc->waits += st->waits;
    acc->wait_ns += st->wait_ns;
}

void dbsp_host_stats(dbsp_host *h, spine_stats *out)
{
    dbsp_seg_stats(h->s, out);
}

void dbsp_host_set_step_opts(dbsp_host *h, const dbsp_step_opts *o)
{
    dbsp_circuit_set_step_opts(h->c, o);
}
