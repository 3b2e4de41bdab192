/*
 * slt_result.c: query results as the reference runner prints them.  Every
 * value is formatted by the type letter of its column, never by the class of
 * the ivm value: the expected results were printed by SQLite's
 * sqlite3_column_int / _double / _text, and this file reproduces those
 * conversions (rules in tests/slt/README.md).  It also sorts results
 * (rowsort, valuesort) and hashes them.  Checking a result against a record
 * is slt_run.c's business.
 */
#include "slt.h"

#include <math.h>
#include <inttypes.h>

/* ---- Conversions as SQLite makes them ----------------------------------------- */

static bool sqlite_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* sqlite3_column_int64 of a text: leading white space, a sign, the leading
 * digits; the rest is ignored, an overflow saturates. */
static int64_t text_to_int(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && sqlite_space(s[i]))
        i++;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    uint64_t v = 0;
    bool over = false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            over = true;
        else
            v = v * 10 + d;
    }
    if (neg)
        return (over || v > (uint64_t)INT64_MAX + 1) ? INT64_MIN : (int64_t)(0 - v);
    return (over || v > (uint64_t)INT64_MAX) ? INT64_MAX : (int64_t)v;
}

/* sqlite3_column_double of a text: the longest decimal prefix
 * ([sign] digits [. digits] [e [sign] digits]); 0.0 if there is none. */
static double text_to_real(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && sqlite_space(s[i]))
        i++;
    size_t start = i;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    size_t digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return 0.0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '-' || s[j] == '+'))
            j++;
        if (j < n && s[j] >= '0' && s[j] <= '9') {
            while (j < n && s[j] >= '0' && s[j] <= '9')
                j++;
            i = j;
        }
    }
    char buf[400];
    size_t len = IVM_MIN(i - start, sizeof buf - 1);
    memcpy(buf, s + start, len);
    buf[len] = '\0';
    return strtod(buf, NULL);
}

/* SQLite's REAL to INTEGER: truncation toward zero, saturating. */
static int64_t real_to_int(double r)
{
    if (isnan(r))
        return 0;
    if (r <= -9223372036854775808.0)
        return INT64_MIN;
    if (r >= 9223372036854775807.0)
        return INT64_MAX;
    return (int64_t)r;
}

/* SQLite's "%.3f": like printf's, but SQLite's printf keeps at most 16
 * significant digits (rounded) and writes zeros after them, so that
 * -9223372036854775808.0 prints as -9223372036854776000.000.  Below 1e13 the
 * three decimals never need a 17th digit and printf's output is SQLite's. */
static size_t format_real3(double r, char *buf, size_t cap)
{
    if (r == 0.0)
        r = 0.0; /* SQLite prints -0.0 without its sign */
    if (!isfinite(r) || fabs(r) < 1e13)
        return (size_t)snprintf(buf, cap, "%.3f", r);
    char e[40];
    snprintf(e, sizeof e, "%.15e", r); /* [-]d.ddddddddddddddde+XX */
    const char *p = e;
    char out[400];
    size_t k = 0;
    if (*p == '-')
        out[k++] = *p++;
    char digits[16];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < 16)
            digits[nd++] = *p;
    int exp10 = atoi(p + 1); /* >= 13 here */
    for (int i = 0; i <= exp10 && k < sizeof out - 8; i++)
        out[k++] = i < nd ? digits[i] : '0';
    out[k++] = '.';
    for (int i = exp10 + 1; i < exp10 + 4; i++)
        out[k++] = i < nd ? digits[i] : '0';
    out[k] = '\0';
    return (size_t)snprintf(buf, cap, "%s", out);
}

size_t slt_format_value(char t, const ivm_value *v, char *buf, size_t cap)
{
    if (v->type == IVM_TNULL)
        return (size_t)snprintf(buf, cap, "NULL");
    switch (t) {
    case 'I': {
        int64_t i;
        if (v->type == IVM_TINT)
            i = v->u.i;
        else if (v->type == IVM_TREAL)
            i = real_to_int(v->u.r);
        else
            i = text_to_int(v->u.s.p, v->u.s.n);
        /* The reference prints sqlite3_column_int: the low 32 bits. */
        return (size_t)snprintf(buf, cap, "%d", (int)(int32_t)(uint32_t)(uint64_t)i);
    }
    case 'R': {
        double r;
        if (v->type == IVM_TINT)
            r = (double)v->u.i;
        else if (v->type == IVM_TREAL)
            r = v->u.r;
        else
            r = text_to_real(v->u.s.p, v->u.s.n);
        return format_real3(r, buf, cap);
    }
    default: {
        if (v->type == IVM_TINT)
            return (size_t)snprintf(buf, cap, "%" PRId64, v->u.i);
        if (v->type == IVM_TREAL) {
            char tmp[64];
            size_t n = ivm_format_real(v->u.r, tmp, sizeof tmp);
            return (size_t)snprintf(buf, cap, "%.*s", (int)n, tmp);
        }
        if (v->u.s.n == 0)
            return (size_t)snprintf(buf, cap, "(empty)");
        /* Control characters and bytes outside printable ASCII print as
         * '@', as the reference runner prints them. */
        size_t n = v->u.s.n;
        if (cap > 0) {
            size_t k = IVM_MIN(n, cap - 1);
            for (size_t i = 0; i < k; i++) {
                unsigned char c = (unsigned char)v->u.s.p[i];
                buf[i] = (c < ' ' || c > '~') ? '@' : (char)c;
            }
            buf[k] = '\0';
        }
        return n;
    }
    }
}

/* ---- Result buffers ------------------------------------------------------------ */

void slt_result_init(slt_result *r)
{
    memset(r, 0, sizeof *r);
}

void slt_result_fini(slt_result *r)
{
    ivm_free(r->bytes);
    ivm_free(r->offs);
    ivm_free((void *)r->vals);
    memset(r, 0, sizeof *r);
}

void slt_result_reset(slt_result *r, const char *types)
{
    r->nbytes = 0;
    r->nvals = 0;
    r->types = types;
    r->ncols = (uint32_t)strlen(types);
    r->got_cols = 0;
    r->wrong_cols = false;
    r->nomem = false;
}

static bool append_value(slt_result *r, char t, const ivm_value *v)
{
    /* Reserve 64 bytes (enough for numbers), then the text's length. */
    size_t need = 64;
    if (t != 'I' && t != 'R' && v->type == IVM_TTEXT)
        need = IVM_MAX(need, (size_t)v->u.s.n + 1);
    if (ivm_grow((void **)&r->bytes, &r->capbytes, r->nbytes + need, 1) != IVM_OK ||
        ivm_grow((void **)&r->offs, &r->capvals, r->nvals + 1, sizeof(size_t)) != IVM_OK)
        return false;
    size_t n = slt_format_value(t, v, r->bytes + r->nbytes, r->capbytes - r->nbytes);
    r->offs[r->nvals++] = r->nbytes;
    r->nbytes += n + 1;
    return true;
}

int slt_result_row(void *arg, uint32_t ncols, const ivm_value *vals, const char *const *names)
{
    slt_result *r = arg;
    r->got_cols = ncols;
    if (ncols != r->ncols) {
        r->wrong_cols = true;
        return 1;
    }
    for (uint32_t i = 0; i < ncols; i++) {
        if (!append_value(r, r->types[i], &vals[i])) {
            r->nomem = true;
            return 1;
        }
    }
    return 0;
}

bool slt_result_finish(slt_result *r)
{
    if (ivm_grow((void **)&r->vals, &r->capptrs, r->nvals + 1, sizeof(char *)) != IVM_OK)
        return false;
    for (size_t i = 0; i < r->nvals; i++)
        r->vals[i] = r->bytes + r->offs[i];
    return true;
}

/* ---- Sorting and hashing ------------------------------------------------------- */

static int cmp_rows(const void *a, const void *b, void *arg)
{
    const char *const *x = a, *const *y = b;
    uint32_t ncols = *(const uint32_t *)arg;
    for (uint32_t i = 0; i < ncols; i++) {
        int c = strcmp(x[i], y[i]);
        if (c != 0)
            return c;
    }
    return 0;
}

void slt_sort_values(const char **vals, size_t n, uint32_t ncols, slt_sort sort)
{
    if (sort == SLT_NOSORT || n == 0)
        return;
    uint32_t width = sort == SLT_VALUESORT ? 1 : ncols;
    if (width == 0 || n % width != 0)
        return;
    qsort_r(vals, n / width, width * sizeof(char *), cmp_rows, &width);
}

void slt_hash_values(const char *const *vals, size_t n, char hex_out[33])
{
    slt_md5 m;
    slt_md5_init(&m);
    for (size_t i = 0; i < n; i++) {
        slt_md5_update(&m, vals[i], strlen(vals[i]));
        slt_md5_update(&m, "\n", 1);
    }
    slt_md5_final_hex(&m, hex_out);
}

bool slt_parse_hash_line(const char *line, size_t *n_out, char hex_out[33])
{
    const char *p = line;
    if (*p < '0' || *p > '9')
        return false;
    size_t n = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (size_t)(*p - '0');
    static const char mid[] = " values hashing to ";
    if (strncmp(p, mid, sizeof mid - 1) != 0)
        return false;
    p += sizeof mid - 1;
    for (int i = 0; i < 32; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    if (p[32] != '\0')
        return false;
    memcpy(hex_out, p, 32);
    hex_out[32] = '\0';
    *n_out = n;
    return true;
}
