/*
 * slt_sqlscan.c: just enough SQL scanning for the runner to place views: the
 * name a CREATE/DROP TABLE/VIEW statement defines, the names a query
 * mentions (the relations it reads are among them), and a query's outermost
 * ORDER BY.  It cuts text into tokens the way SQLite's tokenizer does (white
 * space, -- and block comments, 'strings', "quoted", [bracketed] and
 * `backquoted` names, numbers, punctuation) and never parses: a name that is
 * a column, an alias or a function is harmless to the caller, which only
 * looks up relations it knows.
 */
#include "slt.h"

#include <ctype.h>
#include <strings.h>

typedef enum tk {
    TK_END,
    TK_NAME,      /* bare word (keywords included) */
    TK_QNAME,     /* "x", [x] or `x` */
    TK_STRING,
    TK_NUMBER,
    TK_PUNCT,     /* one character */
} tk;

typedef struct token {
    tk kind;
    const char *p;            /* the token's text (a quoted name: inside the quotes) */
    size_t n;
} token;

static bool name_start(unsigned char c) { return isalpha(c) || c == '_' || c >= 0x80; }
static bool name_char(unsigned char c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

/* Reads the token at *pos and advances past it. */
static token next_token(const char *s, size_t *pos)
{
    size_t i = *pos;
    token t = {TK_END, s + i, 0};
    for (;;) {
        while (s[i] && isspace((unsigned char)s[i]))
            i++;
        if (s[i] == '-' && s[i + 1] == '-') {
            while (s[i] && s[i] != '\n')
                i++;
        } else if (s[i] == '/' && s[i + 1] == '*') {
            i += 2;
            while (s[i] && !(s[i] == '*' && s[i + 1] == '/'))
                i++;
            if (s[i])
                i += 2;
        } else {
            break;
        }
    }
    unsigned char c = (unsigned char)s[i];
    t.p = s + i;
    if (c == '\0') {
        *pos = i;
        return t;
    }
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
        char close = c == '[' ? ']' : (char)c;
        size_t j = i + 1;
        for (;;) {
            if (s[j] == '\0')
                break;
            if (s[j] == close) {
                if (close != ']' && s[j + 1] == close) {
                    j += 2; /* a doubled quote stands for itself */
                    continue;
                }
                break;
            }
            j++;
        }
        t.kind = c == '\'' ? TK_STRING : TK_QNAME;
        t.p = s + i + 1;
        t.n = j - i - 1;
        *pos = s[j] ? j + 1 : j;
        return t;
    }
    if (name_start(c)) {
        size_t j = i;
        while (name_char((unsigned char)s[j]))
            j++;
        t.kind = TK_NAME;
        t.n = j - i;
        *pos = j;
        return t;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
        size_t j = i;
        while (isalnum((unsigned char)s[j]) || s[j] == '.' ||
               ((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E')))
            j++;
        t.kind = TK_NUMBER;
        t.n = j - i;
        *pos = j;
        return t;
    }
    t.kind = TK_PUNCT;
    t.n = 1;
    *pos = i + 1;
    return t;
}

static bool is_kw(const token *t, const char *kw)
{
    return t->kind == TK_NAME && t->n == strlen(kw) && strncasecmp(t->p, kw, t->n) == 0;
}

/* Copies a name token folded to ASCII lower case; a quoted name loses its
 * doubled quotes.  Returns false if it does not fit. */
static bool copy_name(const token *t, char out[SLT_NAME_MAX])
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        char c = t->p[i];
        if (t->kind == TK_QNAME && i + 1 < t->n && c == t->p[i + 1] && (c == '"' || c == '`'))
            i++;
        if (k + 1 >= SLT_NAME_MAX)
            return false;
        out[k++] = (char)tolower((unsigned char)c);
    }
    out[k] = '\0';
    return true;
}

slt_ddl slt_sql_ddl(const char *sql, char name_out[SLT_NAME_MAX], bool *if_out)
{
    size_t pos = 0;
    token t = next_token(sql, &pos);
    bool create = is_kw(&t, "create");
    if (!create && !is_kw(&t, "drop"))
        return SLT_DDL_NONE;
    t = next_token(sql, &pos);
    if (create && (is_kw(&t, "temp") || is_kw(&t, "temporary")))
        t = next_token(sql, &pos);
    bool table = is_kw(&t, "table");
    if (!table && !is_kw(&t, "view"))
        return SLT_DDL_NONE;
    t = next_token(sql, &pos);
    *if_out = false;
    if (is_kw(&t, "if")) {
        t = next_token(sql, &pos);
        if (create) {
            if (!is_kw(&t, "not"))
                return SLT_DDL_NONE;
            t = next_token(sql, &pos);
        }
        if (!is_kw(&t, "exists"))
            return SLT_DDL_NONE;
        t = next_token(sql, &pos);
        *if_out = true;
    }
    if ((t.kind != TK_NAME && t.kind != TK_QNAME) || !copy_name(&t, name_out))
        return SLT_DDL_NONE;
    if (create)
        return table ? SLT_DDL_CREATE_TABLE : SLT_DDL_CREATE_VIEW;
    return table ? SLT_DDL_DROP_TABLE : SLT_DDL_DROP_VIEW;
}

void slt_sql_names(const char *sql, void (*fn)(void *arg, const char *name), void *arg)
{
    size_t pos = 0;
    char name[SLT_NAME_MAX];
    for (;;) {
        token t = next_token(sql, &pos);
        if (t.kind == TK_END)
            return;
        if ((t.kind == TK_NAME || t.kind == TK_QNAME) && copy_name(&t, name))
            fn(arg, name);
    }
}

bool slt_sql_order_by(const char *sql, const char **terms_out, size_t *len_out,
                      bool *ordinals_out)
{
    size_t pos = 0;
    int depth = 0;
    const char *terms = NULL;
    const char *end = NULL;
    bool prev_order = false;
    for (;;) {
        token t = next_token(sql, &pos);
        if (t.kind == TK_END) {
            if (terms != NULL && end == NULL)
                end = t.p;
            break;
        }
        if (t.kind == TK_PUNCT && t.p[0] == '(')
            depth++;
        else if (t.kind == TK_PUNCT && t.p[0] == ')')
            depth--;
        if (depth != 0) {
            prev_order = false;
            continue;
        }
        if (prev_order && is_kw(&t, "by")) {
            terms = sql + pos; /* after BY; an outer ORDER BY replaces an earlier one */
            end = NULL;
        } else if (terms != NULL && end == NULL && (is_kw(&t, "limit") || (t.kind == TK_PUNCT && t.p[0] == ';'))) {
            end = t.p;
        }
        prev_order = is_kw(&t, "order");
    }
    if (terms == NULL)
        return false;
    while (terms < end && isspace((unsigned char)*terms))
        terms++;
    while (end > terms && isspace((unsigned char)end[-1]))
        end--;
    *terms_out = terms;
    *len_out = (size_t)(end - terms);
    /* Ordinals only: NUMBER [ASC|DESC] (, NUMBER [ASC|DESC])* */
    bool ok = true, want_num = true;
    char buf[512];
    size_t n = IVM_MIN(*len_out, sizeof buf - 1);
    memcpy(buf, terms, n);
    buf[n] = '\0';
    if (n < *len_out)
        ok = false;
    size_t p = 0;
    for (token t = next_token(buf, &p); ok && t.kind != TK_END; t = next_token(buf, &p)) {
        if (want_num) {
            ok = t.kind == TK_NUMBER;
            for (size_t i = 0; ok && i < t.n; i++)
                ok = isdigit((unsigned char)t.p[i]);
            want_num = false;
        } else if (t.kind == TK_PUNCT && t.p[0] == ',') {
            want_num = true;
        } else {
            ok = is_kw(&t, "asc") || is_kw(&t, "desc");
        }
    }
    *ordinals_out = ok && !want_num;
    return true;
}
