/*
 * compound.c: the query level of binding, above one SELECT core (bind.c):
 * WITH tables, compound chains (UNION [ALL], INTERSECT, EXCEPT, left to
 * right as SQLite evaluates them), a compound's ORDER BY and LIMIT, and
 * queries used as FROM items (subqueries and WITH tables), which are bound
 * on their own and then read like views.  A WITH table is bound again at
 * every reference, and its root marked so that lowering builds its circuit
 * once for all of them; a reference from a table's body back to itself,
 * directly or through others, is a recursive query and is refused.  Set operations become LP_SETOP nodes (one
 * dbsp setop node over both sides arranged by the whole row, keeps P5) and
 * UNION ALL an LP_UNION_ALL (plus).  See planner/README.md.
 */
#include "planner_int.h"

#include <stdio.h>
#include <strings.h>

static const char *op_name(plan_compound op)
{
    switch (op) {
    case PLAN_C_UNION_ALL: return "UNION ALL";
    case PLAN_C_INTERSECT: return "INTERSECT";
    case PLAN_C_EXCEPT: return "EXCEPT";
    default: return "UNION";
    }
}

void query_meta_free(plan_query *q)
{
    if (q->col_names != NULL)
        for (uint32_t i = 0; i < q->ncols; i++)
            ivm_free(q->col_names[i]);
    ivm_free(q->col_names);
    ivm_free(q->col_types);
    ivm_free(q->col_affs);
    ivm_free(q->sort);
    q->col_names = NULL;
    q->col_types = NULL;
    q->col_affs = NULL;
    q->sort = NULL;
}

const cte_scope *cte_find(const pctx *c, const char *name)
{
    for (const cte_scope *s = c->ctes; s != NULL; s = s->next)
        if (strcasecmp(s->cte->name, name) == 0)
            return s;
    return NULL;
}

/* A FROM item's columns must have names a reference can tell apart: a
 * repeated name gets ":1", ":2" ... as SQLite gives it. */
static const char *unique_name(pctx *c, const char *base, const char *const *names, uint32_t n)
{
    const char *name = base;
    for (uint32_t cnt = 1;; cnt++) {
        bool clash = false;
        for (uint32_t i = 0; i < n && !clash; i++)
            clash = strcasecmp(names[i], name) == 0;
        if (!clash)
            return name;
        char buf[24];
        int k = snprintf(buf, sizeof buf, ":%u", cnt);
        size_t bl = strlen(base);
        char *s = rt_arena_alloc(&c->arena, bl + (size_t)k + 1);
        if (s == NULL)
            return NULL;
        memcpy(s, base, bl);
        memcpy(s + bl, buf, (size_t)k + 1);
        name = s;
    }
}

ivm_rc bind_from_query(pctx *c, const plan_select *sub, const cte_scope *scope, const char *name,
                       uint32_t ncolnames, const char *const *colnames, plan_pos pos,
                       lp_node **out, const plan_relation **rel_out)
{
    plan_query mq;
    memset(&mq, 0, sizeof mq);
    lp_node *root = NULL;
    const cte_scope *keep_scope = c->ctes;
    bool keep_view = c->for_view;
    /* Rows of a FROM item have no order: ORDER BY is ignored and LIMIT
     * refused, as in a view. */
    c->ctes = scope;
    c->for_view = true;
    ivm_rc rc = bind_select(c, sub, &root, &mq);
    c->ctes = keep_scope;
    c->for_view = keep_view;
    if (rc != IVM_OK)
        goto fail;
    if (ncolnames > 0 && ncolnames != mq.ncols) {
        rc = ivm_err_set(c->err, IVM_SCHEMA, pos.line, pos.col,
                         "table %s has %u values for %u columns", name, mq.ncols, ncolnames);
        goto fail;
    }
    rc = IVM_NOMEM;
    plan_relation *rel = rt_arena_alloc(&c->arena, sizeof *rel);
    const char **names = rt_arena_alloc(&c->arena, sizeof *names * (mq.ncols + 1));
    ivm_type *types = rt_arena_alloc(&c->arena, sizeof *types * (mq.ncols + 1));
    plan_aff *affs = rt_arena_alloc(&c->arena, sizeof *affs * (mq.ncols + 1));
    if (rel == NULL || names == NULL || types == NULL || affs == NULL)
        goto fail;
    memset(rel, 0, sizeof *rel);
    if (name == NULL) {
        /* SQLite lets an unnamed subquery's columns be read unqualified;
         * the made-up name cannot clash with one a user writes. */
        char buf[32];
        snprintf(buf, sizeof buf, "(subquery-%u)", ++c->nsubqueries);
        name = rt_arena_strndup(&c->arena, buf, strlen(buf));
        if (name == NULL)
            goto fail;
    }
    for (uint32_t i = 0; i < mq.ncols; i++) {
        const char *base = ncolnames > 0 ? colnames[i] : mq.col_names[i];
        base = rt_arena_strndup(&c->arena, base, strlen(base));
        if (base == NULL || (names[i] = unique_name(c, base, names, i)) == NULL)
            goto fail;
        types[i] = mq.col_types[i];
        affs[i] = mq.col_affs[i];
    }
    rel->kind = PLAN_REL_VIEW;
    rel->name = name;
    rel->ncols = mq.ncols;
    rel->col_names = names;
    rel->col_types = types;
    rel->col_affs = affs;
    query_meta_free(&mq);
    *out = root;
    *rel_out = rel;
    return IVM_OK;
fail:
    query_meta_free(&mq);
    lp_free_exprs(root);
    return rc;
}

ivm_rc bind_cte_ref(pctx *c, const cte_scope *cte, plan_pos pos, lp_node **out,
                    const plan_relation **rel_out)
{
    const plan_cte *d = cte->cte;
    for (const cte_active *a = c->active; a != NULL; a = a->up)
        if (a->cte == d)
            return ivm_err_set(c->err, IVM_UNSUPPORTED, pos.line, pos.col,
                               "a recursive WITH table is not supported: %s reads itself, and "
                               "ivm does not maintain recursive queries yet",
                               d->name);
    cte_active me = {d, c->active};
    c->active = &me;
    ivm_rc rc = bind_from_query(c, d->sub, cte->defscope, d->name, d->ncols, d->cols, pos, out,
                                rel_out);
    c->active = me.up;
    /* Binding depends only on the body and the names it sees, which are
     * the same at every reference: lowering may share one circuit. */
    if (rc == IVM_OK)
        (*out)->cte = d;
    return rc;
}

/* True when column i of n is NULL in every row (a NULL literal). */
static bool always_null(const lp_node *n, uint32_t i)
{
    switch (n->kind) {
    case LP_MAP: {
        const dbsp_expr *x = n->exprs[i];
        return x->op == DBSP_X_CONST && x->k.type == IVM_TNULL;
    }
    case LP_DISTINCT:
        return always_null(n->in, i);
    case LP_UNION_ALL:
    case LP_SETOP:
        return always_null(n->in, i) && always_null(n->right, i);
    default:
        return false;
    }
}

/* left op right, both already bound with the same column count.  Rows
 * match by their encodings, so a set operation between an INTEGER and a
 * REAL column, where SQLite finds 1 and 1.0 equal, is refused (P1). */
static ivm_rc combine(pctx *c, lp_node *l, lp_node *r, const plan_select *at, lp_node **out)
{
    uint32_t nc = l->ncols;
    if (at->op != PLAN_C_UNION_ALL) {
        for (uint32_t i = 0; i < nc; i++) {
            ivm_type a = l->types[i], b = r->types[i];
            if ((a == IVM_TINT && b == IVM_TREAL) || (a == IVM_TREAL && b == IVM_TINT))
                return ivm_err_set(c->err, IVM_UNSUPPORTED, at->pos.line, at->pos.col,
                                   "%s of an INTEGER column with a REAL column (result column "
                                   "%u) is not supported: SQLite finds 1 and 1.0 equal, ivm "
                                   "would not; CAST one side",
                                   op_name(at->op), i + 1);
        }
    }
    lp_node *n = lp_new(c, at->op == PLAN_C_UNION_ALL ? LP_UNION_ALL : LP_SETOP, nc);
    if (n == NULL)
        return IVM_NOMEM;
    n->in = l;
    n->right = r;
    n->setop = at->op == PLAN_C_INTERSECT ? DBSP_SETOP_INTERSECT
               : at->op == PLAN_C_EXCEPT  ? DBSP_SETOP_EXCEPT
                                          : DBSP_SETOP_UNION;
    /* A class holds for the result only when both sides always have it;
     * a right side that is always NULL keeps the left's (NULL fits every
     * class), which is also the affinity SQLite gives such a column. */
    for (uint32_t i = 0; i < nc; i++)
        n->types[i] = l->types[i] == r->types[i] || always_null(r, i) ? l->types[i] : IVM_TNULL;
    *out = n;
    return IVM_OK;
}

/* A compound read as a relation (a view, a subquery) whose column has REAL
 * affinity reads another member's INTEGER as a REAL, as SQLite does (a
 * top-level SELECT does not): a map over *tree applies DBSP_FN_REAL_AFF to
 * such columns when some member may yield an INTEGER there.  A column
 * typed REAL may too: CASE, coalesce and the like with an INTEGER and a
 * REAL branch are typed REAL and yield the INTEGER when it is taken. */
static bool real_only(const lp_node *t, uint32_t i)
{
    if (t->types[i] != IVM_TREAL)
        return false;
    switch (t->kind) {
    case LP_UNION_ALL:
    case LP_SETOP:
        return real_only(t->in, i) && real_only(t->right, i);
    case LP_MAP: {
        const dbsp_expr *x = t->exprs[i];
        return x->op == DBSP_X_CONST || x->op == DBSP_X_CAST ||
               (x->op == DBSP_X_COL && t->in != NULL && x->col < t->in->ncols &&
                real_only(t->in, x->col));
    }
    default:
        /* A scan may read a view's column (any expression); an aggregate's
         * MIN or MAX may yield either class: not known to be REAL. */
        return false;
    }
}

static ivm_rc real_columns(pctx *c, const plan_query *q, lp_node **tree)
{
    lp_node *t = *tree;
    bool any = false;
    for (uint32_t i = 0; i < q->ncols; i++)
        any |= q->col_affs[i] == PLAN_AFF_REAL && !real_only(t, i);
    if (!any)
        return IVM_OK;
    lp_node *m = lp_new(c, LP_MAP, t->ncols);
    if (m == NULL)
        return IVM_NOMEM;
    m->exprs = rt_arena_alloc(&c->arena, sizeof *m->exprs * (t->ncols + 1));
    if (m->exprs == NULL)
        return IVM_NOMEM;
    m->in = t;
    m->nexprs = t->ncols;
    for (uint32_t i = 0; i < t->ncols; i++) {
        dbsp_expr *x = dbsp_expr_col(i, t->types[i]);
        if (x != NULL && i < q->ncols && q->col_affs[i] == PLAN_AFF_REAL && !real_only(t, i)) {
            dbsp_expr *args[1] = {x};
            x = dbsp_expr_func(DBSP_FN_REAL_AFF,
                               t->types[i] == IVM_TINT || t->types[i] == IVM_TREAL ? IVM_TREAL
                                                                                   : IVM_TNULL,
                               1, args);
        }
        m->exprs[i] = x;
        if (x == NULL) {
            m->nexprs = i;
            m->in = NULL;
            lp_free_exprs(m);
            return IVM_NOMEM;
        }
        m->types[i] = x->type;
    }
    *tree = m;
    return IVM_OK;
}

static const char *ordinal_suffix(uint32_t i)
{
    return i == 1 ? "st" : i == 2 ? "nd" : i == 3 ? "rd" : "th";
}

/* The result column of member m (bound as mq) that ORDER BY column e names,
 * or -1: an unqualified e by the column's name (its alias first), or any
 * e by a result expression that is the same column.  SQLite compares
 * whole expressions; ivm matches columns only. */
static int64_t match_column(const plan_select *m, const plan_query *mq, const plan_expr *e)
{
    if (e->table == NULL)
        for (uint32_t j = 0; j < mq->ncols; j++)
            if (strcasecmp(mq->col_names[j], e->name) == 0)
                return j;
    /* Result expressions line up with result columns when there is no *. */
    if (m->ncols != mq->ncols)
        return -1;
    for (uint32_t j = 0; j < m->ncols; j++) {
        const plan_expr *x = m->cols[j].expr;
        if (x->kind == PLAN_E_COLUMN && strcasecmp(x->name, e->name) == 0 &&
            (e->table == NULL || x->table == NULL || strcasecmp(x->table, e->table) == 0))
            return j;
    }
    return -1;
}

/* A compound's ORDER BY (ad-hoc reads): each term is a result column's
 * ordinal or names a result column of a member, leftmost first, as SQLite
 * resolves them; other expressions are SQLite's error. */
static ivm_rc compound_order(pctx *c, const plan_select *sel, const plan_select *const *m,
                             const plan_query *mq, uint32_t nm, plan_query *q)
{
    uint32_t ncols = mq[0].ncols;
    q->sort = ivm_calloc(sel->norder, sizeof *q->sort);
    if (q->sort == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < sel->norder; i++) {
        const plan_order *o = &sel->order_by[i];
        const plan_expr *e = o->expr;
        int64_t col = -1;
        if (e->kind == PLAN_E_INT) {
            if (e->ival < 1 || e->ival > (int64_t)ncols)
                return ivm_err_set(c->err, IVM_SCHEMA, e->pos.line, e->pos.col,
                                   "%u%s ORDER BY term out of range - should be between 1 and %u",
                                   i + 1, ordinal_suffix(i + 1), ncols);
            col = e->ival - 1;
        } else if (e->kind == PLAN_E_COLUMN) {
            for (uint32_t k = 0; k < nm && col < 0; k++)
                col = match_column(m[k], &mq[k], e);
        }
        if (col < 0)
            return ivm_err_set(c->err, IVM_SCHEMA, e->pos.line, e->pos.col,
                               "%u%s ORDER BY term does not match any column in the result set",
                               i + 1, ordinal_suffix(i + 1));
        q->sort[i].col = (uint32_t)col;
        q->sort[i].desc = o->desc;
        q->sort[i].nulls = o->nulls ? o->nulls : (o->desc ? 1 : -1);
    }
    q->nsort = sel->norder;
    return IVM_OK;
}

/* A compound chain: sel is its last member; sel->prior leads leftwards. */
static ivm_rc bind_compound(pctx *c, const plan_select *sel, lp_node **out, plan_query *q)
{
    uint32_t nm = 0;
    for (const plan_select *s = sel; s != NULL; s = s->prior)
        nm++;
    const plan_select **m = rt_arena_alloc(&c->arena, sizeof *m * nm);
    plan_query *mq = rt_arena_alloc(&c->arena, sizeof *mq * nm);
    if (m == NULL || mq == NULL)
        return IVM_NOMEM;
    memset(mq, 0, sizeof *mq * nm);
    uint32_t k = nm;
    for (const plan_select *s = sel; s != NULL; s = s->prior)
        m[--k] = s;
    lp_node *tree = NULL;
    ivm_rc rc = IVM_OK;
    for (k = 0; k < nm; k++) {
        /* A member alone: ORDER BY, LIMIT and WITH belong to the compound. */
        plan_select core = *m[k];
        core.prior = NULL;
        core.op = PLAN_C_NONE;
        core.ncte = 0;
        core.ctes = NULL;
        core.norder = 0;
        core.order_by = NULL;
        core.limit = core.offset = NULL;
        lp_node *root = NULL;
        rc = bind_core(c, &core, &root, &mq[k]);
        if (rc != IVM_OK)
            goto fail;
        if (k == 0) {
            tree = root;
            continue;
        }
        if (mq[k].ncols != mq[0].ncols) {
            rc = ivm_err_set(c->err, IVM_SCHEMA, m[k]->pos.line, m[k]->pos.col,
                             "SELECTs to the left and right of %s do not have the same number "
                             "of result columns",
                             op_name(m[k]->op));
            lp_free_exprs(root);
            goto fail;
        }
        lp_node *n = NULL;
        rc = combine(c, tree, root, m[k], &n);
        if (rc != IVM_OK) {
            lp_free_exprs(root);
            goto fail;
        }
        tree = n;
    }

    q->limit = q->offset = -1;
    /* A view's own compound keeps its top-k (topk.c); a subquery's LIMIT
     * is refused, its rows having no order. */
    bool topk = c->for_view && sel == c->view_sel;
    if (sel->limit != NULL || sel->offset != NULL) {
        const plan_expr *at = sel->limit ? sel->limit : sel->offset;
        if (c->for_view && !topk) {
            rc = ivm_err_set(c->err, IVM_UNSUPPORTED, at->pos.line, at->pos.col,
                             "LIMIT (top-k) in a subquery is not supported: ivm does not "
                             "maintain it yet");
            goto fail;
        }
        if (sel->limit && (rc = bind_const_int(c, sel->limit, "LIMIT", &q->limit)) != IVM_OK)
            goto fail;
        if (sel->offset && (rc = bind_const_int(c, sel->offset, "OFFSET", &q->offset)) != IVM_OK)
            goto fail;
        if (topk && (rc = topk_check_bounds(c, sel, q)) != IVM_OK)
            goto fail;
    }
    /* A view's rows have no order: its ORDER BY is ignored, as in a core,
     * unless LIMIT makes it choose the rows. */
    if ((!c->for_view || (topk && sel->limit != NULL)) && sel->norder > 0 &&
        (rc = compound_order(c, sel, m, mq, nm, q)) != IVM_OK)
        goto fail;

    q->ncols = mq[0].ncols;
    q->col_names = mq[0].col_names;
    mq[0].col_names = NULL;
    q->col_types = ivm_calloc(q->ncols + 1, sizeof *q->col_types);
    if (q->col_types == NULL) {
        rc = IVM_NOMEM;
        goto fail;
    }
    /* SQLite gives a compound's columns the affinity of its first member's. */
    q->col_affs = mq[0].col_affs;
    mq[0].col_affs = NULL;
    if (c->for_view && (rc = real_columns(c, q, &tree)) != IVM_OK)
        goto fail;
    memcpy(q->col_types, tree->types, sizeof *q->col_types * q->ncols);
    for (k = 0; k < nm; k++)
        query_meta_free(&mq[k]);
    *out = tree;
    return IVM_OK;
fail:
    for (k = 0; k < nm; k++)
        query_meta_free(&mq[k]);
    lp_free_exprs(tree);
    return rc;
}

ivm_rc bind_select(pctx *c, const plan_select *sel, lp_node **out, plan_query *q)
{
    const cte_scope *keep = c->ctes;
    if (sel->ncte > 0) {
        cte_scope *ents = rt_arena_alloc(&c->arena, sizeof *ents * sel->ncte);
        if (ents == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < sel->ncte; i++) {
            const plan_cte *d = &sel->ctes[i];
            for (uint32_t j = 0; j < i; j++)
                if (strcasecmp(sel->ctes[j].name, d->name) == 0) {
                    c->ctes = keep;
                    return ivm_err_set(c->err, IVM_SCHEMA, d->pos.line, d->pos.col,
                                       "duplicate WITH table name: %s", d->name);
                }
            ents[i].cte = d;
            ents[i].next = c->ctes;
            c->ctes = &ents[i];
        }
        for (uint32_t i = 0; i < sel->ncte; i++)
            ents[i].defscope = c->ctes;
    }
    ivm_rc rc = sel->prior == NULL ? bind_core(c, sel, out, q) : bind_compound(c, sel, out, q);
    c->ctes = keep;
    return rc;
}
