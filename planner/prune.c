/*
 * prune.c: two rewrites of the logical plan that run after rewrite.c and
 * before lowering: constant folding and projection pruning.
 *
 * Folding evaluates every subexpression that reads no column (all functions
 * ivm accepts are deterministic) and replaces it by its value; one whose
 * evaluation fails (abs(-9223372036854775808)) stays, so that the error
 * comes when a row needs it, as in SQLite.  Predicates (filters, a join's
 * residual) also lose conjuncts that are always true and OR terms that are
 * never true; a filter that is always true goes away, and one that is never
 * true (WHERE 0, WHERE NULL) replaces its whole input by an empty relation
 * (PLAN_REL_EMPTY): lowered as an input node nothing ever feeds.
 *
 * Pruning walks the plan from the root with the set of columns each node's
 * parent needs, and drops what nobody needs: a map computes only its needed
 * outputs, and below each side of a join a map keeps only the columns the
 * join's keys, its residual condition and the nodes above it read, so that
 * the join's arrangement (lower.c) carries no column it does not need.
 * Aggregates already arrange only their groups and operands, an LP_TOPK
 * (ROW_NUMBER) arranges what is needed above it and what its partition and
 * sort key read, distinct needs every column and scans give every column.
 * Neither rewrite changes a result column (P2).  planner/README.md,
 * "Folding and pruning".
 */
#include "planner_int.h"

/* ---- Folding ------------------------------------------------------------------- */

/* Folds the constant subtrees of *ep in place. */
static ivm_rc fold_expr(dbsp_expr **ep)
{
    dbsp_expr *e = *ep;
    if (e->op == DBSP_X_COL || e->op == DBSP_X_CONST)
        return IVM_OK;
    bool constant = true;
    for (uint32_t i = 0; i < e->nargs; i++) {
        ivm_rc rc = fold_expr(&e->args[i]);
        if (rc != IVM_OK)
            return rc;
        constant = constant && e->args[i]->op == DBSP_X_CONST;
    }
    if (!constant)
        return IVM_OK;
    rt_arena scratch;
    rt_arena_init(&scratch);
    ivm_err err;
    ivm_err_clear(&err);
    ivm_value v;
    ivm_rc rc = dbsp_expr_eval(e, NULL, &scratch, &v, &err);
    dbsp_expr *k = NULL;
    if (rc == IVM_OK) {
        k = dbsp_expr_const(&v); /* copies text out of scratch */
        rc = k == NULL ? IVM_NOMEM : IVM_OK;
    } else if (rc != IVM_NOMEM) {
        rc = IVM_OK; /* left for the rows to raise */
    }
    rt_arena_fini(&scratch);
    if (k != NULL) {
        dbsp_expr_free(e);
        *ep = k;
    }
    return rc;
}

/* SQLite truth of a folded constant: 1 true, 0 false or NULL, -1 not a
 * constant. */
static int const_truth(const dbsp_expr *e)
{
    if (e->op != DBSP_X_CONST)
        return -1;
    return dbsp_value_truth(&e->k) == 1 ? 1 : 0;
}

/* Replaces *ep by its argument i, freeing the rest. */
static void keep_arg(dbsp_expr **ep, uint32_t i)
{
    dbsp_expr *e = *ep;
    dbsp_expr *a = e->args[i];
    e->args[i] = NULL;
    for (uint32_t k = 0; k < e->nargs; k++)
        if (k != i)
            dbsp_expr_free(e->args[k]);
    e->nargs = 0;
    dbsp_expr_free(e);
    *ep = a;
}

/* Folds a predicate, where only its truth matters: TRUE AND x is x, FALSE
 * OR x is x (same truth), FALSE AND x is FALSE, TRUE OR x is TRUE. */
static ivm_rc fold_pred(dbsp_expr **ep)
{
    dbsp_expr *e = *ep;
    if ((e->op == DBSP_X_AND || e->op == DBSP_X_OR) && e->nargs == 2) {
        ivm_rc rc = fold_pred(&e->args[0]);
        if (rc == IVM_OK)
            rc = fold_pred(&e->args[1]);
        if (rc != IVM_OK)
            return rc;
        bool and = e->op == DBSP_X_AND;
        for (uint32_t i = 0; i < 2; i++) {
            int t = const_truth(e->args[i]);
            if (t < 0)
                continue;
            /* The neutral element goes; the absorbing one decides. */
            keep_arg(ep, (uint32_t)(t == (and ? 1 : 0)) ? 1 - i : i);
            return IVM_OK;
        }
        return IVM_OK;
    }
    return fold_expr(ep);
}

/* An empty relation with n's columns. */
static lp_node *empty_like(pctx *c, const lp_node *n)
{
    lp_node *e = lp_new(c, LP_SCAN, n->ncols);
    if (e == NULL)
        return NULL;
    e->rel_id = PLAN_REL_EMPTY;
    memcpy(e->types, n->types, sizeof(ivm_type) * n->ncols);
    return e;
}

static ivm_rc fold_node(pctx *c, lp_node **np)
{
    lp_node *n = *np;
    ivm_rc rc = IVM_OK;
    if (n->in != NULL && (rc = fold_node(c, &n->in)) != IVM_OK)
        return rc;
    if (n->right != NULL && (rc = fold_node(c, &n->right)) != IVM_OK)
        return rc;
    switch (n->kind) {
    case LP_FILTER: {
        if ((rc = fold_pred(&n->pred)) != IVM_OK)
            return rc;
        /* A WITH table's root stays (lowering finds its body by it). */
        int t = n->cte != NULL ? -1 : const_truth(n->pred);
        if (t == 1) {
            *np = n->in;
            dbsp_expr_free(n->pred);
            n->pred = NULL;
            n->in = NULL;
        } else if (t == 0) {
            lp_node *e = empty_like(c, n);
            if (e == NULL)
                return IVM_NOMEM;
            lp_free_exprs(n);
            *np = e;
        }
        return IVM_OK;
    }
    case LP_JOIN:
        for (uint32_t i = 0; i < n->nkeys && rc == IVM_OK; i++) {
            rc = fold_expr(&n->lkeys[i]);
            if (rc == IVM_OK)
                rc = fold_expr(&n->rkeys[i]);
        }
        if (rc == IVM_OK && n->pred != NULL) {
            rc = fold_pred(&n->pred);
            if (rc == IVM_OK && const_truth(n->pred) == 1) {
                dbsp_expr_free(n->pred);
                n->pred = NULL;
            }
        }
        return rc;
    case LP_MAP:
    case LP_AGGREGATE:
    case LP_TOPK:
        for (uint32_t i = 0; i < n->nexprs && rc == IVM_OK; i++)
            rc = fold_expr(&n->exprs[i]);
        for (uint32_t i = 0; i < n->naggs && rc == IVM_OK; i++) {
            lp_agg *g = &n->aggs[i];
            if (g->arg != NULL)
                rc = fold_expr(&g->arg);
            if (rc == IVM_OK && g->sep != NULL)
                rc = fold_expr(&g->sep);
            if (rc == IVM_OK && g->filter != NULL)
                rc = fold_expr(&g->filter);
        }
        return rc;
    default:
        return IVM_OK;
    }
}

/* ---- Pruning ------------------------------------------------------------------- */

/* Marks the columns e reads. */
static void mark_cols(const dbsp_expr *e, bool *need)
{
    if (e == NULL)
        return;
    if (e->op == DBSP_X_COL)
        need[e->col] = true;
    for (uint32_t i = 0; i < e->nargs; i++)
        mark_cols(e->args[i], need);
}

static bool *need_new(pctx *c, uint32_t n, bool all)
{
    bool *need = rt_arena_alloc(&c->arena, n + 1);
    if (need != NULL)
        memset(need, all, n + 1);
    return need;
}

/* Rewrites *ep through map (old column -> new column), in place. */
static ivm_rc remap(dbsp_expr **ep, const uint32_t *map)
{
    if (*ep == NULL)
        return IVM_OK;
    dbsp_expr *x = xremap(*ep, map, 0);
    if (x == NULL)
        return IVM_NOMEM;
    dbsp_expr_free(*ep);
    *ep = x;
    return IVM_OK;
}

static ivm_rc prune_node(pctx *c, lp_node **np, const bool *need, uint32_t **map_out);

/* Prunes child *np (all of whose columns need[] or keep[] may ask for)
 * and, when it still has columns nobody needs, puts a map over it that
 * keeps only the needed ones.  *map_out: old column -> new column. */
static ivm_rc prune_narrow(pctx *c, lp_node **np, const bool *need, uint32_t **map_out)
{
    uint32_t old_n = (*np)->ncols;
    uint32_t *m = NULL;
    ivm_rc rc = prune_node(c, np, need, &m);
    if (rc != IVM_OK)
        return rc;
    lp_node *ch = *np;
    bool *keep = need_new(c, ch->ncols, false);
    if (keep == NULL)
        return IVM_NOMEM;
    uint32_t nkeep = 0;
    for (uint32_t i = 0; i < old_n; i++)
        if (need[i] && m[i] != UINT32_MAX && !keep[m[i]]) {
            keep[m[i]] = true;
            nkeep++;
        }
    if (nkeep == ch->ncols) {
        *map_out = m;
        return IVM_OK;
    }
    lp_node *p = lp_new(c, LP_MAP, nkeep);
    uint32_t *to = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (ch->ncols + 1));
    if (p == NULL || to == NULL)
        return IVM_NOMEM;
    p->in = ch;
    p->exprs = rt_arena_alloc(&c->arena, sizeof(dbsp_expr *) * (nkeep + 1));
    if (p->exprs == NULL)
        return IVM_NOMEM;
    for (uint32_t j = 0; j < ch->ncols; j++) {
        to[j] = UINT32_MAX;
        if (!keep[j])
            continue;
        p->exprs[p->nexprs] = dbsp_expr_col(j, ch->types[j]);
        if (p->exprs[p->nexprs] == NULL)
            return IVM_NOMEM;
        p->types[p->nexprs] = ch->types[j];
        to[j] = p->nexprs++;
    }
    for (uint32_t i = 0; i < old_n; i++)
        m[i] = m[i] == UINT32_MAX ? UINT32_MAX : to[m[i]];
    *np = p;
    *map_out = m;
    return IVM_OK;
}

/* Prunes the subtree at *np given which of its columns are needed;
 * *map_out (arena) maps each old column to its new index, UINT32_MAX for a
 * dropped one.  With every column needed the layout stays the identity. */
static ivm_rc prune_node(pctx *c, lp_node **np, const bool *need, uint32_t **map_out)
{
    lp_node *n = *np;
    uint32_t *map = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (n->ncols + 1));
    if (map == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < n->ncols; i++)
        map[i] = i;
    *map_out = map;
    ivm_rc rc = IVM_OK;
    /* A WITH table's body is lowered once for all its references, which
     * may need different columns: it keeps its layout. */
    if (n->cte != NULL) {
        bool *all = need_new(c, n->ncols, true);
        if (all == NULL)
            return IVM_NOMEM;
        need = all;
    }
    switch (n->kind) {
    case LP_SCAN:
        return IVM_OK;
    case LP_FILTER: {
        bool *nin = need_new(c, n->in->ncols, false);
        if (nin == NULL)
            return IVM_NOMEM;
        memcpy(nin, need, n->ncols);
        mark_cols(n->pred, nin);
        uint32_t *m;
        if ((rc = prune_node(c, &n->in, nin, &m)) != IVM_OK)
            return rc;
        if ((rc = remap(&n->pred, m)) != IVM_OK)
            return rc;
        n->ncols = n->in->ncols;
        n->types = n->in->types;
        *map_out = m;
        return IVM_OK;
    }
    case LP_MAP: {
        bool *nin = need_new(c, n->in->ncols, false);
        if (nin == NULL)
            return IVM_NOMEM;
        uint32_t k = 0;
        for (uint32_t i = 0; i < n->nexprs; i++) {
            if (!need[i]) {
                dbsp_expr_free(n->exprs[i]);
                map[i] = UINT32_MAX;
                continue;
            }
            mark_cols(n->exprs[i], nin);
            n->exprs[k] = n->exprs[i];
            n->types[k] = n->types[i];
            map[i] = k++;
        }
        n->nexprs = n->ncols = k;
        uint32_t *m;
        if ((rc = prune_node(c, &n->in, nin, &m)) != IVM_OK)
            return rc;
        for (uint32_t i = 0; i < k && rc == IVM_OK; i++)
            rc = remap(&n->exprs[i], m);
        return rc;
    }
    case LP_JOIN: {
        /* Keys and the residual read both sides for every kind; semi and
         * anti joins output only the left's columns (n->ncols is nl). */
        bool semi = n->jtype == LP_J_SEMI || n->jtype == LP_J_ANTI;
        uint32_t nl = n->in->ncols, nr = n->right->ncols;
        bool *both = need_new(c, nl + nr, false);
        if (both == NULL)
            return IVM_NOMEM;
        memcpy(both, need, n->ncols);
        mark_cols(n->pred, both);
        for (uint32_t i = 0; i < n->nkeys; i++) {
            mark_cols(n->lkeys[i], both);
            mark_cols(n->rkeys[i], both + nl);
        }
        uint32_t *ml, *mr;
        if ((rc = prune_narrow(c, &n->in, both, &ml)) != IVM_OK ||
            (rc = prune_narrow(c, &n->right, both + nl, &mr)) != IVM_OK)
            return rc;
        uint32_t nl2 = n->in->ncols;
        /* jm: both sides' columns, as the keys and residual read them. */
        uint32_t *jm = rt_arena_alloc(&c->arena, sizeof(uint32_t) * (nl + nr + 1));
        if (jm == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < nl; i++)
            jm[i] = ml[i];
        for (uint32_t i = 0; i < nr; i++)
            jm[nl + i] = mr[i] == UINT32_MAX ? UINT32_MAX : nl2 + mr[i];
        memcpy(map, jm, sizeof(uint32_t) * n->ncols);
        for (uint32_t i = 0; i < n->nkeys && rc == IVM_OK; i++) {
            rc = remap(&n->lkeys[i], ml);
            if (rc == IVM_OK)
                rc = remap(&n->rkeys[i], mr);
        }
        if (rc == IVM_OK)
            rc = remap(&n->pred, jm);
        if (rc != IVM_OK)
            return rc;
        n->ncols = semi ? nl2 : nl2 + n->right->ncols;
        n->types = rt_arena_alloc(&c->arena, sizeof(ivm_type) * (n->ncols + 1));
        if (n->types == NULL)
            return IVM_NOMEM;
        memcpy(n->types, n->in->types, sizeof(ivm_type) * nl2);
        if (!semi)
            memcpy(n->types + nl2, n->right->types, sizeof(ivm_type) * n->right->ncols);
        return IVM_OK;
    }
    case LP_AGGREGATE: {
        bool *nin = need_new(c, n->in->ncols, false);
        if (nin == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < n->nexprs; i++)
            mark_cols(n->exprs[i], nin);
        for (uint32_t i = 0; i < n->naggs; i++) {
            mark_cols(n->aggs[i].arg, nin);
            mark_cols(n->aggs[i].sep, nin);
            mark_cols(n->aggs[i].filter, nin);
        }
        uint32_t *m;
        if ((rc = prune_node(c, &n->in, nin, &m)) != IVM_OK)
            return rc;
        for (uint32_t i = 0; i < n->nexprs && rc == IVM_OK; i++)
            rc = remap(&n->exprs[i], m);
        for (uint32_t i = 0; i < n->naggs && rc == IVM_OK; i++) {
            rc = remap(&n->aggs[i].arg, m);
            if (rc == IVM_OK)
                rc = remap(&n->aggs[i].sep, m);
            if (rc == IVM_OK)
                rc = remap(&n->aggs[i].filter, m);
        }
        return rc;
    }
    case LP_TOPK: {
        /* The partition, the sort key and what is needed above; the rows
         * it arranges keep nothing else (prune_narrow).  The number stays
         * last. */
        uint32_t nin_cols = n->in->ncols;
        bool *nin = need_new(c, nin_cols, false);
        if (nin == NULL)
            return IVM_NOMEM;
        memcpy(nin, need, nin_cols);
        for (uint32_t i = 0; i < n->nexprs; i++)
            mark_cols(n->exprs[i], nin);
        uint32_t *m;
        if ((rc = prune_narrow(c, &n->in, nin, &m)) != IVM_OK)
            return rc;
        for (uint32_t i = 0; i < n->nexprs && rc == IVM_OK; i++)
            rc = remap(&n->exprs[i], m);
        if (rc != IVM_OK)
            return rc;
        uint32_t w = n->in->ncols;
        for (uint32_t i = 0; i < nin_cols; i++)
            map[i] = m[i];
        map[nin_cols] = w;
        n->ncols = w + 1;
        n->types = rt_arena_alloc(&c->arena, sizeof(ivm_type) * (w + 1));
        if (n->types == NULL)
            return IVM_NOMEM;
        memcpy(n->types, n->in->types, sizeof(ivm_type) * w);
        n->types[w] = IVM_TINT;
        return IVM_OK;
    }
    default: {
        /* Distinct, and any operator this pass does not know: every input
         * column is needed, so the inputs keep their layout. */
        lp_node **kids[2] = {&n->in, &n->right};
        for (int k = 0; k < 2; k++) {
            if (*kids[k] == NULL)
                continue;
            bool *all = need_new(c, (*kids[k])->ncols, true);
            uint32_t *m;
            if (all == NULL)
                return IVM_NOMEM;
            uint32_t before = (*kids[k])->ncols;
            if ((rc = prune_node(c, kids[k], all, &m)) != IVM_OK)
                return rc;
            for (uint32_t i = 0; i < before; i++)
                if (m[i] != i)
                    return ivm_err_set(c->err, IVM_INTERNAL, 0, 0,
                                       "planner: pruning moved a needed column");
        }
        return IVM_OK;
    }
    }
}

ivm_rc fold_prune_plan(pctx *c, lp_node **root)
{
    ivm_rc rc = fold_node(c, root);
    if (rc != IVM_OK)
        return rc;
    /* Every result (and hidden ORDER BY) column is needed: the root keeps
     * its layout (P2). */
    bool *all = need_new(c, (*root)->ncols, true);
    if (all == NULL)
        return IVM_NOMEM;
    uint32_t *m;
    return prune_node(c, root, all, &m);
}
