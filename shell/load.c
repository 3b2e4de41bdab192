/*
 * load.c: change streams for the ivm shell (.load and ivm --load).  It reads
 * CSV (RFC 4180 quoting, an optional header recognised by its column names,
 * an optional weight column `_weight` or `weight`) or JSON lines
 * ({"insert": {...}}, {"delete": {...}}, {"upsert": {...}}), turns each record
 * into typed values and pushes them through an input handle (ivm.h), and
 * commits every N records or at the end.  A bad record rolls its whole
 * transaction back and stops the load, reported as FILE:LINE: reason.  Both
 * readers reuse their buffers from record to record: nothing is allocated
 * per row.  It reads files and pipes alike, to their end.  It knows nothing
 * of the engine's insides (SH1).  See shell/README.md (change streams).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shell_int.h"

#define LOAD_MAX_FIELDS 4096

typedef struct loader {
    shell *sh;
    const char *path;
    FILE *fp;
    ivm_input *in;
    uint32_t ncols;
    uint32_t line;           /* lines read so far */
    uint32_t rec_line;       /* where the current record starts */
    /* Reused from record to record. */
    char *buf;               /* CSV field bytes, JSON line, JSON strings */
    size_t len, cap;
    size_t *off, *flen;      /* CSV fields in buf */
    bool *quoted;
    size_t nf, fcap;
    char *sbuf;              /* decoded JSON strings */
    size_t slen, scap;
    ivm_value *vals;         /* ncols */
    bool *given;             /* ncols: the record named the column */
    int *colmap;             /* CSV field -> column, -2 weight, -1 none */
    size_t ncolmap;
    char msg[IVM_ERR_MSG_MAX + 64];
    uint64_t rows;           /* records applied */
    shell_progress prog;
} loader;

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (q == NULL)
        return false;
    *p = q;
    *cap = n;
    return true;
}

static bool fail(loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(loader *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->msg, sizeof L->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* ---- CSV ------------------------------------------------------------------------ */

static bool put_byte(loader *L, char c)
{
    if (!grow((void **)&L->buf, &L->cap, L->len + 1, 1))
        return fail(L, "out of memory");
    L->buf[L->len++] = c;
    return true;
}

static bool end_field(loader *L, size_t start, bool quoted)
{
    if (L->nf >= LOAD_MAX_FIELDS)
        return fail(L, "more than %d fields", LOAD_MAX_FIELDS);
    size_t c1 = L->fcap, c2 = L->fcap, c3 = L->fcap;
    if (!grow((void **)&L->off, &c1, L->nf + 1, sizeof *L->off) ||
        !grow((void **)&L->flen, &c2, L->nf + 1, sizeof *L->flen) ||
        !grow((void **)&L->quoted, &c3, L->nf + 1, sizeof *L->quoted))
        return fail(L, "out of memory");
    L->fcap = c1 < c2 ? (c1 < c3 ? c1 : c3) : (c2 < c3 ? c2 : c3);
    L->off[L->nf] = start;
    L->flen[L->nf] = L->len - start;
    L->quoted[L->nf++] = quoted;
    return true;
}

/* Reads one CSV record: 1, 0 at the end of the input, -1 on an error (in
 * L->msg).  Empty lines are skipped.  A quoted field may hold commas, quotes
 * (doubled) and line ends; CRLF and LF both end a record. */
static int csv_record(loader *L)
{
    FILE *fp = L->fp;
    int c;
    L->len = 0;
    L->nf = 0;
    /* Skip empty lines. */
    for (;;) {
        c = getc_unlocked(fp);
        if (c == EOF)
            return 0;
        if (c == '\n') {
            L->line++;
            continue;
        }
        if (c == '\r') {
            int d = getc_unlocked(fp);
            if (d == '\n') {
                L->line++;
                continue;
            }
            if (d != EOF)
                ungetc(d, fp);
        }
        break;
    }
    L->line++;
    L->rec_line = L->line;
    for (;;) {
        size_t start = L->len;
        bool quoted = false;
        if (c == '"') {
            quoted = true;
            for (;;) {
                c = getc_unlocked(fp);
                if (c == EOF)
                    return fail(L, "unterminated quoted field (it starts on line %u)",
                                L->rec_line), -1;
                if (c == '"') {
                    c = getc_unlocked(fp);
                    if (c != '"')
                        break;
                } else if (c == '\n') {
                    L->line++;
                }
                if (!put_byte(L, (char)c))
                    return -1;
            }
            if (c == '\r') {
                int d = getc_unlocked(fp);
                if (d != '\n' && d != EOF)
                    ungetc(d, fp);
                c = '\n';
            }
            if (c != ',' && c != '\n' && c != EOF)
                return fail(L, "unexpected character '%c' after a closing quote", c), -1;
        } else {
            while (c != ',' && c != '\n' && c != EOF) {
                if (c == '\r') {
                    int d = getc_unlocked(fp);
                    if (d == '\n' || d == EOF) {
                        c = '\n';
                        break;
                    }
                    ungetc(d, fp);
                }
                if (c == '"')
                    return fail(L, "a quote inside an unquoted field"), -1;
                if (!put_byte(L, (char)c))
                    return -1;
                c = getc_unlocked(fp);
            }
        }
        if (!end_field(L, start, quoted))
            return -1;
        if (c != ',')
            return 1; /* end of line or of input */
        c = getc_unlocked(fp);
    }
}

static bool is_weight_name(const char *p, size_t n)
{
    return (n == 7 && strncasecmp(p, "_weight", 7) == 0) ||
           (n == 6 && strncasecmp(p, "weight", 6) == 0);
}

/* If the first record names columns (every field a column of the table,
 * or the weight), it is the header and maps fields to columns.  Otherwise
 * fields are the table's columns in order. */
static bool csv_header(loader *L, bool *is_header)
{
    if (!grow((void **)&L->colmap, &L->ncolmap, L->nf + L->ncols + 1, sizeof *L->colmap))
        return fail(L, "out of memory");
    *is_header = true;
    for (size_t f = 0; f < L->nf && *is_header; f++) {
        char name[256];
        size_t n = L->flen[f] < sizeof name - 1 ? L->flen[f] : sizeof name - 1;
        memcpy(name, L->buf + L->off[f], n);
        name[n] = '\0';
        int col = ivm_input_column_index(L->in, name);
        if (col < 0 && is_weight_name(name, n))
            col = -2;
        if (col == -1)
            *is_header = false;
        for (size_t g = 0; g < f && *is_header; g++)
            if (L->colmap[g] == col)
                return fail(L, "column %s is named twice in the header", name);
        L->colmap[f] = col;
    }
    if (!*is_header)
        for (uint32_t c = 0; c < L->ncols; c++)
            L->colmap[c] = (int)c;
    return true;
}

/* ---- JSON lines --------------------------------------------------------------------- */

typedef struct jp {
    loader *L;
    const char *p, *end;
} jp;

static void jws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static bool jexpect(jp *j, char c)
{
    jws(j);
    if (j->p >= j->end || *j->p != c)
        return fail(j->L, "expected '%c' %s", c, j->p >= j->end ? "at the end of the line" : "");
    j->p++;
    return true;
}

static bool sput(loader *L, const char *p, size_t n)
{
    if (!grow((void **)&L->sbuf, &L->scap, L->slen + n + 1, 1))
        return fail(L, "out of memory");
    memcpy(L->sbuf + L->slen, p, n);
    L->slen += n;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(jp *j, unsigned *out)
{
    if (j->end - j->p < 4)
        return fail(j->L, "bad \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(j->p[i]);
        if (h < 0)
            return fail(j->L, "bad \\u escape");
        v = v * 16 + (unsigned)h;
    }
    j->p += 4;
    *out = v;
    return true;
}

/* Decodes a JSON string into sbuf: *off, *n locate it there. */
static bool jstring(jp *j, size_t *off, size_t *n)
{
    if (!jexpect(j, '"'))
        return false;
    *off = j->L->slen;
    for (;;) {
        const char *s = j->p;
        while (j->p < j->end && *j->p != '"' && *j->p != '\\' && (unsigned char)*j->p >= 0x20)
            j->p++;
        if (!sput(j->L, s, (size_t)(j->p - s)))
            return false;
        if (j->p >= j->end)
            return fail(j->L, "unterminated string");
        char c = *j->p++;
        if (c == '"')
            break;
        if (c != '\\')
            return fail(j->L, "control character in a string");
        if (j->p >= j->end)
            return fail(j->L, "unterminated string");
        char e = *j->p++;
        char one;
        switch (e) {
        case '"': one = '"'; break;
        case '\\': one = '\\'; break;
        case '/': one = '/'; break;
        case 'b': one = '\b'; break;
        case 'f': one = '\f'; break;
        case 'n': one = '\n'; break;
        case 'r': one = '\r'; break;
        case 't': one = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!hex4(j, &cp))
                return false;
            if (cp >= 0xd800 && cp < 0xdc00) {
                unsigned lo;
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                    return fail(j->L, "unpaired surrogate in \\u escape");
                j->p += 2;
                if (!hex4(j, &lo) || lo < 0xdc00 || lo >= 0xe000)
                    return fail(j->L, "unpaired surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                return fail(j->L, "unpaired surrogate in \\u escape");
            }
            if (cp == 0)
                return fail(j->L, "\\u0000: text cannot hold a NUL byte");
            char u[4];
            size_t k;
            if (cp < 0x80) {
                u[0] = (char)cp;
                k = 1;
            } else if (cp < 0x800) {
                u[0] = (char)(0xc0 | (cp >> 6));
                u[1] = (char)(0x80 | (cp & 0x3f));
                k = 2;
            } else if (cp < 0x10000) {
                u[0] = (char)(0xe0 | (cp >> 12));
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[2] = (char)(0x80 | (cp & 0x3f));
                k = 3;
            } else {
                u[0] = (char)(0xf0 | (cp >> 18));
                u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[3] = (char)(0x80 | (cp & 0x3f));
                k = 4;
            }
            if (!sput(j->L, u, k))
                return false;
            continue;
        }
        default:
            return fail(j->L, "bad escape \\%c", e);
        }
        if (!sput(j->L, &one, 1))
            return false;
    }
    *n = j->L->slen - *off;
    return true;
}

/* A JSON scalar into *v (text as an offset into sbuf in v->u.s.p, fixed up
 * once the line is parsed, since sbuf may still move). */
static bool jvalue(jp *j, ivm_value *v, bool *text)
{
    jws(j);
    *text = false;
    if (j->p >= j->end)
        return fail(j->L, "expected a value at the end of the line");
    char c = *j->p;
    if (c == '"') {
        size_t off, n;
        if (!jstring(j, &off, &n))
            return false;
        *v = ivm_value_text((const char *)(uintptr_t)off, (uint32_t)n);
        *text = true;
        return true;
    }
    static const struct {
        const char *word;
        int kind;
    } words[] = {{"null", 0}, {"true", 1}, {"false", 2}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i].word, n) == 0) {
            j->p += n;
            *v = words[i].kind == 0 ? ivm_value_null() : ivm_value_int(words[i].kind == 1);
            return true;
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        const char *s = j->p;
        bool real = false;
        if (*j->p == '-')
            j->p++;
        while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' ||
                                 *j->p == 'E' || *j->p == '+' || *j->p == '-')) {
            real |= *j->p == '.' || *j->p == 'e' || *j->p == 'E';
            j->p++;
        }
        char num[64];
        size_t n = (size_t)(j->p - s);
        if (n >= sizeof num)
            return fail(j->L, "number too long");
        memcpy(num, s, n);
        num[n] = '\0';
        char *e;
        errno = 0;
        if (!real) {
            long long i = strtoll(num, &e, 10);
            if (*e == '\0' && errno == 0) {
                *v = ivm_value_int(i);
                return true;
            }
        }
        errno = 0;
        double r = strtod(num, &e);
        if (*e != '\0' || n == 0)
            return fail(j->L, "bad number %s", num);
        *v = ivm_value_real(r);
        return true;
    }
    if (c == '{' || c == '[')
        return fail(j->L, "nested objects and arrays are not values of a column");
    return fail(j->L, "unexpected character '%c'", c);
}

typedef enum { OP_INSERT, OP_DELETE, OP_UPSERT } json_op;

/* Parses {"op": {"col": value, ...}} in buf[0..len) into L->vals/given. */
static bool json_record(loader *L, json_op *op)
{
    jp j = {L, L->buf, L->buf + L->len};
    L->slen = 0;
    for (uint32_t c = 0; c < L->ncols; c++) {
        L->vals[c] = ivm_value_null();
        L->given[c] = false;
    }
    bool *text = L->quoted; /* per column: its value is text in sbuf */
    if (!jexpect(&j, '{'))
        return false;
    size_t off, n;
    jws(&j);
    if (!jstring(&j, &off, &n))
        return false;
    const char *name = L->sbuf + off;
    if (n == 6 && memcmp(name, "insert", 6) == 0)
        *op = OP_INSERT;
    else if (n == 6 && memcmp(name, "delete", 6) == 0)
        *op = OP_DELETE;
    else if (n == 6 && memcmp(name, "upsert", 6) == 0)
        *op = OP_UPSERT;
    else
        return fail(L, "expected \"insert\", \"delete\" or \"upsert\", not \"%.*s\"", (int)n, name);
    if (!jexpect(&j, ':') || !jexpect(&j, '{'))
        return false;
    jws(&j);
    if (j.p < j.end && *j.p == '}') {
        j.p++;
    } else {
        for (;;) {
            jws(&j);
            if (!jstring(&j, &off, &n))
                return false;
            char cname[256];
            snprintf(cname, sizeof cname, "%.*s", (int)(n < 255 ? n : 255), L->sbuf + off);
            int col = ivm_input_column_index(L->in, cname);
            if (col < 0)
                return fail(L, "no column named %s", cname);
            if (L->given[col])
                return fail(L, "column %s is given twice", cname);
            if (!jexpect(&j, ':'))
                return false;
            if (!jvalue(&j, &L->vals[col], &text[col]))
                return false;
            L->given[col] = true;
            jws(&j);
            if (j.p < j.end && *j.p == ',') {
                j.p++;
                continue;
            }
            if (!jexpect(&j, '}'))
                return false;
            break;
        }
    }
    if (!jexpect(&j, '}'))
        return false;
    jws(&j);
    if (j.p != j.end)
        return fail(L, "unexpected text after the record");
    for (uint32_t c = 0; c < L->ncols; c++)
        if (L->given[c] && text[c])
            L->vals[c].u.s.p = L->sbuf + (uintptr_t)L->vals[c].u.s.p;
    return true;
}

/* Reads the next non-blank line into buf: 1, 0 at the end. */
static int json_line(loader *L)
{
    for (;;) {
        L->len = 0;
        int c;
        bool any = false;
        while ((c = getc_unlocked(L->fp)) != EOF && c != '\n') {
            if (!put_byte(L, (char)c))
                return -1;
            any = true;
        }
        if (c == EOF && !any)
            return 0;
        L->line++;
        L->rec_line = L->line;
        for (size_t i = 0; i < L->len; i++)
            if (L->buf[i] != ' ' && L->buf[i] != '\t' && L->buf[i] != '\r')
                return 1;
    }
}

/* ---- Applying records -------------------------------------------------------------- */

static bool pushed(loader *L, ivm_rc rc, const ivm_err *err)
{
    if (rc == IVM_OK)
        return true;
    return fail(L, "%s", err->msg[0] ? err->msg : ivm_rc_str(rc));
}

/* The values of a CSV record: empty unquoted fields are NULL, others text
 * (the push converts it to the column's type); the weight field. */
static bool csv_apply(loader *L, size_t nfields)
{
    if (L->nf != nfields)
        return fail(L, "%zu fields, expected %zu", L->nf, nfields);
    int64_t w = 1;
    for (uint32_t c = 0; c < L->ncols; c++)
        L->vals[c] = ivm_value_null();
    for (size_t f = 0; f < L->nf; f++) {
        const char *p = L->buf + L->off[f];
        size_t n = L->flen[f];
        if (L->colmap[f] == -2) {
            char num[32];
            char *e;
            snprintf(num, sizeof num, "%.*s", (int)(n < 31 ? n : 31), p);
            errno = 0;
            long long v = strtoll(num, &e, 10);
            if (n == 0 || n > 30 || *e != '\0' || errno != 0 || v == 0)
                return fail(L, "weight \"%.*s\" is not a non-zero integer", (int)(n < 40 ? n : 40), p);
            w = v;
            continue;
        }
        if (n == 0 && !L->quoted[f])
            continue; /* NULL */
        L->vals[L->colmap[f]] = ivm_value_text(p, (uint32_t)n);
    }
    ivm_err err;
    return pushed(L, ivm_input_push(L->in, L->vals, L->ncols, w, &err), &err);
}

static bool json_apply(loader *L, json_op op)
{
    ivm_err err;
    if (op == OP_INSERT)
        return pushed(L, ivm_input_insert(L->in, L->vals, L->ncols, &err), &err);
    if (op == OP_UPSERT)
        return pushed(L, ivm_input_upsert(L->in, L->vals, L->ncols, &err), &err);
    /* A delete names the whole row, or only its PRIMARY KEY. */
    bool all = true;
    for (uint32_t c = 0; c < L->ncols; c++)
        all &= L->given[c];
    if (all)
        return pushed(L, ivm_input_push(L->in, L->vals, L->ncols, -1, &err), &err);
    uint32_t npk = 0;
    const uint32_t *pk = ivm_input_primary_key(L->in, &npk);
    if (npk == 0)
        return fail(L, "a delete from a table without a PRIMARY KEY names every column");
    ivm_value key[64];
    if (npk > 64)
        return fail(L, "PRIMARY KEY too wide");
    for (uint32_t i = 0; i < npk; i++) {
        if (!L->given[pk[i]])
            return fail(L, "a delete names every column or the whole PRIMARY KEY (%s is missing)",
                        ivm_input_column_name(L->in, pk[i]));
        key[i] = L->vals[pk[i]];
    }
    for (uint32_t c = 0; c < L->ncols; c++) {
        bool in_pk = false;
        for (uint32_t i = 0; i < npk; i++)
            in_pk |= pk[i] == c;
        if (L->given[c] && !in_pk)
            return fail(L, "a delete names every column or the whole PRIMARY KEY only "
                           "(%s is neither)", ivm_input_column_name(L->in, c));
    }
    bool deleted = false;
    if (!pushed(L, ivm_input_delete(L->in, key, npk, &deleted, &err), &err))
        return false;
    if (!deleted)
        return fail(L, "no row with this PRIMARY KEY to delete");
    return true;
}

/* Commits, adding the views' step time of the commit to the load's (for
 * .timer). */
static ivm_rc load_commit(loader *L, ivm_err *err)
{
    /* .watch lines print during the commit: take the progress line off
     * the terminal first (the next record redraws it). */
    shell_progress_end(&L->prog);
    ivm_commit_info before, after;
    ivm_last_commit(L->sh->db, &before);
    ivm_rc rc = ivm_commit(L->sh->db, err);
    ivm_last_commit(L->sh->db, &after);
    if (after.commit != before.commit) {
        L->sh->load_commits++;
        L->sh->load_step_ns += after.step_ns;
    }
    return rc;
}

static void loader_fini(loader *L)
{
    free(L->buf);
    free(L->off);
    free(L->flen);
    free(L->quoted);
    free(L->sbuf);
    free(L->vals);
    free(L->given);
    free(L->colmap);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcasecmp(s + n - k, suf) == 0;
}

bool shell_load(shell *sh, const char *table, const char *path, uint64_t commit_every,
                const char *format, char *msg, size_t msgcap)
{
    loader L;
    memset(&L, 0, sizeof L);
    L.sh = sh;
    L.path = path;
    sh->load_commits = 0;
    sh->load_step_ns = 0;
    bool ok = false, opened = false;
    uint64_t since_commit = 0;
    ivm_err err;
    ivm_err_clear(&err);
    msg[0] = '\0';
    if (ivm_txn_active(sh->db)) {
        snprintf(msg, msgcap, "cannot load inside a transaction (COMMIT or ROLLBACK first)");
        return false;
    }
    bool json;
    if (format != NULL)
        json = strcmp(format, "json") == 0;
    else
        json = has_suffix(path, ".json") || has_suffix(path, ".jsonl") ||
               has_suffix(path, ".ndjson");
    if (ivm_input_open(sh->db, table, &L.in, &err) != IVM_OK) {
        snprintf(msg, msgcap, "%s", err.msg);
        return false;
    }
    if (strcmp(path, "-") == 0) {
        L.fp = stdin;
    } else {
        L.fp = fopen(path, "r");
        if (L.fp == NULL) {
            snprintf(msg, msgcap, "cannot open \"%s\": %s", path, strerror(errno));
            ivm_input_close(L.in);
            return false;
        }
        opened = true;
    }
    shell_progress_begin(&L.prog, sh, table, L.fp);
    L.ncols = ivm_input_column_count(L.in);
    L.vals = calloc(L.ncols + 1, sizeof *L.vals);
    L.given = calloc(L.ncols + 1, sizeof *L.given);
    size_t qc = 0;
    if (L.vals == NULL || L.given == NULL ||
        !grow((void **)&L.quoted, &qc, L.ncols + 1, sizeof *L.quoted)) {
        snprintf(msg, msgcap, "out of memory");
        goto done;
    }
    L.fcap = 0; /* quoted is reused per column for JSON; CSV regrows it */
    if (json) {
        free(L.quoted);
        L.quoted = calloc(L.ncols + 1, sizeof *L.quoted);
        if (L.quoted == NULL) {
            snprintf(msg, msgcap, "out of memory");
            goto done;
        }
        for (;;) {
            int r = json_line(&L);
            if (r == 0)
                break;
            json_op op = OP_INSERT;
            if (r < 0 || !json_record(&L, &op) || !json_apply(&L, op))
                goto bad;
            shell_progress_tick(&L.prog, ++L.rows, L.fp);
            if (commit_every > 0 && ++since_commit == commit_every) {
                since_commit = 0;
                if (load_commit(&L, &err) != IVM_OK) {
                    fail(&L, "commit failed: %s", err.msg);
                    goto bad;
                }
            }
        }
    } else {
        free(L.quoted);
        L.quoted = NULL;
        size_t nfields = 0;
        bool first = true;
        for (;;) {
            int r = csv_record(&L);
            if (r == 0)
                break;
            if (r < 0)
                goto bad;
            if (first) {
                first = false;
                bool header;
                if (!csv_header(&L, &header))
                    goto bad;
                nfields = header ? L.nf : L.ncols;
                if (header)
                    continue;
            }
            if (!csv_apply(&L, nfields))
                goto bad;
            shell_progress_tick(&L.prog, ++L.rows, L.fp);
            if (commit_every > 0 && ++since_commit == commit_every) {
                since_commit = 0;
                if (load_commit(&L, &err) != IVM_OK) {
                    fail(&L, "commit failed: %s", err.msg);
                    goto bad;
                }
            }
        }
    }
    if (ferror(L.fp)) {
        snprintf(msg, msgcap, "%s: reading failed: %s", path, strerror(errno));
        ivm_rollback(sh->db);
        goto done;
    }
    if (load_commit(&L, &err) != IVM_OK) {
        snprintf(msg, msgcap, "%s:%u: commit failed: %s", path, L.line, err.msg);
        goto done;
    }
    ok = true;
    goto done;
bad:
    /* The transaction the bad record was in goes as a whole. */
    ivm_rollback(sh->db);
    snprintf(msg, msgcap, "%s:%u: %s", path, L.rec_line, L.msg);
done:
    shell_progress_end(&L.prog);
    ivm_input_close(L.in);
    if (opened)
        fclose(L.fp);
    loader_fini(&L);
    return ok;
}
