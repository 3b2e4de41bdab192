/*
 * output.c: prints result rows of the ivm shell in its output modes, byte for
 * byte as the sqlite3 3.40 shell prints them: list (fields joined by the
 * column separator, NULL as the .nullvalue string, REAL as SQLite formats it)
 * and csv (RFC 4180 style quoting as sqlite3's csv mode does it).  It does
 * not read input or run statements (main.c does).  Output goes through the
 * shell's buffered FILE with the unlocked stdio calls: the shell is single
 * threaded and big results are printed value by value.  See shell/README.md.
 */
#include <stdio.h>
#include <string.h>

#include "shell_int.h"

/* Writes n bytes to the shell's output. */
static void put(shell *sh, const char *p, size_t n)
{
    if (n == 1)
        putc_unlocked(*p, sh->out);
    else if (n > 0)
        fwrite_unlocked(p, 1, n, sh->out);
}

/* Formats a 64-bit integer in decimal into buf (at least 21 bytes); returns
 * the length.  Works on the unsigned magnitude so INT64_MIN is exact. */
static size_t format_int(int64_t i, char *buf)
{
    char tmp[24];
    size_t n = 0, len = 0;
    uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (i < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    return len;
}

/* The text of a non-NULL value: a pointer into the value or into tmp (at
 * least 40 bytes).  Returns false for NULL. */
static bool value_text(const ivm_value *v, char *tmp, const char **p_out,
                       size_t *n_out)
{
    switch (v->type) {
    case IVM_TINT:
        *n_out = format_int(v->u.i, tmp);
        *p_out = tmp;
        return true;
    case IVM_TREAL:
        *n_out = ivm_format_real(v->u.r, tmp, 40);
        *p_out = tmp;
        return true;
    case IVM_TTEXT:
        *p_out = v->u.s.p;
        *n_out = v->u.s.n;
        return true;
    case IVM_TNULL:
    default:
        return false;
    }
}

/* ---- Field writers: how one field's text is written in a mode. ---------- */

typedef void (*field_fn)(shell *sh, const char *p, size_t n);

static void field_raw(shell *sh, const char *p, size_t n)
{
    put(sh, p, n);
}

/* True if a csv field must be quoted: like sqlite3, when it is empty, holds a
 * control byte, space, DEL, a quote or apostrophe, any byte >= 0x80, or the
 * column separator. */
static bool csv_needs_quotes(const shell *sh, const char *p, size_t n)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c == '"' || c == '\'' || c >= 0x7f)
            return true;
    }
    size_t k = sh->col_sep_len;
    if (k == 0 || k > n)
        return false;
    for (size_t i = 0; i + k <= n; i++)
        if (p[i] == sh->col_sep[0] && memcmp(p + i, sh->col_sep, k) == 0)
            return true;
    return false;
}

static void field_csv(shell *sh, const char *p, size_t n)
{
    if (!csv_needs_quotes(sh, p, n)) {
        put(sh, p, n);
        return;
    }
    putc_unlocked('"', sh->out);
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') { /* a quote is doubled */
            put(sh, p + from, i + 1 - from);
            from = i;
        }
    }
    put(sh, p + from, n - from);
    putc_unlocked('"', sh->out);
}

/* One record (the header or a row) in a separator-based mode.  NULL is the
 * .nullvalue string, written as is in every mode (as sqlite3 does). */
static void write_header(shell *sh, uint32_t ncols, const char *const *names,
                         field_fn field)
{
    for (uint32_t i = 0; i < ncols; i++) {
        if (i > 0)
            put(sh, sh->col_sep, sh->col_sep_len);
        const char *name = names != NULL && names[i] != NULL ? names[i] : "";
        field(sh, name, strlen(name));
    }
    put(sh, sh->row_sep, sh->row_sep_len);
}

static void write_row(shell *sh, uint32_t ncols, const ivm_value *vals,
                      field_fn field)
{
    char tmp[48];
    for (uint32_t i = 0; i < ncols; i++) {
        const char *p;
        size_t n;
        if (i > 0)
            put(sh, sh->col_sep, sh->col_sep_len);
        if (value_text(&vals[i], tmp, &p, &n))
            field(sh, p, n);
        else
            put(sh, sh->nullvalue, sh->nullvalue_len);
    }
    put(sh, sh->row_sep, sh->row_sep_len);
}

/* ---- Modes -------------------------------------------------------------- */

static int list_row(shell *sh, uint32_t ncols, const ivm_value *vals,
                    const char *const *names)
{
    if (sh->nrows == 0 && sh->headers)
        write_header(sh, ncols, names, field_raw);
    write_row(sh, ncols, vals, field_raw);
    return 0;
}

static int csv_row(shell *sh, uint32_t ncols, const ivm_value *vals,
                   const char *const *names)
{
    if (sh->nrows == 0 && sh->headers)
        write_header(sh, ncols, names, field_csv);
    write_row(sh, ncols, vals, field_csv);
    return 0;
}

static const out_mode modes[] = {
    {"list", "values joined by the separator (default \"|\")", "|", "\n",
     NULL, list_row, NULL},
    {"csv", "comma-separated values, quoted as needed, CRLF line ends", ",",
     "\r\n", NULL, csv_row, NULL},
};

const out_mode *shell_mode_at(size_t i)
{
    return i < sizeof modes / sizeof modes[0] ? &modes[i] : NULL;
}

const out_mode *shell_mode_find(const char *name)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(modes[i].name, name) == 0)
            return &modes[i];
    return NULL;
}

bool shell_set_str(char *dst, size_t *len_out, const char *src)
{
    size_t n = strlen(src);
    if (n >= SHELL_STR_MAX)
        return false;
    memcpy(dst, src, n + 1);
    *len_out = n;
    return true;
}

void shell_mode_set(shell *sh, const out_mode *m)
{
    sh->mode = m;
    shell_set_str(sh->col_sep, &sh->col_sep_len, m->col_sep);
    shell_set_str(sh->row_sep, &sh->row_sep_len, m->row_sep);
}

void shell_result_begin(shell *sh)
{
    sh->nrows = 0;
    if (sh->mode->begin != NULL)
        sh->mode->begin(sh);
}

int shell_row(void *arg, uint32_t ncols, const ivm_value *vals,
              const char *const *names)
{
    shell *sh = arg;
    int stop = sh->mode->row(sh, ncols, vals, names);
    sh->nrows++;
    /* A failed write (a closed pipe, a full disk) ends the result early; the
     * error is reported once when the output is flushed. */
    return stop != 0 || ferror_unlocked(sh->out);
}

void shell_result_end(shell *sh)
{
    if (sh->mode->end != NULL)
        sh->mode->end(sh);
}

/* .watch: one line per changed row, "VIEW: +N ROW" with the row as list mode
 * prints it (the current column separator and .nullvalue). */
void shell_watch_delta(void *arg, const ivm_delta *d)
{
    shell *sh = arg;
    char tmp[48];
    for (size_t r = 0; r < d->nrows; r++) {
        fprintf(sh->out, "%s: %+lld ", d->name, (long long)d->weights[r]);
        const ivm_value *vals = &d->vals[r * d->ncols];
        for (uint32_t i = 0; i < d->ncols; i++) {
            const char *p;
            size_t n;
            if (i > 0)
                put(sh, sh->col_sep, sh->col_sep_len);
            if (value_text(&vals[i], tmp, &p, &n))
                put(sh, p, n);
            else
                put(sh, sh->nullvalue, sh->nullvalue_len);
        }
        putc_unlocked('\n', sh->out);
    }
}
