/*
 * parse.c: the SQL parser's driver and tree builders.  sql_parse_next pulls
 * tokens from the lexer (lexer.re) and pushes them, one statement at a time,
 * into the lemon parser (grammar.y), whose actions call the sql_* builders
 * below to make the statement tree of planner.h in the parser's arena.  It
 * checks only what the grammar cannot say (literal ranges, type names, one
 * primary key, clause order in compounds, nesting depth); names, types and
 * what ivm can maintain are the planner's business.  Errors carry the line
 * and column of the offending token, and parsing resumes after the next ';'.
 * Design and invariants Q1-Q9: sql/README.md.
 */
#include <stdio.h>
#include <strings.h>

#include "sql_int.h"
#include "grammar.h"

struct sql_parser {
    sql_lexer lx;
    rt_arena arena;          /* every tree of the current statement (Q8) */
    sql_pctx ctx;
    void *gram;              /* lemon's parser, with its fixed stack */
};

/* Trees are built from these wrappers so that each node knows its height
 * without widening the public structs: the public node is the first member,
 * so a pointer to it is a pointer to the wrapper (Q5). */
typedef struct ast_expr {
    plan_expr e;
    uint32_t height;
    bool two63;              /* the literal 9223372036854775808, kept as REAL */
} ast_expr;

typedef struct ast_select {
    plan_select s;
    uint32_t height;
} ast_select;

typedef struct ast_from {
    plan_from f;
    uint32_t height;
} ast_from;

static uint32_t expr_height(const plan_expr *e)
{
    return e ? ((const ast_expr *)(const void *)e)->height : 0;
}

static uint32_t select_height(const plan_select *s)
{
    return s ? ((const ast_select *)(const void *)s)->height : 0;
}

static uint32_t from_height(const plan_from *f)
{
    return f ? ((const ast_from *)(const void *)f)->height : 0;
}

static uint32_t list_height(const plan_expr *const *items, uint32_t n)
{
    uint32_t h = 0;
    for (uint32_t i = 0; i < n; i++)
        h = IVM_MAX(h, expr_height(items[i]));
    return h;
}

/* ---- Errors --------------------------------------------------------------- */

void sql_ctx_error(sql_pctx *ctx, ivm_rc rc, uint32_t line, uint32_t col, const char *fmt, ...)
{
    if (ctx->rc != IVM_OK)
        return;
    ctx->rc = rc;
    ctx->err_line = line;
    ctx->err_col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err_msg, sizeof ctx->err_msg, fmt, ap);
    va_end(ap);
}

static void nomem(sql_pctx *ctx)
{
    sql_ctx_error(ctx, IVM_NOMEM, 0, 0, "out of memory while parsing");
}

/* How much of a token an error message quotes: at most 64 bytes, cut at a
 * UTF-8 character boundary. */
static int excerpt_len(const sql_token *t)
{
    uint32_t n = t->n;
    if (n <= 64)
        return (int)n;
    n = 64;
    while (n > 0 && ((unsigned char)t->z[n] & 0xc0) == 0x80)
        n--;
    return (int)n;
}

void sql_ctx_syntax_error(sql_pctx *ctx, int major, const sql_token *tok)
{
    IVM_UNUSED(major);
    /* The end marker carries the ';' that ended the statement, or an empty
     * token where the text ended. */
    if (tok->n == 0)
        sql_ctx_error(ctx, IVM_SYNTAX, tok->line, tok->col, "incomplete input");
    else
        sql_ctx_error(ctx, IVM_SYNTAX, tok->line, tok->col, "near \"%.*s\": syntax error",
                      excerpt_len(tok), tok->z);
}

void sql_ctx_stack_overflow(sql_pctx *ctx)
{
    const sql_token *t = &ctx->cur;
    sql_ctx_error(ctx, IVM_SYNTAX, t->line, t->col,
                  "near \"%.*s\": statement nested too deeply", excerpt_len(t), t->z);
}

/* Keeps Q5: a node higher than SQL_MAX_DEPTH is an error, so that every
 * recursive walk over a returned tree is bounded. */
static bool height_ok(sql_pctx *ctx, uint32_t h, plan_pos pos)
{
    if (h <= SQL_MAX_DEPTH)
        return true;
    sql_ctx_error(ctx, IVM_SYNTAX, pos.line, pos.col,
                  "expression or query nested too deeply (more than %d levels)", SQL_MAX_DEPTH);
    return false;
}

static void lex_error(sql_pctx *ctx, sql_lex_err e, const sql_token *t)
{
    int n = excerpt_len(t);
    switch (e) {
    case SQL_LEX_OPEN_COMMENT:
        sql_ctx_error(ctx, IVM_SYNTAX, t->line, t->col, "unterminated comment");
        break;
    case SQL_LEX_NUL:
        sql_ctx_error(ctx, IVM_SYNTAX, t->line, t->col, "unexpected NUL byte in SQL text");
        break;
    case SQL_LEX_BLOB:
        sql_ctx_error(ctx, IVM_SYNTAX, t->line, t->col,
                      "near \"%.*s\": syntax error (blob literals are not supported)", n, t->z);
        break;
    case SQL_LEX_OPEN_STRING:
    case SQL_LEX_OPEN_IDENT:
    case SQL_LEX_BAD_TOKEN:
    case SQL_LEX_OK:
        sql_ctx_error(ctx, IVM_SYNTAX, t->line, t->col, "unrecognized token: \"%.*s\"", n, t->z);
        break;
    }
}

/* ---- Memory --------------------------------------------------------------- */

/* Zeroed arena memory, or NULL once the statement has failed (then every
 * builder does nothing, so late grammar actions are harmless). */
static void *ctx_alloc(sql_pctx *ctx, size_t n)
{
    if (ctx->rc != IVM_OK)
        return NULL;
    void *p = rt_arena_alloc(ctx->arena, n);
    if (p == NULL) {
        nomem(ctx);
        return NULL;
    }
    memset(p, 0, n);
    return p;
}

/* Room for element n of an array of *cap elements: returns the array to use
 * (the old one, or a copy twice as large; the old copy stays in the arena
 * until the statement's trees are dropped), NULL on failure. */
static void *grow(sql_pctx *ctx, void *items, uint32_t n, uint32_t *cap, size_t elem)
{
    if (ctx->rc != IVM_OK)
        return NULL;
    if (n < *cap)
        return items;
    if (*cap >= UINT32_MAX / 4) {
        nomem(ctx);
        return NULL;
    }
    uint32_t ncap = *cap ? *cap * 2 : 4;
    void *p = ctx_alloc(ctx, (size_t)ncap * elem);
    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, items, (size_t)n * elem);
    *cap = ncap;
    return p;
}

plan_pos sql_tok_pos(const sql_token *t)
{
    plan_pos p = { t->line, t->col };
    return p;
}

/* The text of a quoted token with the quotes removed and doubled quotes
 * undone, NUL-terminated in the arena; *len_out is its length. */
static char *unquote(sql_pctx *ctx, const sql_token *t, uint32_t *len_out)
{
    const char *z = t->z;
    uint32_t n = t->n;
    char *out = ctx_alloc(ctx, (size_t)n + 1);
    if (out == NULL)
        return NULL;
    uint32_t k = 0;
    char q = n >= 2 ? z[0] : 0;
    if (q == '\'' || q == '"' || q == '`') {
        for (uint32_t i = 1; i + 1 < n; i++) {
            out[k++] = z[i];
            if (z[i] == q)
                i++; /* the lexer only lets quotes through doubled */
        }
    } else if (q == '[') {
        memcpy(out, z + 1, n - 2);
        k = n - 2;
    } else {
        memcpy(out, z, n);
        k = n;
    }
    out[k] = '\0';
    *len_out = k;
    return out;
}

const char *sql_name(sql_pctx *ctx, const sql_token *t)
{
    uint32_t len;
    return unquote(ctx, t, &len);
}

/* ---- Lists ---------------------------------------------------------------- */

void sql_elist_add(sql_pctx *ctx, sql_elist *l, plan_expr *e)
{
    plan_expr **items = grow(ctx, l->items, l->n, &l->cap, sizeof *items);
    if (items == NULL)
        return;
    l->items = items;
    l->items[l->n++] = e;
}

void sql_nlist_add(sql_pctx *ctx, sql_nlist *l, const sql_token *name)
{
    const char *s = sql_name(ctx, name);
    uint32_t cap = l->cap;
    const char **items = grow(ctx, (void *)l->items, l->n, &l->cap, sizeof *items);
    plan_pos *poss = grow(ctx, l->poss, l->n, &cap, sizeof *poss);
    if (s == NULL || items == NULL || poss == NULL)
        return;
    if (l->n == 0)
        l->pos = sql_tok_pos(name);
    l->items = items;
    l->poss = poss;
    l->poss[l->n] = sql_tok_pos(name);
    l->items[l->n++] = s;
}

sql_nlist *sql_nlist_dup(sql_pctx *ctx, const sql_nlist *l)
{
    sql_nlist *d = ctx_alloc(ctx, sizeof *d);
    if (d != NULL)
        *d = *l;
    return d;
}

void sql_rclist_add_expr(sql_pctx *ctx, sql_rclist *l, plan_expr *e, const sql_token *first,
                         const sql_token *after, const sql_token *alias)
{
    const char *name = alias ? sql_name(ctx, alias) : NULL;
    plan_result_col *items = grow(ctx, l->items, l->n, &l->cap, sizeof *items);
    if (items == NULL || e == NULL)
        return;
    /* Keeps Q3: from the expression's first token to the end of its last
     * one, which is where the following token's gap begins. */
    const char *end = after->z - after->gap;
    plan_result_col *c = &items[l->n++];
    c->expr = e;
    c->alias = name;
    c->pos = sql_tok_pos(first);
    c->text = first->z;
    c->text_len = end > first->z ? (uint32_t)(end - first->z) : 0;
    l->items = items;
}

static plan_expr *new_star(sql_pctx *ctx, const sql_token *table, const sql_token *star);

void sql_rclist_add_star(sql_pctx *ctx, sql_rclist *l, const sql_token *table,
                         const sql_token *star)
{
    plan_expr *e = new_star(ctx, table, star);
    plan_result_col *items = grow(ctx, l->items, l->n, &l->cap, sizeof *items);
    if (items == NULL || e == NULL)
        return;
    const sql_token *first = table ? table : star;
    plan_result_col *c = &items[l->n++];
    c->expr = e;
    c->pos = sql_tok_pos(first);
    c->text = first->z;
    c->text_len = (uint32_t)(star->z + star->n - first->z);
    l->items = items;
}

void sql_olist_add(sql_pctx *ctx, sql_olist *l, plan_expr *e, bool desc, int nulls)
{
    plan_order *items = grow(ctx, l->items, l->n, &l->cap, sizeof *items);
    if (items == NULL || e == NULL)
        return;
    items[l->n].expr = e;
    items[l->n].desc = desc;
    items[l->n].nulls = (int8_t)nulls;
    l->n++;
    l->items = items;
}

void sql_rowlist_add(sql_pctx *ctx, sql_rowlist *l, sql_elist *row)
{
    plan_expr_list *items = grow(ctx, l->items, l->n, &l->cap, sizeof *items);
    if (items == NULL)
        return;
    items[l->n].n = row->n;
    items[l->n].items = row->items;
    l->n++;
    l->items = items;
}

void sql_ctelist_add(sql_pctx *ctx, sql_ctelist *l, const sql_token *name, sql_nlist *cols,
                     plan_select *sub)
{
    const char *s = sql_name(ctx, name);
    plan_cte *items = grow(ctx, l->items, l->n, &l->cap, sizeof *items);
    if (items == NULL || s == NULL || sub == NULL)
        return;
    plan_cte *c = &items[l->n++];
    c->name = s;
    c->ncols = cols ? cols->n : 0;
    c->cols = cols ? cols->items : NULL;
    c->sub = sub;
    c->pos = sql_tok_pos(name);
    l->items = items;
}

/* ---- Expressions ---------------------------------------------------------- */

static ast_expr *new_expr(sql_pctx *ctx, plan_ekind kind, plan_pos pos)
{
    ast_expr *x = ctx_alloc(ctx, sizeof *x);
    if (x == NULL)
        return NULL;
    x->e.kind = kind;
    x->e.pos = pos;
    x->height = 1;
    return x;
}

/* Sets the node's height from its children (Q5); NULL if too high. */
static plan_expr *finish_expr(sql_pctx *ctx, ast_expr *x)
{
    if (x == NULL || ctx->rc != IVM_OK)
        return NULL;
    plan_expr *e = &x->e;
    uint32_t h = IVM_MAX(expr_height(e->a), expr_height(e->b));
    h = IVM_MAX(h, expr_height(e->c));
    h = IVM_MAX(h, expr_height(e->filter));
    h = IVM_MAX(h, list_height((const plan_expr *const *)e->list.items, e->list.n));
    h = IVM_MAX(h, select_height(e->sub));
    if (e->window != NULL) {
        const plan_window *w = e->window;
        h = IVM_MAX(h, list_height((const plan_expr *const *)w->partition.items,
                                   w->partition.n));
        for (uint32_t i = 0; i < w->norder; i++)
            h = IVM_MAX(h, expr_height(w->order_by[i].expr));
    }
    x->height = h + 1;
    return height_ok(ctx, x->height, e->pos) ? e : NULL;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

plan_expr *sql_expr_number(sql_pctx *ctx, const sql_token *t, bool is_float)
{
    ast_expr *x = new_expr(ctx, PLAN_E_INT, sql_tok_pos(t));
    if (x == NULL)
        return NULL;
    const char *z = t->z;
    uint32_t n = t->n;
    if (!is_float && n > 2 && z[0] == '0' && (z[1] == 'x' || z[1] == 'X')) {
        /* SQLite: up to 16 significant hex digits, read as two's
         * complement, so 0xffffffffffffffff is -1. */
        uint32_t i = 2;
        while (i < n && z[i] == '0')
            i++;
        if (n - i > 16) {
            sql_ctx_error(ctx, IVM_SYNTAX, t->line, t->col, "hex literal too big: %.*s",
                          excerpt_len(t), z);
            return NULL;
        }
        uint64_t u = 0;
        for (; i < n; i++)
            u = u * 16 + (uint64_t)hex_digit(z[i]);
        memcpy(&x->e.ival, &u, sizeof u);
        return finish_expr(ctx, x);
    }
    if (!is_float) {
        uint64_t u = 0;
        bool over = false;
        for (uint32_t i = 0; i < n && !over; i++) {
            uint64_t d = (uint64_t)(z[i] - '0');
            if (u > (UINT64_MAX - d) / 10)
                over = true;
            else
                u = u * 10 + d;
        }
        if (!over && u <= (uint64_t)INT64_MAX) {
            x->e.ival = (int64_t)u;
            return finish_expr(ctx, x);
        }
        /* Too big for INTEGER: a REAL, as SQLite reads it. */
        x->two63 = !over && u == (uint64_t)INT64_MAX + 1;
    }
    char *buf = ctx_alloc(ctx, (size_t)n + 1);
    if (buf == NULL)
        return NULL;
    memcpy(buf, z, n);
    x->e.kind = PLAN_E_REAL;
    x->e.rval = strtod_l(buf, NULL, ctx->c_locale);
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_string(sql_pctx *ctx, const sql_token *t)
{
    ast_expr *x = new_expr(ctx, PLAN_E_STR, sql_tok_pos(t));
    if (x == NULL)
        return NULL;
    x->e.str = unquote(ctx, t, &x->e.slen);
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_leaf(sql_pctx *ctx, plan_ekind kind, const sql_token *t, int64_t ival)
{
    ast_expr *x = new_expr(ctx, kind, sql_tok_pos(t));
    if (x != NULL)
        x->e.ival = ival;
    return finish_expr(ctx, x);
}

/* SQLite numbers `?` after the largest index so far; ?NNN names one. */
#define SQL_MAX_PARAM 250000

plan_expr *sql_expr_param(sql_pctx *ctx, const sql_token *t)
{
    ast_expr *x = new_expr(ctx, PLAN_E_PARAM, sql_tok_pos(t));
    if (x == NULL)
        return NULL;
    uint32_t idx = 0;
    if (t->n == 1) {
        idx = ctx->nparam + 1;
    } else {
        for (uint32_t i = 1; i < t->n && idx <= SQL_MAX_PARAM; i++)
            idx = idx * 10 + (uint32_t)(t->z[i] - '0');
    }
    if (idx < 1 || idx > SQL_MAX_PARAM) {
        sql_ctx_error(ctx, IVM_SYNTAX, t->line, t->col,
                      "variable number must be between ?1 and ?%d", SQL_MAX_PARAM);
        return NULL;
    }
    ctx->nparam = IVM_MAX(ctx->nparam, idx);
    x->e.ival = idx;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_column(sql_pctx *ctx, const sql_token *table, const sql_token *name)
{
    ast_expr *x = new_expr(ctx, PLAN_E_COLUMN, sql_tok_pos(table ? table : name));
    if (x == NULL)
        return NULL;
    x->e.table = table ? sql_name(ctx, table) : NULL;
    x->e.name = sql_name(ctx, name);
    return finish_expr(ctx, x);
}

static plan_expr *new_star(sql_pctx *ctx, const sql_token *table, const sql_token *star)
{
    ast_expr *x = new_expr(ctx, PLAN_E_STAR, sql_tok_pos(table ? table : star));
    if (x != NULL && table != NULL)
        x->e.table = sql_name(ctx, table);
    return finish_expr(ctx, x);
}

/* Parentheses make no node; the expression's first token becomes the '('
 * (Q4). */
plan_expr *sql_expr_paren(sql_pctx *ctx, const sql_token *lp, plan_expr *e)
{
    if (ctx->rc != IVM_OK || e == NULL)
        return NULL;
    e->pos = sql_tok_pos(lp);
    return e;
}

plan_expr *sql_expr_unary(sql_pctx *ctx, plan_op op, const sql_token *t, plan_expr *a)
{
    if (ctx->rc != IVM_OK || a == NULL)
        return NULL;
    ast_expr *ax = (ast_expr *)(void *)a;
    if (op == PLAN_OP_NEG && ax->two63) {
        /* -9223372036854775808 is the smallest INTEGER, as in SQLite. */
        a->kind = PLAN_E_INT;
        a->ival = INT64_MIN;
        a->rval = 0;
        a->pos = sql_tok_pos(t);
        ax->two63 = false;
        return a;
    }
    if (op == PLAN_OP_NOT && a->kind == PLAN_E_EXISTS && !a->not_) {
        /* NOT EXISTS is one node (planner.h). */
        a->not_ = true;
        a->pos = sql_tok_pos(t);
        return a;
    }
    ast_expr *x = new_expr(ctx, PLAN_E_UNARY, sql_tok_pos(t));
    if (x == NULL)
        return NULL;
    x->e.op = op;
    x->e.a = a;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_binary(sql_pctx *ctx, plan_op op, plan_expr *a, plan_expr *b)
{
    if (ctx->rc != IVM_OK || a == NULL || b == NULL)
        return NULL;
    ast_expr *x = new_expr(ctx, PLAN_E_BINARY, a->pos);
    if (x == NULL)
        return NULL;
    x->e.op = op;
    x->e.a = a;
    x->e.b = b;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_isnull(sql_pctx *ctx, bool not_, plan_expr *a)
{
    if (ctx->rc != IVM_OK || a == NULL)
        return NULL;
    ast_expr *x = new_expr(ctx, PLAN_E_ISNULL, a->pos);
    if (x == NULL)
        return NULL;
    x->e.not_ = not_;
    x->e.a = a;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_is(sql_pctx *ctx, bool not_, plan_expr *a, plan_expr *b)
{
    if (ctx->rc != IVM_OK || a == NULL || b == NULL)
        return NULL;
    if (b->kind == PLAN_E_NULL)
        return sql_expr_isnull(ctx, not_, a);
    return sql_expr_binary(ctx, not_ ? PLAN_OP_ISNOT : PLAN_OP_IS, a, b);
}

plan_expr *sql_expr_between(sql_pctx *ctx, bool not_, plan_expr *a, plan_expr *lo, plan_expr *hi)
{
    if (ctx->rc != IVM_OK || a == NULL || lo == NULL || hi == NULL)
        return NULL;
    ast_expr *x = new_expr(ctx, PLAN_E_BETWEEN, a->pos);
    if (x == NULL)
        return NULL;
    x->e.not_ = not_;
    x->e.a = a;
    x->e.b = lo;
    x->e.c = hi;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_in_list(sql_pctx *ctx, bool not_, plan_expr *a, sql_elist *list)
{
    if (ctx->rc != IVM_OK || a == NULL)
        return NULL;
    ast_expr *x = new_expr(ctx, PLAN_E_IN_LIST, a->pos);
    if (x == NULL)
        return NULL;
    x->e.not_ = not_;
    x->e.a = a;
    x->e.list.n = list->n;
    x->e.list.items = list->items;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_in_select(sql_pctx *ctx, bool not_, plan_expr *a, plan_select *sub)
{
    if (ctx->rc != IVM_OK || a == NULL || sub == NULL)
        return NULL;
    ast_expr *x = new_expr(ctx, PLAN_E_IN_SELECT, a->pos);
    if (x == NULL)
        return NULL;
    x->e.not_ = not_;
    x->e.a = a;
    x->e.sub = sub;
    return finish_expr(ctx, x);
}

static plan_select *new_core(sql_pctx *ctx, plan_pos pos);
static plan_select *finish_select(sql_pctx *ctx, ast_select *x);

/* `x IN t` is `x IN (SELECT * FROM t)`, spelled out so that the planner
 * sees one form.  The star's text is the table's name, the only source text
 * it has (Q3). */
plan_expr *sql_expr_in_table(sql_pctx *ctx, bool not_, plan_expr *a, const sql_token *table)
{
    sql_rclist cols = { 0 };
    sql_rclist_add_star(ctx, &cols, NULL, table);
    plan_from *from = sql_from_table(ctx, table, NULL);
    plan_select *s = new_core(ctx, sql_tok_pos(table));
    if (s == NULL || from == NULL)
        return NULL;
    s->ncols = cols.n;
    s->cols = cols.items;
    s->from = from;
    return sql_expr_in_select(ctx, not_, a, finish_select(ctx, (ast_select *)(void *)s));
}

plan_expr *sql_expr_like(sql_pctx *ctx, int likeop, plan_expr *a, plan_expr *b, plan_expr *esc)
{
    if (ctx->rc != IVM_OK || a == NULL || b == NULL)
        return NULL;
    ast_expr *x = new_expr(ctx, PLAN_E_LIKE, a->pos);
    if (x == NULL)
        return NULL;
    x->e.op = (plan_op)(likeop & ~SQL_LIKE_NOT);
    x->e.not_ = (likeop & SQL_LIKE_NOT) != 0;
    x->e.a = a;
    x->e.b = b;
    x->e.c = esc;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_subquery(sql_pctx *ctx, plan_ekind kind, const sql_token *t, plan_select *sub)
{
    if (ctx->rc != IVM_OK || sub == NULL)
        return NULL;
    ast_expr *x = new_expr(ctx, kind, sql_tok_pos(t));
    if (x == NULL)
        return NULL;
    x->e.sub = sub;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_case(sql_pctx *ctx, const sql_token *t, plan_expr *base, sql_elist *whens,
                         plan_expr *else_)
{
    ast_expr *x = new_expr(ctx, PLAN_E_CASE, sql_tok_pos(t));
    if (x == NULL)
        return NULL;
    x->e.a = base;
    x->e.b = else_;
    x->e.list.n = whens->n;
    x->e.list.items = whens->items;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_cast(sql_pctx *ctx, const sql_token *t, plan_expr *a, plan_type type)
{
    if (ctx->rc != IVM_OK || a == NULL)
        return NULL;
    ast_expr *x = new_expr(ctx, PLAN_E_CAST, sql_tok_pos(t));
    if (x == NULL)
        return NULL;
    x->e.a = a;
    x->e.cast_type = type;
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_collate(sql_pctx *ctx, plan_expr *a, const sql_token *name)
{
    if (ctx->rc != IVM_OK || a == NULL)
        return NULL;
    ast_expr *x = new_expr(ctx, PLAN_E_COLLATE, a->pos);
    if (x == NULL)
        return NULL;
    x->e.a = a;
    x->e.name = sql_name(ctx, name);
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_func(sql_pctx *ctx, const sql_token *name, sql_elist *args, bool distinct,
                         bool star, plan_expr *filter)
{
    ast_expr *x = new_expr(ctx, PLAN_E_FUNC, sql_tok_pos(name));
    if (x == NULL)
        return NULL;
    x->e.name = sql_name(ctx, name);
    x->e.distinct = distinct;
    x->e.star = star;
    x->e.filter = filter;
    if (args != NULL) {
        x->e.list.n = args->n;
        x->e.list.items = args->items;
    }
    return finish_expr(ctx, x);
}

plan_expr *sql_expr_window(sql_pctx *ctx, const sql_token *name, sql_elist *args, bool distinct,
                           bool star, plan_expr *filter, sql_window *win)
{
    const char *fn = sql_name(ctx, name);
    bool row_number = fn != NULL && strcasecmp(fn, "row_number") == 0 &&
                      (args == NULL || args->n == 0) && !star && !distinct && filter == NULL;
    if (!win->ok || !row_number) {
        sql_ctx_error(ctx, IVM_UNSUPPORTED, win->over.line, win->over.col,
                      "window functions (OVER) are not supported: ivm maintains only "
                      "ROW_NUMBER() OVER ([PARTITION BY ...] [ORDER BY ...]) in a subquery "
                      "in FROM whose enclosing WHERE bounds it (rn <= K)");
        return NULL;
    }
    ast_expr *x = new_expr(ctx, PLAN_E_WINDOW, sql_tok_pos(name));
    plan_window *w = ctx_alloc(ctx, sizeof *w);
    if (x == NULL || w == NULL)
        return NULL;
    memset(w, 0, sizeof *w);
    w->pos = sql_tok_pos(&win->over);
    w->partition.n = win->partition.n;
    w->partition.items = win->partition.items;
    w->norder = win->order.n;
    w->order_by = win->order.items;
    x->e.name = fn;
    x->e.window = w;
    return finish_expr(ctx, x);
}

/* ---- Types ---------------------------------------------------------------- */

static const struct {
    const char *name;
    plan_type type;
} type_names[] = {
    { "INTEGER", PLAN_TY_INTEGER }, { "INT", PLAN_TY_INT },
    { "SMALLINT", PLAN_TY_SMALLINT }, { "TINYINT", PLAN_TY_SMALLINT },
    { "BIGINT", PLAN_TY_BIGINT },   { "BOOLEAN", PLAN_TY_BOOLEAN },
    { "BOOL", PLAN_TY_BOOLEAN },    { "REAL", PLAN_TY_REAL },
    { "DOUBLE", PLAN_TY_DOUBLE },   { "FLOAT", PLAN_TY_FLOAT },
    { "TEXT", PLAN_TY_TEXT },       { "VARCHAR", PLAN_TY_VARCHAR },
    { "CHAR", PLAN_TY_VARCHAR },    { "DECIMAL", PLAN_TY_DECIMAL },
    { "NUMERIC", PLAN_TY_DECIMAL }, { "DATE", PLAN_TY_DATE },
    { "TIMESTAMP", PLAN_TY_TIMESTAMP },
};

plan_type sql_type(sql_pctx *ctx, const sql_token *first, const sql_token *last)
{
    const char *w1 = sql_name(ctx, first);
    const char *w2 = first != last ? sql_name(ctx, last) : NULL;
    if (w1 == NULL || (first != last && w2 == NULL))
        return PLAN_TY_NONE;
    if (w2 == NULL) {
        for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
            if (strcasecmp(w1, type_names[i].name) == 0)
                return type_names[i].type;
    } else if (strcasecmp(w1, "DOUBLE") == 0 && strcasecmp(w2, "PRECISION") == 0) {
        return PLAN_TY_DOUBLE;
    }
    const char *end = last->z + last->n;
    sql_ctx_error(ctx, IVM_UNSUPPORTED, first->line, first->col,
                  "unsupported type \"%.*s\" (expected INTEGER, INT, BIGINT, SMALLINT, "
                  "BOOLEAN, REAL, DOUBLE, FLOAT, TEXT, VARCHAR, CHAR, DECIMAL, NUMERIC, DATE "
                  "or TIMESTAMP)",
                  (int)IVM_MIN(end - first->z, 64), first->z);
    return PLAN_TY_NONE;
}

/* ---- Selects and FROM ----------------------------------------------------- */

static plan_select *new_core(sql_pctx *ctx, plan_pos pos)
{
    ast_select *x = ctx_alloc(ctx, sizeof *x);
    if (x == NULL)
        return NULL;
    x->s.pos = pos;
    x->height = 1;
    return &x->s;
}

/* Sets a select's height from everything it holds (Q5). */
static plan_select *finish_select(sql_pctx *ctx, ast_select *x)
{
    if (x == NULL || ctx->rc != IVM_OK)
        return NULL;
    const plan_select *s = &x->s;
    uint32_t h = from_height(s->from);
    for (uint32_t i = 0; i < s->ncols; i++)
        h = IVM_MAX(h, expr_height(s->cols[i].expr));
    h = IVM_MAX(h, expr_height(s->where));
    h = IVM_MAX(h, list_height((const plan_expr *const *)s->group_by.items, s->group_by.n));
    h = IVM_MAX(h, expr_height(s->having));
    for (uint32_t i = 0; i < s->norder; i++)
        h = IVM_MAX(h, expr_height(s->order_by[i].expr));
    h = IVM_MAX(h, expr_height(s->limit));
    h = IVM_MAX(h, expr_height(s->offset));
    h = IVM_MAX(h, select_height(s->prior));
    for (uint32_t i = 0; i < s->ncte; i++)
        h = IVM_MAX(h, select_height(s->ctes[i].sub));
    x->height = h + 1;
    return height_ok(ctx, x->height, s->pos) ? &x->s : NULL;
}

plan_select *sql_select_core(sql_pctx *ctx, const sql_token *t, bool distinct, sql_rclist *cols,
                             plan_from *from, plan_expr *where, sql_elist *group,
                             plan_expr *having, sql_olist *order, sql_limit *limit)
{
    plan_select *s = new_core(ctx, sql_tok_pos(t));
    if (s == NULL)
        return NULL;
    s->distinct = distinct;
    s->ncols = cols->n;
    s->cols = cols->items;
    s->from = from;
    s->where = where;
    s->group_by.n = group->n;
    s->group_by.items = group->items;
    s->having = having;
    s->norder = order->n;
    s->order_by = order->items;
    s->limit = limit->limit;
    s->offset = limit->offset;
    return finish_select(ctx, (ast_select *)(void *)s);
}

static const char *compound_name(plan_compound op)
{
    switch (op) {
    case PLAN_C_UNION_ALL:
        return "UNION ALL";
    case PLAN_C_INTERSECT:
        return "INTERSECT";
    case PLAN_C_EXCEPT:
        return "EXCEPT";
    default:
        return "UNION";
    }
}

/* Keeps Q7: `A op B` is B with prior = A; ORDER BY and LIMIT may only sit
 * on the last member, where they apply to the whole compound. */
plan_select *sql_select_compound(sql_pctx *ctx, plan_select *prior, plan_compound op,
                                 plan_select *right)
{
    if (ctx->rc != IVM_OK || prior == NULL || right == NULL)
        return NULL;
    if (prior->norder > 0) {
        plan_pos p = prior->order_by[0].expr->pos;
        sql_ctx_error(ctx, IVM_SYNTAX, p.line, p.col,
                      "ORDER BY clause should come after %s not before", compound_name(op));
        return NULL;
    }
    if (prior->limit != NULL) {
        plan_pos p = prior->limit->pos;
        sql_ctx_error(ctx, IVM_SYNTAX, p.line, p.col,
                      "LIMIT clause should come after %s not before", compound_name(op));
        return NULL;
    }
    right->prior = prior;
    right->op = op;
    return finish_select(ctx, (ast_select *)(void *)right);
}

plan_select *sql_select_with(sql_pctx *ctx, sql_ctelist *ctes, plan_select *sel)
{
    if (ctx->rc != IVM_OK || sel == NULL)
        return NULL;
    sel->ncte = ctes->n;
    sel->ctes = ctes->items;
    return finish_select(ctx, (ast_select *)(void *)sel);
}

static ast_from *new_from(sql_pctx *ctx, plan_fkind kind, plan_pos pos)
{
    ast_from *x = ctx_alloc(ctx, sizeof *x);
    if (x == NULL)
        return NULL;
    x->f.kind = kind;
    x->f.pos = pos;
    x->height = 1;
    return x;
}

static plan_from *finish_from(sql_pctx *ctx, ast_from *x)
{
    if (x == NULL || ctx->rc != IVM_OK)
        return NULL;
    const plan_from *f = &x->f;
    uint32_t h = IVM_MAX(from_height(f->left), from_height(f->right));
    h = IVM_MAX(h, expr_height(f->on));
    h = IVM_MAX(h, select_height(f->sub));
    x->height = h + 1;
    return height_ok(ctx, x->height, f->pos) ? &x->f : NULL;
}

plan_from *sql_from_table(sql_pctx *ctx, const sql_token *name, const sql_token *alias)
{
    ast_from *x = new_from(ctx, PLAN_F_TABLE, sql_tok_pos(name));
    if (x == NULL)
        return NULL;
    x->f.name = sql_name(ctx, name);
    x->f.alias = alias ? sql_name(ctx, alias) : NULL;
    return finish_from(ctx, x);
}

plan_from *sql_from_subquery(sql_pctx *ctx, const sql_token *lp, plan_select *sub,
                             const sql_token *alias)
{
    if (ctx->rc != IVM_OK || sub == NULL)
        return NULL;
    ast_from *x = new_from(ctx, PLAN_F_SUBQUERY, sql_tok_pos(lp));
    if (x == NULL)
        return NULL;
    x->f.sub = sub;
    x->f.alias = alias ? sql_name(ctx, alias) : NULL;
    return finish_from(ctx, x);
}

plan_from *sql_from_paren(sql_pctx *ctx, const sql_token *lp, plan_from *inner)
{
    if (ctx->rc != IVM_OK || inner == NULL)
        return NULL;
    inner->pos = sql_tok_pos(lp);
    return inner;
}

plan_from *sql_from_join(sql_pctx *ctx, plan_from *left, int joinop, plan_from *right,
                         sql_onusing *cond)
{
    if (ctx->rc != IVM_OK || right == NULL)
        return NULL;
    if (left == NULL) {
        /* The first FROM item: nothing to join with yet. */
        if (cond->on != NULL || cond->using_ != NULL) {
            sql_ctx_error(ctx, IVM_SYNTAX, right->pos.line, right->pos.col,
                          "a JOIN clause is required before %s", cond->on ? "ON" : "USING");
            return NULL;
        }
        return right;
    }
    if ((joinop & SQL_JOIN_NATURAL) && (cond->on != NULL || cond->using_ != NULL)) {
        sql_ctx_error(ctx, IVM_SYNTAX, right->pos.line, right->pos.col,
                      "a NATURAL join may not have an ON or USING clause");
        return NULL;
    }
    ast_from *x = new_from(ctx, PLAN_F_JOIN, left->pos);
    if (x == NULL)
        return NULL;
    x->f.jkind = (plan_jkind)(joinop & SQL_JOIN_KIND);
    x->f.natural = (joinop & SQL_JOIN_NATURAL) != 0;
    x->f.comma = (joinop & SQL_JOIN_COMMA) != 0;
    x->f.left = left;
    x->f.right = right;
    x->f.on = cond->on;
    if (cond->using_ != NULL) {
        x->f.nusing = cond->using_->n;
        x->f.using_ = cond->using_->items;
    }
    return finish_from(ctx, x);
}

/* ---- Statements ----------------------------------------------------------- */

plan_stmt *sql_stmt_new(sql_pctx *ctx, plan_skind kind)
{
    plan_stmt *s = ctx_alloc(ctx, sizeof *s);
    if (s != NULL)
        s->kind = kind;
    return s;
}

plan_stmt *sql_stmt_named(sql_pctx *ctx, plan_skind kind, const sql_token *name, bool if_flag)
{
    plan_stmt *s = sql_stmt_new(ctx, kind);
    if (s == NULL)
        return NULL;
    s->name = sql_name(ctx, name);
    s->name_pos = sql_tok_pos(name);
    if (kind == PLAN_S_DROP_TABLE || kind == PLAN_S_DROP_VIEW || kind == PLAN_S_DROP_INDEX)
        s->if_exists = if_flag;
    else
        s->if_not_exists = if_flag;
    return s;
}

void sql_table_begin(sql_pctx *ctx, bool if_not_exists, const sql_token *name)
{
    ctx->table = sql_stmt_named(ctx, PLAN_S_CREATE_TABLE, name, if_not_exists);
    ctx->coldef_cap = 0;
    ctx->unique_cap = 0;
}

void sql_table_column(sql_pctx *ctx, const sql_token *name, plan_type type)
{
    plan_stmt *t = ctx->table;
    if (ctx->rc != IVM_OK || t == NULL)
        return;
    const char *s = sql_name(ctx, name);
    plan_column_def *defs = grow(ctx, t->coldefs, t->ncoldefs, &ctx->coldef_cap, sizeof *defs);
    if (s == NULL || defs == NULL)
        return;
    plan_column_def *d = &defs[t->ncoldefs++];
    memset(d, 0, sizeof *d);
    d->name = s;
    d->pos = sql_tok_pos(name);
    d->type = type;
    t->coldefs = defs;
}

/* The column whose constraints are being read. */
static plan_column_def *last_column(sql_pctx *ctx)
{
    plan_stmt *t = ctx->table;
    if (ctx->rc != IVM_OK || t == NULL || t->ncoldefs == 0)
        return NULL;
    return &t->coldefs[t->ncoldefs - 1];
}

void sql_table_not_null(sql_pctx *ctx)
{
    plan_column_def *d = last_column(ctx);
    if (d != NULL)
        d->not_null = true;
}

/* Keeps Q9: a table has at most one primary key, on a column or listed. */
static bool has_primary_key(sql_pctx *ctx, const sql_token *t)
{
    const plan_stmt *tab = ctx->table;
    bool has = tab->npk > 0;
    for (uint32_t i = 0; i < tab->ncoldefs && !has; i++)
        has = tab->coldefs[i].primary_key;
    if (has)
        sql_ctx_error(ctx, IVM_SCHEMA, t->line, t->col,
                      "table \"%s\" has more than one primary key", tab->name);
    return has;
}

void sql_table_primary_key(sql_pctx *ctx, const sql_token *t)
{
    plan_column_def *d = last_column(ctx);
    if (d != NULL && !has_primary_key(ctx, t))
        d->primary_key = true;
}

void sql_table_unique(sql_pctx *ctx, const sql_token *t)
{
    IVM_UNUSED(t);
    plan_column_def *d = last_column(ctx);
    if (d != NULL)
        d->unique = true;
}

void sql_table_default(sql_pctx *ctx, plan_expr *e)
{
    plan_column_def *d = last_column(ctx);
    if (d != NULL && e != NULL)
        d->default_ = e;
}

void sql_table_pk(sql_pctx *ctx, const sql_token *t, sql_nlist *cols)
{
    plan_stmt *tab = ctx->table;
    if (ctx->rc != IVM_OK || tab == NULL || has_primary_key(ctx, t))
        return;
    tab->npk = cols->n;
    tab->pk = cols->items;
    tab->pk_pos = sql_tok_pos(t);
}

void sql_table_unique_cols(sql_pctx *ctx, const sql_token *t, sql_nlist *cols)
{
    plan_stmt *tab = ctx->table;
    if (ctx->rc != IVM_OK || tab == NULL)
        return;
    plan_unique *u = grow(ctx, tab->uniques, tab->nuniques, &ctx->unique_cap, sizeof *u);
    if (u == NULL)
        return;
    u[tab->nuniques].ncols = cols->n;
    u[tab->nuniques].cols = cols->items;
    u[tab->nuniques].pos = sql_tok_pos(t);
    tab->nuniques++;
    tab->uniques = u;
}

plan_stmt *sql_table_end(sql_pctx *ctx)
{
    plan_stmt *t = ctx->table;
    ctx->table = NULL;
    return ctx->rc == IVM_OK ? t : NULL;
}

plan_stmt *sql_stmt_index(sql_pctx *ctx, bool unique, bool if_not_exists, const sql_token *name,
                          const sql_token *table, sql_nlist *cols)
{
    plan_stmt *s = sql_stmt_named(ctx, PLAN_S_CREATE_INDEX, name, if_not_exists);
    if (s == NULL)
        return NULL;
    s->unique = unique;
    s->on_table = sql_name(ctx, table);
    s->ncols = cols->n;
    s->cols = cols->items;
    s->col_pos = cols->poss;
    return s;
}

plan_stmt *sql_stmt_view(sql_pctx *ctx, bool if_not_exists, const sql_token *name,
                         sql_nlist *cols, plan_select *sel)
{
    plan_stmt *s = sql_stmt_named(ctx, PLAN_S_CREATE_VIEW, name, if_not_exists);
    if (s == NULL || sel == NULL)
        return NULL;
    if (cols != NULL) {
        s->ncols = cols->n;
        s->cols = cols->items;
        s->col_pos = cols->poss;
    }
    s->select = sel;
    return s;
}

plan_stmt *sql_stmt_insert(sql_pctx *ctx, int on_conflict, const sql_token *table,
                           sql_nlist *cols, sql_rowlist *rows, plan_select *sel)
{
    plan_stmt *s = sql_stmt_named(ctx, PLAN_S_INSERT, table, false);
    if (s == NULL || (rows == NULL && sel == NULL))
        return NULL;
    s->on_conflict = (plan_conflict)on_conflict;
    if (cols != NULL) {
        s->ncols = cols->n;
        s->cols = cols->items;
        s->col_pos = cols->poss;
    }
    if (rows != NULL) {
        s->nrows = rows->n;
        s->rows = rows->items;
    }
    s->select = sel;
    return s;
}

plan_stmt *sql_stmt_update(sql_pctx *ctx, const sql_token *table, sql_nlist *cols,
                           sql_elist *values, plan_expr *where)
{
    plan_stmt *s = sql_stmt_named(ctx, PLAN_S_UPDATE, table, false);
    if (s == NULL)
        return NULL;
    s->ncols = cols->n;
    s->cols = cols->items;
    s->col_pos = cols->poss;
    s->set.n = values->n;
    s->set.items = values->items;
    s->where = where;
    return s;
}

plan_stmt *sql_stmt_delete(sql_pctx *ctx, const sql_token *table, plan_expr *where)
{
    plan_stmt *s = sql_stmt_named(ctx, PLAN_S_DELETE, table, false);
    if (s != NULL)
        s->where = where;
    return s;
}

plan_stmt *sql_stmt_select(sql_pctx *ctx, plan_select *sel)
{
    plan_stmt *s = sql_stmt_new(ctx, PLAN_S_SELECT);
    if (s == NULL || sel == NULL)
        return NULL;
    s->select = sel;
    return s;
}

plan_stmt *sql_stmt_explain(sql_pctx *ctx, plan_stmt *inner, const sql_token *view)
{
    if (ctx->rc != IVM_OK || (inner == NULL && view == NULL))
        return NULL;
    plan_stmt *s = view ? sql_stmt_named(ctx, PLAN_S_EXPLAIN, view, false)
                        : sql_stmt_new(ctx, PLAN_S_EXPLAIN);
    if (s != NULL)
        s->explained = inner;
    return s;
}

plan_stmt *sql_stmt_explain_as(sql_pctx *ctx, const sql_token *format, plan_stmt *inner,
                               const sql_token *view)
{
    if (ctx->rc != IVM_OK)
        return NULL;
    if (format->n != 3 || strncasecmp(format->z, "dot", 3) != 0) {
        sql_ctx_syntax_error(ctx, 0, format);
        return NULL;
    }
    plan_stmt *s = sql_stmt_explain(ctx, inner, view);
    if (s != NULL)
        s->explain_dot = true;
    return s;
}

void sql_stmt_done(sql_pctx *ctx, plan_stmt *s)
{
    if (ctx->rc == IVM_OK)
        ctx->stmt = s;
}

/* ---- The driver ----------------------------------------------------------- */

ivm_rc sql_parser_new(const char *src, size_t len, uint32_t first_line, sql_parser **out)
{
    /* Token lengths and offsets are 32-bit (Q1). */
    if ((src == NULL && len > 0) || len > UINT32_MAX)
        return IVM_INVALID;
    sql_parser *p = ivm_calloc(1, sizeof *p);
    if (p == NULL)
        return IVM_NOMEM;
    sql_lexer_init(&p->lx, src ? src : "", len, first_line);
    rt_arena_init(&p->arena);
    p->ctx.arena = &p->arena;
    p->ctx.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (p->ctx.c_locale == (locale_t)0)
        goto fail;
    p->gram = sql_gramAlloc(ivm_malloc, &p->ctx);
    if (p->gram == NULL)
        goto fail;
    *out = p;
    return IVM_OK;
fail:
    sql_parser_free(p);
    return IVM_NOMEM;
}

void sql_parser_free(sql_parser *p)
{
    if (p == NULL)
        return;
    if (p->gram != NULL)
        sql_gramFree(p->gram, ivm_free);
    if (p->ctx.c_locale != (locale_t)0)
        freelocale(p->ctx.c_locale);
    rt_arena_fini(&p->arena);
    ivm_free(p);
}

/* Keeps Q6: after an error, drops tokens up to and including the next ';'
 * (one outside literals, quoted names and comments, as sql_complete sees
 * it), so that the next call starts on the next statement. */
static void skip_statement(sql_parser *p)
{
    sql_token t;
    int code;
    do {
        code = sql_lex_next(&p->lx, &t);
    } while (code != 0 && code != TK_SEMI);
}

static void ctx_reset(sql_pctx *ctx)
{
    ctx->rc = IVM_OK;
    ctx->err_line = ctx->err_col = 0;
    ctx->err_msg[0] = '\0';
    ctx->stmt = NULL;
    ctx->table = NULL;
    ctx->nparam = 0;
}

ivm_rc sql_parse_next(sql_parser *p, plan_stmt **out, ivm_err *err)
{
    sql_pctx *ctx = &p->ctx;
    sql_token tok;
    plan_stmt *s;
    int code;

    rt_arena_reset(&p->arena);
    ctx_reset(ctx);
    sql_gramFinalize(p->gram);
    sql_gramInit(p->gram, ctx);

    do { /* empty statements (";;") are skipped */
        code = sql_lex_next(&p->lx, &tok);
    } while (code == TK_SEMI);
    if (code == 0) {
        *out = NULL;
        return IVM_OK;
    }

    uint32_t ntok = 0;
    const char *end = tok.z;
    while (code != 0 && code != TK_SEMI) {
        if (code == TK_ILLEGAL) {
            lex_error(ctx, p->lx.err, &tok);
            goto fail_skip;
        }
        if (ntok == 0)
            ctx->tok0 = tok;
        else if (ntok == 1)
            ctx->tok1 = tok;
        ntok++;
        ctx->cur = tok;
        sql_gram(p->gram, code, tok);
        if (ctx->rc != IVM_OK)
            goto fail_skip;
        end = tok.z + tok.n;
        code = sql_lex_next(&p->lx, &tok);
    }
    /* The end marker carries the ';' (or the empty end-of-text token) so that
     * errors at the end can name it (Q6). */
    ctx->cur = tok;
    sql_gram(p->gram, 0, tok);
    if (ctx->rc != IVM_OK)
        goto fail;
    s = ctx->stmt;
    if (s == NULL) {
        sql_ctx_error(ctx, IVM_INTERNAL, ctx->tok0.line, ctx->tok0.col,
                      "parser accepted a statement but built no tree");
        goto fail;
    }
    /* Keeps Q2 and Q4: text runs from the first token to the end of the last
     * one; an EXPLAINed statement starts at the second token. */
    s->pos = sql_tok_pos(&ctx->tok0);
    s->text = ctx->tok0.z;
    s->text_len = (uint32_t)(end - ctx->tok0.z);
    if (s->explained != NULL) {
        s->explained->pos = sql_tok_pos(&ctx->tok1);
        s->explained->text = ctx->tok1.z;
        s->explained->text_len = (uint32_t)(end - ctx->tok1.z);
    }
    *out = s;
    return IVM_OK;

fail_skip:
    skip_statement(p);
fail:
    ivm_err_set(err, ctx->rc, ctx->err_line, ctx->err_col, "%s", ctx->err_msg);
    return ctx->rc;
}

bool sql_complete(const char *text, size_t len)
{
    if (text == NULL || len == 0 || len > UINT32_MAX)
        return false;
    sql_lexer lx;
    sql_token t;
    bool ended = false;
    sql_lexer_init(&lx, text, len, 1);
    for (;;) {
        int code = sql_lex_next(&lx, &t);
        if (code == 0)
            return ended;
        if (code == TK_ILLEGAL &&
            (lx.err == SQL_LEX_OPEN_STRING || lx.err == SQL_LEX_OPEN_IDENT ||
             lx.err == SQL_LEX_OPEN_COMMENT))
            return false; /* still inside a literal or a comment */
        ended = code == TK_SEMI;
    }
}
