/*
 * fuzz_parse.c: libFuzzer target for the lexer and the parser.  Each input
 * is a SQL text parsed statement by statement to the end, as the engine
 * does; every tree is walked, checking what sql/README.md promises of it
 * (positions from the first line on, source texts inside the input, kinds
 * in range, bounded height: Q2-Q5), and sql_complete reads the same bytes.
 * Any crash, sanitizer report, leak or broken promise (abort) is a finding.
 * Built and run by `make fuzz` (Makefile, "Fuzzing").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sql.h"

typedef struct walk {
    const char *src;
    size_t len;
    uint32_t depth;
} walk;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_parse: broken promise: %s\n", what);
    abort();
}

static void pos(plan_pos p)
{
    if (p.line < 1 || p.col < 1)
        fail("position before line 1, column 1 (Q4)");
}

static void slice(const walk *w, const char *t, uint32_t n)
{
    if (t == NULL || t < w->src || t + n > w->src + w->len)
        fail("source text outside the input (Q2, Q3)");
}

static void enter(walk *w)
{
    /* Q5 bounds the height at 1000; a walk a little deeper than that means
     * a tree the parser should have refused. */
    if (++w->depth > 1100)
        fail("tree deeper than SQL_MAX_DEPTH (Q5)");
}

static void select_(walk *w, const plan_select *s);

static void expr(walk *w, const plan_expr *e)
{
    if (e == NULL)
        return;
    enter(w);
    if ((unsigned)e->kind >= PLAN_E_KIND_COUNT_ || (unsigned)e->op >= PLAN_OP_COUNT_)
        fail("expression kind or operator out of range");
    pos(e->pos);
    expr(w, e->a);
    expr(w, e->b);
    expr(w, e->c);
    expr(w, e->filter);
    for (uint32_t i = 0; i < e->list.n; i++)
        expr(w, e->list.items[i]);
    select_(w, e->sub);
    w->depth--;
}

static void from(walk *w, const plan_from *f)
{
    if (f == NULL)
        return;
    enter(w);
    pos(f->pos);
    if (f->kind == PLAN_F_TABLE && f->name == NULL)
        fail("table without a name");
    select_(w, f->sub);
    from(w, f->left);
    from(w, f->right);
    expr(w, f->on);
    w->depth--;
}

static void select_(walk *w, const plan_select *s)
{
    if (s == NULL)
        return;
    enter(w);
    pos(s->pos);
    for (uint32_t i = 0; i < s->ncols; i++) {
        slice(w, s->cols[i].text, s->cols[i].text_len);
        expr(w, s->cols[i].expr);
    }
    from(w, s->from);
    expr(w, s->where);
    for (uint32_t i = 0; i < s->group_by.n; i++)
        expr(w, s->group_by.items[i]);
    expr(w, s->having);
    for (uint32_t i = 0; i < s->norder; i++)
        expr(w, s->order_by[i].expr);
    expr(w, s->limit);
    expr(w, s->offset);
    for (uint32_t i = 0; i < s->ncte; i++)
        select_(w, s->ctes[i].sub);
    select_(w, s->prior);
    w->depth--;
}

static void stmt(walk *w, const plan_stmt *st)
{
    if ((unsigned)st->kind >= PLAN_S_KIND_COUNT_)
        fail("statement kind out of range");
    pos(st->pos);
    slice(w, st->text, st->text_len);
    for (uint32_t i = 0; i < st->ncoldefs; i++)
        expr(w, st->coldefs[i].default_);
    for (uint32_t r = 0; r < st->nrows; r++)
        for (uint32_t i = 0; i < st->rows[r].n; i++)
            expr(w, st->rows[r].items[i]);
    for (uint32_t i = 0; i < st->set.n; i++)
        expr(w, st->set.items[i]);
    if (st->ncols > 0 && st->col_pos != NULL)
        for (uint32_t i = 0; i < st->ncols; i++)
            pos(st->col_pos[i]);
    expr(w, st->where);
    select_(w, st->select);
    if (st->explained != NULL)
        stmt(w, st->explained);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    (void)sql_complete(src, size);
    sql_parser *p = NULL;
    if (sql_parser_new(src, size, 1, &p) != IVM_OK)
        return 0;
    walk w = {src, size, 0};
    /* Q6: every call consumes a token, so the loop ends; the bound is a
     * second guard that turns a loop into a finding. */
    for (size_t n = 0;; n++) {
        if (n > size + 2)
            fail("sql_parse_next does not reach the end (Q6)");
        plan_stmt *st = NULL;
        ivm_err err;
        ivm_err_clear(&err);
        ivm_rc rc = sql_parse_next(p, &st, &err);
        if (rc == IVM_OK && st == NULL)
            break;
        if (rc == IVM_OK) {
            stmt(&w, st);
        } else {
            if (err.rc != rc || err.msg[0] == '\0')
                fail("an error without its message");
            if (rc == IVM_NOMEM)
                break;
        }
    }
    sql_parser_free(p);
    return 0;
}
