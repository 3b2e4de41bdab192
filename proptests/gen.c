/*
 * gen.c: random cases.  A case is 2..4 tables with typed columns, views over
 * them (and over earlier views), and a change stream of INSERT, DELETE and
 * UPDATE statements, alone or in transactions that commit or roll back, with
 * views created before the data and after it.  Values come from small
 * domains so that joins match and groups collide.
 *
 * Every generated statement is valid SQLite, and every view's result is a
 * multiset SQLite fully determines: aggregate queries read only GROUP BY
 * terms and aggregates, ORDER BY ... LIMIT orders by every column, scalar
 * subqueries are aggregates without GROUP BY, and REAL literals are binary
 * fractions so that sums do not depend on their order.  Statements are
 * typed so that ivm's typed columns store what SQLite stores; the ways a
 * statement may fail (PRIMARY KEY and NOT NULL) fail alike in both (see the
 * notes at gen_update).  Views may use constructs ivm refuses today; those
 * are counted, not failed.  The model is in prop_int.h; see README.md.
 */
#include "prop_int.h"

/* ---- Context ------------------------------------------------------------------ */

typedef struct gctx {
    pcase *c;
    prng r;
    const pgen_opts *o;
    uint64_t cons;           /* constructs of the view being made */
    int target;              /* an unsupported construct this view must use, or -1 */
    bool unsup;              /* this view may use unsupported constructs */
    int alias_n;
    int nviews_live;         /* views made so far (usable as FROM items) */
    bool bulk;               /* a long case with big inserts */
} gctx;

/* A column a generated expression may read. */
typedef struct gcol {
    const psrc *src;         /* NULL in DML */
    const ptable *tab;       /* DML */
    int col;
    int type;
} gcol;

#define GS_MAX_COLS 48

typedef struct gscope {
    gcol cols[GS_MAX_COLS];
    int n;
    const gcol *outer;       /* columns of the enclosing query (subqueries) */
    int nouter;
    bool agg;                /* leaves are GROUP BY terms, aggregates, literals */
    bool in_agg;             /* inside an aggregate's argument: row level */
    const pquery *q;         /* owner of the GROUP BY terms */
    int gtypes[PT_MAX_GROUP];
    bool sub_ok;             /* subqueries may appear */
    bool dml;
} gscope;

static void mark(gctx *g, pcons k)
{
    g->cons |= 1ull << k;
}

static bool has(const gctx *g, pcons k)
{
    return (g->cons >> k) & 1u;
}

/* May this view use construct k now?  The target always may; others only
 * in views allowed to use unsupported constructs, and then rarely. */
static bool want(gctx *g, pcons k, int pct)
{
    if ((g->o->avoid >> k) & 1u)
        return false;
    if (g->target == (int)k && !has(g, k))
        return pt_pct(&g->r, 50);
    return g->unsup && g->target != -1 && pt_pct(&g->r, pct);
}

static int pick(gctx *g, int n)
{
    return pt_rn(&g->r, n);
}

/* ---- Literals ------------------------------------------------------------------ */

static const char *const int_lits[] = {"0", "1", "2", "3", "4", "5", "-1", "6", "2", "1", "0x3"};
/* Binary fractions: sums are exact in any order. */
static const char *const real_lits[] = {"0.0",  "0.5", "1.0",  "1.5",   "2.0",  "2.5",
                                        "-0.5", "-1.5", "0.25", "3.75", "100.0"};
static const char *const text_lits[] = {"''",  "'a'",  "'b'",    "'ab'", "'abc'", "'B'",
                                        "'A'", "'a%'", "'x_y'", "'10'", "'2'",   "'a b'",
                                        "'12abc'", "'1e3'", "' 7'", "'\xc3\xa9'", "'-0'"};

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *lit_text(gctx *g, int type)
{
    switch (type) {
    case PT_INT: return int_lits[pick(g, NELEM(int_lits))];
    case PT_REAL:
        /* -0.0 now and then: it must equal 0.0 everywhere. */
        return pt_pct(&g->r, 2) ? "-0.0" : real_lits[pick(g, NELEM(real_lits))];
    case PT_TEXT: return text_lits[pick(g, NELEM(text_lits))];
    default: return pick(g, 2) ? "1" : "0";
    }
}

static pexpr *lit(gctx *g, int type)
{
    return pt_lit(g->c, type, lit_text(g, type));
}

static pexpr *null_lit(gctx *g, int type)
{
    return pt_lit(g->c, type, "NULL");
}

/* ---- Expressions ---------------------------------------------------------------- */

static pexpr *gen_x(gctx *g, gscope *s, int type, int depth);
static pquery *gen_subquery(gctx *g, gscope *outer, int kind, int type);

static pexpr *col_ref(gctx *g, const gcol *gc)
{
    pexpr *e = pt_expr_new(g->c, X_COL, gc->type, 0);
    e->src = gc->src;
    e->tab = gc->tab;
    e->col = gc->col;
    return e;
}

/* A column of class type (INT and REAL stand in for each other when
 * numeric is set), or NULL. */
static const gcol *find_col(gctx *g, const gcol *cols, int n, int type, bool numeric)
{
    int cand[GS_MAX_COLS], nc = 0;
    for (int i = 0; i < n; i++) {
        int t = cols[i].type;
        if (t == type || (numeric && (t == PT_INT || t == PT_REAL) &&
                          (type == PT_INT || type == PT_REAL)))
            cand[nc++] = i;
    }
    return nc ? &cols[cand[pick(g, nc)]] : NULL;
}

static bool has_col(const pexpr *e)
{
    if (e == NULL)
        return false;
    if (e->kind == X_COL || e->kind == X_GROUP || e->kind == X_AGG || e->kind == X_SUBQ)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (has_col(e->args[i]))
            return true;
    return false;
}

static pexpr *bin(gctx *g, const char *op, int type, pexpr *a, pexpr *b)
{
    pexpr *e = pt_expr_new(g->c, X_BIN, type, 2);
    e->op = op;
    e->args[0] = a;
    e->args[1] = b;
    return e;
}

static pexpr *un(gctx *g, int kind, const char *op, int type, pexpr *a)
{
    pexpr *e = pt_expr_new(g->c, kind, type, 1);
    e->op = op;
    e->args[0] = a;
    return e;
}

static pexpr *func(gctx *g, const char *name, int type, int nargs)
{
    pexpr *e = pt_expr_new(g->c, X_FUNC, type, nargs);
    e->op = name;
    return e;
}

/* An aggregate of class type over the scope's rows. */
static pexpr *gen_agg(gctx *g, gscope *s, int type)
{
    gscope row = *s;
    row.agg = false;
    row.in_agg = true;
    row.sub_ok = false;
    int d = 1 + pick(g, 2);
    pexpr *e = pt_expr_new(g->c, X_AGG, type, 2);
    switch (type) {
    case PT_INT:
    case PT_BOOL:
        switch (pick(g, 5)) {
        case 0: case 1:
            e->op = "COUNT";
            e->flags |= XF_STAR;
            break;
        case 2:
            e->op = "COUNT";
            e->args[0] = gen_x(g, &row, pick(g, 3), d);
            break;
        case 3:
            e->op = "SUM";
            e->args[0] = gen_x(g, &row, PT_INT, d);
            break;
        default:
            e->op = pick(g, 2) ? "MIN" : "MAX";
            e->args[0] = gen_x(g, &row, PT_INT, d);
            break;
        }
        e->type = PT_INT;
        break;
    case PT_REAL:
        switch (pick(g, 4)) {
        case 0: case 1:
            e->op = "AVG";
            e->args[0] = gen_x(g, &row, pick(g, 2) ? PT_INT : PT_REAL, d);
            break;
        case 2:
            e->op = "SUM";
            e->args[0] = gen_x(g, &row, PT_REAL, d);
            break;
        default:
            e->op = pick(g, 2) ? "MIN" : "MAX";
            e->args[0] = gen_x(g, &row, PT_REAL, d);
            break;
        }
        if (want(g, PC_OTHER_FUNC, 10)) {
            e->op = "TOTAL";
            mark(g, PC_OTHER_FUNC);
            e->flags &= (uint8_t)~XF_STAR;
            if (e->args[0] == NULL)
                e->args[0] = gen_x(g, &row, PT_REAL, d);
        }
        break;
    default:
        e->op = pick(g, 2) ? "MIN" : "MAX";
        e->args[0] = gen_x(g, &row, PT_TEXT, d);
        break;
    }
    if (!(e->flags & XF_STAR) && strcmp(e->op, "TOTAL") != 0 && want(g, PC_AGG_DISTINCT, 25)) {
        e->flags |= XF_DISTINCT;
        mark(g, PC_AGG_DISTINCT);
    }
    if (want(g, PC_AGG_FILTER, 25)) {
        e->args[1] = gen_x(g, &row, PT_BOOL, 1);
        mark(g, PC_AGG_FILTER);
    }
    if (e->args[1] == NULL)
        e->nargs = 1;
    return e;
}

/* A leaf: a column, a GROUP BY term or an aggregate, or a literal. */
static pexpr *gen_leaf(gctx *g, gscope *s, int type)
{
    if (type == PT_BOOL) {
        /* Truth values come from comparisons; a bare column rarely. */
        int t = pick(g, 3);
        pexpr *a = gen_leaf(g, s, t);
        for (int tries = 0; !has_col(a) && tries < 3; tries++)
            a = gen_leaf(g, s, t);
        static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">=", "IS", "IS NOT"};
        return bin(g, ops[pick(g, NELEM(ops))], PT_BOOL, a, lit(g, t));
    }
    if (s->agg && !s->in_agg) {
        if (pt_pct(&g->r, 45)) {
            int cand[PT_MAX_GROUP], nc = 0;
            bool mix = type == PT_REAL && !((g->o->avoid >> PC_NUM_MIX) & 1u) &&
                       pt_pct(&g->r, 30);
            for (int i = 0; i < s->q->ngroup; i++)
                if (s->gtypes[i] == type || (mix && s->gtypes[i] == PT_INT))
                    cand[nc++] = i;
            if (nc > 0) {
                pexpr *e = pt_expr_new(g->c, X_GROUP, s->gtypes[cand[0]], 0);
                e->col = cand[pick(g, nc)];
                e->type = (uint8_t)s->gtypes[e->col];
                e->owner = s->q;
                if (e->type != type)
                    mark(g, PC_NUM_MIX);
                return e;
            }
        }
        if (pt_pct(&g->r, 80))
            return gen_agg(g, s, type);
        return lit(g, type);
    }
    if (pt_pct(&g->r, 80)) {
        /* An INTEGER where a REAL is expected: the expression's class says
         * REAL, its values may be integers. */
        bool mix = type == PT_REAL && !((g->o->avoid >> PC_NUM_MIX) & 1u) &&
                   pt_pct(&g->r, 20);
        const gcol *gc = find_col(g, s->cols, s->n, type, mix);
        if (gc == NULL && s->nouter > 0 && pt_pct(&g->r, 30))
            gc = find_col(g, s->outer, s->nouter, type, false);
        if (gc != NULL) {
            if (gc->type != type)
                mark(g, PC_NUM_MIX);
            return col_ref(g, gc);
        }
    }
    if (pt_pct(&g->r, 4))
        return null_lit(g, type);
    return lit(g, type);
}

static pexpr *gen_case(gctx *g, gscope *s, int type, int depth)
{
    mark(g, PC_CASE);
    int nwhen = 1 + pick(g, 2);
    bool base = pt_pct(&g->r, 30);
    bool els = pt_pct(&g->r, 75);
    pexpr *e = pt_expr_new(g->c, X_CASE, type, (base ? 1 : 0) + nwhen * 2 + (els ? 1 : 0));
    int i = 0;
    int bt = pick(g, 3);
    if (base) {
        e->flags |= XF_BASE;
        e->args[i++] = gen_x(g, s, bt, depth - 1);
    }
    for (int w = 0; w < nwhen; w++) {
        e->args[i++] = base ? lit(g, bt) : gen_x(g, s, PT_BOOL, depth - 1);
        e->args[i++] = gen_x(g, s, type, depth - 1);
    }
    if (els)
        e->args[i++] = gen_x(g, s, type, depth - 1);
    return e;
}

static pexpr *gen_coalesce(gctx *g, gscope *s, int type, int depth)
{
    mark(g, PC_COALESCE);
    switch (pick(g, 3)) {
    case 0: {
        int n = 2 + pick(g, 2);
        pexpr *e = func(g, "coalesce", type, n);
        for (int i = 0; i < n; i++)
            e->args[i] = gen_x(g, s, type, depth - 1);
        return e;
    }
    case 1: {
        pexpr *e = func(g, "ifnull", type, 2);
        e->args[0] = gen_x(g, s, type, depth - 1);
        e->args[1] = gen_x(g, s, type, depth - 1);
        return e;
    }
    default: {
        pexpr *e = func(g, "nullif", type, 2);
        e->args[0] = gen_x(g, s, type, depth - 1);
        e->args[1] = lit(g, type);
        return e;
    }
    }
}

static pexpr *gen_cast(gctx *g, gscope *s, int type, int depth)
{
    mark(g, PC_CAST);
    static const char *const names[] = {[PT_INT] = "INTEGER", [PT_REAL] = "REAL",
                                        [PT_TEXT] = "TEXT"};
    int from = pick(g, 3);
    if (from == type)
        from = (from + 1) % 3;
    pexpr *e = un(g, X_CAST, names[type], type, gen_x(g, s, from, depth - 1));
    return e;
}

/* A subquery-valued expression: kind is XF_IN, XF_EXISTS or 0 (scalar). */
static pexpr *gen_subq_expr(gctx *g, gscope *s, int kind, int type)
{
    pexpr *e = pt_expr_new(g->c, X_SUBQ, kind ? PT_BOOL : type, kind == XF_IN ? 1 : 0);
    e->flags = (uint8_t)kind;
    if (kind == XF_IN) {
        int t = pick(g, 3);
        e->args[0] = gen_x(g, s, t, 1);
        e->sub = gen_subquery(g, s, kind, t);
        mark(g, PC_IN_SUBQUERY);
    } else {
        e->sub = gen_subquery(g, s, kind, type);
        mark(g, kind == XF_EXISTS ? PC_EXISTS : PC_SCALAR_SUBQUERY);
    }
    if (kind && pt_pct(&g->r, 30))
        e->flags |= XF_NOT;
    return e;
}

static pexpr *gen_bool(gctx *g, gscope *s, int depth)
{
    int r = pick(g, 100);
    if (s->sub_ok && !s->agg) {
        if (want(g, PC_IN_SUBQUERY, 20))
            return gen_subq_expr(g, s, XF_IN, PT_BOOL);
        if (want(g, PC_EXISTS, 20))
            return gen_subq_expr(g, s, XF_EXISTS, PT_BOOL);
    }
    if (want(g, PC_LIKE, 15)) {
        mark(g, PC_LIKE);
        static const char *const pats[] = {"'a%'", "'%b'", "'_'", "'A%'", "'%'", "'a\\_%'"};
        pexpr *e = bin(g, pt_pct(&g->r, 25) ? "NOT LIKE" : "LIKE", PT_BOOL,
                       gen_x(g, s, PT_TEXT, depth - 1), pt_lit(g->c, PT_TEXT, pats[pick(g, 5)]));
        return e;
    }
    if (want(g, PC_MIXED_TYPES, 15)) {
        /* A number against text: SQLite applies the column's affinity. */
        mark(g, PC_MIXED_TYPES);
        static const char *const ops[] = {"=", "<", ">=", "<>"};
        static const char *const numtext[] = {"'1'", "'2'", "'0'", "'1.5'", "'abc'", "'-1'"};
        int t = pick(g, 2) ? PT_INT : PT_REAL;
        pexpr *a = gen_leaf(g, s, t);
        pexpr *b = pt_lit(g->c, PT_TEXT, numtext[pick(g, NELEM(numtext))]);
        return pt_pct(&g->r, 70) ? bin(g, ops[pick(g, 4)], PT_BOOL, a, b)
                                 : bin(g, ops[pick(g, 4)], PT_BOOL, b, a);
    }
    if (r < 40) {
        static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">=", "IS", "IS NOT", "==",
                                          "!="};
        int t = pick(g, 3);
        int t2 = t;
        if (t != PT_TEXT && pt_pct(&g->r, 25))
            t2 = t == PT_INT ? PT_REAL : PT_INT;
        int op = pick(g, NELEM(ops));
        if (op >= 8 && pt_pct(&g->r, 70))
            op = pick(g, 6);
        pexpr *a = gen_x(g, s, t, depth - 1), *b = gen_x(g, s, t2, depth - 1);
        /* A comparison of constants says little: read a column. */
        for (int tries = 0; !has_col(a) && !has_col(b) && tries < 3; tries++)
            a = gen_leaf(g, s, t);
        return bin(g, ops[op], PT_BOOL, a, b);
    }
    if (r < 55)
        return bin(g, pick(g, 2) ? "AND" : "OR", PT_BOOL, gen_x(g, s, PT_BOOL, depth - 1),
                   gen_x(g, s, PT_BOOL, depth - 1));
    if (r < 62)
        return un(g, X_PRE, "NOT", PT_BOOL, gen_x(g, s, PT_BOOL, depth - 1));
    if (r < 76)
        return un(g, X_POST, pick(g, 2) ? "IS NULL" : "IS NOT NULL", PT_BOOL,
                  gen_x(g, s, pick(g, 3), depth - 1));
    if (r < 86) {
        mark(g, PC_BETWEEN_IN);
        int t = pick(g, 3);
        pexpr *e = pt_expr_new(g->c, X_BETWEEN, PT_BOOL, 3);
        e->args[0] = gen_x(g, s, t, depth - 1);
        for (int tries = 0; !has_col(e->args[0]) && tries < 3; tries++)
            e->args[0] = gen_leaf(g, s, t);
        e->args[1] = lit(g, t);
        e->args[2] = pt_pct(&g->r, 80) ? lit(g, t) : gen_x(g, s, t, depth - 1);
        if (pt_pct(&g->r, 25))
            e->flags |= XF_NOT;
        return e;
    }
    if (r < 95) {
        mark(g, PC_BETWEEN_IN);
        int t = pick(g, 3);
        int n = 1 + pick(g, 3);
        pexpr *e = pt_expr_new(g->c, X_INLIST, PT_BOOL, 1 + n);
        e->args[0] = gen_x(g, s, t, depth - 1);
        for (int tries = 0; !has_col(e->args[0]) && tries < 3; tries++)
            e->args[0] = gen_leaf(g, s, t);
        for (int i = 1; i <= n; i++)
            e->args[i] = pt_pct(&g->r, 8) ? null_lit(g, t) : lit(g, t);
        if (pt_pct(&g->r, 25))
            e->flags |= XF_NOT;
        return e;
    }
    return gen_case(g, s, PT_BOOL, depth);
}

static pexpr *gen_x(gctx *g, gscope *s, int type, int depth)
{
    if (depth <= 0 || pt_pct(&g->r, 30))
        return gen_leaf(g, s, type);
    if (type == PT_BOOL)
        return gen_bool(g, s, depth);
    int r = pick(g, 100);
    if (s->sub_ok && !s->agg && want(g, PC_SCALAR_SUBQUERY, 15))
        return gen_subq_expr(g, s, 0, type);
    switch (type) {
    case PT_INT:
        if (r < 35) {
            static const char *const ops[] = {"+", "-", "*", "/", "%", "+", "-"};
            return bin(g, ops[pick(g, NELEM(ops))], PT_INT, gen_x(g, s, PT_INT, depth - 1),
                       gen_x(g, s, PT_INT, depth - 1));
        }
        if (r < 42)
            return un(g, X_PRE, "-", PT_INT, gen_x(g, s, PT_INT, depth - 1));
        if (r < 48) {
            pexpr *e = func(g, "abs", PT_INT, 1);
            e->args[0] = gen_x(g, s, PT_INT, depth - 1);
            return e;
        }
        if (r < 55) {
            pexpr *e = func(g, "length", PT_INT, 1);
            e->args[0] = gen_x(g, s, PT_TEXT, depth - 1);
            return e;
        }
        if (r < 66)
            return gen_case(g, s, PT_INT, depth);
        if (r < 74)
            return gen_cast(g, s, PT_INT, depth);
        if (r < 84)
            return gen_coalesce(g, s, PT_INT, depth);
        if (r < 90 && want(g, PC_OTHER_FUNC, 30)) {
            mark(g, PC_OTHER_FUNC);
            pexpr *e = func(g, pick(g, 2) ? "max" : "instr", PT_INT, 2);
            int t = strcmp(e->op, "max") == 0 ? PT_INT : PT_TEXT;
            e->args[0] = gen_x(g, s, t, depth - 1);
            e->args[1] = gen_x(g, s, t, depth - 1);
            return e;
        }
        return gen_x(g, s, PT_BOOL, depth);
    case PT_REAL:
        if (r < 40) {
            static const char *const ops[] = {"+", "-", "*", "/", "+", "*", "%"};
            int lt = PT_REAL, rt = pick(g, 2) ? PT_REAL : PT_INT;
            if (pick(g, 2)) {
                lt = rt;
                rt = PT_REAL;
            }
            return bin(g, ops[pick(g, NELEM(ops))], PT_REAL, gen_x(g, s, lt, depth - 1),
                       gen_x(g, s, rt, depth - 1));
        }
        if (r < 46)
            return un(g, X_PRE, "-", PT_REAL, gen_x(g, s, PT_REAL, depth - 1));
        if (r < 50) {
            pexpr *e = func(g, "abs", PT_REAL, 1);
            e->args[0] = gen_x(g, s, PT_REAL, depth - 1);
            return e;
        }
        if (r < 64)
            return gen_case(g, s, PT_REAL, depth);
        if (r < 74)
            return gen_cast(g, s, PT_REAL, depth);
        if (r < 86)
            return gen_coalesce(g, s, PT_REAL, depth);
        if (want(g, PC_OTHER_FUNC, 30)) {
            mark(g, PC_OTHER_FUNC);
            pexpr *e = func(g, "round", PT_REAL, 2);
            e->args[0] = gen_x(g, s, PT_REAL, depth - 1);
            e->args[1] = pt_lit(g->c, PT_INT, "1");
            return e;
        }
        return gen_leaf(g, s, PT_REAL);
    default:
        if (r < 35) {
            mark(g, PC_CONCAT);
            int lt = pt_pct(&g->r, 75) ? PT_TEXT : pick(g, 2);
            int rt = pt_pct(&g->r, 75) ? PT_TEXT : pick(g, 2);
            return bin(g, "||", PT_TEXT, gen_x(g, s, lt, depth - 1), gen_x(g, s, rt, depth - 1));
        }
        if (r < 45) {
            pexpr *e = func(g, pick(g, 2) ? "lower" : "upper", PT_TEXT, 1);
            e->args[0] = gen_x(g, s, PT_TEXT, depth - 1);
            return e;
        }
        if (r < 60)
            return gen_case(g, s, PT_TEXT, depth);
        if (r < 70)
            return gen_cast(g, s, PT_TEXT, depth);
        if (r < 82)
            return gen_coalesce(g, s, PT_TEXT, depth);
        if (want(g, PC_OTHER_FUNC, 30)) {
            mark(g, PC_OTHER_FUNC);
            pexpr *e = func(g, "substr", PT_TEXT, 3);
            e->args[0] = gen_x(g, s, PT_TEXT, depth - 1);
            e->args[1] = pt_lit(g->c, PT_INT, pick(g, 2) ? "1" : "2");
            e->args[2] = pt_lit(g->c, PT_INT, "2");
            return e;
        }
        return gen_leaf(g, s, PT_TEXT);
    }
}

/* ---- Queries ------------------------------------------------------------------------ */

static void new_alias(gctx *g, psrc *s)
{
    snprintf(s->alias, sizeof s->alias, "x%d", ++g->alias_n % 1000);
}

static void scope_add_src(const pcase *c, gscope *sc, const psrc *s)
{
    int n = pt_src_ncols(c, s);
    for (int i = 0; i < n && sc->n < GS_MAX_COLS; i++) {
        int type;
        bool dead;
        pt_src_col(c, s, i, &type, &dead);
        if (dead)
            continue;
        sc->cols[sc->n].src = s;
        sc->cols[sc->n].tab = NULL;
        sc->cols[sc->n].col = i;
        sc->cols[sc->n].type = type;
        sc->n++;
    }
}

static pexpr *and_(gctx *g, pexpr *a, pexpr *b)
{
    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    return bin(g, "AND", PT_BOOL, a, b);
}

/* The condition joining src k to one of the sources before it: equalities
 * between columns of alike classes, or NULL if they share no class. */
static pexpr *gen_join_cond(gctx *g, pquery *q, int k)
{
    gscope left = {0}, right = {0};
    for (int i = 0; i < k; i++)
        scope_add_src(g->c, &left, &q->src[i]);
    scope_add_src(g->c, &right, &q->src[k]);
    pexpr *cond = NULL;
    int nkeys = pt_pct(&g->r, 20) ? 2 : 1;
    for (int kk = 0; kk < nkeys; kk++) {
        int tries = 0;
        while (tries++ < 8) {
            const gcol *r = &right.cols[pick(g, right.n)];
            bool numeric = !((g->o->avoid >> PC_NUM_KEY) & 1u) && pt_pct(&g->r, 15);
            const gcol *l = find_col(g, left.cols, left.n, r->type, numeric);
            if (l == NULL)
                continue;
            if (l->type != r->type)
                mark(g, PC_NUM_KEY);
            pexpr *le = col_ref(g, l), *re = col_ref(g, r);
            if (r->type != PT_TEXT && pt_pct(&g->r, 12))
                le = bin(g, pick(g, 2) ? "+" : "-", l->type, le, pt_lit(g->c, PT_INT, "1"));
            cond = and_(g, cond, pt_pct(&g->r, 50) ? bin(g, "=", PT_BOOL, le, re)
                                                   : bin(g, "=", PT_BOOL, re, le));
            break;
        }
    }
    if (cond != NULL && pt_pct(&g->r, 15)) {
        gscope both = left;
        for (int i = 0; i < right.n && both.n < GS_MAX_COLS; i++)
            both.cols[both.n++] = right.cols[i];
        cond = and_(g, cond, gen_x(g, &both, PT_BOOL, 1));
    }
    return cond;
}

static void item_name(pitem *it, int i)
{
    snprintf(it->name, sizeof it->name, "c%d", i % 100);
}

/* Result columns of a query without aggregates: columns and expressions,
 * of the given classes when types is not NULL. */
static void gen_items(gctx *g, gscope *s, pquery *q, int n, const int *types)
{
    q->nitems = n;
    for (int i = 0; i < n; i++) {
        pitem *it = &q->items[i];
        int t = types ? types[i] : pick(g, 3);
        if (s->agg)
            it->e = gen_x(g, s, t, 1 + pick(g, 2));
        else if (pt_pct(&g->r, 50) && find_col(g, s->cols, s->n, t, false) != NULL)
            it->e = col_ref(g, find_col(g, s->cols, s->n, t, false));
        else
            it->e = gen_x(g, s, t, 1 + pick(g, 3));
        it->type = (uint8_t)(it->e->type == PT_BOOL ? PT_INT : it->e->type);
        if (types != NULL && it->type != types[i])
            it->type = (uint8_t)types[i];
        item_name(it, i);
    }
}

static pquery *gen_query_core(gctx *g, gscope *outer, const int *types, int ntypes, int depth);

/* The construct a set operation counts as. */
static pcons setop_cons(int setop)
{
    return setop == SET_INTERSECT ? PC_INTERSECT : setop == SET_EXCEPT ? PC_EXCEPT : PC_UNION;
}

/* A FROM item: a table, an earlier view or (rarely) a subquery. */
static void gen_src(gctx *g, pquery *q, int k, int depth)
{
    psrc *s = &q->src[k];
    new_alias(g, s);
    s->kind = SRC_TABLE;
    if (g->nviews_live > 0 && depth == 0 && pt_pct(&g->r, 22)) {
        s->kind = SRC_VIEW;
        s->rel = pick(g, g->nviews_live);
        mark(g, PC_VIEW_ON_VIEW);
        return;
    }
    if (depth == 0 && want(g, PC_FROM_SUBQUERY, 20)) {
        s->kind = SRC_SUB;
        s->sub = gen_query_core(g, NULL, NULL, 0, depth + 1);
        mark(g, PC_FROM_SUBQUERY);
        /* Sometimes a compound: a second member of the same classes. */
        if (!s->sub->star && pt_pct(&g->r, 20)) {
            int types[PT_MAX_ITEMS] = {0};
            for (int i = 0; i < s->sub->nitems; i++)
                types[i] = s->sub->items[i].type;
            s->sub->setop = SET_UNION + pick(g, 4);
            s->sub->next = gen_query_core(g, NULL, types, s->sub->nitems, depth + 1);
            mark(g, setop_cons(s->sub->setop));
        }
        return;
    }
    s->rel = pick(g, g->c->ntables);
    for (int i = 0; i < k; i++)
        if (q->src[i].kind == SRC_TABLE && q->src[i].rel == s->rel)
            mark(g, PC_SELF_JOIN);
}

/* One SELECT (no compound, no ORDER BY).  types/ntypes fix the result
 * classes (compound members); depth > 0 for nested queries. */
static pquery *gen_query_core(gctx *g, gscope *outer, const int *types, int ntypes, int depth)
{
    pquery *q = pt_alloc(g->c, sizeof *q);
    q->limit = -1;
    int r = pick(g, 100);
    int nsrc = depth > 0 ? 1 : r < 45 ? 1 : r < 78 ? 2 : r < 93 ? 3 : 4;
    if (g->target == PC_OUTER_JOIN && nsrc < 2 && depth == 0)
        nsrc = 2;
    q->nsrc = 0;
    bool comma = pt_pct(&g->r, 40);
    pexpr *where_keys = NULL;
    for (int k = 0; k < nsrc; k++) {
        uint64_t before = g->cons;
        gen_src(g, q, k, depth);
        q->nsrc = k + 1;
        if (k == 0) {
            q->src[k].join = J_FIRST;
            continue;
        }
        /* Cross joins only between two items: more would multiply rows. */
        pexpr *cond = gen_join_cond(g, q, k);
        bool cross = cond == NULL || (nsrc == 2 && pt_pct(&g->r, 8));
        if (cross && nsrc > 2) {
            q->nsrc = k;
            g->cons = before;
            break;
        }
        if (cross) {
            mark(g, PC_CROSS);
            q->src[k].join = pick(g, 2) ? J_COMMA : J_CROSS;
            continue;
        }
        bool outer_join = want(g, PC_OUTER_JOIN, 30);
        if (outer_join) {
            int j = pick(g, 10);
            q->src[k].join = j < 7 ? J_LEFT : j < 9 ? J_RIGHT : J_FULL;
            q->src[k].on = cond;
            mark(g, PC_OUTER_JOIN);
        } else if (comma) {
            q->src[k].join = J_COMMA;
            where_keys = and_(g, where_keys, cond);
            mark(g, PC_JOIN_COMMA);
        } else {
            q->src[k].join = J_INNER;
            q->src[k].on = cond;
            mark(g, PC_JOIN_ON);
        }
    }
    if (q->nsrc >= 3)
        mark(g, PC_JOIN_3);

    gscope s = {0};
    for (int k = 0; k < q->nsrc; k++)
        scope_add_src(g->c, &s, &q->src[k]);
    if (outer != NULL) {
        s.outer = outer->cols;
        s.nouter = outer->n;
    }
    s.sub_ok = depth == 0;
    s.q = q;

    pexpr *w = NULL;
    if (pt_pct(&g->r, 55)) {
        w = gen_x(g, &s, PT_BOOL, 1 + pick(g, 3));
        mark(g, PC_WHERE);
    }
    q->where = and_(g, where_keys, w);

    /* Aggregates: with GROUP BY, or over the whole input. */
    bool agg = pt_pct(&g->r, 40) || g->target == PC_AGG_DISTINCT || g->target == PC_AGG_FILTER;
    if (depth > 0 && types == NULL)
        agg = agg && pt_pct(&g->r, 50);
    if (agg) {
        q->agg = true;
        if (pt_pct(&g->r, 82)) {
            q->ngroup = 1 + (pt_pct(&g->r, 35) ? 1 : 0);
            for (int i = 0; i < q->ngroup; i++) {
                int t = pick(g, 3);
                const gcol *gc = find_col(g, s.cols, s.n, t, false);
                pexpr *e = gc != NULL && pt_pct(&g->r, 75) ? col_ref(g, gc)
                                                           : gen_x(g, &s, t, 1 + pick(g, 2));
                /* A constant groups nothing, and an integer one (-1 too)
                 * would name a result column. */
                for (int tries = 0; !has_col(e) && tries < 10; tries++) {
                    uint64_t before = g->cons;
                    e = gen_x(g, &s, t, 2);
                    if (!has_col(e))
                        g->cons = before;
                }
                if (!has_col(e))
                    e = col_ref(g, &s.cols[pick(g, s.n)]);
                q->group[i] = e;
                s.gtypes[i] = e->type == PT_BOOL ? PT_INT : e->type;
            }
            mark(g, PC_GROUP_BY);
        } else {
            mark(g, PC_AGG_GLOBAL);
        }
        s.agg = true;
        if (q->ngroup > 0 && pt_pct(&g->r, 30)) {
            q->having = gen_x(g, &s, PT_BOOL, 1 + pick(g, 2));
            mark(g, PC_HAVING);
        }
        if (types != NULL) {
            gen_items(g, &s, q, ntypes, types);
        } else {
            /* GROUP BY terms (usually), then aggregates. */
            int n = 0;
            for (int i = 0; i < q->ngroup && n < PT_MAX_ITEMS; i++) {
                if (!pt_pct(&g->r, 85))
                    continue;
                pexpr *e = pt_expr_new(g->c, X_GROUP, s.gtypes[i], 0);
                e->col = i;
                e->owner = q;
                q->items[n].e = e;
                q->items[n].type = (uint8_t)s.gtypes[i];
                item_name(&q->items[n], n);
                n++;
            }
            int na = 1 + pick(g, 3);
            for (int i = 0; i < na && n < PT_MAX_ITEMS; i++) {
                int t = pick(g, 10) < 5 ? PT_INT : pick(g, 2) ? PT_REAL : PT_TEXT;
                pexpr *e = pt_pct(&g->r, 70) ? gen_agg(g, &s, t) : gen_x(g, &s, t, 2);
                q->items[n].e = e;
                q->items[n].type = (uint8_t)(e->type == PT_BOOL ? PT_INT : e->type);
                item_name(&q->items[n], n);
                n++;
            }
            q->nitems = n;
        }
    } else if (types == NULL && depth == 0 && q->nsrc == 1 && pt_pct(&g->r, 8)) {
        /* SELECT *: the items mirror the FROM item's columns. */
        q->star = true;
        mark(g, PC_STAR);
        q->nitems = pt_src_ncols(g->c, &q->src[0]);
        if (q->nitems > PT_MAX_ITEMS)
            q->nitems = PT_MAX_ITEMS;
        for (int i = 0; i < q->nitems; i++) {
            int type;
            const char *name = pt_src_col(g->c, &q->src[0], i, &type, NULL);
            gcol gc = {&q->src[0], NULL, i, type};
            q->items[i].e = col_ref(g, &gc);
            q->items[i].type = (uint8_t)type;
            snprintf(q->items[i].name, sizeof q->items[i].name, "%s", name);
        }
    } else {
        int n = types ? ntypes : 1 + pick(g, 4);
        gen_items(g, &s, q, n, types);
    }
    if (pt_pct(&g->r, 15)) {
        q->distinct = true;
        mark(g, PC_DISTINCT);
    }
    return q;
}

/* A subquery for IN (one column of class type), EXISTS, or a scalar
 * (an aggregate without GROUP BY: always exactly one row). */
static pquery *gen_subquery(gctx *g, gscope *outer, int kind, int type)
{
    pquery *q = pt_alloc(g->c, sizeof *q);
    q->limit = -1;
    q->nsrc = 1;
    new_alias(g, &q->src[0]);
    q->src[0].kind = SRC_TABLE;
    q->src[0].rel = pick(g, g->c->ntables);
    gscope s = {0};
    scope_add_src(g->c, &s, &q->src[0]);
    s.outer = outer->cols;
    s.nouter = outer->n;
    s.q = q;
    pexpr *w = NULL;
    /* Correlated now and then: an inner column equal to an outer one. */
    if (outer->n > 0 && pt_pct(&g->r, 50)) {
        const gcol *o = &outer->cols[pick(g, outer->n)];
        const gcol *i = find_col(g, s.cols, s.n, o->type, false);
        if (i != NULL)
            w = bin(g, "=", PT_BOOL, col_ref(g, i), col_ref(g, o));
    }
    gscope inner = s;
    inner.nouter = 0;
    if (pt_pct(&g->r, 50))
        w = and_(g, w, gen_x(g, &inner, PT_BOOL, 1));
    q->where = w;
    q->nitems = 1;
    item_name(&q->items[0], 0);
    if (kind == XF_EXISTS) {
        q->items[0].e = pt_lit(g->c, PT_INT, "1");
        q->items[0].type = PT_INT;
    } else if (kind == XF_IN) {
        const gcol *c = find_col(g, s.cols, s.n, type, false);
        q->items[0].e = c ? col_ref(g, c) : gen_x(g, &inner, type, 1);
        q->items[0].type = (uint8_t)type;
    } else {
        q->agg = true;
        inner.agg = true;
        q->items[0].e = gen_agg(g, &inner, type);
        q->items[0].type = (uint8_t)(type == PT_BOOL ? PT_INT : type);
    }
    return q;
}

static const pcons unsupported_list[] = {
    PC_LIKE, PC_OUTER_JOIN, PC_IN_SUBQUERY, PC_EXISTS, PC_SCALAR_SUBQUERY, PC_UNION,
    PC_INTERSECT, PC_EXCEPT, PC_ORDER_LIMIT, PC_AGG_DISTINCT, PC_AGG_FILTER,
    PC_FROM_SUBQUERY, PC_WITH, PC_OTHER_FUNC, PC_MIXED_TYPES,
};

/* A view's query.  If the view must use its target construct and the
 * random choices did not bring it in, it is added at the end. */
static pquery *gen_view_query(gctx *g)
{
    pquery *q = gen_query_core(g, NULL, NULL, 0, 0);
    gscope s = {0};
    for (int k = 0; k < q->nsrc; k++)
        scope_add_src(g->c, &s, &q->src[k]);
    s.sub_ok = true;
    s.q = q;
    if (g->target >= 0 && !has(g, (pcons)g->target)) {
        switch (g->target) {
        case PC_LIKE:
        case PC_IN_SUBQUERY:
        case PC_EXISTS:
        case PC_MIXED_TYPES: {
            int saved = g->target;
            for (int tries = 0; tries < 20 && !has(g, (pcons)saved); tries++) {
                uint64_t before = g->cons;
                pexpr *x = gen_bool(g, &s, 2);
                if (has(g, (pcons)saved))
                    q->where = and_(g, q->where, x);
                else
                    g->cons = before;
            }
            break;
        }
        case PC_SCALAR_SUBQUERY: {
            int t = pick(g, 2) ? PT_INT : PT_REAL;
            pexpr *x = gen_subq_expr(g, &s, 0, t);
            q->where = and_(g, q->where, un(g, X_POST, "IS NOT NULL", PT_BOOL, x));
            break;
        }
        case PC_OTHER_FUNC: {
            for (int tries = 0; tries < 40 && !has(g, PC_OTHER_FUNC); tries++) {
                uint64_t before = g->cons;
                pexpr *x = gen_x(g, &s, pick(g, 3), 2);
                if (has(g, PC_OTHER_FUNC))
                    q->where = and_(g, q->where, un(g, X_POST, "IS NOT NULL", PT_BOOL, x));
                else
                    g->cons = before;
            }
            break;
        }
        default:
            break;
        }
    }
    /* Set operations: a second SELECT of the same classes. */
    int setop = SET_NONE;
    if (g->target == PC_UNION || want(g, PC_UNION, 5))
        setop = pt_pct(&g->r, 50) ? SET_UNION : SET_UNION_ALL;
    else if (g->target == PC_INTERSECT || want(g, PC_INTERSECT, 5))
        setop = SET_INTERSECT;
    else if (g->target == PC_EXCEPT || want(g, PC_EXCEPT, 5))
        setop = SET_EXCEPT;
    if (setop != SET_NONE) {
        int types[PT_MAX_ITEMS] = {0};
        for (int i = 0; i < q->nitems; i++)
            types[i] = q->items[i].type;
        q->setop = setop;
        q->next = gen_query_core(g, NULL, types, q->nitems, 1);
        mark(g, setop_cons(setop));
        /* Now and then a third member: a chain runs left to right. */
        if (pt_pct(&g->r, 30)) {
            q->next->setop = SET_UNION + pick(g, 4);
            q->next->next = gen_query_core(g, NULL, types, q->nitems, 1);
            mark(g, setop_cons(q->next->setop));
        }
    }
    if (g->target == PC_ORDER_LIMIT || want(g, PC_ORDER_LIMIT, 5)) {
        q->limit = 1 + pick(g, 5);
        mark(g, PC_ORDER_LIMIT);
    }
    if (q->limit < 0 && pt_pct(&g->r, 5)) {
        q->order = true;
        mark(g, PC_ORDER);
    }
    if (g->target == PC_WITH || want(g, PC_WITH, 4)) {
        q->with = true;
        int r2 = pick(g, 10);
        q->with_twice = r2 < 3 ? SET_UNION_ALL : r2 < 5 ? SET_INTERSECT : SET_NONE;
        mark(g, PC_WITH);
    }
    return q;
}

/* ---- Schema ------------------------------------------------------------------------- */

static void gen_table(gctx *g, ptable *t, int idx)
{
    snprintf(t->name, sizeof t->name, "t%d", (idx + 1) % 100);
    t->ncols = 2 + pick(g, 4);
    for (int i = 0; i < t->ncols; i++) {
        pcol *c = &t->cols[i];
        snprintf(c->name, sizeof c->name, "%c", 'a' + i);
        int r = pick(g, 100);
        c->type = r < 45 ? PT_INT : r < 65 ? PT_REAL : PT_TEXT;
        static const char *const ints[] = {"INTEGER", "INTEGER", "INTEGER", "INT", "BIGINT"};
        static const char *const reals[] = {"REAL", "REAL", "DOUBLE", "FLOAT"};
        static const char *const texts[] = {"TEXT", "TEXT", "TEXT", "VARCHAR(10)"};
        c->decl = c->type == PT_INT ? ints[pick(g, 5)]
                  : c->type == PT_REAL ? reals[pick(g, 4)] : texts[pick(g, 4)];
        c->not_null = pt_pct(&g->r, 15);
        if (pt_pct(&g->r, 10))
            c->dflt = lit_text(g, c->type);
    }
    int r = pick(g, 100);
    if (r < 45) {
        /* One key column: INTEGER PRIMARY KEY (the rowid) or another class. */
        t->npk = 1;
        t->pk[0] = 0;
        t->pk_inline = true;
        if (pt_pct(&g->r, 70)) {
            t->cols[0].type = PT_INT;
            t->cols[0].decl = "INTEGER";
        } else if (t->cols[0].type == PT_INT) {
            t->cols[0].decl = "INT";
        }
        t->cols[0].not_null = true;
        t->cols[0].dflt = NULL;
    } else if (r < 60) {
        /* A composite key; SQLite allows NULL in it unless NOT NULL says. */
        t->npk = 2;
        t->pk[0] = 0;
        t->pk[1] = 1;
        t->cols[0].not_null = t->cols[1].not_null = true;
        t->cols[0].dflt = t->cols[1].dflt = NULL;
    }
}

static bool is_rowid(const ptable *t, int col)
{
    return t->npk == 1 && t->pk[0] == col && strcmp(t->cols[col].decl, "INTEGER") == 0;
}

static bool is_pk(const ptable *t, int col)
{
    for (int i = 0; i < t->npk; i++)
        if (t->pk[i] == col)
            return true;
    return false;
}

/* A value for a column, as a literal: NULL now and then (which fails on
 * NOT NULL columns, except the rowid, where SQLite would pick a key), and
 * sometimes in a form the column's affinity converts. */
static pexpr *gen_value(gctx *g, const ptable *t, int col)
{
    const pcol *c = &t->cols[col];
    char buf[32];
    bool key = is_pk(t, col);
    if (!is_rowid(t, col) && pt_pct(&g->r, c->not_null ? 2 : 14))
        return null_lit(g, c->type);
    switch (c->type) {
    case PT_INT: {
        int v = key ? pick(g, 24) : pick(g, 9) - 2;
        if (!key && pt_pct(&g->r, 3))
            v = 1000 + pick(g, 3);
        if (pt_pct(&g->r, g->o->edge_pct)) {
            /* Around 2^53, where a REAL no longer holds every integer;
             * small enough that sums of a few hundred do not overflow. */
            static const char *const big[] = {"9007199254740993", "9007199254740992",
                                              "-9007199254740993", "9007199254740995"};
            return pt_lit(g->c, PT_INT, big[pick(g, 4)]);
        }
        if (pt_pct(&g->r, 4)) {
            /* Text the column's affinity turns into this integer; with
             * spaces around it now and then (a statement value, not a view
             * construct, but left out with --avoid padded-number). */
            static const char *const forms[] = {"'%d'", "'%d.0'", "' %d'", "'%d '"};
            bool pad = !((g->o->avoid >> PC_PADDED) & 1u);
            snprintf(buf, sizeof buf, forms[pick(g, pad ? 4 : 2)], v);
        } else {
            snprintf(buf, sizeof buf, "%d", v);
        }
        return pt_lit(g->c, PT_INT, buf);
    }
    case PT_REAL:
        if (pt_pct(&g->r, g->o->edge_pct)) {
            /* Not beyond 2^63: CAST to INTEGER would saturate and SUM
             * overflow (see regressions/known_sum_overflow_at_commit.sql). */
            static const char *const big[] = {"9007199254740992.0", "1.5e15", "0.1", "-1e-5"};
            return pt_lit(g->c, PT_REAL, big[pick(g, 4)]);
        }
        if (pt_pct(&g->r, 10)) {
            snprintf(buf, sizeof buf, "%d", pick(g, 5) - 1);
            return pt_lit(g->c, PT_REAL, buf);
        }
        if (pt_pct(&g->r, 3)) {
            bool pad = !((g->o->avoid >> PC_PADDED) & 1u);
            static const char *const forms[] = {"'2.5'", "'-0.5'", "' 1.5'", "'0.25 '"};
            return pt_lit(g->c, PT_REAL, forms[pick(g, pad ? 4 : 2)]);
        }
        return lit(g, PT_REAL);
    default:
        if (key) {
            snprintf(buf, sizeof buf, "'k%d'", pick(g, 16));
            return pt_lit(g->c, PT_TEXT, buf);
        }
        if (pt_pct(&g->r, 3))
            return pt_lit(g->c, PT_TEXT, pick(g, 2) ? "12" : "1.5");
        return lit(g, PT_TEXT);
    }
}

static void dml_scope(const ptable *t, gscope *s)
{
    memset(s, 0, sizeof *s);
    s->dml = true;
    for (int i = 0; i < t->ncols; i++) {
        s->cols[s->n].tab = t;
        s->cols[s->n].col = i;
        s->cols[s->n].type = t->cols[i].type;
        s->n++;
    }
}

static void gen_insert(gctx *g, int ti)
{
    const ptable *t = &g->c->tables[ti];
    pstep *st = pt_step_add(g->c, S_INSERT, ti);
    int r = pick(g, 100);
    st->nrows = r < 55 ? 1 : r < 80 ? 2 : r < 93 ? 3 : 5;
    if (g->bulk && pt_pct(&g->r, 50))
        st->nrows = 4 + pick(g, 12);
    st->rows = pt_alloc(g->c, sizeof *st->rows * (size_t)st->nrows);
    if (pt_pct(&g->r, 12)) {
        /* A column list: the others take their DEFAULT (or NULL). */
        st->named = pt_alloc(g->c, sizeof *st->named * (size_t)t->ncols);
        int n = 0;
        for (int i = 0; i < t->ncols; i++) {
            st->named[i] = is_pk(t, i) || pt_pct(&g->r, 60);
            n += st->named[i];
        }
        if (n == 0)
            st->named[0] = true;
    }
    for (int rr = 0; rr < st->nrows; rr++) {
        st->rows[rr].vals = pt_alloc(g->c, sizeof(pexpr *) * (size_t)t->ncols);
        for (int i = 0; i < t->ncols; i++)
            st->rows[rr].vals[i] = gen_value(g, t, i);
    }
}

/* INSERT ... SELECT: each column filled by a value of its class read from
 * a table or a view (its maintained contents).  The rowid never gets a
 * NULL: SQLite would pick a key where ivm fails. */
static void gen_insert_select(gctx *g, int ti)
{
    const ptable *t = &g->c->tables[ti];
    pstep *st = pt_step_add(g->c, S_INSERT, ti);
    pquery *q = pt_alloc(g->c, sizeof *q);
    st->sel = q;
    q->limit = -1;
    q->nsrc = 1;
    g->alias_n = 0;
    new_alias(g, &q->src[0]);
    q->src[0].kind = SRC_TABLE;
    q->src[0].rel = pick(g, g->c->ntables);
    if (g->nviews_live > 0 && pt_pct(&g->r, 30)) {
        q->src[0].kind = SRC_VIEW;
        q->src[0].rel = pick(g, g->nviews_live);
    }
    gscope s = {0};
    scope_add_src(g->c, &s, &q->src[0]);
    s.q = q;
    if (pt_pct(&g->r, 70))
        q->where = gen_x(g, &s, PT_BOOL, 1 + pick(g, 2));
    q->distinct = pt_pct(&g->r, 20);
    q->nitems = t->ncols;
    for (int i = 0; i < t->ncols; i++) {
        int type = t->cols[i].type;
        const gcol *gc = find_col(g, s.cols, s.n, type, type == PT_REAL);
        pexpr *e;
        if (gc != NULL && pt_pct(&g->r, 75))
            e = col_ref(g, gc);
        else if (pt_pct(&g->r, 10) && !is_rowid(t, i))
            e = null_lit(g, type);
        else
            e = gen_value(g, t, i);
        if (gc != NULL && gc->type == PT_INT && type == PT_INT && !is_pk(t, i) &&
            pt_pct(&g->r, 20))
            e = bin(g, "+", PT_INT, e, pt_lit(g->c, PT_INT, "1"));
        if (is_rowid(t, i) && e->kind != X_LIT) {
            pexpr *f = func(g, "coalesce", PT_INT, 2);
            f->args[0] = e;
            f->args[1] = pt_lit(g->c, PT_INT, "0");
            e = f;
        }
        q->items[i].e = e;
        q->items[i].type = (uint8_t)type;
        item_name(&q->items[i], i);
    }
}

static void gen_delete(gctx *g, int ti)
{
    const ptable *t = &g->c->tables[ti];
    pstep *st = pt_step_add(g->c, S_DELETE, ti);
    gscope s;
    dml_scope(t, &s);
    if (!pt_pct(&g->r, 3))
        st->where = gen_x(g, &s, PT_BOOL, 1 + pick(g, 2));
}

/* UPDATE keeps each column's class (ivm's columns are typed).  A key
 * column is only set to a constant, or shifted by 1000 within a guard: SQLite
 * checks uniqueness row by row and ivm for the whole statement, and for these
 * two forms the two agree on whether the statement fails. */
static void gen_update(gctx *g, int ti)
{
    const ptable *t = &g->c->tables[ti];
    pstep *st = pt_step_add(g->c, S_UPDATE, ti);
    gscope s;
    dml_scope(t, &s);
    pexpr *guard = NULL;
    if (t->npk > 0 && pt_pct(&g->r, 15)) {
        int col = t->pk[pick(g, t->npk)];
        st->setcol[0] = col;
        st->nset = 1;
        gcol gc = {NULL, t, col, t->cols[col].type};
        if (t->cols[col].type == PT_INT && pt_pct(&g->r, 50)) {
            bool up = pick(g, 2);
            st->setval[0] = bin(g, up ? "+" : "-", PT_INT, col_ref(g, &gc),
                                pt_lit(g->c, PT_INT, "1000"));
            guard = bin(g, up ? "<" : ">=", PT_BOOL, col_ref(g, &gc),
                        pt_lit(g->c, PT_INT, "1000"));
        } else {
            st->setval[0] = gen_value(g, t, col);
        }
    } else {
        int cand[PT_MAX_COLS], nc = 0;
        for (int i = 0; i < t->ncols; i++)
            if (!is_pk(t, i))
                cand[nc++] = i;
        if (nc == 0) {
            st->kind = S_DELETE;
            st->where = gen_x(g, &s, PT_BOOL, 1);
            return;
        }
        st->nset = 1 + (nc > 1 && pt_pct(&g->r, 35) ? 1 : 0);
        for (int i = 0; i < st->nset; i++) {
            int col = cand[pick(g, nc)];
            if (i == 1 && col == st->setcol[0]) {
                st->nset = 1;
                break;
            }
            st->setcol[i] = col;
            int type = t->cols[col].type;
            int r = pick(g, 100);
            gcol gc = {NULL, t, col, type};
            if (r < 30) {
                st->setval[i] = gen_value(g, t, col);
            } else if (r < 60) {
                const char *op = type == PT_TEXT ? "||" : pick(g, 2) ? "+" : "-";
                pexpr *k = type == PT_TEXT ? pt_lit(g->c, PT_TEXT, "'x'")
                                           : type == PT_INT ? pt_lit(g->c, PT_INT, "1")
                                                            : pt_lit(g->c, PT_REAL, "0.5");
                st->setval[i] = bin(g, op, type, col_ref(g, &gc), k);
            } else {
                st->setval[i] = gen_x(g, &s, type, 1 + pick(g, 2));
                /* Repeated updates must not grow integers into REALs. */
                if (type == PT_INT)
                    st->setval[i] = bin(g, "%", PT_INT, st->setval[i],
                                        pt_lit(g->c, PT_INT, "1000"));
            }
        }
    }
    if (!pt_pct(&g->r, 4) || guard != NULL)
        st->where = and_(g, guard, gen_x(g, &s, PT_BOOL, 1 + pick(g, 2)));
}

/* DELETE of exactly the first row the last INSERT wrote (columns compared
 * with IS, so NULLs match): inside a transaction, a change and its undoing
 * in the same commit. */
static void gen_undo_insert(gctx *g)
{
    const pstep *ins = &g->c->steps[g->c->nsteps - 1];
    if (ins->kind != S_INSERT || ins->sel != NULL || ins->nrows == 0)
        return;
    const ptable *t = &g->c->tables[ins->rel];
    pstep *st = pt_step_add(g->c, S_DELETE, ins->rel);
    pexpr *w = NULL;
    for (int i = 0; i < t->ncols; i++) {
        if (ins->named != NULL && !ins->named[i])
            continue;
        gcol gc = {NULL, t, i, t->cols[i].type};
        pexpr *v = ins->rows[0].vals[i];
        bool quoted = v->lit != NULL && v->lit[0] == '\'';
        bool null = v->lit != NULL && strcmp(v->lit, "NULL") == 0;
        if (!null && quoted != (t->cols[i].type == PT_TEXT) &&
            ((g->o->avoid >> PC_MIXED_TYPES) & 1u)) {
            /* '3' for an INTEGER column, 12 for a TEXT one: compared as
             * written it is a mixed-types comparison, so cast it unless
             * those are wanted. */
            static const char *const names[] = {[PT_INT] = "INTEGER", [PT_REAL] = "REAL",
                                                [PT_TEXT] = "TEXT"};
            v = un(g, X_CAST, names[t->cols[i].type], t->cols[i].type, v);
        }
        w = and_(g, w, bin(g, "IS", PT_BOOL, col_ref(g, &gc), v));
    }
    st->where = w;
}

static void gen_dml(gctx *g)
{
    int ti = pick(g, g->c->ntables);
    int r = pick(g, 100);
    if (r < 6)
        gen_insert_select(g, ti);
    else if (r < 50)
        gen_insert(g, ti);
    else if (r < 68)
        gen_delete(g, ti);
    else
        gen_update(g, ti);
}

static void gen_view(gctx *g, uint64_t avoid)
{
    pcase *c = g->c;
    int vi = c->nviews++;
    pview *v = &c->views[vi];
    snprintf(v->name, sizeof v->name, "v%d", (vi + 1) % 100);
    g->cons = 0;
    g->alias_n = 0;
    g->target = -1;
    g->unsup = pt_pct(&g->r, g->o->unsupported_pct);
    if (g->unsup) {
        pcons cand[NELEM(unsupported_list)];
        int n = 0;
        for (int i = 0; i < NELEM(unsupported_list); i++)
            if (!((avoid >> unsupported_list[i]) & 1u))
                cand[n++] = unsupported_list[i];
        if (n > 0)
            g->target = (int)cand[pick(g, n)];
        else
            g->unsup = false;
    }
    v->q = gen_view_query(g);
    if (!v->q->star && pt_pct(&g->r, 10)) {
        v->collist = true;
        mark(g, PC_COLLIST);
    }
    v->cons = g->cons;
    /* Statements never use what ivm refuses: only views do. */
    g->target = -1;
    g->unsup = false;
    pt_step_add(c, S_VIEW, vi);
    g->nviews_live = c->nviews;
}

void pt_generate(pcase *c, uint64_t seed, const pgen_opts *o)
{
    memset(c, 0, sizeof *c);
    gctx g = {0};
    g.c = c;
    g.r.s = seed;
    g.o = o;
    /* One case in eight is long, with big inserts: more data, more
     * batches in every spine. */
    g.bulk = pt_pct(&g.r, 12);
    int steps = g.bulk ? o->steps * 3 : o->steps;
    c->ntables = 2 + pick(&g, 3);
    for (int i = 0; i < c->ntables; i++) {
        gen_table(&g, &c->tables[i], i);
        pt_step_add(c, S_TABLE, i);
    }
    int nviews = 1 + pick(&g, o->max_views);
    if (nviews > PT_MAX_VIEWS)
        nviews = PT_MAX_VIEWS;
    /* Some views before any data, the others at random points between
     * transactions (backfill). */
    int early = pick(&g, nviews + 1);
    int *at = pt_alloc(c, sizeof *at * (size_t)nviews);
    for (int i = early; i < nviews; i++)
        at[i] = 1 + pick(&g, steps);
    for (int i = 0; i < early; i++)
        gen_view(&g, o->avoid);
    int made = early;
    int n = 0;
    while (n < steps) {
        for (int i = made; i < nviews; i++) {
            if (at[i] <= n && made == i) {
                gen_view(&g, o->avoid);
                made++;
            }
        }
        if (pt_pct(&g.r, 14)) {
            pt_step_add(c, S_BEGIN, 0);
            int k = 1 + pick(&g, 5);
            for (int i = 0; i < k; i++) {
                gen_dml(&g);
                if (pt_pct(&g.r, 15))
                    gen_undo_insert(&g);
            }
            n += k;
            pt_step_add(c, pt_pct(&g.r, 30) ? S_ROLLBACK : S_COMMIT, 0);
        } else {
            gen_dml(&g);
            n++;
        }
    }
    while (made < nviews) {
        gen_view(&g, o->avoid);
        made++;
    }
}
