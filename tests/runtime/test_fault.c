/*
 * test_fault.c: unit tests of fault injection (runtime/fault.c): IVM_FAULT
 * is read lazily on first use; "proc:point@N" fires on the Nth call only and
 * "@N/M" on the Nth and every Mth after; entries count separately;
 * rt_fault_set replaces and clears the specification and rejects a bad one
 * with IVM_INVALID, keeping the old one and its counts; a bad IVM_FAULT is
 * reported on standard error once and ignored (checked in a child process);
 * counts are exact under concurrent callers, and replacing the
 * specification while others call rt_fault is safe (R10).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime.h"

/* Must run first: nothing may have called rt_fault or rt_fault_set yet. */
static void test_fault_env_is_read_on_first_use(void **state)
{
    assert_int_equal(setenv("IVM_FAULT", " envp:pt@2 , envp:other@1/3", 1), 0);
    assert_false(rt_fault("envp", "pt"));
    assert_true(rt_fault("envp", "pt"));
    assert_false(rt_fault("envp", "pt"));
    assert_true(rt_fault("envp", "other"));
    assert_false(rt_fault("envp", "other"));
    assert_false(rt_fault("envp", "other"));
    assert_true(rt_fault("envp", "other"));
    /* Changing the environment later changes nothing: it is read once. */
    assert_int_equal(setenv("IVM_FAULT", "envp:pt@1/1", 1), 0);
    assert_false(rt_fault("envp", "pt"));
    unsetenv("IVM_FAULT");
}

static void test_fault_fires_on_nth_call_only(void **state)
{
    assert_int_equal(rt_fault_set("merger:fail@3"), IVM_OK);
    for (int i = 1; i <= 100; i++)
        assert_int_equal(rt_fault("merger", "fail"), i == 3);
    assert_int_equal(rt_fault_set(NULL), IVM_OK);
}

static void test_fault_fires_periodically(void **state)
{
    assert_int_equal(rt_fault_set("p:q@3/4"), IVM_OK);
    int fired = 0;
    for (int i = 1; i <= 40; i++) {
        bool want = i == 3 || i == 7 || i == 11 || i == 15 || i == 19 || i == 23 ||
                    i == 27 || i == 31 || i == 35 || i == 39;
        bool got = rt_fault("p", "q");
        assert_int_equal(got, want);
        fired += got;
    }
    assert_int_equal(fired, 10);
    assert_int_equal(rt_fault_set("p:q@1/1"), IVM_OK);
    for (int i = 0; i < 10; i++)
        assert_true(rt_fault("p", "q"));
    assert_int_equal(rt_fault_set(""), IVM_OK);
}

static void test_fault_points_count_separately(void **state)
{
    assert_int_equal(rt_fault_set("a:b@1,a:c@2,x:b@1"), IVM_OK);
    assert_false(rt_fault("a", "c"));
    assert_true(rt_fault("a", "b"));
    assert_false(rt_fault("a", "b"));
    assert_true(rt_fault("a", "c"));
    assert_true(rt_fault("x", "b"));
    for (int i = 0; i < 5; i++) {
        assert_false(rt_fault("a", "d"));
        assert_false(rt_fault("b", "a"));
        assert_false(rt_fault("", ""));
    }
    assert_int_equal(rt_fault_set(NULL), IVM_OK);
}

static void test_fault_set_replaces_and_clears(void **state)
{
    assert_int_equal(rt_fault_set("r:s@2"), IVM_OK);
    assert_false(rt_fault("r", "s"));
    /* A new specification starts its counts from zero. */
    assert_int_equal(rt_fault_set("r:s@2"), IVM_OK);
    assert_false(rt_fault("r", "s"));
    assert_true(rt_fault("r", "s"));
    assert_int_equal(rt_fault_set("r:s@1/1"), IVM_OK);
    assert_true(rt_fault("r", "s"));
    assert_int_equal(rt_fault_set(NULL), IVM_OK);
    for (int i = 0; i < 5; i++)
        assert_false(rt_fault("r", "s"));
    assert_int_equal(rt_fault_set("r:s@1/1"), IVM_OK);
    assert_int_equal(rt_fault_set("  "), IVM_OK);
    assert_false(rt_fault("r", "s"));
}

static void test_fault_bad_spec_is_rejected_and_old_kept(void **state)
{
    static const char *const bad[] = {
        "a:b@0",  "ab@1",    "a:@1",      ":b@1",   "a:b",       "a:b@",   "a:b@1/0",
        "a:b@1x", "a:b@1,",  ",a:b@1",    "a:b@-1", "a:b:c@1",   "a b:c@1", "a:b@1/",
        "a:b@1 2", "a:b@99999999999999999999999", "a:b@1,,c:d@1",
    };
    assert_int_equal(rt_fault_set("keep:me@2"), IVM_OK);
    assert_false(rt_fault("keep", "me"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rt_fault_set(bad[i]), IVM_INVALID);
    /* The old specification is still in force, with its count. */
    assert_true(rt_fault("keep", "me"));
    assert_false(rt_fault("keep", "me"));
    assert_int_equal(rt_fault_set(NULL), IVM_OK);
}

typedef struct found {
    const char *want;
    int n;
} found;

static void count_line(void *arg, const char *line)
{
    found *f = arg;
    f->n += strcmp(line, f->want) == 0;
}

static void test_fault_is_logged(void **state)
{
    assert_int_equal(rt_fault_set("logp:logq@2"), IVM_OK);
    assert_false(rt_fault("logp", "logq"));
    assert_true(rt_fault("logp", "logq"));
    found f = {"fault logp:logq@2", 0};
    rt_log_dump(count_line, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(rt_fault_set(NULL), IVM_OK);
}

/* ---- A bad IVM_FAULT, in a child process ------------------------------------ */

static const char *self_path;

/* The child's side: IVM_FAULT is bad, so nothing ever fires. */
static int child_main(void)
{
    for (int i = 0; i < 3; i++)
        if (rt_fault("a", "b") || rt_fault("x", "y"))
            return 1;
    return 0;
}

static void test_fault_bad_env_reported_once_and_ignored(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        setenv("IVM_FAULT", "a:b@1,x:y", 1);
        execl(self_path, self_path, "--bad-env-child", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[4096];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    close(fds[0]);
    buf[n] = '\0';
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* One message naming the source, the text and what would be right. */
    const char *m = strstr(buf, "IVM_FAULT: bad fault specification \"a:b@1,x:y\"");
    assert_non_null(m);
    assert_null(strstr(m + strlen("IVM_FAULT: bad"), "bad fault specification"));
    assert_non_null(strstr(buf, "proc:point@N"));
}

/* ---- Concurrency -------------------------------------------------------------- */

enum { THREADS = 4, CALLS = 2500 };

typedef struct hitter {
    atomic_int fired;
    atomic_bool go;
    const char *point;
    bool expect_all; /* every call must fire */
    atomic_int misses;
} hitter;

static void *hit_main(void *arg)
{
    hitter *h = arg;
    for (int i = 0; i < CALLS; i++) {
        bool f = rt_fault("conc", h->point);
        atomic_fetch_add(&h->fired, f);
        if (h->expect_all && !f)
            atomic_fetch_add(&h->misses, 1);
    }
    return NULL;
}

static void test_fault_counts_exactly_under_concurrency(void **state)
{
    assert_int_equal(rt_fault_set("conc:t@5/10"), IVM_OK);
    hitter h = {.point = "t"};
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hit_main, &h), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    /* Hits 5, 15, ..., 9995 of 10000: each number is taken exactly once. */
    assert_int_equal(atomic_load(&h.fired), (THREADS * CALLS - 5) / 10 + 1);
    assert_int_equal(rt_fault_set(NULL), IVM_OK);
}

static void test_fault_set_while_others_call(void **state)
{
    assert_int_equal(rt_fault_set("conc:all@1/1"), IVM_OK);
    hitter h = {.point = "all", .expect_all = true};
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hit_main, &h), 0);
    /* Every specification installed here fires on every call, so no call
     * may miss, whichever one it sees. */
    for (int i = 0; i < 200; i++)
        assert_int_equal(rt_fault_set(i % 2 ? "conc:all@1/1" : "z:z@1,conc:all@1/1"), IVM_OK);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&h.misses), 0);
    assert_int_equal(atomic_load(&h.fired), THREADS * CALLS);
    assert_int_equal(rt_fault_set(NULL), IVM_OK);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--bad-env-child") == 0)
        return child_main();
    self_path = argv[0];
    alarm(120); /* a hang fails the test instead of blocking the run */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_env_is_read_on_first_use),
        cmocka_unit_test(test_fault_fires_on_nth_call_only),
        cmocka_unit_test(test_fault_fires_periodically),
        cmocka_unit_test(test_fault_points_count_separately),
        cmocka_unit_test(test_fault_set_replaces_and_clears),
        cmocka_unit_test(test_fault_bad_spec_is_rejected_and_old_kept),
        cmocka_unit_test(test_fault_is_logged),
        cmocka_unit_test(test_fault_bad_env_reported_once_and_ignored),
        cmocka_unit_test(test_fault_counts_exactly_under_concurrency),
        cmocka_unit_test(test_fault_set_while_others_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
