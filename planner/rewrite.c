/*
 * rewrite.c: logical rewrites.  Splits filters into conjuncts and pushes
 * each one as far down as the columns it reads allow: into one side of a
 * join, or, when it equates an expression over the left side with one over
 * the right side, into the join's keys.  What reads both sides otherwise
 * stays as the join's residual condition.  Keeps P3 (a filter reads only
 * columns of its input) and P4 (join keys on each side read only that side).
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
    uint32_t nl = j->in->ncols, nt = j->ncols;
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

static ivm_rc push_join(pctx *c, lp_node *j, conj_list *conj)
{
    conj_list left = {0}, right = {0}, resid = {0};
    uint32_t nl = j->in->ncols, nt = j->ncols;
    ivm_rc rc = IVM_OK;
    size_t i = 0;
    for (; i < conj->n && rc == IVM_OK; i++) {
        dbsp_expr *e = conj->items[i];
        conj->items[i] = NULL;
        if (xcols_within(e, 0, nl)) {
            rc = split(e, &left);
        } else if (xcols_within(e, nl, nt)) {
            dbsp_expr *s = xremap(e, NULL, -(int64_t)nl);
            dbsp_expr_free(e);
            rc = s ? split(s, &right) : IVM_NOMEM;
        } else {
            bool used = false;
            rc = try_key(c, j, e, &used);
            if (rc == IVM_OK && !used)
                rc = split(e, &resid);
        }
    }
    for (; i < conj->n; i++)
        dbsp_expr_free(conj->items[i]);
    conj->n = 0;
    if (rc == IVM_OK)
        rc = push(c, &j->in, &left);
    if (rc == IVM_OK)
        rc = push(c, &j->right, &right);
    if (rc == IVM_OK && resid.n > 0) {
        if (j->pred != NULL)
            rc = split(j->pred, &resid);
        j->pred = NULL;
        if (rc == IVM_OK)
            j->pred = join_conj(&resid, &rc);
    }
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
    case LP_JOIN:
        rc = push_join(c, n, conj);
        conj_free(conj);
        return rc;
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
