/*
 * test_limit.c: the memory limit of ivm.h (ivm_memory_limit,
 * ivm_options.memory_limit).  An engine is filled past a small limit; then
 * every statement and push that would add data must fail with IVM_NOMEM and
 * the limit's message and change nothing (an open transaction is rolled
 * back as a whole), reads, DELETE and DROP must keep working, and deleting
 * rows must bring the engine back under the limit so that inserts work
 * again.  The accounting itself is checked too: filling raises
 * ivm_memory_used, closing the engine gives it all back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivm.h"

#define ROWS_PER_INSERT 200
#define PAD 100 /* bytes of text per row */

static ivm_db *open_db(uint32_t workers, uint64_t limit)
{
    ivm_db *db = NULL;
    ivm_options o = {.workers = workers, .memory_limit = limit};
    ivm_err err;
    ivm_err_clear(&err);
    assert_int_equal(ivm_open(&o, &db, &err), IVM_OK);
    return db;
}

static ivm_rc exec(ivm_db *db, const char *sql, ivm_err *err)
{
    ivm_err_clear(err);
    return ivm_exec(db, sql, strlen(sql), 1, NULL, NULL, err);
}

static void exec_ok(ivm_db *db, const char *sql)
{
    ivm_err err;
    if (exec(db, sql, &err) != IVM_OK)
        fail_msg("%s: %s", sql, err.msg);
}

static void expect_limit_error(ivm_rc rc, const ivm_err *err)
{
    assert_int_equal(rc, IVM_NOMEM);
    if (strstr(err->msg, "memory limit exceeded: ") == NULL || strstr(err->msg, " bytes in use, limit ") == NULL)
        fail_msg("unexpected message: %s", err->msg);
}

/* An order-independent fingerprint of a relation's contents: the row count
 * and the sum of a hash of every row's values. */
typedef struct fp {
    uint64_t rows, sum;
} fp;

static uint64_t hash_value(const ivm_value *v)
{
    switch (v->type) {
    case IVM_TINT:
        return ivm_hash_bytes(&v->u.i, sizeof v->u.i, 1);
    case IVM_TREAL:
        return ivm_hash_bytes(&v->u.r, sizeof v->u.r, 2);
    case IVM_TTEXT:
        return ivm_hash_bytes(v->u.s.p, v->u.s.n, 3);
    default:
        return 4;
    }
}

static fp fingerprint(ivm_db *db, const char *name)
{
    ivm_cursor *c = NULL;
    ivm_err err;
    if (ivm_cursor_open(db, name, &c, &err) != IVM_OK)
        fail_msg("cursor on %s: %s", name, err.msg);
    fp f = {0, 0};
    uint32_t nc = ivm_cursor_column_count(c);
    while (ivm_cursor_step(c)) {
        const ivm_value *row = ivm_cursor_row(c);
        uint64_t h = 0x9e37;
        for (uint32_t i = 0; i < nc; i++)
            h = ivm_hash_mix(h ^ hash_value(&row[i]), 0xbf58476d1ce4e5b9ULL);
        f.rows++;
        f.sum += h;
    }
    ivm_cursor_close(c);
    return f;
}

static void assert_fp_equal(fp a, fp b)
{
    assert_int_equal(a.rows, b.rows);
    assert_int_equal(a.sum, b.sum);
}

/* INSERT of rows [first, first + ROWS_PER_INSERT) into t. */
static ivm_rc insert_batch(ivm_db *db, int first, ivm_err *err)
{
    static char sql[ROWS_PER_INSERT * (PAD + 40) + 64];
    size_t o = (size_t)snprintf(sql, sizeof sql, "INSERT INTO t VALUES ");
    for (int i = 0; i < ROWS_PER_INSERT; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, "%s(%d, %d, '%0*d')", i ? "," : "",
                              first + i, (first + i) % 10, PAD, first + i);
    snprintf(sql + o, sizeof sql - o, ";");
    return exec(db, sql, err);
}

/* Creates t and two views, then inserts until the limit refuses an
 * INSERT; returns the number of rows in t. */
static int fill(ivm_db *db)
{
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, g INTEGER, pad TEXT);");
    exec_ok(db, "CREATE VIEW small AS SELECT id, g FROM t WHERE id < 50;");
    exec_ok(db, "CREATE VIEW per_g AS SELECT g, COUNT(*) AS n, SUM(id) AS s FROM t GROUP BY g;");
    ivm_err err;
    int n = 0;
    for (;;) {
        fp t0 = fingerprint(db, "t"), v0 = fingerprint(db, "per_g");
        ivm_rc rc = insert_batch(db, n, &err);
        if (rc == IVM_OK) {
            n += ROWS_PER_INSERT;
            if (n > 1000000)
                fail_msg("the limit never refused an INSERT");
            continue;
        }
        expect_limit_error(rc, &err);
        /* The refused INSERT changed nothing. */
        assert_fp_equal(fingerprint(db, "t"), t0);
        assert_fp_equal(fingerprint(db, "per_g"), v0);
        assert_int_equal(t0.rows, (uint64_t)n);
        return n;
    }
}

static void test_limit_refuses_additions_and_changes_nothing(void **state)
{
    (void)state;
    uint64_t base = ivm_memory_used(NULL);
    ivm_db *db = open_db(2, base + (2u << 20));
    assert_int_equal(ivm_memory_limit(db, -1), base + (2u << 20));
    int n = fill(db);
    assert_true(n > 0);
    assert_true(ivm_memory_used(db) > ivm_memory_limit(db, -1));

    fp t0 = fingerprint(db, "t"), v0 = fingerprint(db, "per_g"), s0 = fingerprint(db, "small");
    ivm_err err;
    /* Statements that add data are refused. */
    expect_limit_error(exec(db, "INSERT INTO t VALUES (-1, 0, 'x');", &err), &err);
    expect_limit_error(exec(db, "UPDATE t SET g = g + 1 WHERE id = 3;", &err), &err);
    expect_limit_error(exec(db, "CREATE TABLE u(a INTEGER);", &err), &err);
    expect_limit_error(exec(db, "CREATE VIEW w AS SELECT g FROM t;", &err), &err);
    /* Reads work. */
    assert_int_equal(exec(db, "SELECT COUNT(*) FROM t;", &err), IVM_OK);

    /* A transaction that runs into the limit is rolled back as a whole:
     * its DELETE (allowed) goes too. */
    exec_ok(db, "BEGIN;");
    exec_ok(db, "DELETE FROM t WHERE id = 7;");
    expect_limit_error(exec(db, "INSERT INTO t VALUES (-2, 0, 'x');", &err), &err);
    assert_non_null(strstr(err.msg, "the transaction was rolled back"));
    assert_false(ivm_txn_active(db));
    assert_int_equal(exec(db, "COMMIT;", &err), IVM_INVALID);

    /* Pushes that add rows are refused the same way; removing ones work. */
    ivm_input *in = NULL;
    assert_int_equal(ivm_input_open(db, "t", &in, &err), IVM_OK);
    ivm_value key = ivm_value_int(8);
    bool deleted = false;
    assert_int_equal(ivm_input_delete(in, &key, 1, &deleted, &err), IVM_OK);
    assert_true(deleted);
    assert_true(ivm_txn_active(db));
    char pad[16];
    snprintf(pad, sizeof pad, "p");
    ivm_value row[3] = {ivm_value_int(-3), ivm_value_int(0), ivm_value_text(pad, 1)};
    expect_limit_error(ivm_input_insert(in, row, 3, &err), &err);
    assert_false(ivm_txn_active(db)); /* the delete of 8 went with it */
    expect_limit_error(ivm_input_upsert(in, row, 3, &err), &err);
    expect_limit_error(ivm_input_push(in, row, 3, 2, &err), &err);
    assert_false(ivm_txn_active(db));
    ivm_input_close(in);

    assert_fp_equal(fingerprint(db, "t"), t0);
    assert_fp_equal(fingerprint(db, "per_g"), v0);
    assert_fp_equal(fingerprint(db, "small"), s0);

    /* DROP works over the limit. */
    exec_ok(db, "DROP VIEW small;");

    /* Deleting most rows brings the engine back under the limit: tables'
     * and views' spines are merged at once at each commit while over it,
     * and a view lets go of its last step's batches at its next step (the
     * second DELETE). */
    exec_ok(db, "DELETE FROM t WHERE id >= 100;");
    exec_ok(db, "DELETE FROM t WHERE id = 99;");
    if (ivm_memory_used(db) > ivm_memory_limit(db, -1))
        fail_msg("still over the limit after deleting: %llu > %llu",
                 (unsigned long long)ivm_memory_used(db),
                 (unsigned long long)ivm_memory_limit(db, -1));
    exec_ok(db, "INSERT INTO t VALUES (-1, 0, 'x');");
    exec_ok(db, "CREATE VIEW small AS SELECT id, g FROM t WHERE id < 50;");
    assert_int_equal(fingerprint(db, "t").rows, 100);

    /* Raising the limit (or 0: none) lets additions through again. */
    assert_int_equal(ivm_memory_limit(db, 0), base + (2u << 20));
    assert_int_equal(ivm_memory_limit(db, -1), 0);
    ivm_close(db);
}

static void test_limit_accounting_returns_to_base(void **state)
{
    (void)state;
    uint64_t base = ivm_memory_used(NULL);
    ivm_db *db = open_db(3, 0);
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, g INTEGER, pad TEXT);");
    exec_ok(db, "CREATE VIEW per_g AS SELECT g, COUNT(*) AS n FROM t GROUP BY g;");
    ivm_err err;
    for (int i = 0; i < 10; i++)
        assert_int_equal(insert_batch(db, i * ROWS_PER_INSERT, &err), IVM_OK);
    /* 2000 rows of more than PAD bytes each are held at least once. */
    assert_true(ivm_memory_used(db) >= base + 10u * ROWS_PER_INSERT * PAD);
    ivm_close(db);
    assert_int_equal(ivm_memory_used(NULL), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_accounting_returns_to_base),
        cmocka_unit_test(test_limit_refuses_additions_and_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
