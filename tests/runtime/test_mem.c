/*
 * test_mem.c: unit tests of the accounted allocation wrappers
 * (runtime/mem.c): the process-wide count follows each block's usable size
 * through malloc, realloc and free; a large block asks for huge pages on
 * the whole huge pages inside it, which the kernel records as the "hg" flag
 * of the mapping (/proc/self/smaps, VmFlags).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* The VmFlags line of the mapping that holds address a, copied to out
 * (empty if not found). */
static void vm_flags_of(uintptr_t a, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL)
        return;
    char line[512];
    bool in = false;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = a >= lo && a < hi;
            continue;
        }
        if (in && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(out, cap, "%s", line + 8);
            break;
        }
    }
    fclose(f);
}

static bool has_flag(const char *flags, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *at = flags; (at = strstr(at, flag)) != NULL; at += n)
        if ((at == flags || at[-1] == ' ') && (at[n] == ' ' || at[n] == '\n' || at[n] == '\0'))
            return true;
    return false;
}

static void test_mem_large_block_asks_for_huge_pages(void **state)
{
    FILE *thp = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (thp == NULL) {
        printf("notice: no transparent huge pages in this kernel; skipped\n");
        skip();
    }
    fclose(thp);
    size_t n = 4 * RT_MEM_HUGE_PAGE;
    uint8_t *p = rt_mem_malloc(n);
    assert_non_null(p);
    memset(p, 1, n);
    /* The first whole huge page inside the block. */
    uintptr_t a = ((uintptr_t)p + RT_MEM_HUGE_PAGE - 1) & ~(uintptr_t)(RT_MEM_HUGE_PAGE - 1);
    assert_true(a + RT_MEM_HUGE_PAGE <= (uintptr_t)p + n);
    char flags[512];
    vm_flags_of(a, flags, sizeof flags);
    if (flags[0] == '\0') {
        rt_mem_free(p);
        printf("notice: /proc/self/smaps shows no VmFlags; skipped\n");
        skip();
    }
    assert_true(has_flag(flags, "hg"));
    assert_false(has_flag(flags, "nh"));
    /* Grown, possibly moved: the advice follows the block. */
    uint8_t *q = rt_mem_realloc(p, 2 * n);
    assert_non_null(q);
    assert_int_equal(q[n - 1], 1);
    memset(q + n, 2, n);
    uintptr_t b = ((uintptr_t)q + 2 * n - 1) & ~(uintptr_t)(RT_MEM_HUGE_PAGE - 1);
    b -= RT_MEM_HUGE_PAGE; /* the last whole huge page inside */
    vm_flags_of(b, flags, sizeof flags);
    assert_true(has_flag(flags, "hg"));
    rt_mem_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_counts_usable_sizes),
        cmocka_unit_test(test_mem_large_block_asks_for_huge_pages),
    };
    return cmocka_run_group_tests_name("runtime/mem", tests, NULL, NULL);
}
