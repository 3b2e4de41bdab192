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
} bctx;

static ivm_rc fail_at(bctx *b, ivm_rc rc, plan_pos pos, const char *fmt, const char *arg)
{
    char msg[IVM_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, fmt, arg);
    return ivm_err_set(b->c->err, rc, pos.line, pos.col, "%s", msg);
}

static ivm_rc unsupported(bctx *b, plan_pos pos, const char *what)
{
    return fail_at(b, IVM_UNSUPPORTED, pos, "%s is not supported in views yet", what);
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
        dbsp_expr_free(n->aggs[i].arg);
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
                 op == DBSP_X_NOTNULL || op == DBSP_X_CAST;
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
    bool table_seen = false;
    for (uint32_t r = 0; r < b->nranges; r++) {
        const range *rg = &b->ranges[r];
        if (e->table != NULL) {
            if (strcasecmp(e->table, rg->alias) != 0)
                continue;
            table_seen = true;
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
        if (e->table != NULL && !table_seen)
            return fail_at(b, IVM_SCHEMA, e->pos, "no such column: %s", e->table);
        return fail_at(b, IVM_SCHEMA, e->pos, "no such column: %s", e->name);
    }
    *col_out = col;
    return IVM_OK;
}

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

static bool contains_agg(const plan_expr *e)
{
    if (e == NULL)
        return false;
    if (is_agg_call(e))
        return true;
    if (contains_agg(e->a) || contains_agg(e->b) || contains_agg(e->c))
        return true;
    for (uint32_t i = 0; i < e->list.n; i++)
        if (contains_agg(e->list.items[i]))
            return true;
    return false;
}

/* ---- Expressions ----------------------------------------------------------- */

static ivm_rc bind_expr(bctx *b, const plan_expr *e, bmode mode, dbsp_expr **out);

static ivm_rc bind_agg_call(bctx *b, const plan_expr *e, dbsp_expr **out)
{
    dbsp_agg_kind kind;
    const char *n = e->name;
    if (e->distinct)
        return unsupported(b, e->pos, "an aggregate with DISTINCT");
    if (e->filter != NULL)
        return unsupported(b, e->pos, "an aggregate with FILTER");
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
    else
        return fail_at(b, IVM_UNSUPPORTED, e->pos, "aggregate %s() is not supported yet", n);
    if (kind != DBSP_AGG_COUNT_STAR && e->list.n != 1)
        return fail_at(b, IVM_SCHEMA, e->pos, "wrong number of arguments to function %s()", n);
    dbsp_expr *arg = NULL;
    ivm_type t = IVM_TINT;
    if (kind != DBSP_AGG_COUNT_STAR) {
        if (contains_agg(e->list.items[0]))
            return fail_at(b, IVM_SCHEMA, e->pos, "misuse of aggregate function %s()", n);
        ivm_rc rc = bind_expr(b, e->list.items[0], MODE_ROW, &arg);
        if (rc != IVM_OK)
            return rc;
        switch (kind) {
        case DBSP_AGG_COUNT: t = IVM_TINT; break;
        case DBSP_AGG_SUM: t = arg->type == IVM_TINT ? IVM_TINT : IVM_TREAL; break;
        case DBSP_AGG_AVG: t = IVM_TREAL; break;
        default: t = arg->type; break;
        }
    }
    /* The same aggregate twice is computed once. */
    for (uint32_t i = 0; i < b->naggs; i++) {
        if (b->aggs[i].kind == kind &&
            ((arg == NULL && b->aggs[i].arg == NULL) ||
             (arg != NULL && b->aggs[i].arg != NULL && xequal(arg, b->aggs[i].arg)))) {
            dbsp_expr_free(arg);
            *out = dbsp_expr_col(b->ngroup + i, t);
            return *out ? IVM_OK : IVM_NOMEM;
        }
    }
    if (ivm_grow((void **)&b->aggs, &b->aggcap, b->naggs + 1, sizeof *b->aggs) != IVM_OK) {
        dbsp_expr_free(arg);
        return IVM_NOMEM;
    }
    b->aggs[b->naggs].kind = kind;
    b->aggs[b->naggs].type = t;
    b->aggs[b->naggs].arg = arg;
    b->naggs++;
    *out = dbsp_expr_col(b->ngroup + b->naggs - 1, t);
    return *out ? IVM_OK : IVM_NOMEM;
}

static ivm_rc bind_list_op(bctx *b, const plan_expr *e, bmode mode, dbsp_xop op,
                           ivm_type t, uint32_t n, const plan_expr *const *items,
                           dbsp_expr **out)
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

static ivm_rc bind_func(bctx *b, const plan_expr *e, bmode mode, dbsp_expr **out)
{
    static const struct { const char *name; dbsp_fn fn; int minargs, maxargs; } fns[] = {
        {"abs", DBSP_FN_ABS, 1, 1},         {"coalesce", DBSP_FN_COALESCE, 2, 64},
        {"ifnull", DBSP_FN_COALESCE, 2, 2}, {"length", DBSP_FN_LENGTH, 1, 1},
        {"lower", DBSP_FN_LOWER, 1, 1},     {"upper", DBSP_FN_UPPER, 1, 1},
    };
    if (e->star || e->distinct || e->filter)
        return fail_at(b, IVM_SCHEMA, e->pos, "%s() is not an aggregate function", e->name);
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        if (strcasecmp(e->name, fns[i].name) != 0)
            continue;
        if ((int)e->list.n < fns[i].minargs || (int)e->list.n > fns[i].maxargs)
            return fail_at(b, IVM_SCHEMA, e->pos, "wrong number of arguments to function %s()",
                           e->name);
        dbsp_expr **args = ivm_calloc(e->list.n, sizeof *args);
        if (args == NULL)
            return IVM_NOMEM;
        ivm_type t = IVM_TNULL;
        for (uint32_t j = 0; j < e->list.n; j++) {
            ivm_rc rc = bind_expr(b, e->list.items[j], mode, &args[j]);
            if (rc != IVM_OK) {
                for (uint32_t k = 0; k < j; k++)
                    dbsp_expr_free(args[k]);
                ivm_free(args);
                return rc;
            }
            t = j == 0 ? args[j]->type : common_type(t, args[j]->type);
        }
        switch (fns[i].fn) {
        case DBSP_FN_LENGTH: t = IVM_TINT; break;
        case DBSP_FN_LOWER: case DBSP_FN_UPPER: t = IVM_TTEXT; break;
        default: break;
        }
        dbsp_expr *x = dbsp_expr_func(fns[i].fn, t, e->list.n, args);
        ivm_free(args);
        if (x == NULL)
            return IVM_NOMEM;
        *out = x;
        return IVM_OK;
    }
    if (strcasecmp(e->name, "nullif") == 0 && e->list.n == 2) {
        /* nullif(a, b) = CASE WHEN a = b THEN NULL ELSE a END */
        dbsp_expr *a = NULL, *bb = NULL, *a2 = NULL;
        ivm_rc rc = bind_expr(b, e->list.items[0], mode, &a);
        if (rc == IVM_OK)
            rc = bind_expr(b, e->list.items[1], mode, &bb);
        if (rc != IVM_OK) {
            dbsp_expr_free(a);
            return rc;
        }
        a2 = dbsp_expr_dup(a);
        ivm_value nv = ivm_value_null();
        dbsp_expr *args[3] = {mk_op(DBSP_X_EQ, IVM_TINT, a, bb), dbsp_expr_const(&nv), a2};
        ivm_type t = a2 ? a2->type : IVM_TNULL;
        if (args[0] == NULL || args[1] == NULL || args[2] == NULL) {
            for (int i = 0; i < 3; i++)
                dbsp_expr_free(args[i]);
            return IVM_NOMEM;
        }
        *out = dbsp_expr_op(DBSP_X_CASE, t, 3, args);
        return *out ? IVM_OK : IVM_NOMEM;
    }
    return fail_at(b, IVM_UNSUPPORTED, e->pos, "unknown or unsupported function: %s()", e->name);
}

static ivm_rc bind_expr(bctx *b, const plan_expr *e, bmode mode, dbsp_expr **out)
{
    ivm_rc rc;
    if (mode == MODE_AGG && !contains_agg(e)) {
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
        return fail_at(b, IVM_SCHEMA, e->pos, "misuse of aggregate function %s()", e->name);

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
        default:
            dbsp_expr_free(a);
            return unsupported(b, e->pos, "the ~ operator");
        }
        return *out ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_BINARY: {
        static const struct { plan_op p; dbsp_xop x; int cls; } ops[] = {
            {PLAN_OP_ADD, DBSP_X_ADD, 0}, {PLAN_OP_SUB, DBSP_X_SUB, 0},
            {PLAN_OP_MUL, DBSP_X_MUL, 0}, {PLAN_OP_DIV, DBSP_X_DIV, 0},
            {PLAN_OP_MOD, DBSP_X_MOD, 0}, {PLAN_OP_CONCAT, DBSP_X_CONCAT, 1},
            {PLAN_OP_EQ, DBSP_X_EQ, 2},   {PLAN_OP_NE, DBSP_X_NE, 2},
            {PLAN_OP_LT, DBSP_X_LT, 2},   {PLAN_OP_LE, DBSP_X_LE, 2},
            {PLAN_OP_GT, DBSP_X_GT, 2},   {PLAN_OP_GE, DBSP_X_GE, 2},
            {PLAN_OP_IS, DBSP_X_IS, 2},   {PLAN_OP_ISNOT, DBSP_X_ISNOT, 2},
            {PLAN_OP_AND, DBSP_X_AND, 2}, {PLAN_OP_OR, DBSP_X_OR, 2},
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
            ivm_type t = ops[i].cls == 0 ? arith_type(l->type, r->type)
                         : ops[i].cls == 1 ? IVM_TTEXT : IVM_TINT;
            *out = mk_op(ops[i].x, t, l, r);
            return *out ? IVM_OK : IVM_NOMEM;
        }
        return unsupported(b, e->pos, "this operator (bitwise or LIKE)");
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
        /* a BETWEEN x AND y = a >= x AND a <= y (a evaluated twice). */
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
        dbsp_expr *x = mk_op(DBSP_X_AND, IVM_TINT, mk_op(DBSP_X_GE, IVM_TINT, a, lo),
                             mk_op(DBSP_X_LE, IVM_TINT, a2, hi));
        if (x != NULL && e->not_)
            x = mk_op(DBSP_X_NOT, IVM_TINT, x, NULL);
        *out = x;
        return x ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_IN_LIST: {
        /* a IN (x, y) = a = x OR a = y: the same three-valued result. */
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
            dbsp_expr *eq = mk_op(DBSP_X_EQ, IVM_TINT, dbsp_expr_dup(a), item);
            acc = acc ? mk_op(DBSP_X_OR, IVM_TINT, acc, eq) : eq;
            if (acc == NULL) {
                dbsp_expr_free(a);
                return IVM_NOMEM;
            }
        }
        dbsp_expr_free(a);
        if (acc == NULL) {
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
                x->args[i] = mk_op(DBSP_X_EQ, IVM_TINT, base, x->args[i]);
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
        rc = bind_expr(b, e->a, mode, &a);
        if (rc != IVM_OK)
            return rc;
        ivm_type t = plan_type_class(e->cast_type);
        dbsp_expr *x = mk_op(DBSP_X_CAST, t, a, NULL);
        if (x != NULL)
            x->fn = (uint8_t)t;
        *out = x;
        return x ? IVM_OK : IVM_NOMEM;
    }
    case PLAN_E_FUNC:
        return bind_func(b, e, mode, out);
    case PLAN_E_COLLATE:
        if (e->name != NULL && strcasecmp(e->name, "binary") == 0)
            return bind_expr(b, e->a, mode, out);
        return unsupported(b, e->pos, "COLLATE other than BINARY");
    case PLAN_E_IN_SELECT:
        return unsupported(b, e->pos, "IN (subquery)");
    case PLAN_E_EXISTS:
        return unsupported(b, e->pos, "EXISTS (subquery)");
    case PLAN_E_SUBQUERY:
        return unsupported(b, e->pos, "a scalar subquery");
    case PLAN_E_LIKE:
        return unsupported(b, e->pos, e->op == PLAN_OP_GLOB ? "GLOB" : "LIKE");
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
            return fail_at(b, IVM_SCHEMA, f->on->pos, "%s", "misuse of aggregate in ON");
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

/* Expands the result list (stars) into expressions and names. */
typedef struct outcol {
    const plan_expr *expr;   /* NULL for a star-expanded column */
    uint32_t col;            /* star: combined column */
    const char *name;
    plan_pos pos;
} outcol;

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
    if (oc->expr != NULL)
        return bind_expr(b, oc->expr, mode, out);
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
        return unsupported(b, sel->pos, "UNION, INTERSECT and EXCEPT");
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
    if (sel->where != NULL) {
        if (contains_agg(sel->where)) {
            rc = fail_at(b, IVM_SCHEMA, sel->where->pos, "%s", "misuse of aggregate in WHERE");
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

    outcol *oc = NULL;
    uint32_t noc = 0;
    rc = expand_results(b, sel, &oc, &noc);
    if (rc != IVM_OK)
        goto fail;

    bool agg = sel->group_by.n > 0 || sel->having != NULL;
    for (uint32_t i = 0; i < sel->ncols && !agg; i++)
        agg = contains_agg(sel->cols[i].expr);
    for (uint32_t i = 0; i < sel->norder && !agg; i++)
        agg = contains_agg(sel->order_by[i].expr);
    bmode mode = agg ? MODE_AGG : MODE_ROW;

    if (agg) {
        b->ngroup = sel->group_by.n;
        b->group = rt_arena_alloc(&c->arena, sizeof(dbsp_expr *) * (b->ngroup + 1));
        if (b->group == NULL)
            goto nomem;
        for (uint32_t i = 0; i < b->ngroup; i++) {
            const plan_expr *g = sel->group_by.items[i];
            if (contains_agg(g)) {
                rc = fail_at(b, IVM_SCHEMA, g->pos, "%s", "aggregate functions are not allowed in GROUP BY");
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
        if (c->for_view) {
            rc = unsupported(b, sel->limit ? sel->limit->pos : sel->offset->pos,
                             "LIMIT (top-k)");
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
    }
    /* A view's rows have no order: ORDER BY there is accepted and ignored;
     * readers order with their own ORDER BY. */
    if (!c->for_view && sel->norder > 0) {
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
        dbsp_expr_free(b->aggs[i].arg);
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
        rc = fail_at(&bb, IVM_SCHEMA, e->pos, "%s", "misuse of aggregate function");
    else
        rc = bind_expr(&bb, e, MODE_ROW, out);
    rt_arena_fini(&c.arena);
    return rc;
}
