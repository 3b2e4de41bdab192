/*
 * base.c: the project-wide basics declared in ivm_base.h: status code names,
 * the error context, allocation wrappers and SQLite-compatible formatting of
 * REAL values.  Nothing here allocates behind the caller's back or aborts on
 * out-of-memory.
 */
#include "ivm_base.h"

#include <math.h>
#include <stdio.h>

static const char *const rc_names[IVM_RC_COUNT] = {
    [IVM_OK] = "ok",
    [IVM_NOMEM] = "out of memory",
    [IVM_INVALID] = "invalid input",
    [IVM_SYNTAX] = "syntax error",
    [IVM_SCHEMA] = "schema error",
    [IVM_UNSUPPORTED] = "not supported",
    [IVM_CONSTRAINT] = "constraint failed",
    [IVM_IO] = "I/O error",
    [IVM_CORRUPT] = "corrupt state",
    [IVM_BUSY] = "busy",
    [IVM_INTERNAL] = "internal error",
    [IVM_PENDING] = "pending",
};

const char *ivm_rc_str(ivm_rc rc)
{
    if ((unsigned)rc >= IVM_RC_COUNT)
        return "unknown status";
    return rc_names[rc];
}

void ivm_err_clear(ivm_err *err)
{
    if (err == NULL)
        return;
    err->rc = IVM_OK;
    err->line = err->col = 0;
    err->msg[0] = '\0';
}

static ivm_rc err_vset(ivm_err *err, ivm_rc rc, uint32_t line, uint32_t col,
                       const char *fmt, va_list ap)
{
    err->rc = rc;
    err->line = line;
    err->col = col;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return rc;
}

ivm_rc ivm_err_set(ivm_err *err, ivm_rc rc, uint32_t line, uint32_t col, const char *fmt, ...)
{
    if (err == NULL || err->rc != IVM_OK)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, rc, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

ivm_rc ivm_err_reset(ivm_err *err, ivm_rc rc, uint32_t line, uint32_t col, const char *fmt, ...)
{
    if (err == NULL)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, rc, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

void *ivm_malloc(size_t n)
{
    return malloc(n ? n : 1);
}

void *ivm_calloc(size_t count, size_t size)
{
    return calloc(count ? count : 1, size ? size : 1);
}

void *ivm_realloc(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

void ivm_free(void *p)
{
    free(p);
}

char *ivm_strndup(const char *s, size_t n)
{
    char *d = ivm_malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

bool ivm_grow_cap(size_t cap, size_t need, size_t elem, size_t *ncap_out)
{
    size_t ncap = cap ? cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return false;
        ncap *= 2;
    }
    *ncap_out = ncap;
    return true;
}

ivm_rc ivm_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    if (need <= *cap)
        return IVM_OK;
    if (!ivm_grow_cap(*cap, need, elem, &ncap))
        return IVM_NOMEM;
    void *nb = realloc(*buf, ncap * elem);
    if (nb == NULL)
        return IVM_NOMEM;
    *buf = nb;
    *cap = ncap;
    return IVM_OK;
}

#ifndef NDEBUG
_Noreturn void ivm_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "ivm: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
#endif

/* SQLite prints a REAL with "%!.15g": 15 significant digits, and the '!'
 * flag makes sure the text reads back as a REAL: an integral value gets
 * ".0" (2.0), and an exponent form gets a ".0" mantissa (1.0e+20). */
size_t ivm_format_real(double r, char *buf, size_t cap)
{
    char tmp[64];
    if (isnan(r))
        return (size_t)snprintf(buf, cap, "%s", "");
    if (isinf(r))
        return (size_t)snprintf(buf, cap, "%s", r < 0 ? "-Inf" : "Inf");
    if (r == 0.0)
        r = 0.0; /* -0.0 prints as 0.0 */
    int n = snprintf(tmp, sizeof tmp, "%.15g", r);
    char out[72];
    int o = 0;
    char *e = strchr(tmp, 'e');
    bool has_dot = strchr(tmp, '.') != NULL;
    if (e != NULL) {
        int mant = (int)(e - tmp);
        memcpy(out, tmp, (size_t)mant);
        o = mant;
        if (!has_dot) {
            out[o++] = '.';
            out[o++] = '0';
        }
        memcpy(out + o, e, (size_t)(n - mant));
        o += n - mant;
    } else {
        memcpy(out, tmp, (size_t)n);
        o = n;
        if (!has_dot) {
            out[o++] = '.';
            out[o++] = '0';
        }
    }
    out[o] = '\0';
    return (size_t)snprintf(buf, cap, "%s", out);
}
