/*
 * row.c: the row encoding: typed values to memcomparable bytes and back
 * (spine_row_* including spine_row_split, spine_value_encode and its
 * _checked form for input, spine_row_encode_as for input whose classes
 * the caller names, spine_col_len, spine_col_decode, spine_text_valid).
 * A row here is only a sequence of self-describing columns; this file
 * knows no schema and allocates nothing.  Encoding
 * trusts its values (text without NUL: input paths check it); decoding
 * trusts nothing: every length is checked against the end of the buffer,
 * and bytes the encoder would never write (unknown tags, NaN, -0.0,
 * unterminated text) are rejected, so that byte equality stays SQL
 * equality (S1).  The encoding and the reasons for it are in
 * spine/README.md ("Row encoding").
 */
#include "spine_int.h"

#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SIGN_BIT 0x8000000000000000ULL

/* Big-endian 8 bytes: one byte swap and an unaligned store or load (the
 * byte loops they replace were a third of encoding an INT). */
static inline void put_be64(uint8_t *p, uint64_t x)
{
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = __builtin_bswap64(x);
    memcpy(p, &x, sizeof x);
#else
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)x;
        x >>= 8;
    }
#endif
}

static inline uint64_t get_be64(const uint8_t *p)
{
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return __builtin_bswap64(x);
#else
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = (x << 8) | p[i];
    return x;
#endif
}

/* Maps a double to an unsigned integer in the same order (keeps S2): for
 * positives, setting the sign bit puts them above every negative; for
 * negatives, inverting all bits reverses their magnitude order, since a
 * larger magnitude is a larger bit pattern.  The caller has removed NaN. */
static uint64_t real_to_key(double r)
{
    uint64_t u;
    if (r == 0.0)
        r = 0.0; /* -0.0 == 0.0 in SQL, so both must have one encoding (S1) */
    memcpy(&u, &r, sizeof u);
    return (u & SIGN_BIT) ? ~u : (u | SIGN_BIT);
}

/* Inverse of real_to_key; false for the patterns it never produces. */
static bool key_to_real(uint64_t k, double *out)
{
    uint64_t u = (k & SIGN_BIT) ? (k & ~SIGN_BIT) : ~k;
    double r;
    memcpy(&r, &u, sizeof r);
    if (isnan(r) || (r == 0.0 && signbit(r)))
        return false;
    *out = r;
    return true;
}

bool spine_text_valid(const char *t, size_t n)
{
    return n == 0 || memchr(t, 0, n) == NULL;
}

size_t spine_value_encode(const ivm_value *v, uint8_t *out)
{
    switch (v->type) {
    case IVM_TINT:
        /* Flipping the sign bit maps two's complement order onto unsigned
         * order, which big-endian bytes compare correctly. */
        out[0] = SPINE_TAG_INT;
        put_be64(out + 1, (uint64_t)v->u.i ^ SIGN_BIT);
        return 9;
    case IVM_TREAL:
        if (isnan(v->u.r))
            break; /* SQLite turns NaN into NULL; so do we */
        out[0] = SPINE_TAG_REAL;
        put_be64(out + 1, real_to_key(v->u.r));
        return 9;
    case IVM_TTEXT:
        /* Input paths reject NUL (spine_text_valid) before values get here;
         * scanning every text again per encode cost 3-6% of a push-bound
         * run, so only the slow-check builds repeat it. */
        IVM_ASSERT_SLOW(spine_text_valid(v->u.s.p, v->u.s.n));
        out[0] = SPINE_TAG_TEXT;
        if (v->u.s.n > 0)
            memcpy(out + 1, v->u.s.p, v->u.s.n);
        out[1 + v->u.s.n] = 0x00;
        return (size_t)v->u.s.n + 2;
    case IVM_TNULL:
        break;
    }
    IVM_ASSERT(v->type == IVM_TNULL || v->type == IVM_TREAL);
    out[0] = SPINE_TAG_NULL;
    return 1;
}

/* True if some byte of x is zero: the borrow out of a zero byte sets its
 * high bit where the byte's own high bit was clear (a flag can also show
 * above a zero byte, never without one). */
#define WORD_HAS_ZERO(x, ones, highs) ((((x) - (ones)) & ~(x) & (highs)) != 0)

/* Copies n bytes of text to out, checking for a zero byte on the way;
 * false at a NUL (out is then partly written).  Whole words only: 16 bytes
 * a loop, then the last 8 (or 4) bytes as one word that overlaps what was
 * copied already, rather than a byte loop for the tail, which was most of
 * the time spent on short texts (a URL of 58 bytes had 2 bytes of tail, a
 * text of 6 bytes no word at all). */
static bool copy_text_checked(uint8_t *out, const char *t, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
#if defined(__SSE2__)
    /* With SSE2 a step of 16 bytes is one load, compare, mask and store
     * (two words took twice the instructions), the tail one more step that
     * overlaps: a bid's URL of 58 bytes in 4 steps. */
    if (n >= 16) {
        const __m128i zero = _mm_setzero_si128();
        size_t i = 0;
        for (; i + 16 <= n; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
            if (_mm_movemask_epi8(_mm_cmpeq_epi8(x, zero)) != 0)
                return false;
            _mm_storeu_si128((__m128i *)(void *)(out + i), x);
        }
        if (i < n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + n - 16));
            if (_mm_movemask_epi8(_mm_cmpeq_epi8(x, zero)) != 0)
                return false;
            _mm_storeu_si128((__m128i *)(void *)(out + n - 16), x);
        }
        return true;
    }
#endif
    if (n >= 8) {
        size_t i = 0;
        for (; i + 16 <= n; i += 16) {
            uint64_t x, y;
            memcpy(&x, t + i, sizeof x);
            memcpy(&y, t + i + 8, sizeof y);
            if (WORD_HAS_ZERO(x, ones, highs) || WORD_HAS_ZERO(y, ones, highs))
                return false;
            memcpy(out + i, &x, sizeof x);
            memcpy(out + i + 8, &y, sizeof y);
        }
        if (i + 8 <= n) {
            uint64_t x;
            memcpy(&x, t + i, sizeof x);
            if (WORD_HAS_ZERO(x, ones, highs))
                return false;
            memcpy(out + i, &x, sizeof x);
            i += 8;
        }
        if (i < n) {
            uint64_t x;
            memcpy(&x, t + n - 8, sizeof x);
            if (WORD_HAS_ZERO(x, ones, highs))
                return false;
            memcpy(out + n - 8, &x, sizeof x);
        }
        return true;
    }
    if (n >= 4) {
        /* Two words of 4 that overlap when n < 8. */
        uint32_t x, y;
        memcpy(&x, t, sizeof x);
        memcpy(&y, t + n - 4, sizeof y);
        if (WORD_HAS_ZERO(x, (uint32_t)ones, (uint32_t)highs) ||
            WORD_HAS_ZERO(y, (uint32_t)ones, (uint32_t)highs))
            return false;
        memcpy(out, &x, sizeof x);
        memcpy(out + n - 4, &y, sizeof y);
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] == 0)
            return false;
        out[i] = (uint8_t)t[i];
    }
    return true;
}

size_t spine_value_encode_checked(const ivm_value *v, uint8_t *out)
{
    if (v->type != IVM_TTEXT)
        return spine_value_encode(v, out);
    out[0] = SPINE_TAG_TEXT;
    if (!copy_text_checked(out + 1, v->u.s.p, v->u.s.n))
        return 0;
    out[1 + v->u.s.n] = 0x00;
    return (size_t)v->u.s.n + 2;
}

uint32_t spine_row_encode_checked(const ivm_value *vals, const uint32_t *cols, uint32_t n,
                                  uint8_t *out)
{
    /* One call per row, the common classes inline: a call per value (a
     * switch in another function, then the text copy in a third) was a
     * third of the encoding time of a row of 7 values. */
    uint8_t *q = out;
    for (uint32_t k = 0; k < n; k++) {
        const ivm_value *v = &vals[cols != NULL ? cols[k] : k];
        if (v->type == IVM_TINT) {
            q[0] = SPINE_TAG_INT;
            put_be64(q + 1, (uint64_t)v->u.i ^ SIGN_BIT);
            q += 9;
        } else if (v->type == IVM_TTEXT) {
            q[0] = SPINE_TAG_TEXT;
            if (!copy_text_checked(q + 1, v->u.s.p, v->u.s.n))
                return k;
            q[1 + v->u.s.n] = 0x00;
            q += (size_t)v->u.s.n + 2;
        } else {
            q += spine_value_encode(v, q);
        }
    }
    return n;
}

bool spine_row_encode_as(const ivm_value *vals, const uint32_t *cols, uint32_t n,
                         const ivm_type *types, uint8_t *out, size_t cap, size_t *len_out)
{
    /* Each value is tested for its class and for room in the one pass
     * that encodes it: a pass to size the row first, then this one, made
     * two walks over every value of a push. */
    uint8_t *q = out;
    size_t room = cap;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t c = cols != NULL ? cols[k] : k;
        const ivm_value *v = &vals[c];
        if (v->type != types[c])
            return false;
        if (v->type == IVM_TINT) {
            if (room < 9)
                return false;
            q[0] = SPINE_TAG_INT;
            put_be64(q + 1, (uint64_t)v->u.i ^ SIGN_BIT);
            q += 9;
            room -= 9;
        } else if (v->type == IVM_TTEXT) {
            size_t tn = v->u.s.n;
            if (room < tn + 2)
                return false;
            q[0] = SPINE_TAG_TEXT;
            if (!copy_text_checked(q + 1, v->u.s.p, tn))
                return false;
            q[1 + tn] = 0x00;
            q += tn + 2;
            room -= tn + 2;
        } else if (v->type == IVM_TREAL && !isnan(v->u.r)) {
            if (room < 9)
                return false;
            q[0] = SPINE_TAG_REAL;
            put_be64(q + 1, real_to_key(v->u.r));
            q += 9;
            room -= 9;
        } else {
            return false; /* NULL, NaN: the general path */
        }
    }
    *len_out = (size_t)(q - out);
    return true;
}

size_t spine_row_size(const ivm_value *vals, uint32_t n)
{
    size_t size = 0;
    for (uint32_t i = 0; i < n; i++)
        size += spine_value_size(&vals[i]);
    return size;
}

size_t spine_row_encode(const ivm_value *vals, uint32_t n, uint8_t *out)
{
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++)
        at += spine_value_encode(&vals[i], out + at);
    return at;
}

/* spine_col_len, inlined into the loops over a row's columns below (a
 * call per column was a tenth of splitting a row; with the SSE2 loop the
 * compiler stopped inlining it by itself). */
static inline __attribute__((always_inline)) size_t col_len_in(const uint8_t *lo,
                                                                const uint8_t *p,
                                                                const uint8_t *end)
{
    if (p == NULL || p >= end)
        return 0;
    size_t avail = (size_t)(end - p);
    double r;
    switch (p[0]) {
    case SPINE_TAG_NULL:
        return 1;
    case SPINE_TAG_INT:
        return avail >= 9 ? 9 : 0;
    case SPINE_TAG_REAL:
        if (avail < 9 || !key_to_real(get_be64(p + 1), &r))
            return 0;
        return 9;
    case SPINE_TAG_TEXT: {
        /* The first NUL ends the text (S1: text holds none).  Texts are
         * mostly short: 16 bytes at a time inline where SSE2 is (every
         * x86-64), then 8 (never past end), where a call to memchr cost
         * more than the search.  Walking a row's columns (splitting it for
         * an operator, checking a fed batch) is mostly this loop over its
         * texts: 16 bytes a step took a Nexmark bid's URL (58 bytes) in 4
         * steps instead of 8. */
        const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
        const uint8_t *q = p + 1;
#if defined(__SSE2__)
        const __m128i zero = _mm_setzero_si128();
        for (; end - q >= 16; q += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, zero));
            if (m != 0)
                return (size_t)(q - p) + (size_t)__builtin_ctz(m) + 1;
        }
        /* Fewer than 16 bytes left (the last column of a row, mostly): the
         * 16 bytes that end at end, when the caller's bytes from lo reach
         * that far back, with the flags of those before q shifted out
         * (they may be anything: earlier columns).  A short text at the
         * end of a row took a byte loop of its length. */
        if (q < end && end - lo >= 16) {
            const uint8_t *w = end - 16;
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)w), zero));
            m >>= (unsigned)(q - w);
            return m != 0 ? (size_t)(q - p) + (size_t)__builtin_ctz(m) + 1 : 0;
        }
#endif
        for (; end - q >= 8; q += 8) {
            uint64_t x;
            memcpy(&x, q, sizeof x);
            uint64_t z = (x - ones) & ~x & highs;
            if (z != 0) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                /* The lowest flagged byte is the first zero (a borrow
                 * can only flag bytes above a zero one). */
                return (size_t)(q - p) + (size_t)(__builtin_ctzll(z) >> 3) + 1;
#else
                break;
#endif
            }
        }
        for (; q < end; q++)
            if (*q == 0)
                return (size_t)(q - p) + 1;
        return 0;
    }
    default:
        return 0;
    }
}

/* col_len_in with no bytes before p to read. */
static inline __attribute__((always_inline)) size_t col_len(const uint8_t *p,
                                                             const uint8_t *end)
{
    return col_len_in(p, p, end);
}

size_t spine_col_len(const uint8_t *p, const uint8_t *end)
{
    return col_len(p, end);
}

void spine_col_decode(const uint8_t *p, size_t cl, ivm_value *out)
{
    switch (p[0]) {
    case SPINE_TAG_INT:
        *out = ivm_value_int((int64_t)(get_be64(p + 1) ^ SIGN_BIT));
        return;
    case SPINE_TAG_REAL: {
        double r = 0.0;
        key_to_real(get_be64(p + 1), &r);
        *out = ivm_value_real(r);
        return;
    }
    case SPINE_TAG_TEXT:
        *out = ivm_value_text((const char *)p + 1, (uint32_t)(cl - 2));
        return;
    default:
        *out = ivm_value_null();
        return;
    }
}

/* Validates the whole row even past max, so that -1 means "not a row"
 * whatever max the caller passes. */
int spine_row_decode(const uint8_t *row, size_t len, ivm_value *out, uint32_t max)
{
    if (len == 0)
        return 0;
    if (row == NULL)
        return -1;
    if (max > INT32_MAX)
        max = INT32_MAX;
    const uint8_t *p = row, *end = row + len;
    uint32_t n = 0;
    while (p < end) {
        size_t cl = col_len_in(row, p, end);
        if (cl == 0 || (p[0] == SPINE_TAG_TEXT && cl - 2 > UINT32_MAX))
            return -1;
        if (n < max)
            spine_col_decode(p, cl, &out[n++]);
        p += cl;
    }
    return (int)n;
}

bool spine_row_split(const uint8_t *row, size_t len, uint32_t ncols, size_t *off_out)
{
    const uint8_t *p = row, *end = row + len;
    for (uint32_t i = 0; i < ncols; i++) {
        off_out[i] = (size_t)(p - row);
        /* An INT first, the commonest column, without the switch. */
        if (p < end && p[0] == SPINE_TAG_INT && end - p >= 9) {
            p += 9;
            continue;
        }
        size_t cl = col_len_in(row, p, end);
        if (cl == 0 || (p[0] == SPINE_TAG_TEXT && cl - 2 > UINT32_MAX))
            return false;
        p += cl;
    }
    off_out[ncols] = (size_t)(p - row);
    return true;
}

size_t spine_row_prefix_len(const uint8_t *row, size_t len, uint32_t ncols)
{
    if (len == 0 || row == NULL)
        return 0;
    const uint8_t *p = row, *end = row + len;
    for (uint32_t i = 0; i < ncols; i++) {
        size_t cl = col_len_in(row, p, end);
        if (cl == 0)
            return 0;
        p += cl;
    }
    return (size_t)(p - row);
}
