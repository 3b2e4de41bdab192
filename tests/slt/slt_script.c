/*
 * slt_script.c: the sqllogictest script parser.  It reads a whole file the
 * way the reference runner (sqllogictest.c) does, so that both runners see
 * the same records: a trailing '\r' is dropped from every line, a line of
 * white space is blank, a line starting with '#' is a comment and skipped
 * wherever it is (even inside a record), records are separated by blank
 * lines, skipif/onlyif lines precede a record's command and compare their
 * second token with the engine name case-insensitively.  It does not run
 * anything; slt_run.c does.  Format: tests/slt/README.md.
 *
 * All strings of a script live in one pool: it is filled with offsets while
 * parsing (it moves as it grows) and the offsets become pointers at the end.
 */
#include "slt.h"

#include <ctype.h>
#include <stdarg.h>
#include <strings.h>

typedef struct parser {
    const char *text;
    size_t len, pos;          /* pos: start of the next line */
    uint32_t lineno;          /* number of the current line */
    const char *line;         /* the current line, without '\r' and '\n' */
    size_t linelen;
    bool eof;
    /* Growing buffers; strings are referred to by offset until the end. */
    char *pool;
    size_t npool, cappool;
    size_t *lines;            /* offsets of expected lines */
    size_t nlines, caplines;
    slt_record *recs;
    size_t nrecs, caprecs;
    /* Per record, offsets for the string fields (pointers come at the end). */
    size_t *soff;             /* 4 per record: sql, types, label, first line index */
    size_t capsoff;
    char *err;
    size_t errcap;
} parser;

static bool fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errcap, fmt, ap);
    va_end(ap);
    return false;
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

/* Advances to the next line that is not a comment.  Returns false at the end
 * of the text. */
static bool next_line(parser *p)
{
    for (;;) {
        if (p->pos >= p->len) {
            p->eof = true;
            p->line = p->text + p->len;
            p->linelen = 0;
            return false;
        }
        const char *s = p->text + p->pos;
        const char *nl = memchr(s, '\n', p->len - p->pos);
        size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
        p->pos += n + (nl ? 1 : 0);
        p->lineno++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (is_blank(s, n))
            n = 0;
        p->line = s;
        p->linelen = n;
        if (n == 0 || s[0] != '#')
            return true;
    }
}

/* True if the next line (comments included, as the reference looks) is
 * blank or the text ends. */
static bool next_is_blank(const parser *p)
{
    for (size_t i = p->pos; i < p->len; i++) {
        if (p->text[i] == '\n')
            return true;
        if (!isspace((unsigned char)p->text[i]))
            return false;
    }
    return true;
}

static bool line_is(const parser *p, const char *s)
{
    size_t n = strlen(s);
    return p->linelen == n && memcmp(p->line, s, n) == 0;
}

/* Appends s[0..n) and a NUL to the pool; returns its offset or SIZE_MAX. */
static size_t pool_add(parser *p, const char *s, size_t n)
{
    size_t off = p->npool;
    if (ivm_grow((void **)&p->pool, &p->cappool, p->npool + n + 1, 1) != IVM_OK)
        return SIZE_MAX;
    memcpy(p->pool + off, s, n);
    p->pool[off + n] = '\0';
    p->npool += n + 1;
    return off;
}

/* Appends a line to the string being built at the end of the pool: unless
 * first, that string's terminating NUL becomes the '\n' between lines. */
static bool pool_join(parser *p, const char *s, size_t n, bool first)
{
    if (first)
        return pool_add(p, s, n) != SIZE_MAX;
    p->pool[p->npool - 1] = '\n';
    return pool_add(p, s, n) != SIZE_MAX;
}

/* Splits the current line into up to four white-space separated tokens. */
typedef struct tokens {
    const char *p[4];
    size_t n[4];
    int count;
} tokens;

static void tokenize(const parser *p, tokens *t)
{
    size_t i = 0;
    t->count = 0;
    while (t->count < 4) {
        while (i < p->linelen && isspace((unsigned char)p->line[i]))
            i++;
        if (i >= p->linelen)
            break;
        size_t start = i;
        while (i < p->linelen && !isspace((unsigned char)p->line[i]))
            i++;
        t->p[t->count] = p->line + start;
        t->n[t->count] = i - start;
        t->count++;
    }
    for (int k = t->count; k < 4; k++) {
        t->p[k] = "";
        t->n[k] = 0;
    }
}

static bool tok_is(const tokens *t, int k, const char *s)
{
    return t->n[k] == strlen(s) && memcmp(t->p[k], s, t->n[k]) == 0;
}

static slt_record *new_record(parser *p)
{
    if (ivm_grow((void **)&p->recs, &p->caprecs, p->nrecs + 1, sizeof(slt_record)) != IVM_OK)
        return NULL;
    if (ivm_grow((void **)&p->soff, &p->capsoff, 4 * (p->nrecs + 1), sizeof(size_t)) != IVM_OK)
        return NULL;
    slt_record *r = &p->recs[p->nrecs];
    memset(r, 0, sizeof *r);
    size_t *o = &p->soff[4 * p->nrecs];
    o[0] = o[1] = o[2] = SIZE_MAX;
    o[3] = p->nlines;
    p->nrecs++;
    return r;
}

static bool parse_statement(parser *p, slt_record *r, const tokens *t, size_t *o)
{
    r->kind = SLT_STATEMENT;
    if (tok_is(t, 1, "ok"))
        r->expect_error = false;
    else if (tok_is(t, 1, "error"))
        r->expect_error = true;
    else
        return fail(p, "line %u: statement argument should be 'ok' or 'error'", r->line);
    bool first = true;
    while (next_line(p) && p->linelen > 0) {
        if (first)
            r->sql_line = p->lineno;
        if (!pool_join(p, p->line, p->linelen, first))
            return fail(p, "out of memory");
        if (first)
            o[0] = p->npool - p->linelen - 1;
        first = false;
    }
    if (first)
        return fail(p, "line %u: statement without SQL", r->line);
    return true;
}

static bool parse_query(parser *p, slt_record *r, const tokens *t, size_t *o)
{
    r->kind = SLT_QUERY;
    if (t->n[1] == 0)
        return fail(p, "line %u: missing type string", r->line);
    for (size_t i = 0; i < t->n[1]; i++) {
        char c = t->p[1][i];
        if (c != 'I' && c != 'R' && c != 'T')
            return fail(p, "line %u: unknown type character '%c' in type string", r->line, c);
    }
    if ((o[1] = pool_add(p, t->p[1], t->n[1])) == SIZE_MAX)
        return fail(p, "out of memory");
    if (t->n[2] == 0 || tok_is(t, 2, "nosort"))
        r->sort = SLT_NOSORT;
    else if (tok_is(t, 2, "rowsort"))
        r->sort = SLT_ROWSORT;
    else if (tok_is(t, 2, "valuesort"))
        r->sort = SLT_VALUESORT;
    else
        return fail(p, "line %u: unknown sort method '%.*s'", r->line, (int)t->n[2], t->p[2]);
    if (t->n[3] > 0 && (o[2] = pool_add(p, t->p[3], t->n[3])) == SIZE_MAX)
        return fail(p, "out of memory");
    /* The SQL runs to a "----" line or the end of the record. */
    bool first = true;
    while (!next_is_blank(p) && next_line(p) && p->linelen > 0 && !line_is(p, "----")) {
        if (first)
            r->sql_line = p->lineno;
        if (!pool_join(p, p->line, p->linelen, first))
            return fail(p, "out of memory");
        if (first)
            o[0] = p->npool - p->linelen - 1;
        first = false;
    }
    if (first)
        return fail(p, "line %u: query without SQL", r->line);
    if (!line_is(p, "----"))
        return true;
    r->has_expected = true;
    o[3] = p->nlines;
    while (next_line(p) && p->linelen > 0) {
        size_t off = pool_add(p, p->line, p->linelen);
        if (off == SIZE_MAX ||
            ivm_grow((void **)&p->lines, &p->caplines, p->nlines + 1, sizeof(size_t)) != IVM_OK)
            return fail(p, "out of memory");
        p->lines[p->nlines++] = off;
        r->nexpected++;
    }
    return true;
}

/* Skips the rest of the current record (to a blank line or the end). */
static void skip_record(parser *p)
{
    while (p->linelen > 0 && next_line(p)) {
    }
}

static bool parse_all(parser *p, const char *engine)
{
    if (!next_line(p))
        return true;
    for (;;) {
        while (!p->eof && p->linelen == 0)
            next_line(p);
        if (p->eof)
            return true;
        tokens t;
        tokenize(p, &t);
        bool skip = false;
        while (tok_is(&t, 0, "skipif") || tok_is(&t, 0, "onlyif")) {
            bool match = t.n[1] == strlen(engine) && strncasecmp(t.p[1], engine, t.n[1]) == 0;
            if (t.p[0][0] == 's' ? match : !match)
                skip = true;
            if (!next_line(p) || p->linelen == 0)
                return fail(p, "line %u: skipif/onlyif without a record", p->lineno);
            tokenize(p, &t);
        }
        slt_record *r = new_record(p);
        if (r == NULL)
            return fail(p, "out of memory");
        size_t *o = &p->soff[4 * (p->nrecs - 1)];
        r->line = p->lineno;
        r->skip = skip;
        bool ok;
        if (tok_is(&t, 0, "statement")) {
            ok = parse_statement(p, r, &t, o);
        } else if (tok_is(&t, 0, "query")) {
            ok = parse_query(p, r, &t, o);
        } else if (tok_is(&t, 0, "hash-threshold")) {
            r->kind = SLT_HASH_THRESHOLD;
            char num[24];
            size_t n = IVM_MIN(t.n[1], sizeof num - 1);
            memcpy(num, t.p[1], n);
            num[n] = '\0';
            char *end;
            long v = strtol(num, &end, 10);
            if (n == 0 || *end != '\0' || v < 0)
                return fail(p, "line %u: hash-threshold needs a number", r->line);
            r->threshold = (uint32_t)IVM_MIN(v, (long)UINT32_MAX);
            skip_record(p);
            ok = true;
        } else if (tok_is(&t, 0, "halt")) {
            r->kind = SLT_HALT;
            if (!skip)
                return true; /* the reference reads no further */
            skip_record(p);
            ok = true;
        } else {
            return fail(p, "line %u: unknown record type '%.*s'", r->line, (int)t.n[0], t.p[0]);
        }
        if (!ok)
            return false;
        /* A record ends at a blank line; a query's SQL may also end at the
         * end of the text. */
        skip_record(p);
    }
}

bool slt_script_parse(const char *text, size_t len, const char *engine,
                      slt_script *out, char *err, size_t errcap)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.text = text;
    p.len = len;
    p.err = err;
    p.errcap = errcap;
    if (errcap > 0)
        err[0] = '\0';
    if (!parse_all(&p, engine))
        goto fail;
    /* The pool stops moving: turn offsets into pointers. */
    const char **lines = NULL;
    if (p.nlines > 0) {
        lines = ivm_malloc(p.nlines * sizeof *lines);
        if (lines == NULL) {
            fail(&p, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < p.nlines; i++)
            lines[i] = p.pool + p.lines[i];
    }
    for (size_t i = 0; i < p.nrecs; i++) {
        slt_record *r = &p.recs[i];
        const size_t *o = &p.soff[4 * i];
        r->sql = o[0] == SIZE_MAX ? NULL : p.pool + o[0];
        r->types = o[1] == SIZE_MAX ? NULL : p.pool + o[1];
        r->label = o[2] == SIZE_MAX ? NULL : p.pool + o[2];
        r->expected = lines ? lines + o[3] : NULL;
    }
    ivm_free(p.lines);
    ivm_free(p.soff);
    out->recs = p.recs;
    out->nrecs = (uint32_t)p.nrecs;
    out->pool = p.pool;
    out->lines = lines;
    return true;
fail:
    ivm_free(p.pool);
    ivm_free(p.lines);
    ivm_free(p.recs);
    ivm_free(p.soff);
    return false;
}

void slt_script_fini(slt_script *s)
{
    if (s == NULL)
        return;
    ivm_free(s->recs);
    ivm_free(s->pool);
    ivm_free((void *)s->lines);
    memset(s, 0, sizeof *s);
}
