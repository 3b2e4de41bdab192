/*
 * model.c: the model of a case (tables, views, statements, expression trees)
 * and its rendering to SQL text.  Shrinking edits the model in place (marks
 * things dead, swaps expression subtrees), so rendering is where dead parts
 * disappear: a dead statement is not written, a reference to a dead column or
 * FROM item is written NULL.  Also the small utilities every file uses
 * (growing text, the random generator, scripts).  It does not run anything;
 * run.c does.  See proptests/README.md.
 */
#include "prop_int.h"

#include <stdarg.h>

/* ---- Utilities ------------------------------------------------------------- */

void pt_oom(void)
{
    fputs("prop_views: out of memory\n", stderr);
    exit(2);
}

void *pt_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        pt_oom();
    return p;
}

char *pt_xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = pt_xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

void pt_put(ptext *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        size_t cap = (t->n + n + 1) * 2;
        char *p = realloc(t->p, cap);
        if (p == NULL)
            pt_oom();
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

void pt_puts(ptext *t, const char *s)
{
    pt_put(t, s, strlen(s));
}

void pt_printf(ptext *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof buf) {
        pt_put(t, buf, (size_t)n);
        return;
    }
    char *big = pt_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    pt_put(t, big, (size_t)n);
    free(big);
}

void pt_text_free(ptext *t)
{
    free(t->p);
    t->p = NULL;
    t->n = t->cap = 0;
}

uint64_t pt_rnd(prng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int pt_rn(prng *r, int n)
{
    return (int)(pt_rnd(r) % (uint64_t)n);
}

bool pt_pct(prng *r, int pct)
{
    return pt_rn(r, 100) < pct;
}

const char *const pt_cons_names[PC_COUNT] = {
    [PC_WHERE] = "where",
    [PC_JOIN_ON] = "join-on",
    [PC_JOIN_COMMA] = "comma-join",
    [PC_JOIN_3] = "join-3-4",
    [PC_SELF_JOIN] = "self-join",
    [PC_CROSS] = "cross-join",
    [PC_GROUP_BY] = "group-by",
    [PC_AGG_GLOBAL] = "agg-no-group",
    [PC_HAVING] = "having",
    [PC_DISTINCT] = "distinct",
    [PC_VIEW_ON_VIEW] = "view-on-view",
    [PC_CASE] = "case",
    [PC_CAST] = "cast",
    [PC_COALESCE] = "coalesce",
    [PC_CONCAT] = "concat",
    [PC_BETWEEN_IN] = "between-in",
    [PC_MIXED_TYPES] = "mixed-types",
    [PC_LIKE] = "like",
    [PC_OUTER_JOIN] = "outer-join",
    [PC_IN_SUBQUERY] = "in-subquery",
    [PC_EXISTS] = "exists",
    [PC_SCALAR_SUBQUERY] = "scalar-subquery",
    [PC_UNION] = "union",
    [PC_INTERSECT] = "intersect",
    [PC_EXCEPT] = "except",
    [PC_ORDER_LIMIT] = "order-limit",
    [PC_AGG_DISTINCT] = "agg-distinct",
    [PC_AGG_FILTER] = "agg-filter",
    [PC_FROM_SUBQUERY] = "from-subquery",
    [PC_WITH] = "with",
    [PC_OTHER_FUNC] = "other-function",
    [PC_NUM_KEY] = "int-real-key",
    [PC_NUM_MIX] = "int-as-real",
    [PC_STAR] = "star",
    [PC_COLLIST] = "column-list",
    [PC_ORDER] = "order-no-limit",
    [PC_PADDED] = "padded-number",
};

/* ---- Arena --------------------------------------------------------------------- */

struct parena_blk {
    parena_blk *next;
    size_t used, cap;
    max_align_t data[];
};

void *pt_alloc(pcase *c, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    parena_blk *b = c->arena;
    if (b == NULL || b->used + n > b->cap) {
        size_t cap = n > 65536 ? n : 65536;
        parena_blk *nb = pt_xmalloc(sizeof *nb + cap);
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        c->arena = b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

const char *pt_strdup(pcase *c, const char *s)
{
    size_t n = strlen(s);
    char *p = pt_alloc(c, n + 1);
    memcpy(p, s, n + 1);
    return p;
}

void pt_case_free(pcase *c)
{
    parena_blk *b = c->arena;
    while (b != NULL) {
        parena_blk *n = b->next;
        free(b);
        b = n;
    }
    free(c->steps);
    memset(c, 0, sizeof *c);
}

pexpr *pt_expr_new(pcase *c, int kind, int type, int nargs)
{
    pexpr *e = pt_alloc(c, sizeof *e);
    e->kind = (uint8_t)kind;
    e->type = (uint8_t)type;
    e->nargs = nargs;
    if (nargs > 0)
        e->args = pt_alloc(c, sizeof *e->args * (size_t)nargs);
    return e;
}

pexpr *pt_lit(pcase *c, int type, const char *text)
{
    pexpr *e = pt_expr_new(c, X_LIT, type, 0);
    e->lit = pt_strdup(c, text);
    return e;
}

pstep *pt_step_add(pcase *c, int kind, int rel)
{
    if (c->nsteps == c->stepcap) {
        c->stepcap = c->stepcap ? c->stepcap * 2 : 64;
        pstep *s = realloc(c->steps, sizeof *s * (size_t)c->stepcap);
        if (s == NULL)
            pt_oom();
        c->steps = s;
    }
    pstep *s = &c->steps[c->nsteps++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->rel = rel;
    return s;
}

/* ---- Columns of FROM items ------------------------------------------------------ */

/* Live result columns of a SELECT * query. */
int pt_live_cols(const pcase *c, const pquery *q)
{
    int n = 0;
    for (int i = 0; i < q->nitems; i++) {
        bool dead = q->items[i].dead;
        pt_src_col(c, &q->src[0], i, NULL, &dead);
        n += !dead && !q->items[i].dead;
    }
    return n;
}

static int live_items(const pquery *q)
{
    int n = 0;
    for (int i = 0; i < q->nitems; i++)
        n += !q->items[i].dead;
    return n;
}

int pt_src_ncols(const pcase *c, const psrc *s)
{
    if (s->kind == SRC_TABLE)
        return c->tables[s->rel].ncols;
    const pquery *q = s->kind == SRC_VIEW ? c->views[s->rel].q : s->sub;
    return q->nitems;
}

const char *pt_src_col(const pcase *c, const psrc *s, int col, int *type_out, bool *dead_out)
{
    bool dead = s->dead;
    const char *name;
    int type;
    if (s->kind == SRC_TABLE) {
        const ptable *t = &c->tables[s->rel];
        dead = dead || t->dead || t->cols[col].dead;
        name = t->cols[col].name;
        type = t->cols[col].type;
    } else {
        const pquery *q = s->kind == SRC_VIEW ? c->views[s->rel].q : s->sub;
        if (s->kind == SRC_VIEW)
            dead = dead || c->views[s->rel].dead;
        dead = dead || q->items[col].dead;
        if (q->star) {
            bool d2 = false;
            pt_src_col(c, &q->src[0], col, NULL, &d2);
            dead = dead || d2;
        }
        name = q->items[col].name;
        type = q->items[col].type;
    }
    if (type_out)
        *type_out = type;
    if (dead_out)
        *dead_out = dead;
    return name;
}

/* ---- Rendering ---------------------------------------------------------------------- */

static void render_expr(const pcase *c, const pexpr *e, ptext *t);

static void render_args(const pcase *c, const pexpr *e, int from, ptext *t)
{
    for (int i = from; i < e->nargs; i++) {
        if (i > from)
            pt_puts(t, ", ");
        render_expr(c, e->args[i], t);
    }
}

static void render_expr(const pcase *c, const pexpr *e, ptext *t)
{
    if (e == NULL) {
        pt_puts(t, "NULL");
        return;
    }
    switch (e->kind) {
    case X_LIT:
        pt_puts(t, e->lit);
        break;
    case X_COL: {
        bool dead = false;
        const char *name;
        if (e->src != NULL) {
            name = pt_src_col(c, e->src, e->col, NULL, &dead);
            if (!dead)
                pt_printf(t, "%s.%s", e->src->alias, name);
        } else {
            name = e->tab->cols[e->col].name;
            dead = e->tab->cols[e->col].dead;
            if (!dead)
                pt_puts(t, name);
        }
        if (dead)
            pt_puts(t, "NULL");
        break;
    }
    case X_BIN:
        pt_puts(t, "(");
        render_expr(c, e->args[0], t);
        pt_printf(t, " %s ", e->op);
        render_expr(c, e->args[1], t);
        pt_puts(t, ")");
        break;
    case X_PRE:
        pt_printf(t, "(%s ", e->op);
        render_expr(c, e->args[0], t);
        pt_puts(t, ")");
        break;
    case X_POST:
        pt_puts(t, "(");
        render_expr(c, e->args[0], t);
        pt_printf(t, " %s)", e->op);
        break;
    case X_FUNC:
        pt_printf(t, "%s(", e->op);
        render_args(c, e, 0, t);
        pt_puts(t, ")");
        break;
    case X_AGG:
        pt_printf(t, "%s(", e->op);
        if (e->flags & XF_STAR) {
            pt_puts(t, "*");
        } else {
            if (e->flags & XF_DISTINCT)
                pt_puts(t, "DISTINCT ");
            render_expr(c, e->args[0], t);
        }
        pt_puts(t, ")");
        if (e->nargs > 1 && e->args[1] != NULL) {
            pt_puts(t, " FILTER (WHERE ");
            render_expr(c, e->args[1], t);
            pt_puts(t, ")");
        }
        break;
    case X_CASE: {
        pt_puts(t, "CASE");
        int i = 0;
        if (e->flags & XF_BASE) {
            pt_puts(t, " ");
            render_expr(c, e->args[0], t);
            i = 1;
        }
        for (; i + 1 < e->nargs; i += 2) {
            pt_puts(t, " WHEN ");
            render_expr(c, e->args[i], t);
            pt_puts(t, " THEN ");
            render_expr(c, e->args[i + 1], t);
        }
        if (i < e->nargs) {
            pt_puts(t, " ELSE ");
            render_expr(c, e->args[i], t);
        }
        pt_puts(t, " END");
        break;
    }
    case X_CAST:
        pt_puts(t, "CAST(");
        render_expr(c, e->args[0], t);
        pt_printf(t, " AS %s)", e->op);
        break;
    case X_BETWEEN:
        pt_puts(t, "(");
        render_expr(c, e->args[0], t);
        pt_puts(t, e->flags & XF_NOT ? " NOT BETWEEN " : " BETWEEN ");
        render_expr(c, e->args[1], t);
        pt_puts(t, " AND ");
        render_expr(c, e->args[2], t);
        pt_puts(t, ")");
        break;
    case X_INLIST:
        pt_puts(t, "(");
        render_expr(c, e->args[0], t);
        pt_puts(t, e->flags & XF_NOT ? " NOT IN (" : " IN (");
        render_args(c, e, 1, t);
        pt_puts(t, "))");
        break;
    case X_SUBQ:
        if (e->flags & XF_EXISTS) {
            pt_puts(t, e->flags & XF_NOT ? "(NOT EXISTS (" : "(EXISTS (");
            pt_render_query(c, e->sub, t);
            pt_puts(t, "))");
        } else if (e->flags & XF_IN) {
            pt_puts(t, "(");
            render_expr(c, e->args[0], t);
            pt_puts(t, e->flags & XF_NOT ? " NOT IN (" : " IN (");
            pt_render_query(c, e->sub, t);
            pt_puts(t, "))");
        } else {
            pt_puts(t, "(");
            pt_render_query(c, e->sub, t);
            pt_puts(t, ")");
        }
        break;
    case X_GROUP:
        render_expr(c, e->owner->group[e->col], t);
        break;
    default:
        pt_puts(t, "NULL");
        break;
    }
}

static void render_src(const pcase *c, const psrc *s, ptext *t)
{
    if (s->kind == SRC_TABLE) {
        pt_printf(t, "%s %s", c->tables[s->rel].name, s->alias);
    } else if (s->kind == SRC_VIEW) {
        pt_printf(t, "%s %s", c->views[s->rel].name, s->alias);
    } else {
        pt_puts(t, "(");
        pt_render_query(c, s->sub, t);
        pt_printf(t, ") %s", s->alias);
    }
}

/* skip (may be NULL) leaves out items, for INSERT ... SELECT into a table
 * that lost columns. */
static void render_core(const pcase *c, const pquery *q, const bool *skip, bool alias,
                        ptext *t)
{
    pt_puts(t, q->distinct ? "SELECT DISTINCT " : "SELECT ");
    bool first = true;
    if (q->star) {
        pt_puts(t, "*");
        first = false;
    }
    for (int i = 0; i < q->nitems && !q->star; i++) {
        if (q->items[i].dead || (skip != NULL && skip[i]))
            continue;
        if (!first)
            pt_puts(t, ", ");
        first = false;
        render_expr(c, q->items[i].e, t);
        if (alias)
            pt_printf(t, " AS %s", q->items[i].name);
    }
    if (first)
        pt_puts(t, "NULL AS z");
    first = true;
    for (int i = 0; i < q->nsrc; i++) {
        const psrc *s = &q->src[i];
        if (s->dead)
            continue;
        if (first) {
            pt_puts(t, " FROM ");
            render_src(c, s, t);
            first = false;
            continue;
        }
        static const char *const joins[] = {
            [J_FIRST] = ", ", [J_COMMA] = ", ", [J_INNER] = " JOIN ",
            [J_CROSS] = " CROSS JOIN ", [J_LEFT] = " LEFT JOIN ",
            [J_RIGHT] = " RIGHT JOIN ", [J_FULL] = " FULL JOIN ",
        };
        int j = s->join;
        /* A comma or CROSS JOIN takes no ON; any other join without one
         * is written as a comma. */
        if (j != J_COMMA && j != J_CROSS && s->on == NULL)
            j = J_COMMA;
        pt_puts(t, joins[j]);
        render_src(c, s, t);
        if (j != J_COMMA && j != J_CROSS && j != J_FIRST) {
            pt_puts(t, " ON ");
            render_expr(c, s->on, t);
        }
    }
    if (q->where != NULL) {
        pt_puts(t, " WHERE ");
        render_expr(c, q->where, t);
    }
    if (q->ngroup > 0) {
        pt_puts(t, " GROUP BY ");
        for (int i = 0; i < q->ngroup; i++) {
            if (i)
                pt_puts(t, ", ");
            render_expr(c, q->group[i], t);
        }
    }
    if (q->having != NULL) {
        pt_puts(t, " HAVING ");
        render_expr(c, q->having, t);
    }
}

static void render_query(const pcase *c, const pquery *q, bool alias, ptext *t);

void pt_render_query(const pcase *c, const pquery *q, ptext *t)
{
    render_query(c, q, true, t);
}

/* alias: name the result columns (not when CREATE VIEW lists them). */
static void render_query(const pcase *c, const pquery *q, bool alias, ptext *t)
{
    if (q->with) {
        pt_puts(t, "WITH w AS (");
    }
    static const char *const ops[] = {
        [SET_NONE] = "", [SET_UNION] = " UNION ", [SET_UNION_ALL] = " UNION ALL ",
        [SET_INTERSECT] = " INTERSECT ", [SET_EXCEPT] = " EXCEPT ",
    };
    for (const pquery *p = q; p != NULL; p = p->setop != SET_NONE ? p->next : NULL) {
        render_core(c, p, NULL, alias, t);
        if (p->setop != SET_NONE && p->next != NULL)
            pt_puts(t, ops[p->setop]);
    }
    if (q->limit >= 0 || q->order) {
        int n = q->star ? pt_live_cols(c, q) : live_items(q);
        pt_puts(t, " ORDER BY ");
        for (int i = 1; i <= (n ? n : 1); i++)
            pt_printf(t, i > 1 ? ", %d" : "%d", i);
        if (q->limit >= 0)
            pt_printf(t, " LIMIT %d", q->limit);
    }
    if (q->with) {
        pt_puts(t, ") SELECT * FROM w");
        /* A second reference to w (one circuit for both in ivm). */
        if (q->with_twice != SET_NONE)
            pt_printf(t, "%sSELECT * FROM w", ops[q->with_twice]);
    }
}

static void render_table(const pcase *c, const ptable *tb, ptext *t)
{
    pt_printf(t, "CREATE TABLE %s(", tb->name);
    bool first = true;
    int live_pk = 0;
    for (int i = 0; i < tb->npk; i++)
        live_pk += !tb->cols[tb->pk[i]].dead;
    for (int i = 0; i < tb->ncols; i++) {
        const pcol *col = &tb->cols[i];
        if (col->dead)
            continue;
        pt_printf(t, "%s%s %s", first ? "" : ", ", col->name, col->decl);
        first = false;
        if (tb->pk_inline && tb->npk == 1 && tb->pk[0] == i)
            pt_puts(t, " PRIMARY KEY");
        if (col->not_null)
            pt_puts(t, " NOT NULL");
        if (col->dflt != NULL)
            pt_printf(t, " DEFAULT %s", col->dflt);
    }
    if (!tb->pk_inline && live_pk > 0) {
        pt_puts(t, ", PRIMARY KEY (");
        bool f = true;
        for (int i = 0; i < tb->npk; i++) {
            if (tb->cols[tb->pk[i]].dead)
                continue;
            pt_printf(t, "%s%s", f ? "" : ", ", tb->cols[tb->pk[i]].name);
            f = false;
        }
        pt_puts(t, ")");
    }
    pt_puts(t, ")");
    IVM_UNUSED(c);
}

/* Renders one step; returns false if nothing is left of it. */
static bool render_step(const pcase *c, const pstep *s, ptext *t)
{
    switch (s->kind) {
    case S_TABLE:
        if (c->tables[s->rel].dead)
            return false;
        render_table(c, &c->tables[s->rel], t);
        return true;
    case S_VIEW: {
        const pview *v = &c->views[s->rel];
        if (v->dead)
            return false;
        pt_printf(t, "CREATE VIEW %s", v->name);
        if (v->collist && !v->q->star) {
            bool f = true;
            for (int i = 0; i < v->q->nitems; i++) {
                if (v->q->items[i].dead)
                    continue;
                pt_printf(t, "%s%s", f ? "(" : ", ", v->q->items[i].name);
                f = false;
            }
            pt_puts(t, f ? "(z)" : ")");
        }
        pt_puts(t, " AS ");
        render_query(c, v->q, !v->collist || v->q->star, t);
        return true;
    }
    case S_INSERT: {
        const ptable *tb = &c->tables[s->rel];
        if (tb->dead)
            return false;
        if (s->sel != NULL) {
            bool skip[PT_MAX_ITEMS] = {false};
            int nlive = 0;
            for (int i = 0; i < tb->ncols; i++) {
                skip[i] = tb->cols[i].dead;
                nlive += !skip[i];
            }
            if (nlive == 0)
                return false;
            pt_printf(t, "INSERT INTO %s ", tb->name);
            render_core(c, s->sel, skip, true, t);
            return true;
        }
        bool all = true;
        for (int i = 0; i < tb->ncols; i++)
            if (!tb->cols[i].dead && s->named != NULL && !s->named[i])
                all = false;
        int nlive = 0;
        for (int i = 0; i < tb->ncols; i++)
            nlive += !tb->cols[i].dead && (s->named == NULL || s->named[i]);
        int nrows = 0;
        for (int r = 0; r < s->nrows; r++)
            nrows += !s->rows[r].dead;
        if (nrows == 0 || nlive == 0)
            return false;
        pt_printf(t, "INSERT INTO %s", tb->name);
        if (!all) {
            pt_puts(t, "(");
            bool f = true;
            for (int i = 0; i < tb->ncols; i++) {
                if (tb->cols[i].dead || !s->named[i])
                    continue;
                pt_printf(t, "%s%s", f ? "" : ", ", tb->cols[i].name);
                f = false;
            }
            pt_puts(t, ")");
        }
        pt_puts(t, " VALUES ");
        bool fr = true;
        for (int r = 0; r < s->nrows; r++) {
            if (s->rows[r].dead)
                continue;
            pt_puts(t, fr ? "(" : ", (");
            fr = false;
            bool f = true;
            for (int i = 0; i < tb->ncols; i++) {
                if (tb->cols[i].dead || (s->named != NULL && !s->named[i]))
                    continue;
                if (!f)
                    pt_puts(t, ", ");
                f = false;
                render_expr(c, s->rows[r].vals[i], t);
            }
            pt_puts(t, ")");
        }
        return true;
    }
    case S_DELETE:
        if (c->tables[s->rel].dead)
            return false;
        pt_printf(t, "DELETE FROM %s", c->tables[s->rel].name);
        if (s->where != NULL) {
            pt_puts(t, " WHERE ");
            render_expr(c, s->where, t);
        }
        return true;
    case S_UPDATE: {
        const ptable *tb = &c->tables[s->rel];
        if (tb->dead)
            return false;
        bool any = false;
        for (int i = 0; i < s->nset; i++)
            any = any || (!s->setdead[i] && !tb->cols[s->setcol[i]].dead);
        if (!any)
            return false;
        pt_printf(t, "UPDATE %s SET ", tb->name);
        bool f = true;
        for (int i = 0; i < s->nset; i++) {
            if (s->setdead[i] || tb->cols[s->setcol[i]].dead)
                continue;
            pt_printf(t, "%s%s = ", f ? "" : ", ", tb->cols[s->setcol[i]].name);
            f = false;
            render_expr(c, s->setval[i], t);
        }
        if (s->where != NULL) {
            pt_puts(t, " WHERE ");
            render_expr(c, s->where, t);
        }
        return true;
    }
    case S_BEGIN:
        pt_puts(t, "BEGIN");
        return true;
    case S_COMMIT:
        pt_puts(t, "COMMIT");
        return true;
    case S_ROLLBACK:
        pt_puts(t, "ROLLBACK");
        return true;
    }
    return false;
}

void pt_render(const pcase *c, pscript *out)
{
    ptext t = {0};
    for (int i = 0; i < c->nsteps; i++) {
        const pstep *s = &c->steps[i];
        if (s->dead)
            continue;
        t.n = 0;
        if (!render_step(c, s, &t))
            continue;
        uint64_t cons = s->kind == S_VIEW ? c->views[s->rel].cons : 0;
        pt_script_add(out, t.p, cons, i, 0);
    }
    pt_text_free(&t);
}

/* ---- Scripts ------------------------------------------------------------------------ */

void pt_script_add(pscript *sc, const char *sql, uint64_t cons, int step, uint32_t line)
{
    if (sc->n == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 64;
        pstmt *s = realloc(sc->s, sizeof *s * (size_t)sc->cap);
        if (s == NULL)
            pt_oom();
        sc->s = s;
    }
    pstmt *s = &sc->s[sc->n++];
    s->sql = pt_xstrdup(sql);
    s->cons = cons;
    s->step = step;
    s->line = line;
}

void pt_script_free(pscript *sc)
{
    for (int i = 0; i < sc->n; i++)
        free(sc->s[i].sql);
    free(sc->s);
    memset(sc, 0, sizeof *sc);
}

/* Statements end at a ';' outside quotes and comments.  Comments are
 * dropped; a statement's line is the line of its first character. */
void pt_script_parse(const char *text, pscript *out)
{
    ptext cur = {0};
    uint32_t line = 1, start_line = 0;
    const char *p = text;
    while (*p) {
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (p[0] == '/' && p[1] == '*') {
            p += 2;
            while (*p && !(p[0] == '*' && p[1] == '/')) {
                line += *p == '\n';
                p++;
            }
            if (*p)
                p += 2;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            char q = *p;
            const char *s = p++;
            if (cur.n == 0)
                start_line = line;
            while (*p && !(*p == q && p[1] != q)) {
                if (*p == q)
                    p++;
                line += *p == '\n';
                p++;
            }
            if (*p)
                p++;
            pt_put(&cur, s, (size_t)(p - s));
            continue;
        }
        if (*p == ';') {
            /* Trim and keep the statement. */
            size_t a = 0, b = cur.n;
            while (a < b && (cur.p[a] == ' ' || cur.p[a] == '\n' || cur.p[a] == '\t' ||
                             cur.p[a] == '\r'))
                a++;
            while (b > a && (cur.p[b - 1] == ' ' || cur.p[b - 1] == '\n' ||
                             cur.p[b - 1] == '\t' || cur.p[b - 1] == '\r'))
                b--;
            if (b > a) {
                cur.p[b] = '\0';
                pt_script_add(out, cur.p + a, 0, -1, start_line);
            }
            cur.n = 0;
            p++;
            continue;
        }
        bool space = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
        if (cur.n == 0 && !space)
            start_line = line;
        if (cur.n > 0 || !space)
            pt_put(&cur, p, 1);
        if (*p == '\n')
            line++;
        p++;
    }
    /* A last statement without its ';'. */
    size_t a = 0;
    while (a < cur.n && (cur.p[a] == ' ' || cur.p[a] == '\n' || cur.p[a] == '\t' ||
                         cur.p[a] == '\r'))
        a++;
    if (a < cur.n)
        pt_script_add(out, cur.p + a, 0, -1, start_line);
    pt_text_free(&cur);
}
