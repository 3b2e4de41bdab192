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
 * only scratch for one row.
 * Design: dbsp/README.md.
 */
#include "dbsp_int.h"

/* A stretch of output columns made the same way: bare input columns
 * [from, to) that follow each other in the input too, copied as one run
 * of bytes; or one computed column (to == 0, from: its expression).  A
 * stretch never crosses the end of the output key, so the key's length is
 * the length of the stretches before it. */
typedef struct map_seg {
    uint32_t from, to;
    bool key_end;             /* the output key ends after this stretch */
} map_seg;

typedef struct map_state {
    dbsp_colread cr;          /* which input columns are read, how */
    ivm_value *in_vals;       /* the input row's decoded columns */
    ivm_value *out_vals;      /* the computed output columns */
    size_t *seg_len;          /* each stretch's encoded length */
    map_seg *seg;             /* the output columns' stretches, in order */
    uint32_t nseg;
    dbsp_memo memo;           /* the row's shared subexpressions */
    bool copies;              /* every stretch copies input columns, none
                                 twice: an output row is no longer than
                                 its input row, and is written in one
                                 pass (copy_row) */
    bool lead;                /* the first stretch copies the input's
                                 leading columns: output rows come in runs
                                 in order (runs, below) */
    size_t *runs;             /* this step's output rows where such a run
                                 begins; kept from step to step */
    size_t nruns, runs_cap;
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

static ivm_rc map_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    map_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    uint32_t in_cols = c->plan->nodes[nd->in[0]].ncols;
    s->in_vals = ivm_calloc(in_cols + 1, sizeof *s->in_vals);
    s->out_vals = ivm_calloc(nd->ncols + 1, sizeof *s->out_vals);
    s->seg_len = ivm_calloc(nd->nexprs + 1, sizeof *s->seg_len);
    s->seg = ivm_calloc(nd->nexprs + 1, sizeof *s->seg);
    if (s->in_vals == NULL || s->out_vals == NULL || s->seg_len == NULL || s->seg == NULL)
        return IVM_NOMEM;
    /* Runs of bare columns in input order: a projection that keeps
     * neighbouring columns copies them with one memcpy per run, not one
     * per column (the loops over a row's columns were most of a
     * projection's own cost). */
    for (uint32_t k = 0; k < nd->nexprs; k++) {
        const dbsp_expr *e = nd->exprs[k];
        map_seg *last = s->nseg > 0 ? &s->seg[s->nseg - 1] : NULL;
        if (e->op == DBSP_X_COL && last != NULL && last->to != 0 && !last->key_end &&
            last->to == e->col) {
            last->to++;
        } else if (e->op == DBSP_X_COL) {
            s->seg[s->nseg++] = (map_seg){.from = e->col, .to = e->col + 1};
        } else {
            s->seg[s->nseg++] = (map_seg){.from = k, .to = 0};
        }
        if (k + 1 == nd->nkey)
            s->seg[s->nseg - 1].key_end = true;
    }
    s->lead = s->nseg > 0 && s->seg[0].to != 0 && s->seg[0].from == 0;
    /* Only copies, each input column at most once (SELECT a, a copies
     * one twice, and its rows outgrow their input's): see copy_row. */
    s->copies = true;
    for (uint32_t g = 0; g < s->nseg && s->copies; g++) {
        s->copies = s->seg[g].to != 0;
        for (uint32_t h = 0; h < g && s->copies; h++)
            s->copies = s->seg[h].to <= s->seg[g].from || s->seg[g].to <= s->seg[h].from;
    }
    ivm_rc rc = dbsp_memo_init(&s->memo, nd->nmemo);
    if (rc != IVM_OK)
        return rc;
    return dbsp_colread_init(&s->cr, nd->exprs, nd->nexprs, nd->where, in_cols, true);
}

/* Writes the output row of a map whose every stretch copies input
 * columns, none of them twice (a projection: Nexmark q0, q2), into b's
 * free space, uncommitted: it is no longer than its input row (len), so
 * room for that is taken first and each stretch is copied as its length
 * is found, one pass instead of a pass for the lengths and one for the
 * bytes. */
static ivm_rc copy_row(spine_builder *b, const map_state *s, const uint8_t *row, size_t len,
                       size_t *klen_out, size_t *olen_out)
{
    uint8_t *dst = spine_builder_reserve(b, len);
    if (dst == NULL)
        return IVM_NOMEM;
    const size_t *off = s->cr.off;
    size_t olen = 0;
    for (uint32_t g = 0; g < s->nseg; g++) {
        const map_seg *sg = &s->seg[g];
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
static ivm_rc build_row(dbsp_ctx *c, const dbsp_pnode *nd, map_state *s, const uint8_t *row,
                        size_t *klen_out, size_t *olen_out)
{
    const size_t *off = s->cr.off;
    size_t olen = 0;
    for (uint32_t g = 0; g < s->nseg; g++) {
        const map_seg *sg = &s->seg[g];
        if (sg->to != 0) {
            s->seg_len[g] = off[sg->to] - off[sg->from];
        } else {
            ivm_value *v = &s->out_vals[sg->from];
            ivm_rc rc = dbsp_expr_eval_memo(nd->exprs[sg->from], s->in_vals, &c->scratch,
                                            &s->memo, v, &c->err);
            if (rc != IVM_OK)
                return rc;
            s->seg_len[g] = spine_value_size(v);
        }
        olen += s->seg_len[g];
        if (sg->key_end)
            *klen_out = olen;
    }
    uint8_t *dst = spine_builder_reserve(&c->bld, olen);
    if (dst == NULL)
        return IVM_NOMEM;
    for (uint32_t g = 0; g < s->nseg; g++) {
        const map_seg *sg = &s->seg[g];
        if (sg->to != 0)
            memcpy(dst, row + off[sg->from], s->seg_len[g]);
        else
            spine_value_encode(&s->out_vals[sg->from], dst);
        dst += s->seg_len[g];
    }
    *olen_out = olen;
    return IVM_OK;
}

/* An output column that is a bare input column is the input's bytes,
 * copied (the encoding is canonical, S1, so decoding and encoding again
 * would give the same bytes); the others are evaluated over the decoded
 * columns and encoded. */
static ivm_rc map_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    map_state *s = state;
    const dbsp_pnode *nd = &c->plan->nodes[n];
    const spine_batch *in = dbsp_ctx_in(c, n, 0);
    spine_builder *b = &c->bld;
    const size_t *off = s->cr.off;
    ivm_rc rc = IVM_OK;
    /* With s->lead, the input's rows ascend by bytes (keys, then values:
     * S1), and so do their first columns; the output rows, which start
     * with those bytes, come in runs of equal first columns, each run
     * after the one before.  Only the rows within a run need sorting
     * (spine_builder_finish_runs): Nexmark q17 keeps a bid's auction
     * first, and a step's bids are in auction order already. */
    const uint8_t *lead = NULL;
    size_t lead_len = 0, nout = 0;
    s->nruns = 0;
    for (size_t i = 0; i < in->n && rc == IVM_OK; i++) {
        size_t len;
        const uint8_t *row = spine_batch_row(in, i, &len);
        if ((rc = dbsp_colread_row(c, &s->cr, row, len, s->in_vals)) != IVM_OK)
            break;
        dbsp_memo_next(&s->memo);
        if (nd->where != NULL) {
            ivm_value pass;
            rc = dbsp_expr_eval_memo(nd->where, s->in_vals, &c->scratch, &s->memo, &pass,
                                     &c->err);
            if (rc != IVM_OK)
                break;
            if (dbsp_value_truth(&pass) != 1) {
                dbsp_ctx_scratch_check(c);
                continue;
            }
        }
        size_t klen = 0, olen = 0;
        rc = s->copies ? copy_row(b, s, row, len, &klen, &olen)
                       : build_row(c, nd, s, row, &klen, &olen);
        if (rc != IVM_OK)
            break;
        bool larger = false;
        if (s->lead && in->w[i] != 0) {
            size_t pl = off[s->seg[0].to];
            if (nout > 0 && (pl != lead_len || !same_bytes(row, lead, pl))) {
                if (s->nruns == s->runs_cap &&
                    ivm_grow((void **)&s->runs, &s->runs_cap, s->nruns + 1, sizeof *s->runs) !=
                        IVM_OK) {
                    rc = IVM_NOMEM;
                    break;
                }
                s->runs[s->nruns++] = nout;
                /* A new run's row is larger than every row before it
                 * (their leading columns are smaller): the builder need
                 * not compare it to know the order. */
                larger = true;
            }
            lead = row;
            lead_len = pl;
            nout++;
        }
        rc = larger ? spine_builder_commit_larger(b, klen, olen, in->w[i])
                    : spine_builder_commit(b, klen, olen, in->w[i]);
        /* Values computed for this row are encoded: scratch may go. */
        dbsp_ctx_scratch_check(c);
    }
    if (rc != IVM_OK || !s->lead)
        return dbsp_ctx_build(c, rc, out);
    return spine_builder_finish_runs(b, s->runs, s->nruns, out);
}

static void map_fini(void *state)
{
    map_state *s = state;
    dbsp_colread_fini(&s->cr);
    ivm_free(s->in_vals);
    ivm_free(s->out_vals);
    ivm_free(s->seg_len);
    ivm_free(s->seg);
    ivm_free(s->runs);
    dbsp_memo_fini(&s->memo);
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
