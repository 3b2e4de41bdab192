/*
 * op_map.c: projection and computed columns (SELECT lists, re-keying before
 * an exchange).
 *
 *   out = sum over (r, w) in in of (f(r), w)      (linear: d out = map(d in))
 *
 * Per step: O(|d in| log |d in|): one evaluation per row, then the output is
 * sorted and consolidated again, since f neither keeps order nor is
 * one-to-one (two rows may map to one); the builder skips the sort when the
 * rows come out in order (a projection that keeps the leading columns), and
 * sorts only within runs of rows whose leading columns are the input's
 * (spine_builder_finish_runs) when the output starts with them.  A
 * map made by dbsp_plan_fuse may also drop the rows its `where` predicate
 * does not hold for (a filter fused into it: out = sum over (r, w) in in
 * with where(r) of (f(r), w)).  Each row is read only as far as the
 * expressions and the predicate need (dbsp_colread), and an output column
 * that is an input column is copied as bytes.  No state between steps,
 * only scratch for one row.  The row work is dbsp_rowmap (dbsp_int.h),
 * which a join with a fused map (op_join.c) runs over its pairs too.
 * Design: dbsp/README.md.
 */
#include "dbsp_int.h"

typedef struct map_state {
    dbsp_rowmap rm;
} map_state;

/* Whether n bytes at a and b are equal: leading columns of one INT or
 * two (9 to 16 bytes) in two overlapping word loads each, of three (27
 * bytes, Nexmark q0's auction, bidder, price) in four, not a call. */
static bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n < 8 || n > 32)
        return memcmp(a, b, n) == 0;
    uint64_t x, y, u, v;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    memcpy(&u, a + n - 8, 8);
    memcpy(&v, b + n - 8, 8);
    if (n <= 16 || ((x ^ y) | (u ^ v)) != 0)
        return ((x ^ y) | (u ^ v)) == 0;
    /* 17 to 32 bytes: the two words after the first, the second of them
     * overlapping the last word where n < 32. */
    memcpy(&x, a + 8, 8);
    memcpy(&y, b + 8, 8);
    memcpy(&u, a + (n < 24 ? n - 8 : 16), 8);
    memcpy(&v, b + (n < 24 ? n - 8 : 16), 8);
    return ((x ^ y) | (u ^ v)) == 0;
}

/* The map keeps the input's sharding when its key columns are the input's
 * key columns, copied in place: the key bytes, and so their owner, do not
 * change (D4). */
bool dbsp_map_keeps_key(const dbsp_pnode *src, dbsp_expr *const *exprs, uint32_t nkey)
{
    if (!src->partitioned || nkey != src->nkey)
        return false;
    for (uint32_t i = 0; i < nkey; i++)
        if (exprs[i]->op != DBSP_X_COL || exprs[i]->col != i)
            return false;
    return true;
}

bool dbsp_plan_input_rows_whole(const dbsp_plan *p, dbsp_node n)
{
    const dbsp_pnode *nd = dbsp_plan_node(p, n);
    if (nd == NULL || nd->kind != DBSP_INPUT || nd->nkey != 0)
        return false;
    bool read = false;
    for (uint32_t i = 0; i < p->n; i++) {
        const dbsp_pnode *r = &p->nodes[i];
        for (uint32_t k = 0; k < r->nin; k++) {
            if (r->in[k] != n)
                continue;
            if (r->kind != DBSP_MAP)
                return false;
            read = true;
        }
    }
    return read;
}

ivm_rc dbsp_plan_map(dbsp_plan *p, dbsp_node in, uint32_t nexprs, dbsp_expr **exprs_owned,
                     uint32_t nkey, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in);
    bool ok = src != NULL && nkey <= nexprs && (nexprs == 0 || exprs_owned != NULL);
    for (uint32_t i = 0; ok && i < nexprs; i++)
        ok = exprs_owned[i] != NULL && dbsp_expr_cols_below(exprs_owned[i], src->ncols);
    if (!ok) {
        dbsp_exprs_free(exprs_owned, nexprs);
        return IVM_INVALID;
    }
    dbsp_pnode nd = {.kind = DBSP_MAP, .vt = &dbsp_op_map_vt, .ncols = nexprs, .nkey = nkey,
                     .nin = 1, .in = {in}, .partitioned = dbsp_map_keeps_key(src, exprs_owned, nkey),
                     .nexprs = nexprs, .exprs = exprs_owned};
    return dbsp_plan_add(p, &nd, out);
}

ivm_rc dbsp_rowmap_init(dbsp_rowmap *m, const dbsp_pnode *nd, uint32_t in_cols)
{
    m->nd = nd;
    m->in_vals = ivm_calloc(in_cols + 1, sizeof *m->in_vals);
    m->out_vals = ivm_calloc(nd->nexprs + 1, sizeof *m->out_vals);
    m->seg_len = ivm_calloc(nd->nexprs + 1, sizeof *m->seg_len);
    m->seg = ivm_calloc(nd->nexprs + 1, sizeof *m->seg);
    if (m->in_vals == NULL || m->out_vals == NULL || m->seg_len == NULL || m->seg == NULL)
        return IVM_NOMEM;
    /* Runs of bare columns in input order: a projection that keeps
     * neighbouring columns copies them with one memcpy per run, not one
     * per column (the loops over a row's columns were most of a
     * projection's own cost). */
    for (uint32_t k = 0; k < nd->nexprs; k++) {
        const dbsp_expr *e = nd->exprs[k];
        dbsp_rowmap_seg *last = m->nseg > 0 ? &m->seg[m->nseg - 1] : NULL;
        if (e->op == DBSP_X_COL && last != NULL && last->to != 0 && !last->key_end &&
            last->to == e->col) {
            last->to++;
        } else if (e->op == DBSP_X_COL) {
            m->seg[m->nseg++] = (dbsp_rowmap_seg){.from = e->col, .to = e->col + 1};
        } else {
            m->seg[m->nseg++] = (dbsp_rowmap_seg){.from = k, .to = 0};
        }
        if (k + 1 == nd->nkey)
            m->seg[m->nseg - 1].key_end = true;
    }
    m->lead = m->nseg > 0 && m->seg[0].to != 0 && m->seg[0].from == 0;
    /* Only copies, each input column at most once (SELECT a, a copies
     * one twice, and its rows outgrow their input's): see copy_row. */
    m->copies = true;
    for (uint32_t g = 0; g < m->nseg && m->copies; g++) {
        m->copies = m->seg[g].to != 0;
        for (uint32_t h = 0; h < g && m->copies; h++)
            m->copies = m->seg[h].to <= m->seg[g].from || m->seg[g].to <= m->seg[h].from;
    }
    ivm_rc rc = dbsp_memo_init(&m->memo, nd->nmemo);
    if (rc != IVM_OK)
        return rc;
    return dbsp_colread_init(&m->cr, nd->exprs, nd->nexprs, nd->where, in_cols, true);
}

void dbsp_rowmap_fini(dbsp_rowmap *m)
{
    dbsp_colread_fini(&m->cr);
    dbsp_memo_fini(&m->memo);
    ivm_free(m->in_vals);
    ivm_free(m->out_vals);
    ivm_free(m->seg_len);
    ivm_free(m->seg);
    ivm_free(m->lead_copy);
    ivm_free(m->runs);
    memset(m, 0, sizeof *m);
}

/* Writes the output row of a map whose every stretch copies input
 * columns, none of them twice (a projection: Nexmark q0, q2), into b's
 * free space, uncommitted: it is no longer than its input row (len), so
 * room for that is taken first and each stretch is copied as its length
 * is found, one pass instead of a pass for the lengths and one for the
 * bytes. */
static ivm_rc copy_row(spine_builder *b, const dbsp_rowmap *m, const uint8_t *row, size_t len,
                       size_t *klen_out, size_t *olen_out)
{
    uint8_t *dst = spine_builder_reserve(b, len);
    if (dst == NULL)
        return IVM_NOMEM;
    const size_t *off = m->cr.off;
    size_t olen = 0;
    for (uint32_t g = 0; g < m->nseg; g++) {
        const dbsp_rowmap_seg *sg = &m->seg[g];
        size_t sl = off[sg->to] - off[sg->from];
        memcpy(dst + olen, row + off[sg->from], sl);
        olen += sl;
        if (sg->key_end)
            *klen_out = olen;
    }
    *olen_out = olen;
    return IVM_OK;
}

/* Writes the output row of any other map into its builder's free space,
 * uncommitted: the computed columns are evaluated and measured first,
 * then room is taken and every stretch written. */
static ivm_rc build_row(dbsp_ctx *c, dbsp_rowmap *m, spine_builder *b, const uint8_t *row,
                        size_t *klen_out, size_t *olen_out)
{
    const size_t *off = m->cr.off;
    size_t olen = 0;
    for (uint32_t g = 0; g < m->nseg; g++) {
        const dbsp_rowmap_seg *sg = &m->seg[g];
        if (sg->to != 0) {
            m->seg_len[g] = off[sg->to] - off[sg->from];
        } else {
            ivm_value *v = &m->out_vals[sg->from];
            ivm_rc rc = dbsp_expr_eval_memo(m->nd->exprs[sg->from], m->in_vals, &c->scratch,
                                            &m->memo, v, &c->err);
            if (rc != IVM_OK)
                return rc;
            m->seg_len[g] = spine_value_size(v);
        }
        olen += m->seg_len[g];
        if (sg->key_end)
            *klen_out = olen;
    }
    uint8_t *dst = spine_builder_reserve(b, olen);
    if (dst == NULL)
        return IVM_NOMEM;
    for (uint32_t g = 0; g < m->nseg; g++) {
        const dbsp_rowmap_seg *sg = &m->seg[g];
        if (sg->to != 0)
            memcpy(dst, row + off[sg->from], m->seg_len[g]);
        else
            spine_value_encode(&m->out_vals[sg->from], dst);
        dst += m->seg_len[g];
    }
    *olen_out = olen;
    return IVM_OK;
}

/* With m->lead, rows fed in ascending order (a batch's: keys, then
 * values, S1) ascend in their first columns too; the output rows, which
 * start with those bytes, come in runs of equal first columns, each run
 * after the one before.  Only the rows within a run need sorting
 * (spine_builder_finish_runs): Nexmark q17 keeps a bid's auction first,
 * and a step's bids are in auction order already.  Sets *larger when the
 * row starts a run after the first: it is larger than every row before. */
static ivm_rc note_run(dbsp_rowmap *m, const uint8_t *row, bool row_stays, bool *larger)
{
    size_t pl = m->cr.off[m->seg[0].to];
    bool fresh = m->nout == 0;
    if (!fresh && (pl != m->lead_len || !same_bytes(row, m->lead_at, pl))) {
        if (m->nruns == m->runs_cap &&
            ivm_grow((void **)&m->runs, &m->runs_cap, m->nruns + 1, sizeof *m->runs) != IVM_OK)
            return IVM_NOMEM;
        m->runs[m->nruns++] = m->nout;
        *larger = fresh = true;
    }
    if (row_stays) {
        m->lead_at = row;
    } else if (fresh) {
        if (pl > m->lead_cap && ivm_grow((void **)&m->lead_copy, &m->lead_cap, pl, 1) != IVM_OK)
            return IVM_NOMEM;
        memcpy(m->lead_copy, row, pl);
        m->lead_at = m->lead_copy;
    }
    m->lead_len = pl;
    m->nout++;
    return IVM_OK;
}

/* An output column that is a bare input column is the input's bytes,
 * copied (the encoding is canonical, S1, so decoding and encoding again
 * would give the same bytes); the others are evaluated over the decoded
 * columns and encoded. */
ivm_rc dbsp_rowmap_row(dbsp_ctx *c, dbsp_rowmap *m, spine_builder *b, const uint8_t *row,
                       size_t len, int64_t w, bool row_stays)
{
    ivm_rc rc = dbsp_colread_row(c, &m->cr, row, len, m->in_vals);
    if (rc != IVM_OK)
        return rc;
    dbsp_memo_next(&m->memo);
    if (m->nd->where != NULL) {
        ivm_value pass;
        rc = dbsp_expr_eval_memo(m->nd->where, m->in_vals, &c->scratch, &m->memo, &pass,
                                 &c->err);
        if (rc != IVM_OK || dbsp_value_truth(&pass) != 1) {
            dbsp_ctx_scratch_check(c);
            return rc;
        }
    }
    size_t klen = 0, olen = 0;
    rc = m->copies ? copy_row(b, m, row, len, &klen, &olen) : build_row(c, m, b, row, &klen, &olen);
    bool larger = false;
    if (rc == IVM_OK && m->lead && w != 0)
        rc = note_run(m, row, row_stays, &larger);
    if (rc == IVM_OK)
        rc = larger ? spine_builder_commit_larger(b, klen, olen, w)
                    : spine_builder_commit(b, klen, olen, w);
    /* Values computed for this row are encoded: scratch may go. */
    dbsp_ctx_scratch_check(c);
    return rc;
}

ivm_rc dbsp_rowmap_finish(dbsp_ctx *c, dbsp_rowmap *m, ivm_rc rc, spine_batch **out)
{
    if (rc != IVM_OK || !m->lead)
        return dbsp_ctx_build(c, rc, out);
    return spine_builder_finish_runs(&c->bld, m->runs, m->nruns, out);
}

static ivm_rc map_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    map_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    return dbsp_rowmap_init(&s->rm, nd, c->plan->nodes[nd->in[0]].ncols);
}

static ivm_rc map_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    map_state *s = state;
    const spine_batch *in = dbsp_ctx_in(c, n, 0);
    ivm_rc rc = IVM_OK;
    dbsp_rowmap_begin(&s->rm);
    for (size_t i = 0; i < in->n && rc == IVM_OK; i++) {
        size_t len;
        const uint8_t *row = spine_batch_row(in, i, &len);
        rc = dbsp_rowmap_row(c, &s->rm, &c->bld, row, len, in->w[i], true);
    }
    return dbsp_rowmap_finish(c, &s->rm, rc, out);
}

static void map_fini(void *state)
{
    map_state *s = state;
    dbsp_rowmap_fini(&s->rm);
}

const dbsp_op_vtab dbsp_op_map_vt = {
    .name = "map",
    .state_desc = NULL,
    .state_size = sizeof(map_state),
    .init = map_init,
    .eval = map_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = map_fini,
};
