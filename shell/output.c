/*
 * output.c: prints result rows of the ivm shell in its output modes, byte for
 * byte as the sqlite3 3.40 shell prints them: list (fields joined by the
 * column separator, NULL as the .nullvalue string, REAL as SQLite formats it),
 * csv (RFC 4180 style quoting as sqlite3's csv mode does it), box and table
 * (a grid; the result is held in one growing buffer until it is complete,
 * since the widths depend on every row), line (name = value) and json.  It does
 * not read input or run statements (main.c does).  Output goes through the
 * shell's buffered FILE with the unlocked stdio calls: the shell is single
 * threaded and big results are printed value by value.  See shell/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
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

/* ---- line: one "name = value" line per column, rows apart --------------- */

/* As sqlite3: the names are right-aligned to the longest one in bytes (at
 * least 5), a row separator goes between rows and after each line. */
static int line_row(shell *sh, uint32_t ncols, const ivm_value *vals,
                    const char *const *names)
{
    int w = 5;
    for (uint32_t i = 0; i < ncols; i++) {
        size_t len = names != NULL && names[i] != NULL ? strlen(names[i]) : 0;
        if (len > (size_t)w)
            w = len > 1000000 ? 1000000 : (int)len;
    }
    if (sh->nrows > 0)
        put(sh, sh->row_sep, sh->row_sep_len);
    char tmp[48];
    for (uint32_t i = 0; i < ncols; i++) {
        const char *p;
        size_t n;
        fprintf(sh->out, "%*s = ", w,
                names != NULL && names[i] != NULL ? names[i] : "");
        if (value_text(&vals[i], tmp, &p, &n))
            put(sh, p, n);
        else
            put(sh, sh->nullvalue, sh->nullvalue_len);
        put(sh, sh->row_sep, sh->row_sep_len);
    }
    return 0;
}

/* ---- json: an array of objects, one line per row ------------------------ */

static void json_string(shell *sh, const char *p, size_t n)
{
    putc_unlocked('"', sh->out);
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c != '"' && c != '\\' && c > 0x1f)
            continue;
        put(sh, p + from, i - from);
        from = i + 1;
        switch (c) {
        case '"': fputs_unlocked("\\\"", sh->out); break;
        case '\\': fputs_unlocked("\\\\", sh->out); break;
        case '\b': fputs_unlocked("\\b", sh->out); break;
        case '\f': fputs_unlocked("\\f", sh->out); break;
        case '\n': fputs_unlocked("\\n", sh->out); break;
        case '\r': fputs_unlocked("\\r", sh->out); break;
        case '\t': fputs_unlocked("\\t", sh->out); break;
        default: fprintf(sh->out, "\\u%04x", c); break;
        }
    }
    put(sh, p + from, n - from);
    putc_unlocked('"', sh->out);
}

/* The next digit of *v (in [0, 10)), while *left significant digits remain. */
static char next_digit(long double *v, int *left)
{
    if (*left <= 0)
        return '0';
    (*left)--;
    int d = (int)*v;
    *v = (*v - (long double)d) * 10.0;
    return (char)('0' + d);
}

/* A REAL as sqlite3's json mode prints it: SQLite's own "%!.20g" (20
 * significant digits of which at most 26 are generated, worked out in long
 * double as SQLite does, so the same digits come out, inexact ones too), and
 * 1e999 / -1e999 for the infinities.  buf holds at least 48 bytes; returns
 * the length. */
static size_t format_real_json(double r, char *buf)
{
    uint64_t bits;
    memcpy(&bits, &r, sizeof bits);
    if (bits == 0x7ff0000000000000ull || bits == 0xfff0000000000000ull) {
        memcpy(buf, r < 0 ? "-1e999" : "1e999", r < 0 ? 6 : 5);
        return r < 0 ? 6 : 5;
    }
    if (r != r) {
        memcpy(buf, "NaN", 3);
        return 3;
    }
    char *o = buf;
    long double v = r;
    if (v < 0.0) {
        v = -v;
        *o++ = '-';
    }
    int precision = 19; /* %g shows precision - 1 digits after the first */
    double rounder = 5.0e-10;
    rounder *= 1.0e-10;
    int exp = 0;
    if (v > 0.0) {
        long double scale = 1.0;
        while (v >= 1e100 * scale && exp <= 350) {
            scale *= 1e100;
            exp += 100;
        }
        while (v >= 1e10 * scale && exp <= 350) {
            scale *= 1e10;
            exp += 10;
        }
        while (v >= 10.0 * scale && exp <= 350) {
            scale *= 10.0;
            exp++;
        }
        v /= scale;
        while (v < 1e-8) {
            v *= 1.0e8;
            exp -= 8;
        }
        while (v < 1.0) {
            v *= 10.0;
            exp--;
        }
    }
    v += rounder;
    if (v >= 10.0) {
        v *= 0.1;
        exp++;
    }
    bool expo = exp < -4 || exp > precision;
    int e2 = 0;
    if (!expo) {
        precision -= exp;
        e2 = exp;
    }
    int left = 26;
    if (e2 < 0) {
        *o++ = '0';
    } else {
        for (; e2 >= 0; e2--)
            *o++ = next_digit(&v, &left);
    }
    *o++ = '.';
    for (e2++; e2 < 0 && precision > 0; precision--, e2++)
        *o++ = '0';
    while (precision-- > 0)
        *o++ = next_digit(&v, &left);
    while (o[-1] == '0')
        o--;
    if (o[-1] == '.')
        *o++ = '0';
    if (expo) {
        *o++ = 'e';
        if (exp < 0) {
            *o++ = '-';
            exp = -exp;
        } else {
            *o++ = '+';
        }
        if (exp >= 100) {
            *o++ = (char)('0' + exp / 100);
            exp %= 100;
        }
        *o++ = (char)('0' + exp / 10);
        *o++ = (char)('0' + exp % 10);
    }
    return (size_t)(o - buf);
}

static int json_row(shell *sh, uint32_t ncols, const ivm_value *vals,
                    const char *const *names)
{
    fputs_unlocked(sh->nrows == 0 ? "[{" : ",\n{", sh->out);
    char tmp[48];
    for (uint32_t i = 0; i < ncols; i++) {
        const char *name = names != NULL && names[i] != NULL ? names[i] : "";
        json_string(sh, name, strlen(name));
        putc_unlocked(':', sh->out);
        const ivm_value *v = &vals[i];
        switch (v->type) {
        case IVM_TINT:
            put(sh, tmp, format_int(v->u.i, tmp));
            break;
        case IVM_TREAL:
            put(sh, tmp, format_real_json(v->u.r, tmp));
            break;
        case IVM_TTEXT:
            json_string(sh, v->u.s.p, v->u.s.n);
            break;
        case IVM_TNULL:
        default:
            fputs_unlocked("null", sh->out);
            break;
        }
        if (i + 1 < ncols)
            putc_unlocked(',', sh->out);
    }
    putc_unlocked('}', sh->out);
    return 0;
}

static void json_end(shell *sh)
{
    if (sh->nrows > 0)
        fputs_unlocked("]\n", sh->out);
}

/* ---- box and table: the whole result in a grid of columns --------------- */

/* Cells are cut into lines of at most GRID_WRAP characters, as sqlite3 3.40
 * does by default (--wrap 60). */
#define GRID_WRAP 60
/* How sqlite3's .mode names those settings. */
#define GRID_OPTS "--wrap 60 --wordwrap off --noquote"

/* Appends n bytes and a NUL to the grid as a new cell; false when out of
 * memory. */
static bool grid_add(shell *sh, const char *p, size_t n)
{
    if (sh->ncells == sh->cells_cap) {
        size_t cap = sh->cells_cap ? sh->cells_cap * 2 : 64;
        size_t *c = realloc(sh->cell_off, cap * sizeof *c);
        if (c == NULL)
            return false;
        sh->cell_off = c;
        sh->cells_cap = cap;
    }
    if (sh->grid_cap - sh->grid_len < n + 1) {
        size_t cap = sh->grid_cap ? sh->grid_cap : 4096;
        while (cap - sh->grid_len < n + 1)
            cap *= 2;
        char *g = realloc(sh->grid, cap);
        if (g == NULL)
            return false;
        sh->grid = g;
        sh->grid_cap = cap;
    }
    sh->cell_off[sh->ncells++] = sh->grid_len;
    memcpy(sh->grid + sh->grid_len, p, n);
    sh->grid[sh->grid_len + n] = '\0';
    sh->grid_len += n + 1;
    return true;
}

static void grid_begin(shell *sh)
{
    sh->grid_len = 0;
    sh->ncells = 0;
    sh->grid_ncols = 0;
    sh->grid_nomem = false;
}

static int grid_row(shell *sh, uint32_t ncols, const ivm_value *vals,
                    const char *const *names)
{
    if (sh->nrows == 0) {
        sh->grid_ncols = ncols;
        for (uint32_t i = 0; i < ncols; i++) {
            const char *name = names != NULL && names[i] != NULL ? names[i] : "";
            if (!grid_add(sh, name, strlen(name)))
                goto nomem;
        }
    }
    char tmp[48];
    for (uint32_t i = 0; i < ncols; i++) {
        const char *p;
        size_t n;
        bool ok = value_text(&vals[i], tmp, &p, &n)
                      ? grid_add(sh, p, strnlen(p, n))
                      : grid_add(sh, sh->nullvalue, sh->nullvalue_len);
        if (!ok)
            goto nomem;
    }
    return 0;
nomem:
    sh->grid_nomem = true;
    return 1;
}

/* One display line of a cell, cut as sqlite3's columnar modes cut it: at most
 * GRID_WRAP characters (a UTF-8 sequence counts as one), a tab fills to the
 * next multiple of 8, and any other control byte ends the line and is
 * dropped (\r\n as one).  *k_out gets the bytes of z the line shows; returns
 * where the next line starts, NULL after the last. */
static const unsigned char *grid_cut(const unsigned char *z, size_t *k_out)
{
    size_t i = 0, n = 0;
    while (n < GRID_WRAP) {
        if (z[i] >= ' ') {
            n++;
            do
                i++;
            while ((z[i] & 0xc0) == 0x80);
            continue;
        }
        if (z[i] == '\t') {
            do
                n++;
            while ((n & 7) != 0 && n < GRID_WRAP);
            i++;
            continue;
        }
        break;
    }
    *k_out = i;
    if (n >= GRID_WRAP && z[i] >= ' ')
        return z + i;
    if (z[i] == '\r' && z[i + 1] == '\n')
        return z[i + 2] != '\0' ? z + i + 2 : NULL;
    if (z[i] == '\0' || z[i + 1] == '\0')
        return NULL;
    return z + i + 1;
}

/* Writes (when out is true) the first k bytes of z as one display line, tabs
 * expanded; returns its width in characters. */
static size_t grid_show(shell *sh, const unsigned char *z, size_t k, bool out)
{
    size_t n = 0, from = 0;
    for (size_t i = 0; i < k; i++) {
        if (z[i] == '\t') {
            if (out)
                put(sh, (const char *)z + from, i - from);
            from = i + 1;
            do {
                n++;
                if (out)
                    putc_unlocked(' ', sh->out);
            } while ((n & 7) != 0 && n < GRID_WRAP);
        } else if ((z[i] & 0xc0) != 0x80) {
            n++;
        }
    }
    if (out)
        put(sh, (const char *)z + from, k - from);
    return n;
}

static void pad(shell *sh, size_t n)
{
    while (n-- > 0)
        putc_unlocked(' ', sh->out);
}

/* The pieces of a grid's frame: the corners and joints of the top, middle
 * and bottom rules, the rule's line, and the start, middle and end of a line
 * of cells. */
typedef struct frame {
    const char *rule[3][3];
    const char *line;
    const char *first, *mid, *last;
} frame;

static const frame box_frame = {
    {{"┌", "┬", "┐"}, {"├", "┼", "┤"}, {"└", "┴", "┘"}},
    "─", "│ ", " │ ", " │\n"};
static const frame table_frame = {
    {{"+", "+", "+"}, {"+", "+", "+"}, {"+", "+", "+"}},
    "-", "| ", " | ", " |\n"};

static void grid_rule(shell *sh, const frame *f, int which, const size_t *w)
{
    for (uint32_t c = 0; c < sh->grid_ncols; c++) {
        fputs_unlocked(f->rule[which][c == 0 ? 0 : 1], sh->out);
        for (size_t i = 0; i < w[c] + 2; i++)
            fputs_unlocked(f->line, sh->out);
    }
    fputs_unlocked(f->rule[which][2], sh->out);
    putc_unlocked('\n', sh->out);
}

/* Prints the held result as sqlite3 does: every column as wide as its widest
 * line, the names centred, values left-aligned, a rule between rows only
 * when some row takes several lines.  Nothing for a result without rows. */
static void grid_end(shell *sh, const frame *f)
{
    uint32_t nc = sh->grid_ncols;
    if (sh->grid_nomem) {
        fflush(sh->out);
        fputs("Error: out of memory holding the result\n", stderr);
        sh->nfail++;
    }
    if (nc == 0 || sh->ncells <= nc)
        return;
    size_t nrows = sh->ncells / nc - 1;
    size_t *w = calloc(nc, sizeof *w);
    const unsigned char **cur = calloc(nc, sizeof *cur);
    if (w == NULL || cur == NULL) {
        free(w);
        free(cur);
        fflush(sh->out);
        fputs("Error: out of memory printing the result\n", stderr);
        sh->nfail++;
        return;
    }
    const unsigned char *g = (const unsigned char *)sh->grid;
    bool multiline = false;
    for (size_t i = 0; i < sh->ncells; i++) {
        const unsigned char *z = g + sh->cell_off[i];
        size_t k;
        do {
            const unsigned char *next = grid_cut(z, &k);
            size_t n = grid_show(sh, z, k, false);
            if (n > w[i % nc])
                w[i % nc] = n;
            if (i < nc) /* a name shows its first line only */
                break;
            if (next != NULL)
                multiline = true;
            z = next;
        } while (z != NULL);
    }
    grid_rule(sh, f, 0, w);
    fputs_unlocked(f->first, sh->out);
    for (uint32_t c = 0; c < nc; c++) {
        const unsigned char *z = g + sh->cell_off[c];
        size_t k;
        grid_cut(z, &k);
        size_t n = grid_show(sh, z, k, false);
        pad(sh, (w[c] - n) / 2);
        grid_show(sh, z, k, true);
        pad(sh, (w[c] - n + 1) / 2);
        fputs_unlocked(c + 1 < nc ? f->mid : f->last, sh->out);
    }
    grid_rule(sh, f, 1, w);
    for (size_t r = 0; r < nrows; r++) {
        for (uint32_t c = 0; c < nc; c++)
            cur[c] = g + sh->cell_off[(r + 1) * nc + c];
        bool more;
        do {
            more = false;
            fputs_unlocked(f->first, sh->out);
            for (uint32_t c = 0; c < nc; c++) {
                size_t k = 0, n = 0;
                if (cur[c] != NULL) {
                    const unsigned char *next = grid_cut(cur[c], &k);
                    n = grid_show(sh, cur[c], k, true);
                    cur[c] = next;
                    more |= next != NULL;
                }
                pad(sh, w[c] - n);
                fputs_unlocked(c + 1 < nc ? f->mid : f->last, sh->out);
            }
        } while (more);
        if (multiline && r + 1 < nrows)
            grid_rule(sh, f, 1, w);
    }
    grid_rule(sh, f, 2, w);
    free(w);
    free(cur);
}

static void box_end(shell *sh)
{
    grid_end(sh, &box_frame);
}

static void table_end(shell *sh)
{
    grid_end(sh, &table_frame);
}

void shell_output_fini(shell *sh)
{
    free(sh->grid);
    free(sh->cell_off);
    sh->grid = NULL;
    sh->cell_off = NULL;
    sh->grid_len = sh->grid_cap = sh->ncells = sh->cells_cap = 0;
}

static const out_mode modes[] = {
    {"list", "values joined by the separator (default \"|\")", "|", "\n",
     NULL, list_row, NULL, NULL},
    {"csv", "comma-separated values, quoted as needed, CRLF line ends", ",",
     "\r\n", NULL, csv_row, NULL, NULL},
    {"box", "a grid drawn with box characters, names on top", NULL, NULL,
     grid_begin, grid_row, box_end, GRID_OPTS},
    {"table", "a grid drawn with +, - and |, names on top", NULL, NULL,
     grid_begin, grid_row, table_end, GRID_OPTS},
    {"line", "one \"name = value\" line per column, rows apart", NULL, "\n",
     NULL, line_row, NULL, NULL},
    {"json", "a JSON array of one object per row", NULL, NULL, NULL, json_row,
     json_end, NULL},
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
    if (m->col_sep != NULL)
        shell_set_str(sh->col_sep, &sh->col_sep_len, m->col_sep);
    if (m->row_sep != NULL)
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
