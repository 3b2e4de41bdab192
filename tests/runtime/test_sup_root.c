/*
 * test_sup_root.c: the root supervisor giving up (runtime/sup.c).  A child
 * supervisor that may not restart anything fails on every start of its
 * child, so it keeps failing; the root restarts it ten times, and the
 * eleventh failure within ten seconds is one too many: the root stops its
 * children, logs, and stays failed, refusing new children.  It has its own
 * program because the root cannot come back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "runtime.h"

typedef struct child {
    atomic_int starts;
    atomic_bool fail;
} child;

static ivm_rc child_start(rt_proc *p, void *arg)
{
    child *c = arg;
    atomic_fetch_add(&c->starts, 1);
    return atomic_load(&c->fail) ? IVM_IO : IVM_OK;
}

static void child_stop(rt_proc *p, void *arg)
{
    rt_proc_exit(p, RT_EXIT_SHUTDOWN, NULL);
}

typedef struct seen {
    const char *want;
    int n;
} seen;

static void seen_fn(void *arg, const char *line)
{
    seen *s = arg;
    s->n += strstr(line, s->want) != NULL;
}

static int log_count(const char *want)
{
    seen s = {want, 0};
    rt_log_dump(seen_fn, &s);
    return s.n;
}

typedef struct rootinfo {
    rt_proc_info root, x;
} rootinfo;

static void info_fn(void *arg, const rt_proc_info *info)
{
    rootinfo *r = arg;
    if (strcmp(info->name, "root") == 0)
        r->root = *info;
    if (strcmp(info->name, "root/x") == 0)
        r->x = *info;
}

static void test_sup_root_gives_up_and_stays_failed(void **state)
{
    rt_sup *root = rt_root();
    assert_non_null(root);
    assert_true(rt_sup_alive(root));
    rt_sup *x;
    assert_int_equal(rt_sup_new(NULL, "x", RT_ONE_FOR_ONE, 0, 60000, &x), IVM_OK);
    child c = {0};
    rt_child_spec spec = {"w", child_start, child_stop, &c, RT_PERMANENT};
    rt_proc *w;
    assert_int_equal(rt_sup_add(x, &spec, &w), IVM_OK);

    /* From now on every start of w fails, so x gives up at once each time. */
    atomic_store(&c.fail, true);
    rt_proc_exit(w, RT_EXIT_FAILED, "boom");
    assert_true(rt_proc_wait_restarts(rt_sup_proc(x), 1000, 30000));

    assert_false(rt_sup_alive(root));
    assert_false(rt_sup_alive(x));
    rootinfo r;
    memset(&r, 0, sizeof r);
    rt_proc_list(NULL, info_fn, &r);
    assert_int_equal(r.root.state, RT_PROC_FAILED);
    assert_string_equal(r.root.last_exit, "failed: more than 10 restarts in 10000 ms");
    assert_int_equal(r.x.restarts, 10);
    assert_int_equal(r.x.failures, 11);
    assert_int_equal(atomic_load(&c.starts), 11);
    assert_int_equal(log_count("give-up root/x:"), 11);
    assert_int_equal(log_count("give-up root: more than 10 restarts in 10000 ms"), 1);
    assert_int_equal(log_count("failed root:"), 1);

    /* A failed root takes no new children... */
    atomic_store(&c.fail, false);
    assert_int_equal(rt_sup_add(NULL, &spec, NULL), IVM_BUSY);
    rt_sup *y;
    assert_int_equal(rt_sup_new(NULL, "y", RT_ONE_FOR_ONE, 1, 1000, &y), IVM_BUSY);
    /* ...but what is under it can still be freed. */
    rt_sup_free(x);
}

int main(void)
{
    alarm(120); /* a hang fails the test instead of blocking the run */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_root_gives_up_and_stays_failed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
