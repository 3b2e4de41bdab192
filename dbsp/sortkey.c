/*
 * sortkey.c: DBSP_FN_SORTKEY, an order-preserving key for ORDER BY terms.
 * Spine's row encoding orders rows by class first (every INT before every
 * REAL), which is not SQL's order (1 < 1.5 < 2); this file builds one TEXT
 * value whose bytes compare, by memcmp, exactly as SQLite's ORDER BY compares
 * the terms: NULL first or last, numbers by exact value across INT and REAL,
 * then text by bytes (BINARY collation), each term ascending or descending.
 * Top-k (op_topk.c) reads an integral whose values start with this key, so
 * that the spine's own order is the ORDER BY order.  It does not compare
 * rows (memcmp does) nor know about views.  Design: dbsp/README.md, "Order
 * keys".
 *
 * The key of a row is the concatenation of its terms' encodings, each
 * prefix-free:
 *
 *   NULL, NULLS FIRST    0x01
 *   NULL, NULLS LAST     0x03
 *   any other value      0x02, then the value's bytes (all inverted for DESC)
 *     number             0x10, hi (8 bytes), rem (2 bytes, big-endian)
 *     text               0x20, the bytes, 0x00
 *
 * A number is hi + rem where hi is the largest double <= the value and rem an
 * integer in [0, 1024) (non-zero only for an INT that no double holds): hi
 * goes through the sign-flip mapping that makes doubles compare as unsigned
 * big-endian integers, so (hi, rem) orders exactly, INT against REAL, and
 * 2 and 2.0 give equal bytes.  Inverting every byte of a prefix-free
 * encoding reverses its order (two encodings differ at some byte before
 * either ends), which is DESC.  The bytes are finally escaped so that the
 * text holds no NUL (spine's text invariant): 0x00 -> 0x01 0x01, 0x01 ->
 * 0x01 0x02, others unchanged, a prefix-free code in byte order, so the
 * escaped keys order as the raw ones do.
 */
#include "dbsp_int.h"

#include <math.h>

#define SIGN_BIT 0x8000000000000000ULL

/* Doubles to unsigned integers in the same order (-0.0 is 0.0). */
static uint64_t real_bits(double r)
{
    uint64_t u;
    if (r == 0.0)
        r = 0.0;
    memcpy(&u, &r, sizeof u);
    return (u & SIGN_BIT) ? ~u : (u | SIGN_BIT);
}

/* hi and rem of an INT: hi the largest double <= i, rem = i - hi. */
static void int_split(int64_t i, double *hi, uint32_t *rem)
{
    double d = (double)i;
    /* (double)i rounds to nearest; step down when it rounded up.  2^63 is
     * above every int64; below it, d is integral and converts exactly. */
    if (d >= 9223372036854775808.0 || (int64_t)d > i)
        d = nextafter(d, -INFINITY);
    *hi = d;
    *rem = (uint32_t)(i - (int64_t)d);
}

/* A term is escaped into a small buffer on the stack and appended to the
 * result in one dbsp_sbuf_put (a text term in pieces of up to TERM_MAX
 * bytes): a put per byte, each with its room check, was most of the time
 * Nexmark q18 and q19 spent computing their keys.  The bytes are the same. */
#define TERM_MAX 64

typedef struct term_buf {
    dbsp_sbuf *b;
    uint8_t n;
    char p[TERM_MAX];
} term_buf;

static void term_flush(term_buf *t)
{
    dbsp_sbuf_put(t->b, t->p, t->n);
    t->n = 0;
}

/* Appends byte c escaped (no NUL in the result), inverted first for DESC. */
static inline void put_byte(term_buf *t, uint8_t c, bool desc)
{
    if (t->n > TERM_MAX - 2)
        term_flush(t);
    if (desc)
        c = (uint8_t)~c;
    if (c <= 1) {
        t->p[t->n++] = 1;
        t->p[t->n++] = (char)(c + 1);
    } else {
        t->p[t->n++] = (char)c;
    }
}

static void put_be(term_buf *t, uint64_t x, int bytes, bool desc)
{
    for (int i = bytes - 1; i >= 0; i--)
        put_byte(t, (uint8_t)(x >> (8 * i)), desc);
}

static void put_term(dbsp_sbuf *b, int64_t flags, const ivm_value *v)
{
    term_buf t = {.b = b, .n = 0};
    bool desc = (flags & DBSP_ORDER_DESC) != 0;
    if (v->type == IVM_TNULL || (v->type == IVM_TREAL && isnan(v->u.r))) {
        put_byte(&t, (flags & DBSP_ORDER_NULLS_LAST) ? 0x03 : 0x01, false);
        term_flush(&t);
        return;
    }
    put_byte(&t, 0x02, false);
    if (v->type == IVM_TTEXT) {
        put_byte(&t, 0x20, desc);
        for (uint32_t i = 0; i < v->u.s.n; i++)
            put_byte(&t, (uint8_t)v->u.s.p[i], desc);
        put_byte(&t, 0x00, desc);
        term_flush(&t);
        return;
    }
    double hi = 0;
    uint32_t rem = 0;
    if (v->type == IVM_TINT)
        int_split(v->u.i, &hi, &rem);
    else
        hi = v->u.r;
    put_byte(&t, 0x10, desc);
    put_be(&t, real_bits(hi), 8, desc);
    put_be(&t, rem, 2, desc);
    term_flush(&t);
}

ivm_rc dbsp_sortkey(dbsp_evalctx *x, const ivm_value *args, uint32_t nargs, ivm_value *out)
{
    dbsp_sbuf b;
    dbsp_sbuf_init(&b, x);
    for (uint32_t i = 0; i + 1 < nargs; i += 2) {
        int64_t flags = args[i].type == IVM_TINT ? args[i].u.i : 0;
        put_term(&b, flags, &args[i + 1]);
    }
    return dbsp_sbuf_done(&b, out);
}
