/*
 * expr_printf.c: SQL's printf(format, ...) (also format()) with SQLite 3.40's
 * conversions: %d %i %u %x %X %o %p %r (integers), %f %e %E %g %G (reals),
 * %s %z %c %q %Q %w (text), %% and %n; flags - + space 0 # ! and the
 * thousands separator ','; width and precision, as numbers or '*'.  Output
 * goes to the scratch arena and is limited to DBSP_TEXT_MAX bytes.
 *
 * Reals are converted the way SQLite's own formatter does, not by the C
 * library: the value is rounded by adding half a unit of the last digit
 * asked for (plus a small nudge for %f), scaled into [1, 10) in long double
 * arithmetic and cut into at most 16 significant digits (26 with '!'); the
 * digits after those are zeros.  So printf('%.20f', 0.1) is
 * 0.10000000000000000000 and round(1.005, 2) is 1.01, as in SQLite.
 *
 * An unknown conversion ends the output, as in SQLite; an output that is
 * empty before any conversion was done is NULL.  One difference: a %c
 * of NULL or empty text writes nothing (SQLite writes a NUL byte, which ivm's
 * text cannot hold).  dbsp/README.md, "Expressions", has the details.
 */
#include "dbsp_int.h"

#include <math.h>

typedef struct spec {
    bool left, plus, blank, alt, alt2, zero, comma;
    int64_t width;
    int64_t prec;            /* -1: none */
} spec;

/* Arguments as printf reads them: missing ones are NULL. */
typedef struct args {
    const ivm_value *v;
    uint32_t n, next;
} args;

static const ivm_value *next_arg(args *a)
{
    static const ivm_value null_value = {IVM_TNULL, {0}};
    return a->next < a->n ? &a->v[a->next++] : &null_value;
}

/* ---- Reals ------------------------------------------------------------------------- */

/* The next digit of v (in [0, 10)), while *left significant digits remain;
 * '0' after that. */
static char next_digit(long double *v, int *left)
{
    if (*left <= 0)
        return '0';
    (*left)--;
    int d = (int)*v;
    *v = (*v - d) * 10.0;
    return (char)('0' + d);
}

/* Writes the real r per conv ('f', 'e', 'E', 'g', 'G') and spec s into b:
 * sign, digits, point, exponent and zero padding up to s->width (space
 * padding is the caller's). */
static void real_body(dbsp_sbuf *b, double r, char conv, const spec *s)
{
    enum { FIXED, EXP, GENERIC } kind = conv == 'f' ? FIXED : (conv == 'e' || conv == 'E') ? EXP
                                                                                        : GENERIC;
    int64_t prec = s->prec < 0 ? 6 : s->prec;
    if (prec > 100000000)
        prec = 100000000;
    long double v = r;
    char sign = 0;
    if (v < 0) {
        v = -v;
        sign = '-';
    } else if (s->plus) {
        sign = '+';
    } else if (s->blank) {
        sign = ' ';
    }
    if (kind == GENERIC && prec > 0)
        prec--;
    /* Half a unit of the last digit asked for. */
    static const double halves[10] = {5.0e-1, 5.0e-2, 5.0e-3, 5.0e-4, 5.0e-5,
                                      5.0e-6, 5.0e-7, 5.0e-8, 5.0e-9, 5.0e-10};
    int64_t idx = prec & 0xfff;
    long double half = halves[idx % 10];
    for (; idx >= 10; idx -= 10)
        half *= 1.0e-10; /* double constants, widened: as SQLite */
    if (kind == FIXED) {
        /* A nudge of a few ulps, so that 0.15 to one place reads 0.2. */
        int bexp;
        frexp(r, &bexp);
        int64_t ex = (int64_t)bexp - 1;
        if (prec + ex / 3 < 15)
            half += v * 3e-16;
        v += half;
    }
    int64_t exp = 0;
    if (v > 0) {
        long double scale = 1.0L;
        while (v >= 1e100 * scale && exp <= 350) {
            scale *= 1e100;
            exp += 100;
        }
        while (v >= 1e10 * scale && exp <= 350) {
            scale *= 1e10;
            exp += 10;
        }
        while (v >= 10.0 * scale && exp <= 350) {
            scale *= 10.0L;
            exp++;
        }
        v /= scale;
        while (v < 1e-8) {
            v *= 1.0e8;
            exp -= 8;
        }
        while (v < 1.0L) {
            v *= 10.0;
            exp--;
        }
        if (exp > 350) {
            if (sign)
                dbsp_sbuf_put(b, &sign, 1);
            dbsp_sbuf_put(b, "Inf", 3);
            return;
        }
    }
    if (kind != FIXED) {
        v += half;
        if (v >= 10.0) {
            v *= 0.1;
            exp++;
        }
    }
    bool trim_zeros;
    if (kind == GENERIC) {
        trim_zeros = !s->alt;
        if (exp < -4 || exp > prec) {
            kind = EXP;
        } else {
            prec -= exp;
            kind = FIXED;
        }
    } else {
        trim_zeros = s->alt2;
    }
    int64_t e2 = kind == EXP ? 0 : exp;
    int left = s->alt2 ? 26 : 16;
    size_t start = b->n;
    if (sign)
        dbsp_sbuf_put(b, &sign, 1);
    size_t body = b->n;
    char d;
    if (e2 < 0) {
        dbsp_sbuf_put(b, "0", 1);
    } else {
        for (; e2 >= 0; e2--) {
            d = next_digit(&v, &left);
            dbsp_sbuf_put(b, &d, 1);
        }
    }
    bool point = prec > 0 || s->alt || s->alt2;
    if (point)
        dbsp_sbuf_put(b, ".", 1);
    for (e2++; e2 < 0 && prec > 0; prec--, e2++)
        dbsp_sbuf_put(b, "0", 1);
    /* Past the significant digits only zeros follow: write them at once. */
    for (; prec > 0 && left > 0; prec--) {
        d = next_digit(&v, &left);
        dbsp_sbuf_put(b, &d, 1);
    }
    if (prec > 0)
        dbsp_sbuf_fill(b, '0', (size_t)prec);
    if (b->rc != IVM_OK)
        return;
    if (trim_zeros && point) {
        while (b->n > body && b->p[b->n - 1] == '0')
            b->n--;
        if (b->n > body && b->p[b->n - 1] == '.') {
            if (s->alt2)
                dbsp_sbuf_put(b, "0", 1);
            else
                b->n--;
        }
    }
    if (kind == EXP) {
        char e[8];
        int k = 0;
        e[k++] = conv == 'E' || conv == 'G' ? 'E' : 'e';
        if (exp < 0) {
            e[k++] = '-';
            exp = -exp;
        } else {
            e[k++] = '+';
        }
        if (exp >= 100) {
            e[k++] = (char)('0' + exp / 100);
            exp %= 100;
        }
        e[k++] = (char)('0' + exp / 10);
        e[k++] = (char)('0' + exp % 10);
        dbsp_sbuf_put(b, e, (size_t)k);
    }
    /* Zero padding goes between the sign and the digits. */
    size_t len = b->n - start;
    if (s->zero && !s->left && (int64_t)len < s->width && b->rc == IVM_OK) {
        size_t pad = (size_t)s->width - len;
        size_t at = start + (sign != 0);
        dbsp_sbuf_fill(b, '0', pad);
        if (b->rc == IVM_OK) {
            memmove(b->p + at + pad, b->p + at, b->n - pad - at);
            memset(b->p + at, '0', pad);
        }
    }
}

ivm_rc dbsp_format_real(dbsp_sbuf *b, double r, char conv, int prec, bool alt, bool alt2)
{
    spec s = {0};
    s.prec = prec;
    s.alt = alt;
    s.alt2 = alt2;
    real_body(b, r, conv, &s);
    return b->rc;
}

/* ---- Integers ---------------------------------------------------------------------- */

/* Digits of an integer conversion: sign, alternate prefix, zeros up to the
 * precision (or the width, with the 0 flag), thousands separators, and the
 * ordinal suffix of %r. */
static void int_body(dbsp_sbuf *b, int64_t iv, char conv, const spec *s)
{
    bool is_signed = conv == 'd' || conv == 'i' || conv == 'r';
    unsigned base = conv == 'x' || conv == 'X' || conv == 'p' ? 16 : conv == 'o' ? 8 : 10;
    const char *digits = conv == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
    uint64_t u;
    char sign = 0;
    if (is_signed && iv < 0) {
        u = 0 - (uint64_t)iv;
        sign = '-';
    } else {
        u = (uint64_t)iv;
        if (is_signed)
            sign = s->plus ? '+' : s->blank ? ' ' : 0;
    }
    bool alt = s->alt && u != 0;
    int64_t prec = s->prec;
    if (s->zero && prec < s->width - (sign != 0))
        prec = s->width - (sign != 0);
    /* Built backwards from the end of a local buffer (at most 64 octal
     * digits plus suffix), then zeros and separators on the way out. */
    char tmp[80];
    size_t o = sizeof tmp;
    if (conv == 'r') {
        static const char suffix[] = "thstndrd";
        unsigned k = (unsigned)(u % 10);
        if (k >= 4 || (u / 10) % 10 == 1)
            k = 0;
        tmp[--o] = suffix[2 * k + 1];
        tmp[--o] = suffix[2 * k];
    }
    do {
        tmp[--o] = digits[u % base];
        u /= base;
    } while (u != 0);
    size_t ndig = sizeof tmp - o;
    size_t zeros = prec > (int64_t)ndig ? (size_t)(prec - (int64_t)ndig) : 0;
    if (sign)
        dbsp_sbuf_put(b, &sign, 1);
    if (alt && base != 10)
        dbsp_sbuf_put(b, conv == 'o' ? "0" : conv == 'X' ? "0X" : "0x", conv == 'o' ? 1 : 2);
    if (s->comma && base == 10 && conv != 'r') {
        /* Every third digit from the right (zeros included) gets a comma. */
        size_t total = zeros + ndig;
        /* Room for all of it at once: a huge precision fails now, not
         * after a billion single bytes. */
        dbsp_sbuf_fill(b, '0', total + (total - 1) / 3);
        if (b->rc != IVM_OK)
            return;
        b->n -= total + (total - 1) / 3;
        for (size_t k = 0; k < total; k++) {
            char c = k < zeros ? '0' : tmp[o + (k - zeros)];
            dbsp_sbuf_put(b, &c, 1);
            size_t rest = total - k - 1;
            if (rest > 0 && rest % 3 == 0)
                dbsp_sbuf_put(b, ",", 1);
        }
        return;
    }
    dbsp_sbuf_fill(b, '0', zeros);
    dbsp_sbuf_put(b, tmp + o, ndig);
}

/* ---- Text ------------------------------------------------------------------------ */

/* Bytes of the first `chars` characters of t (all of it if fewer). */
static size_t char_prefix(const char *t, size_t n, int64_t chars)
{
    size_t i = 0;
    while (i < n && chars-- > 0) {
        i++;
        while (i < n && ((unsigned char)t[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

static size_t cont_bytes(const char *t, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)t[i] & 0xC0) == 0x80;
    return c;
}

/* %q %Q %w: the text with the quote doubled; %Q wraps it in quotes and
 * writes NULL for NULL; %q and %w write (NULL). */
static void quoted_body(dbsp_sbuf *b, const ivm_value *a, char conv, const spec *s)
{
    char q = conv == 'w' ? '"' : '\'';
    char buf[40];
    bool null = a->type == IVM_TNULL;
    ivm_value t = null ? (conv == 'Q' ? ivm_value_text("NULL", 4) : ivm_value_text("(NULL)", 6))
                       : dbsp_value_text_form(a, buf, sizeof buf);
    size_t n = t.u.s.n;
    if (s->prec >= 0)
        n = s->alt2 ? char_prefix(t.u.s.p, n, s->prec)
                    : (size_t)IVM_MIN((int64_t)n, s->prec);
    bool wrap = !null && conv == 'Q';
    if (wrap)
        dbsp_sbuf_put(b, &q, 1);
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        if (t.u.s.p[i] == q) {
            dbsp_sbuf_put(b, t.u.s.p + last, i + 1 - last);
            dbsp_sbuf_put(b, &q, 1);
            last = i + 1;
        }
    }
    dbsp_sbuf_put(b, t.u.s.p + last, n - last);
    if (wrap)
        dbsp_sbuf_put(b, &q, 1);
}

/* ---- The driver --------------------------------------------------------------------- */

/* Reads a decimal number at f[*i..n): SQLite keeps the low 31 bits. */
static int64_t read_number(const char *f, uint32_t n, uint32_t *i)
{
    uint32_t x = 0;
    while (*i < n && f[*i] >= '0' && f[*i] <= '9')
        x = x * 10 + (uint32_t)(f[(*i)++] - '0');
    return x & 0x7fffffff;
}

/* Appends body (the bytes b->p[from..]) padded with spaces to width:
 * before it, or after it for '-'.  `extra` bytes do not count towards the
 * width (UTF-8 continuation bytes with '!'). */
static void pad_field(dbsp_sbuf *b, size_t from, const spec *s, size_t extra)
{
    if (b->rc != IVM_OK)
        return;
    size_t len = b->n - from;
    int64_t width = s->width + (int64_t)extra;
    if (width <= (int64_t)len)
        return;
    size_t pad = (size_t)(width - (int64_t)len);
    dbsp_sbuf_fill(b, ' ', pad);
    if (b->rc != IVM_OK || s->left)
        return;
    memmove(b->p + from + pad, b->p + from, len);
    memset(b->p + from, ' ', pad);
}

static ivm_rc finish(dbsp_sbuf *b, bool converted, ivm_value *out)
{
    if (b->rc == IVM_OK && b->n == 0 && !converted) {
        *out = ivm_value_null();
        return IVM_OK;
    }
    return dbsp_sbuf_done(b, out);
}

ivm_rc dbsp_printf(dbsp_evalctx *x, const ivm_value *argv, uint32_t nargs, ivm_value *out)
{
    if (argv[0].type == IVM_TNULL) {
        *out = ivm_value_null();
        return IVM_OK;
    }
    char fbuf[40];
    ivm_value fv = dbsp_value_text_form(&argv[0], fbuf, sizeof fbuf);
    const char *f = fv.u.s.p;
    uint32_t fn = fv.u.s.n;
    args a = {argv, nargs, 1};
    dbsp_sbuf b;
    dbsp_sbuf_init(&b, x);
    /* SQLite's result is NULL when nothing was written and no conversion
     * was done (an empty format, or an unknown conversion first). */
    bool converted = false;
    uint32_t i = 0;
    while (i < fn && b.rc == IVM_OK) {
        if (f[i] != '%') {
            uint32_t j = i;
            while (j < fn && f[j] != '%')
                j++;
            dbsp_sbuf_put(&b, f + i, j - i);
            i = j;
            continue;
        }
        if (++i >= fn) {
            dbsp_sbuf_put(&b, "%", 1); /* a lone % at the end */
            break;
        }
        spec s = {0};
        s.prec = -1;
        for (bool more = true; more && i < fn; ) {
            switch (f[i]) {
            case '-': s.left = true; break;
            /* Of + and space, the last one written counts. */
            case '+': s.plus = true; s.blank = false; break;
            case ' ': s.blank = true; s.plus = false; break;
            case '#': s.alt = true; break;
            case '!': s.alt2 = true; break;
            case '0': s.zero = true; break;
            case ',': s.comma = true; break;
            default: more = false; continue;
            }
            i++;
        }
        if (i < fn && f[i] == '*') {
            i++;
            int64_t w = (int32_t)(uint32_t)(uint64_t)dbsp_value_int64(next_arg(&a));
            if (w < 0) {
                s.left = true;
                w = w >= -2147483647 ? -w : 0;
            }
            s.width = w;
        } else {
            s.width = read_number(f, fn, &i);
        }
        if (i < fn && f[i] == '.') {
            i++;
            if (i < fn && f[i] == '*') {
                i++;
                int64_t p = (int32_t)(uint32_t)(uint64_t)dbsp_value_int64(next_arg(&a));
                s.prec = p < 0 ? (p >= -2147483647 ? -p : -1) : p;
            } else {
                s.prec = read_number(f, fn, &i);
            }
        }
        if (i < fn && f[i] == 'l') {
            i++;
            if (i < fn && f[i] == 'l')
                i++;
        }
        if (i >= fn)
            break; /* no conversion: SQLite stops here */
        char conv = f[i++];
        size_t from = b.n, extra = 0;
        switch (conv) {
        case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': case 'p': case 'r':
            int_body(&b, dbsp_value_int64(next_arg(&a)), conv, &s);
            break;
        case 'f': case 'e': case 'E': case 'g': case 'G':
            real_body(&b, dbsp_value_real(next_arg(&a)), conv, &s);
            break;
        case 's': case 'z': {
            const ivm_value *v = next_arg(&a);
            char buf[40];
            ivm_value t = v->type == IVM_TNULL ? ivm_value_text("", 0)
                                               : dbsp_value_text_form(v, buf, sizeof buf);
            size_t n = t.u.s.n;
            if (s.prec >= 0)
                n = s.alt2 ? char_prefix(t.u.s.p, n, s.prec) : (size_t)IVM_MIN((int64_t)n, s.prec);
            dbsp_sbuf_put(&b, t.u.s.p, n);
            if (s.alt2 && s.width > 0)
                extra = cont_bytes(t.u.s.p, n);
            break;
        }
        case 'c': {
            const ivm_value *v = next_arg(&a);
            char buf[40];
            ivm_value t = v->type == IVM_TNULL ? ivm_value_text("", 0)
                                               : dbsp_value_text_form(v, buf, sizeof buf);
            size_t n = char_prefix(t.u.s.p, t.u.s.n, 1);
            /* SQLite writes a NUL byte for nothing: it takes room, but ivm's
             * text holds no NUL, so the room stays empty. */
            if (n == 0 && s.width > 0 && s.prec <= 1)
                s.width--;
            if (s.prec > 1) {
                /* The character precision times; the width counts them all. */
                s.width -= s.prec - 1;
                if (s.width > 1 && !s.left) {
                    dbsp_sbuf_fill(&b, ' ', (size_t)(s.width - 1));
                    s.width = 0;
                }
                for (int64_t k = 1; k < s.prec && b.rc == IVM_OK; k++)
                    dbsp_sbuf_put(&b, t.u.s.p, n);
                from = b.n;
            }
            dbsp_sbuf_put(&b, t.u.s.p, n);
            if (s.width > 0)
                extra = cont_bytes(t.u.s.p, n);
            break;
        }
        case 'q': case 'Q': case 'w':
            quoted_body(&b, next_arg(&a), conv, &s);
            if (s.alt2 && s.width > 0 && b.rc == IVM_OK)
                extra = cont_bytes(b.p + from, b.n - from);
            break;
        case '%':
            dbsp_sbuf_put(&b, "%", 1);
            break;
        case 'n':
            s.width = 0;
            break;
        default:
            /* An unknown conversion (or one SQLite keeps for itself) ends
             * the output. */
            return finish(&b, converted, out);
        }
        pad_field(&b, from, &s, extra);
        converted = true;
    }
    return finish(&b, converted, out);
}
