/*
 * test_expr.c: expression semantics.  Every expected value here was checked
 * against the sqlite3 shell (3.40) while writing the test; the test itself
 * needs no SQLite.  Where ivm deliberately differs (for example an OR whose
 * left side is true skips the right side, so its errors) the test says so.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "dbsp.h"

/* ---- Shorthands: constants, operators, evaluation --------------------------- */

static rt_arena scratch;
static dbsp_expr *graveyard[512];
static size_t ngrave;

static int setup(void **state)
{
    (void)state;
    rt_arena_init(&scratch);
    ngrave = 0;
    return 0;
}

/* Expressions die after the test: text results may point into constants. */
static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < ngrave; i++)
        dbsp_expr_free(graveyard[i]);
    ngrave = 0;
    rt_arena_fini(&scratch);
    return 0;
}

static dbsp_expr *I(int64_t i)
{
    ivm_value v = ivm_value_int(i);
    return dbsp_expr_const(&v);
}

static dbsp_expr *R(double r)
{
    ivm_value v = ivm_value_real(r);
    return dbsp_expr_const(&v);
}

static dbsp_expr *T(const char *s)
{
    ivm_value v = ivm_value_text(s, (uint32_t)strlen(s));
    return dbsp_expr_const(&v);
}

static dbsp_expr *N(void)
{
    ivm_value v = ivm_value_null();
    return dbsp_expr_const(&v);
}

static dbsp_expr *C(uint32_t c)
{
    return dbsp_expr_col(c, IVM_TNULL);
}

static dbsp_expr *B(dbsp_xop op, dbsp_expr *a, dbsp_expr *b)
{
    dbsp_expr *args[2] = {a, b};
    return dbsp_expr_op(op, IVM_TNULL, 2, args);
}

static dbsp_expr *U(dbsp_xop op, dbsp_expr *a)
{
    return dbsp_expr_op(op, IVM_TNULL, 1, &a);
}

static dbsp_expr *CAST(dbsp_expr *a, ivm_type to)
{
    return dbsp_expr_op(DBSP_X_CAST, to, 1, &a);
}

static dbsp_expr *F1(dbsp_fn fn, dbsp_expr *a)
{
    return dbsp_expr_func(fn, IVM_TNULL, 1, &a);
}

static const ivm_value no_row[1];

/* Evaluates e over row; the error, if any, goes to *err. */
static ivm_rc eval_row(dbsp_expr *e, const ivm_value *row, ivm_value *out, ivm_err *err)
{
    assert_non_null(e);
    assert_true(ngrave < sizeof graveyard / sizeof graveyard[0]);
    graveyard[ngrave++] = e;
    ivm_err_clear(err);
    return dbsp_expr_eval(e, row, &scratch, out, err);
}

static ivm_value ev(dbsp_expr *e)
{
    ivm_value v;
    ivm_err err;
    ivm_rc rc = eval_row(e, no_row, &v, &err);
    if (rc != IVM_OK)
        fprintf(stderr, "eval failed: %s\n", err.msg);
    assert_int_equal(rc, IVM_OK);
    return v;
}

static void is_null(ivm_value v)
{
    assert_int_equal(v.type, IVM_TNULL);
}

static void is_int(ivm_value v, int64_t i)
{
    assert_int_equal(v.type, IVM_TINT);
    assert_true(v.u.i == i);
}

static void is_real(ivm_value v, double r)
{
    assert_int_equal(v.type, IVM_TREAL);
    assert_true(v.u.r == r);
}

static void is_text(ivm_value v, const char *s)
{
    assert_int_equal(v.type, IVM_TTEXT);
    assert_int_equal(v.u.s.n, strlen(s));
    assert_memory_equal(v.u.s.p, s, strlen(s));
}

/* A REAL as SQLite prints it. */
static void is_real_text(ivm_value v, const char *s)
{
    char buf[64];
    assert_int_equal(v.type, IVM_TREAL);
    ivm_format_real(v.u.r, buf, sizeof buf);
    assert_string_equal(buf, s);
}

/* ---- Arithmetic ------------------------------------------------------------- */

static void test_expr_integer_arithmetic(void **state)
{
    (void)state;
    is_int(ev(B(DBSP_X_ADD, I(1), I(2))), 3);
    is_int(ev(B(DBSP_X_SUB, I(1), I(5))), -4);
    is_int(ev(B(DBSP_X_MUL, I(-6), I(7))), -42);
    is_int(ev(B(DBSP_X_DIV, I(-7), I(2))), -3);  /* truncates toward zero */
    is_int(ev(B(DBSP_X_DIV, I(7), I(-2))), -3);
    is_int(ev(B(DBSP_X_MOD, I(-7), I(3))), -1);  /* sign of the dividend */
    is_int(ev(B(DBSP_X_MOD, I(7), I(-3))), 1);
    is_real(ev(B(DBSP_X_DIV, R(-7.0), I(2))), -3.5);
    is_real(ev(B(DBSP_X_ADD, I(1), R(0.5))), 1.5);
    is_null(ev(B(DBSP_X_ADD, N(), I(1))));
    is_null(ev(B(DBSP_X_MUL, I(1), N())));
}

static void test_expr_overflow_gives_real(void **state)
{
    (void)state;
    is_real_text(ev(B(DBSP_X_ADD, I(INT64_MAX), I(1))), "9.22337203685478e+18");
    is_real(ev(B(DBSP_X_ADD, I(INT64_MAX), I(1))), 9223372036854775808.0);
    is_real(ev(B(DBSP_X_SUB, I(INT64_MIN), I(1))), -9223372036854775808.0);
    is_real_text(ev(B(DBSP_X_MUL, I(3037000500), I(3037000500))), "9.22337203700025e+18");
    is_real_text(ev(B(DBSP_X_MUL, I(INT64_MIN), I(-1))), "9.22337203685478e+18");
    is_real_text(ev(U(DBSP_X_NEG, I(INT64_MIN))), "9.22337203685478e+18");
    is_int(ev(B(DBSP_X_ADD, I(INT64_MAX - 1), I(1))), INT64_MAX);
}

static void test_expr_division_by_zero_is_null(void **state)
{
    (void)state;
    is_null(ev(B(DBSP_X_DIV, I(5), I(0))));
    is_null(ev(B(DBSP_X_MOD, I(5), I(0))));
    is_null(ev(B(DBSP_X_DIV, I(5), R(0.0))));
    is_null(ev(B(DBSP_X_DIV, R(5.5), I(0))));
    is_null(ev(B(DBSP_X_MOD, R(5.0), R(0.4)))); /* 0.4 becomes 0 */
    is_real_text(ev(B(DBSP_X_DIV, I(INT64_MIN), I(-1))), "9.22337203685478e+18");
    is_int(ev(B(DBSP_X_MOD, I(INT64_MIN), I(-1))), 0);
}

static void test_expr_real_modulo_uses_integers(void **state)
{
    (void)state;
    is_real(ev(B(DBSP_X_MOD, R(5.5), I(2))), 1.0);
    is_real(ev(B(DBSP_X_MOD, I(7), R(2.5))), 1.0);
    is_real(ev(B(DBSP_X_MOD, R(-7.9), I(3))), -1.0);
    is_real(ev(B(DBSP_X_MOD, R(1e300), I(7))), (double)(INT64_MAX % 7)); /* saturates */
}

static void test_expr_nan_is_null(void **state)
{
    (void)state;
    is_real_text(ev(B(DBSP_X_MUL, R(1e308), I(10))), "Inf");
    is_null(ev(B(DBSP_X_SUB, B(DBSP_X_MUL, R(1e308), I(10)), B(DBSP_X_MUL, R(1e308), I(10)))));
    is_null(ev(R(NAN)));
}

static void test_expr_text_in_arithmetic(void **state)
{
    (void)state;
    is_real(ev(B(DBSP_X_ADD, T("3.0"), I(1))), 4.0);
    is_int(ev(B(DBSP_X_ADD, T("12abc"), I(1))), 13);
    is_real(ev(B(DBSP_X_ADD, T("1.5abc"), I(1))), 2.5);
    is_int(ev(B(DBSP_X_ADD, T("abc"), I(1))), 1);
    is_real(ev(B(DBSP_X_ADD, T("1e3"), I(0))), 1000.0);
    is_int(ev(B(DBSP_X_ADD, T("1e"), I(0))), 1);
    is_real(ev(B(DBSP_X_ADD, T("1."), I(0))), 1.0);
    is_int(ev(B(DBSP_X_ADD, T(" 12 "), I(0))), 12);
    is_int(ev(B(DBSP_X_ADD, T("  +5x"), I(0))), 5);
    is_int(ev(B(DBSP_X_ADD, T("- 5"), I(0))), 0);
    is_int(ev(B(DBSP_X_ADD, T("0x10"), I(0))), 0);
    is_int(ev(B(DBSP_X_ADD, T(".e1"), I(0))), 0);
    is_int(ev(B(DBSP_X_ADD, T(""), I(0))), 0);
    is_real(ev(B(DBSP_X_ADD, T("1e5x"), I(0))), 100000.0);
    is_int(ev(B(DBSP_X_ADD, T("00012"), I(0))), 12);
    is_int(ev(B(DBSP_X_ADD, T("9223372036854775807"), I(0))), INT64_MAX);
    is_int(ev(B(DBSP_X_ADD, T("-9223372036854775808"), I(0))), INT64_MIN);
    is_real_text(ev(B(DBSP_X_ADD, T("9223372036854775808"), I(0))), "9.22337203685478e+18");
    is_real(ev(B(DBSP_X_ADD, T("0.1"), I(0))), 0.1);
    is_int(ev(U(DBSP_X_NEG, T("5"))), -5);
    is_int(ev(U(DBSP_X_NEG, T("abc"))), 0);
    is_real(ev(U(DBSP_X_NEG, T("1.5x"))), -1.5);
    is_null(ev(U(DBSP_X_NEG, N())));
}

/* ---- Comparisons and logic ---------------------------------------------------- */

static void test_expr_comparisons(void **state)
{
    (void)state;
    is_int(ev(B(DBSP_X_LT, I(1), T("a"))), 1);  /* numbers sort before text */
    is_int(ev(B(DBSP_X_GT, R(1e300), T(""))), 0);
    is_int(ev(B(DBSP_X_LT, T("a"), T("ab"))), 1);
    is_int(ev(B(DBSP_X_GT, T("b"), T("ab"))), 1);
    is_int(ev(B(DBSP_X_LT, T("B"), T("a"))), 1); /* bytes, no collation */
    is_int(ev(B(DBSP_X_EQ, I(2), R(2.0))), 1);
    is_int(ev(B(DBSP_X_LT, I(INT64_MAX), R(9223372036854775808.0))), 1);
    is_int(ev(B(DBSP_X_EQ, I(INT64_MAX), R(9223372036854775807.0))), 0); /* exact */
    is_int(ev(B(DBSP_X_GT, I(9007199254740993), R(9007199254740992.0))), 1);
    is_int(ev(B(DBSP_X_LT, I(3), R(3.5))), 1);
    is_int(ev(B(DBSP_X_GT, I(-3), R(-3.5))), 1);
    is_int(ev(B(DBSP_X_GE, R(2.5), I(2))), 1);
    is_int(ev(B(DBSP_X_LE, I(-1), R(-1.5))), 0);
    is_int(ev(B(DBSP_X_NE, T("a"), T("b"))), 1);
    is_null(ev(B(DBSP_X_EQ, N(), N())));
    is_null(ev(B(DBSP_X_LT, I(1), N())));
    is_int(ev(B(DBSP_X_IS, N(), N())), 1);
    is_int(ev(B(DBSP_X_IS, I(1), N())), 0);
    is_int(ev(B(DBSP_X_IS, I(1), R(1.0))), 1);
    is_int(ev(B(DBSP_X_ISNOT, I(1), N())), 1);
    is_int(ev(B(DBSP_X_ISNOT, I(1), I(1))), 0);
    is_int(ev(U(DBSP_X_ISNULL, N())), 1);
    is_int(ev(U(DBSP_X_NOTNULL, N())), 0);
    is_int(ev(U(DBSP_X_NOTNULL, I(0))), 1);
}

static void test_value_cmp_orders_like_sqlite(void **state)
{
    (void)state;
    ivm_value n = ivm_value_null(), i = ivm_value_int(2), r = ivm_value_real(2.5),
              t = ivm_value_text("a", 1), t2 = ivm_value_text("ab", 2);
    assert_true(dbsp_value_cmp(&n, &i) < 0);
    assert_true(dbsp_value_cmp(&i, &r) < 0);
    assert_true(dbsp_value_cmp(&r, &i) > 0);
    assert_true(dbsp_value_cmp(&r, &t) < 0);
    assert_true(dbsp_value_cmp(&t, &t2) < 0);
    assert_true(dbsp_value_cmp(&t2, &t2) == 0);
}

static void test_expr_three_valued_logic(void **state)
{
    (void)state;
    is_int(ev(B(DBSP_X_AND, T("abc"), I(1))), 0);
    is_int(ev(B(DBSP_X_AND, T("1abc"), I(1))), 1);
    is_int(ev(B(DBSP_X_OR, T("0.5"), I(0))), 1);
    is_null(ev(B(DBSP_X_OR, R(0.0), N())));
    is_null(ev(B(DBSP_X_AND, I(1), N())));
    is_int(ev(B(DBSP_X_AND, I(0), N())), 0);
    is_int(ev(B(DBSP_X_AND, N(), I(0))), 0);
    is_int(ev(B(DBSP_X_OR, N(), I(1))), 1);
    is_null(ev(B(DBSP_X_OR, N(), I(0))));
    is_int(ev(U(DBSP_X_NOT, T("x"))), 1);
    is_int(ev(U(DBSP_X_NOT, I(2))), 0);
    is_null(ev(U(DBSP_X_NOT, N())));
    /* The left side decides: the right is not evaluated (nor its error). */
    is_int(ev(B(DBSP_X_AND, I(0), F1(DBSP_FN_ABS, I(INT64_MIN)))), 0);
    is_int(ev(B(DBSP_X_OR, I(1), F1(DBSP_FN_ABS, I(INT64_MIN)))), 1);
}

static void test_value_truth_converts_text(void **state)
{
    (void)state;
    ivm_value v = ivm_value_null();
    assert_int_equal(dbsp_value_truth(&v), -1);
    v = ivm_value_text("", 0);
    assert_int_equal(dbsp_value_truth(&v), 0);
    v = ivm_value_text(" 1", 2);
    assert_int_equal(dbsp_value_truth(&v), 1);
    v = ivm_value_text("0.0", 3);
    assert_int_equal(dbsp_value_truth(&v), 0);
    v = ivm_value_text("0.01x", 5);
    assert_int_equal(dbsp_value_truth(&v), 1);
    v = ivm_value_text("x", 1);
    assert_int_equal(dbsp_value_truth(&v), 0);
    v = ivm_value_real(-0.1);
    assert_int_equal(dbsp_value_truth(&v), 1);
    v = ivm_value_real(0.0);
    assert_int_equal(dbsp_value_truth(&v), 0);
    v = ivm_value_int(-1);
    assert_int_equal(dbsp_value_truth(&v), 1);
}

/* ---- Text ----------------------------------------------------------------------- */

static void test_expr_concat_text_forms(void **state)
{
    (void)state;
    is_text(ev(B(DBSP_X_CONCAT, I(1), R(2.5))), "12.5");
    is_text(ev(B(DBSP_X_CONCAT, R(1.0), T("a"))), "1.0a");
    is_text(ev(B(DBSP_X_CONCAT, R(1e20), T(""))), "1.0e+20");
    is_text(ev(B(DBSP_X_CONCAT, R(1e15), T(""))), "1.0e+15");
    is_text(ev(B(DBSP_X_CONCAT, R(123456789012345678.0), T(""))), "1.23456789012346e+17");
    is_text(ev(B(DBSP_X_CONCAT, I(-5), T("x"))), "-5x");
    is_text(ev(B(DBSP_X_CONCAT, T(""), T(""))), "");
    is_null(ev(B(DBSP_X_CONCAT, N(), T("a"))));
    is_null(ev(B(DBSP_X_CONCAT, T("a"), N())));
}

static void test_expr_cast_follows_sqlite(void **state)
{
    (void)state;
    is_int(ev(CAST(T("1.9e3"), IVM_TINT)), 1);
    is_int(ev(CAST(T("  -12xyz"), IVM_TINT)), -12);
    is_int(ev(CAST(T("+3"), IVM_TINT)), 3);
    is_int(ev(CAST(T(" "), IVM_TINT)), 0);
    is_int(ev(CAST(T("0x1A"), IVM_TINT)), 0);
    is_int(ev(CAST(T("9223372036854775808"), IVM_TINT)), INT64_MAX);
    is_int(ev(CAST(T("-9223372036854775809"), IVM_TINT)), INT64_MIN);
    is_int(ev(CAST(R(1e300), IVM_TINT)), INT64_MAX);
    is_int(ev(CAST(R(-1e300), IVM_TINT)), INT64_MIN);
    is_int(ev(CAST(R(2.7), IVM_TINT)), 2);
    is_int(ev(CAST(R(-2.7), IVM_TINT)), -2);
    is_real_text(ev(CAST(T("1e400"), IVM_TREAL)), "Inf");
    is_real(ev(CAST(T(""), IVM_TREAL)), 0.0);
    is_real(ev(CAST(T(".5"), IVM_TREAL)), 0.5);
    is_real(ev(CAST(T("5."), IVM_TREAL)), 5.0);
    is_real(ev(CAST(T("-1.25e-2xyz"), IVM_TREAL)), -0.0125);
    is_real(ev(CAST(I(3), IVM_TREAL)), 3.0);
    is_text(ev(CAST(R(2.5), IVM_TTEXT)), "2.5");
    is_text(ev(CAST(R(1.0), IVM_TTEXT)), "1.0");
    is_text(ev(CAST(I(10), IVM_TTEXT)), "10");
    is_text(ev(CAST(T("x"), IVM_TTEXT)), "x");
    is_null(ev(CAST(N(), IVM_TINT)));
    /* Many digits: the value is still the nearest double. */
    is_real(ev(CAST(T("0.000000000000000000000000000000000000000000000000001234567890123456789"),
                    IVM_TREAL)),
            1.234567890123456789e-51);
    is_real(ev(CAST(T("123456789012345678901234567890123456789012345678901234567890"), IVM_TREAL)),
            1.2345678901234568e59);
}

static void test_expr_case_is_lazy(void **state)
{
    (void)state;
    dbsp_expr *a[4] = {I(0), I(1), T("x"), I(2)};
    is_null(ev(dbsp_expr_op(DBSP_X_CASE, IVM_TNULL, 4, a)));
    dbsp_expr *b[3] = {I(1), T("a"), T("b")};
    is_text(ev(dbsp_expr_op(DBSP_X_CASE, IVM_TNULL, 3, b)), "a");
    dbsp_expr *c[3] = {N(), I(1), I(2)};
    is_int(ev(dbsp_expr_op(DBSP_X_CASE, IVM_TNULL, 3, c)), 2);
    dbsp_expr *d[3] = {I(1), I(2), F1(DBSP_FN_ABS, I(INT64_MIN))};
    is_int(ev(dbsp_expr_op(DBSP_X_CASE, IVM_TNULL, 3, d)), 2);
}

/* ---- Functions ------------------------------------------------------------------ */

static void test_expr_abs(void **state)
{
    (void)state;
    is_int(ev(F1(DBSP_FN_ABS, I(-5))), 5);
    is_real(ev(F1(DBSP_FN_ABS, R(-2.5))), 2.5);
    is_real(ev(F1(DBSP_FN_ABS, T("-5"))), 5.0);
    is_real(ev(F1(DBSP_FN_ABS, T("abc"))), 0.0);
    is_real(ev(F1(DBSP_FN_ABS, T("12abc"))), 12.0);
    is_null(ev(F1(DBSP_FN_ABS, N())));
    is_int(ev(F1(DBSP_FN_ABS, I(INT64_MAX))), INT64_MAX);
}

static void test_expr_abs_overflow_is_an_error(void **state)
{
    (void)state;
    ivm_value v = ivm_value_int(77);
    ivm_err err;
    ivm_rc rc = eval_row(F1(DBSP_FN_ABS, I(INT64_MIN)), no_row, &v, &err);
    assert_int_equal(rc, IVM_INVALID);
    assert_int_equal(err.rc, IVM_INVALID);
    assert_string_equal(err.msg, "integer overflow");
    is_int(v, 77); /* outputs untouched on failure */
    /* Errors travel up through any operator. */
    rc = eval_row(B(DBSP_X_ADD, I(1), F1(DBSP_FN_ABS, I(INT64_MIN))), no_row, &v, &err);
    assert_int_equal(rc, IVM_INVALID);
}

static void test_expr_coalesce_length_case(void **state)
{
    (void)state;
    dbsp_expr *a[3] = {N(), N(), I(3)};
    is_int(ev(dbsp_expr_func(DBSP_FN_COALESCE, IVM_TNULL, 3, a)), 3);
    dbsp_expr *b[1] = {N()};
    is_null(ev(dbsp_expr_func(DBSP_FN_COALESCE, IVM_TNULL, 1, b)));
    dbsp_expr *c[2] = {I(1), F1(DBSP_FN_ABS, I(INT64_MIN))};
    is_int(ev(dbsp_expr_func(DBSP_FN_COALESCE, IVM_TNULL, 2, c)), 1);

    is_int(ev(F1(DBSP_FN_LENGTH, T("h\xc3\xa9llo"))), 5);
    is_int(ev(F1(DBSP_FN_LENGTH, T(""))), 0);
    is_int(ev(F1(DBSP_FN_LENGTH, R(1.0))), 3);
    is_int(ev(F1(DBSP_FN_LENGTH, I(-12))), 3);
    is_null(ev(F1(DBSP_FN_LENGTH, N())));

    is_text(ev(F1(DBSP_FN_UPPER, T("h\xc3\xa9llo"))), "H\xc3\xa9LLO");
    is_text(ev(F1(DBSP_FN_LOWER, T("ABC-d"))), "abc-d");
    is_text(ev(F1(DBSP_FN_LOWER, R(1.5))), "1.5");
    is_text(ev(F1(DBSP_FN_UPPER, R(1e20))), "1.0E+20");
    is_null(ev(F1(DBSP_FN_UPPER, N())));
}

static void test_expr_reads_columns(void **state)
{
    (void)state;
    ivm_value row[3] = {ivm_value_int(2), ivm_value_real(3.5), ivm_value_text("xy", 2)};
    ivm_value v;
    ivm_err err;
    assert_int_equal(eval_row(B(DBSP_X_ADD, C(0), C(1)), row, &v, &err), IVM_OK);
    is_real(v, 5.5);
    assert_int_equal(eval_row(B(DBSP_X_CONCAT, C(2), C(0)), row, &v, &err), IVM_OK);
    is_text(v, "xy2");
    assert_int_equal(eval_row(C(2), row, &v, &err), IVM_OK);
    assert_ptr_equal(v.u.s.p, row[2].u.s.p); /* zero copy */
}

/* Trees of INT operators over INT values take a shortcut (int_eval in
 * expr.c); a NULL, REAL or text value, an overflow or a division by zero
 * anywhere in them sends the whole tree to the general evaluator.  Both
 * must agree: checked here on trees whose columns are INT, NULL, REAL and
 * text, and whose steps leave the INTs at different depths (every
 * expected value as the sqlite3 shell gives it). */
static void test_expr_int_trees_and_their_way_out(void **state)
{
    (void)state;
    ivm_value row[5] = {ivm_value_int(7), ivm_value_null(), ivm_value_real(2.0),
                        ivm_value_text("3", 1), ivm_value_int(INT64_MAX)};
    ivm_value v;
    ivm_err err;
#define EV(e) (assert_int_equal(eval_row((e), row, &v, &err), IVM_OK), v)
    /* All INT: (6 / 4) * 4 + 7 % 3 is 5; (2 AND 3) + (0 OR 5) is 2. */
    is_int(EV(B(DBSP_X_ADD, B(DBSP_X_MUL, B(DBSP_X_DIV, I(6), I(4)), I(4)),
                B(DBSP_X_MOD, C(0), I(3)))), 5);
    is_int(EV(B(DBSP_X_ADD, B(DBSP_X_AND, I(2), I(3)), B(DBSP_X_OR, I(0), I(5)))), 2);
    is_int(EV(B(DBSP_X_AND, B(DBSP_X_LT, I(3), C(0)), B(DBSP_X_LT, C(0), I(3)))), 0);
    is_int(EV(U(DBSP_X_NOT, B(DBSP_X_SUB, C(0), I(7)))), 1);
    is_int(EV(B(DBSP_X_IS, B(DBSP_X_ADD, I(1), I(1)), B(DBSP_X_DIV, I(4), I(2)))), 1);
    is_int(EV(B(DBSP_X_ISNOT, C(0), I(3))), 1);
    is_int(EV(B(DBSP_X_MOD, I(INT64_MIN), I(-1))), 0);
    is_int(EV(U(DBSP_X_NOTNULL, B(DBSP_X_DIV, C(0), I(2)))), 1);
    /* An overflow or a division by zero deep down: REAL or NULL at the top. */
    is_real(EV(B(DBSP_X_MUL, B(DBSP_X_ADD, C(4), I(1)), I(2))), 18446744073709551616.0);
    is_real(EV(U(DBSP_X_NEG, B(DBSP_X_SUB, I(-INT64_MAX), I(1)))), 9223372036854775808.0);
    is_null(EV(B(DBSP_X_ADD, B(DBSP_X_DIV, C(0), I(0)), I(1))));
    is_int(EV(U(DBSP_X_ISNULL, B(DBSP_X_MOD, C(0), I(0)))), 1);
    /* A NULL, REAL or text column. */
    is_null(EV(B(DBSP_X_ADD, B(DBSP_X_DIV, C(0), I(2)), C(1))));
    is_real(EV(B(DBSP_X_SUB, B(DBSP_X_DIV, C(0), I(2)), C(2))), 1.0);
    is_int(EV(B(DBSP_X_MUL, B(DBSP_X_ADD, C(3), I(1)), I(2))), 8);
    is_real(EV(B(DBSP_X_ADD, B(DBSP_X_LT, I(3), C(0)), R(2.5))), 3.5);
    /* Three-valued logic: the side that decides, else NULL. */
    is_int(EV(B(DBSP_X_AND, B(DBSP_X_GT, I(0), C(0)), C(1))), 0);
    is_null(EV(B(DBSP_X_AND, B(DBSP_X_LT, I(0), C(0)), C(1))));
    is_int(EV(B(DBSP_X_OR, C(0), C(1))), 1);
    is_null(EV(B(DBSP_X_OR, I(0), C(1))));
    is_int(EV(B(DBSP_X_AND, I(0), C(3))), 0);
#undef EV
}

/* The INT walk is tried only on trees that may take it (dbsp_expr.intw):
 * built from its operators over INT constants and columns not declared
 * REAL or TEXT, kept by dbsp_expr_dup and brought up to date by
 * dbsp_exprs_share after an argument is replaced.  The hint decides only
 * the way, never the value: a tree marked wrongly either way evaluates as
 * before. */
static void test_expr_int_hint(void **state)
{
    (void)state;
    ivm_value row[3] = {ivm_value_int(7), ivm_value_text("a", 1), ivm_value_real(0.5)};
    ivm_value v;
    ivm_err err;
    dbsp_expr *sum = B(DBSP_X_ADD, C(0), B(DBSP_X_MUL, I(2), dbsp_expr_col(0, IVM_TINT)));
    assert_true(sum->intw);
    dbsp_expr *text_eq = B(DBSP_X_EQ, dbsp_expr_col(1, IVM_TTEXT), T("a"));
    assert_false(text_eq->intw);
    dbsp_expr *real_lt = B(DBSP_X_LT, dbsp_expr_col(2, IVM_TREAL), I(1));
    assert_false(real_lt->intw);
    dbsp_expr *concat = B(DBSP_X_EQ, B(DBSP_X_CONCAT, C(0), I(1)), T("71"));
    assert_false(concat->intw);
    dbsp_expr *with_real = B(DBSP_X_ADD, C(0), R(1.0));
    assert_false(with_real->intw);
    dbsp_expr *dup = dbsp_expr_dup(sum);
    assert_non_null(dup);
    assert_true(dup->intw);
    /* An argument replaced after construction, as the planner does. */
    dbsp_expr_free(dup->args[1]);
    dup->args[1] = T("x");
    dbsp_expr *both[2] = {dup, sum};
    dbsp_exprs_share(both, 2);
    assert_false(dup->intw);
    assert_true(sum->intw);
    is_int((assert_int_equal(eval_row(sum, row, &v, &err), IVM_OK), v), 21);
    is_int((assert_int_equal(eval_row(dup, row, &v, &err), IVM_OK), v), 7);
    is_int((assert_int_equal(eval_row(text_eq, row, &v, &err), IVM_OK), v), 1);
    is_int((assert_int_equal(eval_row(real_lt, row, &v, &err), IVM_OK), v), 1);
    is_int((assert_int_equal(eval_row(concat, row, &v, &err), IVM_OK), v), 1);
    is_real((assert_int_equal(eval_row(with_real, row, &v, &err), IVM_OK), v), 8.0);
    /* Wrong hints: the same values. */
    sum->intw = 0;
    text_eq->intw = real_lt->intw = concat->intw = with_real->intw = 1;
    is_int((assert_int_equal(dbsp_expr_eval(sum, row, &scratch, &v, &err), IVM_OK), v), 21);
    is_int((assert_int_equal(dbsp_expr_eval(text_eq, row, &scratch, &v, &err), IVM_OK), v), 1);
    is_int((assert_int_equal(dbsp_expr_eval(real_lt, row, &scratch, &v, &err), IVM_OK), v), 1);
    is_int((assert_int_equal(dbsp_expr_eval(concat, row, &scratch, &v, &err), IVM_OK), v), 1);
    is_real((assert_int_equal(dbsp_expr_eval(with_real, row, &scratch, &v, &err), IVM_OK), v),
            8.0);
}

/* fn over n arguments (variadic shorthand). */
static dbsp_expr *FN(dbsp_fn fn, uint32_t n, ...)
{
    dbsp_expr *args[8];
    va_list ap;
    va_start(ap, n);
    for (uint32_t i = 0; i < n; i++)
        args[i] = va_arg(ap, dbsp_expr *);
    va_end(ap);
    return dbsp_expr_func(fn, IVM_TNULL, n, args);
}

/* Reference substr and instr stepping one character at a time the way
 * SQLite does (a lead byte takes the continuation bytes after it, any other
 * byte is a character of its own), to check the evaluator's shortcuts on
 * text with malformed sequences too. */
static uint32_t ref_char_len(const char *p, uint32_t n, uint32_t i)
{
    uint32_t j = i + 1;
    if ((unsigned char)p[i] >= 0xC0)
        while (j < n && ((unsigned char)p[j] & 0xC0) == 0x80)
            j++;
    return j - i;
}

static void ref_substr(const char *z, uint32_t zn, int64_t p1, int64_t p2, bool has2,
                       uint32_t *from, uint32_t *to)
{
    bool neg2 = false;
    if (!has2)
        p2 = 1000000000;
    if (p2 < 0) {
        p2 = -p2;
        neg2 = true;
    }
    if (p1 < 0) {
        int64_t chars = 0;
        for (uint32_t i = 0; i < zn; i += ref_char_len(z, zn, i))
            chars++;
        p1 += chars;
        if (p1 < 0) {
            p2 += p1;
            if (p2 < 0)
                p2 = 0;
            p1 = 0;
        }
    } else if (p1 > 0) {
        p1--;
    } else if (p2 > 0) {
        p2--;
    }
    if (neg2) {
        p1 -= p2;
        if (p1 < 0) {
            p2 += p1;
            p1 = 0;
        }
    }
    uint32_t i = 0;
    for (; i < zn && p1 > 0; p1--)
        i += ref_char_len(z, zn, i);
    uint32_t j = i;
    for (; j < zn && p2 > 0; p2--)
        j += ref_char_len(z, zn, j);
    *from = i;
    *to = j;
}

/* SQLite 3.40's instr loop: candidates are byte 0 and every later byte
 * that does not continue a sequence. */
static int64_t ref_instr(const char *s, uint32_t sn, const char *f, uint32_t fn)
{
    if (fn == 0)
        return 1;
    int64_t pos = 1;
    uint32_t i = 0;
    while (fn + i <= sn && memcmp(s + i, f, fn) != 0) {
        pos++;
        do
            i++;
        while (i < sn && ((unsigned char)s[i] & 0xC0) == 0x80);
    }
    return fn + i <= sn ? pos : 0;
}

static dbsp_expr *TN(const char *s, uint32_t n)
{
    ivm_value v = ivm_value_text(s, n);
    return dbsp_expr_const(&v);
}

static void test_expr_substr_instr_match_reference(void **state)
{
    (void)state;
    /* ASCII, a two-byte character, lead bytes and stray continuations. */
    static const char bytes[] = {'a', 'b', '/', 'x', '\xc3', '\xa9', '\x80', '\xe2', '\xf0'};
    uint64_t seed = 88172645463325252ULL;
    char s[24], f[4];
    for (int iter = 0; iter < 20000; iter++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        uint32_t sn = (uint32_t)(seed % 24), fn = (uint32_t)(seed >> 8) % 4;
        for (uint32_t i = 0; i < sn; i++)
            s[i] = bytes[((seed >> (i % 16 * 4)) ^ i) % sizeof bytes];
        for (uint32_t i = 0; i < fn; i++)
            f[i] = bytes[(seed >> (20 + i * 5)) % sizeof bytes];
        if (iter % 2 == 0 && sn > 2 && fn > 0) /* often a real occurrence */
            memcpy(f, s + (seed >> 40) % sn, fn <= sn - (seed >> 40) % sn ? fn : 1);
        int64_t p1 = (int64_t)((seed >> 32) % 60) - 30, p2 = (int64_t)((seed >> 44) % 60) - 30;
        bool has2 = (seed >> 50) & 1;
        uint32_t from, to;
        ref_substr(s, sn, p1, p2, has2, &from, &to);
        ivm_value v = has2 ? ev(FN(DBSP_FN_SUBSTR, 3, TN(s, sn), I(p1), I(p2)))
                           : ev(FN(DBSP_FN_SUBSTR, 2, TN(s, sn), I(p1)));
        assert_int_equal(v.type, IVM_TTEXT);
        assert_int_equal(v.u.s.n, to - from);
        if (to > from)
            assert_memory_equal(v.u.s.p, s + from, to - from);
        is_int(ev(FN(DBSP_FN_INSTR, 2, TN(s, sn), TN(f, fn))), ref_instr(s, sn, f, fn));
        /* The graveyard holds the expressions until teardown. */
        teardown(NULL);
        setup(NULL);
    }
}

static void test_expr_text_functions(void **state)
{
    (void)state;
    is_text(ev(FN(DBSP_FN_SUBSTR, 2, T("hello"), I(2))), "ello");
    is_text(ev(FN(DBSP_FN_SUBSTR, 3, T("hello"), I(0), I(2))), "h");
    is_text(ev(FN(DBSP_FN_SUBSTR, 3, T("hello"), I(-3), I(2))), "ll");
    is_text(ev(FN(DBSP_FN_SUBSTR, 3, T("hello"), I(3), I(-2))), "he");
    is_text(ev(FN(DBSP_FN_SUBSTR, 3, T("hello"), I(-10), I(8))), "hel");
    is_text(ev(FN(DBSP_FN_SUBSTR, 3, T("h\xc3\xa9llo"), I(2), I(2))), "\xc3\xa9l");
    is_text(ev(FN(DBSP_FN_SUBSTR, 3, I(12345), I(2), I(2))), "23");
    /* Counts are 32-bit, as in SQLite 3.40: 2^32 + 1 reads as 1. */
    is_text(ev(FN(DBSP_FN_SUBSTR, 2, T("hello"), I(4294967297LL))), "hello");
    is_null(ev(FN(DBSP_FN_SUBSTR, 2, N(), I(1))));

    is_text(ev(FN(DBSP_FN_TRIM, 1, T("  x  "))), "x");
    is_text(ev(FN(DBSP_FN_LTRIM, 2, T("xyxzyx"), T("xy"))), "zyx");
    is_text(ev(FN(DBSP_FN_RTRIM, 2, T("abcba"), T("ab"))), "abc");
    is_text(ev(FN(DBSP_FN_TRIM, 2, T("a\xc3\xa9" "b"), T("a\xc3\xa9"))), "b");
    is_text(ev(FN(DBSP_FN_TRIM, 2, T("abc"), T(""))), "abc");
    is_null(ev(FN(DBSP_FN_TRIM, 2, T("a"), N())));

    is_text(ev(FN(DBSP_FN_REPLACE, 3, T("aaa"), T("a"), T("bb"))), "bbbbbb");
    is_text(ev(FN(DBSP_FN_REPLACE, 3, T("abcabc"), T("bc"), T(""))), "aa");
    is_int(ev(FN(DBSP_FN_REPLACE, 3, I(12), T(""), T("x"))), 12); /* s itself */
    is_null(ev(FN(DBSP_FN_REPLACE, 3, T("a"), T("a"), N())));

    is_int(ev(FN(DBSP_FN_INSTR, 2, T("h\xc3\xa9llo"), T("l"))), 3);
    is_int(ev(FN(DBSP_FN_INSTR, 2, T("abc"), T(""))), 1);
    is_int(ev(FN(DBSP_FN_INSTR, 2, T(""), T("a"))), 0);
    is_int(ev(FN(DBSP_FN_INSTR, 2, I(12345), I(34))), 3);
    /* Malformed UTF-8 as SQLite 3.40 counts it: length and substr step a
     * stray continuation byte as a character, instr skips it. */
    is_int(ev(F1(DBSP_FN_LENGTH, T("a\x80" "b"))), 3);
    is_text(ev(FN(DBSP_FN_SUBSTR, 2, T("a\x80" "b"), I(-1))), "b");
    is_text(ev(FN(DBSP_FN_SUBSTR, 2, T("a\x80" "bc"), I(3))), "bc");
    is_int(ev(FN(DBSP_FN_INSTR, 2, T("a\x80" "b"), T("b"))), 2);
    is_int(ev(FN(DBSP_FN_INSTR, 2, T("\x80" "ab"), T("b"))), 3);
    is_int(ev(FN(DBSP_FN_INSTR, 2, T("a\xc3\x80"), T("\x80"))), 0);

    is_text(ev(F1(DBSP_FN_HEX, T("ab"))), "6162");
    is_text(ev(F1(DBSP_FN_HEX, N())), "");
    is_text(ev(F1(DBSP_FN_QUOTE, T("it's"))), "'it''s'");
    is_text(ev(F1(DBSP_FN_QUOTE, N())), "NULL");
    is_text(ev(F1(DBSP_FN_QUOTE, R(0.1))), "0.1");
    is_text(ev(F1(DBSP_FN_QUOTE, R(1.0 / 3))), "3.33333333333333314829e-01");
    is_int(ev(F1(DBSP_FN_UNICODE, T("\xc3\xa9"))), 233);
    is_null(ev(F1(DBSP_FN_UNICODE, T(""))));
    is_text(ev(F1(DBSP_FN_TYPEOF, R(1))), "real");
    is_text(ev(F1(DBSP_FN_TYPEOF, N())), "null");
}

static void test_expr_numbers_and_min_max(void **state)
{
    (void)state;
    is_real(ev(F1(DBSP_FN_ROUND, R(2.5))), 3.0);
    is_real(ev(F1(DBSP_FN_ROUND, R(-2.5))), -3.0);
    is_real(ev(FN(DBSP_FN_ROUND, 2, R(1.005), I(2))), 1.01); /* SQLite's rounding */
    is_real(ev(FN(DBSP_FN_ROUND, 2, R(1234.5678), I(-1))), 1235.0);
    is_real(ev(F1(DBSP_FN_ROUND, T("3.7"))), 4.0);
    is_null(ev(FN(DBSP_FN_ROUND, 2, R(1.5), N())));
    is_int(ev(F1(DBSP_FN_SIGN, R(-2.5))), -1);
    is_int(ev(F1(DBSP_FN_SIGN, T("12"))), 1);
    is_null(ev(F1(DBSP_FN_SIGN, T("x"))));

    /* Scalar min/max: NULL wins; the last equal minimum, the first equal
     * maximum (1 and 1.0 are equal). */
    is_int(ev(FN(DBSP_FN_MIN, 3, I(3), I(1), I(2))), 1);
    is_null(ev(FN(DBSP_FN_MAX, 2, I(1), N())));
    is_real(ev(FN(DBSP_FN_MIN, 2, I(1), R(1.0))), 1.0);
    is_int(ev(FN(DBSP_FN_MAX, 2, I(1), R(1.0))), 1);
    is_text(ev(FN(DBSP_FN_MAX, 3, T("a"), T("b"), I(9))), "b");
    is_null(ev(FN(DBSP_FN_NULLIF, 2, I(1), I(1))));
    is_int(ev(FN(DBSP_FN_NULLIF, 2, I(1), N())), 1);

    /* Affinity and CAST AS NUMERIC. */
    is_int(ev(F1(DBSP_FN_NUMERIC, T(" 12 "))), 12);
    is_real(ev(F1(DBSP_FN_NUMERIC, T("1e1"))), 10.0);
    is_text(ev(F1(DBSP_FN_NUMERIC, T("12abc"))), "12abc");
    is_int(ev(F1(DBSP_FN_CAST_NUMERIC, T("12abc"))), 12);
    is_int(ev(F1(DBSP_FN_CAST_NUMERIC, T("3.0"))), 3);
    is_real(ev(F1(DBSP_FN_CAST_NUMERIC, R(3.0))), 3.0);
    is_real(ev(F1(DBSP_FN_CAST_NUMERIC, T("1e20"))), 1e20);
}

static void test_expr_bitwise(void **state)
{
    (void)state;
    is_int(ev(B(DBSP_X_BITAND, I(5), I(3))), 1);
    is_int(ev(B(DBSP_X_BITOR, I(5), I(3))), 7);
    is_int(ev(U(DBSP_X_BITNOT, I(5))), -6);
    is_int(ev(B(DBSP_X_LSHIFT, I(1), I(63))), INT64_MIN);
    is_int(ev(B(DBSP_X_LSHIFT, I(1), I(64))), 0);
    is_int(ev(B(DBSP_X_RSHIFT, I(-8), I(1))), -4);
    is_int(ev(B(DBSP_X_RSHIFT, I(-1), I(70))), -1);
    is_int(ev(B(DBSP_X_RSHIFT, I(8), I(-2))), 32);
    is_int(ev(B(DBSP_X_LSHIFT, I(1), I(-1))), 0);
    is_int(ev(B(DBSP_X_BITOR, T("12abc"), I(0))), 12);
    is_int(ev(B(DBSP_X_BITOR, R(1e30), I(0))), INT64_MAX);
    is_null(ev(B(DBSP_X_BITAND, I(5), N())));
    /* REAL % reads text operands by their leading integer, as SQLite. */
    is_real(ev(B(DBSP_X_MOD, I(-4294967296LL), T("1e3"))), 0.0);
}

static ivm_value like3(const char *s, const char *p, const char *esc)
{
    return esc ? ev(FN(DBSP_FN_LIKE, 3, T(s), T(p), T(esc))) : ev(FN(DBSP_FN_LIKE, 2, T(s), T(p)));
}

static void test_expr_like_glob(void **state)
{
    (void)state;
    is_int(like3("abc", "ABC", NULL), 1);
    is_int(like3("abc", "a_c", NULL), 1);
    is_int(like3("abc", "a_", NULL), 0);
    is_int(like3("\xc3\xa9", "_", NULL), 1);         /* one character, two bytes */
    is_int(like3("\xc3\x89", "\xc3\xa9", NULL), 0); /* non-ASCII matches exactly */
    is_int(like3("mississippi", "%ss%ss%", NULL), 1);
    is_int(like3("aab", "%a%a%a%", NULL), 0);
    is_int(like3("a%b", "a\\%b", "\\"), 1);
    is_int(like3("axb", "a\\%b", "\\"), 0);
    is_int(like3("a", "a\\", "\\"), 0); /* a trailing escape matches nothing */
    is_int(like3("10%", "10%%", "%"), 1); /* the escape beats the wildcard */
    is_null(ev(FN(DBSP_FN_LIKE, 2, N(), T("a"))));
    /* A bad escape is an error even with a NULL operand, as in SQLite. */
    ivm_value v;
    ivm_err err;
    assert_int_equal(eval_row(FN(DBSP_FN_LIKE, 3, N(), T("a"), T("xy")), no_row, &v, &err),
                     IVM_INVALID);
    assert_string_equal(err.msg, "ESCAPE expression must be a single character");

    is_int(ev(FN(DBSP_FN_GLOB, 2, T("abc"), T("a*"))), 1);
    is_int(ev(FN(DBSP_FN_GLOB, 2, T("abc"), T("A*"))), 0);
    is_int(ev(FN(DBSP_FN_GLOB, 2, T("dbc"), T("[^a-c]bc"))), 1);
    is_int(ev(FN(DBSP_FN_GLOB, 2, T("a]c"), T("a[]]c"))), 1);
    is_int(ev(FN(DBSP_FN_GLOB, 2, T("a-c"), T("a[x-]c"))), 1);
    is_int(ev(FN(DBSP_FN_GLOB, 2, T("ab"), T("[a"))), 0);
    is_int(ev(FN(DBSP_FN_GLOB, 2, T("abc"), T("*[bc]"))), 1);
}

static ivm_value pf(const char *fmt, dbsp_expr *arg)
{
    return arg ? ev(FN(DBSP_FN_PRINTF, 2, T(fmt), arg)) : ev(FN(DBSP_FN_PRINTF, 1, T(fmt)));
}

static void test_expr_printf(void **state)
{
    (void)state;
    /* Every expected text was printed by the sqlite3 3.40 shell. */
    is_text(pf("%5d|", I(42)), "   42|");
    is_text(pf("%-5d|", I(42)), "42   |");
    is_text(pf("%+ d", I(5)), " 5");
    is_text(pf("% +d", I(5)), "+5");
    is_text(pf("%,010d", I(1234567)), "0,001,234,567");
    is_text(pf("%#010x", I(255)), "0x00000000ff");
    is_text(pf("%#.5o", I(8)), "000010");
    is_text(pf("%x", I(-1)), "ffffffffffffffff");
    is_text(pf("%#p", I(255)), "0xFF");
    is_text(pf("%r", I(23)), "23rd");
    is_text(pf("%d", T("1.9e3")), "1");
    is_text(pf("%d", R(1e30)), "9223372036854775807");
    is_text(pf("%.3c", T("ab")), "aaa");
    is_text(pf("%!5c|", T("\xc3\xa9")), "    \xc3\xa9|");
    is_text(pf("%.2s", T("h\xc3\xa9llo")), "h\xc3");
    is_text(pf("%!.2s", T("h\xc3\xa9llo")), "h\xc3\xa9");
    is_text(pf("%q", T("it's")), "it''s");
    is_text(pf("%Q", N()), "NULL");
    is_text(pf("%q", N()), "(NULL)");
    is_text(pf("%w", T("a\"b")), "a\"\"b");
    is_text(pf("%.20f", R(0.1)), "0.10000000000000000000");
    is_text(pf("%!.20e", R(0.1)), "1.00000000000000005551e-01");
    is_text(pf("%.2f", R(1.005)), "1.01");
    is_text(pf("%010.3f", R(-3.14159)), "-00003.142");
    is_text(pf("%g", R(1e-5)), "1e-05");
    is_text(pf("%#g", R(1.0)), "1.00000");
    is_text(pf("%!.15g", R(2.0)), "2.0");
    is_text(pf("%G", R(1e-20)), "1E-20");
    is_text(pf("%5.1f", R(INFINITY)), "  Inf");
    is_text(pf("%+f", R(INFINITY)), "+Inf");
    is_text(pf("%5%|", NULL), "    %|");
    is_text(pf("abc%yxyz", NULL), "abc"); /* an unknown conversion ends it */
    is_text(pf("%d %s", NULL), "0 ");     /* missing arguments are NULL */
    is_text(pf("%n", NULL), "");
    is_null(pf("", NULL));                /* nothing written, nothing converted */
    is_null(pf("%hd", I(1)));
    is_null(ev(FN(DBSP_FN_PRINTF, 1, N())));
    is_text(ev(FN(DBSP_FN_PRINTF, 3, T("%*d|"), I(-5), I(42))), "42   |");
    is_text(ev(FN(DBSP_FN_PRINTF, 3, T("%.*f"), I(-2), R(3.14159))), "3.14");
}

/* ---- Construction and description -------------------------------------------------- */

static void test_expr_constructors_reject_bad_arity(void **state)
{
    (void)state;
    dbsp_expr *a[1] = {I(1)};
    assert_null(dbsp_expr_op(DBSP_X_ADD, IVM_TINT, 1, a)); /* frees a[0] */
    dbsp_expr *b[2] = {I(1), I(2)};
    assert_null(dbsp_expr_func(DBSP_FN_ABS, IVM_TINT, 2, b));
    dbsp_expr *c[2] = {I(1), NULL};
    assert_null(dbsp_expr_op(DBSP_X_ADD, IVM_TINT, 2, c)); /* a failed inner node */
    dbsp_expr *d[1] = {I(1)};
    assert_null(dbsp_expr_op(DBSP_X_CAST, IVM_TNULL, 1, d)); /* no target class */
    dbsp_expr *e[1] = {I(1)};
    assert_null(dbsp_expr_op(DBSP_X_CASE, IVM_TNULL, 1, e));
    dbsp_expr_free(NULL);
}

static void test_expr_describe_and_dup(void **state)
{
    (void)state;
    dbsp_expr *args[3] = {B(DBSP_X_GT, B(DBSP_X_ADD, C(0), I(1)), T("it's")),
                          CAST(R(2.5), IVM_TINT), N()};
    dbsp_expr *e = dbsp_expr_op(DBSP_X_CASE, IVM_TNULL, 3, args);
    graveyard[ngrave++] = e;
    const char *want = "CASE WHEN ((#0 + 1) > 'it''s') THEN CAST(2.5 AS INTEGER) ELSE NULL END";
    char buf[256];
    assert_int_equal(dbsp_expr_describe(e, buf, sizeof buf), strlen(want));
    assert_string_equal(buf, want);
    /* Truncation works like snprintf. */
    char small[8];
    assert_int_equal(dbsp_expr_describe(e, small, sizeof small), strlen(want));
    assert_string_equal(small, "CASE WH");
    dbsp_expr *d = dbsp_expr_dup(e);
    assert_non_null(d);
    graveyard[ngrave++] = d;
    char buf2[256];
    dbsp_expr_describe(d, buf2, sizeof buf2);
    assert_string_equal(buf2, want);

    dbsp_expr *f[2] = {U(DBSP_X_NOT, U(DBSP_X_ISNULL, C(3))), F1(DBSP_FN_LOWER, C(1))};
    dbsp_expr *g = dbsp_expr_func(DBSP_FN_COALESCE, IVM_TNULL, 2, f);
    graveyard[ngrave++] = g;
    dbsp_expr_describe(g, buf, sizeof buf);
    assert_string_equal(buf, "coalesce((NOT (#3 IS NULL)), lower(#1))");
}

/* ---- Sort keys ---------------------------------------------------------------- */

/* The sort key of one term: a TEXT holding no NUL. */
static ivm_value sortkey1(int flags, ivm_value v)
{
    dbsp_expr *args[2] = {dbsp_expr_const(&(ivm_value){IVM_TINT, {.i = flags}}),
                          dbsp_expr_const(&v)};
    ivm_value k = ev(dbsp_expr_func(DBSP_FN_SORTKEY, IVM_TTEXT, 2, args));
    assert_int_equal(k.type, IVM_TTEXT);
    assert_true(k.u.s.n == 0 || memchr(k.u.s.p, 0, k.u.s.n) == NULL);
    return k;
}

static int key_cmp(ivm_value a, ivm_value b)
{
    uint32_t n = a.u.s.n < b.u.s.n ? a.u.s.n : b.u.s.n;
    int c = n ? memcmp(a.u.s.p, b.u.s.p, n) : 0;
    if (c == 0)
        c = (a.u.s.n > b.u.s.n) - (a.u.s.n < b.u.s.n);
    return (c > 0) - (c < 0);
}

/* Every pair of values from a list that mixes classes, equal numbers of
 * both classes, -0.0 and integers no double holds: the keys compare as
 * ORDER BY does (dbsp_value_cmp, NULL placed by the flags, DESC reversed). */
static void test_expr_sortkey_orders_like_order_by(void **state)
{
    (void)state;
    const ivm_value vals[] = {
        ivm_value_null(), ivm_value_int(INT64_MIN), ivm_value_real(-1e300),
        ivm_value_real(-9.3e18), ivm_value_int(-2), ivm_value_real(-1.5),
        ivm_value_int(-1), ivm_value_real(-0.0), ivm_value_int(0), ivm_value_real(0.0),
        ivm_value_real(1e-300), ivm_value_int(1), ivm_value_real(1.0), ivm_value_int(2),
        ivm_value_real(9007199254740992.0), ivm_value_int(9007199254740992LL),
        ivm_value_int(9007199254740993LL), ivm_value_real(9007199254740994.0),
        ivm_value_int(INT64_MAX - 1), ivm_value_int(INT64_MAX),
        ivm_value_real(9223372036854775808.0), ivm_value_real(INFINITY),
        ivm_value_real(-INFINITY), ivm_value_text("", 0), ivm_value_text("\x01", 1),
        ivm_value_text("\x01\x01", 2), ivm_value_text("\x02", 1), ivm_value_text("a", 1),
        ivm_value_text("ab", 2), ivm_value_text("b", 1), ivm_value_text("\xff", 1),
    };
    size_t n = sizeof vals / sizeof vals[0];
    for (int flags = 0; flags < 4; flags++) {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++) {
                const ivm_value *a = &vals[i], *b = &vals[j];
                int want;
                if (a->type == IVM_TNULL || b->type == IVM_TNULL) {
                    want = a->type == b->type ? 0 : a->type == IVM_TNULL ? -1 : 1;
                    if (flags & DBSP_ORDER_NULLS_LAST)
                        want = -want;
                } else {
                    want = dbsp_value_cmp(a, b);
                    want = (want > 0) - (want < 0);
                    if (flags & DBSP_ORDER_DESC)
                        want = -want;
                }
                int got = key_cmp(sortkey1(flags, *a), sortkey1(flags, *b));
                if (got != want)
                    fprintf(stderr, "flags %d: values %zu and %zu: got %d want %d\n", flags, i,
                            j, got, want);
                assert_int_equal(got, want);
            }
            rt_arena_reset(&scratch);
            teardown(NULL);
            setup(NULL);
        }
    }
}

/* The documented encoding (sortkey.c), one byte at a time: the model the
 * staged writer must match byte for byte. */
static size_t ref_byte(uint8_t *o, size_t n, uint8_t c, bool desc)
{
    if (desc)
        c = (uint8_t)~c;
    if (c <= 1) {
        o[n++] = 1;
        o[n++] = (uint8_t)(c + 1);
    } else {
        o[n++] = c;
    }
    return n;
}

static size_t ref_key(uint8_t *o, int flags, const ivm_value *v)
{
    bool desc = (flags & DBSP_ORDER_DESC) != 0;
    size_t n = 0;
    if (v->type == IVM_TNULL || (v->type == IVM_TREAL && isnan(v->u.r)))
        return ref_byte(o, n, (flags & DBSP_ORDER_NULLS_LAST) ? 0x03 : 0x01, false);
    n = ref_byte(o, n, 0x02, false);
    if (v->type == IVM_TTEXT) {
        n = ref_byte(o, n, 0x20, desc);
        for (uint32_t i = 0; i < v->u.s.n; i++)
            n = ref_byte(o, n, (uint8_t)v->u.s.p[i], desc);
        return ref_byte(o, n, 0x00, desc);
    }
    double hi = v->type == IVM_TREAL ? v->u.r : (double)v->u.i;
    uint64_t rem = 0;
    if (v->type == IVM_TINT) {
        if (hi >= 9223372036854775808.0 || (int64_t)hi > v->u.i)
            hi = nextafter(hi, -INFINITY);
        rem = (uint64_t)(v->u.i - (int64_t)hi);
    }
    if (hi == 0.0)
        hi = 0.0;
    uint64_t u;
    memcpy(&u, &hi, sizeof u);
    u = (u & 0x8000000000000000ULL) ? ~u : (u | 0x8000000000000000ULL);
    n = ref_byte(o, n, 0x10, desc);
    for (int i = 7; i >= 0; i--)
        n = ref_byte(o, n, (uint8_t)(u >> (8 * i)), desc);
    for (int i = 1; i >= 0; i--)
        n = ref_byte(o, n, (uint8_t)(rem >> (8 * i)), desc);
    return n;
}

/* Keys are the documented bytes, for every class and flag, and for texts
 * long enough to be written in several pieces, with bytes that need
 * escaping (0x01 ascending, 0xfe and 0xff descending) at every offset. */
static void test_expr_sortkey_bytes(void **state)
{
    (void)state;
    char text[300];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)(i % 3 == 0 ? 0x01 : i % 3 == 1 ? 0xff : 0xfe);
    const ivm_value vals[] = {
        ivm_value_null(), ivm_value_real(NAN), ivm_value_int(INT64_MIN), ivm_value_int(-1),
        ivm_value_int(0), ivm_value_int(1), ivm_value_int(256), ivm_value_int(INT64_MAX),
        ivm_value_int(9007199254740993LL), ivm_value_real(-0.0), ivm_value_real(1.5),
        ivm_value_real(-INFINITY), ivm_value_text("", 0), ivm_value_text("abc", 3),
    };
    uint8_t want[2 * sizeof text + 8];
    for (int flags = 0; flags < 4; flags++) {
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            size_t n = ref_key(want, flags, &vals[i]);
            ivm_value k = sortkey1(flags, vals[i]);
            assert_int_equal(k.u.s.n, n);
            assert_memory_equal(k.u.s.p, want, n);
        }
        for (size_t len = 0; len <= sizeof text; len += len < 80 ? 1 : 37) {
            for (size_t start = 0; start < 3; start++) {
                if (start + len > sizeof text)
                    continue;
                ivm_value v = ivm_value_text(text + start, (uint32_t)len);
                size_t n = ref_key(want, flags, &v);
                ivm_value k = sortkey1(flags, v);
                assert_int_equal(k.u.s.n, n);
                assert_memory_equal(k.u.s.p, want, n);
            }
            rt_arena_reset(&scratch);
            teardown(NULL);
            setup(NULL);
        }
    }
}

/* Several terms: the first decides, the next breaks its ties; no terms
 * give the empty key; an odd argument count is refused. */
static void test_expr_sortkey_terms(void **state)
{
    (void)state;
    ivm_value row1[2] = {ivm_value_int(1), ivm_value_text("b", 1)};
    ivm_value row2[2] = {ivm_value_real(1.0), ivm_value_text("a", 1)};
    ivm_value k[2];
    for (int r = 0; r < 2; r++) {
        dbsp_expr *args[4] = {dbsp_expr_const(&(ivm_value){IVM_TINT, {.i = 0}}),
                              dbsp_expr_col(0, IVM_TNULL),
                              dbsp_expr_const(&(ivm_value){IVM_TINT, {.i = DBSP_ORDER_DESC}}),
                              dbsp_expr_col(1, IVM_TNULL)};
        ivm_err err;
        assert_int_equal(eval_row(dbsp_expr_func(DBSP_FN_SORTKEY, IVM_TTEXT, 4, args),
                                  r == 0 ? row1 : row2, &k[r], &err),
                         IVM_OK);
    }
    assert_int_equal(key_cmp(k[0], k[1]), -1); /* 1 = 1.0, then 'b' before 'a' (DESC) */
    is_text(ev(dbsp_expr_func(DBSP_FN_SORTKEY, IVM_TTEXT, 0, NULL)), "");
    dbsp_expr *one[1] = {dbsp_expr_col(0, IVM_TNULL)};
    assert_null(dbsp_expr_func(DBSP_FN_SORTKEY, IVM_TTEXT, 1, one));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expr_integer_arithmetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_overflow_gives_real, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_division_by_zero_is_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_real_modulo_uses_integers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_nan_is_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_text_in_arithmetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_comparisons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_cmp_orders_like_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_three_valued_logic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_truth_converts_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_concat_text_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_cast_follows_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_case_is_lazy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_abs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_abs_overflow_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_coalesce_length_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_reads_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_int_trees_and_their_way_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_text_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_numbers_and_min_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_bitwise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_like_glob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_printf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_substr_instr_match_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_constructors_reject_bad_arity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_describe_and_dup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_int_hint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_sortkey_orders_like_order_by, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_sortkey_terms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expr_sortkey_bytes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
