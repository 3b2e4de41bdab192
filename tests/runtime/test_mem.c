/*
 * test_mem.c: unit tests of the accounted allocation wrappers
 * (runtime/mem.c): the process-wide count follows each block's usable size
 * through malloc, realloc, grow and free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <malloc.h>

#include "runtime.h"

static void test_mem_counts_usable_sizes(void **state)
{
    uint64_t before = rt_mem_used();
    uint8_t *p = rt_mem_malloc(1000);
    assert_non_null(p);
    size_t got = malloc_usable_size(p);
    assert_true(got >= 1000);
    assert_int_equal(rt_mem_used(), before + got);
    uint8_t *q = rt_mem_realloc(p, 100000);
    assert_non_null(q);
    assert_int_equal(rt_mem_used(), before + malloc_usable_size(q));
    void *buf = NULL;
    size_t cap = 0;
    assert_int_equal(rt_mem_grow(&buf, &cap, 10, sizeof(uint64_t)), IVM_OK);
    assert_true(cap >= 10);
    assert_int_equal(rt_mem_used(), before + malloc_usable_size(q) + malloc_usable_size(buf));
    rt_mem_free(q);
    rt_mem_free(buf);
    rt_mem_free(NULL);
    assert_int_equal(rt_mem_used(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_counts_usable_sizes),
    };
    return cmocka_run_group_tests_name("runtime/mem", tests, NULL, NULL);
}
