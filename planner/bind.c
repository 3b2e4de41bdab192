/*
 * bind.c: names and types.  Resolves the names of a SELECT against the
 * catalog and the FROM clause, gives every expression its static class,
 * turns aggregates and GROUP BY into an LP_AGGREGATE node and builds the
 * logical plan: scans, cross joins, one filter for WHERE, the aggregate,
 * HAVING, a bounded ROW_NUMBER's LP_TOPK, the projection and DISTINCT.
 * rewrite.c then moves filters and join keys where they belong; lower.c
 * makes the circuit.  Constructs the planner does not maintain are refused
 * here, with their position (keeps P1).
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
    uint32_t depth;          /* 0: the query's own; 1: a subquery's (bind_sub_rel) */
} range;

/* Expands the result list (stars) into expressions and names. */
typedef struct outcol {
    const plan_expr *expr;   /* NULL for a star-expanded column */
    uint32_t col;            /* star: combined column */
    bool merged;             /* star: unqualified (USING columns merged) */
    const char *name;
    const char *alias;       /* AS name, or NULL */
    plan_pos pos;
    plan_aff aff;            /* the column's affinity (plan_relation) */
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
    /* Subqueries in expressions (see "Subqueries" below). */
    uint32_t depth;          /* names resolve in ranges of this depth first */
    lp_node **treep;         /* the FROM tree a scalar subquery joins, or NULL */
    bool sub_ok;             /* a scalar subquery may be bound here */
    uint32_t npost;          /* scalar subqueries of an aggregate query's results */
    lp_node **post;          /* and HAVING: joined above the aggregate */
    /* JOIN ... USING and NATURAL JOIN, over the ranges' columns (nmerge of
     * them): a right-hand USING column is hidden from unqualified names
     * and `*`; the left-hand one it merges with reads coalesce(left,
     * partner, ...), as SQLite's. */
    uint32_t base;           /* a subquery's: its FROM tree's first column in the row */
    uint32_t nmerge;
    uint32_t *partner;       /* the next column merged into this one, or UINT32_MAX */
    bool *hidden;
    /* ROW_NUMBER bounds (win_bound): the WHERE of the query whose FROM is
     * being bound, and the references to a bounded column, each with the
     * combined column it must resolve to. */
    const plan_expr *where;
    uint32_t nwchecks;
    const plan_expr **wcheck_ref;
    uint32_t *wcheck_col;
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

static bool star_hidden(bctx *b, uint32_t col)
{
    return col < b->nmerge && b->hidden[col];
}

/* Column col read by an unqualified name: with the columns JOIN ... USING
 * merged into it, coalesce(col, partner, ...). */
static dbsp_expr *merged_col(bctx *b, uint32_t col)
{
    dbsp_expr *x = dbsp_expr_col(col, b->types[col]);
    for (uint32_t p = col < b->nmerge ? b->partner[col] : UINT32_MAX; x && p != UINT32_MAX;
         p = p < b->nmerge ? b->partner[p] : UINT32_MAX) {
        dbsp_expr *args[2] = {x, dbsp_expr_col(p, b->types[p])};
        if (args[1] == NULL) {
            dbsp_expr_free(x);
            return NULL;
        }
        ivm_type t = x->type == b->types[p] ? x->type : IVM_TNULL;
        x = dbsp_expr_func(DBSP_FN_COALESCE, t, 2, args);
    }
    return x;
}

static ivm_rc outer_reference(bctx *b, const plan_expr *e);

/* A name resolves among the ranges of the innermost scope first (a
 * subquery's own FROM), then among the enclosing query's, as in SQLite. */
static ivm_rc resolve_column(bctx *b, const plan_expr *e, uint32_t *col_out)
{
    bool found = false;
    uint32_t col = 0;
    for (uint32_t pass = 0; pass < 2 && !found; pass++)
    for (uint32_t r = 0; r < b->nranges; r++) {
        const range *rg = &b->ranges[r];
        if ((pass == 0) != (rg->depth == b->depth))
            continue;
        if (e->table != NULL) {
            if (strcasecmp(e->table, rg->alias) != 0)
                continue;
        }
        for (uint32_t i = 0; i < rg->rel->ncols; i++) {
            if (strcasecmp(rg->rel->col_names[i], e->name) != 0)
                continue;
            if (e->table == NULL && rg->off + i < b->nmerge && b->hidden[rg->off + i])
                continue;
            if (found)
                return fail_at(b, IVM_SCHEMA, e->pos, "ambiguous column name: %s", e->name);
            found = true;
            col = rg->off + i;
        }
    }
    if (!found && b->c->outer != NULL && outer_reference(b, e) != IVM_OK)
        return IVM_UNSUPPORTED;
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
 * operands: a column has its relation's (plan_aff), CAST its target type's,
 * anything else none. */
typedef plan_aff aff;
#define AFF_NONE PLAN_AFF_NONE
#define AFF_NUMERIC PLAN_AFF_NUMERIC
#define AFF_TEXT PLAN_AFF_TEXT
#define AFF_REAL PLAN_AFF_REAL

static aff class_aff(ivm_type t)
{
    return t == IVM_TINT ? AFF_NUMERIC : t == IVM_TREAL ? AFF_REAL : t == IVM_TTEXT ? AFF_TEXT
                                                                                   : AFF_NONE;
}

/* The affinity of combined column col: its relation's, or its class's for
 * a column a subquery's decorrelation added. */
static aff col_aff(const bctx *b, uint32_t col)
{
    for (uint32_t i = 0; i < b->nranges; i++) {
        const range *r = &b->ranges[i];
        if (col >= r->off && col - r->off < r->rel->ncols)
            return r->rel->col_affs ? r->rel->col_affs[col - r->off]
                                    : class_aff(r->rel->col_types[col - r->off]);
    }
    return class_aff(b->types[col]);
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
        return rc == IVM_OK ? col_aff(b, col) : AFF_NONE;
    }
    case PLAN_E_CAST:
        switch (e->cast_type) {
        case PLAN_TY_TEXT: case PLAN_TY_VARCHAR:
            return AFF_TEXT;
        case PLAN_TY_REAL: case PLAN_TY_DOUBLE: case PLAN_TY_FLOAT:
            return AFF_REAL;
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
 * with SQLite's conversions: the comparison takes numeric affinity when an
 * operand has it, else text when one has text and the other none, and
 * applies it to both operands (a view's column may hold values of another
 * class than its affinity: a UNION of an INTEGER and a TEXT column).  For
 * an operand whose class already fits, applying it costs nothing. */
static dbsp_expr *mk_cmp_aff(dbsp_xop op, aff la, dbsp_expr *l, aff ra, dbsp_expr *r)
{
    /* REAL affinity compares as numeric. */
    la = la == AFF_REAL ? AFF_NUMERIC : la;
    ra = ra == AFF_REAL ? AFF_NUMERIC : ra;
    if (l != NULL && r != NULL) {
        aff to = la == AFF_NUMERIC || ra == AFF_NUMERIC                             ? AFF_NUMERIC
                 : (la == AFF_TEXT && ra == AFF_NONE) || (ra == AFF_TEXT && la == AFF_NONE) ? AFF_TEXT
                                                                                       : AFF_NONE;
        if (to != AFF_NONE) {
            l = apply_aff(to, l);
            r = apply_aff(to, r);
        }
    }
    return mk_op(op, IVM_TINT, l, r);
}

static dbsp_expr *mk_cmp(bctx *b, dbsp_xop op, const plan_expr *pl, dbsp_expr *l,
                         const plan_expr *pr, dbsp_expr *r)
{
    return mk_cmp_aff(op, expr_aff(b, pl), l, expr_aff(b, pr), r);
}

/* x = item inside x IN (list): only x's affinity counts, and it converts
 * the item (SQLite's rule for IN with a list). */
static dbsp_expr *mk_in_eq(bctx *b, const plan_expr *px, dbsp_expr *x, dbsp_expr *item)
{
    if (x != NULL && item != NULL) {
        aff xa = expr_aff(b, px);
        xa = xa == AFF_REAL ? AFF_NUMERIC : xa;
        if (xa != AFF_NONE) {
            x = apply_aff(xa, x);
            item = apply_aff(xa, item);
        }
    }
    return mk_op(DBSP_X_EQ, IVM_TINT, x, item);
}

/* ---- Expressions ----------------------------------------------------------- */

static ivm_rc bind_expr(bctx *b, const plan_expr *e, bmode mode, dbsp_expr **out);
static ivm_rc bind_scalar_sub(bctx *b, const plan_expr *e, bmode mode, dbsp_expr **out);
static bool has_sub(const plan_expr *e);
static ivm_rc bind_sub_value(bctx *b, const plan_expr *e, dbsp_expr **out);

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
    if (mode == MODE_AGG && !agg_inside(b, e) && !has_sub(e)) {
        /* A subexpression equal to a GROUP BY term reads the group column.
         * (Not one with a subquery: binding it on rows would join its
         * relation below the aggregate.) */
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
        *out = e->table == NULL ? merged_col(b, col) : dbsp_expr_col(col, b->types[col]);
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
    case PLAN_E_EXISTS:
        if (b->treep != NULL && b->sub_ok && mode == MODE_ROW)
            return bind_sub_value(b, e, out);
        return fail_at(b, IVM_UNSUPPORTED, e->pos,
                       "%s is not supported here: ivm maintains it in WHERE and the result "
                       "columns of a query without aggregates (not in ON, HAVING, an "
                       "aggregate query's results or inside another subquery)",
                       e->kind == PLAN_E_EXISTS ? "EXISTS (subquery)" : "IN (subquery)");
    case PLAN_E_SUBQUERY:
        return bind_scalar_sub(b, e, mode, out);
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
    case PLAN_E_WINDOW:
        return fail_at(b, IVM_UNSUPPORTED, e->pos,
                       "%s() OVER (...) is not supported here: ivm maintains ROW_NUMBER() only "
                       "as a result column of a subquery in FROM whose enclosing query's WHERE "
                       "bounds it by a constant (WHERE rn <= K)",
                       e->name);
    case PLAN_E_STAR:
        return fail_at(b, IVM_SYNTAX, e->pos, "%s", "near \"*\": syntax error");
    default:
        return unsupported(b, e->pos, "this expression");
    }
}

/* ---- FROM ------------------------------------------------------------------ */

/* Makes rel visible in FROM as alias, its columns after the ones so far
 * (the caller builds what produces its rows). */
static ivm_rc add_range_rel(bctx *b, const plan_relation *rel, const char *alias, plan_pos pos)
{
    pctx *c = b->c;
    for (uint32_t i = 0; i < b->nranges; i++)
        if (b->ranges[i].depth == b->depth && strcasecmp(b->ranges[i].alias, alias) == 0)
            return fail_at(b, IVM_SCHEMA, pos, "ambiguous table name in FROM: %s", alias);
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
    nr[b->nranges].depth = b->depth;
    uint32_t nm = b->ncols + rel->ncols;
    uint32_t *np = rt_arena_alloc(&c->arena, sizeof *np * (nm + 1));
    bool *nh = rt_arena_alloc(&c->arena, sizeof *nh * (nm + 1));
    if (np == NULL || nh == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < nm; i++) {
        np[i] = i < b->nmerge ? b->partner[i] : UINT32_MAX;
        nh[i] = i < b->nmerge ? b->hidden[i] : false;
    }
    b->partner = np;
    b->hidden = nh;
    b->nmerge = nm;
    b->ranges = nr;
    b->types = nt;
    b->nranges++;
    b->ncols += rel->ncols;
    return IVM_OK;
}

/* A FROM item by name: a WITH table in scope, or a table or view. */
static ivm_rc add_range(bctx *b, const plan_from *f, lp_node **out)
{
    pctx *c = b->c;
    const char *alias = f->alias ? f->alias : f->name;
    const cte_scope *cte = cte_find(c, f->name);
    if (cte != NULL) {
        const plan_relation *rel = NULL;
        lp_node *root = NULL;
        ivm_rc rc = bind_cte_ref(c, cte, f->pos, &root, &rel);
        if (rc == IVM_OK)
            rc = add_range_rel(b, rel, alias, f->pos);
        if (rc != IVM_OK) {
            lp_free_exprs(root);
            return rc;
        }
        *out = root;
        return IVM_OK;
    }
    const plan_relation *rel = c->cat->lookup(c->cat->ctx, f->name);
    if (rel == NULL)
        return fail_at(b, IVM_SCHEMA, f->pos, "no such table: %s", f->name);
    ivm_rc rc = add_range_rel(b, rel, alias, f->pos);
    if (rc != IVM_OK)
        return rc;
    lp_node *scan = lp_new(c, LP_SCAN, rel->ncols);
    if (scan == NULL)
        return IVM_NOMEM;
    scan->rel_id = rel->id;
    memcpy(scan->types, rel->col_types, sizeof(ivm_type) * rel->ncols);
    *out = scan;
    return IVM_OK;
}

/* ---- ROW_NUMBER bounds ------------------------------------------------------ */

static const char *column_name(pctx *c, const plan_result_col *rc, const plan_expr *e);

/* e names column name of FROM item alias (unqualified, or by alias). */
static bool names_col(const plan_expr *e, const char *name, const char *alias)
{
    return e->kind == PLAN_E_COLUMN && strcasecmp(e->name, name) == 0 &&
           (e->table == NULL || (alias != NULL && strcasecmp(e->table, alias) == 0));
}

/* The largest row number conjunct e lets through when it bounds column
 * name of FROM item alias from above by an integer constant: rn <= K,
 * rn < K, rn = K and their mirror images (K >= rn ...).  False for anything
 * else (a lower bound, a non-integer, an expression of rn). */
static bool win_conjunct(bctx *b, const plan_expr *e, const char *name, const char *alias,
                         int64_t *max_out)
{
    if (e->kind != PLAN_E_BINARY)
        return false;
    plan_op op = e->op;
    const plan_expr *k;
    if (names_col(e->a, name, alias)) {
        k = e->b;
    } else if (names_col(e->b, name, alias)) {
        k = e->a;
        op = op == PLAN_OP_GE ? PLAN_OP_LE : op == PLAN_OP_GT ? PLAN_OP_LT
             : op == PLAN_OP_EQ ? PLAN_OP_EQ : PLAN_OP_NONE;
    } else {
        return false;
    }
    if (op != PLAN_OP_LE && op != PLAN_OP_LT && op != PLAN_OP_EQ)
        return false;
    /* Quietly: a constant that is not an integer bounds nothing here. */
    ivm_err quiet, *keep = b->c->err;
    ivm_err_clear(&quiet);
    b->c->err = &quiet;
    int64_t v = 0;
    ivm_rc rc = bind_const_int(b->c, k, "a bound", &v);
    b->c->err = keep;
    if (rc != IVM_OK)
        return false;
    if (op == PLAN_OP_LT)
        v = v == INT64_MIN ? v : v - 1;
    *max_out = v;
    return true;
}

/* Collects the conjuncts of WHERE w that bound column name (wb->refs has
 * room for every conjunct). */
static void win_scan(bctx *b, const plan_expr *w, const char *name, const char *alias,
                     win_bound *wb)
{
    if (w->kind == PLAN_E_BINARY && w->op == PLAN_OP_AND) {
        win_scan(b, w->a, name, alias, wb);
        win_scan(b, w->b, name, alias, wb);
        return;
    }
    int64_t v;
    if (!win_conjunct(b, w, name, alias, &v))
        return;
    wb->limit = wb->nrefs == 0 || v < wb->limit ? v : wb->limit;
    wb->refs[wb->nrefs++] = names_col(w->a, name, alias) ? w->a : w->b;
}

static uint32_t conjuncts(const plan_expr *w)
{
    if (w->kind == PLAN_E_BINARY && w->op == PLAN_OP_AND)
        return conjuncts(w->a) + conjuncts(w->b);
    return 1;
}

/* Looks for a bound on a ROW_NUMBER result column of FROM subquery f in
 * the enclosing query's WHERE (b->where); wb->sel is NULL when there is
 * none.  Only a single SELECT core qualifies: a compound's or a WITH
 * table's rows are not one partitioned relation. */
static ivm_rc find_win_bound(bctx *b, const plan_from *f, win_bound *wb)
{
    memset(wb, 0, sizeof *wb);
    const plan_select *sub = f->sub;
    if (b->where == NULL || sub->prior != NULL || sub->ncte > 0)
        return IVM_OK;
    for (uint32_t i = 0; i < sub->ncols; i++) {
        const plan_expr *e = sub->cols[i].expr;
        if (e->kind != PLAN_E_WINDOW)
            continue;
        const char *name = column_name(b->c, &sub->cols[i], e);
        wb->refs = rt_arena_alloc(&b->c->arena, sizeof *wb->refs * conjuncts(b->where));
        if (name == NULL || wb->refs == NULL)
            return IVM_NOMEM;
        win_scan(b, b->where, name, f->alias, wb);
        if (wb->nrefs > 0) {
            wb->sel = sub;
            wb->win = e;
            wb->limit = wb->limit < 0 ? 0 : wb->limit;
            return IVM_OK;
        }
    }
    memset(wb, 0, sizeof *wb);
    return IVM_OK;
}

/* The bound's references must read the subquery's column (combined
 * column col) once the whole FROM clause is bound (check_win_bounds). */
static ivm_rc add_win_checks(bctx *b, const win_bound *wb, uint32_t col)
{
    uint32_t n = b->nwchecks + wb->nrefs;
    const plan_expr **refs = rt_arena_alloc(&b->c->arena, sizeof *refs * n);
    uint32_t *cols = rt_arena_alloc(&b->c->arena, sizeof *cols * n);
    if (refs == NULL || cols == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < b->nwchecks; i++) {
        refs[i] = b->wcheck_ref[i];
        cols[i] = b->wcheck_col[i];
    }
    for (uint32_t i = 0; i < wb->nrefs; i++) {
        refs[b->nwchecks + i] = wb->refs[i];
        cols[b->nwchecks + i] = col;
    }
    b->wcheck_ref = refs;
    b->wcheck_col = cols;
    b->nwchecks = n;
    return IVM_OK;
}

/* After FROM: a bound that reads another column than the one it was taken
 * for (a name another FROM item also has, resolved elsewhere) would not
 * bound it (P1).  A name that does not resolve is left for WHERE's own
 * error. */
static ivm_rc check_win_bounds(bctx *b)
{
    for (uint32_t i = 0; i < b->nwchecks; i++) {
        const plan_expr *ref = b->wcheck_ref[i];
        ivm_err quiet, *keep = b->c->err;
        ivm_err_clear(&quiet);
        b->c->err = &quiet;
        uint32_t col = 0;
        ivm_rc rc = resolve_column(b, ref, &col);
        b->c->err = keep;
        if (rc == IVM_OK && col != b->wcheck_col[i])
            return fail_at(b, IVM_UNSUPPORTED, ref->pos,
                           "ROW_NUMBER() bounded through %s is not supported: the name reads "
                           "another column of FROM; give the ROW_NUMBER column a name of "
                           "its own",
                           ref->name);
    }
    b->nwchecks = 0;
    return IVM_OK;
}

/* A subquery in FROM: bound on its own (it sees no column of the outer
 * query), then a FROM item like a view. */
static ivm_rc add_subquery_range(bctx *b, const plan_from *f, lp_node **out)
{
    pctx *c = b->c;
    const plan_relation *rel = NULL;
    lp_node *root = NULL;
    win_bound wb;
    ivm_rc rc = find_win_bound(b, f, &wb);
    if (rc != IVM_OK)
        return rc;
    c->win = wb.sel != NULL ? &wb : NULL;
    rc = bind_from_query(c, f->sub, c->ctes, f->alias, 0, NULL, f->pos, &root, &rel);
    c->win = NULL;
    uint32_t off = b->ncols;
    if (rc == IVM_OK)
        rc = add_range_rel(b, rel, rel->name, f->pos);
    if (rc == IVM_OK && wb.used)
        rc = add_win_checks(b, &wb, off + wb.col);
    if (rc != IVM_OK) {
        lp_free_exprs(root);
        return rc;
    }
    *out = root;
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

static lp_node *wrap_filter(pctx *c, lp_node *in, dbsp_expr *pred);
static ivm_rc bind_from(bctx *b, const plan_from *f, lp_node **tree, dbsp_expr **cond);

/* JOIN ... USING (names) and NATURAL JOIN (the names both sides have): the
 * right item (one table, the last range) joins the columns [0, lcols) on
 * left.name = right.name for each name, ANDed into *out.  The right column
 * is then hidden from unqualified names and `*`, and the left one reads
 * coalesce(left, right), as in SQLite. */
static ivm_rc bind_using(bctx *b, const plan_from *f, uint32_t lcols, dbsp_expr **out)
{
    const range *rg = &b->ranges[b->nranges - 1];
    uint32_t n = f->natural ? rg->rel->ncols : f->nusing;
    for (uint32_t i = 0; i < n; i++) {
        const char *name = f->natural ? rg->rel->col_names[i] : f->using_[i];
        /* The left column: an unqualified name among the left ranges. */
        uint32_t lc = UINT32_MAX, rcol = UINT32_MAX;
        bool twice = false;
        for (uint32_t r = 0; r + 1 < b->nranges; r++) {
            const range *lr = &b->ranges[r];
            if (lr->depth != b->depth || lr->off >= lcols)
                continue;
            for (uint32_t j = 0; j < lr->rel->ncols; j++) {
                if (strcasecmp(lr->rel->col_names[j], name) != 0 || star_hidden(b, lr->off + j))
                    continue;
                twice = twice || lc != UINT32_MAX;
                lc = lr->off + j;
            }
        }
        for (uint32_t j = 0; j < rg->rel->ncols; j++)
            if (strcasecmp(rg->rel->col_names[j], name) == 0)
                rcol = rg->off + j;
        if (f->natural && lc == UINT32_MAX)
            continue;
        if (lc == UINT32_MAX || rcol == UINT32_MAX)
            return fail_at(b, IVM_SCHEMA, f->right->pos,
                           "cannot join using column %s - column not present in both tables",
                           name);
        if (twice)
            return fail_at(b, IVM_UNSUPPORTED, f->right->pos,
                           "JOIN ... USING a column that several tables on the left have (%s) "
                           "is not supported", name);
        dbsp_expr *l = merged_col(b, lc), *r = dbsp_expr_col(rcol, b->types[rcol]);
        dbsp_expr *eq = mk_cmp_aff(DBSP_X_EQ, col_aff(b, lc), l,
                                   col_aff(b, rcol), r);
        if (eq == NULL || and_into(out, eq) != IVM_OK)
            return IVM_NOMEM;
        /* Chain rcol after the last column merged into lc. */
        uint32_t at = lc;
        while (b->partner[at] != UINT32_MAX)
            at = b->partner[at];
        b->partner[at] = rcol;
        b->hidden[rcol] = true;
    }
    return IVM_OK;
}

/* A condition over the row of b's ranges made one over the FROM tree's
 * columns: in a subquery's scope they start at b->base, and a reference to
 * the enclosing query there cannot be placed on the tree. */
static ivm_rc tree_cond(bctx *b, const plan_from *f, dbsp_expr **cond)
{
    if (b->base == 0)
        return IVM_OK;
    if (xhas_cols(*cond) && !xcols_within(*cond, b->base, UINT32_MAX))
        return unsupported(b, f->pos, "an outer join correlated with the enclosing query");
    dbsp_expr *x = xremap(*cond, NULL, -(int64_t)b->base);
    if (x == NULL)
        return IVM_NOMEM;
    dbsp_expr_free(*cond);
    *cond = x;
    return IVM_OK;
}

/* An outer join: the left tree so far (with the inner joins' conditions
 * applied: they may not move above a join that pads the left side), the
 * right item, and ON as the join's own condition (rewrite.c decides what
 * of it may move).  Its columns are the left's then the right's, as the
 * ranges are. */
static ivm_rc bind_outer_join(bctx *b, const plan_from *f, lp_node **tree, dbsp_expr **cond)
{
    if ((f->natural || f->nusing) && f->right->kind != PLAN_F_TABLE)
        return unsupported(b, f->right->pos, "NATURAL JOIN or JOIN ... USING of a subquery");
    ivm_rc rc = bind_from(b, f->left, tree, cond);
    if (rc != IVM_OK)
        return rc;
    if (*cond != NULL) {
        rc = tree_cond(b, f, cond);
        if (rc != IVM_OK)
            return rc;
        *tree = wrap_filter(b->c, *tree, *cond);
        *cond = NULL;
        if (*tree == NULL)
            return IVM_NOMEM;
    }
    lp_node *left = *tree, *right = NULL;
    dbsp_expr *rcond = NULL;
    rc = bind_from(b, f->right, &right, &rcond);
    if (rc == IVM_OK && rcond != NULL) {
        right = wrap_filter(b->c, right, rcond);
        if (right == NULL)
            rc = IVM_NOMEM;
    }
    if (rc != IVM_OK) {
        dbsp_expr_free(rcond);
        lp_free_exprs(right);
        return rc;
    }
    lp_node *j = cross(b->c, left, right);
    if (j == NULL) {
        lp_free_exprs(right);
        return IVM_NOMEM;
    }
    j->jtype = f->jkind == PLAN_J_LEFT ? LP_J_LEFT : f->jkind == PLAN_J_RIGHT ? LP_J_RIGHT
                                                                             : LP_J_FULL;
    *tree = j;
    if (f->natural || f->nusing) {
        rc = bind_using(b, f, b->base + left->ncols, &j->pred);
    } else if (f->on != NULL) {
        if (contains_agg(f->on))
            return misuse(b, f->on);
        rc = bind_expr(b, f->on, MODE_ROW, &j->pred);
    }
    if (rc == IVM_OK && j->pred != NULL)
        rc = tree_cond(b, f, &j->pred);
    return rc;
}

static ivm_rc bind_from(bctx *b, const plan_from *f, lp_node **tree, dbsp_expr **cond)
{
    switch (f->kind) {
    case PLAN_F_TABLE:
    case PLAN_F_SUBQUERY: {
        lp_node *scan = NULL;
        ivm_rc rc = f->kind == PLAN_F_TABLE ? add_range(b, f, &scan)
                                            : add_subquery_range(b, f, &scan);
        if (rc != IVM_OK)
            return rc;
        if (*tree == NULL) {
            *tree = scan;
            return IVM_OK;
        }
        lp_node *j = cross(b->c, *tree, scan);
        if (j == NULL) {
            lp_free_exprs(scan);
            return IVM_NOMEM;
        }
        *tree = j;
        return IVM_OK;
    }
    case PLAN_F_JOIN: {
        if ((f->natural || f->nusing) && f->right->kind != PLAN_F_TABLE)
            return unsupported(b, f->right->pos, "NATURAL JOIN or JOIN ... USING of a subquery");
        if (f->right->kind == PLAN_F_JOIN)
            return unsupported(b, f->right->pos, "a parenthesised join");
        if (f->jkind == PLAN_J_LEFT || f->jkind == PLAN_J_RIGHT || f->jkind == PLAN_J_FULL)
            return bind_outer_join(b, f, tree, cond);
        ivm_rc rc = bind_from(b, f->left, tree, cond);
        uint32_t lcols = b->ncols;
        if (rc == IVM_OK)
            rc = bind_from(b, f->right, tree, cond);
        if (rc == IVM_OK && (f->natural || f->nusing)) {
            dbsp_expr *u = NULL;
            rc = bind_using(b, f, lcols, &u);
            if (rc == IVM_OK && u != NULL)
                rc = and_into(cond, u);
        }
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

/* ---- Subqueries ---------------------------------------------------------- */

/* A subquery in an expression becomes a join of the FROM tree with the
 * subquery's relation (planner/README.md, "Subqueries"):
 *
 *   x IN (sub)        semijoin on x = sub's column (and its correlation)
 *   x NOT IN (sub)    antijoin on x = y, then an antijoin with the one-row
 *                     (COUNT(*), COUNT of NULL y) of sub: SQL's NULL rules
 *   [NOT] EXISTS sub  semijoin (antijoin) on the correlation condition
 *   (sub) as a value  LEFT JOIN with sub's one row (NULL when it has none)
 *
 * A subquery is "plain" when it has no GROUP BY, aggregate, HAVING, LIMIT,
 * set operation or WITH: its FROM and WHERE are then bound in a scope that
 * sees the enclosing query's columns (depth 0) after its own (depth 1), over
 * the row (outer columns, its own columns), and its WHERE becomes the
 * join's condition: rewrite.c turns equalities into keys and moves what
 * reads only the subquery into it.  Any other subquery is bound as a query
 * of its own and may not refer to the enclosing query. */

/* The enclosing query's scope while a subquery is bound by bind_select:
 * a name found there is a correlation ivm cannot decorrelate. */
static ivm_rc outer_reference(bctx *b, const plan_expr *e)
{
    bctx *o = (bctx *)b->c->outer;
    pctx *c = b->c;
    uint32_t col;
    ivm_err quiet, *keep = c->err;
    ivm_err_clear(&quiet);
    c->err = &quiet;
    c->outer = NULL;
    ivm_rc rc = resolve_column(o, e, &col);
    c->outer = o;
    c->err = keep;
    if (rc != IVM_OK)
        return IVM_OK;
    return fail_at(b, IVM_UNSUPPORTED, e->pos,
                   "a correlated reference to %s inside a subquery with GROUP BY, "
                   "aggregates, HAVING, LIMIT, a set operation or a subquery of its own "
                   "is not supported: ivm decorrelates only subqueries without them",
                   e->name);
}

/* A condition taken apart at its ANDs (consumed). */
typedef struct conj_items {
    dbsp_expr **items;
    size_t n, cap;
} conj_items;

static void conj_items_free(conj_items *l)
{
    for (size_t i = 0; i < l->n; i++)
        dbsp_expr_free(l->items[i]);
    ivm_free(l->items);
    memset(l, 0, sizeof *l);
}

static ivm_rc conj_take(dbsp_expr *e, conj_items *l)
{
    if (e->op == DBSP_X_AND && e->nargs == 2) {
        dbsp_expr *a = e->args[0], *x = e->args[1];
        e->nargs = 0;
        dbsp_expr_free(e);
        ivm_rc rc = conj_take(a, l);
        if (rc != IVM_OK) {
            dbsp_expr_free(x);
            return rc;
        }
        return conj_take(x, l);
    }
    if (ivm_grow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items) != IVM_OK) {
        dbsp_expr_free(e);
        return IVM_NOMEM;
    }
    l->items[l->n++] = e;
    return IVM_OK;
}

static ivm_rc bind_agg_sub(bctx *b, const plan_expr *e, dbsp_expr **out);
static lp_node *count_flags(pctx *c, lp_node *agg);

/* True when e holds a subquery. */
static bool has_sub(const plan_expr *e)
{
    if (e == NULL)
        return false;
    if (e->kind == PLAN_E_IN_SELECT || e->kind == PLAN_E_EXISTS || e->kind == PLAN_E_SUBQUERY)
        return true;
    if (has_sub(e->a) || has_sub(e->b) || has_sub(e->c) || has_sub(e->filter))
        return true;
    for (uint32_t i = 0; i < e->list.n; i++)
        if (has_sub(e->list.items[i]))
            return true;
    return false;
}

static bool plain_sub(bctx *b, const plan_select *sub)
{
    if (sub->op != PLAN_C_NONE || sub->prior != NULL || sub->ncte || sub->group_by.n ||
        sub->having != NULL || sub->limit != NULL || sub->offset != NULL || has_sub(sub->where))
        return false;
    for (uint32_t i = 0; i < sub->ncols; i++)
        if (contains_agg(sub->cols[i].expr) || has_sub(sub->cols[i].expr))
            return false;
    return true;
}

/* A subquery bound as a relation: its tree (columns after the enclosing
 * query's b->ncols in the joined row), the condition of the join over
 * (outer columns, its columns) or NULL, and for IN its result column y (over
 * the same row) with its affinity.  *corr_out: the condition or y reads an
 * outer column. */
typedef struct subrel {
    lp_node *tree;
    dbsp_expr *cond;
    dbsp_expr *y;
    aff yaff;
    bool corr;
} subrel;

/* The scope of a plain subquery of b: b's ranges at depth 0, its own
 * (added by bind_from) at depth 1, over the row (b's columns, its own). */
static ivm_rc sub_scope(bctx *b, bctx *sb)
{
    pctx *c = b->c;
    memset(sb, 0, sizeof *sb);
    sb->c = c;
    sb->depth = 1;
    sb->nranges = b->nranges;
    sb->ncols = b->ncols;
    sb->ranges = rt_arena_alloc(&c->arena, sizeof *sb->ranges * (b->nranges + 1));
    sb->types = rt_arena_alloc(&c->arena, sizeof *sb->types * (b->ncols + 1));
    if (sb->ranges == NULL || sb->types == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < b->nranges; i++) {
        sb->ranges[i] = b->ranges[i];
        sb->ranges[i].depth = 0;
    }
    if (b->ncols)
        memcpy(sb->types, b->types, sizeof *sb->types * b->ncols);
    sb->base = b->ncols;
    sb->nmerge = b->nmerge;
    sb->partner = b->partner;
    sb->hidden = b->hidden;
    return IVM_OK;
}

static bool reads_below(const dbsp_expr *e, uint32_t n)
{
    return e != NULL && xhas_cols(e) && !xcols_within(e, n, UINT32_MAX);
}

static ivm_rc sub_rel(bctx *b, const plan_expr *e, bool want_y, subrel *out)
{
    pctx *c = b->c;
    const plan_select *sub = e->sub;
    memset(out, 0, sizeof *out);
    ivm_rc rc;
    if (want_y && sub->ncols != 1) {
        char msg[64];
        snprintf(msg, sizeof msg, "sub-select returns %u columns - expected 1", sub->ncols);
        return fail_at(b, IVM_SCHEMA, e->pos, "%s", msg);
    }
    if (!plain_sub(b, sub)) {
        plan_query q;
        memset(&q, 0, sizeof q);
        const void *keep_outer = c->outer;
        bool keep_view = c->for_view;
        c->outer = b;
        c->for_view = true;
        rc = bind_select(c, sub, &out->tree, &q);
        c->outer = keep_outer;
        c->for_view = keep_view;
        ivm_type t0 = q.col_types && q.ncols ? q.col_types[0] : IVM_TNULL;
        aff a0 = q.col_affs && q.ncols ? q.col_affs[0] : class_aff(t0);
        query_meta_free(&q);
        if (rc != IVM_OK)
            return rc;
        if (want_y && q.ncols != 1) {
            lp_free_exprs(out->tree);
            out->tree = NULL;
            char msg[64];
            snprintf(msg, sizeof msg, "sub-select returns %u columns - expected 1", q.ncols);
            return fail_at(b, IVM_SCHEMA, e->pos, "%s", msg);
        }
        if (want_y) {
            out->y = dbsp_expr_col(b->ncols, t0);
            out->yaff = a0;
            if (out->y == NULL)
                return IVM_NOMEM;
        }
        return IVM_OK;
    }
    /* A plain subquery: its own scope over (outer columns, its columns). */
    bctx sbb, *sb = &sbb;
    rc = sub_scope(b, sb);
    if (rc != IVM_OK)
        return rc;
    dbsp_expr *cond = NULL;
    sb->where = sub->where;
    if (sub->from != NULL) {
        rc = bind_from(sb, sub->from, &out->tree, &cond);
        if (rc == IVM_OK)
            rc = check_win_bounds(sb);
    } else {
        out->tree = lp_new(c, LP_SCAN, 0);
        rc = out->tree ? IVM_OK : IVM_NOMEM;
        if (out->tree)
            out->tree->rel_id = PLAN_REL_DUAL;
    }
    if (rc == IVM_OK && sub->where != NULL) {
        if (contains_agg(sub->where)) {
            rc = misuse(sb, sub->where);
        } else {
            dbsp_expr *w = NULL;
            rc = bind_expr(sb, sub->where, MODE_ROW, &w);
            if (rc == IVM_OK)
                rc = and_into(&cond, w);
        }
    }
    if (rc == IVM_OK && want_y && sub->cols[0].expr->kind == PLAN_E_STAR) {
        /* x IN t, x IN (SELECT * ...): the subquery's one column. */
        const plan_expr *st = sub->cols[0].expr;
        uint32_t n = 0, col = 0;
        for (uint32_t r = 0; r < sb->nranges; r++) {
            const range *rg = &sb->ranges[r];
            if (rg->depth != 1 || (st->table && strcasecmp(st->table, rg->alias) != 0))
                continue;
            for (uint32_t j = 0; j < rg->rel->ncols; j++) {
                if (!st->table && star_hidden(sb, rg->off + j))
                    continue;
                n++;
                col = rg->off + j;
            }
        }
        if (n != 1) {
            char msg[64];
            snprintf(msg, sizeof msg, "sub-select returns %u columns - expected 1", n);
            rc = fail_at(b, IVM_SCHEMA, e->pos, "%s", msg);
        } else {
            out->y = st->table ? dbsp_expr_col(col, sb->types[col]) : merged_col(sb, col);
            out->yaff = col_aff(sb, col);
            rc = out->y ? IVM_OK : IVM_NOMEM;
        }
    } else if (rc == IVM_OK && want_y) {
        rc = bind_expr(sb, sub->cols[0].expr, MODE_ROW, &out->y);
        if (rc == IVM_OK)
            out->yaff = expr_aff(sb, sub->cols[0].expr);
    }
    out->cond = cond;
    if (rc != IVM_OK) {
        lp_free_exprs(out->tree);
        dbsp_expr_free(out->cond);
        dbsp_expr_free(out->y);
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->corr = reads_below(out->cond, b->ncols) || reads_below(out->y, b->ncols);
    return IVM_OK;
}

/* sub_rel with the enclosing query's scalar subqueries refused while the
 * subquery binds: one joining the enclosing FROM tree there would land
 * among the subquery's columns. */
static ivm_rc bind_sub_rel(bctx *b, const plan_expr *e, bool want_y, subrel *out)
{
    bool keep_ok = b->sub_ok;
    b->sub_ok = false;
    ivm_rc rc = sub_rel(b, e, want_y, out);
    b->sub_ok = keep_ok;
    return rc;
}

/* A join of kind t of the tree at *b->treep with r (consumed) on cond
 * (consumed, may be NULL). */
static ivm_rc sub_join(bctx *b, lp_jtype t, lp_node *r, dbsp_expr *cond)
{
    lp_node *l = *b->treep;
    lp_node *j = lp_new(b->c, LP_JOIN, t == LP_J_SEMI || t == LP_J_ANTI ? l->ncols
                                                                        : l->ncols + r->ncols);
    if (j == NULL) {
        lp_free_exprs(r);
        dbsp_expr_free(cond);
        return IVM_NOMEM;
    }
    memcpy(j->types, l->types, sizeof(ivm_type) * l->ncols);
    if (j->ncols > l->ncols)
        memcpy(j->types + l->ncols, r->types, sizeof(ivm_type) * r->ncols);
    j->in = l;
    j->right = r;
    j->jtype = t;
    j->pred = cond;
    *b->treep = j;
    return IVM_OK;
}

static void subrel_free(subrel *r)
{
    lp_free_exprs(r->tree);
    dbsp_expr_free(r->cond);
    dbsp_expr_free(r->y);
}

/* x [NOT] IN (sub) and [NOT] EXISTS (sub) as a WHERE conjunct. */
static ivm_rc bind_where_sub(bctx *b, const plan_expr *e, bool neg)
{
    bool in = e->kind == PLAN_E_IN_SELECT;
    bool anti = neg != e->not_;
    subrel r;
    /* x first: a scalar subquery in it joins the FROM tree, and the
     * subquery's columns come after the tree's. */
    dbsp_expr *x = NULL, *x2 = NULL;
    ivm_rc rc = IVM_OK;
    if (in) {
        if (contains_agg(e->a))
            return misuse(b, e->a);
        rc = bind_expr(b, e->a, MODE_ROW, &x);
        if (rc != IVM_OK)
            return rc;
        x2 = dbsp_expr_dup(x);
        if (x2 == NULL) {
            dbsp_expr_free(x);
            return IVM_NOMEM;
        }
    }
    rc = bind_sub_rel(b, e, in, &r);
    if (rc != IVM_OK) {
        dbsp_expr_free(x);
        dbsp_expr_free(x2);
        return rc;
    }
    dbsp_expr *cond = r.cond;
    r.cond = NULL;
    if (in) {
        /* Correlated NOT IN: per outer row, the subquery's rows that pass
         * the correlation remove it when one equals x, or is NULL, or
         * (any row at all) when x is NULL. */
        bool corr_anti = anti && r.corr;
        dbsp_expr *xn = corr_anti ? mk_op(DBSP_X_ISNULL, IVM_TINT, dbsp_expr_dup(x), NULL) : NULL;
        dbsp_expr *yn = corr_anti ? mk_op(DBSP_X_ISNULL, IVM_TINT, dbsp_expr_dup(r.y), NULL)
                                  : NULL;
        dbsp_expr *eq = mk_cmp_aff(DBSP_X_EQ, expr_aff(b, e->a), x, r.yaff, r.y);
        r.y = NULL;
        if (corr_anti)
            eq = mk_op(DBSP_X_OR, IVM_TINT, mk_op(DBSP_X_OR, IVM_TINT, eq, yn), xn);
        if (eq == NULL) {
            subrel_free(&r);
            dbsp_expr_free(cond);
            dbsp_expr_free(x2);
            return IVM_NOMEM;
        }
        rc = and_into(&cond, eq);
        if (rc != IVM_OK) {
            subrel_free(&r);
            dbsp_expr_free(x2);
            return rc;
        }
        if (corr_anti) {
            dbsp_expr_free(x2);
            return sub_join(b, LP_J_ANTI, r.tree, cond);
        }
    }
    rc = sub_join(b, anti ? LP_J_ANTI : LP_J_SEMI, r.tree, cond);
    if (rc != IVM_OK || !in || !anti) {
        dbsp_expr_free(x2);
        return rc;
    }
    /* NOT IN: no NULL in sub and, unless sub is empty, a non-NULL x.  The
     * rows left by the antijoin on x = y lose those where
     * F.nulls > 0 OR (x IS NULL AND F.rows > 0), F = (COUNT(*), COUNT(*)
     * FILTER (WHERE y IS NULL)) over sub: always one row. */
    subrel f;
    rc = bind_sub_rel(b, e, true, &f);
    if (rc != IVM_OK) {
        dbsp_expr_free(x2);
        return rc;
    }
    if (f.cond != NULL) {
        /* Uncorrelated (checked above): it reads sub's columns only. */
        dbsp_expr *fc = xremap(f.cond, NULL, -(int64_t)b->ncols);
        dbsp_expr_free(f.cond);
        f.cond = NULL;
        lp_node *ft = fc ? wrap_filter(b->c, f.tree, fc) : NULL;
        if (ft == NULL) {
            subrel_free(&f);
            dbsp_expr_free(x2);
            return IVM_NOMEM;
        }
        f.tree = ft;
    }
    lp_node *agg = lp_new(b->c, LP_AGGREGATE, 2);
    lp_agg *aggs = rt_arena_alloc(&b->c->arena, sizeof *aggs * 2);
    dbsp_expr *y = xremap(f.y, NULL, -(int64_t)b->ncols);
    if (agg == NULL || aggs == NULL || y == NULL) {
        dbsp_expr_free(y);
        dbsp_expr_free(x2);
        subrel_free(&f);
        return IVM_NOMEM;
    }
    memset(aggs, 0, sizeof *aggs * 2);
    aggs[0].kind = aggs[1].kind = DBSP_AGG_COUNT_STAR;
    aggs[0].type = aggs[1].type = IVM_TINT;
    aggs[1].filter = mk_op(DBSP_X_ISNULL, IVM_TINT, y, NULL);
    agg->in = f.tree;
    agg->aggs = aggs;
    agg->naggs = 2;
    agg->types[0] = agg->types[1] = IVM_TINT;
    f.tree = NULL;
    subrel_free(&f);
    if (aggs[1].filter == NULL) {
        lp_free_exprs(agg);
        agg = NULL;
    } else {
        agg = count_flags(b->c, agg);
    }
    if (agg == NULL) {
        dbsp_expr_free(x2);
        return IVM_NOMEM;
    }
    ivm_value zero = ivm_value_int(0);
    uint32_t n = b->ncols;
    dbsp_expr *rows_pos = mk_op(DBSP_X_GT, IVM_TINT, dbsp_expr_col(n, IVM_TINT),
                                dbsp_expr_const(&zero));
    dbsp_expr *nulls_pos = mk_op(DBSP_X_GT, IVM_TINT, dbsp_expr_col(n + 1, IVM_TINT),
                                 dbsp_expr_const(&zero));
    dbsp_expr *xnull = mk_op(DBSP_X_ISNULL, IVM_TINT, x2, NULL);
    dbsp_expr *drop = mk_op(DBSP_X_OR, IVM_TINT, nulls_pos,
                            mk_op(DBSP_X_AND, IVM_TINT, xnull, rows_pos));
    if (drop == NULL) {
        lp_free_exprs(agg);
        return IVM_NOMEM;
    }
    return sub_join(b, LP_J_ANTI, agg, drop);
}

/* (group..., rows > 0, nulls > 0) of the rows (group..., rows, nulls) of
 * agg (consumed, freed on failure): a row changes only when its group
 * becomes empty or not, or gains or loses its last NULL, so the join with
 * it that NOT IN and IN as a value make (on no key, or on the correlation)
 * redoes its rows rarely. */
static lp_node *count_flags(pctx *c, lp_node *agg)
{
    uint32_t ng = agg->nexprs;
    lp_node *m = lp_new(c, LP_MAP, ng + 2);
    dbsp_expr **ex = rt_arena_alloc(&c->arena, sizeof *ex * (ng + 2));
    ivm_value zero = ivm_value_int(0);
    if (m == NULL || ex == NULL) {
        lp_free_exprs(agg);
        return NULL;
    }
    for (uint32_t i = 0; i < ng + 2; i++) {
        ex[i] = i < ng ? dbsp_expr_col(i, agg->types[i])
                       : mk_op(DBSP_X_GT, IVM_TINT, dbsp_expr_col(i, IVM_TINT),
                               dbsp_expr_const(&zero));
        if (ex[i] == NULL) {
            for (uint32_t j = 0; j < i; j++)
                dbsp_expr_free(ex[j]);
            lp_free_exprs(agg);
            return NULL;
        }
        m->types[i] = i < ng ? agg->types[i] : IVM_TINT;
    }
    m->in = agg;
    m->nexprs = ng + 2;
    m->exprs = ex;
    return m;
}

/* True when the tree of a bound query yields at most one row. */
static bool one_row(const lp_node *n)
{
    switch (n->kind) {
    case LP_MAP: case LP_FILTER: case LP_DISTINCT:
        return one_row(n->in);
    case LP_AGGREGATE:
        return n->nexprs == 0;
    case LP_SCAN:
        return n->rel_id == PLAN_REL_DUAL;
    default:
        return false;
    }
}

/* Placeholder columns of scalar subqueries over an aggregate's output. */
#define POST_BASE 0x40000000u

/* Placeholder column POST_BASE + j becomes column at + j, in place. */
static void post_remap(dbsp_expr *e, uint32_t at)
{
    if (e == NULL)
        return;
    if (e->op == DBSP_X_COL && e->col >= POST_BASE)
        e->col = at + (e->col - POST_BASE);
    for (uint32_t i = 0; i < e->nargs; i++)
        post_remap(e->args[i], at);
}

/* (sub) as a value: a LEFT JOIN of the FROM tree with sub's one row (or
 * none, which pads the value with NULL, as SQL's empty scalar subquery);
 * the value is the new last column of the joined row. */
static ivm_rc bind_scalar_sub(bctx *b, const plan_expr *e, bmode mode, dbsp_expr **out)
{
    if (b->treep == NULL || !b->sub_ok)
        return fail_at(b, IVM_UNSUPPORTED, e->pos, "%s",
                       "a scalar subquery is not supported here: ivm maintains it in WHERE, "
                       "GROUP BY, HAVING and result columns (not in ON or inside a "
                       "correlated subquery)");
    const plan_select *sub = e->sub;
    if (sub->ncols != 1) {
        char msg[64];
        snprintf(msg, sizeof msg, "sub-select returns %u columns - expected 1", sub->ncols);
        return fail_at(b, IVM_SCHEMA, e->pos, "%s", msg);
    }
    if (sub->op == PLAN_C_NONE && sub->prior == NULL && sub->ncte == 0 && sub->from != NULL &&
        sub->group_by.n == 0 && sub->having == NULL && sub->limit == NULL &&
        sub->offset == NULL && sub->cols[0].expr->kind != PLAN_E_STAR &&
        contains_agg(sub->cols[0].expr) && !has_sub(sub->where) &&
        !has_sub(sub->cols[0].expr) && mode == MODE_ROW)
        return bind_agg_sub(b, e, out);
    pctx *c = b->c;
    plan_query q;
    memset(&q, 0, sizeof q);
    const void *keep_outer = c->outer;
    bool keep_view = c->for_view;
    c->outer = b;
    c->for_view = true;
    lp_node *t = NULL;
    ivm_rc rc = bind_select(c, sub, &t, &q);
    c->outer = keep_outer;
    c->for_view = keep_view;
    query_meta_free(&q);
    if (rc == IVM_UNSUPPORTED && strstr(c->err->msg, "correlated reference") != NULL) {
        if (mode == MODE_AGG)
            return ivm_err_reset(c->err, IVM_UNSUPPORTED, e->pos.line, e->pos.col, "%s",
                                 "a correlated scalar subquery in an aggregate query's "
                                 "results or HAVING is not supported");
        return ivm_err_reset(c->err, IVM_UNSUPPORTED, e->pos.line, e->pos.col, "%s",
                             "a correlated scalar subquery of this form is not supported: ivm "
                             "maintains a correlated one that is an aggregate without "
                             "GROUP BY, HAVING or LIMIT, correlated by equalities");
    }
    if (rc != IVM_OK)
        return rc;
    if (!one_row(t)) {
        lp_free_exprs(t);
        return fail_at(b, IVM_UNSUPPORTED, e->pos, "%s",
                       "a scalar subquery that may return more than one row is not "
                       "supported: ivm maintains one that is an aggregate without GROUP BY "
                       "(or has no FROM)");
    }
    if (mode == MODE_AGG) {
        /* Over the aggregate's output: joined above it (bind_select), read
         * through a placeholder column that post_remap resolves. */
        lp_node **np = rt_arena_alloc(&c->arena, sizeof *np * (b->npost + 1));
        if (np == NULL) {
            lp_free_exprs(t);
            return IVM_NOMEM;
        }
        if (b->npost)
            memcpy(np, b->post, sizeof *np * b->npost);
        np[b->npost] = t;
        b->post = np;
        *out = dbsp_expr_col(POST_BASE + b->npost++, t->types[0]);
        return *out ? IVM_OK : IVM_NOMEM;
    }
    ivm_type *nt = rt_arena_alloc(&c->arena, sizeof *nt * (b->ncols + 2));
    if (nt == NULL) {
        lp_free_exprs(t);
        return IVM_NOMEM;
    }
    if (b->ncols)
        memcpy(nt, b->types, sizeof *nt * b->ncols);
    nt[b->ncols] = t->types[0];
    rc = sub_join(b, LP_J_LEFT, t, NULL);
    if (rc != IVM_OK)
        return rc;
    b->types = nt;
    *out = dbsp_expr_col(b->ncols, nt[b->ncols]);
    b->ncols++;
    return *out ? IVM_OK : IVM_NOMEM;
}

/* Takes a subquery's condition (cond, over (outer columns, its columns),
 * consumed) apart for a join with a relation keyed by the correlation:
 * conjuncts over its own columns only are ANDed into *inner (over its
 * columns); each equality outer = inner-expression gives a key: the inner
 * expression (over its columns) in (*keys)[i] and `outer = column nout + i`
 * in *pred.  Anything else is refused, naming `what`.  A key of unknown
 * class reads through numkey so that values SQL finds equal (2, 2.0) are
 * one key. */
static ivm_rc corr_split(bctx *b, const plan_expr *e, dbsp_expr *cond, uint32_t nout,
                         const char *what, dbsp_expr **inner, dbsp_expr ***keys,
                         uint32_t *nkeys, dbsp_expr **pred)
{
    conj_items conj = {0};
    ivm_rc rc = cond ? conj_take(cond, &conj) : IVM_OK;
    *keys = rt_arena_alloc(&b->c->arena, sizeof **keys * (conj.n + 1));
    if (rc == IVM_OK && *keys == NULL)
        rc = IVM_NOMEM;
    for (uint32_t i = 0; i < conj.n && rc == IVM_OK; i++) {
        dbsp_expr *x = conj.items[i];
        if (!reads_below(x, nout)) {
            dbsp_expr *sh = xremap(x, NULL, -(int64_t)nout);
            rc = sh ? and_into(inner, sh) : IVM_NOMEM;
            continue;
        }
        dbsp_expr *o = NULL, *k = NULL;
        if (x->op == DBSP_X_EQ && x->nargs == 2) {
            for (int s2 = 0; s2 < 2; s2++) {
                dbsp_expr *p0 = x->args[s2], *p1 = x->args[1 - s2];
                if (xhas_cols(p0) && xcols_within(p0, 0, nout) && xhas_cols(p1) &&
                    !reads_below(p1, nout)) {
                    o = p0;
                    k = p1;
                }
            }
        }
        if (o == NULL) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s correlated other than by equalities (outer "
                     "expression = subquery expression, ANDed) is not supported here", what);
            rc = fail_at(b, IVM_UNSUPPORTED, e->pos, "%s", msg);
            break;
        }
        dbsp_expr *gk = xremap(k, NULL, -(int64_t)nout);
        if (gk != NULL && gk->type == IVM_TNULL) {
            dbsp_expr *a1[1] = {gk};
            gk = dbsp_expr_func(DBSP_FN_NUMKEY, IVM_TNULL, 1, a1);
        }
        dbsp_expr *ok = dbsp_expr_dup(o);
        dbsp_expr *gc = gk ? dbsp_expr_col(nout + *nkeys, gk->type) : NULL;
        dbsp_expr *eq = mk_op(DBSP_X_EQ, IVM_TINT, ok, gc);
        if (gk == NULL || eq == NULL) {
            dbsp_expr_free(gk);
            dbsp_expr_free(eq);
            rc = IVM_NOMEM;
            break;
        }
        (*keys)[(*nkeys)++] = gk;
        rc = and_into(pred, eq);
    }
    conj_items_free(&conj);
    return rc;
}

/* The value of an aggregate over no rows: COUNT 0, TOTAL 0.0, else NULL.
 * Returns a copy of v (over the aggregate's columns, the first ngroup being
 * the group) in which every COUNT and TOTAL column reads as that value
 * when it is NULL (the LEFT join found no group). */
static dbsp_expr *empty_group_value(const dbsp_expr *v, uint32_t ngroup, const lp_agg *aggs)
{
    if (v->op == DBSP_X_COL && v->col >= ngroup) {
        dbsp_agg_kind k = aggs[v->col - ngroup].kind;
        dbsp_expr *x = dbsp_expr_dup(v);
        if (x == NULL || (k != DBSP_AGG_COUNT && k != DBSP_AGG_COUNT_STAR && k != DBSP_AGG_TOTAL))
            return x;
        ivm_value z = k == DBSP_AGG_TOTAL ? ivm_value_real(0.0) : ivm_value_int(0);
        dbsp_expr *args[2] = {x, dbsp_expr_const(&z)};
        if (args[1] == NULL) {
            dbsp_expr_free(x);
            return NULL;
        }
        return dbsp_expr_func(DBSP_FN_COALESCE, v->type, 2, args);
    }
    dbsp_expr *d = dbsp_expr_dup(v);
    if (d == NULL)
        return NULL;
    for (uint32_t i = 0; i < d->nargs; i++) {
        dbsp_expr *a = empty_group_value(v->args[i], ngroup, aggs);
        if (a == NULL) {
            dbsp_expr_free(d);
            return NULL;
        }
        dbsp_expr_free(d->args[i]);
        d->args[i] = a;
    }
    return d;
}

/* (SELECT f(aggregates) FROM ... WHERE ...) as a value, correlated through
 * equalities outer_i = inner_i (or not at all): GROUP BY the inner_i of the
 * subquery's rows that pass its other conditions, then a LEFT join of the
 * FROM tree with the groups on outer_i = group_i.  A row without a group
 * sees the aggregates of no rows (empty_group_value).  The value is
 * computed over the joined row. */
static ivm_rc bind_agg_sub(bctx *b, const plan_expr *e, dbsp_expr **out)
{
    pctx *c = b->c;
    const plan_select *sub = e->sub;
    uint32_t nout = b->ncols;
    bctx sbb, *sb = &sbb;
    ivm_rc rc = sub_scope(b, sb);
    if (rc != IVM_OK)
        return rc;
    lp_node *in = NULL;
    dbsp_expr *cond = NULL, *val = NULL, *pred = NULL, *inner = NULL;
    uint32_t nkeys = 0;
    dbsp_expr **gkeys = NULL;
    rc = bind_from(sb, sub->from, &in, &cond);
    if (rc == IVM_OK && sub->where != NULL) {
        if (contains_agg(sub->where)) {
            rc = misuse(sb, sub->where);
        } else {
            dbsp_expr *w = NULL;
            rc = bind_expr(sb, sub->where, MODE_ROW, &w);
            if (rc == IVM_OK)
                rc = and_into(&cond, w);
        }
    }
    if (rc == IVM_OK)
        rc = corr_split(b, e, cond, nout, "a scalar subquery", &inner, &gkeys, &nkeys, &pred);
    cond = NULL;
    /* The value, over (group keys, aggregates) of the subquery's rows. */
    if (rc == IVM_OK) {
        sb->ngroup = nkeys;
        sb->group = rt_arena_alloc(&c->arena, sizeof *sb->group * (nkeys + 1));
        if (sb->group == NULL)
            rc = IVM_NOMEM;
        for (uint32_t i = 0; i < nkeys && rc == IVM_OK; i++) {
            sb->group[i] = xremap(gkeys[i], NULL, nout);
            if (sb->group[i] == NULL)
                rc = IVM_NOMEM;
        }
        if (rc == IVM_OK)
            rc = bind_expr(sb, sub->cols[0].expr, MODE_AGG, &val);
        for (uint32_t i = 0; i < nkeys && sb->group; i++)
            dbsp_expr_free(sb->group[i]);
    }
    for (uint32_t i = 0; i < sb->naggs && rc == IVM_OK; i++) {
        lp_agg *g = &sb->aggs[i];
        if (reads_below(g->arg, nout) || reads_below(g->sep, nout) ||
            reads_below(g->filter, nout)) {
            rc = fail_at(b, IVM_UNSUPPORTED, e->pos, "%s",
                         "an aggregate over columns of the enclosing query inside a scalar "
                         "subquery is not supported");
            break;
        }
        dbsp_expr **ops[3] = {&g->arg, &g->sep, &g->filter};
        for (int j = 0; j < 3 && rc == IVM_OK; j++) {
            if (*ops[j] == NULL)
                continue;
            dbsp_expr *sh = xremap(*ops[j], NULL, -(int64_t)nout);
            dbsp_expr_free(*ops[j]);
            *ops[j] = sh;
            if (sh == NULL)
                rc = IVM_NOMEM;
        }
    }
    lp_node *agg = NULL;
    if (rc == IVM_OK && inner != NULL) {
        in = wrap_filter(c, in, inner);
        inner = NULL;
        if (in == NULL)
            rc = IVM_NOMEM;
    }
    if (rc == IVM_OK) {
        agg = lp_new(c, LP_AGGREGATE, nkeys + sb->naggs);
        lp_agg *aggs = rt_arena_alloc(&c->arena, sizeof *aggs * (sb->naggs + 1));
        if (agg == NULL || aggs == NULL) {
            rc = IVM_NOMEM;
        } else {
            if (sb->naggs)
                memcpy(aggs, sb->aggs, sizeof *aggs * sb->naggs);
            agg->in = in;
            in = NULL;
            agg->nexprs = nkeys;
            agg->exprs = gkeys;
            for (uint32_t i = 0; i < nkeys; i++)
                agg->types[i] = gkeys[i]->type;
            nkeys = 0;
            agg->aggs = aggs;
            agg->naggs = sb->naggs;
            for (uint32_t i = 0; i < sb->naggs; i++)
                agg->types[agg->nexprs + i] = aggs[i].type;
            ivm_free(sb->aggs);
            sb->aggs = NULL;
            sb->naggs = 0;
        }
    }
    dbsp_expr *v2 = NULL;
    if (rc == IVM_OK) {
        dbsp_expr *ev = empty_group_value(val, agg->nexprs, agg->aggs);
        v2 = ev ? xremap(ev, NULL, nout) : NULL;
        dbsp_expr_free(ev);
        if (v2 == NULL)
            rc = IVM_NOMEM;
    }
    ivm_type *nt = NULL;
    if (rc == IVM_OK) {
        nt = rt_arena_alloc(&c->arena, sizeof *nt * (nout + agg->ncols + 1));
        if (nt == NULL)
            rc = IVM_NOMEM;
    }
    if (rc == IVM_OK) {
        if (nout)
            memcpy(nt, b->types, sizeof *nt * nout);
        memcpy(nt + nout, agg->types, sizeof *nt * agg->ncols);
        uint32_t na = agg->ncols;
        rc = sub_join(b, LP_J_LEFT, agg, pred);
        agg = NULL;
        pred = NULL;
        if (rc == IVM_OK) {
            b->types = nt;
            b->ncols = nout + na;
            *out = v2;
            v2 = NULL;
        }
    }
    dbsp_expr_free(v2);
    dbsp_expr_free(val);
    dbsp_expr_free(pred);
    dbsp_expr_free(inner);
    dbsp_expr_free(cond);
    for (uint32_t i = 0; i < nkeys; i++)
        dbsp_expr_free(gkeys[i]);
    for (uint32_t i = 0; i < sb->naggs; i++)
        lp_agg_fini(&sb->aggs[i]);
    ivm_free(sb->aggs);
    lp_free_exprs(agg);
    lp_free_exprs(in);
    return rc;
}

/* Extends the joined row by a relation's columns (after sub_join). */
static ivm_rc grow_row(bctx *b, const lp_node *r)
{
    ivm_type *nt = rt_arena_alloc(&b->c->arena, sizeof *nt * (b->ncols + r->ncols + 1));
    if (nt == NULL)
        return IVM_NOMEM;
    if (b->ncols)
        memcpy(nt, b->types, sizeof *nt * b->ncols);
    memcpy(nt + b->ncols, r->types, sizeof *nt * r->ncols);
    b->types = nt;
    b->ncols += r->ncols;
    return IVM_OK;
}

/* DISTINCT (exprs..., 1) of tree t (exprs over t's columns, consumed):
 * the set a LEFT join may read without multiplying rows. */
static lp_node *flag_set(pctx *c, lp_node *t, uint32_t n, dbsp_expr **exprs)
{
    lp_node *m = lp_new(c, LP_MAP, n + 1);
    lp_node *d = lp_new(c, LP_DISTINCT, n + 1);
    dbsp_expr **ex = rt_arena_alloc(&c->arena, sizeof *ex * (n + 2));
    ivm_value one = ivm_value_int(1);
    if (m == NULL || d == NULL || ex == NULL || (ex[n] = dbsp_expr_const(&one)) == NULL) {
        for (uint32_t i = 0; i < n; i++)
            dbsp_expr_free(exprs[i]);
        return NULL;
    }
    memcpy(ex, exprs, sizeof *ex * n);
    for (uint32_t i = 0; i <= n; i++)
        m->types[i] = d->types[i] = ex[i]->type;
    m->in = t;
    m->nexprs = n + 1;
    m->exprs = ex;
    d->in = m;
    return d;
}

/* [NOT] EXISTS (sub) and x [NOT] IN (sub) as values (under OR, in result
 * columns ...): a LEFT join of the FROM tree with a set of flags.
 *   EXISTS: sub correlated by equalities outer_i = inner_i (or not at all):
 *     D = DISTINCT (inner_i..., 1) of sub's rows; EXISTS is D.flag IS NOT
 *     NULL after the LEFT join on outer_i = D.inner_i.
 *   IN, uncorrelated: D = DISTINCT (numkey(y), 1), LEFT join on x = D.y,
 *     and the one row F = (COUNT(*), COUNT(*) FILTER (WHERE y IS NULL)):
 *     CASE WHEN D.flag THEN 1 WHEN F.rows = 0 THEN 0 WHEN x IS NULL OR
 *     F.nulls > 0 THEN NULL ELSE 0 END, SQL's three-valued IN. */
static ivm_rc bind_sub_value(bctx *b, const plan_expr *e, dbsp_expr **out)
{
    pctx *c = b->c;
    bool in = e->kind == PLAN_E_IN_SELECT;
    /* x first: a scalar subquery in it joins the FROM tree, and the
     * subquery's columns come after the tree's. */
    dbsp_expr *x = NULL;
    ivm_rc rc = IVM_OK;
    if (in) {
        rc = contains_agg(e->a) ? misuse(b, e->a) : bind_expr(b, e->a, MODE_ROW, &x);
        if (rc != IVM_OK)
            return rc;
    }
    uint32_t nout = b->ncols;
    subrel r;
    rc = bind_sub_rel(b, e, in, &r);
    if (rc != IVM_OK) {
        dbsp_expr_free(x);
        return rc;
    }
    dbsp_expr *inner = NULL, *pred = NULL, **keys = NULL;
    uint32_t nkeys = 0;
    if (!in) {
        rc = corr_split(b, e, r.cond, nout, "EXISTS (subquery) as a value", &inner, &keys,
                        &nkeys, &pred);
        r.cond = NULL;
        lp_node *t = r.tree;
        r.tree = NULL;
        if (rc == IVM_OK && inner != NULL) {
            t = wrap_filter(c, t, inner);
            inner = NULL;
            if (t == NULL)
                rc = IVM_NOMEM;
        }
        lp_node *d = NULL;
        if (rc == IVM_OK) {
            d = flag_set(c, t, nkeys, keys);
            nkeys = 0;
            if (d == NULL)
                rc = IVM_NOMEM;
        }
        if (rc != IVM_OK) {
            for (uint32_t i = 0; i < nkeys; i++)
                dbsp_expr_free(keys[i]);
            dbsp_expr_free(inner);
            dbsp_expr_free(pred);
            lp_free_exprs(t);
            subrel_free(&r);
            return rc;
        }
        uint32_t flag = nout + d->ncols - 1;
        rc = sub_join(b, LP_J_LEFT, d, pred);
        if (rc == IVM_OK)
            rc = grow_row(b, d);
        if (rc != IVM_OK)
            return rc;
        *out = mk_op(e->not_ ? DBSP_X_ISNULL : DBSP_X_NOTNULL, IVM_TINT,
                     dbsp_expr_col(flag, IVM_TINT), NULL);
        return *out ? IVM_OK : IVM_NOMEM;
    }
    /* x = y with SQLite's conversions; y's side over sub's columns. */
    rc = corr_split(b, e, r.cond, nout, "IN (subquery) as a value", &inner, &keys, &nkeys,
                    &pred);
    r.cond = NULL;
    dbsp_expr *eq = NULL;
    if (rc == IVM_OK) {
        eq = mk_cmp_aff(DBSP_X_EQ, expr_aff(b, e->a), x, r.yaff, r.y);
        r.y = NULL;
    } else {
        dbsp_expr_free(x);
    }
    x = NULL;
    lp_node *t = r.tree;
    r.tree = NULL;
    subrel_free(&r);
    if (rc == IVM_OK && eq == NULL)
        rc = IVM_NOMEM;
    dbsp_expr *yk = NULL;
    if (rc == IVM_OK) {
        yk = xremap(eq->args[1], NULL, -(int64_t)nout);
        if (yk != NULL && yk->type != IVM_TTEXT && yk->type != IVM_TINT) {
            ivm_type ty = yk->type;
            dbsp_expr *a1[1] = {yk};
            yk = dbsp_expr_func(DBSP_FN_NUMKEY, ty == IVM_TREAL ? IVM_TREAL : IVM_TNULL, 1, a1);
        }
        if (yk == NULL)
            rc = IVM_NOMEM;
    }
    if (rc == IVM_OK && inner != NULL) {
        t = wrap_filter(c, t, inner);
        inner = NULL;
        if (t == NULL)
            rc = IVM_NOMEM;
    }
    /* D = DISTINCT (keys..., y, 1), joined on the keys and x = D.y. */
    lp_node *d = NULL;
    if (rc == IVM_OK) {
        dbsp_expr **ex = rt_arena_alloc(&c->arena, sizeof *ex * (nkeys + 2));
        if (ex == NULL) {
            rc = IVM_NOMEM;
        } else {
            if (nkeys)
                memcpy(ex, keys, sizeof *ex * nkeys);
            ex[nkeys] = yk;
            d = flag_set(c, t, nkeys + 1, ex);
            t = NULL;
            nkeys = 0;
            yk = NULL;
            if (d == NULL)
                rc = IVM_NOMEM;
        }
    }
    dbsp_expr *xv = NULL, *xnull = NULL;
    if (rc == IVM_OK) {
        uint32_t ycol = nout + d->ncols - 2;
        xv = dbsp_expr_dup(eq->args[0]);
        xnull = mk_op(DBSP_X_ISNULL, IVM_TINT, dbsp_expr_dup(eq->args[0]), NULL);
        dbsp_expr *jp = mk_op(DBSP_X_EQ, IVM_TINT, xv, dbsp_expr_col(ycol, d->types[d->ncols - 2]));
        if (jp == NULL || xnull == NULL || and_into(&pred, jp) != IVM_OK)
            rc = IVM_NOMEM;
    }
    dbsp_expr_free(eq);
    if (rc != IVM_OK) {
        for (uint32_t i = 0; i < nkeys; i++)
            dbsp_expr_free(keys[i]);
        dbsp_expr_free(yk);
        dbsp_expr_free(inner);
        dbsp_expr_free(pred);
        dbsp_expr_free(xnull);
        lp_free_exprs(t);
        lp_free_exprs(d);
        return rc;
    }
    uint32_t flag = nout + d->ncols - 1;
    rc = sub_join(b, LP_J_LEFT, d, pred);
    pred = NULL;
    if (rc == IVM_OK)
        rc = grow_row(b, d);
    if (rc != IVM_OK) {
        dbsp_expr_free(xnull);
        return rc;
    }
    /* F = (keys..., rows > 0, nulls > 0) per correlation key, joined on
     * the keys: no row means no row of sub for this key. */
    uint32_t fo = b->ncols;
    subrel f;
    rc = bind_sub_rel(b, e, true, &f);
    if (rc != IVM_OK) {
        dbsp_expr_free(xnull);
        return rc;
    }
    dbsp_expr *finner = NULL, *fpred = NULL, **fkeys = NULL;
    uint32_t nfk = 0;
    rc = corr_split(b, e, f.cond, fo, "IN (subquery) as a value", &finner, &fkeys, &nfk, &fpred);
    f.cond = NULL;
    lp_node *ft = f.tree;
    f.tree = NULL;
    dbsp_expr *y = rc == IVM_OK ? xremap(f.y, NULL, -(int64_t)fo) : NULL;
    subrel_free(&f);
    if (rc == IVM_OK && y == NULL)
        rc = IVM_NOMEM;
    if (rc == IVM_OK && finner != NULL) {
        ft = wrap_filter(c, ft, finner);
        finner = NULL;
        if (ft == NULL)
            rc = IVM_NOMEM;
    }
    lp_node *agg = rc == IVM_OK ? lp_new(c, LP_AGGREGATE, nfk + 2) : NULL;
    lp_agg *aggs = rt_arena_alloc(&c->arena, sizeof *aggs * 2);
    if (rc == IVM_OK && (agg == NULL || aggs == NULL))
        rc = IVM_NOMEM;
    if (rc != IVM_OK) {
        for (uint32_t i = 0; i < nfk; i++)
            dbsp_expr_free(fkeys[i]);
        dbsp_expr_free(finner);
        dbsp_expr_free(fpred);
        dbsp_expr_free(y);
        dbsp_expr_free(xnull);
        lp_free_exprs(ft);
        return rc;
    }
    memset(aggs, 0, sizeof *aggs * 2);
    aggs[0].kind = aggs[1].kind = DBSP_AGG_COUNT_STAR;
    aggs[0].type = aggs[1].type = IVM_TINT;
    aggs[1].filter = mk_op(DBSP_X_ISNULL, IVM_TINT, y, NULL);
    agg->in = ft;
    agg->nexprs = nfk;
    agg->exprs = fkeys;
    for (uint32_t i = 0; i < nfk; i++)
        agg->types[i] = fkeys[i]->type;
    agg->aggs = aggs;
    agg->naggs = 2;
    agg->types[nfk] = agg->types[nfk + 1] = IVM_TINT;
    if (aggs[1].filter == NULL) {
        lp_free_exprs(agg);
        agg = NULL;
    } else {
        agg = count_flags(c, agg);
    }
    if (agg == NULL) {
        dbsp_expr_free(fpred);
        dbsp_expr_free(xnull);
        return IVM_NOMEM;
    }
    rc = sub_join(b, LP_J_LEFT, agg, fpred);
    if (rc == IVM_OK)
        rc = grow_row(b, agg);
    if (rc != IVM_OK) {
        dbsp_expr_free(xnull);
        return rc;
    }
    uint32_t frows = fo + nfk, fnulls = fo + nfk + 1;
    ivm_value zero = ivm_value_int(0), one = ivm_value_int(1), null = ivm_value_null();
    dbsp_expr *args[7], *cz[2];
    cz[0] = dbsp_expr_col(frows, IVM_TINT);
    cz[1] = dbsp_expr_const(&zero);
    args[0] = mk_op(DBSP_X_NOTNULL, IVM_TINT, dbsp_expr_col(flag, IVM_TINT), NULL);
    args[1] = dbsp_expr_const(&one);
    args[2] = mk_op(DBSP_X_EQ, IVM_TINT, dbsp_expr_func(DBSP_FN_COALESCE, IVM_TINT, 2, cz),
                    dbsp_expr_const(&zero));
    args[3] = dbsp_expr_const(&zero);
    args[4] = mk_op(DBSP_X_OR, IVM_TINT, xnull,
                    mk_op(DBSP_X_GT, IVM_TINT, dbsp_expr_col(fnulls, IVM_TINT),
                          dbsp_expr_const(&zero)));
    args[5] = dbsp_expr_const(&null);
    args[6] = dbsp_expr_const(&zero);
    dbsp_expr *v = dbsp_expr_op(DBSP_X_CASE, IVM_TINT, 7, args);
    if (v != NULL && e->not_)
        v = mk_op(DBSP_X_NOT, IVM_TINT, v, NULL);
    *out = v;
    return v ? IVM_OK : IVM_NOMEM;
}

/* WHERE: conjuncts [NOT] IN (sub) and [NOT] EXISTS (sub) become semi and
 * anti joins of the FROM tree; the others are ANDed into *cond. */
static ivm_rc bind_where(bctx *b, const plan_expr *w, dbsp_expr **cond)
{
    if (w->kind == PLAN_E_BINARY && w->op == PLAN_OP_AND) {
        ivm_rc rc = bind_where(b, w->a, cond);
        return rc == IVM_OK ? bind_where(b, w->b, cond) : rc;
    }
    bool neg = false;
    const plan_expr *x = w;
    while (x->kind == PLAN_E_UNARY && x->op == PLAN_OP_NOT &&
           (x->a->kind == PLAN_E_IN_SELECT || x->a->kind == PLAN_E_EXISTS ||
            (x->a->kind == PLAN_E_UNARY && x->a->op == PLAN_OP_NOT))) {
        neg = !neg;
        x = x->a;
    }
    if (x->kind == PLAN_E_IN_SELECT || x->kind == PLAN_E_EXISTS)
        return bind_where_sub(b, x, neg);
    dbsp_expr *e = NULL;
    ivm_rc rc = bind_expr(b, w, MODE_ROW, &e);
    return rc == IVM_OK ? and_into(cond, e) : rc;
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
            for (uint32_t j = 0; j < b->ranges[r].rel->ncols; j++)
                n += e->table || !star_hidden(b, b->ranges[r].off + j);
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
            oc[k].aff = expr_aff(b, e);
            k++;
            continue;
        }
        for (uint32_t r = 0; r < b->nranges; r++) {
            if (e->table && strcasecmp(e->table, b->ranges[r].alias) != 0)
                continue;
            for (uint32_t j = 0; j < b->ranges[r].rel->ncols; j++) {
                if (!e->table && star_hidden(b, b->ranges[r].off + j))
                    continue;
                oc[k].expr = NULL;
                oc[k].merged = e->table == NULL;
                oc[k].col = b->ranges[r].off + j;
                oc[k].name = b->ranges[r].rel->col_names[j];
                oc[k].alias = NULL;
                oc[k].pos = e->pos;
                oc[k].aff = col_aff(b, oc[k].col);
                k++;
            }
        }
    }
    *out = oc;
    *n_out = n;
    return IVM_OK;
}

/* A GROUP BY key typed REAL (x, consumed) as a REAL: SQLite puts 2 and 2.0
 * in one group, and an expression typed REAL (CASE with an INTEGER and a
 * REAL branch, a view's such column) may yield the INTEGER 2.  Its group
 * then shows 2.0, where SQLite shows the value of whichever row it met
 * last.  A table's REAL column holds only REALs and is left as it is. */
static dbsp_expr *mk_cast_real(dbsp_expr *x)
{
    return mk_op(DBSP_X_CAST, IVM_TREAL, x, NULL);
}

/* True if x, typed REAL, may yield an INTEGER: anything but a table's REAL
 * column. */
static bool real_may_be_int(const bctx *b, const dbsp_expr *x)
{
    if (x == NULL || x->type != IVM_TREAL)
        return false;
    if (x->op == DBSP_X_COL)
        for (uint32_t i = 0; i < b->nranges; i++) {
            const range *r = &b->ranges[i];
            if (x->col >= r->off && x->col - r->off < r->rel->ncols)
                return r->rel->kind != PLAN_REL_TABLE;
        }
    return true;
}

static dbsp_expr *real_key(const bctx *b, dbsp_expr *x)
{
    return real_may_be_int(b, x) ? mk_cast_real(x) : x;
}

/* GROUP BY keys typed REAL that may yield an INTEGER (real_may_be_int;
 * fix[i] for keys[i]).  SQLite puts 2 and 2.0 in one group and shows the
 * value of a row of the group: 2 when every row gave 2, 2.0 when every row
 * gave 2.0 (a group with both shows whichever SQLite met last).  So such a
 * key groups by numkey(x) (2 and 2.0 are the INTEGER 2; 2^53 + 1 stays
 * apart from 2^53), and a hidden aggregate counts the group's REAL values
 * (COUNT(*) FILTER (WHERE typeof(x) = 'real'), linear), appended to
 * *aggs; real_groups_show then maps the key back to a REAL where that
 * count is not 0.  key_of[k] is the key the k-th hidden aggregate counts
 * for; *n_out their number.  Replaces keys[i] (consumed) by numkey(x). */
static ivm_rc real_groups(dbsp_expr **keys, uint32_t nkeys, const bool *fix, lp_agg **aggs,
                          uint32_t *naggs, size_t *aggcap, uint32_t *key_of, uint32_t *n_out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < nkeys; i++) {
        dbsp_expr *x = keys[i];
        if (!fix[i])
            continue;
        ivm_value real = ivm_value_text("real", 4);
        dbsp_expr *targ[1] = {dbsp_expr_dup(x)};
        dbsp_expr *ty = targ[0] ? dbsp_expr_func(DBSP_FN_TYPEOF, IVM_TTEXT, 1, targ) : NULL;
        lp_agg g;
        memset(&g, 0, sizeof g);
        g.kind = DBSP_AGG_COUNT_STAR;
        g.type = IVM_TINT;
        g.filter = mk_op(DBSP_X_EQ, IVM_TINT, ty, dbsp_expr_const(&real));
        if (g.filter == NULL || ivm_grow((void **)aggs, aggcap, *naggs + 1, sizeof **aggs) != IVM_OK) {
            lp_agg_fini(&g);
            return IVM_NOMEM;
        }
        dbsp_expr *kargs[1] = {x};
        keys[i] = dbsp_expr_func(DBSP_FN_NUMKEY, IVM_TNULL, 1, kargs);
        if (keys[i] == NULL) {
            lp_agg_fini(&g);
            return IVM_NOMEM;
        }
        (*aggs)[(*naggs)++] = g;
        key_of[n++] = i;
    }
    *n_out = n;
    return IVM_OK;
}

/* A map over aggregate a that drops its last nreal (hidden) aggregates and
 * shows each key they count REAL values for as `CASE WHEN count > 0 THEN
 * real_affinity(key) ELSE key END`, typed REAL (keeps P2: the columns the
 * results read keep their places). */
static lp_node *real_groups_show(pctx *c, lp_node *a, const uint32_t *key_of, uint32_t nreal)
{
    uint32_t nout = a->ncols - nreal;
    lp_node *m = lp_new(c, LP_MAP, nout);
    if (m == NULL)
        return NULL;
    m->exprs = rt_arena_alloc(&c->arena, sizeof *m->exprs * (nout + 1));
    if (m->exprs == NULL)
        return NULL;
    m->in = a;
    for (uint32_t j = 0; j < nout; j++) {
        dbsp_expr *x = dbsp_expr_col(j, a->types[j]);
        for (uint32_t k = 0; k < nreal && x != NULL; k++) {
            if (key_of[k] != j)
                continue;
            ivm_value zero = ivm_value_int(0);
            dbsp_expr *raff[1] = {dbsp_expr_col(j, a->types[j])};
            dbsp_expr *args[3] = {
                mk_op(DBSP_X_GT, IVM_TINT, dbsp_expr_col(nout + k, IVM_TINT),
                      dbsp_expr_const(&zero)),
                raff[0] ? dbsp_expr_func(DBSP_FN_REAL_AFF, IVM_TNULL, 1, raff) : NULL, x};
            if (args[0] == NULL || args[1] == NULL) {
                dbsp_expr_free(args[0]);
                dbsp_expr_free(args[1]);
                dbsp_expr_free(x);
                x = NULL;
                break;
            }
            x = dbsp_expr_op(DBSP_X_CASE, IVM_TREAL, 3, args);
        }
        if (x == NULL) {
            m->in = NULL; /* a stays the caller's */
            lp_free_exprs(m);
            return NULL;
        }
        m->exprs[j] = x;
        m->nexprs = j + 1;
        m->types[j] = x->type;
    }
    return m;
}

/* DISTINCT over m whose columns fix[] may yield an INTEGER where typed
 * REAL: an aggregate grouping by every column of m (keys through numkey),
 * then real_groups_show, so that 2 and 2.0 are one row showing what SQLite
 * shows.  Returns the map on top, or NULL (out of memory; m stays the
 * caller's). */
static lp_node *distinct_real(pctx *c, lp_node *m, const bool *fix)
{
    uint32_t n = m->ncols;
    dbsp_expr **keys = rt_arena_alloc(&c->arena, sizeof *keys * (n + 1));
    uint32_t *key_of = rt_arena_alloc(&c->arena, sizeof *key_of * (n + 1));
    lp_agg *aggs = NULL;
    uint32_t naggs = 0, nreal = 0;
    size_t cap = 0;
    if (keys == NULL || key_of == NULL)
        return NULL;
    memset(keys, 0, sizeof *keys * (n + 1));
    for (uint32_t j = 0; j < n; j++)
        if ((keys[j] = dbsp_expr_col(j, m->types[j])) == NULL)
            goto fail;
    if (real_groups(keys, n, fix, &aggs, &naggs, &cap, key_of, &nreal) != IVM_OK)
        goto fail;
    lp_node *a = lp_new(c, LP_AGGREGATE, n + naggs);
    if (a == NULL)
        goto fail;
    a->aggs = rt_arena_alloc(&c->arena, sizeof *a->aggs * (naggs + 1));
    if (a->aggs == NULL)
        goto fail;
    memcpy(a->aggs, aggs, sizeof *aggs * naggs);
    ivm_free(aggs);
    aggs = NULL;
    a->naggs = naggs;
    a->in = m;
    a->nexprs = n;
    a->exprs = keys;
    for (uint32_t j = 0; j < n; j++)
        a->types[j] = keys[j]->type;
    for (uint32_t k = 0; k < naggs; k++)
        a->types[n + k] = IVM_TINT;
    lp_node *shown = real_groups_show(c, a, key_of, nreal);
    if (shown == NULL) {
        a->in = NULL;
        lp_free_exprs(a);
    }
    return shown;
fail:
    for (uint32_t k = 0; k < naggs; k++)
        lp_agg_fini(&aggs[k]);
    ivm_free(aggs);
    for (uint32_t j = 0; j < n; j++)
        dbsp_expr_free(keys[j]);
    return NULL;
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
    dbsp_expr *x = oc->merged ? merged_col(b, oc->col) : dbsp_expr_col(oc->col, b->types[oc->col]);
    if (x == NULL)
        return IVM_NOMEM;
    if (mode == MODE_ROW) {
        *out = x;
        return IVM_OK;
    }
    for (uint32_t i = 0; i < b->ngroup; i++) {
        if (xequal(x, b->group[i])) {
            dbsp_expr_free(x);
            *out = dbsp_expr_col(i, b->group[i]->type);
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

/* A bounded ROW_NUMBER's window over the rows the result columns read (in
 * mode): *wx_out = its PARTITION BY terms (REAL-typed ones made REAL, as
 * GROUP BY keys: 2 and 2.0 are one partition), then, with ORDER BY, one
 * DBSP_FN_SORTKEY of its terms (dbsp/README.md, "Top-k and order keys"). */
static ivm_rc bind_window(bctx *b, const plan_expr *e, bmode mode, dbsp_expr ***wx_out,
                          uint32_t *nwx_out)
{
    const plan_window *w = e->window;
    uint32_t np = w->partition.n, n = 0;
    dbsp_expr **wx = ivm_calloc(np + 2, sizeof *wx);
    dbsp_expr **terms = ivm_calloc(2 * (size_t)w->norder + 1, sizeof *terms);
    ivm_rc rc = wx == NULL || terms == NULL ? IVM_NOMEM : IVM_OK;
    for (uint32_t i = 0; i < np && rc == IVM_OK; i++) {
        const plan_expr *t = w->partition.items[i];
        if (contains_agg(t) && mode == MODE_ROW) {
            rc = misuse(b, t);
            break;
        }
        rc = bind_expr(b, t, mode, &wx[n]);
        if (rc == IVM_OK && (wx[n] = real_key(b, wx[n])) == NULL)
            rc = IVM_NOMEM;
        if (rc == IVM_OK)
            n++;
    }
    uint32_t nt = 0;
    for (uint32_t i = 0; i < w->norder && rc == IVM_OK; i++) {
        const plan_order *o = &w->order_by[i];
        if (contains_agg(o->expr) && mode == MODE_ROW) {
            rc = misuse(b, o->expr);
            break;
        }
        int8_t nulls = o->nulls ? o->nulls : (o->desc ? 1 : -1);
        ivm_value f = ivm_value_int((o->desc ? DBSP_ORDER_DESC : 0) |
                                    (nulls > 0 ? DBSP_ORDER_NULLS_LAST : 0));
        terms[nt] = dbsp_expr_const(&f);
        if (terms[nt] == NULL) {
            rc = IVM_NOMEM;
            break;
        }
        nt++;
        rc = bind_expr(b, o->expr, mode, &terms[nt]);
        if (rc == IVM_OK)
            nt++;
    }
    if (rc == IVM_OK && nt > 0) {
        /* dbsp_expr_func takes the terms, also when it fails. */
        wx[n] = dbsp_expr_func(DBSP_FN_SORTKEY, IVM_TTEXT, nt, terms);
        nt = 0;
        if (wx[n] == NULL)
            rc = IVM_NOMEM;
        else
            n++;
    }
    for (uint32_t i = 0; i < nt; i++)
        dbsp_expr_free(terms[i]);
    ivm_free(terms);
    if (rc != IVM_OK) {
        for (uint32_t i = 0; i < n; i++)
            dbsp_expr_free(wx[i]);
        ivm_free(wx);
        return rc;
    }
    *wx_out = wx;
    *nwx_out = n;
    return IVM_OK;
}

ivm_rc bind_core(pctx *c, const plan_select *sel, lp_node **out, plan_query *q)
{
    bctx bb, *b = &bb;
    memset(b, 0, sizeof *b);
    b->c = c;
    ivm_rc rc = IVM_OK;
    lp_node *tree = NULL;
    dbsp_expr *cond = NULL;
    dbsp_expr **proj = NULL;
    uint32_t nproj = 0;
    /* A bound on one of this SELECT's ROW_NUMBER columns, from the query
     * whose FROM this SELECT is in; nothing bound below sees it. */
    win_bound *wb = c->win != NULL && c->win->sel == sel ? c->win : NULL;
    c->win = NULL;
    int64_t wcol = -1;
    uint32_t nwx = 0;
    dbsp_expr **wx = NULL;   /* its partition terms, then its sort key */

    b->where = sel->where;
    if (sel->from != NULL) {
        rc = bind_from(b, sel->from, &tree, &cond);
        if (rc == IVM_OK)
            rc = check_win_bounds(b);
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
    for (uint32_t i = 0; wb != NULL && i < noc && wcol < 0; i++)
        if (oc[i].expr == wb->win)
            wcol = i;

    b->treep = &tree;
    b->sub_ok = true;
    if (sel->where != NULL) {
        if (agg_inside(b, sel->where)) {
            rc = misuse(b, sel->where);
            goto fail;
        }
        rc = bind_where(b, sel->where, &cond);
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

    /* The bounded ROW_NUMBER's window, over the rows the results read. */
    if (wcol >= 0) {
        rc = bind_window(b, wb->win, mode, &wx, &nwx);
        if (rc != IVM_OK)
            goto fail;
    }
    /* Result columns, then HAVING, then ORDER BY terms not among them. */
    uint32_t cap = noc + sel->norder + 1;
    proj = ivm_calloc(cap, sizeof *proj);
    if (proj == NULL)
        goto nomem;
    for (uint32_t i = 0; i < noc; i++) {
        if ((int64_t)i == wcol) {
            /* The row number: the LP_TOPK's last column, once it is made. */
            ivm_value zero = ivm_value_int(0);
            proj[i] = dbsp_expr_const(&zero);
            if (proj[i] == NULL)
                goto nomem;
        } else if ((rc = bind_outcol(b, &oc[i], mode, &proj[i])) != IVM_OK) {
            goto fail;
        }
        nproj++;
    }
    dbsp_expr *having = NULL;
    if (sel->having != NULL) {
        rc = bind_expr(b, sel->having, MODE_AGG, &having);
        if (rc != IVM_OK)
            goto fail;
    }

    q->limit = q->offset = -1;
    /* Only the view's own SELECT keeps a top-k (topk.c); a subquery's rows
     * have no order, so LIMIT there is refused. */
    bool topk = c->for_view && sel == c->view_sel;
    if (sel->limit != NULL || sel->offset != NULL) {
        if (c->for_view && !topk) {
            rc = unsupported(b, sel->limit ? sel->limit->pos : sel->offset->pos,
                             "LIMIT (top-k) in a subquery");
            dbsp_expr_free(having);
            goto fail;
        }
        if (sel->limit && (rc = const_int(b, sel->limit, "LIMIT", &q->limit)) != IVM_OK) {
            dbsp_expr_free(having);
            goto fail;
        }
        if (sel->offset && (rc = const_int(b, sel->offset, "OFFSET", &q->offset)) != IVM_OK) {
            dbsp_expr_free(having);
            goto fail;
        }
        /* A view keeps its top-k (topk.c), which wants both bounds. */
        if (topk && (rc = topk_check_bounds(c, sel, q)) != IVM_OK) {
            dbsp_expr_free(having);
            goto fail;
        }
    }
    /* A view's rows have no order: ORDER BY there is accepted and ignored
     * (readers order with their own ORDER BY), unless LIMIT makes it
     * choose the rows (top-k, topk.c). */
    if ((!c->for_view || (topk && sel->limit != NULL)) && sel->norder > 0) {
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
        uint32_t *key_of = rt_arena_alloc(&c->arena, sizeof *key_of * (b->ngroup + 1));
        bool *fix = rt_arena_alloc(&c->arena, sizeof *fix * (b->ngroup + 1));
        uint32_t nreal = 0;
        for (uint32_t i = 0; fix != NULL && i < b->ngroup; i++)
            fix[i] = real_may_be_int(b, b->group[i]);
        if (key_of == NULL || fix == NULL ||
            real_groups(b->group, b->ngroup, fix, &b->aggs, &b->naggs, &b->aggcap, key_of,
                        &nreal) != IVM_OK) {
            dbsp_expr_free(having);
            goto nomem;
        }
        lp_node *a = lp_new(c, LP_AGGREGATE, b->ngroup + b->naggs);
        if (a == NULL) {
            dbsp_expr_free(having);
            goto nomem;
        }
        a->in = tree;
        a->nexprs = b->ngroup;
        a->exprs = b->group;
        for (uint32_t i = 0; i < b->ngroup; i++) {
            if (b->group[i] == NULL)
                goto nomem;
            a->types[i] = b->group[i]->type;
        }
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
        lp_node *shown = nreal > 0 ? real_groups_show(c, a, key_of, nreal) : a;
        if (shown == NULL) {
            dbsp_expr_free(having);
            goto nomem;
        }
        tree = shown;
        /* Scalar subqueries of the results and HAVING join the groups. */
        uint32_t at = tree->ncols;
        for (uint32_t i = 0; i < b->npost; i++) {
            b->treep = &tree;
            rc = sub_join(b, LP_J_LEFT, b->post[i], NULL);
            b->post[i] = NULL;
            if (rc != IVM_OK) {
                dbsp_expr_free(having);
                goto fail;
            }
        }
        for (uint32_t i = 0; b->npost && i < nproj; i++)
            post_remap(proj[i], at);
        for (uint32_t i = 0; b->npost && i < nwx; i++)
            post_remap(wx[i], at);
        post_remap(having, at);
        b->npost = 0;
        if (having != NULL) {
            tree = wrap_filter(c, tree, having);
            if (tree == NULL)
                goto nomem;
        }
    }

    /* ROW_NUMBER ... <= limit: the first rows of each partition, numbered,
     * after WHERE, GROUP BY and HAVING and before DISTINCT, as in SQL. */
    if (wcol >= 0) {
        lp_node *t = lp_new(c, LP_TOPK, tree->ncols + 1);
        if (t == NULL)
            goto nomem;
        t->exprs = rt_arena_alloc(&c->arena, sizeof *t->exprs * (nwx + 1));
        if (t->exprs == NULL)
            goto nomem;
        memcpy(t->exprs, wx, sizeof *wx * nwx);
        t->nexprs = nwx;
        t->npart = wb->win->window->partition.n;
        t->limit = wb->limit;
        t->in = tree;
        memcpy(t->types, tree->types, sizeof(ivm_type) * tree->ncols);
        t->types[tree->ncols] = IVM_TINT;
        ivm_free(wx);
        wx = NULL;
        nwx = 0;
        tree = t;
        dbsp_expr_free(proj[wcol]);
        proj[wcol] = dbsp_expr_col(t->ncols - 1, IVM_TINT);
        if (proj[wcol] == NULL)
            goto nomem;
        wb->used = true;
        wb->col = (uint32_t)wcol;
    }

    /* DISTINCT keeps 2 and 2.0 once and shows what SQLite shows, as GROUP
     * BY does (real_groups); with an aggregate the results read its
     * columns, not the FROM row's. */
    bool *dfix = rt_arena_alloc(&c->arena, sizeof *dfix * (nproj + 1));
    bool any_dfix = false;
    if (dfix == NULL)
        goto nomem;
    for (uint32_t i = 0; i < nproj; i++) {
        dfix[i] = sel->distinct && !agg && real_may_be_int(b, proj[i]);
        any_dfix |= dfix[i];
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
    if (sel->distinct && any_dfix) {
        if ((tree = distinct_real(c, m, dfix)) == NULL) {
            tree = m;
            goto nomem;
        }
    } else if (sel->distinct) {
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
    q->col_affs = ivm_calloc(noc + 1, sizeof(plan_aff));
    if (q->col_names == NULL || q->col_types == NULL || q->col_affs == NULL)
        goto nomem;
    for (uint32_t i = 0; i < noc; i++) {
        q->col_names[i] = ivm_strndup(oc[i].name, strlen(oc[i].name));
        if (q->col_names[i] == NULL)
            goto nomem;
        q->col_types[i] = tree->types[i];
        q->col_affs[i] = oc[i].aff;
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
    for (uint32_t i = 0; i < nwx; i++)
        dbsp_expr_free(wx[i]);
    ivm_free(wx);
    for (uint32_t i = 0; i < b->ngroup; i++)
        dbsp_expr_free(b->group[i]);
    for (uint32_t i = 0; i < b->naggs; i++)
        lp_agg_fini(&b->aggs[i]);
    ivm_free(b->aggs);
    for (uint32_t i = 0; i < b->npost; i++)
        lp_free_exprs(b->post[i]);
    lp_free_exprs(tree);
    return rc;
}

ivm_rc bind_const_int(pctx *c, const plan_expr *e, const char *what, int64_t *out)
{
    bctx bb;
    memset(&bb, 0, sizeof bb);
    bb.c = c;
    return const_int(&bb, e, what, out);
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
