/*
 * test_api.c: the C input API of ivm.h: input handles (push with weights,
 * insert, delete and upsert by key), commit and rollback, cursors and
 * subscriptions.  Every constraint failure must leave the contents exactly
 * as they were, and the deltas a subscription receives must equal the
 * difference between a view's contents before and after each commit, over
 * a random stream of pushes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivm.h"

/* ---- Helpers ------------------------------------------------------------------ */

static ivm_db *open_db(uint32_t workers)
{
    ivm_db *db = NULL;
    ivm_options o = {.workers = workers};
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_open(&o, &db, &err), IVM_OK);
    return db;
}

static void exec_ok(ivm_db *db, const char *sql)
{
    ivm_err err;
    ivm_err_clear(&err);
    ivm_rc rc = ivm_exec(db, sql, strlen(sql), 1, NULL, NULL, &err);
    if (rc != IVM_OK)
        fail_msg("%s: %s", sql, err.msg);
}

/* A row as text: "1|ann|NULL". */
static void row_str(const ivm_value *v, uint32_t n, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n && o < cap; i++) {
        const char *sep = i ? "|" : "";
        char num[40];
        switch (v[i].type) {
        case IVM_TINT:
            o += (size_t)snprintf(buf + o, cap - o, "%s%lld", sep, (long long)v[i].u.i);
            break;
        case IVM_TREAL:
            ivm_format_real(v[i].u.r, num, sizeof num);
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", sep, num);
            break;
        case IVM_TTEXT:
            o += (size_t)snprintf(buf + o, cap - o, "%s%.*s", sep, (int)v[i].u.s.n, v[i].u.s.p);
            break;
        default:
            o += (size_t)snprintf(buf + o, cap - o, "%sNULL", sep);
        }
    }
}

/* A multiset of rows as text with counts. */
#define MS_MAX 4096
typedef struct mset {
    char *row[MS_MAX];
    int64_t w[MS_MAX];
    size_t n;
} mset;

static void ms_clear(mset *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->row[i]);
    m->n = 0;
}

static void ms_add(mset *m, const char *row, int64_t w)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->row[i], row) == 0) {
            m->w[i] += w;
            return;
        }
    assert_true(m->n < MS_MAX);
    m->row[m->n] = strdup(row);
    m->w[m->n++] = w;
}

static int64_t ms_get(const mset *m, const char *row)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->row[i], row) == 0)
            return m->w[i];
    return 0;
}

/* Reads relation name through a cursor into m (cleared first). */
static void read_rel(ivm_db *db, const char *name, mset *m)
{
    ms_clear(m);
    ivm_cursor *c = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    if (ivm_cursor_open(db, name, &c, &err) != IVM_OK)
        fail_msg("cursor %s: %s", name, err.msg);
    uint64_t n = 0;
    while (ivm_cursor_step(c)) {
        char buf[2048]; /* whole rows of texts up to about 2 KB */
        row_str(ivm_cursor_row(c), ivm_cursor_column_count(c), buf, sizeof buf);
        ms_add(m, buf, 1);
        n++;
    }
    assert_null(ivm_cursor_row(c));
    assert_false(ivm_cursor_step(c));
    assert_int_equal(n, ivm_cursor_count(c));
    ivm_cursor_close(c);
}

/* The rows of name as one sorted string "a\nb\n", for equality checks. */
static char *dump(ivm_db *db, const char *name)
{
    mset *m = calloc(1, sizeof *m);
    read_rel(db, name, m);
    size_t cap = 16;
    for (size_t i = 0; i < m->n; i++)
        cap += (strlen(m->row[i]) + 24) * (size_t)(m->w[i] > 0 ? 1 : 0);
    char *out = calloc(1, cap);
    /* sort by text */
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = i + 1; j < m->n; j++)
            if (strcmp(m->row[i], m->row[j]) > 0) {
                char *t = m->row[i];
                m->row[i] = m->row[j];
                m->row[j] = t;
                int64_t w = m->w[i];
                m->w[i] = m->w[j];
                m->w[j] = w;
            }
    size_t o = 0;
    for (size_t i = 0; i < m->n; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s x%lld\n", m->row[i], (long long)m->w[i]);
    ms_clear(m);
    free(m);
    return out;
}

static void assert_dump(ivm_db *db, const char *name, const char *want)
{
    char *got = dump(db, name);
    if (strcmp(got, want) != 0)
        fail_msg("%s:\ngot:\n%swant:\n%s", name, got, want);
    free(got);
}

#define I(x) ivm_value_int(x)
#define T(s) ivm_value_text((s), (uint32_t)strlen(s))
#define N ivm_value_null()

/* ---- Input handles ----------------------------------------------------------- */

static void test_input_open_errors(void **state)
{
    (void)state;
    ivm_db *db = open_db(1);
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL);"
                "CREATE VIEW v AS SELECT name FROM t;");
    ivm_input *in = NULL, *in2 = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "nope", &in, &err), IVM_SCHEMA);
    assert_string_equal(err.msg, "no such table: nope");
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "v", &in, &err), IVM_SCHEMA);
    assert_non_null(strstr(err.msg, "view"));
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "T", &in, &err), IVM_OK);
    assert_int_equal(ivm_input_open(db, "t", &in2, &err), IVM_BUSY);
    assert_int_equal(ivm_input_column_count(in), 3);
    assert_string_equal(ivm_input_column_name(in, 1), "name");
    assert_int_equal(ivm_input_column_type(in, 2), IVM_TREAL);
    assert_int_equal(ivm_input_column_index(in, "SCORE"), 2);
    assert_int_equal(ivm_input_column_index(in, "x"), -1);
    ivm_input_close(in);
    /* Closed: another handle may open. */
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "t", &in2, &err), IVM_OK);
    ivm_input_close(in2);
    ivm_input_close(NULL);
    ivm_close(db);
}

static void test_input_push_commit_rollback(void **state)
{
    (void)state;
    ivm_db *db = open_db(2);
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL);"
                "CREATE VIEW v AS SELECT name, SUM(score) AS s FROM t GROUP BY name;");
    ivm_input *in = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "t", &in, &err), IVM_OK);
    assert_false(ivm_txn_active(db));
    ivm_value r1[] = {I(1), T("ann"), ivm_value_real(1.5)};
    ivm_value r2[] = {I(2), T("bob"), I(2)};          /* INTEGER into REAL */
    ivm_value r3[] = {T(" 3 "), T("ann"), T("4")};    /* affinity, as INSERT */
    assert_int_equal(ivm_input_insert(in, r1, 3, &err), IVM_OK);
    assert_true(ivm_txn_active(db));
    assert_int_equal(ivm_input_push(in, r2, 3, 1, &err), IVM_OK);
    assert_int_equal(ivm_input_insert(in, r3, 3, &err), IVM_OK);
    /* Converted on a copy: the caller's values stay as they were. */
    assert_int_equal(r2[2].type, IVM_TINT);
    assert_int_equal(r3[0].type, IVM_TTEXT);
    assert_int_equal(r3[2].type, IVM_TTEXT);
    /* Inside the transaction, reads see its pushes; the view is not
     * committed yet. */
    assert_dump(db, "t", "1|ann|1.5 x1\n2|bob|2.0 x1\n3|ann|4.0 x1\n");
    assert_dump(db, "v", "ann|5.5 x1\nbob|2.0 x1\n");
    ivm_commit_info ci;
    ivm_last_commit(db, &ci);
    assert_int_equal(ci.commit, 0);
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    assert_false(ivm_txn_active(db));
    ivm_last_commit(db, &ci);
    assert_int_equal(ci.commit, 1);
    assert_dump(db, "v", "ann|5.5 x1\nbob|2.0 x1\n");
    /* Rollback forgets pushes. */
    ivm_value r4[] = {I(4), T("cy"), I(1)};
    assert_int_equal(ivm_input_insert(in, r4, 3, &err), IVM_OK);
    ivm_value del[] = {I(1), T("ann"), ivm_value_real(1.5)};
    assert_int_equal(ivm_input_push(in, del, 3, -1, &err), IVM_OK);
    ivm_rollback(db);
    assert_false(ivm_txn_active(db));
    assert_int_equal(ivm_commit(db, &err), IVM_OK); /* nothing open: a no-op */
    ivm_last_commit(db, &ci);
    assert_int_equal(ci.commit, 1);
    assert_dump(db, "t", "1|ann|1.5 x1\n2|bob|2.0 x1\n3|ann|4.0 x1\n");
    /* Pushes and SQL statements share the transaction. */
    assert_int_equal(ivm_input_insert(in, r4, 3, &err), IVM_OK);
    exec_ok(db, "DELETE FROM t WHERE id = 2;");
    assert_true(ivm_txn_active(db));
    ivm_err_clear(&err);
    const char *dup = "INSERT INTO t VALUES (4, 'dup', 0);";
    assert_int_equal(ivm_exec(db, dup, strlen(dup), 1, NULL, NULL, &err), IVM_CONSTRAINT);
    exec_ok(db, "COMMIT;");
    assert_dump(db, "v", "ann|5.5 x1\ncy|1.0 x1\n");
    ivm_input_close(in);
    ivm_close(db);
}

static void test_input_failures_change_nothing(void **state)
{
    (void)state;
    ivm_db *db = open_db(1);
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER);"
                "INSERT INTO t VALUES (1, 'a', 10), (2, 'b', 20);"
                "CREATE TABLE m(x INTEGER, y TEXT);"
                "INSERT INTO m VALUES (1, 'p'), (1, 'p');"
                "CREATE TABLE k(name TEXT PRIMARY KEY, v INTEGER);"
                "INSERT INTO k VALUES ('0123456789', 1);");
    ivm_input *in = NULL, *im = NULL, *ik = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "t", &in, &err), IVM_OK);
    assert_int_equal(ivm_input_open(db, "m", &im, &err), IVM_OK);
    assert_int_equal(ivm_input_open(db, "k", &ik, &err), IVM_OK);
    const char *before = "1|a|10 x1\n2|b|20 x1\n";
    struct {
        ivm_value row[4];
        uint32_t n;
        int64_t w;
        ivm_rc rc;
        const char *msg;
    } bad[] = {
        {{I(1), T("z"), I(0)}, 3, 1, IVM_CONSTRAINT, "UNIQUE constraint failed: t.id"},
        {{I(3), T("a"), I(0)}, 3, 1, IVM_CONSTRAINT, "UNIQUE constraint failed: t.name"},
        {{I(3), N, I(0)}, 3, 1, IVM_CONSTRAINT, "NOT NULL constraint failed: t.name"},
        {{N, T("q"), I(0)}, 3, 1, IVM_CONSTRAINT, "NOT NULL constraint failed: t.id"},
        {{I(3), T("q"), T("x1")}, 3, 1, IVM_INVALID, "cannot store a TEXT value in INTEGER column t.n"},
        {{I(3), T("q")}, 2, 1, IVM_INVALID, "table t has 3 columns but 2 values were supplied"},
        {{I(3), T("q"), I(0)}, 3, 0, IVM_INVALID, "a push needs a weight other than 0"},
        {{I(3), T("q"), I(0)}, 3, 2, IVM_CONSTRAINT, "UNIQUE constraint failed: t.id"},
        {{I(1), T("a"), I(11)}, 3, -1, IVM_CONSTRAINT, "cannot delete (1, 'a', 11) from t: the table holds 0 of it"},
        {{I(1), T("a"), I(10)}, 3, -2, IVM_CONSTRAINT, "cannot delete (1, 'a', 10) from t: the table holds 1 of it"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ivm_err_clear(&err);
        ivm_rc rc = ivm_input_push(in, bad[i].row, bad[i].n, bad[i].w, &err);
        if (rc != bad[i].rc || strcmp(err.msg, bad[i].msg) != 0)
            fail_msg("case %zu: rc %d msg \"%s\"", i, rc, err.msg);
        assert_dump(db, "t", before);
    }
    /* Text with a NUL byte, early, past the first 8 bytes or last (text
     * stored as it is is checked as it is encoded, 8 bytes at a time),
     * or read by a conversion: refused, nothing staged. */
    static const struct {
        const char *p;
        uint32_t n;
    } nuls[] = {{"a\0b", 3}, {"0123456789\0abcdef", 17}, {"01234567\0", 9}, {"\0", 1}};
    for (size_t i = 0; i < sizeof nuls / sizeof nuls[0]; i++) {
        ivm_value nul[] = {I(5), ivm_value_text(nuls[i].p, nuls[i].n), I(0)};
        ivm_err_clear(&err);
        assert_int_equal(ivm_input_insert(in, nul, 3, &err), IVM_INVALID);
        assert_string_equal(err.msg, "text for t.name holds a NUL byte");
        ivm_err_clear(&err);
        assert_int_equal(ivm_input_upsert(in, nul, 3, &err), IVM_INVALID);
        assert_string_equal(err.msg, "text for t.name holds a NUL byte");
        ivm_value nuln[] = {I(5), T("ok"), ivm_value_text(nuls[i].p, nuls[i].n)};
        ivm_err_clear(&err);
        assert_int_equal(ivm_input_insert(in, nuln, 3, &err), IVM_INVALID);
        assert_string_equal(err.msg, "text for t.n holds a NUL byte");
        ivm_value nulm[] = {I(5), ivm_value_text(nuls[i].p, nuls[i].n)};
        ivm_err_clear(&err);
        assert_int_equal(ivm_input_push(im, nulm, 2, 1, &err), IVM_INVALID);
        assert_string_equal(err.msg, "text for m.y holds a NUL byte");
        assert_dump(db, "t", before);
        assert_dump(db, "m", "1|p x2\n");
    }
    ivm_value nulkey[] = {ivm_value_text("0123456789\0", 11)};
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_delete(ik, nulkey, 1, NULL, &err), IVM_INVALID);
    assert_string_equal(err.msg, "text for k.name holds a NUL byte");
    assert_dump(db, "k", "0123456789|1 x1\n");
    /* Collisions with the transaction's own pushes count too. */
    ivm_value ok3[] = {I(3), T("c"), I(30)};
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_insert(in, ok3, 3, &err), IVM_OK);
    ivm_value dup3[] = {I(3), T("d"), I(0)};
    ivm_value dupc[] = {I(4), T("c"), I(0)};
    assert_int_equal(ivm_input_insert(in, dup3, 3, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_insert(in, dupc, 3, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    /* Deleting then inserting the same key within the transaction is fine. */
    ivm_value del1[] = {I(1), T("a"), I(10)};
    ivm_value new1[] = {I(1), T("a2"), I(11)};
    assert_int_equal(ivm_input_push(in, del1, 3, -1, &err), IVM_OK);
    assert_int_equal(ivm_input_insert(in, new1, 3, &err), IVM_OK);
    assert_int_equal(ivm_input_push(in, del1, 3, -1, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    /* A table without a key is a multiset: weights add copies. */
    ivm_value p[] = {I(1), T("p")};
    assert_int_equal(ivm_input_push(im, p, 2, 3, &err), IVM_OK);
    assert_int_equal(ivm_input_push(im, p, 2, -5, &err), IVM_OK);
    assert_int_equal(ivm_input_push(im, p, 2, -1, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    bool deleted = true;
    assert_int_equal(ivm_input_delete(im, p, 1, &deleted, &err), IVM_SCHEMA);
    assert_string_equal(err.msg, "table m has no PRIMARY KEY");
    ivm_err_clear(&err);
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    assert_dump(db, "t", "1|a2|11 x1\n2|b|20 x1\n3|c|30 x1\n");
    assert_dump(db, "m", "");
    ivm_input_close(in);
    ivm_input_close(im);
    ivm_input_close(ik);
    ivm_close(db);
}

/* Pushes are encoded in one pass when every value is of its column's
 * class and the entry fits the room the input keeps; the rest (NULL, a
 * conversion, an entry larger than that room) take the general path.
 * Either way the table holds what the same rows inserted by SQL give, and
 * its PRIMARY KEY (here not the first column) finds them. */
static void test_input_one_pass_as_sql(void **state)
{
    (void)state;
    ivm_db *db = open_db(1);
    const char *cols = "(x INTEGER, r REAL, s TEXT, k TEXT PRIMARY KEY)";
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE a%s; CREATE TABLE b%s;"
             "CREATE VIEW vb AS SELECT k, x, s FROM b;", cols, cols);
    exec_ok(db, sql);
    char big[1200];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char mid[400];
    memset(mid, 'm', sizeof mid - 1);
    mid[sizeof mid - 1] = '\0';
    ivm_value rows[][4] = {
        {I(1), ivm_value_real(1.5), T("one"), T("k1")},
        {I(-9), ivm_value_real(-0.0), T(""), T("k2")},
        {I(3), N, T("null r"), T("k3")},                 /* NULL: general path */
        {I(4), I(7), T("int into real"), T("k4")},       /* converted */
        {I(5), ivm_value_real(2.25), T(mid), T("k5")},   /* past the first room */
        {I(6), ivm_value_real(3.0), T("after"), T("k6")},
        {I(7), ivm_value_real(4.0), T(big), T("k7")},    /* past the grown room */
        {I(INT64_MIN), ivm_value_real(-1e300), T("min"), T("0123456789abcdefg")},
    };
    size_t nrows = sizeof rows / sizeof rows[0];
    ivm_input *in = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "b", &in, &err), IVM_OK);
    for (size_t i = 0; i < nrows; i++) {
        ivm_err_clear(&err);
        if (ivm_input_insert(in, rows[i], 4, &err) != IVM_OK)
            fail_msg("row %zu: %s", i, err.msg);
    }
    /* A repeated key is refused after the one-pass encoding too. */
    ivm_value dup[4] = {I(99), ivm_value_real(0.5), T("dup"), T("k6")};
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_insert(in, dup, 4, &err), IVM_CONSTRAINT);
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    exec_ok(db, "INSERT INTO a VALUES (1, 1.5, 'one', 'k1'), (-9, -0.0, '', 'k2'),"
                " (3, NULL, 'null r', 'k3'), (4, 7, 'int into real', 'k4'),"
                " (6, 3.0, 'after', 'k6'),"
                " (-9223372036854775808, -1e300, 'min', '0123456789abcdefg');");
    char ins[1800];
    snprintf(ins, sizeof ins, "INSERT INTO a VALUES (5, 2.25, '%s', 'k5'), (7, 4.0, '%s', 'k7');",
             mid, big);
    exec_ok(db, ins);
    char *da = dump(db, "a"), *db_ = dump(db, "b");
    assert_string_equal(da, db_);
    free(da);
    free(db_);
    /* Deleting by key finds rows of both paths. */
    ivm_value keys[] = {T("k1"), T("k3"), T("k7"), T("0123456789abcdefg")};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        bool deleted = false;
        ivm_err_clear(&err);
        assert_int_equal(ivm_input_delete(in, &keys[i], 1, &deleted, &err), IVM_OK);
        assert_true(deleted);
    }
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    exec_ok(db, "DELETE FROM a WHERE k IN ('k1', 'k3', 'k7', '0123456789abcdefg');");
    da = dump(db, "a");
    db_ = dump(db, "b");
    assert_string_equal(da, db_);
    free(da);
    free(db_);
    char want[600];
    snprintf(want, sizeof want, "k2|-9| x1\nk4|4|int into real x1\nk5|5|%s x1\nk6|6|after x1\n",
             mid);
    assert_dump(db, "vb", want);
    ivm_input_close(in);
    ivm_close(db);
}

static void test_input_delete_upsert(void **state)
{
    (void)state;
    ivm_db *db = open_db(1);
    exec_ok(db, "CREATE TABLE t(a INTEGER, b TEXT, c TEXT UNIQUE, PRIMARY KEY (b, a));"
                "INSERT INTO t VALUES (1, 'x', 'one'), (2, 'x', 'two');");
    ivm_input *in = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "t", &in, &err), IVM_OK);
    bool deleted = false;
    /* Key in PRIMARY KEY order: (b, a); values convert like columns. */
    ivm_value k1[] = {T("x"), T("1")};
    assert_int_equal(ivm_input_delete(in, k1, 2, &deleted, &err), IVM_OK);
    assert_true(deleted);
    assert_int_equal(ivm_input_delete(in, k1, 2, &deleted, &err), IVM_OK);
    assert_false(deleted);
    ivm_value k9[] = {T("x"), I(9)};
    assert_int_equal(ivm_input_delete(in, k9, 2, &deleted, &err), IVM_OK);
    assert_false(deleted);
    assert_int_equal(ivm_input_delete(in, k9, 1, &deleted, &err), IVM_INVALID);
    ivm_err_clear(&err);
    /* Upsert: a new key inserts, an existing one replaces. */
    ivm_value u1[] = {I(1), T("x"), T("uno")};
    ivm_value u2[] = {I(2), T("x"), T("dos")};
    ivm_value u2b[] = {I(2), T("x"), T("deux")};
    assert_int_equal(ivm_input_upsert(in, u1, 3, &err), IVM_OK);
    assert_int_equal(ivm_input_upsert(in, u2, 3, &err), IVM_OK);
    assert_int_equal(ivm_input_upsert(in, u2b, 3, &err), IVM_OK);
    assert_int_equal(ivm_input_upsert(in, u2b, 3, &err), IVM_OK);
    /* A UNIQUE conflict with another row fails and changes nothing. */
    ivm_value u3[] = {I(3), T("x"), T("uno")};
    ivm_value u2c[] = {I(2), T("x"), T("uno")};
    assert_int_equal(ivm_input_upsert(in, u3, 3, &err), IVM_CONSTRAINT);
    assert_string_equal(err.msg, "UNIQUE constraint failed: t.c");
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_upsert(in, u2c, 3, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    assert_dump(db, "t", "1|x|uno x1\n2|x|deux x1\n");
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    assert_dump(db, "t", "1|x|uno x1\n2|x|deux x1\n");
    /* After the commit, delete and upsert find committed rows. */
    ivm_value k2[] = {T("x"), I(2)};
    assert_int_equal(ivm_input_delete(in, k2, 2, &deleted, &err), IVM_OK);
    assert_true(deleted);
    ivm_value u1b[] = {I(1), T("x"), T("eins")};
    assert_int_equal(ivm_input_upsert(in, u1b, 3, &err), IVM_OK);
    /* Upserted values convert like inserted ones (TEXT '5' into a). */
    ivm_value u5[] = {T("5"), T("x"), T("cinq")};
    assert_int_equal(ivm_input_upsert(in, u5, 3, &err), IVM_OK);
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    assert_dump(db, "t", "1|x|eins x1\n5|x|cinq x1\n");
    ivm_input_close(in);
    ivm_close(db);
}

/* A table without PRIMARY KEY or UNIQUE index: inserts are not tracked one
 * by one, yet a deletion sees every row the transaction inserted before
 * it, committed, flushed or only staged. */
static void test_input_keyless_insert_delete(void **state)
{
    (void)state;
    ivm_db *db = open_db(1);
    exec_ok(db, "CREATE TABLE m(x INTEGER, y TEXT);"
                "INSERT INTO m VALUES (7, 'c');"
                "CREATE VIEW v AS SELECT y, COUNT(*) AS n FROM m GROUP BY y;");
    ivm_input *in = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "m", &in, &err), IVM_OK);
    ivm_value x[] = {I(1), T("x")};
    /* Insert x, delete x, delete x again: the last one fails. */
    assert_int_equal(ivm_input_insert(in, x, 2, &err), IVM_OK);
    assert_int_equal(ivm_input_push(in, x, 2, -1, &err), IVM_OK);
    assert_int_equal(ivm_input_push(in, x, 2, -1, &err), IVM_CONSTRAINT);
    assert_string_equal(err.msg, "cannot delete (1, 'x') from m: the table holds 0 of it");
    ivm_err_clear(&err);
    /* Many inserts, then deletions of rows inserted earlier. */
    char txt[64][8];
    for (int i = 0; i < 64; i++) {
        snprintf(txt[i], sizeof txt[i], "r%d", i);
        ivm_value r[] = {I(i), T(txt[i])};
        assert_int_equal(ivm_input_push(in, r, 2, 1 + i % 3, &err), IVM_OK);
    }
    ivm_value r5[] = {I(5), T("r5")}, r6[] = {I(6), T("r6")};
    assert_int_equal(ivm_input_push(in, r5, 2, -3, &err), IVM_OK);  /* 5 % 3 = 2: 3 copies */
    assert_int_equal(ivm_input_push(in, r5, 2, -1, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_push(in, r6, 2, -1, &err), IVM_OK);
    /* Inserted again after its deletion: deletable again, once. */
    assert_int_equal(ivm_input_insert(in, x, 2, &err), IVM_OK);
    assert_int_equal(ivm_input_insert(in, r6, 2, &err), IVM_OK);
    assert_int_equal(ivm_input_push(in, x, 2, -1, &err), IVM_OK);
    assert_int_equal(ivm_input_push(in, x, 2, -1, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    /* A committed row, and one flushed into the transaction by a read. */
    ivm_value c[] = {I(7), T("c")}, y[] = {I(2), T("y")};
    assert_int_equal(ivm_input_insert(in, y, 2, &err), IVM_OK);
    free(dump(db, "m")); /* a read flushes the staged pushes */
    assert_int_equal(ivm_input_push(in, c, 2, -1, &err), IVM_OK);
    assert_int_equal(ivm_input_push(in, c, 2, -1, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_push(in, y, 2, -1, &err), IVM_OK);
    assert_int_equal(ivm_input_push(in, y, 2, -1, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_insert(in, y, 2, &err), IVM_OK);
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    mset *got = calloc(1, sizeof *got);
    read_rel(db, "m", got);
    assert_int_equal(got->n, 64 - 1 + 1); /* r5 gone, y added */
    for (int i = 0; i < 64; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d|r%d", i, i);
        assert_int_equal(ms_get(got, buf), i == 5 ? 0 : 1 + i % 3);
    }
    assert_int_equal(ms_get(got, "2|y"), 1);
    assert_int_equal(ms_get(got, "1|x"), 0);
    ms_clear(got);
    free(got);
    /* Rolled back inserts are gone for later deletions too. */
    assert_int_equal(ivm_input_insert(in, x, 2, &err), IVM_OK);
    ivm_rollback(db);
    assert_int_equal(ivm_input_push(in, x, 2, -1, &err), IVM_CONSTRAINT);
    ivm_err_clear(&err);
    ivm_rollback(db);
    ivm_input_close(in);
    ivm_close(db);
}

/* Random pushes into a table without a key and one with a PRIMARY KEY and
 * a UNIQUE column, with reads (which flush), commits and rollbacks in
 * between, against a model: every push succeeds exactly when the model
 * says the table allows it, and the contents always equal the model. */
#define RM_ROWS 24
static void test_input_random_against_model(void **state)
{
    (void)state;
    ivm_db *db = open_db(2);
    exec_ok(db, "CREATE TABLE m(x INTEGER, y TEXT);"
                "CREATE TABLE k(id INTEGER PRIMARY KEY, u INTEGER UNIQUE, z TEXT);");
    ivm_input *im = NULL, *ik = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "m", &im, &err), IVM_OK);
    assert_int_equal(ivm_input_open(db, "k", &ik, &err), IVM_OK);
    /* m's model: a count per row (x, 'y<x>'); committed copies apart. */
    int64_t mw[RM_ROWS] = {0}, mw_c[RM_ROWS] = {0};
    /* k's model: row (id, u = id % 8, z) present or not, z by version. */
    int kz[RM_ROWS], kz_c[RM_ROWS];
    for (int i = 0; i < RM_ROWS; i++)
        kz[i] = kz_c[i] = -1;
    char ytxt[RM_ROWS][8], ztxt[4][4] = {"a", "b", "c", "d"};
    for (int i = 0; i < RM_ROWS; i++)
        snprintf(ytxt[i], sizeof ytxt[i], "y%d", i);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int step = 0; step < 4000; step++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        uint32_t r = (uint32_t)(seed >> 33);
        int i = (int)(r % RM_ROWS), op = (int)((r >> 8) % 100);
        ivm_err_clear(&err);
        if (op < 40) {
            int64_t w = (int64_t)((r >> 16) % 3) + 1;
            if ((r >> 20) & 1)
                w = -w;
            ivm_value row[] = {I(i), T(ytxt[i])};
            ivm_rc rc = ivm_input_push(im, row, 2, w, &err);
            bool ok = mw[i] + w >= 0;
            if (rc != (ok ? IVM_OK : IVM_CONSTRAINT))
                fail_msg("step %d: push m %d weight %lld: rc %d", step, i, (long long)w, rc);
            if (ok)
                mw[i] += w;
        } else if (op < 85) {
            int z = (int)((r >> 16) % 4), kind = (int)((r >> 20) % 3);
            ivm_value row[] = {I(i), I(i % 8), T(ztxt[z])};
            ivm_rc rc;
            bool ok;
            if (kind == 0) { /* insert: the id and u = id % 8 must be free */
                rc = ivm_input_insert(ik, row, 3, &err);
                ok = kz[i] < 0;
                for (int j = i % 8; j < RM_ROWS && ok; j += 8)
                    ok = kz[j] < 0;
                if (ok)
                    kz[i] = z;
            } else if (kind == 1) { /* upsert: u must be free but for i */
                rc = ivm_input_upsert(ik, row, 3, &err);
                ok = true;
                for (int j = i % 8; j < RM_ROWS && ok; j += 8)
                    ok = j == i || kz[j] < 0;
                if (ok)
                    kz[i] = z;
            } else { /* delete by key */
                bool deleted = false;
                ivm_value key[] = {I(i)};
                rc = ivm_input_delete(ik, key, 1, &deleted, &err);
                ok = true;
                assert_int_equal(deleted, kz[i] >= 0);
                kz[i] = -1;
            }
            if (rc != (ok ? IVM_OK : IVM_CONSTRAINT))
                fail_msg("step %d: op %d on k %d: rc %d (%s)", step, kind, i, rc, err.msg);
        } else if (op < 93) {
            /* A read flushes the staged pushes into the transaction. */
            mset *got = calloc(1, sizeof *got);
            read_rel(db, "m", got);
            for (int j = 0; j < RM_ROWS; j++) {
                char buf[32];
                snprintf(buf, sizeof buf, "%d|%s", j, ytxt[j]);
                assert_int_equal(ms_get(got, buf), mw[j]);
            }
            read_rel(db, "k", got);
            for (int j = 0; j < RM_ROWS; j++) {
                char buf[32];
                snprintf(buf, sizeof buf, "%d|%d|%s", j, j % 8, kz[j] >= 0 ? ztxt[kz[j]] : "");
                assert_int_equal(ms_get(got, buf), kz[j] >= 0 ? 1 : 0);
            }
            ms_clear(got);
            free(got);
        } else if (op < 98) {
            assert_int_equal(ivm_commit(db, &err), IVM_OK);
            memcpy(mw_c, mw, sizeof mw);
            memcpy(kz_c, kz, sizeof kz);
        } else {
            ivm_rollback(db);
            memcpy(mw, mw_c, sizeof mw);
            memcpy(kz, kz_c, sizeof kz);
        }
    }
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    ivm_input_close(im);
    ivm_input_close(ik);
    ivm_close(db);
}

/* ---- Cursors -------------------------------------------------------------------- */

static void test_cursor_basics(void **state)
{
    (void)state;
    ivm_db *db = open_db(1);
    exec_ok(db, "CREATE TABLE t(a INTEGER, b TEXT);"
                "INSERT INTO t VALUES (2, 'y'), (1, NULL), (2, 'y');"
                "CREATE VIEW v AS SELECT a, COUNT(*) AS n FROM t GROUP BY a;");
    ivm_cursor *c = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_cursor_open(db, "nope", &c, &err), IVM_SCHEMA);
    assert_int_equal(ivm_cursor_open(db, "t", &c, &err), IVM_OK);
    assert_int_equal(ivm_cursor_column_count(c), 2);
    assert_string_equal(ivm_cursor_column_name(c, 1), "b");
    assert_null(ivm_cursor_column_name(c, 2));
    assert_null(ivm_cursor_row(c));
    assert_int_equal(ivm_cursor_count(c), 3);
    /* Row order: by value; the duplicate comes twice. */
    const char *want[] = {"1|NULL", "2|y", "2|y"};
    for (int i = 0; i < 3; i++) {
        assert_true(ivm_cursor_step(c));
        char buf[64];
        row_str(ivm_cursor_row(c), 2, buf, sizeof buf);
        assert_string_equal(buf, want[i]);
    }
    assert_false(ivm_cursor_step(c));
    assert_false(ivm_cursor_step(c));
    /* A snapshot: later commits do not change an open cursor. */
    ivm_cursor *cv = NULL;
    assert_int_equal(ivm_cursor_open(db, "v", &cv, &err), IVM_OK);
    exec_ok(db, "DELETE FROM t;");
    ivm_close(db); /* the cursor outlives the engine */
    assert_true(ivm_cursor_step(cv));
    assert_true(ivm_cursor_step(cv));
    char buf[64];
    row_str(ivm_cursor_row(cv), 2, buf, sizeof buf);
    assert_string_equal(buf, "2|2");
    assert_false(ivm_cursor_step(cv));
    ivm_cursor_close(cv);
    ivm_cursor_close(c);
    ivm_cursor_close(NULL);
}

/* ---- Subscriptions ----------------------------------------------------------------- */

typedef struct watch {
    mset got;                /* summed deltas of the last commit */
    int calls;
    uint64_t last_commit;
    const char *name;
    bool order_ok;           /* deletions came before insertions */
    ivm_subscription *self;
    bool unsubscribe_in_callback;
} watch;

static void on_delta(void *arg, const ivm_delta *d)
{
    watch *w = arg;
    w->calls++;
    w->last_commit = d->commit;
    if (w->name != NULL && strcmp(w->name, d->name) != 0)
        w->order_ok = false;
    bool seen_plus = false;
    for (size_t r = 0; r < d->nrows; r++) {
        char buf[256];
        row_str(&d->vals[r * d->ncols], d->ncols, buf, sizeof buf);
        assert_true(d->weights[r] != 0);
        if (d->weights[r] > 0)
            seen_plus = true;
        else if (seen_plus)
            w->order_ok = false;
        ms_add(&w->got, buf, d->weights[r]);
    }
    if (w->unsubscribe_in_callback)
        ivm_unsubscribe(w->self);
}

/* The deltas of every commit equal after - before, for random pushes
 * (inserts, deletes, upserts, weights) into two tables read by a join and
 * aggregate view, over several commits and rollbacks. */
static void test_subscribe_deltas_equal_differences(void **state)
{
    (void)state;
    for (uint32_t workers = 1; workers <= 3; workers += 2) {
        ivm_db *db = open_db(workers);
        exec_ok(db, "CREATE TABLE o(id INTEGER PRIMARY KEY, cust INTEGER, amt INTEGER);"
                    "CREATE TABLE c(cid INTEGER, region TEXT);"
                    "CREATE VIEW v AS SELECT region, COUNT(*) AS n, SUM(amt) AS s "
                    "FROM o JOIN c ON o.cust = c.cid GROUP BY region;"
                    "CREATE VIEW big AS SELECT id, amt FROM o WHERE amt > 50;");
        ivm_input *io = NULL, *ic = NULL;
        ivm_err err;
        ivm_err_clear(&err);
        assert_int_equal(ivm_input_open(db, "o", &io, &err), IVM_OK);
        assert_int_equal(ivm_input_open(db, "c", &ic, &err), IVM_OK);
        static watch wv, wb;
        memset(&wv, 0, sizeof wv);
        memset(&wb, 0, sizeof wb);
        wv.name = "v";
        wb.name = "big";
        wv.order_ok = wb.order_ok = true;
        ivm_subscription *sv = NULL, *sb = NULL;
        assert_int_equal(ivm_subscribe(db, "v", on_delta, &wv, &sv, &err), IVM_OK);
        assert_int_equal(ivm_subscribe(db, "big", on_delta, &wb, &sb, &err), IVM_OK);
        assert_int_equal(ivm_subscribe(db, "nope", on_delta, &wb, &sb, &err), IVM_SCHEMA);
        ivm_err_clear(&err);
        static mset before_v, after_v, before_b, after_b;
        read_rel(db, "v", &before_v);
        read_rel(db, "big", &before_b);
        srand(7 + workers);
        int commits = 0;
        for (int round = 0; round < 30; round++) {
            ms_clear(&wv.got);
            ms_clear(&wb.got);
            int calls_v = wv.calls, calls_b = wb.calls;
            int npush = 1 + rand() % 12;
            for (int k = 0; k < npush; k++) {
                int op = rand() % 6;
                ivm_err_clear(&err);
                if (op <= 1) {
                    ivm_value r[] = {I(rand() % 20), I(rand() % 5), I(rand() % 100)};
                    ivm_input_insert(io, r, 3, &err); /* may collide: then nothing */
                } else if (op == 2) {
                    ivm_value k1[] = {I(rand() % 20)};
                    assert_int_equal(ivm_input_delete(io, k1, 1, NULL, &err), IVM_OK);
                } else if (op == 3) {
                    ivm_value r[] = {I(rand() % 20), I(rand() % 5), I(rand() % 100)};
                    assert_int_equal(ivm_input_upsert(io, r, 3, &err), IVM_OK);
                } else {
                    const char *regions[] = {"n", "s", "e"};
                    const char *rg = regions[rand() % 3];
                    ivm_value r[] = {I(rand() % 5), T(rg)};
                    int64_t w = op == 4 ? 1 + rand() % 2 : -1;
                    ivm_input_push(ic, r, 2, w, &err); /* a delete may find nothing */
                }
            }
            if (rand() % 5 == 0) {
                ivm_rollback(db);
                continue;
            }
            assert_int_equal(ivm_commit(db, &err), IVM_OK);
            commits++;
            read_rel(db, "v", &after_v);
            read_rel(db, "big", &after_b);
            /* delta == after - before, row by row. */
            struct {
                mset *before, *after;
                watch *w;
                int calls;
            } chk[] = {{&before_v, &after_v, &wv, calls_v}, {&before_b, &after_b, &wb, calls_b}};
            for (int j = 0; j < 2; j++) {
                bool changed = false;
                for (size_t i = 0; i < chk[j].after->n; i++) {
                    const char *row = chk[j].after->row[i];
                    int64_t diff = chk[j].after->w[i] - ms_get(chk[j].before, row);
                    changed |= diff != 0;
                    if (ms_get(&chk[j].w->got, row) != diff)
                        fail_msg("round %d, %s: row %s: delta %lld, difference %lld", round,
                                 chk[j].w->name, row, (long long)ms_get(&chk[j].w->got, row),
                                 (long long)diff);
                }
                for (size_t i = 0; i < chk[j].before->n; i++) {
                    const char *row = chk[j].before->row[i];
                    int64_t diff = ms_get(chk[j].after, row) - chk[j].before->w[i];
                    changed |= diff != 0;
                    assert_int_equal(ms_get(&chk[j].w->got, row), diff);
                }
                for (size_t i = 0; i < chk[j].w->got.n; i++)
                    if (chk[j].w->got.w[i] != 0)
                        assert_int_equal(chk[j].w->got.w[i],
                                         ms_get(chk[j].after, chk[j].w->got.row[i]) -
                                             ms_get(chk[j].before, chk[j].w->got.row[i]));
                /* One call per commit that changes the view, none otherwise. */
                assert_int_equal(chk[j].w->calls - chk[j].calls, changed ? 1 : 0);
                assert_true(chk[j].w->order_ok);
                mset tmp = *chk[j].before;
                *chk[j].before = *chk[j].after;
                *chk[j].after = tmp;
            }
        }
        assert_true(commits > 10);
        assert_true(wv.calls > 5);
        /* Unsubscribing (also from inside the callback) stops the calls. */
        ivm_unsubscribe(sv);
        wb.unsubscribe_in_callback = true;
        wb.self = sb;
        int cv = wv.calls, cb = wb.calls;
        for (int k = 0; k < 2; k++) {
            ivm_value r[] = {I(100 + k), I(1), I(99)};
            assert_int_equal(ivm_input_insert(io, r, 3, &err), IVM_OK);
            assert_int_equal(ivm_commit(db, &err), IVM_OK);
        }
        assert_int_equal(wv.calls, cv);
        assert_int_equal(wb.calls, cb + 1);
        ms_clear(&wv.got);
        ms_clear(&wb.got);
        ms_clear(&before_v);
        ms_clear(&after_v);
        ms_clear(&before_b);
        ms_clear(&after_b);
        ivm_input_close(io);
        ivm_input_close(ic);
        ivm_close(db);
    }
}

/* Commits through SQL reach subscriptions too; a subscription left open
 * and an input left open are freed by ivm_close. */
static void test_subscribe_sql_commits(void **state)
{
    (void)state;
    ivm_db *db = open_db(1);
    exec_ok(db, "CREATE TABLE t(a INTEGER);"
                "CREATE VIEW v AS SELECT a * 2 AS d FROM t;");
    static watch w;
    memset(&w, 0, sizeof w);
    w.order_ok = true;
    ivm_subscription *s = NULL;
    ivm_input *in = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_subscribe(db, "v", on_delta, &w, &s, &err), IVM_OK);
    exec_ok(db, "INSERT INTO t VALUES (1), (2);");
    assert_int_equal(w.calls, 1);
    assert_int_equal(ms_get(&w.got, "2"), 1);
    assert_int_equal(ms_get(&w.got, "4"), 1);
    ms_clear(&w.got);
    exec_ok(db, "BEGIN; UPDATE t SET a = 3 WHERE a = 1; COMMIT;");
    assert_int_equal(w.calls, 2);
    assert_int_equal(ms_get(&w.got, "2"), -1);
    assert_int_equal(ms_get(&w.got, "6"), 1);
    assert_true(w.order_ok);
    ivm_commit_info ci;
    ivm_last_commit(db, &ci);
    assert_int_equal(w.last_commit, ci.commit);
    ms_clear(&w.got);
    assert_int_equal(ivm_input_open(db, "t", &in, &err), IVM_OK);
    ivm_value r[] = {I(5)};
    assert_int_equal(ivm_input_insert(in, r, 1, &err), IVM_OK);
    ivm_close(db); /* rolls back; frees s and in */
    assert_int_equal(w.calls, 2);
}

/* A table no view reads has its delta made only for subscriptions: a
 * subscription on it still sees every commit's change, and views on
 * other tables stay right while it takes rows nobody reads. */
static void test_subscribe_table_no_view_reads(void **state)
{
    (void)state;
    ivm_db *db = open_db(1);
    exec_ok(db, "CREATE TABLE a(x INTEGER);"
                "CREATE TABLE b(y INTEGER);"
                "CREATE VIEW vb AS SELECT y + 1 AS z FROM b;");
    ivm_input *ia = NULL, *ib = NULL;
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_input_open(db, "a", &ia, &err), IVM_OK);
    assert_int_equal(ivm_input_open(db, "b", &ib, &err), IVM_OK);
    ivm_value r1[] = {I(1)}, r2[] = {I(2)};
    assert_int_equal(ivm_input_insert(ia, r1, 1, &err), IVM_OK);
    assert_int_equal(ivm_input_insert(ib, r1, 1, &err), IVM_OK);
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    static watch w;
    memset(&w, 0, sizeof w);
    w.name = "a";
    w.order_ok = true;
    ivm_subscription *s = NULL;
    assert_int_equal(ivm_subscribe(db, "a", on_delta, &w, &s, &err), IVM_OK);
    assert_int_equal(ivm_input_insert(ia, r2, 1, &err), IVM_OK);
    assert_int_equal(ivm_input_push(ia, r1, 1, -1, &err), IVM_OK);
    assert_int_equal(ivm_input_insert(ib, r2, 1, &err), IVM_OK);
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    assert_int_equal(w.calls, 1);
    assert_true(w.order_ok);
    assert_int_equal(ms_get(&w.got, "2"), 1);
    assert_int_equal(ms_get(&w.got, "1"), -1);
    ivm_unsubscribe(s);
    assert_int_equal(ivm_input_insert(ia, r1, 1, &err), IVM_OK);
    assert_int_equal(ivm_input_insert(ib, r1, 1, &err), IVM_OK);
    assert_int_equal(ivm_commit(db, &err), IVM_OK);
    assert_int_equal(w.calls, 1);
    assert_dump(db, "a", "1 x1\n2 x1\n");
    assert_dump(db, "vb", "2 x2\n3 x1\n");
    ms_clear(&w.got);
    ivm_input_close(ia);
    ivm_input_close(ib);
    ivm_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_open_errors),
        cmocka_unit_test(test_input_push_commit_rollback),
        cmocka_unit_test(test_input_failures_change_nothing),
        cmocka_unit_test(test_input_one_pass_as_sql),
        cmocka_unit_test(test_input_delete_upsert),
        cmocka_unit_test(test_input_keyless_insert_delete),
        cmocka_unit_test(test_input_random_against_model),
        cmocka_unit_test(test_cursor_basics),
        cmocka_unit_test(test_subscribe_deltas_equal_differences),
        cmocka_unit_test(test_subscribe_sql_commits),
        cmocka_unit_test(test_subscribe_table_no_view_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
