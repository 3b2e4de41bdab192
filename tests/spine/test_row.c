/*
 * test_row.c: the row encoding (spine/row.c): random rows round-trip; the
 * memcmp order of encodings equals SQL order column by column (NULL first,
 * numbers by value including the extremes, -0.0 == 0.0, text by bytes
 * including prefixes); decoding rejects every byte string the encoder would
 * not write and never reads past the end (run under ASan).
 */
#include "spine_testlib.h"

#include <float.h>
#include <math.h>

/* ---- Generators ------------------------------------------------------------ */

static int64_t gen_int(void)
{
    static const int64_t special[] = {INT64_MIN, INT64_MIN + 1, -65536, -256, -255, -1, 0,
                                      1, 255, 256, 65536, INT64_MAX - 1, INT64_MAX};
    switch (rng_below(3)) {
    case 0:
        return special[rng_below(sizeof special / sizeof *special)];
    case 1:
        return (int64_t)rng_below(7) - 3;
    default:
        return (int64_t)rng_next();
    }
}

static double gen_real(void)
{
    static const double special[] = {-INFINITY, -DBL_MAX, -1e10, -1.5, -1.0, -DBL_MIN,
                                     -4.9e-324, -0.0, 0.0, 4.9e-324, DBL_MIN, 0.5, 1.0,
                                     1.5, 1e10, DBL_MAX, INFINITY, NAN};
    switch (rng_below(3)) {
    case 0:
        return special[rng_below(sizeof special / sizeof *special)];
    case 1:
        return (double)((int)rng_below(7) - 3) / 2;
    default: {
        uint64_t u = rng_next();
        double r;
        memcpy(&r, &u, sizeof r);
        return r; /* any pattern, NaN included */
    }
    }
}

/* Text over a tiny alphabet, so that prefixes and ties are common; the
 * bytes 0x01 and 0xff test the ends of the byte range. */
static ivm_value gen_text(char *buf)
{
    static const char alpha[] = {'a', 'b', 0x01, (char)0xff};
    size_t n = rng_below(5);
    for (size_t i = 0; i < n; i++)
        buf[i] = alpha[rng_below(4)];
    return ivm_value_text(buf, (uint32_t)n);
}

/* A value of class t, or NULL one time in five. */
static ivm_value gen_value(ivm_type t, char *textbuf)
{
    if (rng_below(5) == 0)
        return ivm_value_null();
    switch (t) {
    case IVM_TINT:
        return ivm_value_int(gen_int());
    case IVM_TREAL:
        return ivm_value_real(gen_real());
    case IVM_TTEXT:
        return gen_text(textbuf);
    default:
        return ivm_value_null();
    }
}

/* ---- SQL semantics, written independently of the encoding ------------------ */

static bool is_null(const ivm_value *v)
{
    return v->type == IVM_TNULL || (v->type == IVM_TREAL && isnan(v->u.r));
}

/* Order of two values of one column class: NULL first, then by value. */
static int sql_cmp(const ivm_value *a, const ivm_value *b)
{
    bool an = is_null(a), bn = is_null(b);
    if (an || bn)
        return (int)bn - (int)an;
    switch (a->type) {
    case IVM_TINT:
        return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    case IVM_TREAL:
        return (a->u.r > b->u.r) - (a->u.r < b->u.r);
    default: {
        uint32_t n = IVM_MIN(a->u.s.n, b->u.s.n);
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        if (c != 0)
            return c < 0 ? -1 : 1;
        return (a->u.s.n > b->u.s.n) - (a->u.s.n < b->u.s.n);
    }
    }
}

static int sign(int c)
{
    return (c > 0) - (c < 0);
}

/* ---- Tests ------------------------------------------------------------------ */

static void test_row_roundtrip_random(void **state)
{
    (void)state;
    rng_seed(1);
    char text[8][8];
    for (int iter = 0; iter < 20000; iter++) {
        ivm_value in[8], out[8];
        uint32_t n = (uint32_t)rng_below(8);
        for (uint32_t c = 0; c < n; c++)
            in[c] = gen_value((ivm_type)rng_below(4), text[c]);
        uint8_t buf[256];
        size_t len = enc(in, n, buf);
        assert_int_equal(spine_row_decode(buf, len, out, 8), (int)n);
        assert_int_equal(spine_row_prefix_len(buf, len, n), n ? len : 0);
        for (uint32_t c = 0; c < n; c++) {
            if (is_null(&in[c])) {
                assert_int_equal(out[c].type, IVM_TNULL);
                continue;
            }
            assert_int_equal(out[c].type, in[c].type);
            switch (in[c].type) {
            case IVM_TINT:
                assert_true(out[c].u.i == in[c].u.i);
                break;
            case IVM_TREAL:
                assert_true(out[c].u.r == in[c].u.r);
                assert_false(signbit(out[c].u.r) && out[c].u.r == 0.0); /* -0.0 -> 0.0 */
                break;
            default:
                assert_int_equal(out[c].u.s.n, in[c].u.s.n);
                assert_true(in[c].u.s.n == 0 ||
                            memcmp(out[c].u.s.p, in[c].u.s.p, in[c].u.s.n) == 0);
                /* zero copy: the text points into the row */
                assert_true((const uint8_t *)out[c].u.s.p > buf &&
                            (const uint8_t *)out[c].u.s.p < buf + len);
                break;
            }
        }
    }
}

static void test_row_order_matches_sql(void **state)
{
    (void)state;
    rng_seed(2);
    char ta[4][8], tb[4][8];
    for (int iter = 0; iter < 50000; iter++) {
        /* Two rows of one schema, compared column by column. */
        uint32_t n = 1 + (uint32_t)rng_below(3);
        ivm_value a[4], b[4];
        int expect = 0;
        for (uint32_t c = 0; c < n; c++) {
            ivm_type t = (ivm_type)(1 + rng_below(3));
            a[c] = gen_value(t, ta[c]);
            b[c] = rng_below(4) == 0 ? a[c] : gen_value(t, tb[c]);
            if (expect == 0)
                expect = sql_cmp(&a[c], &b[c]);
        }
        uint8_t ea[256], eb[256];
        size_t la = enc(a, n, ea), lb = enc(b, n, eb);
        assert_int_equal(sign(spine_row_cmp(ea, la, eb, lb)), expect);
        /* equality is byte equality */
        assert_int_equal(expect == 0, la == lb && memcmp(ea, eb, la) == 0);
        if (expect == 0)
            assert_true(spine_row_hash(ea, la) == spine_row_hash(eb, lb));
    }
}

static void test_row_order_of_extremes(void **state)
{
    (void)state;
    /* Each list is in strictly increasing SQL order. */
    const ivm_value ints[] = {ivm_value_null(), ivm_value_int(INT64_MIN),
                              ivm_value_int(INT64_MIN + 1), ivm_value_int(-256),
                              ivm_value_int(-1), ivm_value_int(0), ivm_value_int(1),
                              ivm_value_int(255), ivm_value_int(256),
                              ivm_value_int(INT64_MAX)};
    const ivm_value reals[] = {ivm_value_null(), ivm_value_real(-INFINITY),
                               ivm_value_real(-DBL_MAX), ivm_value_real(-1.0),
                               ivm_value_real(-DBL_MIN), ivm_value_real(-4.9e-324),
                               ivm_value_real(0.0), ivm_value_real(4.9e-324),
                               ivm_value_real(DBL_MIN), ivm_value_real(1.0),
                               ivm_value_real(DBL_MAX), ivm_value_real(INFINITY)};
    const ivm_value texts[] = {ivm_value_null(), tv(""), tv("\x01"), tv("a"), tv("a\x01"),
                               tv("ab"), tv("b"), tv("\xff"), tv("\xff\xff")};
    const ivm_value *lists[] = {ints, reals, texts};
    const size_t lens[] = {sizeof ints / sizeof *ints, sizeof reals / sizeof *reals,
                           sizeof texts / sizeof *texts};
    for (int l = 0; l < 3; l++) {
        for (size_t i = 0; i < lens[l]; i++) {
            for (size_t j = 0; j < lens[l]; j++) {
                uint8_t ea[64], eb[64];
                size_t la = enc(&lists[l][i], 1, ea), lb = enc(&lists[l][j], 1, eb);
                int expect = (i > j) - (i < j);
                assert_int_equal(sign(spine_row_cmp(ea, la, eb, lb)), expect);
            }
        }
    }
}

static void test_row_nan_and_negative_zero(void **state)
{
    (void)state;
    uint8_t a[16], b[16];
    ivm_value nan = ivm_value_real(NAN), null = ivm_value_null();
    assert_int_equal(spine_row_size(&nan, 1), 1);
    assert_int_equal(enc(&nan, 1, a), 1);
    assert_int_equal(enc(&null, 1, b), 1);
    assert_int_equal(a[0], SPINE_TAG_NULL);
    ivm_value nz = ivm_value_real(-0.0), pz = ivm_value_real(0.0);
    assert_int_equal(enc(&nz, 1, a), 9);
    assert_int_equal(enc(&pz, 1, b), 9);
    assert_memory_equal(a, b, 9);
    /* The documented bytes: tag, then big-endian bits with the sign set. */
    ivm_value one = ivm_value_real(1.0), m1 = ivm_value_int(-1);
    enc(&one, 1, a);
    const uint8_t one_bytes[] = {0x03, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(a, one_bytes, 9);
    enc(&m1, 1, a);
    const uint8_t m1_bytes[] = {0x02, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_memory_equal(a, m1_bytes, 9);
    ivm_value t = tv("hi");
    assert_int_equal(enc(&t, 1, a), 4);
    const uint8_t t_bytes[] = {0x04, 'h', 'i', 0x00};
    assert_memory_equal(a, t_bytes, 4);
}

static void test_row_decode_rejects_garbage(void **state)
{
    (void)state;
    ivm_value out[32];
    /* Unknown tags, truncated payloads, unterminated text. */
    const uint8_t bad1[] = {0x00};
    const uint8_t bad2[] = {0x05};
    const uint8_t bad3[] = {0x02, 1, 2, 3};
    const uint8_t bad4[] = {0x03, 0xbf, 0xf0};
    const uint8_t bad5[] = {0x04, 'a', 'b'};
    const uint8_t bad6[] = {0x01, 0x02, 0, 0, 0, 0, 0, 0, 0}; /* second column short */
    /* REAL patterns the encoder never writes: NaN and -0.0. */
    const uint8_t nan_bytes[] = {0x03, 0xff, 0xf8, 0, 0, 0, 0, 0, 0};
    const uint8_t negzero[] = {0x03, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const struct {
        const uint8_t *p;
        size_t n;
    } bad[] = {{bad1, sizeof bad1}, {bad2, sizeof bad2}, {bad3, sizeof bad3},
               {bad4, sizeof bad4}, {bad5, sizeof bad5}, {bad6, sizeof bad6},
               {nan_bytes, sizeof nan_bytes}, {negzero, sizeof negzero}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(spine_row_decode(bad[i].p, bad[i].n, out, 8), -1);
        assert_int_equal(spine_row_prefix_len(bad[i].p, bad[i].n, 2), 0);
    }
    assert_int_equal(spine_col_len(bad1, bad1 + 1), 0);
    assert_int_equal(spine_col_len(bad3, bad3 + sizeof bad3), 0);
    assert_int_equal(spine_col_len(nan_bytes, nan_bytes + 9), 0);
    assert_int_equal(spine_row_decode(NULL, 0, out, 8), 0);

    /* Random bytes: whatever decodes must re-encode to exactly those bytes
     * (the encoding is canonical), and nothing reads out of bounds. */
    rng_seed(3);
    static const uint8_t alpha[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7f, 0x80, 0xff, 'a'};
    size_t decoded = 0;
    for (int iter = 0; iter < 200000; iter++) {
        size_t len = rng_below(24);
        uint8_t *buf = malloc(len ? len : 1); /* exact size, for ASan */
        assert_non_null(buf);
        for (size_t k = 0; k < len; k++)
            buf[k] = alpha[rng_below(sizeof alpha)];
        if (len > 0 && rng_below(2))
            buf[0] = (uint8_t)(1 + rng_below(4)); /* a valid tag more often */
        int n = spine_row_decode(buf, len, out, 32);
        if (n > 0) {
            uint8_t again[256];
            assert_true(spine_row_size(out, (uint32_t)n) == len);
            assert_int_equal(spine_row_encode(out, (uint32_t)n, again), len);
            assert_memory_equal(again, buf, len);
            decoded++;
        }
        size_t p = len ? spine_col_len(buf, buf + len) : 0;
        assert_true(p <= len);
        free(buf);
    }
    assert_true(decoded > 1000);
}

static void test_row_decode_stops_at_max(void **state)
{
    (void)state;
    ivm_value in[3] = {ivm_value_int(7), tv("xyz"), ivm_value_real(2.5)}, out[3];
    uint8_t buf[64];
    size_t len = enc(in, 3, buf);
    assert_int_equal(spine_row_decode(buf, len, out, 1), 1);
    assert_true(out[0].type == IVM_TINT && out[0].u.i == 7);
    assert_int_equal(spine_row_decode(buf, len, out, 0), 0);
    /* The columns past max are still validated. */
    buf[len - 9] = 0x09;
    assert_int_equal(spine_row_decode(buf, len, out, 1), -1);
}

static void test_row_prefix_len_counts_columns(void **state)
{
    (void)state;
    ivm_value in[3] = {ivm_value_null(), tv("ab"), ivm_value_int(-5)};
    uint8_t buf[64];
    size_t len = enc(in, 3, buf);
    assert_int_equal(spine_row_prefix_len(buf, len, 0), 0);
    assert_int_equal(spine_row_prefix_len(buf, len, 1), 1);
    assert_int_equal(spine_row_prefix_len(buf, len, 2), 5);
    assert_int_equal(spine_row_prefix_len(buf, len, 3), len);
    assert_int_equal(spine_row_prefix_len(buf, len, 4), 0);
    assert_int_equal(spine_col_len(buf + 1, buf + len), 4);
    assert_int_equal(spine_col_len(buf + 5, buf + len), 9);
    assert_int_equal(spine_col_len(buf + len, buf + len), 0);
}

static void test_row_text_valid_rejects_nul(void **state)
{
    (void)state;
    assert_true(spine_text_valid("abc", 3));
    assert_true(spine_text_valid(NULL, 0));
    assert_false(spine_text_valid("a\0c", 3));
    assert_true(spine_text_valid("a\0c", 1));
}

/* spine_row_split finds where columns lie, as spine_col_len measures
 * them, and looks no further than the columns asked for. */
static void test_row_split_finds_columns(void **state)
{
    (void)state;
    ivm_value in[5] = {ivm_value_null(), tv("ab"), ivm_value_int(-5), ivm_value_real(2.5), tv("")};
    uint8_t buf[64];
    size_t len = enc(in, 5, buf), off[7];
    for (uint32_t n = 0; n <= 5; n++) {
        assert_true(spine_row_split(buf, len, n, off));
        assert_int_equal(off[0], 0);
        assert_int_equal(off[n], spine_row_prefix_len(buf, len, n));
        for (uint32_t c = 0; c < n; c++) {
            ivm_value v;
            uint8_t again[16];
            size_t cl = off[c + 1] - off[c];
            assert_int_equal(cl, spine_col_len(buf + off[c], buf + len));
            spine_col_decode(buf + off[c], cl, &v);
            assert_int_equal(v.type, in[c].type);
            assert_int_equal(enc(&v, 1, again), cl);
            assert_memory_equal(again, buf + off[c], cl);
        }
    }
    assert_int_equal(off[5], len);
    assert_false(spine_row_split(buf, len, 6, off));
    /* Bytes past the columns asked for are not looked at; within them a
     * bad column is refused. */
    buf[off[2]] = 0x09;
    assert_true(spine_row_split(buf, len, 2, off));
    assert_false(spine_row_split(buf, len, 3, off));
    /* Text without its terminator within the row. */
    assert_false(spine_row_split(buf, 3, 2, off));
    assert_true(spine_row_split(buf, 5, 2, off));
    assert_int_equal(off[2], 5);
}

/* The end of a text is found 16 bytes at a time (SSE2), then 8: every
 * length around those boundaries, several 16-byte steps included, bytes
 * that look like borrows (0x01, 0x80, 0xff), the terminator at the
 * buffer's last byte, and text cut before it. */
static void test_row_text_end_every_length(void **state)
{
    (void)state;
    static const char bytes[] = {'a', 0x01, (char)0x80, (char)0xff};
    rng_seed(3);
    for (size_t n = 0; n <= 72; n++) {
        for (int rep = 0; rep < 20; rep++) {
            char t[80];
            for (size_t i = 0; i < n; i++)
                t[i] = bytes[rng_below(4)];
            ivm_value in[2] = {ivm_value_text(t, (uint32_t)n), ivm_value_int(7)};
            uint8_t buf[96];
            size_t len = enc(in, 2, buf);
            assert_int_equal(spine_col_len(buf, buf + len), n + 2);
            assert_int_equal(spine_col_len(buf, buf + n + 2), n + 2);
            assert_int_equal(spine_col_len(buf, buf + n + 1), 0);
            assert_int_equal(spine_row_prefix_len(buf, len, 2), len);
            ivm_value out[2];
            assert_int_equal(spine_row_decode(buf, len, out, 2), 2);
            assert_int_equal(out[0].u.s.n, n);
        }
    }
}

/* A text that ends a row within 16 bytes of its end is found by reading
 * the row's last 16 bytes, which hold earlier columns' zero bytes (an INT
 * 0, a text's terminator, NULL) before it: every length of the last text
 * after 0 to 20 bytes of such columns, split, decoded and measured, and
 * the row cut before the terminator refused even though zero bytes sit
 * in those 16. */
static void test_row_split_last_text_every_length(void **state)
{
    (void)state;
    static const char bytes[] = {'a', 0x01, (char)0x80, (char)0xff};
    rng_seed(4);
    for (size_t n = 0; n <= 40; n++) {
        for (int shape = 0; shape < 4; shape++) {
            char t[48];
            for (size_t i = 0; i < n; i++)
                t[i] = bytes[rng_below(4)];
            ivm_value in[4];
            uint32_t ncols = 0;
            if (shape >= 1)
                in[ncols++] = ivm_value_int(0); /* 0x02 0x80 then seven zero bytes */
            if (shape >= 2)
                in[ncols++] = tv("");          /* 0x04 0x00 */
            if (shape >= 3)
                in[ncols++] = ivm_value_null();
            in[ncols++] = ivm_value_text(t, (uint32_t)n);
            uint8_t buf[96];
            size_t len = enc(in, ncols, buf), off[6];
            assert_true(spine_row_split(buf, len, ncols, off));
            assert_int_equal(off[ncols], len);
            assert_int_equal(off[ncols] - off[ncols - 1], n + 2);
            assert_int_equal(spine_row_prefix_len(buf, len, ncols), len);
            ivm_value out[4];
            assert_int_equal(spine_row_decode(buf, len, out, 4), (int)ncols);
            assert_int_equal(out[ncols - 1].u.s.n, n);
            assert_memory_equal(out[ncols - 1].u.s.p, t, n);
            /* Cut before the terminator: no column there. */
            assert_false(spine_row_split(buf, len - 1, ncols, off));
            assert_int_equal(spine_row_prefix_len(buf, len - 1, ncols), 0);
            assert_int_equal(spine_row_decode(buf, len - 1, out, 4), -1);
        }
    }
    /* An INT cut short anywhere is no column either. */
    ivm_value two[2] = {tv("abc"), ivm_value_int(-1)};
    uint8_t buf[32];
    size_t len = enc(two, 2, buf), off[3];
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(spine_row_split(buf, cut, 2, off), cut == len);
    assert_true(spine_row_split(buf, len, 2, off));
    assert_int_equal(off[1], 5);
    assert_int_equal(off[2], len);
}

/* The checked encoders copy text in steps of 16 (SSE2, or two words), 8
 * and 4 bytes, the last one overlapping what was copied: every length
 * around those sizes, several 16-byte steps included, a NUL
 * at every position (and none), bytes that look like borrows.  Each text
 * sits at the very end of its own allocation, so a read past it shows
 * under ASan; the byte after the encoding must stay as it was.  Without a
 * NUL both write what spine_value_encode writes; with one, the row encoder
 * names the first value that holds one. */
static void test_row_encode_checked_every_length(void **state)
{
    (void)state;
    static const char bytes[] = {'a', 0x01, (char)0x80, (char)0xff, 0x7f};
    rng_seed(5);
    for (size_t n = 0; n <= 72; n++) {
        for (size_t nul = 0; nul <= n; nul++) { /* nul == n: none */
            char *t = malloc(n + 1);
            assert_non_null(t);
            t += 1; /* n bytes from here to the end of the block */
            for (size_t i = 0; i < n; i++)
                t[i] = bytes[rng_below(5)];
            if (nul < n)
                t[nul] = 0;
            ivm_value v = ivm_value_text(t, (uint32_t)n);
            uint8_t want[96], got[96];
            memset(got, 0xee, sizeof got);
            size_t wn = nul < n ? 0 : spine_value_encode(&v, want);
            size_t gn = spine_value_encode_checked(&v, got);
            assert_int_equal(gn, wn);
            if (nul == n) {
                assert_memory_equal(got, want, wn);
                assert_int_equal(got[wn], 0xee);
            }
            /* The same text between two other values, and alone. */
            ivm_value row[3] = {ivm_value_int((int64_t)n), v, tv("xyz")};
            uint32_t cols[3] = {2, 1, 0};
            memset(got, 0xee, sizeof got);
            uint32_t k = spine_row_encode_checked(row, NULL, 3, got);
            if (nul < n) {
                assert_int_equal(k, 1);
                assert_int_equal(spine_row_encode_checked(row, cols, 3, got), 1);
                assert_int_equal(spine_row_encode_checked(row, cols, 1, got), 1);
            } else {
                assert_int_equal(k, 3);
                size_t len = enc(row, 3, want);
                assert_memory_equal(got, want, len);
                assert_int_equal(got[len], 0xee);
                ivm_value perm[3] = {row[2], row[1], row[0]};
                memset(got, 0xee, sizeof got);
                assert_int_equal(spine_row_encode_checked(row, cols, 3, got), 3);
                len = enc(perm, 3, want);
                assert_memory_equal(got, want, len);
                assert_int_equal(got[len], 0xee);
            }
            free(t - 1);
        }
    }
    /* Every class goes through the row encoder as spine_row_encode
     * writes it (NaN as NULL, -0.0 as 0.0). */
    ivm_value all[6] = {ivm_value_null(), ivm_value_int(-3), ivm_value_real(-0.0),
                        ivm_value_real(NAN), ivm_value_real(2.5), tv("")};
    uint8_t want[96], got[96];
    size_t len = enc(all, 6, want);
    memset(got, 0xee, sizeof got);
    assert_int_equal(spine_row_encode_checked(all, NULL, 6, got), 6);
    assert_memory_equal(got, want, len);
    assert_int_equal(got[len], 0xee);
}

/* spine_row_encode_as: the bytes spine_row_encode writes when every value
 * is of its class and fits; false (nothing promised) on a class that
 * differs, NULL, NaN, a NUL byte, or one byte too few, whatever the
 * column where it happens; and never a byte written past cap. */
static void test_row_encode_as_matches_encode(void **state)
{
    (void)state;
    ivm_value row[5] = {ivm_value_int(-7), tv("0123456789abcdefXYZ"), ivm_value_real(-0.0),
                        tv("ab"), ivm_value_int(INT64_MAX)};
    ivm_type types[5] = {IVM_TINT, IVM_TTEXT, IVM_TREAL, IVM_TTEXT, IVM_TINT};
    uint32_t cols[2] = {3, 0};
    uint8_t want[128], got[128];
    size_t wlen = enc(row, 5, want), len = 0;
    for (size_t cap = 0; cap <= wlen + 1; cap++) {
        memset(got, 0xee, sizeof got);
        len = 12345;
        bool ok = spine_row_encode_as(row, NULL, 5, types, got, cap, &len);
        assert_int_equal(ok, cap >= wlen);
        if (ok) {
            assert_int_equal(len, wlen);
            assert_memory_equal(got, want, wlen);
        } else {
            assert_int_equal(len, 12345);
        }
        for (size_t i = cap; i < sizeof got; i++)
            assert_int_equal(got[i], 0xee);
    }
    /* Chosen columns, in the order given (a key). */
    ivm_value key[2] = {row[3], row[0]};
    size_t klen = enc(key, 2, want);
    assert_true(spine_row_encode_as(row, cols, 2, types, got, sizeof got, &len));
    assert_int_equal(len, klen);
    assert_memory_equal(got, want, klen);
    /* Anything the general path must see, in every column. */
    for (uint32_t c = 0; c < 5; c++) {
        ivm_value bad[5];
        for (int k = 0; k < 4; k++) {
            memcpy(bad, row, sizeof bad);
            if (k == 0)
                bad[c] = ivm_value_null();
            else if (k == 1)
                bad[c] = types[c] == IVM_TINT ? ivm_value_real(1.0) : ivm_value_int(1);
            else if (k == 2 && types[c] == IVM_TTEXT)
                bad[c] = ivm_value_text(c == 1 ? "0123456789abcdef\0YZ" : "a\0", c == 1 ? 19 : 2);
            else if (k == 3 && types[c] == IVM_TREAL)
                bad[c] = ivm_value_real(NAN);
            else
                continue;
            len = 12345;
            assert_false(spine_row_encode_as(bad, NULL, 5, types, got, sizeof got, &len));
            assert_int_equal(len, 12345);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_roundtrip_random),
        cmocka_unit_test(test_row_order_matches_sql),
        cmocka_unit_test(test_row_order_of_extremes),
        cmocka_unit_test(test_row_nan_and_negative_zero),
        cmocka_unit_test(test_row_decode_rejects_garbage),
        cmocka_unit_test(test_row_decode_stops_at_max),
        cmocka_unit_test(test_row_prefix_len_counts_columns),
        cmocka_unit_test(test_row_text_valid_rejects_nul),
        cmocka_unit_test(test_row_split_finds_columns),
        cmocka_unit_test(test_row_text_end_every_length),
        cmocka_unit_test(test_row_split_last_text_every_length),
        cmocka_unit_test(test_row_encode_checked_every_length),
        cmocka_unit_test(test_row_encode_as_matches_encode),
    };
    return cmocka_run_group_tests_name("spine/row", tests, NULL, NULL);
}
