/*
 * test_engine_threads.c: two engines used from two threads at once stay
 * independent (ivm.h's promise).  Each sorts the same rows in the opposite
 * direction many times; results sorted with another engine's ORDER BY would
 * come out reversed (and TSan reports the shared state, as it did when the
 * sort's context was a file-level variable).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ivm.h"

#include <pthread.h>

typedef struct job {
    bool desc;
    int bad;
    int64_t prev;
    bool first;
} job;

static int check_row(void *arg, uint32_t ncols, const ivm_value *v, const char *const *names)
{
    job *j = arg;
    (void)ncols;
    (void)names;
    if (!j->first && (j->desc ? v[0].u.i > j->prev : v[0].u.i < j->prev))
        j->bad++;
    j->first = false;
    j->prev = v[0].u.i;
    return 0;
}

static void *run(void *arg)
{
    job *j = arg;
    ivm_db *db = NULL;
    ivm_options o = {.workers = 1};
    ivm_err err;
    if (ivm_open(&o, &db, &err) != IVM_OK) {
        j->bad = -1;
        return NULL;
    }
    const char *setup = "CREATE TABLE t(a INTEGER PRIMARY KEY);"
                        "INSERT INTO t VALUES (5),(1),(9),(3),(7),(2),(8),(4),(6),(0);";
    if (ivm_exec(db, setup, strlen(setup), 1, NULL, NULL, &err) != IVM_OK)
        j->bad = -1;
    const char *q = j->desc ? "SELECT a FROM t ORDER BY a DESC" : "SELECT a FROM t ORDER BY a";
    for (int i = 0; i < 300 && j->bad == 0; i++) {
        j->first = true;
        if (ivm_exec(db, q, strlen(q), 1, check_row, j, &err) != IVM_OK)
            j->bad = -1;
    }
    ivm_close(db);
    return NULL;
}

static void test_engine_two_threads_sort_independently(void **state)
{
    (void)state;
    job a = {.desc = false}, b = {.desc = true};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, run, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, run, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.bad, 0);
    assert_int_equal(b.bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_two_threads_sort_independently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
