/*
 * reorder.c: join order of comma and inner joins.  The binder joins FROM
 * items left deep in FROM order, so `FROM a, b, c WHERE a.x = c.x AND
 * b.y = c.y` would join a with b by a cross product.  Before filters are
 * pushed (rewrite.c), a filter directly above a chain of three or more
 * inner joins without conditions of their own is looked at: the items are
 * ordered greedily, each next one being the first in FROM order that an
 * equality of the filter connects with the items joined so far (the first
 * remaining one when none is), and when that order differs from FROM
 * order the chain is rebuilt in it, under the filter, with a map above
 * that puts the columns back in FROM order.  Outer, semi and anti joins
 * are never reordered.  See planner/README.md, "Join order".
 */
#include "planner_int.h"

#define MAX_ITEMS 64

/* An inner join fresh from the binder: no keys, no condition of its own. */
static bool plain_inner(const lp_node *n)
{
    return n->kind == LP_JOIN && n->jtype == LP_J_INNER && n->nkeys == 0 && n->pred == NULL;
}

typedef struct item {
    lp_node *node;
    uint32_t off;      /* first column in FROM order */
} item;

static bool keyable(const dbsp_expr *a, const dbsp_expr *b)
{
    bool num = (a->type == IVM_TINT || a->type == IVM_TREAL) &&
               (b->type == IVM_TINT || b->type == IVM_TREAL);
    bool same = a->type == b->type && a->type != IVM_TNULL && a->type != IVM_TREAL;
    return num || same;
}

/* The items whose columns e reads, as a bit set (0 if any column is
 * outside them). */
static uint64_t items_read(const dbsp_expr *e, const item *it, uint32_t n)
{
    if (e->op == DBSP_X_COL) {
        for (uint32_t i = 0; i < n; i++)
            if (e->col >= it[i].off && e->col < it[i].off + it[i].node->ncols)
                return (uint64_t)1 << i;
        return 0;
    }
    uint64_t m = 0;
    for (uint32_t i = 0; i < e->nargs; i++)
        m |= items_read(e->args[i], it, n);
    return m;
}

/* Appends the conjuncts of e (borrowed) to cj. */
static void conjuncts(const dbsp_expr *e, const dbsp_expr **cj, uint32_t *n, uint32_t cap)
{
    if (e->op == DBSP_X_AND && e->nargs == 2) {
        conjuncts(e->args[0], cj, n, cap);
        conjuncts(e->args[1], cj, n, cap);
    } else if (*n < cap) {
        cj[(*n)++] = e;
    }
}

/* True when an equality in cj joins item j with the set `have`. */
static bool connects(const dbsp_expr *const *cj, uint32_t ncj, const item *it, uint32_t n,
                     uint64_t have, uint32_t j)
{
    uint64_t bit = (uint64_t)1 << j;
    for (uint32_t k = 0; k < ncj; k++) {
        const dbsp_expr *e = cj[k];
        if (e->op != DBSP_X_EQ || e->nargs != 2 || !keyable(e->args[0], e->args[1]))
            continue;
        uint64_t a = items_read(e->args[0], it, n), b = items_read(e->args[1], it, n);
        if ((a == bit && b != 0 && (b & ~have) == 0) || (b == bit && a != 0 && (a & ~have) == 0))
            return true;
    }
    return false;
}

static ivm_rc reorder_at(pctx *c, lp_node **slot);

/* The filter at *slot sits on a chain of inner joins: reorder it. */
static ivm_rc reorder_chain(pctx *c, lp_node **slot)
{
    lp_node *f = *slot;
    item it[MAX_ITEMS];
    uint32_t n = 0;
    lp_node *j = f->in;
    while (plain_inner(j) && n < MAX_ITEMS - 1) {
        it[n++].node = j->right;
        j = j->in;
    }
    if (n < 2 || plain_inner(j))
        return IVM_OK;
    it[n++].node = j;
    /* it[] is right to left; FROM order is its reverse. */
    for (uint32_t i = 0; i < n / 2; i++) {
        item t = it[i];
        it[i] = it[n - 1 - i];
        it[n - 1 - i] = t;
    }
    uint32_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        it[i].off = off;
        off += it[i].node->ncols;
    }
    const dbsp_expr *cj[256];
    uint32_t ncj = 0;
    conjuncts(f->pred, cj, &ncj, 256);
    uint32_t order[MAX_ITEMS];
    uint64_t have = 1;
    bool moved = false;
    order[0] = 0;
    for (uint32_t k = 1; k < n; k++) {
        uint32_t pick = UINT32_MAX, first = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++) {
            if (have & ((uint64_t)1 << i))
                continue;
            if (first == UINT32_MAX)
                first = i;
            if (connects(cj, ncj, it, n, have, i)) {
                pick = i;
                break;
            }
        }
        if (pick == UINT32_MAX)
            pick = first;
        moved = moved || pick != k;
        order[k] = pick;
        have |= (uint64_t)1 << pick;
    }
    if (!moved)
        return IVM_OK;
    /* perm: column in FROM order -> column in the new order. */
    uint32_t *perm = rt_arena_alloc(&c->arena, sizeof *perm * (off + 1));
    if (perm == NULL)
        return IVM_NOMEM;
    uint32_t at = 0;
    lp_node *t = NULL;
    for (uint32_t k = 0; k < n; k++) {
        const item *x = &it[order[k]];
        for (uint32_t i = 0; i < x->node->ncols; i++)
            perm[x->off + i] = at + i;
        at += x->node->ncols;
        if (t == NULL) {
            t = x->node;
            continue;
        }
        lp_node *nj = lp_new(c, LP_JOIN, t->ncols + x->node->ncols);
        if (nj == NULL)
            return IVM_NOMEM;
        nj->jtype = LP_J_INNER;
        nj->in = t;
        nj->right = x->node;
        memcpy(nj->types, t->types, sizeof(ivm_type) * t->ncols);
        memcpy(nj->types + t->ncols, x->node->types, sizeof(ivm_type) * x->node->ncols);
        t = nj;
    }
    dbsp_expr *pred = xremap(f->pred, perm, 0);
    lp_node *m = lp_new(c, LP_MAP, off);
    dbsp_expr **ex = rt_arena_alloc(&c->arena, sizeof *ex * (off + 1));
    if (pred == NULL || m == NULL || ex == NULL) {
        dbsp_expr_free(pred);
        return IVM_NOMEM;
    }
    for (uint32_t i = 0; i < off; i++) {
        ex[i] = dbsp_expr_col(perm[i], f->types[i]);
        if (ex[i] == NULL) {
            for (uint32_t k = 0; k < i; k++)
                dbsp_expr_free(ex[k]);
            dbsp_expr_free(pred);
            return IVM_NOMEM;
        }
    }
    /* The filter now reads the new order and sits under the map. */
    dbsp_expr_free(f->pred);
    f->pred = pred;
    f->in = t;
    for (uint32_t i = 0; i < off; i++)
        f->types[perm[i]] = m->types[i] = ex[i]->type;
    m->in = f;
    m->nexprs = off;
    m->exprs = ex;
    *slot = m;
    return IVM_OK;
}

static ivm_rc reorder_at(pctx *c, lp_node **slot)
{
    lp_node *n = *slot;
    if (n == NULL)
        return IVM_OK;
    ivm_rc rc = reorder_at(c, &n->in);
    if (rc == IVM_OK)
        rc = reorder_at(c, &n->right);
    if (rc == IVM_OK && n->kind == LP_FILTER && n->pred != NULL && plain_inner(n->in))
        rc = reorder_chain(c, slot);
    return rc;
}

ivm_rc reorder_joins(pctx *c, lp_node **root)
{
    return reorder_at(c, root);
}
