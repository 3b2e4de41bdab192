/*
 * test_md5.c: the runner's MD5 (tests/slt/slt_md5.c) against the test suite
 * of RFC 1321 (appendix A.5), a million 'a's, the same messages fed in
 * pieces cut at every offset (so that block boundaries fall everywhere), and
 * the result hash of the sqllogictest format (values each followed by a
 * newline).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "slt/slt.h"

static const char *const rfc_suite[][2] = {
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"1234567890123456789012345678901234567890"
     "1234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
};
#define NSUITE (sizeof rfc_suite / sizeof rfc_suite[0])

static void digest(const char *s, size_t n, char hex[33])
{
    slt_md5 m;
    slt_md5_init(&m);
    slt_md5_update(&m, s, n);
    slt_md5_final_hex(&m, hex);
}

static void test_md5_rfc1321_suite(void **state)
{
    char hex[33];
    for (size_t i = 0; i < NSUITE; i++) {
        digest(rfc_suite[i][0], strlen(rfc_suite[i][0]), hex);
        assert_string_equal(hex, rfc_suite[i][1]);
    }
}

static void test_md5_million_a(void **state)
{
    static char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    slt_md5 m;
    slt_md5_init(&m);
    for (int i = 0; i < 1000; i++)
        slt_md5_update(&m, chunk, sizeof chunk);
    char hex[33];
    slt_md5_final_hex(&m, hex);
    assert_string_equal(hex, "7707d6ae4e027c70eea2a935c2296f21");
}

/* Every split point of every message, and byte-at-a-time feeding, gives the
 * same digest as one update. */
static void test_md5_pieces_agree(void **state)
{
    char whole[33], split[33];
    for (size_t i = 0; i < NSUITE; i++) {
        const char *s = rfc_suite[i][0];
        size_t n = strlen(s);
        digest(s, n, whole);
        for (size_t cut = 0; cut <= n; cut++) {
            slt_md5 m;
            slt_md5_init(&m);
            slt_md5_update(&m, s, cut);
            slt_md5_update(&m, s + cut, n - cut);
            slt_md5_final_hex(&m, split);
            assert_string_equal(split, whole);
        }
        slt_md5 m;
        slt_md5_init(&m);
        for (size_t k = 0; k < n; k++)
            slt_md5_update(&m, s + k, 1);
        slt_md5_final_hex(&m, split);
        assert_string_equal(split, whole);
    }
}

/* Lengths around the padding boundary (55, 56, 63, 64, 65 bytes) against
 * digests computed independently (md5sum). */
static void test_md5_padding_boundaries(void **state)
{
    static const struct {
        size_t n;
        const char *hex;
    } cases[] = {
        {55, "ef1772b6dff9a122358552954ad0df65"},
        {56, "3b0c8ac703f828b04c6c197006d17218"},
        {63, "b06521f39153d618550606be297466d5"},
        {64, "014842d480b571495a4a0363793f7367"},
        {65, "c743a45e0d2e6a95cb859adae0248435"},
    };
    char buf[65], hex[33];
    memset(buf, 'a', sizeof buf);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        digest(buf, cases[i].n, hex);
        assert_string_equal(hex, cases[i].hex);
    }
}

/* The sqllogictest result hash: each value followed by "\n". */
static void test_md5_result_hash(void **state)
{
    const char *vals[] = {"1", "2"};
    char hex[33];
    slt_hash_values(vals, 2, hex);
    assert_string_equal(hex, "6ddb4095eb719e2a9f0a3f95677d24e0");
    size_t n;
    char parsed[33];
    assert_true(slt_parse_hash_line("30 values hashing to 3c13dee48d9356ae19af2515e05e6b54",
                                    &n, parsed));
    assert_int_equal(n, 30);
    assert_string_equal(parsed, "3c13dee48d9356ae19af2515e05e6b54");
    assert_false(slt_parse_hash_line("30 values hashing to xyz", &n, parsed));
    assert_false(slt_parse_hash_line("30", &n, parsed));
    assert_false(slt_parse_hash_line("values hashing to 3c13dee48d9356ae19af2515e05e6b54",
                                     &n, parsed));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_rfc1321_suite),
        cmocka_unit_test(test_md5_million_a),
        cmocka_unit_test(test_md5_pieces_agree),
        cmocka_unit_test(test_md5_padding_boundaries),
        cmocka_unit_test(test_md5_result_hash),
    };
    return cmocka_run_group_tests_name("slt/md5", tests, NULL, NULL);
}
