/*
 * expr_func.c: the scalar functions of compiled expressions (DBSP_X_FUNC),
 * each with the meaning SQLite 3.40 gives it on typed values, and the LIKE
 * and GLOB matchers.  Arguments are evaluated here (coalesce lazily, the
 * rest eagerly, as SQLite does); text results go to the scratch arena (D7)
 * and never exceed DBSP_TEXT_MAX bytes.  It does not check arity (the
 * constructor did) or bind names (the planner).  dbsp/README.md,
 * "Expressions", lists the rules and the few places ivm differs.
 */
#include "dbsp_int.h"

#include <math.h>
#include <stdio.h>

typedef dbsp_evalctx evalctx;

/* Longest LIKE or GLOB pattern, as SQLite's SQLITE_MAX_LIKE_PATTERN_LENGTH. */
#define PATTERN_MAX 50000

/* ---- UTF-8 ------------------------------------------------------------------ */

static bool is_cont(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* Bytes of the character starting at p[i] (i < n): its first byte and the
 * continuation bytes after it, which is how SQLite steps through text. */
static uint32_t char_len(const char *p, uint32_t n, uint32_t i)
{
    uint32_t j = i + 1;
    if ((unsigned char)p[i] >= 0xC0)
        while (j < n && is_cont(p[j]))
            j++;
    return j - i;
}

/* Characters of text as SQLite's length() and substr() count them,
 * stepping as char_len does: a continuation byte after a lead byte is part
 * of its character, a stray one is a character of its own. */
static int64_t utf8_chars(const char *p, uint32_t n)
{
    int64_t c = 0;
    for (uint32_t i = 0; i < n; c++)
        i += (unsigned char)p[i] < 0xC0 ? 1 : char_len(p, n, i);
    return c;
}

/* Byte offset of the character `count` characters after p[i] (n when the
 * text ends first), stepping as char_len does.  A run of ASCII bytes is
 * one character per byte whatever follows it, so it is skipped whole. */
static uint32_t skip_chars(const char *p, uint32_t n, uint32_t i, int64_t count)
{
    while (count > 0 && i < n) {
        uint32_t run = n - i < count ? n - i : (uint32_t)count;
        uint32_t k = 0;
        while (k < run && (unsigned char)p[i + k] < 0x80)
            k++;
        i += k;
        count -= k;
        if (count > 0 && i < n) {
            i += char_len(p, n, i);
            count--;
        }
    }
    return i;
}

/* The code point of the character at p[i] (i < n), advancing *i past it;
 * malformed sequences read as SQLite reads them (an overlong form, a
 * surrogate or U+FFFE/U+FFFF becomes U+FFFD; a stray continuation byte is
 * its own value). */
static uint32_t utf8_read(const char *p, uint32_t n, uint32_t *i)
{
    uint32_t c = (unsigned char)p[(*i)++];
    if (c < 0xC0)
        return c;
    c = c >= 0xFC ? c & 0x01 : c >= 0xF8 ? c & 0x03 : c >= 0xF0 ? c & 0x07
        : c >= 0xE0 ? c & 0x0F : c & 0x1F;
    while (*i < n && is_cont(p[*i]))
        c = (c << 6) + ((unsigned char)p[(*i)++] & 0x3F);
    if (c < 0x80 || (c & 0xFFFFF800) == 0xD800 || (c & 0xFFFFFFFE) == 0xFFFE)
        c = 0xFFFD;
    return c;
}

/* ---- Common pieces ------------------------------------------------------------ */

/* A number's text form must outlive the call that printed it: copy it to
 * scratch (text values are returned as they are). */
static ivm_rc keep_text(evalctx *x, ivm_value *v)
{
    if (v->u.s.n == 0) {
        v->u.s.p = "";
        return IVM_OK;
    }
    char *t = rt_arena_alloc(x->scratch, v->u.s.n);
    if (t == NULL)
        return IVM_NOMEM;
    memcpy(t, v->u.s.p, v->u.s.n);
    v->u.s.p = t;
    return IVM_OK;
}

/* sqlite3_value_int: the 64-bit value cut to 32 bits, as substr() and
 * round() read their counts in SQLite 3.40. */
static int32_t int32_arg(const ivm_value *v)
{
    return (int32_t)(uint32_t)(uint64_t)dbsp_value_int64(v);
}

static bool any_null(const ivm_value *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (v[i].type == IVM_TNULL)
            return true;
    return false;
}

/* ---- Case, length ---------------------------------------------------------------- */

/* lower/upper on ASCII letters only, as SQLite without ICU.  Text with
 * nothing to change is returned as it is, without a copy. */
static ivm_rc change_case(evalctx *x, bool upper, const ivm_value *a, ivm_value *out)
{
    char buf[40];
    ivm_value t = dbsp_value_text_form(a, buf, sizeof buf);
    char lo = upper ? 'a' : 'A', hi = upper ? 'z' : 'Z';
    uint32_t i = 0;
    while (i < t.u.s.n && !(t.u.s.p[i] >= lo && t.u.s.p[i] <= hi))
        i++;
    if (i == t.u.s.n) {
        *out = t;
        return a->type == IVM_TTEXT ? IVM_OK : keep_text(x, out);
    }
    char *d = rt_arena_alloc(x->scratch, t.u.s.n);
    if (d == NULL)
        return IVM_NOMEM;
    for (uint32_t k = 0; k < t.u.s.n; k++) {
        char c = t.u.s.p[k];
        d[k] = (c >= lo && c <= hi) ? (char)(c ^ 0x20) : c;
    }
    *out = ivm_value_text(d, t.u.s.n);
    return IVM_OK;
}

/* ---- round ----------------------------------------------------------------------- */

/* round(x [, digits]): REAL.  Beyond 2^52 every double is integral already;
 * with no digits it rounds half away from zero; with digits it goes through
 * printf's %.Nf and reads the text back, exactly as SQLite does (so that
 * round(1.005, 2) agrees with it). */
static ivm_rc fn_round(evalctx *x, const ivm_value *v, uint32_t n, ivm_value *out)
{
    int32_t digits = 0;
    if (n == 2) {
        digits = int32_arg(&v[1]);
        if (digits > 30)
            digits = 30;
        if (digits < 0)
            digits = 0;
    }
    double r = dbsp_value_real(&v[0]);
    if (r < -4503599627370496.0 || r > 4503599627370496.0) {
        /* integral already */
    } else if (digits == 0) {
        r = (double)(int64_t)(r + (r < 0 ? -0.5 : 0.5));
    } else {
        dbsp_sbuf b;
        dbsp_sbuf_init(&b, x);
        ivm_rc rc = dbsp_format_real(&b, r, 'f', digits, false, false);
        if (rc != IVM_OK)
            return rc;
        ivm_value t, num;
        if ((rc = dbsp_sbuf_done(&b, &t)) != IVM_OK)
            return rc;
        if (dbsp_text_as_number(t.u.s.p, t.u.s.n, &num))
            r = num.type == IVM_TINT ? (double)num.u.i : num.u.r;
    }
    *out = ivm_value_real(r);
    return IVM_OK;
}

/* ---- substr, trim, replace, instr ------------------------------------------------------ */

/* substr(s, start [, count]) in characters, with SQLite's rules for a zero,
 * negative or out-of-range start and a negative count (the characters
 * before start). */
static ivm_rc fn_substr(evalctx *x, const ivm_value *v, uint32_t n, ivm_value *out)
{
    char buf[40];
    ivm_value t = dbsp_value_text_form(&v[0], buf, sizeof buf);
    const char *z = t.u.s.p;
    uint32_t zn = t.u.s.n;
    int64_t p1 = int32_arg(&v[1]);
    int64_t p2 = DBSP_TEXT_MAX;
    bool neg2 = false;
    if (n == 3) {
        p2 = int32_arg(&v[2]);
        if (p2 < 0) {
            p2 = -p2;
            neg2 = true;
        }
    }
    if (p1 < 0) {
        p1 += utf8_chars(z, zn);
        if (p1 < 0) {
            p2 += p1;
            if (p2 < 0)
                p2 = 0;
            p1 = 0;
        }
    } else if (p1 > 0) {
        p1--;
    } else if (p2 > 0) {
        p2--;
    }
    if (neg2) {
        p1 -= p2;
        if (p1 < 0) {
            p2 += p1;
            p1 = 0;
        }
    }
    uint32_t i = skip_chars(z, zn, 0, p1);
    /* Every character is at least a byte: a count of at least the bytes
     * left takes the rest of the text (the usual substr(s, i)). */
    uint32_t j = p2 >= zn - i ? zn : skip_chars(z, zn, i, p2);
    *out = ivm_value_text(z + i, j - i);
    return v[0].type == IVM_TTEXT ? IVM_OK : keep_text(x, out);
}

/* trim/ltrim/rtrim(s [, chars]): removes any of the characters of chars
 * (default a space) from the chosen ends. */
static ivm_rc fn_trim(evalctx *x, dbsp_fn fn, const ivm_value *v, uint32_t n, ivm_value *out)
{
    char buf[40], sbuf[40];
    ivm_value t = dbsp_value_text_form(&v[0], buf, sizeof buf);
    ivm_value set = n == 2 ? dbsp_value_text_form(&v[1], sbuf, sizeof sbuf)
                           : ivm_value_text(" ", 1);
    const char *z = t.u.s.p, *s = set.u.s.p;
    uint32_t lo = 0, hi = t.u.s.n, sn = set.u.s.n;
    if (sn > 0 && fn != DBSP_FN_RTRIM) {
        for (bool cut = true; cut && lo < hi;) {
            cut = false;
            for (uint32_t k = 0; k < sn; k += char_len(s, sn, k)) {
                uint32_t len = char_len(s, sn, k);
                if (len <= hi - lo && memcmp(z + lo, s + k, len) == 0) {
                    lo += len;
                    cut = true;
                    break;
                }
            }
        }
    }
    if (sn > 0 && fn != DBSP_FN_LTRIM) {
        for (bool cut = true; cut && lo < hi;) {
            cut = false;
            for (uint32_t k = 0; k < sn; k += char_len(s, sn, k)) {
                uint32_t len = char_len(s, sn, k);
                if (len <= hi - lo && memcmp(z + hi - len, s + k, len) == 0) {
                    hi -= len;
                    cut = true;
                    break;
                }
            }
        }
    }
    *out = ivm_value_text(z + lo, hi - lo);
    return v[0].type == IVM_TTEXT ? IVM_OK : keep_text(x, out);
}

/* replace(s, from, to): every non-overlapping occurrence, left to right; an
 * empty `from` returns s unchanged (even a number, as SQLite). */
static ivm_rc fn_replace(evalctx *x, const ivm_value *v, ivm_value *out)
{
    char b0[40], b1[40], b2[40];
    ivm_value s = dbsp_value_text_form(&v[0], b0, sizeof b0);
    ivm_value f = dbsp_value_text_form(&v[1], b1, sizeof b1);
    ivm_value t = dbsp_value_text_form(&v[2], b2, sizeof b2);
    if (f.u.s.n == 0) {
        *out = v[0];
        return IVM_OK;
    }
    dbsp_sbuf b;
    dbsp_sbuf_init(&b, x);
    uint32_t i = 0, last = 0;
    while (i + f.u.s.n <= s.u.s.n) {
        if (memcmp(s.u.s.p + i, f.u.s.p, f.u.s.n) == 0) {
            dbsp_sbuf_put(&b, s.u.s.p + last, i - last);
            dbsp_sbuf_put(&b, t.u.s.p, t.u.s.n);
            i += f.u.s.n;
            last = i;
        } else {
            i++;
        }
    }
    dbsp_sbuf_put(&b, s.u.s.p + last, s.u.s.n - last);
    return dbsp_sbuf_done(&b, out);
}

/* instr(s, sub): the 1-based character position of the first occurrence,
 * 0 when there is none, 1 for an empty sub.  As SQLite 3.40's instr, the
 * candidates are the first byte and every later byte that does not
 * continue a sequence, numbered in that order (so a stray continuation
 * byte is no character here, unlike in length and substr). */
static ivm_value fn_instr(const ivm_value *v)
{
    char b0[40], b1[40];
    ivm_value s = dbsp_value_text_form(&v[0], b0, sizeof b0);
    ivm_value f = dbsp_value_text_form(&v[1], b1, sizeof b1);
    const char *h = s.u.s.p, *nd = f.u.s.p;
    uint32_t hn = s.u.s.n, fn = f.u.s.n;
    if (fn == 0)
        return ivm_value_int(1);
    if (fn > hn)
        return ivm_value_int(0);
    if (!is_cont(nd[0])) {
        /* Only a candidate can hold the needle's first byte (or the
         * first byte of all), so the first byte match is the first
         * candidate match: its number is 1 + the candidates before it. */
        const char *m = memmem(h, hn, nd, fn);
        if (m == NULL)
            return ivm_value_int(0);
        uint32_t at = (uint32_t)(m - h);
        int64_t before = at > 0 && is_cont(h[0]);
        for (uint32_t i = 0; i < at; i++)
            before += !is_cont(h[i]);
        return ivm_value_int(1 + before);
    }
    int64_t pos = 1;
    uint32_t i = 0;
    while (fn <= hn - i && memcmp(h + i, nd, fn) != 0) {
        pos++;
        do
            i++;
        while (i < hn && is_cont(h[i]));
    }
    return ivm_value_int(fn <= hn - i ? pos : 0);
}

/* ---- hex, quote, unicode, typeof --------------------------------------------------- */

static ivm_rc fn_hex(evalctx *x, const ivm_value *a, ivm_value *out)
{
    static const char digits[] = "0123456789ABCDEF";
    if (a->type == IVM_TNULL) {
        *out = ivm_value_text("", 0);
        return IVM_OK;
    }
    char buf[40];
    ivm_value t = dbsp_value_text_form(a, buf, sizeof buf);
    if ((size_t)t.u.s.n * 2 > DBSP_TEXT_MAX)
        return dbsp_too_big(x);
    if (t.u.s.n == 0) {
        *out = t;
        return IVM_OK;
    }
    char *d = rt_arena_alloc(x->scratch, (size_t)t.u.s.n * 2);
    if (d == NULL)
        return IVM_NOMEM;
    for (uint32_t i = 0; i < t.u.s.n; i++) {
        unsigned char c = (unsigned char)t.u.s.p[i];
        d[2 * i] = digits[c >> 4];
        d[2 * i + 1] = digits[c & 15];
    }
    *out = ivm_value_text(d, t.u.s.n * 2);
    return IVM_OK;
}

/* quote(v): an SQL literal.  A REAL prints with 15 significant digits when
 * that reads back as the same double, else with 20 after the point, as
 * SQLite does. */
static ivm_rc fn_quote(evalctx *x, const ivm_value *a, ivm_value *out)
{
    dbsp_sbuf b;
    dbsp_sbuf_init(&b, x);
    switch (a->type) {
    case IVM_TNULL:
        *out = ivm_value_text("NULL", 4);
        return IVM_OK;
    case IVM_TINT: {
        char buf[40];
        *out = dbsp_value_text_form(a, buf, sizeof buf);
        return keep_text(x, out);
    }
    case IVM_TREAL: {
        ivm_rc rc = dbsp_format_real(&b, a->u.r, 'g', 15, false, true);
        ivm_value t, back;
        if (rc == IVM_OK)
            rc = dbsp_sbuf_done(&b, &t);
        if (rc != IVM_OK)
            return rc;
        if (isfinite(a->u.r) && dbsp_text_as_number(t.u.s.p, t.u.s.n, &back) &&
            !(back.type == IVM_TREAL && back.u.r == a->u.r) &&
            !(back.type == IVM_TINT && (double)back.u.i == a->u.r)) {
            dbsp_sbuf_init(&b, x);
            rc = dbsp_format_real(&b, a->u.r, 'e', 20, false, true);
            if (rc == IVM_OK)
                rc = dbsp_sbuf_done(&b, &t);
            if (rc != IVM_OK)
                return rc;
        }
        *out = t;
        return IVM_OK;
    }
    default:
        dbsp_sbuf_put(&b, "'", 1);
        for (uint32_t i = 0, last = 0; i <= a->u.s.n; i++) {
            if (i == a->u.s.n || a->u.s.p[i] == '\'') {
                dbsp_sbuf_put(&b, a->u.s.p + last, i - last + (i < a->u.s.n));
                if (i < a->u.s.n)
                    dbsp_sbuf_put(&b, "'", 1);
                last = i + 1;
            }
        }
        dbsp_sbuf_put(&b, "'", 1);
        return dbsp_sbuf_done(&b, out);
    }
}

static ivm_value fn_typeof(const ivm_value *a)
{
    static const char *const names[] = {"null", "integer", "real", "text"};
    const char *s = names[a->type <= IVM_TTEXT ? a->type : 0];
    return ivm_value_text(s, (uint32_t)strlen(s));
}

/* ---- LIKE and GLOB ---------------------------------------------------------------- */

typedef struct matcher {
    bool glob;          /* GLOB: * ? [...], case-sensitive; else LIKE: % _ */
    bool has_esc;       /* LIKE ... ESCAPE */
    uint32_t esc;
} matcher;

static uint32_t fold(uint32_t c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Does character c belong to the GLOB class at p[*i..n) (just after its
 * '[')?  *i moves past the closing ']'; false with *i = n when the class is
 * not closed (then nothing matches, as in SQLite). */
static bool glob_class(const char *p, uint32_t n, uint32_t *i, uint32_t c, bool *closed)
{
    bool invert = false, hit = false;
    uint32_t prev = 0;
    *closed = false;
    if (*i < n && p[*i] == '^') {
        invert = true;
        (*i)++;
    }
    if (*i < n && p[*i] == ']') {
        hit = c == ']';
        prev = ']';
        (*i)++;
    }
    while (*i < n) {
        uint32_t d = utf8_read(p, n, i);
        if (d == ']') {
            *closed = true;
            return hit != invert;
        }
        if (d == '-' && prev != 0 && *i < n && p[*i] != ']') {
            uint32_t hi = utf8_read(p, n, i);
            if (c >= prev && c <= hi)
                hit = true;
            prev = 0;
            continue;
        }
        if (d == c)
            hit = true;
        prev = d;
    }
    return false;
}

/* Matches s against pattern p.  Iterative: on a mismatch it goes back to the
 * last multi-character wildcard and lets it take one more character, which
 * finds a match whenever there is one (only the last wildcard needs to move)
 * in O(|p| |s|) steps without recursion. */
static bool pattern_match(const matcher *m, const char *p, uint32_t pn, const char *s,
                          uint32_t sn)
{
    uint32_t pi = 0, si = 0;
    bool star = false;
    uint32_t star_p = 0, star_s = 0;
    uint32_t many = m->glob ? '*' : '%', one = m->glob ? '?' : '_';
    for (;;) {
        if (pi < pn) {
            uint32_t at = pi;
            uint32_t c = utf8_read(p, pn, &pi);
            bool escaped = false;
            if (m->has_esc && c == m->esc) {
                if (pi >= pn)
                    return false; /* an escape at the end matches nothing */
                c = utf8_read(p, pn, &pi);
                escaped = true;
            }
            if (!escaped && c == many) {
                star = true;
                star_p = pi;
                star_s = si;
                continue;
            }
            if (si < sn) {
                uint32_t sat = si;
                uint32_t d = utf8_read(s, sn, &si);
                if (!escaped && c == one)
                    continue;
                if (!escaped && m->glob && c == '[') {
                    bool closed;
                    bool hit = glob_class(p, pn, &pi, d, &closed);
                    if (!closed)
                        return false;
                    if (hit)
                        continue;
                } else if (m->glob ? c == d : fold(c) == fold(d)) {
                    continue;
                }
                si = sat;
            }
            pi = at;
        } else if (si == sn) {
            return true;
        }
        /* Mismatch: the last wildcard takes one more character. */
        if (!star || star_s >= sn)
            return false;
        star_s += char_len(s, sn, star_s);
        si = star_s;
        pi = star_p;
    }
}

/* like(x, pattern [, escape]) and glob(x, pattern).  Note: x comes first
 * here; the planner swaps SQL's like(pattern, x). */
static ivm_rc fn_match(evalctx *x, bool glob, const ivm_value *v, uint32_t n, ivm_value *out)
{
    char b0[40], b1[40], b2[40];
    /* As SQLite: the pattern's length and the escape are checked before a
     * NULL operand makes the result NULL. */
    ivm_value p = v[1].type == IVM_TNULL ? ivm_value_text("", 0)
                                         : dbsp_value_text_form(&v[1], b1, sizeof b1);
    if (p.u.s.n > PATTERN_MAX)
        return ivm_err_set(x->err, IVM_INVALID, 0, 0, "LIKE or GLOB pattern too complex");
    matcher m = {glob, false, 0};
    if (n == 3 && v[2].type == IVM_TNULL) {
        *out = ivm_value_null();
        return IVM_OK;
    }
    if (n == 3) {
        ivm_value e = dbsp_value_text_form(&v[2], b2, sizeof b2);
        uint32_t i = 0;
        if (e.u.s.n == 0 || (m.esc = utf8_read(e.u.s.p, e.u.s.n, &i), i != e.u.s.n))
            return ivm_err_set(x->err, IVM_INVALID, 0, 0,
                               "ESCAPE expression must be a single character");
        m.has_esc = true;
    }
    if (v[0].type == IVM_TNULL || v[1].type == IVM_TNULL) {
        *out = ivm_value_null();
        return IVM_OK;
    }
    ivm_value s = dbsp_value_text_form(&v[0], b0, sizeof b0);
    *out = ivm_value_int(pattern_match(&m, p.u.s.p, p.u.s.n, s.u.s.p, s.u.s.n));
    return IVM_OK;
}

/* ---- Numbers ----------------------------------------------------------------------- */

/* CAST(a AS NUMERIC): text by its numeric prefix; an integral result within
 * +-2^51 is INT, as SQLite's conversion makes it; REAL stays REAL. */
static ivm_value cast_numeric(const ivm_value *a)
{
    if (a->type != IVM_TTEXT)
        return *a;
    ivm_value v = dbsp_value_number(a);
    if (v.type == IVM_TREAL && v.u.r == floor(v.u.r) && v.u.r > -2251799813685248.0 &&
        v.u.r < 2251799813685248.0)
        return ivm_value_int((int64_t)v.u.r);
    return v;
}

/* Numeric affinity (comparisons with a numeric column): text that is wholly
 * a number becomes it; anything else stays. */
static ivm_value numeric_affinity(const ivm_value *a)
{
    ivm_value v;
    if (a->type == IVM_TTEXT && dbsp_text_as_number(a->u.s.p, a->u.s.n, &v))
        return v;
    return *a;
}

static ivm_value fn_sign(const ivm_value *a)
{
    ivm_value v = *a;
    if (v.type == IVM_TTEXT && !dbsp_text_as_number(a->u.s.p, a->u.s.n, &v))
        return ivm_value_null();
    double r = v.type == IVM_TINT ? (double)v.u.i : v.u.r;
    return ivm_value_int(r < 0 ? -1 : r > 0 ? 1 : 0);
}

/* ---- Dispatch ------------------------------------------------------------------------ */

/* Scalar min/max: NULL if any argument is; else the least (greatest) value,
 * the last of equal least values and the first of equal greatest ones, as
 * SQLite picks them. */
static void min_max(bool max, const ivm_value *v, uint32_t n, ivm_value *out)
{
    if (any_null(v, n)) {
        *out = ivm_value_null();
        return;
    }
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++) {
        int c = dbsp_value_cmp(&v[best], &v[i]);
        if (max ? c < 0 : c >= 0)
            best = i;
    }
    *out = v[best];
}

ivm_rc dbsp_eval_func(const dbsp_expr *e, evalctx *x, ivm_value *out)
{
    ivm_rc rc;
    if (e->fn == DBSP_FN_COALESCE) {
        /* Lazy, like SQLite: later arguments are not evaluated. */
        for (uint32_t i = 0; i < e->nargs; i++) {
            if ((rc = dbsp_eval(e->args[i], x, out)) != IVM_OK)
                return rc;
            if (out->type != IVM_TNULL)
                return IVM_OK;
        }
        return IVM_OK;
    }
    ivm_value small[3] = {{IVM_TNULL, {0}}, {IVM_TNULL, {0}}, {IVM_TNULL, {0}}};
    ivm_value *v = small;
    uint32_t n = e->nargs;
    if (n > 3) {
        v = rt_arena_alloc(x->scratch, sizeof *v * n);
        if (v == NULL)
            return IVM_NOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        if ((rc = dbsp_eval(e->args[i], x, &v[i])) != IVM_OK)
            return rc;
    /* Functions that see NULL arguments themselves. */
    switch ((dbsp_fn)e->fn) {
    case DBSP_FN_TYPEOF:
        *out = fn_typeof(&v[0]);
        return IVM_OK;
    case DBSP_FN_QUOTE:
        return fn_quote(x, &v[0], out);
    case DBSP_FN_HEX:
        return fn_hex(x, &v[0], out);
    case DBSP_FN_PRINTF:
        return dbsp_printf(x, v, n, out);
    case DBSP_FN_SORTKEY:
        return dbsp_sortkey(x, v, n, out);
    case DBSP_FN_MIN:
    case DBSP_FN_MAX:
        min_max(e->fn == DBSP_FN_MAX, v, n, out);
        return IVM_OK;
    case DBSP_FN_LIKE:
    case DBSP_FN_GLOB:
        return fn_match(x, e->fn == DBSP_FN_GLOB, v, n, out);
    case DBSP_FN_NULLIF:
        /* NULL when equal (two NULLs are), else the first argument. */
        *out = v[0].type != IVM_TNULL && v[1].type != IVM_TNULL &&
                       dbsp_value_cmp(&v[0], &v[1]) == 0
                   ? ivm_value_null()
                   : v[0];
        return IVM_OK;
    default:
        break;
    }
    if (any_null(v, n)) {
        *out = ivm_value_null();
        return IVM_OK;
    }
    switch ((dbsp_fn)e->fn) {
    case DBSP_FN_ABS:
        if (v[0].type == IVM_TINT) {
            if (v[0].u.i == INT64_MIN)
                return ivm_err_set(x->err, IVM_INVALID, 0, 0, "integer overflow");
            *out = ivm_value_int(v[0].u.i < 0 ? -v[0].u.i : v[0].u.i);
        } else {
            /* abs of text reads it as a REAL ('-5' gives 5.0), as SQLite. */
            *out = ivm_value_real(fabs(dbsp_value_real(&v[0])));
        }
        return IVM_OK;
    case DBSP_FN_LENGTH:
        if (v[0].type == IVM_TTEXT) {
            *out = ivm_value_int(utf8_chars(v[0].u.s.p, v[0].u.s.n));
        } else {
            char buf[40];
            *out = ivm_value_int(dbsp_value_text_form(&v[0], buf, sizeof buf).u.s.n);
        }
        return IVM_OK;
    case DBSP_FN_LOWER:
    case DBSP_FN_UPPER:
        return change_case(x, e->fn == DBSP_FN_UPPER, &v[0], out);
    case DBSP_FN_ROUND:
        return fn_round(x, v, n, out);
    case DBSP_FN_SUBSTR:
        return fn_substr(x, v, n, out);
    case DBSP_FN_TRIM:
    case DBSP_FN_LTRIM:
    case DBSP_FN_RTRIM:
        return fn_trim(x, (dbsp_fn)e->fn, v, n, out);
    case DBSP_FN_REPLACE:
        return fn_replace(x, v, out);
    case DBSP_FN_INSTR:
        *out = fn_instr(v);
        return IVM_OK;
    case DBSP_FN_UNICODE: {
        char buf[40];
        ivm_value t = dbsp_value_text_form(&v[0], buf, sizeof buf);
        uint32_t i = 0;
        *out = t.u.s.n ? ivm_value_int(utf8_read(t.u.s.p, t.u.s.n, &i)) : ivm_value_null();
        return IVM_OK;
    }
    case DBSP_FN_NUMERIC:
        *out = numeric_affinity(&v[0]);
        return IVM_OK;
    case DBSP_FN_CAST_NUMERIC:
        *out = cast_numeric(&v[0]);
        return IVM_OK;
    case DBSP_FN_SIGN:
        *out = fn_sign(&v[0]);
        return IVM_OK;
    case DBSP_FN_NUMKEY:
        *out = v[0];
        /* -2^63 <= r < 2^63 and integral: exactly one int64. */
        if (v[0].type == IVM_TREAL && v[0].u.r >= -9223372036854775808.0 &&
            v[0].u.r < 9223372036854775808.0 && v[0].u.r == (double)(int64_t)v[0].u.r)
            *out = ivm_value_int((int64_t)v[0].u.r);
        return IVM_OK;
    case DBSP_FN_REAL_AFF:
        *out = v[0].type == IVM_TINT ? ivm_value_real((double)v[0].u.i) : v[0];
        return IVM_OK;
    default:
        return ivm_err_set(x->err, IVM_INTERNAL, 0, 0, "unknown function %d", (int)e->fn);
    }
}
