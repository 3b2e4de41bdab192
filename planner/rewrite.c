/*
 * rewrite.c: logical rewrites.  Splits filters into conjuncts and pushes
 * each one as far down as the columns it reads allow: into one side of a
 * join, or, when it equates an expression over the left side with one over
 * the right side, into the join's keys.  What reads both sides otherwise
 * stays as the join's residual condition.  Outer, semi and anti joins
 * limit what may move (push_join); nothing moves into a subquery in FROM,
 * a WITH table, a compound or through a ROW_NUMBER's LP_TOPK.  Keeps P3
 * (a filter reads only columns of its input) and P4 (join keys on each
 * side read only that side).
 */
#include "planner_int.h"

typedef struct conj_list {
    dbsp_expr **items;
    size_t n, cap;
} conj_list;

static void conj_free(conj_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        dbsp_expr_free(l->items[i]);
    ivm_free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/* Takes e apart at its ANDs, consuming it. */
static ivm_rc split(dbsp_expr *e, conj_list *l)
{
    if (e->op == DBSP_X_AND && e->nargs == 2) {
        dbsp_expr *a = e->args[0], *b = e->args[1];
        e->nargs = 0;
        dbsp_expr_free(e);
        ivm_rc rc = split(a, l);
        if (rc != IVM_OK) {
            dbsp_expr_free(b);
            return rc;
        }
        return split(b, l);
    }
    if (ivm_grow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items) != IVM_OK) {
        dbsp_expr_free(e);
        return IVM_NOMEM;
    }
    l->items[l->n++] = e;
    return IVM_OK;
}

/* ANDs a list back together, consuming it; NULL for an empty list. */
static dbsp_expr *join_conj(conj_list *l, ivm_rc *rc)
{
    dbsp_expr *acc = NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (acc == NULL) {
            acc = l->items[i];
            continue;
        }
        dbsp_expr *args[2] = {acc, l->items[i]};
        acc = dbsp_expr_op(DBSP_X_AND, IVM_TINT, 2, args);
        if (acc == NULL) {
            for (size_t j = i + 1; j < l->n; j++)
                dbsp_expr_free(l->items[j]);
            *rc = IVM_NOMEM;
            break;
        }
    }
    ivm_free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
    return acc;
}

static bool is_numeric(ivm_type t)
{
    return t == IVM_TINT || t == IVM_TREAL;
}

/* A numeric key side in its one encoding (DBSP_FN_NUMKEY): SQL's = holds
 * between INT and REAL values exactly when their numkeys are equal. */
static dbsp_expr *numkey(dbsp_expr *e)
{
    dbsp_expr *args[1] = {e};
    return dbsp_expr_func(DBSP_FN_NUMKEY, IVM_TNULL, 1, args);
}

static ivm_rc add_key(lp_node *j, dbsp_expr *l, dbsp_expr *r, pctx *c)
{
    dbsp_expr **nl = rt_arena_alloc(&c->arena, sizeof *nl * (j->nkeys + 1));
    dbsp_expr **nr = rt_arena_alloc(&c->arena, sizeof *nr * (j->nkeys + 1));
    if (nl == NULL || nr == NULL) {
        dbsp_expr_free(l);
        dbsp_expr_free(r);
        return IVM_NOMEM;
    }
    if (j->nkeys) {
        memcpy(nl, j->lkeys, sizeof *nl * j->nkeys);
        memcpy(nr, j->rkeys, sizeof *nr * j->nkeys);
    }
    nl[j->nkeys] = l;
    nr[j->nkeys] = r;
    j->lkeys = nl;
    j->rkeys = nr;
    j->nkeys++;
    return IVM_OK;
}

/* Tries to make conjunct e (over the join's columns) a key.  Consumes e and
 * returns true if it did. */
static ivm_rc try_key(pctx *c, lp_node *j, dbsp_expr *e, bool *used)
{
    uint32_t nl = j->in->ncols, nt = nl + j->right->ncols;
    *used = false;
    if (e->op != DBSP_X_EQ || e->nargs != 2)
        return IVM_OK;
    dbsp_expr *a = e->args[0], *b = e->args[1];
    bool a_left = xhas_cols(a) && xcols_within(a, 0, nl);
    bool a_right = xhas_cols(a) && xcols_within(a, nl, nt);
    bool b_left = xhas_cols(b) && xcols_within(b, 0, nl);
    bool b_right = xhas_cols(b) && xcols_within(b, nl, nt);
    dbsp_expr *l, *r;
    if (a_left && b_right) {
        l = a;
        r = b;
    } else if (a_right && b_left) {
        l = b;
        r = a;
    } else {
        return IVM_OK;
    }
    /* Keys compare by encoding, so equal values must encode alike: equal
     * known classes as they are, INT and REAL (and a REAL-typed expression,
     * which may yield an INT, as CASE does) through numkey, which makes 2
     * and 2.0 one key without rounding integers beyond 2^53.  Anything else
     * stays a residual condition with SQLite's comparison rules. */
    bool numeric = is_numeric(l->type) && is_numeric(r->type);
    bool same = l->type == r->type && l->type != IVM_TNULL && l->type != IVM_TREAL;
    if (!same && !numeric)
        return IVM_OK;
    e->nargs = 0;
    dbsp_expr_free(e);
    dbsp_expr *rr = xremap(r, NULL, -(int64_t)nl);
    dbsp_expr_free(r);
    if (rr == NULL) {
        dbsp_expr_free(l);
        return IVM_NOMEM;
    }
    if (!same) {
        l = numkey(l);
        rr = numkey(rr);
        if (l == NULL || rr == NULL) {
            dbsp_expr_free(l);
            dbsp_expr_free(rr);
            return IVM_NOMEM;
        }
    }
    *used = true;
    return add_key(j, l, rr, c);
}

static ivm_rc push(pctx *c, lp_node **slot, conj_list *conj);

/* True when x is NULL whenever every column in [lo, hi) is NULL: a column
 * there, or an operator that propagates NULL from such an operand.  Errs on
 * the side of false. */
static bool null_strict(const dbsp_expr *x, uint32_t lo, uint32_t hi)
{
    switch (x->op) {
    case DBSP_X_COL:
        return x->col >= lo && x->col < hi;
    case DBSP_X_NEG: case DBSP_X_ADD: case DBSP_X_SUB: case DBSP_X_MUL:
    case DBSP_X_DIV: case DBSP_X_MOD: case DBSP_X_CONCAT: case DBSP_X_CAST:
    case DBSP_X_EQ: case DBSP_X_NE: case DBSP_X_LT: case DBSP_X_LE:
    case DBSP_X_GT: case DBSP_X_GE: case DBSP_X_BITNOT: case DBSP_X_BITAND:
    case DBSP_X_BITOR: case DBSP_X_LSHIFT: case DBSP_X_RSHIFT:
        for (uint32_t i = 0; i < x->nargs; i++)
            if (null_strict(x->args[i], lo, hi))
                return true;
        return false;
    case DBSP_X_FUNC:
        if (x->fn == DBSP_FN_NUMERIC || x->fn == DBSP_FN_NUMKEY || x->fn == DBSP_FN_ABS ||
            x->fn == DBSP_FN_LOWER || x->fn == DBSP_FN_UPPER || x->fn == DBSP_FN_LENGTH)
            return x->nargs == 1 && null_strict(x->args[0], lo, hi);
        return false;
    default:
        return false;
    }
}

/* True when conjunct e is never true on a row whose columns [lo, hi) are
 * all NULL (a padded row of that side): it rejects the padding. */
static bool null_rejecting(const dbsp_expr *e, uint32_t lo, uint32_t hi)
{
    switch (e->op) {
    case DBSP_X_EQ: case DBSP_X_NE: case DBSP_X_LT: case DBSP_X_LE:
    case DBSP_X_GT: case DBSP_X_GE:
        return null_strict(e, lo, hi);
    case DBSP_X_NOTNULL:
        return null_strict(e->args[0], lo, hi);
    case DBSP_X_FUNC:
        return (e->fn == DBSP_FN_LIKE || e->fn == DBSP_FN_GLOB) && e->nargs >= 2 &&
               (null_strict(e->args[0], lo, hi) || null_strict(e->args[1], lo, hi));
    case DBSP_X_OR:
        return null_rejecting(e->args[0], lo, hi) && null_rejecting(e->args[1], lo, hi);
    default:
        return false;
    }
}

static bool keeps_left(lp_jtype t)
{
    return t == LP_J_LEFT || t == LP_J_FULL || t == LP_J_ANTI;
}

static bool keeps_right(lp_jtype t)
{
    return t == LP_J_RIGHT || t == LP_J_FULL;
}

/* A conjunct that reads only the right side, shifted to its columns. */
static ivm_rc to_right(dbsp_expr *e, uint32_t nl, conj_list *right)
{
    dbsp_expr *s = xremap(e, NULL, -(int64_t)nl);
    dbsp_expr_free(e);
    return s ? split(s, right) : IVM_NOMEM;
}

/* Pushes conj (from above the join, over its output columns) and the
 * join's own condition into the join.  What cannot go below it is moved to
 * *stay, a filter over the join's output.
 *
 * From above: a conjunct over one side goes into that side unless the
 * join pads that side with NULLs (it would remove rows the padding made);
 * a conjunct that rejects the padding of a side makes that side's rows
 * without a match disappear anyway, so the join drops the padding first
 * (LEFT -> INNER, FULL -> RIGHT or LEFT).  On an inner join, an equality
 * between the sides becomes a key and the rest a residual condition.
 *
 * The join's own condition (ON, or the correlation of a subquery): a
 * conjunct over the side that does not keep its unmatched rows goes into
 * that side; equalities between the sides become keys; the rest stays the
 * join's residual condition, so that a kept row whose matches all fail it
 * still appears (padded, or in the antijoin).  Keeps P3, P4. */
static ivm_rc push_join(pctx *c, lp_node *j, conj_list *conj, conj_list *stay)
{
    conj_list left = {0}, right = {0}, resid = {0}, on = {0};
    uint32_t nl = j->in->ncols, nt = nl + j->right->ncols;
    ivm_rc rc = IVM_OK;
    size_t i = 0;

    /* Outer joins whose padding a conjunct above rejects lose it. */
    if (j->jtype == LP_J_LEFT || j->jtype == LP_J_RIGHT || j->jtype == LP_J_FULL) {
        bool rej_l = false, rej_r = false;
        for (size_t k = 0; k < conj->n; k++) {
            rej_l = rej_l || null_rejecting(conj->items[k], 0, nl);
            rej_r = rej_r || null_rejecting(conj->items[k], nl, nt);
        }
        bool kl = keeps_left(j->jtype) && !rej_r, kr = keeps_right(j->jtype) && !rej_l;
        j->jtype = kl && kr ? LP_J_FULL : kl ? LP_J_LEFT : kr ? LP_J_RIGHT : LP_J_INNER;
    }
    bool inner = j->jtype == LP_J_INNER;
    bool kl = keeps_left(j->jtype), kr = keeps_right(j->jtype);

    if (j->pred != NULL) {
        rc = split(j->pred, inner ? conj : &on);
        j->pred = NULL;
    }
    for (; i < conj->n && rc == IVM_OK; i++) {
        dbsp_expr *e = conj->items[i];
        conj->items[i] = NULL;
        if (xcols_within(e, 0, nl) && !kr) {
            rc = split(e, &left);
        } else if (xcols_within(e, nl, nt) && !kl && j->jtype != LP_J_SEMI) {
            rc = to_right(e, nl, &right);
        } else if (inner) {
            bool used = false;
            rc = try_key(c, j, e, &used);
            if (rc == IVM_OK && !used)
                rc = split(e, &resid);
        } else {
            rc = split(e, stay);
        }
    }
    for (; i < conj->n; i++)
        dbsp_expr_free(conj->items[i]);
    conj->n = 0;
    for (i = 0; i < on.n && rc == IVM_OK; i++) {
        dbsp_expr *e = on.items[i];
        on.items[i] = NULL;
        if (xcols_within(e, 0, nl) && !kl) {
            rc = split(e, &left);
        } else if (xcols_within(e, nl, nt) && !kr) {
            rc = to_right(e, nl, &right);
        } else {
            bool used = false;
            rc = try_key(c, j, e, &used);
            if (rc == IVM_OK && !used)
                rc = split(e, &resid);
        }
    }
    if (rc == IVM_OK)
        rc = push(c, &j->in, &left);
    if (rc == IVM_OK)
        rc = push(c, &j->right, &right);
    if (rc == IVM_OK && resid.n > 0)
        j->pred = join_conj(&resid, &rc);
    conj_free(&on);
    conj_free(&left);
    conj_free(&right);
    conj_free(&resid);
    return rc;
}

/* Pushes conj (over (*slot)'s columns, consumed) into the subtree at *slot. */
static ivm_rc push(pctx *c, lp_node **slot, conj_list *conj)
{
    lp_node *n = *slot;
    ivm_rc rc = IVM_OK;
    switch (n->kind) {
    case LP_FILTER: {
        /* Merge this filter's conjuncts with the ones coming down. */
        rc = split(n->pred, conj);
        n->pred = NULL;
        *slot = n->in;
        if (rc != IVM_OK)
            return rc;
        return push(c, slot, conj);
    }
    case LP_JOIN: {
        conj_list stay = {0};
        rc = push_join(c, n, conj, &stay);
        conj_free(conj);
        *conj = stay;
        break;
    }
    case LP_SCAN:
        break;
    default: {
        /* A filter stops here; rewrite below it with nothing to push. */
        conj_list none = {0};
        rc = push(c, &n->in, &none);
        if (rc == IVM_OK && n->right != NULL) {
            conj_list none2 = {0};
            rc = push(c, &n->right, &none2);
        }
        break;
    }
    }
    if (rc == IVM_OK && conj->n > 0) {
        lp_node *f = lp_new(c, LP_FILTER, n->ncols);
        if (f == NULL)
            return IVM_NOMEM;
        memcpy(f->types, n->types, sizeof(ivm_type) * n->ncols);
        f->in = n;
        f->pred = join_conj(conj, &rc);
        *slot = f;
    }
    conj_free(conj);
    return rc;
}

ivm_rc rewrite_plan(pctx *c, lp_node **root)
{
    conj_list none = {0};
    return push(c, root, &none);
}
