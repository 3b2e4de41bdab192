/*
 * op_integrate.c: the integral I(x), kept as a spine (an arrangement indexed
 * by the node's key) for the operators that read it: distinct, join and
 * aggregate seek into it by key.
 *
 *   I(x)_t = I(x)_{t-1} + dx_t;   stream output: dx_t itself
 *
 * so a reader sees both the delta (through the stream) and the integral
 * after this step (through the trace, D2).  Per step: O(|dx|) plus the
 * spine's amortised merging, O(|dx| log |I|).  State: the spine.
 *
 * An integral that only top-ks of offset 0 read and whose stream is a
 * join's, or a map or filter of a join's, is not kept until it is first
 * read (D17): it equals the map of the join of the join's own traces,
 *
 *   I(map(A join B)) = map(I(A) join I(B))   (map linear, join bilinear),
 *
 * which the node computes once, when the first reader asks for it, and
 * keeps from then on.  Design: dbsp/README.md.
 */
#include "dbsp_int.h"


/* Adds an integrating node of the given kind: integrate, or output (a view's
 * contents are the integral of its stream; op_output.c shares these hooks). */
ivm_rc dbsp_plan_integrating(dbsp_plan *p, dbsp_kind kind, const dbsp_op_vtab *vt,
                             dbsp_node in, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in);
    if (src == NULL)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = kind, .vt = vt, .ncols = src->ncols, .nkey = src->nkey, .nin = 1,
                     .in = {in}, .partitioned = src->partitioned};
    return dbsp_plan_add(p, &nd, out);
}

ivm_rc dbsp_plan_integrate(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    return dbsp_plan_integrating(p, DBSP_INTEGRATE, &dbsp_op_integrate_vt, in, out);
}

/* True if node n has readers and every one is a top-k of offset 0: while
 * the weights it is fed are positive such a top-k never reads the integral
 * (T2), so the integral is not read until one says so (D16). */
static bool read_by_topk_only(const dbsp_plan *p, dbsp_node n)
{
    bool any = false;
    for (uint32_t i = 0; i < p->n; i++)
        for (uint32_t j = 0; j < p->nodes[i].nin; j++) {
            if (p->nodes[i].in[j] != n)
                continue;
            if (p->nodes[i].kind != DBSP_TOPK || p->nodes[i].offset != 0)
                return false;
            any = true;
        }
    return any;
}

/* The join whose traces node n's integral can be derived from (D17): its
 * input is a join (which may have a map fused into it, op_join.c), or a
 * map or filter of a join without one.  NULL if there is none. */
static const dbsp_pnode *derived_join(const dbsp_plan *p, dbsp_node n)
{
    const dbsp_pnode *src = &p->nodes[p->nodes[n].in[0]];
    if (src->kind == DBSP_JOIN)
        return src;
    if (src->kind != DBSP_MAP && src->kind != DBSP_FILTER)
        return NULL;
    src = &p->nodes[src->in[0]];
    return src->kind == DBSP_JOIN && src->nexprs == 0 ? src : NULL;
}

bool dbsp_integrate_derives(const dbsp_plan *p, dbsp_node n)
{
    return p->nodes[n].kind == DBSP_INTEGRATE && read_by_topk_only(p, n) &&
           derived_join(p, n) != NULL;
}

ivm_rc dbsp_integrate_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    dbsp_integrate_state *s = state;
    /* D15: join, aggregate, distinct, top-k and set operations probe an
     * integrate node's trace by key; a view's contents (an output node)
     * are only read in order, so their merges build no key filters and
     * take 8 batches a level (spine_opts.wide).  D16: a trace that only
     * top-ks read starts unread; D17: or empty, when it can be derived
     * from a join's traces once it is read. */
    static const spine_opts contents = {.wide = true}; /* fewer merge copies */
    if (c->plan->nodes[n].kind == DBSP_INTEGRATE) {
        s->derived = dbsp_integrate_derives(c->plan, n);
        spine_opts probed = {.exact_seeks = true,
                             .unread = !s->derived && read_by_topk_only(c->plan, n)};
        s->s = spine_new_opts(&probed);
    } else {
        s->s = spine_new_opts(&contents);
    }
    return s->s != NULL ? IVM_OK : IVM_NOMEM;
}

/* What deriving an integral needs to make the rows of the node between
 * the join and the integral: a filter's decoded row and memo, or a map's
 * row work (dbsp_rowmap, op_map.c: the map's, or that of the map fused
 * into the join), or neither for the join's own rows. */
typedef struct derive_eval {
    const dbsp_pnode *filter;
    ivm_value *in_vals;
    dbsp_memo memo;
    dbsp_rowmap rm;       /* rm.nd: the map, or the join with a fused map */
} derive_eval;

/* Adds the row (key, value) = row[0 .. len), klen bytes of key, of a join
 * of the traces with weight w, as the node between the join and the
 * integral makes it: itself (none), if its predicate holds (a filter), or
 * the map's row if its `where` holds (a map). */
static ivm_rc derive_push(dbsp_ctx *c, derive_eval *e, spine_builder *b, const uint8_t *row,
                          size_t len, size_t klen, int64_t w, uint32_t ncols)
{
    if (e->rm.nd != NULL)
        return dbsp_rowmap_row(c, &e->rm, b, row, len, w, false);
    if (e->filter != NULL) {
        ivm_rc rc = dbsp_row_decode(c, row, len, ncols, e->in_vals);
        if (rc != IVM_OK)
            return rc;
        dbsp_memo_next(&e->memo);
        ivm_value pass;
        rc = dbsp_expr_eval_memo(e->filter->exprs[0], e->in_vals, &c->scratch, &e->memo, &pass,
                                 &c->err);
        if (rc != IVM_OK || dbsp_value_truth(&pass) != 1)
            return rc;
    }
    return spine_builder_push(b, row, klen, row + klen, len - klen, w);
}

/* Every pair of the join's traces with one key: the A values outer. */
static ivm_rc derive_key(dbsp_ctx *c, derive_eval *e, spine_builder *b, spine_cursor *ca,
                         spine_cursor *cb, uint8_t **buf, size_t *cap, uint32_t ncols)
{
    size_t klen;
    const uint8_t *key = spine_cursor_key(ca, &klen);
    if (!dbsp_cursor_seek_exact(cb, key, klen))
        return IVM_OK;
    ivm_rc rc = IVM_OK;
    for (; spine_cursor_val_valid(ca) && rc == IVM_OK; spine_cursor_step_val(ca)) {
        size_t la;
        const uint8_t *va = spine_cursor_val(ca, &la);
        int64_t wa = spine_cursor_weight(ca);
        spine_cursor_rewind_vals(cb);
        for (; spine_cursor_val_valid(cb) && rc == IVM_OK; spine_cursor_step_val(cb)) {
            size_t lb;
            const uint8_t *vb = spine_cursor_val(cb, &lb);
            int64_t w;
            if (__builtin_mul_overflow(wa, spine_cursor_weight(cb), &w))
                return ivm_err_set(&c->err, IVM_INVALID, 0, 0, "join: weight overflow");
            size_t len = klen + la + lb;
            /* At least a byte, as op_join.c's fused pairs: an empty pair
             * is copied too. */
            if (len >= *cap && ivm_grow((void **)buf, cap, len + 1, 1) != IVM_OK)
                return IVM_NOMEM;
            memcpy(*buf, key, klen);
            memcpy(*buf + klen, va, la);
            memcpy(*buf + klen + la, vb, lb);
            rc = derive_push(c, e, b, *buf, len, klen, w, ncols);
            /* Values computed for this row are encoded: scratch may go. */
            dbsp_ctx_scratch_check(c);
        }
    }
    return rc;
}

/* D17: computes node n's integral after this step as the map (or filter)
 * of the join of the join's traces, both after this step too (D2: the
 * join's inputs come before n), and inserts it into the empty spine. */
static ivm_rc derive(dbsp_ctx *c, dbsp_node n, dbsp_integrate_state *s)
{
    const dbsp_plan *p = c->plan;
    const dbsp_pnode *jn = derived_join(p, n);
    const dbsp_pnode *src = &p->nodes[p->nodes[n].in[0]];
    /* A join's own rows, or those of the map fused into it or reading it,
     * or of the filter reading it. */
    derive_eval e = {.filter = src->kind == DBSP_FILTER ? src : NULL};
    const dbsp_pnode *a = &p->nodes[jn->in[0]], *bn = &p->nodes[jn->in[1]];
    uint32_t pair_cols = a->ncols + (bn->ncols - bn->nkey);
    const spine *ta = dbsp_ctx_trace(c, jn->in[0]), *tb = dbsp_ctx_trace(c, jn->in[1]);
    spine_cursor *ca = NULL, *cb = NULL;
    spine_builder b;
    spine_builder_init(&b);
    uint8_t *buf = NULL;
    size_t cap = 0;
    ivm_rc rc = IVM_OK;
    if (e.filter != NULL) {
        e.in_vals = ivm_calloc(pair_cols + 1, sizeof *e.in_vals);
        rc = e.in_vals != NULL ? dbsp_memo_init(&e.memo, e.filter->nmemo) : IVM_NOMEM;
    } else if (src->nexprs > 0) {
        rc = dbsp_rowmap_init(&e.rm, src, pair_cols);
    }
    if (rc == IVM_OK)
        rc = spine_cursor_new(&ta, 1, NULL, 0, &ca);
    if (rc == IVM_OK)
        rc = spine_cursor_new(&tb, 1, NULL, 0, &cb);
    for (; rc == IVM_OK && spine_cursor_key_valid(ca); spine_cursor_step_key(ca))
        rc = derive_key(c, &e, &b, ca, cb, &buf, &cap, pair_cols);
    spine_cursor_free(ca);
    spine_cursor_free(cb);
    ivm_free(buf);
    ivm_free(e.in_vals);
    dbsp_memo_fini(&e.memo);
    rt_arena_reset(&c->scratch);
    spine_batch *all = NULL;
    /* Pairs come in row order, so a map's rows come in its runs. */
    if (rc == IVM_OK)
        rc = e.rm.lead ? spine_builder_finish_runs(&b, e.rm.runs, e.rm.nruns, &all)
                       : spine_builder_finish(&b, &all);
    dbsp_rowmap_fini(&e.rm);
    spine_builder_fini(&b);
    if (rc == IVM_OK)
        rc = spine_insert_take(s->s, all);
    return rc;
}

ivm_rc dbsp_integrate_reading(dbsp_ctx *c, dbsp_node n)
{
    dbsp_integrate_state *s = c->inst[n].state;
    if (s->derived) {
        ivm_rc rc = derive(c, n, s);
        if (rc != IVM_OK)
            return rc;
        s->derived = false;
    }
    spine_unread_end(s->s);
    return IVM_OK;
}

ivm_rc dbsp_integrate_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    dbsp_integrate_state *s = state;
    spine_batch *in = dbsp_ctx_in(c, n, 0);
    /* D17: until it is read the integral is the join's, not kept. */
    if (s->derived) {
        *out = spine_batch_ref(in);
        return IVM_OK;
    }
    /* D5: a spine over its threshold holds the step until the merger has
     * caught up; the merger calls the worker's waker. */
    if (!dbsp_ctx_spine_ready(c, s->s))
        return IVM_PENDING;
    ivm_rc rc = spine_insert_take(s->s, spine_batch_ref(in));
    if (rc != IVM_OK)
        return rc;
    *out = spine_batch_ref(in);
    return IVM_OK;
}

const spine *dbsp_integrate_trace(const void *state)
{
    const dbsp_integrate_state *s = state;
    return s->s;
}

void dbsp_integrate_stats(const void *state, spine_stats *acc)
{
    const dbsp_integrate_state *s = state;
    spine_stats st;
    spine_stats_get(s->s, &st);
    dbsp_stats_add(acc, &st);
}

ivm_rc dbsp_integrate_compact(void *state)
{
    dbsp_integrate_state *s = state;
    return spine_compact(s->s);
}

void dbsp_integrate_fini(void *state)
{
    dbsp_integrate_state *s = state;
    spine_free(s->s);
}

const dbsp_op_vtab dbsp_op_integrate_vt = {
    .name = "integrate",
    .state_desc = "I(x) as a spine by key",
    .state_size = sizeof(dbsp_integrate_state),
    .init = dbsp_integrate_init,
    .eval = dbsp_integrate_eval,
    .trace = dbsp_integrate_trace,
    .stats = dbsp_integrate_stats,
    .fini = dbsp_integrate_fini,
    .compact = dbsp_integrate_compact,
};
