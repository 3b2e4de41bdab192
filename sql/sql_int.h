/*
 * sql_int.h: what the lexer (lexer.re), the grammar (grammar.y) and the
 * driver (parse.c) share inside sql/: the token, the lexer state, the parse
 * context that grammar actions write into, and the tree builders those
 * actions call.  Nothing here is visible outside sql/; the public face is
 * include/sql.h.  Design and invariants (Q1, Q2, ...): sql/README.md.
 */
#ifndef IVM_SQL_INT_H
#define IVM_SQL_INT_H

#include <locale.h>

#include "sql.h"
#include "runtime.h"

/* Limits that keep every walk over a tree bounded (Q5).  SQL_MAX_DEPTH bounds
 * the height of any tree the parser returns: expressions, selects and FROM
 * trees counted together.  SQL_STACK_SIZE is lemon's fixed stack (entries);
 * nesting deeper than it allows is an error, not an overflow. */
#define SQL_MAX_DEPTH 1000
#define SQL_STACK_SIZE 1000

/* ---- Tokens and the lexer ------------------------------------------------- */

/* A token: a slice of the source with its position.  gap counts the bytes of
 * white space and comments between the previous token's end and z, so that
 * z - gap is where the previous token ended (result column text, Q3). */
typedef struct sql_token {
    const char *z;
    uint32_t n;
    uint32_t line, col;
    uint32_t gap;
} sql_token;

/* Why the lexer returned TK_ILLEGAL. */
typedef enum sql_lex_err {
    SQL_LEX_OK = 0,
    SQL_LEX_BAD_TOKEN,       /* a byte or lexeme that starts no token */
    SQL_LEX_OPEN_STRING,     /* '... without its closing quote */
    SQL_LEX_OPEN_IDENT,      /* "...  [...  `... without the closing one */
    SQL_LEX_OPEN_COMMENT,    /* slash-star without star-slash */
    SQL_LEX_NUL,             /* a NUL byte outside comments */
    SQL_LEX_BLOB             /* X'..' blob literal: not supported */
} sql_lex_err;

/* The lexer walks src[0..len) and never reads outside it (Q1). */
typedef struct sql_lexer {
    const char *src;
    const char *cur, *lim;
    const char *prev_end;    /* end of the last token returned */
    uint32_t line, col;      /* position of cur */
    sql_lex_err err;         /* set when TK_ILLEGAL is returned */
} sql_lexer;

void sql_lexer_init(sql_lexer *lx, const char *src, size_t len, uint32_t first_line);
/* Skips white space and comments and returns the next token's code (TK_*
 * from the generated grammar.h), 0 at the end of the text, or TK_ILLEGAL
 * with lx->err set.  *tok is filled in every case (at the end: an empty
 * token where the text ends). */
int sql_lex_next(sql_lexer *lx, sql_token *tok);

/* ---- Builders used while parsing ----------------------------------------- */

/* Lists under construction, grown by doubling in the arena. */
typedef struct sql_elist {
    plan_expr **items;
    uint32_t n, cap;
} sql_elist;

typedef struct sql_nlist {
    const char **items;
    plan_pos *poss;          /* each name's position */
    uint32_t n, cap;
    plan_pos pos;            /* first name's position */
} sql_nlist;

typedef struct sql_rclist {
    plan_result_col *items;
    uint32_t n, cap;
} sql_rclist;

typedef struct sql_olist {
    plan_order *items;
    uint32_t n, cap;
} sql_olist;

typedef struct sql_rowlist {
    plan_expr_list *items;
    uint32_t n, cap;
} sql_rowlist;

typedef struct sql_ctelist {
    plan_cte *items;
    uint32_t n, cap;
} sql_ctelist;

typedef struct sql_limit {
    plan_expr *limit, *offset;
} sql_limit;

/* Join operator bits: a plan_jkind in the low bits plus these flags. */
#define SQL_JOIN_KIND 0x0f
#define SQL_JOIN_NATURAL 0x10
#define SQL_JOIN_COMMA 0x20

/* OVER (...) while it is parsed: ok is false for the forms ivm refuses (a
 * frame, a named window), reported at over. */
typedef struct sql_window {
    sql_token over;
    bool ok;
    sql_elist partition;
    sql_olist order;
} sql_window;

/* ON e or USING (names) after a FROM item. */
typedef struct sql_onusing {
    plan_expr *on;
    sql_nlist *using_;       /* NULL when absent */
} sql_onusing;

/* The parse context: grammar actions build into it, parse.c drives it.
 * Once rc is not IVM_OK every builder returns NULL and does nothing, so the
 * actions lemon still runs before parse.c regains control are harmless. */
typedef struct sql_pctx {
    rt_arena *arena;
    ivm_rc rc;               /* first failure of this statement */
    uint32_t err_line, err_col;
    char err_msg[IVM_ERR_MSG_MAX];

    plan_stmt *stmt;         /* the finished statement */
    plan_stmt *table;        /* CREATE TABLE under construction */
    uint32_t coldef_cap, unique_cap;
    sql_token tok0, tok1;    /* first two tokens of the statement */
    sql_token cur;           /* token being fed (for stack overflow) */
    uint32_t nparam;         /* highest ? index so far */
    locale_t c_locale;       /* for strtod_l, independent of setlocale */
} sql_pctx;

/* Records a failure (the first one wins) at a position. */
void sql_ctx_error(sql_pctx *ctx, ivm_rc rc, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* `near "tok": syntax error` or `incomplete input` for the token lemon
 * rejected (major 0 is the end of the statement). */
void sql_ctx_syntax_error(sql_pctx *ctx, int major, const sql_token *tok);
void sql_ctx_stack_overflow(sql_pctx *ctx);

plan_pos sql_tok_pos(const sql_token *t);
/* The name a token spells: quotes removed and doubled quotes undone. */
const char *sql_name(sql_pctx *ctx, const sql_token *t);

void sql_elist_add(sql_pctx *ctx, sql_elist *l, plan_expr *e);
void sql_nlist_add(sql_pctx *ctx, sql_nlist *l, const sql_token *name);
sql_nlist *sql_nlist_dup(sql_pctx *ctx, const sql_nlist *l);
void sql_rclist_add_expr(sql_pctx *ctx, sql_rclist *l, plan_expr *e, const sql_token *first,
                         const sql_token *after, const sql_token *alias);
void sql_rclist_add_star(sql_pctx *ctx, sql_rclist *l, const sql_token *table,
                         const sql_token *star);
void sql_olist_add(sql_pctx *ctx, sql_olist *l, plan_expr *e, bool desc, int nulls);
void sql_rowlist_add(sql_pctx *ctx, sql_rowlist *l, sql_elist *row);
void sql_ctelist_add(sql_pctx *ctx, sql_ctelist *l, const sql_token *name, sql_nlist *cols,
                     plan_select *sub);

/* Expressions.  Every constructor keeps Q4 (position of the first token) and
 * Q5 (height bound). */
plan_expr *sql_expr_number(sql_pctx *ctx, const sql_token *t, bool is_float);
plan_expr *sql_expr_string(sql_pctx *ctx, const sql_token *t);
plan_expr *sql_expr_leaf(sql_pctx *ctx, plan_ekind kind, const sql_token *t, int64_t ival);
plan_expr *sql_expr_param(sql_pctx *ctx, const sql_token *t);
plan_expr *sql_expr_column(sql_pctx *ctx, const sql_token *table, const sql_token *name);
plan_expr *sql_expr_paren(sql_pctx *ctx, const sql_token *lp, plan_expr *e);
plan_expr *sql_expr_unary(sql_pctx *ctx, plan_op op, const sql_token *t, plan_expr *a);
plan_expr *sql_expr_binary(sql_pctx *ctx, plan_op op, plan_expr *a, plan_expr *b);
plan_expr *sql_expr_is(sql_pctx *ctx, bool not_, plan_expr *a, plan_expr *b);
plan_expr *sql_expr_isnull(sql_pctx *ctx, bool not_, plan_expr *a);
plan_expr *sql_expr_between(sql_pctx *ctx, bool not_, plan_expr *a, plan_expr *lo, plan_expr *hi);
plan_expr *sql_expr_in_list(sql_pctx *ctx, bool not_, plan_expr *a, sql_elist *list);
plan_expr *sql_expr_in_select(sql_pctx *ctx, bool not_, plan_expr *a, plan_select *sub);
plan_expr *sql_expr_in_table(sql_pctx *ctx, bool not_, plan_expr *a, const sql_token *table);
plan_expr *sql_expr_like(sql_pctx *ctx, int likeop, plan_expr *a, plan_expr *b, plan_expr *esc);
plan_expr *sql_expr_subquery(sql_pctx *ctx, plan_ekind kind, const sql_token *t, plan_select *sub);
plan_expr *sql_expr_case(sql_pctx *ctx, const sql_token *t, plan_expr *base, sql_elist *whens,
                         plan_expr *else_);
plan_expr *sql_expr_cast(sql_pctx *ctx, const sql_token *t, plan_expr *a, plan_type type);
plan_expr *sql_expr_collate(sql_pctx *ctx, plan_expr *a, const sql_token *name);
plan_expr *sql_expr_func(sql_pctx *ctx, const sql_token *name, sql_elist *args, bool distinct,
                         bool star, plan_expr *filter);
/* name(args) [FILTER] OVER (...): ROW_NUMBER() with a plain window becomes
 * PLAN_E_WINDOW; every other window function or window form is
 * IVM_UNSUPPORTED at the OVER keyword. */
plan_expr *sql_expr_window(sql_pctx *ctx, const sql_token *name, sql_elist *args, bool distinct,
                           bool star, plan_expr *filter, sql_window *win);

/* LIKE operator codes for sql_expr_like: PLAN_OP_LIKE or PLAN_OP_GLOB, plus
 * SQL_LIKE_NOT for the negated form. */
#define SQL_LIKE_NOT 0x100

/* Type names: words [first, last] with optional (n[, m]); IVM_UNSUPPORTED
 * for a name ivm does not know. */
plan_type sql_type(sql_pctx *ctx, const sql_token *first, const sql_token *last);

/* Selects and FROM trees. */
plan_select *sql_select_core(sql_pctx *ctx, const sql_token *t, bool distinct, sql_rclist *cols,
                             plan_from *from, plan_expr *where, sql_elist *group,
                             plan_expr *having, sql_olist *order, sql_limit *limit);
plan_select *sql_select_compound(sql_pctx *ctx, plan_select *prior, plan_compound op,
                                 plan_select *right);
plan_select *sql_select_with(sql_pctx *ctx, sql_ctelist *ctes, plan_select *sel);
plan_from *sql_from_table(sql_pctx *ctx, const sql_token *name, const sql_token *alias);
plan_from *sql_from_subquery(sql_pctx *ctx, const sql_token *lp, plan_select *sub,
                             const sql_token *alias);
plan_from *sql_from_paren(sql_pctx *ctx, const sql_token *lp, plan_from *inner);
plan_from *sql_from_join(sql_pctx *ctx, plan_from *left, int joinop, plan_from *right,
                         sql_onusing *cond);

/* Statements.  pos and text are filled in by parse.c (Q2, Q4). */
plan_stmt *sql_stmt_new(sql_pctx *ctx, plan_skind kind);
plan_stmt *sql_stmt_named(sql_pctx *ctx, plan_skind kind, const sql_token *name, bool if_flag);
void sql_table_begin(sql_pctx *ctx, bool if_not_exists, const sql_token *name);
void sql_table_column(sql_pctx *ctx, const sql_token *name, plan_type type);
void sql_table_not_null(sql_pctx *ctx);
void sql_table_primary_key(sql_pctx *ctx, const sql_token *t);
void sql_table_unique(sql_pctx *ctx, const sql_token *t);
void sql_table_default(sql_pctx *ctx, plan_expr *e);
void sql_table_pk(sql_pctx *ctx, const sql_token *t, sql_nlist *cols);
void sql_table_unique_cols(sql_pctx *ctx, const sql_token *t, sql_nlist *cols);
plan_stmt *sql_table_end(sql_pctx *ctx);
plan_stmt *sql_stmt_index(sql_pctx *ctx, bool unique, bool if_not_exists, const sql_token *name,
                          const sql_token *table, sql_nlist *cols);
plan_stmt *sql_stmt_view(sql_pctx *ctx, bool if_not_exists, const sql_token *name,
                         sql_nlist *cols, plan_select *sel);
plan_stmt *sql_stmt_insert(sql_pctx *ctx, int on_conflict, const sql_token *table,
                           sql_nlist *cols, sql_rowlist *rows, plan_select *sel);
plan_stmt *sql_stmt_update(sql_pctx *ctx, const sql_token *table, sql_nlist *cols,
                           sql_elist *values, plan_expr *where);
plan_stmt *sql_stmt_delete(sql_pctx *ctx, const sql_token *table, plan_expr *where);
plan_stmt *sql_stmt_select(sql_pctx *ctx, plan_select *sel);
plan_stmt *sql_stmt_explain(sql_pctx *ctx, plan_stmt *inner, const sql_token *view);
/* EXPLAIN <format> ...: format must be DOT (else a syntax error at it). */
plan_stmt *sql_stmt_explain_as(sql_pctx *ctx, const sql_token *format, plan_stmt *inner,
                               const sql_token *view);
/* The statement is complete: hands it to parse.c. */
void sql_stmt_done(sql_pctx *ctx, plan_stmt *s);

/* The generated parser (%name sql_gram). */
void *sql_gramAlloc(void *(*alloc)(size_t), sql_pctx *ctx);
void sql_gramInit(void *parser, sql_pctx *ctx);
void sql_gramFinalize(void *parser);
void sql_gramFree(void *parser, void (*release)(void *));
void sql_gram(void *parser, int major, sql_token minor);

#endif /* IVM_SQL_INT_H */
