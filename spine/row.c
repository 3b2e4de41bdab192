/*
 * row.c: the row encoding: typed values to memcomparable bytes and back
 * (spine_row_*, spine_value_encode, spine_col_len, spine_text_valid).  A row
 * here is only a sequence of self-describing columns; this file knows no
 * schema and allocates nothing.  Decoding trusts nothing: every length is
 * checked against the end of the buffer, and bytes the encoder would never
 * write (unknown tags, NaN, -0.0, unterminated text) are rejected, so that
 * byte equality stays SQL equality (S1).  The encoding and the reasons for
 * it are in spine/README.md ("Row encoding").
 */
#include "spine_int.h"

#include <math.h>

#define SIGN_BIT 0x8000000000000000ULL

static void put_be64(uint8_t *p, uint64_t x)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)x;
        x >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = (x << 8) | p[i];
    return x;
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

static size_t value_size(const ivm_value *v)
{
    switch (v->type) {
    case IVM_TINT:
        return 9;
    case IVM_TREAL:
        return isnan(v->u.r) ? 1 : 9;
    case IVM_TTEXT:
        return (size_t)v->u.s.n + 2;
    case IVM_TNULL:
        break;
    }
    return 1;
}

size_t spine_row_size(const ivm_value *vals, uint32_t n)
{
    size_t size = 0;
    for (uint32_t i = 0; i < n; i++)
        size += value_size(&vals[i]);
    return size;
}

size_t spine_row_encode(const ivm_value *vals, uint32_t n, uint8_t *out)
{
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++)
        at += spine_value_encode(&vals[i], out + at);
    return at;
}

size_t spine_col_len(const uint8_t *p, const uint8_t *end)
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
        /* The first NUL ends the text (S1: text holds none). */
        const uint8_t *z = memchr(p + 1, 0, avail - 1);
        return z == NULL ? 0 : (size_t)(z - p) + 1;
    }
    default:
        return 0;
    }
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
        size_t cl = spine_col_len(p, end);
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
        size_t cl = spine_col_len(p, end);
        if (cl == 0 || (p[0] == SPINE_TAG_TEXT && cl - 2 > UINT32_MAX))
            return false;
        off_out[i] = (size_t)(p - row);
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
        size_t cl = spine_col_len(p, end);
        if (cl == 0)
            return 0;
        p += cl;
    }
    return (size_t)(p - row);
}
