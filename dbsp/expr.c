/*
 * expr.c: compiled scalar expressions, evaluated over one decoded row with
 * SQLite's semantics on typed values (the oracle the tests compare against;
 * DESIGN.md section 7): construction, SQLite's conversions, comparison,
 * operators, and EXPLAIN's description.  Scalar functions live in
 * expr_func.c and printf in expr_printf.c.  It does not bind names, pick
 * types or apply column affinity: the planner does that and hands over trees
 * whose columns are indexes into the input row.  Evaluation allocates
 * nothing but text results, which go to the caller's scratch arena (D7).
 * dbsp/README.md, "Expressions", lists the SQLite rules kept here and the few
 * places that differ.
 */
#include "dbsp_int.h"

#include <math.h>
#include <stdio.h>

/* ---- Construction ---------------------------------------------------------- */

/* Sets e->intw from e and its arguments' (already set): whether the INT
 * walk (int_eval) can succeed on e.  Its operators, over INT constants and
 * columns not declared REAL or TEXT.  A tree that cannot is evaluated
 * directly instead of failing the walk first: a comparison of a text
 * column with a text constant, say, paid for a walk down to the column on
 * every row. */
static void mark_int(dbsp_expr *e)
{
    bool ok;
    switch ((dbsp_xop)e->op) {
    case DBSP_X_COL:
        ok = e->type != IVM_TREAL && e->type != IVM_TTEXT;
        break;
    case DBSP_X_CONST:
        ok = e->k.type == IVM_TINT;
        break;
    case DBSP_X_AND: case DBSP_X_OR: case DBSP_X_NOT: case DBSP_X_ISNULL:
    case DBSP_X_NOTNULL: case DBSP_X_NEG: case DBSP_X_ADD: case DBSP_X_SUB:
    case DBSP_X_MUL: case DBSP_X_DIV: case DBSP_X_MOD: case DBSP_X_EQ: case DBSP_X_NE:
    case DBSP_X_LT: case DBSP_X_LE: case DBSP_X_GT: case DBSP_X_GE: case DBSP_X_IS:
    case DBSP_X_ISNOT:
        ok = true;
        for (uint32_t i = 0; i < e->nargs && ok; i++)
            ok = e->args[i]->intw;
        break;
    default:
        ok = false;
    }
    e->intw = ok;
}

static dbsp_expr *expr_alloc(dbsp_xop op, ivm_type type)
{
    dbsp_expr *e = ivm_calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->op = (uint16_t)op;
    e->type = (uint8_t)type;
    e->k = ivm_value_null();
    return e;
}

dbsp_expr *dbsp_expr_col(uint32_t col, ivm_type type)
{
    dbsp_expr *e = expr_alloc(DBSP_X_COL, type);
    if (e != NULL) {
        e->col = col;
        mark_int(e);
    }
    return e;
}

dbsp_expr *dbsp_expr_const(const ivm_value *v)
{
    ivm_value k = *v;
    /* SQLite has no NaN: arithmetic that makes one yields NULL, so a NaN
     * constant is NULL too (and rows encode NaN as NULL). */
    if (k.type == IVM_TREAL && isnan(k.u.r))
        k = ivm_value_null();
    dbsp_expr *e = expr_alloc(DBSP_X_CONST, k.type);
    if (e == NULL)
        return NULL;
    if (k.type == IVM_TTEXT) {
        char *t = ivm_strndup(k.u.s.p != NULL ? k.u.s.p : "", k.u.s.n);
        if (t == NULL) {
            ivm_free(e);
            return NULL;
        }
        k.u.s.p = t;
    }
    e->k = k;
    mark_int(e);
    return e;
}

void dbsp_exprs_free(dbsp_expr **exprs, uint32_t n)
{
    if (exprs == NULL)
        return;
    for (uint32_t i = 0; i < n; i++)
        dbsp_expr_free(exprs[i]);
}

/* Arity each operator accepts. */
static bool arity_ok(dbsp_xop op, uint32_t n)
{
    switch (op) {
    case DBSP_X_NEG:
    case DBSP_X_NOT:
    case DBSP_X_ISNULL:
    case DBSP_X_NOTNULL:
    case DBSP_X_CAST:
    case DBSP_X_BITNOT:
        return n == 1;
    case DBSP_X_ADD: case DBSP_X_SUB: case DBSP_X_MUL: case DBSP_X_DIV: case DBSP_X_MOD:
    case DBSP_X_CONCAT:
    case DBSP_X_EQ: case DBSP_X_NE: case DBSP_X_LT: case DBSP_X_LE: case DBSP_X_GT:
    case DBSP_X_GE: case DBSP_X_IS: case DBSP_X_ISNOT:
    case DBSP_X_AND: case DBSP_X_OR:
    case DBSP_X_BITAND: case DBSP_X_BITOR: case DBSP_X_LSHIFT: case DBSP_X_RSHIFT:
        return n == 2;
    case DBSP_X_CASE:
        return n >= 2;
    default:
        return false;
    }
}

static bool fn_arity_ok(dbsp_fn fn, uint32_t n)
{
    switch (fn) {
    case DBSP_FN_ABS: case DBSP_FN_LENGTH: case DBSP_FN_LOWER: case DBSP_FN_UPPER:
    case DBSP_FN_TYPEOF: case DBSP_FN_HEX: case DBSP_FN_QUOTE: case DBSP_FN_UNICODE:
    case DBSP_FN_NUMERIC: case DBSP_FN_CAST_NUMERIC: case DBSP_FN_SIGN:
    case DBSP_FN_NUMKEY: case DBSP_FN_REAL_AFF:
        return n == 1;
    case DBSP_FN_ROUND: case DBSP_FN_TRIM: case DBSP_FN_LTRIM: case DBSP_FN_RTRIM:
        return n == 1 || n == 2;
    case DBSP_FN_SUBSTR:
    case DBSP_FN_LIKE:
        return n == 2 || n == 3;
    case DBSP_FN_INSTR: case DBSP_FN_NULLIF: case DBSP_FN_GLOB:
        return n == 2;
    case DBSP_FN_REPLACE:
        return n == 3;
    case DBSP_FN_COALESCE: case DBSP_FN_MIN: case DBSP_FN_MAX: case DBSP_FN_PRINTF:
        return n >= 1;
    case DBSP_FN_SORTKEY:
        return n % 2 == 0;
    default:
        return false;
    }
}

/* Builds an interior node over args_owned's elements (a NULL element, the
 * trace of a failed inner constructor, fails the whole node). */
static dbsp_expr *expr_interior(dbsp_xop op, uint8_t fn, ivm_type type, uint32_t nargs,
                                dbsp_expr **args_owned)
{
    dbsp_expr *e = NULL;
    dbsp_expr **args = NULL;
    for (uint32_t i = 0; i < nargs; i++)
        if (args_owned[i] == NULL)
            goto fail;
    e = expr_alloc(op, type);
    args = ivm_malloc(sizeof *args * (nargs ? nargs : 1));
    if (e == NULL || args == NULL)
        goto fail;
    if (nargs > 0) /* args_owned may be NULL then (sortkey() of no terms) */
        memcpy(args, args_owned, sizeof *args * nargs);
    e->fn = fn;
    e->nargs = nargs;
    e->args = args;
    mark_int(e);
    return e;
fail:
    ivm_free(e);
    ivm_free(args);
    dbsp_exprs_free(args_owned, nargs);
    return NULL;
}

dbsp_expr *dbsp_expr_op(dbsp_xop op, ivm_type type, uint32_t nargs, dbsp_expr **args_owned)
{
    bool ok = arity_ok(op, nargs);
    /* CAST's target is its result class, kept in fn as the header says. */
    if (op == DBSP_X_CAST && (type < IVM_TINT || type > IVM_TTEXT))
        ok = false;
    if (!ok) {
        dbsp_exprs_free(args_owned, nargs);
        return NULL;
    }
    return expr_interior(op, op == DBSP_X_CAST ? (uint8_t)type : 0, type, nargs, args_owned);
}

dbsp_expr *dbsp_expr_func(dbsp_fn fn, ivm_type type, uint32_t nargs, dbsp_expr **args_owned)
{
    if (!fn_arity_ok(fn, nargs)) {
        dbsp_exprs_free(args_owned, nargs);
        return NULL;
    }
    return expr_interior(DBSP_X_FUNC, (uint8_t)fn, type, nargs, args_owned);
}

void dbsp_expr_free(dbsp_expr *e)
{
    if (e == NULL)
        return;
    dbsp_exprs_free(e->args, e->nargs);
    ivm_free(e->args);
    if (e->op == DBSP_X_CONST && e->k.type == IVM_TTEXT)
        ivm_free((void *)e->k.u.s.p);
    ivm_free(e);
}

dbsp_expr *dbsp_expr_dup(const dbsp_expr *e)
{
    if (e == NULL)
        return NULL;
    if (e->op == DBSP_X_CONST)
        return dbsp_expr_const(&e->k);
    dbsp_expr *d = expr_alloc((dbsp_xop)e->op, (ivm_type)e->type);
    if (d == NULL)
        return NULL;
    d->fn = e->fn;
    d->col = e->col;
    if (e->nargs > 0) {
        d->args = ivm_calloc(e->nargs, sizeof *d->args);
        if (d->args == NULL)
            goto fail;
        d->nargs = e->nargs;
        for (uint32_t i = 0; i < e->nargs; i++) {
            d->args[i] = dbsp_expr_dup(e->args[i]);
            if (d->args[i] == NULL)
                goto fail;
        }
    }
    mark_int(d);
    return d;
fail:
    dbsp_expr_free(d);
    return NULL;
}

bool dbsp_expr_cols_below(const dbsp_expr *e, uint32_t ncols)
{
    if (e->op == DBSP_X_COL)
        return e->col < ncols;
    for (uint32_t i = 0; i < e->nargs; i++)
        if (!dbsp_expr_cols_below(e->args[i], ncols))
            return false;
    return true;
}

/* ---- Conversions, as SQLite makes them -------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The longest numeric prefix of text (after leading spaces): sign, digits,
 * optional '.' and digits, optional exponent.  SQLite reads text this way
 * wherever it wants a number ('12abc' + 1 is 13, 'abc' + 1 is 1, hex is not
 * recognised).  A prefix without '.' or exponent is INT when it fits in
 * 64 bits, else REAL; no digits at all reads as INT 0. */
typedef struct numtext {
    ivm_value v;          /* INT or REAL */
    bool digits;          /* some digit was read */
    bool whole;           /* nothing but spaces follows the number */
} numtext;

/* Significant digits handed to strtod: more than enough to round a double
 * correctly, and a bound on the stack buffer whatever the text's length. */
#define NUM_SIG_MAX 40

static void text_number(const char *p, uint32_t n, numtext *out)
{
    uint32_t i = 0;
    while (i < n && is_space(p[i]))
        i++;
    bool neg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        neg = p[i] == '-';
        i++;
    }
    uint32_t int_at = i;
    while (i < n && is_digit(p[i]))
        i++;
    uint32_t nint = i - int_at, frac_at = i, nfrac = 0;
    bool real = false;
    if (i < n && p[i] == '.' && (nint > 0 || (i + 1 < n && is_digit(p[i + 1])))) {
        i++;
        frac_at = i;
        while (i < n && is_digit(p[i]))
            i++;
        nfrac = i - frac_at;
        real = true;
    }
    int64_t exp10 = 0;
    if ((nint > 0 || nfrac > 0) && i < n && (p[i] == 'e' || p[i] == 'E')) {
        uint32_t j = i + 1;
        bool eneg = false;
        if (j < n && (p[j] == '+' || p[j] == '-')) {
            eneg = p[j] == '-';
            j++;
        }
        if (j < n && is_digit(p[j])) {
            while (j < n && is_digit(p[j])) {
                if (exp10 < 100000) /* beyond any double: saturate */
                    exp10 = exp10 * 10 + (p[j] - '0');
                j++;
            }
            if (eneg)
                exp10 = -exp10;
            real = true;
            i = j;
        }
    }
    out->digits = nint > 0 || nfrac > 0;
    uint32_t k = i;
    while (k < n && is_space(p[k]))
        k++;
    out->whole = out->digits && k == n;
    if (!out->digits) {
        out->v = ivm_value_int(0);
        return;
    }
    if (!real) {
        /* Magnitude limit: 2^63 for a negative number, 2^63 - 1 otherwise. */
        uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
        bool over = false;
        for (uint32_t d = int_at; d < int_at + nint && !over; d++) {
            unsigned dig = (unsigned)(p[d] - '0');
            if (acc > (lim - dig) / 10)
                over = true;
            else
                acc = acc * 10 + dig;
        }
        if (!over) {
            out->v = ivm_value_int(neg ? (int64_t)(0 - acc) : (int64_t)acc);
            return;
        }
    }
    /* REAL: digits D (integer then fraction part), value D * 10^(exp - nfrac).
     * Leading zeros go; digits past NUM_SIG_MAX move into the exponent. */
    char buf[NUM_SIG_MAX + 32];
    size_t o = 0;
    if (neg)
        buf[o++] = '-';
    size_t sig = 0;
    int64_t dropped = 0;
    bool lead = true;
    for (uint32_t d = 0; d < nint + nfrac; d++) {
        char c = d < nint ? p[int_at + d] : p[frac_at + (d - nint)];
        if (lead && c == '0')
            continue;
        lead = false;
        if (sig < NUM_SIG_MAX) {
            buf[o++] = c;
            sig++;
        } else {
            dropped++;
        }
    }
    if (sig == 0) {
        out->v = ivm_value_real(0.0);
        return;
    }
    int64_t e10 = exp10 - (int64_t)nfrac + dropped;
    snprintf(buf + o, sizeof buf - o, "e%lld", (long long)e10);
    /* Only digits and an exponent: no decimal point, so the locale cannot
     * change how strtod reads it. */
    out->v = ivm_value_real(strtod(buf, NULL));
}

/* A value as a number: INT and REAL as they are, text by its prefix. */
static ivm_value numeric(const ivm_value *v)
{
    if (v->type != IVM_TTEXT)
        return *v;
    numtext nt;
    text_number(v->u.s.p, v->u.s.n, &nt);
    return nt.v;
}

ivm_value dbsp_value_number(const ivm_value *v)
{
    return numeric(v);
}

static double as_real(const ivm_value *v)
{
    ivm_value n = numeric(v);
    return n.type == IVM_TINT ? (double)n.u.i : n.type == IVM_TREAL ? n.u.r : 0.0;
}

double dbsp_value_real(const ivm_value *v)
{
    return as_real(v);
}

bool dbsp_text_to_number(const char *p, uint32_t n, ivm_value *out)
{
    return dbsp_text_as_number(p, n, out);
}

bool dbsp_text_as_number(const char *p, uint32_t n, ivm_value *out)
{
    numtext nt;
    text_number(p, n, &nt);
    if (!nt.whole)
        return false;
    *out = nt.v;
    return true;
}

/* SQLite's REAL -> INT: truncation toward zero, saturating at the ends. */
static int64_t real_to_int(double r)
{
    if (isnan(r))
        return 0;
    if (r <= -9223372036854775808.0)
        return INT64_MIN;
    if (r >= 9223372036854775808.0)
        return INT64_MAX;
    return (int64_t)r;
}

/* CAST(text AS INTEGER): only the leading integer ('1.9e3' is 1), saturating
 * ('9223372036854775808' is INT64_MAX), as SQLite 3.40 does. */
static int64_t text_to_int(const char *p, uint32_t n)
{
    uint32_t i = 0;
    while (i < n && is_space(p[i]))
        i++;
    bool neg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        neg = p[i] == '-';
        i++;
    }
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
    for (; i < n && is_digit(p[i]); i++) {
        unsigned dig = (unsigned)(p[i] - '0');
        if (acc > (lim - dig) / 10) {
            acc = lim;
            break;
        }
        acc = acc * 10 + dig;
    }
    return neg ? (int64_t)(0 - acc) : (int64_t)acc;
}

int64_t dbsp_value_int64(const ivm_value *v)
{
    switch (v->type) {
    case IVM_TINT:
        return v->u.i;
    case IVM_TREAL:
        return real_to_int(v->u.r);
    case IVM_TTEXT:
        return text_to_int(v->u.s.p, v->u.s.n);
    default:
        return 0;
    }
}

ivm_value dbsp_value_sum_numeric(const ivm_value *text)
{
    numtext nt;
    text_number(text->u.s.p, text->u.s.n, &nt);
    if (nt.whole && nt.v.type == IVM_TINT)
        return nt.v;
    return ivm_value_real(nt.v.type == IVM_TINT ? (double)nt.v.u.i : nt.v.u.r);
}

int dbsp_value_truth(const ivm_value *v)
{
    switch (v->type) {
    case IVM_TNULL:
        return -1;
    case IVM_TINT:
        return v->u.i != 0;
    case IVM_TREAL:
        return v->u.r != 0.0;
    default:
        return as_real(v) != 0.0;
    }
}

/* Exact comparison of an INT with a REAL, as SQLite's sqlite3IntFloatCompare:
 * converting the INT to double would call 2^63 - 1 equal to 2^63. */
static int int_real_cmp(int64_t i, double r)
{
    if (r < -9223372036854775808.0)
        return 1;
    if (r >= 9223372036854775808.0)
        return -1;
    int64_t t = (int64_t)r;
    if (i != t)
        return i < t ? -1 : 1;
    /* i == trunc(r).  Below 2^53 (double)t is exact; above, r is integral
     * and equals t exactly.  Either way the fraction decides. */
    double dt = (double)t;
    return r > dt ? -1 : r < dt ? 1 : 0;
}

int dbsp_value_cmp(const ivm_value *a, const ivm_value *b)
{
    /* NULL first, then numbers, then text: the order rows sort in. */
    int ca = a->type == IVM_TNULL ? 0 : a->type == IVM_TTEXT ? 2 : 1;
    int cb = b->type == IVM_TNULL ? 0 : b->type == IVM_TTEXT ? 2 : 1;
    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (ca == 0)
        return 0;
    if (ca == 2) {
        uint32_t n = IVM_MIN(a->u.s.n, b->u.s.n);
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        if (c != 0)
            return c < 0 ? -1 : 1;
        return (a->u.s.n > b->u.s.n) - (a->u.s.n < b->u.s.n);
    }
    if (a->type == IVM_TINT && b->type == IVM_TINT)
        return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    if (a->type == IVM_TREAL && b->type == IVM_TREAL)
        return (a->u.r > b->u.r) - (a->u.r < b->u.r);
    if (a->type == IVM_TINT)
        return int_real_cmp(a->u.i, b->u.r);
    return -int_real_cmp(b->u.i, a->u.r);
}

/* ---- Text forms ------------------------------------------------------------ */

/* Text form of a non-NULL value; numbers are printed into buf (>= 40 bytes). */
static ivm_value text_form(const ivm_value *v, char *buf, size_t cap)
{
    if (v->type == IVM_TTEXT)
        return *v;
    size_t n;
    if (v->type == IVM_TINT)
        n = (size_t)snprintf(buf, cap, "%lld", (long long)v->u.i);
    else
        n = ivm_format_real(v->u.r, buf, cap);
    if (n >= cap)
        n = cap - 1;
    return ivm_value_text(buf, (uint32_t)n);
}

ivm_value dbsp_value_text_form(const ivm_value *v, char *buf, size_t cap)
{
    return text_form(v, buf, cap);
}

/* Copies text into the scratch arena (numbers printed in a local buffer die
 * with the call). */
static ivm_rc text_keep(rt_arena *scratch, ivm_value *v)
{
    if (v->u.s.n == 0) {
        v->u.s.p = "";
        return IVM_OK;
    }
    char *t = rt_arena_alloc(scratch, v->u.s.n);
    if (t == NULL)
        return IVM_NOMEM;
    memcpy(t, v->u.s.p, v->u.s.n);
    v->u.s.p = t;
    return IVM_OK;
}

/* ---- Evaluation ------------------------------------------------------------ */

typedef dbsp_evalctx evalctx;

static ivm_rc eval(const dbsp_expr *e, evalctx *x, ivm_value *out);

ivm_rc dbsp_eval(const dbsp_expr *e, dbsp_evalctx *x, ivm_value *out)
{
    return eval(e, x, out);
}

ivm_rc dbsp_too_big(dbsp_evalctx *x)
{
    return ivm_err_set(x->err, IVM_INVALID, 0, 0, "string or blob too big");
}

void dbsp_sbuf_init(dbsp_sbuf *b, dbsp_evalctx *x)
{
    b->x = x;
    b->p = NULL;
    b->n = b->cap = 0;
    b->rc = IVM_OK;
}

/* Room for `more` bytes after the text; false once the buffer has failed. */
static bool sbuf_room(dbsp_sbuf *b, size_t more)
{
    if (b->rc != IVM_OK)
        return false;
    if (more > DBSP_TEXT_MAX || b->n + more > DBSP_TEXT_MAX) {
        b->rc = dbsp_too_big(b->x);
        return false;
    }
    size_t need = b->n + more;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = rt_arena_alloc(b->x->scratch, cap);
    if (p == NULL) {
        b->rc = IVM_NOMEM;
        return false;
    }
    if (b->n)
        memcpy(p, b->p, b->n);
    b->p = p;
    b->cap = cap;
    return true;
}

void dbsp_sbuf_put(dbsp_sbuf *b, const char *s, size_t n)
{
    if (n == 0 || !sbuf_room(b, n))
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

void dbsp_sbuf_fill(dbsp_sbuf *b, char c, size_t n)
{
    if (n == 0 || !sbuf_room(b, n))
        return;
    memset(b->p + b->n, c, n);
    b->n += n;
}

ivm_rc dbsp_sbuf_done(dbsp_sbuf *b, ivm_value *out)
{
    if (b->rc != IVM_OK)
        return b->rc;
    *out = ivm_value_text(b->n ? b->p : "", (uint32_t)b->n);
    return IVM_OK;
}

static ivm_value arith(dbsp_xop op, const ivm_value *a, const ivm_value *b)
{
    if (a->type == IVM_TNULL || b->type == IVM_TNULL)
        return ivm_value_null();
    ivm_value x = numeric(a), y = numeric(b);
    if (x.type == IVM_TINT && y.type == IVM_TINT) {
        int64_t i = x.u.i, j = y.u.i, r;
        switch (op) {
        case DBSP_X_ADD:
            if (!__builtin_add_overflow(i, j, &r))
                return ivm_value_int(r);
            break; /* overflow: REAL, as SQLite */
        case DBSP_X_SUB:
            if (!__builtin_sub_overflow(i, j, &r))
                return ivm_value_int(r);
            break;
        case DBSP_X_MUL:
            if (!__builtin_mul_overflow(i, j, &r))
                return ivm_value_int(r);
            break;
        case DBSP_X_DIV:
            if (j == 0)
                return ivm_value_null();
            if (i == INT64_MIN && j == -1)
                break; /* 2^63 does not fit: REAL */
            return ivm_value_int(i / j);
        default: /* DBSP_X_MOD */
            if (j == 0)
                return ivm_value_null();
            return ivm_value_int(j == -1 ? 0 : i % j);
        }
    }
    double p = x.type == IVM_TINT ? (double)x.u.i : x.u.r;
    double q = y.type == IVM_TINT ? (double)y.u.i : y.u.r;
    double r;
    switch (op) {
    case DBSP_X_ADD:
        r = p + q;
        break;
    case DBSP_X_SUB:
        r = p - q;
        break;
    case DBSP_X_MUL:
        r = p * q;
        break;
    case DBSP_X_DIV:
        if (q == 0.0)
            return ivm_value_null();
        r = p / q;
        break;
    default: {
        /* REAL % works on the operands' integer values (5.5 % 2 is 1.0) and
         * gives a REAL, as SQLite does; like SQLite it takes them from the
         * original operands, so text gives its leading integer ('1e3' is 1). */
        int64_t i = dbsp_value_int64(a);
        int64_t j = dbsp_value_int64(b);
        if (j == 0)
            return ivm_value_null();
        r = (double)(j == -1 ? 0 : i % j);
        break;
    }
    }
    if (isnan(r)) /* Inf - Inf and the like: SQLite gives NULL */
        return ivm_value_null();
    return ivm_value_real(r);
}

static ivm_value bool_value(int t)
{
    return t < 0 ? ivm_value_null() : ivm_value_int(t != 0);
}

static ivm_value compare(dbsp_xop op, const ivm_value *a, const ivm_value *b)
{
    bool an = a->type == IVM_TNULL, bn = b->type == IVM_TNULL;
    if (op == DBSP_X_IS || op == DBSP_X_ISNOT) {
        bool same = (an || bn) ? (an && bn) : dbsp_value_cmp(a, b) == 0;
        return ivm_value_int(op == DBSP_X_IS ? same : !same);
    }
    if (an || bn)
        return ivm_value_null();
    int c = dbsp_value_cmp(a, b);
    switch (op) {
    case DBSP_X_EQ:
        return ivm_value_int(c == 0);
    case DBSP_X_NE:
        return ivm_value_int(c != 0);
    case DBSP_X_LT:
        return ivm_value_int(c < 0);
    case DBSP_X_LE:
        return ivm_value_int(c <= 0);
    case DBSP_X_GT:
        return ivm_value_int(c > 0);
    default:
        return ivm_value_int(c >= 0);
    }
}

static ivm_rc concat(evalctx *x, const ivm_value *a, const ivm_value *b, ivm_value *out)
{
    if (a->type == IVM_TNULL || b->type == IVM_TNULL) {
        *out = ivm_value_null();
        return IVM_OK;
    }
    char ba[40], bb[40];
    ivm_value ta = text_form(a, ba, sizeof ba), tb = text_form(b, bb, sizeof bb);
    size_t n = (size_t)ta.u.s.n + tb.u.s.n;
    if (n > DBSP_TEXT_MAX)
        return dbsp_too_big(x);
    if (n == 0) {
        *out = ivm_value_text("", 0);
        return IVM_OK;
    }
    char *t = rt_arena_alloc(x->scratch, n);
    if (t == NULL)
        return IVM_NOMEM;
    if (ta.u.s.n)
        memcpy(t, ta.u.s.p, ta.u.s.n);
    if (tb.u.s.n)
        memcpy(t + ta.u.s.n, tb.u.s.p, tb.u.s.n);
    *out = ivm_value_text(t, (uint32_t)n);
    return IVM_OK;
}

static ivm_rc cast(evalctx *x, ivm_type to, const ivm_value *a, ivm_value *out)
{
    if (a->type == IVM_TNULL) {
        *out = ivm_value_null();
        return IVM_OK;
    }
    switch (to) {
    case IVM_TINT:
        if (a->type == IVM_TINT)
            *out = *a;
        else if (a->type == IVM_TREAL)
            *out = ivm_value_int(real_to_int(a->u.r));
        else
            *out = ivm_value_int(text_to_int(a->u.s.p, a->u.s.n));
        return IVM_OK;
    case IVM_TREAL:
        *out = ivm_value_real(as_real(a));
        return IVM_OK;
    case IVM_TTEXT: {
        if (a->type == IVM_TTEXT) {
            *out = *a;
            return IVM_OK;
        }
        char buf[40];
        *out = text_form(a, buf, sizeof buf);
        return text_keep(x->scratch, out);
    }
    default:
        return ivm_err_set(x->err, IVM_INTERNAL, 0, 0, "CAST to an unknown type class %d",
                           (int)to);
    }
}

/* Bitwise operators on the operands' 64-bit integer values (text through
 * its leading integer, REAL truncated), as SQLite. */
static ivm_value bitwise(dbsp_xop op, const ivm_value *a, const ivm_value *b)
{
    if (a->type == IVM_TNULL || (b != NULL && b->type == IVM_TNULL))
        return ivm_value_null();
    uint64_t i = (uint64_t)dbsp_value_int64(a);
    if (op == DBSP_X_BITNOT)
        return ivm_value_int((int64_t)~i);
    int64_t j = dbsp_value_int64(b);
    switch (op) {
    case DBSP_X_BITAND:
        return ivm_value_int((int64_t)(i & (uint64_t)j));
    case DBSP_X_BITOR:
        return ivm_value_int((int64_t)(i | (uint64_t)j));
    default: {
        bool left = op == DBSP_X_LSHIFT;
        if (j < 0) {
            /* A negative count shifts the other way. */
            left = !left;
            j = j > -64 ? -j : 64;
        }
        if (j >= 64)
            return ivm_value_int(left || (int64_t)i >= 0 ? 0 : -1);
        if (left)
            return ivm_value_int((int64_t)(i << j));
        /* Arithmetic shift, spelled out: >> of a negative value is
         * implementation-defined in C. */
        if ((int64_t)i >= 0)
            return ivm_value_int((int64_t)(i >> j));
        return ivm_value_int((int64_t)~(~i >> j));
    }
    }
}

/* An operand: a column or a constant read in place (leaves are never
 * shared subexpressions, so the memo has nothing to say), anything else
 * evaluated. */
static inline ivm_rc operand(const dbsp_expr *e, evalctx *x, ivm_value *out)
{
    if (e->op == DBSP_X_COL) {
        *out = x->row[e->col];
        return IVM_OK;
    }
    if (e->op == DBSP_X_CONST) {
        *out = e->k;
        return IVM_OK;
    }
    return eval(e, x, out);
}

static ivm_rc eval_op(const dbsp_expr *e, evalctx *x, ivm_value *out)
{
    ivm_value a, b;
    ivm_rc rc;
    switch ((dbsp_xop)e->op) {
    case DBSP_X_COL:
        *out = x->row[e->col];
        return IVM_OK;
    case DBSP_X_CONST:
        *out = e->k;
        return IVM_OK;
    case DBSP_X_NEG:
        if ((rc = eval(e->args[0], x, &a)) != IVM_OK)
            return rc;
        if (a.type == IVM_TNULL) {
            *out = a;
            return IVM_OK;
        }
        a = numeric(&a);
        if (a.type == IVM_TINT)
            *out = a.u.i == INT64_MIN ? ivm_value_real(9223372036854775808.0)
                                      : ivm_value_int(-a.u.i);
        else
            *out = ivm_value_real(-a.u.r);
        return IVM_OK;
    case DBSP_X_ADD: case DBSP_X_SUB: case DBSP_X_MUL: case DBSP_X_DIV: case DBSP_X_MOD:
    case DBSP_X_EQ: case DBSP_X_NE: case DBSP_X_LT: case DBSP_X_LE: case DBSP_X_GT:
    case DBSP_X_GE: case DBSP_X_IS: case DBSP_X_ISNOT: case DBSP_X_CONCAT:
        if ((rc = operand(e->args[0], x, &a)) != IVM_OK)
            return rc;
        if ((rc = operand(e->args[1], x, &b)) != IVM_OK)
            return rc;
        /* Two INTs compared (a FILTER's range, a WHERE on a column): no
         * conversion can apply, so the comparison is the integers'. */
        if (a.type == IVM_TINT && b.type == IVM_TINT && e->op >= DBSP_X_EQ &&
            e->op <= DBSP_X_GE) {
            int64_t i = a.u.i, j = b.u.i;
            bool t;
            switch (e->op) {
            case DBSP_X_EQ: t = i == j; break;
            case DBSP_X_NE: t = i != j; break;
            case DBSP_X_LT: t = i < j; break;
            case DBSP_X_LE: t = i <= j; break;
            case DBSP_X_GT: t = i > j; break;
            default: t = i >= j; break;
            }
            *out = ivm_value_int(t);
            return IVM_OK;
        }
        if (e->op == DBSP_X_CONCAT)
            return concat(x, &a, &b, out);
        if (e->op <= DBSP_X_MOD)
            *out = arith((dbsp_xop)e->op, &a, &b);
        else
            *out = compare((dbsp_xop)e->op, &a, &b);
        return IVM_OK;
    case DBSP_X_AND:
    case DBSP_X_OR: {
        /* Three-valued; the right side is skipped once the left decides
         * (false for AND, true for OR). */
        int decide = e->op == DBSP_X_AND ? 0 : 1;
        if ((rc = eval(e->args[0], x, &a)) != IVM_OK)
            return rc;
        int ta = dbsp_value_truth(&a);
        if (ta == decide) {
            *out = ivm_value_int(decide);
            return IVM_OK;
        }
        if ((rc = eval(e->args[1], x, &b)) != IVM_OK)
            return rc;
        int tb = dbsp_value_truth(&b);
        if (tb == decide)
            *out = ivm_value_int(decide);
        else if (ta < 0 || tb < 0)
            *out = ivm_value_null();
        else
            *out = ivm_value_int(!decide);
        return IVM_OK;
    }
    case DBSP_X_NOT:
        if ((rc = eval(e->args[0], x, &a)) != IVM_OK)
            return rc;
        {
            int t = dbsp_value_truth(&a);
            *out = bool_value(t < 0 ? -1 : !t);
        }
        return IVM_OK;
    case DBSP_X_ISNULL:
    case DBSP_X_NOTNULL:
        if ((rc = eval(e->args[0], x, &a)) != IVM_OK)
            return rc;
        *out = ivm_value_int((a.type == IVM_TNULL) == (e->op == DBSP_X_ISNULL));
        return IVM_OK;
    case DBSP_X_CAST:
        if ((rc = eval(e->args[0], x, &a)) != IVM_OK)
            return rc;
        return cast(x, (ivm_type)e->fn, &a, out);
    case DBSP_X_CASE: {
        uint32_t pairs = e->nargs / 2;
        for (uint32_t i = 0; i < pairs; i++) {
            if ((rc = eval(e->args[2 * i], x, &a)) != IVM_OK)
                return rc;
            if (dbsp_value_truth(&a) == 1)
                return eval(e->args[2 * i + 1], x, out);
        }
        if (e->nargs % 2 == 1)
            return eval(e->args[e->nargs - 1], x, out);
        *out = ivm_value_null();
        return IVM_OK;
    }
    case DBSP_X_FUNC:
        return dbsp_eval_func(e, x, out);
    case DBSP_X_BITNOT:
        if ((rc = eval(e->args[0], x, &a)) != IVM_OK)
            return rc;
        *out = bitwise(DBSP_X_BITNOT, &a, NULL);
        return IVM_OK;
    case DBSP_X_BITAND: case DBSP_X_BITOR: case DBSP_X_LSHIFT: case DBSP_X_RSHIFT:
        if ((rc = eval(e->args[0], x, &a)) != IVM_OK)
            return rc;
        if ((rc = eval(e->args[1], x, &b)) != IVM_OK)
            return rc;
        *out = bitwise((dbsp_xop)e->op, &a, &b);
        return IVM_OK;
    default:
        return ivm_err_set(x->err, IVM_INTERNAL, 0, 0, "unknown expression operator %d",
                           (int)e->op);
    }
}

/* A shared subexpression is evaluated once per row: later occurrences read
 * the memo.  Evaluation is a function of the row, so this changes no
 * result, and an error stops the row at the first occurrence anyway. */
static ivm_rc eval(const dbsp_expr *e, evalctx *x, ivm_value *out)
{
    if (e->memo == 0 || x->memo == NULL)
        return eval_op(e, x, out);
    dbsp_memo *m = x->memo;
    uint32_t s = e->memo - 1;
    if (m->at[s] == m->row) {
        *out = m->v[s];
        return IVM_OK;
    }
    ivm_rc rc = eval_op(e, x, out);
    if (rc == IVM_OK) {
        m->v[s] = *out;
        m->at[s] = m->row;
    }
    return rc;
}

ivm_rc dbsp_expr_eval(const dbsp_expr *e, const ivm_value *row, rt_arena *scratch,
                      ivm_value *out, ivm_err *err)
{
    return dbsp_expr_eval_memo(e, row, scratch, NULL, out, err);
}

/* The value of e over row when every value it meets is an INT and every
 * step stays one (no NULL, no overflow into REAL, no division by zero):
 * then each operator is its INT case, and the tree is walked without the
 * general evaluator's values, conversions and memo.  Anything else, and
 * any operator not listed, returns false and the caller evaluates e in
 * full, which gives the same value wherever this one gives any: AND and
 * OR of INTs are the truth of the side that decides, as eval_op's
 * three-valued logic is once no side is NULL.  Nexmark's group keys and
 * FILTERs (date_time / 86400000, price >= 10000 AND price < 1000000) are
 * such trees; the general evaluator took about 150 instructions a node. */
static bool int_eval(const dbsp_expr *e, const ivm_value *row, int64_t *out);

/* An operand of int_eval: a column or constant read in place (most
 * operands are), anything else walked. */
static inline bool int_arg(const dbsp_expr *e, const ivm_value *row, int64_t *out)
{
    const ivm_value *v;
    if (e->op == DBSP_X_COL)
        v = &row[e->col];
    else if (e->op == DBSP_X_CONST)
        v = &e->k;
    else
        return int_eval(e, row, out);
    *out = v->u.i;
    return v->type == IVM_TINT;
}

static bool int_eval(const dbsp_expr *e, const ivm_value *row, int64_t *out)
{
    int64_t a, b;
    switch ((dbsp_xop)e->op) {
    case DBSP_X_COL:
        if (row[e->col].type != IVM_TINT)
            return false;
        *out = row[e->col].u.i;
        return true;
    case DBSP_X_CONST:
        if (e->k.type != IVM_TINT)
            return false;
        *out = e->k.u.i;
        return true;
    case DBSP_X_AND:
    case DBSP_X_OR:
        if (!int_arg(e->args[0], row, &a))
            return false;
        if ((a != 0) == (e->op == DBSP_X_OR)) {
            *out = a != 0;
            return true;
        }
        if (!int_arg(e->args[1], row, &b))
            return false;
        *out = b != 0;
        return true;
    case DBSP_X_NOT:
        if (!int_arg(e->args[0], row, &a))
            return false;
        *out = a == 0;
        return true;
    case DBSP_X_ISNULL:
    case DBSP_X_NOTNULL:
        if (!int_arg(e->args[0], row, &a))
            return false;
        *out = e->op == DBSP_X_NOTNULL;
        return true;
    case DBSP_X_NEG:
        if (!int_arg(e->args[0], row, &a) || a == INT64_MIN)
            return false;
        *out = -a;
        return true;
    case DBSP_X_ADD: case DBSP_X_SUB: case DBSP_X_MUL: case DBSP_X_DIV: case DBSP_X_MOD:
    case DBSP_X_EQ: case DBSP_X_NE: case DBSP_X_LT: case DBSP_X_LE: case DBSP_X_GT:
    case DBSP_X_GE: case DBSP_X_IS: case DBSP_X_ISNOT:
        if (!int_arg(e->args[0], row, &a) || !int_arg(e->args[1], row, &b))
            return false;
        switch ((dbsp_xop)e->op) {
        case DBSP_X_ADD:
            return !__builtin_add_overflow(a, b, out);
        case DBSP_X_SUB:
            return !__builtin_sub_overflow(a, b, out);
        case DBSP_X_MUL:
            return !__builtin_mul_overflow(a, b, out);
        case DBSP_X_DIV:
            if (b == 0 || (a == INT64_MIN && b == -1))
                return false;
            *out = a / b;
            return true;
        case DBSP_X_MOD:
            if (b == 0)
                return false;
            *out = b == -1 ? 0 : a % b;
            return true;
        case DBSP_X_EQ: case DBSP_X_IS: *out = a == b; return true;
        case DBSP_X_NE: case DBSP_X_ISNOT: *out = a != b; return true;
        case DBSP_X_LT: *out = a < b; return true;
        case DBSP_X_LE: *out = a <= b; return true;
        case DBSP_X_GT: *out = a > b; return true;
        default: *out = a >= b; return true;
        }
    default:
        return false;
    }
}

ivm_rc dbsp_expr_eval_memo(const dbsp_expr *e, const ivm_value *row, rt_arena *scratch,
                           dbsp_memo *memo, ivm_value *out, ivm_err *err)
{
    int64_t i;
    if (e->intw && int_arg(e, row, &i)) {
        *out = ivm_value_int(i);
        return IVM_OK;
    }
    evalctx x = {row, scratch, err, memo};
    ivm_value v;
    ivm_rc rc = eval(e, &x, &v);
    if (rc == IVM_OK)
        *out = v;
    return rc;
}

/* ---- Shared subexpressions ------------------------------------------------ */

typedef struct sub {
    uint64_t hash;
    dbsp_expr *e;
} sub;

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return h * 0xFF51AFD7ED558CCDULL;
}

static bool same_const(const ivm_value *a, const ivm_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case IVM_TINT:
        return a->u.i == b->u.i;
    case IVM_TREAL:
        return memcmp(&a->u.r, &b->u.r, sizeof a->u.r) == 0;
    case IVM_TTEXT:
        return a->u.s.n == b->u.s.n && (a->u.s.n == 0 || memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0);
    default:
        return true;
    }
}

/* Structural equality: the same tree evaluates to the same value on every row. */
static bool same_expr(const dbsp_expr *a, const dbsp_expr *b)
{
    if (a->op != b->op || a->type != b->type || a->fn != b->fn || a->col != b->col ||
        a->nargs != b->nargs || !same_const(&a->k, &b->k))
        return false;
    for (uint32_t i = 0; i < a->nargs; i++)
        if (!same_expr(a->args[i], b->args[i]))
            return false;
    return true;
}

/* The hash of e's tree; appends every interior node to subs (when there is
 * room: *n counts them all). */
static uint64_t hash_expr(dbsp_expr *e, sub *subs, size_t cap, size_t *n)
{
    uint64_t h = mix(mix(mix(e->op, e->type), e->fn), e->col);
    h = mix(h, e->k.type);
    if (e->k.type == IVM_TINT)
        h = mix(h, (uint64_t)e->k.u.i);
    else if (e->k.type == IVM_TTEXT)
        for (uint32_t i = 0; i < e->k.u.s.n; i++)
            h = mix(h, (unsigned char)e->k.u.s.p[i]);
    for (uint32_t i = 0; i < e->nargs; i++)
        h = mix(h, hash_expr(e->args[i], subs, cap, n));
    e->memo = 0;
    mark_int(e); /* its arguments may have been replaced since it was built */
    if (e->nargs > 0) {
        if (*n < cap)
            subs[*n] = (sub){h, e};
        (*n)++;
    }
    return h;
}

static int sub_cmp(const void *a, const void *b)
{
    const sub *x = a, *y = b;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

uint32_t dbsp_exprs_share(dbsp_expr *const *exprs, uint32_t n)
{
    size_t count = 0;
    for (uint32_t i = 0; i < n; i++)
        hash_expr(exprs[i], NULL, 0, &count);
    if (count < 2)
        return 0;
    sub *subs = ivm_malloc(sizeof *subs * count);
    if (subs == NULL)
        return 0;
    size_t got = 0;
    for (uint32_t i = 0; i < n; i++)
        hash_expr(exprs[i], subs, count, &got);
    qsort(subs, count, sizeof *subs, sub_cmp);
    uint32_t slots = 0;
    for (size_t i = 0; i < count; i++) {
        if (subs[i].e->memo != 0)
            continue;
        for (size_t j = i + 1; j < count && subs[j].hash == subs[i].hash; j++) {
            if (subs[j].e->memo == 0 && same_expr(subs[i].e, subs[j].e)) {
                if (subs[i].e->memo == 0)
                    subs[i].e->memo = ++slots;
                subs[j].e->memo = subs[i].e->memo;
            }
        }
    }
    ivm_free(subs);
    return slots;
}

ivm_rc dbsp_memo_init(dbsp_memo *m, uint32_t nslots)
{
    m->row = 1;
    m->n = nslots;
    m->at = ivm_calloc(nslots + 1, sizeof *m->at);
    m->v = ivm_calloc(nslots + 1, sizeof *m->v);
    return m->at != NULL && m->v != NULL ? IVM_OK : IVM_NOMEM;
}

void dbsp_memo_fini(dbsp_memo *m)
{
    ivm_free(m->at);
    ivm_free(m->v);
    m->at = NULL;
    m->v = NULL;
}

/* ---- Description (EXPLAIN) ------------------------------------------------ */

typedef struct wbuf {
    char *buf;
    size_t cap, len;
} wbuf;

static void put(wbuf *w, const char *s, size_t n)
{
    if (w->len < w->cap) {
        size_t room = w->cap - w->len - 1;
        size_t k = n < room ? n : room;
        memcpy(w->buf + w->len, s, k);
        w->buf[w->len + k] = '\0';
    }
    w->len += n;
}

static void puts_(wbuf *w, const char *s)
{
    put(w, s, strlen(s));
}

static const char *type_name(int t)
{
    switch (t) {
    case IVM_TINT:
        return "INTEGER";
    case IVM_TREAL:
        return "REAL";
    case IVM_TTEXT:
        return "TEXT";
    default:
        return "NULL";
    }
}

static void describe_value(wbuf *w, const ivm_value *v)
{
    char buf[40];
    if (v->type == IVM_TNULL) {
        puts_(w, "NULL");
    } else if (v->type == IVM_TTEXT) {
        put(w, "'", 1);
        for (uint32_t i = 0; i < v->u.s.n; i++) {
            if (v->u.s.p[i] == '\'')
                put(w, "'", 1);
            put(w, &v->u.s.p[i], 1);
        }
        put(w, "'", 1);
    } else {
        ivm_value t = text_form(v, buf, sizeof buf);
        put(w, t.u.s.p, t.u.s.n);
    }
}

static const char *binop_text(dbsp_xop op)
{
    static const char *const names[] = {
        [DBSP_X_ADD] = " + ", [DBSP_X_SUB] = " - ", [DBSP_X_MUL] = " * ",
        [DBSP_X_DIV] = " / ", [DBSP_X_MOD] = " % ", [DBSP_X_CONCAT] = " || ",
        [DBSP_X_EQ] = " = ", [DBSP_X_NE] = " <> ", [DBSP_X_LT] = " < ",
        [DBSP_X_LE] = " <= ", [DBSP_X_GT] = " > ", [DBSP_X_GE] = " >= ",
        [DBSP_X_IS] = " IS ", [DBSP_X_ISNOT] = " IS NOT ", [DBSP_X_AND] = " AND ",
        [DBSP_X_OR] = " OR ", [DBSP_X_BITAND] = " & ", [DBSP_X_BITOR] = " | ",
        [DBSP_X_LSHIFT] = " << ", [DBSP_X_RSHIFT] = " >> ",
    };
    return (size_t)op < sizeof names / sizeof names[0] ? names[op] : NULL;
}

static void describe(wbuf *w, const dbsp_expr *e)
{
    static const char *const fnames[DBSP_FN_COUNT_] = {
        [DBSP_FN_ABS] = "abs", [DBSP_FN_COALESCE] = "coalesce",
        [DBSP_FN_LENGTH] = "length", [DBSP_FN_LOWER] = "lower", [DBSP_FN_UPPER] = "upper",
        [DBSP_FN_ROUND] = "round", [DBSP_FN_SUBSTR] = "substr", [DBSP_FN_TRIM] = "trim",
        [DBSP_FN_LTRIM] = "ltrim", [DBSP_FN_RTRIM] = "rtrim", [DBSP_FN_REPLACE] = "replace",
        [DBSP_FN_INSTR] = "instr", [DBSP_FN_NULLIF] = "nullif", [DBSP_FN_MIN] = "min",
        [DBSP_FN_MAX] = "max", [DBSP_FN_TYPEOF] = "typeof", [DBSP_FN_PRINTF] = "printf",
        [DBSP_FN_HEX] = "hex", [DBSP_FN_QUOTE] = "quote", [DBSP_FN_UNICODE] = "unicode",
        [DBSP_FN_LIKE] = "like", [DBSP_FN_GLOB] = "glob", [DBSP_FN_NUMERIC] = "numeric",
        [DBSP_FN_CAST_NUMERIC] = "cast_numeric", [DBSP_FN_SIGN] = "sign",
        [DBSP_FN_NUMKEY] = "numkey", [DBSP_FN_REAL_AFF] = "real_affinity",
        [DBSP_FN_SORTKEY] = "sortkey",
    };
    char buf[24];
    const char *bin = binop_text((dbsp_xop)e->op);
    if (bin != NULL && e->nargs == 2) {
        put(w, "(", 1);
        describe(w, e->args[0]);
        puts_(w, bin);
        describe(w, e->args[1]);
        put(w, ")", 1);
        return;
    }
    switch ((dbsp_xop)e->op) {
    case DBSP_X_COL:
        snprintf(buf, sizeof buf, "#%u", (unsigned)e->col);
        puts_(w, buf);
        return;
    case DBSP_X_CONST:
        describe_value(w, &e->k);
        return;
    case DBSP_X_NEG:
    case DBSP_X_NOT:
    case DBSP_X_BITNOT:
        puts_(w, e->op == DBSP_X_NEG ? "(- " : e->op == DBSP_X_NOT ? "(NOT " : "(~ ");
        describe(w, e->args[0]);
        put(w, ")", 1);
        return;
    case DBSP_X_ISNULL:
    case DBSP_X_NOTNULL:
        put(w, "(", 1);
        describe(w, e->args[0]);
        puts_(w, e->op == DBSP_X_ISNULL ? " IS NULL)" : " IS NOT NULL)");
        return;
    case DBSP_X_CAST:
        puts_(w, "CAST(");
        describe(w, e->args[0]);
        puts_(w, " AS ");
        puts_(w, type_name(e->fn));
        put(w, ")", 1);
        return;
    case DBSP_X_CASE:
        puts_(w, "CASE");
        for (uint32_t i = 0; i + 1 < e->nargs; i += 2) {
            puts_(w, " WHEN ");
            describe(w, e->args[i]);
            puts_(w, " THEN ");
            describe(w, e->args[i + 1]);
        }
        if (e->nargs % 2 == 1) {
            puts_(w, " ELSE ");
            describe(w, e->args[e->nargs - 1]);
        }
        puts_(w, " END");
        return;
    case DBSP_X_FUNC:
        if (e->fn == DBSP_FN_SORTKEY) {
            /* sortkey(#2 DESC NULLS LAST, #0 ASC NULLS FIRST): the terms as
             * ORDER BY reads them. */
            puts_(w, "sortkey(");
            for (uint32_t i = 0; i + 1 < e->nargs; i += 2) {
                const dbsp_expr *f = e->args[i];
                int64_t fl = f->op == DBSP_X_CONST && f->k.type == IVM_TINT ? f->k.u.i : 0;
                if (i > 0)
                    puts_(w, ", ");
                describe(w, e->args[i + 1]);
                puts_(w, (fl & DBSP_ORDER_DESC) ? " DESC" : " ASC");
                puts_(w, (fl & DBSP_ORDER_NULLS_LAST) ? " NULLS LAST" : " NULLS FIRST");
            }
            put(w, ")", 1);
            return;
        }
        puts_(w, e->fn < DBSP_FN_COUNT_ ? fnames[e->fn] : "?");
        put(w, "(", 1);
        for (uint32_t i = 0; i < e->nargs; i++) {
            if (i > 0)
                puts_(w, ", ");
            describe(w, e->args[i]);
        }
        put(w, ")", 1);
        return;
    default:
        puts_(w, "?");
        return;
    }
}

size_t dbsp_expr_describe(const dbsp_expr *e, char *buf, size_t cap)
{
    wbuf w = {buf, cap, 0};
    if (cap > 0)
        buf[0] = '\0';
    describe(&w, e);
    return w.len;
}
