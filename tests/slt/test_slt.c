/*
 * test_slt.c: unit tests of the sqllogictest runner's pieces that do not
 * need the engine: the script parser (records, CRLF, comments, skipif and
 * onlyif, halt, malformed scripts), value formatting by column type as the
 * reference runner prints values, rowsort and valuesort, and the SQL scanner
 * that places views (DDL names, names read, the outermost ORDER BY).  A run
 * against the engine is the corpus itself (`make slt`, `make slt-short`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "slt/slt.h"

/* ---- Scripts -------------------------------------------------------------------- */

static const char script_text[] =
    "# a comment before anything\r\n"
    "hash-threshold 4\r\n"
    "\r\n"
    "statement ok\r\n"
    "CREATE TABLE t1(a INTEGER,\r\n"
    "# a comment inside a record is skipped\r\n"
    "  b TEXT)\r\n"
    "   \r\n"
    "skipif sqlite # not for us\r\n"
    "statement ok\r\n"
    "INSERT INTO t1 VALUES(0, 'skipped')\r\n"
    "\r\n"
    "onlyif SQLite\r\n"
    "statement error\r\n"
    "SELECT nope\r\n"
    "\r\n"
    "onlyif mysql\r\n"
    "query I nosort\r\n"
    "SELECT 1 DIV 2\r\n"
    "----\r\n"
    "0\r\n"
    "\r\n"
    "query IT rowsort label-7\r\n"
    "SELECT a, b\r\n"
    "  FROM t1\r\n"
    "----\r\n"
    "1\r\n"
    "(empty)\r\n"
    "\r\n"
    "query R valuesort\r\n"
    "SELECT 1.5\r\n"
    "----\r\n"
    "9 values hashing to 0123456789abcdef0123456789abcdef\r\n"
    "\r\n"
    "query T\r\n"
    "SELECT 'no expected block'\r\n"
    "\r\n"
    "halt\r\n"
    "\r\n"
    "this is not a record and is never read\r\n";

static void test_script_parses_records(void **state)
{
    slt_script s;
    char err[200];
    assert_true(slt_script_parse(script_text, sizeof script_text - 1, "sqlite", &s, err,
                                 sizeof err));
    assert_int_equal(s.nrecs, 9);

    assert_int_equal(s.recs[0].kind, SLT_HASH_THRESHOLD);
    assert_int_equal(s.recs[0].threshold, 4);
    assert_int_equal(s.recs[0].line, 2);

    const slt_record *r = &s.recs[1];
    assert_int_equal(r->kind, SLT_STATEMENT);
    assert_false(r->expect_error);
    assert_false(r->skip);
    assert_string_equal(r->sql, "CREATE TABLE t1(a INTEGER,\n  b TEXT)");
    assert_int_equal(r->line, 4);
    assert_int_equal(r->sql_line, 5);

    assert_true(s.recs[2].skip); /* skipif sqlite */
    assert_int_equal(s.recs[2].line, 10);
    assert_false(s.recs[3].skip); /* onlyif SQLite: engine names ignore case */
    assert_true(s.recs[3].expect_error);
    assert_true(s.recs[4].skip); /* onlyif mysql */
    assert_int_equal(s.recs[4].kind, SLT_QUERY);

    r = &s.recs[5];
    assert_int_equal(r->kind, SLT_QUERY);
    assert_string_equal(r->types, "IT");
    assert_int_equal(r->sort, SLT_ROWSORT);
    assert_string_equal(r->label, "label-7");
    assert_string_equal(r->sql, "SELECT a, b\n  FROM t1");
    assert_true(r->has_expected);
    assert_int_equal(r->nexpected, 2);
    assert_string_equal(r->expected[0], "1");
    assert_string_equal(r->expected[1], "(empty)");

    r = &s.recs[6];
    assert_int_equal(r->sort, SLT_VALUESORT);
    assert_null(r->label);
    assert_int_equal(r->nexpected, 1);
    assert_string_equal(r->expected[0], "9 values hashing to 0123456789abcdef0123456789abcdef");

    r = &s.recs[7];
    assert_int_equal(r->kind, SLT_QUERY);
    assert_int_equal(r->sort, SLT_NOSORT); /* no sort mode: nosort */
    assert_false(r->has_expected);
    assert_int_equal(r->nexpected, 0);
    assert_string_equal(r->sql, "SELECT 'no expected block'");
    /* halt is the last record: the line after it is never read. */
    assert_int_equal(s.recs[8].kind, SLT_HALT);
    assert_false(s.recs[8].skip);
    slt_script_fini(&s);
}

/* The same script with LF endings parses to the same records. */
static void test_script_lf_equals_crlf(void **state)
{
    char lf[sizeof script_text];
    size_t n = 0;
    for (size_t i = 0; i < sizeof script_text - 1; i++)
        if (script_text[i] != '\r')
            lf[n++] = script_text[i];
    slt_script a, b;
    char err[200];
    assert_true(slt_script_parse(script_text, sizeof script_text - 1, "sqlite", &a, err,
                                 sizeof err));
    assert_true(slt_script_parse(lf, n, "sqlite", &b, err, sizeof err));
    assert_int_equal(a.nrecs, b.nrecs);
    for (uint32_t i = 0; i < a.nrecs; i++) {
        assert_int_equal(a.recs[i].kind, b.recs[i].kind);
        assert_int_equal(a.recs[i].line, b.recs[i].line);
        assert_int_equal(a.recs[i].skip, b.recs[i].skip);
        if (a.recs[i].sql)
            assert_string_equal(a.recs[i].sql, b.recs[i].sql);
        assert_int_equal(a.recs[i].nexpected, b.recs[i].nexpected);
        for (uint32_t k = 0; k < a.recs[i].nexpected; k++)
            assert_string_equal(a.recs[i].expected[k], b.recs[i].expected[k]);
    }
    slt_script_fini(&a);
    slt_script_fini(&b);
}

/* A halt that a skipif excludes does not stop the script; the last record
 * may end at the end of the text without a newline. */
static void test_script_skipped_halt_and_eof(void **state)
{
    static const char text[] = "onlyif mssql\nhalt\n\nstatement ok\nSELECT 1\n\n"
                               "query I nosort\nSELECT 2\n----\n2";
    slt_script s;
    char err[200];
    assert_true(slt_script_parse(text, sizeof text - 1, "sqlite", &s, err, sizeof err));
    assert_int_equal(s.nrecs, 3);
    assert_int_equal(s.recs[0].kind, SLT_HALT);
    assert_true(s.recs[0].skip);
    assert_int_equal(s.recs[2].nexpected, 1);
    assert_string_equal(s.recs[2].expected[0], "2");
    slt_script_fini(&s);
}

static void test_script_malformed(void **state)
{
    static const char *const bad[][2] = {
        {"frobnicate\nSELECT 1\n", "line 1: unknown record type 'frobnicate'"},
        {"query IX nosort\nSELECT 1\n", "line 1: unknown type character 'X' in type string"},
        {"query I bogosort\nSELECT 1\n", "line 1: unknown sort method 'bogosort'"},
        {"statement maybe\nSELECT 1\n", "line 1: statement argument should be 'ok' or 'error'"},
        {"\n\nstatement ok\n\n", "line 3: statement without SQL"},
        {"hash-threshold x\n", "line 1: hash-threshold needs a number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        slt_script s;
        char err[200];
        assert_false(slt_script_parse(bad[i][0], strlen(bad[i][0]), "sqlite", &s, err,
                                      sizeof err));
        assert_string_equal(err, bad[i][1]);
    }
}

/* ---- Formatting ----------------------------------------------------------------- */

static const char *fmt(char t, ivm_value v)
{
    static char buf[128];
    slt_format_value(t, &v, buf, sizeof buf);
    return buf;
}

static void test_format_by_column_type(void **state)
{
    ivm_value null = ivm_value_null();
    assert_string_equal(fmt('I', null), "NULL");
    assert_string_equal(fmt('R', null), "NULL");
    assert_string_equal(fmt('T', null), "NULL");

    /* I: integers as the low 32 bits (sqlite3_column_int), REALs truncated,
     * text by its leading integer. */
    assert_string_equal(fmt('I', ivm_value_int(-42)), "-42");
    assert_string_equal(fmt('I', ivm_value_int(4294967297LL)), "1");
    assert_string_equal(fmt('I', ivm_value_real(3.99)), "3");
    assert_string_equal(fmt('I', ivm_value_real(-3.99)), "-3");
    assert_string_equal(fmt('I', ivm_value_text(" 12abc", 6)), "12");
    assert_string_equal(fmt('I', ivm_value_text("abc", 3)), "0");
    assert_string_equal(fmt('I', ivm_value_text("", 0)), "0");

    /* R: three decimals, SQLite's 16 significant digits, no -0. */
    assert_string_equal(fmt('R', ivm_value_int(7)), "7.000");
    assert_string_equal(fmt('R', ivm_value_real(2.0 / 3)), "0.667");
    assert_string_equal(fmt('R', ivm_value_real(-0.0)), "0.000");
    assert_string_equal(fmt('R', ivm_value_real(-0.0001)), "-0.000");
    assert_string_equal(fmt('R', ivm_value_real(-9223372036854775808.0)),
                        "-9223372036854776000.000");
    assert_string_equal(fmt('R', ivm_value_real(-18446744073709551616.0)),
                        "-18446744073709550000.000");
    assert_string_equal(fmt('R', ivm_value_real(12345678901234.5678)), "12345678901234.570");
    assert_string_equal(fmt('R', ivm_value_real(999999999999.9999)), "1000000000000.000");
    assert_string_equal(fmt('R', ivm_value_text("1.5e1x", 6)), "15.000");
    assert_string_equal(fmt('R', ivm_value_text("x1", 2)), "0.000");

    /* T: text as is, with '@' for bytes outside printable ASCII; numbers as
     * SQLite prints them as text. */
    assert_string_equal(fmt('T', ivm_value_text("", 0)), "(empty)");
    assert_string_equal(fmt('T', ivm_value_text("a b", 3)), "a b");
    assert_string_equal(fmt('T', ivm_value_text("a\tb\x7f\xc3\xa9", 6)), "a@b@@@");
    assert_string_equal(fmt('T', ivm_value_int(-5)), "-5");
    assert_string_equal(fmt('T', ivm_value_real(1.0)), "1.0");
    assert_string_equal(fmt('T', ivm_value_real(0.1)), "0.1");
}

/* The result buffer formats rows through the row callback and notices a
 * wrong number of columns. */
static void test_result_rows(void **state)
{
    slt_result r;
    slt_result_init(&r);
    slt_result_reset(&r, "IT");
    ivm_value row[2] = {ivm_value_real(2.5), ivm_value_text("x", 1)};
    for (int i = 0; i < 1000; i++)
        assert_int_equal(slt_result_row(&r, 2, row, NULL), 0);
    assert_true(slt_result_finish(&r));
    assert_int_equal(r.nvals, 2000);
    assert_string_equal(r.vals[0], "2");
    assert_string_equal(r.vals[1999], "x");
    assert_false(r.wrong_cols);
    slt_result_reset(&r, "I");
    assert_int_not_equal(slt_result_row(&r, 2, row, NULL), 0);
    assert_true(r.wrong_cols);
    assert_int_equal(r.got_cols, 2);
    slt_result_fini(&r);
}

static void test_sort_modes(void **state)
{
    const char *rows[] = {"2", "b", "10", "a", "2", "a"};
    slt_sort_values(rows, 6, 2, SLT_ROWSORT);
    /* strcmp order, column by column: "10" < "2". */
    const char *want_rows[] = {"10", "a", "2", "a", "2", "b"};
    for (int i = 0; i < 6; i++)
        assert_string_equal(rows[i], want_rows[i]);

    const char *vals[] = {"b", "10", "a", "2"};
    slt_sort_values(vals, 4, 2, SLT_VALUESORT);
    const char *want_vals[] = {"10", "2", "a", "b"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(vals[i], want_vals[i]);

    const char *keep[] = {"b", "a"};
    slt_sort_values(keep, 2, 1, SLT_NOSORT);
    assert_string_equal(keep[0], "b");
}

/* ---- SQL scanning --------------------------------------------------------------- */

static void test_sqlscan_ddl(void **state)
{
    char name[SLT_NAME_MAX];
    bool if_;
    assert_int_equal(slt_sql_ddl("CREATE TABLE T1(a INTEGER)", name, &if_), SLT_DDL_CREATE_TABLE);
    assert_string_equal(name, "t1");
    assert_false(if_);
    assert_int_equal(slt_sql_ddl("  create temp table if not exists \"My\"\"T\" (a)", name, &if_),
                     SLT_DDL_CREATE_TABLE);
    assert_string_equal(name, "my\"t");
    assert_true(if_);
    assert_int_equal(slt_sql_ddl("CREATE VIEW v AS SELECT 1", name, &if_), SLT_DDL_CREATE_VIEW);
    assert_string_equal(name, "v");
    assert_int_equal(slt_sql_ddl("DROP VIEW IF EXISTS [view_1]", name, &if_), SLT_DDL_DROP_VIEW);
    assert_string_equal(name, "view_1");
    assert_true(if_);
    assert_int_equal(slt_sql_ddl("-- c\nDROP TABLE tab0", name, &if_), SLT_DDL_DROP_TABLE);
    assert_string_equal(name, "tab0");
    assert_int_equal(slt_sql_ddl("CREATE INDEX i ON t(a)", name, &if_), SLT_DDL_NONE);
    assert_int_equal(slt_sql_ddl("INSERT INTO t VALUES(1)", name, &if_), SLT_DDL_NONE);
    assert_int_equal(slt_sql_ddl("CREATE UNIQUE INDEX i ON t(a)", name, &if_), SLT_DDL_NONE);
}

typedef struct names {
    char text[256];
} names;

static void collect(void *arg, const char *name)
{
    names *n = arg;
    size_t k = strlen(n->text);
    snprintf(n->text + k, sizeof n->text - k, "%s%s", k ? " " : "", name);
}

static void test_sqlscan_names(void **state)
{
    names n = {""};
    slt_sql_names("SELECT a.x, 'tab9', \"Tab2\" FROM Tab1 AS a -- tab8\n"
                  "JOIN [t 3] ON 1 /* tab7 */ WHERE y IN t4",
                  collect, &n);
    assert_string_equal(n.text, "select a x tab2 from tab1 as a join t 3 on where y in t4");
}

static void test_sqlscan_order_by(void **state)
{
    const char *t;
    size_t n;
    bool ord;
    assert_false(slt_sql_order_by("SELECT a FROM t", &t, &n, &ord));
    assert_false(slt_sql_order_by("SELECT (SELECT a FROM u ORDER BY 1) FROM t", &t, &n, &ord));

    assert_true(slt_sql_order_by("SELECT a, b FROM t\n ORDER BY 2, 1 DESC\n", &t, &n, &ord));
    assert_int_equal(n, strlen("2, 1 DESC"));
    assert_memory_equal(t, "2, 1 DESC", n);
    assert_true(ord);

    assert_true(slt_sql_order_by("SELECT a FROM t ORDER BY a LIMIT 3", &t, &n, &ord));
    assert_memory_equal(t, "a", n);
    assert_int_equal(n, 1);
    assert_false(ord);

    assert_true(slt_sql_order_by("SELECT x FROM (SELECT a AS x FROM t ORDER BY a) ORDER BY 1;",
                                 &t, &n, &ord));
    assert_int_equal(n, 1);
    assert_true(ord);

    assert_true(slt_sql_order_by("SELECT a FROM t ORDER BY 1+1", &t, &n, &ord));
    assert_false(ord);
    assert_true(slt_sql_order_by("SELECT a FROM t ORDER BY 1,", &t, &n, &ord));
    assert_false(ord);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_parses_records),
        cmocka_unit_test(test_script_lf_equals_crlf),
        cmocka_unit_test(test_script_skipped_halt_and_eof),
        cmocka_unit_test(test_script_malformed),
        cmocka_unit_test(test_format_by_column_type),
        cmocka_unit_test(test_result_rows),
        cmocka_unit_test(test_sort_modes),
        cmocka_unit_test(test_sqlscan_ddl),
        cmocka_unit_test(test_sqlscan_names),
        cmocka_unit_test(test_sqlscan_order_by),
    };
    return cmocka_run_group_tests_name("slt/runner", tests, NULL, NULL);
}
