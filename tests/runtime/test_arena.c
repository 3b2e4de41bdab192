/*
 * test_arena.c: unit tests of rt_arena (runtime/arena.c): alignment of
 * every allocation (R1), big allocations in their own chunk without
 * wasting the current one (R2), and reset keeping one default-size chunk
 * (R3).  Chunks are private; the tests see them only through the public
 * head pointer and the addresses allocations get.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime.h"

static void test_arena_alloc_aligned(void **state)
{
    rt_arena a;
    rt_arena_init(&a);
    static const size_t sizes[] = {1, 0, 3, 16, 17, 7, 100, 1, 4095, 33};
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = rt_arena_alloc(&a, sizes[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % 16, 0);
            memset(p, 0xab, sizes[i]); /* ASan: really that many bytes */
        }
    }
    rt_arena_fini(&a);
}

static void test_arena_alloc_distinct_and_kept(void **state)
{
    rt_arena a;
    rt_arena_init(&a);
    enum { N = 5000 };
    uint32_t *ptrs[N];
    for (uint32_t i = 0; i < N; i++) {
        ptrs[i] = rt_arena_alloc(&a, sizeof(uint32_t) * (1 + i % 7));
        assert_non_null(ptrs[i]);
        ptrs[i][0] = i;
    }
    /* Later allocations (and new chunks) never move or overwrite earlier
     * ones. */
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(ptrs[i][0], i);
    rt_arena_fini(&a);
    assert_null(a.head);
}

static void test_arena_used_total_counts_requests(void **state)
{
    rt_arena a;
    rt_arena_init(&a);
    assert_int_equal(a.used_total, 0);
    assert_non_null(rt_arena_alloc(&a, 10));
    assert_non_null(rt_arena_alloc(&a, 5));
    assert_int_equal(a.used_total, 15);
    rt_arena_reset(&a);
    assert_int_equal(a.used_total, 0);
    rt_arena_fini(&a);
}

static void test_arena_strndup_copies_and_terminates(void **state)
{
    rt_arena a;
    rt_arena_init(&a);
    const char *src = "hello, world";
    char *s = rt_arena_strndup(&a, src, 5);
    assert_non_null(s);
    assert_string_equal(s, "hello");
    assert_ptr_not_equal(s, src);
    char *e = rt_arena_strndup(&a, src, 0);
    assert_non_null(e);
    assert_string_equal(e, "");
    rt_arena_fini(&a);
}

static void test_arena_big_alloc_own_chunk(void **state)
{
    rt_arena a;
    rt_arena_init(&a);
    char *small = rt_arena_alloc(&a, 32);
    assert_non_null(small);
    rt_arena_chunk *current = a.head;

    size_t big_n = a.chunk_size * 3;
    unsigned char *big = rt_arena_alloc(&a, big_n);
    assert_non_null(big);
    assert_int_equal((uintptr_t)big % 16, 0);
    memset(big, 0x5a, big_n);
    /* The current chunk stays current: the next small allocation comes
     * from it, right after the first. */
    assert_ptr_equal(a.head, current);
    char *next = rt_arena_alloc(&a, 32);
    assert_ptr_equal(next, small + 32);

    /* A big allocation into an empty arena works too. */
    rt_arena b;
    rt_arena_init(&b);
    unsigned char *first = rt_arena_alloc(&b, b.chunk_size * 2);
    assert_non_null(first);
    memset(first, 1, b.chunk_size * 2);
    assert_non_null(rt_arena_alloc(&b, 8));
    rt_arena_fini(&b);
    rt_arena_fini(&a);
}

static void test_arena_reset_keeps_first_chunk(void **state)
{
    rt_arena a;
    rt_arena_init(&a);
    char *first = rt_arena_alloc(&a, 64);
    assert_non_null(first);
    rt_arena_chunk *oldest = a.head;
    for (int i = 0; i < 3000; i++)
        assert_non_null(rt_arena_alloc(&a, 100));
    assert_non_null(rt_arena_alloc(&a, a.chunk_size * 2));

    rt_arena_reset(&a);
    assert_ptr_equal(a.head, oldest);
    assert_int_equal(a.used_total, 0);
    /* The kept chunk is reused from its start. */
    assert_ptr_equal(rt_arena_alloc(&a, 64), first);

    for (int step = 0; step < 50; step++) {
        for (int i = 0; i < 1000; i++)
            assert_non_null(rt_arena_alloc(&a, 200));
        rt_arena_reset(&a);
        assert_ptr_equal(a.head, oldest);
    }
    rt_arena_fini(&a);
}

static void test_arena_reset_empty_and_big_only(void **state)
{
    rt_arena a;
    rt_arena_init(&a);
    rt_arena_reset(&a); /* nothing allocated yet */
    assert_null(a.head);
    /* Only a big chunk: nothing of default size to keep. */
    assert_non_null(rt_arena_alloc(&a, a.chunk_size * 4));
    rt_arena_reset(&a);
    assert_null(a.head);
    assert_non_null(rt_arena_alloc(&a, 1));
    rt_arena_fini(&a);
    rt_arena_fini(&a); /* fini twice is harmless */
}

static void test_arena_alloc_overflow_fails(void **state)
{
    rt_arena a;
    rt_arena_init(&a);
    assert_null(rt_arena_alloc(&a, SIZE_MAX));
    assert_null(rt_arena_alloc(&a, SIZE_MAX - 8));
    assert_null(rt_arena_strndup(&a, "x", SIZE_MAX));
    assert_non_null(rt_arena_alloc(&a, 8)); /* still usable */
    rt_arena_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alloc_aligned),
        cmocka_unit_test(test_arena_alloc_distinct_and_kept),
        cmocka_unit_test(test_arena_used_total_counts_requests),
        cmocka_unit_test(test_arena_strndup_copies_and_terminates),
        cmocka_unit_test(test_arena_big_alloc_own_chunk),
        cmocka_unit_test(test_arena_reset_keeps_first_chunk),
        cmocka_unit_test(test_arena_reset_empty_and_big_only),
        cmocka_unit_test(test_arena_alloc_overflow_fails),
    };
    return cmocka_run_group_tests_name("runtime/arena", tests, NULL, NULL);
}
