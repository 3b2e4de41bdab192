/*
 * bind.c: names and types.  Resolves the names of a SELECT against the
 * catalog and the FROM clause, gives every expression its static class,
 * turns aggregates and GROUP BY into an LP_AGGREGATE node and builds the
 * logical plan: scans, cross joins, one filter for WHERE, the aggregate,
 * HAVING, the projection and DISTINCT.  rewrite.c then moves filters and
 * join keys where they belong; lower.c makes the circuit.  Constructs the
 * planner does not maintain are refused here, with their position (keeps P1).
 */
#include "planner_int.h"

#include <stdio.h>
#include <strings.h>

/* One FROM item as the binder sees it: its columns sit at [off, off+ncols)
 * of the combined row of all FROM items. */
typedef struct range {
    const char *alias;
    const plan_relation *rel;
    uint32_t off;
} range;

/* Expands the result list (stars) into expressions and names. */
typedef struct outcol {
    const plan_expr *expr;   /* NULL for a star-expanded column */
    uint32_t col;            /* star: combined column */
    const char *name;
    const char *alias;       /* AS name, or NULL */
    plan_pos pos;
} outcol;

typedef enum bmode { MODE_ROW, MODE_AGG } bmode;

typedef struct bctx {
    pctx *c;
    range *ranges;
    uint32_t nranges;
    uint32_t ncols;          /* combined row */
    ivm_type *types;         /* combined row's classes */
    /* Aggregate queries. */
    uint32_t ngroup;
    dbsp_expr **group;
    uint32_t naggs;
    size_t aggcap;
    lp_agg *aggs;
    /* The result columns, for SQLite's aliases in WHERE, GROUP BY, HAVING
     * and ORDER BY (NULL while they are not known). */
    const outcol *oc;
    uint32_t noc;
    bool in_alias;           /* binding an alias's expression: no aliases in it */
} bctx;

static ivm_rc fail_at(bctx *b, ivm_rc rc, plan_pos pos, const char *fmt, const char *arg)
{
    char msg[IVM_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, fmt, arg);
    return ivm_err_set(b->c->err, rc, pos.line, pos.col, "%s", msg);
}

/* P1: the construct named, and that ivm does not maintain it yet. */
static ivm_rc unsupported(bctx *b, plan_pos pos, const char *what)
{
    return fail_at(b, IVM_UNSUPPORTED, pos, "%s is not supported: ivm does not maintain it yet",
                   what);
}

lp_node *lp_new(pctx *c, lp_kind kind, uint32_t ncols)
{
    lp_node *n = rt_arena_alloc(&c->arena, sizeof *n);
    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->ncols = ncols;
    n->types = rt_arena_alloc(&c->arena, sizeof(ivm_type) * (ncols ? ncols : 1));
    if (n->types == NULL)
        return NULL;
    memset(n->types, 0, sizeof(ivm_type) * (ncols ? ncols : 1));
    return n;
}

void lp_agg_fini(lp_agg *g)
{
    dbsp_expr_free(g->arg);
    dbsp_expr_free(g->sep);
    dbsp_expr_free(g->filter);
    g->arg = g->sep = g->filter = NULL;
}

void lp_free_exprs(lp_node *n)
{
    if (n == NULL)
        return;
    lp_free_exprs(n->in);
    lp_free_exprs(n->right);
    dbsp_expr_free(n->pred);
    n->pred = NULL;
    for (uint32_t i = 0; i < n->nkeys; i++) {
        dbsp_expr_free(n->lkeys[i]);
        dbsp_expr_free(n->rkeys[i]);
    }
    n->nkeys = 0;
    for (uint32_t i = 0; i < n->nexprs; i++)
        dbsp_expr_free(n->exprs[i]);
    n->nexprs = 0;
    for (uint32_t i = 0; i < n->naggs; i++)
        lp_agg_fini(&n->aggs[i]);
    n->naggs = 0;
}

/* ---- Expression helpers ---------------------------------------------------- */

bool xequal(const dbsp_expr *a, const dbsp_expr *b)
{
    if (a->op != b->op || a->nargs != b->nargs || a->fn != b->fn)
        return false;
    if (a->op == DBSP_X_COL && a->col != b->col)
        return false;
    if (a->op == DBSP_X_CAST && a->type != b->type)
        return false;
    if (a->op == DBSP_X_CONST) {
        if (a->k.type != b->k.type)
            return false;
        switch (a->k.type) {
        case IVM_TNULL: break;
        case IVM_TINT: if (a->k.u.i != b->k.u.i) return false; break;
        case IVM_TREAL: if (memcmp(&a->k.u.r, &b->k.u.r, sizeof(double)) != 0) return false; break;
        case IVM_TTEXT:
            if (a->k.u.s.n != b->k.u.s.n || memcmp(a->k.u.s.p, b->k.u.s.p, a->k.u.s.n) != 0)
                return false;
            break;
        }
    }
    for (uint32_t i = 0; i < a->nargs; i++)
        if (!xequal(a->args[i], b->args[i]))
            return false;
    return true;
}

bool xcols_within(const dbsp_expr *e, uint32_t lo, uint32_t hi)
{
    if (e->op == DBSP_X_COL)
        return e->col >= lo && e->col < hi;
    for (uint32_t i = 0; i < e->nargs; i++)
        if (!xcols_within(e->args[i], lo, hi))
            return false;
    return true;
}

bool xhas_cols(const dbsp_expr *e)
{
    if (e->op == DBSP_X_COL)
        return true;
    for (uint32_t i = 0; i < e->nargs; i++)
        if (xhas_cols(e->args[i]))
            return true;
    return false;
}

dbsp_expr *xremap(const dbsp_expr *e, const uint32_t *map, int64_t shift)
{
    dbsp_expr *d = dbsp_expr_dup(e);
    if (d == NULL)
        return NULL;
    /* Walk the copy iteratively through an explicit stack of pointers. */
    dbsp_expr *stack[256];
    size_t sp = 0;
    stack[sp++] = d;
    while (sp > 0) {
        dbsp_expr *x = stack[--sp];
        if (x->op == DBSP_X_COL)
            x->col = map ? map[x->col] : (uint32_t)((int64_t)x->col + shift);
        for (uint32_t i = 0; i < x->nargs; i++) {
            if (sp == sizeof stack / sizeof stack[0]) {
                /* Deeper than any expression the parser accepts: recurse. */
                dbsp_expr *sub = xremap(x->args[i], map, shift);
                if (sub == NULL) {
                    dbsp_expr_free(d);
                    return NULL;
                }
                dbsp_expr_free(x->args[i]);
                x->args[i] = sub;
                continue;
            }
            stack[sp++] = x->args[i];
        }
    }
    return d;
}

static dbsp_expr *mk_op(dbsp_xop op, ivm_type t, dbsp_expr *a, dbsp_expr *b)
{
    bool unary = op == DBSP_X_NOT || op == DBSP_X_NEG || op == DBSP_X_ISNULL ||
                 op == DBSP_X_NOTNULL || op == DBSP_X_CAST || op == DBSP_X_BITNOT;
    if (a == NULL || (b == NULL && !unary)) {
        dbsp_expr_free(a);
        dbsp_expr_free(b);
        return NULL;
    }
    dbsp_expr *args[2] = {a, b};
    return dbsp_expr_op(op, t, b ? 2 : 1, args);
}

static ivm_type arith_type(ivm_type a, ivm_type b)
{
    if (a == IVM_TINT && b == IVM_TINT)
        return IVM_TINT;
    if ((a == IVM_TREAL || a == IVM_TINT) && (b == IVM_TREAL || b == IVM_TINT))
        return IVM_TREAL;
    return IVM_TNULL;
}

static ivm_type common_type(ivm_type a, ivm_type b)
{
    if (a == IVM_TNULL)
        return b;
    if (b == IVM_TNULL || a == b)
        return a;
    if ((a == IVM_TINT || a == IVM_TREAL) && (b == IVM_TINT || b == IVM_TREAL))
        return IVM_TREAL;
    return IVM_TNULL;
}

/* ---- Names ----------------------------------------------------------------- */

static ivm_rc resolve_column(bctx *b, const plan_expr *e, uint32_t *col_out)
{
    bool found = false;
    uint32_t col = 0;
    for (uint32_t r = 0; r < b->nranges; r++) {
        const range *rg = &b->ranges[r];
        if (e->table != NULL) {
            if (strcasecmp(e->table, rg->alias) != 0)
                continue;
        }
        for (uint32_t i = 0; i < rg->rel->ncols; i++) {
            if (strcasecmp(rg->rel->col_names[i], e->name) != 0)
                continue;
            if (found)
                return fail_at(b, IVM_SCHEMA, e->pos, "ambiguous column name: %s", e->name);
            found = true;
            col = rg->off + i;
        }
    }
    if (!found) {
        if (e->table != NULL)
            return ivm_err_set(b->c->err, IVM_SCHEMA, e->pos.line, e->pos.col,
                               "no such column: %s.%s", e->table, e->name);
        return fail_at(b, IVM_SCHEMA, e->pos, "no such column: %s", e->name);
    }
    *col_out = col;
    return IVM_OK;
}

/* SQLite's aggregate functions that ivm maintains; min and max with one
 * argument (with more they are scalar functions). */
static const char *const agg_names[] = {"count", "sum", "avg", "min", "max", "total",
                                        "group_concat", NULL};

static bool is_agg_call(const plan_expr *e)
{
    if (e->kind != PLAN_E_FUNC || e->name == NULL)
        return false;
    for (int i = 0; agg_names[i]; i++) {
        if (strcasecmp(e->name, agg_names[i]) != 0)
            continue;
        /* min(a, b) and max(a, b) are scalar functions. */
        if ((i == 3 || i == 4) && e->list.n != 1)
            return false;
        return true;
    }
    return false;
}

/* The first aggregate call inside e (e itself included), or NULL. */
static const plan_expr *find_agg(const plan_expr *e)
{
    if (e == NULL)
        return NULL;
    if (is_agg_call(e))
        return e;
    const plan_expr *f;
    if ((f = find_agg(e->a)) || (f = find_agg(e->b)) || (f = find_agg(e->c)))
        return f;
    for (uint32_t i = 0; i < e->list.n; i++)
        if ((f = find_agg(e->list.items[i])) != NULL)
            return f;
    return NULL;
}

static bool contains_agg(const plan_expr *e)
{
    return find_agg(e) != NULL;
}

/* SQLite's alias: an unqualified name that no FROM column has but a result
 * column has as its AS name stands for that column's expression (in WHERE,
 * GROUP BY, HAVING and ORDER BY).  The expression, or NULL. */
static const plan_expr *alias_of(bctx *b, const plan_expr *e)
{
    if (b->in_alias || b->oc == NULL || e->kind != PLAN_E_COLUMN || e->table != NULL)
        return NULL;
    const plan_expr *found = NULL;
    for (uint32_t k = 0; k < b->noc && found == NULL; k++)
        if (b->oc[k].alias != NULL && b->oc[k].expr != NULL &&
            strcasecmp(b->oc[k].alias, e->name) == 0)
            found = b->oc[k].expr;
    if (found == NULL)
        return NULL;
    /* A column of the FROM clause wins over an alias. */
    uint32_t col;
    ivm_err quiet, *keep = b->c->err;
    ivm_err_clear(&quiet);
    b->c->err = &quiet;
    ivm_rc rc = resolve_column(b, e, &col);
    b->c->err = keep;
    return rc == IVM_OK ? NULL : found;
}

/* Like contains_agg, seeing through aliases. */
static bool agg_inside(bctx *b, const plan_expr *e)
{
    if (e == NULL)
        return false;
    if (is_agg_call(e))
        return true;
    const plan_expr *al = alias_of(b, e);
    if (al != NULL)
        return contains_agg(al);
    if (agg_inside(b, e->a) || agg_inside(b, e->b) || agg_inside(b, e->c))
        return true;
    for (uint32_t i = 0; i < e->list.n; i++)
        if (agg_inside(b, e->list.items[i]))
            return true;
    return false;
}

/* The first alias inside e that stands for an aggregate, or NULL. */
static const plan_expr *find_agg_alias(bctx *b, const plan_expr *e)
{
    if (e == NULL)
        return NULL;
    const plan_expr *al = alias_of(b, e);
    if (al != NULL)
        return contains_agg(al) ? e : NULL;
    const plan_expr *f;
    if ((f = find_agg_alias(b, e->a)) || (f = find_agg_alias(b, e->b)) ||
        (f = find_agg_alias(b, e->c)))
        return f;
    for (uint32_t i = 0; i < e->list.n; i++)
        if ((f = find_agg_alias(b, e->list.items[i])) != NULL)
            return f;
    return NULL;
}

/* SQLite's "misuse of aggregate function f()" at the aggregate inside e
 * (SQLite's "misuse of aggregate: f()" when it hides behind an alias). */
static ivm_rc misuse(bctx *b, const plan_expr *e)
{
    const plan_expr *f = find_agg(e);
    if (f == NULL && (f = find_agg_alias(b, e)) != NULL) {
        const plan_expr *g = find_agg(alias_of(b, f));
        return ivm_err_set(b->c->err, IVM_SCHEMA, f->pos.line, f->pos.col,
                           "misuse of aggregate: %s() (through alias %s)",
                           g && g->name ? g->name : "?", f->name);
    }
    if (f == NULL)
        f = e;
    return fail_at(b, IVM_SCHEMA, f->pos, "misuse of aggregate function %s()",
                   f->name ? f->name : "?");
}

/* ---- Affinity ---------------------------------------------------------------- */

/* SQLite's expression affinity, which decides how a comparison converts its
 * operands: a column has its declared type's, CAST its target type's,
 * anything else none. */
typedef enum aff { AFF_NONE, AFF_NUMERIC, AFF_TEXT } aff;

static aff class_aff(ivm_type t)
{
    return t == IVM_TINT || t == IVM_TREAL ? AFF_NUMERIC : t == IVM_TTEXT ? AFF_TEXT : AFF_NONE;
}

static aff expr_aff(bctx *b, const plan_expr *e)
{
    switch (e->kind) {
    case PLAN_E_COLUMN: {
        uint32_t col;
        ivm_err quiet;
        ivm_err *keep = b->c->err;
        /* Resolution errors are reported when the column is bound. */
        ivm_err_clear(&quiet);
        b->c->err = &quiet;
        ivm_rc rc = resolve_column(b, e, &col);
        b->c->err = keep;
        return rc == IVM_OK ? class_aff(b->types[col]) : AFF_NONE;
    }
    case PLAN_E_CAST:
        switch (e->cast_type) {
        case PLAN_TY_TEXT: case PLAN_TY_VARCHAR:
            return AFF_TEXT;
        default:
            return AFF_NUMERIC;
        }
    case PLAN_E_COLLATE:
        return expr_aff(b, e->a);
    default:
        return AFF_NONE;
    }
}

/* Folds an expression without columns into a constant (NULL on failure,
 * including an evaluation error: the caller keeps the expression then). */
static dbsp_expr *fold_const(dbsp_expr *x)
{
    if (x == NULL || xhas_cols(x) || x->op == DBSP_X_CONST)
        return x;
    rt_arena scratch;
    rt_arena_init(&scratch);
    ivm_err err;
    ivm_err_clear(&err);
    ivm_value v;
    dbsp_expr *k = NULL;
    if (dbsp_expr_eval(x, NULL, &scratch, &v, &err) == IVM_OK)
        k = dbsp_expr_const(&v);
    rt_arena_fini(&scratch);
    if (k == NULL)
        return x;
    dbsp_expr_free(x);
    return k;
}

/* Applies affinity `to` to operand x (consumed), as a comparison does. */
static dbsp_expr *apply_aff(aff to, dbsp_expr *x)
{
    if (x == NULL)
        return NULL;
    if (to == AFF_NUMERIC && (x->type == IVM_TTEXT || x->type == IVM_TNULL)) {
        dbsp_expr *args[1] = {x};
        return fold_const(dbsp_expr_func(DBSP_FN_NUMERIC, IVM_TNULL, 1, args));
    }
    if (to == AFF_TEXT && x->type != IVM_TTEXT) {
        dbsp_expr *args[1] = {x};
        return fold_const(dbsp_expr_op(DBSP_X_CAST, IVM_TTEXT, 1, args));
    }
    return x;
}

/* A comparison l op r of the bound operands of pl and pr (both consumed),
 * with SQLite's conversions: a numeric operand makes the other (text or
 * without affinity) numeric; a text operand makes one without affinity text. */
static dbsp_expr *mk_cmp(bctx *b, dbsp_xop op, const plan_expr *pl, dbsp_expr *l,
                         const plan_expr *pr, dbsp_expr *r)
{
    if (l != NULL && r != NULL) {
        aff la = expr_aff(b, pl), ra = expr_aff(b, pr);
        if (la == AFF_NUMERIC && ra != AFF_NUMERIC)
            r = apply_aff(AFF_NUMERIC, r);
        else if (ra == AFF_NUMERIC && la != AFF_NUMERIC)
            l = apply_aff(AFF_NUMERIC, l);
        else if (la == AFF_TEXT && ra == AFF_NONE)
            r = apply_aff(AFF_TEXT, r);
        else if (ra == AFF_TEXT && la == AFF_NONE)
            l = apply_aff(AFF_TEXT, l);
    }
    return mk_op(op, IVM_TINT, l, r);
}

/* x = item inside x IN (list): only x's affinity counts, and it converts
 * the item (SQLite's rule for IN with a list). */
static dbsp_expr *mk_in_eq(bctx *b, const plan_expr *px, dbsp_expr *x, dbsp_expr *item)
{
    if (x != NULL && item != NULL) {
        aff xa = expr_aff(b, px);
        if (xa != AFF_NONE)
            item = apply_aff(xa, item);
    }
    return mk_op(DBSP_X_EQ, IVM_TINT, x, item);
}

/* ---- Expressions ----------------------------------------------------------- */

static ivm_rc bind_expr(bctx *b, const plan_expr *e, bmode mode, dbsp_expr **out);

/* Binds e->list.items[i] in MODE_ROW: an aggregate's argument, separator
 * or filter, which may not hold an aggregate themselves. */
static ivm_rc bind_row_operand(bctx *b, const plan_expr *x, dbsp_expr **out)
{
    if (contains_agg(x))
        return misuse(b, x);
    return bind_expr(b, x, MODE_ROW, out);
}

static bool same_opt(const dbsp_expr *a, const dbsp_expr *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && xequal(a, b));
}

static ivm_rc bind_agg_call(bctx *b, const plan_expr *e, dbsp_expr **out)
{
    dbsp_agg_kind kind;
    const char *n = e->name;
    uint32_t maxargs = 1;
    if (strcasecmp(n, "count") == 0)
        kind = e->star || e->list.n == 0 ? DBSP_AGG_COUNT_STAR : DBSP_AGG_COUNT;
    else if (strcasecmp(n, "sum") == 0)
        kind = DBSP_AGG_SUM;
    else if (strcasecmp(n, "avg") == 0)
        kind = DBSP_AGG_AVG;
    else if (strcasecmp(n, "min") == 0)
        kind = DBSP_AGG_MIN;
    else if (strcasecmp(n, "max") == 0)
        kind = DBSP_AGG_MAX;
    else if (strcasecmp(n, "total") == 0)
        kind = DBSP_AGG_TOTAL;
    else if (strcasecmp(n, "group_concat") == 0) {
        kind = DBSP_AGG_GROUP_CONCAT;
        maxargs = 2;
    } else
        return fail_at(b, IVM_INTERNAL, e->pos, "aggregate %s() is not known", n);
    if (kind == DBSP_AGG_COUNT_STAR ? e->list.n != 0
                                    : (e->star || e->list.n < 1 || e->list.n > maxargs))
        return fail_at(b, IVM_SCHEMA, e->pos, "wrong number of arguments to function %s()", n);
    if (e->distinct && e->list.n != 1)
        return fail_at(b, IVM_SCHEMA, e->pos, "%s",
                       "DISTINCT aggregates must have exactly one argument");
    lp_agg g;
    memset(&g, 0, sizeof g);
    g.kind = kind;
    /* DISTINCT changes nothing for MIN and MAX. */
    g.distinct = e->distinct && kind != DBSP_AGG_MIN && kind != DBSP_AGG_MAX;
    ivm_type t = IVM_TINT;
    ivm_rc rc = IVM_OK;
    if (kind != DBSP_AGG_COUNT_STAR)
        rc = bind_row_operand(b, e->list.items[0], &g.arg);
    if (rc == IVM_OK && e->list.n == 2)
        rc = bind_row_operand(b, e->list.items[1], &g.sep);
    if (rc == IVM_OK && e->filter != NULL)
        rc = bind_row_operand(b, e->filter, &g.filter);
    if (rc != IVM_OK)
        goto fail;
    switch (kind) {
    case DBSP_AGG_COUNT_STAR: case DBSP_AGG_COUNT: t = IVM_TINT; break;
    case DBSP_AGG_SUM: t = g.arg->type == IVM_TINT ? IVM_TINT : IVM_TREAL; break;
    case DBSP_AGG_AVG: case DBSP_AGG_TOTAL: t = IVM_TREAL; break;
    case DBSP_AGG_GROUP_CONCAT: t = IVM_TTEXT; break;
    default: t = g.arg->type; break;
    }
    g.type = t;
    /* The same aggregate twice is computed once. */
    for (uint32_t i = 0; i < b->naggs; i++) {
        const lp_agg *h = &b->aggs[i];
        if (h->kind == g.kind && h->distinct == g.distinct && same_opt(h->arg, g.arg) &&
            same_opt(h->sep, g.sep) && same_opt(h->filter, g.filter)) {
            lp_agg_fini(&g);
            *out = dbsp_expr_col(b->ngroup + i, t);
            return *out ? IVM_OK : IVM_NOMEM;
        }
    }
    if (ivm_grow((void **)&b->aggs, &b->aggcap, b->naggs + 1, sizeof *b->aggs) != IVM_OK) {
        rc = IVM_NOMEM;
        goto fail;
    }
    b->aggs[b->naggs++] = g;
    *out = dbsp_expr_col(b->ngroup + b->naggs - 1, t);
    return *out ? IVM_OK : IVM_NOMEM;
fail:
    lp_agg_fini(&g);
    return rc;
}

/* Binds items[0..n) into a new array (freed by the caller with free_args). */
static ivm_rc bind_args(bctx *b, bmode mode, uint32_t n, const plan_expr *const *items,
                        dbsp_expr ***out)
{
    dbsp_expr **args = ivm_calloc(n ? n : 1, sizeof *args);
    if (args == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        ivm_rc rc = bind_expr(b, items[i], mode, &args[i]);
        if (rc != IVM_OK) {
            for (uint32_t j = 0; j < i; j++)
                dbsp_expr_free(args[j]);
            ivm_free(args);
            return rc;
        }
    }
    *out = args;
    return IVM_OK;
}

static ivm_rc bind_list_op(bctx *b, const plan_expr *e, bmode mode, dbsp_xop op,
                           ivm_type t, uint32_t n, const plan_expr *const *items,
                           dbsp_expr **out)
{
    dbsp_expr **args = NULL;
    ivm_rc rc = bind_args(b, mode, n, items, &args);
    if (rc != IVM_OK)
        return rc;
    if (op == DBSP_X_CASE) {
        /* Result class: common class of THEN and ELSE branches. */
        ivm_type ct = IVM_TNULL;
        bool first = true;
        for (uint32_t i = 1; i < n; i += 2) {
            ct = first ? args[i]->type : common_type(ct, args[i]->type);
            first = false;
        }
        if (n % 2 == 1)
            ct = first ? args[n - 1]->type : common_type(ct, args[n - 1]->type);
        t = ct;
    }
    dbsp_expr *x = dbsp_expr_op(op, t, n, args);
    ivm_free(args);
    if (x == NULL)
        return IVM_NOMEM;
    *out = x;
    return IVM_OK;
}

/* Scalar functions.  `how` says how a call is compiled. */
enum { FN_PLAIN, FN_SWAP, FN_IIF, FN_SAME };

typedef struct fninfo {
    const char *name;
    int how;                 /* FN_PLAIN: fn over the arguments; FN_SWAP: fn with the
                                first two swapped (like, glob); FN_IIF: a CASE;
                                FN_SAME: the first argument itself */
    dbsp_fn fn;
    uint32_t minargs, maxargs;
    ivm_type result;         /* IVM_TNULL: from the arguments */
} fninfo;

/* SQLite's limit on function arguments. */
#define FN_MAX_ARGS 127

static const fninfo fn_table[] = {
    {"abs", FN_PLAIN, DBSP_FN_ABS, 1, 1, IVM_TNULL},
    {"coalesce", FN_PLAIN, DBSP_FN_COALESCE, 2, FN_MAX_ARGS, IVM_TNULL},
    {"ifnull", FN_PLAIN, DBSP_FN_COALESCE, 2, 2, IVM_TNULL},
    {"length", FN_PLAIN, DBSP_FN_LENGTH, 1, 1, IVM_TINT},
    {"lower", FN_PLAIN, DBSP_FN_LOWER, 1, 1, IVM_TTEXT},
    {"upper", FN_PLAIN, DBSP_FN_UPPER, 1, 1, IVM_TTEXT},
    {"round", FN_PLAIN, DBSP_FN_ROUND, 1, 2, IVM_TREAL},
    {"substr", FN_PLAIN, DBSP_FN_SUBSTR, 2, 3, IVM_TTEXT},
    {"substring", FN_PLAIN, DBSP_FN_SUBSTR, 2, 3, IVM_TTEXT},
    {"trim", FN_PLAIN, DBSP_FN_TRIM, 1, 2, IVM_TTEXT},
    {"ltrim", FN_PLAIN, DBSP_FN_LTRIM, 1, 2, IVM_TTEXT},
    {"rtrim", FN_PLAIN, DBSP_FN_RTRIM, 1, 2, IVM_TTEXT},
    {"replace", FN_PLAIN, DBSP_FN_REPLACE, 3, 3, IVM_TNULL},
    {"instr", FN_PLAIN, DBSP_FN_INSTR, 2, 2, IVM_TINT},
    {"nullif", FN_PLAIN, DBSP_FN_NULLIF, 2, 2, IVM_TNULL},
    {"min", FN_PLAIN, DBSP_FN_MIN, 2, FN_MAX_ARGS, IVM_TNULL},
    {"max", FN_PLAIN, DBSP_FN_MAX, 2, FN_MAX_ARGS, IVM_TNULL},
    {"typeof", FN_PLAIN, DBSP_FN_TYPEOF, 1, 1, IVM_TTEXT},
    {"printf", FN_PLAIN, DBSP_FN_PRINTF, 1, FN_MAX_ARGS, IVM_TTEXT},
    {"format", FN_PLAIN, DBSP_FN_PRINTF, 1, FN_MAX_ARGS, IVM_TTEXT},
    {"hex", FN_PLAIN, DBSP_FN_HEX, 1, 1, IVM_TTEXT},
    {"quote", FN_PLAIN, DBSP_FN_QUOTE, 1, 1, IVM_TTEXT},
    {"unicode", FN_PLAIN, DBSP_FN_UNICODE, 1, 1, IVM_TINT},
    {"sign", FN_PLAIN, DBSP_FN_SIGN, 1, 1, IVM_TINT},
    {"like", FN_SWAP, DBSP_FN_LIKE, 2, 3, IVM_TINT},
    {"glob", FN_SWAP, DBSP_FN_GLOB, 2, 2, IVM_TINT},
    {"iif", FN_IIF, DBSP_FN_COUNT_, 3, 3, IVM_TNULL},
    {"likely", FN_SAME, DBSP_FN_COUNT_, 1, 1, IVM_TNULL},
    {"unlikely", FN_SAME, DBSP_FN_COUNT_, 1, 1, IVM_TNULL},
};

/* Functions SQLite has that ivm does not (yet): refused by name, so that the
 * message says so instead of "no such function". */
static const char *const fn_nondeterministic[] = {
    "random", "randomblob", "changes", "total_changes", "last_insert_rowid", NULL,
};
static const char *const fn_not_yet[] = {
    "date", "time", "datetime", "julianday", "strftime", "unixepoch", "char", "zeroblob",
    "soundex", "sqlite_version", "sqlite_source_id", "sqlite_compileoption_used",
    "sqlite_compileoption_get", "sqlite_offset", "likelihood", "load_extension", "acos",
    "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh",
    "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power",
    "radians", "sin", "sinh", "sqrt", "tan", "tanh", "trunc", "json", "json_array",
    "json_extract", "json_object", "json_group_array", "json_group_object",
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value", NULL,
};

static bool in_list(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcasecmp(list[i], name) == 0)
            return true;
    return false;
}

static ivm_rc bind_func(bctx *b, const plan_expr *e, bmode mode, dbsp_expr **out)
{
    const fninfo *f = NULL;
    for (size_t i = 0; i < sizeof fn_table / sizeof fn_table[0] && f == NULL; i++)
        if (strcasecmp(e->name, fn_table[i].name) == 0)
            f = &fn_table[i];
    if (f == NULL) {
        if (in_list(fn_nondeterministic, e->name))
            return fail_at(b, IVM_UNSUPPORTED, e->pos,
                           "function %s() is not supported: its result changes from call "
                           "to call, so ivm cannot maintain it",
                           e->name);
        if (in_list(fn_not_yet, e->name))
            return fail_at(b, IVM_UNSUPPORTED, e->pos,
                           "function %s() is not supported: ivm does not maintain it yet",
                           e->name);
        return fail_at(b, IVM_SCHEMA, e->pos, "no such function: %s", e->name);
    }
    if (e->filter)
        return fail_at(b, IVM_SCHEMA, e->pos, "FILTER may not be used with non-aggregate %s()",
                       e->name);
    /* DISTINCT on a scalar function changes nothing (SQLite accepts it). */
    if (e->star || e->list.n < f->minargs || e->list.n > f->maxargs)
        return fail_at(b, IVM_SCHEMA, e->pos, "wrong number of arguments to function %s()",
                       e->name);
    dbsp_expr **args = NULL;
    uint32_t n = e->list.n;
    ivm_rc rc = bind_args(b, mode, n, (const plan_expr *const *)e->list.items, &args);
    if (rc != IVM_OK)
        return rc;
    ivm_type t = f->result;
    if (t == IVM_TNULL) {
        t = args[0]->type;
        for (uint32_t j = 1; j < n && f->fn != DBSP_FN_NULLIF && f->how != FN_IIF; j++)
            t = common_type(t, args[j]->type);
        if (f->fn == DBSP_FN_ABS && t != IVM_TINT)
            t = t == IVM_TNULL ? IVM_TNULL : IVM_TREAL;
        if (f->fn == DBSP_FN_REPLACE)
            t = args[0]->type == IVM_TTEXT ? IVM_TTEXT : IVM_TNULL;
        if (f->how == FN_IIF)
            t = common_type(args[1]->type, args[2]->type);
    }
    dbsp_expr *x = NULL;
    switch (f->how) {
    case FN_SAME:
        x = args[0];
        break;
    case FN_IIF:
        x = dbsp_expr_op(DBSP_X_CASE, t, 3, args);
        break;
    case FN_SWAP: {
        dbsp_expr *tmp = args[0];
        args[0] = args[1];
        args[1] = tmp;
    }
        /* fall through */
    default:
        x = dbsp_expr_func(f->fn, t, n, args);
        break;
    }
    ivm_free(args);
    if (x == NULL)
        return IVM_NOMEM;
    *out = x;
    return IVM_OK;
}

static ivm_rc bind_expr(bctx *b, const plan_expr *e, bmode mode, dbsp_expr **out)
{
    ivm_rc rc;
    const plan_expr *al = alias_of(b, e);
    if (al != NULL) {
        b->in_alias = true;
        rc = bind_expr(b, al, mode, out);
        b->in_alias = false;
        return rc;
    }
    if (mode == MODE_AGG && !agg_inside(b, e)) {
        /* A subexpression equal to a GROUP BY term reads the group column. */
        dbsp_expr *x = NULL;
        rc = bind_expr(b, e, MODE_ROW, &x);
        if (rc != IVM_OK)
            return rc;
        for (uint32_t i = 0; i < b->ngroup; i++) {
            if (xequal(x, b->group[i])) {
                ivm_type t = x->type;
                dbsp_expr_free(x);
                *out = dbsp_expr_col(i, t);
                return *out ? IVM_OK : IVM_NOMEM;
            }
        }
        if (!xhas_cols(x)) {
            *out = x;
            return IVM_OK;
        }
        dbsp_expr_free(x);
        if (e->kind == PLAN_E_COLUMN)
            return fail_at(b, IVM_UNSUPPORTED, e->pos,
                           "column %s must appear in GROUP BY or in an aggregate "
                           "(bare columns in aggregate queries are not supported)",
                           e->name);
    }
    if (mode == MODE_AGG && is_agg_call(e))
        return bind_agg_call(b, e, out);
    if (mode == MODE_ROW && is_agg_call(e))
        return misuse(b, e);

    ivm_value v;
    switch (e->kind) {
    case PLAN_E_INT:
    case PLAN_E_BOOL:
        v = ivm_value_int(e->ival);
        goto constant;
    case PLAN_E_REAL:
        v = ivm_value_real(e->rval);
        goto constant;
    case PLAN_E_NULL:
        v = ivm_value_null();
        goto constant;
    case PLAN_E_STR:
        if (!spine_text_valid(e->str, e->slen))
            return fail_at(b, IVM_INVALID, e->pos, "%s", "text literal contains a NUL byte");
        v = ivm_value_text(e->str, e->slen);
    constant:
        *out = dbsp_expr_const(&v);
        return *out ? IVM_OK : IVM_NOMEM;
    case PLAN_E_COLUMN: {
        uint32_t col = 0;
        rc = resolve_column(b, e, &col);
        if (rc != IVM_OK)
            return rc;
        *out = dbsp_expr_col(col, b->types[col]);
        return *out ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_UNARY: {
        dbsp_expr *a = NULL;
        rc = bind_expr(b, e->a, mode, &a);
        if (rc != IVM_OK)
            return rc;
        switch (e->op) {
        case PLAN_OP_PLUS: *out = a; return IVM_OK;
        case PLAN_OP_NEG:
            *out = mk_op(DBSP_X_NEG, a->type == IVM_TINT || a->type == IVM_TREAL ? a->type
                                                                                  : IVM_TNULL,
                         a, NULL);
            break;
        case PLAN_OP_NOT: *out = mk_op(DBSP_X_NOT, IVM_TINT, a, NULL); break;
        case PLAN_OP_BITNOT: *out = mk_op(DBSP_X_BITNOT, IVM_TINT, a, NULL); break;
        default:
            dbsp_expr_free(a);
            return fail_at(b, IVM_INTERNAL, e->pos, "%s", "unknown unary operator");
        }
        return *out ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_BINARY: {
        /* cls 0: arithmetic; 1: text; 2: comparison (with affinity);
         * 3: logic; 4: bitwise (INT). */
        static const struct { plan_op p; dbsp_xop x; int cls; } ops[] = {
            {PLAN_OP_ADD, DBSP_X_ADD, 0}, {PLAN_OP_SUB, DBSP_X_SUB, 0},
            {PLAN_OP_MUL, DBSP_X_MUL, 0}, {PLAN_OP_DIV, DBSP_X_DIV, 0},
            {PLAN_OP_MOD, DBSP_X_MOD, 0}, {PLAN_OP_CONCAT, DBSP_X_CONCAT, 1},
            {PLAN_OP_EQ, DBSP_X_EQ, 2},   {PLAN_OP_NE, DBSP_X_NE, 2},
            {PLAN_OP_LT, DBSP_X_LT, 2},   {PLAN_OP_LE, DBSP_X_LE, 2},
            {PLAN_OP_GT, DBSP_X_GT, 2},   {PLAN_OP_GE, DBSP_X_GE, 2},
            {PLAN_OP_IS, DBSP_X_IS, 2},   {PLAN_OP_ISNOT, DBSP_X_ISNOT, 2},
            {PLAN_OP_AND, DBSP_X_AND, 3}, {PLAN_OP_OR, DBSP_X_OR, 3},
            {PLAN_OP_BITAND, DBSP_X_BITAND, 4}, {PLAN_OP_BITOR, DBSP_X_BITOR, 4},
            {PLAN_OP_LSHIFT, DBSP_X_LSHIFT, 4}, {PLAN_OP_RSHIFT, DBSP_X_RSHIFT, 4},
        };
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            if (ops[i].p != e->op)
                continue;
            dbsp_expr *l = NULL, *r = NULL;
            rc = bind_expr(b, e->a, mode, &l);
            if (rc == IVM_OK)
                rc = bind_expr(b, e->b, mode, &r);
            if (rc != IVM_OK) {
                dbsp_expr_free(l);
                return rc;
            }
            if (ops[i].cls == 2)
                *out = mk_cmp(b, ops[i].x, e->a, l, e->b, r);
            else
                *out = mk_op(ops[i].x,
                             ops[i].cls == 0 ? arith_type(l->type, r->type)
                             : ops[i].cls == 1 ? IVM_TTEXT : IVM_TINT,
                             l, r);
            return *out ? IVM_OK : IVM_NOMEM;
        }
        return fail_at(b, IVM_INTERNAL, e->pos, "%s", "unknown binary operator");
    }
    case PLAN_E_ISNULL: {
        dbsp_expr *a = NULL;
        rc = bind_expr(b, e->a, mode, &a);
        if (rc != IVM_OK)
            return rc;
        *out = mk_op(e->not_ ? DBSP_X_NOTNULL : DBSP_X_ISNULL, IVM_TINT, a, NULL);
        return *out ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_BETWEEN: {
        /* a BETWEEN x AND y = a >= x AND a <= y (a evaluated twice), each
         * comparison with its own conversions, as SQLite. */
        dbsp_expr *a = NULL, *a2 = NULL, *lo = NULL, *hi = NULL;
        rc = bind_expr(b, e->a, mode, &a);
        if (rc == IVM_OK)
            rc = bind_expr(b, e->b, mode, &lo);
        if (rc == IVM_OK)
            rc = bind_expr(b, e->c, mode, &hi);
        if (rc != IVM_OK) {
            dbsp_expr_free(a);
            dbsp_expr_free(lo);
            return rc;
        }
        a2 = dbsp_expr_dup(a);
        dbsp_expr *x = mk_op(DBSP_X_AND, IVM_TINT, mk_cmp(b, DBSP_X_GE, e->a, a, e->b, lo),
                             mk_cmp(b, DBSP_X_LE, e->a, a2, e->c, hi));
        if (x != NULL && e->not_)
            x = mk_op(DBSP_X_NOT, IVM_TINT, x, NULL);
        *out = x;
        return x ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_IN_LIST: {
        /* a IN (x, y) = a = x OR a = y: the same three-valued result (NULL
         * when nothing matches and a or an item is NULL). */
        dbsp_expr *acc = NULL, *a = NULL;
        rc = bind_expr(b, e->a, mode, &a);
        if (rc != IVM_OK)
            return rc;
        for (uint32_t i = 0; i < e->list.n; i++) {
            dbsp_expr *item = NULL;
            rc = bind_expr(b, e->list.items[i], mode, &item);
            if (rc != IVM_OK) {
                dbsp_expr_free(a);
                dbsp_expr_free(acc);
                return rc;
            }
            dbsp_expr *eq = mk_in_eq(b, e->a, dbsp_expr_dup(a), item);
            acc = acc ? mk_op(DBSP_X_OR, IVM_TINT, acc, eq) : eq;
            if (acc == NULL) {
                dbsp_expr_free(a);
                return IVM_NOMEM;
            }
        }
        dbsp_expr_free(a);
        if (acc == NULL) {
            /* x IN () is false, even for a NULL x. */
            ivm_value zero = ivm_value_int(0);
            acc = dbsp_expr_const(&zero);
        }
        if (acc != NULL && e->not_)
            acc = mk_op(DBSP_X_NOT, IVM_TINT, acc, NULL);
        *out = acc;
        return acc ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_CASE: {
        /* CASE a WHEN x THEN r ... becomes CASE WHEN a = x THEN r ... */
        uint32_t n = e->list.n + (e->b ? 1 : 0);
        const plan_expr **items = ivm_calloc(n ? n : 1, sizeof *items);
        if (items == NULL)
            return IVM_NOMEM;
        for (uint32_t i = 0; i < e->list.n; i++)
            items[i] = e->list.items[i];
        if (e->b)
            items[e->list.n] = e->b;
        dbsp_expr *x = NULL;
        rc = bind_list_op(b, e, mode, DBSP_X_CASE, IVM_TNULL, n, items, &x);
        ivm_free(items);
        if (rc != IVM_OK)
            return rc;
        if (e->a != NULL) {
            for (uint32_t i = 0; i + 1 < e->list.n; i += 2) {
                dbsp_expr *base = NULL;
                rc = bind_expr(b, e->a, mode, &base);
                if (rc != IVM_OK) {
                    dbsp_expr_free(x);
                    return rc;
                }
                x->args[i] = mk_cmp(b, DBSP_X_EQ, e->a, base, e->list.items[i], x->args[i]);
                if (x->args[i] == NULL) {
                    dbsp_expr_free(x);
                    return IVM_NOMEM;
                }
            }
        }
        *out = x;
        return IVM_OK;
    }
    case PLAN_E_CAST: {
        dbsp_expr *a = NULL;
        plan_type ct = e->cast_type;
        if (ct == PLAN_TY_DATE || ct == PLAN_TY_TIMESTAMP)
            return fail_at(b, IVM_UNSUPPORTED, e->pos,
                           "CAST to %s is not supported: ivm has no date and time types yet",
                           plan_type_name(ct));
        rc = bind_expr(b, e->a, mode, &a);
        if (rc != IVM_OK)
            return rc;
        dbsp_expr *x;
        if (ct == PLAN_TY_DECIMAL || ct == PLAN_TY_BOOLEAN) {
            /* NUMERIC affinity in SQLite: INT or REAL, whichever fits. */
            ivm_type t = a->type == IVM_TINT || a->type == IVM_TREAL ? a->type : IVM_TNULL;
            x = dbsp_expr_func(DBSP_FN_CAST_NUMERIC, t, 1, &a);
        } else {
            x = mk_op(DBSP_X_CAST, plan_type_class(ct), a, NULL);
        }
        *out = x;
        return x ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_FUNC:
        return bind_func(b, e, mode, out);
    case PLAN_E_COLLATE:
        if (e->name != NULL && strcasecmp(e->name, "binary") == 0)
            return bind_expr(b, e->a, mode, out);
        return fail_at(b, IVM_UNSUPPORTED, e->pos,
                       "COLLATE %s is not supported: ivm does not maintain it yet (only BINARY)",
                       e->name ? e->name : "?");
    case PLAN_E_IN_SELECT:
        return unsupported(b, e->pos, "IN (subquery)");
    case PLAN_E_EXISTS:
        return unsupported(b, e->pos, "EXISTS (subquery)");
    case PLAN_E_SUBQUERY:
        return unsupported(b, e->pos, "a scalar subquery");
    case PLAN_E_LIKE: {
        /* x LIKE p [ESCAPE c] = like(x, p [, c]); GLOB likewise. */
        const plan_expr *items[3] = {e->a, e->b, e->c};
        uint32_t n = e->c ? 3 : 2;
        bool glob = e->op == PLAN_OP_GLOB;
        if (glob && e->c != NULL)
            return fail_at(b, IVM_SCHEMA, e->c->pos, "%s", "GLOB takes no ESCAPE clause");
        dbsp_expr **args = NULL;
        rc = bind_args(b, mode, n, items, &args);
        if (rc != IVM_OK)
            return rc;
        if (n == 3 && !xhas_cols(args[2])) {
            /* A constant ESCAPE is checked now, with its position. */
            rt_arena scratch;
            rt_arena_init(&scratch);
            ivm_err quiet;
            ivm_err_clear(&quiet);
            ivm_value ev;
            bool bad = false;
            if (dbsp_expr_eval(args[2], NULL, &scratch, &ev, &quiet) == IVM_OK) {
                if (ev.type == IVM_TTEXT) {
                    uint32_t k = ev.u.s.n ? 1 : 0;
                    while (k < ev.u.s.n && ((unsigned char)ev.u.s.p[k] & 0xC0) == 0x80)
                        k++;
                    bad = ev.u.s.n == 0 || k != ev.u.s.n;
                } else {
                    /* A number's text is one character only for 0..9. */
                    bad = ev.type == IVM_TREAL ||
                          (ev.type == IVM_TINT && (ev.u.i < 0 || ev.u.i > 9));
                }
            }
            rt_arena_fini(&scratch);
            if (bad) {
                for (uint32_t k = 0; k < n; k++)
                    dbsp_expr_free(args[k]);
                ivm_free(args);
                return fail_at(b, IVM_SCHEMA, e->c->pos, "%s",
                               "ESCAPE expression must be a single character");
            }
        }
        dbsp_expr *x = dbsp_expr_func(glob ? DBSP_FN_GLOB : DBSP_FN_LIKE, IVM_TINT, n, args);
        ivm_free(args);
        if (x != NULL && e->not_)
            x = mk_op(DBSP_X_NOT, IVM_TINT, x, NULL);
        *out = x;
        return x ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_PARAM:
        return unsupported(b, e->pos, "a ? parameter");
    case PLAN_E_STAR:
        return fail_at(b, IVM_SYNTAX, e->pos, "%s", "near \"*\": syntax error");
    default:
        return unsupported(b, e->pos, "this expression");
    }
}

/* ---- FROM ------------------------------------------------------------------ */

static ivm_rc add_range(bctx *b, const plan_from *f, lp_node **out)
{
    pctx *c = b->c;
    const plan_relation *rel = c->cat->lookup(c->cat->ctx, f->name);
    if (rel == NULL)
        return fail_at(b, IVM_SCHEMA, f->pos, "no such table: %s", f->name);
    const char *alias = f->alias ? f->alias : f->name;
    for (uint32_t i = 0; i < b->nranges; i++)
        if (strcasecmp(b->ranges[i].alias, alias) == 0)
            return fail_at(b, IVM_SCHEMA, f->pos, "ambiguous table name in FROM: %s", alias);
    range *nr = rt_arena_alloc(&c->arena, sizeof *nr * (b->nranges + 1));
    ivm_type *nt = rt_arena_alloc(&c->arena, sizeof *nt * (b->ncols + rel->ncols + 1));
    if (nr == NULL || nt == NULL)
        return IVM_NOMEM;
    if (b->nranges)
        memcpy(nr, b->ranges, sizeof *nr * b->nranges);
    if (b->ncols)
        memcpy(nt, b->types, sizeof *nt * b->ncols);
    memcpy(nt + b->ncols, rel->col_types, sizeof *nt * rel->ncols);
    nr[b->nranges].alias = alias;
    nr[b->nranges].rel = rel;
    nr[b->nranges].off = b->ncols;
    b->ranges = nr;
    b->types = nt;
    b->nranges++;
    b->ncols += rel->ncols;
    lp_node *scan = lp_new(c, LP_SCAN, rel->ncols);
    if (scan == NULL)
        return IVM_NOMEM;
    scan->rel_id = rel->id;
    memcpy(scan->types, rel->col_types, sizeof(ivm_type) * rel->ncols);
    *out = scan;
    return IVM_OK;
}

static lp_node *cross(pctx *c, lp_node *l, lp_node *r)
{
    lp_node *j = lp_new(c, LP_JOIN, l->ncols + r->ncols);
    if (j == NULL)
        return NULL;
    j->in = l;
    j->right = r;
    memcpy(j->types, l->types, sizeof(ivm_type) * l->ncols);
    memcpy(j->types + l->ncols, r->types, sizeof(ivm_type) * r->ncols);
    return j;
}

/* Adds the AND of a condition to *acc. */
static ivm_rc and_into(dbsp_expr **acc, dbsp_expr *x)
{
    if (*acc == NULL) {
        *acc = x;
        return IVM_OK;
    }
    *acc = mk_op(DBSP_X_AND, IVM_TINT, *acc, x);
    return *acc ? IVM_OK : IVM_NOMEM;
}

static ivm_rc bind_from(bctx *b, const plan_from *f, lp_node **tree, dbsp_expr **cond)
{
    switch (f->kind) {
    case PLAN_F_TABLE: {
        lp_node *scan = NULL;
        ivm_rc rc = add_range(b, f, &scan);
        if (rc != IVM_OK)
            return rc;
        if (*tree == NULL) {
            *tree = scan;
            return IVM_OK;
        }
        *tree = cross(b->c, *tree, scan);
        return *tree ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_F_SUBQUERY:
        return unsupported(b, f->pos, "a subquery in FROM");
    case PLAN_F_JOIN: {
        if (f->jkind != PLAN_J_INNER && f->jkind != PLAN_J_CROSS)
            return unsupported(b, f->pos, "an outer join");
        if (f->natural || f->nusing)
            return unsupported(b, f->pos, "NATURAL JOIN and JOIN ... USING");
        if (f->right->kind == PLAN_F_JOIN)
            return unsupported(b, f->right->pos, "a parenthesised join");
        ivm_rc rc = bind_from(b, f->left, tree, cond);
        if (rc == IVM_OK)
            rc = bind_from(b, f->right, tree, cond);
        if (rc != IVM_OK || f->on == NULL)
            return rc;
        /* An inner join's ON is a filter over the rows joined so far. */
        if (contains_agg(f->on))
            return misuse(b, f->on);
        dbsp_expr *on = NULL;
        rc = bind_expr(b, f->on, MODE_ROW, &on);
        if (rc != IVM_OK)
            return rc;
        return and_into(cond, on);
    }
    }
    return IVM_INTERNAL;
}

/* ---- SELECT ---------------------------------------------------------------- */

static lp_node *wrap_filter(pctx *c, lp_node *in, dbsp_expr *pred)
{
    lp_node *f = lp_new(c, LP_FILTER, in->ncols);
    if (f == NULL) {
        dbsp_expr_free(pred);
        return NULL;
    }
    f->in = in;
    f->pred = pred;
    memcpy(f->types, in->types, sizeof(ivm_type) * in->ncols);
    return f;
}

static const char *column_name(pctx *c, const plan_result_col *rc, const plan_expr *e)
{
    if (rc->alias)
        return rc->alias;
    if (e->kind == PLAN_E_COLUMN)
        return e->name;
    if (rc->text)
        return rt_arena_strndup(&c->arena, rc->text, rc->text_len);
    return "?";
}


static ivm_rc expand_results(bctx *b, const plan_select *sel, outcol **out, uint32_t *n_out)
{
    pctx *c = b->c;
    uint32_t n = 0;
    for (uint32_t i = 0; i < sel->ncols; i++) {
        const plan_expr *e = sel->cols[i].expr;
        if (e->kind != PLAN_E_STAR) {
            n++;
            continue;
        }
        bool matched = false;
        for (uint32_t r = 0; r < b->nranges; r++) {
            if (e->table && strcasecmp(e->table, b->ranges[r].alias) != 0)
                continue;
            n += b->ranges[r].rel->ncols;
            matched = true;
        }
        if (!matched)
            return fail_at(b, IVM_SCHEMA, e->pos,
                           e->table ? "no such table: %s" : "%s", e->table ? e->table
                                                                          : "no tables specified");
    }
    outcol *oc = rt_arena_alloc(&c->arena, sizeof *oc * (n ? n : 1));
    if (oc == NULL)
        return IVM_NOMEM;
    uint32_t k = 0;
    for (uint32_t i = 0; i < sel->ncols; i++) {
        const plan_expr *e = sel->cols[i].expr;
        if (e->kind != PLAN_E_STAR) {
            oc[k].expr = e;
            oc[k].name = column_name(c, &sel->cols[i], e);
            oc[k].alias = sel->cols[i].alias;
            oc[k].pos = sel->cols[i].pos;
            k++;
            continue;
        }
        for (uint32_t r = 0; r < b->nranges; r++) {
            if (e->table && strcasecmp(e->table, b->ranges[r].alias) != 0)
                continue;
            for (uint32_t j = 0; j < b->ranges[r].rel->ncols; j++) {
                oc[k].expr = NULL;
                oc[k].col = b->ranges[r].off + j;
                oc[k].name = b->ranges[r].rel->col_names[j];
                oc[k].alias = NULL;
                oc[k].pos = e->pos;
                k++;
            }
        }
    }
    *out = oc;
    *n_out = n;
    return IVM_OK;
}

static ivm_rc bind_outcol(bctx *b, const outcol *oc, bmode mode, dbsp_expr **out)
{
    if (oc->expr != NULL) {
        /* Aliases are not visible in the result list itself (SQLite). */
        bool keep = b->in_alias;
        b->in_alias = true;
        ivm_rc rc = bind_expr(b, oc->expr, mode, out);
        b->in_alias = keep;
        return rc;
    }
    /* A star column in an aggregate query must be a group column. */
    dbsp_expr *x = dbsp_expr_col(oc->col, b->types[oc->col]);
    if (x == NULL)
        return IVM_NOMEM;
    if (mode == MODE_ROW) {
        *out = x;
        return IVM_OK;
    }
    for (uint32_t i = 0; i < b->ngroup; i++) {
        if (xequal(x, b->group[i])) {
            dbsp_expr_free(x);
            *out = dbsp_expr_col(i, b->types[oc->col]);
            return *out ? IVM_OK : IVM_NOMEM;
        }
    }
    dbsp_expr_free(x);
    return fail_at(b, IVM_UNSUPPORTED, oc->pos,
                   "column %s must appear in GROUP BY or in an aggregate", oc->name);
}

static ivm_rc const_int(bctx *b, const plan_expr *e, const char *what, int64_t *out)
{
    dbsp_expr *x = NULL;
    ivm_rc rc = bind_expr(b, e, MODE_ROW, &x);
    if (rc != IVM_OK)
        return rc;
    if (xhas_cols(x)) {
        dbsp_expr_free(x);
        return fail_at(b, IVM_SCHEMA, e->pos, "%s must be a constant", what);
    }
    rt_arena scratch;
    rt_arena_init(&scratch);
    ivm_value v;
    rc = dbsp_expr_eval(x, NULL, &scratch, &v, b->c->err);
    dbsp_expr_free(x);
    rt_arena_fini(&scratch);
    if (rc != IVM_OK)
        return rc;
    if (v.type == IVM_TREAL && v.u.r == (double)(int64_t)v.u.r)
        v = ivm_value_int((int64_t)v.u.r);
    if (v.type != IVM_TINT)
        return fail_at(b, IVM_SCHEMA, e->pos, "datatype mismatch in %s", what);
    *out = v.u.i;
    return IVM_OK;
}

ivm_rc bind_select(pctx *c, const plan_select *sel, lp_node **out, plan_query *q)
{
    bctx bb, *b = &bb;
    memset(b, 0, sizeof *b);
    b->c = c;
    ivm_rc rc = IVM_OK;
    lp_node *tree = NULL;
    dbsp_expr *cond = NULL;
    dbsp_expr **proj = NULL;
    uint32_t nproj = 0;

    if (sel->op != PLAN_C_NONE || sel->prior != NULL)
        return unsupported(b, sel->pos,
                           sel->op == PLAN_C_UNION ? "UNION"
                           : sel->op == PLAN_C_UNION_ALL ? "UNION ALL"
                           : sel->op == PLAN_C_INTERSECT ? "INTERSECT" : "EXCEPT");
    if (sel->ncte)
        return unsupported(b, sel->ctes[0].pos, "WITH");

    if (sel->from != NULL) {
        rc = bind_from(b, sel->from, &tree, &cond);
        if (rc != IVM_OK)
            goto fail;
    } else {
        tree = lp_new(c, LP_SCAN, 0);
        if (tree == NULL)
            goto nomem;
        tree->rel_id = PLAN_REL_DUAL;
    }
    /* The result columns first: WHERE, GROUP BY, HAVING and ORDER BY may
     * name their aliases. */
    outcol *oc = NULL;
    uint32_t noc = 0;
    rc = expand_results(b, sel, &oc, &noc);
    if (rc != IVM_OK)
        goto fail;
    b->oc = oc;
    b->noc = noc;

    if (sel->where != NULL) {
        if (agg_inside(b, sel->where)) {
            rc = misuse(b, sel->where);
            goto fail;
        }
        dbsp_expr *w = NULL;
        rc = bind_expr(b, sel->where, MODE_ROW, &w);
        if (rc != IVM_OK)
            goto fail;
        rc = and_into(&cond, w);
        if (rc != IVM_OK)
            goto fail;
    }
    if (cond != NULL) {
        tree = wrap_filter(c, tree, cond);
        cond = NULL;
        if (tree == NULL)
            goto nomem;
    }

    bool agg = sel->group_by.n > 0 || sel->having != NULL;
    for (uint32_t i = 0; i < sel->ncols && !agg; i++)
        agg = contains_agg(sel->cols[i].expr);
    for (uint32_t i = 0; i < sel->norder && !agg; i++)
        agg = contains_agg(sel->order_by[i].expr);
    bmode mode = agg ? MODE_AGG : MODE_ROW;

    if (agg) {
        b->ngroup = sel->group_by.n;
        b->group = rt_arena_alloc(&c->arena, sizeof(dbsp_expr *) * (b->ngroup + 1));
        if (b->group == NULL) {
            b->ngroup = 0;
            goto nomem;
        }
        /* The failure path frees group[0..ngroup): all NULL until bound. */
        memset(b->group, 0, sizeof(dbsp_expr *) * (b->ngroup + 1));
        for (uint32_t i = 0; i < b->ngroup; i++) {
            const plan_expr *g = sel->group_by.items[i];
            if (agg_inside(b, g)) {
                const plan_expr *f = find_agg(g) ? find_agg(g) : g;
                rc = fail_at(b, IVM_SCHEMA, f->pos, "%s",
                             "aggregate functions are not allowed in the GROUP BY clause");
                goto fail;
            }
            b->group[i] = NULL;
            /* GROUP BY 2 names the second result column, as in SQLite. */
            if (g->kind == PLAN_E_INT) {
                if (g->ival < 1 || g->ival > (int64_t)noc) {
                    rc = ivm_err_set(c->err, IVM_SCHEMA, g->pos.line, g->pos.col,
                                     "GROUP BY term out of range - should be between 1 and %u",
                                     noc);
                    goto fail;
                }
                rc = bind_outcol(b, &oc[g->ival - 1], MODE_ROW, &b->group[i]);
            } else {
                rc = bind_expr(b, g, MODE_ROW, &b->group[i]);
            }
            if (rc != IVM_OK) {
                b->ngroup = i;
                goto fail;
            }
        }
    }

    /* Result columns, then HAVING, then ORDER BY terms not among them. */
    uint32_t cap = noc + sel->norder + 1;
    proj = ivm_calloc(cap, sizeof *proj);
    if (proj == NULL)
        goto nomem;
    for (uint32_t i = 0; i < noc; i++) {
        rc = bind_outcol(b, &oc[i], mode, &proj[i]);
        if (rc != IVM_OK)
            goto fail;
        nproj++;
    }
    dbsp_expr *having = NULL;
    if (sel->having != NULL) {
        rc = bind_expr(b, sel->having, MODE_AGG, &having);
        if (rc != IVM_OK)
            goto fail;
    }

    q->limit = q->offset = -1;
    if (sel->limit != NULL || sel->offset != NULL) {
        if (sel->limit && (rc = const_int(b, sel->limit, "LIMIT", &q->limit)) != IVM_OK) {
            dbsp_expr_free(having);
            goto fail;
        }
        if (sel->offset && (rc = const_int(b, sel->offset, "OFFSET", &q->offset)) != IVM_OK) {
            dbsp_expr_free(having);
            goto fail;
        }
        /* A view keeps its top-k (topk.c), which wants both bounds. */
        if (c->for_view && (rc = topk_check_bounds(c, sel, q)) != IVM_OK) {
            dbsp_expr_free(having);
            goto fail;
        }
    }
    /* A view's rows have no order: ORDER BY there is accepted and ignored
     * (readers order with their own ORDER BY), unless LIMIT makes it
     * choose the rows (top-k, topk.c). */
    if ((!c->for_view || sel->limit != NULL) && sel->norder > 0) {
        q->sort = ivm_calloc(sel->norder, sizeof *q->sort);
        if (q->sort == NULL) {
            dbsp_expr_free(having);
            goto nomem;
        }
        for (uint32_t i = 0; i < sel->norder; i++) {
            const plan_order *o = &sel->order_by[i];
            const plan_expr *e = o->expr;
            int64_t col = -1;
            if (e->kind == PLAN_E_INT) {
                if (e->ival < 1 || e->ival > (int64_t)noc) {
                    rc = ivm_err_set(c->err, IVM_SCHEMA, e->pos.line, e->pos.col,
                                     "%u%s ORDER BY term out of range - should be between 1 and %u",
                                     i + 1, i == 0 ? "st" : i == 1 ? "nd" : i == 2 ? "rd" : "th",
                                     noc);
                    dbsp_expr_free(having);
                    goto fail;
                }
                col = e->ival - 1;
            } else if (e->kind == PLAN_E_COLUMN && e->table == NULL) {
                /* A name of a result column (its alias first), as SQLite resolves. */
                for (uint32_t k = 0; k < noc && col < 0; k++)
                    if (oc[k].name && strcasecmp(oc[k].name, e->name) == 0)
                        col = k;
            }
            if (col < 0) {
                dbsp_expr *x = NULL;
                rc = bind_expr(b, e, mode, &x);
                if (rc != IVM_OK) {
                    dbsp_expr_free(having);
                    goto fail;
                }
                for (uint32_t k = 0; k < nproj && col < 0; k++)
                    if (xequal(x, proj[k]))
                        col = k;
                if (col >= 0) {
                    dbsp_expr_free(x);
                } else if (sel->distinct) {
                    dbsp_expr_free(x);
                    dbsp_expr_free(having);
                    rc = unsupported(b, e->pos, "ORDER BY a term not selected, with DISTINCT,");
                    goto fail;
                } else {
                    proj[nproj] = x;
                    col = nproj++;
                    q->nhidden++;
                }
            }
            q->sort[i].col = (uint32_t)col;
            q->sort[i].desc = o->desc;
            q->sort[i].nulls = o->nulls ? o->nulls : (o->desc ? 1 : -1);
        }
        q->nsort = sel->norder;
    }

    if (agg) {
        lp_node *a = lp_new(c, LP_AGGREGATE, b->ngroup + b->naggs);
        if (a == NULL) {
            dbsp_expr_free(having);
            goto nomem;
        }
        a->in = tree;
        a->nexprs = b->ngroup;
        a->exprs = b->group;
        for (uint32_t i = 0; i < b->ngroup; i++)
            a->types[i] = b->group[i]->type;
        a->naggs = b->naggs;
        a->aggs = rt_arena_alloc(&c->arena, sizeof(lp_agg) * (b->naggs + 1));
        if (a->aggs == NULL) {
            a->nexprs = 0;
            a->naggs = 0;
            dbsp_expr_free(having);
            goto nomem;
        }
        if (b->naggs)
            memcpy(a->aggs, b->aggs, sizeof(lp_agg) * b->naggs);
        for (uint32_t i = 0; i < b->naggs; i++)
            a->types[b->ngroup + i] = b->aggs[i].type;
        ivm_free(b->aggs);
        b->aggs = NULL;
        b->naggs = 0;
        b->ngroup = 0;
        tree = a;
        if (having != NULL) {
            tree = wrap_filter(c, tree, having);
            if (tree == NULL)
                goto nomem;
        }
    }

    lp_node *m = lp_new(c, LP_MAP, nproj);
    if (m == NULL)
        goto nomem;
    m->in = tree;
    m->nexprs = nproj;
    m->exprs = rt_arena_alloc(&c->arena, sizeof(dbsp_expr *) * (nproj + 1));
    if (m->exprs == NULL) {
        m->nexprs = 0;
        goto nomem;
    }
    memcpy(m->exprs, proj, sizeof(dbsp_expr *) * nproj);
    for (uint32_t i = 0; i < nproj; i++)
        m->types[i] = proj[i]->type;
    ivm_free(proj);
    proj = NULL;
    nproj = 0;
    tree = m;
    if (sel->distinct) {
        lp_node *d = lp_new(c, LP_DISTINCT, m->ncols);
        if (d == NULL)
            goto nomem;
        d->in = m;
        memcpy(d->types, m->types, sizeof(ivm_type) * m->ncols);
        tree = d;
    }

    q->ncols = noc;
    q->col_names = ivm_calloc(noc + 1, sizeof(char *));
    q->col_types = ivm_calloc(noc + 1, sizeof(ivm_type));
    if (q->col_names == NULL || q->col_types == NULL)
        goto nomem;
    for (uint32_t i = 0; i < noc; i++) {
        q->col_names[i] = ivm_strndup(oc[i].name, strlen(oc[i].name));
        if (q->col_names[i] == NULL)
            goto nomem;
        q->col_types[i] = tree->types[i];
    }
    *out = tree;
    return IVM_OK;

nomem:
    rc = IVM_NOMEM;
fail:
    dbsp_expr_free(cond);
    for (uint32_t i = 0; i < nproj; i++)
        dbsp_expr_free(proj[i]);
    ivm_free(proj);
    for (uint32_t i = 0; i < b->ngroup; i++)
        dbsp_expr_free(b->group[i]);
    for (uint32_t i = 0; i < b->naggs; i++)
        lp_agg_fini(&b->aggs[i]);
    ivm_free(b->aggs);
    lp_free_exprs(tree);
    return rc;
}

ivm_rc plan_scalar(const plan_expr *e, const plan_relation *rel, dbsp_expr **out, ivm_err *err)
{
    pctx c;
    memset(&c, 0, sizeof c);
    c.err = err;
    rt_arena_init(&c.arena);
    bctx bb;
    memset(&bb, 0, sizeof bb);
    bb.c = &c;
    range r;
    if (rel != NULL) {
        r.alias = rel->name;
        r.rel = rel;
        r.off = 0;
        bb.ranges = &r;
        bb.nranges = 1;
        bb.ncols = rel->ncols;
        bb.types = (ivm_type *)rel->col_types;
    }
    ivm_rc rc;
    if (contains_agg(e))
        rc = misuse(&bb, e);
    else
        rc = bind_expr(&bb, e, MODE_ROW, out);
    rt_arena_fini(&c.arena);
    return rc;
}
