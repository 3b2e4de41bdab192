/*
 * lower.c: logical plan -> dbsp plan.  Every logical column is traced to its
 * physical column in the operator that produces it (a join emits its key,
 * then the left row, then the right row, an inner join's rows without
 * their key columns), and expressions are rewritten
 * through that layout as they are placed.  Before every stateful operator
 * (join, aggregate, distinct) the lowering puts a map that moves the
 * operator's key to the front, an exchange (shard_accumulate) on that key,
 * and an integrate that keeps the operator's input integral (keeps P5).
 */
#include "planner_int.h"

/* A lowered subtree: its dbsp node and where each logical column is. */
typedef struct lowered {
    dbsp_node node;
    uint32_t nphys;       /* physical columns of node */
    uint32_t *map;        /* logical column -> physical column */
} lowered;

static ivm_rc identity(pctx *c, lowered *l, dbsp_node node, uint32_t ncols)
{
    l->node = node;
    l->nphys = ncols;
    l->map = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (ncols + 1));
    if (l->map == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < ncols; i++)
        l->map[i] = i;
    return IVM_OK;
}

static ivm_rc add_input(plan_query *q, uint32_t rel_id, dbsp_node node)
{
    plan_input *ni = ivm_realloc(q->inputs, sizeof *ni * (q->ninputs + 1));
    if (ni == NULL)
        return IVM_NOMEM;
    q->inputs = ni;
    ni[q->ninputs].rel_id = rel_id;
    ni[q->ninputs].node = node;
    q->ninputs++;
    return IVM_OK;
}

ivm_rc lower_exchange(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    if (dbsp_plan_sharded(p, in)) {
        *out = in;
        return IVM_OK;
    }
    return dbsp_plan_exchange(p, in, out);
}

/* map (keys..., every physical column) with the keys as the key, an exchange
 * on them and an integrate: the arrangement a stateful operator reads.
 * With drop, the physical columns i with drop[i] != NO_COL are left out
 * (an inner join's key columns, which the key holds already). */
static ivm_rc arrange(dbsp_plan *p, const lowered *in, uint32_t nkeys, dbsp_expr *const *keys,
                      bool whole_row, const uint32_t *drop, dbsp_node *out)
{
    uint32_t ndrop = 0;
    for (uint32_t i = 0; drop != NULL && i < in->nphys; i++)
        ndrop += drop[i] != UINT32_MAX;
    uint32_t n = whole_row ? in->nphys : nkeys + in->nphys - ndrop;
    dbsp_expr **ex = ivm_calloc(n ? n : 1, sizeof *ex);
    if (ex == NULL)
        return IVM_NOMEM;
    ivm_rc rc = IVM_OK;
    uint32_t k = 0;
    if (!whole_row) {
        for (; k < nkeys; k++) {
            ex[k] = xremap(keys[k], in->map, 0);
            if (ex[k] == NULL)
                goto nomem;
        }
    }
    for (uint32_t i = 0; i < in->nphys; i++) {
        if (drop != NULL && drop[i] != UINT32_MAX)
            continue;
        ex[k] = dbsp_expr_col(i, IVM_TNULL);
        if (ex[k] == NULL)
            goto nomem;
        k++;
    }
    dbsp_node m, x;
    rc = dbsp_plan_map(p, in->node, n, ex, whole_row ? n : nkeys, &m);
    ivm_free(ex);
    if (rc == IVM_OK)
        rc = lower_exchange(p, m, &x);
    if (rc == IVM_OK)
        rc = dbsp_plan_integrate(p, x, out);
    return rc;
nomem:
    for (uint32_t i = 0; i < k; i++)
        dbsp_expr_free(ex[i]);
    ivm_free(ex);
    return IVM_NOMEM;
}

/* Rows whose join keys are all non-NULL: NULL never equals anything, but
 * NULL encodings are equal bytes. */
static ivm_rc nonnull_keys(dbsp_plan *p, lowered *in, uint32_t nkeys, dbsp_expr *const *keys)
{
    dbsp_expr *acc = NULL;
    for (uint32_t i = 0; i < nkeys; i++) {
        dbsp_expr *k = xremap(keys[i], in->map, 0);
        if (k == NULL)
            goto nomem;
        dbsp_expr *a1[1] = {k};
        dbsp_expr *nn = dbsp_expr_op(DBSP_X_NOTNULL, IVM_TINT, 1, a1);
        if (nn == NULL)
            goto nomem;
        if (acc == NULL) {
            acc = nn;
        } else {
            dbsp_expr *a2[2] = {acc, nn};
            acc = dbsp_expr_op(DBSP_X_AND, IVM_TINT, 2, a2);
            if (acc == NULL)
                return IVM_NOMEM;
        }
    }
    if (acc == NULL)
        return IVM_OK;
    return dbsp_plan_filter(p, in->node, acc, &in->node);
nomem:
    dbsp_expr_free(acc);
    return IVM_NOMEM;
}

/* Puts operand e (remapped through map) among the arranged columns
 * ex[from..*nx), once: *col_out is its column. */
static ivm_rc place_operand(dbsp_expr **ex, uint32_t from, uint32_t *nx, const dbsp_expr *e,
                            const uint32_t *map, uint32_t *col_out)
{
    dbsp_expr *x = xremap(e, map, 0);
    if (x == NULL)
        return IVM_NOMEM;
    for (uint32_t j = from; j < *nx; j++) {
        if (xequal(ex[j], x)) {
            dbsp_expr_free(x);
            *col_out = j;
            return IVM_OK;
        }
    }
    ex[*nx] = x;
    *col_out = (*nx)++;
    return IVM_OK;
}

/* Makes l's node hold exactly its ncols logical columns in order (a map
 * when the layout is not the identity), with no key columns when key0
 * (plus needs equal keys on both sides, D1). */
static ivm_rc flatten(pctx *c, dbsp_plan *p, lowered *l, uint32_t ncols, bool key0)
{
    bool ident = l->nphys == ncols;
    for (uint32_t i = 0; i < ncols && ident; i++)
        ident = l->map[i] == i;
    if (ident && (!key0 || dbsp_plan_nkey(p, l->node) == 0))
        return IVM_OK;
    dbsp_expr **ex = ivm_calloc(ncols ? ncols : 1, sizeof *ex);
    if (ex == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < ncols; i++) {
        ex[i] = dbsp_expr_col(l->map[i], IVM_TNULL);
        if (ex[i] == NULL) {
            for (uint32_t j = 0; j < i; j++)
                dbsp_expr_free(ex[j]);
            ivm_free(ex);
            return IVM_NOMEM;
        }
    }
    dbsp_node node;
    ivm_rc rc = dbsp_plan_map(p, l->node, ncols, ex, 0, &node);
    ivm_free(ex);
    if (rc != IVM_OK)
        return rc;
    return identity(c, l, node, ncols);
}

static ivm_rc lower(pctx *c, const lp_node *n, plan_query *q, lowered *out);

/* A map of src's columns: cols[i] is a column of src, or NO_COL for a NULL;
 * the first nkey are the key. */
#define NO_COL UINT32_MAX
static ivm_rc pick(dbsp_plan *p, dbsp_node src, uint32_t n, const uint32_t *cols, uint32_t nkey,
                   dbsp_node *out)
{
    dbsp_expr **ex = ivm_calloc(n ? n : 1, sizeof *ex);
    if (ex == NULL)
        return IVM_NOMEM;
    ivm_value null = ivm_value_null();
    for (uint32_t i = 0; i < n; i++) {
        ex[i] = cols[i] == NO_COL ? dbsp_expr_const(&null) : dbsp_expr_col(cols[i], IVM_TNULL);
        if (ex[i] == NULL) {
            for (uint32_t j = 0; j < i; j++)
                dbsp_expr_free(ex[j]);
            ivm_free(ex);
            return IVM_NOMEM;
        }
    }
    ivm_rc rc = dbsp_plan_map(p, src, n, ex, nkey, out);
    ivm_free(ex);
    return rc;
}

/* Exchange on the key, then integrate: what a stateful operator reads. */
static ivm_rc shard(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    dbsp_node x;
    ivm_rc rc = lower_exchange(p, in, &x);
    return rc == IVM_OK ? dbsp_plan_integrate(p, x, out) : rc;
}

/* distinct(I(in)) integrated: a set the semijoin reads (in is sharded). */
static ivm_rc distinct_set(dbsp_plan *p, dbsp_node mapped, dbsp_node *out)
{
    dbsp_node i, d;
    ivm_rc rc = shard(p, mapped, &i);
    if (rc == IVM_OK)
        rc = dbsp_plan_distinct(p, i, &d);
    if (rc == IVM_OK)
        rc = dbsp_plan_integrate(p, d, out);
    return rc;
}

/* One side S of a join, as the rows of S that have a match (matched) or
 * those that have none.  Without a residual condition a match is a row of
 * the other side O with the same key:
 *     S semi O = I(S by key) join distinct(I(keys of O))
 *     S anti O = S - (S semi O) + (rows of S with a NULL key)
 * the output being (key, S's row).  With a residual condition, a match is
 * a row of the inner join J that passed it:
 *     S semi O = I(S by row) join distinct(I(S's row of each J row))
 *     S anti O = S - (S semi O)
 * the output being S's row.  *koff_out says where S's row starts. */
typedef struct join_side {
    const lowered *raw;       /* S before its NULL keys were filtered */
    dbsp_node arranged;       /* I(S by key), NULL keys filtered */
    const lowered *other;     /* O, NULL keys filtered */
    dbsp_expr *const *okeys;  /* O's keys */
    uint32_t jpos;            /* where S's row starts in J */
    dbsp_expr *const *skeys;  /* S's keys */
} join_side;

static ivm_rc side_rows(pctx *c, dbsp_plan *p, const lp_node *n, const join_side *s,
                        dbsp_node jn, bool matched, uint32_t *koff_out, dbsp_node *out)
{
    uint32_t nk = n->nkeys, nphys = s->raw->nphys;
    ivm_rc rc;
    dbsp_node set, sm, neg, all;
    if (n->pred == NULL) {
        dbsp_expr **ex = ivm_calloc(nk ? nk : 1, sizeof *ex);
        if (ex == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < nk; i++) {
            ex[i] = xremap(s->okeys[i], s->other->map, 0);
            if (ex[i] == NULL) {
                for (uint32_t j = 0; j < i; j++)
                    dbsp_expr_free(ex[j]);
                ivm_free(ex);
                return IVM_NOMEM;
            }
        }
        dbsp_node km;
        rc = dbsp_plan_map(p, s->other->node, nk, ex, nk, &km);
        ivm_free(ex);
        if (rc == IVM_OK)
            rc = distinct_set(p, km, &set);
        if (rc == IVM_OK)
            rc = dbsp_plan_join(p, s->arranged, set, &sm);
        all = s->arranged;
        *koff_out = nk;
    } else {
        uint32_t *cols = rt_arena_alloc(&c->arena, sizeof *cols * (nphys + 1));
        if (cols == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < nphys; i++)
            cols[i] = s->jpos + i;
        dbsp_node mp, wm;
        rc = pick(p, jn, nphys, cols, nphys, &mp);
        if (rc == IVM_OK)
            rc = distinct_set(p, mp, &set);
        for (uint32_t i = 0; i < nphys; i++)
            cols[i] = i;
        if (rc == IVM_OK)
            rc = pick(p, s->raw->node, nphys, cols, nphys, &wm);
        if (rc == IVM_OK)
            rc = shard(p, wm, &all);
        if (rc == IVM_OK)
            rc = dbsp_plan_join(p, all, set, &sm);
        *koff_out = 0;
    }
    if (rc != IVM_OK || matched) {
        *out = sm;
        return rc;
    }
    rc = dbsp_plan_negate(p, sm, &neg);
    if (rc == IVM_OK)
        rc = dbsp_plan_plus(p, all, neg, out);
    if (rc != IVM_OK || n->pred != NULL || nk == 0)
        return rc;
    /* Rows with a NULL key match nothing: (key, row) like the others. */
    dbsp_expr *any = NULL;
    for (uint32_t i = 0; i < nk; i++) {
        dbsp_expr *k = xremap(s->skeys[i], s->raw->map, 0);
        dbsp_expr *a1[1] = {k};
        dbsp_expr *isn = k ? dbsp_expr_op(DBSP_X_ISNULL, IVM_TINT, 1, a1) : NULL;
        if (isn == NULL) {
            dbsp_expr_free(any);
            return IVM_NOMEM;
        }
        if (any == NULL) {
            any = isn;
        } else {
            dbsp_expr *a2[2] = {any, isn};
            any = dbsp_expr_op(DBSP_X_OR, IVM_TINT, 2, a2);
            if (any == NULL)
                return IVM_NOMEM;
        }
    }
    dbsp_node nullrows, nm;
    rc = dbsp_plan_filter(p, s->raw->node, any, &nullrows);
    if (rc != IVM_OK)
        return rc;
    uint32_t n2 = nk + nphys;
    dbsp_expr **ex = ivm_calloc(n2, sizeof *ex);
    if (ex == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < n2; i++) {
        ex[i] = i < nk ? xremap(s->skeys[i], s->raw->map, 0) : dbsp_expr_col(i - nk, IVM_TNULL);
        if (ex[i] == NULL) {
            for (uint32_t j = 0; j < i; j++)
                dbsp_expr_free(ex[j]);
            ivm_free(ex);
            return IVM_NOMEM;
        }
    }
    rc = dbsp_plan_map(p, nullrows, n2, ex, nk, &nm);
    ivm_free(ex);
    if (rc == IVM_OK)
        rc = dbsp_plan_plus(p, *out, nm, out);
    return rc;
}

/* Inner join: J = I(L by key) join I(R by key), then the residual
 * condition.  Outer joins add each kept side's unmatched rows padded with
 * NULLs; semi and anti joins output one side's matched or unmatched rows
 * (side_rows).  planner/README.md has the equations and their costs. */
static ivm_rc lower_join(pctx *c, const lp_node *n, plan_query *q, lowered *out)
{
    dbsp_plan *p = q->plan;
    lowered in = {0}, right = {0};
    ivm_rc rc = lower(c, n->in, q, &in);
    if (rc == IVM_OK)
        rc = lower(c, n->right, q, &right);
    if (rc != IVM_OK)
        return rc;
    lowered lraw = in, rraw = right;
    rc = nonnull_keys(p, &in, n->nkeys, n->lkeys);
    if (rc == IVM_OK)
        rc = nonnull_keys(p, &right, n->nkeys, n->rkeys);
    if (rc != IVM_OK)
        return rc;
    bool semi = n->jtype == LP_J_SEMI || n->jtype == LP_J_ANTI;
    uint32_t nk = n->nkeys, nl = n->in->ncols;
    /* An inner join's key that is a column as it is holds that column's
     * bytes (both sides' keys are equal bytes in every joined row), so
     * readers take the key column, and the arrangements leave the column
     * out of their values: each row is not kept with it twice.  A map
     * above that keys by it then also keeps the join's sharding and needs
     * no exchange (q9's ROW_NUMBER per auction).  Not for outer joins:
     * padded rows have NULL keys; nor semi and anti joins, whose sides
     * are read whole.  ldrop/rdrop: per physical column, the key it is, or
     * NO_COL. */
    uint32_t *ldrop = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (in.nphys + 1));
    uint32_t *rdrop = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (right.nphys + 1));
    if (ldrop == NULL || rdrop == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < in.nphys; i++)
        ldrop[i] = NO_COL;
    for (uint32_t i = 0; i < right.nphys; i++)
        rdrop[i] = NO_COL;
    for (uint32_t i = 0; n->jtype == LP_J_INNER && i < nk; i++) {
        if (n->lkeys[i]->op == DBSP_X_COL && ldrop[in.map[n->lkeys[i]->col]] == NO_COL)
            ldrop[in.map[n->lkeys[i]->col]] = i;
        if (n->rkeys[i]->op == DBSP_X_COL && rdrop[right.map[n->rkeys[i]->col]] == NO_COL)
            rdrop[right.map[n->rkeys[i]->col]] = i;
    }
    dbsp_node la, ra, jn = 0;
    rc = arrange(p, &in, n->nkeys, n->lkeys, false, ldrop, &la);
    if (rc == IVM_OK)
        rc = arrange(p, &right, n->nkeys, n->rkeys, false, rdrop, &ra);
    if (rc != IVM_OK)
        return rc;
    /* Join output: keys, then the left's physical row, then the right's,
     * each without its dropped columns (each arranged row is keys +
     * physical row).  lpos/rpos: a physical column's place there. */
    uint32_t *lpos = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (in.nphys + 1));
    uint32_t *rpos = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (right.nphys + 1));
    if (lpos == NULL || rpos == NULL)
        return IVM_NOMEM;
    uint32_t jphys = nk;
    for (uint32_t i = 0; i < in.nphys; i++)
        lpos[i] = ldrop[i] != NO_COL ? ldrop[i] : jphys++;
    for (uint32_t i = 0; i < right.nphys; i++)
        rpos[i] = rdrop[i] != NO_COL ? rdrop[i] : jphys++;
    uint32_t *jmap = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (nl + n->right->ncols + 1));
    if (jmap == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < nl; i++)
        jmap[i] = lpos[in.map[i]];
    for (uint32_t i = 0; i < n->right->ncols; i++)
        jmap[nl + i] = rpos[right.map[i]];
    if (!semi || n->pred != NULL) {
        rc = dbsp_plan_join(p, la, ra, &jn);
        if (rc == IVM_OK && n->pred != NULL) {
            dbsp_expr *pred = xremap(n->pred, jmap, 0);
            if (pred == NULL)
                return IVM_NOMEM;
            rc = dbsp_plan_filter(p, jn, pred, &jn);
        }
        if (rc != IVM_OK)
            return rc;
    }
    join_side ls = {&lraw, la, &right, n->rkeys, nk, n->lkeys};
    join_side rs = {&rraw, ra, &in, n->lkeys, nk + in.nphys, n->rkeys};
    uint32_t koff = 0;
    dbsp_node side;
    if (semi) {
        rc = side_rows(c, p, n, &ls, jn, n->jtype == LP_J_SEMI, &koff, &side);
        if (rc != IVM_OK)
            return rc;
        out->node = side;
        out->nphys = koff + lraw.nphys;
        out->map = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (nl + 1));
        if (out->map == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < nl; i++)
            out->map[i] = koff + lraw.map[i];
        return IVM_OK;
    }
    uint32_t *cols = rt_arena_alloc(&c->arena, sizeof *cols * (jphys + 1));
    if (cols == NULL)
        return IVM_NOMEM;
    /* Both sides' matched rows come from the inner join: the left's padded
     * rows, added to jn first, would match a right row of NULLs. */
    dbsp_node inner = jn;
    for (int s = 0; s < 2 && rc == IVM_OK; s++) {
        bool keep = s == 0 ? n->jtype == LP_J_LEFT || n->jtype == LP_J_FULL
                           : n->jtype == LP_J_RIGHT || n->jtype == LP_J_FULL;
        if (!keep)
            continue;
        rc = side_rows(c, p, n, s == 0 ? &ls : &rs, inner, false, &koff, &side);
        if (rc != IVM_OK)
            return rc;
        /* Pad to J's layout: NULL keys and a NULL row for the other side. */
        for (uint32_t i = 0; i < jphys; i++)
            cols[i] = NO_COL;
        uint32_t at = s == 0 ? nk : nk + in.nphys, w = s == 0 ? in.nphys : right.nphys;
        for (uint32_t i = 0; i < w; i++)
            cols[at + i] = koff + i;
        dbsp_node padded;
        rc = pick(p, side, jphys, cols, nk, &padded);
        if (rc == IVM_OK)
            rc = dbsp_plan_plus(p, jn, padded, &jn);
    }
    if (rc != IVM_OK)
        return rc;
    out->node = jn;
    out->nphys = jphys;
    out->map = jmap;
    return IVM_OK;
}

static ivm_rc lower_node(pctx *c, const lp_node *n, plan_query *q, lowered *out);

/* Lowers n, once for all references when it is a WITH table's body: every
 * reference was bound alike and rewritten alike (filters stop above it),
 * so one circuit serves them all; the stream fans out. */
static ivm_rc lower(pctx *c, const lp_node *n, plan_query *q, lowered *out)
{
    if (n->cte == NULL)
        return lower_node(c, n, q, out);
    for (uint32_t i = 0; i < c->nlowered; i++) {
        const lp_lowered_cte *m = &c->lowered[i];
        if (m->cte == n->cte) {
            out->node = m->node;
            out->nphys = m->nphys;
            out->map = (uint32_t *)m->map;
            return IVM_OK;
        }
    }
    ivm_rc rc = lower_node(c, n, q, out);
    if (rc != IVM_OK)
        return rc;
    lp_lowered_cte *nl = rt_arena_alloc(&c->arena, sizeof *nl * (c->nlowered + 1));
    if (nl == NULL)
        return IVM_NOMEM;
    if (c->nlowered)
        memcpy(nl, c->lowered, sizeof *nl * c->nlowered);
    nl[c->nlowered] = (lp_lowered_cte){n->cte, out->node, out->nphys, out->map};
    c->lowered = nl;
    c->nlowered++;
    return IVM_OK;
}

static ivm_rc lower_node(pctx *c, const lp_node *n, plan_query *q, lowered *out)
{
    dbsp_plan *p = q->plan;
    ivm_rc rc;
    lowered in = {0};
    dbsp_node node;
    switch (n->kind) {
    case LP_SCAN:
        /* Every scan of one table reads one input node, so a change to
         * the table is checked and queued once however many times the
         * query names it (Nexmark q7 reads bid twice). */
        for (uint32_t i = 0; i < q->ninputs; i++)
            if (n->rel_id != PLAN_REL_DUAL && q->inputs[i].rel_id == n->rel_id &&
                dbsp_plan_ncols(p, q->inputs[i].node) == n->ncols)
                return identity(c, out, q->inputs[i].node, n->ncols);
        rc = dbsp_plan_input(p, n->ncols, 0, &node);
        if (rc == IVM_OK && n->rel_id != PLAN_REL_EMPTY)
            rc = add_input(q, n->rel_id, node);
        if (rc == IVM_OK)
            rc = identity(c, out, node, n->ncols);
        return rc;
    case LP_FILTER: {
        rc = lower(c, n->in, q, &in);
        if (rc != IVM_OK)
            return rc;
        dbsp_expr *pred = xremap(n->pred, in.map, 0);
        if (pred == NULL)
            return IVM_NOMEM;
        rc = dbsp_plan_filter(p, in.node, pred, &node);
        if (rc != IVM_OK)
            return rc;
        *out = in;
        out->node = node;
        return IVM_OK;
    }
    case LP_MAP: {
        rc = lower(c, n->in, q, &in);
        if (rc != IVM_OK)
            return rc;
        dbsp_expr **ex = ivm_calloc(n->nexprs ? n->nexprs : 1, sizeof *ex);
        if (ex == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < n->nexprs; i++) {
            ex[i] = xremap(n->exprs[i], in.map, 0);
            if (ex[i] == NULL) {
                for (uint32_t j = 0; j < i; j++)
                    dbsp_expr_free(ex[j]);
                ivm_free(ex);
                return IVM_NOMEM;
            }
        }
        rc = dbsp_plan_map(p, in.node, n->nexprs, ex, 0, &node);
        ivm_free(ex);
        if (rc != IVM_OK)
            return rc;
        return identity(c, out, node, n->nexprs);
    }
    case LP_JOIN:
        return lower_join(c, n, q, out);
    case LP_AGGREGATE: {
        rc = lower(c, n->in, q, &in);
        if (rc != IVM_OK)
            return rc;
        /* Arrange (group..., operands...) by group: every distinct
         * argument, separator and FILTER condition once. */
        uint32_t ng = n->nexprs, na = n->naggs, nx = ng;
        dbsp_expr **ex = ivm_calloc(ng + 3 * na + 1, sizeof *ex);
        dbsp_agg *aggs = ivm_calloc(na + 1, sizeof *aggs);
        if (ex == NULL || aggs == NULL) {
            ivm_free(ex);
            ivm_free(aggs);
            return IVM_NOMEM;
        }
        rc = IVM_OK;
        for (uint32_t i = 0; i < ng && rc == IVM_OK; i++) {
            ex[i] = xremap(n->exprs[i], in.map, 0);
            if (ex[i] == NULL)
                rc = IVM_NOMEM;
        }
        for (uint32_t i = 0; i < na && rc == IVM_OK; i++) {
            const lp_agg *g = &n->aggs[i];
            aggs[i].kind = (uint8_t)g->kind;
            aggs[i].type = (uint8_t)g->type;
            if (g->distinct)
                aggs[i].flags |= DBSP_AGG_F_DISTINCT;
            if (g->arg != NULL)
                rc = place_operand(ex, ng, &nx, g->arg, in.map, &aggs[i].col);
            if (rc == IVM_OK && g->sep != NULL) {
                aggs[i].flags |= DBSP_AGG_F_SEP;
                rc = place_operand(ex, ng, &nx, g->sep, in.map, &aggs[i].sep_col);
            }
            if (rc == IVM_OK && g->filter != NULL) {
                aggs[i].flags |= DBSP_AGG_F_FILTER;
                rc = place_operand(ex, ng, &nx, g->filter, in.map, &aggs[i].filter_col);
            }
        }
        dbsp_node m = 0, x = 0, integ = 0;
        if (rc == IVM_OK) {
            rc = dbsp_plan_map(p, in.node, nx, ex, ng, &m);
        } else {
            for (uint32_t i = 0; i < nx; i++)
                dbsp_expr_free(ex[i]);
        }
        ivm_free(ex);
        if (rc == IVM_OK)
            rc = lower_exchange(p, m, &x);
        /* Counts and (non-DISTINCT) sums fold exactly and only read the
         * integral to see that a group whose total fell to zero is gone,
         * or to refold non-INT summands, whose rows the node keeps itself;
         * the rows of a query are a multiset at every step (tables refuse
         * deleting what they do not hold), so such an aggregate keeps no
         * integral.  MIN, MAX, GROUP_CONCAT and DISTINCT sums read it. */
        bool counts = true;
        for (uint32_t i = 0; i < na; i++)
            counts &= dbsp_agg_folds_exactly(&aggs[i]);
        if (rc == IVM_OK && counts) {
            rc = dbsp_plan_count(p, x, na, aggs, &node);
        } else {
            if (rc == IVM_OK)
                rc = dbsp_plan_integrate(p, x, &integ);
            if (rc == IVM_OK)
                rc = dbsp_plan_aggregate(p, integ, na, aggs, &node);
        }
        ivm_free(aggs);
        if (rc != IVM_OK)
            return rc;
        return identity(c, out, node, ng + na);
    }
    case LP_DISTINCT: {
        rc = lower(c, n->in, q, &in);
        if (rc != IVM_OK)
            return rc;
        /* The input of DISTINCT is a map with identity layout (bind.c). */
        dbsp_node integ;
        rc = arrange(p, &in, 0, NULL, true, NULL, &integ);
        if (rc == IVM_OK)
            rc = dbsp_plan_distinct(p, integ, &node);
        if (rc != IVM_OK)
            return rc;
        return identity(c, out, node, n->ncols);
    }
    case LP_TOPK: {
        rc = lower(c, n->in, q, &in);
        if (rc != IVM_OK)
            return rc;
        /* map [partition..., sortkey, row...] keyed by the partition ->
         * exchange -> integrate -> topk(0, limit, numbered): each
         * partition's first rows on the worker that owns it (P5).  An
         * input column that a partition term copies as it is appears once,
         * as that key column: within a partition its bytes are the same in
         * every row, so leaving it out of the row changes neither the
         * order of the partition's rows nor which rows are equal, and the
         * arrangement is that much narrower. */
        uint32_t nx = n->nexprs, np = n->npart, nphys = in.nphys;
        uint32_t *phys = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (nphys + 1));
        dbsp_expr **ex = ivm_calloc(nx + nphys + 1, sizeof *ex);
        if (ex == NULL || phys == NULL) {
            ivm_free(ex);
            return IVM_NOMEM;
        }
        uint32_t width = nx;
        for (uint32_t i = 0; i < nx && rc == IVM_OK; i++) {
            ex[i] = xremap(n->exprs[i], in.map, 0);
            if (ex[i] == NULL)
                rc = IVM_NOMEM;
        }
        for (uint32_t col = 0; col < nphys && rc == IVM_OK; col++) {
            phys[col] = UINT32_MAX;
            for (uint32_t j = 0; j < np && phys[col] == UINT32_MAX; j++)
                if (ex[j]->op == DBSP_X_COL && ex[j]->col == col)
                    phys[col] = j;
            if (phys[col] != UINT32_MAX)
                continue;
            phys[col] = width;
            ex[width] = dbsp_expr_col(col, IVM_TNULL);
            if (ex[width++] == NULL)
                rc = IVM_NOMEM;
        }
        if (rc != IVM_OK) {
            for (uint32_t j = 0; j < width; j++)
                dbsp_expr_free(ex[j]);
            ivm_free(ex);
            return rc;
        }
        dbsp_node m, integ;
        rc = dbsp_plan_map(p, in.node, width, ex, np, &m);
        ivm_free(ex);
        if (rc == IVM_OK)
            rc = shard(p, m, &integ);
        if (rc == IVM_OK)
            rc = dbsp_plan_topk(p, integ, 0, n->limit, true, &node);
        if (rc != IVM_OK)
            return rc;
        /* in's columns where the map put them; the number last. */
        out->node = node;
        out->nphys = width + 1;
        out->map = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (n->ncols + 1));
        if (out->map == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i + 1 < n->ncols; i++)
            out->map[i] = phys[in.map[i]];
        out->map[n->ncols - 1] = width;
        return IVM_OK;
    }
    case LP_UNION_ALL:
    case LP_SETOP: {
        lowered right = {0};
        rc = lower(c, n->in, q, &in);
        if (rc == IVM_OK)
            rc = lower(c, n->right, q, &right);
        bool all = n->kind == LP_UNION_ALL;
        if (rc == IVM_OK)
            rc = flatten(c, p, &in, n->ncols, all);
        if (rc == IVM_OK)
            rc = flatten(c, p, &right, n->ncols, all);
        if (rc != IVM_OK)
            return rc;
        if (all) {
            rc = dbsp_plan_plus(p, in.node, right.node, &node);
        } else {
            /* Both sides arranged by the whole row (P5). */
            dbsp_node ia, ib;
            rc = arrange(p, &in, 0, NULL, true, NULL, &ia);
            if (rc == IVM_OK)
                rc = arrange(p, &right, 0, NULL, true, NULL, &ib);
            if (rc == IVM_OK)
                rc = dbsp_plan_setop(p, n->setop, ia, ib, &node);
        }
        if (rc != IVM_OK)
            return rc;
        return identity(c, out, node, n->ncols);
    }
    }
    return IVM_INTERNAL;
}

ivm_rc lower_plan(pctx *c, lp_node *root, plan_query *q)
{
    lowered top = {0};
    ivm_rc rc = lower(c, root, q, &top);
    if (rc != IVM_OK)
        return rc;
    /* The root is a map or a distinct: its layout is the identity, so the
     * output rows are the result columns in order. */
    for (uint32_t i = 0; i < root->ncols; i++)
        if (top.map[i] != i)
            return ivm_err_set(c->err, IVM_INTERNAL, 0, 0, "planner: result layout is not the identity");
    if (c->for_view && q->limit >= 0 &&
        (rc = lower_topk(c, q, top.node, root->ncols, &top.node)) != IVM_OK)
        return rc;
    if ((rc = dbsp_plan_output(q->plan, top.node, &q->output)) != IVM_OK)
        return rc;
    /* One map instead of each chain of maps and filters (a filter on the
     * join's residual condition, the projection above it, the arranging
     * map below an exchange): one batch built per chain, not per node. */
    dbsp_node *remap = rt_arena_alloc(&c->arena, sizeof *remap * (dbsp_plan_nodes(q->plan) + 1));
    if (remap == NULL)
        return IVM_NOMEM;
    if ((rc = dbsp_plan_fuse(q->plan, remap)) != IVM_OK)
        return rc;
    for (uint32_t i = 0; i < q->ninputs; i++)
        q->inputs[i].node = remap[q->inputs[i].node];
    q->output = remap[q->output];
    return IVM_OK;
}
