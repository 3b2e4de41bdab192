/*
 * test_parse.c: unit tests of the SQL front end (sql_parser_*, sql_complete):
 * every statement kind, operator precedence (trees printed as
 * S-expressions), positions and source texts, error messages and recovery,
 * nesting limits, robustness against random and mutated bytes, and every
 * statement of the sqllogictest corpus in ../shared/slt (skipped with a
 * notice when absent).  Every tree parsed here also goes through a walker
 * that checks positions and texts (sql/README.md, Q2-Q5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>

#include "sql.h"

/* ---- Tree checks ------------------------------------------------------------ */

typedef struct check_ctx {
    const char *src;
    size_t len;
    uint32_t first_line;
    uint32_t depth, max_depth;
} check_ctx;

static void check_pos(const check_ctx *c, plan_pos p)
{
    assert_true(p.line >= c->first_line);
    assert_true(p.col >= 1);
}

static void check_slice(const check_ctx *c, const char *text, uint32_t n)
{
    assert_non_null(text);
    assert_true(text >= c->src && text + n <= c->src + c->len);
}

static void check_select(check_ctx *c, const plan_select *s);

static void check_expr(check_ctx *c, const plan_expr *e)
{
    if (e == NULL)
        return;
    c->depth++;
    if (c->depth > c->max_depth)
        c->max_depth = c->depth;
    assert_true(c->depth <= 2000);
    assert_true((unsigned)e->kind < PLAN_E_KIND_COUNT_);
    check_pos(c, e->pos);
    check_expr(c, e->a);
    check_expr(c, e->b);
    check_expr(c, e->c);
    check_expr(c, e->filter);
    for (uint32_t i = 0; i < e->list.n; i++) {
        assert_non_null(e->list.items[i]);
        check_expr(c, e->list.items[i]);
    }
    if (e->sub != NULL)
        check_select(c, e->sub);
    if (e->window != NULL) {
        assert_int_equal(e->kind, PLAN_E_WINDOW);
        check_pos(c, e->window->pos);
        for (uint32_t i = 0; i < e->window->partition.n; i++)
            check_expr(c, e->window->partition.items[i]);
        for (uint32_t i = 0; i < e->window->norder; i++)
            check_expr(c, e->window->order_by[i].expr);
    }
    switch (e->kind) {
    case PLAN_E_WINDOW:
        assert_non_null(e->window);
        /* fall through */
    case PLAN_E_COLUMN:
    case PLAN_E_FUNC:
    case PLAN_E_COLLATE:
        assert_non_null(e->name);
        break;
    case PLAN_E_STR:
        assert_non_null(e->str);
        assert_int_equal(strlen(e->str), e->slen);
        break;
    case PLAN_E_BINARY:
    case PLAN_E_LIKE:
        assert_non_null(e->a);
        assert_non_null(e->b);
        break;
    case PLAN_E_IN_SELECT:
    case PLAN_E_EXISTS:
    case PLAN_E_SUBQUERY:
        assert_non_null(e->sub);
        break;
    case PLAN_E_CASE:
        assert_true(e->list.n >= 2 && e->list.n % 2 == 0);
        break;
    default:
        break;
    }
    c->depth--;
}

static void check_from(check_ctx *c, const plan_from *f)
{
    if (f == NULL)
        return;
    c->depth++;
    check_pos(c, f->pos);
    switch (f->kind) {
    case PLAN_F_TABLE:
        assert_non_null(f->name);
        break;
    case PLAN_F_SUBQUERY:
        assert_non_null(f->sub);
        check_select(c, f->sub);
        break;
    case PLAN_F_JOIN:
        assert_non_null(f->left);
        assert_non_null(f->right);
        check_from(c, f->left);
        check_from(c, f->right);
        check_expr(c, f->on);
        for (uint32_t i = 0; i < f->nusing; i++)
            assert_non_null(f->using_[i]);
        break;
    }
    c->depth--;
}

static void check_select(check_ctx *c, const plan_select *s)
{
    assert_non_null(s);
    c->depth++;
    check_pos(c, s->pos);
    assert_true(s->ncols > 0);
    for (uint32_t i = 0; i < s->ncols; i++) {
        const plan_result_col *rc = &s->cols[i];
        assert_non_null(rc->expr);
        check_pos(c, rc->pos);
        check_slice(c, rc->text, rc->text_len);
        assert_true(rc->text_len > 0);
        check_expr(c, rc->expr);
    }
    check_from(c, s->from);
    check_expr(c, s->where);
    for (uint32_t i = 0; i < s->group_by.n; i++)
        check_expr(c, s->group_by.items[i]);
    check_expr(c, s->having);
    for (uint32_t i = 0; i < s->norder; i++)
        check_expr(c, s->order_by[i].expr);
    check_expr(c, s->limit);
    check_expr(c, s->offset);
    assert_true((s->prior != NULL) == (s->op != PLAN_C_NONE));
    if (s->prior != NULL) {
        assert_int_equal(s->prior->norder, 0);
        assert_null(s->prior->limit);
        check_select(c, s->prior);
    }
    for (uint32_t i = 0; i < s->ncte; i++) {
        assert_non_null(s->ctes[i].name);
        check_select(c, s->ctes[i].sub);
    }
    c->depth--;
}

static void check_stmt(const plan_stmt *st, const char *src, size_t len, uint32_t first_line)
{
    check_ctx c = { src, len, first_line, 0, 0 };
    assert_true((unsigned)st->kind < PLAN_S_KIND_COUNT_);
    check_pos(&c, st->pos);
    check_slice(&c, st->text, st->text_len);
    assert_true(st->text_len > 0);
    assert_true(st->text[st->text_len - 1] != ';');
    if (st->select != NULL)
        check_select(&c, st->select);
    check_expr(&c, st->where);
    for (uint32_t i = 0; i < st->set.n; i++)
        check_expr(&c, st->set.items[i]);
    for (uint32_t r = 0; r < st->nrows; r++)
        for (uint32_t i = 0; i < st->rows[r].n; i++)
            check_expr(&c, st->rows[r].items[i]);
    for (uint32_t i = 0; i < st->ncoldefs; i++) {
        assert_non_null(st->coldefs[i].name);
        check_pos(&c, st->coldefs[i].pos);
        check_expr(&c, st->coldefs[i].default_);
    }
    if (st->explained != NULL) {
        assert_int_equal(st->kind, PLAN_S_EXPLAIN);
        check_stmt(st->explained, src, len, first_line);
    }
}

/* ---- Helpers ---------------------------------------------------------------- */

static sql_parser *g_parser;

/* Parses the first statement of sql, which must succeed; the tree lives
 * until the next call. */
static plan_stmt *parse_ok_at(const char *sql, uint32_t first_line)
{
    sql_parser_free(g_parser);
    g_parser = NULL;
    size_t len = strlen(sql);
    assert_int_equal(sql_parser_new(sql, len, first_line, &g_parser), IVM_OK);
    plan_stmt *st = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    ivm_rc rc = sql_parse_next(g_parser, &st, &err);
    if (rc != IVM_OK)
        fail_msg("parse failed: %s: %s (line %u, column %u)", sql, err.msg, err.line, err.col);
    assert_non_null(st);
    check_stmt(st, sql, len, first_line);
    return st;
}

static plan_stmt *parse_ok(const char *sql)
{
    return parse_ok_at(sql, 1);
}

/* Parses the first statement of sql, which must fail with rc; returns the
 * error. */
static ivm_err parse_err(const char *sql, ivm_rc want)
{
    sql_parser *p = NULL;
    assert_int_equal(sql_parser_new(sql, strlen(sql), 1, &p), IVM_OK);
    plan_stmt *st = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    ivm_rc rc = sql_parse_next(p, &st, &err);
    if (rc != want)
        fail_msg("%s: expected rc %d, got %d (%s)", sql, want, rc, err.msg);
    assert_int_equal(err.rc, want);
    sql_parser_free(p);
    return err;
}

static void put(char **p, char *end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*p, (size_t)(end - *p), fmt, ap);
    va_end(ap);
    if (n > 0)
        *p += IVM_MIN((size_t)n, (size_t)(end - *p - 1));
}

static const char *op_name(plan_op op)
{
    static const char *const names[PLAN_OP_COUNT_] = {
        [PLAN_OP_NEG] = "neg",     [PLAN_OP_PLUS] = "pos",    [PLAN_OP_NOT] = "not",
        [PLAN_OP_BITNOT] = "~",    [PLAN_OP_ADD] = "+",       [PLAN_OP_SUB] = "-",
        [PLAN_OP_MUL] = "*",       [PLAN_OP_DIV] = "/",       [PLAN_OP_MOD] = "%",
        [PLAN_OP_CONCAT] = "||",   [PLAN_OP_EQ] = "=",        [PLAN_OP_NE] = "<>",
        [PLAN_OP_LT] = "<",        [PLAN_OP_LE] = "<=",       [PLAN_OP_GT] = ">",
        [PLAN_OP_GE] = ">=",       [PLAN_OP_IS] = "is",       [PLAN_OP_ISNOT] = "isnot",
        [PLAN_OP_AND] = "and",     [PLAN_OP_OR] = "or",       [PLAN_OP_BITAND] = "&",
        [PLAN_OP_BITOR] = "|",     [PLAN_OP_LSHIFT] = "<<",   [PLAN_OP_RSHIFT] = ">>",
        [PLAN_OP_LIKE] = "like",   [PLAN_OP_GLOB] = "glob",
    };
    return (unsigned)op < PLAN_OP_COUNT_ && names[op] ? names[op] : "?";
}

/* An expression as an S-expression, for precedence tests. */
static void fmt_expr(char **p, char *end, const plan_expr *e)
{
    if (e == NULL) {
        put(p, end, "_");
        return;
    }
    switch (e->kind) {
    case PLAN_E_INT:
        put(p, end, "%lld", (long long)e->ival);
        break;
    case PLAN_E_REAL:
        put(p, end, "%gr", e->rval);
        break;
    case PLAN_E_STR:
        put(p, end, "'%s'", e->str);
        break;
    case PLAN_E_NULL:
        put(p, end, "null");
        break;
    case PLAN_E_BOOL:
        put(p, end, e->ival ? "true" : "false");
        break;
    case PLAN_E_COLUMN:
        if (e->table)
            put(p, end, "%s.", e->table);
        put(p, end, "%s", e->name);
        break;
    case PLAN_E_STAR:
        put(p, end, "%s%s*", e->table ? e->table : "", e->table ? "." : "");
        break;
    case PLAN_E_UNARY:
        put(p, end, "(%s ", op_name(e->op));
        fmt_expr(p, end, e->a);
        put(p, end, ")");
        break;
    case PLAN_E_BINARY:
        put(p, end, "(%s ", op_name(e->op));
        fmt_expr(p, end, e->a);
        put(p, end, " ");
        fmt_expr(p, end, e->b);
        put(p, end, ")");
        break;
    case PLAN_E_ISNULL:
        put(p, end, e->not_ ? "(notnull " : "(isnull ");
        fmt_expr(p, end, e->a);
        put(p, end, ")");
        break;
    case PLAN_E_BETWEEN:
        put(p, end, e->not_ ? "(notbetween " : "(between ");
        fmt_expr(p, end, e->a);
        put(p, end, " ");
        fmt_expr(p, end, e->b);
        put(p, end, " ");
        fmt_expr(p, end, e->c);
        put(p, end, ")");
        break;
    case PLAN_E_IN_LIST:
        put(p, end, e->not_ ? "(notin " : "(in ");
        fmt_expr(p, end, e->a);
        for (uint32_t i = 0; i < e->list.n; i++) {
            put(p, end, " ");
            fmt_expr(p, end, e->list.items[i]);
        }
        put(p, end, ")");
        break;
    case PLAN_E_IN_SELECT:
        put(p, end, e->not_ ? "(notin " : "(in ");
        fmt_expr(p, end, e->a);
        put(p, end, " select)");
        break;
    case PLAN_E_EXISTS:
        put(p, end, e->not_ ? "(notexists)" : "(exists)");
        break;
    case PLAN_E_SUBQUERY:
        put(p, end, "(subquery)");
        break;
    case PLAN_E_CASE:
        put(p, end, "(case ");
        fmt_expr(p, end, e->a);
        for (uint32_t i = 0; i < e->list.n; i++) {
            put(p, end, " ");
            fmt_expr(p, end, e->list.items[i]);
        }
        put(p, end, " else ");
        fmt_expr(p, end, e->b);
        put(p, end, ")");
        break;
    case PLAN_E_CAST:
        put(p, end, "(cast ");
        fmt_expr(p, end, e->a);
        put(p, end, " %d)", (int)e->cast_type);
        break;
    case PLAN_E_FUNC:
        put(p, end, "%s(%s", e->name, e->distinct ? "distinct " : "");
        if (e->star)
            put(p, end, "*");
        for (uint32_t i = 0; i < e->list.n; i++) {
            if (i)
                put(p, end, " ");
            fmt_expr(p, end, e->list.items[i]);
        }
        put(p, end, ")");
        if (e->filter) {
            put(p, end, "[filter ");
            fmt_expr(p, end, e->filter);
            put(p, end, "]");
        }
        break;
    case PLAN_E_LIKE:
        put(p, end, "(%s%s ", e->not_ ? "not" : "", op_name(e->op));
        fmt_expr(p, end, e->a);
        put(p, end, " ");
        fmt_expr(p, end, e->b);
        if (e->c) {
            put(p, end, " ");
            fmt_expr(p, end, e->c);
        }
        put(p, end, ")");
        break;
    case PLAN_E_COLLATE:
        put(p, end, "(collate ");
        fmt_expr(p, end, e->a);
        put(p, end, " %s)", e->name);
        break;
    case PLAN_E_PARAM:
        put(p, end, "?%lld", (long long)e->ival);
        break;
    case PLAN_E_WINDOW:
        put(p, end, "(window %s partition", e->name);
        for (uint32_t i = 0; i < e->window->partition.n; i++) {
            put(p, end, " ");
            fmt_expr(p, end, e->window->partition.items[i]);
        }
        put(p, end, " order");
        for (uint32_t i = 0; i < e->window->norder; i++) {
            const plan_order *o = &e->window->order_by[i];
            put(p, end, " ");
            fmt_expr(p, end, o->expr);
            put(p, end, "%s%s", o->desc ? " desc" : "",
                o->nulls < 0 ? " nullsfirst" : o->nulls > 0 ? " nullslast" : "");
        }
        put(p, end, ")");
        break;
    default:
        put(p, end, "<?>");
        break;
    }
}

/* The first result column of `SELECT <expr>` as an S-expression. */
static const char *expr_str(const char *expr_sql)
{
    static char sql[4096], out[4096];
    snprintf(sql, sizeof sql, "SELECT %s", expr_sql);
    plan_stmt *st = parse_ok(sql);
    assert_int_equal(st->kind, PLAN_S_SELECT);
    char *p = out;
    fmt_expr(&p, out + sizeof out, st->select->cols[0].expr);
    return out;
}

#define assert_expr(sql, want) assert_string_equal(expr_str(sql), want)

/* ---- Expressions -------------------------------------------------------------- */

static void test_parse_precedence(void **state)
{
    IVM_UNUSED(state);
    assert_expr("1+2*3", "(+ 1 (* 2 3))");
    assert_expr("1*2+3", "(+ (* 1 2) 3)");
    assert_expr("1-2-3", "(- (- 1 2) 3)");
    assert_expr("(1-2)*3", "(* (- 1 2) 3)");
    assert_expr("a OR b AND c", "(or a (and b c))");
    assert_expr("a AND b OR c", "(or (and a b) c)");
    assert_expr("NOT a = b", "(not (= a b))");
    assert_expr("NOT a AND b", "(and (not a) b)");
    assert_expr("a = b AND c <> d", "(and (= a b) (<> c d))");
    assert_expr("a < b = c", "(= (< a b) c)");
    assert_expr("a & b + c", "(& a (+ b c))");
    assert_expr("a << 1 < b", "(< (<< a 1) b)");
    assert_expr("a * b || c", "(* a (|| b c))");
    assert_expr("a || b || c", "(|| (|| a b) c)");
    assert_expr("-a * b", "(* (neg a) b)");
    assert_expr("- - + 1", "(neg (neg (pos 1)))");
    assert_expr("~a + 1", "(+ (~ a) 1)");
    assert_expr("-a COLLATE nocase", "(collate (neg a) nocase)");
    assert_expr("a || b COLLATE x", "(|| a (collate b x))");
    assert_expr("a = b IS NULL", "(isnull (= a b))");
    assert_expr("a IS NOT NULL", "(notnull a)");
    assert_expr("a IS NULL OR b ISNULL", "(or (isnull a) (isnull b))");
    assert_expr("a NOTNULL AND b NOT NULL", "(and (notnull a) (notnull b))");
    assert_expr("a IS b", "(is a b)");
    assert_expr("a IS NOT b + 1", "(isnot a (+ b 1))");
    assert_expr("a IS DISTINCT FROM b", "(isnot a b)");
    assert_expr("a IS NOT DISTINCT FROM b", "(is a b)");
    assert_expr("x BETWEEN 1 AND 2 AND y", "(and (between x 1 2) y)");
    assert_expr("x NOT BETWEEN a+1 AND b*2", "(notbetween x (+ a 1) (* b 2))");
    assert_expr("x IN (1, 2, 3)", "(in x 1 2 3)");
    assert_expr("x NOT IN ()", "(notin x)");
    assert_expr("x + 1 IN (2)", "(in (+ x 1) 2)");
    assert_expr("NOT x IN (2)", "(not (in x 2))");
    assert_expr("x IN (SELECT a FROM t)", "(in x select)");
    assert_expr("x NOT IN t", "(notin x select)");
    assert_expr("a LIKE 'x%' ESCAPE '!'", "(like a 'x%' '!')");
    assert_expr("a NOT GLOB 'x*'", "(notglob a 'x*')");
    assert_expr("NOT a LIKE b", "(not (like a b))");
    assert_expr("a LIKE b || c", "(like a (|| b c))");
    assert_expr("EXISTS (SELECT 1)", "(exists)");
    assert_expr("NOT EXISTS (SELECT 1)", "(notexists)");
    assert_expr("(SELECT 1) + 1", "(+ (subquery) 1)");
    assert_expr("CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END", "(case _ a 1 b 2 else 3)");
    assert_expr("CASE x WHEN 1 THEN 'a' END", "(case x 1 'a' else _)");
    assert_expr("CAST(a + 1 AS REAL)", "(cast (+ a 1) 4)");
    assert_expr("count(*)", "count(*)");
    assert_expr("count(DISTINCT a)", "count(distinct a)");
    assert_expr("sum(a) FILTER (WHERE a > 0)", "sum(a)[filter (> a 0)]");
    assert_expr("coalesce(a, b, 1)", "coalesce(a b 1)");
    assert_expr("f()", "f()");
    assert_expr("like(a, b)", "like(a b)");
    assert_expr("t.a = u.b", "(= t.a u.b)");
    assert_expr("? + ?5 + ?", "(+ (+ ?1 ?5) ?6)");
    assert_expr("a == b != c", "(<> (= a b) c)");
    assert_expr("a % b / c", "(/ (% a b) c)");
    assert_expr("a | b & c", "(& (| a b) c)");
    assert_expr("a >> 2 <> b", "(<> (>> a 2) b)");
}

static void test_parse_literals(void **state)
{
    IVM_UNUSED(state);
    assert_expr("42", "42");
    assert_expr("0x1F", "31");
    assert_expr("0xffffffffffffffff", "-1");
    assert_expr("0x00000000000000000001", "1");
    assert_expr("9223372036854775807", "9223372036854775807");
    assert_expr("9223372036854775808", "9.22337e+18r");
    assert_expr("-9223372036854775808", "-9223372036854775808");
    assert_expr("-9223372036854775807", "(neg 9223372036854775807)");
    assert_expr("99999999999999999999999", "1e+23r");
    assert_expr("1.5", "1.5r");
    assert_expr(".5", "0.5r");
    assert_expr("1.", "1r");
    assert_expr("1e10", "1e+10r");
    assert_expr("2.5E-3", "0.0025r");
    assert_expr("'it''s'", "'it's'");
    assert_expr("''", "''");
    assert_expr("NULL", "null");
    assert_expr("TRUE AND false", "(and true false)");
    assert_expr("\"Quoted Col\"", "Quoted Col");
    assert_expr("\"a\"\"b\"", "a\"b");
    assert_expr("[brack et]", "brack et");
    assert_expr("`back``tick`", "back`tick");
    assert_expr("MixedCase", "MixedCase");
    assert_expr("key + \"end\"", "(+ key end)");

    plan_stmt *st = parse_ok("select 'a\nb', 'caf\xc3\xa9'");
    assert_int_equal(st->select->cols[0].expr->slen, 3);
    assert_string_equal(st->select->cols[1].expr->str, "caf\xc3\xa9");
}

/* ---- Statements ---------------------------------------------------------------- */

static void test_parse_create_table(void **state)
{
    IVM_UNUSED(state);
    plan_stmt *st = parse_ok(
        "create table if not exists T1 (a INTEGER PRIMARY KEY, b int not null unique, "
        "c bigint default -5, d boolean, e bool, f real, g double precision, h float, "
        "i text default 'x', j varchar(20), k char(3), l decimal(10, 2), m numeric, "
        "n date, o timestamp, p, q double default (1 + 2), r REAL NULL)");
    assert_int_equal(st->kind, PLAN_S_CREATE_TABLE);
    assert_true(st->if_not_exists);
    assert_string_equal(st->name, "T1");
    assert_int_equal(st->ncoldefs, 18);
    static const plan_type want[] = {
        PLAN_TY_INTEGER, PLAN_TY_INT,     PLAN_TY_BIGINT, PLAN_TY_BOOLEAN, PLAN_TY_BOOLEAN,
        PLAN_TY_REAL,    PLAN_TY_DOUBLE,  PLAN_TY_FLOAT,  PLAN_TY_TEXT,    PLAN_TY_VARCHAR,
        PLAN_TY_VARCHAR, PLAN_TY_DECIMAL, PLAN_TY_DECIMAL, PLAN_TY_DATE,   PLAN_TY_TIMESTAMP,
        PLAN_TY_NONE,    PLAN_TY_DOUBLE,  PLAN_TY_REAL,
    };
    for (uint32_t i = 0; i < st->ncoldefs; i++)
        assert_int_equal(st->coldefs[i].type, want[i]);
    assert_true(st->coldefs[0].primary_key);
    assert_true(st->coldefs[1].not_null);
    assert_true(st->coldefs[1].unique);
    assert_false(st->coldefs[2].not_null);
    assert_int_equal(st->coldefs[2].default_->kind, PLAN_E_UNARY);
    assert_string_equal(st->coldefs[8].default_->str, "x");
    assert_int_equal(st->coldefs[16].default_->op, PLAN_OP_ADD);
    assert_int_equal(st->npk, 0);
    assert_int_equal(st->nuniques, 0);
    assert_int_equal(st->coldefs[1].pos.col, 55);

    st = parse_ok("CREATE TABLE t (a INT, b TEXT, c INT, PRIMARY KEY (a, b), UNIQUE (c), "
                  "UNIQUE (b, c))");
    assert_false(st->if_not_exists);
    assert_int_equal(st->ncoldefs, 3);
    assert_int_equal(st->npk, 2);
    assert_string_equal(st->pk[0], "a");
    assert_string_equal(st->pk[1], "b");
    assert_int_equal(st->pk_pos.col, 39);
    assert_int_equal(st->nuniques, 2);
    assert_int_equal(st->uniques[0].ncols, 1);
    assert_string_equal(st->uniques[1].cols[1], "c");
    assert_string_equal(st->text, "CREATE TABLE t (a INT, b TEXT, c INT, PRIMARY KEY (a, b), "
                                  "UNIQUE (c), UNIQUE (b, c))");

    ivm_err err = parse_err("CREATE TABLE t (a INT PRIMARY KEY, b INT, PRIMARY KEY (b))",
                            IVM_SCHEMA);
    assert_string_equal(err.msg, "table \"t\" has more than one primary key");
    assert_int_equal(err.col, 43);
    err = parse_err("CREATE TABLE t (a BLOB)", IVM_UNSUPPORTED);
    assert_int_equal(err.col, 19);
    assert_non_null(strstr(err.msg, "unsupported type \"BLOB\""));
    parse_err("CREATE TABLE t ()", IVM_SYNTAX);
    parse_err("CREATE TABLE t (PRIMARY KEY (a))", IVM_SYNTAX);
}

static void test_parse_ddl_other(void **state)
{
    IVM_UNUSED(state);
    plan_stmt *st = parse_ok("CREATE UNIQUE INDEX IF NOT EXISTS i1 ON t (a DESC, b ASC, c)");
    assert_int_equal(st->kind, PLAN_S_CREATE_INDEX);
    assert_true(st->unique);
    assert_true(st->if_not_exists);
    assert_string_equal(st->name, "i1");
    assert_string_equal(st->on_table, "t");
    assert_int_equal(st->ncols, 3);
    assert_string_equal(st->cols[2], "c");
    st = parse_ok("CREATE INDEX i2 ON t(a)");
    assert_false(st->unique);
    assert_false(st->if_not_exists);

    st = parse_ok("CREATE VIEW IF NOT EXISTS v (x, y) AS SELECT a, b FROM t");
    assert_int_equal(st->kind, PLAN_S_CREATE_VIEW);
    assert_true(st->if_not_exists);
    assert_string_equal(st->name, "v");
    assert_int_equal(st->ncols, 2);
    assert_string_equal(st->cols[1], "y");
    assert_non_null(st->select);
    assert_int_equal(st->select->pos.col, 39);
    st = parse_ok("create view v as select 1");
    assert_int_equal(st->ncols, 0);

    static const struct {
        const char *sql;
        plan_skind kind;
        bool if_exists;
    } drops[] = {
        { "DROP TABLE t", PLAN_S_DROP_TABLE, false },
        { "DROP TABLE IF EXISTS t", PLAN_S_DROP_TABLE, true },
        { "drop view if exists t", PLAN_S_DROP_VIEW, true },
        { "DROP VIEW t", PLAN_S_DROP_VIEW, false },
        { "DROP INDEX IF EXISTS t", PLAN_S_DROP_INDEX, true },
        { "DROP INDEX t", PLAN_S_DROP_INDEX, false },
    };
    for (size_t i = 0; i < sizeof drops / sizeof drops[0]; i++) {
        st = parse_ok(drops[i].sql);
        assert_int_equal(st->kind, drops[i].kind);
        assert_int_equal(st->if_exists, drops[i].if_exists);
        assert_string_equal(st->name, "t");
    }
}

static void test_parse_dml(void **state)
{
    IVM_UNUSED(state);
    plan_stmt *st = parse_ok("INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL), (-3, ?)");
    assert_int_equal(st->kind, PLAN_S_INSERT);
    assert_string_equal(st->name, "t");
    assert_int_equal(st->ncols, 2);
    assert_int_equal(st->nrows, 3);
    assert_int_equal(st->rows[0].n, 2);
    assert_int_equal(st->rows[1].items[1]->kind, PLAN_E_NULL);
    assert_int_equal(st->rows[2].items[1]->kind, PLAN_E_PARAM);
    assert_null(st->select);

    assert_int_equal(st->on_conflict, PLAN_OR_ABORT);
    /* Names carry their positions. */
    assert_int_equal(st->name_pos.col, 13);
    assert_int_equal(st->col_pos[0].col, 16);
    assert_int_equal(st->col_pos[1].col, 19);

    static const struct {
        const char *sql;
        plan_conflict how;
    } orc[] = {
        { "INSERT OR IGNORE INTO t VALUES (1)", PLAN_OR_IGNORE },
        { "INSERT OR REPLACE INTO t VALUES (1)", PLAN_OR_REPLACE },
        { "REPLACE INTO t VALUES (1)", PLAN_OR_REPLACE },
        { "replace into t select 1", PLAN_OR_REPLACE },
        { "INSERT OR ABORT INTO t VALUES (1)", PLAN_OR_ABORT },
        { "INSERT OR FAIL INTO t VALUES (1)", PLAN_OR_FAIL },
        { "INSERT OR ROLLBACK INTO t VALUES (1)", PLAN_OR_ROLLBACK },
    };
    for (size_t i = 0; i < sizeof orc / sizeof orc[0]; i++) {
        st = parse_ok(orc[i].sql);
        assert_int_equal(st->kind, PLAN_S_INSERT);
        assert_int_equal(st->on_conflict, orc[i].how);
    }
    /* The new keywords stay names where a name is wanted. */
    st = parse_ok("SELECT replace(ignore, 'a', fail) AS abort FROM replace");
    assert_string_equal(st->select->cols[0].expr->name, "replace");
    assert_string_equal(st->select->cols[0].alias, "abort");
    assert_string_equal(st->select->from->name, "replace");

    st = parse_ok("INSERT INTO t SELECT * FROM u WHERE x > 1");
    assert_int_equal(st->ncols, 0);
    assert_int_equal(st->nrows, 0);
    assert_non_null(st->select);
    st = parse_ok("INSERT INTO t(e,c) WITH w AS (SELECT 1, 2) SELECT * FROM w");
    assert_int_equal(st->select->ncte, 1);

    st = parse_ok("DELETE FROM t WHERE a = 1");
    assert_int_equal(st->kind, PLAN_S_DELETE);
    assert_int_equal(st->where->op, PLAN_OP_EQ);
    st = parse_ok("DELETE FROM t");
    assert_null(st->where);

    st = parse_ok("UPDATE t SET a = a + 1, b = 'z' WHERE c IS NULL");
    assert_int_equal(st->kind, PLAN_S_UPDATE);
    assert_int_equal(st->col_pos[1].col, 25);
    assert_int_equal(st->ncols, 2);
    assert_int_equal(st->set.n, 2);
    assert_string_equal(st->cols[1], "b");
    assert_int_equal(st->set.items[0]->op, PLAN_OP_ADD);
    assert_int_equal(st->where->kind, PLAN_E_ISNULL);

    static const struct {
        const char *sql;
        plan_skind kind;
    } tx[] = {
        { "BEGIN", PLAN_S_BEGIN },          { "begin transaction", PLAN_S_BEGIN },
        { "COMMIT", PLAN_S_COMMIT },        { "COMMIT TRANSACTION", PLAN_S_COMMIT },
        { "END", PLAN_S_COMMIT },           { "end transaction", PLAN_S_COMMIT },
        { "ROLLBACK", PLAN_S_ROLLBACK },    { "ROLLBACK TRANSACTION", PLAN_S_ROLLBACK },
    };
    for (size_t i = 0; i < sizeof tx / sizeof tx[0]; i++)
        assert_int_equal(parse_ok(tx[i].sql)->kind, tx[i].kind);
}

static void test_parse_explain(void **state)
{
    IVM_UNUSED(state);
    plan_stmt *st = parse_ok("EXPLAIN  SELECT a FROM t;");
    assert_int_equal(st->kind, PLAN_S_EXPLAIN);
    assert_non_null(st->explained);
    assert_int_equal(st->explained->kind, PLAN_S_SELECT);
    assert_int_equal(st->text_len, strlen("EXPLAIN  SELECT a FROM t"));
    assert_int_equal(st->explained->text_len, strlen("SELECT a FROM t"));
    assert_memory_equal(st->explained->text, "SELECT a FROM t", st->explained->text_len);
    assert_int_equal(st->explained->pos.col, 10);

    st = parse_ok("explain create view v as select 1");
    assert_int_equal(st->explained->kind, PLAN_S_CREATE_VIEW);
    assert_string_equal(st->explained->name, "v");

    st = parse_ok("EXPLAIN VIEW myview");
    assert_int_equal(st->kind, PLAN_S_EXPLAIN);
    assert_null(st->explained);
    assert_string_equal(st->name, "myview");
}

/* ---- SELECT ------------------------------------------------------------------- */

static void test_parse_select_clauses(void **state)
{
    IVM_UNUSED(state);
    plan_stmt *st = parse_ok(
        "SELECT DISTINCT a, b AS bee, c cee, 'str' AS \"q\", *, t.*, a+1 /* c */ FROM t "
        "WHERE a > 1 GROUP BY a, b HAVING count(*) > 2 ORDER BY 1 DESC, b NULLS FIRST, "
        "c ASC NULLS LAST LIMIT 10 OFFSET 5");
    plan_select *s = st->select;
    assert_int_equal(st->kind, PLAN_S_SELECT);
    assert_true(s->distinct);
    assert_int_equal(s->ncols, 7);
    assert_null(s->cols[0].alias);
    assert_string_equal(s->cols[1].alias, "bee");
    assert_string_equal(s->cols[2].alias, "cee");
    assert_string_equal(s->cols[3].alias, "q");
    assert_int_equal(s->cols[4].expr->kind, PLAN_E_STAR);
    assert_null(s->cols[4].expr->table);
    assert_int_equal(s->cols[5].expr->kind, PLAN_E_STAR);
    assert_string_equal(s->cols[5].expr->table, "t");
    assert_int_equal(s->cols[5].text_len, 3);
    assert_memory_equal(s->cols[5].text, "t.*", 3);
    assert_int_equal(s->cols[6].text_len, 3);
    assert_memory_equal(s->cols[6].text, "a+1", 3);
    assert_int_equal(s->from->kind, PLAN_F_TABLE);
    assert_string_equal(s->from->name, "t");
    assert_int_equal(s->group_by.n, 2);
    assert_non_null(s->having);
    assert_int_equal(s->norder, 3);
    assert_true(s->order_by[0].desc);
    assert_int_equal(s->order_by[0].nulls, 0);
    assert_false(s->order_by[1].desc);
    assert_int_equal(s->order_by[1].nulls, -1);
    assert_int_equal(s->order_by[2].nulls, 1);
    assert_int_equal(s->limit->ival, 10);
    assert_int_equal(s->offset->ival, 5);

    s = parse_ok("SELECT ALL a FROM t LIMIT 5, 10")->select;
    assert_false(s->distinct);
    assert_int_equal(s->limit->ival, 10);
    assert_int_equal(s->offset->ival, 5);

    s = parse_ok("SELECT 1")->select;
    assert_null(s->from);
    assert_null(s->limit);

    /* Result column text is the expression as written, comments and all,
     * without the white space around it. */
    s = parse_ok("SELECT  f( x ,\n y ) -- c\n , (a) AS z FROM t")->select;
    assert_int_equal(s->cols[0].text_len, strlen("f( x ,\n y )"));
    assert_memory_equal(s->cols[0].text, "f( x ,\n y )", s->cols[0].text_len);
    assert_int_equal(s->cols[1].text_len, 3);
    assert_memory_equal(s->cols[1].text, "(a)", 3);
}

static void test_parse_select_from(void **state)
{
    IVM_UNUSED(state);
    plan_select *s = parse_ok("SELECT * FROM a, b AS bb, c cc")->select;
    plan_from *f = s->from;
    assert_int_equal(f->kind, PLAN_F_JOIN);
    assert_true(f->comma);
    assert_int_equal(f->jkind, PLAN_J_CROSS);
    assert_string_equal(f->right->name, "c");
    assert_string_equal(f->right->alias, "cc");
    assert_int_equal(f->left->kind, PLAN_F_JOIN);
    assert_string_equal(f->left->left->name, "a");
    assert_string_equal(f->left->right->alias, "bb");

    static const struct {
        const char *join;
        plan_jkind kind;
        bool natural;
    } joins[] = {
        { "JOIN", PLAN_J_INNER, false },
        { "INNER JOIN", PLAN_J_INNER, false },
        { "LEFT JOIN", PLAN_J_LEFT, false },
        { "LEFT OUTER JOIN", PLAN_J_LEFT, false },
        { "RIGHT JOIN", PLAN_J_RIGHT, false },
        { "right outer join", PLAN_J_RIGHT, false },
        { "FULL JOIN", PLAN_J_FULL, false },
        { "FULL OUTER JOIN", PLAN_J_FULL, false },
        { "CROSS JOIN", PLAN_J_CROSS, false },
        { "NATURAL JOIN", PLAN_J_INNER, true },
        { "NATURAL LEFT OUTER JOIN", PLAN_J_LEFT, true },
    };
    for (size_t i = 0; i < sizeof joins / sizeof joins[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM a %s b%s", joins[i].join,
                 joins[i].natural ? "" : " ON a.x = b.x");
        f = parse_ok(sql)->select->from;
        assert_int_equal(f->kind, PLAN_F_JOIN);
        assert_int_equal(f->jkind, joins[i].kind);
        assert_int_equal(f->natural, joins[i].natural);
        assert_false(f->comma);
        assert_int_equal(f->on != NULL, !joins[i].natural);
    }

    f = parse_ok("SELECT * FROM a JOIN b USING (x, y) LEFT JOIN c ON c.z = b.z")->select->from;
    assert_int_equal(f->jkind, PLAN_J_LEFT);
    assert_non_null(f->on);
    assert_int_equal(f->left->nusing, 2);
    assert_string_equal(f->left->using_[1], "y");
    assert_null(f->left->on);

    f = parse_ok("SELECT * FROM a JOIN (b JOIN c ON b.x = c.x) ON a.y = b.y")->select->from;
    assert_int_equal(f->right->kind, PLAN_F_JOIN);
    assert_int_equal(f->right->pos.col, 22);

    f = parse_ok("SELECT s.x FROM (SELECT 1 AS x) AS s, t NOT INDEXED, u INDEXED BY i")
            ->select->from;
    assert_int_equal(f->left->left->kind, PLAN_F_SUBQUERY);
    assert_string_equal(f->left->left->alias, "s");
    assert_non_null(f->left->left->sub);

    ivm_err err = parse_err("SELECT * FROM a ON x", IVM_SYNTAX);
    assert_string_equal(err.msg, "a JOIN clause is required before ON");
    err = parse_err("SELECT * FROM a NATURAL JOIN b ON x", IVM_SYNTAX);
    assert_string_equal(err.msg, "a NATURAL join may not have an ON or USING clause");
}

static void test_parse_select_compound(void **state)
{
    IVM_UNUSED(state);
    plan_select *s = parse_ok("SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 INTERSECT SELECT 4 "
                              "EXCEPT SELECT 5 ORDER BY 1 LIMIT 2")->select;
    static const plan_compound ops[] = { PLAN_C_EXCEPT, PLAN_C_INTERSECT, PLAN_C_UNION_ALL,
                                         PLAN_C_UNION, PLAN_C_NONE };
    assert_int_equal(s->norder, 1);
    assert_non_null(s->limit);
    for (int i = 0; i < 5; i++) {
        assert_non_null(s);
        assert_int_equal(s->op, ops[i]);
        assert_int_equal(s->cols[0].expr->ival, 5 - i);
        s = s->prior;
    }
    assert_null(s);

    s = parse_ok("WITH a AS (SELECT 1 AS x), b (y) AS (SELECT x FROM a) "
                 "SELECT y FROM b UNION SELECT x FROM a")->select;
    assert_int_equal(s->ncte, 2);
    assert_string_equal(s->ctes[0].name, "a");
    assert_int_equal(s->ctes[1].ncols, 1);
    assert_string_equal(s->ctes[1].cols[0], "y");
    assert_int_equal(s->prior->ncte, 0);

    ivm_err err = parse_err("SELECT a FROM t ORDER BY a UNION SELECT b FROM u", IVM_SYNTAX);
    assert_string_equal(err.msg, "ORDER BY clause should come after UNION not before");
    err = parse_err("SELECT a FROM t LIMIT 1 EXCEPT SELECT b FROM u", IVM_SYNTAX);
    assert_string_equal(err.msg, "LIMIT clause should come after EXCEPT not before");
    parse_err("WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r", IVM_UNSUPPORTED);
}

/* ---- Positions and text --------------------------------------------------------- */

static void test_parse_positions(void **state)
{
    IVM_UNUSED(state);
    const char *sql = "-- leading comment\n"
                      "  SELECT a,\n"
                      "\t b + (c * 2) AS x\n"
                      "  FROM t JOIN u ON t.k = u.k\n"
                      "  WHERE NOT EXISTS (SELECT 1) ;  ";
    plan_stmt *st = parse_ok_at(sql, 10);
    assert_int_equal(st->pos.line, 11);
    assert_int_equal(st->pos.col, 3);
    assert_int_equal(st->text_len, strlen(sql) - 21 - 4);
    assert_memory_equal(st->text, sql + 21, st->text_len);
    plan_select *s = st->select;
    assert_int_equal(s->pos.line, 11);
    assert_int_equal(s->cols[0].pos.col, 10);
    plan_expr *e = s->cols[1].expr; /* b + (c * 2) */
    assert_int_equal(e->pos.line, 12);
    assert_int_equal(e->pos.col, 3);
    assert_int_equal(e->b->pos.col, 7); /* the '(' */
    assert_int_equal(e->b->b->pos.col, 12);
    assert_int_equal(s->from->pos.line, 13);
    assert_int_equal(s->from->pos.col, 8);
    assert_int_equal(s->from->right->pos.col, 15);
    assert_int_equal(s->from->on->pos.col, 20);
    assert_int_equal(s->where->pos.line, 14);
    assert_int_equal(s->where->pos.col, 9);
    assert_int_equal(s->where->sub->pos.col, 21);

    /* Columns count characters, not bytes. */
    st = parse_ok("SELECT '\xc3\xa9\xc3\xa9', x");
    assert_int_equal(st->select->cols[1].expr->pos.col, 14);
}

/* ---- Errors and recovery ---------------------------------------------------------- */

static void test_parse_errors(void **state)
{
    IVM_UNUSED(state);
    ivm_err err = parse_err("selec 1", IVM_SYNTAX);
    assert_string_equal(err.msg, "near \"selec\": syntax error");
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 1);

    err = parse_err("SELECT a\n  FROM t WHERE", IVM_SYNTAX);
    assert_string_equal(err.msg, "incomplete input");
    err = parse_err("SELECT a FROM t WHERE;", IVM_SYNTAX);
    assert_string_equal(err.msg, "near \";\": syntax error");
    assert_int_equal(err.col, 22);
    err = parse_err("SELECT a FROM\n  t WHERE x = = 2", IVM_SYNTAX);
    assert_string_equal(err.msg, "near \"=\": syntax error");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 15);
    err = parse_err("SELECT 'abc", IVM_SYNTAX);
    assert_string_equal(err.msg, "unrecognized token: \"'abc\"");
    err = parse_err("SELECT \"abc", IVM_SYNTAX);
    assert_string_equal(err.msg, "unrecognized token: \"\"abc\"");
    err = parse_err("SELECT [abc", IVM_SYNTAX);
    err = parse_err("SELECT 1 /* abc", IVM_SYNTAX);
    assert_string_equal(err.msg, "unterminated comment");
    assert_int_equal(err.col, 10);
    err = parse_err("SELECT X'00ff'", IVM_SYNTAX);
    assert_string_equal(err.msg, "near \"X'00ff'\": syntax error (blob literals are not supported)");
    err = parse_err("SELECT 1abc", IVM_SYNTAX);
    assert_string_equal(err.msg, "unrecognized token: \"1abc\"");
    err = parse_err("SELECT 0x", IVM_SYNTAX);
    assert_string_equal(err.msg, "unrecognized token: \"0x\"");
    err = parse_err("SELECT 1e+", IVM_SYNTAX);
    assert_string_equal(err.msg, "unrecognized token: \"1e\"");
    err = parse_err("SELECT 1.5.3", IVM_SYNTAX);
    assert_string_equal(err.msg, "near \".3\": syntax error");
    assert_int_equal(err.col, 11);
    err = parse_err("SELECT 0x12345678901234567", IVM_SYNTAX);
    assert_string_equal(err.msg, "hex literal too big: 0x12345678901234567");
    err = parse_err("SELECT $x", IVM_SYNTAX);
    assert_string_equal(err.msg, "unrecognized token: \"$\"");
    err = parse_err("SELECT ?0", IVM_SYNTAX);
    err = parse_err("SELECT ?99999999999999999999", IVM_SYNTAX);
    err = parse_err("SELECT CAST(1 AS blob)", IVM_UNSUPPORTED);
    err = parse_err("SELECT id, row_number() OVER (PARTITION BY g ORDER BY id ROWS BETWEEN "
                    "1 PRECEDING AND CURRENT ROW) AS rn FROM t",
                    IVM_UNSUPPORTED);
    assert_string_equal(err.msg, "window functions (OVER) are not supported: ivm maintains "
                                 "only ROW_NUMBER() OVER ([PARTITION BY ...] [ORDER BY ...]) in "
                                 "a subquery in FROM whose enclosing WHERE bounds it (rn <= K)");
    assert_int_equal(err.col, 25);
    err = parse_err("SELECT sum(x) FILTER (WHERE x > 1) OVER w FROM t", IVM_UNSUPPORTED);
    assert_int_equal(err.col, 36);
    assert_expr("a over", "a"); /* a keyword only after a function call */
    /* ROW_NUMBER() with a plain window is an expression (the planner
     * decides where it may stand); other window functions, arguments,
     * FILTER, frames and named windows are refused at OVER. */
    assert_expr("row_number() OVER (PARTITION BY a, b + 1 ORDER BY c DESC, d NULLS LAST)",
                "(window row_number partition a (+ b 1) order c desc d nullslast)");
    assert_expr("ROW_NUMBER() over (order by x)", "(window ROW_NUMBER partition order x)");
    assert_expr("row_number() OVER ()", "(window row_number partition order)");
    assert_expr("row_number() OVER (PARTITION BY g)", "(window row_number partition g order)");
    assert_expr("partition", "partition"); /* a keyword only inside OVER */
    err = parse_err("SELECT rank() OVER (ORDER BY x) FROM t", IVM_UNSUPPORTED);
    assert_int_equal(err.col, 15);
    err = parse_err("SELECT row_number(x) OVER (ORDER BY x) FROM t", IVM_UNSUPPORTED);
    assert_int_equal(err.col, 22);
    err = parse_err("SELECT row_number(*) OVER (ORDER BY x) FROM t", IVM_UNSUPPORTED);
    assert_int_equal(err.col, 22);
    err = parse_err("SELECT row_number() FILTER (WHERE x) OVER (ORDER BY x) FROM t",
                    IVM_UNSUPPORTED);
    assert_int_equal(err.col, 38);
    err = parse_err("SELECT row_number() OVER w FROM t", IVM_UNSUPPORTED);
    assert_int_equal(err.col, 21);
    err = parse_err("SELECT row_number() OVER (w ORDER BY x) FROM t", IVM_UNSUPPORTED);
    assert_int_equal(err.col, 21);
    err = parse_err("SELECT row_number() OVER (ORDER BY x RANGE UNBOUNDED PRECEDING) FROM t",
                    IVM_UNSUPPORTED);
    assert_int_equal(err.col, 21);
    err = parse_err("SELECT row_number() OVER (ORDER BY x", IVM_SYNTAX);
    err = parse_err("SELECT row_number() OVER (PARTITION x)", IVM_SYNTAX);

    static const char nul_in_string[] = "SELECT 'a\0b'";
    sql_parser *p = NULL;
    assert_int_equal(sql_parser_new(nul_in_string, sizeof nul_in_string - 1, 1, &p), IVM_OK);
    plan_stmt *st = NULL;
    ivm_err_clear(&err);
    assert_int_equal(sql_parse_next(p, &st, &err), IVM_SYNTAX);
    assert_string_equal(err.msg, "unexpected NUL byte in SQL text");
    sql_parser_free(p);

    /* A long token is quoted only in part. */
    char long_sql[400];
    memset(long_sql, 'x', sizeof long_sql);
    memcpy(long_sql, "SELECT 1 1", 10);
    long_sql[sizeof long_sql - 1] = '\0';
    err = parse_err(long_sql, IVM_SYNTAX);
    assert_true(strlen(err.msg) < 100);
}

static void test_parse_recovery(void **state)
{
    IVM_UNUSED(state);
    const char *sql = "SELEC 1; SELECT 2;;\n"
                      "INSERT INTO t VALUES (3, 'c'), (4, 'd'\n"
                      "SELECT 'still';\n"
                      "SELECT 'x;y' ; SELECT (1; SELECT 4 $ ; ;\n"
                      "SELECT 5";
    sql_parser *p = NULL;
    assert_int_equal(sql_parser_new(sql, strlen(sql), 1, &p), IVM_OK);
    static const struct {
        ivm_rc rc;
        int64_t value;
        uint32_t line;
    } want[] = {
        { IVM_SYNTAX, 0, 1 }, { IVM_OK, 2, 1 },   { IVM_SYNTAX, 0, 3 }, { IVM_OK, 0, 4 },
        { IVM_SYNTAX, 0, 4 }, { IVM_SYNTAX, 0, 4 }, { IVM_OK, 5, 5 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        plan_stmt *st = NULL;
        ivm_err err;
        ivm_err_clear(&err);
        ivm_rc rc = sql_parse_next(p, &st, &err);
        assert_int_equal(rc, want[i].rc);
        if (rc == IVM_OK) {
            assert_non_null(st);
            assert_int_equal(st->pos.line, want[i].line);
            if (want[i].value)
                assert_int_equal(st->select->cols[0].expr->ival, want[i].value);
            else
                assert_string_equal(st->select->cols[0].expr->str, "x;y");
        } else {
            assert_int_equal(err.line, want[i].line);
        }
    }
    plan_stmt *st = (plan_stmt *)1;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(sql_parse_next(p, &st, &err), IVM_OK);
    assert_null(st);
    assert_int_equal(sql_parse_next(p, &st, &err), IVM_OK);
    assert_null(st);
    sql_parser_free(p);

    /* Empty and comment-only texts hold no statement. */
    static const char *const empty[] = { "", "  ", ";", " ; ;; ", "-- x", "/* y */ ;" };
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        assert_int_equal(sql_parser_new(empty[i], strlen(empty[i]), 1, &p), IVM_OK);
        st = (plan_stmt *)1;
        assert_int_equal(sql_parse_next(p, &st, &err), IVM_OK);
        assert_null(st);
        sql_parser_free(p);
    }
    sql_parser_free(NULL);
}

static void test_parse_nesting_limits(void **state)
{
    IVM_UNUSED(state);
    size_t n = 100000;
    char *sql = malloc(3 * n + 64);
    assert_non_null(sql);

    /* Deep parentheses: lemon's stack is bounded. */
    strcpy(sql, "SELECT ");
    size_t k = strlen(sql);
    for (size_t i = 0; i < n; i++)
        sql[k++] = '(';
    sql[k++] = '1';
    for (size_t i = 0; i < n; i++)
        sql[k++] = ')';
    sql[k] = '\0';
    ivm_err err = parse_err(sql, IVM_SYNTAX);
    assert_string_equal(err.msg, "near \"(\": statement nested too deeply");

    /* Deep unary operators and subqueries. */
    k = 7;
    for (size_t i = 0; i < n; i++)
        sql[k++] = '-';
    strcpy(sql + k, "1");
    parse_err(sql, IVM_SYNTAX);
    k = 7;
    for (size_t i = 0; i < 3000; i++) {
        memcpy(sql + k, "(SELECT ", 8);
        k += 8;
    }
    sql[k++] = '1';
    for (size_t i = 0; i < 3000; i++)
        sql[k++] = ')';
    sql[k] = '\0';
    parse_err(sql, IVM_SYNTAX);

    /* A long left-deep chain keeps lemon's stack flat but not the tree. */
    k = 7;
    for (size_t i = 0; i < 5000; i++) {
        memcpy(sql + k, "a AND ", 6);
        k += 6;
    }
    strcpy(sql + k, "b");
    err = parse_err(sql, IVM_SYNTAX);
    assert_non_null(strstr(err.msg, "nested too deeply"));
    k = 0;
    for (size_t i = 0; i < 2000; i++)
        k += (size_t)sprintf(sql + k, "SELECT %zu UNION ", i);
    strcpy(sql + k, "SELECT 0");
    parse_err(sql, IVM_SYNTAX);

    /* Within the limits: 900 levels of AND and a very long flat list. */
    k = 7;
    for (size_t i = 0; i < 900; i++) {
        memcpy(sql + k, "a AND ", 6);
        k += 6;
    }
    strcpy(sql + k, "b");
    parse_ok(sql);
    k = (size_t)sprintf(sql, "SELECT x IN (");
    for (size_t i = 0; i < 20000; i++)
        k += (size_t)sprintf(sql + k, "%zu,", i % 10);
    strcpy(sql + k, "1)");
    plan_stmt *st = parse_ok(sql);
    assert_int_equal(st->select->cols[0].expr->list.n, 20001);
    free(sql);
}

/* ---- sql_complete ----------------------------------------------------------------- */

static void test_parse_complete(void **state)
{
    IVM_UNUSED(state);
    static const struct {
        const char *text;
        bool complete;
    } cases[] = {
        { "", false },
        { "   ", false },
        { ";", true },
        { "SELECT 1", false },
        { "SELECT 1;", true },
        { "SELECT 1;  \n\t", true },
        { "SELECT 1; -- done", true },
        { "SELECT 1; /* done */", true },
        { "SELECT 1; /* not done", false },
        { "SELECT 1 -- ;", false },
        { "SELECT 1 /* ; */", false },
        { "SELECT ';'", false },
        { "SELECT ';", false },
        { "SELECT 'a'';'", false },
        { "SELECT 'a'';';", true },
        { "SELECT \";\"", false },
        { "SELECT [;]", false },
        { "SELECT `;`", false },
        { "SELECT 1; SELECT 2", false },
        { "SELECT 1; SELECT 2;", true },
        { "SELECT (1;", true },
        { "SELECT $;", true },
        { "SELECT 1; $", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = sql_complete(cases[i].text, strlen(cases[i].text));
        if (got != cases[i].complete)
            fail_msg("sql_complete(\"%s\") = %d", cases[i].text, got);
    }
    assert_false(sql_complete(NULL, 0));
    /* The length bounds the text: no terminator needed. */
    assert_false(sql_complete("SELECT 1;", 8));
    assert_true(sql_complete("SELECT 1;xyz", 9));
}

/* ---- Robustness --------------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Parses every statement of buf[0..n) (an exact-size heap copy, so that ASan
 * sees any read past the end) and checks every tree. */
static void parse_all(const char *buf, size_t n)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    sql_parser *p = NULL;
    assert_int_equal(sql_parser_new(copy, n, 1, &p), IVM_OK);
    size_t calls = 0;
    for (;;) {
        plan_stmt *st = NULL;
        ivm_err err;
        ivm_err_clear(&err);
        ivm_rc rc = sql_parse_next(p, &st, &err);
        assert_true(++calls <= n + 2);
        if (rc == IVM_OK && st == NULL)
            break;
        if (rc == IVM_OK) {
            check_stmt(st, copy, n, 1);
        } else {
            assert_true(rc == IVM_SYNTAX || rc == IVM_UNSUPPORTED || rc == IVM_SCHEMA);
            assert_true(err.msg[0] != '\0');
            assert_true(err.line >= 1);
        }
    }
    sql_parser_free(p);
    (void)sql_complete(copy, n);
    free(copy);
}

static const char *const seeds[] = {
    "CREATE TABLE t1(a INTEGER, b INTEGER, c VARCHAR(30) NOT NULL DEFAULT 'x', PRIMARY KEY(a));",
    "CREATE UNIQUE INDEX i ON t1(a DESC, b);",
    "CREATE VIEW v(x, y) AS SELECT a, sum(b) FILTER (WHERE b > 0) FROM t1 GROUP BY a HAVING "
    "count(*) > 1;",
    "INSERT INTO t1(a, b) VALUES(1, 2), (3, -4.5e3), (NULL, 'it''s');",
    "INSERT INTO t1 SELECT * FROM t2 WHERE NOT EXISTS (SELECT 1 FROM t3 WHERE t3.x = t2.x);",
    "UPDATE t1 SET a = a + 1, b = CASE WHEN b IS NULL THEN 0 ELSE b END WHERE a BETWEEN 1 AND 9;",
    "DELETE FROM t1 WHERE a IN (1, 2, 3) OR b NOT IN (SELECT x FROM t2) OR c LIKE 'a%' ESCAPE '!';",
    "SELECT DISTINCT t1.a, t2.* FROM t1 LEFT OUTER JOIN t2 USING (a) NATURAL JOIN t3 "
    "ORDER BY 1 DESC NULLS LAST LIMIT 3 OFFSET 1;",
    "WITH w(x) AS (SELECT 1 UNION ALL SELECT 2) SELECT x FROM w EXCEPT SELECT 3 INTERSECT "
    "SELECT 4;",
    "SELECT CAST(a AS DOUBLE PRECISION), -a, ~b, a || b, a << 2, \"q\"\"x\", [b r], `c`, ?, ?3 "
    "FROM (SELECT * FROM t) AS s WHERE a IS NOT DISTINCT FROM b AND c ISNULL;",
    "BEGIN; COMMIT; BEGIN TRANSACTION; ROLLBACK; END; EXPLAIN SELECT 1; EXPLAIN VIEW v;",
    "DROP TABLE IF EXISTS t1; DROP VIEW v; DROP INDEX i; -- bye\n/* the end */",
    "SELECT (((1 + 2) * 3)), 0x7fffffffffffffff, 18446744073709551616, .5, 1., 1e-7 "
    "FROM a, b CROSS JOIN c RIGHT JOIN d ON d.x = c.x FULL JOIN e ON 1;",
};

static const char *const words[] = {
    "SELECT", "FROM", "WHERE", "(", ")", ",", ";", "AND", "OR", "NOT", "NULL", "IS", "IN",
    "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "1", "'s'", "x", "t.y",
    "+", "-", "*", "/", "||", "=", "<", "JOIN", "ON", "USING", "GROUP", "BY", "ORDER", "LIMIT",
    "UNION", "ALL", "EXISTS", "LIKE", "ESCAPE", "DISTINCT", "CREATE", "TABLE", "VIEW", "INSERT",
    "INTO", "VALUES", "UPDATE", "SET", "DELETE", "WITH", "COLLATE", "FILTER", "?", "\"q",
    "'u", "/*", "--", "[b", "INTEGER", "PRIMARY", "KEY", "DEFAULT", "EXPLAIN", "0x",
    "1e", "\xff", "\xc3", "\0",
};

static void test_parse_random_bytes(void **state)
{
    IVM_UNUSED(state);
    rng_state = 0x9e3779b97f4a7c15ULL;
    char buf[1024];
    size_t nseeds = sizeof seeds / sizeof seeds[0];
    size_t nwords = sizeof words / sizeof words[0];

    for (size_t i = 0; i < nseeds; i++)
        parse_all(seeds[i], strlen(seeds[i]));

    for (int iter = 0; iter < 4000; iter++) {
        size_t n = 0;
        switch (iter % 4) {
        case 0: /* random bytes, biased towards SQL punctuation */
            n = rnd() % 200;
            for (size_t i = 0; i < n; i++) {
                uint32_t r = rnd();
                buf[i] = (r & 0x100) ? "();,'\"[]`*-/ \n0aZ.?"[r % 19] : (char)(r & 0xff);
            }
            break;
        case 1: /* a seed with bytes flipped, inserted and removed */
        case 2: {
            const char *s = seeds[rnd() % nseeds];
            n = strlen(s);
            memcpy(buf, s, n);
            int edits = 1 + (int)(rnd() % 6);
            for (int e = 0; e < edits && n > 0; e++) {
                size_t at = rnd() % n;
                switch (rnd() % 4) {
                case 0:
                    buf[at] = (char)rnd();
                    break;
                case 1:
                    memmove(buf + at, buf + at + 1, n - at - 1);
                    n--;
                    break;
                case 2:
                    if (n + 1 < sizeof buf) {
                        memmove(buf + at + 1, buf + at, n - at);
                        buf[at] = "()';\"*/-[`\0"[rnd() % 11];
                        n++;
                    }
                    break;
                default:
                    n = at; /* truncate */
                    break;
                }
            }
            break;
        }
        default: { /* a soup of SQL words */
            int nw = (int)(rnd() % 40);
            for (int w = 0; w < nw; w++) {
                const char *word = words[rnd() % nwords];
                size_t len = word[0] ? strlen(word) : 1;
                if (n + len + 1 >= sizeof buf)
                    break;
                memcpy(buf + n, word, len);
                n += len;
                buf[n++] = (rnd() & 7) ? ' ' : '\n';
            }
            break;
        }
        }
        parse_all(buf, n);
    }
}

/* ---- The sqllogictest corpus ---------------------------------------------------------- */

typedef struct slt_stats {
    size_t files, records, parsed, blobs, expected_fail_ok, expected_fail_err, failures;
} slt_stats;

static slt_stats g_slt;

/* The next line of [*p, end) without its CR LF or LF; false at the end. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
    if (*p >= end)
        return false;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *e = nl ? nl : end;
    *line = *p;
    *len = (size_t)(e - *p);
    if (*len > 0 && (*line)[*len - 1] == '\r')
        (*len)--;
    *p = nl ? nl + 1 : end;
    return true;
}

static bool starts(const char *line, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len >= n && memcmp(line, word, n) == 0 && (len == n || line[n] == ' ');
}

/* The engine named after `onlyif ` / `skipif `. */
static bool names_sqlite(const char *line, size_t len)
{
    const char *e = line + 7;
    return (size_t)(e - line) + 6 <= len && memcmp(e, "sqlite", 6) == 0 &&
           ((size_t)(e - line) + 6 == len || e[6] == ' ');
}

/* One record's SQL: every statement in it must parse (a record may hold
 * more than one, as SQLite's runner executes them all), except in a
 * `statement error` record.  Blob literals are rejected by design. */
static void slt_statement(const char *path, size_t lineno, const char *sql, size_t n,
                          bool may_fail)
{
    sql_parser *p = NULL;
    assert_int_equal(sql_parser_new(sql, n, (uint32_t)lineno, &p), IVM_OK);
    size_t nstmt = 0;
    bool ok = true, blob = false;
    ivm_err err;
    ivm_err_clear(&err);
    for (;;) {
        plan_stmt *st = NULL;
        ivm_rc rc = sql_parse_next(p, &st, &err);
        if (rc != IVM_OK) {
            ok = false;
            blob = strstr(err.msg, "blob literals are not supported") != NULL;
            break;
        }
        if (st == NULL)
            break;
        check_stmt(st, sql, n, (uint32_t)lineno);
        nstmt++;
    }
    sql_parser_free(p);
    ok = ok && nstmt > 0;
    g_slt.records++;
    if (may_fail) {
        if (ok)
            g_slt.expected_fail_ok++;
        else
            g_slt.expected_fail_err++;
    } else if (ok) {
        g_slt.parsed += nstmt;
    } else if (blob) {
        g_slt.blobs++;
    } else {
        if (g_slt.failures < 20)
            print_message("slt: %s:%zu: %s\n    %.*s\n", path, lineno, err.msg, (int)n, sql);
        g_slt.failures++;
    }
}

static void slt_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    g_slt.files++;

    const char *p = text, *end = text + size, *line;
    size_t len, lineno = 0;
    bool skip = false;
    char *sql = malloc((size_t)size + 1);
    assert_non_null(sql);
    while (next_line(&p, end, &line, &len)) {
        lineno++;
        if (len == 0 || line[0] == '#')
            continue;
        if (starts(line, len, "onlyif")) {
            skip = skip || !names_sqlite(line, len);
            continue;
        }
        if (starts(line, len, "skipif")) {
            skip = skip || names_sqlite(line, len);
            continue;
        }
        if (starts(line, len, "halt")) {
            if (!skip)
                break;
            skip = false;
            continue;
        }
        bool is_stmt = starts(line, len, "statement");
        bool is_query = starts(line, len, "query");
        if (!is_stmt && !is_query) {
            skip = false; /* hash-threshold and the like */
            continue;
        }
        bool may_fail = is_stmt && len >= 15 && memcmp(line + 10, "error", 5) == 0;
        size_t n = 0, first = lineno + 1;
        while (next_line(&p, end, &line, &len)) {
            lineno++;
            if (len == 0 || (is_query && len == 4 && memcmp(line, "----", 4) == 0))
                break;
            if (n > 0)
                sql[n++] = '\n';
            memcpy(sql + n, line, len);
            n += len;
        }
        if (is_query && len == 4) { /* skip the expected results */
            while (next_line(&p, end, &line, &len)) {
                lineno++;
                if (len == 0)
                    break;
            }
        }
        if (!skip && n > 0)
            slt_statement(path, first, sql, n, may_fail);
        skip = false;
    }
    free(sql);
    free(text);
}

static int slt_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    IVM_UNUSED(sb);
    IVM_UNUSED(ftw);
    size_t n = strlen(path);
    if (type == FTW_F && n > 5 && strcmp(path + n - 5, ".test") == 0)
        slt_file(path);
    return 0;
}

static void test_parse_slt_corpus(void **state)
{
    IVM_UNUSED(state);
    const char *dir = getenv("IVM_SLT_DIR");
    if (dir == NULL)
        dir = "../shared/slt";
    memset(&g_slt, 0, sizeof g_slt);
    if (nftw(dir, slt_visit, 16, FTW_PHYS) != 0 || g_slt.files == 0) {
        print_message("slt: corpus not found at %s, skipped\n", dir);
        skip();
    }
    print_message("slt: %zu files, %zu records: %zu statements parsed, %zu failed, "
                  "%zu rejected for blob literals; `statement error`: %zu parsed, "
                  "%zu rejected\n",
                  g_slt.files, g_slt.records, g_slt.parsed, g_slt.failures, g_slt.blobs,
                  g_slt.expected_fail_ok, g_slt.expected_fail_err);
    assert_int_equal(g_slt.failures, 0);
    assert_true(g_slt.parsed > 0);
}

static int teardown_group(void **state)
{
    IVM_UNUSED(state);
    sql_parser_free(g_parser);
    g_parser = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_precedence),
        cmocka_unit_test(test_parse_literals),
        cmocka_unit_test(test_parse_create_table),
        cmocka_unit_test(test_parse_ddl_other),
        cmocka_unit_test(test_parse_dml),
        cmocka_unit_test(test_parse_explain),
        cmocka_unit_test(test_parse_select_clauses),
        cmocka_unit_test(test_parse_select_from),
        cmocka_unit_test(test_parse_select_compound),
        cmocka_unit_test(test_parse_positions),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_recovery),
        cmocka_unit_test(test_parse_nesting_limits),
        cmocka_unit_test(test_parse_complete),
        cmocka_unit_test(test_parse_random_bytes),
        cmocka_unit_test(test_parse_slt_corpus),
    };
    return cmocka_run_group_tests_name("sql_parse", tests, NULL, teardown_group);
}
