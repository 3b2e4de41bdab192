/*
 * test_progress.c: the shell's byte sizes (--memory-limit, .limit) and the
 * text of the load progress line (shell/progress.c).  Drawing itself needs
 * a terminal; tests/load/run.sh checks it under script(1), and that nothing
 * is drawn when standard error is a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shell_int.h"

static void test_size_parse_suffixes(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {
        {"0", 0}, {"512", 512}, {"512B", 512}, {"1k", 1024}, {"64K", 65536},
        {"64M", 64ull << 20}, {"2G", 2ull << 30}, {"2GiB", 2ull << 30}, {"3gb", 3ull << 30},
        {"1T", 1ull << 40}, {"18446744073709551615", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 1;
        if (!shell_parse_size(ok[i].s, &v))
            fail_msg("\"%s\" refused", ok[i].s);
        assert_int_equal(v, ok[i].v);
    }
    static const char *const bad[] = {"", "-1", "M", "1.5M", "12X", "1MM", "1 M", "k1",
                                      "18446744073709551616", "17179869184G", NULL};
    uint64_t v = 7;
    assert_false(shell_parse_size(NULL, &v));
    for (size_t i = 0; bad[i] != NULL; i++)
        if (shell_parse_size(bad[i], &v))
            fail_msg("\"%s\" accepted", bad[i]);
    assert_int_equal(v, 7); /* untouched on failure */
}

static void test_size_format(void **state)
{
    (void)state;
    char b[32];
    shell_format_size(0, b, sizeof b);
    assert_string_equal(b, "0 B");
    shell_format_size(1023, b, sizeof b);
    assert_string_equal(b, "1023 B");
    shell_format_size(1536, b, sizeof b);
    assert_string_equal(b, "1.5 KiB");
    shell_format_size(64ull << 20, b, sizeof b);
    assert_string_equal(b, "64.0 MiB");
    shell_format_size(3ull << 40, b, sizeof b);
    assert_string_equal(b, "3.0 TiB");
}

static void test_progress_line_text(void **state)
{
    (void)state;
    char b[256];
    /* A file: bar, percentage, rows, bytes of total, rate. */
    shell_progress_format(b, sizeof b, "t", 1200, 1024 * 1024, 4 * 1024 * 1024, 2.0);
    assert_string_equal(b, "t: [#####...............]  25% 1200 rows, 1.0 MiB of 4.0 MiB, 600 rows/s");
    shell_progress_format(b, sizeof b, "t", 10, 5000, 5000, 0);
    assert_string_equal(b, "t: [####################] 100% 10 rows, 4.9 KiB of 4.9 KiB");
    /* Past the end (a file that grew) stays at 100%. */
    shell_progress_format(b, sizeof b, "t", 10, 9000, 5000, 0);
    assert_non_null(strstr(b, "] 100% "));
    /* A pipe: rows and rate only. */
    shell_progress_format(b, sizeof b, "orders", 1500, 0, 0, 0.5);
    assert_string_equal(b, "orders: 1500 rows, 3000 rows/s");
    /* A small buffer is cut, not overrun. */
    char small[8];
    size_t n = shell_progress_format(small, sizeof small, "orders", 1500, 0, 0, 0.5);
    assert_int_equal(n, 7);
    assert_string_equal(small, "orders:");
}

/* With standard error not a terminal, a load's progress is off and draws
 * nothing whatever the time. */
static void test_progress_off_without_terminal(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
    shell sh;
    memset(&sh, 0, sizeof sh);
    sh.progress = true;
    shell_progress p;
    shell_progress_begin(&p, &sh, "t", f);
    assert_false(p.on);
    p.next_ns = 0; /* as if long overdue */
    for (uint64_t i = 1; i <= 1000; i++)
        shell_progress_tick(&p, i, f);
    shell_progress_end(&p);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    assert_int_equal(ftell(f), 0);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_parse_suffixes),
        cmocka_unit_test(test_size_format),
        cmocka_unit_test(test_progress_line_text),
        cmocka_unit_test(test_progress_off_without_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
